"""The ``jobmatch`` command line: serve, demo, users, taxonomy, import, backup."""

from __future__ import annotations

import json
import logging.config
from pathlib import Path
from typing import Annotated, Any

import typer

from service.cli_audit import audit_app
from service.cli_export import export_app
from service.cli_retention import retention_app
from service.plan_cli import plan
from service.settings import Settings, get_settings

__all__ = ["LOG_CONFIG", "app", "main"]

app = typer.Typer(help="jobmatch: job-matching recommendations (service and tools).",
                  no_args_is_help=True)  # fmt: skip
users_app = typer.Typer(help="Sign-in tokens of users.", no_args_is_help=True)
taxonomy_app = typer.Typer(help="ESCO taxonomy.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(taxonomy_app, name="taxonomy")
models_app = typer.Typer(help="Scoring models: list, activate, back to the default.",
                         no_args_is_help=True)  # fmt: skip
app.add_typer(models_app, name="models")
app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")
app.add_typer(export_app, name="export")
app.command("plan")(plan)

#: Logging of ``serve``: one JSON line per request on stdout, warnings on stderr.
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(message)s"},
                   "default": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "access": {"class": "logging.StreamHandler", "formatter": "plain",
                   "stream": "ext://sys.stdout"},
        "default": {"class": "logging.StreamHandler", "formatter": "default",
                    "stream": "ext://sys.stderr"},
    },
    "loggers": {
        "service.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "service": {"handlers": ["default"], "level": "WARNING", "propagate": False},
        "uvicorn": {"handlers": ["default"], "level": "WARNING", "propagate": False},
        "uvicorn.error": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}  # fmt: skip


def _settings(database_url: str | None = None) -> Settings:
    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


def _database(settings: Settings) -> Any:
    from service.db import Database, upgrade_database

    db = Database(settings.database_url, timeout_seconds=settings.request_timeout_seconds)
    upgrade_database(db.engine)
    return db


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="overrides JOBMATCH_DATABASE_URL")
]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: JOBMATCH_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: JOBMATCH_PORT")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker processes")] = 1,
) -> None:
    """Run the HTTP service with uvicorn (migrates the database first if it answers).

    A database that is down at start does not stop the service: it answers 503 with
    ``Retry-After`` and migrates as soon as the database is back.
    """
    import uvicorn
    from sqlalchemy import exc as sa_exc

    settings = _settings()
    try:
        _database(settings).dispose()
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        typer.echo(f"jobmatch: database unavailable ({type(exc).__name__}); serving 503 "
                   "until it answers", err=True)  # fmt: skip
    host = host or settings.host
    port = port or settings.port
    logging.config.dictConfig(LOG_CONFIG)
    typer.echo(f"jobmatch: http://{host}:{port}/web/ (pages), /docs (API under /api/v1)", err=True)
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=LOG_CONFIG,
        access_log=False,
    )


@app.command()
def demo(
    serve_after: Annotated[bool, typer.Option("--serve", help="start the service afterwards")] = (
        False
    ),
    force: Annotated[
        bool, typer.Option(help="also wipe a database that holds non-demo data")
    ] = False,
    database_url: DatabaseUrl = None,
    random_state: Annotated[int, typer.Option(help="seed of the demo market")] = 0,
    employers: Annotated[int, typer.Option(min=1, help="number of employers")] = 60,
    vacancies: Annotated[int, typer.Option(min=0, help="number of vacancies")] = 300,
    participants: Annotated[int, typer.Option(min=0, help="number of participants")] = 200,
) -> None:
    """Create (or refresh) a demo database from the Bielefeld demo market and print tokens."""
    from service.demo import DemoRefusedError, load_demo

    settings = _settings(database_url)
    db = _database(settings)
    try:
        summary = load_demo(
            db, settings, force=force, random_state=random_state, n_employers=employers,
            n_vacancies=vacancies, n_participants=participants,
        )  # fmt: skip
    except DemoRefusedError as exc:
        db.dispose()
        _fail(str(exc))
        return
    db.dispose()
    typer.echo(
        f"demo database {settings.database_url}: {summary.employers} employers, "
        f"{summary.vacancies} vacancies, {summary.participants} participants"
    )
    for role, (name, token) in summary.tokens.items():
        typer.echo(f"{role:9s} {name:14s} {token}")
    prefix = f"JOBMATCH_DATABASE_URL={settings.database_url} " if database_url else ""
    start = "starting now" if serve_after else f"start it with: {prefix}jobmatch serve"
    typer.echo(
        f"open http://{settings.host}:{settings.port}/web/ (pages, sign in with a token) "
        f"or http://{settings.host}:{settings.port}/docs (API) ({start})"
    )
    if serve_after:
        import os

        os.environ["JOBMATCH_DATABASE_URL"] = settings.database_url
        get_settings.cache_clear()
        serve(host=None, port=None, workers=1)


@users_app.command("create")
def users_create(
    name: Annotated[str, typer.Option(help="unique user name")],
    role: Annotated[str, typer.Option(help="admin, coach, employer or analyst")],
    employer_id: Annotated[int | None, typer.Option(help="required for employer users")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a user; the new token is printed as the last line."""
    from service.auth import create_user
    from service.errors import ServiceError

    db = _database(_settings(database_url))
    try:
        with db.session() as session:
            user, token = create_user(session, name=name, role=role, employer_id=employer_id)
            typer.echo(f"created user {user.name!r} (id {user.id}, role {user.role})")
    except ServiceError as exc:
        _fail(exc.detail)
    finally:
        db.dispose()
    typer.echo(token)


@users_app.command("revoke")
def users_revoke(name: str, database_url: DatabaseUrl = None) -> None:
    """Revoke a user's token (the user can no longer sign in)."""
    from service.auth import revoke_user
    from service.errors import ServiceError

    db = _database(_settings(database_url))
    try:
        with db.session() as session:
            user = revoke_user(session, name)
            typer.echo(f"revoked user {user.name!r} (id {user.id})")
    except ServiceError as exc:
        _fail(exc.detail)
    finally:
        db.dispose()


@taxonomy_app.command("import")
def taxonomy_import(
    source: Annotated[Path, typer.Argument(help="directory of an official ESCO CSV download")],
    target: Annotated[
        Path | None, typer.Option(help="default: JOBMATCH_TAXONOMY_DIR or ./var/taxonomy")
    ] = None,
) -> None:
    """Compile an ESCO download into the service's compact taxonomy format."""
    from matching.errors import MatchingError
    from matching.taxonomy import import_esco

    settings = _settings()
    destination = target or settings.taxonomy_dir or Path("var/taxonomy")
    try:
        written = import_esco(source, destination)
    except MatchingError as exc:
        _fail(str(exc))
        return
    typer.echo(f"taxonomy written to {written}; set JOBMATCH_TAXONOMY_DIR={destination}")


@app.command("import")
def import_file(
    kind: Annotated[str, typer.Argument(help="participants or vacancies")],
    path: Annotated[Path, typer.Argument(help="CSV or XLSX file")],
    dry_run: Annotated[bool, typer.Option(help="check only, store nothing")] = False,
    coach: Annotated[
        str | None, typer.Option(help="coach user owning imported participants")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Import participants or vacancies (all or nothing per file) with a row-level report."""
    from service.domain.imports import import_rows, read_table

    settings = _settings(database_url)
    db = _database(settings)
    try:
        rows = read_table(path.read_bytes(), path.name)
        from service.context import Services

        services = Services(settings, db, migrate=False)
        services.ensure_ready()
        with db.session() as session:
            report = import_rows(
                session,
                services,
                kind=kind,
                rows=rows,
                dry_run=dry_run,
                coach_name=coach,
                actor_id=None,
            )
    finally:
        db.dispose()
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    if report["errors"]:
        raise typer.Exit(code=2)


@app.command()
def backup(
    destination: Annotated[Path, typer.Argument(help="SQLite file to write")],
    database_url: DatabaseUrl = None,
) -> None:
    """Write a consistent copy of the database (SQLite or PostgreSQL) to a SQLite file."""
    from service.backup import backup_database

    settings = _settings(database_url)
    db = _database(settings)
    try:
        counts = backup_database(db.engine, destination)
    finally:
        db.dispose()
    typer.echo(f"backup written to {destination}: " + ", ".join(
        f"{table} {n}" for table, n in counts.items()))  # fmt: skip


def _admin_services(database_url: str | None) -> Any:
    from service.context import Services

    settings = _settings(database_url)
    services = Services(settings, _database(settings), migrate=False)
    services.ensure_ready()
    return services


def _admin(session: Any, name: str) -> Any:
    from sqlalchemy import select

    from service.auth import Principal, Role
    from service.models import User

    user = session.scalar(select(User).where(User.name == name))
    if user is None or user.role != Role.ADMIN.value or user.revoked_at is not None:
        _fail(f"no active admin named {name!r}")
    return Principal(id=user.id, role=Role.ADMIN)


@models_app.command("list")
def models_list(database_url: DatabaseUrl = None) -> None:
    """List model versions and the one in force (JSON)."""
    from service.domain.learning import list_models

    services = _admin_services(database_url)
    try:
        with services.db.session() as session:
            typer.echo(json.dumps(list_models(session, services), indent=2, default=str))
    finally:
        services.db.dispose()


@models_app.command("activate")
def models_activate(
    name: str,
    version: str,
    admin: Annotated[str, typer.Option(help="the admin user taking the decision")],
    override_reason: Annotated[
        str | None, typer.Option(help="activate although the promotion gate refuses")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Activate a model version through the promotion gate (running workers swap)."""
    from matching.errors import MatchingError
    from service.domain.learning import activate_model
    from service.errors import ServiceError

    services = _admin_services(database_url)
    try:
        with services.db.session() as session:
            result = activate_model(
                session,
                services,
                _admin(session, admin),
                name=name,
                version=version,
                override_reason=override_reason,
            )
            typer.echo(json.dumps(result, indent=2, default=str))
    except (ServiceError, MatchingError) as exc:
        _fail(str(exc))
    finally:
        services.db.dispose()


@models_app.command("deactivate")
def models_deactivate(
    admin: Annotated[str, typer.Option(help="the admin user taking the decision")],
    reason: Annotated[str, typer.Option(help="why the default scorer is switched back on")],
    database_url: DatabaseUrl = None,
) -> None:
    """Kill switch: go back to the transparent default scorer."""
    from service.domain.learning import deactivate_model

    services = _admin_services(database_url)
    try:
        with services.db.session() as session:
            result = deactivate_model(session, services, _admin(session, admin), reason=reason)
            typer.echo(json.dumps(result, indent=2, default=str))
    finally:
        services.db.dispose()


def main() -> None:
    """Entry point of the ``jobmatch`` command."""
    app()
