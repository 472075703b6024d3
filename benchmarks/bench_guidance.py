"""Speed of next steps (participant) and requirement insights (vacancy) on the demo market.

Each call evaluates every hypothetical change with one vectorised pass of the pair
computation over all vacancies (or all participants), and all skill changes at once from
the sparse skill matrices; none re-runs the ranking per change. For scale, the benchmark
also times the one pass that ranking a participant costs
(:meth:`matching.matcher.Matcher.pairs_for_participant`).

Target: median ≤ 50 ms per call at 5,000 vacancies and 2,000 participants.

Run from the repository root::

    python -m benchmarks.bench_guidance [--vacancies 5000] [--participants 2000] [--calls 200]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import Final

import numpy as np

from benchmarks._common import summary_ms, write_results
from matching.datasets import make_demo_market
from matching.geo import Geocoder
from matching.guidance import next_steps, requirement_insights
from matching.matcher import Matcher
from matching.taxonomy import Taxonomy

__all__ = ["main"]

TARGET_MEDIAN_MS: Final = 50.0


def main() -> None:
    """Build the market, time both calls, print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vacancies", type=int, default=5_000)
    parser.add_argument("--participants", type=int, default=2_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    taxonomy = Taxonomy.load()
    geocoder = Geocoder.load()
    started = time.perf_counter()
    market = make_demo_market(
        n_employers=max(10, args.vacancies // 10),
        n_vacancies=args.vacancies,
        n_participants=args.participants,
        taxonomy=taxonomy,
        random_state=args.seed,
    )
    generation = time.perf_counter() - started
    started = time.perf_counter()
    matcher = Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(
        market.vacancies, market.participants
    )
    build = time.perf_counter() - started

    rng = np.random.default_rng(args.seed)
    participant_ids = rng.choice(market.participants["participant_id"].to_numpy(), args.calls)
    vacancy_ids = rng.choice(market.vacancies["vacancy_id"].to_numpy(), args.calls)
    # Warm-up: first calls pay for lazily built structures.
    next_steps(matcher, str(participant_ids[0]))
    requirement_insights(matcher, str(vacancy_ids[0]))

    base, steps_s, insights_s = [], [], []
    step_kinds: Counter[str] = Counter()
    first_kinds: Counter[str] = Counter()
    with_step = 0
    opened: list[int] = []
    for pid in participant_ids:
        started = time.perf_counter()
        matcher.pairs_for_participant(str(pid))
        base.append(time.perf_counter() - started)
        started = time.perf_counter()
        steps = next_steps(matcher, str(pid))
        steps_s.append(time.perf_counter() - started)
        step_kinds.update(s.kind for s in steps)
        if steps:
            with_step += 1
            first_kinds[steps[0].kind] += 1
            opened.append(steps[0].additional)
    insight_kinds: Counter[str] = Counter()
    top_insights: Counter[str] = Counter()
    masked = shown = 0
    for vid in vacancy_ids:
        started = time.perf_counter()
        insights = requirement_insights(matcher, str(vid))
        insights_s.append(time.perf_counter() - started)
        insight_kinds.update(i.kind for i in insights)
        masked += sum(i.additional is None for i in insights)
        shown += sum(i.additional is not None for i in insights)
        if insights and insights[0].additional is not None:
            top_insights[insights[0].kind] += 1

    payload = {
        "vacancies": args.vacancies,
        "participants": args.participants,
        "calls": args.calls,
        "market_generation_s": round(generation, 2),
        "index_build_s": round(build, 2),
        "one_pair_pass_for_participant": summary_ms(base),
        "next_steps": summary_ms(steps_s),
        "requirement_insights": summary_ms(insights_s),
        "next_steps_content": {
            "participants_with_a_step": with_step,
            "steps_by_kind": dict(step_kinds.most_common()),
            "best_step_by_kind": dict(first_kinds.most_common()),
            "best_step_opens_median": float(np.median(opened)) if opened else 0.0,
        },
        "insights_content": {
            "insights_by_kind": dict(insight_kinds.most_common()),
            "counts_shown": shown,
            "counts_masked_under_5": masked,
            "top_shown_insight_by_kind": dict(top_insights.most_common()),
        },
        "targets": {"median_ms": TARGET_MEDIAN_MS},
        "target_met": bool(
            np.median(steps_s) * 1e3 <= TARGET_MEDIAN_MS
            and np.median(insights_s) * 1e3 <= TARGET_MEDIAN_MS
        ),
    }
    path = write_results("guidance", payload)
    print(f"market {args.vacancies} vacancies x {args.participants} participants "
          f"(generated in {generation:.1f} s, index {build:.1f} s)")
    for name in ("one_pair_pass_for_participant", "next_steps", "requirement_insights"):
        s = payload[name]
        print(f"{name:32s} median {s['median_ms']:7.2f} ms  p90 {s['p90_ms']:7.2f} ms  "
              f"p99 {s['p99_ms']:7.2f} ms")
    print(f"participants with a next step: {with_step}/{args.calls}; best step by kind: "
          f"{dict(first_kinds.most_common())}")
    print(f"insight counts shown {shown}, masked (under 5) {masked}")
    print(f"target median <= {TARGET_MEDIAN_MS:g} ms met: {payload['target_met']}")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
