"""Admin and analyst routes: caseload hand-over, audit log, who am I."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, UploadFile
from sqlalchemy import select

from service.auth import CurrentUser, DbSession
from service.context import Svc
from service.domain.audit import verify_chain
from service.domain.caseloads import transfer_caseload as transfer
from service.domain.imports import import_rows, read_table
from service.models import AuditEntry
from service.routes.params import Paging
from service.schemas import MAX_ID, CaseloadIn

__all__ = ["router"]

router = APIRouter(tags=["admin"])


@router.post("/admin/caseloads")
def transfer_caseload(
    body: CaseloadIn, user: CurrentUser, session: DbSession, services: Svc
) -> dict[str, Any]:
    """Hand a coach's participants (all, or the listed ones) to another coach."""
    return transfer(session, services, user, body)


@router.post("/admin/imports/{kind}")
def import_file(
    kind: Literal["participants", "vacancies"],
    file: UploadFile,
    user: CurrentUser,
    session: DbSession,
    services: Svc,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Import participants or vacancies from CSV or XLSX: all or nothing, with a
    row-level error report; a dry run stores nothing."""
    rows = read_table(file.file.read(), file.filename or "upload.csv")
    return import_rows(session, services, kind=kind, rows=rows, dry_run=dry_run, actor_id=user.id)


@router.get("/audit")
def list_audit(
    page: Paging,
    user: CurrentUser,
    session: DbSession,
    after_seq: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> dict[str, Any]:
    """Audit entries after ``after_seq`` (pseudonymous), oldest first."""
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.seq > after_seq)
        .order_by(AuditEntry.seq)
        .limit(page.limit)
    ).all()
    return {"items": [
        {"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
         "participants": e.participants, "model_version": e.model_version,
         "payload": e.payload, "prev_hash": e.prev_hash, "hash": e.hash}
        for e in rows
    ]}  # fmt: skip


@router.get("/audit/verify")
def verify_audit(user: CurrentUser, session: DbSession) -> dict[str, Any]:
    """Recompute the audit log's hash chain."""
    report = verify_chain(session)
    return {"ok": report.ok, "entries": report.entries, "first_bad_seq": report.first_bad_seq}


@router.get("/me")
def whoami(user: CurrentUser) -> dict[str, Any]:
    """The signed-in user's id, role and employer."""
    return {"id": user.id, "role": user.role.value, "employer_id": user.employer_id}
