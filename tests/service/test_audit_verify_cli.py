"""``jobmatch audit verify``: the chain checked from the command line, and where it breaks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from typer.testing import CliRunner

from service.cli import app as cli
from service.models import AuditEntry
from tests.service.conftest import World

runner = CliRunner()


def _scenario(world: World) -> int:
    """Eight audit records: consent, approval, matches, candidates, override, release,
    a second matches and candidates."""
    pid = world.participant()
    world.shortlistable(pid)
    vid = world.vacancy()
    world.ok("GET", f"/participants/{pid}/matches", "coach1")
    world.ok("GET", f"/vacancies/{vid}/candidates", "employer1")
    override = {"vacancy_id": vid, "reason_code": "language_too_low", "reason": "Kurs"}
    world.ok("POST", f"/participants/{pid}/overrides", "coach1", json=override)
    world.ok("POST", f"/vacancies/{vid}/releases", "coach1", json={"participant_id": pid})
    world.ok("GET", f"/participants/{pid}/matches", "coach1")
    world.ok("GET", f"/vacancies/{vid}/candidates", "employer1")
    return pid


def _verify(database_url: str) -> Any:
    return runner.invoke(cli, ["audit", "verify", "--database-url", database_url])


def test_intact_chain_prints_ok_and_the_count(world: World, database_url: str) -> None:
    _scenario(world)
    result = _verify(database_url)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "OK: 8 audit records, chain intact"
    assert world.ok("GET", "/audit/verify", "admin") == {
        "ok": True, "entries": 8, "first_bad_seq": None}  # fmt: skip


def test_altered_record_is_found_at_that_record(world: World, database: Any) -> None:
    _scenario(world)
    with database.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 5)
                        .values(payload={"vacancy_id": 999999}))  # fmt: skip
        session.commit()
    result = _verify(database.url)
    assert result.exit_code == 1
    assert "audit record 5 is altered; 4 records before it verify" in result.output
    assert world.ok("GET", "/audit/verify", "admin")["first_bad_seq"] == 5


def test_altered_record_with_recomputed_hashes_is_found_at_the_head(
    world: World, database: Any
) -> None:
    """Rewriting the last record together with its hash is caught by the head row."""
    from service.domain.audit import entry_hash

    _scenario(world)
    with database.session() as session:
        last = session.get(AuditEntry, 8)
        last.action = "nothing"
        last.hash = entry_hash(last.prev_hash, last)
        session.commit()
    result = _verify(database.url)
    assert result.exit_code == 1 and "audit record 8 is altered" in result.output


def test_deleted_record_is_found_at_that_point(world: World, database: Any) -> None:
    _scenario(world)
    with database.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
        session.commit()
    result = _verify(database.url)
    assert result.exit_code == 1
    assert "audit record 3 is missing (deleted); 2 records before it verify" in result.output
    report = world.ok("GET", "/audit/verify", "admin")
    assert report == {"ok": False, "entries": 2, "first_bad_seq": 3}


def test_deleted_last_records_are_found(world: World, database: Any) -> None:
    _scenario(world)
    with database.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq >= 7))
        session.commit()
    result = _verify(database.url)
    assert result.exit_code == 1 and "audit record 7 is missing" in result.output


def test_erasing_a_participant_leaves_the_chain_intact(world: World, database_url: str) -> None:
    pid = _scenario(world)
    assert world.call("DELETE", f"/participants/{pid}", "coach1").status_code == 204
    result = _verify(database_url)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "OK: 9 audit records, chain intact"
