"""Arrays the index derives on appending rows equal those derived from all rows afresh."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from matching import Matcher
from matching.index import _csc_appended, _participant_table, _vacancy_table
from tests.matching.conftest import make_participant, make_vacancy

_N_COLUMNS = 7
_dense = hnp.arrays(
    np.float32,
    st.tuples(st.integers(0, 6), st.just(_N_COLUMNS)),
    elements=st.sampled_from([0.0, 0.0, 0.0, 0.3, 0.5, 1.0]),
)


def _assert_same_csc(actual: sp.csc_matrix, expected: sp.csc_matrix) -> None:
    assert actual.shape == expected.shape
    for name in ("indptr", "indices", "data"):
        got, want = getattr(actual, name), getattr(expected, name)
        assert got.dtype == want.dtype, name
        np.testing.assert_array_equal(got, want, err_msg=name)


@settings(max_examples=200, deadline=None)
@given(old=_dense, new=_dense)
def test_appending_rows_gives_the_arrays_of_tocsc(old: np.ndarray, new: np.ndarray) -> None:
    combined = sp.vstack([sp.csr_matrix(old), sp.csr_matrix(new)], format="csr")
    appended = _csc_appended(sp.csr_matrix(old).tocsc(), combined)
    _assert_same_csc(appended, combined.tocsc())


def _assert_same_table(actual: Any, expected: Any) -> None:
    for f in fields(expected):
        got, want = getattr(actual, f.name), getattr(expected, f.name)
        if f.name == "expanded_csc":
            _assert_same_csc(got, want)
        elif isinstance(want, np.ndarray):
            assert got.dtype == want.dtype, f.name
            assert got.shape == want.shape, f.name
            np.testing.assert_array_equal(got, want, err_msg=f.name)
        elif f.name != "block":
            assert got == want, f.name


def test_upserts_derive_the_arrays_a_fresh_table_has(taxonomy, geocoder, uri) -> None:
    skills = ["operate forklift", "stack goods", "receive goods", "operate cash register"]
    cashier = [uri("cashier")]
    participants = [make_participant(f"p{i}", skills=skills[i % 4 : i % 4 + 2])
                    for i in range(3)]  # fmt: skip
    matcher = Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(
        pd.DataFrame([make_vacancy("v1", skills=[{"skill": "stack goods", "essential": True}])]),
        pd.DataFrame(participants),
    )
    changes = [
        [make_participant("p0", skills=skills[:1], max_commute_minutes=30)],
        [make_participant("p3", skills=skills[1:], desired_occupations=cashier,
                          past_occupations=cashier, modes=["car"], driving_licence=["B"])],
        [make_participant("p1", skills=skills[2:], postcode="33719"),
         make_participant("p4", skills=skills[:2], lat=52.03, lon=8.53, postcode=None)],
        [make_participant("p0", skills=skills)],
        [make_participant(f"p{i}", skills=skills[i % 3 :]) for i in (5, 6, 7)],
    ]  # fmt: skip
    for rows in changes:
        matcher.upsert_participants(pd.DataFrame(rows))
        table = matcher.state_.participants
        fresh = _participant_table(table.block, table.alive, matcher.commute,
                                   matcher.certificates_)  # fmt: skip
        _assert_same_table(table, fresh)


def test_vacancy_upserts_derive_the_arrays_a_fresh_table_has(taxonomy, geocoder, uri) -> None:
    stack = [{"skill": "stack goods", "essential": True}]
    matcher = Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(
        pd.DataFrame([make_vacancy(f"v{i}", skills=stack) for i in range(3)]),
        pd.DataFrame([make_participant("p1", skills=["stack goods"])]),
    )
    changes = [
        [make_vacancy("v0", skills=stack, hours_per_week=40, postcode="33719")],
        [make_vacancy("v3", occupation=uri("cashier"), days_per_week=3),
         make_vacancy("v4", skills=stack, lat=52.03, lon=8.53, postcode=None)],
        [make_vacancy("v1", skills=stack, status="closed")],
        [make_vacancy(f"v{i}", skills=stack, hours_per_week=10 * (i - 4)) for i in (5, 6, 7)],
    ]  # fmt: skip
    for rows in changes:
        matcher.upsert_vacancies(pd.DataFrame(rows))
        table = matcher.state_.vacancies
        fresh = _vacancy_table(table.block, table.alive, matcher.commute, matcher.certificates_)
        _assert_same_table(table, fresh)
