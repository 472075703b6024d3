"""``matches`` and ``candidates``: the two scoring routes (plain ``def``: CPU-bound)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.auth import CurrentUser, DbSession
from service.context import Svc
from service.domain import guidance
from service.domain import recommendations as domain
from service.routes.params import PathId, TopLimit

__all__ = ["router"]

router = APIRouter(tags=["recommendations"])


@router.get("/participants/{participant_id}/matches")
def participant_matches(
    participant_id: PathId,
    limit: TopLimit,
    user: CurrentUser,
    session: DbSession,
    services: Svc,
    spread: Annotated[
        bool,
        Query(description="among near-equal matches, prefer vacancies fewer people are sent to"),
    ] = False,
) -> dict[str, Any]:
    """Top vacancies for one of the coach's participants, with what was left out and why."""
    if spread:
        return guidance.participant_matches_spread(
            session, services, user, participant_id, limit=limit
        )
    return domain.participant_matches(session, services, user, participant_id, limit=limit)


@router.get("/vacancies/{vacancy_id}/candidates")
def vacancy_candidates(
    vacancy_id: PathId, limit: TopLimit, user: CurrentUser, session: DbSession, services: Svc
) -> dict[str, Any]:
    """Shortlist for a vacancy: the employer's (consented, approved, pseudonymous) or a
    coach's (own participants only)."""
    return domain.vacancy_candidates(session, services, user, vacancy_id, limit=limit)
