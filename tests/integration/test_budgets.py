"""Time budgets and filter limits through a real server (gunicorn) on both stores: the requests
that stalled a worker or ended in a 500 (issue 15) now answer quickly with a sentence.

Each store gets one portal whose query budget is the smallest allowed (100 ms), serving the
Minsk stops sample, the cities sample, a layer with a date field, a generated layer of
200,000 points on which a legal but heavy filter runs past the budget and one of 200 polygons
of 20,000 vertices (a page of more than 50 of them is past the vertex cap)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import requests
import shapely

from tests.conftest import BACKENDS, LAYERS_DIR, Portal, write_geojson

BUDGET_MS = 100
POINTS = 200_000
# The generated points fill this box; a ring of RING_VERTICES vertices runs just outside it.
BOX = (24.0, 52.0, 31.0, 55.5)
RING_VERTICES = 200
# The generated polygons: DETAILED of them, DETAILED_VERTICES vertices each.
DETAILED, DETAILED_VERTICES = 200, 20_000


@pytest.fixture(scope="module", params=BACKENDS)
def portal(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
           ) -> Iterator[Portal]:
    folder = tmp_path_factory.mktemp("budgets")
    database_url = None
    if request.param == "postgis":
        database_url = request.getfixturevalue("postgres").new_database()
    server = Portal(folder / "var", database_url)
    server.env["GEOPORTAL_QUERY_BUDGET_MS"] = str(BUDGET_MS)
    server.cli("init")
    server.cli("ingest", str(LAYERS_DIR / "minsk" / "stops.yaml"),
               str(LAYERS_DIR / "by" / "cities.yaml"))
    server.cli("ingest", str(_points(folder / "lamps.gpkg")), "--id", "lamps")
    server.cli("ingest", str(_polygons(folder / "ponds.gpkg")), "--id", "ponds")
    server.cli("ingest", str(write_geojson(folder / "schools.geojson", [
        ({"name": "Школа № 1", "opened": "1995-09-01"}, shapely.Point(27.55, 53.9)),
        ({"name": "Гімназія № 2", "opened": "2004-09-01"}, shapely.Point(27.6, 53.91)),
    ])), "--id", "schools")
    server.start()
    yield server
    server.stop()


def _points(path: Path) -> Path:
    """POINTS points spread over BOX in a random order, written with GDAL."""
    rng = np.random.default_rng(15)
    x = rng.uniform(BOX[0], BOX[2], POINTS)
    y = rng.uniform(BOX[1], BOX[3], POINTS)
    table = pa.table({"name": pa.array([f"lamp {i}" for i in range(POINTS)]),
                      "geometry": pa.array(shapely.to_wkb(shapely.points(x, y)))})
    pyogrio.write_arrow(table, path, layer="lamps", driver="GPKG", geometry_name="geometry",
                        geometry_type="Point", crs="EPSG:4326")
    return path


def _polygons(path: Path) -> Path:
    """DETAILED round polygons of DETAILED_VERTICES vertices in a row east of Minsk."""
    angles = np.linspace(0, 2 * np.pi, DETAILED_VERTICES)
    rings = [shapely.Polygon(np.column_stack([27.6 + i * 0.01 + 0.004 * np.cos(angles),
                                              53.9 + 0.004 * np.sin(angles)]))
             for i in range(DETAILED)]
    table = pa.table({"name": pa.array([f"pond {i}" for i in range(DETAILED)]),
                      "geometry": pa.array(shapely.to_wkb(rings))})
    pyogrio.write_arrow(table, path, layer="ponds", driver="GPKG", geometry_name="geometry",
                        geometry_type="Polygon", crs="EPSG:4326")
    return path


def _get(portal: Portal, path: str, **params: object) -> requests.Response:
    return requests.get(f"{portal.url}{path}", params={"f": "json", **params}, timeout=60)


def _within_budget(send: Callable[[], requests.Response]) -> requests.Response:
    """``send()``'s answer, sent again (at most three times in all) while the 100 ms budget
    cut it: on a machine busy with other work a light query can pass 100 ms now and then,
    while what these tests guard against (a LIKE that backtracks exponentially, a batch that
    holds the whole layer) would be cut every time."""
    for _ in range(2):
        try:
            answer = send()
            if not (answer.status_code == 503 and "took longer" in answer.text):
                return answer
        except requests.exceptions.ChunkedEncodingError:  # a stream cut by the budget
            pass
    return send()


def _features(portal: Portal, path: str, **params: object) -> list[dict]:
    """Every feature a request selects, page after page (1,000 is the page-size cap)."""
    out: list[dict] = []
    while True:
        r = _get(portal, path, limit=1000, offset=len(out), **params)
        assert r.status_code == 200, r.text
        out += r.json()["features"]
        if r.json()["numberReturned"] < 1000:
            return out


def _like(value: str, pattern: str) -> bool:
    """CQL2 LIKE by dynamic programming over the pattern (no escapes in these patterns)."""
    reach = [True] + [False] * len(value)  # reach[i]: the pattern so far can end at i
    for p in pattern:
        if p == "%":
            for i in range(1, len(reach)):
                reach[i] = reach[i] or reach[i - 1]
        else:
            reach = [False] + [reach[i] and (p == "_" or value[i] == p)
                               for i in range(len(value))]
    return reach[-1]


@pytest.mark.parametrize("pattern", ["%" * 12 + "z", "%" * 12 + "а%%%%%%к%", "%%_%%_%%_%%_%%а"])
def test_like_with_many_percent_signs_answers_within_a_second(portal: Portal, pattern: str):
    whole = _features(portal, "/collections/minsk-stops/items")
    expected = sorted(f["id"] for f in whole if f["properties"]["name"] is not None
                      and _like(f["properties"]["name"], pattern))
    r = _within_budget(lambda: _get(portal, "/collections/minsk-stops/items",
                                    filter=f"name LIKE '{pattern}'", limit=1000))
    assert r.status_code == 200, r.text
    assert sorted(f["id"] for f in r.json()["features"]) == expected[:1000]
    assert r.json()["numberMatched"] == len(expected)
    # a 200 under this portal's 100 ms query budget: the match ran within it
    assert len(whole) > 1000  # every stop was read (more than one page)


def test_not_fifty_times_is_refused_naming_the_limit(portal: Portal):
    r = _get(portal, "/collections/cities/items", filter="NOT " * 50 + "name_ru = 'x'")
    assert r.status_code == 400, r.text
    assert "more than 20 levels" in r.json()["description"]


def test_not_fifty_times_in_cql2_json_is_refused(portal: Portal):
    node: dict = {"op": "=", "args": [{"property": "name_ru"}, "x"]}
    for _ in range(50):
        node = {"op": "not", "args": [node]}
    r = _get(portal, "/collections/cities/items", filter=json.dumps(node),
             **{"filter-lang": "cql2-json"})
    assert r.status_code == 400, r.text
    assert "more than 20 levels" in r.json()["description"]


def test_dwithin_over_a_hundred_kilometres_is_refused(portal: Portal):
    r = _get(portal, "/collections/cities/items",
             filter="S_DWITHIN(geometry, POINT(27.56 53.9), 100000000, meters)")
    assert r.status_code == 400, r.text
    assert "100 km" in r.json()["description"]
    near = _get(portal, "/collections/cities/items",
                filter="S_DWITHIN(geometry, POINT(27.56 53.9), 100, kilometers)", limit=1000)
    assert near.status_code == 200 and near.json()["numberReturned"] > 0


def test_a_query_over_the_budget_is_a_503_with_retry_after_and_a_sentence(portal: Portal):
    """Every point lies inside the ring's box but none within 1 km of it: the filter reads
    all 200,000 points, far past 100 ms on either store."""
    minx, miny, maxx, maxy = BOX[0] - 0.2, BOX[1] - 0.2, BOX[2] + 0.2, BOX[3] + 0.2
    ring = shapely.segmentize(shapely.LineString(shapely.box(minx, miny, maxx, maxy).exterior),
                              (2 * (maxx - minx) + 2 * (maxy - miny)) / RING_VERTICES)
    wkt = shapely.to_wkt(ring, rounding_precision=3)
    r = _get(portal, "/collections/lamps/items",
             filter=f"S_DWITHIN(geometry, {wkt}, 1000, meters)", limit=10)
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"].isdigit()
    assert "the query took longer than 0.1 s" in r.json()["description"]
    assert "narrow it" in r.json()["description"]
    # the worker is free again: an ordinary request right after is answered
    assert _get(portal, "/collections/lamps/items", limit=1).status_code == 200


def test_a_feature_id_past_64_bits_is_not_found(portal: Portal):
    r = _get(portal, "/collections/cities/items/9223372036854775808")
    assert r.status_code == 404, r.text
    assert "not found" in r.json()["description"]


def test_a_bbox_of_nan_is_refused(portal: Portal):
    r = _get(portal, "/collections/cities/items", bbox="nan,nan,nan,nan")
    assert r.status_code == 400, r.text
    assert "finite" in r.json()["description"]


@pytest.mark.parametrize("value", ["", "yesterday", "2024-13-01"])
def test_a_property_filter_on_a_date_field_needs_a_date(portal: Portal, value: str):
    r = _get(portal, "/collections/schools/items", opened=value)
    assert r.status_code == 400, r.text
    assert "opened" in r.json()["description"] and "2024-05-01" in r.json()["description"]


def test_a_property_filter_on_a_date_field_finds_the_day(portal: Portal):
    fields = _get(portal, "/collections/schools/queryables").json()["properties"]
    assert fields["opened"].get("format") == "date"
    r = _get(portal, "/collections/schools/items", opened="2004-09-01")
    assert r.status_code == 200, r.text
    assert [f["properties"]["name"] for f in r.json()["features"]] == ["Гімназія № 2"]


def test_a_nul_in_a_property_filter_is_refused(portal: Portal):
    r = _get(portal, "/collections/cities/items", name_ru="\x00abc")
    assert r.status_code == 400, r.text
    assert "NUL" in r.json()["description"]


def test_a_nul_in_a_cql2_string_is_refused(portal: Portal):
    for text in ["name_ru = '\x00abc'", "name_ru LIKE '%\x00%'", "name_ru IN ('a', '\x00')"]:
        r = _get(portal, "/collections/cities/items", filter=text)
        assert r.status_code == 400, (text, r.text)
        assert "NUL" in r.json()["description"]


def test_a_page_over_the_vertex_cap_is_a_400_asking_for_a_smaller_limit(portal: Portal):
    """100 polygons of 20,000 vertices are 2,000,000 vertices, past the cap of 1,000,000 one
    page may carry (decoding and writing GeoJSON cannot be interrupted): a 400 suggesting a
    limit that fits, which is then answered."""
    import re

    r = _get(portal, "/collections/ponds/items", limit=100)
    assert r.status_code == 400, r.text
    description = r.json()["description"]
    assert "limit=100: the features of this page hold more than 1000000 vertices" in description
    suggested = int(re.search(r"such as limit=(\d+)", description).group(1))
    assert 40 <= suggested < 50, description
    # a smaller page is answered (not the suggested one itself: reading 15 MB of polygons takes
    # PostGIS about 110 ms here, past this portal's 100 ms query budget)
    fitting = _get(portal, "/collections/ponds/items", limit=10)
    assert fitting.status_code == 200, fitting.text
    features = fitting.json()["features"]
    assert len(features) == 10
    geometry = features[0]["geometry"]
    assert geometry["type"] == "Polygon"  # single polygons stay single (issue 16)
    assert len(geometry["coordinates"][0]) == DETAILED_VERTICES
    # one feature at a time always works, and the feature itself is served whole
    assert _get(portal, "/collections/ponds/items/200").status_code == 200


def test_a_download_of_huge_geometries_is_read_in_batches_that_fit(portal: Portal):
    """4,000,000 vertices in 200 features: the download reads fewer rows at a time (each
    batch under the page's vertex cap) and still sends every feature whole."""
    r = _within_budget(lambda: requests.get(f"{portal.url}/collections/ponds/download",
                                            params={"f": "geojson"}, timeout=120))
    assert r.status_code == 200, r.text[:300]
    features = r.json()["features"]
    assert len(features) == 200
    assert all(f["geometry"]["type"] == "Polygon" for f in features)
    assert all(len(f["geometry"]["coordinates"][0]) > 19_000 for f in features[:3])
