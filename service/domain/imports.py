"""Bulk import of participants and vacancies from CSV or XLSX.

A file is imported all or nothing: every row is checked first (schema, then the
scoring library's own checks such as placeable postcodes), and any error stops the
whole file. The report names row (as numbered in the spreadsheet, header = row 1),
column and what was wrong; rows that duplicate another row of the file or a stored
record are flagged without blocking. A dry run checks and reports but stores nothing.

List cells separate values with ``;`` (``Kasse bedienen; Regale auffüllen``);
languages are written ``de:B1; en:A2`` (optionally ``de:A2>B1@2026-09-01`` for a course
reaching B1 by that date).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.errors import MatchingError
from matching.features import build_participants, build_vacancies
from matching.vocabulary import BitVocabulary
from service.auth import Role
from service.context import Services, load_geocoder
from service.domain.participants import apply_participant_input
from service.domain.vacancies import apply_vacancy_input
from service.errors import NotFoundError, ValidationFailedError
from service.models import Employer, Participant, User, Vacancy
from service.schemas import ParticipantIn, VacancyIn
from service.scoring import participant_frame, vacancy_frame

__all__ = [
    "IMPORT_KINDS",
    "PARTICIPANT_COLUMNS",
    "VACANCY_COLUMNS",
    "import_rows",
    "read_table",
]

IMPORT_KINDS = ("participants", "vacancies")
PARTICIPANT_COLUMNS = (
    "name", "contact", "postcode", "quarter", "lat", "lon", "skills", "certificates",
    "languages", "modes", "driving_licence", "max_commute_minutes", "hours_min", "hours_max",
    "availability", "work_permit", "desired_occupations", "past_occupations",
    "objects_to_profiling", "coach",
)  # fmt: skip
VACANCY_COLUMNS = (
    "employer_id", "title", "occupation", "skills_essential", "skills_optional",
    "certificates_required", "languages", "postcode", "quarter", "lat", "lon",
    "hours_per_week", "days_per_week", "shifts", "driving_licence_required",
    "work_permit_required", "openings", "start_date", "status",
)  # fmt: skip
_MAX_ROWS = 20_000
_TRUE = {"1", "true", "yes", "ja", "y", "j", "x"}
_FALSE = {"0", "false", "no", "nein", "n", ""}


def read_table(data: bytes, filename: str) -> list[dict[str, str | None]]:
    """Read a CSV (``,`` or ``;`` separated, UTF-8) or XLSX file into rows of text.

    Raises
    ------
    ValidationFailedError
        The file cannot be read, has no header or too many rows.
    """
    name = filename.lower()
    try:
        rows = _read_xlsx(data) if name.endswith((".xlsx", ".xlsm")) else _read_csv(data)
    except (ValueError, KeyError, OSError, csv.Error, UnicodeDecodeError) as exc:
        raise ValidationFailedError(f"file: cannot be read ({exc})", field="file") from exc
    if len(rows) > _MAX_ROWS:
        raise ValidationFailedError(f"file: more than {_MAX_ROWS} rows", field="file")
    return rows


def _read_csv(data: bytes) -> list[dict[str, str | None]]:
    text = data.decode("utf-8-sig")
    first = text.splitlines()[0] if text else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if not reader.fieldnames:
        raise ValueError("no header row")
    return [{(k or "").strip(): (v.strip() if isinstance(v, str) else v) for k, v in r.items()}
            for r in reader]  # fmt: skip


def _read_xlsx(data: bytes) -> list[dict[str, str | None]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise ValueError("no header row")
    names = [str(h).strip() if h is not None else "" for h in header]
    out = []
    for values in rows:
        if values is None or all(v is None for v in values):
            continue
        out.append({
            names[i]: (None if v is None else (v.date().isoformat() if hasattr(v, "date")
                                               and hasattr(v, "hour") else str(v)).strip())
            for i, v in enumerate(values) if i < len(names) and names[i]
        })  # fmt: skip
    book.close()
    return out


def _cell(row: dict[str, str | None], column: str) -> str | None:
    value = row.get(column)
    return value if value not in (None, "") else None


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(";") if v.strip()]


def _number(value: str | None, column: str, *, integer: bool = False) -> Any:
    if value is None:
        return None
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        return value  # the schema check reports it, naming the column
    return int(number) if integer and number.is_integer() else number


def _flag(value: str | None, column: str, default: bool) -> bool:
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{column}: {value!r} ist weder ja noch nein")


def _languages(value: str | None, *, vacancy: bool) -> list[dict[str, Any]]:
    out = []
    for part in _split(value):
        language, _, level = part.partition(":")
        entry: dict[str, Any] = {"language": language.strip().lower()}
        level, _, expected_by = level.partition("@")
        level, _, expected = level.partition(">")
        entry["level"] = level.strip()
        if not vacancy and expected.strip():
            entry["expected_level"] = expected.strip()
        if not vacancy and expected_by.strip():
            entry["expected_by"] = expected_by.strip()
        out.append(entry)
    return out


def _location(row: dict[str, str | None]) -> dict[str, Any]:
    loc: dict[str, Any] = {}
    if _cell(row, "postcode"):
        loc["postcode"] = _cell(row, "postcode")
    if _cell(row, "quarter"):
        loc["quarter"] = _cell(row, "quarter")
    if _cell(row, "lat") or _cell(row, "lon"):
        loc["lat"] = _number(_cell(row, "lat"), "lat")
        loc["lon"] = _number(_cell(row, "lon"), "lon")
    return loc


def _participant_input(row: dict[str, str | None]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": _cell(row, "name"),
        "contact": _cell(row, "contact"),
        "home": _location(row),
        "skills": _split(_cell(row, "skills")),
        "certificates": _split(_cell(row, "certificates")),
        "languages": _languages(_cell(row, "languages"), vacancy=False),
        "mobility": {"modes": _split(_cell(row, "modes")) or ["walk", "transit"],
                     "driving_licence": _split(_cell(row, "driving_licence"))},
        "max_commute_minutes": _number(_cell(row, "max_commute_minutes"),
                                       "max_commute_minutes", integer=True),
        "hours_per_week": {"min": _number(_cell(row, "hours_min"), "hours_min"),
                           "max": _number(_cell(row, "hours_max"), "hours_max")},
        "availability": _split(_cell(row, "availability")) or ["day"],
        "work_permit": _cell(row, "work_permit") or "unknown",
        "desired_occupations": _split(_cell(row, "desired_occupations")),
        "past_occupations": _split(_cell(row, "past_occupations")),
        "objects_to_profiling": _flag(_cell(row, "objects_to_profiling"),
                                      "objects_to_profiling", False),
    }  # fmt: skip
    return {k: v for k, v in body.items() if v is not None}


def _vacancy_input(row: dict[str, str | None]) -> dict[str, Any]:
    skills = [{"skill": s, "essential": True} for s in _split(_cell(row, "skills_essential"))]
    skills += [{"skill": s, "essential": False} for s in _split(_cell(row, "skills_optional"))]
    body: dict[str, Any] = {
        "employer_id": _number(_cell(row, "employer_id"), "employer_id", integer=True),
        "title": _cell(row, "title"),
        "occupation": _cell(row, "occupation"),
        "skills": skills,
        "certificates_required": _split(_cell(row, "certificates_required")),
        "languages": _languages(_cell(row, "languages"), vacancy=True),
        "location": _location(row),
        "hours_per_week": _number(_cell(row, "hours_per_week"), "hours_per_week"),
        "days_per_week": _number(_cell(row, "days_per_week"), "days_per_week", integer=True),
        "shifts": _split(_cell(row, "shifts")) or None,
        "driving_licence_required": _cell(row, "driving_licence_required"),
        "work_permit_required": _flag(_cell(row, "work_permit_required"),
                                      "work_permit_required", True),
        "openings": _number(_cell(row, "openings"), "openings", integer=True),
        "start_date": _cell(row, "start_date"),
        "status": _cell(row, "status"),
    }  # fmt: skip
    return {k: v for k, v in body.items() if v is not None}


_NESTED_COLUMNS = {
    ("hours_per_week", "min"): "hours_min",
    ("hours_per_week", "max"): "hours_max",
    ("mobility", "modes"): "modes",
    ("mobility", "driving_licence"): "driving_licence",
}
_LOCATION = {"home", "location"}


def _column(loc: tuple[Any, ...]) -> str | None:
    """Map a schema location back to the file's column name."""
    if not loc:
        return None
    head = str(loc[0])
    if head in _LOCATION:
        return str(loc[1]) if len(loc) > 1 else "postcode"
    if len(loc) > 1 and (head, str(loc[1])) in _NESTED_COLUMNS:
        return _NESTED_COLUMNS[(head, str(loc[1]))]
    if head == "skills" and len(loc) > 1 and "essential" in str(loc):
        return "skills_essential"
    return head


def _schema_errors(exc: ValidationError, row: int) -> list[dict[str, Any]]:
    return [
        {"row": row, "column": _column(tuple(err.get("loc", ()))),
         "message": str(err.get("msg"))}
        for err in exc.errors()
    ]  # fmt: skip


def _matcher_errors(
    kind: str, objects: Sequence[Any], rows: Sequence[int], services: Services
) -> list[dict[str, Any]]:
    build = build_participants if kind == "participants" else build_vacancies
    frame_of = participant_frame if kind == "participants" else vacancy_frame
    taxonomy, geocoder = services.taxonomy, load_geocoder()
    try:
        build(frame_of(objects), taxonomy=taxonomy, geocoder=geocoder,
              certificates=BitVocabulary())  # fmt: skip
        return []
    except MatchingError:
        pass
    errors = []
    for obj, row in zip(objects, rows, strict=True):
        try:
            build(frame_of([obj]), taxonomy=taxonomy, geocoder=geocoder,
                  certificates=BitVocabulary())  # fmt: skip
        except MatchingError as exc:
            errors.append({"row": row, "column": getattr(exc, "field", None),
                           "message": str(exc)})  # fmt: skip
    return errors


def import_rows(
    session: Session,
    services: Services,
    *,
    kind: str,
    rows: Sequence[dict[str, str | None]],
    dry_run: bool,
    coach_name: str | None = None,
    actor_id: int | None = None,
) -> dict[str, Any]:
    """Check and (unless ``dry_run`` or on any error) store all rows of one file.

    Returns
    -------
    dict
        ``{"kind", "rows", "dry_run", "imported", "ids", "errors": [{row, column,
        message}], "duplicates": [{row, duplicate_of}]}``.
    """
    if kind not in IMPORT_KINDS:
        raise ValidationFailedError(f"kind: one of {', '.join(IMPORT_KINDS)}", field="kind")
    default_coach = None
    if coach_name is not None:
        user = session.scalar(select(User).where(User.name == coach_name))
        if user is None or user.role != Role.COACH.value:
            raise NotFoundError(f"coach: kein Coach namens {coach_name!r}", field="coach")
        default_coach = user.id
    errors: list[dict[str, Any]] = []
    duplicates: list[dict[str, Any]] = []
    objects: list[Any] = []
    obj: Any
    object_rows: list[int] = []
    seen: dict[tuple[Any, ...], int] = {}
    employers = set(session.scalars(select(Employer.id)))
    for index, raw in enumerate(rows):
        row = index + 2
        row_errors: list[dict[str, Any]] = []
        body: dict[str, Any] = {}
        try:
            data = (_participant_input if kind == "participants" else _vacancy_input)(raw)
            model = ParticipantIn if kind == "participants" else VacancyIn
            body = model.model_validate(data, strict=False).model_dump()
        except ValidationError as exc:
            row_errors.extend(_schema_errors(exc, row))
        except ValueError as exc:
            column, _, message = str(exc).partition(": ")
            row_errors.append({"row": row, "column": column, "message": message})
        coach_id = default_coach
        if kind == "participants" and _cell(raw, "coach") is not None:
            coach = _cell(raw, "coach")
            user = session.scalar(select(User).where(User.name == coach))
            if user is None or user.role != Role.COACH.value:
                row_errors.append({"row": row, "column": "coach",
                                   "message": f"kein Coach namens {coach!r}"})  # fmt: skip
            else:
                coach_id = user.id
        if row_errors:
            errors.extend(row_errors)
            continue
        if kind == "participants":
            key = (body["name"].casefold(), body.get("contact"), body["home"].get("postcode"))
            obj = Participant(coach_id=coach_id)
            apply_participant_input(obj, body, services.resolver)
        else:
            employer_id = body.pop("employer_id")
            if employer_id not in employers:
                errors.append(
                    {
                        "row": row,
                        "column": "employer_id",
                        "message": f"kein Arbeitgeber mit der Id {employer_id}",
                    }
                )
                continue
            key = (employer_id, body["title"].casefold(), body["location"].get("postcode"))
            obj = Vacancy(employer_id=employer_id)
            apply_vacancy_input(obj, body, services.resolver)
        if key in seen:
            duplicates.append({"row": row, "duplicate_of": f"row {seen[key]}"})
        else:
            seen[key] = row
        objects.append(obj)
        object_rows.append(row)
    _stored_duplicates(session, kind, objects, object_rows, duplicates)
    for position, obj in enumerate(objects):
        obj.id = -(position + 1)  # provisional ids for the matcher's checks
    errors.extend(_matcher_errors(kind, objects, object_rows, services))
    for obj in objects:
        obj.id = None
    report: dict[str, Any] = {
        "kind": kind, "rows": len(rows), "dry_run": dry_run, "imported": 0, "ids": [],
        "errors": sorted(errors, key=lambda e: (e["row"] or 0, str(e["column"]))),
        "duplicates": duplicates,
    }  # fmt: skip
    if errors or dry_run:
        session.rollback()
        return report
    session.add_all(objects)
    if kind == "participants":
        services.index.write(session, participants=objects)
    else:
        services.index.write(session, vacancies=objects)
    report["imported"] = len(objects)
    report["ids"] = [o.id for o in objects]
    services.audit().append(
        session,
        actor_id=actor_id,
        action=f"import_{kind}",
        participant_ids=report["ids"] if kind == "participants" else [],
        payload={"rows": len(rows), "imported": len(objects)},
    )
    session.commit()
    return report


def _stored_duplicates(
    session: Session,
    kind: str,
    objects: Sequence[Any],
    rows: Sequence[int],
    duplicates: list[dict[str, Any]],
) -> None:
    if kind == "participants":
        names = {o.name for o in objects}
        stored = {
            (name.casefold(), contact, postcode): pid
            for pid, name, contact, postcode in session.execute(
                select(Participant.id, Participant.name, Participant.contact,
                       Participant.postcode).where(Participant.name.in_(names))
            )
        }  # fmt: skip
        for obj, row in zip(objects, rows, strict=True):
            found = stored.get((obj.name.casefold(), obj.contact, obj.postcode))
            if found is not None:
                duplicates.append({"row": row, "duplicate_of": f"participant {found}"})
    else:
        titles = {o.title for o in objects}
        stored_v = {
            (employer_id, title.casefold(), postcode): vid
            for vid, employer_id, title, postcode in session.execute(
                select(Vacancy.id, Vacancy.employer_id, Vacancy.title, Vacancy.postcode).where(
                    Vacancy.title.in_(titles)
                )
            )
        }
        for obj, row in zip(objects, rows, strict=True):
            found = stored_v.get((obj.employer_id, obj.title.casefold(), obj.postcode))
            if found is not None:
                duplicates.append({"row": row, "duplicate_of": f"vacancy {found}"})
