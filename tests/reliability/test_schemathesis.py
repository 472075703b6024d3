"""schemathesis against the app's OpenAPI schema: 0 server errors, responses that match
their documented schemas, and no protected operation answering an unauthenticated call.

Every operation runs as a role its route policy admits (so that the call reaches the
handler) and once without a token. ``JOBMATCH_SCHEMATHESIS_EXAMPLES`` sets the examples
per operation: 5 by default (CI), 1000 for a release run::

    JOBMATCH_SCHEMATHESIS_EXAMPLES=1000 python -m pytest tests/reliability/test_schemathesis.py

``JOBMATCH_SCHEMATHESIS_OPERATIONS`` (a regular expression over names such as
``POST /api/v1/participants``) restricts a run to some operations.
Random ids almost never name a record the actor may see, so every other authorised
call (chosen by a checksum of the generated case) has its ``participant_id`` or
``vacancy_id`` replaced by one of the actor's own (for a coach's call on a vacancy:
one of ``employer1``'s), created on demand (again after a ``DELETE`` took it): those
calls reach the handler's real work.
``JOBMATCH_SCHEMATHESIS_STATUSES=1`` prints, at the end, how many calls of each
operation got which status code: how many got past validation to the handler.
"""

from __future__ import annotations

import os
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from service.auth import ROUTE_ROLES
from tests.service.conftest import World

EXAMPLES = int(os.environ.get("JOBMATCH_SCHEMATHESIS_EXAMPLES", "5"))
#: The user of the ``world`` fixture who acts for each role.
_ACTOR = {"coach": "coach1", "employer": "employer1", "admin": "admin", "analyst": "analyst"}
_PREFERENCE = ("coach", "employer", "admin", "analyst")
_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("JOBMATCH_SCHEMATHESIS_RANDOM") != "1",
)

#: Status codes answered, per test and operation (see ``_status_summary``).
_STATUSES: defaultdict[str, Counter[int]] = defaultdict(Counter)


@pytest.fixture(scope="module", autouse=True)
def _status_summary(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if os.environ.get("JOBMATCH_SCHEMATHESIS_STATUSES") != "1":
        return
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\nschemathesis status codes per operation:")
        for name, counts in sorted(_STATUSES.items()):
            codes = ", ".join(f"{code}: {n}" for code, n in sorted(counts.items()))
            print(f"  {name}: {sum(counts.values())} calls; {codes}")


@pytest.fixture
def api_schema(world: World) -> Any:
    """The app's schema, served in-process (ASGI)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)
    schema.world = world  # type: ignore[attr-defined]
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")
if _OPERATIONS := os.environ.get("JOBMATCH_SCHEMATHESIS_OPERATIONS"):
    schema = schema.include(name_regex=_OPERATIONS)


def _route_name(case: Any) -> str | None:
    operation_id = str(case.operation.definition.raw.get("operationId") or "")
    names = [n for n in ROUTE_ROLES if operation_id.startswith(n + "_")]
    return max(names, key=len) if names else None


#: Path parameters replaced by an id of the actor's own, and how such a record is made.
_OWN_RECORD = {"participant_id": "participant", "vacancy_id": "vacancy"}


def _use_own_ids(case: Any, world: World, who: str | None) -> None:
    """Replace the ids of every other case by ids of records ``who`` owns."""
    names = [n for n in _OWN_RECORD if n in (case.path_parameters or {})]
    if not names or who is None:
        return
    generated = repr((case.path_parameters, case.query, case.body)).encode()
    if zlib.crc32(generated) % 2:
        return
    for name in names:
        key = f"{who}:{name}"
        if key not in world.ids:
            make = getattr(world, _OWN_RECORD[name])
            try:
                world.ids[key] = make(who)
            except (AssertionError, TypeError):
                try:  # a coach owns no vacancy but sees those of the world's employers
                    world.ids[key] = make()
                except AssertionError:
                    return
        case.path_parameters[name] = world.ids[key]


def _forget_deleted(case: Any, world: World, who: str | None, status: int) -> None:
    """After a ``DELETE`` of an own record, make a new one next time."""
    if case.method.upper() != "DELETE" or status >= 300:
        return
    for name, value in (case.path_parameters or {}).items():
        if name in _OWN_RECORD and world.ids.get(f"{who}:{name}") == value:
            del world.ids[f"{who}:{name}"]


def _actor(case: Any) -> str | None:
    name = _route_name(case)
    if name is None:
        return None
    allowed = {r.value for r in ROUTE_ROLES[name]}
    role = next(r for r in _PREFERENCE if r in allowed)
    return _ACTOR[role]


@schema.parametrize()
@_SETTINGS
def test_no_server_error_and_documented_responses(case: Any, api_schema: Any) -> None:
    world: World = api_schema.world
    who = _actor(case)
    headers = world.h(who) if who else {}
    _use_own_ids(case, world, who)
    response = case.call_and_validate(
        session=world.client,
        headers=headers,
        checks=[not_a_server_error, response_schema_conformance],
    )
    _STATUSES[f"as {who or 'anyone'}: {case.method} {case.path}"][response.status_code] += 1
    _forget_deleted(case, world, who, response.status_code)


@schema.parametrize()
@_SETTINGS
def test_protected_operations_refuse_unauthenticated_calls(case: Any, api_schema: Any) -> None:
    world: World = api_schema.world
    if _route_name(case) is None:
        return  # health, metrics and the schema itself are public
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = case.call(session=world.client, headers=headers)
        status = response.status_code
        _STATUSES[f"unauthenticated: {case.method} {case.path}"][status] += 1
        assert status < 500 and status not in range(200, 400), (case.method, case.path, status)
        if status in (400, 422):
            # A body that is not JSON (or a broken multipart form, whatever schemathesis
            # generated for it) is refused while it is parsed, before the token is looked
            # at; any parsable JSON body meets 401.
            multipart = case.media_type == "multipart/form-data"
            assert multipart or not isinstance(case.body, dict | list), (
                case.method, case.path, status)  # fmt: skip
        else:
            # 405 for a method the path does not have.
            assert status in (401, 405), (case.method, case.path, status)
