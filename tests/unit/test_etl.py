"""The minimal ETL on real files: formats, reprojection, repair, set-aside reasons, atomicity."""

from __future__ import annotations

import zipfile

import numpy as np
import pyarrow as pa
import pyogrio
import pyproj
import pytest
import shapely

from geoportal.errors import CRSError, GeometryError, InputError, SchemaError, UnsupportedFormat
from geoportal.storage import Query
from tests.conftest import LAYERS_DIR, write_geojson, write_manifest


def _features(store, layer, limit=10_000):
    return store.query(layer.current.store_ref, layer.current.fields, Query(limit=limit)).rows


def test_geojson_is_published_with_fields_extent_and_count(tmp_path, publish, catalog, store):
    src = write_geojson(tmp_path / "parks.geojson", [
        ({"name": "Парк Горького", "area_ha": 28.0}, shapely.Point(27.57, 53.90)),
        ({"name": "Лошицкий парк", "area_ha": 100.5}, shapely.Point(27.58, 53.84)),
    ])
    report = publish(write_manifest(tmp_path, "parks", {"path": src.name}, region="5000000000"))
    layer = catalog.get_layer("parks")
    assert report.status == "published" and report.version == 1
    assert layer.current.feature_count == 2
    assert [(f.name, f.type) for f in layer.current.fields] == [("name", "string"),
                                                                ("area_ha", "number")]
    assert layer.current.extent == pytest.approx((27.57, 53.84, 27.58, 53.90))
    assert [r.properties["name"] for r in _features(store, layer)] == ["Парк Горького",
                                                                      "Лошицкий парк"]


def test_zipped_shapefile_in_utm35n_with_cp1251_dbf_is_reprojected_exactly(publish, catalog,
                                                                          store):
    report = publish(LAYERS_DIR / "by" / "cities.yaml")
    assert (report.source_crs, report.crs_origin) == ("EPSG:32635", "file")
    # The expectation: read the zip's own coordinates and transform them with pyproj.
    with zipfile.ZipFile(LAYERS_DIR / "by" / "cities.zip") as zf:
        shp = next(n for n in zf.namelist() if n.endswith(".shp"))
    src = pyogrio.read_arrow(f"/vsizip/{LAYERS_DIR / 'by' / 'cities.zip'}/{shp}")[1]
    names = src.column("name_ru").to_pylist()
    xy = shapely.get_coordinates(shapely.from_wkb(src.column("wkb_geometry").to_numpy(
        zero_copy_only=False)))
    lon, lat = pyproj.Transformer.from_crs(32635, 4326, always_xy=True).transform(xy[:, 0],
                                                                                   xy[:, 1])
    rows = _features(store, catalog.get_layer("cities"))
    assert len(rows) == len(names) == 94
    got = np.array([[r.geometry.x, r.geometry.y] for r in rows])
    assert np.abs(got - np.column_stack([lon, lat])).max() < 1e-7
    assert [r.properties["name_ru"] for r in rows] == names
    assert "Могилёв" in names or "Могилев" in names  # Cyrillic survived CP1251


def test_geopackage_in_pulkovo_gauss_kruger_zone5_lands_in_belarus(publish, catalog):
    report = publish(LAYERS_DIR / "by" / "raions.yaml")
    layer = catalog.get_layer("raions")
    minx, miny, maxx, maxy = layer.current.extent
    assert report.source_crs == "EPSG:28405"
    assert layer.current.feature_count == 118
    assert layer.current.geometry_type == "MultiPolygon"
    assert 23.0 < minx < 23.3 and 32.6 < maxx < 32.9 and 51.2 < miny < 51.4 and 56.0 < maxy < 56.3


def test_csv_points_at_zero_zero_are_set_aside_with_a_reason(tmp_path, publish, catalog):
    src = tmp_path / "stops.csv"
    src.write_text("name;lon;lat\r\nВокзал;27.55;53.89\r\nНуль;0;0\r\nПлощадь;27.56;53.90\r\n",
                   encoding="utf-8")
    report = publish(write_manifest(tmp_path, "stops", {"path": src.name}, region="5000000000"))
    assert report.features_read == 3 and report.features_published == 2
    assert report.set_aside_samples == [
        {"row": 3, "reason": "outside the layer's region, Minsk City (5000000000), by more "
                             "than 250 m (another region's place, a wrong CRS or 0,0 "
                             "coordinates?)"}]
    assert (report.crs_origin, report.source_crs) == ("detected", "EPSG:4326")
    assert catalog.get_layer("stops").current.set_aside_count == 1


def test_self_intersecting_polygon_is_repaired_not_dropped(tmp_path, publish, catalog, store):
    bowtie = shapely.Polygon([(27, 53), (27.1, 53.1), (27.1, 53), (27, 53.1), (27, 53)])
    assert not bowtie.is_valid
    src = write_geojson(tmp_path / "zones.geojson", [({"n": 1}, bowtie)])
    report = publish(write_manifest(tmp_path, "zones", {"path": src.name}))
    (row,) = _features(store, catalog.get_layer("zones"))
    assert report.repaired == 1
    assert row.geometry.is_valid and row.geometry.geom_type == "MultiPolygon"
    # make_valid splits the bow-tie into its two triangles, keeping all of its area.
    assert len(row.geometry.geoms) == 2
    assert row.geometry.area == pytest.approx(0.005)


def test_unchanged_source_is_skipped_and_force_makes_a_new_version(tmp_path, publish, catalog):
    src = write_geojson(tmp_path / "a.geojson", [({"n": 1}, shapely.Point(27.5, 53.9))])
    manifest = write_manifest(tmp_path, "a", {"path": src.name})
    assert publish(manifest).version == 1
    again = publish(manifest)
    assert (again.status, again.version) == ("unchanged", 1)
    assert publish(manifest, force=True).version == 2
    assert len(catalog.versions("a")) == 2


def test_changed_source_publishes_a_new_version_and_old_tables_are_pruned(tmp_path, publish,
                                                                           catalog, store):
    manifest = write_manifest(tmp_path, "b", {"path": "b.geojson"})
    for n in range(1, 5):
        write_geojson(tmp_path / "b.geojson", [({"n": n}, shapely.Point(27.5, 53.9))])
        publish(manifest, keep_versions=2)
    assert [v.version for v in catalog.versions("b")] == [4, 3]
    assert store.refs() == {v.store_ref for v in catalog.versions("b")}


def test_failed_publish_keeps_the_previous_version_and_leaves_no_table(tmp_path, publish,
                                                                       catalog, store, backend):
    manifest = write_manifest(tmp_path, "c", {"path": "c.geojson"})
    write_geojson(tmp_path / "c.geojson", [({"n": 1}, shapely.Point(27.5, 53.9))])
    publish(manifest)
    refs = store.refs()
    write_geojson(tmp_path / "c.geojson", [({"n": 2}, shapely.Point(0, 0))])  # nothing publishable
    with pytest.raises(GeometryError, match="no feature can be published"):
        publish(manifest)
    assert catalog.get_layer("c").current.version == 1
    assert store.refs() == refs
    if backend == "gpkg":
        assert not list(store.root.rglob(".*"))


def test_coordinates_that_fit_no_candidate_crs_are_refused_with_advice(tmp_path, publish):
    src = tmp_path / "far.csv"
    src.write_text("x,y,name\n1234567,9876543,a\n", encoding="utf-8")
    with pytest.raises(CRSError, match=r"no CRS among .* set source\.crs"):
        publish(write_manifest(tmp_path, "far", {"path": src.name}))


def test_csv_in_pulkovo_zone5_with_zone_prefix_and_no_crs_is_detected(tmp_path, publish,
                                                                        catalog, store):
    points = [(27.56, 53.90), (27.60, 53.93), (26.0, 53.2)]
    lons, lats = zip(*points, strict=True)
    xs, ys = pyproj.Transformer.from_crs(4326, 28405, always_xy=True).transform(lons, lats)
    # Excel's export: ';' separators, decimal commas, CRLF.
    lines = ["x;y;name"] + [f"{x:.2f};{y:.2f};p{i}".replace(".", ",")
                            for i, (x, y) in enumerate(zip(xs, ys, strict=True))]
    src = tmp_path / "gk.csv"
    src.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    # points in Minsk city and Brest oblast: a layer of the country
    report = publish(write_manifest(tmp_path, "gk", {"path": src.name}, region="0000000000"))
    assert (report.crs_origin, report.source_crs) == ("detected", "EPSG:28405")
    rows = _features(store, catalog.get_layer("gk"))
    got = [(r.geometry.x, r.geometry.y) for r in rows]
    assert got == [pytest.approx(p, abs=1e-6) for p in points]


def test_northing_written_first_is_detected_and_swapped(tmp_path, publish, catalog, store):
    src = tmp_path / "swapped.csv"
    src.write_text("x,y\n53.90,27.56\n53.95,27.60\n", encoding="utf-8")
    report = publish(write_manifest(tmp_path, "swapped", {"path": src.name},
                                    region="5000000000"))
    assert "swapped" in report.crs_reason
    first = _features(store, catalog.get_layer("swapped"))[0].geometry
    assert (first.x, first.y) == pytest.approx((27.56, 53.90))


def test_declared_crs_in_the_manifest_is_used(tmp_path, publish, catalog, store):
    src = tmp_path / "gk.csv"
    x, y = pyproj.Transformer.from_crs(4326, 28405, always_xy=True).transform(27.56, 53.9)
    src.write_text(f"x,y,name\n{x},{y},a\n", encoding="utf-8")
    publish(write_manifest(tmp_path, "gk", {"path": src.name, "crs": "EPSG:28405"}))
    (row,) = _features(store, catalog.get_layer("gk"))
    assert row.geometry.x == pytest.approx(27.56, abs=1e-7)
    assert row.geometry.y == pytest.approx(53.9, abs=1e-7)


def test_geopackage_with_two_tables_needs_a_layer_name(tmp_path, publish):
    path = tmp_path / "two.gpkg"
    for name in ("a", "b"):
        pyogrio.write_arrow(pa.table({"geometry": pa.array(
            shapely.to_wkb([shapely.Point(27, 53)]), pa.binary())}), path, layer=name,
            driver="GPKG", geometry_name="geometry", geometry_type="Point", crs="EPSG:4326")
    with pytest.raises(InputError, match=r"name one with source\.layer"):
        publish(write_manifest(tmp_path, "two", {"path": path.name}))
    assert publish(write_manifest(tmp_path, "two", {"path": path.name, "layer": "b"})).version == 1


@pytest.mark.parametrize(("name", "content", "error", "message"), [
    ("missing.geojson", None, InputError, "file not found"),
    ("notes.docx", b"PK", UnsupportedFormat, "unsupported file type"),
    ("broken.geojson", b"{not json", UnsupportedFormat, "GDAL cannot read"),
    ("nocoords.csv", b"a,b\n1,2\n", InputError, "no coordinate columns"),
])
def test_bad_sources_raise_an_input_error_naming_the_file(tmp_path, publish, name, content,
                                                          error, message):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(error, match=message) as info:
        publish(write_manifest(tmp_path, "bad", {"path": name}))
    assert name in str(info.value)


def test_unknown_region_and_theme_are_schema_errors(tmp_path, publish):
    src = write_geojson(tmp_path / "a.geojson", [({"n": 1}, shapely.Point(27.5, 53.9))])
    with pytest.raises(SchemaError, match="unknown region '9999'"):
        publish(write_manifest(tmp_path, "a", {"path": src.name}, region="9999"))
    with pytest.raises(SchemaError, match="unknown theme 'roads'"):
        publish(write_manifest(tmp_path, "a", {"path": src.name}, theme="roads"))


def _raions_shapefile(folder, *, encoding: str, crs: int = 28405):
    """The raions sample as a region would send it: a Shapefile with no .prj and no .cpg."""
    meta, table = pyogrio.read_arrow(LAYERS_DIR / "by" / "raions.gpkg")
    path = folder / "raions.shp"
    pyogrio.write_arrow(table, path, driver="ESRI Shapefile", geometry_name=meta["geometry_name"],
                        geometry_type="MultiPolygon", crs=f"EPSG:{crs}", encoding=encoding)
    for ext in (".prj", ".cpg"):
        path.with_suffix(ext).unlink(missing_ok=True)
    with path.with_suffix(".dbf").open("r+b") as dbf:  # no language byte either
        dbf.seek(29)
        dbf.write(b"\x00")
    return path, table.column("name_ru").to_pylist()


@pytest.mark.parametrize("encoding", ["cp1251", "cp866", "koi8-r", "utf-8"])
def test_shapefile_without_prj_or_cpg_gets_encoding_and_pulkovo_zone5_detected(
        tmp_path, publish, catalog, store, encoding):
    path, names = _raions_shapefile(tmp_path, encoding=encoding)
    report = publish(write_manifest(tmp_path, "raions-messy", {"path": path.name}))
    assert report.encoding.lower() == encoding
    assert "frequencies" in report.encoding_reason or "UTF-8" in report.encoding_reason
    assert (report.crs_origin, report.source_crs) == ("detected", "EPSG:28405")
    rows = _features(store, catalog.get_layer("raions-messy"))
    assert [r.properties["name_ru"] for r in rows] == names
    assert report.features_published == 118


def test_utm35_and_gauss_kruger_cm27_without_prefix_are_ambiguous_and_named(tmp_path, publish):
    points = [(27.56, 53.90), (27.2, 53.5)]
    lons, lats = zip(*points, strict=True)
    xs, ys = pyproj.Transformer.from_crs(4326, 32635, always_xy=True).transform(lons, lats)
    src = tmp_path / "utm.csv"
    src.write_text("x,y\n" + "".join(f"{x},{y}\n" for x, y in zip(xs, ys, strict=True)))
    with pytest.raises(CRSError, match=r"EPSG:2495.*EPSG:32635|EPSG:32635.*EPSG:2495"):
        publish(write_manifest(tmp_path, "utm", {"path": src.name}, region="6000000000"))


@pytest.mark.parametrize(("encoding", "ldid"), [("cp1251", 0xC9), ("cp866", 0x65)])
def test_dbf_language_byte_names_the_encoding(tmp_path, publish, catalog, store, encoding,
                                              ldid):
    path, names = _raions_shapefile(tmp_path, encoding=encoding)
    with path.with_suffix(".dbf").open("r+b") as dbf:
        dbf.seek(29)
        dbf.write(bytes([ldid]))
    report = publish(write_manifest(tmp_path, "raions-ldid", {"path": path.name}))
    assert report.encoding_reason == f"DBF language byte 0x{ldid:02X}"
    assert (report.encoding, report.encoding_confidence) == (encoding.upper(), "high")
    rows = _features(store, catalog.get_layer("raions-ldid"))
    assert [r.properties["name_ru"] for r in rows] == names
