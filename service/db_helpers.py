"""Small database operations that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Session

__all__ = ["insert_ignore"]


def insert_ignore(
    session: Session, model: type[DeclarativeBase], rows: Sequence[dict[str, Any]]
) -> None:
    """Insert ``rows`` into ``model``'s table, skipping rows that hit a unique key.

    Parameters
    ----------
    session : Session
    model : mapped class
    rows : sequence of dict
    """
    if not rows:
        return
    connection = session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    # executemany of one cached statement (no per-call compilation of a VALUES list)
    table = cast(Table, model.__table__)
    connection.execute(insert(table).on_conflict_do_nothing(), list(rows))
