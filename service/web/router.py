"""All pages in one router (every route renders its errors as German HTML)."""

from __future__ import annotations

from fastapi import APIRouter

from service.web import admin, coach, employer, signin
from service.web.route import PageRoute

__all__ = ["router"]


def _build() -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)
    for module in (signin, coach, employer, admin):
        pages.include_router(module.router)
    return pages


router = _build()
"""The pages' router: ``app.include_router(router)``."""
