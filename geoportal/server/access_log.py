"""One line per request: what an operator greps or a log shipper indexes.

``request_id method path status duration_ms bytes client agent route collection cache``, at
INFO (DEBUG for the probes and the metrics scrape, WARNING when the request took longer than
``slow_request_ms``). The client is the address the rate limits see: the peer, or the
``X-Forwarded-For`` hop a trusted proxy (``forwarded_allow_ips``) vouches for. ``route`` is
the route's template (``/collections/<collection_id>/items``), ``collection`` the collection
asked for, ``cache`` what answered: ``hit`` or ``miss`` of the tile cache, ``revalidated``
for a 304, ``-`` otherwise. ``bytes`` is ``-`` for a streamed answer (a download), whose size
is unknown when the line is written; ``duration_ms`` then ends where its streaming begins
(``/metrics`` has the whole stream).

In ``GEOPORTAL_LOG_FORMAT=json`` the same fields are keys of the line's object
(``geoportal.log.JsonFormatter``).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from flask import Response, g, request

from geoportal.server.health import quiet_request

__all__ = ["access_line", "cache_status"]

log = logging.getLogger("geoportal.server")
AGENT_CHARS = 200  # a user agent longer than that is cut: a log line is no place for a novel


def cache_status(status: str) -> None:
    """Say what answered this request (``hit``/``miss`` of a cache), for its log line."""
    g.cache_status = status


def access_line(response: Response, slow_ms: int) -> None:
    """Log the current request's line (see the module's docstring)."""
    started = g.get("started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    slow = bool(slow_ms) and duration_ms is not None and duration_ms > slow_ms
    level = logging.WARNING if slow else logging.DEBUG if quiet_request() else logging.INFO
    if not log.isEnabledFor(level):
        return
    rule = request.url_rule
    view_args = request.view_args or {}
    cache = g.get("cache_status") or ("revalidated" if response.status_code == 304 else "-")
    fields: dict[str, Any] = {
        "request_id": g.get("request_id"), "method": request.method,
        "path": request.full_path.rstrip("?"), "status": response.status_code,
        "duration_ms": duration_ms,
        "bytes": None if response.is_streamed else response.calculate_content_length(),
        "client": _client(), "agent": request.headers.get("User-Agent", "")[:AGENT_CHARS],
        "route": rule.rule if rule is not None else None,
        "collection": view_args.get("collection_id"), "cache": cache,
    }
    if slow:
        fields["slow"] = True
    text = " ".join(f"{key}={_value(key, value)}" for key, value in fields.items())
    log.log(level, "%s", text, extra={"fields": fields})


def _client() -> str | None:
    """The request's client address as the limits see it (None before they are set up)."""
    from geoportal.server.limits import request_client

    try:
        return request_client()
    except (KeyError, RuntimeError, AttributeError):
        return request.remote_addr


def _value(key: str, value: Any) -> str:
    """A field in the key=value line: ``-`` for none, quoted JSON for free text."""
    if value is None or value == "":
        return "-"
    if key == "agent":
        return json.dumps(value, ensure_ascii=False)
    if value is True:
        return "1"
    return str(value)
