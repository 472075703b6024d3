"""Per-user rate limits and a slow-down of failed sign-ins, as one ASGI middleware.

:class:`RateLimitMiddleware` keeps a token bucket per caller: per bearer token or the
pages' session cookie (that is, per user; keyed by the token's SHA-256, the plain token
is never stored) and, for requests with neither, per client address. A caller whose
bucket is empty gets ``429`` with ``Retry-After`` (whole seconds until one request is
allowed again) and the service's error body ``{"error": "rate_limited", "detail": ...}``.
The first refusal is answered at once; a caller who asks again before being allowed
(who ignores ``Retry-After``) gets each further refusal only when its next request would
be allowed, at most ``refusal_hold_seconds`` later. A flood over a few keep-alive
connections then costs the worker a few refusals per second instead of a thousand,
which would otherwise take the CPU from other users' requests; the held answers wait
on the event loop and cost nothing meanwhile.

Failed authentications (answers ``401``) are slowed down per client address: the
``n``-th failure within ``failure_window_seconds`` is answered only after
``min(failure_delay_max, failure_delay_base * 2 ** (n - 1))`` seconds. After
``failure_lockout`` failures in the window, requests from that address with a token
that has not signed in successfully before answer ``429`` at once, until the window has
passed; tokens that did sign in from there (colleagues behind the same office router)
are not affected.

The state lives in the memory of one worker process, bounded by ``max_keys`` entries
per table (least recently used entries are dropped); with ``N`` workers a user may get
up to ``N`` times the configured rate.

:func:`service.app.create_app` adds it (before the ``RequestMiddleware``, so that the
access log and the metrics count the 429s) unless ``JOBMATCH_RATE_LIMIT_PER_SECOND`` is 0.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DEFAULT_EXEMPT_PATHS", "RateLimitMiddleware", "TokenBucket"]

#: Paths never limited (probes and metrics scrapers call them often).
DEFAULT_EXEMPT_PATHS: tuple[str, ...] = ("/health/live", "/health/ready", "/metrics")


@dataclass
class TokenBucket:
    """A token bucket: ``capacity`` requests at once, refilled at ``rate`` per second.

    Parameters
    ----------
    capacity : float
        Largest burst.
    rate : float
        Tokens added per second.
    tokens : float
        Tokens available now.
    updated : float
        Clock reading of the last update.
    """

    capacity: float
    rate: float
    tokens: float
    updated: float
    refused: int = 0

    def take(self, now: float) -> float:
        """Take one token if there is one.

        Parameters
        ----------
        now : float
            Current clock reading in seconds.

        Returns
        -------
        float
            0.0 when the request may go ahead; otherwise the seconds until a token
            is available (nothing is taken then).
        """
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass
class _Failures:
    count: int
    first: float


class _Lru(OrderedDict[str, object]):
    def __init__(self, max_keys: int) -> None:
        super().__init__()
        self.max_keys = max_keys

    def touch(self, key: str, value: object) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.max_keys:
            self.popitem(last=False)


def _bearer_token(scope: Scope, session_cookie: str | None = None) -> str | None:
    cookie_header = None
    for name, value in scope.get("headers") or ():
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            if scheme.lower() == "bearer" and token:
                return token
            return None
        if name == b"cookie":
            cookie_header = value
    if session_cookie and cookie_header is not None:
        found = cookie_parser(cookie_header.decode("latin-1")).get(session_cookie)
        return found or None
    return None


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RateLimitMiddleware:
    """ASGI middleware: per-user token buckets and slowed-down failed sign-ins.

    Parameters
    ----------
    app : ASGI app
        The wrapped application.
    requests_per_second : float, default=20.0
        Sustained rate allowed per user (per client address without a token).
    burst : int, default=40
        Requests a user may send at once before the rate applies.
    failure_delay_base : float, default=0.25
        Delay of the first failed authentication of an address, in seconds; each
        further failure in the window doubles it.
    failure_delay_max : float, default=4.0
        Largest delay of one failed authentication.
    failure_lockout : int, default=20
        Failures in the window after which unknown tokens from that address answer 429.
    failure_window_seconds : float, default=300.0
        How long failures of an address are remembered.
    max_keys : int, default=100_000
        Largest number of callers remembered per table.
    exempt_paths : iterable of str, default=DEFAULT_EXEMPT_PATHS
        Paths that are never limited.
    session_cookie : str or None, default="jobmatch_session"
        Cookie that holds a user's token (the pages); a request with it and without a
        bearer token counts for that user rather than for its client address.
    clock : callable, default=time.monotonic
        Returns the current time in seconds (tests pass a fake clock).
    refusal_hold_seconds : float, default=1.0
        Longest time a repeated refusal is held before it is answered (0: never held).
    sleep : callable, default=asyncio.sleep
        Awaitable sleep used for the slow-down and the held refusals.

    Raises
    ------
    ValueError
        A rate, burst, delay, lockout, window or ``max_keys`` that is not positive
        (delays may be 0).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        requests_per_second: float = 20.0,
        burst: int = 40,
        failure_delay_base: float = 0.25,
        failure_delay_max: float = 4.0,
        failure_lockout: int = 20,
        failure_window_seconds: float = 300.0,
        max_keys: int = 100_000,
        refusal_hold_seconds: float = 1.0,
        exempt_paths: Iterable[str] = DEFAULT_EXEMPT_PATHS,
        session_cookie: str | None = "jobmatch_session",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        checks = {
            "requests_per_second": requests_per_second > 0,
            "burst": burst >= 1,
            "failure_delay_base": failure_delay_base >= 0,
            "failure_delay_max": failure_delay_max >= failure_delay_base,
            "failure_lockout": failure_lockout >= 1,
            "failure_window_seconds": failure_window_seconds > 0,
            "max_keys": max_keys >= 1,
            "refusal_hold_seconds": refusal_hold_seconds >= 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid rate-limit setting(s): {', '.join(bad)}")
        self.app = app
        self.rate = float(requests_per_second)
        self.burst = int(burst)
        self.failure_delay_base = float(failure_delay_base)
        self.failure_delay_max = float(failure_delay_max)
        self.failure_lockout = int(failure_lockout)
        self.failure_window = float(failure_window_seconds)
        self.exempt_paths = frozenset(exempt_paths)
        self.refusal_hold = float(refusal_hold_seconds)
        self.session_cookie = session_cookie
        self._clock = clock
        self._sleep = sleep
        self._buckets = _Lru(max_keys)
        self._failures = _Lru(max_keys)
        self._good_tokens = _Lru(max_keys)

    def failure_delay(self, failures: int) -> float:
        """Seconds by which the ``failures``-th failed authentication is slowed down."""
        if failures < 1:
            return 0.0
        return min(self.failure_delay_max, self.failure_delay_base * 2.0 ** (failures - 1))

    def _bucket(self, key: str, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if not isinstance(bucket, TokenBucket):
            bucket = TokenBucket(float(self.burst), self.rate, float(self.burst), now)
        self._buckets.touch(key, bucket)
        return bucket

    def _recent_failures(self, client: str, now: float) -> _Failures | None:
        record = self._failures.get(client)
        if not isinstance(record, _Failures):
            return None
        if now - record.first > self.failure_window:
            del self._failures[client]
            return None
        return record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        now = self._clock()
        client = _client(scope)
        token = _bearer_token(scope, self.session_cookie)
        token_key = hashlib.sha256(token.encode()).hexdigest() if token else None
        failures = self._recent_failures(client, now)
        if (
            failures is not None
            and failures.count >= self.failure_lockout
            and (token_key is None or token_key not in self._good_tokens)
        ):
            wait = failures.first + self.failure_window - now
            wait = await self._hold(now, wait)
            await _too_many(send, wait, "Zu viele fehlgeschlagene Anmeldungen von dieser Adresse")
            return
        key = f"user:{token_key}" if token_key else f"ip:{client}"
        bucket = self._bucket(key, now)
        wait = bucket.take(now)
        if wait > 0:
            bucket.refused += 1
            if bucket.refused > 1:
                wait = await self._hold(now, wait)
            await _too_many(send, wait, "Zu viele Anfragen")
            return
        bucket.refused = 0

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] == 401:
                    await self._slow_down(client)
                elif token_key is not None and message["status"] != 429:
                    self._good_tokens.touch(token_key, True)
            await send(message)

        await self.app(scope, receive, send_wrapper)

    async def _hold(self, now: float, wait: float) -> float:
        """Hold a refusal until ``wait`` has passed (at most :attr:`refusal_hold`);
        return the seconds still to wait after it."""
        hold = min(wait, self.refusal_hold)
        if hold > 0:
            await self._sleep(hold)
        return max(0.0, wait - (self._clock() - now))

    async def _slow_down(self, client: str) -> None:
        now = self._clock()
        record = self._recent_failures(client, now)
        if record is None:
            record = _Failures(0, now)
        record.count += 1
        self._failures.touch(client, record)
        delay = self.failure_delay(record.count)
        if delay > 0:
            await self._sleep(delay)


async def _too_many(send: Send, wait_seconds: float, reason: str) -> None:
    retry_after = max(1, math.ceil(wait_seconds))
    body = json.dumps(
        {
            "error": "rate_limited",
            "detail": f"{reason}; bitte in {retry_after} s erneut versuchen.",
        },
        ensure_ascii=False,
    ).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
