"""Domain errors of the service and the one table that maps errors to HTTP answers.

Every error body has the shape ``{"error": "<code>", "detail": "<what was wrong>"}``
(validation errors add ``"fields"``). The scoring library's :mod:`matching.errors`
classes and the service's own errors are mapped in :data:`ERROR_TABLE`; nothing else
is translated implicitly (a stray ``ValueError`` is a bug, answered 500 and logged).
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from matching import errors as matching_errors

__all__ = [
    "ERROR_TABLE",
    "RETRY_AFTER_SECONDS",
    "AuthenticationError",
    "ConflictError",
    "ForbiddenError",
    "NotFoundError",
    "PayloadTooLargeError",
    "ServiceError",
    "ServiceUnavailableError",
    "ValidationFailedError",
    "error_body",
    "install_error_handlers",
]

RETRY_AFTER_SECONDS = 5

_log = logging.getLogger("service.errors")


class ServiceError(Exception):
    """Base class of the service's own domain errors.

    Parameters
    ----------
    detail : str
        What was wrong, for the caller.
    field : str, optional
        The offending field, when there is one.
    """

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class AuthenticationError(ServiceError):
    """No bearer token, or an unknown or revoked one."""


class ForbiddenError(ServiceError):
    """The signed-in role may not use this route at all."""


class NotFoundError(ServiceError):
    """The object does not exist, or belongs to someone else (never say which)."""


class ConflictError(ServiceError):
    """The request contradicts the stored state (duplicate, still referenced, ...)."""


class ValidationFailedError(ServiceError):
    """A value passed the schema but breaks a domain rule."""


class PayloadTooLargeError(ServiceError):
    """The request body is larger than ``max_body_bytes``."""


class ServiceUnavailableError(ServiceError):
    """A dependency (database, scoring index) is not available right now."""


#: ``(exception class, HTTP status, error code)``; the most specific class in an
#: exception's MRO wins, so subclasses may be listed after their bases.
ERROR_TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (AuthenticationError, 401, "unauthorized"),
    (ForbiddenError, 403, "forbidden"),
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (PayloadTooLargeError, 413, "payload_too_large"),
    (ValidationFailedError, 422, "invalid_input"),
    (ServiceUnavailableError, 503, "unavailable"),
    (matching_errors.InvalidInputError, 422, "invalid_input"),
    (matching_errors.InvalidLanguageLevelError, 422, "invalid_language_level"),
    (matching_errors.InvalidLocationError, 422, "invalid_location"),
    (matching_errors.UnknownConceptError, 422, "unknown_concept"),
    (matching_errors.UnknownIdError, 404, "not_found"),
    (matching_errors.NotFittedError, 503, "index_not_ready"),
    (matching_errors.DataFileError, 503, "reference_data_unavailable"),
    (matching_errors.ModelError, 503, "model_unavailable"),
    (matching_errors.MatchingError, 422, "matching_error"),
    (sa_exc.IntegrityError, 409, "conflict"),
    (sa_exc.DataError, 422, "invalid_input"),
    (sa_exc.OperationalError, 503, "database_unavailable"),
    (sa_exc.InterfaceError, 503, "database_unavailable"),
    (sa_exc.DisconnectionError, 503, "database_unavailable"),
    (sa_exc.TimeoutError, 503, "database_unavailable"),
)

_TABLE = {cls: (status, code) for cls, status, code in ERROR_TABLE}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """Return the error body ``{"error": code, "detail": detail, **extra}``."""
    return {"error": code, "detail": detail, **extra}


def _lookup(exc: BaseException) -> tuple[int, str] | None:
    for cls in type(exc).__mro__:
        if cls in _TABLE:
            return _TABLE[cls]
    return None


def _detail(exc: BaseException, status: int) -> str:
    if isinstance(exc, sa_exc.DataError):
        return "Ein Wert liegt außerhalb des speicherbaren Bereichs."
    if isinstance(exc, sa_exc.IntegrityError):
        return "Der Datensatz widerspricht vorhandenen Daten (doppelt oder noch verwendet)."
    if isinstance(exc, sa_exc.SQLAlchemyError) and status == 503:
        return "Die Datenbank ist gerade nicht erreichbar; bitte später erneut versuchen."
    field = getattr(exc, "field", None)
    message = str(exc) or type(exc).__name__
    if field and field not in message:
        return f"{field}: {message}"
    return message


def _response(exc: BaseException, status: int, code: str) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    body = error_body(code, _detail(exc, status))
    field = getattr(exc, "field", None)
    if field:
        body["fields"] = [field]
    return JSONResponse(body, status_code=status, headers=headers)


async def _handle_mapped(request: Request, exc: Exception) -> JSONResponse:
    found = _lookup(exc)
    if found is None:  # pragma: no cover - handlers are registered per table entry
        return await _handle_unexpected(request, exc)
    status, code = found
    if status == 503:
        _log.warning("unavailable: %s", type(exc).__name__)
    return _response(exc, status, code)


def _location(loc: tuple[Any, ...]) -> str:
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]
    parts = [str(p) for p in loc]
    text = ""
    for part in parts:
        if part.isdigit():
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "body"


async def _handle_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    fields: list[str] = []
    messages: list[str] = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        name = _location(loc)
        if err.get("type") == "extra_forbidden":
            message = "unbekanntes oder nicht änderbares Feld"
        else:
            message = str(err.get("msg", "ungültig"))
        fields.append(name)
        messages.append(f"{name}: {message}")
    body = error_body("validation_error", "; ".join(messages), fields=fields)
    return JSONResponse(body, status_code=422)


async def _handle_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return JSONResponse(error_body(code, detail), status_code=exc.status_code, headers=exc.headers)


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The stack only, never the message: it may quote stored values (names, free text).
    frames = "".join(traceback.format_tb(exc.__traceback__))
    _log.error("unhandled error %s at\n%s", type(exc).__name__, frames)
    return JSONResponse(
        error_body("internal_error", "Unerwarteter Fehler; er wurde protokolliert."),
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers of :data:`ERROR_TABLE`, validation and HTTP errors on ``app``.

    Parameters
    ----------
    app : FastAPI
        The application.
    """
    for cls, _status, _code in ERROR_TABLE:
        app.add_exception_handler(cls, _handle_mapped)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _handle_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _handle_http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _handle_unexpected)
