"""How the portal talks to PostgreSQL so that PgBouncer in transaction mode and read replicas
work: per-transaction settings, no prepared statements, and which server a read goes to.

- No startup ``options`` (PgBouncer refuses them: "unsupported startup parameter: options")
  and no session ``SET``: in transaction mode the next transaction may run on another server
  connection. Every transaction starts with ``set_config(..., true)`` (``SET LOCAL``) of
  ``statement_timeout``, ``lock_timeout`` and ``TimeZone``.
- ``prepare_threshold=None``: psycopg prepares a statement it ran 5 times; PgBouncer 1.18
  would send the next execution to a server connection that never saw it ("prepared
  statement "_pg3_0" does not exist").
- Reads of anonymous GET requests may go to ``database_read_url`` (a replica); the server
  marks them with ``replica_reads()``. Everything else (writes, the admin API, edits, any
  request with a token, the CLI, the job runner) reads the primary, so nobody misses their
  own write behind a lagging replica.
- While the replica is known to be away (``dbhealth.replica_down``), the reads meant for it go
  to the primary, until a probe finds it back; a web node's start-up reads (the catalog it
  serves) go to the replica too, so a node starts while the primary is away.
"""

from __future__ import annotations

import logging
import re
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Self

import psycopg
from psycopg import sql

from geoportal.errors import StorageError

__all__ = ["OneTripCursor", "allow_replica_reads", "application_name", "bind_request_id",
           "connect_kwargs", "end_replica_reads", "maybe_closed", "one_row",
           "reads_from_replica", "replica_reads", "session_settings", "slow_statements",
           "unbind_request_id"]

log = logging.getLogger("geoportal.storage")

_REPLICA_OK: ContextVar[bool] = ContextVar("geoportal_replica_reads", default=False)
# the request a statement serves (the server's request id, already checked to be
# [A-Za-z0-9._-]{1,64}): PostgreSQL's application_name and the slow-statement log show it
_REQUEST: ContextVar[str | None] = ContextVar("geoportal_request_id", default=None)
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SLOW_MS = [1_000]  # slow_statements()


def bind_request_id(request_id: str) -> Any:
    """Statements run from now in this context serve ``request_id``; returns the token for
    ``unbind_request_id``. An id with other characters is not bound (it would go into SQL)."""
    return _REQUEST.set(request_id if _SAFE_ID.fullmatch(request_id) else None)


def unbind_request_id(token: Any) -> None:
    """Undo ``bind_request_id``."""
    _REQUEST.reset(token)


def slow_statements(ms: int) -> None:
    """Statements of read cursors that take longer than ``ms`` are logged (0: never)."""
    _SLOW_MS[0] = max(0, int(ms))


def application_name() -> str:
    """The ``set_config`` of ``application_name`` for this transaction: ``geoportal
    <request id>`` (``pg_stat_activity`` and PostgreSQL's log show which request runs a
    statement), or an empty string outside a request."""
    request_id = _REQUEST.get()
    return f", set_config('application_name', 'geoportal {request_id}', true)" \
        if request_id else ""


def connect_kwargs(connect_timeout_s: float = 2.0) -> dict[str, Any]:
    """psycopg ``connect`` arguments: no automatic prepared statements, a bounded connect."""
    return {"prepare_threshold": None, "connect_timeout": max(2, round(connect_timeout_s))}


def session_settings(statement_timeout_ms: int, lock_timeout_ms: int) -> str:
    """The statement that opens every transaction (its settings end with the transaction)."""
    statement, lock = int(statement_timeout_ms), int(lock_timeout_ms)
    return (f"SELECT set_config('statement_timeout', '{statement}ms', true), "
            f"set_config('lock_timeout', '{lock}ms', true), "
            "set_config('TimeZone', 'UTC', true)")


class OneTripCursor(psycopg.ClientCursor):
    """A read cursor that costs one round trip per statement: each statement goes in one
    message behind the ``set_config`` of its settings. A simple-query message of several
    statements runs as one implicit transaction, so the settings hold for the statement and
    end with it, as ``SET LOCAL`` in a BEGIN ... COMMIT would, without the BEGIN and the
    COMMIT (each a round trip, two hops through PgBouncer). Values are bound client-side
    (psycopg quotes them), as the simple protocol requires. After ``execute`` the cursor
    stands on the statement's result; a caller that sent several statements in one
    ``execute`` moves on with ``nextset()``.

    ``settings(at_most_ms)`` gives the settings statement for the next statement (its
    ``statement_timeout`` no more than ``at_most_ms`` when given), or raises when the
    caller's time is spent."""

    def __init__(self, connection: psycopg.Connection, settings: Callable[[int | None], str]
                 ) -> None:
        super().__init__(connection)
        self._settings = settings

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                binary: bool | None = None, at_most_ms: int | None = None) -> Self:
        """Run ``query`` (one statement or several separated by ``;``) under its settings."""
        statement = query if isinstance(query, sql.Composable) else sql.SQL(query)
        started = time.perf_counter()
        super().execute(sql.SQL("{}{}; {}").format(sql.SQL(self._settings(at_most_ms)),
                                                   sql.SQL(application_name()), statement),
                        params, prepare=prepare, binary=binary)
        self.nextset()
        elapsed_ms = (time.perf_counter() - started) * 1000
        if _SLOW_MS[0] and elapsed_ms > _SLOW_MS[0]:
            # the statement's shape (placeholders, never the values: they are the users')
            log.warning("slow statement request_id=%s ms=%.0f sql=%s", _REQUEST.get() or "-",
                        elapsed_ms, " ".join(statement.as_string(self).split())[:2000])
        return self


def one_row(cur: psycopg.Cursor[tuple[Any, ...]]) -> tuple[Any, ...]:
    """The row of a statement that always returns one (an aggregate, ``SELECT
    to_regclass(...)``): a StorageError (500) if it returned none, never a TypeError later."""
    row = cur.fetchone()
    if row is None:
        raise StorageError("a statement that returns one row returned none")
    return row


def maybe_closed(conn: psycopg.Connection) -> bool:
    """Whether an idle connection may have been closed by the server: it has something to
    read (the server's goodbye after a restart or an idle timeout, or the end of the
    stream). A healthy idle connection has nothing to read, so this costs no round trip;
    only a suspect one needs a real check."""
    try:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except (OSError, ValueError, psycopg.Error):  # no socket any more
        return True


@contextmanager
def replica_reads(allowed: bool = True) -> Iterator[None]:
    """Within the block, reads may be served by the read replica (when one is configured)."""
    token = _REPLICA_OK.set(allowed)
    try:
        yield
    finally:
        _REPLICA_OK.reset(token)


def allow_replica_reads(allowed: bool) -> Any:
    """Like ``replica_reads`` for a request whose end is another callback: returns the token
    for ``end_replica_reads``."""
    return _REPLICA_OK.set(allowed)


def end_replica_reads(token: Any) -> None:
    """Undo ``allow_replica_reads``."""
    _REPLICA_OK.reset(token)


def reads_from_replica() -> bool:
    """Whether the current request's reads may go to the replica."""
    return _REPLICA_OK.get()
