"""Which CRS a source is in, and the transformation of its coordinates to CRS84 (lon, lat)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError as PyprojCRSError

from geoportal.errors import CRSError
from geoportal.etl.detect import detect_crs

__all__ = ["CRSChoice", "parse_crs", "resolve_crs", "to_crs84"]

_CRS84 = pyproj.CRS("OGC:CRS84")


def parse_crs(text: str, *, origin: str) -> pyproj.CRS:
    """A pyproj CRS from 'EPSG:28405', a URI or WKT; CRSError names where it came from."""
    try:
        return pyproj.CRS.from_user_input(text)
    except PyprojCRSError:
        raise CRSError(
            f"{origin}: {text!r} is not a coordinate reference system PROJ knows"
        ) from None


@dataclass(frozen=True)
class CRSChoice:
    """The source CRS and how we know it, for the transformation and the report."""

    crs: pyproj.CRS
    origin: str  # manifest | file | detected
    swap_xy: bool  # the file writes northing (or latitude) first
    reason: str
    confidence: str  # high | medium | low

    @property
    def name(self) -> str:
        """``EPSG:28405``; a CRS without a code (a local MSK) as its full WKT, so the version
        and its quarantine keep what is needed to transform them."""
        auth = self.crs.to_authority()
        return f"{auth[0]}:{auth[1]}" if auth else self.crs.to_wkt()


def resolve_crs(
    *, declared: str | None, from_file: str | None, xy: np.ndarray,
    bbox: tuple[float, float, float, float] | None,
    candidates: tuple[tuple[str, str], ...], ambiguity_m: float, origin: str,
) -> CRSChoice:
    """The source CRS, how we know it (manifest, file, detected), whether x/y are swapped, and
    a sentence for the report.

    With no CRS declared anywhere, the candidates of ``config/crs.yaml`` are tried against the
    layer's region (see ``detect.detect_crs``).
    """
    if declared:
        return CRSChoice(parse_crs(declared, origin=origin), "manifest", False,
                         "set in the manifest", "high")
    if from_file:
        return CRSChoice(parse_crs(from_file, origin=origin), "file", False,
                         "declared by the file", "high")
    if bbox is None:
        raise CRSError(f"{origin}: the file declares no CRS and its region has no extent to "
                       "detect one against; set source.crs in the manifest")
    guess = detect_crs(xy, bbox, candidates=candidates, ambiguity_m=ambiguity_m, origin=origin)
    return CRSChoice(parse_crs(guess.crs, origin=origin), "detected", guess.swap_xy,
                     guess.reason, guess.confidence)


@lru_cache(maxsize=64)
def _transformer(wkt: str) -> pyproj.Transformer | None:
    crs = pyproj.CRS.from_wkt(wkt)
    if crs.equals(_CRS84, ignore_axis_order=True):
        return None
    return pyproj.Transformer.from_crs(crs, _CRS84, always_xy=True)


def to_crs84(geoms: np.ndarray, crs: pyproj.CRS, *, swap_xy: bool = False) -> np.ndarray:
    """Geometries transformed from ``crs`` (x = easting or longitude) to CRS84; ``swap_xy``
    first exchanges x and y (files that write northing or latitude first)."""
    transformer = _transformer(crs.to_wkt())
    if transformer is None and not swap_xy:
        return geoms

    def _apply(coords: np.ndarray) -> np.ndarray:
        x, y = (coords[:, 1], coords[:, 0]) if swap_xy else (coords[:, 0], coords[:, 1])
        if transformer is not None:
            x, y = transformer.transform(x, y, errcheck=False)
        return np.column_stack([x, y])

    return shapely.transform(geoms, _apply)
