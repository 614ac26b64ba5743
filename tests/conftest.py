"""Shared fixtures: settings on a temporary data folder, the real catalog, store and registry,
small source files built in ``tmp_path``, and a real server for integration tests."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import shapely

from geoportal.admin.boundaries import RegionBoundaries
from geoportal.catalog import Catalog, load_registry
from geoportal.config import Settings, load_settings
from geoportal.etl import ingest, load_manifest
from geoportal.storage import FeatureStore, open_store
from geoportal.storage.rasters import RasterStore
from tests.objectstore import s3, s3_env  # noqa: F401  (fixtures: moto's S3 server)
from tests.pg import LocalPostgres, throwaway_cluster

REPO = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO / "config"
LAYERS_DIR = REPO / "layers"


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings on ``data_dir`` with the repository's registers and sample layers."""
    return load_settings(data_dir=data_dir, config_dir=CONFIG_DIR, layers_dir=LAYERS_DIR,
                         **overrides)


# The stores every store-dependent test runs on: both, unless GEOPORTAL_TEST_BACKENDS names
# fewer (``make test-fast`` runs the unit lane on the GeoPackage store alone).
BACKENDS = [name for name in os.environ.get("GEOPORTAL_TEST_BACKENDS", "gpkg,postgis").split(",")
            if name.strip()]
if not BACKENDS or not set(BACKENDS) <= {"gpkg", "postgis"}:
    raise pytest.UsageError(f"GEOPORTAL_TEST_BACKENDS={','.join(BACKENDS)!r}: "
                            "name gpkg, postgis or both, comma-separated")


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """A real PostgreSQL/PostGIS cluster for this test process (skipped where none is installed,
    unless GEOPORTAL_REQUIRE_POSTGIS=1, as in CI, and where GEOPORTAL_TEST_BACKENDS leaves
    postgis out)."""
    if "postgis" not in BACKENDS:
        pytest.skip("GEOPORTAL_TEST_BACKENDS leaves out postgis")
    with throwaway_cluster("geoportal-pg-", free_port()) as cluster:
        yield cluster


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each store-dependent test runs on the GeoPackage store and on PostGIS."""
    return request.param


@pytest.fixture
def settings(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Settings:
    database_url = None
    if backend == "postgis":
        database_url = request.getfixturevalue("postgres").new_database()
    return make_settings(tmp_path / "var", database_url=database_url)


@pytest.fixture
def registry():
    return load_registry(CONFIG_DIR)


@pytest.fixture
def catalog(settings: Settings, registry) -> Catalog:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    cat = Catalog(settings.database_url or "")
    cat.init(registry)
    return cat


@pytest.fixture
def store(settings: Settings) -> Iterator[FeatureStore]:
    store = open_store(settings)
    yield store
    store.close()


@pytest.fixture
def rasters(settings: Settings) -> RasterStore:
    return RasterStore(settings.coverage_dir)


@pytest.fixture
def publish(catalog, store, registry, rasters, settings):
    """Ingest a manifest path with the real catalog and stores, and the region boundaries
    and vertex cap of the settings (as the CLI and the admin API do)."""
    boundaries = RegionBoundaries.load(settings.config_dir, registry,
                                       settings.boundary_tolerance_m)

    def _publish(manifest_path: Path, **kwargs):
        kwargs = {"boundaries": boundaries, "max_vertices": settings.max_vertices, **kwargs}
        return ingest(load_manifest(manifest_path), catalog=catalog, store=store,
                      registry=registry, rasters=rasters, **kwargs)

    return _publish


def write_manifest(folder: Path, layer_id: str, source: dict, *, region: str = "0000000000",
                   theme: str = "other", title: str | dict = "Test layer",
                   **extra: object) -> Path:
    """A layer manifest in ``folder`` (JSON is valid YAML); ``extra`` adds keys (fields...)."""
    path = folder / f"{layer_id}.yaml"
    path.write_text(json.dumps({"id": layer_id, "region": region, "theme": theme,
                                "title": title, "source": source, **extra},
                               ensure_ascii=False), encoding="utf-8")
    return path


def write_geojson(path: Path, features: list[tuple[dict, shapely.Geometry | None]]) -> Path:
    """A GeoJSON FeatureCollection from (properties, geometry) pairs."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props,
         "geometry": json.loads(shapely.to_geojson(geom)) if geom is not None else None}
        for props, geom in features
    ]}, ensure_ascii=False), encoding="utf-8")
    return path


# -- lanes: the markers of pyproject.toml, applied here by path and by what a test uses -------

INTEGRATION_DIRS = ("integration", "clients", "browser")  # tests/<dir>: a real server each
CLIENT_DIRS = ("clients", "browser")  # OWSLib, GDAL, schemathesis; Chromium through Playwright
# fixtures that start a real ``geoportal serve`` (integration) or a real browser (client)
SERVER_FIXTURES = frozenset({"portal"})
CLIENT_FIXTURES = frozenset({"browser", "site"})
# a test that refers to one of these (imported at module level or inside the test) drives a
# real external client; ``require_tool`` finds a GDAL command-line program
CLIENT_PACKAGES = ("owslib", "playwright", "schemathesis")
CLIENT_HELPERS = frozenset({"require_tool"})


def _drives_a_client(item: pytest.Item) -> bool:
    """Whether the test function itself uses OWSLib, Playwright, schemathesis or a GDAL
    command-line tool: found in the names its code refers to (``from owslib... import``
    inside it, a module-level import of one of their names, a call of ``require_tool``)."""
    function = getattr(item, "function", None)
    code = getattr(function, "__code__", None)
    if code is None:
        return False
    names: set[str] = set()
    pending = [code]
    while pending:  # the test's code and the code nested in it (comprehensions, lambdas)
        current = pending.pop()
        names.update(current.co_names)
        pending.extend(c for c in current.co_consts if hasattr(c, "co_names"))
    if names & CLIENT_HELPERS:
        return True
    for name in names:
        if name.split(".")[0] in CLIENT_PACKAGES:  # ``import owslib.ogcapi`` in the test
            return True
        value = function.__globals__.get(name)
        owner = getattr(value, "__module__", None) or getattr(value, "__name__", None)
        if isinstance(owner, str) and owner.split(".")[0] in CLIENT_PACKAGES:
            return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its lane, so that ``-m "not integration and not client and not
    cluster"`` is the unit lane (``make test-fast``): ``integration`` for every test under
    tests/integration, tests/clients and tests/browser and for any test that starts a real
    server (the ``portal`` fixture), ``client`` for tests/clients,
    tests/browser and any test that drives OWSLib, Playwright or a GDAL program; tests/cluster
    carry ``cluster`` themselves. Without postgis in GEOPORTAL_TEST_BACKENDS, the tests that
    need the ``postgres`` fixture are deselected."""
    tests_dir = Path(__file__).resolve().parent
    if "postgis" not in BACKENDS:  # GEOPORTAL_TEST_BACKENDS=gpkg: PostgreSQL's own tests go too
        off = [item for item in items if "postgres" in getattr(item, "fixturenames", ())]
        if off:
            config.hook.pytest_deselected(items=off)
            items[:] = [item for item in items if item not in off]
    for item in items:
        try:
            parts = item.path.resolve().relative_to(tests_dir).parts
        except ValueError:  # a test outside tests/ (given on the command line)
            parts = ()
        lane = parts[0] if len(parts) > 1 else ""
        fixtures = set(getattr(item, "fixturenames", ()))
        if lane in INTEGRATION_DIRS or fixtures & SERVER_FIXTURES:
            item.add_marker(pytest.mark.integration)
        if lane in CLIENT_DIRS or fixtures & CLIENT_FIXTURES or _drives_a_client(item):
            item.add_marker(pytest.mark.client)
        if lane == "cluster" and item.get_closest_marker("cluster") is None:
            item.add_marker(pytest.mark.cluster)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Portal:
    """A real ``geoportal serve`` (gunicorn, 2 workers) on 127.0.0.1 with its own data folder."""

    def __init__(self, data_dir: Path, database_url: str | None = None) -> None:
        self.data_dir = data_dir
        self.backend = "postgis" if database_url else "gpkg"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "GEOPORTAL_DATA_DIR": str(data_dir),
                    "GEOPORTAL_CONFIG_DIR": str(CONFIG_DIR),
                    "GEOPORTAL_LAYERS_DIR": str(LAYERS_DIR),
                    "GEOPORTAL_PORT": str(self.port)}
        if database_url:
            self.env["GEOPORTAL_DATABASE_URL"] = database_url
        self.proc: subprocess.Popen | None = None

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run the real ``geoportal`` CLI against this portal's data folder."""
        result = subprocess.run([sys.executable, "-m", "geoportal", *args], env=self.env,
                                capture_output=True, text=True, timeout=300)
        if check and result.returncode != 0:
            raise AssertionError(f"geoportal {' '.join(args)} failed: {result.stderr}")
        return result

    def start(self) -> None:
        log = (self.data_dir / "server.out").open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "geoportal", "serve"], env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError((self.data_dir / "server.out").read_text())
            try:
                if requests.get(f"{self.url}/conformance", timeout=10).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # still starting, or busy
                time.sleep(0.2)
        raise AssertionError("server did not start within 60 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="session", params=BACKENDS)
def portal(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
           ) -> Iterator[Portal]:
    """The portal serving every sample layer under layers/, as `make run` does, on each store."""
    data_dir = tmp_path_factory.mktemp("portal") / "var"
    database_url = None
    if request.param == "postgis":
        database_url = request.getfixturevalue("postgres").new_database()
    server = Portal(data_dir, database_url)
    server.cli("init")
    server.cli("ingest", str(LAYERS_DIR))
    server.start()
    yield server
    server.stop()


def require_tool(name: str) -> str:
    """The path of a client program; skip (or fail in CI) when it is not installed."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("GEOPORTAL_REQUIRE_CLIENTS") == "1":
            pytest.fail(f"{name} is required (GEOPORTAL_REQUIRE_CLIENTS=1) but not installed")
        pytest.skip(f"{name} is not installed (Debian package gdal-bin)")
    return path




def empty_portal(label: str, **env: str) -> Any:
    """A module's own fixture ``portal``: a real ``geoportal serve`` with no layers, one per
    test module and store, for the module's uploads and CLI ingests (``env``: extra settings).
    Use as ``portal = empty_portal("sheets")``."""

    @pytest.fixture(scope="module", params=BACKENDS, name="portal")
    def _portal(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
                ) -> Iterator[Portal]:
        database_url = None
        if request.param == "postgis":
            database_url = request.getfixturevalue("postgres").new_database()
        server = Portal(tmp_path_factory.mktemp(label) / "var", database_url)
        server.env.update(env)
        server.cli("init")
        server.start()
        yield server
        server.stop()

    return _portal



def marked_log_lines(portal: Portal, marker: str) -> list[str]:
    """The server's log lines naming ``marker``, once a ``/conformance`` request marked
    ``<marker>c`` (sent here, logged at INFO) shows that the lines before it are written: for
    tests that requests marked ``marker`` were logged, or not, at INFO."""
    requests.get(f"{portal.url}/conformance", headers={"X-Request-Id": marker + "c"},
                 timeout=10)
    log = portal.data_dir / "server.out"
    deadline = time.monotonic() + 10
    while marker + "c" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    return [line for line in log.read_text().splitlines() if marker in line]


def admin_token(name: str = "token") -> Any:
    """A module's fixture ``name``: a national admin token of the module's ``portal``."""

    @pytest.fixture(scope="module", name=name)
    def _token(portal: Portal) -> str:
        return portal.cli("token", "create", "--name", "national", "--role",
                          "admin").stdout.strip()

    return _token
