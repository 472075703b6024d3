"""Certificates and driving-licence classes: normalised names and implications.

Coaches and employers type certificates in many ways ("Staplerschein",
"Gabelstapler-Führerschein", "forklift licence"). Matching compares canonical codes,
so both sides are normalised with the same table. Anything not in the table is kept
as its normalised text, so an unusual certificate still matches itself exactly.

Driving-licence classes follow the EU scheme (Fahrerlaubnisklassen). Holding a higher
class implies the lower ones it contains (CE implies C, C1E, C1, BE and B; C implies C1
and B because B is a prerequisite), so a vacancy asking for B is met by a CE holder.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

from matching.errors import InvalidInputError

__all__ = [
    "CERTIFICATE_SYNONYMS",
    "LICENCE_CLASSES",
    "LICENCE_IMPLIES",
    "licence_bit",
    "licence_mask",
    "normalise_certificate",
    "normalise_licence_class",
]

LICENCE_CLASSES: Final = (
    "AM", "A1", "A2", "A", "B", "BE", "C1", "C1E", "C", "CE", "D1", "D1E", "D", "DE", "L", "T",
)  # fmt: skip

LICENCE_IMPLIES: Final[dict[str, tuple[str, ...]]] = {
    "A": ("A2", "A1", "AM"),
    "A2": ("A1", "AM"),
    "A1": ("AM",),
    "B": ("AM", "L"),
    "BE": ("B", "AM", "L"),
    "C1": ("B", "AM", "L"),
    "C1E": ("C1", "BE", "B", "AM", "L"),
    "C": ("C1", "B", "AM", "L"),
    "CE": ("C", "C1E", "C1", "BE", "B", "AM", "L", "T"),
    "D1": ("B", "AM", "L"),
    "D1E": ("D1", "BE", "B", "AM", "L"),
    "D": ("D1", "B", "AM", "L"),
    "DE": ("D", "D1E", "D1", "BE", "B", "AM", "L"),
    "T": ("AM", "L"),
}

# Canonical code -> spellings seen in practice (German and English), compared after
# normalisation (casefold, umlauts folded, punctuation removed).
CERTIFICATE_SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "forklift_licence": (
        "staplerschein", "gabelstaplerschein", "gabelstapler fuehrerschein",
        "stapler fuehrerschein",
        "flurfoerderzeugschein", "fahrausweis flurfoerderzeuge", "forklift licence",
        "forklift license", "forklift certificate", "forklift",
    ),
    "food_hygiene": (
        "gesundheitszeugnis", "infektionsschutzbelehrung", "belehrung nach ifsg",
        "belehrung ifsg", "hygieneschulung", "lebensmittelhygiene", "food hygiene certificate",
        "food hygiene", "haccp",
    ),
    "security_34a": (
        "sachkunde 34a", "sachkundepruefung 34a", "unterrichtung 34a", "34a", "bewacherschein",
        "security licence 34a",
    ),
    "first_aid": ("erste hilfe", "erste hilfe kurs", "ersthelfer", "first aid"),
    "care_assistant_basic": (
        "pflegebasiskurs", "pflegehelferkurs", "betreuungskraft 53c", "betreuungskraft",
        "qualifizierung 53b", "care assistant course",
    ),
    "welding": ("schweisserschein", "schweisspruefung", "welding certificate"),
    "crane_operator": ("kranschein", "kranfuehrerschein", "crane licence"),
    "platform_operator": ("hubarbeitsbuehnenschein", "steiger schein", "ipaf"),
    "driver_qualification_95": (
        "berufskraftfahrerqualifikation", "modul 95", "code 95", "bkrfqg", "fahrerkarte",
        "driver cpc",
    ),
    "adr": ("adr schein", "gefahrgutschein", "adr"),
    "electrical_instructed_person": (
        "elektrotechnisch unterwiesene person", "eup", "instructed person electrical",
    ),
}

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_NON_WORD = re.compile(r"[^a-z0-9]+")
_LOOKUP: Final[dict[str, str]] = {}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold().translate(_FOLD)
    text = text.replace("§", " ")
    return " ".join(_NON_WORD.sub(" ", text).split())


def _lookup() -> dict[str, str]:
    if not _LOOKUP:
        for code, spellings in CERTIFICATE_SYNONYMS.items():
            _LOOKUP[_fold(code.replace("_", " "))] = code
            for spelling in spellings:
                _LOOKUP[_fold(spelling)] = code
    return _LOOKUP


def normalise_certificate(text: str) -> str:
    """Return the canonical code of a certificate name.

    Parameters
    ----------
    text : str
        A certificate as typed, German or English.

    Returns
    -------
    str
        The canonical code when the name is known, else the folded text itself.

    Raises
    ------
    InvalidInputError
        If the text is empty.

    Examples
    --------
    >>> normalise_certificate("Gabelstaplerschein")
    'forklift_licence'
    >>> normalise_certificate("Gesundheitszeugnis")
    'food_hygiene'
    >>> normalise_certificate("Motorsägenschein")
    'motorsaegenschein'
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("a certificate must be a non-empty text", field="certificates")
    folded = _fold(text)
    return _lookup().get(folded, folded)


def normalise_licence_class(value: str) -> str:
    """Return a driving-licence class in its canonical spelling.

    Examples
    --------
    >>> normalise_licence_class(" ce ")
    'CE'
    >>> normalise_licence_class("Klasse B")
    'B'
    """
    if not isinstance(value, str):
        raise InvalidInputError(
            f"driving-licence class must be text, got {type(value).__name__}",
            field="driving_licence",
        )
    cleaned = value.strip().upper().replace("KLASSE", "").replace("CLASS", "").strip()
    if cleaned not in LICENCE_CLASSES:
        raise InvalidInputError(
            f"unknown driving-licence class {value!r}; expected one of "
            + ", ".join(LICENCE_CLASSES),
            field="driving_licence",
        )
    return cleaned


def licence_bit(value: str) -> int:
    """Return the bit of one licence class (without implied classes)."""
    return 1 << LICENCE_CLASSES.index(normalise_licence_class(value))


def licence_mask(classes: Iterable[str]) -> int:
    """Return the bit mask of licence classes held, implied classes included.

    Examples
    --------
    >>> licence_mask(["CE"]) & licence_bit("B") != 0
    True
    >>> licence_mask(["B"]) & licence_bit("C") != 0
    False
    """
    mask = 0
    for value in classes:
        canonical = normalise_licence_class(value)
        for held in (canonical, *LICENCE_IMPLIES.get(canonical, ())):
            mask |= 1 << LICENCE_CLASSES.index(held)
    return mask
