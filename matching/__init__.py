"""jobmatch's scoring library: rank vacancies for participants and candidates for vacancies.

The library is pure: DataFrames and arrays in, results out. It reads no environment
variables, configures no logging and does nothing at import time beyond importing.
"""

from matching.commute import CommuteModel, CommuteParameters, TravelTimeMatrix
from matching.errors import (
    InvalidInputError,
    InvalidLanguageLevelError,
    InvalidLocationError,
    MatchingError,
    UnknownConceptError,
    UnknownIdError,
)
from matching.geo import Geocoder
from matching.matcher import CandidateResult, Matcher, MatchResult
from matching.scoring import DEFAULT_WEIGHTS, DefaultScorer
from matching.taxonomy import Taxonomy

__all__ = [
    "DEFAULT_WEIGHTS",
    "CandidateResult",
    "CommuteModel",
    "CommuteParameters",
    "DefaultScorer",
    "Geocoder",
    "InvalidInputError",
    "InvalidLanguageLevelError",
    "InvalidLocationError",
    "MatchResult",
    "Matcher",
    "MatchingError",
    "Taxonomy",
    "TravelTimeMatrix",
    "UnknownConceptError",
    "UnknownIdError",
]
