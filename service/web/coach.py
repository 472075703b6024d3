"""The coach's pages: participants, their ranked vacancies, and every decision about them."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from matching.errors import MatchingError
from matching.schema import REASONS
from service.auth import DbSession, Role
from service.context import Svc
from service.domain.access import participant_for
from service.domain.consent import consent_history, record_approval, record_consent
from service.domain.guidance import participant_next_steps
from service.domain.outcomes import create_outcome
from service.domain.overrides import create_override, list_overrides
from service.domain.participants import (
    create_participant,
    participant_view,
    update_participant,
)
from service.domain.recommendations import participant_matches
from service.domain.releases import create_release
from service.errors import ServiceError, ValidationFailedError
from service.models import Employer, Outcome, Participant, Release, Vacancy
from service.schemas import (
    OVERRIDABLE_REASONS,
    ApprovalIn,
    ConsentIn,
    OutcomeIn,
    OverrideIn,
    ParticipantIn,
    ParticipantPatch,
    ReleaseIn,
)
from service.web.forms import FormResult, german_errors, participant_form, participant_values
from service.web.labels import NOTICE_VERSION
from service.web.quarters import quarter_names
from service.web.rendering import page_url, render
from service.web.route import PageRoute, german_detail
from service.web.security import CheckedForm, WebUser, require_role

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CoachUser = Annotated[WebUser, require_role(Role.COACH)]
PAGE_SIZE: Final = 50
#: Next steps shown on a participant's page.
STEPS_SHOWN: Final = 5


def _back(request: Request, participant_id: int, done: str, anchor: str = "") -> Response:
    url = page_url(request, "participant_page", participant_id=participant_id)
    target = str(url.include_query_params(done=done)) + (f"#{anchor}" if anchor else "")
    return RedirectResponse(target, status_code=303)


def _int(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@router.get("/web/coach", name="coach_home")
def coach_home(
    request: Request,
    user: CoachUser,
    session: DbSession,
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """The coach's participants, with a search by name, postcode or quarter."""
    statement = select(Participant).where(Participant.coach_id == user.principal.id)
    query = q.strip()
    if query:
        pattern = f"%{_escape_like(query)}%"
        statement = statement.where(
            or_(
                Participant.name.ilike(pattern, escape="\\"),
                Participant.postcode.ilike(pattern, escape="\\"),
                Participant.quarter.ilike(pattern, escape="\\"),
            )
        )
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.scalars(
        statement.order_by(Participant.name, Participant.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    context = {
        "title": "Meine Teilnehmenden",
        "participants": rows,
        "q": query,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
    }
    return render(request, "coach_home.html", context, user=user)


def _form_page(
    request: Request,
    user: WebUser,
    result: FormResult | None,
    values: dict[str, Any],
    *,
    participant_id: int | None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    errors = errors if errors is not None else (result.errors if result else {})
    context = {
        "title": "Teilnehmende:n bearbeiten" if participant_id else "Neue:r Teilnehmende:r",
        "values": values,
        "errors": errors,
        "participant_id": participant_id,
        "quarters": quarter_names(),
        "notice_version": NOTICE_VERSION,
    }
    return render(request, "participant_form.html", context, status_code=status_code, user=user)


def _empty_values() -> dict[str, Any]:
    return {
        "name": "", "contact": "", "postcode": "", "quarter": "", "lat": None, "lon": None,
        "skills": [],
        "skills_text": "", "certificates": "",
        "languages": [{"language": "de"}, {}, {}, {}],
        "modes": ["walk", "transit"], "driving_licence": "", "max_commute_minutes": "",
        "hours_min": "", "hours_max": "", "availability": ["day"], "work_permit": "unknown",
        "desired_occupations": "", "past_occupations": "", "objects_to_profiling": False,
        "active": True, "consent": False,
    }  # fmt: skip


@router.get("/web/coach/participants/new", name="participant_new")
def participant_new(request: Request, user: CoachUser) -> Response:
    """The form for a new participant."""
    return _form_page(request, user, None, _empty_values(), participant_id=None)


def _save_error(exc: Exception) -> dict[str, str]:
    if isinstance(exc, ValidationError):
        return german_errors(exc)
    field = getattr(exc, "field", None) or "form"
    if field in ("home", "location", "postcode", "quarter", "lat", "lon"):
        field = "postcode"
    return {field: german_detail(exc)}


@router.post("/web/coach/participants", name="participant_create")
def participant_create(
    request: Request, user: CoachUser, form: CheckedForm, session: DbSession, services: Svc
) -> Response:
    """Create a participant (and record consent when it was given with the form)."""
    result = participant_form(form, services.taxonomy, new=True)
    if not result.ok:
        return _form_page(request, user, result, result.values, participant_id=None,
                          status_code=422)  # fmt: skip
    try:
        created = create_participant(
            session, services, user.principal, ParticipantIn.model_validate(result.data)
        )
    except (ServiceError, MatchingError, ValidationError) as exc:
        session.rollback()
        return _form_page(request, user, result, result.values, participant_id=None,
                          errors=_save_error(exc), status_code=422)  # fmt: skip
    if result.values["consent"]:
        record_consent(session, services, user.principal, created["id"],
                       ConsentIn(given=True, notice_version=NOTICE_VERSION))  # fmt: skip
    return _back(request, created["id"], "created")


@router.get("/web/coach/participants/{participant_id}/edit", name="participant_edit")
def participant_edit(
    request: Request, participant_id: int, user: CoachUser, session: DbSession, services: Svc
) -> Response:
    """The form to change a participant."""
    view = participant_view(participant_for(session, user.principal, participant_id))
    values = participant_values(view, services.taxonomy)
    return _form_page(request, user, None, values, participant_id=participant_id)


@router.post("/web/coach/participants/{participant_id}/edit", name="participant_update")
def participant_update(
    request: Request,
    participant_id: int,
    user: CoachUser,
    form: CheckedForm,
    session: DbSession,
    services: Svc,
) -> Response:
    """Save the changes to a participant."""
    participant_for(session, user.principal, participant_id)
    result = participant_form(form, services.taxonomy, new=False)
    if not result.ok:
        return _form_page(request, user, result, result.values, participant_id=participant_id,
                          status_code=422)  # fmt: skip
    try:
        update_participant(session, services, user.principal, participant_id,
                           ParticipantPatch.model_validate(result.data))  # fmt: skip
    except (ServiceError, MatchingError, ValidationError) as exc:
        session.rollback()
        return _form_page(request, user, result, result.values, participant_id=participant_id,
                          errors=_save_error(exc), status_code=422)  # fmt: skip
    return _back(request, participant_id, "saved")


def _vacancy_facts(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = session.execute(
        select(
            Vacancy.id, Vacancy.title, Vacancy.postcode, Vacancy.quarter, Vacancy.hours_per_week,
            Vacancy.openings, Vacancy.start_date, Vacancy.employer_id,
            Employer.name.label("employer"),
        )
        .join(Employer, Employer.id == Vacancy.employer_id)
        .where(Vacancy.id.in_(ids))
    ).all()  # fmt: skip
    return {row.id: row._asdict() for row in rows}


def _excluded_groups(result: dict[str, Any]) -> list[dict[str, Any]]:
    by_reason: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in result["excluded"]:
        for reason in entry["reasons"]:
            by_reason[reason].append(entry)
    counts = result["excluded_counts"]
    return [
        {"reason": reason, "count": counts[reason], "listed": by_reason.get(reason, [])}
        for reason in REASONS
        if counts.get(reason)
    ]


@router.get("/web/coach/participants/{participant_id}", name="participant_page")
def participant_page(
    request: Request,
    participant_id: int,
    user: CoachUser,
    session: DbSession,
    services: Svc,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    """A participant: profile, decisions, ranked vacancies with reasons, the next steps that
    would open the most vacancies, what was left out."""
    p = participant_for(session, user.principal, participant_id)
    view = participant_view(p)
    releases = {
        row.vacancy_id: row.released_at
        for row in session.execute(
            select(Release.vacancy_id, Release.released_at).where(
                Release.participant_id == participant_id
            )
        )
    }
    outcomes: dict[int | None, Any] = {}
    for row in session.execute(
        select(Outcome.vacancy_id, Outcome.status, Outcome.recorded_at)
        .where(Outcome.participant_id == participant_id)
        .order_by(Outcome.id)
    ):
        outcomes[row.vacancy_id] = row
    overrides = list_overrides(session, user.principal, participant_id)["items"]
    consents = consent_history(session, participant_id)
    matches: dict[str, Any] | None = None
    steps: dict[str, Any] | None = None
    groups: list[dict[str, Any]] = []
    if view["active"]:
        matches = participant_matches(
            session, services, user.principal, participant_id, limit=limit
        )
        groups = _excluded_groups(matches)
        steps = participant_next_steps(
            session, services, user.principal, participant_id, limit=STEPS_SHOWN
        )
    ids = []
    if matches is not None:
        ids = [i["vacancy_id"] for i in matches["items"]]
        ids += [e["vacancy_id"] for e in matches["excluded"]]
    if steps is not None:
        ids += [v for step in steps["items"] for v in step["vacancy_ids"]]
    ids += [o["vacancy_id"] for o in overrides]
    context = {
        "title": view["name"],
        "p": view,
        "matches": matches,
        "steps": steps,
        "groups": groups,
        "vacancies": _vacancy_facts(session, sorted(set(ids))),
        "releases": releases,
        "outcomes": outcomes,
        "overrides": overrides,
        "consents": consents,
        "overridable": set(OVERRIDABLE_REASONS),
        "limit": limit,
        "notice_version": NOTICE_VERSION,
        "skill_labels": [s.get("label_de") or s.get("label_en") or s["input"]
                         for s in view["skills"]],
    }  # fmt: skip
    return render(request, "participant.html", context, user=user)


@router.post("/web/coach/participants/{participant_id}/outcomes", name="participant_outcome")
def participant_outcome(
    request: Request,
    participant_id: int,
    user: CoachUser,
    form: CheckedForm,
    session: DbSession,
    services: Svc,
) -> Response:
    """Record what happened with one vacancy."""
    vacancy_id = _int(form.get("vacancy_id"))
    reason = str(form.get("reason") or "").strip() or None
    body = _validated(OutcomeIn, {"vacancy_id": vacancy_id, "participant_id": participant_id,
                                  "status": form.get("status"), "reason": reason})  # fmt: skip
    create_outcome(session, services, user.principal, body)
    return _back(request, participant_id, "outcome", f"v{vacancy_id}")


@router.post("/web/coach/participants/{participant_id}/releases", name="participant_release")
def participant_release(
    request: Request,
    participant_id: int,
    user: CoachUser,
    form: CheckedForm,
    session: DbSession,
    services: Svc,
) -> Response:
    """Release the participant's name and contact to the vacancy's employer."""
    vacancy_id = _int(form.get("vacancy_id"))
    if vacancy_id is None:
        raise _invalid("Bitte eine Stelle wählen.")
    create_release(session, services, user.principal, vacancy_id,
                   ReleaseIn(participant_id=participant_id))  # fmt: skip
    return _back(request, participant_id, "release", f"v{vacancy_id}")


@router.post("/web/coach/participants/{participant_id}/consent", name="participant_consent")
def participant_consent(
    request: Request,
    participant_id: int,
    user: CoachUser,
    form: CheckedForm,
    session: DbSession,
    services: Svc,
) -> Response:
    """Record the participant's consent to be shown to employers, or its withdrawal."""
    given = form.get("given") == "yes"
    record_consent(session, services, user.principal, participant_id,
                   ConsentIn(given=given, notice_version=NOTICE_VERSION))  # fmt: skip
    return _back(request, participant_id, "consent_given" if given else "consent_withdrawn",
                 "decisions")  # fmt: skip


@router.post("/web/coach/participants/{participant_id}/approval", name="participant_approval")
def participant_approval(
    request: Request,
    participant_id: int,
    user: CoachUser,
    form: CheckedForm,
    session: DbSession,
    services: Svc,
) -> Response:
    """Approve the participant for employers' shortlists, or withdraw the approval."""
    approved = form.get("approved") == "yes"
    record_approval(session, services, user.principal, participant_id,
                    ApprovalIn(approved=approved))  # fmt: skip
    return _back(request, participant_id, "approved" if approved else "unapproved",
                 "decisions")  # fmt: skip


@router.post("/web/coach/participants/{participant_id}/objection", name="participant_objection")
def participant_objection(
    request: Request,
    participant_id: int,
    user: CoachUser,
    form: CheckedForm,
    session: DbSession,
    services: Svc,
) -> Response:
    """Mark (or lift) the participant's objection to profiling (GDPR Art. 21)."""
    objects = form.get("objects") == "yes"
    update_participant(session, services, user.principal, participant_id,
                       ParticipantPatch(objects_to_profiling=objects))  # fmt: skip
    return _back(request, participant_id, "objection" if objects else "no_objection",
                 "decisions")  # fmt: skip


@router.post("/web/coach/participants/{participant_id}/overrides", name="participant_override")
def participant_override(
    request: Request,
    participant_id: int,
    user: CoachUser,
    form: CheckedForm,
    session: DbSession,
    services: Svc,
) -> Response:
    """Override one hard filter for one vacancy, with the reason."""
    vacancy_id = _int(form.get("vacancy_id"))
    reason = str(form.get("reason") or "").strip()
    if not reason:
        raise _invalid("Bitte einen Grund für das Übergehen des Filters angeben.")
    body = _validated(OverrideIn, {"vacancy_id": vacancy_id, "reason": reason,
                                   "reason_code": form.get("reason_code")})  # fmt: skip
    create_override(session, services, user.principal, participant_id, body)
    return _back(request, participant_id, "override", "left-out")


_FIELD_LABELS_DE: Final = {
    "vacancy_id": "Stelle",
    "status": "Ergebnis",
    "reason": "Grund",
    "reason_code": "Filter",
    "participant_id": "Teilnehmende:r",
}


def _invalid(message: str) -> ServiceError:
    return ValidationFailedError(message)


def _validated(model: Any, data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data, strict=False)
    except ValidationError as exc:
        messages = "; ".join(
            f"{_FIELD_LABELS_DE.get(k, k)}: {v}" for k, v in german_errors(exc).items()
        )
        raise _invalid(f"Eingabe prüfen – {messages}") from exc
