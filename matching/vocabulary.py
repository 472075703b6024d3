"""Growing vocabularies that map codes to bit or column positions.

The scoring index stores sets (certificates, languages) as bit masks or dense columns
so that filters are array operations. A vocabulary is shared by the vacancy and the
participant side of one index and only ever grows, so positions stay stable while
rows are added.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["BitVocabulary"]


class BitVocabulary:
    """Map codes to bits of a multi-word ``uint64`` mask.

    Examples
    --------
    >>> vocab = BitVocabulary()
    >>> masks = vocab.masks([["a", "b"], [], ["b"]])
    >>> masks.shape
    (3, 1)
    >>> bool(masks[0, 0] & masks[2, 0])
    True
    """

    def __init__(self) -> None:
        self._position: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._position)

    @property
    def codes(self) -> list[str]:
        """The codes in position order."""
        return sorted(self._position, key=self._position.__getitem__)

    @property
    def n_words(self) -> int:
        """How many 64-bit words a mask needs now."""
        return max(1, -(-len(self._position) // 64))

    def add(self, codes: Iterable[str]) -> None:
        """Add codes not seen before."""
        for code in codes:
            if code not in self._position:
                self._position[code] = len(self._position)

    def masks(self, rows: Iterable[Iterable[str]]) -> np.ndarray:
        """Return one mask row per input row, adding unseen codes first."""
        rows = [list(row) for row in rows]
        for row in rows:
            self.add(row)
        out = np.zeros((len(rows), self.n_words), dtype=np.uint64)
        for i, row in enumerate(rows):
            for code in row:
                position = self._position[code]
                out[i, position // 64] |= np.uint64(1) << np.uint64(position % 64)
        return out

    def decode(self, mask: np.ndarray) -> list[str]:
        """Return the codes set in one mask row."""
        codes = []
        for code, position in self._position.items():
            word = position // 64
            if word < mask.shape[-1] and mask[word] & (np.uint64(1) << np.uint64(position % 64)):
                codes.append(code)
        return sorted(codes)

    def widen(self, masks: np.ndarray) -> np.ndarray:
        """Pad a mask array with zero words up to :attr:`n_words`."""
        missing = self.n_words - masks.shape[1]
        if missing <= 0:
            return masks
        return np.pad(masks, ((0, 0), (0, missing)))
