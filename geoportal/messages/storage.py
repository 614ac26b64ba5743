"""Messages raised by the stores (geoportal/storage): GeoPackage, PostGIS, object storage, CQL2
to SQL.

Keyed by message id (the English template); see ``geoportal.messages``.
"""

from __future__ import annotations

__all__ = ["STORAGE"]

STORAGE: dict[str, dict[str, str]] = {
}
