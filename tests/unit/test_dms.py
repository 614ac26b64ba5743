"""Degrees-minutes-seconds as people type them (geoportal.etl.dms), and the coordinate columns
that hold them mixed with decimals (sources.add_geometry)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import shapely

from geoportal.etl.dms import LAT, LON, parse_dms
from geoportal.etl.sources import TableGeometry, add_geometry, csv_separator

DMS = 53 + 54 / 60 + 12.3 / 3600


@pytest.mark.parametrize(("text", "degrees", "axis"), [
    ("53°54'12.3\" N", DMS, LAT),
    ("53°54′12,3″ с.ш.", DMS, LAT),
    ("53° 54′ 12,3″ с. ш.", DMS, LAT),
    ("N53 54 12.3", DMS, LAT),
    ("n 53°54'12.3''", DMS, LAT),
    ("53°54′12,3″ паўн. ш.", DMS, LAT),
    ("53 54.205", 53 + 54.205 / 60, 0),
    ("53°54,205′", 53 + 54.205 / 60, 0),
    ("27°33'E", 27.55, LON),
    ("27°33′ в.д.", 27.55, LON),
    ("27°33′ усх. д.", 27.55, LON),
    ("E 27 33 00", 27.55, LON),
    ("34°10′ ю.ш.", -(34 + 10 / 60), LAT),
    ("70°30′ з.д.", -70.5, LON),
    ("W70 30", -70.5, LON),
    ("-27 33 00", -27.55, 0),
    ("53,9034", 53.9034, 0),
    ("\u00a053°54′12,3″\u202fN ", DMS, LAT),
])
def test_each_notation_reads_as_decimal_degrees(text, degrees, axis):
    values, axes = parse_dms(pa.array([text]))
    assert values[0] == pytest.approx(degrees, abs=1e-9)
    assert axes[0] == axis


@pytest.mark.parametrize("text", ["53°60'", "53°54'60\"", "53.5 30", "190°", "53° N S",
                                  "abc", "", "53°54'12.3\" N 27°33'E", "12-05-2020"])
def test_what_is_not_a_coordinate_is_nan(text):
    values, axes = parse_dms(pa.array([text, None]))
    assert np.isnan(values).all() and (axes == 0).all()


def test_a_million_values_parse_in_one_vectorized_call():
    texts = pa.array(["53°54'12.3\" N", "27°33′ в.д.", "53 54.205", None] * 250_000)
    values, axes = parse_dms(texts)
    assert values.shape == (1_000_000,)
    assert values[:3] == pytest.approx([DMS, 27.55, 53 + 54.205 / 60])
    assert list(axes[:4]) == [LAT, LON, 0, 0]


def _points(x: list[object], y: list[object]) -> list[tuple[float, float] | None]:
    table = pa.table({"lon": pa.array(x, pa.string()), "lat": pa.array(y, pa.string())})
    out = add_geometry(table, TableGeometry(x="lon", y="lat"), name="g")
    geoms = shapely.from_wkb(out.column("g").to_numpy(zero_copy_only=False))
    return [None if g is None else (g.x, g.y) for g in geoms]


def test_decimals_dms_and_decimal_minutes_mix_in_one_column():
    points = _points(["27,55", "27°33′ в.д.", "27 33.000", "5 412 345,6"],
                     ["53.9034", "53°54′12,3″ с.ш.", "N53 54 12.3", "53 54"])
    assert points[0] == pytest.approx((27.55, 53.9034))
    assert points[1] == pytest.approx((27.55, DMS))
    assert points[2] == pytest.approx((27.55, DMS))
    # thousands grouped by spaces stay one number; '53 54' is degrees and minutes
    assert points[3] == pytest.approx((5412345.6, 53.9))


def test_a_hemisphere_in_the_wrong_column_swaps_its_row_and_a_contradiction_voids_it():
    points = _points(["53°54′12,3″ с.ш.", "27°33'E", "53°54' N"],
                     ["27°33′ в.д.", "27°33'E", "53.9"])
    assert points[0] == pytest.approx((27.55, DMS))
    assert points[1] is None  # both say longitude
    assert points[2] == pytest.approx((53.9, 53.9))  # only x says latitude: swapped


def test_separator_of_a_sheet_saved_as_csv_with_a_title_and_a_totals_line(tmp_path):
    path = tmp_path / "stops.csv"
    path.write_text("Реестр остановок по состоянию на 01.01.2026\n\n"
                    "№;Название;Широта, °;Долгота, °\n1;Копище;53,9;27,55\n2;Боровляны;53,95;"
                    "27,66\n3;Колодищи;53,94;27,78\nИтого: 3\n", encoding="utf-8")
    assert csv_separator(path, "utf-8") == "SEMICOLON"
    ewkt = tmp_path / "ewkt.csv"
    ewkt.write_text("Выгрузка из PostGIS\nid,name,geom\n" + "".join(
        f"{i},n{i},SRID=32635;POINT({500000 + i} 5970000)\n" for i in range(5)),
        encoding="utf-8")
    assert csv_separator(ewkt, "utf-8") == "COMMA"
