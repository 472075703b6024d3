"""Door-to-door commute minutes by mode, and the commute limit of §140 (4) SGB III.

Two tiers, in rising order of realism (see ``docs/COMMUTE.md``):

1. an estimate from the great-circle distance, a detour factor, a speed and fixed
   access and waiting minutes per mode (:class:`CommuteParameters`);
2. a travel-time matrix imported from a routing engine (:class:`TravelTimeMatrix`), whose
   value replaces the estimate wherever it has one for the origin zone, destination zone
   and mode.

Everything works on NumPy arrays and broadcasts, so one participant is compared with all
vacancies (or one vacancy with all participants) without a Python loop over pairs.
"""

from __future__ import annotations

import dataclasses
import io
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from matching.errors import DataFileError, InvalidInputError
from matching.schema import MODES

__all__ = [
    "EARTH_RADIUS_KM",
    "MATRIX_COLUMNS",
    "SECTION_140_LIMIT_LONG",
    "SECTION_140_LIMIT_SHORT",
    "SECTION_140_SHORT_DAY_HOURS",
    "CommuteModel",
    "CommuteParameters",
    "ModeParameters",
    "TravelTimeMatrix",
    "commute_limit",
    "daily_hours",
    "haversine_km",
    "section_140_limit",
]

EARTH_RADIUS_KM: Final = 6371.0088
"""Mean Earth radius (IUGG), km."""

SECTION_140_LIMIT_LONG: Final[float] = 75.0
"""One-way limit for more than 6 h of work a day: 2.5 h round trip / 2."""
SECTION_140_LIMIT_SHORT: Final[float] = 60.0
"""One-way limit for 6 h of work a day or less: 2 h round trip / 2."""
SECTION_140_SHORT_DAY_HOURS: Final[float] = 6.0
_HOURS_TOLERANCE: Final = 1e-9  # 6.000000000001 h from float division still counts as 6 h

MATRIX_COLUMNS: Final = ("origin_zone", "destination_zone", "mode", "minutes")


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Great-circle distance in km between points in decimal degrees (broadcast).

    Examples
    --------
    >>> round(float(haversine_km(52.0, 8.5, 52.0, 8.6)), 3)
    6.846
    """
    phi1 = np.radians(np.asarray(lat1, dtype=np.float64))
    phi2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dphi = phi2 - phi1
    dlambda = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a = np.sin(dphi / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlambda / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True)
class ModeParameters:
    """Parameters of the distance estimate for one mode.

    Parameters
    ----------
    speed_kmh : float
        Average speed along the route, km/h (> 0).
    detour_factor : float
        Route length over straight-line distance (>= 1).
    access_minutes : float
        Fixed minutes for getting to and from the vehicle or stop (>= 0).
    wait_minutes : float, default 0.0
        Average waiting minutes (>= 0).
    """

    speed_kmh: float
    detour_factor: float
    access_minutes: float
    wait_minutes: float = 0.0

    def __post_init__(self) -> None:
        checks = (
            ("speed_kmh", self.speed_kmh, lambda v: v > 0, "must be > 0"),
            ("detour_factor", self.detour_factor, lambda v: v >= 1, "must be >= 1"),
            ("access_minutes", self.access_minutes, lambda v: v >= 0, "must be >= 0"),
            ("wait_minutes", self.wait_minutes, lambda v: v >= 0, "must be >= 0"),
        )
        for name, value, ok, rule in checks:
            if not isinstance(value, numbers.Real) or not np.isfinite(value) or not ok(value):
                raise InvalidInputError(f"{name} {value!r} {rule} and finite", field=name)

    def minutes(self, distance_km: Any) -> np.ndarray:
        """Door-to-door minutes for straight-line distances (float32)."""
        distance = np.asarray(distance_km, dtype=np.float64)
        travel = self.detour_factor * distance / self.speed_kmh * 60.0
        return (self.access_minutes + self.wait_minutes + travel).astype(np.float32)


@dataclass(frozen=True)
class CommuteParameters:
    """Distance-estimate parameters for every mode; defaults and reasons in docs/COMMUTE.md.

    Use :func:`dataclasses.replace` or :meth:`from_mapping` to configure.
    """

    walk: ModeParameters = field(default_factory=lambda: ModeParameters(4.5, 1.3, 0.0))
    bike: ModeParameters = field(default_factory=lambda: ModeParameters(15.0, 1.25, 2.0))
    transit: ModeParameters = field(default_factory=lambda: ModeParameters(20.0, 1.3, 8.0, 5.0))
    car: ModeParameters = field(default_factory=lambda: ModeParameters(30.0, 1.3, 4.0))

    def for_mode(self, mode: str) -> ModeParameters:
        """Return the parameters of ``mode`` (one of walk, bike, transit, car)."""
        if mode not in MODES:
            raise InvalidInputError(
                f"unknown mode {mode!r}; expected one of {', '.join(MODES)}", field="mode"
            )
        return getattr(self, mode)

    def minutes(self, distance_km: Any, mode: str) -> np.ndarray:
        """``access + wait + detour * distance / speed * 60`` for ``mode`` (float32)."""
        return self.for_mode(mode).minutes(distance_km)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Mapping[str, float]]) -> CommuteParameters:
        """Build parameters from ``{"transit": {"wait_minutes": 7.5}, ...}``.

        Modes and fields not named keep their defaults.
        """
        default = cls()
        changes: dict[str, ModeParameters] = {}
        names = {f.name for f in dataclasses.fields(ModeParameters)}
        for mode, values in config.items():
            base = default.for_mode(mode)
            unknown = set(values) - names
            if unknown:
                raise InvalidInputError(
                    f"unknown parameter(s) {sorted(unknown)} for mode {mode!r}; "
                    f"expected {sorted(names)}",
                    field=mode,
                )
            changes[mode] = dataclasses.replace(base, **values)
        return dataclasses.replace(default, **changes)


def _zone_key(zone: str) -> str:
    """Matching key of a zone name: case- and surrounding-space-insensitive."""
    return zone.strip().casefold()


class TravelTimeMatrix:
    """Imported origin-zone by destination-zone minutes per mode.

    Zones are postcodes (five digits) or quarter names, as :class:`matching.geo.Location`
    gives them; names match ignoring case. The matrix is directional: a value for A to B
    says nothing about B to A.

    Attributes
    ----------
    zones : tuple of str
        All zones, sorted; a zone's code is its position.
    """

    def __init__(self, zones: Sequence[str], tables: Mapping[str, np.ndarray]) -> None:
        self.zones: tuple[str, ...] = tuple(zones)
        self._index = pd.Index([_zone_key(z) for z in self.zones])
        if self._index.has_duplicates:
            raise InvalidInputError(
                "travel-time matrix zones must be unique ignoring case", field="zones"
            )
        n = len(self.zones)
        self._tables: dict[str, np.ndarray] = {}
        for mode in MODES:
            table = tables.get(mode)
            if table is None:
                table = np.full((n, n), np.nan, dtype=np.float32)
            table = np.asarray(table, dtype=np.float32)
            if table.shape != (n, n):
                raise InvalidInputError(
                    f"table for {mode!r} has shape {table.shape}, expected {(n, n)}", field=mode
                )
            self._tables[mode] = table

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> TravelTimeMatrix:
        """Build from a frame with columns origin_zone, destination_zone, mode, minutes.

        Row numbers in errors are file lines (the header is line 1).
        """
        missing = [c for c in MATRIX_COLUMNS if c not in frame.columns]
        if missing:
            raise InvalidInputError(
                f"travel-time matrix lacks column(s) {', '.join(missing)}; "
                f"expected {', '.join(MATRIX_COLUMNS)}",
                field=missing[0],
            )
        lines = np.arange(len(frame)) + 2
        text = {c: frame[c].astype("string").str.strip() for c in MATRIX_COLUMNS}
        for column in ("origin_zone", "destination_zone", "mode"):
            bad = (text[column].isna() | (text[column] == "")).to_numpy()
            if bad.any():
                line = int(lines[bad.argmax()])
                raise InvalidInputError(
                    f"travel-time matrix line {line}, column {column}: value is empty",
                    field=column,
                )
        mode = text["mode"].str.lower()
        bad = ~mode.isin(MODES).to_numpy()
        if bad.any():
            i = int(bad.argmax())
            raise InvalidInputError(
                f"travel-time matrix line {lines[i]}, column mode: unknown mode "
                f"{text['mode'].iloc[i]!r}; expected one of {', '.join(MODES)}",
                field="mode",
            )
        minutes = pd.to_numeric(text["minutes"], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(minutes) | (minutes < 0)
        if bad.any():
            i = int(bad.argmax())
            raise InvalidInputError(
                f"travel-time matrix line {lines[i]}, column minutes: "
                f"{frame['minutes'].iloc[i]!r} is not a finite number of minutes >= 0",
                field="minutes",
            )
        origin = text["origin_zone"].to_numpy(dtype=object)
        destination = text["destination_zone"].to_numpy(dtype=object)
        keys = pd.DataFrame(
            {
                "o": [_zone_key(z) for z in origin],
                "d": [_zone_key(z) for z in destination],
                "m": mode.to_numpy(dtype=object),
            }
        )
        duplicated = keys.duplicated(keep="first").to_numpy()
        if duplicated.any():
            i = int(duplicated.argmax())
            first = int(lines[(keys.iloc[:i] == keys.iloc[i]).all(axis=1).to_numpy().argmax()])
            raise InvalidInputError(
                f"travel-time matrix line {lines[i]}: {origin[i]} -> {destination[i]} by "
                f"{keys['m'].iloc[i]} repeats line {first}",
                field="origin_zone",
            )
        origin_key = np.array([_zone_key(z) for z in origin], dtype=object)
        destination_key = np.array([_zone_key(z) for z in destination], dtype=object)
        first_spelling = dict(zip(np.concatenate([destination_key, origin_key])[::-1],
                                  np.concatenate([destination, origin])[::-1], strict=True))
        keys_sorted = sorted(first_spelling)
        zones = tuple(first_spelling[k] for k in keys_sorted)
        index = pd.Index(keys_sorted)
        o_code = index.get_indexer(origin_key)
        d_code = index.get_indexer(destination_key)
        tables: dict[str, np.ndarray] = {}
        for m in MODES:
            rows = (keys["m"] == m).to_numpy()
            table = np.full((len(zones), len(zones)), np.nan, dtype=np.float32)
            table[o_code[rows], d_code[rows]] = minutes[rows]
            tables[m] = table
        return cls(zones, tables)

    @classmethod
    def from_csv(cls, path_or_buffer: str | os.PathLike[str] | io.IOBase) -> TravelTimeMatrix:
        """Read ``origin_zone,destination_zone,mode,minutes`` CSV (zones kept as text).

        Raises
        ------
        DataFileError
            The file cannot be read.
        InvalidInputError
            A missing column, empty zone, unknown mode, negative or non-numeric minutes or a
            repeated (origin, destination, mode), naming the file line and column.
        """
        try:
            frame = pd.read_csv(path_or_buffer, dtype=str, keep_default_na=False)
        except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise DataFileError(f"cannot read travel-time matrix: {exc}") from exc
        except pd.errors.EmptyDataError as exc:
            raise InvalidInputError(
                f"travel-time matrix is empty; expected columns {', '.join(MATRIX_COLUMNS)}",
                field="origin_zone",
            ) from exc
        return cls.from_frame(frame)

    def codes(self, zones: Sequence[str | None] | np.ndarray) -> np.ndarray:
        """Positions of ``zones`` in :attr:`zones` (int32), -1 where absent or None."""
        array = np.asarray(zones, dtype=object)
        keys = np.array(
            [_zone_key(z) if isinstance(z, str) else None for z in array.ravel()], dtype=object
        )
        result = self._index.get_indexer(keys).astype(np.int32)
        return result.reshape(array.shape)

    def table(self, mode: str) -> np.ndarray:
        """``(n_zones, n_zones)`` minutes for ``mode`` (float32, NaN where no value)."""
        if mode not in MODES:
            raise InvalidInputError(
                f"unknown mode {mode!r}; expected one of {', '.join(MODES)}", field="mode"
            )
        return self._tables[mode]


class CommuteModel:
    """Commute minutes: the matrix value where there is one, else the distance estimate.

    Parameters
    ----------
    parameters : CommuteParameters, optional
        Distance-estimate parameters (defaults documented in docs/COMMUTE.md).
    matrix : TravelTimeMatrix, optional
        Imported travel times that override the estimate.
    """

    def __init__(
        self,
        parameters: CommuteParameters | None = None,
        matrix: TravelTimeMatrix | None = None,
    ) -> None:
        self.parameters = parameters if parameters is not None else CommuteParameters()
        self.matrix = matrix

    def zone_codes(self, zones: Sequence[str | None] | np.ndarray) -> np.ndarray:
        """Matrix codes of ``zones`` (int32); all -1 without a matrix."""
        if self.matrix is None:
            return np.full(np.shape(np.asarray(zones, dtype=object)), -1, dtype=np.int32)
        return self.matrix.codes(zones)

    def minutes(
        self,
        origin_lat: Any,
        origin_lon: Any,
        origin_zone_code: Any,
        dest_lat: Any,
        dest_lon: Any,
        dest_zone_code: Any,
        mode: str,
    ) -> np.ndarray:
        """One-way door-to-door minutes by ``mode`` (float32, broadcast).

        NaN coordinates give NaN minutes unless the matrix has a value for the pair.
        """
        parameters = self.parameters.for_mode(mode)
        distance = haversine_km(origin_lat, origin_lon, dest_lat, dest_lon)
        estimate = parameters.minutes(distance)
        if self.matrix is None or not self.matrix.zones:
            return estimate
        table = self.matrix.table(mode)
        origin = np.asarray(origin_zone_code, dtype=np.int64)
        dest = np.asarray(dest_zone_code, dtype=np.int64)
        known = (origin >= 0) & (dest >= 0)
        looked_up = table[np.where(known, origin, 0), np.where(known, dest, 0)]
        use = known & ~np.isnan(looked_up)
        return np.where(use, looked_up, estimate).astype(np.float32)


def daily_hours(hours_per_week: Any, days_per_week: Any) -> np.ndarray:
    """Working hours per day, ``hours_per_week / days_per_week`` (broadcast, float64).

    Raises
    ------
    InvalidInputError
        ``hours_per_week`` not in (0, 168] or ``days_per_week`` not in (0, 7], naming the
        first offending value.
    """
    hours = np.asarray(hours_per_week, dtype=np.float64)
    days = np.asarray(days_per_week, dtype=np.float64)
    for name, values, upper in (("hours_per_week", hours, 168.0), ("days_per_week", days, 7.0)):
        bad = ~((values > 0) & (values <= upper))
        if bad.any():
            value = values.ravel()[int(bad.ravel().argmax())]
            raise InvalidInputError(
                f"{name} must be > 0 and <= {upper:g}, got {value:g}", field=name
            )
    return hours / days


def section_140_limit(daily_hours: Any) -> np.ndarray:
    """One-way commute cap of §140 (4) SGB III in minutes (float32, broadcast).

    75 minutes (2.5 h round trip) for more than 6 h of work a day, 60 minutes (2 h) for
    6 h or less.

    Examples
    --------
    >>> section_140_limit([6.0, 6.1, 8.0]).tolist()
    [60.0, 75.0, 75.0]
    """
    hours = np.asarray(daily_hours, dtype=np.float64)
    long_day = hours > SECTION_140_SHORT_DAY_HOURS + _HOURS_TOLERANCE
    return np.where(long_day, SECTION_140_LIMIT_LONG, SECTION_140_LIMIT_SHORT).astype(np.float32)


def commute_limit(participant_max: Any, daily_hours: Any) -> np.ndarray:
    """The participant's own one-way limit, capped by §140 (float32, broadcast).

    Parameters
    ----------
    participant_max : array_like of float
        The participant's own limit in minutes; NaN where none is set.
    daily_hours : array_like of float
        Hours of work per day of the vacancy (:func:`daily_hours`).

    Raises
    ------
    InvalidInputError
        A negative own limit.
    """
    own = np.asarray(participant_max, dtype=np.float64)
    if (own < 0).any():
        value = own.ravel()[int((own < 0).ravel().argmax())]
        raise InvalidInputError(
            f"max_commute_minutes must be >= 0, got {value:g}", field="max_commute_minutes"
        )
    return np.fmin(own, section_140_limit(daily_hours)).astype(np.float32)
