"""HTTP cache validators from the catalog: ETag and Last-Modified, and 304 answers.

A collection's responses change only when its current version changes (or its metadata), so
the validator is that version plus the request itself; clients (QGIS, browsers, proxies)
revalidate with ``If-None-Match`` and get a 304 without the portal reading the store at all.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import Request, Response

from geoportal.catalog import Layer

__all__ = ["Validators", "not_modified", "validators"]


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
            response.headers["Cache-Control"] = "no-cache"  # always revalidate: cheap here
        return response


def validators(request: Request, layers: dict[str, Layer], generation: int,
               collection_id: str | None) -> Validators | None:
    """The validators of a request about one collection (or about the catalog as a whole,
    ``collection_id`` None); None for a collection we do not serve (its 404 is not cached)."""
    if collection_id is None:
        key = f"catalog:{generation}"
        times = [layer.updated for layer in layers.values()]
        modified = max(times) if times else datetime.fromtimestamp(0).astimezone()
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


def not_modified(request: Request, found: Validators) -> Response | None:
    """A 304 when the client's copy is current (If-None-Match first, else If-Modified-Since)."""
    if request.if_none_match:
        if not request.if_none_match.contains_weak(found.etag):
            return None
    elif request.if_modified_since is None or request.if_modified_since < found.modified:
        return None
    response = Response(status=304)
    response.set_etag(found.etag, weak=True)
    response.last_modified = found.modified
    response.headers["Cache-Control"] = "no-cache"
    return response
