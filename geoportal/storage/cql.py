"""CQL2 filters (pygeofilter ASTs, as pygeoapi hands them over) as SQL WHERE fragments.

Two dialects: the GeoPackage store (plain ``sqlite3`` plus the functions of
:func:`register_sqlite_functions`) and PostGIS. Every literal travels as a parameter and
identifiers come only from the layer's fields, so no filter can change the statement; whatever
cannot be answered is an ``InputError`` (HTTP 400) before any SQL runs, and so is a filter
past the limits of ``check_limits`` (nesting, parts, text, IN list, vertices, S_DWITHIN
distance). Semantics:

- LIKE: CQL2 wildcards ``%`` and ``_``, ``\\`` escapes; case-sensitive (pygeofilter's ECQL
  ``singlechar='.'`` is ignored). SQLite's LIKE folds ASCII case, hence ``gp_like``, which
  matches without backtracking (``LikeMatcher``).
- CASEI lower-cases by Unicode rules (``gp_lower`` in SQLite; PostgreSQL ``lower()`` follows the
  database's LC_CTYPE). ACCENTI is not supported.
- Date-times compare as UTC instants; values without an offset count as UTC (the PostGIS store's
  sessions run in UTC). A DATE against a date-time field compares the field's UTC day. GDAL
  writes ``YYYY-MM-DDTHH:MM:SS[.sss][Z]``, which does not sort as text, hence ``gp_datetime``.
- Properties hold instants. pygeofilter 0.4 parses T_INTERSECTS and T_OVERLAPS alike
  (``TimeOverlaps``), read as T_INTERSECTS (ends included); T_DURING is strict, as in CQL2.
- pygeofilter 0.4 has no S_DWITHIN syntax: ``S_DWITHIN(geometry, POINT(..), 1000) = TRUE`` and
  cql2-json ``function`` calls of predicates are read as the predicates. Distances are metres:
  PostGIS measures on the spheroid (geography); SQLite projects to an azimuthal equidistant
  projection centred on the literal (pyproj): exact from the centre, within 0.1 % over Belarus.
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import pyproj
import shapely
import shapely.geometry
from pygeofilter import ast, values
from pygeofilter.cql2 import SPATIAL_PREDICATES_MAP, TEMPORAL_PREDICATES_MAP, get_op
from pygeofilter.parsers.cql2_json.parser import walk_cql_json

from geoportal.errors import InputError
from geoportal.fields import Field
from geoportal.i18n import Message, tr

__all__ = ["MAX_DEPTH", "MAX_DWITHIN_M", "MAX_FILTER_CHARS", "MAX_IN_VALUES", "MAX_NODES",
           "MAX_STRING_CHARS", "MAX_VERTICES", "POSTGIS", "SQLITE", "TEMPORAL_FUNCTIONS",
           "Dialect", "LikeMatcher", "TimeOverlapsStrict", "check_limits", "envelope_hint",
           "like_matcher", "register_sqlite_functions", "to_sql"]

# What one filter may ask, so that no filter costs the server more than a person's question
# needs (HTTP 400 above, before any SQL runs; docs/gis-users.md lists them).
MAX_FILTER_CHARS = 20_000  # the filter parameter's text (server.filters checks it)
MAX_DEPTH = 20  # nesting: NOT, parentheses, functions; a chain of ANDs (or ORs) is one level
MAX_NODES = 300  # properties, values, operators (an IN list counts once)
MAX_STRING_CHARS = 1_000  # one text value or LIKE pattern
MAX_IN_VALUES = 1_000
MAX_VERTICES = 10_000  # of one geometry literal
MAX_DWITHIN_M = 100_000  # S_DWITHIN distance: 100 km around a place; larger is a polygon's job


@dataclass(frozen=True)
class Dialect:
    """How one database spells a filter: column references, geometry, feature id, placeholder."""

    name: str  # "sqlite" or "postgis"
    prefix: str  # written before a quoted column name (the table alias)
    geometry: str  # the geometry column expression
    fid: str  # the feature id column expression
    placeholder: str

    def column(self, name: str) -> str:
        """A reference to the column ``name``, quoted (quotes in it doubled)."""
        return self.prefix + '"' + name.replace('"', '""') + '"'


SQLITE = Dialect("sqlite", "f.", 'f."geom"', 'f."fid"', "?")
POSTGIS = Dialect("postgis", "", '"geom"', '"fid"', "%s")

GEOMETRY_NAMES = ("geometry", "geom")
FID_NAMES = ("fid", "id")
_TRUE, _FALSE = "(1 = 1)", "(1 = 0)"
# What a field of each type holds, and what to compare it with (message ids: fragments).
_NOUNS = {"string": tr("text"), "integer": tr("integers"), "number": tr("numbers"),
          "boolean": tr("true/false values"), "date": tr("dates"),
          "date-time": tr("timestamps")}
_HINTS = {"string": tr("a quoted string"), "integer": tr("a number"), "number": tr("a number"),
          "boolean": tr("TRUE or FALSE"), "date": tr("DATE('YYYY-MM-DD')"),
          "date-time": tr("TIMESTAMP('YYYY-MM-DDTHH:MM:SSZ') or DATE('YYYY-MM-DD')")}
_TIMES = ("date", "date-time")
_COMPARISONS = {ast.Equal: "=", ast.NotEqual: "<>", ast.LessThan: "<", ast.LessEqual: "<=",
                ast.GreaterThan: ">", ast.GreaterEqual: ">="}
_FLIP = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_SPATIAL = {cls: cls.op.value.lower() for cls in SPATIAL_PREDICATES_MAP.values()}
_SPATIAL_NODES = (*_SPATIAL, ast.BBox, ast.DistanceWithin)
_CONVERSE = {"within": "contains", "contains": "within"}


class TimeOverlapsStrict(ast.TimeOverlaps):  # type: ignore[misc]  # pygeofilter: no types
    """CQL2's T_OVERLAPS. pygeofilter parses T_OVERLAPS and T_INTERSECTS alike (TimeOverlaps),
    read here as T_INTERSECTS; our readers (server.cql2_text, server.filters) build this node
    for T_OVERLAPS."""


# The standard's temporal function names (pygeofilter knows some by draft names only).
TEMPORAL_FUNCTIONS = {
    "t_after": ast.TimeAfter, "t_before": ast.TimeBefore, "t_contains": ast.TimeContains,
    "t_disjoint": ast.TimeDisjoint, "t_during": ast.TimeDuring, "t_equals": ast.TimeEquals,
    "t_finishedby": ast.TimeEndedBy, "t_finishes": ast.TimeEnds,
    "t_intersects": ast.TimeOverlaps, "t_meets": ast.TimeMeets, "t_metby": ast.TimeMetBy,
    "t_overlappedby": ast.TimeOverlappedBy, "t_overlaps": TimeOverlapsStrict,
    "t_startedby": ast.TimeBegunBy, "t_starts": ast.TimeBegins,
}
_TEMPORAL = {ast.TimeBefore: "before", ast.TimeAfter: "after", ast.TimeEquals: "equals",
             ast.TimeDuring: "during", ast.TimeOverlaps: "intersects", ast.TimeDisjoint: "disjoint",
             ast.TimeContains: "contains", ast.TimeMeets: "meets", ast.TimeMetBy: "metby",
             ast.TimeOverlappedBy: "overlappedby", TimeOverlapsStrict: "overlaps",
             ast.TimeBegins: "starts", ast.TimeBegunBy: "startedby", ast.TimeEnds: "finishes",
             ast.TimeEndedBy: "finishedby"}
# T_X(a, b) = T_CONVERSE(b, a): how a literal-first predicate reads with the property first
_TEMPORAL_CONVERSE = {"before": "after", "after": "before", "during": "contains",
                      "contains": "during", "meets": "metby", "metby": "meets",
                      "overlaps": "overlappedby", "overlappedby": "overlaps",
                      "starts": "startedby", "startedby": "starts",
                      "finishes": "finishedby", "finishedby": "finishes"}
# An instant (a property's value: start = end) never contains, overlaps, is overlapped by,
# is started by or finished by anything (CQL2's definitions with begin = end).
_NEVER_FOR_INSTANTS = ("contains", "overlaps", "overlappedby", "startedby", "finishedby")
_UNITS = {"m": 1.0, "meters": 1.0, "metres": 1.0, "km": 1000.0, "kilometers": 1000.0,
          "kilometres": 1000.0}
_FUNCTIONS = {**SPATIAL_PREDICATES_MAP, **TEMPORAL_PREDICATES_MAP, **TEMPORAL_FUNCTIONS}


@dataclass(frozen=True)
class _Sql:
    """A piece of SQL, its parameters in order and the type of the value it computes."""

    text: str
    params: tuple[Any, ...] = ()
    type: str = "boolean"
    name: str | None = None  # the property it reads, for messages


@dataclass(frozen=True)
class _Lit:
    value: Any


def _cat(*parts: str | _Sql, type_: str = "boolean", name: str | None = None) -> _Sql:
    """Text and fragments joined in order, so parameters always follow their placeholders."""
    return _Sql("".join(p if isinstance(p, str) else p.text for p in parts),
                tuple(v for p in parts if isinstance(p, _Sql) for v in p.params), type_, name)


def _joined(sep: str, parts: Sequence[_Sql]) -> _Sql:
    return _cat(*[x for i, p in enumerate(parts) for x in ((sep, p) if i else (p,))])


def _balanced(sep: str, parts: Sequence[_Sql]) -> _Sql:
    """Parts joined by AND/OR as a balanced tree: SQLite caps expression depth at 1000."""
    if len(parts) == 1:
        return parts[0]
    half = len(parts) // 2
    return _cat("(", _balanced(sep, parts[:half]), sep, _balanced(sep, parts[half:]), ")")


def _is_number(value: Any) -> bool:
    """An int or a finite float (a bool is not a number here)."""
    return not isinstance(value, bool) and (
        isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)))


def _operands(node: ast.Node, cls: type[Any]) -> list[Any]:
    """The operands of a chain of ANDs (or ORs), without recursion: long chains are common."""
    out: list[Any] = []
    stack: list[Any] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cls):
            stack += [n.rhs, n.lhs]
        else:
            out.append(n)
    return out


def _holds(a: _Sql) -> Message:
    """What the values of ``a`` are, for messages: "field 'name' holds text"."""
    if a.name:
        return tr("field {name} holds {noun}", name=repr(a.name), noun=_NOUNS[a.type])
    return tr("the expression holds {noun}", noun=_NOUNS[a.type])


def _operator(node: Any) -> str:
    """The CQL2 name of an operator node (``S_INTERSECTS``), for messages."""
    names = {ast.Relate: "S_RELATE", ast.Exists: "EXISTS", ast.DistanceBeyond: "S_BEYOND"}
    op = (get_op(node) if isinstance(node, ast.Node) else None) or names.get(type(node))
    return (op or type(node).__name__).upper()


def _describe(node: Any) -> Message:
    """A node for messages: "the function NAME()" or "the operator OP"."""
    if isinstance(node, ast.Function):
        return tr("the function {name}()", name=node.name.upper())
    return tr("the operator {op}", op=_operator(node))


def _utc(value: datetime) -> datetime:
    """A datetime as naive UTC; a naive one is taken to be UTC already."""
    return value if value.utcoffset() is None else value.astimezone(UTC).replace(tzinfo=None)


def _predicate(node: Any) -> Any:
    """A predicate written as a function call, alone or compared with TRUE/FALSE, as its node."""
    if isinstance(node, ast.Function):
        name, args = node.name.lower(), list(node.arguments)
        if name == "s_dwithin" and len(args) in (3, 4):
            return ast.DistanceWithin(*args[:3], args[3] if len(args) == 4 else "m")
        if name in _FUNCTIONS and len(args) == 2:
            return _FUNCTIONS[name](*args)
    elif isinstance(node, ast.Equal | ast.NotEqual):
        for call, flag in ((node.lhs, node.rhs), (node.rhs, node.lhs)):
            if isinstance(call, ast.Function) and isinstance(flag, bool):
                pred = _predicate(call)
                if pred is not call:
                    return pred if flag == isinstance(node, ast.Equal) else ast.Not(pred)
    return node


def _spatial_parts(node: Any) -> tuple[str, shapely.Geometry, float | None]:
    """(operation, literal geometry, distance in metres) of a spatial predicate on the geometry."""
    what, op, distance = _operator(node), "intersects", None
    lhs, rhs = node.lhs, getattr(node, "rhs", None)
    if isinstance(node, ast.BBox):
        what, box = "BBOX", (node.minx, node.miny, node.maxx, node.maxy)
        if not all(map(_is_number, box)) or box[0] > box[2] or box[1] > box[3]:
            raise InputError(tr("BBOX takes minx, miny, maxx, maxy (CRS84) with min <= max"))
        rhs = values.Geometry(shapely.geometry.mapping(shapely.box(*box)))
    elif isinstance(node, ast.DistanceWithin):
        op, what, factor = "dwithin", "S_DWITHIN", _UNITS.get(str(node.units).lower())
        if not _is_number(node.distance) or node.distance < 0 or factor is None:
            raise InputError(tr("S_DWITHIN takes a distance in metres, a number >= 0"))
        distance = float(node.distance) * factor
        if distance > MAX_DWITHIN_M:
            raise InputError(tr("S_DWITHIN distances may be up to {km} km ({m} m); for a "
                                "larger area use S_INTERSECTS with a polygon, or a bbox",
                                km=MAX_DWITHIN_M // 1000, m=MAX_DWITHIN_M))
    else:
        op = _SPATIAL[type(node)]
    if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
        lhs, rhs, op = rhs, lhs, _CONVERSE.get(op, op)
    if not isinstance(lhs, ast.Attribute) or lhs.name not in GEOMETRY_NAMES:
        raise InputError(tr("{what} works on the geometry property ('geometry')", what=what))
    if isinstance(rhs, values.Envelope):
        (x1, x2), (y1, y2) = sorted((rhs.x1, rhs.x2)), sorted((rhs.y1, rhs.y2))
        geom = shapely.box(x1, y1, x2, y2)
    elif isinstance(rhs, values.Geometry):
        try:
            geom = shapely.force_2d(shapely.geometry.shape(rhs.geometry))
        except (ValueError, TypeError, LookupError, AttributeError, shapely.errors.ShapelyError):
            raise InputError(tr("{what}: the geometry literal is not valid GeoJSON/WKT",
                                what=what)) from None
    else:
        raise InputError(tr("{what} compares the geometry property with a geometry literal",
                            what=what))
    if geom.is_empty or not geom.is_valid:
        reason = "empty" if geom.is_empty else shapely.is_valid_reason(geom)
        raise InputError(tr("{what}: the geometry literal is not valid ({reason})", what=what,
                            reason=reason))
    minx, miny, maxx, maxy = geom.bounds
    if op == "dwithin" and (minx < -180 or maxx > 180 or miny < -90 or maxy > 90):
        raise InputError(tr("S_DWITHIN: the geometry is outside lon/lat bounds"))
    return op, geom, distance


def _expand(bounds: Sequence[float], metres: float) -> tuple[float, float, float, float]:
    """A lon/lat box grown by at least ``metres`` on every side (10 % to spare)."""
    minx, miny, maxx, maxy = bounds
    dy = metres / 110_000 * 1.1  # a degree of latitude is 110.6-111.7 km
    dx = dy / math.cos(math.radians(min(89.0, max(abs(miny), abs(maxy)) + dy)))
    return (minx - dx, max(-90.0, miny - dy), maxx + dx, min(90.0, maxy + dy))


def envelope_hint(node: Any) -> tuple[float, float, float, float] | None:
    """A lon/lat box every matching feature must intersect, for the store's spatial index: the
    literal's box of a spatial predicate other than S_DISJOINT (grown by the distance for
    S_DWITHIN), or the narrowest such box of an AND's operands; None otherwise (OR, NOT...)."""
    node = _predicate(node)
    if isinstance(node, ast.And):
        hint = None
        for b in filter(None, map(envelope_hint, _operands(node, ast.And))):
            box = b if hint is None else (max(hint[0], b[0]), max(hint[1], b[1]),
                                          min(hint[2], b[2]), min(hint[3], b[3]))
            hint = box if box[0] <= box[2] and box[1] <= box[3] else hint
        return hint
    if not isinstance(node, _SPATIAL_NODES) or isinstance(node, ast.GeometryDisjoint):
        return None
    try:
        _op, geom, distance = _spatial_parts(node)
    except InputError:
        return None
    minx, miny, maxx, maxy = (float(v) for v in geom.bounds)
    return (minx, miny, maxx, maxy) if distance is None else _expand(geom.bounds, distance)


class _Translator:
    def __init__(self, fields: Sequence[Field], dialect: Dialect) -> None:
        self.types = {f.name: f.type for f in fields}
        self.d = dialect
        self.sqlite = dialect.name == "sqlite"

    def param(self, value: Any) -> _Sql:
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(tr("numbers in filters must be finite"))
        if isinstance(value, int) and not isinstance(value, bool) and \
                not -(2**63) <= value < 2**63:
            raise InputError(tr("the number {value} is too large", value=value))
        if isinstance(value, str) and "\x00" in value:
            raise InputError(tr("text values in a filter cannot hold the NUL character (%00)"))
        if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
            raise InputError(tr("a text value in the filter is longer than {n} characters",
                                n=MAX_STRING_CHARS))
        return _Sql(self.d.placeholder, (value,))

    def cond(self, node: Any) -> _Sql:
        node = _predicate(node)
        if isinstance(node, ast.And | ast.Or):
            parts = [self.cond(x) for x in _operands(node, type(node))]
            return _balanced(f" {node.op.value} ", parts)
        if isinstance(node, ast.Not):
            return _cat("NOT (", self.cond(node.sub_node), ")")
        if isinstance(node, bool | ast.Include):  # TRUE/FALSE, INCLUDE/EXCLUDE
            true = node if isinstance(node, bool) else not node.not_
            return _Sql(_TRUE if true else _FALSE)
        if isinstance(node, ast.Attribute) and self.types.get(node.name) == "boolean":
            return self.compare("=", node, True)
        if type(node) in _COMPARISONS:
            return self.compare(_COMPARISONS[type(node)], node.lhs, node.rhs)
        if isinstance(node, ast.Between):
            sql = _cat("(", self.compare(">=", node.lhs, node.low), " AND ",
                       self.compare("<=", node.lhs, node.high), ")")
            return _cat("NOT ", sql) if node.not_ else sql
        if isinstance(node, ast.Like | ast.In):
            sql = self.like(node) if isinstance(node, ast.Like) else self.in_(node)
            return _cat("NOT (", sql, ")") if node.not_ else sql
        if isinstance(node, ast.IsNull):
            a = self.operand(node.lhs, any_type=True)
            if isinstance(a, _Lit):
                raise InputError(tr("IS NULL needs a property"))
            return _cat(a, " IS NOT NULL" if node.not_ else " IS NULL")
        if isinstance(node, _SPATIAL_NODES):
            return self.spatial(node)
        if isinstance(node, ast.TemporalPredicate):
            return self.temporal(node)
        raise InputError(tr("{what} is not supported in filters", what=_describe(node)))

    def operand(self, node: Any, *, any_type: bool = False) -> _Sql | _Lit:
        if isinstance(node, ast.Attribute):
            out = self.attribute(node.name)
            if out.type == "geometry" and not any_type:
                raise InputError(tr("the geometry can only be used in spatial predicates such "
                                    "as S_INTERSECTS or BBOX"))
            if out.type not in (*_NOUNS, "geometry") and not any_type:
                raise InputError(tr("field '{name}' has the type '{type}', which filters do "
                                    "not support", name=out.name, type=out.type))
            return out
        if isinstance(node, ast.Function):
            return self.function(node)
        if isinstance(node, ast.Arithmetic):
            return self.arithmetic(node)
        if isinstance(node, str | int | float | date | values.Interval):
            return _Lit(node)
        if isinstance(node, values.Geometry | values.Envelope):
            raise InputError(tr("a geometry can only be used in spatial predicates"))
        if isinstance(node, ast.Node):
            raise InputError(tr("{what} cannot be used as a value", what=_describe(node)))
        raise InputError(tr("unsupported value in the filter: {value}",
                            value=repr(str(node)[:80])))

    def attribute(self, name: str) -> _Sql:
        if name in self.types:
            return _Sql(self.d.column(name), (), self.types[name], name)
        if name in FID_NAMES or name in GEOMETRY_NAMES:
            geometry = name in GEOMETRY_NAMES
            return _Sql(self.d.geometry if geometry else self.d.fid, (),
                        "geometry" if geometry else "integer", name)
        names = ", ".join([*self.types, "id", "geometry"])
        raise InputError(tr("unknown property '{name}'; the queryable properties are: {names}",
                            name=name[:80], names=names))

    def function(self, node: ast.Function) -> _Sql | _Lit:
        name = node.name.lower()
        if name == "lower" and len(node.arguments) == 1:  # pygeofilter's name for CASEI
            inner = self.operand(node.arguments[0])
            if isinstance(inner, _Lit) and isinstance(inner.value, str):
                return _Lit(inner.value.lower())
            if isinstance(inner, _Lit) or inner.type != "string":
                raise InputError(tr("CASEI works on text only"))
            fn = "gp_lower(" if self.sqlite else "lower("
            return _cat(fn, inner, ")", type_="string", name=inner.name)
        if name == "accenti":
            raise InputError(tr("ACCENTI (accent-insensitive comparison) is not supported; "
                                "use CASEI or LIKE"))
        raise InputError(tr("{what} is not supported in filters", what=_describe(node)))

    def arithmetic(self, node: ast.Arithmetic) -> _Sql:
        sides: list[_Sql] = []
        for x in (self.operand(node.lhs), self.operand(node.rhs)):
            if isinstance(x, _Lit) and _is_number(x.value) and abs(x.value) < 1e300:
                sides.append(self.param(float(x.value)))
            elif isinstance(x, _Lit) or x.type not in ("integer", "number"):
                raise InputError(tr("arithmetic (+ - * /) works on numbers only"))
            else:
                sides.append(x)
        real, op = "REAL" if self.sqlite else "double precision", node.op.value
        rhs = _cat("NULLIF(", sides[1], ", 0)") if op == "/" else sides[1]  # x/0 is NULL
        return _cat("(CAST(", sides[0], f" AS {real}) {op} ", rhs, ")", type_="number")

    def literal(self, a: _Sql, op: str, value: Any) -> _Sql:
        """``a op value`` once ``value`` is checked against the type of ``a``."""
        fits = {"string": isinstance(value, str), "integer": _is_number(value),
                "number": _is_number(value), "boolean": isinstance(value, bool),
                "date": isinstance(value, date), "date-time": isinstance(value, date)}[a.type]
        if isinstance(value, values.Interval):
            raise InputError(tr("an INTERVAL can only be used in temporal predicates such as "
                                "T_INTERSECTS or T_DURING"))
        if not fits:
            raise InputError(tr("{holds}; compare it with {hint}", holds=_holds(a),
                                hint=_HINTS[a.type]))
        return self.moment(a, op, value) if a.type in _TIMES else \
            _cat(a, f" {op} ", self.param(value))

    def compare(self, op: str, lhs: Any, rhs: Any) -> _Sql:
        a, b = self.operand(lhs), self.operand(rhs)
        if isinstance(a, _Lit) and isinstance(b, _Sql):
            a, b, op = b, a, _FLIP[op]
        if isinstance(a, _Lit):
            raise InputError(tr("a comparison ({op}) needs a property on at least one side",
                                op=op))
        if isinstance(b, _Lit):
            return self.literal(a, op, b.value)
        kinds = [{"integer": "number", "date": "time", "date-time": "time"}.get(x.type, x.type)
                 for x in (a, b)]
        if kinds[0] != kinds[1]:
            raise InputError(tr("{holds} and {holds2}: they cannot be compared",
                                holds=_holds(a), holds2=_holds(b)))
        if kinds[0] == "time" and self.sqlite:
            a, b = _cat("gp_datetime(", a, ")"), _cat("gp_datetime(", b, ")")
        return _cat(a, f" {op} ", b)

    def moment(self, a: _Sql, op: str, value: date) -> _Sql:
        """``a op value`` for a date/date-time column, at the literal's granularity."""
        if isinstance(value, datetime):
            try:
                utc = _utc(value)
            except OverflowError:
                raise InputError(tr("the timestamp {value} is out of range",
                                    value=value.isoformat())) from None
            if self.sqlite:
                text = utc.isoformat(timespec="microseconds")
                return _cat("gp_datetime(", a, f") {op} ", self.param(text))
            if a.type == "date":
                return _cat("CAST(", a, f" AS timestamp) {op} ", self.param(utc))
            return _cat(a, f" {op} ", self.param(utc.replace(tzinfo=UTC)))
        p = self.param(value.isoformat() if self.sqlite else value)
        if a.type == "date":
            return _cat(a, f" {op} ", p)
        day = ("substr(gp_datetime(", "), 1, 10)") if self.sqlite else ("CAST(", " AS date)")
        return _cat(day[0], a, f"{day[1]} {op} ", p)

    def like(self, node: ast.Like) -> _Sql:
        a = self.operand(node.lhs)
        if isinstance(a, _Lit) or a.type != "string" or node.nocase:
            raise InputError(tr("LIKE works on text properties") if isinstance(a, _Lit)
                             else tr("LIKE works on text properties; {holds}", holds=_holds(a)))
        pattern = node.pattern
        if isinstance(pattern, dict):  # pygeofilter leaves a cql2-json pattern unparsed
            try:
                pattern = walk_cql_json(pattern)
            except (ValueError, TypeError, LookupError):
                raise InputError(tr("the pattern of LIKE must be a quoted string")) from None
        p = self.operand(pattern)
        if not isinstance(p, _Lit) or not isinstance(p.value, str):
            raise InputError(tr("the pattern of LIKE must be a quoted string"))
        try:
            like_matcher(p.value)
        except ValueError as exc:
            reason = exc.args[0] if exc.args and isinstance(exc.args[0], Message) else str(exc)
            raise InputError(tr("LIKE pattern {pattern}: {reason}", pattern=repr(p.value),
                                reason=reason)) from exc
        if self.sqlite:
            return _cat("gp_like(", a, ", ", self.param(p.value), ")")
        return _cat(a, " LIKE ", self.param(p.value))

    def in_(self, node: ast.In) -> _Sql:
        a, items = self.operand(node.lhs), [self.operand(x) for x in node.sub_nodes]
        if isinstance(a, _Lit) or not items or not all(isinstance(i, _Lit) for i in items):
            raise InputError(tr("IN compares a property with a list of values"))
        checked = [self.literal(a, "=", i.value) for i in items]  # type: ignore[union-attr]
        if a.type in _TIMES:
            return _balanced(" OR ", checked)
        params = [self.param(i.value) for i in items]  # type: ignore[union-attr]
        return _cat(a, " IN (", _joined(", ", params), ")")

    def spatial(self, node: Any) -> _Sql:
        op, geom, distance = _spatial_parts(node)
        wkb, g = self.param(shapely.to_wkb(geom)), self.d.geometry
        if self.sqlite:
            return _cat(f"gp_spatial('{op}', {g}, ", wkb, ", ", self.param(distance), ")")
        if op != "dwithin":
            return _cat(f"ST_{op.capitalize()}({g}, ST_GeomFromWKB(", wkb, ", 4326))")
        box = [self.param(v) for v in _expand(geom.bounds, distance or 0.0)]
        return _cat(f"({g} && ST_MakeEnvelope(", _joined(", ", box), f", 4326) AND ST_DWithin("
                    f"{g}::geography, ST_GeomFromWKB(", wkb, ", 4326)::geography, ",
                    self.param(distance), "))")

    def temporal(self, node: ast.TemporalPredicate) -> _Sql:
        """A property's instant t against a DATE, TIMESTAMP or INTERVAL [lo, hi] (None: open),
        by CQL2's definitions with the instant's begin = end."""
        name, kind = _operator(node), _TEMPORAL.get(type(node))
        if kind is None:
            raise InputError(tr("{name} is not a CQL2 temporal function", name=name))
        a, b = self.operand(node.lhs), self.operand(node.rhs)
        if isinstance(a, _Lit) and isinstance(b, _Sql):
            a, b, kind = b, a, _TEMPORAL_CONVERSE.get(kind, kind)
        if isinstance(a, _Lit) or a.type not in _TIMES:
            raise InputError(
                tr("{name} works on date and timestamp properties", name=name)
                if isinstance(a, _Lit) else
                tr("{name} works on date and timestamp properties; {holds}", name=name,
                   holds=_holds(a)))
        value = b.value if isinstance(b, _Lit) else None
        interval = isinstance(value, values.Interval)
        lo, hi = (value.start, value.end) if interval else (value, value)  # type: ignore[union-attr]
        if not (interval or isinstance(value, date)) or not all(
                x is None or isinstance(x, date) for x in (lo, hi)):
            raise InputError(tr("{name} compares a property with a DATE, TIMESTAMP or INTERVAL",
                                name=name))
        proper = lo is None or hi is None or _instant(lo) < _instant(hi)  # not a single moment
        never = _cat("(", a, " <> ", a, ")")  # false, or null (unknown) where a is null
        if kind in _NEVER_FOR_INSTANTS:
            return never
        if kind in ("before", "after", "equals", "meets", "metby", "starts", "finishes"):
            op, x, usable = {
                "before": ("<", lo, True), "after": (">", hi, True),
                "equals": ("=", lo, lo == hi), "meets": ("=", lo, True),
                "metby": ("=", hi, True), "starts": ("=", lo, proper),
                "finishes": ("=", hi, proper)}[kind]
            return self.moment(a, op, x) if usable and x is not None else never
        if kind == "disjoint":
            parts = [self.moment(a, o, x) for o, x in (("<", lo), (">", hi)) if x is not None]
            return _cat("(", _joined(" OR ", parts), ")") if parts else never
        if kind == "during" and not interval:
            return never
        ops = (">", "<") if kind == "during" else (">=", "<=")
        parts = [self.moment(a, o, x) for o, x in zip(ops, (lo, hi), strict=True) if x is not None]
        return _cat("(", _joined(" AND ", parts), ")") if parts else _cat(a, " IS NOT NULL")


def check_limits(node: Any) -> None:
    """InputError when a filter (a pygeofilter AST) is larger than one request may ask: nested
    over ``MAX_DEPTH`` levels, over ``MAX_NODES`` parts, a text over ``MAX_STRING_CHARS``, an
    IN list over ``MAX_IN_VALUES`` values or a geometry over ``MAX_VERTICES`` vertices.

    Walks the tree with a stack of its own, so a tree too deep for Python's recursion (pygeofilter
    builds a left-deep one for a long AND chain) is measured, not crashed on. A chain of ANDs,
    or of ORs, counts as one level whichever way it was parsed."""
    nodes = 0
    stack: list[tuple[Any, int, type | None]] = [(node, 1, None)]
    while stack:
        item, depth, parent = stack.pop()
        if isinstance(item, ast.Node):
            chained = isinstance(item, ast.And | ast.Or) and type(item) is parent
            depth -= chained
            if depth > MAX_DEPTH:
                raise InputError(tr("the filter is nested more than {n} levels deep (NOT, "
                                    "parentheses, functions); write it more simply",
                                    n=MAX_DEPTH))
            nodes += 1
            if nodes > MAX_NODES:
                raise InputError(tr("the filter has more than {n} parts (properties, values, "
                                    "operators); split it into several requests", n=MAX_NODES))
            if isinstance(item, ast.In):
                if len(item.sub_nodes) > MAX_IN_VALUES:
                    raise InputError(tr("an IN list may hold up to {n} values",
                                        n=MAX_IN_VALUES))
                children = [item.lhs, item.sub_nodes]
            else:
                children = list(item.get_sub_nodes())
                if isinstance(item, ast.Like):
                    children.append(item.pattern)
                elif isinstance(item, ast.Function):
                    children = list(item.arguments)
            stack += [(c, depth + 1, type(item)) for c in children]
        elif isinstance(item, list | tuple):  # an IN list: its values count as one part
            nodes += 1
            stack += [(c, depth, parent) for c in item if not isinstance(c, ast.Node)]
            stack += [(c, depth + 1, None) for c in item if isinstance(c, ast.Node)]
        elif isinstance(item, str) and len(item) > MAX_STRING_CHARS:
            raise InputError(tr("a text value in the filter is longer than {n} characters",
                                n=MAX_STRING_CHARS))
        elif isinstance(item, values.Geometry) and _vertices(item.geometry) > MAX_VERTICES:
            raise InputError(tr("a geometry in the filter has more than {n} vertices; simplify "
                                "it or use a bbox", n=MAX_VERTICES))


def _vertices(geometry: Any) -> int:
    """Positions in a GeoJSON geometry mapping, counted without recursion (and no further than
    just past ``MAX_VERTICES``); anything that is not GeoJSON counts 0 (shapely judges it)."""
    count = 0
    stack = [geometry]
    while stack and count <= MAX_VERTICES:
        item = stack.pop()
        if isinstance(item, dict):
            stack += [item.get("coordinates"), *(item.get("geometries") or ())]
        elif isinstance(item, list | tuple):
            if item and isinstance(item[0], int | float):
                count += 1
            else:
                stack += item
    return count


def _instant(value: date) -> datetime:
    """A DATE or TIMESTAMP as a naive UTC datetime, so the two kinds compare."""
    if isinstance(value, datetime):
        return _utc(value)
    return datetime(value.year, value.month, value.day)


def to_sql(node: Any, fields: Sequence[Field], dialect: Dialect) -> tuple[str, list[Any]]:
    """A WHERE fragment (without ``WHERE``) for a pygeofilter AST and its parameters, in order.

    Raises InputError for anything the layer cannot be filtered by: unknown properties, values
    of the wrong type, unsupported operators."""
    check_limits(node)
    try:
        sql = _Translator(fields, dialect).cond(node)
    except RecursionError:
        raise InputError("the filter is nested too deeply") from None
    if len(sql.params) > 30_000:  # SQLite takes 32766 parameters, PostgreSQL 65535
        raise InputError("the filter has too many values")
    return sql.text, list(sql.params)


# -- SQLite functions: never raise (an exception would fail the whole query) -------------------

_ENVELOPE_SIZES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _blob_to_wkb(blob: Any) -> bytes | None:
    """The WKB in a GeoPackage geometry blob (our own copy: gpkg.py imports this module)."""
    if not isinstance(blob, bytes) or len(blob) < 8 or blob[:2] != b"GP" or blob[3] & 0b10000:
        return None
    return blob[8 + _ENVELOPE_SIZES.get((blob[3] >> 1) & 0b111, 0):]


class LikeMatcher:
    """A CQL2 LIKE pattern compiled for matching without backtracking.

    A pattern is its ``%``-free segments (a run of ``%`` is one gap; ``_`` is one character;
    ``\\`` escapes the next character). Every segment has a fixed length, so a value matches
    when the first segment matches at its start, the last at its end, and each segment between
    them at its leftmost place after the one before: taking the leftmost place always leaves the
    most room for the rest. That costs at most one scan of the value per segment, where a
    regular expression of ``.*`` backtracks (``'%%%%%%%%z'`` took 85 s over 2,558 names).
    Case-sensitive; ``_`` and ``%`` match any character, line breaks included.
    """

    __slots__ = ("exact", "head", "middle", "tail")

    def __init__(self, pattern: str) -> None:
        segments: list[list[str | None]] = [[]]  # None: '_', one character of any kind
        chars = iter(pattern)
        for ch in chars:
            if ch == "\\":
                if (nxt := next(chars, None)) is None:
                    raise ValueError(tr("the pattern ends with the escape character '\\'"))
                segments[-1].append(nxt)
            elif ch == "%":
                segments.append([])
            else:
                segments[-1].append(None if ch == "_" else ch)
        parts = [_segment(s) for s in segments]
        self.exact = len(parts) == 1  # no '%': the value is exactly one segment long
        self.head, self.tail = parts[0], parts[-1]
        self.middle = [p for p in parts[1:-1] if p[1]]  # '%%' leaves an empty segment

    def __call__(self, value: str) -> bool:
        """Whether ``value`` matches the pattern."""
        size = self.head[1]
        if self.exact:
            return len(value) == size and _at(self.head, value, 0)
        end = len(value) - self.tail[1]  # where the last segment must start
        if end < size or not _at(self.head, value, 0):
            return False
        pos = size
        for segment, length in self.middle:
            if isinstance(segment, str):
                found = value.find(segment, pos, end)
            else:
                m = segment.search(value, pos, end)
                found = -1 if m is None else m.start()
            if found < 0:
                return False
            pos = found + length
        return _at(self.tail, value, end)


def _segment(chars: list[str | None]) -> tuple[str | re.Pattern[str], int]:
    """A segment as plain text (found with ``str.find``) or, when it holds ``_``, as a
    fixed-length regular expression (no repetition in it, so nothing to backtrack), and its
    length in characters."""
    if None not in chars:
        return "".join(chars), len(chars)  # type: ignore[arg-type]
    regex = "".join("." if c is None else re.escape(c) for c in chars)
    return re.compile(regex, re.DOTALL), len(chars)


def _at(segment: tuple[str | re.Pattern[str], int], value: str, pos: int) -> bool:
    text, _size = segment
    if isinstance(text, str):
        return value.startswith(text, pos)
    return text.match(value, pos) is not None


@lru_cache(maxsize=256)
def like_matcher(pattern: str) -> LikeMatcher:
    """The compiled matcher of a LIKE pattern (cached: SQLite calls it once per row);
    ValueError for a pattern ending in the escape character."""
    return LikeMatcher(pattern)


def _gp_like(value: Any, pattern: Any) -> int | None:
    if value is None or pattern is None:
        return None
    try:
        return int(like_matcher(str(pattern))(str(value)))
    except ValueError:
        return None


def _gp_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _gp_datetime(value: Any) -> str | None:
    """Stored ISO text (GDAL: ``YYYY-MM-DD[THH:MM:SS[.sss][Z|±HH:MM]]``) as fixed-width UTC."""
    try:
        return _utc(datetime.fromisoformat(value)).isoformat(timespec="microseconds")
    except (ValueError, TypeError, OverflowError):
        return None


# Keyed by thread too: prepared GEOS geometries and pyproj transformers are not shared safely.
@lru_cache(maxsize=64)
def _prepared(wkb: bytes, _thread: int) -> shapely.Geometry:
    geom = shapely.from_wkb(wkb)
    shapely.prepare(geom)
    return geom


@lru_cache(maxsize=32)
def _metric(wkb: bytes, _thread: int
            ) -> tuple[shapely.Geometry, tuple[float, float, float, float], pyproj.Transformer]:
    """The literal in metres on an azimuthal equidistant projection centred on it."""
    geom = shapely.from_wkb(wkb)
    centre = geom.centroid
    aeqd = f"+proj=aeqd +lat_0={centre.y} +lon_0={centre.x} +datum=WGS84 +units=m"
    transformer = pyproj.Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
    metric = _project(geom, transformer)
    shapely.prepare(metric)
    return metric, geom.bounds, transformer


def _project(geom: shapely.Geometry, transformer: pyproj.Transformer) -> shapely.Geometry:
    return shapely.transform(
        geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _gp_spatial(op: str, blob: Any, wkb: Any, distance: Any) -> int | None:
    """``op`` between a feature's GeoPackage blob and a WKB literal; NULL without a geometry."""
    feature_wkb = _blob_to_wkb(blob)
    if feature_wkb is None or not isinstance(wkb, bytes):
        return None
    try:
        feature = shapely.from_wkb(feature_wkb)
        if op != "dwithin":  # literal first: the literal is the prepared geometry
            literal = _prepared(wkb, threading.get_ident())
            return int(getattr(shapely, _CONVERSE.get(op, op))(literal, feature))
        metric, bounds, transformer = _metric(wkb, threading.get_ident())
        minx, miny, maxx, maxy = _expand(bounds, float(distance))
        fb = feature.bounds
        if fb[2] < minx or fb[0] > maxx or fb[3] < miny or fb[1] > maxy:
            return 0
        return int(shapely.dwithin(metric, _project(feature, transformer), float(distance)))
    except (shapely.errors.ShapelyError, pyproj.exceptions.ProjError, ValueError, TypeError,
            AttributeError):
        return None


def register_sqlite_functions(conn: sqlite3.Connection) -> None:
    """Register on ``conn`` the functions the SQLite dialect's fragments call: gp_like,
    gp_lower, gp_datetime and gp_spatial."""
    conn.create_function("gp_like", 2, _gp_like, deterministic=True)
    conn.create_function("gp_lower", 1, _gp_lower, deterministic=True)
    conn.create_function("gp_datetime", 1, _gp_datetime, deterministic=True)
    conn.create_function("gp_spatial", 4, _gp_spatial, deterministic=True)
