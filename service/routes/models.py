"""Scoring models (admins; analysts read) and the pseudonymous training data."""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.auth import CurrentUser, DbSession
from service.context import Svc
from service.domain import learning as domain

__all__ = ["router"]

router = APIRouter(tags=["models"])

_Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class ActivateIn(BaseModel):
    """Which model version to activate; a reason overrides a refusal of the gate."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: _Name
    version: _Name
    override_reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = (
        None
    )


class DeactivateIn(BaseModel):
    """Why the transparent default is switched back on."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: Annotated[str, Field(min_length=1, max_length=2000)]


@router.get("/models")
def list_models(user: CurrentUser, session: DbSession, services: Svc) -> dict[str, Any]:
    """Model versions, the one in force, and what this process serves."""
    return domain.list_models(session, services)


@router.post("/models/activate")
def activate_model(
    body: ActivateIn, user: CurrentUser, session: DbSession, services: Svc
) -> dict[str, Any]:
    """Activate a model version through the promotion gate (every worker swaps)."""
    return domain.activate_model(
        session, services, user, name=body.name, version=body.version,
        override_reason=body.override_reason,
    )  # fmt: skip


@router.post("/models/deactivate")
def deactivate_model(
    body: DeactivateIn, user: CurrentUser, session: DbSession, services: Svc
) -> dict[str, Any]:
    """Kill switch: back to the transparent default scorer."""
    return domain.deactivate_model(session, services, user, reason=body.reason)


@router.get(
    "/analytics/training-data",
    response_class=Response,
    responses={
        200: {
            "description": "the training table, one row per shown or acted-on pair",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            },
        }
    },
)
def training_data(
    user: CurrentUser,
    session: DbSession,
    format: Annotated[Literal["csv", "json"], Query()] = "csv",
) -> Response:
    """The pseudonymous training table built from the audit log (CSV or JSON)."""
    table = domain.training_table(session)
    if format == "json":
        return Response(table.to_json(orient="records", date_format="iso"),
                        media_type="application/json")  # fmt: skip
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return Response(buffer.getvalue(), media_type="text/csv")
