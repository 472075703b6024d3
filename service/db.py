"""Database engine, sessions and migrations.

The engine is built by :class:`Database` inside the app factory (never at import time).
SQLite runs in WAL mode with a busy timeout, foreign keys on and ``BEGIN IMMEDIATE``
transactions, so that concurrent writers wait for each other instead of failing with
"database is locked" (queued on a lock file beside the database, see
:mod:`service.sqlite_lock`); PostgreSQL is reached through psycopg 3 with connect and statement
timeouts, so that an unreachable database fails fast instead of hanging. A write that
fails because the database's disk is full raises :class:`StorageFullError` (answered 503
with ``Retry-After``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from service.errors import ServiceUnavailableError
from service.sqlite_lock import connection_factory

__all__ = [
    "READ_ONLY",
    "Database",
    "StorageFullError",
    "alembic_config",
    "make_engine",
    "read_connection",
    "upgrade_database",
]

#: Execution options of a transaction that only reads: pass to ``session.connection``
#: before its first statement, and roll back (never write) afterwards.
READ_ONLY: dict[str, Any] = {"jobmatch_read_only": True}

#: Key of the PostgreSQL advisory lock held while migrating.
_MIGRATION_LOCK = 0x6A6F626D  # "jobm"


def read_connection(session: Session) -> Connection:
    """Return the session's connection, beginning a read-only transaction if none is open.

    Within a transaction already begun (the caller wrote or locked something) the
    connection is returned as it is.
    """
    if session.in_transaction():
        return session.connection()
    return session.connection(execution_options=READ_ONLY)


class StorageFullError(ServiceUnavailableError):
    """The database could not write: its disk is full (SQLite ``SQLITE_FULL``, PostgreSQL
    ``53100 disk_full``). The transaction is rolled back; nothing of it is stored."""


def _raise_if_storage_full(context: Any) -> None:
    original = context.original_exception
    if (getattr(original, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or getattr(original, "sqlstate", None) == "53100"):  # fmt: skip
        raise StorageFullError(
            "Der Speicherplatz der Datenbank ist erschöpft; die Änderung wurde nicht "
            "gespeichert. Bitte später erneut versuchen."
        ) from original


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str, *, timeout_seconds: float = 5.0) -> Engine:
    """Create an engine for ``url`` with the service's connection settings.

    Parameters
    ----------
    url : str
        SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://...``).
    timeout_seconds : float, default=5.0
        Connect, pool, lock and statement timeout.

    Returns
    -------
    Engine
        A configured engine. For a SQLite file, its directory is created.
    """
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        path = _sqlite_path(url)
        connect_args: dict[str, Any] = {"timeout": timeout_seconds, "check_same_thread": False}
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Writers queue on a lock file and start the moment the previous one ends,
            # instead of retrying on SQLite's schedule (see service.sqlite_lock).
            connect_args["factory"] = connection_factory(path, timeout_seconds)
        engine = create_engine(
            url,
            connect_args=connect_args,
            pool_size=8,
            max_overflow=16,
            pool_timeout=timeout_seconds,
        )
        busy_ms = int(timeout_seconds * 1000)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        event.listen(engine, "handle_error", _raise_if_storage_full)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writers take the lock up front (a deferred transaction that reads and
            # then writes fails at once when another writer committed in between);
            # read-only transactions (READ_ONLY) never wait for writers in WAL mode.
            read_only = conn.get_execution_options().get("jobmatch_read_only", False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    statement_ms = int(timeout_seconds * 1000)
    # Options given in the URL (e.g. ?options=-csearch_path%3Dother) are kept.
    given = parsed.query.get("options", "")
    given = given if isinstance(given, str) else " ".join(given)
    options = f"{given} -c statement_timeout={statement_ms} -c lock_timeout={statement_ms}"
    engine = create_engine(
        url,
        connect_args={
            "connect_timeout": max(1, round(timeout_seconds)),
            "options": options.strip(),
        },
        pool_pre_ping=True,
        pool_size=8,
        max_overflow=16,
        pool_timeout=timeout_seconds,
    )
    event.listen(engine, "handle_error", _raise_if_storage_full)
    return engine


def alembic_config(engine: Engine) -> Config:
    """Return an Alembic configuration bound to ``engine``.

    Parameters
    ----------
    engine : Engine
        The engine migrations run on.

    Returns
    -------
    Config
        Configuration using the migrations packaged in ``service/migrations``.
    """
    base = resources.files("service")
    config = Config(str(base / "alembic.ini"))
    config.set_main_option("script_location", str(base / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade_database(engine: Engine) -> None:
    """Run all pending migrations (``alembic upgrade head``) on ``engine``.

    Parameters
    ----------
    engine : Engine
        The engine to migrate.

    Notes
    -----
    Several processes may migrate at once (workers that started while the database was
    down migrate on their first request). On PostgreSQL they queue for an advisory lock
    and the later ones find nothing left to do; on SQLite the migration's
    ``BEGIN IMMEDIATE`` does the same.
    """
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), "head")
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
        try:
            command.upgrade(alembic_config(engine), "head")
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
            conn.commit()


class Database:
    """An engine and its session factory.

    Parameters
    ----------
    url : str
        SQLAlchemy URL.
    timeout_seconds : float, default=5.0
        See :func:`make_engine`.
    engine : Engine, optional
        Use this engine instead of creating one (tests share one engine).
    """

    def __init__(
        self, url: str, *, timeout_seconds: float = 5.0, engine: Engine | None = None
    ) -> None:
        self.url = url
        self.engine = (
            engine if engine is not None else make_engine(url, timeout_seconds=timeout_seconds)
        )
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session, closing it (and rolling back anything uncommitted) on exit.

        Yields
        ------
        Session
            A new session.
        """
        session = self.sessionmaker()
        try:
            yield session
        finally:
            session.close()

    def ping(self) -> None:
        """Run ``SELECT 1``; raises the driver's error when the database is unreachable."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()
