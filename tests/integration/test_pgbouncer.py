"""The portal through PgBouncer in transaction mode (issue 17): every kind of request works
when consecutive transactions of one client connection run on different server connections.

That needs no startup ``options`` (PgBouncer refuses them), no session settings (each
transaction sets its own), and no automatic prepared statements (psycopg prepares a query it
ran 5 times; PgBouncer 1.18 then sends it to a server connection that never saw it:
'prepared statement "_pg3_0" does not exist')."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from tests.conftest import Portal, free_port
from tests.integration.test_admin_api import publish
from tests.pg import LocalPostgres

LAYER = "bouncer-points"
REGION = "5000000000"  # Minsk


def _pgbouncer() -> str:
    """The pgbouncer program; skip (or fail in CI) when it is not installed."""
    found = shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if Path(p).exists()), None)
    if found is None:
        if "1" in (os.environ.get("GEOPORTAL_REQUIRE_POSTGIS"),
                   os.environ.get("GEOPORTAL_REQUIRE_CLIENTS")):
            pytest.fail("pgbouncer is required (GEOPORTAL_REQUIRE_POSTGIS=1) but not installed")
        pytest.skip("pgbouncer is not installed (Debian package pgbouncer; "
                    "scripts/install-system-deps)")
    return found


@pytest.fixture(scope="module")
def bouncer(postgres: LocalPostgres) -> Iterator[int]:
    """PgBouncer in transaction mode in front of the test cluster, two server connections
    per database (so a client's transactions change server connection); its port."""
    program = _pgbouncer()
    folder = Path(tempfile.mkdtemp(prefix="geoportal-pgbouncer-"))
    port = free_port()
    (folder / "userlist.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""\
[databases]
* = host=127.0.0.1 port={postgres.port}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/userlist.txt
pool_mode = transaction
default_pool_size = 2
max_client_conn = 500
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
""")
    command = [program, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # pgbouncer refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        for name in ("userlist.txt", "pgbouncer.ini"):
            shutil.chown(folder / name, "postgres", "postgres")
        command = ["runuser", "-u", "postgres", "--", *command]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres",
                                     connect_timeout=2):
                    break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = folder / "pgbouncer.log"
                    raise AssertionError("pgbouncer did not start: " + (
                        log.read_text() if log.exists() else "no log")) from None
                time.sleep(0.2)
        yield port
    finally:
        pidfile = folder / "pgbouncer.pid"
        if pidfile.exists():  # pgbouncer's own process id (runuser's child)
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def portal(postgres: LocalPostgres, bouncer: int,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """A portal whose database URL is PgBouncer's (init, the CLI and the server alike)."""
    direct = postgres.new_database()
    server = Portal(tmp_path_factory.mktemp("bouncer") / "var",
                    f"postgresql://postgres@127.0.0.1:{bouncer}/{direct.rsplit('/', 1)[1]}")
    server.cli("init")
    server.start()
    yield server
    server.stop()


def test_every_kind_of_request_works_through_pgbouncer(portal):
    token = portal.cli("token", "create", "--name", "national", "--role", "admin"
                       ).stdout.strip()
    points = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": f"p{i}", "rank": i},
         "geometry": {"type": "Point", "coordinates": [27.55 + i * 1e-3, 53.9]}}
        for i in range(30)]}).encode()
    job = publish(portal, token, LAYER, REGION, "points.geojson", points)
    assert job["state"] == "done", job

    items = f"{portal.url}/collections/{LAYER}/items"
    with requests.Session() as session:  # one connection: the same statement many times
        for _ in range(20):
            r = session.get(items, params={"limit": 5, "bbox": "27.5,53.8,27.7,54"},
                            timeout=30)
            assert r.status_code == 200, r.text
            assert r.json()["numberReturned"] == 5
    counted = requests.get(items, params={"name": "p3", "limit": 1}, timeout=30)
    assert counted.status_code == 200 and counted.json()["numberMatched"] == 1
    filtered = requests.get(items, params={"filter": "rank >= 25", "filter-lang": "cql2-text"},
                            timeout=30)
    assert filtered.status_code == 200 and filtered.json()["numberMatched"] == 5
    tile = requests.get(f"{portal.url}/collections/{LAYER}/tiles/WebMercatorQuad/12/1322/2361",
                        timeout=30)
    assert tile.status_code in (200, 204)
    created = requests.post(items, timeout=60, data=json.dumps({
        "type": "Feature", "properties": {"name": "new", "rank": 99},
        "geometry": {"type": "Point", "coordinates": [27.6, 53.95]}}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/geo+json"})
    assert created.status_code == 201, created.text
    mine = requests.get(created.headers["Location"], timeout=30,
                        headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200 and mine.json()["properties"]["rank"] == 99
