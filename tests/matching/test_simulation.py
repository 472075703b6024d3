"""The outcome simulator: seeded, pseudonymous, funnel-shaped, bias where injected."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from matching import Geocoder, Matcher, Taxonomy
from matching.datasets import make_demo_market
from matching.errors import InvalidInputError, NotFittedError
from matching.fairness import MONITORING_ATTRIBUTES
from matching.schema import FACTORS
from matching.simulation import simulate_outcomes
from matching.training import STATUSES, build_training_table

#: One pytest-xdist worker runs the module's tests (``--dist loadgroup``):
#: the module's simulated market is built once.
pytestmark = pytest.mark.xdist_group("simulation")


@pytest.fixture(scope="module")
def small() -> tuple[Any, Matcher]:
    taxonomy = Taxonomy.load()
    market = make_demo_market(n_employers=15, n_vacancies=80, n_participants=60,
                              random_state=3, taxonomy=taxonomy)
    matcher = Matcher(taxonomy=taxonomy, geocoder=Geocoder.load()).fit(
        market.vacancies, market.participants)
    return market, matcher


def test_same_seed_same_tables_other_seed_other_tables(small: tuple[Any, Matcher]) -> None:
    market, matcher = small
    a = simulate_outcomes(market, matcher, random_state=5)
    b = simulate_outcomes(market, matcher, random_state=5)
    c = simulate_outcomes(market, matcher, random_state=6)
    pd.testing.assert_frame_equal(a.shown, b.shown)
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)
    pd.testing.assert_frame_equal(a.monitoring, b.monitoring)
    assert not a.outcomes.equals(c.outcomes)


def test_shown_items_are_what_the_matcher_ranked(small: tuple[Any, Matcher]) -> None:
    market, matcher = small
    sim = simulate_outcomes(market, matcher, random_state=1, n_rounds=3, list_size=5)
    shown = sim.shown
    assert set(shown.columns) == {"participant_pseudonym", "vacancy_id", "shown_at",
                                  "model_version", "rank", *FACTORS}
    assert (shown["model_version"] == matcher.model_version).all()
    assert not shown.duplicated(["participant_pseudonym", "vacancy_id"]).any()
    assert shown["rank"].between(1, 5).all()
    # The first list of a participant is the matcher's top five, factors included.
    for pseudonym in shown["participant_pseudonym"].unique()[:5]:
        pid = sim.pseudonyms.set_index("participant_pseudonym").loc[pseudonym, "participant_id"]
        mine = shown[shown["participant_pseudonym"] == pseudonym]
        first = mine[mine["shown_at"] == mine["shown_at"].min()]
        result = matcher.match_participant(pid, limit=5, excluded_limit=0)
        assert first["vacancy_id"].tolist() == [i.vacancy_id for i in result.items]
        np.testing.assert_allclose(first[list(FACTORS)].to_numpy()[0],
                                   list(result.items[0].factors.values()), atol=1e-4)


def test_outcomes_follow_the_funnel_and_stay_pseudonymous(small: tuple[Any, Matcher]) -> None:
    market, matcher = small
    sim = simulate_outcomes(market, matcher, random_state=2)
    assert set(sim.outcomes["status"]) <= set(STATUSES)
    assert (sim.outcomes["participant_pseudonym"].str.startswith("pp-")).all()
    events = sim.outcomes.merge(sim.shown[["participant_pseudonym", "vacancy_id", "shown_at"]])
    assert (events["at"] >= events["shown_at"]).all()
    hired = sim.outcomes.loc[sim.outcomes["status"] == "hired", ["participant_pseudonym",
                                                                 "vacancy_id"]]
    interviews = sim.outcomes.loc[sim.outcomes["status"] == "interview"]
    assert len(hired.merge(interviews)) == len(hired)  # every hire had an interview
    table = build_training_table(sim.shown, sim.outcomes)  # no personal columns in it
    assert len(table) == len(sim.shown)
    assert set(sim.monitoring.columns) == {"participant_pseudonym", *MONITORING_ATTRIBUTES}
    assert len(sim.monitoring) < len(market.participants)  # only those who consented
    names = set(market.participants["name"])
    for frame in (sim.shown, sim.outcomes, sim.monitoring, table):
        assert not names & set(frame.astype(str).to_numpy().ravel())


def test_biased_employer_rejects_every_application_of_the_group(
    small: tuple[Any, Matcher],
) -> None:
    market, matcher = small
    employer = market.vacancies["employer_id"].value_counts().index[0]
    sim = simulate_outcomes(market, matcher, random_state=4, biased_employer=employer,
                            biased_against=("sex", "female"))
    table = build_training_table(sim.shown, sim.outcomes)
    everyone = sim.pseudonyms.merge(sim.monitoring, how="left")
    employer_of = dict(zip(sim.vacancies["vacancy_id"], sim.vacancies["employer_id"],
                           strict=True))
    table["employer_id"] = table["vacancy_id"].map(employer_of)
    # The monitoring table holds only consenting people; the bias hits everyone in the group.
    female = set(everyone.loc[everyone["sex"] == "female", "participant_pseudonym"])
    at_employer = table[(table["employer_id"] == employer)
                        & table["participant_pseudonym"].isin(female)]
    assert not at_employer["status"].isin(["interview", "hired"]).any()


def test_no_signal_means_outcomes_do_not_depend_on_factors(small: tuple[Any, Matcher]) -> None:
    market, matcher = small
    sim = simulate_outcomes(market, matcher, preference="none", random_state=0, n_rounds=20)
    table = build_training_table(sim.shown, sim.outcomes)
    assert sim.true_weights is None
    good = table["commute"] > table["commute"].median()
    rates = table.groupby(good)["label"].mean()
    assert abs(rates[True] - rates[False]) < 0.05


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"preference": "strong"}, "preference"),
        ({"biased_employer": "emp-none"}, "biased_employer"),
        ({"biased_against": ("religion", "x")}, "biased_against"),
        ({"n_rounds": 0}, "n_rounds"),
        ({"activity": 1.5}, "activity"),
        ({"strength": -1.0}, "strength"),
        ({"weights": {"skills": 1.0}}, "weights"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_bad_arguments_name_the_field(small: tuple[Any, Matcher], kwargs: dict[str, Any],
                                      field: str) -> None:
    market, matcher = small
    with pytest.raises(InvalidInputError) as err:
        simulate_outcomes(market, matcher, **kwargs)
    assert err.value.field == field


def test_an_unfitted_matcher_is_refused(small: tuple[Any, Matcher]) -> None:
    market, _ = small
    with pytest.raises(NotFittedError):
        simulate_outcomes(market, Matcher())
