"""Flood isolation: one user floods, another user's p99 latency, with the per-user rate
limit of the default settings and without it.

Usage::

    python -m benchmarks.bench_flood                      # ~4 min
    python -m benchmarks.bench_flood --seconds 20 --limits default

What it does: fills a fresh SQLite database with a demo market (see
:func:`benchmarks.bench_http.prepare_market`), starts ``jobmatch serve`` on 127.0.0.1 and
measures one coach ("the neighbour") asking for the matches of their participants at a
steady pace (``--neighbour-rate`` requests per second, far below the limit), first alone,
then while another coach ("the flooder") sends the same kind of request as fast as
``--flooders`` keep-alive connections allow, from a second process
(:mod:`benchmarks.loadgen`). This is done twice: with the service's default rate limit
(``JOBMATCH_RATE_LIMIT_PER_SECOND`` unset) and with it switched off (``0``), or with the
rates given in ``--limits``. The figure is
the neighbour's p99 during the flood divided by the p99 alone (target: at most 1.5).
Writes ``benchmarks/results/flood.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks._common import write_results
from benchmarks.bench_http import ROOT, Server, prepare_market

__all__ = ["main", "paced"]


def paced(
    base_url: str, requests: list[tuple[str, str]], *, rate: float, seconds: float
) -> dict[str, Any]:
    """Send ``requests`` (cycled) one at a time at ``rate`` per second for ``seconds``.

    Parameters
    ----------
    base_url : str
    requests : list of (str, str)
        ``(path, bearer token)``.
    rate : float
        Requests started per second (a request that takes longer delays the next).
    seconds : float

    Returns
    -------
    dict
        ``n``, status counts and p50/p90/p99/max latency in milliseconds.
    """
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    start = time.monotonic()
    with httpx.Client(base_url=base_url, timeout=30) as client:
        n = 0
        while time.monotonic() - start < seconds:
            path, token = requests[n % len(requests)]
            due = start + n / rate
            time.sleep(max(0.0, due - time.monotonic()))
            sent = time.perf_counter()
            try:
                status = client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code
            except httpx.HTTPError:
                status = 0
            latencies.append(time.perf_counter() - sent)
            statuses[status] += 1
            n += 1
    values = np.asarray(latencies) * 1e3
    return {
        "n": int(values.size),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p90_ms": round(float(np.percentile(values, 90)), 2),
        "p99_ms": round(float(np.percentile(values, 99)), 2),
        "max_ms": round(float(values.max()), 2),
    }


def _defaults() -> tuple[float, int]:
    from service.settings import Settings

    fields = Settings.model_fields
    return fields["rate_limit_per_second"].default, fields["rate_limit_burst"].default


def _default_limit() -> str:
    rate, burst = _defaults()
    return f"default: {rate:g}/s, burst {burst}"


def _flood(base_url: str, requests: list[tuple[str, str]], work: Path, *, flooders: int,
           seconds: float) -> subprocess.Popen[str]:  # fmt: skip
    plan = work / "flood-plan.json"
    plan.write_text(json.dumps({"base_url": base_url, "requests": requests}), encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.loadgen", str(plan), "--concurrency", str(flooders),
         "--requests", "10000000", "--warmup", "0", "--max-seconds", str(seconds)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def _run(
    label: str,
    limit: str | None,
    market: Any,
    neighbour: list[tuple[str, str]],
    flooder: list[tuple[str, str]],
    work: Path,
    args: argparse.Namespace,
) -> dict[str, Any]:
    saved = os.environ.get("JOBMATCH_RATE_LIMIT_PER_SECOND")
    # Given explicitly: the benchmarks' Server switches the limit off when it is unset.
    os.environ["JOBMATCH_RATE_LIMIT_PER_SECOND"] = str(_defaults()[0] if limit is None else limit)
    log = work / f"service-{label.replace('/', '-')}.log"
    server = Server(market.database_url, args.workers, log)
    try:
        server.wait_ready(300)
        paced(server.base_url, neighbour, rate=args.neighbour_rate, seconds=3)  # warm-up
        load_before = os.getloadavg()[0]
        alone = paced(server.base_url, neighbour, rate=args.neighbour_rate, seconds=args.seconds)
        flood = _flood(server.base_url, flooder, work, flooders=args.flooders,
                       seconds=args.seconds + 3)  # fmt: skip
        time.sleep(1.5)  # the flood is under way
        during = paced(server.base_url, neighbour, rate=args.neighbour_rate, seconds=args.seconds)
        out, _ = flood.communicate(timeout=args.seconds + 120)
        flooded = json.loads(out.strip().splitlines()[-1])
    finally:
        server.stop()
        if saved is None:
            os.environ.pop("JOBMATCH_RATE_LIMIT_PER_SECOND", None)
        else:
            os.environ["JOBMATCH_RATE_LIMIT_PER_SECOND"] = saved
    ratio = during["p99_ms"] / alone["p99_ms"]
    result = {
        "rate_limit_per_second": _default_limit() if limit is None else float(limit),
        "neighbour_alone": alone,
        "neighbour_during_flood": during,
        "p99_ratio": round(ratio, 2),
        "flooder": {k: flooded.get(k) for k in ("n", "requests_per_s", "statuses", "p50_ms")},
        "loadavg_1min_before": round(load_before, 2),
    }
    print(
        f"{label:9s} neighbour p99 alone {alone['p99_ms']:.1f} ms, during the flood "
        f"{during['p99_ms']:.1f} ms (x{ratio:.2f}); neighbour statuses {during['statuses']}; "
        f"flooder {flooded.get('requests_per_s')} req/s, statuses {flooded.get('statuses')}"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--vacancies", type=int, default=2000)
    parser.add_argument("--employers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=45.0, help="per phase")
    parser.add_argument("--neighbour-rate", type=float, default=5.0)
    parser.add_argument("--flooders", type=int, default=8, help="connections of the flooder")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--limits", default="default,0",
                        help="rate limits to compare (requests/s per user; 'default': the "
                        "service's default, 0: off)")  # fmt: skip
    parser.add_argument("--output", default="flood")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="jobmatch-flood-") as tmp:
        work = Path(tmp)
        market = prepare_market(work, args.participants, args.vacancies, args.employers)
        by_token: dict[str, list[tuple[str, str]]] = {}
        for path, token in market.coach_requests:
            by_token.setdefault(token, []).append((path, token))
        ranked = sorted(by_token.values(), key=len, reverse=True)
        neighbour, flooder = ranked[0], ranked[1]
        runs = {}
        for limit in args.limits.split(","):
            label = {"default": "default", "0": "off"}.get(limit, f"{limit}/s")
            value = None if limit == "default" else limit
            runs[label] = _run(label, value, market, neighbour, flooder, work, args)
    payload = {
        "market": {"participants": market.participants, "vacancies": market.vacancies},
        "seconds_per_phase": args.seconds,
        "neighbour_rate_per_s": args.neighbour_rate,
        "flooder_connections": args.flooders,
        "workers": args.workers,
        "target": "neighbour p99 during the flood <= 1.5 x its p99 alone",
        "runs": runs,
    }
    print(f"wrote {write_results(args.output, payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
