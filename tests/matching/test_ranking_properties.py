"""Hypothesis properties of the ranking: order, uniqueness, filters, monotonicity."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import CommuteModel, CommuteParameters, Matcher
from matching.schema import FACTORS
from tests.matching.conftest import make_participant, make_vacancy

SKILL_LABELS = [
    "operate forklift", "stack goods", "receive goods", "store goods",
    "operate cash register", "assist in the movement of heavy loads",
]
POSTCODES = ["33602", "33609", "33605", "33689", "33647", "33739", "33719"]
LEVELS = ["A1", "A2", "B1", "B2", "C1", "native"]
SHIFTS = ["early", "day", "late", "night", "weekend"]
PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@st.composite
def markets(draw):
    n_v = draw(st.integers(1, 6))
    n_p = draw(st.integers(1, 4))
    vacancies = []
    for i in range(n_v):
        labels = draw(st.lists(st.sampled_from(SKILL_LABELS), min_size=1, max_size=4,
                               unique=True))
        vacancies.append(make_vacancy(
            f"v{i}",
            skills=[{"skill": label, "essential": draw(st.booleans())} for label in labels],
            languages=[{"language": "de", "level": draw(st.sampled_from(LEVELS[:4]))}],
            postcode=draw(st.sampled_from(POSTCODES)),
            hours_per_week=draw(st.sampled_from([15, 20, 30, 38, 40])),
            shifts=draw(st.lists(st.sampled_from(SHIFTS), max_size=2, unique=True)),
            certificates_required=draw(st.sampled_from([[], ["Staplerschein"]])),
            driving_licence_required=draw(st.sampled_from([None, "B", "C"])),
            status=draw(st.sampled_from(["open", "open", "open", "filled"])),
        ))
    participants = []
    for j in range(n_p):
        low = draw(st.sampled_from([0, 10, 20]))
        participants.append(make_participant(
            f"p{j}",
            skills=draw(st.lists(st.sampled_from(SKILL_LABELS), min_size=1, max_size=4,
                                 unique=True)),
            languages=[{"language": "de", "level": draw(st.sampled_from(LEVELS))}],
            postcode=draw(st.sampled_from(POSTCODES)),
            modes=draw(st.lists(st.sampled_from(["walk", "bike", "transit", "car"]),
                                min_size=1, max_size=3, unique=True)),
            driving_licence=draw(st.sampled_from([[], ["B"], ["CE"]])),
            hours_min=low,
            hours_max=low + draw(st.sampled_from([10, 20, 30])),
            availability=draw(st.lists(st.sampled_from(SHIFTS), min_size=1, unique=True)),
            certificates=draw(st.sampled_from([[], ["Gabelstaplerschein"]])),
            max_commute_minutes=draw(st.sampled_from([None, 20, 45])),
            work_permit=draw(st.sampled_from(["yes", "restricted", "pending"])),
        ))
    return vacancies, participants


def with_uris(rows, uri, key):
    out = []
    for row in rows:
        row = dict(row)
        if key == "vacancy":
            row["skills"] = [{**s, "skill": uri(s["skill"])} for s in row["skills"]]
        else:
            row["skills"] = [uri(s) for s in row["skills"]]
        out.append(row)
    return out


def fit(taxonomy, geocoder, vacancies, participants, commute=None):
    return Matcher(taxonomy=taxonomy, geocoder=geocoder, commute=commute).fit(
        pd.DataFrame(vacancies), pd.DataFrame(participants)
    )


@PROPERTY_SETTINGS
@given(data=markets(), seed=st.integers(0, 2**16))
def test_rankings_are_sorted_unique_feasible_and_order_free(taxonomy, geocoder, uri, data,
                                                            seed):
    vacancies, participants = data
    vacancies = with_uris(vacancies, uri, "vacancy")
    participants = with_uris(participants, uri, "participant")
    matcher = fit(taxonomy, geocoder, vacancies, participants)
    rng = np.random.default_rng(seed)
    shuffled = fit(taxonomy, geocoder, [vacancies[i] for i in rng.permutation(len(vacancies))],
                   [participants[i] for i in rng.permutation(len(participants))])
    for participant in participants:
        pid = participant["participant_id"]
        result = matcher.match_participant(pid, limit=10)
        keys = [(-item.score, item.vacancy_id) for item in result.items]
        assert keys == sorted(keys)
        ids = [item.vacancy_id for item in result.items]
        assert len(ids) == len(set(ids))
        _, pairs = matcher.pairs_for_participant(pid)
        state = matcher.state_
        for item in result.items:
            assert not pairs.reasons[:, state.vacancy_row(item.vacancy_id)].any()
        excluded = {e["vacancy_id"] for e in result.excluded}
        assert excluded.isdisjoint(ids)
        assert len(excluded) + len(ids) == len(vacancies)
        assert shuffled.match_participant(pid).to_dict() == result.to_dict()
    for vacancy in vacancies:
        vid = vacancy["vacancy_id"]
        assert shuffled.match_vacancy(vid).to_dict() == matcher.match_vacancy(vid).to_dict()


def pair_score(matcher, pid, vid):
    _, pairs = matcher.pairs_for_participant(pid)
    column = pairs.factors[:, matcher.state_.vacancy_row(vid)]
    return float(matcher.scorer_.score(column[None, :])[0]), dict(zip(FACTORS, column,
                                                                      strict=True))


@PROPERTY_SETTINGS
@given(data=markets(), pick=st.integers(0, 100))
def test_adding_a_required_skill_never_lowers_the_score(taxonomy, geocoder, uri, data, pick):
    vacancies, participants = data
    vacancies = with_uris(vacancies, uri, "vacancy")
    participants = with_uris(participants, uri, "participant")
    vacancy = vacancies[pick % len(vacancies)]
    participant = participants[pick % len(participants)]
    required = [s["skill"] for s in vacancy["skills"]]
    skill = required[pick % len(required)]
    richer = dict(participant, skills=list(dict.fromkeys([*participant["skills"], skill])))
    before = fit(taxonomy, geocoder, vacancies, [participant])
    after = fit(taxonomy, geocoder, vacancies, [richer])
    pid, vid = participant["participant_id"], vacancy["vacancy_id"]
    score_before, factors_before = pair_score(before, pid, vid)
    score_after, factors_after = pair_score(after, pid, vid)
    assert factors_after["skills"] >= factors_before["skills"] - 1e-6
    assert score_after >= score_before - 1e-6


@PROPERTY_SETTINGS
@given(data=markets(), slower=st.floats(1.05, 3.0))
def test_a_longer_commute_never_raises_the_score(taxonomy, geocoder, uri, data, slower):
    vacancies, participants = data
    vacancies = with_uris(vacancies, uri, "vacancy")
    participants = with_uris(participants, uri, "participant")
    base = CommuteParameters()
    slow = CommuteParameters(**{
        mode: replace(base.for_mode(mode), speed_kmh=base.for_mode(mode).speed_kmh / slower)
        for mode in ("walk", "bike", "transit", "car")
    })
    fast = fit(taxonomy, geocoder, vacancies, participants)
    slow_matcher = fit(taxonomy, geocoder, vacancies, participants,
                       commute=CommuteModel(parameters=slow))
    for participant in participants:
        pid = participant["participant_id"]
        _, a = fast.pairs_for_participant(pid)
        _, b = slow_matcher.pairs_for_participant(pid)
        assert (b.commute_minutes >= a.commute_minutes - 1e-4).all()
        assert (b.factors[3] <= a.factors[3] + 1e-6).all()
        assert (fast.scorer_.score(b.factors.T) <= fast.scorer_.score(a.factors.T) + 1e-6).all()
        assert (b.passing <= a.passing).all()
