"""Text in every script the programme's participants write comes back byte-exact."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.conftest import World

#: Names and titles from the scripts and pitfalls of the people the programme serves.
SAMPLES = {
    "umlauts": "Jürgen Größmann-Öztürk, Ärztin für Übergänge",
    "nfd_umlaut": "Mu\u0308ller",  # decomposed: must not be normalised to "Müller"
    "arabic": "محمد عبد الله الحسيني",
    "cyrillic": "Ольга Петрівна Шевченко",
    "turkish_i": "İsmail Işık, ıi İI, DİYARBAKIR",
    "rtl_marks": "\u202bשלום עולם\u202c \u200fمرحبا\u200e ok",
    "emoji": "Zoë 👩🏽\u200d🔧 🇩🇪 ✨",
    "mixed": "Анна-Maria Nguyễn Thị 阮 — «Lager» „Küche“ ‚x‘",
}


@pytest.mark.parametrize("text", list(SAMPLES.values()), ids=list(SAMPLES))
def test_participant_name_and_contact_round_trip(world: World, text: str) -> None:
    created = world.ok(
        "POST", "/participants", "coach1",
        json=_participant(name=text, contact=f"{text} <x@example.org>"),
    )  # fmt: skip
    read = world.ok("GET", f"/participants/{created['id']}", "coach1")
    assert read["name"].encode("utf-8") == text.encode("utf-8")
    assert read["contact"].encode("utf-8") == f"{text} <x@example.org>".encode()
    listed = world.ok("GET", "/participants?limit=100", "coach1")
    assert text in [p["name"] for p in _items(listed)]
    exported = world.ok("GET", f"/participants/{created['id']}/export", "coach1")
    assert text in _strings(exported)


@pytest.mark.parametrize("text", list(SAMPLES.values()), ids=list(SAMPLES))
def test_vacancy_title_and_employer_name_round_trip(world: World, text: str) -> None:
    employer = world.ok("POST", "/employers", "admin", json={"name": text})
    assert world.ok("GET", f"/employers/{employer['id']}", "admin")["name"] == text
    vacancy = world.vacancy(title=text)
    assert world.ok("GET", f"/vacancies/{vacancy}", "employer1")["title"] == text


def test_update_keeps_text_byte_exact(world: World) -> None:
    pid = world.participant()
    for text in SAMPLES.values():
        world.ok("PATCH", f"/participants/{pid}", "coach1", json={"name": text})
        assert world.ok("GET", f"/participants/{pid}", "coach1")["name"] == text


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    text=st.text(
        st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
        min_size=1,
        max_size=60,
    )
)
def test_any_printable_name_round_trips(world: World, text: str) -> None:
    # No whitespace or control characters in the alphabet: nothing may be stripped.
    response = world.call("POST", "/participants", "coach1", json=_participant(name=text))
    assert response.status_code == 201, response.text
    read = world.ok("GET", f"/participants/{response.json()['id']}", "coach1")
    assert read["name"] == text


def _participant(**changes: object) -> dict[str, object]:
    from tests.service.conftest import participant_body

    return participant_body(**changes)


def _items(page: dict[str, object]) -> list[dict[str, object]]:
    items = page.get("items")
    assert isinstance(items, list)
    return items


def _strings(data: object) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for v in data.values() for s in _strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return []
