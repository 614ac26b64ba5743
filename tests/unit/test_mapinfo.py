"""MapInfo TAB and MIF/MID, DXF, and files of several tables (issue 16, helper A).

Every file is a messy derivative of the shared settlements (94 Belarusian cities) built in
``tmp_path`` with pyogrio (GDAL's own MapInfo and DXF writers): CP1251 TABs in Pulkovo 1942
Gauss-Kruger zone 5, a charset that says Neutral or lies, a MIF in CP866, a NonEarth table,
parts missing, zips of several tables. Published positions are checked against pyproj
within 1e-6 degrees and names against the source text, on both stores; the CLI is run as a
real ``geoportal`` process.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pyogrio
import pyproj
import pytest
import shapely
from pyogrio.raw import write

from geoportal.errors import InputError
from geoportal.etl import mapinfo
from geoportal.etl.manifest import SourceSpec
from geoportal.etl.readers import fingerprint, list_tables, resolve_source
from geoportal.etl.sandbox import RefusedFile, check_content
from geoportal.storage import Query
from tests.conftest import Portal, write_manifest

SETTLEMENTS = Path("/work/shared/data/settlements/settlements_94_cities.geojson")
needs_data = pytest.mark.skipif(not SETTLEMENTS.exists(), reason="shared data not mounted")
pytestmark = [needs_data, pytest.mark.filterwarnings("ignore:.crs. was not provided")]
COUNTRY = "0000000000"


def cities() -> list[dict]:
    """The 94 cities (name_be, name_ru, lon, lat) of the shared settlements file."""
    data = json.loads(SETTLEMENTS.read_text(encoding="utf-8"))
    return [{"name_be": f["properties"]["name_be"], "name_ru": f["properties"]["name_ru"],
             "lon": f["geometry"]["coordinates"][0], "lat": f["geometry"]["coordinates"][1]}
            for f in data["features"]]


def projected(rows: list[dict], epsg: int) -> np.ndarray:
    t = pyproj.Transformer.from_crs(4326, epsg, always_xy=True)
    return np.column_stack(t.transform([r["lon"] for r in rows], [r["lat"] for r in rows]))


def expected_lonlat(xy: np.ndarray, epsg: int) -> np.ndarray:
    t = pyproj.Transformer.from_crs(epsg, 4326, always_xy=True)
    return np.column_stack(t.transform(xy[:, 0], xy[:, 1]))


def write_table(path: Path, epsg: int | None, *, encoding: str = "CP1251",
                rows: list[dict] | None = None, layer_field: str | None = None) -> np.ndarray:
    """The cities as a MapInfo TAB or MIF (by ``path``'s suffix) or a DXF, in ``epsg``
    (``None``: the coordinates of EPSG:28405 with no CRS written); returns the x/y."""
    rows = rows if rows is not None else cities()
    xy = projected(rows, epsg or 28405)
    geoms = np.array(shapely.to_wkb(shapely.points(xy)), dtype=object)
    suffix = path.suffix.lower()
    if suffix == ".dxf":
        layers = np.array([layer_field or "cities"] * len(rows), dtype=object)
        write(str(path), geometry=geoms, field_data=[layers], fields=["Layer"], crs=None,
              driver="DXF", geometry_type="Point")
        return xy
    names = [np.array([r[k] for r in rows], dtype=object) for k in ("name_be", "name_ru")]
    write(str(path), geometry=geoms, field_data=names, fields=["name_be", "name_ru"],
          crs=f"EPSG:{epsg}" if epsg else None, driver="MapInfo File", geometry_type="Point",
          layer_options={"ENCODING": encoding},
          dataset_options={"FORMAT": "MIF"} if suffix == ".mif" else {})
    return xy


def parts(main: Path) -> list[Path]:
    return sorted(p for p in main.parent.iterdir() if p.stem == main.stem)


def zip_tables(path: Path, *mains: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for main in mains:
            for part in parts(main):
                zf.write(part, f"{main.parent.name}/{part.name}")
    return path


def _rows(store, layer):
    return store.query(layer.current.store_ref, layer.current.fields, Query(limit=1000)).rows


def assert_published(store, catalog, layer_id: str, xy: np.ndarray, epsg: int,
                     rows: list[dict] | None = None) -> None:
    """Every city published where pyproj puts the file's x/y, under its own name."""
    rows = rows if rows is not None else cities()
    want = {r["name_be"]: tuple(p) for r, p in zip(rows, expected_lonlat(xy, epsg), strict=True)}
    got = {f.properties["name_be"]: (f.geometry.x, f.geometry.y)
           for f in _rows(store, catalog.get_layer(layer_id))}
    assert set(got) == set(want)
    for name, (lon, lat) in got.items():
        assert lon == pytest.approx(want[name][0], abs=1e-6), name
        assert lat == pytest.approx(want[name][1], abs=1e-6), name


@pytest.fixture
def cli(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Portal:
    """The real ``geoportal`` command on a fresh data folder of the test's store."""
    url = request.getfixturevalue("postgres").new_database() if backend == "postgis" else None
    portal = Portal(tmp_path / "var", url)
    portal.cli("init")
    return portal


# --- the header and the CRS ----------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:You will likely lose")
@pytest.mark.parametrize(("key", "code"), sorted(mapinfo._PULKOVO_TM.items()))
def test_every_pulkovo_zone_in_the_table_is_that_epsg_code(key, code):
    params = pyproj.CRS.from_epsg(code).to_dict()
    assert (params["lon_0"], params["x_0"], params["k"], params["ellps"]) == (*key, 1, "krass")


@pytest.mark.parametrize(("coordsys", "code"), [
    ('Earth Projection 8, 1001, "m", 27, 0, 1, 5500000, 0', "EPSG:28405"),
    ('Earth Projection 8, 1001, "m", 21, 0, 1, 4500000, 0', "EPSG:28404"),
    ('Earth Projection 8, 9999, 3, 23.92, -141.27, -80.9, 0, 0.35, 0.82, -0.12, 0, "m", 33, 0, '
     '1, 6500000, 0', "EPSG:28406"),
    ('Earth Projection 8, 1001, "m", 30, 0, 1, 500000, 0', "EPSG:2585"),
    ('Earth Projection 8, 1001, "m", 27, 0, 1, 9500000, 0', "EPSG:2525"),
    ('Earth Projection 8, 104, "m", 21, 0, 0.9996, 500000, 0', "EPSG:32634"),
    ('Earth Projection 8, 104, "m", 33, 0, 0.9996, 500000, 0', "EPSG:32636"),
    ('NonEarth Units "m" Bounds (0, 0) (10000000, 10000000)', None),
])
def test_mif_coordsys_maps_to_its_epsg_code_and_says_so(tmp_path, coordsys, code):
    mif = tmp_path / "t.mif"
    mif.write_text(f'Version 300\nCharset "WindowsCyrillic"\nDelimiter ","\nCoordSys {coordsys}'
                   '\nColumns 1\n  name Char(20)\nData\n\nPoint 5512345 6012345\n')
    (tmp_path / "t.mid").write_bytes('"Мінск"\n'.encode("cp1251"))
    source = resolve_source(SourceSpec(path=mif))
    assert source.crs == code
    if code:
        assert source.crs_reason == f"MapInfo CoordSys {coordsys} in t.mif = {code} " \
                                    f"({pyproj.CRS(code).name})"
    else:
        assert source.crs_reason is None
        assert "NonEarth" in source.notes[0]


def test_a_custom_datum_shift_is_kept_not_mapped(tmp_path):
    mif = tmp_path / "t.mif"
    mif.write_text('Version 300\nCharset "Neutral"\nCoordSys Earth Projection 8, 9999, 3, 25, '
                   '-141, -78.5, 0, 0.35, 0.736, 0, 0, "m", 27, 0, 1, 5500000, 0\nColumns 1\n'
                   '  name Char(20)\nData\n\nPoint 5512345 6012345\n')
    (tmp_path / "t.mid").write_text('"x"\n')
    source = resolve_source(SourceSpec(path=mif))
    assert "25,-141,-78.5" in source.crs and source.crs_reason is None


# --- publishing ----------------------------------------------------------------------------

def test_cp1251_tab_in_pulkovo_zone5_is_published_as_epsg_28405(tmp_path, publish, catalog,
                                                                store):
    xy = write_table(tmp_path / "Гарады.tab", 28405)
    for part in parts(tmp_path / "Гарады.tab"):  # as MapInfo on Windows names them
        part.rename(part.with_suffix(part.suffix.upper()))
    report = publish(write_manifest(tmp_path, "cities-tab", {"path": "Гарады.TAB"}))
    assert (report.format, report.features_published, report.set_aside_count) == (
        "MapInfo File", 94, 0)
    assert (report.source_crs, report.crs_origin) == ("EPSG:28405", "file")
    assert report.crs_reason.startswith("MapInfo CoordSys Earth Projection 8 (Transverse "
                                        "Mercator, Pulkovo 1942)")
    assert report.crs_reason.endswith("in Гарады.TAB = EPSG:28405 (Pulkovo 1942 / "
                                      "Gauss-Kruger zone 5)")
    assert (report.encoding, report.encoding_reason) == (
        "CP1251", "charset WindowsCyrillic, and the text agrees")
    assert_published(store, catalog, "cities-tab", xy, 28405)


def _say_charset(tab: Path, charset: str) -> None:
    text = tab.read_bytes().replace(b"WindowsCyrillic", charset.encode())
    tab.write_bytes(text)


def test_neutral_charset_is_read_as_the_cp1251_the_dat_holds(tmp_path, publish, catalog, store):
    xy = write_table(tmp_path / "cities.tab", 32635)
    _say_charset(tmp_path / "cities.tab", "Neutral")
    report = publish(write_manifest(tmp_path, "neutral", {"path": "cities.tab"}))
    assert report.encoding == "CP1251"
    assert report.encoding_reason.startswith("charset Neutral; Cyrillic letter frequencies")
    assert report.source_crs == "EPSG:32635"
    assert_published(store, catalog, "neutral", xy, 32635)


def test_a_charset_that_lies_gives_way_to_the_utf8_text(tmp_path, publish, catalog, store):
    xy = write_table(tmp_path / "cities.tab", 28405, encoding="UTF-8")
    tab = tmp_path / "cities.tab"
    tab.write_bytes(tab.read_bytes().replace(b"!charset UTF-8", b"!charset WindowsCyrillic")
                    .replace(b'Charset "UTF-8"', b'Charset "WindowsCyrillic"'))
    assert b"WindowsCyrillic" in tab.read_bytes()
    report = publish(write_manifest(tmp_path, "lying", {"path": "cities.tab"}))
    assert (report.encoding, report.encoding_reason) == (
        "UTF-8", "charset WindowsCyrillic, but the text is valid UTF-8")
    assert_published(store, catalog, "lying", xy, 28405)


def test_a_mif_in_cp866_is_transcoded_and_published(tmp_path, publish, catalog, store):
    rows = [{**r, "name_be": r["name_ru"]} for r in cities()]  # CP866 has no і or ў
    xy = write_table(tmp_path / "cities.mif", 28405, rows=rows)
    mid = tmp_path / "cities.mid"
    mid.write_bytes(mid.read_bytes().decode("cp1251").encode("cp866"))
    report = publish(write_manifest(tmp_path, "dos", {"path": "cities.mif"}))
    assert report.encoding == "CP866"
    assert report.encoding_reason.startswith("charset WindowsCyrillic, but the text is not")
    assert report.source_crs == "EPSG:28405"
    assert_published(store, catalog, "dos", xy, 28405, rows)


def test_a_nonearth_table_has_its_crs_detected(tmp_path, publish, catalog, store):
    xy = write_table(tmp_path / "cities.mif", None)
    mif = tmp_path / "cities.mif"
    mif.write_bytes(mif.read_bytes().replace(b'Delimiter ","\n', b'Delimiter ","\nCoordSys '
                                             b'NonEarth Units "m" Bounds (0, 0) (1e7, 1e7)\n'))
    assert b"NonEarth" in mif.read_bytes()
    report = publish(write_manifest(tmp_path, "nonearth", {"path": "cities.mif"}))
    assert (report.source_crs, report.crs_origin) == ("EPSG:28405", "detected")
    assert any("CoordSys NonEarth in cities.mif" in n for n in report.notes)
    assert_published(store, catalog, "nonearth", xy, 28405)


def test_dxf_points_keep_their_cad_layer_and_drop_drawing_columns(tmp_path, publish, catalog,
                                                                 store):
    xy = write_table(tmp_path / "cities.dxf", None, layer_field="Гарады")
    report = publish(write_manifest(tmp_path, "cad", {"path": "cities.dxf"}))
    assert (report.format, report.features_published) == ("DXF", 94)
    assert (report.source_crs, report.crs_origin) == ("EPSG:28405", "detected")
    for name in ("SubClasses", "Linetype", "EntityHandle"):
        assert f"field {name!r} not published: DXF drawing setting, not data" in report.notes
    layer = catalog.get_layer("cad")
    assert [f.name for f in layer.current.fields] == ["layer"]
    rows = _rows(store, layer)
    assert {r.properties["layer"] for r in rows} == {"Гарады"}
    want = expected_lonlat(xy, 28405)
    got = np.array(sorted((r.geometry.x, r.geometry.y) for r in rows))
    assert np.abs(got - np.array(sorted(map(tuple, want)))).max() < 1e-6


def test_a_zip_of_several_tables_wants_source_layer_naming_them(tmp_path, publish, catalog,
                                                                store):
    (tmp_path / "a").mkdir()
    write_table(tmp_path / "a" / "goroda.tab", 28405)
    xy = write_table(tmp_path / "a" / "goroda2.mif", 32635)
    archive = zip_tables(tmp_path / "raion.zip", tmp_path / "a" / "goroda.tab",
                         tmp_path / "a" / "goroda2.mif")
    assert list_tables(archive) == ["goroda", "goroda2"]
    with pytest.raises(InputError, match=r"raion\.zip: the zip holds 2 MapInfo tables \(goroda, "
                                         r"goroda2\); name one with source\.layer"):
        publish(write_manifest(tmp_path, "raion", {"path": "raion.zip"}))
    report = publish(write_manifest(tmp_path, "raion", {"path": "raion.zip",
                                                        "layer": "goroda2"}))
    assert (report.format, report.source_crs) == ("MapInfo File", "EPSG:32635")
    assert_published(store, catalog, "raion", xy, 32635)


# --- refusals ------------------------------------------------------------------------------

@pytest.mark.parametrize(("gone", "words"), [
    (".dat", "the MapInfo table's .dat file is missing; send .tab, .dat, .map, .id together"),
    (".map", "the MapInfo table's .map file is missing"),
    (".id", "the MapInfo table's .id file is missing"),
])
def test_a_missing_part_is_named(tmp_path, gone, words):
    write_table(tmp_path / "roads.tab", 28405)
    (tmp_path / "roads.tab").with_suffix(gone).unlink()
    with pytest.raises(InputError) as error:
        resolve_source(SourceSpec(path=tmp_path / "roads.tab"))
    assert error.value.user_msg.startswith(f"roads.tab: {words}")


def test_a_raster_registration_is_refused_with_what_to_send(tmp_path):
    tab = tmp_path / "ortho.tab"
    tab.write_text('!table\n!version 300\n!charset WindowsCyrillic\n\nDefinition Table\n  File '
                   '"ortho.tif"\n  Type "RASTER"\n  (27.5,53.9) (0,0) Label "Pt 1",\n')
    with pytest.raises(InputError, match=r"a MapInfo raster registration .* send the image "
                                         r"itself as GeoTIFF"):
        resolve_source(SourceSpec(path=tab))


@pytest.mark.parametrize(("name", "content", "ok"), [
    ("a.tab", b"!table\n!version 300\n", True),
    ("a.tab", b"\xef\xbb\xbf  !Table\r\n", True),
    ("a.tab", b"<OGRVRTDataSource><OGRVRTLayer/></OGRVRTDataSource>", False),
    ("a.tab", b"!table\n<OGRVRTDataSource>", False),
    ("a.mif", b"Version 300\nCharset \"Neutral\"\n", True),
    ("a.mif", b"PK\x03\x04", False),
    ("a.dxf", b"  0\nSECTION\n  2\nHEADER\n", True),
    ("a.dxf", b"999\r\ncomment\r\n  0\r\nSECTION\r\n", True),
    ("a.dxf", b"AutoCAD Binary DXF\r\n\x1a\x00rest", True),
    ("a.dxf", b"<GDAL_WMS><Service/></GDAL_WMS>", False),
    ("a.dxf", b"{\"type\": \"FeatureCollection\"}", False),
])
def test_the_sandbox_knows_mapinfo_and_dxf_by_their_first_bytes(tmp_path, name, content, ok):
    path = tmp_path / name
    path.write_bytes(content)
    if ok:
        check_content(path, name)
    else:
        with pytest.raises(RefusedFile, match=f"^{name}: "):
            check_content(path, name)


def test_fingerprint_covers_every_part_of_a_table(tmp_path):
    write_table(tmp_path / "cities.tab", 28405)
    spec = SourceSpec(path=tmp_path / "cities.tab")
    before = fingerprint(spec)
    dat = tmp_path / "cities.dat"
    dat.write_bytes(dat.read_bytes().replace("Мінск".encode("cp1251"), "Менск".encode("cp1251")))
    assert fingerprint(spec) != before


# --- the CLI ------------------------------------------------------------------------------

def test_cli_publishes_every_table_of_a_zip_and_lists_those_it_could_not(tmp_path, cli):
    folder = tmp_path / "src"
    folder.mkdir()
    write_table(folder / "cities.tab", 28405)
    write_table(folder / "cities_utm.mif", 32635)
    far = [{**r, "lon": r["lon"] + 40} for r in cities()[:5]]  # in Russia, east of the Urals
    write_table(folder / "far.tab", 4326, rows=far)
    archive = zip_tables(tmp_path / "raion.zip", folder / "cities.tab", folder / "cities_utm.mif",
                         folder / "far.tab")
    result = cli.cli("ingest", str(archive), "--id", "raion", check=False)
    assert result.returncode == 0, result.stderr
    assert "raion-cities: version 1 published, 94 of 94 features from EPSG:28405" in result.stdout
    assert "raion-cities-utm: version 1 published, 94 of 94 features from EPSG:32635" in (
        result.stdout)
    assert "note: CRS: MapInfo CoordSys Earth Projection 8, 104" in result.stdout
    assert "raion.zip: 2 of 3 layers published; not published:" in result.stderr
    assert "  raion-far (far): far.tab: no feature can be published" in result.stderr or (
        "  raion-far (far): raion.zip: no feature can be published" in result.stderr)

    layers = json.loads(cli.cli("layers", "--json").stdout)
    assert sorted(r["id"] for r in layers) == ["raion-cities", "raion-cities-utm"]


def test_cli_exits_2_when_no_table_of_a_file_could_be_published(tmp_path, cli):
    folder = tmp_path / "src"
    folder.mkdir()
    for name in ("a.tab", "b.tab"):
        write_table(folder / name, 28405)
        (folder / name).with_suffix(".dat").unlink()
    archive = zip_tables(tmp_path / "broken.zip", folder / "a.tab", folder / "b.tab")
    result = cli.cli("ingest", str(archive), check=False)
    assert result.returncode == 2
    assert "broken.zip/src/a.tab: the MapInfo table's .dat file is missing" in result.stderr
    assert "2 of 2 layers not published" in result.stderr


def test_cli_names_the_missing_part_of_a_loose_tab(tmp_path, cli):
    write_table(tmp_path / "roads.tab", 28405)
    (tmp_path / "roads.map").unlink()
    result = cli.cli("ingest", str(tmp_path / "roads.tab"), check=False)
    assert result.returncode == 2
    assert "error: roads.tab: the MapInfo table's .map file is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_publishes_a_loose_cp1251_tab_with_its_names(tmp_path, cli):
    write_table(tmp_path / "cities.tab", 28405)
    result = cli.cli("ingest", str(tmp_path / "cities.tab"), "--json")
    report = json.loads(result.stdout)[0]
    assert (report["source_crs"], report["encoding"]) == ("EPSG:28405", "CP1251")
    items = json.loads(cli.cli("layer", "show", "cities").stdout)
    assert (items["current"]["features"], items["current"]["source_crs"]) == (94, "EPSG:28405")
    assert {f["title"] for f in items["fields"]} == {"name_be", "name_ru"}


def test_a_kml_of_several_folders_lists_them(tmp_path):
    folders = "".join(
        f"<Folder><name>{name}</name><Placemark><name>{name} 1</name><Point><coordinates>"
        f"27.5{i},53.9,0</coordinates></Point></Placemark></Folder>"
        for i, name in enumerate(["Школы", "Бальніцы"]))
    kml = tmp_path / "objects.kml"
    kml.write_text('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/'
                   f'kml/2.2"><Document><Folder><name>Пусты</name></Folder>{folders}'
                   "</Document></kml>", encoding="utf-8")
    assert list_tables(kml) == ["Школы", "Бальніцы"]
    assert pyogrio.list_layers(kml).shape[0] == 3  # the empty folder is left out


# --- the charset judged on the text fields alone (issue 16, helper F) -----------------------

def write_numeric_table(path: Path, epsg: int, layer_options: dict[str, str]) -> np.ndarray:
    """The cities as a TAB (GDAL's writer, as ogr2ogr and QGIS save one) with Float and
    Integer columns beside the Cyrillic names: a .dat of binary doubles between the text."""
    rows = cities()
    xy = projected(rows, epsg)
    geoms = np.array(shapely.to_wkb(shapely.points(xy)), dtype=object)
    data = [np.array([r[k] for r in rows], dtype=object) for k in ("name_be", "name_ru")]
    data += [np.array([r[k] for r in rows], dtype=np.float64) for k in ("lon", "lat")]
    data.append(np.arange(1, len(rows) + 1, dtype=np.int32))
    write(str(path), geometry=geoms, field_data=data,
          fields=["name_be", "name_ru", "lon", "lat", "kod"], crs=f"EPSG:{epsg}",
          driver="MapInfo File", geometry_type="Point", layer_options=layer_options)
    return xy


def test_the_charset_sample_holds_the_char_fields_only(tmp_path):
    write_numeric_table(tmp_path / "cities.tab", 28405, {"ENCODING": "UTF-8"})
    header = mapinfo.parse_header((tmp_path / "cities.tab").read_bytes())
    assert [kind for _, kind in header.fields] == ["char", "char", "float", "float", "integer"]
    sample = mapinfo.sample_text((tmp_path / "cities.dat").read_bytes(), ".dat", header)
    lines = sample.decode("utf-8").split("\n")  # no double's bytes among them
    names = [v for r in cities() for v in (r["name_be"], r["name_ru"])]
    assert lines == ["name_be", "name_ru", "lon", "lat", "kod", *names]


@pytest.mark.parametrize(("options", "charset"), [
    ({"ENCODING": "UTF-8"}, None),  # ogr2ogr -lco ENCODING=UTF-8
    ({}, None),  # GDAL's default: the UTF-8 it is given, charset Neutral
    ({"ENCODING": "CP1251"}, "Neutral"),  # CP1251 text under a Neutral header
])
def test_a_tab_with_float_columns_is_read_in_the_charset_of_its_text(
        tmp_path, publish, catalog, store, options, charset):
    tab = tmp_path / "cities.tab"
    xy = write_numeric_table(tab, 28405, options)
    if charset:
        _say_charset(tab, charset)
    said = mapinfo.parse_header(tab.read_bytes()).charset
    report = publish(write_manifest(tmp_path, "floats", {"path": "cities.tab"}))
    want = "CP1251" if options.get("ENCODING") == "CP1251" else "UTF-8"
    assert (report.encoding, report.features_published) == (want, 94), report.encoding_reason
    if want == "UTF-8":
        assert report.encoding_reason == f"charset {said}, and the text is valid UTF-8"
    assert_published(store, catalog, "floats", xy, 28405)
    rows = {f.properties["name_be"]: f.properties for f in
            _rows(store, catalog.get_layer("floats"))}
    for city in cities():
        got = rows[city["name_be"]]
        assert (got["name_ru"], got["lon"], got["lat"]) == (
            city["name_ru"], city["lon"], city["lat"])


def test_cli_publishes_a_zipped_utf8_tab_with_float_columns(tmp_path, cli):
    folder = tmp_path / "parks"
    folder.mkdir()
    write_numeric_table(folder / "parks.tab", 32635, {"ENCODING": "UTF-8"})
    archive = zip_tables(tmp_path / "parks.zip", folder / "parks.tab")
    result = cli.cli("ingest", str(archive), "--json", check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)[0]
    assert (report["encoding"], report["source_crs"], report["features_published"]) == (
        "UTF-8", "EPSG:32635", 94)
    shown = json.loads(cli.cli("layer", "show", "parks").stdout)
    assert [f["title"] for f in shown["fields"]] == ["name_be", "name_ru", "lon", "lat", "kod"]
