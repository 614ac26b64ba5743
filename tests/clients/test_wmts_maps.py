"""WMTS 1.0 (KVP and RESTful, two grids) and OGC API - Maps, as OWSLib, GDAL and a plain HTTP
client use them, against the real server with the sample layers (both stores)."""

from __future__ import annotations

import io
import subprocess

import numpy as np
import pytest
import requests
from owslib.wmts import WebMapTileService
from PIL import Image

from tests.conftest import require_tool
from tests.ogc_xml import assert_valid

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


@pytest.fixture(scope="module", autouse=True)
def _engine() -> None:
    require_tool("mapserv")


def _rgba(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def test_wmts_capabilities_are_valid_and_owslib_reads_tiles_on_both_grids(portal):
    document = requests.get(f"{portal.url}/wmts", params={
        "SERVICE": "WMTS", "REQUEST": "GetCapabilities", "VERSION": "1.0.0"}, timeout=60)
    assert document.status_code == 200
    assert_valid(document.content, "wmts-1.0")
    rest = requests.get(f"{portal.url}/wmts/1.0.0/WMTSCapabilities.xml", timeout=60)
    assert rest.content == document.content
    wmts = WebMapTileService(f"{portal.url}/wmts", timeout=60)
    assert {"oblasts", "cities", "night-lights-2024"} <= set(wmts.contents)
    assert {"WebMercatorQuad", "BelarusEPSG4326"} <= set(wmts.tilematrixsets)
    oblasts = wmts.contents["oblasts"]
    assert oblasts.title == "Oblasts of Belarus and Minsk City" or oblasts.title
    # zoom 6, the tile holding Minsk: Web Mercator row 20, column 36
    kvp = wmts.gettile(layer="oblasts", tilematrixset="WebMercatorQuad", tilematrix="6",
                       row=20, column=36, format="image/png").read()
    tile = _rgba(kvp)
    # the oblasts' style is outlines only: lines across the tile, not a filled area
    assert tile.shape == (256, 256, 4) and 0.01 < (tile[..., 3] > 0).mean() < 0.5
    restful = requests.get(f"{portal.url}/wmts/1.0.0/oblasts/default/WebMercatorQuad/6/20/36.png",
                           timeout=60)
    assert restful.headers["Content-Type"] == "image/png"
    assert np.array_equal(_rgba(restful.content), tile)  # one tile, two encodings
    # the same part of Belarus on the EPSG:4326 grid (level 3: 1.28 degrees a tile from 57N 23E)
    geographic = wmts.gettile(layer="oblasts", tilematrixset="BelarusEPSG4326", tilematrix="3",
                              row=1, column=3, format="image/jpeg")
    assert geographic.info()["Content-Type"] == "image/jpeg"
    assert np.asarray(Image.open(io.BytesIO(geographic.read()))).std() > 5


def test_tiles_are_cached_and_revalidated(portal):
    url = f"{portal.url}/wmts/1.0.0/raions/default/WebMercatorQuad/7/41/73.png"
    first = requests.get(url, timeout=60)
    again = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=60)
    assert first.status_code == 200 and again.status_code == 304
    assert first.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("path, code", [
    ("/wmts/1.0.0/oblasts/default/WebMercatorQuad/19/0/0.png", "TileOutOfRange"),
    ("/wmts/1.0.0/oblasts/default/WebMercatorQuad/3/8/0.png", "TileOutOfRange"),
    ("/wmts/1.0.0/oblasts/default/NoSuchGrid/3/1/1.png", "NotFound"),
    ("/wmts/1.0.0/oblasts/fancy/WebMercatorQuad/3/1/1.png", "InvalidParameterValue"),
    ("/wmts/1.0.0/oblasts/default/WebMercatorQuad/3/1/1.gif", "InvalidParameterValue"),
    ("/wmts/1.0.0/nope/default/WebMercatorQuad/3/1/1.png", "LayerNotDefined"),
    ("/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=oblasts", "MissingParameterValue"),
])
def test_bad_tile_requests_get_wmts_exception_reports(portal, path, code):
    answer = requests.get(f"{portal.url}{path}", timeout=60)
    assert 400 <= answer.status_code < 500
    assert code in answer.text
    assert_valid(answer.content, "ows-exception-1.1")


def test_gdal_opens_the_wmts(portal):
    gdalinfo = require_tool("gdalinfo")
    result = subprocess.run([gdalinfo, f"WMTS:{portal.url}/wmts/1.0.0/WMTSCapabilities.xml,"
                                       "layer=oblasts,tilematrixset=WebMercatorQuad"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Driver: WMTS" in result.stdout and "EPSG" in result.stdout


def test_ogc_api_maps_draws_a_collection_in_the_crs_asked(portal):
    plain = requests.get(f"{portal.url}/collections/oblasts/map", params={"width": 400},
                         timeout=60)
    assert plain.status_code == 200 and plain.headers["Content-Type"] == "image/png"
    assert plain.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    image = _rgba(plain.content)
    assert image.shape[1] == 400 and 200 < image.shape[0] < 400  # Belarus' shape, not a square
    box = [float(v) for v in plain.headers["Content-Bbox"].split(",")]
    assert 23 < box[0] < 23.3 and 56 < box[3] < 56.3
    gk = requests.get(f"{portal.url}/collections/oblasts/map", params={
        "crs": f"{EPSG}28405", "width": 300, "f": "jpeg"}, timeout=60)
    assert gk.headers["Content-Type"] == "image/jpeg"
    assert gk.headers["Content-Crs"] == f"<{EPSG}28405>"
    # the Minsk area only, its box given in EPSG:4326's lat/lon order
    minsk = requests.get(f"{portal.url}/collections/raions/map", params={
        "bbox": "53.8,27.4,54.0,27.7", "bbox-crs": f"{EPSG}4326", "width": 300,
        "height": 200}, timeout=60)
    assert _rgba(minsk.content).shape == (200, 300, 4)
    assert [round(float(v), 1) for v in minsk.headers["Content-Bbox"].split(",")] == \
        [27.4, 53.8, 27.7, 54.0]
    tiles = requests.get(f"{portal.url}/collections/oblasts/map/tiles", timeout=60).json()
    assert {t["dataType"] for t in tiles["tilesets"]} == {"map"}
    assert len(tiles["tilesets"]) == 2
    tile = requests.get(f"{portal.url}/collections/oblasts/map/tiles/BelarusEPSG4326/3/1/3",
                        params={"f": "png"}, timeout=60)
    assert tile.headers["Content-Type"] == "image/png"
    grid = requests.get(f"{portal.url}/tileMatrixSets/BelarusEPSG4326", timeout=60).json()
    assert grid["crs"].endswith("/4326") and grid["tileMatrices"][0]["pointOfOrigin"] == [57, 23]


@pytest.mark.parametrize("params", [
    {"bbox": "1,2,3"}, {"width": "0"}, {"width": "99999"}, {"crs": f"{EPSG}9999"},
    {"f": "gif"}, {"bbox": "30,50,20,40"}, {"transparent": "maybe"}, {"bgcolor": "red;"},
])
def test_bad_map_requests_are_json_400s(portal, params):
    answer = requests.get(f"{portal.url}/collections/oblasts/map", params=params, timeout=60)
    assert answer.status_code == 400, answer.text[:300]
    assert answer.json()["description"]
