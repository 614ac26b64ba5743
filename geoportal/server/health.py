"""``/healthz`` and ``/readyz``: what a load balancer (HAProxy ``option httpchk``, a Kubernetes
probe) asks every second.

- ``GET /healthz``: the process answers. Nothing else is touched (no database, no store), so a
  database outage never makes the balancer restart or drop every node at once.
- ``GET /readyz``: this worker can serve reads: its catalog is loaded, a database to read
  from answers (``Catalog.ping`` of the primary, ``database``, and of the replica,
  ``replica``, when ``GEOPORTAL_DATABASE_READ_URL`` is set) and the object store answers
  (``ObjectStore.check``). 200 with ``status`` "ok", "degraded: writes unavailable" (the
  primary away: reads are served, writes answer 503) or "degraded: reads from the primary"
  (the replica away: its reads go to the primary); 503 "unavailable" when no database can
  be read, the store is away or the catalog is not loaded. Each part is named with a short
  reason only ("unreachable", "timeout", "busy", "not set up"), e.g. ``{"status":
  "degraded: writes unavailable", "checks": {"catalog": "loaded 20,000 layers",
  "database": "unreachable", "replica": "ok", "objects": "ok"}}``; hosts, ports, buckets and
  the drivers' messages go to the log, one line when readiness changes.

A check that has not answered within ``CHECK_TIMEOUT_S`` counts as failed ("timeout"), a check
still running from an earlier probe is not started again, and an answer is reused for
``CACHE_S``: a probe never hangs, a hung database never piles up threads, and a flood of
probes costs one database query (per database) and one object-store LIST a second per server
process. The probes are logged at DEBUG only (``app.py`` asks ``quiet_request``): a probe a
second would otherwise fill the access log.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request

from geoportal.errors import DatabaseUnavailable, StorageError
from geoportal.storage import dbhealth

__all__ = ["CACHE_S", "CHECK_TIMEOUT_S", "QUIET_PATHS", "health_blueprint", "quiet_request"]

log = logging.getLogger("geoportal.server")

CHECK_TIMEOUT_S = 1.5  # under HAProxy's usual 2 s check timeout
CACHE_S = 1.0  # a check's answer is reused this long (per server process)
QUIET_PATHS = frozenset({"/healthz", "/readyz"})


def quiet_request() -> bool:
    """True for a probe: its request line is logged at DEBUG, not INFO."""
    return bool(g.get("quiet_request")) or request.path in QUIET_PATHS


def _short(exc: BaseException) -> str:
    """The first line of an error, for the log only (the catalog's messages name
    ``engine.url``, whose password SQLAlchemy already hides)."""
    line = (str(exc) or type(exc).__name__).strip().splitlines()[0]
    return line[:300]


def _reason(exc: BaseException) -> str:
    """What the public body says of a failed check: a short reason, never a host, a port, a
    bucket or a driver's message (those go to the log)."""
    if isinstance(exc, DatabaseUnavailable):
        reasons: dict[str, str] = {dbhealth.TOO_SLOW: "timeout", dbhealth.LOCKED: "timeout",
                                   dbhealth.BUSY: "busy"}
        return reasons.get(exc.user_msg or "", "unreachable")
    if isinstance(exc, StorageError) and "geoportal init" in (exc.user_msg or ""):
        return "not set up"
    return "unreachable"


class _Checks:
    """Runs each readiness check in its own thread with a deadline; one at a time per part,
    and its answer kept ``CACHE_S`` (a flood of probes costs one query per part a second).
    A check is a function of its own arguments (an engine, a store), never of the request's
    context: its thread does not see the request's context variables."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="readyz")
        self._running: dict[str, Future[None]] = {}
        self._answers: dict[str, tuple[float, str, str]] = {}  # name: (when, public, detail)
        self._lock = threading.Lock()
        self._clock = clock

    def run(self, name: str, check: Callable[[], None]) -> tuple[str, str]:
        """("ok", "") or (public reason, detail for the log): "unreachable", "timeout"
        (no answer within ``CHECK_TIMEOUT_S``), "busy", "not set up"."""
        with self._lock:
            answer = self._answers.get(name)
            if answer is not None and self._clock() - answer[0] < CACHE_S:
                return answer[1], answer[2]
            future = self._running.get(name)
            if future is None or future.done():
                future = self._running[name] = self._pool.submit(check)
        try:
            future.result(timeout=CHECK_TIMEOUT_S)
        except FutureTimeout:
            result = ("timeout", f"no answer within {CHECK_TIMEOUT_S:g} s")
        except Exception as exc:  # every failure is an answer here, never a 500
            result = (_reason(exc), _short(exc))
        else:
            result = ("ok", "")
        with self._lock:
            self._answers[name] = (self._clock(), *result)
        return result


def _objects(app: Flask) -> Any:
    """The app's object store (helper A puts it in the app's extensions), else one opened
    from the settings on first use."""
    found = app.extensions["geoportal"].get("objects")
    if found is None:
        from geoportal.storage.objects import open_object_store

        found = app.extensions["geoportal"]["objects"] = open_object_store(
            app.extensions["geoportal"]["settings"])
    return found


def _json(body: dict[str, Any], status: int) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _verdict(results: dict[str, str], replica: bool, loaded: bool) -> tuple[str, list[str]]:
    """The node's status and its failing parts. A node is ready (200) when it can serve
    reads: its catalog loaded, the object store answering, and a database to read from
    (the replica, or the primary, which takes the replica's reads while it is away).
    "ok", "degraded: writes unavailable" (the primary away: reads served, writes 503),
    "degraded: reads from the primary" (the replica away), or "unavailable" (503)."""
    failing: list[str] = [name for name in ("database", "replica", "objects")
                          if name in results and results[name] != "ok"]
    if not loaded:
        failing.append("catalog")
    primary_ok = results["database"] == "ok"
    replica_ok = replica and results.get("replica") == "ok"
    if not loaded or results["objects"] != "ok" or not (primary_ok or replica_ok):
        return "unavailable", failing
    if not primary_ok:
        return "degraded: writes unavailable", failing
    if replica and not replica_ok:
        return "degraded: reads from the primary", failing
    return "ok", failing


def health_blueprint() -> Blueprint:
    """The ``/healthz`` and ``/readyz`` routes (registered by ``create_app``)."""
    bp = Blueprint("health", __name__)
    checks = _Checks()
    last: list[str] = []  # the parts failing at the previous probe: logged when it changes

    @bp.get("/healthz")
    def healthz() -> Response:
        g.quiet_request = True
        return _json({"status": "ok"}, HTTPStatus.OK)

    @bp.get("/readyz")
    def readyz() -> Response:
        g.quiet_request = True
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        parts = app.extensions["geoportal"]
        live, catalog = parts["live"], parts["catalog"]
        results: dict[str, str] = {}
        details: dict[str, str] = {}
        if live.generation < 0:
            results["catalog"] = "not loaded yet"
        else:
            count = len(live.layers)
            results["catalog"] = f"loaded {count:,} layer{'s' if count != 1 else ''}"
        # each engine named: the check's thread does not see this request's context
        primary = catalog.engine
        results["database"], details["database"] = checks.run(
            "database", lambda: catalog.ping(primary))
        if catalog.read_engine is not None:
            replica = catalog.read_engine
            results["replica"], details["replica"] = checks.run(
                "replica", lambda: catalog.ping(replica))

        def objects() -> None:
            _objects(app).check()

        results["objects"], details["objects"] = checks.run("objects", objects)
        status, failing = _verdict(results, catalog.read_engine is not None,
                                   live.generation >= 0)
        if failing != last:
            if failing:
                log.warning("readyz %s: %s", status, "; ".join(
                    f"{name}={results[name]} ({details.get(name) or '-'})"
                    for name in failing))
            else:
                log.info("readyz ok again")
            last[:] = failing
        return _json({"status": status, "checks": results},
                     HTTPStatus.SERVICE_UNAVAILABLE if status == "unavailable"
                     else HTTPStatus.OK)

    return bp

