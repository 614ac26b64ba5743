"""Value types that describe a layer's attributes, shared by the stores, the ETL and the catalog.

They live here, below all of them, because a store keeps tables and must not depend on the
catalog (which only says which table is current); the catalog re-exports them
(``from geoportal.catalog import Field`` keeps working).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Field"]


@dataclass(frozen=True)
class Field:
    """One attribute of a layer: its stored name, JSON-Schema-like type and original title."""

    name: str
    type: str
    title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The field as a plain dict (what the catalog stores in a version row)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Field:
        """The field back from :meth:`to_dict`'s output (``title`` may be missing)."""
        return cls(name=d["name"], type=d["type"], title=d.get("title"))
