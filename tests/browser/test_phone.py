"""The map-first phone layout in a real Chromium (issue 19): on a 390x844 touch screen the map
fills the screen under the header and the panel is a bottom sheet (js/phone.js): a search
opens it so the results show, "Open" on a result collapses it so the map (with the layer)
shows, feature info is a sheet that leaves the tapped point visible above it; at 320 px
nothing overflows sideways and the handle is a labelled 44 px button. Screenshots go to
tests/browser/artifacts/ (docs/img/phone-*.png for docs/viewer.md)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Watched
from tests.browser.test_pages import _poll, _ready, _wait_rendered

pytestmark = pytest.mark.parametrize("portal", ["gpkg"], indirect=True)

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, request) -> Iterator[Callable[..., Watched]]:
    """Opens a fresh phone context (touch, mobile viewport, English) of the given size; the
    contexts are closed after the test."""
    contexts: list = []
    name = request.node.name.replace("[", "-").replace("]", "")

    def make(width: int = PHONE["width"], height: int = PHONE["height"]) -> Watched:
        context = browser.new_context(viewport={"width": width, "height": height},
                                      is_mobile=True, has_touch=True, locale="en-US",
                                      bypass_csp=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        return Watched(page, f"{name}-{width}")

    yield make
    for context in contexts:
        context.close()


def _map_loaded(page) -> None:
    _poll(page, "() => !!window.portalMap && window.portalMap.loaded()")


def _sheet(page) -> str:
    return page.evaluate("() => document.body.getAttribute('data-sheet')")


def _scroll_width(page) -> int:
    return page.evaluate("() => document.scrollingElement.scrollWidth")


def _settled(page) -> None:
    """The sheet's height transition and any map easing are over."""
    page.wait_for_timeout(100)
    _poll(page, "() => !document.getElementById('panel').getAnimations().length && "
                "!window.portalMap.isMoving()")


def test_the_map_fills_the_phone_screen(phone, portal):
    site = phone()
    page = site.page
    _ready(site, portal)
    _map_loaded(page)
    box = page.locator("#map").bounding_box()
    assert box is not None
    assert box["y"] < 150, box  # was 1,715 px: below the whole panel
    assert box["height"] > 0.6 * PHONE["height"], box
    assert _scroll_width(page) <= PHONE["width"]
    assert _sheet(page) == "collapsed"
    handle = page.locator("#sheet-handle")
    expect(handle).to_be_visible()
    expect(handle).to_have_attribute("aria-expanded", "false")
    expect(handle).to_have_accessible_name("Expand the search panel")
    # the search box shows in the collapsed sheet; the rest is inert (out of the tab order)
    expect(page.locator("#q")).to_be_visible()
    assert page.locator("#layers-panel").get_attribute("inert") is not None
    assert page.locator("#results").get_attribute("inert") is not None
    # the sheet lies over the map's foot, not beside or above it
    sheet = page.locator("#panel").bounding_box()
    assert sheet is not None and sheet["y"] >= box["y"] + box["height"] - 1
    assert sheet["y"] + sheet["height"] <= PHONE["height"] + 1
    path = site.shot("map")
    DOCS_IMG.mkdir(exist_ok=True)
    shutil.copyfile(path, DOCS_IMG / "phone-map.png")
    assert site.failed == [] and site.errors == []


def test_a_search_opens_the_sheet_and_open_brings_the_map_back(phone, portal):
    site = phone()
    page = site.page
    _ready(site, portal)
    _map_loaded(page)
    before = page.evaluate("() => window.portal.searches()")
    page.fill("#q", "railway stations")
    page.locator("#search button[type=submit]").tap()
    _poll(page, "n => window.portal.searches() > n && "
                "!document.body.hasAttribute('data-searching')", before)
    results = page.locator("#results .result")
    expect(results.first).to_be_visible()
    assert _sheet(page) in ("half", "full")
    expect(page.locator("#sheet-handle")).to_have_attribute("aria-expanded", "true")
    assert page.locator("#results").get_attribute("inert") is None
    first = results.first
    layer_id = first.get_attribute("data-id")
    assert layer_id == "railway-stations"
    _settled(page)
    expect(first.locator("button.open")).to_be_in_viewport()
    path = site.shot("sheet")
    shutil.copyfile(path, DOCS_IMG / "phone-sheet.png")
    first.locator("button.open").tap()
    _poll(page, "id => window.portal.opened().includes(id)", layer_id)
    _poll(page, "() => document.body.getAttribute('data-sheet') === 'collapsed'")
    _poll(page, "id => !!window.portalMap.getSource('layer-' + id)", layer_id)
    _settled(page)
    # the map is in view again, the sheet down to its handle and search box
    box = page.locator("#map").bounding_box()
    assert box is not None and box["y"] < 150 and box["height"] > 0.6 * PHONE["height"]
    sheet = page.locator("#panel").bounding_box()
    assert sheet is not None and sheet["height"] < 0.2 * PHONE["height"]
    _wait_rendered(page, ["railway-stations-circle"])
    site.shot("opened")
    assert _scroll_width(page) <= PHONE["width"]
    assert site.failed == [] and site.errors == []


def test_feature_info_is_a_sheet_below_the_tapped_point(phone, portal):
    site = phone()
    page = site.page
    _ready(site, portal, "#map=7/53.70/27.95&layers=oblasts")
    _map_loaded(page)
    _wait_rendered(page, ["oblasts-fill"])
    box = page.locator("#map").bounding_box()
    assert box is not None
    # a point low on the map: where the feature-info sheet will open
    x, y = box["width"] / 2, box["height"] * 0.68  # clear of the map's controls
    lng_lat = page.evaluate("([x, y]) => window.portalMap.unproject([x, y]).toArray()", [x, y])
    page.locator("#map canvas").tap(position={"x": x, "y": y})
    info = page.locator("#identify")
    expect(info).to_be_visible()
    expect(info.locator("table, dl, ul, ol").first).to_be_visible()
    _settled(page)
    sheet = info.bounding_box()
    assert sheet is not None
    assert sheet["height"] <= 0.45 * box["height"] + 2  # a sheet over the map's lower part
    assert abs(sheet["width"] - box["width"]) < 2
    # the point is still visible: above the sheet, once the map has eased to it (the sheet may
    # grow as its table arrives, and the map follows)
    _poll(page, """ll => {
        const y = window.portalMap.project(ll).y;
        const top = document.getElementById('identify').getBoundingClientRect().top
                    - document.getElementById('map').getBoundingClientRect().top;
        return !window.portalMap.isMoving() && y > 0 && y < top;
    }""", lng_lat, timeout=5.0)
    sheet = info.bounding_box()
    assert sheet is not None
    point_y = box["y"] + page.evaluate("ll => window.portalMap.project(ll).y", lng_lat)
    assert box["y"] < point_y < sheet["y"], (point_y, sheet)
    assert _sheet(page) == "collapsed"
    close = info.get_by_role("button").first
    expect(close).to_be_in_viewport()
    close_box = close.bounding_box()
    assert close_box is not None and close_box["height"] >= 44
    site.shot("identify")
    close.tap()
    expect(info).to_be_hidden()
    assert site.failed == [] and site.errors == []


def test_at_320_px_nothing_overflows_and_the_handle_works(phone, portal):
    site = phone(320, 640)
    page = site.page
    _ready(site, portal, "#layers=raions")
    _map_loaded(page)
    assert _scroll_width(page) <= 320
    handle = page.locator("#sheet-handle")
    handle_box = handle.bounding_box()
    assert handle_box is not None and handle_box["height"] >= 44
    expect(handle).to_have_accessible_name("Expand the search panel")
    # by keyboard: Enter opens it half, then full; the layer list and region map are reachable
    handle.focus()
    page.keyboard.press("Enter")
    expect(handle).to_have_attribute("aria-expanded", "true")
    assert _sheet(page) == "half"
    page.keyboard.press("Enter")
    assert _sheet(page) == "full"
    expect(handle).to_have_accessible_name("Collapse the panel and show the map")
    _settled(page)
    assert page.locator("#layers-panel").get_attribute("inert") is None
    expect(page.locator("#layer-list .layer[data-id=raions]")).to_be_visible()
    page.locator("#region-map [data-region='5000000000']").scroll_into_view_if_needed()
    page.locator("#region-map [data-region='5000000000']").tap()
    expect(page.locator("#region-name")).not_to_have_text("All of Belarus")
    assert _scroll_width(page) <= 320
    site.shot("full")
    # Escape from inside the sheet: collapsed, focus back on the handle (not lost in inert)
    page.locator("#theme").focus()
    page.keyboard.press("Escape")
    assert _sheet(page) == "collapsed"
    expect(handle).to_be_focused()
    assert page.locator("#layers-panel").get_attribute("inert") is not None
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert _sheet(page) == "full"
    page.keyboard.press("ArrowDown")
    assert _sheet(page) == "half"
    page.keyboard.press("ArrowDown")
    assert _sheet(page) == "collapsed"
    # in Russian the handle says so in Russian
    page.locator("[data-lang=ru]").tap()
    expect(handle).to_have_accessible_name("Развернуть панель поиска")
    assert _scroll_width(page) <= 320
    assert site.failed == [] and site.errors == []


def test_dragging_the_handle_snaps_the_sheet(phone, portal):
    site = phone()
    page = site.page
    _ready(site, portal)
    _map_loaded(page)
    handle = page.locator("#sheet-handle").bounding_box()
    assert handle is not None
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 200, steps=8)
    page.mouse.move(x, y - 380, steps=8)  # past the middle, nearer half than full
    page.mouse.up()
    assert _sheet(page) == "half"
    _settled(page)
    sheet = page.locator("#panel").bounding_box()
    assert sheet is not None
    layout = page.locator(".layout").bounding_box()
    assert layout is not None and abs(sheet["height"] - layout["height"] / 2) < 3
    handle = page.locator("#sheet-handle").bounding_box()
    assert handle is not None
    y = handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + 300, steps=10)
    page.mouse.up()
    assert _sheet(page) == "collapsed"
    assert site.errors == []


def test_turning_the_phone_keeps_the_layout_whole(phone, portal):
    """Landscape (844 px wide) is the desktop layout: no sheet, nothing inert; back in
    portrait the sheet returns, and the map is resized to its box each time."""
    site = phone()
    page = site.page
    _ready(site, portal)
    _map_loaded(page)
    page.set_viewport_size({"width": 844, "height": 390})
    expect(page.locator("#sheet-handle")).to_be_hidden()
    assert page.evaluate("() => document.body.classList.contains('has-sheet')") is False
    assert page.locator("#layers-panel").get_attribute("inert") is None
    assert _scroll_width(page) <= 844
    page.set_viewport_size(PHONE)
    expect(page.locator("#sheet-handle")).to_be_visible()
    _poll(page, "() => Math.abs(window.portalMap.getCanvas().clientWidth - "
                "document.getElementById('map').clientWidth) < 2")
    assert _scroll_width(page) <= PHONE["width"]
    assert site.errors == []


def test_the_desktop_has_no_sheet(site, portal):
    _ready(site, portal)
    expect(site.page.locator("#sheet-handle")).to_be_hidden()
    assert site.page.evaluate("() => document.body.classList.contains('has-sheet')") is False
    assert site.page.locator("#results").get_attribute("inert") is None
    panel = site.page.locator("#panel").bounding_box()
    assert panel is not None and panel["x"] == 0 and panel["width"] < 500
