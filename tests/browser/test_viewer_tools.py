"""The viewer's series slider, basemap choice and "Share / embed" dialog in a real Chromium
(issue 19): the slider switches the night-lights years (the opened layer, its raster tiles and
the link follow); "Plain background" hides the portal's basemap layers and a published basemap
layer goes below the user's layers, kept in the link across a reload; the dialog's snippet
embeds /embed with the view, and another site's page that holds the snippet shows the map in
its frame. Screenshots: tests/browser/artifacts/, docs/img/series.png and docs/img/embed.png."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Watched
from tests.browser.test_pages import _poll, _ready

pytestmark = pytest.mark.parametrize("portal", ["gpkg"], indirect=True)

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
VIEW = "#map=6.20/53.70000/27.90000"


def _hash(page, key: str) -> str | None:
    return page.evaluate("k => new URLSearchParams(location.hash.slice(1)).get(k)", key)


def _tiles(page, source: str) -> str | None:
    return page.evaluate("s => { const src = window.portalMap.getStyle().sources[s];"
                         " return src ? src.tiles[0] : null; }", source)


def _map_loaded(page) -> None:
    _poll(page, "() => window.portalMap && window.portalMap.loaded()")


def test_the_series_slider_switches_the_night_lights_years(site, portal):
    page = site.page
    _ready(site, portal, f"{VIEW}&layers=night-lights-2013")
    slider = page.locator(".viewer-series input.series-slider")
    expect(slider).to_be_visible()
    expect(slider).to_have_attribute("aria-valuetext", "2013")
    # named by what the members' titles share
    expect(page.locator(".viewer-series label")).to_have_text(
        "Series: Night-time lights of Belarus")
    _poll(page, "() => !!window.portalMap.getSource('layer-night-lights-2013')")
    assert "/collections/night-lights-2013/map/tiles/" in _tiles(page, "layer-night-lights-2013")
    # the keyboard moves it: 2013 -> 2024
    slider.focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator('#layer-list .layer[data-id="night-lights-2024"]')).to_be_visible()
    expect(page.locator('#layer-list .layer[data-id="night-lights-2013"]')).to_have_count(0)
    assert page.evaluate("() => window.portal.opened()") == ["night-lights-2024"]
    assert _tiles(page, "layer-night-lights-2013") is None
    assert "/collections/night-lights-2024/map/tiles/" in _tiles(page, "layer-night-lights-2024")
    assert _hash(page, "layers") == "night-lights-2024"
    expect(slider).to_have_attribute("aria-valuetext", "2024")
    _map_loaded(page)
    site.shot("series-2024")
    shutil.copyfile(site.shot("series"), _docs("series.png"))
    # and back by its label, the opacity chosen for 2024 kept on 2013
    page.locator('#layer-list .layer[data-id="night-lights-2024"] input[type=range]').fill("0.5")
    page.locator(".series-tick", has_text="2013").click()
    expect(page.locator('#layer-list .layer[data-id="night-lights-2013"]')).to_be_visible()
    expect(page.locator('#layer-list .layer[data-id="night-lights-2024"]')).to_have_count(0)
    assert page.evaluate("() => window.portalMap.getPaintProperty("
                         "'night-lights-2013-raster', 'raster-opacity')") == 0.5
    assert _hash(page, "layers") == "night-lights-2013"
    assert site.errors == []


def test_no_slider_without_a_series_on_the_map(site, portal):
    page = site.page
    _ready(site, portal, f"{VIEW}&layers=raions")
    _map_loaded(page)
    expect(page.locator(".viewer-series")).to_be_hidden()
    assert site.errors == []


def test_the_basemap_choice_is_kept_in_the_link(site, portal):
    page = site.page
    _ready(site, portal, f"{VIEW}&layers=raions")
    _map_loaded(page)
    select = page.get_by_label("Basemap")
    expect(select).to_be_visible()
    assert page.evaluate("() => window.portalMap.getLayoutProperty('basemap-oblasts-0',"
                         " 'visibility')") in (None, "visible")
    # a plain background: the portal's basemap layers hidden, the user's layer still drawn
    select.select_option("plain")
    hidden = page.evaluate("() => window.portalMap.getStyle().layers.filter(l => l.metadata &&"
                           " l.metadata.basemap).map(l => window.portalMap.getLayoutProperty("
                           "l.id, 'visibility'))")
    assert len(hidden) >= 4 and set(hidden) == {"none"}, hidden
    assert page.evaluate("() => window.portalMap.getLayoutProperty('raions-fill',"
                         " 'visibility')") == "visible"
    assert _hash(page, "base") == "plain"
    # night lights as the basemap: a raster source below the user's layers
    options = select.locator("option").all_inner_texts()
    assert "Portal map" in options and "Plain background" in options
    select.select_option("night-lights-2024")
    assert "/collections/night-lights-2024/map/tiles/" in _tiles(
        page, "viewer-base-night-lights-2024")
    order = page.evaluate("() => window.portalMap.getStyle().layers.map(l => l.id)")
    assert order.index("viewer-base-night-lights-2024") < order.index("raions-fill")
    assert order.index("viewer-base-night-lights-2024") == 1  # just above the background
    assert _hash(page, "base") == "night-lights-2024"
    # a reload restores it
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.get_by_label("Basemap")).to_have_value("night-lights-2024")
    _poll(page, "() => !!window.portalMap.getSource('viewer-base-night-lights-2024')")
    assert page.evaluate("() => window.portalMap.getLayoutProperty('basemap-oblasts-0',"
                         " 'visibility')") == "none"
    assert page.evaluate("() => window.portal.opened()") == ["raions"]
    _map_loaded(page)
    site.shot("night-lights-base")
    # back to the portal map: the extra source gone, the link clean
    page.get_by_label("Basemap").select_option("portal")
    assert _tiles(page, "viewer-base-night-lights-2024") is None
    assert page.evaluate("() => window.portalMap.getLayoutProperty('basemap-oblasts-0',"
                         " 'visibility')") == "visible"
    assert _hash(page, "base") is None
    assert site.errors == []


def test_a_basemap_that_is_gone_is_said(site, portal):
    page = site.page
    _ready(site, portal, f"{VIEW}&base=no-such-base")
    expect(page.locator("#notices .notice-text")).to_contain_text("no-such-base")
    expect(page.get_by_label("Basemap")).to_have_value("portal")
    assert _hash(page, "base") is None
    # the controls speak the page's language
    page.click("[data-lang=be]")
    expect(page.get_by_label("Падкладка")).to_be_visible()
    assert "Просты фон" in page.get_by_label("Падкладка").locator("option").all_inner_texts()
    expect(page.get_by_role("button", name="Падзяліцца / убудаваць")).to_be_visible()
    assert site.errors == []


@pytest.fixture
def clipboard_site(browser, request) -> Iterator[Watched]:
    """A desktop context allowed to use the clipboard (as a person's browser asks them)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US",
                                  bypass_csp=True,
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield Watched(page, request.node.name.replace("[", "-").replace("]", ""))
    context.close()


def test_the_embed_dialog_gives_a_snippet_that_shows_the_map(clipboard_site, browser, portal):
    site = clipboard_site
    page = site.page
    _ready(site, portal, f"{VIEW}&layers=raions")
    _map_loaded(page)
    opener = page.get_by_role("button", name="Share / embed")
    opener.click()
    dialog = page.locator("dialog#share-dialog")
    expect(dialog).to_be_visible()
    link = page.locator("#share-link").input_value()
    snippet = page.locator("#share-embed").input_value()
    view = _hash(page, "map")
    assert link.startswith(f"{portal.url}/#map=") and "layers=raions" in link
    assert snippet.startswith(f'<iframe src="{portal.url}/embed#map={view}&amp;layers=raions')
    assert 'width="100%" height="450"' in snippet and 'loading="lazy"' in snippet
    assert 'title="Map of the Geoportal of Belarus"' in snippet
    page.locator("button[data-copy=share-embed]").click()
    expect(page.locator("#share-embed ~ .share-actions .copied")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    shutil.copyfile(site.shot("dialog"), _docs("embed.png"))
    # Escape closes it and the focus is back on the button
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    assert site.errors == []
    # another site's page holding the snippet, under the embed page's own CSP (no bypass);
    # only that page is made up, the frame is the real server's
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    host = Watched(context.new_page(), "embedded")
    host.page.set_default_timeout(20_000)
    src = snippet.split('src="')[1].split('"')[0].replace("&amp;", "&")
    with _other_site(f"<!doctype html><title>Town</title><h1>A municipal site</h1>{snippet}"
                     ) as other:
        host.page.goto(other)
        _framed(host, portal, src)
    context.close()
    assert host.errors == [], host.errors
    assert [f for f in host.failed if "/embed" in f] == []
    # the frame has no panel, so it asks for no catalog search and no region map
    assert not [r for r in host.requests if "/collections/catalog/items" in r
                or "/portal/regions" in r], host.requests


@contextmanager
def _other_site(html: str) -> Iterator[str]:
    """A page of another origin (its own port on 127.0.0.1: an http page, which CSP's * matches
    where about:blank is not, and on the loopback like the portal, which Chromium's local
    network checks require) that holds ``html``; yields its URL."""
    body = html.encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/town-map.html"
    finally:
        server.shutdown()
        server.server_close()


def _framed(host: Watched, portal, src: str) -> None:
    """The map in the other site's frame: drawn, the view's layer on it, no portal chrome."""
    frame = host.page.frame_locator("iframe")
    expect(frame.locator("canvas.maplibregl-canvas")).to_be_visible()
    expect(frame.locator("body")).to_have_attribute("data-ready", "true")
    expect(frame.locator("#panel")).to_be_hidden()
    expect(frame.locator("header.top")).to_have_count(0)
    out = frame.locator("a.embed-open")
    expect(out).to_have_text("Open in the portal")
    assert out.get_attribute("href").startswith(f"{portal.url}/#map=")
    inner = host.page.frames[1]
    assert inner.url == src
    _poll(inner, "() => window.portal.opened().join() === 'raions'")
    _poll(inner, "() => window.portalMap.loaded() && window.portalMap.queryRenderedFeatures("
                 "{layers: ['raions-fill']}).length > 0")
    host.shot("framed")


def _docs(name: str) -> Path:
    DOCS_IMG.mkdir(exist_ok=True)
    return DOCS_IMG / name
