"""Versioned artefacts: atomic save, refusals on load, listing, the promotion gate."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matching import DefaultScorer, Matcher
from matching.errors import InvalidInputError, ModelError
from matching.persistence import (
    METADATA_FILE,
    MODEL_FILE,
    library_versions,
    list_versions,
    load_model,
    promotion_decision,
    remove_incomplete,
    save_model,
)
from matching.schema import FACTORS
from matching.training import LearnedScorer
from tests.matching.conftest import make_participant, make_vacancy


def fitted(seed: int = 0) -> LearnedScorer:
    rng = np.random.default_rng(seed)
    X = rng.random((300, 5))
    y = (rng.random(300) < X[:, 3]).astype(float)
    return LearnedScorer().fit(X, y)


def save(directory: Path, version: str = "v1", model: Any = None, **extra: Any) -> Path:
    return save_model(
        model if model is not None else fitted(), directory, "ranker", version,
        metrics={"ndcg@10": 0.5, "brier": float("nan"), **extra},
        training_data_hash="sha256:abc", trained_by="analyst-1",
    )


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = fitted()
    path = save(tmp_path, model=model)
    assert path == tmp_path / "ranker" / "v1"
    assert sorted(p.name for p in path.iterdir()) == sorted([MODEL_FILE, METADATA_FILE])
    scorer, meta = load_model(path)
    assert scorer.version == "ranker/v1" == meta["model_version"]
    assert model.model_version is None  # the caller's model is not changed
    probe = np.random.default_rng(1).random((4, 5)).astype(np.float32)
    np.testing.assert_array_equal(scorer.score(probe), model.score(probe))
    assert meta["feature_schema"] == list(FACTORS)
    assert meta["libraries"] == library_versions()
    assert set(meta["libraries"]) == {"python", "numpy", "scipy", "scikit-learn", "joblib",
                                      "pandas"}
    assert meta["metrics"] == {"ndcg@10": 0.5, "brier": None}
    assert meta["parameters"]["C"] == 1.0
    assert meta["trained_by"] == "analyst-1"
    assert meta["training_data_hash"] == "sha256:abc"
    assert len(meta["sha256"]) == 64


def test_default_scorer_can_be_saved_too(tmp_path: Path) -> None:
    scorer, meta = load_model(save(tmp_path, model=DefaultScorer()))
    assert scorer.version == DefaultScorer().version == meta["model_version"]


def test_versions_are_immutable_and_names_checked(tmp_path: Path) -> None:
    save(tmp_path)
    with pytest.raises(ModelError, match="exists already"):
        save(tmp_path)
    for bad in ("../x", "", ".hidden", "a/b", "x" * 65):
        with pytest.raises(InvalidInputError) as err:
            save(tmp_path, version=bad)
        assert err.value.field == "version"
    with pytest.raises(InvalidInputError) as err:
        save(tmp_path, version="v2", model=object())
    assert err.value.field == "model"
    assert [p.name for p in (tmp_path / "ranker").iterdir()] == ["v1"]


def test_flipped_byte_is_refused(tmp_path: Path) -> None:
    path = save(tmp_path)
    blob = bytearray((path / MODEL_FILE).read_bytes())
    blob[len(blob) // 2] ^= 0x01
    (path / MODEL_FILE).write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="corrupt: SHA-256"):
        load_model(path)


def rewrite_metadata(path: Path, **changes: Any) -> None:
    meta = json.loads((path / METADATA_FILE).read_text())
    meta.update(changes)
    (path / METADATA_FILE).write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"feature_schema": ["skills", "occupation", "language", "commute"]},
         "wrong feature schema"),
        ({"format": 99}, "format 99"),
        ({"libraries": {**library_versions(), "scikit-learn": "0.24.2"}},
         "incompatible scikit-learn"),
        ({"libraries": {**library_versions(), "numpy": "1.26.4"}}, "incompatible numpy")
        if not library_versions()["numpy"].startswith("1.") else
        ({"libraries": {**library_versions(), "numpy": "2.0.0"}}, "incompatible numpy"),
        ({"model_version": "ranker/other"}, "reports version"),
    ],
)
def test_incompatible_metadata_is_refused(tmp_path: Path, change: dict, message: str) -> None:
    path = save(tmp_path)
    rewrite_metadata(path, **change)
    with pytest.raises(ModelError, match=message):
        load_model(path)


def test_missing_and_corrupt_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing"):
        load_model(tmp_path / "ranker" / "nope")
    path = save(tmp_path)
    (path / MODEL_FILE).unlink()
    with pytest.raises(ModelError, match=r"model\.joblib is missing"):
        load_model(path)
    path = save(tmp_path, version="v2")
    (path / METADATA_FILE).write_text("{not json")
    with pytest.raises(ModelError, match="corrupt"):
        load_model(path)
    path = save(tmp_path, version="v3")
    rewrite_metadata(path)  # still valid
    meta = json.loads((path / METADATA_FILE).read_text())
    del meta["sha256"]
    (path / METADATA_FILE).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="missing sha256"):
        load_model(path)


def test_list_versions_skips_temporary_directories(tmp_path: Path) -> None:
    save(tmp_path, "v1")
    save(tmp_path, "v2")
    (tmp_path / "ranker" / ".tmp-v3-deadbeef").mkdir()
    (tmp_path / "ranker" / "broken").mkdir()
    infos = list_versions(tmp_path, "ranker")
    assert [i.version for i in infos if i.problem is None] == ["v1", "v2"]
    assert [i.version for i in infos if i.problem] == ["broken"]
    assert infos[-1].to_dict()["version"] in {"v2", "broken"}
    assert list_versions(tmp_path, "absent") == []
    removed = remove_incomplete(tmp_path, "ranker")
    assert [p.name for p in removed] == [".tmp-v3-deadbeef"]


def padded_model() -> LearnedScorer:
    model = fitted()
    rng = np.random.default_rng(0)
    model.padding_ = rng.integers(0, 255, 16_000_000, dtype=np.uint8)  # a save takes a while
    return model


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="kill -9 of a forked saver needs POSIX")
def test_kill_9_during_save_leaves_a_loadable_model(tmp_path: Path) -> None:
    model = padded_model()
    started = time.perf_counter()
    save(tmp_path, "old", model=model)
    duration = time.perf_counter() - started
    rng = random.Random(7)
    present = []
    for trial in range(15):
        version = f"new{trial}"
        pid = os.fork()
        if pid == 0:  # the child saves and is killed at a random moment
            try:
                save(tmp_path, version, model=model)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0, 3.0 * duration))  # before, during or after the save
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        # Every listed version loads; the old one always does; the new one is all or nothing.
        for info in list_versions(tmp_path, "ranker"):
            assert info.problem is None, info.problem
            load_model(info.path)
        load_model(tmp_path / "ranker" / "old")
        present.append((tmp_path / "ranker" / version).exists())
    remove_incomplete(tmp_path, "ranker")
    assert not [p for p in (tmp_path / "ranker").iterdir() if p.name.startswith(".")]
    assert len(present) == 15


# ----------------------------------------------------------------------------- gate


BASE = {
    "ndcg@10": 0.40, "ndcg@10_se": 0.02, "ndcg@10_gain_se": 0.01,
    "reference_ndcg@10": 0.30, "impact_ratio_min": 0.85, "impact_ratio_group": "sex=female",
    "reference_impact_ratio_min": 0.9, "employer_label_flags": 0, "flagged_employers": [],
}


def test_gate_allows_a_clear_improvement_over_the_default() -> None:
    decision = promotion_decision(BASE)
    assert decision.allowed
    assert all(r.startswith("passed") for r in decision.reasons)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"ndcg@10": 0.315}, "does not beat"),  # gain 0.015 < 1.96 * 0.01
        ({"ndcg@10": None}, "missing"),
        ({"impact_ratio_min": 0.79}, "below 0.800"),
        ({"impact_ratio_min": None}, "no shortlist impact ratio"),
        ({"employer_label_flags": 1, "flagged_employers": ["emp-1"]}, "emp-1"),
        ({"employer_label_flags": None}, "no employer-level"),
    ],
)
def test_gate_refuses(change: dict[str, Any], words: str) -> None:
    decision = promotion_decision({**BASE, **change})
    assert not decision.allowed
    assert any(words in r for r in decision.reasons if r.startswith("refused"))


def test_gate_against_a_learned_active_model() -> None:
    active = {"ndcg@10": 0.35, "ndcg@10_se": 0.01, "impact_ratio_min": 0.7}
    # gain 0.05 > 1.96 * hypot(0.02, 0.01) = 0.0438; the active is already below 0.8, so the
    # candidate may not fall more than 0.05 below it.
    assert promotion_decision({**BASE, "impact_ratio_min": 0.66}, active).allowed
    refused = promotion_decision({**BASE, "impact_ratio_min": 0.64}, active)
    assert not refused.allowed
    assert "active model's (0.700)" in " ".join(refused.reasons)
    assert not promotion_decision({**BASE, "ndcg@10": 0.39}, active).allowed


def test_gate_reads_the_impact_ratio_interval() -> None:
    # A point estimate below 0.8 whose 90 % interval reaches 0.8 is named for review only.
    noisy = {**BASE, "impact_ratio_min": 0.72, "impact_ratio_group": "sex=female",
             "impact_ratio_high_min": 0.95, "impact_ratio_high_group": "sex=female",
             "impact_ratio_review": ["sex=female"], "reference_impact_ratio_high_min": 1.0}
    decision = promotion_decision(noisy)
    assert decision.allowed, decision.reasons
    assert "for review, point estimate below 0.8: sex=female" in decision.reasons[1]
    # The whole interval below 0.8: the group is disadvantaged beyond chance.
    clear = {**noisy, "impact_ratio_min": 0.55, "impact_ratio_high_min": 0.76}
    refused = promotion_decision(clear)
    assert not refused.allowed and refused.reasons[1].startswith("refused: lowest upper 90 %")
    # The default is clearly below the line too: the candidate may not lower it further.
    both = {**clear, "reference_impact_ratio_min": 0.58, "reference_impact_ratio_high_min": 0.7}
    assert promotion_decision(both).allowed
    assert not promotion_decision({**both, "impact_ratio_min": 0.52}).allowed


def test_a_loaded_model_serves_a_matcher_and_the_default_takes_over_again(
    tmp_path: Path, market: Callable[..., Matcher], uri: Callable[[str], str],
) -> None:
    skills = [{"skill": uri("stack goods"), "essential": True}]
    matcher = market(
        [make_vacancy(f"v{i}", skills=skills, postcode=code)
         for i, code in enumerate(("33609", "33647", "33602"))],
        [make_participant("p1", skills=[uri("stack goods")])],
    )
    scorer, _ = load_model(save(tmp_path))
    matcher.set_scorer(scorer)
    result = matcher.match_participant("p1", limit=3)
    assert result.model_version == "ranker/v1"
    for item in result.items:
        assert sum(item.contributions.values()) == pytest.approx(item.score, abs=1e-3)
    scores = [item.score for item in result.items]
    assert scores == sorted(scores, reverse=True)
    matcher.set_scorer(DefaultScorer())  # the kill switch
    assert matcher.match_participant("p1").model_version == DefaultScorer().version
