"""Retention: erase personal data past its period, prune the audit log no earlier than
six months.

A participant is past retention when their case is closed (``active`` false) and their
record has not changed for ``retention_days``; they are erased exactly as ``DELETE
/participants/{id}`` does (:func:`service.domain.participants.erase_participant`: rows
deleted, pseudonym key destroyed, one ``participant_erased`` audit record by the
system). The audit log is kept at least six months (EU AI Act Art. 19 and 26); audit
records older than ``audit_retention_days`` (never fewer than 183 days) may be pruned
from the start of the chain, after the whole chain has been verified, and the last
pruned record's sequence number and hash are kept as the anchor from which
:func:`service.domain.audit.verify_chain` continues.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.context import Services
from service.domain.audit import AUDIT_ANCHOR, verify_chain
from service.domain.participants import erase_participant
from service.errors import ConflictError, ValidationFailedError
from service.models import AuditEntry, Participant, ServiceSecret, utcnow

__all__ = [
    "AUDIT_MINIMUM_DAYS",
    "RetentionReport",
    "participants_past_retention",
    "prune_audit",
    "run_retention",
]

#: The audit log is kept at least this long (six months).
AUDIT_MINIMUM_DAYS = 183


@dataclass(frozen=True)
class RetentionReport:
    """What :func:`run_retention` erased and pruned (or would, on a dry run)."""

    dry_run: bool
    participant_cutoff: dt.datetime
    participants: list[int] = field(default_factory=list)
    audit_cutoff: dt.datetime | None = None
    audit_records: int = 0


def participants_past_retention(session: Session, cutoff: dt.datetime) -> list[int]:
    """Return the ids of closed participants unchanged since before ``cutoff``."""
    rows = session.scalars(
        select(Participant.id)
        .where(Participant.active.is_(False), Participant.updated_at < cutoff)
        .order_by(Participant.id)
    )
    return list(rows)


def prune_audit(session: Session, cutoff: dt.datetime, *, now: dt.datetime, dry_run: bool) -> int:
    """Delete the audit records older than ``cutoff`` from the start of the chain.

    Only the unbroken run of old records at the start goes (a record older than the
    cutoff behind a younger one stays). Returns the number of records pruned.

    Raises
    ------
    ValidationFailedError
        ``cutoff`` is less than six months before ``now``.
    ConflictError
        The chain does not verify: nothing is pruned, so that the evidence stays.
    """
    if cutoff > now - dt.timedelta(days=AUDIT_MINIMUM_DAYS):
        raise ValidationFailedError(
            f"Audit-Einträge werden mindestens {AUDIT_MINIMUM_DAYS} Tage aufbewahrt",
            field="audit_retention_days",
        )
    report = verify_chain(session)
    if not report.ok:
        raise ConflictError(
            f"Die Kette des Audit-Protokolls ist bei Eintrag {report.first_bad_seq} "
            "unterbrochen; es wird nichts gelöscht"
        )
    first_young = session.scalar(select(func.min(AuditEntry.seq)).where(AuditEntry.at >= cutoff))
    last = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)
    if first_young is not None:
        last = last.where(AuditEntry.seq < first_young)
    newest_old = session.scalar(last)
    if newest_old is None:
        return 0
    count = session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.seq <= newest_old.seq)
    )
    if dry_run:
        return int(count or 0)
    anchor = f"{newest_old.seq}:{newest_old.hash}"
    stored = session.get(ServiceSecret, AUDIT_ANCHOR)
    if stored is None:
        session.add(ServiceSecret(name=AUDIT_ANCHOR, value=anchor))
    else:
        stored.value = anchor
    session.execute(delete(AuditEntry).where(AuditEntry.seq <= newest_old.seq))
    session.commit()
    return int(count or 0)


def run_retention(
    session: Session,
    services: Services,
    *,
    retention_days: int,
    audit_retention_days: int | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> RetentionReport:
    """Erase the participants past retention and prune old audit records.

    Each participant is erased (and committed) on their own, so an interrupted run
    loses nothing and the next run carries on.
    """
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=retention_days)
    audit_cutoff = None
    pruned = 0
    if audit_retention_days is not None:
        audit_cutoff = now - dt.timedelta(days=audit_retention_days)
        pruned = prune_audit(session, audit_cutoff, now=now, dry_run=dry_run)
    due = participants_past_retention(session, cutoff)
    session.rollback()
    if not dry_run:
        for participant_id in due:
            participant = session.get(Participant, participant_id)
            if participant is not None:
                erase_participant(session, services, participant, actor_id=None)
    return RetentionReport(dry_run, cutoff, due, audit_cutoff, pruned)
