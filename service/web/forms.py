"""Form bodies of the participant and vacancy pages: parsed into the API's input schemas,
with German messages per field when something is wrong.

A form is read into two things: ``data`` (what :class:`~service.schemas.ParticipantIn` or
:class:`~service.schemas.VacancyIn` validates, so the pages accept exactly what the API
accepts) and ``values`` (what the form shows again after an error). Skills come from
chips (``skill`` fields, an ESCO URI or free text each, kept while ticked) and from a
text area of free text, one skill a line, for browsers without JavaScript.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import ValidationError
from starlette.datastructures import FormData

from matching import Taxonomy
from service.schemas import ParticipantIn, ParticipantPatch, VacancyIn, VacancyPatch
from service.web.suggestions import concept_label

__all__ = [
    "LANGUAGE_ROWS",
    "FormResult",
    "german_errors",
    "participant_form",
    "participant_values",
    "vacancy_form",
    "vacancy_values",
]

#: How many language rows the participant form offers (more when more are stored).
LANGUAGE_ROWS: Final = 4
#: The most language rows a form is read for (the schemas' limit).
_MAX_LANGUAGES: Final = 20

_SPLIT = re.compile(r"[;,\n]+")
_LINES = re.compile(r"[\r\n]+")

#: German messages of the schemas' own checks (``model_validator`` texts).
_VALUE_ERRORS_DE: Final = {
    "min must not exceed max": "Die Mindeststunden dürfen die Höchststunden nicht übersteigen.",
    "give a postcode, a quarter or lat/lon": "Bitte eine Postleitzahl oder einen Stadtteil "
    "angeben.",
    "lat and lon must be given together": "Breite und Länge nur zusammen angeben.",
}
_PATTERNS_DE: Final = {
    "postcode": "Bitte eine fünfstellige Postleitzahl angeben, z. B. 33605.",
    "driving_licence": "Unbekannte Führerscheinklasse (z. B. B, BE, C, CE, C1, L, T).",
    "driving_licence_required": "Unbekannte Führerscheinklasse (z. B. B, BE, C, CE, C1).",
    "languages": "Unbekannter Sprachcode.",
}


@dataclass
class FormResult:
    """A parsed form.

    Attributes
    ----------
    data : dict
        Input for the API schema (valid when ``errors`` is empty).
    values : dict
        What the form shows again.
    errors : dict
        German message per form field.
    """

    data: dict[str, Any]
    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the form is valid."""
        return not self.errors


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _texts(form: FormData, key: str) -> list[str]:
    return [v.strip() for v in form.getlist(key) if isinstance(v, str) and v.strip()]


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        key = item.strip()
        if key and key.casefold() not in {k.casefold() for k in seen}:
            seen[key] = None
    return list(seen)


def _split(text: str, pattern: re.Pattern[str] = _SPLIT) -> list[str]:
    return _unique(p.strip() for p in pattern.split(text))


def _number(
    form: FormData, key: str, errors: dict[str, str], *, integer: bool = False
) -> float | int | None:
    raw = _text(form, key).replace(",", ".")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        errors[key] = "Bitte eine Zahl eingeben."
        return None
    if integer:
        if not value.is_integer():
            errors[key] = "Bitte eine ganze Zahl eingeben."
            return None
        return int(value)
    return value


def _date(form: FormData, key: str, errors: dict[str, str]) -> dt.date | None:
    raw = _text(form, key)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[key] = "Bitte ein Datum im Format JJJJ-MM-TT angeben."
        return None


def _place(form: FormData, errors: dict[str, str]) -> dict[str, Any]:
    """Postcode and quarter as typed, and stored coordinates carried in hidden fields."""
    place: dict[str, Any] = {k: v for k in ("postcode", "quarter") if (v := _text(form, k))}
    lat, lon = _number(form, "lat", errors), _number(form, "lon", errors)
    if lat is not None and lon is not None:
        place["lat"], place["lon"] = float(lat), float(lon)
    return place


def _field_of(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if not parts:
        return "form"
    head = parts[0]
    if head in ("mobility",) and len(parts) > 1:
        return parts[1]
    if head in ("home", "location"):
        return parts[1] if len(parts) > 1 else "place"
    if head == "hours_per_week":
        return "hours"
    return head


def german_errors(exc: ValidationError) -> dict[str, str]:
    """Translate a schema's validation errors to German messages per form field.

    Parameters
    ----------
    exc : ValidationError

    Returns
    -------
    dict
        Form field name to message (the first error of each field).
    """
    out: dict[str, str] = {}
    for err in exc.errors():
        name = _field_of(err.get("loc", ()))
        kind = err.get("type", "")
        ctx = err.get("ctx") or {}
        if kind in ("missing", "string_too_short"):
            message = "Bitte ausfüllen."
        elif kind == "string_too_long":
            message = f"Höchstens {ctx.get('max_length')} Zeichen."
        elif kind == "string_pattern_mismatch":
            message = _PATTERNS_DE.get(name, "Ungültiges Format.")
        elif kind in ("greater_than_equal", "greater_than"):
            message = f"Mindestens {ctx.get('ge', ctx.get('gt'))}."
        elif kind in ("less_than_equal", "less_than"):
            message = f"Höchstens {ctx.get('le', ctx.get('lt'))}."
        elif kind == "too_short":
            message = "Bitte mindestens einen Eintrag angeben."
        elif kind == "too_long":
            message = f"Höchstens {ctx.get('max_length')} Einträge."
        elif kind == "literal_error":
            message = "Ungültige Auswahl."
        elif kind == "value_error":
            text = str(ctx.get("error", err.get("msg", "")))
            message = _VALUE_ERRORS_DE.get(text, "Ungültige Eingabe.")
        else:
            message = "Ungültige Eingabe."
        out.setdefault(name, message)
    return out


def _validate(model: Any, data: dict[str, Any], errors: dict[str, str]) -> None:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        for key, message in german_errors(exc).items():
            errors.setdefault(key, message)


def _chips(
    taxonomy: Taxonomy, values: Sequence[str], essential: set[str] | None = None
) -> list[dict[str, Any]]:
    return [
        {
            "value": v,
            "label": concept_label(taxonomy, v),
            "esco": v.startswith("http"),
            "essential": essential is None or v in essential,
        }
        for v in values
    ]


# ------------------------------------------------------------------ participants


def participant_values(view: dict[str, Any], taxonomy: Taxonomy) -> dict[str, Any]:
    """Form values of a stored participant (``participant_view``)."""
    languages = list(view["languages"])
    skills = [s.get("uri") or s["input"] for s in view["skills"]]
    return {
        "name": view["name"],
        "contact": view["contact"] or "",
        "postcode": view["home"]["postcode"] or "",
        "quarter": view["home"]["quarter"] or "",
        "lat": view["home"]["lat"],
        "lon": view["home"]["lon"],
        "skills": _chips(taxonomy, skills),
        "skills_text": "",
        "certificates": ", ".join(view["certificates"]),
        "languages": languages + [{}] * max(0, LANGUAGE_ROWS - len(languages)),
        "modes": list(view["mobility"]["modes"]),
        "driving_licence": ", ".join(view["mobility"]["driving_licence"]),
        "max_commute_minutes": view["max_commute_minutes"],
        "hours_min": view["hours_per_week"]["min"],
        "hours_max": view["hours_per_week"]["max"],
        "availability": list(view["availability"]),
        "work_permit": view["work_permit"],
        "desired_occupations": "\n".join(
            o.get("label_de") or o["input"] for o in view["desired_occupations"]
        ),
        "past_occupations": "\n".join(
            o.get("label_de") or o["input"] for o in view["past_occupations"]
        ),
        "objects_to_profiling": view["objects_to_profiling"],
        "active": view["active"],
        "consent": view["consent_given"],
    }


def participant_form(form: FormData, taxonomy: Taxonomy, *, new: bool) -> FormResult:
    """Parse a participant form into :class:`~service.schemas.ParticipantIn` input.

    Parameters
    ----------
    form : FormData
    taxonomy : Taxonomy
        For the skill chips' labels.
    new : bool
        A new participant (validated as ``ParticipantIn``) or a change (``ParticipantPatch``
        with every field set).
    """
    errors: dict[str, str] = {}
    skills = _unique([*_texts(form, "skill"), *_split(_text(form, "skills_text"), _LINES)])
    languages: list[dict[str, Any]] = []
    language_values: list[dict[str, Any]] = []
    for i in range(_MAX_LANGUAGES):
        if f"lang_{i}" not in form and f"level_{i}" not in form:
            break
        code, level = _text(form, f"lang_{i}"), _text(form, f"level_{i}")
        expected, by_text = _text(form, f"expected_{i}"), _text(form, f"by_{i}")
        by = _date(form, f"by_{i}", errors)
        if f"by_{i}" in errors:
            errors["languages"] = errors.pop(f"by_{i}")
        language_values.append({"language": code, "level": level,
                                "expected_level": expected, "expected_by": by_text})  # fmt: skip
        if not level:
            if expected or by_text:
                errors["languages"] = "Bitte zur Sprache auch das heutige Niveau angeben."
            continue  # a language without a level (the form's preset) is not given
        if not code:
            errors["languages"] = "Bitte zum Niveau auch die Sprache angeben."
            continue
        entry: dict[str, Any] = {"language": code, "level": level}
        if expected:
            entry["expected_level"] = expected
        if by is not None:
            entry["expected_by"] = by
        languages.append(entry)
    home = _place(form, errors)
    hours_min = _number(form, "hours_min", errors)
    hours_max = _number(form, "hours_max", errors)
    commute = _number(form, "max_commute_minutes", errors, integer=True)
    data: dict[str, Any] = {
        "name": _text(form, "name"),
        "contact": _text(form, "contact") or None,
        "home": home,
        "skills": skills,
        "certificates": _split(_text(form, "certificates")),
        "languages": languages,
        "mobility": {
            "modes": _unique(_texts(form, "mode")),
            "driving_licence": [c.upper() for c in _split(_text(form, "driving_licence"))],
        },
        "max_commute_minutes": commute,
        "hours_per_week": {"min": hours_min, "max": hours_max},
        "availability": _unique(_texts(form, "shift")),
        "work_permit": _text(form, "work_permit") or "unknown",
        "desired_occupations": _split(_text(form, "desired_occupations"), _LINES),
        "past_occupations": _split(_text(form, "past_occupations"), _LINES),
        "objects_to_profiling": form.get("objects_to_profiling") == "on",
    }
    if not new:
        data["active"] = form.get("active") == "on"
    if hours_min is None and "hours_min" not in errors:
        errors["hours_min"] = "Bitte ausfüllen."
    if hours_max is None and "hours_max" not in errors:
        errors["hours_max"] = "Bitte ausfüllen."
    _validate(ParticipantIn if new else ParticipantPatch, data, errors)
    if "hours" in errors:
        errors.setdefault("hours_min", errors.pop("hours"))
    values = {
        "name": data["name"],
        "contact": data["contact"] or "",
        "postcode": _text(form, "postcode"),
        "quarter": _text(form, "quarter"),
        "lat": home.get("lat"),
        "lon": home.get("lon"),
        "skills": _chips(taxonomy, skills),
        "skills_text": "",
        "certificates": _text(form, "certificates"),
        "languages": language_values,
        "modes": data["mobility"]["modes"],
        "driving_licence": _text(form, "driving_licence"),
        "max_commute_minutes": _text(form, "max_commute_minutes"),
        "hours_min": _text(form, "hours_min"),
        "hours_max": _text(form, "hours_max"),
        "availability": data["availability"],
        "work_permit": data["work_permit"],
        "desired_occupations": _text(form, "desired_occupations"),
        "past_occupations": _text(form, "past_occupations"),
        "objects_to_profiling": data["objects_to_profiling"],
        "active": data.get("active", True),
        "consent": form.get("consent") == "on",
    }
    return FormResult(data, values, errors)


# ------------------------------------------------------------------ vacancies


def vacancy_values(view: dict[str, Any], taxonomy: Taxonomy) -> dict[str, Any]:
    """Form values of a stored vacancy (``vacancy_view``)."""
    skills = [s.get("uri") or s["input"] for s in view["skills"]]
    essential = {s.get("uri") or s["input"] for s in view["skills"] if s["essential"]}
    occupation = view["occupation"] or {}
    german = next((x["level"] for x in view["languages"] if x["language"] == "de"), "")
    others = [dict(x) for x in view["languages"] if x["language"] != "de"]
    return {
        "title": view["title"],
        "occupation": occupation.get("label_de") or occupation.get("input") or "",
        "occupation_uri": occupation.get("uri") or "",
        "skills": _chips(taxonomy, skills, essential),
        "skills_text": "",
        "de_level": german,
        "other_languages": [*others, {}],
        "certificates_required": ", ".join(view["certificates_required"]),
        "postcode": view["location"]["postcode"] or "",
        "quarter": view["location"]["quarter"] or "",
        "lat": view["location"]["lat"],
        "lon": view["location"]["lon"],
        "hours_per_week": view["hours_per_week"],
        "days_per_week": view["days_per_week"],
        "shifts": list(view["shifts"]),
        "driving_licence_required": view["driving_licence_required"] or "",
        "work_permit_required": view["work_permit_required"],
        "openings": view["openings"],
        "start_date": view["start_date"] or "",
        "status": view["status"],
    }


def vacancy_form(
    form: FormData, taxonomy: Taxonomy, *, new: bool, prefill: Sequence[dict[str, Any]] = ()
) -> FormResult:
    """Parse a vacancy form into :class:`~service.schemas.VacancyIn` input.

    Parameters
    ----------
    form : FormData
    taxonomy : Taxonomy
    new : bool
        A new vacancy or a change (every field set).
    prefill : sequence of dict
        An occupation's skills (``{"uri", "essential"}``) to add to the chips.
    """
    errors: dict[str, str] = {}
    chosen = _texts(form, "skill")
    essential = set(_texts(form, "essential"))
    free = _split(_text(form, "skills_text"), _LINES)
    essential.update(free)
    for s in prefill:
        if s["uri"] not in chosen:
            chosen.append(s["uri"])
            if s["essential"]:
                essential.add(s["uri"])
    skills = _unique([*chosen, *free])
    occupation_text = _text(form, "occupation")
    occupation_uri = _text(form, "occupation_uri")
    occupation = occupation_uri or occupation_text or None
    if (
        occupation_uri
        and occupation_text
        and occupation_text != concept_label(taxonomy, occupation_uri, "occupation")
    ):
        occupation = occupation_text  # the picked label was edited afterwards
    de_level = _text(form, "de_level")
    languages = [{"language": "de", "level": de_level}] if de_level else []
    other_languages: list[dict[str, str]] = []
    for i in range(_MAX_LANGUAGES):
        if f"vlang_{i}" not in form:
            break
        code, level = _text(form, f"vlang_{i}"), _text(form, f"vlevel_{i}")
        other_languages.append({"language": code, "level": level})
        if code and level and code != "de":
            languages.append({"language": code, "level": level})
        elif level and not code:
            errors["languages"] = "Bitte zum Niveau auch die Sprache angeben."
    hours = _number(form, "hours_per_week", errors)
    days = _number(form, "days_per_week", errors, integer=True)
    openings = _number(form, "openings", errors, integer=True)
    data: dict[str, Any] = {
        "title": _text(form, "title"),
        "occupation": occupation,
        "skills": [{"skill": s, "essential": s in essential} for s in skills],
        "certificates_required": _split(_text(form, "certificates_required")),
        "languages": languages,
        "location": _place(form, errors),
        "hours_per_week": hours,
        "days_per_week": days if days is not None else 5,
        "shifts": _unique(_texts(form, "shift")),
        "driving_licence_required": _text(form, "driving_licence_required").upper() or None,
        "work_permit_required": form.get("work_permit_required") == "on",
        "openings": openings if openings is not None else 1,
        "start_date": _date(form, "start_date", errors),
        "status": _text(form, "status") or "open",
    }
    if hours is None and "hours_per_week" not in errors:
        errors["hours_per_week"] = "Bitte ausfüllen."
    _validate(VacancyIn if new else VacancyPatch, data, errors)
    values = {
        "title": data["title"],
        "occupation": occupation_text,
        "occupation_uri": occupation_uri if occupation == occupation_uri else "",
        "skills": _chips(taxonomy, skills, essential),
        "skills_text": "",
        "de_level": de_level,
        "other_languages": [x for x in other_languages if x["language"] or x["level"]] + [{}],
        "certificates_required": _text(form, "certificates_required"),
        "postcode": _text(form, "postcode"),
        "quarter": _text(form, "quarter"),
        "lat": data["location"].get("lat"),
        "lon": data["location"].get("lon"),
        "hours_per_week": _text(form, "hours_per_week"),
        "days_per_week": _text(form, "days_per_week") or "5",
        "shifts": data["shifts"],
        "driving_licence_required": _text(form, "driving_licence_required"),
        "work_permit_required": data["work_permit_required"],
        "openings": _text(form, "openings") or "1",
        "start_date": _text(form, "start_date"),
        "status": data["status"],
    }
    return FormResult(data, values, errors)
