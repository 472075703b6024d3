"""Training table, learned scorer, held-out evaluation and the learning loop end to end."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from matching import DefaultScorer, Geocoder, Matcher, Taxonomy
from matching.datasets import make_demo_market
from matching.errors import InvalidInputError, NotFittedError
from matching.fairness import candidate_metrics
from matching.persistence import promotion_decision
from matching.schema import FACTORS
from matching.scoring import Scorer
from matching.simulation import simulate_outcomes
from matching.training import (
    STATUSES,
    TRAINING_COLUMNS,
    LearnedScorer,
    build_training_table,
    calibration_table,
    evaluate_scorers,
    time_split,
    training_data_hash,
)

#: One pytest-xdist worker runs the module's tests (``--dist loadgroup``):
#: the module's demo market and matcher are built once.
pytestmark = pytest.mark.xdist_group("training")

F0 = {"skills": 0.5, "occupation": 0.5, "language": 1.0, "commute": 0.5, "hours": 1.0}


def shown_row(p: str, v: str, at: str, **factors: float) -> dict[str, Any]:
    return {"participant_pseudonym": p, "vacancy_id": v, "shown_at": at,
            "model_version": "default", "rank": 1, **{**F0, **factors}}


def outcome(p: str, v: str, status: str, at: str) -> dict[str, Any]:
    return {"participant_pseudonym": p, "vacancy_id": v, "status": status, "at": at}


# ----------------------------------------------------------------------------- table


def test_table_grades_first_showing_and_latest_status() -> None:
    shown = pd.DataFrame([
        shown_row("a", "v1", "2026-10-01", skills=0.9),
        shown_row("a", "v1", "2026-10-08", skills=0.1),  # shown again: first one counts
        shown_row("a", "v2", "2026-10-01"),
        shown_row("b", "v1", "2026-10-02"),
        shown_row("b", "v3", "2026-10-02"),
        shown_row("c", "v4", "2026-10-03"),
    ])
    outcomes = pd.DataFrame([
        outcome("a", "v1", "applied", "2026-10-02"),
        outcome("a", "v1", "interview", "2026-10-05"),
        outcome("a", "v1", "hired", "2026-10-20"),
        outcome("b", "v1", "interview", "2026-10-04"),
        outcome("b", "v1", "rejected", "2026-10-09"),  # later rejection overrides
        outcome("b", "v3", "proposed", "2026-10-03"),
        outcome("c", "v4", "applied", "2026-10-04"),
        outcome("c", "v4", "withdrawn", "2026-10-06"),
        outcome("d", "v9", "applied", "2026-10-07"),  # acted on, never shown
    ]).assign(reason="free text that must not survive")
    table = build_training_table(shown, outcomes)
    assert list(table.columns) == list(TRAINING_COLUMNS)
    got = table.set_index(["participant_pseudonym", "vacancy_id"])
    assert got.loc[("a", "v1"), "relevance"] == 3.0
    assert got.loc[("a", "v1"), "skills"] == 0.9
    assert got.loc[("a", "v1"), "times_shown"] == 2
    assert got.loc[("a", "v2"), "relevance"] == 0.0
    assert got.loc[("a", "v2"), "status"] is None
    assert got.loc[("b", "v1"), "relevance"] == 0.0
    assert got.loc[("b", "v3"), "relevance"] == 0.5
    assert got.loc[("c", "v4"), "relevance"] == 0.0
    assert not got.loc[("d", "v9"), "was_shown"]
    assert np.isnan(got.loc[("d", "v9"), "skills"])
    assert got.loc[("d", "v9"), "shown_at"] == pd.Timestamp("2026-10-07", tz="UTC")
    assert table["label"].tolist() == (table["relevance"] > 0).tolist()
    assert "reason" not in table.columns
    assert table["shown_at"].is_monotonic_increasing


pair_ids = st.tuples(st.sampled_from("abc"), st.sampled_from(["v1", "v2", "v3"]))
day = st.integers(1, 28).map(lambda d: f"2026-10-{d:02d}")


@settings(max_examples=25, deadline=None)
@given(
    shown_rows=st.lists(st.tuples(pair_ids, day, st.sampled_from([0.0, 0.25, 1.0])),
                        min_size=1, max_size=12),
    outcome_rows=st.lists(st.tuples(pair_ids, st.sampled_from(STATUSES), day), max_size=12),
    seed=st.integers(0, 1000),
)
def test_table_properties(shown_rows: list[Any], outcome_rows: list[Any], seed: int) -> None:
    shown = pd.DataFrame([shown_row(p, v, at, skills=x) for (p, v), at, x in shown_rows])
    outcomes = pd.DataFrame([outcome(p, v, status, at) for (p, v), status, at in outcome_rows],
                            columns=["participant_pseudonym", "vacancy_id", "status", "at"])
    table = build_training_table(shown, outcomes)
    pairs = {pair for pair, *_ in shown_rows} | {pair for pair, *_ in outcome_rows}
    assert len(table) == len(pairs)
    assert set(table["relevance"]) <= {0.0, 0.5, 1.0, 2.0, 3.0}
    assert (table["was_shown"] == table["skills"].notna()).all()
    # Shuffling the input rows changes nothing.
    shuffled = build_training_table(shown.sample(frac=1, random_state=seed),
                                    outcomes.sample(frac=1, random_state=seed))
    key = ["participant_pseudonym", "vacancy_id"]
    pd.testing.assert_frame_equal(table.sort_values(key).reset_index(drop=True),
                                  shuffled.sort_values(key).reset_index(drop=True))


def test_table_refuses_bad_input() -> None:
    shown = pd.DataFrame([shown_row("a", "v1", "2026-10-01")])
    good = pd.DataFrame([outcome("a", "v1", "applied", "2026-10-02")])
    with pytest.raises(InvalidInputError, match="status") as err:
        build_training_table(shown, good.assign(status="ghosted"))
    assert err.value.field == "outcomes.status"
    with pytest.raises(InvalidInputError, match=r"\[0, 1\]") as err:
        build_training_table(shown.assign(commute=1.5), good)
    assert err.value.field == "shown.commute"
    with pytest.raises(InvalidInputError, match="lacks the column"):
        build_training_table(shown.drop(columns="hours"), good)
    with pytest.raises(InvalidInputError, match="not a time"):
        build_training_table(shown.assign(shown_at="soon"), good)


def test_time_split_holds_out_the_latest_pairs() -> None:
    days = pd.date_range("2026-09-01", periods=20, freq="D", tz="UTC")
    table = pd.DataFrame({"shown_at": days, "x": range(20)})
    train, test = time_split(table, test_share=0.25)
    assert len(train) == 15 and len(test) == 5
    assert train["shown_at"].max() < test["shown_at"].min()
    for bad in (0, 1, -0.1, "a", True):
        with pytest.raises(InvalidInputError) as err:
            time_split(table, test_share=bad)
        assert err.value.field == "test_share"
    with pytest.raises(InvalidInputError, match="empty side"):
        time_split(table.assign(shown_at=days[0]), test_share=0.25)


def test_training_data_hash_tracks_content() -> None:
    table = pd.DataFrame({"a": [1.0, 2.0]})
    assert training_data_hash(table) == training_data_hash(table.copy())
    assert training_data_hash(table) != training_data_hash(table.assign(a=[1.0, 2.5]))


# ----------------------------------------------------------------------------- estimator


def synthetic(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.random((n, 5))
    logit = -2.0 + 3.0 * X[:, 3] + 1.5 * X[:, 2] - 0.0 * X[:, 0]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float) * 2.0
    return X, y


def test_learned_scorer_recovers_weights_and_keeps_them_non_negative() -> None:
    X, y = synthetic()
    model = LearnedScorer().fit(X, y)
    assert (model.coef_ >= 0).all()
    assert model.coef_[3] > model.coef_[2] > max(model.coef_[0], model.coef_[1])
    assert isinstance(model, Scorer)
    assert model.version.startswith("learned-")
    f = X[:7].astype(np.float32)
    np.testing.assert_allclose(model.contributions(f).sum(axis=1), model.score(f), rtol=1e-5)
    proba = model.predict_proba(X[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # A negative true effect is clamped to zero weight, never learned as negative.
    y_neg = (X[:, 0] < 0.3).astype(float)
    assert LearnedScorer().fit(X, y_neg).coef_[0] == 0.0


def test_learned_scorer_follows_sklearn_conventions() -> None:
    model = LearnedScorer(C=0.5, random_state=3)
    assert model.get_params()["C"] == 0.5
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.score(np.zeros((1, 5), dtype=np.float32))
    assert not isinstance(model, Scorer)  # an unfitted model is no scorer
    X, y = synthetic(200)
    assert model.fit(X, y) is model
    with pytest.raises(InvalidInputError, match="one class") as err:
        LearnedScorer().fit(X, np.zeros(200))
    assert err.value.field == "y"
    with pytest.raises(InvalidInputError, match="shape") as err:
        LearnedScorer().fit(X[:, :4], y)
    with pytest.raises(InvalidInputError) as err:
        LearnedScorer(C=-1).fit(X, y)
    assert err.value.field == "C"
    with pytest.raises(InvalidInputError, match="shape"):
        model.score(np.zeros((2, 4), dtype=np.float32))


_MODEL = LearnedScorer().fit(*synthetic(500, seed=2))
unit = st.floats(0.0, 1.0, allow_nan=False, width=32)


@settings(max_examples=200, deadline=None)
@given(base=st.lists(unit, min_size=5, max_size=5), factor=st.integers(0, 4), bump=unit)
def test_score_is_monotone_in_every_factor(base: list[float], factor: int, bump: float) -> None:
    low = np.asarray([base], dtype=np.float32)
    high = low.copy()
    high[0, factor] = max(high[0, factor], np.float32(bump))
    assert _MODEL.score(high)[0] >= _MODEL.score(low)[0]


def test_fit_takes_a_training_table_whole() -> None:
    X, y = synthetic(300)
    table = pd.DataFrame(X, columns=list(FACTORS)).assign(relevance=y)
    table.loc[0, "skills"] = np.nan  # acted on, never shown: left out
    model = LearnedScorer().fit(table)
    assert list(model.feature_names_in_) == list(FACTORS)
    expected = LearnedScorer().fit(X[1:], y[1:])
    np.testing.assert_allclose(model.coef_, expected.coef_)


# ----------------------------------------------------------------------------- evaluation


def test_evaluate_scorers_known_answer() -> None:
    # Participant a: v1 (hired) has the better commute, v2 (nothing) the better skills.
    table = pd.DataFrame([
        {**shown_row("a", "v1", "2026-10-01", skills=0.0, commute=1.0), "relevance": 3.0},
        {**shown_row("a", "v2", "2026-10-01", skills=1.0, commute=0.0), "relevance": 0.0},
    ])
    commute_only = DefaultScorer({"skills": 0, "occupation": 0, "language": 0,
                                  "commute": 1, "hours": 0})
    out = evaluate_scorers(table, {"default": DefaultScorer(), "commute": commute_only}, k=2)
    assert out.loc["commute", "ndcg@2"] == 1.0
    assert out.loc["default", "ndcg@2"] == pytest.approx(7 / np.log2(3) / 7)
    assert out.loc["commute", "ndcg@2_gain"] == pytest.approx(1 - 1 / np.log2(3))
    assert out.loc["default", "n_queries"] == 1.0
    assert not out.loc["default", "calibrated"]
    with pytest.raises(InvalidInputError, match="reference"):
        evaluate_scorers(table, {"default": DefaultScorer()}, reference="nope")


def test_calibration_table_bins() -> None:
    X, y = synthetic(3000, seed=4)
    model = LearnedScorer().fit(X, y)
    table = pd.DataFrame(X, columns=list(FACTORS)).assign(
        relevance=y, participant_pseudonym="p", vacancy_id=[f"v{i}" for i in range(3000)])
    bins = calibration_table(table, model, n_bins=5)
    assert bins["pairs"].sum() == 3000
    # Calibrated on its own training data: predicted and observed rates agree per bin.
    big = bins[bins["pairs"] > 200]
    np.testing.assert_allclose(big["mean_predicted"], big["observed_rate"], atol=0.05)


# ----------------------------------------------------------------------------- the loop


@pytest.fixture(scope="module")
def demo() -> tuple[Any, Matcher]:
    taxonomy = Taxonomy.load()
    market = make_demo_market(random_state=0, taxonomy=taxonomy)
    matcher = Matcher(taxonomy=taxonomy, geocoder=Geocoder.load()).fit(
        market.vacancies, market.participants)
    return market, matcher


def run_loop(demo: tuple[Any, Matcher], **simulation: Any) -> tuple[dict[str, Any], Any]:
    market, matcher = demo
    sim = simulate_outcomes(market, matcher, random_state=0, **simulation)
    table = build_training_table(sim.shown, sim.outcomes)
    train, test = time_split(table, test_share=0.25)
    model = LearnedScorer().fit(train)
    scorers = {"default": DefaultScorer(), "learned": model}
    evaluation = evaluate_scorers(test, scorers, k=10)
    attributes = sim.monitoring.merge(sim.pseudonyms, on="participant_pseudonym")
    metrics = candidate_metrics(
        evaluation, "learned", matcher=matcher, scorers=scorers,
        participant_attributes=attributes.drop(columns="participant_pseudonym"),
        training_table=train, training_attributes=sim.monitoring, vacancies=sim.vacancies)
    return metrics, sim


@pytest.mark.slow
def test_learnable_preference_is_learned_and_promoted(demo: tuple[Any, Matcher]) -> None:
    metrics, _ = run_loop(demo, preference="learnable")
    gain, se = metrics["ndcg@10_gain"], metrics["ndcg@10_gain_se"]
    assert metrics["ndcg@10"] > metrics["reference_ndcg@10"] + 0.05
    assert gain > 3 * se
    # The fairness check found no group of 20 or more people clearly below 0.8 ...
    assert metrics["impact_ratio_high_min"] >= 0.8
    decision = promotion_decision(metrics)
    # ... so the model that learned the hidden preference is promoted.
    assert decision.allowed, decision.reasons
    assert [r.split(":")[0] for r in decision.reasons] == ["passed"] * 3


@pytest.mark.slow
def test_gate_refuses_a_model_learned_from_noise(demo: tuple[Any, Matcher]) -> None:
    metrics, _ = run_loop(demo, preference="none")
    decision = promotion_decision(metrics)
    assert not decision.allowed
    assert any(r.startswith("refused: NDCG@10") for r in decision.reasons)


@pytest.mark.slow
def test_gate_refuses_a_model_learned_from_a_biased_employer(
    demo: tuple[Any, Matcher],
) -> None:
    market, matcher = demo
    unbiased = simulate_outcomes(market, matcher, random_state=0)  # same lists as below
    employer_of = dict(zip(unbiased.vacancies["vacancy_id"], unbiased.vacancies["employer_id"],
                           strict=True))
    busiest = unbiased.shown["vacancy_id"].map(employer_of).value_counts().index[0]
    metrics, _ = run_loop(demo, preference="learnable", biased_employer=busiest)
    decision = promotion_decision(metrics)
    assert not decision.allowed
    assert busiest in metrics["flagged_employers"]
    assert any("employer" in r and r.startswith("refused") for r in decision.reasons)
