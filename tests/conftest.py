"""Shared fixtures: the database engines every service test runs against.

SQLite always; PostgreSQL when ``JOBMATCH_TEST_POSTGRES_URL`` is set (for example
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), otherwise those cases skip
with the reason. The schema is migrated once per engine and session; each test then
starts from empty tables (deleted or truncated before the test).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

if TYPE_CHECKING:
    from service.db import Database

POSTGRES_ENV = "JOBMATCH_TEST_POSTGRES_URL"
#: Tables that survive between tests (schema version, the generated pseudonym secret).
_KEEP = {"alembic_version", "service_secrets"}


def _migrated(url: str) -> Database:
    from service.db import Database, upgrade_database

    database = Database(url, timeout_seconds=3)
    upgrade_database(database.engine)
    return database


def reset_database(database: Database) -> None:
    """Empty every table but the schema version and the pseudonym secret."""
    from service.models import Base

    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name not in _KEEP]
    with database.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(t.name for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())
        conn.execute(text("DELETE FROM service_secrets WHERE name <> 'pseudonym_secret'"))
        conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"),
                     {"h": "0" * 64})  # fmt: skip


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def shared_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A migrated database per engine, shared by the session's tests."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "jobmatch.db"
        database = _migrated(f"sqlite:///{path}")
    else:
        url = os.environ.get(POSTGRES_ENV)
        if not url:
            pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. "
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test)")  # fmt: skip
        from service.db import make_engine

        # A schema of its own, so that test sessions running at the same time (several
        # engineers, CI) never touch each other's tables.
        schema = f"jobmatch_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        separator = "&" if "?" in url else "?"
        database = _migrated(f"{url}{separator}options=-csearch_path%3D{schema}")
    yield database
    database.dispose()
    if request.param != "sqlite":
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


@pytest.fixture
def database(shared_database: Database) -> Iterator[Database]:
    """The shared database of this engine, emptied for this test."""
    reset_database(shared_database)
    yield shared_database


@pytest.fixture
def database_url(database: Database) -> str:
    """URL of the test's (empty, migrated) database."""
    return database.url
