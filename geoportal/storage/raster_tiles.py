"""PNG map tiles of a COG version in WebMercatorQuad, drawn by rio-tiler.

A web map shows a raster through 256 px tiles: rio-tiler reads each from the COG's best
overview and warps it to Web Mercator. One band is stretched between two values (by default
its 2nd and 98th percentiles, computed once per version) and coloured by a named colormap;
three or four 8-bit bands are drawn as they are; a paletted band keeps its palette. Pixels
with no data are transparent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
from rasterio.errors import RasterioIOError
from rio_tiler.colormap import cmap
from rio_tiler.errors import InvalidColorMapName, TileOutsideBounds
from rio_tiler.io import Reader
from rio_tiler.types import GDALColorMapType

from geoportal.errors import InputError
from geoportal.i18n import tr
from geoportal.storage.rasters import RasterLocation

__all__ = ["DEFAULT_COLORMAP", "Style", "colormap_colours", "colormaps", "drawn_as", "legend",
           "render_tile", "stretch"]

DEFAULT_COLORMAP = "inferno"
TILE_SIZE = 256
_STRETCH: dict[str, tuple[float, float]] = {}
_DRAWN: dict[str, str] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Style:
    """How a tile is drawn: the value range mapped to the colormap's ends, and its name."""

    rescale: tuple[float, float] | None = None  # None: the layer's default stretch
    colormap: str = DEFAULT_COLORMAP


def colormaps() -> list[str]:
    """The colormap names a request may use (matplotlib's, from rio-tiler)."""
    return sorted(cmap.list())


def _location(path: Path | str | RasterLocation) -> RasterLocation:
    return path if isinstance(path, RasterLocation) else RasterLocation(str(path))


@contextmanager
def _opened(where: RasterLocation) -> Iterator[Reader]:
    """rio-tiler's reader under the store's GDAL options; an object store that fails to
    answer is a 503 (ObjectStoreUnavailable), a missing object a 404, not GDAL's error as a
    500."""
    with where.env():
        try:
            with Reader(where.path) as src:
                yield src
        except RasterioIOError as exc:
            if not where.remote:
                raise
            raise where.failure("the raster", exc) from None


def stretch(path: Path | str | RasterLocation) -> tuple[float, float]:
    """The 2nd and 98th percentiles of band 1 (nodata left out), from a coarse overview;
    computed once per file (a version's file never changes)."""
    where = _location(path)
    key = where.path
    found = _STRETCH.get(key)
    if found is None:
        with _opened(where) as src:
            stats = src.statistics(indexes=1, max_size=1024, percentiles=[2, 98])
        band = next(iter(stats.values()))
        percentiles = band.model_extra or {}  # rio-tiler keeps them as extra fields
        low, high = float(percentiles["percentile_2"]), float(percentiles["percentile_98"])
        if not high > low:  # a constant band: any range around it
            low, high = float(band.min), float(band.max) if band.max > band.min else low + 1
        found = (low, high)
        with _LOCK:
            _STRETCH[key] = found
    return found


def drawn_as(path: Path | str | RasterLocation) -> str:
    """How the tiles colour the raster: ``"palette"`` (its own colour table), ``"rgb"`` (three
    or four 8-bit bands, as they are) or ``"ramp"`` (band 1 stretched over a colormap);
    looked up once per file."""
    where = _location(path)
    found = _DRAWN.get(where.path)
    if found is None:
        with _opened(where) as src:
            dataset = src.dataset
            assert dataset is not None  # open within the ``with``
            if dataset.count == 1 and dataset.colorinterp[0].name == "palette":
                found = "palette"
            elif dataset.count in (3, 4) and dataset.dtypes[0] == "uint8":
                found = "rgb"
            else:
                found = "ramp"
        with _LOCK:
            _DRAWN[where.path] = found
    return found


def colormap_colours(name: str = DEFAULT_COLORMAP) -> list[tuple[int, int, int]]:
    """The 256 RGB colours of a named colormap, from its low end to its high end."""
    colours = _colormap(name)
    return [tuple(colours[i][:3]) for i in range(256)]  # type: ignore[misc]


def _colormap(name: str) -> GDALColorMapType:
    """rio-tiler's colormap ``name`` (any case); an InputError naming a few others."""
    try:
        # the named colormaps are 256-entry GDAL maps; ``get`` is typed for any kind
        return cast(GDALColorMapType, cmap.get(name.lower()))
    except (InvalidColorMapName, KeyError):
        raise InputError(tr("colormap {name} is unknown; use one of {names}...",
                            name=repr(name), names=", ".join(colormaps()[:12]))) from None


def render_tile(path: Path | str | RasterLocation, z: int, x: int, y: int,
                style: Style) -> bytes | None:
    """The PNG tile z/x/y of the COG at ``path`` (a file, or an object read in place under
    its GDAL options); None where the raster has no pixels."""
    where = _location(path)
    with _opened(where) as src:
        try:
            image = src.tile(x, y, z, tilesize=TILE_SIZE, resampling_method="bilinear",
                             reproject_method="bilinear")
        except TileOutsideBounds:
            return None
        if np.ma.getmaskarray(image.array).all():  # nothing but nodata here
            return None
        palette = None
        dataset = src.dataset  # open within the ``with``
        if dataset is not None and dataset.count == 1 \
                and dataset.colorinterp[0].name == "palette":
            palette = dataset.colormap(1)
        bands = image.count
        dtype = image.data.dtype
    if palette is not None:
        return image.render(img_format="PNG", colormap=palette)
    if bands in (3, 4) and dtype == np.uint8:
        if bands == 4:
            image = image.__class__(image.array[:3], assets=image.assets, bounds=image.bounds,
                                    crs=image.crs)
        return image.render(img_format="PNG")
    low, high = style.rescale or stretch(where)
    one = image.__class__(image.array[:1], bounds=image.bounds, crs=image.crs)
    one = one.rescale(in_range=((low, high),))
    return one.render(img_format="PNG", colormap=_colormap(style.colormap))


def legend(path: Path | str | RasterLocation, style: Style,
           steps: int = 5) -> list[dict[str, object]]:
    """Values and their colours along the stretch, for a map legend."""
    low, high = style.rescale or stretch(path)
    colors = _colormap(style.colormap)
    out = []
    for i in range(steps):
        value = low + (high - low) * i / (steps - 1)
        r, g, b, _ = colors[min(255, round(255 * i / (steps - 1)))]
        out.append({"value": round(value, 6), "color": f"#{r:02x}{g:02x}{b:02x}"})
    return out
