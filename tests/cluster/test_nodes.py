"""Two portal nodes behind HAProxy share everything that matters: the catalog (PgBouncer ->
primary, replica for reads), the objects (S3), the job queue (the worker tier). What one node
publishes the other serves; a node killed mid-request costs the balancer's clients nothing."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest
import requests

from tests.cluster.conftest import LAYERS_DIR, manifest, submit, wait_job, write_points

pytestmark = pytest.mark.cluster


def test_a_layer_published_on_node_a_is_served_by_node_b_within_2_s(cluster, token, data_dir):
    path = write_points(data_dir / "a-to-b.gpkg", 500, "a2b")
    job_id = submit(cluster.node_url("a"), token, manifest("cluster-a-to-b", path.name), path)
    job = wait_job(cluster.node_url("a"), token, job_id)
    assert job["state"] == "done", job
    done = time.monotonic()
    url = f"{cluster.node_url('b')}/collections/cluster-a-to-b/items"
    answers: list[int] = []
    while time.monotonic() - done < 2.0:  # a polling deadline: the bound
        r = requests.get(url, params={"f": "json", "limit": 5}, timeout=10)
        answers.append(r.status_code)
        if r.status_code == 200:
            body = r.json()
            assert body["numberMatched"] == 500
            assert {f["properties"]["mark"] for f in body["features"]} == {"a2b"}
            print(f"node b served it {time.monotonic() - done:.2f} s after the job ended")
            break
        time.sleep(0.05)
    assert answers and answers[-1] == 200, f"node b answered {answers} for 2 s"


def test_a_raster_uploaded_to_node_a_is_read_from_node_b(cluster, token):
    source = LAYERS_DIR / "by" / "night_lights_2024.tif"
    job_id = submit(cluster.node_url("a"), token,
                    manifest("cluster-lights", source.name, theme="environment"), source)
    job = wait_job(cluster.node_url("a"), token, job_id)
    assert job["state"] == "done", job
    b = cluster.node_url("b")
    deadline = time.monotonic() + 5
    while requests.get(f"{b}/collections/cluster-lights", params={"f": "json"},
                       timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "node b does not list the raster"
        time.sleep(0.1)
    coverage = requests.get(f"{b}/collections/cluster-lights/coverage",
                            params={"bbox": "27.3,53.7,27.8,54.1"}, timeout=60)
    assert coverage.status_code == 200, coverage.text[:300]
    assert coverage.content[:4] in (b"II*\x00", b"MM\x00*")  # a GeoTIFF
    tile = requests.get(f"{b}/collections/cluster-lights/map/tiles/WebMercatorQuad/6/20/37",
                        timeout=60)
    assert tile.status_code == 200, tile.text[:300]
    assert tile.headers["Content-Type"].startswith("image/")
    # The COG lives in the object store, on neither node's disk.
    for node in ("node-a", "node-b"):
        assert not list((cluster.root / node).rglob("*.tif")), f"a COG on {node}'s disk"


def test_a_job_submitted_to_node_a_runs_on_the_worker(cluster, token, data_dir):
    path = write_points(data_dir / "on-worker.gpkg", 200, "w")
    job_id = submit(cluster.node_url("a"), token, manifest("cluster-on-worker", path.name),
                    path)
    job = wait_job(cluster.node_url("a"), token, job_id)
    assert job["state"] == "done", job
    # Our jobs row names its runner (host:pid): the worker process, not a web node (web
    # nodes never run ETL when a worker tier is configured); procrastinate's row agrees.
    (runner,), = cluster.sql("SELECT worker FROM jobs WHERE id = %s", (job_id,))
    workers = {cluster.parts[name].pid for name in cluster.worker_names()}
    assert runner and int(runner.rsplit(":", 1)[1]) in workers, (runner, workers)
    rows = cluster.sql("SELECT status FROM procrastinate_jobs WHERE args::text LIKE %s",
                       (f"%{job_id}%",))
    assert rows == [("succeeded",)], rows


def test_node_a_killed_while_requests_flow_the_balancers_next_requests_succeed(cluster):
    urls = [f"{cluster.url}/collections/oblasts/items?f=json&limit=2",
            f"{cluster.url}/collections?f=json",
            f"{cluster.url}/collections/oblasts/items/1?f=json"]
    results: list[tuple[float, int, str]] = []  # (started, status, url)
    stop = threading.Event()

    def client(offset: int) -> None:
        session = requests.Session()
        n = offset
        while not stop.is_set():
            url = urls[n % len(urls)]
            n += 1
            started = time.monotonic()
            try:
                status = session.get(url, timeout=30).status_code
            except requests.RequestException as exc:
                status = -1
                url = f"{url} ({type(exc).__name__})"
            results.append((started, status, url))

    clients = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for t in clients:
        t.start()
    try:
        time.sleep(1.5)
        killed = time.monotonic()
        cluster.kill("node-a")
        time.sleep(4)
    finally:
        stop.set()
        for t in clients:
            t.join()
    before = [r for r in results if r[0] < killed]
    after = [r for r in results if r[0] >= killed]
    assert before, "no request before the kill"
    assert len(after) > 20, f"only {len(after)} requests after the kill"
    failed = [(round(t - killed, 2), status, url) for t, status, url in after if status != 200]
    assert not failed, f"{len(failed)} of {len(after)} failed after the kill: {failed[:5]}"
    print(json.dumps({"after_kill": len(after), "in_flight_or_before": Counter(
        s for _, s, _ in before), "statuses": Counter(s for _, s, _ in after)}))
