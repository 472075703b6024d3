"""``jobmatch retention run``: erase personal data past its retention period.

Meant to run once a day from a scheduler (systemd timer or cron, see docs/SERVICE.md).
The periods come from ``JOBMATCH_RETENTION_DAYS`` and ``JOBMATCH_AUDIT_RETENTION_DAYS``
(:class:`service.settings.Settings`); the options override them for one run.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["retention_app", "run"]

retention_app = typer.Typer(help="Retention of personal data and of the audit log.",
                            no_args_is_help=True)  # fmt: skip


@retention_app.command("run")
def run(
    dry_run: Annotated[bool, typer.Option(help="report only, erase nothing")] = False,
    days: Annotated[
        int | None, typer.Option(min=1, help="default: JOBMATCH_RETENTION_DAYS")
    ] = None,
    audit_days: Annotated[
        int | None,
        typer.Option(
            help="prune older audit records (at least 183); "
            "default: JOBMATCH_AUDIT_RETENTION_DAYS, unset keeps them"
        ),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="overrides JOBMATCH_DATABASE_URL")
    ] = None,
) -> None:
    """Erase closed participants past retention (as DELETE does) and prune old audit records."""
    from service.cli import _admin_services, _fail
    from service.domain.retention import run_retention
    from service.errors import ServiceError

    services = _admin_services(database_url)
    settings = services.settings
    try:
        with services.db.session() as session:
            report = run_retention(
                session,
                services,
                retention_days=days if days is not None else settings.retention_days,
                audit_retention_days=(
                    audit_days if audit_days is not None else settings.audit_retention_days
                ),
                dry_run=dry_run,
            )
    except ServiceError as exc:
        _fail(exc.detail)
        return
    finally:
        services.db.dispose()
    verb = "would erase" if dry_run else "erased"
    ids = ", ".join(str(i) for i in report.participants) or "none"
    typer.echo(f"{verb} {len(report.participants)} participants closed before "
               f"{report.participant_cutoff:%Y-%m-%d} (ids: {ids})")  # fmt: skip
    if report.audit_cutoff is None:
        typer.echo("audit log kept in full (no audit retention set)")
    else:
        verb = "would prune" if dry_run else "pruned"
        typer.echo(f"{verb} {report.audit_records} audit records older than "
                   f"{report.audit_cutoff:%Y-%m-%d}")  # fmt: skip
