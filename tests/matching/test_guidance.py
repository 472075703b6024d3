"""Known-answer tests of next steps and requirement insights on tiny markets.

Each count is checked against an oracle that does what the vectorised code avoids:
rebuild the market with the changed participant or vacancy and rank again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import InvalidInputError, Matcher, UnknownIdError
from matching.errors import NotFittedError
from matching.guidance import (
    INSIGHT_KINDS,
    MASKED_DISPLAY_DE,
    good_match_threshold,
    next_steps,
    requirement_insights,
)
from tests.matching.conftest import make_participant, make_vacancy

WAREHOUSE = ["operate forklift", "stack goods", "receive goods", "store goods"]


@pytest.fixture
def warehouse(uri):
    return [{"skill": uri(label), "essential": True} for label in WAREHOUSE]


@pytest.fixture
def held(uri):
    return [uri(label) for label in WAREHOUSE]


def german(level):
    return [{"language": "de", "level": level}]


def good_rows(matcher, participant_id, threshold):
    """Oracle: vacancy ids that pass every filter and score at least ``threshold``."""
    _, pairs = matcher.pairs_for_participant(participant_id)
    scores = matcher.scorer_.score(pairs.factors.T)
    good = pairs.passing & matcher.state_.vacancies.alive & (scores >= threshold)
    return {str(v) for v in matcher.state_.vacancies.block.ids[good]}


def threshold_of(matcher, participant_id):
    _, pairs = matcher.pairs_for_participant(participant_id)
    scores = matcher.scorer_.score(pairs.factors.T)
    return good_match_threshold(scores, pairs.passing & matcher.state_.vacancies.alive)


# ------------------------------------------------------------------- next steps


def test_one_german_level_short_of_a_cluster(market, warehouse, held):
    vacancies = (
        [make_vacancy(f"v-b1-{i}", skills=warehouse, languages=german("B1")) for i in range(6)]
        + [make_vacancy(f"v-a2-{i}", skills=warehouse, languages=german("A2")) for i in range(2)]
        + [make_vacancy(f"v-b2-{i}", skills=warehouse, languages=german("B2")) for i in range(3)]
    )
    matcher = market(vacancies, [make_participant(skills=held, languages=german("A2"))])
    steps = next_steps(matcher, "p1")
    assert steps[0].kind == "language"
    assert steps[0].label_de == "Deutsch A2 → B1"
    assert steps[0].additional == 6
    assert steps[0].text_de == "Deutsch A2 → B1: 6 weitere Stellen"
    assert steps[0].vacancy_ids == [f"v-b1-{i}" for i in range(5)]  # equal scores: by id
    assert steps[0].detail == {"language": "de", "from": "A2", "to": "B1"}
    assert [s.kind for s in steps] == ["language"]  # nothing else opens anything here


def test_overridden_vacancies_are_not_opened_again(market, warehouse, held):
    # Six B1 vacancies; the coach overrode the language filter for two of them, which
    # therefore already count as passing: the German step opens the other four.
    vacancies = [make_vacancy(f"v-b1-{i}", skills=warehouse, languages=german("B1"))
                 for i in range(6)]
    matcher = market(vacancies, [make_participant(skills=held, languages=german("A2"))])
    overrides = [("v-b1-0", "language_too_low"), ("v-b1-3", "language_too_low"),
                 ("v-gone", "language_too_low")]  # a closed vacancy is ignored
    steps = next_steps(matcher, "p1", overrides=overrides)
    assert steps[0].text_de == "Deutsch A2 → B1: 4 weitere Stellen"
    assert steps[0].vacancy_ids == ["v-b1-1", "v-b1-2", "v-b1-4", "v-b1-5"]
    # An override of another filter changes nothing for the language step.
    other = next_steps(matcher, "p1", overrides=[("v-b1-0", "hours_incompatible")])
    assert other[0].additional == 6
    with pytest.raises(InvalidInputError) as caught:
        next_steps(matcher, "p1", overrides=[("v-b1-0", "not_consented")])
    assert caught.value.field == "reason"


def test_an_override_makes_the_vacancy_count_for_every_other_step(market, warehouse, held):
    # A driver's vacancy 40 hours a week: the participant has no licence and works 30 hours.
    vacancies = [make_vacancy("v-car", skills=warehouse, driving_licence_required="B",
                              hours_per_week=40)]
    participant = make_participant(skills=held, hours_max=30)
    matcher = market(vacancies, [participant])
    assert next_steps(matcher, "p1") == []  # each step alone leaves one filter failing
    steps = next_steps(matcher, "p1", overrides=[("v-car", "driving_licence_missing")])
    assert [(s.kind, s.additional, s.vacancy_ids) for s in steps] == [("hours", 1, ["v-car"])]


def test_bike_licence_hours_and_commute_steps(market, warehouse, held):
    vacancies = [
        make_vacancy("v-near", skills=warehouse, postcode="33609"),
        make_vacancy("v-far-1", skills=warehouse, postcode="33647"),
        make_vacancy("v-far-2", skills=warehouse, postcode="33647"),
        make_vacancy("v-car", skills=warehouse, driving_licence_required="B"),
        make_vacancy("v-full", skills=warehouse, hours_per_week=38),
    ]
    participant = make_participant(skills=held, modes=["walk"], hours_max=30,
                                   max_commute_minutes=20)
    matcher = market(vacancies, [participant])
    steps = {s.kind: s for s in next_steps(matcher, "p1", limit=10)}
    assert set(steps) >= {"driving_licence", "hours"}
    assert steps["hours"].label_de == "Bis 40 statt 30 Wochenstunden"
    assert steps["hours"].vacancy_ids == ["v-full"]
    assert "v-car" in steps["driving_licence"].vacancy_ids
    # Every count agrees with re-ranking a rebuilt market with the change applied.
    changed = {
        "driving_licence": {"driving_licence": ["B"], "modes": ["walk", "car"]},
        "bike": {"modes": ["walk", "bike"]},
        "hours": {"hours_max": 40},
        "commute_limit": {"max_commute_minutes": 35},
    }
    threshold = threshold_of(matcher, "p1")
    before = good_rows(matcher, "p1", threshold)
    for kind, fields in changed.items():
        other = market(vacancies, [{**participant, **fields}])
        opened = good_rows(other, "p1", threshold) - before
        if kind in steps:
            assert steps[kind].additional == len(opened), kind
            assert set(steps[kind].vacancy_ids) <= opened
        else:
            assert opened == set(), kind


def test_skill_step_counts_the_vacancies_a_missing_skill_makes_good(market, uri):
    two = [{"skill": uri("stack goods"), "essential": True},
           {"skill": uri("operate forklift"), "essential": True}]
    vacancies = [make_vacancy(f"v{i}", skills=two) for i in range(3)]
    vacancies += [make_vacancy("v-other", skills=[
        {"skill": uri("operate cash register"), "essential": True}])]
    participant = make_participant(skills=[uri("stack goods")])
    matcher = market(vacancies, [participant])
    steps = next_steps(matcher, "p1", good_match=0.55)
    skill_steps = [s for s in steps if s.kind == "skill"]
    assert skill_steps, steps
    first = skill_steps[0]
    assert first.detail["uri"] in {uri("operate forklift"), uri("operate cash register")}
    # Oracle: add the skill to the profile and rank again.
    _, pairs = matcher.pairs_for_participant("p1")
    scores = matcher.scorer_.score(pairs.factors.T)
    threshold = good_match_threshold(scores, pairs.passing, 0.55)
    before = good_rows(matcher, "p1", threshold)
    other = market(vacancies, [{**participant, "skills": [uri("stack goods"),
                                                          first.detail["uri"]]}])
    opened = good_rows(other, "p1", threshold) - before
    # The step credits the skill alone (no related-skill credit), so it is a lower bound.
    assert 0 < first.additional <= len(opened)
    assert set(first.vacancy_ids) <= opened


def test_no_step_when_nothing_opens(market, warehouse, held):
    matcher = market([make_vacancy(skills=warehouse)],
                     [make_participant(skills=held, languages=german("C2"),
                                       driving_licence=["B"], modes=["walk", "bike", "car"])])
    assert next_steps(matcher, "p1") == []


def test_next_steps_limit_and_order(market, warehouse, held):
    vacancies = [make_vacancy(f"v-b1-{i}", skills=warehouse, languages=german("B1"))
                 for i in range(3)]
    vacancies += [make_vacancy(f"v-car-{i}", skills=warehouse, driving_licence_required="B")
                  for i in range(2)]
    matcher = market(vacancies, [make_participant(skills=held, languages=german("A2"))])
    steps = next_steps(matcher, "p1")
    assert [(s.kind, s.additional) for s in steps] == [("language", 3), ("driving_licence", 2)]
    assert [s.kind for s in next_steps(matcher, "p1", limit=1)] == ["language"]
    assert steps[1].to_dict()["text_de"] == "Führerschein Klasse B (mit Auto): 2 weitere Stellen"


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"limit": 0}, InvalidInputError, "limit"),
        ({"good_match": 1.5}, InvalidInputError, "good_match"),
        ({"good_match": "high"}, InvalidInputError, "good_match"),
    ],
)
def test_next_steps_rejects_bad_arguments(market, warehouse, held, kwargs, error, field):
    matcher = market([make_vacancy(skills=warehouse)], [make_participant(skills=held)])
    with pytest.raises(error) as caught:
        next_steps(matcher, "p1", **kwargs)
    assert caught.value.field == field


def test_unknown_ids_and_unfitted_matcher(market, warehouse, held):
    matcher = market([make_vacancy(skills=warehouse)], [make_participant(skills=held)])
    with pytest.raises(UnknownIdError, match="nobody"):
        next_steps(matcher, "nobody")
    with pytest.raises(UnknownIdError, match="nothing"):
        requirement_insights(matcher, "nothing")
    with pytest.raises(NotFittedError):
        next_steps(Matcher(), "p1")


# --------------------------------------------------------------------- insights


def test_driving_licence_requirement_excluding_most_candidates(market, warehouse, held):
    participants = [make_participant(f"p{i}", skills=held) for i in range(8)]
    participants += [make_participant("p-driver", skills=held, driving_licence=["C"])]
    participants += [make_participant("p-no-consent", skills=held, consent=False)]
    matcher = market([make_vacancy("v1", skills=warehouse, driving_licence_required="B")],
                     participants)
    insights = requirement_insights(matcher, "v1")
    first = insights[0]
    assert first.kind == "driving_licence"
    assert first.label_de == "Kein Führerschein erforderlich"
    assert first.additional == 8  # the candidate without consent is not counted
    assert first.count_display == "8"
    assert first.text_de == "Kein Führerschein erforderlich: 8 weitere passende Kandidat:innen"
    others = [i for i in insights if i is not first]
    assert all(i.additional is None and i.count_display == MASKED_DISPLAY_DE for i in others)


def test_counts_under_five_are_masked(market, warehouse, held):
    participants = [make_participant(f"p-a2-{i}", skills=held, languages=german("A2"))
                    for i in range(3)]
    participants += [make_participant(f"p-b1-{i}", skills=held, languages=german("B1"))
                     for i in range(6)]
    participants += [make_participant(f"p-part-{i}", skills=held, hours_max=25)
                     for i in range(2)]
    matcher = market([make_vacancy("v1", skills=warehouse, languages=german("B2"))],
                     participants)
    insights = {i.kind: i for i in requirement_insights(matcher, "v1")}
    language = insights["language"]
    assert language.label_de == "Deutsch B1 statt B2"
    assert (language.additional, language.count_display) == (6, "6")
    hours = [i for i in requirement_insights(matcher, "v1") if i.kind == "hours"]
    assert [i.additional for i in hours] == [None, None]
    assert all(i.count_display == MASKED_DISPLAY_DE for i in hours)
    assert all("3" not in str(i.to_dict()["additional"]) for i in hours)


def test_insight_counts_match_a_rebuilt_market(market, warehouse, held, uri):
    vacancy = make_vacancy("v1", skills=warehouse, languages=german("B1"),
                           driving_licence_required="B", hours_per_week=35,
                           postcode="33647")
    rng = np.random.default_rng(3)
    participants = []
    for i in range(40):
        participants.append(make_participant(
            f"p{i:02d}",
            skills=[uri(label) for label in WAREHOUSE if rng.random() < 0.7] or held[:1],
            languages=german(str(rng.choice(["A2", "B1", "B2"]))),
            driving_licence=["B"] if rng.random() < 0.3 else [],
            hours_min=float(rng.choice([10, 20])),
            hours_max=float(rng.choice([25, 30, 40])),
            max_commute_minutes=float(rng.choice([20, 30, 45])),
            postcode=str(rng.choice(["33609", "33647", "33689"])),
        ))
    matcher = market([vacancy], participants)
    _, pairs = matcher.pairs_for_vacancy("v1", employer_view=True)
    scores = matcher.scorer_.score(pairs.factors.T)
    threshold = good_match_threshold(scores, pairs.passing)

    def qualified(m):
        return {c.participant_id for c in m.match_vacancy("v1", limit=1000).items
                if c.score >= threshold - 1e-4}

    before = qualified(matcher)
    oracle = {
        "Kein Führerschein erforderlich": market(
            [{**vacancy, "driving_licence_required": None}], participants),
        "Deutsch A2 statt B1": market([{**vacancy, "languages": german("A2")}], participants),
        "Weiteres Einzugsgebiet": market([vacancy], [
            {**p, "max_commute_minutes": p["max_commute_minutes"] + 15} for p in participants]),
    }
    insights = requirement_insights(matcher, "v1")
    for label, other in oracle.items():
        insight = next(i for i in insights if i.label_de.startswith(label))
        expected = len(qualified(other) - before)
        if expected < 5:
            assert insight.additional is None, label
        else:
            assert insight.additional == expected, label


def test_essential_skill_made_optional(market, uri):
    skills = [{"skill": uri("stack goods"), "essential": True},
              {"skill": uri("operate cash register"), "essential": True}]
    both = [uri("stack goods"), uri("operate cash register")]
    wish = {"desired_occupations": [uri("cashier")]}
    participants = [make_participant(f"p-strong-{i:02d}", skills=both, **wish)
                    for i in range(12)]
    participants += [make_participant(f"p-weak-{i}", skills=both[:1]) for i in range(6)]
    matcher = market([make_vacancy("v1", skills=skills, occupation=uri("cashier"))],
                     participants)
    good_match = 0.33  # between a weak participant's score before and after the change
    insights = [i for i in requirement_insights(matcher, "v1", good_match=good_match)
                if i.kind == "skill"]
    assert [i.detail["uri"] for i in insights] == [uri("operate cash register"),
                                                   uri("stack goods")]
    assert insights[0].label_de.endswith(": wünschenswert statt erforderlich")
    # Oracle: the vacancy rebuilt with the skill optional, ranked again.
    _, pairs = matcher.pairs_for_vacancy("v1", employer_view=True)
    threshold = good_match_threshold(matcher.scorer_.score(pairs.factors.T), pairs.passing,
                                     good_match)
    rebuilt = market([make_vacancy("v1", occupation=uri("cashier"), skills=[
        skills[0], {"skill": uri("operate cash register"), "essential": False}])], participants)
    old = {c.participant_id: c.score for c in matcher.match_vacancy("v1", limit=100).items}
    new = {c.participant_id: c.score for c in rebuilt.match_vacancy("v1", limit=100).items}
    opened = [p for p in new if new[p] >= threshold - 1e-4 > old[p]]
    assert len(opened) == 6
    assert (insights[0].additional, insights[0].count_display) == (6, "6")
    assert insights[1].additional is None


def test_insights_of_an_unconsented_pool_are_all_masked(market, warehouse, held):
    participants = [make_participant(f"p{i}", skills=held, consent=False) for i in range(9)]
    matcher = market([make_vacancy("v1", skills=warehouse, driving_licence_required="B")],
                     participants)
    insights = requirement_insights(matcher, "v1")
    assert insights and all(i.additional is None for i in insights)
    # Masked insights keep a fixed order by kind (and skills by label), not by hidden size.
    kinds = [i.kind for i in insights]
    assert kinds == sorted(kinds, key=INSIGHT_KINDS.index)
    skills = [i.label_de for i in insights if i.kind == "skill"]
    assert skills == sorted(skills)


def test_good_match_threshold_rule():
    scores = np.array([0.9, 0.8, 0.7, 0.2])
    assert good_match_threshold(scores, np.ones(4, bool)) == 0.3  # fewer than 10: floor
    assert good_match_threshold(scores, np.ones(4, bool), rank=3) == 0.5
    assert good_match_threshold(scores, np.ones(4, bool), 0.95, rank=2) == pytest.approx(0.8)


def test_frames_are_left_untouched(market, warehouse, held):
    vacancies = pd.DataFrame([make_vacancy(skills=warehouse, languages=german("B1"))])
    matcher = market(vacancies.to_dict("records"),
                     [make_participant(skills=held, languages=german("A2"))])
    state = matcher.state_
    next_steps(matcher, "p1")
    requirement_insights(matcher, "v1")
    assert matcher.state_ is state
    assert int(state.participants.block.lang_level["de"][0]) == 2


# ------------------------------------------------------- property: equal to re-ranking

LEVELS = ["A1", "A2", "B1", "B2"]
POSTCODES = ["33609", "33647", "33689", "33739"]


@st.composite
def small_market(draw):
    vacancies = [
        {"languages": german(draw(st.sampled_from(LEVELS))),
         "driving_licence_required": draw(st.sampled_from([None, "B"])),
         "hours_per_week": draw(st.sampled_from([20, 30, 38, 40])),
         "postcode": draw(st.sampled_from(POSTCODES))}
        for _ in range(draw(st.integers(1, 6)))
    ]
    participant = {
        "languages": german(draw(st.sampled_from(LEVELS))),
        "modes": draw(st.sampled_from([["walk"], ["walk", "transit"], ["transit", "bike"]])),
        "max_commute_minutes": draw(st.sampled_from([None, 15.0, 25.0, 45.0])),
        "hours_max": draw(st.sampled_from([20, 30, 40])),
        "postcode": draw(st.sampled_from(POSTCODES)),
    }
    return vacancies, participant


def _step_change(kind, participant):
    level = LEVELS.index(participant["languages"][0]["level"])
    own = participant["max_commute_minutes"]
    return {
        "language": {"languages": german([*LEVELS, "C1"][level + 1])},
        "driving_licence": {"driving_licence": ["B"], "modes": [*participant["modes"], "car"]},
        "bike": {"modes": [*participant["modes"], "bike"]},
        "hours": {"hours_max": min(participant["hours_max"] + 10, 40)},
        "commute_limit": {"max_commute_minutes": None if own is None else min(own + 15, 75)},
    }[kind]


@settings(max_examples=15, deadline=None)
@given(data=small_market())
def test_next_step_counts_equal_re_ranking_a_changed_market(taxonomy, geocoder, data):
    vacancy_fields, participant_fields = data
    skills = [{"skill": s, "essential": True} for s in taxonomy.skills["uri"][:3]]
    vacancies = [make_vacancy(f"v{i}", skills=skills, **f) for i, f in enumerate(vacancy_fields)]
    participant = make_participant(skills=list(taxonomy.skills["uri"][:2]), **participant_fields)

    def fit(people):
        return Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(
            pd.DataFrame(vacancies), pd.DataFrame(people))

    matcher = fit([participant])
    threshold = threshold_of(matcher, "p1")
    before = good_rows(matcher, "p1", threshold)
    steps = {s.kind: s for s in next_steps(matcher, "p1", limit=10) if s.kind != "skill"}
    for kind in ("language", "driving_licence", "bike", "hours", "commute_limit"):
        if kind == "bike" and "bike" in participant["modes"]:
            continue
        if kind == "hours" and participant["hours_max"] >= 40:
            continue
        if kind == "commute_limit" and participant["max_commute_minutes"] is None:
            continue
        opened = good_rows(fit([{**participant, **_step_change(kind, participant)}]), "p1",
                           threshold) - before
        assert (steps[kind].additional if kind in steps else 0) == len(opened), kind
