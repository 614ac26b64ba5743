"""Messages raised by the server (geoportal/server, geoportal/providers): OGC API routes,
filters, tiles, coverages, limits.

Keyed by message id (the English template); see ``geoportal.messages``.
"""

from __future__ import annotations

__all__ = ["SERVER"]

SERVER: dict[str, dict[str, str]] = {
}
