"""The ETL as one tool: ``ingest(manifest, ...) -> Report``; the CLI and the admin API wrap it.

A publish is atomic: the data goes to a staged table; only a complete table is registered as
the layer's current version, in one catalog transaction. Any failure leaves the previous version
serving and removes the staged table.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import shapely

from geoportal.admin.boundaries import RegionBoundaries
from geoportal.catalog import Catalog, Registry, Version
from geoportal.errors import DamagedFile, EncodingError, GeometryError, InputError
from geoportal.etl.census import FAMILIES, Census, declared_family, families, take_census
from geoportal.etl.coverage import ingest_raster, is_raster
from geoportal.etl.failures import quoted_coordinates
from geoportal.etl.gazetteer import NameSample
from geoportal.etl.geometry import (
    MAX_VERTICES,
    OUTSIDE,
    MultiPart,
    multi_type,
    prepare,
    target_type,
)
from geoportal.etl.manifest import FieldRule, Manifest, SourceSpec
from geoportal.etl.normalize import (
    Column,
    FieldPlan,
    distinct_names,
    find_id_column,
    plan_fields,
)
from geoportal.etl.publish import register, skip_unchanged
from geoportal.etl.readers import GEOMETRY, Source, fingerprint, open_batches, resolve_source
from geoportal.etl.report import Report
from geoportal.etl.reproject import CRSChoice, resolve_crs, to_crs84
from geoportal.etl.sheets import explain_missing, not_features
from geoportal.etl.sources import SOURCE_ONLY
from geoportal.etl.styles import check_style_fields
from geoportal.i18n import Message, tr
from geoportal.states import VersionStatus
from geoportal.storage import FeatureStore
from geoportal.storage.base import QUARANTINE_SCHEMA
from geoportal.storage.rasters import RasterStore

__all__ = ["FileFacts", "Progress", "RegionCheck", "ingest"]

log = logging.getLogger("geoportal.etl")

# How far (degrees, about 35-55 km here) beyond its region's bounding box a source without a
# CRS may put its sample points under a candidate CRS (config/crs.yaml) and that candidate
# still count; rasters must touch this box. Which features are published is decided by the
# region's boundary (RegionBoundaries), not by this box.
REGION_MARGIN = 0.5
# Formats whose columns are untyped text: numbers, dates and booleans are looked for in their
# text (CSV, sheets, KML's ExtendedData). Every other format keeps the types its producer
# declared: a DBF's C field of SOATO codes stays text (its N, F, D and L fields GDAL types
# itself), as do GPX's name and desc (GDAL types its extensions).
TEXT_TYPED_FORMATS = {"CSV", "XLSX", "ODS", "KML", "LIBKML"}
# Formats whose header states the feature count (so a truncated file shows).
_COUNTED_FORMATS = {"ESRI Shapefile", "GPKG"}
_KML_STYLE = ("tessellate", "extrude", "visibility", "drawOrder", "icon", "altitudeMode",
              "snippet")
_KML_TIME = ("begin", "end", "timestamp")
# The columns GDAL's DXF driver adds about the drawing: model/paper space, the entity's class
# chain (AcDbEntity:AcDbPolyline), line type and the entity's handle (renumbered on save).
_DXF_CAD = ("PaperSpace", "SubClasses", "Linetype", "EntityHandle")
# A batch's column of row numbers in the file, where a layer keeps only some rows (one
# geometry family of a split source): set-aside rows are named as the file numbers them.
_ROW = SOURCE_ONLY + "row"


class _NeedsMulti(Exception):
    """A feature has several parts and the layer's type is single: start again as Multi*."""

    def __init__(self, row: int, reason: str) -> None:
        super().__init__(reason)
        self.row, self.reason = row, reason


class Progress(Protocol):
    """Where the CLI's progress bar (or nothing) learns how far an ingest is."""

    def start(self, total: int | None, label: str) -> None: ...

    def advance(self, rows: int) -> None: ...


class _NoProgress:
    def start(self, total: int | None, label: str) -> None:
        pass

    def advance(self, rows: int) -> None:
        pass


class FileFacts:
    """What the layers made of one file share, found once per command: the resolved source,
    its geometry census and its sha256. ``cli._split_by_geometry`` makes one when it splits a
    file into one layer per geometry type and hands it to each layer's ``ingest``, so the
    file is resolved, counted and hashed once, not once per layer."""

    def __init__(self, source: Source, census: Census | None) -> None:
        self.source, self.census = source, census
        self._digest: Future[str] | None = None
        self._lock = threading.Lock()

    def digest(self, spec: SourceSpec) -> Future[str]:
        """The file's sha256, hashed on a thread the first time a layer asks."""
        with self._lock:
            if self._digest is None:
                self._digest = _hash_later(spec)
            return self._digest


def _hash_later(spec: SourceSpec) -> Future[str]:
    """The sha256 of the source, computed on a thread while the data loads (hashlib
    releases the GIL)."""
    hashing = ThreadPoolExecutor(max_workers=1)
    digest = hashing.submit(fingerprint, spec)
    hashing.shutdown(wait=False)
    return digest


def _json_default(value: Any) -> str:
    return value.hex() if isinstance(value, bytes) else str(value)


class RegionCheck:
    """Which features lie outside the layer's region: its boundary grown by the tolerance,
    as Part 4 edits are checked (``RegionBoundaries``), a whole batch at once."""

    def __init__(self, boundaries: RegionBoundaries, registry: Registry, code: str) -> None:
        region = registry.region(code)
        self.boundaries, self.code = boundaries, code
        self.reason = OUTSIDE.format(name=region.name.get("en", code), code=code,
                                     tolerance=boundaries.tolerance_m)

    def apply(self, geoms: np.ndarray, reasons: np.ndarray) -> None:
        """Give the features still to publish that reach outside the region its reason."""
        todo = np.flatnonzero(reasons == None)  # noqa: E711 - elementwise
        if len(todo):
            outside = np.asarray(self.boundaries.outside([self.code], geoms[todo]), dtype=bool)
            reasons[todo[outside]] = self.reason


class _Batches:
    """Decides, batch by batch, what is published and what is set aside, and why."""

    def __init__(self, report: Report, plan: FieldPlan, crs: CRSChoice, target: str,
                 region: RegionCheck, id_column: Column | None, max_vertices: int,
                 row_offset: int = 0) -> None:
        self.report, self.plan, self.crs, self.target = report, plan, crs, target
        self.region, self.id_column, self.max_vertices = region, id_column, max_vertices
        self.row_offset = row_offset  # ``_row_offset``: data row 1 is the file's row 1 + this
        self.seen_ids: set[Any] = set()
        self.seen_numbers = np.empty(0, dtype=np.int64)
        self.extent = [np.inf, np.inf, -np.inf, -np.inf]

    def process(self, batch: pa.Table) -> tuple[pa.Table, np.ndarray, pa.Table | None]:
        """The rows to publish (properties, CRS84 geometries) and the quarantine rows."""
        report = self.report
        if _ROW in batch.column_names:  # a split source's family: rows numbered by _Feed
            rows = batch.column(_ROW).to_numpy()
            batch = batch.drop_columns([_ROW])
        else:
            first_row = report.features_read + 1 + self.row_offset
            rows = np.arange(first_row, first_row + batch.num_rows, dtype=np.int64)
        wkb = batch.column(GEOMETRY)
        # "fix" closes rings GDAL left open; WKB it cannot read is no geometry, not a crash
        geoms = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False), on_invalid="fix")
        has_z = shapely.has_z(geoms)
        if has_z.any():
            geoms[has_z] = shapely.force_2d(geoms[has_z])
            report.repairs["Z (height) dropped: the store is 2D"] += int(has_z.sum())
        geoms, reasons, repairs = prepare(
            to_crs84(geoms, self.crs.crs, swap_xy=self.crs.swap_xy), self.target,
            max_vertices=self.max_vertices)
        self._multi_parts(reasons, rows)
        self.region.apply(geoms, reasons)
        report.repairs.update(repairs)
        self._unreadable_coordinates(batch, reasons)
        properties, problems = self.plan.apply(batch)
        for bad, reason in problems:
            reasons[bad & (reasons == None)] = reason  # noqa: E711 - elementwise
        if self.id_column is not None:
            self._duplicates(properties.column(self.id_column.field.name), reasons)
        keep = reasons == None  # noqa: E711
        report.features_read += batch.num_rows
        quarantine = None
        if not keep.all():
            aside = np.flatnonzero(~keep)
            for i in aside:
                report.put_aside(int(rows[i]), reasons[i])
            quarantine = self._quarantine(batch, wkb, aside, rows, reasons)
        kept = geoms[keep]
        if len(kept):
            b = shapely.total_bounds(kept)
            self.extent = [min(self.extent[0], b[0]), min(self.extent[1], b[1]),
                           max(self.extent[2], b[2]), max(self.extent[3], b[3])]
        report.features_published += len(kept)
        return properties.filter(pa.array(keep)), kept, quarantine

    def _multi_parts(self, reasons: np.ndarray, rows: np.ndarray) -> None:
        """Stop at the first feature of several parts in a single-type layer (``ingest``
        starts again with the Multi* type: rare, a Shapefile's multi-part shape late)."""
        for i in np.flatnonzero(reasons != None):  # noqa: E711 - elementwise
            if isinstance(reasons[i], MultiPart):
                raise _NeedsMulti(int(rows[i]), str(reasons[i]))

    @staticmethod
    def _unreadable_coordinates(batch: pa.Table, reasons: np.ndarray) -> None:
        """'no geometry' made precise where a table's coordinate columns had text in them,
        or the row is a sheet's totals or notes (``sheets.explain_missing``)."""
        explain_missing(batch, reasons)

    def _duplicates(self, ids: pa.ChunkedArray, reasons: np.ndarray) -> None:
        """Set aside every feature whose id was already published (the first one wins).

        Integer ids are kept as one sorted numpy array (8 bytes each, searched in C); others
        in a set.
        """
        name = self.id_column.source if self.id_column else ""
        candidates = np.flatnonzero((reasons == None) & ~np.asarray(  # noqa: E711
            ids.is_null(), dtype=bool))
        if len(candidates) == 0:
            return
        values = ids.take(pa.array(candidates))
        if pa.types.is_integer(values.type):
            numbers = np.asarray(values.cast(pa.int64()))
            _, first = np.unique(numbers, return_index=True)
            repeated = np.ones(len(numbers), dtype=bool)
            repeated[first] = False
            if len(self.seen_numbers):
                at = np.minimum(np.searchsorted(self.seen_numbers, numbers),
                                len(self.seen_numbers) - 1)
                repeated |= self.seen_numbers[at] == numbers
            fresh = np.sort(numbers[~repeated])  # unique, and none of them seen yet
            self.seen_numbers = np.insert(self.seen_numbers,
                                          np.searchsorted(self.seen_numbers, fresh), fresh)
        else:
            repeated = np.zeros(len(candidates), dtype=bool)
            for i, value in enumerate(values.to_pylist()):
                if value in self.seen_ids:
                    repeated[i] = True
                else:
                    self.seen_ids.add(value)
        reasons[candidates[repeated]] = f"duplicate id in field {name!r}"

    @staticmethod
    def _quarantine(batch: pa.Table, wkb: pa.ChunkedArray, aside: np.ndarray,
                    numbers: np.ndarray, reasons: np.ndarray) -> pa.Table:
        """The set-aside rows as read (properties as JSON, geometry as source WKB)."""
        index = pa.array(aside)
        rows = batch.drop_columns([GEOMETRY]).take(index)
        properties = (rows.rename_columns([n.removeprefix(SOURCE_ONLY)
                                           for n in rows.column_names]).to_pylist()
                      if rows.num_columns else [{} for _ in aside])  # to_pylist() gives []
        return pa.Table.from_arrays([
            pa.array(numbers[aside], pa.int64()),
            pa.array([str(reasons[i]) for i in aside], pa.string()),
            pa.array([json.dumps(p, ensure_ascii=False, default=_json_default)
                      for p in properties], pa.string()),
            wkb.take(index).cast(pa.binary()),
        ], schema=QUARANTINE_SCHEMA)


def _named(spec: SourceSpec, source: Source) -> str:
    """What a message about the layer's data starts with: the file as the user named it, its
    table (sheet, folder) when it holds several, and the geometry family of a split source:
    ``roads.gpkg: table 'дарогі'``, ``mixed.geojson: polygons``, ``roads.geojson``."""
    named = spec.path.name
    if source.layer:
        named += f": {_kind(source)} {source.layer!r}"
    if spec.geometry_family is not None:
        named += f": {_NOUN[spec.geometry_family]}"
    return named


def _kind(source: Source) -> str:
    """What the format calls one of its tables: ``sheet``, ``folder`` or ``table``."""
    return {"XLSX": "sheet", "ODS": "sheet", "LIBKML": "folder", "KML": "folder"}.get(
        source.format, "table")


def _none_read(spec: SourceSpec, source: Source) -> Message:
    """The layer read no feature: a file of one table says ``roads.geojson: the layer holds no
    features``, one of several names its table (sheet, folder) as ``_named`` does."""
    name = spec.path.name
    if spec.geometry_family is not None:
        return tr("{name} holds no features; nothing to publish", name=_named(spec, source))
    if not source.layer:
        return tr("{name}: the layer holds no features; nothing to publish", name=name)
    table, kind = repr(source.layer), _kind(source)
    if kind == "sheet":
        return tr("{name}: sheet {table} holds no features; nothing to publish", name=name,
                  table=table)
    if kind == "folder":
        return tr("{name}: folder {table} holds no features; nothing to publish", name=name,
                  table=table)
    return tr("{name}: table {table} holds no features; nothing to publish", name=name,
              table=table)


def _cut_off(spec: SourceSpec, source: Source, n: int) -> Message:
    """The layer should hold ``n`` features by the file's own count and none could be read
    (a GML cut off), named as in ``_none_read``."""
    name = spec.path.name
    if spec.geometry_family is not None:
        return tr("{name} should hold {n} features but none could be read; the file looks cut "
                  "off or damaged: send it again", name=_named(spec, source), n=n)
    if not source.layer:
        return tr("{name}: the layer should hold {n} features but none could be read; the file "
                  "looks cut off or damaged: send it again", name=name, n=n)
    table, kind = repr(source.layer), _kind(source)
    if kind == "sheet":
        return tr("{name}: sheet {table} should hold {n} features but none could be read; the "
                  "file looks cut off or damaged: send it again", name=name, table=table, n=n)
    if kind == "folder":
        return tr("{name}: folder {table} should hold {n} features but none could be read; the "
                  "file looks cut off or damaged: send it again", name=name, table=table, n=n)
    return tr("{name}: table {table} should hold {n} features but none could be read; the "
              "file looks cut off or damaged: send it again", name=name, table=table, n=n)


def _nothing_published(spec: SourceSpec, source: Source, report: Report) -> Message:
    """No feature of the layer can be published, with the reasons counted; for GeoJSON whose
    features had no geometry because GDAL dropped coordinates written as text, why."""
    name = _named(spec, source)
    reasons = ", ".join(f"{n} {r}" for r, n in report.set_aside.most_common())
    quoted = None
    if "no geometry" in report.set_aside and source.format.startswith("GeoJSON"):
        quoted = quoted_coordinates(spec.path, report.encoding)
    if quoted is None:
        return tr("{name}: no feature can be published ({reasons})", name=name,
                  reasons=reasons)
    return tr('{name}: no feature can be published ({reasons}); coordinates are written as '
              'text ("{value}"): write them as numbers, without quotes', name=name,
              reasons=reasons, value=quoted)


def _region_bounds(registry: Registry, code: str) -> tuple[float, float, float, float] | None:
    region = registry.region(code)
    if not region.bbox:
        return None
    minx, miny, maxx, maxy = region.bbox
    return (minx - REGION_MARGIN, miny - REGION_MARGIN, maxx + REGION_MARGIN, maxy + REGION_MARGIN)


def _check_complete(source: Source, read: int, named: str) -> None:
    """Refuse a file that holds fewer features than its own header says (a cut-off upload):
    the missing ones would be neither published nor set aside. ``read``: the rows read,
    those of other geometry families (a split source) included; ``named``: ``_named``."""
    expected = source.feature_count
    if (source.format in _COUNTED_FORMATS and expected is not None
            and expected != read):
        raise DamagedFile(tr("{name}: the file says it holds {expected} features but {read} "
                             "could be read; it looks truncated or damaged: send it again",
                             name=named, expected=expected, read=read))


def _display_only(first: pa.Table, source: Source) -> dict[str, FieldRule]:
    """Rules dropping the columns GDAL's LIBKML driver adds for drawing (tessellate, extrude,
    ...) and its time columns when empty: they are styling, not the region's data. The same
    for DXF's CAD bookkeeping (``_DXF_CAD``; its ``Layer`` stays) and its empty ``Text``."""
    if source.format == "DXF":
        names = set(first.column_names)
        drop = {n for n in _DXF_CAD if n in names}
        if "Text" in names and first.column("Text").null_count == len(first):
            drop.add("Text")
        return {n: FieldRule(drop=True, why="DXF drawing setting, not data") for n in drop}
    if source.format != "LIBKML":
        return {}
    names = set(first.column_names)
    drop = {n for n in _KML_STYLE if n in names}
    drop |= {n for n in _KML_TIME if n in names and first.column(n).null_count == len(first)}
    return {n: FieldRule(drop=True, why="KML display setting, not data") for n in drop}


class _Feed:
    """The source's batches as the layer reads them: duplicate column names made distinct
    (``normalize.distinct_names``; ``titles`` keeps the names as the file has them) and, for
    one geometry family of a split source, only that family's rows, numbered as in the file
    (the dominant family's layer also takes the rows without a geometry, so every row of the
    file is read by exactly one layer)."""

    def __init__(self, batches: Any, spec: SourceSpec, census: Census | None,
                 row_offset: int = 0) -> None:
        self.batches = batches
        self.read = 0  # rows of the file read, every family's
        self.row_offset = row_offset  # ``_row_offset``
        self.titles: dict[str, str] = {}
        self.head: pa.Table | None = None  # the file's first batch, every family's rows
        self.keep: list[int] | None = None
        if spec.geometry_family is not None and census is not None:
            self.keep = [c for c, f in FAMILIES.items() if f == spec.geometry_family]
            if spec.geometry_family == census.dominant:
                self.keep += [0, -1]  # no geometry, or a type of no family

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> pa.Table:
        while True:
            batch = next(self.batches)
            start, self.read = self.read, self.read + batch.num_rows
            batch, renamed = distinct_names(batch)
            self.titles.update(renamed)
            if self.head is None:
                self.head = batch
            if self.keep is None:
                return batch
            mine = np.isin(families(batch.column(GEOMETRY))[0], self.keep)
            if mine.any():
                rows = pa.array(np.flatnonzero(mine) + start + 1 + self.row_offset, pa.int64())
                return batch.filter(pa.array(mine)).append_column(_ROW, rows)


_NOUN = {"Point": "points", "Line": "lines", "Polygon": "polygons"}


def _census(source: Source, spec: SourceSpec, report: Report,
            known: Census | None = None) -> Census | None:
    """A geometry census of a source whose declared type is not one family (or that is
    split): what the layer keeps, said in the report; None when the declared type decides.
    ``known``: the census already taken of the file (``FileFacts``)."""
    if spec.geometry_family is None and declared_family(source.geometry_type) is not None:
        return None
    census = known if known is not None else take_census(source)
    family = spec.geometry_family or census.dominant
    if spec.geometry_family is not None:
        report.notes.append(f"the file mixes geometry types ({census.describe()}): this "
                            f"layer holds its {_NOUN[spec.geometry_family]}")
    elif family is not None and len(census.present) > 1:
        advice = ("" if spec.split_geometry else "; set source.split_geometry in the manifest "
                  "to publish one layer per type")
        report.notes.append(f"the file mixes geometry types ({census.describe()}): the "
                            f"{_NOUN[family]} are published, the others set aside{advice}")
    return census


def _layer_type(source: Source, spec: SourceSpec, census: Census | None,
                sample: np.ndarray, promote: bool) -> str:
    """The layer's geometry type: from the census when there is one, else from the declared
    type and the first batch (``geometry.target_type``); Multi* when ``promote``."""
    family = spec.geometry_family or (census.dominant if census is not None else None)
    if census is not None and family is not None:
        layer = census.target(family)
    else:
        layer = target_type(source.geometry_type, sample)
    if promote:
        return multi_type(layer)
    if layer != multi_type(layer):
        # Repairs may make a part into several (a bow-tie's two triangles): seen in the
        # first batch, that costs no second reading.
        reasons = prepare(sample, layer)[1]
        if any(isinstance(r, MultiPart) for r in reasons):
            return multi_type(layer)
    return layer


def _row_offset(source: Source) -> int:
    """How many rows of the file come before data row 1, so that set-aside rows are named as
    the admin sees them: a sheet's row or a CSV's line (the header's row, title rows above
    it included). 0 for every other format, whose rows are features counted from 1."""
    return source.header.row if source.table is not None and source.header is not None else 0


def _typing_rows(head: pa.Table, source: Source) -> pa.Table:
    """The rows column types and display columns are decided from: the file's first batch
    (every geometry family's rows, so the layers of a split file share one schema) without a
    sheet's totals and notes rows ("Итого: 25" would make the number column text)."""
    if source.table is None:
        return head
    aside = not_features(head, GEOMETRY)
    return head.filter(pa.array(~aside)) if aside.any() else head


def _describe_source(report: Report, source: Source, manifest: Manifest) -> None:
    report.format = source.format
    report.encoding = source.encoding or source.info.get("encoding")
    report.encoding_confidence = "high" if manifest.source.encoding else source.encoding_confidence
    report.encoding_reason = source.encoding_reason
    report.notes.extend(source.notes)


def ingest(manifest: Manifest, **options: Any) -> Report:
    """Publish the manifest's source as a new version of its layer, unless it is unchanged
    (``_ingest`` says how; ``options`` are its keywords).

    A layer is single-type (Polygon, LineString, Point) unless a feature needs more parts;
    when one turns up after the type was decided (a Shapefile's multi-part shape late in the
    file), the staged table is dropped and the file read again with the Multi* type.
    """
    try:
        return _ingest(manifest, **options)
    except _NeedsMulti as exc:
        log.info("layer=%s status=restart reason=%r row=%s", manifest.meta.id, exc.reason,
                 exc.row)
        note = (f"row {exc.row}: {exc.reason}, so the file was read again as a Multi* "
                "layer")
        return _ingest(manifest, promote=note, **options)


def _ingest(
    manifest: Manifest,
    *,
    catalog: Catalog,
    store: FeatureStore,
    registry: Registry,
    keep_versions: int = 3,
    force: bool = False,
    progress: Progress | None = None,
    rasters: RasterStore | None = None,
    boundaries: RegionBoundaries | None = None,
    max_vertices: int = MAX_VERTICES,
    layers_dir: Path | None = None,
    promote: str | None = None,
    facts: FileFacts | None = None,
) -> Report:
    """Publish the manifest's source as a new version of its layer, unless it is unchanged.

    GeoTIFFs become coverage layers (Cloud-Optimized GeoTIFFs in ``rasters``); everything
    else a vector layer in ``store``. Raises InputError subclasses for problems with the file
    or manifest (nothing is written) and StorageError when our side fails (the previous
    version keeps serving).

    Every feature must lie inside the layer's region as ``boundaries`` draws it (the
    boundary grown by its tolerance, as Part 4 edits are checked; the country's for region
    0000000000) and have at most ``max_vertices`` vertices; the others are set aside with
    the reason. Without ``boundaries``, each region's bbox from ``regions.yaml`` stands in
    (for tools and tests without ``config/boundaries.geojson``).

    ``promote``: publish the Multi* type of the layer's family, for the reason given (a note
    in the report).

    ``facts``: the file resolved, counted and hashed already (``FileFacts``; the layers of a
    split file share them).

    ``layers_dir`` (settings.layers_dir) holds the gazetteer that settles a CRS two candidates
    fit, by the place names of the features (``gazetteer.settle``); without it such a file is
    refused.
    """
    started = time.monotonic()
    progress = progress or _NoProgress()
    meta, spec = manifest.meta, manifest.source
    bounds = _region_bounds(registry, meta.region)
    registry.theme(meta.theme)
    if is_raster(spec.path):
        if rasters is None:
            raise InputError(tr("{file}: a raster, and no raster store was given",
                                file=spec.path.name))
        return ingest_raster(manifest, catalog=catalog, rasters=rasters, registry=registry,
                             bounds=bounds, keep_versions=keep_versions, force=force)
    report = Report(layer_id=meta.id, source=str(spec.path), options=manifest.options())
    source = facts.source if facts is not None else resolve_source(spec)
    _describe_source(report, source, manifest)
    existing = catalog.find_layer(meta.id)
    if existing is not None and existing.meta.kind != "vector":
        raise InputError(tr("{file}: layer {id} is a raster ({kind}); publish these features "
                            "under another id", file=spec.path.name, id=repr(meta.id),
                            kind=existing.meta.kind))
    current = existing.current if existing else None
    # The sha256 decides "unchanged" only when there is a current version to compare with;
    # otherwise it is computed while the data loads.
    digest = facts.digest(spec) if facts is not None else _hash_later(spec)
    if current is not None and not force:
        report.source_sha256 = digest.result()
    if skip_unchanged(catalog, meta, current, report, force=force, origin=manifest.origin):
        log.info("layer=%s status=unchanged version=%s", meta.id, report.version)
        return report

    census = _census(source, spec, report, facts.census if facts is not None else None)
    if promote:
        report.notes.append(promote)
    progress.start(source.feature_count, meta.id)
    with open_batches(source) as batches:
        offset = _row_offset(source)
        batches = feed = _Feed(batches, spec, census, offset)
        first = next(batches, None)
        if first is None:
            if source.table is None and (source.feature_count or 0) > 0:  # GML cut off
                raise DamagedFile(_cut_off(spec, source, source.feature_count or 0))
            raise GeometryError(_none_read(spec, source))
        sample = shapely.from_wkb(first.column(GEOMETRY).to_numpy(zero_copy_only=False),
                                  on_invalid="fix")
        crs = resolve_crs(
            declared=spec.crs, from_file=source.crs, xy=shapely.get_coordinates(sample),
            bbox=bounds, candidates=registry.crs_candidates,
            ambiguity_m=registry.crs_ambiguity_m, origin=_named(spec, source),
            names=NameSample(first, sample, layers_dir),
        )
        report.source_crs, report.crs_origin = crs.name, crs.origin
        report.crs_confidence = crs.confidence
        report.crs_reason = crs.reason
        if crs.origin == "file" and source.crs_reason:  # a MapInfo CoordSys, recognised
            report.crs_reason = source.crs_reason
            report.notes.append(f"CRS: {source.crs_reason}")
        if crs.note:
            report.notes.append(crs.note)
        report.geometry_type = _layer_type(source, spec, census, to_crs84(
            sample, crs.crs, swap_xy=crs.swap_xy), promote is not None)
        typing = _typing_rows(feed.head if feed.head is not None else first, source)
        plan = plan_fields(typing, geometry=GEOMETRY,
                           rules={**_display_only(typing, source), **manifest.fields},
                           infer_types=source.format in TEXT_TYPED_FORMATS,
                           titles=feed.titles)
        # a style's label and category fields are fields of the layer as published
        check_style_fields((meta.view or {}).get("style"), plan.fields, manifest.origin)
        report.renamed_fields = plan.renamed
        report.notes += plan.notes
        report.field_types = plan.typing
        for name, why in plan.dropped.items():
            report.notes.append(f"field {name!r} not published: {why}")
        id_column = find_id_column(plan, typing, spec.id_field)
        if id_column is not None:
            report.id_field = id_column.source
            report.notes.append(f"field {id_column.source!r} is the features' id: a repeated "
                                "value sets its feature aside")
        region = RegionCheck(boundaries or RegionBoundaries.from_bboxes(registry), registry,
                              meta.region)
        work = _Batches(report, plan, crs, report.geometry_type, region, id_column,
                        max_vertices, offset)
        with store.stage(meta.id, geometry_type=report.geometry_type) as writer:
            for batch in itertools.chain([first], batches):
                try:
                    properties, geometries, quarantine = work.process(batch)
                except pa.ArrowInvalid as exc:
                    if "utf8" not in str(exc).lower():
                        raise
                    if source.encoding is None:  # GeoPackage, XML: the format says UTF-8
                        raise EncodingError(tr(
                            "{name}: text that is not valid UTF-8 near row {row}, although "
                            "{format} holds UTF-8 only; export the file again as UTF-8",
                            name=_named(spec, source), row=report.features_read + 1 + offset,
                            format=source.format)) from None
                    raise EncodingError(tr(
                        "{name}: text that is not valid {encoding} near row {row}; set "
                        "source.encoding in the manifest (e.g. CP1251)",
                        name=_named(spec, source), encoding=report.encoding,
                        row=report.features_read + 1 + offset)) from None
                if properties.num_rows:
                    writer.write(properties, geometries)
                if quarantine is not None:
                    writer.quarantine(quarantine)
                progress.advance(batch.num_rows)
            _check_complete(source, feed.read, _named(spec, source))
            if report.features_published == 0:
                raise GeometryError(_nothing_published(spec, source, report))
            ref = writer.commit()

    report.source_sha256 = digest.result()
    minx, miny, maxx, maxy = (float(v) for v in work.extent)
    draft = Version(
        layer_id=meta.id, version=0, created=datetime.now(UTC),
        status=VersionStatus.STAGED,
        source_name=spec.path.name, source_sha256=report.source_sha256,
        source_crs=report.source_crs, store_ref=ref,
        feature_count=report.features_published, set_aside_count=report.set_aside_count,
        extent=(minx, miny, maxx, maxy), geometry_type=report.geometry_type,
        fields=plan.fields, report={},
    )
    version = register(catalog, meta, draft, report, started=started,
                       keep_versions=keep_versions, drop=store.drop)
    log.info("layer=%s status=published version=%s read=%s published=%s set_aside=%s",
             meta.id, version.version, report.features_read, report.features_published,
             report.set_aside_count)
    return report
