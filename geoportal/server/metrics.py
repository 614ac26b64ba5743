"""``GET /metrics``: what the portal does, in Prometheus' text format (``prometheus_client``).

What is measured (docs/deployment.md, "Monitoring"):

- every request, by route *template* (``/collections/<collection_id>/items``, never the path
  a client typed), method and status: a count, a duration histogram (from the first byte of
  the request into the app to the last byte of the answer handed to the server, so a
  download's streaming counts) and the bytes sent;
- the tile cache (hits, misses, bytes held), the collection-document cache (hits and misses
  of the collections' JSON descriptions and the HTML listing pages a worker keeps,
  ``geoportal.server.collections.CollectionDocs``) and the revalidations of collection
  documents (``If-None-Match`` / ``If-Modified-Since`` answered 304 from memory, or not);
- the catalog generation served and how long each rebuild after a change took;
- store reads (``query``, ``get``, ``tile``) by store kind: a duration histogram and errors;
- the PostGIS pools (connections open, idle, requests waiting), per pool (primary, replica);
- upload bytes received by the admin upload route;
- jobs by state and the age of the oldest queued job, read from the jobs table at scrape;
- how long finished jobs ran (``finished - started``) by final state (done, rejected,
  failed): a histogram computed by the database at scrape time over the finished jobs the
  jobs table keeps, since jobs run on worker machines this process never sees. The clean-up
  deletes old jobs, so its counts can fall: read it as the distribution of the recent jobs
  (``histogram_quantile`` over the buckets), not with ``rate()``.

No collection id is a label: 20,000 layers times routes, statuses and histogram buckets would
be millions of series (and a client could invent ids for 404s); the access log names the
collection of each request. Labels are only route templates, methods (unknown ones are
``other``), statuses, store kinds, pool names, job states and fixed words: never a token, a
query string or layer data.

Under ``geoportal serve`` (gunicorn, several worker processes) the numbers are summed over
the workers with ``prometheus_client``'s multiprocess mode: the master makes a private folder
(``share_between_workers``), exports ``PROMETHEUS_MULTIPROC_DIR`` before any worker imports
``prometheus_client``, and forgets a dead worker's gauges (``worker_exited``); counters and
histograms of dead workers keep counting, as Prometheus expects of counters. Without that
variable (tests, the Flask test client, another WSGI server) each process counts on its own.
``prometheus_client`` is imported only when metrics are first used, so importing this module
(the master imports the app) never fixes the mode too early.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Request, Response, current_app, g, request

from geoportal.errors import InputError
from geoportal.states import JobState

if TYPE_CHECKING:
    from geoportal.config import Settings

__all__ = [
    "MULTIPROC_ENV",
    "OTHER_METHOD",
    "UNMATCHED",
    "catalog_refreshed",
    "collection_cache_lookup",
    "install",
    "method_label",
    "revalidated",
    "route_label",
    "share_between_workers",
    "store_kind",
    "store_timer",
    "tile_cache_lookup",
    "tile_cache_size",
    "worker_exited",
]

log = logging.getLogger("geoportal.server")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "(unmatched)"  # the route of a request no route took (404, 405)
OTHER_METHOD = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UPLOAD_ROUTE = ("POST", "/admin/layers")
JOB_STATES: tuple[str, ...] = tuple(JobState)  # catalog.schema.jobs
_ROUTE = "geoportal.metrics.route"  # environ key: the route template, set by the app
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                   float("inf"))
STORE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                 float("inf"))
REFRESH_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, float("inf"))
# An upload's job takes seconds (a small table) to an hour (a large raster).
JOB_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, float("inf"))
FINAL_JOB_STATES: tuple[str, ...] = tuple(state for state in JobState if not state.active)


# -- the instruments (one set per process, made on first use) --------------------------------

class _Instruments:
    """Every metric of the process. Made on first use, after ``PROMETHEUS_MULTIPROC_DIR`` is
    set or known to be unset; registered in no registry (each scrape makes its own)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        per_request = ("route", "method", "status")
        self.requests = Counter("geoportal_requests", "HTTP requests answered, by route "
                                "template, method and status.", per_request, registry=None)
        self.duration = Histogram("geoportal_request_duration_seconds", "Time from the "
                                  "request entering the app to the last byte of its answer.",
                                  per_request, buckets=REQUEST_BUCKETS, registry=None)
        self.response_bytes = Counter("geoportal_response_bytes", "Bytes of response bodies "
                                      "sent (after compression), by route template.",
                                      ("route",), registry=None)
        self.upload_bytes = Counter("geoportal_upload_bytes", "Bytes of upload requests "
                                    "(POST /admin/layers), by outcome: accepted (2xx) or "
                                    "refused.", ("outcome",), registry=None)
        self.tile_cache = Counter("geoportal_tile_cache_lookups", "Vector tile cache lookups: "
                                  "hit (served from memory) or miss (drawn by the store).",
                                  ("result",), registry=None)
        self.collection_cache = Counter("geoportal_collection_cache_lookups", "Collection "
                                        "document cache lookups (a collection's JSON "
                                        "description, a page of the HTML listing): hit "
                                        "(served from memory) or miss (generated).",
                                        ("result",), registry=None)
        self.tile_cache_bytes = Gauge("geoportal_tile_cache_bytes", "Bytes of tiles held in "
                                      "the tile caches, all workers together.",
                                      registry=None, multiprocess_mode="livesum")
        self.revalidations = Counter("geoportal_revalidations", "Conditional requests of "
                                     "collection documents (collections, items, queryables, "
                                     "schema): not_modified (304 from memory) or modified.",
                                     ("result",), registry=None)
        self.generation = Gauge("geoportal_catalog_generation", "The newest catalog "
                                "generation a live worker serves.", registry=None,
                                multiprocess_mode="livemax")
        self.refresh = Histogram("geoportal_catalog_refresh_seconds", "Time to take in a "
                                 "catalog change (a worker's rebuild of what it serves).",
                                 buckets=REFRESH_BUCKETS, registry=None)
        store = ("store", "operation")
        self.store_duration = Histogram("geoportal_store_query_duration_seconds", "Store "
                                        "reads (query: a page of items with its count; get: "
                                        "one feature; tile: one vector tile) by store kind.",
                                        store, buckets=STORE_BUCKETS, registry=None)
        self.store_errors = Counter("geoportal_store_errors", "Store reads that failed "
                                    "(timeouts, busy pools, outages; not bad filters).",
                                    store, registry=None)
        self.pool_size = Gauge("geoportal_db_pool_size", "PostGIS connections open, all "
                               "workers together.", ("pool",), registry=None,
                               multiprocess_mode="livesum")
        self.pool_available = Gauge("geoportal_db_pool_available", "PostGIS connections "
                                    "open and idle, all workers together.", ("pool",),
                                    registry=None, multiprocess_mode="livesum")
        self.pool_waiting = Gauge("geoportal_db_pool_waiting", "Requests waiting for a "
                                  "PostGIS connection, all workers together.", ("pool",),
                                  registry=None, multiprocess_mode="livesum")

    def all(self) -> list[Any]:
        """Every metric, for a registry of this process alone."""
        return [value for value in vars(self).values() if hasattr(value, "collect")]


_instruments: _Instruments | None = None
_lock = threading.Lock()


def _made() -> _Instruments:
    """The process's instruments, made now if they are not yet."""
    global _instruments
    if _instruments is None:
        with _lock:
            if _instruments is None:
                _instruments = _Instruments()
    return _instruments


def _multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


# -- gunicorn: one folder for every worker -----------------------------------------------------

def share_between_workers() -> Path:
    """In the gunicorn master, before it forks: a fresh private folder for the workers' metric
    files, exported as ``PROMETHEUS_MULTIPROC_DIR`` (in ``/dev/shm`` where there is one;
    removed when the master exits). Fresh, so a restart never adds the last run's counts."""
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(prefix="geoportal-metrics-",
                                   dir=shm if shm.is_dir() else None))
    os.environ[MULTIPROC_ENV] = str(folder)
    values = sys.modules.get("prometheus_client.values")
    if values is not None:  # imported already (by a library): its mode was chosen without us
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]
    master = os.getpid()
    atexit.register(lambda: os.getpid() == master and shutil.rmtree(folder, True))
    return folder


def worker_exited(_server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook: a dead worker's gauges no longer count (its counters
    and histograms do)."""
    if not _multiprocess():
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]  # unannotated


# -- labels ------------------------------------------------------------------------------------

def route_label(req: Request) -> str:
    """The route template of ``req`` (``/collections/<collection_id>/items``), or
    ``UNMATCHED`` when no route took it: never the path itself."""
    rule = req.url_rule
    return rule.rule if rule is not None else UNMATCHED


def method_label(method: str) -> str:
    """The method, or ``other`` for one no route serves (a client may send any word)."""
    return method if method in METHODS else OTHER_METHOD


def store_kind(store: object) -> str:
    """``geopackage``, ``postgis`` or ``other``, from the store's class."""
    return {"GeoPackageStore": "geopackage", "PostGISStore": "postgis"}.get(
        type(store).__name__, "other")


# -- hooks for the modules that know (tiles, caching, the feature provider) -------------------

@contextmanager
def store_timer(store: object, operation: str) -> Iterator[None]:
    """Time one store read (``query``, ``get``, ``tile``); a failure other than the client's
    own (a bad filter) is counted as an error. Nothing is measured before ``install``."""
    found = _instruments
    if found is None:
        yield
        return
    labels = (store_kind(store), operation)
    started = time.perf_counter()
    try:
        yield
    except InputError:
        raise
    except Exception:
        found.store_errors.labels(*labels).inc()
        raise
    finally:
        found.store_duration.labels(*labels).observe(time.perf_counter() - started)


def tile_cache_lookup(hit: bool) -> None:
    """One lookup in the tile cache."""
    if _instruments is not None:
        _instruments.tile_cache.labels("hit" if hit else "miss").inc()


def collection_cache_lookup(hit: bool) -> None:
    """One lookup of a collection document in the worker's memory (``CollectionDocs``)."""
    if _instruments is not None:
        _instruments.collection_cache.labels("hit" if hit else "miss").inc()


def tile_cache_size(size: int) -> None:
    """The bytes this worker's tile cache holds now."""
    if _instruments is not None:
        _instruments.tile_cache_bytes.set(size)


def revalidated(not_modified: bool) -> None:
    """A conditional request of a collection document: answered 304 or not."""
    if _instruments is not None:
        _instruments.revalidations.labels(
            "not_modified" if not_modified else "modified").inc()


# -- sampled state: pools, the catalog generation ------------------------------------------------

def _sample(parts: dict[str, Any]) -> None:
    """This worker's pool figures and catalog generation into their gauges. Sampled at the
    end of every request and at a scrape: the last request a worker finishes sees no one
    waiting, so an idle worker never leaves a stale "waiting" behind."""
    found = _instruments
    if found is None:
        return
    live = parts.get("live")
    if live is not None and live.generation >= 0:
        found.generation.set(live.generation)
    pool_stats = getattr(parts.get("store"), "pool_stats", None)  # PostGIS only
    if pool_stats is None:
        return
    for name, stats in pool_stats().items():
        found.pool_size.labels(name).set(stats.get("pool_size", 0))
        found.pool_available.labels(name).set(stats.get("pool_available", 0))
        found.pool_waiting.labels(name).set(stats.get("requests_waiting", 0))


def _job_durations(engine: Any, conn: Any) -> dict[str, tuple[int, float, list[int]]]:
    """Per final job state: how many finished jobs the table keeps, their seconds in all, and
    how many took at most each bound of ``JOB_BUCKETS`` but the last (cumulative). Counted
    by the database (one row per state, whatever the number of jobs), on SQLite and
    PostgreSQL alike: the seconds are the difference of two timestamps, which each computes
    its own way."""
    from sqlalchemy import case, extract, func, select

    from geoportal.catalog import schema

    jobs = schema.jobs
    seconds: Any
    if engine.dialect.name == "sqlite":  # timestamps are text there; julianday reads them
        days = func.julianday(jobs.c.finished) - func.julianday(jobs.c.started)
        seconds = func.round(days * 86400.0, 3)  # to the millisecond julianday can tell
    else:
        seconds = extract("epoch", jobs.c.finished - jobs.c.started)
    query = (select(jobs.c.state, func.count(), func.sum(seconds),
                    *[func.sum(case((seconds <= bound, 1), else_=0))
                      for bound in JOB_BUCKETS[:-1]])
             .where(jobs.c.state.in_(FINAL_JOB_STATES), jobs.c.started.is_not(None),
                    jobs.c.finished.is_not(None))
             .group_by(jobs.c.state))
    found: dict[str, tuple[int, float, list[int]]] = {}
    for state, count, total, *within in conn.execute(query).all():
        found[state] = (int(count), float(total or 0.0), [int(n or 0) for n in within])
    return found


class _Jobs:
    """A collector reading the jobs table at scrape time: jobs by state (every known state,
    0 included, so an alert's series exists), the age of the oldest queued job and the
    durations of the finished jobs (``_job_durations``). The database is the same for every
    worker and machine: any one of them may answer."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
        from sqlalchemy import func, select

        from geoportal.catalog import schema
        from geoportal.catalog.repository import as_utc

        jobs = schema.jobs
        try:
            with self.engine.connect() as conn:
                counts = dict(conn.execute(select(jobs.c.state, func.count())
                                           .group_by(jobs.c.state)).all())
                oldest = conn.execute(select(func.min(jobs.c.created))
                                      .where(jobs.c.state == "queued")).scalar()
                durations = _job_durations(self.engine, conn)
        except Exception as exc:  # the database away: the scrape goes on without jobs
            log.debug("metrics: jobs not read: %s", exc)
            return
        by_state = GaugeMetricFamily("geoportal_jobs", "Upload jobs by state (the jobs "
                                     "table).", labels=["state"])
        for state in sorted({*JOB_STATES, *counts}):
            by_state.add_metric([state], counts.get(state, 0))
        yield by_state
        created = as_utc(oldest)
        age = (datetime.now(UTC) - created).total_seconds() if created is not None else 0.0
        yield GaugeMetricFamily("geoportal_jobs_oldest_queued_seconds", "Age of the oldest "
                                "queued job (0: none queued).", value=max(age, 0.0))
        histogram = HistogramMetricFamily("geoportal_job_duration_seconds", "How long the "
                                          "finished jobs the jobs table keeps ran (finished - "
                                          "started), by final state.", labels=["state"])
        for state in FINAL_JOB_STATES:
            count, total, within = durations.get(state, (0, 0.0, [0] * (len(JOB_BUCKETS) - 1)))
            buckets = [(str(bound), float(n))  # "1.0", as prometheus_client writes le
                       for bound, n in zip(JOB_BUCKETS[:-1], within, strict=True)]
            histogram.add_metric([state], [*buckets, ("+Inf", float(count))], sum_value=total)
        yield histogram


def catalog_refreshed(seconds: float) -> None:
    """A worker took in a catalog change in ``seconds`` (``LiveAPI.refresh``, which times it
    for its own log line)."""
    if _instruments is not None:
        _instruments.refresh.observe(seconds)


# -- the app -----------------------------------------------------------------------------------

class _Counted:
    """A WSGI body that counts its bytes and records its request when the server closes it
    (after the last byte, or when the client went away)."""

    def __init__(self, body: Iterable[bytes], done: Callable[[int], None]) -> None:
        self._body = body
        self._chunks = iter(body)
        self._done = done
        self._sent = 0
        self._closed = False

    def __iter__(self) -> _Counted:
        return self

    def __next__(self) -> bytes:
        chunk = next(self._chunks)
        self._sent += len(chunk)
        return chunk

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._done(self._sent)


def _record(found: _Instruments, environ: dict[str, Any], status: str, started: float,
            sent: int) -> None:
    route = environ.get(_ROUTE, UNMATCHED)
    method = method_label(environ.get("REQUEST_METHOD", ""))
    labels = (route, method, status)
    found.requests.labels(*labels).inc()
    found.duration.labels(*labels).observe(time.perf_counter() - started)
    found.response_bytes.labels(route).inc(sent)
    if (method, route) == UPLOAD_ROUTE:
        try:
            received = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            received = 0
        found.upload_bytes.labels("accepted" if status.startswith("2") else "refused"
                                  ).inc(max(received, 0))


def _scrape_response(parts: dict[str, Any]) -> Response:
    """The metrics of every worker (or of this process alone) as Prometheus text."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    found = _made()
    _sample(parts)
    registry = CollectorRegistry(auto_describe=False)
    if _multiprocess():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # as above
    else:
        for metric in found.all():
            registry.register(metric)
    admin = parts.get("admin")
    jobs = getattr(admin, "jobs", None)
    if jobs is not None:
        registry.register(_Jobs(jobs.engine))
    response = Response(generate_latest(registry), status=200)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response


def install(app: Flask, settings: Settings) -> None:
    """Measure ``app``'s requests and serve ``GET /metrics``; nothing at all (and /metrics
    is a 404) when ``settings.metrics`` is off."""
    if not settings.metrics:
        return
    found = _made()
    parts: dict[str, Any] = app.extensions.setdefault("geoportal", {})

    @app.after_request
    def _route(response: Response) -> Response:
        # runs for answers made by the app (errors included); the WSGI wrapper records them
        request.environ[_ROUTE] = route_label(request)
        _sample(parts)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        g.quiet_request = True  # scraped every 15 s: DEBUG in the access log, as the probes
        return _scrape_response(current_app.extensions["geoportal"])

    inner = app.wsgi_app

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
        started = time.perf_counter()
        status: list[str] = []
        length: list[int] = []

        def starting(line: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            status[:] = [line.split(" ", 1)[0]]
            length[:] = [int(v) for k, v in headers
                         if k.lower() == "content-length" and v.isdigit()][:1]
            return start_response(line, headers, *args)

        try:
            body = inner(environ, starting)
        except BaseException:
            _record(found, environ, "500", started, 0)
            raise

        def done(sent: int) -> None:
            _record(found, environ, status[0] if status else "500", started, sent)

        file_wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(file_wrapper, type) and isinstance(body, file_wrapper):
            # a file the server sends itself (sendfile): left unwrapped, measured by its
            # Content-Length, its duration to the start of sending
            done(length[0] if length else 0)
            return body
        return _Counted(body, done)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]
