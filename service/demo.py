"""Fill a database with the Bielefeld demo market (``jobmatch demo``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from matching.datasets import make_demo_market
from matching.schema import P, V
from service.auth import Role, create_user
from service.context import load_taxonomy
from service.db import Database
from service.db_helpers import insert_ignore
from service.domain.audit import participant_pseudonyms
from service.models import (
    Approval,
    AuditEntry,
    AuditHead,
    CandidateRef,
    Consent,
    Employer,
    IndexChange,
    MonitoringAttributes,
    Outcome,
    Override,
    Participant,
    PseudonymKey,
    Release,
    ServiceSecret,
    User,
    Vacancy,
    utcnow,
)
from service.resolution import Resolver
from service.settings import Settings

__all__ = ["DEMO_NOTICE_VERSION", "DemoRefusedError", "DemoSummary", "load_demo"]

DEMO_NOTICE_VERSION = "demo-2026-01"
_MARKER = "demo_database"
_COACHES = ("coach-demo", "coach-demo-2")


class DemoRefusedError(Exception):
    """The database holds data that is not from an earlier demo."""


@dataclass
class DemoSummary:
    """What :func:`load_demo` created."""

    employers: int = 0
    vacancies: int = 0
    participants: int = 0
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)


def _value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    return value


def _list(value: Any) -> list[Any]:
    value = _value(value)
    if value is None:
        return []
    return [dict(v) if isinstance(v, dict) else v for v in list(value)]


def _wipe(session: Session) -> None:
    for model in (AuditEntry, IndexChange, Release, Override, Consent, Approval, Outcome,
                  CandidateRef, MonitoringAttributes, PseudonymKey, Participant, User, Vacancy,
                  Employer):  # fmt: skip
        session.execute(delete(model))
    session.execute(delete(ServiceSecret).where(ServiceSecret.name == _MARKER))
    head = session.get(AuditHead, 1)
    if head is not None:
        head.seq, head.hash = 0, "0" * 64


def _resolve_lists(resolve: Any, lists: list[list[str]]) -> list[list[dict[str, Any]]]:
    flat = resolve([x for values in lists for x in values])
    out, position = [], 0
    for values in lists:
        out.append(flat[position : position + len(values)])
        position += len(values)
    return out


def load_demo(
    db: Database,
    settings: Settings,
    *,
    force: bool = False,
    random_state: int = 0,
    n_employers: int = 60,
    n_vacancies: int = 300,
    n_participants: int = 200,
) -> DemoSummary:
    """Replace the database's content with the demo market and create one user per role.

    Parameters
    ----------
    db : Database
        A migrated database.
    settings : Settings
    force : bool, default=False
        Wipe the database even if it holds data that is not from a demo.
    random_state : int, default=0
    n_employers, n_vacancies, n_participants : int
        Size of the demo market.

    Returns
    -------
    DemoSummary
        Counts and the new tokens, by role.

    Raises
    ------
    DemoRefusedError
        The database holds other data and ``force`` is False.
    """
    market = make_demo_market(
        n_employers, n_vacancies, n_participants, random_state=random_state
    )
    resolver = Resolver(load_taxonomy(settings.taxonomy_dir))
    summary = DemoSummary()
    with db.session() as session:
        is_demo = session.get(ServiceSecret, _MARKER) is not None
        has_data = (session.scalar(select(func.count()).select_from(Participant)) or 0) + (
            session.scalar(select(func.count()).select_from(User)) or 0
        )
        if has_data and not is_demo and not force:
            raise DemoRefusedError(
                "the database holds data that is not from a demo; use another "
                "--database-url or --force to wipe it"
            )
        _wipe(session)
        insert_ignore(session, ServiceSecret, [{"name": _MARKER, "value": "1"}])
        employer_ids: dict[str, int] = {}
        for row in market.employers.to_dict("records"):
            employer = Employer(
                name=row["name"], postcode=_value(row.get("postcode")),
                size_class=_value(row.get("size_class")),
            )  # fmt: skip
            session.add(employer)
            session.flush()
            employer_ids[str(row["employer_id"])] = employer.id
        summary.employers = len(employer_ids)
        vacancies = market.vacancies.to_dict("records")
        skill_texts = [[s["skill"] for s in _list(v[V.SKILLS])] for v in vacancies]
        flat = resolver.skills([s for texts in skill_texts for s in texts])
        occupations = resolver.occupations([v[V.OCCUPATION] or "-" for v in vacancies])
        position = 0
        for v, skill_list, occupation in zip(vacancies, skill_texts, occupations, strict=True):
            start = _value(v.get(V.START_DATE))
            session.add(Vacancy(
                employer_id=employer_ids[str(v[V.EMPLOYER_ID])],
                title=v[V.TITLE],
                occupation=_value(v[V.OCCUPATION]),
                occupation_resolved=occupation if _value(v[V.OCCUPATION]) else None,
                skills=[{"skill": s["skill"], "essential": bool(s.get("essential", True))}
                        for s in _list(v[V.SKILLS])],
                skills_resolved=flat[position:position + len(skill_list)],
                certificates_required=_list(v[V.CERTIFICATES]),
                languages=_list(v[V.LANGUAGES]),
                postcode=_value(v[V.POSTCODE]), quarter=_value(v[V.QUARTER]),
                lat=_value(v[V.LAT]), lon=_value(v[V.LON]),
                hours_per_week=float(v[V.HOURS]), days_per_week=int(v[V.DAYS]),
                shifts=_list(v[V.SHIFTS]),
                driving_licence_required=_value(v[V.DRIVING_LICENCE]),
                work_permit_required=bool(v[V.WORK_PERMIT_REQUIRED]),
                openings=int(v[V.OPENINGS]),
                start_date=pd.Timestamp(start).date() if start else None,
                status=v[V.STATUS],
            ))  # fmt: skip
            position += len(skill_list)
        summary.vacancies = len(vacancies)
        session.flush()
        tokens: dict[str, tuple[str, str]] = {}
        coaches = []
        for name in _COACHES:
            user, token = create_user(session, name=name, role=Role.COACH)
            coaches.append(user.id)
            tokens.setdefault("coach", (name, token))
        participants = market.participants.to_dict("records")
        now = utcnow()
        texts = {
            column: [[str(x) for x in _list(p[column])] for p in participants]
            for column in (P.SKILLS, P.DESIRED_OCCUPATIONS, P.PAST_OCCUPATIONS)
        }
        resolved_skills = _resolve_lists(resolver.skills, texts[P.SKILLS])
        resolved_desired = _resolve_lists(resolver.occupations, texts[P.DESIRED_OCCUPATIONS])
        resolved_past = _resolve_lists(resolver.occupations, texts[P.PAST_OCCUPATIONS])
        rows = []
        for i, p in enumerate(participants):
            skills = texts[P.SKILLS][i]
            desired = texts[P.DESIRED_OCCUPATIONS][i]
            past = texts[P.PAST_OCCUPATIONS][i]
            coach = coaches[i % len(coaches)]
            row = Participant(
                coach_id=coach,
                name=str(p.get("name") or f"Teilnehmende:r {i + 1}"),
                contact=_value(p.get("contact")),
                postcode=_value(p[P.POSTCODE]), quarter=_value(p[P.QUARTER]),
                lat=_value(p[P.LAT]), lon=_value(p[P.LON]),
                skills=skills, skills_resolved=resolved_skills[i],
                certificates=_list(p[P.CERTIFICATES]),
                languages=[{k: v for k, v in lang.items() if _value(v) is not None}
                           for lang in _list(p[P.LANGUAGES])],
                modes=_list(p[P.MODES]), driving_licence=_list(p[P.DRIVING_LICENCE]),
                max_commute_minutes=_value(p[P.MAX_COMMUTE]),
                hours_min=float(p[P.HOURS_MIN]), hours_max=float(p[P.HOURS_MAX]),
                availability=_list(p[P.AVAILABILITY]), work_permit=p[P.WORK_PERMIT],
                desired_occupations=desired,
                desired_occupations_resolved=resolved_desired[i],
                past_occupations=past, past_occupations_resolved=resolved_past[i],
                consent_given=bool(p[P.CONSENT]), approved=bool(p[P.APPROVED]),
            )  # fmt: skip
            rows.append(row)
        session.add_all(rows)
        session.flush()
        for row in rows:
            if row.consent_given:
                session.add(Consent(participant_id=row.id, given=True,
                                    notice_version=DEMO_NOTICE_VERSION, recorded_at=now,
                                    recorded_by=row.coach_id))  # fmt: skip
            if row.approved:
                session.add(Approval(participant_id=row.id, approved=True, recorded_at=now,
                                     recorded_by=row.coach_id))  # fmt: skip
        participant_pseudonyms(session, [row.id for row in rows])
        summary.participants = len(participants)
        first_employer = next(iter(employer_ids.values()))
        for role, name, employer_id in (
            (Role.ADMIN, "admin-demo", None),
            (Role.EMPLOYER, "employer-demo", first_employer),
            (Role.ANALYST, "analyst-demo", None),
        ):
            _, token = create_user(session, name=name, role=role, employer_id=employer_id)
            tokens[role.value] = (name, token)
        session.commit()
    summary.tokens = {r.value: tokens[r.value] for r in Role}
    return summary
