"""Reads on a streaming replica (issue 17): ``GEOPORTAL_DATABASE_READ_URL`` serves the
anonymous reads (collections, items, tiles), a request with a token reads the primary (its own
writes at once, however far the replica lags), and a web node starts and serves reads with
the primary read-only (it writes nothing at start-up). The module runs its own primary and
replica (``pg_basebackup -R -X stream``)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests
import shapely

from tests.conftest import Portal, free_port, write_geojson, write_manifest
from tests.pg import LocalPostgres, require_pg_bin

LAYER = "replica-points"
TILE = f"/collections/{LAYER}/tiles/WebMercatorQuad/10/330/590"


@pytest.fixture(scope="module")
def clusters() -> Iterator[tuple[LocalPostgres, LocalPostgres]]:
    """A primary and its hot standby, this module's own."""
    bin_dir = require_pg_bin()
    root = Path(tempfile.mkdtemp(prefix="geoportal-pgreplica-"))
    if os.geteuid() == 0:  # the servers run as postgres, under this folder
        shutil.chown(root, "postgres", "postgres")
    primary = LocalPostgres(root / "primary", free_port(), bin_dir)
    standby = None
    try:
        primary.start()
        standby = primary.replica(root / "standby", free_port())
        yield primary, standby
    finally:
        if standby is not None:
            standby.stop()
        primary.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def portal(clusters, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    primary, standby = clusters
    folder = tmp_path_factory.mktemp("replica")
    url = primary.new_database()
    server = Portal(folder / "var", url)
    server.env["GEOPORTAL_DATABASE_READ_URL"] = standby.url(url.rsplit("/", 1)[1])
    server.env["GEOPORTAL_WORKERS"] = "1"
    server.cli("init")
    source = write_geojson(folder / "points.geojson", [
        ({"name": f"p{i}"}, shapely.Point(27.55 + i * 1e-3, 53.9)) for i in range(20)])
    server.cli("ingest", str(write_manifest(folder, LAYER, {"path": str(source)},
                                            region="5000000000")))
    _caught_up(server)
    server.start()
    yield server
    server.stop()


def _replica(portal: Portal) -> psycopg.Connection:
    return psycopg.connect(portal.env["GEOPORTAL_DATABASE_READ_URL"], autocommit=True)


def _caught_up(portal: Portal, timeout: float = 30) -> None:
    """Wait until the replica has what the primary committed so far."""
    with psycopg.connect(portal.env["GEOPORTAL_DATABASE_URL"], autocommit=True) as conn:
        lsn = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + timeout
    with _replica(portal) as conn:
        while not conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                               (lsn,)).fetchone()[0]:
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.1)


def _scans(conn: psycopg.Connection) -> dict[str, int]:
    """Scans this server made of the layer's table and of the catalog's, by table."""
    ref = conn.execute("SELECT store_ref FROM versions WHERE layer_id = %s AND "
                       "status = 'current'", (LAYER,)).fetchone()[0]
    rows = conn.execute(
        "SELECT relname, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM "
        "pg_stat_user_tables WHERE relname IN (%s, 'catalog_state')",
        (ref.partition(".")[2],)).fetchall()
    return {("catalog" if name == "catalog_state" else "layer"): n for name, n in rows}


def test_anonymous_reads_are_served_by_the_replica(portal):
    with _replica(portal) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]
        before = _scans(conn)
    time.sleep(1.1)  # past the catalog's poll interval: the generation is asked again
    for path in ("/collections?f=json", f"/collections/{LAYER}?f=json",
                 f"/collections/{LAYER}/items?limit=5&bbox=27.5,53.8,27.7,54", TILE):
        r = requests.get(portal.url + path, timeout=30)
        assert r.status_code in (200, 204), (path, r.status_code, r.text[:200])
    with _replica(portal) as conn:
        clients = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'").fetchone()[0]
        deadline = time.monotonic() + 30  # a backend reports its counts within 10 s of idling
        while True:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            after = _scans(conn)
            if all(after.get(k, 0) > before.get(k, 0) for k in ("layer", "catalog")) \
                    or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    assert clients >= 2  # the catalog's engine and the store's pool
    assert after["layer"] > before.get("layer", 0)  # items and tile read on the replica
    assert after["catalog"] > before.get("catalog", 0)  # and the catalog's generation


def test_a_token_reads_its_own_write_while_the_replica_lags(portal):
    token = portal.cli("token", "create", "--name", "national", "--role", "admin"
                       ).stdout.strip()
    _caught_up(portal)
    with _replica(portal) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
        try:
            created = requests.post(
                f"{portal.url}/collections/{LAYER}/items", timeout=60,
                data=json.dumps({"type": "Feature", "properties": {"name": "mine"},
                                 "geometry": {"type": "Point", "coordinates": [27.6, 53.9]}}),
                headers={"Authorization": f"Bearer {token}",
                         "Content-Type": "application/geo+json"})
            assert created.status_code == 201, created.text
            mine = requests.get(created.headers["Location"], timeout=30,
                                headers={"Authorization": f"Bearer {token}"})
            assert mine.status_code == 200 and mine.json()["properties"]["name"] == "mine"
            # the replica has not the new version yet: nobody's read fails because of it
            for path in (f"/collections/{LAYER}/items?limit=50", TILE,
                         created.headers["Location"].removeprefix(portal.url)):
                assert requests.get(portal.url + path, timeout=30).status_code in (200, 204)
            lagging = conn.execute("SELECT count(*) FROM versions WHERE layer_id = %s",
                                   (LAYER,)).fetchone()[0]
            assert lagging == 1  # the replica really was behind during all this
        finally:
            conn.execute("SELECT pg_wal_replay_resume()")


def test_a_web_node_starts_and_reads_with_the_primary_read_only(portal):
    token = portal.cli("token", "create", "--name", "reader", "--role", "admin"
                       ).stdout.strip()
    database = portal.env["GEOPORTAL_DATABASE_URL"].rsplit("/", 1)[1]
    admin_url = portal.env["GEOPORTAL_DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    portal.stop()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {database} SET default_transaction_read_only = on")
    try:
        portal.start()  # no writes at start-up: it starts
        for path in ("/collections?f=json", f"/collections/{LAYER}/items?limit=5", TILE):
            r = requests.get(portal.url + path, timeout=30)
            assert r.status_code in (200, 204), (path, r.text[:300])
        # a token's read: its last_used cannot be written, which fails nothing
        audit = requests.get(f"{portal.url}/admin/audit", timeout=30,
                             headers={"Authorization": f"Bearer {token}"})
        assert audit.status_code == 200, audit.text
        # a write: 503 with the reason, not a 500
        refused = requests.post(
            f"{portal.url}/collections/{LAYER}/items", timeout=60,
            data=json.dumps({"type": "Feature", "properties": {"name": "x"},
                             "geometry": {"type": "Point", "coordinates": [27.6, 53.9]}}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/geo+json"})
        assert refused.status_code == 503, refused.text
        assert "read-only" in refused.json()["description"]
        assert "Retry-After" in refused.headers
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE {database} RESET default_transaction_read_only")
    log = (portal.data_dir / "server.out").read_text()
    assert "start-up clean-up skipped: the database is read-only" in log


def _token(portal: Portal) -> str:
    return portal.cli("token", "create", "--name", "fault", "--role", "admin").stdout.strip()


def _write(portal: Portal, token: str) -> requests.Response:
    return requests.post(
        f"{portal.url}/collections/{LAYER}/items", timeout=60,
        data=json.dumps({"type": "Feature", "properties": {"name": "w"},
                         "geometry": {"type": "Point", "coordinates": [27.6, 53.9]}}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/geo+json"})


def _until(check, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_reads_go_to_the_primary_while_the_replica_is_stopped(portal, clusters):
    _, standby = clusters
    log = portal.data_dir / "server.out"
    before = len(log.read_text())
    standby.halt("fast")
    try:
        items = f"/collections/{LAYER}/items?limit=5"
        _until(lambda: requests.get(portal.url + items, timeout=30).status_code == 200,
               "items not served from the primary")
        for path in (items, f"/collections/{LAYER}/items/1", "/collections?f=json"):
            r = requests.get(portal.url + path, timeout=30)
            assert r.status_code == 200, (path, r.text[:300])
        ready = requests.get(f"{portal.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["status"] == "degraded: reads from the primary"
        assert body["checks"]["replica"] in ("unreachable", "timeout")
        assert body["checks"]["database"] == "ok"
        assert str(standby.port) not in ready.text  # the address goes to the log only
    finally:
        standby.resume()
    _until(lambda: requests.get(f"{portal.url}/readyz", timeout=10).json()["status"] == "ok",
           "readyz not ok again after the replica's return")
    text = log.read_text()[before:]
    assert text.count("go to the primary until it answers again") == 1
    assert "go to the replica" in text


def test_a_read_node_starts_and_stays_ready_with_the_primary_stopped(portal, clusters):
    primary, _ = clusters
    token = _token(portal)
    _caught_up(portal)
    portal.stop()
    primary.halt("fast")
    try:
        portal.start()  # start-up reads on the replica
        for path in ("/collections?f=json", f"/collections/{LAYER}/items?limit=5", TILE):
            r = requests.get(portal.url + path, timeout=30)
            assert r.status_code in (200, 204), (path, r.text[:300])
        ready = requests.get(f"{portal.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "degraded: writes unavailable"
        assert ready.json()["checks"]["database"] in ("unreachable", "timeout")
        assert ready.json()["checks"]["replica"] == "ok"
        assert str(primary.port) not in ready.text
        refused = _write(portal, token)
        assert refused.status_code == 503, refused.text
        assert "Retry-After" in refused.headers
    finally:
        primary.resume()
    _until(lambda: _write(portal, token).status_code == 201, "writes not back")
