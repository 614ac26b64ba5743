"""An estimated numberMatched over HTTP: flagged in the body, a header and the HTML page, on a
real server (gunicorn) whose count budget is set so low that a filtered count always runs out."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import requests
import shapely

from tests.conftest import BACKENDS, Portal, write_geojson

N = 40_000


@pytest.fixture(scope="module", params=BACKENDS)
def portal(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
           ) -> Iterator[Portal]:
    folder = tmp_path_factory.mktemp("counts")
    database_url = None
    if request.param == "postgis":
        database_url = request.getfixturevalue("postgres").new_database()
    server = Portal(folder / "var", database_url)
    server.env["GEOPORTAL_COUNT_BUDGET_MS"] = "1"
    i = np.arange(N)
    points = shapely.points(26.0 + (i % 200) * 0.015, 53.0 + (i // 200) * 0.005)
    source = write_geojson(folder / "lamps.geojson", [
        ({"kind": "led" if k % 4 == 0 else "sodium", "power": k % 250}, points[k])
        for k in range(N)])
    server.cli("init")
    server.cli("ingest", str(source), "--id", "lamps", "--theme", "urban-infrastructure")
    server.start()
    yield server
    server.stop()


def test_filtered_count_over_budget_is_estimated_and_said(portal: Portal):
    url = f"{portal.url}/collections/lamps/items"
    r = requests.get(url, params={"filter": "kind = 'led' AND power > 3", "limit": 5,
                                  "f": "json"}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    truth = sum(1 for k in range(N) if k % 4 == 0 and k % 250 > 3)
    assert body["numberMatchedEstimated"] is True
    assert r.headers["Geoportal-Number-Matched"] == "estimated"
    assert abs(body["numberMatched"] - truth) <= 0.25 * truth, (body["numberMatched"], truth)
    assert body["numberReturned"] == 5
    html = requests.get(url, params={"filter": "kind = 'led' AND power > 3", "limit": 5,
                                     "f": "html"}, timeout=30).text
    assert f"about {body['numberMatched']} (estimated)" in html


def test_unfiltered_and_short_pages_are_exact(portal: Portal):
    url = f"{portal.url}/collections/lamps/items"
    whole = requests.get(url, params={"limit": 1, "f": "json"}, timeout=30)
    assert whole.json()["numberMatched"] == N
    assert "numberMatchedEstimated" not in whole.json()
    assert "Geoportal-Number-Matched" not in whole.headers
    last = requests.get(url, params={"filter": "power = 249", "limit": 1000, "f": "json"},
                        timeout=30).json()
    assert last["numberMatched"] == last["numberReturned"] == N // 250
    assert "numberMatchedEstimated" not in last
