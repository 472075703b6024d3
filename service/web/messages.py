"""German wording of the English check messages an import report can contain.

The import's row report carries pydantic's and the scoring library's own messages,
which are English. The admin page shows them in German: the known message forms are
rewritten (values kept), anything else is shown as it came, so nothing is hidden.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["german_message"]

_QUOTED = re.compile(r"'([^']*)'")

_RULES: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern, re.IGNORECASE), replacement)
    for pattern, replacement in (
        (r"^Field required$", "Pflichtfeld fehlt"),
        (r"^Input should be a valid number.*$", "keine Zahl"),
        (r"^Input should be a valid integer.*$", "keine ganze Zahl"),
        (r"^Input should be a valid date.*$", "kein Datum (Format JJJJ-MM-TT)"),
        (r"^Input should be a valid boolean.*$", "weder ja noch nein"),
        (r"^Input should be less than or equal to (\S+)$", r"höchstens \1"),
        (r"^Input should be greater than or equal to (\S+)$", r"mindestens \1"),
        (r"^String should have at most (\d+) characters?$", r"höchstens \1 Zeichen"),
        (r"^String should have at least (\d+) characters?$", r"mindestens \1 Zeichen"),
        (r"^String should match pattern '\^\\d\{5\}\$'$", "keine fünfstellige Postleitzahl"),
        (r"^String should match pattern .*$", "ungültiges Format"),
        (r"^List should have at least (\d+) items? after validation.*$",
         r"mindestens \1 Eintrag nötig"),
        (r"^List should have at most (\d+) items? after validation.*$",
         r"höchstens \1 Einträge"),
        (r"^Value error, min must not exceed max$", "Minimum größer als Maximum"),
        (r"^Value error, give a postcode, a quarter or lat/lon$",
         "Postleitzahl, Stadtteil oder Koordinaten fehlen"),
    )
)  # fmt: skip
#: The scoring library's checks, found anywhere in a message (it prefixes row and field).
_INNER: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"postcode '(\d*)' is unknown", r"Postleitzahl \1 unbekannt"),
        (r"postcode '([^']*)' is not a five-digit German postcode",
         r"„\1“ ist keine fünfstellige Postleitzahl"),
        (r"quarter '(.*)' is not a Bielefeld district or quarter",
         r"„\1“ ist kein Bielefelder Stadtbezirk oder Stadtteil"),
    )
)  # fmt: skip
_CHOICES = re.compile(r"^Input should be (.+)$", re.IGNORECASE)


def german_message(message: str) -> str:
    """Return the German form of an import check message (unknown forms unchanged).

    Examples
    --------
    >>> german_message("Field required")
    'Pflichtfeld fehlt'
    >>> german_message("Input should be 'walk', 'bike', 'transit' or 'car'")
    'erlaubt: walk, bike, transit oder car'
    """
    for pattern, replacement in _RULES:
        if pattern.match(message):
            return pattern.sub(replacement, message)
    for pattern, replacement in _INNER:
        found = pattern.search(message)
        if found:
            return found.expand(replacement)
    choices = _CHOICES.match(message)
    if choices:
        values = _QUOTED.findall(choices.group(1))
        if len(values) > 1:
            return "erlaubt: " + ", ".join(values[:-1]) + " oder " + values[-1]
    return message
