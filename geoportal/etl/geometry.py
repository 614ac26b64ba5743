"""Geometry checks before publishing: one type family per layer, valid, non-empty, in place.

Everything is vectorized with shapely 2 so a million features cost seconds, not minutes; only
the rare pieces ``make_valid`` turns into GeometryCollections are handled one by one.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely import GeometryType

__all__ = ["MADE_VALID", "MAX_VERTICES", "OUTSIDE", "TOO_MANY_VERTICES", "MultiPart",
           "multi_type", "prepare", "target_type"]

_FAMILY = {
    "Point": "Point", "MultiPoint": "Point",
    "LineString": "Line", "MultiLineString": "Line", "LinearRing": "Line",
    "Polygon": "Polygon", "MultiPolygon": "Polygon",
}
# family -> (single type, multi type)
_TYPES = {"Point": ("Point", "MultiPoint"), "Line": ("LineString", "MultiLineString"),
          "Polygon": ("Polygon", "MultiPolygon")}
# layer type -> (family, type id of a single part, type id of the multi type, constructor)
_PARTS = {
    "Point": ("Point", GeometryType.POINT, GeometryType.MULTIPOINT, shapely.multipoints),
    "LineString": ("Line", GeometryType.LINESTRING, GeometryType.MULTILINESTRING,
                   shapely.multilinestrings),
    "Polygon": ("Polygon", GeometryType.POLYGON, GeometryType.MULTIPOLYGON,
                shapely.multipolygons),
}
_PARTS.update({_TYPES[family][1]: parts for family, parts in
               ((p[0], p) for p in list(_PARTS.values()))})
_FAMILY_IDS = {GeometryType.POINT: "Point", GeometryType.MULTIPOINT: "Point",
               GeometryType.LINESTRING: "Line", GeometryType.LINEARRING: "Line",
               GeometryType.MULTILINESTRING: "Line", GeometryType.POLYGON: "Polygon",
               GeometryType.MULTIPOLYGON: "Polygon"}
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


class MultiPart(str):
    """The reason a feature of several parts cannot go in a single-type layer: the ETL
    starts again with the Multi* type (``pipeline``); a Part 4 edit gets it as its 422."""


def multi_type(layer_type: str) -> str:
    """'Polygon' -> 'MultiPolygon' (a Multi* type stays)."""
    family = _FAMILY.get(layer_type)
    return _TYPES[family][1] if family else layer_type


def target_type(declared: str, sample: np.ndarray) -> str:
    """The geometry type to publish for a declared type and the first batch's geometries.

    Promote only when needed: a declared Multi* type stays; a declared single type (a
    Shapefile's 'Polygon' may hold multi-part shapes) becomes Multi* when a feature of the
    sample has several parts (a later one makes the ETL start again, ``MultiPart``). A type
    that names no family ('Unknown') is decided from the sample's dominant family; the
    census (``etl.census``) decides it for whole files.
    """
    base = declared.replace(" Z", "").replace(" M", "").replace("25D", "").strip()
    family = _FAMILY.get(base)
    if family is not None and base.startswith("Multi"):
        return base
    geoms = np.asarray(sample, dtype=object)
    ids = shapely.get_type_id(geoms)
    if family is None:
        found = [_FAMILY_IDS.get(int(t)) for t in ids]
        counts = {f: found.count(f) for f in _TYPES if f in found}
        if not counts:
            return "Unknown"
        family = max(counts, key=lambda f: (counts[f], list(_TYPES).index(f)))
    single, multi = _TYPES[family]
    mine = np.isin(ids, [k for k, f in _FAMILY_IDS.items() if f == family])
    several = shapely.get_num_geometries(geoms[mine]) > 1
    return multi if several.any() else single


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))


def _fit_collection(geom: shapely.Geometry, layer_type: str
                    ) -> tuple[shapely.Geometry | None, str]:
    """A GeometryCollection's parts that belong in the layer (one geometry of its family, or
    None) and what it dropped (''), or what it held when nothing fits."""
    _, part_id, _, build = _PARTS[layer_type]
    parts, todo = [], [geom]
    while todo:
        for part in shapely.get_parts(todo.pop()):
            if shapely.get_type_id(part) == GeometryType.GEOMETRYCOLLECTION:
                todo.append(part)
            else:
                parts += [p for p in shapely.get_parts(part) if not p.is_empty]
    kept = [p for p in parts if shapely.get_type_id(p) == part_id]
    dropped: dict[str, int] = {}
    for p in parts:
        if shapely.get_type_id(p) != part_id:
            dropped[p.geom_type] = dropped.get(p.geom_type, 0) + 1
    if not kept:
        return None, _describe(dropped) or "nothing"
    if len(kept) == 1 and not layer_type.startswith("Multi"):
        return kept[0], _describe(dropped)
    return build(kept), _describe(dropped)


def _fit(geoms: np.ndarray, target: str, reasons: np.ndarray, repairs: dict[str, int]
         ) -> np.ndarray:
    """Fit the features to the layer's type: single parts promoted to a Multi* layer's type,
    one-part Multi* unpacked for a single-type layer, GeometryCollections split into the
    parts of the layer's family; mark what does not fit (``MultiPart`` for several parts in
    a single-type layer)."""
    todo = reasons == None  # noqa: E711 - elementwise on an object array
    if target not in _PARTS:  # 'Unknown': layers published before issue 16; Part 4 edits
        return geoms
    family, part_id, multi_id, build = _PARTS[target]
    is_multi = target.startswith("Multi")
    for i in np.flatnonzero(todo & (shapely.get_type_id(geoms) ==
                                    GeometryType.GEOMETRYCOLLECTION)):
        geoms[i], dropped = _fit_collection(geoms[i], target)
        if geoms[i] is None:
            reasons[i] = f"GeometryCollection of {dropped} in a {target} layer"
        elif dropped:
            kind = f"GeometryCollection: kept the {_TYPES[family][0]} parts, dropped {dropped}"
            repairs[kind] = repairs.get(kind, 0) + 1
    todo = reasons == None  # noqa: E711
    type_ids = shapely.get_type_id(geoms)
    if is_multi:
        single = todo & (type_ids == part_id)
        if single.any():
            geoms[single] = build(geoms[single], indices=np.arange(int(single.sum())))
            repairs[PROMOTED.format(target)] = int(single.sum())
        wanted = multi_id
    else:
        multi = todo & (type_ids == multi_id)
        one = multi & (shapely.get_num_geometries(geoms) == 1)
        geoms[one] = shapely.get_geometry(geoms[one], 0)
        for i in np.flatnonzero(multi & ~one):
            n = shapely.get_num_geometries(geoms[i])
            reasons[i] = MultiPart(f"{geoms[i].geom_type} of {n} parts in a {target} layer")
        wanted = part_id
    type_ids = shapely.get_type_id(geoms)  # -1 for None
    for i in np.flatnonzero((reasons == None) & (type_ids != wanted)):  # noqa: E711
        found = geoms[i].geom_type if geoms[i] is not None else "nothing valid"
        reasons[i] = f"geometry type {found} in a {target} layer"
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
    out = _fit(out, target, reasons, repairs)
    repairs[ORIENTED] = _orient(out, reasons == None)  # noqa: E711
    if bounds is not None:
        inside = shapely.intersects(out, shapely.box(*bounds))
        reasons[(reasons == None) & ~inside] = FAR_OUTSIDE  # noqa: E711
    return out, reasons, {k: v for k, v in repairs.items() if v}
