"""Paging of list queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

__all__ = ["paginate"]


def paginate(
    session: Session,
    statement: Select[Any],
    *,
    limit: int,
    offset: int,
    convert: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """Run ``statement`` for one page and return ``{items, total, limit, offset}``.

    Parameters
    ----------
    session : Session
    statement : Select
        Selecting ORM objects; ordered here by nothing else than the caller's order.
    limit, offset : int
    convert : callable
        Turns one row object into its JSON form.
    """
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = session.scalars(statement.limit(limit).offset(offset)).all()
    return {
        "items": [convert(r) for r in rows],
        "total": int(total or 0),
        "limit": limit,
        "offset": offset,
    }
