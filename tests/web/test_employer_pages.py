"""The employer's pages through TestClient: vacancies, the vacancy form, the shortlist."""

from __future__ import annotations

import re

from tests.web.conftest import World, csrf_of
from tests.web.conftest import found as _found


def _vacancy_form(csrf: str, **changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "csrf_token": csrf,
        "title": "Lagerhelfer:in Frühschicht",
        "occupation": "Lagerarbeiter",
        "skills_text": "Kasse bedienen",
        "de_level": "A2",
        "postcode": "33602",
        "hours_per_week": "30",
        "days_per_week": "5",
        "openings": "2",
        "shift": ["day"],
        "work_permit_required": "on",
        "action": "save",
    }
    form.update(changes)
    return form


def test_the_start_page_lists_own_vacancies_only(world: World) -> None:
    world.vacancy("employer1", title="Verkäufer:in Backwaren")
    world.vacancy("employer2", title="Fremde Stelle")
    page = world.browser("employer1").get("/web/employer")
    assert page.status_code == 200
    assert "Bäckerei Sonnenschein" in page.text and "Verkäufer:in Backwaren" in page.text
    assert "Fremde Stelle" not in page.text and "Lagerlogistik Ost" not in page.text
    assert "Keine neuen Vorstellungen" in page.text


def test_another_employers_vacancy_answers_404(world: World) -> None:
    theirs = world.vacancy("employer2", title="Fremde Stelle")
    client = world.browser("employer1")
    for path in (f"/web/employer/vacancies/{theirs}", f"/web/employer/vacancies/{theirs}/edit"):
        response = client.get(path)
        assert response.status_code == 404 and "Fremde Stelle" not in response.text, path
    csrf = csrf_of(client.get("/web/employer").text)
    response = client.post(f"/web/employer/vacancies/{theirs}/edit", data=_vacancy_form(csrf))
    assert response.status_code == 404


def test_take_over_the_occupations_skills_without_javascript(world: World) -> None:
    client = world.browser("employer1")
    csrf = csrf_of(client.get("/web/employer/vacancies/new").text)
    response = client.post(
        "/web/employer/vacancies", data=_vacancy_form(csrf, action="prefill", skills_text="")
    )
    assert response.status_code == 200
    assert "Kompetenzen des Berufs übernommen" in response.text
    chips = re.findall(r'name="skill" value="(http[^"]+)" checked', response.text)
    essential = re.findall(r'name="essential" value="(http[^"]+)" checked', response.text)
    assert len(chips) >= 5 and essential and set(essential) <= set(chips)
    assert "Kommissionieren" in response.text
    assert world.api("GET", "/vacancies", "employer1")["total"] == 0


def test_creating_a_vacancy_from_an_occupation(world: World) -> None:
    client = world.browser("employer1")
    csrf = csrf_of(client.get("/web/employer/vacancies/new").text)
    occupations = client.get("/web/suggest/occupations", params={"q": "Lagerarbeiter"}).json()
    uri = next(i["uri"] for i in occupations["items"] if i["label"] == "Lagerarbeiter")
    skills = client.get("/web/suggest/occupation-skills", params={"uri": uri}).json()["items"]
    picked = [s["uri"] for s in skills[:4]]
    response = client.post(
        "/web/employer/vacancies",
        follow_redirects=False,
        data=_vacancy_form(
            csrf,
            occupation="Lagerarbeiter",
            occupation_uri=uri,
            skill=picked,
            essential=picked[:2],
            skills_text="",
        ),
    )
    assert response.status_code == 303
    vid = int(_found(r"/vacancies/(\d+)", response.headers["location"]))
    stored = world.api("GET", f"/vacancies/{vid}", "employer1")
    assert stored["occupation"]["uri"] == uri
    assert [s["uri"] for s in stored["skills"]] == picked
    assert [s["essential"] for s in stored["skills"]] == [True, True, False, False]
    assert stored["languages"] == [{"language": "de", "level": "A2"}]
    assert stored["openings"] == 2 and stored["employer_id"] == world.ids["employer1_firm"]
    page = client.get(response.headers["location"]).text
    assert "Gespeichert." in page and "Lagerarbeiter" in page and "Vorschlagsliste" in page


def test_vacancy_form_errors_are_german(world: World) -> None:
    client = world.browser("employer1")
    csrf = csrf_of(client.get("/web/employer/vacancies/new").text)
    response = client.post(
        "/web/employer/vacancies",
        data=_vacancy_form(csrf, title="", hours_per_week="80", postcode="abc"),
    )
    assert response.status_code == 422
    assert "Bitte prüfen Sie die markierten Angaben" in response.text
    again = client.post("/web/employer/vacancies", data=_vacancy_form(csrf, hours_per_week="x"))
    assert "Bitte eine Zahl eingeben." in again.text
    assert world.api("GET", "/vacancies", "employer1")["total"] == 0


def test_editing_and_closing_a_vacancy(world: World) -> None:
    vid = world.vacancy("employer1")
    client = world.browser("employer1")
    form = client.get(f"/web/employer/vacancies/{vid}/edit").text
    assert 'value="Verkäufer:in Backwaren"' in form and "Kasse bedienen" in form
    response = client.post(
        f"/web/employer/vacancies/{vid}/edit",
        follow_redirects=False,
        data=_vacancy_form(csrf_of(form), status="closed"),
    )
    assert response.status_code == 303
    assert world.api("GET", f"/vacancies/{vid}", "employer1")["status"] == "closed"
    assert "nicht offen" in client.get(f"/web/employer/vacancies/{vid}").text


def test_the_shortlist_is_pseudonymous_until_a_coach_releases(world: World) -> None:
    vid = world.vacancy("employer1")
    shown = world.participant("coach1", name="Ayşe Kaya")
    world.shortlistable(shown)
    world.participant("coach1", name="Ohne Einwilligung")
    client = world.browser("employer1")
    page = client.get(f"/web/employer/vacancies/{vid}").text
    refs = re.findall(r'name="candidate_ref" value="([^"]+)"', page)
    assert len(refs) == 1
    assert f"Kandidat:in {refs[0]}" in page
    assert "Ayşe Kaya" not in page and "Ohne Einwilligung" not in page
    assert "ayse@example.org" not in page
    world.api("POST", f"/vacancies/{vid}/releases", "coach1", json={"participant_id": shown})
    home = client.get("/web/employer").text
    assert "Neu vorgestellte" in home and "Ayşe Kaya" in home and "ayse@example.org" in home
    assert "Keine neuen Vorstellungen" in client.get("/web/employer").text  # seen now
    released = client.get(f"/web/employer/vacancies/{vid}").text
    assert "Ayşe Kaya" in released and "vorgestellt" in released
    outcome = client.post(
        f"/web/employer/vacancies/{vid}/outcomes",
        data={"csrf_token": csrf_of(released), "candidate_ref": refs[0], "status": "interview"},
    )
    assert outcome.status_code == 200 and "Ergebnis gespeichert." in outcome.text
    outcomes = world.api("GET", "/outcomes", "admin")["items"]
    assert [o["status"] for o in outcomes] == ["interview"]
    unknown = client.post(
        f"/web/employer/vacancies/{vid}/outcomes",
        data={"csrf_token": csrf_of(released), "candidate_ref": "nobody1", "status": "hired"},
    )
    assert unknown.status_code == 404


def test_roles_see_only_their_own_pages(world: World) -> None:
    employer = world.browser("employer1")
    assert employer.get("/web/coach").status_code == 403
    assert "für Ihre Rolle nicht vorgesehen" in employer.get("/web/admin").text
    coach = world.browser("coach1")
    assert coach.get("/web/employer").status_code == 403
    assert coach.get("/web/employer/vacancies/new").status_code == 403
    analyst = world.browser("analyst")
    assert analyst.get("/web/", follow_redirects=True).url.path == "/web/analyst"
    assert analyst.get("/web/coach").status_code == 403


def test_editing_keeps_other_languages_and_coordinates(world: World) -> None:
    vid = world.vacancy(
        "employer1",
        languages=[{"language": "de", "level": "B1"}, {"language": "en", "level": "A2"}],
        location={"postcode": "33602", "lat": 52.02, "lon": 8.53},
    )
    client = world.browser("employer1")
    form = client.get(f"/web/employer/vacancies/{vid}/edit").text
    assert 'name="lat" value="52.02"' in form
    data = _vacancy_form(
        csrf_of(form),
        de_level="B1",
        vlang_0="en",
        vlevel_0="A2",
        vlang_1="",
        vlevel_1="",
        lat="52.02",
        lon="8.53",
    )
    response = client.post(f"/web/employer/vacancies/{vid}/edit", data=data)
    assert response.status_code == 200
    stored = world.api("GET", f"/vacancies/{vid}", "employer1")
    assert stored["languages"] == [
        {"language": "de", "level": "B1"},
        {"language": "en", "level": "A2"},
    ]
    assert stored["location"]["lat"] == 52.02 and stored["location"]["lon"] == 8.53


def test_the_vacancy_page_names_the_requirement_that_shuts_most_out(world: World) -> None:
    vid = world.vacancy("employer1", driving_licence_required="B")
    for _ in range(6):
        world.shortlistable(world.participant("coach1"))  # none holds a licence
    world.shortlistable(world.participant("coach1", mobility={
        "modes": ["walk", "car"], "driving_licence": ["B"]}))  # fmt: skip
    world.participant("coach1")  # no consent: never counted
    page = world.browser("employer1").get(f"/web/employer/vacancies/{vid}").text
    start = page.index('<section id="insights"')
    insights = page[start : page.index("</section>", start)]
    assert "Welche Anforderung hält Kandidat:innen ab?" in insights
    rows = re.findall(r'<tr class="(\w+)"><td>([^<]+)</td><td>([^<]+)</td></tr>', insights)
    assert rows[0] == ("shown", "Kein Führerschein erforderlich", "6")
    masked = [r for r in rows[1:] if r[0] == "masked"]
    assert masked and all(r[2] == "weniger als 5" for r in masked)
    assert all(r[0] == "masked" for r in rows[1:])
    assert "Zahlen unter 5 zeigen wir als „weniger als 5“" in insights


def test_a_closed_vacancy_has_no_insights(world: World) -> None:
    vid = world.vacancy("employer1")
    world.api("PATCH", f"/vacancies/{vid}", "employer1", json={"status": "closed"})
    page = world.browser("employer1").get(f"/web/employer/vacancies/{vid}")
    assert page.status_code == 200 and 'id="insights"' not in page.text
