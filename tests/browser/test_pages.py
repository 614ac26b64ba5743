"""The portal in a real Chromium: the home page loads cleanly, a search finds a sample layer,
opening it draws its features (checked through MapLibre's rendered features), clicking one
shows its attributes, the language switch changes the page and the API calls, a shared URL
restores the view, the page works at phone size and from the keyboard, and an upload through
the upload page publishes a layer and rolls it back. Screenshots of every step go to
tests/browser/artifacts/."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import ARTIFACTS, Watched

pytestmark = pytest.mark.parametrize("portal", ["gpkg"], indirect=True)

ROOT = Path(__file__).resolve().parents[2]
MINSK = (27.56, 53.9)
DZYARZHYNSK_RAION = (27.1, 53.65)  # Minsk city itself is not a raion


def _ready(site, portal, fragment: str = "") -> None:
    site.page.goto(f"{portal.url}/{fragment}")
    site.page.wait_for_selector("body[data-ready=true]")


def _poll(page, function: str, arg: object = None, timeout: float = 30.0) -> None:
    """Wait until ``function`` (JavaScript, ``arg => ...``) is true: page.evaluate calls a
    function, which the page's CSP allows, where wait_for_function would compile a string."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(function, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {function}")
        page.wait_for_timeout(100)


def _rendered(page, layer_ids: list[str]) -> int:
    return page.evaluate(
        "ids => window.portalMap.queryRenderedFeatures({layers: ids.filter("
        "id => window.portalMap.getLayer(id))}).length", layer_ids)


def _wait_rendered(page, layer_ids: list[str], at_least: int = 1) -> None:
    _poll(page, "([ids, n]) => !!window.portalMap && window.portalMap.queryRenderedFeatures("
                "{layers: ids.filter(id => window.portalMap.getLayer(id))}).length >= n",
          [layer_ids, at_least])


def test_the_home_page_loads_with_no_failed_request(browser, portal):
    """Under the page's own Content-Security-Policy (the other tests bypass it to let
    Playwright evaluate its waits): no blocked script, no failed request, no error."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    site = Watched(context.new_page(), "home")
    _ready(site, portal)
    _poll(site.page, "() => window.portalMap && window.portalMap.loaded()")
    assert site.page.locator(".result").count() >= 7  # every sample layer is listed
    # the basemap is drawn from the portal's own tiles (offline): oblasts are on the map
    _poll(site.page, "() => window.portalMap.queryRenderedFeatures("
                     "{layers: ['basemap-oblasts-0']}).length > 0")
    assert all(url.startswith(portal.url) or url.startswith("data:") or url.startswith("blob:")
               for url in site.requests), [u for u in site.requests
                                           if not u.startswith(portal.url)]
    site.shot("home")
    context.close()
    assert site.failed == [] and site.errors == []


def test_the_basemap_style_names_tile_paths_not_a_host(portal):
    style = requests.get(f"{portal.url}/portal/style.json", timeout=30,
                         headers={"Host": "evil.example"}).json()
    tiles = [t for source in style["sources"].values() for t in source["tiles"]]
    assert tiles and all(t.startswith("/collections/") for t in tiles)


def test_the_json_landing_page_is_still_there_for_clients(portal):
    body = requests.get(portal.url, headers={"Accept": "application/json"}, timeout=30).json()
    assert any(link["rel"] == "conformance" for link in body["links"])
    html = requests.get(portal.url, headers={"Accept": "text/html"}, timeout=30)
    assert 'id="map"' in html.text and html.headers["Content-Type"].startswith("text/html")
    assert "Accept" in html.headers["Vary"]
    as_json = requests.get(portal.url, params={"f": "json"}, timeout=30)
    assert as_json.headers["Content-Type"].startswith("application/json")
    assert "Accept" in as_json.headers.get("Vary", "")


def test_a_search_finds_a_sample_layer(site, portal):
    _ready(site, portal)
    site.page.fill("#q", "чыгуначныя")
    site.page.click("#search button[type=submit]")
    site.page.wait_for_function(
        "document.querySelectorAll('.result').length === 1")
    first = site.page.locator(".result").first
    assert first.get_attribute("data-id") == "railway-stations"
    assert "q=%D1%87" in site.page.url  # the search is in the URL (percent-encoded)
    site.shot("search")
    assert site.failed == [] and site.errors == []


def test_the_region_map_filters_the_search(site, portal):
    _ready(site, portal)
    site.page.click("#region-map [data-region='5000000000']")  # Minsk city
    # the layers that cover Minsk: its own stops and the national layers, not another city's
    site.page.wait_for_function(
        "[...document.querySelectorAll('.result')].some(r => r.dataset.id === 'minsk-stops')")
    ids = site.page.eval_on_selector_all(".result", "rs => rs.map(r => r.dataset.id)")
    assert "minsk-stops" in ids and "raions" in ids
    assert site.page.inner_text("#region-name") == "Minsk City"
    site.shot("region")
    site.page.click("#region-map [data-region='3000000000']")  # Gomel oblast
    site.page.wait_for_function(
        "![...document.querySelectorAll('.result')].some(r => r.dataset.id === 'minsk-stops')"
        " && document.querySelectorAll('.result').length >= 1")
    ids = site.page.eval_on_selector_all(".result", "rs => rs.map(r => r.dataset.id)")
    assert "raions" in ids and "minsk-stops" not in ids


def test_opening_a_layer_draws_its_features_and_a_click_shows_attributes(site, portal):
    _ready(site, portal)
    site.page.locator(".result[data-id=raions] button.open").click()
    site.page.wait_for_selector(".layer[data-id=raions]")
    _wait_rendered(site.page, ["raions-fill"], 50)  # the raions in view
    site.shot("layer")
    point = site.page.evaluate("ll => window.portalMap.project(ll)", list(DZYARZHYNSK_RAION))
    box = site.page.locator("#map").bounding_box()
    site.page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    panel = site.page.locator("#identify")
    panel.wait_for(state="visible")
    text = panel.inner_text()
    assert "soato" in text or "Soato" in text or "SOATO" in text
    link = panel.locator("a.feature-link").get_attribute("href")
    assert re.search(r"/collections/raions/items/\d+", link)
    feature = requests.get(portal.url + link.replace("f=html", "f=json"), timeout=30).json()
    assert feature["properties"]["soato"] in text
    site.shot("identify")
    assert site.failed == [] and site.errors == []


def test_a_raster_layer_draws_from_the_map_tiles(site, portal):
    _ready(site, portal, "#map=7.00/53.90000/27.56000&layers=night-lights-2024")
    site.page.wait_for_selector(".layer[data-id=night-lights-2024] .legend-step")
    site.page.wait_for_function("window.portalMap.loaded()")
    tiles = [u for u in site.requests if "/night-lights-2024/map/tiles/" in u]
    assert tiles and site.failed == []
    site.shot("raster")


def test_the_language_switch_changes_the_page_and_the_api_calls(site, portal):
    _ready(site, portal)
    assert site.page.inner_text("#search button") == "Search"
    site.page.wait_for_function("[...document.querySelectorAll('.city-label')]"
                                ".some(l => l.textContent === 'Minsk' && !l.hidden)")
    site.requests.clear()
    site.page.click("[data-lang=ru]")
    site.page.wait_for_function("document.querySelector('#search button').textContent"
                                " === 'Искать'")
    site.page.wait_for_function("document.documentElement.lang === 'ru'")
    assert site.page.inner_text(".brand") == "Геопортал Беларуси"
    site.page.wait_for_function(
        "[...document.querySelectorAll('.result h3')].some(h => /Беларуси/.test(h.textContent))")
    assert any("/collections/catalog/items" in u and "lang=ru" in u for u in site.requests)
    # place names on the map (HTML labels from the cities layer) follow the language
    site.page.wait_for_function("[...document.querySelectorAll('.city-label')]"
                                ".some(l => l.textContent === 'Минск' && !l.hidden)")
    assert "lang=ru" in site.page.url
    site.shot("russian")
    site.page.click("[data-lang=be]")
    site.page.wait_for_function("document.querySelector('#search button').textContent"
                                " === 'Шукаць'")
    # remembered: a new visit of the bare page comes back in Belarusian
    site.page.goto(portal.url + "/")
    site.page.wait_for_function("document.querySelector('#search button').textContent"
                                " === 'Шукаць'")


def test_a_shared_url_restores_the_view(site, portal):
    fragment = "#map=9.00/53.90000/27.56000&layers=minsk-stops,raions&lang=ru&q=&region="
    _ready(site, portal, fragment)
    assert site.page.evaluate("window.portal.opened()") == ["minsk-stops", "raions"]
    zoom = site.page.evaluate("window.portalMap.getZoom()")
    center = site.page.evaluate("window.portalMap.getCenter().toArray()")
    assert abs(zoom - 9) < 0.01
    assert abs(center[0] - 27.56) < 1e-3 and abs(center[1] - 53.9) < 1e-3
    _wait_rendered(site.page, ["minsk-stops-circle"], 100)
    assert site.page.inner_text("#search button") == "Искать"
    # the stops are drawn above the raions, as in the URL
    order = site.page.evaluate("window.portalMap.getStyle().layers.map(l => l.id)")
    assert order.index("minsk-stops-circle") > order.index("raions-fill")
    site.shot("shared")


def test_phone_size_and_keyboard(browser, portal):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    try:
        page.goto(portal.url + "/")
        page.wait_for_selector("body[data-ready=true]")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing sticks out sideways
        assert page.locator("#map").bounding_box()["height"] > 300
        page.keyboard.press("Tab")
        for _ in range(12):  # the search box is reachable with Tab
            if page.evaluate("document.activeElement.id") == "q":
                break
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "q"
        page.keyboard.type("stops")
        page.keyboard.press("Enter")
        page.wait_for_function("document.querySelectorAll('.result').length >= 1")
        page.focus("#region-map [data-region='5000000000']")
        page.keyboard.press("Enter")
        page.wait_for_function("document.querySelector('#region-name').textContent !== "
                               "'All of Belarus'")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "phone.png"), full_page=False)
    finally:
        context.close()


def test_an_upload_through_the_page_publishes_a_layer(site, portal, tmp_path):
    token = portal.cli("token", "create", "--name", "page-upload", "--role", "editor",
                       "--region", "5000000000").stdout.strip().split()[-1]
    layer_id = "page-upload-stops"
    data = tmp_path / "stops.geojson"
    data.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"назва": f"Прыпынак {i}"},
         "geometry": {"type": "Point", "coordinates": [27.5 + i / 100, 53.9]}}
        for i in range(5)]}, ensure_ascii=False), encoding="utf-8")
    page = site.page
    page.goto(f"{portal.url}/admin")
    page.fill("#token", token)
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#upload-section:not([hidden])")
    regions = page.eval_on_selector_all("#region option", "os => os.map(o => o.value)")
    assert "5000000000" in regions and "1000000000" not in regions  # only the token's
    page.set_input_files("#file", str(data))
    page.fill("#layer-id", layer_id)
    page.fill("#title-be", "Прыпынкі з старонкі")
    page.fill("#title-ru", "Остановки со страницы")
    page.fill("#title-en", "Stops from the page")
    page.select_option("#region", "5000000000")
    page.select_option("#theme", "transport")
    site.shot("upload-form")
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#status[data-state=done]", timeout=60_000)
    page.wait_for_selector("#versions tr[data-version='1']")
    assert "5" in page.inner_text("#report-summary")  # 5 features published
    site.shot("upload-done")
    try:
        items = requests.get(f"{portal.url}/collections/{layer_id}/items",
                             params={"f": "json"}, timeout=30).json()
        assert len(items["features"]) == 5
        # a second version with 3 features, then back to the first from the versions table
        data.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"назва": f"Новы {i}"},
             "geometry": {"type": "Point", "coordinates": [27.6, 53.9 + i / 100]}}
            for i in range(3)]}, ensure_ascii=False), encoding="utf-8")
        page.set_input_files("#file", str(data))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#versions tr[data-version='2']", timeout=60_000)
        page.locator("#versions tr[data-version='1'] button").click()
        page.click("#rollback-confirm")  # the page asks first (a dialog)
        page.wait_for_selector("#versions tr[data-version='2'] button")  # 1 is current again
        site.shot("rolled-back")
        deadline = time.monotonic() + 10
        while True:  # the workers see the catalog change within a second or two
            items = requests.get(f"{portal.url}/collections/{layer_id}/items",
                                 params={"f": "json"}, timeout=30).json()
            if len(items["features"]) == 5 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert len(items["features"]) == 5
    finally:
        requests.delete(f"{portal.url}/admin/layers/{layer_id}",
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert site.failed == [] and site.errors == []


CONTRAST = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).slice(0, 4).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  }).reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = el => {  // the first opaque background up the tree
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] > 0.9) return c;
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const sel of ['.brand', '.top-links a', '.langs button', '#search button',
                     '.result h3', '.result p', '.result .open', '#result-count',
                     '.region-filter', '#layers-panel h2', '.api-links a']) {
    for (const el of document.querySelectorAll(sel)) {
      if (!el.offsetParent) continue;
      const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
      out.push([sel, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]);
      break;
    }
  }
  return out;
}"""


def test_text_has_readable_contrast(site, portal):
    """WCAG AA: 4.5:1 for the page's text (measured from the computed colours)."""
    _ready(site, portal)
    ratios = site.page.evaluate(CONTRAST)
    assert len(ratios) >= 9
    low = [(sel, round(r, 2)) for sel, r in ratios if r < 4.5]
    assert low == [], low
