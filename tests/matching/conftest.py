"""Fixtures for the scoring library's tests: shipped reference data and tiny markets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from matching import Geocoder, Matcher, Taxonomy


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


@pytest.fixture(scope="session")
def geocoder() -> Geocoder:
    return Geocoder.load()


@pytest.fixture(scope="session")
def uri(taxonomy: Taxonomy) -> Callable[[str], str]:
    """ESCO URI of a skill or occupation by its exact English label."""
    skills = dict(zip(taxonomy.skills["label_en"], taxonomy.skills["uri"], strict=True))
    occupations = dict(
        zip(taxonomy.occupations["label_en"], taxonomy.occupations["uri"], strict=True)
    )

    def find(label: str) -> str:
        return skills.get(label) or occupations[label]

    return find


def make_vacancy(vacancy_id: str = "v1", **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "vacancy_id": vacancy_id,
        "employer_id": "e1",
        "title": "Lagerhelfer (m/w/d)",
        "occupation": None,
        "skills": [],
        "certificates_required": [],
        "languages": [{"language": "de", "level": "A2"}],
        "postcode": "33609",
        "hours_per_week": 30,
        "days_per_week": 5,
        "shifts": ["day"],
        "driving_licence_required": None,
        "work_permit_required": True,
        "openings": 1,
        "start_date": "2027-03-01",
        "status": "open",
    }
    row.update(fields)
    return row


def make_participant(participant_id: str = "p1", **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "participant_id": participant_id,
        "skills": [],
        "certificates": [],
        "languages": [{"language": "de", "level": "B1"}],
        "postcode": "33609",
        "modes": ["walk", "bike", "transit"],
        "driving_licence": [],
        "max_commute_minutes": None,
        "hours_min": 20,
        "hours_max": 40,
        "availability": ["early", "day", "late"],
        "work_permit": "yes",
        "desired_occupations": [],
        "past_occupations": [],
        "consent": True,
        "approved": True,
    }
    row.update(fields)
    return row


@pytest.fixture
def market(taxonomy: Taxonomy, geocoder: Geocoder) -> Callable[..., Matcher]:
    """Build a fitted matcher from lists of row dicts."""

    def build(vacancies: list[dict[str, Any]], participants: list[dict[str, Any]]) -> Matcher:
        return Matcher(taxonomy=taxonomy, geocoder=geocoder).fit(
            pd.DataFrame(vacancies), pd.DataFrame(participants)
        )

    return build
