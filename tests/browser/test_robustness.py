"""Robustness and feel of the home page in a real Chromium (issue 19): an impossible or
unreadable view in the link is clamped or ignored with a notice (never a blank page); a linked
layer that is gone is named while the others open; a slow search shows the loading indicator
and marks its region busy; an over-long search is answered with a sentence, never a JSON
parser's "Unexpected token"; the skip link is the first Tab stop and lands on the map; the region
map is one Tab stop with arrow keys; the panel's buttons are at least 44 px. Screenshots go to
tests/browser/artifacts/."""

from __future__ import annotations

import pytest

from tests.browser.test_pages import _poll, _ready

pytestmark = pytest.mark.parametrize("portal", ["gpkg"], indirect=True)


def _notices(page) -> list[str]:
    return page.evaluate("() => Array.from(document.querySelectorAll('#notices .notice-text'))"
                         ".map(p => p.textContent)")


def _map_shown(page, belarus: bool) -> None:
    """The map is there and has drawn its style (over Belarus: the oblasts too)."""
    _poll(page, "() => window.portalMap && window.portalMap.loaded() && "
                "window.portalMap.getCanvas().width > 0")
    if belarus:
        _poll(page, "() => window.portalMap.queryRenderedFeatures("
                    "{layers: ['basemap-oblasts-0']}).length > 0")


@pytest.mark.parametrize(("fragment", "expect"), [
    ("#map=5/95/27", "out of range"),
    ("#map=40/53.9/207.56", "out of range"),
    ("#map=5/NaN/27", "could not be read"),
    ("#map=5/53.9", "could not be read"),
], ids=["latitude-95", "zoom-40-longitude-207", "nan", "two-numbers"])
def test_an_impossible_view_in_the_link_is_adjusted_with_a_notice(site, portal, fragment, expect):
    page = site.page
    _ready(site, portal, fragment)
    _map_shown(page, belarus=expect == "could not be read")  # ignored: all of Belarus
    assert page.locator("#notices").is_visible()
    notices = _notices(page)
    assert len(notices) == 1 and expect in notices[0], notices
    lon, lat = page.evaluate("() => window.portalMap.getCenter().toArray()")
    zoom = page.evaluate("() => window.portalMap.getZoom()")
    assert -85 <= lat <= 85 and -180 <= lon <= 180 and 0 <= zoom <= 22
    if fragment == "#map=40/53.9/207.56":  # wrapped: 207.56 - 360 = -152.44, zoom 22
        assert abs(lon + 152.44) < 1e-3 and abs(zoom - 22) < 1e-6
    if fragment == "#map=5/95/27":
        assert abs(lon - 27) < 1e-3 and lat > 80
    # the link written back is a valid one
    written = page.evaluate("() => new URLSearchParams(location.hash.slice(1)).get('map')")
    assert written and all(part not in ("NaN", "") for part in written.split("/"))
    if fragment == "#map=5/95/27":
        site.shot("latitude-95")
    assert site.errors == []


def test_the_notice_follows_the_language(site, portal):
    page = site.page
    _ready(site, portal, "#map=5/95/27&lang=en")
    page.click("[data-lang=be]")
    _poll(page, "() => document.querySelector('#notices .notice-text').textContent"
                ".includes('за межамі')")
    page.click("#notices .notice-close")
    assert page.locator("#notices").is_hidden()


def test_a_linked_layer_that_is_gone_is_named_and_the_others_open(site, portal):
    page = site.page
    _ready(site, portal, "#map=7.00/53.90000/27.56000&layers=no-such-layer,raions")
    assert page.evaluate("() => window.portal.opened()") == ["raions"]
    notices = _notices(page)
    assert notices == ["The layer “no-such-layer” is no longer published."], notices
    page.click("[data-lang=ru]")
    _poll(page, "() => document.querySelector('#notices .notice-text').textContent"
                " === 'Слой «no-such-layer» больше не опубликован.'")
    site.shot("layer-gone")
    assert [e for e in site.errors if "404" not in e] == []


def test_a_slow_search_shows_the_loading_indicator(site, portal):
    page = site.page
    _ready(site, portal)
    indicator = page.locator("#search-loading")
    assert indicator.is_hidden()
    held = []
    page.route("**/search?*", lambda route: held.append(route))
    page.fill("#q", "Орша")
    page.click("#search button[type=submit]")
    _poll(page, "() => !document.getElementById('search-loading').hidden")
    assert page.get_attribute("#results", "aria-busy") == "true"
    assert indicator.is_visible() and "Loading" in indicator.inner_text()
    site.shot("slow-search")
    page.wait_for_timeout(1000)  # the answer is a second late
    assert len(held) == 1
    held[0].continue_()
    _poll(page, "() => !document.body.hasAttribute('data-searching')")
    assert indicator.is_hidden()
    assert page.get_attribute("#results", "aria-busy") is None
    assert page.locator("#places .place").count() >= 1


def test_a_slow_layer_shows_the_indicator_on_the_map(site, portal):
    page = site.page
    _ready(site, portal)
    held = []
    page.route("**/collections/raions?*", lambda route: held.append(route))
    page.evaluate("() => { window.opening = window.portal.openLayer('raions', false); }")
    _poll(page, "() => !document.getElementById('map-loading').hidden")
    assert page.get_attribute("#map", "aria-busy") == "true"
    held[0].continue_()
    _poll(page, "() => window.portal.opened().includes('raions')")
    _poll(page, "() => document.getElementById('map-loading').hidden")
    assert page.get_attribute("#map", "aria-busy") is None


def test_an_overlong_search_is_answered_with_a_sentence(site, portal):
    page = site.page
    long_text = "школа " * 400  # 2,400 characters
    _ready(site, portal, "#q=" + long_text.replace(" ", "+"))
    count = page.locator("#result-count").inner_text()
    assert count == "The search text is too long: at most 200 characters."
    # the box itself takes no more than 200 characters
    assert page.get_attribute("#q", "maxlength") == "200"
    page.fill("#q", "")
    page.type("#q", "x" * 230, delay=0)
    assert len(page.input_value("#q")) == 200
    # the real server's 400 and 414 answers become their sentences; a non-JSON answer too
    said = page.evaluate("""async () => {
        const ask = (path, params) => window.portal.getJSON(path, params)
          .then(() => 'no error', err => err.message);
        return [await ask('/search', {q: 'x'.repeat(2000)}),
                await ask('/collections/catalog/items', {f: 'json', q: 'x'.repeat(9000)}),
                await ask('/portal/regions.svg', {})];
    }""")
    assert "at most 200" in said[0], said
    assert "longer than" in said[1] and "shorten" in said[1], said
    assert said[2] == "The server's answer could not be read.", said
    assert not any("Unexpected token" in s or "JSON" in s for s in said), said


def test_the_skip_link_is_the_first_tab_stop_and_lands_on_the_map(site, portal):
    page = site.page
    _ready(site, portal, "#lang=ru")
    page.keyboard.press("Tab")
    first = page.evaluate("() => [document.activeElement.id, document.activeElement.textContent]")
    assert first == ["skip-map", "Перейти к карте"]
    assert page.locator("#skip-map").is_visible()
    site.shot("skip-link")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.getElementById('map')"
                         ".contains(document.activeElement)")
    # the map takes the keyboard: + zooms in
    before = page.evaluate("() => window.portalMap.getZoom()")
    page.keyboard.press("Equal")
    _poll(page, "z => window.portalMap.getZoom() > z", before)


def test_the_region_map_is_one_tab_stop_with_arrow_keys(site, portal):
    page = site.page
    _ready(site, portal)
    _poll(page, "() => document.querySelectorAll('#region-map .region').length > 100")
    stops = page.evaluate("() => Array.from(document.querySelectorAll('#region-map .region'))"
                          ".filter(p => p.getAttribute('tabindex') !== '-1').length")
    assert stops == 1
    page.focus("#region-map .region[tabindex='0']")
    first = page.evaluate("() => document.activeElement.getAttribute('data-region')")
    assert page.evaluate("() => document.activeElement.classList.contains('oblast')")
    page.keyboard.press("ArrowRight")
    second = page.evaluate("() => document.activeElement.getAttribute('data-region')")
    assert second and second != first
    page.keyboard.press("Enter")
    _poll(page, "c => new URLSearchParams(location.hash.slice(1)).get('region') === c", second)
    # Tab leaves the map in one step
    page.keyboard.press("Tab")
    assert not page.evaluate("() => document.getElementById('region-map')"
                             ".contains(document.activeElement)")


def test_the_panel_buttons_are_at_least_44_px(site, portal):
    page = site.page
    _ready(site, portal, "#map=7.00/53.90000/27.56000&layers=raions")
    _poll(page, "() => document.querySelectorAll('#layer-list .layer button').length >= 4")
    sizes = page.evaluate("""() => Array.from(document.querySelectorAll('#panel button'))
        .filter(b => b.offsetParent !== null)
        .map(b => [b.textContent, b.getBoundingClientRect().width,
                   b.getBoundingClientRect().height])""")
    assert len(sizes) >= 8
    small = [s for s in sizes if s[1] < 44 or s[2] < 44]
    assert small == [], small
