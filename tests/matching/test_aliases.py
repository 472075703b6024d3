"""Tests of the curated German alias lists shipped with the taxonomy."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from matching.taxonomy import Taxonomy, normalize_text

DATA = Path(__file__).resolve().parents[2] / "matching" / "data"


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


@pytest.fixture(scope="module")
def skill_aliases() -> pd.DataFrame:
    return pd.read_csv(DATA / "skill_aliases_de.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def occupation_aliases() -> pd.DataFrame:
    return pd.read_csv(DATA / "occupation_aliases_de.csv", dtype=str, keep_default_na=False)


def test_skill_alias_columns_and_coverage(skill_aliases: pd.DataFrame) -> None:
    assert list(skill_aliases.columns) == ["skill_uri", "alias"]
    assert skill_aliases["skill_uri"].nunique() >= 300
    assert (skill_aliases["alias"].str.strip() == skill_aliases["alias"]).all()
    assert (skill_aliases["alias"] != "").all()


def test_occupation_alias_columns_and_coverage(occupation_aliases: pd.DataFrame) -> None:
    assert list(occupation_aliases.columns) == ["occupation_uri", "alias"]
    assert len(occupation_aliases) >= 100
    assert (occupation_aliases["alias"] != "").all()


def test_every_alias_uri_exists(
    taxonomy: Taxonomy, skill_aliases: pd.DataFrame, occupation_aliases: pd.DataFrame
) -> None:
    unknown_skills = set(skill_aliases["skill_uri"]) - set(taxonomy.skill_position)
    unknown_occupations = set(occupation_aliases["occupation_uri"]) - set(
        taxonomy.occupation_position
    )
    assert not unknown_skills
    assert not unknown_occupations


@pytest.mark.parametrize(
    ("name", "uri_column"),
    [("skill_aliases_de.csv", "skill_uri"), ("occupation_aliases_de.csv", "occupation_uri")],
)
def test_no_alias_points_to_two_concepts(name: str, uri_column: str) -> None:
    frame = pd.read_csv(DATA / name, dtype=str, keep_default_na=False)
    keys = frame.assign(key=frame["alias"].map(normalize_text))
    targets = keys.groupby("key")[uri_column].nunique()
    assert targets.max() == 1, targets[targets > 1].index.tolist()


def test_required_job_titles_present(occupation_aliases: pd.DataFrame) -> None:
    aliases = set(occupation_aliases["alias"])
    for title in (
        "Lagerhelfer",
        "Putzkraft",
        "Reinigungskraft",
        "Staplerfahrer",
        "Kommissionierer",
        "Produktionshelfer",
        "Küchenhilfe",
        "Pflegehelfer",
        "Fahrer",
        "Kassierer",
        "Fachkraft für Lagerlogistik",
        "Helfer - Lager",
        "Helfer - Reinigung",
    ):
        assert title in aliases, title


def test_generic_job_titles_present(occupation_aliases: pd.DataFrame) -> None:
    aliases = set(occupation_aliases["alias"])
    for title in (
        "Produktionsmitarbeiter",
        "Mitarbeiter Produktion",
        "Montierer",
        "Maschinen- und Anlagenführer",
        "Anlagenführer",
        "Einrichter",
        "Werkzeugmechaniker",
        "Mitarbeiter Lager",
        "Servicekraft",
        "Kaufmännischer Mitarbeiter",
        "Pädagogische Fachkraft",
        "Lackierer",
        "Schlosser",
    ):
        assert title in aliases, title


def test_sales_titles_of_a_trade_stay_sales_occupations(taxonomy: Taxonomy) -> None:
    # A butcher's shop assistant sells (ISCO 5223); the butcher works the meat (7511).
    for title, isco in (
        ("Fleischereifachverkäufer", "5223"),
        ("Fachverkäufer Metzgerei", "5223"),
        ("Metzger", "7511"),
    ):
        resolution = taxonomy.resolve_occupation(title)
        assert resolution.concept is not None and resolution.concept.isco_code == isco, title


def test_colloquial_skill_terms_present(skill_aliases: pd.DataFrame) -> None:
    aliases = set(skill_aliases["alias"])
    for term in (
        "Stapler fahren",
        "Gabelstapler fahren",
        "Kasse",
        "Putzen",
        "Regale auffüllen",
        "Regale einräumen",
        "Kommissionieren",
    ):
        assert term in aliases, term


def test_every_alias_resolves_to_its_own_concept(
    taxonomy: Taxonomy, skill_aliases: pd.DataFrame, occupation_aliases: pd.DataFrame
) -> None:
    skills = taxonomy.resolve_skills(skill_aliases["alias"].tolist())
    wrong = [
        (alias, r.concept.uri if r.concept else None)
        for alias, uri, r in zip(
            skill_aliases["alias"], skill_aliases["skill_uri"], skills, strict=True
        )
        if r.concept is None or r.concept.uri != uri
    ]
    assert not wrong
    occupations = taxonomy.resolve_occupations(occupation_aliases["alias"].tolist())
    wrong = [
        alias
        for alias, uri, r in zip(
            occupation_aliases["alias"],
            occupation_aliases["occupation_uri"],
            occupations,
            strict=True,
        )
        if r.concept is None or r.concept.uri != uri
    ]
    assert not wrong
