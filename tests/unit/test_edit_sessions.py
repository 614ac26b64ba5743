"""Editing a version (``FeatureStore.edit``): a copy changes, the source stays as it was.

Every test runs on both stores unless it checks something only one of them has; what the
stores keep differently (the sparse-fid mark, the indexes, the quarantine of a dropped
version) is read by the small helpers below, one branch per store.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pyogrio
import pytest
import shapely

from geoportal.catalog import Field
from geoportal.errors import InputError, StorageError
from geoportal.storage import Query
from geoportal.storage.base import QUARANTINE_SCHEMA, FeatureStore, Row, feature_etag
from geoportal.storage.gpkg import GeoPackageStore
from geoportal.storage.postgis import SPARSE_FIDS, PostGISStore

FIELDS = [Field("name", "string"), Field("rank", "integer"), Field("since", "date"),
          Field("seen", "date-time"), Field("opens", "time"), Field("open", "boolean"),
          Field("score", "number")]
EMPTY = {f.name: None for f in FIELDS}
N = 30
LAYER = "demo-layer"


def _point(i: float) -> shapely.Point:
    return shapely.Point(27.0 + i * 0.01, 53.0)


def _open_gpkg(tmp_path: Path) -> GeoPackageStore:
    store = GeoPackageStore(tmp_path / "store")
    store.init()
    return store


def _open_postgis(postgres) -> PostGISStore:
    store = PostGISStore(postgres.new_database())
    store.init()
    return store


@pytest.fixture(params=["gpkg", "postgis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FeatureStore]:
    if request.param == "gpkg":
        store: FeatureStore = _open_gpkg(tmp_path)
    else:
        store = _open_postgis(request.getfixturevalue("postgres"))
    yield store
    store.close()


@pytest.fixture
def postgis_store(postgres) -> Iterator[PostGISStore]:
    store = _open_postgis(postgres)
    yield store
    store.close()


@pytest.fixture
def gpkg_store(tmp_path: Path) -> Iterator[GeoPackageStore]:
    store = _open_gpkg(tmp_path)
    yield store
    store.close()


def _demo(store: FeatureStore) -> str:
    """Points p0..p29 (fids 1..30) and one set-aside feature."""
    properties = pa.table({
        "name": pa.array([f"p{i}" for i in range(N)], pa.string()),
        "rank": pa.array(range(N), pa.int64()),
        "since": pa.array([date(2020, 1, 1 + i % 28) for i in range(N)], pa.date32()),
        "seen": pa.array([datetime(2023, 3, 1, 10, i, tzinfo=UTC) for i in range(N)],
                         pa.timestamp("us", tz="UTC")),
        "opens": pa.array([time(8, i) for i in range(N)], pa.time64("us")),
        "open": pa.array([i % 2 == 0 for i in range(N)], pa.bool_()),
        "score": pa.array([i / 2 for i in range(N)], pa.float64()),
    })
    with store.stage(LAYER, geometry_type="Point") as writer:
        writer.write(properties, np.array([_point(i) for i in range(N)], dtype=object))
        writer.quarantine(pa.table({
            "source_row": [31], "reason": ["no geometry"], "properties": ['{"name": "x"}'],
            "source_wkb": pa.array([None], pa.binary())}, schema=QUARANTINE_SCHEMA))
        return writer.commit()


@pytest.fixture
def ref(store: FeatureStore) -> str:
    return _demo(store)


def _edit(store: FeatureStore, ref: str, **kwargs):
    return store.edit(ref, LAYER, FIELDS, **kwargs)


def _fids(store: FeatureStore, ref: str) -> list[int]:
    return [r.fid for r in store.query(ref, FIELDS, Query(limit=1000)).rows]


# -- what each store keeps its own way --------------------------------------------------------


def _utc_text(store: FeatureStore, naive: str) -> str:
    """How a UTC date-time reads back: PostGIS prints the offset, a GeoPackage holds the text
    GDAL writes (``Z``, milliseconds only when there are some)."""
    return naive + ("+00:00" if isinstance(store, PostGISStore) else "Z")


def _is_sparse(store: FeatureStore, ref: str) -> bool:
    """Whether the version is marked as having fids that are not 1..N (readers then page
    with OFFSET instead of seeking by fid): a table comment in PostGIS, a ``geoportal_meta``
    table in a GeoPackage."""
    if isinstance(store, PostGISStore):
        with psycopg.connect(store.conninfo) as conn:
            comment = conn.execute("SELECT obj_description(%s::regclass, 'pg_class')",
                                   (ref,)).fetchone()[0]
        assert comment in (None, SPARSE_FIDS)
        return comment == SPARSE_FIDS
    assert isinstance(store, GeoPackageStore)
    return not store._connect(ref)[1].dense


def _geometry_column(store: FeatureStore, ref: str) -> tuple[int, str]:
    """(SRID, geometry type) the version's geometry column is registered with."""
    if isinstance(store, PostGISStore):
        with psycopg.connect(store.conninfo) as conn:
            return conn.execute("SELECT srid, type FROM geometry_columns "
                                "WHERE f_table_name = %s", (ref.split(".")[1],)).fetchone()
    assert isinstance(store, GeoPackageStore)
    return store._connect(ref)[0].execute(
        "SELECT srs_id, geometry_type_name FROM gpkg_geometry_columns").fetchone()


def _assert_indexed(store: FeatureStore, ref: str) -> None:
    """The version has its spatial index (and, in PostGIS, the fid index)."""
    if isinstance(store, PostGISStore):
        with psycopg.connect(store.conninfo) as conn:
            indexes = [r[0] for r in conn.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = 'features' "
                "AND tablename = %s", (ref.split(".")[1],)).fetchall()]
        assert any("gist" in i for i in indexes) and any("(fid)" in i for i in indexes)
        return
    assert isinstance(store, GeoPackageStore)
    conn, info = store._connect(ref)
    assert conn.execute("SELECT rtreecheck(?)", (info.rtree,)).fetchone()[0] == "ok"
    # One R-tree entry per feature that has a geometry, at that geometry's place.
    assert conn.execute(f'SELECT id FROM "{info.rtree}" ORDER BY id').fetchall() == \
        conn.execute(f'SELECT fid FROM "{info.table}" WHERE "{info.geometry}" IS NOT NULL '
                     "ORDER BY fid").fetchall()


def _assert_nothing_left(store: FeatureStore, ref: str) -> None:
    """Nothing but the source version is stored: no table, no file half written."""
    assert store.refs() == {ref}
    if isinstance(store, PostGISStore):
        with psycopg.connect(store.conninfo) as conn:
            tables = conn.execute("SELECT count(*) FROM information_schema.tables "
                                  "WHERE table_schema = 'quarantine'").fetchone()[0]
        assert tables == 1
        return
    assert isinstance(store, GeoPackageStore)
    folder = store.root / LAYER
    assert sorted(os.listdir(folder)) == [Path(ref).name]
    assert not list(folder.glob("*.part.gpkg"))


def _quarantine_is_gone(store: FeatureStore, ref: str) -> bool:
    """A dropped version's quarantine: PostGIS has no table left (nothing to read); a
    GeoPackage's went with its file, which reading reports missing."""
    if isinstance(store, PostGISStore):
        return list(store.quarantine(ref)) == []
    with pytest.raises(StorageError, match="missing"):
        list(store.quarantine(ref))
    return True


def _missing_ref(store: FeatureStore) -> str:
    if isinstance(store, PostGISStore):
        return "features.gone_0123456789ab"
    return f"{LAYER}/0123456789abcdef0123456789abcdef.gpkg"


# -- both stores ------------------------------------------------------------------------------


def test_committed_changes_show_in_the_new_ref_only(store, ref):
    with _edit(store, ref) as session:
        fid = session.insert({"name": "new", "rank": 99, "since": date(2024, 5, 1)},
                             _point(50))
        assert session.replace(2, {"name": "moved"}, _point(40))
        assert session.delete(3)
        new = session.commit()
    assert session.committed and new != ref and store.refs() == {ref, new}
    assert fid == N + 1
    assert store.get(new, FIELDS, fid).properties == {**EMPTY, "name": "new", "rank": 99,
                                                      "since": "2024-05-01"}
    moved = store.get(new, FIELDS, 2)
    assert moved.properties == {**EMPTY, "name": "moved"}
    assert moved.geometry.equals(_point(40))
    assert store.get(new, FIELDS, 3) is None
    assert _fids(store, new) == [1, 2, *range(4, N + 2)]
    assert store.get(ref, FIELDS, 2).properties == {
        "name": "p1", "rank": 1, "since": "2020-01-02",
        "seen": _utc_text(store, "2023-03-01T10:01:00"), "opens": "08:01:00", "open": False,
        "score": 0.5}
    assert store.get(ref, FIELDS, 2).geometry.equals(_point(1))
    assert store.get(ref, FIELDS, 3) is not None
    assert _fids(store, ref) == list(range(1, N + 1))


def test_session_get_reads_like_the_store_and_sees_its_own_edits(store, ref):
    with _edit(store, ref) as session:
        assert session.get(5) == store.get(ref, FIELDS, 5)
        session.replace(5, {"name": "changed", "since": date(2021, 2, 3)}, None)
        assert session.get(5).properties == {**EMPTY, "name": "changed",
                                             "since": "2021-02-03"}
        assert session.get(5).geometry is None
        assert session.get(999) is None


def test_values_of_every_type_and_values_read_back_are_stored_as_they_read(store, ref):
    values = {"name": "all", "rank": 3, "since": date(2024, 2, 29),
              "seen": datetime(2024, 2, 29, 23, 30, tzinfo=UTC), "opens": time(7, 45),
              "open": True, "score": 2}
    with _edit(store, ref) as session:
        fid = session.insert(values, _point(1))
        stored = session.get(fid)
        assert stored.properties == {**values, "since": "2024-02-29",
                                     "seen": _utc_text(store, "2024-02-29T23:30:00"),
                                     "opens": "07:45:00", "score": 2.0}
        # A PATCH merges the properties read (dates as text) with the change, then replaces.
        before = session.get(7)
        assert session.replace(7, {**before.properties, "rank": 70}, before.geometry)
        assert session.get(7) == Row(7, {**before.properties, "rank": 70}, before.geometry)
        # A date-time with an offset is kept as the same instant, in UTC.
        minsk = timezone(timedelta(hours=3))
        assert session.replace(8, {"seen": datetime(2024, 1, 1, 12, 0, tzinfo=minsk)}, None)
        assert session.get(8).properties["seen"] == _utc_text(store, "2024-01-01T09:00:00")


def test_replacing_a_feature_with_the_values_it_has_leaves_it_as_it_was(store, ref):
    """A PUT of an unchanged feature: the values read, parsed back to their types, are
    stored again. The feature must read as before, so its ETag does not change."""
    typed = {"name": "p1", "rank": 1, "since": date(2020, 1, 2),
             "seen": datetime(2023, 3, 1, 10, 1, tzinfo=UTC), "opens": time(8, 1),
             "open": False, "score": 0.5}
    with _edit(store, ref) as session:
        assert session.replace(2, typed, _point(1))
        assert session.get(2) == store.get(ref, FIELDS, 2)
        new = session.commit()
    assert store.get(new, FIELDS, 2) == store.get(ref, FIELDS, 2)
    assert feature_etag(store.get(new, FIELDS, 2)) == feature_etag(store.get(ref, FIELDS, 2))


def test_replace_and_delete_of_a_missing_feature_return_false(store, ref):
    with _edit(store, ref) as session:
        assert session.replace(999, {"name": "x"}, _point(1)) is False
        assert session.delete(999) is False
        assert session.delete(4) is True
        assert session.delete(4) is False


def test_new_ids_never_reuse_a_deleted_one(store, ref):
    with _edit(store, ref) as session:
        assert session.delete(N)  # the largest
        assert session.insert({"name": "a"}, _point(1)) == N + 1
        assert session.insert({"name": "b"}, _point(2)) == N + 2
        assert session.next_fid == N + 3
        session.delete(N + 2)
        new = session.commit()
    # The catalog remembers the next id across versions: the copy's own largest is N + 1.
    with _edit(store, new, next_fid=N + 3) as session:
        assert session.insert({"name": "c"}, _point(3)) == N + 3


def test_next_fid_starts_after_the_largest_id_when_given_less(store, ref):
    with _edit(store, ref, next_fid=5) as session:
        assert session.next_fid == N + 1


def test_empty_or_missing_geometry_is_stored_as_null(store, ref):
    with _edit(store, ref) as session:
        fid = session.insert({"name": "nowhere"}, shapely.Point())
        assert session.get(fid).geometry is None
        assert session.replace(1, {"name": "none"}, None)
        assert session.get(1).geometry is None
        count, extent = session.summary()
        new = session.commit()
    assert count == N + 1
    assert extent == pytest.approx((27.01, 53.0, 27.29, 53.0), abs=1e-5)
    assert store.get(new, FIELDS, fid).geometry is None
    assert store.get(new, FIELDS, 1).geometry is None
    # Features without a geometry are in no bounding box, but are still listed.
    inside = store.query(new, FIELDS, Query(limit=1000, bbox=(26.0, 52.0, 28.0, 54.0))).rows
    assert [r.fid for r in inside] == list(range(2, N + 1))
    assert _fids(store, new) == list(range(1, N + 2))


def test_summary_counts_and_bounds_the_copy(store, ref):
    with _edit(store, ref) as session:
        session.delete(1)
        session.insert({"name": "far"}, shapely.Point(30.0, 55.0))
        count, extent = session.summary()
    assert count == N
    assert extent == pytest.approx((27.01, 53.0, 30.0, 55.0), abs=1e-5)


def test_leaving_without_commit_leaves_nothing(store, ref):
    with _edit(store, ref) as session:
        session.insert({"name": "lost"}, _point(1))
    assert not session.committed
    _assert_nothing_left(store, ref)
    session.abort()  # again: harmless
    with pytest.raises(ValueError, match="boom"), _edit(store, ref) as session:
        session.delete(1)
        raise ValueError("boom")
    _assert_nothing_left(store, ref)
    assert _fids(store, ref) == list(range(1, N + 1))


def test_deep_pages_of_a_sparse_table_skip_no_row(store, ref):
    with _edit(store, ref) as session:
        for fid in (2, 5, 6, 17):
            session.delete(fid)
        new = session.commit()
    assert _is_sparse(store, new)
    assert not _is_sparse(store, ref)
    full = store.query(new, FIELDS, Query(limit=1000)).rows
    assert len(full) == N - 4
    for offset in range(0, N, 4):
        page = store.query(new, FIELDS, Query(limit=4, offset=offset)).rows
        assert page == full[offset:offset + 4], offset


def test_an_edit_of_a_sparse_table_stays_sparse(store, ref):
    with _edit(store, ref) as session:
        session.delete(1)
        sparse = session.commit()
    with _edit(store, sparse) as session:
        session.replace(2, {"name": "only a change"}, _point(2))
        again = session.commit()
    assert _is_sparse(store, again)
    assert [r.fid for r in store.query(again, FIELDS, Query(limit=3, offset=3)).rows] == \
        [5, 6, 7]


def test_an_edit_without_deletes_stays_dense(store, ref):
    with _edit(store, ref) as session:
        session.replace(2, {"name": "changed"}, _point(2))
        session.insert({"name": "appended"}, _point(3))
        new = session.commit()
    assert not _is_sparse(store, new)
    assert [r.fid for r in store.query(new, FIELDS, Query(limit=2, offset=N - 1)).rows] == \
        [N, N + 1]


def test_ids_after_a_gap_make_the_table_sparse(store, ref):
    with _edit(store, ref, next_fid=100) as session:
        assert session.insert({"name": "far id"}, _point(1)) == 100
        new = session.commit()
    assert _is_sparse(store, new)
    assert [r.fid for r in store.query(new, FIELDS, Query(limit=5, offset=N - 1)).rows] == \
        [N, 100]
    assert store.query(new, FIELDS, Query(limit=5, offset=N + 1)).rows == []


def test_a_gap_left_unused_keeps_the_table_dense(store, ref):
    with _edit(store, ref, next_fid=100) as session:
        session.replace(2, {"name": "changed"}, _point(2))
        new = session.commit()
    assert not _is_sparse(store, new)


def test_an_unknown_property_is_an_input_error(store, ref):
    with _edit(store, ref) as session:
        with pytest.raises(InputError, match="colour"):
            session.insert({"name": "x", "colour": "red"}, _point(1))
        with pytest.raises(InputError, match="colour"):
            session.replace(1, {"colour": "red"}, _point(1))
        assert session.insert({"name": "x"}, _point(1)) == N + 1
        new = session.commit()
    assert store.get(new, FIELDS, 1).properties["name"] == "p0"


def test_quarantine_is_copied_and_dropped_with_the_version(store, ref):
    with _edit(store, ref) as session:
        new = session.commit()
    assert [b.to_pylist() for b in store.quarantine(new)] == \
        [b.to_pylist() for b in store.quarantine(ref)]
    assert next(store.quarantine(new)).num_rows == 1
    store.drop(new)
    assert store.refs() == {ref}
    assert _quarantine_is_gone(store, new)
    assert next(store.quarantine(ref)).num_rows == 1


def test_editing_a_missing_table_is_a_storage_error_naming_it(store):
    missing = _missing_ref(store)
    with pytest.raises(StorageError, match=re.escape(missing)):
        _edit(store, missing)
    assert store.refs() == set()


def test_commit_adds_the_indexes(store, ref):
    with _edit(store, ref) as session:
        fid = session.insert({"name": "far"}, shapely.Point(30.0, 55.0))
        session.replace(2, {"name": "moved"}, shapely.Point(29.0, 54.0))
        session.delete(3)
        new = session.commit()
    _assert_indexed(store, new)
    assert _geometry_column(store, new) == (4326, "POINT")

    def within(bbox: tuple[float, float, float, float]) -> list[int]:
        return [r.fid for r in store.query(new, FIELDS, Query(limit=1000, bbox=bbox)).rows]

    # The spatial index answers a bounding box with the new, the moved and no deleted feature.
    assert within((29.9, 54.9, 30.1, 55.1)) == [fid]
    assert within((28.9, 53.9, 29.1, 54.1)) == [2]
    assert within((26.0, 52.0, 28.0, 53.5)) == [1, *range(4, N + 1)]
    assert within((27.015, 52.9, 27.025, 53.1)) == []  # where 2 and 3 were


# -- PostGIS only: the database checks what it stores -----------------------------------------


def test_a_value_the_column_refuses_is_an_input_error_and_the_session_goes_on(postgis_store):
    store = postgis_store
    ref = _demo(store)
    with _edit(store, ref) as session:
        with pytest.raises(InputError, match="bigint"):
            session.insert({"rank": "seven"}, _point(1))
        with pytest.raises(InputError):
            session.replace(1, {"name": "line"}, shapely.LineString([(27, 53), (28, 54)]))
        assert session.next_fid == N + 1
        assert session.insert({"rank": 7}, _point(1)) == N + 1
        new = session.commit()
    assert store.get(new, FIELDS, N + 1).properties["rank"] == 7


# -- GeoPackage only: the edited file is a GeoPackage like any other --------------------------


def test_an_edit_works_on_a_hidden_copy_and_abort_removes_it(gpkg_store):
    store = gpkg_store
    ref = _demo(store)
    with _edit(store, ref) as session:
        session.insert({"name": "lost"}, _point(1))
        part = session.tmp_path
        assert part.exists() and part.parent == store.root / LAYER
        assert part.name.startswith(".") and part.name.endswith(".part.gpkg")
        assert store.refs() == {ref}
    assert not part.exists() and not (store.root / session.ref).exists()
    _assert_nothing_left(store, ref)


def test_an_edited_geopackage_is_read_only_and_reads_in_gdal(gpkg_store):
    store = gpkg_store
    ref = _demo(store)
    with _edit(store, ref) as session:
        fid = session.insert({"name": "new", "rank": 99, "since": date(2024, 5, 1),
                              "seen": datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=UTC),
                              "opens": time(9, 30), "open": True, "score": 1.5},
                             shapely.Point(30.0, 55.0))
        session.replace(2, {"name": "moved"}, _point(40))
        session.delete(3)
        new = session.commit()
    path = store.root / new
    assert (path.stat().st_mode & 0o777) == 0o444
    assert sorted(os.listdir(path.parent)) == sorted([Path(ref).name, path.name])

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents "
                            "WHERE table_name = 'demo_layer'").fetchone() == \
            pytest.approx((27.0, 53.0, 30.0, 55.0), abs=1e-5)
    finally:
        conn.close()

    info = pyogrio.read_info(path, layer="demo_layer")
    assert info["features"] == N  # one added, one deleted
    assert info["geometry_type"] == "Point" and info["crs"] == "EPSG:4326"
    assert info["fid_column"] == "fid"
    assert [layer for layer, _ in pyogrio.list_layers(path)] == ["demo_layer", "quarantine"]
    _, table = pyogrio.read_arrow(path, layer="demo_layer", return_fids=True)
    assert table.num_rows == N
    rows = {r["fid"]: r for r in table.to_pylist()}
    assert sorted(rows) == _fids(store, new) == [1, 2, *range(4, N + 2)]
    added = rows[fid]
    assert {k: added[k] for k in ("name", "rank", "since", "opens", "open", "score")} == \
        {"name": "new", "rank": 99, "since": date(2024, 5, 1), "opens": "09:30:00",
         "open": True, "score": 1.5}
    assert added["seen"] == datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=UTC)
    assert shapely.from_wkb(added["geom"]).equals(shapely.Point(30.0, 55.0))
    assert shapely.from_wkb(rows[2]["geom"]).equals(_point(40))
    assert rows[2]["name"] == "moved" and rows[2]["seen"] is None
    assert rows[1]["seen"] == datetime(2023, 3, 1, 10, 0, tzinfo=UTC)
    # GDAL's own spatial filter goes through the R-tree the edit kept up to date.
    _, inside = pyogrio.read_arrow(path, layer="demo_layer", bbox=(29.9, 54.9, 30.1, 55.1),
                                   return_fids=True)
    assert inside.column("fid").to_pylist() == [fid]
    _, quarantine = pyogrio.read_arrow(path, layer="quarantine")
    assert quarantine.num_rows == 1


def test_connections_to_dropped_versions_are_closed_when_a_new_one_is_read(gpkg_store):
    ref = _demo(gpkg_store)
    fields = FIELDS
    gpkg_store.query(ref, fields, Query(limit=1))
    with gpkg_store.edit(ref, "demo-layer", fields) as session:
        session.delete(1)
        newer = session.commit()
    (gpkg_store.root / ref).unlink()  # as another thread's drop() after pruning would
    gpkg_store.query(newer, fields, Query(limit=1))
    held = gpkg_store._local.conns
    assert str((gpkg_store.root / ref).resolve()) not in held and len(held) == 1
