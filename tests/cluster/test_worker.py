"""The ETL worker tier: a worker SIGKILLed mid-job does not leave the layer blocked."""

from __future__ import annotations

import time

import pytest

from tests.cluster.conftest import job_state, manifest, submit, wait_job, write_points

pytestmark = pytest.mark.cluster

LAYER = "cluster-killed-job"


def test_the_worker_killed_mid_job_the_job_is_retried_or_failed_within_60_s(
        cluster, token, data_dir):
    a = cluster.node_url("a")
    path = write_points(data_dir / "killed.gpkg", 300_000, "k")
    job_id = submit(a, token, manifest(LAYER, path.name), path)
    job = wait_job(a, token, job_id, timeout=120, states=("queued",))
    assert job["state"] == "running", job
    (dead,) = cluster.worker_names()
    dead_pid = cluster.parts[dead].pid
    cluster.kill(dead)
    killed = time.monotonic()
    cluster.start_worker("worker-2")  # the tier's other worker (on another machine)

    outcome = None
    while time.monotonic() - killed < 60:  # the bound
        ((state, runner),) = cluster.sql("SELECT state, worker FROM jobs WHERE id = %s",
                                         (job_id,))
        if state in ("failed", "rejected"):
            outcome = f"{state} after {time.monotonic() - killed:.1f} s"
            break
        if state == "done" or (runner and not runner.endswith(f":{dead_pid}")):
            outcome = f"retried ({state} on {runner}) after {time.monotonic() - killed:.1f} s"
            break
        time.sleep(0.5)
    assert outcome is not None, f"job still {state} on the dead worker after 60 s"
    print(f"killed worker's job: {outcome}")

    ended = wait_job(a, token, job_id, timeout=300)
    assert ended["state"] in ("done", "failed"), ended
    if ended["state"] == "failed":
        assert ended.get("error"), ended  # says what happened, in words

    # The layer is not blocked: a new upload is accepted and runs.
    small = write_points(data_dir / "after-kill.gpkg", 100, "after")
    again = submit(a, token, manifest(LAYER, small.name), small)
    assert wait_job(a, token, again)["state"] == "done", job_state(a, token, again)
