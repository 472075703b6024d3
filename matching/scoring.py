"""Scorers: turn the factor matrix of many pairs into scores and contributions.

A scorer is anything with a ``version`` string and a ``score(factors)`` method that
returns the scores and the per-factor contributions (which sum to the score). The
transparent default below is used until a learned model (:mod:`matching.training`) is
activated; both explain themselves the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Protocol, runtime_checkable

import numpy as np

from matching.errors import InvalidInputError
from matching.schema import FACTORS, Factor

__all__ = ["DEFAULT_WEIGHTS", "DefaultScorer", "Scorer", "weighted_sum"]

#: Documented default weights (they sum to 1, so a score is in [0, 1]).
#: Occupation fit carries most weight: it pools the strongest evidence there is, the
#: coach's record of what the participant wants and has done and the ESCO occupation
#: their whole skill profile points to, and it is robust to skill lists that name
#: things differently. Skill coverage adds the vacancy's own requirements; language
#: margin, commute and hours fit order the feasible vacancies among themselves (the
#: hard filters already rule out what is not feasible). See docs/SCORING.md.
DEFAULT_WEIGHTS: Final[Mapping[str, float]] = MappingProxyType(
    {
        Factor.SKILLS: 0.20,
        Factor.OCCUPATION: 0.60,
        Factor.LANGUAGE: 0.07,
        Factor.COMMUTE: 0.08,
        Factor.HOURS: 0.05,
    }
)


@runtime_checkable
class Scorer(Protocol):
    """What the matcher needs from a scorer."""

    version: str

    def score(self, factors: np.ndarray) -> np.ndarray:
        """Return the scores of an ``(n, len(FACTORS))`` factor matrix."""
        ...

    def contributions(self, factors: np.ndarray) -> np.ndarray:
        """Return ``(k, len(FACTORS))`` per-factor contributions of a few pairs."""
        ...


def weighted_sum(factors: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``factors @ vector`` in float32, computed the same way for every row.

    A BLAS matrix-vector product may add up a row in vector lanes or in a remainder
    loop depending on where the row sits, so two identical pairs could score one bit
    apart and their tie would no longer break by id. Adding factor by factor applies
    the same float32 operations to every row, in the order of ``FACTORS``.

    Examples
    --------
    >>> f = np.tile(np.float32([0.1, 0.7, 0.3, 0.9, 0.5]), (9, 1))
    >>> len(set(weighted_sum(f, np.float32([0.2, 0.6, 0.07, 0.08, 0.05])).tolist()))
    1
    """
    factors = np.asarray(factors, dtype=np.float32)
    vector = np.asarray(vector, dtype=np.float32)
    total = factors[:, 0] * vector[0]
    for j in range(1, len(vector)):
        total += factors[:, j] * vector[j]
    return total


class DefaultScorer:
    """Transparent weighted sum of the factors.

    Parameters
    ----------
    weights : mapping of str to float, optional
        One non-negative weight per factor of :data:`matching.schema.FACTORS`; they are
        normalised to sum to 1. Defaults to :data:`DEFAULT_WEIGHTS`.

    Examples
    --------
    >>> scorer = DefaultScorer()
    >>> round(float(scorer.score(np.ones((1, 5), dtype=np.float32))[0]), 6)
    1.0
    >>> [round(float(c), 2) for c in scorer.contributions(np.ones((1, 5), dtype=np.float32))[0]]
    [0.2, 0.6, 0.07, 0.08, 0.05]
    """

    def __init__(self, weights: Mapping[str, float] | None = None) -> None:
        self.weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        unknown = set(self.weights) - set(FACTORS)
        missing = set(FACTORS) - set(self.weights)
        if unknown or missing:
            raise InvalidInputError(
                f"weights must name exactly the factors {', '.join(FACTORS)}; "
                f"unknown: {sorted(unknown)}, missing: {sorted(missing)}",
                field="weights",
            )
        values = np.array([self.weights[f] for f in FACTORS], dtype=np.float64)
        if (values < 0).any() or not np.isfinite(values).all() or values.sum() <= 0:
            raise InvalidInputError("weights must be finite, non-negative and not all zero",
                                    field="weights")
        self._vector = (values / values.sum()).astype(np.float32)
        self.version = "default-" + "-".join(f"{w:.3f}" for w in self._vector)

    def score(self, factors: np.ndarray) -> np.ndarray:
        """Return the weighted sums (float32)."""
        return weighted_sum(factors, self._vector)

    def contributions(self, factors: np.ndarray) -> np.ndarray:
        """Return weight times factor, per factor; each row sums to the score."""
        return (np.asarray(factors, dtype=np.float32) * self._vector).astype(np.float32)
