"""Per-user rate limits (429 with Retry-After) and slowed-down failed authentications of
:class:`service.ratelimit.RateLimitMiddleware`, on a small ASGI app with a fake clock and
on the real application."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.ratelimit import RateLimitMiddleware, TokenBucket

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

GOOD = {"alice": "token-alice", "bob": "token-bob"}


class FakeClock:
    """A clock the test moves by hand; ``sleep`` records the delays instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


async def _data(request: Request) -> JSONResponse:
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    if token not in GOOD.values():
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    return JSONResponse({"ok": True})


async def _live(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def _client(clock: FakeClock, **options: Any) -> TestClient:
    app = Starlette(routes=[Route("/data", _data), Route("/health/live", _live)])
    app.add_middleware(RateLimitMiddleware, clock=clock, sleep=clock.sleep, **options)
    return TestClient(app)


def _get(client: TestClient, token: str | None, path: str = "/data") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(path, headers=headers)


def test_token_bucket_known_answers() -> None:
    bucket = TokenBucket(capacity=2, rate=1.0, tokens=2, updated=0.0)
    assert bucket.take(0.0) == 0.0
    assert bucket.take(0.0) == 0.0
    assert bucket.take(0.0) == pytest.approx(1.0)
    assert bucket.take(0.5) == pytest.approx(0.5)
    assert bucket.take(1.0) == 0.0
    assert bucket.take(100.0) == 0.0 and bucket.tokens == pytest.approx(1.0)  # capped


def test_burst_then_429_with_retry_after_then_recovers() -> None:
    clock = FakeClock()
    client = _client(clock, requests_per_second=2.0, burst=5)
    codes = [_get(client, GOOD["alice"]).status_code for _ in range(5)]
    assert codes == [200] * 5
    limited = _get(client, GOOD["alice"])
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert limited.json()["error"] == "rate_limited"
    assert "erneut versuchen" in limited.json()["detail"]
    clock.now += 0.5
    assert _get(client, GOOD["alice"]).status_code == 200


def test_limits_are_per_user() -> None:
    clock = FakeClock()
    client = _client(clock, requests_per_second=1.0, burst=3)
    alice = [_get(client, GOOD["alice"]).status_code for _ in range(10)]
    assert alice == [200] * 3 + [429] * 7
    bob = [_get(client, GOOD["bob"]).status_code for _ in range(3)]
    assert bob == [200] * 3


def test_retry_after_is_whole_seconds_until_next_token() -> None:
    clock = FakeClock()
    client = _client(clock, requests_per_second=0.1, burst=1)
    assert _get(client, GOOD["alice"]).status_code == 200
    clock.now += 2.5
    limited = _get(client, GOOD["alice"])
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "8"  # 7.5 s, rounded up


def test_health_probes_are_exempt() -> None:
    clock = FakeClock()
    client = _client(clock, requests_per_second=1.0, burst=1)
    assert [_get(client, None, "/health/live").status_code for _ in range(20)] == [200] * 20


def test_failed_authentications_are_slowed_down_exponentially() -> None:
    clock = FakeClock()
    client = _client(clock, failure_delay_base=0.25, failure_delay_max=4.0, burst=100)
    for n in range(8):
        assert _get(client, f"guess-{n}").status_code == 401
    assert clock.sleeps == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert _get(client, GOOD["alice"]).status_code == 200
    assert len(clock.sleeps) == 8  # a successful request is not slowed down


def test_lockout_after_many_failures_spares_known_good_tokens() -> None:
    clock = FakeClock()
    client = _client(clock, failure_lockout=5, failure_window_seconds=60, burst=100)
    assert _get(client, GOOD["bob"]).status_code == 200  # bob signed in before
    for n in range(5):
        assert _get(client, f"guess-{n}").status_code == 401
    locked = _get(client, "guess-99")
    assert locked.status_code == 429
    assert locked.headers["Retry-After"] == "60"
    assert _get(client, GOOD["alice"]).status_code == 429  # unknown token from that address
    assert _get(client, GOOD["bob"]).status_code == 200
    clock.now += 61
    assert _get(client, GOOD["alice"]).status_code == 200
    assert _get(client, "guess-100").status_code == 401


def test_the_session_cookie_counts_for_its_user() -> None:
    clock = FakeClock()
    client = _client(clock, requests_per_second=1.0, burst=1)
    client.cookies.set("jobmatch_session", "cookie-alice")
    assert client.get("/data").status_code == 401  # the page's own check is not ours
    assert client.get("/data").status_code == 429
    client.cookies.set("jobmatch_session", "cookie-bob")
    assert client.get("/data").status_code == 401  # another user, another bucket


def test_on_by_default_and_off_with_zero(tmp_path: Any) -> None:
    from service.app import create_app
    from service.settings import Settings

    def limited(settings: Any) -> bool:
        app = create_app(settings)
        return any(m.cls is RateLimitMiddleware for m in app.user_middleware)

    url = f"sqlite:///{tmp_path / 'jobmatch.db'}"
    defaults = Settings(database_url=url)
    assert (defaults.rate_limit_per_second, defaults.rate_limit_burst) == (10.0, 40)
    assert limited(defaults)
    assert not limited(Settings(database_url=url, rate_limit_per_second=0))


def test_requests_without_token_share_the_address_bucket() -> None:
    clock = FakeClock()
    client = _client(clock, requests_per_second=1.0, burst=2, failure_delay_base=0.0,
                     failure_delay_max=0.0)  # fmt: skip
    codes = [_get(client, None).status_code for _ in range(4)]
    assert codes == [401, 401, 429, 429]


@pytest.mark.parametrize(
    ("options", "name"),
    [({"requests_per_second": 0}, "requests_per_second"), ({"burst": 0}, "burst"),
     ({"failure_delay_base": -1}, "failure_delay_base"),
     ({"failure_delay_base": 2, "failure_delay_max": 1}, "failure_delay_max"),
     ({"failure_lockout": 0}, "failure_lockout"),
     ({"failure_window_seconds": 0}, "failure_window_seconds"), ({"max_keys": 0}, "max_keys")],
)  # fmt: skip
def test_bad_settings_name_the_setting(options: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        RateLimitMiddleware(Starlette(), **options)


def test_remembered_callers_are_bounded() -> None:
    clock = FakeClock()
    middleware = RateLimitMiddleware(Starlette(), max_keys=10, clock=clock)
    client = TestClient(middleware)
    for n in range(50):
        _get(client, f"token-{n}")
    assert len(middleware._buckets) <= 10
    assert len(middleware._failures) <= 10


def test_wired_into_the_real_app(tmp_path: Any) -> None:
    from service.app import create_app
    from service.auth import create_user
    from service.db import Database, upgrade_database
    from service.settings import Settings

    url = f"sqlite:///{tmp_path / 'jobmatch.db'}"
    database = Database(url, timeout_seconds=3)
    upgrade_database(database.engine)
    with database.session() as session:
        _, token = create_user(session, name="coach-rl", role="coach")
    clock = FakeClock()
    app = create_app(Settings(database_url=url, rate_limit_per_second=0), database=database)
    app.add_middleware(RateLimitMiddleware, requests_per_second=1.0, burst=3, clock=clock,
                       sleep=clock.sleep)  # fmt: skip
    try:
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {token}"}
            codes = [client.get("/api/v1/participants", headers=headers).status_code
                     for _ in range(4)]  # fmt: skip
            assert codes == [200, 200, 200, 429]
            assert client.get("/health/live").status_code == 200
            bad = client.get("/api/v1/participants", headers={"Authorization": "Bearer nope"})
            assert bad.status_code == 401 and clock.sleeps == [0.25]
    finally:
        database.dispose()


def test_repeated_refusals_are_held_until_the_next_request_would_be_allowed() -> None:
    clock = FakeClock()
    client = _client(clock, requests_per_second=2.0, burst=2, refusal_hold_seconds=1.0)
    assert [_get(client, GOOD["alice"]).status_code for _ in range(2)] == [200, 200]
    first = _get(client, GOOD["alice"])
    assert first.status_code == 429 and clock.sleeps == []  # told at once
    again = _get(client, GOOD["alice"])  # asked again without waiting
    assert again.status_code == 429 and again.headers["Retry-After"] == "1"
    assert clock.sleeps == [pytest.approx(0.5)]  # until one token is back, no longer
    assert _get(client, GOOD["bob"]).status_code == 200  # others are not held
    assert clock.sleeps == [pytest.approx(0.5)]
    clock.now += 0.5
    assert _get(client, GOOD["alice"]).status_code == 200  # allowed again: count reset
    assert _get(client, GOOD["alice"]).status_code == 429
    assert len(clock.sleeps) == 1


def test_held_refusals_never_wait_longer_than_the_hold_and_can_be_switched_off() -> None:
    clock = FakeClock()
    client = _client(clock, requests_per_second=0.1, burst=1, refusal_hold_seconds=1.0)
    codes = [_get(client, GOOD["alice"]).status_code for _ in range(4)]
    assert codes == [200, 429, 429, 429]
    assert clock.sleeps == [1.0, 1.0]  # 10 s to wait, held 1 s each
    off = FakeClock()
    client = _client(off, requests_per_second=0.1, burst=1, refusal_hold_seconds=0)
    assert [_get(client, GOOD["alice"]).status_code for _ in range(4)] == [200, 429, 429, 429]
    assert off.sleeps == []
    with pytest.raises(ValueError, match="refusal_hold_seconds"):
        RateLimitMiddleware(None, refusal_hold_seconds=-1)  # type: ignore[arg-type]
