"""Releases of candidates' identities to employers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.auth import CurrentUser, DbSession
from service.context import Svc
from service.domain import releases as domain
from service.routes.params import PathId, TopLimit
from service.schemas import ReleaseIn

__all__ = ["router"]

router = APIRouter(tags=["releases"])


@router.post("/vacancies/{vacancy_id}/releases", status_code=201)
def create_release(
    vacancy_id: PathId, body: ReleaseIn, user: CurrentUser, session: DbSession, services: Svc
) -> dict[str, Any]:
    """Release one of the coach's participants to the vacancy's employer."""
    return domain.create_release(session, services, user, vacancy_id, body)


@router.get("/releases")
def list_releases(
    user: CurrentUser, session: DbSession, limit: TopLimit, include_seen: bool = False
) -> dict[str, Any]:
    """The employer's new releases (all with ``include_seen``); marks them seen."""
    return domain.list_releases(session, user, include_seen=include_seen, limit=limit)
