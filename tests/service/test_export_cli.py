"""``jobmatch export training``: the analyst endpoint's table as a Parquet or CSV file."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from service.cli import app
from tests.service.conftest import World

runner = CliRunner()
_PII = ("name", "contact", "email", "phone", "address", "reason", "comment", "note", "text",
        "title", "postcode", "participant_id")


@pytest.fixture
def outcomes_world(world: World) -> tuple[World, dict[str, int]]:
    """Two participants shown one vacancy each list; three outcomes recorded, one unshown."""
    a, b = world.participant(name="Ayşe Yılmaz"), world.participant(name="Jonas Weber")
    world.shortlistable(a)
    world.shortlistable(b)
    v1, v2 = world.vacancy(), world.vacancy()
    for pid in (a, b):
        world.ok("GET", f"/participants/{pid}/matches", "coach1")
    for vid, pid, status in ((v1, a, "applied"), (v1, a, "interview"), (v1, a, "hired"),
                             (v2, b, "applied"), (v2, b, "rejected")):  # fmt: skip
        world.ok("POST", "/outcomes", "coach1", json={
            "vacancy_id": vid, "participant_id": pid, "status": status,
            "reason": "Ayşe hat zugesagt, Telefon 0521 123456"})  # fmt: skip
    return world, {"a": a, "b": b, "v1": v1, "v2": v2}


def _export(database_url: str, *args: str) -> object:
    return runner.invoke(app, ["export", "training", *args, "--database-url", database_url])


@pytest.mark.parametrize("name", ["training.parquet", "training.csv"])
def test_export_writes_the_endpoints_table(
    outcomes_world: tuple[World, dict[str, int]], database_url: str, tmp_path: Path, name: str
) -> None:
    world, ids = outcomes_world
    target = tmp_path / name
    result = _export(database_url, str(target))
    assert result.exit_code == 0, result.output
    assert "4 pairs, 1 positive" in result.output
    table = (pd.read_parquet(target) if name.endswith(".parquet")
             else pd.read_csv(target, dtype={"vacancy_id": str}))  # fmt: skip
    # Known answer: both participants were shown both vacancies; a hired v1 (3), b
    # rejected at v2 (0), and the two pairs shown without any outcome (0).
    assert len(table) == 4
    got = table.set_index("vacancy_id").groupby(level=0)["relevance"].apply(sorted).to_dict()
    assert got == {str(ids["v1"]): [0.0, 3.0], str(ids["v2"]): [0.0, 0.0]}
    assert sorted(table["status"].dropna()) == ["hired", "rejected"]
    assert table["label"].sum() == 1 and table["was_shown"].all()
    for column in table.columns:
        assert not any(word in column.lower() for word in _PII), column
    raw = target.read_bytes()
    assert b"Ay" + "ş".encode() not in raw and b"Jonas" not in raw and b"0521" not in raw
    # The same rows and grades as the analyst endpoint.
    endpoint = pd.read_csv(io.StringIO(world.call("GET", "/analytics/training-data",
                                                  "analyst").text), dtype={"vacancy_id": str})
    key = ["participant_pseudonym", "vacancy_id"]
    pd.testing.assert_frame_equal(
        table[[*key, "relevance", "status"]].sort_values(key).reset_index(drop=True),
        endpoint[[*key, "relevance", "status"]].sort_values(key).reset_index(drop=True))
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_export_format_option_overrides_the_suffix(
    outcomes_world: tuple[World, dict[str, int]], database_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "training.data"
    result = _export(database_url, str(target), "--format", "parquet")
    assert result.exit_code == 0, result.output
    assert len(pd.read_parquet(target)) == 4


def test_export_refuses_unknown_format_and_unwritable_path(
    outcomes_world: tuple[World, dict[str, int]], database_url: str, tmp_path: Path
) -> None:
    unknown = _export(database_url, str(tmp_path / "training.xlsx"))
    assert unknown.exit_code == 1 and "cannot tell the format" in unknown.output
    wrong = _export(database_url, str(tmp_path / "t.csv"), "--format", "json")
    assert wrong.exit_code == 1 and "unknown format 'json'" in wrong.output
    missing = _export(database_url, str(tmp_path / "no-such-dir" / "t.csv"))
    assert missing.exit_code == 1 and "cannot write" in missing.output
    assert list(tmp_path.iterdir()) == []
    # An existing file stays whole when the new one cannot be written.
    locked = tmp_path / "locked"
    locked.mkdir()
    old = locked / "training.csv"
    old.write_text("old content\n")
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores the mode: make the rename fail instead
            locked.chmod(0o700)
            (locked / "training.parquet").mkdir()
            blocked = _export(database_url, str(locked / "training.parquet"))
            assert blocked.exit_code == 1 and "cannot write" in blocked.output
            assert sorted(p.name for p in locked.iterdir()) == ["training.csv",
                                                                "training.parquet"]
        else:
            denied = _export(database_url, str(old))
            assert denied.exit_code == 1 and "cannot write" in denied.output
    finally:
        locked.chmod(0o700)
    assert old.read_text() == "old content\n"
