"""Congestion of plain top-10 lists against capacity-aware plans and spread rankings.

On the ESCO evaluation market (:func:`matching.datasets.make_evaluation_market`, built
from ``../shared/data/esco-v1.1.1-en``; relevance 2 for a vacancy of the participant's own
occupation, 1 for the same ISCO-08 unit group, 0 for pairs no feasible ranking may show)
at its own size (5 participants per occupation) and at 10,000 participants (50 per
occupation), every participant gets a list of 10 vacancies from:

* ``plain``: the top 10 by score (:func:`matching.capacity.spread_rankings` with
  ``tolerance=0``, identical to :meth:`Matcher.match_participant`).
* ``spread_<t>``: the spread option with one tolerance ``t`` and no saturation tier
  (:func:`matching.capacity.spread_order`: each place goes, among the vacancies scoring
  at most ``t`` below the best one not yet listed, to the least loaded); participants are
  served in id order and every list counts as exposure for the next (as coaches sending
  people one after another would).
* ``spread_<t>_sat<u>_x<k>``: the two-tier rule: a vacancy whose load exceeds ``k`` times
  the average load per opening over the participant's eligible vacancies (and one person
  per opening) is saturated and yields its place to an unsaturated vacancy scoring up to
  ``u`` less (:func:`matching.capacity.saturated_vacancies`). The default of
  :func:`matching.capacity.spread_matches` is ``spread_0.1_sat0.3_x1.2``.
* ``spread_0.1_sat0.3_x1.2_out<l>_<f>``: the default two-tier rule, but a saturated
  vacancy at a load of at least ``l`` times the average and ``f`` people per opening that
  would be listed only because no unsaturated vacancy may take its place is left out
  (``leave_out_level``/``leave_out_floor`` of :func:`matching.capacity.spread_rankings`);
  lists may be shorter than 10, and NDCG@10 is computed on them as they are.
* ``cutoffs_<l>``: the spread option with market cutoffs
  (:func:`matching.capacity.market_cutoffs` at level ``l``, computed once over all
  participants; each list is :func:`matching.capacity.cutoff_select`'s choice, ordered
  by the default two-tier rule with the lists already handed out as exposure), and
  ``cutoffs_<l>_score_order``: the same lists in score order (both tolerances 0). Lists
  may be shorter than 10.
* ``plan_<s>``: :func:`matching.capacity.placement_plan` for everyone at once with nine
  alternatives and offer slack ``s`` (each round offers a free opening to at most
  ``ceil(s * participants / free openings)`` participants); the list is the first
  choice, then the alternatives by score.

For each: the largest share of participants any one vacancy is shown to, the Gini
coefficient of vacancy exposure (:func:`matching.evaluation.gini`, every vacancy counted),
the number of vacancies nobody is shown, and NDCG@10 against the feasible relevance
(:func:`matching.evaluation.evaluate_rankings`). Target: largest share at most a third of
the plain lists' value at an NDCG@10 loss under 5 %.

For each tolerance the benchmark also reports ``bound_largest_share``, a lower bound on
the largest share that *any* rule respecting that tolerance can reach: a rule that never
leaves out (or lists lower) a vacancy scoring more than ``t`` above one it lists must list
vacancy ``v`` for participant ``i`` whenever fewer than 10 other feasible vacancies score
at least ``s(i, v) - t``; the bound is the largest number of participants for which one
vacancy is forced in this way (for a two-tier rule, at its wider tolerance). Each size
also reports ``full_list_bound_largest_share``: the smallest largest share any set of
full lists (10 feasible vacancies each, or all a participant has) can have, whatever the
scores (a maximum flow, :func:`full_list_share`).

Every size is measured on each ``--seeds`` market (the same generator, different draws).
Skips (exit 0, nothing written) when ``../shared/data`` is absent.

Run from the repository root::

    python -m benchmarks.bench_capacity [--sizes 5 50] [--seeds 0 1] [--tolerances 0.1 0.2]
        [--saturation 0.3:1.5 0.3:1.2 0.3:1.1 0.2:1.2] [--leave-out 1.5:2 1.2:1]
        [--cutoff-levels 1.1] [--offer-slacks 1.0] [--results capacity]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_flow

from benchmarks._common import SHARED_DATA, write_results
from matching.capacity import (
    DEFAULT_CUTOFF_LEVEL,
    DEFAULT_SATURATION_LEVEL,
    DEFAULT_SATURATION_TOLERANCE,
    DEFAULT_TOLERANCE,
    OFFER_SLACK,
    market_cutoffs,
    placement_plan,
    spread_rankings,
)
from matching.datasets import make_evaluation_market
from matching.evaluation import evaluate_rankings, gini
from matching.geo import Geocoder
from matching.matcher import Matcher
from matching.taxonomy import Taxonomy

__all__ = ["congestion", "forced_share", "full_list_share", "main"]

ESCO_DIR: Final = SHARED_DATA / "esco-v1.1.1-en"
K: Final = 10
TARGET_SHARE_RATIO: Final = 1 / 3
TARGET_NDCG_LOSS: Final = 0.05


def congestion(
    lists: Mapping[Any, Sequence[Any]],
    vacancy_ids: Sequence[Any],
    relevance: Mapping[Any, Mapping[Any, float]],
) -> dict[str, Any]:
    """Exposure and quality figures of one set of lists."""
    index = {v: i for i, v in enumerate(vacancy_ids)}
    exposure = np.zeros(len(vacancy_ids), dtype=np.int64)
    for items in lists.values():
        for v in items:
            exposure[index[v]] += 1
    quality = evaluate_rankings(lists, relevance, k=K, catalogue=vacancy_ids)
    return {
        "largest_share": round(float(exposure.max()) / max(len(lists), 1), 5),
        "largest_exposure": int(exposure.max()),
        "gini": round(gini(exposure), 4),
        "vacancies_nobody_is_shown": int((exposure == 0).sum()),
        "mean_list_length": round(float(np.mean([len(x) for x in lists.values()])), 3),
        f"ndcg@{K}": round(quality[f"ndcg@{K}"], 5),
        f"recall@{K}": round(quality[f"recall@{K}"], 5),
    }


def forced_share(scores: np.ndarray, feasible: np.ndarray, tolerance: float) -> float:
    """Lower bound on the largest share of any top-``K`` lists within ``tolerance``.

    ``scores`` and ``feasible`` are (participants x vacancies). Vacancy ``v`` is forced
    onto participant ``i``'s list when fewer than ``K`` other feasible vacancies score at
    least ``scores[i, v] - tolerance``: leaving it out would list one of them instead.
    """
    masked = np.where(feasible, scores.astype(np.float64), -np.inf)
    ascending = np.sort(masked, axis=1)
    forced = np.zeros(scores.shape[1], dtype=np.int64)
    for i in range(len(masked)):
        at_least = masked.shape[1] - np.searchsorted(ascending[i], masked[i] - tolerance)
        forced += feasible[i] & (at_least - 1 < K)
    return float(forced.max()) / max(len(masked), 1)


def full_list_share(feasible: np.ndarray, k: int = K) -> float:
    """Smallest largest share of any lists of ``min(k, feasible)`` distinct feasible vacancies.

    A vacancy shown to at most ``c`` participants admits such lists exactly when the
    maximum flow source → participant (capacity ``k``) → feasible vacancy (1) → sink
    (``c``) saturates the participants; ``c`` is found by bisection.
    """
    n, m = feasible.shape
    p_rows, v_cols = np.nonzero(feasible)
    wanted = np.minimum(k, feasible.sum(axis=1)).astype(np.int64)
    size = n + m + 2
    rows = np.concatenate([np.zeros(n, np.int64), 1 + p_rows, n + 1 + np.arange(m)])
    cols = np.concatenate([1 + np.arange(n), n + 1 + v_cols, np.full(m, size - 1)])

    def enough(cap: int) -> bool:
        caps = np.concatenate([wanted, np.ones(len(p_rows), np.int64), np.full(m, cap)])
        graph = sp.csr_matrix((caps.astype(np.int32), (rows, cols)), shape=(size, size))
        return bool(maximum_flow(graph, 0, size - 1).flow_value >= wanted.sum())

    low, high = 0, max(n, 1)
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle + 1, high)
    return low / max(n, 1)


def _score_matrix(matcher: Matcher, pids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    vt = matcher.state_.vacancies
    scores = np.zeros((len(pids), len(vt.block)), dtype=np.float32)
    feasible = np.zeros(scores.shape, dtype=bool)
    for i, pid in enumerate(pids):
        _, pairs = matcher.pairs_for_participant(pid)
        scores[i] = matcher.scorer_.score(pairs.factors.T)
        feasible[i] = pairs.passing & vt.alive
    return scores, feasible


def run_size(
    per_occupation: int,
    *,
    n_occupations: int,
    tolerances: Sequence[float],
    saturation: Sequence[tuple[float, float]],
    leave_out: Sequence[tuple[float, float]],
    cutoff_levels: Sequence[float],
    alternatives: int,
    offer_slacks: Sequence[float],
    taxonomy: Taxonomy,
    geocoder: Geocoder,
    seed: int,
) -> dict[str, Any]:
    """All systems at one market size."""
    market = make_evaluation_market(
        ESCO_DIR, n_occupations=n_occupations, participants_per_occupation=per_occupation,
        taxonomy=taxonomy, random_state=seed,
    )
    started = time.perf_counter()
    matcher = Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(
        market.vacancies, market.participants
    )
    build = time.perf_counter() - started
    pids = sorted(market.participants["participant_id"])
    vids = list(market.vacancies["vacancy_id"])
    relevance = market.feasible_relevance()
    systems: dict[str, dict[str, Any]] = {}

    started = time.perf_counter()
    plain = spread_rankings(matcher, pids, limit=K, tolerance=0.0, saturation_tolerance=0.0)
    systems["plain"] = {**congestion(plain, vids, relevance),
                        "seconds": round(time.perf_counter() - started, 2)}
    scores, feasible = _score_matrix(matcher, pids)
    variants = [(t, 0.0, DEFAULT_SATURATION_LEVEL) for t in tolerances] + [
        (DEFAULT_TOLERANCE, u, k) for u, k in saturation]
    for tolerance, wider, level in variants:
        name = (f"spread_{tolerance:g}" if wider <= tolerance
                else f"spread_{tolerance:g}_sat{wider:g}_x{level:g}")
        started = time.perf_counter()
        lists = spread_rankings(matcher, pids, limit=K, tolerance=tolerance,
                                saturation_tolerance=wider, saturation_level=level)
        seconds = round(time.perf_counter() - started, 2)
        systems[name] = {
            **congestion(lists, vids, relevance), "tolerance": tolerance,
            "saturation_tolerance": max(wider, tolerance),
            "saturation_level": level if wider > tolerance else None,
            "default": (tolerance, wider, level) == (
                DEFAULT_TOLERANCE, DEFAULT_SATURATION_TOLERANCE, DEFAULT_SATURATION_LEVEL),
            "seconds": seconds,
            "bound_largest_share": round(forced_share(scores, feasible,
                                                      max(wider, tolerance)), 5),
        }
    for level, floor in leave_out:
        name = (f"spread_{DEFAULT_TOLERANCE:g}_sat{DEFAULT_SATURATION_TOLERANCE:g}"
                f"_x{DEFAULT_SATURATION_LEVEL:g}_out{level:g}_{floor:g}")
        started = time.perf_counter()
        lists = spread_rankings(matcher, pids, limit=K, tolerance=DEFAULT_TOLERANCE,
                                saturation_tolerance=DEFAULT_SATURATION_TOLERANCE,
                                saturation_level=DEFAULT_SATURATION_LEVEL,
                                leave_out_level=level, leave_out_floor=floor)
        systems[name] = {
            **congestion(lists, vids, relevance), "tolerance": DEFAULT_TOLERANCE,
            "saturation_tolerance": DEFAULT_SATURATION_TOLERANCE,
            "saturation_level": DEFAULT_SATURATION_LEVEL,
            "leave_out_level": level, "leave_out_floor": floor, "default": False,
            "seconds": round(time.perf_counter() - started, 2),
        }
    for level in cutoff_levels:
        started = time.perf_counter()
        cutoffs = market_cutoffs(matcher, pids, limit=K, level=level)
        computed = time.perf_counter() - started
        common = {"cutoff_level": level, "cutoff_tolerance": cutoffs.tolerance,
                  "cutoff_rounds": cutoffs.rounds,
                  "places_per_vacancy_max": int(cutoffs.capacity.max()),
                  "vacancies_with_a_cutoff": int(np.isfinite(cutoffs.cutoffs).sum()),
                  "cutoffs_seconds": round(computed, 2),
                  "default": level == DEFAULT_CUTOFF_LEVEL}
        for suffix, (tolerance, wider) in {
            "": (DEFAULT_TOLERANCE, DEFAULT_SATURATION_TOLERANCE),
            "_score_order": (0.0, 0.0),
        }.items():
            started = time.perf_counter()
            lists = spread_rankings(matcher, pids, limit=K, tolerance=tolerance,
                                    saturation_tolerance=wider, cutoffs=cutoffs)
            systems[f"cutoffs_{level:g}{suffix}"] = {
                **congestion(lists, vids, relevance), **common,
                "tolerance": tolerance, "saturation_tolerance": wider,
                "seconds": round(time.perf_counter() - started, 2),
            }
            common["default"] = False
    openings = dict(zip(market.vacancies["vacancy_id"], market.vacancies["openings"],
                        strict=True))  # fmt: skip
    for slack in offer_slacks:
        started = time.perf_counter()
        plan = placement_plan(matcher, pids, alternatives=alternatives, offer_slack=slack)
        seconds = time.perf_counter() - started
        lists = {a.participant_id: ([a.vacancy_id] if a.vacancy_id else [])
                 + [x.vacancy_id for x in a.alternatives] for a in plan.assignments}  # fmt: skip
        overbooked = sum(n > openings[v] for v, n in plan.assigned.items())
        ranks = [a.own_rank for a in plan.assignments if a.own_rank is not None]
        systems[f"plan_{slack:g}"] = {
            **congestion(lists, vids, relevance),
            "alternatives": alternatives,
            "offer_slack": slack,
            "offers_per_opening": plan.offers_per_opening,
            "participants_placed": len(pids) - len(plan.unassigned),
            "openings_total": int(market.vacancies["openings"].sum()),
            "vacancies_overbooked": int(overbooked),
            "first_choice_own_rank_median": float(np.median(ranks)) if ranks else None,
            "seconds": round(seconds, 2),
        }
    base = systems["plain"]
    for figures in systems.values():
        ratio = figures["largest_share"] / base["largest_share"] if base["largest_share"] else 0
        loss = 1 - figures[f"ndcg@{K}"] / base[f"ndcg@{K}"] if base[f"ndcg@{K}"] else 0
        figures["share_vs_plain"] = round(ratio, 4)
        figures["ndcg_loss_vs_plain"] = round(loss, 5)
        figures["target_met"] = bool(ratio <= TARGET_SHARE_RATIO + 1e-9
                                     and loss < TARGET_NDCG_LOSS)
    started = time.perf_counter()
    full_lists = full_list_share(feasible)
    return {
        "seed": seed,
        "participants_per_occupation": per_occupation,
        "participants": len(pids),
        "vacancies": len(vids),
        "index_build_s": round(build, 1),
        "full_list_bound_largest_share": round(full_lists, 5),
        "full_list_bound_seconds": round(time.perf_counter() - started, 1),
        "systems": systems,
    }


def main() -> None:
    """Run every size, print a table per size and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 50],
                        help="participants per occupation (5: the market's own size)")
    parser.add_argument("--n-occupations", type=int, default=200)
    parser.add_argument("--tolerances", type=float, nargs="*", default=[0.1, 0.2],
                        help="single-tier spread rules (no saturation tier)")
    parser.add_argument("--saturation", nargs="*",
                        default=["0.3:1.5", "0.3:1.2", "0.3:1.1", "0.2:1.2"],
                        help="two-tier rules at the default tolerance, as "
                             "saturation_tolerance:saturation_level")
    parser.add_argument("--leave-out", nargs="*", default=["1.5:2"],
                        help="the default two-tier rule, leaving out (lists may be shorter) "
                             "a saturated vacancy at load >= level x average and >= floor "
                             "that only a lack of unsaturated alternatives would list, as "
                             "level:floor")
    parser.add_argument("--cutoff-levels", type=float, nargs="*",
                        default=[DEFAULT_CUTOFF_LEVEL],
                        help="spread with market cutoffs giving each vacancy this multiple "
                             "of the average list places per opening")
    parser.add_argument("--alternatives", type=int, default=K - 1)
    parser.add_argument("--offer-slacks", type=float, nargs="*", default=[OFFER_SLACK],
                        help="plans' offers per free opening and round, relative to the team")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1],
                        help="evaluation markets drawn with these random states")
    parser.add_argument("--results", default="capacity",
                        help="write benchmarks/results/<this>.json (a partial run of some "
                             "systems can keep the full run's file)")
    args = parser.parse_args()
    if not ESCO_DIR.is_dir():
        print(f"../shared/data is absent ({ESCO_DIR} not found): nothing to measure")
        sys.exit(0)
    load_start = os.getloadavg()[0]
    taxonomy = Taxonomy.load()
    geocoder = Geocoder.load()
    saturation = [(float(u), float(k)) for u, k in (s.split(":") for s in args.saturation)]
    results = []
    for seed, size in [(seed, size) for seed in args.seeds for size in args.sizes]:
        result = run_size(size, n_occupations=args.n_occupations, tolerances=args.tolerances,
                          saturation=saturation,
                          leave_out=[(float(a), float(b)) for a, b in
                                     (s.split(":") for s in args.leave_out)],
                          cutoff_levels=args.cutoff_levels,
                          alternatives=args.alternatives,
                          offer_slacks=args.offer_slacks, taxonomy=taxonomy,
                          geocoder=geocoder, seed=seed)
        results.append(result)
        print(f"\nseed {seed}: {result['participants']} participants x "
              f"{result['vacancies']} vacancies (index {result['index_build_s']} s; "
              f"full lists can reach {result['full_list_bound_largest_share']:.4f})")
        print(f"{'system':24s} {'largest':>8s} {'vs plain':>8s} {'gini':>6s} {'unseen':>6s} "
              f"{'ndcg@10':>8s} {'loss':>7s} {'target':>6s} {'s':>6s} {'bound':>7s}")
        for name, f in result["systems"].items():
            bound = f.get("bound_largest_share")
            print(f"{name:24s} {f['largest_share']:8.4f} {f['share_vs_plain']:8.3f} "
                  f"{f['gini']:6.3f} {f['vacancies_nobody_is_shown']:6d} "
                  f"{f['ndcg@10']:8.4f} {100 * f['ndcg_loss_vs_plain']:6.2f}% "
                  f"{'yes' if f['target_met'] else 'no':>6s} {f['seconds']:6.1f} "
                  f"{'' if bound is None else f'{bound:7.4f}'}")
    path = write_results(args.results, {
        "market": "make_evaluation_market(../shared/data/esco-v1.1.1-en)",
        "n_occupations": args.n_occupations,
        "k": K,
        "load_average_1min_at_start_and_end": [round(load_start, 2),
                                               round(os.getloadavg()[0], 2)],
        "targets": {"largest_share_vs_plain_at_most": round(TARGET_SHARE_RATIO, 4),
                    "ndcg_loss_below": TARGET_NDCG_LOSS},
        "sizes": results,
    })
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
