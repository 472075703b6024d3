"""``/participants`` routes: records, consent, approval, overrides, export, erasure."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from service.auth import CurrentUser, DbSession
from service.context import Svc
from service.domain import consent, overrides
from service.domain import participants as domain
from service.routes.params import Paging, PathId
from service.schemas import (
    ApprovalIn,
    ConsentIn,
    MonitoringIn,
    OverrideIn,
    ParticipantIn,
    ParticipantPatch,
)

__all__ = ["router"]

router = APIRouter(prefix="/participants", tags=["participants"])


@router.post("", status_code=201)
def create_participant(
    body: ParticipantIn, user: CurrentUser, session: DbSession, services: Svc
) -> dict[str, Any]:
    """Create a participant; the signed-in coach owns it."""
    return domain.create_participant(session, services, user, body)


@router.get("")
def list_participants(page: Paging, user: CurrentUser, session: DbSession) -> dict[str, Any]:
    """List the coach's participants (all for an admin)."""
    return domain.list_participants(session, user, limit=page.limit, offset=page.offset)


@router.get("/{participant_id}")
def get_participant(
    participant_id: PathId, user: CurrentUser, session: DbSession
) -> dict[str, Any]:
    """Read a participant."""
    return domain.get_participant(session, user, participant_id)


@router.patch("/{participant_id}")
def update_participant(
    participant_id: PathId,
    body: ParticipantPatch,
    user: CurrentUser,
    session: DbSession,
    services: Svc,
) -> dict[str, Any]:
    """Change a participant."""
    return domain.update_participant(session, services, user, participant_id, body)


@router.delete("/{participant_id}", status_code=204)
def delete_participant(
    participant_id: PathId, user: CurrentUser, session: DbSession, services: Svc
) -> Response:
    """Erase a participant's personal data everywhere (the audit log keeps pseudonyms)."""
    domain.delete_participant(session, services, user, participant_id)
    return Response(status_code=204)


@router.get("/{participant_id}/export")
def export_participant(
    participant_id: PathId, user: CurrentUser, session: DbSession, services: Svc
) -> dict[str, Any]:
    """Everything stored about a participant."""
    return domain.export_participant(session, services, user, participant_id)


@router.post("/{participant_id}/consent", status_code=201)
def record_consent(
    participant_id: PathId, body: ConsentIn, user: CurrentUser, session: DbSession, services: Svc
) -> dict[str, Any]:
    """Record consent to be shown to employers, or its withdrawal."""
    return consent.record_consent(session, services, user, participant_id, body)


@router.post("/{participant_id}/approval", status_code=201)
def record_approval(
    participant_id: PathId, body: ApprovalIn, user: CurrentUser, session: DbSession, services: Svc
) -> dict[str, Any]:
    """Approve the participant for employers' shortlists, or withdraw the approval."""
    return consent.record_approval(session, services, user, participant_id, body)


@router.put("/{participant_id}/monitoring")
def set_monitoring(
    participant_id: PathId, body: MonitoringIn, user: CurrentUser, session: DbSession
) -> dict[str, Any]:
    """Store optional fairness-monitoring attributes (never used for scoring)."""
    return consent.set_monitoring(session, user, participant_id, body)


@router.post("/{participant_id}/overrides", status_code=201)
def create_override(
    participant_id: PathId, body: OverrideIn, user: CurrentUser, session: DbSession, services: Svc
) -> dict[str, Any]:
    """Override one hard filter for one vacancy, with a reason."""
    return overrides.create_override(session, services, user, participant_id, body)


@router.get("/{participant_id}/overrides")
def list_overrides(participant_id: PathId, user: CurrentUser, session: DbSession) -> dict[str, Any]:
    """List the participant's overrides."""
    return overrides.list_overrides(session, user, participant_id)
