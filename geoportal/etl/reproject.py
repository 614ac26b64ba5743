"""Which CRS a source is in, and the transformation of its coordinates to CRS84 (lon, lat)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError as PyprojCRSError

from geoportal.errors import CRSError

__all__ = ["parse_crs", "resolve_crs", "to_crs84"]

_CRS84 = pyproj.CRS("OGC:CRS84")


def parse_crs(text: str, *, origin: str) -> pyproj.CRS:
    """A pyproj CRS from 'EPSG:28405', a URI or WKT; CRSError names where it came from."""
    try:
        return pyproj.CRS.from_user_input(text)
    except PyprojCRSError:
        raise CRSError(
            f"{origin}: {text!r} is not a coordinate reference system PROJ knows"
        ) from None


def resolve_crs(
    *, declared: str | None, from_file: str | None, bounds: np.ndarray | None, origin: str
) -> tuple[pyproj.CRS, str]:
    """The source CRS and how we know it: declared in the manifest, the file's own, or assumed.

    A file with no CRS is taken as WGS 84 only when its coordinates are plausible degrees;
    anything else is an error asking for ``source.crs`` (detection comes with the full ETL).
    """
    if declared:
        return parse_crs(declared, origin=origin), "manifest"
    if from_file:
        return parse_crs(from_file, origin=origin), "file"
    if bounds is not None and np.all(np.isfinite(bounds)):
        minx, miny, maxx, maxy = bounds
        if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
            return pyproj.CRS("EPSG:4326"), "assumed"
    raise CRSError(
        f"{origin}: the file declares no coordinate reference system and its coordinates are "
        "not longitude/latitude degrees; set source.crs in the manifest (e.g. EPSG:28405)"
    )


@lru_cache(maxsize=64)
def _transformer(wkt: str) -> pyproj.Transformer | None:
    crs = pyproj.CRS.from_wkt(wkt)
    if crs.equals(_CRS84, ignore_axis_order=True):
        return None
    return pyproj.Transformer.from_crs(crs, _CRS84, always_xy=True)


def to_crs84(geoms: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Geometries transformed from ``crs`` (x = easting or longitude) to CRS84."""
    transformer = _transformer(crs.to_wkt())
    if transformer is None:
        return geoms

    def _apply(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1], errcheck=False)
        return np.column_stack([x, y])

    return shapely.transform(geoms, _apply)
