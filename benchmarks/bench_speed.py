"""Speed of the scoring library, in process.

Top-10 vacancies for one participant among 20,000 open vacancies, and top-10
candidates for one vacancy among 50,000 participants, a different one each call, with
filters and full explanations built (``to_dict()`` included); and the time to build
the index. Targets (issue "The scoring pipeline"): median ≤ 5 ms per call; building
the vacancy index for 20,000 vacancies ≤ 5 s.

Run::

    python -m benchmarks.bench_speed                 # 20,000 vacancies, 50,000 participants
    python -m benchmarks.bench_speed --vacancies 5000 --participants 2000 --calls 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from benchmarks._common import summary_ms, write_results
from matching import Geocoder, Matcher, Taxonomy
from matching.datasets import make_demo_market


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vacancies", type=int, default=20_000)
    parser.add_argument("--participants", type=int, default=50_000)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    taxonomy = Taxonomy.load()
    geocoder = Geocoder.load()
    taxonomy.resolve_skill("Stapler fahren")  # the resolver index is built once, lazily
    started = time.perf_counter()
    market = make_demo_market(
        n_employers=max(10, args.vacancies // 10),
        n_vacancies=args.vacancies,
        n_participants=args.participants,
        taxonomy=taxonomy,
        random_state=args.seed,
    )
    generation = time.perf_counter() - started
    vacancies = market.vacancies.assign(status="open")
    participants = market.participants

    started = time.perf_counter()
    Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(vacancies, participants.iloc[:1])
    vacancy_build = time.perf_counter() - started
    started = time.perf_counter()
    matcher = Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(vacancies, participants)
    full_build = time.perf_counter() - started

    rng = np.random.default_rng(args.seed)
    participant_ids = rng.choice(participants["participant_id"].to_numpy(), args.calls)
    vacancy_ids = rng.choice(vacancies["vacancy_id"].to_numpy(), args.calls)
    for pid in participant_ids[:20]:
        matcher.match_participant(pid).to_dict()
    timings = []
    for pid in participant_ids:
        t = time.perf_counter()
        matcher.match_participant(pid, limit=10).to_dict()
        timings.append(time.perf_counter() - t)
    participant_side = summary_ms(timings)
    timings = []
    for vid in vacancy_ids:
        t = time.perf_counter()
        matcher.match_vacancy(vid, limit=10, employer_view=True).to_dict()
        timings.append(time.perf_counter() - t)
    vacancy_side = summary_ms(timings)

    figures = {
        "vacancies": args.vacancies,
        "participants": args.participants,
        "market_generation_s": round(generation, 2),
        "vacancy_index_build_s": round(vacancy_build, 3),
        "full_index_build_s": round(full_build, 3),
        "top10_vacancies_for_participant": participant_side,
        "top10_candidates_for_vacancy": vacancy_side,
        "targets": {"median_ms": 5.0, "vacancy_index_build_s": 5.0},
    }
    table = pd.DataFrame(
        [participant_side, vacancy_side],
        index=[f"top-10 of {args.vacancies:,} vacancies", f"top-10 of {args.participants:,} "
               "participants"],
    )
    print(table.to_string())
    print(f"vacancy index build ({args.vacancies:,}): {vacancy_build:.2f} s; "
          f"full index build: {full_build:.2f} s")
    path = write_results("speed", figures)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
