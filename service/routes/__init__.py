"""HTTP routes: short handlers that convert, call one domain function and convert back."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from service.auth import authorize
from service.routes import (
    admin,
    employers,
    guidance,
    models,
    outcomes,
    participants,
    recommendations,
    releases,
    taxonomy,
    vacancies,
)
from service.schemas import ErrorBody

__all__ = ["API_PREFIX", "ERROR_RESPONSES", "api_router"]

API_PREFIX = "/api/v1"

#: Error answers any API route may give, documented in the OpenAPI schema.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "the request body could not be parsed"),
        (401, "no, an unknown or a revoked token"),
        (403, "the role may not use this route"),
        (404, "no such object, or someone else's"),
        (409, "contradicts stored data"),
        (413, "request body over the size limit"),
        (422, "invalid input; `fields` names each offending field"),
        (503, "database or index unavailable; retry after `Retry-After` seconds"),
    )
}


def api_router() -> APIRouter:
    """Return the ``/api/v1`` router; every route in it passes :func:`authorize`."""
    router = APIRouter(
        prefix=API_PREFIX, dependencies=[Depends(authorize)], responses=ERROR_RESPONSES
    )
    for module in (
        employers,
        vacancies,
        participants,
        recommendations,
        releases,
        outcomes,
        taxonomy,
        admin,
        models,
        guidance,
    ):
        router.include_router(module.router)
    return router
