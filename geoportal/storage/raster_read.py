"""A window of a COG version at a chosen size and CRS: what a coverage request returns.

Reads go through GDAL with an output shape, so a scaled-down request is served from the COG's
overviews (a few 512 px blocks) rather than from full-resolution pixels. A request is first
resolved into a ``Grid`` (bounds, size, CRS, bands): cheap, so the server can refuse one that
is too large before a single pixel is read.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import RasterioIOError, WindowError
from rasterio.io import DatasetReader, MemoryFile
from rasterio.transform import Affine, from_bounds
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window
from rasterio.windows import from_bounds as window_from_bounds

from geoportal.errors import InputError, NotFound
from geoportal.i18n import tr
from geoportal.storage.rasters import RasterLocation

__all__ = ["MAX_CELLS", "MAX_SIDE", "Grid", "RasterSource", "band_names", "raster_bounds"]

MAX_SIDE = 10_000  # pixels along one axis of an answer
MAX_CELLS = 16_777_216  # pixels x bands of an answer (64 MiB of float32)
Bounds = tuple[float, float, float, float]


def band_names(count: int) -> list[str]:
    """The range's field names: ``band1``... (a GeoTIFF's band descriptions are free text,
    often missing; stable names let a client ask for ``properties=band2``)."""
    return [f"band{i}" for i in range(1, count + 1)]


@dataclass(frozen=True)
class Grid:
    """A coverage request resolved: where (``bounds`` in ``crs``), how many pixels, which
    bands (1-based)."""

    bounds: Bounds
    width: int
    height: int
    crs: CRS
    bands: tuple[int, ...]

    @property
    def transform(self) -> Affine:
        return from_bounds(*self.bounds, self.width, self.height)

    @property
    def cells(self) -> int:
        return self.width * self.height * len(self.bands)


# Coordinates beyond this (in any CRS's units) are cut to it before PROJ sees them.
EARTH_LIMIT = 1e9


def _snap(window: Window, full: Window) -> Window | None:
    """``window`` grown to whole pixels and cut to the raster; None when nothing is left."""
    col0 = math.floor(window.col_off + 1e-9)
    row0 = math.floor(window.row_off + 1e-9)
    # a slice (one value on an axis) takes the pixel holding it
    col1 = max(math.ceil(window.col_off + window.width - 1e-9), col0 + 1)
    row1 = max(math.ceil(window.row_off + window.height - 1e-9), row0 + 1)
    col0, row0 = max(col0, 0), max(row0, 0)
    col1, row1 = min(col1, int(full.width)), min(row1, int(full.height))
    if col1 <= col0 or row1 <= row0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


class RasterSource:
    """One COG version, opened per request (GDAL caches its blocks across opens): a local
    file, or an object read in place with ranged requests (``/vsis3/...`` opened under the
    store's GDAL ``options``)."""

    def __init__(self, path: Path | str | RasterLocation, layer_id: str) -> None:
        location = path if isinstance(path, RasterLocation) else RasterLocation(str(path))
        if not location.remote and not Path(location.path).is_file():
            raise NotFound(f"the raster of {layer_id!r} is missing: {location.path}",
                           user_msg=tr("coverage {id} has no data file", id=repr(layer_id)))
        self.location = location
        self.path = location.path
        self.layer_id = layer_id

    @contextmanager
    def _open(self) -> Iterator[DatasetReader]:
        """The COG, opened under its store's GDAL configuration; a remote object that is
        gone or unreachable is a NotFound / StorageError naming the layer, not a 500 with
        GDAL's words."""
        with self.location.env():
            try:
                ds = rasterio.open(self.path)
            except RasterioIOError as exc:
                if not self.location.remote:
                    raise
                raise self.location.failure(
                    f"the raster of {self.layer_id!r}", exc,
                    tr("coverage {id} has no data file", id=repr(self.layer_id))) from None
            with ds:
                yield ds

    def grid(self, *, bounds: Bounds | None, bounds_crs: str | None, crs: str | None,
             size: tuple[int | None, int | None] = (None, None),
             factor: tuple[float, float] = (1.0, 1.0),
             bands: Sequence[int] | None = None, exact: bool = False) -> Grid:
        """Resolve a request: ``bounds`` (in ``bounds_crs``, the raster's own CRS when None)
        cut to the raster, in the output ``crs`` (the raster's when None), at ``size``
        pixels (an axis left None keeps its pixel count, divided by ``factor``).

        InputError when the area misses the raster, a band does not exist, or the answer
        would exceed ``MAX_SIDE`` / ``MAX_CELLS``. ``exact`` keeps ``bounds`` as given (in
        the raster's CRS, with both sizes): the grid a client asked for, nodata where it
        leaves the raster, instead of the part of the raster it covers.
        """
        with self._open() as ds:
            out_crs = CRS.from_user_input(crs) if crs else ds.crs
            # subset numbers without subset-crs are in the coverage's own CRS (its axes),
            # whatever CRS the answer is asked in
            in_crs = CRS.from_user_input(bounds_crs) if bounds_crs else ds.crs
            chosen = tuple(bands) if bands else tuple(range(1, ds.count + 1))
            wrong = [b for b in chosen if not 1 <= b <= ds.count]
            if wrong:
                raise InputError(tr("band {band} does not exist: the coverage has {count} "
                                    "band(s)", band=wrong[0], count=ds.count))
            with ExitStack() as stack:
                source = self._warped(ds, out_crs, stack)
                full = Window(0, 0, source.width, source.height)
                window = full
                if bounds is not None:
                    wanted = bounds
                    if in_crs == ds.crs:  # open ends (*) and far-off numbers: the raster's
                        wanted = _clamp(bounds, raster_bounds(ds), not exact)
                    found = None
                    # cut to the raster, an area beside it is inverted: nothing to read
                    if wanted[0] <= wanted[2] and wanted[1] <= wanted[3]:
                        if in_crs != source.crs:
                            # PROJ stalls on numbers far beyond the Earth (3857 to 4326
                            # hangs at 1e16): no CRS needs more than 1e9 of its units
                            wanted = transform_bounds(
                                in_crs, source.crs,
                                *(min(max(v, -EARTH_LIMIT), EARTH_LIMIT) for v in wanted),
                                densify_pts=21)
                        if all(math.isfinite(v) for v in wanted):  # PROJ's NaN: off its CRS
                            try:
                                found = _snap(window_from_bounds(*wanted, source.transform),
                                              full)
                            except WindowError:  # bounds that enclose nothing
                                found = None
                    if found is None:
                        left, bottom, right, top = source.bounds
                        extent = (f"{left:.6g},{min(bottom, top):.6g},{right:.6g},"
                                  f"{max(bottom, top):.6g}")
                        raise InputError(tr(
                            "the requested area lies outside the coverage, whose extent is "
                            "{extent} in {crs}", extent=extent, crs=_crs_name(source.crs)))
                    window = found
                left, bottom, right, top = rasterio.windows.bounds(window, source.transform)
                width, height = int(window.width), int(window.height)
                if exact and bounds is not None:
                    try:
                        asked = window_from_bounds(*bounds, source.transform)
                    except WindowError:  # bounds that enclose nothing
                        asked = Window(0, 0, 0, 0)
                    if max(asked.width / source.width, asked.height / source.height) > 64:
                        raise InputError(tr("the requested area is far larger than the "
                                            "coverage (more than 64 times its size): ask for "
                                            "the part of the world it covers"))
                    left, bottom, right, top = bounds
        out_w = size[0] or max(1, round(width / factor[0]))
        out_h = size[1] or max(1, round(height / factor[1]))
        grid = Grid((left, min(bottom, top), right, max(bottom, top)), out_w, out_h,
                    out_crs, chosen)
        if max(out_w, out_h) > MAX_SIDE or grid.cells > MAX_CELLS:
            raise InputError(tr(
                "the answer would be {width} x {height} pixels x {bands} band(s), more than "
                "the {side} px a side and {cells:,} cells served at once; ask for less with "
                "subset or bbox, or scale it with scale-size or scale-factor",
                width=out_w, height=out_h, bands=len(chosen), side=MAX_SIDE, cells=MAX_CELLS))
        return grid

    def read(self, grid: Grid) -> tuple[np.ma.MaskedArray, dict[str, Any]]:
        """The pixels of ``grid`` (bands, rows, columns, nodata masked) and the profile a
        GeoTIFF of them needs."""
        with self._open() as ds, ExitStack() as stack:
            source = self._warped(ds, grid.crs, stack)
            window = window_from_bounds(*grid.bounds, source.transform)
            inside = (window.col_off >= -1e-6 and window.row_off >= -1e-6
                      and window.col_off + window.width <= source.width + 1e-6
                      and window.row_off + window.height <= source.height + 1e-6)
            try:
                data = source.read(list(grid.bands), window=window,
                                   out_shape=(len(grid.bands), grid.height, grid.width),
                                   resampling=self._resampling(ds, grid), masked=True,
                                   boundless=not inside,
                                   fill_value=ds.nodata if ds.nodata is not None else 0)
            except RasterioIOError as exc:
                if self.location.remote:  # the store, not the request
                    raise self.location.failure(f"the raster of {self.layer_id!r}",
                                                exc) from None
                raise InputError(tr("the coverage cannot be read for this request ({error}); "
                                    "ask for a smaller area or size", error=str(exc))) from None
            profile = {
                "driver": "GTiff", "width": grid.width, "height": grid.height,
                "count": len(grid.bands), "dtype": ds.dtypes[grid.bands[0] - 1],
                "crs": grid.crs, "transform": grid.transform, "nodata": ds.nodata,
                "compress": "deflate", "tiled": grid.width > 512 or grid.height > 512,
            }
            if profile["tiled"]:
                profile.update(blockxsize=512, blockysize=512)
            colorinterp = [ds.colorinterp[b - 1] for b in grid.bands]
            descriptions = [ds.descriptions[b - 1] for b in grid.bands]
            colormap = None
            if ColorInterp.palette in colorinterp:
                try:
                    colormap = ds.colormap(grid.bands[0])
                except ValueError:
                    colormap = None
        return data, {"profile": profile, "descriptions": descriptions, "colormap": colormap}

    def geotiff(self, grid: Grid) -> bytes:
        """``grid`` as a GeoTIFF (DEFLATE), with the source's nodata and band descriptions."""
        data, extra = self.read(grid)
        profile = extra["profile"]
        nodata = profile["nodata"]
        if nodata is None and np.ma.is_masked(data):  # warped edges: say what is missing
            nodata = profile["nodata"] = _fill_value(data.dtype)
        filled = data.filled(nodata) if nodata is not None else data.data
        with MemoryFile() as memory:
            with memory.open(**profile) as out:
                out.write(filled)
                for i, text in enumerate(extra["descriptions"], start=1):
                    if text:
                        out.set_band_description(i, text)
                if extra["colormap"]:
                    out.write_colormap(1, extra["colormap"])
            tiff: bytes = memory.read()
            return tiff

    @staticmethod
    def _warped(ds: DatasetReader, crs: CRS, stack: ExitStack) -> DatasetReader | WarpedVRT:
        if crs == ds.crs:
            return ds
        return stack.enter_context(WarpedVRT(ds, crs=crs, resampling=Resampling.bilinear))

    @staticmethod
    def _resampling(ds: DatasetReader, grid: Grid) -> Resampling:
        if any(ds.colorinterp[b - 1] == ColorInterp.palette for b in grid.bands):
            return Resampling.nearest  # classes: no averages
        return Resampling.average


def raster_bounds(ds: DatasetReader) -> Bounds:
    """A raster's bounds as minx, miny, maxx, maxy whatever the grid's orientation (bottom is
    above top for a south-up grid)."""
    left, bottom, right, top = ds.bounds
    return min(left, right), min(bottom, top), max(left, right), max(bottom, top)


def _clamp(asked: Bounds, raster: Bounds, cut: bool) -> Bounds:
    """``asked`` cut to the raster (``cut``), or only its open ends (``*``, sent as 1e15)
    replaced by the raster's edges."""
    if cut:
        return (max(asked[0], raster[0]), max(asked[1], raster[1]),
                min(asked[2], raster[2]), min(asked[3], raster[3]))
    return tuple(r if abs(a) >= 1e15 else a  # type: ignore[return-value]
                 for a, r in zip(asked, raster, strict=True))


def _fill_value(dtype: np.dtype) -> float:
    if np.dtype(dtype).kind == "f":
        return float("nan")
    return float(np.iinfo(dtype).max if np.dtype(dtype).kind == "u" else np.iinfo(dtype).min)


def _crs_name(crs: CRS) -> str:
    auth = crs.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else "the coverage's CRS"
