"""``jobmatch plan``: a coach team's placement plan as a table (or JSON) on the terminal.

The command acts as the operator (audited as ``system``), like ``jobmatch import``;
it prints identifiers, vacancy titles and scores, never participants' names.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

__all__ = ["format_plan", "plan"]

_HEADER = ("Teilnehmende:r", "Stelle", "Titel", "Score", "Rang", "Alternativen")


def _cell(value: Any) -> str:
    return "–" if value is None else str(value)


def format_plan(result: dict[str, Any], *, title_width: int = 40) -> str:
    """Render a plan (the body of ``GET /plans``) as a plain-text table.

    Parameters
    ----------
    result : dict
        :func:`service.domain.guidance.plan_for_coach`'s answer.
    title_width : int, default 40
        Vacancy titles are cut to this many characters.

    Returns
    -------
    str
        One line per participant, then a summary line.

    Examples
    --------
    >>> body = {"assignments": [{"participant_id": 7, "vacancy_id": 3, "score": 0.8123,
    ...          "own_rank": 1, "alternatives": [{"vacancy_id": 5, "score": 0.7}]}],
    ...         "vacancy_titles": {3: "Koch"}, "total_score": 0.8123, "unassigned": [],
    ...         "not_planned": {"objects_to_profiling": []}, "coach_id": 2}
    >>> print(format_plan(body))  # doctest: +NORMALIZE_WHITESPACE
    Teilnehmende:r  Stelle  Titel  Score   Rang  Alternativen
    7               3       Koch   0.8123  1     5
    Coach 2: 1 Teilnehmende, 1 mit Stelle, 0 ohne; Gesamtscore 0.8123
    """
    titles = {int(k): v for k, v in result.get("vacancy_titles", {}).items()}
    rows = []
    for a in result["assignments"]:
        title = titles.get(a["vacancy_id"], "") if a["vacancy_id"] is not None else ""
        if len(title) > title_width:
            title = title[: title_width - 1] + "…"
        rows.append(
            (
                _cell(a["participant_id"]),
                _cell(a["vacancy_id"]),
                title or "–",
                _cell(a["score"]),
                _cell(a["own_rank"]),
                ", ".join(str(alt["vacancy_id"]) for alt in a["alternatives"]) or "–",
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_HEADER)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in (_HEADER, *rows)]  # fmt: skip
    n = len(result["assignments"])
    unassigned = len(result["unassigned"])
    summary = (f"Coach {result['coach_id']}: {n} Teilnehmende, {n - unassigned} mit Stelle, "
               f"{unassigned} ohne; Gesamtscore {result['total_score']}")  # fmt: skip
    objecting = result.get("not_planned", {}).get("objects_to_profiling", [])
    if objecting:
        summary += ("; nicht geplant (Widerspruch gegen Profilbildung): "
                    + ", ".join(map(str, objecting)))  # fmt: skip
    return "\n".join([*lines, summary])


def plan(
    coach: Annotated[str, typer.Argument(help="user name of the coach whose caseload is planned")],
    alternatives: Annotated[
        int, typer.Option(min=0, max=10, help="further vacancies per participant")
    ] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="print the plan as JSON")] = False,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="overrides JOBMATCH_DATABASE_URL")
    ] = None,
) -> None:
    """Print a placement plan for a coach's active participants that respects openings."""
    from sqlalchemy import select

    from matching.errors import MatchingError
    from service.auth import Role
    from service.context import Services
    from service.db import Database, upgrade_database
    from service.domain.guidance import plan_for_coach
    from service.errors import ServiceError
    from service.models import User
    from service.settings import get_settings

    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    db = Database(settings.database_url, timeout_seconds=settings.request_timeout_seconds)
    try:
        upgrade_database(db.engine)
        services = Services(settings, db, migrate=False)
        services.ensure_ready()
        with db.session() as session:
            user = session.scalar(select(User).where(User.name == coach))
            if user is None or user.role != Role.COACH.value or user.revoked_at is not None:
                typer.echo(f"error: no active coach named {coach!r}", err=True)
                raise typer.Exit(code=1)
            result = plan_for_coach(session, services, user.id, actor_id=None,
                                    alternatives=alternatives)  # fmt: skip
    except (ServiceError, MatchingError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    else:
        typer.echo(format_plan(result))
