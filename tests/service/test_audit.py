"""The audit log: what is recorded, under pseudonyms, hash-chained; erasure and export."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from service.models import (
    AuditEntry,
    CandidateRef,
    Consent,
    Participant,
    PseudonymKey,
    Release,
)
from tests.service.conftest import World


def _audit(world: World) -> list[dict[str, Any]]:
    return world.ok("GET", "/audit?limit=100", "analyst")["items"]


def _scenario(world: World) -> tuple[int, int]:
    pid = world.participant()
    world.shortlistable(pid)
    vid = world.vacancy()
    world.ok("GET", f"/participants/{pid}/matches", "coach1")
    world.ok("GET", f"/vacancies/{vid}/candidates", "employer1")
    world.ok(
        "POST",
        f"/participants/{pid}/overrides",
        "coach1",
        json={"vacancy_id": vid, "reason_code": "language_too_low", "reason": "Kurs läuft"},
    )
    world.ok("POST", f"/vacancies/{vid}/releases", "coach1", json={"participant_id": pid})
    return pid, vid


def test_every_decision_is_audited_under_pseudonyms(world: World) -> None:
    pid, vid = _scenario(world)
    entries = _audit(world)
    actions = [e["action"] for e in entries]
    assert actions == ["consent_given", "approval_given", "matches", "candidates", "override",
                       "release"]  # fmt: skip
    pseudonyms = {p for e in entries for p in e["participants"]}
    assert len(pseudonyms) == 1 and str(pid) not in pseudonyms
    assert len({e["actor"] for e in entries if e["action"] != "candidates"}) == 1
    text = str(entries)
    assert "Ayşe" not in text and "ayse@example.org" not in text and "Kurs läuft" not in text
    matches = entries[2]
    assert matches["model_version"] and matches["payload"]["items"][0]["vacancy_id"] == vid
    assert set(matches["payload"]["items"][0]["factors"]) >= {"skills", "commute"}
    candidates = entries[3]["payload"]["items"][0]
    assert candidates["participant_id"] in pseudonyms and candidates["score"] is not None
    report = world.ok("GET", "/audit/verify", "admin")
    assert report == {"ok": True, "entries": 6, "first_bad_seq": None}


def test_tampering_breaks_the_chain(world: World, database: Any) -> None:
    _scenario(world)
    with database.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(action="nothing"))
        session.commit()
    report = world.ok("GET", "/audit/verify", "admin")
    assert report["ok"] is False and report["first_bad_seq"] == 3


def test_erasure_removes_personal_data_and_key_but_not_the_log(world: World, database: Any) -> None:
    pid, _vid = _scenario(world)
    keep = world.participant(name="Bleibt")
    before = _audit(world)
    export = world.ok("GET", f"/participants/{pid}/export", "coach1")
    assert export["participant"]["name"] == "Ayşe Kaya"
    assert [e["action"] for e in export["audit_entries"]][:2] == ["consent_given", "approval_given"]
    assert export["releases"] and export["overrides"] and export["candidate_refs"]
    assert world.call("DELETE", f"/participants/{pid}", "coach1").status_code == 204
    after = _audit(world)
    assert after[: len(before)] == before and after[-1]["action"] == "participant_erased"
    with database.session() as session:
        for model in (Participant, Consent, Release, CandidateRef, PseudonymKey):
            column = model.id if model is Participant else model.participant_id
            count = session.scalar(select(func.count()).select_from(model).where(column == pid))
            assert count == 0, model.__name__
        assert session.get(Participant, keep) is not None
    assert world.call("GET", f"/participants/{pid}/export", "coach1").status_code == 404
    assert world.ok("GET", "/audit/verify", "analyst")["ok"] is True
