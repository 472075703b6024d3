"""A coach's ranked vacancies for a participant and a vacancy's shortlist of candidates.

Both answers come from the in-memory index; each request reads only the few rows it
needs (ownership, overrides, references) and appends one audit entry holding the items
returned with their factor values, under pseudonyms.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from service.auth import Principal, Role
from service.context import Services
from service.db import read_connection
from service.domain.access import vacancy_for
from service.domain.audit import participant_pseudonyms
from service.domain.candidates import candidate_refs
from service.errors import ConflictError, NotFoundError
from service.models import Override, Participant, Release

__all__ = ["COACH_VIEW_NOTE", "participant_matches", "vacancy_candidates"]

_P = Participant.__table__
_PARTICIPANT_STATE = select(_P.c.coach_id, _P.c.active, _P.c.objects_to_profiling).where(
    _P.c.id == bindparam("id")
)
_OVERRIDES = select(Override.__table__.c.vacancy_id, Override.__table__.c.reason_code).where(
    Override.__table__.c.participant_id == bindparam("id")
)

COACH_VIEW_NOTE = (
    "Nur Ihre eigenen Teilnehmenden; ohne Einwilligungs- und Freigabefilter, da dies "
    "Ihre Ansicht als Coach ist. Arbeitgeber sehen nur Teilnehmende mit Einwilligung und "
    "Freigabe."
)


def _audit_items(
    items: list[dict[str, Any]], key: str, ids: dict[Any, str] | None = None
) -> list[dict[str, Any]]:
    out = []
    for item in items:
        identifier = item[key]
        out.append(
            {
                key: ids.get(identifier) if ids is not None else identifier,
                "rank": item.get("rank"),
                "score": item.get("score"),
                "factors": item.get("factors"),
            }
        )
    return out


def participant_matches(
    session: Session, services: Services, user: Principal, participant_id: int, *, limit: int
) -> dict[str, Any]:
    """Rank open vacancies for one of the coach's participants.

    A participant who objects to profiling gets the vacancies passing the hard filters,
    unranked and unscored.
    """
    connection = read_connection(session)
    row = connection.execute(_PARTICIPANT_STATE, {"id": participant_id}).first()
    if row is None or row.coach_id != user.id:
        raise NotFoundError(f"Teilnehmende:r {participant_id} nicht gefunden")
    if not row.active:
        raise ConflictError(f"Teilnehmende:r {participant_id} ist inaktiv")
    overrides = [
        (str(v), code) for v, code in connection.execute(_OVERRIDES, {"id": participant_id})
    ]
    ranked = not row.objects_to_profiling
    services.index.sync(session)
    session.rollback()  # no lock is held while scoring
    matcher = services.index.require(reload=True)
    result = matcher.match_participant(
        str(participant_id), limit=limit, overrides=overrides, ranked=ranked
    ).to_dict()
    result["participant_id"] = participant_id
    for item in result["items"]:
        item["vacancy_id"] = int(item["vacancy_id"])
    for item in result["excluded"]:
        item["vacancy_id"] = int(item["vacancy_id"])
    services.audit().append(
        session,
        actor_id=user.id,
        action="matches",
        participant_ids=[participant_id],
        model_version=result["model_version"],
        payload={
            "limit": limit,
            "ranked": result["ranked"],
            "items": _audit_items(result["items"], "vacancy_id"),
            "excluded_counts": result["excluded_counts"],
        },
    )
    session.commit()
    return result


def vacancy_candidates(
    session: Session, services: Services, user: Principal, vacancy_id: int, *, limit: int
) -> dict[str, Any]:
    """Shortlist candidates for a vacancy.

    An employer sees only participants with consent and approval, under a
    ``candidate_ref`` of its own, with name and contact only once a coach released the
    candidate to it. A coach sees only their own participants, without the consent
    filter, and is told so.
    """
    read_connection(session)
    vacancy = vacancy_for(session, user, vacancy_id)
    overrides = [
        (str(pid), code)
        for pid, code in session.execute(
            select(Override.participant_id, Override.reason_code).where(
                Override.vacancy_id == vacancy.id
            )
        )
    ]
    coach_view = user.role is Role.COACH
    candidate_ids: list[str] | None = None
    if coach_view:
        candidate_ids = [
            str(i)
            for i in session.scalars(
                select(Participant.id).where(
                    Participant.coach_id == user.id,
                    Participant.active.is_(True),
                    Participant.objects_to_profiling.is_(False),
                )
            )
        ]
    services.index.sync(session)
    session.rollback()  # no lock is held while scoring
    matcher = services.index.require(reload=True)
    result = matcher.match_vacancy(
        str(vacancy.id),
        limit=limit,
        candidate_ids=candidate_ids,
        employer_view=not coach_view,
        overrides=overrides,
    ).to_dict()
    ids = [int(item["participant_id"]) for item in result["items"]]
    pseudonyms = participant_pseudonyms(session, ids)
    audit_items = _audit_items(
        [dict(item, participant_id=int(item["participant_id"])) for item in result["items"]],
        "participant_id",
        pseudonyms,
    )
    people = {
        row.id: row
        for row in session.execute(
            select(
                Participant.id, Participant.name, Participant.contact, Participant.consent_given
            ).where(Participant.id.in_(ids))
        )
    }
    if coach_view:
        for item, pid in zip(result["items"], ids, strict=True):
            item["participant_id"] = pid
            item["name"] = people[pid].name if pid in people else None
        result["scope"] = "own_participants"
        result["consent_filter_applied"] = False
        result["note"] = COACH_VIEW_NOTE
    else:
        employer_id = vacancy.employer_id
        refs = candidate_refs(session, employer_id, ids)
        released = set(
            session.scalars(
                select(Release.participant_id).where(
                    Release.employer_id == employer_id, Release.participant_id.in_(ids)
                )
            )
        )
        for item, pid in zip(result["items"], ids, strict=True):
            del item["participant_id"]
            item["candidate_ref"] = refs[pid]
            person = people.get(pid)
            shown = (
                person if pid in released and person is not None and person.consent_given else None
            )
            item["released"] = shown is not None
            item["name"] = shown.name if shown is not None else None
            item["contact"] = shown.contact if shown is not None else None
        result["scope"] = "employer"
        result["consent_filter_applied"] = True
    result["vacancy_id"] = vacancy.id
    services.audit().append(
        session,
        actor_id=user.id,
        action="candidates",
        participant_ids=ids,
        model_version=result["model_version"],
        payload={
            "vacancy_id": vacancy.id,
            "limit": limit,
            "view": result["scope"],
            "items": audit_items,
            "excluded_counts": result["excluded_counts"],
        },
    )
    session.commit()
    return result
