"""``/healthz`` and ``/readyz`` through the real server: what a load balancer probes.

``/healthz`` only says the process answers; ``/readyz`` names the part that keeps a node from
serving (the database, the object store), within the probe's 2 s budget."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import Portal, free_port, marked_log_lines
from tests.pg import LocalPostgres, throwaway_cluster

pytestmark = pytest.mark.integration


def test_readyz_is_ok_with_every_part_named(portal: Portal) -> None:
    response = requests.get(f"{portal.url}/readyz", timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["objects"] == "ok"
    assert body["checks"]["catalog"].startswith("loaded ")
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_answers_without_touching_anything(portal: Portal) -> None:
    response = requests.get(f"{portal.url}/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_probes_are_not_logged_at_info(portal: Portal) -> None:
    """A probe a second must not fill the access log; other requests are still logged."""
    marker = f"probe{time.monotonic_ns()}"
    requests.get(f"{portal.url}/healthz", headers={"X-Request-Id": marker}, timeout=10)
    requests.get(f"{portal.url}/readyz", headers={"X-Request-Id": marker}, timeout=10)
    lines = marked_log_lines(portal, marker)
    assert any(f"request_id={marker}c " in line for line in lines)
    assert not any(f"request_id={marker} " in line for line in lines)


@pytest.fixture(scope="module")
def unreachable_objects(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """A portal whose object store is an S3 endpoint on a closed port."""
    server = Portal(tmp_path_factory.mktemp("health-objects") / "var")
    server.env.update({"GEOPORTAL_OBJECT_STORE": "s3://nowhere/portal",
                       "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
                       "AWS_ACCESS_KEY_ID": "probe", "AWS_SECRET_ACCESS_KEY": "probe-secret",
                       "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"})
    server.cli("init")
    server.start()
    yield server
    server.stop()


def test_readyz_names_an_unreachable_object_store(unreachable_objects: Portal) -> None:
    # a probe never hangs: the check gives up at 1.5 s, requests' timeout fails the test
    response = requests.get(f"{unreachable_objects.url}/readyz", timeout=10)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["objects"] in ("unreachable", "timeout")
    assert "probe-secret" not in response.text
    # the endpoint and the bucket go to the log, not to the public body
    endpoint = unreachable_objects.env["AWS_ENDPOINT_URL"]
    assert endpoint.rsplit(":", 1)[1] not in response.text and "nowhere" not in response.text
    assert body["checks"]["database"] == "ok"
    assert requests.get(f"{unreachable_objects.url}/healthz", timeout=10).status_code == 200


@pytest.fixture(scope="module")
def stopped_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """A portal on its own PostgreSQL, which the test stops."""
    with throwaway_cluster("geoportal-pg-health-", free_port()) as cluster:
        yield from _portal_on(cluster, tmp_path_factory)


def _portal_on(cluster: LocalPostgres, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Portal]:
    server = Portal(tmp_path_factory.mktemp("health-db") / "var", cluster.new_database())
    # one worker: the probe after the stop reaches the worker whose catalog was loaded (a
    # second one still booting would rightly say "not loaded yet")
    server.env["GEOPORTAL_WORKERS"] = "1"
    try:
        server.cli("init")
        server.start()
        server.cluster = cluster  # type: ignore[attr-defined]
        yield server
    finally:
        server.stop()


def test_readyz_names_a_stopped_database(stopped_database: Portal) -> None:
    assert requests.get(f"{stopped_database.url}/readyz", timeout=10).status_code == 200
    stopped_database.cluster.stop()  # type: ignore[attr-defined]
    time.sleep(1.1)  # past the answer kept for a second
    response = requests.get(f"{stopped_database.url}/readyz", timeout=10)
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "unreachable"
    port = str(stopped_database.cluster.port)  # type: ignore[attr-defined]
    assert port not in response.text and "127.0.0.1" not in response.text
    log = (stopped_database.data_dir / "server.out").read_text()
    assert "database=unreachable (" in log and port in log  # the details: in the log
    assert body["checks"]["objects"] == "ok"
    assert body["checks"]["catalog"].startswith("loaded ")
    assert requests.get(f"{stopped_database.url}/healthz", timeout=10).status_code == 200
