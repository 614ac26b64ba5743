"""Reading the bodies of OGC API - Features Part 4 requests: GeoJSON features, checked
against the layer's fields and turned into the values a store keeps.

Everything a client can get wrong is an ``InputError`` (400) whose message names the
property or the member at fault; all property problems of a feature are reported at once.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

import numpy as np
import pyproj
import shapely

from geoportal.catalog.models import Field
from geoportal.errors import InputError
from geoportal.i18n import Message, tr

__all__ = ["LIMITS", "MISSING", "FeatureInput", "parse_body", "read_feature", "to_crs84"]

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
MISSING: Any = type("Missing", (), {"__repr__": lambda _: "MISSING"})()
_GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                   "MultiPolygon", "GeometryCollection"}
# What one feature's properties may hold: a layer's attributes are short facts, and every
# page, download and tile repeats them (the geometry has its own vertex cap).
LIMITS = {
    "properties": 500,  # members of "properties" (a layer has fewer fields)
    "string": 10_000,  # characters of one text value
    "properties_bytes": 256 * 1024,  # all of one feature's property values, as UTF-8 JSON
}
_SHOWN = 10  # problems listed in one message; the rest are counted


@dataclass(frozen=True)
class FeatureInput:
    """One feature of a request: its properties (converted to the fields' types; None when
    the request did not send any) and its geometry in CRS84 (MISSING when not sent)."""

    properties: dict[str, Any] | None
    geometry: Any


def parse_body(raw: bytes) -> Any:
    """The JSON of a request body, or a 400 saying where it is broken."""
    if not raw.strip():
        raise InputError(tr("the request has no body: send a GeoJSON feature"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(tr("the body is not UTF-8 text (byte {n})", n=exc.start)) from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InputError(tr("the body is not valid JSON: {error} at line {line}, column {col}",
                            error=exc.msg, line=exc.lineno, col=exc.colno)) from None
    except RecursionError:
        raise InputError(tr("the body is nested too deeply")) from None


def _no_constant(name: str) -> None:
    raise json.JSONDecodeError(f"{name} is not a JSON number", name, 0)


def read_feature(data: Any, fields: list[Field], *, crs: str = CRS84,
                 partial: bool = False, where: str = tr("the body")) -> FeatureInput:
    """A GeoJSON Feature checked against the layer's ``fields``.

    ``partial`` (PATCH) lets properties and geometry be left out; otherwise a missing
    property is stored as null and a missing geometry is an error. ``id`` is ignored:
    the portal assigns ids and the URL names the feature.
    """
    if not isinstance(data, dict) or data.get("type") != "Feature":
        raise InputError(tr('{where} must be a GeoJSON Feature ({{"type": "Feature", '
                            '"geometry": ..., "properties": {{...}}}})', where=where))
    raw_props = data.get("properties", MISSING if partial else None)
    if raw_props is MISSING:
        properties = None
    elif raw_props is None:
        properties = {}
    elif isinstance(raw_props, dict):
        properties = _coerce(raw_props, fields, where)
    else:
        raise InputError(tr("{where}: 'properties' must be an object or null", where=where))
    if "geometry" not in data:
        if not partial:
            raise InputError(tr("{where}: 'geometry' is missing (null for a feature without "
                                "one)", where=where))
        geometry = MISSING
    else:
        geometry = _geometry(data["geometry"], crs, where)
    return FeatureInput(properties=properties, geometry=geometry)


def _coerce(raw: dict[str, Any], fields: list[Field], where: str) -> dict[str, Any]:
    if len(raw) > LIMITS["properties"]:
        raise InputError(tr("{where}: 'properties' has {n} members; at most {limit}",
                            where=where, n=f"{len(raw):,}", limit=LIMITS["properties"]))
    size = len(json.dumps(raw, ensure_ascii=False).encode("utf-8"))
    if size > LIMITS["properties_bytes"]:
        raise InputError(tr("{where}: the properties are {size} bytes of JSON; at most {limit} "
                            "per feature", where=where, size=f"{size:,}",
                            limit=f"{LIMITS['properties_bytes']:,}"))
    types = {f.name: f.type for f in fields}
    titles = {f.title: f.name for f in fields if f.title}
    problems: list[Message] = []
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = key if key in types else titles.get(key)
        shown = key if len(key) <= 80 else key[:80] + "..."
        if name is None:
            problems.append(tr("unknown property {name}", name=repr(shown)))
            continue
        if isinstance(value, str) and len(value) > LIMITS["string"]:
            problems.append(tr("{name}: the text is {n} characters long; at most {limit}",
                               name=shown, n=f"{len(value):,}", limit=f"{LIMITS['string']:,}"))
            continue
        try:
            out[name] = _value(types[name], value)
        except (TypeError, ValueError, OverflowError):
            problems.append(tr("{name}: {value} is not {what}", name=shown,
                               value=json.dumps(value, ensure_ascii=False)[:80],
                               what=_ARTICLE.get(types[name], "a " + types[name])))
    if problems:
        known = ", ".join(types) or "none"
        detail = problems[0]
        for problem in problems[1:_SHOWN]:
            detail = tr("{detail}; {reason}", detail=detail, reason=problem)
        if len(problems) > _SHOWN:
            detail = tr("{detail}; and {n} more", detail=detail, n=len(problems) - _SHOWN)
        raise InputError(tr("{where}: {detail} (properties: {names})", where=where,
                            detail=detail, names=known))
    return out


# What a value of each field type is, for "{name}: {value} is not {what}".
_ARTICLE: dict[str, str] = {
    "string": tr("a string"), "integer": tr("an integer"), "number": tr("a number"),
    "boolean": tr("true or false"), "date": tr("a date (YYYY-MM-DD)"),
    "date-time": tr("a date-time (RFC 3339)"), "time": tr("a time (HH:MM:SS)")}
_INT64 = 2**63


def _value(type_: str, value: Any) -> Any:
    """A JSON value as the field's type; TypeError/ValueError when it is not one."""
    if value is None:
        return None
    if type_ == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # a code typed as a number: keep its text
        raise TypeError(value)
    if isinstance(value, bool) and type_ != "boolean":
        raise TypeError(value)
    if type_ == "integer":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or not -_INT64 <= value < _INT64:
            raise TypeError(value)
        return value
    if type_ == "number":
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise TypeError(value)
        return float(value)
    if type_ == "boolean":
        if not isinstance(value, bool):
            raise TypeError(value)
        return value
    if not isinstance(value, str):
        raise TypeError(value)
    if type_ == "date":
        return date.fromisoformat(value)
    if type_ == "date-time":
        return datetime.fromisoformat(value)
    if type_ == "time":
        return time.fromisoformat(value)
    return value


def _geometry(value: Any, crs: str, where: str) -> shapely.Geometry | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in _GEOMETRY_TYPES:
        raise InputError(tr("{where}: 'geometry' must be a GeoJSON geometry object ({types}) "
                            "or null", where=where, types=", ".join(sorted(_GEOMETRY_TYPES))))
    try:
        geometry = shapely.from_geojson(json.dumps(value))
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        raise InputError(tr("{where}: the geometry cannot be read: {error}", where=where,
                            error=str(exc))) from None
    coords = shapely.get_coordinates(geometry)
    if not np.isfinite(coords).all():
        raise InputError(tr("{where}: the geometry has coordinates that are not numbers",
                            where=where))
    return to_crs84(geometry, crs, where)


@lru_cache(maxsize=16)
def _transformer(crs: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(pyproj.CRS.from_user_input(crs), "OGC:CRS84")


def to_crs84(geometry: shapely.Geometry, crs: str,
             where: str = tr("the body")) -> shapely.Geometry:
    """A geometry given in ``crs`` (axis order as the CRS defines it, as Part 2 says) in
    CRS84 longitude/latitude."""
    if crs == CRS84:
        return geometry
    transformer = _transformer(crs)

    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    moved = shapely.transform(geometry, apply)
    if not np.isfinite(shapely.get_coordinates(moved)).all():
        raise InputError(tr("{where}: the geometry's coordinates are outside {crs}",
                            where=where, crs=crs))
    return moved
