"""Markup of every page: German, labelled inputs, nothing loaded from elsewhere."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.web.conftest import World

STATIC = Path(__file__).resolve().parents[2] / "service" / "web" / "static"


class _Inputs(HTMLParser):
    """Collect form controls, labels and external references of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.label_depth = 0
        self.references: list[str] = []
        self.html_lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(str(a["for"]))
        if tag in ("input", "select", "textarea"):
            kind = a.get("type") or ""
            if kind not in ("hidden", "submit", "button"):
                self.controls.append({**a, "_wrapped": "yes" if self.label_depth else None})
        for key in ("src", "href", "action"):
            if a.get(key):
                self.references.append(str(a[key]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1


def _check(html: str) -> _Inputs:
    parser = _Inputs()
    parser.feed(html)
    assert parser.html_lang == "de"
    for control in parser.controls:
        named = (
            control["_wrapped"]
            or (control.get("id") and control["id"] in parser.label_for)
            or control.get("aria-label")
        )
        assert named, f"control without a label: {control}"
    for reference in parser.references:
        assert not reference.startswith(("http:", "https:", "//")), reference
    return parser


@pytest.fixture
def pages(world: World) -> dict[str, list[str]]:
    pid = world.participant("coach1")
    world.shortlistable(pid)
    world.vacancy("employer1", languages=[{"language": "de", "level": "C1"}])
    vid = world.vacancy("employer1")
    return {
        "coach1": ["/web/coach", "/web/coach/participants/new", f"/web/coach/participants/{pid}",
                   f"/web/coach/participants/{pid}/edit"],
        "employer1": ["/web/employer", "/web/employer/vacancies/new",
                      f"/web/employer/vacancies/{vid}", f"/web/employer/vacancies/{vid}/edit"],
        "admin": ["/web/admin", "/web/admin/participants", "/web/admin/import"],
        "analyst": ["/web/analyst"],
    }  # fmt: skip


def test_every_page_is_german_labelled_and_self_contained(
    world: World, pages: dict[str, list[str]]
) -> None:
    anonymous = world.anonymous().get("/web/signin")
    _check(anonymous.text)
    for who, paths in pages.items():
        client = world.browser(who)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (who, path)
            _check(response.text)


def test_static_files_reference_nothing_outside() -> None:
    css = (STATIC / "app.css").read_text(encoding="utf-8")
    js = (STATIC / "app.js").read_text(encoding="utf-8")
    assert "@import" not in css and "url(" not in css and "@font-face" not in css
    assert "http" not in js.replace('indexOf("http")', "")


def test_static_files_are_served_and_others_are_not(world: World) -> None:
    client = world.anonymous()
    css = client.get("/web/static/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.get("/web/static/app.js").status_code == 200
    for name in ("../labels.py", "nothing.css", "..%2F__init__.py", "app.css.bak"):
        assert client.get(f"/web/static/{name}").status_code == 404, name


def test_import_messages_are_translated_and_unknown_ones_kept() -> None:
    from service.web.messages import german_message

    assert german_message("Field required") == "Pflichtfeld fehlt"
    assert german_message("Input should be less than or equal to 60") == "höchstens 60"
    assert german_message("Input should be 'A1', 'A2' or 'native'") == (
        "erlaubt: A1, A2 oder native"
    )
    assert german_message("quarter 'Atlantis' is not a Bielefeld district or quarter") == (
        "„Atlantis“ ist kein Bielefelder Stadtbezirk oder Stadtteil"
    )
    assert german_message("kein Coach namens 'x'") == "kein Coach namens 'x'"
