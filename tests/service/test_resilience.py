"""Operations: concurrent writers, a database that goes away and comes back, two
worker processes sharing one database."""

from __future__ import annotations

import sqlite3
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from sqlalchemy import event

from service.app import create_app
from service.auth import create_user
from service.db import Database
from service.settings import Settings
from tests.service.conftest import API, World, participant_body, vacancy_body

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient


def _second_app(database: Database) -> tuple[Any, Database]:
    """Another 'worker process': its own engine, pool and index on the same database.

    Without the per-user rate limit, like the first app: these tests send one user's
    requests as fast as the service answers them.
    """
    other = Database(database.url, timeout_seconds=5)
    settings = Settings(database_url=database.url, rate_limit_per_second=0)
    return create_app(settings, database=other), other


def test_concurrent_writers_do_not_fail(world: World, database: Database) -> None:
    app_b, db_b = _second_app(database)
    token = world.tokens["coach1"]
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with TestClient(app_b) as client_b:
            clients = [world.client, client_b]

            def write(i: int) -> list[int]:
                client = clients[i % 2]
                codes = []
                for _ in range(6):
                    r = client.post(f"{API}/participants", json=participant_body(), headers=headers)
                    codes.append(r.status_code)
                    pid = r.json().get("id")
                    r = client.post(f"{API}/participants/{pid}/consent", headers=headers,
                                    json={"given": True, "notice_version": "v1"})  # fmt: skip
                    codes.append(r.status_code)
                return codes

            with ThreadPoolExecutor(max_workers=8) as pool:
                codes = [c for result in pool.map(write, range(8)) for c in result]
    finally:
        db_b.dispose()
    assert codes == [201] * 96
    assert world.ok("GET", "/participants", "coach1")["total"] == 48
    assert world.ok("GET", "/audit/verify", "admin") == {
        "ok": True, "entries": 48, "first_bad_seq": None}  # fmt: skip


def test_two_workers_see_each_others_writes(world: World, database: Database) -> None:
    app_b, db_b = _second_app(database)
    try:
        with TestClient(app_b) as client_b:
            b = World(client_b, world.tokens, world.ids)
            pid = world.participant()
            vid = b.vacancy()  # written by worker B, scored by worker A next
            items = world.ok("GET", f"/participants/{pid}/matches", "coach1")["items"]
            assert [i["vacancy_id"] for i in items] == [vid]
            b.shortlistable(pid)
            assert len(world.ok("GET", f"/vacancies/{vid}/candidates", "employer1")["items"]) == 1
            b.ok("POST", f"/participants/{pid}/consent", "coach1",
                 json={"given": False, "notice_version": "v1"})  # fmt: skip
            assert world.ok("GET", f"/vacancies/{vid}/candidates", "employer1")["items"] == []
            b.ok("PATCH", f"/vacancies/{vid}", "employer1", json={"status": "filled"})
            assert world.ok("GET", f"/participants/{pid}/matches", "coach1")["items"] == []
    finally:
        db_b.dispose()


class _Outage:
    """Makes every new connection of an engine fail, as when the server is down."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.down = False
        event.listen(database.engine, "do_connect", self._connect)

    def _connect(self, dialect: Any, conn_rec: Any, cargs: Any, cparams: Any) -> None:
        if self.down:
            if dialect.name == "sqlite":
                raise sqlite3.OperationalError("unable to open database file")
            raise psycopg.OperationalError("connection refused")

    def __enter__(self) -> _Outage:
        self.down = True
        self.database.engine.dispose()
        return self

    def __exit__(self, *exc: object) -> None:
        self.down = False

    def close(self) -> None:
        event.remove(self.database.engine, "do_connect", self._connect)


def test_database_gone_answers_503_then_recovers(world: World, database: Database) -> None:
    pid = world.participant()
    world.vacancy()
    outage = _Outage(database)
    try:
        with outage:
            for method, path, body in (
                ("GET", f"/participants/{pid}/matches", None),
                ("POST", "/participants", participant_body()),
                ("GET", "/vacancies", None),
            ):
                start = time.perf_counter()
                response = world.call(method, path, "coach1", json=body)
                assert time.perf_counter() - start < 2.0
                assert response.status_code == 503, response.text
                assert response.headers["Retry-After"] == "5"
                assert response.json()["error"] == "database_unavailable"
            assert world.client.get("/health/ready").status_code == 503
            assert world.client.get("/health/live").status_code == 200
        assert world.client.get("/health/ready").status_code == 200
        assert world.ok("GET", f"/participants/{pid}/matches", "coach1")["items"]
        world.ok("POST", "/vacancies", "employer1", json=vacancy_body())
    finally:
        outage.close()


def test_service_starts_while_database_is_down(database: Database) -> None:
    with database.session() as session:
        _, token = create_user(session, name="c", role="coach")
    fresh = Database(database.url, timeout_seconds=2)
    outage = _Outage(fresh)
    try:
        with outage:
            app = create_app(Settings(database_url=database.url), database=fresh)
            client = TestClient(app)
            client.__enter__()
            response = client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 503
        assert (
            client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        )
        assert client.get("/health/ready").json()["status"] == "ok"
        client.__exit__(None, None, None)
    finally:
        outage.close()
        fresh.dispose()


def test_worker_that_missed_pruned_changes_reloads(world: World, database: Database) -> None:
    from sqlalchemy import delete, func, select

    from service.models import IndexChange

    app_b, db_b = _second_app(database)
    try:
        with TestClient(app_b) as client_b:
            b = World(client_b, world.tokens, world.ids)
            pid = world.participant()
            assert b.ok("GET", f"/participants/{pid}/matches", "coach1")["items"] == []
            first = world.vacancy()
            world.vacancy(status="closed")
            with database.session() as session:  # as if the retention period had passed
                newest = session.scalar(select(func.max(IndexChange.seq)))
                session.execute(delete(IndexChange).where(IndexChange.seq < newest))
                session.commit()
            second = world.vacancy()
            items = b.ok("GET", f"/participants/{pid}/matches", "coach1")["items"]
            assert sorted(i["vacancy_id"] for i in items) == [first, second]
    finally:
        db_b.dispose()
