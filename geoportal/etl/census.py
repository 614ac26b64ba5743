"""A geometry census: how many features of a source are points, lines and polygons.

A layer holds one geometry type. When a source does not declare one (a GeoJSON or KML folder
mixing types, a GeoPackage "Geometry" table, a CSV of WKT), the census decides what to publish:
the dominant family (the others are set aside with their reason), or one layer per family
(``split``), and whether the layer needs the Multi* type at all (promote only when needed).

The census is a geometry-only pass over the file (GDAL reads no attribute column) and reads
each feature's type from its WKB header with numpy: a million features cost a second or two.
Only GeometryCollections are looked into one by one (shapely), to see what they hold.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import shapely

from geoportal.errors import GeoportalError
from geoportal.etl.failures import READ_ERRORS, damaged
from geoportal.etl.manifest import Manifest
from geoportal.etl.readers import GEOMETRY, Source, _gdal_reason, open_batches

__all__ = ["FAMILIES", "NO_FAMILY", "Census", "declared_family", "families", "split_manifests",
           "take_census"]

# Family codes, in the order layers are listed; 0: no geometry; -1: a type of no family
# (curves, TINs), set aside by the layer that keeps the features without a family.
FAMILIES = {1: "Point", 2: "Line", 3: "Polygon"}
NO_FAMILY = 0
OTHER = -1
# The suffix of each family's layer when a source is split.
SUFFIX = {"Point": "points", "Line": "lines", "Polygon": "polygons"}
_CODE = {name: code for code, name in FAMILIES.items()}
_TARGETS = {"Point": ("Point", "MultiPoint"), "Line": ("LineString", "MultiLineString"),
            "Polygon": ("Polygon", "MultiPolygon")}
# ISO WKB type (without Z/M) -> family code; 7 is GeometryCollection, looked into.
_WKB_FAMILY = np.full(8, OTHER, dtype=np.int8)
_WKB_FAMILY[[1, 4]], _WKB_FAMILY[[2, 5]], _WKB_FAMILY[[3, 6]] = 1, 2, 3
_COLLECTION = 7
# shapely type id -> family (2 is a LinearRing)
_SHAPELY_FAMILY = {0: "Point", 1: "Line", 2: "Line", 3: "Polygon", 4: "Point", 5: "Line",
                   6: "Polygon"}
# How a split layer's title names its family, per language.
_TITLE = {"Point": {"be": "пункты", "ru": "точки", "en": "points"},
          "Line": {"be": "лініі", "ru": "линии", "en": "lines"},
          "Polygon": {"be": "палігоны", "ru": "полигоны", "en": "polygons"}}
_NOUNS = {"Point": ("point", "points"), "Line": ("line", "lines"),
          "Polygon": ("polygon", "polygons")}


def declared_family(declared: str) -> str | None:
    """The family a declared layer type names ('MultiPolygon' -> 'Polygon'); None for
    'Unknown', 'Geometry', 'GeometryCollection' and the like: the census decides."""
    base = declared.replace(" Z", "").replace(" M", "").replace("25D", "").strip()
    base = base.removeprefix("Multi")
    return {"Point": "Point", "LineString": "Line", "Polygon": "Polygon"}.get(base)


@dataclass
class Census:
    """What a source's geometries are, counted per family.

    ``features``: per family, the features it takes (a GeometryCollection counts for its
    highest-dimension part: polygon, then line, then point); ``multipart``: per family, the
    features that need a Multi* type (more than one part of the family); ``collections``: the
    GeometryCollections; ``missing``: features without a geometry (or an empty collection);
    ``other``: types of no family (curves, surfaces), by name.
    """

    total: int = 0
    features: Counter[str] = field(default_factory=Counter)
    multipart: Counter[str] = field(default_factory=Counter)
    collections: int = 0
    missing: int = 0
    other: Counter[str] = field(default_factory=Counter)

    @property
    def present(self) -> list[str]:
        """The families present, the largest first (ties: polygons, lines, points)."""
        found = [f for f in FAMILIES.values() if self.features[f]]
        return sorted(found, key=lambda f: (-self.features[f], -_CODE[f]))

    @property
    def dominant(self) -> str | None:
        present = self.present
        return present[0] if present else None

    def target(self, family: str) -> str:
        """The layer type for ``family``: single unless a feature needs more parts."""
        single, multi = _TARGETS[family]
        return multi if self.multipart[family] else single

    def describe(self) -> str:
        """'1,204 polygons, 31 lines, 2 points (3 GeometryCollections)' for notes."""
        parts = []
        for family in self.present:
            n = self.features[family]
            parts.append(f"{n:,} {_NOUNS[family][n != 1]}")
        if self.missing:
            parts.append(f"{self.missing:,} without geometry")
        parts += [f"{n:,} {name}" for name, n in self.other.items()]
        text = ", ".join(parts) or "no geometries"
        if self.collections:
            text += f" ({self.collections:,} GeometryCollection"
            text += f"{'s' if self.collections != 1 else ''})"
        return text


def _headers(wkb: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(ISO type without Z/M, number of parts) per WKB value from its first 9 bytes; type 0
    for a null value. The parts count is 1 for single types and collections."""
    if isinstance(wkb, pa.ExtensionArray):
        wkb = wkb.storage
    n = len(wkb)
    types = np.zeros(n, dtype=np.int64)
    parts = np.ones(n, dtype=np.int64)
    if n == 0:
        return types, parts
    offset_type = np.int64 if pa.types.is_large_binary(wkb.type) else np.int32
    buffers = wkb.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_type)[wkb.offset:wkb.offset + n + 1]
    data = (np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None
            else np.zeros(0, dtype=np.uint8))
    start = offsets[:-1].astype(np.int64)
    length = offsets[1:].astype(np.int64) - start
    valid = length >= 5
    if wkb.null_count:
        valid &= np.asarray(wkb.is_valid(), dtype=bool)
    at = start[valid]
    little = data[at] == 1

    def uint32(pos: np.ndarray) -> np.ndarray:
        b = data[pos[:, None] + np.arange(4)].astype(np.uint64)
        le = b[:, 0] | b[:, 1] << 8 | b[:, 2] << 16 | b[:, 3] << 24
        be = b[:, 3] | b[:, 2] << 8 | b[:, 1] << 16 | b[:, 0] << 24
        return np.where(little, le, be)

    code = uint32(at + 1) & 0x0FFFFFFF  # EWKB's Z/M/SRID flags off
    types[valid] = (code % 1000).astype(np.int64)
    multi = valid.copy()
    multi[valid] = np.isin(types[valid], (4, 5, 6)) & (length[valid] >= 9)
    if multi.any():
        at_multi = start[multi]
        little = data[at_multi] == 1
        parts[multi] = uint32(at_multi + 5).astype(np.int64)
    return types, parts


def _collection_parts(geom: shapely.Geometry | None) -> Counter[str]:
    """The parts of a GeometryCollection (nested ones opened too) counted per family."""
    counts: Counter[str] = Counter()
    if geom is None:
        return counts
    todo = [geom]
    while todo:
        g = todo.pop()
        for part in shapely.get_parts(g):
            kind = int(shapely.get_type_id(part))
            if kind == shapely.GeometryType.GEOMETRYCOLLECTION:
                todo.append(part)
            elif not part.is_empty:
                family = _SHAPELY_FAMILY.get(kind, "other")
                counts[family] += int(shapely.get_num_geometries(part)) if kind >= 4 else 1
    return counts


def families(wkb: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Per feature: its family code (``FAMILIES``; 0 no geometry, -1 of no family) and
    whether it needs a Multi* type (more than one part of its family)."""
    if isinstance(wkb, pa.ChunkedArray):
        wkb = wkb.combine_chunks()
    types, parts = _headers(wkb)
    code = np.where(types < len(_WKB_FAMILY), _WKB_FAMILY[np.minimum(types, 7)], OTHER)
    code[types == 0] = NO_FAMILY
    multi = parts > 1
    for i in np.flatnonzero(types == _COLLECTION):
        # "fix" as the pipeline reads it: a ring left open is closed; WKB that stays
        # unreadable is None, no geometry (the layer sets it aside with its reason)
        held = _collection_parts(shapely.from_wkb(wkb[int(i)].as_py(), on_invalid="fix"))
        dims = [c for c, name in FAMILIES.items() if held[name]]
        code[i] = max(dims) if dims else NO_FAMILY
        multi[i] = bool(dims) and held[FAMILIES[max(dims)]] > 1
    return code.astype(np.int8), multi


def _count(census: Census, wkb: pa.Array | pa.ChunkedArray) -> None:
    if isinstance(wkb, pa.ChunkedArray):
        wkb = wkb.combine_chunks()
    types, _ = _headers(wkb)
    codes, multi = families(wkb)
    census.total += len(codes)
    census.collections += int((types == _COLLECTION).sum())
    census.missing += int((codes == NO_FAMILY).sum())
    for code, name in FAMILIES.items():
        mine = codes == code
        census.features[name] += int(mine.sum())
        census.multipart[name] += int((mine & multi).sum())
    for t in np.unique(types[codes == OTHER]):
        census.other[f"WKB type {int(t)}"] += int((types[codes == OTHER] == t).sum())


def take_census(source: Source) -> Census:
    """Count the source's features per geometry family (one geometry-only pass)."""
    census = Census()
    try:
        with open_batches(source, geometry_only=True) as batches:
            for batch in batches:
                _count(census, batch.column(GEOMETRY))
    except GeoportalError:
        raise
    except READ_ERRORS as exc:  # the file's bytes, not our code: say so, naming the file
        raise damaged(source.path.name, exc, after=census.total,
                      clean=lambda e: _gdal_reason(e, source.path, source.staging)) from exc
    return census


def split_manifests(manifest: Manifest, census: Census) -> list[Manifest]:
    """One manifest per family present, ``<id>-points``, ``<id>-lines``, ``<id>-polygons``,
    each keeping only its family (``source.geometry_family``); the manifest itself when the
    source holds one family."""
    present = census.present
    if len(present) <= 1:
        return [manifest]
    out = []
    for family in present:
        suffix = SUFFIX[family]
        layer_id = f"{manifest.meta.id[:62 - len(suffix)].rstrip('-')}-{suffix}"
        title = {lang: f"{text} ({_TITLE[family].get(lang, suffix)})"
                 for lang, text in manifest.meta.title.items()}
        meta = replace(manifest.meta, id=layer_id, title=title)
        out.append(replace(manifest, meta=meta,
                           source=replace(manifest.source, geometry_family=family)))
    return out
