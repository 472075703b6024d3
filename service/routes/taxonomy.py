"""ESCO look-up for type-ahead suggestions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.auth import CurrentUser
from service.context import Svc
from service.routes.params import TopLimit

__all__ = ["router"]

router = APIRouter(prefix="/taxonomy", tags=["taxonomy"])

Q = Annotated[str, Query(min_length=1, max_length=200, pattern=r"\S")]


def _items(found: list[tuple[Any, float]]) -> dict[str, Any]:
    return {
        "items": [
            {"uri": c.uri, "label_de": c.label_de, "label_en": c.label_en,
             "confidence": round(float(s), 4)}
            for c, s in found
        ]
    }  # fmt: skip


@router.get("/skills")
def search_skills(q: Q, limit: TopLimit, user: CurrentUser, services: Svc) -> dict[str, Any]:
    """Ranked ESCO skills for typed text (German and English labels)."""
    return _items(services.taxonomy.search_skills(q, limit))


@router.get("/occupations")
def search_occupations(q: Q, limit: TopLimit, user: CurrentUser, services: Svc) -> dict[str, Any]:
    """Ranked ESCO occupations for typed text (German and English labels)."""
    return _items(services.taxonomy.search_occupations(q, limit))
