"""Scoring models: activation through the gate, override with a reason, corrupt
artefacts refused, the kill switch, every worker swapping; training data export."""

from __future__ import annotations

import io
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from matching.persistence import save_model
from matching.schema import FACTORS
from matching.scoring import DefaultScorer
from service.app import create_app
from service.db import Database
from service.settings import Settings
from tests.service.conftest import World

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient


@pytest.fixture
def models_world(world: World, database: Database, tmp_path: Path) -> Any:
    """A world whose app reads models from a temporary directory with two versions."""
    weights = {"skills": 0.1, "occupation": 0.1, "language": 0.1, "commute": 0.6, "hours": 0.1}
    for version in ("v1", "v2"):
        save_model(DefaultScorer(weights), tmp_path, "ranker", version, metrics={},
                   training_data_hash="0" * 64, trained_by="test")  # fmt: skip
    (tmp_path / "ranker" / "v2" / "model.joblib").write_bytes(b"not a model")
    settings = Settings(database_url=database.url, models_dir=tmp_path)
    app = create_app(settings, database=database)
    with TestClient(app) as client:
        yield World(client, world.tokens, world.ids), app


def test_activate_override_kill_switch(models_world: Any, database: Database) -> None:
    w, app = models_world
    pid = w.participant()
    w.vacancy()
    default_version = w.ok("GET", f"/participants/{pid}/matches", "coach1")["model_version"]
    listing = w.ok("GET", "/models", "analyst")
    assert {v["version"] for v in listing["versions"]} == {"v1", "v2"}
    assert listing["active"] is None and listing["serving"] == default_version
    refused = w.call("POST", "/models/activate", "admin", json={"name": "ranker", "version": "v1"})
    assert refused.status_code == 409 and "Freigabe verweigert" in refused.json()["detail"]
    done = w.ok(
        "POST",
        "/models/activate",
        "admin",
        json={"name": "ranker", "version": "v1", "override_reason": "Pilot mit Einverständnis"},
    )
    assert done["active"]["decision"]["overridden"] is True
    learned = done["serving"]
    assert learned != default_version and done["active"]["model_version"] == learned
    assert w.ok("GET", f"/participants/{pid}/matches", "coach1")["model_version"] == learned
    other_db = Database(database.url)
    settings = Settings(database_url=database.url, models_dir=app.state.settings.models_dir)
    other = create_app(settings, database=other_db)
    try:
        with TestClient(other) as client:
            b = World(client, w.tokens, w.ids)
            assert b.ok("GET", f"/participants/{pid}/matches", "coach1")["model_version"] == learned
            corrupt = w.call(
                "POST",
                "/models/activate",
                "admin",
                json={"name": "ranker", "version": "v2", "override_reason": "x"},
            )
            assert corrupt.status_code == 503 and corrupt.json()["error"] == "model_unavailable"
            assert w.ok("GET", "/models", "admin")["serving"] == learned
            w.ok("POST", "/models/deactivate", "admin", json={"reason": "Auffälligkeit prüfen"})
            assert b.ok("GET", f"/participants/{pid}/matches", "coach1")["model_version"] == (
                default_version
            )
    finally:
        other_db.dispose()
    missing = w.call("POST", "/models/activate", "admin", json={"name": "ranker", "version": "v9"})
    assert missing.status_code == 404
    actions = [e["action"] for e in w.ok("GET", "/audit", "admin")["items"]]
    assert actions.count("model_activated") == 2


def test_training_data_is_pseudonymous(world: World) -> None:
    pid = world.participant()
    world.shortlistable(pid)
    vid = world.vacancy()
    world.ok("GET", f"/participants/{pid}/matches", "coach1")
    world.ok("POST", "/outcomes", "coach1",
             json={"vacancy_id": vid, "participant_id": pid, "status": "hired",
                   "reason": "Ayşe hat zugesagt"})  # fmt: skip
    response = world.call("GET", "/analytics/training-data", "analyst")
    assert response.status_code == 200 and "Ayşe" not in response.text
    table = pd.read_csv(io.StringIO(response.text))
    assert len(table) == 1 and table["status"].tolist() == ["hired"]
    assert table["vacancy_id"].tolist() == [vid] and table["label"].tolist() == [True]
    as_json = world.ok("GET", "/analytics/training-data?format=json", "admin")
    assert as_json[0]["participant_pseudonym"] == table["participant_pseudonym"][0]


def test_models_command_line(world: World, database: Database, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from service.cli import app as cli

    save_model(DefaultScorer({"skills": 0.5, "occupation": 0.2, "language": 0.1, "commute": 0.1,
                              "hours": 0.1}), tmp_path, "ranker", "v1", metrics={},
               training_data_hash="0" * 64, trained_by="test")  # fmt: skip
    runner = CliRunner(env={"JOBMATCH_MODELS_DIR": str(tmp_path)})
    from service.settings import get_settings

    get_settings.cache_clear()
    try:
        url = ["--database-url", database.url]
        listed = runner.invoke(cli, ["models", "list", *url])
        assert listed.exit_code == 0 and '"version": "v1"' in listed.output
        refused = runner.invoke(cli, ["models", "activate", "ranker", "v1", "--admin", "admin",
                                      *url])  # fmt: skip
        assert refused.exit_code == 1 and "Freigabe verweigert" in refused.output
        done = runner.invoke(cli, ["models", "activate", "ranker", "v1", "--admin", "admin",
                                   "--override-reason", "Pilot", *url])  # fmt: skip
        assert done.exit_code == 0, done.output
        wrong = runner.invoke(cli, ["models", "deactivate", "--admin", "coach1",
                                    "--reason", "x", *url])  # fmt: skip
        assert wrong.exit_code == 1
        off = runner.invoke(cli, ["models", "deactivate", "--admin", "admin", "--reason", "x",
                                  *url])  # fmt: skip
        assert off.exit_code == 0 and '"kill_switch": true' in off.output
    finally:
        get_settings.cache_clear()


_PASSING = {"ndcg@10": 0.40, "ndcg@10_se": 0.02, "ndcg@10_gain_se": 0.01,
            "reference_ndcg@10": 0.30, "impact_ratio_min": 0.9, "impact_ratio_group": "sex=male",
            "impact_ratio_high_min": 1.1, "impact_ratio_high_group": "sex=male",
            "impact_ratio_review": [], "reference_impact_ratio_min": 0.85,
            "reference_impact_ratio_high_min": 1.0, "employer_label_flags": 0,
            "flagged_employers": []}  # fmt: skip
_WEIGHTS = {
    "a": {"skills": 0.1, "occupation": 0.1, "language": 0.1, "commute": 0.6, "hours": 0.1},
    "b": {"skills": 0.6, "occupation": 0.1, "language": 0.1, "commute": 0.1, "hours": 0.1},
}


@pytest.fixture
def two_models(world: World, database: Database, tmp_path: Path) -> Any:
    """An app reading two valid versions, ``ranker/a`` and ``ranker/b``, of known weights."""
    for version, weights in _WEIGHTS.items():
        save_model(DefaultScorer(weights), tmp_path, "ranker", version, metrics=_PASSING,
                   training_data_hash="0" * 64, trained_by="test")  # fmt: skip
    settings = Settings(database_url=database.url, models_dir=tmp_path, rate_limit_per_second=0)
    app = create_app(settings, database=database)
    with TestClient(app) as client:
        yield World(client, world.tokens, world.ids)


def test_gate_activates_a_passing_model_without_override(two_models: World) -> None:
    w = two_models
    pid = w.participant()
    w.vacancy()
    done = w.ok("POST", "/models/activate", "admin", json={"name": "ranker", "version": "a"})
    assert done["active"]["decision"] == {
        "allowed": True, "overridden": False, "reasons": done["active"]["decision"]["reasons"]}
    assert all(r.startswith("passed") for r in done["active"]["decision"]["reasons"])
    serving = DefaultScorer(_WEIGHTS["a"]).version  # a saved default reports its weights
    assert done["serving"] == serving
    assert w.ok("GET", f"/participants/{pid}/matches", "coach1")["model_version"] == serving
    # Against an active learned model with the same figures there is no gain: refused.
    again = w.call("POST", "/models/activate", "admin", json={"name": "ranker", "version": "b"})
    assert again.status_code == 409 and "does not beat the active model" in again.text


def test_ten_swaps_during_concurrent_requests(two_models: World) -> None:
    """0 errors, and every answer is scored wholly by the version it names."""
    w = two_models
    pids = [w.participant() for _ in range(3)]
    for _ in range(4):
        w.vacancy()
    scorers = {s.version: s for s in (DefaultScorer(_WEIGHTS["a"]), DefaultScorer(_WEIGHTS["b"]),
                                      DefaultScorer())}  # fmt: skip
    answers: list[Any] = []
    stop = threading.Event()

    def stream(pid: int) -> None:
        while not stop.is_set():
            response = w.call("GET", f"/participants/{pid}/matches", "coach1")
            answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=stream, args=(pid,)) for pid in pids]
    for thread in threads:
        thread.start()
    try:
        for i in range(10):
            version = "ab"[i % 2]
            w.ok("POST", "/models/activate", "admin", json={
                "name": "ranker", "version": version, "override_reason": "Wechseltest"})
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    failed = [(status, body) for status, body in answers if status != 200]
    assert answers and not failed, (len(answers), failed[:3])
    seen = {body["model_version"] for _, body in answers}
    assert seen <= set(scorers) and len(seen) >= 2
    for _, body in answers:
        scorer = scorers[body["model_version"]]
        for item in body["items"]:
            factors = np.asarray([[item["factors"][f] for f in FACTORS]], dtype=np.float32)
            assert item["score"] == pytest.approx(float(scorer.score(factors)[0]), abs=1e-3)
