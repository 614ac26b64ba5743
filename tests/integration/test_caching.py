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
