"""Placement plans never overbook a vacancy; spreading only reorders near-equal matches, and
lets a saturated vacancy yield only to an unsaturated one within the wider tolerance."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import InvalidInputError, Matcher, UnknownIdError
from matching.capacity import (
    DEFAULT_SATURATION_TOLERANCE,
    SATURATION_FLOOR,
    placement_plan,
    saturated_vacancies,
    spread_matches,
    spread_order,
    spread_rankings,
    spread_select,
    vacancy_load,
)
from tests.matching.conftest import make_participant, make_vacancy

#: One pytest-xdist worker runs the module's tests (``--dist loadgroup``):
#: the module's crowded market is built once.
pytestmark = pytest.mark.xdist_group("capacity")

WAREHOUSE = ["operate forklift", "stack goods", "receive goods", "store goods"]
OPENINGS = [1, 2, 1, 3, 1, 2, 1, 1]
N_PARTICIPANTS = 12


@pytest.fixture(scope="module")
def crowded(taxonomy, geocoder):
    """Eight warehouse vacancies with 1-3 openings; twelve participants, some excluded."""
    from tests.matching.conftest import make_participant as person

    labels = WAREHOUSE
    table = {row.label_en: row.uri for row in taxonomy.skills.itertuples()}
    vacancies = [
        make_vacancy(f"v{i}", openings=n,
                     skills=[{"skill": table[labels[j % 4]], "essential": True}
                             for j in range(i % 3, i % 3 + 2)],
                     languages=[{"language": "de", "level": "B1" if i == 7 else "A2"}])
        for i, n in enumerate(OPENINGS)
    ]
    rng = np.random.default_rng(7)
    participants = [
        person(f"p{i:02d}",
               skills=[table[s] for s in labels if rng.random() < 0.6] or [table[labels[0]]],
               languages=[{"language": "de", "level": "A2" if i % 4 == 0 else "B1"}],
               hours_max=25 if i == 11 else 40)
        for i in range(N_PARTICIPANTS)
    ]
    return Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(
        pd.DataFrame(vacancies), pd.DataFrame(participants)
    )


def feasible_scores(matcher, pids):
    """Score matrix (participants x vacancy rows), NaN where a filter fails."""
    rows = []
    for pid in pids:
        _, pairs = matcher.pairs_for_participant(pid)
        scores = matcher.scorer_.score(pairs.factors.T).astype(float)
        rows.append(np.where(pairs.passing, scores, np.nan))
    return np.array(rows)


# -------------------------------------------------------------------------- plan


@settings(max_examples=40, deadline=None)
@given(
    chosen=st.sets(st.integers(0, N_PARTICIPANTS - 1), min_size=1),
    sent=st.dictionaries(st.sampled_from([f"v{i}" for i in range(8)] + ["gone"]),
                         st.integers(0, 3), max_size=5),
    alternatives=st.integers(0, 3),
    overridden=st.sets(st.integers(0, N_PARTICIPANTS - 1), max_size=4),
    offer_slack=st.sampled_from([0.5, 1.0, 1.5, 3.0]),
)
def test_a_plan_never_assigns_more_than_the_free_openings(
    crowded, chosen, sent, alternatives, overridden, offer_slack
):
    pids = [f"p{i:02d}" for i in sorted(chosen)]
    # Some participants' coaches overrode the language filter of the B1 vacancy v7.
    overrides = {f"p{i:02d}": [("v7", "language_too_low")] for i in overridden}
    plan = placement_plan(crowded, pids, alternatives=alternatives, already_sent=sent,
                          overrides=overrides, offer_slack=offer_slack)  # fmt: skip
    free = {f"v{i}": max(n - sent.get(f"v{i}", 0), 0) for i, n in enumerate(OPENINGS)}
    # Count the first choices from the assignments themselves, not from plan.assigned.
    firsts: dict[str, int] = {}
    for a in plan.assignments:
        if a.vacancy_id is not None:
            firsts[a.vacancy_id] = firsts.get(a.vacancy_id, 0) + 1
    assert firsts == plan.assigned
    for vid, count in firsts.items():
        assert count <= free[vid]
        assert plan.free_openings[vid] == free[vid] - count
    assert [a.participant_id for a in plan.assignments] == pids
    for a in plan.assignments:
        offered = ([a.vacancy_id] if a.vacancy_id else []) + [x.vacancy_id for x in a.alternatives]
        assert len(offered) == len(set(offered)) <= 1 + alternatives
        assert all(free[v] > 0 for v in offered)
        feasible = {i.vacancy_id for i in crowded.match_participant(
            a.participant_id, limit=50, overrides=overrides.get(a.participant_id, ())).items}
        assert set(offered) <= feasible
        scores = [x.score for x in a.alternatives]
        assert scores == sorted(scores, reverse=True)
    exposure: dict[str, int] = {}
    for a in plan.assignments:
        for x in a.alternatives:
            exposure[x.vacancy_id] = exposure.get(x.vacancy_id, 0) + 1
    for vid, count in exposure.items():
        assert count <= free[vid] * alternatives * plan.offers_per_opening


@settings(max_examples=25, deadline=None)
@given(chosen=st.sets(st.integers(0, N_PARTICIPANTS - 1), min_size=1, max_size=5),
       sent=st.dictionaries(st.sampled_from([f"v{i}" for i in range(8)]),
                            st.integers(0, 3), max_size=8))
def test_the_plan_maximises_the_total_score(crowded, chosen, sent):
    pids = [f"p{i:02d}" for i in sorted(chosen)]
    plan = placement_plan(crowded, pids, alternatives=0, already_sent=sent, top_n=8)
    scores = feasible_scores(crowded, pids)
    state = crowded.state_
    slots = [state.vacancy_row(f"v{i}") for i, n in enumerate(OPENINGS)
             for _ in range(max(n - sent.get(f"v{i}", 0), 0))]
    best = 0.0
    # Brute force: every way to give each participant one slot or none.
    for choice in itertools.product([None, *range(len(slots))], repeat=len(pids)):
        used = [c for c in choice if c is not None]
        if len(used) != len(set(used)):
            continue
        values = [scores[i, slots[c]] for i, c in enumerate(choice) if c is not None]
        if any(np.isnan(values)):
            continue
        best = max(best, float(np.sum(values)))
    assert plan.total_score == pytest.approx(best, abs=1e-3)


def test_one_opening_goes_to_the_better_match(market, uri):
    skills = [{"skill": uri(label), "essential": True} for label in WAREHOUSE]
    matcher = market(
        [make_vacancy("v1", skills=skills, openings=1)],
        [make_participant("p-all", skills=[uri(label) for label in WAREHOUSE]),
         make_participant("p-one", skills=[uri("stack goods")])],
    )
    plan = placement_plan(matcher, ["p-one", "p-all"])
    by_id = {a.participant_id: a for a in plan.assignments}
    assert by_id["p-all"].vacancy_id == "v1"
    assert by_id["p-all"].own_rank == 1
    assert by_id["p-one"].vacancy_id is None
    assert plan.unassigned == ["p-one"]
    assert plan.assigned == {"v1": 1} and plan.free_openings == {"v1": 0}
    # The other participant is offered it as an alternative, never as a second placement.
    assert [x.vacancy_id for x in by_id["p-one"].alternatives] == ["v1"]
    # Recorded proposals count against openings: nothing left to place.
    full = placement_plan(matcher, ["p-one", "p-all"], already_sent={"v1": 1})
    assert full.assigned == {} and full.unassigned == ["p-all", "p-one"]
    both = placement_plan(matcher, ["p-one", "p-all"], already_sent={})
    assert both.to_dict()["assigned"] == {"v1": 1}


def test_two_openings_take_both(market, uri):
    skills = [{"skill": uri(label), "essential": True} for label in WAREHOUSE]
    matcher = market([make_vacancy("v1", skills=skills, openings=2)],
                     [make_participant("a", skills=[uri("stack goods")]),
                      make_participant("b", skills=[uri("store goods")])])
    plan = placement_plan(matcher, ["a", "b"])
    assert [a.vacancy_id for a in plan.assignments] == ["v1", "v1"]
    assert plan.free_openings == {"v1": 0}


def test_an_override_lets_the_plan_assign_that_vacancy(market, uri):
    skills = [{"skill": uri(label), "essential": True} for label in WAREHOUSE]
    matcher = market(
        [make_vacancy("v-b2", skills=skills, openings=1, languages=[{"language": "de",
                                                                    "level": "B2"}])],
        [make_participant("p-a2", skills=[uri(label) for label in WAREHOUSE],
                          languages=[{"language": "de", "level": "A2"}])],
    )
    assert placement_plan(matcher, ["p-a2"]).unassigned == ["p-a2"]
    plan = placement_plan(matcher, ["p-a2"],
                          overrides={"p-a2": [("v-b2", "language_too_low")]})
    assert plan.assignments[0].vacancy_id == "v-b2"
    assert plan.assigned == {"v-b2": 1} and plan.free_openings == {"v-b2": 0}
    # An override of another participant, or of another filter, does not count.
    assert placement_plan(matcher, ["p-a2"], overrides={"p-x": [("v-b2", "language_too_low")]}
                          ).unassigned == ["p-a2"]
    assert placement_plan(matcher, ["p-a2"], overrides={"p-a2": [("v-b2", "hours_incompatible")]}
                          ).unassigned == ["p-a2"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"participant_ids": ["p00", "p00"]}, "participant_ids"),
        ({"already_sent": {"v1": -1}}, "already_sent"),
        ({"already_sent": {"v1": 1.5}}, "already_sent"),
        ({"alternatives": -1}, "alternatives"),
        ({"top_n": 0}, "top_n"),
        ({"offers_per_opening": 0}, "offers_per_opening"),
        ({"offer_slack": 0}, "offer_slack"),
        ({"offer_slack": "wide"}, "offer_slack"),
        ({"overrides": {"p00": [("v1", "not_consented")]}}, "reason"),
    ],
)
def test_plan_rejects_bad_arguments(crowded, kwargs, field):
    kwargs = {"participant_ids": ["p00"], **kwargs}
    with pytest.raises(InvalidInputError) as caught:
        placement_plan(crowded, **kwargs)
    assert caught.value.field == field


def test_plan_of_an_unknown_participant(crowded):
    with pytest.raises(UnknownIdError, match="nobody"):
        placement_plan(crowded, ["p00", "nobody"])


def test_empty_team_gives_an_empty_plan(crowded):
    plan = placement_plan(crowded, [])
    assert plan.assignments == [] and plan.total_score == 0.0


# ----------------------------------------------------------------------- spreading


@pytest.fixture
def twins(market, uri):
    skills = [{"skill": uri(label), "essential": True} for label in WAREHOUSE]
    weak = [{"skill": uri("operate cash register"), "essential": True}]
    return market(
        [make_vacancy("v-a", skills=skills), make_vacancy("v-b", skills=skills),
         make_vacancy("v-c", skills=weak)],
        [make_participant("p1", skills=[uri(label) for label in WAREHOUSE])],
    )


def test_spreading_prefers_the_less_exposed_of_equal_matches(twins):
    plain = twins.match_participant("p1")
    assert [i.vacancy_id for i in plain.items] == ["v-a", "v-b", "v-c"]
    spread = spread_matches(twins, "p1", exposure={"v-a": 5, "v-c": 0},
                            saturation_tolerance=0.1)
    assert [i.vacancy_id for i in spread.items] == ["v-b", "v-a", "v-c"]
    assert [i.rank for i in spread.items] == [1, 2, 3]
    explanation = dict(spread.items[0].explanation)
    assert explanation.pop("spread") == {"people_per_opening": 0.0,
                                         "average_per_opening": 1.6667,
                                         "saturated": False, "plain_rank": 2}
    assert explanation == plain.items[1].explanation
    assert spread.items[0].score == plain.items[1].score
    assert spread.to_dict().keys() == plain.to_dict().keys()


def test_spreading_never_overrules_more_than_the_tolerance(twins):
    # v-c scores far lower; however exposed the others are, it stays last when the
    # saturation tier is no wider than the tolerance.
    spread = spread_matches(twins, "p1", exposure={"v-a": 100, "v-b": 100}, tolerance=0.05,
                            saturation_tolerance=0.05)
    assert spread.items[-1].vacancy_id == "v-c"
    # The saturation tier lets it rise above the two saturated ones only because it
    # scores within 0.3 of them.
    scores = {i.vacancy_id: i.score for i in twins.match_participant("p1").items}
    assert scores["v-a"] - scores["v-c"] <= DEFAULT_SATURATION_TOLERANCE
    spread = spread_matches(twins, "p1", exposure={"v-a": 100, "v-b": 100})
    assert [i.vacancy_id for i in spread.items] == ["v-c", "v-a", "v-b"]
    assert all(i.explanation["spread"]["saturated"] for i in spread.items[1:])
    assert [i.vacancy_id for i in spread_matches(twins, "p1", exposure={"v-a": 9},
                                                 tolerance=0.0, saturation_tolerance=0.0,
                                                 ).items] == ["v-a", "v-b", "v-c"]
    # With the tolerance 0 but the saturation tier on, saturated v-a still yields.
    assert [i.vacancy_id for i in spread_matches(twins, "p1", exposure={"v-a": 9},
                                                 tolerance=0.0).items] == ["v-b", "v-c", "v-a"]
    assert [i.vacancy_id for i in spread_matches(twins, "p1", exposure={"v-a": 9},
                                                 limit=1).items] == ["v-b"]


def test_spreading_keeps_overrides(market, uri):
    skills = [{"skill": uri(label), "essential": True} for label in WAREHOUSE]
    b2 = [{"language": "de", "level": "B2"}]
    matcher = market([make_vacancy("v-a", skills=skills, languages=b2),
                      make_vacancy("v-b", skills=skills)],
                     [make_participant("p1", skills=[uri(label) for label in WAREHOUSE])])
    result = spread_matches(matcher, "p1", exposure={"v-b": 3},
                            overrides=[("v-a", "language_too_low")])
    assert {i.vacancy_id for i in result.items} == {"v-a", "v-b"}
    overridden = next(i for i in result.items if i.vacancy_id == "v-a")
    assert overridden.explanation["overridden"] == ["language_too_low"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"tolerance": 1.5}, "tolerance"), ({"tolerance": "wide"}, "tolerance"),
     ({"saturation_tolerance": -0.1}, "saturation_tolerance"),
     ({"saturation_level": 0.5}, "saturation_level"),
     ({"saturation_level": True}, "saturation_level"),
     ({"exposure": {"v-a": -2}}, "exposure"), ({"exposure": [1]}, "exposure"),
     ({"limit": 0}, "limit")],
)
def test_spreading_rejects_bad_arguments(twins, kwargs, field):
    kwargs = {"exposure": {}, **kwargs}
    with pytest.raises(InvalidInputError) as caught:
        spread_matches(twins, "p1", **kwargs)
    assert caught.value.field == field


def test_spread_rankings_with_zero_tolerance_are_the_plain_lists(crowded):
    pids = [f"p{i:02d}" for i in range(N_PARTICIPANTS)]
    plain = spread_rankings(crowded, reversed(pids), limit=3, tolerance=0.0,
                            saturation_tolerance=0.0)
    for pid in pids:
        assert plain[pid] == [i.vacancy_id for i in crowded.match_participant(pid,
                                                                              limit=3).items]
    spread = spread_rankings(crowded, pids, limit=3, tolerance=0.2)
    assert spread == spread_rankings(crowded, reversed(pids), limit=3, tolerance=0.2)

    def largest(lists):
        counts: dict[str, int] = {}
        for items in lists.values():
            for v in items:
                counts[v] = counts.get(v, 0) + 1
        return max(counts.values())

    assert largest(spread) <= largest(plain)


def test_load_counts_people_sent_per_opening():
    assert vacancy_load(np.zeros(3), np.ones(3)).tolist() == [0.0, 0.0, 0.0]
    assert vacancy_load(np.array([2, 0, 3]), np.array([2, 1, 0])).tolist() == [1.0, 0.0, 3.0]


IDS = np.array(["a", "b", "c", "d", "e"], dtype=object)
ALL = np.ones(5, dtype=bool)


def test_spread_order_takes_the_least_loaded_of_the_near_equal():
    scores = np.array([0.80, 0.79, 0.77, 0.74, 0.50])
    # a is loaded; b and c are within 0.05 of it; d is 0.06 below a but within 0.05 of b.
    load = np.array([3.0, 1.0, 0.0, 0.0, 0.0])
    order = spread_order(scores, ALL, IDS, load, limit=5, tolerance=0.05)
    # Place 1: best free a (0.80); near: a, b, c -> c (load 0).
    # Place 2: best free a; near: a, b -> b (load 1 < 3).
    # Place 3: best free a; near: a only (d is 0.06 below) -> a.
    # Place 4: d (0.74); place 5: e (0.50, nothing near it is left).
    assert order.tolist() == [2, 1, 0, 3, 4]


def test_spread_order_without_load_or_tolerance_is_the_plain_ranking():
    scores = np.array([0.50, 0.80, 0.80, 0.79, 0.10])
    plain = [1, 2, 3, 0, 4]
    assert spread_order(scores, ALL, IDS, np.zeros(5), limit=5, tolerance=0.2).tolist() == plain
    loaded = np.array([0.0, 5.0, 0.0, 0.0, 0.0])
    assert spread_order(scores, ALL, IDS, loaded, limit=5, tolerance=0.0).tolist() == plain
    # Equal loads tie-break by score, then id; ineligible rows never appear.
    eligible = ALL.copy()
    eligible[2] = False
    order = spread_order(scores, eligible, IDS, np.ones(5), limit=2, tolerance=0.3)
    assert order.tolist() == [1, 3]


@settings(max_examples=200, deadline=None)
@given(
    scores=st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=12),
    data=st.data(),
    tolerance=st.floats(0, 0.5),
    limit=st.integers(1, 12),
)
def test_spread_order_never_overrules_more_than_the_tolerance(scores, data, tolerance, limit):
    n = len(scores)
    s = np.array(scores)
    load = np.array(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)), float)
    eligible = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    ids = np.array([f"v{i:02d}" for i in range(n)], dtype=object)
    order = spread_order(s, eligible, ids, load, limit=limit, tolerance=tolerance)
    plain = spread_order(s, eligible, ids, load, limit=limit, tolerance=0.0)
    assert len(order) == len(plain) == min(limit, int(eligible.sum()))
    assert len(set(order.tolist())) == len(order) and eligible[order].all()
    listed = set(order.tolist())
    for position, v in enumerate(order):
        # Nothing left out, nor listed lower, scores more than the tolerance above v.
        below_or_out = [u for u in np.flatnonzero(eligible)
                        if u not in listed or order.tolist().index(u) > position]
        assert all(s[u] <= s[v] + tolerance + 1e-12 for u in below_or_out)


# ------------------------------------------------------------------- saturation


@pytest.fixture
def near_and_far(market, uri):
    """v-top needs p1's four skills (one opening), v-far a skill p1 lacks (two openings):
    the gap is larger than the tolerance but within the saturation tolerance."""
    full = [{"skill": uri(label), "essential": True} for label in WAREHOUSE]
    return market(
        [make_vacancy("v-top", skills=full, openings=1),
         make_vacancy("v-far", skills=[{"skill": uri("operate cash register"),
                                        "essential": True}], openings=2)],
        [make_participant("p1", skills=[uri(label) for label in WAREHOUSE])],
    )


def test_a_saturated_vacancy_yields_to_an_unsaturated_one_within_the_wider_tolerance(
    near_and_far,
):
    plain = near_and_far.match_participant("p1")
    scores = {i.vacancy_id: i.score for i in plain.items}
    assert [i.vacancy_id for i in plain.items] == ["v-top", "v-far"]
    assert 0.1 < scores["v-top"] - scores["v-far"] <= DEFAULT_SATURATION_TOLERANCE

    def order(exposure, **kwargs):
        return [i.vacancy_id for i in spread_matches(near_and_far, "p1", exposure=exposure,
                                                     **kwargs).items]

    # Recorded outcomes count against openings: one person per opening everywhere is not
    # saturation, and the gap is larger than the plain tolerance, so nothing moves.
    assert order({"v-top": 1, "v-far": 2}) == ["v-top", "v-far"]
    # Three sent to v-top's one opening (load 3; the average is 3 people over 3 openings,
    # and 3 > 1.2 x 1): v-top is saturated and yields to v-far.
    spread = spread_matches(near_and_far, "p1", exposure={"v-top": 3})
    assert [i.vacancy_id for i in spread.items] == ["v-far", "v-top"]
    top = spread.items[1]
    note = top.explanation["spread"]
    assert note == {
        "people_per_opening": 3.0, "average_per_opening": 1.0, "saturated": True,
        "plain_rank": 1,
        "reason_de": "Für diese Stelle sind bereits viele Personen pro freiem Platz "
                     "vorgeschlagen (3,0 je Platz, bei vergleichbaren Stellen im Schnitt "
                     "1,0); daher weiter unten in der Liste",
    }
    assert top.explanation["summary_de"][-1] == note["reason_de"]
    assert top.score == scores["v-top"] and top.rank == 2
    risen = spread.items[0].explanation
    assert risen["spread"] == {"people_per_opening": 0.0, "average_per_opening": 1.0,
                               "saturated": False, "plain_rank": 2}
    assert risen["summary_de"] == plain.items[1].explanation["summary_de"]
    # Three people on v-far's two openings (load 1.5 > 1.2) saturate v-far instead:
    # it is already below v-top, so nothing moves.
    assert order({"v-far": 3}) == ["v-top", "v-far"]
    # Switched off (the saturation tolerance no wider than the tolerance): nothing moves.
    assert order({"v-top": 3}, saturation_tolerance=0.1) == ["v-top", "v-far"]
    # A higher saturation level: three per opening is not above 3 x the average of 1.
    assert order({"v-top": 3}, saturation_level=3.0) == ["v-top", "v-far"]
    # A saturated vacancy is moved down, not hidden, while the list has room.
    assert order({"v-top": 3}, limit=1) == ["v-far"]
    assert order({"v-top": 3}, limit=2) == ["v-far", "v-top"]


def test_saturation_is_judged_against_the_eligible_vacancies_and_the_floor():
    load = np.array([3.0, 1.0, 0.0, 0.5, 9.0])
    openings = np.array([1, 2, 1, 2, 1])
    eligible = np.array([True, True, True, True, False])
    full, average = saturated_vacancies(load, openings, eligible)
    assert average == 1.0  # (3 + 2 + 0 + 1) people over 6 openings; v4 is not eligible
    assert full.tolist() == [True, False, False, False, False]
    # Nobody is saturated at or below one person per opening, however low the average.
    few = np.array([1.0, 0.0, 0.0, 0.0, 0.0])
    assert not saturated_vacancies(few, openings, eligible)[0].any()
    assert saturated_vacancies(few * 2, openings, eligible)[0].tolist()[0] is True
    # Nothing eligible: nothing saturated.
    assert not saturated_vacancies(load, openings, np.zeros(5, bool))[0].any()


@settings(max_examples=100, deadline=None)
@given(data=st.data(), level=st.floats(1.0, 3.0))
def test_saturated_vacancies_are_above_level_times_average_and_the_floor(data, level):
    n = data.draw(st.integers(1, 10))
    sent = np.array(data.draw(st.lists(st.integers(0, 20), min_size=n, max_size=n)), float)
    openings = np.array(data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)))
    eligible = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    load = vacancy_load(sent, openings)
    full, average = saturated_vacancies(load, openings, eligible, level=level)
    weights = np.maximum(openings, 1)[eligible]
    expected = sent[eligible].sum() / weights.sum() if eligible.any() else 0.0
    assert average == pytest.approx(expected)
    assert not (full & ~eligible).any()
    assert (load[full] > SATURATION_FLOOR).all() and (load[full] > level * average).all()
    rest = eligible & ~full
    assert ((load[rest] <= SATURATION_FLOOR) | (load[rest] <= level * average + 1e-12)).all()


@settings(max_examples=300, deadline=None)
@given(
    scores=st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=12),
    data=st.data(),
    tolerance=st.floats(0, 0.3),
    wider=st.floats(0, 0.6),
    limit=st.integers(1, 12),
)
def test_two_tier_spreading_overrules_only_within_the_tolerance_that_applies(
    scores, data, tolerance, wider, limit
):
    n = len(scores)
    s = np.array(scores)
    load = np.array(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)), float)
    eligible = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    full = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    ids = np.array([f"v{i:02d}" for i in range(n)], dtype=object)
    kwargs = {"limit": limit, "tolerance": tolerance, "saturated": full,
              "saturation_tolerance": wider}
    order = spread_order(s, eligible, ids, load, **kwargs).tolist()
    assert len(order) == min(limit, int(eligible.sum()))
    assert len(set(order)) == len(order) and eligible[order].all()
    # Deterministic, and independent of the order of the rows (ties go by id).
    assert spread_order(s, eligible, ids, load, **kwargs).tolist() == order
    perm = np.array(data.draw(st.permutations(range(n))))
    back = spread_order(s[perm], eligible[perm], ids[perm], load[perm], limit=limit,
                        tolerance=tolerance, saturated=full[perm],
                        saturation_tolerance=wider)
    assert ids[perm][back].tolist() == ids[order].tolist()
    for position, v in enumerate(order):
        below_or_out = [u for u in np.flatnonzero(eligible)
                        if u not in order or order.index(u) > position]
        for u in below_or_out:
            # u scores more than v: only by the tolerance, or by the wider one when u is
            # saturated and v is not.
            allowed = max(wider, tolerance) if full[u] and not full[v] else tolerance
            assert s[u] <= s[v] + allowed + 1e-12
    # No saturated row: the single-tier rule, whatever the wider tolerance.
    none = np.zeros(n, dtype=bool)
    assert (spread_order(s, eligible, ids, load, limit=limit, tolerance=tolerance,
                         saturated=none, saturation_tolerance=wider).tolist()
            == spread_order(s, eligible, ids, load, limit=limit,
                            tolerance=tolerance).tolist())


def test_recorded_outcomes_count_against_openings_in_spread_rankings(crowded):
    pids = [f"p{i:02d}" for i in range(N_PARTICIPANTS)]
    fresh = spread_rankings(crowded, pids[:1], limit=3)
    first = fresh[pids[0]][0]
    # Many people already sent to p00's best vacancy: it is no longer first for p00.
    moved = spread_rankings(crowded, pids[:1], limit=3, exposure={first: 40})
    assert moved[pids[0]][0] != first


def test_spread_select_leaves_out_a_crowded_vacancy_only_unsaturated_rows_cannot_replace():
    scores = np.array([0.90, 0.85, 0.50, 0.45, 0.40])
    load = np.array([4.0, 2.0, 0.0, 0.0, 0.0])
    full = np.array([True, True, False, False, False])
    crowded = np.array([True, False, False, False, False])
    kwargs = {"limit": 3, "tolerance": 0.1, "saturated": full, "saturation_tolerance": 0.3}
    # Unsaturated c, d, e are more than 0.3 below a and b: a and b keep their places
    # (b first, less loaded), then c.
    assert spread_order(scores, ALL, IDS, load, **kwargs).tolist() == [1, 0, 2]
    # Leaving a out: its place stays empty, and the list is one shorter.
    chosen, left_out = spread_select(scores, ALL, IDS, load, leave_out=crowded, **kwargs)
    assert chosen.tolist() == [1, 2] and left_out.tolist() == [0]
    # Within 0.3 of unsaturated c and d, crowded a just moves down (here off the list).
    near = np.array([0.90, 0.85, 0.80, 0.70, 0.40])
    chosen, left_out = spread_select(near, ALL, IDS, load, leave_out=crowded, **kwargs)
    assert chosen.tolist() == [2, 3, 1] and left_out.tolist() == []
    # Only saturated rows are ever left out.
    chosen, left_out = spread_select(scores, ALL, IDS, load, leave_out=~full, **kwargs)
    assert chosen.tolist() == [1, 0, 2] and left_out.tolist() == []


@settings(max_examples=200, deadline=None)
@given(scores=st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=12),
       data=st.data(), limit=st.integers(1, 12))
def test_spread_select_lists_or_leaves_out_each_place_of_the_two_tier_order(
    scores, data, limit
):
    n = len(scores)
    s = np.array(scores)
    draw = lambda strategy: np.array(data.draw(st.lists(strategy, min_size=n, max_size=n)))  # noqa: E731
    load = draw(st.integers(0, 5)).astype(float)
    eligible, full, crowded = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    ids = np.array([f"v{i:02d}" for i in range(n)], dtype=object)
    kwargs = {"limit": limit, "tolerance": 0.1, "saturated": full,
              "saturation_tolerance": 0.3}
    chosen, left_out = spread_select(s, eligible, ids, load, leave_out=crowded, **kwargs)
    # Left out: saturated and crowded rows only, never also listed; listed plus left out
    # fill exactly the places of the full list.
    assert (full[left_out] & crowded[left_out]).all()
    assert not set(chosen.tolist()) & set(left_out.tolist())
    assert len(chosen) + len(left_out) == min(limit, int(eligible.sum()))
    assert eligible[chosen].all() and eligible[left_out].all()
    # Without leaving out, the same places hold exactly those rows, listed ones in order.
    order = spread_order(s, eligible, ids, load, **kwargs).tolist()
    assert sorted(order) == sorted([*chosen.tolist(), *left_out.tolist()])
    assert [v for v in order if v not in set(left_out.tolist())] == chosen.tolist()
