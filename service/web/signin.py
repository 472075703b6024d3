"""Sign-in and sign-out, the start page of each role, static files and suggestions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from service.auth import DbSession, Role
from service.context import Svc
from service.errors import NotFoundError
from service.web.rendering import SECURITY_HEADERS, page_url, render
from service.web.route import PageRoute
from service.web.security import (
    COOKIE_NAME,
    CheckedForm,
    PageUser,
    check_origin,
    principal_for_token,
)
from service.web.suggestions import occupation_skills, suggest_occupations, suggest_skills

__all__ = ["HOME_ROUTES", "router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STATIC: Final = Path(__file__).resolve().parent / "static"
_STATIC_NAME = re.compile(r"^[a-z0-9_-]+\.(css|js|svg|png|ico)$")

#: The start page of each role (route names).
HOME_ROUTES: Final = {
    Role.COACH: "coach_home",
    Role.EMPLOYER: "employer_home",
    Role.ADMIN: "admin_home",
    Role.ANALYST: "analyst_home",
}

Q = Annotated[str, Query(max_length=200)]


async def _signin_body(request: Request) -> FormData:
    check_origin(request)
    return await request.form()


def _safe_next(target: str | None) -> str | None:
    """A page of this site to return to after signing in, or None."""
    if (
        target
        and target.startswith("/web/")
        and not target.startswith("/web/signin")
        and not any(part in target for part in ("//", "\\", "/../", "/./"))
        and target.isprintable()
    ):
        return target
    return None


@router.get("/", name="root")
def root(request: Request) -> Response:
    """Send visitors to the pages."""
    return RedirectResponse(page_url(request, "web_home"), status_code=303)


@router.get("/web/", name="web_home")
def web_home(request: Request, user: PageUser) -> Response:
    """The signed-in user's start page."""
    return RedirectResponse(page_url(request, HOME_ROUTES[user.role]), status_code=303)


@router.get("/web/signin", name="signin_form")
def signin_form(request: Request, next: Q = "") -> Response:
    """The sign-in form."""
    return render(request, "signin.html", {"title": "Anmelden", "next": _safe_next(next) or ""})


@router.post("/web/signin", name="signin")
def signin(
    request: Request, session: DbSession, form: Annotated[FormData, Depends(_signin_body)]
) -> Response:
    """Check the token and hold it in an HttpOnly, SameSite=Strict cookie."""
    token = str(form.get("token") or "").strip()
    found = principal_for_token(session, token)
    target = _safe_next(str(form.get("next") or ""))
    if found is None:
        return render(
            request,
            "signin.html",
            {
                "title": "Anmelden",
                "next": target or "",
                "errors": {"token": "Dieser Zugangsschlüssel ist unbekannt oder widerrufen."},
            },
            status_code=401,
        )
    principal, _name = found
    response = RedirectResponse(
        target or str(page_url(request, HOME_ROUTES[principal.role])), status_code=303
    )
    response.set_cookie(
        COOKIE_NAME,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/web/signout", name="signout")
def signout(request: Request, form: CheckedForm) -> Response:
    """Forget the session cookie."""
    response = RedirectResponse(
        page_url(request, "signin_form").include_query_params(done="signed_out"), status_code=303
    )
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return response


@router.get("/web/analyst", name="analyst_home")
def analyst_home(request: Request, user: PageUser) -> Response:
    """Analysts work with the API and notebooks; the page says so."""
    return render(request, "analyst.html", {"title": "Analyse"}, user=user)


@router.get("/web/static/{filename}", name="static")
def static(filename: str) -> Response:
    """A file of ``service/web/static`` (CSS, JavaScript); nothing from elsewhere."""
    path = STATIC / filename
    if not _STATIC_NAME.match(filename) or not path.is_file():
        raise NotFoundError("Datei nicht gefunden")
    return FileResponse(
        path,
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


def _json(payload: Any) -> JSONResponse:
    headers = dict(SECURITY_HEADERS)
    return JSONResponse(payload, headers=headers)


@router.get("/web/suggest/skills", name="suggest_skills")
def suggest_skill_terms(user: PageUser, services: Svc, q: Q = "") -> Response:
    """ESCO skills for type-ahead (German labels first)."""
    return _json({"items": suggest_skills(services.taxonomy, q)})


@router.get("/web/suggest/occupations", name="suggest_occupations")
def suggest_occupation_terms(user: PageUser, services: Svc, q: Q = "") -> Response:
    """ESCO occupations for type-ahead (German labels first)."""
    return _json({"items": suggest_occupations(services.taxonomy, q)})


@router.get("/web/suggest/occupation-skills", name="suggest_occupation_skills")
def suggest_occupation_skill_list(
    user: PageUser, services: Svc, uri: Annotated[str, Query(max_length=300)]
) -> Response:
    """The essential and optional skills of an occupation, to pre-fill a vacancy."""
    return _json({"items": occupation_skills(services.taxonomy, uri)})
