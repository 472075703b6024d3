"""Consistent copies of the database (``jobmatch backup``).

The copy is always a SQLite file: for a SQLite database, SQLite's online backup API
copies pages under a read lock; for PostgreSQL, every table is read inside one
``REPEATABLE READ`` read-only transaction (one snapshot) and written into a new SQLite
file with the same schema and Alembic revision, which ``JOBMATCH_DATABASE_URL`` can
point at directly.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, insert, select, text

from service.models import Base

__all__ = ["backup_database"]

_BATCH = 2000


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
            for t in Base.metadata.sorted_tables
        }


def backup_database(engine: Engine, destination: str | Path) -> dict[str, int]:
    """Copy the database behind ``engine`` into the new SQLite file ``destination``.

    Parameters
    ----------
    engine : Engine
        The (migrated) source database.
    destination : path-like
        A file that must not exist yet.

    Returns
    -------
    dict
        Rows copied per table.

    Raises
    ------
    FileExistsError
        ``destination`` exists.
    """
    target = Path(destination)
    if target.exists():
        raise FileExistsError(f"{target} exists; choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            copy = sqlite3.connect(target)
            try:
                raw.driver_connection.backup(copy)  # type: ignore[union-attr]
            finally:
                copy.close()
        finally:
            raw.close()
    else:
        _copy_snapshot(engine, target)
    copy_engine = create_engine(f"sqlite:///{target}")
    try:
        return _counts(copy_engine)
    finally:
        copy_engine.dispose()


def _copy_snapshot(engine: Engine, target: Path) -> None:
    copy_engine = create_engine(f"sqlite:///{target}")
    try:
        Base.metadata.create_all(copy_engine)
        with engine.connect() as source, copy_engine.begin() as sink:
            source.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            revision = source.execute(text("SELECT version_num FROM alembic_version")).scalar()
            sink.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL "
                              "PRIMARY KEY)"))  # fmt: skip
            sink.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": revision})
            for table in Base.metadata.sorted_tables:
                result = source.execution_options(stream_results=True).execute(select(table))
                while batch := result.mappings().fetchmany(_BATCH):
                    sink.execute(insert(table), [dict(r) for r in batch])
            source.rollback()
    finally:
        copy_engine.dispose()
