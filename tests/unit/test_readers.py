"""Reading every kind of file regions send: resolve_source and open_batches on real files.

Small files are written in tmp_path; the real fixtures under /work/shared/data are read in place
(read-only) and skipped where that folder is absent.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyogrio
import pytest
import shapely

from geoportal.errors import EncodingError, InputError, UnsupportedFormat
from geoportal.etl import readers
from geoportal.etl.detect import detect_dbf_encoding
from geoportal.etl.manifest import SourceSpec
from geoportal.etl.readers import GEOMETRY, open_batches, resolve_source
from geoportal.etl.sources import SOURCE_ONLY, Staging, copy_names

DATA = Path("/work/shared/data")
FIXTURES = DATA / "fixtures"
TULA = FIXTURES / "tula_osm_settlements_noprj_noshx"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="the shared real data is absent")


def _read(path: Path, **spec: str):
    """The resolved source, every row's properties and every geometry (None where null)."""
    source = resolve_source(SourceSpec(path=path, **spec))
    with open_batches(source) as batches:
        table = pa.concat_tables(list(batches))
    geoms = shapely.from_wkb(table.column(GEOMETRY).to_numpy(zero_copy_only=False))
    kept = [n for n in table.column_names if n != GEOMETRY and not n.startswith(SOURCE_ONLY)]
    return source, table.select(kept).to_pylist(), list(geoms)


def _xy(geoms) -> list[tuple[float, float] | None]:
    return [None if g is None else (round(g.x, 6), round(g.y, 6)) for g in geoms]


def _points_table(names: list[str], points: list[tuple[float, float]]) -> pa.Table:
    wkb = shapely.to_wkb([shapely.Point(p) for p in points])
    return pa.table({"name": names, "geometry": pa.array(wkb, pa.binary())})


def _shapefile(folder: Path, stem: str = "pts", *, encoding: str = "UTF-8",
               crs: str | None = "EPSG:4326") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.shp"
    pyogrio.write_arrow(_points_table(["Мінск", "Гомель"], [(27.55, 53.9), (30.98, 52.44)]),
                        path, driver="ESRI Shapefile", geometry_name="geometry",
                        geometry_type="Point", crs=crs, encoding=encoding)
    return path


def _zip(path: Path, files: dict[str, Path | bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in files.items():
            data = content.read_bytes() if isinstance(content, Path) else content
            zf.writestr(name, data)
    return path


def _temp_copies() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("geoportal-read-*")}


# --- Shapefile --------------------------------------------------------------------------------

def test_loose_shapefile_reads_with_crs_and_encoding_from_cpg(tmp_path):
    source, rows, geoms = _read(_shapefile(tmp_path))
    assert (source.format, source.crs, source.geometry_type) == ("ESRI Shapefile", "EPSG:4326",
                                                                 "Point")
    assert source.feature_count == 2
    assert [r["name"] for r in rows] == ["Мінск", "Гомель"]
    assert _xy(geoms) == [(27.55, 53.9), (30.98, 52.44)]


def test_shapefile_without_prj_and_cpg_has_no_crs_and_a_detected_encoding(tmp_path):
    shp = _shapefile(tmp_path, encoding="CP1251")
    shp.with_suffix(".prj").unlink()
    shp.with_suffix(".cpg").unlink()
    source, rows, _ = _read(shp)
    assert source.crs is None
    assert source.encoding == "CP1251"
    assert [r["name"] for r in rows] == ["Мінск", "Гомель"]


def test_shapefile_without_dbf_is_an_input_error(tmp_path):
    shp = _shapefile(tmp_path)
    shp.with_suffix(".dbf").unlink()
    with pytest.raises(InputError, match=r"pts\.shp: the Shapefile's \.dbf is missing"):
        resolve_source(SourceSpec(path=shp))


def test_zip_with_a_folder_and_macos_junk_inside(tmp_path):
    shp = _shapefile(tmp_path / "src")
    files: dict[str, Path | bytes] = {f"data/roads/pts{p.suffix}": p
                                      for p in shp.parent.iterdir()}
    files["__MACOSX/data/roads/._pts.shp"] = b"\x00\x05\x16\x07junk"
    source, rows, geoms = _read(_zip(tmp_path / "pts.zip", files))
    assert source.gdal_path.endswith("pts.zip/data/roads/pts.shp")
    assert [r["name"] for r in rows] == ["Мінск", "Гомель"]
    assert _xy(geoms) == [(27.55, 53.9), (30.98, 52.44)]
    assert source.crs == "EPSG:4326"


@needs_data
def test_real_zipped_shapefile_in_us_feet():
    source, rows, _ = _read(FIXTURES / "nyc_boroughs_epsg2263" / "nybb_16a.zip")
    assert (source.crs, source.feature_count, len(rows)) == ("EPSG:2263", 5, 5)
    assert "Staten Island" in {r["BoroName"] for r in rows}


def test_zip_with_several_shapefiles_needs_the_layer_named(tmp_path):
    a = _shapefile(tmp_path / "a", "schools")
    b = _shapefile(tmp_path / "b", "parks", encoding="CP1251")
    files: dict[str, Path | bytes] = {f"x/{p.name}": p for p in a.parent.iterdir()}
    files.update({p.name: p for p in b.parent.iterdir() if p.suffix != ".cpg"})
    path = _zip(tmp_path / "two.zip", files)
    with pytest.raises(InputError, match=r"two\.zip: the zip holds 2 Shapefiles \(schools, "
                                         r"parks\); name one with source\.layer"):
        resolve_source(SourceSpec(path=path))
    with pytest.raises(InputError, match=r"'lakes' names no single Shapefile in the zip; it "
                                         r"holds x/schools, parks"):
        resolve_source(SourceSpec(path=path, layer="lakes"))
    source, rows, _ = _read(path, layer="parks")
    # The DBF encoding is detected on the named member (no .cpg there), not the first one.
    assert source.encoding == "CP1251"
    assert [r["name"] for r in rows] == ["Мінск", "Гомель"]


def test_zip_that_is_not_a_zip_or_holds_no_shapefile(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(UnsupportedFormat, match=r"bad\.zip: not a readable zip archive"):
        resolve_source(SourceSpec(path=tmp_path / "bad.zip"))
    path = _zip(tmp_path / "doc.zip", {"readme.txt": b"hello"})
    with pytest.raises(UnsupportedFormat, match=r"doc\.zip: the zip holds no Shapefile .* "
                                                r"readme\.txt"):
        resolve_source(SourceSpec(path=path))


def test_missing_shx_is_rebuilt_in_a_temporary_folder_removed_after(tmp_path):
    shp = _shapefile(tmp_path)
    shp.with_suffix(".shx").unlink()
    before = _temp_copies()
    source = resolve_source(SourceSpec(path=shp))
    assert source.staging is not None and source.feature_count == 2
    with open_batches(source) as batches:
        assert len(_temp_copies() - before) == 1  # the copy lives while reading
        rows = pa.concat_tables(list(batches)).column("name").to_pylist()
    assert rows == ["Мінск", "Гомель"]
    assert _temp_copies() == before
    assert not shp.with_suffix(".shx").exists()  # nothing written beside the source
    assert pyogrio.get_gdal_config_option("SHAPE_RESTORE_SHX") is None


def test_missing_shx_in_a_zip(tmp_path):
    shp = _shapefile(tmp_path / "src")
    files: dict[str, Path | bytes] = {p.name: p for p in shp.parent.iterdir()
                                      if p.suffix != ".shx"}
    _, rows, geoms = _read(_zip(tmp_path / "noshx.zip", files))
    assert [r["name"] for r in rows] == ["Мінск", "Гомель"]
    assert _xy(geoms)[0] == (27.55, 53.9)


@needs_data
@pytest.mark.parametrize(("stem", "count"), [("settlement-point", 2874),
                                             ("settlement-polygon", 865)])
def test_real_shapefile_with_only_shp_and_dbf_in_unflagged_utf8(stem, count):
    shp = TULA / f"{stem}.shp"
    guess = detect_dbf_encoding(shp)
    assert guess.encoding == "UTF-8"
    source, rows, geoms = _read(shp)
    assert (source.encoding, source.crs, source.feature_count) == ("UTF-8", None, count)
    assert len(rows) == count and all(g is not None for g in geoms)
    names = {r["NAME"] for r in rows}
    assert {"Тула", "Белёв"} <= names  # read as Latin-1 these would be mojibake ('Ð¢ÑƒÐ»Ð°')
    assert "Тульская область" in {r["A_RGN"] for r in rows}


# --- GeoJSON ----------------------------------------------------------------------------------

def _feature_collection(crs_name: str | None = None) -> str:
    data: dict = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Мінск"},
         "geometry": {"type": "Point", "coordinates": [5417000.0, 5973000.0]}}]}
    if crs_name:
        data["crs"] = {"type": "name", "properties": {"name": crs_name}}
    return json.dumps(data, ensure_ascii=False)


@pytest.mark.parametrize(("suffix", "crs_name", "expected"), [
    (".geojson", None, "EPSG:4326"),
    (".geojson", "urn:ogc:def:crs:EPSG::28405", "EPSG:28405"),
    (".json", "EPSG:32635", "EPSG:32635"),
])
def test_geojson_crs_member_is_carried(tmp_path, suffix, crs_name, expected):
    path = tmp_path / f"a{suffix}"
    path.write_text(_feature_collection(crs_name), encoding="utf-8")
    source, rows, geoms = _read(path)
    assert (source.format, source.crs, source.feature_count) == ("GeoJSON", expected, 1)
    assert rows == [{"name": "Мінск"}]
    assert _xy(geoms) == [(5417000.0, 5973000.0)]


def test_geojson_in_cp1251_is_transcoded_and_a_bom_is_fine(tmp_path):
    cp = tmp_path / "cp.geojson"
    cp.write_bytes(_feature_collection().encode("cp1251"))
    source, rows, _ = _read(cp)
    assert source.encoding == "CP1251" and "CP1251" in source.encoding_reason
    assert rows == [{"name": "Мінск"}]
    bom = tmp_path / "bom.geojson"
    bom.write_bytes(b"\xef\xbb\xbf" + _feature_collection().encode())
    assert _read(bom)[1] == [{"name": "Мінск"}]


@pytest.mark.skipif("GeoJSONSeq" not in pyogrio.list_drivers(), reason="no GeoJSONSeq driver")
@pytest.mark.parametrize("suffix", [".geojsonl", ".geojsons", ".ndjson"])
def test_geojson_sequences(tmp_path, suffix):
    lines = [json.dumps({"type": "Feature", "properties": {"n": i},
                         "geometry": {"type": "Point", "coordinates": [27 + i, 53]}})
             for i in range(3)]
    path = tmp_path / f"seq{suffix}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    source, rows, geoms = _read(path)
    assert (source.format, source.encoding, source.encoding_confidence) == (
        "GeoJSONSeq", "UTF-8", "high")
    assert [r["n"] for r in rows] == [0, 1, 2]
    assert _xy(geoms)[2] == (29.0, 53.0)


def test_newline_delimited_geojson_named_geojson_is_read_too(tmp_path):
    path = tmp_path / "lines.geojson"
    path.write_text("\n".join(json.dumps({"type": "Feature", "properties": {"n": i},
                    "geometry": {"type": "Point", "coordinates": [27, 53]}}) for i in range(2)),
                    encoding="utf-8")
    source, rows, _ = _read(path)
    assert (source.format, [r["n"] for r in rows]) == ("GeoJSONSeq", [0, 1])


# --- GeoPackage -------------------------------------------------------------------------------

def test_geopackage_single_table_or_named_one(tmp_path):
    path = tmp_path / "data.gpkg"
    table = _points_table(["Мінск"], [(27.55, 53.9)])
    for layer in ("schools", "parks"):
        pyogrio.write_arrow(table, path, layer=layer, driver="GPKG", geometry_name="geometry",
                            geometry_type="Point", crs="EPSG:4326")
    with pytest.raises(InputError, match=r"data\.gpkg: holds 2 layers with features "
                                         r"\(schools \(1 feature\), parks \(1 feature\)\)"):
        resolve_source(SourceSpec(path=path))
    source, rows, _ = _read(path, layer="parks")
    assert (source.layer, rows) == ("parks", [{"name": "Мінск"}])
    with pytest.raises(InputError, match=r"has no layer 'lakes'; its layers are schools, parks"):
        resolve_source(SourceSpec(path=path, layer="lakes"))


# --- CSV / TSV / TXT --------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "text"), [
    ("comma.csv", "name,lon,lat\n{a},27.55,53.9\n{b},30.98,52.44\n"),
    ("semicolon.csv", "name;Lng;Lat\r\n{a};27,55;53,9\r\n{b};30,98;52,44\r\n"),
    ("tab.tsv", "name\tLONGITUDE\tLatitude\n{a}\t27,55\t53,9\n{b}\t30,98\t52,44\n"),
    ("tab.txt", "name\tx\ty\n{a}\t27.55\t53.9\n{b}\t30.98\t52.44\n"),
    ("bom.csv", "\ufeffname,\"Долгота, °\",\"Широта, °\"\n{a},27.55,53.9\n{b},30.98,52.44\n"),
    ("be.csv", "name;Даўгата;Шырата\n{a};\"27,55\";\"53,9\"\n{b};30,98;52,44\n"),
    ("quoted.csv", "name,lon,lat\n{a},\"27,55\",\"53,9\"\n{b},\"30,98\",\"52,44\"\n"),
])
def test_csv_coordinates_by_name_separator_and_decimal_comma(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text.format(a="Мінск", b="Гомель"), encoding="utf-8", newline="")
    source, rows, geoms = _read(path)
    assert (source.format, source.geometry_type, source.crs) == ("CSV", "Point", None)
    assert [r["name"] for r in rows] == ["Мінск", "Гомель"]
    assert list(rows[0]) == ["name"]  # the coordinate columns become the geometry
    assert _xy(geoms) == [(27.55, 53.9), (30.98, 52.44)]


def test_csv_header_names_with_units_need_no_manifest(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("Назва;Долгота, °;Широта, °\nА;27,5;53,9\n", encoding="utf-8")
    assert _xy(_read(path)[2]) == [(27.5, 53.9)]


@pytest.mark.parametrize("encoding", ["cp1251", "cp866", "koi8-r"])
def test_cyrillic_csv_encodings_are_told_apart_by_letter_frequencies(tmp_path, encoding):
    path = tmp_path / "cp.csv"
    text = ("Название;Долгота;Широта;Описание\r\n"  # Russian: CP866 and KOI8-R lack і, ў
            "Минск;27,55;53,9;столица республики, крупнейший город страны\r\n"
            "Гомель;30,98;52,44;областной центр на юго-востоке\r\n")
    path.write_bytes(text.encode(encoding))
    source, rows, geoms = _read(path)
    assert source.encoding == encoding.upper()
    assert "not UTF-8" in source.encoding_reason and "frequencies" in source.encoding_reason
    assert source.encoding_confidence in ("high", "medium")
    assert rows[0]["Название"] == "Минск" and _xy(geoms) == [(27.55, 53.9), (30.98, 52.44)]


def test_csv_encoding_from_the_manifest_wins(tmp_path):
    path = tmp_path / "dos.csv"
    path.write_bytes("name,lon,lat\nМинск,27.55,53.9\n".encode("cp866"))
    source, rows, _ = _read(path, encoding="CP866")
    assert (source.encoding, source.encoding_reason) == ("CP866", "set in the manifest")
    assert rows == [{"name": "Минск"}]


def test_bytes_that_are_not_the_manifests_encoding_are_an_encoding_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"name,lon,lat\n\xff\xfe\x81,27,53\n")
    with pytest.raises(EncodingError, match=r"bad\.csv: the text is not valid UTF-16; set "
                                            r"source\.encoding"):
        _read(path, encoding="UTF-16")
    with pytest.raises(InputError, match=r"bad\.csv: unknown encoding 'klingon'"):
        resolve_source(SourceSpec(path=path, encoding="klingon"))


def test_excel_unicode_text_in_utf16(tmp_path):
    path = tmp_path / "excel.txt"
    path.write_bytes("Назва\tlon\tlat\r\nМінск\t27,55\t53,9\r\n".encode("utf-16"))
    source, rows, geoms = _read(path)
    assert source.encoding == "UTF-16"
    assert rows == [{"Назва": "Мінск"}] and _xy(geoms) == [(27.55, 53.9)]


@pytest.mark.parametrize(("header", "spec"), [
    ("name,WKT", {}),
    ("name,the_geom", {}),
    ("name,Geometry", {}),
    ("name,контур", {"geometry_field": "контур"}),
])
def test_csv_wkt_column(tmp_path, header, spec):
    path = tmp_path / "wkt.csv"
    path.write_text(f'{header}\nпарк,"POLYGON ((27 53, 27.1 53, 27.1 53.1, 27 53))"\n'
                    'пусты,\nкропка,"SRID=4326;POINT (27.5 53.9)"\nblah,"not wkt"\n',
                    encoding="utf-8")
    source, rows, geoms = _read(path, **spec)
    assert source.geometry_type == "Unknown" and source.table is not None
    assert [r["name"] for r in rows] == ["парк", "пусты", "кропка", "blah"]
    assert list(rows[0]) == ["name"]
    assert [None if g is None else g.geom_type for g in geoms] == ["Polygon", None, "Point",
                                                                   None]


def test_manifest_x_and_y_fields_override_the_names(tmp_path):
    path = tmp_path / "gk.csv"
    path.write_text("lon,lat,E,N\n1,2,5417000.5,5973000.25\n", encoding="utf-8")
    source, rows, geoms = _read(path, x_field="E", y_field="n")
    assert (source.table.x, source.table.y) == ("E", "N")
    # Text as read: the pipeline types columns (normalize.py), not GDAL.
    assert rows == [{"lon": "1", "lat": "2"}] and _xy(geoms) == [(5417000.5, 5973000.25)]
    with pytest.raises(InputError, match=r"gk\.csv: source\.x_field 'east' is not a column; "
                                         r"the columns are lon, lat, E, N"):
        resolve_source(SourceSpec(path=path, x_field="east", y_field="N"))


def test_rows_with_empty_or_unreadable_coordinates_get_no_geometry(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("name;lon;lat\nа;27,5;53,9\nб;;\nв;x;53\nг; 27 ;53.9°\n", encoding="utf-8")
    _, rows, geoms = _read(path)
    assert len(rows) == 4
    assert _xy(geoms) == [(27.5, 53.9), None, None, (27.0, 53.9)]


def test_csv_without_coordinates_lists_its_columns(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("name,count\nа,1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"plain\.csv: no coordinate columns were found among "
                                         r"name, count; name them lon/lat"):
        resolve_source(SourceSpec(path=path))


def test_batches_stream_and_each_gets_its_geometry(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "BATCH_SIZE", 2)
    path = tmp_path / "many.csv"
    path.write_text("n;lon;lat\n" + "".join(f"{i};27,{i};53,9\n" for i in range(5)),
                    encoding="utf-8")
    source = resolve_source(SourceSpec(path=path))
    with open_batches(source) as batches:
        sizes = [(b.num_rows, b.column(GEOMETRY).null_count) for b in batches]
    assert sizes == [(2, 0), (2, 0), (1, 0)]


@needs_data
def test_real_tsv_with_lng_lat_columns():
    source, rows, geoms = _read(DATA / "transport" / "minsk_stops.tsv")
    assert (source.format, source.table.x, source.table.y) == ("CSV", "Lng", "Lat")
    assert len(rows) == source.feature_count == 2569
    assert sum(g is not None and g.x == 0 and g.y == 0 for g in geoms) == 11


# --- XLSX / ODS -------------------------------------------------------------------------------

def _workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = "Пусты"
    sheet = wb.create_sheet("Школы")
    sheet.append(["Назва", "даўгата", "шырата", "Вучняў"])
    sheet.append(["Школа №1", "27,55", "53,9", 420])
    sheet.append([None, None, None, None])
    sheet.append(["Гімназія", 27.56, 53.91, 610])
    sheet.append(["Без каардынат", "", "няма", 10])
    wb.create_sheet("Паркі").append(["Назва", "WKT"])
    wb["Паркі"].append(["Парк", "POINT (27.6 53.92)"])
    wb.save(path)
    return path


def test_xlsx_first_sheet_with_data_and_points_from_text_cells(tmp_path):
    source, rows, geoms = _read(_workbook(tmp_path / "школы.xlsx"))
    assert (source.format, source.layer, source.geometry_type) == ("XLSX", "Школы", "Point")
    assert source.feature_count == 4
    assert [r["Назва"] for r in rows] == ["Школа №1", None, "Гімназія", "Без каардынат"]
    assert list(rows[0]) == ["Назва", "Вучняў"]
    assert _xy(geoms) == [(27.55, 53.9), None, (27.56, 53.91), None]


def test_xlsx_named_sheet_with_wkt_and_a_missing_sheet(tmp_path):
    path = _workbook(tmp_path / "book.xlsx")
    _, rows, geoms = _read(path, layer="Паркі")
    assert rows == [{"Назва": "Парк"}] and _xy(geoms) == [(27.6, 53.92)]
    with pytest.raises(InputError, match=r"book\.xlsx: has no layer 'Аркуш1'; its layers are "
                                         r"Пусты, Школы, Паркі"):
        resolve_source(SourceSpec(path=path, layer="Аркуш1"))


def test_xlsx_streams_in_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "BATCH_SIZE", 2)
    source = resolve_source(SourceSpec(path=_workbook(tmp_path / "b.xlsx")))
    with open_batches(source) as batches:
        assert [b.num_rows for b in batches] == [2, 2]


@needs_data
def test_census_workbook_without_coordinates_is_a_clear_input_error():
    path = DATA / "census" / "census2009_population_by_settlement.xlsx"
    with pytest.raises(InputError, match="no coordinate columns were found") as info:
        resolve_source(SourceSpec(path=path))
    assert str(info.value).startswith(f"{path.name}: ")


@pytest.mark.skipif("ODS" not in pyogrio.list_drivers(), reason="no ODS driver")
def test_ods_sheet(tmp_path):
    path = tmp_path / "a.ods"
    pyogrio.write_arrow(pa.table({"Назва": ["а"], "Lon": ["27,5"], "Lat": ["53,9"]}), path,
                        driver="ODS", layer="Аркуш")
    source, rows, geoms = _read(path)
    assert (source.format, rows, _xy(geoms)) == ("ODS", [{"Назва": "а"}], [(27.5, 53.9)])


# --- KML / KMZ / GPX --------------------------------------------------------------------------

_KML_TEXT = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Мінск</name>
<Folder><name>Школы</name>
<Placemark><name>Школа №1</name><Point><coordinates>27.55,53.9</coordinates></Point></Placemark>
<Placemark><name>Школа №2</name><Point><coordinates>27.56,53.91</coordinates></Point></Placemark>
</Folder>
<Folder><name>Паркі</name><Placemark><name>Парк Чалюскінцаў</name><Polygon><outerBoundaryIs>
<LinearRing><coordinates>27.6,53.9 27.62,53.9 27.62,53.92 27.6,53.9</coordinates></LinearRing>
</outerBoundaryIs></Polygon></Placemark></Folder>
</Document></kml>"""


def _name_field(row: dict) -> str:
    return row.get("Name", row.get("name"))


@pytest.mark.parametrize("suffix", [".kml", ".kmz"])
def test_kml_and_kmz_folders_are_layers(tmp_path, suffix):
    path = tmp_path / f"places{suffix}"
    if suffix == ".kmz":
        _zip(path, {"doc.kml": _KML_TEXT.encode()})
    else:
        path.write_text(_KML_TEXT, encoding="utf-8")
    with pytest.raises(InputError, match=r"holds 2 layers with features \(Школы \(2 features\), "
                                         r"Паркі \(1 feature\)\); name one with source\.layer"):
        resolve_source(SourceSpec(path=path))
    source, rows, geoms = _read(path, layer="Школы")
    assert source.format in ("LIBKML", "KML") and source.crs == "EPSG:4326"
    assert [_name_field(r) for r in rows] == ["Школа №1", "Школа №2"]
    assert _xy(geoms) == [(27.55, 53.9), (27.56, 53.91)]


def test_kml_with_one_folder_needs_no_layer(tmp_path):
    path = tmp_path / "one.kml"
    path.write_text(_KML_TEXT.split("<Folder><name>Паркі")[0] + "</Document></kml>",
                    encoding="utf-8")
    _, rows, _ = _read(path)
    assert [_name_field(r) for r in rows] == ["Школа №1", "Школа №2"]


@needs_data
def test_real_gpx_takes_the_only_non_empty_of_waypoints_routes_tracks():
    path = FIXTURES / "sample_track.gpx"
    source, rows, geoms = _read(path)
    assert (source.layer, source.geometry_type, len(rows)) == ("tracks", "MultiLineString", 1)
    assert geoms[0].geom_type == "MultiLineString" and source.crs == "EPSG:4326"
    _, points, _ = _read(path, layer="track_points")
    assert len(points) > 10


def test_gpx_with_waypoints_and_a_track_needs_the_layer_named(tmp_path):
    path = tmp_path / "walk.gpx"
    path.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="53.9" lon="27.55"><name>Ратуша</name></wpt>
<trk><name>Шлях</name><trkseg><trkpt lat="53.9" lon="27.55"/><trkpt lat="53.91" lon="27.56"/>
</trkseg></trk></gpx>""", encoding="utf-8")
    with pytest.raises(InputError, match=r"waypoints \(1 feature\), routes \(0 features\), "
                                         r"tracks \(1 feature\)\); name one with source\.layer"):
        resolve_source(SourceSpec(path=path))
    _, rows, geoms = _read(path, layer="waypoints")
    assert rows[0]["name"] == "Ратуша" and _xy(geoms) == [(27.55, 53.9)]


# --- GML / TopoJSON ---------------------------------------------------------------------------

def test_gml_written_by_gdal(tmp_path):
    path = tmp_path / "schools.gml"
    pyogrio.write_arrow(_points_table(["Школа"], [(27.55, 53.9)]), path, driver="GML",
                        layer="schools", geometry_name="geometry", geometry_type="Point",
                        crs="EPSG:4326")
    source, rows, geoms = _read(path)
    assert (source.format, source.layer, source.crs) == ("GML", "schools", "EPSG:4326")
    assert rows[0]["name"] == "Школа" and _xy(geoms) == [(27.55, 53.9)]


def test_hand_written_gml32_without_schema_writes_no_gfs(tmp_path):
    path = tmp_path / "wfs.gml"
    path.write_text("""<?xml version="1.0" encoding="UTF-8"?>
<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0"
    xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:app="http://example.org/app">
  <wfs:member><app:school gml:id="s1"><app:name>Школа №1</app:name><app:pupils>420</app:pupils>
    <app:geom><gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>53.9 27.55</gml:pos>
    </gml:Point></app:geom></app:school></wfs:member>
  <wfs:member><app:school gml:id="s2"><app:name>Гімназія</app:name><app:pupils>610</app:pupils>
    <app:geom><gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>53.91 27.56</gml:pos>
    </gml:Point></app:geom></app:school></wfs:member>
</wfs:FeatureCollection>""", encoding="utf-8")
    source, rows, geoms = _read(path)
    assert (source.layer, source.crs) == ("school", "EPSG:4326")
    assert [(r["name"], r["pupils"]) for r in rows] == [("Школа №1", 420), ("Гімназія", 610)]
    assert _xy(geoms) == [(27.55, 53.9), (27.56, 53.91)]  # lat/lon order turned to x/y
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wfs.gml"]


@needs_data
def test_real_topojson():
    source, rows, geoms = _read(FIXTURES / "example.topojson")
    assert (source.format, source.layer, len(rows)) == ("TopoJSON", "example", 3)
    assert [g.geom_type for g in geoms] == ["Point", "LineString", "Polygon"]


def test_topojson_with_several_objects_needs_the_layer_named(tmp_path):
    point = {"type": "Point", "coordinates": [27.5, 53.9], "properties": {"n": "а"}}
    topo = {"type": "Topology", "arcs": [], "objects": {
        "schools": {"type": "GeometryCollection", "geometries": [point]},
        "parks": {"type": "GeometryCollection", "geometries": [point, point]}}}
    path = tmp_path / "two.topojson"
    path.write_text(json.dumps(topo), encoding="utf-8")
    with pytest.raises(InputError, match=r"schools \(1 feature\), parks \(2 features\)"):
        resolve_source(SourceSpec(path=path))
    assert len(_read(path, layer="parks")[1]) == 2


# --- Unknown and mismatched files -------------------------------------------------------------

@pytest.mark.parametrize("name", ["notes.docx", "README"])
def test_unknown_extension_names_it_and_lists_what_we_read(tmp_path, name):
    (tmp_path / name).write_bytes(b"PK\x03\x04")
    with pytest.raises(UnsupportedFormat, match=r"unsupported file type .*; we read .*\.csv.*"
                                                r"\.geojson.*\.gpkg.*\.kml.*\.shp.*\.xlsx") as info:
        resolve_source(SourceSpec(path=tmp_path / name))
    assert str(info.value).startswith(f"{name}: ")  # the name, not the server's folder
    assert ("'.docx'" if name.endswith("docx") else "without an extension") in str(info.value)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("a.gpkg", _feature_collection(), r"a\.gpkg: the content is not \.gpkg as the extension "
                                      r"says"),
    ("a.geojson", "name,lon,lat\nа,27,53\n",
     r"a\.geojson: the content is not \.geojson as the extension says"),
    ("a.xlsx", "name,lon,lat\nа,27,53\n", r"a\.xlsx: not a readable zip archive"),
    ("a.kml", _feature_collection(), r"a\.kml: not readable XML at its start"),
    ("a.csv", b"PK\x03\x04\x14\x00\x00\x00\x08\x00", r"a\.csv: binary content, not text"),
])
def test_content_that_does_not_match_the_extension(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(UnsupportedFormat, match=message):
        resolve_source(SourceSpec(path=path))


def test_missing_empty_and_folder_sources(tmp_path):
    with pytest.raises(InputError, match=r"nothing\.geojson: file not found"):
        resolve_source(SourceSpec(path=tmp_path / "nothing.geojson"))
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.csv: the file is empty"):
        resolve_source(SourceSpec(path=tmp_path / "empty.csv"))
    (tmp_path / "dir.shp").mkdir()
    with pytest.raises(UnsupportedFormat, match=r"dir\.shp: a folder, not a data file"):
        resolve_source(SourceSpec(path=tmp_path / "dir.shp"))


# --- Odd but legal names, and GDAL's messages (issue 15) ------------------------------------------

@pytest.mark.parametrize("stem", ["roads;v2", "roads?v=2", "s3:roads", "roads#1 (копія)"])
def test_odd_names_are_read_whole(tmp_path, stem):
    """pyogrio reads paths as URIs (``;`` starts parameters): GDAL opens a plain-named link."""
    csv = tmp_path / f"{stem}.csv"
    csv.write_text("name,lon,lat\nа,27.5,53.9\n", encoding="utf-8")
    _, rows, geoms = _read(csv)
    assert rows == [{"name": "а"}] and _xy(geoms) == [(27.5, 53.9)]
    plain = _shapefile(tmp_path / "loose")  # pyogrio cannot write such a name either
    for part in plain.parent.iterdir():
        part.rename(part.with_name(stem + part.suffix))
    shp = plain.with_name(f"{stem}.shp")
    assert len(_read(shp)[1]) == 2
    zipped = _zip(tmp_path / f"{stem}.zip", {f"{stem}.{ext}": shp.with_suffix(f".{ext}")
                                              for ext in ("shp", "shx", "dbf", "prj")})
    assert len(_read(zipped)[1]) == 2


def test_geojson_with_a_crs_link_is_refused_before_gdal(tmp_path):
    path = tmp_path / "a.geojson"
    crs = {"type": "link", "properties": {"href": "http://127.0.0.1:9/crs"}}
    path.write_text(json.dumps({"type": "FeatureCollection", "crs": crs, "features": []}))
    with pytest.raises(UnsupportedFormat, match=r"^a\.geojson: the GeoJSON names its CRS by a "
                                                r"link or URL"):
        resolve_source(SourceSpec(path=path))
    path.write_text(path.read_text().replace("link", "\\u006cink"))
    with pytest.raises(UnsupportedFormat, match=r"escapes plain letters"):
        resolve_source(SourceSpec(path=path))


def test_gdal_reasons_name_the_file_not_its_folder(tmp_path):
    path = tmp_path / "deep" / "a.gpx"
    path.parent.mkdir()
    path.write_text('<gpx version="1.1"><wpt lat="53.9" lon="27.5"></gpx>')
    with pytest.raises(UnsupportedFormat) as info:
        resolve_source(SourceSpec(path=path))
    assert str(info.value).startswith("a.gpx: ")
    assert str(tmp_path) not in str(info.value)


@pytest.mark.parametrize(("name", "data"), [
    ("roads;v2.geojson", b'{"foo": 1}'),  # read through a plain-named link
    ("дарогі.geojson", '{"назва": "дарога"}'.encode("cp1251")),  # through a UTF-8 copy
])
def test_gdal_reasons_name_the_users_file_not_the_copy_gdal_read(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(UnsupportedFormat) as info:
        resolve_source(SourceSpec(path=path))
    message = str(info.value)
    assert message.startswith(f"{name}: GDAL cannot read it"), message
    assert f"'{name}' not recognized" in message
    assert "source.geojson" not in message and str(tmp_path) not in message


def test_copy_names_map_a_zipped_shapefiles_parts_back():
    staging = Staging("restore-shx", Path("/up/roads.zip"), "source.shp",
                      members=("roads/Roads.shp", "roads/Roads.DBF"))
    assert copy_names(staging) == {"source.shp": "roads.zip/roads/Roads.shp",
                                   "source.dbf": "roads.zip/roads/Roads.DBF"}
    assert copy_names(None) == {}
