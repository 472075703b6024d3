"""Employers: create, read, change, list, delete (admins; an employer user reads its own)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth import Principal
from service.domain.access import employer_for
from service.domain.pages import paginate
from service.errors import ConflictError, ValidationFailedError
from service.models import Employer, User, Vacancy
from service.schemas import EmployerIn, EmployerPatch

__all__ = [
    "create_employer",
    "delete_employer",
    "employer_view",
    "get_employer",
    "list_employers",
    "update_employer",
]


def employer_view(e: Employer) -> dict[str, Any]:
    """Return the JSON form of an employer."""
    return {"id": e.id, "name": e.name, "postcode": e.postcode, "size_class": e.size_class}


def create_employer(session: Session, body: EmployerIn) -> dict[str, Any]:
    """Create an employer."""
    employer = Employer(**body.model_dump())
    session.add(employer)
    session.commit()
    return employer_view(employer)


def get_employer(session: Session, user: Principal, employer_id: int) -> dict[str, Any]:
    """Return one employer."""
    return employer_view(employer_for(session, user, employer_id))


def list_employers(session: Session, *, limit: int, offset: int) -> dict[str, Any]:
    """List employers by id."""
    statement = select(Employer).order_by(Employer.id)
    return paginate(session, statement, limit=limit, offset=offset, convert=employer_view)


def update_employer(
    session: Session, user: Principal, employer_id: int, body: EmployerPatch
) -> dict[str, Any]:
    """Change an employer."""
    employer = employer_for(session, user, employer_id)
    data = body.model_dump(exclude_unset=True)
    if "name" in data and data["name"] is None:
        raise ValidationFailedError("name: darf nicht null sein", field="name")
    for key, value in data.items():
        setattr(employer, key, value)
    session.commit()
    return employer_view(employer)


def delete_employer(session: Session, user: Principal, employer_id: int) -> None:
    """Delete an employer without vacancies or users.

    Raises
    ------
    ConflictError
        The employer still has vacancies or users.
    """
    employer = employer_for(session, user, employer_id)
    if session.scalar(select(Vacancy.id).where(Vacancy.employer_id == employer.id).limit(1)):
        raise ConflictError("Der Arbeitgeber hat noch Stellen; zuerst die Stellen löschen")
    if session.scalar(select(User.id).where(User.employer_id == employer.id).limit(1)):
        raise ConflictError("Der Arbeitgeber hat noch Benutzer; zuerst die Benutzer entfernen")
    session.delete(employer)
    session.commit()
