"""Server-side render time of a coach's ranked-list page at 5,000 vacancies.

The Bielefeld demo market (``matching.datasets.make_demo_market``, 5,000 vacancies and
2,000 participants by default) is loaded into a fresh SQLite database through the
service's demo loader (:func:`benchmarks.bench_http.prepare_market`). The app is built
with ``create_app`` plus the pages' router and driven in process; an ASGI wrapper times
each request from the moment the app receives it until its last response byte is
handed back, so the figure is the server's own time: routing, the session cookie
lookup, the ownership check, the participant's overrides, releases and outcomes, the
ranking (all 5,000 vacancies, with explanations and what was left out), the audit
entry, vacancy titles and the Jinja2 template. Every request names a different
participant, the page's default of 10 ranked vacancies. Target (issue 5): median
≤ 50 ms.

Usage::

    python -m benchmarks.bench_pages
    python -m benchmarks.bench_pages --vacancies 5000 --participants 2000 --requests 300
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from benchmarks._common import summary_ms, write_results
from benchmarks.bench_http import prepare_market

TARGET_MEDIAN_MS = 50.0
_PARTICIPANT = re.compile(r"/participants/(\d+)/")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class Timed:
    """ASGI wrapper recording how long the app takes per HTTP request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seconds: list[float] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        await self.app(scope, receive, send)
        self.seconds.append(time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vacancies", type=int, default=5_000)
    parser.add_argument("--participants", type=int, default=2_000)
    parser.add_argument("--employers", type=int, default=500)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient

    from service.app import create_app
    from service.settings import Settings
    from service.web import router
    from service.web.security import COOKIE_NAME

    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        market = prepare_market(Path(tmp), args.participants, args.vacancies, args.employers,
                                seed=args.seed)  # fmt: skip
        # Two demo coaches send every page: without the per-user rate limit.
        app = create_app(Settings(database_url=market.database_url, rate_limit_per_second=0))
        app.include_router(router)
        timed = Timed(app)
        requests = [
            (int(m.group(1)), token)
            for path, token in market.coach_requests
            if (m := _PARTICIPANT.search(path))
        ]
        wanted = args.warm_up + args.requests
        requests = (requests * (wanted // max(1, len(requests)) + 1))[:wanted]
        sizes: list[int] = []
        load_before = os.getloadavg()[0]
        with TestClient(timed) as client:
            for i, (pid, token) in enumerate(requests):
                client.cookies.set(COOKIE_NAME, token)
                response = client.get(f"/web/coach/participants/{pid}")
                if response.status_code != 200:
                    raise SystemExit(f"participant {pid}: HTTP {response.status_code}")
                if "Passende Stellen" not in response.text:
                    raise SystemExit(f"participant {pid}: no ranked list on the page")
                if i == args.warm_up - 1:
                    timed.seconds.clear()
                if i >= args.warm_up:
                    sizes.append(len(response.content))
        figures = summary_ms(timed.seconds)
        load_after = os.getloadavg()[0]
    verdict = "meets" if figures["median_ms"] <= TARGET_MEDIAN_MS else "misses"
    print(f"coach ranked-list page, {market.vacancies} open vacancies, "
          f"{market.participants} participants (setup {market.setup_s} s)")  # fmt: skip
    print(f"  server-side: median {figures['median_ms']:.1f} ms, p90 {figures['p90_ms']:.1f} ms, "
          f"p99 {figures['p99_ms']:.1f} ms over {figures['n']} requests "
          f"({verdict} the {TARGET_MEDIAN_MS:.0f} ms target)")  # fmt: skip
    print(f"  load average (1 min) before/after: {load_before:.1f}/{load_after:.1f} "
          f"on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"  page size: median {sorted(sizes)[len(sizes) // 2] / 1024:.0f} KiB")
    path = write_results("pages", {
        "vacancies": market.vacancies,
        "participants": market.participants,
        "setup_s": market.setup_s,
        "warm_up_requests": args.warm_up,
        "coach_ranked_list_page": figures,
        "page_bytes_median": sorted(sizes)[len(sizes) // 2],
        "load_average_1min": {"before": round(load_before, 2), "after": round(load_after, 2)},
        "target": {"median_ms": TARGET_MEDIAN_MS},
        "meets_target": figures["median_ms"] <= TARGET_MEDIAN_MS,
    })  # fmt: skip
    print(f"  written to {path}")


if __name__ == "__main__":
    main()
