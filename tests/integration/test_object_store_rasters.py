"""Raster layers on an S3-compatible object store (moto's server): the real CLI writes the COG
to the store, the real server reads it in place with ranged GETs (coverage, map tiles) and
streams its download with Range and ETag; a second node with its own empty data folder reads
the same raster. Nothing is written under data_dir/coverages."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
import requests
from rasterio.io import MemoryFile
from rasterio.transform import from_bounds

from tests.conftest import Portal, write_manifest
from tests.objectstore import MotoS3, S3Request

LAYER = "s3-relief"
BOUNDS = (27.0, 53.5, 28.5, 54.5)  # around Minsk
WIDTH, HEIGHT = 1536, 1024  # 3 x 2 blocks of 512 px, plus overviews


def _make_raster(path: Path) -> np.ndarray:
    """Noise (so that DEFLATE cannot shrink it: the file's size is the pixels' size) with a
    gradient, float32, EPSG:4326."""
    rng = np.random.default_rng(17)
    pixels = (rng.random((HEIGHT, WIDTH), dtype=np.float32) * 100
              + np.linspace(0, 50, WIDTH, dtype=np.float32)[None, :])
    with rasterio.open(path, "w", driver="GTiff", width=WIDTH, height=HEIGHT, count=1,
                       dtype="float32", crs="EPSG:4326",
                       transform=from_bounds(*BOUNDS, WIDTH, HEIGHT)) as out:
        out.write(pixels, 1)
    return pixels


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, s3: MotoS3) -> Iterator[dict]:
    """Node A (publishes through the CLI, serves) and node B (its own empty data folder, the
    same catalog and object store), both on moto's S3 under a prefix of this module's own.
    The GeoPackage back end only (the feature store plays no part; node B shares A's SQLite
    catalog): the PostGIS + S3 topology is tested in tests/cluster/."""
    env = s3.fresh()
    root = tmp_path_factory.mktemp("s3rasters")
    a = Portal(root / "a" / "var")
    a.env.update(env)
    a.cli("init")
    source = root / "relief.tif"
    pixels = _make_raster(source)
    manifest = write_manifest(root, LAYER, {"path": source.name}, title="Relief on S3")
    a.cli("ingest", str(manifest))
    shared_catalog = f"sqlite:///{a.data_dir / 'catalog.sqlite'}"
    b = Portal(root / "b" / "var", shared_catalog)
    b.env.update(env)
    b.data_dir.mkdir(parents=True)  # nothing else: no init, no ingest on this node
    a.start()
    try:
        b.start()
        yield {"a": a, "b": b, "s3": env, "source": source, "pixels": pixels}
    finally:
        b.stop()
        a.stop()


def _cog_key(env: MotoS3) -> str:
    """The one COG of the layer in the store: ``<prefix>/coverages/<layer>/<uuid>.tif``."""
    import boto3

    client = boto3.client("s3", endpoint_url=env.endpoint, aws_access_key_id="k",
                          aws_secret_access_key="s", region_name="us-east-1")
    listed = client.list_objects_v2(Bucket=env.bucket, Prefix=f"{env.prefix}/")
    keys = [o["Key"] for o in listed.get("Contents", [])]
    cogs = [k for k in keys if k.startswith(f"{env.prefix}/coverages/{LAYER}/")]
    assert len(cogs) == 1 and cogs[0].endswith(".tif"), keys
    return cogs[0]


def _cog_bytes(env: MotoS3) -> bytes:
    import boto3

    client = boto3.client("s3", endpoint_url=env.endpoint, aws_access_key_id="k",
                          aws_secret_access_key="s", region_name="us-east-1")
    return client.get_object(Bucket=env.bucket, Key=_cog_key(env))["Body"].read()


def _gets_since(env: MotoS3, key: str, before: int) -> list[S3Request]:
    return [r for r in env.requests[before:] if r.method == "GET" and r.path.endswith(key)]


def _range_length(header: str) -> int:
    start, end = (int(v) for v in re.fullmatch(r"bytes=(\d+)-(\d+)", header).groups())
    return end - start + 1


def test_the_cog_is_in_the_store_and_not_on_either_disk(cluster):
    key = _cog_key(cluster["s3"])
    for node in (cluster["a"], cluster["b"]):
        folder = node.data_dir / "coverages"
        assert not folder.exists() or not any(folder.rglob("*.tif")), list(folder.rglob("*"))
    with MemoryFile(_cog_bytes(cluster["s3"])) as memory, memory.open() as ds:
        assert ds.overviews(1) and ds.block_shapes[0] == (512, 512)  # a COG, not the source
    assert key.count("/") == 3


@pytest.mark.parametrize("node", ["a", "b"])
def test_coverage_is_read_in_place_with_ranged_gets(cluster, node):
    portal, env = cluster[node], cluster["s3"]
    key = _cog_key(env)
    size = len(_cog_bytes(env))
    before = len(env.requests)
    r = requests.get(f"{portal.url}/collections/{LAYER}/coverage", timeout=60,
                     params={"subset": "Lat(53.9:53.95),Lon(27.6:27.65)", "f": "GTiff"})
    assert r.status_code == 200, r.text
    with MemoryFile(r.content) as memory, memory.open() as ds:
        got = ds.read(1)
        window = rasterio.windows.from_bounds(*ds.bounds,
                                              transform=from_bounds(*BOUNDS, WIDTH, HEIGHT))
    row, col = round(window.row_off), round(window.col_off)
    np.testing.assert_array_equal(got, cluster["pixels"][row:row + got.shape[0],
                                                         col:col + got.shape[1]])
    gets = _gets_since(env, key, before)
    assert gets, "the server did not read the object"
    assert all(g.range for g in gets), [g for g in gets if not g.range]  # never the whole file
    assert all(g.status == 206 for g in gets)
    assert sum(_range_length(g.range) for g in gets) < size / 2  # one block, not the file


def test_the_whole_coverage_equals_the_source(cluster):
    r = requests.get(f"{cluster['b'].url}/collections/{LAYER}/coverage", timeout=120,
                     params={"f": "GTiff"})
    assert r.status_code == 200, r.text
    with MemoryFile(r.content) as memory, memory.open() as ds, \
            rasterio.open(cluster["source"]) as src:
        assert (ds.width, ds.height) == (src.width, src.height)
        assert ds.crs == src.crs
        assert ds.transform.almost_equals(src.transform)
        np.testing.assert_array_equal(ds.read(1), src.read(1))


@pytest.mark.parametrize("node", ["a", "b"])
def test_a_map_tile_is_drawn_from_the_store(cluster, node):
    z = 9
    lon, lat = 27.75, 54.0
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    r = requests.get(f"{cluster[node].url}/collections/{LAYER}/map/tiles/WebMercatorQuad/"
                     f"{z}/{y}/{x}", timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "image/png" and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    meta = requests.get(f"{cluster[node].url}/collections/{LAYER}/map/tiles/WebMercatorQuad",
                        timeout=60).json()
    assert len(meta["legend"]) == 5  # the stretch was computed from the object too


def test_download_honours_range_and_etag(cluster):
    portal, env = cluster["b"], cluster["s3"]
    whole = _cog_bytes(env)
    url = f"{portal.url}/collections/{LAYER}/download"
    before = len(env.requests)
    r = requests.get(url, headers={"Range": "bytes=100-1123"}, timeout=60)
    assert r.status_code == 206, r.headers
    assert r.headers["Content-Range"] == f"bytes 100-1123/{len(whole)}"
    assert r.content == whole[100:1124]
    assert "attachment" in r.headers["Content-Disposition"]
    gets = _gets_since(env, _cog_key(env), before)
    assert [g.range for g in gets] == ["bytes=100-1123"]  # only those bytes were fetched
    etag = r.headers["ETag"]
    full = requests.get(url, timeout=60)
    assert full.status_code == 200 and full.content == whole
    assert full.headers["ETag"] == etag and full.headers["Accept-Ranges"] == "bytes"
    assert full.headers["Cache-Control"] == "no-cache"  # revalidated: a rollback is seen
    again = requests.get(url, headers={"If-None-Match": etag}, timeout=60)
    assert again.status_code == 304 and again.content == b""
    tail = requests.get(url, headers={"Range": "bytes=-10"}, timeout=60)
    assert tail.status_code == 206 and tail.content == whole[-10:]
    stale = requests.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'},
                         timeout=60)
    assert stale.status_code == 200 and stale.content == whole  # changed: the whole file
    beyond = requests.get(url, headers={"Range": f"bytes={len(whole) + 10}-"}, timeout=60)
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(whole)}"


def _tile_path(z: int = 9, lon: float = 27.75, lat: float = 54.0) -> str:
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    return f"/collections/{LAYER}/map/tiles/WebMercatorQuad/{z}/{y}/{x}"


@pytest.fixture(scope="module")
def strays(cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Two more nodes on A's catalog after the publish: "away", whose object store is an
    endpoint on a closed port (the store down), and "gone", on the same S3 server under an
    empty prefix (the COG deleted behind the portal's back)."""
    from tests.conftest import free_port

    root = tmp_path_factory.mktemp("s3strays")
    shared_catalog = f"sqlite:///{cluster['a'].data_dir / 'catalog.sqlite'}"
    nodes = {}
    for name, env in (("away", {**cluster["s3"],
                                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}),
                      ("gone", dict(cluster["s3"].fresh()))):
        node = Portal(root / name / "var", shared_catalog)
        node.env.update(env)
        node.data_dir.mkdir(parents=True)
        nodes[name] = node
    try:
        for node in nodes.values():
            node.start()
        yield nodes
    finally:
        for node in nodes.values():
            node.stop()


def test_a_store_that_is_down_answers_503_at_once_with_one_traceback(strays):
    """Map tiles and coverages while the object store is down: 503 with Retry-After, 20 of
    them well within a polling deadline (the outage is remembered: no per-request timeouts
    and retries), and the log holds the outage's traceback once per worker process, not one
    per request."""
    node = strays["away"]
    deadline = time.monotonic() + 20
    answers = []
    for i in range(20):
        path = _tile_path(9 + i % 5) if i % 2 else f"/collections/{LAYER}/coverage"
        r = requests.get(f"{node.url}{path}", params={"f": "GTiff"} if i % 2 == 0 else None,
                         timeout=30)
        answers.append((r.status_code, r.headers.get("Retry-After"), r.json()["code"]))
        assert time.monotonic() < deadline, answers
    assert set(answers) == {(503, "5", "ServiceUnavailable")}, answers
    log = (node.data_dir / "server.out").read_text()
    assert log.count("object_store_unavailable=") >= 20  # one line per request
    assert 1 <= log.count("Traceback") <= 2, log[-4000:]  # gunicorn runs 2 workers
    assert "testing-secret" not in log


def test_a_cog_gone_from_the_store_is_a_404_that_names_no_store_path(strays, cluster):
    node = strays["gone"]
    for path, params in ((_tile_path(), None),
                         (f"/collections/{LAYER}/coverage", {"f": "GTiff"})):
        r = requests.get(f"{node.url}{path}", params=params, timeout=60)
        assert r.status_code == 404, r.text
        assert "vsis3" not in r.text and cluster["s3"].bucket not in r.text
        assert "coverages/" not in r.text
