"""SQLAlchemy 2 ORM models: the service's whole schema.

Personal data (names, contacts, free text) lives only in ``participants``, ``overrides``
(reason text) and ``outcomes`` (reason text) and is erased with the participant. The
audit log refers to people only through keyed pseudonyms.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Approval",
    "AuditEntry",
    "AuditHead",
    "Base",
    "CandidateRef",
    "Consent",
    "Employer",
    "IndexChange",
    "ModelActivation",
    "MonitoringAttributes",
    "Outcome",
    "Override",
    "Participant",
    "PseudonymKey",
    "Release",
    "ServiceSecret",
    "User",
    "UtcDateTime",
    "Vacancy",
    "utcnow",
]


def utcnow() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of all tables."""


class Employer(Base):
    """A firm offering vacancies."""

    __tablename__ = "employers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(5))
    size_class: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class User(Base):
    """A person signing in with a bearer token."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    employer_id: Mapped[int | None] = mapped_column(
        ForeignKey("employers.id", ondelete="RESTRICT"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class Vacancy(Base):
    """A vacancy with its requirements; skills and occupation keep input and resolution."""

    __tablename__ = "vacancies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employer_id: Mapped[int] = mapped_column(
        ForeignKey("employers.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    occupation: Mapped[str | None] = mapped_column(String(500))
    occupation_resolved: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    skills: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    skills_resolved: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    certificates_required: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    postcode: Mapped[str | None] = mapped_column(String(5))
    quarter: Mapped[str | None] = mapped_column(String(100))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    hours_per_week: Mapped[float] = mapped_column(Float)
    days_per_week: Mapped[int] = mapped_column(Integer, default=5)
    shifts: Mapped[list[str]] = mapped_column(JSON, default=list)
    driving_licence_required: Mapped[str | None] = mapped_column(String(5))
    work_permit_required: Mapped[bool] = mapped_column(Boolean, default=True)
    openings: Mapped[int] = mapped_column(Integer, default=1)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Participant(Base):
    """A programme participant: personal data, profile, resolved concepts, owning coach."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    coach_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(500))
    postcode: Mapped[str | None] = mapped_column(String(5))
    quarter: Mapped[str | None] = mapped_column(String(100))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills_resolved: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    certificates: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    modes: Mapped[list[str]] = mapped_column(JSON, default=list)
    driving_licence: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_commute_minutes: Mapped[float | None] = mapped_column(Float)
    hours_min: Mapped[float] = mapped_column(Float)
    hours_max: Mapped[float] = mapped_column(Float)
    availability: Mapped[list[str]] = mapped_column(JSON, default=list)
    work_permit: Mapped[str] = mapped_column(String(12), default="unknown")
    desired_occupations: Mapped[list[str]] = mapped_column(JSON, default=list)
    desired_occupations_resolved: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    past_occupations: Mapped[list[str]] = mapped_column(JSON, default=list)
    past_occupations_resolved: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    objects_to_profiling: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    consent_given: Mapped[bool] = mapped_column(Boolean, default=False)
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Consent(Base):
    """One recorded consent decision (history; the newest row is in force)."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    given: Mapped[bool] = mapped_column(Boolean)
    notice_version: Mapped[str] = mapped_column(String(50))
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Approval(Base):
    """One coach approval decision (history; the newest row is in force)."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    approved: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Override(Base):
    """A coach's override of one hard filter for one participant and one vacancy."""

    __tablename__ = "overrides"
    __table_args__ = (UniqueConstraint("participant_id", "vacancy_id", "reason_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    vacancy_id: Mapped[int] = mapped_column(
        ForeignKey("vacancies.id", ondelete="CASCADE"), index=True
    )
    reason_code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Release(Base):
    """A coach's release of one participant's identity to one employer."""

    __tablename__ = "releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    employer_id: Mapped[int] = mapped_column(
        ForeignKey("employers.id", ondelete="CASCADE"), index=True
    )
    vacancy_id: Mapped[int | None] = mapped_column(ForeignKey("vacancies.id", ondelete="SET NULL"))
    released_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    released_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    seen_by_employer_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class CandidateRef(Base):
    """The random reference under which an employer sees a participant."""

    __tablename__ = "candidate_refs"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    employer_id: Mapped[int] = mapped_column(
        ForeignKey("employers.id", ondelete="CASCADE"), primary_key=True
    )
    ref: Mapped[str] = mapped_column(String(32), unique=True)


class Outcome(Base):
    """What happened between a participant and a vacancy."""

    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    vacancy_id: Mapped[int | None] = mapped_column(
        ForeignKey("vacancies.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuditHead(Base):
    """The single row holding the audit chain's last sequence number and hash.

    Writers update this row first, which serialises appends on every database.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """One append-only, hash-chained audit record. People appear only as pseudonyms."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40), index=True)
    participants: Mapped[list[str]] = mapped_column(JSON, default=list)
    model_version: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class PseudonymKey(Base):
    """A participant's pseudonym key; deleting it makes their audit entries anonymous."""

    __tablename__ = "pseudonym_keys"

    participant_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(64))


class MonitoringAttributes(Base):
    """Optional fairness-monitoring attributes, with their own consent; never scored."""

    __tablename__ = "monitoring_attributes"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    consent_given: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_recorded_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    sex: Mapped[str | None] = mapped_column(String(20))
    age_band: Mapped[str | None] = mapped_column(String(20))
    nationality_group: Mapped[str | None] = mapped_column(String(50))
    disability: Mapped[bool | None] = mapped_column(Boolean)


class ServiceSecret(Base):
    """Secrets generated once by the service (the actors' pseudonym key)."""

    __tablename__ = "service_secrets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class ModelActivation(Base):
    """One decision about the scoring model in force (history; the newest row counts).

    ``name`` and ``version`` are None when the transparent default was switched back on.
    """

    __tablename__ = "model_activations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[str | None] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(200))
    activated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    activated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IndexChange(Base):
    """A change to scored data, so every worker's in-memory index can catch up."""

    __tablename__ = "index_changes"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


Index("ix_releases_employer_seen", Release.employer_id, Release.seen_by_employer_at)
