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

from matching.commute import CommuteModel, section_140_limit
from matching.language import GAP, REACHABLE, assess, margin
from matching.schema import FACTORS, MODES, REASONS, WORK_PERMIT_VALUES, Reason

__all__ = [
    "ESSENTIAL_SHARE",
    "OVERRIDABLE",
    "PairArrays",
    "Side",
    "pair_arrays",
    "proximity",
    "skills_factor",
]

ESSENTIAL_SHARE: Final = 0.75
HOURS_SLOPE: Final = 0.1
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
    """Filters, factors and the details explanations need, one row per pair."""

    reasons: np.ndarray  # (n, len(REASONS)) bool
    factors: np.ndarray  # (n, len(FACTORS)) float32
    commute_minutes: np.ndarray  # float32, by the fastest usable mode
    commute_mode: np.ndarray  # int8 index into MODES
    commute_limit: np.ndarray  # float32
    language_gap: np.ndarray  # int8, largest gap over required languages
    language_reachable: np.ndarray  # bool, passes only as reachable
    occupation_slot: np.ndarray  # int8, which occupation entry gave occupation fit

    @property
    def passing(self) -> np.ndarray:
        """Pairs that pass every hard filter."""
        return ~self.reasons.any(axis=1)


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


def proximity(
    position_a: Any, isco_a: Any, position_b: Any, isco_b: Any
) -> np.ndarray:
    """Occupation proximity: 1 same, 0.75 / 0.5 / 0.25 same ISCO 4 / 3 / 2 digits, else 0.

    Examples
    --------
    >>> proximity(np.array([5, 6, 7, 8, 9]), np.array([8344, 8344, 8341, 8311, 1111]),
    ...           5, 8344).tolist()
    [1.0, 0.75, 0.5, 0.25, 0.0]
    """
    a = np.asarray(position_a)
    ia = np.asarray(isco_a)
    b = np.asarray(position_b)
    ib = np.asarray(isco_b)
    known = (ia > 0) & (ib > 0)
    value = np.where(
        known & (ia // 100 == ib // 100),
        np.where(ia // 10 == ib // 10, np.where(ia == ib, 0.75, 0.5), 0.25),
        0.0,
    )
    return np.where((a >= 0) & (a == b), 1.0, value).astype(np.float32)


def pair_arrays(
    p: Side,
    v: Side,
    *,
    skills: np.ndarray,
    languages: list[str],
    commute: CommuteModel,
    n: int,
    employer_view: bool,
    occupation_axis: int,
) -> PairArrays:
    """Compute filters and factors for ``n`` pairs.

    Parameters
    ----------
    p, v : Side
        Participant and vacancy values; one side holds scalars, the other arrays of
        length ``n``. Occupation entries of the participant are ``(K,)`` or ``(n, K)``.
    skills : ndarray
        The skills factor of each pair (:func:`skills_factor`).
    languages : list of str
        Languages any vacancy in play requires.
    commute : CommuteModel
    n : int
        Number of pairs.
    employer_view : bool
        Apply the consent and approval filters.
    occupation_axis : int
        Axis of the participant's occupation entries after broadcasting (1 for both
        directions; kept explicit for clarity).
    """
    reasons = np.zeros((n, len(REASONS)), dtype=bool)
    reasons[:, _REASON_COLUMN[Reason.NOT_OPEN]] = ~np.broadcast_to(v.is_open, (n,))

    # Language: every required language must meet the minimum or be reachable.
    language_factor = np.ones(n, dtype=np.float32)
    gap = np.zeros(n, dtype=np.int8)
    reachable_any = np.zeros(n, dtype=bool)
    fail = np.zeros(n, dtype=bool)
    for language in languages:
        required = v.lang_required.get(language, 0)
        level = p.lang_level.get(language, 0)
        status, lang_gap = assess(
            level,
            required,
            p.lang_expected.get(language, 0),
            p.lang_expected_by.get(language, np.datetime64("NaT")),
            v.start_date,
        )
        status = np.broadcast_to(status, (n,))
        fail |= status == GAP
        reachable = status == REACHABLE
        reachable_any |= reachable
        gap = np.maximum(gap, np.broadcast_to(lang_gap, (n,)))
        language_factor = np.minimum(
            language_factor, np.broadcast_to(margin(level, required, reachable=reachable), (n,))
        )
    reasons[:, _REASON_COLUMN[Reason.LANGUAGE]] = fail

    # Commute: fastest usable mode against the participant's limit capped by §140.
    best = np.full(n, np.inf, dtype=np.float32)
    best_mode = np.zeros(n, dtype=np.int8)
    for index, mode in enumerate(MODES):
        usable = (np.asarray(p.modes) & _MODE_BITS[index]) != 0
        if not usable.any():
            continue
        minutes = commute.minutes(p.lat, p.lon, p.zone_code, v.lat, v.lon, v.zone_code, mode)
        minutes = np.where(usable, np.broadcast_to(minutes, (n,)), np.inf)
        better = minutes < best
        best = np.where(better, minutes, best).astype(np.float32)
        best_mode = np.where(better, index, best_mode).astype(np.int8)
    own = np.asarray(p.max_commute, dtype=np.float32)
    limit = np.broadcast_to(
        np.fmin(np.where(np.isnan(own), np.inf, own), section_140_limit(v.daily_hours)), (n,)
    ).astype(np.float32)
    reasons[:, _REASON_COLUMN[Reason.COMMUTE]] = ~(best <= limit)
    with np.errstate(invalid="ignore", divide="ignore"):
        commute_factor = np.clip(1.0 - best / limit, 0.0, 1.0)
    commute_factor = np.nan_to_num(commute_factor, nan=0.0).astype(np.float32)

    # Hours and shifts.
    hours = np.broadcast_to(v.hours, (n,))
    below = np.maximum(np.asarray(p.hours_min) - hours, 0.0)
    above = np.maximum(hours - np.asarray(p.hours_max), 0.0)
    outside = below + above
    reasons[:, _REASON_COLUMN[Reason.HOURS]] = outside > 0
    hours_factor = np.clip(1.0 - HOURS_SLOPE * outside, 0.0, 1.0).astype(np.float32)
    reasons[:, _REASON_COLUMN[Reason.SHIFTS]] = np.broadcast_to(
        (np.asarray(v.shifts) & ~np.asarray(p.availability)) != 0, (n,)
    )

    # Licence, certificates, work permit.
    licence = np.asarray(v.licence)
    reasons[:, _REASON_COLUMN[Reason.DRIVING_LICENCE]] = np.broadcast_to(
        (licence != 0) & ((licence & np.asarray(p.licence)) == 0), (n,)
    )
    missing_certificates = (np.asarray(v.certificates) & ~np.asarray(p.certificates)) != 0
    reasons[:, _REASON_COLUMN[Reason.CERTIFICATE]] = np.broadcast_to(
        missing_certificates.any(axis=-1), (n,)
    )
    reasons[:, _REASON_COLUMN[Reason.WORK_PERMIT]] = np.broadcast_to(
        np.asarray(v.permit_required) & ~_PERMIT_OK[np.asarray(p.work_permit)], (n,)
    )
    if employer_view:
        reasons[:, _REASON_COLUMN[Reason.NOT_CONSENTED]] = ~np.broadcast_to(p.consent, (n,))
        reasons[:, _REASON_COLUMN[Reason.NOT_APPROVED]] = ~np.broadcast_to(p.approved, (n,))

    # Occupation fit: best weighted proximity over the participant's occupation entries.
    v_position = np.asarray(v.occupation)
    v_isco = np.asarray(v.isco)
    if v_position.ndim == 1:
        v_position = v_position[:, None]
        v_isco = v_isco[:, None]
    weighted = np.asarray(p.occ_weight) * proximity(p.occ_position, p.occ_isco, v_position, v_isco)
    weighted = np.broadcast_to(weighted, (n, weighted.shape[-1]))
    slot = weighted.argmax(axis=occupation_axis).astype(np.int8)
    occupation_factor = weighted.max(axis=occupation_axis).astype(np.float32)

    factors = np.empty((n, len(FACTORS)), dtype=np.float32)
    factors[:, 0] = skills
    factors[:, 1] = occupation_factor
    factors[:, 2] = language_factor
    factors[:, 3] = commute_factor
    factors[:, 4] = hours_factor
    return PairArrays(
        reasons=reasons,
        factors=factors,
        commute_minutes=best,
        commute_mode=best_mode,
        commute_limit=limit,
        language_gap=gap,
        language_reachable=reachable_any & ~fail,
        occupation_slot=slot,
    )


def reason_column(reason: str) -> int:
    """Column of ``reason`` in :attr:`PairArrays.reasons`."""
    return _REASON_COLUMN[reason]
