"""The long-lived objects of one running app: settings, database, taxonomy, index, audit.

:class:`Services` is built by the app factory's lifespan and reached by handlers
through :func:`get_services`. Reference data (taxonomy, geocoder) is loaded once per
process and shared between apps of the same process (tests build many apps).
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import exc as sa_exc

from matching import CommuteModel, Geocoder, Matcher, Taxonomy
from service.db import Database, upgrade_database
from service.domain.audit import AuditLog, load_service_secret
from service.errors import ServiceUnavailableError
from service.resolution import Resolver
from service.scoring import ScoringIndex
from service.settings import Settings

__all__ = ["Services", "Svc", "get_services", "load_geocoder", "load_taxonomy"]

_log = logging.getLogger("service.context")


@lru_cache(maxsize=4)
def load_taxonomy(directory: Path | None) -> Taxonomy:
    """Load (once per process) the taxonomy in ``directory``, or the shipped one."""
    return Taxonomy.load(directory)


@lru_cache(maxsize=1)
def load_geocoder() -> Geocoder:
    """Load (once per process) the shipped geocoder."""
    return Geocoder.load()


class Services:
    """Everything a request needs besides its session.

    Parameters
    ----------
    settings : Settings
    db : Database
    migrate : bool, default=True
        Run ``alembic upgrade head`` before first use.
    """

    def __init__(self, settings: Settings, db: Database, *, migrate: bool = True) -> None:
        self.settings = settings
        self.db = db
        self.taxonomy = load_taxonomy(settings.taxonomy_dir)
        self.resolver = Resolver(self.taxonomy)
        geocoder = load_geocoder()
        self.index = ScoringIndex(
            lambda: Matcher(taxonomy=self.taxonomy, geocoder=geocoder, commute=CommuteModel()),
            db.sessionmaker,
            models_dir=settings.models_dir,
        )
        self._migrate = migrate
        self._migrated = not migrate
        self._audit: AuditLog | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Migrate the database and load the index; tolerate a database that is down.

        Whatever fails here is retried on the next request (:meth:`ensure_ready`).
        """
        try:
            self.ensure_ready()
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
            _log.warning(
                "database unavailable at start (%s); retrying on demand", type(exc).__name__
            )

    @property
    def is_ready(self) -> bool:
        """Whether :meth:`ensure_ready` has nothing left to do."""
        return self._audit is not None and self.index.ready

    def ensure_ready(self) -> None:
        """Migrate, read the pseudonym secret and load the index, each once.

        Called before a request opens its own transaction (SQLite allows one writer, so
        these short sessions must never wait for the request's). Raises the driver's
        error if the database is down.
        """
        if self.is_ready:
            return
        with self._lock:
            if not self._migrated:
                upgrade_database(self.db.engine)
                self._migrated = True
            if self._audit is None:
                configured = self.settings.pseudonym_secret
                with self.db.session() as session:
                    secret = load_service_secret(
                        session, configured.get_secret_value() if configured else None
                    )
                self._audit = AuditLog(secret)
            if not self.index.ready:
                self.index.load()

    def audit(self) -> AuditLog:
        """Return the audit log writer.

        Raises
        ------
        ServiceUnavailableError
            :meth:`ensure_ready` has not succeeded yet.
        """
        if self._audit is None:
            raise ServiceUnavailableError("Der Dienst startet noch; bitte erneut versuchen.")
        return self._audit


async def get_services(request: Request) -> Services:
    """Return the app's :class:`Services`, migrating the database first if still due.

    Once ready (every request after the first) this does no I/O and stays on the event
    loop; the migration and index load, when still due, run in the thread pool.
    """
    services: Services = request.app.state.services
    if not services.is_ready:
        await run_in_threadpool(services.ensure_ready)
    return services


Svc = Annotated[Services, Depends(get_services)]
