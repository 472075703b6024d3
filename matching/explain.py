"""Explanations of ranked pairs: what matched, what is missing, and why it ranks there.

An explanation is plain data (dicts and lists) so the service can return it as JSON
and the pages can render it. ``summary_de`` holds short German sentences for a coach.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from matching.factors import PROXIMITY, PairArrays, proximity
from matching.features import OCCUPATION_BASIS
from matching.index import IndexState
from matching.language import REACHABLE, assess_one, level_name
from matching.schema import MODES, Reason
from matching.taxonomy import Taxonomy

__all__ = ["MODE_LABELS_DE", "REASON_LABELS_DE", "ConceptLabels", "explain_pair", "sparse_row"]

REASON_LABELS_DE: Final = {
    Reason.NOT_OPEN: "Stelle ist nicht offen",
    Reason.LANGUAGE: "Sprachniveau zu niedrig",
    Reason.COMMUTE: "Arbeitsweg zu lang",
    Reason.HOURS: "Arbeitszeit passt nicht",
    Reason.SHIFTS: "Schichten passen nicht",
    Reason.DRIVING_LICENCE: "Führerschein fehlt",
    Reason.CERTIFICATE: "Nachweis fehlt",
    Reason.WORK_PERMIT: "Arbeitserlaubnis fehlt",
    Reason.NOT_CONSENTED: "keine Einwilligung",
    Reason.NOT_APPROVED: "nicht freigegeben",
}
MODE_LABELS_DE: Final = {
    "walk": "zu Fuß",
    "bike": "mit dem Rad",
    "transit": "mit Bus und Bahn",
    "car": "mit dem Auto",
}
_LANGUAGE_NAMES_DE: Final = {
    "de": "Deutsch", "en": "Englisch", "ar": "Arabisch", "tr": "Türkisch", "uk": "Ukrainisch",
    "ru": "Russisch", "pl": "Polnisch", "ro": "Rumänisch", "fa": "Persisch", "fr": "Französisch",
}  # fmt: skip
_PROXIMITY: Final = {value: name for name, value in PROXIMITY.items()} | {0.0: "none"}
_MAX_LISTED: Final = 10


class ConceptLabels:
    """URIs and labels of a taxonomy as plain arrays, for fast explanation building."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self._columns = {}
        for kind, frame in (("skill", taxonomy.skills), ("occupation", taxonomy.occupations)):
            de = frame["label_de"].to_numpy(dtype=object)
            de = np.where(pd.isna(de), None, de)
            # Python lists: indexing them is several times cheaper than object arrays,
            # and every explanation looks up a dozen concepts.
            self._columns[kind] = (
                frame["uri"].to_numpy(dtype=object).tolist(),
                de.tolist(),
                frame["label_en"].to_numpy(dtype=object).tolist(),
            )

    def concept(self, position: int, kind: str) -> dict[str, Any]:
        """``{"uri", "label_de", "label_en"}`` of the concept at ``position``."""
        uri, de, en = self._columns[kind]
        return {"uri": uri[position], "label_de": de[position], "label_en": en[position]}


def _label(concept: dict[str, Any]) -> str:
    return concept["label_de"] or concept["label_en"]


def sparse_row(matrix: Any, row: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of one CSR row, without SciPy's indexing overhead."""
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    return matrix.indices[start:end], matrix.data[start:end]


def _occupation_slot(state: IndexState, p_row: int, v_row: int) -> int:
    """Which of the participant's occupation entries gives the pair its occupation fit."""
    pt, vt = state.participants, state.vacancies
    value = pt.occ_weight_t[:, p_row] * proximity(
        pt.occ_position_t[:, p_row], pt.occ_keys_t[:, :, p_row],
        vt.block.occupation[v_row], vt.isco_keys[:, v_row],
    )
    return int(np.argmax(value))


def explain_pair(
    state: IndexState,
    labels: ConceptLabels,
    p_row: int,
    v_row: int,
    pairs: PairArrays,
    i: int,
    *,
    overridden: list[str],
) -> dict[str, Any]:
    """Explain pair ``i`` of ``pairs`` (participant ``p_row``, vacancy ``v_row``)."""
    vb = state.vacancies.block
    pb = state.participants.block
    essential, _ = sparse_row(vb.essential, v_row)
    optional, _ = sparse_row(vb.optional, v_row)
    held, values = sparse_row(pb.skills_expanded, p_row)
    credit = dict(zip(held.tolist(), values.tolist(), strict=True))
    matched, related, missing = [], [], []
    for s in essential.tolist():
        value = credit.get(s, 0.0)
        target = matched if value >= 1.0 else related if value > 0 else missing
        target.append(s)
    optional_matched = [s for s in optional.tolist() if credit.get(s, 0.0) >= 1.0]

    def concepts(positions: list[int]) -> list[dict[str, Any]]:
        return [labels.concept(s, "skill") for s in positions[:_MAX_LISTED]]

    skills = {
        "essential_total": len(essential),
        "essential_matched": len(matched),
        "essential_related": len(related),
        "optional_total": len(optional),
        "optional_matched": len(optional_matched),
        "matched": concepts(matched),
        "related": concepts(related),
        "missing": concepts(missing),
        "from_occupation": bool(vb.skills_from_occupation[v_row]),
    }

    slot = _occupation_slot(state, p_row, v_row)
    occupation: dict[str, Any] = {"basis": None, "vacancy": None, "participant": None,
                                  "proximity": "none"}
    if vb.occupation[v_row] >= 0:
        occupation["vacancy"] = labels.concept(int(vb.occupation[v_row]), "occupation")
    position = int(pb.occ_position[p_row, slot]) if slot < pb.occ_position.shape[1] else -1
    if position >= 0 and pairs.factors[1, i] > 0:
        occupation["basis"] = OCCUPATION_BASIS[int(pb.occ_basis[p_row, slot])]
        occupation["participant"] = labels.concept(position, "occupation")
        weight = float(pb.occ_weight[p_row, slot])
        ratio = float(pairs.factors[1, i]) / weight if weight > 0 else 0.0
        occupation["proximity"] = _PROXIMITY[min(_PROXIMITY, key=lambda x: abs(x - ratio))]

    languages = []
    for language, required in sorted(vb.lang_required.items()):
        need = int(required[v_row])
        if need <= 0:
            continue
        level = int(pb.lang_level[language][p_row]) if language in pb.lang_level else 0
        expected = int(pb.lang_expected[language][p_row]) if language in pb.lang_expected else 0
        by = (pb.lang_expected_by[language][p_row] if language in pb.lang_expected_by
              else np.datetime64("NaT"))
        status, gap = assess_one(level, need, expected, by, vb.start_date[v_row])
        status_name = ("meets" if status == 0 else
                       "reachable" if status == REACHABLE else "gap")
        languages.append({
            "language": language,
            "required": level_name(need),
            "level": level_name(level),
            "status": status_name,
            "gap": int(gap),
            "expected_level": level_name(expected) if expected else None,
            "expected_by": None if np.isnat(by) else str(by),
        })

    minutes = float(pairs.commute_minutes[i])
    limit = float(pairs.commute_limit[i])
    own = float(pb.max_commute[p_row])
    commute = {
        "minutes": None if not np.isfinite(minutes) else round(minutes),
        "mode": MODES[int(pairs.commute_mode[i])] if np.isfinite(minutes) else None,
        "limit_minutes": round(limit),
        "limit_basis": "participant" if np.isfinite(own) and own <= limit else "section_140",
    }
    hours = {
        "vacancy_hours_per_week": float(vb.hours[v_row]),
        "vacancy_days_per_week": float(vb.days[v_row]),
        "participant_min": float(pb.hours_min[p_row]),
        "participant_max": float(pb.hours_max[p_row]),
    }
    explanation = {
        "skills": skills,
        "occupation": occupation,
        "languages": languages,
        "commute": commute,
        "hours": hours,
        "overridden": overridden,
        "unresolved_skills": list(pb.unresolved[p_row]),
    }
    explanation["summary_de"] = _summary_de(explanation)
    return explanation


def _summary_de(e: dict[str, Any]) -> list[str]:
    lines = []
    s = e["skills"]
    if s["essential_total"]:
        text = f"{s['essential_matched']} von {s['essential_total']} Kernkompetenzen vorhanden"
        if s["essential_related"]:
            text += f", {s['essential_related']} verwandte"
        lines.append(text)
    if s["missing"]:
        lines.append("Fehlt: " + ", ".join(_label(c) for c in s["missing"][:3]))
    o = e["occupation"]
    if o["basis"] == "desired":
        lines.append("Passt zum Berufswunsch")
    elif o["basis"] == "past":
        lines.append("Passt zu früherer Tätigkeit")
    elif o["basis"] == "implied":
        lines.append("Beruf passt zu den vorhandenen Kompetenzen")
    for lang in e["languages"]:
        name = _LANGUAGE_NAMES_DE.get(lang["language"], lang["language"])
        have = lang["level"] or "keine Kenntnisse"
        if lang["status"] == "meets":
            lines.append(f"{name}: {have} (gefordert {lang['required']})")
        elif lang["status"] == "reachable":
            lines.append(
                f"{name}: {have}, gefordert {lang['required']} – mit Kurs erreichbar "
                f"bis {lang['expected_by']}"
            )
        else:
            lines.append(f"{name}: {have}, gefordert {lang['required']}")
    c = e["commute"]
    if c["minutes"] is not None:
        lines.append(
            f"Arbeitsweg: {c['minutes']} Min. {MODE_LABELS_DE[c['mode']]} "
            f"(höchstens {c['limit_minutes']} Min.)"
        )
    h = e["hours"]
    lines.append(
        f"Arbeitszeit: {h['vacancy_hours_per_week']:g} Std./Woche "
        f"(gewünscht {h['participant_min']:g}–{h['participant_max']:g})"
    )
    for reason in e["overridden"]:
        lines.append(f"Filter übergangen: {REASON_LABELS_DE.get(reason, reason)}")
    return lines
