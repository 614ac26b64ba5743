"""Many clients: per-client rate limits, the failed-login limit and the two gates.

A *heavy* request is one whose cost the client chooses: a CQL2 ``filter=``, a page of a
layer's items sorted (``sortby``), far down (``offset`` over ``DEEP_OFFSET``) or in a time
range (``datetime``), a coverage, and a download. These rules keep them from starving everyone:

- **the gates**: one server process runs at most ``heavy_requests`` heavy requests at once,
  and, apart, at most ``heavy_requests`` downloads (a download holds its place until its last
  byte is sent, up to ``download_budget_s``: downloads never take the places of filters and
  tiles). A newcomer finding its gate full waits up to ``GATE_WAIT_S`` for a place, but only
  as many wait as there are places; the others, and those whose wait ends, get 503 with
  ``Retry-After`` (``BudgetExceeded``) at once. So a burst parks at most ``2 x heavy_requests``
  threads per gate, for at most ``GATE_WAIT_S``.
- **one client's share**: in one process, one client runs (or waits for) at most
  ``PER_CLIENT_HEAVY`` heavy requests and ``PER_CLIENT_DOWNLOADS`` download; more get 429 at
  once (``TooManyRequests``), so one client cannot hold every place.
- **the rate**: one client sends at most ``rate_limit_per_minute`` heavy requests and
  downloads a minute (429).

Ordinary requests (a bbox page, a feature, ``/collections``, the pages, tiles from the cache,
ranged reads of a coverage's COG, which GDAL's ``/vsicurl/`` makes many of) never touch a gate
or the rate.

Tiles are what a map viewer asks for a dozen at a time, so they get a gate of their own that
waits rather than refuses: a vector tile at zoom ``LOW_ZOOM`` or less of a layer large enough
to be thinned (more than ``MAX_TILE_FEATURES`` features), or a map tile of a coverage at such
a zoom, rendered now (not from the tile cache), takes one of ``heavy_requests`` places; up to
``TILE_WAITING`` per place wait up to ``TILE_WAIT_S``; no client share (a viewer's dozen tiles
are one user) and no rate. Other tiles are cheap (the R-tree, a small window) and bounded by
the query budget.

Failed logins (a token sent and refused by ``TokenStore.verify``) are limited to
``auth_failures_per_minute`` per client: past it, a refused token gets 429 instead of 401,
until the minute ends; a valid token always works (the token is looked at first: a check of
one row, and a secret no one can guess in any number of tries), so no one behind the same
address can lock editors out. They are audited as one row per client and minute
(``action=login, result=refused, detail="N failed logins"``): written when the client reaches
the limit, or, for fewer failures, by a sweep a few seconds after the minute closes.

Counts are kept per minute (fixed windows) in an SQLite file the gunicorn master creates in
``/dev/shm`` before it forks (``share_between_workers``), so every worker process of one server
counts together; elsewhere (another WSGI server, tests) in the memory of the process. Each
server machine limits on its own: behind a load balancer a client may reach N machines.

The client is the peer's address; ``X-Forwarded-For`` is read only when the peer is one of
gunicorn's ``forwarded_allow_ips`` (a proxy in front), from the right, skipping trusted proxies.
Limits are counted per ``client_key``: the address, or for IPv6 its /64 network (one
subscriber's whole allocation: a client could take a new address in it for every request).
The audit records the address itself (``request_client``).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import ipaddress
import logging
import math
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from flask import Flask, Request, Response, current_app, request
from werkzeug.exceptions import BadRequest, ClientDisconnected

from geoportal.admin.audit import AuditLog
from geoportal.admin.tokens import Token, TokenStore
from geoportal.config import Settings
from geoportal.errors import BudgetExceeded, InputError, TooManyRequests, Unauthorized
from geoportal.i18n import Message, tr
from geoportal.providers.records import CATALOG_ID

__all__ = [
    "GATE_WAIT_S",
    "Gate",
    "Limits",
    "Proxies",
    "SlowClient",
    "Windows",
    "authenticate",
    "client_address",
    "client_key",
    "download_place",
    "heavy_kind",
    "install",
    "request_client",
    "serve_with",
    "share_between_workers",
    "tile_place",
]

log = logging.getLogger("geoportal.server")

GATE_WAIT_S = 1.0  # longest a request waits (in a thread) for a place before its 503
LOW_ZOOM = 6  # tiles at this zoom or less cover much of the country: heavy
DEEP_OFFSET = 10_000  # items further down than this: a scan of every row before them
TILE_WAIT_S = 5.0  # a tile being rendered elsewhere is worth waiting for
TILE_WAITING = 4  # tiles waiting per place of the tile gate
PER_CLIENT_HEAVY = 2  # heavy requests one client runs or waits for at once, per process
PER_CLIENT_DOWNLOADS = 1  # downloads one client runs or waits for at once, per process
RETRY_BUSY_S = 5  # Retry-After of a heavy request a full gate turned away
RETRY_DOWNLOAD_S = 30  # ... of a download (they last minutes)
RETRY_OWN_S = 2  # ... of a request refused because the client's own share is taken
RANGE_FREE_BYTES = 64 * 1024 * 1024  # a ranged read of a COG up to this much is ordinary
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


def client_key(address: str) -> str:
    """The key ``address``'s limits are counted under: an IPv4 address as it is, an IPv6
    address as its /64 network (an IPv4-mapped one as the IPv4 address)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return address


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
        self.path = path
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


# -- the gates ---------------------------------------------------------------------------

@dataclass(frozen=True)
class GateTexts:
    """What a gate's refusals say: ``busy`` (503) and ``own`` (429), message ids of
    ``geoportal.messages``, each formatted with ``seconds`` and ``places``/``share``."""

    busy: str
    own: str
    retry_busy_s: int


def _gate_message(template: str, **values: int) -> Message:
    """A gate's refusal: ``template`` (a ``GateTexts`` message id) with the values it names
    (a gate passes them all; each text names some)."""
    return tr(template, **{name: value for name, value in values.items()
                           if "{" + name + "}" in template})


HEAVY_TEXTS = GateTexts(
    busy="the server is busy with other heavy requests (filters, sorted, deep or dated pages, "
         "coverages, low-zoom tiles); try again in {seconds} s",
    own="one address may run at most {share} heavy requests (filters, sorted, deep or dated "
        "pages, coverages, low-zoom tiles) at once on this server, and yours already does; "
        "try again in {seconds} s",
    retry_busy_s=RETRY_BUSY_S)
TILE_TEXTS = GateTexts(
    busy="the server is drawing as many low-zoom tiles as it can at once; try again in "
         "{seconds} s",
    own="the server is drawing as many low-zoom tiles as it can at once; try again in "
        "{seconds} s",
    retry_busy_s=RETRY_OWN_S)
DOWNLOAD_TEXTS = GateTexts(
    busy="the server is sending as many downloads as it can at once ({places}); try again in "
         "{seconds} s",
    own="your address already has a download running on this server: one at a time; try "
        "again in {seconds} s, when it has finished",
    retry_busy_s=RETRY_DOWNLOAD_S)


class Slots:
    """``count`` places shared by every worker process of one server: lock files in the
    master's shared folder, each held with ``flock`` by the request using it. The kernel gives
    a place back when its holder's process dies, so a killed worker never keeps one."""

    def __init__(self, folder: Path, name: str, count: int) -> None:
        self.paths = [folder / f"{name}-{i}.lock" for i in range(count)]

    def _try(self) -> int | None:
        for path in self.paths:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            return fd
        return None

    def take(self, wait_s: float) -> int | None:
        """A place (its file descriptor), waiting up to ``wait_s``; None when none freed."""
        deadline = time.monotonic() + wait_s
        while True:
            fd = self._try()
            if fd is not None or time.monotonic() >= deadline:
                return fd
            time.sleep(0.02)

    @staticmethod
    def give(fd: int) -> None:
        """Give back a place ``take`` returned."""
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class Gate:
    """At most ``places`` requests of one kind at once in this process; at most ``waiting``
    more (default: ``places``) wait up to ``wait_s`` for a place; one client runs or waits
    for at most ``per_client`` of them (and no more than ``places``, so another client can
    always wait for the next free place). Beyond these, refused at once: a burst holds few
    threads, and briefly."""

    def __init__(self, places: int, *, per_client: int | None, texts: GateTexts = HEAVY_TEXTS,
                 wait_s: float = GATE_WAIT_S, waiting: int | None = None,
                 shared: Slots | None = None) -> None:
        self.places = places
        # with ``shared``, the places are also counted over every worker process together
        self.shared = shared
        # None: no share per client (tiles: a viewer's dozen are one user's)
        self.per_client = places + (waiting if waiting is not None else places) \
            if per_client is None else min(per_client, places)
        self.texts = texts
        self.wait_s = wait_s
        self.waiting = places if waiting is None else waiting
        self._changed = threading.Condition()
        self._running = 0
        self._waiters = 0
        self._clients: Counter[str] = Counter()

    def _busy(self, what: str, why: str) -> BudgetExceeded:
        seconds = self.texts.retry_busy_s
        return BudgetExceeded(
            f"gate full: {self.places} running, {why}: {what} refused",
            user_msg=_gate_message(self.texts.busy, seconds=seconds, places=self.places),
            retry_after=seconds)

    def enter(self, what: str, client: str) -> Callable[[], None]:
        """Take a place for ``client`` (see the class); the function that gives it back
        (once, however often it is called). TooManyRequests when the client's share is taken,
        BudgetExceeded when no place frees in time or too many wait already."""
        with self._changed:
            if self._clients[client] >= self.per_client:
                raise TooManyRequests(
                    f"gate: {client} already has {self.per_client} running, {what} refused",
                    user_msg=_gate_message(self.texts.own, seconds=RETRY_OWN_S,
                                          share=self.per_client),
                    retry_after=RETRY_OWN_S)
            if self._running >= self.places:
                if self._waiters >= self.waiting:
                    raise self._busy(what, f"{self._waiters} waiting")
                self._waiters += 1
                self._clients[client] += 1
                try:
                    free = self._changed.wait_for(lambda: self._running < self.places,
                                                  timeout=self.wait_s)
                finally:
                    self._waiters -= 1
                if not free:
                    self._leave(client)
                    raise self._busy(what, f"none free after {self.wait_s:g} s")
            else:
                self._clients[client] += 1
            self._running += 1
        slot = None
        if self.shared is not None:  # and a place among all the server's processes
            slot = self.shared.take(self.wait_s)
            if slot is None:
                with self._changed:
                    self._running -= 1
                    self._leave(client)
                    self._changed.notify()
                raise self._busy(what, f"no place among the processes after {self.wait_s:g} s")
        done = threading.Lock()

        def release() -> None:
            if done.acquire(blocking=False):
                if slot is not None:
                    Slots.give(slot)
                with self._changed:
                    self._running -= 1
                    self._leave(client)
                    self._changed.notify()

        return release

    def _leave(self, client: str) -> None:
        self._clients[client] -= 1
        if self._clients[client] <= 0:
            del self._clients[client]


# -- the limits of one app ---------------------------------------------------------------

@dataclass
class Limits:
    """The gate, the counts and the settings they follow (one per app)."""

    settings: Settings
    audit: AuditLog
    windows: Windows
    proxies: Proxies
    gate: Gate = field(init=False)
    downloads: Gate = field(init=False)
    tiles: Gate = field(init=False)
    clock: Callable[[], float] = time.time
    _sweeper: threading.Thread | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        places = self.settings.heavy_requests
        folder = self.windows.path.parent if self.windows.path is not None else None

        def slots(name: str) -> Slots | None:
            return Slots(folder, name, places) if folder is not None else None

        self.gate = Gate(places, per_client=PER_CLIENT_HEAVY, shared=slots("heavy"))
        self.downloads = Gate(places, per_client=PER_CLIENT_DOWNLOADS, texts=DOWNLOAD_TEXTS,
                              shared=slots("download"))
        self.tiles = Gate(places, per_client=None, texts=TILE_TEXTS, wait_s=TILE_WAIT_S,
                          waiting=TILE_WAITING * places, shared=slots("tile"))

    def client(self, req: Request) -> str:
        """The address ``req`` comes from (see ``client_address``)."""
        return client_address(req.remote_addr, req.headers.get("X-Forwarded-For"),
                              self.proxies)

    def key(self, req: Request) -> str:
        """What ``req``'s client is counted as (``client_key`` of its address)."""
        return client_key(self.client(req))

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
                user_msg=tr("too many heavy requests from your address (filters, sorted, deep "
                            "or dated pages, downloads, coverages, low-zoom tiles): at most "
                            "{limit} a minute; try again in {seconds} s", limit=limit,
                            seconds=left), retry_after=left)

    def authenticate(self, tokens: TokenStore, text: str | None, client: str) -> Token:
        """``tokens.verify(text)`` under the failed-login limit: a valid token always passes;
        a refused one is counted (and audited, see the module's docstring) and, past
        ``auth_failures_per_minute`` failures of ``client`` (a ``client_key``) this minute,
        is a TooManyRequests instead of its 401."""
        try:
            return tokens.verify(text)
        except Unauthorized:
            if not text:  # no token at all is not a login attempt
                raise
            limit = self.settings.auth_failures_per_minute
            minute, left = self._minute()
            failures = self.windows.hit("login", client, minute, audited=False)
            if failures >= limit and self.windows.claim("login", client, minute):
                self._audit(client, failures)
            self._sweep_later()
            if failures > limit:
                raise TooManyRequests(
                    f"login limit: {client} over {limit} failed logins a minute",
                    user_msg=tr("too many failed logins from your address: at most {limit} "
                                "a minute; try again in {seconds} s", limit=limit,
                                seconds=left), retry_after=left) from None
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

def _deep(offset: str | None) -> bool:
    try:
        return offset is not None and int(offset) > DEEP_OFFSET
    except ValueError:
        return False  # pygeoapi answers 400


def heavy_kind(req: Request) -> str | None:
    """What makes ``req`` heavy (``"filter"``, ``"sortby"``, ``"offset"``, ``"datetime"``,
    ``"coverage"``, ``"tile"``), or None for an ordinary request. Downloads have their own
    gate, taken by the route (``download_place``), which alone knows a coverage's ranged
    read from a vector download. The catalog's records (a list in memory, sorted by title on
    the home page's every search) are heavy only with a filter."""
    endpoint = req.endpoint or ""
    args = req.view_args or {}
    if endpoint == "items":
        if req.args.get("filter"):
            return "filter"
        if args.get("collection_id") == CATALOG_ID:
            return None
        for name in ("sortby", "datetime"):
            if req.args.get(name):
                return name
        return "offset" if _deep(req.args.get("offset")) else None
    if endpoint == "coverages.coverage":
        return "coverage"
    if endpoint == "ows.wfs" and any(k.lower() == "filter" and v.strip()
                                     for k, v in req.args.items(multi=True)):
        return "filter"  # a WFS GetFeature's FES filter: a scan the client chooses
    return None  # tiles: ``tile_place`` while one is drawn, see the module's words


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
        client = limits.key(request)
        limits.count_heavy(client)
        request.environ[_RELEASES].append(limits.gate.enter(what, client))

    @app.errorhandler(ClientDisconnected)
    def _slow_body(exc: ClientDisconnected) -> Any:
        # werkzeug reports any failed read of the body as a disconnection (400); a body
        # that stopped arriving is our SlowClient (408)
        cause = exc.__context__
        return app.handle_user_exception(
            cause if isinstance(cause, SlowClient) else BadRequest(exc.description))

    inner = app.wsgi_app

    @app.after_request
    def _release_answered(response: Response) -> Response:
        # an answer made in full: its work is done. Given back before the client can have
        # it, so the client's next request never finds its own place still taken
        if not response.is_streamed:
            _release_all(request.environ.get(_RELEASES, ()))
        return response

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
        # A streamed answer (a download) gives its place back when its body is exhausted
        # (before the server ends the response) or closed (the client went away).
        releases: list[Callable[[], None]] = []
        environ[_RELEASES] = releases
        try:
            body = inner(environ, start_response)
        except BaseException:
            _release_all(releases)
            raise
        return _Releasing(body, releases) if releases else body

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]
    return limits


def _release_all(releases: Iterable[Callable[[], None]]) -> None:
    for release in releases:
        release()


class _Releasing:
    """A WSGI body that gives back its request's places once it is exhausted or closed."""

    def __init__(self, body: Iterable[bytes], releases: list[Callable[[], None]]) -> None:
        self._body = body
        self._chunks = iter(body)
        self._releases = releases

    def __iter__(self) -> _Releasing:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except BaseException:
            _release_all(self._releases)
            raise

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            _release_all(self._releases)


def _limits() -> Limits:
    limits: Limits = current_app.extensions["geoportal"]["limits"]
    return limits


@contextmanager
def tile_place(what: str) -> Iterator[None]:
    """Hold a place at the tile gate for the work inside (a low-zoom tile being drawn)."""
    limits = _limits()
    release = limits.tiles.enter(what, limits.key(request))
    try:
        yield
    finally:
        release()


def _small_range(req: Request) -> bool:
    """True for a ``Range:`` of explicit byte spans adding up to at most RANGE_FREE_BYTES."""
    ranges = req.range.ranges if req.range is not None and req.range.units == "bytes" else ()
    total = 0
    for start, stop in ranges:
        if stop is None and start >= 0:  # "bytes=N-": the rest of the file
            return False
        total += -start if stop is None else stop - start
    return bool(ranges) and total <= RANGE_FREE_BYTES


def download_place(*, coverage: bool) -> None:
    """In the download route: count the download against the client's rate and hold a place
    at the downloads gate until the response is closed (its last byte sent, or the client
    gone). A ranged read of a coverage's COG (``coverage`` and a ``Range:`` of at most
    RANGE_FREE_BYTES: GDAL's ``/vsicurl/`` reads a COG in many such slices) is ordinary: no
    count, no place. A vector download ignores ``Range:`` (it streams everything), so it is
    always counted and gated."""
    if coverage and _small_range(request):
        return
    limits = _limits()
    client = limits.key(request)
    limits.count_heavy(client)
    request.environ[_RELEASES].append(limits.downloads.enter("download", client))


def request_client() -> str:
    """The address the current request comes from, as the limits see it (``X-Forwarded-For``
    believed from trusted proxies only): what the audit records."""
    return _limits().client(request)


def authenticate(tokens: TokenStore, text: str | None) -> Token:
    """The request's token, verified under the failed-login limit (``Limits.authenticate``)."""
    limits = _limits()
    return limits.authenticate(tokens, text, limits.key(request))
