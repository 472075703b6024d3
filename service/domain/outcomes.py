"""Outcomes: what happened between a participant and a vacancy (training data)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth import Principal, Role
from service.context import Services
from service.domain.access import participant_for, vacancy_for, vacancy_owned_by
from service.domain.audit import participant_pseudonyms
from service.domain.candidates import participant_by_ref
from service.errors import NotFoundError
from service.models import Outcome, utcnow
from service.schemas import OutcomeIn

__all__ = ["create_outcome", "list_outcomes"]


def create_outcome(
    session: Session, services: Services, user: Principal, body: OutcomeIn
) -> dict[str, Any]:
    """Record an outcome: a coach names the participant, an employer its candidate ref.

    Raises
    ------
    NotFoundError
        Vacancy, participant or reference not found for this user.
    """
    out: dict[str, Any] = {}
    if user.role is Role.COACH:
        if body.participant_id is None:
            raise NotFoundError("Coaches nennen participant_id", field="participant_id")
        vacancy = vacancy_for(session, user, body.vacancy_id)
        participant_id = participant_for(session, user, body.participant_id).id
        out["participant_id"] = participant_id
    else:
        if body.candidate_ref is None:
            raise NotFoundError("Arbeitgeber nennen candidate_ref", field="candidate_ref")
        vacancy = vacancy_owned_by(session, user, body.vacancy_id)
        participant_id = participant_by_ref(session, vacancy.employer_id, body.candidate_ref)
        out["candidate_ref"] = body.candidate_ref
    outcome = Outcome(
        participant_id=participant_id,
        vacancy_id=vacancy.id,
        status=body.status,
        reason=body.reason,
        recorded_by=user.id,
        recorded_at=utcnow(),
    )
    session.add(outcome)
    services.audit().append(
        session,
        actor_id=user.id,
        action="outcome",
        participant_ids=[participant_id],
        payload={"vacancy_id": vacancy.id, "status": body.status, "by_role": user.role.value},
    )
    session.commit()
    return {
        "id": outcome.id,
        "vacancy_id": vacancy.id,
        "status": outcome.status,
        "recorded_at": outcome.recorded_at.isoformat(),
        **out,
    }


def list_outcomes(session: Session, *, limit: int, offset: int) -> dict[str, Any]:
    """List outcomes pseudonymously (no names, no free text), for analysts and admins."""
    rows = session.scalars(select(Outcome).order_by(Outcome.id).limit(limit).offset(offset)).all()
    pseudonyms = participant_pseudonyms(session, [o.participant_id for o in rows])
    items = [
        {
            "id": o.id,
            "participant": pseudonyms.get(o.participant_id),
            "vacancy_id": o.vacancy_id,
            "status": o.status,
            "recorded_at": o.recorded_at.isoformat(),
        }
        for o in rows
    ]
    session.commit()
    return {"items": items, "limit": limit, "offset": offset}
