"""Every input kind published end to end (on both stores): XLSX, KML/KMZ, GPX, GML, TopoJSON,
and a Pulkovo-zone-5 CP1251 Shapefile with neither .prj nor .shx."""

from __future__ import annotations

import json
import zipfile

import openpyxl
import pyarrow as pa
import pyogrio
import pyproj
import pytest
import shapely

from geoportal.storage import Query
from tests.conftest import LAYERS_DIR, write_manifest


def _rows(store, layer):
    return store.query(layer.current.store_ref, layer.current.fields, Query(limit=1000)).rows


def test_xlsx_with_belarusian_headers_and_text_numbers(tmp_path, publish, catalog, store):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Аркуш1"
    sheet.append(["Назва", "даўгата", "шырата", "Колькасць месцаў"])
    sheet.append(["Бібліятэка № 1", "27,5612", "53,9021", 120])
    sheet.append(["Бібліятэка № 2", 27.6, 53.93, 80])
    sheet.append(["Без каардынат", None, None, 10])
    book.save(tmp_path / "libraries.xlsx")
    report = publish(write_manifest(tmp_path, "libraries", {"path": "libraries.xlsx"},
                                    region="5000000000"))
    assert (report.format, report.features_read, report.features_published) == ("XLSX", 3, 2)
    assert report.set_aside == {"no geometry": 1}
    layer = catalog.get_layer("libraries")
    assert [(f.name, f.title) for f in layer.current.fields] == [
        ("nazva", "Назва"), ("kolkasc_miescaw", "Колькасць месцаў")]
    first = _rows(store, layer)[0]
    assert first.properties == {"nazva": "Бібліятэка № 1", "kolkasc_miescaw": 120}
    assert (first.geometry.x, first.geometry.y) == pytest.approx((27.5612, 53.9021))


_KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>Паркі</name>
<Placemark><name>Парк Горкага</name><ExtendedData><Data name="плошча"><value>28,5</value>
</Data></ExtendedData><Point><coordinates>27.5700,53.9000,0</coordinates></Point></Placemark>
<Placemark><name>Лошыцкі парк</name><ExtendedData><Data name="плошча"><value>100</value>
</Data></ExtendedData><Polygon><outerBoundaryIs><LinearRing><coordinates>
27.58,53.84 27.60,53.84 27.60,53.86 27.58,53.84</coordinates></LinearRing></outerBoundaryIs>
</Polygon></Placemark>
</Folder></Document></kml>"""


@pytest.mark.parametrize("suffix", [".kml", ".kmz"])
def test_kml_and_kmz_publish_without_display_columns(tmp_path, publish, catalog, suffix):
    path = tmp_path / f"parks{suffix}"
    if suffix == ".kmz":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("doc.kml", _KML)
    else:
        path.write_text(_KML, encoding="utf-8")
    report = publish(write_manifest(tmp_path, "parks", {"path": path.name}, region="5000000000"))
    names = [f.name for f in catalog.get_layer("parks").current.fields]
    assert "tessellate" not in names and "extrude" not in names
    assert {"name", "ploshcha"} <= set(names)
    # A point and a polygon: never one mixed layer (issue 16): the polygon, the point set aside.
    assert (report.features_published, report.geometry_type) == (1, "Polygon")
    assert dict(report.set_aside) == {"geometry type Point in a Polygon layer": 1}
    assert "плошча" in [f.title for f in catalog.get_layer("parks").current.fields]


def test_gpx_waypoints(tmp_path, publish, catalog, store):
    (tmp_path / "walk.gpx").write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="test" '
        'xmlns="http://www.topografix.com/GPX/1/1">'
        '<wpt lat="53.9045" lon="27.5615"><name>Плошча Незалежнасці</name></wpt>'
        '<wpt lat="53.9100" lon="27.5480"><name>Верхні горад</name></wpt></gpx>',
        encoding="utf-8")
    report = publish(write_manifest(tmp_path, "walk", {"path": "walk.gpx"}, region="5000000000"))
    assert (report.format, report.features_published) == ("GPX", 2)
    rows = _rows(store, catalog.get_layer("walk"))
    assert [r.properties["name"] for r in rows] == ["Плошча Незалежнасці", "Верхні горад"]


def test_gml_in_pulkovo_zone5_declared_by_the_file(tmp_path, publish, catalog, store):
    x, y = pyproj.Transformer.from_crs(4326, 28405, always_xy=True).transform(27.56, 53.90)
    table = pa.table({"name": ["вузел"], "geometry": pa.array(
        [shapely.to_wkb(shapely.Point(x, y))], pa.binary())})
    pyogrio.write_arrow(table, tmp_path / "nodes.gml", driver="GML", geometry_name="geometry",
                        geometry_type="Point", crs="EPSG:28405")
    report = publish(write_manifest(tmp_path, "nodes", {"path": "nodes.gml"}))
    assert (report.source_crs, report.crs_origin) == ("EPSG:28405", "file")
    (row,) = _rows(store, catalog.get_layer("nodes"))
    assert (row.geometry.x, row.geometry.y) == pytest.approx((27.56, 53.90), abs=1e-7)


def test_topojson(tmp_path, publish, catalog):
    topology = {
        "type": "Topology",
        "objects": {"zones": {"type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "arcs": [[0]], "properties": {"zone": "A"}}]}},
        "arcs": [[[27.5, 53.9], [27.6, 53.9], [27.6, 54.0], [27.5, 53.9]]],
    }
    (tmp_path / "zones.topojson").write_text(json.dumps(topology), encoding="utf-8")
    report = publish(write_manifest(tmp_path, "zones", {"path": "zones.topojson"}))
    assert (report.format, report.features_published) == ("TopoJSON", 1)
    assert catalog.get_layer("zones").current.geometry_type == "Polygon"  # no multi-part


def test_raions_as_cp1251_shapefile_in_zone5_without_prj_shx_or_cpg(tmp_path, publish,
                                                                     catalog, store):
    # The regions' classic: the raions sample written as a Pulkovo zone 5 Shapefile in
    # CP1251, then stripped of everything that would say what it is.
    meta, table = pyogrio.read_arrow(LAYERS_DIR / "by" / "raions.gpkg")
    table = table.select(["name_ru", "soato", meta["geometry_name"] or "geom"])
    pyogrio.write_arrow(table, tmp_path / "raions.shp", driver="ESRI Shapefile",
                        geometry_name=meta["geometry_name"] or "geom",
                        geometry_type="MultiPolygon", crs="EPSG:28405", encoding="CP1251")
    for ext in (".prj", ".cpg", ".shx"):
        (tmp_path / f"raions{ext}").unlink()
    report = publish(write_manifest(tmp_path, "raions-gk", {"path": "raions.shp"},
                                    region="0000000000"))
    assert (report.encoding, report.source_crs, report.crs_origin) == ("CP1251", "EPSG:28405",
                                                                       "detected")
    assert report.features_published == 118
    names = {r.properties["name_ru"] for r in _rows(store, catalog.get_layer("raions-gk"))}
    assert "Брестский район" in names or any(n.startswith("Брест") for n in names)
