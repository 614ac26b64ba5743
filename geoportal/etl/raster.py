"""Regions' GeoTIFFs (orthophotos, night lights, DEMs) made Cloud-Optimized, and described.

A COG lets OGC API Coverages read any window or zoom level with a few ranged reads, so every
raster the portal publishes is rewritten as one. The choices, all in ``make_cog``:

* DEFLATE (readable by every GDAL, QGIS and ArcGIS, unlike ZSTD) with predictor 2 for integers
  and 3 for floats; 512 x 512 tiles, for the image and its overviews.
* Overviews halve the size until the whole raster fits in one 512 px tile.
* Overviews average pixels (night lights, DEMs, imagery are continuous; GDAL skips nodata),
  except for a paletted band: its values are classes, so they take the nearest pixel.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import rasterio
from rasterio.crs import CRS
from rasterio.dtypes import in_dtype_range
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.io import DatasetReader
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rio_cogeo.cogeo import cog_translate, cog_validate
from rio_cogeo.profiles import cog_profiles

from geoportal.errors import CRSError, GeoportalError, InputError, UnsupportedFormat
from geoportal.etl.coverage import RASTER_SUFFIXES
from geoportal.etl.reproject import parse_crs
from geoportal.etl.sandbox import check_content
from geoportal.i18n import tr
from geoportal.storage.raster_read import raster_bounds

__all__ = ["RASTER_SUFFIXES", "RasterInfo", "describe", "make_cog"]

TILE = 512
_GDAL_CONFIG = {"GDAL_NUM_THREADS": "ALL_CPUS", "GDAL_TIFF_OVR_BLOCKSIZE": str(TILE)}


def _quiet(record: logging.LogRecord) -> bool:
    """Drop GDAL's warning that rio-cogeo's uncompressed (so faster) scratch file ignores our
    predictor: true, and of no use to an operator."""
    return "PREDICTOR option is ignored for COMPRESS=NONE" not in record.getMessage()


@dataclass(frozen=True)
class RasterInfo:
    """What the catalog records about a raster: its grid, bands and where it lies on Earth."""

    crs: str  # "EPSG:4326" when the CRS has an authority code, otherwise its WKT
    width: int
    height: int
    count: int  # bands
    dtypes: list[str]
    nodata: float | None
    resolution: tuple[float, float]  # pixel size (x, y) in CRS units
    bounds: tuple[float, float, float, float]  # in the raster's own CRS
    extent: tuple[float, float, float, float]  # lon/lat (CRS84): minx, miny, maxx, maxy
    overviews: list[int]  # decimation factors, e.g. [2, 4, 8]
    compression: str | None  # e.g. "deflate"
    blocksize: tuple[int, int]  # internal tile (width, height)
    band_descriptions: list[str | None]

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for JSON: lists for tuples, and a NaN nodata as the string "nan"."""
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        if self.nodata is not None and math.isnan(self.nodata):
            out["nodata"] = "nan"
        return out


def describe(path: Path) -> RasterInfo:
    """The ``RasterInfo`` of a GeoTIFF (or the one GeoTIFF in a .zip)."""
    with _open(Path(path)) as ds:
        return _info(ds, Path(path))


def make_cog(src: Path, dst: Path, *, crs: str | None = None,
             nodata: float | None = None) -> RasterInfo:
    """Write ``src`` as a validated Cloud-Optimized GeoTIFF at ``dst`` and describe it.

    ``crs`` (the manifest's ``source.crs``) is assigned to a file that has none; one that
    contradicts the file's own CRS is a mistake and raises CRSError. ``nodata`` overrides the
    file's nodata value. The COG is written beside ``dst`` under a temporary name and renamed
    when complete and valid, so ``dst`` is never half-written and a failure leaves nothing.
    """
    src, dst = Path(src), Path(dst)
    with _open(src) as ds:
        _check_grid(ds, src)
        target, assign = _target_crs(src, ds.crs, crs)
        _extent(target, raster_bounds(ds), src)
        if nodata is not None and not in_dtype_range(nodata, ds.dtypes[0]):
            raise InputError(tr("{file}: nodata {nodata:g} does not fit its {dtype} pixels",
                                file=src.name, nodata=nodata, dtype=ds.dtypes[0]))
        kind = np.dtype(ds.dtypes[0]).kind
        # rio-cogeo's COGProfiles.get has no annotations
        deflate = cog_profiles.get("deflate")  # type: ignore[no-untyped-call]
        profile = {**deflate, "blockxsize": TILE, "blockysize": TILE, "BIGTIFF": "IF_SAFER"}
        if kind in "iuf":
            profile["predictor"] = 3 if kind == "f" else 2
        level = 0  # overviews halve the raster until it fits in one tile
        while max(ds.width, ds.height) > TILE * 2**level:
            level += 1
        categorical = ColorInterp.palette in ds.colorinterp
        dst.parent.mkdir(parents=True, exist_ok=True)
        # Not mkstemp: its 0600 mode would stick to the COG the server must read.
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
        try:
            with ExitStack() as stack:
                logging.getLogger("rasterio._env").addFilter(_quiet)
                stack.callback(logging.getLogger("rasterio._env").removeFilter, _quiet)
                source: DatasetReader | WarpedVRT = ds
                if assign:  # the same grid with the CRS attached: nearest copies pixels as-is
                    source = stack.enter_context(WarpedVRT(
                        ds, src_crs=target, crs=target, transform=ds.transform,
                        width=ds.width, height=ds.height, resampling=Resampling.nearest))
                try:
                    cog_translate(
                        source, tmp, profile, nodata=nodata, overview_level=level,
                        overview_resampling="nearest" if categorical else "average",
                        in_memory=False, quiet=True, config=_GDAL_CONFIG)
                except RasterioError as exc:  # pixels that cannot be read: a cut-off upload
                    raise InputError(tr(
                        "{file}: the pixels cannot be read ({error}); the file is incomplete "
                        "or damaged: send it again", file=src.name,
                        error=_reason(exc, src))) from None
            valid, errors, _ = cog_validate(tmp, quiet=True)
            if not valid:
                raise GeoportalError(f"{src.name}: the COG written is not valid: "
                                     f"{'; '.join(errors)}")
            with rasterio.open(tmp) as out:
                info = _info(out, src)
            os.replace(tmp, dst)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return info


@contextmanager
def _open(path: Path) -> Iterator[DatasetReader]:
    """The GeoTIFF at ``path`` (or the single one in a .zip), opened; each refusal names it."""
    if not path.is_file():
        raise InputError(tr("{file}: no such file", file=path.name))
    target = str(path)
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                inner = [n for n in zf.namelist() if n.lower().endswith(RASTER_SUFFIXES)]
        except zipfile.BadZipFile:
            raise UnsupportedFormat(tr("{file}: not a readable zip archive",
                                       file=path.name)) from None
        if len(inner) != 1:
            raise UnsupportedFormat(tr("{file}: the archive must hold exactly one .tif, it "
                                       "holds {n}", file=path.name, n=len(inner)))
        target = f"/vsizip/{path}/{inner[0]}"
    elif path.suffix.lower() not in RASTER_SUFFIXES:
        raise UnsupportedFormat(
            tr("{file}: rasters must be GeoTIFF (.tif, .tiff), not {suffix}", file=path.name,
               suffix=path.suffix) if path.suffix
            else tr("{file}: rasters must be GeoTIFF (.tif, .tiff), not a file without "
                    "extension", file=path.name))
    else:
        check_content(path, path.name)  # a VRT or a WMS description named .tif never reaches GDAL
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        try:
            ds = rasterio.open(target, driver="GTiff")  # no other driver may open it
        except RasterioError as exc:
            raise UnsupportedFormat(tr("{file}: not a raster GDAL can read ({error})",
                                       file=path.name, error=_reason(exc, path))) from None
        with ds:
            if ds.driver != "GTiff":
                raise UnsupportedFormat(tr("{file}: a {driver} raster, not a GeoTIFF",
                                           file=path.name, driver=ds.driver))
            if ds.count == 0:
                raise InputError(tr("{file}: the raster has no bands", file=path.name))
            yield ds


def _reason(exc: Exception, path: Path) -> str:
    """GDAL's message with the file named as the user knows it, not by its place on the
    server (nor the ``/vsizip/`` path of the GeoTIFF inside a zip)."""
    text = str(exc).replace(f"/vsizip/{path}/", f"{path.name}/")
    return text.replace(str(path), path.name).replace(str(path.parent) + os.sep, "")


def _check_grid(ds: DatasetReader, origin: Path) -> None:
    """InputError unless pixels sit on a north-up grid with a geotransform."""
    if ds.transform.is_identity:
        raise InputError(
            tr("{file}: the raster is georeferenced only by ground control points; warp it "
               "first", file=origin.name) if ds.gcps[0]
            else tr("{file}: the raster is not georeferenced (no geotransform, no ground "
                    "control points)", file=origin.name))
    if ds.transform.b or ds.transform.d:
        raise InputError(tr("{file}: rotated grids are not supported; warp it first",
                            file=origin.name))


def _target_crs(origin: Path, file_crs: CRS | None, given: str | None) -> tuple[CRS, bool]:
    """The COG's CRS, and whether it is the manifest's, to attach to a file that has none."""
    if given is None:
        if file_crs is None:
            raise CRSError(tr("{file}: the raster declares no CRS; set source.crs in the "
                              "manifest", file=origin.name))
        return file_crs, False
    wanted = parse_crs(given, origin=origin.name)
    if file_crs is None:
        return CRS.from_wkt(wanted.to_wkt()), True
    if not pyproj.CRS.from_wkt(file_crs.to_wkt()).equals(wanted, ignore_axis_order=True):
        raise CRSError(tr("{file}: the manifest's source.crs {given} contradicts the file's "
                          "own CRS {crs}; remove source.crs or fix the file", file=origin.name,
                          given=given, crs=_crs_text(file_crs)))
    return file_crs, False


def _extent(crs: CRS, bounds: tuple[float, float, float, float],
            origin: Path) -> tuple[float, float, float, float]:
    """``bounds`` in CRS84 (edges densified); CRSError when they do not land on the globe."""
    try:
        ext: tuple[float, float, float, float] = transform_bounds(
            crs, "OGC:CRS84", *bounds, densify_pts=21)
    except Exception as exc:
        raise CRSError(tr("{file}: its bounds do not transform to lon/lat ({error})",
                          file=origin.name, error=str(exc))) from None
    if not all(map(math.isfinite, ext)) or not -90.000001 <= ext[1] <= ext[3] <= 90.000001:
        raise CRSError(tr("{file}: its bounds {bounds} do not lie on the globe in {crs}; the "
                          "CRS is probably wrong", file=origin.name, bounds=str(bounds),
                          crs=_crs_text(crs)))
    return ext


def _crs_text(crs: CRS) -> str:
    auth = crs.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else crs.to_wkt()


def _info(ds: DatasetReader, origin: Path) -> RasterInfo:
    _check_grid(ds, origin)
    crs, _ = _target_crs(origin, ds.crs, None)
    bounds = raster_bounds(ds)
    extent = _extent(crs, bounds, origin)
    rows, cols = ds.block_shapes[0]
    return RasterInfo(
        crs=_crs_text(crs), width=ds.width, height=ds.height, count=ds.count,
        dtypes=list(ds.dtypes), nodata=None if ds.nodata is None else float(ds.nodata),
        resolution=ds.res, bounds=bounds, extent=extent,
        overviews=ds.overviews(1),
        compression=ds.compression.name.lower() if ds.compression else None,
        blocksize=(cols, rows), band_descriptions=list(ds.descriptions))
