"""Dense low-zoom tiles on both stores: thinned on a grid (one feature per cell, the largest),
never cut at an arbitrary row, and the same tile every time."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pyarrow as pa
import pytest
import shapely

from geoportal.catalog import Field
from geoportal.storage import gpkg, postgis
from geoportal.storage.mvt import BUFFER, EXTENT, TileAddress

TILE = TileAddress(11, 1180, 658)  # about 11 x 11 km over Minsk
LIMIT = 2_000


@pytest.fixture
def dense(store):
    """12,000 small squares spread over the middle of the tile, and one big square."""
    rnd = np.random.default_rng(11)
    n = 12_000
    minx, miny, maxx, maxy = TILE.lonlat_bounds(0)
    dx, dy = (maxx - minx) / 10, (maxy - miny) / 10
    x, y = rnd.uniform(minx + dx, maxx - dx, n), rnd.uniform(miny + dy, maxy - dy, n)
    size = rnd.uniform(0.0001, 0.0003, n)
    geoms = np.append(shapely.box(x, y, x + size, y + size),
                      shapely.box(minx + 4 * dx, miny + 4 * dy, minx + 5 * dx, miny + 5 * dy))
    fields = [Field("n", "integer")]
    with store.stage("dense", geometry_type="Polygon") as writer:
        writer.write(pa.table({"n": pa.array(np.arange(n + 1), pa.int64())}), geoms)
        ref = writer.commit()
    return store, ref, fields


def _features(data: bytes) -> list[dict]:
    return mapbox_vector_tile.decode(data)["dense"]["features"]


def test_a_crowded_tile_is_thinned_on_both_stores(dense, monkeypatch):
    store, ref, fields = dense
    for module in (gpkg, postgis):
        monkeypatch.setattr(module, "MAX_TILE_FEATURES", LIMIT)
    data = store.tile(ref, fields, TILE, layer="dense", points=False)
    assert data == store.tile(ref, fields, TILE, layer="dense", points=False)
    features = _features(data)
    assert 300 < len(features) <= LIMIT
    ids = {f["properties"]["n"] for f in features}
    assert 12_000 in ids  # the big square keeps its cell
    centres = np.array([shapely.geometry.shape(f["geometry"]).centroid.coords[0]
                        for f in features])
    low, high = EXTENT / 10, EXTENT * 9 / 10  # spread over all of it, not the first rows
    assert centres.min(axis=0).tolist() == pytest.approx([low, low], abs=150)
    assert centres.max(axis=0).tolist() == pytest.approx([high, high], abs=150)
    cell = np.ceil((EXTENT + 2 * BUFFER) / np.sqrt(LIMIT))
    _, per_cell = np.unique((centres // cell).astype(int), axis=0, return_counts=True)
    assert per_cell.mean() < 2


def test_a_tile_under_the_limits_is_whole(dense):
    store, ref, fields = dense
    assert len(_features(store.tile(ref, fields, TILE, layer="dense", points=False))) \
        == 12_001


def test_a_tile_over_the_byte_budget_is_thinned(dense, monkeypatch):
    store, ref, fields = dense
    full = store.tile(ref, fields, TILE, layer="dense", points=False)
    for module in (gpkg, postgis):
        monkeypatch.setattr(module, "MAX_TILE_BYTES", len(full) // 4)
    small = store.tile(ref, fields, TILE, layer="dense", points=False)
    assert 0 < len(small) <= len(full) // 4
    assert len(_features(small)) < 12_001
