"""ESCO look-ups of the forms: type-ahead suggestions and an occupation's skills."""

from __future__ import annotations

from typing import Any

from matching import Taxonomy
from matching.errors import UnknownConceptError

__all__ = ["concept_label", "occupation_skills", "suggest_occupations", "suggest_skills"]

_OCCUPATION_SKILLS_LIMIT = 40


def _items(found: list[tuple[Any, float]], limit: int) -> list[dict[str, Any]]:
    # German labels first (stable: keeps the taxonomy's ranking within each group).
    ordered = sorted(found, key=lambda pair: pair[0].label_de is None)[:limit]
    return [
        {
            "uri": c.uri,
            "label": c.label_de or c.label_en,
            "label_de": c.label_de,
            "label_en": c.label_en,
            "german": c.label_de is not None,
        }
        for c, _score in ordered
    ]


def suggest_skills(taxonomy: Taxonomy, query: str, limit: int = 8) -> list[dict[str, Any]]:
    """ESCO skills for typed text, German-labelled ones first.

    Parameters
    ----------
    taxonomy : Taxonomy
    query : str
        What was typed (blank: no suggestions).
    limit : int, default=8

    Returns
    -------
    list of dict
        ``{"uri", "label", "label_de", "label_en", "german"}``.
    """
    query = query.strip()
    if not query:
        return []
    return _items(taxonomy.search_skills(query[:200], limit * 2), limit)


def suggest_occupations(taxonomy: Taxonomy, query: str, limit: int = 8) -> list[dict[str, Any]]:
    """ESCO occupations for typed text, German-labelled ones first (see :func:`suggest_skills`)."""
    query = query.strip()
    if not query:
        return []
    return _items(taxonomy.search_occupations(query[:200], limit * 2), limit)


def occupation_skills(taxonomy: Taxonomy, uri: str) -> list[dict[str, Any]]:
    """The essential and then the optional ESCO skills of an occupation.

    Parameters
    ----------
    taxonomy : Taxonomy
    uri : str
        An occupation URI of ``taxonomy``.

    Returns
    -------
    list of dict
        ``{"uri", "label", "essential"}``, German-labelled skills first within each
        group, at most 40 in all.

    Raises
    ------
    UnknownConceptError
        ``uri`` is not an occupation of the taxonomy.
    """
    position = taxonomy.occupation_position.get(uri)
    if position is None:
        raise UnknownConceptError(f"unknown ESCO occupation URI: {uri!r}", field="occupation")
    skills = taxonomy.skills
    uris = skills["uri"].to_numpy(dtype=object)
    german = skills["label_de"].to_numpy(dtype=object)
    english = skills["label_en"].to_numpy(dtype=object)
    out: list[dict[str, Any]] = []
    for matrix, essential in (
        (taxonomy.occupation_essential, True),
        (taxonomy.occupation_optional, False),
    ):
        start, end = matrix.indptr[position], matrix.indptr[position + 1]
        columns = sorted(
            (int(c) for c in matrix.indices[start:end]),
            key=lambda c: (not isinstance(german[c], str), str(german[c] or english[c])),
        )
        out.extend(
            {
                "uri": str(uris[c]),
                "label": str(german[c]) if isinstance(german[c], str) else str(english[c]),
                "essential": essential,
            }
            for c in columns
        )
    return out[:_OCCUPATION_SKILLS_LIMIT]


def concept_label(taxonomy: Taxonomy, value: str, kind: str = "skill") -> str:
    """The German (else English) label of a skill or occupation URI; text stays as it is."""
    if not value.startswith("http"):
        return value
    try:
        concept = taxonomy.skill(value) if kind == "skill" else taxonomy.occupation(value)
    except UnknownConceptError:
        return value
    return concept.label_de or concept.label_en
