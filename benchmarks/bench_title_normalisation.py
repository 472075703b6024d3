"""Title normalisation on real Bundesagentur ads: does the title land in the agency's ISCO group?

Each of the 10,000 ads in ``../shared/data/job-ads-ba-bamberg/Bamberg_jobs_100km.csv.gz``
carries the employer's own title (``titel``, e.g. "Reinigungskraft, Bürogebäude (m/w/d)")
and the occupation the agency coded (``beruf``, e.g. "Helfer/in - Reinigung"). Both are
resolved to ESCO occupations with :meth:`matching.taxonomy.Taxonomy.resolve_occupations`
(one batch each); the benchmark reports how often the title's occupation falls in the same
ISCO-08 unit group (4 digits) and minor group (3 digits) as the agency occupation's, the
unresolved share of each side, and the commonest disagreements. Beside it runs a plain
baseline: the nearest ESCO occupation label (all German and English labels of the shipped
ESCO subset, without the curated aliases) by character TF-IDF cosine, lower-casing only.

The ads are internal test data and are read from ``../shared/data`` only; the JSON written
holds aggregate figures, ISCO codes, the agency occupation names and ESCO labels, never
an employer's title (those appear in the printed table only). Without the data the
benchmark prints ``skipped: ../shared/data absent`` and exits with status 0.

Run from the repository root::

    python -m benchmarks.bench_title_normalisation
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

import matching
from benchmarks._common import SHARED_DATA, write_results
from benchmarks.baselines import nearest_label
from matching.taxonomy import Taxonomy

__all__ = ["main", "run"]

ADS_PATH: Final = SHARED_DATA / "job-ads-ba-bamberg" / "Bamberg_jobs_100km.csv.gz"
ESCO_DIR: Final = Path(matching.__file__).resolve().parent / "data" / "esco"
N_DISAGREEMENTS: Final = 15
N_UNRESOLVED: Final = 10
CONFIDENCE_BANDS: Final = (0.6, 0.7, 0.8, 0.9, 1.0)
_MISSING: Final = frozenset({"", "null"})


def read_ads(path: Path) -> pd.DataFrame:
    """Title and agency occupation of every ad that has both (``null`` counts as empty)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=["titel", "beruf"])
    frame = frame.apply(lambda column: column.str.strip())
    both = ~frame["titel"].isin(_MISSING) & ~frame["beruf"].isin(_MISSING)
    return frame[both].reset_index(drop=True)


def esco_label_table() -> tuple[list[str], np.ndarray, np.ndarray]:
    """Every German and English ESCO occupation label of the shipped subset (no aliases).

    Returns the labels, the occupation position of each, and the occupations' ISCO codes.
    """
    labels = pd.read_csv(ESCO_DIR / "occupation_labels.csv.gz", dtype=str,
                         keep_default_na=False)
    occupations = pd.read_csv(ESCO_DIR / "occupations.csv.gz", dtype=str,
                              keep_default_na=False)
    labels = labels[labels["label"] != ""]
    return (
        labels["label"].tolist(),
        labels["position"].astype(np.int64).to_numpy(),
        occupations["isco_code"].to_numpy(dtype=object),
    )


def agreement(title_isco: np.ndarray, beruf_isco: np.ndarray) -> dict[str, Any]:
    """Unresolved shares and ISCO agreement at 4 and 3 digits ("" = unresolved)."""
    t_ok = title_isco != ""
    b_ok = beruf_isco != ""
    both = t_ok & b_ok
    out: dict[str, Any] = {
        "rows": len(title_isco),
        "title_unresolved_share": round(float((~t_ok).mean()), 4),
        "beruf_unresolved_share": round(float((~b_ok).mean()), 4),
        "both_resolved_share": round(float(both.mean()), 4),
    }
    for digits in (4, 3):
        same = both & (
            np.array([a[:digits] for a in title_isco], dtype=object)
            == np.array([b[:digits] for b in beruf_isco], dtype=object)
        )
        out[f"isco{digits}_agreement_all_rows"] = round(float(same.mean()), 4)
        out[f"isco{digits}_agreement_both_resolved"] = (
            round(float(same[both].mean()), 4) if both.any() else float("nan")
        )
    return out


def by_confidence(
    confidence: np.ndarray, title_isco: np.ndarray, beruf_isco: np.ndarray
) -> list[dict[str, Any]]:
    """ISCO-4 agreement of resolved title/beruf pairs by the title's confidence band."""
    both = (title_isco != "") & (beruf_isco != "")
    out = []
    edges = CONFIDENCE_BANDS
    for low, high in itertools.pairwise(edges):
        last = high == edges[-1]
        band = both & (confidence >= low) & ((confidence <= high) if last else (confidence < high))
        out.append({
            "confidence": f"[{low}, {high}{']' if last else ')'}",
            "rows": int(band.sum()),
            "isco4_agreement": round(float((title_isco[band] == beruf_isco[band]).mean()), 4)
            if band.any() else None,
        })
    return out


def isco_label(taxonomy: Taxonomy, code: str) -> str:
    """English ISCO-08 label of a code, or the code itself."""
    return taxonomy.isco_labels.get(code, {}).get("en") or code


def disagreements(
    ads: pd.DataFrame,
    title_isco: np.ndarray,
    beruf_isco: np.ndarray,
    title_label: np.ndarray,
    beruf_label: np.ndarray,
    taxonomy: Taxonomy,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The commonest (title ISCO, beruf ISCO) pairs that differ, with one example each.

    Returns the JSON rows (no employer title) and the printed lines (with one).
    """
    frame = pd.DataFrame(
        {
            "titel": ads["titel"],
            "beruf": ads["beruf"],
            "title_isco": title_isco,
            "beruf_isco": beruf_isco,
            "title_label": title_label,
            "beruf_label": beruf_label,
        }
    )
    differ = frame[
        (frame["title_isco"] != "") & (frame["beruf_isco"] != "")
        & (frame["title_isco"] != frame["beruf_isco"])
    ]
    counts = (
        differ.groupby(["title_isco", "beruf_isco"]).size().rename("count").reset_index()
        .sort_values(["count", "title_isco", "beruf_isco"], ascending=[False, True, True])
        .head(N_DISAGREEMENTS)
    )
    rows: list[dict[str, Any]] = []
    lines: list[str] = []
    for t_code, b_code, count in counts.itertuples(index=False):
        group = differ[(differ["title_isco"] == t_code) & (differ["beruf_isco"] == b_code)]
        example = (
            group.groupby(["titel", "beruf", "title_label", "beruf_label"]).size()
            .sort_values(ascending=False, kind="stable").index[0]
        )
        titel, beruf, t_label, b_label = example
        rows.append({
            "count": int(count),
            "title_isco": t_code,
            "title_isco_label": isco_label(taxonomy, t_code),
            "beruf_isco": b_code,
            "beruf_isco_label": isco_label(taxonomy, b_code),
            "example_beruf": beruf,
            "example_title_esco_occupation": t_label,
            "example_beruf_esco_occupation": b_label,
        })
        lines.append(
            f"{count:5d}  {t_code} {isco_label(taxonomy, t_code)[:34]:34s} vs {b_code} "
            f"{isco_label(taxonomy, b_code)[:34]:34s}  e.g. {titel[:50]!r} -> {t_label!r}; "
            f"{beruf!r} -> {b_label!r}"
        )
    return rows, lines


def run(ads_path: Path = ADS_PATH) -> tuple[dict[str, Any], list[str]]:
    """Resolve titles and agency occupations, compare, and time the batch resolution."""
    ads = read_ads(ads_path)
    titles = ads["titel"].tolist()
    berufe = ads["beruf"].tolist()
    timings: dict[str, float] = {}

    clock = time.perf_counter()
    taxonomy = Taxonomy.load()
    timings["taxonomy_load_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    taxonomy.resolve_occupation("Koch")  # builds the occupation resolver index
    timings["resolver_index_build_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    title_res = taxonomy.resolve_occupations(titles)
    timings["title_batch_s"] = time.perf_counter() - clock
    timings["titles_per_s"] = len(titles) / timings["title_batch_s"]
    unique_berufe = sorted(set(berufe))
    clock = time.perf_counter()
    beruf_map = dict(zip(unique_berufe, taxonomy.resolve_occupations(unique_berufe),
                         strict=True))
    timings["beruf_batch_s"] = time.perf_counter() - clock
    beruf_res = [beruf_map[b] for b in berufe]

    def codes(resolutions: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        isco = np.array([r.concept.isco_code or "" if r.concept else "" for r in resolutions],
                        dtype=object)
        label = np.array([r.concept.label_en if r.concept else "" for r in resolutions],
                         dtype=object)
        return isco, label

    t_isco, t_label = codes(title_res)
    b_isco, b_label = codes(beruf_res)
    pipeline = agreement(t_isco, b_isco)
    t_concept = np.array([r.concept.uri if r.concept else "" for r in title_res], dtype=object)
    b_concept = np.array([r.concept.uri if r.concept else "" for r in beruf_res], dtype=object)
    pipeline["same_esco_occupation_share"] = round(
        float(((t_concept != "") & (t_concept == b_concept)).mean()), 4
    )

    clock = time.perf_counter()
    labels, label_occupation, occupation_isco = esco_label_table()
    unique_titles = sorted(set(titles))
    queries = unique_titles + unique_berufe
    index, _ = nearest_label(queries, labels, analyzer="char_wb", ngram_range=(3, 5))
    timings["baseline_s"] = time.perf_counter() - clock
    found = np.where(index >= 0, occupation_isco[label_occupation[np.maximum(index, 0)]], "")
    nearest = dict(zip(queries[: len(unique_titles)], found[: len(unique_titles)], strict=True))
    nearest_beruf = dict(zip(unique_berufe, found[len(unique_titles) :], strict=True))
    baseline = agreement(
        np.array([nearest[t] for t in titles], dtype=object),
        np.array([nearest_beruf[b] for b in berufe], dtype=object),
    )

    baseline_t = np.array([nearest[t] for t in titles], dtype=object)
    baseline_b = np.array([nearest_beruf[b] for b in berufe], dtype=object)
    resolved_both = (t_isco != "") & (b_isco != "")
    baseline["isco4_agreement_on_rows_pipeline_resolved"] = round(
        float((baseline_t[resolved_both] == baseline_b[resolved_both]).mean()), 4
    ) if resolved_both.any() else float("nan")
    pipeline["isco4_agreement_by_title_confidence"] = by_confidence(
        np.array([r.confidence for r in title_res]), t_isco, b_isco
    )
    unresolved = pd.Series(berufe)[b_isco == ""].value_counts().head(N_UNRESOLVED)
    pipeline["commonest_unresolved_berufe"] = [
        {"beruf": name, "ads": int(count)} for name, count in unresolved.items()
    ]

    rows, lines = disagreements(ads, t_isco, b_isco, t_label, b_label, taxonomy)
    unresolved_titles = pd.Series(titles)[t_isco == ""].value_counts().head(N_UNRESOLVED)
    lines = [*lines, "", f"{N_UNRESOLVED} commonest unresolved titles:"] + [
        f"{count:5d}  {title[:70]!r}" for title, count in unresolved_titles.items()
    ]
    result = {
        "data": {
            "source": "../shared/data/job-ads-ba-bamberg/Bamberg_jobs_100km.csv.gz "
                      "(internal test data, not copied into the project)",
            "ads_with_title_and_beruf": len(ads),
            "distinct_titles": len(unique_titles),
            "distinct_berufe": len(unique_berufe),
        },
        "taxonomy": taxonomy.version,
        "pipeline": pipeline,
        "baseline_char_tfidf_nearest_label": baseline
        | {"labels": len(labels), "analyzer": "char_wb", "ngram_range": [3, 5]},
        "commonest_disagreements": rows,
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
    return result, lines


def print_report(result: Mapping[str, Any], lines: Sequence[str]) -> None:
    """Print the agreement table, the timings and the disagreements."""
    data = result["data"]
    print(
        f"Title normalisation: {data['ads_with_title_and_beruf']} ads "
        f"({data['distinct_titles']} distinct titles, {data['distinct_berufe']} distinct "
        "agency occupations)"
    )
    keys = (
        "title_unresolved_share", "beruf_unresolved_share", "both_resolved_share",
        "isco4_agreement_all_rows", "isco4_agreement_both_resolved",
        "isco3_agreement_all_rows", "isco3_agreement_both_resolved",
    )  # fmt: skip
    print(f"\n{'':32s}{'pipeline':>12s}{'char TF-IDF':>14s}")
    for key in keys:
        print(f"{key:32s}{result['pipeline'][key]:12.2%}"
              f"{result['baseline_char_tfidf_nearest_label'][key]:14.2%}")
    print(f"{'same_esco_occupation_share':32s}"
          f"{result['pipeline']['same_esco_occupation_share']:12.2%}")
    t = result["timings"]
    print(f"\nbatch resolution: {t['titles_per_s']:.0f} titles/s "
          f"({data['ads_with_title_and_beruf']} titles in {t['title_batch_s']:.1f} s; "
          f"resolver index built in {t['resolver_index_build_s']:.1f} s)")
    print(f"\n{N_DISAGREEMENTS} commonest disagreements (title ISCO vs agency-occupation ISCO):")
    for line in lines:
        print(line)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the figures and write them as JSON."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parse_args(argv)  # --help
    if not ADS_PATH.is_file():
        print("skipped: ../shared/data absent (needs ../shared/data/job-ads-ba-bamberg)")
        return 0
    clock = time.perf_counter()
    result, lines = run()
    result["timings"]["total_s"] = round(time.perf_counter() - clock, 3)
    print_report(result, lines)
    path = write_results("title_normalisation", result)
    print(f"\nwritten: benchmarks/results/{path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
