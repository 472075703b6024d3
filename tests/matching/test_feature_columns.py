"""Columns read in one pass hold the same Python values as reading each column."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from matching.features import _column, _Columns

FRAME = pd.DataFrame({
    "f64": [1.5, np.nan], "f32": np.array([1.5, np.nan], dtype=np.float32),
    "i64": [1, 2], "i8": np.array([1, 2], dtype=np.int8),
    "Int64": pd.array([1, None], dtype="Int64"), "Float64": pd.array([1.5, None], dtype="Float64"),
    "bool": [True, False], "boolean": pd.array([True, None], dtype="boolean"),
    "lists": [["a"], None], "mixed": ["a", 3], "str": ["a", None],
    "str_python": pd.array(["a", None], dtype="string[python]"),
    "datetime": pd.to_datetime(["2024-01-01", None]),
    "datetime_tz": pd.to_datetime(["2024-01-01", None]).tz_localize("UTC"),
    "timedelta": pd.to_timedelta([1, None], unit="D"), "category": pd.Categorical(["x", None]),
    "date": [dt.date(2024, 1, 1), None], "numpy_scalars": [np.float64(1.0), np.int64(3)],
})  # fmt: skip


@pytest.mark.parametrize("rows", [slice(None), slice(0, 1), slice(0, 0)])
def test_one_pass_gives_the_values_of_each_column(rows: slice) -> None:
    frame = FRAME.iloc[rows]
    columns = _Columns(frame, list(frame.columns))
    for name in [*frame.columns, "absent"]:
        got, want = columns(name), _column(frame, name)
        assert [type(v) for v in got] == [type(v) for v in want], name
        assert [repr(v) for v in got] == [repr(v) for v in want], name


def test_columns_outside_the_schema_are_read_one_by_one() -> None:
    frame = FRAME[["i64", "str"]].assign(gender=["f", "m"])
    columns = _Columns(frame, ["i64", "str"])
    assert columns._lists is None
    assert columns("i64") == [1, 2]
    assert columns("gender") == ["f", "m"]
