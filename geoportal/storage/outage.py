"""What a process remembers while something it depends on does not answer: the database
(``storage/dbhealth.py``) or the object store (``storage/objects.py``).

Both need the same bookkeeping, kept here once: while an outage is known, requests are refused
at once with a 503 instead of each waiting through timeouts, retries and a pool's back-off,
and one caller at most every ``probe_every_s`` tries the thing for real (``probe_with``) so
that its return is noticed within that interval. The log stays readable: the first failure
with its traceback, then at most every ``report_every_s`` one line "<kind> <name> still
unreachable (N requests refused since HH:MM:SS)", and one line "<kind> <name> reachable again
after S s (N requests refused)" when it answers.

This module knows nothing of PostgreSQL or S3: how to try the thing is the caller's
``attempt``, and the database adds its own bits (a replica's reroute) in a subclass.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

__all__ = ["Outage", "Outages"]


class Outage:
    """What this process knows about one thing (``kind`` "database" or "object store", named
    ``name`` in the log) being unreachable.

    ``since`` is the wall-clock start of the outage (None while it answers), ``refused`` the
    requests refused since. ``clock`` (monotonic seconds) times the probes and the reports;
    tests pass their own."""

    def __init__(self, name: str, *, kind: str, logger: logging.Logger,
                 probe_every_s: float, report_every_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.kind = kind
        self.probe_every_s = probe_every_s
        self.report_every_s = report_every_s
        self._log = logger
        self._clock = clock
        self._lock = threading.Lock()
        self.since: float | None = None
        self.refused = 0
        self._reported = 0.0  # clock of the last "still unreachable" line
        self._probed = 0.0  # clock of the last attempt (start or end) while it was away
        self._probing = threading.Lock()  # held by the one thread that probes

    @property
    def down(self) -> bool:
        """Whether the last attempt to reach the thing failed."""
        return self.since is not None

    def failed(self, exc: BaseException) -> None:
        """A call could not reach the thing: the first failure of an outage is logged with its
        traceback and counts as an attempt (the first probe waits ``probe_every_s``); the
        others are not logged, the refused requests are counted by ``refuse``."""
        with self._lock:
            first = self.since is None
            if first:
                self.since, self.refused = time.time(), 0
                self._reported = self._probed = self._clock()
        if first:
            self._log.error("%s %s unreachable: %s", self.kind, self.name, exc, exc_info=exc)

    def refuse(self) -> None:
        """One request answered 503 because of the outage; at most every ``report_every_s``
        a line says how many so far (one per outage would hide a long one, one per request
        would drown the log)."""
        with self._lock:
            self.refused += 1
            if self.since is None or self._clock() - self._reported < self.report_every_s:
                return
            self._reported = self._clock()
            count, since = self.refused, self.since
        self._log.error("%s %s still unreachable (%d requests refused since %s)", self.kind,
                        self.name, count, datetime.fromtimestamp(since).strftime("%H:%M:%S"))

    def recovered(self) -> bool:
        """A call reached the thing: the end of an outage is logged once. True when an outage
        ended here (False when none was known, or another thread ended it)."""
        if self.since is None:  # the usual case, without a lock
            return False
        with self._lock:
            if self.since is None:
                return False
            seconds, count, self.since = time.time() - self.since, self.refused, None
        self._log.warning("%s %s reachable again after %.1f s (%d requests refused)",
                          self.kind, self.name, seconds, count)
        return True

    def probe_with(self, attempt: Callable[[], object]) -> bool:
        """Whether a call may go to the thing now: True at once while no outage is known.
        During one, ``attempt`` (a real call that raises while the thing is still away) runs
        for one caller at most every ``probe_every_s`` (counted from the end of the last
        attempt) and never in two threads at once; the other callers get False without
        waiting. An ``attempt`` that raises lets its exception through (the outage goes on);
        one that returns ends the outage (``recovered``) and gives True."""
        if self.since is None:
            return True
        if self._clock() - self._probed < self.probe_every_s:
            return False
        if not self._probing.acquire(blocking=False):
            return False
        try:
            if self.since is None:  # ended by another caller meanwhile
                return True
            if self._clock() - self._probed < self.probe_every_s:  # one just finished
                return False
            self._probed = self._clock()
            try:
                attempt()
            finally:
                self._probed = self._clock()
        finally:
            self._probing.release()
        self.recovered()
        return True


class Outages[O: Outage]:
    """The process's outages by name (``make`` builds one the first time a name is asked
    for): every client of the same database or store in a process counts the same outage."""

    def __init__(self, make: Callable[[str], O]) -> None:
        self._make = make
        self._known: dict[str, O] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> O:
        """The outage tracker of ``name``, made on first use (most are never down)."""
        found = self._known.get(name)
        if found is None:
            with self._lock:
                found = self._known.setdefault(name, self._make(name))
        return found

    def known(self, name: str | None) -> O | None:
        """The outage tracker of ``name`` if one was made, without making one."""
        return self._known.get(name) if name else None

    def refuse(self, name: str | None) -> None:
        """Count a request refused because ``name`` is away against its outage (if known)."""
        found = self.known(name)
        if found is not None:
            found.refuse()
