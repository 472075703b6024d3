"""Settings of the service, read from ``JOBMATCH_*`` environment variables.

Nothing is read at import time: :func:`get_settings` builds the settings on first call
and caches them; the app factory accepts an explicit :class:`Settings` instead.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Runtime configuration of the jobmatch service.

    Every field can be set through an environment variable named ``JOBMATCH_<FIELD>``
    (for example ``JOBMATCH_DATABASE_URL``).

    Attributes
    ----------
    database_url : str
        SQLAlchemy URL. A SQLite file by default; PostgreSQL through
        ``postgresql+psycopg://user@host:5432/dbname``.
    taxonomy_dir : Path or None
        Directory of an ESCO taxonomy imported with ``jobmatch taxonomy import``; the
        bundled taxonomy is used when unset.
    models_dir : Path
        Directory of versioned model artefacts (``<name>/<version>/model.joblib``).
    max_body_bytes : int
        Largest accepted request body; larger bodies answer 413.
    max_limit : int
        Largest ``limit`` accepted by list, ``matches`` and ``candidates`` routes.
    pseudonym_secret : SecretStr or None
        Key for the actors' pseudonyms in the audit log. When unset, a random key is
        generated once and stored in the database.
    request_timeout_seconds : float
        Upper bound for waiting on the database (connect, lock, statement).
    request_deadline_seconds : float
        A request that has not begun its answer after this long is answered 504 with
        ``Retry-After`` (:mod:`service.timeouts`); ``/health/live`` has no deadline.
    rate_limit_per_second : float
        Requests per second each user (bearer token or session cookie; the client
        address without either) may make per worker process, with failed sign-ins
        slowed down (:mod:`service.ratelimit`); 0 switches both off. The default, 10 per
        second with bursts of 40, is above what a person at the pages (a page and its
        assets at a click) or a script for one caseload sends, and keeps one user from
        taking more than a small share of a worker (``benchmarks/bench_flood.py``).
    rate_limit_burst : int
        How many requests a user may make at once before the rate applies.
    retention_days : int
        Participants closed (``active`` false) and unchanged for longer than this are
        erased by ``jobmatch retention run``, the same way as ``DELETE``.
    audit_retention_days : int or None
        Audit records older than this may be pruned by ``jobmatch retention run``; at
        least 183 (six months, EU AI Act Art. 19 and 26). None keeps the log for ever.
    host, port : str, int
        Where ``jobmatch serve`` listens.
    """

    model_config = SettingsConfigDict(env_prefix="JOBMATCH_", extra="ignore")

    database_url: str = "sqlite:///./var/jobmatch.db"
    taxonomy_dir: Path | None = None
    models_dir: Path = Path("models")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_limit: int = Field(default=100, ge=1, le=10_000)
    pseudonym_secret: SecretStr | None = None
    request_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    request_deadline_seconds: float = Field(default=10.0, gt=0, le=600)
    rate_limit_per_second: float = Field(default=10.0, ge=0)
    rate_limit_burst: int = Field(default=40, ge=1)
    retention_days: int = Field(default=365, ge=1)
    audit_retention_days: int | None = Field(default=None, ge=183)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first call.

    Returns
    -------
    Settings
        The cached settings.
    """
    return Settings()
