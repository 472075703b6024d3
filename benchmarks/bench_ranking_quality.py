"""Ranking quality of the scoring pipeline against plain baselines on an ESCO market.

The evaluation market (:func:`matching.datasets.make_evaluation_market`) is built from the
real ESCO v1.1.1 occupation→skill relations in ``../shared/data/esco-v1.1.1-en``:
vacancies of sampled occupations, participants whose skills are a partial, noisy sample
of one occupation's essential skills (about half typed as text). A vacancy is relevant to
a participant with grade 2 when it belongs to the participant's occupation and grade 1
when it belongs to another occupation of the same ISCO-08 unit group; a pair that no
feasible ranking may show (German two or more levels short, or a workplace 150+ km away)
has grade 0, so relevance is measured against what a filtered ranking could show.

Systems compared in one run, top 10 per participant:

* ``pipeline``: :meth:`matching.matcher.Matcher.match_participant` (filters, factors,
  default weights, explanations built).
* ``jaccard_exact``: Jaccard over skill concepts; a typed entry counts only when it equals
  a preferred English or German skill label after lower-casing (the plain baseline; the
  German label is ESCO's, else the first curated alias, as ``Taxonomy.skills`` lists it).
* ``jaccard_resolved``: the same, with typed entries resolved by the pipeline's own
  free-text resolver (:meth:`matching.taxonomy.Taxonomy.resolve_skills`).
* ``tfidf_word`` / ``tfidf_char``: TF-IDF cosine between the participant's skill text
  and the vacancy's skill labels (English and German preferred labels), word 1–2-grams
  and character 3–5-grams (``char_wb``).

Each baseline also runs with the pipeline's hard filters (``+filters``: the mask
``matcher.pairs_for_participant(pid)[1].passing``). A top-10 entry violates a hard filter
when the pair is in ``market.infeasible`` or fails ``passing``. The ablation re-scores the
pipeline's own factor values with other weights (skills only, occupation only, leave one
factor out) to show which factor carries or costs ranking quality.

Run from the repository root::

    python -m benchmarks.bench_ranking_quality [--n-occupations 300] [--participants 2000]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp

from benchmarks._common import SHARED_DATA, write_results
from benchmarks.baselines import (
    exact_label_positions,
    indicator,
    jaccard,
    rankings_from_top,
    tfidf_cosine,
    top_k_rows,
)
from matching.datasets import EvaluationMarket, make_evaluation_market
from matching.evaluation import evaluate_rankings
from matching.factors import skills_factor
from matching.matcher import Matcher
from matching.schema import FACTORS, Factor, P, V
from matching.scoring import DEFAULT_WEIGHTS, DefaultScorer
from matching.taxonomy import Taxonomy

__all__ = ["main", "run"]

ESCO_DIR: Final = SHARED_DATA / "esco-v1.1.1-en"
K: Final = 10
TARGET_RATIO: Final = 1.15
ESCO_PREFIX: Final = "http://data.europa.eu/esco/"
METRICS: Final = (f"ndcg@{K}", f"recall@{K}", "map", "mrr", f"precision@{K}")
SWEEP_SKILLS: Final = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
SWEEP_OCCUPATION: Final = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


# ----------------------------------------------------------------------------- inputs


def skill_documents(
    taxonomy: Taxonomy,
) -> tuple[np.ndarray, dict[str, int], dict[str, int]]:
    """Per-skill label text (English + German preferred), URI positions, exact labels."""
    skills = taxonomy.skills
    label_en = skills["label_en"].fillna("").astype(str).to_numpy()
    label_de = skills["label_de"].fillna("").astype(str).to_numpy()
    text = np.array(
        [f"{en} ; {de}" if de else en for en, de in zip(label_en, label_de, strict=True)],
        dtype=object,
    )
    exact: dict[str, int] = {}
    for column in (label_en, label_de):
        for pos, label in enumerate(column):
            if label:
                exact.setdefault(label.strip().lower(), pos)
    return text, dict(taxonomy.skill_position), exact


def participant_inputs(
    entries: Sequence[Sequence[str]],
    skill_text: np.ndarray,
    uri_position: Mapping[str, int],
    exact: Mapping[str, int],
) -> tuple[list[str], list[list[int]], int, int]:
    """Participant skill documents and exact-label concept sets.

    Returns the documents (URI entries replaced by their labels, typed entries as typed),
    the concept positions found without a resolver, and how many typed entries there
    were and how many of them matched a label exactly.
    """
    documents: list[str] = []
    concepts: list[list[int]] = []
    typed = matched = 0
    for row in entries:
        parts: list[str] = []
        found: list[int] = []
        texts = [e for e in row if not e.startswith(ESCO_PREFIX)]
        for entry in row:
            if entry.startswith(ESCO_PREFIX):
                pos = uri_position[entry]
                parts.append(skill_text[pos])
                found.append(pos)
            else:
                parts.append(entry)
        hits = [p for p in exact_label_positions(texts, exact) if p is not None]
        typed += len(texts)
        matched += len(hits)
        documents.append(" ; ".join(parts))
        concepts.append(found + hits)
    return documents, concepts, typed, matched


def vacancy_inputs(
    vacancies: pd.DataFrame, skill_text: np.ndarray, uri_position: Mapping[str, int]
) -> tuple[list[str], list[list[int]]]:
    """Vacancy skill documents (all listed skills' labels) and concept sets."""
    documents: list[str] = []
    concepts: list[list[int]] = []
    for skills in vacancies[V.SKILLS]:
        positions = [uri_position[s["skill"]] for s in skills]
        concepts.append(positions)
        documents.append(" ; ".join(skill_text[p] for p in positions))
    return documents, concepts


def pair_matrix(
    pairs: frozenset[tuple[str, str]], row_ids: Sequence[str], column_ids: Sequence[str]
) -> np.ndarray:
    """Boolean (rows, columns) matrix of a set of (row id, column id) pairs."""
    out = np.zeros((len(row_ids), len(column_ids)), dtype=bool)
    if not pairs:
        return out
    frame = pd.DataFrame(list(pairs), columns=["row", "column"])
    rows = frame["row"].map({r: i for i, r in enumerate(row_ids)})
    columns = frame["column"].map({c: j for j, c in enumerate(column_ids)})
    keep = rows.notna() & columns.notna()
    out[rows[keep].astype(int).to_numpy(), columns[keep].astype(int).to_numpy()] = True
    return out


# ----------------------------------------------------------------------------- evaluation


def violation_share(top: np.ndarray, forbidden: np.ndarray) -> tuple[float, int, int]:
    """Share of shown top-k entries that are forbidden pairs, with the counts."""
    shown = top >= 0
    rows = np.broadcast_to(np.arange(top.shape[0])[:, None], top.shape)
    bad = forbidden[rows[shown], top[shown]]
    n_shown = int(shown.sum())
    return (float(bad.sum()) / n_shown if n_shown else 0.0), int(bad.sum()), n_shown


def summarise(
    top: np.ndarray,
    row_ids: Sequence[str],
    column_ids: Sequence[str],
    relevance: Mapping[str, Mapping[str, float]],
    forbidden: np.ndarray,
) -> dict[str, float]:
    """Metrics and the hard-filter violation share of one system's top-k."""
    rankings = rankings_from_top(top, row_ids, column_ids)
    metrics = evaluate_rankings(rankings, cast(Any, relevance), k=K, catalogue=column_ids)
    share, bad, shown = violation_share(top, forbidden)
    out = {name: round(metrics[name], 4) for name in METRICS}
    out["coverage"] = round(metrics["coverage"], 4)
    out["violation_share"] = round(share, 4)
    out["violations"] = bad
    out["shown"] = shown
    out["n_queries"] = int(metrics["n_queries"])
    return out


def weighted_scores(factors: np.ndarray, weights: Mapping[str, float]) -> np.ndarray:
    """Scores of the stored (participants, factors, vacancies) array under other weights."""
    scorer = DefaultScorer(weights)
    n_p, n_f, n_v = factors.shape
    flat = factors.transpose(0, 2, 1).reshape(-1, n_f)
    return scorer.score(flat).reshape(n_p, n_v)


def ablation_weights() -> dict[str, dict[str, float]]:
    """The weightings of the ablation: default, single factors, leave-one-out."""
    default = dict(DEFAULT_WEIGHTS)
    out = {"default weights": default}
    for factor in (Factor.SKILLS, Factor.OCCUPATION):
        out[f"{factor} only"] = {f: (1.0 if f == factor else 0.0) for f in FACTORS}
    out["skills + occupation"] = {
        f: (default[f] if f in (Factor.SKILLS, Factor.OCCUPATION) else 0.0) for f in FACTORS
    }
    for factor in FACTORS:
        out[f"without {factor}"] = {f: (0.0 if f == factor else default[f]) for f in FACTORS}
    return out


def weight_sweep(
    factors: np.ndarray,
    passing: np.ndarray,
    pids: Sequence[str],
    vids: Sequence[str],
    relevance: Mapping[str, Mapping[str, float]],
    forbidden: np.ndarray,
) -> list[dict[str, Any]]:
    """NDCG of a small grid of weightings (in-sample: for orientation, not for tuning).

    Skills and occupation weights vary; language, commute and hours share the remainder
    in their default proportions.
    """
    default = dict(DEFAULT_WEIGHTS)
    rest = [f for f in FACTORS if f not in (Factor.SKILLS, Factor.OCCUPATION)]
    rest_total = sum(default[f] for f in rest)
    rows = []
    for w_skills in SWEEP_SKILLS:
        for w_occupation in SWEEP_OCCUPATION:
            remainder = 1.0 - w_skills - w_occupation
            if remainder < -1e-9:
                continue
            weights = {Factor.SKILLS: w_skills, Factor.OCCUPATION: w_occupation}
            weights |= {f: max(remainder, 0.0) * default[f] / rest_total for f in rest}
            top = top_k_rows(weighted_scores(factors, weights), K, mask=passing)
            figures = summarise(top, pids, vids, relevance, forbidden)
            rows.append({"weights": {f: round(w, 3) for f, w in weights.items()}}
                        | {m: figures[m] for m in (f"ndcg@{K}", f"recall@{K}", "map")})
    return sorted(rows, key=lambda r: -r[f"ndcg@{K}"])


def held_skills_factor(state: Any, p_rows: np.ndarray, to_row: np.ndarray) -> np.ndarray:
    """The skills factor without credit for related skills (held skills only)."""
    block = state.vacancies.block
    held = sp.csr_matrix(state.participants.block.skills)[p_rows].astype(np.float32)
    essential = np.asarray((held @ block.essential.T).todense())[:, to_row]
    optional = np.asarray((held @ block.optional.T).todense())[:, to_row]
    return skills_factor(
        essential, block.n_essential[to_row][None, :], optional, block.n_optional[to_row][None, :]
    )


# ----------------------------------------------------------------------------- run


def run(
    n_occupations: int,
    n_participants: int,
    vacancies_per_occupation: int = 3,
    seed: int = 0,
    esco_dir: Path = ESCO_DIR,
) -> dict[str, Any]:
    """Build the market, rank with every system and return the figures."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    taxonomy = Taxonomy.load()
    per_occupation = max(1, math.ceil(n_participants / n_occupations))
    market: EvaluationMarket = make_evaluation_market(
        esco_dir,
        n_occupations=n_occupations,
        vacancies_per_occupation=vacancies_per_occupation,
        participants_per_occupation=per_occupation,
        taxonomy=taxonomy,
        random_state=seed,
    )
    participants = market.participants.iloc[:n_participants].reset_index(drop=True)
    vacancies = market.vacancies.sort_values(V.ID).reset_index(drop=True)
    pids = participants[P.ID].astype(str).tolist()
    vids = vacancies[V.ID].astype(str).tolist()
    timings["market_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    matcher = Matcher(taxonomy=taxonomy).fit(vacancies, participants)
    timings["matcher_fit_s"] = time.perf_counter() - clock

    # Pipeline: top-10 with explanations, and the factor values of every pair.
    state = matcher.state_
    to_row = np.array([state.vacancies.position[v] for v in vids], dtype=np.int64)
    alive = state.vacancies.alive[to_row]
    n_p, n_v = len(pids), len(vids)
    factors = np.zeros((n_p, len(FACTORS), n_v), dtype=np.float32)
    passing = np.zeros((n_p, n_v), dtype=bool)
    column = {v: j for j, v in enumerate(vids)}
    pipeline_top = np.full((n_p, K), -1, dtype=np.int64)
    call_ms = np.zeros(n_p)
    clock = time.perf_counter()
    for i, pid in enumerate(pids):
        _, pairs = matcher.pairs_for_participant(pid)
        factors[i] = pairs.factors[:, to_row]
        passing[i] = pairs.passing[to_row] & alive
        start = time.perf_counter()
        result = matcher.match_participant(pid, limit=K)
        call_ms[i] = (time.perf_counter() - start) * 1e3
        chosen = [column[item.vacancy_id] for item in result.items]
        pipeline_top[i, : len(chosen)] = chosen
    timings["pipeline_queries_s"] = time.perf_counter() - clock
    timings["match_participant_median_ms"] = float(np.median(call_ms))

    infeasible = pair_matrix(market.infeasible, pids, vids)
    forbidden = infeasible | ~passing
    feasible = market.feasible_relevance()
    relevance = {pid: feasible[pid] for pid in pids}

    # Baselines, all pairs at once.
    clock = time.perf_counter()
    skill_text, uri_position, exact = skill_documents(taxonomy)
    p_docs, p_exact, n_typed, n_exact = participant_inputs(
        participants[P.SKILLS].tolist(), skill_text, uri_position, exact
    )
    v_docs, v_concepts = vacancy_inputs(vacancies, skill_text, uri_position)
    n_skills = len(taxonomy.skills)
    v_matrix = indicator(v_concepts, n_skills)
    p_block = state.participants.block
    p_rows = np.array([state.participants.position[p] for p in pids], dtype=np.int64)
    resolved = sp.csr_matrix(p_block.skills)[p_rows]
    baseline_scores = {
        "jaccard_exact": jaccard(indicator(p_exact, n_skills), v_matrix),
        "jaccard_resolved": jaccard(resolved, v_matrix),
        "tfidf_word": tfidf_cosine(p_docs, v_docs, analyzer="word", ngram_range=(1, 2)),
        "tfidf_char": tfidf_cosine(p_docs, v_docs, analyzer="char_wb", ngram_range=(3, 5)),
    }
    timings["baselines_s"] = time.perf_counter() - clock

    systems: dict[str, dict[str, float]] = {
        "pipeline": summarise(pipeline_top, pids, vids, relevance, forbidden)
    }
    for name, scores in baseline_scores.items():
        systems[name] = summarise(top_k_rows(scores, K), pids, vids, relevance, forbidden)
        systems[f"{name}+filters"] = summarise(
            top_k_rows(scores, K, mask=passing), pids, vids, relevance, forbidden
        )
    baseline_names = [n for n in systems if n != "pipeline"]
    ndcg = f"ndcg@{K}"
    best = max(baseline_names, key=lambda n: (systems[n][ndcg], n))
    ratio = systems["pipeline"][ndcg] / systems[best][ndcg] if systems[best][ndcg] else math.inf

    # Ablation: the pipeline's own factors under other weights, hard filters applied.
    ablation: dict[str, dict[str, float]] = {}
    identical = math.nan
    for name, weights in ablation_weights().items():
        top = top_k_rows(weighted_scores(factors, weights), K, mask=passing)
        ablation[name] = summarise(top, pids, vids, relevance, forbidden)
        if name == "default weights":
            identical = float((top == pipeline_top).all(axis=1).mean())

    held = held_skills_factor(state, p_rows, to_row)
    without_related = factors.copy()
    without_related[:, FACTORS.index(Factor.SKILLS), :] = held
    for name in ("default weights", "skills only"):
        top = top_k_rows(weighted_scores(without_related, ablation_weights()[name]), K,
                         mask=passing)
        ablation[f"{name}, no related-skill credit"] = summarise(
            top, pids, vids, relevance, forbidden
        )
    sweep = weight_sweep(factors, passing, pids, vids, relevance, forbidden)
    required = TARGET_RATIO * systems[best][ndcg]

    diagnostics = diagnose(
        market, taxonomy, state, pids, vids, p_rows, factors, passing, infeasible,
        pipeline_top, relevance, n_typed, n_exact,
    )
    return {
        "market": {
            "esco_relations": "ESCO v1.1.1 occupationSkillRelations, ../shared/data/esco-v1.1.1-en",
            "n_occupations": n_occupations,
            "vacancies_per_occupation": vacancies_per_occupation,
            "vacancies": n_v,
            "participants": n_p,
            "seed": seed,
            "typed_skill_entries": n_typed,
            "infeasible_pairs": int(infeasible.sum()),
            "pairs_failing_pipeline_filters": int((~passing).sum()),
            "infeasible_pairs_passing_pipeline_filters": int((infeasible & passing).sum()),
            "relevance": "2 same occupation, 1 same ISCO-08 unit group, 0 if infeasible",
        },
        "k": K,
        "systems": systems,
        "best_baseline": best,
        "ndcg_ratio_to_best_baseline": round(ratio, 4),
        "target": {"ndcg_ratio": TARGET_RATIO, "violation_share": 0.0},
        "target_met": bool(ratio >= TARGET_RATIO and systems["pipeline"]["violations"] == 0),
        "ablation": ablation,
        "ablation_default_reproduces_pipeline": round(identical, 4),
        "pipeline_ndcg_needed_for_target": round(required, 4),
        "weight_sweep_top5": sweep[:5],
        "weight_sweep_best_reaches_target": bool(sweep[0][ndcg] >= required),
        "diagnostics": diagnostics,
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }


def diagnose(
    market: EvaluationMarket,
    taxonomy: Taxonomy,
    state: Any,
    pids: Sequence[str],
    vids: Sequence[str],
    p_rows: np.ndarray,
    factors: np.ndarray,
    passing: np.ndarray,
    infeasible: np.ndarray,
    pipeline_top: np.ndarray,
    relevance: Mapping[str, Mapping[str, float]],
    n_typed: int,
    n_exact: int,
) -> dict[str, Any]:
    """Where the pipeline gains and loses: factor values by grade, resolution, occupations."""
    n_p, n_v = passing.shape
    grade = np.zeros((n_p, n_v), dtype=np.int8)
    column = {v: j for j, v in enumerate(vids)}
    for i, pid in enumerate(pids):
        for vid, g in relevance[pid].items():
            grade[i, column[vid]] = int(g)
    usable = passing & ~infeasible
    by_grade: dict[str, dict[str, float]] = {}
    for g in (2, 1, 0):
        mask = usable & (grade == g)
        by_grade[f"grade {g}"] = {
            f: round(float(factors[:, j, :][mask].mean()), 4) if mask.any() else math.nan
            for j, f in enumerate(FACTORS)
        } | {"pairs": int(mask.sum())}

    # How often a relevant vacancy is outranked by irrelevant ones, and by which factor.
    shown = pipeline_top >= 0
    rows = np.broadcast_to(np.arange(n_p)[:, None], pipeline_top.shape)
    top_grade = np.where(shown, grade[rows, np.maximum(pipeline_top, 0)], 0)
    in_top = np.zeros((n_p, n_v), dtype=bool)
    in_top[rows[shown], pipeline_top[shown]] = True
    missed = usable & (grade > 0) & ~in_top
    intruders = np.zeros((n_p, n_v), dtype=bool)
    intruders[rows[shown], pipeline_top[shown]] = top_grade[shown] == 0
    factor_gap = {}
    has_both = missed.any(axis=1) & intruders.any(axis=1)
    for j, f in enumerate(FACTORS):
        f_j = factors[:, j, :]
        with np.errstate(invalid="ignore"):
            miss_mean = np.where(missed, f_j, np.nan)
            intr_mean = np.where(intruders, f_j, np.nan)
            gap = np.nanmean(intr_mean[has_both], axis=1) - np.nanmean(miss_mean[has_both], axis=1)
        factor_gap[f] = round(float(np.mean(gap)), 4) if has_both.any() else math.nan

    # How close the irrelevant vacancies in the top 10 are to the participant's occupation.
    isco = taxonomy.occupations["isco_code"].fillna("").astype(str).to_numpy()
    occupation_of = dict(zip(market.vacancies[V.ID], market.vacancies[V.OCCUPATION],
                             strict=True))
    v_isco = np.array([isco[taxonomy.occupation_position[occupation_of[v]]] for v in vids])
    p_isco = np.array(
        [isco[taxonomy.occupation_position[market.participant_occupation[p]]] for p in pids]
    )
    ii, jj = np.nonzero(intruders)
    near = {}
    for digits, name in ((3, "same ISCO minor group (3 digits)"),
                         (2, "same sub-major group (2 digits)"),
                         (1, "same major group (1 digit)")):
        same = [a[:digits] == b[:digits] for a, b in zip(v_isco[jj], p_isco[ii], strict=True)]
        near[name] = round(float(np.mean(same)), 4) if same else math.nan

    # Skill resolution of typed entries, and the occupation implied by the skills.
    entries = market.skill_entries
    entries = entries[entries["participant_id"].isin(set(pids))]
    row_of = dict(zip(pids, p_rows.tolist(), strict=True))
    block = state.participants.block
    held = sp.csr_matrix(block.skills)
    e_rows = entries["participant_id"].map(row_of).to_numpy(dtype=np.int64)
    e_cols = entries["skill_uri"].map(taxonomy.skill_position).to_numpy(dtype=np.int64)
    hit = np.asarray(held[e_rows, e_cols]).ravel() > 0
    typed = entries["as_text"].to_numpy(dtype=bool)
    resolution = {
        "typed_entries": int(typed.sum()),
        "resolver_true_skill_share": round(float(hit[typed].mean()), 4),
        "exact_label_match_share": round(n_exact / n_typed, 4) if n_typed else math.nan,
    }
    for kind in ("none", "drop_word", "typo"):
        sel = typed & (entries["noise"].to_numpy() == kind)
        if sel.any():
            resolution[f"resolver_true_skill_share_{kind}"] = round(float(hit[sel].mean()), 4)

    occ_pos = np.asarray(block.occ_position)[p_rows, 0]
    occ_weight = np.asarray(block.occ_weight)[p_rows, 0]
    true_pos = np.array(
        [taxonomy.occupation_position[market.participant_occupation[p]] for p in pids]
    )
    found = occ_pos >= 0
    implied = {
        "participants_with_implied_occupation": round(float(found.mean()), 4),
        "top_implied_is_true_occupation": round(float((occ_pos == true_pos).mean()), 4),
        "top_implied_in_true_unit_group": round(
            float((found & (isco[np.maximum(occ_pos, 0)] == isco[true_pos])).mean()), 4
        ),
        "top_implied_weight_mean": round(float(occ_weight[found].mean()), 4) if found.any()
        else math.nan,
    }
    right = occ_pos == true_pos
    rankings = rankings_from_top(pipeline_top, pids, vids)
    ndcg_split = {}
    for name, mask in (("top implied occupation right", right),
                       ("top implied occupation wrong", ~right)):
        chosen = [p for p, keep in zip(pids, mask, strict=True) if keep]
        figures = evaluate_rankings({p: rankings[p] for p in chosen},
                                    cast(Any, {p: relevance[p] for p in chosen}), k=K)
        ndcg_split[name] = {"participants": len(chosen),
                            f"ndcg@{K}": round(figures[f"ndcg@{K}"], 4)}
    grade1 = usable & (grade == 1)
    return {
        "mean_factor_by_grade_feasible_pairs": by_grade,
        "grade1_pairs_with_zero_skills_factor": round(
            float((factors[:, 0, :][grade1] == 0).mean()), 4) if grade1.any() else math.nan,
        "missed_relevant_by_grade": {f"grade {g}": int((missed & (grade == g)).sum())
                                     for g in (2, 1)},
        "pipeline_ndcg_by_implied_occupation": ndcg_split,
        "pipeline_top10_grade0_share": round(float((top_grade[shown] == 0).mean()), 4),
        "relevant_feasible_missed_from_top10": int(missed.sum()),
        "relevant_feasible_pairs": int((usable & (grade > 0)).sum()),
        "intruder_minus_missed_factor_mean": factor_gap,
        "grade0_top10_entries_near_participant_occupation": near,
        "skill_resolution": resolution,
        "implied_occupation": implied,
    }


# ----------------------------------------------------------------------------- output


def print_report(result: Mapping[str, Any]) -> None:
    """Print the systems table, the ablation and the diagnosis."""
    market = result["market"]
    print(
        f"Ranking quality (top {K}): {market['vacancies']} vacancies of "
        f"{market['n_occupations']} ESCO occupations, {market['participants']} participants, "
        f"seed {market['seed']}"
    )
    header = f"{'system':42s}" + "".join(f"{m:>13s}" for m in (*METRICS, "violations"))
    for title, table in (("systems", result["systems"]), ("ablation", result["ablation"])):
        print(f"\n{title}\n{header}")
        for name, row in table.items():
            cells = "".join(f"{row[m]:13.4f}" for m in METRICS)
            print(f"{name:42s}{cells}{row['violation_share']:13.2%}")
    print(
        f"\nbest baseline: {result['best_baseline']}; pipeline NDCG@{K} / best = "
        f"{result['ndcg_ratio_to_best_baseline']:.3f} (target {TARGET_RATIO}); "
        f"target met: {result['target_met']}"
    )
    print("default-weight ablation reproduces the pipeline top-10 for "
          f"{result['ablation_default_reproduces_pipeline']:.1%} of participants")
    needed = result["pipeline_ndcg_needed_for_target"]
    print(f"pipeline NDCG@{K} needed for the target: {needed:.4f}")
    print("\nweight sweep (in-sample, best 5):")
    for row in result["weight_sweep_top5"]:
        weights = ", ".join(f"{f} {w:.2f}" for f, w in row["weights"].items())
        print(f"  ndcg@{K} {row[f'ndcg@{K}']:.4f}  recall@{K} {row[f'recall@{K}']:.4f}  "
              f"({weights})")
    print("\ndiagnostics:")
    print(json.dumps(result["diagnostics"], indent=2))
    print("\ntimings:", json.dumps(result["timings"]))


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-occupations", type=int, default=300,
                        help="ESCO occupations sampled (default 300)")
    parser.add_argument("--vacancies-per-occupation", type=int, default=3,
                        help="vacancies per occupation (default 3)")
    parser.add_argument("--participants", type=int, default=2000,
                        help="participants evaluated (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="market seed (default 0)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the figures and write them as JSON."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if not ESCO_DIR.is_dir():
        print("skipped: ../shared/data absent (needs ../shared/data/esco-v1.1.1-en)")
        return 0
    clock = time.perf_counter()
    result = run(args.n_occupations, args.participants, args.vacancies_per_occupation,
                 args.seed)
    result["timings"]["total_s"] = round(time.perf_counter() - clock, 3)
    print_report(result)
    path = write_results("ranking_quality", result)
    print(f"\nwritten: benchmarks/results/{path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
