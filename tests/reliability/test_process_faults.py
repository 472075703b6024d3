"""Faults at process level, against ``jobmatch serve`` on 127.0.0.1.

* PostgreSQL going away (a TCP proxy in front of it is cut) while the service runs and
  before it starts: data routes answer 503 with ``Retry-After`` promptly, never 500,
  ``/health/live`` stays 200, and the service recovers by itself within 5 s of the
  database's return. Needs ``JOBMATCH_TEST_POSTGRES_URL``; skips without it.
* PostgreSQL slow (every statement delayed 2 s by the proxy): requests answer 504 (at
  the service's deadline) or 503 (connect time-out) with ``Retry-After``,
  ``/health/live`` stays fast meanwhile, and the service recovers when the delay goes.
* The SQLite file locked by another process when the service starts: the same.
* SIGTERM: a request in flight (its body still arriving) is finished and stored; new
  connections are refused; the process exits cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reliability._server import CuttableProxy, ServiceProcess, create_users
from tests.service.conftest import participant_body, vacancy_body

POSTGRES_ENV = "JOBMATCH_TEST_POSTGRES_URL"
#: How soon the service must answer again after the database is back.
RECOVERY_LIMIT_S = 5.0


@pytest.fixture
def postgres_database() -> Iterator[Any]:
    """A database of its own on the test server (dropped afterwards)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. "
                    "postgresql+psycopg://postgres@127.0.0.1:5432/test)")  # fmt: skip
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"jobmatch_faults_{os.getpid()}"
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _through(proxy: CuttableProxy, url: Any) -> str:
    return str(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _wait_for(predicate: Any, timeout_s: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.1)
    raise TimeoutError(f"not within {timeout_s} s")


def _status(client: httpx.Client, method: str, path: str, token: str, body: Any = None) -> int:
    try:
        return client.request(method, path, headers=_h(token), json=body).status_code
    except httpx.HTTPError:
        return 0


def test_postgres_going_away_answers_503_and_recovers(
    postgres_database: Any, tmp_path: Path
) -> None:
    tokens = create_users(postgres_database.render_as_string(hide_password=False))
    proxy = CuttableProxy(postgres_database.host or "127.0.0.1", postgres_database.port or 5432)
    proxy.start()
    service = ServiceProcess(_through(proxy, postgres_database), tmp_path / "service.log",
                             env={"JOBMATCH_REQUEST_TIMEOUT_SECONDS": "2"})  # fmt: skip
    try:
        service.wait_live()
        with httpx.Client(base_url=service.base_url + "/api/v1", timeout=15) as client:
            _wait_for(lambda: client.get("/me", headers=_h(tokens["coach"])).status_code == 200,
                      30)  # fmt: skip
            pid = client.post("/participants", json=participant_body(),
                              headers=_h(tokens["coach"])).json()["id"]  # fmt: skip
            created = client.post("/vacancies", json=vacancy_body(), headers=_h(tokens["employer"]))
            assert created.status_code == 201, created.text
            calls = (
                ("GET", f"/participants/{pid}/matches?limit=10", tokens["coach"], None),
                ("POST", "/participants", tokens["coach"], participant_body()),
                ("GET", "/vacancies", tokens["employer"], None),
                ("GET", f"/vacancies/{created.json()['id']}/candidates", tokens["employer"], None),
            )
            proxy.cut()
            statuses: Counter[int] = Counter()
            slowest = 0.0
            for n in range(40):
                method, path, token, body = calls[n % len(calls)]
                start = time.monotonic()
                response = client.request(method, path, headers=_h(token), json=body)
                slowest = max(slowest, time.monotonic() - start)
                statuses[response.status_code] += 1
                assert response.status_code == 503, (path, response.status_code, response.text)
                assert int(response.headers["Retry-After"]) > 0
            live = httpx.get(service.base_url + "/health/live", timeout=5)
            assert live.status_code == 200
            assert httpx.get(service.base_url + "/health/ready", timeout=15).status_code == 503
            assert statuses == Counter({503: 40})
            assert slowest < 5.0, f"an answer during the outage took {slowest:.2f} s"
            proxy.start()
            recovery = _wait_for(
                lambda: _status(client, "GET", calls[0][1], tokens["coach"]) == 200,
                RECOVERY_LIMIT_S,
            )
            for method, path, token, body in calls:
                assert _status(client, method, path, token, body) in (200, 201)
            assert httpx.get(service.base_url + "/health/ready", timeout=5).status_code == 200
        print(json.dumps({"outage_answers": dict(statuses), "slowest_s": round(slowest, 3),
                          "recovery_s": round(recovery, 3)}))  # fmt: skip
    finally:
        service.stop()
        proxy.cut()


#: Delay the proxy adds to every statement while the database is "slow".
SLOW_STATEMENT_S = 2.0
#: The service's deadline per request in that test.
DEADLINE_S = 3.0


def test_postgres_slow_requests_time_out_and_liveness_stays_fast(
    postgres_database: Any, tmp_path: Path
) -> None:
    tokens = create_users(postgres_database.render_as_string(hide_password=False))
    proxy = CuttableProxy(postgres_database.host or "127.0.0.1", postgres_database.port or 5432)
    proxy.start()
    settings = {"JOBMATCH_REQUEST_TIMEOUT_SECONDS": "2",
                "JOBMATCH_REQUEST_DEADLINE_SECONDS": str(DEADLINE_S)}  # fmt: skip
    service = ServiceProcess(_through(proxy, postgres_database), tmp_path / "service.log",
                             env=settings)  # fmt: skip
    coach = _h(tokens["coach"])
    try:
        service.wait_live()
        with httpx.Client(base_url=service.base_url, timeout=30) as client:
            _wait_for(lambda: client.get("/health/ready").status_code == 200, 30)
            # Warm-up: the first calls of a worker may take longer than the deadline.
            for _ in range(10):
                created = client.post("/api/v1/participants", json=participant_body(),
                                      headers=coach)  # fmt: skip
                if created.status_code == 201:
                    break
            assert created.status_code == 201, created.text
            pid = created.json()["id"]
            paths = [f"/api/v1/participants/{pid}/matches?limit=10", "/api/v1/participants"]
            _wait_for(lambda: _status(client, "GET", paths[0], tokens["coach"]) == 200, 30)
            proxy.delay_s = SLOW_STATEMENT_S
            answers: list[tuple[int, float, str | None]] = []

            def slow_call(n: int) -> None:
                start = time.monotonic()
                with httpx.Client(base_url=service.base_url, timeout=30) as own:
                    if n % 3 == 2:
                        response = own.post("/api/v1/participants", json=participant_body(),
                                            headers=coach)  # fmt: skip
                    else:
                        response = own.get(paths[n % 3], headers=coach)
                answers.append((response.status_code, time.monotonic() - start,
                                response.headers.get("Retry-After")))  # fmt: skip

            threads = [threading.Thread(target=slow_call, args=(n,)) for n in range(6)]
            for thread in threads:
                thread.start()
            live_s = []
            while any(thread.is_alive() for thread in threads):
                start = time.monotonic()
                assert client.get("/health/live").status_code == 200
                live_s.append(time.monotonic() - start)
                time.sleep(0.1)
            for thread in threads:
                thread.join()
            # 504 at the deadline, or 503 when the connection could not even be opened
            # within its connect time-out (2 s): both with Retry-After, never 500.
            assert {status for status, _, _ in answers} <= {503, 504}, answers
            assert all(retry and int(retry) > 0 for _, _, retry in answers)
            slowest = max(seconds for _, seconds, _ in answers)
            assert slowest < DEADLINE_S + 1.5, answers
            assert max(live_s) < 0.5, live_s
            proxy.delay_s = 0.0
            recovery = _wait_for(lambda: _status(client, "GET", paths[0], tokens["coach"]) == 200,
                                 RECOVERY_LIMIT_S)  # fmt: skip
        print(json.dumps({
            "slow_answers": sorted(status for status, _, _ in answers),
            "slowest_answer_s": round(slowest, 3),
            "live_probes": len(live_s),
            "live_max_s": round(max(live_s), 4),
            "live_median_s": round(sorted(live_s)[len(live_s) // 2], 4),
            "recovery_s": round(recovery, 3),
        }))  # fmt: skip
    finally:
        service.stop()
        proxy.cut()
    log = (tmp_path / "service.log").read_text(encoding="utf-8", errors="replace")
    assert '"status": 500' not in log


def _down_at_start_then_back(service: ServiceProcess, token: str, back: Any) -> dict[str, Any]:
    """Requests while the database is down answer 503; after ``back()``, 200 within 5 s."""
    service.wait_live()
    statuses: Counter[int] = Counter()
    with httpx.Client(base_url=service.base_url, timeout=15) as client:
        for _ in range(3):
            response = client.get("/api/v1/participants", headers=_h(token))
            statuses[response.status_code] += 1
            assert response.status_code == 503, response.text
            assert int(response.headers["Retry-After"]) > 0
        assert client.get("/health/live").status_code == 200
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert "Retry-After" in ready.headers
        back()
        recovery = _wait_for(
            lambda: _status(client, "GET", "/api/v1/participants", token) == 200,
            RECOVERY_LIMIT_S,
        )
        assert client.get("/health/ready").status_code == 200
    return {"down_answers": dict(statuses), "recovery_s": round(recovery, 3)}


def test_postgres_down_at_start_then_recovers(postgres_database: Any, tmp_path: Path) -> None:
    tokens = create_users(postgres_database.render_as_string(hide_password=False))
    proxy = CuttableProxy(postgres_database.host or "127.0.0.1", postgres_database.port or 5432)
    # Two workers: both find the database down, both migrate once it is back.
    service = ServiceProcess(_through(proxy, postgres_database), tmp_path / "service.log",
                             workers=2, env={"JOBMATCH_REQUEST_TIMEOUT_SECONDS": "2"})  # fmt: skip
    try:
        print(json.dumps(_down_at_start_then_back(service, tokens["coach"], proxy.start)))
    finally:
        service.stop()
        proxy.cut()


def test_sqlite_locked_at_start_then_recovers(tmp_path: Path) -> None:
    """Another process holds an exclusive lock on the SQLite file when the service starts."""
    path = tmp_path / "jobmatch.db"
    url = f"sqlite:///{path}"
    tokens = create_users(url)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")  # in WAL mode readers would get through
    holder.execute("BEGIN EXCLUSIVE")
    service = ServiceProcess(url, tmp_path / "service.log",
                             env={"JOBMATCH_REQUEST_TIMEOUT_SECONDS": "1"})  # fmt: skip
    try:
        print(json.dumps(_down_at_start_then_back(service, tokens["coach"], holder.rollback)))
    finally:
        holder.close()
        service.stop()


def _sqlite_service(tmp_path: Path) -> tuple[ServiceProcess, str, str]:
    url = f"sqlite:///{tmp_path / 'jobmatch.db'}"
    tokens = create_users(url)
    service = ServiceProcess(url, tmp_path / "service.log")
    service.wait_live()
    return service, url, tokens["coach"]


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    service, url, token = _sqlite_service(tmp_path)
    try:
        with httpx.Client(base_url=service.base_url, timeout=10) as client:
            _wait_for(lambda: client.get("/health/ready").status_code == 200, 30)
        body = json.dumps(participant_body(name="Während des Herunterfahrens")).encode()
        head = (
            "POST /api/v1/participants HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{service.port}\r\n"
            f"Authorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", service.port), timeout=20) as sock:
            sock.sendall(head + body[: len(body) // 2])
            time.sleep(0.5)  # the request is in flight: headers read, body incomplete
            service.signal(signal.SIGTERM)
            time.sleep(1.0)
            with pytest.raises(OSError):  # no new connections while shutting down
                socket.create_connection(("127.0.0.1", service.port), timeout=2).close()
            sock.sendall(body[len(body) // 2 :])
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
        status_line = answer.split(b"\r\n", 1)[0].decode()
        assert status_line.startswith("HTTP/1.1 201"), answer[:300]
        # uvicorn finishes its shutdown, then re-raises the signal it caught.
        assert service.process.wait(timeout=20) in (0, -signal.SIGTERM)
    finally:
        service.stop()
    from sqlalchemy import select

    from service.db import Database
    from service.models import Participant

    database = Database(url)
    try:
        with database.session() as session:
            names = list(session.scalars(select(Participant.name)))
    finally:
        database.dispose()
    assert names == ["Während des Herunterfahrens"]
    log = (tmp_path / "service.log").read_text(encoding="utf-8", errors="replace")
    assert "Application shutdown complete" in log
