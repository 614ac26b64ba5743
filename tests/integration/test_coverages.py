"""OGC API - Coverages and PNG map tiles on the real server, over the night-lights samples:
OWSLib's Coverages client, rasterio reading what came back against the source file, GDAL
reading a coverage URL, CoverageJSON, and the errors a user makes."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
import requests
from owslib.ogcapi.coverages import Coverages
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.windows import from_bounds

from tests.conftest import require_tool

LAYERS = Path(__file__).resolve().parents[2] / "layers" / "by"
VNL = LAYERS / "night_lights_2024.tif"
NL = "night-lights-2024"
MINSK = {"Lon": (27.3, 27.8), "Lat": (53.7, 54.1)}
COVERAGE_REL = "http://www.opengis.net/def/rel/ogc/1.0/coverage"


def _get(portal, path: str, **params: str) -> requests.Response:
    return requests.get(f"{portal.url}{path}", params=params, timeout=60)


def _read(data: bytes) -> tuple[np.ndarray, dict]:
    with MemoryFile(data) as memory, memory.open() as ds:
        return ds.read(), {"crs": ds.crs, "bounds": ds.bounds, "shape": (ds.height, ds.width),
                           "nodata": ds.nodata, "count": ds.count, "driver": ds.driver}


def test_owslib_lists_both_rasters_and_reads_a_subset_equal_to_the_source(portal):
    client = Coverages(portal.url)
    assert {NL, "night-lights-2013"} <= set(client.coverages())
    assert "raions" not in client.coverages()
    data = client.coverage(NL, subset=[("Lat", *MINSK["Lat"]), ("Lon", *MINSK["Lon"])]).read()
    pixels, meta = _read(data)
    assert meta["crs"].to_epsg() == 4326 and meta["driver"] == "GTiff"
    left, bottom, right, top = meta["bounds"]
    res, eps = 1 / 240, 1e-9  # the source's pixel size; its origin is off by 2e-13
    assert left <= 27.3 + eps < left + res and right - res < 27.8 <= right + eps
    assert bottom <= 53.7 + eps < bottom + res and top - res < 54.1 <= top + eps
    with rasterio.open(VNL) as src:  # the same pixels as the file the region sent
        expected = src.read(1, window=from_bounds(left, bottom, right, top, src.transform))
    assert pixels.shape == (1, *expected.shape)
    np.testing.assert_array_equal(pixels[0], expected)
    assert float(pixels.max()) > 100  # Minsk is bright


def test_the_collection_describes_its_grid_and_links(portal):
    body = _get(portal, f"/collections/{NL}", f="json").json()
    grid = body["extent"]["spatial"]["grid"]
    assert [g["cellsCount"] for g in grid] == [2340, 1212]
    assert abs(grid[0]["resolution"] - 1 / 240) < 1e-9
    rels = {(link["rel"], link["type"]) for link in body["links"]}
    assert (COVERAGE_REL, "image/tiff; application=geotiff") in rels
    assert ("http://www.opengis.net/def/rel/ogc/1.0/tilesets-map", "application/json") in rels
    schema = _get(portal, f"/collections/{NL}/schema", f="json").json()
    assert schema["properties"]["band1"]["type"] == "number"
    assert schema["properties"]["band1"]["x-ogc-dataType"] == "float32"
    conformance = _get(portal, "/conformance").json()["conformsTo"]
    for name in ("core", "subsetting", "bbox", "scaling", "fieldselection", "geotiff"):
        assert f"http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/{name}" in conformance
    assert not any(c.endswith("/coverage-datetime") for c in conformance)


def test_scaling_reads_the_overviews_at_the_size_asked(portal):
    client = Coverages(portal.url)
    _pixels, meta = _read(client.coverage(NL, scale_size=[("Lon", 585), ("Lat", 303)]).read())
    assert meta["shape"] == (303, 585)
    left, _bottom, _right, top = meta["bounds"]
    assert abs(left - 23.1) < 1e-6 and abs(top - 56.2533333) < 1e-6
    halved, meta2 = _read(client.coverage(NL, scale_factor=2).read())
    assert meta2["shape"] == (606, 1170)
    _one_axis, meta3 = _read(_get(portal, f"/collections/{NL}/coverage",
                                 **{"scale-axes": "Lat(4)"}).content)
    assert meta3["shape"] == (303, 2340)
    # averaging keeps the country's mean brightness near the full-resolution mean
    with rasterio.open(VNL) as src:
        full = src.read(1, masked=True)
    assert abs(float(np.ma.masked_equal(halved[0], 0).mean()) - float(full.mean())) \
        < 0.25 * float(full.mean())


def test_bbox_with_bbox_crs_in_latitude_order_equals_the_crs84_bbox(portal):
    path = f"/collections/{NL}/coverage"
    crs84 = _get(portal, path, bbox="27.3,53.7,27.8,54.1")
    epsg4326 = _get(portal, path, bbox="53.7,27.3,54.1,27.8",
                    **{"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"})
    assert crs84.status_code == epsg4326.status_code == 200
    assert crs84.headers["Content-Bbox"] == epsg4326.headers["Content-Bbox"]
    np.testing.assert_array_equal(_read(crs84.content)[0], _read(epsg4326.content)[0])
    assert crs84.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"


def test_output_crs_reprojects(portal):
    response = _get(portal, f"/collections/{NL}/coverage", bbox="27.3,53.7,27.8,54.1",
                    crs="http://www.opengis.net/def/crs/EPSG/0/32635")
    assert response.status_code == 200
    assert response.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/32635>"
    pixels, meta = _read(response.content)
    assert meta["crs"].to_epsg() == 32635
    left, bottom, right, top = meta["bounds"]
    assert 500_000 < left < right < 560_000 and 5_940_000 < bottom < top < 6_000_000
    assert float(pixels.max()) > 100


def test_properties_select_bands(portal):
    ok = _get(portal, f"/collections/{NL}/coverage", properties="band1", bbox="27.5,53.8,27.6,53.9")
    assert ok.status_code == 200 and _read(ok.content)[1]["count"] == 1
    bad = _get(portal, f"/collections/{NL}/coverage", properties="band9")
    assert bad.status_code == 400 and "band1" in bad.json()["description"]


def test_coveragejson_for_a_small_area(portal):
    response = _get(portal, f"/collections/{NL}/coverage", f="json",
                    subset="Lon(27.5:27.6),Lat(53.85:53.95)")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/prs.coverage+json")
    body = response.json()
    axes = body["domain"]["axes"]
    values = body["ranges"]["band1"]["values"]
    assert len(values) == axes["x"]["num"] * axes["y"]["num"]
    assert 24 <= axes["x"]["num"] <= 25 and 24 <= axes["y"]["num"] <= 25  # 0.1 degree
    assert axes["y"]["start"] > axes["y"]["stop"]  # north first, as the GeoTIFF's rows
    assert 27.5 < axes["x"]["start"] < axes["x"]["stop"] < 27.6
    assert max(v for v in values if v is not None) > 50
    too_big = _get(portal, f"/collections/{NL}/coverage", f="json")
    assert too_big.status_code == 400 and "GTiff" in too_big.json()["description"]


@pytest.mark.parametrize(("params", "expected"), [
    ({"bbox": "2,3,4,5"}, "outside the coverage"),
    ({"subset": "Height(1:2)"}, "unknown axis"),
    ({"subset": "Lat(54:53)"}, "low end"),
    ({"subset": "Lat(53:54", "bbox": "27,53,28,54"}, "expected terms"),
    ({"subset": "Lat(53:54)", "bbox": "27,53,28,54"}, "not both"),
    ({"scale-size": "Lon(20000),Lat(20000)"}, "scale it"),
    ({"scale-size": "Lon(0)"}, "at least 1"),
    ({"scale-factor": "2", "scale-size": "Lon(10)"}, "use one of"),
    ({"crs": "EPSG:2180"}, "not offered"),
    ({"bbox": "27,53,x,54"}, "not a number"),
    ({"f": "png"}, "not offered"),
    ({"subset": "Lon(-1e8:1e8),Lat(-1e8:1e8)", "scale-size": "Lon(2),Lat(2)"}, "far larger"),
])
def test_mistakes_get_a_400_that_names_them(portal, params, expected):
    response = _get(portal, f"/collections/{NL}/coverage", **params)
    assert response.status_code == 400, response.text
    assert expected in response.json()["description"]


EPSG_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"


@pytest.mark.parametrize("params", [
    {"subset": "Lat(99:100)"},                                 # beyond the pole: cut to nothing
    {"subset": "Lat(99:100)", "crs": "EPSG:3857"},
    {"bbox": "20,99,30,100", "crs": "EPSG:32635"},            # PROJ gives NaN off its CRS
    {"bbox": "-1e20,-1e20,1e20,1e20", "bbox-crs": EPSG_3857,  # PROJ hung on this (1e16+)
     "scale-factor": "10"},
    {"bbox": "-1e300,-1e300,1e300,1e300", "bbox-crs": EPSG_3857, "crs": "EPSG:32635",
     "scale-factor": "10"},
])
def test_areas_off_the_earth_are_answered_at_once_and_never_a_500(portal, params):
    response = requests.get(f"{portal.url}/collections/{NL}/coverage",
                            params={**params, "f": "json"}, timeout=20)
    assert response.status_code in {200, 400}, response.text
    if response.status_code == 400:
        assert "outside the coverage" in response.json()["description"]


def test_coverage_of_a_vector_layer_and_items_of_a_raster_are_4xx(portal):
    assert _get(portal, "/collections/raions/coverage").status_code == 404
    assert _get(portal, "/collections/nope/coverage").status_code == 404
    items = _get(portal, f"/collections/{NL}/items")
    assert 400 <= items.status_code < 500
    assert _get(portal, f"/collections/{NL}/tiles").status_code == 404


def test_revalidation_gets_a_304(portal):
    path = f"/collections/{NL}/coverage"
    first = _get(portal, path, bbox="27.5,53.8,27.6,53.9")
    again = requests.get(f"{portal.url}{path}", params={"bbox": "27.5,53.8,27.6,53.9"},
                         headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert again.status_code == 304


def test_gdal_reads_a_coverage_url(portal, tmp_path):
    gdalinfo = require_tool("gdalinfo")
    url = f"{portal.url}/collections/{NL}/coverage?subset=Lon(27.3:27.8),Lat(53.7:54.1)"
    out = subprocess.run([gdalinfo, "-stats", f"/vsicurl/{url}"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Size is 120, 97" in out.stdout and "EPSG\",4326" in out.stdout


def test_the_whole_cog_downloads_and_is_valid(portal, tmp_path):
    from rio_cogeo.cogeo import cog_validate

    response = _get(portal, f"/collections/{NL}/download", f="tif")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("image/tiff")
    # no version in the URL: revalidated every time, never kept for a while (a rollback)
    assert response.headers["Cache-Control"] == "no-cache" and response.headers["ETag"]
    assert "Expires" not in response.headers
    again = requests.get(f"{portal.url}/collections/{NL}/download?f=tif", timeout=30,
                         headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    target = tmp_path / "nl.tif"
    target.write_bytes(response.content)
    valid, errors, _ = cog_validate(target, quiet=True)
    assert valid, errors
    ranged = requests.get(f"{portal.url}/collections/{NL}/download?f=tif",
                          headers={"Range": "bytes=0-15"}, timeout=30)
    assert ranged.status_code == 206 and len(ranged.content) == 16


def _png(data: bytes) -> np.ndarray:
    with MemoryFile(data) as memory, warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a tile has no CRS of its own
        ds = memory.open()
        with ds:
            assert ds.driver == "PNG"
            return ds.read()


def test_map_tiles_draw_the_raster_for_web_maps(portal):
    sets = _get(portal, f"/collections/{NL}/map/tiles").json()["tilesets"]
    assert sets[0]["dataType"] == "map"
    tilejson = _get(portal, f"/collections/{NL}/map/tiles/WebMercatorQuad",
                    f="tilejson").json()
    template = tilejson["tiles"][0]
    assert "/WebMercatorQuad/{z}/{y}/{x}?v=" in template  # versioned: immutable
    assert len(tilejson["legend"]) == 5
    minsk = _get(portal, f"/collections/{NL}/map/tiles/WebMercatorQuad/6/20/37")
    assert minsk.status_code == 200 and minsk.headers["Content-Type"] == "image/png"
    rgba = _png(minsk.content)
    assert rgba.shape == (4, 256, 256)
    assert 0 < (rgba[3] > 0).mean() < 1  # lit places drawn, dark (nodata) ones transparent
    recoloured = _get(portal, f"/collections/{NL}/map/tiles/WebMercatorQuad/6/20/37",
                      colormap="viridis", rescale="0,50")
    assert recoloured.status_code == 200 and recoloured.content != minsk.content
    assert minsk.headers["ETag"] != recoloured.headers["ETag"]
    outside = _get(portal, f"/collections/{NL}/map/tiles/WebMercatorQuad/6/0/0")
    assert outside.status_code == 204
    assert _get(portal, f"/collections/{NL}/map/tiles/WebMercatorQuad/6/20/37",
                colormap="nope").status_code == 400
    assert _get(portal, f"/collections/{NL}/map/tiles/WebMercatorQuad/6/99/37"
                ).status_code == 404


def test_the_2013_raster_is_bytes_and_keeps_its_type(portal):
    response = _get(portal, "/collections/night-lights-2013/coverage",
                    subset="Lon(27.3:27.8),Lat(53.7:54.1)")
    pixels, meta = _read(response.content)
    assert pixels.dtype == np.uint8 and meta["nodata"] == 0
    assert 40 <= int(pixels.max()) <= 63  # DMSP digital numbers saturate at 63 over Minsk


def test_gdal_ogcapi_driver_reads_the_collection_block_by_block(portal, tmp_path):
    """GDAL's OGCAPI driver sizes the raster from the collection's ``domainset`` and reads
    256 px blocks with exact subsets (``scaleSize``): the pixels must be the source's."""
    gdal_translate = require_tool("gdal_translate")
    target = tmp_path / "minsk.tif"
    out = subprocess.run([gdal_translate, "-q", "-oo", "CACHE=NO", "-projwin", "27.3", "54.1",
                          "27.8", "53.7", f"OGCAPI:{portal.url}/collections/{NL}", str(target)],
                         capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    with rasterio.open(target) as got, rasterio.open(VNL) as src:
        assert abs(got.transform.a - src.transform.a) < 1e-12  # full resolution
        pixels = got.read(1)
        window = from_bounds(*got.bounds, src.transform)
        expected = src.read(1, window=window.round_offsets().round_lengths())
    assert pixels.shape == expected.shape
    np.testing.assert_array_equal(pixels, expected)
    domain = _get(portal, f"/collections/{NL}/coverage/domainset").json()
    assert domain["generalGrid"]["axisLabels"] == ["Lon", "Lat"]
    assert _get(portal, f"/collections/{NL}/coverage/rangetype").json()["field"][0]["name"] \
        == "band1"


def test_subset_numbers_stay_in_the_coverage_axes_when_the_answer_is_reprojected(portal):
    """subset without subset-crs is in the coverage's own axes (Lon/Lat here), also with
    crs=EPSG:3857; and crs=OGC:CRS84 is the shorthand of the CRS84 URI."""
    path = f"/collections/{NL}/coverage"
    native = _get(portal, path, subset="Lon(27.3:27.8),Lat(53.7:54.1)")
    mercator = _get(portal, path, subset="Lon(27.3:27.8),Lat(53.7:54.1)", crs="EPSG:3857")
    assert native.status_code == mercator.status_code == 200
    left, bottom, right, top = (float(v) for v in mercator.headers["Content-Bbox"].split(","))
    assert 3_030_000 < left < right < 3_100_000 and 7_100_000 < bottom < top < 7_200_000
    crs84 = _get(portal, path, subset="Lon(27.3:27.8),Lat(53.7:54.1)", crs="OGC:CRS84")
    assert crs84.status_code == 200 and crs84.headers["Content-Bbox"] == \
        native.headers["Content-Bbox"]
    point = _get(portal, path, subset="Lon(27.5),Lat(53.9)", **{"scale-size": "Lon(1),Lat(1)"})
    pixels, meta = _read(point.content)
    assert meta["shape"] == (1, 1) and float(pixels[0, 0, 0]) > 0  # a pixel, not a 0-size grid


def test_an_empty_map_tile_of_a_float_raster_is_204(portal):
    # a z10 tile in a dark forest of the float32 2024 layer: every pixel is nodata (0)
    empty = _get(portal, f"/collections/{NL}/map/tiles/WebMercatorQuad/10/317/577")
    assert empty.status_code == 204 and empty.content == b""
