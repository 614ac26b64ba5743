"""Every failure is one sentence: a corpus of broken and unusual files, each through the real
``geoportal ingest`` on both stores, exits 2 naming the file and the problem (or publishes it
right), never 1, never a traceback. The safety nets of ``etl.failures`` turn what GDAL, Arrow,
GEOS and PROJ raise while reading a file into a ``DamagedFile``, and only there."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyogrio
import pyproj
import pytest
import shapely
from click.testing import CliRunner

from geoportal.catalog import Catalog
from geoportal.cli import main
from geoportal.errors import DamagedFile
from geoportal.etl.failures import damaged, quoted_coordinates
from geoportal.etl.manifest import SourceSpec
from geoportal.etl.readers import _guarded, open_batches, resolve_source
from geoportal.etl.sources import detect_text_encoding, utf16_order
from geoportal.storage import Query, open_store
from tests.conftest import BACKENDS, CONFIG_DIR, LAYERS_DIR, Portal, make_settings

CITIES = Path("/work/shared/data/settlements/settlements_94_cities.geojson")
# Five real cities (name_be, lon, lat); a stand-in where the shared data is absent.
try:
    _FEATURES = json.loads(CITIES.read_text(encoding="utf-8"))["features"][:5]
    PLACES = [(f["properties"]["name_be"], *f["geometry"]["coordinates"]) for f in _FEATURES]
except OSError:
    PLACES = [("Мінск", 27.5615, 53.9023), ("Гродна", 23.8258, 53.6694),
              ("Брэст", 23.6866, 52.0976), ("Гомель", 30.9754, 52.4345),
              ("Віцебск", 30.2033, 55.1904)]
CSV_TEXT = "name,lon,lat\n" + "".join(f"{n},{x},{y}\n" for n, x, y in PLACES)


# --- the corpus -------------------------------------------------------------------------------

def _table() -> pa.Table:
    return pa.table({"name": [p[0] for p in PLACES],
                     "geometry": pa.array(shapely.to_wkb([shapely.Point(x, y)
                                                          for _, x, y in PLACES]), pa.binary())})


def _write(path: Path, driver: str, **options: str) -> Path:
    pyogrio.write_arrow(_table(), path, driver=driver, geometry_name="geometry",
                        geometry_type="Point", crs="EPSG:4326", **options)
    return path


def _shapefile(folder: Path, stem: str, change: dict[str, bytes | Callable[[bytes], bytes]]
               ) -> Path:
    """A Shapefile of the five cities with some parts replaced (bytes) or changed."""
    good = folder / "_good" / "pts.shp"
    if not good.exists():
        good.parent.mkdir(parents=True)
        _write(good, "ESRI Shapefile", encoding="UTF-8")
    (folder / stem).mkdir()
    for part in good.parent.iterdir():
        data = part.read_bytes()
        edit = change.get(part.suffix, data)
        (folder / stem / f"{stem}{part.suffix}").write_bytes(edit(data) if callable(edit)
                                                             else edit)
    return folder / stem / f"{stem}.shp"


def _text(name: str, text: str | bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return path
    return make


def _fc(*geometries: object, properties: dict | None = None) -> str:
    props = {"name": "Мінск"} if properties is None else properties
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": g} for g in geometries]},
        ensure_ascii=False)


def _point(x: object = 27.5615, y: object = 53.9023) -> dict:
    return {"type": "Point", "coordinates": [x, y]}


def _cut_zip(folder: Path) -> Path:
    shp = _shapefile(folder, "z", {})
    whole = folder / "whole.zip"
    with zipfile.ZipFile(whole, "w") as zf:
        for part in shp.parent.iterdir():
            zf.write(part, part.name)
    data = whole.read_bytes()
    (folder / "cut.zip").write_bytes(data[: len(data) // 2])
    return folder / "cut.zip"


def _cut_gpkg(folder: Path) -> Path:
    data = _write(folder / "whole.gpkg", "GPKG").read_bytes()
    (folder / "cut.gpkg").write_bytes(data[:8192])
    return folder / "cut.gpkg"


def _empty_table_gpkg(folder: Path) -> Path:
    path = folder / "empty.gpkg"
    pyogrio.write_arrow(_table().slice(0, 0), path, driver="GPKG", geometry_name="geometry",
                        geometry_type="Point", crs="EPSG:4326", layer="пустая_табліца")
    return path


def _bad_utf8_gpkg(folder: Path) -> Path:
    path = _write(folder / "bad_text.gpkg", "GPKG", layer="places")
    with sqlite3.connect(path) as db:
        for (trigger,) in db.execute("select name from sqlite_master where type='trigger'"
                                     ).fetchall():
            db.execute(f'drop trigger "{trigger}"')  # they call GDAL's SQL functions
        db.execute("update places set name = ? where fid = 2", (b"\xff\xfe bytes",))
    return path


def _workbook(rows: list[list[object]]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        book.save(folder / "sheet.xlsx")
        return folder / "sheet.xlsx"
    return make


def _cut_xlsx(folder: Path) -> Path:
    whole = _workbook([["name", "lon", "lat"], *[list(p) for p in PLACES]])(folder)
    (folder / "cut.xlsx").write_bytes(whole.read_bytes()[:3000])
    return folder / "cut.xlsx"


def _cut_gml(folder: Path) -> Path:
    data = _write(folder / "whole.gml", "GML", layer="places").read_bytes()
    (folder / "cut.gml").write_bytes(data[: len(data) * 2 // 3])
    return folder / "cut.gml"


@dataclass(frozen=True)
class Case:
    """A file of the corpus, the options it is ingested with, and what must come of it: exit
    2 with ``says`` in the sentence, or exit 0 (published)."""

    make: Callable[[Path], Path]
    code: int = 2
    says: tuple[str, ...] = ()
    args: tuple[str, ...] = ()


_JUNK = bytes(range(256)) * 8
CORPUS: dict[str, Case] = {
    # cut off, zero-byte or damaged parts
    "zip cut in half": Case(_cut_zip, says=("not a readable zip",)),
    "shp with a zero-byte .shx": Case(lambda d: _shapefile(d, "noshx", {".shx": b""})),
    "shp with a zero-byte .shp": Case(lambda d: _shapefile(d, "empty", {".shp": b""}),
                                      says=("empty",)),
    "shp with a cut-off .dbf": Case(lambda d: _shapefile(d, "cutdbf", {".dbf": lambda b: b[:70]}),
                                    says=("should hold 5 features but none could be read",)),
    "shp with a local .prj": Case(
        lambda d: _shapefile(d, "local", {".prj": b'LOCAL_CS["unknown",UNIT["metre",1]]'}),
        says=("cannot be placed on the earth", "set --crs to the CRS")),
    "gpkg cut after 8 KiB": Case(_cut_gpkg, says=("GeoPackage",)),
    "gpkg whose table is empty": Case(_empty_table_gpkg,
                                      says=("table 'пустая_табліца' holds no features",)),
    "gpkg with text that is not UTF-8": Case(_bad_utf8_gpkg,
                                             says=("not valid UTF-8", "export the file again")),
    "xlsx cut off": Case(_cut_xlsx, says=("not a readable zip",)),
    "xlsx with only a header": Case(_workbook([["name", "lon", "lat"]])),
    "gml cut off": Case(_cut_gml, says=("none could be read",)),
    # JSON as people (and programs) write it
    "string coordinates": Case(_text("str.geojson", _fc(_point("27.5", "53.9"))),
                               says=('coordinates are written as text ("27.5")',)),
    "string coordinates, no properties": Case(
        _text("str1.geojson", json.dumps({"type": "Feature", "properties": {},
                                          "geometry": _point("27.5", "53.9")})),
        says=("written as text",)),
    "string coordinates in a line": Case(_text("strline.geojson", _fc(
        {"type": "LineString", "coordinates": [["27.5", "53.9"], ["27.6", "53.9"]]})),
        says=("written as text",)),
    "NaN coordinate": Case(_text("nan.geojson", _fc(_point()).replace("27.5615", "NaN"))),
    "huge numbers": Case(_text("huge.geojson", _fc(_point()).replace(
        '"Мінск"', '"Мінск", "v": 1e400, "i": 123456789012345678901234567890'))),
    "coordinates out of range": Case(_text("far.geojson", _fc(_point(1e300, 53.9)))),
    "nested arrays and objects": Case(_text("nested.geojson", _fc(
        _point(), properties={"name": "Мінск", "tags": [[1, 2], [3]], "o": {"a": {"b": 1}}})),
        code=0),
    "empty FeatureCollection": Case(_text("empty.geojson", _fc()), says=("holds no features",)),
    "features without geometry": Case(_text("nogeom.geojson", json.dumps(
        {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}}]})),
        says=("no feature can be published",)),
    "features is an object": Case(_text("obj.geojson", '{"type":"FeatureCollection",'
                                                       '"features":{}}')),
    "unknown geometry type": Case(_text("circle.geojson", _fc(
        {"type": "Circle", "coordinates": [27.5, 53.9]}))),
    "coordinates as an object": Case(_text("cobj.geojson", _fc(
        {"type": "Point", "coordinates": {"x": 27.5}}))),
    "ring of two points": Case(_text("ring.geojson", _fc(
        {"type": "Polygon", "coordinates": [[[27.5, 53.9], [27.6, 53.9]]]}))),
    "mixed property types": Case(_text("mixed.geojson", json.dumps({
        "type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"v": v}, "geometry": _point(27.5 + i / 10)}
            for i, v in enumerate([1, "x", [1], None])]})), code=0),
    "a JSON array": Case(_text("array.geojson", "[1, 2, 3]")),
    "deeply nested JSON": Case(_text("deep.geojson", "[" * 100_000 + "]" * 100_000)),
    "JSON cut off": Case(_text("cut.geojson", _fc(_point())[:60])),
    # text
    "CSV with only a header": Case(_text("header.csv", "name,lon,lat\n"),
                                   says=("holds no features",)),
    "CSV without coordinate columns": Case(_text("names.csv", "name\nМінск\n"),
                                           says=("use --x-field and --y-field",)),
    "CSV with NUL bytes": Case(_text("nul.csv", "name,lon,lat\na\x00b,27.5,53.9\n")),
    "UTF-16 LE CSV without BOM": Case(_text("le.csv", CSV_TEXT.encode("utf-16-le")), code=0),
    "UTF-16 BE CSV without BOM": Case(_text("be.csv", CSV_TEXT.encode("utf-16-be")), code=0),
    "UTF-16 without BOM, --encoding UTF-16": Case(
        _text("le2.csv", CSV_TEXT.encode("utf-16-le")), code=0, args=("--encoding", "UTF-16")),
    "UTF-16 BE without BOM, --encoding UTF-16": Case(
        _text("be2.csv", CSV_TEXT.encode("utf-16-be")), code=0, args=("--encoding", "UTF-16")),
    "UTF-16 LE GeoJSON without BOM": Case(_text("le.geojson", _fc(_point()).encode(
        "utf-16-le")), code=0),
    "UTF-8 read as UTF-32": Case(_text("u32.csv", CSV_TEXT), args=("--encoding", "UTF-32"),
                                 says=("not valid UTF-32", "set --encoding to")),
    "latin-1 CSV": Case(_text("latin1.csv", "name,lon,lat\nCafé Zoë,27.55,53.9\n".encode(
        "latin-1")), code=0, args=("--encoding", "latin-1")),
    # XML without features
    "KML without placemarks": Case(_text("empty.kml", '<?xml version="1.0"?><kml xmlns="'
                                         'http://www.opengis.net/kml/2.2"><Document><name>x'
                                         '</name></Document></kml>')),
    "GPX with metadata only": Case(_text("meta.gpx", '<?xml version="1.0"?><gpx version="1.1" '
                                         'creator="x" xmlns="http://www.topografix.com/GPX/1/1">'
                                         '<metadata><name>x</name></metadata></gpx>')),
    "KML cut off": Case(_text("cut.kml", '<?xml version="1.0"?><kml xmlns="http://www.opengis.'
                              'net/kml/2.2"><Document><Placemark><Point><coordinates>27.5,')),
    # binary junk under each extension
    **{f"junk {ext}": Case(_text(f"junk{ext}", _JUNK))
       for ext in (".shp", ".zip", ".geojson", ".json", ".gpkg", ".csv", ".xlsx", ".ods", ".kml",
                   ".kmz", ".gpx", ".gml", ".topojson", ".geojsonl", ".tab", ".mif", ".dxf")},
}


def _layer_id(name: str) -> str:
    return "c-" + "".join(c if c.isalnum() else "-" for c in name.lower())[:50].strip("-")


# --- the CLI, in process, on each store ---------------------------------------------------------

@dataclass
class Env:
    settings: object
    folder: Path

    def ingest(self, *args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, ["ingest", *args, "--force"],
                                    catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    def rows(self, layer_id: str) -> list:
        catalog = Catalog(self.settings.database_url or "")
        store = open_store(self.settings)
        try:
            layer = catalog.get_layer(layer_id)
            return store.query(layer.current.store_ref, layer.current.fields,
                               Query(limit=1000)).rows
        finally:
            store.close()
            catalog.engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Env]:
    database_url = None
    if request.param == "postgis":
        database_url = request.getfixturevalue("postgres").new_database()
    root = tmp_path_factory.mktemp(f"failures-{request.param}")
    settings = make_settings(root / "var", database_url=database_url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEOPORTAL_DATA_DIR", str(settings.data_dir))
        mp.setenv("GEOPORTAL_CONFIG_DIR", str(CONFIG_DIR))
        mp.setenv("GEOPORTAL_LAYERS_DIR", str(LAYERS_DIR))
        if database_url:
            mp.setenv("GEOPORTAL_DATABASE_URL", database_url)
        else:
            mp.delenv("GEOPORTAL_DATABASE_URL", raising=False)
        assert CliRunner().invoke(main, ["init"]).exit_code == 0
        yield Env(settings, root)


def _one_sentence(stderr: str, file: Path, folder: Path) -> str:
    """The error line of a refused file, checked: one, naming the file, no traceback, no
    server path, nothing of ours failing."""
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert str(folder) not in stderr, stderr  # the file as the user named it, no server path
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    assert errors[0].startswith(f"error: {file.name}"), stderr
    assert "source." not in errors[0], errors[0]  # a bare CLI ingest says the CLI's options
    return errors[0]


@pytest.mark.parametrize("name", list(CORPUS))
def test_every_file_of_the_corpus_is_published_or_refused_in_one_sentence(env, name):
    case = CORPUS[name]
    folder = env.folder / _layer_id(name)
    folder.mkdir()
    path = case.make(folder)
    code, stdout, stderr = env.ingest(str(path), "--id", _layer_id(name), *case.args)
    assert code == case.code, f"{name}: exit {code}\n{stdout}\n{stderr}"
    if code == 2:
        sentence = _one_sentence(stderr, path, env.folder)
        for phrase in case.says:
            assert phrase in sentence, sentence
    else:
        assert "published" in stdout and "error" not in stderr, stderr


@pytest.mark.parametrize(("name", "encoding"), [
    ("UTF-16 LE CSV without BOM", "UTF-16-LE"), ("UTF-16 BE CSV without BOM", "UTF-16-BE"),
    ("UTF-16 without BOM, --encoding UTF-16", "UTF-16"),
    ("UTF-16 BE without BOM, --encoding UTF-16", "UTF-16")])
def test_utf16_without_a_byte_order_mark_publishes_the_names_and_places(env, name, encoding):
    case, layer_id = CORPUS[name], _layer_id(name) + "-x"
    folder = env.folder / layer_id
    folder.mkdir()
    code, stdout, stderr = env.ingest(str(case.make(folder)), "--id", layer_id, *case.args)
    assert code == 0, stderr
    assert f"encoding {encoding} " in stdout
    rows = {r.properties["name"]: r.geometry for r in env.rows(layer_id)}
    assert sorted(rows) == sorted(p[0] for p in PLACES)  # the source's own text
    to_crs84 = pyproj.Transformer.from_crs("EPSG:4326", "OGC:CRS84", always_xy=True)
    for name_be, lon, lat in PLACES:
        x, y = to_crs84.transform(lon, lat)
        assert rows[name_be].x == pytest.approx(x, abs=1e-6)
        assert rows[name_be].y == pytest.approx(y, abs=1e-6)


# --- the real command, its stderr as a user sees it -------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_the_command_prints_sentences_not_warnings_or_tracebacks(tmp_path, backend, request):
    url = request.getfixturevalue("postgres").new_database() if backend == "postgis" else None
    portal = Portal(tmp_path / "var", url)
    for name in ("unknown geometry type", "string coordinates, no properties",
                 "UTF-16 LE CSV without BOM"):
        case = CORPUS[name]
        folder = tmp_path / _layer_id(name)
        folder.mkdir()
        path = case.make(folder)
        result = portal.cli("ingest", str(path), "--id", _layer_id(name), check=False)
        assert result.returncode == case.code, result.stderr
        assert "Warning" not in result.stderr and "Traceback" not in result.stderr, \
            result.stderr
        if case.code == 2:
            _one_sentence(result.stderr, path, tmp_path)
    log = (tmp_path / "var" / "logs" / "geoportal.log").read_text(encoding="utf-8")
    assert "Unsupported geometry type" in log  # GDAL's warning went to the log


# --- the pieces --------------------------------------------------------------------------------

def test_utf16_byte_order_is_told_by_its_nul_bytes():
    text = "назва,lon,lat\nМінск,27.5,53.9\n"
    assert utf16_order(text.encode("utf-16-le")) == "UTF-16-LE"
    assert utf16_order(text.encode("utf-16-be")) == "UTF-16-BE"
    assert utf16_order(text.encode("utf-8")) is None
    assert utf16_order(_JUNK) is None
    assert utf16_order("Мінск Гродна Брэст".encode("utf-16-le")) is None  # no NUL: not sure


def test_a_binary_file_named_csv_is_still_not_text(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(_JUNK)
    with pytest.raises(Exception, match="binary content, not text"):
        detect_text_encoding(path)


def test_damaged_names_the_file_and_what_the_library_said():
    exc = damaged("roads.gpkg", RuntimeError("database disk image is malformed\nmore"),
                  after=16384)
    assert isinstance(exc, DamagedFile) and exc.exit_code == 2 and exc.http_status == 422
    assert exc.user_msg.startswith("roads.gpkg: could not be read after 16384 features "
                                   "(database disk image is malformed)")


def test_a_library_error_while_reading_is_the_files_problem(tmp_path):
    source = resolve_source(SourceSpec(path=_write(tmp_path / "p.gpkg", "GPKG")))

    def stream() -> Iterator[pa.Table]:
        yield _table()
        raise pa.ArrowInvalid("Invalid: ran out of bytes")

    batches = _guarded(stream(), source)
    assert next(batches).num_rows == 5
    with pytest.raises(DamagedFile, match=r"^p\.gpkg: could not be read after 5 features "
                                          r"\(Invalid: ran out of bytes\)"):
        next(batches)


def test_our_own_bug_while_processing_a_batch_stays_a_bug(tmp_path):
    source = resolve_source(SourceSpec(path=_write(tmp_path / "p.gpkg", "GPKG")))
    with pytest.raises(pa.ArrowInvalid):  # the caller's code: never the file's fault
        for batch in _guarded(iter([_table()]), source):
            pa.Table.from_arrays([batch.column(0), pa.array([1])], names=["a", "b"])


def test_quoted_coordinates_are_found_in_the_first_megabyte(tmp_path):
    path = tmp_path / "s.geojson"
    path.write_text(_fc(_point(27.5, 53.9), {"type": "Point", "coordinates": ["27.6", "53"]}))
    assert quoted_coordinates(path) == "27.6"
    path.write_text(_fc(_point()))
    assert quoted_coordinates(path) is None


def test_a_bug_of_ours_exits_1_asking_for_a_report_and_the_others_go_on(env, monkeypatch):
    folder = env.folder / "bug"
    folder.mkdir()
    one = _text("one.geojson", _fc(_point()))(folder)
    two = _text("two.geojson", _fc(_point(27.6)))(folder)
    import geoportal.cli as cli

    real = cli.ingest

    def broken(manifest, **kwargs):  # a bug in our code, on the first file only
        if manifest.meta.id == "one":
            raise KeyError("naselenie")
        return real(manifest, **kwargs)

    monkeypatch.setattr(cli, "ingest", broken)
    code, stdout, stderr = env.ingest(str(one), str(two), "--region", "0000000000")
    monkeypatch.undo()
    assert code == 1
    assert "internal error while ingesting one.geojson (KeyError: 'naselenie')" in stderr
    assert "please report it with the log" in stderr and "Traceback" not in stderr
    assert "two: version 1 published" in stdout  # the other file went on
    log = (env.settings.data_dir / "logs" / "geoportal.log").read_text(encoding="utf-8")
    assert "Traceback" in log and "naselenie" in log


def test_python_312_and_313_agree_on_utf16_without_bom(tmp_path):
    """The trap of Python 3.12: its UTF-16 decoder raises UnicodeError, not
    UnicodeDecodeError, for a stream without a byte order mark (make test runs this file
    under every Python 3.12+ it finds)."""
    path = tmp_path / "le.csv"
    path.write_bytes(CSV_TEXT.encode("utf-16-le"))
    source = resolve_source(SourceSpec(path=path, encoding="UTF-16"))
    with open_batches(source) as batches:
        names = [n for b in batches for n in b.column("name").to_pylist()]
    assert names == [p[0] for p in PLACES]
