"""A full disk (a small tmpfs, mounted for the test; needs root) while writing a model
or the SQLite database.

* Model: :func:`matching.persistence.save_model` onto the full disk fails with a
  ``ModelError`` naming the cause, leaves nothing behind, and the model already active
  keeps serving; once space is freed the same version can be written.
* Database: writes through the API answer 503 with ``Retry-After`` and a clear error
  (never 500), nothing of them is stored, the file passes ``PRAGMA integrity_check``,
  and the service writes again as soon as space is freed, without a restart.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from matching.errors import ModelError
from matching.persistence import save_model
from matching.scoring import DefaultScorer
from service.app import create_app
from service.db import Database
from service.settings import Settings
from tests.reliability._server import create_users
from tests.service.conftest import participant_body

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

WEIGHTS = {"skills": 0.1, "occupation": 0.1, "language": 0.1, "commute": 0.6, "hours": 0.1}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs mounted at a fresh directory (unmounted afterwards)."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(mountpoint)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs needs root: {done.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _fill(directory: Path) -> Path:
    """Write a file in ``directory`` until the disk is full; return its path."""
    filler = directory / "filler"
    chunk = b"\0" * (64 * 1024)
    with open(filler, "wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(chunk)
    with pytest.raises(OSError) as full:  # the disk is full indeed
        (directory / "probe").write_bytes(b"x" * 4096)
    assert full.value.errno == errno.ENOSPC
    (directory / "probe").unlink(missing_ok=True)
    return filler


def test_model_write_on_a_full_disk_fails_cleanly_and_the_old_model_serves(
    small_disk: Path, tmp_path: Path
) -> None:
    models = small_disk / "models"
    save_model(DefaultScorer(WEIGHTS), models, "ranker", "v1", metrics={},
               training_data_hash="0" * 64, trained_by="test")  # fmt: skip
    url = f"sqlite:///{tmp_path / 'jobmatch.db'}"
    tokens = create_users(url)
    database = Database(url)
    app = create_app(Settings(database_url=url, models_dir=models), database=database)
    try:
        with TestClient(app) as client:
            coach = {"Authorization": f"Bearer {tokens['coach']}"}
            admin = {"Authorization": f"Bearer {tokens['admin']}"}
            activated = client.post("/api/v1/models/activate", headers=admin, json={
                "name": "ranker", "version": "v1", "override_reason": "Test"})  # fmt: skip
            assert activated.status_code == 200, activated.text
            serving = activated.json()["serving"]
            pid = client.post("/api/v1/participants", json=participant_body(),
                              headers=coach).json()["id"]  # fmt: skip
            matches = f"/api/v1/participants/{pid}/matches"
            assert client.get(matches, headers=coach).json()["model_version"] == serving

            filler = _fill(small_disk)
            with pytest.raises(ModelError, match="No space left on device"):
                save_model(DefaultScorer(WEIGHTS), models, "ranker", "v2", metrics={},
                           training_data_hash="0" * 64, trained_by="test")  # fmt: skip
            assert sorted(p.name for p in (models / "ranker").iterdir()) == ["v1"]
            answer = client.get(matches, headers=coach)
            assert answer.status_code == 200 and answer.json()["model_version"] == serving
            listing = client.get("/api/v1/models", headers=admin).json()
            assert [v["version"] for v in listing["versions"]] == ["v1"]

            filler.unlink()
            save_model(DefaultScorer(WEIGHTS), models, "ranker", "v2", metrics={},
                       training_data_hash="0" * 64, trained_by="test")  # fmt: skip
            assert sorted(p.name for p in (models / "ranker").iterdir()) == ["v1", "v2"]
    finally:
        database.dispose()


def test_database_write_on_a_full_disk_answers_503_and_stays_intact(small_disk: Path) -> None:
    path = small_disk / "jobmatch.db"
    url = f"sqlite:///{path}"
    tokens = create_users(url)
    database = Database(url)
    app = create_app(Settings(database_url=url), database=database)
    coach = {"Authorization": f"Bearer {tokens['coach']}"}
    try:
        with TestClient(app) as client:
            first = client.post("/api/v1/participants", json=participant_body(name="Vorher"),
                                headers=coach)  # fmt: skip
            assert first.status_code == 201, first.text
            # An empty write-ahead log: the next write must grow a file.
            with sqlite3.connect(path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            filler = _fill(small_disk)
            for n in range(3):
                full = client.post("/api/v1/participants", json=participant_body(name=f"Voll {n}"),
                                   headers=coach)  # fmt: skip
                assert full.status_code == 503, full.text
                assert int(full.headers["Retry-After"]) > 0
                assert "Speicherplatz" in full.json()["detail"]
            assert client.get("/health/live").status_code == 200
            with sqlite3.connect(path) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

            filler.unlink()
            after = client.post("/api/v1/participants", json=participant_body(name="Nachher"),
                                headers=coach)  # fmt: skip
            assert after.status_code == 201, after.text
            names = [p["name"] for p in client.get("/api/v1/participants",
                                                   headers=coach).json()["items"]]  # fmt: skip
            assert sorted(names) == ["Nachher", "Vorher"]
    finally:
        database.dispose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
