"""Query parameters shared by several routes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request

from service.errors import ValidationFailedError
from service.schemas import MAX_ID

__all__ = ["HARD_MAX_LIMIT", "Paging", "PathId", "TopLimit"]

#: The largest ``limit`` any route documents; ``JOBMATCH_MAX_LIMIT`` may lower it.
HARD_MAX_LIMIT = 100


@dataclass(frozen=True)
class Page:
    """``limit`` and ``offset`` of a list request."""

    limit: int
    offset: int


def _check(request: Request, limit: int) -> int:
    maximum = request.app.state.settings.max_limit
    if limit > maximum:
        raise ValidationFailedError(f"limit: höchstens {maximum}", field="limit")
    return limit


def _paging(
    request: Request,
    limit: Annotated[
        int, Query(ge=1, le=HARD_MAX_LIMIT, description="page size (at most 100)")
    ] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Page:
    return Page(_check(request, limit), offset)


def _top(
    request: Request,
    limit: Annotated[
        int, Query(ge=1, le=HARD_MAX_LIMIT, description="how many items (at most 100)")
    ] = 10,
) -> int:
    return _check(request, limit)


Paging = Annotated[Page, Depends(_paging)]
TopLimit = Annotated[int, Depends(_top)]
#: An object id in a path: a positive 32-bit integer.
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
