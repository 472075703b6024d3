"""The route class of the pages: errors become German HTML pages, never JSON.

The app's error handlers answer in JSON for the API. A page route catches the same
typed errors first and renders them, with the status the API would use (someone
else's participant answers 404 here too), so no handler repeats a ``try``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, Final

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from matching import errors as matching_errors
from service.errors import (
    ERROR_TABLE,
    PayloadTooLargeError,
    ServiceError,
    ServiceUnavailableError,
)
from service.web.rendering import page_url, render
from service.web.security import CsrfError, SignInRequired

__all__ = ["PageRoute", "german_detail", "status_for"]

_log = logging.getLogger("service.web")
_STATUS = {cls: status for cls, status, _code in ERROR_TABLE}

_TITLES_DE: Final = {
    400: "Ungültige Anfrage",
    401: "Anmeldung erforderlich",
    403: "Kein Zugriff",
    404: "Nicht gefunden",
    405: "Nicht erlaubt",
    409: "Nicht möglich",
    413: "Zu groß",
    422: "Eingabe prüfen",
    500: "Fehler",
    503: "Gerade nicht verfügbar",
}
_GENERIC_DE: Final = {
    404: "Diese Seite oder dieser Datensatz existiert nicht – oder gehört nicht zu Ihrem Zugang.",
    405: "Diese Aktion ist hier nicht möglich.",
    409: "Der Datensatz widerspricht vorhandenen Daten (doppelt oder noch verwendet).",
    413: "Die Datei oder das Formular ist zu groß.",
    500: "Ein unerwarteter Fehler ist aufgetreten; er wurde protokolliert.",
    503: "Der Dienst ist gerade nicht erreichbar (Datenbank oder Bewertungsindex). Bitte in "
    "einigen Sekunden erneut versuchen.",
}
#: German messages for the scoring library's errors, whose own messages are English.
_MATCHING_DE: Final[dict[type[BaseException], str]] = {
    matching_errors.InvalidLocationError: "Der Ort ist unbekannt: bitte eine Postleitzahl "
    "(Bielefeld und Umgebung) oder einen Bielefelder Stadtteil angeben.",
    matching_errors.InvalidLanguageLevelError: "Ungültiges Sprachniveau (A1 bis C2 oder "
    "Muttersprache).",
    matching_errors.UnknownConceptError: "Unbekannter ESCO-Begriff.",
    matching_errors.UnknownIdError: "Nicht gefunden.",
    matching_errors.InvalidInputError: "Eine Eingabe ist ungültig.",
}


def status_for(exc: BaseException) -> int:
    """HTTP status of a typed error, as :data:`service.errors.ERROR_TABLE` maps it."""
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 500


def german_detail(exc: BaseException) -> str:
    """The German message of an error, for a page."""
    if isinstance(exc, ServiceError) and not isinstance(
        exc, (ServiceUnavailableError, PayloadTooLargeError)
    ):
        return exc.detail
    for cls in type(exc).__mro__:
        if cls in _MATCHING_DE:
            return _MATCHING_DE[cls]
    return _GENERIC_DE.get(status_for(exc), _GENERIC_DE[500])


def error_page(request: Request, status: int, detail: str, user: Any = None) -> Response:
    """Render the error page."""
    return render(
        request,
        "error.html",
        {"title": _TITLES_DE.get(status, "Fehler"), "detail": detail, "status": status},
        status_code=status,
        user=user,
    )


class PageRoute(APIRoute):
    """An :class:`~fastapi.routing.APIRoute` that renders errors as German HTML."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                response = RedirectResponse(
                    page_url(request, "signin_form").include_query_params(next=target),
                    status_code=303,
                )
                return response
            except CsrfError as exc:
                return error_page(request, 403, str(exc))
            except RequestValidationError:
                return error_page(
                    request, 422, "Die Adresse oder das Formular enthält ungültige Werte."
                )
            except StarletteHTTPException as exc:
                return error_page(
                    request, exc.status_code, _GENERIC_DE.get(exc.status_code, "Fehler.")
                )
            except (ServiceError, matching_errors.MatchingError) as exc:
                status = status_for(exc)
                if status >= 500:
                    _log.warning("page unavailable: %s", type(exc).__name__)
                return error_page(request, status, german_detail(exc))
            except Exception as exc:
                if status_for(exc) == 500:
                    _log.exception("page error: %s", type(exc).__name__)
                return error_page(request, status_for(exc), german_detail(exc))

        return page_handler
