"""Column names, reason codes and factor names shared by the whole library.

Callers build the participant and vacancy tables with these names; the service and the
notebooks import them instead of spelling strings.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "AVAILABILITY_SHIFTS",
    "FACTORS",
    "MODES",
    "PARTICIPANT_COLUMNS",
    "REASONS",
    "VACANCY_COLUMNS",
    "WORK_PERMIT_VALUES",
    "Factor",
    "P",
    "Reason",
    "V",
]


class P:
    """Participant table columns."""

    ID: Final = "participant_id"
    SKILLS: Final = "skills"  # list[str]: ESCO skill URIs or free text
    CERTIFICATES: Final = "certificates"  # list[str]
    LANGUAGES: Final = "languages"  # list[{language, level, expected_level?, expected_by?}]
    POSTCODE: Final = "postcode"  # str | None
    QUARTER: Final = "quarter"  # str | None: a Bielefeld district or quarter name
    LAT: Final = "lat"  # float | None
    LON: Final = "lon"  # float | None
    MODES: Final = "modes"  # list[str] subset of MODES
    DRIVING_LICENCE: Final = "driving_licence"  # list[str] classes, e.g. ["B", "C"]
    MAX_COMMUTE: Final = "max_commute_minutes"  # float | None, one way
    HOURS_MIN: Final = "hours_min"  # float
    HOURS_MAX: Final = "hours_max"  # float
    AVAILABILITY: Final = "availability"  # list[str] subset of AVAILABILITY_SHIFTS
    WORK_PERMIT: Final = "work_permit"  # one of WORK_PERMIT_VALUES
    DESIRED_OCCUPATIONS: Final = "desired_occupations"  # list[str]: ESCO URIs or text
    PAST_OCCUPATIONS: Final = "past_occupations"  # list[str]
    CONSENT: Final = "consent"  # bool: agreed to be shown to employers
    APPROVED: Final = "approved"  # bool: coach approved for employers' shortlists


class V:
    """Vacancy table columns."""

    ID: Final = "vacancy_id"
    EMPLOYER_ID: Final = "employer_id"
    TITLE: Final = "title"
    OCCUPATION: Final = "occupation"  # ESCO URI or text
    SKILLS: Final = "skills"  # list[{skill, essential}]
    CERTIFICATES: Final = "certificates_required"  # list[str]
    LANGUAGES: Final = "languages"  # list[{language, level}]: minimum levels
    POSTCODE: Final = "postcode"
    QUARTER: Final = "quarter"
    LAT: Final = "lat"
    LON: Final = "lon"
    HOURS: Final = "hours_per_week"
    DAYS: Final = "days_per_week"  # default 5
    SHIFTS: Final = "shifts"  # list[str]
    DRIVING_LICENCE: Final = "driving_licence_required"  # str class ("B", "C", ...) or None
    WORK_PERMIT_REQUIRED: Final = "work_permit_required"  # bool, default True
    OPENINGS: Final = "openings"
    START_DATE: Final = "start_date"
    STATUS: Final = "status"  # open / filled / closed


PARTICIPANT_COLUMNS: Final = tuple(v for k, v in vars(P).items() if k.isupper())
VACANCY_COLUMNS: Final = tuple(v for k, v in vars(V).items() if k.isupper())

MODES: Final = ("walk", "bike", "transit", "car")
AVAILABILITY_SHIFTS: Final = ("early", "day", "late", "night", "weekend")
WORK_PERMIT_VALUES: Final = ("yes", "restricted", "pending", "unknown")


class Reason:
    """Hard-filter reason codes, in the order they are reported."""

    NOT_OPEN: Final = "vacancy_not_open"
    LANGUAGE: Final = "language_too_low"
    COMMUTE: Final = "commute_too_long"
    HOURS: Final = "hours_incompatible"
    SHIFTS: Final = "shifts_incompatible"
    DRIVING_LICENCE: Final = "driving_licence_missing"
    CERTIFICATE: Final = "certificate_missing"
    WORK_PERMIT: Final = "work_permit_missing"
    NOT_CONSENTED: Final = "not_consented"
    NOT_APPROVED: Final = "not_approved"


REASONS: Final = tuple(v for k, v in vars(Reason).items() if k.isupper())


class Factor:
    """Score factors, each in [0, 1]."""

    SKILLS: Final = "skills"
    OCCUPATION: Final = "occupation"
    LANGUAGE: Final = "language"
    COMMUTE: Final = "commute"
    HOURS: Final = "hours"


FACTORS: Final = (Factor.SKILLS, Factor.OCCUPATION, Factor.LANGUAGE, Factor.COMMUTE, Factor.HOURS)
