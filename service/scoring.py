"""The glue between the database and the scoring library's in-memory index.

:class:`ScoringIndex` holds one :class:`matching.Matcher`. It is filled from the
database once (:meth:`ScoringIndex.load`) and then kept current change by change:
every write that touches scored data records an :class:`~service.models.IndexChange`
and upserts or removes the row in the matcher before committing; every other worker
process picks the change up on its next request (:meth:`ScoringIndex.sync`), reading
only the changed rows. Nothing is rebuilt per request and no vacancy or participant
table is read per request. Names and contacts never enter the matcher.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import bindparam, delete, func, or_, select
from sqlalchemy.orm import Session

from matching import DefaultScorer, Matcher
from matching.errors import ModelError
from matching.persistence import load_model
from matching.schema import P, V
from service.db import READ_ONLY
from service.models import IndexChange, ModelActivation, Participant, Vacancy

__all__ = [
    "CHANGE_RETENTION",
    "MODEL",
    "PARTICIPANT",
    "VACANCY",
    "ScoringIndex",
    "participant_frame",
    "record_change",
    "scored_terms",
    "vacancy_frame",
]

PARTICIPANT = "participant"
VACANCY = "vacancy"
MODEL = "model"

_log = logging.getLogger("service.scoring")

#: How long change records are kept; a worker idle for longer reloads its index.
CHANGE_RETENTION = dt.timedelta(days=7)
#: How long a gap in the change sequence is re-checked (a transaction that took a
#: sequence number may still commit); afterwards it counts as rolled back.
_GAP_SECONDS = 120.0


def scored_terms(resolved: Sequence[dict[str, Any]] | None, raw: Sequence[str]) -> list[str]:
    """Return what the matcher should score on: the ESCO URI where resolved, else the text.

    Parameters
    ----------
    resolved : sequence of dict or None
        Resolution records (``{"input", "uri", ...}``) in input order.
    raw : sequence of str
        The inputs as given.

    Returns
    -------
    list of str
    """
    if not resolved or len(resolved) != len(raw):
        return list(raw)
    return [r.get("uri") or r["input"] for r in resolved]


def participant_frame(rows: Iterable[Participant]) -> pd.DataFrame:
    """Build the matcher's participant table (columns of :class:`matching.schema.P`).

    Parameters
    ----------
    rows : iterable of Participant

    Returns
    -------
    DataFrame
        One row per participant; no names or contacts.
    """
    records = [
        {
            P.ID: str(p.id),
            P.SKILLS: scored_terms(p.skills_resolved, p.skills),
            P.CERTIFICATES: list(p.certificates or []),
            P.LANGUAGES: [dict(x) for x in p.languages or []],
            P.POSTCODE: p.postcode,
            P.QUARTER: p.quarter,
            P.LAT: p.lat,
            P.LON: p.lon,
            P.MODES: list(p.modes or []),
            P.DRIVING_LICENCE: list(p.driving_licence or []),
            P.MAX_COMMUTE: p.max_commute_minutes,
            P.HOURS_MIN: p.hours_min,
            P.HOURS_MAX: p.hours_max,
            P.AVAILABILITY: list(p.availability or []),
            P.WORK_PERMIT: p.work_permit,
            P.DESIRED_OCCUPATIONS: scored_terms(
                p.desired_occupations_resolved, p.desired_occupations
            ),
            P.PAST_OCCUPATIONS: scored_terms(p.past_occupations_resolved, p.past_occupations),
            # An objection to profiling keeps a participant out of every ranked shortlist.
            P.CONSENT: bool(p.consent_given) and not p.objects_to_profiling,
            P.APPROVED: bool(p.approved),
        }
        for p in rows
    ]
    return pd.DataFrame.from_records(records, columns=list(_P_COLUMNS))


def vacancy_frame(rows: Iterable[Vacancy]) -> pd.DataFrame:
    """Build the matcher's vacancy table (columns of :class:`matching.schema.V`).

    Parameters
    ----------
    rows : iterable of Vacancy

    Returns
    -------
    DataFrame
    """
    records = []
    for v in rows:
        skills = v.skills or []
        resolved = v.skills_resolved or []
        uris = scored_terms(resolved, [s["skill"] for s in skills])
        occupation = None
        if v.occupation:
            occupation = (v.occupation_resolved or {}).get("uri") or v.occupation
        records.append(
            {
                V.ID: str(v.id),
                V.EMPLOYER_ID: str(v.employer_id),
                V.TITLE: v.title,
                V.OCCUPATION: occupation,
                V.SKILLS: [
                    {"skill": uri, "essential": bool(s.get("essential", True))}
                    for uri, s in zip(uris, skills, strict=True)
                ],
                V.CERTIFICATES: list(v.certificates_required or []),
                V.LANGUAGES: [dict(x) for x in v.languages or []],
                V.POSTCODE: v.postcode,
                V.QUARTER: v.quarter,
                V.LAT: v.lat,
                V.LON: v.lon,
                V.HOURS: v.hours_per_week,
                V.DAYS: v.days_per_week,
                V.SHIFTS: list(v.shifts or []),
                V.DRIVING_LICENCE: v.driving_licence_required,
                V.WORK_PERMIT_REQUIRED: bool(v.work_permit_required),
                V.OPENINGS: v.openings,
                V.START_DATE: v.start_date,
                V.STATUS: v.status,
            }
        )
    return pd.DataFrame.from_records(records, columns=list(_V_COLUMNS))


_P_COLUMNS = (
    P.ID, P.SKILLS, P.CERTIFICATES, P.LANGUAGES, P.POSTCODE, P.QUARTER, P.LAT, P.LON,
    P.MODES, P.DRIVING_LICENCE, P.MAX_COMMUTE, P.HOURS_MIN, P.HOURS_MAX, P.AVAILABILITY,
    P.WORK_PERMIT, P.DESIRED_OCCUPATIONS, P.PAST_OCCUPATIONS, P.CONSENT, P.APPROVED,
)  # fmt: skip
_V_COLUMNS = (
    V.ID, V.EMPLOYER_ID, V.TITLE, V.OCCUPATION, V.SKILLS, V.CERTIFICATES, V.LANGUAGES,
    V.POSTCODE, V.QUARTER, V.LAT, V.LON, V.HOURS, V.DAYS, V.SHIFTS, V.DRIVING_LICENCE,
    V.WORK_PERMIT_REQUIRED, V.OPENINGS, V.START_DATE, V.STATUS,
)  # fmt: skip


_PARTICIPANT_SCORED = tuple(
    column
    for column in Participant.__table__.columns
    if column.name not in {"name", "contact"}
)
_LOAD_CHUNK = 2000


def _chunked_frames(
    session: Session, statement: Any, build: Callable[..., pd.DataFrame]
) -> Iterator[pd.DataFrame]:
    """Matcher tables of a select, ``_LOAD_CHUNK`` rows each, read as they are consumed.

    The matcher turns each chunk into arrays before the next is read, so the rows'
    Python objects (the JSON columns above all) never exist for the whole table at once.
    """
    result = session.execute(statement.execution_options(yield_per=_LOAD_CHUNK))
    for rows in result.partitions():
        yield build(rows)


def _settle_heap() -> None:
    """After an index load: free what it left behind and exempt the rest from the GC.

    The load's temporary objects leave free chunks inside the C heap that the process
    would otherwise keep resident; ``malloc_trim`` returns them (glibc only). What is
    alive then (taxonomy, geocoder, index, libraries: some 180,000 tracked objects at
    2,000 × 5,000) lives until the next load, yet every full collection would walk it
    again: one took 106 ms, a pause that lands on whichever requests are in flight.
    ``gc.freeze`` moves it to the permanent generation, so collections during requests
    only walk what requests created. The next load unfreezes first, so the previous
    index's cyclic garbage is collected then.
    """
    gc.unfreeze()
    gc.collect()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to do
    gc.freeze()


_C = IndexChange.__table__
_CHANGES = (
    select(_C.c.seq, _C.c.kind, _C.c.object_id)
    .where(_C.c.seq > bindparam("seq"))
    .order_by(_C.c.seq)
)


def record_change(session: Session, kind: str, object_id: int) -> IndexChange:
    """Add a change record for ``kind`` ``object_id`` to the session's transaction."""
    change = IndexChange(kind=kind, object_id=object_id)
    session.add(change)
    return change


def _indexed_participant(p: Participant | None) -> bool:
    return p is not None and bool(p.active)


def _indexed_vacancy(v: Vacancy | None) -> bool:
    return v is not None and v.status == "open"


class ScoringIndex:
    """A :class:`matching.Matcher` kept in step with the database.

    Parameters
    ----------
    matcher_factory : callable
        Returns a new, unfitted :class:`matching.Matcher`.
    sessions : callable
        Returns a new database session (the app's sessionmaker); the index reads with
        its own short sessions, never with a request's.
    models_dir : Path, optional
        Where versioned scoring models live; the newest
        :class:`~service.models.ModelActivation` names the one in force.

    Attributes
    ----------
    matcher : Matcher or None
        The fitted matcher once :meth:`load` ran.
    last_seq : int
        The newest change already applied.
    """

    def __init__(
        self,
        matcher_factory: Callable[[], Matcher],
        sessions: Callable[[], Session],
        models_dir: Path | None = None,
    ) -> None:
        self._factory = matcher_factory
        self._sessions = sessions
        self.models_dir = models_dir
        self.model_problem: str | None = None
        self._lock = threading.RLock()
        self.matcher: Matcher | None = None
        self.last_seq = 0
        self._needs_reload = False
        self._pending_scorer: Any = None
        self._gaps: dict[int, float] = {}
        self._own: set[int] = set()
        #: Counts full loads: what was derived from an earlier load (cached market
        #: cutoffs, for one) is stale once this changes.
        self.generation = 0

    @property
    def ready(self) -> bool:
        """Whether the index was loaded."""
        return self.matcher is not None

    @property
    def model_version(self) -> str:
        """The model version of the loaded matcher."""
        return self.require().model_version

    def require(self, *, reload: bool = False) -> Matcher:
        """Return the fitted matcher.

        Parameters
        ----------
        reload : bool, default=False
            Reload first if :meth:`sync` found that changes this process missed were
            pruned (a worker idle for longer than :data:`CHANGE_RETENTION`). Only pass
            True while no session of the caller holds a transaction.

        Raises
        ------
        ServiceUnavailableError
            The index has not been loaded yet.
        """
        if reload and self._needs_reload:
            self.load()
        if self.matcher is None:
            from service.errors import ServiceUnavailableError

            raise ServiceUnavailableError("Der Bewertungsindex wird noch geladen.")
        return self.matcher

    def load(self) -> None:
        """Fit a new matcher on all open vacancies and active participants."""
        with self._lock, self._sessions() as session:
            cutoff = dt.datetime.now(dt.UTC) - CHANGE_RETENTION
            newest = select(func.max(IndexChange.seq)).scalar_subquery()
            # The newest record stays: SQLite would otherwise reuse sequence numbers.
            session.execute(
                delete(IndexChange).where(IndexChange.at < cutoff, IndexChange.seq < newest)
            )
            session.commit()
            # Reading every row takes a while: never hold SQLite's write lock for it.
            session.connection(execution_options=READ_ONLY)
            seq = session.scalar(select(func.coalesce(func.max(IndexChange.seq), 0))) or 0
            matcher = self._factory()
            self._apply_model(session, matcher)
            # Plain rows of the scored columns, in chunks that the matcher turns into
            # arrays one at a time: no ORM objects (68,000 of them took 1.5 GB at 50,000
            # participants), no table of all rows, and never a name or contact.
            matcher.fit(
                _chunked_frames(
                    session,
                    select(*Vacancy.__table__.columns).where(Vacancy.status == "open"),
                    vacancy_frame,
                ),
                _chunked_frames(
                    session,
                    select(*_PARTICIPANT_SCORED).where(Participant.active.is_(True)),
                    participant_frame,
                ),
            )
            session.rollback()
            self._apply_model_to_fitted(matcher)
            self.matcher = matcher
            self.last_seq = int(seq)
            self._gaps.clear()
            self._own.clear()
            self._needs_reload = False
            self.generation += 1
            _settle_heap()

    def sync(self, session: Session | None = None) -> None:
        """Apply changes other processes committed since the last call.

        One indexed query when nothing changed; otherwise the changed rows only. Loads
        the index first if it was never loaded (or lost with the database).

        Parameters
        ----------
        session : Session, optional
            Read with this session (a request's, before it writes anything); its
            transaction is left open. A short session of its own otherwise.
        """
        if self.matcher is None:
            self.load()
            return
        if session is None:
            with self._sessions() as own:
                own.connection(execution_options=READ_ONLY)
                self._sync(own)
        else:
            self._sync(session)

    def _sync(self, session: Session) -> None:
        with self._lock:
            if self._gaps:
                condition = or_(
                    IndexChange.seq > self.last_seq, IndexChange.seq.in_(list(self._gaps))
                )
                rows = session.execute(
                    select(IndexChange.seq, IndexChange.kind, IndexChange.object_id)
                    .where(condition)
                    .order_by(IndexChange.seq)
                ).all()
            else:
                rows = session.connection().execute(_CHANGES, {"seq": self.last_seq}).all()
            if not rows:
                self._expire_gaps()
                return
            if rows[0].seq > self.last_seq + 1 and self._pruned_past(session):
                self._needs_reload = True  # reloaded by the next require(reload=True)
                return
            participant_ids: set[int] = set()
            vacancy_ids: set[int] = set()
            model_changed = False
            newest = self.last_seq
            for seq, kind, object_id in rows:
                self._gaps.pop(seq, None)
                if seq > newest:
                    now = time.monotonic()
                    for missing in range(newest + 1, seq):
                        self._gaps[missing] = now
                    newest = seq
                if seq in self._own:
                    self._own.discard(seq)
                    continue
                if kind == MODEL:
                    model_changed = True
                    continue
                (participant_ids if kind == PARTICIPANT else vacancy_ids).add(object_id)
            self.last_seq = newest
            self._refresh(session, participant_ids, vacancy_ids)
            if model_changed:
                self._apply_model(session, self.require())
            self._expire_gaps()

    def _apply_model_to_fitted(self, matcher: Matcher) -> None:
        scorer = self._pending_scorer
        self._pending_scorer = None
        if scorer is not None:
            matcher.set_scorer(scorer)

    def _apply_model(self, session: Session, matcher: Matcher) -> None:
        """Put the model named by the newest activation into ``matcher``.

        A model that cannot be loaded (missing, corrupt, incompatible) leaves the
        matcher's current scorer in place and is reported in :attr:`model_problem`.
        An unfitted matcher gets the scorer once fitted (:meth:`_apply_model_to_fitted`).
        """
        row = session.execute(
            select(ModelActivation.name, ModelActivation.version)
            .order_by(ModelActivation.id.desc())
            .limit(1)
        ).first()
        fitted = hasattr(matcher, "state_")
        if row is None or row.name is None or self.models_dir is None:
            default = DefaultScorer()
            if fitted and matcher.model_version != default.version:
                matcher.set_scorer(default)
            self.model_problem = None
            return
        try:
            scorer, _metadata = load_model(self.models_dir / row.name / row.version)
        except ModelError as exc:
            self.model_problem = f"{row.name}/{row.version}: {exc}"
            current = matcher.model_version if fitted else "the default scorer"
            _log.warning("model not loaded, keeping %s: %s", current, exc)
            return
        if fitted:
            matcher.set_scorer(scorer)
        else:
            self._pending_scorer = scorer
        self.model_problem = None

    def apply_model_now(self, session: Session) -> None:
        """Load the model in force into this process's matcher (after an activation)."""
        with self._lock:
            self._apply_model(session, self.require())

    def _pruned_past(self, session: Session) -> bool:
        oldest = session.scalar(select(func.min(IndexChange.seq)))
        return oldest is not None and oldest > self.last_seq + 1

    def _expire_gaps(self) -> None:
        if not self._gaps:
            return
        limit = time.monotonic() - _GAP_SECONDS
        for seq in [s for s, t in self._gaps.items() if t < limit]:
            del self._gaps[seq]

    def _refresh(self, session: Session, participant_ids: set[int], vacancy_ids: set[int]) -> None:
        if participant_ids:
            found = session.scalars(
                select(Participant).where(Participant.id.in_(participant_ids))
            ).all()
            self.apply(participants=found, removed_participants=participant_ids)
        if vacancy_ids:
            found_v = session.scalars(select(Vacancy).where(Vacancy.id.in_(vacancy_ids))).all()
            self.apply(vacancies=found_v, removed_vacancies=vacancy_ids)

    def apply(
        self,
        *,
        participants: Sequence[Participant] = (),
        vacancies: Sequence[Vacancy] = (),
        removed_participants: Iterable[int] = (),
        removed_vacancies: Iterable[int] = (),
    ) -> None:
        """Upsert or remove rows in the matcher.

        Rows that should not be scored (an inactive participant, a vacancy that is not
        open) are removed; ids in ``removed_*`` without a row are removed too.

        Raises
        ------
        matching.errors.MatchingError
            A row the matcher refuses (nothing is changed for that kind then).
        """
        matcher = self.require()
        with self._lock:
            keep_p = [p for p in participants if _indexed_participant(p)]
            drop_p = {str(i) for i in removed_participants} | {
                str(p.id) for p in participants if not _indexed_participant(p)
            }
            drop_p -= {str(p.id) for p in keep_p}
            keep_v = [v for v in vacancies if _indexed_vacancy(v)]
            drop_v = {str(i) for i in removed_vacancies} | {
                str(v.id) for v in vacancies if not _indexed_vacancy(v)
            }
            drop_v -= {str(v.id) for v in keep_v}
            if keep_p:
                matcher.upsert_participants(participant_frame(keep_p))
            if drop_p:
                matcher.remove_participants(sorted(drop_p))
            if keep_v:
                matcher.upsert_vacancies(vacancy_frame(keep_v))
            if drop_v:
                matcher.remove_vacancies(sorted(drop_v))

    def write(
        self,
        session: Session,
        *,
        participants: Sequence[Participant] = (),
        vacancies: Sequence[Vacancy] = (),
        removed_participants: Sequence[int] = (),
        removed_vacancies: Sequence[int] = (),
    ) -> None:
        """Record the changes, apply them to the matcher and commit the session.

        The matcher sees the rows before the commit, so a row it refuses rolls the whole
        write back (and answers 422); if the commit itself fails, the affected rows are
        re-read on the next :meth:`sync`.
        """
        self.require()
        session.flush()
        changes = [record_change(session, PARTICIPANT, p.id) for p in participants]
        changes += [record_change(session, PARTICIPANT, i) for i in removed_participants]
        changes += [record_change(session, VACANCY, v.id) for v in vacancies]
        changes += [record_change(session, VACANCY, i) for i in removed_vacancies]
        session.flush()
        with self._lock:
            self.apply(
                participants=participants,
                vacancies=vacancies,
                removed_participants=removed_participants,
                removed_vacancies=removed_vacancies,
            )
            try:
                session.commit()
            except Exception:
                session.rollback()
                self._refresh_after_failure(
                    participants, vacancies, removed_participants, removed_vacancies
                )
                raise
            self._own.update(c.seq for c in changes)

    def _refresh_after_failure(
        self,
        participants: Sequence[Participant],
        vacancies: Sequence[Vacancy],
        removed_participants: Sequence[int],
        removed_vacancies: Sequence[int],
    ) -> None:
        pids = {p.id for p in participants} | set(removed_participants)
        vids = {v.id for v in vacancies} | set(removed_vacancies)
        try:
            with self._sessions() as session:
                session.connection(execution_options=READ_ONLY)
                self._refresh(session, pids, vids)
        except Exception:
            # The database is gone: start from scratch once it is back.
            self.matcher = None
