"""Messages raised by the ETL (geoportal/etl): reading, detecting, normalizing, publishing.

Keyed by message id (the English template); see ``geoportal.messages``.
"""

from __future__ import annotations

__all__ = ["ETL"]

ETL: dict[str, dict[str, str]] = {
}
