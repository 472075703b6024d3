"""The dependency check of CI (``.ci/vulncheck.py``) against a local stand-in for PyPI's
project JSON: what it counts as checked, what it reports as vulnerable, and its exit
status when the index answers 404 or not at all."""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest

_SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "vulncheck.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vulncheck", _SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


vc = _load()

_DJANGO_ADVISORY = {
    "id": "PYSEC-2021-9",
    "aliases": ["CVE-2021-3281"],
    "fixed_in": ["2.2.18", "3.0.12", "3.1.6"],
    "link": "https://osv.dev/vulnerability/PYSEC-2021-9",
    "withdrawn": None,
}


def _project(latest: str, *advisories: dict[str, Any]) -> dict[str, Any]:
    return {"info": {"version": latest}, "releases": {}, "vulnerabilities": list(advisories)}


def test_latest_release_with_an_advisory_is_vulnerable() -> None:
    verdict = vc.judge("django", "3.1.5", _project("3.1.5", _DJANGO_ADVISORY))
    assert verdict.status == vc.EXACT
    assert [a["id"] for a in verdict.vulnerabilities] == ["PYSEC-2021-9"]


def test_latest_release_without_advisories_is_checked_and_clean() -> None:
    verdict = vc.judge("requests", "2.34.2", _project("2.34.2"))
    assert (verdict.status, verdict.vulnerabilities) == (vc.EXACT, [])


def test_withdrawn_advisory_is_not_a_vulnerability() -> None:
    withdrawn = dict(_DJANGO_ADVISORY, withdrawn="2022-06-28T16:39:06Z")
    assert vc.judge("django", "3.1.5", _project("3.1.5", withdrawn)).vulnerabilities == []


def test_older_release_is_affected_by_an_advisory_open_in_the_latest() -> None:
    verdict = vc.judge("django", "3.0.1", _project("3.1.5", _DJANGO_ADVISORY))
    assert verdict.status == vc.OLDER
    assert len(verdict.vulnerabilities) == 1  # 3.0.12 fixes it, 3.0.1 is below


def test_older_release_fixed_on_its_own_line_is_not_affected() -> None:
    verdict = vc.judge("django", "2.2.20", _project("3.1.5", _DJANGO_ADVISORY))
    assert (verdict.status, verdict.vulnerabilities) == (vc.OLDER, [])


def test_prerelease_newer_than_latest_is_not_counted_as_checked() -> None:
    assert vc.judge("numpy", "3.0.0rc1", _project("2.4.6")).status == vc.NEWER


class _Index(BaseHTTPRequestHandler):
    projects: ClassVar[dict[str, dict[str, Any]]] = {}

    def do_GET(self) -> None:
        name = self.path.strip("/").split("/")[-2]
        body = self.projects.get(name)
        if body is None:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def index() -> Iterator[str]:
    _Index.projects = {
        "django": _project("3.1.5", _DJANGO_ADVISORY),
        "requests": _project("2.34.2"),
        "numpy": _project("2.5.5"),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/pypi/"
    finally:
        server.shutdown()
        server.server_close()


def _run(index: str, *pins: str, strict: bool = False) -> tuple[int, str]:
    import contextlib
    import io

    out = io.StringIO()
    args = ["--index-json", index, "--tries", "1", "--timeout", "5"]
    args += [f"--package={p}" for p in pins] + (["--strict"] if strict else [])
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = vc.main(args)
    return status, out.getvalue()


def test_clean_pins_pass_and_are_counted(index: str) -> None:
    status, out = _run(index, "requests==2.34.2", "numpy==2.4.6")
    assert status == 0
    assert "checked exactly (installed = latest release): 1" in out
    assert "numpy 2.4.6 < 2.5.5" in out
    assert "known vulnerabilities: 0 in 0 packages" in out


def test_known_vulnerability_fails_and_is_named(index: str) -> None:
    status, out = _run(index, "django==3.1.5", "requests==2.34.2")
    assert status == 1
    assert "VULNERABLE django 3.1.5: PYSEC-2021-9 (CVE-2021-3281)" in out


def test_package_unknown_to_the_index_is_named_as_unchecked(index: str) -> None:
    status, out = _run(index, "requests==2.34.2", "no-such-dist==1.0")
    assert status == 0
    assert "not on the index (not checked): 1: no-such-dist 1.0" in out
    assert _run(index, "requests==2.34.2", "no-such-dist==1.0", strict=True)[0] == 3


def test_index_not_answering_fails_and_names_the_package() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/pypi/"
    status, out = _run(dead, "requests==2.34.2")
    assert status == 2
    assert "no answer (not checked): 1: requests 2.34.2 (" in out
