"""Unknown query parameters get 400 naming them (OGC API - Features, /req/core/query-param-unknown).

What a route takes is what the portal's OpenAPI document (``openapi.py``) lists for its path
and method, so a route added to the document later (``/collections/{collectionId}/map``) is
checked from its documented parameters, with no list to keep here. Besides those:

- ``f`` and ``lang`` everywhere (``UNIVERSAL``): pygeoapi and ``languages.py`` read them on
  every route, and the portal's pages send ``lang`` with every request of theirs;
- on an operation documenting property filters (a query parameter of type object, exploded:
  ``propertyFilters`` of ``/collections/{collectionId}/items``), the collection's queryables
  as ``name=value`` filters, as pygeoapi takes them (a layer's fields; the catalog's record
  properties).

Not checked: paths the document does not describe (the portal's pages, ``/admin``,
``/static``, ``/metrics``); the OGC KVP services under ``FREE_FORM_PREFIXES``, which take
vendor parameters; the load balancer's probes (``EXEMPT_PATHS``); and a request answered
with an HTML page (``f=html``, or a browser's Accept): a page for people ignores what it
does not know, as web pages do, since links shared by mail and social networks gain
parameters of their own (``utm_source``, ``fbclid``). A collection that does not exist is
left to its route (404).

Cost: a request without a query string returns at once; the others look their path up in a
table made once per OpenAPI document (a dict for the concrete paths, a short list per number
of segments for the templated ones) and compare names with a set. The document changes only
with the catalog's collections (``live.py``), and so does the table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, request

from geoportal.catalog.records import RECORD_FIELDS
from geoportal.errors import InputError, StorageError
from geoportal.i18n import tr
from geoportal.providers.records import CATALOG_ID
from geoportal.server.live import LiveAPI
from geoportal.server.portal import wants_page

__all__ = ["EXEMPT_PATHS", "FREE_FORM_PREFIXES", "UNIVERSAL", "Operation", "Routes",
           "UnknownParameter", "install", "unknown_parameters"]

# OGC KVP services (WMS, WFS, WMTS): vendor parameters are theirs to judge. Extend freely.
FREE_FORM_PREFIXES: tuple[str, ...] = ("/wms", "/wfs", "/wmts")
# A load balancer's probes: a 400 there would take a node out of service for nothing.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
# Taken by every route (pygeoapi's format, the portal's language).
UNIVERSAL = frozenset({"f", "lang"})
_SHOWN = 10  # unknown names said in the message, at most
_NAME_CHARS = 40  # of each


class UnknownParameter(InputError):
    """A request names query parameters its route does not take (400)."""


@dataclass(frozen=True)
class Operation:
    """What one documented path and method take: ``names``, and with ``property_filters``
    the collection's queryables too (as ``name=value``)."""

    path: str  # as in the document: /collections/{collectionId}/items
    names: frozenset[str]
    property_filters: bool


def _resolve(node: Mapping[str, Any], document: Mapping[str, Any]) -> Mapping[str, Any]:
    """A parameter object, its ``$ref`` (``#/components/parameters/x``) followed."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    found: Any = document
    for part in ref[2:].split("/"):
        found = found.get(part, {}) if isinstance(found, Mapping) else {}
    return found if isinstance(found, Mapping) else {}


def _operation(path: str, parameters: Iterable[Mapping[str, Any]],
               document: Mapping[str, Any]) -> Operation:
    names: set[str] = set()
    property_filters = False
    for node in parameters:
        parameter = _resolve(node, document)
        if parameter.get("in") != "query" or not isinstance(parameter.get("name"), str):
            continue
        schema = _resolve(parameter.get("schema") or {}, document)
        if schema.get("type") == "object" and parameter.get("explode", True):
            property_filters = True  # form-exploded object: its properties are the names
        else:
            names.add(parameter["name"])
    return Operation(path, frozenset(names), property_filters)


_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class Routes:
    """The operations of one OpenAPI document, found by request path and method."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.concrete: dict[str, dict[str, Operation]] = {}
        # by segment count: (segments, None where a variable, variable names), operations;
        # the most literal segments first
        self.templated: dict[int, list[tuple[tuple[str | None, ...], tuple[str | None, ...],
                                             dict[str, Operation]]]] = {}
        for path, item in (document.get("paths") or {}).items():
            if not isinstance(item, Mapping):
                continue
            shared = list(item.get("parameters") or [])
            operations = {
                method: _operation(path, [*shared, *(item[method].get("parameters") or [])],
                                   document)
                for method in _METHODS if isinstance(item.get(method), Mapping)}
            if "get" in operations and "head" not in operations:
                operations["head"] = operations["get"]
            segments = tuple(path.strip("/").split("/")) if path != "/" else ()
            if not any("{" in s for s in segments):
                self.concrete[_normal(path)] = operations
                continue
            literal = tuple(None if "{" in s else s for s in segments)
            variables = tuple(s.strip("{}") if "{" in s else None for s in segments)
            self.templated.setdefault(len(segments), []).append((literal, variables,
                                                                 operations))
        for entries in self.templated.values():
            entries.sort(key=lambda e: -sum(s is not None for s in e[0]))

    def find(self, path: str, method: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation documented for ``path`` (a request's) and ``method``, with the
        path's variables (``collectionId``), or None."""
        path = _normal(path)
        method = method.lower()
        operations = self.concrete.get(path)
        if operations is not None:
            found = operations.get(method)
            return (found, {}) if found is not None else None
        segments = tuple(path.strip("/").split("/"))
        for literal, variables, operations in self.templated.get(len(segments), ()):
            if all(want is None or want == got for want, got in zip(literal, segments,
                                                                   strict=True)):
                found = operations.get(method)
                if found is None:
                    return None
                return found, {name: value for name, value in zip(variables, segments,
                                                                   strict=True) if name}
        return None


def _normal(path: str) -> str:
    return path.rstrip("/") or "/"


def unknown_parameters(names: Iterable[str], operation: Operation,
                       queryables: Callable[[], Collection[str] | None]) -> list[str]:
    """The ``names`` ``operation`` does not take, in the request's order; ``queryables``
    (called only when some name is left and the operation takes property filters) gives the
    collection's, or None when the collection does not exist (nothing is refused then)."""
    unknown = [n for n in dict.fromkeys(names) if n not in operation.names and n not in UNIVERSAL]
    if unknown and operation.property_filters:
        fields = queryables()
        if fields is None:
            return []
        unknown = [n for n in unknown if n not in fields]
    return unknown


def _refusal(unknown: list[str], operation: Operation,
             fields: Collection[str]) -> UnknownParameter:
    shown = [repr(n[:_NAME_CHARS] + ("…" if len(n) > _NAME_CHARS else ""))
             for n in unknown[:_SHOWN]]
    if len(unknown) > _SHOWN:
        shown.append("…")
    allowed = ", ".join(sorted({*operation.names, *UNIVERSAL, *fields}))
    names = ", ".join(shown)
    if len(unknown) == 1:
        return UnknownParameter(tr("unknown query parameter {names}; {path} takes: {allowed}",
                                   names=names, path=operation.path, allowed=allowed))
    return UnknownParameter(tr("unknown query parameters {names}; {path} takes: {allowed}",
                               names=names, path=operation.path, allowed=allowed))


class QueryParameters:
    """The check of ``live``'s requests, with the table of the document being served."""

    def __init__(self, live: LiveAPI) -> None:
        self.live = live
        self._routes: tuple[Mapping[str, Any], Routes] | None = None
        self._lock = threading.Lock()

    def routes(self) -> Routes:
        """The table of the OpenAPI document served now (made again when it changes)."""
        document = self.live.api.openapi_document
        cached = self._routes
        if cached is not None and cached[0] is document:
            return cached[1]
        with self._lock:
            cached = self._routes
            if cached is None or cached[0] is not document:
                cached = (document, Routes(document))
                self._routes = cached
        return cached[1]

    def queryables(self, collection_id: str | None) -> frozenset[str] | None:
        """The names a collection filters on (``name=value``), or None if there is none."""
        if collection_id is None:
            return None
        if collection_id == CATALOG_ID:
            return frozenset(RECORD_FIELDS)
        layer = self.live.layer(collection_id)
        if layer is None or layer.current is None:
            return None
        return frozenset(field.name for field in layer.current.fields)

    def check(self) -> None:
        """Raise ``UnknownParameter`` when the request names parameters its route does not
        take (see the module's docstring for what is not checked)."""
        args = request.args
        if not args or request.method == "OPTIONS":
            return
        path = request.path
        if path in EXEMPT_PATHS or any(path == p or path.startswith(p + "/")
                                       for p in FREE_FORM_PREFIXES):
            return
        try:
            found = self.routes().find(path, request.method)
        except StorageError:  # no catalog yet (the database away at start): the route says
            return
        if found is None:
            return
        operation, variables = found
        collection_id = variables.get("collectionId")
        fields: frozenset[str] | None = frozenset()

        def queryables() -> Collection[str] | None:
            nonlocal fields
            fields = self.queryables(collection_id)
            return fields

        unknown = unknown_parameters(args.keys(), operation, queryables)
        if not unknown or wants_page():
            return
        raise _refusal(unknown, operation, fields or ())


def install(app: Flask, live: LiveAPI) -> QueryParameters:
    """Check every request of ``app`` before its route runs (register it before the rate
    limits: a refused request costs the client nothing)."""
    checker = QueryParameters(live)
    app.before_request(checker.check)
    return checker
