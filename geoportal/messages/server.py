"""Messages raised by the server (geoportal/server, geoportal/providers): OGC API routes,
filters, tiles, coverages, limits.

Keyed by message id (the English template); see ``geoportal.messages``.
"""

from __future__ import annotations

__all__ = ["SERVER", "SERVER_FRAGMENTS"]

SERVER: dict[str, dict[str, str]] = {
}

# Phrases that only occur as the nested values of other messages (see geoportal.messages.shared).
SERVER_FRAGMENTS: dict[str, dict[str, str]] = {
}
