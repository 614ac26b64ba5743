"""``/healthz`` and ``/readyz``: what a load balancer (HAProxy ``option httpchk``, a Kubernetes
probe) asks every second.

- ``GET /healthz``: the process answers. Nothing else is touched (no database, no store), so a
  database outage never makes the balancer restart or drop every node at once.
- ``GET /readyz``: this worker can serve: its catalog is loaded, the database answers
  (``Catalog.ping``) and the object store answers (``ObjectStore.check``). 200, or 503 with
  each failing part named, e.g. ``{"status": "unavailable", "checks": {"database":
  "unreachable: ...", "objects": "ok", "catalog": "loaded 20,000 layers"}}``.

A check that has not answered within ``CHECK_TIMEOUT_S`` counts as failed, and a check still
running from an earlier probe is not started again, so a probe never hangs and a hung
database never piles up threads. The answers are never cached and are logged at DEBUG only
(``app.py`` asks ``quiet_request``): a probe a second would otherwise fill the access log.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from sqlalchemy import text

from geoportal.catalog import Catalog

__all__ = ["CHECK_TIMEOUT_S", "QUIET_PATHS", "health_blueprint", "quiet_request"]

log = logging.getLogger("geoportal.server")

CHECK_TIMEOUT_S = 1.5  # under HAProxy's usual 2 s check timeout
QUIET_PATHS = frozenset({"/healthz", "/readyz"})


def quiet_request() -> bool:
    """True for a probe: its request line is logged at DEBUG, not INFO."""
    return bool(g.get("quiet_request")) or request.path in QUIET_PATHS


def _short(exc: BaseException) -> str:
    """The first line of an error, without secrets a URL might carry (the catalog's
    messages name ``engine.url``, whose password SQLAlchemy already hides)."""
    line = (str(exc) or type(exc).__name__).strip().splitlines()[0]
    return line[:300]


def _ping(catalog: Catalog) -> None:
    """``Catalog.ping`` when the catalog has it (issue 17, helper C), else one ``SELECT 1``."""
    ping = getattr(catalog, "ping", None)
    if ping is not None:
        ping()
        return
    with catalog.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


class _Checks:
    """Runs each readiness check in its own thread with a deadline; one at a time per part."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz")
        self._running: dict[str, Future[None]] = {}
        self._lock = threading.Lock()

    def run(self, name: str, check: Callable[[], None]) -> str:
        """"ok", or what failed ("unreachable: ...", "no answer within 1.5 s")."""
        with self._lock:
            future = self._running.get(name)
            if future is None or future.done():
                future = self._running[name] = self._pool.submit(check)
        try:
            future.result(timeout=CHECK_TIMEOUT_S)
        except FutureTimeout:
            return f"no answer within {CHECK_TIMEOUT_S:g} s"
        except Exception as exc:  # every failure is an answer here, never a 500
            return f"unreachable: {_short(exc)}"
        return "ok"


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
        live = parts["live"]
        results: dict[str, str] = {}
        if live.generation < 0:
            results["catalog"] = "not loaded yet"
        else:
            count = len(live.layers)
            results["catalog"] = f"loaded {count:,} layer{'s' if count != 1 else ''}"
        results["database"] = checks.run("database", lambda: _ping(parts["catalog"]))

        def objects() -> None:
            _objects(app).check()

        results["objects"] = checks.run("objects", objects)
        failing = [name for name, value in results.items()
                   if name != "catalog" and value != "ok"]
        if live.generation < 0:
            failing.append("catalog")
        if failing != last:
            if failing:
                log.warning("readyz unavailable: %s", "; ".join(
                    f"{name}={results[name]}" for name in failing))
            else:
                log.info("readyz ok again")
            last[:] = failing
        if failing:
            return _json({"status": "unavailable", "checks": results},
                         HTTPStatus.SERVICE_UNAVAILABLE)
        return _json({"status": "ok", "checks": results}, HTTPStatus.OK)

    return bp

