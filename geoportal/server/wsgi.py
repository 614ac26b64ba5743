"""Run the app under gunicorn (``geoportal serve``) or hand it to any WSGI server.

``geoportal serve`` runs ``PortalWorker``: gunicorn's threaded worker (gthread) changed so that
no slow client holds a thread, let alone a worker, while it sends its request:

- a request gets no thread until its request line and headers have arrived, on a new
  connection and on a kept-alive one alike: the worker's event loop reads them as they come,
  and closes the connection (408) when they take longer than ``header_timeout_s`` (one header
  line every few seconds, "slowloris", is cut there);
- in the thread, the request body may be silent at most ``body_timeout_s`` between reads (the
  app answers 408), and a response the client stops reading is dropped after as long;
- gunicorn's own refusals (request line over ``limit_request_line``: 414; too many or too long
  header fields: 431; malformed HTTP: 400) are OGC exception documents in JSON like every
  other error, not gunicorn's HTML page.

Stock gthread (27.0) waits up to 5 s in a thread for a new connection's first bytes and then
reads the head with a blocking socket and no deadline: two connections sending a header line
every 5 s held both sync workers of the old default for a minute (issue 15).
"""

from __future__ import annotations

import contextlib
import json
import logging
import selectors
import socket
import time
from collections import deque
from functools import partial
from http import HTTPStatus
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.http import errors as http_errors
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import TConn, ThreadWorker

from geoportal.config import Settings, load_settings
from geoportal.etl.sandbox import drop_network_drivers
from geoportal.i18n import tr
from geoportal.server import limits, metrics
from geoportal.server.app import create_app

__all__ = ["PortalWorker", "application", "run_gunicorn"]

log = logging.getLogger("geoportal.server")

MAX_HEAD_BUFFER = 64 * 1024  # past this the thread's parser takes over (and refuses: 431)
LIMIT_REQUEST_LINE = 8190  # CQL2 filters with polygons are long; beyond it: 414


class HeadTimeout(Exception):
    """The request line and headers took longer than ``header_timeout_s``."""


class _TimedUnreader(SocketUnreader):  # type: ignore[misc]  # gunicorn: no type information
    """gunicorn's socket reader with a deadline for the head and a silence limit after."""

    def __init__(self, sock: socket.socket, body_timeout_s: float) -> None:
        super().__init__(sock)
        self.body_timeout_s = body_timeout_s
        self.head_deadline: float | None = None

    def chunk(self, size_hint: int | None = None) -> bytes:
        if self.head_deadline is not None:
            left = self.head_deadline - time.monotonic()
            if left <= 0:
                raise HeadTimeout()
            self.sock.settimeout(left)
        try:
            data: bytes = super().chunk(size_hint)
            return data
        except TimeoutError:
            if self.head_deadline is not None:
                raise HeadTimeout() from None
            seconds = f"{self.sock.gettimeout() or self.body_timeout_s:g}"
            raise limits.SlowClient(
                f"request body silent for {seconds} s",
                user_msg=tr("the request body stopped arriving: nothing came for {seconds} s; "
                            "send it again", seconds=seconds)) from None


def _head_complete(buffer: bytearray, searched_from: int) -> bool:
    start = max(0, searched_from - 3)
    return (buffer.find(b"\r\n\r\n", start) >= 0 or buffer.find(b"\n\n", start) >= 0
            or len(buffer) > MAX_HEAD_BUFFER)


def ogc_error_bytes(status: int, code: str, description: str) -> bytes:
    """A whole HTTP/1.1 response holding an OGC exception document (closes the connection)."""
    body = json.dumps({"code": code, "type": code, "description": description},
                      ensure_ascii=False).encode()
    reason = HTTPStatus(status).phrase
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


class PortalWorker(ThreadWorker):  # type: ignore[misc]
    """gthread with a head deadline, a body silence limit and JSON errors (module docstring).
    Also for plain gunicorn: ``gunicorn -k geoportal.server.wsgi.PortalWorker
    geoportal.server.wsgi:application``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # geoportal serve's settings; under plain gunicorn (-k geoportal.server.wsgi.PortalWorker)
        # the environment's
        settings: Settings = getattr(self.app, "settings", None) or load_settings()
        self.header_timeout_s = settings.header_timeout_s
        self.body_timeout_s = settings.body_timeout_s
        self.heads: deque[TConn] = deque()  # connections whose head is arriving, oldest first

    # -- the head, read by the event loop ----------------------------------------------
    def enqueue_req(self, conn: TConn) -> None:
        """Hand ``conn`` to a thread once the head of its next request is complete; until
        then, wait for it on the event loop (main thread). gunicorn calls this for a new
        connection and for each further request of a kept-alive one, so every request's
        head, not only the first, is read here (``_head_arrived`` hands the connection to
        the thread pool directly, never through this method)."""
        if self.cfg.is_ssl or conn.is_http2:
            super().enqueue_req(conn)
            return
        # a kept-alive connection may hold the start of its next request already
        buffered = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        conn.head = bytearray(buffered)
        conn.sock.setblocking(False)
        # most heads are in the socket already (a new connection's, a kept-alive one that
        # became readable): no round through the event loop for them
        arrived = _head_complete(conn.head, 0) or self._receive(conn)
        if arrived is None:
            self._close(conn)
        elif arrived:
            self._head_arrived(conn)
        else:
            conn.head_deadline = time.monotonic() + self.header_timeout_s
            self.poller.register(conn.sock, selectors.EVENT_READ,
                                 partial(self._read_head, conn))
            self.heads.append(conn)

    def _receive(self, conn: TConn) -> bool | None:
        """Read what has come: True when the head is complete, False while it is not,
        None when the client went away."""
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return None
        if not data:
            return None
        before = len(conn.head)
        conn.head += data
        return _head_complete(conn.head, before)

    def _read_head(self, conn: TConn, _fileobj: Any) -> None:
        arrived = self._receive(conn)
        if arrived is None:
            self._forget_head(conn)
            self._close(conn)
        elif arrived:
            self._forget_head(conn)
            self._head_arrived(conn)

    def _forget_head(self, conn: TConn) -> None:
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        with contextlib.suppress(ValueError):
            self.heads.remove(conn)

    def _head_arrived(self, conn: TConn) -> None:
        conn.data_ready = True  # no "wait for data" in the thread: it is here
        super().enqueue_req(conn)

    def _close(self, conn: TConn) -> None:
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Also cut connections whose head is late (408, best effort)."""
        super().murder_pending()
        now = time.monotonic()
        while self.heads and self.heads[0].head_deadline <= now:
            conn = self.heads[0]
            self._forget_head(conn)
            with contextlib.suppress(OSError):
                conn.sock.send(self._timeout_answer())
            log.warning("slow client cut: ip=%s head not complete after %g s",
                        conn.client[0] if conn.client else "", self.header_timeout_s)
            self._close(conn)

    def _timeout_answer(self) -> bytes:
        return ogc_error_bytes(408, "RequestTimeout", self._late_head())

    def _late_head(self) -> str:
        return (f"the request line and headers did not arrive within "
                f"{self.header_timeout_s:g} s (header_timeout_s)")

    # -- in the thread ------------------------------------------------------------------
    def handle(self, conn: TConn) -> Any:
        head = bytes(getattr(conn, "head", b""))
        conn.head = bytearray()
        if head:
            conn.init()
            if not isinstance(conn.parser.unreader, _TimedUnreader):
                conn.parser.unreader = _TimedUnreader(conn.sock, self.body_timeout_s)
            conn.parser.unreader.unread(head)
        if conn.parser is not None and isinstance(conn.parser.unreader, _TimedUnreader):
            conn.parser.unreader.head_deadline = time.monotonic() + self.header_timeout_s
        return super().handle(conn)

    def handle_request(self, req: Any, conn: TConn) -> bool:
        unreader = conn.parser.unreader
        if isinstance(unreader, _TimedUnreader):
            unreader.head_deadline = None
        # each read of the body and each write of the answer: at most this long silent
        conn.sock.settimeout(self.body_timeout_s)
        try:
            return bool(super().handle_request(req, conn))
        except TimeoutError:  # the client stopped reading the answer
            log.warning("slow client cut: ip=%s read nothing for %g s",
                        conn.client[0] if conn.client else "", self.body_timeout_s)
            return False

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """gunicorn's refusals as OGC JSON (its own page is HTML)."""
        answer = self._refusal(exc)
        if answer is None:
            super().handle_error(req, client, addr, exc)
            return
        status, code, description = answer
        ip = addr[0] if isinstance(addr, tuple) and addr else ""
        log.warning("invalid request from ip=%s status=%d error=%s", ip, status,
                    str(exc)[:200] or type(exc).__name__)
        with contextlib.suppress(OSError):
            client.sendall(ogc_error_bytes(status, code, description))

    def _refusal(self, exc: BaseException) -> tuple[int, str, str] | None:
        cfg = self.cfg
        if isinstance(exc, HeadTimeout):
            return 408, "RequestTimeout", self._late_head()
        if isinstance(exc, http_errors.LimitRequestLine):
            return 414, "URITooLong", (
                f"the request line (method and URL) is longer than {cfg.limit_request_line} "
                "bytes: shorten the URL (a simpler filter geometry, fewer parameters)")
        if isinstance(exc, http_errors.LimitRequestHeaders):
            return 431, "RequestHeaderFieldsTooLarge", (
                f"the request has more than {cfg.limit_request_fields} header fields or one "
                f"longer than {cfg.limit_request_field_size} bytes")
        if isinstance(exc, http_errors.UnsupportedTransferCoding):
            return 501, "NotImplemented", f"unsupported Transfer-Encoding: {exc}"[:300]
        if isinstance(exc, http_errors.ExpectationFailed):
            return 417, "ExpectationFailed", f"unsupported Expect header: {exc}"[:300]
        if isinstance(exc, http_errors.ForbiddenProxyRequest):
            return 403, "Forbidden", "proxy requests are not allowed from this address"
        if isinstance(exc, http_errors.ParseException) and not isinstance(
                exc, http_errors.ConfigurationProblem | http_errors.InvalidResponseHeader
                | http_errors.InvalidResponseHeaderName):
            return 400, "BadRequest", f"the request is not valid HTTP/1.1: {exc}"[:300]
        return None


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.shared = limits.share_between_workers()  # in the master, before the workers fork
        if settings.metrics:  # every worker's metric files in one fresh folder
            metrics.share_between_workers()
        super().__init__()

    def load_config(self) -> None:
        options: dict[str, Any] = {
            "bind": f"{self.settings.host}:{self.settings.port}",
            "workers": self.settings.workers,
            "threads": self.settings.threads,
            "worker_class": f"{__name__}.PortalWorker",
            "timeout": 120,
            "graceful_timeout": 10,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "geoportal",
            "limit_request_line": LIMIT_REQUEST_LINE,
        }
        if self.settings.metrics:
            options["child_exit"] = metrics.worker_exited  # a dead worker's gauges go
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Each worker builds its own app: its own catalog connections and pygeoapi API.
        limits.serve_with(shared=self.shared, proxies=self.cfg.forwarded_allow_ips)
        return create_app(self.settings)


def run_gunicorn(settings: Settings) -> None:
    """Serve until interrupted."""
    _Gunicorn(settings).run()


def application(environ: dict[str, Any], start_response: Any) -> Any:
    """A WSGI entry point for other servers: ``gunicorn 'geoportal.server.wsgi:application'``
    (without ``PortalWorker``'s protections: put a buffering proxy in front)."""
    global _app
    if _app is None:
        drop_network_drivers()  # the server never needs GDAL's network drivers
        _app = create_app(load_settings())
    return _app(environ, start_response)


_app: Any = None
