"""The coach's pages through TestClient: sign-in, list, form, ranked list, decisions."""

from __future__ import annotations

import re

from service.web.labels import NOTICE_VERSION
from service.web.security import COOKIE_NAME
from tests.web.conftest import World, csrf_of
from tests.web.conftest import found as _found


def _participant_form(csrf: str, **changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "csrf_token": csrf,
        "name": "Olena Petrenko",
        "contact": "0521 123456",
        "postcode": "33605",
        "skill": ["Kasse bedienen"],
        "skills_text": "Regale auffüllen",
        "lang_0": "de",
        "level_0": "B1",
        "lang_1": "uk",
        "level_1": "native",
        "mode": ["walk", "transit"],
        "hours_min": "20",
        "hours_max": "35",
        "shift": ["early", "day"],
        "work_permit": "yes",
    }
    form.update(changes)
    return form


def test_signin_sets_a_strict_httponly_cookie_and_signout_clears_it(world: World) -> None:
    client = world.anonymous()
    page = client.get("/web/coach")
    assert page.url.path == "/web/signin"
    assert 'lang="de"' in page.text and "Zugangsschlüssel" in page.text
    response = client.post(
        "/web/signin", data={"token": world.tokens["coach1"]}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/web/coach"
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE_NAME}=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    home = client.get("/web/coach")
    assert home.status_code == 200 and "Meine Teilnehmenden" in home.text
    assert "no-store" in home.headers["cache-control"]
    assert "default-src 'self'" in home.headers["content-security-policy"]
    out = client.post(
        "/web/signout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    assert COOKIE_NAME not in client.cookies
    assert client.get("/web/coach").url.path == "/web/signin"


def test_a_wrong_or_revoked_token_is_refused_in_german(world: World) -> None:
    client = world.anonymous()
    response = client.post("/web/signin", data={"token": "falsch"})
    assert response.status_code == 401
    assert "unbekannt oder widerrufen" in response.text
    world.api("GET", "/me", "coach1")
    signed_in = world.browser("coach1")
    from service.auth import revoke_user

    with world.app.state.db.session() as session:
        revoke_user(session, "coach1")
    assert signed_in.get("/web/coach").url.path == "/web/signin"


def test_signin_keeps_the_page_asked_for_but_never_leaves_the_site(world: World) -> None:
    client = world.anonymous()
    first = client.get("/web/coach?q=Ay", follow_redirects=False)
    assert first.status_code == 303
    assert "next=" in first.headers["location"]
    response = client.post(
        "/web/signin",
        follow_redirects=False,
        data={"token": world.tokens["coach1"], "next": "/web/coach?q=Ay"},
    )
    assert response.headers["location"] == "/web/coach?q=Ay"
    other = world.anonymous().post(
        "/web/signin",
        follow_redirects=False,
        data={"token": world.tokens["coach1"], "next": "https://evil.example/"},
    )
    assert other.headers["location"] == "/web/coach"
    for target in ("/web/..//evil.example", "/web/\\evil.example", "//evil.example/web/"):
        sneaky = world.anonymous().post(
            "/web/signin",
            follow_redirects=False,
            data={"token": world.tokens["coach1"], "next": target},
        )
        assert sneaky.headers["location"] == "/web/coach", target


def test_the_list_shows_own_participants_only_and_searches(world: World) -> None:
    world.participant("coach1", name="Ayşe Kaya")
    world.participant("coach1", name="Bogdan Nowak", home={"postcode": "33609"})
    world.participant("coach2", name="Fremde Person")
    client = world.browser("coach1")
    page = client.get("/web/coach").text
    assert "Ayşe Kaya" in page and "Bogdan Nowak" in page
    assert "Fremde Person" not in page
    found = client.get("/web/coach", params={"q": "bogd"}).text
    assert "Bogdan Nowak" in found and "Ayşe Kaya" not in found
    by_postcode = client.get("/web/coach", params={"q": "33609"}).text
    assert "Bogdan Nowak" in by_postcode and "Ayşe Kaya" not in by_postcode
    assert "Niemand gefunden" in client.get("/web/coach", params={"q": "Fremde"}).text


def test_another_coachs_participant_answers_404_everywhere(world: World) -> None:
    theirs = world.participant("coach2", name="Fremde Person")
    vacancy = world.vacancy()
    client = world.browser("coach1")
    csrf = csrf_of(client.get("/web/coach").text)
    for path in (f"/web/coach/participants/{theirs}", f"/web/coach/participants/{theirs}/edit"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Nicht gefunden" in response.text and "Fremde Person" not in response.text
    for action, data in (
        ("outcomes", {"vacancy_id": vacancy, "status": "applied"}),
        ("releases", {"vacancy_id": vacancy}),
        ("consent", {"given": "yes"}),
        ("approval", {"approved": "yes"}),
        ("objection", {"objects": "yes"}),
    ):
        response = client.post(
            f"/web/coach/participants/{theirs}/{action}", data={"csrf_token": csrf, **data}
        )
        assert response.status_code == 404, action
    assert client.get("/web/coach/participants/999999").status_code == 404


def test_a_form_without_csrf_token_or_from_another_site_is_refused(world: World) -> None:
    client = world.browser("coach1")
    csrf = csrf_of(client.get("/web/coach/participants/new").text)
    missing = client.post("/web/coach/participants", data=_participant_form(""))
    assert missing.status_code == 403
    assert "Formular ist abgelaufen" in missing.text
    wrong = client.post("/web/coach/participants", data=_participant_form("0" * 64))
    assert wrong.status_code == 403
    foreign = client.post(
        "/web/coach/participants",
        data=_participant_form(csrf),
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403 and "fremden Seite" in foreign.text
    # Another user's CSRF token does not fit this session.
    other = world.browser("coach2")
    other_csrf = csrf_of(other.get("/web/coach").text)
    assert (
        client.post("/web/coach/participants", data=_participant_form(other_csrf)).status_code
        == 403
    )
    assert world.api("GET", "/participants", "coach1")["total"] == 0
    same_site = client.post(
        "/web/coach/participants",
        data=_participant_form(csrf),
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same_site.status_code == 303


def test_creating_a_participant_stores_what_the_form_says(world: World) -> None:
    client = world.browser("coach1")
    csrf = csrf_of(client.get("/web/coach/participants/new").text)
    response = client.post(
        "/web/coach/participants",
        follow_redirects=False,
        data=_participant_form(
            csrf, consent="on", max_commute_minutes="45", expected_0="B2", by_0="2027-03-01"
        ),
    )
    assert response.status_code == 303
    pid = int(_found(r"/participants/(\d+)", response.headers["location"]))
    stored = world.api("GET", f"/participants/{pid}", "coach1")
    assert stored["name"] == "Olena Petrenko"
    assert [s["input"] for s in stored["skills"]] == ["Kasse bedienen", "Regale auffüllen"]
    assert stored["languages"] == [
        {"language": "de", "level": "B1", "expected_level": "B2", "expected_by": "2027-03-01"},
        {"language": "uk", "level": "native"},
    ]
    assert stored["max_commute_minutes"] == 45
    assert stored["hours_per_week"] == {"min": 20.0, "max": 35.0}
    assert stored["consent_given"] is True
    export = world.api("GET", f"/participants/{pid}/export", "coach1")
    assert export["consents"][0]["notice_version"] == NOTICE_VERSION
    page = client.get(response.headers["location"])
    assert "Gespeichert." in page.text and "Einwilligung erteilt" in page.text


def test_form_errors_are_german_and_keep_what_was_typed(world: World) -> None:
    client = world.browser("coach1")
    csrf = csrf_of(client.get("/web/coach/participants/new").text)
    response = client.post(
        "/web/coach/participants",
        data=_participant_form(csrf, postcode="3360", hours_min="30", hours_max="20", name=""),
    )
    assert response.status_code == 422
    text = response.text
    assert "Bitte prüfen Sie die markierten Angaben" in text
    assert "fünfstellige Postleitzahl" in text
    assert "Bitte ausfüllen." in text
    assert 'value="0521 123456"' in text  # kept
    assert 'aria-invalid="true"' in text
    again = client.post(
        "/web/coach/participants", data=_participant_form(csrf, hours_min="30", hours_max="20")
    )
    assert "Mindeststunden dürfen die Höchststunden nicht übersteigen" in again.text
    # Everything wrong at once is reported at once; the preset language without a level
    # counts as not given.
    everything = client.post(
        "/web/coach/participants",
        data=_participant_form(
            csrf,
            name="",
            postcode="12",
            skill=[],
            skills_text="",
            hours_min="x",
            level_0="",
            lang_1="",
            level_1="",
        ),
    )
    for message in (
        "Bitte ausfüllen.",
        "fünfstellige Postleitzahl",
        "mindestens einen Eintrag",
        "Bitte eine Zahl eingeben.",
    ):
        assert message in everything.text, message
    assert "Sprache und Niveau" not in everything.text
    unknown = client.post(
        "/web/coach/participants", data=_participant_form(csrf, postcode="", quarter="Atlantis")
    )
    assert unknown.status_code == 422
    assert "Der Ort ist unbekannt" in unknown.text
    assert world.api("GET", "/participants", "coach1")["total"] == 0


def test_editing_changes_the_participant(world: World) -> None:
    pid = world.participant("coach1")
    client = world.browser("coach1")
    form_page = client.get(f"/web/coach/participants/{pid}/edit").text
    assert 'value="Ayşe Kaya"' in form_page and "Kasse bedienen" in form_page
    response = client.post(
        f"/web/coach/participants/{pid}/edit",
        follow_redirects=False,
        data=_participant_form(csrf_of(form_page), name="Ayşe Yılmaz", active="on"),
    )
    assert response.status_code == 303
    assert world.api("GET", f"/participants/{pid}", "coach1")["name"] == "Ayşe Yılmaz"


def test_editing_keeps_every_language_and_coordinates(world: World) -> None:
    languages = [{"language": code, "level": "A2"} for code in ("de", "en", "ar", "tr", "uk", "ru")]
    pid = world.participant(
        "coach1", languages=languages, home={"postcode": "33605", "lat": 52.0, "lon": 8.55}
    )
    client = world.browser("coach1")
    form = client.get(f"/web/coach/participants/{pid}/edit").text
    assert 'id="lang_5"' in form and 'name="lat" value="52.0"' in form
    data = _participant_form(csrf_of(form), active="on", lat="52.0", lon="8.55")
    for i, lang in enumerate(languages):
        data[f"lang_{i}"], data[f"level_{i}"] = lang["language"], lang["level"]
    response = client.post(f"/web/coach/participants/{pid}/edit", data=data)
    assert response.status_code == 200
    stored = world.api("GET", f"/participants/{pid}", "coach1")
    assert stored["languages"] == languages
    assert (stored["home"]["lat"], stored["home"]["lon"]) == (52.0, 8.55)


def test_the_ranked_list_shows_factors_reasons_and_what_was_left_out(world: World) -> None:
    pid = world.participant("coach1")
    near = world.vacancy(title="Kassierer:in Markt")
    world.vacancy(title="Lagerhelfer:in Nacht", shifts=["night"])
    world.vacancy(title="Bürokraft C1", languages=[{"language": "de", "level": "C1"}])
    client = world.browser("coach1")
    page = client.get(f"/web/coach/participants/{pid}").text
    ranked, _, left_out = page.partition('id="left-out"')
    assert "Passende Stellen" in ranked and "Kassierer:in Markt" in ranked
    assert f'id="v{near}"' in ranked
    for label in ("Kompetenzen", "Beruf", "Sprache", "Arbeitsweg", "Arbeitszeit"):
        assert f"<dt>{label}</dt>" in ranked
    assert re.search(r'class="value">\d,\d\d<', ranked)  # factor values as text
    assert "Kernkompetenzen vorhanden" in ranked and "Vorhanden:" in ranked
    assert re.search(r"\d+ Min\. (zu Fuß|mit dem Rad|mit Bus und Bahn)", ranked)
    assert "gefordert A2" in ranked and "erfüllt" in ranked
    assert "Schichten passen nicht" in left_out and "Lagerhelfer:in Nacht" in left_out
    assert "Sprachniveau zu niedrig" in left_out and "Bürokraft C1" in left_out
    assert "Filter übergehen" in left_out
    assert "http://data.europa.eu" not in page.replace('value="http://data.europa.eu', "")


def test_outcome_release_and_the_decisions_are_recorded(world: World) -> None:
    pid = world.participant("coach1")
    vid = world.vacancy()
    client = world.browser("coach1")
    page = client.get(f"/web/coach/participants/{pid}").text
    csrf = csrf_of(page)
    assert "Freigabe an den Arbeitgeber erst nach Einwilligung möglich" in page
    refused = client.post(
        f"/web/coach/participants/{pid}/releases", data={"csrf_token": csrf, "vacancy_id": vid}
    )
    assert refused.status_code == 409 and "Ohne Einwilligung" in refused.text
    done = client.post(
        f"/web/coach/participants/{pid}/outcomes",
        data={
            "csrf_token": csrf,
            "vacancy_id": vid,
            "status": "applied",
            "reason": "Bewerbung abgeschickt",
        },
    )
    assert done.status_code == 200 and "Ergebnis gespeichert." in done.text
    assert "Letztes Ergebnis: <strong>beworben</strong>" in done.text
    for action, data, message in (
        ("consent", {"given": "yes"}, "Einwilligung gespeichert."),
        ("approval", {"approved": "yes"}, "Für die Vorschlagslisten der Arbeitgeber freigegeben."),
        ("releases", {"vacancy_id": vid}, "Name und Kontakt sind jetzt sichtbar."),
    ):
        response = client.post(
            f"/web/coach/participants/{pid}/{action}", data={"csrf_token": csrf, **data}
        )
        assert response.status_code == 200 and message in response.text, action
    stored = world.api("GET", f"/participants/{pid}", "coach1")
    assert stored["consent_given"] and stored["approved"]
    releases = world.api("GET", "/releases", "employer1")["items"]
    assert [r["name"] for r in releases] == ["Ayşe Kaya"]
    objection = client.post(
        f"/web/coach/participants/{pid}/objection", data={"csrf_token": csrf, "objects": "yes"}
    )
    assert (
        "ohne Rangfolge" in objection.text and "Widerspruch gegen Profilbildung" in objection.text
    )
    assert world.api("GET", f"/participants/{pid}", "coach1")["objects_to_profiling"] is True


def test_a_filter_can_be_overridden_with_a_reason(world: World) -> None:
    pid = world.participant("coach1")
    vid = world.vacancy(title="Bürokraft C1", languages=[{"language": "de", "level": "C1"}])
    client = world.browser("coach1")
    csrf = csrf_of(client.get(f"/web/coach/participants/{pid}").text)
    empty = client.post(
        f"/web/coach/participants/{pid}/overrides",
        data={
            "csrf_token": csrf,
            "vacancy_id": vid,
            "reason_code": "language_too_low",
            "reason": " ",
        },
    )
    assert empty.status_code == 422 and "Bitte einen Grund" in empty.text
    response = client.post(
        f"/web/coach/participants/{pid}/overrides",
        data={
            "csrf_token": csrf,
            "vacancy_id": vid,
            "reason_code": "language_too_low",
            "reason": "Betrieb bietet Sprachkurs",
        },
    )
    assert response.status_code == 200
    ranked = response.text.partition('id="left-out"')[0]
    assert "Bürokraft C1" in ranked and "Filter übergangen: Sprachniveau zu niedrig" in ranked
    assert "Betrieb bietet Sprachkurs" in response.text


def test_objection_to_profiling_shows_an_unranked_list(world: World) -> None:
    pid = world.participant("coach1", objects_to_profiling=True)
    world.vacancy()
    page = world.browser("coach1").get(f"/web/coach/participants/{pid}").text
    assert "ohne Rangfolge" in page and "nicht nach Eignung" in page
    assert 'class="rank"' not in page


def test_skill_suggestions_put_german_labels_first(world: World) -> None:
    client = world.browser("coach1")
    items = client.get("/web/suggest/skills", params={"q": "Stap"}).json()["items"]
    assert items and items[0]["label"] == "Stapler fahren"
    flags = [i["german"] for i in items]
    assert flags == sorted(flags, reverse=True)
    occupations = client.get("/web/suggest/occupations", params={"q": "Lagerarb"}).json()
    uri = occupations["items"][0]["uri"]
    skills = client.get("/web/suggest/occupation-skills", params={"uri": uri}).json()["items"]
    assert skills and skills[0]["essential"] is True
    assert client.get("/web/suggest/skills", params={"q": " "}).json() == {"items": []}
    assert world.anonymous().get("/web/suggest/skills?q=Stap").url.path == "/web/signin"


def _section(page: str, anchor: str) -> str:
    """The HTML of one ``<section id=anchor>`` of a page."""
    start = page.index(f'<section id="{anchor}"')
    return page[start : page.index("</section>", start)]


def test_the_next_steps_say_the_step_the_count_and_the_vacancies(world: World) -> None:
    pid = world.participant("coach1", languages=[{"language": "de", "level": "A2"}])
    b1 = [world.vacancy(title=f"Verkauf B1 Nr. {i}", languages=[{"language": "de", "level": "B1"}])
          for i in range(6)]  # fmt: skip
    world.vacancy(title="Verkauf A2")  # already a good match: opened by nothing
    client = world.browser("coach1")
    page = client.get(f"/web/coach/participants/{pid}").text
    steps = _section(page, "next-steps")
    assert "<h2" in steps and "Nächste Schritte" in steps
    first = steps.partition("</article>")[0]
    assert "Deutsch A2 → B1: 6 weitere Stellen" in first
    assert "Die 5 am besten passenden davon:" in first  # five of the six are listed
    assert first.count("<li>") == 5
    assert all(f"Verkauf B1 Nr. {i}" in steps for i in range(5))
    assert "Verkauf A2" not in steps and "Bäckerei Sonnenschein" in first
    # An override of one of them: that vacancy passes already, the step opens five.
    response = client.post(
        f"/web/coach/participants/{pid}/overrides",
        data={"csrf_token": csrf_of(page), "vacancy_id": b1[0],
              "reason_code": "language_too_low", "reason": "Betrieb bietet Sprachkurs"},
    )  # fmt: skip
    assert response.status_code == 200
    steps = _section(response.text, "next-steps")
    assert "Deutsch A2 → B1: 5 weitere Stellen" in steps and "Diese Stellen:" in steps
    assert "Verkauf B1 Nr. 0" not in steps
    entries = world.api("GET", "/audit?action=next_steps", "admin")["items"]
    assert entries and entries[-1]["payload"]["items"][0]["additional"] == 5


def test_next_steps_without_profiling_or_without_any_step(world: World) -> None:
    objecting = world.participant("coach1", objects_to_profiling=True,
                                  languages=[{"language": "de", "level": "A2"}])  # fmt: skip
    world.vacancy(languages=[{"language": "de", "level": "B1"}])
    client = world.browser("coach1")
    steps = _section(client.get(f"/web/coach/participants/{objecting}").text, "next-steps")
    assert "der Profilbildung widersprochen" in steps and "<article" not in steps
    # C2 German, every mode, a licence, full-time hours: nothing left to open.
    settled = world.participant(
        "coach1", languages=[{"language": "de", "level": "C2"}], max_commute_minutes=75,
        mobility={"modes": ["walk", "transit", "bike", "car"], "driving_licence": ["B"]},
        hours_per_week={"min": 20, "max": 40},
    )  # fmt: skip
    steps = _section(client.get(f"/web/coach/participants/{settled}").text, "next-steps")
    assert "Keine einzelne Veränderung würde weitere gut passende Stellen öffnen." in steps
