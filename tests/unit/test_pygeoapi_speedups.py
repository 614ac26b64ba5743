"""The cached bbox transformation gives pygeoapi's results."""

from __future__ import annotations

import pytest
from pygeoapi.crs import transform_bbox as original

from geoportal.server.pygeoapi_speedups import transform_bbox

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


@pytest.mark.parametrize(("source", "target"), [
    (CRS84, CRS84),
    (f"{EPSG}4326", CRS84),
    (f"{EPSG}28405", CRS84),
    (f"{EPSG}32635", CRS84),
    (CRS84, f"{EPSG}3857"),
])
def test_same_result_as_pygeoapi(source, target):
    bbox = {CRS84: [27.4, 53.8, 27.7, 54.0], f"{EPSG}4326": [53.8, 27.4, 54.0, 27.7],
            f"{EPSG}28405": [5490000, 5960000, 5510000, 5980000],
            f"{EPSG}32635": [560000, 5960000, 580000, 5980000]}[source]
    assert transform_bbox(bbox, source, target) == pytest.approx(original(bbox, source, target))
