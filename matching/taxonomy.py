"""The ESCO taxonomy: skills, occupations, their relations, and free-text resolution.

The project ships a compact copy of what it needs from ESCO (the European Skills,
Competences, Qualifications and Occupations classification of the European Commission,
CC BY 4.0) under ``matching/data/esco/``, plus curated German aliases in
``matching/data/skill_aliases_de.csv`` and ``matching/data/occupation_aliases_de.csv``.
:meth:`Taxonomy.load` reads it in well under a second; :func:`import_esco` turns a full
official ESCO CSV download into the same compact format.

Free text (German or English, any case, a word missing, a typo, a gendered job title such
as ``"Lagerhelfer/in"`` or ``"Reinigungskraft (m/w/d)"``) is resolved to ESCO concepts in
two steps: an exact hit on a normalised label gives confidence 1.0; otherwise the cosine
similarity of character n-gram TF-IDF vectors between the query and every label, taken as
the maximum over the labels of each concept, is the confidence. Below
:data:`RESOLVE_THRESHOLD` the text is reported back unresolved (``concept=None``).

The compact format (one directory):

``meta.json``
    format version, ESCO version string, counts.
``skills.csv.gz``
    ``uri, label_en, label_de, skill_type, reuse_level``; row order is the skill position.
``occupations.csv.gz``
    ``uri, label_en, label_de, isco_code, code``; row order is the occupation position.
``skill_labels.csv.gz``, ``occupation_labels.csv.gz``
    ``position, lang, kind, label`` with kind one of ``pref``, ``alt``, ``hidden``.
``isco_groups.csv.gz``
    ``code, label_en, label_de`` (codes of 1 to 4 digits).
``relations.npz``
    integer position pairs of the essential and optional occupation-to-skill relations and
    the upper triangle of the weighted skill-skill relatedness matrix.
"""

from __future__ import annotations

import bisect
import io
import itertools
import json
import os
import re
import shutil
import tempfile
import threading
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from matching.errors import DataFileError, InvalidInputError, UnknownConceptError

__all__ = [
    "ALIASES_VERSION",
    "RESOLVE_THRESHOLD",
    "Concept",
    "Resolution",
    "Taxonomy",
    "import_esco",
    "is_helper_title",
    "normalize_text",
    "query_variants",
    "title_variants",
]

#: Confidence below which a resolution reports ``concept=None``. Character n-gram cosine
#: similarities of 0.6 and more were, on the known answers of the tests (typos, a word
#: missing, gendered titles), the intended concept or a close sibling of it; German job
#: titles typed as skills, other unrelated text and gibberish score between 0.2 and 0.6
#: (see ``docs/TAXONOMY.md``).
RESOLVE_THRESHOLD: float = 0.6

#: Date (and number of the change that day) of the last change to the curated German alias
#: lists; part of :attr:`Taxonomy.version`.
ALIASES_VERSION: str = "2026-11-26.2"

_FORMAT_VERSION = 1
_DATA_DIR = Path(__file__).resolve().parent / "data"
_SHIPPED_DIR = _DATA_DIR / "esco"
_SKILL_ALIASES = _DATA_DIR / "skill_aliases_de.csv"
_OCCUPATION_ALIASES = _DATA_DIR / "occupation_aliases_de.csv"

_SKILL_PREFIX = "http://data.europa.eu/esco/skill/"
_OCCUPATION_PREFIX = "http://data.europa.eu/esco/occupation/"
_SIBLING_GROUP_MAX = 30
_SIBLING_WEIGHT = np.float32(0.5)
_N_ALTERNATIVES = 4
_BATCH_CHUNK = 128
#: Free-text resolutions remembered per concept kind (the oldest are dropped first).
_RESOLVED_KEPT = 8192
#: Factor applied to non-German label scores when a query looks German (ordering only).
_FOREIGN_LABEL_FACTOR = 0.97
_KIND_PRIORITY = {"alias": 3, "pref": 2, "alt": 1, "hidden": 0}

_GZIP = {"method": "gzip", "compresslevel": 9, "mtime": 0}


# --------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class Concept:
    """One ESCO skill or occupation.

    Parameters
    ----------
    uri : str
        The ESCO concept URI.
    kind : str
        ``"skill"`` or ``"occupation"``.
    label_en : str
        English preferred label.
    label_de : str or None
        German preferred label (for occupations the first gendered form, e.g.
        ``"Lagerarbeiter"``), else the first curated German alias, else None.
    isco_code : str or None
        Four-digit ISCO-08 unit group for occupations, None for skills.
    """

    uri: str
    kind: str
    label_en: str
    label_de: str | None
    isco_code: str | None


@dataclass(frozen=True)
class Resolution:
    """The outcome of resolving one free-text string.

    Parameters
    ----------
    query : str
        The text as given.
    concept : Concept or None
        The best concept, None when its confidence is below :data:`RESOLVE_THRESHOLD`.
    confidence : float
        Confidence of the best candidate in [0, 1] (1.0 for an exact label or URI hit).
    alternatives : tuple of (Concept, float)
        The next best candidates, at most four, by descending confidence.
    """

    query: str
    concept: Concept | None
    confidence: float
    alternatives: tuple[tuple[Concept, float], ...] = ()


# --------------------------------------------------------------------------- normalisation

_GENDER_PAREN = re.compile(
    r"\(\s*(?:[mwfdx]\s*(?:[/|,]\s*[mwfdx]\s*)+|gn\*?|d|all genders|divers)\s*\)", re.IGNORECASE
)
_GENDER_BARE = re.compile(r"(?<!\w)[mwf]\s*/\s*[mwf]\s*/\s*[dx](?!\w)", re.IGNORECASE)
_GENDER_SUFFIX = re.compile(r"(?<=\w)(?:/\s*-?|\*|:|_|\(|/\()in(?:nen)?\)?(?!\w)", re.IGNORECASE)
_BINNEN_I = re.compile(r"(?<=[a-zäöüß])In(?:nen)?(?![a-zäöüß])")
_MANN_FRAU = re.compile(r"(?<=mann)\s*/\s*-?\s*(?:frau|leute)(?!\w)", re.IGNORECASE)
_NON_WORD = re.compile(r"[^0-9a-z]+")
_UMLAUT_AE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_UMLAUT_A = str.maketrans({"ä": "a", "ö": "o", "ü": "u"})
_GERMAN_HINT = re.compile(
    r"[äöüß]|(?:ung|ungen|keit|heit|schaft|ieren|kraft|helfer|erin|innen|arbeiten|fahren)\b"
)


def _strip_gender(text: str) -> str:
    """Remove gender markers (``(m/w/d)``, ``/in``, ``*in``, ``:in``, Binnen-I) from text."""
    text = _GENDER_PAREN.sub(" ", text)
    text = _GENDER_BARE.sub(" ", text)
    text = _BINNEN_I.sub("", text)
    text = _GENDER_SUFFIX.sub("", text)
    return _MANN_FRAU.sub("", text)


def normalize_text(text: str, *, umlauts: str = "ae") -> str:
    """Normalise a label or query for matching.

    NFKC, case folding (which maps ``ß`` to ``ss``), umlaut folding, every run of
    characters other than ``a-z`` and digits replaced by one space, trimmed.

    Parameters
    ----------
    text : str
        Any text.
    umlauts : {"ae", "a"}
        Fold ``ä`` to ``ae`` (default) or to ``a``; other accents are dropped.

    Returns
    -------
    str
        The normalised text.

    Examples
    --------
    >>> normalize_text("Gabelstapler-Fahrer  (Außenlager)")
    'gabelstapler fahrer aussenlager'
    >>> normalize_text("Köchin", umlauts="a")
    'kochin'
    """
    folded = text.casefold().translate(_UMLAUT_AE if umlauts == "ae" else _UMLAUT_A)
    if not folded.isascii():
        folded = unicodedata.normalize("NFKC", folded).casefold()
        folded = folded.translate(_UMLAUT_AE if umlauts == "ae" else _UMLAUT_A)
        folded = "".join(
            c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c)
        )
    return _NON_WORD.sub(" ", folded).strip()


def _split_slash(text: str) -> list[str]:
    """Split ``"A/B"`` at every slash into the left and right parts (both kept if ≥ 2 chars)."""
    parts: list[str] = []
    for match in re.finditer("/", text):
        left, right = text[: match.start()].strip(), text[match.end() :].strip()
        parts.extend(p for p in (left, right) if len(normalize_text(p)) >= 2)
    return parts


def query_variants(text: str) -> list[str]:
    """The normalised forms under which a query is looked up.

    Gender markers are removed, and a gendered or alternative pair ``"Koch/Köchin"`` is
    looked up as a whole and as each of its forms.

    Parameters
    ----------
    text : str
        The query as typed.

    Returns
    -------
    list of str
        Distinct non-empty normalised variants, the whole text first.

    Examples
    --------
    >>> query_variants("Lagerhelfer/in")
    ['lagerhelfer']
    >>> query_variants("Koch/Köchin")
    ['koch koechin', 'koch', 'koechin']
    >>> query_variants("Reinigungskraft (m/w/d)")
    ['reinigungskraft']
    """
    stripped = _strip_gender(text)
    candidates = [stripped, *_split_slash(stripped)]
    out: list[str] = []
    for candidate in candidates:
        norm = normalize_text(candidate)
        if norm and norm not in out:
            out.append(norm)
    return out


# --------------------------------------------------------------------------- job titles

#: Weights of the title variants (multiplied into the variant's confidence).
_W_PART_FIRST = 0.97  # the first part of a title split at a separator ("X, Y" → "X")
_W_PART_OTHER = 0.9  # a later part ("X, Y" → "Y")
_W_HEAD_PHRASE = 0.92  # the words before "in", "für", "mit" … ("Verkäufer mit Kasse")
_W_REORDER = 0.95  # "Produktionsmitarbeiter" ↔ "Mitarbeiter Produktion" ↔ "Helfer - X"
_W_HEAD_WORD = 0.78  # the head of an unknown compound ("Werkzeugmechaniker" → "Mechaniker")
_W_KEY_WORD = 0.85  # the job word of a longer title ("Verkäufer Frischetheke" → "Verkäufer")
_W_AGENCY = 0.97  # the agency's "X - Y" read as "X für Y"
_W_DOMAIN = 0.78  # a bare field read as a job in it ("Quereinsteiger Lager" → "Mitarbeiter Lager")
_W_NOISY_RAW = 0.9  # the title with its noise words still in
_W_ALL_NOISE = 0.55  # a title made of noise only ("Aushilfe (m/w/d)", "Minijob")
_MAX_TITLE_VARIANTS = 14

_AGENCY_NO_FOCUS = re.compile(r"\(\s*(?:o\.|ohne)\s*Angabe\s+(?:des|der)\s+\w+\s*\)", re.IGNORECASE)
_GENDER_PAREN_LOOSE = re.compile(
    r"[(\[]\s*(?:[mwfdxi]|div|divers|gn|w|m)\s*(?:[/|,.\-*:]?\s*(?:[mwfdxi]|div|divers)\s*){1,3}"
    r"[)\]]|[(\[]\s*(?:gn\*?|all genders|alle geschlechter|genderneutral)\s*[)\]]",
    re.IGNORECASE,
)
_ELLIPSIS = re.compile(r"\b(\w+)-\s*(?:,|und|oder|bzw\.?|&|/)\s*(\w+)")
_GENDER_ENDING = re.compile(r"(?<=\w)(?:/r|\(r\)|/-?e|\(e/in\)|\(e\))(?!\w)")
_AGENCY_DASH = re.compile(r"\s[-–]\s")
_TITLE_SEPARATOR = re.compile(
    r"\s*(?:,|;|\||\s[-–—]+\s|[–—]|/|\(|\)|\[|\]|:|•|!|\s\+\s|\s(?:sucht|suchen)\s)\s*"
)
# Employment type, schedule, pay basis, start date, status and filler words (normalised).
_TITLE_NOISE = re.compile(
    r"\b(?:"
    r"(?:in |auf |als |fuer )?(?:teilzeit|vollzeit)(?: ?basis| ?stelle| ?job| ?kraft)?"
    r"|(?:(?:in|auf) )?(?:minijob|mini job|midijob)(?: ?basis)?|minijobber"
    r"|(?:auf )?(?:\d+ )?(?:euro|eur)(?: ?basis| ?job)?|auf basis|basis"
    r"|geringfuegig(?:e|er)?(?: beschaeftigung| beschaeftigt(?:e|er)?| basis)?"
    r"|wochenstunden|wochenstd|std woche|stunden(?: ?basis| pro woche| woche| monat)?"
    r"|std|h woche|pro woche|je woche|die woche|im monat|pro monat"
    r"|ab sofort|sofort|zum naechstmoeglichen zeitpunkt|ab (?:januar|februar|maerz|april|mai"
    r"|juni|juli|august|september|oktober|november|dezember)"
    r"|(?:un)?befristet(?:e|er)?|in festanstellung|festanstellung|feste anstellung|gesucht"
    r"|dringend|wir suchen|gesucht|quereinsteiger(?:in|innen)?|quereinstieg"
    r"|(?:auch )?fuer quereinsteiger|nebenjob|nebentaetigkeit|zusatzverdienst|werkstudent"
    r"|(?:in )?(?:2|3|zwei|drei|wechsel|frueh|spaet|nacht|tag)? ?schicht(?:betrieb|system"
    r"|arbeit|dienst)?|(?:im |in |fuer den |fuer |aus dem )?bereich(?:en)?"
    r"|(?:[mwfdxi]|div|divers)(?: (?:[mwfdxi]|div|divers)){1,3}|mwd|wmd|mfd|mwx|gn"
    r"|\d+[a-z]?|ca|jobs?|stellenangebot|stelle|brutto|netto|stundenlohn|gehalt|monat"
    r"|verguetung|bezahlung|uebertariflich\w*|urlaub|tage|firmenwagen|home office|bonus"
    r"|willkommen|verstaerkung|mind|bis zu|top|attraktiv\w*|examiniert\w*|gelernt\w*"
    r"|staatlich anerkannt\w*|erfahren\w*|qualifiziert\w*|motiviert\w*|engagiert\w*"
    r"|zuverlaessig\w*|freundlich\w*|flexibl\w*|tatkraeftig\w*|junior|senior|neue[rn]?"
    r"|vz|tz|ausbildung (?:zur zum|zum zur|zum|zur|als)|ausbildung|auszubildende\w*|azubi"
    r"|praktikum|praktikant\w*|duales studium|trainee|stellvertretende\w*|stv|dipl"
    r")\b"
)
_TITLE_MODIFIER = re.compile(r"\b(?:aushilfe|aushilfskraft|aushilfsjob)\b")
_EDGE_WORDS = frozenset(
    (
        "in", "im", "mit", "fuer", "und", "oder", "zur", "zum", "als", "der", "die", "das",
        "den", "dem", "ab", "auf", "bei", "von", "vom", "nach", "per", "bis", "pro", "je",
        "sowie", "an", "am", "u", "o", "bzw",
    )
)  # fmt: skip
_CUT_WORDS = re.compile(r" (?:in|im|fuer|mit|bei|am|an|ab|zur|zum|nach|von|vom) ")
#: German job-title heads (normalised, longest first): ``"Werkzeugmechaniker"`` ends in
#: ``"mechaniker"``. Generic heads say nothing alone and are only reordered.
_GENERIC_HEADS = (
    "hilfsarbeiter", "mitarbeiter", "hilfskraft", "fachkraft", "arbeiter", "helfer",
    "hilfe", "kraft",
)  # fmt: skip
_HEADS = tuple(
    sorted(
        {
            *_GENERIC_HEADS,
            "mechatroniker", "elektroniker", "mechaniker", "techniker", "elektriker",
            "installateur", "fahrer", "fuehrer", "verkaeufer", "monteur", "montierer",
            "bediener", "einsteller", "schlosser", "schweisser", "lackierer", "maler",
            "tischler", "schreiner", "reiniger", "pfleger", "betreuer", "berater", "kaufmann",
            "kauffrau", "leiter", "meister", "koch", "disponent", "sachbearbeiter",
            "assistent", "referent", "ingenieur", "entwickler", "programmierer", "planer",
            "pruefer", "kontrolleur", "zusteller", "kommissionierer", "packer", "verpacker",
            "sortierer", "bote", "kurier", "gaertner", "erzieher", "hausmeister",
            "bauer", "macher", "zerspaner", "dreher", "fraeser", "schleifer", "kassierer",
            "lagerist", "bearbeiter", "verarbeiter", "operator", "spezialist", "manager", "trainer",
        },
        key=lambda h: (-len(h), h),
    )
)  # fmt: skip


#: Heads too vague to stand in for their compound ("Anlagenführer" is not "Führer").
_NO_HEAD_ALONE = frozenset(
    {*_GENERIC_HEADS, "fuehrer", "bediener", "bearbeiter", "macher", "bauer", "leiter",
     "operator", "spezialist", "manager", "meister", "pfleger", "betreuer", "berater",
     "planer", "entwickler", "assistent", "referent", "trainer"}
)  # fmt: skip
_NOT_COMPOUNDS = frozenset({"aushilfe", "aushilfskraft", "mithilfe", "haushilfe"})


#: Abbreviations common in German job titles (normalised word → written out).
_ABBREVIATIONS = {
    "paed": "paedagogische",
    "kfm": "kaufmaennischer",
    "kaufm": "kaufmaennischer",
    "techn": "technischer",
    "med": "medizinische",
    "ltg": "leitung",
    "ing": "ingenieur",
    "mech": "mechaniker",
    "elektr": "elektro",
    "fa": "fachangestellte",
    "kl": "klasse",
}
#: First words that make a title a helper title; these prefer occupations outside the ISCO
#: major groups 1–3 (managers, professionals, technicians).
_HELPER_WORDS = frozenset({"helfer", "hilfskraft", "hilfsarbeiter", "aushilfe", "hilfe"})
_HELPER_SKILLED_FACTOR = np.float32(0.8)


def _expand(norm: str) -> str:
    """Write out the abbreviations of a normalised title (``"paed fachkraft"``)."""
    words = norm.split()
    if not any(w in _ABBREVIATIONS for w in words):
        return norm
    return " ".join(_ABBREVIATIONS.get(w, w) for w in words)


def is_helper_title(text: str) -> bool:
    """Whether a job title names a helper job (``"Helfer/in - Lager"``, ``"Hilfskraft Küche"``).

    Parameters
    ----------
    text : str
        A job title.

    Returns
    -------
    bool
        True when the first word, gender markers removed, is "Helfer", "Hilfskraft",
        "Hilfsarbeiter", "Aushilfe" or "Hilfe".

    Examples
    --------
    >>> is_helper_title("Helfer/in - Lebensmittelherstellung"), is_helper_title("Lagerhelfer")
    (True, False)
    """
    norm = normalize_text(_strip_gender(text))
    return norm.split(" ", 1)[0] in _HELPER_WORDS if norm else False


def _gender_ending(match: re.Match[str]) -> str:
    """``"Angestellte/r"`` → ``"Angestellter"``, ``"Bürogehilf(e/in)"`` → ``"Bürogehilfe"``."""
    return "r" if "r" in match.group(0) else "e"


def _key_words(clean: str) -> list[str]:
    """Words of a longer title that are job words by their head (``"verkaeufer"``)."""
    words = clean.split()
    if len(words) < 2:
        return []
    return [
        w for w in words if w not in _NO_HEAD_ALONE and any(w.endswith(head) for head in _HEADS)
    ]


def _clean_title(norm: str) -> str:
    """Remove employment-type and scheduling noise and dangling connectors from a title."""
    text = _TITLE_NOISE.sub(" ", norm)
    words = text.split()
    if len(words) > 1 and _TITLE_MODIFIER.search(text):
        kept = [w for w in words if not _TITLE_MODIFIER.fullmatch(w)]
        words = kept or words
    while words and words[0] in _EDGE_WORDS:
        words.pop(0)
    while words and words[-1] in _EDGE_WORDS:
        words.pop()
    return " ".join(words)


def _compound_head(word: str) -> tuple[str, str] | None:
    """Split ``"produktionsmitarbeiter"`` into (``"produktion"``, ``"mitarbeiter"``)."""
    for head in _HEADS:
        if word.endswith(head) and len(word) - len(head) >= 3:
            modifier = word[: -len(head)]
            if modifier.endswith("s") and not modifier.endswith("ss"):
                modifier = modifier[:-1]
            if len(modifier) < 3 or word in _NOT_COMPOUNDS:
                return None
            return modifier, head
    return None


def _reorderings(clean: str) -> list[tuple[str, float, bool]]:
    """Equivalent forms of a generic-head title and the head of an unknown compound."""
    words = clean.split()
    out: list[tuple[str, float, bool]] = []
    if len(words) >= 2 and words[0] in _GENERIC_HEADS:
        # "Helfer - Lager" / "Mitarbeiter Produktion" → "Lagerhelfer", "Produktionsmitarbeiter".
        rest = " ".join(words[1:])
        head = words[0]
        if len(words) == 2:
            out += [(rest + head, _W_REORDER, False), (rest + "s" + head, _W_REORDER, False)]
        out.append((f"{head} im bereich {rest}", _W_REORDER, False))
        if head in ("helfer", "hilfskraft", "hilfe"):
            out.append((f"hilfsarbeiter {rest}", _W_REORDER, False))
    if len(words) <= 2:
        split = _compound_head(words[0]) if words else None
        if split is not None:
            modifier, head = split
            rest = " ".join(words[1:])
            out.append((f"{head} {modifier} {rest}".strip(), _W_REORDER, False))
            if head in _GENERIC_HEADS:
                out.append((f"{head} im bereich {modifier}", _W_REORDER, False))
            elif head not in _NO_HEAD_ALONE:
                out.append((f"{head} {rest}".strip(), _W_HEAD_WORD, True))
    return out


def title_variants(text: str) -> list[tuple[str, float]]:
    """Normalised forms of a job title with the weight each one's confidence is scaled by.

    On top of :func:`query_variants` (weight 1.0): gender markers in all their variants and
    the agency's ``"(o. Angabe des Schwerpunkts)"`` are removed; employment-type, schedule,
    pay and start-date words (``"Teilzeit"``, ``"auf 520-Euro-Basis"``, ``"20
    Wochenstunden"``, ``"ab sofort"``, ``"befristet"``, ``"Quereinsteiger"``, ``"Aushilfe"``
    as a modifier, numbers) are dropped (1.0); the title is split at separators (``,``,
    `` - ``, ``|``, ``/``, ``(``) into parts, the first part weighing 0.97 and the others
    0.9; the words before ``"in"``, ``"für"``, ``"mit"`` … are tried (0.92, for locations
    and qualifiers); ``"Maschinen- und Anlagenführer"`` is expanded into both compounds;
    generic-head titles are reordered (``"Helfer - Lager"`` ↔ ``"Lagerhelfer"``,
    ``"Produktionsmitarbeiter"`` ↔ ``"Mitarbeiter Produktion"``, 0.95); and the head of an
    unknown compound stands in for it with reduced weight (``"Werkzeugmechaniker"`` →
    ``"Mechaniker"``, 0.78).

    Parameters
    ----------
    text : str
        A job title as written in an ad.

    Returns
    -------
    list of (str, float)
        Distinct normalised variants with their weight, the highest weight kept per
        variant, in order of first appearance.

    Examples
    --------
    >>> title_variants("Verkäufer in Teilzeit (m/w/d)")[:2]
    [('verkaeufer', 1.0), ('verkaeufer in teilzeit', 0.9)]
    """
    return [(variant, weight) for variant, weight, _ in _title_variants(text)]


def _title_variants(text: str) -> list[tuple[str, float, bool]]:
    """:func:`title_variants` with a flag per variant: True for a fallback (a compound's head).

    A fallback only counts when no other variant of the title reaches
    :data:`RESOLVE_THRESHOLD`, so that ``"Gabelstapelfahrer"`` (a typo) keeps its near
    match "Gabelstaplerfahrer" rather than falling back to "Fahrer".
    """
    weights: dict[str, float] = {}
    fallback: dict[str, bool] = {}

    def add(variant: str, weight: float, is_fallback: bool = False) -> None:
        if len(variant) >= 2 and weight > weights.get(variant, 0.0):
            weights[variant] = weight
            fallback[variant] = is_fallback

    base = _GENDER_ENDING.sub(_gender_ending, _GENDER_PAREN_LOOSE.sub(" ", text))
    base = _AGENCY_NO_FOCUS.sub(" ", _strip_gender(base))
    wholes: list[tuple[str, float]] = [(base, 1.0)]
    for match in _ELLIPSIS.finditer(base):
        first, second = match.group(1), match.group(2)
        split = _compound_head(normalize_text(second))
        wholes.append((base[: match.start()] + second + base[match.end() :], _W_REORDER))
        if split is not None:
            joined = first + split[1]
            wholes.append((base[: match.start()] + joined + base[match.end() :], _W_REORDER))
    found_clean = False
    for whole, whole_weight in wholes:
        pieces = [p for p in _TITLE_SEPARATOR.split(whole) if p and p.strip()]
        candidates = [(whole, whole_weight)]
        if len(pieces) > 1:
            candidates += [
                (piece, whole_weight * (_W_PART_FIRST if i == 0 else _W_PART_OTHER))
                for i, piece in enumerate(pieces)
            ]
        sides = _AGENCY_DASH.split(whole)
        if len(sides) == 2:
            left, right = (_clean_title(_expand(normalize_text(s))) for s in sides)
            if left and right:
                add(f"{left} fuer {right}", whole_weight * _W_AGENCY)
                add(f"{left} im bereich {right}", whole_weight * _W_AGENCY)
        for candidate, weight in candidates:
            clean = _clean_title(_expand(normalize_text(candidate)))
            if not clean or clean in _GENERIC_HEADS or _TITLE_MODIFIER.fullmatch(clean):
                continue
            found_clean = True
            add(clean, weight)
            cut = _CUT_WORDS.split(clean, maxsplit=1)
            head_phrase = _clean_title(cut[0]) if len(cut) > 1 else ""
            if head_phrase and head_phrase not in _GENERIC_HEADS:
                add(head_phrase, weight * _W_HEAD_PHRASE)
            for short in (clean, head_phrase) if head_phrase else (clean,):
                for reordered, factor, is_fallback in _reorderings(short):
                    add(reordered, weight * factor, is_fallback)
            for word in _key_words(head_phrase or clean):
                add(word, weight * _W_KEY_WORD)
            words = clean.split()
            if len(words) <= 2 and not any(w.endswith(_HEADS) for w in words):
                add(f"mitarbeiter {clean}", weight * _W_DOMAIN)
    clean_set = set(weights)
    for i, variant in enumerate(query_variants(text)):
        # query_variants gives the whole title first, then the forms of a pair "Koch/Köchin".
        if not found_clean:
            add(variant, _W_ALL_NOISE)
        elif variant in clean_set:
            if i == 0 or " " not in variant:
                weights[variant] = 1.0
                fallback[variant] = False
        else:
            add(variant, _W_NOISY_RAW if i == 0 else _W_NOISY_RAW * _W_PART_OTHER)
    ranked = sorted(weights.items(), key=lambda item: -item[1])[:_MAX_TITLE_VARIANTS]
    keep = {variant for variant, _ in ranked}
    return [(v, w, fallback[v]) for v, w in weights.items() if v in keep]


def _looks_german(text: str) -> bool:
    return bool(_GERMAN_HINT.search(text.casefold()))


def _gender_pair(label: str) -> list[str]:
    """Split a gendered pair label at its most central slash.

    ``"Import-/Exportmanager für Obst/Import-/Exportmanagerin für Obst"`` splits into its
    two halves, not at the slash inside ``"Import-/Export"``.
    """
    slashes = [m.start() for m in re.finditer("/", label)]
    if not slashes:
        return [label]
    pos = min(slashes, key=lambda p: abs(p - (len(label) - p - 1)))
    return [part for part in (label[:pos].strip(), label[pos + 1 :].strip()) if part]


def _first_gender_form(label: str, alternatives: Iterable[str]) -> str:
    """Pick the first form of a German gendered pair label ``"Koch/Köchin"``."""
    if "/" not in label:
        return label
    known = set(alternatives)
    slashes = [m.start() for m in re.finditer("/", label)]
    for pos in slashes:
        left = label[:pos].strip()
        if left in known:
            return left
    best = min(slashes, key=lambda pos: abs(pos - (len(label) - pos - 1)))
    return label[:best].strip()


# --------------------------------------------------------------------------- reading CSV


def _read_csv(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """Read a CSV (plain or gzip) as strings and check its columns."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    except FileNotFoundError as exc:
        raise DataFileError(f"{path}: file not found") from exc
    except (OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError, EOFError) as exc:
        raise DataFileError(f"{path}: unreadable CSV ({exc})") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataFileError(
            f"{path}: missing column {missing[0]!r} (found {', '.join(map(str, frame.columns))})"
        )
    return frame


def _split_labels(values: pd.Series) -> pd.Series:
    """Explode newline-separated label cells into one stripped label per row."""
    exploded = values.str.split("\n").explode()
    exploded = exploded.str.strip()
    return exploded[exploded != ""]


# --------------------------------------------------------------------------- ESCO import

_FILE_RE = re.compile(
    r"^(?P<stem>skills|occupations|occupationSkillRelations|broaderRelationsSkillPillar|"
    r"skillSkillRelations|ISCOGroups|(?P<coll>[A-Za-z]+)SkillsCollection)"
    r"(?:_(?P<lang>[a-z]{2,3}))?\.csv(?:\.gz)?$"
)
_REQUIRED = (
    "skills",
    "occupations",
    "occupationSkillRelations",
    "broaderRelationsSkillPillar",
    "skillSkillRelations",
    "ISCOGroups",
)


def _scan(source_dirs: Sequence[Path]) -> dict[str, dict[str, Path]]:
    """Map file stem → language (``""`` without suffix) → path; the first directory wins."""
    found: dict[str, dict[str, Path]] = {}
    for directory in source_dirs:
        if not directory.is_dir():
            raise DataFileError(f"{directory}: not a directory")
        for path in sorted(directory.iterdir()):
            match = _FILE_RE.match(path.name)
            if not match:
                continue
            stem = "collection" if match.group("coll") else match.group("stem")
            lang = match.group("lang") or ""
            key = f"{lang}:{path.name}" if stem == "collection" else lang
            found.setdefault(stem, {}).setdefault(key, path)
    for stem in _REQUIRED:
        if stem not in found:
            names = ", ".join(str(d) for d in source_dirs)
            raise DataFileError(f"{stem}_<lang>.csv: file not found in {names}")
    return found


def _one(files: Mapping[str, Path]) -> Path:
    """The language-neutral file if present, else the first by language code."""
    return files[""] if "" in files else files[sorted(files)[0]]


@dataclass
class _Compact:
    """The compact taxonomy tables, as written to and read from a directory."""

    skills: pd.DataFrame
    occupations: pd.DataFrame
    skill_labels: pd.DataFrame
    occupation_labels: pd.DataFrame
    isco_groups: pd.DataFrame
    relations: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)


def _concept_labels(
    frames: Mapping[str, pd.DataFrame], position: Mapping[str, int], hidden: bool = True
) -> pd.DataFrame:
    """Long table ``position, lang, kind, label`` from per-language concept frames."""
    parts = []
    for lang in sorted(frames):
        frame = frames[lang]
        pos = frame["conceptUri"].map(position)
        frame = frame[pos.notna()]
        pos = pos[pos.notna()].astype(np.int64)
        kinds = [("pref", "preferredLabel"), ("alt", "altLabels")]
        if hidden and "hiddenLabels" in frame.columns:
            kinds.append(("hidden", "hiddenLabels"))
        for kind, column in kinds:
            if column not in frame.columns:
                continue
            labels = _split_labels(frame[column])
            parts.append(
                pd.DataFrame(
                    {
                        "position": pos.loc[labels.index].to_numpy(),
                        "lang": lang or "en",
                        "kind": kind,
                        "label": labels.to_numpy(),
                    }
                )
            )
    labels = pd.concat(parts, ignore_index=True)
    labels = labels.drop_duplicates(["position", "lang", "label"])
    order = {"pref": 0, "alt": 1, "hidden": 2}
    labels = labels.assign(_k=labels["kind"].map(order)).sort_values(
        ["position", "lang", "_k", "label"], kind="stable"
    )
    return labels.drop(columns="_k").reset_index(drop=True)


def _sibling_pairs(parent: np.ndarray, child: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs of distinct children sharing a parent with ≤ 30 skill children."""
    links = pd.DataFrame({"parent": parent, "child": child}).drop_duplicates()
    sizes = links.groupby("parent")["child"].transform("size")
    links = links[(sizes <= _SIBLING_GROUP_MAX) & (sizes >= 2)]
    pairs = links.merge(links, on="parent", suffixes=("_a", "_b"))
    pairs = pairs[pairs["child_a"] != pairs["child_b"]]
    return pairs["child_a"].to_numpy(np.int64), pairs["child_b"].to_numpy(np.int64)


def _skill_relatedness(
    n_skills: int,
    direct: tuple[np.ndarray, np.ndarray],
    siblings: tuple[np.ndarray, np.ndarray],
) -> sp.csr_matrix:
    """Symmetric weighted relatedness: 1.0 for direct links, 0.5 for siblings, zero diagonal."""
    rows = np.concatenate([direct[0], direct[1], siblings[0], siblings[1]])
    cols = np.concatenate([direct[1], direct[0], siblings[1], siblings[0]])
    weights = np.concatenate(
        [
            np.ones(2 * len(direct[0]), np.float32),
            np.full(2 * len(siblings[0]), _SIBLING_WEIGHT, np.float32),
        ]
    )
    keep = rows != cols
    coo = sp.coo_matrix((weights[keep], (rows[keep], cols[keep])), shape=(n_skills, n_skills))
    # Duplicates take the strongest link rather than their sum.
    frame = pd.DataFrame({"r": coo.row, "c": coo.col, "w": coo.data})
    frame = frame.groupby(["r", "c"], sort=True)["w"].max().reset_index()
    return sp.csr_matrix(
        (frame["w"].to_numpy(np.float32), (frame["r"].to_numpy(), frame["c"].to_numpy())),
        shape=(n_skills, n_skills),
    )


def _preferred(frames: Mapping[str, pd.DataFrame], lang: str, uris: np.ndarray) -> np.ndarray:
    """Preferred labels of ``uris`` in ``lang`` (None where absent), in the order of ``uris``."""
    if lang not in frames:
        return np.full(len(uris), None, dtype=object)
    frame = frames[lang].drop_duplicates("conceptUri").set_index("conceptUri")
    values = frame["preferredLabel"].reindex(uris).tolist()
    return np.array([v if isinstance(v, str) and v else None for v in values], dtype=object)


def _skill_frames(files: Mapping[str, Mapping[str, Path]]) -> dict[str, pd.DataFrame]:
    """Skill files by language, plus labels from thematic collections for other languages."""
    frames = {
        lang: _read_csv(path, ["conceptUri", "preferredLabel", "altLabels"])
        for lang, path in files["skills"].items()
    }
    collected: dict[str, list[pd.DataFrame]] = {}
    for key, path in sorted(files.get("collection", {}).items()):
        lang = key.split(":", 1)[0]
        if lang and lang not in frames:
            collected.setdefault(lang, []).append(
                _read_csv(path, ["conceptUri", "preferredLabel", "altLabels"])
            )
    for lang, parts in collected.items():
        merged = pd.concat(parts, ignore_index=True)
        frames[lang] = merged.drop_duplicates("conceptUri").reset_index(drop=True)
    return frames


def _skills_table(
    frames: Mapping[str, pd.DataFrame], primary: str, uris: np.ndarray
) -> pd.DataFrame:
    """``uri, label_en, label_de, skill_type, reuse_level`` in the order of ``uris``."""
    label_en = _preferred(frames, "en", uris)
    fallback = _preferred(frames, primary, uris)
    skills = pd.DataFrame(
        {
            "uri": uris,
            "label_en": np.where(pd.isna(label_en), fallback, label_en),
            "label_de": _preferred(frames, "de", uris),
        }
    )
    base = frames[primary].drop_duplicates("conceptUri").set_index("conceptUri")
    for column, source in (("skill_type", "skillType"), ("reuse_level", "reuseLevel")):
        skills[column] = (
            base[source].reindex(uris).fillna("").to_numpy(object) if source in base.columns else ""
        )
    return skills


def _occupations_table(
    frames: Mapping[str, pd.DataFrame], base: pd.DataFrame, uris: np.ndarray
) -> pd.DataFrame:
    """``uri, label_en, label_de, isco_code, code`` in the order of ``uris``."""
    base_idx = base.drop_duplicates("conceptUri").set_index("conceptUri")
    label_en = _preferred(frames, "en", uris)
    occupations = pd.DataFrame(
        {
            "uri": uris,
            "label_en": np.where(
                pd.isna(label_en),
                base_idx["preferredLabel"].reindex(uris).to_numpy(object),
                label_en,
            ),
            "label_de": _preferred(frames, "de", uris),
        }
    )
    isco = base_idx["iscoGroup"].reindex(uris).fillna("").str.strip()
    occupations["isco_code"] = isco.where(isco == "", isco.str.zfill(4)).to_numpy(object)
    occupations["code"] = (
        base_idx["code"].reindex(uris).fillna("").to_numpy(object)
        if "code" in base_idx.columns
        else ""
    )
    if "de" in frames:
        de_alts = frames["de"].drop_duplicates("conceptUri").set_index("conceptUri")["altLabels"]
        occupations["label_de"] = [
            _first_gender_form(label, str(de_alts.get(uri, "")).split("\n"))
            if isinstance(label, str)
            else None
            for uri, label in zip(occupations["uri"], occupations["label_de"], strict=True)
        ]
    return occupations


def _split_gender_pairs(labels: pd.DataFrame) -> pd.DataFrame:
    """Replace German preferred pair labels ("Koch/Köchin") by their two forms."""
    pair = (labels["kind"] == "pref") & (labels["lang"] == "de")
    pair &= labels["label"].str.contains("/")
    if not pair.any():
        return labels
    forms = labels.loc[pair, "label"].map(_gender_pair).explode().dropna()
    extra = labels.loc[forms.index].assign(kind="pref", label=forms.to_numpy())
    labels = pd.concat([extra, labels[~pair]], ignore_index=True)
    labels = labels.drop_duplicates(["position", "lang", "label"])
    rank = labels["kind"].map({"pref": 0, "alt": 1, "hidden": 2})
    labels = labels.assign(_k=rank).sort_values(["position", "lang", "_k", "label"], kind="stable")
    return labels.drop(columns="_k").reset_index(drop=True)


def _isco_table(files: Mapping[str, Path]) -> pd.DataFrame:
    """``code, label_en, label_de`` of every ISCO group."""
    frames = {lang: _read_csv(path, ["code", "preferredLabel"]) for lang, path in files.items()}
    codes = sorted(set().union(*(set(f["code"].str.strip()) for f in frames.values())))
    isco_groups = pd.DataFrame({"code": codes})
    for lang in ("en", "de"):
        if lang in frames:
            mapping = frames[lang].assign(code=frames[lang]["code"].str.strip())
            mapping = mapping.drop_duplicates("code").set_index("code")["preferredLabel"]
            isco_groups[f"label_{lang}"] = isco_groups["code"].map(mapping).fillna("")
        else:
            isco_groups[f"label_{lang}"] = ""
    return isco_groups[isco_groups["code"] != ""].reset_index(drop=True)


def _occupation_skill_pairs(
    path: Path, occ_pos: Mapping[str, int], skill_pos: Mapping[str, int]
) -> dict[str, np.ndarray]:
    """Sorted unique (occupation, skill) position pairs of essential and optional relations."""
    rel = _read_csv(path, ["occupationUri", "relationType", "skillUri"])
    occ_i = rel["occupationUri"].map(occ_pos)
    skill_i = rel["skillUri"].map(skill_pos)
    known = occ_i.notna() & skill_i.notna()
    rel_type = rel["relationType"].str.strip().str.lower()
    unknown_types = set(rel_type[known]) - {"essential", "optional"}
    if unknown_types:
        raise DataFileError(
            f"{path}: column 'relationType' has unknown value {sorted(unknown_types)[0]!r}"
        )
    out: dict[str, np.ndarray] = {}
    for key in ("essential", "optional"):
        mask = known & (rel_type == key)
        pairs = np.stack([occ_i[mask].to_numpy(np.int32), skill_i[mask].to_numpy(np.int32)], 1)
        pairs = np.unique(pairs.reshape(-1, 2), axis=0)
        out[f"{key}_occupation"] = pairs[:, 0].astype(np.int32)
        out[f"{key}_skill"] = pairs[:, 1].astype(np.int32)
    return out


def _related_pairs(
    broader_path: Path, ssr_path: Path, skill_pos: Mapping[str, int]
) -> dict[str, np.ndarray]:
    """Upper triangle of the skill relatedness matrix (see :func:`_skill_relatedness`)."""
    broader = _read_csv(broader_path, ["conceptUri", "broaderUri"])
    child = broader["conceptUri"].map(skill_pos)
    parent_skill = broader["broaderUri"].map(skill_pos)
    is_child = child.notna()
    direct_mask = is_child & parent_skill.notna()
    _, parent_ids = np.unique(
        broader.loc[is_child, "broaderUri"].to_numpy(str), return_inverse=True
    )
    siblings = _sibling_pairs(parent_ids, child[is_child].to_numpy(np.int64))

    ssr = _read_csv(ssr_path, ["originalSkillUri", "relatedSkillUri"])
    a = ssr["originalSkillUri"].map(skill_pos)
    b = ssr["relatedSkillUri"].map(skill_pos)
    both = a.notna() & b.notna()
    direct = (
        np.concatenate([child[direct_mask].to_numpy(np.int64), a[both].to_numpy(np.int64)]),
        np.concatenate([parent_skill[direct_mask].to_numpy(np.int64), b[both].to_numpy(np.int64)]),
    )
    related = sp.triu(_skill_relatedness(len(skill_pos), direct, siblings), k=1).tocoo()
    return {
        "related_a": related.row.astype(np.int32),
        "related_b": related.col.astype(np.int32),
        "related_weight": related.data.astype(np.float32),
    }


def _compile(source_dirs: Sequence[Path], version: str) -> _Compact:
    """Read official ESCO CSV files from one or more directories into compact tables."""
    files = _scan(source_dirs)
    langs = sorted(files["skills"])
    primary = "en" if "en" in langs else langs[0]

    skill_frames = _skill_frames(files)
    skill_uris = np.sort(skill_frames[primary]["conceptUri"].unique())
    skill_pos = {uri: i for i, uri in enumerate(skill_uris)}

    occ_frames = {
        lang: _read_csv(path, ["conceptUri", "iscoGroup", "preferredLabel", "altLabels"])
        for lang, path in files["occupations"].items()
    }
    occ_base = occ_frames[primary if primary in occ_frames else sorted(occ_frames)[0]]
    occ_uris = np.sort(occ_base["conceptUri"].unique())
    occ_pos = {uri: i for i, uri in enumerate(occ_uris)}

    relations = _occupation_skill_pairs(_one(files["occupationSkillRelations"]), occ_pos, skill_pos)
    relations.update(
        _related_pairs(
            _one(files["broaderRelationsSkillPillar"]),
            _one(files["skillSkillRelations"]),
            skill_pos,
        )
    )
    skills = _skills_table(skill_frames, primary, skill_uris)
    occupations = _occupations_table(occ_frames, occ_base, occ_uris)
    meta = {
        "format": _FORMAT_VERSION,
        "version": version,
        "languages": sorted({lang or primary for lang in files["skills"]} | set(occ_frames)),
        "n_skills": len(skills),
        "n_occupations": len(occupations),
    }
    return _Compact(
        skills,
        occupations,
        _concept_labels(skill_frames, skill_pos),
        _split_gender_pairs(_concept_labels(occ_frames, occ_pos)),
        _isco_table(files["ISCOGroups"]),
        relations,
        meta,
    )


def _write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write arrays as an ``.npz`` with fixed timestamps so that output bytes are stable."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.save(buffer, arrays[name], allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue())


def _write_compact(compact: _Compact, target_dir: Path) -> Path:
    """Write compact tables into ``target_dir`` atomically (temp dir, then rename)."""
    target_dir = Path(target_dir)
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.", dir=target_dir.parent))
    tmp.chmod(0o755)
    try:
        tables = {
            "skills.csv.gz": compact.skills,
            "occupations.csv.gz": compact.occupations,
            "skill_labels.csv.gz": compact.skill_labels,
            "occupation_labels.csv.gz": compact.occupation_labels,
            "isco_groups.csv.gz": compact.isco_groups,
        }
        for name, frame in tables.items():
            frame.to_csv(tmp / name, index=False, compression=_GZIP, lineterminator="\n")
        _write_npz(tmp / "relations.npz", compact.relations)
        (tmp / "meta.json").write_text(
            json.dumps(compact.meta, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        if target_dir.exists():
            backup = target_dir.with_name(f".{target_dir.name}.old")
            if backup.exists():
                shutil.rmtree(backup)
            target_dir.rename(backup)
            tmp.rename(target_dir)
            shutil.rmtree(backup)
        else:
            tmp.rename(target_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target_dir


def import_esco(source_dir: str | os.PathLike[str], target_dir: str | os.PathLike[str]) -> Path:
    """Convert a full official ESCO CSV download into the compact taxonomy format.

    Parameters
    ----------
    source_dir : path-like
        A folder with the official ESCO CSV files in any language(s), plain or ``.gz``:
        ``skills_<lang>.csv``, ``occupations_<lang>.csv``,
        ``occupationSkillRelations[_<lang>].csv``, ``broaderRelationsSkillPillar[_<lang>].csv``,
        ``skillSkillRelations[_<lang>].csv`` and ``ISCOGroups_<lang>.csv``. Files of several
        languages merge their labels; the concept set is that of the English files (or of
        the first language by code when there is no English). ``*SkillsCollection_<lang>.csv``
        files contribute skill labels of a language that has no full skills file.
    target_dir : path-like
        Where to write; replaced atomically. :meth:`Taxonomy.load` reads it; the shipped
        German aliases are merged in at load time.

    Returns
    -------
    pathlib.Path
        ``target_dir``.

    Raises
    ------
    DataFileError
        A required file is missing, unreadable, lacks a column or has an invalid value
        (the message names the file and column). Nothing is written then.
    """
    source = Path(source_dir)
    version = f"ESCO import from {source.name}"
    compact = _compile([source], version)
    return _write_compact(compact, Path(target_dir))


# --------------------------------------------------------------------------- resolver index


_NGRAM_BASE = 38
_CHAR_CODES = np.zeros(256, np.int64)
_CHAR_CODES[ord(" ")] = 1
_CHAR_CODES[np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", np.uint8)] = np.arange(2, 28)
_CHAR_CODES[np.frombuffer(b"0123456789", np.uint8)] = np.arange(28, 38)
_HASH_BITS = 21
_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
#: Documents whose n-grams are counted at once (bounds the memory of the index build).
_COUNT_CHUNK = 8192


class _CharNgramTfidf:
    """Word-bounded character n-gram TF-IDF over normalised text, fully vectorised.

    Equivalent in spirit to scikit-learn's ``TfidfVectorizer(analyzer="char_wb",
    sublinear_tf=True)`` with a hashed vocabulary (smooth idf, l2 rows), but computed with
    numpy on the whole corpus at once, which makes building the index over some 100,000
    labels several times faster. Input must be normalised (:func:`normalize_text`: only
    ``a-z``, digits and single spaces). Each n-gram is encoded as a base-38 integer and
    hashed (Fibonacci hashing) into ``2**21`` columns; with about 100,000 distinct n-grams
    collisions are rare and harmless.

    Parameters
    ----------
    ngram_range : tuple of int
        Smallest and largest n (at most 5).
    max_df : float
        N-grams in more than this share of the documents (``"ing"``, ``"en "``) are
        ignored, as scikit-learn's ``max_df`` does: they say little about a label and
        make the similarity product dense and slow.
    """

    def __init__(self, ngram_range: tuple[int, int] = (3, 5), max_df: float = 0.05) -> None:
        self.ngram_range = ngram_range
        self.max_df = max_df

    def _grams(self, docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(document index, n-gram code) of every n-gram occurrence."""
        text = "\0".join(f" {doc} " for doc in docs).encode("ascii", "replace")
        raw = np.frombuffer(text, np.uint8)
        codes = _CHAR_CODES[raw]
        doc_of = np.cumsum(raw == 0)
        doc_parts, gram_parts = [], []
        low, high = self.ngram_range
        for n in range(low, high + 1):
            width = len(codes) - n + 1
            if width <= 0:
                continue
            gram = np.zeros(width, np.int64)
            valid = np.ones(width, bool)
            for k in range(n):
                chunk = codes[k : k + width]
                gram = gram * _NGRAM_BASE + chunk
                valid &= chunk != 0
                if 0 < k < n - 1:
                    valid &= chunk != 1
            # Codes are non-zero, so n-grams of different lengths never share a code.
            doc_parts.append(doc_of[:width][valid])
            gram_parts.append(gram[valid])
        if not doc_parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(doc_parts), np.concatenate(gram_parts)

    def _counts(self, docs: Sequence[str]) -> sp.csr_matrix:
        """Raw n-gram counts, hashed into ``2**_HASH_BITS`` columns.

        Counted ``_COUNT_CHUNK`` documents at a time: the n-gram occurrences of all
        100,000 labels at once took some 500 MB for a moment; the rows are the same.
        """
        if len(docs) > _COUNT_CHUNK:
            return sp.vstack(
                [self._counts(docs[i : i + _COUNT_CHUNK])
                 for i in range(0, len(docs), _COUNT_CHUNK)],
                format="csr",
            )  # fmt: skip
        doc, gram = self._grams(docs)
        column = (gram.astype(np.uint64) * _HASH_MULTIPLIER) >> np.uint64(64 - _HASH_BITS)
        del gram
        counts = sp.csr_matrix(
            (np.ones(len(doc), np.float32), (doc, column.astype(np.int32))),
            shape=(len(docs), 1 << _HASH_BITS),
        )
        counts.sum_duplicates()
        return counts

    def fit_transform(self, docs: Sequence[str]) -> sp.csr_matrix:
        """Learn idf from ``docs``; return their l2-normalised TF-IDF rows."""
        counts = self._counts(docs)
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        self.idf_ = (np.log((1.0 + len(docs)) / (1.0 + df)) + 1.0).astype(np.float32)
        self.seen_ = df > 0
        self.informative_ = self.seen_ & (df <= self.max_df * len(docs))
        return self._weight(counts, in_place=True)

    def transform(self, docs: Sequence[str]) -> sp.csr_matrix:
        """L2-normalised TF-IDF rows of ``docs`` with the fitted idf."""
        counts = self._counts(docs)
        # N-grams no label has carry no information; they are dropped, as in scikit-learn.
        counts.data[~self.seen_[counts.indices]] = 0.0
        return self._weight(counts)

    def _weight(self, counts: sp.csr_matrix, *, in_place: bool = False) -> sp.csr_matrix:
        """Sublinear TF-IDF rows, l2-normalised before the frequent n-grams are dropped.

        Normalising over all seen n-grams keeps the cosine of a text made mostly of
        frequent n-grams (``"cleaning"``) low instead of letting its one or two remaining
        rare n-grams match some label perfectly. ``in_place`` scales ``counts`` itself
        (the same values, without a copy of the labels' matrix; its rows keep their
        sorted column order).
        """
        nonzero = counts.data > 0
        counts.data[nonzero] = 1.0 + np.log(counts.data[nonzero])
        counts.data *= self.idf_[counts.indices]
        squared = sp.csr_matrix(
            (counts.data * counts.data, counts.indices, counts.indptr), shape=counts.shape
        )
        norms = np.sqrt(np.asarray(squared.sum(axis=1)).ravel())
        del squared
        counts.data[~self.informative_[counts.indices]] = 0.0
        counts.eliminate_zeros()
        inverse = (1.0 / np.maximum(norms, 1e-12)).astype(np.float32)
        if in_place:
            counts.data *= np.repeat(inverse, np.diff(counts.indptr))
            return counts
        return (sp.diags(inverse) @ counts).tocsr().astype(np.float32)


class _Index:
    """Exact-label dictionary and character n-gram TF-IDF index over one concept kind."""

    def __init__(
        self,
        positions: np.ndarray,
        langs: np.ndarray,
        kinds: np.ndarray,
        labels: np.ndarray,
        n_concepts: int,
    ) -> None:
        norm = np.array([normalize_text(x) for x in labels], dtype=object)
        frame = pd.DataFrame(
            {
                "position": positions,
                "german": np.isin(langs, ["de"]),
                "priority": pd.Series(kinds).map(_KIND_PRIORITY).fillna(0).to_numpy(int),
                "norm": norm,
            }
        )
        frame = frame[frame["norm"] != ""]
        # One row per (concept, normalised label): German and high-priority forms win.
        frame = frame.sort_values(
            ["position", "norm", "german", "priority"], ascending=[True, True, False, False]
        ).drop_duplicates(["position", "norm"])
        frame = frame.reset_index(drop=True)
        self.n_concepts = n_concepts
        self.label_position = frame["position"].to_numpy(np.int64)
        self.label_german = frame["german"].to_numpy(bool)
        concept_starts = np.flatnonzero(
            np.r_[True, self.label_position[1:] != self.label_position[:-1]]
        )
        self.starts = concept_starts
        self.start_concepts = self.label_position[concept_starts]
        # Exact dictionary: normalised key (umlauts as "ae" and as "a") → concept positions.
        exact: dict[str, dict[int, int]] = {}
        for key, pos, prio in zip(frame["norm"], frame["position"], frame["priority"], strict=True):
            slot = exact.setdefault(key, {})
            slot[pos] = max(slot.get(pos, -1), prio)
        self.exact = exact
        self.vectorizer = _CharNgramTfidf()
        self._norm_list = frame["norm"].tolist()
        self._vocab: list[str] | None = None
        self.matrix = self.vectorizer.fit_transform(self._norm_list).T.tocsr()
        self.matrix.eliminate_zeros()
        # For German-looking queries the similarities to non-German labels are scaled
        # down (rather than keeping a second, scaled copy of the matrix).
        self.german_factor = np.where(self.label_german, 1.0, _FOREIGN_LABEL_FACTOR).astype(
            np.float32
        )

    def prefix_scores(self, prefix: str) -> np.ndarray:
        """Per-concept scores of labels that start with ``prefix`` or have a word that does.

        A label starting with the prefix scores ``0.6 + 0.4 * len(prefix) / len(label)``,
        a label with a later word starting with it ``0.5 + 0.4 * ...``; others score 0.
        Non-German labels count 3 % less. For type-ahead, where ``"Stap"`` should suggest
        ``"Stapler fahren"``.
        """
        vocab = self._vocab if self._vocab is not None else self._build_word_index()
        first = prefix.split(" ", 1)[0]
        lo = bisect.bisect_left(vocab, first)
        hi = bisect.bisect_left(vocab, first + "{")  # "{" sorts after "z"
        starts, ends = self._word_ptr[lo:hi], self._word_ptr[lo + 1 : hi + 1]
        counts = ends - starts
        postings = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        label = self._post_label[postings]
        at_start = self._post_first[postings]
        if " " in prefix:
            # Several words: keep labels that contain the whole prefix at a word start.
            norm = self._norm_list
            keep = np.array(
                [norm[i].startswith(prefix) or f" {prefix}" in norm[i] for i in label], bool
            )
            label = label[keep]
            at_start = np.array([norm[i].startswith(prefix) for i in label], bool)
        base = np.where(at_start, 0.6, 0.5)
        hit = base + 0.4 * len(prefix) / np.maximum(self._lengths[label], 1.0)
        score = np.zeros(len(self._norm_list), np.float32)
        np.maximum.at(score, label, hit.astype(np.float32))
        score = np.where(self.label_german, score, score * _FOREIGN_LABEL_FACTOR)
        out = np.zeros(self.n_concepts, np.float32)
        out[self.start_concepts] = np.maximum.reduceat(score.astype(np.float32), self.starts)
        return out

    def _build_word_index(self) -> list[str]:
        """Sorted word vocabulary with postings (label, is first word) for prefix search."""
        split = [norm.split(" ") for norm in self._norm_list]
        counts = np.fromiter(map(len, split), np.int64, len(split))
        words = list(itertools.chain.from_iterable(split))
        vocab = sorted(set(words))
        word_position = {word: i for i, word in enumerate(vocab)}
        word_id = np.fromiter(map(word_position.__getitem__, words), np.int64, len(words))
        labels = np.repeat(np.arange(len(split)), counts)
        firsts = np.zeros(len(words), bool)
        firsts[np.cumsum(counts) - counts] = True
        order = np.argsort(word_id, kind="stable")
        self._post_label = labels[order]
        self._post_first = firsts[order]
        self._word_ptr = np.concatenate(
            [[0], np.cumsum(np.bincount(word_id, minlength=len(vocab)))]
        ).astype(np.int64)
        self._lengths = np.fromiter(
            (len(x) for x in self._norm_list), np.float32, len(self._norm_list)
        )
        self._vocab = vocab
        return vocab

    def add_folded_keys(self, raw: Iterable[tuple[str, int, int]]) -> None:
        """Add exact keys with umlauts folded to plain vowels (``"Kochin"`` for Köchin)."""
        for key, pos, prio in raw:
            slot = self.exact.setdefault(key, {})
            slot[pos] = max(slot.get(pos, -1), prio)

    def scores(self, variants: Sequence[str], german: np.ndarray) -> np.ndarray:
        """Concept confidence matrix (len(variants) × n_concepts), exact hits set to 1."""
        out = np.zeros((len(variants), self.n_concepts), np.float32)
        query = self.vectorizer.transform(list(variants))
        for start in range(0, len(variants), _BATCH_CHUNK):
            stop = min(start + _BATCH_CHUNK, len(variants))
            rows = np.arange(start, stop)
            sims = (query[rows] @ self.matrix).toarray()
            is_german = german[rows]
            if is_german.any():
                sims[is_german] *= self.german_factor
            np.minimum(sims, 1.0, out=sims)
            out[start:stop, self.start_concepts] = np.maximum.reduceat(sims, self.starts, axis=1)
        for row, variant in enumerate(variants):
            hit = self.exact.get(variant)
            if hit:
                # Exact hits score 1.0; a tiny bonus orders curated aliases and preferred
                # labels before alternative labels (callers see the score clipped to 1.0).
                positions = np.fromiter(hit.keys(), np.int64, len(hit))
                bonus = np.fromiter(hit.values(), np.float32, len(hit)) * np.float32(1e-3)
                out[row, positions] = 1.0 + bonus
        return out


# --------------------------------------------------------------------------- Taxonomy


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _read_aliases(path: Path, uri_column: str) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame({uri_column: [], "alias": []}, dtype=object)
    frame = _read_csv(path, [uri_column, "alias"])
    frame = frame.assign(
        **{uri_column: frame[uri_column].str.strip(), "alias": frame["alias"].str.strip()}
    )
    return frame[(frame[uri_column] != "") & (frame["alias"] != "")]


class Taxonomy:
    """ESCO skills and occupations with their relations and a free-text resolver.

    Use :meth:`load`; the constructor is internal. The resolver index is built lazily on
    the first resolve or search call (about a few seconds) and reused afterwards.

    Attributes
    ----------
    skills : pandas.DataFrame
        One row per skill (RangeIndex = skill position): ``uri, label_en, label_de,
        skill_type, reuse_level``.
    occupations : pandas.DataFrame
        One row per occupation: ``uri, label_en, label_de, isco_code, code``.
    skill_position, occupation_position : dict of str to int
        URI → row.
    occupation_essential, occupation_optional : scipy.sparse.csr_matrix
        (n_occupations, n_skills) float32, 1.0 where the skill is essential / optional.
    skill_related : scipy.sparse.csr_matrix
        (n_skills, n_skills) float32, symmetric, zero diagonal: 1.0 for ESCO skill-skill
        relations and broader/narrower links, 0.5 for siblings in groups of at most 30.
    isco_labels : dict
        ISCO code (1–4 digits) → ``{"en": ..., "de": ...}``.
    version : str
        Data version, e.g. ``"ESCO v1.1.1 + de labels v1.2.0 + aliases 2026-11-26"``.
    """

    skills: pd.DataFrame
    occupations: pd.DataFrame
    skill_position: dict[str, int]
    occupation_position: dict[str, int]
    occupation_essential: sp.csr_matrix
    occupation_optional: sp.csr_matrix
    skill_related: sp.csr_matrix
    isco_labels: dict[str, dict[str, str]]
    version: str

    def __init__(
        self,
        skills: pd.DataFrame,
        occupations: pd.DataFrame,
        skill_labels: pd.DataFrame,
        occupation_labels: pd.DataFrame,
        isco_groups: pd.DataFrame,
        relations: Mapping[str, np.ndarray],
        version: str,
    ) -> None:
        self.skills = skills
        self.occupations = occupations
        self._skill_labels = skill_labels
        self._occupation_labels = occupation_labels
        self.skill_position = {uri: i for i, uri in enumerate(skills["uri"])}
        self.occupation_position = {uri: i for i, uri in enumerate(occupations["uri"])}
        n_occ, n_skills = len(occupations), len(skills)
        self.occupation_essential = self._binary(
            relations["essential_occupation"], relations["essential_skill"], (n_occ, n_skills)
        )
        self.occupation_optional = self._binary(
            relations["optional_occupation"], relations["optional_skill"], (n_occ, n_skills)
        )
        upper = sp.coo_matrix(
            (
                relations["related_weight"].astype(np.float32),
                (relations["related_a"], relations["related_b"]),
            ),
            shape=(n_skills, n_skills),
        )
        self.skill_related = (upper + upper.T).tocsr().astype(np.float32)
        self.isco_labels = {
            code: {"en": en, "de": de}
            for code, en, de in zip(
                isco_groups["code"], isco_groups["label_en"], isco_groups["label_de"], strict=True
            )
        }
        self.version = version
        self._lock = threading.Lock()
        self._indexes: dict[str, _Index] = {}
        self._skilled: np.ndarray | None = None
        self._isco_numbers: np.ndarray | None = None
        self._essential_cosine: sp.csr_matrix | None = None
        self._resolved: dict[str, dict[str, Resolution]] = {"skill": {}, "occupation": {}}
        self._skill_concepts: list[Concept | None] = [None] * n_skills
        self._occupation_concepts: list[Concept | None] = [None] * n_occ

    @staticmethod
    def _binary(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
        data = np.ones(len(rows), np.float32)
        matrix = sp.csr_matrix((data, (rows, cols)), shape=shape)
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        return matrix

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, directory: str | os.PathLike[str] | None = None) -> Taxonomy:
        """Load the compact taxonomy (the shipped subset when ``directory`` is None).

        Parameters
        ----------
        directory : path-like, optional
            A directory written by :func:`import_esco` or ``scripts/build_taxonomy.py``.

        Returns
        -------
        Taxonomy

        Raises
        ------
        DataFileError
            A file is missing or malformed (the message names the file and column).
        """
        root = _SHIPPED_DIR if directory is None else Path(directory)
        meta_path = root / "meta.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise DataFileError(f"{meta_path}: file not found") from exc
        except (OSError, ValueError) as exc:
            raise DataFileError(f"{meta_path}: unreadable ({exc})") from exc
        if meta.get("format") != _FORMAT_VERSION:
            raise DataFileError(
                f"{meta_path}: column 'format' is {meta.get('format')!r}, "
                f"expected {_FORMAT_VERSION}"
            )
        skills = cls._table(root / "skills.csv.gz", ["uri", "label_en", "label_de"])
        occupations = cls._table(
            root / "occupations.csv.gz", ["uri", "label_en", "label_de", "isco_code"]
        )
        skill_labels = cls._table(
            root / "skill_labels.csv.gz", ["position", "lang", "kind", "label"]
        )
        occupation_labels = cls._table(
            root / "occupation_labels.csv.gz", ["position", "lang", "kind", "label"]
        )
        isco_groups = cls._table(root / "isco_groups.csv.gz", ["code", "label_en", "label_de"])
        relations_path = root / "relations.npz"
        names = (
            "essential_occupation",
            "essential_skill",
            "optional_occupation",
            "optional_skill",
            "related_a",
            "related_b",
            "related_weight",
        )
        try:
            with np.load(relations_path, allow_pickle=False) as archive:
                relations = {name: archive[name] for name in names}
        except FileNotFoundError as exc:
            raise DataFileError(f"{relations_path}: file not found") from exc
        except KeyError as exc:
            raise DataFileError(f"{relations_path}: missing array {exc.args[0]!r}") from exc
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise DataFileError(f"{relations_path}: unreadable ({exc})") from exc
        for label_frame, n, path in (
            (skill_labels, len(skills), "skill_labels.csv.gz"),
            (occupation_labels, len(occupations), "occupation_labels.csv.gz"),
        ):
            positions = pd.to_numeric(label_frame["position"], errors="coerce")
            if positions.isna().any() or (positions < 0).any() or (positions >= n).any():
                raise DataFileError(f"{root / path}: column 'position' out of range")
            label_frame["position"] = positions.astype(np.int64)
        for table in (skills, occupations):
            table["label_de"] = table["label_de"].where(table["label_de"] != "", None)
        occupations["isco_code"] = occupations["isco_code"].where(
            occupations["isco_code"] != "", None
        )

        skill_aliases = _read_aliases(_SKILL_ALIASES, "skill_uri")
        occ_aliases = _read_aliases(_OCCUPATION_ALIASES, "occupation_uri")
        skill_labels, skills = cls._merge_aliases(skill_labels, skills, skill_aliases, "skill_uri")
        occupation_labels, occupations = cls._merge_aliases(
            occupation_labels, occupations, occ_aliases, "occupation_uri"
        )
        version = f"{meta.get('version', 'ESCO')} + aliases {ALIASES_VERSION}"
        return cls(
            skills, occupations, skill_labels, occupation_labels, isco_groups, relations, version
        )

    @staticmethod
    def _table(path: Path, columns: Sequence[str]) -> pd.DataFrame:
        return _read_csv(path, columns)

    @staticmethod
    def _merge_aliases(
        labels: pd.DataFrame, concepts: pd.DataFrame, aliases: pd.DataFrame, uri_column: str
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Add curated aliases as German labels; fill missing ``label_de`` with the first."""
        position = pd.Series(np.arange(len(concepts)), index=concepts["uri"].to_numpy())
        pos = aliases[uri_column].map(position)
        known = aliases[pos.notna()]
        pos = pos[pos.notna()].astype(np.int64)
        extra = pd.DataFrame(
            {
                "position": pos.to_numpy(),
                "lang": "de",
                "kind": "alias",
                "label": known["alias"].to_numpy(),
            }
        )
        labels = pd.concat([labels, extra], ignore_index=True)
        first = extra.drop_duplicates("position").set_index("position")["label"]
        missing = concepts["label_de"].isna()
        fill = pd.Series(np.arange(len(concepts))).map(first)
        concepts = concepts.assign(
            label_de=concepts["label_de"].where(~missing, fill.where(fill.notna(), None))
        )
        concepts["label_de"] = (
            concepts["label_de"].astype(object).where(concepts["label_de"].notna(), None)
        )
        return labels, concepts

    # ------------------------------------------------------------------ concepts

    def is_skill_uri(self, value: str) -> bool:
        """Whether ``value`` is the URI of a skill in this taxonomy."""
        return value in self.skill_position

    def is_occupation_uri(self, value: str) -> bool:
        """Whether ``value`` is the URI of an occupation in this taxonomy."""
        return value in self.occupation_position

    def _skill_at(self, pos: int) -> Concept:
        concept = self._skill_concepts[pos]
        if concept is None:
            skills = self.skills
            concept = Concept(
                str(skills["uri"].iat[pos]),
                "skill",
                str(skills["label_en"].iat[pos]),
                _str_or_none(skills["label_de"].iat[pos]),
                None,
            )
            self._skill_concepts[pos] = concept
        return concept

    def _occupation_at(self, pos: int) -> Concept:
        concept = self._occupation_concepts[pos]
        if concept is None:
            occupations = self.occupations
            concept = Concept(
                str(occupations["uri"].iat[pos]),
                "occupation",
                str(occupations["label_en"].iat[pos]),
                _str_or_none(occupations["label_de"].iat[pos]),
                _str_or_none(occupations["isco_code"].iat[pos]),
            )
            self._occupation_concepts[pos] = concept
        return concept

    def skill(self, uri: str) -> Concept:
        """The skill with this URI.

        Raises
        ------
        UnknownConceptError
            ``uri`` is not a skill of this taxonomy.
        """
        pos = self.skill_position.get(uri)
        if pos is None:
            raise UnknownConceptError(f"unknown ESCO skill URI: {uri!r}", field="skill_uri")
        return self._skill_at(pos)

    def occupation(self, uri: str) -> Concept:
        """The occupation with this URI.

        Raises
        ------
        UnknownConceptError
            ``uri`` is not an occupation of this taxonomy.
        """
        pos = self.occupation_position.get(uri)
        if pos is None:
            raise UnknownConceptError(
                f"unknown ESCO occupation URI: {uri!r}", field="occupation_uri"
            )
        return self._occupation_at(pos)

    # ------------------------------------------------------------------ resolution

    def warm_up(self) -> Taxonomy:
        """Build the resolver and search indexes now rather than on first use (about 3 s).

        Returns
        -------
        Taxonomy
            ``self``, so that ``Taxonomy.load().warm_up()`` reads naturally.
        """
        for kind in ("skill", "occupation"):
            self._index(kind).prefix_scores("a")
        return self

    def _index(self, kind: str) -> _Index:
        with self._lock:
            index = self._indexes.get(kind)
            if index is None:
                labels = self._skill_labels if kind == "skill" else self._occupation_labels
                n = len(self.skills) if kind == "skill" else len(self.occupations)
                index = _Index(
                    labels["position"].to_numpy(np.int64),
                    np.asarray(labels["lang"].tolist(), dtype=object),
                    np.asarray(labels["kind"].tolist(), dtype=object),
                    labels["label"].tolist(),
                    n,
                )
                german = labels[labels["label"].str.contains("[äöüÄÖÜ]", regex=True)]
                index.add_folded_keys(
                    (normalize_text(label, umlauts="a"), pos, _KIND_PRIORITY.get(k, 0))
                    for label, pos, k in zip(
                        german["label"], german["position"], german["kind"], strict=True
                    )
                )
                self._indexes[kind] = index
            return index

    def _rank(
        self, kind: str, texts: Sequence[str], limit: int, german_first: bool = False
    ) -> list[list[tuple[int, float]]]:
        """Top ``limit`` (position, confidence) per text, deterministic tie-breaking."""
        index = self._index(kind)
        variants: list[str] = []
        owner: list[int] = []
        weights: list[float] = []
        fallbacks: list[bool] = []
        for i, text in enumerate(texts):
            if kind == "occupation":
                weighted = _title_variants(text) or [(normalize_text(text), 1.0, False)]
                # An exact hit at full weight cannot be beaten: score those variants only.
                exact = [w for w in weighted if w[1] >= 1.0 and w[0] in index.exact]
                weighted = exact or weighted
            else:
                plain = query_variants(text) or [normalize_text(text)]
                weighted = [(v, 1.0, False) for v in plain]
            for variant, weight, is_fallback in weighted:
                variants.append(variant)
                owner.append(i)
                weights.append(weight)
                fallbacks.append(is_fallback)
        weight_arr = np.asarray(weights, np.float32)
        fallback_arr = np.asarray(fallbacks, bool)
        helper_texts = [is_helper_title(text) for text in texts] if kind == "occupation" else []
        helper_arr = np.array([bool(helper_texts) and helper_texts[i] for i in owner], bool)
        german = np.array([german_first or _looks_german(texts[i]) for i in owner], dtype=bool)
        results: list[list[tuple[int, float]]] = [[] for _ in texts]
        if not variants:
            return results
        owner_arr = np.asarray(owner)
        stop = 0
        while stop < len(variants):
            start = stop
            # Chunks of about 512 variants; the variants of one text stay in one chunk.
            stop = min(start + _BATCH_CHUNK * 4, len(variants))
            while stop < len(variants) and owner_arr[stop] == owner_arr[stop - 1]:
                stop += 1
            # Score each distinct (variant, German) pair of the chunk once.
            keys: dict[tuple[str, bool], int] = {}
            rows = np.fromiter(
                (
                    keys.setdefault((variants[j], bool(german[j])), len(keys))
                    for j in range(start, stop)
                ),
                np.int64,
                stop - start,
            )
            unique = index.scores(
                [key[0] for key in keys], np.fromiter((key[1] for key in keys), bool, len(keys))
            )
            scores = unique[rows] * weight_arr[start:stop, None]
            if helper_arr[start:stop].any():
                skilled = self._skilled_occupations()
                helper_rows = np.flatnonzero(helper_arr[start:stop])
                scores[np.ix_(helper_rows, skilled)] *= _HELPER_SKILLED_FACTOR
            group_starts = np.flatnonzero(
                np.r_[True, owner_arr[start + 1 : stop] != owner_arr[start : stop - 1]]
            )
            per_text = np.maximum.reduceat(scores, group_starts, axis=0)
            fallback_rows = fallback_arr[start:stop]
            if fallback_rows.any():
                # Fallback variants count only for texts whose other variants stay unresolved.
                primary = np.where(fallback_rows[:, None], np.float32(0.0), scores)
                per_primary = np.maximum.reduceat(primary, group_starts, axis=0)
                known = per_primary.max(axis=1) >= RESOLVE_THRESHOLD
                per_text[known] = per_primary[known]
            k = min(limit, index.n_concepts)
            top = (
                np.argpartition(-per_text, k - 1, axis=1)[:, :k]
                if k < index.n_concepts
                else (np.tile(np.arange(index.n_concepts), (len(per_text), 1)))
            )
            for row, text_id in enumerate(owner_arr[start + group_starts]):
                cand = top[row]
                # Ties: higher score first, then lower position (deterministic).
                order = np.lexsort((cand, -per_text[row, cand]))
                results[text_id] = [
                    (int(cand[j]), float(np.clip(per_text[row, cand[j]], 0.0, 1.0))) for j in order
                ]
        return results

    def isco_numbers(self) -> np.ndarray:
        """Each occupation's four-digit ISCO code as int32, 0 where it has none (cached).

        Read on every participant upsert: computing it there cost a pass over all
        occupations per changed participant.
        """
        numbers = self._isco_numbers
        if numbers is None:
            numbers = np.array(
                [int(c) if isinstance(c, str) and c.isdigit() and len(c) == 4 else 0
                 for c in self.occupations["isco_code"]],
                dtype=np.int32,
            )
            numbers.setflags(write=False)
            self._isco_numbers = numbers
        return numbers

    def essential_cosine_basis(self) -> sp.csr_matrix:
        """Essential skills per occupation scaled to unit length, skills as rows (cached).

        A (n_skills, n_occupations) float32 matrix: column ``o`` holds occupation ``o``'s
        essential-skill indicator divided by the square root of its number of essential
        skills (all zero for an occupation without any). Multiplying a participant's skill
        credit by it gives the numerator of the cosine that ranks implied occupations.
        Read on every participant upsert: deriving it there cost a pass over all
        occupation-skill links per changed participant. Shared: do not modify it.
        """
        basis = self._essential_cosine
        if basis is None:
            essential = self.occupation_essential
            counts = np.asarray(essential.sum(axis=1), dtype=np.float64).ravel()
            inverse_root = np.divide(1.0, np.sqrt(counts), out=np.zeros_like(counts),
                                     where=counts > 0)  # fmt: skip
            basis = (sp.diags(inverse_root) @ essential).T.tocsr().astype(np.float32)
            self._essential_cosine = basis
        return basis

    def _skilled_occupations(self) -> np.ndarray:
        """Positions of occupations in ISCO major groups 1–3 (cached)."""
        skilled = self._skilled
        if skilled is None:
            major = self.occupations["isco_code"].fillna("").str[:1]
            skilled = np.flatnonzero(major.isin(["1", "2", "3"]).to_numpy())
            self._skilled = skilled
        return skilled

    def _check_texts(self, texts: Sequence[str]) -> None:
        if isinstance(texts, str):
            raise InvalidInputError("expected a sequence of strings, got one string", field="texts")
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise InvalidInputError(
                    f"text #{i} is {type(text).__name__}, not a string", field="text"
                )
            if not text.strip():
                raise InvalidInputError(f"text #{i} is empty or whitespace only", field="text")

    def _resolve(self, kind: str, texts: Sequence[str]) -> list[Resolution]:
        self._check_texts(texts)
        lookup = self.skill_position if kind == "skill" else self.occupation_position
        at = self._skill_at if kind == "skill" else self._occupation_at
        prefix = _SKILL_PREFIX if kind == "skill" else _OCCUPATION_PREFIX
        # A text resolves the same on its own as in any batch, so free-text outcomes are
        # remembered: the index resolves a participant's unresolved texts again on every
        # upsert of that participant (about 2 ms each at the shipped taxonomy).
        remembered = self._resolved[kind]
        out: list[Resolution | None] = [None] * len(texts)
        free: list[int] = []
        for i, text in enumerate(texts):
            stripped = text.strip()
            if stripped.startswith("http://data.europa.eu/esco/"):
                pos = lookup.get(stripped)
                if pos is not None:
                    out[i] = Resolution(text, at(pos), 1.0, ())
                else:
                    out[i] = Resolution(text, None, 0.0, ())
            elif stripped.startswith(prefix):
                out[i] = Resolution(text, None, 0.0, ())
            else:
                out[i] = remembered.get(text)
                if out[i] is None:
                    free.append(i)
        ranked = self._rank(kind, [texts[i] for i in free], 1 + _N_ALTERNATIVES)
        for i, candidates in zip(free, ranked, strict=True):
            if not candidates:
                out[i] = Resolution(texts[i], None, 0.0, ())
            else:
                best_pos, best = candidates[0]
                concept = at(best_pos) if best >= RESOLVE_THRESHOLD else None
                alternatives = tuple((at(p), s) for p, s in candidates[1:] if s > 0.0)
                out[i] = Resolution(texts[i], concept, best, alternatives)
        if free:
            with self._lock:
                for i in free:
                    remembered[texts[i]] = out[i]
                while len(remembered) > _RESOLVED_KEPT:
                    del remembered[next(iter(remembered))]
        return [r for r in out if r is not None]

    def resolve_skill(self, text: str) -> Resolution:
        """Resolve free text (or a skill URI) to the best matching ESCO skill.

        Parameters
        ----------
        text : str
            German or English, any case; a skill URI passes through with confidence 1.0
            (an unknown URI resolves to None with confidence 0.0).

        Returns
        -------
        Resolution
            ``concept`` is None when the confidence is below :data:`RESOLVE_THRESHOLD`.

        Raises
        ------
        InvalidInputError
            ``text`` is empty or whitespace only.
        """
        return self._resolve("skill", [text])[0]

    def resolve_skills(self, texts: Sequence[str]) -> list[Resolution]:
        """Resolve many texts at once (vectorised); see :meth:`resolve_skill`."""
        return self._resolve("skill", list(texts) if not isinstance(texts, str) else texts)

    def resolve_occupation(self, text: str) -> Resolution:
        """Resolve a job title (German, gendered forms welcome, or English) to an occupation.

        Raises
        ------
        InvalidInputError
            ``text`` is empty or whitespace only.
        """
        return self._resolve("occupation", [text])[0]

    def resolve_occupations(self, texts: Sequence[str]) -> list[Resolution]:
        """Resolve many job titles at once (vectorised); see :meth:`resolve_occupation`."""
        return self._resolve("occupation", list(texts) if not isinstance(texts, str) else texts)

    def _search(self, kind: str, query: str, limit: int) -> list[tuple[Concept, float]]:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise InvalidInputError(
                f"limit must be a positive integer, got {limit!r}", field="limit"
            )
        self._check_texts([query])
        at = self._skill_at if kind == "skill" else self._occupation_at
        index = self._index(kind)
        variants = query_variants(query) or [normalize_text(query)]
        scores = index.scores(variants, np.ones(len(variants), bool)).max(axis=0)
        prefix = normalize_text(_strip_gender(query))
        if prefix:
            scores = np.maximum(scores, index.prefix_scores(prefix))
        k = min(limit, index.n_concepts)
        cand = np.argpartition(-scores, k - 1)[:k] if k < index.n_concepts else np.arange(k)
        order = np.lexsort((cand, -scores[cand]))
        return [
            (at(int(cand[j])), float(min(scores[cand[j]], 1.0)))
            for j in order
            if scores[cand[j]] > 0.0
        ]

    def search_skills(self, query: str, limit: int = 10) -> list[tuple[Concept, float]]:
        """Type-ahead suggestions: best skills for a partial query, German labels first."""
        return self._search("skill", query, limit)

    def search_occupations(self, query: str, limit: int = 10) -> list[tuple[Concept, float]]:
        """Type-ahead suggestions: best occupations for a partial query, German first."""
        return self._search("occupation", query, limit)

    def __repr__(self) -> str:
        return (
            f"Taxonomy({len(self.skills)} skills, {len(self.occupations)} occupations, "
            f"version={self.version!r})"
        )
