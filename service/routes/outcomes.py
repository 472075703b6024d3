"""``/outcomes`` routes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.auth import CurrentUser, DbSession
from service.context import Svc
from service.domain import outcomes as domain
from service.routes.params import Paging
from service.schemas import OutcomeIn

__all__ = ["router"]

router = APIRouter(prefix="/outcomes", tags=["outcomes"])


@router.post("", status_code=201)
def create_outcome(
    body: OutcomeIn, user: CurrentUser, session: DbSession, services: Svc
) -> dict[str, Any]:
    """Record what happened (a coach names the participant, an employer its candidate)."""
    return domain.create_outcome(session, services, user, body)


@router.get("")
def list_outcomes(page: Paging, user: CurrentUser, session: DbSession) -> dict[str, Any]:
    """Outcomes under pseudonyms, for analysts (training data) and admins."""
    return domain.list_outcomes(session, limit=page.limit, offset=page.offset)
