"""The two scoring routes answer with a body serialised once: same content and schema."""

from __future__ import annotations

from typing import Any

from tests.service.conftest import API, World

_MATCHES_KEYS = {"participant_id", "model_version", "ranked", "eligible_count", "items",
                 "excluded", "excluded_counts"}  # fmt: skip
_ITEM_KEYS = {"rank", "score", "factors", "contributions", "explanation"}


def test_matches_and_coach_candidates_bodies_and_one_audit_entry_each(world: World) -> None:
    pid = world.participant()
    world.shortlistable(pid)
    vid = world.vacancy()
    response = world.call("GET", f"/participants/{pid}/matches?limit=5", "coach1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == _MATCHES_KEYS and body["participant_id"] == pid
    item = body["items"][0]
    assert set(item) == _ITEM_KEYS | {"vacancy_id"} and item["vacancy_id"] == vid
    assert item["rank"] == 1 and 0.0 <= item["score"] <= 1.0
    assert any(line.startswith("Arbeitszeit:") for line in item["explanation"]["summary_de"])

    own = world.ok("GET", f"/vacancies/{vid}/candidates", "coach1")
    assert own["scope"] == "own_participants" and own["consent_filter_applied"] is False
    assert [(i["participant_id"], i["name"]) for i in own["items"]] == [(pid, "Ayşe Kaya")]
    other = world.ok("GET", f"/vacancies/{vid}/candidates", "coach2")
    assert other["items"] == [] and other["vacancy_id"] == vid

    entries: list[dict[str, Any]] = world.ok("GET", "/audit?limit=100", "analyst")["items"]
    scoring = [(e["action"], e["payload"].get("view")) for e in entries
               if e["action"] in ("matches", "candidates")]  # fmt: skip
    assert scoring == [("matches", None), ("candidates", "own_participants"),
                       ("candidates", "own_participants")]  # fmt: skip
    coach_entry = entries[-2]
    assert coach_entry["payload"]["items"][0]["participant_id"] in coach_entry["participants"]
    assert set(coach_entry["payload"]["items"][0]["factors"]) >= {"skills", "hours"}
    assert world.ok("GET", "/audit/verify", "admin")["ok"] is True


def test_scoring_routes_keep_their_documented_schema(world: World) -> None:
    paths = world.client.get("/openapi.json").json()["paths"]
    for path in (f"{API}/participants/{{participant_id}}/matches",
                 f"{API}/vacancies/{{vacancy_id}}/candidates"):  # fmt: skip
        schema = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["type"] == "object"
