"""pytest plugin: with ``JOBMATCH_STRICT_SKIPS=1`` (set by ``.ci/run``) a skip fails.

On a user's machine, tests that need PostgreSQL, a browser or ``../shared/data`` skip
with a reason. CI provides all three, so there a skip means something is missing and
must fail the run instead of hiding.
"""

from __future__ import annotations

import os

import pytest


def _strict() -> bool:
    return os.environ.get("JOBMATCH_STRICT_SKIPS") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if _strict() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in a strict run (JOBMATCH_STRICT_SKIPS=1): {reason}"
