"""Field names and types the store and every client can hold.

The skeleton keeps source names (Cyrillic included) but makes them unique, non-empty and
clear of the store's own columns; the full ETL romanizes them.
"""

from __future__ import annotations

import re

import pyarrow as pa

from geoportal.catalog.models import Field

__all__ = ["FieldPlan", "plan_fields"]

_RESERVED = {"fid", "geom", "geometry"}


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


def _json_type(dtype: pa.DataType) -> str | None:
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_integer(dtype):
        return "integer"
    if pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return "number"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "string"
    if pa.types.is_date(dtype):
        return "date"
    if pa.types.is_timestamp(dtype):
        return "date-time"
    if pa.types.is_time(dtype):
        return "time"
    return None


def plan_fields(schema: pa.Schema, *, geometry: str) -> FieldPlan:
    """Decide the published name and type of every property column of ``schema``."""
    keep: list[str] = []
    fields: list[Field] = []
    dropped: dict[str, str] = {}
    taken: set[str] = set()
    for index, column in enumerate(schema):
        if column.name == geometry:
            continue
        json_type = _json_type(column.type)
        if json_type is None:
            dropped[column.name] = str(column.type)
            continue
        name = re.sub(r"[\x00-\x1f\"]+", "", column.name).strip() or f"field_{index + 1}"
        if name.lower() in _RESERVED:
            name = f"{name}_src"
        candidate, n = name, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate.lower())
        keep.append(column.name)
        fields.append(Field(name=candidate, type=json_type, title=column.name))
    return FieldPlan(keep, fields, dropped)
