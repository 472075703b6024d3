"""Distance estimate, travel-time matrix override and the §140 SGB III limit."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matching.commute import (
    SECTION_140_LIMIT_LONG,
    SECTION_140_LIMIT_SHORT,
    CommuteModel,
    CommuteParameters,
    ModeParameters,
    TravelTimeMatrix,
    commute_limit,
    daily_hours,
    haversine_km,
    section_140_limit,
)
from matching.errors import DataFileError, InvalidInputError
from matching.schema import MODES

HEADER = "origin_zone,destination_zone,mode,minutes\n"


def test_haversine_known_distances() -> None:
    # One degree of latitude is 2 * pi * R / 360 = 111.195 km for R = 6371.0088 km.
    assert float(haversine_km(52.0, 8.5, 53.0, 8.5)) == pytest.approx(111.1951, abs=1e-3)
    # Along a parallel at 52 deg: 0.1 deg of longitude, about 6.846 km.
    assert float(haversine_km(52.0, 8.5, 52.0, 8.6)) == pytest.approx(6.846, abs=1e-3)
    assert float(haversine_km(52.0, 8.5, 52.0, 8.5)) == 0.0


def test_haversine_broadcasts() -> None:
    dest_lat = np.array([[52.0, 52.1], [52.2, 52.3]])
    result = haversine_km(52.0, 8.5, dest_lat, 8.5)
    assert result.shape == (2, 2)
    np.testing.assert_allclose(result, (dest_lat - 52.0) * 111.1951, rtol=1e-5)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        # access + wait + detour * 10 km / speed * 60
        ("walk", 0.0 + 0.0 + 1.3 * 10 / 4.5 * 60),  # 173.33
        ("bike", 2.0 + 0.0 + 1.25 * 10 / 15 * 60),  # 52.0
        ("transit", 8.0 + 5.0 + 1.3 * 10 / 20 * 60),  # 52.0
        ("car", 4.0 + 0.0 + 1.3 * 10 / 30 * 60),  # 30.0
    ],
)
def test_default_estimates_by_hand(mode: str, expected: float) -> None:
    minutes = CommuteParameters().minutes(np.array([10.0]), mode)
    assert minutes.dtype == np.float32
    assert float(minutes[0]) == pytest.approx(expected, rel=1e-6)


def test_zero_distance_costs_the_fixed_minutes() -> None:
    parameters = CommuteParameters()
    assert float(parameters.minutes(0.0, "transit")) == 13.0
    assert float(parameters.minutes(0.0, "walk")) == 0.0


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(InvalidInputError) as info:
        CommuteParameters().for_mode("bus")
    assert info.value.field == "mode"
    assert "'bus'" in str(info.value)


def test_parameters_are_configurable() -> None:
    parameters = CommuteParameters.from_mapping({"transit": {"wait_minutes": 10.0}})
    assert parameters.transit.wait_minutes == 10.0
    assert parameters.transit.speed_kmh == 20.0
    assert parameters.car == CommuteParameters().car
    replaced = dataclasses.replace(parameters, car=ModeParameters(40.0, 1.2, 3.0))
    assert float(replaced.minutes(20.0, "car")) == pytest.approx(3.0 + 1.2 * 20 / 40 * 60)
    with pytest.raises(InvalidInputError):
        CommuteParameters.from_mapping({"transit": {"speed": 10.0}})
    with pytest.raises(InvalidInputError):
        CommuteParameters.from_mapping({"tram": {"speed_kmh": 10.0}})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"speed_kmh": 0.0}, "speed_kmh"),
        ({"detour_factor": 0.9}, "detour_factor"),
        ({"access_minutes": -1.0}, "access_minutes"),
        ({"wait_minutes": float("nan")}, "wait_minutes"),
    ],
)
def test_mode_parameters_validate(kwargs: dict, field: str) -> None:
    values = {"speed_kmh": 10.0, "detour_factor": 1.2, "access_minutes": 1.0} | kwargs
    with pytest.raises(InvalidInputError) as info:
        ModeParameters(**values)
    assert info.value.field == field


@given(
    st.sampled_from(MODES),
    st.floats(0.0, 500.0, allow_nan=False),
    st.floats(0.0, 500.0, allow_nan=False),
)
def test_minutes_monotone_in_distance_and_never_negative(mode: str, a: float, b: float) -> None:
    near, far = sorted((a, b))
    minutes = CommuteParameters().minutes(np.array([near, far]), mode)
    assert minutes[0] >= 0.0
    assert minutes[0] <= minutes[1]


@given(st.sampled_from(MODES), st.floats(51.0, 53.0), st.floats(7.5, 9.5), st.floats(0.0, 0.5))
def test_model_minutes_monotone_along_a_meridian(mode: str, lat: float, lon: float,
                                                 step: float) -> None:
    model = CommuteModel()
    minutes = model.minutes(lat, lon, -1, np.array([lat, lat + step, lat + 2 * step]), lon, -1,
                            mode)
    assert np.all(minutes >= 0)
    assert np.all(np.diff(minutes) >= 0)


def _matrix() -> TravelTimeMatrix:
    text = HEADER + (
        "33609,33605,transit,25\n"
        "33609,33605,bike,31.5\n"
        "Baumheide,33689,transit,40\n"
        "33605,33609,transit,27\n"
    )
    return TravelTimeMatrix.from_csv(io.StringIO(text))


def test_matrix_reads_zones_codes_and_tables() -> None:
    matrix = _matrix()
    assert matrix.zones == ("33605", "33609", "33689", "Baumheide")
    codes = matrix.codes(["33609", None, "10115", "baumheide"])
    assert codes.dtype == np.int32
    assert codes.tolist() == [1, -1, -1, 3]
    table = matrix.table("transit")
    assert table.dtype == np.float32 and table.shape == (4, 4)
    assert table[1, 0] == 25.0 and table[0, 1] == 27.0 and table[3, 2] == 40.0
    assert np.isnan(table[0, 0])
    assert np.isnan(matrix.table("car")).all()


def test_matrix_overrides_the_estimate_only_where_it_has_a_value() -> None:
    matrix = _matrix()
    with_matrix = CommuteModel(matrix=matrix)
    plain = CommuteModel()
    origin = (52.0427, 8.5780)  # 33609
    dest_lat = np.array([51.9978, 51.9439, 51.9978, 51.9978])
    dest_lon = np.array([8.5774, 8.5886, 8.5774, 8.5774])
    dest_codes = with_matrix.zone_codes(["33605", "33689", None, "33605"])
    origin_code = with_matrix.zone_codes("33609")
    transit = with_matrix.minutes(*origin, origin_code, dest_lat, dest_lon, dest_codes, "transit")
    estimate = plain.minutes(*origin, -1, dest_lat, dest_lon, -1, "transit")
    assert transit.dtype == np.float32
    assert transit[0] == 25.0 and transit[3] == 25.0  # matrix value
    assert transit[1] == estimate[1]  # 33609 -> 33689 has no value: estimate
    assert transit[2] == estimate[2]  # destination zone unknown: estimate
    car = with_matrix.minutes(*origin, origin_code, dest_lat, dest_lon, dest_codes, "car")
    np.testing.assert_array_equal(car, plain.minutes(*origin, -1, dest_lat, dest_lon, -1, "car"))


def test_matrix_broadcasts_many_participants_to_one_vacancy() -> None:
    model = CommuteModel(matrix=_matrix())
    origin_codes = model.zone_codes(["33609", "33605", "Baumheide"])
    minutes = model.minutes(
        np.array([52.0427, 51.9978, 52.0458]), np.array([8.5780, 8.5774, 8.5938]), origin_codes,
        51.9978, 8.5774, model.zone_codes("33605"), "transit",
    )
    assert minutes[0] == 25.0
    assert minutes[1] == 13.0  # same point, no matrix value: fixed minutes only
    assert minutes[2] > 13.0


def test_zone_codes_without_a_matrix_are_minus_one() -> None:
    assert CommuteModel().zone_codes(["33609", None]).tolist() == [-1, -1]


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        (HEADER + "33609,33605,bus,25\n", "line 2", "mode"),
        (HEADER + "33609,33605,car,25\n33609,33605,car,-3\n", "line 3", "minutes"),
        (HEADER + "33609,33605,car,abc\n", "line 2", "minutes"),
        (HEADER + "33609,33605,car,inf\n", "line 2", "minutes"),
        (HEADER + "33609,,car,12\n", "line 2", "destination_zone"),
        (HEADER + "a,b,car,1\na,c,car,2\nA,b,car,3\n", "line 4", "origin_zone"),
    ],
)
def test_matrix_rejects_bad_rows_naming_line_and_column(text: str, line: str, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        TravelTimeMatrix.from_csv(io.StringIO(text))
    assert line in str(info.value)
    assert info.value.field == field


def test_matrix_rejects_missing_columns() -> None:
    with pytest.raises(InvalidInputError) as info:
        TravelTimeMatrix.from_csv(io.StringIO("origin_zone,destination_zone,minutes\n1,2,3\n"))
    assert "mode" in str(info.value)


def test_matrix_keeps_leading_zeros(tmp_path) -> None:
    path = tmp_path / "matrix.csv"
    path.write_text(HEADER + "01067,01069,walk,40\n", encoding="utf-8")
    assert TravelTimeMatrix.from_csv(path).zones == ("01067", "01069")


def test_matrix_missing_file_is_a_data_file_error(tmp_path) -> None:
    with pytest.raises(DataFileError):
        TravelTimeMatrix.from_csv(tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("hours", "days", "limit"),
    [
        (30.0, 5, SECTION_140_LIMIT_SHORT),  # 6.0 h a day: 2 h round trip
        (30.5, 5, SECTION_140_LIMIT_LONG),  # 6.1 h a day: 2.5 h round trip
        (40.0, 5, SECTION_140_LIMIT_LONG),
        (20.0, 5, SECTION_140_LIMIT_SHORT),
        (39.0, 6.5, SECTION_140_LIMIT_SHORT),  # exactly 6 h
        (42.0, 7, SECTION_140_LIMIT_SHORT),
    ],
)
def test_section_140_case_by_case(hours: float, days: float, limit: float) -> None:
    assert float(section_140_limit(daily_hours(hours, days))) == limit


def test_section_140_values() -> None:
    assert section_140_limit([6.0, 6.1, 8.0, 4.0]).tolist() == [60.0, 75.0, 75.0, 60.0]
    assert SECTION_140_LIMIT_LONG == 75.0 and SECTION_140_LIMIT_SHORT == 60.0


def test_participants_own_lower_limit_wins() -> None:
    limits = commute_limit(np.array([45.0, np.nan, 90.0, 70.0]), np.array([8.0, 8.0, 8.0, 5.0]))
    assert limits.dtype == np.float32
    assert limits.tolist() == [45.0, 75.0, 75.0, 60.0]


def test_commute_limit_broadcasts_one_participant_many_vacancies() -> None:
    assert commute_limit(65.0, daily_hours(np.array([20.0, 38.5]), 5)).tolist() == [60.0, 65.0]


def test_negative_own_limit_is_rejected() -> None:
    with pytest.raises(InvalidInputError) as info:
        commute_limit(-5.0, 8.0)
    assert info.value.field == "max_commute_minutes"


@pytest.mark.parametrize(
    ("hours", "days", "field"),
    [
        (30.0, 0, "days_per_week"),
        (-1.0, 5, "hours_per_week"),
        (0.0, 5, "hours_per_week"),
        (30.0, 8, "days_per_week"),
        (np.array([30.0, np.nan]), 5, "hours_per_week"),
    ],
)
def test_daily_hours_validates(hours, days, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        daily_hours(hours, days)
    assert info.value.field == field
