"""The production store: PostgreSQL/PostGIS, one table per layer version in schema ``features``.

A version is written inside one transaction (CREATE TABLE, COPY in batches, GiST index,
ANALYZE, COMMIT): until the commit nobody sees it, and a failure or a crash leaves nothing.
Batches travel in COPY's binary format (``pgcopy``), geometries as EWKB.
Queries run in the database: bbox (``&&`` on the GiST index, then ``ST_Intersects``), equality
filters, sorting and paging; a pool of connections serves them. The session's statement timeout
(``statement_timeout_ms``) bounds writes and maintenance; every read (one store call: a page
and its count, a tile and its thinning passes) runs under one deadline, ``query_budget_ms``
after the call began: each statement's ``statement_timeout`` is what is left of it
(``lock_timeout`` the whole budget), and a read stopped there is a ``BudgetExceeded`` (HTTP
503). A read statement costs one round trip (``pgsession.OneTripCursor``: its settings travel
in the same message; a table never changes once committed, so the statements of one call
need no common transaction).
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, time
from time import monotonic
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import shapely
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from geoportal.errors import BudgetExceeded, DatabaseUnavailable, InputError, StorageError
from geoportal.fields import Field
from geoportal.i18n import tr
from geoportal.storage import cql, dbhealth, pgcopy
from geoportal.storage.base import (
    MAX_FID,
    MAX_TILE_BYTES,
    MAX_TILE_FEATURES,
    VERTEX_BYTES,
    CountCache,
    EditSession,
    FeatureStore,
    Query,
    QueryResult,
    RenderSource,
    Row,
    StagedWriter,
    budget_exceeded,
    coerce_value,
    json_type,
    page_too_large,
    quarantine_batch,
    total_from_page,
)
from geoportal.storage.mvt import BUFFER, EXTENT, TileAddress, min_feature_size
from geoportal.storage.pgsession import (
    OneTripCursor,
    connect_kwargs,
    maybe_closed,
    one_row,
    reads_from_replica,
    session_settings,
)
from geoportal.storage.pipe import Pipe

# Rows a sequential count reads per millisecond, to be safe on a small, busy machine (measured
# here: 1,000,000 rows in 100-200 ms, i.e. 5,000-10,000 per ms).
SCAN_ROWS_PER_MS = 2_000

__all__ = ["PostGISStore", "index_and_analyze", "libpq_url"]

SCHEMA = "features"
QUARANTINE = "quarantine"  # a version's set-aside features: quarantine.<same table name>
# The comment on a table whose fids are not 1..N (an edit deleted features): no seek paging.
SPARSE_FIDS = "geoportal:sparse-fids"
_PG_TYPES = {
    "string": "text", "integer": "bigint", "number": "double precision",
    "boolean": "boolean", "date": "date", "date-time": "timestamptz", "time": "time",
}
# date, time, timestamp, timestamptz, timetz: the types whose values ``_plain`` turns into text
_TEMPORAL_OIDS = frozenset({1082, 1083, 1114, 1184, 1266})
_GEOMETRY_TYPES = {"Point", "MultiPoint", "MultiLineString", "MultiPolygon", "LineString",
                   "Polygon"}


def _pg_type(dtype: pa.DataType) -> str:
    """The column type for an Arrow type: a timestamp without a zone stays without one (a
    spreadsheet's 10:30 is local time, not 10:30 UTC)."""
    if pa.types.is_timestamp(dtype) and dtype.tz is None:
        return "timestamp"
    return _PG_TYPES[json_type(dtype) or "string"]


def index_and_analyze(conn: psycopg.Connection, table: sql.Composable) -> None:
    """The GiST index and the planner statistics of a table written in this transaction."""
    conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
    conn.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(table))
    conn.execute(sql.SQL("ANALYZE {}").format(table))


def libpq_url(url: str) -> str:
    """A libpq connection string from an SQLAlchemy-style URL (drops the ``+driver`` part)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}"


_Batch = tuple[int, pa.Table, np.ndarray]  # first fid, properties, geometries


def _copy_rows(conn: psycopg.Connection, statement: sql.Composed
               ) -> Callable[[Iterator[_Batch]], None]:
    """The consumer of a ``Pipe``: one binary ``COPY ... FROM STDIN`` of every batch."""
    def consume(batches: Iterator[_Batch]) -> None:
        with conn.cursor().copy(statement) as copy:
            copy.write(pgcopy.HEADER)
            for first_fid, properties, geometries in batches:
                copy.write(pgcopy.encode_rows(first_fid, properties, geometries, 4326))
            copy.write(pgcopy.TRAILER)
    return consume


class _PostGISWriter(StagedWriter):
    def __init__(self, store: PostGISStore, layer_id: str, geometry_type: str) -> None:
        self.store = store
        self.geometry_type = geometry_type if geometry_type in _GEOMETRY_TYPES else "Geometry"
        self.table = f"{layer_id.replace('-', '_')[:40]}_{uuid.uuid4().hex[:12]}"
        self.ref = f"{SCHEMA}.{self.table}"
        self.conn: psycopg.Connection | None = None
        self.stream: Pipe[_Batch] | None = None
        self.columns: list[str] = []
        self.rows = 0
        self.committed = False

    def _ident(self) -> sql.Composable:
        return sql.SQL("{}.{}").format(sql.Identifier(SCHEMA), sql.Identifier(self.table))

    def _begin(self, properties: pa.Table) -> None:
        self.conn = self.store.connect()
        columns = [
            sql.SQL("fid bigint PRIMARY KEY"),
            sql.SQL("geom geometry({}, 4326)").format(sql.SQL(self.geometry_type)),
            *[sql.SQL("{} {}").format(sql.Identifier(f.name),
                                      sql.SQL(_pg_type(f.type)))
              for f in properties.schema],
        ]
        self.conn.execute(sql.SQL("CREATE TABLE {} ({})").format(
            self._ident(), sql.SQL(", ").join(columns)))
        self.columns = list(properties.column_names)
        names = sql.SQL(", ").join(map(sql.Identifier, ["fid", "geom", *self.columns]))
        # FREEZE: the table was created in this transaction, so rows can be written frozen.
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary, FREEZE)")
        self.stream = Pipe(_copy_rows(self.conn, statement.format(self._ident(), names)),
                           name="geoportal-copy")

    def write(self, properties: pa.Table, geometries: np.ndarray) -> None:
        if properties.num_rows == 0:
            return
        try:
            if self.conn is None:
                self._begin(properties)
            assert self.stream is not None
            self.stream.put((self.rows + 1, properties, geometries))
        except psycopg.Error as exc:
            raise self.store.fault(exc, f"{self.ref}: writing a batch failed") from exc
        self.rows += properties.num_rows

    def commit(self) -> str:
        if self.conn is None or self.stream is None or self.rows == 0:
            raise StorageError(f"{self.ref}: nothing was written to the staged table")
        try:
            self.stream.close()
            self._copy_quarantine()
            index_and_analyze(self.conn, self._ident())
            self.conn.commit()
        except psycopg.Error as exc:
            raise self.store.fault(exc, f"{self.ref}: finishing the table failed") from exc
        finally:
            self.conn.close()
        self.committed = True
        return self.ref

    def _copy_quarantine(self) -> None:
        """The spooled set-aside rows, into their table in the same transaction."""
        assert self.conn is not None
        target = sql.SQL("{}.{}").format(sql.Identifier(QUARANTINE), sql.Identifier(self.table))
        created = False
        for batch in self.quarantined():
            if not created:
                self.conn.execute(sql.SQL(
                    "CREATE TABLE {} (source_row bigint, reason text, properties text, "
                    "source_wkb bytea)").format(target))
                created = True
            with self.conn.cursor().copy(sql.SQL(
                    "COPY {} (source_row, reason, properties, source_wkb) FROM STDIN"
            ).format(target)) as copy:
                for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                    copy.write_row(row)

    def abort(self) -> None:
        if self.stream is not None:
            self.stream.cancel()
        if self.conn is not None and not self.conn.closed:
            self.conn.rollback()  # the table was created in this transaction: it is gone
            self.conn.close()


class PostGISStore(FeatureStore):
    """Layer versions as PostGIS tables ``features.<layer>_<hex>`` with GiST indexes."""

    def __init__(self, url: str, *, statement_timeout_ms: int = 30_000, pool_size: int = 4,
                 count_budget_ms: int = 100, query_budget_ms: int = 5_000,
                 lock_timeout_ms: int = 2_000, read_url: str | None = None) -> None:
        self.count_budget_ms = count_budget_ms
        self.query_budget_ms = query_budget_ms
        self.lock_timeout_ms = lock_timeout_ms
        self._counts = CountCache()
        self._reltuples: dict[str, float] = {}
        self.conninfo = libpq_url(url)
        # primary, and the replica that anonymous reads may use (``pgsession``)
        self._conninfo = {"primary": self.conninfo,
                          "replica": libpq_url(read_url) if read_url else None}
        self._names = {k: dbhealth.database_name(v) for k, v in self._conninfo.items() if v}
        # every transaction's settings (no startup options: PgBouncer refuses them)
        self.session = session_settings(statement_timeout_ms, lock_timeout_ms)
        self.pool_size = pool_size
        self._pools: dict[str, ConnectionPool] = {}
        self._stale: set[str] = set()  # pools that saw their database go away
        self._on_replica: set[str] = set()  # tables the replica is known to have
        self._lock = threading.Lock()
        info = psycopg.conninfo.conninfo_to_dict(self.conninfo)
        self.key = "postgis:{}:{}/{}".format(info.get("host", ""), info.get("port", ""),
                                             info.get("dbname", ""))
        self._columns: dict[str, tuple[str, ...]] = {}
        self._dense: dict[str, bool] = {}  # per ref: fids are 1..N (tables never change)

    # -- connections --------------------------------------------------------------------

    def connect(self) -> psycopg.Connection:
        """A connection of its own (a writer's or an edit's, one transaction until its
        commit) to the primary, its first statement setting the transaction's timeouts."""
        conn = psycopg.connect(self.conninfo, **connect_kwargs(self._wait_s))
        conn.execute(self.session)
        return conn

    def fault(self, exc: psycopg.Error, what: str) -> StorageError:
        """The error for a failure of a write on the primary: ``DatabaseUnavailable`` (503)
        when the database cannot answer now, else a StorageError saying ``what`` failed
        (``dbhealth.database_error``)."""
        return dbhealth.database_error(exc, what, self._names["primary"])

    @property
    def _wait_s(self) -> float:
        return max(0.5, self.query_budget_ms / 2000)

    @property
    def pool(self) -> ConnectionPool:
        """The primary's pool (see ``_pool``)."""
        return self._pool("primary")

    def _pool(self, which: str) -> ConnectionPool:
        """Opened on first use, in the process that uses it (gunicorn forks first). A thread
        waits for a free connection at most half the query budget, then gets ``_pool_busy``
        (503: the connections are busy), not a query started with too little time left and
        stopped as if it were too costly. ``pool_size`` at least the threads: no wait.
        Each connection is checked as it is handed out: those a database restart killed are
        replaced, not used."""
        pool = self._pools.get(which)
        if pool is None:
            with self._lock:
                pool = self._pools.get(which)
                if pool is None:
                    pool = self._pools[which] = ConnectionPool(
                        self._conninfo[which] or self.conninfo, min_size=1,
                        max_size=self.pool_size, open=True,
                        kwargs={"autocommit": True, **connect_kwargs(self._wait_s)},
                        check=_check_connection, name=f"geoportal-store-{which}",
                        timeout=self._wait_s)
        return pool

    def pool_stats(self) -> dict[str, dict[str, int]]:
        """psycopg_pool's figures (``pool_size``, ``pool_available``, ``requests_waiting``...)
        of each pool this process opened (primary, replica), for ``/metrics``."""
        found = {}
        for name, pool in list(self._pools.items()):
            try:
                found[name] = pool.get_stats()
            except Exception:  # a pool being closed after an outage: not this time
                continue
        return found

    def _renew(self, which: str) -> None:
        """After an outage: a new pool instead of one waiting out its reconnection back-off
        (1, 2, 4, 8 s...); the old one is closed in the background."""
        with self._lock:
            if which not in self._stale:
                return
            self._stale.discard(which)
            old = self._pools.pop(which, None)
        if old is not None:
            threading.Thread(target=old.close, kwargs={"timeout": 5}, daemon=True,
                             name="geoportal-pool-close").start()

    def _replica_usable(self) -> bool:
        """Whether this request's reads may go to the replica: one is configured, the request
        is an anonymous read, and the replica is not known to be away (``dbhealth``)."""
        replica = self._conninfo["replica"]
        if not replica:
            return False
        return reads_from_replica() and not dbhealth.replica_down(self._names["replica"],
                                                                  replica)

    @contextmanager
    def _connection(self, ref: str, *, read: bool = False) -> Iterator[psycopg.Connection]:
        """A pooled connection (autocommit) to the primary, or for a ``read`` of an anonymous
        request to the replica when one is configured and answers (a replica found away
        starts its outage and this read, and the next ones, go to the primary). A database
        that cannot answer is a ``DatabaseUnavailable`` (503): while its outage is known, at
        once, without waiting for the pool; a query cancelled by its statement timeout is the
        caller's to judge."""
        which = "replica" if read and self._replica_usable() and self._replicated(ref) \
            else "primary"
        with ExitStack() as stack:
            try:
                conn = stack.enter_context(self._pooled(ref, which))
            except DatabaseUnavailable as exc:
                if which != "replica" or not dbhealth.unreachable(exc):
                    raise
                conn = stack.enter_context(self._pooled(ref, "primary"))
            yield conn

    @contextmanager
    def _pooled(self, ref: str, which: str) -> Iterator[psycopg.Connection]:
        """``_connection``'s pooled connection to ``which`` (primary or replica)."""
        name = self._names[which]
        outage = dbhealth.outage(name)
        if outage.down and not outage.probe(self._conninfo[which] or self.conninfo):
            raise dbhealth.unreachable_error(f"{ref}: database {name} unreachable", name)
        if which in self._stale:
            self._renew(which)
        try:
            with self._pool(which).connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise self._no_connection(ref, which, exc) from exc
        except psycopg.errors.QueryCanceled:
            raise
        except psycopg.OperationalError as exc:  # unreachable, a lock timeout, read-only
            found = dbhealth.classify(exc, name, ref)
            if found is None:
                raise
            if dbhealth.unreachable(found):  # not for a busy server: its pool is fine
                self._stale.add(which)
            raise found from exc
        outage.recovered()

    def _replicated(self, ref: str) -> bool:
        """Whether the replica has the table ``ref`` yet (looked up until it has: a table
        never changes once committed). A layer published a moment ago may not have reached
        it while this process already serves the new version (an editor's request read the
        catalog on the primary): its reads go to the primary meanwhile."""
        if ref in self._on_replica or "." not in ref:
            return True
        try:
            with self._pooled(ref, "replica") as conn:
                found = conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                                     (sql.Identifier(*self._split(ref)).as_string(conn),)
                                     ).fetchone()
        except (psycopg.Error, StorageError, BudgetExceeded):
            # the primary answers this one; a replica found away starts its outage there,
            # so the next reads do not wait for its pool again
            return False
        if found and found[0]:
            self._on_replica.add(ref)
            return True
        return False

    def _no_connection(self, ref: str, which: str, exc: PoolTimeout
                       ) -> BudgetExceeded | DatabaseUnavailable:
        """No pooled connection in time: the database is away (a direct attempt fails
        too), or every connection is busy."""
        name = self._names[which]
        try:
            with psycopg.connect(self._conninfo[which] or self.conninfo, autocommit=True,
                                 **connect_kwargs(self._wait_s)) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as direct:
            found = dbhealth.classify(direct, name, ref)
            if found is not None and not dbhealth.unreachable(found):
                return found  # full (too many connections): the pool is kept
            dbhealth.outage(name).failed(direct)
            self._stale.add(which)
            return dbhealth.unreachable_error(f"{ref}: database {name} unreachable: {direct}",
                                              name)
        return self._pool_busy(ref, exc)

    def _pool_busy(self, ref: str, exc: PoolTimeout) -> BudgetExceeded:
        """The 503 of a request that found every pooled connection busy for its wait."""
        seconds = 5
        return BudgetExceeded(
            f"{ref}: no free database connection ({self.pool_size} pooled): {exc}",
            user_msg=tr("the database connections are all busy ({size} per server process); "
                        "try again in {seconds} s", size=self.pool_size, seconds=seconds),
            retry_after=seconds)

    @contextmanager
    def _cursor(self, ref: str, *, read: bool = False) -> Iterator[psycopg.Cursor]:
        """A cursor in a transaction of its own on the primary (or the replica for a
        ``read``), under the session's statement and lock timeouts."""
        try:
            with self._connection(ref, read=read) as conn, conn.transaction(), \
                    conn.cursor() as cur:
                cur.execute(self.session)
                yield cur
        except psycopg.errors.QueryCanceled as exc:
            raise StorageError(f"{ref}: query cancelled by the statement timeout") from exc
        except psycopg.Error as exc:
            raise StorageError(f"{ref}: {exc}") from exc

    def _deadline(self) -> float:
        """When a store call that begins now must have ended (``time.monotonic()``; inf
        without a budget)."""
        if self.query_budget_ms <= 0:
            return math.inf
        return monotonic() + self.query_budget_ms / 1000

    def _settings(self, ref: str, what: str, deadline: float) -> Callable[[int | None], str]:
        """The settings of each statement of a read call (``OneTripCursor``): its
        ``statement_timeout`` is what is left of ``deadline`` (no more than ``at_most_ms``),
        ``lock_timeout`` the lock timeout within the budget; BudgetExceeded when nothing is
        left."""
        lock_ms = min(self.lock_timeout_ms, self.query_budget_ms) if self.query_budget_ms > 0 \
            else self.lock_timeout_ms

        def settings(at_most_ms: int | None) -> str:
            left = (deadline - monotonic()) * 1000
            if left <= 0:
                raise budget_exceeded(self.query_budget_ms, f"{ref} {what}")
            if at_most_ms is not None and at_most_ms > 0:
                left = min(left, at_most_ms)
            elif math.isinf(left):
                return self.session  # no budget, no cap: the session's statement timeout
            return session_settings(max(1, math.ceil(left)), lock_ms)
        return settings

    @contextmanager
    def _read(self, ref: str, what: str, deadline: float | None = None
              ) -> Iterator[OneTripCursor]:
        """A cursor for the statements of one read call, each bounded by what is left of
        ``deadline`` (default: ``query_budget_ms`` from now; the wait for a connection counts)
        or cancelled when a lock keeps it waiting: that is a ``BudgetExceeded`` (HTTP 503);
        any other database failure is a StorageError."""
        deadline = self._deadline() if deadline is None else deadline
        try:
            with self._connection(ref, read=True) as conn, \
                    OneTripCursor(conn, self._settings(ref, what, deadline)) as cur:
                yield cur
        except psycopg.errors.QueryCanceled as exc:
            raise budget_exceeded(self.query_budget_ms, f"{ref} {what}") from exc
        except psycopg.Error as exc:
            raise StorageError(f"{ref}: {exc}") from exc

    def init(self) -> None:
        """Create the PostGIS extension (if allowed) and the ``features`` schema."""
        with psycopg.connect(self.conninfo, autocommit=True, **connect_kwargs()) as conn:
            has_postgis = conn.execute(
                "SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
            if not has_postgis:
                try:
                    conn.execute("CREATE EXTENSION postgis")
                except psycopg.Error as exc:
                    raise StorageError(
                        f"PostGIS is not enabled in the database and cannot be created ({exc}); "
                        "run CREATE EXTENSION postgis as a superuser"
                    ) from exc
            for schema in (SCHEMA, QUARANTINE):
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(schema)))

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()

    # -- writing ------------------------------------------------------------------------

    def stage(self, layer_id: str, *, geometry_type: str) -> StagedWriter:
        self.init()
        return _PostGISWriter(self, layer_id, geometry_type)

    def edit(self, ref: str, layer_id: str, fields: Sequence[Field], *,
             next_fid: int = 0) -> EditSession:
        from geoportal.storage.postgis_edit import PostGISEdit  # it builds on this module

        return PostGISEdit(self, ref, layer_id, fields, next_fid)

    def drop(self, ref: str) -> None:
        schema, table = self._split(ref)
        with self._cursor(ref) as cur:
            # a retired table may still be read (a download): wait for it as long as a
            # statement may run, not just lock_timeout_ms
            cur.execute("SELECT set_config('lock_timeout', "
                        "current_setting('statement_timeout'), true)")
            for name in (schema, QUARANTINE):
                cur.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(
                    sql.Identifier(name), sql.Identifier(table)))
        self._columns.pop(ref, None)
        self._dense.pop(ref, None)

    def render_source(self, ref: str) -> RenderSource:
        schema, table = self._split(ref)
        which = "replica" if self._replica_usable() and self._replicated(ref) else "primary"
        keywords = psycopg.conninfo.conninfo_to_dict(self._conninfo[which] or self.conninfo)
        password = keywords.pop("password", None)
        return RenderSource("postgis", psycopg.conninfo.make_conninfo(
                                "", **{k: str(v) for k, v in keywords.items() if v is not None}),
                            f"{schema}.{table}", password=str(password) if password else None)

    def quarantine(self, ref: str) -> Iterator[pa.RecordBatch]:
        _, table = self._split(ref)
        with self._cursor(ref) as cur:
            cur.execute("SELECT to_regclass(%s) IS NOT NULL",
                        (sql.Identifier(QUARANTINE, table).as_string(cur),))
            if not one_row(cur)[0]:
                return
            cur.execute(sql.SQL("SELECT source_row, reason, properties, source_wkb FROM {}.{} "
                                "ORDER BY source_row").format(sql.Identifier(QUARANTINE),
                                                              sql.Identifier(table)))
            while chunk := cur.fetchmany(10_000):
                yield quarantine_batch(chunk)

    def refs(self) -> set[str]:
        with self._cursor(SCHEMA) as cur:
            cur.execute("SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = %s", (SCHEMA,))
            return {f"{SCHEMA}.{r[0]}" for r in cur.fetchall()}

    # -- reading ------------------------------------------------------------------------

    @staticmethod
    def _split(ref: str) -> tuple[str, str]:
        schema, _, table = ref.partition(".")
        if schema != SCHEMA or not table:
            raise StorageError(f"store reference {ref!r} is not a table in schema {SCHEMA}")
        return schema, table

    def _table_columns(self, ref: str) -> tuple[str, ...]:
        columns = self._columns.get(ref)
        if columns is None:
            schema, table = self._split(ref)
            with self._cursor(ref, read=True) as cur:
                cur.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                    (schema, table))
                names = [r[0] for r in cur.fetchall()]
            if not names:
                raise StorageError(f"store table {ref!r} is missing")
            columns = self._columns[ref] = tuple(n for n in names if n not in ("fid", "geom"))
        return columns

    def query(self, ref: str, fields: Sequence[Field], query: Query) -> QueryResult:
        deadline = self._deadline()  # one for the page and its count
        schema, table = self._split(ref)
        types = {f.name: f.type for f in fields}
        all_columns = self._table_columns(ref)
        columns = [c for c in all_columns if query.select is None or c in query.select]
        filters: list[sql.Composable] = []
        params: list[Any] = []
        if query.bbox is not None:
            filters.append(sql.SQL("geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND "
                                   "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"))
            params += [*query.bbox, *query.bbox]
        for name, value in query.equals:
            if name not in all_columns:
                raise InputError(tr("{name}: not a field of this layer", name=name))
            filters.append(sql.SQL("{} = %s").format(sql.Identifier(name)))
            params.append(coerce_value(name, types.get(name, "string"), value))
        if query.filter is not None:
            clause, values = cql.to_sql(query.filter, fields, cql.POSTGIS)
            filters.append(sql.SQL("({})").format(sql.SQL(clause)))
            params += values
        if query.after is not None:
            filters.append(sql.SQL("fid > %s"))
            params.append(query.after)
        source = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        select = [sql.SQL("fid"),
                  sql.SQL("NULL") if query.skip_geometry else sql.SQL("ST_AsBinary(geom)"),
                  *map(sql.Identifier, columns)]
        order = [sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL("ASC" if asc else "DESC"))
                 for name, asc in query.sortby] + [sql.SQL("fid")]
        result = QueryResult()
        capped = query.max_vertices is not None and not query.skip_geometry
        with self._read(ref, "query", deadline) as cur:
            # fids are dense (1..N, written in order, none deleted): seek instead of skipping.
            seek = not filters and not query.sortby and query.offset > 0 and \
                self._fids_dense(ref, cur)
            page_filters = [*filters, sql.SQL("fid > %s")] if seek else filters
            page_params = [*params, query.offset, query.limit] if seek else \
                [*params, query.limit, query.offset]
            statement = sql.SQL("SELECT {} FROM {}{} ORDER BY {} LIMIT %s{}").format(
                sql.SQL(", ").join(select if not capped else
                                   [sql.SQL("fid"), sql.SQL("geom"), *select[2:]]),
                source, _where(page_filters), sql.SQL(", ").join(order),
                sql.SQL("") if seek else sql.SQL(" OFFSET %s"))
            if capped:
                statement, page_params = _capped_page(statement, columns, page_params, query)
            cur.execute(statement, page_params)
            raw = cur.fetchall()
            description = cur.description
            if capped:
                page_bytes = raw[0][-1] if raw else 0
                if len(raw) > 1 and page_bytes > (query.max_vertices or 0) * VERTEX_BYTES:
                    raise page_too_large(query, len(raw), page_bytes)
                raw = [r[:-1] for r in raw]
            if query.count:
                result.number_matched = total_from_page(query, len(raw))
                if result.number_matched is None:
                    self._count(ref, cur, source, filters, params, query, len(raw), result,
                                deadline)
        result.rows = _rows(raw, columns, description)
        return result

    def _count(self, ref: str, cur: OneTripCursor, source: sql.Composable,
               filters: list[sql.Composable], params: list[Any], query: Query, returned: int,
               result: QueryResult, deadline: float) -> None:
        """The exact number matched, or the planner's estimate when counting would take longer
        than the count budget (a filter on a large table that no index narrows) or than what
        is left of the call's ``deadline``; remembered for the next page of the same
        filter."""
        statement = sql.SQL("SELECT count(*) FROM {}{}").format(source, _where(filters))
        sole_bbox = query.bbox if len(filters) == 1 else None  # the box is the only filter

        def count() -> tuple[float, bool]:
            if sole_bbox is not None and self.count_budget_ms > 0:
                found = self._bbox_count(ref, cur, statement, params, sole_bbox)
                if found is not None:
                    return found
            return self._count_uncached(ref, cur, statement, source, filters, params,
                                        deadline)
        self._counts.fill((statement.as_string(cur), tuple(params)), count, query, returned,
                          result)

    def _bbox_count(self, ref: str, cur: OneTripCursor, statement: sql.Composable,
                    params: list[Any], bbox: tuple[float, ...]) -> tuple[float, bool] | None:
        """The count of a bbox-only query in one round trip: PostGIS's estimate of the rows
        the box holds (``_postgis_selectivity``, from the statistics ANALYZE kept: closer
        than the planner's, which multiplies in a guess for ``ST_Intersects``) decides in
        the database whether the count may run (no more rows than the count budget reads);
        (estimate, True) when it may not or it ran out of time; None when the table has no
        statistics (then ``_count_uncached`` decides)."""
        table = sql.Identifier(*self._split(ref)).as_string(cur)
        rows = sql.SQL("SELECT _postgis_selectivity(%s::regclass, 'geom', "
                       "ST_MakeEnvelope(%s, %s, %s, %s, 4326)) * greatest(c.reltuples, 0) AS n "
                       "FROM pg_class c WHERE c.oid = %s::regclass")
        guarded = sql.SQL("WITH e AS ({rows}) SELECT e.n, CASE WHEN e.n <= %s THEN ({count}) "
                          "END FROM e").format(rows=rows, count=statement)
        try:
            try:
                cur.execute(guarded, [table, *bbox, table,
                                      self.count_budget_ms * SCAN_ROWS_PER_MS, *params],
                            at_most_ms=self.count_budget_ms)
                estimate, exact = one_row(cur)
            except psycopg.errors.QueryCanceled:  # out of time: the estimate alone
                cur.execute(rows, [table, *bbox, table])
                estimate, exact = one_row(cur)[0], None
        except psycopg.errors.InternalError:
            return None  # "stats for ... do not exist": no ANALYZE yet
        if exact is not None:
            return exact, False
        return float(estimate), True

    def _count_uncached(self, ref: str, cur: OneTripCursor, statement: sql.Composable,
                        source: sql.Composable, filters: list[sql.Composable],
                        params: list[Any], deadline: float = math.inf) -> tuple[float, bool]:
        # Every round trip counts (a full bbox page needs this count; through PgBouncer each
        # is two hops): the EXPLAIN and the count are one round trip each, their settings
        # in the same message (``OneTripCursor``).
        if deadline - monotonic() <= 0:
            raise budget_exceeded(self.query_budget_ms, f"{ref} count")
        cur.execute(sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM {}{}").format(
            source, _where(filters)), params)
        plan = one_row(cur)[0][0]["Plan"]
        estimate = float(plan["Plan Rows"])
        if self.count_budget_ms <= 0:
            cur.execute(statement, params)
            return one_row(cur)[0], False
        # A sequential scan of a table too large to read within the budget: do not start it.
        if _seq_scan(plan) and self._rows(ref, cur) > self.count_budget_ms * SCAN_ROWS_PER_MS:
            return estimate, True
        if (deadline - monotonic()) * 1000 < 1:
            return estimate, True  # the call's time is spent: no exact count
        try:
            # a statement of its own: cancelled, it takes nothing else with it
            cur.execute(statement, params, at_most_ms=self.count_budget_ms)
            return one_row(cur)[0], False
        except psycopg.errors.QueryCanceled:
            return estimate, True  # the count budget or the call's deadline

    def _fids_dense(self, ref: str, cur: psycopg.Cursor) -> bool:
        """Whether the table's fids are 1..N: true unless an edit marked it ``SPARSE_FIDS``.
        Looked up once per ref and process: a table never changes after its commit."""
        dense = self._dense.get(ref)
        if dense is None:
            cur.execute("SELECT obj_description(%s::regclass, 'pg_class')",
                        (sql.Identifier(*self._split(ref)).as_string(cur),))
            dense = self._dense[ref] = one_row(cur)[0] != SPARSE_FIDS
        return dense

    def _rows(self, ref: str, cur: psycopg.Cursor) -> float:
        """The table's row count as the planner knows it (ANALYZE ran when it was written)."""
        rows = self._reltuples.get(ref)
        if rows is None:
            cur.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (ref,))
            found = cur.fetchone()
            rows = self._reltuples[ref] = float(found[0]) if found else 0.0
        return rows

    def tile(self, ref: str, fields: Sequence[Field], address: TileAddress, *, layer: str,
             points: bool) -> bytes:
        """ST_AsMVT over the features whose box touches the tile (not smaller than a tile
        unit both ways, unless ``points``). A tile that would hold more than
        ``MAX_TILE_FEATURES`` or come out over ``MAX_TILE_BYTES`` is thinned on a grid, as
        the GeoPackage store does (``_thinned_tile``), instead of cut at an arbitrary row."""
        deadline = self._deadline()  # one for the tile and its thinning passes
        schema, table = self._split(ref)
        columns = self._table_columns(ref)
        minx, miny, maxx, maxy = address.lonlat_bounds()
        small = sql.SQL("") if points else sql.SQL(
            " AND (ST_XMax(geom) - ST_XMin(geom) >= %(small)s"
            " OR ST_YMax(geom) - ST_YMin(geom) >= %(small)s)")
        source = sql.SQL(
            "FROM {schema}.{table} "
            "WHERE geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326){small}"
        ).format(schema=sql.Identifier(schema), table=sql.Identifier(table), small=small)
        selected = sql.SQL("").join(sql.SQL("{}, ").format(sql.Identifier(c)) for c in columns)

        def mvt(rows: sql.Composable) -> sql.Composed:
            """ST_AsMVT of ``rows``, and how many rows there were."""
            return sql.SQL(
                "SELECT ST_AsMVT(t, %(layer)s, {extent}, 'geom', 'fid') "
                "FILTER (WHERE t.geom IS NOT NULL), count(*) FROM ("
                "SELECT fid, {columns}ST_AsMVTGeom(ST_Transform(geom, 3857), "
                "ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {extent}, {buffer}, true) AS geom "
                "FROM ({rows}) AS s) AS t").format(
                extent=sql.Literal(EXTENT), buffer=sql.Literal(BUFFER), columns=selected,
                rows=rows)

        params: dict[str, Any] = {
            "layer": layer, "z": address.z, "x": address.x, "y": address.y, "minx": minx,
            "miny": miny, "maxx": maxx, "maxy": maxy, "small": min_feature_size(address),
            "limit": MAX_TILE_FEATURES}
        # one statement for the usual tile; one row more than the limit says it is crowded
        statement = mvt(sql.SQL("SELECT * {source} LIMIT %(limit)s + 1").format(source=source))
        with self._read(ref, "tile", deadline) as cur:
            cur.execute(statement, params)
            row = cur.fetchone()
            tile = bytes(row[0]) if row and row[0] else b""
            if (row is None or row[1] <= MAX_TILE_FEATURES) and len(tile) <= MAX_TILE_BYTES:
                return tile
            return self._thinned_tile(cur, mvt, source, params, address)

    @staticmethod
    def _thinned_tile(cur: Any, mvt: Callable[[sql.Composable], sql.Composed],
                      source: sql.Composed, params: dict[str, Any],
                      address: TileAddress) -> bytes:
        """A dense window's tile: square cells of ``cell`` tile units, each keeping the
        feature whose box centre lies in it and whose box is largest (then the lowest fid);
        the cells grow while the tile comes out over ``MAX_TILE_BYTES`` (up to 4 times),
        each pass bounded by what is left of the tile's deadline (``OneTripCursor``)."""
        unit = min_feature_size(address)
        minx, miny, _, maxy = address.lonlat_bounds(0)
        shrink = math.cos(math.radians((miny + maxy) / 2))
        cell = math.ceil((EXTENT + 2 * BUFFER) / math.sqrt(MAX_TILE_FEATURES))
        keys = sql.SQL("floor((ST_XMin(geom) + ST_XMax(geom) - %(ox)s) / %(cx)s), "
                       "floor((ST_YMin(geom) + ST_YMax(geom) - %(oy)s) / %(cy)s)")
        rows = sql.SQL(
            "SELECT DISTINCT ON ({keys}) * {source} ORDER BY {keys}, "
            "greatest(ST_XMax(geom) - ST_XMin(geom), ST_YMax(geom) - ST_YMin(geom)) DESC, fid"
        ).format(keys=keys, source=source)
        out = b""
        for _ in range(5):
            cur.execute(mvt(rows), {**params, "ox": 2 * minx, "oy": 2 * miny,
                                    "cx": 2 * cell * unit, "cy": 2 * cell * unit * shrink})
            row = cur.fetchone()
            out = bytes(row[0]) if row and row[0] else b""
            if len(out) <= MAX_TILE_BYTES:
                break
            cell = math.ceil(cell * max(1.25, 1.1 * math.sqrt(len(out) / MAX_TILE_BYTES)))
        return out

    def get(self, ref: str, fields: Sequence[Field], fid: int) -> Row | None:
        if not -MAX_FID <= fid <= MAX_FID:  # no such feature (and no bigint)
            return None
        schema, table = self._split(ref)
        columns = self._table_columns(ref)
        statement = sql.SQL("SELECT fid, ST_AsBinary(geom), {} FROM {}.{} WHERE fid = %s").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)) if columns else sql.SQL("NULL"),
            sql.Identifier(schema), sql.Identifier(table))
        with self._read(ref, "get") as cur:
            cur.execute(statement, (fid,))
            row = cur.fetchone()
        if row is None:
            return None
        if not columns:
            row = row[:2]
        return _rows([row], list(columns))[0]


def _check_connection(conn: psycopg.Connection) -> None:
    """A connection is checked before it is handed out: one the server may have closed
    (``pgsession.maybe_closed``: something to read while idle, no round trip) is tried
    (``ConnectionPool.check_connection``); when it is dead, the pool's other idle ones are
    tested at once too: a restart killed them all, and the pool would otherwise find them one
    by one, a back-off pause apiece."""
    if not maybe_closed(conn):
        return
    try:
        ConnectionPool.check_connection(conn)
    except psycopg.Error:
        pool = getattr(conn, "_pool", None)
        if isinstance(pool, ConnectionPool):
            pool.check()
        raise


def _capped_page(page: sql.Composable, columns: Sequence[str], params: list[Any],
                 query: Query) -> tuple[sql.Composed, list[Any]]:
    """The page statement (selecting ``fid, geom, *columns``) under ``query.max_vertices``:
    the same rows in the same order, the geometry as WKB, and a last column with the page's
    geometries' size (``ST_MemSize``: the stored size, known without reading a geometry);
    past the cap (and more than one row) the geometries come back null, so an oversized page
    is neither converted nor sent."""
    size = sql.SQL("sum(ST_MemSize(geom)) OVER ()")
    statement = sql.SQL(
        "SELECT fid, CASE WHEN {size} <= %s OR count(*) OVER () = 1 THEN ST_AsBinary(geom) "
        "END, {columns}{size} FROM ({inner}) AS page").format(
        size=size, inner=page,
        columns=sql.SQL("").join(sql.SQL("{}, ").format(sql.Identifier(c)) for c in columns))
    return statement, [(query.max_vertices or 0) * VERTEX_BYTES, *params]


def _seq_scan(plan: dict[str, Any]) -> bool:
    """Whether an EXPLAIN (FORMAT JSON) plan reads a table sequentially anywhere."""
    if plan.get("Node Type") in ("Seq Scan", "Parallel Seq Scan"):
        return True
    return any(_seq_scan(child) for child in plan.get("Plans", ()))


def _where(filters: list[sql.Composable]) -> sql.Composable:
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(filters) if filters else sql.SQL("")


def _plain(value: Any) -> Any:
    """Values as the GeoPackage store returns them: dates and times as ISO 8601 text."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _rows(raw: list[tuple[Any, ...]], columns: Sequence[str],
          description: Sequence[Any] | None = None) -> list[Row]:
    """Rows of (fid, WKB, *columns) as ``Row``s; with the cursor's ``description``, only the
    columns of a date or time type go through ``_plain`` (a page of 100 rows has hundreds of
    values)."""
    geoms = shapely.from_wkb([bytes(r[1]) if r[1] is not None else None for r in raw]) \
        if raw else []
    temporal = True if description is None else \
        any(d.type_code in _TEMPORAL_OIDS for d in description[2:])
    if not temporal:
        return [Row(fid=r[0], properties=dict(zip(columns, r[2:], strict=True)), geometry=g)
                for r, g in zip(raw, geoms, strict=True)]
    return [
        Row(fid=r[0], properties={c: _plain(v) for c, v in zip(columns, r[2:], strict=True)},
            geometry=g)
        for r, g in zip(raw, geoms, strict=True)
    ]
