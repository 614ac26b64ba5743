"""Feature info for people in a real Chromium (issue 19): a click on a city heads the panel with
the city's name in the page's language, field titles follow the language, numbers are
formatted, the city is highlighted on the map; overlapping layers give a list whose entries
open their details and come back; Escape closes and gives the focus back to the map; Enter on
the focused map identifies what is under its centre; a raster's value comes with its unit and
says when it is beyond the legend, or that there is no data; a newer click is never overwritten
by an older, slower one. Screenshots go to tests/browser/artifacts/ and docs/img/identify.png."""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.test_pages import _poll, _ready, _wait_rendered

pytestmark = pytest.mark.parametrize("portal", ["gpkg"], indirect=True)

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
# thousands grouped by a space (be, ru: U+00A0 or U+202F) or a comma (en)
GROUPED = re.compile(r"^\d{1,3}([\u00a0\u202f ,]\d{3})+$")


def _minsk(portal: Any) -> dict[str, Any]:
    """The city of Minsk as the API gives it (its point and attributes)."""
    cities = requests.get(f"{portal.url}/collections/cities/items",
                          params={"f": "json", "limit": "1000"}, timeout=30).json()
    return next(f for f in cities["features"] if f["properties"]["city_id"] == "c-minsk")


def _click_at(page: Any, lon_lat: tuple[float, float]) -> None:
    """A person's click on the map at a longitude/latitude."""
    point = page.evaluate("ll => window.portalMap.project(ll)", list(lon_lat))
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def _row(page: Any, field: str) -> Any:
    return page.locator(f"#identify tr[data-field='{field}']")


def test_a_city_shows_its_name_translated_titles_and_formatted_numbers(site: Any,
                                                                       portal: Any) -> None:
    page = site.page
    minsk = _minsk(portal)
    lon, lat = minsk["geometry"]["coordinates"]
    _ready(site, portal, f"#map=9.00/{lat:.5f}/{lon:.5f}&layers=cities&lang=be")
    _wait_rendered(page, ["cities-circle"])
    _click_at(page, (lon, lat))
    heading = page.locator("#identify h2")
    expect(heading).to_have_text("Мінск")
    expect(heading).to_be_focused()  # keyboard and screen reader users land in the panel
    assert page.get_attribute("#identify", "data-view") == "details"
    # the feature's own link stays
    link = page.locator("#identify a.feature-link").get_attribute("href")
    assert re.search(r"/collections/cities/items/\d+\?f=html&lang=be$", link), link
    # numbers in the page's language: population with a thousands separator, the year not
    population = _row(page, "pop_latest").locator("td").inner_text()
    assert GROUPED.match(population), population
    assert int(re.sub(r"\D", "", population)) == minsk["properties"]["pop_latest"]
    assert _row(page, "pop_year").locator("td").inner_text() == str(
        minsk["properties"]["pop_year"])
    # codes stay as they are
    assert _row(page, "city_id").locator("td").inner_text() == "c-minsk"
    title_be = _row(page, "pop_latest").locator("th").inner_text()
    # the city drawn on top of the map
    _poll(page, "() => window.portalMap.getSource('identify-highlight') !== undefined")
    _poll(page, "() => window.portalMap.queryRenderedFeatures({layers: "
                "['identify-highlight-circle']}).length > 0")
    site.shot("city-be")

    page.click("[data-lang=ru]")
    expect(heading).to_have_text("Минск")
    page.click("[data-lang=en]")
    expect(page.locator("#identify .feature-link")).to_have_text("This feature in OGC API")
    title_en = _row(page, "pop_latest").locator("th").inner_text()
    population_en = _row(page, "pop_latest").locator("td").inner_text()
    assert "," in population_en and GROUPED.match(population_en), population_en
    # the manifest's titles: Belarusian on the be page, English on the en page
    assert title_be != title_en, (title_be, title_en)
    assert title_be != "pop_latest" and title_en != "pop_latest"
    # a request the page itself cancelled (a newer click, AbortController) is not a failure
    assert [f for f in site.failed if "ERR_ABORTED" not in f] == [] and site.errors == []


def test_overlapping_layers_give_a_list_with_details_and_back(site: Any, portal: Any) -> None:
    page = site.page
    minsk = _minsk(portal)
    lon, lat = minsk["geometry"]["coordinates"]
    _ready(site, portal, f"#map=9.00/{lat:.5f}/{lon:.5f}&layers=cities,oblasts&lang=ru")
    _wait_rendered(page, ["cities-circle"])
    _wait_rendered(page, ["oblasts-fill"])
    _click_at(page, (lon, lat))
    panel = page.locator("#identify")
    expect(panel).to_have_attribute("data-view", "list")
    entries = panel.locator("button.identify-entry")
    assert entries.count() >= 2
    # grouped by layer, each group under its layer's title, each entry the feature's name
    groups = panel.locator(".identify-group")
    assert groups.evaluate_all("gs => gs.map(g => g.dataset.layer)")[:2] == ["cities", "oblasts"]
    assert panel.locator(".identify-group[data-layer=cities] h3").inner_text() == \
        "Города Беларуси и их население"
    assert panel.locator(".identify-group[data-layer=cities] button").first.inner_text() == "Минск"
    expect(page.locator("#identify h2")).to_be_focused()
    site.shot("list")
    # the oblast's details, the whole polygon highlighted; then back to the list
    panel.locator(".identify-group[data-layer=oblasts] button").first.click()
    expect(panel).to_have_attribute("data-view", "details")
    expect(page.locator("#identify h2")).to_have_text(re.compile("Минск"))
    _poll(page, "() => window.portalMap.queryRenderedFeatures({layers: "
                "['identify-highlight-line']}).length > 0")
    panel.locator("button.identify-back").click()
    expect(panel).to_have_attribute("data-view", "list")
    expect(panel.locator(".identify-group[data-layer=oblasts] button").first).to_be_focused()
    # the list entries are buttons: Enter opens one
    page.keyboard.press("Enter")
    expect(panel).to_have_attribute("data-view", "details")
    # Escape closes the panel, removes the highlight and gives the focus back to the map
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(page.locator("#map canvas.maplibregl-canvas")).to_be_focused()
    _poll(page, "() => window.portalMap.queryRenderedFeatures({layers: ['identify-highlight-line',"
                " 'identify-highlight-circle', 'identify-highlight-fill']}).length === 0")
    # a request the page itself cancelled (a newer click, AbortController) is not a failure
    assert [f for f in site.failed if "ERR_ABORTED" not in f] == [] and site.errors == []


def test_enter_on_the_map_identifies_what_is_under_its_centre(site: Any, portal: Any) -> None:
    page = site.page
    minsk = _minsk(portal)
    lon, lat = minsk["geometry"]["coordinates"]
    _ready(site, portal, f"#map=10.00/{lat:.5f}/{lon:.5f}&layers=cities&lang=en")
    _wait_rendered(page, ["cities-circle"])
    events = page.evaluate_handle(
        "() => { const seen = []; document.addEventListener('portal:identify',"
        " e => seen.push(e.detail)); return seen; }")
    canvas = page.locator("#map canvas.maplibregl-canvas")
    canvas.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#identify h2")).to_have_text("Мінск")  # no English name: Belarusian
    assert _row(page, "name_ru").locator("td").inner_text() == "Минск"
    _poll(page, "() => window.portalMap.queryRenderedFeatures({layers: "
                "['identify-highlight-circle']}).length > 0")
    opened = events.evaluate("seen => seen.slice()")
    assert opened and opened[0]["open"] is True
    assert abs(opened[0]["lngLat"][0] - lon) < 0.01 and abs(opened[0]["lngLat"][1] - lat) < 0.01
    site.shot("enter")
    shutil.copyfile(site.shot("enter"), DOCS_IMG / "identify.png")
    page.keyboard.press("Escape")
    expect(page.locator("#identify")).to_be_hidden()
    expect(canvas).to_be_focused()
    assert events.evaluate("seen => seen[seen.length - 1].open") is False
    # the emptied source is drawn on the next frames: polled (a frame still showing it is fine)
    _poll(page, "() => window.portalMap.queryRenderedFeatures({layers: "
                "['identify-highlight-circle', 'identify-highlight-line', "
                "'identify-highlight-fill'].filter("
                "id => window.portalMap.getLayer(id))}).length === 0")
    # a click on an empty spot shows nothing
    page.evaluate("() => window.portalMap.jumpTo({center: [30.5, 52.0], zoom: 10})")
    canvas.focus()
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    expect(page.locator("#identify")).to_be_hidden()
    # a request the page itself cancelled (a newer click, AbortController) is not a failure
    assert [f for f in site.failed if "ERR_ABORTED" not in f] == [] and site.errors == []


def test_a_raster_value_comes_with_its_unit_and_the_legend(site: Any, portal: Any) -> None:
    page = site.page
    _ready(site, portal, "#map=9.00/53.90000/27.56000&layers=night-lights-2024&lang=en")
    expect(page.locator(".layer[data-id=night-lights-2024] .legend-step").first).to_be_visible()
    card = requests.get(f"{portal.url}/portal/cards/night-lights-2024.json",
                        params={"lang": "en"}, timeout=30).json()
    unit = card["unit"]
    assert unit == "nW/cm²/sr"
    legend_max = page.evaluate("() => window.portal.layers()[0].legend.slice(-1)[0].value")
    # the raster's map tiles first (rendered on demand): the value's request is not queued
    # behind them on a busy test server
    _poll(page, "() => window.portalMap.loaded()")
    page.locator("#map canvas.maplibregl-canvas").focus()
    page.keyboard.press("Enter")
    value = page.locator("#identify td.raster-value")
    expect(value).to_be_visible(timeout=60_000)
    lon, lat = page.evaluate("() => window.portalMap.getCenter().toArray()")
    coverage = requests.get(
        f"{portal.url}/collections/night-lights-2024/coverage",
        params={"f": "json", "subset": f"Lon({lon:.6f}),Lat({lat:.6f})"}, timeout=30).json()
    expected = coverage["ranges"]["band1"]["values"][0]
    assert expected > legend_max  # central Minsk is brighter than the legend's top step
    text = value.inner_text()
    shown = re.match(r"^([\d,.]+) nW/cm²/sr", text)
    assert shown, text
    assert abs(float(shown.group(1).replace(",", "")) - expected) < 0.01
    assert f"beyond the legend (max {legend_max:g} nW/cm²/sr)" in text
    assert page.locator("#identify h2").inner_text() == "Night-time lights of Belarus, 2024"
    site.shot("raster")
    # in Russian, the unit is the card's Russian one
    page.click("[data-lang=ru]")
    expect(value).to_contain_text("нВт/см²/ср")
    expect(value).to_contain_text("за пределами легенды")
    # nodata (outside Belarus, inside the raster's box) is said so
    page.evaluate("() => window.portalMap.jumpTo({center: [23.3, 56.1], zoom: 9})")
    _poll(page, "() => window.portalMap.loaded()")
    page.locator("#map canvas.maplibregl-canvas").focus()
    page.keyboard.press("Enter")
    expect(value).to_have_text("нет данных", timeout=60_000)
    # a request the page itself cancelled (a newer click, AbortController) is not a failure
    assert [f for f in site.failed if "ERR_ABORTED" not in f] == [] and site.errors == []


def test_a_newer_click_is_never_overwritten_by_an_older_one(site: Any, portal: Any) -> None:
    page = site.page
    minsk = _minsk(portal)
    lon, lat = minsk["geometry"]["coordinates"]
    _ready(site, portal,
           f"#map=9.00/{lat:.5f}/{lon:.5f}&layers=cities,night-lights-2024&lang=en")
    _wait_rendered(page, ["cities-circle"])
    held = []
    page.route("**/coverage?*", lambda route: held.append(route))
    # first: a spot with no city (only the raster), whose value is held back
    _click_at(page, (lon + 0.3, lat + 0.2))
    page.wait_for_timeout(300)
    assert len(held) == 1
    # then the city: its details show at once
    _click_at(page, (lon, lat))
    expect(page.locator("#identify h2")).to_have_text("Мінск")
    page.unroute("**/coverage?*")
    # the late answer (if the browser still wants it: the newer click cancelled it)
    with contextlib.suppress(Exception):
        held[0].continue_()
    page.wait_for_timeout(500)
    expect(page.locator("#identify h2")).to_have_text("Мінск")
    assert page.locator("#identify td.raster-value").count() == 0


def test_values_are_formatted_for_people(site: Any, portal: Any) -> None:
    page = site.page
    _ready(site, portal, "#lang=en")
    fmt = "([v, name, type]) => window.PortalIdentify.format(v, name, type)"
    assert page.evaluate(fmt, [None, "x", None]) == '<span class="empty">—</span>'
    assert page.evaluate(fmt, ["", "x", None]) == '<span class="empty">—</span>'
    assert page.evaluate(fmt, [True, "open", None]) == '<span class="bool">yes</span>'
    assert page.evaluate(fmt, [0, "open", "boolean"]) == '<span class="bool">no</span>'
    assert page.evaluate(fmt, [1234567.5, "area", "number"]) == \
        '<span class="num">1,234,567.5</span>'
    assert page.evaluate(fmt, [1000000000, "soato", "integer"]) == "<span>1000000000</span>"
    assert page.evaluate(fmt, ["12345", "name", "string"]) == "<span>12345</span>"
    assert page.evaluate(fmt, ["2024-03-05", "opened", "date"]) == \
        '<time datetime="2024-03-05">March 5, 2024</time>'
    link = page.evaluate(fmt, ["https://example.org/a?b=1", "site", "string"])
    assert link.startswith('<a href="https://example.org/a?b=1"') and 'rel="noopener' in link
    assert "<a" not in page.evaluate(fmt, ["javascript:alert(1)", "site", "string"])
    page.click("[data-lang=be]")
    assert page.evaluate(fmt, [True, "open", None]) == '<span class="bool">так</span>'
    grouped = page.evaluate(fmt, [1234567.5, "area", "number"]).replace("&nbsp;", "\u00a0")
    assert re.fullmatch(r'<span class="num">1[\u00a0\u202f ]234[\u00a0\u202f ]567,5</span>',
                        grouped), grouped
    assert page.evaluate(fmt, ["2024-03-05", "opened", "date"]) == \
        '<time datetime="2024-03-05">5 сакавіка 2024 г.</time>'
    page.click("[data-lang=ru]")
    assert page.evaluate(fmt, [False, "open", None]) == '<span class="bool">нет</span>'
    assert page.evaluate(fmt, ["2024-03-05", "opened", "date"]) == \
        '<time datetime="2024-03-05">5 марта 2024 г.</time>'
    assert site.errors == []
