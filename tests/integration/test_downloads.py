"""Downloads of whole or filtered collections from the real server, read back with GDAL."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pyogrio
import pyproj
import pytest
import requests
import shapely

from geoportal.server import downloads


def _download(portal, collection: str, **params) -> requests.Response:
    return requests.get(f"{portal.url}/collections/{collection}/download", params=params,
                        timeout=60)


def _items(portal, collection: str, **params) -> list[dict]:
    body = requests.get(f"{portal.url}/collections/{collection}/items", timeout=30,
                        params={"f": "json", "limit": 1000, **params}).json()
    return body["features"]


def test_geopackage_of_a_whole_collection(portal, tmp_path):
    response = _download(portal, "cities", f="gpkg")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/geopackage+sqlite3"
    assert 'filename="cities.gpkg"' in response.headers["Content-Disposition"]
    path = tmp_path / "cities.gpkg"
    path.write_bytes(response.content)
    meta, table = pyogrio.read_arrow(path)
    assert table.num_rows == 94 and pyproj.CRS(meta["crs"]).to_epsg() == 4326
    assert sorted(table.column("name_ru").to_pylist()) == sorted(
        f["properties"]["name_ru"] for f in _items(portal, "cities"))


def test_filtered_geojson_matches_the_filtered_items(portal):
    response = _download(portal, "cities", f="geojson", filter="pop_latest > 100000")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith(
        "application/geo+json")
    got = sorted(f["properties"]["name_ru"] for f in response.json()["features"])
    assert got == sorted(f["properties"]["name_ru"]
                         for f in _items(portal, "cities", filter="pop_latest > 100000"))
    assert len(got) > 5


def test_csv_in_pulkovo_zone5_with_wkt(portal):
    response = _download(portal, "cities", f="csv", crs="EPSG:28405", bbox="27.3,53.7,27.9,54.1")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    minsk = next(r for r in rows if r["name_ru"] == "Минск")
    point = shapely.from_wkt(minsk["wkt"])
    item = next(f for f in _items(portal, "cities", bbox="27.3,53.7,27.9,54.1")
                if f["properties"]["name_ru"] == "Минск")
    x, y = pyproj.Transformer.from_crs("OGC:CRS84", 28405, always_xy=True).transform(
        *item["geometry"]["coordinates"])
    assert (point.x, point.y) == pytest.approx((x, y), abs=0.01)


def test_zipped_shapefile_with_cpg_keeps_cyrillic(portal, tmp_path):
    response = _download(portal, "raions", f="shp")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    path = tmp_path / "raions.zip"
    path.write_bytes(response.content)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        assert {"raions.shp", "raions.shx", "raions.dbf", "raions.prj", "raions.cpg"} <= names
        assert zf.read("raions.cpg").decode().strip().upper() in ("UTF-8", "65001")
    table = pyogrio.read_arrow(f"/vsizip/{path}/raions.shp")[1]
    assert table.num_rows == 118
    assert any(n.startswith("Брест") for n in table.column("name_ru").to_pylist())


@pytest.mark.parametrize(("params", "status", "message"), [
    ({"f": "dwg"}, 400, "download as one of"),
    ({"f": "geojson", "filter": "pop_latest >"}, 400, "filter is not valid"),
    ({"f": "geojson", "filter": "nope = 1"}, 400, "nope"),
    ({"f": "csv", "crs": "EPSG:2180"}, 400, "is not offered"),
    ({"f": "csv", "bbox": "1,2,3"}, 400, "bbox"),
])
def test_bad_download_requests_are_400s(portal, params, status, message):
    response = _download(portal, "cities", **params)
    assert response.status_code == status, response.text
    assert message in response.json()["description"]


def test_unknown_collection_is_a_404(portal):
    assert _download(portal, "no-such-layer", f="csv").status_code == 404


def test_batches_cover_every_feature_once(portal, monkeypatch):
    # In-process check of the paging the server uses: fid order, no gaps, no repeats.
    from geoportal.catalog import Catalog
    from geoportal.config import load_settings
    from geoportal.storage import open_store

    settings = load_settings(data_dir=portal.data_dir,
                             database_url=portal.env.get("GEOPORTAL_DATABASE_URL"))
    layer = Catalog(settings.database_url or "").get_layer("minsk-stops")
    store = open_store(settings)
    monkeypatch.setattr(downloads, "BATCH", 700)
    found = downloads.prepare_download(layer, store, {"f": "geojson"}, ["x"])
    body = json.loads(b"".join(found.chunks))
    ids = [f["id"] for f in body["features"]]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == layer.current.feature_count
    store.close()


def test_collection_links_to_its_downloads(portal):
    body = requests.get(f"{portal.url}/collections/cities", params={"f": "json"},
                        timeout=30).json()
    links = {link["type"]: link["href"] for link in body["links"] if link["rel"] == "enclosure"}
    assert set(links) == {"application/geopackage+sqlite3", "application/geo+json",
                          "text/csv; charset=utf-8", "application/zip"}
    response = requests.get(links["application/geo+json"], timeout=60)
    assert response.status_code == 200 and len(response.json()["features"]) == 94
