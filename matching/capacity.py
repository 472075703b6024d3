"""Capacity-aware recommendations: a placement plan that respects openings, and rankings
that spread exposure over comparable vacancies.

A vacancy with one opening should not be sent to forty people at once. Two tools:

:func:`placement_plan`
    Assigns a team's participants to vacancies so that no vacancy receives more people
    than it has free openings (its ``openings`` minus the participants already recorded
    as proposed or applied), maximising the total score over pairs that pass every hard
    filter. The assignment is a minimum-weight full bipartite matching (SciPy's
    ``min_weight_full_bipartite_matching``, the LAPJVsp algorithm) on a sparse graph in
    which each vacancy is replicated once per free opening and each participant may stay
    unassigned at no gain. Each participant may connect only to their ``top_n`` best
    feasible vacancies, which bounds memory. Alternatives are found by further rounds of
    the same matching, each excluding what a participant already holds, in which a free
    opening may be offered to a bounded number of participants; so a vacancy is a first
    choice for at most its free openings and appears in a bounded number of plans.
:func:`spread_matches` and :func:`spread_rankings`
    Rank as usual, but among near-equal matches prefer vacancies fewer participants are
    already being sent to (:func:`spread_order`): each place of the list goes, among the
    vacancies that may take it, to the one with the lowest load (participants already
    sent per opening, :func:`vacancy_load`; recorded ``proposed`` and ``applied``
    outcomes count against the openings). Two tiers decide which may: a vacancy may be
    listed above, or instead of, one that scores at most ``tolerance`` (0.1) more; and
    above a *saturated* one (:func:`saturated_vacancies`: more people sent than openings
    and above 1.2 times the average load per opening of the participant's eligible
    vacancies) that scores at most ``saturation_tolerance`` (0.3) more. Each item's
    explanation states the load, and a saturated vacancy says so in German.
    :func:`spread_select` can instead leave out a very crowded vacancy that only the lack
    of an unsaturated alternative would list (shorter lists; measured, not the default).
:func:`market_cutoffs` and :func:`cutoff_select`
    Market-wide knowledge for the spread option (``cutoffs=``): each vacancy gets a
    bounded number of list places, and a score cutoff per vacancy, found by deferred
    acceptance over all participants, gives them to the participants who match it best.
    A list skips a vacancy below its cutoff only for one scoring at most ``tolerance``
    (0.3) less and always keeps the participant's best; lists may be shorter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from matching.errors import InvalidInputError, NotFittedError
from matching.guidance import apply_overrides, override_cells
from matching.index import IndexState, check_limit
from matching.ranking import top_k

if TYPE_CHECKING:
    from matching.matcher import Matcher, MatchResult

__all__ = [
    "CUTOFF_DEPTH",
    "DEFAULT_CUTOFF_LEVEL",
    "DEFAULT_CUTOFF_TOLERANCE",
    "DEFAULT_SATURATION_LEVEL",
    "DEFAULT_SATURATION_TOLERANCE",
    "DEFAULT_TOLERANCE",
    "DEFAULT_TOP_N",
    "LEAVE_OUT_FLOOR",
    "OFFER_SLACK",
    "SATURATION_FLOOR",
    "Alternative",
    "Assignment",
    "MarketCutoffs",
    "Plan",
    "cutoff_select",
    "market_cutoffs",
    "placement_plan",
    "saturated_vacancies",
    "spread_matches",
    "spread_order",
    "spread_rankings",
    "spread_select",
    "vacancy_load",
]

#: Scores within this distance count as near-equal when spreading exposure.
DEFAULT_TOLERANCE: Final = 0.1
#: A saturated vacancy yields its place to an unsaturated one scoring up to this less.
DEFAULT_SATURATION_TOLERANCE: Final = 0.3
#: A vacancy is saturated when its load exceeds this multiple of the average load per
#: opening over the participant's eligible vacancies (and :data:`SATURATION_FLOOR`).
DEFAULT_SATURATION_LEVEL: Final = 1.2
#: ... and more people are being sent to it than it has openings.
SATURATION_FLOOR: Final = 1.0
#: With leaving out on, a saturated vacancy with at least this many people sent per
#: opening (and the leave-out multiple of the average) is left out rather than listed
#: only for lack of an unsaturated alternative.
LEAVE_OUT_FLOOR: Final = 2.0
#: With market cutoffs, each vacancy gets this multiple of the average list places per
#: opening (:func:`market_cutoffs`).
DEFAULT_CUTOFF_LEVEL: Final = 1.1
#: A vacancy below its cutoff stays listed when it scores more than this above the
#: lowest vacancy listed (:func:`cutoff_select`).
DEFAULT_CUTOFF_TOLERANCE: Final = 0.3
#: With market cutoffs, each participant's this many best eligible vacancies take part.
CUTOFF_DEPTH: Final = 100
#: Each participant competes in a plan for this many of their best feasible vacancies.
DEFAULT_TOP_N: Final = 30
#: Each alternatives round offers a free opening to at most ceil(this x team / free
#: openings) participants (see placement_plan): 1.0 covers the team once per round.
OFFER_SLACK: Final = 1.0
#: Cost of leaving a participant unassigned; a pair costs this minus its score (> 0).
_UNASSIGNED_COST: Final = 2.0


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Alternative:
    """A further vacancy offered to a participant in a plan."""

    vacancy_id: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"vacancy_id": self.vacancy_id, "score": self.score}


@dataclass(frozen=True)
class Assignment:
    """One participant's place in a plan.

    Attributes
    ----------
    participant_id : str
    vacancy_id : str or None
        The vacancy proposed first; ``None`` when no feasible vacancy had a free opening
        left for them.
    score : float or None
        Its score.
    own_rank : int or None
        Where that vacancy stands in the participant's own ranking of feasible vacancies
        with free openings (1 = their best).
    alternatives : list of Alternative
        Further vacancies, best score first (ties by id).
    """

    participant_id: str
    vacancy_id: str | None
    score: float | None
    own_rank: int | None
    alternatives: list[Alternative]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "participant_id": self.participant_id,
            "vacancy_id": self.vacancy_id,
            "score": self.score,
            "own_rank": self.own_rank,
            "alternatives": [a.to_dict() for a in self.alternatives],
        }


@dataclass(frozen=True)
class Plan:
    """A placement plan for a set of participants.

    Attributes
    ----------
    model_version : str
    assignments : list of Assignment
        One per participant, in id order.
    total_score : float
        Sum of the first-choice scores.
    assigned : dict
        Vacancy id → participants proposed to it first in this plan.
    free_openings : dict
        Vacancy id → openings still free after the recorded outcomes and this plan
        (vacancies the plan uses only).
    offers_per_opening : int
        Participants one free opening was offered to per alternatives round.
    """

    model_version: str
    assignments: list[Assignment]
    total_score: float
    assigned: dict[str, int]
    free_openings: dict[str, int]
    offers_per_opening: int

    @property
    def unassigned(self) -> list[str]:
        """Participants the plan found no free opening for."""
        return [a.participant_id for a in self.assignments if a.vacancy_id is None]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the API's ``plans`` body)."""
        return {
            "model_version": self.model_version,
            "total_score": self.total_score,
            "assignments": [a.to_dict() for a in self.assignments],
            "unassigned": self.unassigned,
            "assigned": dict(self.assigned),
            "free_openings": dict(self.free_openings),
            "offers_per_opening": self.offers_per_opening,
        }


# --------------------------------------------------------------------------- helpers


def _fitted_state(matcher: Matcher) -> IndexState:
    try:
        return matcher.state_
    except AttributeError:
        raise NotFittedError("the matcher has no index yet; call fit() first") from None


def _round(value: float) -> float:
    return round(float(value), 4)


def _check_counts(counts: Mapping[str, Any], field: str) -> dict[str, int]:
    if not isinstance(counts, Mapping):
        raise InvalidInputError(
            f"{field} must map vacancy ids to counts, got {type(counts).__name__}", field=field
        )
    result = {}
    for key, value in counts.items():
        if (isinstance(value, bool) or not isinstance(value, int | np.integer)
                or value < 0):
            raise InvalidInputError(
                f"{field}[{key!r}] must be a whole number >= 0, got {value!r}", field=field
            )
        result[str(key)] = int(value)
    return result


def _check_tolerance(value: Any, field: str = "tolerance") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidInputError(f"{field} must be a number in [0, 1], got {value!r}",
                                field=field)
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise InvalidInputError(f"{field} must be a number in [0, 1], got {number:g}",
                                field=field)
    return number


def _check_count(value: Any, field: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidInputError(f"{field} must be a whole number >= {minimum}, got {value!r}",
                                field=field)
    return int(value)


def _per_row(state: IndexState, counts: Mapping[str, int]) -> np.ndarray:
    """Counts by vacancy row; ids no longer in the index are ignored."""
    vt = state.vacancies
    values = np.zeros(len(vt.block), dtype=np.int64)
    for identifier, count in counts.items():
        row = vt.position.get(identifier)
        if row is not None:
            values[row] += count
    return values


def vacancy_load(sent: np.ndarray, openings: np.ndarray) -> np.ndarray:
    """Participants already being sent to a vacancy per opening, ``sent / max(openings, 1)``.

    Recorded ``proposed`` and ``applied`` outcomes (and, in :func:`spread_rankings`, the
    lists already handed out) count against the openings: a vacancy with two openings
    and one person sent has load 0.5, one with one opening and three sent has load 3.

    Examples
    --------
    >>> vacancy_load(np.array([0, 1, 3, 4]), np.array([2, 1, 3, 2])).tolist()
    [0.0, 1.0, 1.0, 2.0]
    """
    e = np.asarray(sent, dtype=np.float64)
    return e / np.maximum(np.asarray(openings, dtype=np.float64), 1.0)


def _load(state: IndexState, sent: np.ndarray) -> np.ndarray:
    """:func:`vacancy_load` of every vacancy row."""
    return vacancy_load(sent, state.vacancies.block.openings)


def saturated_vacancies(
    load: np.ndarray,
    openings: np.ndarray,
    eligible: np.ndarray,
    *,
    level: float = DEFAULT_SATURATION_LEVEL,
) -> tuple[np.ndarray, float]:
    """Which eligible vacancies are saturated, and the average load they are judged by.

    The average is the load per opening over the ``eligible`` vacancies (people sent to
    them divided by their openings). A vacancy is saturated when its load exceeds both
    ``level`` times that average and :data:`SATURATION_FLOOR` (more people sent than it
    has openings): a vacancy is only called crowded when it is crowded compared with the
    alternatives this participant has, and when it is actually over its openings.

    Examples
    --------
    >>> load = np.array([3.0, 1.0, 0.0, 0.5])
    >>> full, average = saturated_vacancies(load, np.array([1, 2, 1, 2]), np.ones(4, bool))
    >>> full.tolist(), average
    ([True, False, False, False], 1.0)
    """
    load = np.asarray(load, dtype=np.float64)
    eligible = np.asarray(eligible, dtype=bool)
    weights = np.maximum(np.asarray(openings, dtype=np.float64), 1.0)[eligible]
    average = float((load[eligible] * weights).sum() / weights.sum()) if weights.size else 0.0
    return eligible & (load > max(level * average, SATURATION_FLOOR)), average


def spread_order(
    scores: np.ndarray,
    eligible: np.ndarray,
    ids: np.ndarray,
    load: np.ndarray,
    *,
    limit: int,
    tolerance: float = DEFAULT_TOLERANCE,
    saturated: np.ndarray | None = None,
    saturation_tolerance: float = DEFAULT_SATURATION_TOLERANCE,
) -> np.ndarray:
    """Positions of up to ``limit`` eligible rows, preferring the less loaded among near-equals.

    The list is filled one place at a time from the rows not yet listed. A row may take
    the place when no other such row scores more than the tolerance that applies above
    it: ``saturation_tolerance`` for a ``saturated`` row above an unsaturated candidate,
    ``tolerance`` otherwise. Of the rows that may, the one with the lowest ``load`` takes
    the place (ties: the higher score, then the id). So a row is never listed above, or
    instead of, a row that scores more than ``tolerance`` more, unless that row is
    saturated and it is not, and then never by more than ``saturation_tolerance``. With
    equal loads (for instance nobody sent anywhere yet), and with both tolerances 0, this
    is the plain ranking; with ``saturated`` ``None`` (no row saturated) only
    ``tolerance`` acts.

    Examples
    --------
    >>> ids = np.array(["a", "b", "c", "d"], dtype=object)
    >>> s = np.array([0.80, 0.78, 0.77, 0.60])
    >>> load = np.array([2.0, 1.0, 0.0, 0.0])
    >>> spread_order(s, np.ones(4, bool), ids, load, limit=4, tolerance=0.05).tolist()
    [2, 1, 0, 3]
    >>> full = np.array([True, True, False, False])
    >>> spread_order(s, np.ones(4, bool), ids, load, limit=2, tolerance=0.05,
    ...              saturated=full, saturation_tolerance=0.25).tolist()
    [2, 3]
    """
    chosen, _ = spread_select(scores, eligible, ids, load, limit=limit, tolerance=tolerance,
                              saturated=saturated,
                              saturation_tolerance=saturation_tolerance)
    return chosen


def spread_select(
    scores: np.ndarray,
    eligible: np.ndarray,
    ids: np.ndarray,
    load: np.ndarray,
    *,
    limit: int,
    tolerance: float = DEFAULT_TOLERANCE,
    saturated: np.ndarray | None = None,
    saturation_tolerance: float = DEFAULT_SATURATION_TOLERANCE,
    leave_out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`spread_order`, optionally leaving out the most crowded vacancies.

    A ``leave_out`` row (it must also be ``saturated``) that would take a place, which
    happens only when no unsaturated row may take it, is left out instead: the place
    stays empty, so the list may be shorter than ``limit``.

    Returns
    -------
    chosen, left_out : ndarray
        Positions listed, best first, and positions left out, in the order met.
    """
    scores = np.asarray(scores, dtype=np.float64)
    plain = top_k(scores, eligible, ids, limit)
    none = np.zeros(0, dtype=np.int64)
    if saturated is None or not np.asarray(saturated, dtype=bool)[eligible].any():
        # No row saturated: only `tolerance` acts (with 0, equal scores go by id).
        saturated = np.zeros(len(scores), dtype=bool)
        saturation_tolerance = tolerance
    saturation_tolerance = max(saturation_tolerance, tolerance)
    if saturation_tolerance <= 0 or len(plain) == 0:
        return plain, none
    drop = (np.zeros(len(scores), dtype=bool) if leave_out is None
            else np.asarray(leave_out, dtype=bool) & np.asarray(saturated, dtype=bool))
    # Every best row not yet listed scores at least the limit-th best, so only rows
    # within the wider tolerance of that can be listed.
    floor = float(scores[plain[-1]]) - saturation_tolerance
    pool = np.flatnonzero(eligible & (scores >= floor))
    order = np.lexsort((ids[pool].astype(str), -scores[pool]))
    pool = pool[order]
    pool_scores = scores[pool]
    pool_load = np.asarray(load, dtype=np.float64)[pool]
    pool_full = np.asarray(saturated, dtype=bool)[pool]
    pool_drop = drop[pool]
    free = np.ones(len(pool), dtype=bool)
    chosen: list[int] = []
    left_out: list[int] = []
    for _ in range(len(plain)):
        best = pool_scores[int(np.argmax(free))]  # sorted: the first free row is the best
        # A saturated row may go only within `tolerance` of every row above it.
        allowed = free & pool_full & (pool_scores >= best - tolerance)
        open_rows = free & ~pool_full
        if open_rows.any():
            best_open = pool_scores[int(np.argmax(open_rows))]
            # An unsaturated row: within `tolerance` of the unsaturated rows above it and
            # within `saturation_tolerance` of the saturated ones.
            allowed |= (open_rows & (pool_scores >= best_open - tolerance)
                        & (pool_scores >= best - saturation_tolerance))
        near = np.flatnonzero(allowed)
        lowest = near[pool_load[near] == pool_load[near].min()]
        pick = int(lowest[0])  # sorted by score, then id
        (left_out if pool_drop[pick] else chosen).append(pool[pick])
        free[pick] = False
    return np.asarray(chosen, dtype=np.int64), np.asarray(left_out, dtype=np.int64)


# ----------------------------------------------------------------------- spreading


def _check_level(value: Any, field: str = "saturation_level") -> float:
    if (isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating)
            or not 1.0 <= float(value) <= 100.0):
        raise InvalidInputError(f"{field} must be a number in [1, 100], got {value!r}",
                                field=field)
    return float(value)


def _decimal_de(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def _cutoff_note(cutoff: float, kept: bool, best: bool, left_out_above: int) -> dict[str, Any]:
    """What an item of a list under market cutoffs says about its vacancy's cutoff."""
    note: dict[str, Any] = {
        "market_cutoff": _round(cutoff) if np.isfinite(cutoff) else None,
        "below_cutoff": kept,
        "left_out_above": left_out_above,
    }
    if kept:
        why = ("sie für diese Person die am besten passende Stelle ist" if best else
               "sie deutlich besser passt als die übrigen Stellen der Liste")
        note["cutoff_reason_de"] = (
            "Diese Stelle ist stark gefragt: Personen mit höherer Passung belegen bereits "
            f"alle Listenplätze dieser Stelle; sie bleibt in der Liste, weil {why}")
    return note


def _load_note(load: float, average: float, saturated: bool, plain_rank: int | None,
               rank: int, cutoff: dict[str, Any] | None = None) -> dict[str, Any]:
    """What an item of a spread list says about the people already sent there."""
    note: dict[str, Any] = {
        "people_per_opening": _round(load),
        "average_per_opening": _round(average),
        "saturated": saturated,
        "plain_rank": plain_rank,
        **(cutoff or {}),
    }
    if saturated:
        text = (f"Für diese Stelle sind bereits viele Personen pro freiem Platz vorgeschlagen "
                f"({_decimal_de(load)} je Platz, bei vergleichbaren Stellen im Schnitt "
                f"{_decimal_de(average)})")
        if plain_rank is not None and rank > plain_rank:
            text += "; daher weiter unten in der Liste"
        note["reason_de"] = text
    return note


def spread_matches(
    matcher: Matcher,
    participant_id: str,
    *,
    limit: int = 10,
    exposure: Mapping[str, int],
    tolerance: float = DEFAULT_TOLERANCE,
    saturation_tolerance: float = DEFAULT_SATURATION_TOLERANCE,
    saturation_level: float = DEFAULT_SATURATION_LEVEL,
    overrides: Iterable[tuple[str, str]] = (),
    cutoffs: MarketCutoffs | None = None,
) -> MatchResult:
    """Top vacancies for a participant, preferring less-exposed ones among near-equals.

    Parameters
    ----------
    matcher : Matcher
        A fitted matcher.
    participant_id : str
    limit : int, default 10
    exposure : mapping of str to int
        Vacancy id → participants already being sent there (recorded ``proposed`` and
        ``applied`` outcomes, or lists already handed out); unknown ids are ignored.
    tolerance : float, default 0.1
        Largest score difference that spreading may overrule between any two vacancies.
    saturation_tolerance : float, default 0.3
        Largest score difference by which an unsaturated vacancy may be listed above a
        saturated one (:func:`saturated_vacancies`); values below ``tolerance`` act as
        ``tolerance``.
    saturation_level : float, default 1.2
        A vacancy is saturated above this multiple of the average load per opening over
        the participant's eligible vacancies (and above one person per opening).
    overrides : iterable of (vacancy_id, reason)
        As for :meth:`Matcher.match_participant`.
    cutoffs : MarketCutoffs, optional
        Market cutoffs (:func:`market_cutoffs`, computed once per index): the list holds
        the vacancies :func:`cutoff_select` chooses (possibly fewer than ``limit``), in
        the order the two tiers give them.

    Returns
    -------
    MatchResult
        The structure of :meth:`Matcher.match_participant`; items re-ordered and ranks
        renumbered; scores and factors unchanged. Each item's explanation gains
        ``"spread"``: the people sent per opening, the average over the participant's
        eligible vacancies, whether the vacancy counts as saturated, its rank in the
        plain list and, for a saturated one, a German ``reason_de`` (also appended to
        ``summary_de``). With ``cutoffs`` also: the vacancy's ``market_cutoff`` (``None``
        when it has none), ``below_cutoff`` (listed although below it: the participant's
        best vacancy, or one far better than the rest, with a German
        ``cutoff_reason_de``, also appended to ``summary_de``) and ``left_out_above``,
        how many eligible vacancies scoring more were left out for their cutoff.

    Raises
    ------
    InvalidInputError
        A bad ``limit``, ``tolerance``, ``saturation_tolerance``, ``saturation_level`` or
        ``exposure`` value.
    UnknownIdError
        The participant is not in the index.
    """
    limit = check_limit(limit)
    tolerance = _check_tolerance(tolerance)
    saturation_tolerance = _check_tolerance(saturation_tolerance, "saturation_tolerance")
    saturation_level = _check_level(saturation_level)
    counts = _check_counts(exposure, "exposure")
    state = _fitted_state(matcher)
    overrides = list(overrides)
    vt = state.vacancies
    _, pairs = matcher.pairs_for_participant(participant_id, state=state)
    apply_overrides(pairs, override_cells(state, overrides))
    scores = matcher.scorer_.score(pairs.factors.T)
    eligible = pairs.passing & vt.alive
    ids = vt.block.ids
    load = _load(state, _per_row(state, counts))
    full, average = saturated_vacancies(load, vt.block.openings, eligible,
                                        level=saturation_level)
    cut, kept = None, np.zeros(0, dtype=np.int64)
    listable = eligible
    if cutoffs is not None:
        cut = cutoffs.by_row(state)
        picked, kept = cutoff_select(scores, eligible, ids, cut, limit=limit,
                                     tolerance=cutoffs.tolerance, depth=cutoffs.depth)
        listable = np.zeros(len(scores), dtype=bool)
        listable[picked] = True
    chosen = spread_order(scores, listable, ids, load, limit=limit, tolerance=tolerance,
                          saturated=full, saturation_tolerance=saturation_tolerance)
    # Fetch the plain ranking down to the last chosen vacancy, so that every chosen one
    # comes with its explanation; the matcher ranks by the same scores and ties.
    fetch = limit
    if len(chosen):
        worst = float(scores[chosen].min())
        fetch = max(limit, int(np.count_nonzero(eligible & (scores >= worst))))
    result = matcher.match_participant(participant_id, limit=fetch, overrides=overrides)
    items = {item.vacancy_id: item for item in result.items}
    ranked = []
    left_out = eligible & ~listable
    best = int(chosen[np.argmax(scores[chosen])]) if len(chosen) else -1
    for rank, v in enumerate(chosen, start=1):
        item = items[str(ids[v])]
        extra = None
        if cut is not None:
            extra = _cutoff_note(float(cut[v]), bool(np.isin(v, kept)), v == best,
                                 int(np.count_nonzero(left_out & (scores > scores[v]))))
        note = _load_note(float(load[v]), average, bool(full[v]), item.rank, rank, extra)
        explanation = {**item.explanation, "spread": note}
        reasons = [note[k] for k in ("cutoff_reason_de", "reason_de") if k in note]
        if reasons:
            explanation["summary_de"] = [*item.explanation.get("summary_de", []), *reasons]
        ranked.append(replace(item, rank=rank, explanation=explanation))
    return replace(result, items=ranked)


def spread_rankings(
    matcher: Matcher,
    participant_ids: Iterable[str],
    *,
    limit: int = 10,
    tolerance: float = DEFAULT_TOLERANCE,
    saturation_tolerance: float = DEFAULT_SATURATION_TOLERANCE,
    saturation_level: float = DEFAULT_SATURATION_LEVEL,
    exposure: Mapping[str, int] | None = None,
    leave_out_level: float | None = None,
    leave_out_floor: float = LEAVE_OUT_FLOOR,
    cutoffs: MarketCutoffs | None = None,
) -> dict[str, list[str]]:
    """Spread lists for many participants, each list counting as exposure for the next.

    Participants are served in id order (so the result does not depend on the order
    given); every vacancy on a participant's list adds one to its exposure before the
    next participant is ranked. The parameters are those of :func:`spread_matches`;
    ``tolerance=0`` and ``saturation_tolerance=0`` give the plain top-``limit`` lists.
    With ``leave_out_level`` set, a saturated vacancy whose load is at least that multiple
    of the average and at least ``leave_out_floor`` is left out of the list instead of
    taking a place no unsaturated vacancy may take (:func:`spread_select`); lists may
    then be shorter than ``limit``, and a left-out vacancy does not count as exposure.
    With ``cutoffs`` each list holds what :func:`cutoff_select` chooses, ordered by the
    two tiers, as :func:`spread_matches` answers (``leave_out_level`` does not apply).

    Returns
    -------
    dict
        Participant id → vacancy ids, best first.
    """
    limit = check_limit(limit)
    tolerance = _check_tolerance(tolerance)
    saturation_tolerance = _check_tolerance(saturation_tolerance, "saturation_tolerance")
    saturation_level = _check_level(saturation_level)
    if leave_out_level is not None:
        leave_out_level = _check_level(leave_out_level)
    state = _fitted_state(matcher)
    vt = state.vacancies
    sent = _per_row(state, _check_counts(exposure or {}, "exposure")).astype(np.float64)
    ids = vt.block.ids
    cut = None if cutoffs is None else cutoffs.by_row(state)
    lists: dict[str, list[str]] = {}
    for pid in sorted(set(participant_ids)):
        _, pairs = matcher.pairs_for_participant(pid, state=state)
        scores = matcher.scorer_.score(pairs.factors.T)
        eligible = pairs.passing & vt.alive
        load = _load(state, sent)
        full, average = saturated_vacancies(load, vt.block.openings, eligible,
                                            level=saturation_level)
        if cut is not None and cutoffs is not None:
            picked, _ = cutoff_select(scores, eligible, ids, cut, limit=limit,
                                      tolerance=cutoffs.tolerance, depth=cutoffs.depth)
            eligible = np.zeros(len(scores), dtype=bool)
            eligible[picked] = True
        drop = None
        if leave_out_level is not None and cut is None:
            drop = full & (load >= max(leave_out_level * average, leave_out_floor))
        chosen, _ = spread_select(scores, eligible, ids, load, limit=limit,
                                  tolerance=tolerance, saturated=full,
                                  saturation_tolerance=saturation_tolerance, leave_out=drop)
        sent[chosen] += 1
        lists[pid] = [str(ids[v]) for v in chosen]
    return lists


# ------------------------------------------------------------------ market cutoffs


@dataclass(frozen=True)
class MarketCutoffs:
    """Per-vacancy score cutoffs that keep every vacancy on a bounded number of lists.

    Computed by :func:`market_cutoffs` over all active participants; used by
    :func:`spread_matches` and :func:`spread_rankings` (``cutoffs=``).

    Attributes
    ----------
    vacancy_ids : ndarray of str (object)
        The index's vacancy ids, in its row order when computed.
    cutoffs : ndarray of float
        By vacancy: the lowest score with which a participant's list may take it
        (``-inf``: no cutoff, the vacancy never filled its places).
    capacity : ndarray of int
        By vacancy: the list places it was given (:func:`market_cutoffs`).
    listed : ndarray of int
        By vacancy: on how many of the computed lists it stands.
    participants : int
    limit, depth : int
    tolerance : float
    rounds : int
        Rounds the computation took.
    """

    vacancy_ids: np.ndarray
    cutoffs: np.ndarray
    capacity: np.ndarray
    listed: np.ndarray
    participants: int
    limit: int
    depth: int
    tolerance: float
    rounds: int

    def by_row(self, state: IndexState) -> np.ndarray:
        """The cutoffs in ``state``'s vacancy rows (a vacancy added since: no cutoff)."""
        ids = state.vacancies.block.ids
        if ids is self.vacancy_ids or (len(ids) == len(self.vacancy_ids)
                                       and bool(np.array_equal(ids, self.vacancy_ids))):
            return self.cutoffs
        values = np.full(len(ids), -np.inf)
        position = state.vacancies.position
        for row, identifier in enumerate(self.vacancy_ids):
            now = position.get(str(identifier))
            if now is not None:
                values[now] = self.cutoffs[row]
        return values


def _cutoff_rows(
    scores: np.ndarray,
    valid: np.ndarray,
    clear: np.ndarray,
    *,
    limit: int,
    tolerance: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The list of each row of candidates sorted best first: which are listed, which kept.

    A first list takes the participant's best candidate, then the best candidates that
    ``clear`` their vacancy's cutoff, up to ``limit``. A candidate below its cutoff may
    still be listed (*kept*) when it is the participant's best or scores more than
    ``tolerance`` above the lowest of that first list; it then competes for a place with
    its score less ``tolerance``, the others with their score, the best first of all.

    Returns
    -------
    listed, kept : ndarray of bool
        Same shape as ``scores``; ``kept`` marks the listed candidates below their cutoff.
    """
    best = np.zeros(scores.shape, dtype=bool)
    if scores.shape[1] == 0:
        return best, best
    best[:, 0] = valid[:, 0]
    base = valid & (clear | best)
    first = base & (np.cumsum(base, axis=1) <= limit)
    low = np.where(first, scores, np.inf).min(axis=1, keepdims=True)
    below = valid & ~clear & ~best & (scores > low + tolerance)
    candidates = base | below
    effective = np.where(below, scores - tolerance, scores)
    effective = np.where(best, np.inf, np.where(candidates, effective, -np.inf))
    order = np.argsort(-effective, axis=1, kind="stable")  # ties: the higher score, id
    place = np.empty(order.shape, dtype=np.int64)
    np.put_along_axis(place, order, np.broadcast_to(np.arange(order.shape[1]), order.shape),
                      axis=1)
    listed = candidates & (place < limit)
    return listed, listed & ~clear


def cutoff_select(
    scores: np.ndarray,
    eligible: np.ndarray,
    ids: np.ndarray,
    cutoffs: np.ndarray,
    *,
    limit: int,
    tolerance: float = DEFAULT_CUTOFF_TOLERANCE,
    depth: int = CUTOFF_DEPTH,
) -> tuple[np.ndarray, np.ndarray]:
    """One participant's list under market cutoffs, best score first.

    Among the participant's ``depth`` best eligible rows (ties by id), the list takes
    the best row, then the best rows whose score reaches their ``cutoffs``, up to
    ``limit``. A row below its cutoff is still listed (*kept*) when it is the best row,
    or when it scores more than ``tolerance`` above the lowest row of that list and, less
    ``tolerance``, still wins a place. So a row is left out only when it scores at most
    ``tolerance`` more than every row listed, the best row is always listed, and a list
    may be shorter than ``limit`` (rows below their cutoff do not fill empty places).

    Returns
    -------
    chosen, kept : ndarray
        Positions listed (best score first), and those of them below their cutoff.

    Examples
    --------
    >>> ids = np.array(["a", "b", "c", "d"], dtype=object)
    >>> s = np.array([0.9, 0.8, 0.7, 0.3])
    >>> cut = np.array([1.0, 0.85, -np.inf, 0.5])
    >>> [x.tolist() for x in cutoff_select(s, np.ones(4, bool), ids, cut, limit=3,
    ...                                     tolerance=0.3)]
    [[0, 2], [0]]
    """
    scores = np.asarray(scores, dtype=np.float64)
    ranked = top_k(scores, eligible, ids, depth)
    values = scores[ranked][None, :]
    clear = values >= np.asarray(cutoffs, dtype=np.float64)[ranked][None, :]
    listed, kept = _cutoff_rows(values, np.ones(values.shape, dtype=bool), clear,
                                limit=limit, tolerance=tolerance)
    return ranked[listed[0]], ranked[kept[0]]


def _below_boundary_ties(
    vac: np.ndarray, sc: np.ndarray, first_out: np.ndarray, rank: np.ndarray
) -> np.ndarray:
    """The score a vacancy's cutoff is raised just above, per held row (sorted by
    vacancy, then score descending): the first row that no longer fits, or, when it
    ties with the last row that fits, the first score below that tie (``-inf``: none,
    the cutoff stays). Participants who match a vacancy equally well are treated alike:
    a tie at the boundary keeps them all, which may put the vacancy over its places by
    the tie, rather than refusing all of them.
    """
    below = np.where(first_out, sc, -np.inf)
    ties = np.flatnonzero(first_out & (rank > 0))
    ties = ties[sc[ties] == sc[ties - 1]]
    if len(ties):
        end = np.searchsorted(vac, vac[ties], side="right")
        for j, stop in zip(ties.tolist(), end.tolist(), strict=True):
            lower = j + int(np.searchsorted(-sc[j:stop], -sc[j], side="right"))
            below[j] = sc[lower] if lower < stop else -np.inf
    return below


def market_cutoffs(
    matcher: Matcher,
    participant_ids: Iterable[str],
    *,
    limit: int = 10,
    level: float = DEFAULT_CUTOFF_LEVEL,
    tolerance: float = DEFAULT_CUTOFF_TOLERANCE,
    depth: int = CUTOFF_DEPTH,
    max_rounds: int = 500,
) -> MarketCutoffs:
    """Score cutoffs per vacancy so that no vacancy stands on more lists than its places.

    Every vacancy gets ``capacity = ceil(level x openings x places / openings in all)``
    places on lists, where ``places`` is the number of list places all participants
    fill (``limit`` each, or fewer eligible vacancies) and ``openings in all`` the
    openings of all vacancies (at least one each): with ``level`` 1 every opening gets
    the average share of the lists. The cutoffs are those of deferred acceptance, with
    the lists of :func:`cutoff_select`: every participant lists the vacancies whose
    cutoff they reach (all, at first); a vacancy on more lists than its places raises
    its cutoff just above the score of its best participant that no longer fits
    (participants it cannot refuse, a kept row, take places first; participants tied
    with the last one that fits are all kept, see ``_below_boundary_ties``), and the lists are
    made again, until no vacancy is over. Cutoffs only rise, so this ends; the lists
    then reproduce what :func:`spread_matches` answers each participant.

    A vacancy thus goes to the participants who match it best: a participant with many
    comparable alternatives leaves a crowded vacancy to those for whom it is a strong
    match, which a rule deciding one list at a time cannot see. Only a participant's
    ``depth`` best eligible vacancies take part (bounding memory to participants x
    ``depth``). Kept rows (a participant's best vacancy, one far better than the rest)
    can put a vacancy over its places.

    Returns
    -------
    MarketCutoffs
    """
    limit = check_limit(limit)
    tolerance = _check_tolerance(tolerance)
    level = _check_level(level, "level")
    depth = _check_count(depth, "depth", minimum=limit)
    state = _fitted_state(matcher)
    vt = state.vacancies
    ids = vt.block.ids
    pids = sorted({str(p) for p in participant_ids})
    rows = np.zeros((len(pids), depth), dtype=np.int64)
    values = np.full((len(pids), depth), -np.inf)
    valid = np.zeros((len(pids), depth), dtype=bool)
    for i, pid in enumerate(pids):
        _, pairs = matcher.pairs_for_participant(pid, state=state)
        scores = matcher.scorer_.score(pairs.factors.T)
        ranked = top_k(scores, pairs.passing & vt.alive, ids, depth)
        rows[i, :len(ranked)] = ranked
        values[i, :len(ranked)] = scores[ranked]
        valid[i, :len(ranked)] = True
    openings = np.maximum(vt.block.openings.astype(np.float64), 1.0)
    places = float(np.minimum(valid.sum(axis=1), limit).sum())
    in_all = float(openings[vt.alive].sum())
    capacity = np.ceil(level * openings * places / in_all - 1e-9).astype(np.int64) if in_all \
        else np.zeros(len(ids), dtype=np.int64)
    cutoffs = np.full(len(ids), -np.inf)
    listed = kept = np.zeros(valid.shape, dtype=bool)
    rounds = 0
    if not len(ids):  # no vacancy: no place to bound (and ``cutoffs[rows]`` has no row 0)
        max_rounds = 0
    for rounds in range(1, max_rounds + 1):  # noqa: B007 - reported
        clear = valid & (values >= cutoffs[rows])
        listed, kept = _cutoff_rows(values, valid, clear, limit=limit, tolerance=tolerance)
        held = listed & ~kept
        room = np.maximum(capacity - np.bincount(rows[kept], minlength=len(ids)), 0)
        vac, sc = rows[held], values[held]
        order = np.lexsort((-sc, vac))
        vac, sc = vac[order], sc[order]
        start = np.searchsorted(vac, vac, side="left")
        rank = np.arange(len(vac)) - start
        first_out = rank == room[vac]  # the best held participant that no longer fits
        below = _below_boundary_ties(vac, sc, first_out, rank)
        raised = cutoffs.copy()
        use = first_out & np.isfinite(below)
        np.maximum.at(raised, vac[use], np.nextafter(below[use], np.inf))
        if not (raised > cutoffs).any():
            break
        cutoffs = raised
    return MarketCutoffs(
        vacancy_ids=ids,
        cutoffs=cutoffs,
        capacity=capacity,
        listed=np.bincount(rows[listed], minlength=len(ids)),
        participants=len(pids),
        limit=limit,
        depth=depth,
        tolerance=tolerance,
        rounds=rounds,
    )


# ------------------------------------------------------------------------ the plan


def _assign(
    lists: list[tuple[np.ndarray, np.ndarray]],
    capacity: np.ndarray,
    taken: list[set[int]],
) -> list[tuple[int, float] | None]:
    """One round of maximum-score assignment under per-vacancy capacities.

    ``lists[i]`` holds participant ``i``'s candidate vacancy rows and scores; rows in
    ``taken[i]`` or without capacity are skipped. Each vacancy ``v`` becomes
    ``min(capacity[v], degree[v])`` slots, every slot joined to every participant that
    lists ``v``; each participant also has a private "unassigned" column.
    """
    n = len(lists)
    p_index, v_index, weight = [], [], []
    for i, (rows, scores) in enumerate(lists):
        keep = capacity[rows] > 0
        if taken[i]:
            keep &= ~np.isin(rows, list(taken[i]))
        p_index.append(np.full(int(keep.sum()), i))
        v_index.append(rows[keep])
        weight.append(scores[keep])
    if n == 0:
        return []
    p_all = np.concatenate(p_index).astype(np.int64)
    v_all = np.concatenate(v_index).astype(np.int64)
    w_all = np.concatenate(weight).astype(np.float64)
    result: list[tuple[int, float] | None] = [None] * n
    if len(p_all) == 0:
        return result
    vacancies, local = np.unique(v_all, return_inverse=True)
    degree = np.bincount(local, minlength=len(vacancies))
    slots = np.minimum(capacity[vacancies], degree)
    first_slot = np.concatenate([[0], np.cumsum(slots)[:-1]])
    # Every edge (participant, vacancy) is repeated once per slot of that vacancy.
    repeat = slots[local]
    edge = np.repeat(np.arange(len(p_all)), repeat)
    offset = np.arange(len(edge)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    columns = first_slot[local[edge]] + offset
    n_slots = int(slots.sum())
    rows = np.concatenate([p_all[edge], np.arange(n)])
    cols = np.concatenate([columns, n_slots + np.arange(n)])
    costs = np.concatenate([_UNASSIGNED_COST - w_all[edge], np.full(n, _UNASSIGNED_COST)])
    graph = sp.csr_matrix((costs, (rows, cols)), shape=(n, n_slots + n))
    _, matched = min_weight_full_bipartite_matching(graph)
    slot_vacancy = np.repeat(vacancies, slots)
    for i, column in enumerate(matched):
        if column < n_slots:
            v = int(slot_vacancy[column])
            rows_i, scores_i = lists[i]
            result[i] = (v, float(scores_i[np.flatnonzero(rows_i == v)[0]]))
    return result


def placement_plan(
    matcher: Matcher,
    participant_ids: Iterable[str],
    *,
    alternatives: int = 3,
    already_sent: Mapping[str, int] | None = None,
    top_n: int = DEFAULT_TOP_N,
    offers_per_opening: int | None = None,
    overrides: Mapping[str, Iterable[tuple[str, str]]] | None = None,
    offer_slack: float = OFFER_SLACK,
) -> Plan:
    """Assign participants to vacancies within their free openings, maximising total score.

    The first choices are one maximum-score assignment in which no vacancy receives more
    participants than it has free openings. Alternatives come from ``alternatives``
    further rounds of the same assignment, each excluding what a participant already
    holds, in which a vacancy may be offered to at most ``offers_per_opening`` times its
    free openings; so a vacancy with ``c`` free openings appears in at most
    ``c * (1 + alternatives * offers_per_opening)`` plans.

    Parameters
    ----------
    matcher : Matcher
        A fitted matcher.
    participant_ids : iterable of str
        The team's active participants (not those who object to profiling: they are
        never ranked).
    alternatives : int, default 3
        Further vacancies per participant.
    already_sent : mapping of str to int, optional
        Vacancy id → participants recorded as ``proposed`` or ``applied`` there; they
        count against its openings. Unknown ids are ignored.
    top_n : int, default 30
        How many of each participant's best feasible vacancies (with free openings) take
        part; bounds the graph at ``top_n`` × openings edges per participant.
    offers_per_opening : int, optional
        How many participants one free opening may be offered to in each alternatives
        round. By default ``ceil(offer_slack * participants / free openings)`` over the
        vacancies in play (at least 1): each round's openings then cover the team once,
        however large it is relative to the market. With a team small against the market
        this is 1.
    overrides : mapping of str to iterable of (vacancy_id, reason), optional
        Participant id → the filters their coach overrode, as for
        :meth:`Matcher.match_participant`: an overridden vacancy counts as passing that
        filter for that participant. Unknown ids are ignored.
    offer_slack : float, default :data:`OFFER_SLACK`
        The factor of the default ``offers_per_opening`` (0.1 to 100). Larger values give
        longer lists of alternatives when a team is large against the free openings, at
        the price of more people per opening (on the evaluation market 1.0 left the
        largest share per vacancy at 0.26-0.30 of plain top-10 lists, 1.5 at 0.40-0.44;
        ``python -m benchmarks.bench_capacity --offer-slacks 1.0 1.5``).

    Returns
    -------
    Plan

    Raises
    ------
    InvalidInputError
        A repeated participant id, a bad ``alternatives``, ``top_n``,
        ``offers_per_opening`` or ``already_sent`` value, or an override of a filter that
        cannot be overridden.
    UnknownIdError
        A participant is not in the index.
    """
    alternatives = _check_count(alternatives, "alternatives", minimum=0)
    top_n = _check_count(top_n, "top_n", minimum=1)
    if offers_per_opening is not None:
        offers_per_opening = _check_count(offers_per_opening, "offers_per_opening", minimum=1)
    if isinstance(offer_slack, bool) or not isinstance(offer_slack, int | float) or not (
        0.1 <= offer_slack <= 100
    ):
        raise InvalidInputError(f"offer_slack must be a number in [0.1, 100], got {offer_slack!r}",
                                field="offer_slack")
    sent = _check_counts(already_sent or {}, "already_sent")
    pids = [str(p) for p in participant_ids]
    if len(set(pids)) != len(pids):
        repeated = sorted({p for p in pids if pids.count(p) > 1})[0]
        raise InvalidInputError(f"participant {repeated!r} is listed more than once",
                                field="participant_ids")
    pids.sort()
    state = _fitted_state(matcher)
    vt = state.vacancies
    ids = vt.block.ids
    free = np.maximum(vt.block.openings.astype(np.int64) - _per_row(state, sent), 0)
    free[~vt.alive] = 0
    cells = {str(p): override_cells(state, o) for p, o in (overrides or {}).items()}
    lists: list[tuple[np.ndarray, np.ndarray]] = []
    for pid in pids:
        _, pairs = matcher.pairs_for_participant(pid, state=state)
        if pid in cells:
            apply_overrides(pairs, cells[pid])
        scores = matcher.scorer_.score(pairs.factors.T)
        chosen = top_k(scores, pairs.passing & vt.alive & (free > 0), ids, top_n)
        lists.append((chosen, scores[chosen].astype(np.float64)))
    if offers_per_opening is None:
        in_play = np.unique(np.concatenate([rows for rows, _ in lists] + [np.zeros(0, int)]))
        supply = int(free[in_play].sum())
        offers_per_opening = max(1, math.ceil(offer_slack * len(pids) / supply)) if supply else 1
    taken: list[set[int]] = [set() for _ in pids]
    first = _assign(lists, free, taken)
    offers: list[list[tuple[int, float]]] = [[] for _ in pids]
    for i, hit in enumerate(first):
        if hit is not None:
            taken[i].add(hit[0])
    for _ in range(alternatives):
        found = _assign(lists, free * offers_per_opening, taken)
        if all(h is None for h in found):
            break
        for i, hit in enumerate(found):
            if hit is not None:
                taken[i].add(hit[0])
                offers[i].append(hit)
    assigned = np.zeros(len(free), dtype=np.int64)
    assignments = []
    for i, pid in enumerate(pids):
        others = sorted(offers[i], key=lambda h: (-h[1], str(ids[h[0]])))
        alt = [Alternative(str(ids[v]), _round(score)) for v, score in others]
        hit = first[i]
        if hit is None:
            assignments.append(Assignment(pid, None, None, None, alt))
            continue
        assigned[hit[0]] += 1
        own_rank = int(np.flatnonzero(lists[i][0] == hit[0])[0]) + 1
        assignments.append(Assignment(pid, str(ids[hit[0]]), _round(hit[1]), own_rank, alt))
    used = np.flatnonzero(assigned)
    total = math.fsum(h[1] for h in first if h is not None)
    return Plan(
        model_version=matcher.scorer_.version,
        assignments=assignments,
        total_score=_round(total),
        assigned={str(ids[v]): int(assigned[v]) for v in used},
        free_openings={str(ids[v]): int(free[v] - assigned[v]) for v in used},
        offers_per_opening=offers_per_opening,
    )
