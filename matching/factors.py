"""Hard filters and score factors of participant–vacancy pairs, as array operations.

One function, :func:`pair_arrays`, computes every filter and factor for one participant
against many vacancies or one vacancy against many participants: the arguments of one
side are scalars (or length-``K`` rows), those of the other are arrays, and NumPy
broadcasting does the rest. Both directions of the matcher therefore apply the same
rules to the same numbers. Only skill coverage is computed per direction, because the
fast sparse product differs (see :mod:`matching.index`).

Factors, each in [0, 1]:

``skills``
    ``0.75 * essential coverage + 0.25 * optional coverage`` (essential coverage alone
    when the vacancy lists no optional skills). Coverage counts a held skill as 1 and a
    skill related to a held one through the ESCO graph as 0.5.
``occupation``
    The best of the participant's desired occupations (weight 1), past occupations
    (0.9) and occupations implied by their skills (weight = the share of that
    occupation's essential ESCO skills they cover), times the proximity to the
    vacancy's occupation: 1 same occupation, 0.75 same ISCO-08 unit group (4 digits),
    0.5 same minor group (3), 0.25 same sub-major group (2), else 0.
``language``
    The language margin of :func:`matching.language.margin`, the lowest over the
    vacancy's required languages (1 when none is required).
``commute``
    ``1 - minutes / limit`` by the fastest usable mode, clipped to [0, 1]; the limit is
    the participant's own, capped by §140 (4) SGB III.
``hours``
    1 when the vacancy's weekly hours lie in the participant's range, falling by 0.1 per
    hour outside it (only seen on overridden pairs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from matching.commute import CommuteModel
from matching.language import GAP, REACHABLE, assess, margin
from matching.schema import FACTORS, MODES, REASONS, WORK_PERMIT_VALUES, Reason

__all__ = [
    "ESSENTIAL_SHARE",
    "OVERRIDABLE",
    "PROXIMITY",
    "PairArrays",
    "Side",
    "distance_km",
    "occupation_fit",
    "pair_arrays",
    "proximity",
    "skills_factor",
]

ESSENTIAL_SHARE: Final = 0.75
HOURS_SLOPE: Final = 0.1
#: Occupation proximity: same occupation, same ISCO-08 unit group (4 digits), minor
#: group (3) and sub-major group (2). Relevance falls off steeply outside the unit group.
PROXIMITY: Final = {"same": 1.0, "isco_unit_group": 0.85, "isco_minor_group": 0.4,
                    "isco_sub_major_group": 0.1}
_STEP_2 = PROXIMITY["isco_sub_major_group"]
_STEP_3 = PROXIMITY["isco_minor_group"] - PROXIMITY["isco_sub_major_group"]
_STEP_4 = PROXIMITY["isco_unit_group"] - PROXIMITY["isco_minor_group"]
EARTH_RADIUS_KM: Final = 6371.0088
#: Filters a coach may override for one participant and one vacancy.
OVERRIDABLE: Final = frozenset(
    {
        Reason.LANGUAGE,
        Reason.COMMUTE,
        Reason.HOURS,
        Reason.SHIFTS,
        Reason.DRIVING_LICENCE,
        Reason.CERTIFICATE,
        Reason.WORK_PERMIT,
    }
)
_REASON_COLUMN: Final = {reason: i for i, reason in enumerate(REASONS)}
_PERMIT_OK: Final = np.array(
    [value in ("yes", "restricted") for value in WORK_PERMIT_VALUES], dtype=bool
)
_MODE_BITS: Final = np.array([1 << i for i in range(len(MODES))], dtype=np.uint8)


@dataclass
class Side:
    """One side's values for :func:`pair_arrays`: scalars or arrays, broadcastable."""

    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError as error:
            raise AttributeError(name) from error


@dataclass
class PairArrays:
    """Filters, factors and the details explanations need, one column per pair."""

    reasons: np.ndarray  # (len(REASONS), n) bool, one row per reason
    factors: np.ndarray  # (len(FACTORS), n) float32, one row per factor
    commute_minutes: np.ndarray  # float32, by the fastest usable mode
    commute_mode: np.ndarray  # int8 index into MODES
    commute_limit: np.ndarray  # float32

    @property
    def passing(self) -> np.ndarray:
        """Pairs that pass every hard filter."""
        failing = self.reasons[0].copy()
        for row in self.reasons[1:]:
            failing |= row
        return ~failing


def skills_factor(
    essential_cover: np.ndarray,
    n_essential: np.ndarray,
    optional_cover: np.ndarray,
    n_optional: np.ndarray,
) -> np.ndarray:
    """Combine skill coverage sums into the skills factor.

    Examples
    --------
    >>> skills_factor(np.array([2.0]), np.array([4.0]), np.array([1.0]), np.array([1.0]))
    array([0.625], dtype=float32)
    >>> skills_factor(np.array([2.0]), np.array([4.0]), np.array([0.0]), np.array([0.0]))
    array([0.5], dtype=float32)
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        ess = np.where(n_essential > 0, essential_cover / n_essential, 0.0)
        opt = np.where(n_optional > 0, optional_cover / n_optional, 0.0)
    both = ESSENTIAL_SHARE * ess + (1 - ESSENTIAL_SHARE) * opt
    value = np.where(
        n_optional > 0, np.where(n_essential > 0, both, opt), np.where(n_essential > 0, ess, 0.5)
    )
    return np.clip(value, 0.0, 1.0).astype(np.float32)


def proximity(position_a: Any, keys_a: Any, position_b: Any, keys_b: Any) -> np.ndarray:
    """Occupation proximity (see :data:`PROXIMITY`): same occupation, then ISCO-08 groups.

    ``keys_*`` hold the ISCO code at 4, 3 and 2 digits (first axis), with a different
    negative sentinel on each side where the code is unknown.

    Examples
    --------
    >>> from matching.index import isco_keys
    >>> a = isco_keys(np.array([8344, 8344, 8341, 8311, 1111]), -1)
    >>> b = isco_keys(np.array(8344), -2)
    >>> [round(float(x), 2) for x in proximity(np.array([5, 6, 7, 8, 9]), a, 5, b)]
    [1.0, 0.85, 0.4, 0.1, 0.0]
    """
    value = (
        (keys_a[2] == keys_b[2]) * np.float32(_STEP_2)
        + (keys_a[1] == keys_b[1]) * np.float32(_STEP_3)
        + (keys_a[0] == keys_b[0]) * np.float32(_STEP_4)
    )
    same = np.asarray(position_a == position_b) & (np.asarray(position_a) >= 0)
    return np.maximum(value, same.astype(np.float32))


def occupation_fit(p: Side, v: Side, n: int) -> np.ndarray:
    """Best weighted proximity over the participant's occupation entries."""
    fit = np.zeros(n, dtype=np.float32)
    for k in range(len(p.occ_position)):
        weight = p.occ_weight[k]
        if np.ndim(weight) == 0 and weight <= 0:
            continue
        value = weight * proximity(p.occ_position[k], p.occ_keys[:, k], v.occupation,
                                   v.isco_keys)
        np.maximum(fit, value, out=fit)
    return fit


def distance_km(p: Side, v: Side) -> np.ndarray:
    """Great-circle distance from the chord between unit vectors (float32)."""
    dx = p.xyz[0] - v.xyz[0]
    dy = p.xyz[1] - v.xyz[1]
    dz = p.xyz[2] - v.xyz[2]
    chord = np.sqrt(dx * dx + dy * dy + dz * dz)
    return (np.float32(2 * EARTH_RADIUS_KM) * np.arcsin(np.minimum(chord / 2, 1))).astype(
        np.float32
    )


_FACTOR_INPUTS: Final = frozenset(
    {"occ_position", "occ_keys", "occ_weight", "occupation", "isco_keys", "lang_level",
     "lang_required"}
)


def _subset(side: Side, rows: np.ndarray, n: int) -> Side:
    """The factor inputs of a side, restricted to ``rows`` if it holds the length-n arrays."""
    if np.ndim(side.xyz) < 2:
        return side

    def take(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: take(v) for k, v in value.items()}
        if isinstance(value, np.ndarray) and value.ndim and value.shape[-1] == n:
            return value[..., rows]
        return value

    return Side({key: take(value) for key, value in side.values.items()
                 if key in _FACTOR_INPUTS})


def pair_arrays(
    p: Side,
    v: Side,
    *,
    skills: np.ndarray,
    languages: list[str],
    commute: CommuteModel,
    n: int,
    employer_view: bool,
    with_factors: bool = True,
    factor_rows: str | np.ndarray = "all",
) -> PairArrays:
    """Compute filters and factors for ``n`` pairs.

    Parameters
    ----------
    p, v : Side
        Participant and vacancy values (see :meth:`matching.index.IndexState.vacancy_side`);
        one side holds scalars, the other arrays of length ``n``.
    skills : ndarray
        The skills factor of each pair (:func:`skills_factor`).
    languages : list of str
        Languages the vacancies in play require.
    commute : CommuteModel
    n : int
        Number of pairs.
    employer_view : bool
        Apply the consent and approval filters.
    with_factors : bool, default True
        ``False`` computes the hard filters only (for a participant who objects to
        profiling); the factor rows are then NaN.
    factor_rows : "all" or ndarray of int, default "all"
        ``"all"`` computes factors for every pair; an array of positions computes them
        for the pairs that pass every filter plus those positions (e.g. overridden
        pairs) and leaves the others NaN, which is all a ranking needs.
    """
    reasons = np.zeros((len(REASONS), n), dtype=bool)
    reasons[_REASON_COLUMN[Reason.NOT_OPEN]] = ~v.is_open

    # Language: every required language must meet the minimum or be reachable.
    fail = reasons[_REASON_COLUMN[Reason.LANGUAGE]]
    statuses = []
    for language in languages:
        status, _ = assess(
            p.lang_level.get(language, 0),
            v.lang_required.get(language, 0),
            p.lang_expected.get(language, 0),
            p.lang_expected_by.get(language, np.datetime64("NaT")),
            v.start_date,
        )
        fail |= status == GAP
        statuses.append((language, status))

    # Commute: fastest usable mode against the participant's limit capped by §140.
    # Without a matrix, minutes are linear in distance: a + b * km for each mode.
    best = np.full(n, np.inf, dtype=np.float32)
    best_mode = np.zeros(n, dtype=np.int8)
    distance = distance_km(p, v)
    matrix = commute.matrix if commute.matrix is not None and commute.matrix.zones else None
    if matrix is not None:
        origin = np.asarray(p.zone_code, dtype=np.int64)
        dest = np.asarray(v.zone_code, dtype=np.int64)
        known = (origin >= 0) & (dest >= 0)
        origin, dest = np.where(known, origin, 0), np.where(known, dest, 0)
    modes = np.asarray(p.modes)
    penalty = p.mode_penalty  # 0 where the mode is usable, inf where not
    minutes = np.empty(n, dtype=np.float32)
    for index, mode in enumerate(MODES):
        if modes.ndim == 0 and not modes & _MODE_BITS[index]:
            continue
        parameters = commute.parameters.for_mode(mode)
        fixed = np.float32(parameters.access_minutes + parameters.wait_minutes)
        per_km = np.float32(parameters.detour_factor / parameters.speed_kmh * 60.0)
        np.multiply(distance, per_km, out=minutes)
        minutes += fixed
        if matrix is not None:
            looked_up = matrix.table(mode)[origin, dest]
            np.copyto(minutes, looked_up, where=known & ~np.isnan(looked_up))
        if modes.ndim:
            minutes += penalty[index]
        better = minutes < best
        np.copyto(best_mode, np.int8(index), where=better)
        np.minimum(best, minutes, out=best)
    limit = np.broadcast_to(np.minimum(p.own_limit, v.commute_cap), (n,))
    reasons[_REASON_COLUMN[Reason.COMMUTE]] = ~(best <= limit)

    # Hours and shifts.
    outside = np.maximum(p.hours_min - v.hours, 0.0) + np.maximum(v.hours - p.hours_max, 0.0)
    reasons[_REASON_COLUMN[Reason.HOURS]] = outside > 0
    reasons[_REASON_COLUMN[Reason.SHIFTS]] = (v.shifts & ~p.availability) != 0

    # Licence, certificates, work permit.
    licence = v.licence
    reasons[_REASON_COLUMN[Reason.DRIVING_LICENCE]] = (licence != 0) & (
        (licence & p.licence) == 0
    )
    missing = v.certificates & ~p.certificates
    reasons[_REASON_COLUMN[Reason.CERTIFICATE]] = (
        missing[..., 0] != 0 if missing.shape[-1] == 1 else (missing != 0).any(axis=-1)
    )
    reasons[_REASON_COLUMN[Reason.WORK_PERMIT]] = v.permit_required & ~_PERMIT_OK[p.work_permit]
    if employer_view:
        reasons[_REASON_COLUMN[Reason.NOT_CONSENTED]] = ~p.consent
        reasons[_REASON_COLUMN[Reason.NOT_APPROVED]] = ~p.approved

    factors = np.full((len(FACTORS), n), np.nan, dtype=np.float32)
    pairs = PairArrays(
        reasons=reasons,
        factors=factors,
        commute_minutes=best,
        commute_mode=best_mode,
        commute_limit=np.ascontiguousarray(limit, dtype=np.float32),
    )
    if not with_factors:
        return pairs
    rows: Any = slice(None)
    if not isinstance(factor_rows, str):
        need = pairs.passing
        need[np.asarray(factor_rows, dtype=np.int64)] = True
        selected = np.flatnonzero(need)
        if len(selected) == 0:
            return pairs
        if len(selected) < n // 4:  # gathering rows pays off only when few are needed
            rows = selected
    if isinstance(rows, slice):
        sub_p, sub_v, k = p, v, n
    else:
        sub_p, sub_v, k = _subset(p, rows, n), _subset(v, rows, n), len(rows)
    language_factor = np.ones(k, dtype=np.float32)
    for language, status in statuses:
        status = np.broadcast_to(status, (n,))[rows]
        np.minimum(
            language_factor,
            margin(sub_p.lang_level.get(language, 0), sub_v.lang_required.get(language, 0),
                   reachable=status == REACHABLE),
            out=language_factor,
        )
    factors[0, rows] = np.broadcast_to(skills, (n,))[rows]
    factors[1, rows] = occupation_fit(sub_p, sub_v, k)
    factors[2, rows] = language_factor
    with np.errstate(invalid="ignore", divide="ignore"):
        commute_factor = np.clip(1.0 - best[rows] / limit[rows], 0.0, 1.0)
    factors[3, rows] = np.nan_to_num(commute_factor, nan=0.0)
    factors[4, rows] = np.clip(1.0 - HOURS_SLOPE * np.broadcast_to(outside, (n,))[rows], 0.0, 1.0)
    return pairs


def reason_column(reason: str) -> int:
    """Row of ``reason`` in :attr:`PairArrays.reasons`."""
    return _REASON_COLUMN[reason]
