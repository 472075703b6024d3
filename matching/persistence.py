"""Versioned model artefacts: save atomically, load with checks, decide on promotion.

A model lives in ``<directory>/<name>/<version>/`` as ``model.joblib`` and
``metadata.json`` (library versions, feature schema, training-data hash, parameters,
metrics, who trained it, the SHA-256 of ``model.joblib``). :func:`save_model` writes both
into a hidden temporary directory next to the target, fsyncs every file and the directory,
and renames the directory into place: a reader (or a crash at any moment) sees either no
version or a complete one. :func:`load_model` refuses anything it cannot vouch for with a
:class:`~matching.errors.ModelError` that says what was wrong; the checksum is verified
*before* the pickle is opened. :func:`promotion_decision` is the gate a new model must
pass before the service activates it.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import hashlib
import json
import math
import os
import platform
import re
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Final

import numpy as np

from matching.errors import InvalidInputError, ModelError
from matching.schema import FACTORS
from matching.scoring import Scorer

__all__ = [
    "FORMAT_VERSION",
    "METADATA_FILE",
    "MODEL_FILE",
    "Decision",
    "ModelInfo",
    "library_versions",
    "list_versions",
    "load_model",
    "promotion_decision",
    "remove_incomplete",
    "save_model",
]

MODEL_FILE: Final = "model.joblib"
METADATA_FILE: Final = "metadata.json"
#: Version of the artefact layout; a loader refuses other formats.
FORMAT_VERSION: Final = 1
_TEMP_PREFIX: Final = ".tmp-"
_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_LIBRARIES: Final = ("numpy", "scipy", "scikit-learn", "joblib", "pandas")
_REQUIRED_KEYS: Final = (
    "format", "name", "version", "model_version", "feature_schema", "libraries", "sha256",
    "metrics", "training_data_hash", "trained_by", "parameters", "created_at",
)  # fmt: skip


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a pickled model depends on."""
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def _check_name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value) or value in {".", ".."}:
        raise InvalidInputError(
            f"{field} must be 1–64 letters, digits, '.', '_' or '-' and start with a letter "
            f"or digit, got {value!r}",
            field=field,
        )
    return value


def _jsonable(value: Any) -> Any:
    """Metrics and parameters as plain JSON (NaN and infinities become null)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(float(value)) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_model(
    model: Scorer,
    directory: str | os.PathLike[str],
    name: str,
    version: str,
    *,
    metrics: Mapping[str, Any],
    training_data_hash: str,
    trained_by: str,
    parameters: Mapping[str, Any] | None = None,
) -> Path:
    """Write a model version atomically and return its directory.

    Parameters
    ----------
    model : Scorer
        A fitted scorer (usually a :class:`~matching.training.LearnedScorer`). A copy is
        saved; if it has a ``model_version`` parameter it is set to ``"<name>/<version>"``,
        the version the service then reports with every ranking.
    directory : path
        The models root (``models/``).
    name, version : str
        Letters, digits, ``.``, ``_`` and ``-``; a version is immutable once written.
    metrics : mapping
        Held-out metrics, e.g. from :func:`matching.training.flatten_metrics`.
    training_data_hash : str
        :func:`matching.training.training_data_hash` of the training table.
    trained_by : str
        Who trained it (a user name or pseudonym, never a person's contact details).
    parameters : mapping, optional
        Training parameters; defaults to ``model.get_params()`` when available.

    Returns
    -------
    pathlib.Path
        ``directory/name/version``.

    Raises
    ------
    InvalidInputError
        A malformed name or version, or a model that is not a scorer.
    ModelError
        The version exists already, or the files could not be written (nothing partial is
        left behind in the version's place).
    """
    _check_name(name, "name")
    _check_name(version, "version")
    if not isinstance(trained_by, str) or not trained_by.strip():
        raise InvalidInputError("trained_by must name who trained the model", field="trained_by")
    if not isinstance(training_data_hash, str) or not training_data_hash:
        raise InvalidInputError("training_data_hash must be a non-empty string",
                                field="training_data_hash")
    import joblib

    saved: Any = copy.deepcopy(model)
    if hasattr(saved, "get_params") and "model_version" in saved.get_params():
        saved.set_params(model_version=f"{name}/{version}")
    if not isinstance(saved, Scorer):
        raise InvalidInputError(
            "model must be a fitted scorer with version, score() and contributions()",
            field="model",
        )
    model_version = str(saved.version)
    if parameters is None:
        parameters = saved.get_params() if hasattr(saved, "get_params") else {}
    root = Path(directory) / name
    target = root / version
    if target.exists():
        raise ModelError(f"model {name!r} version {version!r} exists already at {target}; "
                         "versions are immutable, choose a new one")
    temp = root / f"{_TEMP_PREFIX}{version}-{uuid.uuid4().hex[:8]}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        temp.mkdir()
        model_path = temp / MODEL_FILE
        with open(model_path, "wb") as handle:
            joblib.dump(saved, handle)
            handle.flush()
            os.fsync(handle.fileno())
        meta = {
            "format": FORMAT_VERSION,
            "name": name,
            "version": version,
            "model_version": model_version,
            "estimator": f"{type(saved).__module__}.{type(saved).__qualname__}",
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "trained_by": trained_by,
            "feature_schema": list(FACTORS),
            "libraries": library_versions(),
            "training_data_hash": training_data_hash,
            "parameters": _jsonable(parameters),
            "metrics": _jsonable(metrics),
            "sha256": _sha256(model_path),
        }
        _write(temp / METADATA_FILE,
               json.dumps(meta, indent=2, sort_keys=True, allow_nan=False).encode())
        _fsync_dir(temp)
        os.rename(temp, target)  # atomic; fails if the version appeared meanwhile
        _fsync_dir(root)
    except OSError as exc:
        shutil.rmtree(temp, ignore_errors=True)
        raise ModelError(f"could not write model {name!r} version {version!r}: {exc}") from exc
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return target


def _major_minor(text: str) -> tuple[int, ...]:
    parts = re.findall(r"\d+", str(text))[:2]
    return tuple(int(p) for p in parts)


def _read_metadata(path: Path) -> dict[str, Any]:
    meta_path = path / METADATA_FILE
    if not path.is_dir():
        raise ModelError(f"model directory {path} is missing")
    if not meta_path.is_file():
        raise ModelError(f"{meta_path} is missing: not a complete model version")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{meta_path} is corrupt: {exc}") from exc
    if not isinstance(meta, dict):
        raise ModelError(f"{meta_path} is corrupt: not a JSON object")
    missing = [k for k in _REQUIRED_KEYS if k not in meta]
    if missing:
        raise ModelError(f"{meta_path} is incomplete: missing {', '.join(missing)}")
    return meta


def load_model(path: str | os.PathLike[str]) -> tuple[Scorer, dict[str, Any]]:
    """Load a model version after checking that it can be trusted and used here.

    Checks, in order: the directory and ``metadata.json`` exist and parse; the artefact
    format is known; the feature schema is exactly :data:`~matching.schema.FACTORS`; the
    model was saved with the same major.minor scikit-learn and the same major NumPy as
    installed (a pickle from another version may load and silently compute something
    else); ``model.joblib`` exists and its SHA-256 matches; only then it is unpickled, and
    the result must be a scorer with the recorded version that scores a probe row.

    Parameters
    ----------
    path : path
        The version directory (``models/<name>/<version>``).

    Returns
    -------
    scorer : Scorer
    metadata : dict
        The parsed ``metadata.json``.

    Raises
    ------
    ModelError
        Missing, corrupt, incompatible or wrong-schema artefacts; the message names which.
    """
    path = Path(path)
    meta = _read_metadata(path)
    if meta["format"] != FORMAT_VERSION:
        raise ModelError(f"{path}: artefact format {meta['format']!r} is not supported "
                         f"(this library reads format {FORMAT_VERSION})")
    if list(meta["feature_schema"]) != list(FACTORS):
        raise ModelError(
            f"{path}: wrong feature schema {meta['feature_schema']!r}; this library scores "
            f"the factors {list(FACTORS)!r}"
        )
    installed = library_versions()
    recorded = meta["libraries"] if isinstance(meta["libraries"], dict) else {}
    for library, digits in (("scikit-learn", 2), ("numpy", 1)):
        saved = _major_minor(recorded.get(library, ""))[:digits]
        here = _major_minor(installed[library])[:digits]
        if saved != here:
            level = "major.minor" if digits == 2 else "major"
            raise ModelError(
                f"{path}: incompatible {library}: saved with {recorded.get(library)!r}, "
                f"installed {installed[library]!r} (the {level} version must match); "
                "retrain the model with the installed libraries"
            )
    model_path = path / MODEL_FILE
    if not model_path.is_file():
        raise ModelError(f"{model_path} is missing")
    actual = _sha256(model_path)
    if actual != meta["sha256"]:
        raise ModelError(f"{model_path} is corrupt: SHA-256 {actual} does not match the "
                         f"recorded {meta['sha256']}")
    import joblib

    try:
        scorer = joblib.load(model_path)
    except Exception as exc:  # unpickling can fail with any error
        raise ModelError(f"{model_path} could not be loaded: {exc}") from exc
    if not isinstance(scorer, Scorer):
        raise ModelError(f"{model_path} does not hold a scorer ({type(scorer).__name__})")
    if str(scorer.version) != str(meta["model_version"]):
        raise ModelError(f"{model_path} reports version {scorer.version!r}, the metadata "
                         f"{meta['model_version']!r}")
    try:
        probe = np.full((2, len(FACTORS)), 0.5, dtype=np.float32)
        scores = np.asarray(scorer.score(probe))
        parts = np.asarray(scorer.contributions(probe))
    except Exception as exc:
        raise ModelError(f"{model_path} cannot score a probe row: {exc}") from exc
    if scores.shape != (2,) or parts.shape != (2, len(FACTORS)) or not (
        np.isfinite(scores).all() and np.isfinite(parts).all()
    ):
        raise ModelError(f"{model_path} returns malformed scores for a probe row")
    return scorer, meta


@dataclass(frozen=True)
class ModelInfo:
    """One entry of :func:`list_versions`.

    Attributes
    ----------
    name, version : str
    path : pathlib.Path
    model_version : str or None
    created_at : str or None
    trained_by : str or None
    metrics : dict
    problem : str or None
        Why the version cannot be loaded as listed (unreadable metadata), else ``None``.
        The checksum is verified by :func:`load_model`, not here.
    """

    name: str
    version: str
    path: Path
    model_version: str | None
    created_at: str | None
    trained_by: str | None
    metrics: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"name": self.name, "version": self.version, "path": str(self.path),
                "model_version": self.model_version, "created_at": self.created_at,
                "trained_by": self.trained_by, "metrics": self.metrics,
                "problem": self.problem}


def list_versions(directory: str | os.PathLike[str], name: str) -> list[ModelInfo]:
    """The versions of a model, oldest first (by ``created_at``, then version).

    Temporary directories of saves in progress or interrupted are not listed.
    """
    _check_name(name, "name")
    root = Path(directory) / name
    if not root.is_dir():
        return []
    infos = []
    for entry in sorted(root.iterdir()):
        if not entry.is_dir() or entry.name.startswith("."):
            continue
        try:
            meta = _read_metadata(entry)
        except ModelError as exc:
            infos.append(ModelInfo(name, entry.name, entry, None, None, None, {}, str(exc)))
            continue
        infos.append(ModelInfo(name, entry.name, entry, str(meta["model_version"]),
                               str(meta["created_at"]), str(meta["trained_by"]),
                               dict(meta["metrics"] or {})))
    return sorted(infos, key=lambda i: (i.created_at or "", i.version))


def remove_incomplete(directory: str | os.PathLike[str], name: str) -> list[Path]:
    """Delete the temporary directories interrupted saves left behind; return them."""
    _check_name(name, "name")
    root = Path(directory) / name
    if not root.is_dir():
        return []
    removed = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(_TEMP_PREFIX)]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


# ----------------------------------------------------------------------------- gate


@dataclass(frozen=True)
class Decision:
    """Outcome of :func:`promotion_decision`.

    Attributes
    ----------
    allowed : bool
    reasons : list of str
        One line per check, passed or failed, in words an admin can record.
    """

    allowed: bool
    reasons: list[str]


def _number(metrics: Mapping[str, Any], key: str) -> float | None:
    value = metrics.get(key)
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _impact_check(
    candidate: Mapping[str, Any], active: Mapping[str, Any] | None, line: float,
    tolerance: float,
) -> tuple[bool, str]:
    """The impact-ratio check of :func:`promotion_decision` and its reason."""
    ratio = _number(candidate, "impact_ratio_min")
    group = candidate.get("impact_ratio_group")
    if ratio is None:
        return False, ("refused: no shortlist impact ratio recorded (fairness audit missing "
                       "or every group too small)")
    prefix = "reference_" if active is None else ""
    source = candidate if active is None else active
    active_ratio = _number(source, f"{prefix}impact_ratio_min")
    high = _number(candidate, "impact_ratio_high_min")
    if high is None:  # no interval recorded: judge the point estimate
        low_side, active_low = ratio < line, active_ratio is not None and active_ratio < line
        what = f"lowest impact ratio {ratio:.3f} ({group})"
    else:
        active_high = _number(source, f"{prefix}impact_ratio_high_min")
        low_side = high < line
        active_low = active_high is not None and active_high < line
        what = (f"lowest upper 90 % bound of an impact ratio {high:.3f} "
                f"({candidate.get('impact_ratio_high_group')}; lowest point estimate "
                f"{ratio:.3f}, {group})")
    review = [str(g) for g in candidate.get("impact_ratio_review") or []]
    note = f"; for review, point estimate below {line:g}: {', '.join(review)}" if review else ""
    if not low_side:
        return True, f"passed: {what} is at least {line:.3f}{note}"
    if active_low and active_ratio is not None:
        # The active model is below the line on the same audit: the candidate may not
        # lower the lowest ratio by more than the tolerance.
        floor = active_ratio - tolerance
        if ratio >= floor:
            return True, (f"passed: {what} is below {line:.3f} as the active model's is "
                          f"({active_ratio:.3f}), and not more than {tolerance:g} lower{note}")
        return False, (f"refused: {what} is below {line:.3f}, and its point estimate is more "
                       f"than {tolerance:g} below the active model's ({active_ratio:.3f}){note}")
    return False, f"refused: {what} is below {line:.3f}{note}"


def promotion_decision(
    candidate_metrics: Mapping[str, Any],
    active_metrics: Mapping[str, Any] | None = None,
    *,
    min_impact_ratio: float = 0.8,
    k: int = 10,
    z: float = 1.96,
    min_gain: float = 0.0,
    ratio_tolerance: float = 0.05,
) -> Decision:
    """Whether a candidate model may replace the active one.

    The candidate is allowed only if all of these hold:

    1. **It ranks better.** Its held-out NDCG@k exceeds the active model's by more than
       ``max(min_gain, z * se)``. When ``active_metrics`` is ``None`` the active model is
       the transparent default and its figures are the candidate's ``reference_*`` ones,
       measured on the same held-out pairs, so ``se`` is the paired standard error
       ``ndcg@k_gain_se``; otherwise ``se`` combines both models' ``ndcg@k_se``.
    2. **It keeps the impact ratio.** No stated group of at least
       :data:`matching.fairness.MIN_AUDIT_PEOPLE` people is *clearly* below
       ``min_impact_ratio``: the upper end of the 90 % bootstrap interval of every such
       group's shortlist impact ratio (``impact_ratio_high_min``,
       :func:`matching.fairness.fairness_metrics`) is at least ``min_impact_ratio``, i.e.
       no group's ratio is below the line at the one-sided 5 % level. Groups whose point
       estimate is below the line but whose interval reaches it are named in the reason
       for review; they do not block. Where the active model is itself clearly below the
       line on the same audit, the candidate passes if its lowest point estimate
       (``impact_ratio_min``) is no more than ``ratio_tolerance`` below the active model's.
       Metrics without intervals are judged on the point estimate ``impact_ratio_min``. A
       missing audit refuses.
    3. **Its labels carry no detected employer bias**: ``employer_label_flags`` is 0 (a
       missing audit refuses).

    Parameters
    ----------
    candidate_metrics : mapping
        The candidate's ``metadata.json`` metrics.
    active_metrics : mapping, optional
        The active model's metrics; ``None`` when the default scorer is active.
    min_impact_ratio : float, default 0.8
    k : int, default 10
    z : float, default 1.96
        How many standard errors the gain must clear (two-sided 95 %).
    min_gain : float, default 0.0
    ratio_tolerance : float, default 0.05

    Returns
    -------
    Decision

    Examples
    --------
    >>> candidate = {"ndcg@10": 0.40, "ndcg@10_gain_se": 0.01, "reference_ndcg@10": 0.30,
    ...              "impact_ratio_min": 0.9, "reference_impact_ratio_min": 0.85,
    ...              "employer_label_flags": 0}
    >>> promotion_decision(candidate).allowed
    True
    >>> promotion_decision({**candidate, "employer_label_flags": 2}).allowed
    False
    """
    key = f"ndcg@{k}"
    reasons: list[str] = []
    allowed = True
    cand_ndcg = _number(candidate_metrics, key)
    if active_metrics is None:
        active_ndcg = _number(candidate_metrics, f"reference_{key}")
        se = _number(candidate_metrics, f"{key}_gain_se") or 0.0
        against = "the default scorer"
    else:
        active_ndcg = _number(active_metrics, key)
        se_c = _number(candidate_metrics, f"{key}_se") or 0.0
        se_a = _number(active_metrics, f"{key}_se") or 0.0
        se = math.hypot(se_c, se_a)
        against = "the active model"
    if cand_ndcg is None or active_ndcg is None:
        allowed = False
        reasons.append(f"refused: held-out {key.upper()} is missing for the candidate or for "
                       f"{against}")
    else:
        gain, needed = cand_ndcg - active_ndcg, max(min_gain, z * se)
        if gain > needed:
            reasons.append(f"passed: {key.upper()} {cand_ndcg:.4f} beats {against} "
                           f"({active_ndcg:.4f}) by {gain:+.4f} (needed > {needed:.4f})")
        else:
            allowed = False
            reasons.append(f"refused: {key.upper()} {cand_ndcg:.4f} does not beat {against} "
                           f"({active_ndcg:.4f}) by more than {needed:.4f} "
                           f"(gain {gain:+.4f}; {z:g} standard errors)")
    ok, reason = _impact_check(candidate_metrics, active_metrics, min_impact_ratio,
                               ratio_tolerance)
    allowed = allowed and ok
    reasons.append(reason)
    flags = candidate_metrics.get("employer_label_flags")
    if flags is None:
        allowed = False
        reasons.append("refused: no employer-level label audit recorded")
    elif int(flags) > 0:
        allowed = False
        employers = ", ".join(map(str, candidate_metrics.get("flagged_employers") or []))
        reasons.append(f"refused: the training labels carry a group disparity at "
                       f"{int(flags)} employer decision cell(s) ({employers}); review those "
                       "outcomes before promoting a model learned from them")
    else:
        reasons.append("passed: no employer-level label disparity detected")
    return Decision(allowed=allowed, reasons=reasons)
