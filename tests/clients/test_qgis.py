"""QGIS 3.22's own WMS and WFS providers (Debian's python3-qgis, headless) against the real
server on both stores, with the sample layers: what a GIS specialist's QGIS opens, draws,
identifies, filters and pages.

QGIS is built for Debian's Python, not for the project's venv, so tests/clients/qgis_probe.py
runs under ``/usr/bin/python3`` once per store (QGIS starts slowly) and prints what QGIS saw as
JSON; the tests here compare it with what the OGC API says. Without python3-qgis they skip,
unless GEOPORTAL_REQUIRE_CLIENTS=1 (as in CI), where they fail.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from PIL import Image
from pyproj import Transformer

from tests.conftest import marked_log_lines, require_tool

PROBE = Path(__file__).with_name("qgis_probe.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # the Python that python3-qgis is built for
PROBE_TIMEOUT_S = 180  # the probe's own watchdog fires first (150 s)
PAGE_SIZE = 7  # a page size no other client test uses: its requests are QGIS's in the log
SAMPLE_LAYERS = {"oblasts", "raions", "cities", "railway-stations", "minsk-stops",
                 "night-lights-2013", "night-lights-2024"}

# checked before the portal starts: without QGIS the module skips at once
pytestmark = pytest.mark.usefixtures("qgis_python")


def _probe_env(home: Path) -> dict[str, str]:
    """A clean environment for Debian's Python: none of the venv's variables, a private HOME
    and runtime folder (QGIS writes its settings and network cache there), no display."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(home),
            "XDG_RUNTIME_DIR": str(home), "QT_QPA_PLATFORM": "offscreen",
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


@pytest.fixture(scope="session")
def qgis_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Debian's Python with QGIS's bindings; skip (or fail in CI) when they are missing."""
    reason = None
    if not Path(SYSTEM_PYTHON).exists():
        reason = f"{SYSTEM_PYTHON} does not exist"
    else:
        check = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True,
                               text=True, timeout=120,
                               env=_probe_env(tmp_path_factory.mktemp("qgis-check")))
        if check.returncode != 0:
            lines = check.stderr.strip().splitlines()
            reason = f"import qgis.core fails under {SYSTEM_PYTHON}: " + \
                (lines[-1] if lines else f"exit {check.returncode}")
    if reason is not None:
        if os.environ.get("GEOPORTAL_REQUIRE_CLIENTS") == "1":
            pytest.fail(f"QGIS is required (GEOPORTAL_REQUIRE_CLIENTS=1): {reason}")
        pytest.skip(f"{reason} (Debian package python3-qgis)")
    return SYSTEM_PYTHON


def _city(portal, name_ru: str) -> dict[str, Any]:
    """A city's feature, through the OGC API."""
    page = requests.get(f"{portal.url}/collections/cities/items",
                        params={"name_ru": name_ru, "f": "json"}, timeout=30).json()
    assert len(page["features"]) == 1, page
    return page["features"][0]


@pytest.fixture(scope="module")
def qgis_report(qgis_python: str, portal, tmp_path_factory: pytest.TempPathFactory
                ) -> dict[str, Any]:
    """One probe run on this store's portal: every check, QGIS started once."""
    require_tool("mapserv")  # the engine behind /wms and /wfs
    lon, lat = _city(portal, "Минск")["geometry"]["coordinates"]
    maps = tmp_path_factory.mktemp("qgis-maps")  # the rendered maps, compared with GetMap
    started = time.monotonic()
    result = subprocess.run(
        [qgis_python, str(PROBE), portal.url, "--identify-at", f"{lon},{lat}",
         "--layers", ",".join(sorted(SAMPLE_LAYERS)), "--city", "Гродно",
         "--page-size", str(PAGE_SIZE), "--save-dir", str(maps)],
        env=_probe_env(tmp_path_factory.mktemp("qgis-home")), capture_output=True, text=True,
        timeout=PROBE_TIMEOUT_S)
    elapsed = time.monotonic() - started
    assert result.returncode == 0 and result.stdout.strip(), \
        f"the QGIS probe failed (exit {result.returncode}): {result.stderr[-3000:]}"
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    report["elapsed_s"] = round(elapsed, 1)
    report["stderr"] = result.stderr[-3000:]
    return report


def _section(report: dict[str, Any], name: str, *parts: str) -> dict[str, Any]:
    """The report's ``name`` section, once the probe found no failure in it as a whole nor in
    its ``parts`` (failures are named ``section`` or ``section.part``)."""
    places = {name, *(f"{name}.{part}" for part in parts)}
    failures = [f for f in report["failures"] if f.split(":")[0] in places]
    assert not failures, (failures, report["messages"], report["stderr"],
                          f"probe: {report['elapsed_s']} s")
    assert "traceback" not in report[name], report[name]["traceback"]
    return report[name]


def _close(got: list[float], want: tuple[float, float], tolerance: float) -> bool:
    return math.dist(got, want) <= tolerance


# -- WMS ------------------------------------------------------------------------------------

def test_qgis_opens_the_wms_layer_and_finds_every_sample_layer(qgis_report, portal):
    assert {"wms", "WFS"} <= set(qgis_report["providers"])
    wms = _section(qgis_report, "wms")
    assert wms["valid"] and wms["crs"] == "EPSG:3857"
    assert wms["sublayers"] == ["oblasts"]
    # QGIS's summary of the capabilities names every published layer, and each opens
    assert set(wms["capabilities_layers"]) >= SAMPLE_LAYERS
    assert wms["capabilities_layer_count"] == len(wms["capabilities_layers"])
    assert wms["layers_valid"] == dict.fromkeys(SAMPLE_LAYERS, True)
    assert wms["unknown_layer_valid"] is False
    assert {"text/html", "text/plain", "application/vnd.ogc.gml"} <= \
        set(wms["identify_formats"])
    # the layer's extent, as QGIS read it from the capabilities, is the collection's
    collection = requests.get(f"{portal.url}/collections/oblasts", params={"f": "json"},
                              timeout=30).json()
    lon0, lat0, lon1, lat1 = collection["extent"]["spatial"]["bbox"][0]
    mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    want = [*mercator.transform(lon0, lat0), *mercator.transform(lon1, lat1)]
    assert all(abs(a - b) < 100 for a, b in zip(wms["extent"], want, strict=True)), \
        (wms["extent"], want)


def _server_map(portal, render: dict[str, Any]) -> np.ndarray:
    """The portal's own GetMap of what QGIS drew (same layer, CRS, extent and size), RGBA."""
    x0, y0, x1, y1 = render["extent"]
    bbox = (y0, x0, y1, x1) if render["crs"] == "EPSG:4326" else (x0, y0, x1, y1)  # lat/lon
    width, height = render["size"]
    answer = requests.get(f"{portal.url}/wms", timeout=60, params={
        "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap",
        "LAYERS": ",".join(render["layers"]), "STYLES": "", "CRS": render["crs"],
        "BBOX": ",".join(map(str, bbox)), "WIDTH": width, "HEIGHT": height,
        "FORMAT": "image/png", "TRANSPARENT": "TRUE"})
    assert answer.headers["Content-Type"] == "image/png", answer.text[:500]
    return np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGBA"))


@pytest.mark.parametrize("key", ["render_oblasts_3857",
                                 "render_oblasts_4326",  # WMS 1.3.0's lat/lon axis order
                                 "render_cities", "render_night_lights"])
def test_qgis_draws_the_wms_map_the_server_draws(qgis_report, portal, key):
    render = _section(qgis_report, "wms", key)[key]
    assert render["errors"] == [] and render["size"] == [256, 256], render
    drawn = (np.asarray(Image.open(render["file"]).convert("RGBA"))[..., 3] > 0).mean()
    assert 0.02 < drawn < 0.95, render  # a map, neither blank nor all filled
    # about as much as the server draws for the same extent (QGIS asks for the layer's own
    # extent at its size, and the labels that fit differ: not pixel for pixel)
    served = (_server_map(portal, render)[..., 3] > 0).mean()
    assert 0.6 < drawn / served < 1.6, (render, served)


def _image(content: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(content)).convert("RGBA")).astype(int)


@pytest.mark.parametrize("layer", ["cities", "oblasts"])
def test_qgis_at_96_dpi_gets_the_map_every_other_client_gets(qgis_report, portal, layer):
    # QGIS sends its screen's DPI (DPI, MAP_RESOLUTION, FORMAT_OPTIONS=dpi:); at a usual
    # desktop's 96 DPI its map must be the one the portal draws for a client that sends none,
    # not one with symbols, lines and labels a third larger (MapServer's default base is 72)
    _section(qgis_report, "wms")  # QGIS has drawn its maps
    sent = [re.search(r"path=(/wms\?\S+)", line) for line in marked_log_lines(portal, "QGIS")]
    getmaps = [m.group(1) for m in sent if m and "REQUEST=GetMap" in m.group(1)
               and f"LAYERS={layer}&" in m.group(1) and "CRS=EPSG:3857" in m.group(1)]
    assert getmaps, "no GetMap of QGIS in the server's log"
    path = getmaps[-1]
    assert "MAP_RESOLUTION=96" in path, path
    as_qgis = requests.get(f"{portal.url}{path}", timeout=60)
    plain = re.sub(r"&(DPI|MAP_RESOLUTION|FORMAT_OPTIONS)=[^&]*", "", path)
    as_others = requests.get(f"{portal.url}{plain}", timeout=60)
    assert as_qgis.headers["Content-Type"] == as_others.headers["Content-Type"] == "image/png"
    qgis_image, other_image = _image(as_qgis.content), _image(as_others.content)
    assert qgis_image.shape == other_image.shape
    differing = (np.abs(qgis_image - other_image).max(axis=2) > 8).mean()
    assert differing < 0.002, (path, differing)


def test_qgis_fetches_the_wms_legend(qgis_report):
    legend = _section(qgis_report, "wms", "legend")["legend"]
    assert legend["supported"] and legend["error"] is None
    width, height = legend["size"]
    assert width >= 16 and height >= 10


def test_qgis_identify_as_text_and_html_answers_the_city_under_the_point(qgis_report, portal):
    wms = _section(qgis_report, "wms", "identify")
    assert wms["identify_capabilities"] == {"text": True, "html": True, "feature": True}
    population = _city(portal, "Минск")["properties"]["pop2019"]
    text = "\n".join(wms["identify_text"]["results"])
    assert "name_ru = 'Минск'" in text and f"pop2019 = '{population}'" in text, text
    html = "\n".join(wms["identify_html"]["results"])
    assert "<td>Минск</td>" in html and f"<td>{population}</td>" in html, html


def test_qgis_identify_as_features_parses_the_city_under_the_point(qgis_report, portal):
    # QGIS asks for the last GML-like INFO_FORMAT of the capabilities and parses it as GML
    identify = _section(qgis_report, "wms", "identify")["identify_feature"]
    assert identify["valid"] and "error" not in identify, identify
    city = _city(portal, "Минск")["properties"]
    assert [(f["name_ru"], f["pop2019"]) for f in identify["results"]] == \
        [("Минск", city["pop2019"])], identify


# -- WFS ------------------------------------------------------------------------------------

def test_qgis_reads_the_wfs_20_layer_with_its_count_fields_and_cyrillic_names(qgis_report,
                                                                              portal):
    wfs = _section(qgis_report, "wfs")
    items = requests.get(f"{portal.url}/collections/cities/items", timeout=30,
                         params={"f": "json", "limit": 1000}).json()
    assert wfs["valid"] and wfs["crs"] == "EPSG:4326" and wfs["geometry_type"] == "Point"
    assert wfs["feature_count"] == wfs["features_read"] == items["numberMatched"] == 94
    assert wfs["fields"]["name_ru"] == "string"
    assert wfs["fields"]["pop2019"] in {"int", "integer", "long", "int8"}, wfs["fields"]
    assert wfs["name_ru"] == sorted(f["properties"]["name_ru"] for f in items["features"])
    assert "Минск" in wfs["name_ru"] and "Брест" in wfs["name_ru"]


def test_qgis_filters_the_wfs_in_qgis_and_on_the_server(qgis_report, portal):
    wfs = _section(qgis_report, "wfs", "subset", "bbox")
    grodno = tuple(_city(portal, "Гродно")["geometry"]["coordinates"])
    assert abs(grodno[0] - 23.8) < 0.1 and abs(grodno[1] - 53.7) < 0.1
    expression = wfs["expression_filter"]  # QGIS's expression over the downloaded features
    assert expression["names"] == ["Гродно"] and _close(expression["points"][0], grodno, 1e-6)
    # a subset string, which QGIS sends as a FES 2.0 FILTER
    assert wfs["subset_accepted"] is True
    subset = wfs["subset_filter"]
    assert subset["count"] == subset["feature_count"] == 1, subset
    assert _close(subset["points"][0], grodno, 1e-6)
    # restrictToRequestBBOX: QGIS sends the map extent as the request's BBOX
    assert wfs["bbox_request"]["names"] == ["Гродно"]


def test_qgis_pages_through_the_wfs_with_a_small_page(qgis_report, portal):
    paging = _section(qgis_report, "wfs", "paging")["paging"]
    assert paging["count"] == paging["distinct"] == paging["feature_count"] == 94, paging
    # QGIS fetched it in pages of PAGE_SIZE, up to the last one
    count = re.compile(rf"[?&]COUNT={PAGE_SIZE}[&\s]")
    lines = [line for line in marked_log_lines(portal, "STARTINDEX")
             if count.search(line) and "geoportal:cities" in line]
    starts = {int(m.group(1)) for line in lines
              for m in [re.search(r"[?&]STARTINDEX=(\d+)", line)] if m}
    assert set(range(0, 94, PAGE_SIZE)) <= starts, sorted(starts)


def test_qgis_gets_wfs_coordinates_in_utm_35n_metres(qgis_report, portal):
    utm = _section(qgis_report, "wfs", "utm")["utm"]
    lon, lat = _city(portal, "Гродно")["geometry"]["coordinates"]
    easting, northing = Transformer.from_crs("EPSG:4326", "EPSG:32635",
                                             always_xy=True).transform(lon, lat)
    assert utm["crs"] == "EPSG:32635"
    assert len(utm["points"]) == 1 and _close(utm["points"][0], (easting, northing), 1.0), \
        (utm, easting, northing)


def test_qgis_reads_wfs_polygons(qgis_report):
    oblasts = _section(qgis_report, "wfs", "polygons")["oblasts"]
    assert oblasts["feature_count"] == oblasts["count"] == oblasts["valid_geometries"] == 7
    assert "Polygon" in oblasts["geometry_type"]
    # Belarus, 207,600 km2: about 28 square degrees at its latitude
    assert 26 < oblasts["area_deg2"] < 30.5, oblasts


def test_qgis_reads_the_wfs_11_layer_with_lon_lat_in_the_right_order(qgis_report, portal):
    wfs11 = _section(qgis_report, "wfs11", "subset")
    grodno = tuple(_city(portal, "Гродно")["geometry"]["coordinates"])
    assert wfs11["valid"] and wfs11["feature_count"] == wfs11["features_read"] == 94
    assert wfs11["expression_filter"]["count"] == 1
    assert _close(wfs11["expression_filter"]["points"][0], grodno, 1e-6)
    assert wfs11["subset_accepted"] is True and wfs11["subset_filter"]["count"] == 1
    assert _close(wfs11["subset_filter"]["points"][0], grodno, 1e-6)
