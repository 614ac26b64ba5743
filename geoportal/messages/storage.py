"""Messages raised by the stores (geoportal/storage): GeoPackage, PostGIS, object storage, CQL2
to SQL.

Keyed by message id (the English template); see ``geoportal.messages``.
"""

from __future__ import annotations

__all__ = ["STORAGE", "STORAGE_FRAGMENTS"]

STORAGE: dict[str, dict[str, str]] = {
}

# Phrases that only occur as the nested values of other messages (see geoportal.messages.shared).
STORAGE_FRAGMENTS: dict[str, dict[str, str]] = {
}
