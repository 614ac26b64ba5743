"""Mapbox Vector Tiles in the WebMercatorQuad grid: the tile arithmetic both stores share,
and the encoder the GeoPackage store uses (PostGIS has ST_AsMVT).

Geometries go from CRS84 straight to tile units (the spherical Mercator formulas, in numpy,
for a whole tile at once), are clipped to the tile plus a buffer, simplified by half a unit and
rounded to the 4096-unit grid with shapely's vectorised functions; the few that rounding
makes invalid are snap-rounded by GEOS instead (which drops what collapses below a unit:
generalization for free at low zooms). The rest works on flat numpy arrays for the whole
tile, never on one feature at a time: shapely 2's parts, rings and coordinates with their
indices give every path's vertices; repeated vertices and rings that collapsed go, rings are
oriented by their signed area, and the command integers (MoveTo / LineTo / ClosePath with
zigzag deltas) and the protobuf bytes (varints, features, layer) are computed with numpy.
Only the properties go through a Python loop (a dict lookup per value). The output is MVT 2.1
as mapbox-vector-tile wrote it, in about a fifth of the time per tile, query included
(benchmarks/README.md, "GeoPackage tiles").
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import numpy as np
import shapely

__all__ = ["BUFFER", "EXTENT", "MAX_ZOOM", "TileAddress", "encode_tile", "min_feature_size"]

EXTENT = 4096  # tile units per side
BUFFER = 64  # tile units drawn beyond each edge, so strokes do not stop at tile edges
MAX_ZOOM = 22
# Above this many vertices (after clipping) a geometry is simplified by plain Douglas-Peucker
# instead of GEOS's topology-preserving simplifier, which costs seconds on a polygon of a few
# hundred thousand vertices (benchmarks/vertices.py): what the tile draws is snapped and, if
# need be, made valid afterwards anyway (_snap).
HUGE_VERTICES = 20_000
RADIUS = 6378137.0
ORIGIN = math.pi * RADIUS  # 20037508.34...


@dataclass(frozen=True)
class TileAddress:
    """One tile of WebMercatorQuad: zoom, column (x) and row (y, from the top)."""

    z: int
    x: int
    y: int

    def valid(self) -> bool:
        return 0 <= self.z <= MAX_ZOOM and 0 <= self.x < 2**self.z and 0 <= self.y < 2**self.z

    @property
    def size(self) -> float:
        """The tile's side in metres of EPSG:3857."""
        return float(2 * ORIGIN / 2**self.z)

    def mercator_bounds(self) -> tuple[float, float, float, float]:
        minx = -ORIGIN + self.x * self.size
        maxy = ORIGIN - self.y * self.size
        return minx, maxy - self.size, minx + self.size, maxy

    def lonlat_bounds(self, buffer: float = BUFFER) -> tuple[float, float, float, float]:
        """CRS84 bounds of the tile grown by ``buffer`` tile units (clamped to the grid)."""
        minx, miny, maxx, maxy = self.mercator_bounds()
        pad = self.size * buffer / EXTENT
        minx, miny = max(minx - pad, -ORIGIN), max(miny - pad, -ORIGIN)
        maxx, maxy = min(maxx + pad, ORIGIN), min(maxy + pad, ORIGIN)
        return (math.degrees(minx / RADIUS), _lat(miny), math.degrees(maxx / RADIUS),
                _lat(maxy))


def _lat(y: float) -> float:
    return math.degrees(math.atan(math.sinh(y / RADIUS)))


def min_feature_size(tile: TileAddress) -> float:
    """Degrees of longitude of one tile unit at this zoom: a feature whose envelope is
    smaller in both directions would be drawn as nothing, so it is not even read."""
    return float(360.0 / 2**tile.z / EXTENT)


def _to_tile_units(tile: TileAddress) -> Callable[[np.ndarray], np.ndarray]:
    """The function taking lon/lat coordinates (n x 2) to ``tile``'s units (y down)."""
    minx, _, _, maxy = tile.mercator_bounds()
    scale = EXTENT / tile.size

    def apply(coords: np.ndarray) -> np.ndarray:
        lon = np.radians(coords[:, 0])
        lat = np.radians(np.clip(coords[:, 1], -85.05112878, 85.05112878))
        x = RADIUS * lon
        y = RADIUS * np.log(np.tan(np.pi / 4 + lat / 2))
        return np.column_stack([(x - minx) * scale, (maxy - y) * scale])

    return apply


# -- geometry: shapely 2's flat coordinate arrays, integers built with numpy ----------------------

_POINT, _LINE, _RING = 0, 1, 2  # what a path is: a MoveTo of n points, a line string, a ring
_GEOM_TYPE = np.array([1, 2, 3], dtype=np.uint8)  # MVT GeomType of each path kind
_CLOSE_PATH = 7 | 1 << 3
_MOVE_TO_ONE = 1 | 1 << 3
_POINT_IDS = (0, 4)  # shapely type ids: Point, MultiPoint
_LINE_IDS = (1, 2, 5)  # LineString, LinearRing, MultiLineString
_POLYGON_IDS = (3, 6)  # Polygon, MultiPolygon


@dataclass
class _Paths:
    """Paths (point groups, line strings, rings) with their vertices in drawing order: what the
    command integers are made of. ``feature``, ``kind`` and ``n`` (vertices) are per path;
    ``xy`` holds the vertices of all paths one path after the other, in tile units."""

    feature: np.ndarray
    kind: np.ndarray
    n: np.ndarray
    xy: np.ndarray

    @classmethod
    def concat(cls, parts: list[_Paths]) -> _Paths:
        """All paths, those of a feature together and the features in order (each family's
        paths are in the order of their features, but for geometry collections' members)."""
        feature = np.concatenate([p.feature for p in parts])
        kind = np.concatenate([p.kind for p in parts])
        n = np.concatenate([p.n for p in parts])
        xy = np.concatenate([p.xy for p in parts])
        if (feature[1:] >= feature[:-1]).all():
            return cls(feature, kind, n, xy)
        order = np.argsort(feature, kind="stable")
        start = np.cumsum(n) - n
        vertex_order = (np.repeat(start[order] - (np.cumsum(n[order]) - n[order]), n[order])
                        + np.arange(len(xy)))
        return cls(feature[order], kind[order], n[order], xy[vertex_order])


def _empty_paths() -> _Paths:
    empty = np.zeros(0, dtype=np.int64)
    return _Paths(empty, empty, empty, np.zeros((0, 2), dtype=np.int64))


def _point_paths(geoms: np.ndarray, feature: np.ndarray) -> _Paths:
    """One MoveTo path per Point or MultiPoint (repeated points stay: they are points)."""
    coords, which = shapely.get_coordinates(geoms, return_index=True)
    n = np.bincount(which, minlength=len(geoms))
    some = n > 0
    return _Paths(feature[some], np.full(int(some.sum()), _POINT), n[some],
                  coords.astype(np.int64))


def _distinct_vertices(coords: np.ndarray, path: np.ndarray, closed: bool
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (as int64) and their path without the ones that repeat the vertex before
    them in the same path, and for rings (``closed``) without the closing vertex and any
    vertex equal to the ring's first, which the ClosePath command draws back to."""
    xy = coords.astype(np.int64)
    first = np.empty(len(path), dtype=bool)
    first[:1] = True
    np.not_equal(path[1:], path[:-1], out=first[1:])
    keep = first.copy()
    keep[1:] |= (xy[1:] != xy[:-1]).any(axis=1)
    if closed:
        starts = np.flatnonzero(first)
        keep &= (xy != xy[np.repeat(starts, np.diff(np.append(starts, len(path))))]).any(
            axis=1) | first
    return xy[keep], path[keep]


def _line_paths(geoms: np.ndarray, feature: np.ndarray) -> _Paths:
    """One path per line string of (Multi)LineStrings; lines that collapse to a point go."""
    lines, line_geom = shapely.get_parts(geoms, return_index=True)
    coords, which = shapely.get_coordinates(lines, return_index=True)
    xy, which = _distinct_vertices(coords, which, closed=False)
    n = np.bincount(which, minlength=len(lines))
    keep = n >= 2
    xy = xy[keep[which]]
    return _Paths(feature[line_geom][keep], np.full(int(keep.sum()), _LINE), n[keep], xy)


def _polygon_paths(geoms: np.ndarray, feature: np.ndarray) -> _Paths:
    """One path per ring of (Multi)Polygons, oriented as MVT 2.1 wants in tile coordinates
    (y down): exterior rings of positive area by the surveyor's formula (clockwise on
    screen), interior rings negative. A ring left with under 3 vertices or under a square unit
    after snapping goes (GEOS's snap-rounding drops most such slivers too), and a polygon
    whose exterior ring goes takes its holes with it."""
    polygons, polygon_geom = shapely.get_parts(geoms, return_index=True)
    rings, ring_polygon = shapely.get_rings(polygons, return_index=True)
    if not len(rings):
        return _empty_paths()
    exterior = np.empty(len(rings), dtype=bool)
    exterior[0] = True
    np.not_equal(ring_polygon[1:], ring_polygon[:-1], out=exterior[1:])
    coords, which = shapely.get_coordinates(rings, return_index=True)
    xy, which = _distinct_vertices(coords, which, closed=True)
    n = np.bincount(which, minlength=len(rings))
    start = np.cumsum(n) - n
    # twice the signed area: the sum of x_i * y_(i+1) - x_(i+1) * y_i around each ring
    following = np.arange(1, len(which) + 1)
    last = start + n - 1
    following[last[n > 0]] = start[n > 0]
    cross = xy[:, 0] * xy[following, 1] - xy[following, 0] * xy[:, 1]
    area = np.bincount(which, weights=cross, minlength=len(rings))
    ok = (n >= 3) & (np.abs(area) >= 2)  # under a unit of area: nothing to draw
    ok &= ok[np.flatnonzero(exterior)][np.cumsum(exterior) - 1]  # the ring's exterior
    flip = ok & ((area > 0) != exterior)
    if flip.any():  # reverse those rings in place: vertex j of n goes to n - 1 - j
        vertex_flip = flip[which]
        index = np.arange(len(which))
        index[vertex_flip] = (2 * start + n - 1)[which[vertex_flip]] - index[vertex_flip]
        xy = xy[index]
    xy = xy[ok[which]]
    return _Paths(feature[polygon_geom][ring_polygon][ok], np.full(int(ok.sum()), _RING),
                  n[ok], xy)


def _zigzag(values: np.ndarray) -> np.ndarray:
    return ((values << 1) ^ (values >> 63)).astype(np.uint64)


def _commands(paths: _Paths) -> tuple[np.ndarray, np.ndarray]:
    """The MVT geometry integers of all paths, one feature after the other (the cursor
    starts at 0, 0 for each feature), and the feature each integer belongs to."""
    kind, n = paths.kind, paths.n
    size = np.where(kind == _POINT, 1 + 2 * n, 2 * n + 2 + (kind == _RING))
    start = np.cumsum(size) - size
    out = np.zeros(int(size.sum()), dtype=np.uint64)
    vertex_path = np.repeat(np.arange(len(n)), n)
    k = np.arange(len(vertex_path)) - np.repeat(np.cumsum(n) - n, n)
    at = start[vertex_path] + np.where(kind[vertex_path] == _POINT, 1 + 2 * k,
                                       np.where(k == 0, 1, 2 * k + 2))
    xy = paths.xy
    delta = np.empty_like(xy)
    delta[0] = xy[0]
    np.subtract(xy[1:], xy[:-1], out=delta[1:])
    feature = paths.feature[vertex_path]
    new_feature = np.flatnonzero(feature[1:] != feature[:-1]) + 1
    delta[new_feature] = xy[new_feature]
    out[at] = _zigzag(delta[:, 0])
    out[at + 1] = _zigzag(delta[:, 1])
    points = kind == _POINT
    out[start[points]] = (n[points] << 3 | 1).astype(np.uint64)
    lines = ~points
    out[start[lines]] = _MOVE_TO_ONE
    out[start[lines] + 3] = ((n[lines] - 1) << 3 | 2).astype(np.uint64)
    out[(start + size - 1)[kind == _RING]] = _CLOSE_PATH
    return out, np.repeat(paths.feature, size)


def _paths(geoms: np.ndarray) -> _Paths:
    """The paths of geometries snapped to the grid, by family. MVT has no geometry
    collections: one (what making an invalid input valid may give) keeps the members of its
    highest family only (polygons, else lines, else points)."""
    type_id = shapely.get_type_id(geoms)
    feature = np.arange(len(geoms))
    collections = np.flatnonzero(type_id == 7)
    if len(collections):
        members, owner = shapely.get_parts(geoms[collections], return_index=True)
        rank = np.select([np.isin(shapely.get_type_id(members), ids) for ids in
                          (_POLYGON_IDS, _LINE_IDS, _POINT_IDS)], [3, 2, 1], 0)
        best = np.zeros(len(collections), dtype=np.int64)
        np.maximum.at(best, owner, rank)
        chosen = (rank == best[owner]) & (rank > 0)
        geoms = np.concatenate([np.delete(geoms, collections), members[chosen]])
        feature = np.concatenate([np.delete(feature, collections),
                                  collections[owner[chosen]]])
        type_id = shapely.get_type_id(geoms)
    parts = []
    for ids, build in ((_POINT_IDS, _point_paths), (_LINE_IDS, _line_paths),
                       (_POLYGON_IDS, _polygon_paths)):
        which = np.flatnonzero(np.isin(type_id, ids))
        if len(which):
            parts.append(build(geoms[which], feature[which]))
    return _Paths.concat(parts) if parts else _empty_paths()


def _snap(geoms: np.ndarray) -> np.ndarray:
    """Geometries in tile units on the integer grid: rounded, and what rounding made invalid
    (collapsed rings, self-touching slivers) snap-rounded by GEOS instead, which also drops
    what collapses below a unit."""
    rounded: np.ndarray = shapely.transform(geoms, lambda xy: np.floor(xy + 0.5))
    bad = ~shapely.is_valid(rounded)
    if bad.any():  # made valid first: snap-rounding fails on an invalid input
        rounded[bad] = shapely.set_precision(shapely.make_valid(geoms[bad]), 1.0)
    return rounded


# -- protobuf: the few messages of vector_tile.proto, written with numpy ---------------------------

def _varints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Protobuf base-128 varints of unsigned integers: the bytes, and each value's length."""
    values = values.astype(np.uint64)
    length = np.ones(len(values), dtype=np.int64)
    for shift in range(7, 64, 7):
        more = values >= np.uint64(1 << shift)
        if not more.any():
            break
        length += more
    out = np.empty(int(length.sum()), dtype=np.uint8)
    start = np.cumsum(length) - length
    for i in range(int(length.max(initial=0))):
        has = length > i
        byte = (values[has] >> np.uint64(7 * i)) & np.uint64(0x7F)
        byte |= np.where(length[has] > i + 1, np.uint64(0x80), np.uint64(0))
        out[start[has] + i] = byte
    return out, length


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(tag: int, payload: bytes) -> bytes:
    """A length-delimited field: ``tag`` is the key byte (field number << 3 | 2)."""
    return bytes((tag,)) + _varint(len(payload)) + payload


def _interleave(pieces: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Per-row concatenation of byte columns: each piece is (bytes, length per row), its
    rows one after the other; the result is row 0's pieces in order, then row 1's, ..."""
    lengths = np.stack([length for _, length in pieces])  # pieces x rows
    row_length = lengths.sum(axis=0)
    row_start = np.cumsum(row_length) - row_length
    offset = np.cumsum(lengths, axis=0) - lengths  # where a piece starts within its row
    out = np.empty(int(row_length.sum()), dtype=np.uint8)
    for (data, length), within in zip(pieces, offset, strict=True):
        if not len(data):
            continue
        source_start = np.cumsum(length) - length
        out[np.repeat(row_start + within - source_start, length)
            + np.arange(len(data))] = data
    return out, row_length


def _constant(byte: int, rows: int, present: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    if present is None:
        return np.full(rows, byte, dtype=np.uint8), np.ones(rows, dtype=np.int64)
    return (np.full(int(present.sum()), byte, dtype=np.uint8), present.astype(np.int64))


def _packed(values: np.ndarray, row: np.ndarray, rows: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Varints of ``values`` grouped by ``row`` (sorted), and each row's byte count."""
    data, length = _varints(values)
    return data, np.bincount(row, weights=length, minlength=rows).astype(np.int64)


def _messages(key: int, payload: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Value messages of one field each (``key``, then ``payload``), each wrapped as a
    layer's ``values`` entry (field 4): per message, its bytes and their count."""
    data, length = payload
    rows = len(length)
    return _interleave([_constant(0x22, rows), _varints(length + 1), _constant(key, rows),
                        (data, length)])


_NUMBERS = ("int", "uint", "float", "bool")


class _Values:
    """A layer's value table, built column by column: equal values (of the same type: 1,
    1.0 and True stay apart) share an entry. Cells are (feature, column) positions,
    ``feature * columns + column``."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self.string_cells: list[np.ndarray] = []
        self.numbers: dict[str, list[np.ndarray]] = {k: [] for k in _NUMBERS}
        self.number_cells: dict[str, list[np.ndarray]] = {k: [] for k in _NUMBERS}

    def add(self, values: np.ndarray, cells: np.ndarray) -> None:
        """A column's values (an object array, no None) at ``cells``."""
        kinds = set(map(type, values))
        if len(kinds) == 1:
            kind = kinds.pop()
            try:
                if kind is str:
                    self.add_strings(values.tolist(), cells)
                    return
                if kind in (datetime, date, time):
                    self.add_strings([v.isoformat() for v in values], cells)
                    return
                for name, python, dtype in (("bool", bool, np.bool_), ("int", int, np.int64),
                                            ("float", float, np.float64)):
                    if kind is python:
                        self.numbers[name].append(values.astype(dtype))
                        self.number_cells[name].append(cells)
                        return
            except OverflowError:  # ints past int64: one by one below
                pass
        for value, cell in zip(values.tolist(), cells.tolist(), strict=True):
            self._add_one(value, cell)

    def _add_one(self, value: Any, cell: int) -> None:
        one = np.array([cell], dtype=np.int64)
        if isinstance(value, str):
            self.add_strings([str(value)], one)
        elif isinstance(value, datetime | date | time):
            self.add_strings([value.isoformat()], one)
        elif isinstance(value, bool | np.bool_):
            self.numbers["bool"].append(np.array([value], dtype=np.bool_))
            self.number_cells["bool"].append(one)
        elif isinstance(value, numbers.Integral) and -(1 << 63) <= int(value) < 1 << 63:
            self.numbers["int"].append(np.array([int(value)], dtype=np.int64))
            self.number_cells["int"].append(one)
        elif isinstance(value, numbers.Integral) and 0 < int(value) < 1 << 64:
            self.numbers["uint"].append(np.array([int(value)], dtype=np.uint64))
            self.number_cells["uint"].append(one)
        elif isinstance(value, numbers.Real):  # numpy's floats, ints past 64 bits
            self.numbers["float"].append(np.array([float(value)], dtype=np.float64))
            self.number_cells["float"].append(one)
        # anything else (bytes, lists, ...): MVT has no such values

    def add_strings(self, values: list[str], cells: np.ndarray) -> None:
        self.strings += values
        self.string_cells.append(cells)

    def table(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """The value table as layer bytes (``values`` entries), and for each of ``size``
        cells its value's index (-1: no value)."""
        index = np.full(size, -1, dtype=np.int64)
        pieces: list[tuple[np.ndarray, np.ndarray]] = []
        base = 0
        if self.strings:
            seen: dict[str, int] = {}
            codes = [seen.setdefault(s, len(seen)) for s in self.strings]
            index[np.concatenate(self.string_cells)] = codes
            encoded = [s.encode("utf-8", errors="replace") for s in seen]
            length = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
            text = np.frombuffer(b"".join(encoded), dtype=np.uint8)
            pieces.append(_messages(0x0A, _interleave([_varints(length), (text, length)])))
            base = len(seen)
        for name in _NUMBERS:
            if not self.numbers[name]:
                continue
            unique, inverse = np.unique(np.concatenate(self.numbers[name]),
                                        return_inverse=True)
            index[np.concatenate(self.number_cells[name])] = base + inverse
            base += len(unique)
            if name == "int":
                pieces.append(_int_messages(unique))
            elif name == "uint":  # past int64
                pieces.append(_messages(0x28, _varints(unique)))
            elif name == "float":
                data = unique.astype("<f8").view(np.uint8)
                pieces.append(_messages(0x19, (data, np.full(len(unique), 8, np.int64))))
            else:
                pieces.append(_messages(0x38, (unique.astype(np.uint8),
                                               np.ones(len(unique), np.int64))))
        if not pieces:
            return np.zeros(0, dtype=np.uint8), index
        # the most used values first: their indices in the tags take one byte
        data = np.concatenate([data for data, _ in pieces])
        length = np.concatenate([length for _, length in pieces])
        order = np.argsort(-np.bincount(index[index >= 0], minlength=base), kind="stable")
        rank = np.empty(base, dtype=np.int64)
        rank[order] = np.arange(base)
        index[index >= 0] = rank[index[index >= 0]]
        start = np.cumsum(length) - length
        ordered = np.repeat(start[order] - (np.cumsum(length[order]) - length[order]),
                            length[order]) + np.arange(len(data))
        return data[ordered], index


def _int_messages(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value messages of int64s: ``int_value`` for what is not negative, ``sint_value``
    (zigzag) for the rest, in the order given."""
    negative = values < 0
    data, length = _varints(np.where(negative, _zigzag(values), values.astype(np.uint64)))
    rows = len(values)
    key = np.where(negative, 0x30, 0x20).astype(np.uint8)
    return _interleave([_constant(0x22, rows), _varints(length + 1),
                        (key, np.ones(rows, np.int64)), (data, length)])


def _tags(columns: dict[str, np.ndarray], rows: int) -> tuple[list[str], np.ndarray,
                                                              np.ndarray, np.ndarray]:
    """The layer's keys, its value table (bytes) and the features' tags (key, value index
    pairs, flat) with the feature of each. Values are strings, bools, ints and floats (dates
    and times as ISO 8601 strings); None and other types are left out."""
    values = _Values()
    width = len(columns)
    for c, column in enumerate(columns.values()):
        present = np.flatnonzero(np.fromiter((v is not None for v in column), dtype=bool,
                                             count=rows))
        if len(present):
            values.add(column[present], present * width + c)
    table, index = values.table(rows * width)
    index = index.reshape(rows, width)
    used = (index >= 0).any(axis=0)
    keys = [k for k, u in zip(columns, used, strict=True) if u]
    key_of = np.cumsum(used) - 1
    row, col = np.nonzero(index >= 0)
    tags = np.column_stack([key_of[col], index[row, col]]).ravel()
    return keys, table, tags.astype(np.uint64), np.repeat(row, 2)


def _columns(properties: Sequence[dict[str, Any]] | Mapping[str, Sequence[Any]],
             features: int, take: np.ndarray) -> dict[str, np.ndarray]:
    """The properties of the features ``take`` as one object array per name (None where a
    feature has no such property), from rows (dicts) or from columns."""
    if isinstance(properties, Mapping):
        columns = properties
    else:
        names = dict.fromkeys(itertools.chain.from_iterable(properties))
        columns = {k: [p.get(k) for p in properties] for k in names}
    out = {}
    for name, column in columns.items():
        array = np.fromiter(column, dtype=object, count=features)
        out[name] = array[take]
    return out


def encode_tile(tile: TileAddress, layer: str, fids: Sequence[int],
                geometries: Sequence[shapely.Geometry | None],
                properties: Sequence[dict[str, Any]] | Mapping[str, Sequence[Any]]) -> bytes:
    """One MVT layer of features given in CRS84; empty bytes when nothing is drawn.

    ``properties``: a dict per feature, or (cheaper: what the GeoPackage store passes) a
    sequence per property name, one value per feature.

    A feature keeps its id (when not negative) and its properties (see ``_tags``); one
    whose geometry is missing, empty, outside the tile's buffer or smaller than a unit once
    snapped is left out."""
    if not len(fids):
        return b""
    geoms = np.empty(len(geometries), dtype=object)
    geoms[:] = list(geometries)
    keep = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    geoms = shapely.transform(geoms[keep], _to_tile_units(tile))
    geoms = shapely.clip_by_rect(geoms, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    # detail under half a unit cannot show; a triangle or a quadrilateral (most buildings)
    # has none that rounding would not take care of, and simplify costs as much as the rest
    vertices = shapely.get_num_coordinates(geoms)
    detailed = np.flatnonzero((vertices > 5) & (vertices <= HUGE_VERTICES))
    geoms[detailed] = shapely.simplify(geoms[detailed], 0.5)
    huge = np.flatnonzero(vertices > HUGE_VERTICES)
    if len(huge):
        geoms[huge] = shapely.simplify(geoms[huge], 0.5, preserve_topology=False)
    paths = _paths(_snap(geoms))
    if not len(paths.n):
        return b""
    ints, int_feature = _commands(paths)
    first_path = np.flatnonzero(np.r_[True, paths.feature[1:] != paths.feature[:-1]])
    drawn = paths.feature[first_path]  # indices into keep, ascending
    rows = len(drawn)
    row_of = np.zeros(len(keep), dtype=np.int64)
    row_of[drawn] = np.arange(rows)
    source = keep[drawn]
    fid = np.asarray(fids, dtype=np.int64)[source]
    keys, values, tags, tag_row = _tags(_columns(properties, len(fids), source), rows)
    has_id = fid >= 0
    tag_bytes = _packed(tags, tag_row, rows)
    has_tags = tag_bytes[1] > 0
    geometry = _packed(ints, row_of[int_feature], rows)
    feature, length = _interleave([
        _constant(0x08, rows, has_id), _optional_varints(fid, has_id),
        _constant(0x12, rows, has_tags), _optional_varints(tag_bytes[1], has_tags), tag_bytes,
        _constant(0x18, rows), (_GEOM_TYPE[paths.kind[first_path]], np.ones(rows, np.int64)),
        _constant(0x22, rows), _varints(geometry[1]), geometry,
    ])
    features, _ = _interleave([_constant(0x12, rows), _varints(length), (feature, length)])
    body = b"".join([
        _field(0x0A, layer.encode("utf-8")), features.tobytes(),
        *(_field(0x1A, k.encode("utf-8", errors="replace")) for k in keys), values.tobytes(),
        b"\x28" + _varint(EXTENT), b"\x78\x02",  # extent, version 2
    ])
    return _field(0x1A, body)


def _optional_varints(values: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Varints of the rows where ``present``, no bytes for the others."""
    data, length = _varints(values[present])
    full = np.zeros(len(values), dtype=np.int64)
    full[present] = length
    return data, full
