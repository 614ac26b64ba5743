"""HTTP caching: validators from the catalog (ETag, Last-Modified, 304) and the policy a CDN
can hold to.

A collection's responses change only when its current version changes (or its metadata), so
the validator is that version plus the request itself; clients (QGIS, browsers, proxies)
revalidate with ``If-None-Match`` and get a 304 without the portal reading the store at all.

The policy (docs/deployment.md, "Caching and CDNs"):

- a tile URL that names the layer's version (``?v=<version token>``, the links the tilesets,
  TileJSON, the basemap style and the map viewer hand out) is ``IMMUTABLE``: its content can
  never change, so a CDN and browsers keep it for a year without asking again;
- such a URL naming a version that is no longer current (a publish or a rollback since)
  redirects (302, never cached) to the current version's URL: never old content under an
  immutable header, and a map holding old links still draws the current data;
- everything else (unversioned tiles, coverages, items, ``/collections``) is ``REVALIDATE``:
  caches keep it but ask every time (``If-None-Match``), and the portal answers 304 from
  memory while the version is unchanged, so a rollback is seen at the next request.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import cast
from urllib.parse import urlencode

from flask import Request, Response, redirect

from geoportal.catalog import Layer
from geoportal.server.metrics import revalidated

__all__ = ["IMMUTABLE", "REVALIDATE", "VERSION_PARAM", "Validators", "not_modified",
           "stale_version", "tile_cache_control", "validators", "version_token", "versioned"]

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"  # store, but revalidate every time (ETag / Last-Modified, 304)
VERSION_PARAM = "v"


def version_token(layer: Layer) -> str:
    """The token of the layer's current version in versioned URLs: different for every
    version ever published under this id (a layer removed and published again starts at
    version 1 again, with other data), the same after a rollback to a version."""
    version = layer.current
    ref = f"{layer.id}:{version.store_ref}" if version is not None else layer.id
    return hashlib.sha256(ref.encode()).hexdigest()[:12]


def versioned(url: str, layer: Layer) -> str:
    """``url`` with the layer's version token (``?v=`` or ``&v=``)."""
    return f"{url}{'&' if '?' in url else '?'}{VERSION_PARAM}={version_token(layer)}"


def stale_version(request: Request, layer: Layer) -> Response | None:
    """A redirect (302, not cached) to the current version's URL when the request names
    another version; None when it names none or the current one."""
    asked = request.args.get(VERSION_PARAM)
    current = version_token(layer)
    if asked is None or asked == current:
        return None
    args = [(k, v) for k, v in request.args.items(multi=True) if k != VERSION_PARAM]
    # flask.redirect makes the app's response class (flask's Response); typed as werkzeug's
    response = cast(Response, redirect(f"{_mount_path(request)}{request.path}?"
                                       f"{urlencode([*args, (VERSION_PARAM, current)])}",
                                       code=302))
    response.headers["Cache-Control"] = "no-store"
    return response


# A mount point as a path of plain, non-empty segments: never "//host" or "/\\host" (which
# browsers follow to another site), never a scheme.
_PLAIN_PATH = re.compile(r"(/[A-Za-z0-9._~%!$&'()*+,;=@-]+)*")


def _mount_path(request: Request) -> str:
    """The path the portal is mounted under (``SCRIPT_NAME``, from a proxy) when it is a
    plain path, else "" (a forged ``SCRIPT_NAME`` must not turn the redirect's Location
    into another site's address)."""
    root = request.script_root.rstrip("/")
    return root if _PLAIN_PATH.fullmatch(root) else ""


def tile_cache_control(request: Request, layer: Layer) -> str:
    """``IMMUTABLE`` for a URL naming the current version, else ``REVALIDATE``."""
    return IMMUTABLE if request.args.get(VERSION_PARAM) == version_token(layer) \
        else REVALIDATE


class Validators:
    """An ETag (weak: the bytes may differ in compression) and a Last-Modified time."""

    def __init__(self, etag: str, modified: datetime) -> None:
        self.etag = etag
        self.modified = modified.replace(microsecond=0)

    def apply(self, response: Response) -> Response:
        """Set the validators on a successful response."""
        if response.status_code == 200:
            response.set_etag(self.etag, weak=True)
            response.last_modified = self.modified
            response.headers["Cache-Control"] = REVALIDATE  # always revalidate: cheap here
        return response


def validators(request: Request, layers: dict[str, Layer], generation: int,
               collection_id: str | None) -> Validators | None:
    """The validators of a request about one collection (or about the catalog as a whole,
    ``collection_id`` None); None for a collection we do not serve (its 404 is not cached)."""
    if collection_id is None:
        key = f"catalog:{generation}"
        modified = _newest(layers, generation)
    else:
        layer = layers.get(collection_id)
        if layer is None or layer.current is None:
            return None
        version = layer.current
        key = f"{layer.id}:{version.version}:{version.store_ref}:{layer.updated.isoformat()}"
        modified = max(layer.updated, version.created)
    varies = "|".join([key, request.full_path, request.headers.get("Accept", ""),
                       request.headers.get("Accept-Language", "")])
    return Validators(hashlib.sha256(varies.encode()).hexdigest()[:32], modified)


_newest_seen: tuple[int, int, datetime] | None = None  # (id of the layers, generation, time)


def _newest(layers: dict[str, Layer], generation: int) -> datetime:
    """The newest layer change: once per generation, not per request over 20,000 layers."""
    global _newest_seen
    seen = _newest_seen
    if seen is not None and seen[0] == id(layers) and seen[1] == generation:
        return seen[2]
    modified = max((layer.updated for layer in layers.values()),
                   default=datetime.fromtimestamp(0).astimezone())
    _newest_seen = (id(layers), generation, modified)
    return modified


def not_modified(request: Request, found: Validators) -> Response | None:
    """A 304 when the client's copy is current (If-None-Match first, else If-Modified-Since)."""
    if request.if_none_match:
        if not request.if_none_match.contains_weak(found.etag):
            revalidated(False)
            return None
    elif request.if_modified_since is None:
        return None
    elif request.if_modified_since < found.modified:
        revalidated(False)
        return None
    revalidated(True)
    response = Response(status=304)
    response.set_etag(found.etag, weak=True)
    response.last_modified = found.modified
    response.headers["Cache-Control"] = REVALIDATE
    return response
