"""Typed errors of the scoring library.

Every error raised on purpose by :mod:`matching` derives from :class:`MatchingError`
and, where callers expect a builtin, from that builtin too (as scikit-learn's
``InvalidParameterError(ValueError, TypeError)`` does). The service maps these classes,
and only these, to HTTP status codes in one table.
"""

from __future__ import annotations

__all__ = [
    "DataFileError",
    "InvalidInputError",
    "InvalidLanguageLevelError",
    "InvalidLocationError",
    "MatchingError",
    "ModelError",
    "NotFittedError",
    "UnknownConceptError",
    "UnknownIdError",
]


class MatchingError(Exception):
    """Base class of all errors raised on purpose by :mod:`matching`."""


class InvalidInputError(MatchingError, ValueError):
    """An input value is malformed or out of range.

    Parameters
    ----------
    message : str
        What was wrong, in words a caller can show.
    field : str, optional
        The name of the offending field (``"hours_per_week"``, ``"languages[0].level"``).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidLanguageLevelError(InvalidInputError):
    """A CEFR level that is not one of A1, A2, B1, B2, C1, C2 or native."""


class InvalidLocationError(InvalidInputError):
    """A postcode, quarter or coordinate pair that cannot be placed."""


class UnknownConceptError(InvalidInputError, LookupError):
    """An ESCO URI that is not in the loaded taxonomy."""


class DataFileError(MatchingError, OSError):
    """A reference data file is missing, unreadable or malformed."""


class NotFittedError(MatchingError, AttributeError):
    """An estimator or index was used before it was fitted or built."""


class ModelError(MatchingError, ValueError):
    """A model artefact is corrupt, incompatible or otherwise refused."""


class UnknownIdError(MatchingError, KeyError):
    """A participant or vacancy id that is not in the index."""

    def __init__(self, message: str, *, kind: str, identifier: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.identifier = identifier

    def __str__(self) -> str:
        return str(self.args[0])
