"""The ETL worker tier: upload jobs on a procrastinate queue that ``geoportal worker`` takes.

With ``GEOPORTAL_WORKER_TIER`` set, a web node never runs an ingest: the upload route inserts
the ``jobs`` row (the API's view: state, report, error, and the 409 for a second upload of a
layer) and defers one procrastinate task, ``run_upload(job_id)``, locked per layer
(``layer:<id>``). Any number of ``geoportal worker`` processes, on any machines that reach the
primary and the object store, take the tasks: each one fetches the upload from the object store,
runs the same ``JobRunner.run_job`` as the embedded default and records the outcome in the row.

procrastinate (on the PostgreSQL we run anyway) gives the queue, the per-layer lock and each
worker's heartbeat (``procrastinate_workers.last_heartbeat``, every ``worker_heartbeat_s``).
What it does not do is act on a dead worker's jobs: every worker runs ``sweep_stalled`` in a
loop beside its jobs, so that a job whose worker has been silent more than
``worker_stalled_s`` is retried once on another worker (its ingest starts over; the previous
version serves meanwhile, the dead one's staging is removed by clean-up), and failed the second
time (the row too, with a sentence and an audit record). The layer is free again within about
``worker_stalled_s`` + 10 s. LISTEN/NOTIFY does not pass PgBouncer in transaction mode, so the
queue talks to the primary directly (``GEOPORTAL_QUEUE_DATABASE_URL``, default the catalog's).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from datetime import timedelta

import psycopg
from procrastinate import App, JobContext, PsycopgConnector
from procrastinate import exceptions as queue_errors
from procrastinate.jobs import Status

from geoportal.admin.audit import AuditLog
from geoportal.admin.boundaries import RegionBoundaries
from geoportal.admin.jobs import STALE_SECONDS, Job, JobQueue, JobRunner
from geoportal.catalog import Catalog
from geoportal.catalog.registry import Registry
from geoportal.catalog.repository import utc_now
from geoportal.config import Settings
from geoportal.errors import Conflict, DatabaseUnavailable, InputError, StorageError
from geoportal.i18n import Message, tr
from geoportal.log import configure_logging
from geoportal.states import JobState
from geoportal.storage import open_store
from geoportal.storage.objects import open_object_store
from geoportal.storage.postgis import libpq_url
from geoportal.storage.rasters import RasterStore

__all__ = ["QUEUE", "TASK", "UploadQueue", "ensure_schema", "layer_lock", "queue_app",
           "requeue_lost", "run_worker", "stalled_message", "start_worker", "sweep_stalled"]

log = logging.getLogger("geoportal.worker")

TASK = "geoportal.run_upload"
QUEUE = "uploads"
SWEEP_MAX_S = 10.0  # a dead worker's job waits at most this long past worker_stalled_s
LOST_AFTER_S = 60.0  # a row queued this long without a queue entry was never deferred
RESTART_MAX_S = 30.0  # the longest wait before the job loop is started again


def layer_lock(layer_id: str) -> str:
    """The procrastinate lock (and queueing lock) of a layer's jobs: one at a time."""
    return f"layer:{layer_id}"


def queue_app(settings: Settings, *, min_size: int = 0, max_size: int = 2) -> App:
    """The procrastinate app on ``settings.queue_url`` (a direct connection to the primary),
    with the one task ``run_upload``; nothing is connected until the app is opened.

    A web node opens it on its first upload with a pool of at most two connections; a worker
    with a few more (its listener, heartbeat, sweeper and jobs each take one)."""
    logging.getLogger("procrastinate").setLevel(logging.WARNING)  # our own line per job
    connector = PsycopgConnector(conninfo=libpq_url(settings.queue_url), min_size=min_size,
                                 max_size=max_size,
                                 timeout=10.0,  # a request waits no longer for a connection
                                 kwargs={"prepare_threshold": None,
                                         "application_name": "geoportal-queue"})
    app = App(connector=connector)

    @app.task(name=TASK, queue=QUEUE, pass_context=True)
    def run_upload(context: JobContext, job_id: str) -> str:
        """Run the upload job ``job_id`` with the worker's runner; returns its end state."""
        runner: JobRunner = context.additional_context["runner"]
        started = time.monotonic()
        job = runner.queue.take(job_id, runner.worker)
        if job is None:  # ended meanwhile (failed by a sweeper), or its row is gone
            log.warning("job=%s skipped: no longer queued", job_id)
            return "skipped"
        ended = runner.run_job(job)
        log.info("job=%s layer=%s state=%s status=%s version=%s seconds=%.1f worker=%s",
                 ended.id, ended.layer_id, ended.state, ended.status, ended.version,
                 time.monotonic() - started, runner.worker)
        return ended.state

    del run_upload  # registered on the app by its name
    return app


def ensure_schema(settings: Settings) -> bool:
    """Create procrastinate's tables in the queue database unless they are there (its
    ``apply_schema`` is not idempotent); True when it created them."""
    conninfo = libpq_url(settings.queue_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        found = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
    if found and found[0] is not None:
        return False
    app = queue_app(settings, max_size=1)
    with app.open():
        app.schema_manager.apply_schema()
    return True


class UploadQueue:
    """What a web node needs of the queue: defer an upload job. Opened on first use (after
    gunicorn forked the worker), one small pool per process."""

    def __init__(self, settings: Settings) -> None:
        self.app = queue_app(settings)
        self._opened = False
        self._lock = threading.Lock()

    def defer(self, job: Job) -> int:
        """Queue ``run_upload(job.id)`` under the layer's lock; returns procrastinate's job id.

        Conflict (409) when the layer already has a task waiting (the ``jobs`` row's unique
        index says so first, this is the second net); StorageError when the queue database
        cannot be reached (DatabaseUnavailable: 503 with Retry-After)."""
        with self._lock:
            if not self._opened:
                try:
                    self.app.open()
                except queue_errors.ConnectorException as exc:
                    raise DatabaseUnavailable(f"job queue: cannot connect: {exc}",
                                              user_msg="the job queue is not reachable; try "
                                                       "again in a minute",
                                              retry_after=60) from exc
                self._opened = True
        lock = layer_lock(job.layer_id)
        try:
            return self.app.tasks[TASK].configure(lock=lock, queueing_lock=lock).defer(
                job_id=job.id)
        except queue_errors.AlreadyEnqueued:
            raise Conflict(tr("layer {id} already has an upload in progress (job {job}, "
                              "{state}); wait for it, then upload again", id=repr(job.layer_id),
                              job=job.id, state=tr("queued"))) from None
        except queue_errors.ConnectorException as exc:
            raise DatabaseUnavailable(f"job queue: cannot defer job {job.id}: {exc}",
                                      user_msg="the job queue is not reachable; try again "
                                               "in a minute", retry_after=60) from exc

    def close(self) -> None:
        """Close the pool (tests, shutdown)."""
        with self._lock:
            if self._opened:
                self.app.close()
                self._opened = False


def stalled_message(seconds: float) -> Message:
    """The job error of an upload whose worker died twice (or once after a retry)."""
    return tr("the worker running the ingest stopped answering for more than {seconds} s and "
              "the retry did not finish either; the previous version still serves; upload "
              "again", seconds=f"{seconds:g}")


async def sweep_stalled(app: App, jobs: JobQueue, audit: AuditLog, stalled_s: float
                        ) -> list[tuple[str, str]]:
    """Act on the jobs of workers silent for more than ``stalled_s``: a first attempt is
    retried (another worker takes it, the ingest starts over), a retried one is failed (the
    ``jobs`` row too, audited). Returns (job id, "retried" | "failed") for what it did.

    Several workers may sweep at once: procrastinate's retry and finish change a job only
    while it is ``doing``, so one of them wins and the others skip it."""
    done: list[tuple[str, str]] = []
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_s,
                                                     task_name=TASK)
    for job in stalled:
        job_id = str(job.task_kwargs.get("job_id", ""))
        try:
            if job.attempts == 0:
                await app.job_manager.retry_job(job)
            else:
                await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
        except queue_errors.ConnectorException:
            continue  # another sweeper was first (the job is no longer "doing")
        if job.attempts == 0:
            await asyncio.to_thread(jobs.requeue, job_id)
            log.warning("job=%s retried: its worker was silent for more than %g s", job_id,
                        stalled_s)
            done.append((job_id, "retried"))
            continue
        message = stalled_message(stalled_s)
        ended = await asyncio.to_thread(jobs.finish, job_id, JobState.FAILED, status=500,
                                        error=message)
        if ended is None:  # finish() gives None only to a worker that lost the job
            continue
        await asyncio.to_thread(audit.record, "upload", "failed", layer_id=ended.layer_id,
                                region=ended.region, job_id=ended.id, status=500,
                                detail=message, token_id=ended.token_id)
        log.error("job=%s layer=%s state=failed: its worker was silent for more than %g s "
                  "twice", job_id, ended.layer_id, stalled_s)
        done.append((job_id, "failed"))
    return done


async def requeue_lost(app: App, jobs: JobQueue, older_than_s: float = LOST_AFTER_S
                       ) -> list[str]:
    """Defer again the jobs whose row says queued but which the queue does not hold (the web
    node stopped between inserting the row and deferring the task); returns their ids."""
    waiting = await asyncio.to_thread(
        jobs.queued_before, utc_now() - timedelta(seconds=older_than_s))
    if not waiting:
        return []
    held: set[str] = set()
    for status in ("todo", "doing"):
        for task in await app.job_manager.list_jobs_async(task=TASK, status=status):
            held.add(str(task.task_kwargs.get("job_id", "")))
    lost: list[str] = []
    for job in waiting:
        if job.id in held:
            continue
        lock = layer_lock(job.layer_id)
        with contextlib.suppress(queue_errors.AlreadyEnqueued):
            await app.tasks[TASK].configure(lock=lock, queueing_lock=lock).defer_async(
                job_id=job.id)
            log.warning("job=%s layer=%s was queued but not in the queue: deferred again",
                        job.id, job.layer_id)
            lost.append(job.id)
    return lost


async def _keep_sweeping(app: App, runner: JobRunner, stalled_s: float) -> None:
    """``sweep_stalled``, ``requeue_lost``, orphaned rows (a task that ended without
    recording its end: the database was away) and the runner's upload sweep, for as long as
    the worker runs; a failure (the database away) is logged once and tried again."""
    every = max(1.0, min(stalled_s / 2, SWEEP_MAX_S))
    failing = False
    while True:
        try:
            await sweep_stalled(app, runner.queue, runner.audit, stalled_s)
            await requeue_lost(app, runner.queue)
            # rows beat every 5 s while their job runs; three stall limits of silence
            # means no worker holds them (a retried job's row is queued, not running)
            await asyncio.to_thread(runner.fail_orphans, max(STALE_SECONDS, 3 * stalled_s))
            await asyncio.to_thread(runner.sweep)
            if failing:
                log.info("stalled-job sweep works again")
            failing = False
        except Exception as exc:
            if not failing:
                log.error("stalled-job sweep failed: %s (trying again every %g s)", exc, every)
            failing = True
        await asyncio.sleep(every)


def run_worker(settings: Settings, runner: JobRunner, *, concurrency: int = 1) -> None:
    """Take upload jobs until SIGTERM or SIGINT (the job in hand is finished first; a
    worker killed outright has its job retried elsewhere by the others' sweep).

    procrastinate's worker loop ends when the database goes away (a heartbeat that cannot be
    written, a primary made read-only, a fetch past the pool's timeout) and would leave this
    process up and idle, or gone. The loop is started again here, after 1 s, then up to
    ``RESTART_MAX_S``, for as long as no signal asked the worker to stop."""
    app = queue_app(settings, min_size=1, max_size=3 + concurrency)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        running: list[asyncio.Task[None]] = []

        def stop() -> None:  # a signal: the job in hand is finished, then the loop ends
            stopping.set()
            for task in running:
                task.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
        async with app.open_async():
            sweeper = asyncio.create_task(_keep_sweeping(app, runner, settings.worker_stalled_s))
            delay = 1.0
            try:
                while not stopping.is_set():
                    started = time.monotonic()
                    task = asyncio.create_task(app.run_worker_async(
                        queues=[QUEUE], name=runner.worker, concurrency=concurrency,
                        update_heartbeat_interval=settings.worker_heartbeat_s,
                        stalled_worker_timeout=settings.worker_stalled_s,
                        listen_notify=True, fetch_job_polling_interval=5.0,
                        install_signal_handlers=False,
                        # None: wait for running jobs however long they take (Worker takes
                        # float | None; WorkerOptions' annotation says float only)
                        shutdown_graceful_timeout=None,  # type: ignore[arg-type]
                        additional_context={"runner": runner}))
                    running[:] = [task]
                    try:
                        await task
                        reason = "it stopped (the database away?)"
                    except asyncio.CancelledError:
                        if stopping.is_set():
                            break
                        raise
                    except Exception as exc:
                        reason = f"it failed: {exc}".strip()
                    if stopping.is_set():
                        break
                    if time.monotonic() - started > 60:
                        delay = 1.0  # it had worked a while: a new outage starts over
                    log.error("worker=%s job loop: %s; starting it again in %g s",
                              runner.worker, reason, delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stopping.wait(), delay)
                    delay = min(delay * 2, RESTART_MAX_S)
            finally:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper

    asyncio.run(main())


def _schema_present(settings: Settings) -> bool:
    with psycopg.connect(libpq_url(settings.queue_url), autocommit=True,
                         connect_timeout=10) as conn:
        found = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
    return bool(found and found[0] is not None)


def start_worker(settings: Settings, catalog: Catalog, registry: Registry, *,
                 concurrency: int = 1) -> None:
    """``geoportal worker``: check the settings, build the runner as the server would, and
    take jobs until stopped. InputError (exit 2) when the settings allow no worker tier."""
    if not settings.worker_tier:
        raise InputError(tr("geoportal worker needs the worker tier: set "
                            "GEOPORTAL_WORKER_TIER=1 and GEOPORTAL_DATABASE_URL to the PostgreSQL "
                            "catalog (the job queue lives there), on the web nodes too"))
    try:
        present = _schema_present(settings)
    except psycopg.Error as exc:
        raise StorageError(f"the job queue database cannot be reached "
                           f"(GEOPORTAL_QUEUE_DATABASE_URL or GEOPORTAL_DATABASE_URL): "
                           f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc}"
                           ) from exc
    if not present:
        raise InputError(tr("the job queue's tables are missing; run `geoportal init` once "
                            "with GEOPORTAL_WORKER_TIER=1 (or `geoportal init --queue`)"))
    objects = open_object_store(settings)
    objects.check()
    store = open_store(settings)
    runner = JobRunner(JobQueue(catalog.engine), catalog=catalog, store=store,
                       registry=registry, rasters=RasterStore(objects),
                       audit=AuditLog(catalog.engine), objects=objects,
                       keep_versions=settings.keep_versions,
                       boundaries=RegionBoundaries.load(settings.config_dir, registry,
                                                        settings.boundary_tolerance_m),
                       max_vertices=settings.max_vertices, layers_dir=settings.layers_dir,
                       upload_retention_s=settings.upload_retention_s,
                       grace_s=settings.cleanup_grace_s)
    configure_logging(logging.INFO, log_dir=settings.log_dir,  # one line per job
                      fmt=settings.log_format)
    runner.clean_up("at worker start")  # what a worker killed here left (grace period kept)
    log.info("worker=%s started: concurrency=%d heartbeat=%gs stalled_after=%gs objects=%s",
             runner.worker, concurrency, settings.worker_heartbeat_s,
             settings.worker_stalled_s, objects.describe)
    try:
        run_worker(settings, runner, concurrency=concurrency)
    finally:
        store.close()
        log.info("worker=%s stopped", runner.worker)
