"""Messages raised by the ETL (geoportal/etl): reading, detecting, normalizing, publishing.

Keyed by message id (the English template); see ``geoportal.messages``.
"""

from __future__ import annotations

__all__ = ["ETL", "ETL_FRAGMENTS"]

ETL: dict[str, dict[str, str]] = {
}

# Phrases that only occur as the nested values of other messages (see geoportal.messages.shared).
ETL_FRAGMENTS: dict[str, dict[str, str]] = {
}
