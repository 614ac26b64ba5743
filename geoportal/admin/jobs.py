"""Upload jobs: the ``jobs`` table (the API's view of every upload) and the runner of the ETL.

An upload is checked, stored in the object store under ``uploads/<job id>/<file name>`` (on the
embedded default that is ``<data_dir>/uploads/<job id>/``) and queued; the HTTP request returns
at once (202). At most one job per layer is queued or running (a partial unique index): a second
upload of the same layer gets 409.

Who runs the ETL:

- the embedded default: every server worker runs one ``JobRunner`` thread that claims the oldest
  queued job (an UPDATE that only one claimant wins). A running job writes a heartbeat; a job
  whose heartbeat stopped (the server was stopped or killed mid-ingest) is marked failed by the
  next runner that looks;
- with ``GEOPORTAL_WORKER_TIER`` set: ``geoportal worker`` processes take the jobs from a
  procrastinate queue (``geoportal.admin.queue``) and run them with the same ``JobRunner.run_job``.

Either way a runner fetches the upload with ``objects.local_file`` (the file itself on the local
store, a temporary copy from S3 that it removes), runs the same ETL as ``geoportal ingest`` and
records the report; the previous version, untouched by a failed ingest, keeps serving. A
successful job's upload is removed at once (its data is published); a rejected or failed one is
kept ``upload_retention_s`` for an operator to look at, then removed by ``sweep_uploads``, which
every runner calls now and then.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from pathlib import Path, PurePath
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
from geoportal.cleanup import GRACE_SECONDS, clean_up_quietly, upload_kept
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
from geoportal.i18n import Message, message_from_json, message_to_json, tr
from geoportal.states import JobState
from geoportal.storage import FeatureStore
from geoportal.storage.objects import ObjectMissing, ObjectStore
from geoportal.storage.rasters import RasterStore

__all__ = ["Job", "JobQueue", "JobRunner", "check_one_layer", "sweep_uploads", "upload_key",
           "upload_prefix"]

log = logging.getLogger("geoportal.jobs")

HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 30.0  # a running job whose heartbeat is older was cut off
UPLOADS = "uploads/"  # the object store's prefix of uploads waiting for (or kept after) a job


def upload_prefix(job_id: str) -> str:
    """The object-store prefix of a job's upload: ``uploads/<job id>/``."""
    return f"{UPLOADS}{job_id}/"


def upload_key(job_id: str, name: str) -> str:
    """The object-store key of a job's uploaded file: ``uploads/<job id>/<file name>``."""
    return f"{upload_prefix(job_id)}{name}"


@dataclass(frozen=True)
class Job:
    """One upload and what became of it."""

    id: str
    layer_id: str
    region: str
    token_id: str
    state: JobState
    manifest: dict[str, Any]
    folder: str
    created: datetime
    started: datetime | None = None
    finished: datetime | None = None
    version: int | None = None
    report: dict[str, Any] | None = None
    error: str | None = None
    status: int | None = None
    worker: str | None = None  # host:pid of the runner (operators only; not in the API)

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
               folder: Path | str, job_id: str | None = None) -> Job:
        """Queue an upload; Conflict (409) when the layer already has one queued or running.

        ``folder`` is where the upload waits: the object-store prefix ``uploads/<job id>``
        (rows of older versions hold the absolute folder; both end in the job id)."""
        job_id = job_id or uuid.uuid4().hex
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(t.jobs).values(
                    id=job_id, layer_id=layer_id, region=region, token_id=token_id,
                    state=JobState.QUEUED, manifest=manifest, folder=str(folder),
                    created=utc_now()))
        except IntegrityError:
            active = self.active_for(layer_id)
            if active is None:  # it finished meanwhile
                raise Conflict(tr("layer {id} already has an upload in progress; wait for it to "
                                  "finish, then upload again", id=repr(layer_id))) from None
            raise Conflict(tr("layer {id} already has an upload in progress (job {job}, "
                              "{state}); wait for it to finish, then upload again",
                              id=repr(layer_id), job=active.id, state=active.state)) from None
        except SQLAlchemyError as exc:
            raise StorageError(f"jobs: {exc}") from exc
        return self.get(job_id)

    def get(self, job_id: str) -> Job:
        with self.engine.begin() as conn:
            row = conn.execute(select(t.jobs).where(t.jobs.c.id == job_id)).mappings().first()
        if row is None:
            raise NotFound(tr("no job {id}", id=repr(job_id)))
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

    def take(self, job_id: str, worker: str) -> Job | None:
        """Job ``job_id``, now running for ``worker`` (the worker tier: the queue handed it
        over, so it is this worker's even when a dead worker's name is still on it); None when
        it is gone or already ended."""
        now = utc_now()
        with self.engine.begin() as conn:
            won = conn.execute(update(t.jobs).where(
                (t.jobs.c.id == job_id) & t.jobs.c.state.in_(("queued", "running"))
            ).values(state="running", started=now, heartbeat=now, worker=worker)).rowcount
        return self.get(job_id) if won == 1 else None

    def requeue(self, job_id: str) -> None:
        """Back to queued, for another worker (its worker died; the ingest starts over)."""
        with self.engine.begin() as conn:
            conn.execute(update(t.jobs).where(
                (t.jobs.c.id == job_id) & t.jobs.c.state.in_(("queued", "running"))
            ).values(state="queued", started=None, heartbeat=None, worker=None))

    def ended(self, job_ids: set[str]) -> dict[str, tuple[str, datetime | None]]:
        """State and finish time of those of ``job_ids`` that have a row."""
        found: dict[str, tuple[str, datetime | None]] = {}
        ids = sorted(job_ids)
        with self.engine.begin() as conn:
            for start in range(0, len(ids), 500):
                rows = conn.execute(select(t.jobs.c.id, t.jobs.c.state, t.jobs.c.finished)
                                    .where(t.jobs.c.id.in_(ids[start:start + 500]))).all()
                found.update({job_id: (state, as_utc(finished))
                              for job_id, state, finished in rows})
        return found

    def queued_before(self, limit: datetime) -> list[Job]:
        """Jobs queued before ``limit`` and still waiting."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(t.jobs).where(
                (t.jobs.c.state == "queued") & (t.jobs.c.created < limit))).mappings().all()
        return [_job(row) for row in rows]

    def heartbeat(self, job_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.jobs).where((t.jobs.c.id == job_id)
                                              & (t.jobs.c.state == "running"))
                         .values(heartbeat=utc_now()))

    def finish(self, job_id: str, state: JobState, *, status: int,
               report: dict[str, Any] | None = None,
               error: str | None = None, version: int | None = None,
               worker: str | None = None) -> Job | None:
        """End job ``job_id`` with its outcome; the job as stored now. ``worker``: the run's
        worker, which must still own the job (a worker wrongly taken for dead sees it
        requeued or taken by another): otherwise nothing is written, one line is logged and
        None returned; the caller discards its result."""
        where = t.jobs.c.id == job_id
        if worker is not None:
            where = where & (t.jobs.c.worker == worker)
        with self.engine.begin() as conn:
            won = conn.execute(update(t.jobs).where(where).values(
                state=state, finished=utc_now(), status=status, report=report,
                error=_stored_error(error), version=version)).rowcount
        if won == 0 and worker is not None:
            log.warning("job %s: now another worker's (requeued while %s ran it); its result "
                        "(%s) is discarded", job_id, worker, state)
            return None
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
                         error=_stored_error(tr("the server stopped during the ingest; the "
                                                "previous version still serves; upload "
                                                "again"))))
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


def _shown_to_users(message: str, folder: Path | None = None) -> str:
    """``_without_paths`` for a message that may be a ``Message``: the paths are cut from its
    values (nested messages' too) and it keeps its id, so that the admin API says a job's
    error in the reader's language. Should a path remain in the English all the same (one
    made of the template's text and a value), the English without paths is the answer."""
    if not isinstance(message, Message):
        return _without_paths(message, folder)
    values = {name: value if isinstance(value, int | float | bool) or value is None
              else _shown_to_users(value, folder) if isinstance(value, Message)
              else _without_paths(str(value), folder)
              for name, value in message.params.items()}
    try:
        shown = Message(message.template, values)
    except (KeyError, IndexError, ValueError):  # a format spec for a value made text
        return _without_paths(str(message), folder)
    english = _without_paths(str(shown), folder)
    return shown if english == str(shown) else english


def _stored_error(error: str | None) -> str | None:
    """A job's error as the ``error`` column keeps it: a ``Message`` as the JSON of its id
    and values (``message_to_json``), any other text as it is."""
    if isinstance(error, Message):
        return json.dumps(message_to_json(error), ensure_ascii=False)
    return error


def _read_error(stored: str | None) -> str | None:
    """The error ``_stored_error`` stored: the ``Message`` again, or the plain text (rows
    written before errors kept their id hold plain English)."""
    if not stored or not stored.startswith("{"):
        return stored
    try:
        data = json.loads(stored)
    except ValueError:
        return stored
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return stored
    return message_from_json(data)


def check_one_layer(manifest: Manifest) -> None:
    """An upload publishes one layer (the job's, whose region the token was checked for):
    refuse ``source.split_geometry``, which would publish one per geometry type."""
    if manifest.source.split_geometry:
        raise SchemaError(tr("{name}: source.split_geometry cannot be used in an upload, which "
                             "publishes one layer; leave it out to publish the main geometry "
                             "type (the others are set aside), or upload each geometry type as "
                             "a file of its own", name=manifest.source.path.name))


def _job(row: Any) -> Job:
    return Job(id=row["id"], layer_id=row["layer_id"], region=row["region"],
               token_id=row["token_id"], state=JobState(row["state"]),
               manifest=row["manifest"],
               folder=row["folder"], created=as_utc(row["created"]),
               started=as_utc(row["started"]), finished=as_utc(row["finished"]),
               version=row["version"], report=row["report"], error=_read_error(row["error"]),
               status=row["status"], worker=row["worker"])


def sweep_uploads(objects: ObjectStore, queue: JobQueue, *, retention_s: float,
                  grace_s: float = GRACE_SECONDS, now: datetime | None = None) -> int:
    """Remove the uploads no job needs any more; returns how many objects went.

    Kept: the uploads of queued and running jobs; a rejected or failed job's for
    ``retention_s`` after it ended (an operator may want to look at it); an upload without a
    job row for ``grace_s`` (it is stored before its row is inserted). A done job's upload is
    removed by its runner at once; one that a crash left is removed here.
    """
    now = now or utc_now()
    newest: dict[str, datetime] = {}
    for info in objects.list(UPLOADS):
        parts = info.key.split("/")
        if len(parts) < 3:
            continue
        newest[parts[1]] = max(info.modified, newest.get(parts[1], info.modified))
    rows = queue.ended(set(newest))
    removed = 0
    for job_id, modified in sorted(newest.items()):
        state, finished = rows.get(job_id, (None, None))
        if upload_kept(state, finished, modified, now, retention_s=retention_s,
                       grace_s=grace_s):
            continue
        removed += objects.delete_prefix(upload_prefix(job_id))
    return removed


def _upload_name(job: Job) -> str:
    """The uploaded file's name (the server put it in the manifest's ``source.path``)."""
    source = job.manifest.get("source") if isinstance(job.manifest, dict) else None
    path = source.get("path") if isinstance(source, dict) else None
    return PurePath(str(path or "")).name


class JobRunner(threading.Thread):
    """Runs upload jobs through the ETL, one at a time.

    As a thread (the embedded default, ``start()``): claims queued jobs until stopped, fails
    orphans and sweeps old uploads. In ``geoportal worker`` the queue calls ``run_job`` and
    ``sweep`` directly; the thread is never started there.
    """

    def __init__(self, queue: JobQueue, *, catalog: Catalog, store: FeatureStore,
                 registry: Registry, rasters: RasterStore, audit: AuditLog,
                 objects: ObjectStore, keep_versions: int, poll_seconds: float = 0.5,
                 boundaries: RegionBoundaries | None = None,
                 max_vertices: int = MAX_VERTICES, layers_dir: Path | None = None,
                 upload_retention_s: float = 86_400.0, grace_s: float = GRACE_SECONDS,
                 worker: str | None = None) -> None:
        super().__init__(name="geoportal-jobs", daemon=True)
        self.queue = queue
        self.catalog, self.store, self.registry, self.rasters = catalog, store, registry, rasters
        self.audit = audit
        self.objects = objects
        self.keep_versions = keep_versions
        self.boundaries, self.max_vertices = boundaries, max_vertices  # the ETL's region check
        self.layers_dir = layers_dir  # the gazetteer that settles ambiguous CRS fits
        self.poll_seconds = poll_seconds
        self.upload_retention_s, self.grace_s = upload_retention_s, grace_s
        # how often old uploads are looked for: a day's retention needs no minutely LIST
        self.sweep_every_s = min(300.0, max(5.0, upload_retention_s / 2))
        self._swept = 0.0
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self.fail_orphans()
                self.sweep()
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

    def fail_orphans(self, stale_seconds: float = STALE_SECONDS) -> list[Job]:
        """``JobQueue.fail_orphans``, audited, and clean-up after each."""
        orphans = self.queue.fail_orphans(stale_seconds)
        for orphan in orphans:
            self.audit.record("upload", "failed", layer_id=orphan.layer_id,
                              region=orphan.region, job_id=orphan.id, status=500,
                              detail=orphan.error, token_id=orphan.token_id)
            self.clean_up(f"after job {orphan.id}")
        return orphans

    def sweep(self, *, force: bool = False) -> int:
        """``sweep_uploads`` at most every ``sweep_every_s`` (``force``: now); never fails."""
        if not force and time.monotonic() - self._swept < self.sweep_every_s:
            return 0
        self._swept = time.monotonic()
        try:
            removed = sweep_uploads(self.objects, self.queue,
                                    retention_s=self.upload_retention_s, grace_s=self.grace_s)
        except Exception as exc:  # the store or the database is away: next time
            log.warning("upload sweep failed: %s", exc)
            return 0
        if removed:
            log.info("upload sweep: removed %d uploaded files of ended jobs (%s)", removed,
                     self.objects.describe)
        return removed

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
        folder: Path | None = None
        try:
            with contextlib.ExitStack() as local:
                path = local.enter_context(self._fetch_upload(job))
                folder = path.parent
                manifest = build_manifest(job.manifest, base=folder,
                                          origin=f"upload {job.id}")
                check_one_layer(manifest)  # checked at upload too; kept for queued jobs
                report = ingest(manifest, catalog=self.catalog, store=self.store,
                                registry=self.registry, rasters=self.rasters,
                                keep_versions=self.keep_versions, boundaries=self.boundaries,
                                max_vertices=self.max_vertices, layers_dir=self.layers_dir)
            state, status, error = JobState.DONE, HTTPStatus.OK, None
            version = report.version
            details = {**report.to_dict(), "source": Path(report.source).name}
        except InputError as exc:
            state, status, error, version, details = (JobState.REJECTED, exc.http_status,
                                                      _shown_to_users(exc.user_msg, folder),
                                                      None, None)
        except Exception as exc:  # our side failed: the previous version keeps serving
            if not isinstance(exc, _UploadGone):
                log.exception("job %s failed", job.id)
            state, status, version, details = (JobState.FAILED,
                                               HTTPStatus.INTERNAL_SERVER_ERROR,
                                               None, None)
            error = (_shown_to_users(exc.user_msg, folder) if isinstance(exc, GeoportalError)
                     else tr("the ingest failed on the server; the previous version still "
                             "serves"))
        finally:
            beating.set()
        finished = self.queue.finish(job.id, state, status=int(status), report=details,
                                     error=error, version=version, worker=self.worker)
        if finished is None:
            # Lost to the worker now running the job: no audit row, the upload is kept for
            # it. A version this run already published stays: it is the same upload,
            # complete and valid (published in one transaction); the other run publishes
            # the next version, and ``keep_versions`` prunes the extra one.
            return self.queue.get(job.id)
        self.audit.record("upload", {"done": "ok"}.get(state, state), layer_id=job.layer_id,
                          region=job.region, version=version, job_id=job.id,
                          status=int(status), detail=error, token_id=job.token_id)
        if state == "done" or self.upload_retention_s <= 0:
            self._drop_upload(job)  # published: nothing left to look at
        self.clean_up(f"after job {job.id}")
        return finished

    @contextlib.contextmanager
    def _fetch_upload(self, job: Job) -> Iterator[Path]:
        """The job's uploaded file as a local file: the file itself on the local store, a
        copy in the temp folder (removed afterwards) from S3. Missing: ``_UploadGone``, a
        failure of ours, never a problem with the manifest."""
        name = _upload_name(job)
        key = upload_key(PurePath(job.folder).name, name)
        with contextlib.ExitStack() as stack:
            try:
                path = stack.enter_context(self.objects.local_file(key))
            except ObjectMissing as exc:
                # the store's address (endpoint, bucket) only in the log, never to the user
                log.warning("job %s: %s (object store %s)", job.id, exc, self.objects.describe)
                raise _UploadGone(tr("the uploaded file {name} is no longer on the server; "
                                     "upload it again", name=name)) from None
            yield path

    def _drop_upload(self, job: Job) -> None:
        try:
            self.objects.delete_prefix(upload_prefix(PurePath(job.folder).name))
        except Exception as exc:  # the sweep takes it later
            log.warning("job %s: upload not removed yet: %s", job.id, exc)

    def clean_up(self, when: str) -> None:
        """What crashed jobs and ingests left (a failed job's staged file is removed by the
        ETL itself; a killed one's is not)."""
        clean_up_quietly(self.catalog, self.store, coverage_dir=self.rasters,
                         uploads_dir=_uploads_dir(self.objects), when=when,
                         grace_s=self.grace_s, upload_retention_s=self.upload_retention_s)


class _UploadGone(StorageError):
    """A job's upload is not in the object store (removed by hand, or lost with an emulator
    or a machine's disk): our side failed, the user can only upload again."""


def _uploads_dir(objects: ObjectStore) -> Path | None:
    """The local folder of uploads, when the object store is a folder (else None)."""
    root = getattr(objects, "root", None)
    return Path(root) / "uploads" if root is not None else None
