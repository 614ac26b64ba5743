"""Geometries as GeoJSON geometry objects, a page at a time.

``shapely.geometry.mapping`` walks every coordinate in Python; on a page of 100 buildings that
was a quarter of a request's time. A page of one layer usually holds one geometry type (the ETL
stores single parts as Multi*), so its coordinates come out of GEOS in one ragged array and are
only sliced into nested lists here. Anything else (mixed types, collections, empties) falls back
to ``mapping``, geometry by geometry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

__all__ = ["to_geojson_geometries"]

_NAMES = {
    shapely.GeometryType.POINT: "Point",
    shapely.GeometryType.LINESTRING: "LineString",
    shapely.GeometryType.POLYGON: "Polygon",
    shapely.GeometryType.MULTIPOINT: "MultiPoint",
    shapely.GeometryType.MULTILINESTRING: "MultiLineString",
    shapely.GeometryType.MULTIPOLYGON: "MultiPolygon",
}


def to_geojson_geometries(geoms: Sequence[shapely.Geometry | None]) -> list[dict[str, Any] | None]:
    """One GeoJSON geometry dict (or None) per geometry, in order."""
    out: list[dict[str, Any] | None] = [None] * len(geoms)
    array = np.asarray(geoms, dtype=object)
    present = np.flatnonzero(~shapely.is_missing(array) & ~shapely.is_empty(array))
    if present.size == 0:
        return out
    kinds = shapely.get_type_id(array[present])
    if np.all(kinds == kinds[0]) and int(kinds[0]) in _NAMES:
        try:
            nested = _ragged(array[present], _NAMES[int(kinds[0])])
        except (ValueError, shapely.errors.GEOSException):
            nested = None
        if nested is not None:
            for i, geometry in zip(present.tolist(), nested, strict=True):
                out[i] = geometry
            return out
    for i in present.tolist():
        out[i] = mapping(array[i])
    return out


def _ragged(geoms: np.ndarray, name: str) -> list[dict[str, Any]]:
    _, coords, offsets = shapely.to_ragged_array(geoms)
    if coords.shape[1] > 2:
        coords = coords[:, :2]
    parts: list[Any] = coords.tolist()
    # offsets go from the innermost level (into coordinates) to the outermost (per geometry)
    for level in offsets[:-1] if name != "Point" else ():
        bounds = level.tolist()
        parts = [parts[bounds[k]:bounds[k + 1]] for k in range(len(bounds) - 1)]
    if name == "Point":
        return [{"type": name, "coordinates": p} for p in parts]
    if name in ("LineString", "MultiPoint"):
        bounds = offsets[0].tolist()
        return [{"type": name, "coordinates": parts[bounds[k]:bounds[k + 1]]}
                for k in range(len(bounds) - 1)]
    bounds = offsets[-1].tolist()
    return [{"type": name, "coordinates": parts[bounds[k]:bounds[k + 1]]}
            for k in range(len(bounds) - 1)]
