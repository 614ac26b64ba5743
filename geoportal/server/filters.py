"""CQL2 ``filter`` parameters checked before pygeoapi sees them.

pygeoapi answers any parse failure with "Bad CQL text" and reads a GET ``filter`` only as
CQL2 text; a GIS user needs to know what is wrong, and GDAL and OWSLib also send CQL2 JSON in
the query string (``filter-lang=cql2-json``). So the filter is parsed here first (a 400 that
names the problem) and pygeoapi's parser is given one that understands both encodings
(``parse_filter``, assigned by ``seams``, which also declares ``CONFORMANCE``).

A filter larger than one request may ask (``geoportal.storage.cql``'s limits: length, nesting,
parts, values, vertices, distance) is refused here too, before any parser recurses into it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache, reduce
from typing import Any

from pygeofilter import ast
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_json.parser import walk_cql_json
from pygeofilter.parsers.cql2_text import parse as parse_pygeofilter_text

from geoportal.errors import InputError
from geoportal.i18n import Message, tr
from geoportal.server.cql2_text import CQL2SyntaxError, parse_cql2_text
from geoportal.storage.cql import MAX_DEPTH, MAX_FILTER_CHARS, TEMPORAL_FUNCTIONS, check_limits

__all__ = ["CONFORMANCE", "check_filter", "check_text", "filter_problem", "parse_filter"]

_FEATURES = "http://www.opengis.net/spec/ogcapi-features-{}/1.0/conf/{}"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/{}"
# What our collections really do (pygeoapi's default list omits CQL2 JSON and the advanced
# classes). Part 4 editing needs a token; reading does not.
CONFORMANCE = [
    _FEATURES.format(4, "create-replace-delete"), _FEATURES.format(4, "update"),
    _FEATURES.format(4, "optimistic-locking-etags"), _FEATURES.format(4, "features"),
    _FEATURES.format(1, "core"), _FEATURES.format(1, "oas30"), _FEATURES.format(1, "html"),
    _FEATURES.format(1, "geojson"), _FEATURES.format(2, "crs"),
    _FEATURES.format(3, "queryables"), _FEATURES.format(3, "queryables-query-parameters"),
    _FEATURES.format(3, "filter"), _FEATURES.format(3, "features-filter"),
    "http://www.opengis.net/spec/ogcapi-common-3/1.0/conf/schemas",
    _CQL2.format("cql2-text"), _CQL2.format("cql2-json"), _CQL2.format("basic-cql2"),
    _CQL2.format("advanced-comparison-operators"),
    _CQL2.format("case-insensitive-comparison"), _CQL2.format("basic-spatial-functions"),
    _CQL2.format("basic-spatial-functions-plus"), _CQL2.format("spatial-functions"),
    _CQL2.format("arithmetic"), _CQL2.format("property-property"),
    _CQL2.format("temporal-functions"),
]

_LANGS = {None: "cql2-text", "cql2-text": "cql2-text", "cql-text": "cql2-text",
          "cql2-json": "cql2-json", "cql-json": "cql2-json"}


@lru_cache(maxsize=256)
def parse_filter(text: str) -> Any:
    """A pygeofilter AST from CQL2 text or CQL2 JSON (told apart by the first character).

    Text is read by our CQL2 grammar (``cql2_text``); what it refuses is tried with
    pygeofilter's, which also takes the older infix temporal form (``updated T_BEFORE
    DATE(...)``); if both refuse, ours says why. Cached: the check before pygeoapi and pygeoapi
    itself parse the same text in one request (pygeoapi deep-copies the tree before changing
    it; our translator only reads it). InputError for a text past the limits (``check_text``)."""
    check_text(text)
    if text.lstrip().startswith("{"):
        return _walk_json(json.loads(text))
    try:
        return parse_cql2_text(text)
    except CQL2SyntaxError as ours:
        try:
            return parse_pygeofilter_text(text)
        except Exception:  # pygeofilter raises lark, ValueError... by case: report ours
            raise ours from None


# Tokens that open a level of nesting in CQL2 text (a NOT, a parenthesis) or JSON (a bracket),
# those that close one, and quoted text, in which neither counts.
_NESTING = re.compile(r"""'(?:[^']|'')*'|"(?:[^"\\]|\\.|"")*"|\bNOT\b|[()\[\]{}]"""
                      r"""|[^'"()\[\]{}N]+|.""", re.IGNORECASE | re.DOTALL)


def check_text(text: str) -> None:
    """InputError for a filter text longer than ``MAX_FILTER_CHARS`` or nested too deeply to
    parse safely: parentheses and brackets, plus the NOTs in front of them, past twice
    ``MAX_DEPTH`` (four times in JSON, where a level takes a brace and a bracket). Measured on
    the text, before a parser recurses into it (``NOT`` x 5,000 would exhaust Python's stack);
    the exact depth of what passes is checked on the parsed tree (``cql.check_limits``)."""
    if len(text) > MAX_FILTER_CHARS:
        raise InputError(tr("the filter is longer than {n} characters; write it more simply "
                            "or split the request", n=MAX_FILTER_CHARS))
    json_ = text.lstrip().startswith("{")
    cap = (4 if json_ else 2) * MAX_DEPTH
    depth = nots = deepest = 0
    opened: list[int] = []  # the NOTs in front of each open parenthesis
    for token in _NESTING.findall(text):
        if token.upper() == "NOT" and not json_:
            nots += 1
        elif token in "([{":
            opened.append(nots)
            depth += 1 + nots
            nots = 0
        elif token in ")]}":
            depth -= 1 + opened.pop() if opened else 0
        elif not token.isspace():  # an operand: the NOTs before it are counted
            nots = 0
        deepest = max(deepest, depth + nots)
        if deepest > cap:
            raise InputError(tr("the filter is nested more than {n} levels deep (NOT, "
                                "parentheses, functions); write it more simply", n=MAX_DEPTH))


def _walk_json(node: Any) -> Any:
    """CQL2 JSON through pygeofilter, except the temporal operators it lacks or reads as
    another (t_starts, t_finishes..., t_overlaps), found inside and/or/not."""
    if isinstance(node, dict) and isinstance(node.get("op"), str):
        op, args = node["op"].lower(), node.get("args")
        if op in ("and", "or") and isinstance(args, list) and len(args) >= 2:
            return reduce(ast.And if op == "and" else ast.Or, [_walk_json(a) for a in args])
        if op == "not" and isinstance(args, list) and len(args) == 1:
            return ast.Not(_walk_json(args[0]))
        if op in _JSON_TEMPORAL and isinstance(args, list) and len(args) == 2:
            return TEMPORAL_FUNCTIONS[op](*(walk_cql_json(a) for a in args))
    return parse_cql2_json(node)


_JSON_TEMPORAL = ("t_starts", "t_startedby", "t_finishes", "t_finishedby", "t_overlaps")


def check_filter(params: Mapping[str, str]) -> None:
    """InputError with a sentence on what is wrong with the request's filter parameters
    (``filter``, ``filter-lang``), if anything."""
    lang = params.get("filter-lang")
    if lang not in _LANGS:
        raise InputError(tr("filter-lang {lang} is not supported; use cql2-text (the default) "
                            "or cql2-json", lang=repr(lang)))
    text = params.get("filter")
    if text is None:
        return
    if not text.strip():
        raise InputError(tr("filter is empty; give a CQL2 expression such as name = 'Мінск'"))
    expected = _LANGS[lang]
    looks_json = text.lstrip().startswith("{")
    if lang is not None and (expected == "cql2-json") != looks_json:
        raise InputError(tr("filter is not {expected} although filter-lang says so",
                            expected=expected))
    try:
        check_limits(parse_filter(text))
    except InputError:  # past a limit: the sentence names it
        raise
    except json.JSONDecodeError as exc:
        raise InputError(tr("filter is not valid JSON: {error} at character {pos}",
                            error=exc.msg, pos=exc.pos)) from None
    except Exception as exc:  # pygeofilter raises lark, ValueError, KeyError... by case
        said = exc.args[0] if exc.args else None  # ours say it by id (cql2_text, cql)
        detail = said if isinstance(said, Message) else (
            " ".join(str(exc).split())[:300] or type(exc).__name__)
        raise InputError(tr("filter is not valid {expected}: {detail}", expected=expected,
                            detail=detail)) from None


def filter_problem(params: Mapping[str, str]) -> str | None:
    """A sentence on what is wrong with the request's filter parameters (the message of
    ``check_filter``'s InputError, translatable), or None."""
    try:
        check_filter(params)
    except InputError as exc:
        return exc.user_msg
    return None

