"""Known vulnerabilities in the installed dependency set, from PyPI's project JSON.

pip-audit reads advisories from PyPI's per-release JSON (``/pypi/<name>/<version>/json``)
or from OSV. Where neither answers but the project JSON (``/pypi/<name>/json``) does, this
is the closest honest check: the project JSON lists the PyPA advisories
(``vulnerabilities``, each with ``fixed_in`` and ``withdrawn``) of the *latest* release
only, so

* a package installed at its latest release is checked exactly: any advisory that is
  not withdrawn is a known vulnerability;
* a package installed at an older release is checked only in part: an advisory still
  open in the latest release is taken to affect the older one too (unless one of its
  ``fixed_in`` versions lies at or below the installed one on the same release line),
  but an advisory fixed between the installed and the latest release is not visible
  here, so the package is reported as "older than latest";
* a package PyPI does not know, or whose page does not answer, is not checked, and is
  named.

PyPI's data carries no severity, so any known vulnerability fails the check (stricter
than "high or critical only"). Exit status: 0 none known; 1 a known vulnerability
(listed); 2 PyPI did not answer for some packages (named, with the error) and nothing
known was found; with ``--strict`` also 3 when any package was not checked exactly.

    python .ci/vulncheck.py [--strict] [--json FILE] [--package NAME==VERSION ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

EXACT = "exact"  # installed release is the latest: its advisories are all known here
OLDER = "older"  # installed release is older than the latest: checked in part
NEWER = "newer"  # installed release is newer than PyPI's latest (a pre-release)
NOT_ON_INDEX = "not-on-index"
NO_ANSWER = "no-answer"


@dataclass
class Verdict:
    name: str
    installed: str
    status: str
    latest: str | None = None
    vulnerabilities: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def _index_json_base() -> str:
    """The project-JSON base of the index pip-audit itself asks (``.../pypi/``)."""
    from pip_audit._dependency_source import PYPI_URL

    return PYPI_URL.removesuffix("simple/") + "pypi/"


def _same_line(a: Version, b: Version) -> bool:
    return a.release[:2] == b.release[:2]


def affects(advisory: dict[str, Any], installed: Version) -> bool:
    """Whether an advisory open in the latest release is taken to affect ``installed``.

    It does, unless withdrawn, or fixed at or below ``installed`` on the installed
    release line (an advisory fixed in 2.2.18 and 3.0.12 but open in the latest 3.1
    does not affect 2.2.20).
    """
    if advisory.get("withdrawn"):
        return False
    for text in advisory.get("fixed_in") or []:
        try:
            fixed = Version(text)
        except InvalidVersion:
            continue
        if fixed <= installed and _same_line(fixed, installed):
            return False
    return True


def judge(name: str, installed: str, project: dict[str, Any]) -> Verdict:
    """The verdict on one installed distribution, given its project JSON."""
    latest_text = str(project.get("info", {}).get("version") or "")
    advisories = [a for a in project.get("vulnerabilities") or [] if not a.get("withdrawn")]
    try:
        have, latest = Version(installed), Version(latest_text)
    except InvalidVersion:
        return Verdict(
            name, installed, NOT_ON_INDEX, latest_text or None, error="version not comparable"
        )
    if have == latest:
        return Verdict(name, installed, EXACT, latest_text, advisories)
    status = OLDER if have < latest else NEWER
    return Verdict(
        name, installed, status, latest_text, [a for a in advisories if affects(a, have)]
    )


def installed_distributions(skip: Iterable[str] = ()) -> dict[str, str]:
    """Canonical name -> version of every installed distribution, less ``skip``."""
    skipped = {canonicalize_name(s) for s in skip}
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        key = canonicalize_name(name)
        if key in skipped or _is_editable(dist):
            continue
        found[key] = dist.version
    return dict(sorted(found.items()))


def _is_editable(dist: metadata.Distribution) -> bool:
    text = dist.read_text("direct_url.json")
    if not text:
        return False
    try:
        return bool(json.loads(text).get("dir_info", {}).get("editable"))
    except ValueError:
        return False


def fetch(base: str, name: str, timeout: float, tries: int) -> tuple[int, Any]:
    """(HTTP status, parsed JSON or error text) for ``base/<name>/json``, with retries."""
    url = f"{base}{name}/json"
    error = ""
    for attempt in range(tries):
        try:
            request = urllib.request.Request(url, headers={"Accept": "application/json"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return 404, "not found"
            error = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        time.sleep(min(2**attempt, 5))
    return 0, error


def check(
    packages: dict[str, str], base: str, timeout: float, tries: int, workers: int
) -> list[Verdict]:
    def one(item: tuple[str, str]) -> Verdict:
        name, version = item
        status, body = fetch(base, name, timeout, tries)
        if status == 404:
            return Verdict(name, version, NOT_ON_INDEX, error="not on the index")
        if status != 200:
            return Verdict(name, version, NO_ANSWER, error=str(body))
        return judge(name, version, body)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, packages.items()))


def report(verdicts: list[Verdict], base: str, seconds: float, out: Any = None) -> dict:
    out = out or sys.stdout
    by = {
        s: [v for v in verdicts if v.status == s]
        for s in (EXACT, OLDER, NEWER, NOT_ON_INDEX, NO_ANSWER)
    }
    vulnerable = [v for v in verdicts if v.vulnerabilities]
    summary = {
        "source": base + "<name>/json",
        "packages": len(verdicts),
        "checked_exactly": len(by[EXACT]),
        "older_than_latest_checked_in_part": len(by[OLDER]),
        "newer_than_latest": len(by[NEWER]),
        "not_on_index": len(by[NOT_ON_INDEX]),
        "no_answer": len(by[NO_ANSWER]),
        "vulnerable_packages": len(vulnerable),
        "known_vulnerabilities": sum(len(v.vulnerabilities) for v in vulnerable),
        "seconds": round(seconds, 1),
    }
    print(
        f"vulncheck: {summary['packages']} packages (installed ones, editable left out, "
        f"unless named); advisories from {summary['source']} (latest release only, "
        "no severity)",
        file=out,
    )
    print(f"  checked exactly (installed = latest release): {summary['checked_exactly']}", file=out)
    print(
        f"  older than the latest release, checked only against advisories still open "
        f"in it: {summary['older_than_latest_checked_in_part']}",
        file=out,
    )
    for label, status in (
        ("newer than the latest release (not checked)", NEWER),
        ("not on the index (not checked)", NOT_ON_INDEX),
        ("no answer (not checked)", NO_ANSWER),
    ):
        names = ", ".join(
            f"{v.name} {v.installed}" + (f" ({v.error})" if v.error else "") for v in by[status]
        )
        print(f"  {label}: {len(by[status])}" + (f": {names}" if names else ""), file=out)
    if by[OLDER]:
        names = ", ".join(f"{v.name} {v.installed} < {v.latest}" for v in by[OLDER])
        print(f"  older: {names}", file=out)
    known, packages = summary["known_vulnerabilities"], summary["vulnerable_packages"]
    print(
        f"  known vulnerabilities: {known} in {packages} packages ({summary['seconds']} s)",
        file=out,
    )
    for v in vulnerable:
        for a in v.vulnerabilities:
            fixed = ", ".join(a.get("fixed_in") or []) or "no fixed release"
            aliases = ", ".join(a.get("aliases") or [])
            print(
                f"  VULNERABLE {v.name} {v.installed}: {a.get('id')} ({aliases}); "
                f"fixed in {fixed}; {a.get('link', '')}",
                file=out,
            )
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--strict",
        action="store_true",
        help="also fail (3) when a package could not be checked exactly",
    )
    parser.add_argument("--skip", action="append", default=[], help="distribution to leave out")
    parser.add_argument(
        "--package",
        action="append",
        default=[],
        metavar="NAME==VERSION",
        help="check these pins instead of the installed distributions",
    )
    parser.add_argument("--json", metavar="FILE", help="write the summary and verdicts as JSON")
    parser.add_argument(
        "--index-json",
        metavar="URL",
        help="project-JSON base URL ending in /pypi/ (default: pip-audit's)",
    )
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per request")
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args(argv)

    base = args.index_json or _index_json_base()
    if not base.endswith("/"):
        base += "/"
    if args.package:
        pins = (p.split("==", 1) for p in args.package)
        packages = {canonicalize_name(name): version for name, version in pins}
    else:
        packages = installed_distributions(args.skip)
    started = time.monotonic()
    verdicts = check(packages, base, args.timeout, args.tries, args.workers)
    summary = report(verdicts, base, time.monotonic() - started)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(
                {"summary": summary, "verdicts": [v.__dict__ for v in verdicts]}, fh, indent=1
            )
    if summary["known_vulnerabilities"]:
        return 1
    if summary["no_answer"]:
        print("vulncheck: the index did not answer for the packages named above", file=sys.stderr)
        return 2
    if args.strict and summary["checked_exactly"] < summary["packages"]:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
