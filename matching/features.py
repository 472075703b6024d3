"""Turn participant and vacancy tables into the column arrays the index scores on.

Each builder validates its table row by row (a typed error names the row, its id and
the field), resolves free text to ESCO concepts in one batch, geocodes, and returns a
*block*: a dataclass of NumPy arrays and SciPy sparse matrices, one row per input row.
Blocks of the same kind concatenate, which is how the index grows without a rebuild.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any, Final

import numpy as np
import pandas as pd
import scipy.sparse as sp

from matching.certificates import licence_bit, licence_mask, normalise_certificate
from matching.commute import daily_hours as _daily_hours
from matching.errors import InvalidInputError, UnknownConceptError
from matching.geo import Geocoder
from matching.language import parse_level
from matching.schema import (
    AVAILABILITY_SHIFTS,
    MODES,
    PARTICIPANT_COLUMNS,
    VACANCY_COLUMNS,
    WORK_PERMIT_VALUES,
    P,
    V,
)
from matching.taxonomy import Taxonomy
from matching.vocabulary import BitVocabulary

__all__ = [
    "IMPLIED_FULL_SIMILARITY",
    "IMPLIED_MIN_SIMILARITY",
    "IMPLIED_OCCUPATIONS",
    "OCCUPATION_BASIS",
    "PAST_WEIGHT",
    "ParticipantBlock",
    "VacancyBlock",
    "build_participants",
    "build_vacancies",
    "concat_all",
    "concat_blocks",
    "expand_skills",
    "take_rows",
]

#: How many occupations implied by a participant's skills enter occupation fit.
IMPLIED_OCCUPATIONS: Final = 3
#: Implied occupations less similar than this to the participant's skills are ignored.
IMPLIED_MIN_SIMILARITY: Final = 0.1
#: Similarity at which the best implied occupation counts as fully as a desired one.
IMPLIED_FULL_SIMILARITY: Final = 0.3
#: Weight of a past occupation relative to a desired one.
PAST_WEIGHT: Final = 0.9
#: Credit for a skill the participant lacks but holds a related skill of (ESCO graph).
RELATED_CREDIT: Final = 0.3
#: Codes of ``occ_basis``.
OCCUPATION_BASIS: Final = ("desired", "past", "implied")

_MODE_BIT: Final = {mode: 1 << i for i, mode in enumerate(MODES)}
_SHIFT_BIT: Final = {shift: 1 << i for i, shift in enumerate(AVAILABILITY_SHIFTS)}
_PERMIT_CODE: Final = {value: i for i, value in enumerate(WORK_PERMIT_VALUES)}
_CAR_LICENCE: Final = licence_bit("B")
_STATUS_OPEN: Final = "open"
_VACANCY_STATUSES: Final = ("open", "filled", "closed")
NaT: Final = np.datetime64("NaT", "D")


# --------------------------------------------------------------------------- blocks


@dataclass
class VacancyBlock:
    """Column arrays of a set of vacancies (see :class:`matching.schema.V`)."""

    ids: np.ndarray
    employer_ids: np.ndarray
    titles: np.ndarray
    is_open: np.ndarray
    occupation: np.ndarray  # int32 taxonomy position, -1 unknown
    isco: np.ndarray  # int32 4-digit ISCO-08 unit group, 0 unknown
    essential: sp.csr_matrix  # (n, n_skills) 1.0 where essential
    optional: sp.csr_matrix
    n_essential: np.ndarray
    n_optional: np.ndarray
    lang_required: dict[str, np.ndarray]  # language -> int8 level code, 0 = none
    lat: np.ndarray
    lon: np.ndarray
    zone: np.ndarray  # object: postcode / quarter or None
    hours: np.ndarray
    days: np.ndarray
    daily_hours: np.ndarray
    shifts: np.ndarray  # uint8 bit mask of AVAILABILITY_SHIFTS
    licence: np.ndarray  # uint32 bit of the required class, 0 none
    certificates: np.ndarray  # (n, words) uint64
    permit_required: np.ndarray
    openings: np.ndarray
    start_date: np.ndarray  # datetime64[D]
    skills_from_occupation: np.ndarray  # bool: skills taken from ESCO
    unresolved: list[list[str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class ParticipantBlock:
    """Column arrays of a set of participants (see :class:`matching.schema.P`)."""

    ids: np.ndarray
    skills: sp.csr_matrix  # (m, n_skills) 1.0 where held
    skills_expanded: sp.csr_matrix  # credit in [0, 1] incl. related skills
    occ_position: np.ndarray  # (m, K) int32, -1 padding
    occ_isco: np.ndarray  # (m, K) int32
    occ_weight: np.ndarray  # (m, K) float32
    occ_basis: np.ndarray  # (m, K) int8 index into OCCUPATION_BASIS
    lang_level: dict[str, np.ndarray]
    lang_expected: dict[str, np.ndarray]
    lang_expected_by: dict[str, np.ndarray]
    lat: np.ndarray
    lon: np.ndarray
    zone: np.ndarray
    modes: np.ndarray  # uint8 bit mask of usable MODES (car only with licence)
    max_commute: np.ndarray  # float32, NaN = none set
    hours_min: np.ndarray
    hours_max: np.ndarray
    availability: np.ndarray  # uint8
    work_permit: np.ndarray  # int8 index into WORK_PERMIT_VALUES
    licence: np.ndarray  # uint32 mask of classes held (implied included)
    certificates: np.ndarray  # (m, words) uint64
    consent: np.ndarray
    approved: np.ndarray
    unresolved: list[list[str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


# ----------------------------------------------------------------- value helpers


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return value is pd.NaT


def _where(row: int, row_id: Any, column: str) -> str:
    return f"row {row} (id {row_id!r}), field {column!r}"


def _as_list(value: Any, row: int, row_id: Any, column: str) -> list[Any]:
    if _missing(value):
        return []
    if isinstance(value, np.ndarray):
        return list(value)
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    raise InvalidInputError(
        f"{_where(row, row_id, column)}: expected a list, got {type(value).__name__}",
        field=column,
    )


def _as_float(
    value: Any,
    row: int,
    row_id: Any,
    column: str,
    *,
    low: float,
    high: float,
    default: float | None = None,
) -> float:
    if _missing(value):
        if default is not None:
            return default
        raise InvalidInputError(
            f"{_where(row, row_id, column)}: a number is required", field=column
        )
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidInputError(
            f"{_where(row, row_id, column)}: expected a number, got {value!r}", field=column
        )
    number = float(value)
    if not (low <= number <= high) or math.isnan(number):
        raise InvalidInputError(
            f"{_where(row, row_id, column)}: {number:g} is outside {low:g}..{high:g}",
            field=column,
        )
    return number


def _as_date(value: Any, row: int, row_id: Any, column: str) -> np.datetime64:
    if _missing(value) or value == "":
        return NaT
    try:
        if isinstance(value, datetime | date | pd.Timestamp | np.datetime64 | str):
            return np.datetime64(pd.Timestamp(value).date(), "D")
    except (ValueError, TypeError):
        pass
    raise InvalidInputError(
        f"{_where(row, row_id, column)}: {value!r} is not a date (YYYY-MM-DD)", field=column
    )


def _bits(
    values: Iterable[Any], table: dict[str, int], row: int, row_id: Any, column: str
) -> int:
    mask = 0
    for value in values:
        key = value.strip().casefold() if isinstance(value, str) else value
        if key not in table:
            raise InvalidInputError(
                f"{_where(row, row_id, column)}: unknown value {value!r}; expected one of "
                + ", ".join(table),
                field=column,
            )
        mask |= table[key]
    return mask


def _ids(frame: pd.DataFrame, column: str, what: str) -> np.ndarray:
    if column not in frame.columns:
        raise InvalidInputError(f"{what} table has no column {column!r}", field=column)
    ids = frame[column].to_numpy(dtype=object)
    for i, value in enumerate(ids):
        if _missing(value) or not isinstance(value, str) or not value:
            raise InvalidInputError(f"{what} row {i}: {column!r} must be a non-empty text id",
                                    field=column)
    unique, counts = np.unique(ids.astype(str), return_counts=True)
    if (counts > 1).any():
        raise InvalidInputError(
            f"{what} table repeats id {str(unique[counts > 1][0])!r}", field=column
        )
    return ids


def _column(frame: pd.DataFrame, column: str) -> list[Any]:
    if column in frame.columns:
        return frame[column].tolist()
    return [None] * len(frame)


class _Columns:
    """The columns of a table as lists of Python values.

    ``columns(name)`` equals ``_column(frame, name)``: ``frame[name].tolist()``, or one
    ``None`` per row where the table has no such column. A table whose columns are all
    among ``schema`` (the service's tables are) is converted in one pass instead of a
    Series per column read, which was most of the fixed cost of a one-row build (about
    10 µs a column); any other table is read column by column, so columns outside the
    schema, such as protected traits, are never touched.
    """

    def __init__(self, frame: pd.DataFrame, schema: Sequence[str]) -> None:
        self._frame = frame
        self._lists: dict[str, list[Any]] | None = None
        names = frame.columns
        if names.is_unique and all(isinstance(n, str) and n in schema for n in names):
            values = frame.to_numpy(dtype=object)
            self._lists = {name: values[:, j].tolist() for j, name in enumerate(names)}

    def __call__(self, column: str) -> list[Any]:
        if self._lists is None:
            return _column(self._frame, column)
        found = self._lists.get(column)
        return [None] * len(self._frame) if found is None else found


# ------------------------------------------------------------- concept resolution


def _resolve(
    texts_per_row: list[list[str]],
    *,
    taxonomy: Taxonomy,
    kind: str,
    ids: np.ndarray,
    column: str,
) -> tuple[list[list[int]], list[list[str]]]:
    """Resolve URIs or free text to taxonomy positions, one batch for all rows."""
    is_uri = taxonomy.is_skill_uri if kind == "skill" else taxonomy.is_occupation_uri
    position = taxonomy.skill_position if kind == "skill" else taxonomy.occupation_position
    texts: set[str] = set()
    for i, row in enumerate(texts_per_row):
        for value in row:
            if not isinstance(value, str) or not value.strip():
                raise InvalidInputError(
                    f"{_where(i, ids[i], column)}: {value!r} is not a non-empty text",
                    field=column,
                )
            if value.startswith("http://data.europa.eu/esco/"):
                if not is_uri(value):
                    raise UnknownConceptError(
                        f"{_where(i, ids[i], column)}: {value} is not an ESCO {kind} "
                        "in the loaded taxonomy",
                        field=column,
                    )
            else:
                texts.add(value)
    ordered = sorted(texts)
    resolve = taxonomy.resolve_skills if kind == "skill" else taxonomy.resolve_occupations
    resolved = dict(zip(ordered, resolve(ordered), strict=True)) if ordered else {}
    positions: list[list[int]] = []
    unresolved: list[list[str]] = []
    for row in texts_per_row:
        found: list[int] = []
        missing: list[str] = []
        for value in row:
            if value in position:
                found.append(position[value])
                continue
            result = resolved[value]
            if result.concept is None:
                missing.append(value)
            else:
                found.append(position[result.concept.uri])
        positions.append(list(dict.fromkeys(found)))
        unresolved.append(missing)
    return positions, unresolved


def _indicator(rows: Sequence[Sequence[int]], n_columns: int) -> sp.csr_matrix:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    indices = np.fromiter((c for r in rows for c in sorted(r)), dtype=np.int32, count=indptr[-1])
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), n_columns))


def expand_skills(skills: sp.csr_matrix, related: sp.csr_matrix) -> sp.csr_matrix:
    """Return skill credit: 1 for a held skill, up to ``RELATED_CREDIT`` for a related one.

    A skill the participant lacks earns ``RELATED_CREDIT`` times the strongest relation
    weight summed over the held skills it is related to, capped at ``RELATED_CREDIT``;
    so related skills never count as much as the skill itself.

    Examples
    --------
    >>> held = sp.csr_matrix(np.array([[1, 0, 0]], dtype=np.float32))
    >>> related = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=np.float32))
    >>> [[round(v, 2) for v in row] for row in expand_skills(held, related).toarray().tolist()]
    [[1.0, 0.3, 0.0]]
    """
    spread = (skills @ related).tocsr()
    spread.data = np.minimum(RELATED_CREDIT, RELATED_CREDIT * spread.data).astype(np.float32)
    return skills.maximum(spread).tocsr().astype(np.float32)


def _implied_occupations(
    expanded: sp.csr_matrix, taxonomy: Taxonomy, chunk: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """The occupations a participant's skills point to, with their weights.

    Occupations are ranked by the cosine between the participant's skill credit and the
    occupation's essential skills: ``overlap / sqrt(n_essential * credit_total)``. Unlike
    plain coverage it does not favour occupations with very few essential skills, and
    unlike precision it does not favour very broad ones. The best occupation gets weight
    ``min(1, similarity / IMPLIED_FULL_SIMILARITY)``; the next ones that weight times
    their similarity relative to the best.
    """
    normalised = taxonomy.essential_cosine_basis()
    totals = np.asarray(expanded.sum(axis=1), dtype=np.float64).ravel()
    m = expanded.shape[0]
    k = IMPLIED_OCCUPATIONS
    top = np.full((m, k), -1, dtype=np.int32)
    weight = np.zeros((m, k), dtype=np.float32)
    for start in range(0, m, chunk):
        block = (expanded[start : start + chunk] @ normalised).toarray()
        if block.shape[1] <= k:
            continue
        root = np.sqrt(totals[start : start + chunk])[:, None]
        block = np.divide(block, root, out=np.zeros_like(block), where=root > 0)
        part = np.argpartition(-block, k, axis=1)[:, :k]
        values = np.take_along_axis(block, part, axis=1)
        order = np.lexsort((part, -values), axis=1)
        part = np.take_along_axis(part, order, axis=1)
        values = np.take_along_axis(values, order, axis=1)
        best = values[:, :1]
        strength = np.minimum(1.0, best / IMPLIED_FULL_SIMILARITY)
        relative = np.divide(values, best, out=np.zeros_like(values), where=best > 0)
        keep = values >= IMPLIED_MIN_SIMILARITY
        top[start : start + chunk] = np.where(keep, part, -1)
        weight[start : start + chunk] = np.where(keep, relative * strength, 0.0)
    return top, weight


# ------------------------------------------------------------------- vacancies


def build_vacancies(
    frame: pd.DataFrame,
    *,
    taxonomy: Taxonomy,
    geocoder: Geocoder,
    certificates: BitVocabulary,
) -> VacancyBlock:
    """Validate a vacancy table and return its column arrays.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per vacancy, columns of :class:`matching.schema.V`. ``skills`` holds
        ``{"skill": uri_or_text, "essential": bool}`` entries; when it is empty the
        occupation's essential and optional ESCO skills are used.
    taxonomy, geocoder
        Reference data.
    certificates : BitVocabulary
        The index's certificate vocabulary (grows as needed).

    Raises
    ------
    InvalidInputError
        Naming the row, its id and the field, for any malformed value.
    """
    ids = _ids(frame, V.ID, "vacancy")
    columns = _Columns(frame, VACANCY_COLUMNS)
    n = len(ids)
    essential_text: list[list[str]] = []
    optional_text: list[list[str]] = []
    for i, value in enumerate(columns(V.SKILLS)):
        ess: list[str] = []
        opt: list[str] = []
        for entry in _as_list(value, i, ids[i], V.SKILLS):
            if isinstance(entry, str):
                ess.append(entry)
            elif isinstance(entry, dict) and "skill" in entry:
                (ess if entry.get("essential", True) else opt).append(entry["skill"])
            else:
                raise InvalidInputError(
                    f"{_where(i, ids[i], V.SKILLS)}: each entry must be "
                    "{'skill': ..., 'essential': true|false}",
                    field=V.SKILLS,
                )
        essential_text.append(ess)
        optional_text.append(opt)
    ess_pos, ess_missing = _resolve(
        essential_text, taxonomy=taxonomy, kind="skill", ids=ids, column=V.SKILLS
    )
    opt_pos, opt_missing = _resolve(
        optional_text, taxonomy=taxonomy, kind="skill", ids=ids, column=V.SKILLS
    )
    occupation_text = []
    for i, value in enumerate(columns(V.OCCUPATION)):
        occupation_text.append([] if _missing(value) or value == "" else [value])
        if occupation_text[-1] and not isinstance(value, str):
            raise InvalidInputError(
                f"{_where(i, ids[i], V.OCCUPATION)}: expected text or an ESCO URI",
                field=V.OCCUPATION,
            )
    occ_pos, occ_missing = _resolve(
        occupation_text, taxonomy=taxonomy, kind="occupation", ids=ids, column=V.OCCUPATION
    )
    occupation = np.array([p[0] if p else -1 for p in occ_pos], dtype=np.int32)
    isco_codes = taxonomy.occupations["isco_code"].to_numpy(dtype=object)
    isco = np.array(
        [int(isco_codes[o]) if o >= 0 and _isco_ok(isco_codes[o]) else 0 for o in occupation],
        dtype=np.int32,
    )
    from_occupation = np.zeros(n, dtype=bool)
    for i in range(n):
        if not ess_pos[i] and not opt_pos[i]:
            if occupation[i] < 0:
                raise InvalidInputError(
                    f"{_where(i, ids[i], V.SKILLS)}: a vacancy needs skills or a known "
                    "occupation to take them from",
                    field=V.SKILLS,
                )
            ess_pos[i] = taxonomy.occupation_essential[occupation[i]].indices.tolist()
            opt_pos[i] = taxonomy.occupation_optional[occupation[i]].indices.tolist()
            from_occupation[i] = True
        opt_pos[i] = [s for s in opt_pos[i] if s not in set(ess_pos[i])]
    n_skills = len(taxonomy.skills)
    essential = _indicator(ess_pos, n_skills)
    optional = _indicator(opt_pos, n_skills)

    lang_required: dict[str, np.ndarray] = {}
    for i, value in enumerate(columns(V.LANGUAGES)):
        for j, entry in enumerate(_as_list(value, i, ids[i], V.LANGUAGES)):
            column = f"{V.LANGUAGES}[{j}]"
            if not isinstance(entry, dict) or "language" not in entry:
                raise InvalidInputError(
                    f"{_where(i, ids[i], column)}: expected {{'language': 'de', 'level': 'B1'}}",
                    field=column,
                )
            language = _language_code(entry["language"], i, ids[i], column)
            level = _level(entry.get("level"), i, ids[i], column)
            lang_required.setdefault(language, np.zeros(n, dtype=np.int8))
            lang_required[language][i] = max(lang_required[language][i], level)

    lat, lon, zone = _locate(columns, ids, geocoder, "vacancy")
    hours = np.array(
        [_as_float(v, i, ids[i], V.HOURS, low=1, high=60) for i, v in
         enumerate(columns(V.HOURS))], dtype=np.float32)
    days = np.array(
        [_as_float(v, i, ids[i], V.DAYS, low=1, high=7, default=5.0) for i, v in
         enumerate(columns(V.DAYS))], dtype=np.float32)
    shifts = np.array(
        [_bits(_as_list(v, i, ids[i], V.SHIFTS), _SHIFT_BIT, i, ids[i], V.SHIFTS)
         for i, v in enumerate(columns(V.SHIFTS))], dtype=np.uint8)
    licence = np.zeros(n, dtype=np.uint32)
    for i, value in enumerate(columns(V.DRIVING_LICENCE)):
        if _missing(value) or value is False or value == "":
            continue
        if value is True:
            value = "B"
        try:
            licence[i] = licence_bit(value)
        except InvalidInputError as error:
            raise InvalidInputError(f"{_where(i, ids[i], V.DRIVING_LICENCE)}: {error}",
                                    field=V.DRIVING_LICENCE) from error
    cert_rows = [
        [normalise_certificate(c) for c in _as_list(v, i, ids[i], V.CERTIFICATES)]
        for i, v in enumerate(columns(V.CERTIFICATES))
    ]
    cert_masks = certificates.masks(cert_rows)
    permit = np.array([True if _missing(v) else bool(v) for v in
                       columns(V.WORK_PERMIT_REQUIRED)], dtype=bool)
    openings = np.array(
        [_as_float(v, i, ids[i], V.OPENINGS, low=0, high=10_000, default=1.0) for i, v in
         enumerate(columns(V.OPENINGS))], dtype=np.int32)
    start = np.array([_as_date(v, i, ids[i], V.START_DATE) for i, v in
                      enumerate(columns(V.START_DATE))], dtype="datetime64[D]")
    status = []
    for i, value in enumerate(columns(V.STATUS)):
        value = _STATUS_OPEN if _missing(value) else value
        if value not in _VACANCY_STATUSES:
            raise InvalidInputError(
                f"{_where(i, ids[i], V.STATUS)}: unknown status {value!r}; expected one of "
                + ", ".join(_VACANCY_STATUSES),
                field=V.STATUS,
            )
        status.append(value == _STATUS_OPEN)
    return VacancyBlock(
        ids=ids,
        employer_ids=np.array(columns(V.EMPLOYER_ID), dtype=object),
        titles=np.array(columns(V.TITLE), dtype=object),
        is_open=np.array(status, dtype=bool),
        occupation=occupation,
        isco=isco,
        essential=essential,
        optional=optional,
        n_essential=np.asarray(essential.sum(axis=1), dtype=np.float32).ravel(),
        n_optional=np.asarray(optional.sum(axis=1), dtype=np.float32).ravel(),
        lang_required=lang_required,
        lat=lat,
        lon=lon,
        zone=zone,
        hours=hours,
        days=days,
        daily_hours=_daily_hours(hours, days).astype(np.float32),
        shifts=shifts,
        licence=licence,
        certificates=cert_masks,
        permit_required=permit,
        openings=openings,
        start_date=start,
        skills_from_occupation=from_occupation,
        unresolved=[a + b + c for a, b, c in zip(ess_missing, opt_missing, occ_missing,
                                                 strict=True)],
    )


def _isco_ok(code: Any) -> bool:
    return isinstance(code, str) and code.isdigit() and len(code) == 4


def _language_code(value: Any, row: int, row_id: Any, column: str) -> str:
    if not isinstance(value, str) or len(value.strip()) != 2 or not value.strip().isalpha():
        raise InvalidInputError(
            f"{_where(row, row_id, column)}: language must be a two-letter ISO 639-1 code, "
            f"got {value!r}",
            field=column,
        )
    return value.strip().lower()


def _level(value: Any, row: int, row_id: Any, column: str) -> int:
    try:
        return int(parse_level(value))
    except InvalidInputError as error:
        raise type(error)(f"{_where(row, row_id, column)}: {error}", field=column) from error


def _locate(
    table: _Columns, ids: np.ndarray, geocoder: Geocoder, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geocode all rows at once; on an error, find the row again to name its id."""
    columns = [table(c) for c in (P.POSTCODE, P.LAT, P.LON, P.QUARTER)]
    try:
        lat, lon, zone = geocoder.locate_many(*columns)
    except InvalidInputError:
        for i in range(len(ids)):
            postcode, lat_i, lon_i, quarter = (column[i] for column in columns)
            try:
                geocoder.locate(
                    postcode=None if _missing(postcode) or postcode == "" else str(postcode),
                    lat=None if _missing(lat_i) else lat_i,
                    lon=None if _missing(lon_i) else lon_i,
                    quarter=None if _missing(quarter) or quarter == "" else str(quarter),
                )
            except InvalidInputError as error:
                raise type(error)(
                    f"{what} {_where(i, ids[i], 'postcode/lat/lon/quarter')}: {error}",
                    field=error.field or P.POSTCODE,
                ) from error
        raise
    return np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64), zone


# ---------------------------------------------------------------- participants


def build_participants(
    frame: pd.DataFrame,
    *,
    taxonomy: Taxonomy,
    geocoder: Geocoder,
    certificates: BitVocabulary,
) -> ParticipantBlock:
    """Validate a participant table and return its column arrays.

    Protected traits are not read even when present: only the columns of
    :class:`matching.schema.P` are.

    Raises
    ------
    InvalidInputError
        Naming the row, its id and the field, for any malformed value, including an
        empty skill list.
    """
    ids = _ids(frame, P.ID, "participant")
    columns = _Columns(frame, PARTICIPANT_COLUMNS)
    m = len(ids)
    skill_text = []
    for i, value in enumerate(columns(P.SKILLS)):
        values = _as_list(value, i, ids[i], P.SKILLS)
        if not values:
            raise InvalidInputError(
                f"{_where(i, ids[i], P.SKILLS)}: the skill list is empty; at least one skill "
                "(ESCO URI or text) is needed to rank vacancies",
                field=P.SKILLS,
            )
        skill_text.append(values)
    skill_pos, skill_missing = _resolve(
        skill_text, taxonomy=taxonomy, kind="skill", ids=ids, column=P.SKILLS
    )
    skills = _indicator(skill_pos, len(taxonomy.skills))
    expanded = expand_skills(skills, taxonomy.skill_related)

    desired_text = [_as_list(v, i, ids[i], P.DESIRED_OCCUPATIONS)
                    for i, v in enumerate(columns(P.DESIRED_OCCUPATIONS))]
    past_text = [_as_list(v, i, ids[i], P.PAST_OCCUPATIONS)
                 for i, v in enumerate(columns(P.PAST_OCCUPATIONS))]
    desired, desired_missing = _resolve(
        desired_text, taxonomy=taxonomy, kind="occupation", ids=ids, column=P.DESIRED_OCCUPATIONS
    )
    past, past_missing = _resolve(
        past_text, taxonomy=taxonomy, kind="occupation", ids=ids, column=P.PAST_OCCUPATIONS
    )
    implied, implied_weight = _implied_occupations(expanded, taxonomy)
    width = max(
        1, max((len(d) + len(p) for d, p in zip(desired, past, strict=True)), default=0)
        + IMPLIED_OCCUPATIONS,
    )
    occ_position = np.full((m, width), -1, dtype=np.int32)
    occ_weight = np.zeros((m, width), dtype=np.float32)
    occ_basis = np.zeros((m, width), dtype=np.int8)
    for i in range(m):
        entries = [(o, 1.0, 0) for o in desired[i]] + [(o, PAST_WEIGHT, 1) for o in past[i]]
        entries += [
            (int(o), float(c), 2)
            for o, c in zip(implied[i], implied_weight[i], strict=True)
            if o >= 0
        ]
        for j, (o, w, b) in enumerate(entries):
            occ_position[i, j], occ_weight[i, j], occ_basis[i, j] = o, w, b
    isco_codes = taxonomy.isco_numbers()
    occ_isco = np.where(occ_position >= 0, isco_codes[np.maximum(occ_position, 0)], 0)

    lang_level: dict[str, np.ndarray] = {}
    lang_expected: dict[str, np.ndarray] = {}
    lang_expected_by: dict[str, np.ndarray] = {}
    for i, value in enumerate(columns(P.LANGUAGES)):
        for j, entry in enumerate(_as_list(value, i, ids[i], P.LANGUAGES)):
            column = f"{P.LANGUAGES}[{j}]"
            if not isinstance(entry, dict) or "language" not in entry:
                raise InvalidInputError(
                    f"{_where(i, ids[i], column)}: expected {{'language': 'de', 'level': 'B1'}}",
                    field=column,
                )
            language = _language_code(entry["language"], i, ids[i], column)
            if language not in lang_level:
                lang_level[language] = np.zeros(m, dtype=np.int8)
                lang_expected[language] = np.zeros(m, dtype=np.int8)
                lang_expected_by[language] = np.full(m, NaT, dtype="datetime64[D]")
            lang_level[language][i] = _level(entry.get("level"), i, ids[i], f"{column}.level")
            lang_expected[language][i] = _level(
                entry.get("expected_level"), i, ids[i], f"{column}.expected_level"
            )
            lang_expected_by[language][i] = _as_date(
                entry.get("expected_by"), i, ids[i], f"{column}.expected_by"
            )

    lat, lon, zone = _locate(columns, ids, geocoder, "participant")
    licence = np.array(
        [_licence_mask(_as_list(v, i, ids[i], P.DRIVING_LICENCE), i, ids[i])
         for i, v in enumerate(columns(P.DRIVING_LICENCE))], dtype=np.uint32)
    modes = np.zeros(m, dtype=np.uint8)
    for i, value in enumerate(columns(P.MODES)):
        values = _as_list(value, i, ids[i], P.MODES) or ["walk", "transit"]
        mask = _bits(values, _MODE_BIT, i, ids[i], P.MODES)
        if not licence[i] & _CAR_LICENCE:
            mask &= ~_MODE_BIT["car"]
        modes[i] = mask if mask else _MODE_BIT["walk"]
    max_commute = np.array(
        [np.nan if _missing(v) else _as_float(v, i, ids[i], P.MAX_COMMUTE, low=1, high=240)
         for i, v in enumerate(columns(P.MAX_COMMUTE))], dtype=np.float32)
    hours_min = np.array(
        [_as_float(v, i, ids[i], P.HOURS_MIN, low=0, high=60, default=0.0)
         for i, v in enumerate(columns(P.HOURS_MIN))], dtype=np.float32)
    hours_max = np.array(
        [_as_float(v, i, ids[i], P.HOURS_MAX, low=1, high=60, default=40.0)
         for i, v in enumerate(columns(P.HOURS_MAX))], dtype=np.float32)
    bad = np.flatnonzero(hours_min > hours_max)
    if len(bad):
        i = int(bad[0])
        raise InvalidInputError(
            f"{_where(i, ids[i], P.HOURS_MIN)}: minimum {hours_min[i]:g} exceeds maximum "
            f"{hours_max[i]:g} hours per week",
            field=P.HOURS_MIN,
        )
    availability = np.array(
        [_bits(_as_list(v, i, ids[i], P.AVAILABILITY) if not _missing(v)
               else ["early", "day", "late"], _SHIFT_BIT, i, ids[i], P.AVAILABILITY)
         for i, v in enumerate(columns(P.AVAILABILITY))], dtype=np.uint8)
    permit = np.zeros(m, dtype=np.int8)
    for i, value in enumerate(columns(P.WORK_PERMIT)):
        value = "unknown" if _missing(value) else value
        if value not in _PERMIT_CODE:
            raise InvalidInputError(
                f"{_where(i, ids[i], P.WORK_PERMIT)}: unknown value {value!r}; expected one of "
                + ", ".join(WORK_PERMIT_VALUES),
                field=P.WORK_PERMIT,
            )
        permit[i] = _PERMIT_CODE[value]
    cert_rows = [
        [normalise_certificate(c) for c in _as_list(v, i, ids[i], P.CERTIFICATES)]
        for i, v in enumerate(columns(P.CERTIFICATES))
    ]
    return ParticipantBlock(
        ids=ids,
        skills=skills,
        skills_expanded=expanded,
        occ_position=occ_position,
        occ_isco=occ_isco.astype(np.int32),
        occ_weight=occ_weight,
        occ_basis=occ_basis,
        lang_level=lang_level,
        lang_expected=lang_expected,
        lang_expected_by=lang_expected_by,
        lat=lat,
        lon=lon,
        zone=zone,
        modes=modes,
        max_commute=max_commute,
        hours_min=hours_min,
        hours_max=hours_max,
        availability=availability,
        work_permit=permit,
        licence=licence,
        certificates=certificates.masks(cert_rows),
        consent=np.array([False if _missing(v) else bool(v) for v in columns(P.CONSENT)],
                         dtype=bool),
        approved=np.array([False if _missing(v) else bool(v)
                           for v in columns(P.APPROVED)], dtype=bool),
        unresolved=[a + b + c for a, b, c in zip(skill_missing, desired_missing, past_missing,
                                                 strict=True)],
    )


def _licence_mask(values: list[Any], row: int, row_id: Any) -> int:
    try:
        return licence_mask(values)
    except InvalidInputError as error:
        raise InvalidInputError(f"{_where(row, row_id, P.DRIVING_LICENCE)}: {error}",
                                field=P.DRIVING_LICENCE) from error


# ----------------------------------------------------------------- block algebra


def _fill_value(array: np.ndarray) -> Any:
    if array.dtype.kind == "M":
        return np.datetime64("NaT")
    if array.dtype.kind == "f":
        return np.nan
    return 0


def concat_blocks(first: Any, second: Any, certificates: BitVocabulary) -> Any:
    """Concatenate two blocks of the same kind, row-wise."""
    return concat_all([first, second], certificates)


def concat_all(blocks: Sequence[Any], certificates: BitVocabulary) -> Any:
    """Concatenate blocks of the same kind, row-wise, in one copy.

    Building a large table in chunks and concatenating the blocks once gives the same
    arrays as building it at once (every value depends on its own row only), while only
    one chunk's Python objects are alive at a time.
    """
    if not blocks:
        raise ValueError("concat_all needs at least one block")
    if len(blocks) == 1:
        return blocks[0]
    first = blocks[0]
    values: dict[str, Any] = {}
    lengths = [len(block) for block in blocks]
    for f in fields(first):
        parts = [getattr(block, f.name) for block in blocks]
        if f.name == "certificates":
            values[f.name] = np.concatenate([certificates.widen(a) for a in parts], axis=0)
        elif f.name.startswith("occ_"):
            width = max(a.shape[1] for a in parts)
            pad = -1 if f.name == "occ_position" else 0
            values[f.name] = np.concatenate([_pad_columns(a, width, pad) for a in parts], axis=0)
        elif isinstance(parts[0], sp.spmatrix | sp.sparray):
            values[f.name] = sp.vstack(parts, format="csr")
        elif isinstance(parts[0], dict):
            merged = {}
            for key in sorted(set().union(*parts)):
                template = next(a[key] for a in parts if key in a)
                fill = _fill_value(template)
                merged[key] = np.concatenate([
                    a.get(key, np.full(n, fill, dtype=template.dtype))
                    for a, n in zip(parts, lengths, strict=True)
                ])  # fmt: skip
            values[f.name] = merged
        elif isinstance(parts[0], list):
            values[f.name] = [item for a in parts for item in a]
        else:
            values[f.name] = np.concatenate(parts)
    return type(first)(**values)


def _pad_columns(array: np.ndarray, width: int, value: Any) -> np.ndarray:
    missing = width - array.shape[1]
    if missing <= 0:
        return array
    return np.pad(array, ((0, 0), (0, missing)), constant_values=value)


def take_rows(block: Any, rows: np.ndarray) -> Any:
    """Return a block of the given rows only."""
    values: dict[str, Any] = {}
    for f in fields(block):
        value = getattr(block, f.name)
        if isinstance(value, dict):
            values[f.name] = {k: v[rows] for k, v in value.items()}
        elif isinstance(value, list):
            values[f.name] = [value[i] for i in rows]
        else:
            values[f.name] = value[rows]
    return replace(block, **values)
