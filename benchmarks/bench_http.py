"""HTTP benchmark of the service: latency, throughput and memory over real HTTP.

For each market size the benchmark fills a fresh SQLite database in a temporary
directory with the Bielefeld demo market through the service's own demo loader
(:func:`service.demo.load_demo`, here with the market size given), creates one
employer user per employer, starts ``jobmatch serve`` on 127.0.0.1 and drives it from
a second process: ``wrk`` with ``benchmarks/wrk_requests.lua`` where it is installed (a
C load generator that leaves most of the machine's CPU to the service), else
:mod:`benchmarks.loadgen` (Python, httpx keep-alive connections; a note says so). Every
request names a different participant (coach ``matches``) or vacancy (employer
``candidates``); the audit log is written on every request, as in production; the
access log goes to a file.

Measured: p50/p99 at concurrency 1 with one worker; requests/s with two workers at
concurrency 16; the service's CPU time per request (user + system of the serving
processes over the run, divided by the requests: on a machine with ``n`` cores, at most
``n / cpu`` requests per second are possible, less the load generator's share); the
high-water mark of resident memory (``VmHWM``) of every service process.
``--profile`` samples the single worker with py-spy during a concurrency-1
run and attributes the time to the parts of a request.

Usage::

    python -m benchmarks.bench_http                       # both sizes
    python -m benchmarks.bench_http --sizes small --profile
    python -m benchmarks.bench_http --sizes small --load-generator python
    python -m benchmarks.bench_http --sizes small --compare-ref 5155df2   # before/after
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks._common import machine, write_results

__all__ = [
    "SIZES",
    "TARGETS",
    "Market",
    "Server",
    "main",
    "prepare_market",
    "profile_breakdown",
    "run_loadgen",
]

ROOT = Path(__file__).resolve().parents[1]

#: name -> (participants, vacancies, employers)
SIZES: dict[str, tuple[int, int, int]] = {
    "small": (2_000, 5_000, 500),
    "large": (50_000, 20_000, 500),
}

#: The targets of "The HTTP service" (issue 3).
TARGETS = {
    "small": {"p50_ms": 3.0, "p99_ms": 15.0, "requests_per_s": 1000.0},
    "large": {"p99_ms": 30.0, "vm_hwm_mb": 1024.0},
}

_WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_requests.lua"

_EXTRA_LIBRARIES = ("httpx", "pydantic", "starlette", "uvloop", "httptools", "h11", "py-spy")


@dataclass
class Market:
    """A prepared database and the requests to send."""

    database_url: str
    coach_requests: list[tuple[str, str]]
    employer_requests: list[tuple[str, str]]
    setup_s: float
    participants: int
    vacancies: int


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _DistinctResolver:
    """A :class:`service.resolution.Resolver` that resolves each distinct text once.

    Resolution of one text does not depend on the others in the batch, so the records
    are the same as the plain resolver's (copied per input).
    """

    def __init__(self, taxonomy: Any) -> None:
        from service.resolution import Resolver

        self._inner = Resolver(taxonomy)

    def _distinct(self, resolve: Any, texts: Sequence[str]) -> list[dict[str, Any]]:
        unique = list(dict.fromkeys(texts))
        found = dict(zip(unique, resolve(unique), strict=True)) if unique else {}
        return [copy.deepcopy(found[t]) for t in texts]

    def skills(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Resolve skill texts, in input order."""
        return self._distinct(self._inner.skills, texts)

    def occupations(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Resolve occupation texts, in input order."""
        return self._distinct(self._inner.occupations, texts)

    def occupation(self, text: str | None) -> dict[str, Any] | None:
        """Resolve one occupation text."""
        return self._inner.occupation(text)


def prepare_market(
    directory: Path, n_participants: int, n_vacancies: int, n_employers: int, *, seed: int = 0
) -> Market:
    """Fill a fresh SQLite database with a demo market and create the users' tokens.

    Parameters
    ----------
    directory : Path
        Where the database file goes.
    n_participants, n_vacancies, n_employers : int
        Market size.
    seed : int, default=0
        Seed of the market and of the request order.

    Returns
    -------
    Market
        The database URL and, per route, ``(path, token)`` pairs: every active
        participant once (with their coach's token) and every open vacancy once (with a
        token of its employer), shuffled.
    """
    from sqlalchemy import select, update

    import service.demo as demo
    from service.auth import Role, create_user, hash_token, new_token
    from service.db import Database, upgrade_database
    from service.models import Participant, User, Vacancy
    from service.settings import Settings

    url = f"sqlite:///{directory / 'jobmatch.db'}"
    settings = Settings(database_url=url)
    db = Database(url)
    start = time.perf_counter()
    upgrade_database(db.engine)
    sizes = {"n_employers": n_employers, "n_vacancies": n_vacancies,
             "n_participants": n_participants}  # fmt: skip
    # The demo repeats the same skill texts many times: resolve each distinct text once.
    original_resolver = demo.Resolver
    demo.Resolver = _DistinctResolver  # type: ignore[misc,assignment]
    try:
        demo.load_demo(db, settings, force=True, random_state=seed, **sizes)
    finally:
        demo.Resolver = original_resolver  # type: ignore[misc]
    coach_tokens: dict[int, str] = {}
    employer_tokens: dict[int, str] = {}
    with db.session() as session:
        # The demo prints one coach token; give every demo coach a fresh one.
        for user_id in session.scalars(select(User.id).where(User.role == Role.COACH.value)):
            token = new_token()
            session.execute(
                update(User).where(User.id == user_id).values(token_hash=hash_token(token))
            )
            coach_tokens[int(user_id)] = token
        session.commit()
        open_vacancies = session.execute(
            select(Vacancy.id, Vacancy.employer_id).where(Vacancy.status == "open")
        ).all()
        for employer_id in sorted({int(e) for _, e in open_vacancies}):
            _, token = create_user(
                session, name=f"bench-employer-{employer_id}", role=Role.EMPLOYER,
                employer_id=employer_id,
            )  # fmt: skip
            employer_tokens[employer_id] = token
        participants = session.execute(
            select(Participant.id, Participant.coach_id).where(Participant.active.is_(True))
        ).all()
    db.dispose()
    setup_s = time.perf_counter() - start
    rng = random.Random(seed)
    coach = [
        (f"/api/v1/participants/{pid}/matches?limit=10", coach_tokens[int(cid)])
        for pid, cid in participants
        if cid is not None and int(cid) in coach_tokens
    ]
    employer = [
        (f"/api/v1/vacancies/{vid}/candidates?limit=10", employer_tokens[int(eid)])
        for vid, eid in open_vacancies
    ]
    rng.shuffle(coach)
    rng.shuffle(employer)
    return Market(url, coach, employer, round(setup_s, 1), len(participants), len(open_vacancies))


class Server:
    """``jobmatch serve`` in a subprocess on 127.0.0.1.

    Parameters
    ----------
    database_url : str
    workers : int
    log_path : Path
        File receiving the service's stdout (access log) and stderr.
    root : Path, optional
        Checkout whose ``service`` package runs (another version for ``--compare-ref``).
    """

    def __init__(
        self, database_url: str, workers: int, log_path: Path, *, root: Path = ROOT
    ) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update(
            JOBMATCH_DATABASE_URL=database_url,
            JOBMATCH_HOST="127.0.0.1",
            JOBMATCH_PORT=str(self.port),
        )
        # The demo market has two coaches, each sending far more than a person would:
        # without the per-user rate limit unless the caller sets one (older revisions,
        # see --compare-ref, had it off by default and do not accept 0).
        if root == ROOT:
            env.setdefault("JOBMATCH_RATE_LIMIT_PER_SECOND", "0")
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from service.cli import main; main()",
                "serve",
                "--workers",
                str(workers),
            ],
            cwd=root,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float) -> float:
        """Poll ``/health/ready`` until it answers 200; return the seconds it took."""
        start = time.perf_counter()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited with status {self.process.returncode}")
            try:
                if httpx.get(self.base_url + "/health/ready", timeout=30).status_code == 200:
                    return time.perf_counter() - start
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"the service was not ready within {timeout_s} s")

    def pids(self) -> list[int]:
        """The server process and its worker processes."""
        found = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            found += [int(p) for p in children.read_text().split()]
        return found

    def workers(self) -> list[int]:
        """The processes that serve requests (the children, or the server itself)."""
        pids = self.pids()
        serving = [p for p in pids[1:] if "resource_tracker" not in _cmdline(p)]
        return serving or pids[:1]

    def memory_mb(self) -> dict[str, Any]:
        """``VmHWM`` (peak) and ``VmRSS`` of every process, in MB."""
        out: dict[str, Any] = {}
        for pid in self.pids():
            status = _proc_status(pid)
            out[str(pid)] = {
                "vm_hwm_mb": round(status.get("VmHWM", 0) / 1024, 1),
                "vm_rss_mb": round(status.get("VmRSS", 0) / 1024, 1),
                "role": "supervisor" if pid == self.process.pid and len(self.pids()) > 1
                else "worker",
            }  # fmt: skip
        return out

    def stop(self) -> None:
        """SIGTERM the process group; SIGKILL after 20 s."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _proc_status(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values


def run_loadgen(
    base_url: str,
    requests: list[tuple[str, str]],
    directory: Path,
    *,
    concurrency: int,
    measured: int,
    warmup: int,
    max_seconds: float,
    processes: int = 1,
) -> dict[str, Any]:
    """Run :mod:`benchmarks.loadgen` in ``processes`` separate processes and merge.

    Parameters
    ----------
    base_url : str
    requests : list of (str, str)
        Requests, cycled when fewer than needed; each process gets its own slice.
    directory : Path
        Where the plans are written.
    concurrency : int
        Connections in total (split over the processes).
    measured, warmup : int
        Requests in total.
    max_seconds : float
    processes : int, default=1

    Returns
    -------
    dict
        Percentiles over all processes (latencies are merged from the medians and
        maxima of the parts; with one process they are exact), summed requests/s and
        status counts.
    """
    load_before = os.getloadavg()[0]
    jobs = []
    for k in range(processes):
        part = requests[k::processes] or requests
        plan = directory / f"plan-{k}.json"
        plan.write_text(json.dumps({"base_url": base_url, "requests": part}), encoding="utf-8")
        jobs.append(
            subprocess.Popen(
                [
                    sys.executable, "-m", "benchmarks.loadgen", str(plan),
                    "--concurrency", str(max(1, concurrency // processes)),
                    "--requests", str(measured // processes),
                    "--warmup", str(warmup // processes),
                    "--max-seconds", str(max_seconds),
                ],
                cwd=ROOT, stdout=subprocess.PIPE, text=True,
            )
        )  # fmt: skip
    results = []
    for job in jobs:
        out, _ = job.communicate(timeout=2 * max_seconds + 120)
        results.append(json.loads(out.strip().splitlines()[-1]))
    if len(results) == 1:
        return dict(results[0], loadavg_1min_before=round(load_before, 2))
    statuses: Counter[str] = Counter()
    for r in results:
        statuses.update(r["statuses"])
    return {
        "n": sum(r["n"] for r in results),
        "requests_per_s": round(sum(r["requests_per_s"] for r in results), 1),
        "p50_ms": round(max(r["p50_ms"] for r in results), 3),
        "p99_ms": round(max(r["p99_ms"] for r in results), 3),
        "max_ms": round(max(r["max_ms"] for r in results), 3),
        "statuses": dict(statuses),
        "concurrency": concurrency,
        "processes": processes,
        "note": "p50/p99 are the largest of the per-process values",
        "loadavg_1min_before": round(load_before, 2),
    }


def run_wrk(
    base_url: str,
    requests: list[tuple[str, str]],
    directory: Path,
    *,
    concurrency: int,
    seconds: float,
    warmup_seconds: float = 3.0,
) -> dict[str, Any]:
    """Drive the service with ``wrk`` (one thread per connection, at most 4 threads).

    Parameters
    ----------
    base_url : str
    requests : list of (str, str)
        ``(path, token)``, cycled; each wrk thread walks its own stride.
    directory : Path
        Where the plan file is written.
    concurrency : int
        Connections.
    seconds : float
        Length of the measured run (after an unmeasured warm-up of ``warmup_seconds``).

    Returns
    -------
    dict
        As :func:`run_loadgen`: ``n``, ``requests_per_s``, ``p50_ms`` .. ``max_ms``,
        ``statuses``, plus ``socket_errors``.
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed")
    plan = directory / "plan.tsv"
    plan.write_text("".join(f"{p}\t{t}\n" for p, t in requests), encoding="utf-8")
    threads = max(1, min(concurrency, 4))
    env = dict(os.environ, WRK_PLAN=str(plan), WRK_THREADS=str(threads))
    load_before = os.getloadavg()[0]

    def once(duration: float) -> dict[str, Any]:
        out = subprocess.run(
            [wrk, f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(duration))}s",
             "--timeout", "10s", "-s", str(_WRK_SCRIPT), base_url],
            env=env, capture_output=True, text=True, timeout=duration + 120, check=True,
        )  # fmt: skip
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))

    if warmup_seconds > 0:
        once(warmup_seconds)
    raw = once(seconds)
    wall = raw["wall_s"]
    return {
        "n": raw["n"],
        "wall_s": wall,
        "requests_per_s": round(raw["n"] / wall, 1) if wall > 0 else None,
        "statuses": raw["statuses"],
        "socket_errors": raw["socket_errors"],
        **{f"{k}_ms": round(raw[f"{k}_us"] / 1000, 3)
           for k in ("p50", "p90", "p99", "max", "mean")},
        "concurrency": concurrency,
        "load_generator": "wrk",
        "loadavg_1min_before": round(load_before, 2),
    }  # fmt: skip


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes (and their waited-for children), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


#: Parts of a request, recognised by frames of py-spy stacks (``function (file:line)``).
_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("scoring (matching library)", ("(matching/",)),
    ("audit log append", ("AuditLog.append (",)),
    ("index sync (change poll)", ("ScoringIndex.sync (",)),
    ("authentication (token lookup)", ("_authenticate (service/auth.py",)),
    ("ownership, overrides, candidate refs, pseudonyms", (
        "participant_for (", "vacancy_for (", "candidate_refs (", "participant_pseudonyms (",
        "_OVERRIDES", "recommendations.py:6")),
    ("commit", ("Session.commit (", "Connection.commit (")),
    ("response encoding (FastAPI/JSON)", (
        "serialize_response (", "jsonable_encoder (", "JSONResponse.render (", "_prepare_response",
        "dump_python", "dumps (json/")),
    ("request middleware (access log, metrics)", ("RequestMiddleware._record (",)),
    ("FastAPI dependencies and validation", ("solve_dependencies (",)),
    ("thread-pool hand-off (call_soon_threadsafe)", ("WorkerThread.run (anyio/",)),
    ("SQLAlchemy (anywhere)", ("(sqlalchemy/",)),
)  # fmt: skip

#: Leaf frames of a thread that waits rather than works.
_IDLE = (
    "wait (threading.py", "get (queue.py", "select (selectors.py", "_worker (concurrent",
    "Condition.wait (threading.py", "EpollSelector.select (",
)  # fmt: skip
#: Leaf frame of the event loop while it runs C code only (uvloop waiting for I/O or
#: parsing HTTP); py-spy cannot tell the two apart without native stacks.
_LOOP_NATIVE = "Runner.run (asyncio/runners.py"
#: Frames of the request handler (the endpoint running in the thread pool).
_ENDPOINT = ("_run_sync_endpoint (", "run_endpoint_function (", "run_in_threadpool (")


def profile_breakdown(raw: str) -> dict[str, Any]:
    """Attribute py-spy samples (``--format raw``) to the parts of a request.

    Parameters
    ----------
    raw : str
        Collapsed stacks, one ``frame;frame;... count`` per line.

    Returns
    -------
    dict
        ``busy_samples`` (samples of working threads; waiting threads and the event
        loop inside uvloop's C code, counted in ``event_loop_native_samples``, are left
        out),
        ``endpoint_pct`` (share of busy samples inside the endpoint function, the rest
        is the event loop: HTTP parsing, middleware, routing, thread hand-off),
        ``inclusive_pct`` per part (a sample counts for every part on its stack, so
        shares may overlap: SQLAlchemy includes the audit append's queries) and the
        top leaf functions.
    """
    busy = 0
    endpoint = 0
    loop_native = 0
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        leaf = stack.rsplit(";", 1)[-1]
        if any(p in leaf for p in _IDLE):
            continue
        if leaf.startswith(_LOOP_NATIVE):
            loop_native += count
            continue
        busy += count
        if any(p in stack for p in _ENDPOINT):
            endpoint += count
        for name, patterns in _PARTS:
            if any(p in (leaf if p.startswith("WorkerThread") else stack) for p in patterns):
                inclusive[name] += count
        leaves[leaf] += count
    if busy == 0:
        return {"busy_samples": 0}
    return {
        "busy_samples": busy,
        "event_loop_native_samples": loop_native,
        "endpoint_pct": round(100 * endpoint / busy, 1),
        "inclusive_pct": {name: round(100 * inclusive[name] / busy, 1) for name, _ in _PARTS},
        "top_leaf_functions": [
            {"frame": frame, "pct": round(100 * n / busy, 1)} for frame, n in leaves.most_common(12)
        ],
    }


def _profile(
    server: Server, requests: list[tuple[str, str]], directory: Path, seconds: float, label: str
) -> dict[str, Any]:
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        return {"skipped": "py-spy is not installed (pip install py-spy)"}
    pid = server.workers()[0]
    out = directory / f"profile-{label}-{pid}.txt"
    spy = subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)),
         "--format", "raw", "--rate", "500", "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(1.0)
    load = run_loadgen(
        server.base_url, requests, directory, concurrency=1, measured=100_000, warmup=0,
        max_seconds=seconds - 2,
    )  # fmt: skip
    _, err = spy.communicate(timeout=seconds + 60)
    if not out.exists():
        return {"skipped": f"py-spy failed: {err.strip()[-300:]}"}
    breakdown = profile_breakdown(out.read_text(encoding="utf-8"))
    breakdown["load_during_profile"] = load
    return breakdown


def memory_steps(database_url: str) -> list[dict[str, Any]]:
    """Replay the service's index load step by step and record resident memory.

    Run in a fresh process (``--memory-steps URL``) so that the figures start clean.

    Parameters
    ----------
    database_url : str
        A database filled by :func:`prepare_market`.

    Returns
    -------
    list of dict
        ``{"step", "vm_rss_mb", "vm_hwm_mb", "seconds"}`` after each step.
    """
    import gc

    start = time.perf_counter()
    steps: list[dict[str, Any]] = []

    def mark(step: str) -> None:
        gc.collect()
        status = _proc_status(os.getpid())
        steps.append({
            "step": step,
            "vm_rss_mb": round(status.get("VmRSS", 0) / 1024, 1),
            "vm_hwm_mb": round(status.get("VmHWM", 0) / 1024, 1),
            "seconds": round(time.perf_counter() - start, 1),
        })  # fmt: skip

    from sqlalchemy import select

    from service.context import Services
    from service.db import Database
    from service.models import Participant, Vacancy
    from service.scoring import participant_frame, vacancy_frame
    from service.settings import Settings

    mark("imports")
    db = Database(database_url)
    services = Services(Settings(database_url=database_url), db, migrate=False)
    mark("taxonomy, geocoder, services")
    with db.session() as session:
        vacancies = session.scalars(select(Vacancy).where(Vacancy.status == "open")).all()
        participants = session.scalars(
            select(Participant).where(Participant.active.is_(True))
        ).all()
        mark(f"ORM objects loaded ({len(participants)} participants, {len(vacancies)} vacancies)")
        frames = vacancy_frame(vacancies), participant_frame(participants)
        mark("matcher frames built")
    del vacancies, participants
    mark("ORM objects dropped")
    matcher = services.index._factory()
    matcher.fit(*frames)
    mark("matcher fitted")
    del frames
    mark("frames dropped")
    db.dispose()
    return steps


def _memory_breakdown(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        n_participants, n_vacancies, n_employers = SIZES[name]
        directory = work / f"memory-{name}"
        directory.mkdir()
        market = prepare_market(directory, n_participants, n_vacancies, n_employers,
                                seed=args.seed)  # fmt: skip
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_http", "--memory-steps",
             market.database_url],
            cwd=ROOT, capture_output=True, text=True, timeout=3600, check=True,
        )  # fmt: skip
        steps = json.loads(out.stdout.strip().splitlines()[-1])
        for step in steps:
            print(f"  {name}: {step['step']:60s} RSS {step['vm_rss_mb']:8.1f} MB "
                  f"(peak {step['vm_hwm_mb']:8.1f} MB)", flush=True)  # fmt: skip
        results[name] = {"participants": n_participants, "vacancies": n_vacancies,
                         "steps": steps}  # fmt: skip
    return results


def _print_row(label: str, result: dict[str, Any]) -> None:
    print(
        f"  {label:46s} n={result.get('n', 0):6d}  p50={result.get('p50_ms', float('nan')):7.2f} ms"
        f"  p99={result.get('p99_ms', float('nan')):7.2f} ms"
        f"  {result.get('requests_per_s', 0):8.1f} req/s  statuses={result.get('statuses')}",
        flush=True,
    )


def _drive(
    server: Server,
    requests: list[tuple[str, str]],
    directory: Path,
    args: argparse.Namespace,
    *,
    concurrency: int,
    measured: int,
) -> dict[str, Any]:
    """One run with the chosen load generator, with the service's CPU time per request."""
    workers = server.workers()
    before = _cpu_seconds(workers)
    if args.load_generator == "wrk":
        result = run_wrk(server.base_url, requests, directory, concurrency=concurrency,
                         seconds=args.wrk_seconds, warmup_seconds=0)  # fmt: skip
        # the warm-up ran before: CPU covers the measured requests only
        sent = result["n"]
    else:
        result = run_loadgen(
            server.base_url, requests, directory, concurrency=concurrency,
            measured=measured, warmup=args.warmup, max_seconds=args.max_seconds,
            processes=args.loadgen_processes if concurrency > 1 else 1,
        )  # fmt: skip
        result["load_generator"] = "python -m benchmarks.loadgen"
        sent = result["n"] + args.warmup
    cpu = _cpu_seconds(workers) - before
    result["server_cpu_ms_per_request"] = round(1000 * cpu / sent, 3) if sent else None
    return result


def _measure(
    market: Market, directory: Path, args: argparse.Namespace, *, root: Path = ROOT
) -> dict[str, Any]:
    """Latency with one worker, then throughput with ``args.workers``, of one service."""
    out: dict[str, Any] = {}
    routes = {"coach_matches": market.coach_requests,
              "employer_candidates": market.employer_requests}  # fmt: skip
    log = directory / "service.log"

    server = Server(market.database_url, 1, log, root=root)
    try:
        out["ready_s_one_worker"] = round(server.wait_ready(args.ready_timeout), 1)
        for route, requests in routes.items():
            if args.load_generator == "wrk":
                run_wrk(server.base_url, requests, directory, concurrency=1, seconds=0,
                        warmup_seconds=3)  # fmt: skip
            result = _drive(server, requests, directory, args, concurrency=1,
                            measured=args.requests)  # fmt: skip
            out[f"{route}_c1_w1"] = result
            _print_row(f"{route}, concurrency 1, 1 worker", result)
        if args.profile:
            for route, requests in routes.items():
                profile = _profile(server, requests, directory, args.profile_seconds, route)
                out[f"{route}_profile"] = profile
                print(f"  profile {route}: {json.dumps(profile.get('inclusive_pct'))}")
        out["memory_one_worker"] = server.memory_mb()
    finally:
        server.stop()

    if not args.skip_throughput:
        server = Server(market.database_url, args.workers, log, root=root)
        try:
            out["ready_s_two_workers"] = round(server.wait_ready(args.ready_timeout), 1)
            for route, requests in routes.items():
                if args.load_generator == "wrk":
                    run_wrk(server.base_url, requests, directory,
                            concurrency=args.concurrency, seconds=0, warmup_seconds=3)  # fmt: skip
                result = _drive(server, requests, directory, args,
                                concurrency=args.concurrency,
                                measured=args.throughput_requests)  # fmt: skip
                out[f"{route}_c{args.concurrency}_w{args.workers}"] = result
                _print_row(f"{route}, concurrency {args.concurrency}, {args.workers} workers",
                           result)  # fmt: skip
            out[f"memory_{args.workers}_workers"] = server.memory_mb()
        finally:
            server.stop()
    peak = max(m["vm_hwm_mb"] for m in out["memory_one_worker"].values())
    out["peak_vm_hwm_mb_one_worker"] = peak
    print(f"  peak resident memory (VmHWM) of the one-worker service: {peak} MB", flush=True)
    return out


def _export_ref(ref: str, directory: Path) -> Path:
    """Extract the tree of git ``ref`` into ``directory`` (for ``--compare-ref``)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True,
                             check=True, timeout=300).stdout  # fmt: skip
    directory.mkdir()
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive, check=True, timeout=300)
    return directory


def _market_in(root: Path, directory: Path, sizes: tuple[int, int, int], seed: int) -> Market:
    """:func:`prepare_market` with the code of another checkout (its own migrations)."""
    code = (
        "import json, sys; from pathlib import Path; "
        "from benchmarks.bench_http import prepare_market; "
        "n = list(map(int, sys.argv[2:6])); "
        "m = prepare_market(Path(sys.argv[1]), n[0], n[1], n[2], seed=n[3]); "
        "print(json.dumps([m.database_url, m.coach_requests, m.employer_requests, "
        "m.setup_s, m.participants, m.vacancies]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(directory), *map(str, sizes), str(seed)],
        cwd=root, capture_output=True, text=True, check=True, timeout=3600,
    )  # fmt: skip
    url, coach, employer, setup_s, n_p, n_v = json.loads(out.stdout.strip().splitlines()[-1])
    return Market(url, [tuple(r) for r in coach], [tuple(r) for r in employer], setup_s, n_p, n_v)


def _ratios(current: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """``current / baseline`` of latency, throughput and CPU per request, per run."""
    out: dict[str, Any] = {}
    for key, run in current.items():
        base = baseline.get(key)
        if not (isinstance(run, dict) and isinstance(base, dict) and "p50_ms" in run):
            continue
        out[key] = {
            metric: round(run[metric] / base[metric], 3)
            for metric in ("p50_ms", "p99_ms", "requests_per_s", "server_cpu_ms_per_request")
            if run.get(metric) and base.get(metric)
        }
    return out


def _bench_size(name: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    n_participants, n_vacancies, n_employers = SIZES[name]
    directory = work / name
    directory.mkdir()
    print(f"{name}: {n_participants} participants x {n_vacancies} vacancies", flush=True)
    out: dict[str, Any] = {
        "participants": n_participants,
        "vacancies": n_vacancies,
        "employers": n_employers,
        "targets": TARGETS[name],
    }
    if args.compare_ref:
        # The older version first, on a market prepared by its own code, then this one.
        root = work / "ref" if (work / "ref").exists() else _export_ref(args.compare_ref,
                                                                          work / "ref")
        base_dir = work / f"{name}-ref"
        base_dir.mkdir()
        print(f"  {args.compare_ref} (baseline):", flush=True)
        market = _market_in(root, base_dir, SIZES[name], args.seed)
        baseline = _measure(market, base_dir, args, root=root)
        out[f"baseline_{args.compare_ref}"] = baseline
        print("  this version:", flush=True)
    market = prepare_market(directory, n_participants, n_vacancies, n_employers, seed=args.seed)
    print(f"  database filled in {market.setup_s} s", flush=True)
    out.update(open_vacancies=market.vacancies, setup_s=market.setup_s)
    out.update(_measure(market, directory, args))
    if args.compare_ref:
        out[f"ratio_to_{args.compare_ref}"] = ratios = _ratios(out, baseline)
        for key, values in ratios.items():
            print(f"  ratio to {args.compare_ref}: {key:34s} {json.dumps(values)}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write ``benchmarks/results/http.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,large", help="comma-separated: small,large")
    parser.add_argument("--requests", type=int, default=2000, help="measured, concurrency 1")
    parser.add_argument("--throughput-requests", type=int, default=4000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--loadgen-processes", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=180.0)
    parser.add_argument("--ready-timeout", type=float, default=900.0)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--profile", action="store_true", help="py-spy breakdown")
    parser.add_argument("--profile-seconds", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--load-generator", choices=("auto", "wrk", "python"), default="auto",
        help="wrk (C, apt-get install wrk) or the Python generator; auto: wrk if installed",
    )  # fmt: skip
    parser.add_argument(
        "--compare-ref", default=None, metavar="GIT_REF",
        help="also measure the service of this git revision (same load), and the ratios",
    )  # fmt: skip
    parser.add_argument("--wrk-seconds", type=float, default=20.0,
                        help="length of each measured wrk run")  # fmt: skip
    parser.add_argument("--output", default="http", help="results name (http*.json)")
    parser.add_argument(
        "--memory-breakdown",
        action="store_true",
        help="only replay the index load step by step and record memory (http_memory.json)",
    )
    parser.add_argument("--memory-steps", default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--workdir", type=Path, default=None,
        help="keep databases, logs and raw profiles here (default: a temporary directory)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.memory_steps:
        sys.stdout.write(json.dumps(memory_steps(args.memory_steps)) + "\n")
        return 0
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}; known: {sorted(SIZES)}")
    if not args.output.startswith("http"):
        parser.error("--output must start with 'http'")
    if args.load_generator == "auto":
        args.load_generator = "wrk" if shutil.which("wrk") else "python"
        if args.load_generator == "python":
            print("note: wrk is not installed (apt-get install wrk); using the Python load "
                  "generator, which takes CPU from the service on a small machine", flush=True)
    elif args.load_generator == "wrk" and shutil.which("wrk") is None:
        parser.error("--load-generator wrk: wrk is not installed")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="jobmatch-bench-http-") as tmp:
        work = Path(tmp)
        if args.workdir is not None:
            args.workdir.mkdir(parents=True, exist_ok=False)
            work = args.workdir
        if args.memory_breakdown:
            path = write_results(
                "http_memory" if args.output == "http" else args.output,
                {"what": "resident memory after each step of the index load, fresh process",
                 "sizes": _memory_breakdown(args, work)},
            )  # fmt: skip
            print(f"written {path.relative_to(ROOT)}")
            return 0
        for name in sizes:
            results[name] = _bench_size(name, args, work)
    from importlib import metadata

    extra: dict[str, str | None] = {}
    for lib in _EXTRA_LIBRARIES:
        try:
            extra[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            extra[lib] = None
    payload = {
        "setup": {
            "server": f"jobmatch serve (uvicorn) on 127.0.0.1, SQLite in a temp dir, "
            f"{args.workers} workers for throughput",
            "load_generator": (
                f"wrk with benchmarks/wrk_requests.lua, {args.wrk_seconds:g} s per run after "
                "a 3 s warm-up" if args.load_generator == "wrk"
                else "python -m benchmarks.loadgen (httpx keep-alive, threads)"
            ) + ", a separate process on the same machine",
            "server_cpu_ms_per_request": "user + system CPU time of the serving processes "
            "during the run, per request",
            "audit_log": "on (every matches and candidates request appends one entry)",
            "access_log": "on, to a file",
            "requests": "a different participant (matches) or vacancy (candidates) "
            "in each request, limit=10",
        },
        "more_libraries": extra,
        "loadavg_at_end": os.getloadavg(),
        "sizes": results,
    }
    path = write_results(args.output, payload)
    print(f"written {path.relative_to(ROOT)} (machine: {machine()['cpus']} CPUs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
