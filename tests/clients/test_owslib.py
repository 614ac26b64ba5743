"""OWSLib, as a Python GIS user would drive it, against the real server."""

from __future__ import annotations

from owslib.ogcapi.features import Features


def test_owslib_lists_collections_and_reads_items(portal):
    api = Features(portal.url)
    ids = {c["id"] for c in api.collections()["collections"]}
    assert {"oblasts", "raions", "cities", "railway-stations", "minsk-stops"} <= ids
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in \
        api.conformance()["conformsTo"]
    oblasts = api.collection_items("oblasts", limit=10)
    assert oblasts["numberMatched"] == 7
    assert {f["properties"]["name_en"] for f in oblasts["features"]} >= {"Brest Oblast",
                                                                         "Minsk City"}


def test_owslib_reads_one_feature_and_queryables(portal):
    api = Features(portal.url)
    feature = api.collection_item("cities", "1")
    assert feature["type"] == "Feature" and feature["id"] == 1
    queryables = api.collection_queryables("cities")
    assert "name_ru" in queryables["properties"]
