"""The Jinja2 environment of the pages and the one function that turns a template into a
response (with the security headers every page carries)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import URL

from service.web import labels

__all__ = ["DONE_MESSAGES_DE", "SECURITY_HEADERS", "environment", "page_url", "render"]

TEMPLATES: Final = Path(__file__).resolve().parent / "templates"

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

#: Confirmations shown after a form POST redirected back (``?done=<key>``).
DONE_MESSAGES_DE: Final = {
    "created": "Gespeichert.",
    "saved": "Änderungen gespeichert.",
    "outcome": "Ergebnis gespeichert.",
    "release": "Kandidat:in für den Arbeitgeber freigegeben: Name und Kontakt sind jetzt sichtbar.",
    "consent_given": "Einwilligung gespeichert.",
    "consent_withdrawn": "Widerruf der Einwilligung gespeichert.",
    "approved": "Für die Vorschlagslisten der Arbeitgeber freigegeben.",
    "unapproved": "Freigabe für die Vorschlagslisten zurückgenommen.",
    "objection": "Widerspruch gegen Profilbildung gespeichert: keine Rangfolge mehr.",
    "no_objection": "Widerspruch aufgehoben.",
    "override": "Filter übergangen; der Grund ist protokolliert.",
    "revoked": "Zugang widerrufen.",
    "moved": "Teilnehmende übergeben.",
    "erased": "Alle Daten der/des Teilnehmenden wurden gelöscht.",
    "signed_out": "Sie sind abgemeldet.",
}


def _path_template(request: Request, name: str, params: tuple[str, ...]) -> str:
    # Looking a route up walks every route of the app: do it once per name and app.
    state = request.app.state
    known: dict[tuple[str, tuple[str, ...]], str] | None = getattr(state, "web_paths", None)
    if known is None:
        known = state.web_paths = {}
    template = known.get((name, params))
    if template is None:
        path = request.app.url_path_for(name, **{p: "{" + p + "}" for p in params})
        template = known[(name, params)] = str(path)
    return template


def page_url(request: Request, name: str, **params: Any) -> URL:
    """The site-relative URL of route ``name`` (no host: right behind any proxy)."""
    template = _path_template(request, name, tuple(sorted(params)))
    values = {k: quote(str(v), safe="") for k, v in params.items()}
    return URL(request.scope.get("root_path", "") + template.format(**values))


def _url_cache(request: Request) -> Any:
    """``url_for`` for one page, remembering each URL (a page repeats the same few)."""
    known: dict[tuple[str, tuple[tuple[str, Any], ...]], URL] = {}

    def url_for(name: str, **params: Any) -> URL:
        key = (name, tuple(sorted(params.items())))
        url = known.get(key)
        if url is None:
            url = known[key] = page_url(request, name, **params)
        return url

    return url_for


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    text = f"{float(value):.{digits}f}"
    return text.replace(".", ",")


def _percent(value: float | None) -> int:
    if value is None:
        return 0
    return max(0, min(100, round(float(value) * 100)))


def _bar(value: float | None) -> str:
    """CSS class of a bar's width in steps of 5 % (inline styles are not allowed by CSP)."""
    return f"w{round(_percent(value) / 5)}"


def _concept(concept: dict[str, Any] | None) -> str:
    if not concept:
        return ""
    return str(concept.get("label_de") or concept.get("label_en") or concept.get("input") or "")


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The pages' Jinja2 environment (built once per process, on first use)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["num"] = _number
    env.filters["percent"] = _percent
    env.filters["bar"] = _bar
    env.filters["concept"] = _concept
    env.globals["L"] = labels
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    user: Any = None,
) -> HTMLResponse:
    """Render ``template`` with ``context`` into an HTML response.

    Parameters
    ----------
    request : Request
    template : str
        File name under ``service/web/templates``.
    context : dict, optional
    status_code : int, default=200
    user : WebUser, optional
        The signed-in user (header, navigation, CSRF field).

    Returns
    -------
    HTMLResponse
    """
    done = request.query_params.get("done")
    values: dict[str, Any] = {
        "request": request,
        "url_for": _url_cache(request),
        "user": user,
        "csrf": user.csrf if user is not None else "",
        "done": DONE_MESSAGES_DE.get(done or ""),
        "title": "",
        "errors": {},
        "error_summary": [],
    }
    values.update(context or {})
    html = environment().get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=dict(SECURITY_HEADERS))
