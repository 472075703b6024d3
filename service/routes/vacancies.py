"""``/vacancies`` routes."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response

from service.auth import CurrentUser, DbSession
from service.context import Svc
from service.domain import vacancies as domain
from service.routes.params import Paging, PathId
from service.schemas import VacancyIn, VacancyPatch

__all__ = ["router"]

router = APIRouter(prefix="/vacancies", tags=["vacancies"])


@router.post("", status_code=201)
def create_vacancy(
    body: VacancyIn, user: CurrentUser, session: DbSession, services: Svc
) -> dict[str, Any]:
    """Create a vacancy (admin, or an employer user for its own firm)."""
    return domain.create_vacancy(session, services, user, body)


@router.get("")
def list_vacancies(
    page: Paging,
    user: CurrentUser,
    session: DbSession,
    status: Literal["open", "filled", "closed"] | None = None,
) -> dict[str, Any]:
    """List vacancies (an employer sees its own)."""
    return domain.list_vacancies(session, user, limit=page.limit, offset=page.offset, status=status)


@router.get("/{vacancy_id}")
def get_vacancy(vacancy_id: PathId, user: CurrentUser, session: DbSession) -> dict[str, Any]:
    """Read a vacancy."""
    return domain.get_vacancy(session, user, vacancy_id)


@router.patch("/{vacancy_id}")
def update_vacancy(
    vacancy_id: PathId, body: VacancyPatch, user: CurrentUser, session: DbSession, services: Svc
) -> dict[str, Any]:
    """Change a vacancy (admin, or its employer)."""
    return domain.update_vacancy(session, services, user, vacancy_id, body)


@router.delete("/{vacancy_id}", status_code=204)
def delete_vacancy(
    vacancy_id: PathId, user: CurrentUser, session: DbSession, services: Svc
) -> Response:
    """Delete a vacancy (admin, or its employer)."""
    domain.delete_vacancy(session, services, user, vacancy_id)
    return Response(status_code=204)
