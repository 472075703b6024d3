"""The names of Bielefeld's districts and quarters, for the place fields' suggestions."""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

__all__ = ["quarter_names"]


@lru_cache(maxsize=1)
def quarter_names() -> tuple[str, ...]:
    """Sorted names of the districts and quarters the geocoder knows (read once)."""
    path = resources.files("matching") / "data" / "geo" / "bielefeld_quarters.csv"
    with path.open(encoding="utf-8") as handle:
        names = {row["name"] for row in csv.DictReader(handle) if row.get("name")}
    return tuple(sorted(names, key=str.casefold))
