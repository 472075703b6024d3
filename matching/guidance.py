"""Guidance beyond a ranked list: the next step that opens the most vacancies for a
participant, and the requirement of a vacancy that keeps the most candidates out.

Both answers come from the same scoring core as the rankings. A hypothetical change (the
participant's German one level up, a vacancy's driving licence no longer required, ...)
is evaluated by copying one side's values, changing one value and calling
:func:`matching.factors.pair_arrays` once: that scores the changed participant against
every vacancy (or the changed vacancy against every participant) in one vectorised
pass. Skill changes are evaluated for all candidate skills at once from the sparse skill
matrices, without a pass per skill.

What counts as a *good match* (:func:`good_match_threshold`): a pair scoring at least
``good_match`` (0.5 by default), or one that would enter the current top
:data:`GOOD_MATCH_RANK` of the participant (or of the vacancy's candidates), but never a
pair scoring below :data:`GOOD_MATCH_FLOOR`. A change *opens* a vacancy (or a candidate)
when the pair passes every hard filter and is a good match after the change but was not
before; the threshold is fixed from the state before the change.

Insights for employers count only consenting and approved candidates, and counts under
:data:`MASK_BELOW` are shown as "weniger als 5" so that no one can be singled out.

See ``docs/GUIDANCE.md`` for the reasoning behind each step and its limits.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import scipy.sparse as sp

from matching.certificates import licence_mask
from matching.commute import SECTION_140_LIMIT_LONG, CommuteModel, section_140_limit
from matching.errors import InvalidInputError, NotFittedError
from matching.explain import sparse_row
from matching.factors import (
    OVERRIDABLE,
    PairArrays,
    Side,
    pair_arrays,
    reason_column,
    skills_factor,
)
from matching.index import IndexState, check_limit
from matching.language import NATIVE, level_name
from matching.schema import MODES

if TYPE_CHECKING:
    from matching.matcher import Matcher

__all__ = [
    "COMMUTE_STEP_MINUTES",
    "GOOD_MATCH",
    "GOOD_MATCH_FLOOR",
    "GOOD_MATCH_RANK",
    "HOURS_CEILING",
    "HOURS_FLEX_STEPS",
    "HOURS_STEP",
    "INSIGHT_KINDS",
    "LISTED_VACANCIES",
    "MASKED_DISPLAY_DE",
    "MASK_BELOW",
    "MAX_SKILL_INSIGHTS",
    "MAX_SKILL_STEPS",
    "STEP_KINDS",
    "Insight",
    "NextStep",
    "apply_overrides",
    "good_match_threshold",
    "next_steps",
    "override_cells",
    "requirement_insights",
]

#: Absolute score from which a pair counts as a good match.
GOOD_MATCH: Final = 0.5
#: A pair that would enter the current top this-many also counts as a good match ...
GOOD_MATCH_RANK: Final = 10
#: ... but never one scoring below this.
GOOD_MATCH_FLOOR: Final = 0.3
#: A longer own commute limit is suggested in steps of this many minutes (one way).
COMMUTE_STEP_MINUTES: Final = 15.0
#: More weekly hours are suggested in steps of this many hours ...
HOURS_STEP: Final = 10.0
#: ... up to a full-time week.
HOURS_CEILING: Final = 40.0
#: Employers' hours flexibility tried: the vacancy's hours plus or minus these.
HOURS_FLEX_STEPS: Final = (5.0, 10.0)
#: At most this many skill suggestions among a participant's next steps.
MAX_SKILL_STEPS: Final = 3
#: At most this many "essential skill made optional" insights for a vacancy.
MAX_SKILL_INSIGHTS: Final = 3
#: How many opened vacancies a next step lists by id.
LISTED_VACANCIES: Final = 5
#: Counts of candidates below this are not shown as numbers.
MASK_BELOW: Final = 5
MASKED_DISPLAY_DE: Final = "weniger als 5"

STEP_KINDS: Final = ("language", "skill", "driving_licence", "bike", "commute_limit", "hours")
INSIGHT_KINDS: Final = ("language", "driving_licence", "skill", "hours", "area")

_GERMAN: Final = "de"
_MODE_BIT: Final = {mode: np.uint8(1 << i) for i, mode in enumerate(MODES)}
_LICENCE_B: Final = np.uint32(licence_mask(["B"]))
_LANGUAGE_NAMES_DE: Final = {
    "de": "Deutsch", "en": "Englisch", "ar": "Arabisch", "tr": "Türkisch", "uk": "Ukrainisch",
    "ru": "Russisch", "pl": "Polnisch", "ro": "Rumänisch", "fa": "Persisch", "fr": "Französisch",
}  # fmt: skip


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class NextStep:
    """One change within a participant's reach and the vacancies it would open.

    Attributes
    ----------
    kind : str
        One of :data:`STEP_KINDS`.
    label_de : str
        The change in German, e.g. ``"Deutsch B1 → B2"``.
    detail : dict
        Machine-readable detail (the skill's URI and labels, the levels, minutes, hours).
    additional : int
        How many more vacancies would pass every hard filter and be good matches.
    vacancy_ids : list of str
        The best of those vacancies (by score after the change, ties by id).
    """

    kind: str
    label_de: str
    detail: dict[str, Any]
    additional: int
    vacancy_ids: list[str]

    @property
    def text_de(self) -> str:
        """One German line for the coach, e.g. ``"Deutsch B1 → B2: 14 weitere Stellen"``."""
        noun = "weitere Stelle" if self.additional == 1 else "weitere Stellen"
        return f"{self.label_de}: {self.additional} {noun}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the API's ``next-steps`` items)."""
        return {
            "kind": self.kind,
            "label_de": self.label_de,
            "text_de": self.text_de,
            "detail": self.detail,
            "additional": self.additional,
            "vacancy_ids": list(self.vacancy_ids),
        }


@dataclass(frozen=True)
class Insight:
    """One relaxable requirement of a vacancy and how many more candidates it would admit.

    Attributes
    ----------
    kind : str
        One of :data:`INSIGHT_KINDS`.
    label_de : str
        The relaxation in German, e.g. ``"Kein Führerschein erforderlich"``.
    detail : dict
        Machine-readable detail (levels, skill URI and labels, hours, minutes).
    additional : int or None
        How many more consenting and approved candidates would pass every filter and be
        good matches; ``None`` when that number is under :data:`MASK_BELOW`.
    count_display : str
        The count as shown: the number, or ``"weniger als 5"``.
    """

    kind: str
    label_de: str
    detail: dict[str, Any]
    additional: int | None
    count_display: str

    @property
    def text_de(self) -> str:
        """One German line for the employer."""
        return f"{self.label_de}: {self.count_display} weitere passende Kandidat:innen"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the API's ``insights`` items)."""
        return {
            "kind": self.kind,
            "label_de": self.label_de,
            "text_de": self.text_de,
            "detail": self.detail,
            "additional": self.additional,
            "count_display": self.count_display,
        }


# --------------------------------------------------------------------------- helpers


def _fitted_state(matcher: Matcher) -> IndexState:
    try:
        return matcher.state_
    except AttributeError:
        raise NotFittedError("the matcher has no index yet; call fit() first") from None


def _commute(matcher: Matcher) -> CommuteModel:
    if matcher.commute is None:
        raise NotFittedError("the matcher has no commute model yet; call fit() first")
    return matcher.commute


def _check_good_match(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidInputError(f"good_match must be a number in [0, 1], got {value!r}",
                                field="good_match")
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise InvalidInputError(f"good_match must be a number in [0, 1], got {number:g}",
                                field="good_match")
    return number


def good_match_threshold(
    scores: np.ndarray,
    eligible: np.ndarray,
    good_match: float = GOOD_MATCH,
    *,
    rank: int = GOOD_MATCH_RANK,
    floor: float = GOOD_MATCH_FLOOR,
) -> float:
    """The score from which a pair counts as a good match.

    ``max(floor, min(good_match, s_rank))`` where ``s_rank`` is the ``rank``-th best score
    among the eligible pairs (minus infinity when fewer are eligible): a pair is good when
    it scores ``good_match`` or would enter the current top ``rank``, never below
    ``floor``.

    Examples
    --------
    >>> s = np.array([0.9, 0.45, 0.2, 0.1])
    >>> good_match_threshold(s, np.ones(4, bool), rank=2)
    0.45
    >>> good_match_threshold(s, np.ones(4, bool), rank=10)
    0.3
    >>> good_match_threshold(np.array([0.9] * 12), np.ones(12, bool))
    0.5
    """
    values = scores[eligible]
    kth = -math.inf
    if len(values) >= rank:
        kth = float(np.partition(values, len(values) - rank)[len(values) - rank])
    return round(max(floor, min(good_match, kth)), 6)


def _top_ids(ids: np.ndarray, rows: np.ndarray, scores: np.ndarray, k: int) -> list[str]:
    """Ids of the ``k`` best ``rows`` by ``scores`` (aligned with ``rows``), ties by id."""
    if len(rows) == 0:
        return []
    order = np.lexsort((ids[rows].astype(str), -scores))[:k]
    return [str(ids[r]) for r in rows[order]]


def _with(side: Side, **changes: Any) -> Side:
    values = dict(side.values)
    values.update(changes)
    return Side(values)


def override_cells(
    state: IndexState, overrides: Iterable[tuple[str, str]]
) -> tuple[np.ndarray, np.ndarray]:
    """(reason column, vacancy row) of each override; unknown vacancy ids are ignored.

    Raises
    ------
    InvalidInputError
        A reason that cannot be overridden.
    """
    columns, rows = [], []
    position = state.vacancies.position
    for identifier, reason in overrides:
        if reason not in OVERRIDABLE:
            raise InvalidInputError(
                f"filter {reason!r} cannot be overridden; overridable filters: "
                + ", ".join(sorted(OVERRIDABLE)),
                field="reason",
            )
        row = position.get(str(identifier))
        if row is not None:
            columns.append(reason_column(reason))
            rows.append(row)
    return np.asarray(columns, dtype=np.int64), np.asarray(rows, dtype=np.int64)


def apply_overrides(pairs: PairArrays, cells: tuple[np.ndarray, np.ndarray]) -> PairArrays:
    """Clear the overridden filters in place: an overridden vacancy passes that filter."""
    pairs.reasons[cells] = False
    return pairs


def _language_name(code: str) -> str:
    return _LANGUAGE_NAMES_DE.get(code, code)


def _level_de(code: int) -> str:
    if code >= NATIVE:
        return "Muttersprache"
    return level_name(code) or "ohne Kenntnisse"


def _skill_label(matcher: Matcher, position: int) -> dict[str, Any]:
    concept = matcher.labels_.concept(int(position), "skill")
    return {"uri": concept["uri"], "label_de": concept["label_de"],
            "label_en": concept["label_en"]}


# ------------------------------------------------------------------- next steps


@dataclass(frozen=True)
class _Change:
    kind: str
    label_de: str
    detail: dict[str, Any]
    side: Side


def _participant_changes(p: Side) -> list[_Change]:
    """Single changes within a participant's reach, each as a changed participant side."""
    changes = []
    level = int(p.lang_level.get(_GERMAN, 0))
    if level < NATIVE - 1:  # C2 and native have no next level
        languages = dict(p.lang_level)
        languages[_GERMAN] = np.int8(level + 1)
        changes.append(_Change(
            "language", f"Deutsch {_level_de(level)} → {_level_de(level + 1)}",
            {"language": _GERMAN, "from": level_name(level), "to": level_name(level + 1)},
            _with(p, lang_level=languages),
        ))
    modes = np.uint8(p.modes)
    licence = np.uint32(p.licence)
    if not licence & _LICENCE_B:
        changes.append(_Change(
            "driving_licence", "Führerschein Klasse B (mit Auto)",
            {"class": "B", "car": True},
            _with(p, licence=np.uint32(licence | _LICENCE_B),
                  modes=np.uint8(modes | _MODE_BIT["car"])),
        ))
    if not modes & _MODE_BIT["bike"]:
        changes.append(_Change(
            "bike", "Fahrrad für den Arbeitsweg", {"mode": "bike"},
            _with(p, modes=np.uint8(modes | _MODE_BIT["bike"])),
        ))
    own = float(p.own_limit)
    if math.isfinite(own) and own < SECTION_140_LIMIT_LONG:
        new = min(own + COMMUTE_STEP_MINUTES, SECTION_140_LIMIT_LONG)
        changes.append(_Change(
            "commute_limit", f"Arbeitsweg bis {new:g} statt {own:g} Minuten",
            {"from_minutes": own, "to_minutes": new},
            _with(p, own_limit=np.float32(new)),
        ))
    hours_max = float(p.hours_max)
    if hours_max < HOURS_CEILING:
        new = min(hours_max + HOURS_STEP, HOURS_CEILING)
        changes.append(_Change(
            "hours", f"Bis {new:g} statt {hours_max:g} Wochenstunden",
            {"from_hours_max": hours_max, "to_hours_max": new},
            _with(p, hours_max=np.float32(new)),
        ))
    return changes


def _skill_steps(
    matcher: Matcher,
    state: IndexState,
    row: int,
    weak: np.ndarray,
    factors: np.ndarray,
    threshold: float,
) -> list[NextStep]:
    """Skill acquisitions, all candidate skills at once.

    For every vacancy that passes the filters but is not a good match, and every skill it
    lists that the participant lacks (credit below 1), the skills factor is recomputed
    with that one skill held; the pair's other factors stay. One scorer call scores all
    (vacancy, skill) entries; counts per skill are a ``bincount``.
    """
    vb = state.vacancies.block
    rows = np.flatnonzero(weak)
    if len(rows) == 0:
        return []
    expanded = state.participants.block.skills_expanded
    credit = np.zeros(expanded.shape[1], dtype=np.float32)
    columns, values = sparse_row(expanded, row)
    credit[columns] = values
    essential = vb.essential[rows]
    optional = vb.optional[rows]
    ess_cover = essential @ credit
    opt_cover = optional @ credit
    entry_rows, entry_skills, entry_ess = [], [], []
    for matrix, is_essential in ((essential.tocoo(), True), (optional.tocoo(), False)):
        lacking = credit[matrix.col] < 1.0
        entry_rows.append(matrix.row[lacking])
        entry_skills.append(matrix.col[lacking])
        entry_ess.append(np.full(int(lacking.sum()), is_essential))
    local = np.concatenate(entry_rows)
    skills = np.concatenate(entry_skills)
    is_ess = np.concatenate(entry_ess)
    if len(local) == 0:
        return []
    gain = 1.0 - credit[skills]
    new_skills = skills_factor(
        ess_cover[local] + np.where(is_ess, gain, 0.0),
        vb.n_essential[rows][local],
        opt_cover[local] + np.where(is_ess, 0.0, gain),
        vb.n_optional[rows][local],
    )
    entry_factors = factors[:, rows[local]].T.copy()
    entry_factors[:, 0] = new_skills
    new_scores = matcher.scorer_.score(entry_factors)
    hit = new_scores >= threshold
    if not hit.any():
        return []
    counts = np.bincount(skills[hit], minlength=expanded.shape[1])
    candidates = np.flatnonzero(counts)
    # Most vacancies opened first; ties by skill URI so the order is reproducible.
    uris = np.array([matcher.labels_.concept(int(s), "skill")["uri"] for s in candidates])
    order = np.lexsort((uris, -counts[candidates]))[:MAX_SKILL_STEPS]
    steps = []
    ids = vb.ids
    for s in candidates[order]:
        mine = hit & (skills == s)
        concept = _skill_label(matcher, int(s))
        name = concept["label_de"] or concept["label_en"]
        steps.append(NextStep(
            kind="skill",
            label_de=f"Neue Kenntnis: {name}",
            detail=concept,
            additional=int(counts[s]),
            vacancy_ids=_top_ids(ids, rows[local[mine]], new_scores[mine], LISTED_VACANCIES),
        ))
    return steps


def next_steps(
    matcher: Matcher,
    participant_id: str,
    *,
    limit: int = 5,
    good_match: float = GOOD_MATCH,
    overrides: Iterable[tuple[str, str]] = (),
) -> list[NextStep]:
    """The single changes within a participant's reach that open the most vacancies.

    Changes tried: German one level up; one skill the participant lacks (every skill
    listed by a vacancy that passes the filters but is not yet a good match; at most
    :data:`MAX_SKILL_STEPS` reported); a driving licence of class B with a car (when no
    licence covering B is held); a bike (when not among the modes); the own commute
    limit :data:`COMMUTE_STEP_MINUTES` longer, up to the §140 SGB III maximum of 75
    minutes (when an own limit below it is set); :data:`HOURS_STEP` more weekly hours up
    to :data:`HOURS_CEILING`.

    Parameters
    ----------
    matcher : Matcher
        A fitted matcher.
    participant_id : str
    limit : int, default 5
        How many suggestions to return.
    good_match : float, default 0.5
        Absolute score of a good match (see :func:`good_match_threshold`).
    overrides : iterable of (vacancy_id, reason)
        Filters the coach overrode for this participant, as for
        :meth:`Matcher.match_participant`: an overridden vacancy counts as passing that
        filter before and after every change (so a step never claims to open a vacancy
        the coach already opened by hand). Unknown vacancy ids are ignored.

    Returns
    -------
    list of NextStep
        Changes that open at least one vacancy, most vacancies first (ties in the order
        of :data:`STEP_KINDS`, then by label).

    Raises
    ------
    UnknownIdError
        The participant is not in the index.
    InvalidInputError
        ``limit`` or ``good_match`` out of range, or an override of a filter that cannot
        be overridden.

    Notes
    -----
    A skill is credited alone: the related-skill credit it would add through the ESCO
    graph and the occupations it would imply are not recomputed, so skill counts are a
    lower bound.
    """
    limit = check_limit(limit)
    good_match = _check_good_match(good_match)
    state = _fitted_state(matcher)
    cells = override_cells(state, overrides)
    row, pairs = matcher.pairs_for_participant(participant_id, state=state)
    apply_overrides(pairs, cells)
    vt = state.vacancies
    scorer = matcher.scorer_
    scores = scorer.score(pairs.factors.T)
    passing = pairs.passing & vt.alive
    threshold = good_match_threshold(scores, passing, good_match)
    good = passing & (scores >= threshold)
    p = state.participant_side(row)
    v = state.vacancy_side(slice(None))
    n = len(vt.block)
    languages = list(state.languages)
    steps: list[NextStep] = []
    for change in _participant_changes(p):
        new = pair_arrays(change.side, v, skills=pairs.factors[0], languages=languages,
                          commute=_commute(matcher), n=n, employer_view=False)
        apply_overrides(new, cells)
        new_scores = scorer.score(new.factors.T)
        opened = np.flatnonzero(new.passing & vt.alive & (new_scores >= threshold) & ~good)
        if len(opened) == 0:
            continue
        steps.append(NextStep(
            kind=change.kind,
            label_de=change.label_de,
            detail=change.detail,
            additional=len(opened),
            vacancy_ids=_top_ids(vt.block.ids, opened, new_scores[opened], LISTED_VACANCIES),
        ))
    steps += _skill_steps(matcher, state, row, passing & ~good, pairs.factors, threshold)
    kind_order = {kind: i for i, kind in enumerate(STEP_KINDS)}
    steps.sort(key=lambda s: (-s.additional, kind_order[s.kind], s.label_de))
    return steps[:limit]


# ------------------------------------------------------------------- insights


def _display(count: int) -> tuple[int | None, str]:
    if count < MASK_BELOW:
        return None, MASKED_DISPLAY_DE
    return count, str(count)


def _vacancy_changes(state: IndexState, row: int, v: Side, p: Side) -> list[_Change]:
    """Relaxations of one vacancy's requirements, each as a changed side.

    The area change alters the participant side (their own limits), every other change
    the vacancy side; :class:`_Change.detail` carries ``"side"`` to say which.
    """
    vb = state.vacancies.block
    changes = []
    for language, levels in sorted(vb.lang_required.items()):
        level = int(levels[row])
        if level <= 0:
            continue
        required = dict(v.lang_required)
        required[language] = np.int8(level - 1)
        name = _language_name(language)
        label = (f"{name} {level_name(level - 1)} statt {level_name(level)}" if level > 1
                 else f"Ohne {name}-Anforderung statt {level_name(level)}")
        changes.append(_Change(
            "language", label,
            {"language": language, "from": level_name(level), "to": level_name(level - 1),
             "side": "vacancy"},
            _with(v, lang_required=required),
        ))
    if int(v.licence) != 0:
        changes.append(_Change(
            "driving_licence", "Kein Führerschein erforderlich",
            {"side": "vacancy"}, _with(v, licence=np.uint32(0)),
        ))
    hours = float(vb.hours[row])
    days = float(vb.days[row])
    for step in HOURS_FLEX_STEPS:
        low, high = max(hours - step, 1.0), hours + step
        # Each candidate works the hours in the vacancy's wider range closest to what
        # the vacancy asks and within their own range; the §140 cap follows those hours.
        worked = np.clip(np.clip(hours, p.hours_min, p.hours_max), low, high)
        worked = worked.astype(np.float32)
        changes.append(_Change(
            "hours", f"Arbeitszeit flexibel: {low:g}–{high:g} statt {hours:g} Wochenstunden",
            {"from_hours": hours, "min_hours": low, "max_hours": high, "side": "vacancy"},
            _with(v, hours=worked, commute_cap=section_140_limit(worked / days)),
        ))
    changes.append(_Change(
        "area",
        f"Weiteres Einzugsgebiet: bis {COMMUTE_STEP_MINUTES:g} Minuten mehr Arbeitsweg "
        "(innerhalb § 140 SGB III)",
        {"extra_minutes": COMMUTE_STEP_MINUTES, "side": "participant"},
        _with(p, own_limit=p.own_limit + np.float32(COMMUTE_STEP_MINUTES)),
    ))
    return changes


def _skill_insights(
    matcher: Matcher,
    state: IndexState,
    row: int,
    passing: np.ndarray,
    good: np.ndarray,
    factors: np.ndarray,
    threshold: float,
) -> list[tuple[int, _Change]]:
    """Each essential skill made optional, for all passing candidates at once."""
    vb = state.vacancies.block
    essential, _ = sparse_row(vb.essential, row)
    optional, _ = sparse_row(vb.optional, row)
    rows = np.flatnonzero(passing & ~good)
    if len(essential) == 0:
        return []
    csc = state.participants.expanded_csc
    held = sp.csr_matrix(csc[:, essential])[rows].toarray()  # (r, k) credit
    ess_cover = held.sum(axis=1, keepdims=True)
    opt_cover = (np.asarray(sp.csr_matrix(csc[:, optional])[rows].sum(axis=1))
                 if len(optional) else np.zeros((len(rows), 1), dtype=np.float32))
    n_ess = float(vb.n_essential[row])
    n_opt = float(vb.n_optional[row])
    new_skills = skills_factor(ess_cover - held, np.asarray(n_ess - 1, dtype=np.float32),
                               opt_cover + held, np.asarray(n_opt + 1, dtype=np.float32))
    k = len(essential)
    entry = np.repeat(factors[:, rows].T, k, axis=0)
    entry[:, 0] = new_skills.ravel()
    new_scores = matcher.scorer_.score(entry).reshape(len(rows), k)
    counts = (new_scores >= threshold).sum(axis=0)
    labels = [_skill_label(matcher, int(s)) for s in essential]
    uris = np.array([c["uri"] for c in labels])
    order = np.lexsort((uris, -counts))[:MAX_SKILL_INSIGHTS]
    result = []
    for j in order:
        concept = labels[int(j)]
        name = concept["label_de"] or concept["label_en"]
        result.append((int(counts[j]), _Change(
            "skill", f"{name}: wünschenswert statt erforderlich", {**concept, "side": "vacancy"},
            Side({}),
        )))
    return result


def requirement_insights(
    matcher: Matcher,
    vacancy_id: str,
    *,
    good_match: float = GOOD_MATCH,
) -> list[Insight]:
    """Which of a vacancy's requirements keeps the most candidates out.

    Relaxations tried, one at a time: each required language one level lower; no driving
    licence required; one essential skill made optional (the
    :data:`MAX_SKILL_INSIGHTS` that admit the most); the weekly hours flexible by
    ±5 and ±10 hours; a wider area, i.e. candidates accepting up to
    :data:`COMMUTE_STEP_MINUTES` more minutes than their own limit (for instance with a
    travel allowance or a start time that suits the bus), never beyond the §140 SGB III
    cap, which no employer can waive.

    Parameters
    ----------
    matcher : Matcher
        A fitted matcher.
    vacancy_id : str
    good_match : float, default 0.5
        Absolute score of a good match (see :func:`good_match_threshold`, applied to
        the vacancy's candidates).

    Returns
    -------
    list of Insight
        Every applicable relaxation; those with shown counts first (largest first), then
        the masked ones, each group in the order of :data:`INSIGHT_KINDS` (then in the
        order tried). Only consenting
        and approved candidates are counted; counts under :data:`MASK_BELOW` are masked.

    Raises
    ------
    UnknownIdError
        The vacancy is not in the index.
    InvalidInputError
        ``good_match`` out of range.
    """
    good_match = _check_good_match(good_match)
    state = _fitted_state(matcher)
    row, pairs = matcher.pairs_for_vacancy(vacancy_id, employer_view=True, state=state)
    pt = state.participants
    scorer = matcher.scorer_
    scores = scorer.score(pairs.factors.T)
    scope = pt.alive
    passing = pairs.passing & scope
    threshold = good_match_threshold(scores, passing, good_match)
    good = passing & (scores >= threshold)
    v = state.vacancy_side(row)
    p = state.participant_side(slice(None))
    m = len(pt.block)
    results: list[tuple[int, _Change]] = []
    for change in _vacancy_changes(state, row, v, p):
        on_participants = change.detail["side"] == "participant"
        new_v = v if on_participants else change.side
        new_p = change.side if on_participants else p
        languages = [k for k, levels in new_v.lang_required.items() if levels > 0]
        new = pair_arrays(new_p, new_v, skills=pairs.factors[0], languages=languages,
                          commute=_commute(matcher), n=m, employer_view=True)
        new_scores = scorer.score(new.factors.T)
        opened = new.passing & scope & (new_scores >= threshold) & ~good
        results.append((int(opened.sum()), change))
    results += _skill_insights(matcher, state, row, passing, good, pairs.factors, threshold)
    kind_order = {kind: i for i, kind in enumerate(INSIGHT_KINDS)}
    keyed = []
    for position, (count, change) in enumerate(results):
        shown, display = _display(count)
        detail = {k: val for k, val in change.detail.items() if k != "side"}
        # Masked counts are not ordered among themselves by their hidden size: masked
        # skills go by label, everything else in the fixed order tried.
        if shown is not None:
            key: tuple[Any, ...] = (0, -count, kind_order[change.kind], "", position)
        else:
            label = change.label_de if change.kind == "skill" else ""
            key = (1, 0, kind_order[change.kind], label, position)
        keyed.append((key, Insight(change.kind, change.label_de, detail, shown, display)))
    keyed.sort(key=lambda pair: pair[0])
    return [insight for _, insight in keyed]

