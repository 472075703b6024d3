"""A live server for the browser tests: the service with the pages, served by uvicorn on
127.0.0.1 and a free port in a background thread, on its own SQLite file."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from service.auth import create_user
from tests.web.app_factory import build_app

__all__ = ["LiveSite", "start_live_site"]


@dataclass
class LiveSite:
    """A running site, its users' tokens and the ids of what was seeded."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread
    app: Any
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def api(self, method: str, path: str, who: str, **kwargs: Any) -> Any:
        """Call the JSON API as ``who``; fail on a non-2xx answer."""
        response = httpx.request(
            method,
            f"{self.url}/api/v1{path}",
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
            timeout=30,
            **kwargs,
        )
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json() if response.content else None

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=15)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_live_site(directory: Path) -> LiveSite:
    """Start the service on a new SQLite database in ``directory`` and seed users.

    Users: ``admin``, ``coach1``, ``coach2`` and ``employer1``/``employer2`` of two firms.
    """
    app = build_app(f"sqlite:///{directory / 'live.db'}")
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on", access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-site", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    site = LiveSite(f"http://127.0.0.1:{port}", server, thread, app)
    with app.state.db.session() as session:
        for name, role in (("admin", "admin"), ("coach1", "coach"), ("coach2", "coach")):
            user, token = create_user(session, name=name, role=role)
            site.tokens[name], site.ids[name] = token, user.id
    for n, firm in ((1, "Lagerlogistik Sennestadt"), (2, "Bäckerei Sonnenschein")):
        employer = site.api("POST", "/employers", "admin", json={"name": firm, "postcode": "33689"})
        site.ids[f"employer{n}_firm"] = employer["id"]
        with app.state.db.session() as session:
            user, token = create_user(session, name=f"employer{n}", role="employer",
                                      employer_id=employer["id"])  # fmt: skip
            site.tokens[f"employer{n}"], site.ids[f"employer{n}"] = token, user.id
    return site
