"""Releases: a coach reveals one candidate's name and contact to one employer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth import Principal
from service.context import Services
from service.domain.access import participant_for
from service.domain.candidates import candidate_refs
from service.errors import ConflictError, NotFoundError
from service.models import Participant, Release, Vacancy, utcnow
from service.schemas import ReleaseIn

__all__ = ["create_release", "list_releases"]


def create_release(
    session: Session, services: Services, user: Principal, vacancy_id: int, body: ReleaseIn
) -> dict[str, Any]:
    """Release one of the coach's participants to the employer of ``vacancy_id``.

    Raises
    ------
    NotFoundError
        No such vacancy, or the participant is not the coach's.
    ConflictError
        The participant has not consented to be shown to employers.
    """
    vacancy = session.get(Vacancy, vacancy_id)
    if vacancy is None:
        raise NotFoundError(f"Stelle {vacancy_id} nicht gefunden")
    p = participant_for(session, user, body.participant_id)
    if not p.consent_given:
        raise ConflictError(
            "Ohne Einwilligung der/des Teilnehmenden ist keine Freigabe möglich",
            field="participant_id",
        )
    release = Release(
        participant_id=p.id,
        employer_id=vacancy.employer_id,
        vacancy_id=vacancy.id,
        released_by=user.id,
        released_at=utcnow(),
    )
    session.add(release)
    ref = candidate_refs(session, vacancy.employer_id, [p.id])[p.id]
    services.audit().append(
        session,
        actor_id=user.id,
        action="release",
        participant_ids=[p.id],
        payload={"vacancy_id": vacancy.id, "employer_id": vacancy.employer_id},
    )
    session.commit()
    return {
        "id": release.id,
        "vacancy_id": vacancy.id,
        "employer_id": vacancy.employer_id,
        "participant_id": p.id,
        "candidate_ref": ref,
        "released_at": release.released_at.isoformat(),
    }


def list_releases(
    session: Session, user: Principal, *, include_seen: bool, limit: int
) -> dict[str, Any]:
    """List the employer's releases (new ones only, by default) and mark them seen.

    Name and contact are shown while the participant's consent holds.
    """
    employer_id = user.employer_id
    statement = (
        select(Release, Participant.name, Participant.contact, Participant.consent_given)
        .join(Participant, Participant.id == Release.participant_id)
        .where(Release.employer_id == employer_id)
        .order_by(Release.id)
        .limit(limit)
    )
    if not include_seen:
        statement = statement.where(Release.seen_by_employer_at.is_(None))
    rows = session.execute(statement).all()
    refs = candidate_refs(session, employer_id or 0, [r.Release.participant_id for r in rows])
    now = utcnow()
    items = []
    for release, name, contact, consent in rows:
        items.append(
            {
                "id": release.id,
                "vacancy_id": release.vacancy_id,
                "candidate_ref": refs[release.participant_id],
                "name": name if consent else None,
                "contact": contact if consent else None,
                "released_at": release.released_at.isoformat(),
                "seen_before": release.seen_by_employer_at is not None,
            }
        )
        if release.seen_by_employer_at is None:
            release.seen_by_employer_at = now
    session.commit()
    return {"items": items}
