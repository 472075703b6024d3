"""The admin's pages through TestClient: users, caseloads, import, export and erasure."""

from __future__ import annotations

import json

from tests.web.conftest import World, csrf_of
from tests.web.conftest import found as _found


def test_users_are_listed_created_and_revoked(world: World) -> None:
    client = world.browser("admin")
    page = client.get("/web/admin").text
    for name in ("coach1", "coach2", "employer1", "analyst"):
        assert name in page
    csrf = csrf_of(page)
    created = client.post(
        "/web/admin/users", data={"csrf_token": csrf, "name": "coach3", "role": "coach"}
    )
    assert created.status_code == 200 and "wird nur jetzt angezeigt" in created.text
    token = _found(r'id="new-token">([^<]+)<', created.text)
    assert world.anonymous().post("/web/signin", data={"token": token}).url.path == "/web/coach"
    duplicate = client.post(
        "/web/admin/users", data={"csrf_token": csrf, "name": "coach3", "role": "coach"}
    )
    assert duplicate.status_code == 422 and "schon einen Zugang" in duplicate.text
    no_firm = client.post(
        "/web/admin/users", data={"csrf_token": csrf, "name": "chef", "role": "employer"}
    )
    assert "brauchen einen Arbeitgeber" in no_firm.text
    signed_in = world.browser("coach2")
    revoked = client.post("/web/admin/users/revoke", data={"csrf_token": csrf, "name": "coach2"})
    assert "Zugang widerrufen." in revoked.text
    assert signed_in.get("/web/coach").url.path == "/web/signin"


def test_a_caseload_moves_to_another_coach(world: World) -> None:
    pid = world.participant("coach1")
    client = world.browser("admin")
    csrf = csrf_of(client.get("/web/admin").text)
    same = client.post(
        "/web/admin/caseloads",
        data={
            "csrf_token": csrf,
            "from_coach_id": world.ids["coach1"],
            "to_coach_id": world.ids["coach1"],
        },
    )
    assert same.status_code == 422 and "zwei verschiedene Coaches" in same.text
    moved = client.post(
        "/web/admin/caseloads",
        data={
            "csrf_token": csrf,
            "from_coach_id": world.ids["coach1"],
            "to_coach_id": world.ids["coach2"],
        },
    )
    assert "Teilnehmende übergeben." in moved.text
    assert world.browser("coach2").get(f"/web/coach/participants/{pid}").status_code == 200
    assert world.browser("coach1").get(f"/web/coach/participants/{pid}").status_code == 404


def test_export_and_erasure_of_a_participant(world: World) -> None:
    pid = world.participant("coach1", name="Zu Löschen")
    client = world.browser("admin")
    listing = client.get("/web/admin/participants", params={"q": "Lösch"}).text
    assert "Zu Löschen" in listing and "coach1" in listing
    export = client.get(f"/web/admin/participants/{pid}/export")
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    assert json.loads(export.text)["participant"]["name"] == "Zu Löschen"
    csrf = csrf_of(listing)
    unconfirmed = client.post(f"/web/admin/participants/{pid}/erase", data={"csrf_token": csrf})
    assert unconfirmed.status_code == 422 and "ausdrücklich bestätigen" in unconfirmed.text
    erased = client.post(
        f"/web/admin/participants/{pid}/erase", data={"csrf_token": csrf, "confirm": "on"}
    )
    assert "Alle Daten der/des Teilnehmenden wurden gelöscht." in erased.text
    assert "Zu Löschen" not in erased.text
    assert client.get(f"/web/admin/participants/{pid}/export").status_code == 404


def test_import_dry_run_shows_a_table_of_row_errors(world: World) -> None:
    client = world.browser("admin")
    csrf = csrf_of(client.get("/web/admin/import").text)
    good = (
        "name,postcode,skills,languages,hours_min,hours_max\n"
        "Aylin Demir,33605,Kasse bedienen; Regale auffüllen,de:B1,20,30\n"
    )
    bad = good + "Ohne Stunden,33605,Kasse bedienen,de:B1,,\nKein Ort,99999,Kasse,de:A2,20,30\n"
    report = client.post(
        "/web/admin/import",
        data={"csrf_token": csrf, "kind": "participants", "coach": "coach1", "dry_run": "on"},
        files={"file": ("teilnehmende.csv", bad.encode(), "text/csv")},
    )
    assert report.status_code == 200
    table = report.text.partition('id="import-errors"')[2]
    assert "es wurde nichts gespeichert" in report.text
    assert "<td>3</td>" in table and "<td>4</td>" in table
    assert "keine Zahl" in table or "Pflichtfeld fehlt" in table
    assert "Postleitzahl 99999 unbekannt" in table
    dry = client.post(
        "/web/admin/import",
        data={"csrf_token": csrf, "kind": "participants", "coach": "coach1", "dry_run": "on"},
        files={"file": ("teilnehmende.csv", good.encode(), "text/csv")},
    )
    assert "Keine Fehler" in dry.text
    assert world.api("GET", "/participants", "coach1")["total"] == 0
    real = client.post(
        "/web/admin/import",
        data={"csrf_token": csrf, "kind": "participants", "coach": "coach1"},
        files={"file": ("teilnehmende.csv", good.encode(), "text/csv")},
    )
    assert "1 Datensätze importiert" in real.text
    assert world.api("GET", "/participants", "coach1")["total"] == 1
    unreadable = client.post(
        "/web/admin/import",
        data={"csrf_token": csrf, "kind": "vacancies"},
        files={"file": ("stellen.xlsx", b"kein excel", "application/zip")},
    )
    assert unreadable.status_code == 422 and "lässt sich nicht lesen" in unreadable.text
