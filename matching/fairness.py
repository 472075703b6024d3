"""Fairness aggregates: who reaches employers' shortlists, and whose outcomes were positive.

Monitoring attributes (sex, age band, nationality group, disability) are optional, kept in
a separate table keyed by participant (pseudonym), and never scoring inputs. This module
only ever reports aggregates of them, and suppresses every group of fewer than
:data:`MIN_GROUP_SIZE` people (its figures become ``None`` and ``suppressed`` is True).

Three audits:

* :func:`exposure_by_group` — of the pairs that pass the hard filters, the share that
  reaches the top ``k`` of the vacancy's candidate list (the *selection rate*), per group,
  and the share of the group's people who appear in at least one top-``k`` list; the
  *impact ratio* of a group is its selection rate over that of the most-favoured group
  (below :data:`IMPACT_THRESHOLD` flags the model for review — a review trigger, not a
  legal test). The selection rate is taken among eligible pairs because the hard filters
  are the vacancies' stated requirements, shown to the coach and overridable: what a model
  swap can change is the ranking among the eligible.
* :func:`label_rates_by_group` — positive-outcome rates per group in the training data:
  employers' own decisions can carry bias that a model would learn.
* :func:`employer_label_audit` — the same per employer, with a one-sided Fisher exact test
  of each group against the rest of that employer's pairs and a Holm correction over all
  tests, so one employer who turns away a group stands out of the noise.

The home quarter is audited the same way as a possible proxy: pass a table with a
``quarter`` column and ``columns=("quarter",)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from matching.errors import InvalidInputError, NotFittedError
from matching.matcher import Matcher
from matching.ranking import top_k
from matching.schema import FACTORS, P, V
from matching.scoring import Scorer
from matching.training import T, flatten_metrics

__all__ = [
    "IMPACT_THRESHOLD",
    "MIN_AUDIT_PEOPLE",
    "MIN_GROUP_SIZE",
    "MONITORING_ATTRIBUTES",
    "NOT_STATED",
    "candidate_metrics",
    "employer_label_audit",
    "exposure_by_group",
    "fairness_metrics",
    "label_rates_by_group",
    "shortlist_exposure",
]

#: Optional monitoring attributes (never scoring inputs).
MONITORING_ATTRIBUTES: Final = ("sex", "age_band", "nationality_group", "disability")
#: Groups of fewer people are suppressed in every output.
MIN_GROUP_SIZE: Final = 5
#: An impact ratio below this flags a group for review (the "four-fifths" trigger).
IMPACT_THRESHOLD: Final = 0.8
#: Group label of a participant without a stated value (never the reference group).
NOT_STATED: Final = "(not stated)"
#: Groups of fewer people are shown but do not enter the summary impact ratio the
#: promotion gate reads: their rates move too much with one or two people.
MIN_AUDIT_PEOPLE: Final = 20
_DECISIONS: Final = ("interview", "hired", "rejected")


def shortlist_exposure(
    matcher: Matcher,
    scorer: Scorer | None = None,
    *,
    k: int = 10,
    employer_view: bool = True,
    vacancy_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Every eligible (vacancy, participant) pair and whether it reaches the top ``k``.

    The matcher's index is read, never changed: ``scorer`` ranks the candidates in place
    of the matcher's own (so a candidate model is audited before it is activated).

    Parameters
    ----------
    matcher : Matcher
        A fitted matcher.
    scorer : Scorer, optional
        The scorer to audit; the matcher's current one when omitted.
    k : int, default 10
        Length of a shortlist.
    employer_view : bool, default True
        Apply the consent and approval filters, as an employer's shortlist does.
    vacancy_ids : iterable of str, optional
        Restrict to these vacancies (default: every open vacancy in the index).

    Returns
    -------
    pandas.DataFrame
        ``vacancy_id, participant_id, rank`` (1..k, 0 when not in the top ``k``) and
        ``selected`` (``rank > 0``), one row per pair passing every hard filter.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidInputError(f"k must be a positive integer, got {k!r}", field="k")
    if not hasattr(matcher, "state_"):
        raise NotFittedError("the matcher has no index yet; call fit() first")
    state = matcher.state_
    scorer = scorer if scorer is not None else matcher.scorer_
    participant_ids = state.participants.block.ids
    alive = state.participants.alive
    if vacancy_ids is None:
        vt = state.vacancies
        rows = np.flatnonzero(vt.alive)
        vacancy_ids = [str(vt.block.ids[r]) for r in rows]
    frames = []
    for vid in vacancy_ids:
        _, pairs = matcher.pairs_for_vacancy(str(vid), employer_view=employer_view, state=state)
        eligible = pairs.passing & alive
        if not eligible.any():
            continue
        scores = scorer.score(pairs.factors.T)
        chosen = top_k(scores, eligible, participant_ids, k)
        rank = np.zeros(len(eligible), dtype=np.int64)
        rank[chosen] = np.arange(1, len(chosen) + 1)
        where = np.flatnonzero(eligible)
        frames.append(pd.DataFrame({
            V.ID: str(vid),
            P.ID: participant_ids[where].astype(str),
            "rank": rank[where],
        }))
    if not frames:
        frame = pd.DataFrame({V.ID: [], P.ID: [], "rank": np.zeros(0, np.int64)})
    else:
        frame = pd.concat(frames, ignore_index=True)
    frame["selected"] = frame["rank"] > 0
    return frame


def _attribute_frame(
    attributes: pd.DataFrame, key: str, columns: Sequence[str]
) -> pd.DataFrame:
    if not isinstance(attributes, pd.DataFrame):
        raise InvalidInputError("attributes must be a pandas DataFrame", field="attributes")
    missing = [c for c in (key, *columns) if c not in attributes.columns]
    if missing:
        raise InvalidInputError(
            f"attributes lacks the column(s) {', '.join(missing)}", field="attributes"
        )
    if attributes[key].duplicated().any():
        raise InvalidInputError(f"attributes repeats a {key}; one row per person",
                                field="attributes")
    out = attributes[[key, *columns]].copy()
    for column in columns:
        values = out[column].astype(object)
        out[column] = values.where(values.notna(), NOT_STATED).astype(str)
    return out


def _finish(frame: pd.DataFrame, rate: str, min_group_size: int, threshold: float,
            numbers: Sequence[str], within: Sequence[str] = ("attribute",)) -> pd.DataFrame:
    """Suppress small groups, then impact ratios against the best stated group."""
    frame["suppressed"] = frame["people"] < min_group_size
    stated = ~frame["suppressed"] & (frame["group"] != NOT_STATED)
    best = frame[rate].where(stated).groupby([frame[c] for c in within]).transform("max")
    ratio = frame[rate] / best
    frame["impact_ratio"] = ratio.where(stated & (best > 0))
    frame["flagged"] = (frame["impact_ratio"] < threshold).fillna(False).astype(bool)
    for column in (*numbers, "people", "impact_ratio"):
        frame[column] = frame[column].astype(object).where(
            ~frame["suppressed"] & frame[column].notna(), None)
    return frame.reset_index(drop=True)


def _check_threshold(min_group_size: int, threshold: float) -> None:
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int) or (
        min_group_size < 1
    ):
        raise InvalidInputError(
            f"min_group_size must be a positive integer, got {min_group_size!r}",
            field="min_group_size",
        )
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not (
        0 < threshold <= 1
    ):
        raise InvalidInputError(f"threshold must be in (0, 1], got {threshold!r}",
                                field="threshold")


def exposure_by_group(
    exposure: pd.DataFrame,
    attributes: pd.DataFrame,
    *,
    key: str = P.ID,
    columns: Sequence[str] = MONITORING_ATTRIBUTES,
    min_group_size: int = MIN_GROUP_SIZE,
    threshold: float = IMPACT_THRESHOLD,
    n_boot: int = 400,
    level: float = 0.9,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Shortlist exposure per group of each attribute.

    Parameters
    ----------
    exposure : pandas.DataFrame
        From :func:`shortlist_exposure` (``participant_id``, ``selected``); ``key`` names
        its participant column.
    attributes : pandas.DataFrame
        One row per person: ``key`` and the attribute ``columns``. People absent from it
        are left out; a missing value is the group :data:`NOT_STATED`.
    key : str, default "participant_id"
    columns : sequence of str, default :data:`MONITORING_ATTRIBUTES`
    min_group_size : int, default 5
    threshold : float, default 0.8
    n_boot : int, default 400
        Bootstrap resamples for the interval of each impact ratio.
    level : float, default 0.9
        Coverage of that interval.
    random_state : int or None, default 0
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        ``attribute, group, people`` (in the eligible pool), ``eligible_pairs,
        selected_pairs, selection_rate, appearance_share`` (share of the group's people
        in at least one top-``k`` list), ``impact_ratio`` (selection rate over the best
        stated group's), ``impact_ratio_low`` and ``impact_ratio_high`` (a bootstrap
        interval that resamples the group's people, their pairs together: how much the
        ratio could move with other people of the same kind), ``flagged`` (on the point
        estimate), ``suppressed``.

    Examples
    --------
    >>> exposure = pd.DataFrame({"participant_id": list("abcdefghij") * 2,
    ...                          "selected": [True] * 10 + [True] * 5 + [False] * 5})
    >>> groups = pd.DataFrame({"participant_id": list("abcdefghij"),
    ...                        "sex": ["female"] * 5 + ["male"] * 5})
    >>> out = exposure_by_group(exposure, groups, columns=("sex",))
    >>> out[["group", "selection_rate", "impact_ratio", "flagged"]]
        group selection_rate impact_ratio  flagged
    0  female            1.0          1.0    False
    1    male            0.5          0.5     True
    """
    _check_threshold(min_group_size, threshold)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise InvalidInputError(f"n_boot must be a positive integer, got {n_boot!r}",
                                field="n_boot")
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level < 1:
        raise InvalidInputError(f"level must be in (0, 1), got {level!r}", field="level")
    if key not in exposure.columns or "selected" not in exposure.columns:
        raise InvalidInputError(f"exposure needs the columns {key} and selected",
                                field="exposure")
    people = _attribute_frame(attributes, key, columns)
    pairs = exposure[[key, "selected"]].merge(people, on=key, how="inner")
    per_person = pairs.groupby(key, sort=False).agg(
        eligible=("selected", "size"), selected=("selected", "sum"))
    per_person = per_person.join(people.set_index(key))
    rows = []
    for column in columns:
        grouped = per_person.groupby(column, sort=True)
        summary = pd.DataFrame({
            "people": grouped.size(),
            "eligible_pairs": grouped["eligible"].sum(),
            "selected_pairs": grouped["selected"].sum(),
            "appearing": grouped["selected"].apply(lambda s: int((s > 0).sum())),
        })
        summary["selection_rate"] = summary["selected_pairs"] / summary["eligible_pairs"]
        summary["appearance_share"] = summary["appearing"] / summary["people"]
        summary = summary.drop(columns="appearing").reset_index(names="group")
        summary.insert(0, "attribute", column)
        rows.append(summary)
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["attribute", "group", "people", "eligible_pairs", "selected_pairs",
                 "selection_rate", "appearance_share"])
    frame = _finish(frame, "selection_rate", min_group_size, threshold,
                    ("eligible_pairs", "selected_pairs", "selection_rate", "appearance_share"))
    low, high = _ratio_intervals(frame, per_person, n_boot=n_boot, level=level,
                                 random_state=random_state)
    position = frame.columns.get_loc("impact_ratio") + 1
    frame.insert(position, "impact_ratio_high", high)
    frame.insert(position, "impact_ratio_low", low)
    return frame


def _ratio_intervals(
    frame: pd.DataFrame, per_person: pd.DataFrame, *, n_boot: int, level: float,
    random_state: int | None,
) -> tuple[list[float | None], list[float | None]]:
    """Bootstrap intervals of the impact ratios, resampling people within each group.

    A person's pairs stay together (they are not independent draws); each group keeps its
    size; the reference is the group with the best observed rate.
    """
    rng = np.random.default_rng(random_state)
    low: list[float | None] = [None] * len(frame)
    high: list[float | None] = [None] * len(frame)
    tail = (1.0 - level) / 2.0
    for attribute, rows in frame.groupby("attribute", sort=False):
        ratios = pd.to_numeric(rows["impact_ratio"], errors="coerce")
        if ratios.notna().sum() == 0:
            continue
        reference = rows.loc[pd.to_numeric(rows["selection_rate"], errors="coerce")
                             .where(ratios.notna()).idxmax(), "group"]
        draws = {}
        for i in rows.index[ratios.notna()]:
            members = per_person.loc[per_person[attribute] == rows.at[i, "group"]]
            eligible = members["eligible"].to_numpy(dtype=np.float64)
            selected = members["selected"].to_numpy(dtype=np.float64)
            pick = rng.integers(0, len(members), size=(n_boot, len(members)))
            draws[i] = selected[pick].sum(axis=1) / eligible[pick].sum(axis=1)
        ref_index = rows.index[rows["group"] == reference][0]
        for i, rate in draws.items():
            boot = rate / draws[ref_index]
            boot = boot[np.isfinite(boot)]
            if i == ref_index or len(boot) == 0:
                low[i] = high[i] = 1.0 if i == ref_index else None
                continue
            low[i] = float(np.quantile(boot, tail))
            high[i] = float(np.quantile(boot, 1.0 - tail))
    return low, high


def label_rates_by_group(
    table: pd.DataFrame,
    attributes: pd.DataFrame,
    *,
    key: str = T.PARTICIPANT,
    columns: Sequence[str] = MONITORING_ATTRIBUTES,
    min_group_size: int = MIN_GROUP_SIZE,
    threshold: float = IMPACT_THRESHOLD,
) -> pd.DataFrame:
    """Positive-outcome rates per group in a training table.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`matching.training.build_training_table`.
    attributes : pandas.DataFrame
        One row per person, keyed by ``key`` (the pseudonym by default).

    Returns
    -------
    pandas.DataFrame
        ``attribute, group, people, pairs, positive_rate`` (relevance > 0),
        ``hire_rate``, ``mean_relevance``, ``impact_ratio`` (positive rate over the best
        stated group's), ``flagged``, ``suppressed``.
    """
    _check_threshold(min_group_size, threshold)
    for column in (key, T.RELEVANCE):
        if column not in table.columns:
            raise InvalidInputError(f"table lacks the column {column}", field="table")
    people = _attribute_frame(attributes, key, columns)
    pairs = table[[key, T.RELEVANCE]].merge(people, on=key, how="inner")
    pairs["positive"] = pairs[T.RELEVANCE] > 0
    pairs["hired"] = pairs[T.RELEVANCE] >= 3
    rows = []
    for column in columns:
        grouped = pairs.groupby(column, sort=True)
        summary = pd.DataFrame({
            "people": grouped[key].nunique(),
            "pairs": grouped.size(),
            "positive_rate": grouped["positive"].mean(),
            "hire_rate": grouped["hired"].mean(),
            "mean_relevance": grouped[T.RELEVANCE].mean(),
        }).reset_index(names="group")
        summary.insert(0, "attribute", column)
        rows.append(summary)
    frame = pd.concat(rows, ignore_index=True)
    return _finish(frame, "positive_rate", min_group_size, threshold,
                   ("pairs", "positive_rate", "hire_rate", "mean_relevance"))


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values."""
    n = len(p)
    if n == 0:
        return p
    order = np.argsort(p)
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (n - np.arange(n))))
    out = np.empty(n)
    out[order] = adjusted
    return out


def _poisson_binomial_cdf(probabilities: np.ndarray, k: int) -> float:
    """P(X <= k) for X a sum of independent Bernoulli draws with these probabilities."""
    dist = np.zeros(len(probabilities) + 1)
    dist[0] = 1.0
    for p in probabilities:
        dist[1:] = dist[1:] * (1.0 - p) + dist[:-1] * p
        dist[0] *= 1.0 - p
    return float(min(1.0, dist[: k + 1].sum()))


def _expected_acceptance(pairs: pd.DataFrame) -> np.ndarray:
    """Each decision's chance of acceptance from its factors and its employer's level.

    A logistic model of acceptance on the five factors over every employer's decisions
    gives each decision's log-odds; each employer's log-odds are then shifted by one
    constant so that its expected acceptances add up to its actual ones. What is left for
    a group is how it fared against the employer's other decisions, pair fit accounted for.
    """
    accepted = pairs["accepted"].to_numpy(dtype=bool)
    if len(pairs) == 0:
        return np.zeros(0)
    if accepted.all() or not accepted.any() or not all(f in pairs.columns for f in FACTORS):
        logits = np.zeros(len(pairs))
    else:
        X = pairs[list(FACTORS)].astype(float)
        X = X.fillna(X.mean()).fillna(0.0).to_numpy()
        logits = LogisticRegression(C=1.0).fit(X, accepted).decision_function(X)
    expected = np.empty(len(pairs))
    for rows in pairs.groupby(V.EMPLOYER_ID, sort=False).indices.values():
        target, base = accepted[rows].sum(), logits[rows]
        if target == 0 or target == len(rows):  # all rejected or all accepted: no contrast
            expected[rows] = target / len(rows)
            continue
        shift = brentq(lambda d, b=base, t=target: expit(b + d).sum() - t, -50.0, 50.0)
        expected[rows] = expit(base + shift)
    return expected


def employer_label_audit(
    table: pd.DataFrame,
    attributes: pd.DataFrame,
    vacancies: pd.DataFrame,
    *,
    key: str = T.PARTICIPANT,
    columns: Sequence[str] = MONITORING_ATTRIBUTES,
    min_group_size: int = MIN_GROUP_SIZE,
    threshold: float = IMPACT_THRESHOLD,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Each employer's own decisions per group, with a test against the rest.

    An employer decides on an application: it invites (``interview``, and then perhaps
    ``hired``) or rejects (``rejected``; in the outcome vocabulary only employers reject).
    Whether a pair is accepted also depends on how well it fits (a long commute is turned
    down more often, whoever makes it), so each decision's *expected* acceptance comes
    from a logistic model of acceptance on the five factors (as first shown) over every
    employer's decisions, shifted per employer by one constant on the log-odds so that the
    employer's expected acceptances add up to its actual ones: a group is compared with
    the employer's other decisions, pair fit accounted for. For each employer, attribute
    and stated group with at least ``min_group_size`` people among the employer's decided
    pairs, the group's accepted decisions are compared with that expectation: the
    one-sided p-value is the chance of so few under independent draws with the predicted
    probabilities (Poisson-binomial). The p-values are Holm-adjusted over every test. A
    cell is ``flagged`` when its *adjusted ratio* (accepted over expected) is below
    ``threshold`` and the adjusted p-value is below ``alpha``: one employer who turns a
    group away beyond what the factors explain stands out of the noise of many small
    employers, while a group that is turned down for long commutes is not blamed on the
    employer. (Without factor columns the expectation is the overall acceptance rate.)

    Parameters
    ----------
    table : pandas.DataFrame
        A training table (``vacancy_id``, ``status`` and ``key``).
    attributes : pandas.DataFrame
        One row per person, keyed by ``key``.
    vacancies : pandas.DataFrame
        ``vacancy_id, employer_id``.

    Returns
    -------
    pandas.DataFrame
        ``employer_id, attribute, group, people, decisions, acceptance_rate,
        expected_rate`` (from the factors), ``adjusted_ratio`` (acceptance over expected),
        ``rest_rate`` (the employer's other decisions), ``impact_ratio`` (acceptance rate
        over the employer's best stated group's), ``p_value, p_adjusted, flagged,
        suppressed``; small cells suppressed.
    """
    _check_threshold(min_group_size, threshold)
    for column in (V.ID, V.EMPLOYER_ID):
        if column not in vacancies.columns:
            raise InvalidInputError(f"vacancies lacks the column {column}", field="vacancies")
    for column in (key, V.ID, T.STATUS):
        if column not in table.columns:
            raise InvalidInputError(f"table lacks the column {column}", field="table")
    people = _attribute_frame(attributes, key, columns)
    employer = vacancies[[V.ID, V.EMPLOYER_ID]].astype(str).drop_duplicates(V.ID)
    factors = [f for f in FACTORS if f in table.columns]
    decided = table.loc[table[T.STATUS].isin(_DECISIONS), [key, V.ID, T.STATUS, *factors]]
    pairs = decided.merge(employer, on=V.ID, how="inner").merge(people, on=key, how="inner")
    pairs["accepted"] = pairs[T.STATUS] != "rejected"
    pairs["expected"] = _expected_acceptance(pairs)
    rows = []
    for column in columns:
        grouped = pairs.groupby([V.EMPLOYER_ID, column], sort=True)
        cell = pd.DataFrame({
            "people": grouped[key].nunique(),
            "decisions": grouped.size(),
            "accepted": grouped["accepted"].sum(),
            "expected": grouped["expected"].sum(),
            "probabilities": grouped["expected"].apply(lambda x: x.to_numpy()),
        }).reset_index().rename(columns={column: "group"})
        totals = cell.groupby(V.EMPLOYER_ID)[["decisions", "accepted"]].transform("sum")
        cell["rest_decisions"] = totals["decisions"] - cell["decisions"]
        cell["rest_accepted"] = totals["accepted"] - cell["accepted"]
        cell.insert(1, "attribute", column)
        rows.append(cell)
    frame = pd.concat(rows, ignore_index=True)
    frame["acceptance_rate"] = frame["accepted"] / frame["decisions"]
    frame["expected_rate"] = frame["expected"] / frame["decisions"]
    frame["adjusted_ratio"] = (frame["accepted"] / frame["expected"]).where(
        frame["expected"] > 0)
    frame["rest_rate"] = (frame["rest_accepted"] / frame["rest_decisions"]).where(
        frame["rest_decisions"] > 0)
    testable = ((frame["people"] >= min_group_size) & (frame["group"] != NOT_STATED)
                & (frame["expected"] > 0)).to_numpy()
    p_value = np.full(len(frame), np.nan)
    for i in np.flatnonzero(testable):
        p_value[i] = _poisson_binomial_cdf(frame.at[i, "probabilities"],
                                           int(frame.at[i, "accepted"]))
    adjusted = np.full(len(frame), np.nan)
    adjusted[testable] = _holm(p_value[testable])
    frame["p_value"] = p_value
    frame["p_adjusted"] = adjusted
    below = (pd.to_numeric(frame["adjusted_ratio"], errors="coerce") < threshold).to_numpy()
    significant = (pd.to_numeric(frame["p_adjusted"], errors="coerce") < alpha).to_numpy()
    frame = _finish(frame, "acceptance_rate", min_group_size, threshold,
                    ("decisions", "acceptance_rate", "expected_rate", "adjusted_ratio",
                     "rest_rate", "p_value", "p_adjusted"),
                    within=(V.EMPLOYER_ID, "attribute"))
    frame["flagged"] = below & significant & ~frame["suppressed"].to_numpy()
    return frame[[V.EMPLOYER_ID, "attribute", "group", "people", "decisions",
                  "acceptance_rate", "expected_rate", "adjusted_ratio", "rest_rate",
                  "impact_ratio", "p_value", "p_adjusted", "flagged", "suppressed"]]


def _min_ratio(
    frame: pd.DataFrame | None, min_people: int
) -> tuple[float | None, str | None]:
    if frame is None or frame.empty:
        return None, None
    people = pd.to_numeric(frame["people"], errors="coerce")
    stated = (frame["group"] != NOT_STATED) & (people >= min_people)
    rate = next(c for c in ("selection_rate", "positive_rate") if c in frame.columns)
    rates = pd.to_numeric(frame[rate], errors="coerce").where(stated)
    best = rates.groupby(frame["attribute"]).transform("max")
    ratios = (rates / best).where(best > 0)
    if ratios.notna().sum() == 0:
        return None, None
    i = ratios.idxmin()
    return float(ratios[i]), f"{frame.at[i, 'attribute']}={frame.at[i, 'group']}"


def _interval_summary(
    frame: pd.DataFrame, min_people: int, threshold: float
) -> dict[str, Any]:
    """Lowest upper interval end, and the groups under ``threshold``, of supported groups.

    Only attributes whose reference group (ratio 1) has at least ``min_people`` people
    count: the interval is relative to that group.
    """
    people = pd.to_numeric(frame["people"], errors="coerce")
    ratio = pd.to_numeric(frame["impact_ratio"], errors="coerce")
    high = pd.to_numeric(frame["impact_ratio_high"], errors="coerce")
    supported = (frame["group"] != NOT_STATED) & (people >= min_people) & ratio.notna()
    reference_ok = (supported & (ratio == 1.0)).groupby(frame["attribute"]).transform("any")
    rows = supported & reference_ok & high.notna()
    low = pd.to_numeric(frame["impact_ratio_low"], errors="coerce")
    reference = (ratio == 1.0) & (low == 1.0) & (high == 1.0)  # 1 by construction
    if (rows & ~reference).any():
        rows = rows & ~reference
    out: dict[str, Any] = {"impact_ratio_high_min": None, "impact_ratio_high_group": None,
                           "impact_ratio_review": []}
    if rows.any():
        i = high.where(rows).idxmin()
        out["impact_ratio_high_min"] = float(high[i])
        out["impact_ratio_high_group"] = f"{frame.at[i, 'attribute']}={frame.at[i, 'group']}"
        below = frame.loc[rows & (ratio < threshold)]
        out["impact_ratio_review"] = [f"{a}={g}" for a, g in zip(below["attribute"],
                                                                  below["group"], strict=True)]
    return out


def fairness_metrics(
    exposure_groups: pd.DataFrame | None = None,
    label_groups: pd.DataFrame | None = None,
    employer_audit: pd.DataFrame | None = None,
    *,
    min_people: int = MIN_AUDIT_PEOPLE,
    threshold: float = IMPACT_THRESHOLD,
) -> dict[str, Any]:
    """The fairness figures a model's metrics record and the promotion gate reads.

    Parameters
    ----------
    exposure_groups : pandas.DataFrame, optional
        From :func:`exposure_by_group`.
    label_groups : pandas.DataFrame, optional
        From :func:`label_rates_by_group`.
    employer_audit : pandas.DataFrame, optional
        From :func:`employer_label_audit`.
    min_people : int, default :data:`MIN_AUDIT_PEOPLE`
        Groups of fewer people are left out of the summary ratios (the tables still show
        them, flagged when their point estimate is low).

    Returns
    -------
    dict
        ``impact_ratio_min`` and ``impact_ratio_group`` (the lowest shortlist impact ratio
        among stated groups of at least ``min_people`` people, against the best such group
        of the same attribute, and its ``attribute=group``; ``None`` when nothing could be
        compared); when ``exposure_groups`` carries the bootstrap intervals,
        ``impact_ratio_high_min`` and ``impact_ratio_high_group`` (the lowest *upper* end of
        a 90 % interval among those groups: below ``threshold`` the group's ratio is below
        it beyond chance) and ``impact_ratio_review`` (the groups whose point estimate is
        below ``threshold``); ``label_impact_ratio_min`` and ``label_impact_ratio_group``
        (the same for the training labels), ``employer_label_flags`` (flagged employer
        cells) and ``flagged_employers`` (their ids). Keys of audits not passed are left
        out. For the interval figures, compute ``exposure_groups`` with
        ``min_group_size=min_people`` so that every interval is relative to a group of that
        size (attributes whose reference group is smaller are left out of them).
    """
    out: dict[str, Any] = {}
    if exposure_groups is not None:
        out["impact_ratio_min"], out["impact_ratio_group"] = _min_ratio(
            exposure_groups, min_people)
        if "impact_ratio_high" in exposure_groups.columns and not exposure_groups.empty:
            out.update(_interval_summary(exposure_groups, min_people, threshold))
    if label_groups is not None:
        ratio, group = _min_ratio(label_groups, min_people)
        out["label_impact_ratio_min"], out["label_impact_ratio_group"] = ratio, group
    if employer_audit is not None:
        flagged = employer_audit.loc[employer_audit["flagged"]]
        out["employer_label_flags"] = len(flagged)
        out["flagged_employers"] = sorted(set(flagged[V.EMPLOYER_ID].astype(str)))
    return out


def candidate_metrics(
    evaluation: pd.DataFrame,
    candidate: str,
    *,
    matcher: Matcher,
    scorers: Mapping[str, Scorer],
    participant_attributes: pd.DataFrame,
    training_table: pd.DataFrame,
    training_attributes: pd.DataFrame,
    vacancies: pd.DataFrame,
    k: int = 10,
) -> dict[str, Any]:
    """Held-out metrics plus every fairness audit, flat, as ``metadata.json`` records them.

    Parameters
    ----------
    evaluation : pandas.DataFrame
        From :func:`matching.training.evaluate_scorers`, holding ``candidate`` and its
        reference (the default scorer).
    candidate : str
        The evaluation row of the model to publish.
    matcher : Matcher
        A fitted matcher over the market to audit (its scorer is not changed).
    scorers : mapping of name to Scorer
        At least ``candidate`` and the evaluation's reference.
    participant_attributes : pandas.DataFrame
        Monitoring attributes keyed by ``participant_id`` (for the shortlist audit).
    training_table : pandas.DataFrame
        The training table the candidate learned from.
    training_attributes : pandas.DataFrame
        Monitoring attributes keyed by ``participant_pseudonym`` (for the label audits).
    vacancies : pandas.DataFrame
        ``vacancy_id, employer_id``.
    k : int, default 10

    Returns
    -------
    dict
        :func:`matching.training.flatten_metrics` with the candidate's and the reference's
        :func:`fairness_metrics`.
    """
    reference = str(evaluation.attrs.get("reference", "default"))
    labels = fairness_metrics(
        None,
        label_rates_by_group(training_table, training_attributes),
        employer_label_audit(training_table, training_attributes, vacancies),
    )
    audits = {}
    for name in (candidate, reference):
        exposure = shortlist_exposure(matcher, scorers[name], k=k)
        groups = exposure_by_group(exposure, participant_attributes,
                                   min_group_size=MIN_AUDIT_PEOPLE)
        audits[name] = fairness_metrics(groups)
    return flatten_metrics(evaluation, candidate, fairness={**audits[candidate], **labels},
                           reference_fairness=audits[reference])
