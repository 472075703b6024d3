"""The request deadline (:mod:`service.timeouts`) on a small Starlette app: a handler
slower than the deadline is answered 504 with ``Retry-After`` at the deadline, faster
ones and exempt paths are untouched, and the abandoned work runs to its end."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.timeouts import RequestTimeoutMiddleware

finished: list[str] = []


async def _slow(request: Request) -> JSONResponse:
    await asyncio.sleep(float(request.query_params.get("s", "0")))
    finished.append(request.url.path)
    return JSONResponse({"ok": True})


def _app(timeout_s: float) -> tuple[Starlette, RequestTimeoutMiddleware]:
    app = Starlette(routes=[Route("/work", _slow, methods=["GET", "POST"]),
                            Route("/health/live", _slow)])  # fmt: skip
    middleware = RequestTimeoutMiddleware(app, timeout_seconds=timeout_s, retry_after_seconds=3)
    return app, middleware


async def _call(asgi: RequestTimeoutMiddleware, method: str, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_slow_request_answers_504_at_the_deadline(method: str) -> None:
    async def scenario() -> None:
        finished.clear()
        _, asgi = _app(0.2)
        start = time.monotonic()
        response = await _call(asgi, method, "/work?s=0.6")
        elapsed = time.monotonic() - start
        assert response.status_code == 504
        assert response.headers["Retry-After"] == "3"
        assert response.json()["error"] == "timeout"
        assert ("gespeichert" in response.json()["detail"]) is (method == "POST")
        assert 0.2 <= elapsed < 0.5
        assert len(asgi.abandoned) == 1 and finished == []
        await asyncio.sleep(0.6)  # the abandoned handler runs to its end
        assert finished == ["/work"] and not asgi.abandoned

    asyncio.run(scenario())


def test_fast_requests_and_the_liveness_probe_are_untouched() -> None:
    async def scenario() -> None:
        _, asgi = _app(0.2)
        fast = await _call(asgi, "GET", "/work?s=0.01")
        assert fast.status_code == 200 and fast.json() == {"ok": True}
        live = await _call(asgi, "GET", "/health/live?s=0.3")
        assert live.status_code == 200

    asyncio.run(scenario())


def test_deadline_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RequestTimeoutMiddleware(Starlette(), timeout_seconds=0)
