"""Editing a PostGIS version: copy the table, change the copy, publish it as a new version.

Published tables are never modified, so an edit works on a copy made in its own transaction
(``CREATE TABLE ... AS SELECT``, which keeps the geometry column's type and SRID): nobody sees
the copy until the commit, and an abort or a crash leaves nothing behind. Each change runs in
a savepoint, so a value the database refuses is the user's error and the session goes on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import shapely
from psycopg import sql

from geoportal.errors import InputError, StorageError
from geoportal.fields import Field
from geoportal.i18n import Message, tr
from geoportal.storage.base import EditSession, Row, check_known_properties
from geoportal.storage.pgsession import one_row
from geoportal.storage.postgis import (
    QUARANTINE,
    SCHEMA,
    SPARSE_FIDS,
    PostGISStore,
    _rows,
    index_and_analyze,
)

__all__ = ["PostGISEdit"]


class PostGISEdit(EditSession):
    """A copy of one version's table (and its quarantine), changed in one transaction."""

    def __init__(self, store: PostGISStore, ref: str, layer_id: str,
                 fields: Sequence[Field], next_fid: int) -> None:
        _, source = store._split(ref)
        self.store = store
        self.source_ref = ref
        self.table = f"{layer_id.replace('-', '_')[:40]}_{uuid.uuid4().hex[:12]}"
        self.ref = f"{SCHEMA}.{self.table}"
        self.committed = False
        self.conn: psycopg.Connection | None = None
        self.deleted = False
        self.inserted = False
        try:
            self.conn = store.connect()
            self._copy(source)
            self.columns, self.z = self._describe()
            largest = one_row(self.conn.execute(sql.SQL("SELECT max(fid) FROM {}").format(
                sql.Identifier(SCHEMA, source))))[0] or 0
            self.next_fid = max(next_fid, largest + 1, 1)
            self.gap = self.next_fid != largest + 1  # new ids will not follow the largest
            with self.conn.cursor() as cur:
                self.source_dense = store._fids_dense(ref, cur)
        except psycopg.Error as exc:
            self.abort()
            raise store.fault(exc, f"{self.ref}: could not copy {ref} to edit it") from exc
        except BaseException:
            self.abort()
            raise

    def _ident(self) -> sql.Composable:
        return sql.Identifier(SCHEMA, self.table)

    def _copy(self, source: str) -> None:
        """The table and, when the version set features aside, its quarantine."""
        assert self.conn is not None
        self.conn.execute(sql.SQL("CREATE TABLE {} AS SELECT * FROM {}").format(
            self._ident(), sql.Identifier(SCHEMA, source)))
        # Unique ids from the start: each change finds its row by index, not by a scan.
        self.conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (fid)").format(self._ident()))
        old = sql.Identifier(QUARANTINE, source)
        found = one_row(self.conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                                          (old.as_string(self.conn),)))[0]
        if found:
            self.conn.execute(sql.SQL("CREATE TABLE {} AS SELECT * FROM {}").format(
                sql.Identifier(QUARANTINE, self.table), old))

    def _describe(self) -> tuple[tuple[str, ...], bool]:
        """The copy's property columns, in order, and whether its geometries have Z."""
        assert self.conn is not None
        names = [r[0] for r in self.conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (SCHEMA, self.table)).fetchall()]
        dims = self.conn.execute(
            "SELECT coord_dimension FROM geometry_columns "
            "WHERE f_table_schema = %s AND f_table_name = %s AND f_geometry_column = 'geom'",
            (SCHEMA, self.table)).fetchone()
        return tuple(n for n in names if n not in ("fid", "geom")), bool(dims and dims[0] > 2)

    @contextmanager
    def _change(self, what: Message) -> Iterator[psycopg.Connection]:
        """One statement in a savepoint: a value the database refuses (class 22, data
        exception: text that is no number, a geometry of another type) is the user's error
        and undoes only this change; anything else is the store's."""
        if self.conn is None or self.conn.closed:
            raise StorageError(f"{self.ref}: the edit session is already closed")
        try:
            with self.conn.transaction():
                yield self.conn
        except psycopg.errors.DataError as exc:
            raise InputError(tr("{what}: {error}", what=what,
                                error=exc.diag.message_primary or str(exc))) from exc
        except psycopg.Error as exc:
            raise self.store.fault(exc, f"{self.ref}: {what} failed") from exc

    def _values(self, properties: dict[str, Any]) -> list[Any]:
        check_known_properties(properties, self.columns)
        return [properties.get(c) for c in self.columns]

    def _ewkb(self, geometry: shapely.Geometry | None) -> bytes | None:
        if geometry is None or shapely.is_empty(geometry):
            return None
        ewkb: bytes = shapely.to_wkb(shapely.set_srid(geometry, 4326), include_srid=True,
                                     output_dimension=3 if self.z else 2)
        return ewkb

    def get(self, fid: int) -> Row | None:
        columns = sql.SQL(", ").join(map(sql.Identifier, self.columns)) if self.columns \
            else sql.SQL("NULL")
        with self._change(tr("reading feature {fid}", fid=fid)) as conn:
            row = conn.execute(sql.SQL("SELECT fid, ST_AsBinary(geom), {} FROM {} "
                                       "WHERE fid = %s").format(columns, self._ident()),
                               (fid,)).fetchone()
        if row is None:
            return None
        return _rows([row if self.columns else row[:2]], list(self.columns))[0]

    def insert(self, properties: dict[str, Any], geometry: shapely.Geometry | None) -> int:
        values = self._values(properties)
        fid = self.next_fid
        names = sql.SQL(", ").join(map(sql.Identifier, ["fid", "geom", *self.columns]))
        marks = sql.SQL(", ").join([sql.SQL("%s"), sql.SQL("ST_GeomFromEWKB(%s)"),
                                    *[sql.SQL("%s")] * len(self.columns)])
        with self._change(tr("adding a feature")) as conn:
            conn.execute(sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                self._ident(), names, marks), [fid, self._ewkb(geometry), *values])
        self.next_fid += 1
        self.inserted = True
        return fid

    def replace(self, fid: int, properties: dict[str, Any],
                geometry: shapely.Geometry | None) -> bool:
        values = self._values(properties)
        sets = sql.SQL(", ").join([sql.SQL("geom = ST_GeomFromEWKB(%s)"), *[
            sql.SQL("{} = %s").format(sql.Identifier(c)) for c in self.columns]])
        with self._change(tr("replacing feature {fid}", fid=fid)) as conn:
            cur = conn.execute(sql.SQL("UPDATE {} SET {} WHERE fid = %s").format(
                self._ident(), sets), [self._ewkb(geometry), *values, fid])
        return cur.rowcount > 0

    def delete(self, fid: int) -> bool:
        with self._change(tr("deleting feature {fid}", fid=fid)) as conn:
            cur = conn.execute(sql.SQL("DELETE FROM {} WHERE fid = %s").format(self._ident()),
                               (fid,))
        if cur.rowcount > 0:
            self.deleted = True
            return True
        return False

    def summary(self) -> tuple[int, tuple[float, float, float, float] | None]:
        with self._change(tr("summarizing the copy")) as conn:
            count, minx, miny, maxx, maxy = one_row(conn.execute(sql.SQL(
                "SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                "FROM (SELECT count(*) AS n, ST_Extent(geom) AS e FROM {}) AS s").format(
                    self._ident())))
        return count, ((minx, miny, maxx, maxy) if minx is not None else None)

    @property
    def sparse(self) -> bool:
        """Whether the copy's fids may no longer be 1..N (``PostGISStore.query`` then stops
        seeking): the source's were not, a feature was deleted, or new ids left a gap."""
        return not self.source_dense or self.deleted or (self.inserted and self.gap)

    def commit(self) -> str:
        if self.conn is None or self.conn.closed:
            raise StorageError(f"{self.ref}: the edit session is already closed")
        try:
            if self.sparse:
                self.conn.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(
                    self._ident(), sql.Literal(SPARSE_FIDS)))
            index_and_analyze(self.conn, self._ident())
            self.conn.commit()
        except psycopg.Error as exc:
            raise self.store.fault(exc, f"{self.ref}: finishing the edited copy failed") \
                from exc
        finally:
            self.conn.close()
        self.committed = True
        return self.ref

    def abort(self) -> None:
        if self.conn is not None and not self.conn.closed:
            try:
                self.conn.rollback()  # the copies were created in this transaction: gone
            finally:
                self.conn.close()
