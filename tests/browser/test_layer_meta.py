"""The layer metadata the viewer reads (issue 19, the server's part) seen in a real Chromium:
a raion clicked on the Russian page is headed by its Russian name (the manifest's
``title_field``) and its fields carry the manifest's Russian titles; on the English page the
English ones. The screenshot goes to docs/img/layer-meta-ru.png for docs/viewer.md."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_pages import _ready, _wait_rendered

pytestmark = pytest.mark.parametrize("portal", ["gpkg"], indirect=True)

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
ORSHA = (30.4258, 54.5092)  # inside Orsha raion


def _click_at(page, lon_lat) -> None:
    """A person's click on the map at a longitude/latitude."""
    point = page.evaluate("ll => window.portalMap.project(ll)", list(lon_lat))
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def test_a_raion_is_headed_by_its_name_with_titles_in_the_page_language(site, portal):
    page = site.page
    lon, lat = ORSHA
    _ready(site, portal, f"#map=8.00/{lat:.5f}/{lon:.5f}&layers=raions&lang=ru")
    _wait_rendered(page, ["raions-fill"])
    _click_at(page, ORSHA)
    heading = page.locator("#identify h2")
    expect(heading).to_have_text("Оршанский район")
    soato = page.locator("#identify tr[data-field='soato'] th")
    expect(soato).to_have_text("Код СОАТО района")
    expect(page.locator("#identify tr[data-field='name_en'] th")).to_have_text(
        "Название на английском")
    path = site.shot("raion-ru")
    DOCS_IMG.mkdir(exist_ok=True)
    shutil.copyfile(path, DOCS_IMG / "layer-meta-ru.png")
    page.click("[data-lang=en]")
    expect(heading).to_have_text("Orsha District")
    expect(soato).to_have_text("Raion SOATO code")
    assert site.failed == [] and site.errors == []
