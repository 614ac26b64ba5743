"""HTTP caching on the real server: ETag and Last-Modified from the layer version, 304s."""

from __future__ import annotations

import time

import requests
import shapely

from tests.conftest import write_geojson, write_manifest


def _get(portal, path: str, headers: dict | None = None, **params) -> requests.Response:
    return requests.get(f"{portal.url}{path}", params=params, headers=headers or {}, timeout=30)


def test_items_carry_validators_and_revalidate_to_304(portal):
    first = _get(portal, "/collections/cities/items", f="json", limit=5)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('W/"')
    assert first.headers["Last-Modified"] and first.headers["Cache-Control"] == "no-cache"
    again = _get(portal, "/collections/cities/items", {"If-None-Match": etag}, f="json",
                 limit=5)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    # Another page is another resource.
    other = _get(portal, "/collections/cities/items", {"If-None-Match": etag}, f="json",
                 limit=6)
    assert other.status_code == 200 and other.headers["ETag"] != etag
    since = _get(portal, "/collections/cities/items/1",
                 {"If-Modified-Since": first.headers["Last-Modified"]}, f="json")
    assert since.status_code == 304


def test_collection_item_and_catalog_have_etags_and_404s_do_not(portal):
    for path in ("/collections", "/collections/raions", "/collections/raions/items/1",
                 "/collections/raions/queryables"):
        response = _get(portal, path, f="json")
        assert response.status_code == 200 and "ETag" in response.headers, path
    missing = _get(portal, "/collections/no-such-layer/items", f="json")
    assert missing.status_code == 404 and "ETag" not in missing.headers


def test_a_new_version_changes_the_etag(portal, tmp_path):
    write_geojson(tmp_path / "kiosks.geojson", [({"n": 1}, shapely.Point(27.55, 53.9))])
    portal.cli("ingest", str(write_manifest(tmp_path, "kiosks-cache", {"path": "kiosks.geojson"})))
    deadline = time.monotonic() + 10
    while (before := _get(portal, "/collections/kiosks-cache/items", f="json")).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    etag = before.headers["ETag"]
    write_geojson(tmp_path / "kiosks.geojson", [({"n": 1}, shapely.Point(27.55, 53.9)),
                                                ({"n": 2}, shapely.Point(27.56, 53.9))])
    portal.cli("ingest", str(tmp_path / "kiosks-cache.yaml"))
    deadline = time.monotonic() + 10
    while True:
        after = _get(portal, "/collections/kiosks-cache/items", {"If-None-Match": etag},
                     f="json")
        if after.status_code == 200:
            break
        assert after.status_code == 304 and time.monotonic() < deadline
        time.sleep(0.2)
    assert after.headers["ETag"] != etag and after.json()["numberMatched"] == 2



def test_large_answers_are_gzipped_for_clients_that_accept_it(portal):
    url = f"{portal.url}/collections/minsk-stops/items"
    params = {"f": "json", "limit": 1000}
    plain = requests.get(url, params=params, headers={"Accept-Encoding": "identity"},
                         timeout=30)
    packed = requests.get(url, params=params, headers={"Accept-Encoding": "gzip"}, timeout=30)
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert int(packed.headers["Content-Length"]) < len(plain.content) / 3
    assert packed.json()["features"] == plain.json()["features"]  # requests decodes it


TILE = "/collections/{}/tiles/WebMercatorQuad/12/1317/2361"  # Minsk, zoom 12


def _tile_template(portal, layer_id: str) -> str:
    """The tile URL template the tileset hands out (versioned)."""
    tileset = _get(portal, f"/collections/{layer_id}/tiles/WebMercatorQuad", f="json").json()
    [item] = [link["href"] for link in tileset["links"] if link["rel"] == "item"]
    return item.replace(portal.url, "").replace("{tileMatrix}/{tileRow}/{tileCol}",
                                                "12/1317/2361")


def _until(portal, path: str, accept, **params) -> requests.Response:
    deadline = time.monotonic() + 10
    while not accept(response := _get(portal, path, **params)):
        assert time.monotonic() < deadline, (response.status_code, response.headers)
        time.sleep(0.2)
    return response


def test_versioned_tiles_are_immutable_and_follow_a_rollback(portal, tmp_path):
    """The tileset, TileJSON and the basemap style hand out tile URLs with the version;
    those are immutable; after a rollback the links change, the old URL never serves old
    content (a redirect to the current version), and the unversioned tile's ETag changes."""
    layer = "kiosks-tiles"
    write_geojson(tmp_path / "a.geojson", [({"n": 1}, shapely.Point(27.55, 53.9))])
    portal.cli("ingest", str(write_manifest(tmp_path, layer, {"path": "a.geojson"})))
    write_geojson(tmp_path / "a.geojson", [({"n": 1}, shapely.Point(27.55, 53.9)),
                                           ({"n": 2}, shapely.Point(27.56, 53.9))])
    portal.cli("ingest", str(tmp_path / f"{layer}.yaml"))  # version 2
    _until(portal, f"/collections/{layer}/items", lambda r: r.ok
           and r.json()["numberMatched"] == 2, f="json")

    v2 = _tile_template(portal, layer)
    assert "?v=" in v2
    tilejson = _get(portal, f"/collections/{layer}/tiles/WebMercatorQuad", f="tilejson").json()
    assert tilejson["tiles"][0].endswith("/{z}/{y}/{x}?" + v2.split("?")[1])
    versioned = _get(portal, v2)
    assert versioned.status_code == 200
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = _get(portal, TILE.format(layer))
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "no-cache"
    assert plain.content == versioned.content
    etag = plain.headers["ETag"]
    assert _get(portal, TILE.format(layer), {"If-None-Match": etag}).status_code == 304

    portal.cli("layer", "rollback", layer, "--to", "1")
    v1 = _until(portal, f"/collections/{layer}/tiles/WebMercatorQuad",
                lambda r: r.ok and v2.split("?")[1] not in r.text, f="json")
    assert v1.ok
    v1_url = _tile_template(portal, layer)
    assert v1_url != v2
    # the old versioned URL: no old content, a redirect (not cached) to the current version
    old = requests.get(f"{portal.url}{v2}", allow_redirects=False, timeout=30)
    assert old.status_code == 302 and old.headers["Cache-Control"] == "no-store"
    assert old.headers["Location"].endswith(v1_url.split("?")[1])
    followed = requests.get(f"{portal.url}{v2}", timeout=30)
    assert followed.status_code == 200 and followed.content != versioned.content
    assert followed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # the unversioned tile: the client's ETag is stale, the answer is the current version's
    after = _get(portal, TILE.format(layer), {"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag
    assert after.content == followed.content
    assert _get(portal, TILE.format(layer), {"If-None-Match": after.headers["ETag"]}
                ).status_code == 304


def test_the_basemap_style_hands_out_versioned_tiles(portal):
    style = _get(portal, "/portal/style.json").json()
    tiles = [url for source in style["sources"].values() for url in source.get("tiles", [])]
    assert tiles and all("?v=" in url for url in tiles)


def test_a_cached_tile_is_served_without_reading_the_catalog(portal, tmp_path):
    """A tile in the worker's cache is answered from the listed (light) layer: no catalog
    query, even for a layer outside the kept full layers (``full_kept`` 0 here), so cached
    tiles still serve while the database is away. The app runs in this process on the
    portal's own data, so that the catalog's queries can be counted."""
    from sqlalchemy import event

    from geoportal.config import Settings
    from geoportal.server.app import create_app
    from tests.conftest import CONFIG_DIR, LAYERS_DIR

    layer = "kiosks-cached"
    write_geojson(tmp_path / "c.geojson", [({"n": 1}, shapely.Point(27.55, 53.9))])
    portal.cli("ingest", str(write_manifest(tmp_path, layer, {"path": "c.geojson"})))
    settings = Settings(data_dir=portal.data_dir, config_dir=CONFIG_DIR, layers_dir=LAYERS_DIR,
                        database_url=portal.env.get("GEOPORTAL_DATABASE_URL"),
                        catalog_poll_seconds=3600, jobs_runner=False)
    app = create_app(settings)
    # create_app registers its store for the whole process (storage.factory): closed here,
    # or its PostGIS connection pool outlives the test and complains at interpreter exit
    store = app.extensions["geoportal"]["store"]
    try:
        live = app.extensions["geoportal"]["live"]
        live.full_kept = 0  # no full layer kept: before, every tile read the layer's row
        catalog = app.extensions["geoportal"]["catalog"]
        queries: list[str] = []
        for engine in {catalog.engine, catalog.read_engine or catalog.engine}:
            event.listen(engine, "before_cursor_execute",
                         lambda _c, _cur, statement, *_: queries.append(statement))
        client = app.test_client()
        path = TILE.format(layer)
        first = client.get(path)
        assert first.status_code == 200 and first.data
        assert queries, "a tile not in the cache reads the layer's field list"
        queries.clear()
        for _ in range(3):
            again = client.get(path)
            assert again.status_code == 200 and again.data == first.data
        assert queries == []
        missing = client.get(TILE.format("no-such-layer-here"))
        assert missing.status_code == 404
    finally:
        store.close()
