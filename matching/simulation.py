"""Seeded simulation of what happens after a ranked list is shown: outcomes to learn from.

Before the programme has recorded real outcomes, the learning loop (training, evaluation,
fairness audit, promotion gate) is exercised on a demo market with simulated ones.
:func:`simulate_outcomes` plays a few months of coaching:

1. **Shown items.** Every week (``n_rounds`` weeks from ``start``) each participant is seen
   by their coach with probability ``activity`` and shown the next ``list_size`` vacancies
   of the matcher's ranking (the current scorer, hard filters applied) that they have not
   been shown before, as the audit log would record them: pseudonym, vacancy, time, the
   five factor values, the model version and the rank.
2. **Outcomes.** Each shown pair moves through a funnel, each step a coin flip whose
   log-odds are a base value plus the pair's *hidden utility* ``z``: the coach proposes it
   (else nothing is recorded), the participant applies (else half withdraw, half leave it
   at ``proposed``), the employer invites to an interview (else ``rejected``), the employer
   hires (else ``rejected``, or ``withdrawn`` one time in five). The base log-odds are
   ``-0.6, 0.4, -0.2, -0.4``: at ``z = 0`` about a third of shown pairs are proposed and
   one in twenty-five ends in a hire.
3. **Preference.** With ``preference="learnable"`` the utility is
   ``strength * (factors @ weights - mean)``: with :data:`LEARNABLE_WEIGHTS` employers and
   participants weigh the commute far more, and skills and occupation fit far less, than
   the default scorer does, so a model that learns the weights can rank better than the
   default. With ``preference="none"`` ``z = 0``: outcomes carry no signal.
4. **Monitoring attributes** (sex, age band, nationality group, disability) are drawn for
   every participant, the nationality group from the languages they speak natively
   (:data:`NATIONALITY_SHARES`). Only participants who consent to monitoring
   (``monitoring_consent`` share) appear in the monitoring table, keyed by pseudonym.
5. **A biased employer** (``biased_employer``) rejects every application of participants
   in one group (``biased_against``, by default the nationality group ``third_country``)
   at the application stage, whatever the factors say: the kind of bias that reaches the
   training labels through an employer's own decisions.

Every draw comes from one ``numpy`` generator seeded by ``random_state``; the same seed,
market and scorer give identical tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal, Protocol

import numpy as np
import pandas as pd
from scipy.special import expit

from matching.datasets import DemoMarket
from matching.errors import InvalidInputError, NotFittedError
from matching.fairness import MONITORING_ATTRIBUTES
from matching.matcher import Matcher
from matching.ranking import top_k
from matching.schema import FACTORS, Factor, P, V
from matching.training import T

__all__ = [
    "AGE_BAND_SHARES",
    "DISABILITY_SHARE",
    "LEARNABLE_WEIGHTS",
    "MONITORING_ATTRIBUTES",
    "NATIONALITY_SHARES",
    "SEX_SHARES",
    "Market",
    "SimulatedOutcomes",
    "simulate_outcomes",
]

#: Hidden weights of the "learnable" preference: a short commute decides most (childcare,
#: no car, shift work), language margin and skill coverage a little, occupation fit and
#: hours fit not at all — far from the default's weights, which favour skills and
#: occupation.
LEARNABLE_WEIGHTS: Final[Mapping[str, float]] = MappingProxyType(
    {
        Factor.SKILLS: 0.10,
        Factor.OCCUPATION: 0.0,
        Factor.LANGUAGE: 0.15,
        Factor.COMMUTE: 0.75,
        Factor.HOURS: 0.0,
    }
)

SEX_SHARES: Final = {"female": 0.49, "male": 0.49, "diverse": 0.02}
#: Age bands in the service's vocabulary (``MonitoringIn.age_band``).
AGE_BAND_SHARES: Final = {"under_25": 0.15, "25_34": 0.30, "35_44": 0.20, "45_54": 0.18,
                          "55_plus": 0.17}
DISABILITY_SHARE: Final = 0.10
#: Nationality group by the participant's native language(s): German only; another EU
#: language (Polish, Romanian); German and another language (second generation); other.
NATIONALITY_SHARES: Final = {
    "german": {"german": 0.96, "eu": 0.02, "third_country": 0.02},
    "eu": {"german": 0.10, "eu": 0.88, "third_country": 0.02},
    "bilingual": {"german": 0.70, "eu": 0.02, "third_country": 0.28},
    "other": {"german": 0.15, "eu": 0.05, "third_country": 0.80},
}
_EU_LANGUAGES: Final = frozenset({"pl", "ro", "bg", "hr", "it", "el", "es", "pt", "fr", "hu"})
_BASE_LOGITS: Final = (-0.6, 0.4, -0.2, -0.4)  # propose, apply, interview, hire
_PREFERENCES: Final = ("learnable", "none")


class Market(Protocol):
    """What the simulator reads from a market: a :class:`~matching.datasets.DemoMarket`,
    or the participants (``participant_id, languages``) and vacancies (``vacancy_id,
    employer_id``) a service database holds."""

    @property
    def participants(self) -> pd.DataFrame: ...

    @property
    def vacancies(self) -> pd.DataFrame: ...


@dataclass(frozen=True)
class SimulatedOutcomes:
    """What :func:`simulate_outcomes` returns.

    Attributes
    ----------
    shown : pandas.DataFrame
        The audit log's recorded items: ``participant_pseudonym, vacancy_id, shown_at,
        model_version, rank`` and the five factors.
    outcomes : pandas.DataFrame
        ``participant_pseudonym, vacancy_id, status, at``: one row per status change.
    monitoring : pandas.DataFrame
        ``participant_pseudonym`` and :data:`MONITORING_ATTRIBUTES`, for the participants
        who consented to monitoring only.
    pseudonyms : pandas.DataFrame
        ``participant_id, participant_pseudonym``: the simulator's stand-in for the
        service's keyed pseudonyms (to relate matcher rankings to the monitoring table).
    vacancies : pandas.DataFrame
        ``vacancy_id, employer_id`` of the market, for the employer-level label audit.
    preference : str
    true_weights : dict or None
        The hidden weights of the utility (``None`` without a preference).
    biased_employer : str or None
    biased_against : tuple of (attribute, group)
    """

    shown: pd.DataFrame
    outcomes: pd.DataFrame
    monitoring: pd.DataFrame
    pseudonyms: pd.DataFrame
    vacancies: pd.DataFrame
    preference: str
    true_weights: dict[str, float] | None
    biased_employer: str | None
    biased_against: tuple[str, str]


def _pseudonym(seed: int, participant_id: str) -> str:
    digest = hashlib.blake2b(participant_id.encode(), key=str(seed).encode(), digest_size=6)
    return "pp-" + digest.hexdigest()


def _origin(languages: Any) -> str:
    native = {
        str(entry.get("language"))
        for entry in (languages if isinstance(languages, list | tuple | np.ndarray) else [])
        if isinstance(entry, Mapping) and entry.get("level") == "native"
    }
    if native == {"de"} or not native:
        return "german" if "de" in native else "other"
    if "de" in native:
        return "bilingual"
    return "eu" if native & _EU_LANGUAGES else "other"


def _draw(rng: np.random.Generator, shares: Mapping[str, float], n: int) -> np.ndarray:
    keys = list(shares)
    probs = np.asarray([shares[k] for k in keys], dtype=float)
    return np.asarray(keys, dtype=object)[rng.choice(len(keys), size=n, p=probs / probs.sum())]


def _attributes(rng: np.random.Generator, participants: pd.DataFrame) -> pd.DataFrame:
    n = len(participants)
    origin = np.array([_origin(x) for x in participants[P.LANGUAGES]], dtype=object)
    nationality = np.empty(n, dtype=object)
    for kind, shares in NATIONALITY_SHARES.items():
        rows = np.flatnonzero(origin == kind)
        nationality[rows] = _draw(rng, shares, len(rows))
    return pd.DataFrame({
        "sex": _draw(rng, SEX_SHARES, n),
        "age_band": _draw(rng, AGE_BAND_SHARES, n),
        "nationality_group": nationality,
        "disability": np.where(rng.random(n) < DISABILITY_SHARE, "yes", "no").astype(object),
    })


def _check_args(
    preference: str, biased_against: tuple[str, str], n_rounds: int, list_size: int,
    activity: float, strength: float, monitoring_consent: float,
) -> None:
    if preference not in _PREFERENCES:
        raise InvalidInputError(
            f"preference must be one of {', '.join(_PREFERENCES)}, got {preference!r}",
            field="preference",
        )
    if (not isinstance(biased_against, tuple) or len(biased_against) != 2
            or biased_against[0] not in MONITORING_ATTRIBUTES):
        raise InvalidInputError(
            "biased_against must be (attribute, group) with an attribute of "
            f"{', '.join(MONITORING_ATTRIBUTES)}, got {biased_against!r}",
            field="biased_against",
        )
    for name, count in (("n_rounds", n_rounds), ("list_size", list_size)):
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidInputError(f"{name} must be a positive integer, got {count!r}",
                                    field=name)
    for name, value in (("activity", activity), ("monitoring_consent", monitoring_consent)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise InvalidInputError(f"{name} must be a number in [0, 1], got {value!r}",
                                    field=name)
    if isinstance(strength, bool) or not isinstance(strength, int | float) or strength < 0:
        raise InvalidInputError(f"strength must be a non-negative number, got {strength!r}",
                                field="strength")


def _shown_items(
    matcher: Matcher, participant_ids: np.ndarray, pseudonyms: np.ndarray,
    rng: np.random.Generator, *, n_rounds: int, list_size: int, activity: float,
    start: pd.Timestamp,
) -> pd.DataFrame:
    """The lists each participant was shown, week by week (one matcher call each)."""
    state = matcher.state_
    scorer = matcher.scorer_
    ids = state.vacancies.block.ids
    alive = state.vacancies.alive
    depth = n_rounds * list_size
    chunks: list[pd.DataFrame] = []
    for pid, pseudonym in zip(participant_ids, pseudonyms, strict=True):
        _, pairs = matcher.pairs_for_participant(str(pid), state=state)
        scores = scorer.score(pairs.factors.T)
        ranked = top_k(scores, pairs.passing & alive, ids, depth)
        active = np.flatnonzero(rng.random(n_rounds) < activity)
        offsets = rng.uniform(8.0, 17.0, len(active))  # office hours
        n_lists = min(len(active), -(-len(ranked) // list_size))
        if n_lists == 0:
            continue
        position = np.arange(min(len(ranked), n_lists * list_size))
        which = position // list_size
        rows = ranked[position]
        when = (start + pd.to_timedelta(active[which] * 7, unit="D")
                + pd.to_timedelta(offsets[which], unit="h"))
        frame = pd.DataFrame({
            T.PARTICIPANT: pseudonym,
            T.VACANCY: ids[rows].astype(str),
            T.SHOWN_AT: when.round("s"),
            T.MODEL_VERSION: scorer.version,
            T.RANK: position % list_size + 1,
        })
        factors = pairs.factors[:, rows]
        for j, factor in enumerate(FACTORS):
            frame[factor] = np.round(factors[j].astype(np.float64), 4)
        chunks.append(frame)
    columns = [T.PARTICIPANT, T.VACANCY, T.SHOWN_AT, T.MODEL_VERSION, T.RANK, *FACTORS]
    if not chunks:
        return pd.DataFrame(columns=columns)
    shown = pd.concat(chunks, ignore_index=True)
    return shown.sort_values([T.SHOWN_AT, T.PARTICIPANT, T.RANK], kind="stable").reset_index(
        drop=True)[columns]


def _funnel(
    rng: np.random.Generator, z: np.ndarray, blocked: np.ndarray, shown_at: pd.Series,
) -> pd.DataFrame:
    """Status events of each shown pair (vectorised over pairs)."""
    n = len(z)
    coins = rng.random((4, n))
    p = expit(np.asarray(_BASE_LOGITS)[:, None] + z[None, :])
    proposed = coins[0] < p[0]
    applied = proposed & (coins[1] < p[1])
    interview = applied & (coins[2] < p[2]) & ~blocked
    hired = interview & (coins[3] < p[3])
    not_applied_withdrawn = proposed & ~applied & (rng.random(n) < 0.5)
    late_withdrawn = interview & ~hired & (rng.random(n) < 0.2)
    gaps = rng.uniform((0.0, 1.0, 3.0, 3.0), (3.0, 7.0, 14.0, 14.0), (n, 4))
    epoch = pd.Timestamp("1970-01-01", tz="UTC")
    t0 = ((pd.to_datetime(shown_at, utc=True) - epoch) / pd.Timedelta(days=1)).to_numpy()
    days = t0[:, None] + np.cumsum(gaps, axis=1)
    at = [days[:, j] for j in range(4)]
    events = [
        (proposed, "proposed", at[0]),
        (not_applied_withdrawn, "withdrawn", at[1]),
        (applied, "applied", at[1]),
        (applied & ~interview, "rejected", at[2]),
        (interview, "interview", at[2]),
        (hired, "hired", at[3]),
        (interview & ~hired & ~late_withdrawn, "rejected", at[3]),
        (late_withdrawn, "withdrawn", at[3]),
    ]
    index, status, when = [], [], []
    for mask, name, times in events:
        rows = np.flatnonzero(mask)
        index.append(rows)
        status.append(np.full(len(rows), name, dtype=object))
        when.append(times[rows])
    frame = pd.DataFrame({
        "_row": np.concatenate(index),
        T.STATUS: np.concatenate(status),
        T.AT: (epoch + pd.to_timedelta(np.concatenate(when), unit="D")).round("s"),
    })
    return frame


def simulate_outcomes(
    market: Market | DemoMarket,
    matcher: Matcher,
    *,
    preference: Literal["learnable", "none"] = "learnable",
    biased_employer: str | None = None,
    biased_against: tuple[str, str] = ("nationality_group", "third_country"),
    n_rounds: int = 12,
    list_size: int = 10,
    activity: float = 0.7,
    strength: float = 15.0,
    weights: Mapping[str, float] | None = None,
    monitoring_consent: float = 0.85,
    start: dt.datetime = dt.datetime(2026, 8, 3, tzinfo=dt.UTC),
    random_state: int = 0,
) -> SimulatedOutcomes:
    """Simulate shown lists, outcomes and monitoring attributes on a demo market.

    Parameters
    ----------
    market : DemoMarket or Market
        From :func:`matching.datasets.make_demo_market`, or any object with the two
        frames :class:`Market` names.
    matcher : Matcher
        Fitted on ``market``; its current scorer ranks the lists shown (the default
        scorer, as before any model is learned).
    preference : {"learnable", "none"}, default "learnable"
        Whether outcomes follow the hidden :data:`LEARNABLE_WEIGHTS` or carry no signal.
    biased_employer : str, optional
        An ``employer_id`` that rejects every application from ``biased_against``.
    biased_against : (attribute, group), default ("nationality_group", "third_country")
    n_rounds : int, default 12
        Weekly coaching rounds.
    list_size : int, default 10
        Vacancies per shown list.
    activity : float, default 0.7
        Chance that a participant is seen in a given week.
    strength : float, default 15.0
        Scale of the hidden utility on the log-odds of every funnel step.
    weights : mapping of factor to float, optional
        Hidden weights of the learnable preference; :data:`LEARNABLE_WEIGHTS` by default.
    monitoring_consent : float, default 0.85
        Share of participants in the monitoring table.
    start : datetime, default 2026-08-03 UTC
        The first week.
    random_state : int, default 0

    Returns
    -------
    SimulatedOutcomes

    Raises
    ------
    InvalidInputError
        An unknown preference or employer, a malformed ``biased_against``, or a count or
        share out of range.
    NotFittedError
        A matcher that was not fitted.
    """
    _check_args(preference, biased_against, n_rounds, list_size, activity, strength,
                monitoring_consent)
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise InvalidInputError(f"random_state must be an integer, got {random_state!r}",
                                field="random_state")
    if not hasattr(matcher, "state_"):
        raise NotFittedError("the matcher has no index yet; fit it on the market first")
    employers = set(market.vacancies[V.EMPLOYER_ID].astype(str))
    if biased_employer is not None and biased_employer not in employers:
        raise InvalidInputError(f"biased_employer {biased_employer!r} has no vacancy in the market",
                                field="biased_employer")
    rng = np.random.default_rng(int(random_state))
    participants = market.participants
    participant_ids = participants[P.ID].astype(str).to_numpy()
    pseudonyms = np.array([_pseudonym(int(random_state), p) for p in participant_ids],
                          dtype=object)
    attributes = _attributes(rng, participants)
    attributes.insert(0, T.PARTICIPANT, pseudonyms)
    consented = rng.random(len(attributes)) < monitoring_consent
    shown = _shown_items(matcher, participant_ids, pseudonyms, rng, n_rounds=n_rounds,
                         list_size=list_size, activity=activity,
                         start=pd.Timestamp(start).tz_convert("UTC"))

    factors = shown[list(FACTORS)].to_numpy(dtype=np.float64)
    if preference == "learnable":
        chosen = dict(LEARNABLE_WEIGHTS if weights is None else weights)
        if set(chosen) != set(FACTORS) or not all(
                np.isfinite(float(w)) and float(w) >= 0 for w in chosen.values()):
            raise InvalidInputError(
                f"weights must give one non-negative number per factor {', '.join(FACTORS)}",
                field="weights")
        vector = np.asarray([float(chosen[f]) for f in FACTORS])
        utility = factors @ vector
        z = strength * (utility - utility.mean()) if len(utility) else utility
        true_weights: dict[str, float] | None = chosen
    else:
        z = np.zeros(len(shown))
        true_weights = None
    vacancy_employer = dict(zip(market.vacancies[V.ID].astype(str),
                                market.vacancies[V.EMPLOYER_ID].astype(str), strict=True))
    blocked = np.zeros(len(shown), dtype=bool)
    if biased_employer is not None:
        attribute, group = biased_against
        in_group = set(attributes.loc[attributes[attribute] == group, T.PARTICIPANT])
        at_employer = shown[T.VACANCY].map(vacancy_employer).to_numpy() == biased_employer
        blocked = at_employer & shown[T.PARTICIPANT].isin(in_group).to_numpy()
    events = _funnel(rng, z, blocked, shown[T.SHOWN_AT])
    rows = events.pop("_row").to_numpy()
    outcomes = pd.DataFrame({
        T.PARTICIPANT: shown[T.PARTICIPANT].to_numpy()[rows],
        T.VACANCY: shown[T.VACANCY].to_numpy()[rows],
        T.STATUS: events[T.STATUS].to_numpy(),
        T.AT: events[T.AT].to_numpy(),
    }).sort_values([T.AT, T.PARTICIPANT, T.VACANCY], kind="stable").reset_index(drop=True)
    return SimulatedOutcomes(
        shown=shown,
        outcomes=outcomes,
        monitoring=attributes.loc[consented].reset_index(drop=True),
        pseudonyms=pd.DataFrame({P.ID: participant_ids, T.PARTICIPANT: pseudonyms}),
        vacancies=market.vacancies[[V.ID, V.EMPLOYER_ID]].astype(str).reset_index(drop=True),
        preference=preference,
        true_weights=true_weights,
        biased_employer=biased_employer,
        biased_against=biased_against,
    )
