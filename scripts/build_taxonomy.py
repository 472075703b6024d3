"""Regenerate the shipped ESCO subset in ``matching/data/esco/`` from ``../shared/data``.

Sources (see their PROVENANCE.md):

- ``../shared/data/esco-v1.1.1-en``: all skills, occupations, occupation-to-skill relations,
  the skill hierarchy, skill-skill relations and ISCO groups (English labels);
- ``../shared/data/esco-v1.2.0-de-en/de``: German occupation labels (gendered forms,
  alternative and hidden labels), German ISCO group labels and German labels of the skills
  in the thematic collections.

The concept set and all relations come from v1.1.1; the German files only add labels to
concepts that exist there. The output is deterministic (sorted rows, gzip and zip
timestamps fixed), so rerunning it on the same inputs gives byte-identical files.

Usage::

    python scripts/build_taxonomy.py [--shared ../shared/data] [--target matching/data/esco]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from matching.taxonomy import _compile, _write_compact  # noqa: E402

__all__ = ["build", "main"]

VERSION = "ESCO v1.1.1 + de labels v1.2.0"


def build(shared: Path, target: Path) -> Path:
    """Compile the shipped taxonomy from the shared ESCO folders into ``target``.

    Parameters
    ----------
    shared : pathlib.Path
        The shared data folder holding ``esco-v1.1.1-en`` and ``esco-v1.2.0-de-en``.
    target : pathlib.Path
        Output directory, replaced atomically.

    Returns
    -------
    pathlib.Path
        ``target``.
    """
    sources = [shared / "esco-v1.1.1-en", shared / "esco-v1.2.0-de-en" / "de"]
    compact = _compile(sources, VERSION)
    compact.meta["sources"] = [
        "esco-v1.1.1-en (official CSV export, English + relations)",
        "esco-v1.2.0-de-en/de (official CSV export, German, partial)",
    ]
    return _write_compact(compact, target)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--target", type=Path, default=ROOT / "matching" / "data" / "esco")
    args = parser.parse_args(argv)
    out = build(args.shared, args.target)
    sizes = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {out} ({sizes / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
