"""Handing participants from one coach to another."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth import Principal
from service.context import Services
from service.domain.access import coach_by_id
from service.errors import NotFoundError
from service.models import Participant, User
from service.schemas import CaseloadIn

__all__ = ["transfer_caseload"]


def transfer_caseload(
    session: Session, services: Services, user: Principal, body: CaseloadIn
) -> dict[str, Any]:
    """Move all (or the listed) participants of ``from_coach_id`` to ``to_coach_id``.

    Raises
    ------
    NotFoundError
        An unknown coach, or a listed participant who is not ``from_coach_id``'s.
    """
    if session.scalar(select(User.id).where(User.id == body.from_coach_id)) is None:
        raise NotFoundError(
            f"from_coach_id: kein Coach mit der Id {body.from_coach_id}", field="from_coach_id"
        )
    coach_by_id(session, body.to_coach_id, field="to_coach_id")
    statement = select(Participant).where(Participant.coach_id == body.from_coach_id)
    if body.participant_ids is not None:
        wanted = set(body.participant_ids)
        statement = statement.where(Participant.id.in_(wanted))
    rows = session.scalars(statement.order_by(Participant.id)).all()
    if body.participant_ids is not None and len(rows) != len(set(body.participant_ids)):
        missing = sorted(set(body.participant_ids) - {p.id for p in rows})
        raise NotFoundError(
            f"participant_ids: nicht bei Coach {body.from_coach_id}: {missing}",
            field="participant_ids",
        )
    for p in rows:
        p.coach_id = body.to_coach_id
    moved = [p.id for p in rows]
    services.audit().append(
        session,
        actor_id=user.id,
        action="caseload_transfer",
        participant_ids=moved,
        payload={
            "from_coach": services.audit().actor(body.from_coach_id),
            "to_coach": services.audit().actor(body.to_coach_id),
            "count": len(moved),
        },
    )
    session.commit()
    return {"moved": moved, "to_coach_id": body.to_coach_id}
