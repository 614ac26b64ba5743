"""Pages of geometries as GeoJSON: the same objects shapely's ``mapping`` gives, for every type,
for mixed pages, and for missing and empty geometries."""

from __future__ import annotations

import json

import pytest
import shapely
from shapely.geometry import mapping

from geoportal.providers.geojson import to_geojson_geometries

SAMPLES = {
    "Point": ["POINT (27.5 53.9)", "POINT (30.1 55.2)"],
    "LineString": ["LINESTRING (27 53, 27.1 53.1, 27.2 53)", "LINESTRING (28 54, 28.5 54.5)"],
    "Polygon": ["POLYGON ((27 53, 28 53, 28 54, 27 54, 27 53), "
                "(27.2 53.2, 27.4 53.2, 27.4 53.4, 27.2 53.2))",
                "POLYGON ((30 52, 31 52, 31 53, 30 52))"],
    "MultiPoint": ["MULTIPOINT ((27 53), (28 54), (29 55))", "MULTIPOINT ((24 52))"],
    "MultiLineString": ["MULTILINESTRING ((27 53, 28 54), (29 55, 30 55, 30 56))",
                        "MULTILINESTRING ((24 52, 25 52))"],
    "MultiPolygon": ["MULTIPOLYGON (((27 53, 28 53, 28 54, 27 53)), "
                     "((29 53, 30 53, 30 54, 29 54, 29 53), (29.2 53.2, 29.4 53.2, 29.4 53.4, "
                     "29.2 53.2)))", "MULTIPOLYGON (((24 52, 25 52, 25 53, 24 52)))"],
}


def _same(geoms) -> None:
    expected = [mapping(g) if g is not None and not g.is_empty else None for g in geoms]
    assert json.dumps(to_geojson_geometries(geoms)) == json.dumps(expected)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_one_type_per_page_matches_mapping(kind):
    geoms = [shapely.from_wkt(w) for w in SAMPLES[kind]] * 3
    _same(geoms)
    assert to_geojson_geometries(geoms)[0]["type"] == kind


def test_mixed_missing_and_empty_geometries():
    geoms = [shapely.from_wkt(SAMPLES["Point"][0]), None,
             shapely.from_wkt(SAMPLES["MultiPolygon"][1]), shapely.from_wkt("POLYGON EMPTY"),
             shapely.from_wkt("GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1 1))")]
    _same(geoms)
    assert to_geojson_geometries(geoms)[1] is None
    assert to_geojson_geometries(geoms)[3] is None


def test_missing_only_and_nothing():
    assert to_geojson_geometries([None, None]) == [None, None]
    assert to_geojson_geometries([]) == []


def test_z_is_dropped_like_the_store_does():
    out = to_geojson_geometries([shapely.from_wkt("POINT Z (27 53 120)")] * 2)
    assert out[0] == {"type": "Point", "coordinates": [27.0, 53.0]}
