"""Strict input: mass assignment, unknown fields, wrong types, ranges, body size."""

from __future__ import annotations

import pytest

from tests.service.conftest import World, participant_body, vacancy_body


@pytest.mark.parametrize("field", ["coach_id", "employer_id", "score", "id", "consent_given",
                                   "approved", "created_at", "skills_resolved"])  # fmt: skip
def test_mass_assignment_on_participant_is_refused(world: World, field: str) -> None:
    body = participant_body(**{field: 1})
    for method, path in (("POST", "/participants"),):
        response = world.call(method, path, "coach1", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "validation_error"
        assert field in response.json()["fields"]
    pid = world.participant()
    response = world.call("PATCH", f"/participants/{pid}", "coach1", json={field: 1})
    assert response.status_code == 422 and field in response.json()["fields"]
    assert world.ok("GET", f"/participants/{pid}", "coach1")["coach_id"] == world.ids["coach1"]


@pytest.mark.parametrize("field", ["employer_id", "score", "id"])
def test_mass_assignment_on_vacancy_patch_is_refused(world: World, field: str) -> None:
    vid = world.vacancy()
    response = world.call("PATCH", f"/vacancies/{vid}", "employer1", json={field: 2})
    assert response.status_code == 422 and response.json()["fields"] == [field]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hours_per_week": {"min": 0, "max": 20}}, "hours_per_week.min"),
        ({"hours_per_week": {"min": 10, "max": 61}}, "hours_per_week.max"),
        ({"hours_per_week": {"min": "10", "max": 20}}, "hours_per_week.min"),
        ({"home": {"postcode": "3360"}}, "home.postcode"),
        ({"home": {"postcode": 33602}}, "home.postcode"),
        ({"languages": [{"language": "de", "level": "B3"}]}, "languages[0].level"),
        ({"mobility": {"modes": ["rocket"]}}, "mobility.modes[0]"),
        ({"availability": ["sometimes"]}, "availability[0]"),
        ({"work_permit": "maybe"}, "work_permit"),
        ({"max_commute_minutes": 500}, "max_commute_minutes"),
        ({"skills": "Kasse"}, "skills"),
        ({"objects_to_profiling": "yes"}, "objects_to_profiling"),
        ({"home": {"postcode": "33602", "colour": "red"}}, "home.colour"),
    ],
)
def test_bad_participant_field_is_named(world: World, change: dict, field: str) -> None:
    response = world.call("POST", "/participants", "coach1", json=participant_body(**change))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_error" and field in body["fields"], body
    assert field in body["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"days_per_week": 8}, "days_per_week"),
        ({"days_per_week": 0}, "days_per_week"),
        ({"shifts": ["always"]}, "shifts[0]"),
        ({"status": "paused"}, "status"),
        ({"openings": 0}, "openings"),
        ({"hours_per_week": 0.5}, "hours_per_week"),
        ({"location": {}}, "location"),
        ({"start_date": "next week"}, "start_date"),
    ],
)
def test_bad_vacancy_field_is_named(world: World, change: dict, field: str) -> None:
    response = world.call("POST", "/vacancies", "employer1", json=vacancy_body(**change))
    assert response.status_code == 422, response.text
    assert field in response.json()["fields"]


def test_unknown_postcode_answers_422_from_the_matcher(world: World) -> None:
    response = world.call("POST", "/participants", "coach1",
                          json=participant_body(home={"postcode": "00000"}))  # fmt: skip
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_location"
    assert world.ok("GET", "/participants", "coach1")["total"] == 0


def test_body_over_one_mebibyte_answers_413(world: World) -> None:
    big = participant_body(contact="x" * (1024 * 1024 + 10))
    response = world.call("POST", "/participants", "coach1", json=big)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"

    def chunks():  # streamed without Content-Length
        yield b'{"name": "'
        for _ in range(70):
            yield b"y" * 16384
        yield b'"}'

    streamed = world.client.post(
        "/api/v1/participants", content=chunks(),
        headers={**world.h("coach1"), "Content-Type": "application/json"},
    )  # fmt: skip
    assert streamed.status_code == 413
    assert world.ok("GET", "/participants", "coach1")["total"] == 0


def test_malformed_json_and_bad_limit(world: World) -> None:
    response = world.client.post("/api/v1/participants", content=b"{nope",
                                 headers={**world.h("coach1"),
                                          "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 422 and response.json()["error"] == "validation_error"
    pid = world.participant()
    for bad in ("0", "101", "ten"):
        response = world.call("GET", f"/participants/{pid}/matches?limit={bad}", "coach1")
        assert response.status_code == 422 and response.json()["fields"] == ["limit"]
