"""The FeatureStore interface shared by the GeoPackage (embedded) and PostGIS stores.

A store keeps each layer version as its own table, written once from a stream of Arrow
batches and never modified afterwards; the catalog decides which table is current.
"""

from __future__ import annotations

import abc
import hashlib
import math
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

import numpy as np
import orjson
import pyarrow as pa
import shapely

from geoportal.errors import BudgetExceeded, InputError
from geoportal.fields import Field
from geoportal.i18n import tr
from geoportal.storage.mvt import TileAddress

__all__ = [
    "MAX_PAGE_VERTICES",
    "MAX_TILE_BYTES",
    "MAX_TILE_FEATURES",
    "QUARANTINE_SCHEMA",
    "VERTEX_BYTES",
    "CountCache",
    "EditSession",
    "FeatureStore",
    "Query",
    "QueryResult",
    "RenderSource",
    "Row",
    "StagedWriter",
    "budget_exceeded",
    "check_known_properties",
    "coerce_value",
    "feature_etag",
    "json_type",
    "page_too_large",
    "plausible_estimate",
    "quarantine_batch",
    "total_from_page",
]

# A tile draws at most this many features and this many bytes (a low-zoom tile of a dense
# layer would otherwise hold hundreds of thousands); past either, the stores thin it on a grid.
MAX_TILE_FEATURES = 20_000
MAX_TILE_BYTES = 500_000
# Feature ids are 64-bit signed integers in both databases.
MAX_FID = 2**63 - 1
# Most vertices one page of items may carry: the stores' SQL is under the query budget, but
# decoding a page and writing it as GeoJSON is Python that nothing interrupts (measured here:
# 2,000,000 vertices are 1.2 s, 80 MB of JSON and about 300 MB of objects in a worker), and a
# page of 1,000 features of the ETL's 50,000 vertices would be 50,000,000. Counted as the
# geometries' stored bytes over VERTEX_BYTES, read before anything is decoded.
MAX_PAGE_VERTICES = 1_000_000
VERTEX_BYTES = 16  # one x, y vertex in WKB, GeoPackage blobs and PostGIS's serialization

# The features a version did not publish, kept with it so nothing is lost: where it was in the
# source (1-based), why, its properties as read (JSON) and its geometry as read (WKB in the
# source CRS; null when there was none).
QUARANTINE_SCHEMA = pa.schema([
    ("source_row", pa.int64()), ("reason", pa.string()), ("properties", pa.string()),
    ("source_wkb", pa.binary()),
])


def quarantine_batch(rows: Sequence[tuple[Any, ...]]) -> pa.RecordBatch:
    """Rows fetched from a store's quarantine table as one Arrow batch."""
    columns = zip(*rows, strict=True) if rows else [[] for _ in QUARANTINE_SCHEMA]
    return pa.RecordBatch.from_arrays(
        [pa.array(list(col), type=f.type) for col, f in zip(columns, QUARANTINE_SCHEMA,
                                                             strict=True)],
        schema=QUARANTINE_SCHEMA)


@dataclass(frozen=True)
class Query:
    """What to fetch from one layer version. Coordinates are CRS84 (lon, lat)."""

    limit: int = 10
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    equals: Sequence[tuple[str, Any]] = ()
    sortby: Sequence[tuple[str, bool]] = ()  # (field, ascending)
    select: Sequence[str] | None = None
    skip_geometry: bool = False
    count: bool = True
    filter: Any = None  # a CQL2 expression (pygeofilter AST), translated by each store
    after: int | None = None  # only features with a larger fid, in fid order (downloads)
    # a page whose geometries hold more vertices is an InputError (``page_too_large``), read
    # no further than that; None: no cap (downloads read in batches of their own)
    max_vertices: int | None = None

    def __post_init__(self) -> None:
        """InputError for what no store could answer: a bbox that is not four finite numbers
        (``nan`` compares false with everything and would quietly match nothing)."""
        if self.bbox is not None and (len(self.bbox) != 4 or not all(
                isinstance(v, int | float) and math.isfinite(v) for v in self.bbox)):
            raise InputError("bbox must be four finite numbers: minlon,minlat,maxlon,maxlat")


@dataclass(frozen=True)
class Row:
    """One stored feature: its id, properties and geometry (CRS84)."""

    fid: int
    properties: dict[str, Any]
    geometry: shapely.Geometry | None


@dataclass
class QueryResult:
    """A page of rows and, when asked for, how many rows match in all."""

    rows: list[Row] = field(default_factory=list)
    number_matched: int | None = None
    estimated: bool = False  # number_matched is an estimate: the exact count was too slow


def total_from_page(query: Query, returned: int) -> int | None:
    """The number matched when the page itself shows it: a page shorter than the limit holds
    the last matches, so no count is needed."""
    if query.limit > 0 and returned < query.limit and (returned > 0 or query.offset == 0):
        return query.offset + returned
    return None


class CountCache:
    """Counts already made, per process: a version never changes, so the count of one filter
    on one table stays true, and paging through a filtered result counts once, not per page."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._counts: OrderedDict[tuple[Any, ...], tuple[float, bool]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> tuple[float, bool] | None:
        """(count or estimate, estimated?) for a (table, where, params) key, if known."""
        with self._lock:
            hit = self._counts.get(key)
            if hit is not None:
                self._counts.move_to_end(key)
            return hit

    def put(self, key: tuple[Any, ...], count: float, estimated: bool) -> None:
        with self._lock:
            self._counts[key] = (count, estimated)
            self._counts.move_to_end(key)
            while len(self._counts) > self.size:
                self._counts.popitem(last=False)

    def fill(self, key: tuple[Any, ...], count: Callable[[], tuple[float, bool]], query: Query,
             returned: int, result: QueryResult) -> None:
        """Set the result's number matched from the cache, or from ``count()`` (then kept);
        an estimate never below what the page proves."""
        known = self.get(key)
        if known is None:
            known = count()
            self.put(key, *known)
        value, estimated = known
        result.estimated = estimated
        result.number_matched = plausible_estimate(value, query, returned) if estimated \
            else int(value)


def plausible_estimate(estimate: float, query: Query, returned: int) -> int:
    """An estimate no smaller than what the page proves: ``offset + returned`` matches exist,
    and one more when the page is full."""
    floor = query.offset + returned + (1 if query.limit and returned >= query.limit else 0)
    return max(round(estimate), floor if returned else 0)


def feature_etag(row: Row) -> str:
    """A strong validator of one feature's content (properties and geometry), the same in
    every store and every version that holds the feature unchanged: Part 4's If-Match compares
    it, so an edit elsewhere in the layer does not make an editor's copy stale."""
    digest = hashlib.sha256(orjson.dumps(row.properties, default=str,
                                         option=orjson.OPT_SORT_KEYS))
    if row.geometry is not None and not shapely.is_empty(row.geometry):
        digest.update(shapely.to_wkb(row.geometry, byte_order=1, flavor="iso"))
    return digest.hexdigest()[:32]


class EditSession(abc.ABC):
    """A new version made from an existing one by changing a few features (OGC API -
    Features Part 4): the stored table is copied, changed, and becomes visible only when the
    catalog publishes the ref ``commit`` returns. Leaving the ``with`` block without
    committing removes the copy. Feature ids stay what they were: new features get ids from
    ``next_fid`` up, never one a deleted feature had.

    Properties are dicts of field name to a value of the field's type (``str``, ``int``,
    ``float``, ``bool``, ``datetime.date``, ``datetime.datetime``, ``datetime.time`` or None);
    fields left out are stored as null. Geometries are shapely, CRS84, of the layer's type.
    """

    ref: str
    next_fid: int
    committed: bool = False

    @abc.abstractmethod
    def get(self, fid: int) -> Row | None:
        """The feature as it is in the copy (edits made so far included), or None."""

    @abc.abstractmethod
    def insert(self, properties: dict[str, Any], geometry: shapely.Geometry | None) -> int:
        """Add a feature; returns its new id."""

    @abc.abstractmethod
    def replace(self, fid: int, properties: dict[str, Any],
                geometry: shapely.Geometry | None) -> bool:
        """Overwrite a feature's properties (all of them) and geometry; False if absent."""

    @abc.abstractmethod
    def delete(self, fid: int) -> bool:
        """Remove a feature; False if absent."""

    @abc.abstractmethod
    def summary(self) -> tuple[int, tuple[float, float, float, float] | None]:
        """(number of features, CRS84 extent) of the copy as it stands."""

    @abc.abstractmethod
    def commit(self) -> str:
        """Finish the copy (indexes, statistics) and return its store reference."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Remove the copy."""

    def __enter__(self) -> EditSession:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is not None or not self.committed:
            self.abort()


class StagedWriter(abc.ABC):
    """A layer version being written. Nothing is visible until ``commit``; leaving the
    ``with`` block without committing removes whatever was written."""

    # the quarantine spool (a temporary file and its Arrow writer), set by the first
    # ``quarantine`` (read with getattr: subclasses need not initialise it)
    _spool: tuple[IO[bytes], Any] | None

    @abc.abstractmethod
    def write(self, properties: pa.Table, geometries: np.ndarray) -> None:
        """Append a batch: a table of properties and, row for row, shapely geometries in CRS84.

        Each store encodes the geometries as it needs (WKB for GeoPackage, EWKB for PostGIS),
        so they are encoded once.
        """

    def quarantine(self, rows: pa.Table) -> None:
        """Keep features that will not be published (``QUARANTINE_SCHEMA``) with this version.

        They are spooled to a temporary Arrow file, not held in memory: a wrong zone can set
        aside a whole layer. Each store copies them into its own table at commit.
        """
        if rows.num_rows == 0:
            return
        spool = getattr(self, "_spool", None)
        if spool is None:
            handle = tempfile.TemporaryFile(prefix="geoportal-quarantine-")  # noqa: SIM115 - kept open until commit
            spool = self._spool = (handle, pa.ipc.new_stream(handle, QUARANTINE_SCHEMA))
        spool[1].write_table(rows.cast(QUARANTINE_SCHEMA))

    def quarantined(self) -> Iterator[pa.RecordBatch]:
        """The spooled quarantine rows, in batches, for the store's commit."""
        spool = getattr(self, "_spool", None)
        if spool is None:
            return
        handle, writer = spool
        writer.close()
        handle.seek(0)
        with pa.ipc.open_stream(handle) as reader:
            yield from reader
        handle.close()
        self._spool = None

    @abc.abstractmethod
    def commit(self) -> str:
        """Finish the table (indexes included) and return its store reference."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Remove everything written so far."""

    def __enter__(self) -> StagedWriter:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is not None or not getattr(self, "committed", False):
            self.abort()


@dataclass(frozen=True)
class RenderSource:
    """Where a map rendering engine (MapServer) reads one layer version: an OGR data source
    (a GeoPackage file and its table) or a PostGIS table. ``connection`` holds no secret: a
    PostGIS password travels apart, in ``password`` (the engine gets it in ``PGPASSWORD``),
    so generated mapfiles never carry one."""

    kind: str  # "ogr" or "postgis"
    connection: str  # a file path, or libpq keywords
    table: str  # the GeoPackage table, or "schema.table"
    geometry: str = "geom"
    fid: str = "fid"
    password: str | None = field(default=None, repr=False)


class FeatureStore(abc.ABC):
    """Writes layer versions as tables and answers queries on them.

    ``key`` names the store without secrets; the server registers each store under it so
    pygeoapi's per-request providers find the one built at start-up.
    """

    key: str

    @abc.abstractmethod
    def init(self) -> None:
        """Create what the store needs (a folder, a schema); safe to run again."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections; the store may be used again afterwards."""

    @abc.abstractmethod
    def stage(self, layer_id: str, *, geometry_type: str) -> StagedWriter:
        """Start writing a new table for a version of ``layer_id``."""

    @abc.abstractmethod
    def edit(self, ref: str, layer_id: str, fields: Sequence[Field], *,
             next_fid: int = 0) -> EditSession:
        """Start a new version of ``layer_id`` as a copy of the table ``ref``; new features
        get ids from ``max(next_fid, largest id in ref + 1)`` up."""

    @abc.abstractmethod
    def query(self, ref: str, fields: Sequence[Field], query: Query) -> QueryResult:
        """Rows of the table ``ref`` matching ``query``, in a stable order."""

    @abc.abstractmethod
    def get(self, ref: str, fields: Sequence[Field], fid: int) -> Row | None:
        """One row by feature id, or None."""

    @abc.abstractmethod
    def tile(self, ref: str, fields: Sequence[Field], address: TileAddress, *, layer: str,
             points: bool) -> bytes:
        """One Mapbox Vector Tile (WebMercatorQuad) of the table, its features in a layer
        named ``layer``; empty bytes for an empty tile. Features smaller than a tile unit are
        left out (``points``: never), and at most ``MAX_TILE_FEATURES`` are drawn."""

    @abc.abstractmethod
    def render_source(self, ref: str) -> RenderSource:
        """Where a rendering engine reads the table ``ref`` (anonymous reads: the replica when
        one is set and has the table)."""

    @abc.abstractmethod
    def quarantine(self, ref: str) -> Iterator[pa.RecordBatch]:
        """The version's quarantined features (``QUARANTINE_SCHEMA``), in source order."""

    @abc.abstractmethod
    def drop(self, ref: str) -> None:
        """Delete a table (and its quarantine); missing tables are not an error."""

    @abc.abstractmethod
    def refs(self) -> set[str]:
        """Every table the store holds (for garbage collection against the catalog)."""


def json_type(dtype: pa.DataType) -> str | None:
    """The field type (JSON Schema-like) an Arrow column is published as; None: not publishable."""
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_integer(dtype):
        return "integer"
    if pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return "number"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "string"
    if pa.types.is_date(dtype):
        return "date"
    if pa.types.is_timestamp(dtype):
        return "date-time"
    if pa.types.is_time(dtype):
        return "time"
    return None


def budget_exceeded(budget_ms: int, what: str) -> BudgetExceeded:
    """The error of a read statement stopped at its time budget (``query_budget_ms``): HTTP 503
    with Retry-After, and a sentence saying what to narrow. ``what`` (the store table and the
    kind of statement) goes to the log only."""
    seconds = f"{budget_ms / 1000:g}"
    return BudgetExceeded(
        f"{what}: stopped at the query budget of {budget_ms} ms",
        user_msg=tr("the query took longer than {s} s, the most one request may take; narrow "
                    "it (a smaller bbox, a more selective filter, a smaller limit) and try again",
                    s=seconds))


def page_too_large(query: Query, rows: int, nbytes: int) -> InputError:
    """The error of a page whose first ``rows`` geometries take ``nbytes`` (stored size), past
    ``query.max_vertices``: HTTP 400 asking for a smaller ``limit``, with one that would fit
    features like these. A page of one feature is never refused (``limit=1`` pages through
    anything the ETL published)."""
    cap = query.max_vertices or 0
    per_feature = nbytes / max(rows, 1) / VERTEX_BYTES
    suggest = max(1, min(query.limit - 1, int(cap / max(per_feature, 1))))
    return InputError(tr(
        "limit={limit}: the features of this page hold more than {cap} vertices, the most one "
        "page may carry; ask for fewer features per page, such as limit={suggest}",
        limit=query.limit, cap=cap, suggest=suggest))


def check_known_properties(properties: dict[str, Any], columns: Sequence[str]) -> None:
    """Refuse an edit's properties that are not fields of the layer (``InputError`` naming
    them and the fields there are): an edit never adds a column."""
    unknown = sorted(set(properties) - set(columns))
    if unknown:
        raise InputError(
            tr("unknown properties: {names}; this layer has {fields}",
               names=", ".join(unknown), fields=", ".join(columns))
            if columns else
            tr("unknown properties: {names}; this layer has no properties",
               names=", ".join(unknown)))


def coerce_value(name: str, type_: str, value: Any) -> Any:
    """A query-string value as the field's type, or an InputError naming the field. Dates and
    timestamps must be ISO 8601 (returned as such, the same text whichever way it was
    written); text may not hold NUL, which no database text can."""
    if isinstance(value, str) and "\x00" in value:
        raise InputError(tr("{name}: the value holds the NUL character (%00), which no text "
                            "can hold", name=name))
    try:
        if type_ == "date":
            return date.fromisoformat(str(value)).isoformat()
        if type_ == "date-time":
            return datetime.fromisoformat(str(value)).isoformat()
        if type_ == "integer":
            number = int(value)
            if not -(2**63) <= number < 2**63:  # no store holds it: a 400, not an overflow
                raise ValueError(value)
            return number
        if type_ == "number":
            return float(value)
        if type_ == "boolean":
            text = str(value).strip().lower()
            if text not in ("true", "false", "1", "0"):
                raise ValueError(value)
            return text in ("true", "1")
    except ValueError:
        if type_ in ("date", "date-time"):
            raise InputError(
                tr("{name}={value}: expected a date such as 2024-05-01", name=name,
                   value=repr(value)) if type_ == "date" else
                tr("{name}={value}: expected a date-time such as 2024-05-01T10:30:00Z",
                   name=name, value=repr(value))) from None
        raise InputError(tr("{name}={value}: expected a value of type {type}", name=name,
                            value=repr(value), type=type_)) from None
    return value
