"""The layer card in a real Chromium (issue 19): on the HTML collection page the "Copy"
button puts the OGC API - Features URL on the clipboard, and GDAL opens what was copied; a
screenshot of the page goes to tests/browser/artifacts/ (and docs/img/ for the docs)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Watched
from tests.conftest import require_tool

pytestmark = pytest.mark.parametrize("portal", ["gpkg"], indirect=True)

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.fixture
def clipboard_site(browser, request) -> Iterator[Watched]:
    """A desktop browser context allowed to read and write the clipboard (as a person's
    browser asks them the first time a page copies)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US",
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield Watched(page, request.node.name.replace("[", "-").replace("]", ""))
    context.close()


def test_the_copy_button_puts_the_features_url_on_the_clipboard(clipboard_site, portal):
    site = clipboard_site
    site.page.goto(f"{portal.url}/collections/railway-stations?f=html")
    site.page.evaluate("navigator.clipboard.writeText('nothing yet')")
    shown = site.page.inner_text("#url-features")
    assert shown == f"{portal.url}/collections/railway-stations"
    site.page.click("button[data-copy=url-features]")
    # expect() polls without compiling a string, which the page's CSP (no unsafe-eval) forbids
    expect(site.page.locator("#url-features ~ .copied")).to_have_text("Copied")
    copied = site.page.evaluate("navigator.clipboard.readText()")
    assert copied == shown
    site.page.locator("#h-gis").scroll_into_view_if_needed()
    path = site.shot("copied")
    DOCS_IMG.mkdir(exist_ok=True)
    shutil.copyfile(path, DOCS_IMG / "layer-card-copy.png")
    assert site.failed == [] and site.errors == []
    # what a GIS specialist then does with it
    ogrinfo = require_tool("ogrinfo")
    result = subprocess.run([ogrinfo, "-ro", "-so", f"OAPIF:{copied}", "railway-stations"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Feature Count:" in result.stdout


def test_the_card_reads_in_russian(clipboard_site, portal):
    site = clipboard_site
    site.page.goto(f"{portal.url}/collections/raions?f=html&lang=ru")
    assert site.page.inner_text("#h-gis") == "Открыть в ГИС-программе"
    site.page.click("button[data-copy=url-tiles]")
    expect(site.page.locator("#url-tiles ~ .copied")).to_have_text("Скопировано")
    assert site.page.evaluate("navigator.clipboard.readText()").endswith(
        "/collections/raions/tiles/WebMercatorQuad?f=tilejson")
    site.page.locator(".layer-facts").scroll_into_view_if_needed()
    path = site.shot("facts-ru")
    shutil.copyfile(path, DOCS_IMG / "layer-card-ru.png")
    assert site.failed == [] and site.errors == []
