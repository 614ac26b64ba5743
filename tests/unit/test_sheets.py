"""Sheets as people fill them in (issue 16), published end to end on both stores: a title block
above the header row, totals and notes below, DMS coordinates mixed with decimals, X_north /
Y_east columns, date columns mixing Excel dates and text, a № column, EWKT and hex EWKB with
their SRID. The files are messy derivatives of the national railway-station register
(/work/shared/data/transport/railway_stations.tsv), written in tmp_path."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pyproj
import pytest
import shapely

from geoportal.errors import InputError
from geoportal.etl.manifest import SourceSpec
from geoportal.etl.readers import resolve_source
from geoportal.etl.sheets import column_names, find_header_row, totals_reason
from geoportal.storage import Query
from tests.conftest import write_manifest

STATIONS = Path("/work/shared/data/transport/railway_stations.tsv")
pytestmark = pytest.mark.skipif(not STATIONS.is_file(), reason="the shared real data is absent")
TO_CRS84 = pyproj.Transformer.from_crs("EPSG:4326", "OGC:CRS84", always_xy=True)
TITLE = "Рэестр чыгуначных станцый і прыпынкаў па стане на 01.01.2026"


def stations(count: int, start: int = 0) -> list[dict[str, str]]:
    """Rows of the real register in Minsk oblast (no state border near: every station lies
    inside the country's boundary): be/ru names, raion, lat, lon."""
    with STATIONS.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["Вобласьць"] == "Минск"]
    return rows[start:start + count]


def _dms(value: float) -> tuple[int, int, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 2)
    if seconds >= 60:
        minutes, seconds = minutes + 1, 0.0
    return degrees, minutes, seconds


def coordinate_text(value: float, axis: str, style: int) -> tuple[object, float]:
    """One coordinate in one of the ways people type them, and the value that text says."""
    d, m, s = _dms(value)
    exact = d + m / 60 + s / 3600
    north = axis == "lat"
    if style == 0:
        return value, value  # a number cell
    if style == 1:
        return f"{d}°{m}′{s:.2f}″ {'с.ш.' if north else 'в.д.'}".replace(".", ",", 1), exact
    if style == 2:
        return f"{'N' if north else 'E'}{d} {m} {s:.2f}", exact
    if style == 3:
        minutes = round((value - d) * 60, 4)
        return f"{d} {minutes:.4f}", d + minutes / 60
    if style == 4:
        return f"{value:.6f}".replace(".", ","), round(value, 6)
    return f"{d}°{m}′{s:.2f}″ {'паўн. ш.' if north else 'усх. д.'}", exact


def messy_register(path: Path, rows: list[dict[str, str]]) -> list[dict[str, object]]:
    """An XLSX as a raion office fills it in: a merged title, a source line, a blank row, the
    header on row 4, DMS and decimal coordinates, a date column of Excel dates and text,
    totals and a note at the bottom. Returns what each data row says."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Станцыі"
    sheet["A1"] = TITLE
    sheet.merge_cells("A1:G1")
    sheet["A2"] = "Крыніца: OSM Belarus"
    sheet.append([])
    sheet.append(["№ п/п", "Назва", "Раён", "Шырата", "Даўгата", "Дата абследавання", "Назва"])
    expected = []
    for i, row in enumerate(rows):
        lat, lat_value = coordinate_text(float(row["lat"]), "lat", i % 6)
        lon, lon_value = coordinate_text(float(row["lon"]), "lon", (i + 1) % 6)
        day = dt.date(2025, 1 + i % 12, 1 + i)
        when: object = day if i % 2 else day.strftime("%d.%m.%Y")
        sheet.append([i + 1, row["Па-беларуску правільнае"], row["Раён"], lat, lon, when,
                      row["Па-расейску правільнае"]])
        expected.append({"be": row["Па-беларуску правільнае"], "ru": row["Па-расейску правільнае"],
                         "lon": lon_value, "lat": lat_value, "date": day})
    sheet.append([f"Усяго: {len(rows)}"])
    sheet.append(["Заўвага: каардынаты паводле OSM"])
    book.save(path)
    return expected


def _rows(store, layer):
    return store.query(layer.current.store_ref, layer.current.fields, Query(limit=1000)).rows


def check_points(rows, expected) -> None:
    """Published points against pyproj's CRS84 of what the source text says (1e-6 degrees),
    names against the source text."""
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        lon, lat = TO_CRS84.transform(want["lon"], want["lat"])
        assert row.geometry.x == pytest.approx(lon, abs=1e-6)
        assert row.geometry.y == pytest.approx(lat, abs=1e-6)


def test_register_with_title_block_totals_dms_and_mixed_dates(tmp_path, publish, catalog,
                                                             store):
    expected = messy_register(tmp_path / "stations.xlsx", stations(24))
    report = publish(write_manifest(tmp_path, "stations", {"path": "stations.xlsx"}))
    assert "header row 4 (rows 1-3: title)" in report.notes
    assert (report.features_read, report.features_published) == (26, 24)
    assert report.set_aside == {
        "a totals or notes row, not a feature: 'Усяго: 24'": 1,
        "a totals or notes row, not a feature: 'Заўвага: каардынаты паводле OSM'": 1}
    layer = catalog.get_layer("stations")
    fields = {f.name: (f.title, f.type) for f in layer.current.fields}
    assert fields["no"] == ("№ п/п", "integer")  # the totals row does not decide the type
    assert fields["nazva"] == ("Назва", "string")
    assert fields["nazva_2"] == ("Назва (2)", "string")
    assert fields["data_absledavannia"][1] == "date"
    rows = _rows(store, layer)
    check_points(rows, expected)
    assert [r.properties["nazva"] for r in rows] == [w["be"] for w in expected]
    assert [r.properties["nazva_2"] for r in rows] == [w["ru"] for w in expected]
    assert [r.properties["data_absledavannia"] for r in rows] == [
        w["date"].isoformat() for w in expected]


def test_csv_in_cp1251_with_a_title_line_blank_line_and_totals(tmp_path, publish, catalog,
                                                              store):
    rows = stations(15, start=100)
    lines = ["Реестр остановочных пунктов по состоянию на 01.01.2026", "",
             "№;Название;Широта, °;Долгота, °"]
    expected = []
    for i, row in enumerate(rows):
        lat, lat_value = coordinate_text(float(row["lat"]), "lat", 1 + i % 4)
        lon, lon_value = coordinate_text(float(row["lon"]), "lon", 1 + (i + 2) % 4)
        lat, lon = (str(v).replace("′", "'").replace("″", "''") for v in (lat, lon))
        lines.append(f"{i + 1};{row['Па-расейску правільнае']};{lat};{lon}")
        expected.append({"lon": lon_value, "lat": lat_value,
                         "ru": row["Па-расейску правільнае"]})
    lines += [f"Итого: {len(rows)}", "* координаты уточняются"]
    (tmp_path / "stops.csv").write_bytes("\r\n".join(lines).encode("cp1251") + b"\r\n")
    report = publish(write_manifest(tmp_path, "stops", {"path": "stops.csv"}))
    assert "header row 3 (rows 1-2: title)" in report.notes
    assert report.encoding == "CP1251"
    assert report.features_published == 15
    assert report.set_aside == {"a totals or notes row, not a feature: 'Итого: 15'": 1,
                                "a totals or notes row, not a feature: '* координаты "
                                "уточняются'": 1}
    layer = catalog.get_layer("stops")
    published = _rows(store, layer)
    check_points(published, expected)
    assert [r.properties["nazvanie"] for r in published] == [w["ru"] for w in expected]
    assert {f.name: f.type for f in layer.current.fields}["no"] == "integer"


def _numbered_header_sheet(path: Path) -> list[dict[str, object]]:
    """A sheet whose header has year columns ('2024', '2025'): no row looks like names only,
    so the header must be named."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([TITLE])
    sheet.append(["Назва", "2024", "2025", "Шырата", "Даўгата"])
    expected = []
    for i, row in enumerate(stations(6, start=130)):
        sheet.append([row["Па-беларуску правільнае"], i, i + 1, float(row["lat"]),
                      float(row["lon"])])
        expected.append({"lon": float(row["lon"]), "lat": float(row["lat"])})
    book.save(path)
    return expected


def test_header_row_set_in_the_manifest(tmp_path, publish, catalog, store):
    expected = _numbered_header_sheet(tmp_path / "years.xlsx")
    with pytest.raises(InputError, match=r"years\.xlsx: no coordinate columns were found among "
                       r".*the column names were read from row 1; if they are in another row, "
                       r"set source\.header_row in the manifest"):
        publish(write_manifest(tmp_path, "years", {"path": "years.xlsx"}))
    report = publish(write_manifest(tmp_path, "years", {"path": "years.xlsx", "header_row": 2}))
    assert "header row 2 (row 1: set in the manifest)" in report.notes
    layer = catalog.get_layer("years")
    assert [f.name for f in layer.current.fields] == ["nazva", "f_2024", "f_2025"]
    check_points(_rows(store, layer), expected)


def test_header_row_beyond_the_sheet_is_refused(tmp_path):
    _numbered_header_sheet(tmp_path / "years.xlsx")
    with pytest.raises(InputError, match=r"years\.xlsx: source\.header_row 90 is beyond the 8 "
                       r"rows read; set source\.header_row in the manifest"):
        resolve_source(SourceSpec(path=tmp_path / "years.xlsx", header_row=90))


@pytest.mark.parametrize(("north", "east"), [("X_north", "Y_east"), ("X (север)", "Y (восток)"),
                                             ("Y_east", "X_north")])
def test_x_north_is_the_northing(tmp_path, publish, catalog, store, north, east):
    utm = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:32635", always_xy=True)
    back = pyproj.Transformer.from_crs("EPSG:32635", "OGC:CRS84", always_xy=True)
    lines, expected = [f"name;{north};{east}"], []
    for row in stations(8, start=40):
        e, n = (round(v, 2) for v in utm.transform(float(row["lon"]), float(row["lat"])))
        values = {north: n, east: e}
        lines.append(f"{row['Па-беларуску правільнае']};{values[north]};{values[east]}")
        expected.append(back.transform(e, n))
    (tmp_path / "utm.csv").write_text("\n".join(lines), encoding="utf-8")
    report = publish(write_manifest(tmp_path, "utm", {"path": "utm.csv", "crs": "EPSG:32635"}))
    assert report.features_published == 8, report.set_aside
    for row, (lon, lat) in zip(_rows(store, catalog.get_layer("utm")), expected, strict=True):
        assert (row.geometry.x, row.geometry.y) == pytest.approx((lon, lat), abs=1e-6)


def ewkt_rows(count: int, srid: int = 32635, start: int = 100) -> tuple[list[str], list]:
    """PostGIS-style rows (name, EWKT in UTM) and the CRS84 points pyproj makes of them."""
    crs = f"EPSG:{srid}"
    to = pyproj.Transformer.from_crs("OGC:CRS84", crs, always_xy=True)
    back = pyproj.Transformer.from_crs(crs, "OGC:CRS84", always_xy=True)
    out, expected = [], []
    for row in stations(count, start=start):
        x, y = (round(v, 2) for v in to.transform(float(row["lon"]), float(row["lat"])))
        out.append((row["Па-беларуску правільнае"], x, y))
        expected.append(back.transform(x, y))
    return out, expected


def test_ewkt_csv_takes_its_crs_from_the_srid(tmp_path, publish, catalog, store):
    rows, expected = ewkt_rows(10)
    text = "id,name,geom\n" + "".join(f'{i},"{n}","SRID=32635;POINT({x} {y})"\n'
                                      for i, (n, x, y) in enumerate(rows))
    (tmp_path / "ewkt.csv").write_text(text, encoding="utf-8")
    report = publish(write_manifest(tmp_path, "ewkt", {"path": "ewkt.csv"}))
    assert report.source_crs == "EPSG:32635" and report.crs_origin == "file"
    assert "CRS: SRID=32635 in the geometry column 'geom'" in report.notes
    published = _rows(store, catalog.get_layer("ewkt"))
    assert [r.properties["name"] for r in published] == [n for n, _, _ in rows]
    for row, (lon, lat) in zip(published, expected, strict=True):
        assert (row.geometry.x, row.geometry.y) == pytest.approx((lon, lat), abs=1e-6)


@pytest.mark.parametrize("column", ["geom", "shape_bin"])  # by name, and by content
def test_hex_ewkb_of_a_psql_export(tmp_path, publish, catalog, store, column):
    rows, expected = ewkt_rows(70)
    hexes = [shapely.to_wkb(shapely.set_srid(shapely.Point(x, y), 32635), hex=True,
                            include_srid=True) for _, x, y in rows]
    # the last row was exported in another SRID: set aside, never moved silently
    lon, lat = expected[-1]
    hexes[-1] = shapely.to_wkb(shapely.set_srid(shapely.Point(lon, lat), 4326), hex=True,
                               include_srid=True)
    text = f"gid\tname\t{column}\n" + "".join(f"{i}\t{n}\t{h}\n" for i, ((n, _, _), h)
                                               in enumerate(zip(rows, hexes, strict=True)))
    (tmp_path / "export.tsv").write_text(text, encoding="utf-8")
    report = publish(write_manifest(tmp_path, "export", {"path": "export.tsv"}))
    assert report.source_crs == "EPSG:32635"
    assert report.set_aside == {"geometry in SRID=4326, the geometry column's SRID is 32635": 1}
    published = _rows(store, catalog.get_layer("export"))
    assert [r.properties["name"] for r in published] == [n for n, _, _ in rows[:-1]]
    for row, (lon, lat) in zip(published, expected[:-1], strict=True):
        assert (row.geometry.x, row.geometry.y) == pytest.approx((lon, lat), abs=1e-6)


def test_mixed_srids_in_the_first_rows_are_refused(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("name,wkt\na,SRID=32635;POINT(500000 5970000)\n"
                    "b,SRID=4326;POINT(27.5 53.9)\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"mixed\.csv: the geometry column 'wkt' mixes "
                       r"SRID=4326, SRID=32635; export it in one SRID"):
        resolve_source(SourceSpec(path=path))


# --- the pieces --------------------------------------------------------------------------

def test_header_row_is_the_first_row_of_names_above_data():
    rows = [[TITLE, None, None], ["Источник: райисполком", None, None], [None, None, None],
            ["№", "Название", "Широта"], ["1", "Копище", "53.9"]]
    assert find_header_row(rows) == (3, ["№", "Название", "Широта"])
    assert find_header_row([["name", "lat"], ["a", "53.9"]])[0] == 0
    assert find_header_row([["1", "2"], ["3", "4"]])[0] == 0  # no header at all: row 1


def test_two_row_header_takes_the_group_names_above_its_blanks():
    rows = [["№", "Назва", "Каардынаты", None], [None, None, "Шырата", "Даўгата"],
            ["1", "Мінск", "53.9", "27.55"]]
    assert find_header_row(rows) == (1, ["№", "Назва", "Шырата", "Даўгата"])


def test_blank_and_repeated_header_cells_get_names():
    assert column_names(["Назва", None, "назва", "Назва"], 5) == (
        "Назва", "field_2", "назва (2)", "Назва (3)", "field_5")


@pytest.mark.parametrize(("row", "reason"), [
    ({"a": "Итого: 25", "b": None}, "a totals or notes row, not a feature: 'Итого: 25'"),
    ({"a": None, "b": "Всего"}, "a totals or notes row, not a feature: 'Всего'"),
    ({"a": "Разам", "b": "12"}, "a totals or notes row, not a feature: 'Разам'"),
    ({"a": "УСЯГО:", "b": "12"}, "a totals or notes row, not a feature: 'УСЯГО:'"),
    ({"a": "Total", "b": "12"}, "a totals or notes row, not a feature: 'Total'"),
    ({"a": "Примечание: по GPS"}, "a totals or notes row, not a feature: 'Примечание: по GPS'"),
    ({"a": "* уточняется"}, "a totals or notes row, not a feature: '* уточняется'"),
    ({"a": " ", "b": None}, "an empty row, not a feature"),
    ({"a": "Итоговая ведомость"}, None),
    ({"a": "Копище", "b": "Всего"}, None),
])
def test_totals_and_notes_rows(row, reason):
    assert totals_reason(row) == reason


# --- the other sheets of a workbook; header rows of formats without one (issue 16, F) -------

def station_book(path: Path, sheets: dict[str, list[dict[str, str]]]) -> Path:
    """A workbook with one sheet of stations (name, lat, lon) per entry; an empty first
    sheet and a sheet of notes without coordinates besides."""
    book = openpyxl.Workbook()
    book.active.title = "Пусты"
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(["Назва", "Шырата", "Даўгата"])
        for row in rows:
            sheet.append([row["Па-беларуску правільнае"], float(row["lat"]), float(row["lon"])])
    notes = book.create_sheet("Заўвагі")
    notes.append(["Заўвага"])
    notes.append(["Каардынаты паводле OSM"])
    book.save(path)
    return path


def test_a_manifest_of_a_workbook_notes_its_other_sheets_with_data(tmp_path, publish,
                                                                    catalog, store):
    first, second = stations(6), stations(4, start=50)
    station_book(tmp_path / "book.xlsx", {"Станцыі": first, "Прыпынкі": second})
    report = publish(write_manifest(tmp_path, "book", {"path": "book.xlsx"}))
    assert ("read sheet 'Станцыі'; the other sheets with data ('Прыпынкі', 'Заўвагі') are "
            "not read: to publish one, set source.layer in the manifest to its name"
            ) in report.notes
    expected = [{"lon": float(r["lon"]), "lat": float(r["lat"])} for r in first]
    rows = _rows(store, catalog.get_layer("book"))
    check_points(rows, expected)
    assert [r.properties["nazva"] for r in rows] == [r["Па-беларуску правільнае"] for r in first]
    report = publish(write_manifest(tmp_path, "book-2", {"path": "book.xlsx",
                                                         "layer": "Прыпынкі"}))
    assert not [n for n in report.notes if "other sheets" in n]
    check_points(_rows(store, catalog.get_layer("book-2")),
                 [{"lon": float(r["lon"]), "lat": float(r["lat"])} for r in second])


def test_a_workbook_lists_its_sheets_with_data_as_tables(tmp_path):
    from geoportal.etl.readers import list_tables

    path = station_book(tmp_path / "book.xlsx", {"Станцыі": stations(3), "Прыпынкі": []})
    assert list_tables(path) == ["Станцыі", "Заўвагі"]  # no rows under the header: left out


def _shapefile(path: Path) -> Path:
    import pyogrio

    rows = stations(3)
    data = {"name": [r["Па-беларуску правільнае"] for r in rows]}
    geoms = [shapely.Point(float(r["lon"]), float(r["lat"])).wkb for r in rows]
    import pyarrow as pa

    table = pa.table({**data, "geometry": pa.array(geoms, pa.binary())})
    pyogrio.write_arrow(table, path, driver="ESRI Shapefile", crs="EPSG:4326",
                        geometry_name="geometry", geometry_type="Point")
    return path


@pytest.mark.parametrize(("name", "kind"), [("stations.shp", "Shapefile"),
                                            ("stations.geojson", "GeoJSON file")])
def test_header_row_for_a_format_without_one_is_refused(tmp_path, name, kind):
    path = tmp_path / name
    if name.endswith(".shp"):
        _shapefile(path)
    else:
        path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                        '"properties": {"name": "Мінск"}, "geometry": {"type": "Point", '
                        '"coordinates": [27.55, 53.9]}}]}', encoding="utf-8")
    with pytest.raises(InputError) as info:
        resolve_source(SourceSpec(path=path, header_row=2))
    assert str(info.value) == (
        f"{name}: source.header_row applies to CSV and sheets (XLSX, ODS) only, and this is "
        f"a {kind}, whose columns have names of their own: leave source.header_row out")
    assert resolve_source(SourceSpec(path=path)).feature_count in (1, 3)
