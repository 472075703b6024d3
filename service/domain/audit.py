"""The append-only, hash-chained audit log and the keyed pseudonyms it uses.

People never appear in the log by id or name: an actor is ``HMAC(service secret,
"user:<id>")``, a participant ``HMAC(participant key, "participant:<id>")`` with a
random key per participant kept in ``pseudonym_keys``. Erasing a participant destroys
their key, after which their entries can no longer be linked to them; the log itself
is never edited. Each entry's hash covers its content and the previous hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from service.db_helpers import insert_ignore
from service.models import AuditEntry, AuditHead, PseudonymKey, ServiceSecret, utcnow

__all__ = [
    "AUDIT_ANCHOR",
    "GENESIS_HASH",
    "AuditLog",
    "ChainReport",
    "entry_hash",
    "jsonable",
    "load_service_secret",
    "participant_pseudonyms",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
_SECRET_NAME = "pseudonym_secret"


_PLAIN = (str, int, bool, type(None))


def jsonable(value: Any) -> Any:
    """Return ``value`` with NumPy scalars, NaN and tuples made JSON-safe."""
    kind = type(value)
    if kind in _PLAIN:  # the common cases first, by exact type (no isinstance chain)
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {str(k): jsonable(v) for k, v in value.items()}
    if kind is list:
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev_hash: str, entry: AuditEntry | Mapping[str, Any]) -> str:
    """Return the chain hash of ``entry`` (a row or its column mapping) after ``prev_hash``."""
    get = entry.get if isinstance(entry, Mapping) else lambda key: getattr(entry, key)
    body = {
        "seq": get("seq"),
        "at": cast(dt.datetime, get("at")).isoformat(timespec="microseconds"),
        "actor": get("actor"),
        "action": get("action"),
        "participants": list(get("participants") or []),
        "model_version": get("model_version"),
        "payload": get("payload"),
    }
    return hashlib.sha256(prev_hash.encode() + _canonical(body)).hexdigest()


def load_service_secret(session: Session, configured: str | None) -> bytes:
    """Return the actors' pseudonym key: the configured one, else one stored in the database.

    A missing stored key is generated once; concurrent first starts agree on one.
    """
    if configured:
        return configured.encode()
    value = session.scalar(select(ServiceSecret.value).where(ServiceSecret.name == _SECRET_NAME))
    if value is None:
        insert_ignore(
            session, ServiceSecret, [{"name": _SECRET_NAME, "value": secrets.token_hex(32)}]
        )
        session.commit()
        value = session.scalar(
            select(ServiceSecret.value).where(ServiceSecret.name == _SECRET_NAME)
        )
    session.rollback()
    assert value is not None
    return value.encode()


def _hmac(key: bytes, text: str) -> str:
    # hmac.digest: the one-shot C implementation, same value as hmac.new(...).hexdigest()
    return hmac.digest(key, text.encode(), "sha256").hex()[:32]


_K = cast(Table, PseudonymKey.__table__)
_KEYS = select(_K.c.participant_id, _K.c.key).where(
    _K.c.participant_id.in_(bindparam("ids", expanding=True))
)


def participant_pseudonyms(
    session: Session, participant_ids: Sequence[int], *, create: bool = True
) -> dict[int, str]:
    """Return each participant's pseudonym, creating missing keys when ``create``.

    Participants whose key was destroyed (erased) get none unless ``create``.
    """
    ids = sorted(set(participant_ids))
    if not ids:
        return {}
    connection = session.connection()
    keys = dict(connection.execute(_KEYS, {"ids": ids}).all())
    missing = [i for i in ids if i not in keys]
    if missing and create:
        insert_ignore(
            session,
            PseudonymKey,
            [{"participant_id": i, "key": secrets.token_hex(32)} for i in missing],
        )
        keys.update(connection.execute(_KEYS, {"ids": missing}).all())
    return {i: _hmac(bytes.fromhex(keys[i]), f"participant:{i}") for i in ids if i in keys}


_HEAD = cast(Table, AuditHead.__table__)
_ADVANCE_HEAD = (
    update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + 1)
    .returning(_HEAD.c.seq, _HEAD.c.hash)
)  # fmt: skip
_SET_HEAD_HASH = update(_HEAD).where(_HEAD.c.id == 1).values(hash=bindparam("hash"))
_INSERT_ENTRY = insert(cast(Table, AuditEntry.__table__))


class AuditLog:
    """Append entries to the audit log.

    Parameters
    ----------
    secret : bytes
        Key of the actors' pseudonyms.
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def actor(self, user_id: int | None) -> str:
        """Return the pseudonym of a user (``"system"`` for the command line)."""
        if user_id is None:
            return "system"
        return _hmac(self._secret, f"user:{user_id}")

    def append(
        self,
        session: Session,
        *,
        actor_id: int | None,
        action: str,
        participant_ids: Iterable[int] = (),
        model_version: str | None = None,
        payload: Mapping[str, Any] | None = None,
        at: dt.datetime | None = None,
        pseudonyms: Mapping[int, str] | None = None,
    ) -> dict[str, Any]:
        """Append one entry in the session's transaction (the caller commits).

        ``pseudonyms`` are those of ``participant_ids`` if the caller already has them
        (from :func:`participant_pseudonyms` in the same transaction); read otherwise.

        Updating the head row takes the write lock on every database, so concurrent
        appends form one chain; it is done last, just before the insert, to hold the
        lock briefly. ``payload`` must hold identifiers and numbers only (participants
        as pseudonyms), never names or free text.

        Returns
        -------
        dict
            The entry's columns.
        """
        ids = set(participant_ids)
        if pseudonyms is None or not ids <= pseudonyms.keys():
            pseudonyms = participant_pseudonyms(session, list(ids))
        else:
            pseudonyms = {i: pseudonyms[i] for i in ids}
        entry: dict[str, Any] = {
            "at": at or utcnow(),  # a replayed history gives its own times
            "actor": self.actor(actor_id),
            "action": action,
            "participants": [pseudonyms[i] for i in sorted(pseudonyms)],
            "model_version": model_version,
            "payload": jsonable(dict(payload or {})),
        }
        connection = session.connection()
        seq, prev = connection.execute(_ADVANCE_HEAD).one()
        entry["seq"], entry["prev_hash"] = seq, prev
        entry["hash"] = entry_hash(prev, entry)
        connection.execute(_INSERT_ENTRY, entry)
        connection.execute(_SET_HEAD_HASH, {"hash": entry["hash"]})
        return entry


@dataclass(frozen=True)
class ChainReport:
    """Result of :func:`verify_chain`.

    ``first_bad_seq`` is the first record that was altered, or the first that is
    missing (deleted from the middle or the end of the log); ``problem`` says which.
    """

    ok: bool
    entries: int
    first_bad_seq: int | None
    problem: str | None = None


#: Where :mod:`service.domain.retention` keeps ``"<seq>:<hash>"`` of the newest record it
#: pruned; verification then starts after it instead of at the genesis hash.
AUDIT_ANCHOR = "audit_anchor"


def _start(session: Session, head_seq: int) -> tuple[int, str]:
    """Return (seq, hash) the chain continues from: the pruning anchor or the genesis."""
    anchor = session.scalar(select(ServiceSecret.value).where(ServiceSecret.name == AUDIT_ANCHOR))
    first = session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq).limit(1))
    if anchor:
        seq_text, _, anchor_hash = anchor.partition(":")
        seq = int(seq_text)
        # An anchor older than the log (the log was wiped and restarted) does not apply.
        if seq <= head_seq and (first is None or first > seq):
            return seq, anchor_hash
    return 0, GENESIS_HASH


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Recompute every hash of the audit log and report the first broken link.

    Besides each record's hash and link, the sequence numbers must have no gap and the
    last record must be the one the head row names, so deleted records are found too.
    Records appended after the head was read are left for the next run.
    """
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    last_seq, prev = _start(session, head.seq)
    count = 0
    while True:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq > last_seq, AuditEntry.seq <= head.seq)
            .order_by(AuditEntry.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        for entry in rows:
            if entry.seq != last_seq + 1:
                return ChainReport(False, count, last_seq + 1, "missing")
            if entry.prev_hash != prev or entry_hash(prev, entry) != entry.hash:
                return ChainReport(False, count, entry.seq, "altered")
            prev = entry.hash
            count += 1
            last_seq = entry.seq
    if head.seq > last_seq:
        return ChainReport(False, count, last_seq + 1, "missing")
    if head.seq != last_seq or head.hash != prev:
        return ChainReport(False, count, last_seq or None, "altered")
    return ChainReport(True, count, None)
