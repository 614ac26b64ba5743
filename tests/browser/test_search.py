"""The search box and the region filter in a real Chromium (issue 19): "Орша" lists the city
first and "Show on the map" zooms the map there; "railway stations near Orsha" lists the
railway layer; a click on Gomel oblast keeps the national layers, drops the Minsk ones, zooms
the map to the oblast and outlines it. Screenshots go to tests/browser/artifacts/."""

from __future__ import annotations

import contextlib

import pytest

from tests.browser.test_pages import _poll, _ready

pytestmark = pytest.mark.parametrize("portal", ["gpkg"], indirect=True)
ORSHA = (30.426, 54.509)
GOMEL_OBLAST = "3000000000"


def _ask(page, text: str) -> None:
    before = page.evaluate("() => window.portal.searches()")
    page.fill("#q", text)
    page.click("#search button[type=submit]")
    _poll(page, "n => window.portal.searches() > n && "
                "!document.body.hasAttribute('data-searching')", before)


def _result_ids(page) -> list[str]:
    return page.evaluate("() => Array.from(document.querySelectorAll('#results .result'))"
                         ".map(li => li.getAttribute('data-id'))")


def test_orsha_is_found_and_shown_on_the_map(site, portal):
    page = site.page
    _ready(site, portal)
    _poll(page, "() => window.portalMap && window.portalMap.loaded()")
    _ask(page, "Орша")
    places = page.locator("#places .place")
    assert places.count() >= 2
    first = places.first
    assert first.get_attribute("data-kind") == "city"
    assert first.get_attribute("data-layer") == "cities"
    assert "Orša" in first.locator("h3").inner_text()  # the English page: romanized
    site.shot("orsha-found")
    first.locator("button.show-place").click()
    lon, lat = page.evaluate("() => window.portalMap.getCenter().toArray()")
    assert abs(lon - ORSHA[0]) < 0.02 and abs(lat - ORSHA[1]) < 0.02
    assert page.evaluate("() => window.portalMap.getZoom()") >= 10
    assert page.locator(".maplibregl-marker[data-place]").count() == 1
    site.shot("orsha-on-the-map")
    assert site.errors == []


def test_railway_stations_near_orsha_lists_the_railway_layer(site, portal):
    page = site.page
    _ready(site, portal)
    _ask(page, "railway stations near Orsha")
    assert _result_ids(page)[:1] == ["railway-stations"]
    assert "Orsha" in page.locator("#result-count").inner_text()
    _ask(page, "станции Орша")
    assert _result_ids(page)[:1] == ["railway-stations"]


def test_a_newer_search_wins_over_a_slower_older_one(site, portal):
    """The first answer is held back until the second has been shown: the list must keep
    the second one's results."""
    page = site.page
    _ready(site, portal)
    held: list = []

    def slow_first(route):
        if "q=%D0%BE%D1%80%D1%88%D0%B0" in route.request.url.lower() and not held:
            held.append(route)  # answered later, after the newer search
        else:
            route.continue_()

    page.route("**/search?*", slow_first)
    page.fill("#q", "Орша")
    page.click("#search button[type=submit]")
    _poll(page, "() => window.portal.searches() >= 2")
    _ask(page, "Minsk")
    names = page.locator("#places .place h3").all_inner_texts()
    assert names and all("Or" not in n for n in names)
    for route in held:
        with contextlib.suppress(Exception):  # the page cancelled it (AbortController)
            route.continue_()
    page.wait_for_timeout(500)
    assert page.locator("#places .place h3").all_inner_texts() == names


def test_a_region_click_keeps_national_layers_and_zooms_to_it(site, portal):
    page = site.page
    _ready(site, portal)
    _poll(page, "() => window.portalMap && window.portalMap.loaded()")
    assert "minsk-stops" in _result_ids(page)
    region = page.locator(f"#region-map [data-region='{GOMEL_OBLAST}']")
    before = page.evaluate("() => window.portal.searches()")
    region.focus()
    page.keyboard.press("Enter")
    _poll(page, "n => window.portal.searches() > n && "
                "!document.body.hasAttribute('data-searching')", before)
    ids = _result_ids(page)
    assert {"raions", "cities", "railway-stations", "oblasts"} <= set(ids)  # national layers
    assert "minsk-stops" not in ids
    west, south, east, north = page.evaluate(
        "() => window.portalMap.getBounds().toArray().flat()")
    assert west < 28.0 and east > 31.0 and south < 52.0 and north > 53.0  # Gomel oblast
    assert east - west < 8  # zoomed in from the whole country
    assert page.evaluate("() => !!window.portalMap.getLayer('region-outline')")
    _poll(page, "() => window.portalMap.queryRenderedFeatures("
                "{layers: ['region-outline']}).length > 0")
    site.shot("region-gomel")
    _ask(page, "raions")  # "районы" plus a click on Gomel oblast: the raions layer
    assert _result_ids(page)[:1] == ["raions"]
    assert site.errors == []
