"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.auth import ROUTE_ROLES
from service.context import Services
from service.db import Database
from service.errors import RETRY_AFTER_SECONDS, error_body, install_error_handlers
from service.observability import Metrics, RequestMiddleware, iter_routes
from service.ratelimit import RateLimitMiddleware
from service.routes import API_PREFIX, api_router
from service.settings import Settings, get_settings
from service.timeouts import RequestTimeoutMiddleware
from service.web import router as web_router

__all__ = ["create_app"]


def _check_policy(app: FastAPI) -> None:
    names = {r.name for r in iter_routes(app.routes) if str(r.path_format).startswith(API_PREFIX)}
    missing = sorted(names - set(ROUTE_ROLES))
    if missing:
        raise RuntimeError(f"API routes without a role policy: {missing}")


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    """Build the jobmatch application.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to :func:`service.settings.get_settings` (the environment).
    database : Database, optional
        Use this database instead of one built from ``settings.database_url``.

    Returns
    -------
    FastAPI
        The app; its lifespan migrates the database and loads the scoring index
        (both are retried on demand if the database is down at start).
    """
    settings = settings or get_settings()
    db = database or Database(
        settings.database_url, timeout_seconds=settings.request_timeout_seconds
    )
    services = Services(settings, db)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(services.start)
        # The taxonomy's text index (seconds to build) before the first write needs it.
        await run_in_threadpool(services.taxonomy.warm_up)
        yield
        if database is None:
            db.dispose()

    app = FastAPI(
        title="jobmatch",
        version="1",
        description="Job-matching recommendations for a neighbourhood employment programme.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.services = services
    app.state.metrics = metrics
    install_error_handlers(app)
    app.include_router(api_router())
    _check_policy(app)

    @app.get("/health/live", tags=["operations"])
    async def health_live() -> dict[str, str]:
        """The process is up (answered on the event loop, so busy worker threads or a
        slow database never delay it)."""
        return {"status": "ok"}

    @app.get("/health/ready", tags=["operations"])
    def health_ready(request: Request) -> Any:
        """The database answers and the scoring index is loaded."""
        svc: Services = request.app.state.services
        try:
            svc.db.ping()
            svc.ensure_ready()
            svc.index.sync()
        except Exception as exc:  # readiness reports failures, it never raises
            return JSONResponse(
                error_body("not_ready", f"{type(exc).__name__}"),
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        matcher = svc.index.require()
        return {
            "status": "ok",
            "database": "ok",
            "index": {
                "vacancies": matcher.n_vacancies,
                "participants": matcher.n_participants,
                "model_version": matcher.model_version,
            },
        }

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def prometheus_metrics() -> Response:
        """Prometheus metrics of this process."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(web_router)
    app.add_middleware(RequestTimeoutMiddleware, timeout_seconds=settings.request_deadline_seconds,
                       retry_after_seconds=RETRY_AFTER_SECONDS)  # fmt: skip
    if settings.rate_limit_per_second > 0:
        # Added before RequestMiddleware, so the access log and metrics count the 429s.
        app.add_middleware(
            RateLimitMiddleware,
            requests_per_second=settings.rate_limit_per_second,
            burst=settings.rate_limit_burst,
        )
    app.add_middleware(RequestMiddleware, max_body_bytes=settings.max_body_bytes, metrics=metrics)
    return app
