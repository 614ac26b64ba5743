"""Editing a GeoPackage version: copy the file, change the copy, publish it as a new version.

Published files stay immutable (readers open them ``immutable=1``), so an edit never writes
to a file anyone reads. The copy keeps GDAL's R-tree triggers working: they call
``ST_IsEmpty`` and ``ST_MinX`` .. ``ST_MaxY``, which plain ``sqlite3`` lacks, so they are
registered here on the GeoPackage geometry blob.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

import shapely

from geoportal.errors import StorageError
from geoportal.fields import Field
from geoportal.storage.base import EditSession, Row, check_known_properties
from geoportal.storage.gpkg import META_TABLE, GeoPackageStore, gpkg_blob_to_wkb, sqlite_rows

__all__ = ["GeoPackageEdit", "geometry_blob"]

_HEADER = struct.Struct("<2sBBi")
_ENVELOPE = struct.Struct("<4d")


def geometry_blob(geometry: shapely.Geometry | None, srs_id: int, *, z: bool = False
                  ) -> bytes | None:
    """A GeoPackage geometry blob: header (little endian, XY envelope) and ISO WKB."""
    if geometry is None:
        return None
    wkb: bytes
    if shapely.is_empty(geometry):
        wkb = shapely.to_wkb(geometry, byte_order=1, flavor="iso")
        return _HEADER.pack(b"GP", 0, 0b10001, srs_id) + wkb
    minx, miny, maxx, maxy = shapely.bounds(geometry)
    wkb = shapely.to_wkb(geometry, byte_order=1, flavor="iso", output_dimension=3 if z else 2)
    return _HEADER.pack(b"GP", 0, 0b00011, srs_id) + _ENVELOPE.pack(minx, maxx, miny, maxy) \
        + wkb


def _envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a blob: from its header when it has one, else computed."""
    if blob is None or len(blob) < 8 or blob[:2] != b"GP" or blob[3] & 0b10000:
        return None
    if (blob[3] >> 1) & 0b111:
        return _ENVELOPE.unpack_from(blob, 8)
    wkb = gpkg_blob_to_wkb(blob)
    if wkb is None:
        return None
    minx, miny, maxx, maxy = shapely.bounds(shapely.from_wkb(wkb))
    return minx, maxx, miny, maxy


def _register_spatial_functions(conn: sqlite3.Connection) -> None:
    def is_empty(blob: bytes | None) -> int | None:
        if blob is None:
            return None
        return int(_envelope(blob) is None)

    def part(i: int) -> Callable[[bytes | None], float | None]:
        def value(blob: bytes | None) -> float | None:
            env = _envelope(blob)
            return None if env is None else env[i]
        return value

    conn.create_function("ST_IsEmpty", 1, is_empty, deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, part(i), deterministic=True)


def _stored(value: Any) -> Any:
    """A Python value as GDAL stores it in a GeoPackage: a date-time in UTC (``Z``) when it
    has a zone, with milliseconds only when there are some (GDAL's DATETIME_PRECISION=AUTO),
    so a value stored again reads as the same text and the feature keeps its ETag."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        zone = ""
        if value.tzinfo is not None:
            value, zone = value.astimezone(UTC).replace(tzinfo=None), "Z"
        spec = "milliseconds" if value.microsecond // 1000 else "seconds"
        return value.isoformat(timespec=spec) + zone
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class GeoPackageEdit(EditSession):
    """A copy of one version's file, changed in one SQLite transaction."""

    def __init__(self, store: GeoPackageStore, ref: str, layer_id: str,
                 fields: Sequence[Field], next_fid: int) -> None:
        self.store = store
        self.types = {f.name: f.type for f in fields}
        source = store._path(ref)
        if not source.exists():
            raise StorageError(f"store table {ref!r} is missing from {store.root}")
        self.ref = f"{layer_id}/{uuid.uuid4().hex}.gpkg"
        self.path = store.root / self.ref
        self.tmp_path = self.path.with_name("." + self.path.stem + ".part.gpkg")
        self.committed = False
        self.sparse = False
        self.conn: sqlite3.Connection | None = None
        try:
            shutil.copyfile(source, self.tmp_path)
            os.chmod(self.tmp_path, 0o644)
            conn = self.conn = sqlite3.connect(self.tmp_path, isolation_level=None,
                                               check_same_thread=False)
            conn.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
            _register_spatial_functions(conn)
            conn.execute("PRAGMA journal_mode = OFF")  # a private copy: no reader, no crash risk
            conn.execute("BEGIN")
            self.table, self.geometry, self.srs_id, self.z = conn.execute(
                "SELECT table_name, column_name, srs_id, z FROM gpkg_geometry_columns LIMIT 1"
            ).fetchone()
            self.columns = tuple(
                r[1] for r in conn.execute(f"PRAGMA table_info({_quote(self.table)})")
                if r[1] not in ("fid", self.geometry))
            largest = conn.execute(f"SELECT MAX(fid) FROM {_quote(self.table)}").fetchone()[0]
            self.next_fid = max(next_fid, (largest or 0) + 1, 1)
            self.sparse = bool(conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                (META_TABLE,)).fetchone())
        except (OSError, sqlite3.Error) as exc:
            self.abort()
            raise StorageError(f"{ref}: could not start an edit: {exc}") from exc

    def _values(self, properties: dict[str, Any]) -> list[Any]:
        check_known_properties(properties, self.columns)
        return [_stored(properties.get(c)) for c in self.columns]

    def _run(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        assert self.conn is not None
        try:
            return self.conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise StorageError(f"{self.ref}: edit failed: {exc}") from exc

    def get(self, fid: int) -> Row | None:
        select = ", ".join(["fid", _quote(self.geometry), *map(_quote, self.columns)])
        row = self._run(f"SELECT {select} FROM {_quote(self.table)} WHERE fid = ?",
                        (fid,)).fetchone()
        return None if row is None else sqlite_rows([row], list(self.columns), self.types)[0]

    def insert(self, properties: dict[str, Any], geometry: shapely.Geometry | None) -> int:
        fid = self.next_fid
        names = ", ".join(["fid", _quote(self.geometry), *map(_quote, self.columns)])
        marks = ", ".join("?" * (len(self.columns) + 2))
        self._run(f"INSERT INTO {_quote(self.table)} ({names}) VALUES ({marks})",
                  [fid, geometry_blob(geometry, self.srs_id, z=bool(self.z)),
                   *self._values(properties)])
        self.next_fid += 1
        return fid

    def replace(self, fid: int, properties: dict[str, Any],
                geometry: shapely.Geometry | None) -> bool:
        sets = ", ".join(f"{_quote(c)} = ?" for c in (self.geometry, *self.columns))
        cursor = self._run(f"UPDATE {_quote(self.table)} SET {sets} WHERE fid = ?",
                           [geometry_blob(geometry, self.srs_id, z=bool(self.z)),
                            *self._values(properties), fid])
        return cursor.rowcount > 0

    def delete(self, fid: int) -> bool:
        cursor = self._run(f"DELETE FROM {_quote(self.table)} WHERE fid = ?", (fid,))
        if cursor.rowcount > 0:
            self.sparse = True
            return True
        return False

    def summary(self) -> tuple[int, tuple[float, float, float, float] | None]:
        count = self._run(f"SELECT COUNT(*) FROM {_quote(self.table)}", ()).fetchone()[0]
        box = self._run(
            f"SELECT MIN(minx), MIN(miny), MAX(maxx), MAX(maxy) FROM "
            f"{_quote(f'rtree_{self.table}_{self.geometry}')}", ()).fetchone()
        return count, (tuple(box) if box and box[0] is not None else None)

    def commit(self) -> str:
        assert self.conn is not None
        count, extent = self.summary()
        largest = self._run(f"SELECT MAX(fid) FROM {_quote(self.table)}", ()).fetchone()[0]
        try:
            if self.sparse or (largest or 0) != count:  # a delete, or a gap before new ids
                self.conn.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} "
                                  "(key TEXT PRIMARY KEY, value TEXT)")
                self.conn.execute(f"INSERT OR REPLACE INTO {META_TABLE} VALUES ('fids', "
                                  "'sparse')")
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
            self.conn.execute(
                "UPDATE gpkg_contents SET last_change = ?, min_x = ?, min_y = ?, max_x = ?, "
                "max_y = ? WHERE table_name = ?",
                [now, *(extent or (None,) * 4), self.table])
            if self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = "
                                 "'gpkg_ogr_contents'").fetchone():
                self.conn.execute("UPDATE gpkg_ogr_contents SET feature_count = ? "
                                  "WHERE lower(table_name) = lower(?)", (count, self.table))
            self.conn.execute("COMMIT")
            self.conn.close()
            self.conn = None
            os.replace(self.tmp_path, self.path)
            os.chmod(self.path, 0o444)
        except (OSError, sqlite3.Error) as exc:
            self.abort()
            raise StorageError(f"{self.ref}: finishing the edit failed: {exc}") from exc
        self.committed = True
        return self.ref

    def abort(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.tmp_path.unlink(missing_ok=True)
        if not self.committed:
            self.path.unlink(missing_ok=True)
