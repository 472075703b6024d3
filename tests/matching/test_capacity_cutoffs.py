"""Market cutoffs: no vacancy on more lists than its places (but for kept rows), a vacancy is
left out only for one scoring at most the tolerance less, and the lists the service answers
are the lists the cutoffs were computed with."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import InvalidInputError
from matching.capacity import (
    DEFAULT_CUTOFF_TOLERANCE,
    cutoff_select,
    market_cutoffs,
    spread_matches,
    spread_rankings,
)
from matching.ranking import top_k
from tests.matching.test_capacity import N_PARTICIPANTS, crowded, feasible_scores  # noqa: F401

PIDS = [f"p{i:02d}" for i in range(N_PARTICIPANTS)]


def exposure(lists):
    counts: dict[str, int] = {}
    for items in lists.values():
        for v in items:
            counts[v] = counts.get(v, 0) + 1
    return counts


# ------------------------------------------------------------------ cutoff_select


def test_cutoff_select_skips_a_vacancy_below_its_cutoff_for_a_near_equal_one():
    ids = np.array(["a", "b", "c", "d"], dtype=object)
    s = np.array([0.9, 0.8, 0.7, 0.3])
    cut = np.array([1.0, 0.85, -np.inf, 0.5])
    chosen, kept = cutoff_select(s, np.ones(4, bool), ids, cut, limit=3, tolerance=0.3)
    # a is below its cutoff but the best (kept); b (0.8) is below 0.85 and only 0.1 above
    # c, so it is left out; d does not reach its cutoff either: the list is shorter.
    assert chosen.tolist() == [0, 2] and kept.tolist() == [0]
    # With c scoring 0.45, b is more than 0.3 above the lowest listed and stays.
    s[2] = 0.45
    chosen, kept = cutoff_select(s, np.ones(4, bool), ids, cut, limit=3, tolerance=0.3)
    assert chosen.tolist() == [0, 1, 2] and kept.tolist() == [0, 1]


def test_cutoff_select_without_cutoffs_is_the_plain_ranking():
    rng = np.random.default_rng(3)
    s = rng.random(30)
    ids = np.array([f"v{i:02d}" for i in range(30)], dtype=object)
    eligible = rng.random(30) < 0.7
    chosen, kept = cutoff_select(s, eligible, ids, np.full(30, -np.inf), limit=10)
    assert chosen.tolist() == top_k(s, eligible, ids, 10).tolist() and len(kept) == 0


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    limit=st.integers(1, 8),
    tolerance=st.sampled_from([0.0, 0.1, 0.3]),
    n=st.integers(1, 15),
)
def test_cutoff_select_leaves_out_only_within_the_tolerance(data, limit, tolerance, n):
    grid = st.sampled_from([0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0])  # ties on purpose
    s = np.array(data.draw(st.lists(grid, min_size=n, max_size=n)))
    cut = np.array(data.draw(st.lists(st.sampled_from([-np.inf, 0.3, 0.5, 0.9]),
                                      min_size=n, max_size=n)))
    eligible = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    ids = np.array([f"v{i:02d}" for i in range(n)], dtype=object)
    chosen, kept = cutoff_select(s, eligible, ids, cut, limit=limit, tolerance=tolerance)
    if not eligible.any():
        assert len(chosen) == 0
        return
    assert 1 <= len(chosen) <= limit and len(set(chosen.tolist())) == len(chosen)
    assert eligible[chosen].all()
    assert top_k(s, eligible, ids, 1)[0] in chosen  # the best is always listed
    assert set(kept.tolist()) == {v for v in chosen.tolist() if s[v] < cut[v]}
    assert chosen.tolist() == sorted(chosen.tolist(), key=lambda v: (-s[v], ids[v]))
    lowest = s[chosen].min()
    for v in np.flatnonzero(eligible):
        if v not in chosen:
            assert s[v] <= lowest + tolerance + 1e-12
    # The rows' order does not matter.
    order = np.array(data.draw(st.permutations(range(n))))
    again, _ = cutoff_select(s[order], eligible[order], ids[order], cut[order], limit=limit,
                             tolerance=tolerance)
    assert ids[order][again].tolist() == ids[chosen].tolist()


# ------------------------------------------------------------------ market_cutoffs


def test_no_vacancy_stands_on_more_lists_than_its_places(crowded):  # noqa: F811
    plain = spread_rankings(crowded, PIDS, limit=4, tolerance=0.0, saturation_tolerance=0.0)
    cutoffs = market_cutoffs(crowded, PIDS, limit=4, level=1.0)
    ids = crowded.state_.vacancies.block.ids
    openings = crowded.state_.vacancies.block.openings
    places = sum(len(x) for x in plain.values())  # 4 each, or all a participant has
    assert places == 44
    expected = [math.ceil(o * places / openings.sum()) for o in openings]
    assert cutoffs.capacity.tolist() == expected
    assert np.isfinite(cutoffs.cutoffs).any()  # the market is crowded enough to bind
    lists = spread_rankings(crowded, PIDS, limit=4, tolerance=0.0, saturation_tolerance=0.0,
                            cutoffs=cutoffs)
    counts = exposure(lists)
    # The lists answered are the ones the cutoffs were computed with.
    assert [counts.get(str(v), 0) for v in ids] == cutoffs.listed.tolist()
    scores = feasible_scores(crowded, PIDS)
    column = {str(v): j for j, v in enumerate(ids)}
    for v in counts:
        j = column[v]
        above = sorted((scores[i, j] for i, p in enumerate(PIDS)
                        if v in lists[p] and scores[i, j] >= cutoffs.cutoffs[j]), reverse=True)
        # Only kept rows (below the cutoff) go over, and participants tied with the last
        # one that fits: all of them are kept rather than all refused.
        capacity = int(cutoffs.capacity[j])
        if len(above) > capacity:
            assert capacity > 0 and len(set(above[capacity - 1:])) == 1
    # Every cutoff sits just above the score of a participant the vacancy had to refuse.
    for j in np.flatnonzero(np.isfinite(cutoffs.cutoffs)):
        below_cut = np.nextafter(cutoffs.cutoffs[j], -np.inf)
        assert np.any(np.isclose(scores[:, j], below_cut, rtol=0, atol=1e-12))
    assert max(counts.values()) < max(exposure(plain).values())


def test_spread_matches_with_cutoffs_answers_the_market_list_and_says_why(crowded):  # noqa: F811
    cutoffs = market_cutoffs(crowded, PIDS, limit=4, level=1.0)
    lists = spread_rankings(crowded, PIDS, limit=4, tolerance=0.0, saturation_tolerance=0.0,
                            cutoffs=cutoffs)
    ids = crowded.state_.vacancies.block.ids
    column = {str(v): j for j, v in enumerate(ids)}
    scores = feasible_scores(crowded, PIDS)
    for i, pid in enumerate(PIDS):
        result = spread_matches(crowded, pid, limit=4, exposure={}, tolerance=0.0,
                                saturation_tolerance=0.0, cutoffs=cutoffs)
        assert [item.vacancy_id for item in result.items] == lists[pid]
        plain = {item.vacancy_id: item.score
                 for item in crowded.match_participant(pid, limit=8).items}
        listed = {column[v] for v in lists[pid]}
        for item in result.items:
            j = column[item.vacancy_id]
            note = item.explanation["spread"]
            assert item.score == plain[item.vacancy_id]  # scores unchanged
            cut = cutoffs.cutoffs[j]
            assert note["market_cutoff"] == (round(float(cut), 4) if np.isfinite(cut) else None)
            assert note["below_cutoff"] == bool(scores[i, j] < cut)
            if note["below_cutoff"]:
                assert "Listenplätze" in note["cutoff_reason_de"]
                assert note["cutoff_reason_de"] in item.explanation["summary_de"]
            else:
                assert "cutoff_reason_de" not in note
            higher = [k for k in range(len(ids)) if k not in listed
                      and scores[i, k] > scores[i, j]]  # NaN (infeasible) is never higher
            assert note["left_out_above"] == len(higher)
    assert sum(map(len, lists.values())) < 44  # some vacancies were left out
    plain_note = spread_matches(crowded, PIDS[0], limit=4, exposure={}).items[0]
    assert "market_cutoff" not in plain_note.explanation["spread"]


def test_recorded_outcomes_still_reorder_a_list_under_cutoffs(crowded):  # noqa: F811
    cutoffs = market_cutoffs(crowded, PIDS, limit=4)
    fresh = spread_matches(crowded, PIDS[0], limit=4, exposure={}, cutoffs=cutoffs)
    first = fresh.items[0].vacancy_id
    moved = spread_matches(crowded, PIDS[0], limit=4, exposure={first: 40}, cutoffs=cutoffs)
    assert moved.items[0].vacancy_id != first
    assert {i.vacancy_id for i in moved.items} == {i.vacancy_id for i in fresh.items}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"level": 0.5}, "level"), ({"level": True}, "level"), ({"tolerance": 2}, "tolerance"),
     ({"depth": 3}, "depth"), ({"limit": 0}, "limit")],
)
def test_market_cutoffs_reject_bad_arguments(crowded, kwargs, field):  # noqa: F811
    with pytest.raises(InvalidInputError) as caught:
        market_cutoffs(crowded, PIDS, **kwargs)
    assert caught.value.field == field


def test_no_participants_give_no_cutoffs(crowded):  # noqa: F811
    cutoffs = market_cutoffs(crowded, [])
    assert not np.isfinite(cutoffs.cutoffs).any() and cutoffs.listed.sum() == 0
    assert cutoffs.tolerance == DEFAULT_CUTOFF_TOLERANCE


def test_a_best_vacancy_above_its_cutoff_stays_listed_and_says_why(crowded):  # noqa: F811
    computed = market_cutoffs(crowded, PIDS, limit=4)
    plain = crowded.match_participant(PIDS[0], limit=4).items
    ids = crowded.state_.vacancies.block.ids
    row = {str(v): j for j, v in enumerate(ids)}
    # Every vacancy's cutoff out of reach: only p00's best is listed (kept), and each of
    # its other vacancies, scoring less, is left out.
    cutoffs = replace(computed, cutoffs=np.full(len(ids), 2.0))
    result = spread_matches(crowded, PIDS[0], limit=4, exposure={}, cutoffs=cutoffs)
    assert [i.vacancy_id for i in result.items] == [plain[0].vacancy_id]
    note = result.items[0].explanation["spread"]
    assert note["below_cutoff"] is True and note["market_cutoff"] == 2.0
    assert note["left_out_above"] == 0
    assert note["cutoff_reason_de"].endswith("die am besten passende Stelle ist")
    assert result.items[0].explanation["summary_de"][-1] == note["cutoff_reason_de"]
    # Only the second vacancy's cutoff out of reach, and it scores within 0.3 of the
    # fifth: it is left out, and the third counts it as left out above.
    second = row[plain[1].vacancy_id]
    assert plain[1].score - crowded.match_participant(PIDS[0], limit=5).items[4].score < 0.3
    cut = np.full(len(ids), -np.inf)
    cut[second] = 2.0
    result = spread_matches(crowded, PIDS[0], limit=4, exposure={}, tolerance=0.0,
                            saturation_tolerance=0.0, cutoffs=replace(computed, cutoffs=cut))
    listed = [i.vacancy_id for i in result.items]
    assert plain[1].vacancy_id not in listed and len(listed) == 4
    assert [i.explanation["spread"]["left_out_above"] for i in result.items] == [0, 1, 1, 1]
