"""Top-k selection with reproducible tie-breaking."""

from __future__ import annotations

import numpy as np

__all__ = ["top_k"]


def top_k(scores: np.ndarray, eligible: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    """Return the positions of the ``k`` best eligible rows, best first.

    Ties break by id (ascending), so a ranking does not depend on row order.

    Parameters
    ----------
    scores : ndarray of float
    eligible : ndarray of bool
    ids : ndarray of str (object)
    k : int

    Examples
    --------
    >>> top_k(np.array([0.5, 0.9, 0.5, 0.1]), np.array([True, True, True, False]),
    ...       np.array(["b", "c", "a", "d"], dtype=object), 3).tolist()
    [1, 2, 0]
    """
    candidates = np.flatnonzero(eligible)
    if k <= 0 or len(candidates) == 0:
        return np.zeros(0, dtype=np.int64)
    values = scores[candidates]
    if len(candidates) > k:
        threshold = np.partition(values, len(values) - k)[len(values) - k]
        keep = values >= threshold
        candidates = candidates[keep]
        values = values[keep]
    order = np.lexsort((ids[candidates].astype(str), -values))
    return candidates[order[:k]]
