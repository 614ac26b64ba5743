"""Both feature stores, one suite: staged writes, indexed bbox queries, paging, sorting."""

from __future__ import annotations

import sqlite3

import numpy as np
import psycopg
import pyarrow as pa
import pyogrio
import pytest
import shapely

from geoportal.catalog import Field
from geoportal.errors import InputError
from geoportal.storage import Query

FIELDS = [Field("name", "string"), Field("rank", "integer"), Field("open", "boolean")]


def _batch(names, ranks, geoms) -> tuple[pa.Table, np.ndarray]:
    properties = pa.table({
        "name": pa.array(names, pa.string()),
        "rank": pa.array(ranks, pa.int64()),
        "open": pa.array([r % 2 == 0 for r in ranks], pa.bool_()),
    })
    return properties, np.array(geoms, dtype=object)


@pytest.fixture
def ref(store):
    points = [shapely.Point(27.0 + i * 0.01, 53.0) for i in range(30)]
    with store.stage("demo-layer", geometry_type="Point") as writer:
        writer.write(*_batch([f"p{i}" for i in range(15)], list(range(15)), points[:15]))
        writer.write(*_batch([f"p{i}" for i in range(15, 30)], list(range(15, 30)), points[15:]))
        return writer.commit()


def test_committed_table_is_indexed_in_epsg_4326(store, ref, backend):
    assert store.refs() == {ref}
    if backend == "gpkg":
        path = store.root / ref
        info = pyogrio.read_info(path)
        assert (info["features"], info["crs"]) == (30, "EPSG:4326")
        names = {name for name, _ in pyogrio.list_layers(path)}
        assert names == {"demo_layer"}
        assert sqlite3.connect(path).execute(
            "SELECT count(*) FROM rtree_demo_layer_geom").fetchone()[0] == 30
    else:
        with psycopg.connect(store.conninfo) as conn:
            table = ref.split(".")[1]
            srid, gtype = conn.execute(
                "SELECT srid, type FROM geometry_columns WHERE f_table_name = %s",
                (table,)).fetchone()
            indexes = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s",
                                   (table,)).fetchall()
            count = conn.execute(f"SELECT count(*) FROM {ref}").fetchone()[0]
        assert (srid, gtype, count) == (4326, "POINT", 30)
        assert any("gist" in i[0] for i in indexes)


def test_writer_left_without_commit_leaves_nothing(store, backend):
    with store.stage("broken", geometry_type="Point") as writer:
        writer.write(*_batch(["a"], [1], [shapely.Point(27, 53)]))
    assert store.refs() == set()
    if backend == "gpkg":
        assert not any(store.root.rglob("*.gpkg"))


def test_writer_failing_midway_leaves_nothing(store):
    with pytest.raises(ValueError, match="boom"), \
            store.stage("midway", geometry_type="Point") as writer:
        writer.write(*_batch(["a"], [1], [shapely.Point(27, 53)]))
        raise ValueError("boom")
    assert store.refs() == set()


def test_bbox_returns_only_features_inside(store, ref):
    result = store.query(ref, FIELDS, Query(limit=100, bbox=(27.045, 52.9, 27.095, 53.1)))
    assert [r.properties["name"] for r in result.rows] == ["p5", "p6", "p7", "p8", "p9"]
    assert result.number_matched == 5


def test_bbox_excludes_a_polygon_whose_envelope_but_not_shape_intersects(store):
    ring = shapely.Polygon([(27, 53), (28, 53), (28, 54), (27, 53)])  # triangle, lower right
    with store.stage("tri", geometry_type="MultiPolygon") as writer:
        writer.write(*_batch(["t"], [1], [shapely.MultiPolygon([ring])]))
        ref = writer.commit()
    assert store.query(ref, FIELDS, Query(bbox=(27.0, 53.8, 27.2, 54.0))).rows == []
    assert len(store.query(ref, FIELDS, Query(bbox=(27.9, 53.1, 28.0, 53.2))).rows) == 1


def test_paging_is_stable_and_complete(store, ref):
    seen = []
    for offset in range(0, 30, 7):
        seen += [r.fid for r in store.query(ref, FIELDS, Query(limit=7, offset=offset)).rows]
    assert seen == list(range(1, 31))


def test_deep_offset_with_a_filter_skips_matching_rows_only(store, ref):
    result = store.query(ref, FIELDS, Query(limit=3, offset=4, equals=[("open", "false")]))
    assert [r.properties["rank"] for r in result.rows] == [9, 11, 13]


def test_equality_filter_and_sort_descending(store, ref):
    result = store.query(ref, FIELDS, Query(limit=3, equals=[("open", "true")],
                                            sortby=[("rank", False)]))
    assert [r.properties["rank"] for r in result.rows] == [28, 26, 24]
    assert all(r.properties["open"] is True for r in result.rows)
    assert result.number_matched == 15


def test_equality_filter_with_a_wrong_type_is_an_input_error(store, ref):
    with pytest.raises(InputError, match="rank"):
        store.query(ref, FIELDS, Query(equals=[("rank", "seven")]))


def test_get_returns_one_feature_with_its_geometry(store, ref):
    row = store.get(ref, FIELDS, 3)
    assert row.properties == {"name": "p2", "rank": 2, "open": True}
    assert row.geometry.equals(shapely.Point(27.02, 53.0))
    assert store.get(ref, FIELDS, 999) is None


def test_drop_removes_the_table(store, ref):
    store.drop(ref)
    assert store.refs() == set()


def test_postgis_connections_carry_the_statement_timeout(postgres):
    from geoportal.storage.postgis import PostGISStore

    store = PostGISStore(postgres.new_database(), statement_timeout_ms=1234)
    try:
        with store.pool.connection() as conn:
            assert conn.execute("SHOW statement_timeout").fetchone()[0] == "1234ms"
            assert conn.execute("SHOW TimeZone").fetchone()[0] == "UTC"
    finally:
        store.close()
