"""German labels of the codes the pages show (factors, modes, shifts, statuses, levels)."""

from __future__ import annotations

from typing import Final

from matching.explain import MODE_LABELS_DE, REASON_LABELS_DE
from matching.schema import AVAILABILITY_SHIFTS, FACTORS, MODES, Factor

__all__ = [
    "CEFR_CHOICES",
    "FACTOR_LABELS_DE",
    "FIELD_LABELS_DE",
    "LANGUAGE_NAMES_DE",
    "MODE_LABELS_DE",
    "NOTICE_VERSION",
    "OUTCOME_LABELS_DE",
    "REASON_LABELS_DE",
    "ROLE_LABELS_DE",
    "SHIFT_LABELS_DE",
    "STATUS_LABELS_DE",
    "WORK_PERMIT_LABELS_DE",
    "mode_choices",
    "shift_choices",
]

#: Version of the privacy notice shown on the consent form (``privacy_notice.html``).
NOTICE_VERSION: Final = "web-2026-11"

FACTOR_LABELS_DE: Final = {
    Factor.SKILLS: "Kompetenzen",
    Factor.OCCUPATION: "Beruf",
    Factor.LANGUAGE: "Sprache",
    Factor.COMMUTE: "Arbeitsweg",
    Factor.HOURS: "Arbeitszeit",
}
assert set(FACTOR_LABELS_DE) == set(FACTORS)

SHIFT_LABELS_DE: Final = {
    "early": "Frühschicht",
    "day": "Tagsüber",
    "late": "Spätschicht",
    "night": "Nachtschicht",
    "weekend": "Wochenende",
}
assert set(SHIFT_LABELS_DE) == set(AVAILABILITY_SHIFTS)
assert set(MODE_LABELS_DE) == set(MODES)

WORK_PERMIT_LABELS_DE: Final = {
    "yes": "ja",
    "restricted": "eingeschränkt",
    "pending": "beantragt",
    "unknown": "unbekannt",
}
OUTCOME_LABELS_DE: Final = {
    "proposed": "vorgeschlagen",
    "applied": "beworben",
    "interview": "Vorstellungsgespräch",
    "hired": "eingestellt",
    "rejected": "abgelehnt",
    "withdrawn": "zurückgezogen",
}
STATUS_LABELS_DE: Final = {"open": "offen", "filled": "besetzt", "closed": "geschlossen"}
ROLE_LABELS_DE: Final = {
    "admin": "Verwaltung",
    "coach": "Coach",
    "employer": "Arbeitgeber",
    "analyst": "Analyse",
}
LANGUAGE_NAMES_DE: Final = {
    "de": "Deutsch", "en": "Englisch", "ar": "Arabisch", "tr": "Türkisch", "uk": "Ukrainisch",
    "ru": "Russisch", "pl": "Polnisch", "ro": "Rumänisch", "fa": "Persisch", "fr": "Französisch",
    "ku": "Kurdisch", "so": "Somali", "ti": "Tigrinya", "bg": "Bulgarisch", "sq": "Albanisch",
}  # fmt: skip
CEFR_CHOICES: Final = (
    ("A1", "A1"), ("A2", "A2"), ("B1", "B1"), ("B2", "B2"), ("C1", "C1"), ("C2", "C2"),
    ("native", "Muttersprache"),
)  # fmt: skip


#: Form fields: German name and the id of the element the error summary links to.
FIELD_LABELS_DE: Final = {
    "name": ("Name", "name"), "contact": ("Kontakt", "contact"),
    "postcode": ("Postleitzahl", "postcode"), "quarter": ("Stadtteil", "quarter"),
    "place": ("Ort", "postcode"), "skills": ("Kompetenzen", "skills_text"),
    "languages": ("Sprachen", "lang_0"), "modes": ("Verkehrsmittel", None),
    "max_commute_minutes": ("Arbeitsweg", "max_commute_minutes"),
    "driving_licence": ("Führerschein", "driving_licence"),
    "hours_min": ("Mindeststunden", "hours_min"), "hours_max": ("Höchststunden", "hours_max"),
    "availability": ("Schichten", None), "work_permit": ("Arbeitserlaubnis", "work_permit"),
    "certificates": ("Nachweise", "certificates"),
    "desired_occupations": ("Berufswünsche", "desired_occupations"),
    "past_occupations": ("Frühere Tätigkeiten", "past_occupations"),
    "title": ("Titel", "title"), "occupation": ("Beruf", "occupation"),
    "certificates_required": ("Nachweise", "certificates_required"),
    "driving_licence_required": ("Führerschein", "driving_licence_required"),
    "hours_per_week": ("Stunden pro Woche", "hours_per_week"),
    "days_per_week": ("Tage pro Woche", "days_per_week"), "openings": ("Plätze", "openings"),
    "start_date": ("Beginn", "start_date"), "shifts": ("Schichten", None),
    "status": ("Status", "status"),
}  # fmt: skip


def mode_choices() -> list[tuple[str, str]]:
    """``(code, German label)`` of the travel modes, in schema order."""
    return [(m, MODE_LABELS_DE[m]) for m in MODES]


def shift_choices() -> list[tuple[str, str]]:
    """``(code, German label)`` of the shifts, in schema order."""
    return [(s, SHIFT_LABELS_DE[s]) for s in AVAILABILITY_SHIFTS]
