"""HTTP routes: short handlers that convert, call one domain function and convert back."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from service.auth import authorize
from service.routes import (
    admin,
    employers,
    outcomes,
    participants,
    recommendations,
    releases,
    taxonomy,
    vacancies,
)

__all__ = ["API_PREFIX", "api_router"]

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    """Return the ``/api/v1`` router; every route in it passes :func:`authorize`."""
    router = APIRouter(prefix=API_PREFIX, dependencies=[Depends(authorize)])
    for module in (
        employers,
        vacancies,
        participants,
        recommendations,
        releases,
        outcomes,
        taxonomy,
        admin,
    ):
        router.include_router(module.router)
    return router
