"""Alembic environment: migrates the engine the service hands over, or the settings' URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from service.db import make_engine
from service.models import Base
from service.settings import get_settings

target_metadata = Base.metadata


def _engine() -> Engine:
    engine = context.config.attributes.get("engine")
    if engine is not None:
        return engine
    settings = get_settings()
    return make_engine(settings.database_url, timeout_seconds=settings.request_timeout_seconds)


def run_migrations_online() -> None:
    """Run migrations on a live connection."""
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
