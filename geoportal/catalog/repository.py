"""The catalog repository: the single source of truth for what is published.

Switching a layer's current version is one transaction that also bumps a generation counter,
which every server worker polls to notice changes without a restart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, overload

from sqlalchemy import (
    Connection,
    case,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from geoportal.catalog import schema as t
from geoportal.catalog.models import Field, Layer, LayerMetadata, Version
from geoportal.catalog.registry import Registry
from geoportal.errors import (
    Conflict,
    DatabaseUnavailable,
    GeoportalError,
    NotFound,
    StorageError,
)
from geoportal.i18n import tr
from geoportal.states import LayerKind, VersionStatus
from geoportal.storage import dbhealth
from geoportal.storage.pgsession import connect_kwargs, reads_from_replica, session_settings

if TYPE_CHECKING:
    from geoportal.config import Settings

__all__ = ["MAX_VERSION", "Catalog", "as_utc", "utc_now"]

# The largest version number a catalog keeps (the column is a 32-bit integer in PostgreSQL).
MAX_VERSION = 2**31 - 1
# The key of the keywords' JSON that holds a manifest's ``search:`` (LayerMetadata.search).
SEARCH_KEY = "_search"
# ... and the one that holds the viewer's keys (LayerMetadata.view: title_field, unit, series,
# basemap; issue 19). Old rows have neither: read back as None.
VIEW_KEY = "_view"


def utc_now() -> datetime:
    """Now, in UTC: every time the catalog database stores."""
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
@overload
def as_utc(value: datetime | None) -> datetime | None: ...


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _driver_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy would otherwise pick psycopg2)."""
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgresql", "postgres"):
        return f"postgresql+psycopg{sep}{rest}"
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _postgres_engine(url: str, *, statement_timeout_ms: int, lock_timeout_ms: int,
                     pool_size: int, pool_timeout_s: float) -> Engine:
    """A pooled PostgreSQL engine that works through PgBouncer in transaction mode (see
    ``storage/pgsession.py``): connections checked before use (``pool_pre_ping``, so those a
    restart killed are replaced), renewed every 5 minutes, a thread waits at most
    ``pool_timeout_s`` for one, and each transaction sets its own timeouts and time zone."""
    engine = create_engine(_driver_url(url), pool_pre_ping=True, pool_recycle=300,
                           pool_size=pool_size, max_overflow=max(2, pool_size // 2),
                           pool_timeout=pool_timeout_s,
                           connect_args=connect_kwargs(pool_timeout_s))
    settings = session_settings(statement_timeout_ms, lock_timeout_ms)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(settings)

    return engine


class Catalog:
    """Layers, versions, regions and themes in one SQL database (SQLite or PostgreSQL).

    On PostgreSQL, ``read_url`` (a replica) serves the reads of anonymous requests (the server
    marks them, ``pgsession.replica_reads``); writes and every other read use ``url``. A
    database that cannot answer raises ``DatabaseUnavailable`` (HTTP 503)."""

    def __init__(self, url: str, *, engine: Engine | None = None, read_url: str | None = None,
                 statement_timeout_ms: int = 30_000, lock_timeout_ms: int = 2_000,
                 pool_size: int = 8, pool_timeout_s: float = 2.5) -> None:
        self.url = url
        def pooled(target: str) -> Engine:
            return _postgres_engine(target, statement_timeout_ms=statement_timeout_ms,
                                    lock_timeout_ms=lock_timeout_ms, pool_size=pool_size,
                                    pool_timeout_s=pool_timeout_s)

        postgres = _driver_url(url).startswith("postgresql")
        if engine is None:
            engine = pooled(url) if postgres \
                else create_engine(_driver_url(url), pool_pre_ping=True)
        self.engine = engine
        self.read_engine = pooled(read_url) if read_url and postgres else None
        self._names = {id(e): dbhealth.database_name(e) for e in (self.engine, self.read_engine)
                       if e is not None}
        # the replica as libpq takes it, for the probe while it is away
        self._read_conninfo = read_url.replace("postgresql+psycopg://", "postgresql://", 1) \
            if self.read_engine is not None and read_url else ""
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    @classmethod
    def from_settings(cls, settings: Settings) -> Catalog:
        """The catalog of ``settings``: its replica, timeouts and pool size."""
        return cls(settings.database_url or "", read_url=settings.database_read_url,
                   statement_timeout_ms=settings.statement_timeout_ms,
                   lock_timeout_ms=settings.lock_timeout_ms, pool_size=settings.pool_size,
                   pool_timeout_s=max(0.5, settings.query_budget_ms / 2000))

    @property
    def embedded(self) -> bool:
        """True for the SQLite catalog (nobody else can create it: the server may)."""
        return self.engine.dialect.name == "sqlite"

    @property
    def reader(self) -> Engine:
        """The engine for this request's reads: the replica for anonymous requests when one
        is configured, else the primary; the primary too while the replica is known to be
        away (``dbhealth.replica_down``), until a probe finds it back."""
        if self.read_engine is not None and reads_from_replica() and not \
                dbhealth.replica_down(self._names[id(self.read_engine)], self._read_conninfo):
            return self.read_engine
        return self.engine

    def database_error(self, exc: SQLAlchemyError, what: str = "catalog",
                       engine: Engine | None = None) -> GeoportalError:
        """The error to raise for ``exc``: ``DatabaseUnavailable`` (503) when the database
        cannot answer now, else a StorageError (``dbhealth.database_error``)."""
        engine = engine or self.engine
        name = None if self.embedded else self._names.get(id(engine),
                                                          dbhealth.database_name(engine))
        return dbhealth.database_error(exc, what, name)

    def reached(self, engine: Engine | None = None) -> None:
        """A call reached the database: ends a known outage (logged once)."""
        name = self._names.get(id(engine or self.engine))
        if name is not None and not self.embedded:
            dbhealth.outage(name).recovered()

    def _on_primary_instead(self, engine: Engine, exc: SQLAlchemyError) -> bool:
        """Whether a read that failed to reach ``engine`` goes to the primary instead: it was
        the replica and it is away (its outage starts here: the next reads go to the primary
        at once, ``reader``). Raises the error for ``exc`` otherwise."""
        error = self.database_error(exc, "catalog", engine)
        if engine is self.read_engine and dbhealth.unreachable(error):
            return True
        raise error from exc

    @contextmanager
    def _tx(self, *, read: bool = False) -> Iterator[Connection]:
        engine = self.reader if read else self.engine
        try:
            with ExitStack() as stack:
                try:
                    conn = stack.enter_context(engine.begin())
                except SQLAlchemyError as exc:  # not connected: the replica may be away
                    self._on_primary_instead(engine, exc)
                    engine = self.engine
                    conn = stack.enter_context(engine.begin())
                yield conn
        except SQLAlchemyError as exc:
            raise self.database_error(exc, "catalog", engine) from exc
        self.reached(engine)

    def ping(self, engine: Engine | None = None) -> None:
        """Raise ``DatabaseUnavailable`` unless ``engine`` (default: the one this request's
        reads go to) answers, or a StorageError when it has no catalog (run ``geoportal
        init``). ``/readyz`` names the engine: its checks run in threads of their own."""
        engine = engine or self.reader
        try:
            with engine.begin() as conn:
                conn.execute(select(t.catalog_state.c.generation)).first()
        except SQLAlchemyError as exc:
            error = self.database_error(exc, "catalog", engine)
            if isinstance(error, DatabaseUnavailable):
                raise error from exc
            raise StorageError(f"catalog schema missing or unreadable: {error}",
                               user_msg="the catalog is not set up: run `geoportal init`"
                               ) from exc
        self.reached(engine)

    def check_schema(self) -> None:
        """A StorageError naming what is missing unless ``geoportal init`` created every
        catalog table: a web node on PostgreSQL never creates or changes them itself. Read
        where this context's reads go (the replica at a web node's start-up, when one is
        configured: a node starts while the primary is away)."""
        engine = self.reader
        try:
            names = set(inspect(engine).get_table_names())
        except SQLAlchemyError as exc:
            self._on_primary_instead(engine, exc)
            try:
                names = set(inspect(self.engine).get_table_names())
            except SQLAlchemyError as again:
                raise self.database_error(again, "catalog") from again
        missing = [table.name for table in t.metadata.sorted_tables if table.name not in names]
        if missing:
            url = self.engine.url.render_as_string(hide_password=True)
            raise StorageError(
                f"the catalog database {url} has no table {', '.join(missing)}: run "
                "`geoportal init` with the same GEOPORTAL_DATABASE_URL once (and after every "
                "upgrade), then start the server")

    def writable(self) -> bool:
        """Whether the primary accepts writes now (False on a hot standby or with
        ``default_transaction_read_only``): the start-up clean-up runs only then."""
        if self.embedded:
            return True
        with self._tx() as conn:
            row = conn.execute(text("SELECT pg_is_in_recovery(), "
                                    "current_setting('transaction_read_only')")).first()
        return row is not None and not row[0] and row[1] != "on"

    # -- set-up -----------------------------------------------------------------------------

    def init(self, registry: Registry) -> None:
        """Create the tables if needed and load the region and theme registers."""
        with self._tx() as conn:
            t.metadata.create_all(conn)
            if conn.execute(select(t.catalog_state.c.id)).first() is None:
                conn.execute(insert(t.catalog_state).values(id=1, generation=0,
                                                            updated=utc_now()))
            self._upsert(conn, t.regions, "code", [
                {"code": r.code, "level": r.level, "parent": r.parent, "iso": r.iso,
                 "name": r.name, "bbox": list(r.bbox) if r.bbox else None}
                for r in registry.regions.values()
            ])
            self._upsert(conn, t.themes, "id", [
                {"id": th.id, "name": th.name} for th in registry.themes.values()
            ])

    @staticmethod
    def _upsert(conn: Connection, table: Any, key: str, rows: list[dict[str, Any]]) -> None:
        existing = {r[0] for r in conn.execute(select(table.c[key]))}
        for row in rows:
            if row[key] in existing:
                conn.execute(update(table).where(table.c[key] == row[key]).values(**row))
            else:
                conn.execute(insert(table).values(**row))

    # -- reading ----------------------------------------------------------------------------

    def generation(self) -> int:
        """A counter that grows with every change the server must see."""
        with self._tx(read=True) as conn:
            value = conn.execute(select(t.catalog_state.c.generation)).scalar()
        return int(value or 0)

    def get_layer(self, layer_id: str) -> Layer:
        """The layer with its current version; NotFound when there is no such layer."""
        layers = self._layers(t.layers.c.id == layer_id)
        if not layers:
            raise NotFound(tr("layer {id} is not in the catalog", id=repr(layer_id)))
        return layers[0]

    def find_layer(self, layer_id: str) -> Layer | None:
        """The layer, or None."""
        layers = self._layers(t.layers.c.id == layer_id)
        return layers[0] if layers else None

    def list_layers(self, *, light: bool = False) -> list[Layer]:
        """Every layer, ordered by id. ``light`` leaves out what a server listing 20,000
        layers does not need of each: a vector version's field list and ETL report (empty
        and None; a raster keeps its report, which describes the grid). ``find_layer`` and
        ``find_layers`` read them in full."""
        return self._layers(None, light=light)

    def each_layer(self, *, light: bool = False) -> Iterator[Layer]:
        """``list_layers``, one layer at a time, streamed from the database (a server
        keeping a compact form of each never holds 20,000 full rows at once)."""
        query = self._layers_query(None, light=light).execution_options(yield_per=500)
        with self._tx(read=True) as conn:
            for row in conn.execute(query).mappings():
                yield self._layer_from_row(row)

    def find_layers(self, layer_ids: Collection[str]) -> list[Layer]:
        """The layers among ``layer_ids`` that exist, in full, ordered by id (one query)."""
        if not layer_ids:
            return []
        return self._layers(t.layers.c.id.in_(sorted(layer_ids)))

    def _layers(self, where: Any, *, light: bool = False) -> list[Layer]:
        query = self._layers_query(where, light=light)
        with self._tx(read=True) as conn:  # row by row: no second copy of 20,000 rows
            return [self._layer_from_row(row) for row in conn.execute(query).mappings()]

    @staticmethod
    def _layers_query(where: Any, *, light: bool = False) -> Any:
        join = t.layers.outerjoin(
            t.versions,
            (t.versions.c.layer_id == t.layers.c.id)
            & (t.versions.c.version == t.layers.c.current_version),
        )
        version_cols = [c.label(f"v_{c.name}") for c in t.versions.c
                        if not light or c.name not in ("report", "fields")]
        if light:  # a raster's report (its grid) only
            version_cols.append(type_coerce(
                case((t.layers.c.kind == "coverage", t.versions.c.report), else_=None),
                t.versions.c.report.type).label("v_report"))
        query = select(t.layers, *version_cols).select_from(join).order_by(t.layers.c.id)
        if where is not None:
            query = query.where(where)
        return query

    def versions(self, layer_id: str) -> list[Version]:
        """All versions of a layer kept in the catalog, newest first."""
        query = (
            select(t.versions)
            .where(t.versions.c.layer_id == layer_id)
            .order_by(t.versions.c.version.desc())
        )
        with self._tx(read=True) as conn:
            return [self._version_from_row(r) for r in conn.execute(query).mappings()]

    def store_refs(self) -> set[str]:
        """The store reference of every version the catalog keeps (current and retired), so
        a clean-up can tell a published table or file from a leftover."""
        with self._tx() as conn:
            return {r[0] for r in conn.execute(select(t.versions.c.store_ref))}

    # -- writing ----------------------------------------------------------------------------

    def save_metadata(self, meta: LayerMetadata) -> bool:
        """Create the layer or update its texts; True when anything changed."""
        values = self._meta_values(meta)
        with self._tx() as conn:
            row = conn.execute(select(t.layers).where(t.layers.c.id == meta.id)).mappings().first()
            if row is None:
                now = utc_now()
                conn.execute(insert(t.layers).values(**values, created=now, updated=now))
            elif any(row[k] != v for k, v in values.items()):
                changed = update(t.layers).where(t.layers.c.id == meta.id)
                conn.execute(changed.values(**values, updated=utc_now()))
            else:
                return False
            self._bump(conn)
        return True

    def publish(self, meta: LayerMetadata, draft: Version, *,
                based_on: int | None = None) -> Version:
        """Register a staged table as the layer's new current version, in one transaction.

        The previous current version is retired, not deleted, so it can be rolled back to.
        With ``based_on`` (an edit made on a copy of that version), a Conflict is raised
        instead when another version became current meanwhile: the edit must be made again.
        """
        now = utc_now()
        with self._tx() as conn:
            # Take the write lock first, so concurrent publishers serialize here.
            self._bump(conn)
            row = conn.execute(select(t.layers.c.id, t.layers.c.current_version)
                               .where(t.layers.c.id == meta.id)).first()
            if based_on is not None and (row is None or row[1] != based_on):
                raise Conflict(tr("layer {id} changed while it was being edited (version "
                                  "{version} is no longer current)", id=repr(meta.id),
                                  version=based_on))
            values = self._meta_values(meta)
            if row is None:
                conn.execute(insert(t.layers).values(**values, created=now, updated=now))
            number = (
                conn.execute(
                    select(func.max(t.versions.c.version)).where(t.versions.c.layer_id == meta.id)
                ).scalar()
                or 0
            ) + 1
            version = dataclasses.replace(draft, version=number, created=now,
                                          status=VersionStatus.CURRENT)
            conn.execute(
                update(t.versions)
                .where((t.versions.c.layer_id == meta.id) & (t.versions.c.status == "current"))
                .values(status="retired")
            )
            conn.execute(insert(t.versions).values(**self._version_values(version)))
            conn.execute(
                update(t.layers)
                .where(t.layers.c.id == meta.id)
                .values(**values, current_version=number, updated=now)
            )
        return version

    def rollback(self, layer_id: str, version: int) -> Version:
        """Make a kept older (or newer) version current again, in one transaction.

        The version's store table is still there: pruning drops tables only together with
        their catalog rows.
        """
        with self._tx() as conn:
            self._bump(conn)
            row = None
            if 1 <= version <= MAX_VERSION:  # 10**23 is no version (and no SQL integer)
                row = conn.execute(
                    select(t.versions).where((t.versions.c.layer_id == layer_id)
                                             & (t.versions.c.version == version))
                ).mappings().first()
            if row is None:
                kept = [r[0] for r in conn.execute(
                    select(t.versions.c.version).where(t.versions.c.layer_id == layer_id)
                    .order_by(t.versions.c.version))]
                if not kept:
                    raise NotFound(tr("layer {id} has no versions", id=repr(layer_id)))
                raise NotFound(tr("layer {id} has no version {version}; kept: {kept}",
                                  id=repr(layer_id), version=version,
                                  kept=", ".join(map(str, kept))))
            conn.execute(
                update(t.versions)
                .where((t.versions.c.layer_id == layer_id) & (t.versions.c.status == "current"))
                .values(status="retired")
            )
            conn.execute(
                update(t.versions)
                .where((t.versions.c.layer_id == layer_id) & (t.versions.c.version == version))
                .values(status="current")
            )
            conn.execute(update(t.layers).where(t.layers.c.id == layer_id)
                         .values(current_version=version, updated=utc_now()))
            restored = self._version_from_row(row)
        restored.status = VersionStatus.CURRENT
        return restored

    def unpublish(self, layer_id: str) -> list[Version]:
        """Remove a layer and all its versions from the catalog in one transaction; return the
        versions, whose store tables or files the caller drops afterwards."""
        gone = self.versions(layer_id)
        with self._tx() as conn:
            if conn.execute(select(t.layers.c.id).where(t.layers.c.id == layer_id)).first() \
                    is None:
                raise NotFound(tr("no layer {id}", id=repr(layer_id)))
            self._bump(conn)
            conn.execute(t.versions.delete().where(t.versions.c.layer_id == layer_id))
            conn.execute(t.layers.delete().where(t.layers.c.id == layer_id))
        return gone

    def prune(self, layer_id: str, keep: int) -> list[str]:
        """Forget retired versions beyond the newest ``keep``; return their store tables."""
        retired = [v for v in self.versions(layer_id) if v.status != "current"]
        doomed = retired[max(keep - 1, 0):]
        if not doomed:
            return []
        with self._tx() as conn:
            for v in doomed:
                conn.execute(
                    t.versions.delete().where(
                        (t.versions.c.layer_id == layer_id) & (t.versions.c.version == v.version)
                    )
                )
        return [v.store_ref for v in doomed]

    @staticmethod
    def _bump(conn: Connection) -> None:
        conn.execute(
            update(t.catalog_state)
            .where(t.catalog_state.c.id == 1)
            .values(generation=t.catalog_state.c.generation + 1, updated=utc_now())
        )

    # -- row mapping ------------------------------------------------------------------------

    @staticmethod
    def _meta_values(meta: LayerMetadata) -> dict[str, Any]:
        return {
            "id": meta.id, "region": meta.region, "theme": meta.theme, "kind": meta.kind,
            "title": meta.title, "description": meta.description,
            # the manifest's ``search:`` rides in the keywords' JSON under SEARCH_KEY (issue
            # 19): read back into ``meta.search`` by _layer_from_row, never seen as keywords
            "keywords": {**meta.keywords,
                         **({SEARCH_KEY: meta.search} if meta.search else {}),
                         **({VIEW_KEY: meta.view} if meta.view else {})},
            "license": meta.license, "attribution": meta.attribution,
        }

    @staticmethod
    def _version_values(v: Version) -> dict[str, Any]:
        minx, miny, maxx, maxy = v.extent or (None, None, None, None)
        return {
            "layer_id": v.layer_id, "version": v.version, "created": v.created,
            "status": v.status, "source_name": v.source_name, "source_sha256": v.source_sha256,
            "source_crs": v.source_crs, "store_ref": v.store_ref,
            "feature_count": v.feature_count, "set_aside_count": v.set_aside_count,
            "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy,
            "geometry_type": v.geometry_type,
            "fields": [f.to_dict() for f in v.fields], "report": v.report,
        }

    @staticmethod
    def _version_from_row(row: Any, prefix: str = "") -> Version:
        row = {k.removeprefix(prefix): v for k, v in row.items() if k.startswith(prefix)}
        extent = None
        if row["minx"] is not None:
            extent = (row["minx"], row["miny"], row["maxx"], row["maxy"])
        return Version(
            layer_id=row["layer_id"], version=row["version"], created=as_utc(row["created"]),
            status=VersionStatus(row["status"]), source_name=row["source_name"],
            source_sha256=row["source_sha256"], source_crs=row["source_crs"],
            store_ref=row["store_ref"], feature_count=row["feature_count"],
            set_aside_count=row["set_aside_count"], extent=extent,
            geometry_type=row["geometry_type"],
            fields=[Field.from_dict(f) for f in row.get("fields") or ()], report=row["report"],
        )

    def _layer_from_row(self, row: Any) -> Layer:
        keywords = dict(row["keywords"] or {})
        search = keywords.pop(SEARCH_KEY, None)
        view = keywords.pop(VIEW_KEY, None)
        meta = LayerMetadata(
            id=row["id"], region=row["region"], theme=row["theme"], kind=LayerKind(row["kind"]),
            title=row["title"], description=row["description"], keywords=keywords,
            license=row["license"], attribution=row["attribution"],
            search=search if isinstance(search, dict) else None,
            view=view if isinstance(view, dict) else None,
        )
        current = self._version_from_row(row, "v_") if row["v_version"] is not None else None
        return Layer(meta=meta, created=as_utc(row["created"]), updated=as_utc(row["updated"]),
                     current=current)
