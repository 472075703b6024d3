"""``assess_one`` (the explanations' scalar language rule) agrees with ``assess``."""

from __future__ import annotations

import itertools

import numpy as np

from matching.language import GAP, MEETS, REACHABLE, assess, assess_one

_DATES = [None, np.datetime64("NaT"), np.datetime64("2026-03-01"), np.datetime64("2026-04-01"),
          np.datetime64("2026-03-01T23:00"), "2026-03-02"]  # fmt: skip


def test_assess_one_equals_assess_on_every_level_and_date_combination() -> None:
    seen = set()
    for level, required, expected in itertools.product(range(8), repeat=3):
        for by, start in itertools.product(_DATES, repeat=2):
            status, gap = assess(level, required, expected, by, start)
            one = assess_one(level, required, expected, by, start)
            assert one == (int(status), int(gap)), (level, required, expected, by, start)
            seen.add(one[0])
    assert seen == {MEETS, REACHABLE, GAP}


def test_assess_one_known_answers() -> None:
    b1, b2 = 3, 4
    course_in_time = (np.datetime64("2026-03-01"), np.datetime64("2026-04-01"))
    assert assess_one(b1, b2, b2, *course_in_time) == (REACHABLE, 1)
    assert assess_one(b1, b2, b1, *course_in_time) == (GAP, 1)  # the course stops short
    assert assess_one(b1, b2, b2, course_in_time[1], course_in_time[0]) == (GAP, 1)  # too late
    assert assess_one(2, b2, b2, *course_in_time) == (GAP, 2)  # two levels short
    assert assess_one(b2, b1, 0, None, None) == (MEETS, 0)
