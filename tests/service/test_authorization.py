"""Authorisation matrix: every route × role × own/foreign object.

The expected policy is written out here, independently of ``service.auth``; the
route list comes from ``app.routes``, so a route added without a row here fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from service.observability import iter_routes
from tests.service.conftest import World, participant_body, vacancy_body

ADMIN, COACH, EMPLOYER, ANALYST = "admin", "coach", "employer", "analyst"
ROLES = (ADMIN, COACH, EMPLOYER, ANALYST, None)
USER = {ADMIN: "admin", COACH: "coach1", EMPLOYER: "employer1", ANALYST: "analyst", None: None}


@dataclass(frozen=True)
class Case:
    """One route: who may call it, for whom ownership matters, how to call it."""

    method: str
    path: str
    roles: frozenset[str]
    scoped: frozenset[str]
    ok: int
    request: Callable[[World, dict[str, Any], str | None], tuple[str, dict[str, Any] | None]]
    upload: bytes | None = None


def _ids(w: World, foreign: bool) -> dict[str, Any]:
    """Objects the caller owns (coach1, employer1) or, with ``foreign``, does not."""
    coach = "coach2" if foreign else "coach1"
    employer = "employer2" if foreign else "employer1"
    pid = w.participant(coach=coach)
    w.shortlistable(pid, coach=coach)
    vid = w.vacancy(employer=employer)
    own_vid = w.vacancy(employer="employer1")
    w.ok("POST", f"/vacancies/{own_vid}/releases", coach, json={"participant_id": pid})
    ref = w.ok("GET", f"/vacancies/{vid}/candidates", employer)["items"][0]["candidate_ref"]
    return {"pid": pid, "vid": vid, "firm": w.ids[f"{employer}_firm"], "ref": ref,
            "coach": w.ids[coach]}  # fmt: skip


def _outcome(w: World, ids: dict[str, Any], role: str | None) -> tuple[str, dict[str, Any]]:
    if role == EMPLOYER:
        return "/outcomes", {"vacancy_id": ids["vid"], "candidate_ref": ids["ref"],
                             "status": "interview"}  # fmt: skip
    return "/outcomes", {"vacancy_id": ids["vid"], "participant_id": ids["pid"],
                         "status": "applied"}  # fmt: skip


def _vacancy_create(w: World, ids: dict[str, Any], role: str | None) -> tuple[str, dict]:
    return "/vacancies", vacancy_body(employer_id=ids["firm"])


A, C, E, N = frozenset({ADMIN}), frozenset({COACH}), frozenset({EMPLOYER}), frozenset({ANALYST})
EVERYONE = A | C | E | N
NONE: frozenset[str] = frozenset()

CASES: dict[str, Case] = {
    "create_employer": Case("POST", "", A, NONE, 201,
                            lambda w, i, r: ("/employers", {"name": "Neu GmbH"})),
    "list_employers": Case("GET", "", A, NONE, 200, lambda w, i, r: ("/employers", None)),
    "get_employer": Case("GET", "", A | E, E, 200,
                         lambda w, i, r: (f"/employers/{i['firm']}", None)),
    "update_employer": Case("PATCH", "", A, NONE, 200,
                            lambda w, i, r: (f"/employers/{i['firm']}", {"name": "X"})),
    "delete_employer": Case("DELETE", "", A, NONE, 409,
                            lambda w, i, r: (f"/employers/{i['firm']}", None)),
    "create_vacancy": Case("POST", "", A | E, E, 201, _vacancy_create),
    "list_vacancies": Case("GET", "", A | C | E, NONE, 200, lambda w, i, r: ("/vacancies", None)),
    "get_vacancy": Case("GET", "", A | C | E, E, 200,
                        lambda w, i, r: (f"/vacancies/{i['vid']}", None)),
    "update_vacancy": Case("PATCH", "", A | E, E, 200,
                           lambda w, i, r: (f"/vacancies/{i['vid']}", {"openings": 2})),
    "delete_vacancy": Case("DELETE", "", A | E, E, 204,
                           lambda w, i, r: (f"/vacancies/{i['vid']}", None)),
    "vacancy_candidates": Case("GET", "", C | E, E, 200,
                               lambda w, i, r: (f"/vacancies/{i['vid']}/candidates", None)),
    "create_release": Case("POST", "", C, C, 201, lambda w, i, r: (
        f"/vacancies/{i['vid']}/releases", {"participant_id": i["pid"]})),
    "list_releases": Case("GET", "", E, NONE, 200, lambda w, i, r: ("/releases", None)),
    "create_participant": Case("POST", "", A | C, NONE, 201,
                               lambda w, i, r: ("/participants", participant_body())),
    "list_participants": Case("GET", "", A | C, NONE, 200,
                              lambda w, i, r: ("/participants", None)),
    "get_participant": Case("GET", "", A | C, C, 200,
                            lambda w, i, r: (f"/participants/{i['pid']}", None)),
    "update_participant": Case("PATCH", "", A | C, C, 200, lambda w, i, r: (
        f"/participants/{i['pid']}", {"max_commute_minutes": 45})),
    "delete_participant": Case("DELETE", "", A | C, C, 204,
                               lambda w, i, r: (f"/participants/{i['pid']}", None)),
    "export_participant": Case("GET", "", A | C, C, 200,
                               lambda w, i, r: (f"/participants/{i['pid']}/export", None)),
    "participant_matches": Case("GET", "", C, C, 200,
                                lambda w, i, r: (f"/participants/{i['pid']}/matches", None)),
    "record_consent": Case("POST", "", C, C, 201, lambda w, i, r: (
        f"/participants/{i['pid']}/consent", {"given": False, "notice_version": "v2"})),
    "record_approval": Case("POST", "", C, C, 201, lambda w, i, r: (
        f"/participants/{i['pid']}/approval", {"approved": False})),
    "set_monitoring": Case("PUT", "", C, C, 200, lambda w, i, r: (
        f"/participants/{i['pid']}/monitoring", {"consent_given": True, "sex": "female"})),
    "create_override": Case("POST", "", C, C, 201, lambda w, i, r: (
        f"/participants/{i['pid']}/overrides",
        {"vacancy_id": i["vid"], "reason_code": "commute_too_long", "reason": "fährt Rad"})),
    "list_overrides": Case("GET", "", C, C, 200,
                           lambda w, i, r: (f"/participants/{i['pid']}/overrides", None)),
    "create_outcome": Case("POST", "", C | E, C | E, 201, _outcome),
    "list_outcomes": Case("GET", "", A | N, NONE, 200, lambda w, i, r: ("/outcomes", None)),
    "search_skills": Case("GET", "", EVERYONE, NONE, 200,
                          lambda w, i, r: ("/taxonomy/skills?q=Kasse", None)),
    "search_occupations": Case("GET", "", EVERYONE, NONE, 200,
                               lambda w, i, r: ("/taxonomy/occupations?q=Koch", None)),
    "transfer_caseload": Case("POST", "", A, NONE, 200, lambda w, i, r: (
        "/admin/caseloads", {"from_coach_id": i["coach"], "to_coach_id": w.ids["coach2"]})),
    "import_file": Case("POST", "", A, NONE, 200,
                        lambda w, i, r: ("/admin/imports/participants?dry_run=true", None),
                        upload=b"name,postcode,skills,hours_min,hours_max\nA,33602,Kasse,10,20\n"),
    "list_audit": Case("GET", "", A | N, NONE, 200, lambda w, i, r: ("/audit", None)),
    "verify_audit": Case("GET", "", A | N, NONE, 200, lambda w, i, r: ("/audit/verify", None)),
    "whoami": Case("GET", "", EVERYONE, NONE, 200, lambda w, i, r: ("/me", None)),
    "list_models": Case("GET", "", A | N, NONE, 200, lambda w, i, r: ("/models", None)),
    "activate_model": Case("POST", "", A, NONE, 404, lambda w, i, r: (
        "/models/activate", {"name": "ranker", "version": "none"})),
    "deactivate_model": Case("POST", "", A, NONE, 200,
                             lambda w, i, r: ("/models/deactivate", {"reason": "test"})),
    "training_data": Case("GET", "", A | N, NONE, 200,
                          lambda w, i, r: ("/analytics/training-data", None)),
    "participant_next_steps": Case("GET", "", C, C, 200,
                                   lambda w, i, r: (f"/participants/{i['pid']}/next-steps", None)),
    "vacancy_insights": Case("GET", "", A | E, E, 200,
                             lambda w, i, r: (f"/vacancies/{i['vid']}/insights", None)),
    "team_plan": Case("GET", "", A | C, C, 200,
                      lambda w, i, r: (f"/plans?coach={i['coach']}", None)),
}  # fmt: skip


def test_every_api_route_is_in_the_matrix(app: Any) -> None:
    routes = {
        (next(iter(r.methods)), r.path_format, r.name)
        for r in iter_routes(app.routes)
        if r.path_format.startswith("/api/v1")
    }
    assert {name for _, _, name in routes} == set(CASES)
    for method, _path, name in routes:
        assert CASES[name].method == method, name


def _expected(case: Case, role: str | None, foreign: bool) -> int:
    if role is None:
        return 401
    if role not in case.roles:
        return 403
    if foreign and role in case.scoped:
        return 404
    return case.ok


#: Routes whose success consumes the object: each call gets fresh objects.
FRESH = {"delete_participant", "delete_vacancy", "transfer_caseload"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_route_role_ownership(world: World, name: str) -> None:
    case = CASES[name]
    failures = []
    cached: dict[bool, dict[str, Any]] = {}
    for role in ROLES:
        for foreign in (False, True) if role in case.scoped else (False,):
            if name in FRESH or foreign not in cached:
                cached[foreign] = _ids(world, foreign)
            ids = cached[foreign]
            path, body = case.request(world, ids, role)
            if case.upload is not None:
                files = {"file": ("import.csv", case.upload, "text/csv")}
                response = world.call(case.method, path, USER[role], files=files)
            else:
                response = world.call(case.method, path, USER[role], json=body)
            expected = _expected(case, role, foreign)
            if response.status_code != expected:
                failures.append((role, foreign, expected, response.status_code, response.text))
            if response.status_code >= 400:
                assert set(response.json()) >= {"error", "detail"}
    assert not failures, failures


def test_revoked_token_is_refused(world: World, database: Any) -> None:
    from service.auth import revoke_user

    assert world.call("GET", "/me", "coach1").status_code == 200
    with database.session() as session:
        revoke_user(session, "coach1")
    response = world.call("GET", "/me", "coach1")
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    assert world.call("GET", "/me", None).status_code == 401
    bad = world.client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
