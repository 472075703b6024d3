"""Plain baseline rankers for the quality benchmarks.

These are deliberately simple, well-known methods that the scoring pipeline has to beat:
Jaccard overlap of skill-concept sets, TF-IDF cosine between skill-label documents (word
or character n-grams, scikit-learn's :class:`~sklearn.feature_extraction.text.TfidfVectorizer`)
and a nearest-label lookup for job titles. Every scorer works on whole matrices (sparse
products), never on one pair at a time. This module is benchmark code, not part of the
``matching`` library.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Final

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = [
    "exact_label_positions",
    "indicator",
    "jaccard",
    "nearest_label",
    "rankings_from_top",
    "tfidf_cosine",
    "top_k_rows",
]

_CHUNK: Final = 512


def indicator(rows: Sequence[Iterable[int]], n_columns: int) -> sp.csr_matrix:
    """Binary row-by-concept matrix from per-row lists of column positions.

    Parameters
    ----------
    rows : sequence of iterables of int
        Column positions held by each row; repeats count once.
    n_columns : int
        Number of columns (concepts).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(len(rows), n_columns)`` float32 with 1.0 where a row holds a concept.

    Examples
    --------
    >>> indicator([[0, 2, 2], []], 3).toarray().tolist()
    [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    """
    unique = [np.unique(np.fromiter(r, dtype=np.int64)) for r in rows]
    indptr = np.zeros(len(unique) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(u) for u in unique])
    indices = np.concatenate(unique) if unique else np.zeros(0, dtype=np.int64)
    if len(indices) and (indices.min() < 0 or indices.max() >= n_columns):
        raise ValueError(f"column positions must lie in [0, {n_columns})")
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(unique), n_columns))


def jaccard(a: sp.spmatrix, b: sp.spmatrix) -> np.ndarray:
    """Jaccard similarity of every row set of ``a`` with every row set of ``b``.

    ``|A ∩ B| / |A ∪ B|`` from one sparse product; two empty sets score 0.

    Parameters
    ----------
    a, b : scipy.sparse matrix
        Binary (non-zero = member) matrices over the same columns.

    Returns
    -------
    numpy.ndarray
        ``(a.shape[0], b.shape[0])`` float64.

    Examples
    --------
    >>> a = indicator([[0, 1, 2]], 4)
    >>> b = indicator([[1, 2, 3], [0, 1, 2], [3]], 4)
    >>> jaccard(a, b).tolist()  # 2/4, 3/3, 0/4
    [[0.5, 1.0, 0.0]]
    """
    a = (sp.csr_matrix(a) != 0).astype(np.float64)
    b = (sp.csr_matrix(b) != 0).astype(np.float64)
    inter = (a @ b.T).toarray()
    size_a = np.asarray(a.sum(axis=1)).ravel()
    size_b = np.asarray(b.sum(axis=1)).ravel()
    union = size_a[:, None] + size_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def tfidf_cosine(
    queries: Sequence[str],
    documents: Sequence[str],
    *,
    analyzer: str = "word",
    ngram_range: tuple[int, int] = (1, 1),
) -> np.ndarray:
    """TF-IDF cosine similarity of every query with every document.

    The vectoriser (lower-casing, scikit-learn's default tokens, smoothed IDF, l2 norm) is
    fitted on ``documents``; words absent from them do not count.

    Parameters
    ----------
    queries, documents : sequence of str
    analyzer : {"word", "char", "char_wb"}, default "word"
    ngram_range : tuple of int, default (1, 1)

    Returns
    -------
    numpy.ndarray
        ``(len(queries), len(documents))`` float64 cosines in [0, 1].

    Examples
    --------
    >>> scores = tfidf_cosine(["forklift driving"],
    ...                       ["drive a forklift", "cook pasta", "forklift driving"])
    >>> scores.argmax(), bool(scores[0, 1] == 0.0)
    (np.int64(2), True)
    """
    vectoriser = TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, lowercase=True)
    doc_matrix = vectoriser.fit_transform(list(documents))
    query_matrix = vectoriser.transform(list(queries))
    return np.asarray((query_matrix @ doc_matrix.T).toarray(), dtype=np.float64)


def nearest_label(
    queries: Sequence[str],
    labels: Sequence[str],
    *,
    analyzer: str = "char_wb",
    ngram_range: tuple[int, int] = (3, 5),
    chunk: int = _CHUNK,
) -> tuple[np.ndarray, np.ndarray]:
    """Plain nearest label by character TF-IDF cosine (lower-casing only).

    Parameters
    ----------
    queries : sequence of str
        Texts to look up.
    labels : sequence of str
        The candidate labels; the vectoriser is fitted on them.
    analyzer : str, default "char_wb"
        scikit-learn analyzer.
    ngram_range : tuple of int, default (3, 5)
    chunk : int, default 512
        Queries per sparse product (bounds memory).

    Returns
    -------
    index : numpy.ndarray of int64
        Position in ``labels`` of each query's nearest label (lowest position on ties),
        -1 when the query shares no n-gram with any label.
    score : numpy.ndarray of float64
        The cosine of that label (0 where ``index`` is -1).

    Examples
    --------
    >>> index, score = nearest_label(["Lagerhelfer", "qqq"], ["Koch", "Lagerhelfer/in", "Lagerist"])
    >>> index.tolist(), bool(score[0] > 0.5), score[1].item()
    ([1, -1], True, 0.0)
    """
    vectoriser = TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, lowercase=True)
    label_matrix = vectoriser.fit_transform(list(labels)).T.tocsr()
    query_matrix = vectoriser.transform(list(queries))
    n = query_matrix.shape[0]
    index = np.full(n, -1, dtype=np.int64)
    score = np.zeros(n, dtype=np.float64)
    for start in range(0, n, chunk):
        block = (query_matrix[start : start + chunk] @ label_matrix).toarray()
        best = block.argmax(axis=1) if block.shape[1] else np.zeros(len(block), np.int64)
        value = block[np.arange(len(block)), best] if block.shape[1] else np.zeros(len(block))
        found = value > 0
        index[start : start + chunk] = np.where(found, best, -1)
        score[start : start + chunk] = np.where(found, value, 0.0)
    return index, score


def exact_label_positions(
    texts: Sequence[str], labels: Mapping[str, int]
) -> list[int | None]:
    """Look texts up by exact label after stripping and lower-casing, nothing else.

    Parameters
    ----------
    texts : sequence of str
    labels : mapping of str to int
        Lower-cased label → concept position.

    Returns
    -------
    list of int or None
        The position of each text's concept, None when no label equals the text.

    Examples
    --------
    >>> exact_label_positions(["Forklift ", "fork lift"], {"forklift": 7})
    [7, None]
    """
    return [labels.get(text.strip().lower()) for text in texts]


def top_k_rows(scores: np.ndarray, k: int, mask: np.ndarray | None = None) -> np.ndarray:
    """The ``k`` best columns of every row, best first; ties break by column position.

    Order the columns by item id beforehand so that ties break by id.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(n_rows, n_columns)`` scores.
    k : int
        How many columns to keep per row.
    mask : numpy.ndarray of bool, optional
        Same shape; only ``True`` entries may be chosen (a hard-filter mask).

    Returns
    -------
    numpy.ndarray of int64
        ``(n_rows, k)`` column positions, padded with -1 where a row has fewer than ``k``
        eligible columns.

    Examples
    --------
    >>> s = np.array([[0.2, 0.9, 0.2, 0.5]])
    >>> top_k_rows(s, 3).tolist()
    [[1, 3, 0]]
    >>> top_k_rows(s, 3, mask=np.array([[True, False, True, False]])).tolist()
    [[0, 2, -1]]
    """
    if k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    values = np.asarray(scores, dtype=np.float64)
    if mask is not None:
        values = np.where(mask, values, -np.inf)
    order = np.argsort(-values, axis=1, kind="stable")[:, :k]
    chosen = np.take_along_axis(values, order, axis=1)
    out = np.full((values.shape[0], k), -1, dtype=np.int64)
    out[:, : order.shape[1]] = np.where(np.isneginf(chosen), -1, order)
    return out


def rankings_from_top(
    top: np.ndarray, row_ids: Sequence[Hashable], column_ids: Sequence[Hashable]
) -> dict[Hashable, list[Hashable]]:
    """Turn the output of :func:`top_k_rows` into ``{row id: [column ids]}``.

    Examples
    --------
    >>> rankings_from_top(np.array([[1, -1]]), ["p1"], ["v1", "v2"])
    {'p1': ['v2']}
    """
    columns = np.asarray(column_ids, dtype=object)
    return {
        rid: columns[row[row >= 0]].tolist() for rid, row in zip(row_ids, top, strict=True)
    }
