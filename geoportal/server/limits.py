"""Many clients: per-client rate limits, the failed-login limit and the heavy-request gate.

A *heavy* request is one whose cost the client chooses: a CQL2 ``filter=``, a download, a
coverage, a vector or map tile at zoom 6 or less. Two rules keep them from starving everyone:

- **the gate**: one server process runs at most ``heavy_requests`` of them at once; a newcomer
  waits up to ``GATE_WAIT_S`` for a free place, then gets 503 with ``Retry-After``
  (``BudgetExceeded``). A download holds its place until its last byte is sent. Ordinary
  requests (a bbox page, a feature, ``/collections``, the pages) never touch the gate.
- **the rate**: one client address sends at most ``rate_limit_per_minute`` heavy requests a
  minute (429, ``TooManyRequests``).

Failed logins (a token sent and refused by ``TokenStore.verify``) are limited to
``auth_failures_per_minute`` per client: past it, the client gets 429 before its token is even
looked at, until the minute ends. They are audited as one row per client and minute
(``action=login, result=refused, detail="N failed logins"``): written when the client reaches
the limit, or, for fewer failures, by a sweep a few seconds after the minute closes.

Counts are kept per minute (fixed windows) in an SQLite file the gunicorn master creates in
``/dev/shm`` before it forks (``share_between_workers``), so every worker process of one server
counts together; elsewhere (another WSGI server, tests) in the memory of the process. Each
server machine limits on its own: behind a load balancer a client may reach N machines.

The client is the peer's address; ``X-Forwarded-For`` is read only when the peer is one of
gunicorn's ``forwarded_allow_ips`` (a proxy in front), from the right, skipping trusted proxies.
"""

from __future__ import annotations

import atexit
import ipaddress
import logging
import math
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from flask import Flask, Request, current_app, request
from werkzeug.exceptions import BadRequest, ClientDisconnected
from werkzeug.wsgi import ClosingIterator

from geoportal.admin.audit import AuditLog
from geoportal.admin.tokens import Token, TokenStore
from geoportal.config import Settings
from geoportal.errors import BudgetExceeded, InputError, TooManyRequests, Unauthorized

__all__ = [
    "GATE_WAIT_S",
    "Gate",
    "Limits",
    "Proxies",
    "SlowClient",
    "Windows",
    "authenticate",
    "client_address",
    "heavy",
    "heavy_kind",
    "install",
    "serve_with",
    "share_between_workers",
]

log = logging.getLogger("geoportal.server")

GATE_WAIT_S = 2.0  # longest a heavy request waits for a place before its 503
LOW_ZOOM = 6  # tiles at this zoom or less cover much of the country: heavy
RETRY_BUSY_S = 5  # Retry-After of a request the gate turned away
WINDOW_S = 60
SWEEP_S = 5.0
_RELEASES = "geoportal.heavy_releases"  # environ key: what to release when the response closes


class SlowClient(InputError, TimeoutError):
    """The client stopped sending its request body (``body_timeout_s`` of silence). A
    TimeoutError too, so the server's own body-draining code treats it as one."""

    http_status = HTTPStatus.REQUEST_TIMEOUT
    ogc_code = "RequestTimeout"


# -- who is the client -------------------------------------------------------------------

@dataclass(frozen=True)
class Proxies:
    """The proxies whose ``X-Forwarded-For`` is believed (gunicorn's ``forwarded_allow_ips``:
    addresses or networks, ``*`` for any)."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    anyone: bool = False

    @classmethod
    def parse(cls, items: str | Iterable[str]) -> Proxies:
        """From ``"127.0.0.1,::1"`` or a list of such items; unparsable items are ignored."""
        if isinstance(items, str):
            items = items.split(",")
        networks = []
        anyone = False
        for item in (i.strip() for i in items):
            if item == "*":
                anyone = True
            elif item:
                try:
                    networks.append(ipaddress.ip_network(item, strict=False))
                except ValueError:
                    log.warning("forwarded_allow_ips: %r is not an address or network", item)
        return cls(tuple(networks), anyone)

    def trusts(self, address: str) -> bool:
        """True when ``address`` is a proxy in front of us."""
        if self.anyone:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.networks)


def client_address(peer: str | None, forwarded_for: str | None, proxies: Proxies) -> str:
    """The address a request comes from: the peer's, or, when the peer is a trusted proxy, the
    right-most ``X-Forwarded-For`` hop that is not a trusted proxy (the left part is whatever
    the client chose to write there)."""
    client = peer or "unknown"
    if not forwarded_for or not proxies.trusts(client):
        return client
    for hop in reversed(forwarded_for.split(",")[-32:]):
        hop = hop.strip()
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return client  # garbage: the last hop we could believe
        client = hop
        if not proxies.trusts(hop):
            return hop
    return client


# -- counts per client and minute, shared by a server's workers ---------------------------

_SCHEMA = """CREATE TABLE IF NOT EXISTS hits (
    kind TEXT NOT NULL, client TEXT NOT NULL, minute INTEGER NOT NULL,
    count INTEGER NOT NULL, audited INTEGER NOT NULL,
    PRIMARY KEY (kind, client, minute)) WITHOUT ROWID"""


class Windows:
    """How many times each client did something (``kind``) in each minute.

    ``path``: an SQLite file shared by the processes of one server; None: this process's
    memory. A broken count never refuses a request: it is logged and counts as zero.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path) if path else ":memory:", timeout=2.0,
                                   isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(_SCHEMA)
        self._cleaned = 0

    def _run(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            log.warning("rate limits: %s", exc)
            return []

    def hit(self, kind: str, client: str, minute: int, *, audited: bool = True) -> int:
        """Count one more; the count of this minute so far. ``audited=False`` keeps the row
        for ``claim``/``closed`` (failed logins)."""
        if minute != self._cleaned:  # once a minute: forget what no one will ask again
            self._cleaned = minute
            self._run("DELETE FROM hits WHERE minute < ? AND audited = 1", (minute - 1,))
        rows = self._run(
            "INSERT INTO hits VALUES (?, ?, ?, 1, ?) ON CONFLICT (kind, client, minute) "
            "DO UPDATE SET count = count + 1 RETURNING count",
            (kind, client[:64], minute, int(audited)))
        return int(rows[0][0]) if rows else 0

    def count(self, kind: str, client: str, minute: int) -> int:
        """The count of this minute so far."""
        rows = self._run("SELECT count FROM hits WHERE kind = ? AND client = ? AND minute = ?",
                         (kind, client[:64], minute))
        return int(rows[0][0]) if rows else 0

    def claim(self, kind: str, client: str, minute: int) -> bool:
        """True for the one caller (of any process) that gets to audit this window."""
        return bool(self._run(
            "UPDATE hits SET audited = 1 WHERE kind = ? AND client = ? AND minute = ? "
            "AND audited = 0 RETURNING 1", (kind, client[:64], minute)))

    def closed(self, kind: str, before: int) -> list[tuple[str, int, int]]:
        """Claim every window not audited yet that ended before ``before``:
        (client, minute, count) each."""
        return [(str(c), int(m), int(n)) for c, m, n in self._run(
            "UPDATE hits SET audited = 1 WHERE kind = ? AND minute < ? AND audited = 0 "
            "RETURNING client, minute, count", (kind, before))]

    def pending(self, kind: str) -> bool:
        """True while some window of ``kind`` is still to be audited."""
        return bool(self._run("SELECT 1 FROM hits WHERE kind = ? AND audited = 0 LIMIT 1",
                              (kind,)))


_SHARED: Path | None = None
_PROXIES = Proxies.parse(os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"))


def share_between_workers() -> Path:
    """In the gunicorn master, before it forks: the file the workers count in together (in
    ``/dev/shm`` where there is one; removed when the master exits)."""
    global _SHARED
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(prefix="geoportal-limits-",
                                   dir=shm if shm.is_dir() else None))
    path = folder / "limits.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(_SCHEMA)
    master = os.getpid()
    atexit.register(lambda: os.getpid() == master and shutil.rmtree(folder, True))
    _SHARED = path
    return path


def serve_with(*, shared: Path | None, proxies: Iterable[str]) -> None:
    """In a worker, before ``create_app``: the shared counts and the trusted proxies
    (gunicorn's ``forwarded_allow_ips``)."""
    global _SHARED, _PROXIES
    _SHARED = shared
    _PROXIES = Proxies.parse(proxies)


# -- the gate ---------------------------------------------------------------------------

class Gate:
    """At most ``places`` heavy requests at once in this process."""

    def __init__(self, places: int, wait_s: float = GATE_WAIT_S) -> None:
        self.places = places
        self.wait_s = wait_s
        self._free = threading.BoundedSemaphore(places)

    def enter(self, what: str) -> Callable[[], None]:
        """Take a place (waiting up to ``wait_s``); the function that gives it back (once,
        however often it is called). BudgetExceeded when none frees in time."""
        if not self._free.acquire(timeout=self.wait_s):
            seconds = RETRY_BUSY_S
            raise BudgetExceeded(
                f"gate full: {self.places} heavy requests running, {what} refused",
                user_msg=f"the server is busy with other heavy requests (filters, downloads, "
                         f"coverages, low-zoom tiles); try again in {seconds} s",
                retry_after=seconds)
        done = threading.Lock()

        def release() -> None:
            if done.acquire(blocking=False):
                self._free.release()

        return release


# -- the limits of one app ---------------------------------------------------------------

@dataclass
class Limits:
    """The gate, the counts and the settings they follow (one per app)."""

    settings: Settings
    audit: AuditLog
    windows: Windows
    proxies: Proxies
    gate: Gate = field(init=False)
    clock: Callable[[], float] = time.time
    _sweeper: threading.Thread | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.gate = Gate(self.settings.heavy_requests)

    def client(self, req: Request) -> str:
        """The address ``req`` comes from (see ``client_address``)."""
        return client_address(req.remote_addr, req.headers.get("X-Forwarded-For"),
                              self.proxies)

    def _minute(self) -> tuple[int, int]:
        """This minute's number and the seconds until it ends (at least 1)."""
        now = self.clock()
        return int(now // WINDOW_S), max(1, math.ceil(WINDOW_S - now % WINDOW_S))

    def count_heavy(self, client: str) -> None:
        """One more heavy request from ``client``; TooManyRequests past the rate."""
        limit = self.settings.rate_limit_per_minute
        if not limit:
            return
        minute, left = self._minute()
        if self.windows.hit("heavy", client, minute) > limit:
            raise TooManyRequests(
                f"rate limit: {client} over {limit} heavy requests a minute",
                user_msg=f"too many heavy requests from your address (filters, downloads, "
                         f"coverages, low-zoom tiles): at most {limit} a minute; try again "
                         f"in {left} s", retry_after=left)

    def authenticate(self, tokens: TokenStore, text: str | None, client: str) -> Token:
        """``tokens.verify(text)`` under the failed-login limit: TooManyRequests, without
        looking at the token, for a client with ``auth_failures_per_minute`` failures this
        minute; a refused token is counted (and audited, see the module's docstring)."""
        limit = self.settings.auth_failures_per_minute
        minute, left = self._minute()
        if self.windows.count("login", client, minute) >= limit:
            raise TooManyRequests(
                f"login limit: {client} over {limit} failed logins a minute",
                user_msg=f"too many failed logins from your address: at most {limit} a "
                         f"minute; try again in {left} s", retry_after=left)
        try:
            return tokens.verify(text)
        except Unauthorized:
            if text:  # no token at all is not a login attempt
                failures = self.windows.hit("login", client, minute, audited=False)
                if failures >= limit and self.windows.claim("login", client, minute):
                    self._audit(client, failures)
                self._sweep_later()
            raise

    def _audit(self, client: str, failures: int) -> None:
        self.audit.record("login", "refused", client=client, status=401,
                          detail=f"{failures} failed logins")

    def sweep(self) -> int:
        """Audit the failed logins of minutes that have ended (those not audited at the
        limit); how many rows were written."""
        minute, _ = self._minute()
        closed = self.windows.closed("login", minute)
        for client, _, failures in closed:
            self._audit(client, failures)
        return len(closed)

    def _sweep_later(self) -> None:
        """Make sure a thread of this process sweeps until nothing is left to audit."""
        if self._sweeper is not None and self._sweeper.is_alive():
            return

        def run() -> None:
            while True:
                time.sleep(SWEEP_S)
                try:
                    self.sweep()
                    if not self.windows.pending("login"):
                        return
                except Exception:  # the audit's database away: try again next round
                    log.exception("failed-login audit sweep")

        self._sweeper = threading.Thread(target=run, name="geoportal-login-audit",
                                         daemon=True)
        self._sweeper.start()


# -- in the app ---------------------------------------------------------------------------

def heavy_kind(req: Request) -> str | None:
    """What makes ``req`` heavy (``"filter"``, ``"download"``, ``"coverage"``, ``"tile"``), or
    None for an ordinary request."""
    endpoint = req.endpoint or ""
    args = req.view_args or {}
    if endpoint == "items" and "filter" in req.args:
        return "filter"
    if endpoint == "download":
        # a ranged read of a raster (GDAL's /vsicurl/) is a bounded slice of a file
        return None if "Range" in req.headers else "download"
    if endpoint == "coverages.coverage":
        return "coverage"
    if endpoint in ("tiles.tile", "coverages.map_tile"):
        z = str(args.get("z", ""))
        return "tile" if z.isdigit() and int(z) <= LOW_ZOOM else None
    return None


_GATED_WHOLE = frozenset({"filter", "download", "coverage"})  # tiles: only when rendered


def install(app: Flask, settings: Settings, audit: AuditLog) -> Limits:
    """Put the limits in front of ``app``'s heavy routes; the ``Limits`` it uses (also in
    ``app.extensions["geoportal"]["limits"]``)."""
    limits = Limits(settings, audit, Windows(_SHARED), _PROXIES)
    app.extensions.setdefault("geoportal", {})["limits"] = limits

    @app.before_request
    def _heavy_requests() -> None:
        what = heavy_kind(request)
        if what is None:
            return
        limits.count_heavy(limits.client(request))
        if what in _GATED_WHOLE:
            request.environ[_RELEASES].append(limits.gate.enter(what))

    @app.errorhandler(ClientDisconnected)
    def _slow_body(exc: ClientDisconnected) -> Any:
        # werkzeug reports any failed read of the body as a disconnection (400); a body
        # that stopped arriving is our SlowClient (408)
        cause = exc.__context__
        return app.handle_user_exception(
            cause if isinstance(cause, SlowClient) else BadRequest(exc.description))

    inner = app.wsgi_app

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
        # A gated request gives its place back when the server closes the response: after
        # the last byte of a streamed download, or when the client went away.
        releases: list[Callable[[], None]] = []
        environ[_RELEASES] = releases

        def release_all() -> None:
            for release in releases:
                release()

        try:
            body = inner(environ, start_response)
        except BaseException:
            release_all()
            raise
        return ClosingIterator(body, release_all) if releases else body

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]
    return limits


def _limits() -> Limits:
    return current_app.extensions["geoportal"]["limits"]


@contextmanager
def heavy(what: str) -> Iterator[None]:
    """Hold a place at the gate for the work inside (a low-zoom tile being rendered)."""
    release = _limits().gate.enter(what)
    try:
        yield
    finally:
        release()


def authenticate(tokens: TokenStore, text: str | None) -> Token:
    """The request's token, verified under the failed-login limit (``Limits.authenticate``)."""
    limits = _limits()
    return limits.authenticate(tokens, text, limits.client(request))
