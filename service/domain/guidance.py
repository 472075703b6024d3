"""Guidance beyond a ranked list: next steps, requirement insights, placement plans and
matches that spread exposure over comparable vacancies.

Each function checks who may see what (a coach their own participants and caseload, an
employer its own vacancies, an admin everything), reads the few rows it needs, calls
one function of :mod:`matching.guidance` or :mod:`matching.capacity` on the live index
and converts the matcher's string ids back to database ids. Every answer that names
vacancies for people, or counts people for a vacancy, appends one audit entry holding
identifiers and numbers only (participants as pseudonyms).

Openings already taken: a vacancy's free openings are its ``openings`` minus the
distinct participants with a recorded ``proposed`` or ``applied`` outcome for it
(:func:`already_sent`); a participant proposed and then applied counts once.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any, Final

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from matching.capacity import (
    DEFAULT_TOLERANCE,
    MarketCutoffs,
    market_cutoffs,
    placement_plan,
    spread_matches,
)
from matching.guidance import next_steps, requirement_insights
from matching.matcher import Matcher
from service.auth import Principal, Role
from service.context import Services
from service.domain.access import coach_by_id, vacancy_owned_by
from service.domain.audit import participant_pseudonyms
from service.domain.recommendations import record_matches
from service.errors import ConflictError, NotFoundError, ValidationFailedError
from service.models import Outcome, Override, Participant, Vacancy
from service.scoring import ScoringIndex

__all__ = [
    "NO_PROFILING_NOTE",
    "SENT_STATUSES",
    "already_sent",
    "participant_matches_spread",
    "participant_next_steps",
    "participant_overrides",
    "plan_for_coach",
    "spread_cutoffs",
    "team_overrides",
    "team_plan",
    "vacancy_insights",
]

#: Outcome statuses that count against a vacancy's openings.
SENT_STATUSES: Final = ("proposed", "applied")

#: What a coach reads instead of next steps for a participant who objects to profiling.
NO_PROFILING_NOTE: Final = (
    "Die teilnehmende Person hat der Profilbildung widersprochen (Art. 21 DSGVO): "
    "Es werden keine nächsten Schritte berechnet und sie wird in keinen Einsatzplan "
    "aufgenommen."
)

_P = Participant.__table__
_O = Outcome.__table__
_PARTICIPANT_STATE = select(_P.c.coach_id, _P.c.active, _P.c.objects_to_profiling).where(
    _P.c.id == bindparam("id")
)
_OV = Override.__table__
_OVERRIDES = select(_OV.c.vacancy_id, _OV.c.reason_code).where(
    _OV.c.participant_id == bindparam("id")
)
_TEAM_OVERRIDES = select(_OV.c.participant_id, _OV.c.vacancy_id, _OV.c.reason_code).where(
    _OV.c.participant_id.in_(bindparam("ids", expanding=True))
)
_SENT = (
    select(_O.c.vacancy_id, func.count(func.distinct(_O.c.participant_id)))
    .where(_O.c.status.in_(SENT_STATUSES), _O.c.vacancy_id.is_not(None))
    .group_by(_O.c.vacancy_id)
)


_RANKED = select(_P.c.id).where(_P.c.active.is_(True), _P.c.objects_to_profiling.is_(False))
#: Market cutoffs are recomputed for a changed index at most this often (seconds); in
#: between, a vacancy added since has none.
CUTOFFS_MAX_AGE: Final = 300.0
#: Up to this many participant-vacancy pairs the cutoffs are computed within the request
#: (about 2 s); a larger market computes them in the background, and spread requests
#: meanwhile use the previous cutoffs, or none (the two tiers alone).
CUTOFFS_SYNC_PAIRS: Final = 5_000_000


class _Cached:
    def __init__(self) -> None:
        self.state: Any = None  # weak reference to the IndexState computed over
        self.at = 0.0
        self.value: MarketCutoffs | None = None
        self.running = False
        self.generation = -1  # the index load the cutoffs were computed on


_cutoffs: weakref.WeakKeyDictionary[ScoringIndex, _Cached] = weakref.WeakKeyDictionary()
_cutoffs_lock = threading.Lock()


def spread_cutoffs(session: Session, index: ScoringIndex, matcher: Matcher) -> MarketCutoffs | None:
    """The market cutoffs of the spread option, computed once per index (cached).

    Over every active participant who does not object to profiling; recomputed when the
    index changed and the cached ones are older than :data:`CUTOFFS_MAX_AGE`, within the
    request up to :data:`CUTOFFS_SYNC_PAIRS` pairs, else in a background thread (``None``
    until the first computation finished).
    """
    state = matcher.state_
    with _cutoffs_lock:
        cached = _cutoffs.setdefault(index, _Cached())
        if cached.generation != index.generation:
            # The index was loaded anew (after an outage, or a reset database whose ids
            # start again): cutoffs of the earlier load may name other vacancies.
            cached.value, cached.generation = None, index.generation
        if cached.value is not None and (cached.state() is state
                                         or time.monotonic() - cached.at < CUTOFFS_MAX_AGE):
            return cached.value
        if cached.running:
            return cached.value
        position = state.participants.position
        pids = [str(i) for (i,) in session.connection().execute(_RANKED) if str(i) in position]
        generation = index.generation

        def compute() -> MarketCutoffs | None:
            found = None
            try:
                found = market_cutoffs(matcher, pids)
            finally:
                with _cutoffs_lock:
                    if found is not None and cached.generation == generation:
                        cached.state, cached.at = weakref.ref(state), time.monotonic()
                        cached.value = found
                    cached.running = False
            return found

        cached.running = True
        if len(pids) * len(state.vacancies.block) > CUTOFFS_SYNC_PAIRS:
            threading.Thread(target=compute, name="spread-cutoffs", daemon=True).start()
            return cached.value
    return compute()


def already_sent(session: Session) -> dict[str, int]:
    """Participants being sent to each vacancy, keyed by the matcher's vacancy id.

    Counts distinct participants with a recorded ``proposed`` or ``applied`` outcome
    per vacancy (outcomes of every coach and employer).

    Parameters
    ----------
    session : Session

    Returns
    -------
    dict
        Vacancy id (as a string, the matcher's id) → number of participants.
    """
    return {str(v): int(n) for v, n in session.connection().execute(_SENT)}


def participant_overrides(session: Session, participant_id: int) -> list[tuple[str, str]]:
    """The filters coaches overrode for one participant: (matcher vacancy id, reason)."""
    rows = session.connection().execute(_OVERRIDES, {"id": participant_id})
    return [(str(v), code) for v, code in rows]


def team_overrides(
    session: Session, participant_ids: list[int]
) -> dict[str, list[tuple[str, str]]]:
    """Overrides of many participants, keyed by the matcher's participant id."""
    found: dict[str, list[tuple[str, str]]] = {}
    if not participant_ids:
        return found
    for p, v, code in session.connection().execute(_TEAM_OVERRIDES, {"ids": participant_ids}):
        found.setdefault(str(p), []).append((str(v), code))
    return found


def _own_participant(session: Session, user: Principal, participant_id: int) -> Any:
    """The participant's state row if it is one of ``user``'s (a coach); else 404/409."""
    row = session.connection().execute(_PARTICIPANT_STATE, {"id": participant_id}).first()
    if row is None or row.coach_id != user.id:
        raise NotFoundError(f"Teilnehmende:r {participant_id} nicht gefunden")
    if not row.active:
        raise ConflictError(f"Teilnehmende:r {participant_id} ist inaktiv")
    return row


def participant_next_steps(
    session: Session, services: Services, user: Principal, participant_id: int, *, limit: int
) -> dict[str, Any]:
    """The single changes within one of the coach's participants' reach that open the most
    vacancies.

    A participant who objects to profiling is not evaluated: the answer is an empty list
    with ``"profiled": false`` and a note saying why (the coach's page shows the note).
    The coach's overrides apply: an overridden vacancy counts as passing that filter, so
    no step claims to open it.

    Raises
    ------
    NotFoundError
        No such participant, or not the coach's.
    ConflictError
        The participant is inactive.
    """
    row = _own_participant(session, user, participant_id)
    profiled = not row.objects_to_profiling
    items: list[dict[str, Any]] = []
    model_version = None
    if profiled:
        overrides = participant_overrides(session, participant_id)
        services.index.sync(session)
        session.rollback()  # no lock is held while scoring
        matcher = services.index.require()
        model_version = matcher.model_version
        found = next_steps(matcher, str(participant_id), limit=limit, overrides=overrides)
        items = [s.to_dict() for s in found]
        for item in items:
            item["vacancy_ids"] = [int(v) for v in item["vacancy_ids"]]
    services.audit().append(
        session,
        actor_id=user.id,
        action="next_steps",
        participant_ids=[participant_id],
        model_version=model_version,
        payload={
            "limit": limit,
            "profiled": profiled,
            "items": [
                {"kind": i["kind"], "additional": i["additional"], "vacancy_ids": i["vacancy_ids"]}
                for i in items
            ],
        },
    )
    session.commit()
    result: dict[str, Any] = {
        "participant_id": participant_id,
        "profiled": profiled,
        "model_version": model_version,
        "items": items,
    }
    if not profiled:
        result["note"] = NO_PROFILING_NOTE
    return result


def vacancy_insights(
    session: Session, services: Services, user: Principal, vacancy_id: int
) -> dict[str, Any]:
    """Which requirement of a vacancy keeps the most consenting candidates out.

    Counts under 5 come masked from the library (``additional: null``,
    ``count_display: "weniger als 5"``); no participant id leaves this function.

    Raises
    ------
    NotFoundError
        No such vacancy, or another employer's.
    ConflictError
        The vacancy is not open (only open vacancies are scored).
    """
    vacancy = vacancy_owned_by(session, user, vacancy_id)
    if vacancy.status != "open":
        raise ConflictError(f"Stelle {vacancy_id} ist nicht offen (Status {vacancy.status})")
    services.index.sync(session)
    session.rollback()
    matcher = services.index.require()
    items = [i.to_dict() for i in requirement_insights(matcher, str(vacancy_id))]
    services.audit().append(
        session,
        actor_id=user.id,
        action="insights",
        model_version=matcher.model_version,
        payload={
            "vacancy_id": vacancy_id,
            "items": [{"kind": i["kind"], "additional": i["additional"]} for i in items],
        },
    )
    session.commit()
    return {"vacancy_id": vacancy_id, "model_version": matcher.model_version, "items": items}


def plan_for_coach(
    session: Session,
    services: Services,
    coach_id: int,
    *,
    actor_id: int | None,
    alternatives: int = 3,
) -> dict[str, Any]:
    """A placement plan for the active participants of coach ``coach_id``.

    No access check here (:func:`team_plan` does it; the command line acts as the
    operator). Participants who object to profiling are left out and listed under
    ``not_planned``. Openings already taken by recorded ``proposed`` or ``applied``
    outcomes (:func:`already_sent`) are not offered again. Coaches' overrides apply: an
    overridden vacancy counts as passing that filter for that participant.

    Returns
    -------
    dict
        :meth:`matching.capacity.Plan.to_dict` with database ids and assignments in
        participant id order, plus ``coach_id``, ``not_planned`` and ``vacancy_titles``
        (the title of every vacancy the plan names).
    """
    rows = session.execute(
        select(Participant.id, Participant.objects_to_profiling)
        .where(Participant.coach_id == coach_id, Participant.active.is_(True))
        .order_by(Participant.id)
    ).all()
    team = [r.id for r in rows if not r.objects_to_profiling]
    objecting = [r.id for r in rows if r.objects_to_profiling]
    sent = already_sent(session)
    overrides = team_overrides(session, team)
    services.index.sync(session)
    session.rollback()
    matcher = services.index.require()
    plan = placement_plan(
        matcher, [str(p) for p in team], alternatives=alternatives, already_sent=sent,
        overrides=overrides,
    ).to_dict()
    for a in plan["assignments"]:
        a["participant_id"] = int(a["participant_id"])
        a["vacancy_id"] = None if a["vacancy_id"] is None else int(a["vacancy_id"])
        for alt in a["alternatives"]:
            alt["vacancy_id"] = int(alt["vacancy_id"])
    plan["assignments"].sort(key=lambda a: a["participant_id"])  # the library sorts as text
    plan["unassigned"] = sorted(int(p) for p in plan["unassigned"])
    plan["assigned"] = {int(v): n for v, n in plan["assigned"].items()}
    plan["free_openings"] = {int(v): n for v, n in plan["free_openings"].items()}
    shown = {a["vacancy_id"] for a in plan["assignments"]} | {
        alt["vacancy_id"] for a in plan["assignments"] for alt in a["alternatives"]
    }
    shown.discard(None)
    titles = {
        v: title
        for v, title in session.execute(
            select(Vacancy.id, Vacancy.title).where(Vacancy.id.in_(shown))
        )
    }
    plan["vacancy_titles"] = {v: titles[v] for v in sorted(titles)}
    plan["coach_id"] = coach_id
    plan["not_planned"] = {"objects_to_profiling": objecting}
    pseudonyms = participant_pseudonyms(session, team)
    audit = services.audit()
    audit.append(
        session,
        actor_id=actor_id,
        action="plan",
        participant_ids=team,
        model_version=plan["model_version"],
        payload={
            "coach": audit.actor(coach_id),
            "alternatives": alternatives,
            "total_score": plan["total_score"],
            "assignments": [
                {
                    "participant": pseudonyms.get(a["participant_id"]),
                    "vacancy_id": a["vacancy_id"],
                    "score": a["score"],
                    "alternatives": [alt["vacancy_id"] for alt in a["alternatives"]],
                }
                for a in plan["assignments"]
            ],
        },
    )
    session.commit()
    return plan


def team_plan(
    session: Session,
    services: Services,
    user: Principal,
    coach_id: int | None,
    *,
    alternatives: int = 3,
) -> dict[str, Any]:
    """A coach's placement plan for their own caseload, or an admin's for any coach.

    Parameters
    ----------
    coach_id : int or None
        The coach whose caseload is planned; a coach may leave it out (their own).

    Raises
    ------
    ValidationFailedError
        An admin did not name a coach.
    NotFoundError
        A coach named someone else, or no active coach has that id.
    """
    if coach_id is None:
        if user.role is not Role.COACH:
            raise ValidationFailedError("coach: bitte die Id eines Coaches angeben", field="coach")
        coach_id = user.id
    if user.role is Role.COACH and coach_id != user.id:
        raise NotFoundError(f"coach: kein aktiver Coach mit der Id {coach_id}", field="coach")
    coach_by_id(session, coach_id, field="coach")
    return plan_for_coach(session, services, coach_id, actor_id=user.id, alternatives=alternatives)


def participant_matches_spread(
    session: Session,
    services: Services,
    user: Principal,
    participant_id: int,
    *,
    limit: int,
    tolerance: float = DEFAULT_TOLERANCE,
) -> dict[str, Any]:
    """Top vacancies for one of the coach's participants, preferring among near-equal
    matches the vacancies fewer participants are already being sent to, and leaving a
    crowded vacancy to the participants who match it best (market cutoffs,
    :func:`spread_cutoffs`).

    The body is that of the plain ``matches`` route (scores, factors, explanations and
    ``excluded`` unchanged; items re-ordered, ranks renumbered) plus
    ``"spread": {"applied": bool, "tolerance": float}``. A participant who objects to
    profiling gets the unranked, filter-only list, which has no order to spread.

    Raises
    ------
    NotFoundError
        No such participant, or not the coach's.
    ConflictError
        The participant is inactive.
    """
    row = _own_participant(session, user, participant_id)
    overrides = participant_overrides(session, participant_id)
    ranked = not row.objects_to_profiling
    sent = already_sent(session) if ranked else {}
    services.index.sync(session)
    session.rollback()
    matcher = services.index.require()
    if ranked:
        cutoffs = spread_cutoffs(session, services.index, matcher)
        session.rollback()
        found = spread_matches(matcher, str(participant_id), limit=limit, exposure=sent,
                               tolerance=tolerance, overrides=overrides, cutoffs=cutoffs)
    else:
        found = matcher.match_participant(
            str(participant_id), limit=limit, overrides=overrides, ranked=False
        )
    spread = {"spread": {"applied": ranked, "tolerance": tolerance}}
    return record_matches(session, services, user, participant_id, found, limit=limit, extra=spread)
