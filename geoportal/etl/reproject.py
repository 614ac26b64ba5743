"""Which CRS a source is in, and the transformation of its coordinates to CRS84 (lon, lat)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError as PyprojCRSError
from pyproj.exceptions import ProjError

from geoportal.errors import CRSError
from geoportal.etl import gazetteer
from geoportal.etl.detect import AmbiguousCRS, detect_crs, share_inside
from geoportal.i18n import tr

__all__ = ["CRSChoice", "parse_crs", "resolve_crs", "to_crs84"]

_CRS84 = pyproj.CRS("OGC:CRS84")
# A declared CRS is read with x and y exchanged when at most FEW of the sampled coordinates
# fall inside the region as written and at least MOST of them do exchanged; anything in
# between stays as declared (its features outside the region are set aside).
FEW, MOST = 0.05, 0.8


def parse_crs(text: str, *, origin: str) -> pyproj.CRS:
    """A pyproj CRS from 'EPSG:28405', a URI or WKT; CRSError names where it came from."""
    try:
        crs = pyproj.CRS.from_user_input(text)
    except PyprojCRSError:
        raise CRSError(tr("{origin}: {crs} is not a coordinate reference system PROJ knows",
                          origin=origin, crs=repr(text))) from None
    try:  # a local (engineering) CRS, a .prj's LOCAL_CS: no way to longitude/latitude
        _transformer(crs.to_wkt())
    except ProjError:
        raise CRSError(tr("{origin}: the CRS {name} cannot be placed on the earth (a local CRS "
                          "without a datum); set source.crs in the manifest to the CRS the "
                          "coordinates are in, e.g. EPSG:28405", origin=origin,
                          name=repr(crs.name))) from None
    return crs


@dataclass(frozen=True)
class CRSChoice:
    """The source CRS and how we know it, for the transformation and the report."""

    crs: pyproj.CRS
    origin: str  # manifest | file | detected
    swap_xy: bool  # the file writes northing (or latitude) first
    reason: str
    confidence: str  # high | medium | low
    note: str | None = None  # what the report must say beyond the CRS (a swap, a tie-break)

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
    names: gazetteer.NameSample | None = None,
) -> CRSChoice:
    """The source CRS, how we know it (manifest, file, detected), whether x/y are swapped, and
    a sentence for the report.

    A declared CRS whose coordinates all fall outside the region but inside it with x and y
    exchanged (latitude or northing written first) is read exchanged, with a note. With no
    CRS declared anywhere, the candidates of ``config/crs.yaml`` are tried against the
    layer's region (see ``detect.detect_crs``); candidates that disagree are settled by the
    place names of ``names`` where the gazetteer knows enough of them (``gazetteer.settle``).
    """
    if declared:
        return _written_swapped(CRSChoice(parse_crs(declared, origin=origin), "manifest",
                                          False, "set in the manifest", "high"), xy, bbox)
    if from_file:
        return _written_swapped(CRSChoice(parse_crs(from_file, origin=origin), "file", False,
                                          "declared by the file", "high"), xy, bbox)
    if bbox is None:
        raise CRSError(tr("{origin}: the file declares no CRS and its region has no extent to "
                          "detect one against; set source.crs in the manifest", origin=origin))
    try:
        guess = detect_crs(xy, bbox, candidates=candidates, ambiguity_m=ambiguity_m,
                           origin=origin)
    except AmbiguousCRS as exc:
        if names is None:
            raise
        return _settled(exc, names, ambiguity_m=ambiguity_m, origin=origin)
    return CRSChoice(parse_crs(guess.crs, origin=origin), "detected", guess.swap_xy,
                     guess.reason, guess.confidence)


def _label(choice: CRSChoice) -> str:
    """How the report calls a declared CRS: ``CRS84`` for a file's WGS 84 longitude/latitude
    (GDAL says EPSG:4326 for a GeoJSON's CRS84), else its code or name as declared."""
    auth = choice.crs.to_authority()
    if auth == ("OGC", "CRS84") or (choice.origin == "file" and choice.crs.equals(
            _CRS84, ignore_axis_order=True)):
        return "CRS84"
    return f"{auth[0]}:{auth[1]}" if auth else choice.crs.name


def _written_swapped(choice: CRSChoice, xy: np.ndarray,
                     bbox: tuple[float, float, float, float] | None) -> CRSChoice:
    """``choice`` read with x and y exchanged when that clearly puts the sample in the region
    and the coordinates as written do not (``FEW``, ``MOST``); otherwise ``choice``."""
    if bbox is None or not len(xy):
        return choice
    wkt = choice.crs.to_wkt()
    as_written = share_inside(xy, wkt, bbox, swap=False)
    if as_written > FEW:
        return choice
    exchanged = share_inside(xy, wkt, bbox, swap=True)
    if exchanged < MOST:
        return choice
    order = "lat/lon" if choice.crs.is_geographic else "northing/easting"
    note = (f"declared {_label(choice)}, coordinates are {order}: swapped ({exchanged:.0%} of "
            f"the sampled coordinates fall inside the region swapped, {as_written:.0%} as "
            "written)")
    return CRSChoice(choice.crs, choice.origin, True, f"{choice.reason}; {note}",
                     "high" if exchanged >= 0.95 else "medium", note)


def _fit_names(fits: tuple[tuple[str, str, bool], ...]) -> str:
    return ", ".join(f"{crs}{' (x/y swapped)' if swap else ''}" for crs, _, swap in fits)


def _settled(exc: AmbiguousCRS, names: gazetteer.NameSample, *, ambiguity_m: float,
             origin: str) -> CRSChoice:
    """The fit of ``exc`` the gazetteer settles on, or a CRSError saying why it could not."""
    verdict = gazetteer.settle(exc, names)
    if verdict is None:
        raise exc
    fits = exc.fits
    if verdict.chosen is None:
        counts = ", ".join(f"{crs} {n}" for (crs, _, _), n in zip(fits, verdict.within,
                                                                    strict=True))
        fields = ", ".join(repr(c) for c in verdict.columns)
        raise CRSError(tr(
            "{origin}: no CRS declared and the coordinates fit several that disagree by more "
            "than {metres} m ({names}); the place names in {fields} do not settle it ({named} "
            "named features; within {km} km of a known place of the name: {counts}; one CRS "
            "needs at least {least} and the others at most a quarter as many); set source.crs "
            "in the manifest", origin=origin, metres=f"{ambiguity_m:.0f}",
            names=_fit_names(fits), fields=fields, named=verdict.named,
            km=f"{gazetteer.WITHIN_M / 1000:.0f}", counts=counts, least=gazetteer.AT_LEAST))
    crs, _, swap = fits[verdict.chosen]
    shown = ", ".join(f"{label} {metres / 1000:.1f} km" for label, metres in
                      verdict.nearest[:5])
    more = ", ..." if len(verdict.nearest) > 5 else ""
    others = ", ".join(f"{n} under {c}" for i, ((c, _, _), n) in
                       enumerate(zip(fits, verdict.within, strict=True)) if i != verdict.chosen)
    note = (f"settled by the gazetteer: {verdict.within[verdict.chosen]} names within "
            f"{gazetteer.WITHIN_M / 1000:.0f} km under {crs}{' (x/y swapped)' if swap else ''} "
            f"({shown}{more}); {others}")
    reason = (f"no CRS declared; the coordinates fit {_fit_names(fits)}, which disagree by "
              f"more than {ambiguity_m:.0f} m; {note}")
    confidence = "high" if verdict.within[verdict.chosen] >= 2 * gazetteer.AT_LEAST else "medium"
    return CRSChoice(parse_crs(crs, origin=origin), "detected", swap, reason, confidence, note)


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

    transformed: np.ndarray = shapely.transform(geoms, _apply)
    return transformed
