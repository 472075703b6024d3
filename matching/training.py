"""Learning from recorded outcomes: the training table, the learned scorer, its evaluation.

The learning loop starts from two pseudonymous records the service keeps:

* the audit log's **shown items**: one row per participant pseudonym, vacancy and time a
  ranked list showed that vacancy, with the five factor values as they were then, the
  model version and the rank;
* the recorded **outcomes**: participant pseudonym, vacancy, status (``proposed``,
  ``applied``, ``interview``, ``hired``, ``rejected``, ``withdrawn``) and when.

:func:`build_training_table` joins them into one row per pair that was shown or acted on,
with the factors as they were when the pair was *first* shown and a graded relevance.
:class:`LearnedScorer` learns non-negative weights of the factors from it (so the score is
monotone increasing in every factor, as the product requires) and implements the
:class:`~matching.scoring.Scorer` protocol with exact per-factor contributions.
:func:`time_split` and :func:`evaluate_scorers` compare it with the transparent default on
held-out, later outcomes. ``docs/LEARNING.md`` explains every choice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping
from itertools import pairwise
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator

from matching.errors import InvalidInputError, NotFittedError
from matching.evaluation import evaluate_rankings, ndcg_at_k
from matching.schema import FACTORS, V
from matching.scoring import Scorer, weighted_sum

__all__ = [
    "FORBIDDEN_COLUMN_WORDS",
    "RELEVANCE",
    "STATUSES",
    "TRAINING_COLUMNS",
    "LearnedScorer",
    "T",
    "build_training_table",
    "calibration_table",
    "evaluate_scorers",
    "flatten_metrics",
    "scorer_probabilities",
    "time_split",
    "training_data_hash",
]


class T:
    """Column names of the shown-items, outcomes and training tables."""

    PARTICIPANT: Final = "participant_pseudonym"
    VACANCY: Final = V.ID
    SHOWN_AT: Final = "shown_at"
    MODEL_VERSION: Final = "model_version"
    RANK: Final = "rank"
    STATUS: Final = "status"
    AT: Final = "at"
    TIMES_SHOWN: Final = "times_shown"
    WAS_SHOWN: Final = "was_shown"
    LAST_AT: Final = "last_outcome_at"
    RELEVANCE: Final = "relevance"
    LABEL: Final = "label"


#: Graded relevance of a pair by its latest recorded status. A later rejection or
#: withdrawal overrides earlier progress (the pair did not work out); a pair shown
#: without any outcome is a negative too (grade 0). ``proposed`` (a coach suggested the
#: vacancy) is half an application: a human judged the pair worth pursuing.
RELEVANCE: Final[Mapping[str, float]] = MappingProxyType(
    {
        "hired": 3.0,
        "interview": 2.0,
        "applied": 1.0,
        "proposed": 0.5,
        "rejected": 0.0,
        "withdrawn": 0.0,
    }
)

#: Recorded statuses in the order a pair moves through them (ties in time break by it).
STATUSES: Final = ("proposed", "applied", "interview", "hired", "rejected", "withdrawn")

#: Columns of the training table, in order.
TRAINING_COLUMNS: Final = (
    T.PARTICIPANT,
    T.VACANCY,
    T.SHOWN_AT,
    T.WAS_SHOWN,
    T.TIMES_SHOWN,
    T.MODEL_VERSION,
    T.RANK,
    *FACTORS,
    T.STATUS,
    T.LAST_AT,
    T.RELEVANCE,
    T.LABEL,
)

#: Words that mark a column as personal or free text; such a column never enters the
#: training table (checked on the result, so a future change cannot leak one).
FORBIDDEN_COLUMN_WORDS: Final = (
    "name", "contact", "email", "mail", "phone", "address", "street", "reason", "comment",
    "note", "text", "title", "cv", "birth",
)  # fmt: skip

_SHOWN_REQUIRED: Final = (T.PARTICIPANT, T.VACANCY, T.SHOWN_AT, *FACTORS)
_OUTCOME_REQUIRED: Final = (T.PARTICIPANT, T.VACANCY, T.STATUS, T.AT)


# ----------------------------------------------------------------------------- table


def _require(frame: Any, columns: tuple[str, ...], field: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInputError(f"{field} must be a pandas DataFrame, got {type(frame).__name__}",
                                field=field)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"{field} lacks the column(s) {', '.join(missing)}; it needs {', '.join(columns)}",
            field=field,
        )
    return frame


def _times(values: pd.Series, field: str) -> pd.Series:
    try:
        times = pd.to_datetime(values, utc=True)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{field} holds a value that is not a time: {exc}",
                                field=field) from exc
    if times.isna().any():
        raise InvalidInputError(f"{field} has {int(times.isna().sum())} missing time(s)",
                                field=field)
    return times


def _check_ids(frame: pd.DataFrame, field: str) -> None:
    for column in (T.PARTICIPANT, T.VACANCY):
        bad = frame[column].isna() | (frame[column].astype(str).str.len() == 0)
        if bad.any():
            raise InvalidInputError(f"{field}.{column} has {int(bad.sum())} empty value(s)",
                                    field=f"{field}.{column}")


def _check_private(table: pd.DataFrame) -> None:
    for column in table.columns:
        lowered = str(column).lower()
        hit = [w for w in FORBIDDEN_COLUMN_WORDS if w in lowered.replace("-", "_").split("_")]
        if hit:
            raise InvalidInputError(
                f"the training table must stay pseudonymous; column {column!r} looks like "
                f"personal data or free text ({hit[0]!r})",
                field=str(column),
            )


def build_training_table(shown: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Join shown items and outcomes into one pseudonymous row per pair.

    Parameters
    ----------
    shown : pandas.DataFrame
        The audit log's recorded items: ``participant_pseudonym, vacancy_id, shown_at``
        and one column per factor of :data:`~matching.schema.FACTORS` (values in
        [0, 1] as they were when shown); ``model_version`` and ``rank`` if recorded.
        Other columns are ignored.
    outcomes : pandas.DataFrame
        ``participant_pseudonym, vacancy_id, status, at``; ``status`` one of
        :data:`STATUSES`. Other columns (a free-text ``reason``, who recorded it) are
        ignored and never reach the result.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TRAINING_COLUMNS`, one row per (participant, vacancy) pair that was
        shown or acted on, sorted by ``shown_at`` then the ids. Factors, ``model_version``
        and ``rank`` are those of the first showing; ``shown_at`` is the first showing,
        or the first outcome for a pair acted on without being shown (its factors are NaN
        and ``was_shown`` is False: it counts for the fairness label rates, not for
        fitting). ``status`` is the latest recorded status (ties in time break by
        :data:`STATUSES` order), ``relevance`` its grade from :data:`RELEVANCE` (0 without
        an outcome) and ``label`` is ``relevance > 0``.

    Raises
    ------
    InvalidInputError
        A required column is missing, an id or time is empty or malformed, a factor is
        outside [0, 1], or a status is unknown.

    Examples
    --------
    >>> shown = pd.DataFrame({"participant_pseudonym": ["a", "a"], "vacancy_id": ["v1", "v2"],
    ...     "shown_at": ["2026-10-01", "2026-10-01"], "skills": [0.9, 0.1],
    ...     "occupation": [1.0, 0.0], "language": [1.0, 1.0], "commute": [0.5, 0.5],
    ...     "hours": [1.0, 1.0]})
    >>> outcomes = pd.DataFrame({"participant_pseudonym": ["a", "a"],
    ...     "vacancy_id": ["v1", "v1"], "status": ["applied", "hired"],
    ...     "at": ["2026-10-03", "2026-10-20"]})
    >>> build_training_table(shown, outcomes)[["vacancy_id", "status", "relevance"]]
      vacancy_id status  relevance
    0         v1  hired        3.0
    1         v2   None        0.0
    """
    shown = _require(shown, _SHOWN_REQUIRED, "shown")
    outcomes = _require(outcomes, _OUTCOME_REQUIRED, "outcomes")
    _check_ids(shown, "shown")
    _check_ids(outcomes, "outcomes")

    s = pd.DataFrame({
        T.PARTICIPANT: shown[T.PARTICIPANT].astype(str).to_numpy(),
        T.VACANCY: shown[T.VACANCY].astype(str).to_numpy(),
        T.SHOWN_AT: _times(shown[T.SHOWN_AT], "shown.shown_at").to_numpy(),
        T.MODEL_VERSION: (shown[T.MODEL_VERSION].astype(object).to_numpy()
                          if T.MODEL_VERSION in shown else None),
        T.RANK: (pd.to_numeric(shown[T.RANK], errors="coerce").to_numpy()
                 if T.RANK in shown else np.nan),
    })
    for factor in FACTORS:
        values = pd.to_numeric(shown[factor], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values) | (values < 0) | (values > 1)
        if bad.any():
            raise InvalidInputError(
                f"shown.{factor} must be a number in [0, 1]; {int(bad.sum())} row(s) are not "
                f"(first: {shown[factor].to_numpy()[np.flatnonzero(bad)[0]]!r})",
                field=f"shown.{factor}",
            )
        s[factor] = values
    # Two showings of a pair at the same instant: the lower rank, then the lower factors
    # count as first, so the result never depends on the order of the input rows.
    s = s.sort_values([T.SHOWN_AT, T.PARTICIPANT, T.VACANCY, T.RANK, *FACTORS], kind="stable")
    keys = [T.PARTICIPANT, T.VACANCY]
    counts = s.groupby(keys, sort=False).size().rename(T.TIMES_SHOWN)
    first = s.drop_duplicates(keys, keep="first").join(counts, on=keys)
    first[T.WAS_SHOWN] = True

    status = outcomes[T.STATUS].astype(object)
    unknown = ~status.isin(STATUSES)
    if unknown.any():
        raise InvalidInputError(
            f"outcomes.status must be one of {', '.join(STATUSES)}; got "
            f"{status[unknown].iloc[0]!r} ({int(unknown.sum())} row(s))",
            field="outcomes.status",
        )
    o = pd.DataFrame({
        T.PARTICIPANT: outcomes[T.PARTICIPANT].astype(str).to_numpy(),
        T.VACANCY: outcomes[T.VACANCY].astype(str).to_numpy(),
        T.STATUS: status.to_numpy(),
        T.AT: _times(outcomes[T.AT], "outcomes.at").to_numpy(),
    })
    o["_order"] = o[T.STATUS].map({s_: i for i, s_ in enumerate(STATUSES)})
    o = o.sort_values([T.AT, "_order"], kind="stable")
    first_at = o.groupby(keys, sort=False)[T.AT].min().rename("_first_at")
    last = o.drop_duplicates(keys, keep="last").set_index(keys)
    last = last[[T.STATUS, T.AT]].rename(columns={T.AT: T.LAST_AT}).join(first_at)

    table = first.merge(last.reset_index(), on=keys, how="outer")
    table[T.WAS_SHOWN] = table[T.WAS_SHOWN].astype("boolean").fillna(False).astype(bool)
    table[T.SHOWN_AT] = table[T.SHOWN_AT].fillna(table["_first_at"])
    table[T.TIMES_SHOWN] = table[T.TIMES_SHOWN].fillna(0).astype(np.int64)
    for column in (T.STATUS, T.MODEL_VERSION):
        table[column] = table[column].astype(object).where(table[column].notna(), None)
    table[T.LAST_AT] = pd.to_datetime(table[T.LAST_AT], utc=True)
    table[T.SHOWN_AT] = pd.to_datetime(table[T.SHOWN_AT], utc=True)
    table[T.RELEVANCE] = table[T.STATUS].map(dict(RELEVANCE)).fillna(0.0).astype(np.float64)
    table[T.LABEL] = table[T.RELEVANCE] > 0
    table = table.sort_values([T.SHOWN_AT, T.PARTICIPANT, T.VACANCY], kind="stable")
    table = table.loc[:, list(TRAINING_COLUMNS)].reset_index(drop=True)
    _check_private(table)
    return table


def time_split(
    table: pd.DataFrame, test_share: float = 0.25
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a training table in time: the latest pairs become the held-out test set.

    Parameters
    ----------
    table : pandas.DataFrame
        A table of :func:`build_training_table`.
    test_share : float, default 0.25
        Approximate share of the pairs held out, in (0, 1). The cut falls at the
        ``1 - test_share`` quantile of ``shown_at``; all pairs shown at the cut time go to
        the test set, so no moment is split between the two.

    Returns
    -------
    train, test : pandas.DataFrame
        Pairs first shown before the cut, and at or after it.

    Raises
    ------
    InvalidInputError
        ``test_share`` outside (0, 1), a table without ``shown_at``, or a split that
        leaves one side empty (too few distinct times).
    """
    if isinstance(test_share, bool) or not isinstance(test_share, int | float) or not (
        0 < test_share < 1
    ):
        raise InvalidInputError(f"test_share must be in (0, 1), got {test_share!r}",
                                field="test_share")
    _require(table, (T.SHOWN_AT,), "table")
    times = pd.to_datetime(table[T.SHOWN_AT], utc=True)
    ordered = np.sort(times.to_numpy())
    if len(ordered) == 0:
        raise InvalidInputError("the training table is empty", field="table")
    cut = ordered[min(len(ordered) - 1, int(np.floor(len(ordered) * (1 - test_share))))]
    test_mask = (times >= cut).to_numpy()
    train, test = table.loc[~test_mask], table.loc[test_mask]
    if train.empty or test.empty:
        raise InvalidInputError(
            f"a time split with test_share={test_share} leaves an empty side "
            f"({len(train)} training and {len(test)} test rows); more distinct times needed",
            field="table",
        )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def training_data_hash(table: pd.DataFrame) -> str:
    """SHA-256 of a training table's content (row order and column names included).

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1, 2]})
    >>> training_data_hash(a) == training_data_hash(a.copy())
    True
    """
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, table.columns)).encode())
    values = pd.util.hash_pandas_object(table, index=False).to_numpy()
    digest.update(values.tobytes())
    return "sha256:" + digest.hexdigest()


# ----------------------------------------------------------------------------- estimator


def _factor_matrix(X: Any, field: str = "X") -> tuple[np.ndarray, list[str] | None]:
    names = None
    if isinstance(X, pd.DataFrame):
        missing = [f for f in FACTORS if f not in X.columns]
        if missing:
            raise InvalidInputError(
                f"{field} lacks the factor column(s) {', '.join(missing)}", field=field
            )
        names = list(FACTORS)
        X = X.loc[:, names].to_numpy(dtype=np.float64)
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{field} must be numeric: {exc}", field=field) from exc
    if arr.ndim != 2 or arr.shape[1] != len(FACTORS):
        raise InvalidInputError(
            f"{field} must have shape (n, {len(FACTORS)}) with the factors "
            f"{', '.join(FACTORS)}; got {arr.shape}",
            field=field,
        )
    if not np.isfinite(arr).all():
        raise InvalidInputError(f"{field} contains NaN or infinite factor values", field=field)
    return arr, names


class LearnedScorer(BaseEstimator):
    """Logistic model of "the pair worked out" with non-negative factor weights.

    The model is ``P(relevance > 0) = sigmoid(intercept_ + factors @ coef_)`` with every
    ``coef_ >= 0``, fitted by L-BFGS-B under those bounds with an L2 penalty on the
    weights. Non-negative weights make the score monotone increasing in every factor:
    more skill coverage never lowers a score, a longer commute (a lower commute factor)
    never raises it.

    It follows scikit-learn's estimator conventions (parameters stored by ``__init__``,
    ``fit`` returning ``self``, fitted attributes ending in ``_``, ``predict_proba``),
    except that ``score`` is the :class:`~matching.scoring.Scorer` protocol's (scores of
    a factor matrix), not scikit-learn's accuracy.

    As a :class:`~matching.scoring.Scorer`, the score of a pair is ``factors @ coef_``
    (the learned log-odds above those of a pair whose factors are all zero), so the
    per-factor contributions ``coef_ * factors`` sum *exactly* to the score; the
    intercept only matters for :meth:`predict_proba` and does not change a ranking.

    Parameters
    ----------
    C : float, default 1.0
        Inverse strength of the L2 penalty on the weights (as in scikit-learn's
        ``LogisticRegression``); the loss is ``C * sum(log loss) + ||coef||² / 2``.
    grade_weighted : bool, default False
        Weight each positive pair by its relevance grade (a hire counts three times an
        application). Sharpens the ranking towards hires at the cost of calibration.
    max_iter : int, default 500
        Iterations of L-BFGS-B.
    tol : float, default 1e-8
        Gradient tolerance of L-BFGS-B.
    random_state : int or None, default None
        Accepted for the scikit-learn convention; the solver is deterministic.
    model_version : str or None, default None
        Version reported as :attr:`version`; :func:`matching.persistence.save_model` sets
        it to ``"<name>/<version>"``. Without it the version is ``"learned-"`` plus a
        hash of the weights.

    Attributes
    ----------
    coef_ : ndarray of shape (5,)
        Non-negative weight per factor of :data:`~matching.schema.FACTORS`.
    intercept_ : float
    classes_ : ndarray ``[False, True]``
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        The factor names (when fitted on a DataFrame).
    n_iter_ : int

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((400, 5))
    >>> y = (rng.random(400) < 1 / (1 + np.exp(-(4 * X[:, 3] - 2)))).astype(float)
    >>> model = LearnedScorer().fit(X, y)
    >>> bool(model.coef_.argmax() == 3), bool((model.coef_ >= 0).all())
    (True, True)
    >>> f = np.full((1, 5), 0.5, dtype=np.float32)
    >>> bool(np.isclose(model.contributions(f).sum(), model.score(f)[0]))
    True
    """

    def __init__(
        self,
        C: float = 1.0,
        *,
        grade_weighted: bool = False,
        max_iter: int = 500,
        tol: float = 1e-8,
        random_state: int | None = None,
        model_version: str | None = None,
    ) -> None:
        self.C = C
        self.grade_weighted = grade_weighted
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.model_version = model_version

    def _check_params(self) -> None:
        if isinstance(self.C, bool) or not isinstance(self.C, int | float) or not (
            np.isfinite(self.C) and self.C > 0
        ):
            raise InvalidInputError(f"C must be a positive number, got {self.C!r}", field="C")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int) or (
            self.max_iter < 1
        ):
            raise InvalidInputError(f"max_iter must be a positive integer, got {self.max_iter!r}",
                                    field="max_iter")

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> LearnedScorer:
        """Fit the weights.

        Parameters
        ----------
        X : array-like of shape (n, 5) or pandas.DataFrame
            Factor values; a DataFrame is read by the factor names, so a training table of
            :func:`build_training_table` can be passed whole (its rows without factors,
            pairs acted on but never shown, are dropped, and ``y`` defaults to its
            ``relevance`` column).
        y : array-like of shape (n,)
            Graded relevance (``>= 0``); positives are ``y > 0``. Booleans work too.
        sample_weight : array-like of shape (n,), optional

        Returns
        -------
        LearnedScorer
            ``self``.
        """
        self._check_params()
        if isinstance(X, pd.DataFrame) and T.RELEVANCE in X.columns and y is None:
            usable = X[list(FACTORS)].notna().all(axis=1).to_numpy()
            y = X.loc[usable, T.RELEVANCE].to_numpy(dtype=np.float64)
            if sample_weight is not None:
                sample_weight = np.asarray(sample_weight, dtype=np.float64)[usable]
            X = X.loc[usable]
        if y is None:
            raise InvalidInputError("y (graded relevance) is required", field="y")
        F, names = _factor_matrix(X)
        grades = np.asarray(y, dtype=np.float64).ravel()
        if grades.shape[0] != F.shape[0]:
            raise InvalidInputError(f"y has {grades.shape[0]} values for {F.shape[0]} rows",
                                    field="y")
        if not np.isfinite(grades).all() or (grades < 0).any():
            raise InvalidInputError("y must hold finite, non-negative relevance grades",
                                    field="y")
        labels = (grades > 0).astype(np.float64)
        if labels.min() == labels.max():
            raise InvalidInputError(
                "y holds only one class (all pairs positive or all negative); "
                "a model needs both outcomes",
                field="y",
            )
        weights = np.ones_like(labels) if sample_weight is None else np.asarray(
            sample_weight, dtype=np.float64).ravel()
        if weights.shape != labels.shape or (weights < 0).any() or not np.isfinite(weights).all():
            raise InvalidInputError("sample_weight must be n finite, non-negative numbers",
                                    field="sample_weight")
        if self.grade_weighted:
            weights = weights * np.where(grades > 0, grades, 1.0)
        C = float(self.C)
        n_factors = F.shape[1]

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:n_factors], theta[n_factors]
            z = F @ w + b
            # log loss = -[y log s(z) + (1 - y) log s(-z)], computed stably
            value = -(weights * (labels * log_expit(z) + (1 - labels) * log_expit(-z))).sum()
            residual = weights * (expit(z) - labels)
            grad = np.empty_like(theta)
            grad[:n_factors] = C * (F.T @ residual) + w
            grad[n_factors] = C * residual.sum()
            return C * value + 0.5 * float(w @ w), grad

        rate = float(np.average(labels, weights=weights))
        start = np.zeros(n_factors + 1)
        start[n_factors] = np.log(rate / (1 - rate))
        bounds = [(0.0, None)] * n_factors + [(None, None)]
        result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds,
                          options={"maxiter": int(self.max_iter), "gtol": float(self.tol)})
        self.coef_ = np.maximum(result.x[:n_factors], 0.0)
        self.intercept_ = float(result.x[n_factors])
        self.n_iter_ = int(result.nit)
        self.classes_ = np.array([False, True])
        self.n_features_in_ = n_factors
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        self._vector = self.coef_.astype(np.float32)
        return self

    # -- Scorer protocol -------------------------------------------------------

    def _fitted(self) -> np.ndarray:
        try:
            return self._vector
        except AttributeError:
            raise NotFittedError("this LearnedScorer is not fitted yet; call fit() first") \
                from None

    @property
    def version(self) -> str:
        """Model version reported with every ranking (see ``model_version``)."""
        vector = self._fitted()
        if self.model_version:
            return str(self.model_version)
        digest = hashlib.sha256(np.float32(self.intercept_).tobytes() + vector.tobytes())
        return "learned-" + digest.hexdigest()[:10]

    @property
    def weights_(self) -> dict[str, float]:
        """The learned weight of each factor, by name."""
        return dict(zip(FACTORS, map(float, self._fitted()), strict=True))

    def score(self, factors: np.ndarray) -> np.ndarray:
        """Return ``factors @ coef_`` (float32) for an ``(n, 5)`` factor matrix."""
        vector = self._fitted()
        factors = np.asarray(factors)
        if factors.ndim != 2 or factors.shape[1] != len(FACTORS):
            raise InvalidInputError(
                f"factors must have shape (n, {len(FACTORS)}), got {factors.shape}",
                field="factors",
            )
        return weighted_sum(factors, vector)

    def contributions(self, factors: np.ndarray) -> np.ndarray:
        """Return ``coef_ * factors``, per factor; each row sums to the score exactly."""
        vector = self._fitted()
        factors = np.asarray(factors, dtype=np.float32)
        if factors.ndim != 2 or factors.shape[1] != len(FACTORS):
            raise InvalidInputError(
                f"factors must have shape (k, {len(FACTORS)}), got {factors.shape}",
                field="factors",
            )
        return factors * vector

    # -- scikit-learn classifier API -------------------------------------------

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds ``intercept_ + X @ coef_``."""
        self._fitted()
        F, _ = _factor_matrix(X)
        return F @ self.coef_ + self.intercept_

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities of ``[relevance == 0, relevance > 0]``, shape (n, 2)."""
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """Whether each pair is more likely to work out than not."""
        return self.decision_function(X) > 0


# ----------------------------------------------------------------------------- evaluation


def scorer_probabilities(scorer: Scorer, factors: np.ndarray) -> tuple[np.ndarray, bool]:
    """Probabilities of ``relevance > 0`` from a scorer, and whether they are modelled.

    A scorer with ``predict_proba`` (a :class:`LearnedScorer`) gives modelled
    probabilities; for any other scorer (the default's weighted sum is not a probability)
    the score clipped to [0, 1] is used as it is, and the second value is False.
    """
    predict_proba = getattr(scorer, "predict_proba", None)
    if callable(predict_proba):
        return np.asarray(predict_proba(factors))[:, 1].astype(np.float64), True
    return np.clip(np.asarray(scorer.score(factors), dtype=np.float64), 0.0, 1.0), False


def _usable(table: pd.DataFrame, field: str) -> pd.DataFrame:
    _require(table, (T.PARTICIPANT, T.VACANCY, T.RELEVANCE, *FACTORS), field)
    usable = table[list(FACTORS)].notna().all(axis=1)
    if not usable.any():
        raise InvalidInputError(f"{field} has no pair with recorded factors", field=field)
    return table.loc[usable]


def calibration_table(
    table: pd.DataFrame, scorer: Scorer, n_bins: int = 10
) -> pd.DataFrame:
    """Reliability bins: mean predicted probability against the observed positive rate.

    Parameters
    ----------
    table : pandas.DataFrame
        A (held-out) training table.
    scorer : Scorer
    n_bins : int, default 10
        Equal-width probability bins over [0, 1]; empty bins are left out.

    Returns
    -------
    pandas.DataFrame
        ``bin_low, bin_high, mean_predicted, observed_rate, pairs``.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise InvalidInputError(f"n_bins must be a positive integer, got {n_bins!r}",
                                field="n_bins")
    rows = _usable(table, "table")
    prob, _ = scorer_probabilities(scorer, rows[list(FACTORS)].to_numpy(np.float32))
    label = (rows[T.RELEVANCE].to_numpy() > 0).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(prob, edges[1:-1]), 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    mean_p = np.bincount(which, weights=prob, minlength=n_bins)
    pos = np.bincount(which, weights=label, minlength=n_bins)
    keep = count > 0
    return pd.DataFrame({
        "bin_low": edges[:-1][keep],
        "bin_high": edges[1:][keep],
        "mean_predicted": mean_p[keep] / count[keep],
        "observed_rate": pos[keep] / count[keep],
        "pairs": count[keep],
    })


def _queries(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    participants = rows[T.PARTICIPANT].astype(str).to_numpy()
    vacancies = rows[T.VACANCY].astype(str).to_numpy()
    grades = rows[T.RELEVANCE].to_numpy(dtype=np.float64)
    return participants, vacancies, grades


def _per_query_ndcg(
    participants: np.ndarray, vacancies: np.ndarray, grades: np.ndarray, scores: np.ndarray,
    k: int,
) -> dict[str, float]:
    order = np.lexsort((vacancies, -scores, participants))
    p_sorted = participants[order]
    g_sorted = grades[order]
    bounds = np.flatnonzero(np.r_[True, p_sorted[1:] != p_sorted[:-1], True])
    result = {}
    for a, b in pairwise(bounds):
        ranked = g_sorted[a:b]
        if ranked.max() > 0:
            result[str(p_sorted[a])] = ndcg_at_k(ranked, ranked, k)
    return result


def evaluate_scorers(
    table_test: pd.DataFrame,
    scorers: Mapping[str, Scorer],
    k: int = 10,
    *,
    reference: str | None = None,
) -> pd.DataFrame:
    """Compare scorers on the same held-out pairs.

    Each participant is one query: their held-out pairs (with recorded factors) are ranked
    by each scorer (ties by vacancy id) and judged by the graded relevance. Queries without
    a positive pair are left out of the means (as in
    :func:`matching.evaluation.evaluate_rankings`).

    Parameters
    ----------
    table_test : pandas.DataFrame
        Held-out rows of :func:`build_training_table` (the later side of
        :func:`time_split`).
    scorers : mapping of name to Scorer
        For example ``{"default": DefaultScorer(), "learned": model}``.
    k : int, default 10
        Cut-off of NDCG, recall, precision and MAP.
    reference : str, optional
        The scorer the gains are measured against; ``"default"`` when present, else the
        first one.

    Returns
    -------
    pandas.DataFrame
        Indexed by scorer name: ``ndcg@k, recall@k, precision@k, map, mrr, n_queries``
        (from :func:`~matching.evaluation.evaluate_rankings`), ``ndcg@k_se`` (standard
        error of the mean over queries), ``ndcg@k_gain`` and ``ndcg@k_gain_se`` (mean and
        standard error of the per-query difference to the reference: a paired
        comparison), ``brier`` (mean squared error of the probability of
        ``relevance > 0``), ``calibrated`` (whether that probability is modelled, see
        :func:`scorer_probabilities`), ``version``.

    Raises
    ------
    InvalidInputError
        No scorer, an unknown reference, or a table without usable pairs.
    """
    if not scorers:
        raise InvalidInputError("scorers is empty", field="scorers")
    names = list(scorers)
    reference = reference or ("default" if "default" in scorers else names[0])
    if reference not in scorers:
        raise InvalidInputError(f"reference {reference!r} is not one of {names}",
                                field="reference")
    rows = _usable(table_test, "table_test")
    participants, vacancies, grades = _queries(rows)
    factors = rows[list(FACTORS)].to_numpy(dtype=np.float32)
    label = (grades > 0).astype(np.float64)
    relevance: dict[Hashable, dict[Hashable, float]] = {}
    for p, v, g in zip(participants, vacancies, grades, strict=True):
        relevance.setdefault(p, {})[v] = g
    per_query: dict[str, dict[str, float]] = {}
    records: dict[str, dict[str, Any]] = {}
    for name in names:
        scorer = scorers[name]
        scores = np.asarray(scorer.score(factors), dtype=np.float64)
        order = np.lexsort((vacancies, -scores, participants))
        rankings: dict[Hashable, list[Hashable]] = {}
        for p, v in zip(participants[order], vacancies[order], strict=True):
            rankings.setdefault(p, []).append(v)
        metrics: dict[str, Any] = dict(evaluate_rankings(rankings, relevance, k=k))
        per_query[name] = _per_query_ndcg(participants, vacancies, grades, scores, k)
        values = np.fromiter(per_query[name].values(), dtype=np.float64)
        prob, calibrated = scorer_probabilities(scorer, factors)
        metrics.pop("coverage", None)
        metrics[f"ndcg@{k}_se"] = float(values.std(ddof=1) / np.sqrt(len(values))) \
            if len(values) > 1 else float("nan")
        metrics["brier"] = float(np.mean((prob - label) ** 2))
        metrics["calibrated"] = calibrated
        metrics["version"] = scorer.version
        records[name] = metrics
    base = per_query[reference]
    for name in names:
        diff = np.array([per_query[name][q] - base[q] for q in base])
        records[name][f"ndcg@{k}_gain"] = float(diff.mean()) if len(diff) else float("nan")
        records[name][f"ndcg@{k}_gain_se"] = (
            float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("nan")
        )
    frame = pd.DataFrame.from_dict(records, orient="index")
    frame.index.name = "scorer"
    frame.attrs["reference"] = reference
    frame.attrs["k"] = k
    return frame


def flatten_metrics(
    evaluation: pd.DataFrame,
    candidate: str,
    *,
    fairness: Mapping[str, Any] | None = None,
    reference_fairness: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The flat metrics dict a model's ``metadata.json`` records and the gate reads.

    Parameters
    ----------
    evaluation : pandas.DataFrame
        A result of :func:`evaluate_scorers` holding ``candidate`` and its reference.
    candidate : str
        The row of the model being published.
    fairness, reference_fairness : mapping, optional
        :func:`matching.fairness.fairness_metrics` of the candidate and of the reference.

    Returns
    -------
    dict
        The candidate's figures under their own names (``ndcg@10``, ``map``, ...,
        ``impact_ratio_min``; its pre-publication ``version`` is left out, as
        ``metadata.json`` records the published one), the reference's under ``reference_``
        prefixed names (``reference_version`` included) and ``reference`` (the reference
        row's name).
    """
    if candidate not in evaluation.index:
        raise InvalidInputError(f"{candidate!r} is not a row of the evaluation",
                                field="candidate")
    reference = str(evaluation.attrs.get("reference", "default"))

    def clean(row: pd.Series) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in row.items():
            if isinstance(value, bool | np.bool_):
                out[str(key)] = bool(value)
            elif isinstance(value, int | float | np.integer | np.floating):
                out[str(key)] = None if not np.isfinite(value) else float(value)
            else:
                out[str(key)] = value
        return out

    metrics = clean(evaluation.loc[candidate])
    metrics.pop("version", None)  # the artefact's metadata carries the published version
    metrics.update(dict(fairness or {}))
    metrics["k"] = int(evaluation.attrs.get("k", 10))
    metrics["reference"] = reference
    if reference in evaluation.index:
        ref = clean(evaluation.loc[reference])
        ref.update(dict(reference_fairness or {}))
        metrics.update({f"reference_{key}": value for key, value in ref.items()})
    return metrics
