"""The numpy hex-EWKB encoder that feeds PostGIS COPY matches GEOS byte for byte."""

from __future__ import annotations

import numpy as np
import shapely

from geoportal.storage.postgis import hex_ewkb


def test_hex_ewkb_equals_geos_for_every_geometry_type():
    geoms = np.array([
        shapely.Point(27.5, 53.9),
        shapely.MultiPoint([(27, 53), (28, 54)]),
        shapely.LineString([(27, 53), (28, 54), (29, 53.5)]),
        shapely.MultiLineString([[(27, 53), (28, 54)], [(29, 53), (30, 54)]]),
        shapely.box(27, 53, 28, 54),
        shapely.MultiPolygon([shapely.box(27, 53, 28, 54), shapely.box(29, 53, 30, 54)]),
        shapely.box(27, 53, 28, 54).difference(shapely.box(27.2, 53.2, 27.4, 53.4)),
    ], dtype=object)
    expected = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True,
                              byte_order=1)
    assert hex_ewkb(geoms, 4326).to_pylist() == list(expected)


def test_hex_ewkb_of_an_empty_batch_is_empty():
    assert len(hex_ewkb(np.array([], dtype=object), 4326)) == 0
