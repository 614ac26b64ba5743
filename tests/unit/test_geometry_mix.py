"""Mixed geometry types (issue 16): never one mixed layer; the dominant type or one layer per
type; GeometryCollections split into their parts; Multi* only when a feature needs it.

Data derived from ../shared/data: the 118 raions of geoBoundaries ADM2 (shrunk and
simplified), the 94 cities of settlements_94_cities.geojson, lines between cities.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pyproj
import pytest
import shapely

from geoportal.admin.boundaries import RegionBoundaries
from geoportal.errors import Conflict
from geoportal.etl import ingest, load_manifest
from geoportal.etl.census import split_manifests, take_census
from geoportal.etl.geometry import prepare
from geoportal.etl.readers import resolve_source
from geoportal.server.downloads import prepare_download
from geoportal.storage import Query
from tests.conftest import Portal, write_geojson, write_manifest

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")
GC_PP, GC_PL = "gc-point-polygon", "gc-point-line"


def _rows(store, layer, limit=10_000):
    return store.query(layer.current.store_ref, layer.current.fields, Query(limit=limit)).rows


def cities() -> list[tuple[str, shapely.Point]]:
    """The 94 cities: (Belarusian name, point)."""
    features = json.loads((DATA / "settlements" / "settlements_94_cities.geojson").read_text(
        encoding="utf-8"))["features"]
    return [(f["properties"]["name_be"], shapely.Point(f["geometry"]["coordinates"][:2]))
            for f in features]


def raions() -> list[tuple[str, shapely.Polygon]]:
    """The 118 raions, shrunk 1 km inside their boundary (so none reaches past the
    country's) and simplified: single Polygons."""
    table = pyogrio.read_arrow(DATA / "boundaries" / "gb-BLR-ADM2.geojson")[1]
    names = table.column("shapeName").to_pylist()
    out = []
    for name, geom in zip(names, shapely.from_wkb(table.column("wkb_geometry").to_numpy(
            zero_copy_only=False)), strict=True):
        shrunk = shapely.buffer(geom, -0.01)
        parts = sorted(shapely.get_parts(shrunk), key=lambda p: -p.area)
        out.append((name, shapely.simplify(parts[0], 0.002)))
    return out


def mixed_features() -> list[tuple[dict, shapely.Geometry]]:
    """118 polygons, 94 points, 10 lines and two GeometryCollections: a point with a
    polygon (a polygon's family), a point with a line (a line's)."""
    towns, areas = cities(), raions()
    features = [({"name": n}, g) for n, g in areas]
    features += [({"name": n}, g) for n, g in towns]
    features += [({"name": f"{towns[i][0]} - {towns[i + 1][0]}"},
                  shapely.LineString([towns[i][1], towns[i + 1][1]])) for i in range(10)]
    features.append(({"name": GC_PP}, shapely.GeometryCollection([towns[0][1], areas[0][1]])))
    features.append(({"name": GC_PL}, shapely.GeometryCollection(
        [towns[1][1], shapely.LineString([towns[1][1], towns[2][1]])])))
    return features


def test_mixed_geojson_publishes_the_dominant_type_and_sets_the_others_aside(
        tmp_path, publish, catalog, store):
    features = mixed_features()
    src = write_geojson(tmp_path / "mixed.geojson", features)
    report = publish(write_manifest(tmp_path, "mixed", {"path": src.name}))
    layer = catalog.get_layer("mixed")
    assert report.geometry_type == layer.current.geometry_type == "Polygon"
    assert report.features_read == 224 and report.features_published == 119
    assert dict(report.set_aside) == {
        "geometry type Point in a Polygon layer": 94,
        "geometry type LineString in a Polygon layer": 10,
        "GeometryCollection of 1 LineString, 1 Point in a Polygon layer": 1}
    assert report.repairs["GeometryCollection: kept the Polygon parts, dropped 1 Point"] == 1
    assert any("mixes geometry types (119 polygons, 94 points, 11 lines (2 Geometry"
               "Collections))" in n and "source.split_geometry in the manifest" in n
               for n in report.notes)
    rows = {r.properties["name"]: r.geometry for r in _rows(store, layer)}
    expected = {p["name"]: g for p, g in features[:118]}
    expected[GC_PP] = features[-2][1].geoms[1]
    assert set(rows) == set(expected)
    for name, geom in expected.items():
        got = rows[name]
        assert got.geom_type == "Polygon"
        assert np.abs(shapely.get_coordinates(shapely.normalize(got))
                      - shapely.get_coordinates(shapely.normalize(geom))).max() < 1e-6


def ingest_all(manifests, catalog, store, registry, settings):
    """Ingest built manifests as the CLI does (the ``publish`` fixture takes paths)."""
    boundaries = RegionBoundaries.load(settings.config_dir, registry,
                                       settings.boundary_tolerance_m)
    return {m.meta.id: ingest(m, catalog=catalog, store=store, registry=registry,
                              boundaries=boundaries) for m in manifests}


def test_split_publishes_one_layer_per_type_and_every_feature_once(
        tmp_path, catalog, store, registry, settings):
    src = write_geojson(tmp_path / "mixed.geojson", mixed_features())
    manifest = load_manifest(write_manifest(tmp_path, "mixed", {"path": src.name,
                                                                "split_geometry": True}))
    census = take_census(resolve_source(manifest.source))
    parts = split_manifests(manifest, census)
    assert [p.meta.id for p in parts] == ["mixed-polygons", "mixed-points", "mixed-lines"]
    assert parts[1].meta.title["be"] == "Test layer (пункты)"
    reports = ingest_all(parts, catalog, store, registry, settings)
    types = {k: catalog.get_layer(k).current.geometry_type for k in reports}
    assert types == {"mixed-polygons": "Polygon", "mixed-points": "Point",
                     "mixed-lines": "LineString"}
    read = {k: r.features_read for k, r in reports.items()}
    assert read == {"mixed-polygons": 119, "mixed-points": 94, "mixed-lines": 11}
    assert sum(read.values()) == 224
    assert all(r.set_aside_count == 0 for r in reports.values())
    assert reports["mixed-lines"].repairs[
        "GeometryCollection: kept the LineString parts, dropped 1 Point"] == 1
    assert any("this layer holds its points" in n for n in reports["mixed-points"].notes)
    points = {r.properties["name"]: r.geometry
              for r in _rows(store, catalog.get_layer("mixed-points"))}
    for name, point in cities():
        assert (points[name].x, points[name].y) == pytest.approx((point.x, point.y), abs=1e-6)


@pytest.fixture
def cli(settings, catalog):
    """The real ``geoportal`` command on the same data folder and store as ``catalog``."""
    return Portal(settings.data_dir, settings.database_url)


def mixed_csv(path: Path, epsg: int) -> tuple[Path, list[tuple[str, shapely.Geometry]]]:
    """The mixed features as a CSV of WKT in ``epsg`` (what a CAD or QGIS export gives):
    Cyrillic names, ';' separators; returns the CRS84 originals too."""
    to = pyproj.Transformer.from_crs(4326, epsg, always_xy=True)
    features = [(p["name"], g) for p, g in mixed_features()
                if g.geom_type != "GeometryCollection"]
    lines = ["name;wkt"]
    for name, geom in features:
        projected = shapely.transform(geom, lambda xy: np.column_stack(to.transform(
            xy[:, 0], xy[:, 1])))
        lines.append(f"{name};{shapely.to_wkt(projected, rounding_precision=3)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, features


def test_bare_csv_of_mixed_wkt_on_the_cli_becomes_one_layer_per_type(
        tmp_path, cli, catalog, store):
    src, features = mixed_csv(tmp_path / "objects.csv", 32635)
    result = cli.cli("ingest", str(src), "--crs", "EPSG:32635", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert ("objects.csv: mixes geometry types (118 polygons, 94 points, 10 lines): one "
            "layer per type: objects-polygons, objects-points, objects-lines") in result.stdout
    back = pyproj.Transformer.from_crs(32635, 4326, always_xy=True)
    expected = {}
    for name, geom in features:  # what the file holds, back through pyproj
        to = pyproj.Transformer.from_crs(4326, 32635, always_xy=True)
        xy = np.round(np.column_stack(to.transform(*shapely.get_coordinates(geom).T)), 3)
        expected[name] = np.column_stack(back.transform(xy[:, 0], xy[:, 1]))
    total = 0
    for layer_id, kind in (("objects-polygons", "Polygon"), ("objects-points", "Point"),
                           ("objects-lines", "LineString")):
        layer = catalog.get_layer(layer_id)
        assert layer.current.geometry_type == kind
        total += layer.current.report["features_read"]
        for row in _rows(store, layer):
            got = shapely.get_coordinates(row.geometry)
            want = expected[row.properties["name"]]
            if kind == "Polygon":  # rings are oriented counter-clockwise when published
                got, want = np.unique(got, axis=0), np.unique(want, axis=0)
            assert np.abs(got - want).max() < 1e-6
    assert total == len(features) == 222


def test_a_manifest_on_the_cli_publishes_the_dominant_type_unless_split(
        tmp_path, cli, catalog):
    src = write_geojson(tmp_path / "mixed.geojson", mixed_features())
    manifest = write_manifest(tmp_path, "mixed", {"path": src.name})
    result = cli.cli("ingest", str(manifest), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "mixed: version 1 published, 119 of 224 features" in result.stdout
    assert "set aside: geometry type Point in a Polygon layer: 94" in result.stdout
    result = cli.cli("ingest", str(manifest), "--split-geometry", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "one layer per type: mixed-polygons, mixed-points, mixed-lines" in result.stdout
    assert catalog.get_layer("mixed-lines").current.geometry_type == "LineString"
    bad = write_manifest(tmp_path, "bad", {"path": src.name, "split_geometry": "yes"})
    result = cli.cli("ingest", str(bad), check=False)
    assert result.returncode == 2
    assert "'source.split_geometry' must be true or false" in result.stderr


def test_kmz_folder_mixing_points_lines_and_polygons_is_split_on_the_cli(tmp_path, cli,
                                                                        catalog, store):
    towns, areas = cities()[:12], raions()[:5]
    marks = [f"<Placemark><name>{n}</name><Point><coordinates>{g.x},{g.y}</coordinates>"
             "</Point></Placemark>" for n, g in towns]
    marks += [f"<Placemark><name>{towns[i][0]} - {towns[i + 1][0]}</name><LineString>"
              f"<coordinates>{towns[i][1].x},{towns[i][1].y} {towns[i + 1][1].x},"
              f"{towns[i + 1][1].y}</coordinates></LineString></Placemark>" for i in range(3)]
    marks += [f"<Placemark><name>{n}</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
              + " ".join(f"{x},{y}" for x, y in shapely.get_coordinates(g.exterior))
              + "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
              for n, g in areas]
    kml = ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
           "<Document><Folder><name>Аб'екты</name>" + "".join(marks)
           + "</Folder></Document></kml>")
    src = tmp_path / "places.kmz"
    with zipfile.ZipFile(src, "w") as zf:
        zf.writestr("doc.kml", kml)
    result = cli.cli("ingest", str(src), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "mixes geometry types (12 points, 5 polygons, 3 lines)" in result.stdout
    points = catalog.get_layer("places-points")
    assert points.current.geometry_type == "Point" and points.current.feature_count == 12
    assert catalog.get_layer("places-lines").current.geometry_type == "LineString"
    polygons = catalog.get_layer("places-polygons")
    assert polygons.current.geometry_type == "Polygon"
    rows = {r.properties["name"]: r.geometry for r in _rows(store, points)}
    for name, g in towns:
        assert (rows[name].x, rows[name].y) == pytest.approx((g.x, g.y), abs=1e-6)


def _grid(n: int, multi_at: int | None) -> tuple[list[shapely.Geometry], list[str]]:
    """``n`` 100 m squares over Minsk (CRS84); the one at ``multi_at`` (0-based) is a
    MultiPolygon of two squares."""
    side = 0.0012
    cols = 160
    geoms, names = [], []
    for i in range(n):
        x, y = 27.40 + (i % cols) * side * 1.5, 53.85 + (i // cols) * side
        square = shapely.box(x, y, x + side, y + side * 0.7)
        if i == multi_at:
            square = shapely.MultiPolygon([square, shapely.box(x, y + side * 0.8, x + side,
                                                               y + side * 0.9)])
        geoms.append(square)
        names.append(f"участак {i + 1}")
    return geoms, names


def write_shapefile(folder: Path, name: str, geoms: list[shapely.Geometry], names: list[str],
                    epsg: int = 32635) -> Path:
    """A Shapefile (type Polygon, as Shapefiles are) of the geometries projected to
    ``epsg``, with a .prj."""
    to = pyproj.Transformer.from_crs(4326, epsg, always_xy=True)
    projected = shapely.transform(np.array(geoms, dtype=object), lambda xy: np.column_stack(
        to.transform(xy[:, 0], xy[:, 1])))
    path = folder / f"{name}.shp"
    pyogrio.write_arrow(pa.table({"name": names, "geometry": shapely.to_wkb(projected)}),
                        path, geometry_name="geometry", geometry_type="Polygon",
                        crs=f"EPSG:{epsg}", driver="ESRI Shapefile",
                        layer_options={"ENCODING": "UTF-8"})
    return path


def _check_coordinates(rows, geoms, names, epsg=32635):
    """Published coordinates against the file's, transformed back by pyproj."""
    to = pyproj.Transformer.from_crs(4326, epsg, always_xy=True)
    back = pyproj.Transformer.from_crs(epsg, 4326, always_xy=True)
    by_name = dict(zip(names, geoms, strict=True))
    for row in rows:
        xy = shapely.get_coordinates(by_name[row.properties["name"]])
        px, py = to.transform(xy[:, 0], xy[:, 1])
        want = np.unique(np.column_stack(back.transform(px, py)), axis=0)
        got = np.unique(shapely.get_coordinates(row.geometry), axis=0)
        assert np.abs(got - want).max() < 1e-6


def test_shapefile_of_single_polygons_stays_polygon(tmp_path, publish, catalog, store):
    geoms, names = _grid(300, None)
    src = write_shapefile(tmp_path, "plots", geoms, names)
    report = publish(write_manifest(tmp_path, "plots", {"path": src.name}))
    assert report.geometry_type == catalog.get_layer("plots").current.geometry_type == "Polygon"
    assert "single parts stored as MultiPolygon" not in report.repairs
    rows = _rows(store, catalog.get_layer("plots"))
    assert len(rows) == 300 and {r.geometry.geom_type for r in rows} == {"Polygon"}
    _check_coordinates(rows, geoms, names)


def test_a_multi_part_polygon_after_row_20000_restarts_the_ingest_as_multipolygon(
        tmp_path, publish, catalog, store):
    geoms, names = _grid(20_500, 20_100)
    src = write_shapefile(tmp_path, "plots", geoms, names)
    report = publish(write_manifest(tmp_path, "plots", {"path": src.name}))
    assert report.geometry_type == catalog.get_layer("plots").current.geometry_type == \
        "MultiPolygon"
    assert report.features_read == report.features_published == 20_500  # read once, counted
    assert ("row 20101: MultiPolygon of 2 parts in a Polygon layer, so the file was read "
            "again as a Multi* layer") in report.notes
    assert report.repairs["single parts stored as MultiPolygon"] == 20_499
    rows = _rows(store, catalog.get_layer("plots"), limit=30_000)
    assert {r.geometry.geom_type for r in rows} == {"MultiPolygon"}
    multi = next(r for r in rows if r.properties["name"] == "участак 20101")
    assert len(multi.geometry.geoms) == 2
    _check_coordinates([*rows[::500], multi], geoms, names)


def test_lines_stay_linestring_and_a_collection_of_nothing_fitting_is_set_aside(
        tmp_path, publish, catalog, store):
    towns = cities()
    features = [({"name": n}, shapely.LineString([(g.x, g.y), (g.x + 0.01, g.y + 0.005)]))
                for n, g in towns[:20]]
    features.append(({"name": "two points"}, shapely.GeometryCollection(
        [towns[0][1], towns[1][1]])))
    src = write_geojson(tmp_path / "roads.geojson", features)
    report = publish(write_manifest(tmp_path, "roads", {"path": src.name}))
    assert report.geometry_type == "LineString"
    assert dict(report.set_aside) == {"GeometryCollection of 2 Point in a LineString layer": 1}
    rows = _rows(store, catalog.get_layer("roads"))
    assert {r.geometry.geom_type for r in rows} == {"LineString"} and len(rows) == 20


def _download(layer, store, fmt):
    d = prepare_download(layer, store, {"f": fmt}, ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"])
    try:
        return b"".join(d.chunks)
    finally:
        if d.cleanup:
            d.cleanup()


def test_polygon_layers_download_in_every_format_and_mixed_old_ones_say_409(
        tmp_path, publish, catalog, store):
    geoms, names = _grid(50, None)
    src = write_shapefile(tmp_path, "plots", geoms, names)
    publish(write_manifest(tmp_path, "plots", {"path": src.name}))
    layer = catalog.get_layer("plots")
    shp = _download(layer, store, "shp")
    with zipfile.ZipFile(io.BytesIO(shp)) as zf:
        zf.extractall(tmp_path / "out")
    info = pyogrio.read_info(tmp_path / "out" / "plots.shp")
    assert (info["geometry_type"], info["features"]) == ("Polygon", 50)
    gpkg = tmp_path / "out.gpkg"
    gpkg.write_bytes(_download(layer, store, "gpkg"))
    assert pyogrio.read_info(gpkg)["geometry_type"] == "Polygon"
    collection = json.loads(_download(layer, store, "geojson"))
    assert {f["geometry"]["type"] for f in collection["features"]} == {"Polygon"}
    assert _download(layer, store, "csv").count(b"POLYGON ((") == 50
    old = dataclasses.replace(layer, current=dataclasses.replace(layer.current,
                                                                 geometry_type="Unknown"))
    with pytest.raises(Conflict, match="mixes geometry types, which a Shapefile cannot hold"):
        _download(old, store, "shp")
    assert _download(old, store, "geojson").count(b'"Polygon"') == 50


def test_a_part4_edit_fits_a_single_type_layer_or_says_why_not():
    square = shapely.box(27.5, 53.9, 27.51, 53.91)
    one = shapely.MultiPolygon([square])
    two = shapely.MultiPolygon([square, shapely.box(27.52, 53.9, 27.53, 53.91)])
    out, reasons, _ = prepare(np.array([square, one, two], dtype=object), "Polygon")
    assert [g.geom_type if r is None else r for g, r in zip(out, reasons, strict=True)] == [
        "Polygon", "Polygon", "MultiPolygon of 2 parts in a Polygon layer"]
