"""Vacancies: create, read, change, list, delete (admins and the owning employer)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth import Principal, Role
from service.context import Services
from service.domain.access import employer_for, vacancy_for, vacancy_owned_by
from service.domain.pages import paginate
from service.errors import NotFoundError, ValidationFailedError
from service.models import Vacancy
from service.resolution import Resolver, unresolved_inputs
from service.schemas import VacancyIn, VacancyPatch

__all__ = [
    "apply_vacancy_input",
    "create_vacancy",
    "delete_vacancy",
    "get_vacancy",
    "list_vacancies",
    "update_vacancy",
    "vacancy_view",
]

_NOT_NULL = ("title", "skills", "certificates_required", "languages", "location",
             "hours_per_week", "days_per_week", "shifts", "work_permit_required", "openings",
             "status")  # fmt: skip


def vacancy_view(v: Vacancy) -> dict[str, Any]:
    """Return the JSON form of a vacancy, with what its terms were resolved to."""
    resolved = v.skills_resolved or []
    skills = []
    for i, s in enumerate(v.skills or []):
        record = dict(resolved[i]) if i < len(resolved) else {"input": s["skill"], "uri": None}
        record["essential"] = bool(s.get("essential", True))
        skills.append(record)
    occupation = v.occupation_resolved
    return {
        "id": v.id,
        "employer_id": v.employer_id,
        "title": v.title,
        "occupation": occupation,
        "skills": skills,
        "unresolved": {
            "skills": unresolved_inputs(resolved),
            "occupation": [v.occupation]
            if v.occupation and not (occupation or {}).get("uri")
            else [],
        },
        "certificates_required": list(v.certificates_required or []),
        "languages": list(v.languages or []),
        "location": {"postcode": v.postcode, "quarter": v.quarter, "lat": v.lat, "lon": v.lon},
        "hours_per_week": v.hours_per_week,
        "days_per_week": v.days_per_week,
        "shifts": list(v.shifts or []),
        "driving_licence_required": v.driving_licence_required,
        "work_permit_required": v.work_permit_required,
        "openings": v.openings,
        "start_date": v.start_date.isoformat() if v.start_date else None,
        "status": v.status,
    }


def apply_vacancy_input(v: Vacancy, data: dict[str, Any], resolver: Resolver) -> None:
    """Copy validated input fields onto ``v``, resolving skills and occupation.

    Raises
    ------
    ValidationFailedError
        A required field was set to null in a change.
    """
    for key in _NOT_NULL:
        if key in data and data[key] is None:
            raise ValidationFailedError(f"{key}: darf nicht null sein", field=key)
    simple = ("title", "certificates_required", "hours_per_week", "days_per_week", "shifts",
              "driving_licence_required", "work_permit_required", "openings", "start_date",
              "status")  # fmt: skip
    for key in simple:
        if key in data:
            setattr(v, key, data[key])
    if "occupation" in data:
        v.occupation = data["occupation"]
        v.occupation_resolved = resolver.occupation(v.occupation)
    if "skills" in data:
        v.skills = [dict(s) for s in data["skills"]]
        v.skills_resolved = resolver.skills([s["skill"] for s in v.skills])
    if "languages" in data:
        v.languages = [dict(x) for x in data["languages"]]
    if "location" in data:
        loc = data["location"]
        v.postcode, v.quarter = loc.get("postcode"), loc.get("quarter")
        v.lat, v.lon = loc.get("lat"), loc.get("lon")


def create_vacancy(
    session: Session, services: Services, user: Principal, body: VacancyIn
) -> dict[str, Any]:
    """Create a vacancy; an employer user creates it for its own firm.

    Raises
    ------
    NotFoundError
        The employer does not exist or is not the user's.
    ValidationFailedError
        An admin did not name the employer.
    """
    data = body.model_dump()
    employer_id = data.pop("employer_id")
    if user.role is Role.EMPLOYER:
        if employer_id is not None and employer_id != user.employer_id:
            raise NotFoundError(f"Arbeitgeber {employer_id} nicht gefunden", field="employer_id")
        employer_id = user.employer_id
    elif employer_id is None:
        raise ValidationFailedError("employer_id: fehlt", field="employer_id")
    assert employer_id is not None
    employer_for(session, user, employer_id)
    vacancy = Vacancy(employer_id=employer_id)
    apply_vacancy_input(vacancy, data, services.resolver)
    session.add(vacancy)
    services.index.write(session, vacancies=[vacancy])
    return vacancy_view(vacancy)


def get_vacancy(session: Session, user: Principal, vacancy_id: int) -> dict[str, Any]:
    """Return one vacancy."""
    return vacancy_view(vacancy_for(session, user, vacancy_id))


def list_vacancies(
    session: Session, user: Principal, *, limit: int, offset: int, status: str | None
) -> dict[str, Any]:
    """List vacancies: an employer's own, all for admins and coaches."""
    statement = select(Vacancy).order_by(Vacancy.id)
    if user.role is Role.EMPLOYER:
        statement = statement.where(Vacancy.employer_id == user.employer_id)
    if status is not None:
        statement = statement.where(Vacancy.status == status)
    return paginate(session, statement, limit=limit, offset=offset, convert=vacancy_view)


def update_vacancy(
    session: Session, services: Services, user: Principal, vacancy_id: int, body: VacancyPatch
) -> dict[str, Any]:
    """Change a vacancy; closing or filling it removes it from the index."""
    vacancy = vacancy_owned_by(session, user, vacancy_id)
    apply_vacancy_input(vacancy, body.model_dump(exclude_unset=True), services.resolver)
    services.index.write(session, vacancies=[vacancy])
    return vacancy_view(vacancy)


def delete_vacancy(session: Session, services: Services, user: Principal, vacancy_id: int) -> None:
    """Delete a vacancy (its overrides go with it; outcomes keep their record)."""
    vacancy = vacancy_owned_by(session, user, vacancy_id)
    session.delete(vacancy)
    services.index.write(session, removed_vacancies=[vacancy_id])
