"""Guidance over HTTP: next steps, requirement insights, placement plans, spread matches
and ``jobmatch plan``, on tiny markets whose answers are known."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from fastapi import Depends
from typer.testing import CliRunner

from matching.capacity import DEFAULT_TOLERANCE
from service.app import create_app
from service.auth import ROUTE_ROLES, Principal, Role, authorize
from service.db import Database
from service.domain.guidance import (
    NO_PROFILING_NOTE,
    already_sent,
    participant_matches_spread,
    spread_cutoffs,
)
from service.observability import iter_routes
from service.plan_cli import format_plan, plan
from service.routes import API_PREFIX, ERROR_RESPONSES
from service.routes.guidance import router
from service.settings import Settings
from tests.service.conftest import World

#: The policy these routes need in ``service.auth.ROUTE_ROLES``.
POLICY = {
    "participant_next_steps": frozenset({Role.COACH}),
    "vacancy_insights": frozenset({Role.ADMIN, Role.EMPLOYER}),
    "team_plan": frozenset({Role.ADMIN, Role.COACH}),
}


@pytest.fixture(scope="module")
def guidance_app(shared_database: Database) -> Any:
    """An app of this module's own with the guidance router, included as ``api_router``
    includes its routers (or as shipped, once wired there)."""
    settings = Settings(database_url=shared_database.url, request_timeout_seconds=3)
    app = create_app(settings, database=shared_database)
    if not {r.name for r in iter_routes(app.routes)} >= set(POLICY):
        app.include_router(
            router,
            prefix=API_PREFIX,
            dependencies=[Depends(authorize)],
            responses=ERROR_RESPONSES,
        )
    return app


@pytest.fixture
def app(guidance_app: Any, database: Database, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Overrides the conftest's ``app``: this module's app, index reloaded, policy set."""
    for name, roles in POLICY.items():
        if name not in ROUTE_ROLES:
            monkeypatch.setitem(ROUTE_ROLES, name, roles)
    guidance_app.state.services.index.load()
    return guidance_app


def _outcome(world: World, pid: int, vid: int, status: str, coach: str = "coach1") -> None:
    world.ok("POST", "/outcomes", coach,
             json={"participant_id": pid, "vacancy_id": vid, "status": status})  # fmt: skip


# ----------------------------------------------------------------------- next steps


def test_one_german_level_short_is_told_that_step_and_count(world: World) -> None:
    pid = world.participant(languages=[{"language": "de", "level": "A2"}])
    b1 = [world.vacancy(languages=[{"language": "de", "level": "B1"}]) for _ in range(4)]
    world.vacancy()  # A2: already a good match, opened by nothing
    body = world.ok("GET", f"/participants/{pid}/next-steps", "coach1")
    assert body["profiled"] is True and body["participant_id"] == pid
    first = body["items"][0]
    assert first["kind"] == "language"
    assert first["label_de"] == "Deutsch A2 → B1"
    assert first["additional"] == 4
    assert first["text_de"] == "Deutsch A2 → B1: 4 weitere Stellen"
    assert sorted(first["vacancy_ids"]) == sorted(b1)
    assert all(isinstance(v, int) for v in first["vacancy_ids"])
    assert all(item["additional"] < 4 for item in body["items"][1:])


def _override(world: World, pid: int, vid: int, code: str = "language_too_low") -> None:
    body = {"vacancy_id": vid, "reason_code": code, "reason": "Betrieb bietet Kurs an"}
    world.ok("POST", f"/participants/{pid}/overrides", "coach1", json=body)


def test_next_steps_count_an_overridden_vacancy_as_passing(world: World) -> None:
    pid = world.participant(languages=[{"language": "de", "level": "A2"}])
    b1 = [world.vacancy(languages=[{"language": "de", "level": "B1"}]) for _ in range(4)]
    _override(world, pid, b1[0])
    first = world.ok("GET", f"/participants/{pid}/next-steps", "coach1")["items"][0]
    assert first["text_de"] == "Deutsch A2 → B1: 3 weitere Stellen"
    assert sorted(first["vacancy_ids"]) == sorted(b1[1:])


def test_next_steps_limit_and_audit(world: World, database: Database) -> None:
    pid = world.participant(languages=[{"language": "de", "level": "A2"}],
                            hours_per_week={"min": 10, "max": 20})  # fmt: skip
    world.vacancy(languages=[{"language": "de", "level": "B1"}])
    world.vacancy(hours_per_week=30)
    body = world.ok("GET", f"/participants/{pid}/next-steps?limit=1", "coach1")
    assert len(body["items"]) == 1
    entries = world.ok("GET", "/audit?action=next_steps", "admin")["items"]
    assert entries and entries[-1]["payload"]["items"][0]["kind"] == body["items"][0]["kind"]
    assert "Ayşe" not in str(entries)


def test_objection_to_profiling_gives_an_empty_list_with_a_note(world: World) -> None:
    pid = world.participant(objects_to_profiling=True,
                            languages=[{"language": "de", "level": "A2"}])  # fmt: skip
    world.vacancy(languages=[{"language": "de", "level": "B1"}])
    body = world.ok("GET", f"/participants/{pid}/next-steps", "coach1")
    assert body == {"participant_id": pid, "profiled": False, "model_version": None,
                    "items": [], "note": NO_PROFILING_NOTE}  # fmt: skip


@pytest.mark.parametrize(("who", "status"), [("coach2", 404), ("admin", 403),
                                             ("employer1", 403), (None, 401)])  # fmt: skip
def test_next_steps_only_for_the_own_coach(world: World, who: str | None, status: int) -> None:
    pid = world.participant()
    response = world.call("GET", f"/participants/{pid}/next-steps", who)
    assert response.status_code == status, response.text
    assert set(response.json()) >= {"error", "detail"}


def test_next_steps_bad_input(world: World) -> None:
    pid = world.participant()
    for query in ("limit=0", "limit=21", "limit=x"):
        response = world.call("GET", f"/participants/{pid}/next-steps?{query}", "coach1")
        assert response.status_code == 422 and response.json()["fields"] == ["limit"]
    assert world.call("GET", "/participants/0/next-steps", "coach1").status_code == 422
    world.ok("PATCH", f"/participants/{pid}", "coach1", json={"active": False})
    response = world.call("GET", f"/participants/{pid}/next-steps", "coach1")
    assert response.status_code == 409 and response.json()["error"] == "conflict"


# ------------------------------------------------------------------------- insights


def _licence_market(world: World, n: int) -> int:
    vid = world.vacancy(driving_licence_required="B")
    for _ in range(n):
        world.shortlistable(world.participant())
    return vid


def test_licence_requirement_that_excludes_most_is_named_first(world: World) -> None:
    vid = _licence_market(world, 6)
    body = world.ok("GET", f"/vacancies/{vid}/insights", "employer1")
    first = body["items"][0]
    assert first["kind"] == "driving_licence"
    assert first["additional"] == 6 and first["count_display"] == "6"
    assert first["label_de"] == "Kein Führerschein erforderlich"
    assert body["vacancy_id"] == vid
    assert all(i["additional"] is None for i in body["items"][1:])
    assert "participant" not in str(body)


def test_insight_counts_under_five_are_masked(world: World) -> None:
    vid = _licence_market(world, 3)
    world.participant()  # no consent: never counted
    body = world.ok("GET", f"/vacancies/{vid}/insights", "admin")
    licence = next(i for i in body["items"] if i["kind"] == "driving_licence")
    assert licence["additional"] is None and licence["count_display"] == "weniger als 5"
    assert all(i["additional"] is None for i in body["items"])


@pytest.mark.parametrize(("who", "status"), [("employer2", 404), ("coach1", 403),
                                             ("analyst", 403), (None, 401)])  # fmt: skip
def test_insights_only_for_the_own_employer(world: World, who: str | None, status: int) -> None:
    vid = world.vacancy()
    response = world.call("GET", f"/vacancies/{vid}/insights", who)
    assert response.status_code == status, response.text


def test_insights_of_a_closed_vacancy_conflict(world: World) -> None:
    vid = world.vacancy()
    world.ok("PATCH", f"/vacancies/{vid}", "employer1", json={"status": "closed"})
    response = world.call("GET", f"/vacancies/{vid}/insights", "employer1")
    assert response.status_code == 409
    assert world.call("GET", "/vacancies/999999/insights", "admin").status_code == 404


# ---------------------------------------------------------------------------- plans


def _check_capacity(body: dict[str, Any], openings: dict[int, int]) -> None:
    firsts = [a["vacancy_id"] for a in body["assignments"] if a["vacancy_id"] is not None]
    for vid, capacity in openings.items():
        assert firsts.count(vid) <= capacity


def test_plan_never_assigns_more_people_than_openings(world: World, database: Database) -> None:
    team = [world.participant() for _ in range(3)]
    v1 = world.vacancy(openings=1)
    v2 = world.vacancy(openings=1)
    body = world.ok("GET", "/plans", "coach1")
    assert body["coach_id"] == world.ids["coach1"]
    assert [a["participant_id"] for a in body["assignments"]] == team
    _check_capacity(body, {v1: 1, v2: 1})
    assert len(body["unassigned"]) == 1
    assert body["assigned"] == {str(v1): 1, str(v2): 1}
    assert body["vacancy_titles"][str(v1)] == "Verkäufer:in (m/w/d)"
    # An applied and a proposed outcome (one participant twice counts once) take v1's
    # opening; coach2's outcome counts too.
    other = world.participant(coach="coach2")
    _outcome(world, other, v1, "proposed", coach="coach2")
    _outcome(world, other, v1, "applied", coach="coach2")
    _outcome(world, team[0], v2, "rejected")
    with database.session() as session:
        assert already_sent(session) == {str(v1): 1}
    body = world.ok("GET", f"/plans?coach={world.ids['coach1']}&alternatives=0", "coach1")
    assert [a["vacancy_id"] for a in body["assignments"]].count(v1) == 0
    assert body["assigned"] == {str(v2): 1}
    assert all(a["alternatives"] == [] for a in body["assignments"])
    assert len(body["unassigned"]) == 2


def test_plan_applies_the_coachs_overrides(world: World) -> None:
    pid = world.participant(languages=[{"language": "de", "level": "A2"}])
    vid = world.vacancy(openings=1, languages=[{"language": "de", "level": "B2"}])
    assert world.ok("GET", "/plans", "coach1")["unassigned"] == [pid]
    _override(world, pid, vid, "hours_incompatible")  # not the filter that fails
    assert world.ok("GET", "/plans", "coach1")["unassigned"] == [pid]
    _override(world, pid, vid)
    body = world.ok("GET", "/plans", "coach1")
    assert body["unassigned"] == [] and body["assignments"][0]["vacancy_id"] == vid
    assert body["assigned"] == {str(vid): 1}


def test_plan_offers_alternatives_and_leaves_out_objections(world: World) -> None:
    team = [world.participant() for _ in range(2)]
    objecting = world.participant(objects_to_profiling=True)
    vids = [world.vacancy(openings=2) for _ in range(3)]
    body = world.ok("GET", "/plans?alternatives=2", "coach1")
    assert [a["participant_id"] for a in body["assignments"]] == team
    assert body["not_planned"] == {"objects_to_profiling": [objecting]}
    for a in body["assignments"]:
        assert a["vacancy_id"] in vids and a["own_rank"] >= 1
        alternatives = [alt["vacancy_id"] for alt in a["alternatives"]]
        assert alternatives and a["vacancy_id"] not in alternatives
        assert set(alternatives) <= set(vids)
    _check_capacity(body, dict.fromkeys(vids, 2))
    entries = world.ok("GET", "/audit?action=plan", "admin")["items"]
    assert entries and len(entries[-1]["participants"]) == 2


def test_plan_lists_participants_in_numeric_id_order(world: World) -> None:
    team = [world.participant() for _ in range(11)]
    world.vacancy(openings=3)
    body = world.ok("GET", "/plans?alternatives=0", "coach1")
    assert [a["participant_id"] for a in body["assignments"]] == sorted(team)
    assert body["unassigned"] == sorted(body["unassigned"]) and len(body["unassigned"]) == 8
    assert list(body["assigned"].values()) == [3]
    entry = world.ok("GET", "/audit?action=plan", "admin")["items"][-1]
    assert len(entry["participants"]) == 11
    assert all(a["participant"] in entry["participants"] for a in entry["payload"]["assignments"])


def test_plan_access(world: World) -> None:
    world.participant()
    world.vacancy()
    coach1, coach2 = world.ids["coach1"], world.ids["coach2"]
    assert world.ok("GET", f"/plans?coach={coach1}", "admin")["coach_id"] == coach1
    assert world.ok("GET", f"/plans?coach={coach2}", "admin")["assignments"] == []
    foreign = world.call("GET", f"/plans?coach={coach2}", "coach1")
    assert foreign.status_code == 404 and foreign.json()["fields"] == ["coach"]
    missing = world.call("GET", "/plans", "admin")
    assert missing.status_code == 422 and missing.json()["fields"] == ["coach"]
    not_a_coach = world.call("GET", f"/plans?coach={world.ids['analyst']}", "admin")
    assert not_a_coach.status_code == 404
    for who, status in (("employer1", 403), ("analyst", 403), (None, 401)):
        assert world.call("GET", f"/plans?coach={coach1}", who).status_code == status
    for query in ("alternatives=11", "alternatives=-1", "coach=0"):
        assert world.call("GET", f"/plans?{query}", "coach1").status_code == 422


# --------------------------------------------------------------------------- spread


def _spread(world: World, app: Any, pid: int, **kwargs: Any) -> dict[str, Any]:
    user = Principal(id=world.ids["coach1"], role=Role.COACH)
    with app.state.db.session() as session:
        return participant_matches_spread(session, app.state.services, user, pid, **kwargs)


def test_spread_prefers_the_vacancy_fewer_people_are_sent_to(world: World, app: Any) -> None:
    pid = world.participant()
    first, second = world.vacancy(), world.vacancy()
    plain = world.ok("GET", f"/participants/{pid}/matches", "coach1")
    assert [i["vacancy_id"] for i in plain["items"]] == [first, second]
    body = _spread(world, app, pid, limit=10)
    assert [i["vacancy_id"] for i in body["items"]] == [first, second]  # nobody sent yet
    for _ in range(2):
        _outcome(world, world.participant(), first, "proposed")
    body = _spread(world, app, pid, limit=10)
    assert [i["vacancy_id"] for i in body["items"]] == [second, first]
    assert [i["rank"] for i in body["items"]] == [1, 2]
    assert body["spread"] == {"applied": True, "tolerance": DEFAULT_TOLERANCE}
    assert {i["vacancy_id"]: i["score"] for i in body["items"]} == {
        i["vacancy_id"]: i["score"] for i in plain["items"]
    }
    # Two people on first's one opening is saturation (above one per opening and 1.2 x the
    # average of one): it yields even with tolerance 0; the explanation says why.
    body = _spread(world, app, pid, limit=10, tolerance=0.0)
    assert [i["vacancy_id"] for i in body["items"]] == [second, first]
    assert body["items"][1]["explanation"]["spread"]["saturated"] is True
    assert "pro freiem Platz" in body["items"][1]["explanation"]["summary_de"][-1]


def test_spread_counts_people_sent_per_opening(world: World, app: Any) -> None:
    pid = world.participant()
    large, small = world.vacancy(openings=3), world.vacancy(openings=1)
    plain = [i["vacancy_id"] for i in world.ok("GET", f"/participants/{pid}/matches",
                                                "coach1")["items"]]  # fmt: skip
    assert plain == [large, small]
    # Two sent to the vacancy with three openings (load 2/3), one to the one with one
    # opening (load 1): the larger vacancy still has room and stays first.
    for _ in range(2):
        _outcome(world, world.participant(), large, "applied")
    _outcome(world, world.participant(), small, "proposed")
    assert [i["vacancy_id"] for i in _spread(world, app, pid, limit=10)["items"]] == plain
    # A third: the larger one is full (load 1) as well, a tie goes to the score ...
    _outcome(world, world.participant(), large, "proposed")
    assert [i["vacancy_id"] for i in _spread(world, app, pid, limit=10)["items"]] == plain
    # ... and a fourth puts it over its openings (load 4/3): the smaller one comes first.
    _outcome(world, world.participant(), large, "proposed")
    assert [i["vacancy_id"] for i in _spread(world, app, pid, limit=10)["items"]] == [
        small, large]  # fmt: skip


def test_spread_over_http(world: World) -> None:
    pid = world.participant()
    first, second = world.vacancy(), world.vacancy()
    for _ in range(2):
        _outcome(world, world.participant(), first, "proposed")
    body = world.ok("GET", f"/participants/{pid}/matches?spread=true", "coach1")
    assert [i["vacancy_id"] for i in body["items"]] == [second, first]
    assert body["spread"]["applied"] is True
    plain = world.ok("GET", f"/participants/{pid}/matches", "coach1")
    assert [i["vacancy_id"] for i in plain["items"]] == [first, second]
    assert "spread" not in plain
    assert world.call("GET", f"/participants/{pid}/matches?spread=perhaps",
                      "coach1").status_code == 422


def test_spread_keeps_the_unranked_list_of_an_objection(world: World, app: Any) -> None:
    pid = world.participant(objects_to_profiling=True)
    world.vacancy()
    body = _spread(world, app, pid, limit=5)
    assert body["ranked"] is False and body["spread"]["applied"] is False
    assert body["items"][0]["score"] is None


def test_spread_refuses_another_coachs_participant(world: World, app: Any) -> None:
    from service.errors import NotFoundError

    pid = world.participant(coach="coach2")
    with pytest.raises(NotFoundError):
        _spread(world, app, pid, limit=5)


# ------------------------------------------------------------------------------ CLI


@pytest.fixture
def cli() -> Iterator[typer.Typer]:
    """A Typer app with ``plan`` as its only command (as ``jobmatch plan`` runs it)."""
    command_app = typer.Typer()
    command_app.command("plan")(plan)
    yield command_app


def test_plan_command_prints_a_table(world: World, database_url: str, cli: typer.Typer) -> None:
    pid = world.participant()
    vid = world.vacancy()
    runner = CliRunner()
    result = runner.invoke(cli, ["coach1", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].split()[:3] == ["Teilnehmende:r", "Stelle", "Titel"]
    assert lines[1].split()[:2] == [str(pid), str(vid)]
    assert lines[-1].startswith(f"Coach {world.ids['coach1']}: 1 Teilnehmende, 1 mit Stelle")
    assert "Ayşe" not in result.output
    as_json = runner.invoke(cli, ["coach1", "--json", "--database-url", database_url])
    assert as_json.exit_code == 0 and '"assignments"' in as_json.output
    wrong = runner.invoke(cli, ["admin", "--database-url", database_url])
    assert wrong.exit_code == 1 and "no active coach named 'admin'" in wrong.output


def test_format_plan_marks_unassigned() -> None:
    body = {"assignments": [{"participant_id": 4, "vacancy_id": None, "score": None,
                             "own_rank": None, "alternatives": []}],
            "vacancy_titles": {}, "total_score": 0.0, "unassigned": [4],
            "not_planned": {"objects_to_profiling": [9]}, "coach_id": 1}  # fmt: skip
    text = format_plan(body)
    assert text.splitlines()[1].split() == ["4", "–", "–", "–", "–", "–"]
    assert "0 mit Stelle, 1 ohne" in text and "Profilbildung): 9" in text


def test_market_cutoffs_of_an_earlier_index_load_are_not_reused(world: World, app: Any) -> None:
    """A full reload (an outage, a reset database whose ids start again) drops the cached
    cutoffs: they may name vacancies of another market."""
    world.participant()
    world.vacancy()
    index = app.state.services.index
    with app.state.db.session() as session:
        first = spread_cutoffs(session, index, index.require())
        assert first is not None
        assert spread_cutoffs(session, index, index.require()) is first  # cached
        session.rollback()
        index.load()
        again = spread_cutoffs(session, index, index.require())
    assert again is not None and again is not first
