"""OGC API - Features Part 4 on the real server (gunicorn, 2 workers, both stores): create,
replace, update and delete of items with tokens, ETags and If-Match, region boundaries,
malformed bodies, parallel editors, the audit log and rollback of an edit."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import BACKENDS, Portal
from tests.integration.test_admin_api import publish

MINSK, GRODNO_OBLAST = "5000000000", "4000000000"
GEOJSON = "application/geo+json"
PART4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"


@pytest.fixture(scope="module", params=BACKENDS)
def portal(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
           ) -> Iterator[Portal]:
    database_url = None
    if request.param == "postgis":
        database_url = request.getfixturevalue("postgres").new_database()
    server = Portal(tmp_path_factory.mktemp("part4") / "var", database_url)
    server.cli("init")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tokens(portal: Portal) -> dict[str, str]:
    def create(*args: str) -> str:
        return portal.cli("token", "create", *args).stdout.strip()

    return {"minsk": create("--name", "minsk-gis", "--region", MINSK),
            "grodno": create("--name", "grodno-gis", "--region", GRODNO_OBLAST),
            "admin": create("--name", "national", "--role", "admin")}


def _points(names: list[str], lon: float, lat: float) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature",
         "properties": {"name": name, "floors": i + 1, "opened": f"2020-0{i % 9 + 1}-01"},
         "geometry": {"type": "Point", "coordinates": [lon + i * 1e-3, lat]}}
        for i, name in enumerate(names)]}).encode()


@pytest.fixture(scope="module")
def layers(portal: Portal, tokens: dict[str, str]) -> dict[str, str]:
    """A Minsk layer and a Grodno oblast layer of points, published by upload."""
    made = {}
    for key, layer_id, region, lon, lat in (("minsk", "minsk-edits", MINSK, 27.55, 53.9),
                                            ("grodno", "grodno-edits", GRODNO_OBLAST, 23.83,
                                             53.68)):
        job = publish(portal, tokens["admin"], layer_id, region, "points.geojson",
                      _points([f"{key}{i}" for i in range(5)], lon, lat))
        assert job["state"] == "done", job
        made[key] = layer_id
    return made


def _auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": GEOJSON, **extra}


def _read(token: str) -> dict[str, str]:
    """Reads by the editor: a worker checks the catalog at once for a request with a token
    (anonymous readers see an edit within catalog_poll_seconds)."""
    return {"Authorization": f"Bearer {token}"}


def _get(url: str, token: str) -> requests.Response:
    return requests.get(url, params={"f": "json"}, headers=_read(token), timeout=30)


def _feature(name: str | None, lon: float, lat: float, **props: object) -> dict:
    properties = {"name": name, **props} if name is not None else props
    return {"type": "Feature", "properties": properties,
            "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def _items(portal: Portal, layer_id: str, token: str) -> dict[int, dict]:
    """Every feature of the layer, paged 2 at a time (deep pages included)."""
    found: dict[int, dict] = {}
    offset = 0
    while True:
        page = requests.get(f"{portal.url}/collections/{layer_id}/items",
                            params={"f": "json", "limit": 2, "offset": offset},
                            headers=_read(token), timeout=30).json()
        for f in page["features"]:
            assert f["id"] not in found, f"feature {f['id']} on two pages"
            found[f["id"]] = f
        if page["numberReturned"] < 2:
            return found
        offset += 2


def _post(portal: Portal, token: str, layer_id: str, body: object, **headers: str
          ) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body)
    return requests.post(f"{portal.url}/collections/{layer_id}/items", data=data,
                         headers=_auth(token, **headers), timeout=60)


def test_conformance_and_allowed_methods(portal, layers):
    conforms = requests.get(f"{portal.url}/conformance", params={"f": "json"},
                            timeout=30).json()["conformsTo"]
    for name in ("create-replace-delete", "update", "optimistic-locking-etags"):
        assert PART4 + name in conforms
    items = requests.options(f"{portal.url}/collections/minsk-edits/items", timeout=30)
    assert "POST" in items.headers["Allow"]
    one = requests.options(f"{portal.url}/collections/minsk-edits/items/1", timeout=30)
    assert {"PUT", "PATCH", "DELETE"} <= set(one.headers["Allow"].replace(" ", "").split(","))


def test_create_read_replace_update_delete(portal, tokens, layers):
    token = tokens["minsk"]
    before = _items(portal, "minsk-edits", token)
    created = _post(portal, token, "minsk-edits",
                    _feature("новая", 27.56, 53.91, floors=9, opened="2024-05-01"))
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    fid = created.json()["id"]
    assert location.endswith(f"/collections/minsk-edits/items/{fid}")
    assert fid not in before
    etag = created.headers["ETag"]
    assert not etag.startswith("W/")
    version = int(created.headers["Geoportal-Version"])

    got = _get(location, token)
    assert got.status_code == 200 and got.headers["ETag"] == etag
    assert got.json()["properties"]["name"] == "новая"
    assert got.json()["properties"]["floors"] == 9
    assert got.json()["geometry"]["coordinates"] == [27.56, 53.91]
    assert requests.get(location, params={"f": "json"}, timeout=30,
                        headers={"If-None-Match": etag, **_read(token)}).status_code == 304

    replaced = requests.put(location, headers=_auth(token, **{"If-Match": etag}), timeout=30,
                            data=json.dumps(_feature("замененная", 27.57, 53.92)))
    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["ETag"] != etag
    assert int(replaced.headers["Geoportal-Version"]) == version + 1
    now = _get(location, token).json()
    assert now["properties"]["name"] == "замененная"
    assert now["properties"]["floors"] is None  # PUT replaces every property
    assert now["geometry"]["coordinates"] == [27.57, 53.92]

    patched = requests.patch(location, headers=_auth(token), timeout=30,
                             data=json.dumps({"properties": {"floors": 12}}))
    assert patched.status_code == 200, patched.text
    now = _get(location, token).json()
    assert now["properties"] == {"name": "замененная", "floors": 12, "opened": None}
    assert now["geometry"]["coordinates"] == [27.57, 53.92]

    deleted = requests.delete(location, headers=_auth(token), timeout=30)
    assert deleted.status_code == 204
    assert _get(location, token).status_code == 404
    after = _items(portal, "minsk-edits", token)
    assert set(after) == set(before)  # every other feature still pages, deep pages included


def test_a_stale_etag_is_412_and_changes_nothing(portal, tokens, layers):
    token = tokens["minsk"]
    location = f"{portal.url}/collections/minsk-edits/items/2"
    etag = _get(location, token).headers["ETag"]
    first = requests.patch(location, headers=_auth(token, **{"If-Match": etag}), timeout=30,
                           data=json.dumps({"properties": {"name": "first editor"}}))
    assert first.status_code == 200, first.text
    second = requests.patch(location, headers=_auth(token, **{"If-Match": etag}), timeout=30,
                            data=json.dumps({"properties": {"name": "second editor"}}))
    assert second.status_code == 412
    assert "fetch it again" in second.json()["description"]
    assert _get(location, token).json()["properties"]["name"] == "first editor"
    # the answer's ETag is the one a reader gets; a weak one never satisfies If-Match
    current = first.headers["ETag"]
    assert _get(location, token).headers["ETag"] == current
    weak = requests.patch(location, headers=_auth(token, **{"If-Match": "W/" + current}),
                          data=json.dumps({"properties": {"floors": 1}}), timeout=30)
    assert weak.status_code == 412
    star = requests.patch(location, headers=_auth(token, **{"If-Match": "*"}),
                          data=json.dumps({"properties": {"floors": 2}}), timeout=30)
    assert star.status_code == 200
    missing = requests.delete(f"{portal.url}/collections/minsk-edits/items/999999",
                              headers=_auth(token, **{"If-Match": "*"}), timeout=30)
    assert missing.status_code == 404


def test_an_edit_elsewhere_in_the_layer_keeps_an_etag_valid(portal, tokens, layers):
    token = tokens["minsk"]
    one, three = (f"{portal.url}/collections/minsk-edits/items/{i}" for i in (1, 3))
    etag = _get(one, token).headers["ETag"]
    assert requests.patch(three, headers=_auth(token), timeout=30,
                          data=json.dumps({"properties": {"floors": 7}})).status_code == 200
    assert _get(one, token).headers["ETag"] == etag
    r = requests.patch(one, headers=_auth(token, **{"If-Match": etag}), timeout=30,
                       data=json.dumps({"properties": {"floors": 8}}))
    assert r.status_code == 200, r.text


def test_two_editors_at_once_one_wins_the_other_gets_412(portal, tokens, layers):
    token = tokens["minsk"]
    location = f"{portal.url}/collections/minsk-edits/items/4"
    etag = _get(location, token).headers["ETag"]
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def edit(name: str) -> None:
        barrier.wait()
        statuses.append(requests.put(location, headers=_auth(token, **{"If-Match": etag}),
                                     data=json.dumps(_feature(name, 27.6, 53.9)),
                                     timeout=60).status_code)

    threads = [threading.Thread(target=edit, args=(f"editor {i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 412, 412, 412]


def test_parallel_creates_lose_nothing(portal, tokens, layers):
    token = tokens["minsk"]
    before = set(_items(portal, "minsk-edits", token))
    made: list[int] = []
    barrier = threading.Barrier(6)

    def create(i: int) -> None:
        barrier.wait()
        r = _post(portal, token, "minsk-edits", _feature(f"parallel {i}", 27.5 + i / 1000, 53.9))
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])

    threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 6
    assert set(_items(portal, "minsk-edits", token)) == before | set(made)


def test_a_feature_collection_is_added_in_one_version(portal, tokens, layers):
    body = {"type": "FeatureCollection",
            "features": [_feature(f"batch {i}", 27.5, 53.85 + i / 100) for i in range(3)]}
    r = _post(portal, tokens["minsk"], "minsk-edits", body)
    assert r.status_code == 201, r.text
    assert [f["properties"]["name"] for f in r.json()["features"]] == [
        "batch 0", "batch 1", "batch 2"]
    versions = requests.get(f"{portal.url}/admin/layers/minsk-edits/versions",
                            headers=_auth(tokens["admin"]), timeout=30).json()["versions"]
    newest = max(versions, key=lambda v: v["version"])
    assert newest["version"] == int(r.headers["Geoportal-Version"])
    assert newest["source"].startswith("edit: create")


def test_content_crs_is_read_in_its_axis_order(portal, tokens, layers):
    # UTM 35N easting/northing of about 27.56 E, 53.91 N
    r = _post(portal, tokens["minsk"], "minsk-edits",
              {"type": "Feature", "properties": {"name": "utm"},
               "geometry": {"type": "Point", "coordinates": [537_000, 5_973_400]}},
              **{"Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/32635>"})
    assert r.status_code == 201, r.text
    lon, lat = r.json()["geometry"]["coordinates"]
    assert 27.5 < lon < 27.62 and 53.85 < lat < 53.95
    r = _post(portal, tokens["minsk"], "minsk-edits", _feature("latlon", 53.9, 27.55),
              **{"Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4326>"})
    assert r.status_code == 201, r.text
    assert r.json()["geometry"]["coordinates"] == [27.55, 53.9]
    bad = _post(portal, tokens["minsk"], "minsk-edits", _feature("x", 1, 2),
                **{"Content-Crs": "EPSG:9999"})
    assert bad.status_code == 400 and "Content-Crs" in bad.json()["description"]


def test_rights_layer_region_and_boundary(portal, tokens, layers):
    # another region's layer
    r = _post(portal, tokens["grodno"], "minsk-edits", _feature("x", 27.55, 53.9))
    assert r.status_code == 403
    # the Grodno editor inside Grodno oblast: yes
    ok = _post(portal, tokens["grodno"], "grodno-edits", _feature("Hrodna", 23.83, 53.68))
    assert ok.status_code == 201, ok.text
    # ... but not in Lithuania (Druskininkai) or Minsk oblast (Valozhyn), though both are
    # inside Grodno oblast's bounding box
    for lon, lat in ((23.97, 54.017), (26.53, 54.09)):
        refused = _post(portal, tokens["grodno"], "grodno-edits", _feature("out", lon, lat))
        assert refused.status_code == 403, refused.text
        assert "outside the boundary" in refused.json()["description"]
    # nor move a feature out of the oblast
    location = ok.headers["Location"]
    moved = requests.patch(location, headers=_auth(tokens["grodno"]), timeout=30,
                           data=json.dumps({"geometry": {"type": "Point",
                                                         "coordinates": [26.53, 54.09]}}))
    assert moved.status_code == 403
    # a national admin may place it there; then the Grodno editor may not touch it
    admin = requests.patch(location, headers=_auth(tokens["admin"]), timeout=30,
                           data=json.dumps({"geometry": {"type": "Point",
                                                         "coordinates": [26.53, 54.09]}}))
    assert admin.status_code == 200, admin.text
    for method in (requests.delete, requests.put):
        r = method(location, headers=_auth(tokens["grodno"]), timeout=30,
                   data=json.dumps(_feature("back", 23.83, 53.68)))
        assert r.status_code == 403, r.text
    # without a token nothing is written
    anonymous = requests.post(f"{portal.url}/collections/grodno-edits/items", timeout=30,
                              data=json.dumps(_feature("x", 23.83, 53.68)),
                              headers={"Content-Type": GEOJSON})
    assert anonymous.status_code == 401


@pytest.mark.parametrize(("body", "content_type", "status", "words"), [
    (b'{"type": "Feature", "properties": {', GEOJSON, 400, "not valid JSON"),
    (b"", GEOJSON, 400, "no body"),
    (b"\xff\xfe{}", GEOJSON, 400, "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, GEOJSON, 400, "nested too deeply"),
    (json.dumps({"type": "Point", "coordinates": [27.5, 53.9]}).encode(), GEOJSON, 400,
     "must be a GeoJSON Feature"),
    (json.dumps(_feature("x", 27.5, 53.9, colour="red")).encode(), GEOJSON, 400,
     "unknown property 'colour'"),
    (json.dumps(_feature("x", 27.5, 53.9, floors="many")).encode(), GEOJSON, 400,
     "floors"),
    (json.dumps(_feature("x", 27.5, 53.9, opened="yesterday")).encode(), GEOJSON, 400,
     "opened"),
    (json.dumps({"type": "Feature", "properties": {},
                 "geometry": {"type": "Point", "coordinates": "abc"}}).encode(), GEOJSON, 400,
     "geometry"),
    (b'{"type": "Feature", "properties": {}, "geometry": {"type": "Point", '
     b'"coordinates": [NaN, 53.9]}}', GEOJSON, 400, "NaN is not a JSON number"),
    (json.dumps({"type": "Feature", "properties": {}}).encode(), GEOJSON, 400,
     "'geometry' is missing"),
    (json.dumps({"type": "Feature", "properties": {},
                 "geometry": {"type": "LineString",
                              "coordinates": [[27.5, 53.9], [27.6, 53.9]]}}).encode(),
     GEOJSON, 422, "cannot be published"),
    (json.dumps(_feature("far", 2.35, 48.85)).encode(), GEOJSON, 422, "outside"),
    (json.dumps(_feature("x", 27.5, 53.9)).encode(), "text/plain", 415, "geo+json"),
    (json.dumps({"type": "FeatureCollection", "features": []}).encode(), GEOJSON, 400,
     "no 'features'"),
])
def test_malformed_bodies_are_refused_and_nothing_is_written(portal, tokens, layers, body,
                                                             content_type, status, words):
    before = requests.get(f"{portal.url}/admin/layers/minsk-edits/versions",
                          headers=_auth(tokens["admin"]), timeout=30).json()["versions"]
    r = requests.post(f"{portal.url}/collections/minsk-edits/items", data=body, timeout=60,
                      headers={"Authorization": f"Bearer {tokens['minsk']}",
                               "Content-Type": content_type})
    assert r.status_code == status, r.text
    assert words in r.json()["description"]
    after = requests.get(f"{portal.url}/admin/layers/minsk-edits/versions",
                         headers=_auth(tokens["admin"]), timeout=30).json()["versions"]
    assert after == before


def test_an_oversized_body_is_413(portal, tokens, layers):
    r = requests.post(f"{portal.url}/collections/minsk-edits/items", timeout=120,
                      data=b" " * (33 * 1024**2), headers=_auth(tokens["minsk"]))
    assert r.status_code == 413
    assert "upload" in r.json()["description"]


def test_edits_are_audited_and_can_be_rolled_back(portal, tokens, layers):
    admin = _auth(tokens["admin"])
    r = _post(portal, tokens["minsk"], "minsk-edits", _feature("to be undone", 27.5, 53.9))
    assert r.status_code == 201
    fid, version = r.json()["id"], int(r.headers["Geoportal-Version"])
    entries = requests.get(f"{portal.url}/admin/audit", params={"layer": "minsk-edits"},
                           headers=admin, timeout=30).json()["entries"]
    newest = entries[0]
    assert newest["action"] == "feature.create" and newest["result"] == "ok"
    assert newest["version"] == version and str(fid) in newest["detail"]
    assert any(e["action"] == "feature.update" and e["status"] == 412 for e in entries)
    assert tokens["minsk"].split("_", 2)[2] not in json.dumps(entries)
    back = requests.post(f"{portal.url}/admin/layers/minsk-edits/rollback", headers=admin,
                         json={"version": version - 1}, timeout=30)
    assert back.status_code == 200, back.text
    gone = _get(f"{portal.url}/collections/minsk-edits/items/{fid}", tokens["admin"])
    assert gone.status_code == 404


def test_the_requests_qgis_sends(portal, tokens, layers):
    """QGIS's OAPIF provider: OPTIONS for capabilities, POST with a Content-Crs URI without
    brackets (its axis order), the new id from Location, PATCH as merge-patch JSON."""
    token, items = tokens["minsk"], f"{portal.url}/collections/minsk-edits/items"
    allow = requests.options(f"{items}/1", headers=_read(token), timeout=30).headers["Allow"]
    assert "PATCH" in allow
    created = requests.post(items, headers=_auth(token, **{
        "Content-Crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}), timeout=30,
        data=json.dumps({"type": "Feature", "properties": {"name": "qgis", "floors": None},
                         "geometry": {"type": "Point", "coordinates": [3_067_000, 7_150_000]}}))
    assert created.status_code == 201, created.text
    new_id = created.headers["Location"].rsplit("/items/", 1)[1]
    lon, lat = _get(f"{items}/{new_id}", token).json()["geometry"]["coordinates"]
    assert 27.5 < lon < 27.6 and 53.8 < lat < 53.95
    patched = requests.patch(f"{items}/{new_id}", timeout=30, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/merge-patch+json"},
        data=json.dumps({"properties": {"floors": 3}}))
    assert patched.status_code == 200, patched.text
    assert _get(f"{items}/{new_id}", token).json()["properties"]["floors"] == 3


def test_an_edit_shows_in_the_vector_tiles_at_once(portal, tokens, layers):
    import mapbox_vector_tile
    import morecantile

    lon, lat = 27.5431, 53.8812
    t = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, 15)
    url = f"{portal.url}/collections/minsk-edits/tiles/WebMercatorQuad/15/{t.y}/{t.x}"
    before = requests.get(url, headers=_read(tokens["minsk"]), timeout=30)
    r = _post(portal, tokens["minsk"], "minsk-edits", _feature("на карце", lon, lat))
    assert r.status_code == 201, r.text
    after = requests.get(url, headers=_read(tokens["minsk"]), timeout=30)
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    names = [f["properties"].get("name") for f in
             mapbox_vector_tile.decode(after.content)["minsk-edits"]["features"]]
    assert "на карце" in names
