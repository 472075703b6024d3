"""Request logging, Prometheus metrics and the request-body size limit.

:class:`RequestMiddleware` is a plain ASGI middleware (no per-request task switching):
it refuses bodies over ``max_body_bytes`` (by ``Content-Length`` and while streaming),
times every request, counts it in the app's own Prometheus registry and writes one JSON
log line: method, route template, status, duration and user id; never names, query
strings or bodies.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ACCESS_LOGGER",
    "BodyTooLargeError",
    "Metrics",
    "RequestMiddleware",
    "iter_routes",
    "route_template",
]

ACCESS_LOGGER = "service.access"

_log = logging.getLogger(ACCESS_LOGGER)


def iter_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Yield every endpoint route (with ``path_format``, ``methods``, ``name``), descending
    into included routers whether the FastAPI version flattens or nests them."""
    for route in routes:
        nested = getattr(route, "effective_candidates", None)
        if callable(nested):
            yield from iter_routes(nested())
        elif hasattr(route, "routes") and not hasattr(route, "endpoint"):
            yield from iter_routes(route.routes)
        else:
            yield route


class BodyTooLargeError(HTTPException):
    """Raised from ``receive`` once a streamed body passes the limit (FastAPI re-raises
    HTTP exceptions from body parsing, so the error table answers 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Der Request-Body ist größer als {limit} Bytes")


class Metrics:
    """The Prometheus metrics of one app, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "jobmatch_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "jobmatch_request_duration_seconds", "HTTP request duration", ["method", "route"],
            buckets=(0.001, 0.002, 0.003, 0.005, 0.01, 0.015, 0.03, 0.05, 0.1, 0.3, 1, 3),
            registry=self.registry,
        )  # fmt: skip


class RequestMiddleware:
    """Body limit, access log and metrics for every HTTP request.

    Parameters
    ----------
    app : ASGI app
    max_body_bytes : int
    metrics : Metrics
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, metrics: Metrics) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}
        limit = self.max_body_bytes

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send_wrapper, limit)
        else:
            received = 0

            async def receive_wrapper() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise BodyTooLargeError(limit)
                return message

            try:
                await self.app(scope, receive_wrapper, send_wrapper)
            except BodyTooLargeError:
                await _too_large(send_wrapper, limit)
        self._record(scope, status["code"], time.perf_counter() - start)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope)
        method = scope.get("method", "")
        self.metrics.requests.labels(method, route, str(status)).inc()
        self.metrics.duration.labels(method, route).observe(seconds)
        state = scope.get("state") or {}
        if _log.isEnabledFor(logging.INFO):
            _log.info(json.dumps({
                "event": "request",
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "user_id": state.get("user_id"),
            }))  # fmt: skip


def route_template(scope: Scope) -> str:
    """Return the matched route's path template (``/api/v1/participants/{participant_id}``)."""
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    for candidate in (context, scope.get("route")):
        template = getattr(candidate, "path_format", None) or getattr(candidate, "path", None)
        if template:
            return str(template)
    return "unmatched"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps(
        {"error": "payload_too_large", "detail": f"Der Request-Body ist größer als {limit} Bytes"}
    ).encode()
    await send({
        "type": "http.response.start",
        "status": 413,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close")],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})
