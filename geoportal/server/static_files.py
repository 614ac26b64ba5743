"""The static files of the pages: content-hashed names cached for a year, precompressed bodies.

``scripts/build-static.py`` (run by ``make web``) writes, into ``static-build/`` beside
``static/``, a copy of each file under a name with its content's hash
(``js/portal.82ab869f.js``), its ``.gz`` and ``.br`` beside it, and ``manifest.json`` (logical
name -> hashed name). Then:

- ``static_url("js/portal.js")``, a global of the page templates, gives
  ``/static/js/portal.82ab869f.js``; without a build (a checkout without ``make web``) it gives
  ``/static/js/portal.js``, so the pages still work;
- ``GET /static/<hashed name>`` answers ``Cache-Control: public, max-age=31536000, immutable``
  (the name changes when the content does) with the ``.br`` or ``.gz`` body the client accepts
  (``Content-Encoding``, its ``Content-Length``, ``Vary: Accept-Encoding``): MapLibre GL JS goes
  as 0.25 MB instead of 1.06 MB, and is not asked for again on the next visit;
- ``GET /static/<plain name>`` answers with ``no-cache`` and an ETag: a browser revalidates it
  each time (a 304 when unchanged), so a page that links a plain name (pygeoapi's HTML pages,
  whose templates have no ``static_url``) never runs a stale script; while the build's copy is
  still the file's content, its ``.br``/``.gz`` is sent, else the file under ``static/``.

Names are resolved inside the two folders only: ``..``, absolute paths, backslashes and
encoded slashes that decode to any of them are 404s.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
from pathlib import Path

from flask import Flask, Request, Response, request
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join
from werkzeug.utils import send_file
from werkzeug.wrappers import Response as BaseResponse

__all__ = ["IMMUTABLE", "StaticFiles", "install"]

HERE = Path(__file__).parent
STATIC = HERE / "static"
BUILD = HERE / "static-build"
IMMUTABLE = "public, max-age=31536000, immutable"
# the encodings a build may hold, preferred first (brotli is about 20 % smaller than gzip -9)
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


class StaticFiles:
    """The static folder and its build: URLs for the templates, answers for ``/static/``."""

    def __init__(self, source: Path = STATIC, build: Path = BUILD) -> None:
        self.source = source
        self.build = build
        self._stamp: tuple[int, int] | None = None
        self._manifest: dict[str, str] = {}
        self._hashed: frozenset[str] = frozenset()
        # logical name -> (the source's mtime and size, the hashed name, still current)
        self._checked: dict[str, tuple[tuple[int, int], str, bool]] = {}

    def manifest(self) -> dict[str, str]:
        """Logical name -> hashed name, re-read when ``manifest.json`` changes (a ``make web``
        while the server runs) and empty when there is none."""
        path = self.build / "manifest.json"
        try:
            stat = path.stat()
        except OSError:
            self._stamp, self._manifest, self._hashed = None, {}, frozenset()
            return self._manifest
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                loaded = {}
            manifest = ({str(k): str(v) for k, v in loaded.items()}
                        if isinstance(loaded, dict) else {})
            self._manifest, self._hashed, self._stamp = (
                manifest, frozenset(manifest.values()), stamp)
        return self._manifest

    def url(self, name: str) -> str:
        """``/static/`` + the hashed name of ``name`` when built and still the file's content,
        else ``name`` itself (revalidated by browsers: never a stale script)."""
        hashed = self.manifest().get(name)
        if hashed is None or not self._current(name, hashed):
            return "/static/" + name
        return "/static/" + hashed

    def _current(self, name: str, hashed: str) -> bool:
        """Whether the source file still has the content the build hashed: a file edited
        since ``make web`` (a developer's change, a deploy that forgot the build) is linked by
        its plain name until the next build. One ``stat`` per call; a hash only when the file
        changed."""
        try:
            stat = (self.source / name).stat()
        except OSError:
            return True  # served from the build alone
        stamp = (stat.st_mtime_ns, stat.st_size)
        known = self._checked.get(name)
        if known is not None and known[0] == stamp and known[1] == hashed:
            return known[2]
        digest = hashlib.sha256((self.source / name).read_bytes()).hexdigest()[:8]
        current = _hash_of(hashed) == digest
        self._checked[name] = (stamp, hashed, current)
        return current

    def is_hashed(self, name: str) -> bool:
        """True for a name of the current or the previous build (kept by the build script so
        that a page loaded just before a deploy finds its files)."""
        self.manifest()
        if name in self._hashed:
            return True
        return _looks_hashed(name) and _inside(self.build, name) is not None

    def respond(self, req: Request, filename: str) -> BaseResponse:
        """The answer to ``GET /static/<filename>``."""
        if not _safe_name(filename):
            raise NotFound()
        if self.is_hashed(filename):
            path = _inside(self.build, filename)
            if path is not None:
                return self._hashed_response(req, filename, path)
        path = _inside(self.source, filename)
        if path is None:
            raise NotFound()
        hashed = self.manifest().get(filename)
        if hashed is not None and self._current(filename, hashed):
            built = _inside(self.build, hashed)
            if built is not None:  # the same bytes, precompressed: revalidated, not kept
                return self._hashed_response(req, filename, built, "no-cache")
        response = send_file(path, req.environ, conditional=True, etag=True, max_age=None,
                             response_class=Response)
        response.headers["Cache-Control"] = "no-cache"  # revalidate: ETag -> 304
        return response

    def _hashed_response(self, req: Request, filename: str, path: Path,
                         cache_control: str = IMMUTABLE) -> BaseResponse:
        """The build's file at ``path`` (served for ``filename``) in the encoding the client
        accepts best, with an ETag of its hash and encoding."""
        mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        if mimetype.startswith("text/") or mimetype.endswith(("javascript", "json", "+xml")):
            mimetype += "; charset=utf-8"
        chosen, encoding = path, None
        for coding, suffix in ENCODINGS:
            if req.accept_encodings[coding] > 0:  # q=0 refuses it
                candidate = path.with_name(path.name + suffix)
                if candidate.is_file():
                    chosen, encoding = candidate, coding
                    break
        response = send_file(chosen, req.environ, mimetype=mimetype, conditional=False,
                             etag=False, max_age=None, response_class=Response)
        # the hash names the content, the encoding the bytes; no ranges of encoded bodies
        response.set_etag(f"{path.name}-{encoding or 'identity'}")
        response.make_conditional(req.environ, accept_ranges=False)
        if encoding is not None:
            response.headers["Content-Encoding"] = encoding
        response.vary.add("Accept-Encoding")
        response.headers["Cache-Control"] = cache_control
        return response


def _safe_name(filename: str) -> bool:
    """No traversal, no absolute path, no backslash or NUL, no hidden file (``.installed``)."""
    if not filename or "\\" in filename or "\x00" in filename or filename.startswith("/"):
        return False
    parts = filename.split("/")
    return all(part and not part.startswith(".") and ":" not in part for part in parts)


def _inside(root: Path, filename: str) -> Path | None:
    """The file ``filename`` under ``root``, or None (missing, a folder, or outside)."""
    joined = safe_join(os.fspath(root), filename)
    if joined is None:
        return None
    path = Path(joined)
    try:
        if not path.resolve().is_relative_to(root.resolve()) or not path.is_file():
            return None
    except OSError:
        return None
    return path


def _hash_of(hashed: str) -> str:
    """The hash in a build's name: ``js/portal.82ab869f.js`` -> ``82ab869f`` (``LICENSE.<h>``
    for a name without a suffix)."""
    parts = hashed.rsplit("/", 1)[-1].split(".")
    return parts[-2] if len(parts) >= 3 else parts[-1]


def _looks_hashed(name: str) -> bool:
    """``stem.<8 hex>.ext``: the shape of the build's names (a previous build's file)."""
    parts = name.rsplit("/", 1)[-1].split(".")
    return len(parts) >= 3 and len(parts[-2]) == 8 and all(
        c in "0123456789abcdef" for c in parts[-2])


def install(app: Flask, files: StaticFiles | None = None) -> StaticFiles:
    """Serve ``/static/`` and give the templates ``static_url``."""
    files = files or StaticFiles()
    app.jinja_env.globals["static_url"] = files.url

    def static(filename: str) -> BaseResponse:
        return files.respond(request, filename)

    # merge_slashes off: "/static//etc/passwd" is a 404 here, not a redirect to another name
    app.add_url_rule("/static/<path:filename>", "static", static, methods=["GET"],
                     merge_slashes=False)
    return files
