"""A coach's ranked vacancies for a participant and a vacancy's shortlist of candidates.

Both answers come from the in-memory index; each request reads only the few rows it
needs (ownership, overrides, references) and appends one audit entry holding the items
returned with their factor values, under pseudonyms.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from service.auth import Principal, Role
from service.context import Services
from service.db import read_connection
from service.domain.access import readable_vacancy_employer
from service.domain.audit import participant_pseudonyms
from service.domain.candidates import candidate_refs
from service.errors import ConflictError, NotFoundError
from service.models import Override, Participant, Release

__all__ = ["COACH_VIEW_NOTE", "participant_matches", "record_matches", "vacancy_candidates"]

# Prepared statements (compiled once, cached by SQLAlchemy): the hot routes build none.
_P = cast(Table, Participant.__table__)
_O = cast(Table, Override.__table__)
_R = cast(Table, Release.__table__)
_PARTICIPANT_STATE = select(_P.c.coach_id, _P.c.active, _P.c.objects_to_profiling).where(
    _P.c.id == bindparam("id")
)
_OVERRIDES = select(_O.c.vacancy_id, _O.c.reason_code).where(
    _O.c.participant_id == bindparam("id")
)
_VACANCY_OVERRIDES = select(_O.c.participant_id, _O.c.reason_code).where(
    _O.c.vacancy_id == bindparam("id")
)
_COACH_SCOPE = select(_P.c.id).where(
    _P.c.coach_id == bindparam("coach_id"),
    _P.c.active.is_(True),
    _P.c.objects_to_profiling.is_(False),
)
_NAMES = select(_P.c.id, _P.c.name).where(_P.c.id.in_(bindparam("ids", expanding=True)))
# Released to this employer and still consenting: only these show name and contact.
_RELEASED = (
    select(_P.c.id, _P.c.name, _P.c.contact)
    .join(_R, _R.c.participant_id == _P.c.id)
    .where(
        _R.c.employer_id == bindparam("employer_id"),
        _P.c.id.in_(bindparam("ids", expanding=True)),
        _P.c.consent_given.is_(True),
    )
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
    found = matcher.match_participant(
        str(participant_id), limit=limit, overrides=overrides, ranked=ranked
    )
    return record_matches(session, services, user, participant_id, found, limit=limit)


def record_matches(
    session: Session,
    services: Services,
    user: Principal,
    participant_id: int,
    found: Any,
    *,
    limit: int,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of a ``matches`` answer, after its audit entry is committed.

    ``found`` is the library's result for the participant; ``extra`` (e.g. how the list
    was spread) goes into both the body and the audit entry. Every route that answers
    with a participant's matches ends here, so their audit entries cannot drift apart.
    """
    result = found.to_dict()
    result["participant_id"] = participant_id
    for item in (*result["items"], *result["excluded"]):
        item["vacancy_id"] = int(item["vacancy_id"])
    payload: dict[str, Any] = {"limit": limit, "ranked": result["ranked"]}
    if extra:
        result.update(extra)
        payload.update(extra)
    payload["items"] = _audit_items(result["items"], "vacancy_id")
    payload["excluded_counts"] = result["excluded_counts"]
    services.audit().append(
        session,
        actor_id=user.id,
        action="matches",
        participant_ids=[participant_id],
        model_version=result["model_version"],
        payload=payload,
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
    connection = read_connection(session)
    employer_id = readable_vacancy_employer(connection, user, vacancy_id)
    overrides = [
        (str(pid), code)
        for pid, code in connection.execute(_VACANCY_OVERRIDES, {"id": vacancy_id})
    ]
    coach_view = user.role is Role.COACH
    candidate_ids: list[str] | None = None
    if coach_view:
        candidate_ids = [
            str(i) for i in connection.execute(_COACH_SCOPE, {"coach_id": user.id}).scalars()
        ]
    services.index.sync(session)
    session.rollback()  # no lock is held while scoring
    matcher = services.index.require(reload=True)
    result = matcher.match_vacancy(
        str(vacancy_id),
        limit=limit,
        candidate_ids=candidate_ids,
        employer_view=not coach_view,
        overrides=overrides,
    ).to_dict()
    ids = [int(item["participant_id"]) for item in result["items"]]
    # One write transaction from here: keys, references and the audit entry.
    pseudonyms = participant_pseudonyms(session, ids)
    audit_items = _audit_items(
        [dict(item, participant_id=int(item["participant_id"])) for item in result["items"]],
        "participant_id",
        pseudonyms,
    )
    connection = session.connection()
    if coach_view:
        names = dict(connection.execute(_NAMES, {"ids": ids}).all()) if ids else {}
        for item, pid in zip(result["items"], ids, strict=True):
            item["participant_id"] = pid
            item["name"] = names.get(pid)
        result["scope"] = "own_participants"
        result["consent_filter_applied"] = False
        result["note"] = COACH_VIEW_NOTE
    else:
        refs = candidate_refs(session, employer_id, ids)
        shown = (
            {row.id: row for row in connection.execute(
                _RELEASED, {"employer_id": employer_id, "ids": ids})}
            if ids else {}
        )  # fmt: skip
        for item, pid in zip(result["items"], ids, strict=True):
            del item["participant_id"]
            item["candidate_ref"] = refs[pid]
            person = shown.get(pid)
            item["released"] = person is not None
            item["name"] = person.name if person is not None else None
            item["contact"] = person.contact if person is not None else None
        result["scope"] = "employer"
        result["consent_filter_applied"] = True
    result["vacancy_id"] = vacancy_id
    services.audit().append(
        session,
        actor_id=user.id,
        action="candidates",
        participant_ids=ids,
        model_version=result["model_version"],
        payload={
            "vacancy_id": vacancy_id,
            "limit": limit,
            "view": result["scope"],
            "items": audit_items,
            "excluded_counts": result["excluded_counts"],
        },
        pseudonyms=pseudonyms,
    )
    session.commit()
    return result
