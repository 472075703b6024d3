"""The ``jobmatch`` command line (Typer's CliRunner)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from tests.service.conftest import API, World

runner = CliRunner()


def test_users_create_prints_token_last_and_revoke(world: World, database_url: str) -> None:
    result = runner.invoke(app, ["users", "create", "--name", "neu", "--role", "coach",
                                 "--database-url", database_url])  # fmt: skip
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    me = world.client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["role"] == "coach"
    result = runner.invoke(app, ["users", "revoke", "neu", "--database-url", database_url])
    assert result.exit_code == 0
    me = world.client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401


def test_users_create_refuses_bad_input(world: World, database_url: str) -> None:
    for args in (["--name", "x", "--role", "boss"], ["--name", "x", "--role", "employer"],
                 ["--name", "coach1", "--role", "coach"]):  # fmt: skip
        result = runner.invoke(app, ["users", "create", *args, "--database-url", database_url])
        assert result.exit_code == 1, result.output
    result = runner.invoke(app, ["users", "revoke", "nobody", "--database-url", database_url])
    assert result.exit_code == 1


def test_backup_is_a_consistent_sqlite_copy(world: World, database_url: str,
                                            tmp_path: Path) -> None:  # fmt: skip
    pid = world.participant()
    target = tmp_path / "backup.db"
    result = runner.invoke(app, ["backup", str(target), "--database-url", database_url])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT name FROM participants").fetchall() == [("Ayşe Kaya",)]
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (6,)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert pid
    again = runner.invoke(app, ["backup", str(target), "--database-url", database_url])
    assert again.exit_code != 0


def test_import_command_reports_rows(world: World, database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("name,postcode,skills,hours_min,hours_max\nAna,33602,Kasse,10,20\n"
                    "Bo,999,Kasse,10,20\n", encoding="utf-8")  # fmt: skip
    result = runner.invoke(app, ["import", "participants", str(path), "--coach", "coach1",
                                 "--database-url", database_url])  # fmt: skip
    assert result.exit_code == 2 and '"row": 3' in result.output
    path.write_text("name,postcode,skills,hours_min,hours_max\nAna,33602,Kasse,10,20\n",
                    encoding="utf-8")  # fmt: skip
    result = runner.invoke(app, ["import", "participants", str(path), "--coach", "coach1",
                                 "--database-url", database_url])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert world.ok("GET", "/participants", "coach1")["total"] == 1


@pytest.mark.slow
def test_demo_creates_market_and_prints_one_token_per_role(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = runner.invoke(app, ["demo", "--database-url", url])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    roles = [line.split()[0] for line in lines[1:5]]
    assert roles == ["admin", "coach", "employer", "analyst"]
    assert "http://" in lines[-1]
    again = runner.invoke(app, ["demo", "--database-url", url])
    assert again.exit_code == 0, again.output
