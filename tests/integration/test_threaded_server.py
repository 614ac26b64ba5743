"""`geoportal serve --threads 4` (gunicorn gthread): the same answers with requests in
parallel in each worker: features, tiles, coverages, records and an edit's new version."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import mapbox_vector_tile
import pytest
import requests

from tests.conftest import LAYERS_DIR, Portal


@pytest.fixture(scope="module")
def threaded(tmp_path_factory) -> Portal:
    server = Portal(tmp_path_factory.mktemp("threaded") / "var")
    server.env["GEOPORTAL_THREADS"] = "4"
    # what is tested is threads sharing a worker, not the heavy-request gate (test_rate_limits)
    server.env["GEOPORTAL_HEAVY_REQUESTS"] = "8"
    server.cli("init")
    server.cli("ingest", str(LAYERS_DIR / "by" / "raions.yaml"))
    server.cli("ingest", str(LAYERS_DIR / "by" / "night_lights.yaml"))
    server.start()
    yield server
    server.stop()


def test_parallel_requests_get_the_same_answers(threaded):
    url = threaded.url
    paths = [
        "/collections/raions/items?f=json&limit=5&offset={i}",
        "/collections/raions/tiles/WebMercatorQuad/6/20/{j}",
        "/collections/night-lights-2024/coverage?subset=Lon(27.{i}:27.{k}),Lat(53.8:53.9)",
        "/collections/catalog/items?f=json&q=раён",
    ]

    def fetch(n: int) -> tuple[str, int, bytes]:
        i, j, k = n % 5, 36 + n % 2, n % 5 + 3
        path = paths[n % len(paths)].format(i=i, j=j, k=k)
        # as many clients behind the local proxy: no one client's share of heavy requests
        response = requests.get(url + path, timeout=60,
                                headers={"X-Forwarded-For": f"198.51.100.{n % 100}"})
        return path, response.status_code, response.content

    with ThreadPoolExecutor(max_workers=12) as pool:
        first = list(pool.map(fetch, range(96)))
        again = list(pool.map(fetch, range(96)))
    assert all(status == 200 for _, status, _ in first), [p for p, s, _ in first if s != 200]
    same = {path: body for path, _, body in first}
    for path, _, body in again:
        if "/tiles/" in path:  # MVT bytes are stable; decode to be sure it is a tile
            assert mapbox_vector_tile.decode(body)["raions"]["features"]
        if "f=json" in path:  # the same features (timeStamp differs by request)
            assert json.loads(body)["features"] == json.loads(same[path])["features"], path
        else:
            assert body == same[path], path
    assert "4 thread" in (threaded.data_dir / "server.out").read_text()
