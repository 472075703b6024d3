"""CEFR language levels: parsing, the hard-filter rule and the language margin factor.

Levels are coded as small integers so that a participant is compared with many vacancies
(or a vacancy with many participants) by NumPy broadcasting:

====== ==== ==================================================
code   name meaning
====== ==== ==================================================
0      --   no entry for the language (no knowledge assumed)
1..6   A1..C2 CEFR levels
7      native mother tongue; counts above C2
====== ==== ==================================================

The rule (PRODUCT.md, "Language"): a participant whose level meets a vacancy's minimum
passes. One level short passes as *reachable* when a course will bring them to the minimum
in time: ``expected_level >= required`` and ``expected_by <= start_date``. Anything else
is filtered, with the gap named in levels.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np

from matching.errors import InvalidInputError, InvalidLanguageLevelError

__all__ = [
    "GAP",
    "LEVELS",
    "MEETS",
    "NATIVE",
    "REACHABLE",
    "REACHABLE_MARGIN",
    "assess",
    "assess_one",
    "level_name",
    "margin",
    "parse_languages",
    "parse_level",
]

LEVELS: Final = ("A1", "A2", "B1", "B2", "C1", "C2", "native")
"""Level names; the code of ``LEVELS[i]`` is ``i + 1`` (0 means no knowledge)."""

NATIVE: Final = 7

MEETS: Final = 0
REACHABLE: Final = 1
GAP: Final = 2

MARGIN_AT_MINIMUM: Final = 0.6
MARGIN_PER_LEVEL: Final = 0.2
REACHABLE_MARGIN: Final = 0.3
"""Language margin of a pair that passes only as reachable (one level short, course in time)."""

_LEVEL_CODES: Final = {name.lower(): code for code, name in enumerate(LEVELS, start=1)}
_LEVEL_CODES.update({"muttersprache": NATIVE, "mothertongue": NATIVE})
_EXPECTED_LEVELS: Final = "A1, A2, B1, B2, C1, C2, native"
_LANGUAGE_CODE: Final = re.compile(r"^[A-Za-z]{2}$")


def parse_level(value: str | None, *, field: str = "level") -> int:
    """Return the integer code of a CEFR level.

    Parameters
    ----------
    value : str or None
        ``"A1"`` .. ``"C2"`` or ``"native"`` (also ``"Muttersprache"``); case and spaces
        are ignored (``" b 2 "`` is B2). ``None`` and ``""`` mean no knowledge (0).
    field : str, default "level"
        Field name reported in the error.

    Returns
    -------
    int
        0 (none), 1 (A1) .. 6 (C2), 7 (native).

    Raises
    ------
    InvalidLanguageLevelError
        For anything else.

    Examples
    --------
    >>> parse_level("b1"), parse_level("Muttersprache"), parse_level(None)
    (3, 7, 0)
    """
    if value is None:
        return 0
    if not isinstance(value, str):
        raise InvalidLanguageLevelError(
            f"unknown CEFR level {value!r}; expected one of {_EXPECTED_LEVELS}", field=field
        )
    key = "".join(value.split()).casefold()
    if key == "":
        return 0
    code = _LEVEL_CODES.get(key)
    if code is None:
        raise InvalidLanguageLevelError(
            f"unknown CEFR level '{value}'; expected one of {_EXPECTED_LEVELS}", field=field
        )
    return code


def level_name(code: int) -> str | None:
    """Return the name of a level code (``None`` for 0, no knowledge).

    Examples
    --------
    >>> level_name(4), level_name(7), level_name(0)
    ('B2', 'native', None)
    """
    code = int(code)
    if code == 0:
        return None
    if not 1 <= code <= NATIVE:
        raise InvalidLanguageLevelError(
            f"level code {code} out of range; expected 0..{NATIVE}", field="level"
        )
    return LEVELS[code - 1]


def _dates(value: Any) -> np.ndarray:
    """Coerce dates (``datetime64``, ISO strings, ``None`` = NaT) to ``datetime64[D]``."""
    array = np.asarray(value)
    if array.dtype == object:
        array = np.where(array == None, np.datetime64("NaT"), array)  # noqa: E711
    return array.astype("datetime64[D]")


def assess(
    level: Any,
    required: Any,
    expected_level: Any,
    expected_by: Any,
    start_date: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Apply the language rule to arrays of pairs (broadcast).

    Parameters
    ----------
    level : array_like of int
        Participant's current level codes (0 = no entry for the language).
    required : array_like of int
        Vacancy's minimum level codes (0 = nothing required).
    expected_level : array_like of int
        Level a running course is expected to reach (0 = no course).
    expected_by : array_like of datetime64[D]
        When the course reaches ``expected_level`` (NaT = unknown).
    start_date : array_like of datetime64[D]
        Vacancy start date (NaT = unknown).

    Returns
    -------
    status : ndarray of int8
        :data:`MEETS`, :data:`REACHABLE` or :data:`GAP`.
    gap : ndarray of int8
        ``max(required - level, 0)`` in levels (1 for a reachable pair).

    Notes
    -----
    A pair is reachable only when it is exactly one level short, the course's
    ``expected_level`` is at least the minimum and ``expected_by`` is on or before the
    start date. An unknown ``expected_by`` or an unknown start date cannot show that the
    course ends in time, so such a pair is not reachable (the coach can still override).

    Examples
    --------
    >>> s, g = assess(3, 4, 4, np.datetime64("2026-03-01"), np.datetime64("2026-04-01"))
    >>> int(s), int(g)
    (1, 1)
    """
    level_arr = np.asarray(level, dtype=np.int16)
    required_arr = np.asarray(required, dtype=np.int16)
    expected_arr = np.asarray(expected_level, dtype=np.int16)
    by = _dates(expected_by)
    start = _dates(start_date)
    shortfall = required_arr - level_arr
    meets = shortfall <= 0
    in_time = by <= start  # NaT on either side compares False
    reachable = (~meets) & (shortfall == 1) & (expected_arr >= required_arr) & in_time
    status = np.where(meets, MEETS, np.where(reachable, REACHABLE, GAP)).astype(np.int8)
    gap = np.maximum(shortfall, 0).astype(np.int8)
    status, gap = np.broadcast_arrays(status, gap)
    return np.array(status), np.array(gap)


_NAT: Final = np.datetime64("NaT", "D")


def _date_one(value: Any) -> np.datetime64:
    if value is None:
        return _NAT
    return np.datetime64(value, "D")


def assess_one(
    level: int, required: int, expected_level: int, expected_by: Any, start_date: Any
) -> tuple[int, int]:
    """:func:`assess` of one pair, in plain Python (explanations of a top-k list).

    Same rule and same values as ``assess`` on scalars, without NumPy's per-call cost.

    Examples
    --------
    >>> assess_one(3, 4, 4, np.datetime64("2026-03-01"), np.datetime64("2026-04-01"))
    (1, 1)
    >>> assess_one(2, 4, 4, None, None), assess_one(5, 4, 5, None, None)
    ((2, 2), (0, 0))
    """
    shortfall = int(required) - int(level)
    if shortfall <= 0:
        return MEETS, 0
    if (
        shortfall == 1
        and int(expected_level) >= int(required)
        and bool(_date_one(expected_by) <= _date_one(start_date))  # NaT compares False
    ):
        return REACHABLE, 1
    return GAP, shortfall


def margin(level: Any, required: Any, *, reachable: Any = None) -> np.ndarray:
    """Language margin factor in [0, 1] (broadcast).

    ``1.0`` where nothing is required; ``0.6`` at exactly the minimum, ``+0.2`` per level
    above it, capped at ``1.0`` (so two levels above the minimum is full marks); ``0.0``
    below the minimum. Where ``reachable`` is true (a pair one level short that passes
    because a course ends in time) the margin is :data:`REACHABLE_MARGIN` (0.3).

    Parameters
    ----------
    level, required : array_like of int
        Level codes as in :func:`assess`.
    reachable : array_like of bool, optional
        Pairs that pass as reachable; the caller decides (e.g. ``status == REACHABLE``).

    Returns
    -------
    ndarray of float32

    Examples
    --------
    >>> margin([3, 4, 5, 6, 2], 3).tolist()
    [0.6000000238418579, 0.800000011920929, 1.0, 1.0, 0.0]
    """
    level_arr = np.asarray(level, dtype=np.float64)
    required_arr = np.asarray(required, dtype=np.float64)
    above = level_arr - required_arr
    value = np.where(
        above >= 0, np.minimum(MARGIN_AT_MINIMUM + MARGIN_PER_LEVEL * above, 1.0), 0.0
    )
    if reachable is not None:
        value = np.where(np.asarray(reachable, dtype=bool) & (above < 0), REACHABLE_MARGIN, value)
    value = np.where(required_arr <= 0, 1.0, value)
    return np.asarray(value, dtype=np.float32)


def _parse_date(value: Any, field: str) -> np.datetime64 | None:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    try:
        if isinstance(value, _dt.datetime):
            value = value.date()
        if isinstance(value, str):
            value = _dt.date.fromisoformat(value.strip()[:10])
        result = np.datetime64(value, "D")
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"invalid date {value!r}; expected an ISO date such as 2026-03-01", field=field
        ) from exc
    if np.isnat(result):
        return None
    return result


def parse_languages(
    entries: Sequence[Mapping[str, Any]] | None,
    *,
    field: str = "languages",
) -> dict[str, tuple[int, int, np.datetime64 | None]]:
    """Validate a list of language entries and return codes per language.

    Parameters
    ----------
    entries : sequence of mapping
        ``[{"language": "de", "level": "B1", "expected_level": "B2",
        "expected_by": "2026-03-01"}, ...]``; ``expected_level`` and ``expected_by`` are
        optional. A vacancy's entries carry only ``language`` and ``level`` (the minimum).
    field : str, default "languages"
        Prefix of the field names in errors (``languages[2].level``).

    Returns
    -------
    dict
        ``{"de": (level, expected_level, expected_by)}`` with ISO 639-1 codes in lower
        case; ``expected_level`` defaults to ``level`` (no course) and ``expected_by`` to
        ``None``.

    Raises
    ------
    InvalidInputError
        An entry that is not a mapping, a language that is not two letters, a duplicate
        language, an expected level below the current one, or an invalid date.
    InvalidLanguageLevelError
        An unknown level.

    Examples
    --------
    >>> parse_languages([{"language": "DE", "level": "a2"}])
    {'de': (2, 2, None)}
    """
    result: dict[str, tuple[int, int, np.datetime64 | None]] = {}
    for index, entry in enumerate(entries or ()):
        where = f"{field}[{index}]"
        if not isinstance(entry, Mapping):
            raise InvalidInputError(
                f"{where} must be an object with 'language' and 'level', got {entry!r}",
                field=where,
            )
        language = entry.get("language")
        if not isinstance(language, str) or not _LANGUAGE_CODE.match(language.strip()):
            raise InvalidInputError(
                f"{where}.language must be a two-letter ISO 639-1 code such as 'de', "
                f"got {language!r}",
                field=f"{where}.language",
            )
        code = language.strip().lower()
        if code in result:
            raise InvalidInputError(
                f"{where}.language '{code}' is listed more than once", field=f"{where}.language"
            )
        level = parse_level(entry.get("level"), field=f"{where}.level")
        raw_expected = entry.get("expected_level")
        if raw_expected is None or raw_expected == "":
            expected = level
        else:
            expected = parse_level(raw_expected, field=f"{where}.expected_level")
            if expected < level:
                raise InvalidInputError(
                    f"{where}.expected_level {raw_expected!r} is below the current level "
                    f"{entry.get('level')!r}",
                    field=f"{where}.expected_level",
                )
        expected_by = _parse_date(entry.get("expected_by"), f"{where}.expected_by")
        result[code] = (level, expected, expected_by)
    return result
