"""A demo database with a simulated history of shown lists and outcomes, and what the
analysts' notebooks read from a database.

:func:`simulate_history` plays :func:`matching.simulation.simulate_outcomes` on the
market a database holds (the service's own scoring index ranks the lists) and records it
through the service: every shown list as a ``matches`` audit entry holding the items'
factor values, every status change as an :class:`~service.models.Outcome` with its
``outcome`` audit entry, and the monitoring attributes of those who consented, each at
its simulated time. The training table is then built from the audit log exactly as for
real data (:func:`service.domain.learning.training_table`, which ``jobmatch export
training`` and the analyst endpoint use).

:func:`demo_database_with_outcomes` makes such a database from scratch (the
``jobmatch demo`` content plus the history) and :func:`learning_data` reads what the
notebooks need from any database, pseudonymous apart from the index's participant ids
that relate shortlist audits to monitoring groups.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.matcher import Matcher
from matching.schema import FACTORS, P, V
from matching.simulation import SimulatedOutcomes, simulate_outcomes
from matching.training import T
from service.context import Services
from service.db import READ_ONLY, Database, upgrade_database
from service.demo import load_demo
from service.domain.audit import participant_pseudonyms
from service.domain.learning import training_table
from service.models import MonitoringAttributes, Outcome, Participant, ServiceSecret, Vacancy
from service.settings import Settings

__all__ = [
    "DATABASE_ENV",
    "LearningData",
    "add_simulated_history",
    "demo_database_with_outcomes",
    "learning_data",
    "simulate_history",
]

#: The environment variable naming the database the notebooks read.
DATABASE_ENV = "JOBMATCH_DATABASE_URL"
_MARKER = "simulated_history"  # what the history was simulated with (learning_data reads it)
_WEEKS_BACK = 18  # 12 weekly rounds plus the longest funnel (38 days) end in the past


@dataclass(frozen=True)
class _Market:
    """The two frames :func:`simulate_outcomes` reads from a market."""

    participants: pd.DataFrame
    vacancies: pd.DataFrame


def _market(session: Session) -> _Market:
    participants = pd.DataFrame(
        session.execute(select(Participant.id, Participant.languages)
                        .where(Participant.active.is_(True))).all(),
        columns=[P.ID, P.LANGUAGES],
    )  # fmt: skip
    vacancies = pd.DataFrame(
        session.execute(select(Vacancy.id, Vacancy.employer_id)).all(),
        columns=[V.ID, V.EMPLOYER_ID],
    )
    participants[P.ID] = participants[P.ID].astype(str)
    vacancies[[V.ID, V.EMPLOYER_ID]] = vacancies[[V.ID, V.EMPLOYER_ID]].astype(str)
    return _Market(participants, vacancies)


def _busiest_employer(sim: SimulatedOutcomes) -> str:
    employer_of = sim.vacancies.set_index(V.ID)[V.EMPLOYER_ID]
    return str(sim.shown[T.VACANCY].map(employer_of).value_counts().index[0])


def simulate_history(
    services: Services,
    *,
    preference: Literal["learnable", "none"] = "learnable",
    biased_employer: str | None = None,
    random_state: int = 0,
    now: dt.datetime | None = None,
) -> SimulatedOutcomes:
    """Simulate twelve weeks of coaching on the database's market and record them.

    Parameters
    ----------
    services : Services
        Of the database to fill (its index is loaded if needed).
    preference : {"learnable", "none"}
        See :func:`matching.simulation.simulate_outcomes`.
    biased_employer : str, optional
        An employer id (as a string) that rejects every ``third_country`` application,
        or ``"busiest"`` for the employer whose vacancies are shown most often.
    random_state : int, default 0
    now : datetime, optional
        The history ends before this time (default: now); it starts 18 weeks earlier.

    Returns
    -------
    SimulatedOutcomes
        What was recorded, with the simulator's own pseudonyms (the audit log holds the
        service's).
    """
    services.ensure_ready()
    matcher = services.index.require()
    end = now or dt.datetime.now(dt.UTC)
    start = (end - dt.timedelta(weeks=_WEEKS_BACK)).replace(hour=0, minute=0, second=0,
                                                            microsecond=0)  # fmt: skip
    with services.db.session() as session:
        market = _market(session)
    options: dict[str, Any] = {"preference": preference, "random_state": random_state,
                               "start": start}  # fmt: skip
    if biased_employer == "busiest":
        biased_employer = _busiest_employer(simulate_outcomes(market, matcher, **options))
    sim = simulate_outcomes(market, matcher, biased_employer=biased_employer, **options)
    _record(services, sim)
    with services.db.session() as session:
        session.merge(ServiceSecret(name=_MARKER, value=json.dumps({
            "preference": preference, "biased_employer": biased_employer,
            "random_state": random_state})))  # fmt: skip
        session.commit()
    return sim


def _record(services: Services, sim: SimulatedOutcomes) -> None:
    """Write the simulated lists, outcomes and monitoring attributes in time order."""
    participant_of = dict(zip(sim.pseudonyms[T.PARTICIPANT], sim.pseudonyms[P.ID].astype(int),
                              strict=True))  # fmt: skip
    audit = services.audit()
    events: list[tuple[pd.Timestamp, int, Any]] = []
    shown = sim.shown
    vacancy = shown[T.VACANCY].astype(int).to_numpy()
    rank = shown[T.RANK].astype(int).to_numpy()
    factors = shown[list(FACTORS)].to_numpy(dtype=float)
    lists = shown.groupby([T.PARTICIPANT, T.SHOWN_AT], sort=False).indices
    for (pseudonym, at), rows in lists.items():
        items = [{"vacancy_id": int(vacancy[i]), "rank": int(rank[i]),
                  "factors": dict(zip(FACTORS, factors[i].tolist(), strict=True))}
                 for i in rows]  # fmt: skip
        version = str(shown[T.MODEL_VERSION].iat[rows[0]])
        events.append((at, 0, (participant_of[pseudonym], version, items)))
    for row in sim.outcomes.itertuples(index=False):
        events.append((getattr(row, T.AT), 1, row))
    events.sort(key=lambda event: (event[0], event[1]))
    with services.db.session() as session:
        coach_of = dict(session.execute(select(Participant.id, Participant.coach_id)).all())
        known = participant_pseudonyms(session, sorted(set(participant_of.values())))
        for at, kind, data in events:
            when = pd.Timestamp(at).to_pydatetime()
            if kind == 0:
                participant_id, version, items = data
                audit.append(
                    session, actor_id=coach_of.get(participant_id), action="matches",
                    participant_ids=[participant_id], model_version=version, at=when,
                    pseudonyms=known,
                    payload={"limit": len(items), "ranked": True, "simulated": True,
                             "items": items},
                )  # fmt: skip
            else:
                participant_id = participant_of[getattr(data, T.PARTICIPANT)]
                status = str(getattr(data, T.STATUS))
                session.add(Outcome(participant_id=participant_id,
                                    vacancy_id=int(getattr(data, T.VACANCY)), status=status,
                                    recorded_by=coach_of.get(participant_id),
                                    recorded_at=when))  # fmt: skip
                audit.append(
                    session, actor_id=coach_of.get(participant_id), action="outcome",
                    participant_ids=[participant_id], at=when, pseudonyms=known,
                    payload={"vacancy_id": int(getattr(data, T.VACANCY)), "status": status,
                             "by_role": "coach", "simulated": True},
                )  # fmt: skip
        recorded = end_of(events)
        for row in sim.monitoring.itertuples(index=False):
            session.merge(MonitoringAttributes(
                participant_id=participant_of[getattr(row, T.PARTICIPANT)],
                consent_given=True, consent_recorded_at=recorded,
                sex=row.sex, age_band=row.age_band, nationality_group=row.nationality_group,
                disability=row.disability == "yes",
            ))  # fmt: skip
        session.commit()


def end_of(events: list[tuple[pd.Timestamp, int, Any]]) -> dt.datetime:
    """The time of the last event (now when there is none)."""
    if not events:
        return dt.datetime.now(dt.UTC)
    return pd.Timestamp(events[-1][0]).to_pydatetime()


def demo_database_with_outcomes(
    path: str | Path,
    *,
    preference: Literal["learnable", "none"] = "learnable",
    biased_employer: str | None = None,
    random_state: int = 0,
    settings: Settings | None = None,
    history: bool = True,
) -> str:
    """Create a SQLite demo database (``jobmatch demo``) with a simulated history.

    Parameters
    ----------
    path : path
        The SQLite file to create (replaced if it holds an earlier demo).
    preference, biased_employer, random_state
        See :func:`simulate_history`; ``random_state`` also seeds the demo market.
    settings : Settings, optional
        Taxonomy and model directories (default: the environment's).
    history : bool, default True
        Add the simulated history (else only the demo content, e.g. to copy the file and
        give each copy another history with :func:`add_simulated_history`).

    Returns
    -------
    str
        The database URL.
    """
    url = f"sqlite:///{Path(path)}"
    base = settings or Settings()
    settings = base.model_copy(update={"database_url": url})
    db = Database(url)
    try:
        upgrade_database(db.engine)
        load_demo(db, settings, random_state=random_state)
    finally:
        db.dispose()
    if history:
        add_simulated_history(url, preference=preference, biased_employer=biased_employer,
                              random_state=random_state, settings=base)  # fmt: skip
    return url


def add_simulated_history(
    database_url: str,
    *,
    preference: Literal["learnable", "none"] = "learnable",
    biased_employer: str | None = None,
    random_state: int = 0,
    settings: Settings | None = None,
) -> SimulatedOutcomes:
    """:func:`simulate_history` on the database at ``database_url``."""
    settings = (settings or Settings()).model_copy(update={"database_url": database_url})
    db = Database(database_url)
    try:
        services = Services(settings, db)
        return simulate_history(services, preference=preference,
                                biased_employer=biased_employer, random_state=random_state)
    finally:
        db.dispose()


@dataclass(frozen=True)
class LearningData:
    """What the notebooks read from a database.

    Attributes
    ----------
    table : pandas.DataFrame
        The pseudonymous training table (the export's).
    shown, outcomes : pandas.DataFrame
        The audit log's shown items and outcomes it was built from.
    monitoring : pandas.DataFrame
        ``participant_pseudonym`` and the monitoring attributes of those who consented.
    pseudonyms : pandas.DataFrame
        ``participant_id, participant_pseudonym`` of the indexed participants (to relate
        shortlist audits to the monitoring table).
    quarters : pandas.DataFrame
        ``participant_id, quarter``.
    vacancies : pandas.DataFrame
        ``vacancy_id, employer_id``.
    matcher : Matcher
        The service's fitted scoring index (its current scorer).
    simulation : dict or None
        How the history was simulated (``preference``, ``biased_employer``,
        ``random_state``), or None for recorded data.
    """

    table: pd.DataFrame
    shown: pd.DataFrame
    outcomes: pd.DataFrame
    monitoring: pd.DataFrame
    pseudonyms: pd.DataFrame
    quarters: pd.DataFrame
    vacancies: pd.DataFrame
    matcher: Matcher
    simulation: dict[str, Any] | None


def learning_data(database_url: str, settings: Settings | None = None) -> LearningData:
    """Read the training table, monitoring table and scoring index of a database."""
    from service.domain.learning import audit_frames

    settings = (settings or Settings()).model_copy(update={"database_url": database_url})
    db = Database(database_url)
    try:
        services = Services(settings, db)
        services.ensure_ready()
        with db.session() as session:
            session.connection(execution_options=READ_ONLY)
            table = training_table(session)
            shown, outcomes = audit_frames(session)
            people = session.execute(select(Participant.id, Participant.quarter)).all()
            ids = [pid for pid, _ in people]
            pseudonym_of = participant_pseudonyms(session, ids, create=False)
            rows = session.execute(
                select(MonitoringAttributes).where(MonitoringAttributes.consent_given.is_(True))
            ).scalars().all()  # fmt: skip
            monitoring = pd.DataFrame([
                {T.PARTICIPANT: pseudonym_of[m.participant_id], "sex": m.sex,
                 "age_band": m.age_band, "nationality_group": m.nationality_group,
                 "disability": None if m.disability is None else
                 ("yes" if m.disability else "no")}
                for m in rows if m.participant_id in pseudonym_of
            ], columns=[T.PARTICIPANT, "sex", "age_band", "nationality_group", "disability"])
            vacancies = pd.DataFrame(session.execute(select(Vacancy.id, Vacancy.employer_id))
                                     .all(), columns=[V.ID, V.EMPLOYER_ID]).astype(str)
            marker = session.get(ServiceSecret, _MARKER)
            simulation = json.loads(marker.value) if marker is not None else None
        pseudonyms = pd.DataFrame({P.ID: [str(i) for i in pseudonym_of],
                                   T.PARTICIPANT: list(pseudonym_of.values())})  # fmt: skip
        quarters = pd.DataFrame({P.ID: [str(i) for i, _ in people],
                                 "quarter": [q for _, q in people]})  # fmt: skip
        return LearningData(table=table, shown=shown, outcomes=outcomes,
                            monitoring=monitoring, pseudonyms=pseudonyms, quarters=quarters,
                            vacancies=vacancies, matcher=services.index.require(),
                            simulation=simulation)
    finally:
        db.dispose()
