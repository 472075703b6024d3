"""Building the index from chunks of the tables gives the same index as the whole tables."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from matching import Matcher, Taxonomy
from matching.datasets import make_demo_market
from matching.errors import InvalidInputError
from matching.schema import P, V

#: One pytest-xdist worker runs the module's tests (``--dist loadgroup``):
#: the module's tables are built once.
pytestmark = pytest.mark.xdist_group("index_chunks")


def _chunks(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[i : i + size].reset_index(drop=True) for i in range(0, len(frame), size)]


@pytest.fixture(scope="module")
def tables(taxonomy: Taxonomy) -> tuple[pd.DataFrame, pd.DataFrame]:
    market = make_demo_market(10, 60, 45, taxonomy=taxonomy, random_state=5)
    vacancies = market.vacancies.copy()
    participants = market.participants.copy()
    # Values that appear in some chunks only: free text (resolved and not), a language,
    # a certificate and more desired occupations than anywhere else (a wider array).
    participants.at[3, P.SKILLS] = ["Gabelstapler fahren", "qqq zzz unbekannt"]
    participants.at[40, P.LANGUAGES] = [{"language": "uk", "level": "C1"}]
    participants.at[41, P.CERTIFICATES] = ["Gabelstaplerschein"]
    occupations = list(taxonomy.occupations["uri"].iloc[:6])
    participants.at[44, P.DESIRED_OCCUPATIONS] = occupations
    vacancies.at[2, V.LANGUAGES] = [{"language": "pl", "level": "B1"}]
    vacancies.at[55, V.OCCUPATION] = "Lagerhelfer/in (m/w/d)"
    return vacancies, participants


def _same(a: Any, b: Any, where: str) -> None:
    if isinstance(a, dict):
        assert sorted(a) == sorted(b), where
        for key in a:
            _same(a[key], b[key], f"{where}[{key}]")
    elif sp.issparse(a):
        assert a.shape == b.shape, where
        assert (a != b).nnz == 0, where
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert a == b, where


def test_chunks_build_the_same_index_and_answers(taxonomy, geocoder, tables):
    vacancies, participants = tables
    whole = Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(vacancies, participants)
    chunked = Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(
        iter(_chunks(vacancies, 7)), (c for c in _chunks(participants, 4))
    )
    for table in ("vacancies", "participants"):
        a, b = getattr(whole.state_, table), getattr(chunked.state_, table)
        for f in fields(a):
            if f.name == "block":
                for g in fields(a.block):
                    _same(getattr(a.block, g.name), getattr(b.block, g.name),
                          f"{table}.block.{g.name}")  # fmt: skip
            else:
                _same(getattr(a, f.name), getattr(b, f.name), f"{table}.{f.name}")
    assert whole.state_.participants.block.unresolved[3] == ["qqq zzz unbekannt"]
    for pid in participants[P.ID]:
        assert (chunked.match_participant(pid, limit=10).to_dict()
                == whole.match_participant(pid, limit=10).to_dict())  # fmt: skip
    for vid in vacancies[V.ID]:
        assert (chunked.match_vacancy(vid, limit=10).to_dict()
                == whole.match_vacancy(vid, limit=10).to_dict())  # fmt: skip


def test_an_id_repeated_in_another_chunk_is_refused(taxonomy, geocoder, tables):
    vacancies, participants = tables
    chunks = _chunks(participants, 20)
    chunks[2].at[0, P.ID] = chunks[0].at[5, P.ID]
    with pytest.raises(InvalidInputError, match="repeats id") as caught:
        Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(vacancies, chunks)
    assert caught.value.field == P.ID


def test_a_bad_row_in_a_later_chunk_names_where_its_chunk_starts(taxonomy, geocoder, tables):
    vacancies, participants = tables
    chunks = _chunks(participants, 20)
    chunks[1].at[2, P.HOURS_MAX] = 99
    with pytest.raises(InvalidInputError, match=r"row 2 .*counted from row 20") as caught:
        Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(vacancies, chunks)
    assert caught.value.field == P.HOURS_MAX


def test_no_chunks_give_an_empty_table(taxonomy, geocoder, tables):
    vacancies, _ = tables
    matcher = Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(_chunks(vacancies, 25), [])
    assert matcher.n_participants == 0
    assert matcher.n_vacancies == len(vacancies)
