"""Geometry checks before publishing: one type family per layer, valid, non-empty, in place.

Everything is vectorized with shapely 2 so a million features cost seconds, not minutes; only
the rare pieces ``make_valid`` turns into GeometryCollections are handled one by one.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely import GeometryType

__all__ = ["MADE_VALID", "MAX_VERTICES", "OUTSIDE", "TOO_MANY_VERTICES", "prepare",
           "target_type"]

_FAMILY = {
    "Point": "Point", "MultiPoint": "Point",
    "LineString": "Line", "MultiLineString": "Line", "LinearRing": "Line",
    "Polygon": "Polygon", "MultiPolygon": "Polygon",
}
_TARGET = {"Point": "Point", "Line": "MultiLineString", "Polygon": "MultiPolygon"}
# target type -> (type id of the single part, type id of the multi type, constructor)
_MULTI = {
    "MultiPoint": (GeometryType.POINT, GeometryType.MULTIPOINT, shapely.multipoints),
    "MultiLineString": (GeometryType.LINESTRING, GeometryType.MULTILINESTRING,
                        shapely.multilinestrings),
    "MultiPolygon": (GeometryType.POLYGON, GeometryType.MULTIPOLYGON, shapely.multipolygons),
}
# The region is named so the admin sees which boundary the feature missed (set-aside reasons
# are counted per text: one text per layer).
OUTSIDE = ("outside the layer's region, {name} ({code}), by more than {tolerance:g} m "
           "(another region's place, a wrong CRS or 0,0 coordinates?)")
# Most vertices one feature may have; settings.max_vertices overrides it for uploads (Part 4
# edits use this). Decided from benchmarks/vertices.py: a low-zoom tile (z5-z7) of a polygon
# this size takes about 30 ms for a traced shore and 0.4-1.7 s for the worst shape (a star of
# spikes no simplification can drop); at 100,000 the worst shape takes up to 4 s.
MAX_VERTICES = 50_000
FAR_OUTSIDE = "outside the layer's region (wrong CRS or 0,0 coordinates?)"
TOO_MANY_VERTICES = ("{count:,} vertices, more than the {cap:,} a feature may have "
                     "(simplify it, or split it, before publishing)")
# Kinds of repair, as the report names them.
MADE_VALID = "made valid (self-intersections, bad rings)"
REPEATED = "repeated vertices removed"
PROMOTED = "single parts stored as {}"
ORIENTED = "rings oriented counter-clockwise (RFC 7946)"
_POLYGONAL = (GeometryType.POLYGON, GeometryType.MULTIPOLYGON)
_SINGLE = (GeometryType.POINT, GeometryType.LINESTRING, GeometryType.POLYGON)


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
        families = {_FAMILY.get(t) for t in types} - {None}
        if len(families) != 1:
            return "Unknown"
        family = families.pop()
        if family == "Point" and "MultiPoint" in types:
            return "MultiPoint"
    return _TARGET[family]


def _fit_collection(geom: shapely.Geometry, target: str) -> shapely.Geometry | None:
    """The parts of a GeometryCollection (from make_valid) that belong in the layer."""
    part_id, _, build = _MULTI[target]
    parts = [p for g in shapely.get_parts(geom) for p in shapely.get_parts(g)
             if shapely.get_type_id(p) == part_id and not p.is_empty]
    return build(parts) if parts else None


def _fit(geoms: np.ndarray, target: str, reasons: np.ndarray) -> np.ndarray:
    """Promote single parts to the layer's Multi* type; mark what does not fit."""
    type_ids = shapely.get_type_id(geoms)
    todo = reasons == None  # noqa: E711 - elementwise on an object array
    if target == "Unknown":
        return geoms
    if target == "Point":
        single = todo & (type_ids == GeometryType.MULTIPOINT) & (shapely.get_num_geometries(
            geoms) == 1)
        geoms[single] = shapely.get_geometry(geoms[single], 0)
        type_ids = shapely.get_type_id(geoms)
        wrong = todo & (type_ids != GeometryType.POINT)
    else:
        part_id, multi_id, build = _MULTI[target]
        single = todo & (type_ids == part_id)
        if single.any():
            geoms[single] = build(geoms[single], indices=np.arange(int(single.sum())))
        collections = np.flatnonzero(todo & (type_ids == GeometryType.GEOMETRYCOLLECTION))
        for i in collections:
            geoms[i] = _fit_collection(geoms[i], target)
        type_ids = shapely.get_type_id(geoms)  # -1 for None
        wrong = todo & (type_ids != multi_id)
    for i in np.flatnonzero(wrong):
        found = geoms[i].geom_type if geoms[i] is not None else "nothing valid"
        reasons[i] = f"{found} in a {target} layer"
    return geoms


def _orient(geoms: np.ndarray, todo: np.ndarray) -> int:
    """Orient polygon rings as RFC 7946 says (exterior counter-clockwise, holes clockwise);
    return how many features had a clockwise exterior (what Shapefiles store)."""
    polys = np.flatnonzero(todo & np.isin(shapely.get_type_id(geoms), _POLYGONAL))
    if len(polys) == 0:
        return 0
    parts, index = shapely.get_parts(geoms[polys], return_index=True)
    clockwise = ~shapely.is_ccw(shapely.get_exterior_ring(parts))
    wrong = np.zeros(len(polys), dtype=bool)
    wrong[index[clockwise]] = True
    if wrong.any():
        geoms[polys[wrong]] = shapely.orient_polygons(geoms[polys[wrong]])
    return int(wrong.sum())


def prepare(
    geoms: np.ndarray, target: str, *, max_vertices: int = MAX_VERTICES,
    bounds: tuple[float, float, float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Repair and fit geometries (already in CRS84) for publishing.

    Returns the geometries, an object array with a reason per feature to set it aside (None
    to publish) and the repairs made, by kind, with the number of features each touched.
    ``bounds``: a box the features must touch (Part 4 edits give their layer's region bbox;
    an editor's own regions are then checked against their boundaries). Uploads check the
    layer's region boundary instead (``pipeline.RegionCheck``).
    """
    out = np.array(geoms, dtype=object, copy=True)
    reasons = np.full(len(out), None, dtype=object)
    repairs: dict[str, int] = {}
    missing = shapely.is_missing(out)
    reasons[missing] = "no geometry"
    coords, index = shapely.get_coordinates(out, return_index=True)
    bad_coords = np.zeros(len(out), dtype=bool)
    bad_coords[index[~np.isfinite(coords).all(axis=1)]] = True
    reasons[bad_coords & ~missing] = "coordinates could not be transformed"
    # A feature with millions of vertices would stall validation, tiles and every page that
    # holds it: set aside before any costly step.
    # Set aside rather than simplified: simplifying would publish other data than the file
    # holds, and only the admin knows which tolerance the layer can bear.
    counts = np.bincount(index, minlength=len(out))
    for i in np.flatnonzero((counts > max_vertices) & (reasons == None)):  # noqa: E711
        reasons[i] = TOO_MANY_VERTICES.format(count=int(counts[i]), cap=max_vertices)
    ok = reasons == None  # noqa: E711
    if target != "Point" and len(coords) > 1:
        # Only geometries with a vertex equal to the one before it need the (costly) removal.
        same = (coords[1:] == coords[:-1]).all(axis=1) & (index[1:] == index[:-1])
        repeated = np.zeros(len(out), dtype=bool)
        repeated[index[1:][same]] = True
        repeated &= ok
        if repeated.any():
            before = shapely.get_num_coordinates(out[repeated])
            out[repeated] = shapely.remove_repeated_points(out[repeated], tolerance=0)
            repairs[REPEATED] = int((shapely.get_num_coordinates(out[repeated]) < before).sum())
    invalid = ok & ~shapely.is_valid(out)
    if invalid.any():
        out[invalid] = shapely.make_valid(out[invalid])
    repairs[MADE_VALID] = int(invalid.sum())
    empty = ok & shapely.is_empty(out)
    reasons[empty] = "empty geometry"
    singles = (reasons == None) & np.isin(shapely.get_type_id(out), _SINGLE)  # noqa: E711
    out = _fit(out, target, reasons)
    if target.startswith("Multi"):
        repairs[PROMOTED.format(target)] = int((singles & (reasons == None)).sum())  # noqa: E711
    repairs[ORIENTED] = _orient(out, reasons == None)  # noqa: E711
    if bounds is not None:
        inside = shapely.intersects(out, shapely.box(*bounds))
        reasons[(reasons == None) & ~inside] = FAR_OUTSIDE  # noqa: E711
    return out, reasons, {k: v for k, v in repairs.items() if v}
