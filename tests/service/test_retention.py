"""``jobmatch retention run``: closed participants past retention are erased as DELETE
erases them, the others are kept, and the audit log stays verifiable and at least six
months long."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from service.cli import app as cli
from service.models import AuditEntry, Consent, Participant, PseudonymKey, utcnow
from service.settings import Settings
from tests.service.conftest import World

runner = CliRunner()


def _age(database: Any, pid: int, *, days: int, active: bool) -> None:
    with database.session() as session:
        changed = utcnow() - dt.timedelta(days=days)
        session.execute(
            update(Participant)
            .where(Participant.id == pid)
            .values(active=active, updated_at=changed)
        )
        session.commit()


def _retention(database: Any, *args: str) -> Any:
    return runner.invoke(cli, ["retention", "run", *args, "--database-url", database.url])


def _count(database: Any, model: Any, pid: int) -> int:
    column = model.id if model is Participant else model.participant_id
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(column == pid)))


def test_closed_participant_past_retention_is_erased_the_others_kept(
    world: World, database: Any
) -> None:
    old_closed = world.participant(name="Alt Geschlossen")
    recent_closed = world.participant(name="Neu Geschlossen")
    old_open = world.participant(name="Alt Offen")
    for pid in (old_closed, recent_closed, old_open):
        world.shortlistable(pid)
    _age(database, old_closed, days=400, active=False)
    _age(database, recent_closed, days=10, active=False)
    _age(database, old_open, days=400, active=True)

    dry = _retention(database, "--dry-run", "--days", "365")
    assert dry.exit_code == 0, dry.output
    assert "would erase 1 participants" in dry.output and f"(ids: {old_closed})" in dry.output
    assert _count(database, Participant, old_closed) == 1

    result = _retention(database, "--days", "365")
    assert result.exit_code == 0, result.output
    assert "erased 1 participants" in result.output and f"(ids: {old_closed})" in result.output
    assert "audit log kept in full" in result.output
    for model in (Participant, Consent, PseudonymKey):
        assert _count(database, model, old_closed) == 0, model.__name__
    for pid in (recent_closed, old_open):
        assert _count(database, Participant, pid) == 1 and _count(database, PseudonymKey, pid) == 1
    assert world.call("GET", f"/participants/{old_closed}", "coach1").status_code == 404
    last = world.ok("GET", "/audit?limit=100", "analyst")["items"][-1]
    assert last["action"] == "participant_erased" and last["actor"] == "system"
    verify = runner.invoke(cli, ["audit", "verify", "--database-url", database.url])
    assert verify.exit_code == 0 and verify.output.startswith("OK: 7 audit records")

    again = _retention(database, "--days", "365")
    assert again.exit_code == 0 and "erased 0 participants" in again.output


def test_retention_period_comes_from_the_setting(
    world: World, database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.settings import get_settings

    pid = world.participant()
    _age(database, pid, days=40, active=False)
    monkeypatch.setenv("JOBMATCH_RETENTION_DAYS", "30")
    get_settings.cache_clear()
    try:
        result = _retention(database, "--dry-run")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0 and f"(ids: {pid})" in result.output
    assert Settings().retention_days == 30


def test_audit_log_is_kept_six_months_and_pruned_only_from_the_start(
    world: World, app: Any, database: Any
) -> None:
    services = app.state.services
    now = utcnow()
    with database.session() as session:
        for days in (400, 300, 250):
            services.audit().append(session, actor_id=None, action="replayed",
                                    at=now - dt.timedelta(days=days))  # fmt: skip
        session.commit()
    pid = world.participant()
    world.shortlistable(pid)  # two records of today: seq 4 and 5

    refused = _retention(database, "--audit-days", "100")
    assert refused.exit_code == 1 and "mindestens 183 Tage" in refused.output
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 5

    dry = _retention(database, "--audit-days", "280", "--dry-run")
    assert dry.exit_code == 0 and "would prune 2 audit records" in dry.output
    result = _retention(database, "--audit-days", "280")
    assert result.exit_code == 0 and "pruned 2 audit records" in result.output
    with database.session() as session:
        assert list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq))) == [3, 4, 5]
    verify = runner.invoke(cli, ["audit", "verify", "--database-url", database.url])
    assert verify.exit_code == 0 and verify.output.startswith("OK: 3 audit records"), verify.output
    world.ok("POST", f"/participants/{pid}/approval", "coach1", json={"approved": False})
    assert world.ok("GET", "/audit/verify", "admin") == {
        "ok": True, "entries": 4, "first_bad_seq": None}  # fmt: skip

    with database.session() as session:  # deleting the oldest record left is still found
        session.execute(AuditEntry.__table__.delete().where(AuditEntry.seq == 3))
        session.commit()
    verify = runner.invoke(cli, ["audit", "verify", "--database-url", database.url])
    assert verify.exit_code == 1 and "audit record 3 is missing" in verify.output


def test_broken_chain_is_not_pruned(world: World, app: Any, database: Any) -> None:
    services = app.state.services
    with database.session() as session:
        for days in (400, 300):
            services.audit().append(session, actor_id=None, action="replayed",
                                    at=utcnow() - dt.timedelta(days=days))  # fmt: skip
        session.commit()
        session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(action="x"))
        session.commit()
    result = _retention(database, "--audit-days", "200")
    assert result.exit_code == 1 and "bei Eintrag 2 unterbrochen" in result.output
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 2


def test_audit_retention_setting_refuses_less_than_six_months() -> None:
    with pytest.raises(ValidationError):
        Settings(audit_retention_days=182)
    assert Settings(audit_retention_days=183).audit_retention_days == 183
