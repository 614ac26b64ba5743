"""Reading OGC API - Coverages parameters: axis names per CRS, subsets, scaling, bands."""

from __future__ import annotations

import pytest

from geoportal.errors import InputError
from geoportal.server.coverage_params import axis_labels, crs_uri, parse_query
from geoportal.server.pygeoapi_config import SUPPORTED_CRS

NAMES = ["band1", "band2", "band3"]


def _parse(native: str = "EPSG:4326", subsets: tuple[str, ...] = (), **args: str):
    return parse_query(args, list(subsets), native=native, band_names=NAMES,
                       supported=SUPPORTED_CRS)


def test_axis_names_follow_the_crs():
    assert axis_labels("EPSG:4326") == ("Lon", "Lat")
    assert axis_labels("EPSG:32635") == ("E", "N")
    assert crs_uri("EPSG:4326") == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert crs_uri("EPSG:32635") == "http://www.opengis.net/def/crs/EPSG/0/32635"


def test_subset_in_any_order_with_aliases_and_open_ends():
    q = _parse(subsets=("Lat(53.7:54.1),Lon(27.3:27.8)",))
    assert q.bounds == (27.3, 53.7, 27.8, 54.1) and q.bounds_crs is None
    q = _parse(subsets=("long(27.3:27.8)", "y(53.7:*)"))
    assert q.bounds[:3] == (27.3, 53.7, 27.8) and q.bounds[3] >= 1e15
    q = _parse("EPSG:32635", subsets=("E(500000:510000)",))
    assert q.bounds[0] == 500000 and q.bounds[2] == 510000 and q.bounds[1] <= -1e15


def test_a_slice_is_a_point_interval():
    assert _parse(subsets=("Lon(27.5),Lat(53.9)",)).bounds == (27.5, 53.9, 27.5, 53.9)


def test_bbox_crs_in_latitude_order_is_swapped():
    q = _parse(bbox="53.7,27.3,54.1,27.8", **{"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"})
    assert q.bounds == (27.3, 53.7, 27.8, 54.1) and q.bounds_crs == "EPSG:4326"
    assert _parse(bbox="27.3,53.7,27.8,54.1").bounds_crs == "OGC:CRS84"


def test_scaling_and_bands():
    assert _parse(**{"scale-size": "Lat(100),Lon(200)"}).size == (200, 100)
    assert _parse(scaleSize="Lon(256),Lat(256)").size == (256, 256)  # GDAL 3.6's spelling
    assert _parse(**{"scale-factor": "2.5"}).factor == (2.5, 2.5)
    assert _parse(**{"scale-axes": "Lat(2)"}).factor == (1.0, 2.0)
    assert _parse(properties="band3,1").bands == (3, 1)


def test_exact_grid_only_with_both_ends_and_both_sizes():
    full = {"scale-size": "Lon(256),Lat(256)"}
    assert _parse(subsets=("Lon(27:28),Lat(53:54)",), **full).exact
    assert not _parse(subsets=("Lon(27:28)",), **full).exact
    assert not _parse(subsets=("Lon(27:28),Lat(53:54)",), **{"scale-size": "Lon(256)"}).exact
    assert not _parse(subsets=("Lon(27:28),Lat(53:54)",), crs="EPSG:3857", **full).exact


@pytest.mark.parametrize(("subsets", "args", "message"), [
    (("Lat(54:53)",), {}, "low end"),
    (("Lat(53:54:55)",), {}, "low:high"),
    (("Lat(53:54),Lat(53:54)",), {}, "twice"),
    (("Time(2020:2021)",), {}, "unknown axis"),
    (("Lat 53:54",), {}, "expected terms"),
    (("Lat(a:b)",), {}, "not a number"),
    (("Lat(nan:54)",), {}, "finite"),
    (("Lat(53:*)",), {"subset-crs": "EPSG:3857"}, "both ends"),
    ((), {"bbox": "1,2,3"}, "four numbers"),
    ((), {"bbox": "3,2,1,4"}, "lower corner"),
    ((), {"scale-size": "Lon(1.5)"}, "whole number"),
    ((), {"scale-factor": "0"}, "above 0"),
    ((), {"scale-axes": "Lat(-1)"}, "above 0"),
    ((), {"scale-factor": "2", "scale-axes": "Lat(2)"}, "use one of"),
    ((), {"properties": "band4"}, "band1, band2, band3"),
    ((), {"properties": ","}, "at least one"),
    ((), {"crs": "EPSG:2180"}, "not offered"),
])
def test_mistakes_name_the_parameter(subsets, args, message):
    with pytest.raises(InputError, match=message):
        _parse(subsets=subsets, **args)
