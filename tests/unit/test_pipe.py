"""The hand-off between the ETL's thread and a store's writer thread."""

from __future__ import annotations

import threading

import numpy as np
import pyarrow as pa
import pytest
import shapely

from geoportal.storage.gpkg import GeoPackageStore
from geoportal.storage.pipe import Cancelled, Pipe


def test_items_arrive_in_order_and_close_waits_for_the_writer():
    seen: list[int] = []
    pipe = Pipe(lambda items: seen.extend(items), name="test")
    for i in range(10):
        pipe.put(i)
    pipe.close()
    assert seen == list(range(10))


def test_a_writer_error_reaches_the_etl_thread_without_blocking_it():
    def consume(items):
        for item in items:
            if item == 3:
                raise ValueError("disk full")

    pipe = Pipe(consume, name="test", depth=1)
    with pytest.raises(ValueError, match="disk full"):
        for i in range(100):  # would block forever on a full queue if put() waited blindly
            pipe.put(i)
        pipe.close()


def test_cancel_stops_the_writer_instead_of_letting_it_finish():
    finished = threading.Event()

    def consume(items):
        for _ in items:
            pass
        finished.set()  # only reached when the stream ends normally

    pipe = Pipe(consume, name="test")
    pipe.put(1)
    pipe.cancel()
    assert not finished.is_set()
    assert isinstance(pipe.error, Cancelled)


def test_an_abandoned_geopackage_version_leaves_no_file(tmp_path):
    store = GeoPackageStore(tmp_path)
    store.init()
    writer = store.stage("roads", geometry_type="Point")
    writer.write(pa.table({"n": [1, 2]}), np.array([shapely.Point(27.5, 53.9)] * 2))
    writer.abort()
    assert list(tmp_path.rglob("*.gpkg")) == []
    assert store.refs() == set()
