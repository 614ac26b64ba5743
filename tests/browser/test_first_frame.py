"""The home page's start-up in a real Chromium (issue 19, "Weight": the first map frame under
1 s on localhost). The first frame's chain goes first: the basemap style comes from the head's
preload (one request, not a round trip after MapLibre's WebGL set-up), the registry is asked
for at once, and the panel's own work (the region map, the catalog search and its thumbnails)
starts only after the map's first complete frame, or after 3 s when the map cannot draw. The
basemap's fill has no antialiased outline (one WebGL program fewer to compile). The time itself
is measured by benchmarks/pages.py: these tests assert the order, which could be otherwise.
The first frame's screenshot goes to tests/browser/artifacts/ and docs/img/first-frame.png."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests

from tests.browser.test_pages import _poll

pytestmark = pytest.mark.parametrize("portal", ["gpkg"], indirect=True)

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
# the page's own marks: the Map created, its first complete frame ("load")
MARKS_INIT = """
document.addEventListener('portal:map', function (e) {
  performance.mark('test:map');
  e.detail.once('load', function () { performance.mark('test:load'); });
});
"""
FIRST_FRAME = ("() => !!window.portalMap && !!window.portalMap.getLayer('basemap-oblasts-0') &&"
               " window.portalMap.queryRenderedFeatures({layers: ['basemap-oblasts-0']})"
               ".length > 0")


def _timeline(page) -> dict[str, object]:
    """The marks and, per path (query left out), the first request's start and initiator."""
    return page.evaluate("""() => {
      const out = {marks: {}, res: {}};
      performance.getEntriesByType('mark').forEach(m => { out.marks[m.name] = m.startTime; });
      performance.getEntriesByType('resource').forEach(r => {
        const path = new URL(r.name).pathname;
        if (!(path in out.res)) out.res[path] = [r.startTime, r.initiatorType];
      });
      return out;
    }""")


def test_the_style_is_preloaded_and_the_panel_waits_for_the_first_frame(site, portal):
    page = site.page
    page.add_init_script(MARKS_INIT)
    html = requests.get(f"{portal.url}/", headers={"Accept": "text/html"}, timeout=30).text
    head = html.split("</head>")[0]
    assert '<link rel="preload" href="/portal/style.json" as="fetch" crossorigin' in head
    assert 'rel="preload"' in head and "maplibre-gl." in head.split('as="script"')[0]

    page.goto(f"{portal.url}/")
    _poll(page, FIRST_FRAME)
    path = site.shot("first-frame")
    DOCS_IMG.mkdir(exist_ok=True)
    shutil.copyfile(path, DOCS_IMG / "first-frame.png")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#results .result").count() >= 1  # the panel did fill
    page.wait_for_selector("#region-map svg")  # (a resource's entry comes with its answer)

    styles = [url for url in site.requests if "/portal/style.json" in url]
    assert len(styles) == 1, styles  # MapLibre took the preloaded answer
    seen = _timeline(page)
    marks, res = seen["marks"], seen["res"]
    assert res["/portal/style.json"][1] == "link"  # fetched by the head's <link rel=preload>
    map_made, loaded = marks["test:map"], marks["test:load"]
    assert res["/portal/style.json"][0] < map_made  # before the Map's WebGL set-up
    assert res["/portal/registry.json"][0] >= map_made  # asked for right after the Map...
    assert res["/portal/registry.json"][0] < loaded  # ...not after its frame
    # the panel's work: after the frame, or 3 s after the Map when the frame is that late
    # (a loaded machine: the bound the page keeps)
    for later in ("/portal/regions.svg", "/collections/catalog/items"):
        assert res[later][0] >= min(loaded, map_made + 3000), (later, res[later], marks)
    assert site.failed == [] and site.errors == []


def test_the_basemap_fill_compiles_no_outline_program(portal):
    style = requests.get(f"{portal.url}/portal/style.json", timeout=30).json()
    fills = [layer for layer in style["layers"] if layer["type"] == "fill"]
    assert fills and all(layer["paint"]["fill-antialias"] is False for layer in fills)


def test_the_panel_fills_when_the_map_cannot_draw(site, portal):
    """The wait for the map's frame is bounded: a style that fails leaves a map without a
    frame, and the panel still fills (after the 3 s bound) with the search working."""
    page = site.page
    page.route("**/portal/style.json", lambda route: route.fulfill(
        status=503, content_type="application/json", body='{"description": "down"}'))
    page.goto(f"{portal.url}/")
    page.wait_for_selector("body[data-ready=true]", timeout=15_000)
    assert page.locator("#results .result").count() >= 1
    assert page.evaluate("() => window.portalMap.loaded()") is False  # no frame was drawn
    assert page.locator("#region-map svg").count() == 1
