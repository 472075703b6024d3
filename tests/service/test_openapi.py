"""Schemathesis against the app's OpenAPI schema: every operation, as each role, with
generated valid and invalid input; no server errors, no schema violations."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from tests.service.conftest import World

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]  # fmt: skip


@pytest.fixture
def api_schema(world: World, app: Any, request: pytest.FixtureRequest) -> Any:
    """The app's schema, with the first objects in place so that ids hit something."""
    pid = world.participant()
    world.shortlistable(pid)
    world.vacancy()
    config = SchemathesisConfig.from_dict(
        {"phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}}}
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    request.node.world = world
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))  # fmt: skip
def test_no_server_errors_and_conforming_answers(case: Any, request: pytest.FixtureRequest) -> None:
    world: World = request.node.world
    for user in ("admin", "coach1", "employer1", "analyst"):
        case.call_and_validate(headers=world.h(user), checks=CHECKS)
