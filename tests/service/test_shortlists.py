"""Humans decide: consent, approval, releases, overrides and objection to profiling."""

from __future__ import annotations

from tests.service.conftest import World


def _refs(world: World, vid: int, employer: str) -> list[str]:
    items = world.ok("GET", f"/vacancies/{vid}/candidates", employer)["items"]
    return [i["candidate_ref"] for i in items]


def test_employer_sees_only_consented_and_approved(world: World) -> None:
    pid = world.participant()
    vid = world.vacancy()
    assert _refs(world, vid, "employer1") == []
    world.ok("POST", f"/participants/{pid}/consent", "coach1",
             json={"given": True, "notice_version": "2026-01"})  # fmt: skip
    assert _refs(world, vid, "employer1") == []
    world.ok("POST", f"/participants/{pid}/approval", "coach1", json={"approved": True})
    body = world.ok("GET", f"/vacancies/{vid}/candidates", "employer1")
    assert len(body["items"]) == 1 and body["consent_filter_applied"] is True
    item = body["items"][0]
    assert "participant_id" not in item and item["name"] is None and item["contact"] is None
    assert set(item["factors"]) == {"skills", "occupation", "language", "commute", "hours"}


def test_withdrawn_consent_leaves_every_shortlist_at_once(world: World) -> None:
    pid = world.participant()
    world.shortlistable(pid)
    v1, v2 = world.vacancy("employer1"), world.vacancy("employer2")
    r1, r2 = _refs(world, v1, "employer1"), _refs(world, v2, "employer2")
    assert len(r1) == len(r2) == 1 and r1 != r2  # a different reference per employer
    world.ok("POST", f"/participants/{pid}/consent", "coach1",
             json={"given": False, "notice_version": "2026-01"})  # fmt: skip
    assert _refs(world, v1, "employer1") == [] and _refs(world, v2, "employer2") == []
    history = world.ok("GET", f"/participants/{pid}/export", "coach1")["consents"]
    assert [c["given"] for c in history] == [True, False]


def test_release_reveals_name_only_to_that_employer(world: World) -> None:
    pid = world.participant()
    world.shortlistable(pid)
    v1, v2 = world.vacancy("employer1"), world.vacancy("employer2")
    released = world.ok("POST", f"/vacancies/{v1}/releases", "coach1", json={"participant_id": pid})
    item1 = world.ok("GET", f"/vacancies/{v1}/candidates", "employer1")["items"][0]
    item2 = world.ok("GET", f"/vacancies/{v2}/candidates", "employer2")["items"][0]
    assert item1["name"] == "Ayşe Kaya" and item1["contact"] == "ayse@example.org"
    assert item1["candidate_ref"] == released["candidate_ref"]
    assert item2["name"] is None and item2["contact"] is None
    assert "Ayşe" not in world.call("GET", f"/vacancies/{v2}/candidates", "employer2").text
    new = world.ok("GET", "/releases", "employer1")["items"]
    assert [(r["candidate_ref"], r["name"]) for r in new] == [(item1["candidate_ref"], "Ayşe Kaya")]
    assert world.ok("GET", "/releases", "employer1")["items"] == []  # marked seen
    assert len(world.ok("GET", "/releases?include_seen=true", "employer1")["items"]) == 1
    assert world.ok("GET", "/releases", "employer2")["items"] == []


def test_release_needs_consent(world: World) -> None:
    pid, vid = world.participant(), world.vacancy()
    response = world.call("POST", f"/vacancies/{vid}/releases", "coach1",
                          json={"participant_id": pid})  # fmt: skip
    assert response.status_code == 409


def test_matches_list_exclusions_and_override_survives_rescoring(world: World) -> None:
    pid = world.participant(work_permit="pending")
    open_vid = world.vacancy(work_permit_required=False)
    blocked = world.vacancy(work_permit_required=True)
    body = world.ok("GET", f"/participants/{pid}/matches", "coach1")
    assert [i["vacancy_id"] for i in body["items"]] == [open_vid]
    assert body["excluded"] == [{"vacancy_id": blocked, "reasons": ["work_permit_missing"]}]
    assert body["excluded_counts"] == {"work_permit_missing": 1}
    assert body["ranked"] is True and body["items"][0]["rank"] == 1
    world.ok("POST", f"/participants/{pid}/overrides", "coach1", json={
        "vacancy_id": blocked, "reason_code": "work_permit_missing",
        "reason": "Arbeitserlaubnis ist beantragt und zugesagt"})  # fmt: skip
    world.ok("PATCH", f"/vacancies/{blocked}", "employer1", json={"openings": 2})
    world.ok("PATCH", f"/participants/{pid}", "coach1", json={"max_commute_minutes": 60})
    again = world.ok("GET", f"/participants/{pid}/matches", "coach1")
    assert sorted(i["vacancy_id"] for i in again["items"]) == sorted([open_vid, blocked])
    assert again["excluded"] == []


def test_objection_to_profiling_gives_unranked_list_and_no_shortlist(world: World) -> None:
    pid = world.participant(objects_to_profiling=True)
    world.shortlistable(pid)
    v1, v2 = world.vacancy(), world.vacancy()
    body = world.ok("GET", f"/participants/{pid}/matches", "coach1")
    assert body["ranked"] is False
    assert [i["vacancy_id"] for i in body["items"]] == sorted([v1, v2])
    assert all(i["score"] is None and i["factors"] is None for i in body["items"])
    assert _refs(world, v1, "employer1") == []


def test_coach_sees_only_own_participants_for_a_vacancy(world: World) -> None:
    own = world.participant("coach1")
    world.participant("coach2")
    vid = world.vacancy()
    body = world.ok("GET", f"/vacancies/{vid}/candidates", "coach1")
    assert [i["participant_id"] for i in body["items"]] == [own]
    assert body["scope"] == "own_participants" and body["consent_filter_applied"] is False
    assert "Einwilligung" in body["note"]


def test_outcomes_by_coach_and_employer(world: World) -> None:
    pid = world.participant()
    world.shortlistable(pid)
    vid = world.vacancy()
    ref = _refs(world, vid, "employer1")[0]
    world.ok("POST", "/outcomes", "employer1",
             json={"vacancy_id": vid, "candidate_ref": ref, "status": "interview"})
    world.ok("POST", "/outcomes", "coach1",
             json={"vacancy_id": vid, "participant_id": pid, "status": "hired"})
    outcomes = world.ok("GET", "/outcomes", "analyst")["items"]
    assert [o["status"] for o in outcomes] == ["interview", "hired"]
    assert len({o["participant"] for o in outcomes}) == 1
    assert str(pid) not in {o["participant"] for o in outcomes}
    wrong = world.call("POST", "/outcomes", "employer2",
                       json={"vacancy_id": vid, "candidate_ref": ref, "status": "hired"})
    assert wrong.status_code == 404


def test_caseload_handover(world: World) -> None:
    p1, p2 = world.participant("coach1"), world.participant("coach1")
    moved = world.ok("POST", "/admin/caseloads", "admin", json={
        "from_coach_id": world.ids["coach1"], "to_coach_id": world.ids["coach2"],
        "participant_ids": [p1]})  # fmt: skip
    assert moved["moved"] == [p1]
    assert world.call("GET", f"/participants/{p1}", "coach1").status_code == 404
    assert world.ok("GET", f"/participants/{p1}", "coach2")["coach_id"] == world.ids["coach2"]
    assert world.ok("GET", f"/participants/{p1}/matches", "coach2")["participant_id"] == p1
    bad = world.call("POST", "/admin/caseloads", "admin", json={
        "from_coach_id": world.ids["coach1"], "to_coach_id": world.ids["employer1"]})
    assert bad.status_code == 404
    assert world.ok("GET", f"/participants/{p2}", "coach1")["id"] == p2
