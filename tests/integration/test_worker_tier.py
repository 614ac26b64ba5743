"""The ETL worker tier through the real processes: a web node (``geoportal serve``) with
GEOPORTAL_WORKER_TIER=1 on PostgreSQL and an S3 object store (moto), and ``geoportal worker``
subprocesses taking its upload jobs from the procrastinate queue.

Heartbeat 1 s and stall limit 4 s here (5 s and 20 s by default) so that the dead-worker test
takes seconds; the bound it checks is the issue's (60 s)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from geoportal.storage.objects import S3ObjectStore
from tests.conftest import CONFIG_DIR, Portal
from tests.objectstore import MotoS3

MINSK = "5000000000"
STALLED_S = 4


def _points(n: int, lon: float = 27.55, lat: float = 53.9) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": f"p{i}", "n": i},
         "geometry": {"type": "Point", "coordinates": [lon + (i % 1000) * 1e-4,
                                                        lat + (i // 1000) * 1e-4]}}
        for i in range(n)]}).encode()


def _manifest(layer_id: str) -> str:
    return json.dumps({"id": layer_id, "region": MINSK, "theme": "urban-infrastructure",
                       "title": {"en": layer_id}, "source": {"path": "data"}})


class Tier:
    """The web node, its database and object store, and the workers started for a test."""

    def __init__(self, portal: Portal, database_url: str, s3: MotoS3, token: str) -> None:
        self.portal, self.database_url, self.s3, self.token = portal, database_url, s3, token
        self.objects = S3ObjectStore(s3.url, environ=dict(s3))
        self.workers: list[subprocess.Popen] = []

    def upload(self, layer_id: str, content: bytes, name: str = "p.geojson"
               ) -> requests.Response:
        return requests.post(f"{self.portal.url}/admin/layers", timeout=120,
                             headers={"Authorization": f"Bearer {self.token}"},
                             data={"manifest": _manifest(layer_id)},
                             files={"file": (name, content)})

    def job(self, job_id: str) -> dict:
        return requests.get(f"{self.portal.url}/admin/jobs/{job_id}", timeout=30,
                            headers={"Authorization": f"Bearer {self.token}"}).json()

    def wait(self, job_id: str, timeout: float = 120, states: tuple[str, ...] = (
            "done", "rejected", "failed")) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["state"] in states:
                return job
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} not {states} within {timeout} s: {job}")

    def worker_of(self, job_id: str) -> str | None:
        """The jobs row's ``worker`` (host:pid; not shown by the API)."""
        with psycopg.connect(self.database_url) as conn:
            row = conn.execute("SELECT worker FROM jobs WHERE id = %s", (job_id,)).fetchone()
        return row[0] if row else None

    def start_worker(self, label: str) -> subprocess.Popen:
        out = (self.portal.data_dir / f"worker-{label}.out").open("w")
        proc = subprocess.Popen([sys.executable, "-m", "geoportal", "worker"],
                                env=self.portal.env, stdout=out, stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def worker_log(self, label: str) -> str:
        return (self.portal.data_dir / f"worker-{label}.out").read_text()

    def uploads(self, job_id: str) -> list[str]:
        return [info.key for info in self.objects.list(f"uploads/{job_id}/")]

    def stop_workers(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.workers.clear()


@pytest.fixture(scope="module")
def tier(tmp_path_factory: pytest.TempPathFactory, postgres, s3: MotoS3) -> Iterator[Tier]:
    store = s3.fresh()
    database_url = postgres.new_database()
    portal = Portal(tmp_path_factory.mktemp("tier") / "var", database_url)
    scratch = portal.data_dir.parent / "tmp"  # what a killed worker leaves stays here
    scratch.mkdir()
    portal.env["TMPDIR"] = str(scratch)
    portal.env.update(store)
    portal.env.update({"GEOPORTAL_WORKER_TIER": "1", "GEOPORTAL_UPLOAD_RETENTION_S": "1",
                       "GEOPORTAL_WORKER_HEARTBEAT_S": "1",
                       "GEOPORTAL_WORKER_STALLED_S": str(STALLED_S)})
    assert "job queue created" in portal.cli("init").stdout
    assert "job queue ready" in portal.cli("init").stdout  # idempotent
    token = portal.cli("token", "create", "--name", "national", "--role",
                       "admin").stdout.strip()
    portal.start()
    tier = Tier(portal, database_url, store, token)
    try:
        yield tier
    finally:
        tier.stop_workers()
        portal.stop()


@pytest.fixture
def workers(tier: Tier) -> Iterator[Tier]:
    """The tier; every worker a test starts is stopped after it."""
    yield tier
    tier.stop_workers()


def test_a_job_waits_for_a_worker_and_the_worker_runs_it(workers):
    tier = workers
    r = tier.upload("tier-first", _points(20))
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    assert tier.uploads(job_id) == [f"uploads/{job_id}/p.geojson"]  # in S3, for any worker
    time.sleep(2)  # the web node runs no ingest: with no worker the job just waits
    assert tier.job(job_id)["state"] == "queued"
    second = tier.upload("tier-first", _points(3))
    assert second.status_code == 409 and "in progress" in second.json()["description"]

    proc = tier.start_worker("first")
    job = tier.wait(job_id, timeout=90)
    assert job["state"] == "done" and job["version"] == 1, job
    assert tier.worker_of(job_id).endswith(f":{proc.pid}")
    items = requests.get(f"{tier.portal.url}/collections/tier-first/items",
                         params={"f": "json", "limit": 1}, timeout=30).json()
    assert items["numberMatched"] == 20
    deadline = time.monotonic() + 30
    while tier.uploads(job_id):  # published: the upload is removed at once
        assert time.monotonic() < deadline
        time.sleep(0.2)
    server_log = (tier.portal.data_dir / "server.out").read_text()
    assert "layer=tier-first status=published" not in server_log
    done_line = f"job={job_id} layer=tier-first state=done"
    deadline = time.monotonic() + 30  # the worker logs the end after it marks the job done
    while done_line not in (worker_log := tier.worker_log("first")):
        assert time.monotonic() < deadline, worker_log
        time.sleep(0.2)
    assert "layer=tier-first status=published" in worker_log

    proc.send_signal(signal.SIGTERM)  # graceful: exits when idle
    assert proc.wait(timeout=60) == 0


def test_an_upload_gone_from_the_store_is_our_failure_not_the_manifest(workers):
    tier = workers
    r = tier.upload("tier-gone", _points(5))
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    assert tier.objects.delete_prefix(f"uploads/{job_id}/") == 1  # lost before a worker ran
    tier.start_worker("gone")
    job = tier.wait(job_id, timeout=90)
    assert job["state"] == "failed" and job["status"] == 500, job
    assert "no longer on the server" in job["error"] and "upload it again" in job["error"]
    # the store's address stays in the log: not its endpoint, bucket or the scheme
    assert "127.0.0.1" not in job["error"] and "s3:" not in job["error"]
    assert "source.path" not in job["error"] and "manifest" not in job["error"]
    assert tier.s3.bucket not in job["error"]  # which store: in the worker's log only
    assert tier.upload("tier-gone", _points(5)).status_code == 202  # the layer is free


def test_a_job_the_web_node_never_deferred_is_deferred_again(workers):
    tier = workers
    r = tier.upload("tier-lost", _points(7))
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    with psycopg.connect(tier.database_url) as conn:  # as if the node died before deferring
        gone = conn.execute("DELETE FROM procrastinate_jobs WHERE args->>'job_id' = %s",
                            (job_id,)).rowcount
        conn.execute("UPDATE jobs SET created = now() - interval '2 minutes' WHERE id = %s",
                     (job_id,))
    assert gone == 1
    tier.start_worker("lost")
    job = tier.wait(job_id, timeout=90)
    assert job["state"] == "done", job
    assert f"job={job_id} layer=tier-lost was queued but not in the queue" \
        in tier.worker_log("lost")


def test_a_rejected_jobs_upload_is_removed_after_the_retention(workers):
    tier = workers
    tier.start_worker("retention")
    r = tier.upload("tier-nowhere", _points(4, lon=150.0, lat=-30.0))  # outside Belarus
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    job = tier.wait(job_id, timeout=90)
    assert job["state"] == "rejected" and job["status"] == 422, job
    deadline = time.monotonic() + 60  # retention 1 s; the worker sweeps every 5 s
    while tier.uploads(job_id):
        assert time.monotonic() < deadline, "the rejected upload was never removed"
        time.sleep(0.5)


def test_a_worker_killed_mid_job_is_retried_by_another_and_the_layer_is_freed(workers):
    tier = workers
    first = tier.start_worker("killed")
    r = tier.upload("tier-killed", _points(300_000))
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    deadline = time.monotonic() + 60
    while tier.job(job_id)["state"] != "running":
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.1)
    assert tier.worker_of(job_id).endswith(f":{first.pid}")
    first.kill()  # SIGKILL: no finally, no goodbye
    first.wait()
    killed = time.monotonic()
    second = tier.start_worker("second")
    # within 60 s the job is taken by the second worker (or failed): the layer is not stuck
    while True:
        job, owner = tier.job(job_id), tier.worker_of(job_id)
        if job["state"] in ("done", "failed") or (owner or "").endswith(f":{second.pid}"):
            break
        assert time.monotonic() - killed < 60, f"job still held by the dead worker: {job}"
        time.sleep(0.2)
    job = tier.wait(job_id, timeout=180)
    assert job["state"] == "done", job  # retried from the start on the second worker
    assert tier.worker_of(job_id).endswith(f":{second.pid}")
    assert f"job={job_id} retried" in tier.worker_log("second")
    items = requests.get(f"{tier.portal.url}/collections/tier-killed/items",
                         params={"f": "json", "limit": 1}, timeout=30).json()
    assert items["numberMatched"] == 300_000
    again = tier.upload("tier-killed", _points(10))
    assert again.status_code == 202, again.text  # the layer takes uploads again
    assert tier.wait(again.json()["id"], timeout=90)["state"] == "done"


def test_a_worker_refuses_to_start_without_the_worker_tier(tmp_path: Path):
    env = {**os.environ, "GEOPORTAL_DATA_DIR": str(tmp_path / "var"),
           "GEOPORTAL_CONFIG_DIR": str(CONFIG_DIR)}
    env.pop("GEOPORTAL_WORKER_TIER", None)
    env.pop("GEOPORTAL_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "geoportal", "worker"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "GEOPORTAL_WORKER_TIER=1" in result.stderr
    assert "GEOPORTAL_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
