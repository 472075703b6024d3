"""Loading objects on behalf of a user: someone else's object is simply not found.

Every route that names an object by id goes through one of these functions, so the
ownership rules live in one place: a coach reaches their own participants, an employer
user its own firm's vacancies and employer record, an admin everything. The route
policy (:data:`service.auth.ROUTE_ROLES`) has already checked the role.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from service.auth import Principal, Role
from service.errors import NotFoundError
from service.models import Employer, Participant, User, Vacancy

__all__ = [
    "coach_by_id",
    "employer_for",
    "participant_for",
    "readable_vacancy_employer",
    "vacancy_for",
    "vacancy_owned_by",
]


def participant_for(session: Session, user: Principal, participant_id: int) -> Participant:
    """Return the participant if ``user`` may see it (admin, or its coach).

    Raises
    ------
    NotFoundError
        Missing, or not the user's.
    """
    participant = session.get(Participant, participant_id)
    if participant is None or not (
        user.role is Role.ADMIN or (user.role is Role.COACH and participant.coach_id == user.id)
    ):
        raise NotFoundError(f"Teilnehmende:r {participant_id} nicht gefunden")
    return participant


def vacancy_for(session: Session, user: Principal, vacancy_id: int) -> Vacancy:
    """Return the vacancy if ``user`` may read it (admin, coach, or its employer).

    Raises
    ------
    NotFoundError
        Missing, or another employer's.
    """
    vacancy = session.get(Vacancy, vacancy_id)
    if (
        vacancy is None
        or (user.role is Role.EMPLOYER and vacancy.employer_id != user.employer_id)
        or user.role is Role.ANALYST
    ):
        raise NotFoundError(f"Stelle {vacancy_id} nicht gefunden")
    return vacancy


_V = Vacancy.__table__
_VACANCY_EMPLOYER = select(_V.c.employer_id).where(_V.c.id == bindparam("id"))


def readable_vacancy_employer(connection: Connection, user: Principal, vacancy_id: int) -> int:
    """Return the employer id of the vacancy if ``user`` may read it (as :func:`vacancy_for`).

    One prepared query, no ORM object: for the hot ``candidates`` route.

    Raises
    ------
    NotFoundError
        Missing, or another employer's.
    """
    employer_id = connection.execute(_VACANCY_EMPLOYER, {"id": vacancy_id}).scalar()
    if (
        employer_id is None
        or (user.role is Role.EMPLOYER and employer_id != user.employer_id)
        or user.role is Role.ANALYST
    ):
        raise NotFoundError(f"Stelle {vacancy_id} nicht gefunden")
    return int(employer_id)


def vacancy_owned_by(session: Session, user: Principal, vacancy_id: int) -> Vacancy:
    """Return the vacancy if ``user`` may change it (admin, or its employer).

    Raises
    ------
    NotFoundError
        Missing, or not the user's.
    """
    vacancy = session.get(Vacancy, vacancy_id)
    if vacancy is None or not (
        user.role is Role.ADMIN
        or (user.role is Role.EMPLOYER and vacancy.employer_id == user.employer_id)
    ):
        raise NotFoundError(f"Stelle {vacancy_id} nicht gefunden")
    return vacancy


def employer_for(session: Session, user: Principal, employer_id: int) -> Employer:
    """Return the employer if ``user`` may see it (admin, or one of its users).

    Raises
    ------
    NotFoundError
        Missing, or another employer.
    """
    employer = session.get(Employer, employer_id)
    if employer is None or not (
        user.role is Role.ADMIN or (user.role is Role.EMPLOYER and employer.id == user.employer_id)
    ):
        raise NotFoundError(f"Arbeitgeber {employer_id} nicht gefunden")
    return employer


def coach_by_id(session: Session, coach_id: int, *, field: str) -> User:
    """Return the active coach ``coach_id``.

    Raises
    ------
    NotFoundError
        No active user with the coach role and that id.
    """
    coach = session.scalar(select(User).where(User.id == coach_id, User.role == Role.COACH.value))
    if coach is None or coach.revoked_at is not None:
        raise NotFoundError(f"{field}: kein aktiver Coach mit der Id {coach_id}")
    return coach
