"""The :class:`Matcher` facade: what the service and the notebooks call.

It holds the in-memory index of vacancies and participants and answers both
questions from one scoring core: the top vacancies for a participant and the top
candidates for a vacancy.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, fields
from typing import Any, Final

import numpy as np
import pandas as pd

from matching.commute import CommuteModel
from matching.errors import InvalidInputError, NotFittedError, UnknownIdError
from matching.explain import ConceptLabels, explain_pair, sparse_row
from matching.factors import OVERRIDABLE, PairArrays, pair_arrays, reason_column, skills_factor
from matching.geo import Geocoder
from matching.index import IndexState, check_limit
from matching.ranking import top_k
from matching.schema import FACTORS, REASONS, Reason
from matching.scoring import DefaultScorer, Scorer
from matching.taxonomy import Taxonomy
from matching.vocabulary import BitVocabulary

__all__ = ["CandidateItem", "CandidateResult", "MatchItem", "MatchResult", "Matcher"]

#: How many excluded vacancies a match result lists (all are counted).
EXCLUDED_LISTED: Final = 50
_NOT_OPEN: Final = reason_column(Reason.NOT_OPEN)


def _round(value: float) -> float:
    return round(float(value), 4)


class _Fields:
    """``to_dict`` of a flat result dataclass: its fields, in order (shallow)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class MatchItem(_Fields):
    """One ranked vacancy for a participant."""

    vacancy_id: str
    rank: int | None
    score: float | None
    factors: dict[str, float] | None
    contributions: dict[str, float] | None
    explanation: dict[str, Any]


@dataclass(frozen=True)
class MatchResult:
    """Top vacancies for a participant, and what was left out."""

    participant_id: str
    model_version: str
    ranked: bool
    items: list[MatchItem]
    excluded: list[dict[str, Any]]
    excluded_counts: dict[str, int]
    eligible_count: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the API's ``matches`` body)."""
        return {
            "participant_id": self.participant_id,
            "model_version": self.model_version,
            "ranked": self.ranked,
            "eligible_count": self.eligible_count,
            "items": [item.to_dict() for item in self.items],
            "excluded": self.excluded,
            "excluded_counts": self.excluded_counts,
        }


@dataclass(frozen=True)
class CandidateItem(_Fields):
    """One ranked participant for a vacancy."""

    participant_id: str
    rank: int
    score: float
    factors: dict[str, float]
    contributions: dict[str, float]
    explanation: dict[str, Any]


@dataclass(frozen=True)
class CandidateResult:
    """Top candidates for a vacancy."""

    vacancy_id: str
    model_version: str
    items: list[CandidateItem]
    excluded_counts: dict[str, int]
    eligible_count: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the API's ``candidates`` body, before pseudonymisation)."""
        return {
            "vacancy_id": self.vacancy_id,
            "model_version": self.model_version,
            "eligible_count": self.eligible_count,
            "items": [item.to_dict() for item in self.items],
            "excluded_counts": self.excluded_counts,
        }


@dataclass
class _Overrides:
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    columns: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    by_row: dict[int, list[str]] = field(default_factory=dict)


def _column_sums(csc: Any, columns: np.ndarray) -> np.ndarray:
    """Row sums of a CSC matrix restricted to ``columns``, without building a submatrix."""
    m = csc.shape[0]
    if len(columns) == 0:
        return np.zeros(m, dtype=np.float32)
    starts, ends = csc.indptr[columns], csc.indptr[columns + 1]
    rows = np.concatenate([csc.indices[a:b] for a, b in zip(starts, ends, strict=True)])
    data = np.concatenate([csc.data[a:b] for a, b in zip(starts, ends, strict=True)])
    return np.bincount(rows, weights=data, minlength=m).astype(np.float32)


class Matcher:
    """Rank vacancies for participants and candidates for vacancies.

    Parameters
    ----------
    taxonomy : Taxonomy, optional
        ESCO taxonomy; the shipped one is loaded on :meth:`fit` when omitted.
    geocoder : Geocoder, optional
        Postcode and quarter locations; the shipped ones by default.
    commute : CommuteModel, optional
        Commute estimates; the documented defaults when omitted.
    scorer : Scorer, optional
        Turns factors into scores; :class:`~matching.scoring.DefaultScorer` by default.

    Attributes
    ----------
    state_ : IndexState
        The current index snapshot (after :meth:`fit`).

    Examples
    --------
    >>> from matching.datasets import make_demo_market
    >>> market = make_demo_market(n_vacancies=40, n_participants=10, random_state=1)
    >>> matcher = Matcher().fit(market.vacancies, market.participants)
    >>> result = matcher.match_participant(market.participants["participant_id"][0], limit=3)
    >>> len(result.items) <= 3
    True
    """

    def __init__(
        self,
        taxonomy: Taxonomy | None = None,
        geocoder: Geocoder | None = None,
        commute: CommuteModel | None = None,
        scorer: Scorer | None = None,
    ) -> None:
        self.taxonomy = taxonomy
        self.geocoder = geocoder
        self.commute = commute
        self.scorer = scorer

    # ------------------------------------------------------------------ set-up

    def _reference(self) -> tuple[Taxonomy, Geocoder, CommuteModel]:
        if self.taxonomy is None:
            self.taxonomy = Taxonomy.load()
        if self.geocoder is None:
            self.geocoder = Geocoder.load()
        if self.commute is None:
            self.commute = CommuteModel()
        return self.taxonomy, self.geocoder, self.commute

    def _kwargs(self) -> dict[str, Any]:
        taxonomy, geocoder, commute = self._reference()
        return {"taxonomy": taxonomy, "geocoder": geocoder, "commute": commute,
                "certificates": self.certificates_}

    def fit(
        self,
        vacancies: pd.DataFrame | Iterable[pd.DataFrame],
        participants: pd.DataFrame | Iterable[pd.DataFrame],
    ) -> Matcher:
        """Build the index from full vacancy and participant tables.

        Parameters
        ----------
        vacancies, participants : DataFrame or iterable of DataFrame
            The whole table, or the table in chunks (consumed one at a time, vacancies
            first): the index is the same, and a large table never has to be held as
            Python objects all at once.

        Returns
        -------
        Matcher
            ``self``.
        """
        self._reference()
        self.certificates_ = BitVocabulary()
        self._write_lock = threading.Lock()
        self.scorer_ = self.scorer if self.scorer is not None else DefaultScorer()
        self.labels_ = ConceptLabels(self.taxonomy)
        self.state_ = IndexState.build(vacancies, participants, **self._kwargs())
        return self

    def _state(self) -> IndexState:
        try:
            return self.state_
        except AttributeError:
            raise NotFittedError("the matcher has no index yet; call fit() first") from None

    @property
    def model_version(self) -> str:
        """Version of the scorer in use."""
        self._state()
        return self.scorer_.version

    def set_scorer(self, scorer: Scorer) -> None:
        """Swap the scorer atomically; requests under way finish with the old one."""
        if not isinstance(scorer, Scorer):
            raise InvalidInputError("a scorer needs a version and a score(factors) method",
                                    field="scorer")
        self._state()
        self.scorer_ = scorer

    # ----------------------------------------------------------------- changes

    def upsert_vacancies(self, vacancies: pd.DataFrame) -> None:
        """Insert or replace vacancies (by ``vacancy_id``)."""
        self._state()
        with self._write_lock:
            self.state_ = self.state_.with_vacancies(vacancies, **self._kwargs())

    def upsert_participants(self, participants: pd.DataFrame) -> None:
        """Insert or replace participants (by ``participant_id``)."""
        self._state()
        with self._write_lock:
            self.state_ = self.state_.with_participants(participants, **self._kwargs())

    def remove_vacancies(self, ids: Iterable[str]) -> None:
        """Remove vacancies; unknown ids are ignored."""
        self._state()
        with self._write_lock:
            self.state_ = self.state_.without(
                vacancy_ids=list(ids), commute=self.commute, certificates=self.certificates_
            )

    def remove_participants(self, ids: Iterable[str]) -> None:
        """Remove participants; unknown ids are ignored."""
        self._state()
        with self._write_lock:
            self.state_ = self.state_.without(
                participant_ids=list(ids), commute=self.commute, certificates=self.certificates_
            )

    @property
    def n_vacancies(self) -> int:
        """Live vacancies in the index."""
        return len(self._state().vacancies)

    @property
    def n_participants(self) -> int:
        """Live participants in the index."""
        return len(self._state().participants)

    # ----------------------------------------------------------------- queries

    def pairs_for_participant(
        self,
        participant_id: str,
        *,
        state: IndexState | None = None,
        with_factors: bool = True,
        factor_rows: str | np.ndarray = "all",
    ) -> tuple[int, PairArrays]:
        """Filters and factors of one participant against every vacancy row.

        ``factor_rows`` as in :func:`matching.factors.pair_arrays`: ``"all"`` (the
        default) or the positions that need factors besides the passing ones.
        """
        state = state or self._state()
        row = self._participant_row(state, participant_id)
        block = state.vacancies.block
        expanded = state.participants.block.skills_expanded
        credit = np.zeros(expanded.shape[1], dtype=np.float32)
        columns, values = sparse_row(expanded, row)
        credit[columns] = values
        skills = skills_factor(
            block.essential @ credit, block.n_essential, block.optional @ credit, block.n_optional
        )
        pairs = pair_arrays(
            state.participant_side(row),
            state.vacancy_side(slice(None)),
            skills=skills,
            languages=list(state.languages),
            commute=self.commute,
            n=len(block),
            employer_view=False,
            with_factors=with_factors,
            factor_rows=factor_rows,
        )
        return row, pairs

    def pairs_for_vacancy(
        self,
        vacancy_id: str,
        *,
        employer_view: bool,
        state: IndexState | None = None,
        factor_rows: str | np.ndarray = "all",
    ) -> tuple[int, PairArrays]:
        """Filters and factors of one vacancy against every participant row."""
        state = state or self._state()
        row = self._vacancy_row(state, vacancy_id)
        vb = state.vacancies.block
        essential, _ = sparse_row(vb.essential, row)
        optional, _ = sparse_row(vb.optional, row)
        csc = state.participants.expanded_csc
        m = csc.shape[0]
        ess_cover = _column_sums(csc, essential)
        opt_cover = _column_sums(csc, optional)
        skills = skills_factor(ess_cover, vb.n_essential[row], opt_cover, vb.n_optional[row])
        languages = [k for k, v in vb.lang_required.items() if v[row] > 0]
        pairs = pair_arrays(
            state.participant_side(slice(None)),
            state.vacancy_side(row),
            skills=skills,
            languages=languages,
            commute=self.commute,
            n=m,
            employer_view=employer_view,
            factor_rows=factor_rows,
        )
        return row, pairs

    def match_participant(
        self,
        participant_id: str,
        *,
        limit: int = 10,
        overrides: Iterable[tuple[str, str]] = (),
        ranked: bool = True,
        excluded_limit: int | None = EXCLUDED_LISTED,
    ) -> MatchResult:
        """Top vacancies for one participant, with reasons and what was left out.

        Parameters
        ----------
        participant_id : str
        limit : int, default 10
            How many vacancies to return.
        overrides : iterable of (vacancy_id, reason)
            Filters a coach overrode for this participant; unknown vacancy ids are
            ignored (the vacancy may have closed since).
        ranked : bool, default True
            ``False`` for a participant who objects to profiling: no scores, the
            vacancies passing the hard filters in id order.
        excluded_limit : int or None, default 50
            How many excluded vacancies to list, near misses first (``None``: all).
        """
        limit = check_limit(limit)
        state = self._state()
        overrides = list(overrides)
        vt = state.vacancies
        row, pairs = self.pairs_for_participant(
            participant_id, state=state, with_factors=ranked,
            factor_rows=self._override_rows(overrides, vt.position),
        )
        fixes = self._overrides(overrides, vt.position, pairs)
        alive = vt.alive
        passing = pairs.passing & alive
        excluded_mask = alive & ~passing
        excluded_rows = np.flatnonzero(excluded_mask)
        counts = self._counts(pairs.reasons, excluded_mask)
        ids = vt.block.ids
        if not ranked:
            chosen = np.flatnonzero(passing)
            chosen = chosen[np.argsort(ids[chosen].astype(str), kind="stable")][:limit]
            items = [
                MatchItem(str(ids[v]), None, None, None, None,
                          {"overridden": fixes.by_row.get(int(v), []),
                           "summary_de": ["Ohne Profilbildung: nur nach harten Filtern, "
                                          "nicht nach Eignung sortiert"]})
                for v in chosen
            ]
            excluded = self._excluded(pairs, excluded_rows, ids, None, excluded_limit)
            return MatchResult(participant_id, self.scorer_.version, False, items, excluded,
                               counts, int(passing.sum()))
        scorer = self.scorer_
        scores = scorer.score(pairs.factors.T)
        chosen = top_k(scores, passing, ids, limit)
        factors = pairs.factors[:, chosen].T
        contributions = scorer.contributions(factors)
        items = []
        for rank, v in enumerate(chosen, start=1):
            i = int(v)
            items.append(MatchItem(
                vacancy_id=str(ids[i]),
                rank=rank,
                score=_round(scores[i]),
                factors=dict(zip(FACTORS, map(_round, factors[rank - 1]), strict=True)),
                contributions=dict(zip(FACTORS, map(_round, contributions[rank - 1]),
                                       strict=True)),
                explanation=explain_pair(state, self.labels_, row, i, pairs, i,
                                         overridden=fixes.by_row.get(i, [])),
            ))
        excluded = self._excluded(pairs, excluded_rows, ids, scores, excluded_limit)
        return MatchResult(participant_id, scorer.version, True, items, excluded, counts,
                           int(passing.sum()))

    def match_vacancy(
        self,
        vacancy_id: str,
        *,
        limit: int = 10,
        candidate_ids: Collection[str] | None = None,
        employer_view: bool = True,
        overrides: Iterable[tuple[str, str]] = (),
    ) -> CandidateResult:
        """Top candidates for one vacancy.

        Parameters
        ----------
        vacancy_id : str
        limit : int, default 10
        candidate_ids : collection of str, optional
            Restrict to these participants (a coach sees only their own).
        employer_view : bool, default True
            Apply the consent and approval filters (an employer's shortlist).
        overrides : iterable of (participant_id, reason)
            Filters coaches overrode for this vacancy.
        """
        limit = check_limit(limit)
        state = self._state()
        overrides = list(overrides)
        pt = state.participants
        row, pairs = self.pairs_for_vacancy(
            vacancy_id, employer_view=employer_view, state=state,
            factor_rows=self._override_rows(overrides, pt.position),
        )
        fixes = self._overrides(overrides, pt.position, pairs)
        scope = pt.alive.copy()
        if candidate_ids is not None:
            allowed = np.zeros(len(scope), dtype=bool)
            rows = [pt.position[c] for c in candidate_ids if c in pt.position]
            allowed[rows] = True
            scope &= allowed
        passing = pairs.passing & scope
        counts = self._counts(pairs.reasons, scope & ~passing)
        scorer = self.scorer_
        scores = scorer.score(pairs.factors.T)
        ids = pt.block.ids
        chosen = top_k(scores, passing, ids, limit)
        factors = pairs.factors[:, chosen].T
        contributions = scorer.contributions(factors)
        items = []
        for rank, p in enumerate(chosen, start=1):
            i = int(p)
            items.append(CandidateItem(
                participant_id=str(ids[i]),
                rank=rank,
                score=_round(scores[i]),
                factors=dict(zip(FACTORS, map(_round, factors[rank - 1]), strict=True)),
                contributions=dict(zip(FACTORS, map(_round, contributions[rank - 1]),
                                       strict=True)),
                explanation=explain_pair(state, self.labels_, i, row, pairs, i,
                                         overridden=fixes.by_row.get(i, [])),
            ))
        return CandidateResult(vacancy_id, scorer.version, items, counts, int(passing.sum()))

    # ----------------------------------------------------------------- helpers

    @staticmethod
    def _participant_row(state: IndexState, participant_id: str) -> int:
        try:
            return state.participant_row(participant_id)
        except KeyError:
            raise UnknownIdError(f"participant {participant_id!r} is not in the index",
                                 kind="participant", identifier=participant_id) from None

    @staticmethod
    def _vacancy_row(state: IndexState, vacancy_id: str) -> int:
        try:
            return state.vacancy_row(vacancy_id)
        except KeyError:
            raise UnknownIdError(f"vacancy {vacancy_id!r} is not in the index",
                                 kind="vacancy", identifier=vacancy_id) from None

    @staticmethod
    def _override_rows(overrides: list[tuple[str, str]], position: dict[str, int]) -> np.ndarray:
        rows = [position[i] for i, _ in overrides if i in position]
        return np.asarray(rows, dtype=np.int64)

    @staticmethod
    def _overrides(
        overrides: Iterable[tuple[str, str]], position: dict[str, int], pairs: PairArrays
    ) -> _Overrides:
        fixes = _Overrides()
        for identifier, reason in overrides:
            if reason not in OVERRIDABLE:
                raise InvalidInputError(
                    f"filter {reason!r} cannot be overridden; overridable filters: "
                    + ", ".join(sorted(OVERRIDABLE)),
                    field="reason",
                )
            row = position.get(identifier)
            if row is None:
                continue
            column = reason_column(reason)
            if pairs.reasons[column, row]:
                pairs.reasons[column, row] = False
                fixes.by_row.setdefault(row, []).append(reason)
        return fixes

    @staticmethod
    def _counts(reasons: np.ndarray, excluded: np.ndarray) -> dict[str, int]:
        totals = [np.count_nonzero(row & excluded) for row in reasons]
        return {reason: int(n) for reason, n in zip(REASONS, totals, strict=True) if n}

    @staticmethod
    def _excluded(
        pairs: PairArrays,
        rows: np.ndarray,
        ids: np.ndarray,
        scores: np.ndarray | None,
        limit: int | None,
    ) -> list[dict[str, Any]]:
        if len(rows) == 0:
            return []
        count = np.zeros(pairs.reasons.shape[1], dtype=np.int16)
        for row in pairs.reasons:
            count += row
        # Near misses first: open vacancies, fewest reasons, best score, then id.
        key = pairs.reasons[_NOT_OPEN, rows] * 1000.0 + count[rows] * 10.0
        if scores is not None:
            key = key - scores[rows]
        if limit is not None and len(rows) > limit:
            keep = np.argpartition(key, limit - 1)[:limit] if limit > 0 else np.zeros(0, int)
            rows, key = rows[keep], key[keep]
        order = np.lexsort((ids[rows].astype(str), key))
        rows = rows[order]
        reasons = pairs.reasons[:, rows]
        return [
            {"vacancy_id": str(ids[row]),
             "reasons": [REASONS[c] for c in np.flatnonzero(reasons[:, j])]}
            for j, row in enumerate(rows)
        ]
