"""The log an operator reads (issue 18), through a real server: one access line per request
with its duration, size, client, user agent, route template, collection and cache status;
``GEOPORTAL_LOG_FORMAT=json`` writes one JSON object per line; requests and PostGIS
statements over ``GEOPORTAL_SLOW_REQUEST_MS`` are logged at WARNING, a statement with its SQL
but never its values, and PostgreSQL's ``application_name`` names the request."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import requests
import shapely

from tests.conftest import BACKENDS, Portal, write_geojson, write_manifest

pytestmark = pytest.mark.integration

LAYER = "logged-points"
AGENT = 'QGIS/32200 "field survey" a\\b'  # quotes and a backslash: quoted, one field


def _start(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest,
           label: str, **env: str) -> Iterator[Portal]:
    database_url = None
    if request.param == "postgis":
        database_url = request.getfixturevalue("postgres").new_database()
    folder = tmp_path_factory.mktemp(label)
    server = Portal(folder / "var", database_url)
    server.env.update(env)
    server.cli("init")
    source = write_geojson(folder / "points.geojson", [
        ({"name": f"p{i}"}, shapely.Point(27.5 + i * 1e-3, 53.9)) for i in range(30)])
    server.cli("ingest", str(write_manifest(folder, LAYER, {"path": str(source)})))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def text_portal(tmp_path_factory, request) -> Iterator[Portal]:
    yield from _start(tmp_path_factory, request, "textlog")


@pytest.fixture(scope="module", params=BACKENDS)
def json_portal(tmp_path_factory, request) -> Iterator[Portal]:
    # every request and statement over 0 ms... 1 ms is "slow": all of them are logged as such
    yield from _start(tmp_path_factory, request, "jsonlog", GEOPORTAL_LOG_FORMAT="json",
                      GEOPORTAL_SLOW_REQUEST_MS="1")


def _get(portal: Portal, path: str, request_id: str, **params: str) -> requests.Response:
    return requests.get(f"{portal.url}{path}", params=params, timeout=30,
                        headers={"X-Request-Id": request_id, "User-Agent": AGENT})


def _lines(portal: Portal, request_id: str, *, count: int = 1) -> list[str]:
    """The log file's lines naming ``request_id``, once ``count`` of them are written."""
    log = portal.data_dir / "logs" / "geoportal.log"
    deadline = time.monotonic() + 10
    while True:
        found = [line for line in log.read_text(encoding="utf-8").splitlines()
                 if request_id in line]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_a_request_line_says_what_an_operator_needs(text_portal: Portal) -> None:
    rid = f"acc{uuid.uuid4().hex[:10]}"
    response = _get(text_portal, f"/collections/{LAYER}/items", rid, f="json", limit="5")
    assert response.status_code == 200
    [line] = _lines(text_portal, rid)
    assert "level=INFO" in line and f"request_id={rid} method=GET " in line
    assert f"path=/collections/{LAYER}/items?f=json&limit=5 status=200 " in line
    duration = float(line.split("duration_ms=")[1].split()[0])
    assert duration > 0
    assert f" bytes={len(response.content)} " in line  # what was sent (compressed or not)
    assert " client=127.0.0.1 " in line
    assert ' agent="QGIS/32200 \\"field survey\\" a\\\\b" ' in line  # quoted, escaped
    assert " route=/collections/<collection_id>/items " in line
    assert f" collection={LAYER} " in line and line.endswith(" cache=-")


def test_tile_lines_say_whether_the_cache_answered(text_portal: Portal) -> None:
    path = f"/collections/{LAYER}/tiles/WebMercatorQuad/14/9443/5283"
    first, second = f"t1{uuid.uuid4().hex[:10]}", f"t2{uuid.uuid4().hex[:10]}"
    assert _get(text_portal, path, first).status_code in (200, 204)
    assert _get(text_portal, path, second).status_code in (200, 204)
    [miss], [hit] = _lines(text_portal, first), _lines(text_portal, second)
    # two workers: the second request may reach the other one, whose cache is empty
    assert miss.endswith(" cache=miss") and hit.endswith((" cache=hit", " cache=miss"))
    assert " route=/collections/<collection_id>/tiles/" in miss


def test_json_lines_and_slow_requests_and_statements(json_portal: Portal) -> None:
    rid = f"js{uuid.uuid4().hex[:10]}"
    bbox = "27.4987654,53.8912345,27.5212345,53.9187654"
    response = _get(json_portal, f"/collections/{LAYER}/items", rid, f="json", bbox=bbox)
    assert response.status_code == 200
    lines = _lines(json_portal, rid, count=2 if json_portal.backend == "postgis" else 1)
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    [access] = [r for r in records if r.get("route")]
    assert access["request_id"] == rid and access["status"] == 200
    assert access["level"] == "WARNING" and access["slow"] is True  # over 1 ms
    assert access["collection"] == LAYER and access["client"] == "127.0.0.1"
    assert access["agent"] == AGENT and access["bytes"] == len(response.content)
    assert access["duration_ms"] > 1 and access["time"].endswith("+00:00")
    statements = [r for r in records if r["message"].startswith("slow statement")]
    if json_portal.backend == "postgis":
        assert statements, records
        for record in statements:
            assert f"request_id={rid}" in record["message"]
            assert "ST_MakeEnvelope" in record["message"] or "count" in record["message"]
            # the SQL's shape, not the user's values
            assert "27.4987654" not in record["message"] and "%s" in record["message"]
    else:
        assert not statements  # only PostGIS statements are timed


def test_postgresql_sees_the_request_id_as_application_name(json_portal: Portal) -> None:
    if json_portal.backend != "postgis":
        pytest.skip("application_name is PostgreSQL's")
    rid = f"app{uuid.uuid4().hex[:10]}"
    answer: list[requests.Response] = []
    seen = None
    url = json_portal.env["GEOPORTAL_DATABASE_URL"]
    # pg_stat_activity is read from another connection: within one transaction it is a
    # snapshot taken at its first reading
    with psycopg.connect(url, autocommit=True) as conn, \
            psycopg.connect(url, autocommit=True) as watcher:
        ref = conn.execute("SELECT store_ref FROM versions WHERE layer_id = %s AND "
                           "status = 'current'", (LAYER,)).fetchone()[0]
        # the request's statement waits for the lock: PostgreSQL shows who it is meanwhile
        with conn.transaction():
            conn.execute(f"LOCK TABLE {ref} IN ACCESS EXCLUSIVE MODE")
            thread = threading.Thread(target=lambda: answer.append(_get(
                json_portal, f"/collections/{LAYER}/items", rid, f="json", limit="3")))
            thread.start()
            deadline = time.monotonic() + 10
            while seen is None and time.monotonic() < deadline:
                seen = watcher.execute("SELECT application_name FROM pg_stat_activity "
                                       "WHERE application_name LIKE %s",
                                       (f"%{rid}",)).fetchone()
                time.sleep(0.05)
        thread.join(timeout=30)
    assert seen is not None and seen[0] == f"geoportal {rid}"
    assert answer and answer[0].status_code in (200, 503)  # a lock timeout is a 503
