"""The learning loop's service side: training data from the audit log, model versions,
activation through the promotion gate, and the kill switch.

The training data are built only from the audit log (pseudonyms, vacancy ids, factor
values, statuses), so they survive erasures without naming anyone. Activating a model
records a :class:`~service.models.ModelActivation` and an index change, so every worker
process swaps to the new scorer on its next request; a model that fails to load is
refused and the current one keeps serving.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching import DefaultScorer
from matching.errors import InvalidInputError, ModelError
from matching.persistence import list_versions, load_model, promotion_decision
from matching.schema import FACTORS
from matching.training import build_training_table
from service.auth import Principal
from service.context import Services
from service.db import READ_ONLY
from service.errors import ConflictError, NotFoundError
from service.models import AuditEntry, ModelActivation, utcnow
from service.scoring import MODEL, record_change

__all__ = [
    "EXPORT_FORMATS",
    "activate_model",
    "active_model",
    "audit_frames",
    "deactivate_model",
    "export_format",
    "export_training_table",
    "list_models",
    "training_table",
]

#: File formats of the training-data export, by the suffixes that select them.
EXPORT_FORMATS: dict[str, tuple[str, ...]] = {"parquet": (".parquet", ".pq"), "csv": (".csv",)}


def audit_frames(session: Session) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the shown items and the outcomes recorded in the audit log.

    Returns
    -------
    (shown, outcomes) : DataFrames
        ``shown``: participant_pseudonym, vacancy_id, shown_at, model_version, rank and
        one column per factor (ranked ``matches`` and ``candidates`` answers only);
        ``outcomes``: participant_pseudonym, vacancy_id, status, at.
    """
    shown: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.at, AuditEntry.participants,
               AuditEntry.model_version, AuditEntry.payload)
        .where(AuditEntry.action.in_(["matches", "candidates", "outcome"]))
        .order_by(AuditEntry.seq)
    )  # fmt: skip
    for action, at, participants, model_version, payload in rows:
        if action == "outcome":
            if participants:
                outcomes.append({"participant_pseudonym": participants[0],
                                 "vacancy_id": str(payload["vacancy_id"]),
                                 "status": payload["status"], "at": at})  # fmt: skip
            continue
        for item in payload.get("items", []):
            factors = item.get("factors")
            if not factors:
                continue  # unranked lists (objection to profiling) are no training data
            if action == "matches":
                person, vacancy = (participants or [None])[0], item["vacancy_id"]
            else:
                person, vacancy = item["participant_id"], payload["vacancy_id"]
            if person is None:
                continue
            shown.append({"participant_pseudonym": person, "vacancy_id": str(vacancy),
                          "shown_at": at, "model_version": model_version,
                          "rank": item.get("rank"),
                          **{f: factors.get(f) for f in FACTORS}})  # fmt: skip
    shown_columns = ["participant_pseudonym", "vacancy_id", "shown_at", "model_version",
                     "rank", *FACTORS]  # fmt: skip
    outcome_columns = ["participant_pseudonym", "vacancy_id", "status", "at"]
    return (pd.DataFrame(shown, columns=shown_columns),
            pd.DataFrame(outcomes, columns=outcome_columns))  # fmt: skip


def training_table(session: Session) -> pd.DataFrame:
    """The pseudonymous training table (:func:`matching.training.build_training_table`)."""
    shown, outcomes = audit_frames(session)
    return build_training_table(shown, outcomes)


def export_format(path: Path, format: str | None = None) -> Literal["parquet", "csv"]:
    """The export format: ``format`` if given, else the one the file suffix names.

    Raises
    ------
    InvalidInputError
        An unknown format, or no format and a suffix that names none.
    """
    if format is not None:
        if format.lower() not in EXPORT_FORMATS:
            raise InvalidInputError(
                f"unknown format {format!r}; use {' or '.join(EXPORT_FORMATS)}", field="format")
        return "parquet" if format.lower() == "parquet" else "csv"
    suffix = path.suffix.lower()
    for name, suffixes in EXPORT_FORMATS.items():
        if suffix in suffixes:
            return "parquet" if name == "parquet" else "csv"
    raise InvalidInputError(
        f"cannot tell the format from {path.name!r}; name it *.parquet or *.csv or pass "
        "--format parquet|csv", field="format")


def export_training_table(
    session: Session, path: str | os.PathLike[str], format: str | None = None
) -> pd.DataFrame:
    """Write the pseudonymous training table (:func:`training_table`) to ``path``.

    The table is the analyst endpoint's. It is written to a temporary file in the target's
    directory, flushed to disk and renamed over ``path``, so a reader (or a crash) never
    sees half a file; on any error the temporary file is removed and ``path`` is left as
    it was.

    Returns
    -------
    pandas.DataFrame
        The table written.

    Raises
    ------
    InvalidInputError
        Unknown format.
    OSError
        The directory does not exist or is not writable.
    """
    target = Path(path)
    chosen = export_format(target, format)
    table = training_table(session)
    directory = target.parent if str(target.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            if chosen == "parquet":
                table.to_parquet(stream, index=False)
            else:
                stream.write(table.to_csv(index=False).encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return table


def active_model(session: Session) -> dict[str, Any] | None:
    """The newest activation, or None when none was ever recorded (the default is used)."""
    row = session.scalar(select(ModelActivation).order_by(ModelActivation.id.desc()).limit(1))
    if row is None:
        return None
    return {"name": row.name, "version": row.version, "model_version": row.model_version,
            "activated_at": row.activated_at.isoformat(), "activated_by": row.activated_by,
            "reason": row.reason, "decision": row.decision}  # fmt: skip


def list_models(session: Session, services: Services) -> dict[str, Any]:
    """Every model version under ``models_dir`` and the one in force."""
    root = Path(services.settings.models_dir)
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(
        ".")) if root.is_dir() else []  # fmt: skip
    versions = [info.to_dict() for name in names for info in list_versions(root, name)]
    return {
        "active": active_model(session),
        "serving": services.index.model_version if services.index.ready else None,
        "problem": services.index.model_problem,
        "versions": versions,
    }


def _record(
    session: Session, services: Services, user: Principal, activation: ModelActivation
) -> None:
    session.add(activation)
    session.flush()
    record_change(session, MODEL, activation.id)
    services.audit().append(
        session, actor_id=user.id, action="model_activated",
        model_version=activation.model_version,
        payload={"name": activation.name, "version": activation.version,
                 "decision": activation.decision},
    )  # fmt: skip
    session.commit()
    with services.db.session() as fresh:
        fresh.connection(execution_options=READ_ONLY)
        services.index.apply_model_now(fresh)


def activate_model(
    session: Session,
    services: Services,
    user: Principal,
    *,
    name: str,
    version: str,
    override_reason: str | None,
) -> dict[str, Any]:
    """Activate a model version if it loads and passes the promotion gate.

    An admin may override a refusal of the gate (never a failed load) with a reason,
    which is recorded.

    Raises
    ------
    NotFoundError
        No such version.
    ModelError
        The artefact is corrupt or incompatible (answered 503 ``model_unavailable``).
    ConflictError
        The gate refused and no override reason was given.
    """
    root = Path(services.settings.models_dir)
    path = root / name / version
    if not path.is_dir() or name.startswith(".") or version.startswith("."):
        raise NotFoundError(f"Modell {name}/{version} nicht gefunden", field="version")
    scorer, metadata = load_model(path)
    current = active_model(session)
    active_metrics = None
    if current is not None and current["name"] is not None:
        try:
            _, active_metadata = load_model(root / current["name"] / current["version"])
            active_metrics = active_metadata.get("metrics")
        except ModelError:
            active_metrics = None
    decision = promotion_decision(metadata.get("metrics") or {}, active_metrics)
    if not decision.allowed and not override_reason:
        raise ConflictError("Freigabe verweigert: " + "; ".join(decision.reasons))
    activation = ModelActivation(
        name=name, version=version, model_version=scorer.version, activated_at=utcnow(),
        activated_by=user.id, reason=override_reason,
        decision={"allowed": decision.allowed, "reasons": decision.reasons,
                  "overridden": not decision.allowed},
    )  # fmt: skip
    _record(session, services, user, activation)
    return {"active": active_model(session), "serving": services.index.model_version}


def deactivate_model(
    session: Session, services: Services, user: Principal, *, reason: str
) -> dict[str, Any]:
    """The kill switch: go back to the transparent default scorer."""
    activation = ModelActivation(
        name=None, version=None, model_version=DefaultScorer().version, activated_at=utcnow(),
        activated_by=user.id, reason=reason, decision={"kill_switch": True},
    )  # fmt: skip
    _record(session, services, user, activation)
    return {"active": active_model(session), "serving": services.index.model_version}
