"""Editing a PostGIS version: a copy of the table changes, the source stays as it was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import numpy as np
import psycopg
import pyarrow as pa
import pytest
import shapely

from geoportal.catalog import Field
from geoportal.errors import InputError, StorageError
from geoportal.storage import Query
from geoportal.storage.base import QUARANTINE_SCHEMA, Row
from geoportal.storage.postgis import SPARSE_FIDS, PostGISStore

FIELDS = [Field("name", "string"), Field("rank", "integer"), Field("since", "date"),
          Field("seen", "date-time"), Field("opens", "time"), Field("open", "boolean"),
          Field("score", "number")]
EMPTY = {f.name: None for f in FIELDS}
N = 30


def _point(i: float) -> shapely.Point:
    return shapely.Point(27.0 + i * 0.01, 53.0)


@pytest.fixture
def store(postgres) -> Iterator[PostGISStore]:
    store = PostGISStore(postgres.new_database())
    store.init()
    yield store
    store.close()


@pytest.fixture
def ref(store: PostGISStore) -> str:
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
    with store.stage("demo-layer", geometry_type="Point") as writer:
        writer.write(properties, np.array([_point(i) for i in range(N)], dtype=object))
        writer.quarantine(pa.table({
            "source_row": [31], "reason": ["no geometry"], "properties": ['{"name": "x"}'],
            "source_wkb": pa.array([None], pa.binary())}, schema=QUARANTINE_SCHEMA))
        return writer.commit()


def _edit(store: PostGISStore, ref: str, **kwargs):
    return store.edit(ref, "demo-layer", FIELDS, **kwargs)


def _fids(store: PostGISStore, ref: str) -> list[int]:
    return [r.fid for r in store.query(ref, FIELDS, Query(limit=1000)).rows]


def _comment(store: PostGISStore, ref: str) -> str | None:
    with psycopg.connect(store.conninfo) as conn:
        return conn.execute("SELECT obj_description(%s::regclass, 'pg_class')",
                            (ref,)).fetchone()[0]


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
        "name": "p1", "rank": 1, "since": "2020-01-02", "seen": "2023-03-01T10:01:00+00:00",
        "opens": "08:01:00", "open": False, "score": 0.5}
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
                                     "seen": "2024-02-29T23:30:00+00:00", "opens": "07:45:00",
                                     "score": 2.0}
        # A PATCH merges the properties read (dates as text) with the change, then replaces.
        before = session.get(7)
        assert session.replace(7, {**before.properties, "rank": 70}, before.geometry)
        assert session.get(7) == Row(7, {**before.properties, "rank": 70}, before.geometry)


def test_replace_and_delete_of_a_missing_feature_return_false(store, ref):
    with _edit(store, ref) as session:
        assert session.replace(999, {"name": "x"}, _point(1)) is False
        assert session.delete(999) is False


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
    assert store.refs() == {ref}
    session.abort()  # again: harmless
    with pytest.raises(ValueError, match="boom"), _edit(store, ref) as session:
        session.delete(1)
        raise ValueError("boom")
    assert store.refs() == {ref}
    with psycopg.connect(store.conninfo) as conn:
        tables = conn.execute("SELECT count(*) FROM information_schema.tables "
                              "WHERE table_schema = 'quarantine'").fetchone()[0]
    assert tables == 1


def test_deep_pages_of_a_sparse_table_skip_no_row(store, ref):
    with _edit(store, ref) as session:
        for fid in (2, 5, 6, 17):
            session.delete(fid)
        new = session.commit()
    assert _comment(store, new) == SPARSE_FIDS
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
    assert _comment(store, again) == SPARSE_FIDS
    assert [r.fid for r in store.query(again, FIELDS, Query(limit=3, offset=3)).rows] == \
        [5, 6, 7]


def test_an_edit_without_deletes_stays_dense(store, ref):
    with _edit(store, ref) as session:
        session.replace(2, {"name": "changed"}, _point(2))
        session.insert({"name": "appended"}, _point(3))
        new = session.commit()
    assert _comment(store, new) is None
    assert [r.fid for r in store.query(new, FIELDS, Query(limit=2, offset=N - 1)).rows] == \
        [N, N + 1]


def test_ids_after_a_gap_make_the_table_sparse(store, ref):
    with _edit(store, ref, next_fid=100) as session:
        assert session.insert({"name": "far id"}, _point(1)) == 100
        new = session.commit()
    assert _comment(store, new) == SPARSE_FIDS
    assert [r.fid for r in store.query(new, FIELDS, Query(limit=5, offset=N - 1)).rows] == \
        [N, 100]
    assert store.query(new, FIELDS, Query(limit=5, offset=N + 1)).rows == []


def test_an_unknown_property_is_an_input_error(store, ref):
    with _edit(store, ref) as session:
        with pytest.raises(InputError, match="colour"):
            session.insert({"name": "x", "colour": "red"}, _point(1))
        with pytest.raises(InputError, match="colour"):
            session.replace(1, {"colour": "red"}, _point(1))
        assert session.insert({"name": "x"}, _point(1)) == N + 1


def test_a_value_the_column_refuses_is_an_input_error_and_the_session_goes_on(store, ref):
    with _edit(store, ref) as session:
        with pytest.raises(InputError, match="bigint"):
            session.insert({"rank": "seven"}, _point(1))
        with pytest.raises(InputError):
            session.replace(1, {"name": "line"}, shapely.LineString([(27, 53), (28, 54)]))
        assert session.next_fid == N + 1
        assert session.insert({"rank": 7}, _point(1)) == N + 1
        new = session.commit()
    assert store.get(new, FIELDS, N + 1).properties["rank"] == 7


def test_quarantine_is_copied_and_dropped_with_the_version(store, ref):
    with _edit(store, ref) as session:
        new = session.commit()
    assert [b.to_pylist() for b in store.quarantine(new)] == \
        [b.to_pylist() for b in store.quarantine(ref)]
    assert next(store.quarantine(new)).num_rows == 1
    store.drop(new)
    assert list(store.quarantine(new)) == []
    assert next(store.quarantine(ref)).num_rows == 1


def test_editing_a_missing_table_is_a_storage_error_naming_it(store):
    with pytest.raises(StorageError, match=r"features\.gone_0123456789ab"):
        _edit(store, "features.gone_0123456789ab")
    assert store.refs() == set()


def test_commit_adds_the_indexes(store, ref):
    with _edit(store, ref) as session:
        new = session.commit()
    with psycopg.connect(store.conninfo) as conn:
        indexes = [r[0] for r in conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'features' AND tablename = %s",
            (new.split(".")[1],)).fetchall()]
        srid, gtype = conn.execute(
            "SELECT srid, type FROM geometry_columns WHERE f_table_name = %s",
            (new.split(".")[1],)).fetchone()
    assert any("gist" in i for i in indexes) and any("(fid)" in i for i in indexes)
    assert (srid, gtype) == (4326, "POINT")
