"""Messages raised by the admin side (geoportal/admin, geoportal/catalog, geoportal/*.py):
tokens, uploads, jobs, audit, the catalog.

Keyed by message id (the English template); see ``geoportal.messages``.
"""

from __future__ import annotations

__all__ = ["ADMIN", "ADMIN_FRAGMENTS"]

ADMIN: dict[str, dict[str, str]] = {
}

# Phrases that only occur as the nested values of other messages (see geoportal.messages.shared).
ADMIN_FRAGMENTS: dict[str, dict[str, str]] = {
}
