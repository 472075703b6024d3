"""Synthetic labour markets: a demo market for Bielefeld and an evaluation market from ESCO.

:func:`make_demo_market` builds a small, plausible market of local employers, their
vacancies and programme participants from the curated tables shipped in
``matching/data/demo/`` and the shipped ESCO taxonomy; nothing outside the package is
read, so the demo runs on a fresh clone. :func:`make_evaluation_market` builds a larger
market whose right answers are known (which participant belongs to which occupation, which
pairs cannot work), for offline benchmarks with :mod:`matching.evaluation`.

Both are deterministic: the same ``random_state`` gives identical frames. Every share and
distribution used here is documented in ``docs/DEMO_MARKET.md``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
import scipy.sparse as sp

from matching.errors import DataFileError, InvalidInputError
from matching.language import GAP, assess
from matching.schema import MODES, P, V

if TYPE_CHECKING:
    from matching.taxonomy import Taxonomy

__all__ = [
    "DEMO_DATA_DIR",
    "DEMO_REFERENCE_DATE",
    "DemoMarket",
    "EvaluationMarket",
    "demo_names",
    "demo_occupations",
    "demo_postcodes",
    "make_demo_market",
    "make_evaluation_market",
]

DEMO_DATA_DIR: Final = Path(__file__).resolve().parent / "data" / "demo"
"""Directory of the shipped demo tables (occupations, postcodes, names)."""

DEMO_REFERENCE_DATE: Final = dt.date(2026, 12, 1)
"""Default "today" of the generated markets; start dates and course ends follow it.

A fixed date keeps the output reproducible; the service passes the real date.
"""

LEVEL_NAMES: Final = ("A1", "A2", "B1", "B2", "C1", "C2", "native")
"""CEFR level names; ``LEVEL_NAMES[i]`` has code ``i + 1`` as in :mod:`matching.language`."""

# ----------------------------------------------------------------------------- shares
# Demo participants (see docs/DEMO_MARKET.md for the reasoning behind each number).
_FIRST_LANGUAGE_SHARES: Final = {
    "de": 0.30, "ar": 0.17, "tr": 0.13, "uk": 0.12, "ru": 0.07,
    "fa": 0.06, "pl": 0.05, "ro": 0.05, "en": 0.05,
}  # fmt: skip
_TURKISH_NATIVE_GERMAN: Final = 0.30  # second generation: German and Turkish both native
_GERMAN_LEVEL_SHARES: Final = {
    "A1": 0.12,
    "A2": 0.32,
    "B1": 0.30,
    "B2": 0.17,
    "C1": 0.07,
    "C2": 0.02,
}  # non-native speakers
_COURSE_SHARE: Final = 0.35  # of non-native speakers at A1..B1: in a German course
_ENGLISH_SHARE: Final = 0.35  # other speakers with some English (A1..B2)
_LICENCE_B_SHARE: Final = {"native": 0.50, "other": 0.25}
_CAR_SHARE: Final = 0.50  # of licence holders: has a car available
_BIKE_SHARE: Final = 0.45
_MAX_COMMUTE_SHARE: Final = 0.30
_MAX_COMMUTE_VALUES: Final = (30.0, 45.0, 60.0)
_CHILDCARE_SHARE: Final = 0.25  # day shifts only
_NIGHT_SHARE: Final = 0.20
_WEEKEND_SHARE: Final = 0.40
_HOURS_OPTIONS: Final = ((30.0, 40.0), (15.0, 30.0), (8.0, 20.0), (20.0, 40.0))
_HOURS_SHARES: Final = (0.45, 0.35, 0.10, 0.10)
_PERMIT_SHARES: Final = {"yes": 0.80, "restricted": 0.08, "pending": 0.07, "unknown": 0.05}
_CONSENT_SHARE: Final = 0.90
_APPROVED_SHARE: Final = 0.90  # of those who consented
_SECOND_OCCUPATION_SHARE: Final = 0.40
_URI_SKILL_SHARE: Final = 0.55  # of skills taken from ESCO: kept as URI (else label text)
_PHRASE_SHARE: Final = 0.60  # participants who also type colloquial phrases
_DESIRED_NONE_SHARE: Final = 0.15
_PAST_SHARE: Final = 0.60
_OCCUPATION_AS_URI_SHARE: Final = 0.50
_FIRST_AID_SHARE: Final = 0.10
_CERTIFICATE_HELD_SHARE: Final = 0.50  # of those whose occupation typically needs one
# Demo employers and vacancies.
_SIZE_CLASSES: Final = ("micro", "small", "medium")
_SIZE_SHARES: Final = (0.50, 0.38, 0.12)
_SIZE_VACANCY_WEIGHT: Final = (1.0, 2.5, 5.0)
_OTHER_SECTOR_SHARE: Final = 0.10  # a vacancy outside the employer's own sector
_OPENINGS: Final = (1, 2, 3)
_OPENINGS_SHARES: Final = (0.60, 0.25, 0.15)
_STATUS: Final = ("open", "filled", "closed")
_STATUS_SHARES: Final = (0.90, 0.06, 0.04)
_ESSENTIAL_MARKED: Final = (0.6, 1.0)
_MAX_EXTRA_OPTIONAL: Final = 4
_NO_SKILLS: Final = np.empty(0, dtype=np.int64)
_START_DAYS: Final = (0, 56)
_JITTER_DEG: Final = (0.006, 0.009)  # sd of lat, lon jitter around a postcode centroid
# Evaluation market.
_EVAL_VACANCY_GERMAN: Final = {"A1": 0.15, "A2": 0.40, "B1": 0.35, "B2": 0.10}
_EVAL_PARTICIPANT_GERMAN: Final = {
    "A1": 0.10,
    "A2": 0.33,
    "B1": 0.32,
    "B2": 0.15,
    "C1": 0.05,
    "native": 0.05,
}
_EVAL_HOURS: Final = (35.0, 38.0, 39.0, 40.0)  # > 6 h a day: the 75-minute §140 limit
_EVAL_COURSE_SHARE: Final = 0.40  # of participants at A1..B1: in a German course
_EVAL_COURSE_MAX_LEVEL: Final = 3  # B1
_EVAL_COURSE_DAYS: Final = (7, 60)  # course reaches the next level this many days from today
_EVAL_START_DAYS: Final = (14, 42)
_EVAL_CHUNK: Final = 2048  # participants per block when applying the language rule
_EVAL_MIN_ESSENTIAL: Final = 4
_EVAL_PER_ISCO_GROUP: Final = 3
_EVAL_SKILL_SHARE: Final = (0.4, 0.8)
_EVAL_UNRELATED: Final = (1, 3)
_EVAL_LOWER_SHARE: Final = 0.30
_EVAL_GERMAN_LABEL_SHARE: Final = 0.50  # of text skills with a German label: typed in German

_FOLD: Final = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ł": "l", "ş": "s", "ç": "c", "ğ": "g",
     "ı": "i", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "Ł": "L", "Ş": "S", "Ç": "C"}
)  # fmt: skip


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class DemoMarket:
    """A seeded demo market for Bielefeld.

    Attributes
    ----------
    employers : pandas.DataFrame
        ``employer_id, name, sector, size_class, postcode, quarter, lat, lon``.
    vacancies : pandas.DataFrame
        Columns of :class:`matching.schema.V` (in that order).
    participants : pandas.DataFrame
        ``participant_id, name, contact`` and the columns of :class:`matching.schema.P`.
        ``name`` and ``contact`` are invented and are never scoring inputs.
    """

    employers: pd.DataFrame
    vacancies: pd.DataFrame
    participants: pd.DataFrame


@dataclass(frozen=True, eq=False)
class EvaluationMarket:
    """A synthetic market with known answers for offline evaluation.

    Attributes
    ----------
    vacancies : pandas.DataFrame
        Columns of :class:`matching.schema.V`.
    participants : pandas.DataFrame
        Columns of :class:`matching.schema.P`.
    relevance : dict
        Participant id → {vacancy id: grade}: 2.0 for a vacancy of the participant's own
        occupation, 1.0 for one of another occupation in the same ISCO-08 unit group
        (4 digits). Unlisted vacancies have grade 0.
    participant_occupation : dict
        Participant id → the ESCO URI of the occupation the participant was drawn from.
    skill_entries : pandas.DataFrame
        One row per participant skill entry: ``participant_id, entry`` (as typed),
        ``skill_uri`` (the true skill), ``from_occupation`` (drawn from the occupation's
        essential skills, else an unrelated one), ``as_text``, ``lowercased`` and
        ``noise`` (``"none"``, ``"drop_word"`` or ``"typo"``).
    infeasible_mask : numpy.ndarray of bool
        ``(n_participants, n_vacancies)`` in the row order of :attr:`participants` and
        :attr:`vacancies`: true for the pairs in :attr:`infeasible`.
    """

    vacancies: pd.DataFrame
    participants: pd.DataFrame
    relevance: dict[str, dict[str, float]]
    participant_occupation: dict[str, str]
    skill_entries: pd.DataFrame = field(repr=False)
    infeasible_mask: np.ndarray = field(repr=False)

    @cached_property
    def infeasible(self) -> frozenset[tuple[str, str]]:
        """Pairs ``(participant id, vacancy id)`` the hard filters must exclude.

        The participant's German fails the vacancy's minimum under the rule of
        :func:`matching.language.assess` (two or more levels short, or one level short
        without a course that ends by the start date), or the vacancy lies in another city
        150+ km from Bielefeld, beyond any daily commute. No other filter applies by
        construction, except that a commute estimate may also reject some long trips across
        Bielefeld: the set holds the unambiguous violations only (``docs/DEMO_MARKET.md``).
        Built on first access; for 10,000 participants it can hold millions of pairs, so
        prefer :meth:`count_infeasible` and :attr:`infeasible_mask` in benchmarks.
        """
        rows, cols = np.nonzero(self.infeasible_mask)
        pids = self.participants[P.ID].to_numpy(dtype=object)
        vids = self.vacancies[V.ID].to_numpy(dtype=object)
        return frozenset(zip(pids[rows].tolist(), vids[cols].tolist(), strict=True))

    @cached_property
    def _rows(self) -> tuple[dict[str, int], dict[str, int]]:
        pids = self.participants[P.ID].tolist()
        vids = self.vacancies[V.ID].tolist()
        return {p: i for i, p in enumerate(pids)}, {v: j for j, v in enumerate(vids)}

    def count_infeasible(self, rankings: Mapping[str, Sequence[str]], k: int = 10) -> int:
        """Count infeasible pairs among the first ``k`` vacancies of each ranking.

        Parameters
        ----------
        rankings : mapping of participant id to sequence of vacancy ids
            Ranked vacancies per participant, best first.
        k : int, default 10
            Cut-off, a positive integer.

        Returns
        -------
        int
            Number of ``(participant, vacancy)`` pairs shown in a top ``k`` that are in
            :attr:`infeasible`.

        Raises
        ------
        InvalidInputError
            If ``k`` is not a positive integer or an id is not in this market.
        """
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k <= 0:
            raise InvalidInputError(f"k must be a positive integer, got {k!r}", field="k")
        row_of, col_of = self._rows
        rows: list[int] = []
        cols: list[int] = []
        for pid, ranked in rankings.items():
            if pid not in row_of:
                raise InvalidInputError(f"unknown participant id {pid!r}", field="rankings")
            top = list(ranked)[:k]
            unknown = [vid for vid in top if vid not in col_of]
            if unknown:
                raise InvalidInputError(f"unknown vacancy id {unknown[0]!r}", field="rankings")
            rows.extend([row_of[pid]] * len(top))
            cols.extend(col_of[vid] for vid in top)
        return int(self.infeasible_mask[np.asarray(rows, int), np.asarray(cols, int)].sum())

    def feasible_relevance(self) -> dict[str, dict[str, float]]:
        """Return :attr:`relevance` without the pairs in :attr:`infeasible`.

        Use it to score a matcher that applies the hard filters: an infeasible vacancy of
        the right occupation is then not a miss.
        """
        row_of, col_of = self._rows
        mask = self.infeasible_mask
        return {
            pid: {vid: g for vid, g in grades.items() if not mask[row_of[pid], col_of[vid]]}
            for pid, grades in self.relevance.items()
        }


# ----------------------------------------------------------------------------- shipped tables


def _read_table(name: str, dtype: dict[str, Any] | None = None) -> pd.DataFrame:
    path = DEMO_DATA_DIR / name
    try:
        return pd.read_csv(path, dtype=dtype or str, keep_default_na=False, na_filter=False)
    except FileNotFoundError as exc:
        raise DataFileError(f"{path}: file not found") from exc
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: unreadable CSV ({exc})") from exc


def _require(frame: pd.DataFrame, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataFileError(f"{DEMO_DATA_DIR / name}: missing column {missing[0]!r}")


@cache
def _occupations_table() -> pd.DataFrame:
    columns = (
        "key", "occupation_uri", "isco_code", "esco_label_en", "title_de", "text_de", "sector",
        "weight", "hours", "days", "shifts", "german", "driving_licence",
        "driving_licence_share", "certificate", "certificate_share", "phrases",
    )  # fmt: skip
    frame = _read_table("occupations.csv")
    _require(frame, "occupations.csv", columns)
    for column in ("weight", "driving_licence_share", "certificate_share"):
        frame[column] = pd.to_numeric(frame[column], errors="raise").astype(float)
    return frame


@cache
def _postcodes_table() -> pd.DataFrame:
    frame = _read_table("postcodes.csv")
    _require(
        frame,
        "postcodes.csv",
        (
            "postcode",
            "city",
            "district",
            "quarter",
            "lat",
            "lon",
            "resident_weight",
            "employer_weight",
        ),
    )
    for column in ("lat", "lon", "resident_weight", "employer_weight"):
        frame[column] = pd.to_numeric(frame[column], errors="raise").astype(float)
    return frame


@cache
def _names_table() -> pd.DataFrame:
    frame = _read_table("names.csv")
    _require(frame, "names.csv", ("kind", "group", "value"))
    return frame


def demo_occupations() -> pd.DataFrame:
    """The curated occupations of the demo market (a copy of ``occupations.csv``).

    Returns
    -------
    pandas.DataFrame
        One row per occupation: ``key, occupation_uri, isco_code, esco_label_en, title_de``
        (as a firm writes it), ``text_de`` (as a participant types it), ``sector``,
        ``weight`` (relative frequency), ``hours``, ``days`` (``|``-separated options),
        ``shifts`` (``|``-separated ``set:weight``, shifts joined by ``+``), ``german``
        (``level:weight``), ``driving_licence`` and its share, ``certificate`` and its
        share, ``phrases`` (colloquial skill phrases, ``|``-separated).

    Examples
    --------
    >>> table = demo_occupations()
    >>> table.loc[table["key"] == "kitchen_assistant", "title_de"].item()
    'Küchenhilfe (m/w/d)'
    """
    return _occupations_table().copy()


def demo_postcodes() -> pd.DataFrame:
    """Postcode centroids used by the generated markets (a copy of ``postcodes.csv``).

    Returns
    -------
    pandas.DataFrame
        ``postcode, city, district, quarter, lat, lon, resident_weight, employer_weight``;
        the 18 Bielefeld delivery postcodes and a few cities 150+ km away (weights 0).

    Examples
    --------
    >>> table = demo_postcodes()
    >>> table.loc[table["postcode"] == "33609", "quarter"].item()
    'Baumheide'
    """
    return _postcodes_table().copy()


def demo_names() -> pd.DataFrame:
    """Invented name parts for participants and employers (a copy of ``names.csv``)."""
    return _names_table().copy()


# ----------------------------------------------------------------------------- helpers


def _check_count(value: Any, name: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidInputError(
            f"{name} must be an integer of at least {minimum}, got {value!r}", field=name
        )
    return int(value)


def _check_share(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise InvalidInputError(f"{name} must be a number in [0, 1], got {value!r}", field=name)
    return float(value)


def _check_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise InvalidInputError(
        f"reference_date must be a datetime.date, got {value!r}", field="reference_date"
    )


def _weighted(spec: str) -> tuple[list[str], np.ndarray]:
    """Parse ``"a:0.3|b:0.7"`` (a missing weight counts 1) into values and probabilities."""
    values, weights = [], []
    for part in spec.split("|"):
        value, _, weight = part.partition(":")
        values.append(value)
        weights.append(float(weight) if weight else 1.0)
    probs = np.asarray(weights, dtype=float)
    return values, probs / probs.sum()


def _pick(rng: np.random.Generator, values: Sequence[Any], probs: Any = None) -> Any:
    return values[int(rng.choice(len(values), p=probs))]


def _shares(mapping: dict[str, float]) -> tuple[list[str], np.ndarray]:
    keys = list(mapping)
    probs = np.asarray([mapping[k] for k in keys], dtype=float)
    return keys, probs / probs.sum()


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in folded if c.isascii() and (c.isalnum() or c in "-."))


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    """Build a frame; a column holding ``None`` keeps object dtype so ``None`` stays ``None``."""
    data = {}
    for name, values in columns.items():
        values = list(values) if not isinstance(values, np.ndarray) else values
        holds_none = any(v is None for v in values)
        data[name] = pd.Series(values, dtype=object) if holds_none else values
    return pd.DataFrame(data)


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _jitter(
    rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    lat = lat + rng.normal(0.0, _JITTER_DEG[0], lat.shape)
    lon = lon + rng.normal(0.0, _JITTER_DEG[1], lon.shape)
    return np.round(lat, 5), np.round(lon, 5)


def _skill_uris(taxonomy: Taxonomy) -> np.ndarray:
    uris = np.empty(len(taxonomy.skill_position), dtype=object)
    for uri, pos in taxonomy.skill_position.items():
        uris[pos] = uri
    return uris


def _skill_labels(taxonomy: Taxonomy) -> tuple[np.ndarray, np.ndarray]:
    """English and German labels by skill position (German None where absent)."""
    en = taxonomy.skills["label_en"].to_numpy(dtype=object)
    de = taxonomy.skills["label_de"].to_numpy(dtype=object)
    de = np.array([v if isinstance(v, str) and v else None for v in de], dtype=object)
    return en, de


def _occupation_row(taxonomy: Taxonomy, uri: str) -> int:
    try:
        return taxonomy.occupation_position[uri]
    except KeyError as exc:
        raise DataFileError(
            f"{DEMO_DATA_DIR / 'occupations.csv'}: occupation {uri} is not in the taxonomy "
            f"({taxonomy!r})"
        ) from exc


def _load_taxonomy(taxonomy: Taxonomy | None) -> Taxonomy:
    if taxonomy is not None:
        return taxonomy
    from matching.taxonomy import Taxonomy

    return Taxonomy.load()


# ----------------------------------------------------------------------------- demo market


def make_demo_market(
    n_employers: int = 60,
    n_vacancies: int = 300,
    n_participants: int = 200,
    *,
    taxonomy: Taxonomy | None = None,
    random_state: int | np.random.Generator | None = 0,
    reference_date: dt.date = DEMO_REFERENCE_DATE,
) -> DemoMarket:
    """Build a seeded demo market of Bielefeld employers, vacancies and participants.

    Parameters
    ----------
    n_employers : int, default 60
        Number of employers (at least 1 when there are vacancies).
    n_vacancies : int, default 300
        Number of vacancies; every employer gets at least one while there are enough.
    n_participants : int, default 200
        Number of participants.
    taxonomy : Taxonomy, optional
        The ESCO taxonomy whose essential and optional skills the vacancies and
        participants use; the shipped one (:meth:`Taxonomy.load`) when omitted.
    random_state : int, numpy.random.Generator or None, default 0
        Seed. The same integer gives identical frames.
    reference_date : datetime.date, default :data:`DEMO_REFERENCE_DATE`
        "Today": vacancies start 0–8 weeks after it, language courses end 1–6 months
        after it.

    Returns
    -------
    DemoMarket

    Raises
    ------
    InvalidInputError
        A count that is negative or not an integer, or vacancies without employers.
    DataFileError
        A shipped demo table is missing or malformed, or names an occupation the taxonomy
        does not have.

    Examples
    --------
    >>> market = make_demo_market(5, 12, 8)
    >>> bool(market.vacancies["employer_id"].isin(market.employers["employer_id"]).all())
    True
    """
    n_employers = _check_count(n_employers, "n_employers")
    n_vacancies = _check_count(n_vacancies, "n_vacancies")
    n_participants = _check_count(n_participants, "n_participants")
    if n_vacancies and not n_employers:
        raise InvalidInputError(
            "n_employers must be at least 1 when there are vacancies", field="n_employers"
        )
    reference_date = _check_date(reference_date)
    taxonomy = _load_taxonomy(taxonomy)
    rng = np.random.default_rng(random_state)
    occupations = _occupations_table()
    postcodes = _postcodes_table()
    names = _names_table()
    rows = np.array([_occupation_row(taxonomy, u) for u in occupations["occupation_uri"]])
    context = _DemoContext(
        taxonomy=taxonomy,
        occupations=occupations,
        occupation_rows=rows,
        postcodes=postcodes,
        names=names,
        skill_uris=_skill_uris(taxonomy),
        labels=_skill_labels(taxonomy),
        reference_date=reference_date,
    )
    employers = _demo_employers(rng, n_employers, context)
    vacancies = _demo_vacancies(rng, n_vacancies, employers, context)
    participants = _demo_participants(rng, n_participants, context)
    return DemoMarket(employers=employers, vacancies=vacancies, participants=participants)


@dataclass(frozen=True)
class _DemoContext:
    taxonomy: Any
    occupations: pd.DataFrame
    occupation_rows: np.ndarray
    postcodes: pd.DataFrame
    names: pd.DataFrame
    skill_uris: np.ndarray
    labels: tuple[np.ndarray, np.ndarray]
    reference_date: dt.date
    _name_lists: dict[tuple[str, str], list[str]] = field(default_factory=dict, repr=False)

    def names_of(self, kind: str, group: str = "") -> list[str]:
        key = (kind, group)
        if key not in self._name_lists:
            frame = self.names
            self._name_lists[key] = frame.loc[
                (frame["kind"] == kind) & (frame["group"] == group), "value"
            ].tolist()
        return self._name_lists[key]


def _bielefeld(postcodes: pd.DataFrame, weight: str) -> tuple[pd.DataFrame, np.ndarray]:
    local = postcodes[postcodes[weight] > 0].reset_index(drop=True)
    probs = local[weight].to_numpy(float)
    return local, probs / probs.sum()


def _demo_employers(rng: np.random.Generator, n: int, ctx: _DemoContext) -> pd.DataFrame:
    occ = ctx.occupations
    sector_weight = occ.groupby("sector", sort=True)["weight"].sum()
    sectors = sector_weight.index.tolist()
    sector_probs = (sector_weight / sector_weight.sum()).to_numpy()
    local, probs = _bielefeld(ctx.postcodes, "employer_weight")
    fantasy = ctx.names_of("employer_fantasy")
    legal = ctx.names_of("employer_legal")

    sector = [sectors[i] for i in rng.choice(len(sectors), size=n, p=sector_probs)]
    size = [_SIZE_CLASSES[i] for i in rng.choice(3, size=n, p=_SIZE_SHARES)]
    where = rng.choice(len(local), size=n, p=probs)
    lat, lon = _jitter(rng, local["lat"].to_numpy()[where], local["lon"].to_numpy()[where])
    seen: dict[str, int] = {}
    employer_names = []
    for s in sector:
        base = (
            f"{_pick(rng, ctx.names_of('employer_prefix', s))} "
            f"{_pick(rng, fantasy)} {_pick(rng, legal)}"
        )
        seen[base] = seen.get(base, 0) + 1
        employer_names.append(base if seen[base] == 1 else f"{base} ({seen[base]})")
    return pd.DataFrame(
        {
            "employer_id": [f"emp-{i + 1:04d}" for i in range(n)],
            "name": employer_names,
            "sector": sector,
            "size_class": size,
            "postcode": local["postcode"].to_numpy()[where].tolist(),
            "quarter": local["quarter"].to_numpy()[where].tolist(),
            "lat": lat,
            "lon": lon,
        }
    )


def _demo_vacancies(
    rng: np.random.Generator, n: int, employers: pd.DataFrame, ctx: _DemoContext
) -> pd.DataFrame:
    occ = ctx.occupations
    n_emp = len(employers)
    columns: dict[str, list[Any]] = {name: [] for name in _vacancy_columns()}
    if n == 0:
        return _frame(columns)
    size_weight = np.array(
        [_SIZE_VACANCY_WEIGHT[_SIZE_CLASSES.index(s)] for s in employers["size_class"]]
    )
    first = np.arange(min(n, n_emp))
    rest = rng.choice(n_emp, size=n - len(first), p=size_weight / size_weight.sum())
    owner = np.concatenate([first, rest]).astype(int)
    weights = occ["weight"].to_numpy(float)
    taxonomy = ctx.taxonomy
    uris = ctx.skill_uris
    occ_records = occ.to_dict("records")
    occ_sector = occ["sector"].to_numpy(dtype=object)
    emp_records = employers.to_dict("records")
    for i, e in enumerate(owner):
        emp = emp_records[e]
        in_sector = occ_sector == emp["sector"]
        if rng.random() < _OTHER_SECTOR_SHARE:
            in_sector = np.ones(len(occ), dtype=bool)
        w = np.where(in_sector, weights, 0.0)
        k = int(rng.choice(len(occ), p=w / w.sum()))
        row = occ_records[k]
        pos = ctx.occupation_rows[k]
        essential = taxonomy.occupation_essential[pos].indices
        essential = np.sort(essential)
        optional = np.setdiff1d(taxonomy.occupation_optional[pos].indices, essential)
        share = rng.uniform(*_ESSENTIAL_MARKED)
        n_marked = max(1, math.ceil(share * len(essential))) if len(essential) else 0
        marked = np.zeros(len(essential), dtype=bool)
        marked[rng.permutation(len(essential))[:n_marked]] = True
        n_opt = int(rng.integers(0, min(_MAX_EXTRA_OPTIONAL, len(optional)) + 1))
        extra = np.sort(rng.choice(optional, size=n_opt, replace=False)) if n_opt else _NO_SKILLS
        skills = [
            {"skill": uris[s], "essential": bool(m)} for s, m in zip(essential, marked, strict=True)
        ]
        skills += [{"skill": uris[s], "essential": False} for s in extra]

        hours = float(_pick(rng, row["hours"].split("|")))
        days = int(_pick(rng, row["days"].split("|")))
        if hours <= 20 and days > 4 and rng.random() < 0.5:
            days = int(rng.integers(3, 5))
        shift_sets, shift_probs = _weighted(row["shifts"])
        shifts = _pick(rng, shift_sets, shift_probs).split("+")
        levels, level_probs = _weighted(row["german"])
        languages = [{"language": "de", "level": _pick(rng, levels, level_probs)}]
        if row["sector"] == "office" and rng.random() < 0.3:
            languages.append({"language": "en", "level": _pick(rng, ("A2", "B1"))})
        licence = None
        if row["driving_licence"] and rng.random() < row["driving_licence_share"]:
            licence = row["driving_licence"]
        certificates = []
        if row["certificate"] and rng.random() < row["certificate_share"]:
            certificates.append(row["certificate"])
        title = row["title_de"]
        if hours <= 10:
            title = f"{title} auf Minijob-Basis"
        elif hours < 30:
            title = f"{title} in Teilzeit"
        start = ctx.reference_date + dt.timedelta(days=int(rng.integers(*_START_DAYS) + 1))

        columns[V.ID].append(f"vac-{i + 1:05d}")
        columns[V.EMPLOYER_ID].append(emp["employer_id"])
        columns[V.TITLE].append(title)
        columns[V.OCCUPATION].append(row["occupation_uri"])
        columns[V.SKILLS].append(skills)
        columns[V.CERTIFICATES].append(certificates)
        columns[V.LANGUAGES].append(languages)
        columns[V.POSTCODE].append(emp["postcode"])
        columns[V.QUARTER].append(emp["quarter"])
        columns[V.LAT].append(float(emp["lat"]))
        columns[V.LON].append(float(emp["lon"]))
        columns[V.HOURS].append(hours)
        columns[V.DAYS].append(days)
        columns[V.SHIFTS].append(shifts)
        columns[V.DRIVING_LICENCE].append(licence)
        columns[V.WORK_PERMIT_REQUIRED].append(True)
        columns[V.OPENINGS].append(int(_pick(rng, _OPENINGS, _OPENINGS_SHARES)))
        columns[V.START_DATE].append(_iso(start))
        columns[V.STATUS].append(_pick(rng, _STATUS, _STATUS_SHARES))
    return _frame(columns)


def _vacancy_columns() -> list[str]:
    return [
        V.ID, V.EMPLOYER_ID, V.TITLE, V.OCCUPATION, V.SKILLS, V.CERTIFICATES, V.LANGUAGES,
        V.POSTCODE, V.QUARTER, V.LAT, V.LON, V.HOURS, V.DAYS, V.SHIFTS, V.DRIVING_LICENCE,
        V.WORK_PERMIT_REQUIRED, V.OPENINGS, V.START_DATE, V.STATUS,
    ]  # fmt: skip


def _participant_columns() -> list[str]:
    return [
        P.ID, P.SKILLS, P.CERTIFICATES, P.LANGUAGES, P.POSTCODE, P.QUARTER, P.LAT, P.LON,
        P.MODES, P.DRIVING_LICENCE, P.MAX_COMMUTE, P.HOURS_MIN, P.HOURS_MAX, P.AVAILABILITY,
        P.WORK_PERMIT, P.DESIRED_OCCUPATIONS, P.PAST_OCCUPATIONS, P.CONSENT, P.APPROVED,
    ]  # fmt: skip


def _demo_languages(
    rng: np.random.Generator, first: str, ctx: _DemoContext
) -> tuple[list[dict[str, str]], bool]:
    """Language entries of one participant and whether German is native."""
    german_native = first == "de" or (first == "tr" and rng.random() < _TURKISH_NATIVE_GERMAN)
    entries: list[dict[str, str]] = []
    if german_native:
        entries.append({"language": "de", "level": "native"})
    else:
        levels, probs = _shares(_GERMAN_LEVEL_SHARES)
        level = _pick(rng, levels, probs)
        entry = {"language": "de", "level": level}
        if level in ("A1", "A2", "B1") and rng.random() < _COURSE_SHARE:
            entry["expected_level"] = LEVEL_NAMES[LEVEL_NAMES.index(level) + 1]
            months = int(rng.integers(1, 7))
            entry["expected_by"] = _iso(ctx.reference_date + dt.timedelta(days=30 * months))
        entries.append(entry)
    if first != "de":
        entries.append({"language": first, "level": "native"})
    if first == "uk" and rng.random() < 0.6:
        entries.append({"language": "ru", "level": _pick(rng, ("B2", "C1", "C2"))})
    if first != "en" and rng.random() < _ENGLISH_SHARE:
        entries.append({"language": "en", "level": _pick(rng, ("A1", "A2", "B1", "B2"))})
    return entries, german_native


def _demo_participants(rng: np.random.Generator, n: int, ctx: _DemoContext) -> pd.DataFrame:
    occ = ctx.occupations
    names = [P.ID, "name", "contact", *_participant_columns()[1:]]
    columns: dict[str, list[Any]] = {name: [] for name in names}
    if n == 0:
        return _frame(columns)
    local, probs = _bielefeld(ctx.postcodes, "resident_weight")
    where = rng.choice(len(local), size=n, p=probs)
    lat, lon = _jitter(rng, local["lat"].to_numpy()[where], local["lon"].to_numpy()[where])
    firsts, first_probs = _shares(_FIRST_LANGUAGE_SHARES)
    occ_probs = occ["weight"].to_numpy(float) / occ["weight"].sum()
    label_en, label_de = ctx.labels
    permits, permit_probs = _shares(_PERMIT_SHARES)
    used_names: dict[str, int] = {}
    occ_records = occ.to_dict("records")
    for i in range(n):
        first = _pick(rng, firsts, first_probs)
        given = _pick(rng, ctx.names_of("first", first))
        family = _pick(rng, ctx.names_of("last", first))
        full = f"{given} {family}"
        used_names[full] = used_names.get(full, 0) + 1
        local_part = _ascii(f"{given}.{family}").lower()
        if used_names[full] > 1:
            local_part = f"{local_part}{used_names[full]}"
        languages, german_native = _demo_languages(rng, first, ctx)

        n_occ = 2 if rng.random() < _SECOND_OCCUPATION_SHARE else 1
        picks = rng.choice(len(occ), size=n_occ, replace=False, p=occ_probs)
        skills: list[str] = []
        for k in picks:
            pos = ctx.occupation_rows[k]
            essential = np.sort(ctx.taxonomy.occupation_essential[pos].indices)
            if len(essential):
                share = rng.uniform(0.3, 0.8)
                take = np.sort(rng.permutation(essential)[: max(1, round(share * len(essential)))])
                for s in take:
                    if rng.random() < _URI_SKILL_SHARE:
                        skills.append(ctx.skill_uris[s])
                    else:
                        german = label_de[s]
                        skills.append(german if german and rng.random() < 0.5 else label_en[s])
            if rng.random() < _PHRASE_SHARE:
                phrases = occ_records[k]["phrases"].split("|")
                n_phrases = int(rng.integers(1, min(3, len(phrases)) + 1))
                skills.extend(rng.permutation(phrases)[:n_phrases].tolist())
        skills = list(dict.fromkeys(skills))

        def occupation_entry(k: int) -> str:
            if rng.random() < _OCCUPATION_AS_URI_SHARE:
                return str(occ_records[k]["occupation_uri"])
            return str(occ_records[k]["text_de"])

        desired = [] if rng.random() < _DESIRED_NONE_SHARE else [occupation_entry(picks[0])]
        past = [occupation_entry(k) for k in picks[-1:]] if rng.random() < _PAST_SHARE else []

        licence: list[str] = []
        licence_share = _LICENCE_B_SHARE["native" if german_native else "other"]
        needs_licence = any(occ_records[k]["driving_licence_share"] >= 0.5 for k in picks)
        if rng.random() < (0.9 if needs_licence else licence_share):
            licence = ["B"]
        if any(occ_records[k]["driving_licence"] == "CE" for k in picks):
            licence = ["B", "C", "CE"]
        certificates: list[str] = []
        for k in picks:
            cert = occ_records[k]["certificate"]
            if cert and rng.random() < _CERTIFICATE_HELD_SHARE:
                certificates.append(cert)
        if rng.random() < _FIRST_AID_SHARE:
            certificates.append("Erste-Hilfe-Kurs")
        certificates = list(dict.fromkeys(certificates))

        modes = {"walk", "transit"}
        if rng.random() < _BIKE_SHARE:
            modes.add("bike")
        if licence and rng.random() < _CAR_SHARE:
            modes.add("car")
        max_commute = (
            float(_pick(rng, _MAX_COMMUTE_VALUES)) if rng.random() < _MAX_COMMUTE_SHARE else None
        )
        hours_min, hours_max = _HOURS_OPTIONS[int(rng.choice(4, p=_HOURS_SHARES))]
        if rng.random() < _CHILDCARE_SHARE:
            availability = ["day"]
        else:
            availability = ["early", "day", "late"]
            if rng.random() < _NIGHT_SHARE:
                availability.append("night")
            if rng.random() < _WEEKEND_SHARE:
                availability.append("weekend")
        permit = "yes" if german_native else _pick(rng, permits, permit_probs)
        consent = bool(rng.random() < _CONSENT_SHARE)
        approved = consent and bool(rng.random() < _APPROVED_SHARE)

        columns[P.ID].append(f"par-{i + 1:05d}")
        columns["name"].append(full)
        columns["contact"].append(f"{local_part}@example.org")
        columns[P.SKILLS].append(skills)
        columns[P.CERTIFICATES].append(certificates)
        columns[P.LANGUAGES].append(languages)
        columns[P.POSTCODE].append(local["postcode"].iat[where[i]])
        columns[P.QUARTER].append(local["quarter"].iat[where[i]])
        columns[P.LAT].append(float(lat[i]))
        columns[P.LON].append(float(lon[i]))
        columns[P.MODES].append([m for m in MODES if m in modes])
        columns[P.DRIVING_LICENCE].append(licence)
        columns[P.MAX_COMMUTE].append(max_commute)
        columns[P.HOURS_MIN].append(hours_min)
        columns[P.HOURS_MAX].append(hours_max)
        columns[P.AVAILABILITY].append(availability)
        columns[P.WORK_PERMIT].append(permit)
        columns[P.DESIRED_OCCUPATIONS].append(desired)
        columns[P.PAST_OCCUPATIONS].append(past)
        columns[P.CONSENT].append(consent)
        columns[P.APPROVED].append(approved)
    return _frame(columns)


# ----------------------------------------------------------------------------- evaluation


def _relations_from_dir(
    esco_dir: str | os.PathLike[str], taxonomy: Taxonomy
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Essential and optional occupation→skill matrices read from an ESCO CSV download."""
    directory = Path(esco_dir)
    candidates = sorted(directory.glob("occupationSkillRelations*.csv*"))
    if not candidates:
        raise DataFileError(f"{directory}: no occupationSkillRelations*.csv(.gz) file")
    path = candidates[0]
    try:
        frame = pd.read_csv(path, usecols=["occupationUri", "relationType", "skillUri"], dtype=str)
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: unreadable ({exc})") from exc
    occ = frame["occupationUri"].map(taxonomy.occupation_position)
    skill = frame["skillUri"].map(taxonomy.skill_position)
    known = occ.notna() & skill.notna()
    shape = (len(taxonomy.occupation_position), len(taxonomy.skill_position))
    matrices = []
    for kind in ("essential", "optional"):
        mask = known & (frame["relationType"] == kind)
        rows = occ[mask].to_numpy(np.int64)
        cols = skill[mask].to_numpy(np.int64)
        matrix = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=shape)
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        matrix.sort_indices()
        matrices.append(matrix)
    return matrices[0], matrices[1]


def _sample_occupations(
    rng: np.random.Generator, essential: sp.csr_matrix, isco: np.ndarray, n: int
) -> np.ndarray:
    """Sample ``n`` occupations in clusters of up to three per ISCO unit group."""
    counts = np.diff(essential.indptr)
    eligible = np.flatnonzero(
        (counts >= _EVAL_MIN_ESSENTIAL) & np.array([len(c) == 4 for c in isco], dtype=bool)
    )
    if n > len(eligible):
        raise InvalidInputError(
            f"n_occupations={n} exceeds the {len(eligible)} occupations with an ISCO unit "
            f"group and at least {_EVAL_MIN_ESSENTIAL} essential skills",
            field="n_occupations",
        )
    groups, group_index = np.unique(isco[eligible], return_inverse=True)
    group_key = rng.random(len(groups))[group_index]
    occ_key = rng.random(len(eligible))
    order = np.lexsort((occ_key, group_key))
    ordered_groups = group_index[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ordered_groups)) + 1]
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    capped = order[rank < _EVAL_PER_ISCO_GROUP]
    if len(capped) < n:  # fall back to more per group when few groups exist
        capped = np.concatenate([capped, order[rank >= _EVAL_PER_ISCO_GROUP]])
    return eligible[capped[:n]]


def _rank_within(rows: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order entries by (row, key) and return the order and each entry's rank in its row."""
    order = np.lexsort((keys, rows))
    sorted_rows = rows[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_rows)) + 1] if len(rows) else np.array([0])
    lengths = np.diff(np.r_[starts, len(rows)])
    rank = np.arange(len(rows)) - np.repeat(starts, lengths)
    return order, rank


_KEYBOARD_LETTERS: Final = "abcdefghijklmnopqrstuvwxyz"


def _typo(text: str, u: tuple[float, float, float]) -> str:
    """Introduce one typo: swap two neighbours, drop or replace a letter."""
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 3:
        return text + _KEYBOARD_LETTERS[int(u[2] * 26) % 26]
    i = letters[int(u[1] * len(letters)) % len(letters)]
    kind = int(u[0] * 3)
    if kind == 0 and i + 1 < len(text) and text[i + 1] != text[i]:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind <= 1:
        return text[:i] + text[i + 1 :]
    replacement = _KEYBOARD_LETTERS[int(u[2] * 26) % 26]
    if replacement == text[i].lower():
        replacement = _KEYBOARD_LETTERS[(int(u[2] * 26) + 1) % 26]
    return text[:i] + replacement + text[i + 1 :]


def _language_entry(level: int, expected: int, by: np.datetime64) -> list[dict[str, str]]:
    entry = {"language": "de", "level": LEVEL_NAMES[level - 1]}
    if expected > level:
        entry["expected_level"] = LEVEL_NAMES[expected - 1]
        entry["expected_by"] = str(by)
    return [entry]


def _drop_word(text: str, u: float) -> str:
    words = text.split()
    if len(words) < 2:
        return text
    del words[int(u * len(words)) % len(words)]
    return " ".join(words)


def make_evaluation_market(
    esco_dir: str | os.PathLike[str] | None = None,
    n_occupations: int = 200,
    vacancies_per_occupation: int = 3,
    participants_per_occupation: int = 5,
    *,
    taxonomy: Taxonomy,
    random_state: int | np.random.Generator | None = 0,
    text_share: float = 0.5,
    noise_share: float = 0.5,
    far_share: float = 0.05,
    reference_date: dt.date = DEMO_REFERENCE_DATE,
) -> EvaluationMarket:
    """Build a market with known answers from ESCO's occupation→skill relations.

    Occupations are sampled in clusters of up to three per ISCO-08 unit group, so that
    grade-1 relevance (same unit group) occurs. Each occupation gets
    ``vacancies_per_occupation`` vacancies (skills: all its essential skills, 60–100 % of
    them marked essential, plus up to four optional ones) and
    ``participants_per_occupation`` participants whose skills are 40–80 % of the
    occupation's essential skills plus 1–3 unrelated skills, about ``text_share`` of them
    typed as text (its English or German label, sometimes lower-cased; a share
    ``noise_share`` of the text entries with a word dropped or a typo).

    Participants' German spreads from A1 to native (vacancies ask for A1 to B2) and 40 %
    of those at A1–B1 attend a course that reaches the next level 1–8 weeks from
    ``reference_date``; a share ``far_share`` of vacancies lies in other cities. Only
    German and distance make pairs infeasible: vacancies need no certificate or licence
    and offer day shifts of 30–40 hours, and participants accept those hours and all
    shifts, and have a work permit and consent. Participants have no desired or past
    occupations, so a benchmark measures skill matching and free-text resolution.

    Parameters
    ----------
    esco_dir : path-like, optional
        A directory with ESCO's ``occupationSkillRelations*.csv(.gz)`` (e.g.
        ``../shared/data/esco-v1.1.1-en``). Without it the taxonomy's own matrices are
        used (the same relations for the shipped ESCO v1.1.1).
    n_occupations : int, default 200
        Number of occupations sampled.
    vacancies_per_occupation, participants_per_occupation : int, default 3 and 5
        Vacancies and participants per occupation.
    taxonomy : Taxonomy
        Provides URIs, labels, ISCO codes (and the relations without ``esco_dir``).
    random_state : int, numpy.random.Generator or None, default 0
        Seed; the same integer gives identical output.
    text_share : float, default 0.5
        Share of participants' skill entries typed as text instead of a URI.
    noise_share : float, default 0.5
        Share of the text entries altered by a dropped word (labels of two or more words)
        or a typo.
    far_share : float, default 0.05
        Share of vacancies placed in another city 150+ km away.
    reference_date : datetime.date, default :data:`DEMO_REFERENCE_DATE`
        Vacancies start 2–6 weeks after it.

    Returns
    -------
    EvaluationMarket

    Raises
    ------
    InvalidInputError
        A count or share out of range, or more occupations than ESCO can provide.
    DataFileError
        ``esco_dir`` has no readable relations file.
    """
    n_occupations = _check_count(n_occupations, "n_occupations", minimum=1)
    n_vpo = _check_count(vacancies_per_occupation, "vacancies_per_occupation", minimum=1)
    n_ppo = _check_count(participants_per_occupation, "participants_per_occupation", minimum=1)
    text_share = _check_share(text_share, "text_share")
    noise_share = _check_share(noise_share, "noise_share")
    far_share = _check_share(far_share, "far_share")
    reference_date = _check_date(reference_date)
    rng = np.random.default_rng(random_state)

    if esco_dir is None:
        essential = taxonomy.occupation_essential.tocsr()
        optional = taxonomy.occupation_optional.tocsr()
        essential.sort_indices()
        optional.sort_indices()
    else:
        essential, optional = _relations_from_dir(esco_dir, taxonomy)
    occ_uris = np.empty(len(taxonomy.occupation_position), dtype=object)
    for uri, pos in taxonomy.occupation_position.items():
        occ_uris[pos] = uri
    isco = np.array(
        [
            c if isinstance(c, str) and len(c) == 4 and c.isdigit() else ""
            for c in taxonomy.occupations["isco_code"].to_numpy(dtype=object)
        ],
        dtype=object,
    )
    skill_uris = _skill_uris(taxonomy)
    label_en, label_de = _skill_labels(taxonomy)
    n_skills = len(skill_uris)

    chosen = _sample_occupations(rng, essential, isco, n_occupations)

    # --- vacancies
    vac_occ = np.repeat(chosen, n_vpo)
    n_v = len(vac_occ)
    vac_ids = np.array([f"vac-{i + 1:05d}" for i in range(n_v)], dtype=object)
    german_levels, german_probs = _shares(_EVAL_VACANCY_GERMAN)
    vac_level_idx = rng.choice(len(german_levels), size=n_v, p=german_probs)
    vac_required = np.array([LEVEL_NAMES.index(german_levels[i]) + 1 for i in vac_level_idx])
    postcodes = _postcodes_table()
    local, local_probs = _bielefeld(postcodes, "employer_weight")
    far = postcodes[postcodes["city"] != "Bielefeld"].reset_index(drop=True)
    is_far = rng.random(n_v) < far_share
    local_pick = rng.choice(len(local), size=n_v, p=local_probs)
    far_pick = rng.integers(0, len(far), size=n_v)
    v_postcode = np.where(
        is_far, far["postcode"].to_numpy()[far_pick], local["postcode"].to_numpy()[local_pick]
    )
    v_quarter = np.where(is_far, None, local["quarter"].to_numpy()[local_pick])
    v_lat, v_lon = _jitter(
        rng,
        np.where(is_far, far["lat"].to_numpy()[far_pick], local["lat"].to_numpy()[local_pick]),
        np.where(is_far, far["lon"].to_numpy()[far_pick], local["lon"].to_numpy()[local_pick]),
    )
    v_hours = np.asarray(_EVAL_HOURS)[rng.integers(0, len(_EVAL_HOURS), size=n_v)]
    marked_share = rng.uniform(*_ESSENTIAL_MARKED, size=n_v)
    start_offsets = rng.integers(_EVAL_START_DAYS[0], _EVAL_START_DAYS[1] + 1, size=n_v)
    vacancy_skills = []
    for j in range(n_v):
        o = vac_occ[j]
        ess = essential.indices[essential.indptr[o] : essential.indptr[o + 1]]
        opt = np.setdiff1d(optional.indices[optional.indptr[o] : optional.indptr[o + 1]], ess)
        n_marked = max(1, math.ceil(marked_share[j] * len(ess)))
        marked = np.zeros(len(ess), dtype=bool)
        marked[rng.permutation(len(ess))[:n_marked]] = True
        n_opt = int(rng.integers(0, min(_MAX_EXTRA_OPTIONAL, len(opt)) + 1))
        extra = np.sort(rng.choice(opt, size=n_opt, replace=False)) if n_opt else _NO_SKILLS
        entries = [
            {"skill": skill_uris[s], "essential": bool(m)} for s, m in zip(ess, marked, strict=True)
        ]
        entries += [{"skill": skill_uris[s], "essential": False} for s in extra]
        vacancy_skills.append(entries)
    vacancies = _frame(
        {
            V.ID: vac_ids,
            V.EMPLOYER_ID: [f"emp-{i + 1:04d}" for i in range(n_v)],
            V.TITLE: [
                taxonomy.occupations["label_de"].iat[o] or taxonomy.occupations["label_en"].iat[o]
                for o in vac_occ
            ],
            V.OCCUPATION: occ_uris[vac_occ],
            V.SKILLS: vacancy_skills,
            V.CERTIFICATES: [[] for _ in range(n_v)],
            V.LANGUAGES: [[{"language": "de", "level": LEVEL_NAMES[r - 1]}] for r in vac_required],
            V.POSTCODE: v_postcode,
            V.QUARTER: v_quarter,
            V.LAT: v_lat,
            V.LON: v_lon,
            V.HOURS: v_hours,
            V.DAYS: np.full(n_v, 5),
            V.SHIFTS: [["day"] for _ in range(n_v)],
            V.DRIVING_LICENCE: [None] * n_v,
            V.WORK_PERMIT_REQUIRED: np.ones(n_v, dtype=bool),
            V.OPENINGS: np.ones(n_v, dtype=np.int64),
            V.START_DATE: [_iso(reference_date + dt.timedelta(days=int(d))) for d in start_offsets],
            V.STATUS: ["open"] * n_v,
        }
    )

    # --- participants: occupation, skills
    par_occ = rng.permutation(np.repeat(chosen, n_ppo))
    n_p = len(par_occ)
    par_ids = np.array([f"par-{i + 1:05d}" for i in range(n_p)], dtype=object)
    sub = essential[par_occ]
    counts = np.diff(sub.indptr)
    entry_row = np.repeat(np.arange(n_p), counts)
    share = rng.uniform(*_EVAL_SKILL_SHARE, size=n_p)
    keep = np.maximum(1, np.rint(share * counts)).astype(np.int64)
    order, rank = _rank_within(entry_row, rng.random(len(entry_row)))
    taken = order[rank < keep[entry_row[order]]]
    rel_rows = entry_row[taken]
    rel_skills = sub.indices[taken]

    n_extra = rng.integers(_EVAL_UNRELATED[0], _EVAL_UNRELATED[1] + 1, size=n_p)
    extra_rows = np.repeat(np.arange(n_p), n_extra)
    extra_skills = rng.integers(0, n_skills, size=len(extra_rows))
    related = (essential + optional).tocsr()[par_occ]
    for _ in range(20):  # redraw unrelated skills that are in fact related
        clash = np.asarray(related[extra_rows, extra_skills]).ravel() > 0
        if not clash.any():
            break
        extra_skills[clash] = rng.integers(0, n_skills, size=int(clash.sum()))

    rows = np.concatenate([rel_rows, extra_rows])
    skills = np.concatenate([rel_skills, extra_skills])
    from_occupation = np.concatenate(
        [np.ones(len(rel_rows), dtype=bool), np.zeros(len(extra_rows), dtype=bool)]
    )
    pair_key = rows.astype(np.int64) * n_skills + skills
    _, first = np.unique(pair_key, return_index=True)
    first = np.sort(first)
    rows, skills, from_occupation = rows[first], skills[first], from_occupation[first]
    by_row = np.lexsort((np.arange(len(rows)), rows))
    rows, skills, from_occupation = rows[by_row], skills[by_row], from_occupation[by_row]
    n_entries = len(rows)

    as_text = rng.random(n_entries) < text_share
    use_german = rng.random(n_entries) < _EVAL_GERMAN_LABEL_SHARE
    lowercase = rng.random(n_entries) < _EVAL_LOWER_SHARE
    noisy = rng.random(n_entries) < noise_share
    noise_kind = rng.random(n_entries)
    noise_u = rng.random((n_entries, 3))
    entry_text = skill_uris[skills].copy()
    noise = np.full(n_entries, "none", dtype=object)
    for e in np.flatnonzero(as_text):
        s = skills[e]
        german = label_de[s]
        text = german if german is not None and use_german[e] else label_en[s]
        if noisy[e]:
            if noise_kind[e] < 0.5 and len(text.split()) >= 2:
                text = _drop_word(text, noise_u[e, 0])
                noise[e] = "drop_word"
            else:
                text = _typo(text, (noise_u[e, 0], noise_u[e, 1], noise_u[e, 2]))
                noise[e] = "typo"
        if lowercase[e]:
            text = text.lower()
        entry_text[e] = text
    lowercase &= as_text

    boundaries = np.searchsorted(rows, np.arange(1, n_p))
    participant_skills = [list(part) for part in np.split(entry_text, boundaries)]
    skill_entries = pd.DataFrame(
        {
            "participant_id": par_ids[rows],
            "entry": entry_text,
            "skill_uri": skill_uris[skills],
            "from_occupation": from_occupation,
            "as_text": as_text,
            "lowercased": lowercase,
            "noise": noise,
        }
    )

    # --- participants: German, home, everything else feasible
    p_levels, p_probs = _shares(_EVAL_PARTICIPANT_GERMAN)
    p_level_idx = rng.choice(len(p_levels), size=n_p, p=p_probs)
    p_level = np.array([LEVEL_NAMES.index(p_levels[i]) + 1 for i in p_level_idx])
    in_course = (p_level <= _EVAL_COURSE_MAX_LEVEL) & (rng.random(n_p) < _EVAL_COURSE_SHARE)
    p_expected = np.where(in_course, p_level + 1, p_level)
    course_days = rng.integers(_EVAL_COURSE_DAYS[0], _EVAL_COURSE_DAYS[1] + 1, size=n_p)
    reference = np.datetime64(reference_date, "D")
    p_by = np.where(in_course, reference + course_days, np.datetime64("NaT", "D"))
    home_local, home_probs = _bielefeld(postcodes, "resident_weight")
    home = rng.choice(len(home_local), size=n_p, p=home_probs)
    p_lat, p_lon = _jitter(
        rng, home_local["lat"].to_numpy()[home], home_local["lon"].to_numpy()[home]
    )
    participants = _frame(
        {
            P.ID: par_ids,
            P.SKILLS: participant_skills,
            P.CERTIFICATES: [[] for _ in range(n_p)],
            P.LANGUAGES: [
                _language_entry(c, e, b) for c, e, b in zip(p_level, p_expected, p_by, strict=True)
            ],
            P.POSTCODE: home_local["postcode"].to_numpy()[home],
            P.QUARTER: home_local["quarter"].to_numpy()[home],
            P.LAT: p_lat,
            P.LON: p_lon,
            P.MODES: [["walk", "bike", "transit"] for _ in range(n_p)],
            P.DRIVING_LICENCE: [[] for _ in range(n_p)],
            P.MAX_COMMUTE: [None] * n_p,
            P.HOURS_MIN: np.full(n_p, 20.0),
            P.HOURS_MAX: np.full(n_p, 40.0),
            P.AVAILABILITY: [["early", "day", "late", "night", "weekend"] for _ in range(n_p)],
            P.WORK_PERMIT: ["yes"] * n_p,
            P.DESIRED_OCCUPATIONS: [[] for _ in range(n_p)],
            P.PAST_OCCUPATIONS: [[] for _ in range(n_p)],
            P.CONSENT: np.ones(n_p, dtype=bool),
            P.APPROVED: np.ones(n_p, dtype=bool),
        }
    )

    # --- relevance and infeasible pairs
    per_occupation: dict[int, dict[str, float]] = {}
    group_vacancies: dict[str, list[str]] = {}
    for o, vid in zip(vac_occ, vac_ids, strict=True):
        group_vacancies.setdefault(isco[o], []).append(vid)
    for o in chosen:
        grades = dict.fromkeys(group_vacancies[isco[o]], 1.0)
        grades.update(dict.fromkeys(vac_ids[vac_occ == o], 2.0))
        per_occupation[int(o)] = grades
    relevance = {pid: dict(per_occupation[int(o)]) for pid, o in zip(par_ids, par_occ, strict=True)}
    vac_start = np.datetime64(reference_date, "D") + start_offsets
    infeasible_mask = np.empty((n_p, n_v), dtype=bool)
    for lo in range(0, n_p, _EVAL_CHUNK):
        hi = min(lo + _EVAL_CHUNK, n_p)
        status, _ = assess(
            p_level[lo:hi, None],
            vac_required[None, :],
            p_expected[lo:hi, None],
            p_by[lo:hi, None],
            vac_start[None, :],
        )
        infeasible_mask[lo:hi] = (status == GAP) | is_far[None, :]
    return EvaluationMarket(
        vacancies=vacancies,
        participants=participants,
        relevance=relevance,
        infeasible_mask=infeasible_mask,
        participant_occupation=dict(zip(par_ids.tolist(), occ_uris[par_occ].tolist(), strict=True)),
        skill_entries=skill_entries,
    )
