"""Ranking metrics for offline evaluation of the matcher.

All metrics score one ranked list (one *query*: a participant asking for vacancies, or a
vacancy asking for candidates) against graded relevance judgements, and
:func:`evaluate_rankings` averages them over many queries.

Conventions, chosen explicitly and used by every function here:

* Relevance grades are non-negative numbers; an item is *relevant* when its grade is
  greater than zero. Binary metrics (recall, precision, average precision, reciprocal
  rank) use that threshold, :func:`ndcg_at_k` uses the grades themselves.
* Gains are ``2**grade - 1`` and the discount of rank ``r`` (1-based) is ``log2(r + 1)``
  (Järvelin and Kekäläinen, 2002, in the "exponential gain" form used by most
  learning-to-rank toolkits).
* The ideal DCG of a query is built from *all* judged items of the query, not only the
  retrieved ones, so a ranking that misses relevant items is penalised.
* A query without any relevant item has no meaningful score: the per-query functions
  return ``0.0`` for it, and :func:`evaluate_rankings` leaves such queries out of every
  mean and reports how many queries it averaged in ``n_queries``.
* Precision at ``k`` always divides by ``k``, also when the list is shorter than ``k``.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from matching.errors import InvalidInputError

__all__ = [
    "average_precision",
    "coverage",
    "dcg_at_k",
    "evaluate_rankings",
    "gini",
    "ndcg_at_k",
    "precision_at_k",
    "recall_at_k",
    "reciprocal_rank",
]


def _check_k(k: Any) -> int:
    """Return ``k`` as an int after checking that it is a positive integer."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise InvalidInputError(f"k must be a positive integer, got {k!r}", field="k")
    if k <= 0:
        raise InvalidInputError(f"k must be a positive integer, got {k}", field="k")
    return int(k)


def _check_optional_k(k: Any) -> int | None:
    """Like :func:`_check_k`, but ``None`` (no cut-off) is allowed."""
    return None if k is None else _check_k(k)


def _grades(values: ArrayLike, field: str) -> NDArray[np.float64]:
    """Return relevance grades as a 1-d float array after validating them."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{field} must be a sequence of numbers: {exc}", field=field
        ) from exc
    if arr.ndim != 1:
        raise InvalidInputError(
            f"{field} must be one-dimensional, got shape {arr.shape}", field=field
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{field} contains NaN or infinite grades", field=field)
    if np.any(arr < 0):
        raise InvalidInputError(
            f"{field} contains negative grades (smallest {arr.min():g})", field=field
        )
    return arr


def _discounts(k: int) -> NDArray[np.float64]:
    """Return ``1 / log2(rank + 1)`` for ranks ``1..k``."""
    return 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))


def dcg_at_k(relevances: ArrayLike, k: int) -> float:
    """Discounted cumulative gain of the first ``k`` positions of a ranking.

    Parameters
    ----------
    relevances : array-like of float
        Relevance grades (``>= 0``) of the ranked items, best-ranked first.
    k : int
        Cut-off, a positive integer. A list shorter than ``k`` is scored as it is.

    Returns
    -------
    float
        ``sum_{r=1..min(k, n)} (2**rel_r - 1) / log2(r + 1)``.

    Raises
    ------
    InvalidInputError
        If ``k`` is not a positive integer or a grade is negative or not finite.

    Examples
    --------
    >>> round(dcg_at_k([2, 0, 1], k=3), 4)  # 3/1 + 0/log2(3) + 1/2
    3.5
    >>> dcg_at_k([], k=5)
    0.0
    """
    k = _check_k(k)
    rel = _grades(relevances, "relevances")[:k]
    return float(np.dot(np.exp2(rel) - 1.0, _discounts(rel.size)))


def ndcg_at_k(ranked_relevances: ArrayLike, all_relevances: ArrayLike, k: int) -> float:
    """Normalised DCG at ``k`` with the ideal built from all judged items of the query.

    Parameters
    ----------
    ranked_relevances : array-like of float
        Grades of the retrieved items in ranked order (``0`` for unjudged items).
    all_relevances : array-like of float
        Grades of every judged item of the query, retrieved or not, in any order. The
        positive grades of ``ranked_relevances`` must be drawn from these; then the result
        lies in ``[0, 1]``.
    k : int
        Cut-off, a positive integer.

    Returns
    -------
    float
        ``DCG@k / IDCG@k``, or ``0.0`` when the query has no relevant item (the ideal DCG
        is zero). :func:`evaluate_rankings` excludes such queries from its means.

    Raises
    ------
    InvalidInputError
        If ``k`` is not a positive integer or a grade is negative or not finite.

    Examples
    --------
    A relevant item (grade 1) is ranked second and a second one is not retrieved:

    >>> round(ndcg_at_k([0, 1], [1, 1], k=2), 4)  # (1/log2(3)) / (1 + 1/log2(3))
    0.3869
    >>> ndcg_at_k([2, 1], [1, 2], k=2)
    1.0
    >>> ndcg_at_k([0, 0], [0, 0], k=2)  # nothing relevant: explicit zero
    0.0
    """
    k = _check_k(k)
    ideal = np.sort(_grades(all_relevances, "all_relevances"))[::-1]
    idcg = dcg_at_k(ideal, k)
    dcg = dcg_at_k(ranked_relevances, k)
    if idcg == 0.0:
        return 0.0
    return dcg / idcg


def _hits(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int | None) -> NDArray:
    """Return a boolean array: is the item at each of the first ``k`` ranks relevant."""
    top = list(ranked) if k is None else list(ranked)[:k]
    return np.fromiter((item in relevant for item in top), dtype=bool, count=len(top))


def recall_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """Share of the relevant items that appear among the first ``k`` ranked items.

    Parameters
    ----------
    ranked : sequence of hashable
        Item ids, best-ranked first.
    relevant : collection of hashable
        Ids of the relevant items of the query (a set is fastest).
    k : int
        Cut-off, a positive integer.

    Returns
    -------
    float
        ``|top-k ∩ relevant| / |relevant|``; ``0.0`` when nothing is relevant.

    Examples
    --------
    >>> recall_at_k(["a", "b", "c"], {"c", "x"}, k=3)
    0.5
    >>> recall_at_k(["a", "b", "c"], {"c", "x"}, k=2)
    0.0
    """
    k = _check_k(k)
    relevant = _as_set(relevant)
    if not relevant:
        return 0.0
    return float(_hits(ranked, relevant, k).sum()) / len(relevant)


def precision_at_k(ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """Share of the first ``k`` positions that hold a relevant item.

    The denominator is always ``k``, so a list shorter than ``k`` cannot score 1.

    Parameters
    ----------
    ranked : sequence of hashable
        Item ids, best-ranked first.
    relevant : collection of hashable
        Ids of the relevant items of the query.
    k : int
        Cut-off, a positive integer.

    Returns
    -------
    float
        ``|top-k ∩ relevant| / k``.

    Examples
    --------
    >>> precision_at_k(["a", "b", "c", "d"], {"a", "c"}, k=4)
    0.5
    >>> precision_at_k(["a"], {"a"}, k=4)
    0.25
    """
    k = _check_k(k)
    return float(_hits(ranked, _as_set(relevant), k).sum()) / k


def average_precision(
    ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int | None = None
) -> float:
    """Average precision of one ranking (the per-query term of MAP).

    Parameters
    ----------
    ranked : sequence of hashable
        Item ids, best-ranked first.
    relevant : collection of hashable
        Ids of the relevant items of the query.
    k : int, optional
        Cut-off. Without it the whole list counts and the denominator is the number of
        relevant items; with it only the first ``k`` positions count and the denominator
        is ``min(k, |relevant|)``, so a perfect top-``k`` scores 1.

    Returns
    -------
    float
        Mean of precision@r over the ranks ``r`` that hold a relevant item, divided as
        above; ``0.0`` when nothing is relevant.

    Examples
    --------
    Relevant items at ranks 1 and 3, a third relevant item not retrieved:

    >>> round(average_precision(["a", "b", "c"], {"a", "c", "x"}), 4)  # (1 + 2/3) / 3
    0.5556
    >>> average_precision(["b", "a"], {"a"}, k=1)
    0.0
    """
    k = _check_optional_k(k)
    relevant = _as_set(relevant)
    if not relevant:
        return 0.0
    hits = _hits(ranked, relevant, k)
    ranks = np.flatnonzero(hits) + 1.0
    precisions = np.arange(1, ranks.size + 1) / ranks
    denominator = len(relevant) if k is None else min(k, len(relevant))
    return float(precisions.sum()) / denominator


def reciprocal_rank(
    ranked: Sequence[Hashable], relevant: Collection[Hashable], k: int | None = None
) -> float:
    """Reciprocal of the rank of the first relevant item (the per-query term of MRR).

    Parameters
    ----------
    ranked : sequence of hashable
        Item ids, best-ranked first.
    relevant : collection of hashable
        Ids of the relevant items of the query.
    k : int, optional
        Only the first ``k`` positions count.

    Returns
    -------
    float
        ``1 / rank`` of the first relevant item, ``0.0`` if none is ranked (within ``k``).

    Examples
    --------
    >>> reciprocal_rank(["a", "b", "c"], {"c"})
    0.3333333333333333
    >>> reciprocal_rank(["a", "b", "c"], {"c"}, k=2)
    0.0
    """
    k = _check_optional_k(k)
    hits = _hits(ranked, _as_set(relevant), k)
    first = np.flatnonzero(hits)
    return 1.0 / (int(first[0]) + 1) if first.size else 0.0


def coverage(
    recommended_item_ids: Iterable[Iterable[Hashable]], catalogue_ids: Iterable[Hashable]
) -> float:
    """Share of the catalogue that appears in at least one recommendation list.

    Parameters
    ----------
    recommended_item_ids : iterable of iterables of hashable
        The recommendation lists (usually already cut at ``k``). Ids that are not in the
        catalogue are ignored.
    catalogue_ids : iterable of hashable
        Every item that could have been recommended.

    Returns
    -------
    float
        ``|catalogue ∩ union(lists)| / |catalogue|``.

    Raises
    ------
    InvalidInputError
        If the catalogue is empty.

    Examples
    --------
    >>> coverage([["a", "b"], ["b", "c"]], ["a", "b", "c", "d"])
    0.75
    """
    catalogue = set(catalogue_ids)
    if not catalogue:
        raise InvalidInputError("catalogue_ids is empty", field="catalogue_ids")
    seen: set[Hashable] = set()
    for items in recommended_item_ids:
        seen.update(items)
    return len(seen & catalogue) / len(catalogue)


def gini(exposure_counts: ArrayLike) -> float:
    """Gini coefficient of how exposure is spread over items.

    Pass one count per catalogue item, including the items that were never shown (zeros);
    otherwise the concentration is underestimated.

    Parameters
    ----------
    exposure_counts : array-like of float
        Non-negative exposure per item (how often, or how much position-weighted
        attention, each item received).

    Returns
    -------
    float
        ``0.0`` when every item has the same exposure (or all are zero); approaches
        ``1 - 1/n`` when one of ``n`` items takes all of it. Computed as
        ``sum_i (2i - n - 1) x_(i) / (n sum x)`` with ``x`` sorted ascending.

    Raises
    ------
    InvalidInputError
        If the array is empty or has negative or non-finite values.

    Examples
    --------
    >>> gini([5, 5, 5, 5])
    0.0
    >>> gini([0, 0, 0, 8])  # (3*8) / (4*8)
    0.75
    """
    x = _grades(exposure_counts, "exposure_counts")
    if x.size == 0:
        raise InvalidInputError("exposure_counts is empty", field="exposure_counts")
    total = x.sum()
    if total == 0.0:
        return 0.0
    x = np.sort(x)
    n = x.size
    weights = 2.0 * np.arange(1, n + 1) - n - 1.0
    value = float(np.dot(weights, x) / (n * total))
    return max(value, 0.0)  # equal counts can round to a tiny negative number


def _as_set(relevant: Collection[Hashable]) -> set[Hashable] | frozenset[Hashable]:
    """Return ``relevant`` as a set (unchanged if it already is one)."""
    if isinstance(relevant, set | frozenset):
        return relevant
    if isinstance(relevant, str):
        raise InvalidInputError(
            "relevant must be a collection of item ids, not a string", field="relevant"
        )
    return set(relevant)


def evaluate_rankings(
    rankings: Mapping[Hashable, Sequence[Hashable]],
    relevance: Mapping[Hashable, Mapping[Hashable, float]],
    k: int = 10,
    catalogue: Iterable[Hashable] | None = None,
) -> dict[str, float]:
    """Mean ranking metrics over many queries.

    Parameters
    ----------
    rankings : mapping of query id to sequence of item ids
        The ranked lists to evaluate, best-ranked first. Only the first ``k`` items of
        each list are used. An item may appear only once in the top ``k`` of a list.
    relevance : mapping of query id to mapping of item id to grade
        Graded judgements (``>= 0``). Items without a judgement have grade 0. The queries
        averaged are those with at least one positive grade; a query among them without a
        ranking counts as an empty list (every metric 0).
    k : int, default 10
        Cut-off, a positive integer.
    catalogue : iterable of item ids, optional
        Every item that could be recommended, for ``coverage``. Without it ``coverage``
        is NaN.

    Returns
    -------
    dict of str to float
        ``"ndcg@k"``, ``"recall@k"``, ``"precision@k"`` (with the value of ``k`` in the
        key), ``"map"`` (mean of :func:`average_precision` at ``k``), ``"mrr"`` (mean
        :func:`reciprocal_rank` within ``k``), ``"coverage"`` (over the top-``k`` lists of
        *all* queries in ``rankings``) and ``"n_queries"`` (how many queries the means are
        over). With no query to average, the means are NaN.

    Raises
    ------
    InvalidInputError
        If ``k`` is not a positive integer, a grade is negative or not finite, a top-``k``
        list repeats an item, or the catalogue is given but empty.

    Examples
    --------
    >>> rankings = {"p1": ["v1", "v2", "v3"], "p2": ["v3", "v1"]}
    >>> relevance = {"p1": {"v2": 1.0}, "p2": {"v3": 2.0, "v1": 1.0}, "p3": {"v1": 0.0}}
    >>> m = evaluate_rankings(rankings, relevance, k=2, catalogue=["v1", "v2", "v3", "v4"])
    >>> m["n_queries"], m["recall@2"], m["mrr"], m["coverage"]
    (2.0, 1.0, 0.75, 0.75)
    >>> round(m["ndcg@2"], 4)  # (0.6309 + 1) / 2
    0.8155
    """
    k = _check_k(k)
    top_lists = {query: list(items)[:k] for query, items in rankings.items()}
    for query, top in top_lists.items():
        if len(set(top)) != len(top):
            raise InvalidInputError(
                f"the top {k} of query {query!r} repeats an item", field="rankings"
            )

    queries: list[Hashable] = []
    gains = []  # per query: grades of its top-k (padded with zeros to k)
    ideals = []  # per query: its k largest grades (padded)
    n_relevant = []
    for query, judged in relevance.items():
        grades = _grades(list(judged.values()), f"relevance[{query!r}]")
        positive = int(np.count_nonzero(grades))
        if positive == 0:
            continue
        top = top_lists.get(query, [])
        row = np.zeros(k)
        row[: len(top)] = [judged.get(item, 0.0) for item in top]
        ideal = np.zeros(k)
        best = np.sort(grades)[::-1][:k]
        ideal[: best.size] = best
        queries.append(query)
        gains.append(row)
        ideals.append(ideal)
        n_relevant.append(positive)

    nan = float("nan")
    cov = nan if catalogue is None else coverage(top_lists.values(), catalogue)
    if not queries:
        return {
            f"ndcg@{k}": nan,
            f"recall@{k}": nan,
            f"precision@{k}": nan,
            "map": nan,
            "mrr": nan,
            "coverage": cov,
            "n_queries": 0.0,
        }

    grade = np.vstack(gains)  # (n_queries, k)
    ideal_grade = np.vstack(ideals)
    n_rel = np.asarray(n_relevant, dtype=np.float64)
    disc = _discounts(k)
    dcg = (np.exp2(grade) - 1.0) @ disc
    idcg = (np.exp2(ideal_grade) - 1.0) @ disc
    ndcg = dcg / idcg

    hit = grade > 0
    n_hits = hit.sum(axis=1)
    recall = n_hits / n_rel
    precision = n_hits / k
    cum_hits = np.cumsum(hit, axis=1)
    ranks = np.arange(1, k + 1)
    ap = (hit * (cum_hits / ranks)).sum(axis=1) / np.minimum(n_rel, k)
    first = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1.0, np.inf)
    rr = 1.0 / first

    return {
        f"ndcg@{k}": float(ndcg.mean()),
        f"recall@{k}": float(recall.mean()),
        f"precision@{k}": float(precision.mean()),
        "map": float(ap.mean()),
        "mrr": float(rr.mean()),
        "coverage": cov,
        "n_queries": float(len(queries)),
    }
