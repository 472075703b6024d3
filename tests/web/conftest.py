"""Fixtures of the page tests: the app with the pages' router, users of every role, a
small market, and helpers that sign in and submit forms like a browser."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

from service.auth import create_user
from service.db import Database
from service.web.security import COOKIE_NAME
from tests.web.app_factory import build_app

API = "/api/v1"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


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
        "title": "Verkäufer:in Backwaren",
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


def found(pattern: str, text: str) -> str:
    """The first group of ``pattern`` in ``text`` (failing the test when absent)."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found"
    return match.group(1)


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found, "page has no form with a CSRF token"
    return found.group(1)


@dataclass
class World:
    """Users of every role, a small market, and a client per user."""

    app: Any
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    clients: list[TestClient] = field(default_factory=list)

    def api(self, method: str, path: str, who: str, **kwargs: Any) -> Any:
        """Call the JSON API as ``who``; fail on a non-2xx answer."""
        client = self.anonymous()
        response = client.request(
            method, API + path, headers={"Authorization": f"Bearer {self.tokens[who]}"}, **kwargs
        )
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json() if response.content else None

    def anonymous(self) -> TestClient:
        """A client without a session."""
        client = TestClient(self.app)
        client.__enter__()
        self.clients.append(client)
        return client

    def browser(self, who: str) -> TestClient:
        """A client signed in to the pages as ``who`` (through the sign-in form)."""
        client = self.anonymous()
        response = client.post("/web/signin", data={"token": self.tokens[who]},
                               follow_redirects=False)  # fmt: skip
        assert response.status_code == 303, response.text
        assert COOKIE_NAME in client.cookies
        return client

    def participant(self, coach: str = "coach1", **changes: Any) -> int:
        """Create a participant of ``coach`` through the API."""
        return int(self.api("POST", "/participants", coach, json=participant_body(**changes))["id"])

    def vacancy(self, employer: str = "employer1", **changes: Any) -> int:
        """Create a vacancy of ``employer`` through the API."""
        return int(self.api("POST", "/vacancies", employer, json=vacancy_body(**changes))["id"])

    def shortlistable(self, pid: int, coach: str = "coach1") -> None:
        """Record consent and approval through the API."""
        self.api("POST", f"/participants/{pid}/consent", coach,
                 json={"given": True, "notice_version": "test"})  # fmt: skip
        self.api("POST", f"/participants/{pid}/approval", coach, json={"approved": True})


@pytest.fixture(scope="session")
def web_app(shared_database: Database) -> Any:
    """One app with the pages per database engine."""
    return build_app(shared_database.url, database=shared_database)


@pytest.fixture
def world(web_app: Any, database: Database) -> Iterator[World]:
    """Two coaches, two employers with a user each, an admin and an analyst."""
    web_app.state.services.index.load()
    w = World(web_app)
    with database.session() as session:
        for name, role in (("admin", "admin"), ("coach1", "coach"), ("coach2", "coach"),
                           ("analyst", "analyst")):  # fmt: skip
            user, token = create_user(session, name=name, role=role)
            w.tokens[name], w.ids[name] = token, user.id
    for n, firm in ((1, "Bäckerei Sonnenschein"), (2, "Lagerlogistik Ost")):
        employer = w.api("POST", "/employers", "admin", json={"name": firm, "postcode": "33602"})
        w.ids[f"employer{n}_firm"] = employer["id"]
        with database.session() as session:
            user, token = create_user(session, name=f"employer{n}", role="employer",
                                      employer_id=employer["id"])  # fmt: skip
            w.tokens[f"employer{n}"], w.ids[f"employer{n}"] = token, user.id
    yield w
    for client in w.clients:
        client.__exit__(None, None, None)
