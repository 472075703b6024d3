"""Resolve the skills and occupations a request names (ESCO URIs or free text).

Resolution happens once, when a participant or vacancy is written; the records are
stored beside the raw input, shown in responses and handed to the matcher as URIs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matching import Taxonomy
from matching.taxonomy import Resolution

__all__ = ["Resolver", "resolution_record", "unresolved_inputs"]


def resolution_record(resolution: Resolution) -> dict[str, Any]:
    """Return the stored and shown form of one resolution.

    Parameters
    ----------
    resolution : Resolution

    Returns
    -------
    dict
        ``{"input", "uri", "label_de", "label_en", "confidence"}``; ``uri`` and the
        labels are None when the text could not be resolved.
    """
    concept = resolution.concept
    return {
        "input": resolution.query,
        "uri": concept.uri if concept else None,
        "label_de": concept.label_de if concept else None,
        "label_en": concept.label_en if concept else None,
        "confidence": round(float(resolution.confidence), 4),
    }


def unresolved_inputs(records: Sequence[dict[str, Any]] | None) -> list[str]:
    """Return the inputs of ``records`` that did not resolve to a concept."""
    return [r["input"] for r in records or [] if not r.get("uri")]


class Resolver:
    """Resolve skills and occupations against a loaded taxonomy.

    Parameters
    ----------
    taxonomy : Taxonomy
    """

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy

    def skills(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Resolve skill texts or URIs, in input order."""
        if not texts:
            return []
        return [resolution_record(r) for r in self.taxonomy.resolve_skills(list(texts))]

    def occupations(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Resolve occupation texts or URIs, in input order."""
        if not texts:
            return []
        return [resolution_record(r) for r in self.taxonomy.resolve_occupations(list(texts))]

    def occupation(self, text: str | None) -> dict[str, Any] | None:
        """Resolve one occupation text or URI (None stays None)."""
        if not text:
            return None
        return resolution_record(self.taxonomy.resolve_occupation(text))
