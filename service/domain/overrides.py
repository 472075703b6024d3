"""Coaches' overrides of hard filters; they are passed to every later scoring run."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth import Principal
from service.context import Services
from service.domain.access import participant_for
from service.errors import NotFoundError
from service.models import Override, Vacancy, utcnow
from service.schemas import OverrideIn

__all__ = ["create_override", "list_overrides", "override_view"]


def override_view(o: Override) -> dict[str, Any]:
    """Return the JSON form of an override."""
    return {
        "id": o.id,
        "participant_id": o.participant_id,
        "vacancy_id": o.vacancy_id,
        "reason_code": o.reason_code,
        "reason": o.reason,
        "created_by": o.created_by,
        "created_at": o.created_at.isoformat(),
    }


def create_override(
    session: Session, services: Services, user: Principal, participant_id: int, body: OverrideIn
) -> dict[str, Any]:
    """Override one filter for one of the coach's participants and one vacancy."""
    p = participant_for(session, user, participant_id)
    if session.get(Vacancy, body.vacancy_id) is None:
        raise NotFoundError(f"Stelle {body.vacancy_id} nicht gefunden", field="vacancy_id")
    override = session.scalar(
        select(Override).where(
            Override.participant_id == p.id,
            Override.vacancy_id == body.vacancy_id,
            Override.reason_code == body.reason_code,
        )
    )
    if override is None:
        override = Override(
            participant_id=p.id, vacancy_id=body.vacancy_id, reason_code=body.reason_code
        )
        session.add(override)
    override.reason = body.reason
    override.created_by = user.id
    override.created_at = utcnow()
    services.audit().append(
        session,
        actor_id=user.id,
        action="override",
        participant_ids=[p.id],
        payload={"vacancy_id": body.vacancy_id, "reason_code": body.reason_code},
    )
    session.commit()
    return override_view(override)


def list_overrides(session: Session, user: Principal, participant_id: int) -> dict[str, Any]:
    """List the overrides recorded for one of the coach's participants."""
    p = participant_for(session, user, participant_id)
    rows = session.scalars(
        select(Override).where(Override.participant_id == p.id).order_by(Override.id)
    )
    return {"items": [override_view(o) for o in rows]}
