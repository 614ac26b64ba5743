"""Map tiles (PNG, JPEG) of a layer on two grids, drawn by MapServer and kept in memory.

WMTS and OGC API - Maps' tiled maps share them. The grids: ``WebMercatorQuad`` (web maps,
zoom 0-18) and ``BelarusEPSG4326``, a grid in geographic WGS 84 whose one tile at level 0
covers Belarus (10.24 degrees from 57N 23E), for clients that keep EPSG:4326 (level 14:
0.17 m a pixel). A tile is drawn with a margin of ``GUTTER`` pixels on every side and cut out,
so a label across a tile's edge is drawn whole in both tiles. Tiles are kept by the layer's
version and its last change (a new version or a new style has new keys: nothing to invalidate;
the old ones age out) and by language (labels are in the request's language).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import cache
from typing import Any

import morecantile
from PIL import Image
from pyproj import CRS

from geoportal.catalog import Layer
from geoportal.errors import NotFound
from geoportal.i18n import tr
from geoportal.server.ows.kvp import OgcError

__all__ = ["BELARUS_GRID", "FORMATS", "GRIDS", "GUTTER", "MapTile", "blank_tile", "covers",
           "cut", "etag_of", "grid", "limits", "max_zoom", "tile_key", "tile_of", "tile_window"]

GUTTER = 64
TILE = 256
FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg"}
BELARUS_GRID = "BelarusEPSG4326"
GRIDS = ("WebMercatorQuad", BELARUS_GRID)
_MAX_ZOOM = {"WebMercatorQuad": 18, BELARUS_GRID: 14}


@cache
def grid(name: str) -> morecantile.TileMatrixSet:
    """The tile matrix set ``name`` (one of ``GRIDS``); NotFound for any other."""
    if name == "WebMercatorQuad":
        found: morecantile.TileMatrixSet = morecantile.tms.get("WebMercatorQuad")
        return found
    if name == BELARUS_GRID:
        belarus: morecantile.TileMatrixSet = morecantile.TileMatrixSet.custom(
            [23.0, 46.76, 33.24, 57.0], CRS.from_epsg(4326), id=BELARUS_GRID, minzoom=0,
            maxzoom=_MAX_ZOOM[BELARUS_GRID],
            title="Belarus, WGS 84 (EPSG:4326), 256 px tiles from 57N 23E")
        return belarus
    raise NotFound(tr("tile matrix set {id} not found; offered: {offered}", id=repr(name[:60]),
                      offered=", ".join(GRIDS)))


def max_zoom(name: str) -> int:
    """The deepest level of the grid ``name``."""
    return _MAX_ZOOM[name]


@dataclass(frozen=True)
class MapTile:
    """One tile of a grid: level ``z``, row ``y``, column ``x``."""

    grid: str
    z: int
    y: int
    x: int


def tile_of(grid_name: str, z: str, y: str, x: str) -> MapTile:
    """The tile at ``z``/``y``/``x`` of ``grid_name``; an OGC ``TileOutOfRange`` error when it is
    not in the grid."""
    tms = grid(grid_name)
    try:
        tile = MapTile(grid_name, int(z), int(y), int(x))
    except ValueError:
        raise OgcError(tr("the tile matrix, row and column must be whole numbers"),
                       "InvalidParameterValue", "tilematrix") from None
    if not 0 <= tile.z <= _MAX_ZOOM[grid_name]:
        raise OgcError(tr("tile matrix {z} is not in {grid} (0 to {max})", z=z, grid=grid_name,
                          max=_MAX_ZOOM[grid_name]), "TileOutOfRange", "tilematrix")
    matrix = tms.matrix(tile.z)
    if not (0 <= tile.y < matrix.matrixHeight and 0 <= tile.x < matrix.matrixWidth):
        raise OgcError(tr("tile {z}/{y}/{x} is not in {grid}: rows 0 to {rows}, columns 0 to "
                          "{cols}", z=z, y=y, x=x, grid=grid_name, rows=matrix.matrixHeight - 1,
                          cols=matrix.matrixWidth - 1), "TileOutOfRange", "tilerow")
    return tile


def tile_window(tile: MapTile, gutter: int = GUTTER) -> tuple[str, tuple[float, ...], int]:
    """What MapServer draws for ``tile``: the WMS 1.3.0 CRS, the BBOX in that CRS's axis order
    (latitude first for EPSG:4326), widened by ``gutter`` pixels each side, and the size."""
    tms = grid(tile.grid)
    box = tms.xy_bounds(morecantile.Tile(tile.x, tile.y, tile.z))
    pad = (box.right - box.left) * gutter / TILE
    left, bottom, right, top = box.left - pad, box.bottom - pad, box.right + pad, box.top + pad
    size = TILE + 2 * gutter
    if tile.grid == BELARUS_GRID:
        return "EPSG:4326", (bottom, left, top, right), size
    return "EPSG:3857", (left, bottom, right, top), size


def covers(tile: MapTile, extent: tuple[float, float, float, float] | None) -> bool:
    """Whether ``tile`` (with its margin) meets a layer's lon/lat ``extent``."""
    if extent is None:
        return True
    tms = grid(tile.grid)
    box = tms.bounds(morecantile.Tile(tile.x, tile.y, tile.z))  # lon/lat
    pad_x = (box.right - box.left) * GUTTER / TILE
    pad_y = (box.top - box.bottom) * GUTTER / TILE
    return not (box.right + pad_x < extent[0] or box.left - pad_x > extent[2]
                or box.top + pad_y < extent[1] or box.bottom - pad_y > extent[3])


def cut(image: bytes, media_type: str, gutter: int = GUTTER) -> bytes:
    """The tile in the middle of a render with a margin, encoded as ``media_type``."""
    with Image.open(io.BytesIO(image)) as drawn:
        middle = drawn.crop((gutter, gutter, gutter + TILE, gutter + TILE))
        out = io.BytesIO()
        if media_type == "image/jpeg":
            middle.convert("RGB").save(out, "JPEG", quality=85)
        else:
            middle.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()


@cache
def blank_tile(media_type: str) -> bytes:
    """An empty tile: transparent PNG, or white JPEG."""
    out = io.BytesIO()
    if media_type == "image/jpeg":
        Image.new("RGB", (TILE, TILE), (255, 255, 255)).save(out, "JPEG", quality=85)
    else:
        Image.new("RGBA", (TILE, TILE), (0, 0, 0, 0)).save(out, "PNG")
    return out.getvalue()


def tile_key(layer: Layer, tile: MapTile, media_type: str, language: str) -> tuple[Any, ...]:
    """The cache key of a tile: what it shows (the version, the layer's last change: a new
    style) and how (format, language)."""
    version = layer.current
    return (layer.id, version.store_ref if version else None, layer.updated.isoformat(),
            tile.grid, tile.z, tile.y, tile.x, media_type, language)


def etag_of(key: tuple[Any, ...]) -> str:
    """A tile's entity tag."""
    return hashlib.sha256(repr(key).encode()).hexdigest()[:24]


def limits(extent: tuple[float, float, float, float] | None, grid_name: str,
           deepest: int | None = None) -> list[dict[str, int]]:
    """The rows and columns holding a layer's lon/lat ``extent`` at each level of a grid."""
    tms = grid(grid_name)
    box = extent or (23.1, 51.2, 32.8, 56.2)
    out = []
    for z in range(min(deepest if deepest is not None else 99, _MAX_ZOOM[grid_name]) + 1):
        first = tms.tile(box[0], box[3], z)
        last = tms.tile(box[2], box[1], z)
        matrix = tms.matrix(z)
        out.append({"z": z, "min_row": max(0, first.y), "max_row": min(matrix.matrixHeight - 1,
                                                                       last.y),
                    "min_col": max(0, first.x), "max_col": min(matrix.matrixWidth - 1, last.x)})
    return out


