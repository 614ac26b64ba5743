"""The cluster lane (``make test-cluster``, ``pytest -m cluster tests/cluster``): the issue's
end-to-end tests through the real processes of the production topology in miniature
(scripts/cluster.py): HAProxy, two ``geoportal serve`` nodes with their own data folders, one
``geoportal worker``, PgBouncer, a PostgreSQL primary and its streaming replica, and moto's
S3 server. One cluster for the whole session on free ports in a temporary folder; before each
test, whatever an earlier test stopped or killed is started again.

Skipped where PostgreSQL, PgBouncer or HAProxy is missing, unless GEOPORTAL_REQUIRE_CLUSTER=1
(CI), which fails instead. GEOPORTAL_KEEP_CLUSTER=1 keeps the folder (logs) after the run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import requests

from tests.conftest import LAYERS_DIR, REPO, free_port

SCRIPT = REPO / "scripts" / "cluster.py"
# What the cluster loads at start: a vector layer and a raster (the rest come by upload).
SAMPLE_LAYERS = [LAYERS_DIR / "by" / "oblasts.yaml", LAYERS_DIR / "by" / "night_lights_2013.yaml"]
NATIONAL = "0000000000"  # generated points are not clipped to a region's boundary


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("geoportal_cluster", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


cluster_script = _load_script()
Cluster = cluster_script.Cluster


def _require(ok: bool, what: str) -> None:
    if ok:
        return
    if os.environ.get("GEOPORTAL_REQUIRE_CLUSTER") == "1":
        pytest.fail(f"{what} is required (GEOPORTAL_REQUIRE_CLUSTER=1) but not installed")
    pytest.skip(f"{what} is not installed (scripts/install-system-deps)")


@pytest.fixture(scope="session")
def cluster() -> Iterator[Any]:
    """The running miniature cluster (a ``scripts/cluster.py`` ``Cluster``)."""
    for tool in ("pgbouncer", "haproxy"):
        _require(shutil.which(tool) is not None or Path(f"/usr/sbin/{tool}").exists(), tool)
    try:
        cluster_script.find_pg_bin()
    except cluster_script.ClusterError:
        _require(False, "PostgreSQL")
    # Not under pytest's 0700 temporary folder: PostgreSQL runs as the postgres user.
    root = Path(tempfile.mkdtemp(prefix="geoportal-cluster-"))
    root.chmod(0o755)
    portal = Cluster(root / "cluster", ports=cluster_script.Ports.pick(free_port()),
                     layers=SAMPLE_LAYERS, node_workers=1, say=lambda line: None)
    try:
        portal.up()
        yield portal
    finally:
        portal.down()
        if os.environ.get("GEOPORTAL_KEEP_CLUSTER") != "1":
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def whole(cluster: Any) -> Any:
    """Every part running and the primary writable before each test."""
    cluster.ensure_running()
    return cluster


@pytest.fixture(scope="session")
def token(cluster: Any) -> str:
    """A national admin token (created with the CLI, through PgBouncer)."""
    return cluster.cli("token", "create", "--name", "cluster-tests", "--role",
                       "admin").stdout.strip()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def manifest(layer_id: str, name: str, **extra: object) -> dict[str, object]:
    """An upload's manifest for a national layer."""
    return {"id": layer_id, "region": NATIONAL, "theme": "urban-infrastructure",
            "title": {"en": layer_id}, "source": {"path": name}, **extra}


def upload(base: str, token: str, meta: dict[str, object], path: Path,
           timeout: float = 600) -> requests.Response:
    """POST /admin/layers on ``base`` (a node or the balancer), the file streamed from disk."""
    import json

    with path.open("rb") as f:
        return requests.post(f"{base}/admin/layers", headers=auth(token), timeout=timeout,
                             data={"manifest": json.dumps(meta)}, files={"file": (path.name, f)})


def submit(base: str, token: str, meta: dict[str, object], path: Path) -> str:
    """Upload and return the job id (asserting 202)."""
    r = upload(base, token, meta, path)
    assert r.status_code == 202, r.text
    return r.json()["id"]


def job_state(base: str, token: str, job_id: str) -> dict[str, Any]:
    r = requests.get(f"{base}/admin/jobs/{job_id}", headers=auth(token), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def wait_job(base: str, token: str, job_id: str, timeout: float = 300,
             states: tuple[str, ...] = ("queued", "running")) -> dict[str, Any]:
    """Poll the job until its state leaves ``states``; its last document."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_state(base, token, job_id)
        if job["state"] not in states:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout:.0f} s: {job}")


def write_points(path: Path, count: int, mark: str, *, lon: float = 27.40,
                 lat: float = 53.80) -> Path:
    """A GeoPackage of ``count`` points in Minsk, each with ``mark`` (the version marker)
    and a serial ``i``; written with pyogrio from numpy arrays (a million in a few seconds)."""
    import pyogrio
    import shapely

    rng = np.random.default_rng(17)
    x = lon + rng.random(count) * 0.3
    y = lat + rng.random(count) * 0.15
    geometry = shapely.to_wkb(shapely.points(x, y))
    pyogrio.raw.write(str(path), geometry=geometry, field_data=[
        np.full(count, mark, dtype=object), np.arange(count, dtype=np.int64)],
        fields=["mark", "i"], geometry_type="Point", crs="EPSG:4326", driver="GPKG",
        layer=path.stem)
    return path


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    """A folder for generated source files, shared by the session."""
    folder = Path(tempfile.mkdtemp(prefix="geoportal-cluster-data-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
