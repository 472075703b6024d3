"""The learning loop: learned model vs default, training time, latency with the model.

Three figures (issue "The learning loop"):

1. **Ranking quality.** On the demo market (300 vacancies, 200 participants) the seeded
   simulator (``matching.simulation``, learnable preference) plays twelve weeks; the
   last quarter of the pairs by time shown is held out. NDCG@10 of the default scorer and
   of a ``LearnedScorer`` fitted on the rest, on the same held-out pairs, with the paired
   standard error of the gain and the promotion gate's decision, per seed.
2. **Training time** on 100,000 outcome rows: the simulator on a larger market until the
   training table has at least that many pairs; the time to build the table from the shown
   items and outcomes, and to fit the model on exactly 100,000 rows (target ≤ 15 s).
3. **Request latency with the learned model**: top-10 vacancies for one participant among
   20,000 open vacancies, in process, with filters and explanations built, a different
   participant each call, once with the default scorer and once with the learned model
   (target p99 ≤ 20 ms). The learned model is linear in the five factors, so the hard
   filters are the cheap first stage and the model scores only the vacancies that pass.

Run::

    python -m benchmarks.bench_learning
    python -m benchmarks.bench_learning --seeds 0 1 2 3 4 --rows 100000 --calls 500
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._common import summary_ms, write_results
from matching import DefaultScorer, Geocoder, Matcher, Taxonomy
from matching.datasets import make_demo_market
from matching.fairness import candidate_metrics
from matching.persistence import promotion_decision
from matching.scoring import Scorer
from matching.simulation import simulate_outcomes
from matching.training import LearnedScorer, build_training_table, evaluate_scorers, time_split


def quality(seed: int, taxonomy: Taxonomy, geocoder: Geocoder) -> dict[str, Any]:
    """Held-out NDCG@10 of the default and the learned model for one simulator seed."""
    market = make_demo_market(random_state=0, taxonomy=taxonomy)
    matcher = Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(
        market.vacancies, market.participants)
    sim = simulate_outcomes(market, matcher, preference="learnable", random_state=seed)
    train, test = time_split(build_training_table(sim.shown, sim.outcomes), test_share=0.25)
    started = time.perf_counter()
    model = LearnedScorer().fit(train)
    fit_s = time.perf_counter() - started
    scorers: dict[str, Scorer] = {"default": DefaultScorer(), "learned": model}
    evaluation = evaluate_scorers(test, scorers, k=10)
    people = sim.monitoring.merge(sim.pseudonyms, on="participant_pseudonym")
    metrics = candidate_metrics(
        evaluation, "learned", matcher=matcher, scorers=scorers,
        participant_attributes=people.drop(columns="participant_pseudonym"),
        training_table=train, training_attributes=sim.monitoring, vacancies=sim.vacancies)
    decision = promotion_decision(metrics)
    return {
        "seed": seed,
        "train_pairs": len(train),
        "test_pairs": len(test),
        "queries": int(evaluation.loc["learned", "n_queries"]),
        "ndcg@10_default": round(float(evaluation.loc["default", "ndcg@10"]), 4),
        "ndcg@10_learned": round(float(evaluation.loc["learned", "ndcg@10"]), 4),
        "gain": round(float(evaluation.loc["learned", "ndcg@10_gain"]), 4),
        "gain_se": round(float(evaluation.loc["learned", "ndcg@10_gain_se"]), 4),
        "fit_s": round(fit_s, 3),
        "gate": "allowed" if decision.allowed else "refused",
        "gate_reasons": decision.reasons,
    }


def training_time(rows: int, taxonomy: Taxonomy, geocoder: Geocoder) -> dict[str, Any]:
    """Build a table of at least ``rows`` pairs, then time building it and fitting."""
    participants = max(200, rows // 55)
    market = make_demo_market(n_employers=300, n_vacancies=3000, n_participants=participants,
                              taxonomy=taxonomy, random_state=1)  # fmt: skip
    matcher = Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(
        market.vacancies, market.participants)
    sim = simulate_outcomes(market, matcher, preference="learnable", random_state=1)
    started = time.perf_counter()
    table = build_training_table(sim.shown, sim.outcomes)
    build_s = time.perf_counter() - started
    if len(table) < rows:
        raise SystemExit(f"the simulated table has {len(table)} pairs, fewer than {rows}")
    sample = table.iloc[:rows]
    started = time.perf_counter()
    LearnedScorer().fit(sample)
    fit_s = time.perf_counter() - started
    return {"rows": rows, "participants": participants, "shown_items": len(sim.shown),
            "outcome_events": len(sim.outcomes), "table_pairs": len(table),
            "build_table_s": round(build_s, 3), "fit_s": round(fit_s, 3),
            "total_s": round(build_s + fit_s, 3), "target_s": 15.0}  # fmt: skip


def latency(vacancies: int, calls: int, taxonomy: Taxonomy, geocoder: Geocoder,
            model: LearnedScorer) -> dict[str, Any]:  # fmt: skip
    """Top-10 of ``vacancies`` for a participant: default vs the learned model."""
    market = make_demo_market(n_employers=max(10, vacancies // 10), n_vacancies=vacancies,
                              n_participants=2000, taxonomy=taxonomy, random_state=0)
    matcher = Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(
        market.vacancies.assign(status="open"), market.participants)
    rng = np.random.default_rng(0)
    ids = rng.choice(market.participants["participant_id"].to_numpy(), calls)
    out: dict[str, Any] = {"vacancies": vacancies, "calls": calls}
    for name, scorer in (("default", DefaultScorer()), ("learned", model)):
        matcher.set_scorer(scorer)
        for pid in ids[:20]:
            matcher.match_participant(pid, limit=10).to_dict()
        timings = []
        for pid in ids:
            started = time.perf_counter()
            result = matcher.match_participant(pid, limit=10).to_dict()
            timings.append(time.perf_counter() - started)
        assert result["model_version"] == scorer.version
        out[name] = summary_ms(timings)
    out["target_p99_ms"] = 20.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--vacancies", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()

    taxonomy = Taxonomy.load()
    geocoder = Geocoder.load()
    taxonomy.resolve_skill("Stapler fahren")  # the resolver index is built once, lazily
    load = os.getloadavg()[0]

    seeds = [quality(seed, taxonomy, geocoder) for seed in args.seeds]
    table = pd.DataFrame(seeds).drop(columns="gate_reasons").set_index("seed")
    print("held-out NDCG@10, learnable preference (demo market, 12 weeks, last quarter held out)")
    print(table.to_string())
    train = training_time(args.rows, taxonomy, geocoder)
    print(f"training on {train['rows']:,} rows: table {train['build_table_s']:.2f} s, "
          f"fit {train['fit_s']:.2f} s (target {train['target_s']:.0f} s)")
    market = make_demo_market(random_state=0, taxonomy=taxonomy)
    matcher = Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(
        market.vacancies, market.participants)
    sim = simulate_outcomes(market, matcher, preference="learnable", random_state=0)
    model = LearnedScorer().fit(time_split(build_training_table(sim.shown, sim.outcomes))[0])
    speed = latency(args.vacancies, args.calls, taxonomy, geocoder, model)
    print(pd.DataFrame({k: speed[k] for k in ("default", "learned")}).T.to_string())
    figures = {
        "load_average_at_start": round(load, 2),
        "quality": seeds,
        "quality_summary": {
            "mean_ndcg@10_default": round(float(table["ndcg@10_default"].mean()), 4),
            "mean_ndcg@10_learned": round(float(table["ndcg@10_learned"].mean()), 4),
            "min_gain_in_se": round(float((table["gain"] / table["gain_se"]).min()), 2),
            "promoted": int((table["gate"] == "allowed").sum()),
            "seeds": len(table),
        },
        "training": train,
        "latency_top10_of_vacancies": speed,
    }
    path = write_results("learning", figures)
    print(f"load average at start {load:.2f}; written to {path}")


if __name__ == "__main__":
    main()
