"""MapServer as the portal's rendering engine.

MapServer answers WMS 1.3.0/1.1.1 and WFS 2.0/1.1 itself (capabilities, GetMap, GetFeatureInfo,
GetLegendGraphic, GetFeature with FES filters, GML 3.2 and GeoJSON), from mapfiles the portal
writes from the catalog (``mapfile``). It is Debian's ``mapserv`` (``cgi-mapserver``), kept
running and spoken to over FastCGI (``fastcgi``: up to ``slots`` processes per server process,
each request with its whole environment), or, with ``persistent=False``, started per request
as a CGI program (100-160 ms more a request). Either way a request that runs too long is
stopped with its process, each process's memory is capped by ``RLIMIT_AS``, and a crash of
the engine (GDAL, a broken file) takes nothing else down. Where the mapfile comes from is fixed
by us: the ``map`` parameter never reaches the engine, and its configuration file only accepts
mapfiles in the portal's own folder (``MS_MAP_PATTERN``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import resource
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from geoportal.errors import BudgetExceeded, StorageError
from geoportal.i18n import tr
from geoportal.server.ows.fastcgi import EngineProcess, Pool
from geoportal.server.ows.projections import write_projections
from geoportal.server.ows.syntax import quoted

__all__ = ["Answer", "EngineFailed", "MapServer", "engine_missing"]

log = logging.getLogger("geoportal.server")

# What the engine may read from our environment: nothing else (no database URL, no keys but
# those a request's mapfile needs, passed one by one).
_PASSED_ENV = ("LANG", "LC_ALL", "TZ", "GDAL_DATA")
_HEADER_END = re.compile(rb"\r?\n\r?\n")


class EngineFailed(BudgetExceeded):
    """MapServer ended without an answer (a crash): HTTP 503, logged once with the request."""


@dataclass(frozen=True)
class Answer:
    """What the engine printed: the HTTP status (its ``Status:`` header, else 200), the
    content type and the body."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def is_exception(self) -> bool:
        """Whether the body is an OGC exception report (XML that names one)."""
        head = self.body[:600]
        return (b"ServiceExceptionReport" in head or b"ExceptionReport" in head) and \
            "xml" in self.content_type


def engine_missing() -> BudgetExceeded:
    """The 503 of a node whose machine has no MapServer installed."""
    return BudgetExceeded(tr("the map engine (MapServer) is not installed on this server; "
                             "the OGC API collections still serve every layer"),
                          retry_after=3600)


class MapServer:
    """Runs ``mapserv`` on a mapfile in ``workdir`` with a request's parameters.

    ``slots`` caps the engine processes this server process runs at once; a request finding
    none free within ``wait_s`` gets 503 (``BudgetExceeded``), so a burst cannot fork without
    bound. ``timeout_s`` kills a render that runs longer, ``memory_mb`` caps each process.
    """

    def __init__(self, workdir: Path, *, timeout_s: float = 30.0, memory_mb: int = 1536,
                 slots: int = 4, wait_s: float = 10.0, binary: str | None = None,
                 persistent: bool = True) -> None:
        self.persistent = persistent
        self._pool = Pool()
        self.workdir = workdir
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.wait_s = wait_s
        self.binary = binary or shutil.which("mapserv") or ""
        self._slots = threading.BoundedSemaphore(slots)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.workdir / "mapserver.conf"
        self._write_config()
        self.proj_data = write_projections(self.workdir / "proj")

    @property
    def available(self) -> bool:
        """Whether the ``mapserv`` program is installed."""
        return bool(self.binary) and os.access(self.binary, os.X_OK)

    def _write_config(self) -> None:
        pattern = "^" + re.escape(str(self.workdir.resolve())) + r"/[0-9a-f]+\.map$"
        text = ("CONFIG\n  ENV\n"
                f'    MS_MAP_PATTERN "{quoted(pattern)}"\n'
                '    MS_ERRORFILE "stderr"\n'
                "  END\nEND\n")
        tmp = self.config_path.with_name(f".{self.config_path.name}.{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.config_path)

    def run(self, mapfile: Path, params: Sequence[tuple[str, str]], *,
            env: Mapping[str, str] | None = None, body: bytes | None = None,
            content_type: str = "") -> Answer:
        """The engine's answer to the OGC request ``params`` (and a POSTed ``body``)."""
        if not self.available:
            raise engine_missing()
        if not self._slots.acquire(timeout=self.wait_s):
            raise BudgetExceeded(tr("the map engine is busy; try again in a few seconds"),
                                 retry_after=5)
        try:
            return self._run(mapfile, params, env or {}, body, content_type)
        finally:
            self._slots.release()

    def _run(self, mapfile: Path, params: Sequence[tuple[str, str]], env: Mapping[str, str],
             body: bytes | None, content_type: str) -> Answer:
        cgi = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
        cgi.update({
            "PATH": "/usr/bin:/bin",
            "MAPSERVER_CONFIG_FILE": str(self.config_path),
            "MS_MAPFILE": str(mapfile),
            "QUERY_STRING": urlencode(list(params)),
            "REQUEST_METHOD": "POST" if body is not None else "GET",
            "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
            "PROJ_NETWORK": "OFF",
            **({"PROJ_DATA": str(self.proj_data)} if self.proj_data else {}),
            "CPL_LOG": "/dev/null",
            **env,
        })
        if body is not None:
            cgi["CONTENT_LENGTH"] = str(len(body))
            cgi["CONTENT_TYPE"] = content_type or "application/xml"
        if self.persistent:
            return self._ask(cgi, params, body or b"")
        started = time.monotonic()
        try:
            proc = subprocess.Popen([self.binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=cgi, cwd=self.workdir,
                                    start_new_session=True)
        except OSError as exc:
            raise StorageError(f"mapserv could not start: {exc}") from exc
        limit = self.memory_mb * 1024 * 1024
        with contextlib.suppress(OSError, ValueError):  # unless it has already finished
            resource.prlimit(proc.pid, resource.RLIMIT_AS, (limit, limit))
        try:
            out, err = proc.communicate(body or b"", timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise self._too_slow(params) from None
        elapsed = time.monotonic() - started
        if err.strip():
            log.info("mapserv said (%.0f ms): %s", elapsed * 1000,
                     err.decode("utf-8", "replace").strip()[:1000])
        if proc.returncode != 0 and not _HEADER_END.search(out):
            raise _failed(f"exit {proc.returncode}: "
                          f"{err.decode('utf-8', 'replace')[:500]}", params)
        return _parse_cgi(out)


    def _ask(self, cgi: dict[str, str], params: Sequence[tuple[str, str]], body: bytes
             ) -> Answer:
        """The request answered by a kept-running ``mapserv`` (``fastcgi``)."""
        cgi.setdefault("CONTENT_LENGTH", "0")
        process = self._pool.take()
        if process is None:
            try:
                process = EngineProcess(self.binary, cgi, str(self.workdir),
                                        self.memory_mb * 1024 * 1024)
            except OSError as exc:
                raise StorageError(f"mapserv could not start: {exc}") from exc
        try:
            out = process.ask(cgi, body, self.timeout_s)
        except TimeoutError:
            process.kill()
            raise self._too_slow(params) from None
        except (OSError, EOFError) as exc:
            process.kill()
            raise _failed(str(exc), params) from None
        self._pool.give(process)
        return _parse_cgi(out)

    def _too_slow(self, params: Sequence[tuple[str, str]]) -> BudgetExceeded:
        """The 503 of a request stopped at the deadline (its process killed), logged."""
        log.warning("mapserv stopped after %.0f s: %s", self.timeout_s,
                    urlencode(list(params))[:300])
        return BudgetExceeded(tr("the map took longer than {seconds} s to draw; ask for a "
                                 "smaller area or fewer layers",
                                 seconds=f"{self.timeout_s:g}"), retry_after=10)

    def close(self) -> None:
        """Stop the kept-running engine processes."""
        self._pool.close()


def _failed(why: str, params: Sequence[tuple[str, str]]) -> EngineFailed:
    """The 503 of an engine that ended without an answer (a crash, an abort), logged with
    the request: the client's request may well be fine."""
    log.error("mapserv failed (%s) on %s", why, urlencode(list(params))[:300])
    return EngineFailed(tr("the map engine failed to answer this request; try again, or ask "
                           "for less"), retry_after=5)


def _parse_cgi(out: bytes) -> Answer:
    """Split a CGI program's output into status, headers and body."""
    found = _HEADER_END.search(out)
    if found is None:
        raise StorageError(f"mapserv printed no CGI headers: {out[:200]!r}")
    headers: dict[str, str] = {}
    for line in out[:found.start()].decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.strip():
            headers[name.strip().lower()] = value.strip()
    status = 200
    if "status" in headers:
        code = headers.pop("status").split(" ", 1)[0]
        status = int(code) if code.isdigit() else 200
    content_type = headers.pop("content-type", "application/octet-stream")
    return Answer(status, content_type, out[found.end():], headers)
