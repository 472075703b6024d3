"""CEFR parsing, the reachable rule and the language margin, case by case."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.errors import InvalidInputError, InvalidLanguageLevelError
from matching.language import (
    GAP,
    LEVELS,
    MEETS,
    REACHABLE,
    assess,
    level_name,
    margin,
    parse_languages,
    parse_level,
)

A1, A2, B1, B2, C1, C2, NATIVE = range(1, 8)
START = np.datetime64("2026-04-01")
BEFORE = np.datetime64("2026-03-01")
AFTER = np.datetime64("2026-05-01")
NAT = np.datetime64("NaT")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("A1", 1),
        ("a2", 2),
        (" B1 ", 3),
        ("b 2", 4),
        ("C1", 5),
        ("c2", 6),
        ("native", 7),
        ("Native", 7),
        ("Muttersprache", 7),
        (None, 0),
        ("", 0),
        ("  ", 0),
    ],
)
def test_parse_level_known_values(value: str | None, code: int) -> None:
    assert parse_level(value) == code


@pytest.mark.parametrize("value", ["B3", "D1", "fluent", "A", "1"])
def test_parse_level_unknown_value_names_it(value: str) -> None:
    with pytest.raises(InvalidLanguageLevelError) as info:
        parse_level(value, field="languages[0].level")
    assert f"'{value}'" in str(info.value)
    assert "A1, A2, B1, B2, C1, C2, native" in str(info.value)
    assert info.value.field == "languages[0].level"


def test_level_name_round_trip() -> None:
    assert [level_name(parse_level(name)) for name in LEVELS] == list(LEVELS)
    assert level_name(0) is None
    with pytest.raises(InvalidLanguageLevelError):
        level_name(8)


def _one(level: int, required: int, expected: int, by: np.datetime64, start=START):
    status, gap = assess(level, required, expected, by, start)
    return int(status), int(gap)


def test_meets_the_minimum() -> None:
    assert _one(B1, B1, 0, NAT) == (MEETS, 0)
    assert _one(C1, B1, 0, NAT) == (MEETS, 0)


def test_one_short_course_in_time_is_reachable() -> None:
    assert _one(A2, B1, B1, BEFORE) == (REACHABLE, 1)
    assert _one(A2, B1, B2, START) == (REACHABLE, 1)  # on the start date counts


def test_one_short_course_too_late_is_a_gap() -> None:
    assert _one(A2, B1, B1, AFTER) == (GAP, 1)


def test_one_short_course_not_high_enough_is_a_gap() -> None:
    assert _one(A2, B1, A2, BEFORE) == (GAP, 1)


def test_one_short_unknown_dates_are_not_reachable() -> None:
    assert _one(A2, B1, B1, NAT) == (GAP, 1)
    assert _one(A2, B1, B1, BEFORE, NAT) == (GAP, 1)


def test_two_short_is_a_gap_even_with_a_course() -> None:
    assert _one(A1, B1, B1, BEFORE) == (GAP, 2)


def test_native_counts_above_c2() -> None:
    assert _one(NATIVE, C2, 0, NAT) == (MEETS, 0)
    assert _one(C2, NATIVE, 0, NAT) == (GAP, 1)


def test_missing_language_is_level_zero() -> None:
    assert _one(0, A2, 0, NAT) == (GAP, 2)
    assert _one(0, A1, A1, BEFORE) == (REACHABLE, 1)
    assert _one(0, 0, 0, NAT) == (MEETS, 0)


def test_assess_broadcasts_one_participant_against_many_vacancies() -> None:
    required = np.array([0, A2, B1, B2, C1], dtype=np.int8)
    starts = np.array(["2026-01-01", "2026-01-01", "2026-06-01", "2026-06-01", "2026-06-01"],
                      dtype="datetime64[D]")
    status, gap = assess(A2, required, B1, np.datetime64("2026-03-01"), starts)
    assert status.dtype == np.int8 and gap.dtype == np.int8
    assert status.tolist() == [MEETS, MEETS, REACHABLE, GAP, GAP]
    assert gap.tolist() == [0, 0, 1, 2, 3]


def test_assess_accepts_iso_strings_and_none() -> None:
    status, _ = assess([A2, A2], B1, B1, ["2026-03-01", None], "2026-04-01")
    assert status.tolist() == [REACHABLE, GAP]


def test_margin_known_values() -> None:
    values = margin([B1, B2, C1, NATIVE, A2, 0], [B1, B1, B1, B1, B1, 0])
    assert values.dtype == np.float32
    np.testing.assert_allclose(values, [0.6, 0.8, 1.0, 1.0, 0.0, 1.0], rtol=1e-6)


def test_margin_reachable_pairs_get_point_three() -> None:
    values = margin([A2, A2, B1], B1, reachable=[True, False, True])
    np.testing.assert_allclose(values, [0.3, 0.0, 0.6], rtol=1e-6)


@given(st.integers(0, 7), st.integers(0, 7), st.integers(0, 7))
def test_margin_in_unit_interval_and_monotone_in_level(level: int, required: int, up: int) -> None:
    low = float(margin(level, required))
    high = float(margin(min(level + up, 7), required))
    assert 0.0 <= low <= high <= 1.0


@given(st.integers(0, 7), st.integers(0, 7), st.integers(0, 7), st.booleans())
def test_assess_status_consistent_with_gap(level: int, required: int, expected: int,
                                           in_time: bool) -> None:
    status, gap = _one(level, required, expected, BEFORE if in_time else AFTER)
    assert gap == max(required - level, 0)
    assert (status == MEETS) == (gap == 0)
    if status == REACHABLE:
        assert gap == 1 and expected >= required and in_time


def test_parse_languages_full_entry() -> None:
    parsed = parse_languages(
        [
            {"language": "DE", "level": "a2", "expected_level": "B1", "expected_by": "2026-03-01"},
            {"language": "ar", "level": "Muttersprache"},
            {"language": "en", "level": "B1", "expected_by": dt.date(2026, 5, 1)},
        ]
    )
    assert parsed == {
        "de": (A2, B1, np.datetime64("2026-03-01")),
        "ar": (NATIVE, NATIVE, None),
        "en": (B1, B1, np.datetime64("2026-05-01")),
    }


@pytest.mark.parametrize(
    ("entries", "field"),
    [
        ([{"language": "deu", "level": "B1"}], "languages[0].language"),
        ([{"language": "de", "level": "B1"}, {"language": "d1", "level": "B1"}],
         "languages[1].language"),
        ([{"level": "B1"}], "languages[0].language"),
        ([{"language": "de", "level": "B1"}, {"language": "DE", "level": "A1"}],
         "languages[1].language"),
        ([{"language": "de", "level": "B1", "expected_level": "A2"}],
         "languages[0].expected_level"),
        ([{"language": "de", "level": "B1", "expected_by": "next spring"}],
         "languages[0].expected_by"),
        (["de"], "languages[0]"),
    ],
)
def test_parse_languages_rejects_bad_entries_naming_the_index(entries, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_languages(entries)
    assert info.value.field == field


def test_parse_languages_unknown_level_is_typed() -> None:
    with pytest.raises(InvalidLanguageLevelError) as info:
        parse_languages([{"language": "de", "level": "A1"}, {"language": "en", "level": "B7"}])
    assert info.value.field == "languages[1].level"
    assert "'B7'" in str(info.value)
