"""Issue 16 through the admin API on the real server (both stores): a GeoJSON mixing types
publishes its dominant type, single-type layers download, tile and take Part 4 edits, a
multi-part polygon late in a Shapefile restarts the ingest, repeated DBF names publish, and a
mixed layer left by an older version answers a Shapefile download with 409."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import pyogrio
import requests
import sqlalchemy as sa

from tests.conftest import admin_token, empty_portal
from tests.integration.test_admin_api import publish
from tests.unit.test_dbf_fields import SOATO, arcview_shapefile, zipped
from tests.unit.test_geometry_mix import _grid, mixed_features, write_shapefile

COUNTRY = "0000000000"


portal = empty_portal("mixed", GEOPORTAL_MAX_UPLOAD_MB="20")
admin = admin_token("admin")


def _geojson(features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": g.__geo_interface__}
        for p, g in features]}, ensure_ascii=False).encode()


def test_an_uploaded_mixed_geojson_publishes_its_polygons_which_download_and_tile(
        portal, admin, tmp_path):
    job = publish(portal, admin, "mixed-upload", COUNTRY, "mixed.geojson",
                  _geojson(mixed_features()), source={"path": "mixed.geojson"})
    assert job["state"] == "done", job
    report = job["report"]
    assert (report["geometry_type"], report["features_read"],
            report["features_published"]) == ("Polygon", 224, 119)
    assert report["set_aside"]["geometry type Point in a Polygon layer"] == 94
    assert report["repairs"]["GeometryCollection: kept the Polygon parts, dropped 1 Point"] == 1
    r = requests.get(f"{portal.url}/collections/mixed-upload/download", params={"f": "shp"},
                     timeout=60)
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        zf.extractall(tmp_path)
    info = pyogrio.read_info(tmp_path / "mixed_upload.shp")
    assert (info["geometry_type"], info["features"]) == ("Polygon", 119)
    tile = requests.get(f"{portal.url}/collections/mixed-upload/tiles/WebMercatorQuad/6/20/36",
                        timeout=60)
    assert tile.status_code == 200 and len(tile.content) > 100


def test_a_part4_edit_of_a_polygon_layer_takes_a_polygon_and_refuses_two_parts(portal, admin):
    square = [[27.5, 53.9], [27.51, 53.9], [27.51, 53.91], [27.5, 53.91], [27.5, 53.9]]
    items = f"{portal.url}/collections/mixed-upload/items"
    headers = {"Authorization": f"Bearer {admin}", "Content-Type": "application/geo+json"}
    one = {"type": "Feature", "properties": {"name": "new"},
           "geometry": {"type": "MultiPolygon", "coordinates": [[square]]}}
    r = requests.post(items, data=json.dumps(one), headers=headers, timeout=60)
    assert r.status_code == 201, r.text
    created = requests.get(r.headers["Location"], params={"f": "json"}, timeout=30).json()
    assert created["geometry"]["type"] == "Polygon"
    shifted = [[x + 0.02, y] for x, y in square]
    two = {**one, "geometry": {"type": "MultiPolygon", "coordinates": [[square], [shifted]]}}
    r = requests.post(items, data=json.dumps(two), headers=headers, timeout=60)
    assert r.status_code == 422
    assert "MultiPolygon of 2 parts in a Polygon layer" in r.json()["description"]


def test_an_uploaded_shapefile_with_a_multi_part_polygon_late_is_multipolygon(
        portal, admin, tmp_path):
    geoms, names = _grid(20_500, 20_100)
    shp = write_shapefile(tmp_path, "plots", geoms, names)
    job = publish(portal, admin, "plots-upload", COUNTRY, "plots.zip", zipped(shp),
                  source={"path": "plots.zip"})
    assert job["state"] == "done", job
    report = job["report"]
    assert (report["geometry_type"], report["features_read"],
            report["features_published"]) == ("MultiPolygon", 20_500, 20_500)
    assert any(n.startswith("row 20101: MultiPolygon of 2 parts") for n in report["notes"])
    feature = requests.get(f"{portal.url}/collections/plots-upload/items",
                           params={"f": "json", "limit": 1}, timeout=30).json()["features"][0]
    assert feature["geometry"]["type"] == "MultiPolygon"


def test_an_uploaded_arcview_shapefile_keeps_soato_text_and_both_naselenie(
        portal, admin, tmp_path):
    shp, towns = arcview_shapefile(tmp_path)
    job = publish(portal, admin, "goroda-upload", COUNTRY, "goroda.zip", zipped(shp),
                  source={"path": "goroda.zip"})
    assert job["state"] == "done", job
    assert any("2 fields named 'NASELENIE'" in n for n in job["report"]["notes"])
    page = requests.get(f"{portal.url}/collections/goroda-upload/items",
                        params={"f": "json", "limit": 100}, timeout=30).json()
    by_name = {f["properties"]["name"]: f["properties"] for f in page["features"]}
    for town in towns:
        got = by_name[town["name_ru"]]
        assert got["soato"] == SOATO[town["parent_region_id"]]
        assert (got["naselenie"], got["naselenie_2"]) == (town["pop_census2019"] or 0,
                                                          town["pop_latest"] or 0)


def test_an_older_mixed_layer_answers_a_shapefile_download_with_409(portal, admin):
    job = publish(portal, admin, "old-mixed", COUNTRY, "old.geojson",
                  _geojson(mixed_features()[:5]), source={"path": "old.geojson"})
    assert job["state"] == "done", job
    url = portal.env.get("GEOPORTAL_DATABASE_URL") or (
        f"sqlite:///{Path(portal.data_dir) / 'catalog.sqlite'}")
    engine = sa.create_engine(url)
    with engine.begin() as db:  # what a catalog of an older version holds
        db.execute(sa.text("UPDATE versions SET geometry_type = 'Unknown' "
                           "WHERE layer_id = 'old-mixed'"))
        db.execute(sa.text("UPDATE layers SET updated = CURRENT_TIMESTAMP "
                           "WHERE id = 'old-mixed'"))
        db.execute(sa.text("UPDATE catalog_state SET generation = generation + 1"))
    engine.dispose()
    deadline = time.monotonic() + 30  # each worker polls the catalog now and then
    while True:
        r = requests.get(f"{portal.url}/collections/old-mixed/download", params={"f": "shp"},
                         timeout=60)
        if r.status_code != 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert r.status_code == 409
    assert "mixes geometry types, which a Shapefile cannot hold" in r.json()["description"]
    r = requests.get(f"{portal.url}/collections/old-mixed/download", params={"f": "gpkg"},
                     timeout=60)
    assert r.status_code == 200
