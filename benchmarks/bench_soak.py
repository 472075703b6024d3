"""Soak: a realistic mix at half the measured saturation throughput, on SQLite and on
PostgreSQL, with errors, p99 and the workers' resident memory over time.

Usage::

    python -m benchmarks.bench_soak                         # 10 minutes per database
    python -m benchmarks.bench_soak --minutes 2             # a short run
    python -m benchmarks.bench_soak --databases sqlite      # without PostgreSQL

PostgreSQL is reached through ``--postgres-url`` or ``JOBMATCH_TEST_POSTGRES_URL``
(``postgresql+psycopg://postgres@127.0.0.1:5432/test``); a database of its own is
created there and dropped afterwards.

What it does, per database: fills it with the demo market through the service's loader
(as :func:`benchmarks.bench_http.prepare_market` does), hands the participants to one
coach per 50 (the demo has two) and creates one employer user per employer, starts
``jobmatch serve --workers 2`` on 127.0.0.1 with the default settings (the per-user rate
limit included), and sends a mix of 70 %
coach matches (``GET /participants/{id}/matches?limit=10``), 20 % employer shortlists
(``GET /vacancies/{id}/candidates?limit=10``) and 10 % writes (a coach changes a
participant's ``max_commute_minutes`` with ``PATCH /participants/{id}``). First the
saturation throughput: ``--concurrency`` connections as fast as they go for
``--saturation-seconds``; then the soak: the same mix at half that rate, requests started
on a fixed schedule (open loop) over the same number of connections, for ``--minutes``.
The requests are sent by ``wrk`` with ``benchmarks/wrk_mix.lua`` where wrk is installed
(``--load-generator``), otherwise by Python threads with httpx, which take about 1 ms of
CPU per request from the two cores the service runs on.
Every answer other than 2xx, and every transport error, is an error. The workers'
``VmRSS`` is sampled every 5 s; the growth is the last sample against the first sample
after the first minute of the soak (warm-up: caches and pools filling). Load goes only
to 127.0.0.1. Writes ``benchmarks/results/soak.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks._common import write_results
from benchmarks.bench_http import Server, _DistinctResolver, _proc_status

__all__ = ["Request", "main", "run_mix"]

#: Shares of the mix.
MIX = (("coach_matches", 0.7), ("employer_shortlist", 0.2), ("write", 0.1))


@dataclass(frozen=True)
class Request:
    """One request of the mix."""

    kind: str
    method: str
    path: str
    token: str
    body: dict[str, Any] | None = None


@dataclass
class _Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            self.statuses[f"{kind}:{status}"] += 1
            if not 200 <= status < 300:
                self.errors[f"{kind}:{status}"] += 1


def _send(client: httpx.Client, request: Request) -> int:
    headers = {"Authorization": f"Bearer {request.token}"}
    try:
        return client.request(request.method, request.path, headers=headers,
                              json=request.body).status_code  # fmt: skip
    except httpx.HTTPError:
        return 0


def run_mix(
    base_url: str,
    requests: list[Request],
    *,
    concurrency: int,
    seconds: float,
    rate: float | None = None,
) -> dict[str, Any]:
    """Send ``requests`` (cycled) over ``concurrency`` keep-alive connections.

    Parameters
    ----------
    base_url : str
        Must be a loopback URL.
    requests : list of Request
    concurrency : int
    seconds : float
    rate : float, optional
        Requests started per second in total, on a fixed schedule (open loop); as fast
        as the answers come when None (closed loop, for the saturation throughput).

    Returns
    -------
    dict
        Requests per second, errors, status counts and latency percentiles per kind.
    """
    if not base_url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError("load goes only to the loopback address")
    tally = _Tally()
    start = time.monotonic()
    late = [0.0] * concurrency

    def worker(index: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            k = 0
            while True:
                n = k * concurrency + index
                if rate is not None:
                    due = start + n / rate
                    wait = due - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    else:
                        late[index] = max(late[index], -wait)
                if time.monotonic() - start >= seconds:
                    return
                request = requests[n % len(requests)]
                sent = time.perf_counter()
                status = _send(client, request)
                tally.add(request.kind, status, time.perf_counter() - sent)
                k += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return _summary(tally, time.monotonic() - start, rate, max(late), "python")


def _summary(tally: _Tally, wall: float, rate: float | None, lag: float,
             generator: str) -> dict[str, Any]:  # fmt: skip
    """One run's figures: throughput, errors, statuses and latency percentiles per kind."""
    every = [s for values in tally.latencies.values() for s in values]
    out: dict[str, Any] = {
        "seconds": round(wall, 1),
        "requests": len(every),
        "requests_per_s": round(len(every) / wall, 1),
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors),
        "statuses": dict(sorted(tally.statuses.items())),
        "all": _percentiles(every),
        "by_kind": {kind: _percentiles(v) for kind, v in sorted(tally.latencies.items())},
        "load_generator": generator,
    }
    if rate is not None:
        out["target_rate_per_s"] = round(rate, 1)
        out["largest_lag_behind_schedule_s"] = round(lag, 3)
    return out


_WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_mix.lua"


def run_mix_wrk(
    base_url: str,
    requests: list[Request],
    directory: Path,
    *,
    concurrency: int,
    seconds: float,
    rate: float | None = None,
) -> dict[str, Any]:
    """As :func:`run_mix`, with ``wrk`` and ``benchmarks/wrk_mix.lua`` sending.

    One wrk thread per connection. A generator in C spends about a tenth of the CPU per
    request that the Python one does, and it shares the two cores with the service.
    """
    if not base_url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError("load goes only to the loopback address")
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed")
    plan = directory / "mix.tsv"
    plan.write_text("".join(
        f"{r.kind}\t{r.method}\t{r.path}\t{r.token}\t"
        f"{json.dumps(r.body, separators=(',', ':')) if r.body is not None else ''}\n"
        for r in requests
    ), encoding="utf-8")  # fmt: skip
    log = directory / "mix-latencies.tsv"
    env = dict(os.environ, WRK_PLAN=str(plan), WRK_THREADS=str(concurrency), WRK_OUT=str(log),
               WRK_RATE=str(rate or 0), WRK_START=str(time.monotonic() + 0.5))  # fmt: skip
    out = subprocess.run(
        [wrk, f"-t{concurrency}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s",
         "--timeout", "30s", "-s", str(_WRK_SCRIPT), base_url],
        env=env, capture_output=True, text=True, timeout=seconds + 120, check=True,
    )  # fmt: skip
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    tally = _Tally()
    for line in log.read_text(encoding="utf-8").splitlines():
        kind, status, ms = line.split("\t")
        tally.add(kind, int(status), float(ms) / 1e3)
    if summary["socket_errors"]:
        tally.errors["transport"] += summary["socket_errors"]
    return _summary(tally, summary["wall_s"], rate, summary["largest_lag_s"], "wrk")


def _percentiles(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {}
    values = np.asarray(seconds) * 1e3
    return {"n": int(values.size), "p50_ms": round(float(np.percentile(values, 50)), 2),
            "p99_ms": round(float(np.percentile(values, 99)), 2),
            "max_ms": round(float(values.max()), 2)}  # fmt: skip


def prepare(url: str, *, participants: int, vacancies: int, employers: int,
            seed: int = 0) -> tuple[list[Request], float]:  # fmt: skip
    """Fill the database at ``url`` with the demo market and return a shuffled mix.

    Returns
    -------
    (list of Request, float)
        100,000 requests in the shares of :data:`MIX`, and the seconds the filling took.
    """
    from sqlalchemy import select, update

    import service.demo as demo
    from service.auth import Role, create_user
    from service.db import Database, upgrade_database
    from service.models import Participant, Vacancy
    from service.settings import Settings

    start = time.perf_counter()
    db = Database(url, timeout_seconds=30)
    upgrade_database(db.engine)
    original = demo.Resolver
    demo.Resolver = _DistinctResolver  # type: ignore[misc,assignment]
    try:
        demo.load_demo(db, Settings(database_url=url), force=True, random_state=seed,
                       n_employers=employers, n_vacancies=vacancies,
                       n_participants=participants)  # fmt: skip
    finally:
        demo.Resolver = original  # type: ignore[misc]
    coach_tokens: dict[int, str] = {}
    employer_tokens: dict[int, str] = {}
    with db.session() as session:
        # The demo has two coaches; a coach looks after about 50 participants.
        for k in range(max(2, participants // 50)):
            user, token = create_user(session, name=f"soak-coach-{k}", role=Role.COACH)
            coach_tokens[int(user.id)] = token
        ids = sorted(coach_tokens)
        all_participants = list(session.scalars(select(Participant.id)))
        for n, pid in enumerate(all_participants):
            session.execute(update(Participant).where(Participant.id == pid)
                            .values(coach_id=ids[n % len(ids)]))  # fmt: skip
        session.commit()
        open_vacancies = session.execute(
            select(Vacancy.id, Vacancy.employer_id).where(Vacancy.status == "open")
        ).all()
        for employer_id in sorted({int(e) for _, e in open_vacancies}):
            _, employer_tokens[employer_id] = create_user(
                session, name=f"soak-employer-{employer_id}", role=Role.EMPLOYER,
                employer_id=employer_id,
            )  # fmt: skip
        owned = [
            (int(pid), coach_tokens[int(cid)])
            for pid, cid in session.execute(
                select(Participant.id, Participant.coach_id).where(Participant.active.is_(True))
            )
            if cid is not None and int(cid) in coach_tokens
        ]
    db.dispose()
    rng = random.Random(seed)
    kinds = [kind for kind, _ in MIX]
    weights = [share for _, share in MIX]
    requests = []
    for kind in rng.choices(kinds, weights, k=100_000):
        if kind == "employer_shortlist":
            vid, eid = rng.choice(open_vacancies)
            requests.append(Request(kind, "GET", f"/api/v1/vacancies/{vid}/candidates?limit=10",
                                    employer_tokens[int(eid)]))  # fmt: skip
            continue
        pid, token = rng.choice(owned)
        if kind == "coach_matches":
            requests.append(Request(kind, "GET", f"/api/v1/participants/{pid}/matches?limit=10",
                                    token))  # fmt: skip
        else:
            requests.append(Request(kind, "PATCH", f"/api/v1/participants/{pid}", token,
                                    {"max_commute_minutes": rng.randint(30, 90)}))  # fmt: skip
    return requests, round(time.perf_counter() - start, 1)


class _MemorySampler:
    """``VmRSS`` of the workers every ``interval_s`` seconds, in a thread."""

    def __init__(self, server: Server, interval_s: float = 5.0) -> None:
        self.server = server
        self.interval_s = interval_s
        self.samples: list[tuple[float, dict[int, float]]] = []
        self._stop = threading.Event()
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._sample()

    def _sample(self) -> None:
        rss = {pid: round(_proc_status(pid).get("VmRSS", 0) / 1024, 1)
               for pid in self.server.workers()}  # fmt: skip
        self.samples.append((round(time.monotonic() - self._start, 1), rss))

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def growth(self, warmup_s: float) -> dict[str, Any]:
        """Growth of each worker's RSS from the first sample after ``warmup_s`` to the last."""
        after = [s for s in self.samples if s[0] >= warmup_s] or self.samples
        first, last = after[0], self.samples[-1]
        per_worker = {}
        for pid, mb in last[1].items():
            if pid in first[1] and first[1][pid] > 0:
                growth = round(100 * (mb / first[1][pid] - 1), 2)
                per_worker[str(pid)] = {"start_mb": first[1][pid], "end_mb": mb,
                                        "growth_pct": growth}  # fmt: skip
        return {
            "from_s": first[0],
            "to_s": last[0],
            "workers": per_worker,
            "largest_growth_pct": max((w["growth_pct"] for w in per_worker.values()), default=None),
            "restarted_workers": sorted(set(first[1]) ^ set(last[1])),
        }


def _soak(label: str, url: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    print(f"{label}: filling the database ...", flush=True)
    requests, setup_s = prepare(url, participants=args.participants, vacancies=args.vacancies,
                                employers=args.employers)  # fmt: skip
    # The service's default rate limit (the benchmarks' Server switches it off if unset).
    from service.settings import Settings

    default_rate = Settings.model_fields["rate_limit_per_second"].default
    os.environ["JOBMATCH_RATE_LIMIT_PER_SECOND"] = str(default_rate)
    server = Server(url, args.workers, work / f"service-{label}.log")
    try:
        ready_s = server.wait_ready(600)

        def send(mix: list[Request], seconds: float, rate: float | None = None) -> dict[str, Any]:
            if args.load_generator == "wrk":
                return run_mix_wrk(server.base_url, mix, work, concurrency=args.concurrency,
                                   seconds=seconds, rate=rate)  # fmt: skip
            return run_mix(server.base_url, mix, concurrency=args.concurrency, seconds=seconds,
                           rate=rate)  # fmt: skip

        send(requests[:2000], 10)
        load_before = os.getloadavg()[0]
        saturation = send(requests, args.saturation_seconds)
        ok_rate = (saturation["requests"] - saturation["errors"]) / saturation["seconds"]
        rate = ok_rate / 2
        print(f"{label}: saturation {saturation['requests_per_s']} req/s "
              f"({saturation['errors']} errors); soak at {rate:.1f} req/s for "
              f"{args.minutes} min", flush=True)  # fmt: skip
        with _MemorySampler(server) as memory:
            soak = send(requests[::-1], args.minutes * 60, rate)
        load_after = os.getloadavg()[0]
    finally:
        server.stop()
    growth = memory.growth(warmup_s=min(60.0, args.minutes * 60 / 5))
    print(f"{label}: soak {soak['requests']} requests, {soak['errors']} errors "
          f"{soak['error_kinds']}, p99 {soak['all'].get('p99_ms')} ms (matches "
          f"{soak['by_kind'].get('coach_matches', {}).get('p99_ms')}, shortlists "
          f"{soak['by_kind'].get('employer_shortlist', {}).get('p99_ms')}, writes "
          f"{soak['by_kind'].get('write', {}).get('p99_ms')}); RSS growth "
          f"{growth['largest_growth_pct']} %", flush=True)  # fmt: skip
    return {
        "setup_s": setup_s,
        "ready_s": round(ready_s, 1),
        "saturation": saturation,
        "soak": soak,
        "memory": growth,
        "memory_samples": memory.samples,
        "loadavg_1min": {"before": round(load_before, 2), "after": round(load_after, 2)},
    }


def _postgres(url: str) -> tuple[str, Any]:
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"jobmatch_soak_{os.getpid()}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base.set(database=name).render_as_string(hide_password=False), drop


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="soak duration per database")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=os.environ.get("JOBMATCH_TEST_POSTGRES_URL"))
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--vacancies", type=int, default=5000)
    parser.add_argument("--employers", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--saturation-seconds", type=float, default=30.0)
    parser.add_argument("--output", default="soak")
    parser.add_argument(
        "--load-generator", choices=("auto", "wrk", "python"), default="auto",
        help="wrk (C, apt-get install wrk) or the Python generator; auto: wrk if installed",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.load_generator == "auto":
        args.load_generator = "wrk" if shutil.which("wrk") else "python"
        if args.load_generator == "python":
            print("note: wrk is not installed (apt-get install wrk); using the Python load "
                  "generator, which takes CPU from the service", flush=True)  # fmt: skip
    elif args.load_generator == "wrk" and shutil.which("wrk") is None:
        parser.error("--load-generator wrk: wrk is not installed")
    runs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="jobmatch-soak-") as tmp:
        work = Path(tmp)
        for name in args.databases.split(","):
            if name == "sqlite":
                runs[name] = _soak(name, f"sqlite:///{work / 'jobmatch.db'}", work, args)
            elif name == "postgresql":
                if not args.postgres_url:
                    raise SystemExit(
                        "PostgreSQL needs --postgres-url or JOBMATCH_TEST_POSTGRES_URL"
                    )
                url, drop = _postgres(args.postgres_url)
                try:
                    runs[name] = _soak(name, url, work, args)
                finally:
                    drop()
            else:
                raise SystemExit(f"unknown database {name!r}")
    payload = {
        "minutes": args.minutes,
        "market": {
            "participants": args.participants,
            "vacancies": args.vacancies,
            "employers": args.employers,
        },
        "workers": args.workers,
        "concurrency": args.concurrency,
        "load_generator": args.load_generator,
        "mix": dict(MIX),
        "targets": "0 errors; p99 within the HTTP targets; resident memory growth < 5 %",
        "runs": runs,
    }
    print(f"wrote {write_results(args.output, payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
