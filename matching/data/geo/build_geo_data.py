"""Rebuild the compact geodata files in this folder from ``../shared/data``.

Run from the repository root: ``python matching/data/geo/build_geo_data.py``. The rules
that turn the sources into these files are described in ``PROVENANCE.md`` next to it.
"""

from __future__ import annotations

import gzip
import io
import math
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2] / ".." / "shared" / "data"


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(
        math.radians(lon2 - lon1) / 2
    ) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def build_postcodes() -> pd.DataFrame:
    centroids = pd.read_csv(
        SHARED / "plz-de-centroids-opendatasoft" / "plz_centroids.csv.gz", dtype={"plz": str}
    ).rename(columns={"plz": "postcode"})
    centroids["source"] = "centroid"
    geonames = pd.read_csv(SHARED / "plz-de-geonames" / "zipcodes.de.csv.gz", dtype=str)
    geonames["lat"] = geonames["latitude"].astype(float)
    geonames["lon"] = geonames["longitude"].astype(float)
    extra = (
        geonames[~geonames["zipcode"].isin(centroids["postcode"])]
        .groupby("zipcode", as_index=False)[["lat", "lon"]]
        .mean()
        .rename(columns={"zipcode": "postcode"})
    )
    extra["source"] = "geonames"
    table = pd.concat([centroids, extra], ignore_index=True).sort_values("postcode")
    table["lat"] = table["lat"].round(5)
    table["lon"] = table["lon"].round(5)
    assert table["postcode"].str.fullmatch(r"\d{5}").all()
    assert not table["postcode"].duplicated().any()
    return table[["postcode", "lat", "lon", "source"]]


def _split(value: object) -> list[str]:
    return [] if pd.isna(value) or value == "" else str(value).split("|")


def build_quarters(postcodes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = SHARED / "bielefeld-stadtbezirke"
    districts = pd.read_csv(folder / "stadtbezirke.csv", dtype={"plz": str})
    selected = pd.read_csv(folder / "stadtteile_selected.csv", dtype={"plz": str})
    point = postcodes.set_index("postcode")[["lat", "lon"]]
    own = {row.stadtteil: row for row in selected.itertuples()}

    rows: list[dict[str, object]] = []
    district_rows: dict[str, dict[str, object]] = {}
    for d in districts.itertuples():
        codes = set(_split(d.plz))
        for member in _split(d.stadtteile):
            if member in own:
                codes.update(_split(own[member].plz))
        codes_sorted = sorted(codes)
        if pd.notna(d.lat):
            lat, lon, source = float(d.lat), float(d.lon), "label_point"
        else:
            lat = float(point.loc[codes_sorted, "lat"].mean())
            lon = float(point.loc[codes_sorted, "lon"].mean())
            source = "postcode_mean"
        row = {"name": d.bezirk, "kind": "district", "district": d.bezirk, "lat": lat,
               "lon": lon, "point_source": source, "postcodes": codes_sorted}
        rows.append(row)
        district_rows[d.bezirk] = row

    for d in districts.itertuples():
        parent = district_rows[d.bezirk]
        for member in _split(d.stadtteile):
            if member in own:
                o = own[member]
                lat, lon, source = float(o.lat), float(o.lon), "stadtteil_point"
                codes = _split(o.plz)
            elif member == d.bezirk:
                lat, lon, source = parent["lat"], parent["lon"], "district_point"
                codes = parent["postcodes"]
            elif len(parent["postcodes"]) == 1:
                codes = parent["postcodes"]
                lat = float(point.loc[codes, "lat"].mean())
                lon = float(point.loc[codes, "lon"].mean())
                source = "postcode_mean"
            else:
                lat, lon, source = parent["lat"], parent["lon"], "district_point"
                codes = parent["postcodes"]
            rows.append({"name": member, "kind": "quarter", "district": d.bezirk, "lat": lat,
                         "lon": lon, "point_source": source, "postcodes": list(codes)})

    quarters = pd.DataFrame(rows)
    quarters["lat"] = quarters["lat"].round(5)
    quarters["lon"] = quarters["lon"].round(5)

    # Postcode -> named area: among the districts and the Stadtteile with their own point
    # that list the postcode, the one whose point is nearest to the postcode centroid.
    is_named = (quarters["kind"] == "district") | (quarters["point_source"] == "stadtteil_point")
    named = quarters[is_named]
    claims: dict[str, list[tuple[float, str, str]]] = {}
    for q in named.itertuples():
        for code in q.postcodes:
            c = point.loc[code]
            distance = _km(c.lat, c.lon, q.lat, q.lon)
            claims.setdefault(code, []).append((distance, q.name, q.district))
    areas = pd.DataFrame(
        [{"postcode": code, "area": min(c)[1], "district": min(c)[2]}
         for code, c in sorted(claims.items())]
    )
    quarters["postcodes"] = quarters["postcodes"].map("|".join)
    return quarters, areas


def main() -> None:
    postcodes = build_postcodes()
    buffer = io.StringIO()
    postcodes.to_csv(buffer, index=False, lineterminator="\n")
    with gzip.GzipFile(HERE / "postcodes.csv.gz", "wb", mtime=0, compresslevel=9) as out:
        out.write(buffer.getvalue().encode("utf-8"))
    quarters, areas = build_quarters(postcodes)
    quarters.to_csv(HERE / "bielefeld_quarters.csv", index=False, lineterminator="\n")
    areas.to_csv(HERE / "bielefeld_postcode_areas.csv", index=False, lineterminator="\n")
    print(f"{len(postcodes)} postcodes, {len(quarters)} districts and quarters, "
          f"{len(areas)} Bielefeld postcode areas")


if __name__ == "__main__":
    main()
