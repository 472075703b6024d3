"""Fixtures of the reliability tests: the service tests' app, client and users of every
role (SQLite always, PostgreSQL with ``JOBMATCH_TEST_POSTGRES_URL``)."""

from __future__ import annotations

from tests.service.conftest import app, client, shared_app, world

__all__ = ["app", "client", "shared_app", "world"]
