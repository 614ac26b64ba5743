"""One rule keeps uploads (cleanup.upload_kept): the folder clean-up (``clean_up`` of
data_dir/uploads) and the object-store sweep (``sweep_uploads``) decide the same way for the
same jobs."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from geoportal.admin.jobs import JobQueue, sweep_uploads, upload_key, upload_prefix
from geoportal.catalog import Catalog, load_registry
from geoportal.cleanup import clean_up, upload_kept
from geoportal.storage import open_store
from geoportal.storage.objects import LocalObjectStore
from tests.conftest import CONFIG_DIR, make_settings

NOW = datetime(2025, 1, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(("state", "ended_s", "written_s", "kept"), [
    ("queued", None, 10**6, True), ("running", None, 10**6, True),
    ("failed", 30, 10**6, True), ("rejected", 30, 10**6, True),
    ("failed", 90, 10**6, False), ("failed", None, 10**6, False),
    ("done", 1, 1, False), (None, None, 100, True), (None, None, 200, False),
])
def test_the_rule(state, ended_s, written_s, kept) -> None:
    finished = NOW - timedelta(seconds=ended_s) if ended_s is not None else None
    assert upload_kept(state, finished, NOW - timedelta(seconds=written_s), NOW,
                       retention_s=60, grace_s=120) is kept


def test_folder_clean_up_and_object_sweep_agree(tmp_path: Path) -> None:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    catalog.init(load_registry(CONFIG_DIR))
    jobs = JobQueue(catalog.engine)
    objects = LocalObjectStore(tmp_path / "var")
    old = time.time() - 3600
    for job_id, state in (("a" * 32, None), ("b" * 32, "failed"), ("c" * 32, "done"),
                          ("d" * 32, "queued"), ("e" * 32, "missing-row")):
        source = tmp_path / f"{job_id}.txt"
        source.write_text("x")
        objects.put_file(upload_key(job_id, "p.geojson"), source)
        os.utime(objects.path(upload_key(job_id, "p.geojson")), (old, old))
        os.utime(objects.path(upload_key(job_id, "p.geojson")).parent, (old, old))
        if state != "missing-row":
            jobs.submit(layer_id=f"l-{job_id[0]}", region="5000000000", token_id="t",
                        manifest={}, folder=upload_prefix(job_id).rstrip("/"), job_id=job_id)
            if state is not None and state != "queued":
                jobs.finish(job_id, state, status=422)
    store = open_store(make_settings(tmp_path / "var"))
    try:
        report = clean_up(catalog, store, coverage_dir=tmp_path / "var" / "coverages",
                          uploads_dir=tmp_path / "var" / "uploads", grace_s=120, temp=False,
                          upload_retention_s=3600)
    finally:
        store.close()
    by_folder = sorted(r.name.split("/")[1] for r in report.removed)
    # a job "a" queued a moment ago by submit() is queued; the failed one within the
    # retention is kept; the done one and the one without a row (written an hour ago) go
    assert by_folder == sorted(["c" * 32, "e" * 32])
    assert sweep_uploads(objects, jobs, retention_s=3600, grace_s=120) == 0  # nothing left
