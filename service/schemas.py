"""Request and response schemas of the HTTP API (pydantic v2).

Input models forbid unknown fields (so ``coach_id``, ``employer_id`` on a participant,
``score`` and other non-input fields answer 422), use strict types and bound every
number and list.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from matching.schema import AVAILABILITY_SHIFTS, MODES, WORK_PERMIT_VALUES, Reason

__all__ = [
    "CEFR_LEVELS",
    "MAX_ID",
    "OVERRIDABLE_REASONS",
    "ApprovalIn",
    "CaseloadIn",
    "CaseloadOut",
    "ConsentIn",
    "EmployerIn",
    "EmployerOut",
    "EmployerPatch",
    "ErrorBody",
    "Hours",
    "LanguageIn",
    "Location",
    "Mobility",
    "MonitoringIn",
    "OutcomeIn",
    "OverrideIn",
    "Page",
    "ParticipantIn",
    "ParticipantPatch",
    "ReleaseIn",
    "ResolvedTerm",
    "VacancyIn",
    "VacancyLanguageIn",
    "VacancyPatch",
    "VacancySkillIn",
]

CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2", "native")
OVERRIDABLE_REASONS = (
    Reason.LANGUAGE,
    Reason.COMMUTE,
    Reason.HOURS,
    Reason.SHIFTS,
    Reason.DRIVING_LICENCE,
    Reason.CERTIFICATE,
    Reason.WORK_PERMIT,
)

Cefr = Literal["A1", "A2", "B1", "B2", "C1", "C2", "native"]
Mode = Literal[MODES]  # type: ignore[valid-type]
Shift = Literal[AVAILABILITY_SHIFTS]  # type: ignore[valid-type]
WorkPermit = Literal[WORK_PERMIT_VALUES]  # type: ignore[valid-type]
OverridableReason = Literal[OVERRIDABLE_REASONS]  # type: ignore[valid-type]
VacancyStatus = Literal["open", "filled", "closed"]
OutcomeStatus = Literal["proposed", "applied", "interview", "hired", "rejected", "withdrawn"]
SizeClass = Literal["micro", "small", "medium", "large"]

#: Largest id: ids are 32-bit integers on every database.
MAX_ID = 2_147_483_647
ObjectId = Annotated[int, Field(ge=1, le=MAX_ID)]
Postcode = Annotated[str, StringConstraints(pattern=r"^\d{5}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
LicenceClass = Annotated[
    str, StringConstraints(pattern=r"^(AM|A1|A2|A|B|BE|B96|C1|C1E|C|CE|D1|D1E|D|DE|L|T)$")
]
Term = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Hour = Annotated[float, Field(ge=1, le=60)]

_IN = ConfigDict(extra="forbid", strict=True)


class _In(BaseModel):
    model_config = _IN


class Location(_In):
    """A place: a five-digit postcode, a Bielefeld quarter and/or coordinates."""

    postcode: Postcode | None = None
    quarter: ShortText | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None

    @model_validator(mode="after")
    def _placeable(self) -> Location:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon must be given together")
        if self.postcode is None and self.quarter is None and self.lat is None:
            raise ValueError("give a postcode, a quarter or lat/lon")
        return self


class Hours(_In):
    """Weekly hours a participant can work."""

    min: Hour
    max: Hour

    @model_validator(mode="after")
    def _ordered(self) -> Hours:
        if self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class Mobility(_In):
    """How a participant can travel."""

    modes: Annotated[list[Mode], Field(max_length=4)] = Field(
        default_factory=lambda: ["walk", "transit"]
    )
    driving_licence: Annotated[list[LicenceClass], Field(max_length=20)] = Field(
        default_factory=list
    )


class LanguageIn(_In):
    """A participant's language level, optionally with a course's expected level."""

    language: LanguageCode
    level: Cefr
    expected_level: Cefr | None = None
    expected_by: dt.date | None = None


class VacancyLanguageIn(_In):
    """A vacancy's minimum language level."""

    language: LanguageCode
    level: Cefr


class VacancySkillIn(_In):
    """A vacancy's skill: an ESCO URI or free text, essential or optional."""

    skill: Term
    essential: bool = True


_Terms = Annotated[list[Term], Field(max_length=100)]


class ParticipantIn(_In):
    """A new participant (the owning coach is the signed-in coach)."""

    name: ShortText
    contact: Annotated[str, StringConstraints(max_length=500)] | None = None
    home: Location
    skills: Annotated[list[Term], Field(min_length=1, max_length=100)]
    certificates: _Terms = Field(default_factory=list)
    languages: Annotated[list[LanguageIn], Field(max_length=20)] = Field(default_factory=list)
    mobility: Mobility = Field(default_factory=Mobility)
    max_commute_minutes: Annotated[int, Field(ge=1, le=180)] | None = None
    hours_per_week: Hours
    availability: Annotated[list[Shift], Field(max_length=5)] = Field(
        default_factory=lambda: ["day"]
    )
    work_permit: WorkPermit = "unknown"
    desired_occupations: _Terms = Field(default_factory=list)
    past_occupations: _Terms = Field(default_factory=list)
    objects_to_profiling: bool = False
    active: bool = True


class ParticipantPatch(_In):
    """Changes to a participant; omitted fields stay as they are."""

    name: ShortText | None = None
    contact: Annotated[str, StringConstraints(max_length=500)] | None = None
    home: Location | None = None
    skills: Annotated[list[Term], Field(min_length=1, max_length=100)] | None = None
    certificates: _Terms | None = None
    languages: Annotated[list[LanguageIn], Field(max_length=20)] | None = None
    mobility: Mobility | None = None
    max_commute_minutes: Annotated[int, Field(ge=1, le=180)] | None = None
    hours_per_week: Hours | None = None
    availability: Annotated[list[Shift], Field(max_length=5)] | None = None
    work_permit: WorkPermit | None = None
    desired_occupations: _Terms | None = None
    past_occupations: _Terms | None = None
    objects_to_profiling: bool | None = None
    active: bool | None = None


class EmployerIn(_In):
    """A new employer."""

    name: ShortText
    postcode: Postcode | None = None
    size_class: SizeClass | None = None


class EmployerPatch(_In):
    """Changes to an employer."""

    name: ShortText | None = None
    postcode: Postcode | None = None
    size_class: SizeClass | None = None


class VacancyIn(_In):
    """A new vacancy. ``employer_id`` is required for admins; employers may omit it."""

    employer_id: ObjectId | None = None
    title: ShortText
    occupation: Term | None = None
    skills: Annotated[list[VacancySkillIn], Field(max_length=100)] = Field(default_factory=list)
    certificates_required: _Terms = Field(default_factory=list)
    languages: Annotated[list[VacancyLanguageIn], Field(max_length=20)] = Field(
        default_factory=list
    )
    location: Location
    hours_per_week: Hour
    days_per_week: Annotated[int, Field(ge=1, le=7)] = 5
    shifts: Annotated[list[Shift], Field(max_length=5)] = Field(default_factory=lambda: ["day"])
    driving_licence_required: LicenceClass | None = None
    work_permit_required: bool = True
    openings: Annotated[int, Field(ge=1, le=1000)] = 1
    start_date: dt.date | None = None
    status: VacancyStatus = "open"


class VacancyPatch(_In):
    """Changes to a vacancy; omitted fields stay as they are."""

    title: ShortText | None = None
    occupation: Term | None = None
    skills: Annotated[list[VacancySkillIn], Field(max_length=100)] | None = None
    certificates_required: _Terms | None = None
    languages: Annotated[list[VacancyLanguageIn], Field(max_length=20)] | None = None
    location: Location | None = None
    hours_per_week: Hour | None = None
    days_per_week: Annotated[int, Field(ge=1, le=7)] | None = None
    shifts: Annotated[list[Shift], Field(max_length=5)] | None = None
    driving_licence_required: LicenceClass | None = None
    work_permit_required: bool | None = None
    openings: Annotated[int, Field(ge=1, le=1000)] | None = None
    start_date: dt.date | None = None
    status: VacancyStatus | None = None


class ConsentIn(_In):
    """A participant's consent to be shown to employers, or its withdrawal."""

    given: bool
    notice_version: Annotated[str, StringConstraints(min_length=1, max_length=50)]


class ApprovalIn(_In):
    """A coach's approval for employers' shortlists, or its withdrawal."""

    approved: bool


class OverrideIn(_In):
    """Override one hard filter for one vacancy, with the reason."""

    vacancy_id: ObjectId
    reason_code: OverridableReason
    reason: LongText


class ReleaseIn(_In):
    """Release one of the coach's participants to the vacancy's employer."""

    participant_id: ObjectId


class OutcomeIn(_In):
    """What happened. Coaches name ``participant_id``; employers name ``candidate_ref``."""

    vacancy_id: ObjectId
    participant_id: ObjectId | None = None
    candidate_ref: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{4,32}$")] | None = None
    status: OutcomeStatus
    reason: Annotated[str, StringConstraints(max_length=2000)] | None = None

    @model_validator(mode="after")
    def _one_person(self) -> OutcomeIn:
        if (self.participant_id is None) == (self.candidate_ref is None):
            raise ValueError("give exactly one of participant_id and candidate_ref")
        return self


_Ids = Annotated[list[ObjectId], Field(max_length=10_000)]


class CaseloadIn(_In):
    """Hand participants from one coach to another (all of them, or the listed ones)."""

    from_coach_id: ObjectId
    to_coach_id: ObjectId
    participant_ids: _Ids | None = None


class CaseloadOut(BaseModel):
    """Result of a caseload hand-over."""

    moved: list[int]


class MonitoringIn(_In):
    """Optional fairness-monitoring attributes with their own consent."""

    consent_given: bool
    sex: Literal["female", "male", "diverse", "not_stated"] | None = None
    age_band: Literal["under_25", "25_34", "35_44", "45_54", "55_plus"] | None = None
    nationality_group: Annotated[str, StringConstraints(max_length=50)] | None = None
    disability: bool | None = None


class ErrorBody(BaseModel):
    """Every error answer: a code and what was wrong (validation errors name the fields)."""

    error: str
    detail: str
    fields: list[str] | None = None


class ResolvedTerm(BaseModel):
    """What an input skill or occupation was resolved to (``uri`` is None if unresolved)."""

    input: str
    uri: str | None
    label_de: str | None = None
    label_en: str | None = None
    confidence: float


class EmployerOut(BaseModel):
    """An employer."""

    id: int
    name: str
    postcode: str | None
    size_class: str | None


class Page(BaseModel):
    """One page of a list."""

    items: list[Any]
    total: int
    limit: int
    offset: int
