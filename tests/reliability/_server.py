"""Helpers of the process-level reliability tests: ``jobmatch serve`` in a subprocess on
127.0.0.1 and a TCP proxy in front of PostgreSQL that can be cut and restored."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

__all__ = ["ROOT", "CuttableProxy", "ServiceProcess", "create_users", "free_port"]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServiceProcess:
    """``jobmatch serve`` on 127.0.0.1 with the given ``JOBMATCH_*`` settings.

    Parameters
    ----------
    database_url : str
    log_path : Path
        Receives the service's output.
    workers : int, default=1
    env : dict, optional
        More environment variables.
    """

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        *,
        workers: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        environment = dict(os.environ)
        environment.update(
            JOBMATCH_DATABASE_URL=database_url,
            JOBMATCH_HOST="127.0.0.1",
            JOBMATCH_PORT=str(self.port),
            **(env or {}),
        )
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from service.cli import main; main()", "serve",
             "--workers", str(workers)],
            cwd=ROOT, env=environment, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def wait_live(self, timeout_s: float = 60.0) -> None:
        """Wait until ``/health/live`` answers 200."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited with {self.process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base_url + "/health/live", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise TimeoutError("service did not come up")

    def workers(self) -> list[int]:
        """Process ids of the worker processes (children other than multiprocessing's
        resource tracker); empty with one worker, which is the server process itself."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            pids = [int(p) for p in children.read_text().split()]
        except OSError:
            return []
        workers = []
        for pid in pids:
            with contextlib.suppress(OSError):
                if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    workers.append(pid)
        return workers

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the server process."""
        os.kill(self.process.pid, signum)

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL after 15 s."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 whose link to the target can be cut, restored and slowed.

    While cut, the listening socket is closed (new connections are refused) and every
    open connection is closed, as when the database server goes away. While
    :attr:`delay_s` is above 0, everything the client sends waits that long before it is
    passed on (one round trip, that is one statement, takes that much longer), as when
    the database answers slowly.

    Parameters
    ----------
    target_host : str
    target_port : int
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        #: Seconds each chunk from the client waits before it is passed on.
        self.delay_s = 0.0
        self._listener: socket.socket | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Accept connections and forward them."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        self._stop.clear()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def cut(self) -> None:
        """Refuse new connections and close the open ones."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            for a, b in self._pairs:
                for s in (a, b):
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)
                    s.close()
            self._pairs.clear()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(a, selectors.EVENT_READ, b)
            selector.register(b, selectors.EVENT_READ, a)
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=0.2):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    if key.fileobj is a and self.delay_s > 0:
                        time.sleep(self.delay_s)
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()


def create_users(url: str) -> dict[str, str]:
    """Migrate the database at ``url`` and create an admin, a coach and an employer user
    (of a new employer); return their tokens by role."""
    from service.auth import create_user
    from service.db import Database, upgrade_database
    from service.models import Employer

    database = Database(url, timeout_seconds=5)
    try:
        upgrade_database(database.engine)
        tokens = {}
        with database.session() as session:
            employer = Employer(name="Firma Ausfall", postcode="33602")
            session.add(employer)
            session.commit()
            for name, role, employer_id in (("admin", "admin", None), ("coach", "coach", None),
                                            ("employer", "employer", employer.id)):  # fmt: skip
                _, tokens[name] = create_user(
                    session, name=name, role=role, employer_id=employer_id
                )
        return tokens
    finally:
        database.dispose()
