"""Consent to be shown to employers, coach approval, and monitoring attributes.

A participant enters employers' shortlists only while both their newest consent and
their coach's newest approval say yes. Each decision is kept as history and audited;
the participant row carries the decision in force for the scoring index.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth import Principal
from service.context import Services
from service.domain.access import participant_for
from service.models import Approval, Consent, MonitoringAttributes, utcnow
from service.schemas import ApprovalIn, ConsentIn, MonitoringIn

__all__ = ["consent_history", "record_approval", "record_consent", "set_monitoring"]


def consent_history(session: Session, participant_id: int) -> list[dict[str, Any]]:
    """Return the participant's consent decisions, newest first."""
    rows = session.scalars(
        select(Consent).where(Consent.participant_id == participant_id).order_by(Consent.id.desc())
    )
    return [
        {
            "given": c.given,
            "notice_version": c.notice_version,
            "recorded_at": c.recorded_at.isoformat(),
            "recorded_by": c.recorded_by,
        }
        for c in rows
    ]


def record_consent(
    session: Session, services: Services, user: Principal, participant_id: int, body: ConsentIn
) -> dict[str, Any]:
    """Record consent (or its withdrawal); a withdrawal leaves every shortlist at once."""
    p = participant_for(session, user, participant_id)
    consent = Consent(
        participant_id=p.id,
        given=body.given,
        notice_version=body.notice_version,
        recorded_at=utcnow(),
        recorded_by=user.id,
    )
    session.add(consent)
    p.consent_given = body.given
    services.audit().append(
        session,
        actor_id=user.id,
        action="consent_given" if body.given else "consent_withdrawn",
        participant_ids=[p.id],
        payload={"notice_version": body.notice_version},
    )
    services.index.write(session, participants=[p])
    return {
        "participant_id": p.id,
        "given": consent.given,
        "notice_version": consent.notice_version,
        "recorded_at": consent.recorded_at.isoformat(),
        "recorded_by": consent.recorded_by,
        "shown_to_employers": p.consent_given and p.approved and not p.objects_to_profiling,
    }


def record_approval(
    session: Session, services: Services, user: Principal, participant_id: int, body: ApprovalIn
) -> dict[str, Any]:
    """Record the coach's approval for employers' shortlists (or its withdrawal)."""
    p = participant_for(session, user, participant_id)
    approval = Approval(
        participant_id=p.id, approved=body.approved, recorded_at=utcnow(), recorded_by=user.id
    )
    session.add(approval)
    p.approved = body.approved
    services.audit().append(
        session,
        actor_id=user.id,
        action="approval_given" if body.approved else "approval_withdrawn",
        participant_ids=[p.id],
    )
    services.index.write(session, participants=[p])
    return {
        "participant_id": p.id,
        "approved": approval.approved,
        "recorded_at": approval.recorded_at.isoformat(),
        "recorded_by": approval.recorded_by,
        "shown_to_employers": p.consent_given and p.approved and not p.objects_to_profiling,
    }


def set_monitoring(
    session: Session, user: Principal, participant_id: int, body: MonitoringIn
) -> dict[str, Any]:
    """Store (or, without consent, clear) the optional fairness-monitoring attributes.

    These attributes are never read by scoring; they feed aggregate audits only.
    """
    p = participant_for(session, user, participant_id)
    row = session.get(MonitoringAttributes, p.id) or MonitoringAttributes(participant_id=p.id)
    row.consent_given = body.consent_given
    row.consent_recorded_at = utcnow()
    values = body.model_dump(exclude={"consent_given"})
    for key, value in values.items():
        setattr(row, key, value if body.consent_given else None)
    session.add(row)
    session.commit()
    return {
        "participant_id": p.id,
        "consent_given": row.consent_given,
        **{k: getattr(row, k) for k in values},
    }
