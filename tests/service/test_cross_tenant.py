"""Cross-tenant sweep: another firm's or coach's ids answer 404, leak nothing and
change nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.models import Base
from tests.service.conftest import World, participant_body, vacancy_body
from tests.service.test_authorization import CASES

SECRET_NAME = "Geheim Zweitname"
SECRET_TITLE = "Geheime Stelle B"
SECRET_FIRM = "Firma Geheim B"


def _snapshot(database: Any) -> dict[str, list[tuple]]:
    with database.session() as session:
        return {
            table.name: sorted(
                (tuple(str(v) for v in row) for row in session.execute(select(table))), key=str
            )
            for table in Base.metadata.sorted_tables
        }


def _foreign(world: World) -> dict[str, Any]:
    """Objects of employer2 and coach2, with a release and a reference for employer2."""
    world.ok("PATCH", f"/employers/{world.ids['employer2_firm']}", "admin",
             json={"name": SECRET_FIRM})  # fmt: skip
    pid = world.ok("POST", "/participants", "coach2",
                   json=participant_body(name=SECRET_NAME, contact="geheim@b.example"))["id"]
    world.shortlistable(pid, coach="coach2")
    vid = world.vacancy("employer2", title=SECRET_TITLE)
    world.ok("POST", f"/vacancies/{vid}/releases", "coach2", json={"participant_id": pid})
    ref = world.ok("GET", f"/vacancies/{vid}/candidates", "employer2")["items"][0]
    return {"pid": pid, "vid": vid, "firm": world.ids["employer2_firm"],
            "ref": ref["candidate_ref"], "coach": world.ids["coach2"]}  # fmt: skip


def test_foreign_ids_in_path_and_body_answer_404_and_leak_nothing(
    world: World, database: Any
) -> None:
    own_pid = world.participant("coach1")
    world.shortlistable(own_pid)
    own_vid = world.vacancy("employer1")
    ids = _foreign(world)
    before = _snapshot(database)
    checked = 0
    for name, case in CASES.items():
        for role, user in (("employer", "employer1"), ("coach", "coach1")):
            if role not in case.scoped:
                continue
            path, body = case.request(world, ids, role)
            response = world.call(case.method, path, user, json=body)
            assert response.status_code == 404, (name, role, response.text)
            for secret in (SECRET_NAME, SECRET_TITLE, SECRET_FIRM, "geheim@b.example",
                           ids["ref"]):  # fmt: skip
                assert secret not in response.text, (name, role)
            checked += 1
    extra = [
        ("POST", "/vacancies", "employer1", vacancy_body(employer_id=ids["firm"])),
        ("POST", "/outcomes", "employer1",
         {"vacancy_id": own_vid, "candidate_ref": ids["ref"], "status": "hired"}),
        ("POST", f"/participants/{own_pid}/overrides", "coach1",
         {"vacancy_id": 999_999, "reason_code": "commute_too_long", "reason": "x"}),
        ("POST", f"/vacancies/{own_vid}/releases", "coach1", {"participant_id": ids["pid"]}),
    ]  # fmt: skip
    for method, path, user, body in extra:
        response = world.call(method, path, user, json=body)
        assert response.status_code == 404, (path, response.text)
        checked += 1
    assert checked >= 20
    assert _snapshot(database) == before
    for path in ("/vacancies", "/releases?include_seen=true"):
        text = world.call("GET", path, "employer1").text
        assert SECRET_TITLE not in text and SECRET_NAME not in text
    listing = world.call("GET", "/participants", "coach1").text
    assert SECRET_NAME not in listing
