"""Geocoding by postcode, Bielefeld district or quarter, and coordinates."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import geo
from matching.commute import CommuteModel, TravelTimeMatrix
from matching.errors import DataFileError, InvalidLocationError
from matching.geo import DATA_DIRECTORY, Geocoder, Location

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture(scope="module")
def geocoder() -> Geocoder:
    return Geocoder.load()


def _in_bielefeld(location: Location) -> bool:
    return 51.9 <= location.lat <= 52.1 and 8.4 <= location.lon <= 8.7


def test_load_is_fast() -> None:
    Geocoder.load()  # warm the file cache
    start = time.perf_counter()
    Geocoder.load()
    assert time.perf_counter() - start < 0.2


def test_postcode_centroids_known_values(geocoder: Geocoder) -> None:
    # Values quoted in the source's PROVENANCE.md (postcode-area centroids).
    expected = {"33605": (51.9978, 8.5774), "33609": (52.0427, 8.5780),
                "33689": (51.9439, 8.5886)}
    for postcode, (lat, lon) in expected.items():
        location = geocoder.locate(postcode=postcode)
        assert location == Location(pytest.approx(lat, abs=1e-4), pytest.approx(lon, abs=1e-4),
                                    postcode, "postcode")


def test_postcode_with_leading_zero_and_spaces(geocoder: Geocoder) -> None:
    location = geocoder.locate(postcode=" 01067 ")
    assert location.zone == "01067"
    assert 50.9 < location.lat < 51.2 and 13.6 < location.lon < 13.9  # Dresden


@pytest.mark.parametrize(("postcode", "needle"), [("1234", "'1234'"), ("99999", "'99999'"),
                                                  ("ABCDE", "'ABCDE'"), ("336091", "'336091'")])
def test_invalid_postcode_names_it(geocoder: Geocoder, postcode: str, needle: str) -> None:
    with pytest.raises(InvalidLocationError) as info:
        geocoder.locate(postcode=postcode)
    assert needle in str(info.value)
    assert info.value.field == "postcode"


@pytest.mark.parametrize(
    "name",
    ["Baumheide", "baumheide", "BAUMHEIDE", "Sennestadt", "Stieghorst", "Mitte", "Heepen",
     "Jöllenbeck", "joellenbeck", "Jollenbeck", "Lämershagen-Gräfinghagen",
     "laemershagen graefinghagen", "Großdornberg", "grossdornberg", "Bielefeld-Sennestadt",
     "Schildesche", "Windflöte", "Theesen"],
)
def test_quarters_located_inside_bielefeld(geocoder: Geocoder, name: str) -> None:
    location = geocoder.locate(quarter=name)
    assert location.source == "quarter"
    assert _in_bielefeld(location)


def test_quarter_zone_is_the_canonical_name(geocoder: Geocoder) -> None:
    assert geocoder.locate(quarter="baumheide").zone == "Baumheide"
    assert geocoder.locate(quarter="joellenbeck").zone == "Jöllenbeck"


def test_baumheide_uses_its_own_point(geocoder: Geocoder) -> None:
    location = geocoder.locate(quarter="Baumheide")
    assert (location.lat, location.lon) == (pytest.approx(52.04579), pytest.approx(8.59376))


def test_unknown_quarter_names_it(geocoder: Geocoder) -> None:
    with pytest.raises(InvalidLocationError) as info:
        geocoder.locate(quarter="Kreuzberg")
    assert "'Kreuzberg'" in str(info.value)
    assert info.value.field == "quarter"


def test_coordinates_win_and_keep_the_postcode_as_zone(geocoder: Geocoder) -> None:
    assert geocoder.locate(lat=52.01, lon=8.53) == Location(52.01, 8.53, None, "coordinates")
    location = geocoder.locate(lat=52.01, lon=8.53, postcode="33602", quarter="Baumheide")
    assert location == Location(52.01, 8.53, "33602", "coordinates")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lat": 52.0}, "lon"),
        ({"lon": 8.5}, "lat"),
        ({"lat": 90.5, "lon": 8.5}, "lat"),
        ({"lat": 52.0, "lon": -181.0}, "lon"),
        ({}, "postcode"),
        ({"postcode": "", "quarter": None}, "postcode"),
    ],
)
def test_invalid_coordinates_or_nothing(geocoder: Geocoder, kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidLocationError) as info:
        geocoder.locate(**kwargs)
    assert info.value.field == field


def test_locate_many_mixes_sources(geocoder: Geocoder) -> None:
    lat, lon, zone = geocoder.locate_many(
        postcodes=["33609", None, None, "33689", np.nan],
        lats=[np.nan, 52.0, None, 51.95, np.nan],
        lons=[np.nan, 8.5, None, 8.6, np.nan],
        quarters=[None, None, "stieghorst", None, "Baumheide"],
    )
    assert lat.dtype == np.float64 and lon.dtype == np.float64 and zone.dtype == object
    assert zone.tolist() == ["33609", None, "Stieghorst", "33689", "Baumheide"]
    single = [geocoder.locate(postcode="33609"), geocoder.locate(quarter="Stieghorst"),
              geocoder.locate(quarter="Baumheide")]
    np.testing.assert_allclose(lat[[0, 2, 4]], [s.lat for s in single])
    np.testing.assert_allclose(lon[[0, 2, 4]], [s.lon for s in single])
    assert (lat[1], lon[1], lat[3], lon[3]) == (52.0, 8.5, 51.95, 8.6)


def test_locate_many_accepts_absent_columns(geocoder: Geocoder) -> None:
    lat, _, zone = geocoder.locate_many(["33602", "33615"], None, None, None)
    assert lat.shape == (2,) and zone.tolist() == ["33602", "33615"]


@pytest.mark.parametrize(
    ("columns", "needle", "field"),
    [
        ((["33609", "1234"], None, None, None), "row 1: postcode '1234'", "postcode"),
        ((["33609", "33602", "99999"], None, None, None), "row 2: postcode '99999'", "postcode"),
        ((None, [52.0, 52.0], [8.5, None], None), "row 1: lon", "lon"),
        ((None, [52.0, 95.0], [8.5, 8.5], None), "row 1: lat 95.0", "lat"),
        ((None, None, None, ["Baumheide", "Atlantis"]), "row 1: quarter 'Atlantis'", "quarter"),
        (([None, "33609"], None, None, [None, None]), "row 0: no location", "postcode"),
    ],
)
def test_locate_many_names_the_first_bad_row(geocoder: Geocoder, columns, needle: str,
                                             field: str) -> None:
    with pytest.raises(InvalidLocationError) as info:
        geocoder.locate_many(*columns)
    assert needle in str(info.value)
    assert info.value.field == field


def test_quarters_table(geocoder: Geocoder) -> None:
    table = geocoder.quarters()
    assert {"name", "district", "lat", "lon", "postcodes"} <= set(table.columns)
    districts = table[table["kind"] == "district"]
    assert len(districts) == 10
    assert set(districts["name"]) == {
        "Mitte", "Brackwede", "Dornberg", "Gadderbaum", "Heepen", "Jöllenbeck", "Schildesche",
        "Senne", "Sennestadt", "Stieghorst",
    }
    assert table["lat"].between(51.9, 52.15).all() and table["lon"].between(8.4, 8.7).all()
    assert table.loc[table["name"] == "Baumheide", "district"].item() == "Heepen"
    assert all(isinstance(p, list) and p for p in table["postcodes"])


def test_postcodes_of_quarter(geocoder: Geocoder) -> None:
    assert geocoder.postcodes_of_quarter("Baumheide") == ["33609"]
    assert geocoder.postcodes_of_quarter("stieghorst") == ["33604", "33605", "33699"]
    assert geocoder.postcodes_of_quarter("Sennestadt") == ["33689"]
    with pytest.raises(InvalidLocationError):
        geocoder.postcodes_of_quarter("Nowhere")


def test_quarter_of_postcode(geocoder: Geocoder) -> None:
    assert geocoder.quarter_of_postcode("33609") == "Baumheide"
    assert geocoder.quarter_of_postcode("33605") == "Stieghorst"
    assert geocoder.quarter_of_postcode("33689") == "Sennestadt"
    assert geocoder.quarter_of_postcode("33602") == "Mitte"
    assert geocoder.quarter_of_postcode("10115") is None
    with pytest.raises(InvalidLocationError):
        geocoder.quarter_of_postcode("33 60")


def test_every_bielefeld_postcode_is_attributed(geocoder: Geocoder) -> None:
    listed = {p for ps in geocoder.quarters()["postcodes"] for p in ps}
    for postcode in listed:
        area = geocoder.quarter_of_postcode(postcode)
        assert area is not None
        assert _in_bielefeld(geocoder.locate(postcode=postcode))


def test_zones_feed_the_travel_time_matrix(geocoder: Geocoder) -> None:
    matrix = TravelTimeMatrix.from_csv(io.StringIO(
        "origin_zone,destination_zone,mode,minutes\nBaumheide,33689,transit,41\n"
    ))
    model = CommuteModel(matrix=matrix)
    home = geocoder.locate(quarter="baumheide")
    job = geocoder.locate(postcode="33689")
    minutes = model.minutes(home.lat, home.lon, model.zone_codes(home.zone), job.lat, job.lon,
                            model.zone_codes(job.zone), "transit")
    assert float(minutes) == 41.0


def test_missing_data_directory_is_a_data_file_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError):
        Geocoder.load(tmp_path)


@pytest.mark.shared_data
def test_shipped_postcodes_match_the_shared_sources() -> None:
    source = SHARED / "plz-de-centroids-opendatasoft" / "plz_centroids.csv.gz"
    if not source.exists():
        pytest.skip("../shared/data is absent: cannot compare the shipped postcode centroids")
    centroids = pd.read_csv(source, dtype={"plz": str}).set_index("plz")
    shipped = pd.read_csv(DATA_DIRECTORY / "postcodes.csv.gz", dtype={"postcode": str})
    from_centroids = shipped[shipped["source"] == "centroid"].set_index("postcode")
    assert len(from_centroids) == len(centroids)
    np.testing.assert_allclose(from_centroids["lat"], centroids.loc[from_centroids.index, "lat"],
                               atol=1e-5)
    geonames = pd.read_csv(SHARED / "plz-de-geonames" / "zipcodes.de.csv.gz", dtype=str)
    assert set(shipped["postcode"]) == set(centroids.index) | set(geonames["zipcode"])


_POSTCODES = st.sampled_from([None, np.nan, "", "33609", " 33602 ", 33719, "1234", "99999"])
_COORDS = st.sampled_from([None, np.nan, 52.0, 51.95, 95.0, "52.01", "x"])
_QUARTERS = st.sampled_from([None, "", "Baumheide", "stieghorst", "Atlantis"])


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(_POSTCODES, _COORDS, _COORDS, _QUARTERS), min_size=1,
                     max_size=geo._FEW_ROWS))  # fmt: skip
def test_locate_many_few_rows_agree_with_the_vectorised_path(
    geocoder: Geocoder, rows: list[tuple]
) -> None:
    """A handful of rows is placed one at a time; the answers are the vectorised ones."""
    columns = [list(column) for column in zip(*rows, strict=True)]
    few = geo._FEW_ROWS

    def place(limit: int) -> tuple | str:
        geo._FEW_ROWS = limit
        try:
            return geocoder.locate_many(*columns)
        except InvalidLocationError:
            return "refused"
        finally:
            geo._FEW_ROWS = few

    looped, vectorised = place(few), place(0)
    if isinstance(vectorised, str) or isinstance(looped, str):
        assert looped == vectorised
        return
    np.testing.assert_allclose(looped[0], vectorised[0])
    np.testing.assert_allclose(looped[1], vectorised[1])
    assert looped[2].tolist() == vectorised[2].tolist()
