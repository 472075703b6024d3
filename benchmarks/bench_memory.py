"""Peak resident memory of the service at 50,000 participants x 20,000 vacancies.

Two measurements on the same database (filled by :func:`benchmarks.bench_http.prepare_market`
through the service's demo loader):

1. **The service.** ``jobmatch serve`` with one worker (:class:`benchmarks.bench_http.Server`)
   until ready, then coach ``matches`` and employer ``candidates`` requests (a different
   participant or vacancy each) and type-ahead look-ups (``GET /taxonomy/skills?q=`` and
   ``/taxonomy/occupations?q=``, which need the free-text resolver). The figure is the
   worker's ``VmHWM`` (peak resident set) from ``/proc/<pid>/status``, read at the end;
   the target of "The HTTP service" is 1 GB.
2. **Where it goes.** A fresh process repeats what a worker does, stage by stage, and
   records ``VmRSS`` and ``VmHWM`` after each: imports, taxonomy and geocoder, the index
   load (vacancies, then participants, read and built chunk by chunk), the first requests
   to the matcher, the free-text resolver. The stages run the service's own code
   (:meth:`service.scoring.ScoringIndex.load`); the builders are wrapped only to take
   the readings.

Usage::

    python -m benchmarks.bench_memory                      # writes results/memory.json
    python -m benchmarks.bench_memory --sizes small,large
    python -m benchmarks.bench_memory --database sqlite:///path/jobmatch.db  # reuse a market
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import write_results
from benchmarks.bench_http import (
    SIZES,
    TARGETS,
    Market,
    Server,
    _proc_status,
    prepare_market,
    run_loadgen,
)

__all__ = ["main", "service_peak", "stages"]

ROOT = Path(__file__).resolve().parents[1]

#: Typed text for the type-ahead routes (German and English, partial words).
_QUERIES = ("Stapler", "Lagerhelfer", "Kasse", "Reinigung", "Pflege", "Koch", "forklift",
            "Verkäufer", "Elektro", "Kommissionier")  # fmt: skip


def _reading(step: str, start: float) -> dict[str, Any]:
    gc.collect()
    status = _proc_status(os.getpid())
    return {
        "step": step,
        "vm_rss_mb": round(status.get("VmRSS", 0) / 1024, 1),
        "vm_hwm_mb": round(status.get("VmHWM", 0) / 1024, 1),
        "seconds": round(time.perf_counter() - start, 1),
    }


def stages(database_url: str) -> list[dict[str, Any]]:
    """Replay a worker's start and first requests in this process, reading memory after each.

    Run it in a fresh process (``--stages URL``): the readings include everything the
    process holds.

    Returns
    -------
    list of dict
        ``{"step", "vm_rss_mb", "vm_hwm_mb", "seconds"}`` per stage.
    """
    start = time.perf_counter()
    steps: list[dict[str, Any]] = []

    import service.app  # noqa: F401  (what a worker imports)

    steps.append(_reading("imports (service.app)", start))

    import matching.index as index_module
    from service.context import Services
    from service.db import Database
    from service.settings import Settings

    db = Database(database_url)
    services = Services(Settings(database_url=database_url), db, migrate=False)
    steps.append(_reading("taxonomy, geocoder, services", start))

    # Readings after each table; code without the chunked build gets the load's total.
    build_chunked = getattr(index_module, "_build_chunked", None)
    names = {"build_vacancies": "vacancies", "build_participants": "participants"}

    def wrapped(build: Any, *args: Any, **kwargs: Any) -> Any:
        assert build_chunked is not None
        block = build_chunked(build, *args, **kwargs)
        what = names.get(build.__name__, build.__name__)
        steps.append(_reading(f"{what} read and built, chunk by chunk ({len(block)} rows)",
                              start))  # fmt: skip
        return block

    if build_chunked is not None:
        index_module._build_chunked = wrapped
    try:
        services.index.load()
    finally:
        if build_chunked is not None:
            index_module._build_chunked = build_chunked
    steps.append(_reading("index loaded (ScoringIndex.load returned)", start))
    matcher = services.index.require()
    state = matcher.state_
    participants = list(state.participants.position)[:50]
    vacancies = list(state.vacancies.position)[:50]
    for pid in participants:
        matcher.match_participant(pid, limit=10)
    steps.append(_reading(f"{len(participants)} match_participant calls", start))
    for vid in vacancies:
        matcher.match_vacancy(vid, limit=10)
    steps.append(_reading(f"{len(vacancies)} match_vacancy calls", start))
    taxonomy = services.taxonomy
    taxonomy.resolve_skills(["Gabelstapler fahren", "Kundenberatung"])
    taxonomy.resolve_occupations(["Lagerhelfer/in (m/w/d)"])
    steps.append(_reading("free-text resolver built (resolve)", start))
    for query in _QUERIES:
        taxonomy.search_skills(query, 10)
        taxonomy.search_occupations(query, 10)
    steps.append(_reading("type-ahead search index built (search)", start))
    db.dispose()
    return steps


def service_peak(market: Market, directory: Path, *, requests: int, seed: int) -> dict[str, Any]:
    """Peak resident memory of a one-worker service under requests of every kind.

    Returns
    -------
    dict
        Memory after start and at the end (``VmHWM`` and ``VmRSS`` per process), the
        request counts and their status codes.
    """
    server = Server(market.database_url, 1, directory / "service.log")
    out: dict[str, Any] = {}
    try:
        out["ready_s"] = round(server.wait_ready(1800), 1)
        out["memory_after_start"] = server.memory_mb()
        token = market.coach_requests[0][1]
        rng = random.Random(seed)
        lookups = [
            (f"/api/v1/taxonomy/{kind}?q={query}&limit=10", token)
            for kind in ("skills", "occupations")
            for query in _QUERIES
        ]
        rng.shuffle(lookups)
        plan = {
            "coach_matches": market.coach_requests[:requests],
            "employer_candidates": market.employer_requests[:requests],
            "taxonomy_lookups": lookups,
        }
        for name, items in plan.items():
            result = run_loadgen(
                server.base_url, items, directory, concurrency=1, measured=len(items),
                warmup=0, max_seconds=600,
            )  # fmt: skip
            out[name] = {"n": result.get("n"), "statuses": result.get("statuses"),
                         "p50_ms": result.get("p50_ms")}  # fmt: skip
            print(f"  {name}: {out[name]}", flush=True)
        out["memory_at_end"] = server.memory_mb()
    finally:
        server.stop()
    workers = [m for m in out["memory_at_end"].values() if m["role"] == "worker"]
    out["peak_vm_hwm_mb"] = max(m["vm_hwm_mb"] for m in workers)
    return out


def _measure(name: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    n_participants, n_vacancies, n_employers = SIZES[name]
    directory = work / name
    directory.mkdir(parents=True, exist_ok=True)
    print(f"{name}: {n_participants} participants x {n_vacancies} vacancies", flush=True)
    if args.database:
        market = _existing_market(args.database, args.seed)
    else:
        market = prepare_market(directory, n_participants, n_vacancies, n_employers,
                                seed=args.seed)  # fmt: skip
        print(f"  database filled in {market.setup_s} s", flush=True)
    out: dict[str, Any] = {
        "participants": n_participants,
        "vacancies": n_vacancies,
        "active_participants": market.participants,
        "open_vacancies": market.vacancies,
    }
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_memory", "--stages", market.database_url],
        cwd=ROOT, capture_output=True, text=True, timeout=3600, check=True,
    )  # fmt: skip
    out["stages"] = json.loads(run.stdout.strip().splitlines()[-1])
    for step in out["stages"]:
        print(f"  {step['step']:62s} RSS {step['vm_rss_mb']:7.1f} MB  "
              f"peak {step['vm_hwm_mb']:7.1f} MB  {step['seconds']:6.1f} s",
              flush=True)  # fmt: skip
    out["service"] = service_peak(market, directory, requests=args.requests, seed=args.seed)
    peak = out["service"]["peak_vm_hwm_mb"]
    target = TARGETS.get(name, {}).get("vm_hwm_mb")
    out["target_vm_hwm_mb"] = target
    print(f"  service, one worker: peak resident memory (VmHWM) {peak} MB"
          + (f" (target <= {target:.0f} MB)" if target else ""), flush=True)  # fmt: skip
    return out


def _existing_market(database_url: str, seed: int) -> Market:
    """The requests of a database filled earlier by :func:`prepare_market`."""
    from sqlalchemy import select, update

    from service.auth import Role, create_user, hash_token, new_token
    from service.db import Database
    from service.models import Participant, User, Vacancy

    db = Database(database_url)
    with db.session() as session:
        coach_tokens: dict[int, str] = {}
        for user_id in session.scalars(select(User.id).where(User.role == Role.COACH.value)):
            token = new_token()
            session.execute(
                update(User).where(User.id == user_id).values(token_hash=hash_token(token))
            )
            coach_tokens[int(user_id)] = token
        session.commit()
        participants = session.execute(
            select(Participant.id, Participant.coach_id).where(Participant.active.is_(True))
        ).all()
        vacancies = session.execute(
            select(Vacancy.id, Vacancy.employer_id).where(Vacancy.status == "open")
        ).all()
        employer_tokens: dict[int, str] = {}
        for employer_id in sorted({int(e) for _, e in vacancies}):
            _, token = create_user(
                session, name=f"bench-memory-{employer_id}-{new_token()[:8]}",
                role=Role.EMPLOYER, employer_id=employer_id,
            )  # fmt: skip
            employer_tokens[employer_id] = token
    db.dispose()
    rng = random.Random(seed)
    coach = [(f"/api/v1/participants/{p}/matches?limit=10", coach_tokens[int(c)])
             for p, c in participants if c is not None and int(c) in coach_tokens]  # fmt: skip
    employer = [(f"/api/v1/vacancies/{v}/candidates?limit=10", employer_tokens[int(e)])
                for v, e in vacancies]  # fmt: skip
    rng.shuffle(coach)
    rng.shuffle(employer)
    return Market(database_url, coach, employer, 0.0, len(participants), len(vacancies))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write ``benchmarks/results/memory.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="large", help="comma-separated: small,large")
    parser.add_argument("--requests", type=int, default=500, help="per route")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database", default=None,
                        help="a database filled earlier by prepare_market (one size only)")
    parser.add_argument("--stages", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stages:
        sys.stdout.write(json.dumps(stages(args.stages)) + "\n")
        return 0
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}; known: {sorted(SIZES)}")
    if args.database and len(sizes) != 1:
        parser.error("--database needs exactly one size")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="jobmatch-bench-memory-") as tmp:
        for name in sizes:
            results[name] = _measure(name, args, Path(tmp))
    path = write_results("memory", {
        "what": "peak resident memory (VmHWM) of a one-worker service, and the stages of "
                "a worker's start replayed in a fresh process",
        "loadavg_at_end": os.getloadavg(),
        "sizes": results,
    })  # fmt: skip
    print(f"written {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
