"""DBF fields as declared (issue 16): a C (text) field of SOATO codes stays text; two fields of
one name after the 10-character cut (ArcView 3, MapInfo and Excel exports) are published as
``naselenie`` and ``naselenie_2`` with their titles; KML ExtendedData is still typed.

The Shapefiles are the 94 cities of ../shared/data with their 2019 census and latest
populations; the DBF is written byte by byte, as GDAL will not write two fields of one name.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pyproj
import pytest
import shapely

from geoportal.storage import Query
from tests.conftest import Portal, write_manifest

DATA = Path("/work/shared/data")
if not DATA.exists():  # a checkout beside ../shared
    DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
# SOATO codes of the oblast centres' oblasts, no leading zero: they look like integers.
SOATO = {"BY-BR": "1000000000", "BY-VI": "2000000000", "BY-HO": "3000000000",
         "BY-HR": "4000000000", "BY-HM": "5000000000", "BY-MI": "6000000000",
         "BY-MA": "7000000000"}


def cities() -> list[dict]:
    features = json.loads((DATA / "settlements" / "settlements_94_cities.geojson").read_text(
        encoding="utf-8"))["features"]
    return [{**f["properties"], "xy": f["geometry"]["coordinates"][:2]} for f in features]


def write_dbf(path: Path, fields: list[tuple[str, str, int, int]], rows: list[list[object]],
              encoding: str = "cp1251") -> None:
    """A dBASE III file as ArcView 3 writes it: ``fields`` are (name, type C/N, length,
    decimals); names are cut to 10 bytes, so two may be equal."""
    header_len = 32 + 32 * len(fields) + 1
    record_len = 1 + sum(f[2] for f in fields)
    today = dt.date(2026, 12, 7)
    out = bytearray(struct.pack("<BBBBIHH20x", 3, today.year - 1900, today.month, today.day,
                                len(rows), header_len, record_len))
    out[29] = 0xC9  # language driver: Russian Windows (CP1251)
    for name, kind, length, decimals in fields:
        out += (name.encode("ascii")[:10].ljust(11, b"\0") + kind.encode() + b"\0" * 4
                + bytes([length, decimals]) + b"\0" * 14)
    out += b"\r"
    for row in rows:
        out += b" "
        for (_, kind, length, _), value in zip(fields, row, strict=True):
            raw = str(value).encode(encoding)
            out += (raw.rjust(length) if kind in "NF" else raw.ljust(length))[:length]
    out += b"\x1a"
    path.write_bytes(bytes(out))


def arcview_shapefile(folder: Path, name: str = "goroda") -> tuple[Path, list[dict]]:
    """Points in UTM 35N (.prj, .cpg 1251) whose DBF has NAME, SOATO (C) and two
    NASELENIE (N) fields: the 2019 census and the latest population."""
    towns = cities()
    to = pyproj.Transformer.from_crs(4326, 32635, always_xy=True)
    x, y = to.transform([t["xy"][0] for t in towns], [t["xy"][1] for t in towns])
    path = folder / f"{name}.shp"
    pyogrio.write_arrow(pa.table({"id": list(range(len(towns))),
                                  "geometry": shapely.to_wkb(shapely.points(x, y))}),
                        path, geometry_name="geometry", geometry_type="Point",
                        crs="EPSG:32635", driver="ESRI Shapefile")
    write_dbf(path.with_suffix(".dbf"),
              [("NAME", "C", 40, 0), ("SOATO", "C", 10, 0), ("NASELENIE", "N", 10, 0),
               ("NASELENIE", "N", 10, 0)],
              [[t["name_ru"], SOATO[t["parent_region_id"]], t["pop_census2019"] or 0,
                t["pop_latest"] or 0] for t in towns])
    path.with_suffix(".cpg").write_text("1251")
    return path, towns


def zipped(shp: Path) -> bytes:
    out = shp.with_suffix(".zip")
    with zipfile.ZipFile(out, "w") as zf:
        for part in shp.parent.glob(f"{shp.stem}.*"):
            if part != out:
                zf.write(part, part.name)
    return out.read_bytes()


def check_published(rows: list, towns: list[dict]) -> None:
    """Names, SOATO codes (text) and both populations against the source; coordinates
    against pyproj (UTM 35N there and back) within 1e-6 degrees."""
    to = pyproj.Transformer.from_crs(4326, 32635, always_xy=True)
    back = pyproj.Transformer.from_crs(32635, 4326, always_xy=True)
    by_name = {r.properties["name"]: r for r in rows}
    assert len(by_name) == len(towns)
    for town in towns:
        row = by_name[town["name_ru"]]
        assert row.properties["soato"] == SOATO[town["parent_region_id"]]
        assert row.properties["naselenie"] == (town["pop_census2019"] or 0)
        assert row.properties["naselenie_2"] == (town["pop_latest"] or 0)
        lon, lat = back.transform(*to.transform(*town["xy"]))
        assert (row.geometry.x, row.geometry.y) == pytest.approx((lon, lat), abs=1e-6)


def test_dbf_text_field_of_soato_codes_stays_text_and_repeated_names_are_kept_apart(
        tmp_path, publish, catalog, store):
    src, towns = arcview_shapefile(tmp_path)
    assert list(pyogrio.read_info(src)["fields"]) == ["NAME", "SOATO", "NASELENIE",
                                                      "NASELENIE"]
    report = publish(write_manifest(tmp_path, "goroda", {"path": src.name}))
    layer = catalog.get_layer("goroda")
    fields = {f.name: (f.type, f.title) for f in layer.current.fields}
    assert fields == {"name": ("string", "NAME"), "soato": ("string", "SOATO"),
                      "naselenie": ("integer", "NASELENIE"),
                      "naselenie_2": ("integer", "NASELENIE")}
    assert report.field_types["soato"] == "string (as read)"
    assert ("the file has 2 fields named 'NASELENIE' (a DBF cuts names to 10 characters): "
            "published as naselenie, naselenie_2, in the file's order; check which is "
            "which") in report.notes
    assert report.features_published == 94
    rows = store.query(layer.current.store_ref, layer.current.fields, Query(limit=200)).rows
    check_published(rows, towns)


def test_repeated_dbf_names_on_the_cli_publish_with_a_note(tmp_path, settings, catalog, store):
    src, towns = arcview_shapefile(tmp_path)
    result = Portal(settings.data_dir, settings.database_url).cli(
        "ingest", str(src), "--no-progress", check=False)
    assert result.returncode == 0, result.stderr
    assert "goroda: version 1 published, 94 of 94 features" in result.stdout
    assert "note: the file has 2 fields named 'NASELENIE'" in result.stdout
    layer = catalog.get_layer("goroda")
    rows = store.query(layer.current.store_ref, layer.current.fields, Query(limit=200)).rows
    check_published(rows, towns)


def test_manifest_fields_name_the_second_of_two_repeated_names(tmp_path, publish, catalog):
    src, _ = arcview_shapefile(tmp_path)
    publish(write_manifest(tmp_path, "goroda", {"path": src.name}, fields={
        "NASELENIE": {"name": "pop_2019"}, "NASELENIE_2": {"name": "pop_latest",
                                                           "title": "Population, latest"}}))
    fields = {f.name: f.title for f in catalog.get_layer("goroda").current.fields}
    assert fields["pop_2019"] == "NASELENIE" and fields["pop_latest"] == "Population, latest"


def test_kml_extended_data_is_still_typed_and_gpx_names_stay_text(tmp_path, publish,
                                                                  catalog, store):
    towns = cities()[:10]
    marks = "".join(
        f"<Placemark><name>{t['name_be']}</name><ExtendedData>"
        f"<Data name=\"population\"><value>{t['pop_census2019']}</value></Data>"
        f"</ExtendedData><Point><coordinates>{t['xy'][0]},{t['xy'][1]}</coordinates></Point>"
        "</Placemark>" for t in towns)
    (tmp_path / "towns.kml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document>{marks}</Document></kml>", encoding="utf-8")
    report = publish(write_manifest(tmp_path, "towns", {"path": "towns.kml"}))
    assert report.field_types["population"] == "integer (detected from text)"
    wpts = "".join(f'<wpt lat="{t["xy"][1]}" lon="{t["xy"][0]}"><name>{i + 1:03d}</name></wpt>'
                   for i, t in enumerate(towns))
    (tmp_path / "stops.gpx").write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="test" '
        f'xmlns="http://www.topografix.com/GPX/1/1">{wpts}</gpx>', encoding="utf-8")
    report = publish(write_manifest(tmp_path, "stops", {"path": "stops.gpx"}))
    assert report.field_types["name"] == "string (as read)"
    layer = catalog.get_layer("stops")
    rows = store.query(layer.current.store_ref, layer.current.fields, Query(limit=20)).rows
    assert sorted(r.properties["name"] for r in rows) == [f"{i:03d}" for i in range(1, 11)]
    got = np.array(sorted((r.geometry.x, r.geometry.y) for r in rows))
    assert np.abs(got - np.array(sorted(tuple(t["xy"]) for t in towns))).max() < 1e-6
