"""The column-major skill credit the index keeps equals a fresh ``tocsc`` after changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from matching import Matcher
from matching.index import _csc_appended
from tests.matching.conftest import make_participant, make_vacancy

_N_COLUMNS = 7
_dense = hnp.arrays(
    np.float32,
    st.tuples(st.integers(0, 6), st.just(_N_COLUMNS)),
    elements=st.sampled_from([0.0, 0.0, 0.0, 0.3, 0.5, 1.0]),
)


def _assert_same_arrays(actual: sp.csc_matrix, expected: sp.csc_matrix) -> None:
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
    _assert_same_arrays(appended, combined.tocsc())


def test_upserts_keep_the_index_csc_equal_to_a_fresh_conversion(taxonomy, geocoder) -> None:
    skills = ["operate forklift", "stack goods", "receive goods", "operate cash register"]
    participants = [make_participant(f"p{i}", skills=skills[i % 4 : i % 4 + 2])
                    for i in range(3)]  # fmt: skip
    matcher = Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(
        pd.DataFrame([make_vacancy("v1", skills=[{"skill": "stack goods", "essential": True}])]),
        pd.DataFrame(participants),
    )
    changes = [["p0"], ["p3"], ["p1", "p4"], ["p0"], ["p5", "p6", "p7"]]
    for ids in changes:
        rows = [make_participant(pid, skills=skills[int(pid[1:]) % 3 :]) for pid in ids]
        matcher.upsert_participants(pd.DataFrame(rows))
        table = matcher.state_.participants
        _assert_same_arrays(table.expanded_csc, table.block.skills_expanded.tocsc())
