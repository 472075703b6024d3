"""``matches`` and ``candidates``: the two scoring routes (plain ``def``: CPU-bound).

Both answer with the body serialised once, as bytes: returning a :class:`Response`
skips FastAPI's validation of the returned dict against the response model (for a
plain ``def`` handler, one more trip through the thread pool). ``response_model``
still documents the body in the OpenAPI schema.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import TypeAdapter

from service.auth import CurrentUser, DbSession
from service.context import Svc
from service.domain import guidance
from service.domain import recommendations as domain
from service.routes.params import PathId, TopLimit

__all__ = ["router"]

router = APIRouter(tags=["recommendations"])

_BODY = TypeAdapter(dict[str, Any])


def _json(body: dict[str, Any]) -> Response:
    return Response(_BODY.dump_json(body), media_type="application/json")


@router.get("/participants/{participant_id}/matches", response_model=dict[str, Any])
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
) -> Response:
    """Top vacancies for one of the coach's participants, with what was left out and why."""
    if spread:
        return _json(
            guidance.participant_matches_spread(session, services, user, participant_id,
                                                limit=limit)
        )  # fmt: skip
    return _json(domain.participant_matches(session, services, user, participant_id, limit=limit))


@router.get("/vacancies/{vacancy_id}/candidates", response_model=dict[str, Any])
def vacancy_candidates(
    vacancy_id: PathId, limit: TopLimit, user: CurrentUser, session: DbSession, services: Svc
) -> Response:
    """Shortlist for a vacancy: the employer's (consented, approved, pseudonymous) or a
    coach's (own participants only)."""
    return _json(domain.vacancy_candidates(session, services, user, vacancy_id, limit=limit))
