"""HTTP load generator for :mod:`benchmarks.bench_http`, run as a second process.

It reads a plan (JSON) naming the base URL and a list of ``(path, token)`` requests,
sends them with ``concurrency`` keep-alive connections (one thread and one
:class:`httpx.Client` per connection), and prints one JSON object with the latencies
and the status counts. Every loop is bounded: by the number of requests in the plan
and by ``max_seconds``. Only loopback URLs are accepted.

Usage::

    python -m benchmarks.loadgen PLAN.json --concurrency 1 --requests 2000 \
        --warmup 100 --max-seconds 120
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np

__all__ = ["LOOPBACK_HOSTS", "main", "run_load", "summarise"]

#: Hosts the generator is allowed to send traffic to.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def summarise(latencies_s: list[float], statuses: Counter[int], wall_s: float) -> dict[str, Any]:
    """Summarise one run: percentiles in milliseconds, throughput and status counts.

    Parameters
    ----------
    latencies_s : list of float
        Latency of each measured request, in seconds.
    statuses : Counter
        HTTP status (0 for a transport error) to count.
    wall_s : float
        Wall-clock time of the measured part.

    Returns
    -------
    dict
    """
    values = np.asarray(latencies_s, dtype=float) * 1e3
    out: dict[str, Any] = {
        "n": int(values.size),
        "wall_s": round(wall_s, 3),
        "requests_per_s": round(values.size / wall_s, 1) if wall_s > 0 else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }
    if values.size:
        out.update(
            p50_ms=round(float(np.percentile(values, 50)), 3),
            p90_ms=round(float(np.percentile(values, 90)), 3),
            p99_ms=round(float(np.percentile(values, 99)), 3),
            max_ms=round(float(values.max()), 3),
            mean_ms=round(float(values.mean()), 3),
        )
    return out


def run_load(
    base_url: str,
    requests: list[tuple[str, str]],
    *,
    concurrency: int,
    warmup: int,
    max_seconds: float,
    timeout_s: float = 10.0,
) -> dict[str, Any]:
    """Send ``requests`` (after ``warmup`` unmeasured ones) over ``concurrency`` connections.

    Parameters
    ----------
    base_url : str
        ``http://127.0.0.1:<port>``; any other host is refused.
    requests : list of (str, str)
        ``(path with query, bearer token)``; the first ``warmup`` are not measured.
    concurrency : int
        Number of connections (threads), each with its own keep-alive client.
    warmup : int
        Requests sent first and left out of the figures.
    max_seconds : float
        Stop sending after this long (the figures then cover fewer requests).
    timeout_s : float, default=10.0
        Time-out of each request.

    Returns
    -------
    dict
        :func:`summarise` of the measured part.

    Raises
    ------
    ValueError
        ``base_url`` is not a loopback address or ``concurrency`` is below 1.
    """
    host = urlsplit(base_url).hostname
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"load goes only to the loopback address, not {host!r}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    warm, measured = requests[:warmup], requests[warmup:]
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    def worker(part: list[tuple[str, str]], record: bool, deadline: float) -> None:
        local: list[float] = []
        local_status: Counter[int] = Counter()
        with httpx.Client(base_url=base_url, limits=limits, timeout=timeout_s) as client:
            for path, token in part:
                if time.monotonic() > deadline:
                    break
                start = time.perf_counter()
                try:
                    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
                    response.read()
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                elapsed = time.perf_counter() - start
                local.append(elapsed)
                local_status[status] += 1
        if record:
            with lock:
                latencies.extend(local)
                statuses.update(local_status)

    def phase(items: list[tuple[str, str]], record: bool) -> float:
        deadline = time.monotonic() + max_seconds
        parts = [items[i::concurrency] for i in range(concurrency)]
        threads = [
            threading.Thread(target=worker, args=(part, record, deadline), daemon=True)
            for part in parts
        ]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max_seconds + 2 * timeout_s + 5)
        return time.perf_counter() - start

    if warm:
        phase(warm, record=False)
    wall = phase(measured, record=True)
    return summarise(latencies, statuses, wall)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; prints the summary as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", type=Path, help="JSON: {base_url, requests: [[path, token]]}")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--requests", type=int, default=None, help="measured requests")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    args = parser.parse_args(argv)
    plan = json.loads(args.plan.read_text(encoding="utf-8"))
    items = [(str(p), str(t)) for p, t in plan["requests"]]
    wanted = args.warmup + (args.requests if args.requests is not None else len(items))
    if wanted > len(items):
        items = (items * (wanted // max(1, len(items)) + 1))[:wanted]
    result = run_load(
        plan["base_url"],
        items[:wanted],
        concurrency=args.concurrency,
        warmup=args.warmup,
        max_seconds=args.max_seconds,
    )
    result["concurrency"] = args.concurrency
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
