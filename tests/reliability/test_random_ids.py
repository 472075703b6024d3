"""Guessing ids finds nothing: 1,000 random ids per role answer 404, never 200 or 500."""

from __future__ import annotations

import random
from collections import Counter

from tests.service.conftest import World

GUESSES = 1000


def test_random_ids_find_nothing(world: World) -> None:
    own = {
        "coach1": {world.participant("coach1") for _ in range(3)},
        "employer1": {world.vacancy("employer1") for _ in range(3)},
    }
    foreign_participants = {world.participant("coach2") for _ in range(3)}
    foreign_vacancies = {world.vacancy("employer2") for _ in range(3)}
    rng = random.Random(20261126)
    paths = (
        ("coach1", "/participants/{id}", own["coach1"]),
        ("coach1", "/participants/{id}/matches?limit=10", own["coach1"]),
        ("coach1", "/participants/{id}/export", own["coach1"]),
        ("employer1", "/vacancies/{id}", own["employer1"]),
        ("employer1", "/vacancies/{id}/candidates?limit=10", own["employer1"]),
        ("employer1", "/employers/{id}", {world.ids["employer1_firm"]}),
    )
    statuses: Counter[int] = Counter()
    for n in range(GUESSES):
        who, template, mine = paths[n % len(paths)]
        if n % 10 == 0:  # every tenth guess is a real id of someone else
            pool = foreign_participants if "participants" in template else foreign_vacancies
            guess = rng.choice(sorted(pool))
        else:
            guess = rng.choice((rng.randint(1, 10_000), rng.randint(1, 2**31 - 1)))
        if guess in mine:
            continue
        response = world.call("GET", template.format(id=guess), who)
        statuses[response.status_code] += 1
        assert response.status_code == 404, (template, guess, response.status_code)
        assert response.json()["error"] == "not_found"
    assert sum(statuses.values()) >= GUESSES - 20
    assert set(statuses) == {404}


def test_malformed_ids_are_refused_without_a_server_error(world: World) -> None:
    for guess in ("0", "-1", str(2**31), str(2**63), str(2**64), "1e3", "abc", "%00"):
        response = world.call("GET", f"/participants/{guess}", "coach1")
        assert response.status_code in (404, 422), (guess, response.status_code)
