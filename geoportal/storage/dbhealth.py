"""PostgreSQL faults as the portal reports them: a ``DatabaseUnavailable`` (HTTP 503 with
``Retry-After``) instead of a 500, and a log that stays readable through an outage.

While a database is unreachable each process logs the first failure with its traceback, then
at most every ``REPORT_EVERY_S`` one line "database ... still unreachable (N requests refused
since HH:MM:SS)", and "database ... reachable again" once when it answers. Each refused
request also gets its own one-line log entry (``server/app.py``), with its request id.

The catalog's SQLAlchemy engines reconnect by themselves (``pool_pre_ping``). A psycopg pool
retries with a growing back-off (1, 2, 4, 8 s...), so the PostGIS store asks ``Outage.probe``
first while an outage is known: one direct connection attempt at most every
``PROBE_EVERY_S``, refused at once while the server is down, and the pool replaced as soon as
it answers (recovery within a fraction of a second, not after the back-off).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

import psycopg
from sqlalchemy import exc as sa_exc

from geoportal.errors import DatabaseUnavailable

__all__ = ["LOCKED", "READ_ONLY", "TOO_SLOW", "UNREACHABLE", "Outage", "classify",
           "database_name", "outage", "refused"]

log = logging.getLogger("geoportal.database")

UNREACHABLE = "the database is unreachable; try again in a few seconds"
LOCKED = "the layer is locked by a publish; try again"
TOO_SLOW = "the database did not answer in time; try again in a few seconds"
READ_ONLY = ("the database is read-only just now (maintenance or a fail-over), so nothing "
             "can be changed; try again later")

REPORT_EVERY_S = 10.0
PROBE_EVERY_S = 0.2


def database_name(conninfo: str) -> str:
    """``host:port/dbname`` of a libpq URL or connection string (never user or password)."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.Error:
        return "postgresql"
    return "{}:{}/{}".format(info.get("host", ""), info.get("port", "5432"),
                             info.get("dbname", ""))


class Outage:
    """What this process knows about one database being unreachable."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self.since: float | None = None  # wall-clock start of the outage
        self.refused = 0
        self._reported = 0.0
        self._probed = 0.0
        self._probing = threading.Lock()

    @property
    def down(self) -> bool:
        """Whether the last attempt to reach the database failed."""
        return self.since is not None

    def failed(self, exc: BaseException) -> None:
        """A call could not reach the database: the first of an outage is logged with its
        traceback, the others only counted."""
        with self._lock:
            first = self.since is None
            if first:
                self.since, self.refused = time.time(), 0
                self._reported = time.monotonic()
        if first:
            log.error("database %s unreachable: %s", self.name, exc, exc_info=exc)

    def refuse(self) -> None:
        """One request answered 503 because of the outage; every ``REPORT_EVERY_S`` a line
        says how many so far."""
        with self._lock:
            self.refused += 1
            if self.since is None or time.monotonic() - self._reported < REPORT_EVERY_S:
                return
            self._reported = time.monotonic()
            count, since = self.refused, self.since
        log.error("database %s still unreachable (%d requests refused since %s)", self.name,
                  count, datetime.fromtimestamp(since).strftime("%H:%M:%S"))

    def recovered(self) -> bool:
        """A call reached the database: the end of an outage is logged once. True when an
        outage ended here."""
        if self.since is None:  # the usual case, without a lock
            return False
        with self._lock:
            if self.since is None:
                return False
            seconds, count, self.since = time.time() - self.since, self.refused, None
        log.warning("database %s reachable again after %.1f s (%d requests refused)",
                    self.name, seconds, count)
        return True

    def probe(self, conninfo: str, connect_timeout_s: int = 2) -> bool:
        """While an outage is known: whether the database answers a new connection now
        (at most one attempt every ``PROBE_EVERY_S`` per process; between attempts, and
        while another thread tries, the answer is "not yet")."""
        if self.since is None:
            return True
        if time.monotonic() - self._probed < PROBE_EVERY_S:
            return False
        if not self._probing.acquire(blocking=False):
            return False
        try:
            self._probed = time.monotonic()
            try:
                with psycopg.connect(conninfo, connect_timeout=connect_timeout_s,
                                     prepare_threshold=None, autocommit=True) as conn:
                    conn.execute("SELECT 1")
            except psycopg.Error:
                return False
            self.recovered()
            return True
        finally:
            self._probing.release()


_OUTAGES: dict[str, Outage] = {}
_OUTAGES_LOCK = threading.Lock()


def outage(name: str) -> Outage:
    """The process's ``Outage`` of the database ``name`` (``database_name``)."""
    found = _OUTAGES.get(name)
    if found is None:
        with _OUTAGES_LOCK:
            found = _OUTAGES.setdefault(name, Outage(name))
    return found


def refused(exc: DatabaseUnavailable) -> None:
    """Count a request refused with ``exc`` against its database's outage (if one)."""
    if exc.database:
        found = _OUTAGES.get(exc.database)
        if found is not None:
            found.refuse()


def classify(exc: BaseException, name: str, what: str) -> DatabaseUnavailable | None:
    """The ``DatabaseUnavailable`` for a psycopg or SQLAlchemy error that says the database
    cannot answer now (unreachable, a lock or statement timeout, read-only), or None for any
    other error (a bug or a bad query: the caller's StorageError). An unreachable database
    starts (or continues) its ``Outage``."""
    if isinstance(exc, sa_exc.TimeoutError):  # no free pooled connection in time
        return DatabaseUnavailable(f"{what} ({name}): no free connection: {exc}",
                                   user_msg=TOO_SLOW, database=name, retry_after=2)
    original = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    if isinstance(original, psycopg.errors.LockNotAvailable):
        return DatabaseUnavailable(f"{what} ({name}): lock timeout: {original}",
                                   user_msg=LOCKED, database=name, retry_after=2)
    if isinstance(original, psycopg.errors.QueryCanceled):
        return DatabaseUnavailable(f"{what} ({name}): statement timeout: {original}",
                                   user_msg=TOO_SLOW, database=name, retry_after=5)
    if isinstance(original, psycopg.errors.ReadOnlySqlTransaction):
        return DatabaseUnavailable(f"{what} ({name}): read-only: {original}",
                                   user_msg=READ_ONLY, database=name, retry_after=30)
    if isinstance(original, psycopg.OperationalError) or (
            isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated):
        outage(name).failed(exc)
        return DatabaseUnavailable(f"{what} ({name}): {original}".strip(),
                                   user_msg=UNREACHABLE, database=name)
    return None
