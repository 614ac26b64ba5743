"""The viewer's tools in a real Chromium (issue 19, "Viewer tools"): the coordinate readout
under the pointer in Pulkovo 1942 GK zone 5, UTM 35N and DMS against pyproj; "go to
coordinates" in degrees, DMS and a GK pair (and a sentence, not a jump, for nonsense); geodesic
distance and area against pyproj.Geod; the PNG export (a real PNG, wider than 500 px, not one
colour); the print layout. proj4 and geographiclib load only when a tool needs them.
Screenshots go to tests/browser/artifacts/ (and docs/img/tools.png)."""

from __future__ import annotations

import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pyproj import Geod, Transformer

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_pages import _poll, _ready

pytestmark = pytest.mark.parametrize("portal", ["gpkg"], indirect=True)

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
MINSK = (27.56, 53.9)
LAZY = ("proj4", "geographiclib-geodesic")


def _lazy_loaded(site) -> list[str]:
    """The tool libraries the page has requested so far."""
    return [u for u in site.requests if any(name in u for name in LAZY)]


def _map_idle(page) -> None:
    _poll(page, "() => window.portalMap && window.portalMap.loaded() && "
                "window.portalMap.getCanvas().width > 0")


def _page_point(page, lon: float, lat: float) -> tuple[int, int]:
    """The page pixel (whole pixels: what a mouse event carries) of a map position."""
    x, y = page.evaluate("([lon, lat]) => { const r = window.portalMap.getCanvas()"
                         ".getBoundingClientRect(); const p = window.portalMap.project([lon, lat]);"
                         " return [r.left + p.x, r.top + p.y]; }", [lon, lat])
    return round(x), round(y)


def _lnglat_at(page, x: int, y: int) -> tuple[float, float]:
    """The map position under a page pixel, as the map computes it for a click there."""
    lon, lat = page.evaluate("([x, y]) => { const r = window.portalMap.getCanvas()"
                             ".getBoundingClientRect(); return window.portalMap.unproject("
                             "[x - r.left, y - r.top]).toArray(); }", [x, y])
    return lon, lat


def _numbers(text: str) -> list[float]:
    """The numbers in a text written in English (1,234.5)."""
    return [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]


def _choose_crs(page, value: str) -> None:
    page.select_option("#tools-crs", value)


def _readout(page) -> str:
    return page.inner_text(".tools-value")


def _centre(page) -> tuple[float, float]:
    lon, lat = page.evaluate("() => window.portalMap.getCenter().toArray()")
    return lon, lat


def test_the_readout_shows_gk_zone_5_utm_and_dms_under_the_pointer(site, portal):
    page = site.page
    _ready(site, portal, "#map=17.00/53.90000/27.56000")
    _map_idle(page)
    assert _lazy_loaded(site) == [], "the tool libraries must load only when needed"
    expect(page.locator(".tools-value")).to_contain_text("° N")  # WGS 84 degrees, no library

    _choose_crs(page, "gk5")
    page.mouse.move(*_page_point(page, *MINSK))
    expect(page.locator(".tools-value")).to_contain_text("X ")
    east, north = Transformer.from_crs(4326, 28405, always_xy=True).transform(*MINSK)
    shown = re.match(r"X (\d+) m, Y (\d+) m \(zone 5\)", _readout(page))
    assert shown, _readout(page)
    assert abs(float(shown[1]) - north) < 5 and abs(float(shown[2]) - east) < 5
    assert str(shown[2]).startswith("5")  # Y carries the zone number
    assert "crs=gk5" in page.evaluate("() => location.hash")
    assert any("proj4" in u for u in _lazy_loaded(site))
    site.shot("gk5")

    _choose_crs(page, "utm35")
    page.mouse.move(*_page_point(page, *MINSK))
    east, north = Transformer.from_crs(4326, 32635, always_xy=True).transform(*MINSK)
    shown = re.match(r"35N E (\d+) m, N (\d+) m", _readout(page))
    assert shown, _readout(page)
    assert abs(float(shown[1]) - east) < 5 and abs(float(shown[2]) - north) < 5

    _choose_crs(page, "gk")  # the zone from the longitude: 27.56 E is in zone 5
    page.mouse.move(*_page_point(page, *MINSK))
    expect(page.locator(".tools-value")).to_contain_text("(zone 5)")

    _choose_crs(page, "dms")
    page.mouse.move(*_page_point(page, *MINSK))
    shown = re.match(r"(\d+)°(\d+)′([\d.]+)″ N, (\d+)°(\d+)′([\d.]+)″ E", _readout(page))
    assert shown, _readout(page)
    lat = int(shown[1]) + int(shown[2]) / 60 + float(shown[3]) / 3600
    lon = int(shown[4]) + int(shown[5]) / 60 + float(shown[6]) / 3600
    assert abs(lat - MINSK[1]) * 3600 < 0.2 and abs(lon - MINSK[0]) * 3600 < 0.2

    # the chosen system is in the link: a reload keeps it
    _choose_crs(page, "utm35")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("#tools-crs")).to_have_value("utm35")
    expect(page.locator(".tools-value")).to_contain_text("35N E ")
    assert site.errors == []


def test_go_to_coordinates_in_degrees_dms_and_gk(site, portal):
    page = site.page
    _ready(site, portal, "#map=7.00/53.50000/28.00000")
    _map_idle(page)
    page.click(".tools-goto")
    expect(page.locator("#tools-goto")).to_be_focused()

    page.fill("#tools-goto", "53.9, 27.56")
    page.press("#tools-goto", "Enter")
    expect(page.locator("#tools-goto-msg")).to_contain_text("Shown:")
    lon, lat = _centre(page)
    assert abs(lon - 27.56) < 1e-4 and abs(lat - 53.9) < 1e-4
    assert page.locator(".tools-goto-marker").count() == 1

    page.fill("#tools-goto", "52°26′N 30°59′E")  # Gomel
    page.press("#tools-goto", "Enter")
    expect(page.locator("#tools-goto-msg")).to_contain_text("52.43333")
    lon, lat = _centre(page)
    assert abs(lat - (52 + 26 / 60)) < 1e-4 and abs(lon - (30 + 59 / 60)) < 1e-4

    # a GK pair in zone 5 (X northing first, then Y easting) from pyproj
    target = (26.0, 52.1)
    east, north = Transformer.from_crs(4326, 28405, always_xy=True).transform(*target)
    _choose_crs(page, "gk5")
    page.fill("#tools-goto", f"{north:.1f} {east:.1f}")
    page.press("#tools-goto", "Enter")
    expect(page.locator("#tools-goto-msg")).to_contain_text("zone 5")
    lon, lat = _centre(page)
    assert abs(lon - target[0]) < 1e-4 and abs(lat - target[1]) < 1e-4  # ~ 10 m

    # nonsense and far away: a sentence by the field, and the map stays
    before = _centre(page)
    page.fill("#tools-goto", "Minsk, please")
    page.press("#tools-goto", "Enter")
    expect(page.locator("#tools-goto-msg")).to_contain_text("could not be read")
    expect(page.locator("#tools-goto")).to_have_attribute("aria-invalid", "true")
    assert _centre(page) == before
    _choose_crs(page, "wgs84")
    page.fill("#tools-goto", "10.5, 40.1")
    page.press("#tools-goto", "Enter")
    expect(page.locator("#tools-goto-msg")).to_contain_text("far from Belarus")
    assert _centre(page) == before
    site.shot("goto-refused")
    assert site.errors == []


def test_measure_a_distance_and_an_area_geodesically(site, portal):
    page = site.page
    _ready(site, portal, "#map=9.00/53.90000/27.56000&layers=raions")
    _map_idle(page)
    geod = Geod(ellps="WGS84")

    _choose_crs(page, "gk5")
    page.click(".tools-distance")
    expect(page.locator(".tools-distance")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("() => window.portal.busyTool") == "measure"
    a = _page_point(page, 27.35, 53.85)
    b = _page_point(page, 27.75, 53.97)
    page.mouse.click(*a)
    page.mouse.dblclick(*b)  # two clicks at one place, then the double-click that ends
    expect(page.locator(".tools-distance")).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("() => window.portal.busyTool") is None
    expect(page.locator(".tools-result")).to_contain_text("Distance:")
    expect(page.locator("#identify")).to_be_hidden()  # the clicks were the measurement's
    (lon1, lat1), (lon2, lat2) = _lnglat_at(page, *a), _lnglat_at(page, *b)
    _, _, expected = geod.inv(lon1, lat1, lon2, lat2)
    shown = _numbers(page.inner_text(".tools-result"))[0]
    assert page.inner_text(".tools-result").endswith(" km")
    assert abs(shown * 1000 - expected) / expected < 0.005, (shown, expected)
    assert page.evaluate("() => window.portalMap.getZoom()") == pytest.approx(9, abs=1e-6)
    page.mouse.move(*_page_point(page, *MINSK))
    site.shot("distance")
    DOCS_IMG.mkdir(exist_ok=True)
    shutil.copyfile(site.shot("distance"), DOCS_IMG / "tools.png")

    # a triangle, ended by the Finish button
    page.click(".tools-area")
    corners = [(27.3, 53.8), (27.8, 53.82), (27.55, 54.05)]
    pixels = [_page_point(page, *c) for c in corners]
    for x, y in pixels:
        page.mouse.click(x, y)
    page.click(".tools-finish")
    expect(page.locator(".tools-result")).to_contain_text("Area:")
    lons, lats = zip(*[_lnglat_at(page, *p) for p in pixels], strict=True)
    area, perimeter = geod.polygon_area_perimeter(lons, lats)
    text = page.inner_text(".tools-result")
    assert " km² (" in text and " ha)" in text, text
    shown = _numbers(text)[0]
    assert abs(shown * 1e6 - abs(area)) / abs(area) < 0.005, (shown, area)
    assert abs(_numbers(text.split("perimeter")[1])[0] * 1000 - perimeter) / perimeter < 0.005

    # Escape cancels a measurement under way; Clear removes the drawing
    page.click(".tools-distance")
    page.mouse.click(*a)
    page.keyboard.press("Escape")
    expect(page.locator(".tools-measure")).to_be_hidden()
    assert page.evaluate("() => window.portal.busyTool") is None
    assert page.evaluate("() => window.portalMap.getSource('tools-measure').getData()"
                         ".then(d => d.features.length)") == 0
    assert site.errors == []


def test_the_measurement_reads_in_russian(site, portal):
    page = site.page
    _ready(site, portal, "#map=12.00/53.90000/27.56000&lang=ru")
    _map_idle(page)
    expect(page.locator(".tools-distance")).to_have_attribute("aria-label", "Измерить расстояние")
    page.click(".tools-distance")
    page.mouse.click(*_page_point(page, 27.55, 53.9))
    page.mouse.click(*_page_point(page, 27.57, 53.9))
    page.click(".tools-finish")
    expect(page.locator(".tools-result")).to_contain_text("Расстояние:")
    text = page.inner_text(".tools-result")
    assert re.search(r"1,3\d\d км$", text), text  # 0.02 deg of longitude at 53.9 N: ~1.31 km
    page.click("[data-lang=en]")
    expect(page.locator(".tools-result")).to_contain_text("Distance: 1.3")
    expect(page.locator(".tools-distance")).to_have_attribute("aria-label", "Measure a distance")


def test_the_export_is_a_png_of_the_view(site, portal):
    page = site.page
    _ready(site, portal, "#map=7.00/53.70000/27.95000&layers=raions")
    _map_idle(page)
    with page.expect_download() as info:
        page.click(".tools-png")
    download = info.value
    assert re.fullmatch(r"geoportal-\d{4}-\d{2}-\d{2}\.png", download.suggested_filename)
    data = Path(download.path()).read_bytes()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "export-view.png").write_bytes(data)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    map_width = page.evaluate("() => window.portalMap.getCanvas().width")
    assert width == map_width > 500 and height > page.evaluate(
        "() => window.portalMap.getCanvas().height")  # the map plus title and legend
    # the pixels (IDAT chunks, inflated) are not all one colour
    chunks, at = [], 8
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            chunks.append(data[at + 8:at + 8 + size])
        at += 12 + size
    raw = zlib.decompress(b"".join(chunks))
    stride = 1 + width * {2: 3, 6: 4}[colour] * depth // 8
    rows = [raw[i * stride + 1:(i + 1) * stride] for i in range(height)]
    assert len(set(rows)) > 50
    assert site.errors == []


def test_print_shows_the_map_and_hides_the_search(site, portal):
    page = site.page
    _ready(site, portal, "#map=7.00/53.70000/27.95000&layers=raions")
    _map_idle(page)
    page.emulate_media(media="print")
    expect(page.locator("#search")).to_be_hidden()
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("#map")).to_be_visible()
    expect(page.locator("#layer-list .layer-title")).to_be_visible()  # the legend
    expect(page.locator(".maplibregl-ctrl-scale")).to_be_visible()
    box = page.locator("#map").bounding_box()
    assert box and box["width"] > 800 and box["height"] > 300
    # before printing, the view becomes an image (a WebGL canvas may print empty)
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    expect(page.locator(".tools-print-map")).to_be_visible()
    expect(page.locator(".tools-print-title")).to_contain_text("Geoportal of Belarus")
    assert page.evaluate("() => document.querySelector('.tools-print-map').naturalWidth") > 500
    site.shot("print")
    page.evaluate("() => window.dispatchEvent(new Event('afterprint'))")
    page.emulate_media(media="screen")
    expect(page.locator("#search")).to_be_visible()
    expect(page.locator(".tools-print-map")).to_be_hidden()
    assert site.errors == []


def test_the_tools_are_labelled_and_big_enough(site, portal):
    page = site.page
    _ready(site, portal)
    buttons = page.locator(".tools-ctrl .tools-btn, .tools-copy, #tools-crs")
    assert buttons.count() == 7
    for i in range(buttons.count()):
        b = buttons.nth(i)
        box = b.bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44
        label = b.get_attribute("aria-label") or page.evaluate(
            "e => e.labels && e.labels[0] && e.labels[0].textContent", b.element_handle())
        assert label, b.evaluate("e => e.outerHTML")
    page.click("[data-lang=be]")
    expect(page.locator(".tools-area")).to_have_attribute("aria-label", "Вымераць плошчу")
    expect(page.locator("#tools-crs option[value=gk5]")).to_have_text("Пулкава 1942, ГК зона 5")
    page.focus(".tools-goto")
    page.keyboard.press("Enter")
    expect(page.locator("#tools-goto")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator(".tools-goto-form")).to_be_hidden()
    assert site.errors == []


def test_on_a_touch_phone_the_readout_is_the_centre_under_a_crosshair(browser, portal):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(f"{portal.url}/#map=12.00/53.90000/27.56000&crs=utm35")
        page.wait_for_selector("body[data-ready=true]")
        _map_idle(page)
        expect(page.locator(".tools-crosshair")).to_be_visible()
        expect(page.locator(".tools-value")).to_contain_text("35N E ")
        east, north = Transformer.from_crs(4326, 32635, always_xy=True).transform(*MINSK)
        shown = re.match(r"35N E (\d+) m, N (\d+) m", _readout(page))
        assert shown and abs(float(shown[1]) - east) < 5 and abs(float(shown[2]) - north) < 5
        page.evaluate("() => window.portalMap.jumpTo({center: [27.0, 53.0]})")
        east, north = Transformer.from_crs(4326, 32635, always_xy=True).transform(27.0, 53.0)
        shown = re.match(r"35N E (\d+) m, N (\d+) m", _readout(page))  # "move" is synchronous
        assert shown and abs(float(shown[1]) - east) < 5 and abs(float(shown[2]) - north) < 5
        box = page.locator(".tools-readout").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "tools-phone.png"))
    finally:
        context.close()
