"""The admin's pages: users and tokens, caseload hand-over, import, export and erasure."""

from __future__ import annotations

import json
import zipfile
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement
from starlette.datastructures import UploadFile

from service.auth import DbSession, Role, create_user, revoke_user
from service.context import Svc
from service.domain.caseloads import transfer_caseload
from service.domain.imports import IMPORT_KINDS, import_rows, read_table
from service.domain.participants import delete_participant, export_participant
from service.errors import ConflictError, ServiceError, ValidationFailedError
from service.models import Employer, Participant, User
from service.schemas import CaseloadIn
from service.web.messages import german_message
from service.web.rendering import SECURITY_HEADERS, page_url, render
from service.web.route import PageRoute, german_detail
from service.web.security import CheckedForm, WebUser, require_role

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

AdminUser = Annotated[WebUser, require_role(Role.ADMIN)]
PAGE_SIZE: Final = 50
_NAME_CHARS: Final = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@"


def _users(session: Session) -> list[Any]:
    return list(
        session.execute(
            select(User.id, User.name, User.role, User.created_at, User.revoked_at,
                   Employer.name.label("employer"))
            .outerjoin(Employer, Employer.id == User.employer_id)
            .order_by(User.role, User.name)
        ).all()
    )  # fmt: skip


def _admin_page(
    request: Request,
    user: WebUser,
    session: Session,
    *,
    created: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    users = _users(session)
    counts = dict(
        session.execute(
            select(Participant.coach_id, func.count()).group_by(Participant.coach_id)
        ).all()
    )
    context = {
        "title": "Verwaltung",
        "users": users,
        "coaches": [u for u in users if u.role == Role.COACH.value],
        "counts": counts,
        "employers": session.execute(
            select(Employer.id, Employer.name).order_by(Employer.name)
        ).all(),
        "created": created,
        "errors": errors or {},
    }
    return render(request, "admin_home.html", context, status_code=status_code, user=user)


@router.get("/web/admin", name="admin_home")
def admin_home(request: Request, user: AdminUser, session: DbSession) -> Response:
    """Users with their tokens' state, new users, caseload hand-over."""
    return _admin_page(request, user, session)


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


@router.post("/web/admin/users", name="admin_user_create")
def admin_user_create(
    request: Request, user: AdminUser, form: CheckedForm, session: DbSession
) -> Response:
    """Create a user and show the token once."""
    name = str(form.get("name") or "").strip()
    role = str(form.get("role") or "")
    employer_id = _int(form.get("employer_id")) if role == Role.EMPLOYER.value else None
    errors: dict[str, str] = {}
    if not name or len(name) > 100 or any(c not in _NAME_CHARS for c in name):
        errors["name"] = "Name: 1 bis 100 Zeichen aus Buchstaben, Ziffern und . _ - @"
    if role not in {r.value for r in Role}:
        errors["role"] = "Bitte eine Rolle wählen."
    elif role == Role.EMPLOYER.value and employer_id is None:
        errors["employer_id"] = "Arbeitgeber-Zugänge brauchen einen Arbeitgeber."
    if not errors:
        try:
            created, token = create_user(session, name=name, role=role, employer_id=employer_id)
        except ConflictError:
            session.rollback()
            errors["name"] = f"Es gibt schon einen Zugang namens „{name}“."
        except ServiceError as exc:
            session.rollback()
            errors["form"] = german_detail(exc)
        else:
            return _admin_page(request, user, session,
                               created={"name": created.name, "token": token})  # fmt: skip
    return _admin_page(request, user, session, errors=errors, status_code=422)


@router.post("/web/admin/users/revoke", name="admin_user_revoke")
def admin_user_revoke(
    request: Request, user: AdminUser, form: CheckedForm, session: DbSession
) -> Response:
    """Revoke a user's token (the user is signed out of the pages and the API at once)."""
    revoke_user(session, str(form.get("name") or ""))
    return RedirectResponse(
        str(page_url(request, "admin_home").include_query_params(done="revoked")), status_code=303
    )


@router.post("/web/admin/caseloads", name="admin_caseload")
def admin_caseload(
    request: Request, user: AdminUser, form: CheckedForm, session: DbSession, services: Svc
) -> Response:
    """Hand all participants of one coach to another."""
    source, target = _int(form.get("from_coach_id")), _int(form.get("to_coach_id"))
    if source is None or target is None or source == target:
        message = "Bitte zwei verschiedene Coaches wählen."
        return _admin_page(request, user, session, status_code=422, errors={"caseload": message})
    transfer_caseload(session, services, user.principal,
                      CaseloadIn(from_coach_id=source, to_coach_id=target))  # fmt: skip
    return RedirectResponse(
        str(page_url(request, "admin_home").include_query_params(done="moved")), status_code=303
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@router.get("/web/admin/participants", name="admin_participants")
def admin_participants(
    request: Request,
    user: AdminUser,
    session: DbSession,
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """All participants, for export and erasure requests."""
    coach = aliased(User)
    statement = select(Participant.id, Participant.name, Participant.postcode,
                       Participant.created_at, coach.name.label("coach")).outerjoin(
        coach, coach.id == Participant.coach_id)  # fmt: skip
    query = q.strip()
    if query:
        pattern = f"%{_escape_like(query)}%"
        conditions: list[ColumnElement[bool]] = [Participant.name.ilike(pattern, escape="\\")]
        if query.isdigit():
            conditions.append(Participant.id == int(query))
        statement = statement.where(or_(*conditions))
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.execute(
        statement.order_by(Participant.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    context = {"title": "Teilnehmende (Auskunft und Löschung)", "rows": rows, "q": query,
               "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE))}  # fmt: skip
    return render(request, "admin_participants.html", context, user=user)


@router.get("/web/admin/participants/{participant_id}/export", name="admin_export")
def admin_export(
    participant_id: int, user: AdminUser, session: DbSession, services: Svc
) -> Response:
    """Everything stored about a participant, as a JSON file (GDPR Art. 15 and 20)."""
    data = export_participant(session, services, user.principal, participant_id)
    headers = dict(SECURITY_HEADERS)
    headers["Content-Disposition"] = f'attachment; filename="teilnehmende-{participant_id}.json"'
    return Response(json.dumps(data, ensure_ascii=False, indent=2, default=str),
                    media_type="application/json", headers=headers)  # fmt: skip


@router.post("/web/admin/participants/{participant_id}/erase", name="admin_erase")
def admin_erase(
    request: Request,
    participant_id: int,
    user: AdminUser,
    form: CheckedForm,
    session: DbSession,
    services: Svc,
) -> Response:
    """Erase a participant everywhere (the audit log keeps only a dead pseudonym)."""
    if form.get("confirm") != "on":
        raise ValidationFailedError("Bitte die Löschung ausdrücklich bestätigen (Häkchen).")
    delete_participant(session, services, user.principal, participant_id)
    return RedirectResponse(
        str(page_url(request, "admin_participants").include_query_params(done="erased")),
        status_code=303,
    )


def _import_page(
    request: Request, user: WebUser, session: Session, report: dict[str, Any] | None = None,
    error: str | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    coaches = session.execute(
        select(User.name).where(User.role == Role.COACH.value, User.revoked_at.is_(None))
        .order_by(User.name)
    ).scalars().all()  # fmt: skip
    context = {"title": "Import", "report": report, "error": error, "coaches": coaches,
               "kinds": IMPORT_KINDS}  # fmt: skip
    return render(request, "admin_import.html", context, status_code=status_code, user=user)


@router.get("/web/admin/import", name="admin_import")
def admin_import(request: Request, user: AdminUser, session: DbSession) -> Response:
    """Upload a CSV or XLSX file of participants or vacancies."""
    return _import_page(request, user, session)


@router.post("/web/admin/import", name="admin_import_run")
def admin_import_run(
    request: Request, user: AdminUser, form: CheckedForm, session: DbSession, services: Svc
) -> Response:
    """Check (dry run) or import a file; the report lists every row error."""
    upload = form.get("file")
    kind = str(form.get("kind") or "")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _import_page(request, user, session, error="Bitte eine Datei wählen.",
                            status_code=422)  # fmt: skip
    if kind not in IMPORT_KINDS:
        return _import_page(request, user, session, error="Bitte die Art der Daten wählen.",
                            status_code=422)  # fmt: skip
    coach = str(form.get("coach") or "") or None
    try:
        rows = read_table(upload.file.read(), upload.filename)
    except (ValidationFailedError, zipfile.BadZipFile):
        # read_table does not wrap a damaged XLSX (BadZipFile) in its own error yet.
        message = "Die Datei lässt sich nicht lesen (CSV in UTF-8 oder XLSX)."
        return _import_page(request, user, session, status_code=422, error=message)
    report = import_rows(session, services, kind=kind, rows=rows,
                         dry_run=form.get("dry_run") == "on",
                         coach_name=coach if kind == "participants" else None,
                         actor_id=user.principal.id)  # fmt: skip
    for error in report["errors"]:
        error["message"] = german_message(str(error.get("message") or ""))
    return _import_page(request, user, session, report=report)
