"""Start and stop the servers under test: ours (PostGIS, GeoPackage), tipg, stock pygeoapi."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
OUR_VENV = REPO / ".venv"
PEERS_VENV = BENCH / ".venv-peers"
PEERS_PYTHON = os.environ.get("PEERS_PYTHON", "/root/.pyenv/versions/3.12.1/bin/python")
# uvicorn[standard] (uvloop, httptools), not bare uvicorn: with --workers N, bare uvicorn on the
# asyncio loop leaves Nagle on for keep-alive connections (uvicorn issue #3149: the pre-bound
# listener has proto 0, so asyncio skips TCP_NODELAY) and every request after a connection's
# first waits ~40 ms for a delayed ACK: tipg measured 80 req/s instead of ~900.
PEER_PACKAGES = ["tipg", "uvicorn[standard]", "pygeoapi==0.24.0", "gunicorn",
                 "geoalchemy2", "sqlalchemy", "psycopg2-binary"]  # the PostgreSQL provider


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_peers_venv(log, gdal: bool = True) -> None:
    """Create benchmarks/.venv-peers with tipg, uvicorn, pygeoapi 0.24 and gunicorn; with
    ``gdal`` also GDAL's Python bindings (built from source: minutes; only the OGR peer needs
    them)."""
    py = PEERS_VENV / "bin" / "python"
    if not py.exists():
        log(f"creating {PEERS_VENV} ...")
        subprocess.run([PEERS_PYTHON, "-m", "venv", str(PEERS_VENV)], check=True)
    imports = "import tipg, uvicorn, uvloop, httptools, pygeoapi, gunicorn, geoalchemy2, psycopg2"
    probe = subprocess.run([str(py), "-c", imports], capture_output=True)
    if probe.returncode != 0:
        log(f"installing {' '.join(PEER_PACKAGES)} into {PEERS_VENV} ...")
        subprocess.run([str(py), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    ensure_sqlite_extensions(py, log)
    if gdal and not peers_have_gdal():
        # pygeoapi's OGR provider needs osgeo; build the bindings against Debian's libgdal-dev
        try:
            version = subprocess.run(["gdal-config", "--version"], capture_output=True,
                                     text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            log("no gdal-config (apt-get install libgdal-dev): the OGR peer will be skipped")
            return
        log(f"building GDAL=={version} Python bindings into {PEERS_VENV} (a few minutes) ...")
        subprocess.run([str(py), "-m", "pip", "install", "-q", "numpy", "setuptools", "wheel"],
                       check=True)
        r = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-build-isolation",
                            f"GDAL=={version}"])
        if r.returncode != 0:
            log("GDAL bindings failed to build: the OGR peer will be skipped")


SHIM = """\
# benchmarks/servers.py: this Python's sqlite3 cannot load extensions (built without
# --enable-loadable-sqlite-extensions), which pygeoapi's SQLiteGPKG provider needs for
# mod_spatialite; use pysqlite3 (same DB-API, SQLite built with extension loading) instead.
import sqlite3 as _std
if not hasattr(_std.connect(":memory:"), "enable_load_extension"):
    import sys
    import pysqlite3
    import pysqlite3.dbapi2
    sys.modules["sqlite3"] = pysqlite3
    sys.modules["sqlite3.dbapi2"] = pysqlite3.dbapi2
"""


def ensure_sqlite_extensions(py: Path, log) -> None:
    """Make `import sqlite3` able to load mod_spatialite in the peers venv (see SHIM)."""
    probe = [str(py), "-c", "import sqlite3; sqlite3.connect(':memory:').enable_load_extension"]
    if subprocess.run(probe, capture_output=True).returncode == 0:
        return
    log("peers' Python has no sqlite3 extension loading: installing pysqlite3-binary and a "
        "sqlite3 shim (.pth) into the peers venv")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "pysqlite3-binary"], check=True)
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = subprocess.run([str(py), "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()
    Path(site, "bench_sqlite3_shim.py").write_text(SHIM)
    Path(site, "bench_sqlite3_shim.pth").write_text("import bench_sqlite3_shim\n")
    subprocess.run(probe, check=True)


def peers_have_gdal() -> bool:
    """pygeoapi's OGR provider needs GDAL's Python bindings (osgeo) in the peers venv."""
    py = PEERS_VENV / "bin" / "python"
    return subprocess.run([str(py), "-c", "from osgeo import ogr"],
                          capture_output=True).returncode == 0


@dataclass
class Server:
    key: str                 # ours-pg, tipg, ours-gpkg, pygeoapi-sqlite, pygeoapi-ogr
    label: str
    port: int
    collection: str          # collection id in the URL
    cmd: list[str]
    env: dict[str, str]
    logfile: Path
    cwd: Path = REPO
    proc: subprocess.Popen | None = None
    shares_process_with: str | None = None  # a second collection on an already running server
    notes: list[str] = field(default_factory=list)
    fmt: str = "f=json"      # the query parameter that asks for GeoJSON
    # the vector tile URL path, {z}, {x} and {y} to fill in (the order differs), or None when
    # the server serves no vector tiles of this collection
    tiles: str | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def items(self) -> str:
        return f"/collections/{self.collection}/items"

    def start(self) -> None:
        if self.shares_process_with:
            return
        env = {**os.environ, **self.env}
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        out = self.logfile.open("ab")
        self.proc = subprocess.Popen(self.cmd, env=env, cwd=self.cwd, stdout=out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.base}/collections/{self.collection}"
        last = ""
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.key} exited with {self.proc.returncode}; "
                                   f"see {self.logfile}")
            try:
                r = requests.get(url, timeout=10, headers={"Accept": "application/json"})
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}: {r.text[:200]}"
            except requests.RequestException as exc:
                last = str(exc)
            time.sleep(0.5)
        raise RuntimeError(f"{self.key} not ready at {url} after {timeout:.0f}s ({last}); "
                           f"see {self.logfile}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group, by its id
            self.proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None


def ours(key: str, label: str, run_dir: Path, data_dir: Path, database_url: str | None) -> Server:
    port = free_port()
    env = {"GEOPORTAL_DATA_DIR": str(data_dir), "GEOPORTAL_CONFIG_DIR": str(REPO / "config"),
           "GEOPORTAL_HOST": "127.0.0.1", "GEOPORTAL_PORT": str(port),
           "GEOPORTAL_LOG_LEVEL": "WARNING"}
    if database_url:
        env["GEOPORTAL_DATABASE_URL"] = database_url
    cmd = [str(OUR_VENV / "bin" / "geoportal"), "-q", "serve", "--host", "127.0.0.1",
           "--port", str(port), "--workers", "2"]
    return Server(key, label, port, "buildings", cmd, env, run_dir / "logs" / f"{key}.log",
                  tiles="/collections/buildings/tiles/WebMercatorQuad/{z}/{y}/{x}")


def tipg(run_dir: Path, database_url: str, table: str) -> Server:
    """tipg over the PostGIS schemas 'features' (our tables) and 'public' (ogr2ogr's)."""
    port = free_port()
    env = {"DATABASE_URL": database_url, "TIPG_DB_SCHEMAS": '["features","public"]',
           "TIPG_DB_MAX_CONN_SIZE": "10", "TIPG_DEBUG": "false",
           "TIPG_MAX_FEATURES_PER_QUERY": "10000"}
    cmd = [str(PEERS_VENV / "bin" / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1",
           "--port", str(port), "--workers", "2", "--loop", "uvloop", "--http", "httptools",
           "--no-access-log", "--log-level", "warning"]
    # tipg's f=json is a flat list of rows with WKT geometry; GeoJSON is f=geojson. Its tile
    # route is .../tiles/{tileMatrixSetId}/{z}/{x}/{y} (column before row, unlike OGC API -
    # Tiles' {tileMatrix}/{tileRow}/{tileCol}); the matrix set id is morecantile's.
    return Server("tipg", f"tipg ({table})", port, table, cmd, env, run_dir / "logs" / "tipg.log",
                  fmt="f=geojson",
                  tiles=f"/collections/{table}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}")


PYGEOAPI_CONFIG = """\
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  pretty_print: false
  limits: {{default_items: 10, max_items: 1000}}
  map:
    url: http://127.0.0.1:9/tiles/{{z}}/{{x}}/{{y}}.png  # unused: pygeoapi requires a map URL
    attribution: OSM
logging:
  level: ERROR
metadata:
  identification:
    title: stock pygeoapi (benchmark peer)
    description: stock pygeoapi 0.24 over the GeoPackage our store wrote
    keywords: [benchmark]
    keywords_type: theme
    terms_of_service: https://creativecommons.org/licenses/by/4.0/
    url: https://example.org
  license: {{name: CC-BY 4.0, url: https://creativecommons.org/licenses/by/4.0/}}
  provider: {{name: bench, url: https://example.org}}
  contact: {{name: bench, position: bench, address: x, city: x, stateorprovince: x,
            postalcode: x, country: BY, phone: x, fax: x, email: x@example.org,
            url: https://example.org, hours: x, instructions: x, role: pointOfContact}}
resources:
{resources}
"""

PYGEOAPI_SQLITE = """\
  buildings-sqlite:
    type: collection
    title: buildings (SQLiteGPKG provider)
    description: buildings
    keywords: [buildings]
    extents:
      spatial: {{bbox: [23, 51, 33, 56.5], crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84}}
    providers:
      - type: feature
        name: SQLiteGPKG
        data: {gpkg}
        id_field: fid
        table: {table}
        crs: [http://www.opengis.net/def/crs/OGC/1.3/CRS84,
              http://www.opengis.net/def/crs/EPSG/0/28405]
"""

PYGEOAPI_PG = """\
  buildings-pg:
    type: collection
    title: buildings (PostgreSQL provider)
    description: buildings
    keywords: [buildings]
    extents:
      spatial: {{bbox: [23, 51, 33, 56.5], crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84}}
    providers:
      - type: feature
        name: PostgreSQL
        data: {{host: 127.0.0.1, port: {port}, dbname: {dbname}, user: {user},
                search_path: [{schema}, public]}}
        id_field: fid
        table: {table}
        geom_field: geom
        crs: [http://www.opengis.net/def/crs/OGC/1.3/CRS84,
              http://www.opengis.net/def/crs/EPSG/0/28405]
"""

# pygeoapi 0.24's MVT-postgresql provider: ST_AsMVT over the same table, rendered per request
# (no cache). storage_crs EPSG:4326 as in pygeoapi's own tests: the tile envelope is transformed
# to it by name. No `schemes` option: the provider's `options` also go to SQLAlchemy's
# get_engine() (functools.cache), which fails on a list ("unhashable type: 'list'"); dicts such
# as `zoom` are filtered out. The provider offers WebMercatorQuad and WorldCRS84Quad anyway.
PYGEOAPI_PG_TILES = """\
      - type: tile
        name: MVT-postgresql
        data: {{host: 127.0.0.1, port: {port}, dbname: {dbname}, user: {user},
                search_path: [{schema}, public]}}
        id_field: fid
        table: {table}
        geom_field: geom
        storage_crs: http://www.opengis.net/def/crs/EPSG/0/4326
        options:
          zoom: {{min: 0, max: 22}}
        format: {{name: mvt, mimetype: application/vnd.mapbox-vector-tile}}
"""

PYGEOAPI_OGR = """\
  buildings-ogr:
    type: collection
    title: buildings (OGR provider)
    description: buildings
    keywords: [buildings]
    extents:
      spatial: {{bbox: [23, 51, 33, 56.5], crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84}}
    providers:
      - type: feature
        name: OGR
        data:
          source_type: GPKG
          source: {gpkg}
          source_capabilities: {{paging: true}}
          gdal_ogr_options: {{}}
        id_field: fid
        layer: {table}
        crs: [http://www.opengis.net/def/crs/OGC/1.3/CRS84,
              http://www.opengis.net/def/crs/EPSG/0/28405]
"""


def stock_pygeoapi(run_dir: Path, gpkg: Path | None, table: str, with_ogr: bool,
                   pg: dict | None = None, pg_tiles: bool = False) -> list[Server]:
    """One gunicorn (2 workers) serving up to three collections: SQLiteGPKG and OGR providers on
    copies of our GeoPackage, and the PostgreSQL provider on our PostGIS table (``pg``: port,
    dbname, user, schema, table), with ``pg_tiles`` also the MVT-postgresql tile provider on it
    (stock pygeoapi has no vector tile provider for GeoPackage or SQLite).

    Each GeoPackage provider gets its own byte-for-byte copy of the GeoPackage our store wrote:
    the SQLiteGPKG provider opens the file read-write and runs spatialite's AutoGPKGStart() on
    every request, which creates a VirtualGPKG table in the file (it modified our immutable
    version file) and, with two workers and the OGR provider holding read locks on the same
    file, fails with "database is locked" (every request then waits 5 s and errors).
    """
    port = free_port()
    peers = run_dir / "peers"
    peers.mkdir(exist_ok=True)
    resources = ""
    if gpkg is not None:
        sqlite_copy = peers / "sqlitegpkg.gpkg"
        shutil.copyfile(gpkg, sqlite_copy)
        resources += PYGEOAPI_SQLITE.format(gpkg=sqlite_copy, table=table)
        if with_ogr:
            ogr_copy = peers / "ogr.gpkg"
            shutil.copyfile(gpkg, ogr_copy)
            resources += PYGEOAPI_OGR.format(gpkg=ogr_copy, table=table)
    if pg is not None:
        resources += PYGEOAPI_PG.format(**pg)
        if pg_tiles:
            resources += PYGEOAPI_PG_TILES.format(**pg)
    cfg = run_dir / "pygeoapi-config.yml"
    cfg.write_text(PYGEOAPI_CONFIG.format(port=port, resources=resources.rstrip()))
    openapi = run_dir / "pygeoapi-openapi.yml"
    peers_bin = PEERS_VENV / "bin"
    env = {"PYGEOAPI_CONFIG": str(cfg), "PYGEOAPI_OPENAPI": str(openapi)}
    with openapi.open("w") as out:
        subprocess.run([str(peers_bin / "pygeoapi"), "openapi", "generate", str(cfg)],
                       env={**os.environ, **env}, stdout=out, check=True, cwd=run_dir)
    cmd = [str(peers_bin / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
           "--log-level", "warning", "pygeoapi.flask_app:APP"]
    log = run_dir / "logs" / "pygeoapi.log"
    servers: list[Server] = []
    for key, label, collection, present in (
            ("pygeoapi-sqlite", "stock pygeoapi, SQLiteGPKG", "buildings-sqlite", gpkg),
            ("pygeoapi-ogr", "stock pygeoapi, OGR", "buildings-ogr", gpkg and with_ogr),
            ("pygeoapi-pg", "stock pygeoapi, PostgreSQL", "buildings-pg", pg)):
        if present:
            tiles = (f"/collections/{collection}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}?f=mvt"
                     if key == "pygeoapi-pg" and pg_tiles else None)
            servers.append(Server(key, label, port, collection, cmd, env, log, cwd=run_dir,
                                  shares_process_with=servers[0].key if servers else None,
                                  tiles=tiles))
    return servers
