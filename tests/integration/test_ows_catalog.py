"""WMS and WFS follow the catalog within seconds, on both stores: a layer published by the
CLI is listed and drawn, a new version replaces the old one, a rollback brings it back, and an
unpublished layer is gone; what MapServer is given never comes from the request."""

from __future__ import annotations

import io
import subprocess
import time

import morecantile
import numpy as np
import pytest
import requests
import shapely
from PIL import Image

from tests.conftest import admin_token, empty_portal, require_tool, write_geojson, write_manifest
from tests.ogc_xml import assert_valid

portal = empty_portal("ows-catalog")
token = admin_token()


@pytest.fixture(scope="module", autouse=True)
def _engine() -> None:
    require_tool("mapserv")


def _publish(portal, tmp_path, n: int) -> None:
    points = [({"name": f"point {i}", "rank": i}, shapely.Point(27.5 + i * 0.01, 53.9))
              for i in range(n)]
    write_geojson(tmp_path / "spots.geojson", points)
    manifest = write_manifest(tmp_path, "spots", {"path": "spots.geojson"}, region="5000000000",
                              theme="transport",
                              title={"be": "Кропкі", "ru": "Точки", "en": "Spots"})
    portal.cli("ingest", str(manifest))


def _hits(portal) -> str:
    answer = requests.get(f"{portal.url}/wfs", params={
        "SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": "spots",
        "RESULTTYPE": "hits"}, timeout=30)
    if "numberMatched=" not in answer.text:
        return answer.text[:300]
    return answer.text.split('numberMatched="')[1].split('"')[0]


def _eventually(probe, expected, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while (got := probe()) != expected:
        assert time.monotonic() < deadline, f"still {got!r}, not {expected!r}"
        time.sleep(0.3)
    return got


def _caps(portal, service: str = "WMS", version: str = "1.3.0", language: str = "en") -> str:
    return requests.get(f"{portal.url}/{service.lower()}", params={
        "SERVICE": service, "VERSION": version, "REQUEST": "GetCapabilities",
        "LANGUAGE": language}, timeout=30).text


def test_wms_and_wfs_follow_publish_new_version_rollback_and_delete(portal, token, tmp_path):
    empty = _caps(portal)  # nothing published yet: capabilities all the same, no layer
    assert "<WMS_Capabilities" in empty and "<Name>spots</Name>" not in empty
    # the WFS too (MapServer refuses a WFS without a layer: a stand-in, then dropped)
    for version in ("2.0.0", "1.1.0"):
        wfs = _caps(portal, "WFS", version)
        assert "WFS_Capabilities" in wfs and "FeatureType>" not in wfs, wfs[:500]
        assert "geoportal-no-layer" not in wfs
    assert_valid(_caps(portal, "WFS", "2.0.0").encode(), "wfs-2.0")
    for operation in ("ListStoredQueries", "DescribeFeatureType"):
        nothing = requests.get(f"{portal.url}/wfs", params={
            "SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": operation}, timeout=30)
        assert nothing.status_code == 404 and "no vector layer" in nothing.text, operation
    _publish(portal, tmp_path, 3)
    _eventually(lambda: "<Name>spots</Name>" in _caps(portal), True)
    assert "<Title>Точки</Title>" in _caps(portal, language="ru")
    assert "spots" in _caps(portal, "WFS", "2.0.0")
    assert _eventually(lambda: _hits(portal), "3")
    png = requests.get(f"{portal.url}/wms", params={
        "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": "spots",
        "STYLES": "", "CRS": "EPSG:4326", "BBOX": "53.8,27.4,54.0,27.7", "WIDTH": 300,
        "HEIGHT": 200, "FORMAT": "image/png", "TRANSPARENT": "TRUE"}, timeout=30)
    assert png.headers["Content-Type"] == "image/png"
    alpha = np.asarray(Image.open(io.BytesIO(png.content)).convert("RGBA"))[..., 3]
    assert 0 < (alpha > 0).sum() < alpha.size // 10  # three dots

    tile = morecantile.tms.get("WebMercatorQuad").tile(27.52, 53.9, 10)
    tile_url = f"{portal.url}/wmts/1.0.0/spots/default/WebMercatorQuad/10/{tile.y}/{tile.x}.png"
    old = requests.get(tile_url, timeout=30)
    assert old.status_code == 200 and old.headers["ETag"]

    _publish(portal, tmp_path, 5)  # version 2
    _eventually(lambda: _hits(portal), "5")
    # the WMTS tile of the new version is another tile (cached tiles follow the version)
    _eventually(lambda: requests.get(tile_url, timeout=30).headers["ETag"] != old.headers["ETag"],
                True)
    portal.cli("layer", "rollback", "spots", "--to", "1")
    _eventually(lambda: _hits(portal), "3")

    gone = requests.delete(f"{portal.url}/admin/layers/spots",
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert gone.status_code == 204
    _eventually(lambda: "<Name>spots</Name>" in _caps(portal), False)

    def refused() -> bool:  # by every worker (each looks at the catalog every second)
        answer = requests.get(f"{portal.url}/wms", params={
            "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": "spots",
            "STYLES": "", "CRS": "EPSG:4326", "BBOX": "53.8,27.4,54.0,27.7", "WIDTH": 30,
            "HEIGHT": 20, "FORMAT": "image/png"}, timeout=30)
        assert answer.status_code in (200, 400, 503), answer.status_code
        return answer.status_code == 400 and "LayerNotDefined" in answer.text

    for _ in range(4):
        _eventually(refused, True)


def test_the_engines_files_hold_no_password_and_only_ours_are_read(portal, tmp_path):
    _publish(portal, tmp_path, 2)
    _eventually(lambda: _hits(portal), "2")
    workdir = portal.data_dir / "run" / "mapserver"
    mapfiles = sorted(workdir.glob("*.map"), key=lambda p: "LAYER" not in p.read_text())
    assert mapfiles and "LAYER" in mapfiles[0].read_text()
    secret = portal.env.get("GEOPORTAL_DATABASE_URL", "").split("@")[0].rsplit(":", 1)[-1]
    for path in mapfiles:
        text = path.read_text(encoding="utf-8")
        assert "password" not in text.lower()
        if secret and secret != "postgres" and "//" not in secret:
            assert secret not in text
    # the portal never passes ``map=``; were it to, the engine's configuration would refuse a
    # mapfile from anywhere but the portal's folder, even a good one
    outside = tmp_path / "copy.map"
    outside.write_text(mapfiles[0].read_text(encoding="utf-8"), encoding="utf-8")
    mapserv = require_tool("mapserv")
    for mapfile, allowed in ((outside, False), (mapfiles[0], True)):
        env = {"MAPSERVER_CONFIG_FILE": str(workdir / "mapserver.conf"),
               "REQUEST_METHOD": "GET", "PATH": "/usr/bin:/bin",
               "QUERY_STRING": f"map={mapfile}&SERVICE=WMS&VERSION=1.3.0"
                               "&REQUEST=GetCapabilities"}
        out = subprocess.run([mapserv], env=env, capture_output=True, timeout=60).stdout
        assert (b"WMS_Capabilities" in out) is allowed, out[:300]
