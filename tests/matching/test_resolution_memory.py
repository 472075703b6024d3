"""Remembered free-text resolutions equal resolving afresh, alone or in any batch."""

from __future__ import annotations

import pytest

import matching.taxonomy as taxonomy_module
from matching import Taxonomy

TEXTS = ["Staplerfahren", "operate forklift", "Kasse bedienen", "xqzv unbekannt", "Lager"]


@pytest.mark.parametrize("kind", ["skill", "occupation"])
def test_a_remembered_text_resolves_as_it_did_in_a_batch(taxonomy: Taxonomy, kind: str) -> None:
    resolve = taxonomy.resolve_skills if kind == "skill" else taxonomy.resolve_occupations
    taxonomy._resolved[kind].clear()
    batch = resolve(TEXTS)
    assert set(taxonomy._resolved[kind]) == set(TEXTS)
    again = [resolve([text])[0] for text in reversed(TEXTS)][::-1]
    assert again == batch
    taxonomy._resolved[kind].clear()
    alone = [resolve([text])[0] for text in TEXTS]
    assert alone == batch
    assert [r.query for r in resolve([f"  {TEXTS[0]}"])] == [f"  {TEXTS[0]}"]


def test_only_the_newest_texts_are_remembered(
    taxonomy: Taxonomy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(taxonomy_module, "_RESOLVED_KEPT", 2)
    taxonomy._resolved["skill"].clear()
    taxonomy.resolve_skills(TEXTS[:3])
    assert list(taxonomy._resolved["skill"]) == TEXTS[1:3]
    taxonomy._resolved["skill"].clear()
