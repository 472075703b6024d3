"""``jobmatch export …``: pseudonymous exports for analysts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["export_app"]

export_app = typer.Typer(help="Pseudonymous exports for analysts.", no_args_is_help=True)


@export_app.command("training")
def export_training(
    path: Annotated[Path, typer.Argument(help="file to write, *.parquet or *.csv")],
    format: Annotated[
        str | None, typer.Option("--format", help="parquet or csv (default: by the suffix)")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="overrides JOBMATCH_DATABASE_URL")
    ] = None,
) -> None:
    """Write the training table (one row per shown or acted-on pair, no names or free text).

    The same table as GET /api/v1/analytics/training-data, built from the audit log. The
    file appears whole or not at all.
    """
    from matching.errors import InvalidInputError
    from service.cli import _database, _fail, _settings
    from service.db import READ_ONLY
    from service.domain.learning import export_format, export_training_table

    try:
        export_format(path, format)
    except InvalidInputError as exc:
        _fail(str(exc))
    db = _database(_settings(database_url))
    try:
        with db.session() as session:
            session.connection(execution_options=READ_ONLY)
            table = export_training_table(session, path, format)
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}")
        return
    finally:
        db.dispose()
    positives = int(table["label"].sum()) if len(table) else 0
    typer.echo(f"training table written to {path}: {len(table)} pairs, {positives} positive")
