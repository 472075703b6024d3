"""``kill -9`` of one of two workers under load (``jobmatch serve --workers 2`` on
SQLite): uvicorn's supervisor starts a new worker, the other one keeps serving, and the
error rate over the 5 s after the kill stays under 1 %. Every failed request counts
(a reset connection, a refused one, any status other than 200), by the time its answer
or its failure came; nothing is retried."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.reliability._server import ServiceProcess, create_users
from tests.service.conftest import participant_body

#: Load generator threads (one keep-alive connection each).
CONCURRENCY = 3
#: Seconds of load before and after the kill.
BEFORE_S, AFTER_S = 1.5, 5.0


def test_kill_9_of_one_worker_under_load(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobmatch.db'}"
    tokens = create_users(url)
    # One user sends all the load here: without the per-user rate limit.
    service = ServiceProcess(url, tmp_path / "service.log", workers=2,
                             env={"JOBMATCH_RATE_LIMIT_PER_SECOND": "0"})  # fmt: skip
    try:
        service.wait_live()
        headers = {"Authorization": f"Bearer {tokens['coach']}"}
        with httpx.Client(base_url=service.base_url, timeout=10) as client:
            created = client.post("/api/v1/participants", json=participant_body(),
                                  headers=headers)  # fmt: skip
            assert created.status_code == 201, created.text
            path = f"/api/v1/participants/{created.json()['id']}/matches?limit=10"
            for _ in range(20):  # both workers warm
                assert client.get(path, headers=headers).status_code == 200
        workers = service.workers()
        assert len(workers) == 2, workers
        kill_at = time.monotonic() + BEFORE_S
        stop_at = kill_at + AFTER_S
        outcomes: list[tuple[float, int]] = []
        lock = threading.Lock()

        def load() -> None:
            local = []
            with httpx.Client(base_url=service.base_url, timeout=10) as own:
                while time.monotonic() < stop_at:
                    try:
                        status = own.get(path, headers=headers).status_code
                    except httpx.HTTPError:
                        status = 0
                    local.append((time.monotonic(), status))  # when the answer came
            with lock:
                outcomes.extend(local)

        threads = [threading.Thread(target=load) for _ in range(CONCURRENCY)]
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, kill_at - time.monotonic()))
        os.kill(workers[0], signal.SIGKILL)
        for thread in threads:
            thread.join(timeout=AFTER_S + 30)
        after = Counter(status for done, status in outcomes if done >= kill_at)
        before = Counter(status for done, status in outcomes if done < kill_at)
        errors = sum(n for status, n in after.items() if status != 200)
        rate = errors / max(1, sum(after.values()))
        # The supervisor notices the death at its next health check (every 0.5 s, but a
        # ping of a busy worker may take up to 5 s first): wait for the new worker.
        restart_at = time.monotonic()
        while workers[0] in service.workers() and time.monotonic() - restart_at < 20:
            time.sleep(0.2)
        new_workers = service.workers()
        restarted_s = time.monotonic() - kill_at
        figures = {"before": dict(before), "after_5s": dict(after), "error_rate": round(rate, 4),
                   "workers_after": len(new_workers),
                   "new_worker_after_s": round(restarted_s, 1)}  # fmt: skip
        print(json.dumps(figures))
        assert before == Counter({200: before[200]}), before
        assert sum(after.values()) > 0
        assert rate < 0.01, after
        assert len(new_workers) == 2 and workers[0] not in new_workers
    finally:
        service.stop()
