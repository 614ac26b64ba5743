"""Uploads of ended jobs and the worker tier's pure parts: ``sweep_uploads`` on the folder
object store with a real (SQLite) catalog, at chosen moments instead of waiting."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from geoportal.admin.jobs import JobQueue, sweep_uploads, upload_key, upload_prefix
from geoportal.admin.queue import layer_lock, stalled_message
from geoportal.catalog import Catalog, load_registry
from geoportal.catalog.repository import utc_now
from geoportal.i18n import translate
from geoportal.storage.objects import LocalObjectStore
from tests.conftest import CONFIG_DIR

MINSK = "5000000000"


@pytest.fixture
def jobs(tmp_path: Path) -> JobQueue:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    catalog.init(load_registry(CONFIG_DIR))
    return JobQueue(catalog.engine)


@pytest.fixture
def objects(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "var")


def _upload(objects: LocalObjectStore, tmp_path: Path, job_id: str) -> str:
    source = tmp_path / f"{job_id}.geojson"
    source.write_text('{"type": "FeatureCollection", "features": []}')
    objects.put_file(upload_key(job_id, "p.geojson"), source)
    return upload_key(job_id, "p.geojson")


def _job(jobs: JobQueue, job_id: str, layer: str, state: str | None) -> None:
    jobs.submit(layer_id=layer, region=MINSK, token_id="t1", manifest={},
                folder=upload_prefix(job_id).rstrip("/"), job_id=job_id)
    if state is not None:
        jobs.finish(job_id, state, status=200 if state == "done" else 422)


def test_the_sweep_keeps_waiting_and_recently_failed_uploads_and_removes_the_rest(
        jobs, objects, tmp_path):
    _job(jobs, "waiting", "a", None)  # queued
    _job(jobs, "rejected", "b", "rejected")
    _job(jobs, "done", "c", "done")
    keys = {job_id: _upload(objects, tmp_path, job_id)
            for job_id in ("waiting", "rejected", "done", "norow")}
    now = utc_now()

    assert sweep_uploads(objects, jobs, retention_s=60, grace_s=120, now=now) == 1
    assert not objects.exists(keys["done"])  # published: nothing to look at
    assert all(objects.exists(keys[k]) for k in ("waiting", "rejected", "norow"))

    later = now + timedelta(seconds=90)  # past the retention, not past the grace
    assert sweep_uploads(objects, jobs, retention_s=60, grace_s=120, now=later) == 1
    assert not objects.exists(keys["rejected"])
    assert objects.exists(keys["waiting"]) and objects.exists(keys["norow"])

    much_later = now + timedelta(days=2)  # a queued job's upload is never swept
    assert sweep_uploads(objects, jobs, retention_s=60, grace_s=120, now=much_later) == 1
    assert not objects.exists(keys["norow"])  # a request died between store and row
    assert objects.exists(keys["waiting"])
    assert not (objects.root / "uploads" / "done").exists()  # emptied folders go too


def test_a_job_taken_by_a_worker_is_running_for_it_and_requeued_after_its_death(jobs):
    _job(jobs, "j1", "roads", None)
    taken = jobs.take("j1", "host:1")
    assert taken is not None and taken.state == "running" and taken.worker == "host:1"
    assert "worker" not in taken.to_dict()  # host names stay out of the API
    jobs.requeue("j1")
    assert jobs.get("j1").state == "queued" and jobs.get("j1").worker is None
    assert jobs.take("j1", "host:2").worker == "host:2"
    jobs.finish("j1", "done", status=200)
    assert jobs.take("j1", "host:3") is None  # ended: nobody runs it again
    assert jobs.ended({"j1", "nope"}) == {"j1": ("done", jobs.get("j1").finished)}


def test_the_worker_tiers_messages_are_said_in_belarusian_and_russian():
    assert layer_lock("roads") == "layer:roads"
    message = stalled_message(20.0)
    assert "20 s" in message and "upload again" in message
    assert "20 с" in translate(message, "be") and "20 с" in translate(message, "ru")
    gone = "the uploaded file roads.zip is no longer on the server; upload it again"
    assert translate(gone, "be").startswith("загружанага файла roads.zip")
    assert translate(gone, "ru").startswith("загруженного файла roads.zip")


def test_a_worker_taken_for_dead_cannot_end_the_job_another_one_runs(jobs, caplog):
    _job(jobs, "j2", "rivers", None)
    assert jobs.take("j2", "host:1") is not None
    jobs.requeue("j2")  # host:1 missed its heartbeats: its job goes to another worker
    assert jobs.take("j2", "host:2") is not None
    with caplog.at_level("WARNING", logger="geoportal.jobs"):
        assert jobs.finish("j2", "failed", status=500, error="late", worker="host:1") is None
    assert jobs.get("j2").state == "running"  # the loser wrote nothing
    assert any("j2" in r.getMessage() and "discarded" in r.getMessage()
               for r in caplog.records)
    ended = jobs.finish("j2", "done", status=200, version=3, worker="host:2")
    assert ended is not None and ended.state == "done" and ended.version == 3
