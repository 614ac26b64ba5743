"""Maps drawn by the WMS compared with expected images: a point, a line and a polygon layer
styled by their manifests' ``style:`` (categories, a label per language, widths, outlines),
a raster with its colormap and range, and a layer styled by an SLD file, on each store.

The test layers are built here, published through the real CLI into a portal of their own,
and drawn by MapServer through ``/wms``. Each GetMap PNG is compared with
``tests/ows_expected/<layer>.png`` within a tolerance: a pixel differs when some channel
differs by more than 24, and at most 2 % of the pixels, and at most 20 % of the drawn ones
(not white in either image), may differ. Antialiasing and font hinting vary between
machines; a style that is ignored changes far more (a category colour alone covers 10-40 %
of a map), and the second bound keeps a sparse map (three points: 2 % of the frame) from
passing as a blank one.
Beside the comparison, each test checks the style itself (the category colour where the
feature is, a blank where ``other: null`` leaves a feature out), so a wrong expected image
cannot hide a broken style.

Regenerate the expected images after a deliberate change of the look::

    GEOPORTAL_REGEN_IMAGES=1 GEOPORTAL_TEST_BACKENDS=gpkg \\
        .venv/bin/pytest -q -p no:randomly tests/clients/test_ows_images.py

then look at them (and at the diff) before committing.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
import requests
from PIL import Image
from rasterio.transform import from_origin

from geoportal.storage.raster_tiles import colormap_colours
from tests.conftest import empty_portal, require_tool

EXPECTED = Path(__file__).resolve().parents[1] / "ows_expected"
REGENERATE = os.environ.get("GEOPORTAL_REGEN_IMAGES") == "1"
CHANNEL_TOLERANCE = 24  # a pixel "differs" when some channel differs by more than this
PIXEL_TOLERANCE = 0.02  # at most this share of the pixels may differ
INK_TOLERANCE = 0.20  # ... and at most this share of the pixels drawn in either image
# the map of every test: EPSG:4326 with square pixels of 1/320 degree, near Minsk
LON0, LAT0, LON1, LAT1 = 27.0, 53.6, 28.0, 54.2
WIDTH, HEIGHT = 320, 192
TRICKY = 'say "hi" \\ bye) END CLASS'  # a category value that must not break the mapfile

portal = empty_portal("ows-images")


@pytest.fixture(scope="module", autouse=True)
def _engine() -> None:
    require_tool("mapserv")


def _square(lon: float, lat: float, half: float) -> list[list[list[float]]]:
    return [[[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
             [lon - half, lat + half], [lon - half, lat - half]]]


def _geojson(path: Path, features: list[tuple[dict, dict]]) -> None:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": geometry}
        for props, geometry in features]}, ensure_ascii=False), encoding="utf-8")


def _manifest(folder: Path, layer_id: str, source: str, style: dict, **extra: object) -> None:
    manifest = {"id": layer_id, "region": "0000000000", "theme": "transport",
                "title": {"be": f"Тэст {layer_id}", "ru": f"Тест {layer_id}",
                          "en": f"Test {layer_id}"},
                "source": {"path": source, **({"crs": "EPSG:4326"}
                                              if not source.endswith(".tif") else {})},
                "style": style, **extra}
    (folder / f"{layer_id}.yaml").write_text(json.dumps(manifest, ensure_ascii=False),
                                             encoding="utf-8")


POINTS_STYLE = {
    "size": 20, "outline": "#ffffff", "width": 1.5,
    "label": {"be": "name_be", "ru": "name_ru"}, "label_size": 10, "label_color": "#111111",
    "categories": {"field": "kind", "values": [
        {"value": "a", "color": "#e41a1c", "title": {"be": "Першы", "ru": "Первый"}},
        {"value": "b", "color": "#377eb8", "title": {"be": "Другі", "ru": "Второй"}}],
        "other": "#4daf4a"},
}
POLYGONS_STYLE = {
    "opacity": 0.8, "outline": "#000000", "width": 1.5, "label": "zone_name",
    "categories": {"field": "zone", "values": [
        {"value": "north", "color": "#984ea3", "title": {"be": "Поўнач", "ru": "Север"}},
        {"value": TRICKY, "color": "#a65628", "title": 'Quoted "zone" \\ here'}],
        "other": None},
}
SLD = """<?xml version="1.0" encoding="UTF-8"?>
<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"
    xmlns:ogc="http://www.opengis.net/ogc">
  <NamedLayer><Name>whatever-the-file-says</Name>
    <UserStyle><Title>Magenta</Title><FeatureTypeStyle><Rule><Title>all</Title>
      <PolygonSymbolizer>
        <Fill><CssParameter name="fill">#ff00ff</CssParameter></Fill>
        <Stroke><CssParameter name="stroke">#000000</CssParameter></Stroke>
      </PolygonSymbolizer>
    </Rule></FeatureTypeStyle></UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
"""
# where each feature is, to look at its pixels
POINTS = [((27.2, 53.8), "a", "Першы", "Первый"), ((27.5, 54.0), "b", "Другі", "Второй"),
          ((27.8, 53.8), "c", "Трэці", "Третий")]
POLYGONS = [((27.25, 53.9), "north", "Поўнач"), ((27.55, 53.9), TRICKY, "Цытата"),
            ((27.85, 53.9), "south", "Поўдзень")]


def _build(folder: Path) -> None:
    _geojson(folder / "points.geojson", [
        ({"name_be": be, "name_ru": ru, "kind": kind},
         {"type": "Point", "coordinates": list(at)}) for at, kind, be, ru in POINTS])
    _geojson(folder / "lines.geojson", [
        ({"road": "M1"}, {"type": "LineString",
                          "coordinates": [[27.05, 53.7], [27.5, 54.1], [27.95, 53.7]]}),
        ({"road": "M2"}, {"type": "LineString", "coordinates": [[27.05, 53.65], [27.95, 53.65]]}),
    ])
    _geojson(folder / "polygons.geojson", [
        ({"zone": zone, "zone_name": name}, {"type": "Polygon", "coordinates": _square(*at, 0.12)})
        for at, zone, name in POLYGONS])
    values = np.tile(np.arange(40, dtype="float32") * 5, (40, 1))  # 0 west .. 195 east
    with rasterio.open(folder / "gradient.tif", "w", driver="GTiff", width=40, height=40,
                       count=1, dtype="float32", crs="EPSG:4326",
                       transform=from_origin(27.1, 54.1, 0.02, 0.01)) as dst:
        dst.write(values, 1)
    (folder / "magenta.sld").write_text(SLD, encoding="utf-8")
    _manifest(folder, "t-points", "points.geojson", POINTS_STYLE)
    _manifest(folder, "t-lines", "lines.geojson",
              {"color": "#ff7f00", "width": 5, "outline": "#000000"})
    _manifest(folder, "t-polygons", "polygons.geojson", POLYGONS_STYLE)
    _manifest(folder, "t-raster", "gradient.tif", {"colormap": "viridis", "range": [0, 100]})
    _manifest(folder, "t-sld", "polygons.geojson", {"sld": "magenta.sld"})
    _manifest(folder, "t-recolour", "lines.geojson", {"color": "#ff7f00", "width": 5})


@pytest.fixture(scope="module")
def published(portal, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("ows-images-layers")
    _build(folder)
    portal.cli("ingest", str(folder))
    return folder


def _get(portal, **params: str) -> requests.Response:
    return requests.get(f"{portal.url}/wms", params={"SERVICE": "WMS", "VERSION": "1.3.0",
                                                     **params}, timeout=60)


def _map(portal, layer: str, **extra: str) -> np.ndarray:
    answer = _get(portal, **{"REQUEST": "GetMap", "LAYERS": layer, "STYLES": "",
                             "CRS": "EPSG:4326", "BBOX": f"{LAT0},{LON0},{LAT1},{LON1}",
                             "WIDTH": str(WIDTH), "HEIGHT": str(HEIGHT), "FORMAT": "image/png",
                             "TRANSPARENT": "FALSE", **extra})
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/png", \
        answer.text[:500]
    return np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGB"))


def _legend(portal, layer: str, **extra: str) -> np.ndarray:
    answer = _get(portal, REQUEST="GetLegendGraphic", LAYER=layer, FORMAT="image/png",
                  SLD_VERSION="1.1.0", **extra)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/png", \
        answer.text[:500]
    return np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGB"))


def _pixel(image: np.ndarray, lon: float, lat: float) -> np.ndarray:
    col = int((lon - LON0) / (LON1 - LON0) * WIDTH)
    row = int((LAT1 - lat) / (LAT1 - LAT0) * HEIGHT)
    return image[row, col].astype(int)


def _near(actual: np.ndarray, hex_colour: str, opacity: float = 1.0, tolerance: int = 12
          ) -> bool:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    expected = rgb * opacity + 255 * (1 - opacity)  # over the white background
    return bool(np.abs(actual - expected).max() <= tolerance)


def _share(image: np.ndarray, hex_colour: str, tolerance: int = 12) -> float:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return float((np.abs(image.astype(int) - rgb).max(axis=2) <= tolerance).mean())


def _matches_expected(image: np.ndarray, name: str) -> None:
    path = EXPECTED / f"{name}.png"
    if REGENERATE:
        EXPECTED.mkdir(exist_ok=True)
        Image.fromarray(image).save(path, optimize=True)
        return
    assert path.exists(), f"{path} is missing: run with GEOPORTAL_REGEN_IMAGES=1 (docstring)"
    expected = np.asarray(Image.open(path).convert("RGB"))
    assert expected.shape == image.shape, (expected.shape, image.shape)
    differing = np.abs(image.astype(int) - expected.astype(int)).max(axis=2) > CHANNEL_TOLERANCE
    ink = ((image < 255 - CHANNEL_TOLERANCE) | (expected < 255 - CHANNEL_TOLERANCE)).any(axis=2)
    differs, of_ink = differing.mean(), differing.sum() / max(int(ink.sum()), 1)
    if differs > PIXEL_TOLERANCE or of_ink > INK_TOLERANCE:
        actual = Path(tempfile.gettempdir()) / f"ows-images-{name}.actual.png"
        Image.fromarray(image).save(actual)
        raise AssertionError(
            f"{name}: {differs:.1%} of the pixels ({of_ink:.0%} of those drawn) differ from "
            f"{path} (at most {PIXEL_TOLERANCE:.0%} and {INK_TOLERANCE:.0%}); the map drawn "
            f"is {actual}")


def test_points_by_category_with_labels_per_language(portal, published):
    image = _map(portal, "t-points", LANGUAGE="be")
    _matches_expected(image, "points")
    for (lon, lat), _, _, _ in POINTS:
        assert not _near(_pixel(image, lon, lat), "#ffffff"), (lon, lat)  # drawn there
    assert _near(_pixel(image, 27.2, 53.8), "#e41a1c")  # kind a
    assert _near(_pixel(image, 27.5, 54.0), "#377eb8")  # kind b
    assert _near(_pixel(image, 27.8, 53.8), "#4daf4a")  # not listed: the other colour
    labels = _share(image, "#111111", tolerance=40)
    assert labels > 0.002, labels  # the names are written
    # in Russian the names are another field's: the labels change, the symbols do not
    russian = _map(portal, "t-points", LANGUAGE="ru")
    changed = np.abs(russian.astype(int) - image.astype(int)).max(axis=2) > CHANNEL_TOLERANCE
    assert 0.0005 < changed.mean() < 0.05, changed.mean()
    assert _near(_pixel(russian, 27.2, 53.8), "#e41a1c")


def test_lines_with_width_and_casing(portal, published):
    image = _map(portal, "t-lines")
    _matches_expected(image, "lines")
    orange, black = _share(image, "#ff7f00"), _share(image, "#000000", tolerance=40)
    assert orange > 0.02, orange  # 5 px of orange along ~1.9 degrees of line
    assert black > 0.005, black  # the casing on both sides
    assert _near(_pixel(image, 27.5, 53.65), "#ff7f00")


def test_polygons_by_category_safely_quoted_and_others_left_out(portal, published):
    image = _map(portal, "t-polygons", LANGUAGE="be")
    _matches_expected(image, "polygons")
    # the corners of each square are clear of the label in the middle
    north, quoted, south = ((lon - 0.08, lat - 0.08) for (lon, lat), _, _ in POLYGONS)
    assert _near(_pixel(image, *north), "#984ea3", opacity=0.8), _pixel(image, *north)
    # the value with quotes and a backslash matched its feature, and broke nothing
    assert _near(_pixel(image, *quoted), "#a65628", opacity=0.8), _pixel(image, *quoted)
    # "south" is not listed and other: null: not drawn at all
    assert _near(_pixel(image, *south), "#ffffff"), _pixel(image, *south)
    assert _share(image, "#000000", tolerance=60) > 0.005  # outlines and labels
    # a feature the style leaves out is still a feature: WFS and GetFeatureInfo find it
    hits = requests.get(f"{portal.url}/wfs", params={
        "SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature",
        "TYPENAMES": "t-polygons", "RESULTTYPE": "hits"}, timeout=60)
    assert 'numberMatched="3"' in hits.text, hits.text[:500]


def test_raster_with_its_colormap_and_range(portal, published):
    image = _map(portal, "t-raster")
    _matches_expected(image, "raster")
    viridis = colormap_colours("viridis")
    low, high = ("#{:02x}{:02x}{:02x}".format(*viridis[i]) for i in (0, 255))
    assert _near(_pixel(image, 27.11, 53.8), low, tolerance=20)  # 0 at the west edge
    # 100 and more (the east half) at the top of the range: one colour, not a stretch
    assert _near(_pixel(image, 27.6, 53.8), high, tolerance=20)
    assert _near(_pixel(image, 27.85, 53.8), high, tolerance=20)


def test_a_raster_legend_shows_its_ramp_and_the_capabilities_link_it(portal, published):
    legend = _legend(portal, "t-raster")
    viridis = colormap_colours("viridis")
    for i in (0, 128, 255):  # both ends and the middle of the range, each a swatch
        colour = "#{:02x}{:02x}{:02x}".format(*viridis[i])
        assert _share(legend, colour, tolerance=20) > 0.005, colour
    assert legend.shape[0] >= 5 * 10  # a row per value named: 0, 25, 50, 75, 100
    caps = _get(portal, REQUEST="GetCapabilities").text
    layer = caps[caps.index("<Name>t-raster</Name>"):]
    layer = layer[:layer.index("</Layer>")]
    assert "request=GetLegendGraphic" in layer and "layer=t-raster" in layer, layer
    wmts = requests.get(f"{portal.url}/wmts/1.0.0/WMTSCapabilities.xml?lang=ru", timeout=60).text
    wmts_layer = wmts[wmts.index("<ows:Identifier>t-raster</ows:Identifier>"):]
    href = wmts_layer[wmts_layer.index("<LegendURL"):wmts_layer.index("</Style>")]
    assert "LAYER=t-raster" in href and "LANGUAGE=ru" in href, href


def test_a_layer_styled_by_its_sld_file(portal, published):
    image = _map(portal, "t-sld")
    _matches_expected(image, "sld")
    assert _share(image, "#ff00ff") > 0.05
    for (lon, lat), _, _ in POLYGONS:  # every polygon: the SLD has no filter
        assert _near(_pixel(image, lon - 0.08, lat - 0.08), "#ff00ff"), (lon, lat)
    # a client naming the default style gets the layer's classes instead
    plain = _map(portal, "t-sld", STYLES="default")
    assert _share(plain, "#ff00ff") < 0.001
    legend = _legend(portal, "t-sld")
    assert _share(legend, "#ff00ff") > 0.01


def test_the_legend_lists_the_categories_in_the_language(portal, published):
    lines, points, points_ru = (_legend(portal, "t-lines"), _legend(portal, "t-points"),
                                _legend(portal, "t-points", LANGUAGE="ru"))
    # a row per class: one for the lines, three for the points (two values and the others)
    assert points.shape[0] >= 2.5 * lines.shape[0], (points.shape, lines.shape)
    for colour in ("#e41a1c", "#377eb8", "#4daf4a"):
        assert _share(points, colour, tolerance=30) > 0.002, colour
    # the titles are words of the language asked
    assert points.shape != points_ru.shape or not np.array_equal(points, points_ru)
    polygons = _legend(portal, "t-polygons")
    assert lines.shape[0] < polygons.shape[0] < points.shape[0]  # other: null, no row


def test_a_changed_style_is_drawn_at_once(portal, published):
    assert _share(_map(portal, "t-recolour"), "#ff7f00") > 0.02
    manifest = published / "t-recolour.yaml"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["style"]["color"] = "#00a0ff"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    report = portal.cli("ingest", str(manifest)).stdout  # the same data: metadata only
    assert "unchanged" in report, report
    image = _map(portal, "t-recolour")
    assert _share(image, "#00a0ff") > 0.02 and _share(image, "#ff7f00") < 0.001
