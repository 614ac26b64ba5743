"""No single request stalls the portal (issue 15): while clients keep sending the heaviest
filters an anonymous visitor may send (a LIKE with twelve ``%``, ``S_DWITHIN`` at the largest
distance allowed, a filter nested to the limit), each answers within the query budget and
ordinary requests keep a p95 under 100 ms (more exactly: the heavy neighbours add less than
100 ms to it, since the test suite runs beside other tests on the same cores). A real
``geoportal serve`` with its default worker, threads, heavy-request gate and budgets, on both
stores, over 200,000 generated points."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests

from geoportal.storage import cql
from tests.conftest import BACKENDS, LAYERS_DIR, Portal
from tests.integration.test_budgets import _points

BUDGET_S = 5.0  # the default query_budget_ms
HEAVY_CLIENTS = 3
ORDINARY = 40  # requests; p95 is the 38th slowest


def _ordinary_times(portal: Portal) -> list[float]:
    """Seconds each of ORDINARY bbox pages took, one after another, sorted."""
    session = requests.Session()
    session.get(f"{portal.url}/collections/cities/items", timeout=30)  # connect
    times = []
    for k in range(ORDINARY):
        west = 23.5 + 0.2 * (k % 40)
        started = time.perf_counter()
        r = session.get(f"{portal.url}/collections/cities/items", timeout=30, params={
            "bbox": f"{west},51.5,{west + 2},56", "limit": 10, "f": "json"})
        times.append(time.perf_counter() - started)
        assert r.status_code == 200, r.text
        time.sleep(0.025)
    return sorted(times)


def _p95(times: list[float]) -> float:
    return times[int(0.95 * len(times)) - 1]


@pytest.fixture(scope="module", params=BACKENDS)
def portal(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
           ) -> Iterator[Portal]:
    folder = tmp_path_factory.mktemp("noisy")
    database_url = None
    if request.param == "postgis":
        database_url = request.getfixturevalue("postgres").new_database()
    server = Portal(folder / "var", database_url)
    server.cli("init")
    server.cli("ingest", str(LAYERS_DIR / "by" / "cities.yaml"))
    server.cli("ingest", str(_points(folder / "lamps.gpkg")), "--id", "lamps")
    server.start()
    yield server
    server.stop()


def _heavy_filters() -> list[str]:
    """The heaviest legal filters: each is accepted (not a 400) and reads many rows."""
    nots = "NOT " * (cql.MAX_DEPTH - 4)  # an even number: the filter still matches
    return [
        "name LIKE '" + "%" * 12 + "z'",
        f"S_DWITHIN(geometry, POINT(27.56 53.9), {cql.MAX_DWITHIN_M}, meters)",
        f"{nots}(name LIKE '%7%')",
    ]


def test_heavy_filters_answer_within_the_budget_while_ordinary_requests_stay_fast(
        portal: Portal):
    filters = _heavy_filters()
    for text in filters:  # each is legal on its own
        r = requests.get(f"{portal.url}/collections/lamps/items",
                         params={"filter": text, "limit": 1000, "f": "json"}, timeout=60)
        assert r.status_code in (200, 503), (text, r.status_code, r.text[:300])

    alone = _p95(_ordinary_times(portal))
    stop = threading.Event()
    heavy: list[tuple[str, int, float]] = []

    def hammer(offset: int) -> None:
        session = requests.Session()
        # three visitors, each its own address (the portal trusts the proxy on 127.0.0.1): one
        # address's share of heavy requests is test_rate_limits' subject, not this test's
        session.headers["X-Forwarded-For"] = f"198.51.100.{60 + offset}"
        i = offset
        while not stop.is_set():
            text = filters[i % len(filters)]
            i += 1
            started = time.perf_counter()
            r = session.get(f"{portal.url}/collections/lamps/items",
                            params={"filter": text, "limit": 1000, "f": "json"}, timeout=60)
            heavy.append((text, r.status_code, time.perf_counter() - started))

    threads = [threading.Thread(target=hammer, args=(k,), daemon=True)
               for k in range(HEAVY_CLIENTS)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)  # the heavy requests are running
        times = _ordinary_times(portal)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=2 * BUDGET_S + 30)
    p95 = _p95(times)
    assert p95 < alone + 0.100, (f"ordinary p95 {p95 * 1000:.0f} ms with the heavy requests, "
                                 f"{alone * 1000:.0f} ms alone; all: "
                                 f"{[round(t, 3) for t in times]}")
    assert heavy, "no heavy request finished"
    for text, status, elapsed in heavy:
        assert status in (200, 503), (text, status)
        # over budget a query is stopped (503); waiting for the gate adds at most 2 s
        assert elapsed < BUDGET_S + 3, (text, status, elapsed)
