"""End to end in headless Chromium against a live server on localhost.

A coach signs in, creates a participant by typing skills and picking suggestions, sees
ranked vacancies with reasons, records an outcome and releases the candidate; an
employer creates a vacancy from an occupation, sees the shortlist (pseudonymous) and,
after the release, the candidate's name. Screenshots of the main pages go to
``JOBMATCH_SCREENSHOT_DIR`` or a pytest temporary directory.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.live_server import LiveSite, start_live_site

#: One pytest-xdist worker runs the module's tests (``--dist loadgroup``):
#: one browser and one live site serve the module's tests.
pytestmark = pytest.mark.xdist_group("browser")

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _chromium() -> str | None:
    return (
        os.environ.get("JOBMATCH_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's package) driven by Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the browser tests need the Python package playwright (pip install playwright)")
    executable = _chromium()
    if executable is None:
        pytest.skip("the browser tests need Chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """The live service with two firms, two coaches and a few bakery vacancies."""
    live = start_live_site(tmp_path_factory.mktemp("live"))
    base = {
        "occupation": "Verkäufer", "location": {"postcode": "33689"}, "hours_per_week": 30,
        "skills": [{"skill": "Kasse bedienen", "essential": True},
                   {"skill": "Kunden beraten", "essential": False}],
        "languages": [{"language": "de", "level": "A2"}], "shifts": ["early", "day"],
    }  # fmt: skip
    for title, changes in (
        ("Verkäufer:in Backwaren", {}),
        ("Verkäufer:in Filiale Brackwede", {"location": {"postcode": "33647"}}),
        ("Schichtleitung Verkauf", {"languages": [{"language": "de", "level": "C1"}]}),
        ("Nachtbäcker:in Helfer", {"shifts": ["night"]}),
        ("Fahrer:in Auslieferung", {"driving_licence_required": "C"}),
    ):
        live.api("POST", "/vacancies", "employer2", json={**base, "title": title, **changes})
    yield live
    live.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go."""
    configured = os.environ.get("JOBMATCH_SCREENSHOT_DIR")
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


class Watch:
    """Requests and console errors of one browser context."""

    def __init__(self, context: Any, site: LiveSite) -> None:
        self.site = site
        self.foreign: list[str] = []
        self.errors: list[str] = []
        context.on("request", self._request)
        context.on("response", self._response)

    def _request(self, request: Any) -> None:
        if not request.url.startswith(self.site.url + "/"):
            self.foreign.append(request.url)

    def _console(self, message: Any) -> None:
        if message.type == "error" and "status of 404" not in message.text:
            self.errors.append(message.text)

    def _response(self, response: Any) -> None:
        if response.status == 404:
            self.errors.append(f"404: {response.url}")

    def page(self, context: Any) -> Any:
        page = context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        return page


def _shot(page: Any, path: Path, *, full_page: bool = True) -> None:
    """Save a screenshot; a busy machine occasionally refuses the first capture."""
    try:
        page.screenshot(path=str(path), full_page=full_page)
    except Exception:
        page.wait_for_timeout(500)
        page.screenshot(path=str(path), full_page=full_page)


def _sign_in(page: Any, site: LiveSite, who: str) -> None:
    page.goto(f"{site.url}/web/signin")
    page.get_by_label("Zugangsschlüssel").fill(site.tokens[who])
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state()


def _pick(page: Any, field: Any, typed: str, option: str, *, keyboard: bool = False) -> None:
    field.fill("")
    field.type(typed, delay=20)
    listbox = page.locator(f"#{field.get_attribute('aria-controls')}")
    choice = listbox.get_by_role("option", name=re.compile("^" + re.escape(option)))
    choice.first.wait_for()
    if keyboard:
        names = listbox.get_by_role("option").all_inner_texts()
        position = next(i for i, n in enumerate(names) if n.startswith(option))
        for _ in range(position + 1):
            field.press("ArrowDown")
        field.press("Enter")
    else:
        choice.first.click()


def test_coach_and_employer_from_sign_in_to_release(
    browser: Any, site: LiveSite, shots: Path
) -> None:
    employer_context = browser.new_context(locale="de-DE", viewport={"width": 1200, "height": 900})
    coach_context = browser.new_context(locale="de-DE", viewport={"width": 1200, "height": 900})
    watch_employer, watch_coach = Watch(employer_context, site), Watch(coach_context, site)
    boss, coach = watch_employer.page(employer_context), watch_coach.page(coach_context)

    # The employer creates a vacancy from an occupation; its skills are pre-filled.
    _sign_in(boss, site, "employer1")
    assert boss.get_by_role("heading", name="Lagerlogistik Sennestadt").is_visible()
    boss.get_by_role("link", name="Neue Stelle anlegen").click()
    boss.get_by_label("Titel der Stelle").fill("Lagerhelfer:in (m/w/d)")
    _pick(boss, boss.get_by_role("combobox", name="Beruf (aus dem ESCO-Verzeichnis)"),
          "Lagerarb", "Lagerarbeiter")  # fmt: skip
    boss.get_by_text("Kompetenzen des Berufs übernommen").wait_for()
    chips = boss.locator("#skill-chips input[name=skill]")
    assert chips.count() >= 10
    assert boss.locator("#skill-chips").get_by_text("Kommissionieren").is_visible()
    # Edit the pre-filled list: drop one skill, make one optional.
    boss.locator("#skill-chips li").filter(has_text="Müll trennen").get_by_role(
        "checkbox", name="Müll trennen").uncheck()  # fmt: skip
    boss.get_by_label("Deutsch mindestens").select_option("A2")
    boss.get_by_label("Stunden pro Woche").fill("30")
    boss.get_by_label("Postleitzahl des Arbeitsorts").fill("33689")
    boss.get_by_role("checkbox", name="Frühschicht").check()
    _shot(boss, shots / "employer-vacancy-form.png", full_page=True)
    boss.get_by_role("button", name="Stelle speichern").click()
    boss.get_by_text("Gespeichert.").wait_for()
    vacancy_url = boss.url.split("?")[0]
    vacancy_id = int(vacancy_url.rsplit("/", 1)[1])
    stored = site.api("GET", f"/vacancies/{vacancy_id}", "employer1")
    assert stored["occupation"]["label_de"] == "Lagerarbeiter"
    assert "Müll trennen" not in [s["label_de"] for s in stored["skills"]]
    assert boss.get_by_text("Zurzeit erfüllt niemand").is_visible()

    # The coach creates a participant by typing skills and picking suggestions.
    _sign_in(coach, site, "coach1")
    assert coach.get_by_role("heading", name="Meine Teilnehmenden").is_visible()
    coach.get_by_role("link", name="Neue:n Teilnehmende:n anlegen").click()
    coach.get_by_label("Name", exact=True).fill("Olena Petrenko")
    coach.get_by_label("Kontakt (Telefon oder E-Mail, optional)").fill("0521 987654")
    coach.get_by_label("Postleitzahl", exact=True).fill("33689")
    search = coach.get_by_role("combobox", name="Kompetenz suchen und hinzufügen")
    _pick(coach, search, "Stap", "Stapler fahren", keyboard=True)
    _pick(coach, search, "Kommiss", "Kommissionieren")
    search.type("Waren stap", delay=20)
    coach.get_by_role("option", name=re.compile("^Waren stapeln")).wait_for()
    _shot(coach, shots / "coach-participant-form-typeahead.png", full_page=False)
    coach.get_by_role("option", name=re.compile("^Waren stapeln")).click()
    search.type("Paletten wickeln", delay=10)
    search.press("Enter")
    chip_values = coach.locator("#skill-chips input[name=skill]").evaluate_all(
        "boxes => boxes.map(b => b.value)"
    )
    assert len(chip_values) == 4 and chip_values[-1] == "Paletten wickeln"
    assert all(v.startswith("http://data.europa.eu/esco/skill/") for v in chip_values[:3])
    coach.get_by_label("Sprache 1").select_option("de")
    coach.get_by_label("Niveau").first.select_option("B1")
    coach.get_by_label("Sprache 2").select_option("uk")
    coach.locator("#level_1").select_option("native")
    coach.get_by_label("Mindestens Stunden pro Woche").fill("20")
    coach.get_by_label("Höchstens Stunden pro Woche").fill("40")
    coach.get_by_role("checkbox", name="Frühschicht").check()
    coach.get_by_label("Arbeitserlaubnis").select_option("yes")
    coach.get_by_role("checkbox", name=re.compile("hat den Hinweis gelesen")).check()
    coach.get_by_role("button", name="Speichern").click()
    coach.get_by_text("Gespeichert.").wait_for()

    # Ranked vacancies with reasons, and what was left out, grouped by reason.
    ranked = coach.locator("#ranked article")
    assert ranked.count() >= 2
    card = ranked.filter(has_text="Lagerhelfer:in (m/w/d)")
    assert card.count() == 1
    text = card.inner_text()
    assert "Kernkompetenzen vorhanden" in text and "Vorhanden:" in text
    assert "Kommissionieren" in text and "Waren stapeln" in text
    assert re.search(r"Arbeitsweg: \d+ Min\.", text)
    assert "gefordert A2" in text
    assert card.locator(".factor").count() == 5
    left_out = coach.locator("#left-out").inner_text()
    for reason in ("Sprachniveau zu niedrig", "Schichten passen nicht", "Führerschein fehlt"):
        assert reason in left_out
    group = coach.locator("#left-out details.group").filter(has_text="Sprachniveau zu niedrig")
    group.locator("summary").first.click()
    assert group.get_by_text("Schichtleitung Verkauf", exact=True).is_visible()
    _shot(coach, shots / "coach-ranked-vacancies.png", full_page=True)

    # Override the language filter for that vacancy, with a reason.
    group.get_by_label("Begründung (wird protokolliert)").fill("Betrieb bietet Sprachkurs an")
    group.get_by_role("button", name="Filter für diese Stelle übergehen").click()
    coach.get_by_text("Filter übergangen; der Grund ist protokolliert.").wait_for()
    overridden = coach.locator("#ranked article").filter(has_text="Schichtleitung Verkauf")
    assert "Filter übergangen: Sprachniveau zu niedrig" in overridden.inner_text()

    # Record an outcome and approve the participant for shortlists.
    card.get_by_label("Ergebnis").select_option("applied")
    card.get_by_role("button", name="Ergebnis speichern").click()
    coach.get_by_text("Ergebnis gespeichert.").wait_for()
    card = coach.locator("#ranked article").filter(has_text="Lagerhelfer:in (m/w/d)")
    assert "Letztes Ergebnis: beworben" in card.inner_text()
    coach.get_by_role("button", name="Für Vorschlagslisten freigeben").click()
    coach.get_by_text("Für die Vorschlagslisten der Arbeitgeber freigegeben.").wait_for()

    # The employer's shortlist shows the candidate, without a name.
    boss.goto(vacancy_url)
    candidate = boss.locator("#shortlist article").first
    heading = candidate.get_by_role("heading").inner_text()
    assert heading.startswith("Kandidat:in ")
    assert "Olena" not in boss.content() and "0521 987654" not in boss.content()
    assert candidate.locator(".factor").count() == 5
    _shot(boss, shots / "employer-shortlist-pseudonymous.png", full_page=True)

    # The coach releases the candidate to this employer.
    card = coach.locator("#ranked article").filter(has_text="Lagerhelfer:in (m/w/d)")
    card.get_by_role(
        "button", name="Name und Kontakt an Lagerlogistik Sennestadt freigeben"
    ).click()
    coach.get_by_text("Name und Kontakt sind jetzt sichtbar.").wait_for()

    # ... and the employer now sees who it is.
    boss.get_by_role("link", name="Stellen", exact=True).click()
    released = boss.get_by_role("heading", name="Neu vorgestellte Kandidat:innen")
    assert released.is_visible()
    assert boss.get_by_text("Olena Petrenko").is_visible()
    _shot(boss, shots / "employer-start-released.png", full_page=True)
    boss.goto(vacancy_url)
    assert boss.locator("#shortlist article").first.get_by_role("heading").inner_text() == (
        "Olena Petrenko"
    )
    candidate = boss.locator("#shortlist article").first
    candidate.get_by_label("Ergebnis").select_option("interview")
    candidate.get_by_role("button", name="Ergebnis speichern").click()
    boss.get_by_text("Ergebnis gespeichert.").wait_for()

    for watch in (watch_employer, watch_coach):
        assert watch.foreign == [], "requests left the machine"
        assert watch.errors == [], "console errors (CSP violations show up here)"
    employer_context.close()
    coach_context.close()


def test_a_coach_cannot_open_another_coachs_participant(browser: Any, site: LiveSite) -> None:
    theirs = site.api("POST", "/participants", "coach2", json={
        "name": "Karim Haddad", "home": {"quarter": "Baumheide"}, "skills": ["Kasse bedienen"],
        "hours_per_week": {"min": 10, "max": 30},
    })["id"]  # fmt: skip
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    _sign_in(page, site, "coach1")
    response = page.goto(f"{site.url}/web/coach/participants/{theirs}")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", name="Nicht gefunden").is_visible()
    assert "Karim" not in page.content()
    page.goto(f"{site.url}/web/coach?q=Karim")
    assert page.get_by_text("Niemand gefunden.").is_visible()
    context.close()


def test_phone_screen_keyboard_and_admin_page(browser: Any, site: LiveSite, shots: Path) -> None:
    pid = site.api("POST", "/participants", "coach1", json={
        "name": "Mehmet Yıldız", "home": {"postcode": "33689"},
        "skills": ["Kasse bedienen", "Kunden beraten"], "hours_per_week": {"min": 20, "max": 35},
        "languages": [{"language": "de", "level": "B1"}], "availability": ["early", "day"],
        "work_permit": "yes",
    })["id"]  # fmt: skip
    phone = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844},
                                is_mobile=True, has_touch=True)  # fmt: skip
    page = phone.new_page()
    _sign_in(page, site, "coach1")
    page.goto(f"{site.url}/web/coach/participants/{pid}")
    assert page.locator("#ranked article").count() >= 1
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than a phone screen"
    page.get_by_role("link", name="Passende Stellen").click()
    _shot(page, shots / "coach-ranked-phone.png", full_page=False)
    phone.close()

    desktop = browser.new_context(locale="de-DE", viewport={"width": 1200, "height": 800})
    page = desktop.new_page()
    page.goto(f"{site.url}/web/signin")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Zum Inhalt springen"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "focus must be visible"
    _shot(page, shots / "signin.png", full_page=False)
    page.get_by_label("Zugangsschlüssel").focus()
    page.keyboard.type(site.tokens["admin"])
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Verwaltung").wait_for()
    assert page.get_by_role("cell", name="coach1", exact=True).is_visible()
    _shot(page, shots / "admin-users.png", full_page=True)
    desktop.close()


def test_next_steps_and_requirement_insights_on_the_pages(
    browser: Any, site: LiveSite, shots: Path
) -> None:
    base = {
        "occupation": "Verkäufer", "location": {"postcode": "33602"}, "hours_per_week": 30,
        "skills": [{"skill": "Kasse bedienen", "essential": True}], "shifts": ["day"],
    }  # fmt: skip
    b1 = [
        site.api("POST", "/vacancies", "employer2", json={
            **base, "title": f"Kassierer:in B1 Nr. {i}",
            "languages": [{"language": "de", "level": "B1"}]})["id"]
        for i in range(3)
    ]  # fmt: skip
    person = {
        "home": {"postcode": "33602"}, "skills": ["Kasse bedienen", "Kunden beraten"],
        "hours_per_week": {"min": 20, "max": 40}, "availability": ["early", "day", "late"],
        "work_permit": "yes", "mobility": {"modes": ["walk", "transit"], "driving_licence": []},
    }  # fmt: skip
    pid = site.api("POST", "/participants", "coach1", json={
        **person, "name": "Daria Melnyk", "languages": [{"language": "de", "level": "A2"}],
    })["id"]  # fmt: skip
    expected = site.api("GET", f"/participants/{pid}/next-steps", "coach1")["items"][0]
    assert expected["text_de"] == "Deutsch A2 → B1: 3 weitere Stellen"
    assert sorted(expected["vacancy_ids"]) == sorted(b1)

    context = browser.new_context(locale="de-DE", viewport={"width": 1200, "height": 900})
    watch = Watch(context, site)
    coach = watch.page(context)
    _sign_in(coach, site, "coach1")
    coach.goto(f"{site.url}/web/coach/participants/{pid}")
    coach.get_by_role("link", name="Nächste Schritte").click()
    section = coach.locator("#next-steps")
    assert section.get_by_role("heading", name="Nächste Schritte").is_visible()
    first = section.locator("article").first
    assert first.get_by_role("heading").inner_text() == "Deutsch A2 → B1: 3 weitere Stellen"
    opened = first.locator("li").all_inner_texts()
    assert sorted(t.split(" · ")[0] for t in opened) == [f"Kassierer:in B1 Nr. {i}"
                                                          for i in range(3)]  # fmt: skip
    assert all(t.endswith("Bäckerei Sonnenschein") for t in opened)
    _shot(coach, shots / "coach-next-steps.png", full_page=True)

    # The employer's vacancy asks for a licence that none of six approved candidates holds.
    vid = site.api("POST", "/vacancies", "employer1", json={
        **base, "title": "Kassierer:in mit Führerschein", "driving_licence_required": "B",
        "languages": [{"language": "de", "level": "A2"}]})["id"]  # fmt: skip
    for i in range(6):
        candidate = site.api("POST", "/participants", "coach1", json={
            **person, "name": f"Kandidat {i}", "languages": [{"language": "de", "level": "B1"}],
        })["id"]  # fmt: skip
        site.api("POST", f"/participants/{candidate}/consent", "coach1",
                 json={"given": True, "notice_version": "test"})  # fmt: skip
        site.api("POST", f"/participants/{candidate}/approval", "coach1", json={"approved": True})
    insights = site.api("GET", f"/vacancies/{vid}/insights", "employer1")["items"]
    assert insights[0]["label_de"] == "Kein Führerschein erforderlich"
    assert insights[0]["additional"] >= 6
    boss = watch.page(context)
    _sign_in(boss, site, "employer1")
    boss.goto(f"{site.url}/web/employer/vacancies/{vid}")
    table = boss.locator("#insights table")
    assert boss.get_by_role("heading", name="Welche Anforderung hält Kandidat:innen ab?"
                            ).is_visible()  # fmt: skip
    rows = [r.locator("td").all_inner_texts() for r in table.locator("tbody tr").all()]
    assert rows == [[i["label_de"], i["count_display"]] for i in insights]
    assert rows[0] == ["Kein Führerschein erforderlich", str(insights[0]["additional"])]
    assert any(count == "weniger als 5" for _, count in rows[1:])
    _shot(boss, shots / "employer-insights.png", full_page=True)
    assert watch.foreign == [] and watch.errors == []
    context.close()
