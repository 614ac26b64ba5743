"""What the ETL does to the contents: field names and types, repairs, the quarantine, versions.

Every test runs on both stores; each input is a small messy file of the kind regions send.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyogrio
import pyproj
import pytest
import shapely

from geoportal.errors import EncodingError, InputError, NotFound, SchemaError
from geoportal.etl.quarantine import export_quarantine
from geoportal.storage import Query
from tests.conftest import LAYERS_DIR, write_geojson, write_manifest


def _rows(store, layer, limit=10_000):
    return store.query(layer.current.store_ref, layer.current.fields, Query(limit=limit)).rows


def _excel_csv(path, lines):
    """What Excel saves as 'CSV (semicolon)': ';' separators, CRLF, decimal commas."""
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_belarusian_headers_are_romanized_and_text_values_typed(tmp_path, publish, catalog,
                                                                 store):
    src = _excel_csv(tmp_path / "schools.csv", [
        "lon;lat;Назва ўстановы;Колькасць вучняў;Плошча, м²;Дата адкрыцця;Працуе;Код",
        "27,55;53,90;Школа № 1;1 204;2 350,5;01.09.1965;так;0701",
        "27,56;53,91;Гімназія № 2;;812,25;15.03.2001;не;0702",
        "27,57;53,92;  ;310;;;;0703",
    ])
    report = publish(write_manifest(tmp_path, "schools", {"path": src.name},
                                    region="5000000000"))
    fields = catalog.get_layer("schools").current.fields
    assert [(f.name, f.type, f.title) for f in fields] == [
        ("nazva_wstanovy", "string", "Назва ўстановы"),
        ("kolkasc_vuchniaw", "integer", "Колькасць вучняў"),
        ("ploshcha_m2", "number", "Плошча, м²"),
        ("data_adkryccia", "date", "Дата адкрыцця"),
        ("pracuje", "boolean", "Працуе"),
        ("kod", "string", "Код"),  # leading zeros: a code, not a number
    ]
    assert report.renamed_fields["Колькасць вучняў"] == "kolkasc_vuchniaw"
    first, second, third = (r.properties for r in _rows(store, catalog.get_layer("schools")))
    assert str(first.pop("data_adkryccia")) == "1965-09-01"
    assert first == {"nazva_wstanovy": "Школа № 1", "kolkasc_vuchniaw": 1204,
                     "ploshcha_m2": 2350.5, "pracuje": True, "kod": "0701"}
    assert second["kolkasc_vuchniaw"] is None and second["pracuje"] is False
    assert third["nazva_wstanovy"] is None and third["data_adkryccia"] is None


def test_manifest_field_rules_rename_retype_and_drop(tmp_path, publish, catalog, store):
    src = write_geojson(tmp_path / "wells.geojson", [
        ({"Номер": "12", "Глубина": "40,5", "Служебное": "x"}, shapely.Point(27.5, 53.9)),
    ])
    rules = {"Номер": {"name": "well_no", "type": "integer", "title": "Номер скважины"},
             "Глубина": {"name": "depth_m", "type": "number"}, "Служебное": None}
    publish(write_manifest(tmp_path, "wells", {"path": src.name}, fields=rules))
    layer = catalog.get_layer("wells")
    assert [(f.name, f.type, f.title) for f in layer.current.fields] == [
        ("well_no", "integer", "Номер скважины"), ("depth_m", "number", "Глубина")]
    assert _rows(store, layer)[0].properties == {"well_no": 12, "depth_m": 40.5}


def test_a_field_rule_for_a_missing_field_names_the_real_fields(tmp_path, publish):
    src = write_geojson(tmp_path / "a.geojson", [({"name": "x"}, shapely.Point(27.5, 53.9))])
    with pytest.raises(SchemaError, match=r"'nmae'.*its fields are: name"):
        publish(write_manifest(tmp_path, "a", {"path": src.name}, fields={"nmae": "title"}))


def test_unparseable_values_and_duplicate_ids_are_quarantined_and_exported(
        tmp_path, publish, catalog, store):
    src = write_geojson(tmp_path / "lamps.geojson", [
        ({"id": 1, "power": "150"}, shapely.Point(27.50, 53.90)),
        ({"id": 2, "power": "сто"}, shapely.Point(27.51, 53.90)),
        ({"id": 1, "power": "100"}, shapely.Point(27.52, 53.90)),
        ({"id": 3, "power": "250"}, shapely.Point(0, 0)),
        ({"id": 4, "power": None}, None),
    ])
    report = publish(write_manifest(tmp_path, "lamps", {"path": src.name, "id_field": "id"},
                                    region="5000000000", fields={"power": {"type": "integer"}}))
    assert report.features_read == 5 == report.features_published + report.set_aside_count
    assert report.features_published == 1
    assert report.id_field == "id"
    reasons = {s["row"]: s["reason"] for s in report.set_aside_samples}
    assert reasons[2].startswith("unparseable value in field 'power' (integer expected)")
    assert "'сто'" in reasons[2]
    assert reasons[3] == "duplicate id in field 'id'"
    assert reasons[4].startswith("outside the layer's region")
    assert reasons[5] == "no geometry"

    version = catalog.get_layer("lamps").current
    out = tmp_path / "lamps-quarantine.gpkg"
    assert export_quarantine(store, version, out) == 4
    meta, table = pyogrio.read_arrow(out)
    assert table.column("source_row").to_pylist() == [2, 3, 4, 5]
    assert table.column("power").to_pylist() == ["сто", "100", "250", None]  # as read
    geoms = shapely.from_wkb(table.column(meta["geometry_name"] or "wkb_geometry").to_numpy(
        zero_copy_only=False))
    assert geoms[2].equals(shapely.Point(0, 0)) and geoms[3] is None
    assert pyogrio.read_info(out)["crs"] == "EPSG:4326"


def test_quarantine_of_a_projected_source_keeps_its_crs_and_coordinates(tmp_path, publish,
                                                                         catalog, store):
    src = tmp_path / "gk.csv"
    src.write_text("x;y;name\r\n5537000;5974000;в Мінску\r\n0;0;нуль\r\n", encoding="utf-8")
    publish(write_manifest(tmp_path, "gk", {"path": src.name, "crs": "EPSG:28405"},
                           region="5000000000"))
    out = tmp_path / "q.csv"
    assert export_quarantine(store, catalog.get_layer("gk").current, out) == 1
    text = out.read_text(encoding="utf-8")
    assert "нуль" in text and "POINT (0 0)" in text and "outside the layer's region" in text


def test_polygons_are_oriented_per_rfc7946_and_repeated_vertices_removed(
        tmp_path, publish, catalog, store):
    clockwise = shapely.Polygon([(27.5, 53.9), (27.5, 53.95), (27.6, 53.95), (27.6, 53.9)])
    repeated = shapely.Polygon([(27.7, 53.9), (27.8, 53.9), (27.8, 53.9), (27.8, 53.95),
                                (27.7, 53.95)])
    assert not clockwise.exterior.is_ccw
    src = write_geojson(tmp_path / "plots.geojson", [({"n": 1}, clockwise), ({"n": 2}, repeated)])
    report = publish(write_manifest(tmp_path, "plots", {"path": src.name}))
    assert report.repairs["rings oriented counter-clockwise (RFC 7946)"] == 1
    assert report.repairs["repeated vertices removed"] == 1
    assert report.geometry_type == "Polygon"  # single parts stay single (issue 16)
    rows = _rows(store, catalog.get_layer("plots"))
    for row in rows:
        assert row.geometry.exterior.is_ccw
    assert shapely.get_num_coordinates(rows[1].geometry) == 5


def test_report_says_how_sure_the_detection_is(tmp_path, publish):
    report = publish(LAYERS_DIR / "by" / "cities.yaml")
    assert (report.crs_origin, report.crs_confidence) == ("file", "high")
    src = tmp_path / "nocrs.csv"
    src.write_text("x,y\n5537000,5974000\n5538000,5975000\n", encoding="utf-8")
    report = publish(write_manifest(tmp_path, "nocrs", {"path": src.name}, region="5000000000"))
    assert (report.crs_origin, report.crs_confidence) == ("detected", "high")
    assert "100% of the sampled coordinates" in report.crs_reason


def test_rollback_serves_an_earlier_version_and_unknown_versions_are_named(
        tmp_path, publish, catalog, store):
    def publish_with(names):
        write_geojson(tmp_path / "v.geojson", [({"name": n}, shapely.Point(27.5, 53.9))
                                               for n in names])
        return publish(write_manifest(tmp_path, "v", {"path": "v.geojson"}))

    publish_with(["a"])
    publish_with(["a", "b"])
    assert catalog.get_layer("v").current.version == 2
    restored = catalog.rollback("v", 1)
    layer = catalog.get_layer("v")
    assert restored.version == layer.current.version == 1
    assert [r.properties["name"] for r in _rows(store, layer)] == ["a"]
    assert [(v.version, v.status) for v in catalog.versions("v")] == [(2, "retired"),
                                                                       (1, "current")]
    with pytest.raises(NotFound, match="no version 7; kept: 1, 2"):
        catalog.rollback("v", 7)
    # Publishing after a rollback makes a new version on top, never reuses a number.
    assert publish_with(["c"]).version == 3


MINSK_CITY_OUTSIDE = ("outside the layer's region, Minsk City (5000000000), by more than "
                      "250 m (another region's place, a wrong CRS or 0,0 coordinates?)")


def test_minsk_stops_outside_the_city_boundary_are_quarantined_with_their_reason(
        publish, catalog, store, tmp_path):
    report = publish(LAYERS_DIR / "minsk" / "stops.yaml")
    # the 11 stops at 0,0 and the suburban stops of Minsk oblast (Minsk city's boundary)
    assert report.set_aside == {MINSK_CITY_OUTSIDE: 829}
    assert report.features_read == 2569 == report.features_published + 829
    out = tmp_path / "stops.geojson"
    assert export_quarantine(store, catalog.get_layer("minsk-stops").current, out) == 829
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    coords = np.array([f["geometry"]["coordinates"] for f in features])
    assert (np.abs(coords).max(axis=1) < 1e-9).sum() == 11  # the 0,0 points, as they were read
    assert {f["properties"]["quarantine_reason"] for f in features} == {MINSK_CITY_OUTSIDE}


@pytest.mark.parametrize("ids", [[1, 2, 3, 2, 1, 4, 4], ["a", "b", "c", "b", "a", "d", "d"]])
def test_duplicate_ids_are_caught_within_and_across_batches(tmp_path, publish, catalog, ids,
                                                            monkeypatch):
    from geoportal.etl import readers

    monkeypatch.setattr(readers, "BATCH_SIZE", 2)
    src = write_geojson(tmp_path / "ids.geojson", [
        ({"code": v}, shapely.Point(27.5 + i / 100, 53.9)) for i, v in enumerate(ids)])
    report = publish(write_manifest(tmp_path, "ids", {"path": src.name, "id_field": "code"}))
    assert report.set_aside == {"duplicate id in field 'code'": 3}
    assert sorted(s["row"] for s in report.set_aside_samples) == [4, 5, 7]


def test_rows_with_unreadable_coordinates_are_quarantined_with_them(tmp_path, publish, catalog,
                                                                   store):
    src = tmp_path / "typos.csv"
    src.write_text("name;lon;lat\r\nA;27,55;53,9\r\nB;27.5x;53.9\r\nC;;\r\n",
                   encoding="utf-8")
    report = publish(write_manifest(tmp_path, "typos", {"path": src.name}))
    assert report.set_aside == {"coordinates could not be read: 27.5x, 53.9": 1,
                                "no geometry": 1}
    assert [f.name for f in catalog.get_layer("typos").current.fields] == ["name"]
    out = tmp_path / "typos-q.csv"
    assert export_quarantine(store, catalog.get_layer("typos").current, out) == 2
    text = out.read_text(encoding="utf-8")
    assert "27.5x" in text and "lon" in text.splitlines()[0]


def test_a_truncated_shapefile_is_refused_not_published_in_part(tmp_path, publish, catalog):
    import pyarrow as pa

    points = [shapely.Point(27.5 + i / 1000, 53.9) for i in range(300)]
    pyogrio.write_arrow(pa.table({"n": list(range(300)), "geometry": pa.array(
        shapely.to_wkb(points))}), tmp_path / "cut.shp", driver="ESRI Shapefile",
        geometry_name="geometry", geometry_type="Point", crs="EPSG:4326")
    for ext in (".shp", ".dbf"):  # an upload cut off at two thirds
        path = tmp_path / f"cut{ext}"
        path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    with pytest.raises(InputError, match=r"cut\.shp: the file says it holds 300 features but "
                                         r"\d+ could be read; it looks truncated"):
        publish(write_manifest(tmp_path, "cut", {"path": "cut.shp"}))
    assert catalog.find_layer("cut") is None


def test_manifest_names_that_clash_are_refused(tmp_path, publish):
    src = write_geojson(tmp_path / "a.geojson", [({"a": 1, "b": 2}, shapely.Point(27.5, 53.9))])
    for rules in ({"a": "fid"}, {"a": "x", "b": "x"}, {"a": "geom"}):
        with pytest.raises(SchemaError, match="more than once or to a column the store keeps"):
            publish(write_manifest(tmp_path, "a", {"path": src.name}, fields=rules))


def test_nested_objects_and_lists_are_published_as_json_text(tmp_path, publish, catalog, store):
    (tmp_path / "nested.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "a", "tags": ["x", "y"], "meta": {"k": 1}},
         "geometry": {"type": "Point", "coordinates": [27.5, 53.9]}},
        {"type": "Feature", "properties": {"name": "b", "tags": None, "meta": {"k": 2}},
         "geometry": {"type": "Point", "coordinates": [27.6, 53.9]}}]}), encoding="utf-8")
    publish(write_manifest(tmp_path, "nested", {"path": "nested.geojson"}))
    layer = catalog.get_layer("nested")
    assert [(f.name, f.type) for f in layer.current.fields] == [
        ("name", "string"), ("tags", "string"), ("meta", "string")]
    first, second = (r.properties for r in _rows(store, layer))
    assert json.loads(first["tags"]) == ["x", "y"] and json.loads(first["meta"]) == {"k": 1}
    assert second["tags"] is None


def test_coded_values_are_published_as_their_values():
    # GDAL reads a GeoPackage field with a coded-value domain as an Arrow dictionary.
    import pyarrow as pa

    from geoportal.etl.normalize import plan_fields

    batch = pa.table({"kind": pa.array(["школа", "сад", "школа"]).dictionary_encode(),
                      "__geometry__": pa.array([b"", b"", b""])})
    plan = plan_fields(batch, geometry="__geometry__")
    assert [(f.name, f.type) for f in plan.fields] == [("kind", "string")]
    table, problems = plan.apply(batch)
    assert table.column("kind").to_pylist() == ["школа", "сад", "школа"] and not problems


def test_a_local_crs_without_an_epsg_code_is_kept_as_wkt(tmp_path, publish, catalog, store):
    import pyarrow as pa

    # A local transverse Mercator (a .prj keeps no datum shift, so WGS 84 based here).
    msk = "+proj=tmerc +lat_0=0 +lon_0=27.55 +k=1 +x_0=300000 +y_0=-5800000 +datum=WGS84"
    x, y = pyproj.Transformer.from_crs(4326, msk, always_xy=True).transform(27.56, 53.90)
    pyogrio.write_arrow(pa.table({"name": ["a", "zero"], "geometry": pa.array(shapely.to_wkb(
        [shapely.Point(x, y), shapely.Point(0, 0)]))}), tmp_path / "msk.shp",
        driver="ESRI Shapefile", geometry_name="geometry", geometry_type="Point", crs=msk)
    report = publish(write_manifest(tmp_path, "msk", {"path": "msk.shp"}, region="5000000000"))
    version = catalog.get_layer("msk").current
    assert version.source_crs.startswith(("PROJCRS", "BOUNDCRS"))
    assert "(no EPSG code)" in report.summary()
    (row,) = _rows(store, catalog.get_layer("msk"))
    assert (row.geometry.x, row.geometry.y) == pytest.approx((27.56, 53.90), abs=1e-6)
    out = tmp_path / "q.gpkg"
    assert export_quarantine(store, version, out) == 1
    assert "tmerc" in pyproj.CRS(pyogrio.read_info(out)["crs"]).to_proj4() or pyproj.CRS(
        pyogrio.read_info(out)["crs"]).equals(pyproj.CRS(version.source_crs))


def test_a_cpg_saying_utf8_over_cp1251_text_is_not_believed(tmp_path, publish, catalog, store):
    import pyarrow as pa

    pyogrio.write_arrow(pa.table({"name": ["Мінск", "Гомель", "Магілёў"], "geometry": pa.array(
        shapely.to_wkb([shapely.Point(27.5 + i / 10, 53.9) for i in range(3)]))}),
        tmp_path / "lied.shp", driver="ESRI Shapefile", geometry_name="geometry",
        geometry_type="Point", crs="EPSG:4326", encoding="CP1251")
    (tmp_path / "lied.cpg").write_text("UTF-8")
    report = publish(write_manifest(tmp_path, "lied", {"path": "lied.shp"}))
    assert report.encoding == "CP1251"
    assert report.encoding_reason.startswith(".cpg says UTF-8 but the text is not")
    names = [r.properties["name"] for r in _rows(store, catalog.get_layer("lied"))]
    assert names == ["Мінск", "Гомель", "Магілёў"]


def test_invalid_utf8_inside_a_geopackage_is_an_encoding_error(tmp_path, publish, catalog):
    import sqlite3

    import pyarrow as pa

    path = tmp_path / "bytes.gpkg"
    pyogrio.write_arrow(pa.table({"name": ["x"], "geometry": pa.array(
        [shapely.Point(27.5, 53.9).wkb])}), path, layer="t", driver="GPKG",
        geometry_name="geometry", geometry_type="Point", crs="EPSG:4326")
    with sqlite3.connect(path) as conn:  # CP1251 bytes where UTF-8 text belongs
        for (trigger,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                       ).fetchall():
            conn.execute(f'DROP TRIGGER "{trigger}"')  # they call SpatiaLite functions
        conn.execute("UPDATE t SET name = CAST(X'cce8ede1ea' AS TEXT)")
    with pytest.raises(EncodingError,
                       match=r"bytes\.gpkg: table 't': text that is not valid UTF-8"):
        publish(write_manifest(tmp_path, "bytes", {"path": "bytes.gpkg"}))
    assert catalog.find_layer("bytes") is None


def test_a_leading_zero_after_the_first_batch_is_set_aside_not_rounded(tmp_path, publish,
                                                                      monkeypatch):
    from geoportal.etl import readers

    monkeypatch.setattr(readers, "BATCH_SIZE", 2)
    src = tmp_path / "codes.csv"
    src.write_text("lon,lat,code\n27.5,53.9,12\n27.6,53.9,34\n27.7,53.9,007\n", encoding="utf-8")
    report = publish(write_manifest(tmp_path, "codes", {"path": src.name}))
    assert report.field_types["code"] == "integer (detected from text)"
    (reason,) = report.set_aside
    assert reason.startswith("unparseable value in field 'code' (integer expected)")
    assert "'007'" in reason


def test_local_date_times_from_text_are_the_same_on_both_stores(tmp_path, publish, catalog,
                                                                store):
    src = tmp_path / "visits.csv"
    src.write_text("lon;lat;visited\n27,5;53,9;01.02.2020 10:30\n", encoding="utf-8")
    publish(write_manifest(tmp_path, "visits", {"path": src.name}))
    layer = catalog.get_layer("visits")
    assert [(f.name, f.type) for f in layer.current.fields] == [("visited", "date-time")]
    (row,) = _rows(store, layer)
    assert str(row.properties["visited"]).replace(" ", "T").startswith("2020-02-01T10:30:00")
    assert "+" not in str(row.properties["visited"])  # no time zone invented


def test_a_feature_with_too_many_vertices_is_set_aside_naming_count_and_cap(
        tmp_path, publish, catalog, store):
    angles = np.linspace(0, 2 * np.pi, 1_500)[:-1]
    huge = shapely.Polygon(np.column_stack([27.5 + 0.1 * np.cos(angles),
                                            53.9 + 0.05 * np.sin(angles)]))
    small = shapely.Point(27.6, 53.9).buffer(0.01)
    src = tmp_path / "plots.gpkg"
    pyogrio.write_arrow(
        pa.table({"n": [1, 2], "geometry": shapely.to_wkb([huge, small])}),
        src, layer="plots", driver="GPKG", geometry_name="geometry", geometry_type="Polygon",
        crs="EPSG:4326")
    report = publish(write_manifest(tmp_path, "huge-plots", {"path": src.name}),
                     max_vertices=1_000)
    assert report.set_aside == {"1,500 vertices, more than the 1,000 a feature may have "
                                "(simplify it, or split it, before publishing)": 1}
    assert report.features_published == 1
    assert [r.properties["n"] for r in _rows(store, catalog.get_layer("huge-plots"))] == [2]


def test_the_vertex_cap_defaults_to_the_measured_value(tmp_path):
    from geoportal.config import load_settings
    from geoportal.etl import geometry

    assert load_settings(data_dir=tmp_path).max_vertices == geometry.MAX_VERTICES == 50_000


def test_a_grodno_layer_sets_aside_points_in_vilnius_bialystok_and_minsk_oblast(
        tmp_path, publish, catalog, store):
    src = write_geojson(tmp_path / "places.geojson", [
        ({"name": "Grodno"}, shapely.Point(23.83, 53.68)),
        ({"name": "Lida"}, shapely.Point(25.30, 53.89)),
        ({"name": "Vilnius"}, shapely.Point(25.28, 54.69)),
        ({"name": "Bialystok"}, shapely.Point(23.16, 53.13)),
        ({"name": "Maladzyechna"}, shapely.Point(26.85, 54.31)),  # Minsk oblast
    ])
    report = publish(write_manifest(tmp_path, "grodno-places", {"path": src.name},
                                    region="4000000000"))
    reason = ("outside the layer's region, Grodno Oblast (4000000000), by more than 250 m "
              "(another region's place, a wrong CRS or 0,0 coordinates?)")
    assert report.set_aside == {reason: 3}
    assert sorted(s["row"] for s in report.set_aside_samples) == [3, 4, 5]
    assert report.features_read == 5 == report.features_published + report.set_aside_count
    names = [r.properties["name"] for r in _rows(store, catalog.get_layer("grodno-places"))]
    assert names == ["Grodno", "Lida"]


def test_a_country_layer_uses_the_country_boundary_not_its_bbox(tmp_path, publish):
    # both points lie inside Belarus's bbox; Daugavpils (Latvia) and Smolensk oblast do not
    # lie inside Belarus
    src = write_geojson(tmp_path / "n.geojson", [
        ({"name": "Minsk"}, shapely.Point(27.56, 53.90)),
        ({"name": "Daugavpils"}, shapely.Point(26.53, 55.87)),
        ({"name": "Roslavl"}, shapely.Point(32.87, 53.95)),
        ({"name": "Chernihiv"}, shapely.Point(31.29, 51.49)),
    ])
    report = publish(write_manifest(tmp_path, "national", {"path": src.name}))
    assert report.features_published == 1
    assert list(report.set_aside.values()) == [3]
    assert "Belarus (0000000000)" in next(iter(report.set_aside))


def test_a_line_reaching_far_into_another_region_is_set_aside_whole(tmp_path, publish):
    road = shapely.LineString([(23.83, 53.68), (24.4, 53.9), (25.28, 54.69)])  # to Vilnius
    lane = shapely.LineString([(23.83, 53.68), (23.9, 53.7)])
    src = write_geojson(tmp_path / "roads.geojson", [({"n": 1}, road), ({"n": 2}, lane)])
    report = publish(write_manifest(tmp_path, "roads", {"path": src.name},
                                    region="4000000000"))
    assert (report.features_published, report.set_aside_count) == (1, 1)
    assert report.set_aside_samples[0]["row"] == 1
