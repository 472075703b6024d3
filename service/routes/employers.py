"""``/employers`` routes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from service.auth import CurrentUser, DbSession
from service.domain import employers as domain
from service.routes.params import Paging, PathId
from service.schemas import EmployerIn, EmployerPatch

__all__ = ["router"]

router = APIRouter(prefix="/employers", tags=["employers"])


@router.post("", status_code=201)
def create_employer(body: EmployerIn, user: CurrentUser, session: DbSession) -> dict[str, Any]:
    """Create an employer (admin)."""
    return domain.create_employer(session, body)


@router.get("")
def list_employers(page: Paging, user: CurrentUser, session: DbSession) -> dict[str, Any]:
    """List employers (admin)."""
    return domain.list_employers(session, limit=page.limit, offset=page.offset)


@router.get("/{employer_id}")
def get_employer(employer_id: PathId, user: CurrentUser, session: DbSession) -> dict[str, Any]:
    """Read an employer (admin, or one of its users)."""
    return domain.get_employer(session, user, employer_id)


@router.patch("/{employer_id}")
def update_employer(
    employer_id: PathId, body: EmployerPatch, user: CurrentUser, session: DbSession
) -> dict[str, Any]:
    """Change an employer (admin)."""
    return domain.update_employer(session, user, employer_id, body)


@router.delete("/{employer_id}", status_code=204)
def delete_employer(employer_id: PathId, user: CurrentUser, session: DbSession) -> Response:
    """Delete an employer without vacancies or users (admin)."""
    domain.delete_employer(session, user, employer_id)
    return Response(status_code=204)
