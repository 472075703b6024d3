"""Guidance routes: a participant's next steps, a vacancy's requirement insights and a
coach team's placement plan (plain ``def``: CPU-bound)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.auth import CurrentUser, DbSession
from service.context import Svc
from service.domain import guidance as domain
from service.routes.params import PathId
from service.schemas import MAX_ID

__all__ = ["router"]

router = APIRouter(tags=["guidance"])

StepLimit = Annotated[int, Query(ge=1, le=20, description="how many suggestions (at most 20)")]
CoachId = Annotated[
    int | None,
    Query(ge=1, le=MAX_ID, description="the coach whose caseload is planned (a coach: own)"),
]
Alternatives = Annotated[
    int, Query(ge=0, le=10, description="further vacancies per participant (at most 10)")
]


@router.get("/participants/{participant_id}/next-steps")
def participant_next_steps(
    participant_id: PathId,
    user: CurrentUser,
    session: DbSession,
    services: Svc,
    limit: StepLimit = 5,
) -> dict[str, Any]:
    """The single changes (a language level, a skill, a licence, ...) that would open the
    most vacancies for one of the coach's participants."""
    return domain.participant_next_steps(session, services, user, participant_id, limit=limit)


@router.get("/vacancies/{vacancy_id}/insights")
def vacancy_insights(
    vacancy_id: PathId, user: CurrentUser, session: DbSession, services: Svc
) -> dict[str, Any]:
    """Which requirement of the employer's vacancy keeps the most candidates out (counts
    under 5 shown as "weniger als 5")."""
    return domain.vacancy_insights(session, services, user, vacancy_id)


@router.get("/plans")
def team_plan(
    user: CurrentUser,
    session: DbSession,
    services: Svc,
    coach: CoachId = None,
    alternatives: Alternatives = 3,
) -> dict[str, Any]:
    """A placement plan for a coach's active participants that respects every vacancy's
    free openings, each participant with alternatives."""
    return domain.team_plan(session, services, user, coach, alternatives=alternatives)
