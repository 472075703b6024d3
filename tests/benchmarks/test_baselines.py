"""Known-answer and property tests of the benchmark baselines (no ../shared data needed)."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.baselines import (
    exact_label_positions,
    indicator,
    jaccard,
    nearest_label,
    rankings_from_top,
    tfidf_cosine,
    top_k_rows,
)


def test_jaccard_of_tiny_sets_matches_hand_values() -> None:
    a = indicator([[0, 1, 2], [3]], 5)
    b = indicator([[1, 2, 3], [0, 1, 2], [4], []], 5)
    expected = np.array(
        [
            [2 / 4, 1.0, 0.0, 0.0],  # {0,1,2} vs {1,2,3}, itself, {4}, {}
            [1 / 3, 0.0, 0.0, 0.0],  # {3} vs {1,2,3}, ...
        ]
    )
    np.testing.assert_allclose(jaccard(a, b), expected)


def test_jaccard_treats_weights_and_duplicates_as_set_membership() -> None:
    weighted = sp.csr_matrix(np.array([[2.0, 0.5, 0.0]]))
    duplicated = sp.csr_matrix(
        (np.ones(3), (np.zeros(3, dtype=int), np.array([0, 0, 1]))), shape=(1, 3)
    )
    assert jaccard(weighted, duplicated).tolist() == [[1.0]]


def test_jaccard_of_two_empty_sets_is_zero() -> None:
    empty = indicator([[]], 3)
    assert jaccard(empty, empty).tolist() == [[0.0]]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.frozensets(st.integers(0, 7), max_size=6), min_size=1, max_size=5),
    st.lists(st.frozensets(st.integers(0, 7), max_size=6), min_size=1, max_size=5),
)
def test_jaccard_equals_the_set_formula(
    left: list[frozenset[int]], right: list[frozenset[int]]
) -> None:
    scores = jaccard(indicator(left, 8), indicator(right, 8))
    for i, a in enumerate(left):
        for j, b in enumerate(right):
            union = len(a | b)
            assert scores[i, j] == pytest.approx(len(a & b) / union if union else 0.0)
    np.testing.assert_allclose(jaccard(indicator(right, 8), indicator(left, 8)), scores.T)


def test_indicator_rejects_positions_outside_the_columns() -> None:
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        indicator([[0, 3]], 3)


def test_word_tfidf_orders_exact_then_partial_then_unrelated() -> None:
    documents = ["cook pasta", "drive a forklift truck", "forklift driving", "driving"]
    scores = tfidf_cosine(["forklift driving"], documents, analyzer="word")[0]
    assert scores[2] == pytest.approx(1.0)
    assert scores[2] > scores[1] > 0.0
    assert scores[2] > scores[3] > 0.0
    assert scores[0] == 0.0


def test_char_tfidf_survives_a_typo_that_word_tfidf_misses() -> None:
    documents = ["forklift driving", "cook pasta"]
    word = tfidf_cosine(["forklfit"], documents, analyzer="word")[0]
    char = tfidf_cosine(["forklfit"], documents, analyzer="char_wb", ngram_range=(2, 3))[0]
    assert word.tolist() == [0.0, 0.0]
    assert char[0] > char[1]


def test_nearest_label_picks_the_closest_and_reports_no_overlap_as_minus_one() -> None:
    index, score = nearest_label(
        ["Lagerhelfer", "KOCH", "zzzz"], ["Koch", "Lagerhelfer/in", "Lagerist"]
    )
    assert index.tolist() == [1, 0, -1]
    assert score[1] == pytest.approx(1.0)
    assert score[2] == 0.0


def test_exact_label_positions_only_strip_and_lower_case() -> None:
    labels = {"forklift driving": 3, "kochen": 5}
    assert exact_label_positions([" Forklift Driving", "Kochen", "forklift-driving"], labels) == [
        3,
        5,
        None,
    ]


def test_top_k_rows_breaks_ties_by_column_and_applies_the_mask() -> None:
    scores = np.array([[0.5, 0.9, 0.5, 0.1], [0.0, 0.0, 0.0, 0.0]])
    assert top_k_rows(scores, 3).tolist() == [[1, 0, 2], [0, 1, 2]]
    mask = np.array([[True, False, True, False], [False, False, False, True]])
    assert top_k_rows(scores, 3, mask=mask).tolist() == [[0, 2, -1], [3, -1, -1]]


def test_top_k_rows_pads_when_k_exceeds_the_columns() -> None:
    assert top_k_rows(np.array([[0.1, 0.2]]), 4).tolist() == [[1, 0, -1, -1]]


def test_top_k_rows_rejects_a_non_positive_k() -> None:
    with pytest.raises(ValueError, match="positive"):
        top_k_rows(np.zeros((1, 2)), 0)


def test_rankings_from_top_drops_padding() -> None:
    top = np.array([[2, 0, -1], [-1, -1, -1]])
    assert rankings_from_top(top, ["p1", "p2"], ["v1", "v2", "v3"]) == {
        "p1": ["v3", "v1"],
        "p2": [],
    }


@pytest.mark.parametrize(
    ("module_name", "constant"),
    [
        ("benchmarks.bench_ranking_quality", "ESCO_DIR"),
        ("benchmarks.bench_title_normalisation", "ADS_PATH"),
    ],
)
def test_quality_benchmarks_skip_cleanly_without_shared_data(
    module_name: str,
    constant: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = importlib.import_module(module_name)
    monkeypatch.setattr(module, constant, tmp_path / "absent")
    assert module.main([]) == 0
    assert capsys.readouterr().out.startswith("skipped: ../shared/data absent")
