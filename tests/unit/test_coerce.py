"""Type inference and coercion of spreadsheet text columns (geoportal.etl.coerce)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from geoportal.etl.coerce import coerce, describe_bad, empty_to_null, infer_type

NBSP, NNBSP = "\u00a0", "\u202f"


def infer(values: list[str | None]) -> str:
    return infer_type(pa.array(values, pa.string()))


# --- infer_type -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "-2", "+3", " 42 "], "integer"),
        (["1 234", f"1{NBSP}234{NBSP}567", f"-12{NNBSP}000", "0"], "integer"),
        (["0", "1", "1", "0"], "integer"),  # 0/1 are integers, not booleans
        (["9223372036854775807"], "integer"),
        (["007", "12"], "string"),  # leading zeros: codes, not numbers
        (["0700000000", "1000000000"], "string"),  # SOATO codes
        (["220030", "0 123"], "string"),
        (["9223372036854775808"], "string"),  # beyond int64
        (["12345678901234567890123"], "string"),
        (["1 23"], "string"),  # a broken thousands group
        (["1  234"], "string"),
    ],
)
def test_infer_integer(values: list[str], expected: str) -> None:
    assert infer(values) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["12,5", "-0.25", "3"], "number"),
        ([f"1{NBSP}234,5", "1 000 000,75", "+2,0"], "number"),
        (["1e5", "2.5E-3", ",5"], "number"),
        (["1,5", "2.5"], "number"),  # mixed decimal marks, neither could be a thousands group
        (["1,234", "5,678"], "number"),  # decimal commas throughout (the Belarusian way)
        (["1,234", "2.5"], "string"),  # 1.234 or 1234? ambiguous beside a decimal point
        (["0.5", "007.5"], "string"),
        (["1,234.5"], "string"),  # English grouping is not accepted
        (["1.234.567"], "string"),
        (["12,5", "12a"], "string"),
        (["1.5", "n/a"], "string"),
    ],
)
def test_infer_number(values: list[str], expected: str) -> None:
    assert infer(values) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["да", "нет", "ДА", " Нет "], "boolean"),
        (["так", "не", "Так"], "boolean"),
        (["true", "FALSE", "True"], "boolean"),
        (["yes", "no"], "boolean"),
        (["ИСТИНА", "ЛОЖЬ"], "boolean"),
        (["Y", "n"], "boolean"),
        (["да", "да"], "boolean"),
        (["да", "не"], "string"),  # two pair families mixed
        (["true", "нет"], "string"),
        (["да", "нет", "может быть"], "string"),
        (["т", "ф"], "string"),
    ],
)
def test_infer_boolean(values: list[str], expected: str) -> None:
    assert infer(values) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["01.02.2020", "1.2.2020", "2020-02-01", "29/02/2020"], "date"),
        (["29.02.2020"], "date"),  # a leap day
        (["01.02.2020 0:00:00", "02.02.2020 00:00"], "date"),  # Excel's midnight is a date
        (["31.02.2020", "01.02.2020"], "string"),
        (["29.02.2021"], "string"),
        (["01.13.2020"], "string"),  # day first: there is no month 13
        (["00.01.2020"], "string"),
        (["01.02.20"], "string"),  # two-digit years are not accepted
        (["2020-2-1"], "string"),
        (["01/02.2020"], "string"),
        (["01.02.2020 10:30", "2020-02-01T10:30:15", "1.2.2020 9:05"], "datetime"),
        (["01.02.2020", "01.02.2020 10:30"], "datetime"),  # a bare date is its midnight
        (["01.02.2020 24:00"], "string"),
        (["01.02.2020 10:60"], "string"),
        (["2020-02-01T10:30:15Z"], "string"),  # only naive local times
        (["01.02.2020 10:30:15.5"], "string"),
    ],
)
def test_infer_dates(values: list[str], expected: str) -> None:
    assert infer(values) == expected


def test_infer_ignores_nulls_empty_strings_and_whitespace() -> None:
    assert infer([None, "", "  ", "5", f"{NBSP}6{NBSP}"]) == "integer"
    assert infer([None, "", " \t"]) == "string"
    assert infer([]) == "string"
    assert infer_type(pa.nulls(3)) == "string"


def test_infer_reads_the_whole_column_not_just_its_head() -> None:
    values = ["12"] * 10_000 + ["12a"] + ["13"] * 10
    assert infer(values) == "string"
    assert infer(["12"] * 10_000 + ["12,5"]) == "number"
    assert infer(["12"] * 10_000 + ["012"]) == "string"
    assert infer(["01.02.2020"] * 10_000 + ["31.02.2020"]) == "string"
    assert infer(["01.02.2020"] * 10_000 + ["01.02.2020 10:00"]) == "datetime"


def test_infer_chunked_and_large_string() -> None:
    chunked = pa.chunked_array([["1", "2"], [], ["3,5", None]], pa.string())
    assert infer_type(chunked) == "number"
    assert infer_type(pa.array(["да", "нет"], pa.large_string())) == "boolean"
    assert infer_type(pa.chunked_array([], pa.string())) == "string"
    assert infer_type(pa.array(["a", "b", "a"]).dictionary_encode()) == "string"


def test_infer_names_non_text_columns_by_type() -> None:
    assert infer_type(pa.array([1, 2])) == "integer"
    assert infer_type(pa.array([1.5])) == "number"
    assert infer_type(pa.array([True])) == "boolean"
    assert infer_type(pa.array([dt.date(2020, 1, 1)])) == "date"


# --- coerce: text -----------------------------------------------------------------------------


def test_coerce_integer_masks_exactly_the_bad_rows() -> None:
    values = pa.array(["1", f"1{NBSP}234", "", None, "12a", " -7 ", "1.5", "99999999999999999999"])
    out, bad = coerce(values, "integer")
    assert out.type == pa.int64()
    assert out.to_pylist() == [1, 1234, None, None, None, -7, None, None]
    assert bad.tolist() == [False, False, False, False, True, False, True, True]
    assert bad.dtype == np.bool_


def test_coerce_integer_reads_declared_leading_zeros() -> None:
    out, bad = coerce(pa.array(["007", "+5"]), "integer")
    assert out.to_pylist() == [7, 5]
    assert not bad.any()


def test_coerce_number() -> None:
    values = pa.array(["12,5", f"1{NNBSP}234,5", "-0.25", "1e3", "1,234", "", "n/a", "1e999"])
    out, bad = coerce(values, "number")
    assert out.type == pa.float64()
    assert out.to_pylist() == [12.5, 1234.5, -0.25, 1000.0, 1.234, None, None, None]
    assert bad.tolist() == [False] * 6 + [True, True]


def test_coerce_boolean() -> None:
    values = pa.array(["да", "НЕТ", "так", "не", "true", "0", "1", " ", "може", None])
    out, bad = coerce(values, "boolean")
    assert out.type == pa.bool_()
    assert out.to_pylist() == [True, False, True, False, True, False, True, None, None, None]
    assert bad.tolist() == [False] * 8 + [True, False]


def test_coerce_date() -> None:
    values = pa.array(["01.02.2020", "2020-02-29", "5/6/2021", "31.02.2020", "",
                       "01.02.2020 0:00", "01.02.2020 10:00", "tomorrow"])
    out, bad = coerce(values, "date")
    assert out.type == pa.date32()
    assert out.to_pylist() == [dt.date(2020, 2, 1), dt.date(2020, 2, 29), dt.date(2021, 6, 5),
                               None, None, dt.date(2020, 2, 1), None, None]
    assert bad.tolist() == [False, False, False, True, False, False, True, True]


def test_coerce_datetime() -> None:
    values = pa.array(["01.02.2020 10:30", "2020-02-01T23:59:59", "01.02.2020", "0001-01-01",
                       "01.02.2020 25:00", None])
    out, bad = coerce(values, "datetime")
    assert out.type == pa.timestamp("s")
    assert out.to_pylist() == [dt.datetime(2020, 2, 1, 10, 30), dt.datetime(2020, 2, 1, 23, 59, 59),
                               dt.datetime(2020, 2, 1), dt.datetime(1, 1, 1), None, None]
    assert bad.tolist() == [False, False, False, False, True, False]


def test_coerce_string_trims_and_nulls_empty() -> None:
    values = pa.array([" улица ", "", f"{NBSP}", None, "007"], pa.large_string())
    out, bad = coerce(values, "string")
    assert out.type == pa.string()
    assert out.to_pylist() == ["улица", None, None, None, "007"]
    assert not bad.any()


def test_coerce_chunked_array_of_several_chunks() -> None:
    chunked = pa.chunked_array([["1", "x"], [], ["", "3"], ["4,0"]], pa.string())
    out, bad = coerce(chunked, "integer")
    assert isinstance(out, pa.Array)
    assert out.to_pylist() == [1, None, None, 3, None]
    assert bad.tolist() == [False, True, False, False, True]
    out, bad = coerce(pa.chunked_array([], pa.string()), "number")
    assert len(out) == 0
    assert len(bad) == 0


def test_coerce_large_string_and_all_null_columns() -> None:
    out, bad = coerce(pa.array(["2020-02-01", "x", None], pa.large_string()), "date")
    assert out.to_pylist() == [dt.date(2020, 2, 1), None, None]
    assert bad.tolist() == [False, True, False]
    out, bad = coerce(pa.nulls(2), "integer")
    assert out.type == pa.int64()
    assert out.null_count == 2
    assert not bad.any()


def test_coerce_takes_the_stores_date_time_name() -> None:
    out, _ = coerce(pa.array(["01.02.2020 10:00"]), "date-time")
    assert out.to_pylist() == [dt.datetime(2020, 2, 1, 10)]


def test_coerce_rejects_unknown_type() -> None:
    with pytest.raises(ValueError, match="unknown field type"):
        coerce(pa.array(["1"]), "float")


# --- coerce: non-text -------------------------------------------------------------------------


def test_coerce_casts_non_text_columns() -> None:
    out, bad = coerce(pa.array([1, None, 3]), "number")
    assert out.type == pa.float64()
    assert out.to_pylist() == [1.0, None, 3.0]
    assert not bad.any()

    out, bad = coerce(pa.array([1.0, 2.5, None, float("nan"), -3.0]), "integer")
    assert out.to_pylist() == [1, None, None, None, -3]
    assert bad.tolist() == [False, True, False, True, False]

    out, bad = coerce(pa.array([1, 2**64 - 1], pa.uint64()), "integer")
    assert out.to_pylist() == [1, None]
    assert bad.tolist() == [False, True]

    out, bad = coerce(pa.array([1, 0, 2]), "boolean")
    assert out.to_pylist() == [True, False, None]
    assert bad.tolist() == [False, False, True]

    out, bad = coerce(pa.array([True, None]), "string")
    assert out.to_pylist() == ["true", None]
    assert not bad.any()

    stamps = pa.array([dt.datetime(2020, 1, 2), dt.datetime(2020, 1, 2, 10)], pa.timestamp("ms"))
    out, bad = coerce(stamps, "date")
    assert out.to_pylist() == [dt.date(2020, 1, 2), None]
    assert bad.tolist() == [False, True]

    out, bad = coerce(pa.array([[1], None]), "integer")  # no cast exists: every value is bad
    assert out.to_pylist() == [None, None]
    assert bad.tolist() == [True, False]


# --- describe_bad, empty_to_null ---------------------------------------------------------------


def test_describe_bad() -> None:
    values = pa.array(["1", "12a", "n/a", "12a", "x", "y", "2"])
    _, bad = coerce(values, "integer")
    assert describe_bad(values, bad) == "'12a', 'n/a', 'x' and 1 more"
    assert describe_bad(values, bad, limit=10) == "'12a', 'n/a', 'x', 'y'"
    assert describe_bad(values, bad, limit=1) == "'12a' and 3 more"
    assert describe_bad(values, np.zeros(len(values), dtype=bool)) == ""
    long = pa.array(["ж" * 100])
    assert describe_bad(long, np.array([True])) == repr("ж" * 39 + "…")


def test_empty_to_null() -> None:
    out = empty_to_null(pa.chunked_array([[" a ", ""], [None, f"{NBSP}\t", "b"]]))
    assert out.to_pylist() == ["a", None, None, None, "b"]


# --- speed -------------------------------------------------------------------------------------


def _million(pattern: str) -> pa.Array:
    """1,000,000 rows built from 1,000 distinct values (building them must not dominate)."""
    rng = np.random.default_rng(1)
    days, months = rng.integers(1, 29, 1000), rng.integers(1, 13, 1000)
    years = rng.integers(1950, 2030, 1000)
    base = [pattern.format(a=a, b=b, c=c) for a, b, c in zip(days, months, years, strict=True)]
    return pa.array(base * 1000).take(pa.array(rng.permutation(1_000_000)))


@pytest.mark.parametrize(
    ("pattern", "type_"),
    [("{a} {b:03d},{c}", "number"), ("{c}{a}{b}", "integer"), ("{a:02d}.{b:02d}.{c}", "date"),
     ("{a}.{b}.{c} {b}:{a:02d}", "datetime"), ("ул. {a}-{b}", "string")],
)
def test_a_million_rows_are_typed_whole(pattern: str, type_: str) -> None:
    # Speed is measured by benchmarks/etl.py, not asserted here.
    column = _million(pattern)
    inferred = infer_type(column)
    out, bad = coerce(column, type_)
    assert inferred == type_
    assert len(out) == 1_000_000
    assert not bad.any()
    assert out.null_count == 0
