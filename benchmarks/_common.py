"""Shared helpers of the benchmarks: machine description, timing summaries, results."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

_LIBRARIES = ("numpy", "scipy", "pandas", "scikit-learn", "joblib", "fastapi", "uvicorn",
              "sqlalchemy")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
        "libraries": versions,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def summary_ms(seconds: list[float]) -> dict[str, float]:
    """Median, p90, p99 and mean in milliseconds."""
    values = np.asarray(seconds) * 1e3
    return {
        "median_ms": round(float(np.median(values)), 3),
        "p90_ms": round(float(np.percentile(values, 90)), 3),
        "p99_ms": round(float(np.percentile(values, 99)), 3),
        "mean_ms": round(float(values.mean()), 3),
        "n": len(values),
    }


def _public_args(args: list[str]) -> list[str]:
    """The command-line arguments without a scratch directory (a local path says nothing)."""
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--workdir":
            skip = True
        elif not arg.startswith("--workdir="):
            kept.append(arg)
    return kept


def write_results(name: str, payload: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` with the machine description."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    command = " ".join(["python -m benchmarks." + Path(sys.argv[0]).stem, *_public_args(sys.argv[1:])])
    body = {"benchmark": name, "command": command,
            "machine": machine(), **payload}
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
