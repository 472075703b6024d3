"""``jobmatch audit verify``: recompute the audit log's hash chain from the command line.

It runs the same check as ``GET /audit/verify`` (:func:`service.domain.audit.verify_chain`)
and exits with status 1 at the first altered or missing record, so that a scheduler or
a monitoring job notices.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["audit_app", "verify"]

audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@audit_app.command("verify")
def verify(
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="overrides JOBMATCH_DATABASE_URL")
    ] = None,
) -> None:
    """Verify every record of the audit log; exit 1 at the first altered or missing one."""
    from service.cli import _database, _settings
    from service.domain.audit import verify_chain

    db = _database(_settings(database_url))
    try:
        with db.session() as session:
            report = verify_chain(session)
    finally:
        db.dispose()
    if report.ok:
        typer.echo(f"OK: {report.entries} audit records, chain intact")
        return
    what = "missing (deleted)" if report.problem == "missing" else "altered"
    typer.echo(
        f"FAILED: audit record {report.first_bad_seq} is {what}; "
        f"{report.entries} records before it verify",
        err=True,
    )
    raise typer.Exit(code=1)
