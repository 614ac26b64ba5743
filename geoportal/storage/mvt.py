"""Mapbox Vector Tiles in the WebMercatorQuad grid: the tile arithmetic both stores share,
and the encoder the GeoPackage store uses (PostGIS has ST_AsMVT).

Geometries go from CRS84 straight to tile pixels (the spherical Mercator formulas, in
numpy, for a whole tile at once), are clipped to the tile plus a buffer and snapped to the
4096-unit grid with shapely (which also drops what collapses below a unit: generalization
for free at low zooms), and are encoded with mapbox-vector-tile.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely
from mapbox_vector_tile.encoder import on_invalid_geometry_make_valid

__all__ = ["BUFFER", "EXTENT", "MAX_ZOOM", "TileAddress", "encode_tile", "min_feature_size"]

EXTENT = 4096  # tile units per side
BUFFER = 64  # tile units drawn beyond each edge, so strokes do not stop at tile edges
MAX_ZOOM = 22
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
        return 2 * ORIGIN / 2**self.z

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
    return 360.0 / 2**tile.z / EXTENT


def _to_tile_units(tile: TileAddress):
    minx, _, _, maxy = tile.mercator_bounds()
    scale = EXTENT / tile.size

    def apply(coords: np.ndarray) -> np.ndarray:
        lon = np.radians(coords[:, 0])
        lat = np.radians(np.clip(coords[:, 1], -85.05112878, 85.05112878))
        x = RADIUS * lon
        y = RADIUS * np.log(np.tan(np.pi / 4 + lat / 2))
        return np.column_stack([(x - minx) * scale, (maxy - y) * scale])

    return apply


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def encode_tile(tile: TileAddress, layer: str, fids: Sequence[int],
                geometries: Sequence[shapely.Geometry | None],
                properties: Sequence[dict[str, Any]]) -> bytes:
    """One MVT layer of features given in CRS84; empty bytes when nothing is drawn."""
    if not len(fids):
        return b""
    geoms = np.asarray(geometries, dtype=object)
    keep = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    geoms = shapely.transform(geoms[keep], _to_tile_units(tile))
    geoms = shapely.clip_by_rect(geoms, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    geoms = shapely.simplify(geoms, 0.5)  # detail under half a unit cannot show
    geoms = shapely.set_precision(geoms, 1.0)  # the tile grid: also repairs what clipping bent
    drawn = ~shapely.is_empty(geoms)
    kept_fids = np.asarray(fids)[keep][drawn]
    kept_props = [p for p, k in zip(properties, keep, strict=True) if k]
    features = [
        {"geometry": g, "id": int(fid),
         "properties": {k: _value(v) for k, v in props.items() if v is not None}}
        for g, fid, props in zip(geoms[drawn], kept_fids,
                                 (p for p, d in zip(kept_props, drawn, strict=True) if d),
                                 strict=True)
    ]
    if not features:
        return b""
    return mapbox_vector_tile.encode(
        [{"name": layer, "features": features}],
        default_options={"extents": EXTENT, "y_coord_down": True,
                         "on_invalid_geometry": on_invalid_geometry_make_valid})
