"""Place participants and vacancies: postcodes, Bielefeld districts and quarters, coordinates.

The shipped data (``matching/data/geo``, sources and rules in its ``PROVENANCE.md``) holds

* ``postcodes.csv.gz``: one point per German five-digit postcode, the postcode-area
  centroid where the opendatasoft-derived table has one (better inside cities), else the
  mean of the GeoNames points of that postcode;
* ``bielefeld_quarters.csv``: Bielefeld's 10 Stadtbezirke (districts) and their
  Stadtteile (quarters) with a point, where that point comes from and the postcodes
  attributed to each;
* ``bielefeld_postcode_areas.csv``: for each Bielefeld delivery postcode, the named
  district or quarter it is attributed to.

A :class:`Location` carries a *zone*, the key under which an imported travel-time matrix
(:class:`matching.commute.TravelTimeMatrix`) stores minutes: the postcode, or the quarter
name when only a quarter was given.
"""

from __future__ import annotations

import math
import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from matching.errors import DataFileError, InvalidLocationError

__all__ = ["DATA_DIRECTORY", "Geocoder", "Location"]

DATA_DIRECTORY: Final = Path(__file__).resolve().parent / "data" / "geo"
POSTCODES_FILE: Final = "postcodes.csv.gz"
QUARTERS_FILE: Final = "bielefeld_quarters.csv"
AREAS_FILE: Final = "bielefeld_postcode_areas.csv"

_UMLAUTS: Final = str.maketrans({"ä": "a", "ö": "o", "ü": "u"})
_DIGRAPHS: Final = (("ae", "a"), ("oe", "o"), ("ue", "u"))
_CITY_PREFIX: Final = "bielefeld"
#: Up to this many rows, :meth:`Geocoder.locate_many` places them one at a time.
_FEW_ROWS: Final = 8


@dataclass(frozen=True)
class Location:
    """A point with the zone it falls in.

    Attributes
    ----------
    lat, lon : float
        Decimal degrees (WGS 84).
    zone : str or None
        Postcode (five digits) or quarter name the location falls in; ``None`` for raw
        coordinates given without a postcode or quarter.
    source : str
        ``"postcode"``, ``"quarter"`` or ``"coordinates"``: what placed the point.
    """

    lat: float
    lon: float
    zone: str | None
    source: str


def _name_key(name: str) -> str:
    """Case-, umlaut-, accent- and punctuation-insensitive key of a place name.

    ``"Jöllenbeck"``, ``"joellenbeck"`` and ``"JOLLENBECK"`` share a key, as do
    ``"Lämershagen-Gräfinghagen"`` and ``"laemershagen grafinghagen"``.
    """
    text = unicodedata.normalize("NFC", name).casefold().translate(_UMLAUTS)
    for digraph, vowel in _DIGRAPHS:
        text = text.replace(digraph, vowel)
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if ch.isalnum())


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, str) and value.strip() == ""


def _postcode_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else str(value)


class Geocoder:
    """Locate postcodes, Bielefeld districts and quarters, and coordinates.

    Use :meth:`load` to read the shipped data.

    Parameters
    ----------
    postcodes : pandas.DataFrame
        Columns ``postcode`` (five-digit text), ``lat``, ``lon``.
    quarters : pandas.DataFrame
        Columns ``name``, ``kind`` (district or quarter), ``district``, ``lat``, ``lon``,
        ``point_source`` and ``postcodes`` (``|``-separated).
    areas : pandas.DataFrame
        Columns ``postcode``, ``area``, ``district``.

    Examples
    --------
    >>> geocoder = Geocoder.load()
    >>> geocoder.locate(postcode="33609").zone
    '33609'
    >>> geocoder.locate(quarter="baumheide").zone
    'Baumheide'
    """

    def __init__(self, postcodes: pd.DataFrame, quarters: pd.DataFrame, areas: pd.DataFrame):
        self._postcodes = pd.Index(postcodes["postcode"].astype(str))
        self._postcode_lat = postcodes["lat"].to_numpy(dtype=np.float64)
        self._postcode_lon = postcodes["lon"].to_numpy(dtype=np.float64)
        table = quarters.copy()
        table["postcodes"] = [
            [] if _is_missing(v) else str(v).split("|") for v in table["postcodes"]
        ]
        self._quarters = table.reset_index(drop=True)
        # Districts win over quarters of the same name ("Heepen", "Stieghorst", ...).
        order = np.argsort(table["kind"].to_numpy() == "district", kind="stable")
        self._by_key: dict[str, int] = {}
        for i in order:
            self._by_key[_name_key(table.at[i, "name"])] = int(i)
        self._areas = dict(zip(areas["postcode"].astype(str), areas["area"], strict=True))

    @classmethod
    def load(cls, directory: str | os.PathLike[str] | None = None) -> Geocoder:
        """Read the geodata files from ``directory`` (the shipped data by default)."""
        folder = Path(directory) if directory is not None else DATA_DIRECTORY
        try:
            postcodes = pd.read_csv(
                folder / POSTCODES_FILE, dtype={"postcode": str, "source": str},
                usecols=["postcode", "lat", "lon"],
            )
            quarters = pd.read_csv(folder / QUARTERS_FILE, dtype={"postcodes": str})
            areas = pd.read_csv(folder / AREAS_FILE, dtype=str)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise DataFileError(f"cannot read geodata in {folder}: {exc}") from exc
        needed = {"name", "kind", "district", "lat", "lon", "point_source", "postcodes"}
        if not needed <= set(quarters.columns) or not {"postcode", "area"} <= set(areas.columns):
            raise DataFileError(f"geodata in {folder} lacks required columns")
        return cls(postcodes, quarters, areas)

    # -- single lookups -------------------------------------------------------------------

    def _postcode_position(self, value: Any, field: str = "postcode") -> int:
        text = _postcode_text(value)
        if len(text) != 5 or not text.isascii() or not text.isdigit():
            raise InvalidLocationError(
                f"postcode '{text}' is not a five-digit German postcode", field=field
            )
        position = self._postcodes.get_indexer([text])[0]
        if position < 0:
            raise InvalidLocationError(f"postcode '{text}' is unknown", field=field)
        return int(position)

    def _quarter_row(self, name: Any, field: str = "quarter") -> int:
        if not isinstance(name, str):
            raise InvalidLocationError(f"quarter {name!r} is not a name", field=field)
        key = _name_key(name)
        row = self._by_key.get(key)
        if row is None and key.startswith(_CITY_PREFIX):
            row = self._by_key.get(key[len(_CITY_PREFIX):])
        if row is None:
            raise InvalidLocationError(
                f"quarter '{name}' is not a Bielefeld district or quarter", field=field
            )
        return row

    def locate(
        self,
        *,
        postcode: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        quarter: str | None = None,
    ) -> Location:
        """Place one location.

        Coordinates win when given (both, lat in [-90, 90], lon in [-180, 180]); a postcode
        or quarter given with them only names the zone. Otherwise the postcode (five
        digits, known), otherwise the quarter (a Bielefeld district or quarter name, case-
        and umlaut-insensitive).

        Raises
        ------
        InvalidLocationError
            Nothing given, only one coordinate, a coordinate out of range, a malformed or
            unknown postcode, or an unknown quarter; the message names the value.
        """
        lat = None if _is_missing(lat) else lat
        lon = None if _is_missing(lon) else lon
        postcode = None if _is_missing(postcode) else postcode
        quarter = None if _is_missing(quarter) else quarter
        zone: str | None = None
        if postcode is not None:
            position = self._postcode_position(postcode)
            zone = str(self._postcodes[position])
        elif quarter is not None:
            row = self._quarter_row(quarter)
            zone = str(self._quarters.at[row, "name"])
        if lat is not None or lon is not None:
            lat_value, lon_value = self._coordinates(lat, lon)
            return Location(lat_value, lon_value, zone, "coordinates")
        if postcode is not None:
            return Location(
                float(self._postcode_lat[position]), float(self._postcode_lon[position]),
                zone, "postcode",
            )
        if quarter is not None:
            return Location(
                float(self._quarters.at[row, "lat"]), float(self._quarters.at[row, "lon"]),
                zone, "quarter",
            )
        raise InvalidLocationError(
            "no location given: expected a postcode, lat and lon, or a quarter", field="postcode"
        )

    @staticmethod
    def _coordinates(lat: Any, lon: Any) -> tuple[float, float]:
        if lat is None or lon is None:
            missing = "lat" if lat is None else "lon"
            raise InvalidLocationError(
                f"{missing} is missing: give both lat and lon or neither", field=missing
            )
        try:
            lat_value, lon_value = float(lat), float(lon)
        except (TypeError, ValueError) as exc:
            raise InvalidLocationError(
                f"coordinates ({lat!r}, {lon!r}) are not numbers", field="lat"
            ) from exc
        if not -90.0 <= lat_value <= 90.0:
            raise InvalidLocationError(f"lat {lat_value} is outside [-90, 90]", field="lat")
        if not -180.0 <= lon_value <= 180.0:
            raise InvalidLocationError(f"lon {lon_value} is outside [-180, 180]", field="lon")
        return lat_value, lon_value

    # -- many rows ------------------------------------------------------------------------

    def locate_many(
        self,
        postcodes: Sequence[Any] | np.ndarray | None,
        lats: Sequence[Any] | np.ndarray | None,
        lons: Sequence[Any] | np.ndarray | None,
        quarters: Sequence[Any] | np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Place many rows at once, with the same rules as :meth:`locate`.

        Parameters
        ----------
        postcodes, lats, lons, quarters : array_like or None
            Columns of equal length; ``None`` for a column that is absent. Missing values
            are ``None``, NaN or empty strings.

        Returns
        -------
        lat, lon : ndarray of float64
        zone : ndarray of object
            Postcode or quarter name; ``None`` for coordinates given alone.

        Raises
        ------
        InvalidLocationError
            Naming the first bad row (0-based index) and its value.
        """
        columns = [c for c in (postcodes, lats, lons, quarters) if c is not None]
        n = len(columns[0]) if columns else 0
        if any(len(c) != n for c in columns):
            raise InvalidLocationError(
                "postcodes, lats, lons and quarters must have the same length", field="postcode"
            )
        if 0 < n <= _FEW_ROWS:
            return self._locate_few(n, postcodes, lats, lons, quarters)

        def floats(values: Any, name: str) -> np.ndarray:
            if values is None:
                return np.full(n, np.nan)
            try:
                return pd.to_numeric(pd.Series(values, dtype=object), errors="raise").to_numpy(
                    dtype=np.float64, na_value=np.nan
                )
            except (TypeError, ValueError) as exc:
                raise InvalidLocationError(f"{name} holds a value that is not a number: {exc}",
                                           field=name) from exc

        lat = floats(lats, "lat")
        lon = floats(lons, "lon")
        has_lat, has_lon = ~np.isnan(lat), ~np.isnan(lon)
        half = has_lat != has_lon
        if half.any():
            i = int(half.argmax())
            missing = "lon" if has_lat[i] else "lat"
            raise InvalidLocationError(
                f"row {i}: {missing} is missing: give both lat and lon or neither", field=missing
            )
        bad = has_lat & ~((lat >= -90) & (lat <= 90))
        if bad.any():
            i = int(bad.argmax())
            raise InvalidLocationError(f"row {i}: lat {lat[i]} is outside [-90, 90]", field="lat")
        bad = has_lon & ~((lon >= -180) & (lon <= 180))
        if bad.any():
            i = int(bad.argmax())
            raise InvalidLocationError(
                f"row {i}: lon {lon[i]} is outside [-180, 180]", field="lon"
            )

        zone = np.full(n, None, dtype=object)
        out_lat, out_lon = lat.copy(), lon.copy()
        from_coordinates = has_lat
        has_postcode = np.zeros(n, dtype=bool)
        if postcodes is not None:
            raw = pd.Series(postcodes, dtype=object)
            has_postcode = ~raw.map(_is_missing).to_numpy(dtype=bool)
            text = raw[has_postcode].map(_postcode_text).astype(str)
            malformed = ~text.str.fullmatch(r"[0-9]{5}").to_numpy(dtype=bool)
            if malformed.any():
                i = int(text.index[malformed.argmax()])
                raise InvalidLocationError(
                    f"row {i}: postcode '{text.loc[i]}' is not a five-digit German postcode",
                    field="postcode",
                )
            positions = self._postcodes.get_indexer(text.to_numpy())
            unknown = positions < 0
            if unknown.any():
                i = int(text.index[unknown.argmax()])
                raise InvalidLocationError(
                    f"row {i}: postcode '{text.loc[i]}' is unknown", field="postcode"
                )
            rows = np.flatnonzero(has_postcode)
            zone[rows] = text.to_numpy(dtype=object)
            use = ~from_coordinates[rows]
            out_lat[rows[use]] = self._postcode_lat[positions[use]]
            out_lon[rows[use]] = self._postcode_lon[positions[use]]
        placed = from_coordinates | has_postcode
        if quarters is not None:
            raw = pd.Series(quarters, dtype=object)
            has_quarter = ~raw.map(_is_missing).to_numpy(dtype=bool) & ~has_postcode
            rows = np.flatnonzero(has_quarter)
            inverse, names = pd.factorize(raw.iloc[rows], sort=False)
            distinct = np.empty(len(names), dtype=np.int64)
            for k, name in enumerate(names):  # a loop over distinct names, not over rows
                try:
                    distinct[k] = self._quarter_row(name)
                except InvalidLocationError as exc:
                    i = int(rows[int(np.flatnonzero(inverse == k)[0])])
                    raise InvalidLocationError(f"row {i}: {exc}", field="quarter") from exc
            quarter_rows = distinct[inverse]
            if rows.size:
                zone[rows] = self._quarters["name"].to_numpy(dtype=object)[quarter_rows]
                use = ~from_coordinates[rows]
                out_lat[rows[use]] = self._quarters["lat"].to_numpy()[quarter_rows[use]]
                out_lon[rows[use]] = self._quarters["lon"].to_numpy()[quarter_rows[use]]
            placed = placed | has_quarter
        if not placed.all():
            i = int((~placed).argmax())
            raise InvalidLocationError(
                f"row {i}: no location given: expected a postcode, lat and lon, or a quarter",
                field="postcode",
            )
        return out_lat, out_lon, zone

    def _locate_few(
        self, n: int, postcodes: Any, lats: Any, lons: Any, quarters: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`locate_many` for a handful of rows (one changed participant or vacancy):
        a loop over :meth:`locate`, which applies the same rules without the per-call
        cost of building Series (about 4 ms a call against 0.3 ms a row)."""
        out_lat, out_lon = np.empty(n), np.empty(n)
        zone = np.full(n, None, dtype=object)

        def value(column: Any, i: int) -> Any:
            if column is None:
                return None
            item = column[i]
            if _is_missing(item) or (isinstance(item, np.floating) and np.isnan(item)):
                return None
            return item

        for i in range(n):
            try:
                place = self.locate(postcode=value(postcodes, i), lat=value(lats, i),
                                    lon=value(lons, i), quarter=value(quarters, i))  # fmt: skip
            except InvalidLocationError as exc:
                raise InvalidLocationError(f"row {i}: {exc}", field=exc.field) from exc
            out_lat[i], out_lon[i], zone[i] = place.lat, place.lon, place.zone
        return out_lat, out_lon, zone

    # -- Bielefeld districts and quarters -------------------------------------------------

    def quarters(self) -> pd.DataFrame:
        """Bielefeld's districts and quarters.

        Returns
        -------
        pandas.DataFrame
            Columns ``name``, ``kind`` (``"district"`` or ``"quarter"``), ``district``,
            ``lat``, ``lon``, ``point_source`` (``label_point``, ``stadtteil_point``,
            ``postcode_mean`` or ``district_point``) and ``postcodes`` (list of str).
        """
        frame = self._quarters.copy()
        frame["postcodes"] = [list(v) for v in frame["postcodes"]]
        return frame

    def postcodes_of_quarter(self, name: str) -> list[str]:
        """Postcodes attributed to a district or quarter (case/umlaut-insensitive name)."""
        return list(self._quarters.at[self._quarter_row(name), "postcodes"])

    def quarter_of_postcode(self, postcode: str) -> str | None:
        """The Bielefeld district, or where known the quarter, a postcode is attributed to.

        ``None`` for a postcode outside Bielefeld's delivery postcodes.

        Raises
        ------
        InvalidLocationError
            A postcode that is not five digits.
        """
        text = _postcode_text(postcode)
        if len(text) != 5 or not text.isascii() or not text.isdigit():
            raise InvalidLocationError(
                f"postcode '{text}' is not a five-digit German postcode", field="postcode"
            )
        return self._areas.get(text)
