"""``GET /metrics`` on the real server (gunicorn, 2 workers, both stores): real requests
(an upload, items, a tile many times, a revalidation, 404s) show up in the scrape by route
template and status, summed over both workers; the upload's job shows in the job-duration
histogram, and a collection document asked for again is a hit of the collection cache; no
token, query string or layer id appears; the scrape is neither rate-limited nor logged at
INFO; ``GEOPORTAL_METRICS=0`` is a 404."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import morecantile
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Portal, admin_token, empty_portal, marked_log_lines

pytestmark = pytest.mark.integration

LAYER = "metrics-points-zq"  # a layer id that must never appear in a scrape
LON, LAT = 27.55, 53.9
ITEMS = "/collections/<collection_id>/items"
TILE = "/collections/<collection_id>/tiles/<tms_id>/<z>/<y>/<x>"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


portal = empty_portal("metrics", GEOPORTAL_RATE_LIMIT_PER_MINUTE="5")  # scrapes never meet it
token = admin_token()


def _points(n: int) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": f"p{i}"},
         "geometry": {"type": "Point", "coordinates": [LON + i * 1e-3, LAT]}}
        for i in range(n)]}).encode()


@pytest.fixture(scope="module")
def upload(portal: Portal, token: str) -> int:
    """The layer, published through the admin upload route; the bytes sent."""
    manifest = json.dumps({"id": LAYER, "region": "5000000000",
                           "theme": "urban-infrastructure", "title": {"en": "points"},
                           "source": {"path": "points.geojson"}})
    content = _points(20)
    response = requests.post(f"{portal.url}/admin/layers", timeout=60,
                             headers={"Authorization": f"Bearer {token}"},
                             data={"manifest": manifest},
                             files={"file": ("points.geojson", content)})
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = requests.get(f"{portal.url}/admin/jobs/{job_id}", timeout=30,
                           headers={"Authorization": f"Bearer {token}"}).json()
        if job["state"] not in ("queued", "running"):
            assert job["state"] == "done", job
            return int(response.request.headers["Content-Length"])
        time.sleep(0.3)
    raise AssertionError("the upload's job did not finish")


def scrape_text(portal: Portal) -> str:
    response = requests.get(f"{portal.url}/metrics", timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    return response.text


def scrape(portal: Portal) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(scrape_text(portal))
            for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample with exactly these labels (0 when absent)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every sample of ``name`` having these labels (and any others)."""
    wanted = set(labels.items())
    return sum(v for (n, pairs), v in samples.items() if n == name and wanted <= pairs)


def settled(portal: Portal, check: Callable[[Samples], bool], timeout: float = 15
            ) -> Samples:
    """A scrape for which ``check`` holds: a worker records a request when the server
    closes its body, a moment after the client has it."""
    deadline = time.monotonic() + timeout
    while True:
        samples = scrape(portal)
        if check(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.2)


def test_real_requests_are_counted_over_both_workers(portal: Portal, token: str,
                                                     upload: int) -> None:
    before = scrape(portal)
    items = f"{portal.url}/collections/{LAYER}/items"
    first = requests.get(items, params={"limit": 2, "f": "json", "name": "hunter2"},
                         timeout=30)
    assert first.status_code == 200, first.text
    for _ in range(2):
        assert requests.get(items, params={"limit": 2, "f": "json"},
                            timeout=30).status_code == 200
    again = requests.get(items, params={"limit": 2, "f": "json", "name": "hunter2"},
                         headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert again.status_code == 304
    tile = morecantile.tms.get("WebMercatorQuad").tile(LON, LAT, 12)
    tile_url = f"{portal.url}/collections/{LAYER}/tiles/WebMercatorQuad/12/{tile.y}/{tile.x}"
    tiles = 6
    for _ in range(tiles):
        assert requests.get(tile_url, timeout=30).status_code == 200
    assert requests.get(f"{portal.url}/collections/no-such-layer/items",
                        timeout=30).status_code == 404
    assert requests.get(f"{portal.url}/no/such/page", timeout=30).status_code == 404

    def delta(after: Samples, name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    def items_ok(after: Samples) -> float:
        return delta(after, "geoportal_requests_total", route=ITEMS, method="GET",
                     status="200")

    expected_tiles = {"route": TILE, "method": "GET", "status": "200"}
    after = settled(portal, lambda s: items_ok(s) >= 3 and delta(
        s, "geoportal_requests_total", **expected_tiles) >= tiles and delta(
        s, "geoportal_requests_total", route="(unmatched)", method="GET", status="404") >= 1)
    assert items_ok(after) == 3
    assert delta(after, "geoportal_requests_total", route=ITEMS, method="GET",
                 status="304") == 1
    assert delta(after, "geoportal_requests_total", route=ITEMS, method="GET",
                 status="404") == 1
    assert delta(after, "geoportal_requests_total", **expected_tiles) == tiles
    assert delta(after, "geoportal_request_duration_seconds_count", **expected_tiles) == tiles
    assert delta(after, "geoportal_requests_total", route="(unmatched)", method="GET",
                 status="404") == 1
    assert delta(after, "geoportal_response_bytes_total", route=ITEMS) >= len(first.content)
    # the tile cache: every worker draws the tile once at most, then serves it from memory
    hits = delta(after, "geoportal_tile_cache_lookups_total", result="hit")
    misses = delta(after, "geoportal_tile_cache_lookups_total", result="miss")
    assert hits + misses == tiles and 1 <= misses <= 2
    store = "postgis" if portal.backend == "postgis" else "geopackage"
    assert delta(after, "geoportal_store_query_duration_seconds_count", store=store,
                 operation="tile") == misses
    assert delta(after, "geoportal_store_query_duration_seconds_count", store=store,
                 operation="query") >= 3
    assert delta(after, "geoportal_revalidations_total", result="not_modified") == 1
    # summed over the workers: any worker answering the scrape gives the same totals
    for _ in range(6):
        assert items_ok(scrape(portal)) == 3
    # the upload, its job, the catalog, the pools
    assert value(after, "geoportal_upload_bytes_total", outcome="accepted") >= upload
    assert value(after, "geoportal_jobs", state="done") == 1
    assert value(after, "geoportal_jobs", state="failed") == 0
    assert value(after, "geoportal_jobs_oldest_queued_seconds") == 0
    assert value(after, "geoportal_catalog_generation") >= 1
    assert value(after, "geoportal_catalog_refresh_seconds_count") >= 1  # the publish
    assert value(after, "geoportal_tile_cache_bytes") > 0
    pooled = total(after, "geoportal_db_pool_size", pool="primary")
    assert pooled >= 1 if portal.backend == "postgis" else pooled == 0


def test_a_finished_job_shows_in_the_duration_histogram(portal: Portal, upload: int) -> None:
    samples = scrape(portal)
    name = "geoportal_job_duration_seconds"
    # the module's one upload, done; read from the jobs table by whichever worker answers
    assert value(samples, f"{name}_count", state="done") == 1
    assert value(samples, f"{name}_bucket", state="done", le="+Inf") == 1
    assert value(samples, f"{name}_bucket", state="done", le="3600.0") == 1
    assert 0 <= value(samples, f"{name}_sum", state="done") < 120  # the fixture's deadline
    buckets = [value(samples, f"{name}_bucket", state="done", le=le)
               for le in ("1.0", "5.0", "15.0", "60.0", "300.0", "900.0", "3600.0", "+Inf")]
    assert buckets == sorted(buckets)  # cumulative
    for state in ("rejected", "failed"):  # every final state has its series, 0 included
        assert (name + "_count", frozenset({("state", state)})) in samples
        assert value(samples, f"{name}_count", state=state) == 0


def test_a_collection_document_asked_again_is_a_cache_hit(portal: Portal,
                                                          upload: int) -> None:
    before = scrape(portal)
    url = f"{portal.url}/collections/{LAYER}"
    asked = 6  # over both workers: each generates the description once at most
    for _ in range(asked):
        response = requests.get(url, params={"f": "json"}, timeout=30)
        assert response.status_code == 200 and response.json()["id"] == LAYER

    def delta(after: Samples, result: str) -> float:
        name = "geoportal_collection_cache_lookups_total"
        return value(after, name, result=result) - value(before, name, result=result)

    after = settled(portal, lambda s: delta(s, "hit") + delta(s, "miss") >= asked)
    assert delta(after, "hit") + delta(after, "miss") == asked
    assert delta(after, "miss") <= 2 and delta(after, "hit") >= asked - 2


def test_the_scrape_holds_no_token_query_or_layer_id(portal: Portal, token: str,
                                                     upload: int) -> None:
    requests.get(f"{portal.url}/collections/{LAYER}/items", params={"name": "hunter2"},
                 headers={"Authorization": f"Bearer {token}"}, timeout=30)
    text = scrape_text(portal)
    assert token not in text and token.split(".")[0] not in text
    assert "hunter2" not in text and LAYER not in text
    assert "Bearer" not in text


def test_scrapes_are_not_rate_limited_nor_logged_at_info(portal: Portal) -> None:
    marker = f"scrape{time.monotonic_ns()}"
    for _ in range(12):  # more than the module's 5 heavy requests a minute
        response = requests.get(f"{portal.url}/metrics", headers={"X-Request-Id": marker},
                                timeout=30)
        assert response.status_code == 200
    lines = marked_log_lines(portal, marker)
    assert any(f"request_id={marker}c " in line for line in lines)
    assert not any(f"request_id={marker} " in line for line in lines)


@pytest.fixture(scope="module")
def without_metrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    server = Portal(tmp_path_factory.mktemp("metrics-off") / "var")
    server.env["GEOPORTAL_METRICS"] = "0"
    server.cli("init")
    server.start()
    yield server
    server.stop()


def test_metrics_off_is_a_404(without_metrics: Portal) -> None:
    response = requests.get(f"{without_metrics.url}/metrics", timeout=30)
    assert response.status_code == 404
    assert requests.get(f"{without_metrics.url}/conformance", timeout=30).status_code == 200
