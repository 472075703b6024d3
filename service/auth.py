"""Bearer-token authentication and the one role policy of every API route.

Tokens are random (``secrets.token_urlsafe(32)``) and stored only as SHA-256 hashes.
Which roles may call a route is written once, in :data:`ROUTE_ROLES`, keyed by the
route's name; :func:`authorize` (attached to every API router) enforces it. Ownership
(a coach's own participants, an employer's own vacancies) is checked where the object
is loaded, and answers 404 for someone else's object.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from service.db import read_connection
from service.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationFailedError,
)
from service.models import Employer, User, utcnow

__all__ = [
    "ROUTE_ROLES",
    "CurrentUser",
    "DbSession",
    "Principal",
    "Role",
    "authorize",
    "create_user",
    "get_session",
    "hash_token",
    "new_token",
    "revoke_user",
]


class Role(StrEnum):
    """Roles of signed-in users."""

    ADMIN = "admin"
    COACH = "coach"
    EMPLOYER = "employer"
    ANALYST = "analyst"


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user of one request."""

    id: int
    role: Role
    employer_id: int | None = None


_ALL = frozenset(Role)
_ADMIN = frozenset({Role.ADMIN})
_COACH = frozenset({Role.COACH})
_ADMIN_COACH = frozenset({Role.ADMIN, Role.COACH})
_ADMIN_EMPLOYER = frozenset({Role.ADMIN, Role.EMPLOYER})

#: Roles allowed on each API route, by route name (the handler's name).
ROUTE_ROLES: dict[str, frozenset[Role]] = {
    "create_employer": _ADMIN,
    "list_employers": _ADMIN,
    "get_employer": frozenset({Role.ADMIN, Role.EMPLOYER}),
    "update_employer": _ADMIN,
    "delete_employer": _ADMIN,
    "create_vacancy": _ADMIN_EMPLOYER,
    "list_vacancies": frozenset({Role.ADMIN, Role.EMPLOYER, Role.COACH}),
    "get_vacancy": frozenset({Role.ADMIN, Role.EMPLOYER, Role.COACH}),
    "update_vacancy": _ADMIN_EMPLOYER,
    "delete_vacancy": _ADMIN_EMPLOYER,
    "vacancy_candidates": frozenset({Role.EMPLOYER, Role.COACH}),
    "create_release": _COACH,
    "list_releases": frozenset({Role.EMPLOYER}),
    "create_participant": _ADMIN_COACH,
    "list_participants": _ADMIN_COACH,
    "get_participant": _ADMIN_COACH,
    "update_participant": _ADMIN_COACH,
    "delete_participant": _ADMIN_COACH,
    "export_participant": _ADMIN_COACH,
    "participant_matches": _COACH,
    "record_consent": _COACH,
    "record_approval": _COACH,
    "create_override": _COACH,
    "list_overrides": _COACH,
    "set_monitoring": _COACH,
    "create_outcome": frozenset({Role.COACH, Role.EMPLOYER}),
    "list_outcomes": frozenset({Role.ADMIN, Role.ANALYST}),
    "search_skills": _ALL,
    "search_occupations": _ALL,
    "transfer_caseload": _ADMIN,
    "list_audit": frozenset({Role.ADMIN, Role.ANALYST}),
    "verify_audit": frozenset({Role.ADMIN, Role.ANALYST}),
    "import_file": _ADMIN,
    "whoami": _ALL,
    "list_models": frozenset({Role.ADMIN, Role.ANALYST}),
    "activate_model": _ADMIN,
    "deactivate_model": _ADMIN,
    "training_data": frozenset({Role.ADMIN, Role.ANALYST}),
    "participant_next_steps": _COACH,
    "vacancy_insights": _ADMIN_EMPLOYER,
    "team_plan": _ADMIN_COACH,
}


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest under which ``token`` is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """Return a new random bearer token."""
    return secrets.token_urlsafe(32)


def create_user(
    session: Session, *, name: str, role: Role | str, employer_id: int | None = None
) -> tuple[User, str]:
    """Create a user and return it with its (only ever shown once) token.

    Parameters
    ----------
    session : Session
        Open session; committed here.
    name : str
        Unique user name.
    role : Role or str
        One of :class:`Role`.
    employer_id : int, optional
        Required for, and only allowed with, the employer role.

    Returns
    -------
    (User, str)
        The stored user and the plain token.

    Raises
    ------
    ValidationFailedError
        Unknown role, or an employer id missing or given where it does not belong.
    ConflictError
        A user of that name exists.
    """
    try:
        role = Role(role)
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationFailedError(
            f"unknown role {role!r}; allowed: {allowed}", field="role"
        ) from exc
    if role is Role.EMPLOYER and employer_id is None:
        raise ValidationFailedError("an employer user needs --employer-id", field="employer_id")
    if role is not Role.EMPLOYER and employer_id is not None:
        raise ValidationFailedError(
            "only employer users belong to an employer", field="employer_id"
        )
    if employer_id is not None and session.get(Employer, employer_id) is None:
        raise ValidationFailedError(f"no employer with id {employer_id}", field="employer_id")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise ConflictError(f"a user named {name!r} exists")
    token = new_token()
    user = User(name=name, role=role.value, employer_id=employer_id, token_hash=hash_token(token))
    session.add(user)
    session.commit()
    return user, token


def revoke_user(session: Session, name: str) -> User:
    """Revoke the token of the user called ``name``.

    Raises
    ------
    NotFoundError
        No such user.
    """
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFoundError(f"no user named {name!r}")
    if user.revoked_at is None:
        user.revoked_at = utcnow()
        session.commit()
    return user


async def get_session(request: Request) -> AsyncIterator[Session]:
    """Yield a database session of the app's :class:`~service.db.Database`.

    ``async``: opening a session does no I/O, and neither does closing one whose
    transaction has ended (the connection goes back to the pool), so both run on the
    event loop instead of costing two hops through the thread pool per request. A
    session left inside a transaction (an error path) is closed in the thread pool,
    since its rollback talks to the database.
    """
    session = request.app.state.db.sessionmaker()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


DbSession = Annotated[Session, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False)
_U = User.__table__
_USER_BY_TOKEN = select(_U.c.id, _U.c.role, _U.c.employer_id, _U.c.revoked_at).where(
    _U.c.token_hash == bindparam("token_hash")
)


def _authenticate(
    request: Request,
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise AuthenticationError("Anmeldung erforderlich: Authorization: Bearer <token>")
    row = (
        read_connection(session)
        .execute(_USER_BY_TOKEN, {"token_hash": hash_token(credentials.credentials)})
        .first()
    )
    session.rollback()
    if row is None or row.revoked_at is not None:
        raise AuthenticationError("Token unbekannt oder widerrufen")
    principal = Principal(id=row.id, role=Role(row.role), employer_id=row.employer_id)
    request.state.user_id = principal.id
    return principal


async def authorize(
    request: Request, principal: Annotated[Principal, Depends(_authenticate)]
) -> Principal:
    """Authenticate the request and check the role policy of its route.

    ``async`` (no I/O, runs on the event loop); the token lookup in
    :func:`_authenticate` is the one step of it that runs in the thread pool.

    Raises
    ------
    AuthenticationError
        No valid token.
    ForbiddenError
        The role may not use this route.
    """
    route = request.scope.get("route")
    name = getattr(route, "name", None)
    allowed = ROUTE_ROLES.get(name or "", frozenset())
    if principal.role not in allowed:
        raise ForbiddenError(f"Rolle {principal.role.value!r} darf diese Funktion nicht nutzen")
    return principal


CurrentUser = Annotated[Principal, Depends(authorize)]
