"""Geometry checks before publishing: one type family per layer, valid, non-empty, in place."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiLineString, MultiPoint, MultiPolygon

__all__ = ["prepare", "target_type"]

_FAMILY = {
    "Point": "Point", "MultiPoint": "Point",
    "LineString": "Line", "MultiLineString": "Line", "LinearRing": "Line",
    "Polygon": "Polygon", "MultiPolygon": "Polygon",
}
_TARGET = {"Point": "Point", "Line": "MultiLineString", "Polygon": "MultiPolygon"}
_MULTI = {"MultiPoint": MultiPoint, "MultiLineString": MultiLineString,
          "MultiPolygon": MultiPolygon}
_PART_TYPES = {"MultiPoint": "Point", "MultiLineString": "LineString", "MultiPolygon": "Polygon"}


def target_type(declared: str, sample: np.ndarray) -> str:
    """The geometry type to publish: lines and polygons always as Multi*, points as declared.

    Shapefiles call every polygon layer 'Polygon' even with multi-part shapes, so the
    Multi* types are the only ones that hold every feature without loss.
    """
    base = declared.replace(" Z", "").replace(" M", "").replace("25D", "").strip()
    if base == "MultiPoint":
        return "MultiPoint"
    family = _FAMILY.get(base)
    if family is None:  # 'Unknown' (GeoJSON with mixed types): look at the data
        types = {g.geom_type for g in sample if g is not None}
        families = {_FAMILY.get(t) for t in types}
        families.discard(None)
        if len(families) != 1:
            return "Unknown"
        family = families.pop()
        if family == "Point" and "MultiPoint" in types:
            return "MultiPoint"
    return _TARGET[family]


def _as_target(geom: shapely.Geometry, target: str) -> shapely.Geometry | None:
    """Fit one valid geometry to the layer's type, or None when it cannot be."""
    gtype = geom.geom_type
    if target == "Unknown" or gtype == target:
        return geom
    if target in _MULTI:
        part = _PART_TYPES[target]
        if gtype == part:
            return _MULTI[target]([geom])
        if gtype == "GeometryCollection":  # make_valid may split into mixed pieces
            parts = [p for g in geom.geoms for p in getattr(g, "geoms", [g])
                     if p.geom_type == part and not p.is_empty]
            return _MULTI[target](parts) if parts else None
        return None
    if target == "Point" and gtype == "MultiPoint" and len(geom.geoms) == 1:
        return geom.geoms[0]
    return None


def prepare(
    geoms: np.ndarray, target: str, *, bounds: tuple[float, float, float, float] | None
) -> tuple[np.ndarray, list[str | None], int]:
    """Repair and fit geometries (already in CRS84) for publishing.

    Returns the geometries, a reason per feature to set it aside (None to publish) and the
    number of repaired geometries.
    """
    out = geoms.copy()
    reasons: list[str | None] = [None] * len(geoms)
    missing = shapely.is_missing(out)
    finite = ~missing & np.array([
        bool(np.isfinite(shapely.get_coordinates(g)).all()) if g is not None else False
        for g in out
    ])
    invalid = finite & ~shapely.is_valid(out)
    if invalid.any():
        out[invalid] = shapely.make_valid(out[invalid])
    area = shapely.box(*bounds) if bounds else None
    for i, geom in enumerate(out):
        if missing[i]:
            reasons[i] = "no geometry"
        elif not finite[i]:
            reasons[i] = "coordinates could not be transformed"
        elif geom.is_empty:
            reasons[i] = "empty geometry"
        else:
            fitted = _as_target(geom, target)
            if fitted is None or fitted.is_empty:
                reasons[i] = f"{geom.geom_type} in a {target} layer"
            elif area is not None and not shapely.intersects(fitted, area):
                reasons[i] = "outside the layer's region (wrong CRS or 0,0 coordinates?)"
            else:
                out[i] = fitted
    return out, reasons, int(invalid.sum())
