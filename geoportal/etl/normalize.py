"""Field names and types the store and every client can hold.

Names become lower snake_case ASCII (Cyrillic romanized, see ``romanize``) so that QGIS,
ArcGIS, Shapefile downloads and CQL2 filters handle them without quoting; the original name
stays as the field's title. Text columns that hold numbers, dates or booleans (CSV and Excel
exports) are typed from the first batch; a later value that does not parse sets its feature
aside with the reason rather than becoming null in silence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from geoportal.errors import SchemaError
from geoportal.etl.coerce import coerce, describe_bad, empty_to_null, infer_type, lossy_numbers
from geoportal.etl.manifest import FieldRule
from geoportal.etl.romanize import detect_language, to_ascii_name
from geoportal.etl.sources import SOURCE_ONLY
from geoportal.fields import Field
from geoportal.i18n import tr
from geoportal.storage.base import json_type

__all__ = ["MAX_NAME_BYTES", "Column", "FieldPlan", "distinct_names", "plan_fields"]

_RESERVED = {"fid", "geom", "geometry"}
# PostgreSQL cuts identifiers at 63 bytes; leave room for a de-duplicating suffix.
MAX_NAME_BYTES = 59
# Published (JSON Schema) type names and the names the coercion module uses for them.
_TO_COERCE = {"date-time": "datetime"}
_FROM_COERCE = {"datetime": "date-time"}
# Column names taken as the source's own feature id when the manifest names none.
_ID_NAMES = ("id", "fid", "objectid", "gid", "ogc_fid")


@dataclass(frozen=True)
class Column:
    """One published field: where it comes from and how its values are converted."""

    source: str
    field: Field
    convert: str | None  # a type to parse the source values into; None keeps them as read
    how: str  # for the report: as read | detected from text | set in the manifest
    unpack: str | None = None  # "dictionary" (coded values) | "json" (objects, lists) | None


class FieldPlan:
    """How the source's columns become the layer's fields."""

    def __init__(self, columns: list[Column], dropped: dict[str, str], language: str,
                 notes: list[str] | None = None) -> None:
        self.columns = columns
        self.dropped = dropped
        self.language = language
        self.notes = notes or []  # for the report: what the admin should check

    @property
    def fields(self) -> list[Field]:
        return [c.field for c in self.columns]

    @property
    def renamed(self) -> dict[str, str]:
        return {c.source: c.field.name for c in self.columns if c.source != c.field.name}

    @property
    def typing(self) -> dict[str, str]:
        """Published name -> its type and how it was decided, for the report."""
        return {c.field.name: f"{c.field.type} ({c.how})" for c in self.columns}

    def apply(self, table: pa.Table) -> tuple[pa.Table, list[tuple[np.ndarray, str]]]:
        """The batch's fields under their published names and types, and the rows whose
        values did not parse (a mask and a reason per field)."""
        arrays: list[pa.Array] = []
        problems: list[tuple[np.ndarray, str]] = []
        for column in self.columns:
            values = _unpack(table.column(column.source), column.unpack)
            if column.convert is not None:
                converted, bad = coerce(values, column.convert)
                if column.how == "detected from text" and column.convert in ("integer",
                                                                              "number"):
                    bad |= lossy_numbers(values)
                if bad.any():
                    sample = describe_bad(values, bad)
                    problems.append((bad, f"unparseable value in field {column.source!r} "
                                          f"({column.field.type} expected), e.g. {sample}"))
                values = converted
            elif pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
                values = empty_to_null(values)
            arrays.append(values)
        out = table.select([])  # keeps the row count when no field is left
        for column, values in zip(self.columns, arrays, strict=True):
            out = out.append_column(column.field.name, values)
        return out, problems

    def find(self, source: str) -> Column | None:
        return next((c for c in self.columns if c.source == source), None)


def distinct_names(table: pa.Table) -> tuple[pa.Table, dict[str, str]]:
    """``table`` with repeated column names made distinct (``NASELENIE``, ``NASELENIE_2``)
    and the new names mapped to the name the file gives.

    A DBF cuts field names to 10 characters, so ArcView 3, MapInfo and Excel exports hold
    two ``NASELENIE`` fields (``NASELENIE_2009`` and ``NASELENIE_2019`` once); GDAL reads
    both under the one name, which no column lookup can tell apart.
    """
    names = table.column_names
    if len(set(names)) == len(names):
        return table, {}
    taken, renamed, out = set(names), {}, []
    seen: set[str] = set()
    for name in names:
        if name not in seen:
            seen.add(name)
            out.append(name)
            continue
        n = 2
        while f"{name}_{n}" in taken:
            n += 1
        new = f"{name}_{n}"
        taken.add(new)
        renamed[new] = name
        out.append(new)
    return table.rename_columns(out), renamed


def _unpacking(dtype: pa.DataType) -> tuple[pa.DataType, str | None]:
    """The type a column is published from, and how to get there: coded values (GeoPackage
    domains) as their values, nested objects and lists (GeoJSON) as JSON text."""
    if pa.types.is_dictionary(dtype):
        return dtype.value_type, "dictionary"
    if (pa.types.is_list(dtype) or pa.types.is_large_list(dtype) or pa.types.is_struct(dtype)
            or pa.types.is_map(dtype) or isinstance(dtype, pa.BaseExtensionType)):
        return pa.string(), "json"
    return dtype, None


def _unpack(values: pa.ChunkedArray, how: str | None) -> pa.ChunkedArray | pa.Array:
    if how == "dictionary":
        return values.cast(values.type.value_type)
    if how == "json":
        if isinstance(values.type, pa.BaseExtensionType) and pa.types.is_string(
                values.type.storage_type):
            return pa.chunked_array([c.storage for c in values.chunks], pa.string())
        return pa.array([None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                         for v in values.to_pylist()], pa.string())
    return values


def _fit_bytes(name: str, limit: int = MAX_NAME_BYTES) -> str:
    """Cut a name to ``limit`` UTF-8 bytes without splitting a character."""
    return name.encode("utf-8")[:limit].decode("utf-8", errors="ignore").rstrip("_")


def _unique(name: str, taken: set[str]) -> str:
    if name in _RESERVED:
        name = f"{name}_src"
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        suffix = f"_{n}"
        candidate = _fit_bytes(name, MAX_NAME_BYTES - len(suffix)) + suffix
    taken.add(candidate)
    return candidate


def _type_of(column: pa.ChunkedArray | pa.Array, dtype: pa.DataType,
             rule: FieldRule | None, infer: bool) -> tuple[str, str | None, str]:
    """(published type, type to convert into or None, how it was decided)."""
    as_read = json_type(dtype)
    if rule is not None and rule.type is not None:
        convert = None if rule.type == as_read else _TO_COERCE.get(rule.type, rule.type)
        return rule.type, convert, "set in the manifest"
    if as_read == "string" and infer:
        inferred = infer_type(column)
        if inferred != "string":
            return _FROM_COERCE.get(inferred, inferred), inferred, "detected from text"
    return str(as_read), None, "as read"


def plan_fields(first: pa.Table, *, geometry: str, rules: dict[str, FieldRule] | None = None,
                infer_types: bool = True, titles: dict[str, str] | None = None) -> FieldPlan:
    """Decide the published name and type of every property column, from the first batch.

    ``infer_types``: look for numbers, dates and booleans in text columns. Right for formats
    whose columns are all text or typed by hand (CSV, Excel, DBF, KML); wrong for those whose
    producer chose the types (GeoPackage, GeoJSON): a SOATO code stored as text stays text.
    ``titles``: the file's own name of columns ``distinct_names`` renamed; they become the
    fields' titles, with a note to check which is which.
    """
    rules = rules or {}
    titles = titles or {}
    sources = [name for name in first.column_names
               if name != geometry and not name.startswith(SOURCE_ONLY)]
    unknown = sorted(set(rules) - set(sources))
    if unknown:
        raise SchemaError(tr("manifest 'fields' names {names}, not in the source; its fields "
                             "are: {fields}", names=", ".join(map(repr, unknown)),
                             fields=", ".join(sources)))
    language = detect_language(sources)
    dropped: dict[str, str] = {}
    # Names the manifest chose are reserved first, so automatic names never take them.
    chosen = [r.name for r in rules.values() if r.name and not r.drop]
    clash = sorted({n for n in chosen if n in _RESERVED or chosen.count(n) > 1})
    if clash:
        raise SchemaError(tr("manifest 'fields' gives the name(s) {names} more than once or to "
                             "a column the store keeps for itself ({reserved}); choose others",
                             names=", ".join(map(repr, clash)),
                             reserved=", ".join(sorted(_RESERVED))))
    taken = set(chosen)
    columns: list[Column] = []
    for index, source in enumerate(sources):
        rule = rules.get(source)
        if rule is not None and rule.drop:
            dropped[source] = rule.why
            continue
        dtype, unpack = _unpacking(first.schema.field(source).type)
        if json_type(dtype) is None:
            dropped[source] = f"type {dtype} cannot be published"
            continue
        type_, convert, how = _type_of(_unpack(first.column(source), unpack), dtype, rule,
                                       infer_types)
        if rule is not None and rule.name:
            name = rule.name
        else:
            name = _unique(_fit_bytes(to_ascii_name(source, language)) or f"field_{index + 1}",
                           taken)
        title = (rule.title if rule is not None and rule.title else None) or titles.get(
            source, source)
        # the manifest's per-language titles (issue 19) ride beside the original title
        field_titles = rule.titles if rule is not None and rule.titles else None
        columns.append(Column(source, Field(name=name, type=type_, title=title,
                                            titles=field_titles), convert, how, unpack))
    notes = []
    for original in dict.fromkeys(titles.values()):
        same = [c.field.name for c in columns if c.field.title == original
                and (c.source == original or titles.get(c.source) == original)]
        notes.append(f"the file has {len(same)} fields named {original!r} (a DBF cuts names "
                     f"to 10 characters): published as {', '.join(same)}, in the file's "
                     "order; check which is which")
    return FieldPlan(columns, dropped, language, notes)


def find_id_column(plan: FieldPlan, first: pa.Table, declared: str | None) -> Column | None:
    """The source's own feature id: the manifest's ``source.id_field``, or a column named like
    an id whose values are (almost: 99%) unique in the first batch, so that the few repeats
    are mistakes worth setting aside rather than a column that only looks like an id."""
    if declared is not None:
        column = plan.find(declared)
        if column is None:
            names = ", ".join(c.source for c in plan.columns)
            raise SchemaError(tr("source.id_field {name} is not a field of the source; its "
                                 "fields are: {fields}", name=repr(declared), fields=names))
        return column
    for column in plan.columns:
        if column.source.lower() in _ID_NAMES and column.field.type in ("integer", "string"):
            values = first.column(column.source)
            present = values.drop_null()
            if len(present) and pc.count_distinct(present).as_py() >= 0.99 * len(present):
                return column
    return None
