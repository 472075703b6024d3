"""Tests of matching.evaluation: hand-computed values, properties and bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.errors import InvalidInputError
from matching.evaluation import (
    average_precision,
    coverage,
    dcg_at_k,
    evaluate_rankings,
    gini,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
)

LOG2_3 = math.log2(3)  # discount of rank 2
LOG2_4 = 2.0  # discount of rank 3
LOG2_5 = math.log2(5)  # discount of rank 4


# --- known answers ------------------------------------------------------------------


def test_dcg_known_answer() -> None:
    # grades 3, 2, 0, 1 -> gains 7, 3, 0, 1
    # DCG@4 = 7/1 + 3/log2(3) + 0/2 + 1/log2(5) = 7 + 1.89279 + 0 + 0.43068 = 9.32347
    expected = 7 + 3 / LOG2_3 + 1 / LOG2_5
    assert dcg_at_k([3, 2, 0, 1], k=4) == pytest.approx(expected)
    assert dcg_at_k([3, 2, 0, 1], k=4) == pytest.approx(9.32347, abs=1e-5)
    # DCG@2 = 7 + 3/log2(3)
    assert dcg_at_k([3, 2, 0, 1], k=2) == pytest.approx(7 + 3 / LOG2_3)


def test_ndcg_known_answer_with_unretrieved_relevant_item() -> None:
    # Retrieved grades 0, 2, 1; judged items of the query have grades 2, 1, 1 (one
    # grade-1 item was not retrieved).
    # DCG@3  = 0 + 3/log2(3) + 1/2                  = 1.89279 + 0.5 = 2.39279
    # IDCG@3 = 3/1 + 1/log2(3) + 1/2                = 3 + 0.63093 + 0.5 = 4.13093
    # NDCG@3 = 2.39279 / 4.13093                    = 0.57924
    value = ndcg_at_k([0, 2, 1], [1, 2, 1], k=3)
    assert value == pytest.approx((3 / LOG2_3 + 0.5) / (3 + 1 / LOG2_3 + 0.5))
    assert value == pytest.approx(0.57924, abs=1e-5)


def test_ndcg_ideal_uses_all_judged_items_not_only_retrieved() -> None:
    # Retrieved only the grade-1 item at rank 1; a grade-2 item exists but was missed.
    # DCG@2 = 1; IDCG@2 = 3 + 1/log2(3) = 3.63093; NDCG = 0.27541
    assert ndcg_at_k([1], [2, 1], k=2) == pytest.approx(1 / (3 + 1 / LOG2_3))


def test_ndcg_k_cuts_ideal_too() -> None:
    # k = 1: DCG@1 = gain of rank 1 = 1; IDCG@1 = 3 (the grade-2 item) -> 1/3
    assert ndcg_at_k([1, 2], [2, 1], k=1) == pytest.approx(1 / 3)


def test_recall_precision_known_answers() -> None:
    ranked = ["a", "b", "c", "d", "e"]
    relevant = {"b", "d", "z"}
    # top-2 = a, b -> 1 hit of 3 relevant: recall 1/3, precision 1/2
    assert recall_at_k(ranked, relevant, 2) == pytest.approx(1 / 3)
    assert precision_at_k(ranked, relevant, 2) == pytest.approx(1 / 2)
    # top-5 -> 2 hits: recall 2/3, precision 2/5
    assert recall_at_k(ranked, relevant, 5) == pytest.approx(2 / 3)
    assert precision_at_k(ranked, relevant, 5) == pytest.approx(2 / 5)


def test_average_precision_known_answer() -> None:
    # relevant at ranks 2 and 4, three relevant in total:
    # AP = (1/2 + 2/4) / 3 = 1/3
    assert average_precision(["a", "b", "c", "d"], ["b", "d", "z"]) == pytest.approx(1 / 3)
    # AP@2 = (1/2) / min(2, 3) = 1/4
    assert average_precision(["a", "b", "c", "d"], ["b", "d", "z"], k=2) == pytest.approx(0.25)


def test_reciprocal_rank_known_answer() -> None:
    assert reciprocal_rank(["a", "b", "c", "d"], {"c", "d"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["a", "b", "c", "d"], {"c", "d"}, k=2) == 0.0
    assert reciprocal_rank(["c"], {"c"}) == 1.0


def test_coverage_known_answer() -> None:
    # lists touch a, b, c, x; catalogue a..e -> a, b, c of 5 = 0.6 (x is not in it)
    assert coverage([["a", "b"], ["c", "x"], []], ["a", "b", "c", "d", "e"]) == 0.6
    assert coverage([], ["a"]) == 0.0


def test_gini_known_answers() -> None:
    # sorted x = 0, 0, 0, 8; weights 2i - n - 1 = -3, -1, 1, 3
    # G = (3*8) / (4*8) = 0.75
    assert gini([8, 0, 0, 0]) == pytest.approx(0.75)
    # x = 1, 2, 3; weights -2, 0, 2 -> G = (-2*1 + 0*2 + 2*3) / (3*6) = 4/18
    assert gini([3, 1, 2]) == pytest.approx(4 / 18)
    assert gini([2, 2, 2]) == 0.0
    assert gini([0, 0]) == 0.0


def test_evaluate_rankings_known_answer() -> None:
    rankings = {
        "q1": ["a", "b", "c"],  # relevant: b (grade 2), d (grade 1, not retrieved)
        "q2": ["c", "a"],  # relevant: c (grade 1)
        "q3": ["a"],  # no relevant item: left out of the means
    }
    relevance = {
        "q1": {"b": 2.0, "d": 1.0, "a": 0.0},
        "q2": {"c": 1.0},
        "q3": {"a": 0.0},
        "q4": {"e": 1.0},  # relevant item but no ranking: counts as an empty list
    }
    m = evaluate_rankings(rankings, relevance, k=2, catalogue=["a", "b", "c", "d", "e"])
    # q1 top-2 = a, b: DCG = 3/log2(3) = 1.89279; IDCG = 3 + 1/log2(3) = 3.63093
    #   ndcg 0.52129, recall 1/2, precision 1/2, AP@2 = (1/2)/min(2, 2) = 1/4, RR 1/2
    # q2 top-2 = c, a: ndcg 1, recall 1, precision 1/2, AP 1, RR 1
    # q4: everything 0
    q1_ndcg = (3 / LOG2_3) / (3 + 1 / LOG2_3)
    assert m["n_queries"] == 3.0
    assert m["ndcg@2"] == pytest.approx((q1_ndcg + 1 + 0) / 3)
    assert m["recall@2"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert m["precision@2"] == pytest.approx((0.5 + 0.5 + 0) / 3)
    assert m["map"] == pytest.approx((0.25 + 1 + 0) / 3)
    assert m["mrr"] == pytest.approx((0.5 + 1 + 0) / 3)
    # top-2 lists touch a, b, c of a..e
    assert m["coverage"] == pytest.approx(3 / 5)


def test_evaluate_rankings_agrees_with_per_query_functions() -> None:
    rng = np.random.default_rng(3)
    items = [f"i{j}" for j in range(30)]
    rankings, relevance = {}, {}
    for q in range(25):
        rankings[q] = list(rng.permutation(items)[: rng.integers(0, 15)])
        judged = rng.choice(items, size=8, replace=False)
        relevance[q] = {item: float(rng.integers(0, 3)) for item in judged}
    k = 7
    m = evaluate_rankings(rankings, relevance, k=k)
    kept = [q for q in relevance if any(g > 0 for g in relevance[q].values())]
    ndcg, rec, ap, rr = [], [], [], []
    for q in kept:
        rel = {i for i, g in relevance[q].items() if g > 0}
        grades = [relevance[q].get(i, 0.0) for i in rankings[q]]
        ndcg.append(ndcg_at_k(grades, list(relevance[q].values()), k))
        rec.append(recall_at_k(rankings[q], rel, k))
        ap.append(average_precision(rankings[q], rel, k))
        rr.append(reciprocal_rank(rankings[q], rel, k))
    assert m["n_queries"] == len(kept)
    assert m[f"ndcg@{k}"] == pytest.approx(np.mean(ndcg))
    assert m[f"recall@{k}"] == pytest.approx(np.mean(rec))
    assert m["map"] == pytest.approx(np.mean(ap))
    assert m["mrr"] == pytest.approx(np.mean(rr))
    assert math.isnan(m["coverage"])


# --- edge cases ---------------------------------------------------------------------


def test_empty_ranking_scores_zero() -> None:
    assert dcg_at_k([], 3) == 0.0
    assert ndcg_at_k([], [1, 2], 3) == 0.0
    assert recall_at_k([], {"a"}, 3) == 0.0
    assert precision_at_k([], {"a"}, 3) == 0.0
    assert average_precision([], {"a"}) == 0.0
    assert reciprocal_rank([], {"a"}) == 0.0


def test_k_larger_than_list() -> None:
    # the list is scored as it is; precision still divides by k
    assert ndcg_at_k([1, 0], [1], k=50) == 1.0
    assert recall_at_k(["a"], {"a"}, k=50) == 1.0
    assert precision_at_k(["a"], {"a"}, k=50) == pytest.approx(1 / 50)
    assert average_precision(["a"], {"a"}, k=50) == 1.0


def test_no_relevant_items_gives_explicit_zero() -> None:
    assert ndcg_at_k([0, 0], [0, 0, 0], 2) == 0.0
    assert ndcg_at_k([], [], 2) == 0.0
    assert recall_at_k(["a"], set(), 2) == 0.0
    assert average_precision(["a"], set()) == 0.0


def test_evaluate_rankings_without_relevant_queries_is_nan() -> None:
    m = evaluate_rankings({"q": ["a"]}, {"q": {"a": 0.0}}, k=3, catalogue=["a", "b"])
    assert m["n_queries"] == 0.0
    assert math.isnan(m["ndcg@3"]) and math.isnan(m["map"])
    assert m["coverage"] == 0.5


def test_evaluate_rankings_uses_only_top_k_for_coverage() -> None:
    m = evaluate_rankings({"q": ["a", "b", "c"]}, {"q": {"c": 1.0}}, k=1, catalogue="abc")
    assert m["coverage"] == pytest.approx(1 / 3)
    assert m["recall@1"] == 0.0


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, -1, 2.5, None, True, "3"])
def test_bad_k_raises(k: object) -> None:
    for call in (
        lambda: dcg_at_k([1], k),
        lambda: ndcg_at_k([1], [1], k),
        lambda: recall_at_k(["a"], {"a"}, k),
        lambda: precision_at_k(["a"], {"a"}, k),
        lambda: evaluate_rankings({"q": ["a"]}, {"q": {"a": 1.0}}, k=k),
    ):
        with pytest.raises(InvalidInputError) as info:
            call()
        assert info.value.field == "k"
        assert isinstance(info.value, ValueError)


def test_bad_k_for_optional_cutoffs() -> None:
    with pytest.raises(InvalidInputError, match="positive integer"):
        average_precision(["a"], {"a"}, k=0)
    with pytest.raises(InvalidInputError, match="positive integer"):
        reciprocal_rank(["a"], {"a"}, k=-2)


@pytest.mark.parametrize("grades", [[1, -1], [float("nan")], [[1, 2]], ["x"]])
def test_bad_grades_raise(grades: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        dcg_at_k(grades, 3)
    assert info.value.field == "relevances"


def test_negative_grade_in_evaluate_rankings_names_query() -> None:
    with pytest.raises(InvalidInputError, match="negative") as info:
        evaluate_rankings({"q": ["a"]}, {"q": {"a": -1.0}})
    assert info.value.field == "relevance['q']"


def test_repeated_item_in_top_k_raises() -> None:
    with pytest.raises(InvalidInputError, match="repeats an item") as info:
        evaluate_rankings({"q": ["a", "a"]}, {"q": {"a": 1.0}}, k=2)
    assert info.value.field == "rankings"
    # a repeat below the cut-off does not matter
    evaluate_rankings({"q": ["a", "b", "a"]}, {"q": {"a": 1.0}}, k=2)


def test_empty_catalogue_and_empty_exposure_raise() -> None:
    with pytest.raises(InvalidInputError) as info:
        coverage([["a"]], [])
    assert info.value.field == "catalogue_ids"
    with pytest.raises(InvalidInputError) as info:
        gini([])
    assert info.value.field == "exposure_counts"
    with pytest.raises(InvalidInputError):
        gini([1, -2])


def test_relevant_as_string_raises() -> None:
    with pytest.raises(InvalidInputError) as info:
        recall_at_k(["a"], "a", 1)
    assert info.value.field == "relevant"


# --- properties ---------------------------------------------------------------------

grades_lists = st.lists(st.integers(min_value=0, max_value=3), min_size=0, max_size=30)


@settings(max_examples=200, deadline=None)
@given(all_grades=grades_lists, data=st.data(), k=st.integers(min_value=1, max_value=40))
def test_ndcg_in_unit_interval(all_grades: list[int], data: st.DataObject, k: int) -> None:
    # any ranking of any subset of the judged items
    order = data.draw(st.permutations(range(len(all_grades))))
    n_retrieved = data.draw(st.integers(min_value=0, max_value=len(all_grades)))
    ranked = [all_grades[i] for i in order[:n_retrieved]]
    value = ndcg_at_k(ranked, all_grades, k)
    assert 0.0 <= value <= 1.0 + 1e-12


@settings(max_examples=200, deadline=None)
@given(all_grades=grades_lists, k=st.integers(min_value=1, max_value=40))
def test_perfect_ranking_scores_one(all_grades: list[int], k: int) -> None:
    perfect = sorted(all_grades, reverse=True)
    value = ndcg_at_k(perfect, all_grades, k)
    if any(all_grades):
        assert value == pytest.approx(1.0)
    else:
        assert value == 0.0


@settings(max_examples=200, deadline=None)
@given(
    ranked=st.lists(st.integers(0, 50), unique=True, max_size=40),
    relevant=st.sets(st.integers(0, 50), max_size=20),
)
def test_recall_monotone_in_k(ranked: list[int], relevant: set[int]) -> None:
    values = [recall_at_k(ranked, relevant, k) for k in range(1, len(ranked) + 2)]
    assert all(a <= b for a, b in itertools.pairwise(values))
    assert all(0.0 <= v <= 1.0 for v in values)
    if relevant and ranked:
        assert values[-1] == pytest.approx(len(relevant & set(ranked)) / len(relevant))


@settings(max_examples=200, deadline=None)
@given(
    ranked=st.lists(st.integers(0, 50), unique=True, max_size=40),
    relevant=st.sets(st.integers(0, 50), max_size=20),
    k=st.integers(1, 45),
)
def test_binary_metrics_in_unit_interval(ranked: list[int], relevant: set[int], k: int) -> None:
    for value in (
        precision_at_k(ranked, relevant, k),
        average_precision(ranked, relevant, k),
        average_precision(ranked, relevant),
        reciprocal_rank(ranked, relevant, k),
    ):
        assert 0.0 <= value <= 1.0 + 1e-12


@settings(max_examples=100, deadline=None)
@given(counts=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=50))
def test_gini_bounds_and_permutation_invariance(counts: list[float]) -> None:
    value = gini(counts)
    assert -1e-9 <= value <= 1.0 - 1.0 / len(counts) + 1e-9
    assert gini(counts[::-1]) == pytest.approx(value, rel=1e-9, abs=1e-9)
