"""Fixtures of the service tests: an app on a clean database, users of every role, and
factories that create objects through the real HTTP API."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from service.app import create_app
from service.auth import create_user
from service.db import Database
from service.settings import Settings

API = "/api/v1"


def participant_body(**changes: Any) -> dict[str, Any]:
    """A valid participant who passes the filters of :func:`vacancy_body`."""
    body: dict[str, Any] = {
        "name": "Ayşe Kaya",
        "contact": "ayse@example.org",
        "home": {"postcode": "33605"},
        "skills": ["Kasse bedienen", "Regale auffüllen"],
        "languages": [{"language": "de", "level": "B1"}],
        "mobility": {"modes": ["walk", "transit", "bike"], "driving_licence": []},
        "hours_per_week": {"min": 20, "max": 40},
        "availability": ["early", "day", "late"],
        "work_permit": "yes",
        "desired_occupations": ["Verkäuferin"],
    }
    body.update(changes)
    return body


def vacancy_body(**changes: Any) -> dict[str, Any]:
    """A valid open vacancy near :func:`participant_body`'s home."""
    body: dict[str, Any] = {
        "title": "Verkäufer:in (m/w/d)",
        "occupation": "Verkäufer",
        "skills": [{"skill": "Kasse bedienen", "essential": True},
                   {"skill": "Kunden beraten", "essential": False}],
        "languages": [{"language": "de", "level": "A2"}],
        "location": {"postcode": "33602"},
        "hours_per_week": 30,
        "shifts": ["day"],
    }  # fmt: skip
    body.update(changes)
    return body


@dataclass
class World:
    """Users of every role and helpers that act as them."""

    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def h(self, who: str | None) -> dict[str, str]:
        """Authorization header of user ``who`` (``None``: anonymous)."""
        return {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}

    def call(self, method: str, path: str, who: str | None, **kwargs: Any) -> Any:
        """Send a request as ``who``."""
        return self.client.request(method, API + path, headers=self.h(who), **kwargs)

    def ok(self, method: str, path: str, who: str, **kwargs: Any) -> Any:
        """Send a request as ``who`` and return its JSON, failing on a non-2xx answer."""
        response = self.call(method, path, who, **kwargs)
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json() if response.content else None

    def participant(self, coach: str = "coach1", **changes: Any) -> int:
        """Create a participant of ``coach``."""
        return self.ok("POST", "/participants", coach, json=participant_body(**changes))["id"]

    def vacancy(self, employer: str = "employer1", **changes: Any) -> int:
        """Create a vacancy of ``employer``."""
        return self.ok("POST", "/vacancies", employer, json=vacancy_body(**changes))["id"]

    def shortlistable(self, pid: str | int, coach: str = "coach1") -> None:
        """Record consent and approval for a participant."""
        self.ok("POST", f"/participants/{pid}/consent", coach,
                json={"given": True, "notice_version": "2026-01"})  # fmt: skip
        self.ok("POST", f"/participants/{pid}/approval", coach, json={"approved": True})


@pytest.fixture(scope="session")
def shared_app(shared_database: Database) -> Any:
    """One application per engine (building a FastAPI app takes a while).

    Without the rate limiter: its state would outlive each test, and the many refused
    sign-ins of the authorisation tests would lock out the next tests' new tokens (it is
    tested on its own in ``tests/reliability/test_ratelimit.py``)."""
    settings = Settings(database_url=shared_database.url, request_timeout_seconds=3,
                        rate_limit_per_second=0)  # fmt: skip
    return create_app(settings, database=shared_database)


@pytest.fixture
def app(shared_app: Any, database: Database) -> Any:
    """The engine's application, its index reloaded from the emptied database."""
    shared_app.state.services.index.load()
    return shared_app


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    """A client running the app's lifespan."""
    with TestClient(app) as c:
        yield c


@pytest.fixture
def world(client: TestClient, database: Database) -> World:
    """Two employers with a user each, two coaches, an admin and an analyst."""
    w = World(client)
    with database.session() as session:
        for name, role in (("admin", "admin"), ("coach1", "coach"), ("coach2", "coach"),
                           ("analyst", "analyst")):  # fmt: skip
            user, token = create_user(session, name=name, role=role)
            w.tokens[name], w.ids[name] = token, user.id
    for n in (1, 2):
        employer = w.ok("POST", "/employers", "admin", json={"name": f"Firma {n}",
                                                           "postcode": "33602"})  # fmt: skip
        w.ids[f"employer{n}_firm"] = employer["id"]
        with database.session() as session:
            user, token = create_user(
                session, name=f"employer{n}", role="employer", employer_id=employer["id"]
            )
            w.tokens[f"employer{n}"], w.ids[f"employer{n}"] = token, user.id
    return w
