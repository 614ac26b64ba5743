"""A catalog of 1,000 layers on the real server (gunicorn, 2 workers): every layer listed,
one OpenAPI document with ``{collectionId}`` paths, and changes reaching every worker.

The catalog is built by the benchmark's own code (``benchmarks/catalog.py``): one small layer
through the ETL, 999 more registered in one transaction over the regions and themes.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from collections.abc import Iterator
from urllib.parse import unquote_plus

import pytest
import requests
from flask import request as flask_request
from openapi_spec_validator import validate
from pygeoapi import api as core_api
from pygeoapi.api import APIRequest

from benchmarks.catalog import (
    BASE_LAYER,
    BuiltCatalog,
    Server,
    bench_settings,
    build_catalog,
    publish_points,
    remove_layers,
    retitle_layer,
    wait_every_worker,
)
from geoportal.catalog import Catalog
from geoportal.server.app import create_app
from geoportal.server.collections import DEFAULT_PAGE, describe_collections
from tests.conftest import BACKENDS, require_tool

LAYERS = 1000
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TEMPLATED = ["/collections/{collectionId}", "/collections/{collectionId}/items",
             "/collections/{collectionId}/items/{featureId}",
             "/collections/{collectionId}/queryables", "/collections/{collectionId}/schema"]


@pytest.fixture(scope="module", params=BACKENDS)
def catalog(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
            ) -> BuiltCatalog:
    database_url = None
    if request.param == "postgis":
        database_url = request.getfixturevalue("postgres").new_database()
    data_dir = tmp_path_factory.mktemp("many") / "var"
    return build_catalog(bench_settings(data_dir, database_url), LAYERS)


@pytest.fixture(scope="module")
def server(catalog: BuiltCatalog) -> Iterator[Server]:
    server = Server(catalog.settings, workers=2)
    server.start()
    try:
        ready = wait_every_worker(server, "/conformance?f=json", lambda r: r.ok, timeout=60)
        assert ready["all_workers"], server.log_path.read_text()[-3000:]
        yield server
    finally:
        server.stop()


def get(server: Server, path: str, **params: str) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params, timeout=60)


def every_collection(server: Server, **params: str) -> list[dict]:
    """Every collection of the paged ``/collections``, following its ``next`` links."""
    body = get(server, "/collections", f="json", **params).json()
    found = list(body["collections"])
    while nxt := [link["href"] for link in body["links"] if link["rel"] == "next"]:
        body = requests.get(nxt[0], timeout=60).json()
        found += body["collections"]
    return found


def test_every_layer_is_listed_with_its_links_extent_and_crs(server, catalog):
    first = get(server, "/collections", f="json").json()
    assert first["numberMatched"] == LAYERS + 1 and first["numberReturned"] == 100
    assert {link["rel"] for link in first["links"]} == {"self", "alternate", "next"}
    listed = {c["id"]: c for c in every_collection(server, limit="300")}
    assert listed.pop("catalog")["itemType"] == "record"  # the catalog's own records
    assert set(listed) == set(catalog.ids)
    for cid, collection in listed.items():
        links = {(link["rel"], link["type"]): link["href"] for link in collection["links"]}
        url = f"{server.url}/collections/{cid}"
        assert links[("items", "application/geo+json")] == f"{url}/items?f=json"
        assert links[("self", "application/json")] == f"{url}?f=json"
        assert links[("http://www.opengis.net/def/rel/ogc/1.0/queryables",
                      "application/schema+json")] == f"{url}/queryables?f=json"
        assert collection["itemType"] == "feature" and collection["storageCrs"] == CRS84
        assert CRS84 in collection["crs"] and len(collection["extent"]["spatial"]["bbox"]) == 1
        assert collection["title"]


def test_titles_follow_the_requested_language(server, catalog):
    sample = catalog.ids[1]  # a generated layer, titled in be, ru and en
    title = Catalog(catalog.settings.database_url or "").get_layer(sample).meta.title
    assert get(server, f"/collections/{sample}", f="json").json()["title"] == title["en"]
    assert get(server, f"/collections/{sample}", f="json", lang="ru").json()["title"] == \
        title["ru"]
    belarusian = requests.get(f"{server.url}/collections?f=json&limit=1000", timeout=60,
                              headers={"Accept-Language": "be"}).json()
    assert {c["id"]: c["title"] for c in belarusian["collections"]}[sample] == title["be"]
    assert len({title["be"], title["ru"], title["en"]}) == 3


def test_openapi_describes_every_collection_once_with_collection_id_paths(server):
    response = get(server, "/openapi", f="json")
    assert response.headers["Content-Type"].startswith("application/vnd.oai.openapi+json")
    document = response.json()
    validate(document)
    paths = document["paths"]
    assert set(TEMPLATED) <= set(paths)
    assert not [p for p in paths if p.startswith("/collections/") and "{" not in p]
    refs = re.findall(r'"\$ref":\s*"([^"]+)"', response.text)
    assert refs and all(ref.startswith("#/") for ref in refs)  # self-contained: no internet
    items = paths["/collections/{collectionId}/items"]["get"]["parameters"]
    names = {document["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"]
             for p in items}
    assert {"bbox", "limit", "offset", "crs", "bbox-crs", "filter", "filter-lang", "sortby",
            "properties", "skipGeometry", "datetime", "f"} <= names


def test_pages_render_with_links_to_the_next(server, catalog):
    page = requests.get(f"{server.url}/collections", headers={"Accept": "text/html"},
                        timeout=60)
    # a page of 100: the catalog's records and 99 layers, and a link to the next page
    assert page.status_code == 200 and page.text.count("/items?f=html") == 100
    assert 'rel="next"' in page.text and "offset=100&amp;limit=100" in page.text
    last = get(server, "/collections", f="html", offset=str(LAYERS), limit="100")
    assert last.text.count("/items?f=html") == 1 and 'rel="prev"' in last.text
    api_page = get(server, "/openapi", f="html")
    assert api_page.status_code == 200 and "{collectionId}" in api_page.text


_MAP_RELS = ("http://www.opengis.net/def/rel/ogc/1.0/map",
             "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map")


def _without_downloads(doc: dict) -> dict:
    """Our documents are pygeoapi's plus one enclosure link per download format, a
    ``queryables`` link for GDAL, links to the vector tilesets, the map and the map tiles,
    and the layer card's ``attribution`` and ``geoportal:*`` members (issue 19)."""
    tilesets = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
    for collection in doc.get("collections", [doc]):
        if collection.get("itemType") == "record":
            continue  # the catalog collection is pygeoapi's own document
        card = [key for key in collection if key.startswith("geoportal:")]
        assert {"geoportal:crsNames", "geoportal:urls", "geoportal:updated"} <= set(card)
        for key in [*card, "attribution"]:
            collection.pop(key, None)
        tiles = [link for link in collection["links"] if link["rel"] == tilesets]
        assert [link["href"].rsplit("/", 1)[1] for link in tiles] == ["tiles"]
        downloads = [link for link in collection["links"] if link["rel"] == "enclosure"]
        assert [link["href"].rsplit("=", 1)[1] for link in downloads] == [
            "gpkg", "geojson", "csv", "shp"]
        gdal = [link for link in collection["links"] if link["rel"] == "queryables"]
        assert [link["href"].rsplit("/", 1)[1] for link in gdal] == ["queryables?f=json"]
        maps = [link["href"].split("/collections/", 1)[1] for link in collection["links"]
                if link["rel"] in _MAP_RELS]  # OGC API - Maps (issue 20)
        assert maps == [f"{collection['id']}/map", f"{collection['id']}/map/tiles"], maps
        collection["links"] = [link for link in collection["links"]
                               if link["rel"] not in ("enclosure", "queryables", tilesets,
                                                      *_MAP_RELS)]
    return doc


def test_collection_documents_are_pygeoapis(catalog):
    """What OWSLib, GDAL and QGIS read is unchanged: our cached documents equal the ones
    pygeoapi's ``describe_collections`` generates, in every language and format."""
    app = create_app(catalog.settings.model_copy(update={"jobs_runner": False}))
    api = app.extensions["geoportal"]["live"].api
    sample = [catalog.ids[0], catalog.ids[1], catalog.ids[len(catalog.ids) // 2]]
    for query in ("f=json", "", "lang=ru", "lang=be-BY&f=json", "f=html"):
        for headers in ({}, {"Accept-Language": "ru"}, {"Accept": "text/html"}):
            with app.test_request_context(f"/collections?{query}", headers=headers):
                api_request = APIRequest.from_flask(flask_request, api.locales)
                html = api_request.format == "html"
                whole = not html and not headers and query in ("f=json", "lang=ru")
                for cid in [None, *sample] if whole else sample[:1] if html else sample:
                    theirs = core_api.describe_collections(
                        _first_page(api) if cid is None else api, api_request, cid)
                    ours = describe_collections(api, api_request, cid)
                    assert ours[:2] == theirs[:2], (query, headers, cid)
                    if not html:
                        assert _without_paging(_without_downloads(json.loads(ours[2]))) == \
                            json.loads(theirs[2]), (query, cid)


def _first_page(api):
    """The API with the resources of ``/collections``' first page only, as a plain dict:
    what pygeoapi would list on that page."""
    page = copy.copy(api)
    resources = api.config["resources"]
    page.config = {**api.config, "resources": {
        cid: resources[cid] for cid in api.collections.ids[:DEFAULT_PAGE]}}
    return page


def _without_paging(doc: dict) -> dict:
    """pygeoapi's listing has no paging: drop our counts and next/prev links."""
    if "numberMatched" in doc:
        doc.pop("numberMatched"), doc.pop("numberReturned")
        doc["links"] = [link for link in doc["links"] if link["rel"] not in ("next", "prev")]
    return doc


def test_published_replaced_and_removed_layers_reach_every_worker(server, catalog):
    settings = catalog.settings
    new_id = "many-new-points"
    publish_points(settings, new_id, title="New points", count=3, shift=0.05)
    added = wait_every_worker(
        server, f"/collections/{new_id}/items?f=json",
        lambda r: r.status_code == 200 and r.json()["numberMatched"] == 3, timeout=5)
    assert added["all_workers"], added
    listed = {c["id"] for c in every_collection(server, limit="1000")}
    assert new_id in listed and len(listed) == LAYERS + 2  # with the catalog

    publish_points(settings, new_id, title="New points", count=5, shift=0.05)  # version 2
    replaced = wait_every_worker(
        server, f"/collections/{new_id}/items?f=json",
        lambda r: r.status_code == 200 and r.json()["numberMatched"] == 5, timeout=5)
    assert replaced["all_workers"], replaced

    retitle_layer(settings, BASE_LAYER, "Renamed base points")
    renamed = wait_every_worker(
        server, f"/collections/{BASE_LAYER}?f=json",
        lambda r: r.ok and r.json()["title"] == "Renamed base points", timeout=5)
    assert renamed["all_workers"], renamed

    remove_layers(settings, [new_id])
    removed = wait_every_worker(server, f"/collections/{new_id}?f=json",
                                lambda r: r.status_code == 404, timeout=5)
    assert removed["all_workers"], removed
    titles = {c["id"]: c["title"] for c in every_collection(server, limit="1000")}
    assert new_id not in titles and titles[BASE_LAYER] == "Renamed base points"
    validate(get(server, "/openapi", f="json").json())


def test_gdal_sends_a_where_to_the_server_with_many_collections(server, catalog):
    # Over 100 collections the OpenAPI document has only {collectionId} paths; GDAL finds the
    # fields it may filter on in the queryables list, and sends the where as CQL2.
    ogrinfo = require_tool("ogrinfo")
    layer = catalog.ids[1]
    result = subprocess.run(
        [ogrinfo, "-ro", "-al", "--debug", "on", "-where", "floors > 5",
         f"OAPIF:{server.url}/collections/{layer}"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "filter=floors" in unquote_plus(result.stderr), result.stderr[-2000:]
    expected = get(server, f"/collections/{layer}/items", filter="floors > 5", f="json",
                   limit="1000").json()["numberReturned"]
    assert 0 < expected < 25
    assert result.stdout.count("OGRFeature(") == expected


def test_gdal_lists_every_collection_across_pages(server, catalog):
    """GDAL's OAPIF driver follows /collections' next links: QGIS and ogrinfo see every layer."""
    ogrinfo = require_tool("ogrinfo")
    result = subprocess.run([ogrinfo, "-ro", "-q", f"OAPIF:{server.url}"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    listed = {line.split(": ", 1)[1].split(" ")[0] for line in result.stdout.splitlines()
              if ": " in line and line.split(":", 1)[0].strip().isdigit()}
    assert listed >= set(catalog.ids)
