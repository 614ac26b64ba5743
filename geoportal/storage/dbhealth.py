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

import psycopg
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine

from geoportal.errors import DatabaseUnavailable, StorageError
from geoportal.i18n import Message, tr
from geoportal.storage import outage as outage_tracker

__all__ = ["BUSY", "LOCKED", "READ_ONLY", "TOO_SLOW", "TRY_AGAIN", "UNREACHABLE", "LogOnce",
           "Outage", "classify", "database_error", "database_name", "outage", "refused",
           "replica_down", "unreachable", "unreachable_error"]

log = logging.getLogger("geoportal.database")

# What users are told (message ids; ``unreachable`` and server.health compare with them).
UNREACHABLE = tr("the database is unreachable; try again in a few seconds")
LOCKED = tr("the layer is locked by a publish; try again")
TOO_SLOW = tr("the database did not answer in time; try again in a few seconds")
READ_ONLY = tr("the database is read-only just now (maintenance or a fail-over), so nothing "
               "can be changed; try again later")
TRY_AGAIN = tr("the database had to cancel this request (a conflict with another one); try "
               "again")
BUSY = tr("the database has no free connection just now; try again in a few seconds")

# SQLSTATEs of a server that is going away or gone: admin_shutdown, crash_shutdown,
# cannot_connect_now (starting up, shutting down, in recovery without hot standby)
_SHUTTING_DOWN = frozenset({"57P01", "57P02", "57P03"})
# serialization_failure (on a hot standby also "conflict with recovery"), deadlock_detected
_ROLLED_BACK = frozenset({"40001", "40P01"})
_TOO_MANY_CONNECTIONS = "53300"

REPORT_EVERY_S = 10.0
PROBE_EVERY_S = 0.2


def database_name(target: str | URL | Engine) -> str:
    """``host:port/dbname`` of a libpq URL or connection string, a SQLAlchemy URL or an
    engine (never user or password): the one name of a database in logs and outages, so the
    catalog, the audit log, the tokens and the PostGIS store count the same outage."""
    if isinstance(target, Engine):
        target = target.url
    if isinstance(target, URL):
        target = target.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        info = psycopg.conninfo.conninfo_to_dict(target)
    except psycopg.Error:
        return "postgresql"
    return "{}:{}/{}".format(info.get("host", ""), info.get("port", "5432"),
                             info.get("dbname", ""))


class LogOnce:
    """A failure that is logged once, then not again until the thing works again (an audit
    row or a token's ``last_used`` that a read-only or absent database refuses: the request
    goes on; one line says so, not one per request)."""

    def __init__(self, logger: logging.Logger, message: str) -> None:
        self._log = logger
        self._message = message
        self._failing = threading.Event()

    def failed(self, exc: BaseException) -> None:
        """It failed: the first failure since it last worked is logged (WARNING)."""
        if not self._failing.is_set():
            self._failing.set()
            self._log.warning("%s (further failures not logged until it works again): %s",
                              self._message, exc)

    def worked(self) -> None:
        """It worked: the next failure is logged again."""
        if self._failing.is_set():
            self._failing.clear()


class Outage(outage_tracker.Outage):
    """What this process knows about one database being unreachable (``storage/outage.py``),
    with the database's own bits: a probe by a direct connection, and for a replica whether
    its reads go to the primary meanwhile (``rerouted``, logged once each way)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, kind="database", logger=log, probe_every_s=PROBE_EVERY_S,
                         report_every_s=REPORT_EVERY_S)
        self.rerouted = False

    def recovered(self) -> bool:
        """A call reached the database: the end of an outage is logged once, and a replica's
        reads come back to it. True when an outage ended here."""
        if not super().recovered():
            return False
        if self.rerouted:
            self.rerouted = False
            log.warning("reads of anonymous requests go to the replica %s again", self.name)
        return True

    def reroute(self) -> bool:
        """The replica's reads go to the primary until it answers; True for the caller that
        made the switch (the one to log it)."""
        with self._lock:
            first, self.rerouted = not self.rerouted, True
        return first

    def probe(self, conninfo: str, connect_timeout_s: int = 2) -> bool:
        """While an outage is known: whether the database answers a new connection now
        (at most one attempt every ``PROBE_EVERY_S`` per process; between attempts, and
        while another thread tries, the answer is "not yet")."""
        def connect() -> None:
            with psycopg.connect(conninfo, connect_timeout=connect_timeout_s,
                                 prepare_threshold=None, autocommit=True) as conn:
                conn.execute("SELECT 1")

        try:
            return self.probe_with(connect)
        except psycopg.Error:
            return False


_OUTAGES: outage_tracker.Outages[Outage] = outage_tracker.Outages(Outage)


def outage(name: str) -> Outage:
    """The process's ``Outage`` of the database ``name`` (``database_name``)."""
    return _OUTAGES.get(name)


def replica_down(name: str, conninfo: str) -> bool:
    """Whether the reads meant for the replica ``name`` go to the primary now: while its
    outage is known and a probe (at most every ``PROBE_EVERY_S``) finds it still away. The
    switch is logged once each way ("go to the primary", "go to the replica again")."""
    found = _OUTAGES.known(name)
    if found is None or not found.down or found.probe(conninfo):
        return False
    if not found.rerouted and found.reroute():
        log.warning("replica %s unreachable: reads of anonymous requests go to the "
                    "primary until it answers again", name)
    return True


def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` is a ``DatabaseUnavailable`` of a database that does not answer at all
    (an outage), not a lock, a timeout or a busy server."""
    return isinstance(exc, DatabaseUnavailable) and exc.user_msg == UNREACHABLE


def _unavailable(msg: str, said: Message, name: str,
                 retry_after: int | None = None) -> DatabaseUnavailable:
    """The 503 of database ``name``: ``msg`` for the log, ``said`` (one of the constants above)
    for the user."""
    return DatabaseUnavailable(msg, user_msg=said, database=name, retry_after=retry_after)


def unreachable_error(msg: str, name: str) -> DatabaseUnavailable:
    """The 503 of database ``name`` not answering at all (``UNREACHABLE``, an outage that
    ``unreachable`` recognises); ``msg`` goes to the log."""
    return _unavailable(msg, UNREACHABLE, name)


def refused(exc: DatabaseUnavailable) -> None:
    """Count a request refused with ``exc`` against its database's outage (if one)."""
    _OUTAGES.refuse(exc.database)


def classify(exc: BaseException, name: str, what: str) -> DatabaseUnavailable | None:
    """The ``DatabaseUnavailable`` (HTTP 503) for a psycopg or SQLAlchemy error that says the
    database cannot answer now, or None for any other error (a bug or a bad query: the
    caller's StorageError). By SQLSTATE:

    - none (libpq could not connect or lost the connection), class 08, 57P01-57P03: the
      database is away: its ``Outage`` starts (traceback logged once), pools are renewed;
    - 55P03 lock_not_available, 57014 query_canceled: a lock or statement timeout;
    - 25006 read_only_sql_transaction: a replica or a primary in maintenance;
    - 40001, 40P01 (serialization failure, incl. a hot standby's "conflict with recovery";
      deadlock): this request only, try again; no outage;
    - 53300 too_many_connections: the server is full; no outage, the pool is kept.
    """
    if isinstance(exc, sa_exc.TimeoutError):  # no free pooled connection in time
        return _unavailable(f"{what} ({name}): no free connection: {exc}", TOO_SLOW, name,
                            retry_after=2)
    original = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    if not isinstance(original, psycopg.Error):
        return None
    sqlstate = original.sqlstate
    if isinstance(original, psycopg.errors.LockNotAvailable):
        return _unavailable(f"{what} ({name}): lock timeout: {original}", LOCKED, name,
                            retry_after=2)
    if isinstance(original, psycopg.errors.QueryCanceled):
        return _unavailable(f"{what} ({name}): statement timeout: {original}", TOO_SLOW, name,
                            retry_after=5)
    if isinstance(original, psycopg.errors.ReadOnlySqlTransaction):
        return _unavailable(f"{what} ({name}): read-only: {original}", READ_ONLY, name,
                            retry_after=30)
    if sqlstate in _ROLLED_BACK:
        return _unavailable(f"{what} ({name}): rolled back ({sqlstate}): {original}",
                            TRY_AGAIN, name, retry_after=1)
    if sqlstate == _TOO_MANY_CONNECTIONS:
        return _unavailable(f"{what} ({name}): too many connections: {original}", BUSY, name,
                            retry_after=5)
    invalidated = isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated
    gone = sqlstate is None or sqlstate.startswith("08") or sqlstate in _SHUTTING_DOWN
    if (isinstance(original, psycopg.OperationalError) and gone) or invalidated:
        outage(name).failed(exc)
        return unreachable_error(f"{what} ({name}): {original}".strip(), name)
    return None


def database_error(exc: BaseException, what: str, name: str | None) -> StorageError:
    """The error to raise for a database failure ``exc`` while doing ``what``: the
    ``DatabaseUnavailable`` of ``classify`` when PostgreSQL cannot answer now, else a
    StorageError. ``name`` is the database's ``database_name``; None for the embedded SQLite
    catalog, whose errors are never classified (nobody else can lock it away for long)."""
    if name is not None:
        found = classify(exc, name, what)
        if found is not None:
            return found
    return StorageError(f"{what} ({name or 'sqlite'}): {exc}")
