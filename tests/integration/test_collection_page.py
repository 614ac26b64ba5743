"""The layer card (issue 19) on a real server: the HTML collection page shows the feature
count, the dates, the CRSs by name and the URLs a GIS program is given; the JSON description
carries the same facts as ``attribution`` and ``geoportal:*`` members; the viewer's registry
JSON has them per layer; the contact comes from the settings and no placeholder contact is
left anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
import requests

from tests.conftest import Portal

RAIONS = "raions"
RASTER = "night-lights-2024"
EMAIL = "geoportal-desk@example.by"


def _json(portal: Portal, path: str, **params: str) -> dict:
    response = requests.get(f"{portal.url}{path}", params={"f": "json", **params}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _html(portal: Portal, path: str, **params: str) -> str:
    response = requests.get(f"{portal.url}{path}", params={"f": "html", **params}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    return response.text


def test_the_json_description_carries_the_card_facts(portal):
    doc = _json(portal, f"/collections/{RAIONS}")
    items = _json(portal, f"/collections/{RAIONS}/items", limit="1")
    assert doc["geoportal:featureCount"] == items["numberMatched"] == 118
    assert doc["geoportal:geometryType"] == "MultiPolygon"
    updated = datetime.fromisoformat(doc["geoportal:updated"])
    assert updated >= datetime.fromisoformat(doc["geoportal:published"])
    names = doc["geoportal:crsNames"]
    assert set(names) == set(doc["crs"])  # every CRS offered, by name
    assert names["http://www.opengis.net/def/crs/EPSG/0/28405"] == \
        "Pulkovo 1942 / Gauss-Kruger zone 5"
    assert names["http://www.opengis.net/def/crs/EPSG/0/32635"] == "WGS 84 / UTM zone 35N"
    urls = doc["geoportal:urls"]
    assert urls["features"] == f"{portal.url}/collections/{RAIONS}"  # what GDAL opens
    assert urls["items"] == f"{portal.url}/collections/{RAIONS}/items"
    tilejson = requests.get(urls["tiles"], timeout=30).json()
    assert tilejson["tilejson"].startswith("3.") and tilejson["tiles"]
    # the licence stays the standard link; the manifest's attribution a standard member
    license_links = [link for link in doc["links"] if link["rel"] == "license"]
    assert doc["geoportal:license"] == "ODbL-1.0" in license_links[0]["href"]
    assert doc["attribution"].startswith("geoBoundaries")
    assert not any(value is None for value in doc.values())
    # the listing carries the same description as the collection itself
    listing = _json(portal, "/collections", limit="1000")
    listed = next(c for c in listing["collections"] if c["id"] == RAIONS)
    assert listed == doc


def test_a_raster_description_gives_the_coverages_url(portal):
    doc = _json(portal, f"/collections/{RASTER}")
    urls = doc["geoportal:urls"]
    assert set(urls) == {"coverages", "tiles"}
    assert "geoportal:featureCount" not in doc
    head = requests.get(urls["coverages"], params={"f": "json", "bbox": "27.5,53.85,27.6,53.95"},
                        timeout=60)
    assert head.status_code == 200
    assert doc["geoportal:crsNames"][doc["storageCrs"]]  # its own CRS named too


def test_the_html_page_shows_count_dates_crs_names_and_urls(portal):
    page = _html(portal, f"/collections/{RAIONS}")
    doc = _json(portal, f"/collections/{RAIONS}")
    assert re.search(r'class="feature-count">118<', page)
    assert f'datetime="{doc["geoportal:updated"]}"' in page
    assert doc["geoportal:updated"][:10] in page
    assert "Pulkovo 1942 / Gauss-Kruger zone 5" in page and "WGS 84 / UTM zone 35N" in page
    assert f'id="url-features">{portal.url}/collections/{RAIONS}<' in page
    assert f'id="url-items">{portal.url}/collections/{RAIONS}/items<' in page
    assert f"ogrinfo OAPIF:{portal.url}/collections/{RAIONS}<" in page
    assert 'id="url-tiles"' in page and "WebMercatorQuad?f=tilejson" in page
    assert "ArcGIS Pro: Insert &gt; Connections &gt; New OGC API Server" in page
    assert page.count('class="button copy-url"') == 3
    assert "/static/js/collection.js" in page


def test_the_html_page_speaks_the_readers_language(portal):
    ru = _html(portal, f"/collections/{RAIONS}", lang="ru")
    assert "Открыть в ГИС-программе" in ru and "Копировать" in ru and "Объекты" in ru
    be = _html(portal, f"/collections/{RAIONS}", lang="be")
    assert "Адкрыць у ГІС-праграме" in be and "Скапіяваць" in be


def test_a_raster_page_offers_the_coverages_url(portal):
    page = _html(portal, f"/collections/{RASTER}")
    assert f'id="url-coverages">{portal.url}/collections/{RASTER}/coverage<' in page
    assert f"OGCAPI:{portal.url}/collections/{RASTER}<" in page
    assert 'id="url-features"' not in page


def test_each_layer_has_a_card_and_the_registry_names_the_crss(portal):
    registry = requests.get(f"{portal.url}/portal/registry.json", timeout=30).json()
    card = requests.get(f"{portal.url}/portal/cards/{RAIONS}.json", timeout=30).json()
    doc = _json(portal, f"/collections/{RAIONS}")
    assert card["feature_count"] == doc["geoportal:featureCount"]
    assert card["updated"] == doc["geoportal:updated"]
    assert card["urls"] == doc["geoportal:urls"]
    assert card["storage_crs"]["name"] == "WGS 84 (CRS84)"
    assert {c["name"] for c in registry["crs"]} >= {"Pulkovo 1942 / Gauss-Kruger zone 5",
                                                  "WGS 84 / UTM zone 35N"}
    raster = requests.get(f"{portal.url}/portal/cards/{RASTER}.json", timeout=30).json()
    assert set(raster["urls"]) == {"coverages", "tiles"}
    assert registry["regions"] and registry["themes"]  # what the page read before
    assert "layers" not in registry  # small at any catalog size
    missing = requests.get(f"{portal.url}/portal/cards/no-such-layer.json", timeout=30)
    assert missing.status_code == 404


def test_no_placeholder_contact_without_settings(portal):
    page = _html(portal, "/collections")
    landing = _json(portal, "/")
    assert "example.invalid" not in page and "Geoportal operators" not in page
    assert 'class="footer-contact"' not in page
    assert "example.invalid" not in _html(portal, "/conformance")
    assert "example.invalid" not in str(landing)


@pytest.fixture(scope="module")
def contact_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """An empty portal whose operator is set by environment variables (SQLite: the contact
    does not depend on the store)."""
    server = Portal(tmp_path_factory.mktemp("contact") / "var")
    server.env.update({"GEOPORTAL_CONTACT_EMAIL": EMAIL,
                       "GEOPORTAL_CONTACT_NAME": "Служба падтрымкі геапартала",
                       "GEOPORTAL_CONTACT_URL": "https://geoportal.example.by/help"})
    server.cli("init")
    server.start()
    yield server
    server.stop()


def test_the_contact_comes_from_the_settings(contact_portal):
    page = _html(contact_portal, "/collections")
    assert f'<a href="mailto:{EMAIL}">{EMAIL}</a>' in page
    assert '<a href="https://geoportal.example.by/help">Служба падтрымкі геапартала</a>' in page
    conformance = _html(contact_portal, "/conformance")  # every pygeoapi page's footer
    assert f"mailto:{EMAIL}" in conformance and "example.invalid" not in conformance


def test_a_wrong_contact_setting_stops_the_server_with_a_sentence(tmp_path):
    server = Portal(tmp_path / "var")
    server.env["GEOPORTAL_CONTACT_EMAIL"] = "not an address"
    result = server.cli("init", check=False)
    assert result.returncode != 0
    assert "contact_email must be an e-mail address" in result.stderr
