"""OGC API - Records: the catalog collection on the real server (both stores), read with
OWSLib and plain HTTP: full-text search in three languages with folding, region and theme
filters, bbox, datetime, sorting, languages and HTML."""

from __future__ import annotations

import requests
from owslib.ogcapi.records import Records


def _search(portal, **params: str) -> dict:
    r = requests.get(f"{portal.url}/collections/catalog/items",
                     params={"f": "json", **params}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _ids(body: dict) -> list[str]:
    return [f["id"] for f in body["features"]]


def test_owslib_finds_the_catalog_and_its_records(portal):
    api = Records(portal.url)
    assert api.records() == ["catalog"]
    found = api.collection_items("catalog", q="railway")
    assert [f["id"] for f in found["features"]] == ["railway-stations"]
    record = api.collection_item("catalog", "raions")
    props = record["properties"]
    assert props["type"] == "dataset" and props["theme"] and props["features"] == 118
    assert props["lineage"]["sourceCrs"] and len(props["lineage"]["sha256"]) == 64
    assert any(f["title"] for f in props["fields"])
    rels = {link["rel"] for link in record["links"]}
    assert {"collection", "items", "enclosure",
            "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"} <= rels


def test_every_published_layer_has_a_record(portal):
    collections = requests.get(f"{portal.url}/collections", params={"f": "json"},
                               timeout=30).json()["collections"]
    served = {c["id"] for c in collections} - {"catalog"}
    everything = set(_ids(_search(portal, limit="100")))
    assert served == everything  # features and rasters alike
    assert {"night-lights-2024", "night-lights-2013"} <= served
    record = requests.get(f"{portal.url}/collections/catalog/items/night-lights-2024",
                          params={"f": "json"}, timeout=30).json()
    rels = {link["rel"] for link in record["links"]}
    assert {"http://www.opengis.net/def/rel/ogc/1.0/coverage",
            "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map", "enclosure"} <= rels
    assert "items" not in rels


def test_q_searches_three_languages_with_folding(portal):
    # the railway layer in Belarusian, Russian and English, and the Belarusian і / ў folded
    for words in ("чыгуначныя", "железнодорожные", "RAILWAY"):
        assert "railway-stations" in _ids(_search(portal, q=words)), words
    # Belarusian прыпынкі typed on a Russian keyboard (и for і)
    assert "minsk-stops" in _ids(_search(portal, q="прыпынки"))
    # every word must match; a word's ending may differ
    assert _ids(_search(portal, q="stops Minsk")) == ["minsk-stops"]
    # the closest first: остановки in a title before остановочные in another
    assert _ids(_search(portal, q="остановки")) == ["minsk-stops", "railway-stations"]
    assert _search(portal, q="zzzz nothing")["numberMatched"] == 0


def test_region_covers_its_children_and_theme_filters(portal):
    minsk = _search(portal, region="5000000000")
    assert _ids(minsk) == ["minsk-stops"]
    country = _search(portal, region="0000000000")
    assert set(_ids(minsk)) < set(_ids(country))
    themed = _search(portal, theme="population")
    assert _ids(themed) and all(f["properties"]["theme"] == "population"
                                for f in themed["features"])


def test_bbox_datetime_and_sorting(portal):
    minsk_box = _search(portal, bbox="27.5,53.85,27.6,53.95")
    assert "minsk-stops" in _ids(minsk_box)
    brest_corner = _search(portal, bbox="23.2,51.3,23.3,51.4")
    assert "minsk-stops" not in _ids(brest_corner)
    assert _search(portal, datetime="2000-01-01/2001-01-01")["numberMatched"] == 0
    assert _search(portal, datetime="2000-01-01/..")["numberMatched"] >= 4
    titles = [f["properties"]["title"] for f in _search(portal, sortby="title")["features"]]
    assert titles == sorted(titles, key=str.lower)
    newest = _search(portal, sortby="-updated")["features"]
    stamps = [f["properties"]["updated"] for f in newest]
    assert stamps == sorted(stamps, reverse=True)


def test_records_speak_the_asked_language(portal):
    for lang, title in (("be", "Прыпынкі"), ("ru", "Остановки"), ("en", "stops")):
        body = _search(portal, q="minsk-stops", lang=lang)
        assert title in body["features"][0]["properties"]["title"], lang
    by_header = requests.get(f"{portal.url}/collections/catalog/items/minsk-stops",
                             params={"f": "json"}, headers={"Accept-Language": "ru"},
                             timeout=30).json()
    assert by_header["properties"]["regionName"] == "Минск"


def test_html_pages_and_a_missing_record(portal):
    for path in ("collections/catalog/items", "collections/catalog/items/raions",
                 "collections/catalog"):
        r = requests.get(f"{portal.url}/{path}", params={"f": "html"}, timeout=30)
        assert r.status_code == 200 and "<html" in r.text.lower(), path
    missing = requests.get(f"{portal.url}/collections/catalog/items/nope",
                           params={"f": "json"}, timeout=30)
    assert missing.status_code == 404
