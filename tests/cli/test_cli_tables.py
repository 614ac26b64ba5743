"""Files of several tables through the real ``geoportal`` command and the upload API, on both
stores (issue 16, helper F): one table name in two folders of a zip, two inputs that would
publish one layer id, every sheet of a workbook, --header-row for a format without one, and
MapInfo TABs of UTF-8 text with Float columns. The data are messy derivatives of the shared
settlements (94 Belarusian cities), written in tmp_path; published positions are checked
against pyproj within 1e-6 degrees and names against the source text."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import requests
import shapely
from pyogrio.raw import write

from geoportal.storage import Query, open_store
from tests.conftest import Portal, admin_token, empty_portal
from tests.integration.test_admin_api import publish
from tests.unit.test_mapinfo import (
    cities,
    expected_lonlat,
    needs_data,
    projected,
    write_numeric_table,
)

pytestmark = [needs_data, pytest.mark.filterwarnings("ignore:.crs. was not provided")]
COUNTRY = "0000000000"


def write_shapefile(path: Path, rows: list[dict], epsg: int = 28405) -> np.ndarray:
    """The ``rows`` (cities) as a UTF-8 point Shapefile in ``epsg``; returns its x/y."""
    xy = projected(rows, epsg)
    names = [np.array([r[k] for r in rows], dtype=object) for k in ("name_be", "name_ru")]
    write(str(path), geometry=np.array(shapely.to_wkb(shapely.points(xy)), dtype=object),
          field_data=names, fields=["name_be", "name_ru"], crs=f"EPSG:{epsg}",
          driver="ESRI Shapefile", geometry_type="Point", encoding="UTF-8")
    return xy


def zip_folders(path: Path, folder: Path) -> Path:
    """A zip of every file under ``folder``, by its path inside it (``a/roads.shp``)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(folder.rglob("*")):
            if part.is_file():
                zf.write(part, part.relative_to(folder).as_posix())
    return path


def two_folders(tmp_path: Path) -> tuple[Path, dict[str, tuple[list[dict], np.ndarray]]]:
    """A zip of a/roads.shp and b/roads.shp (other cities in each), as raions send them."""
    src = tmp_path / "src"
    tables = {}
    for folder, rows in (("a", cities()[:10]), ("b", cities()[10:25])):
        (src / folder).mkdir(parents=True)
        tables[folder] = (rows, write_shapefile(src / folder / "roads.shp", rows))
    return zip_folders(tmp_path / "raion.zip", src), tables


def assert_cities(features: list[tuple[str, str, float, float]], rows: list[dict],
                  xy: np.ndarray, epsg: int = 28405) -> None:
    """(name_be, name_ru, lon, lat) as published against the source rows and pyproj."""
    want = {r["name_be"]: (r["name_ru"], *p)
            for r, p in zip(rows, expected_lonlat(xy, epsg), strict=True)}
    assert {f[0] for f in features} == set(want)
    for name_be, name_ru, lon, lat in features:
        assert name_ru == want[name_be][0]
        assert abs(lon - want[name_be][1]) < 1e-6 and abs(lat - want[name_be][2]) < 1e-6


# --- the CLI ----------------------------------------------------------------------------------

@pytest.fixture
def cli(settings, catalog, backend) -> Portal:
    """The real ``geoportal`` command on the test's store (``settings``)."""
    return Portal(settings.data_dir, settings.database_url if backend == "postgis" else None)


def published(settings, catalog, layer_id: str) -> list[tuple]:
    """(name_be, name_ru, lon, lat) of every feature a layer publishes."""
    store = open_store(settings)
    try:
        version = catalog.get_layer(layer_id).current
        rows = store.query(version.store_ref, version.fields, Query(limit=1000)).rows
    finally:
        store.close()
    return [(r.properties["name_be"], r.properties["name_ru"], r.geometry.x, r.geometry.y)
            for r in rows]


def test_one_table_name_in_two_folders_publishes_both(tmp_path, cli, settings, catalog):
    archive, tables = two_folders(tmp_path)
    result = cli.cli("ingest", str(archive), check=False)
    assert result.returncode == 0, result.stderr
    assert "raion-a-roads: version 1 published, 10 of 10 features" in result.stdout
    assert "raion-b-roads: version 1 published, 15 of 15 features" in result.stdout
    for folder in "ab":
        assert_cities(published(settings, catalog, f"raion-{folder}-roads"), *tables[folder])
    assert catalog.get_layer("raion-b-roads").meta.title["en"] == "raion: b/roads"


def test_layer_picks_a_table_by_its_folder(tmp_path, cli, settings, catalog):
    archive, tables = two_folders(tmp_path)
    result = cli.cli("ingest", str(archive), "--layer", "b/roads", "--id", "b", check=False)
    assert result.returncode == 0, result.stderr
    assert_cities(published(settings, catalog, "b"), *tables["b"])
    result = cli.cli("ingest", str(archive), "--layer", "roads", check=False)
    assert result.returncode == 2
    assert ("error: raion.zip: --layer 'roads' names no single Shapefile in the zip; it "
            "holds a/roads, b/roads") in result.stderr


def test_a_bad_table_of_a_zip_is_listed_with_its_own_reason(tmp_path, cli, settings, catalog):
    src = tmp_path / "src"
    (src / "a").mkdir(parents=True)
    (src / "b").mkdir()
    xy = write_shapefile(src / "a" / "roads.shp", cities()[:5])
    write_shapefile(src / "b" / "roads.shp", [{**r, "lon": r["lon"] + 40} for r in cities()[:5]],
                    epsg=4326)  # east of the Urals
    result = cli.cli("ingest", str(zip_folders(tmp_path / "raion.zip", src)), check=False)
    assert result.returncode == 0, result.stderr
    assert "raion.zip: 1 of 2 layers published; not published:" in result.stderr
    assert "  raion-b-roads (b/roads): " in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert_cities(published(settings, catalog, "raion-a-roads"), cities()[:5], xy)


def test_two_inputs_of_one_layer_id_are_refused_naming_both(tmp_path, cli):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        write_shapefile(tmp_path / folder / "stops.shp", cities()[:3])
    first, second = tmp_path / "a" / "stops.shp", tmp_path / "b" / "stops.shp"
    result = cli.cli("ingest", str(first), str(second), check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {first} and {second} would both be published as layer 'stops'; ingest them "
        "one at a time, each with its own --id")
    assert json.loads(cli.cli("layers", "--json").stdout) == []
    result = cli.cli("ingest", str(first), str(first), check=False)
    assert (result.returncode, result.stderr.strip()) == (
        2, f"error: {first} is given twice; give it once")


def test_a_table_split_onto_another_tables_id_is_refused(tmp_path, cli):
    mixed = shapely.to_wkb([shapely.Point(27.55, 53.9), shapely.LineString([(27.5, 53.8),
                                                                              (27.6, 53.9)])])
    path = tmp_path / "city.gpkg"
    write(str(path), geometry=np.array(mixed, dtype=object),
          field_data=[np.array(["Мінск", "вуліца"], dtype=object)], fields=["name"],
          crs="EPSG:4326", driver="GPKG", layer="roads", geometry_type="Unknown")
    write(str(path), geometry=np.array(shapely.to_wkb([shapely.Point(27.56, 53.91)]),
                                       dtype=object),
          field_data=[np.array(["Прыпынак"], dtype=object)], fields=["name"], crs="EPSG:4326",
          driver="GPKG", layer="roads-points", geometry_type="Point", append=False)
    result = cli.cli("ingest", str(path), check=False)
    assert result.returncode == 2, result.stdout
    assert (f"{path} (table roads) and {path} (table roads-points) would both be published "
            "as layer 'city-roads-points'; ingest one of the tables on its own, with --layer "
            "and --id") in result.stderr


def station_sheets(path: Path) -> dict[str, list[dict]]:
    """A workbook of cities by sheet (lon/lat as numbers and as text with a decimal comma),
    an empty first sheet, a sheet of a lone header and one of notes without coordinates."""
    sheets = {"Гарады": cities()[:8], "Мястэчкі": cities()[30:35]}
    book = openpyxl.Workbook()
    book.active.title = "Пусты"
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(["name_be", "name_ru", "Даўгата", "Шырата"])
        for i, r in enumerate(rows):
            lon = r["lon"] if i % 2 else f"{r['lon']}".replace(".", ",")
            sheet.append([r["name_be"], r["name_ru"], lon, r["lat"]])
    book.create_sheet("Шаблон").append(["name_be", "Даўгата", "Шырата"])
    notes = book.create_sheet("Заўвагі")
    notes.append(["Заўвага"])
    notes.append(["Каардынаты паводле OSM"])
    book.save(path)
    return sheets


def test_a_workbook_publishes_every_sheet_with_data(tmp_path, cli, settings, catalog):
    sheets = station_sheets(tmp_path / "kniga.xlsx")
    result = cli.cli("ingest", str(tmp_path / "kniga.xlsx"), check=False)
    assert result.returncode == 0, result.stderr
    assert "kniga.xlsx: 2 of 3 layers published; not published:" in result.stderr
    assert "  kniga-zawvahi (Заўвагі): kniga.xlsx: no coordinate columns were found" in (
        result.stderr)
    ids = {"Гарады": "kniga-garady", "Мястэчкі": "kniga-miastechki"}
    for title, rows in sheets.items():
        lonlat = np.array([[r["lon"], r["lat"]] for r in rows])
        assert_cities(published(settings, catalog, ids[title]), rows, lonlat, epsg=4326)
    assert sorted(r["id"] for r in json.loads(cli.cli("layers", "--json").stdout)) == sorted(
        ids.values())


@pytest.mark.parametrize(("name", "kind"), [("stops.shp", "Shapefile"),
                                            ("stops.zip", "Shapefile")])
def test_header_row_for_a_shapefile_is_refused(tmp_path, cli, name, kind):
    (tmp_path / "src").mkdir()
    write_shapefile(tmp_path / "src" / "stops.shp", cities()[:3])
    path = (zip_folders(tmp_path / name, tmp_path / "src") if name.endswith(".zip")
            else tmp_path / "src" / name)
    result = cli.cli("ingest", str(path), "--header-row", "2", check=False)
    assert result.returncode == 2
    assert (f"error: {name}: --header-row applies to CSV and sheets (XLSX, ODS) only, and this "
            f"is a {kind}, whose columns have names of their own: leave --header-row out"
            ) in result.stderr


# --- the upload API ---------------------------------------------------------------------------

portal = empty_portal("tables")
token = admin_token()


def _items(portal: Portal, layer_id: str) -> list[tuple]:
    features = requests.get(f"{portal.url}/collections/{layer_id}/items",
                            params={"f": "json", "limit": 1000}, timeout=60).json()["features"]
    return [(f["properties"]["name_be"], f["properties"]["name_ru"],
             *f["geometry"]["coordinates"]) for f in features]


def test_upload_of_one_table_name_in_two_folders(portal, token, tmp_path):
    archive, tables = two_folders(tmp_path)
    job = publish(portal, token, "two-roads", COUNTRY, "raion.zip", archive.read_bytes())
    assert job["state"] == "rejected" and job["status"] == 400, job
    assert job["error"] == ("raion.zip: the zip holds 2 Shapefiles (a/roads, b/roads); name "
                            "one with source.layer in the manifest")
    job = publish(portal, token, "two-roads", COUNTRY, "raion.zip", archive.read_bytes(),
                  source={"path": "raion.zip", "layer": "a/roads"})
    assert job["state"] == "done", job
    assert_cities(_items(portal, "two-roads"), *tables["a"])


def test_upload_of_a_zipped_utf8_tab_with_float_columns(portal, token, tmp_path):
    xy = write_numeric_table(tmp_path / "parks.tab", 28405, {})  # GDAL's default: Neutral
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for part in sorted(tmp_path.glob("parks.*")):
            zf.write(part, part.name)
    job = publish(portal, token, "utf8-tab", COUNTRY, "parks.zip", buffer.getvalue())
    assert job["state"] == "done", job
    assert (job["report"]["encoding"], job["report"]["encoding_reason"]) == (
        "UTF-8", "charset Neutral, and the text is valid UTF-8")
    assert_cities(_items(portal, "utf8-tab"), cities(), xy)


def test_upload_of_a_workbook_notes_its_other_sheets(portal, token, tmp_path):
    sheets = station_sheets(tmp_path / "kniga.xlsx")
    job = publish(portal, token, "kniga", COUNTRY, "kniga.xlsx",
                  (tmp_path / "kniga.xlsx").read_bytes())
    assert job["state"] == "done", job
    assert ("read sheet 'Гарады'; the other sheets with data ('Мястэчкі', 'Заўвагі') are not "
            "read: to publish one, set source.layer in the manifest to its name"
            ) in job["report"]["notes"]
    rows = sheets["Гарады"]
    assert_cities(_items(portal, "kniga"), rows,
                  np.array([[r["lon"], r["lat"]] for r in rows]), epsg=4326)


def test_upload_with_header_row_for_a_shapefile_is_rejected(portal, token, tmp_path):
    (tmp_path / "src").mkdir()
    write_shapefile(tmp_path / "src" / "stops.shp", cities()[:3])
    archive = zip_folders(tmp_path / "stops.zip", tmp_path / "src")
    job = publish(portal, token, "stops-header", COUNTRY, "stops.zip", archive.read_bytes(),
                  source={"path": "stops.zip", "header_row": 2})
    assert job["state"] == "rejected" and job["status"] == 400, job
    assert job["error"] == (
        "stops.zip: source.header_row applies to CSV and sheets (XLSX, ODS) only, and this is "
        "a Shapefile, whose columns have names of their own: leave source.header_row out")
