"""The employer's pages: its vacancies, new releases, the vacancy form and the shortlist."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from matching.errors import MatchingError
from service.auth import DbSession, Role
from service.context import Services, Svc
from service.domain.access import vacancy_for, vacancy_owned_by
from service.domain.employers import get_employer
from service.domain.guidance import vacancy_insights
from service.domain.outcomes import create_outcome
from service.domain.recommendations import vacancy_candidates
from service.domain.releases import list_releases
from service.domain.vacancies import create_vacancy, list_vacancies, update_vacancy, vacancy_view
from service.errors import ServiceError, ValidationFailedError
from service.schemas import OutcomeIn, VacancyIn, VacancyPatch
from service.web.forms import FormResult, german_errors, vacancy_form, vacancy_values
from service.web.quarters import quarter_names
from service.web.rendering import page_url, render
from service.web.route import PageRoute, german_detail
from service.web.security import CheckedForm, WebUser, require_role
from service.web.suggestions import occupation_skills

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

EmployerUser = Annotated[WebUser, require_role(Role.EMPLOYER)]


@router.get("/web/employer", name="employer_home")
def employer_home(request: Request, user: EmployerUser, session: DbSession) -> Response:
    """The employer's vacancies and the candidates newly released to it."""
    employer = get_employer(session, user.principal, user.principal.employer_id or 0)
    vacancies = list_vacancies(session, user.principal, limit=100, offset=0, status=None)
    releases = list_releases(session, user.principal, include_seen=False, limit=50)["items"]
    titles = {v["id"]: v["title"] for v in vacancies["items"]}
    context = {
        "title": employer["name"],
        "employer": employer,
        "vacancies": vacancies["items"],
        "total": vacancies["total"],
        "releases": releases,
        "titles": titles,
    }
    return render(request, "employer_home.html", context, user=user)


def _empty_values() -> dict[str, Any]:
    return {
        "title": "", "occupation": "", "occupation_uri": "", "skills": [], "skills_text": "",
        "de_level": "A2", "other_languages": [{}], "certificates_required": "",
        "postcode": "", "quarter": "", "lat": None, "lon": None,
        "hours_per_week": "", "days_per_week": "5", "shifts": ["day"],
        "driving_licence_required": "", "work_permit_required": True, "openings": "1",
        "start_date": "", "status": "open",
    }  # fmt: skip


def _form_page(
    request: Request,
    user: WebUser,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    vacancy_id: int | None,
    status_code: int = 200,
    note: str | None = None,
) -> Response:
    context = {
        "title": "Stelle bearbeiten" if vacancy_id else "Neue Stelle",
        "values": values,
        "errors": errors,
        "vacancy_id": vacancy_id,
        "quarters": quarter_names(),
        "note": note,
    }
    return render(request, "vacancy_form.html", context, status_code=status_code, user=user)


@router.get("/web/employer/vacancies/new", name="vacancy_new")
def vacancy_new(request: Request, user: EmployerUser) -> Response:
    """The form for a new vacancy."""
    return _form_page(request, user, _empty_values(), {}, vacancy_id=None)


def _prefill(form: Any, services: Services) -> tuple[list[dict[str, Any]], str | None]:
    """The chosen occupation's skills, for the no-JavaScript 'take over' button."""
    uri = str(form.get("occupation_uri") or "").strip()
    text = str(form.get("occupation") or "").strip()
    if not uri and text:
        resolved = services.resolver.occupation(text) or {}
        uri = resolved.get("uri") or ""
    if not uri:
        return [], "Bitte zuerst einen Beruf angeben, der im ESCO-Verzeichnis steht."
    try:
        skills = occupation_skills(services.taxonomy, uri)
    except MatchingError:
        return [], "Der Beruf wurde im ESCO-Verzeichnis nicht gefunden."
    return skills, f"{len(skills)} Kompetenzen des Berufs übernommen – bitte prüfen und anpassen."


def _save_error(exc: Exception) -> dict[str, str]:
    if isinstance(exc, ValidationError):
        return german_errors(exc)
    field = getattr(exc, "field", None) or "form"
    if field in ("home", "location", "lat", "lon"):
        field = "postcode"
    return {field: german_detail(exc)}


def _handle_form(
    request: Request,
    user: WebUser,
    form: Any,
    session: Session,
    services: Services,
    vacancy_id: int | None,
) -> Response:
    prefill: list[dict[str, Any]] = []
    note = None
    if form.get("action") == "prefill":
        prefill, note = _prefill(form, services)
    result: FormResult = vacancy_form(form, services.taxonomy, new=vacancy_id is None,
                                      prefill=prefill)  # fmt: skip
    if form.get("action") == "prefill":
        if result.values["occupation"] and not result.values["occupation_uri"] and prefill:
            result.values["occupation_uri"] = ""
        return _form_page(request, user, result.values, {}, vacancy_id=vacancy_id, note=note)
    if not result.ok:
        return _form_page(request, user, result.values, result.errors, vacancy_id=vacancy_id,
                          status_code=422)  # fmt: skip
    try:
        if vacancy_id is None:
            saved = create_vacancy(session, services, user.principal,
                                   VacancyIn.model_validate(result.data))  # fmt: skip
        else:
            saved = update_vacancy(session, services, user.principal, vacancy_id,
                                   VacancyPatch.model_validate(result.data))  # fmt: skip
    except (ServiceError, MatchingError, ValidationError) as exc:
        session.rollback()
        return _form_page(request, user, result.values, _save_error(exc), vacancy_id=vacancy_id,
                          status_code=422)  # fmt: skip
    url = page_url(request, "vacancy_page", vacancy_id=saved["id"])
    done = "created" if vacancy_id is None else "saved"
    return RedirectResponse(str(url.include_query_params(done=done)), status_code=303)


@router.post("/web/employer/vacancies", name="vacancy_create")
def vacancy_create(
    request: Request, user: EmployerUser, form: CheckedForm, session: DbSession, services: Svc
) -> Response:
    """Create a vacancy (or, with ``action=prefill``, take over the occupation's skills)."""
    return _handle_form(request, user, form, session, services, None)


@router.get("/web/employer/vacancies/{vacancy_id}/edit", name="vacancy_edit")
def vacancy_edit(
    request: Request, vacancy_id: int, user: EmployerUser, session: DbSession, services: Svc
) -> Response:
    """The form to change a vacancy."""
    view = vacancy_view(vacancy_owned_by(session, user.principal, vacancy_id))
    values = vacancy_values(view, services.taxonomy)
    return _form_page(request, user, values, {}, vacancy_id=vacancy_id)


@router.post("/web/employer/vacancies/{vacancy_id}/edit", name="vacancy_update")
def vacancy_update(
    request: Request,
    vacancy_id: int,
    user: EmployerUser,
    form: CheckedForm,
    session: DbSession,
    services: Svc,
) -> Response:
    """Save the changes to a vacancy."""
    vacancy_owned_by(session, user.principal, vacancy_id)
    return _handle_form(request, user, form, session, services, vacancy_id)


@router.get("/web/employer/vacancies/{vacancy_id}", name="vacancy_page")
def vacancy_page(
    request: Request,
    vacancy_id: int,
    user: EmployerUser,
    session: DbSession,
    services: Svc,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    """A vacancy, its shortlist of consenting candidates (pseudonymous until released) and
    which relaxed requirement would let the most further candidates fit (counts under 5
    shown as "weniger als 5")."""
    view = vacancy_view(vacancy_for(session, user.principal, vacancy_id))
    shortlist = insights = None
    if view["status"] == "open":
        shortlist = vacancy_candidates(session, services, user.principal, vacancy_id,
                                       limit=limit)  # fmt: skip
        insights = vacancy_insights(session, services, user.principal, vacancy_id)
    context = {"title": view["title"], "v": view, "shortlist": shortlist,
               "insights": insights, "limit": limit}  # fmt: skip
    return render(request, "vacancy.html", context, user=user)


@router.post("/web/employer/vacancies/{vacancy_id}/outcomes", name="vacancy_outcome")
def vacancy_outcome(
    request: Request,
    vacancy_id: int,
    user: EmployerUser,
    form: CheckedForm,
    session: DbSession,
    services: Svc,
) -> Response:
    """Record what happened with one candidate."""
    ref = str(form.get("candidate_ref") or "")
    reason = str(form.get("reason") or "").strip() or None
    try:
        body = OutcomeIn.model_validate(
            {"vacancy_id": vacancy_id, "candidate_ref": ref, "status": form.get("status"),
             "reason": reason}, strict=False)  # fmt: skip
    except ValidationError as exc:
        raise ValidationFailedError("Ergebnis prüfen: ungültige Auswahl.") from exc
    create_outcome(session, services, user.principal, body)
    url = page_url(request, "vacancy_page", vacancy_id=vacancy_id)
    return RedirectResponse(f"{url.include_query_params(done='outcome')}#c-{ref}",
                            status_code=303)  # fmt: skip
