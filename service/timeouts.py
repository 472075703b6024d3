"""A deadline for every HTTP request, as one ASGI middleware.

:class:`RequestTimeoutMiddleware` answers ``504`` with ``Retry-After`` and the service's
error body ``{"error": "timeout", "detail": ...}`` when a request has not begun its
answer within ``timeout_seconds`` (a database that answers slowly, a lock held too
long). The database's own time-outs (connect, lock, statement; ``request_timeout_seconds``)
bound each wait; this bounds the sum of them, and the waits that no server-side time-out
sees (a slow network between the service and the database).

The work of a request that timed out is not interrupted: a handler running in a worker
thread cannot be stopped from outside. It goes on in the background and its answer is
dropped, so a write answered 504 may still be stored; the detail says so. Answers that
have begun (a streamed body) are never cut.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_EXEMPT_PATHS", "RequestTimeoutMiddleware"]

#: Paths without a deadline (the liveness probe does no I/O).
DEFAULT_EXEMPT_PATHS: tuple[str, ...] = ("/health/live",)

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_log = logging.getLogger("service.timeouts")


class RequestTimeoutMiddleware:
    """Answer ``504`` when a request has not begun its answer within ``timeout_seconds``.

    Parameters
    ----------
    app : ASGI app
    timeout_seconds : float
        Deadline of each request, from the moment it reaches this middleware.
    retry_after_seconds : int, default=5
        Value of the ``Retry-After`` header of the time-out answer.
    exempt_paths : iterable of str, optional
        Paths without a deadline; :data:`DEFAULT_EXEMPT_PATHS` by default.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        timeout_seconds: float,
        retry_after_seconds: int = 5,
        exempt_paths: Iterable[str] = DEFAULT_EXEMPT_PATHS,
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds}")
        self.app = app
        self.timeout_seconds = timeout_seconds
        self.retry_after_seconds = retry_after_seconds
        self.exempt_paths = frozenset(exempt_paths)
        #: Requests that timed out and still run (kept referenced until they end).
        self.abandoned: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        state = {"started": False, "answered": False}

        async def guarded_send(message: Message) -> None:
            if state["answered"]:
                return  # the caller already has the time-out answer
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        done, _ = await asyncio.wait({task}, timeout=self.timeout_seconds)
        if task in done or state["started"]:
            await task  # finished, or streaming its answer: never cut an answer begun
            return
        state["answered"] = True
        self.abandoned.add(task)
        task.add_done_callback(self._finished)
        await self._answer(send, scope.get("method", "GET") not in _SAFE_METHODS)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.abandoned.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The type only: the message may quote stored values.
            _log.warning("request that timed out failed later: %s",
                         type(task.exception()).__name__)  # fmt: skip

    async def _answer(self, send: Send, writes: bool) -> None:
        detail = "Die Anfrage hat das Zeitlimit überschritten; bitte später erneut versuchen."
        if writes:
            detail += " Die Änderung kann trotzdem gespeichert worden sein; bitte vorher prüfen."
        body = json.dumps({"error": "timeout", "detail": detail}, ensure_ascii=False).encode()
        await send({
            "type": "http.response.start",
            "status": 504,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(self.retry_after_seconds).encode()),
            ],
        })  # fmt: skip
        await send({"type": "http.response.body", "body": body})
