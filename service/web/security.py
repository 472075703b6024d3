"""Signing in with a token held in a cookie, the pages' role checks and CSRF protection.

The cookie holds the user's bearer token (HttpOnly, ``SameSite=Strict``, ``Secure`` over
HTTPS), so the pages and the API share one credential and one revocation. Every form
POST is protected twice: the ``SameSite=Strict`` cookie is not sent with a request that
another site starts, and the form must carry a CSRF token derived from the session
token (a keyed hash, so it cannot be computed without the cookie) and, when the browser
sends an ``Origin`` or ``Referer`` header, that header must name this site.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from service.auth import DbSession, Principal, Role, hash_token
from service.errors import ForbiddenError
from service.models import User

__all__ = [
    "COOKIE_NAME",
    "CheckedForm",
    "CsrfError",
    "PageUser",
    "SignInRequired",
    "WebUser",
    "check_origin",
    "csrf_token",
    "current_user",
    "principal_for_token",
    "require_role",
]

COOKIE_NAME = "jobmatch_session"
CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):
    """The request has no valid session cookie; the page redirects to the sign-in form."""


class CsrfError(Exception):
    """A form POST without a valid CSRF token or from another origin."""


@dataclass(frozen=True, slots=True)
class WebUser:
    """The signed-in user of a page request.

    Attributes
    ----------
    principal : Principal
        What the domain functions take.
    name : str
        The user's name, shown in the page header.
    csrf : str
        The CSRF token every form of this session carries.
    """

    principal: Principal
    name: str
    csrf: str

    @property
    def role(self) -> Role:
        """The user's role."""
        return self.principal.role


def csrf_token(session_token: str) -> str:
    """Return the CSRF token of the session holding ``session_token``."""
    return hmac.new(session_token.encode("utf-8"), b"jobmatch-csrf", hashlib.sha256).hexdigest()


def principal_for_token(session: Session, token: str) -> tuple[Principal, str] | None:
    """Return the principal and name of an active user's token, or None.

    Parameters
    ----------
    session : Session
    token : str
        The plain bearer token.
    """
    if not token or len(token) > 200:
        return None
    row = session.execute(
        select(User.id, User.name, User.role, User.employer_id, User.revoked_at).where(
            User.token_hash == hash_token(token)
        )
    ).first()
    session.rollback()
    if row is None or row.revoked_at is not None:
        return None
    return Principal(id=row.id, role=Role(row.role), employer_id=row.employer_id), row.name


def current_user(request: Request, session: DbSession) -> WebUser:
    """Resolve the session cookie to the signed-in user.

    Raises
    ------
    SignInRequired
        No cookie, or its token is unknown or revoked.
    """
    token = request.cookies.get(COOKIE_NAME, "")
    found = principal_for_token(session, token)
    if found is None:
        raise SignInRequired()
    principal, name = found
    request.state.user_id = principal.id
    return WebUser(principal, name, csrf_token(token))


PageUser = Annotated[WebUser, Depends(current_user)]


def require_role(*roles: Role) -> object:
    """Return a dependency that admits only users of ``roles``.

    Raises
    ------
    ForbiddenError
        The user's role has no access to the page.
    """

    def dependency(user: PageUser) -> WebUser:
        if user.role not in roles:
            raise ForbiddenError("Diese Seite ist für Ihre Rolle nicht vorgesehen.")
        return user

    return Depends(dependency)


def check_origin(request: Request) -> None:
    """Refuse a request whose ``Origin`` (or, lacking it, ``Referer``) names another site.

    Raises
    ------
    CsrfError
        The header names another scheme, host or port than the request's own.
    """
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed or claimed == "null":
        if request.headers.get("origin") == "null":
            raise CsrfError("Anfrage von einer fremden Seite abgelehnt.")
        return
    parts = urlsplit(claimed)
    own = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
    if f"{parts.scheme}://{parts.netloc}" != own:
        raise CsrfError("Anfrage von einer fremden Seite abgelehnt.")


async def _checked_form(request: Request) -> FormData:
    check_origin(request)
    form = await request.form()
    token = request.cookies.get(COOKIE_NAME, "")
    sent = form.get(CSRF_FIELD)
    if not token or not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(token)):
        raise CsrfError(
            "Das Formular ist abgelaufen oder stammt nicht von dieser Seite. "
            "Bitte laden Sie die Seite neu und versuchen Sie es erneut."
        )
    return form


CheckedForm = Annotated[FormData, Depends(_checked_form)]
"""The body of a form POST whose origin and CSRF token were checked."""
