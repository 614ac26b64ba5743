"""Field names and types the store and every client can hold.

The skeleton keeps source names (Cyrillic included) but makes them unique, non-empty and
clear of the store's own columns; the full ETL romanizes them.
"""

from __future__ import annotations

import re

import pyarrow as pa

from geoportal.catalog.models import Field
from geoportal.storage.base import json_type

__all__ = ["FieldPlan", "plan_fields"]

_RESERVED = {"fid", "geom", "geometry"}
# PostgreSQL cuts identifiers at 63 bytes; leave room for a de-duplicating suffix.
MAX_NAME_BYTES = 59


class FieldPlan:
    """How the source's columns become the layer's fields."""

    def __init__(self, keep: list[str], fields: list[Field], dropped: dict[str, str]) -> None:
        self.keep = keep
        self.fields = fields
        self.dropped = dropped

    @property
    def renamed(self) -> dict[str, str]:
        return {src: f.name for src, f in zip(self.keep, self.fields, strict=True) if src != f.name}

    def apply(self, table: pa.Table) -> pa.Table:
        """The batch's kept columns under their published names."""
        return table.select(self.keep).rename_columns([f.name for f in self.fields])


def _fit_bytes(name: str, limit: int = MAX_NAME_BYTES) -> str:
    """Cut a name to ``limit`` UTF-8 bytes without splitting a character."""
    return name.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def plan_fields(schema: pa.Schema, *, geometry: str) -> FieldPlan:
    """Decide the published name and type of every property column of ``schema``."""
    keep: list[str] = []
    fields: list[Field] = []
    dropped: dict[str, str] = {}
    taken: set[str] = set()
    for index, column in enumerate(schema):
        if column.name == geometry:
            continue
        json_type_ = json_type(column.type)
        if json_type_ is None:
            dropped[column.name] = str(column.type)
            continue
        cleaned = re.sub(r"[\x00-\x1f\"]+", "", column.name).strip()
        name = _fit_bytes(cleaned) or f"field_{index + 1}"
        if name.lower() in _RESERVED:
            name = f"{name}_src"
        candidate, n = name, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate.lower())
        keep.append(column.name)
        fields.append(Field(name=candidate, type=json_type_, title=column.name))
    return FieldPlan(keep, fields, dropped)
