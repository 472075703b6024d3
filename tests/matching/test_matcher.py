"""Known-answer tests of the matcher on tiny markets, and its unhappy paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matching import (
    CommuteParameters,
    InvalidInputError,
    InvalidLanguageLevelError,
    InvalidLocationError,
    Matcher,
    UnknownIdError,
)
from matching.commute import CommuteModel
from matching.errors import NotFittedError
from matching.schema import Reason
from tests.matching.conftest import make_participant, make_vacancy

WAREHOUSE = ["operate forklift", "stack goods", "receive goods", "store goods"]


@pytest.fixture
def warehouse_skills(uri):
    return [{"skill": uri(label), "essential": True} for label in WAREHOUSE]


def reasons_of(result, vacancy_id):
    return next(e["reasons"] for e in result.excluded if e["vacancy_id"] == vacancy_id)


def test_full_skill_match_ranks_first(market, uri, warehouse_skills):
    cash = [{"skill": uri("operate cash register"), "essential": True}]
    matcher = market(
        [make_vacancy("v-cash", skills=cash), make_vacancy("v-lager", skills=warehouse_skills)],
        [make_participant(skills=[uri(label) for label in WAREHOUSE])],
    )
    result = matcher.match_participant("p1")
    assert [item.vacancy_id for item in result.items] == ["v-lager", "v-cash"]
    top = result.items[0]
    assert top.factors["skills"] == pytest.approx(1.0)
    assert top.explanation["skills"]["essential_matched"] == 4
    assert top.explanation["skills"]["missing"] == []
    bottom = result.items[1]
    assert [c["uri"] for c in bottom.explanation["skills"]["missing"]] == [
        uri("operate cash register")
    ]
    assert sum(top.contributions.values()) == pytest.approx(top.score, abs=1e-3)


def test_language_rule_meets_reachable_and_gap(market, warehouse_skills, uri):
    vacancies = [make_vacancy(skills=warehouse_skills, languages=[{"language": "de",
                                                                    "level": "B1"}])]
    skills = [uri("stack goods")]
    participants = [
        make_participant("p-meets", skills=skills, languages=[{"language": "de", "level": "B1"}]),
        make_participant("p-course", skills=skills, languages=[
            {"language": "de", "level": "A2", "expected_level": "B1",
             "expected_by": "2027-02-01"}]),
        make_participant("p-late", skills=skills, languages=[
            {"language": "de", "level": "A2", "expected_level": "B1",
             "expected_by": "2027-04-01"}]),
        make_participant("p-two-short", skills=skills,
                         languages=[{"language": "de", "level": "A1"}]),
        make_participant("p-none", skills=skills, languages=[{"language": "ar",
                                                              "level": "native"}]),
    ]
    matcher = market(vacancies, participants)
    meets = matcher.match_participant("p-meets").items[0]
    assert meets.factors["language"] == pytest.approx(0.6)
    course = matcher.match_participant("p-course").items[0]
    assert course.factors["language"] == pytest.approx(0.3)
    assert course.explanation["languages"][0]["status"] == "reachable"
    for pid in ("p-late", "p-two-short", "p-none"):
        result = matcher.match_participant(pid)
        assert result.items == []
        assert reasons_of(result, "v1") == [Reason.LANGUAGE]
        assert result.excluded_counts == {Reason.LANGUAGE: 1}


def test_commute_minutes_follow_the_documented_estimate(market, warehouse_skills, geocoder):
    matcher = market(
        [make_vacancy(skills=warehouse_skills, postcode="33602")],
        [make_participant(skills=["stack goods"], postcode="33689", modes=["transit"])],
    )
    result = matcher.match_participant("p1")
    a = geocoder.locate(postcode="33689")
    b = geocoder.locate(postcode="33602")
    from matching.commute import haversine_km

    expected = CommuteParameters().minutes(haversine_km(a.lat, a.lon, b.lat, b.lon), "transit")
    explanation = (result.items[0].explanation if result.items else None)
    assert explanation is not None, result.excluded
    assert explanation["commute"]["mode"] == "transit"
    assert explanation["commute"]["minutes"] == round(float(expected))
    assert explanation["commute"]["limit_minutes"] == 60  # 30 h / 5 days = 6 h: §140 cap 60


def test_commute_limit_own_and_section_140(market, warehouse_skills):
    vacancies = [
        make_vacancy("v-far", skills=warehouse_skills, postcode="33739"),
        make_vacancy("v-long-day", skills=warehouse_skills, postcode="33739",
                     hours_per_week=40, days_per_week=5),
    ]
    walker = make_participant("p-walk", skills=["stack goods"], postcode="33689",
                              modes=["walk"], hours_max=40)
    strict = make_participant("p-own", skills=["stack goods"], postcode="33609",
                              modes=["transit"], max_commute_minutes=5)
    matcher = market(vacancies, [walker, strict])
    result = matcher.match_participant("p-walk")
    assert reasons_of(result, "v-far") == [Reason.COMMUTE]
    assert result.excluded_counts[Reason.COMMUTE] == 2
    own = matcher.match_participant("p-own")
    assert own.excluded_counts == {Reason.COMMUTE: 2}
    pairs = matcher.pairs_for_participant("p-own")[1]
    assert pairs.commute_limit[matcher.state_.vacancy_row("v-long-day")] == 5


def test_section_140_cap_depends_on_daily_hours(market, warehouse_skills):
    matcher = market(
        [make_vacancy("v-short", skills=warehouse_skills, hours_per_week=30),
         make_vacancy("v-long", skills=warehouse_skills, hours_per_week=32)],
        [make_participant(skills=["stack goods"])],
    )
    _, pairs = matcher.pairs_for_participant("p1")
    state = matcher.state_
    assert pairs.commute_limit[state.vacancy_row("v-short")] == 60
    assert pairs.commute_limit[state.vacancy_row("v-long")] == 75


@pytest.mark.parametrize(
    ("vacancy_fields", "participant_fields", "reason"),
    [
        ({"certificates_required": ["Staplerschein"]}, {}, Reason.CERTIFICATE),
        ({"driving_licence_required": "C"}, {"driving_licence": ["B"]}, Reason.DRIVING_LICENCE),
        ({"shifts": ["night"]}, {"availability": ["early", "day"]}, Reason.SHIFTS),
        ({"hours_per_week": 40}, {"hours_max": 30}, Reason.HOURS),
        ({"hours_per_week": 10}, {"hours_min": 20}, Reason.HOURS),
        ({}, {"work_permit": "pending"}, Reason.WORK_PERMIT),
        ({}, {"work_permit": "unknown"}, Reason.WORK_PERMIT),
        ({"status": "filled"}, {}, Reason.NOT_OPEN),
    ],
)
def test_each_hard_filter_names_its_reason(
    market, warehouse_skills, vacancy_fields, participant_fields, reason
):
    matcher = market(
        [make_vacancy(skills=warehouse_skills, **vacancy_fields)],
        [make_participant(skills=["stack goods"], **participant_fields)],
    )
    result = matcher.match_participant("p1")
    assert result.items == []
    assert reasons_of(result, "v1") == [reason]
    assert result.excluded_counts == {reason: 1}


@pytest.mark.parametrize(
    ("vacancy_fields", "participant_fields"),
    [
        ({"certificates_required": ["Staplerschein"]}, {"certificates": ["Gabelstaplerschein"]}),
        ({"driving_licence_required": "C"}, {"driving_licence": ["CE"]}),
        ({"driving_licence_required": "B"}, {"driving_licence": ["C"]}),
        ({"shifts": ["early", "late"]}, {"availability": ["early", "late"]}),
        ({}, {"work_permit": "restricted"}),
        ({"work_permit_required": False}, {"work_permit": "unknown"}),
    ],
)
def test_filters_pass_when_requirements_are_met(
    market, warehouse_skills, vacancy_fields, participant_fields
):
    matcher = market(
        [make_vacancy(skills=warehouse_skills, **vacancy_fields)],
        [make_participant(skills=["stack goods"], **participant_fields)],
    )
    assert [i.vacancy_id for i in matcher.match_participant("p1").items] == ["v1"]


def test_override_lifts_one_filter_for_one_vacancy(market, warehouse_skills):
    b2 = [{"language": "de", "level": "B2"}]
    matcher = market(
        [make_vacancy("v1", skills=warehouse_skills, languages=b2),
         make_vacancy("v2", skills=warehouse_skills, languages=b2)],
        [make_participant(skills=["stack goods"], languages=[{"language": "de",
                                                             "level": "A2"}])],
    )
    result = matcher.match_participant("p1", overrides=[("v1", Reason.LANGUAGE)])
    assert [i.vacancy_id for i in result.items] == ["v1"]
    assert result.items[0].explanation["overridden"] == [Reason.LANGUAGE]
    assert result.excluded_counts == {Reason.LANGUAGE: 1}
    # An override of another filter does not lift this one; overrides of a vacancy
    # that has since left the index are ignored.
    other = matcher.match_participant(
        "p1", overrides=[("v1", Reason.COMMUTE), ("gone", Reason.LANGUAGE)]
    )
    assert other.items == []
    with pytest.raises(InvalidInputError, match="cannot be overridden"):
        matcher.match_participant("p1", overrides=[("v1", Reason.NOT_OPEN)])


def test_employer_view_requires_consent_and_approval(market, warehouse_skills):
    matcher = market(
        [make_vacancy(skills=warehouse_skills)],
        [make_participant("p-ok", skills=["stack goods"]),
         make_participant("p-no-consent", skills=["stack goods"], consent=False),
         make_participant("p-not-approved", skills=["stack goods"], approved=False)],
    )
    shortlist = matcher.match_vacancy("v1")
    assert [i.participant_id for i in shortlist.items] == ["p-ok"]
    assert shortlist.excluded_counts == {Reason.NOT_CONSENTED: 1, Reason.NOT_APPROVED: 1}
    coach_view = matcher.match_vacancy("v1", employer_view=False,
                                       candidate_ids=["p-no-consent", "p-ok"])
    assert [i.participant_id for i in coach_view.items] == ["p-no-consent", "p-ok"]


def test_both_directions_give_the_same_score(market, uri, warehouse_skills):
    cash = [{"skill": uri("operate cash register"), "essential": True},
            {"skill": uri("stack goods"), "essential": False}]
    vacancies = [make_vacancy("v1", skills=warehouse_skills),
                 make_vacancy("v2", skills=cash, postcode="33602"),
                 make_vacancy("v3", occupation=uri("cashier"), postcode="33689")]
    participants = [
        make_participant("p1", skills=[uri("stack goods"), "Kasse bedienen"],
                         desired_occupations=[uri("cashier")]),
        make_participant("p2", skills=[uri(label) for label in WAREHOUSE], postcode="33647",
                         past_occupations=[uri("warehouse worker")]),
    ]
    matcher = market(vacancies, participants)
    for pid in ("p1", "p2"):
        for item in matcher.match_participant(pid).items:
            other = matcher.match_vacancy(item.vacancy_id, employer_view=False)
            mirrored = next(c for c in other.items if c.participant_id == pid)
            assert mirrored.score == pytest.approx(item.score, abs=1e-4)
            assert mirrored.factors == pytest.approx(item.factors, abs=1e-4)


def test_occupation_implied_by_skills_without_exact_skill_match(market, uri, taxonomy):
    """Warehouse skills find a warehouse vacancy whose listed skills they do not share."""
    occupation = uri("warehouse worker")
    row = taxonomy.occupation_position[occupation]
    essential = taxonomy.skills["uri"].to_numpy()[taxonomy.occupation_essential[row].indices]
    held, listed = list(essential[: len(essential) // 2]), list(essential[len(essential) // 2:])
    matcher = market(
        [make_vacancy("v-lager", occupation=occupation,
                      skills=[{"skill": s, "essential": True} for s in listed]),
         make_vacancy("v-other", occupation=uri("cashier"),
                      skills=[{"skill": uri("operate cash register"), "essential": True}])],
        [make_participant(skills=held)],
    )
    result = matcher.match_participant("p1")
    assert result.items[0].vacancy_id == "v-lager"
    top = result.items[0]
    assert top.factors["occupation"] > 0.2
    assert top.explanation["occupation"]["basis"] == "implied"


def test_vacancy_without_skills_takes_its_occupation_skills(market, uri):
    matcher = market([make_vacancy(occupation="Lagerarbeiter", skills=[])],
                     [make_participant(skills=["stack goods"])])
    item = matcher.match_participant("p1").items[0]
    assert item.explanation["skills"]["from_occupation"] is True
    assert item.explanation["occupation"]["vacancy"]["uri"] == uri("warehouse worker")


def test_objection_to_profiling_gives_an_unranked_filter_only_list(market, warehouse_skills):
    matcher = market(
        [make_vacancy("v2", skills=warehouse_skills), make_vacancy("v1", skills=warehouse_skills),
         make_vacancy("v3", skills=warehouse_skills, status="closed")],
        [make_participant(skills=["stack goods"])],
    )
    result = matcher.match_participant("p1", ranked=False)
    assert result.ranked is False
    assert [i.vacancy_id for i in result.items] == ["v1", "v2"]
    assert all(i.score is None and i.factors is None and i.rank is None for i in result.items)
    assert result.excluded_counts == {Reason.NOT_OPEN: 1}


def test_updates_and_removals_change_results_without_refit(market, warehouse_skills):
    matcher = market([make_vacancy("v1", skills=warehouse_skills)],
                     [make_participant(skills=["stack goods"])])
    matcher.upsert_vacancies(pd.DataFrame([make_vacancy("v1", skills=warehouse_skills,
                                                        status="closed"),
                                           make_vacancy("v2", skills=warehouse_skills)]))
    result = matcher.match_participant("p1")
    assert [i.vacancy_id for i in result.items] == ["v2"]
    assert result.excluded_counts == {Reason.NOT_OPEN: 1}
    assert matcher.n_vacancies == 2
    matcher.remove_vacancies(["v2", "unknown"])
    assert matcher.match_participant("p1").items == []
    matcher.remove_participants(["p1"])
    with pytest.raises(UnknownIdError, match="participant 'p1'"):
        matcher.match_participant("p1")
    with pytest.raises(UnknownIdError):
        matcher.match_vacancy("v2")


def test_ties_break_by_id(market, warehouse_skills):
    vacancies = [make_vacancy(f"v{i}", skills=warehouse_skills) for i in (3, 1, 2)]
    matcher = market(vacancies, [make_participant(skills=["stack goods"])])
    items = matcher.match_participant("p1").items
    assert [i.vacancy_id for i in items] == ["v1", "v2", "v3"]
    assert len({i.score for i in items}) == 1
    assert [i.rank for i in items] == [1, 2, 3]


def test_unresolved_free_text_is_reported(market, warehouse_skills):
    matcher = market([make_vacancy(skills=warehouse_skills)],
                     [make_participant(skills=["stack goods", "xqzv wplk"])])
    item = matcher.match_participant("p1").items[0]
    assert item.explanation["unresolved_skills"] == ["xqzv wplk"]


def test_german_summary_for_the_coach(market, warehouse_skills):
    matcher = market([make_vacancy(skills=warehouse_skills)],
                     [make_participant(skills=["stack goods"])])
    summary = matcher.match_participant("p1").items[0].explanation["summary_de"]
    assert summary[0] == "1 von 4 Kernkompetenzen vorhanden"
    assert any(line.startswith("Deutsch: B1 (gefordert A2)") for line in summary)
    assert any(line.startswith("Arbeitsweg:") for line in summary)


def test_travel_time_matrix_overrides_the_estimate(taxonomy, geocoder, warehouse_skills):
    from matching import TravelTimeMatrix

    matrix = TravelTimeMatrix.from_frame(pd.DataFrame({
        "origin_zone": ["33609"], "destination_zone": ["33739"], "mode": ["transit"],
        "minutes": [17.0]}))
    matcher = Matcher(taxonomy=taxonomy, geocoder=geocoder,
                      commute=CommuteModel(matrix=matrix)).fit(
        pd.DataFrame([make_vacancy(skills=warehouse_skills, postcode="33739")]),
        pd.DataFrame([make_participant(skills=["stack goods"], modes=["transit"])]))
    assert matcher.match_participant("p1").items[0].explanation["commute"]["minutes"] == 17


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("participant_fields", "error", "field"),
    [
        ({"languages": [{"language": "de", "level": "B3"}]}, InvalidLanguageLevelError,
         "languages[0].level"),
        ({"postcode": "1234"}, InvalidLocationError, "postcode"),
        ({"postcode": "ABCDE"}, InvalidLocationError, "postcode"),
        ({"skills": []}, InvalidInputError, "skills"),
        ({"hours_max": "viel"}, InvalidInputError, "hours_max"),
        ({"hours_min": 30, "hours_max": 20}, InvalidInputError, "hours_min"),
        ({"modes": ["teleport"]}, InvalidInputError, "modes"),
        ({"work_permit": "maybe"}, InvalidInputError, "work_permit"),
        ({"driving_licence": ["Z"]}, InvalidInputError, "driving_licence"),
        ({"skills": ["http://data.europa.eu/esco/skill/not-a-skill"]}, InvalidInputError,
         "skills"),
    ],
)
def test_bad_participant_input_raises_a_typed_error(
    market, warehouse_skills, participant_fields, error, field
):
    fields = {"skills": ["stack goods"], **participant_fields}
    with pytest.raises(error) as raised:
        market([make_vacancy(skills=warehouse_skills)], [make_participant(**fields)])
    assert raised.value.field.startswith(field.split("[")[0])
    assert "p1" in str(raised.value)


@pytest.mark.parametrize(
    ("vacancy_fields", "field"),
    [
        ({"hours_per_week": "dreißig"}, "hours_per_week"),
        ({"hours_per_week": 0}, "hours_per_week"),
        ({"days_per_week": 8}, "days_per_week"),
        ({"languages": [{"language": "deutsch", "level": "B1"}]}, "languages[0]"),
        ({"status": "maybe"}, "status"),
        ({"start_date": "soon"}, "start_date"),
        ({"skills": [], "occupation": None}, "skills"),
        ({"shifts": ["always"]}, "shifts"),
    ],
)
def test_bad_vacancy_input_raises_a_typed_error(market, warehouse_skills, vacancy_fields, field):
    fields = {"skills": warehouse_skills, **vacancy_fields}
    with pytest.raises(InvalidInputError) as raised:
        market([make_vacancy(**fields)], [make_participant(skills=["stack goods"])])
    assert raised.value.field == field
    assert "'v1'" in str(raised.value)


def test_duplicate_ids_and_bad_limits_are_refused(market, warehouse_skills):
    with pytest.raises(InvalidInputError, match="repeats id 'v1'"):
        market([make_vacancy(skills=warehouse_skills)] * 2,
               [make_participant(skills=["stack goods"])])
    matcher = market([make_vacancy(skills=warehouse_skills)],
                     [make_participant(skills=["stack goods"])])
    for limit in (0, -1, 2.5, True):
        with pytest.raises(InvalidInputError, match="limit"):
            matcher.match_participant("p1", limit=limit)


def test_an_unfitted_matcher_says_so():
    with pytest.raises(NotFittedError):
        Matcher().match_participant("p1")


def test_protected_traits_are_not_read(market, warehouse_skills):
    plain = market([make_vacancy(skills=warehouse_skills)],
                   [make_participant(skills=["stack goods"])])
    traits = market([make_vacancy(skills=warehouse_skills)],
                    [make_participant(skills=["stack goods"], sex="f", age=58,
                                      nationality="SY", religion="x", disability=True)])
    a = plain.match_participant("p1").items[0]
    b = traits.match_participant("p1").items[0]
    assert a.score == b.score and a.factors == b.factors
    assert np.isfinite(a.score)
