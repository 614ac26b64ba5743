"""Messages raised while the ETL opens and reads a source (geoportal/etl: sandbox, sources,
readers, MapInfo, sheets, detection).

Keyed by message id (the English template); see ``geoportal.messages``.
"""

from __future__ import annotations

__all__ = ["SOURCES", "SOURCES_FRAGMENTS"]

SOURCES: dict[str, dict[str, str]] = {
}

# Phrases that only occur as the nested values of other messages (see geoportal.messages.shared).
SOURCES_FRAGMENTS: dict[str, dict[str, str]] = {
}
