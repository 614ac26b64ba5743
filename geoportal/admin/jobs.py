"""Upload jobs: a persistent queue in the catalog database and a runner in each server process.

An upload is saved to ``<data_dir>/uploads/<job id>/`` and queued; the HTTP request returns at
once (202). Every server worker runs one ``JobRunner`` thread that claims the oldest queued job
(an UPDATE that only one claimant wins), runs the same ETL as ``geoportal ingest`` and records
the report. A running job writes a heartbeat; a job whose heartbeat stopped (the server was
stopped or killed mid-ingest) is marked failed by the next runner that looks, and the previous
version, untouched by a failed ingest, keeps serving. At most one job per layer is queued or
running (a partial unique index): a second upload of the same layer gets 409.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import tempfile
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from geoportal.admin.audit import AuditLog
from geoportal.admin.boundaries import RegionBoundaries
from geoportal.catalog import Catalog
from geoportal.catalog import schema as t
from geoportal.catalog.registry import Registry
from geoportal.catalog.repository import as_utc, utc_now
from geoportal.cleanup import clean_up_quietly
from geoportal.errors import (
    Conflict,
    GeoportalError,
    InputError,
    NotFound,
    SchemaError,
    StorageError,
)
from geoportal.etl.geometry import MAX_VERTICES
from geoportal.etl.manifest import Manifest, build_manifest
from geoportal.etl.pipeline import ingest
from geoportal.storage import FeatureStore
from geoportal.storage.rasters import RasterStore

__all__ = ["Job", "JobQueue", "JobRunner", "check_one_layer"]

log = logging.getLogger("geoportal.jobs")

HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 30.0  # a running job whose heartbeat is older was cut off


@dataclass(frozen=True)
class Job:
    """One upload and what became of it."""

    id: str
    layer_id: str
    region: str
    token_id: str
    state: str
    manifest: dict[str, Any]
    folder: str
    created: datetime
    started: datetime | None = None
    finished: datetime | None = None
    version: int | None = None
    report: dict[str, Any] | None = None
    error: str | None = None
    status: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The job as the API shows it (no server paths)."""
        return {"id": self.id, "layer": self.layer_id, "region": self.region,
                "state": self.state, "created": self.created.isoformat(),
                "started": self.started.isoformat() if self.started else None,
                "finished": self.finished.isoformat() if self.finished else None,
                "version": self.version, "status": self.status, "error": self.error,
                "report": self.report}


class JobQueue:
    """The jobs table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def submit(self, *, layer_id: str, region: str, token_id: str, manifest: dict[str, Any],
               folder: Path, job_id: str | None = None) -> Job:
        """Queue an upload; Conflict (409) when the layer already has one queued or running."""
        job_id = job_id or uuid.uuid4().hex
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(t.jobs).values(
                    id=job_id, layer_id=layer_id, region=region, token_id=token_id,
                    state="queued", manifest=manifest, folder=str(folder), created=utc_now()))
        except IntegrityError:
            active = self.active_for(layer_id)
            which = f" (job {active.id}, {active.state})" if active else ""
            raise Conflict(f"layer {layer_id!r} already has an upload in progress{which}; "
                           "wait for it to finish, then upload again") from None
        except SQLAlchemyError as exc:
            raise StorageError(f"jobs: {exc}") from exc
        return self.get(job_id)

    def get(self, job_id: str) -> Job:
        with self.engine.begin() as conn:
            row = conn.execute(select(t.jobs).where(t.jobs.c.id == job_id)).mappings().first()
        if row is None:
            raise NotFound(f"no job {job_id!r}")
        return _job(row)

    def active_for(self, layer_id: str) -> Job | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(t.jobs).where(
                (t.jobs.c.layer_id == layer_id) & t.jobs.c.state.in_(("queued", "running"))
            )).mappings().first()
        return _job(row) if row is not None else None

    def claim(self, worker: str) -> Job | None:
        """The oldest queued job, now running for ``worker``; None when there is none (or
        another worker won it)."""
        with self.engine.begin() as conn:
            row = conn.execute(select(t.jobs.c.id).where(t.jobs.c.state == "queued")
                               .order_by(t.jobs.c.created).limit(1)).first()
            if row is None:
                return None
            now = utc_now()
            won = conn.execute(update(t.jobs).where(
                (t.jobs.c.id == row[0]) & (t.jobs.c.state == "queued")
            ).values(state="running", started=now, heartbeat=now, worker=worker)).rowcount
        return self.get(row[0]) if won == 1 else None

    def heartbeat(self, job_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.jobs).where((t.jobs.c.id == job_id)
                                              & (t.jobs.c.state == "running"))
                         .values(heartbeat=utc_now()))

    def finish(self, job_id: str, state: str, *, status: int, report: dict[str, Any] | None = None,
               error: str | None = None, version: int | None = None) -> Job:
        with self.engine.begin() as conn:
            conn.execute(update(t.jobs).where(t.jobs.c.id == job_id).values(
                state=state, finished=utc_now(), status=status, report=report, error=error,
                version=version))
        return self.get(job_id)

    def fail_orphans(self, stale_seconds: float = STALE_SECONDS) -> list[Job]:
        """Mark failed the running jobs whose worker stopped beating (a restart cut them off);
        the previous version of their layer keeps serving."""
        limit = utc_now() - timedelta(seconds=stale_seconds)
        with self.engine.begin() as conn:
            rows = conn.execute(select(t.jobs.c.id).where(
                (t.jobs.c.state == "running") & (t.jobs.c.heartbeat < limit))).all()
            for (job_id,) in rows:
                conn.execute(update(t.jobs).where(
                    (t.jobs.c.id == job_id) & (t.jobs.c.state == "running")
                ).values(state="failed", finished=utc_now(), status=500,
                         error="the server stopped during the ingest; the previous version "
                               "still serves; upload again"))
        return [self.get(job_id) for (job_id,) in rows]


# The folders of an absolute path (a temporary copy's, /vsizip/ in front), where a path starts
# a word: "lon/lat" or "EPSG:4326" are left alone. Folders with spaces are cut literally first.
_FOLDERS = re.compile(r"(?<![\w.:/])(?:/[^\s/'\"()]+)+/(?=[^\s/])")
_VSIZIP = re.compile(r"/vsizip/+(?:[^\s'\"()]*/)?([^\s/'\"()]+\.(?:zip|kmz|xlsx|ods))/",
                     re.IGNORECASE)
# Folders below a known place, up to an archive (kept: roads.zip/roads/roads.shp).
_BELOW = r"(?:(?![^\s/'\"()]+\.(?:zip|kmz|xlsx|ods)/)[^\s/'\"()]+/)*"


def _without_paths(message: str, folder: Path | None = None) -> str:
    """A job's message as an editor sees it: each file named as uploaded (a zip member as
    ``roads.zip/roads/roads.shp``), without the folders it sits in on the server.

    The ETL names files by their names already; this is the last net. ``folder`` is the
    job's upload folder (``<data_dir>/uploads/<job id>``): it, the data folder and the
    temporary folder are cut literally, as they may hold spaces a pattern cannot tell from
    the words around them; then any other absolute path is cut to its last part.
    """
    places = [Path(tempfile.gettempdir())]
    if folder is not None:
        places[:0] = [folder, folder.parent.parent]  # the upload's, then the data folder
    for place in places:
        if place.is_absolute() and place != Path(place.anchor):
            # the place, then the folders of ours below it (no spaces in those)
            below = re.escape(f"{place}{os.sep}") + _BELOW
            message = re.sub(r"(?:/vsizip/+)?" + below, "", message)
    return _FOLDERS.sub("", _VSIZIP.sub(r"\1/", message))


def check_one_layer(manifest: Manifest) -> None:
    """An upload publishes one layer (the job's, whose region the token was checked for):
    refuse ``source.split_geometry``, which would publish one per geometry type."""
    if manifest.source.split_geometry:
        raise SchemaError(f"{manifest.source.path.name}: source.split_geometry cannot be used "
                          "in an upload, which publishes one layer; leave it out to publish "
                          "the main geometry type (the others are set aside), or upload each "
                          "geometry type as a file of its own")


def _job(row: Any) -> Job:
    return Job(id=row["id"], layer_id=row["layer_id"], region=row["region"],
               token_id=row["token_id"], state=row["state"], manifest=row["manifest"],
               folder=row["folder"], created=as_utc(row["created"]),
               started=as_utc(row["started"]), finished=as_utc(row["finished"]),
               version=row["version"], report=row["report"], error=row["error"],
               status=row["status"])


class JobRunner(threading.Thread):
    """Claims queued jobs and runs the ETL on them, one at a time, until stopped."""

    def __init__(self, queue: JobQueue, *, catalog: Catalog, store: FeatureStore,
                 registry: Registry, rasters: RasterStore, audit: AuditLog,
                 keep_versions: int, poll_seconds: float = 0.5,
                 boundaries: RegionBoundaries | None = None,
                 max_vertices: int = MAX_VERTICES, layers_dir: Path | None = None) -> None:
        super().__init__(name="geoportal-jobs", daemon=True)
        self.queue = queue
        self.catalog, self.store, self.registry, self.rasters = catalog, store, registry, rasters
        self.audit = audit
        self.keep_versions = keep_versions
        self.boundaries, self.max_vertices = boundaries, max_vertices  # the ETL's region check
        self.layers_dir = layers_dir  # the gazetteer that settles ambiguous CRS fits
        self.poll_seconds = poll_seconds
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                for orphan in self.queue.fail_orphans():
                    self.audit.record("upload", "failed", layer_id=orphan.layer_id,
                                      region=orphan.region, job_id=orphan.id, status=500,
                                      detail=orphan.error, token_id=orphan.token_id)
                    self.clean_up(Path(orphan.folder).parent, f"after job {orphan.id}")
                job = self.queue.claim(self.worker)
                failures = 0
                if job is not None:
                    self.run_job(job)
                    continue
            except Exception as exc:  # never let the runner die: log, back off, try again
                failures += 1
                if failures == 1 or failures % 20 == 0:
                    log.error("job runner: %s (failure %d; retrying)", exc, failures,
                              exc_info=failures == 1)
            # a database that is down is asked again after up to 30 s, not twice a second
            self._stop.wait(min(30.0, self.poll_seconds * 2 ** min(failures, 6)))

    def run_job(self, job: Job) -> Job:
        """Run one claimed job to its end state."""
        beating = threading.Event()

        def beat() -> None:
            while not beating.wait(HEARTBEAT_SECONDS):
                try:
                    self.queue.heartbeat(job.id)
                except GeoportalError:
                    log.warning("job %s: heartbeat failed", job.id)

        ticker = threading.Thread(target=beat, name="geoportal-job-heartbeat", daemon=True)
        ticker.start()
        folder = Path(job.folder)
        try:
            manifest = build_manifest(job.manifest, base=Path(job.folder),
                                      origin=f"upload {job.id}")
            check_one_layer(manifest)  # checked at upload too; kept for queued jobs
            report = ingest(manifest, catalog=self.catalog, store=self.store,
                            registry=self.registry, rasters=self.rasters,
                            keep_versions=self.keep_versions, boundaries=self.boundaries,
                            max_vertices=self.max_vertices, layers_dir=self.layers_dir)
            state, status, error = "done", HTTPStatus.OK, None
            version = report.version
            details = {**report.to_dict(), "source": Path(report.source).name}
        except InputError as exc:
            state, status, error, version, details = ("rejected", exc.http_status,
                                                      _without_paths(exc.user_msg, folder),
                                                      None, None)
        except Exception as exc:  # our side failed: the previous version keeps serving
            log.exception("job %s failed", job.id)
            state, status, version, details = ("failed", HTTPStatus.INTERNAL_SERVER_ERROR,
                                               None, None)
            error = (_without_paths(exc.user_msg, folder) if isinstance(exc, GeoportalError)
                     else "the ingest failed on the server; the previous version still serves")
        finally:
            beating.set()
        finished = self.queue.finish(job.id, state, status=int(status), report=details,
                                     error=error, version=version)
        self.audit.record("upload", {"done": "ok"}.get(state, state), layer_id=job.layer_id,
                          region=job.region, version=version, job_id=job.id,
                          status=int(status), detail=error, token_id=job.token_id)
        shutil.rmtree(job.folder, ignore_errors=True)
        self.clean_up(Path(job.folder).parent, f"after job {job.id}")
        return finished

    def clean_up(self, uploads_dir: Path, when: str) -> None:
        """What crashed jobs and ingests left (a failed job's staged file is removed by the
        ETL itself; a killed one's is not)."""
        clean_up_quietly(self.catalog, self.store, coverage_dir=self.rasters.root,
                         uploads_dir=uploads_dir, when=when)
