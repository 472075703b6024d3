"""Employers, vacancies and participants through the HTTP API."""

from __future__ import annotations

from tests.service.conftest import World, participant_body


def test_participant_round_trip_shows_resolution(world: World) -> None:
    created = world.ok("POST", "/participants", "coach1", json=participant_body(
        skills=["Kasse bedienen", "http://data.europa.eu/esco/skill/0cb013af-6dd9-4fb2-b34e-63dda1a5cf82",
                "qwxzy unbekannt"]))  # fmt: skip
    assert created["coach_id"] == world.ids["coach1"]
    skills = created["skills"]
    assert skills[0]["uri"] == skills[1]["uri"]
    assert skills[0]["label_de"] == "Kasse bedienen" and skills[1]["confidence"] == 1.0
    assert skills[2]["uri"] is None
    assert created["unresolved"]["skills"] == ["qwxzy unbekannt"]
    fetched = world.ok("GET", f"/participants/{created['id']}", "coach1")
    assert fetched == created


def test_participant_patch_changes_only_given_fields(world: World) -> None:
    pid = world.participant()
    patched = world.ok("PATCH", f"/participants/{pid}", "coach1",
                       json={"hours_per_week": {"min": 10, "max": 20}, "contact": None})
    assert patched["hours_per_week"] == {"min": 10.0, "max": 20.0}
    assert patched["contact"] is None and patched["name"] == "Ayşe Kaya"
    response = world.call("PATCH", f"/participants/{pid}", "coach1", json={"name": None})
    assert response.status_code == 422 and response.json()["fields"] == ["name"]


def test_list_pages_and_limit_maximum(world: World) -> None:
    for _ in range(3):
        world.participant()
    world.participant(coach="coach2")
    page = world.ok("GET", "/participants?limit=2&offset=1", "coach1")
    assert page["total"] == 3 and len(page["items"]) == 2 and page["offset"] == 1
    assert world.ok("GET", "/participants", "admin")["total"] == 4
    too_many = world.call("GET", "/participants?limit=101", "coach1")
    assert too_many.status_code == 422 and too_many.json()["fields"] == ["limit"]


def test_vacancy_crud_by_employer(world: World) -> None:
    vid = world.vacancy()
    vacancy = world.ok("GET", f"/vacancies/{vid}", "employer1")
    assert vacancy["employer_id"] == world.ids["employer1_firm"]
    assert vacancy["occupation"]["label_en"] == "sales assistant"
    closed = world.ok("PATCH", f"/vacancies/{vid}", "employer1", json={"status": "closed"})
    assert closed["status"] == "closed"
    assert world.ok("GET", "/vacancies?status=open", "employer1")["total"] == 0
    assert world.call("DELETE", f"/vacancies/{vid}", "employer1").status_code == 204
    assert world.call("GET", f"/vacancies/{vid}", "employer1").status_code == 404


def test_admin_must_name_employer_of_vacancy(world: World) -> None:
    from tests.service.conftest import vacancy_body

    response = world.call("POST", "/vacancies", "admin", json=vacancy_body())
    assert response.status_code == 422 and response.json()["fields"] == ["employer_id"]
    body = vacancy_body(employer_id=world.ids["employer2_firm"])
    assert world.ok("POST", "/vacancies", "admin", json=body)["employer_id"] == body["employer_id"]


def test_employer_with_vacancies_cannot_be_deleted(world: World) -> None:
    world.vacancy()
    firm = world.ids["employer1_firm"]
    response = world.call("DELETE", f"/employers/{firm}", "admin")
    assert response.status_code == 409 and response.json()["error"] == "conflict"
    lone = world.ok("POST", "/employers", "admin", json={"name": "Leer GmbH"})
    assert world.call("DELETE", f"/employers/{lone['id']}", "admin").status_code == 204


def test_taxonomy_suggestions(world: World) -> None:
    found = world.ok("GET", "/taxonomy/skills?q=Gabelstapler&limit=3", "employer1")["items"]
    assert 1 <= len(found) <= 3
    assert found[0]["label_en"] == "operate forklift"
    assert found == sorted(found, key=lambda i: -i["confidence"])
    occupations = world.ok("GET", "/taxonomy/occupations?q=Lagerarbeiterin", "coach1")["items"]
    assert occupations and {"uri", "label_de", "label_en", "confidence"} <= set(occupations[0])


def test_health_and_metrics(world: World) -> None:
    assert world.client.get("/health/live").json() == {"status": "ok"}
    ready = world.client.get("/health/ready").json()
    assert ready["status"] == "ok" and ready["index"]["vacancies"] == 0
    world.vacancy()
    assert world.client.get("/health/ready").json()["index"]["vacancies"] == 1
    metrics = world.client.get("/metrics").text
    assert 'route="/api/v1/vacancies"' in metrics
