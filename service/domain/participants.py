"""Participants: create, read, change, list, erase and export."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, delete, select
from sqlalchemy.orm import Session

from service.auth import Principal, Role
from service.context import Services
from service.domain.access import participant_for
from service.domain.audit import participant_pseudonyms
from service.domain.pages import paginate
from service.errors import ValidationFailedError
from service.models import (
    Approval,
    AuditEntry,
    CandidateRef,
    Consent,
    MonitoringAttributes,
    Outcome,
    Override,
    Participant,
    PseudonymKey,
    Release,
)
from service.resolution import Resolver, unresolved_inputs
from service.schemas import ParticipantIn, ParticipantPatch

__all__ = [
    "apply_participant_input",
    "create_participant",
    "delete_participant",
    "erase_participant",
    "export_participant",
    "get_participant",
    "list_participants",
    "participant_view",
    "update_participant",
]

_REQUIRED = (
    "name",
    "home",
    "skills",
    "hours_per_week",
    "mobility",
    "availability",
    "work_permit",
    "certificates",
    "languages",
    "desired_occupations",
    "past_occupations",
    "objects_to_profiling",
    "active",
)


def participant_view(p: Participant) -> dict[str, Any]:
    """Return the JSON form of a participant as its coach (or an admin) sees it."""
    return {
        "id": p.id,
        "coach_id": p.coach_id,
        "name": p.name,
        "contact": p.contact,
        "home": {"postcode": p.postcode, "quarter": p.quarter, "lat": p.lat, "lon": p.lon},
        "skills": list(p.skills_resolved or []),
        "certificates": list(p.certificates or []),
        "languages": list(p.languages or []),
        "mobility": {
            "modes": list(p.modes or []),
            "driving_licence": list(p.driving_licence or []),
        },
        "max_commute_minutes": p.max_commute_minutes,
        "hours_per_week": {"min": p.hours_min, "max": p.hours_max},
        "availability": list(p.availability or []),
        "work_permit": p.work_permit,
        "desired_occupations": list(p.desired_occupations_resolved or []),
        "past_occupations": list(p.past_occupations_resolved or []),
        "unresolved": {
            "skills": unresolved_inputs(p.skills_resolved),
            "desired_occupations": unresolved_inputs(p.desired_occupations_resolved),
            "past_occupations": unresolved_inputs(p.past_occupations_resolved),
        },
        "objects_to_profiling": p.objects_to_profiling,
        "active": p.active,
        "consent_given": p.consent_given,
        "approved": p.approved,
        "created_at": p.created_at.isoformat() if p.created_at else None,
        "updated_at": p.updated_at.isoformat() if p.updated_at else None,
    }


def apply_participant_input(p: Participant, data: dict[str, Any], resolver: Resolver) -> None:
    """Copy validated input fields (``model_dump`` of the schema) onto ``p``.

    Skills and occupations are resolved here and stored beside the raw input.

    Raises
    ------
    ValidationFailedError
        A required field was set to null in a change.
    """
    for key in _REQUIRED:
        if key in data and data[key] is None:
            raise ValidationFailedError(f"{key}: darf nicht null sein", field=key)
    if "name" in data:
        p.name = data["name"]
    if "contact" in data:
        p.contact = data["contact"]
    if "home" in data:
        home = data["home"]
        p.postcode, p.quarter = home.get("postcode"), home.get("quarter")
        p.lat, p.lon = home.get("lat"), home.get("lon")
    if "skills" in data:
        p.skills = list(data["skills"])
        p.skills_resolved = resolver.skills(p.skills)
    if "certificates" in data:
        p.certificates = list(data["certificates"])
    if "languages" in data:
        p.languages = [
            {
                k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in lang.items()
                if v is not None
            }
            for lang in data["languages"]
        ]
    if "mobility" in data:
        p.modes = list(data["mobility"].get("modes", []))
        p.driving_licence = list(data["mobility"].get("driving_licence", []))
    if "max_commute_minutes" in data:
        p.max_commute_minutes = data["max_commute_minutes"]
    if "hours_per_week" in data:
        p.hours_min = data["hours_per_week"]["min"]
        p.hours_max = data["hours_per_week"]["max"]
    if "availability" in data:
        p.availability = list(data["availability"])
    if "work_permit" in data:
        p.work_permit = data["work_permit"]
    if "desired_occupations" in data:
        p.desired_occupations = list(data["desired_occupations"])
        p.desired_occupations_resolved = resolver.occupations(p.desired_occupations)
    if "past_occupations" in data:
        p.past_occupations = list(data["past_occupations"])
        p.past_occupations_resolved = resolver.occupations(p.past_occupations)
    if "objects_to_profiling" in data:
        p.objects_to_profiling = data["objects_to_profiling"]
    if "active" in data:
        p.active = data["active"]


def create_participant(
    session: Session, services: Services, user: Principal, body: ParticipantIn
) -> dict[str, Any]:
    """Create a participant owned by the signed-in coach (unassigned if an admin creates it)."""
    p = Participant(coach_id=user.id if user.role is Role.COACH else None)
    apply_participant_input(p, body.model_dump(), services.resolver)
    session.add(p)
    session.flush()
    participant_pseudonyms(session, [p.id])  # the key exists before anything is audited
    services.index.write(session, participants=[p])
    return participant_view(p)


def get_participant(session: Session, user: Principal, participant_id: int) -> dict[str, Any]:
    """Return one participant."""
    return participant_view(participant_for(session, user, participant_id))


def list_participants(
    session: Session, user: Principal, *, limit: int, offset: int
) -> dict[str, Any]:
    """List the coach's participants (all for an admin), by id."""
    statement = select(Participant).order_by(Participant.id)
    if user.role is Role.COACH:
        statement = statement.where(Participant.coach_id == user.id)
    return paginate(session, statement, limit=limit, offset=offset, convert=participant_view)


def update_participant(
    session: Session,
    services: Services,
    user: Principal,
    participant_id: int,
    body: ParticipantPatch,
) -> dict[str, Any]:
    """Change a participant; the index is updated before the commit."""
    p = participant_for(session, user, participant_id)
    apply_participant_input(p, body.model_dump(exclude_unset=True), services.resolver)
    if p.hours_min > p.hours_max:
        raise ValidationFailedError(
            "hours_per_week: min darf max nicht übersteigen", field="hours_per_week"
        )
    services.index.write(session, participants=[p])
    return participant_view(p)


def delete_participant(
    session: Session, services: Services, user: Principal, participant_id: int
) -> None:
    """Erase a participant's personal data everywhere and destroy their pseudonym key.

    The audit log is not touched, except for the entry recording the erasure (written
    while the key still exists); afterwards no entry can be linked to the person.
    """
    erase_participant(
        session, services, participant_for(session, user, participant_id), actor_id=user.id
    )


def erase_participant(
    session: Session, services: Services, p: Participant, *, actor_id: int | None
) -> None:
    """Erase one participant as :func:`delete_participant` does (``None``: the system)."""
    participant_id = p.id
    services.audit().append(
        session, actor_id=actor_id, action="participant_erased", participant_ids=[p.id]
    )
    for model in (Release, Override, Consent, Approval, Outcome, CandidateRef):
        session.execute(delete(model).where(model.participant_id == p.id))
    session.execute(delete(MonitoringAttributes).where(MonitoringAttributes.participant_id == p.id))
    session.execute(delete(PseudonymKey).where(PseudonymKey.participant_id == p.id))
    session.delete(p)
    services.index.write(session, removed_participants=[participant_id])


def _rows(
    session: Session, model: Any, participant_id: int, exclude: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    out = []
    for row in session.scalars(select(model).where(model.participant_id == participant_id)):
        out.append(
            {
                c.key: (v.isoformat() if hasattr(v, "isoformat") else v)
                for c in model.__table__.columns
                if c.key not in exclude
                for v in [getattr(row, c.key)]
            }
        )
    return out


def export_participant(
    session: Session, services: Services, user: Principal, participant_id: int
) -> dict[str, Any]:
    """Return everything stored about a participant (GDPR Art. 15 and 20)."""
    p = participant_for(session, user, participant_id)
    pseudonym = participant_pseudonyms(session, [p.id], create=False).get(p.id)
    audit: list[dict[str, Any]] = []
    if pseudonym is not None:
        entries = session.scalars(
            select(AuditEntry)
            .where(cast(AuditEntry.participants, String).contains(pseudonym))
            .order_by(AuditEntry.seq)
        )
        audit = [
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "action": e.action,
                "model_version": e.model_version,
                "payload": e.payload,
            }
            for e in entries
        ]
    return {
        "participant": participant_view(p),
        "raw_input": {
            "skills": list(p.skills or []),
            "desired_occupations": list(p.desired_occupations or []),
            "past_occupations": list(p.past_occupations or []),
        },
        "consents": _rows(session, Consent, p.id),
        "approvals": _rows(session, Approval, p.id),
        "overrides": _rows(session, Override, p.id),
        "releases": _rows(session, Release, p.id),
        "candidate_refs": _rows(session, CandidateRef, p.id),
        "outcomes": _rows(session, Outcome, p.id),
        "monitoring_attributes": _rows(session, MonitoringAttributes, p.id),
        "pseudonym": pseudonym,
        "audit_entries": audit,
    }
