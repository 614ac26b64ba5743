"""The real server (gunicorn, 2 workers) on 127.0.0.1, read over HTTP as a client would."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pyogrio
import pyproj
import pytest
import requests
import shapely
from openapi_spec_validator import validate

from tests.conftest import LAYERS_DIR, write_geojson, write_manifest

GEOJSON = "application/geo+json"


def get(portal, path: str, **params) -> requests.Response:
    return requests.get(f"{portal.url}{path}", params=params, timeout=30)


def test_landing_page_links_to_the_api_and_collections(portal):
    body = get(portal, "/", f="json").json()
    rels = {link["rel"] for link in body["links"]}
    assert {"service-desc", "conformance", "data"} <= rels


def test_conformance_declares_features_core_and_geojson(portal):
    conforms = get(portal, "/conformance", f="json").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conforms
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conforms


def test_every_sample_layer_is_a_collection(portal):
    ids = {c["id"] for c in get(portal, "/collections", f="json").json()["collections"]}
    assert {"oblasts", "raions", "cities", "railway-stations", "minsk-stops"} <= ids


def test_collection_has_extent_crs_list_and_items_link(portal):
    body = get(portal, "/collections/raions", f="json").json()
    bbox = body["extent"]["spatial"]["bbox"][0]
    assert 23.0 < bbox[0] < 23.3 and 56.0 < bbox[3] < 56.3
    assert "http://www.opengis.net/def/crs/EPSG/0/28405" in body["crs"]
    assert body["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert any(link["rel"] == "items" for link in body["links"])


def test_items_are_geojson_with_counts_and_paging_links(portal):
    response = get(portal, "/collections/railway-stations/items", f="json", limit=5, offset=10)
    body = response.json()
    assert response.headers["Content-Type"].startswith(GEOJSON)
    assert body["numberMatched"] == 945 and body["numberReturned"] == 5
    assert [f["id"] for f in body["features"]] == [11, 12, 13, 14, 15]
    links = {link["rel"]: link["href"] for link in body["links"]}
    assert "offset=15" in links["next"] and "offset=5" in links["prev"]
    assert get(portal, "/collections/railway-stations/items", f="json",
               offset=943).json()["numberReturned"] == 2


def test_bbox_selects_features_and_counts_them(portal):
    minsk = (27.40, 53.80, 27.75, 54.00)
    body = get(portal, "/collections/cities/items", f="json",
               bbox=",".join(map(str, minsk)), limit=100).json()
    names = {f["properties"]["name_ru"] for f in body["features"]}
    assert names == {"Минск"}
    assert body["numberMatched"] == 1


def test_known_feature_attributes_and_coordinates_match_pyproj(portal):
    # The raions sample is stored in Pulkovo 1942 / Gauss-Kruger zone 5: read one vertex of
    # Drybin raion from the file and transform it ourselves.
    src = pyogrio.read_arrow(LAYERS_DIR / "by" / "raions.gpkg")[1]
    names = src.column("name_en").to_pylist()
    index = next(i for i, n in enumerate(names) if n.startswith("Drybin"))
    geom = shapely.from_wkb(src.column("geom").to_numpy(zero_copy_only=False)[index]
                            if "geom" in src.column_names else
                            src.column("wkb_geometry").to_numpy(zero_copy_only=False)[index])
    to_lonlat = pyproj.Transformer.from_crs(28405, 4326, always_xy=True)
    # Rings come out counter-clockwise (RFC 7946), whatever the source's orientation.
    expected = shapely.get_coordinates(shapely.orient_polygons(shapely.transform(
        geom, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))))
    feature = get(portal, f"/collections/raions/items/{index + 1}", f="json").json()
    assert feature["properties"]["name_ru"] == src.column("name_ru")[index].as_py()
    assert feature["properties"]["soato"] == src.column("soato")[index].as_py()
    got = shapely.get_coordinates(shapely.geometry.shape(feature["geometry"]))
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < 1e-7


def test_crs_parameter_returns_latitude_first_for_epsg_4326(portal):
    base = get(portal, "/collections/cities/items/1", f="json").json()
    swapped = requests.get(
        f"{portal.url}/collections/cities/items/1?f=json"
        "&crs=http://www.opengis.net/def/crs/EPSG/0/4326", timeout=30)
    lon, lat = base["geometry"]["coordinates"]
    assert swapped.json()["geometry"]["coordinates"] == pytest.approx([lat, lon], abs=1e-9)
    assert "EPSG/0/4326" in swapped.headers["Content-Crs"]


@pytest.mark.parametrize(("path", "params", "status"), [
    ("/collections/no-such-layer", {}, 404),
    ("/collections/no-such-layer/items", {}, 404),
    ("/collections/cities/items/999999", {}, 404),
    ("/collections/cities/items/abc", {}, 404),
    ("/collections/cities/items", {"bbox": "1,2,3"}, 400),
    ("/collections/cities/items", {"bbox": "a,b,c,d"}, 400),
    ("/collections/cities/items", {"limit": "ten"}, 400),
    ("/collections/cities/items", {"limit": "-1"}, 400),
    ("/collections/cities/items", {"offset": "-5"}, 400),
    ("/collections/cities/items", {"filter": "pop2019 >"}, 400),
    ("/no/such/path", {}, 404),
])
def test_bad_requests_get_4xx_with_a_json_message(portal, path, params, status):
    response = get(portal, path, f="json", **params)
    assert response.status_code == status
    assert response.json()["description"]


def test_limit_above_the_cap_is_throttled_to_the_cap(portal):
    body = get(portal, "/collections/minsk-stops/items", f="json", limit=100000).json()
    assert body["numberReturned"] == 1000


def test_html_pages_render_with_no_remote_assets(portal):
    for path in ("/", "/collections", "/collections/cities", "/collections/cities/items",
                 "/collections/cities/items/1"):
        response = requests.get(f"{portal.url}{path}", headers={"Accept": "text/html"},
                                timeout=30)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/html")
        loaded = re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="([^"]+)"',
                            response.text)
        assert loaded, "the page loads its stylesheet"
        remote = [u for u in loaded if "://" in u and not u.startswith(portal.url)]
        assert remote == [], f"{path} loads assets from other hosts: {remote}"


def test_openapi_is_a_valid_openapi_3_document(portal):
    response = get(portal, "/openapi", f="json")
    assert "schemas.opengis.net" not in response.text  # self-contained: the portal is offline
    document = response.json()
    validate(document)
    assert "/collections/cities/items" in document["paths"]


def test_layer_ingested_while_the_server_runs_is_served_by_every_worker(portal, tmp_path):
    src = write_geojson(tmp_path / "new.geojson", [
        ({"name": "Ратуша"}, shapely.Point(23.8297, 53.6779)),
        ({"name": "Каложа"}, shapely.Point(23.8087, 53.6788)),
    ])
    manifest = write_manifest(tmp_path, "grodno-sights", {"path": src.name},
                              region="4000000000", theme="other", title="Славутасці")
    portal.cli("ingest", str(manifest))
    published = time.monotonic()
    seen_by = set()
    # The bound only keeps a portal that never shows the layer from hanging the suite: a
    # worker looks a layer it does not know up in the catalog at once (no wall-clock claim).
    while time.monotonic() - published < 60 and len(seen_by) < 10:
        response = get(portal, "/collections/grodno-sights/items", f="json")
        if response.status_code == 200:
            body = response.json()
            assert body["numberMatched"] == 2
            assert body["features"][0]["properties"]["name"] == "Ратуша"
            seen_by.add(len(seen_by))
        else:
            time.sleep(0.1)
    # Ten consecutive answers from whichever worker took them.
    assert len(seen_by) == 10, "the new layer was never served by every worker"
    ids = {c["id"] for c in json.loads(get(portal, "/collections", f="json").text)["collections"]}
    assert "grodno-sights" in ids


def test_queryables_title_each_field_with_its_original_name(portal):
    body = get(portal, "/collections/railway-stations/queryables", f="json").json()
    assert body["properties"]["voblasc"]["title"] == "Вобласьць"
    assert body["properties"]["kod"]["type"] == "integer"
