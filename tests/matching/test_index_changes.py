"""Incremental changes to the index answer exactly as a fresh fit on the same rows."""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import Matcher
from tests.matching.conftest import make_participant, make_vacancy

SKILLS = ["operate forklift", "stack goods", "receive goods", "operate cash register"]
POSTCODES = ["33609", "33719", "33689", "33602"]

_vacancy = st.builds(
    lambda n, skills, postcode, level, status, hours: make_vacancy(
        f"v{n}", skills=[{"skill": s, "essential": True} for s in skills], postcode=postcode,
        languages=[{"language": "de", "level": level}], status=status, hours_per_week=hours,
    ),
    st.integers(0, 7), st.lists(st.sampled_from(SKILLS), min_size=1, max_size=3, unique=True),
    st.sampled_from(POSTCODES), st.sampled_from(["A1", "A2", "B1", "B2"]),
    st.sampled_from(["open", "open", "closed"]), st.sampled_from([10, 20, 30, 40]),
)  # fmt: skip
_participant = st.builds(
    lambda n, skills, postcode, level, commute: make_participant(
        f"p{n}", skills=skills, postcode=postcode,
        languages=[{"language": "de", "level": level}], max_commute_minutes=commute,
    ),
    st.integers(0, 5), st.lists(st.sampled_from(SKILLS), min_size=1, max_size=3, unique=True),
    st.sampled_from(POSTCODES), st.sampled_from(["A1", "A2", "B1", "B2"]),
    st.sampled_from([None, 20, 45, 90]),
)  # fmt: skip
_change = st.one_of(
    st.tuples(st.just("vacancies"), st.lists(_vacancy, min_size=1, max_size=3)),
    st.tuples(st.just("participants"), st.lists(_participant, min_size=1, max_size=3)),
    st.tuples(st.just("remove_vacancies"), st.lists(st.integers(0, 8), min_size=1, max_size=3)),
    st.tuples(st.just("remove_participants"), st.lists(st.integers(0, 6), min_size=1,
                                                       max_size=2)),
)  # fmt: skip


def _unique(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return list({row[key]: row for row in rows}.values())


def _answers(matcher: Matcher, participants: dict[str, dict], vacancies: dict[str, dict]):
    out = {}
    for pid in sorted(participants):
        result = matcher.match_participant(pid, limit=20)
        out[pid] = ([(i.vacancy_id, round(i.score, 6)) for i in result.items],
                    sorted((e["vacancy_id"], tuple(e["reasons"])) for e in result.excluded))
    for vid in sorted(v for v, row in vacancies.items() if row["status"] == "open"):
        result = matcher.match_vacancy(vid, limit=20)
        out[vid] = [(i.participant_id, round(i.score, 6)) for i in result.items]
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(changes=st.lists(_change, min_size=1, max_size=12))
def test_changes_then_answers_equal_a_fresh_fit(taxonomy, geocoder, changes) -> None:
    vacancies = {"v0": make_vacancy("v0", skills=[{"skill": "stack goods", "essential": True}])}
    participants = {"p0": make_participant("p0", skills=["stack goods"])}
    matcher = Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(
        pd.DataFrame(list(vacancies.values())), pd.DataFrame(list(participants.values()))
    )
    for kind, payload in changes:
        if kind == "vacancies":
            rows = _unique(payload, "vacancy_id")
            matcher.upsert_vacancies(pd.DataFrame(rows))
            vacancies.update({row["vacancy_id"]: row for row in rows})
        elif kind == "participants":
            rows = _unique(payload, "participant_id")
            matcher.upsert_participants(pd.DataFrame(rows))
            participants.update({row["participant_id"]: row for row in rows})
        elif kind == "remove_vacancies":
            matcher.remove_vacancies([f"v{n}" for n in payload])
            for n in payload:
                vacancies.pop(f"v{n}", None)
        else:
            matcher.remove_participants([f"p{n}" for n in payload])
            for n in payload:
                participants.pop(f"p{n}", None)
    fresh = Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(
        pd.DataFrame(list(vacancies.values()) or [make_vacancy("unused", skills=[{"skill": "stack goods", "essential": True}])]),
        pd.DataFrame(list(participants.values()) or [make_participant("unused", skills=["stack goods"])]),
    )
    if not vacancies:
        fresh.remove_vacancies(["unused"])
    if not participants:
        fresh.remove_participants(["unused"])
    assert matcher.n_vacancies == len(vacancies)
    assert matcher.n_participants == len(participants)
    assert _answers(matcher, participants, vacancies) == _answers(fresh, participants, vacancies)
