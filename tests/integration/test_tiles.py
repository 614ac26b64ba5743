"""OGC API - Tiles on the real server (both stores): tile matrix sets, tilesets, TileJSON,
vector tiles decoded with mapbox-vector-tile and read by GDAL's MVT driver, caching headers
and bad addresses."""

from __future__ import annotations

import re
import shutil
import subprocess

import mapbox_vector_tile
import morecantile
import pytest
import requests

MVT = "application/vnd.mapbox-vector-tile"
TMS = morecantile.tms.get("WebMercatorQuad")
MINSK = (27.56, 53.9)


def _tile(portal, collection: str, z: int, x: int, y: int, **headers: str
          ) -> requests.Response:
    return requests.get(f"{portal.url}/collections/{collection}/tiles/WebMercatorQuad/"
                        f"{z}/{y}/{x}", headers=headers, timeout=60)


def test_tile_matrix_sets(portal):
    listed = requests.get(f"{portal.url}/tileMatrixSets", timeout=30).json()
    # the vector tiles' grid, and the map tiles' Belarus grid (issue 20)
    assert [t["id"] for t in listed["tileMatrixSets"]] == ["WebMercatorQuad", "BelarusEPSG4326"]
    belarus = requests.get(listed["tileMatrixSets"][1]["links"][0]["href"], timeout=30).json()
    assert belarus["id"] == "BelarusEPSG4326" and len(belarus["tileMatrices"]) == 15
    tms = requests.get(f"{portal.url}/tileMatrixSets/WebMercatorQuad", timeout=30).json()
    assert tms["id"] == "WebMercatorQuad" and len(tms["tileMatrices"]) >= 19
    assert requests.get(f"{portal.url}/tileMatrixSets/Nope", timeout=30).status_code == 404


def test_a_collection_links_its_tilesets_and_tilejson(portal):
    collection = requests.get(f"{portal.url}/collections/raions", params={"f": "json"},
                              timeout=30).json()
    rels = {link["rel"]: link["href"] for link in collection["links"]}
    tiles_url = rels["http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"]
    tilesets = requests.get(tiles_url, timeout=30).json()["tilesets"]
    assert tilesets[0]["dataType"] == "vector"
    meta_url = next(link["href"] for link in tilesets[0]["links"] if link["rel"] == "self")
    meta = requests.get(meta_url, timeout=30).json()
    template = next(link["href"] for link in meta["links"] if link["rel"] == "item")
    # versioned: immutable (server/caching.py)
    assert re.search(r"/WebMercatorQuad/\{tileMatrix\}/\{tileRow\}/\{tileCol\}\?v=[0-9a-f]{12}$",
                     template)
    limits = {int(m["tileMatrix"]): m for m in meta["tileMatrixSetLimits"]}
    minsk = TMS.tile(*MINSK, 6)
    assert limits[6]["minTileCol"] <= minsk.x <= limits[6]["maxTileCol"]
    assert limits[6]["minTileRow"] <= minsk.y <= limits[6]["maxTileRow"]
    assert set(meta["layers"][0]["propertiesSchema"]["properties"]) >= {"soato", "name_be"}
    tilejson = requests.get(meta_url, params={"f": "tilejson"}, timeout=30).json()
    assert tilejson["tilejson"] == "3.0.0"
    assert re.search(r"/WebMercatorQuad/\{z\}/\{y\}/\{x\}\?v=[0-9a-f]{12}$", tilejson["tiles"][0])
    assert tilejson["vector_layers"][0]["id"] == "raions"
    assert 23 < tilejson["bounds"][0] < tilejson["bounds"][2] < 33


def test_every_raion_is_in_the_z6_tiles_and_each_tile_is_small(portal):
    meta = requests.get(f"{portal.url}/collections/raions/tiles/WebMercatorQuad",
                        timeout=30).json()
    z6 = next(m for m in meta["tileMatrixSetLimits"] if m["tileMatrix"] == "6")
    seen: set[str] = set()
    for x in range(z6["minTileCol"], z6["maxTileCol"] + 1):
        for y in range(z6["minTileRow"], z6["maxTileRow"] + 1):
            r = _tile(portal, "raions", 6, x, y)
            assert r.status_code in (200, 204)
            if r.status_code == 204:
                continue
            assert r.headers["Content-Type"] == MVT
            assert len(r.content) < 100 * 1024, f"6/{y}/{x}: {len(r.content)} bytes"
            layer = mapbox_vector_tile.decode(r.content)["raions"]
            assert layer["extent"] == 4096
            seen |= {f["properties"]["soato"] for f in layer["features"]}
    assert len(seen) == 118


def test_points_keep_their_cyrillic_properties(portal):
    t = TMS.tile(*MINSK, 10)
    r = _tile(portal, "cities", 10, t.x, t.y)
    assert r.status_code == 200
    features = mapbox_vector_tile.decode(r.content)["cities"]["features"]
    minsk = [f for f in features if f["properties"].get("name_be") == "Мінск"]
    assert len(minsk) == 1 and minsk[0]["geometry"]["type"] == "Point"
    assert isinstance(minsk[0]["id"], int)


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin is not installed")
def test_gdal_reads_a_tile_with_its_mvt_driver(portal, tmp_path):
    t = TMS.tile(*MINSK, 8)
    r = _tile(portal, "raions", 8, t.x, t.y)
    path = tmp_path / f"{t.y}.pbf"
    path.write_bytes(r.content)
    out = subprocess.run(["ogrinfo", "-ro", "-al", "-so", "-oo", f"X={t.x}", "-oo",
                          f"Y={t.y}", "-oo", "Z=8", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Layer name: raions" in out.stdout
    count = int(out.stdout.split("Feature Count: ")[1].split()[0])
    assert count == len(mapbox_vector_tile.decode(r.content)["raions"]["features"]) > 3
    assert "soato" in out.stdout


def test_tiles_revalidate_and_empty_tiles_are_204(portal):
    t = TMS.tile(*MINSK, 9)
    first = _tile(portal, "raions", 9, t.x, t.y)
    assert first.status_code == 200 and first.headers["ETag"]
    again = _tile(portal, "raions", 9, t.x, t.y, **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.content
    ocean = TMS.tile(-30.0, 40.0, 6)
    assert _tile(portal, "raions", 6, ocean.x, ocean.y).status_code == 204


@pytest.mark.parametrize(("path", "status"), [
    ("raions/tiles/WebMercatorQuad/6/99/36", 404),
    ("raions/tiles/WebMercatorQuad/23/0/0", 404),
    ("raions/tiles/WebMercatorQuad/-1/0/0", 404),
    ("raions/tiles/WebMercatorQuad/a/b/c", 400),
    ("raions/tiles/WorldCRS84Quad/6/20/36", 404),
    ("no-such-layer/tiles", 404),
])
def test_bad_tile_requests(portal, path, status):
    r = requests.get(f"{portal.url}/collections/{path}", timeout=30)
    assert r.status_code == status
    assert r.json()["description"]


def test_conformance_declares_tiles(portal):
    conforms = requests.get(f"{portal.url}/conformance", params={"f": "json"},
                            timeout=30).json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conforms


def test_owslib_follows_the_links_to_a_vector_and_a_map_tile(portal):
    """OWSLib 0.36 has no OGC API - Tiles class: its generic client finds the tilesets from
    the collection's links (as a Tiles client would) and fetches a tile of each kind."""
    from owslib.ogcapi import Collections

    client = Collections(portal.url)
    for collection, rel, media, z, x, y in (
        ("raions", "tilesets-vector", MVT, 6, 37, 20),
        ("night-lights-2024", "tilesets-map", "image/png", 6, 37, 20),
    ):
        links = client.collection(collection)["links"]
        href = next(link["href"] for link in links
                    if link["rel"] == f"http://www.opengis.net/def/rel/ogc/1.0/{rel}")
        tilesets = client._request(path=href.removeprefix(portal.url).lstrip("/"))
        tileset = next(link["href"] for link in tilesets["tilesets"][0]["links"]
                       if link["rel"] == "self")
        meta = client._request(path=tileset.removeprefix(portal.url).lstrip("/"))
        template = next(link["href"] for link in meta["links"] if link["rel"] == "item")
        url = template.format(tileMatrix=z, tileRow=y, tileCol=x)
        body = client._request(path=url.removeprefix(portal.url).lstrip("/"), as_dict=False)
        assert client.response_headers["Content-Type"] == media
        if media == MVT:
            assert len(mapbox_vector_tile.decode(body)["raions"]["features"]) > 5
        else:
            assert body[:8] == b"\x89PNG\r\n\x1a\n"
