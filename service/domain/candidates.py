"""Candidate references: the random name under which an employer sees a participant.

Each (participant, employer) pair gets its own reference, so two employers cannot
tell that they see the same person.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from service.db_helpers import insert_ignore
from service.errors import NotFoundError
from service.models import CandidateRef

__all__ = ["candidate_refs", "participant_by_ref"]


_C = CandidateRef.__table__
_REFS = select(_C.c.participant_id, _C.c.ref).where(
    _C.c.employer_id == bindparam("employer_id"),
    _C.c.participant_id.in_(bindparam("ids", expanding=True)),
)


def candidate_refs(
    session: Session, employer_id: int, participant_ids: Sequence[int]
) -> dict[int, str]:
    """Return (creating where missing) the references of participants for one employer."""
    ids = sorted(set(participant_ids))
    if not ids:
        return {}

    connection = session.connection()
    refs = dict(connection.execute(_REFS, {"employer_id": employer_id, "ids": ids}).all())
    missing = [i for i in ids if i not in refs]
    if missing:
        insert_ignore(
            session,
            CandidateRef,
            [
                {"participant_id": i, "employer_id": employer_id, "ref": secrets.token_hex(8)}
                for i in missing
            ],
        )
        refs.update(
            connection.execute(_REFS, {"employer_id": employer_id, "ids": missing}).all()
        )
    return refs


def participant_by_ref(session: Session, employer_id: int, ref: str) -> int:
    """Return the participant behind an employer's candidate reference.

    Raises
    ------
    NotFoundError
        No such reference for this employer.
    """
    participant_id = session.scalar(
        select(CandidateRef.participant_id).where(
            CandidateRef.employer_id == employer_id, CandidateRef.ref == ref
        )
    )
    if participant_id is None:
        raise NotFoundError(f"Kandidat {ref!r} nicht gefunden", field="candidate_ref")
    return int(participant_id)
