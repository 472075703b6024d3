"""The app the page tests run: ``create_app`` plus the pages' router.

``uvicorn tests.web.app_factory:app_from_environment --factory`` serves it for the
browser tests (the database URL comes from ``JOBMATCH_DATABASE_URL``).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import NoMatchFound

from service.app import create_app
from service.db import Database
from service.settings import Settings
from service.web import router

__all__ = ["app_from_environment", "build_app"]


def build_app(database_url: str, *, database: Database | None = None) -> FastAPI:
    """Build the service with the pages mounted (if ``create_app`` does not already)."""
    settings = Settings(database_url=database_url, request_timeout_seconds=5)
    app = create_app(settings, database=database)
    try:
        app.url_path_for("signin_form")
    except NoMatchFound:
        app.include_router(router)
    return app


def app_from_environment() -> FastAPI:
    """Factory for uvicorn: the settings come from ``JOBMATCH_*`` variables."""
    return build_app(Settings().database_url)
