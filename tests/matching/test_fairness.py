"""Fairness aggregates: known answers, suppression of small groups, employer audit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from matching import DefaultScorer, Matcher
from matching.errors import InvalidInputError
from matching.fairness import (
    NOT_STATED,
    employer_label_audit,
    exposure_by_group,
    fairness_metrics,
    label_rates_by_group,
    shortlist_exposure,
)
from tests.matching.conftest import make_participant, make_vacancy


def people(groups: dict[str, int], column: str = "sex", key: str = "participant_id",
           ) -> pd.DataFrame:
    rows = []
    for group, n in groups.items():
        rows += [{key: f"{group}-{i}", column: None if group == "none" else group}
                 for i in range(n)]
    return pd.DataFrame(rows)


def exposure(selected: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """Per person prefix: (eligible pairs, selected pairs) for each person of the group."""
    rows = []
    for person, (eligible, chosen) in selected.items():
        rows += [{"participant_id": person, "selected": i < chosen} for i in range(eligible)]
    return pd.DataFrame(rows)


def test_exposure_by_group_known_answer_with_suppression() -> None:
    attributes = people({"female": 6, "male": 6, "diverse": 2, "none": 5})
    pairs = {}
    for i in range(6):
        pairs[f"female-{i}"] = (4, 1)  # rate 0.25
        pairs[f"male-{i}"] = (4, 2)  # rate 0.5
    for i in range(2):
        pairs[f"diverse-{i}"] = (4, 4)
    for i in range(5):
        pairs[f"none-{i}"] = (4, 4)  # not stated: never the reference group
    pairs["male-0"] = (4, 0)  # one man never reaches a shortlist
    out = exposure_by_group(exposure(pairs), attributes, columns=("sex",)).set_index("group")
    assert out.loc["male", "selection_rate"] == pytest.approx(10 / 24)
    assert out.loc["female", "selection_rate"] == pytest.approx(6 / 24)
    assert out.loc["female", "impact_ratio"] == pytest.approx(0.6)
    assert out.loc["female", "flagged"] and not out.loc["male", "flagged"]
    assert out.loc["male", "appearance_share"] == pytest.approx(5 / 6)
    assert out.loc["diverse", "suppressed"]
    assert out.loc["diverse", ["people", "selection_rate", "impact_ratio"]].isna().all()
    assert out.loc[NOT_STATED, "impact_ratio"] is None
    assert out.loc[NOT_STATED, "selection_rate"] == 1.0


def test_impact_ratio_interval_reflects_how_uneven_a_group_is() -> None:
    attributes = people({"female": 20, "male": 20})
    pairs = {f"male-{i}": (4, 2) for i in range(20)}  # every man: rate 0.5
    pairs |= {f"female-{i}": (4, 4 if i % 2 else 0) for i in range(20)}  # all or nothing
    out = exposure_by_group(exposure(pairs), attributes, columns=("sex",)).set_index("group")
    assert out.loc["female", "impact_ratio"] == 1.0  # the reference group: 0.5 vs 0.5
    assert out.loc["male", "impact_ratio"] == 1.0
    assert out.loc["female", ["impact_ratio_low", "impact_ratio_high"]].tolist() == [1.0, 1.0]
    low, high = out.loc["male", ["impact_ratio_low", "impact_ratio_high"]]
    assert low < 1.0 < high  # the uneven reference group makes the ratio uncertain
    again = exposure_by_group(exposure(pairs), attributes, columns=("sex",))
    assert again["impact_ratio_low"].tolist() == out["impact_ratio_low"].tolist()
    with pytest.raises(InvalidInputError) as err:
        exposure_by_group(exposure(pairs), attributes, columns=("sex",), level=1.0)
    assert err.value.field == "level"


def test_gate_summary_reads_intervals_of_supported_groups_only() -> None:
    # 25 men at rate 0.5; 25 women at 0.2 each (clearly below 0.8 of the men's rate); 30
    # younger people evenly spread; 6 older people never selected (too few for the gate).
    attributes = pd.concat([people({"female": 25, "male": 25}),
                            people({"young": 30, "old": 6}, column="age_band")])
    attributes = attributes.groupby("participant_id", as_index=False).first()
    pairs = {f"male-{i}": (10, 5) for i in range(25)} | {f"female-{i}": (10, 2)
                                                        for i in range(25)}
    pairs |= {f"young-{i}": (10, 4) for i in range(30)} | {f"old-{i}": (10, 0) for i in range(6)}
    groups = exposure_by_group(exposure(pairs), attributes, columns=("sex", "age_band"),
                               min_group_size=20)
    metrics = fairness_metrics(groups)
    assert metrics["impact_ratio_min"] == pytest.approx(0.4)
    assert metrics["impact_ratio_group"] == "sex=female"
    # Every woman has the same rate, every man too: the interval collapses on 0.4.
    assert metrics["impact_ratio_high_min"] == pytest.approx(0.4)
    assert metrics["impact_ratio_high_group"] == "sex=female"
    assert metrics["impact_ratio_review"] == ["sex=female"]  # "old" (6 people) is left out


def test_label_rates_by_group_known_answer() -> None:
    attributes = people({"german": 5, "eu": 5}, "nationality_group",
                        key="participant_pseudonym")
    rows = []
    for i in range(5):
        rows += [{"participant_pseudonym": f"german-{i}", "vacancy_id": "v",
                  "relevance": r} for r in (3.0, 0.0)]
        rows += [{"participant_pseudonym": f"eu-{i}", "vacancy_id": "v",
                  "relevance": r} for r in (1.0, 0.0, 0.0, 0.0)]
    out = label_rates_by_group(pd.DataFrame(rows), attributes,
                               columns=("nationality_group",)).set_index("group")
    assert out.loc["german", "positive_rate"] == 0.5
    assert out.loc["german", "hire_rate"] == 0.5
    assert out.loc["eu", "positive_rate"] == 0.25
    assert out.loc["eu", "impact_ratio"] == 0.5
    assert out.loc["eu", "pairs"] == 20
    metrics = fairness_metrics(None, pd.DataFrame(out.reset_index()), min_people=5)
    assert metrics == {"label_impact_ratio_min": 0.5,
                       "label_impact_ratio_group": "nationality_group=eu"}
    assert fairness_metrics(None, out.reset_index(), min_people=6)["label_impact_ratio_min"] \
        is None


def decisions(employer: str, group: str, n_people: int, per_person: int, accepted: int,
              ) -> list[dict[str, Any]]:
    rows = []
    for i in range(n_people):
        for j in range(per_person):
            rows.append({"participant_pseudonym": f"{group}-{i}",
                         "vacancy_id": f"{employer}-v{j}",
                         "status": "interview" if j < accepted else "rejected",
                         "relevance": 2.0 if j < accepted else 0.0})
    return rows


def test_employer_audit_flags_the_employer_that_turns_a_group_away() -> None:
    attributes = people({"third_country": 10, "german": 10}, "nationality_group",
                        key="participant_pseudonym")
    rows = (decisions("e1", "third_country", 10, 3, 0) + decisions("e1", "german", 10, 3, 2)
            + decisions("e2", "third_country", 10, 3, 1) + decisions("e2", "german", 10, 3, 1))
    table = pd.DataFrame(rows)
    vacancies = pd.DataFrame({"vacancy_id": [f"e{e}-v{j}" for e in (1, 2) for j in range(3)],
                              "employer_id": [f"e{e}" for e in (1, 2) for _ in range(3)]})
    out = employer_label_audit(table, attributes, vacancies, columns=("nationality_group",))
    flagged = out[out["flagged"]]
    assert flagged[["employer_id", "group"]].values.tolist() == [["e1", "third_country"]]
    e2 = out[out["employer_id"] == "e2"]
    assert set(e2["impact_ratio"]) == {1.0}
    assert fairness_metrics(employer_audit=out) == {"employer_label_flags": 1,
                                                    "flagged_employers": ["e1"]}


def test_employer_audit_does_not_blame_employers_for_what_the_factors_explain() -> None:
    # Everywhere, long commutes (group "far") are accepted one time in five and short ones
    # four times in five. Raw rates differ fourfold; against what the commute predicts at
    # each employer, nobody turns a group away. A fourth employer also rejects every
    # "far" person whose commute is short: that is flagged.
    attributes = people({"far": 10, "near": 10}, "nationality_group",
                        key="participant_pseudonym")
    rows = []
    for employer in ("e1", "e2", "e3", "e4"):
        for group, commute, accepted in (("far", 0.1, 1), ("near", 0.9, 4)):
            for i in range(10):
                for j in range(5):
                    ok = j < accepted
                    rows.append({"participant_pseudonym": f"{group}-{i}",
                                 "vacancy_id": f"{employer}-v{j}", "skills": 0.5,
                                 "occupation": 0.5, "language": 0.5, "hours": 0.5,
                                 "commute": commute, "relevance": 2.0 if ok else 0.0,
                                 "status": "interview" if ok else "rejected"})
    for i in range(10):  # e4 also sees "far" people with short commutes and rejects them
        for j in range(5, 9):
            rows.append({"participant_pseudonym": f"far-{i}", "vacancy_id": f"e4-v{j}",
                         "skills": 0.5, "occupation": 0.5, "language": 0.5, "hours": 0.5,
                         "commute": 0.9, "relevance": 0.0, "status": "rejected"})
    vacancies = pd.DataFrame({"vacancy_id": [f"e{e}-v{j}" for e in range(1, 5) for j in range(9)],
                              "employer_id": [f"e{e}" for e in range(1, 5) for _ in range(9)]})
    out = employer_label_audit(pd.DataFrame(rows), attributes, vacancies,
                               columns=("nationality_group",))
    e1 = out[out["employer_id"] == "e1"].set_index("group")
    assert e1.loc["far", "acceptance_rate"] == pytest.approx(0.2)
    assert e1.loc["far", "impact_ratio"] == pytest.approx(0.25)  # raw: far below 0.8
    assert 0.7 < e1.loc["far", "adjusted_ratio"] < 1.3  # explained by the commute
    flagged = out[out["flagged"]]
    assert flagged[["employer_id", "group"]].values.tolist() == [["e4", "far"]]


def test_bad_input_names_the_field() -> None:
    attributes = people({"female": 5})
    pairs = exposure({"female-0": (1, 1)})
    with pytest.raises(InvalidInputError, match="repeats") as err:
        exposure_by_group(pairs, pd.concat([attributes, attributes]), columns=("sex",))
    assert err.value.field == "attributes"
    with pytest.raises(InvalidInputError, match="age_band"):
        exposure_by_group(pairs, attributes, columns=("age_band",))
    with pytest.raises(InvalidInputError) as err:
        exposure_by_group(pairs, attributes, columns=("sex",), threshold=1.5)
    assert err.value.field == "threshold"
    with pytest.raises(InvalidInputError) as err:
        exposure_by_group(pairs, attributes, columns=("sex",), min_group_size=0)
    assert err.value.field == "min_group_size"


def test_shortlist_exposure_audits_a_scorer_without_swapping_it(
    market: Callable[..., Matcher], uri: Callable[[str], str],
) -> None:
    skills = [{"skill": uri("stack goods"), "essential": True}]
    vacancies = [make_vacancy("v1", skills=skills),
                 make_vacancy("v2", skills=skills,
                              languages=[{"language": "de", "level": "C1"}])]
    participants = [make_participant(f"p{i:02d}", skills=[uri("stack goods")],
                                     postcode="33609" if i % 2 else "33647")
                    for i in range(12)]
    matcher = market(vacancies, participants)
    before = matcher.model_version
    commute = DefaultScorer({"skills": 0, "occupation": 0, "language": 0, "commute": 1,
                             "hours": 0})
    out = shortlist_exposure(matcher, commute, k=5)
    assert matcher.model_version == before
    assert set(out["vacancy_id"]) == {"v1"}  # nobody speaks C1 German: v2 has no pool
    assert len(out) == 12 and out["selected"].sum() == 5
    assert sorted(out.loc[out["selected"], "rank"]) == [1, 2, 3, 4, 5]
    chosen = set(out.loc[out["selected"], "participant_id"])
    # Ranked by commute, the five chosen live in the vacancy's own postcode area.
    assert all(int(p[1:]) % 2 == 1 for p in chosen)
    assert np.array_equal(out["selected"], out["rank"] > 0)
    with pytest.raises(InvalidInputError):
        shortlist_exposure(matcher, k=0)
