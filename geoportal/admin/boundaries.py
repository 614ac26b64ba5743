"""Region boundaries: whether an editor's feature lies inside the regions of the token.

``config/boundaries.geojson`` (built by ``scripts/build_samples.py``) holds one CRS84 polygon
per SOATO code: the country, the oblasts and Minsk city, the raions. A region without a
boundary of its own (Minsk city's districts) uses its nearest ancestor's. Without the file,
every region falls back to its bbox from ``config/regions.yaml``.

The area of a set of regions is the union of their boundaries grown by a tolerance in metres
(``boundary_tolerance_m``): the source polygons are simplified, and a feature drawn on the
border should not be refused. It is built once per set of codes and kept prepared, so a
point is checked in microseconds.

Part 4 edits check a feature against the token's regions; uploads (``geoportal.etl.pipeline``,
for the CLI and the admin API alike) check every feature against the layer's region with the
same areas, a whole batch per call (``shapely.covers`` on the array).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import shapely
from pyproj import Transformer
from shapely.geometry import shape

from geoportal.catalog.registry import Registry
from geoportal.errors import InputError, SchemaError
from geoportal.i18n import tr

__all__ = ["BOUNDARIES_FILE", "METRIC_CRS", "RegionBoundaries"]

BOUNDARIES_FILE = "boundaries.geojson"
# WGS 84 / UTM zone 35N: across Belarus (23-33 E) its scale error stays under 0.3 %.
METRIC_CRS = "EPSG:32635"
_CRS84_NAMES = {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "OGC:CRS84"}
_DENSIFY_DEG = 0.01  # about 1 km: a long lon/lat edge (a bbox side) keeps its shape in UTM
_QUAD_SEGS = 4  # buffer arcs: 4 segments per quarter circle is ample at a few hundred metres
_CACHE_SIZE = 256  # sets of codes kept (in practice one per token)


@cache
def _transformers() -> tuple[Transformer, Transformer]:
    return (Transformer.from_crs("OGC:CRS84", METRIC_CRS, always_xy=True),
            Transformer.from_crs(METRIC_CRS, "OGC:CRS84", always_xy=True))


def _grow(geometry: shapely.Geometry, metres: float) -> shapely.Geometry:
    """Buffer a CRS84 geometry by ``metres``, measured in the metric CRS."""
    to_metric, to_lonlat = _transformers()
    dense = shapely.segmentize(geometry, _DENSIFY_DEG)
    metric = shapely.transform(dense, to_metric.transform, interleaved=False)
    grown = shapely.buffer(metric, metres, quad_segs=_QUAD_SEGS)
    back = shapely.transform(grown, to_lonlat.transform, interleaved=False)
    return back if back.is_valid else shapely.make_valid(back)


def _read(path: Path, registry: Registry) -> dict[str, shapely.Geometry]:
    """The polygons of ``path`` by SOATO code; a SchemaError names what is wrong."""
    try:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise SchemaError(tr("{path}: not readable GeoJSON ({error})", path=path,
                              error=str(exc))) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise SchemaError(tr("{path}: expected a GeoJSON FeatureCollection", path=path))
    crs = ((data.get("crs") or {}).get("properties") or {}).get("name")
    if crs is not None and crs not in _CRS84_NAMES:
        raise SchemaError(tr("{path}: coordinates must be CRS84 (longitude, latitude), not {crs}",
                              path=path, crs=crs))
    boundaries: dict[str, shapely.Geometry] = {}
    for i, feature in enumerate(data.get("features") or []):
        code = str(((feature or {}).get("properties") or {}).get("code") or "")
        try:
            geometry = shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.ShapelyError):
            geometry = None
        if not code or geometry is None or geometry.geom_type not in {"Polygon", "MultiPolygon"}:
            raise SchemaError(tr("{path}: feature {i} needs a 'code' property and a (Multi)Polygon",
                                  path=path, i=i))
        if code in boundaries:
            raise SchemaError(tr("{path}: region {code} appears twice", path=path, code=code))
        boundaries[code] = geometry if geometry.is_valid else shapely.make_valid(geometry)
    unknown = sorted(set(boundaries) - set(registry.regions))
    if unknown:
        raise SchemaError(tr("{path}: regions {codes} are not in regions.yaml; rebuild the file "
                             "with scripts/build_samples.py", path=path, codes=", ".join(unknown)))
    return boundaries


class _Area:
    """A prepared area and the lock its queries take.

    GEOS builds the indexes of a prepared geometry lazily and keeps scratch state in them, so
    queries on one prepared geometry from several threads are not safe (libgeos/geos#825).
    """

    __slots__ = ("geometry", "lock")

    def __init__(self, geometry: shapely.Geometry) -> None:
        shapely.prepare(geometry)
        self.geometry = geometry
        self.lock = threading.Lock()


class RegionBoundaries:
    """The boundaries of the regions, and the areas editors may write to.

    Parameters
    ----------
    path : Path
        ``boundaries.geojson``; if it does not exist, the regions' bboxes are used.
    registry : Registry
        The region register (codes, parents, bboxes).
    tolerance_m : float
        How far beyond a boundary a feature may reach, in metres.

    Raises
    ------
    SchemaError
        The file is not a FeatureCollection of (Multi)Polygons with a ``code`` each, or names
        a region that ``regions.yaml`` lacks.
    """

    def __init__(self, path: Path, registry: Registry, tolerance_m: float) -> None:
        if not (math.isfinite(tolerance_m) and tolerance_m >= 0):
            raise InputError(tr("boundary tolerance {value}: use metres >= 0",
                                value=repr(tolerance_m)))
        self.path = Path(path)
        self.registry = registry
        self.tolerance_m = float(tolerance_m)
        self._boundaries = _read(self.path, registry) if self.path.is_file() else {}
        self._areas: dict[frozenset[str], _Area] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, config_dir: Path, registry: Registry, tolerance_m: float) -> RegionBoundaries:
        """The boundaries of ``config_dir/boundaries.geojson`` (bboxes if there is none)."""
        return cls(Path(config_dir) / BOUNDARIES_FILE, registry, tolerance_m)

    @classmethod
    def from_bboxes(cls, registry: Registry, tolerance_m: float = 0.0) -> RegionBoundaries:
        """Each region's bbox from ``regions.yaml`` as its boundary: for tools and tests that
        have no ``boundaries.geojson``."""
        return cls(Path(), registry, tolerance_m)  # "." is a folder: no boundary file

    def __repr__(self) -> str:
        return (f"RegionBoundaries({str(self.path)!r}, {len(self._boundaries)} boundaries, "
                f"tolerance_m={self.tolerance_m:g})")

    @property
    def codes(self) -> frozenset[str]:
        """The regions with a boundary of their own (none if the file is missing)."""
        return frozenset(self._boundaries)

    def area(self, codes: Iterable[str]) -> shapely.Geometry:
        """The union of the regions' boundaries grown by the tolerance, prepared (CRS84).

        A region without a boundary uses its nearest ancestor's, or without any, its bbox.
        Built once per set of codes. The geometry is shared: query it from one thread at a
        time, or use :meth:`outside`.

        Raises
        ------
        SchemaError
            A code is not in ``regions.yaml``.
        """
        return self._area(codes).geometry

    def outside(self, codes: Iterable[str], geometry: Any) -> Any:
        """Whether any part of a CRS84 geometry lies outside :meth:`area` of ``codes``.

        Parameters
        ----------
        codes : iterable of str
            SOATO codes (a token's regions). No codes: an empty area, everything is outside.
        geometry : Geometry or array_like of Geometry
            Longitude, latitude. An empty or missing geometry is never outside.

        Returns
        -------
        bool, or an array of bool for an array of geometries.
        """
        area = self._area(codes)
        if geometry is None:
            return False
        if isinstance(geometry, shapely.Geometry):  # the scalar fast path (no ufunc)
            with area.lock:
                covered = area.geometry.covers(geometry)
            return not (covered or geometry.is_empty)
        with area.lock:
            covered = shapely.covers(area.geometry, geometry)
        return ~(covered | shapely.is_missing(geometry) | shapely.is_empty(geometry))

    # ----------------------------------------------------------------------------------
    def _area(self, codes: Iterable[str]) -> _Area:
        key = frozenset((codes,)) if isinstance(codes, str) else frozenset(codes)
        area = self._areas.get(key)  # a dict read is atomic: no lock once built
        if area is not None:
            return area
        with self._lock:  # one build at a time, and only once per set of codes
            area = self._areas.get(key)
            if area is None:
                area = _Area(self._build(key))
                while len(self._areas) >= _CACHE_SIZE:
                    del self._areas[next(iter(self._areas))]  # the oldest
                self._areas[key] = area
            return area

    def _build(self, codes: frozenset[str]) -> shapely.Geometry:
        parts = {id(g): g for g in (self._own(str(code)) for code in sorted(codes))}
        union = shapely.union_all(list(parts.values()))
        if self.tolerance_m > 0 and not union.is_empty:
            union = _grow(union, self.tolerance_m)
        return union

    def _own(self, code: str) -> shapely.Geometry:
        """The boundary of a region or its nearest ancestor's; else the nearest bbox."""
        self.registry.region(code)  # SchemaError for an unknown code
        chain = self._ancestry(code)
        for c in chain:
            if c in self._boundaries:
                return self._boundaries[c]
        for c in chain:
            bbox = self.registry.regions[c].bbox
            if bbox is not None:
                return shapely.box(*bbox)
        return shapely.Polygon()

    def _ancestry(self, code: str) -> list[str]:
        """The region, its parent, its parent's parent... (known regions only)."""
        chain: list[str] = []
        current: str | None = code
        while current is not None and current in self.registry.regions and current not in chain:
            chain.append(current)
            current = self.registry.regions[current].parent
        return chain
