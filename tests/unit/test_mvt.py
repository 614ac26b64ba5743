"""The numpy MVT encoder (geoportal.storage.mvt) against mapbox-vector-tile's, GDAL's MVT
driver and the spec's rules, and the GeoPackage store's thinning of dense tiles."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import pyarrow as pa
import pytest
import shapely
from mapbox_vector_tile.encoder import on_invalid_geometry_make_valid
from mapbox_vector_tile.Mapbox import vector_tile_pb2

from geoportal.catalog import Field
from geoportal.storage import gpkg
from geoportal.storage.gpkg import GeoPackageStore
from geoportal.storage.mvt import BUFFER, EXTENT, TileAddress, _to_tile_units, encode_tile

MINSK = TileAddress(14, 9470, 5271)  # a z14 tile in Minsk
DENSE = TileAddress(11, 1180, 658)  # the z11 tile over it
DECODE = {"y_coord_down": True, "geojson": True}


def _reference(tile: TileAddress, layer: str, fids, geometries, properties) -> bytes:
    """The encoder this module replaced: shapely's clip, simplify and snap-rounding, then
    mapbox-vector-tile 2.2 feature by feature."""
    geoms = np.asarray(geometries, dtype=object)
    geoms = shapely.transform(geoms, _to_tile_units(tile))
    geoms = shapely.clip_by_rect(geoms, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    geoms = shapely.set_precision(shapely.simplify(geoms, 0.5), 1.0)
    features = [
        {"geometry": g, "id": fid,
         "properties": {k: v.isoformat() if isinstance(v, date) else v
                        for k, v in p.items() if v is not None}}
        for g, fid, p in zip(geoms, fids, properties, strict=True) if not g.is_empty]
    return mapbox_vector_tile.encode(
        [{"name": layer, "features": features}],
        default_options={"extents": EXTENT, "y_coord_down": True,
                         "on_invalid_geometry": on_invalid_geometry_make_valid})


def _features(tile: bytes, layer: str = "demo") -> dict[int, dict]:
    return {f["id"]: f for f in mapbox_vector_tile.decode(tile, default_options=DECODE)[layer]
            ["features"]}


def _lonlat(tile: TileAddress, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Tile units to CRS84 (the inverse of _to_tile_units)."""
    minx, _, _, maxy = tile.mercator_bounds()
    mx = minx + x * tile.size / EXTENT
    my = maxy - y * tile.size / EXTENT
    lon = np.degrees(mx / 6378137.0)
    lat = np.degrees(np.arctan(np.sinh(my / 6378137.0)))
    return np.column_stack([lon, lat])


def _random_layer(tile: TileAddress, n: int, seed: int) -> list[shapely.Geometry]:
    """Rotated rectangles of 1-300 units, some with holes, some MultiPolygons, some lines and
    points, all over the tile and past its buffer."""
    rnd = np.random.default_rng(seed)
    out = []
    for i in range(n):
        cx, cy = rnd.uniform(-400, EXTENT + 400, 2)
        w, h = rnd.uniform(1, 300, 2)
        a = rnd.uniform(0, np.pi)
        corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2
        rot = corners @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
        ring = _lonlat(tile, rot[:, 0] + cx, rot[:, 1] + cy)
        kind = i % 10
        if kind == 7:
            out.append(shapely.LineString(ring[:3]))
        elif kind == 8:
            out.append(shapely.Point(ring[0]))
        elif kind == 9:
            hole = _lonlat(tile, rot[:, 0] * 0.4 + cx, rot[:, 1] * 0.4 + cy)
            out.append(shapely.Polygon(ring, [hole[::-1]]))
        elif kind == 6:
            other = _lonlat(tile, rot[:, 0] + cx + 2 * (w + h), rot[:, 1] + cy)
            out.append(shapely.MultiPolygon([shapely.Polygon(ring), shapely.Polygon(other)]))
        else:
            out.append(shapely.Polygon(ring))
    return out


def _raw_geometries(tile: bytes) -> list[tuple[int, list[int]]]:
    """(type, geometry integers) of each feature, read with the spec's generated classes."""
    message = vector_tile_pb2.tile()
    message.ParseFromString(tile)
    return [(f.type, list(f.geometry)) for f in message.layers[0].features]


def _rings(ints: list[int]) -> list[list[tuple[int, int]]]:
    """A polygon feature's rings in tile coordinates, from its command integers."""
    rings, x, y, i = [], 0, 0, 0
    while i < len(ints):
        command, count = ints[i] & 7, ints[i] >> 3
        i += 1
        if command == 7:
            continue
        for _ in range(count):
            dx, dy = ints[i], ints[i + 1]
            x += (dx >> 1) ^ -(dx & 1)
            y += (dy >> 1) ^ -(dy & 1)
            i += 2
            if command == 1:
                rings.append([])
            rings[-1].append((x, y))
    return rings


def _area(ring: list[tuple[int, int]]) -> int:
    """Twice the spec's signed area (surveyor's formula in tile coordinates, y down)."""
    return sum(ring[i][0] * ring[(i + 1) % len(ring)][1] - ring[(i + 1) % len(ring)][0]
               * ring[i][1] for i in range(len(ring)))


def test_empty_input_and_nothing_drawn_give_empty_bytes():
    assert encode_tile(MINSK, "demo", [], [], []) == b""
    far = shapely.Point(0, 0)
    assert encode_tile(MINSK, "demo", [1, 2], [far, None], [{}, {}]) == b""


@pytest.mark.parametrize("seed", range(4))
def test_same_features_as_mapbox_vector_tile(seed):
    tile = TileAddress(12, 2366 + seed, 1323)
    geoms = _random_layer(tile, 600, seed)
    fids = list(range(1, len(geoms) + 1))
    props = [{"n": i, "kind": f"k{i % 7}", "h": i / 3, "odd": bool(i % 2)} for i in fids]
    ours, theirs = (_features(encode_tile(tile, "demo", fids, geoms, props)),
                    _features(_reference(tile, "demo", fids, geoms, props)))
    # GEOS's snap-rounding may drop a sliver of a unit at the buffer's edge that rounding
    # keeps (or the other way round): nothing else differs
    assert len(ours.keys() ^ theirs.keys()) <= 3
    assert len(ours) > 400
    differ = 0
    for fid in ours.keys() & theirs.keys():
        a, b = ours[fid], theirs[fid]
        assert a["properties"] == b["properties"]
        ga, gb = shapely.geometry.shape(a["geometry"]), shapely.geometry.shape(b["geometry"])
        if not ga.equals(gb):  # a vertex a unit off, a sliver hole cut in two by GEOS...
            differ += 1
            assert a["geometry"]["type"].removeprefix("Multi") == b["geometry"][
                "type"].removeprefix("Multi")
            assert ga.hausdorff_distance(gb) <= 2
    assert differ <= len(ours) // 100


def test_rings_are_oriented_as_the_spec_says():
    tile = TileAddress(13, 4733, 2647)
    geoms = [g for g in _random_layer(tile, 300, 7)
             if g.geom_type in ("Polygon", "MultiPolygon")]
    data = encode_tile(tile, "demo", list(range(len(geoms))), geoms, [{}] * len(geoms))
    checked = 0
    for kind, ints in _raw_geometries(data):
        assert kind == 3  # POLYGON
        rings = _rings(ints)
        assert _area(rings[0]) > 0  # a feature starts with an exterior ring
        for ring in rings:
            assert len(ring) >= 3 and len(set(ring)) == len(ring)  # no closing/repeated vertex
            checked += _area(ring) < 0  # interior rings: negative area
    assert checked > 10
    for fid, f in _features(data).items():
        assert shapely.geometry.shape(f["geometry"]).is_valid, fid


def test_points_lines_and_multigeometries():
    minx, miny, maxx, maxy = MINSK.lonlat_bounds(0)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    d = (maxx - minx) / 10
    geoms = [
        shapely.Point(cx, cy),
        shapely.MultiPoint([(cx, cy), (cx + d, cy), (cx + d, cy)]),  # a repeated point stays
        shapely.LineString([(cx, cy), (cx + d, cy + d), (cx + d, cy + d), (cx + 2 * d, cy)]),
        shapely.MultiLineString([[(cx, cy), (cx + d, cy)], [(cx, cy + d), (cx + d, cy + d)]]),
        shapely.LineString([(cx, cy), (cx + d / 1e6, cy)]),  # shorter than a unit
    ]
    data = encode_tile(MINSK, "demo", [10, 11, 12, 13, 14], geoms, [{}] * 5)
    ours, theirs = _features(data), _features(_reference(MINSK, "demo", [10, 11, 12, 13, 14],
                                                          geoms, [{}] * 5))
    assert sorted(ours) == sorted(theirs) == [10, 11, 12, 13]
    for fid in ours:
        assert ours[fid]["geometry"] == theirs[fid]["geometry"]
    assert [kind for kind, _ in _raw_geometries(data)] == [1, 1, 2, 2]
    assert _raw_geometries(data)[1][1][0] == (3 << 3) | 1  # one MoveTo of 3 points
    assert ours[12]["geometry"]["type"] == "LineString"
    assert len(ours[12]["geometry"]["coordinates"]) == 3  # the repeated vertex went


def test_invalid_input_and_collections_are_drawn_valid():
    minx, miny, maxx, maxy = MINSK.lonlat_bounds(0)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    d = (maxx - minx) / 10
    bowtie = shapely.Polygon([(cx, cy), (cx + d, cy + d), (cx + d, cy), (cx, cy + d)])
    overlapping = shapely.MultiPolygon([shapely.box(cx, cy, cx + d, cy + d),
                                        shapely.box(cx + d / 2, cy, cx + 2 * d, cy + d)])
    collection = shapely.GeometryCollection([shapely.Point(cx, cy),
                                             shapely.box(cx, cy, cx + d, cy + d),
                                             shapely.LineString([(cx, cy), (cx + d, cy)])])
    points = shapely.GeometryCollection([shapely.Point(cx, cy)])
    data = encode_tile(MINSK, "demo", [1, 2, 3, 4], [bowtie, overlapping, collection, points],
                       [{}] * 4)
    features = _features(data)
    assert [features[i]["geometry"]["type"] for i in (1, 2, 3, 4)] == [
        "MultiPolygon", "Polygon", "Polygon", "Point"]
    for f in features.values():
        assert shapely.geometry.shape(f["geometry"]).is_valid
    union = shapely.transform(overlapping.buffer(0), _to_tile_units(MINSK))
    assert shapely.geometry.shape(features[2]["geometry"]).area == pytest.approx(union.area,
                                                                                rel=0.01)


def test_property_values_are_typed_and_shared():
    minx, miny, maxx, maxy = MINSK.lonlat_bounds(0)
    geoms = [shapely.Point((minx + maxx) / 2, (miny + maxy) / 2)] * 6
    props = [
        {"i": 1, "f": 1.0, "b": True, "s": "1", "neg": -5, "big": 2**63 + 1},
        {"i": 1, "f": 2.5, "b": False, "s": "Мінск", "none": None, "when": date(2024, 1, 2)},
        {"i": np.int64(7), "f": np.float32(0.5), "at": datetime(2024, 1, 2, 3, 4, 5)},
        {"i": 2**62, "raw": b"bytes", "list": [1, 2]},  # bytes and lists: no MVT value
        {"mixed": 1}, {"mixed": "one"},
    ]
    data = encode_tile(MINSK, "demo", list(range(6)), geoms, props)
    features = _features(data)
    assert features[0]["properties"] == {"i": 1, "f": 1.0, "b": True, "s": "1", "neg": -5,
                                         "big": 2**63 + 1}
    assert type(features[0]["properties"]["f"]) is float
    assert type(features[0]["properties"]["b"]) is bool
    assert features[1]["properties"] == {"i": 1, "f": 2.5, "b": False, "s": "Мінск",
                                         "when": "2024-01-02"}
    assert features[2]["properties"] == {"i": 7, "f": 0.5, "at": "2024-01-02T03:04:05"}
    assert features[3]["properties"] == {"i": 2**62}
    assert features[4]["properties"] == {"mixed": 1} and features[5]["properties"] == {
        "mixed": "one"}
    message = vector_tile_pb2.tile()
    message.ParseFromString(data)
    layer = message.layers[0]
    assert (layer.name, layer.extent, layer.version) == ("demo", 4096, 2)
    values = [v.ListFields() for v in layer.values]
    assert all(len(v) == 1 for v in values)
    assert len(values) == len({(v[0][0].name, v[0][1]) for v in values})  # each value once
    values = [v[0][0].name for v in values]
    assert "sint_value" in values and "uint_value" in values and "bool_value" in values
    assert sorted(layer.keys) == sorted({k for p in props for k, v in p.items()
                                         if k not in ("none", "raw", "list")})


def test_columns_and_rows_give_the_same_tile():
    geoms = _random_layer(MINSK, 50, 3)
    rows = [{"n": i, "name": None if i % 3 else f"n{i}"} for i in range(50)]
    columns = {"n": [r["n"] for r in rows], "name": [r["name"] for r in rows]}
    assert encode_tile(MINSK, "demo", list(range(50)), geoms, rows) == encode_tile(
        MINSK, "demo", list(range(50)), geoms, columns)


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin is not installed")
def test_gdal_reads_our_tile(tmp_path: Path):
    tile = TileAddress(12, 2367, 1323)
    geoms = _random_layer(tile, 200, 11)
    props = [{"n": i, "name": f"будынак {i}", "h": i / 4} for i in range(200)]
    data = encode_tile(tile, "buildings", list(range(200)), geoms, props)
    path = tmp_path / "tile.pbf"
    path.write_bytes(data)
    out = subprocess.run(["ogrinfo", "-ro", "-al", "-oo", f"X={tile.x}", "-oo", f"Y={tile.y}",
                          "-oo", f"Z={tile.z}", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Layer name: buildings" in out.stdout
    decoded = _features(data, "buildings")
    assert int(out.stdout.split("Feature Count: ")[1].split()[0]) == len(decoded)
    assert "name (String)" in out.stdout and "h (Real)" in out.stdout
    assert "будынак 17" in out.stdout
    assert "ERROR" not in out.stderr


@pytest.fixture
def dense(tmp_path: Path) -> tuple[GeoPackageStore, str, list[Field]]:
    """20,000 small squares (about 10-25 m) inside a z11 tile (about 11 x 11 km): a dense
    layer at low zooms."""
    store = GeoPackageStore(tmp_path)
    rnd = np.random.default_rng(5)
    n = 20_000
    minx, miny, maxx, maxy = DENSE.lonlat_bounds(0)
    dx, dy = (maxx - minx) / 10, (maxy - miny) / 10
    x, y = rnd.uniform(minx + dx, maxx - dx, n), rnd.uniform(miny + dy, maxy - dy, n)
    size = rnd.uniform(0.0001, 0.0004, n)
    geoms = shapely.box(x, y, x + size, y + size)
    fields = [Field("n", "integer")]
    with store.stage("dense", geometry_type="Polygon") as writer:
        writer.write(pa.table({"n": pa.array(np.arange(n), pa.int64())}), geoms)
        ref = writer.commit()
    return store, ref, fields


def test_a_dense_tile_is_thinned_on_a_grid_not_cut(dense, monkeypatch):
    store, ref, fields = dense
    monkeypatch.setattr(gpkg, "MAX_TILE_FEATURES", 2_000)
    tile = DENSE
    data = store.tile(ref, fields, tile, layer="dense", points=False)
    assert data == store.tile(ref, fields, tile, layer="dense", points=False)  # deterministic
    features = _features(data, "dense")
    assert 500 < len(features) <= 2_000
    # spread over the whole layer, not the first rows of the R-tree
    xy = np.array([shapely.geometry.shape(f["geometry"]).centroid.coords[0]
                   for f in features.values()])
    low, high = EXTENT / 10, EXTENT * 9 / 10  # where the squares are
    assert xy.min(axis=0).tolist() == pytest.approx([low, low], abs=100)
    assert xy.max(axis=0).tolist() == pytest.approx([high, high], abs=100)
    # one feature per cell: a square of a cell's size (its grid is not the store's) holds a
    # few at most
    cell = np.ceil((EXTENT + 2 * BUFFER) / np.sqrt(2_000))
    _, per_cell = np.unique((xy // cell).astype(int), axis=0, return_counts=True)
    assert per_cell.max() <= 6 and per_cell.mean() < 2


def test_a_tile_over_the_byte_budget_is_thinned(dense, monkeypatch):
    store, ref, fields = dense
    tile = DENSE
    full = store.tile(ref, fields, tile, layer="dense", points=False)
    monkeypatch.setattr(gpkg, "MAX_TILE_BYTES", len(full) // 4)
    small = store.tile(ref, fields, tile, layer="dense", points=False)
    assert 0 < len(small) <= len(full) // 4
    assert len(_features(small, "dense")) < len(_features(full, "dense"))
