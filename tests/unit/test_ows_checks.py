"""The WMS and WFS parameters checked before the map engine sees them
(geoportal/server/ows/checks.py)."""

from __future__ import annotations

import pytest

from geoportal.server.ows.checks import check_bbox, check_resolution, epsg
from geoportal.server.ows.kvp import OgcError, Params


def _params(**values: str) -> Params:
    return Params.parse(values.items())


@pytest.mark.parametrize("crs, code", [
    ("EPSG:28405", "EPSG:28405"), ("urn:ogc:def:crs:EPSG::4326", "EPSG:4326"),
    ("http://www.opengis.net/def/crs/EPSG/0/32635", "EPSG:32635"),
    ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", "CRS:84"), ("CRS:84", "CRS:84"),
    ("EPSG:4326x", "EPSG:4326x"),
])
def test_epsg_reads_every_form_of_a_crs(crs, code):
    assert epsg(crs) == code


@pytest.mark.parametrize("bbox, problem", [
    ("53,27,54,28", None), ("53,27,54,28,urn:ogc:def:crs:EPSG::4326", None),
    ("5900000,4400000,6000000,4600000,EPSG:28404", None),
    ("a,b,c,d", "four numbers"), ("1,2,3", "four numbers"), ("nan,1,2,3", "four numbers"),
    ("1,2,3,4,5,6", "four numbers"), ("54,27,53,28", "lower corner"),
    ("53,27,54,28,EPSG:999999", "not offered"),
])
def test_a_wfs_bbox_is_four_numbers_lower_corner_first_in_an_offered_crs(bbox, problem):
    if problem is None:
        check_bbox(_params(BBOX=bbox))
        return
    with pytest.raises(OgcError) as refused:
        check_bbox(_params(BBOX=bbox))
    assert refused.value.locator == "bbox" and problem in refused.value.user_message("en")


@pytest.mark.parametrize("values, locator", [
    ({"DPI": "300", "MAP_RESOLUTION": "300", "FORMAT_OPTIONS": "dpi:300"}, None),
    ({"FORMAT_OPTIONS": "antialias:full"}, None),
    ({"DPI": "5"}, "dpi"), ({"MAP_RESOLUTION": "abc"}, "map_resolution"),
    ({"FORMAT_OPTIONS": "antialias:full;dpi:100000"}, "format_options"),
    ({"DPI": "nan"}, "dpi"),
])
def test_resolutions_stay_within_the_engines_range(values, locator):
    if locator is None:
        check_resolution(_params(**values))
        return
    with pytest.raises(OgcError) as refused:
        check_resolution(_params(**values))
    assert refused.value.locator == locator
