"""The portal's OpenAPI 3.0 document: every collection described once, under ``{collectionId}``.

pygeoapi's ``get_oas`` writes five paths per collection and loads every collection's provider
to do it: at 5,000 layers that is 14-47 s and a 32-40 MB document, rebuilt by every worker on
every catalog change. Collections here share the paths ``/collections/{collectionId}``,
``.../items``, ``.../items/{featureId}``, ``.../queryables`` and ``.../schema``; what differs
between collections (their fields) is in ``/collections/{collectionId}/queryables``. The
document depends on the settings only, so it is built once per process. A small catalog
(up to ``DETAILED_PATHS_UP_TO`` collections) also gets a path per collection's items with its
fields as query parameters, which GDAL's OAPIF driver reads to filter on the server.

The document is self-contained (no remote ``$ref``): the portal must work with no internet,
and validators and code generators resolve every reference.
"""

from __future__ import annotations

import copy
import json
import threading
import weakref
from collections.abc import Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from pygeoapi.api import APIRequest
from pygeoapi.formats import F_HTML
from pygeoapi.util import render_j2_template

from geoportal import __version__
from geoportal.config import Settings
from geoportal.i18n import tr
from geoportal.providers.features import json_schema_type
from geoportal.server.openapi_coverages import (
    coverage_parameters,
    coverage_paths,
    coverage_responses,
)
from geoportal.server.openapi_texts import OPENAPI_TEXTS
from geoportal.server.pygeoapi_config import CRS84, PYGEOAPI_LANGUAGES, SUPPORTED_CRS

if TYPE_CHECKING:
    from geoportal.server.live import PortalAPI

__all__ = ["DETAILED_PATHS_UP_TO", "MEDIA_TYPE", "build_openapi", "document_json", "localize",
           "openapi_"]

MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
# Up to this many collections, each also gets its own items path listing its fields.
DETAILED_PATHS_UP_TO = 100

_JSON = "application/json"
_GEOJSON = "application/geo+json"
_SCHEMA_JSON = "application/schema+json"
_HTML = "text/html"
_JSONLD = "application/ld+json"
_CSV = "text/csv"
_REF_PARAM = "#/components/parameters/"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _query(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "style": "form", "explode": False, "schema": schema, **extra}


_LINKS = {"type": "array", "items": _ref("schemas", "link")}

_SCHEMAS: dict[str, Any] = {
    "link": {
        "type": "object",
        "required": ["href", "rel"],
        "properties": {
            "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
            "hreflang": {"type": "string"}, "title": {"type": "string"},
            "length": {"type": "integer"},
        },
    },
    "exception": {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string"}, "type": {"type": "string"},
                       "description": {"type": "string"}},
    },
    "landingPage": {
        "type": "object",
        "required": ["links"],
        "properties": {"title": {"type": "string"}, "description": {"type": "string"},
                       "links": _LINKS},
    },
    "confClasses": {
        "type": "object",
        "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "extent": {
        "type": "object",
        "properties": {
            "spatial": {
                "type": "object",
                "properties": {
                    "bbox": {"type": "array", "minItems": 1,
                             "items": {"type": "array", "minItems": 4, "maxItems": 6,
                                       "items": {"type": "number"}}},
                    "crs": {"type": "string", "default": CRS84},
                },
            },
        },
    },
    "collectionInfo": {
        "type": "object",
        "required": ["id", "links"],
        "properties": {
            "id": {"type": "string"}, "title": {"type": "string"},
            "description": {"type": "string"},
            "keywords": {"type": "array", "items": {"type": "string"}},
            "links": _LINKS, "extent": _ref("schemas", "extent"),
            "itemType": {"type": "string", "default": "feature"},
            "crs": {"type": "array", "items": {"type": "string"}},
            "storageCrs": {"type": "string"},
        },
    },
    "collections": {
        "type": "object",
        "required": ["links", "collections"],
        "properties": {"links": _LINKS,
                       "collections": {"type": "array",
                                       "items": _ref("schemas", "collectionInfo")}},
    },
    "geometryGeoJSON": {
        "type": "object",
        "nullable": True,
        "required": ["type"],
        "description": "A GeoJSON geometry (RFC 7946), in the requested crs",
        "properties": {
            "type": {"type": "string",
                     "enum": ["Point", "MultiPoint", "LineString", "MultiLineString",
                              "Polygon", "MultiPolygon", "GeometryCollection"]},
            "coordinates": {"type": "array", "items": {}},
            "geometries": {"type": "array", "items": {"type": "object"}},
        },
    },
    "featureGeoJSON": {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "geometry": _ref("schemas", "geometryGeoJSON"),
            "properties": {"type": "object", "nullable": True},
            "links": _LINKS,
        },
    },
    "featureCollectionGeoJSON": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": _ref("schemas", "featureGeoJSON")},
            "links": _LINKS,
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberMatchedEstimated": {
                "type": "boolean",
                "description": "Present and true when numberMatched is an estimate: an exact "
                               "count of this filter would have been slow.",
            },
            "numberReturned": {"type": "integer", "minimum": 0},
        },
    },
    "jsonSchema": {
        "type": "object",
        "description": "A JSON Schema (2019-09) of the collection's properties",
        "properties": {"$schema": {"type": "string"}, "$id": {"type": "string"},
                       "type": {"type": "string"}, "title": {"type": "string"},
                       "properties": {"type": "object"}},
    },
    "cql2": {"type": "object", "description": "A CQL2 JSON expression (OGC 21-065)"},
}


def _response(description: str, schema: dict[str, Any], media: str = _JSON,
              html: bool = True, *, jsonld: bool = False,
              more: tuple[str, ...] = ()) -> dict[str, Any]:
    """A response in ``media`` with ``schema``; also an HTML page (``html``), JSON-LD
    (``jsonld``: what ``f=jsonld`` gives) and the text types in ``more``."""
    content: dict[str, Any] = {media: {"schema": schema}}
    if jsonld:
        content[_JSONLD] = {"schema": {"type": "object"}}
    if html:
        content[_HTML] = {"schema": {"type": "string"}}
    for other in more:
        content[other] = {"schema": {"type": "string"}}
    return {"description": description, "content": content}


def _error(description: str, in_format: bool = False) -> dict[str, Any]:
    """An OGC exception (JSON); ``in_format``: or in the format ``f`` asked for, as pygeoapi
    answers its own routes (an HTML page for f=html, JSON-LD for f=jsonld)."""
    return _response(description, _ref("schemas", "exception"), html=in_format,
                     jsonld=in_format)


_RESPONSES: dict[str, Any] = {
    "LandingPage": _response("The landing page: links to the API definition, the conformance "
                             "declaration and the collections",
                             _ref("schemas", "landingPage"), jsonld=True),
    "ConformanceDeclaration": _response("The conformance classes this server implements",
                                        _ref("schemas", "confClasses"), jsonld=True),
    "Collections": _response("Every published collection, with its extent, CRSs and links",
                             _ref("schemas", "collections"), jsonld=True),
    "Collection": _response("One collection", _ref("schemas", "collectionInfo"), jsonld=True),
    "Features": _response("A page of features, with numberMatched and next/prev links",
                          _ref("schemas", "featureCollectionGeoJSON"), _GEOJSON, jsonld=True,
                          more=(_CSV,)),
    "Feature": _response("One feature", _ref("schemas", "featureGeoJSON"), _GEOJSON,
                         jsonld=True),
    "Queryables": _response("The collection's queryable properties as a JSON Schema",
                            _ref("schemas", "jsonSchema"), _SCHEMA_JSON),
    "Schema": _response("The collection's properties as a JSON Schema",
                        _ref("schemas", "jsonSchema"), _SCHEMA_JSON),
    "OpenAPI": _response("This document", {"type": "object"}, "application/vnd.oai.openapi+json"
                         ";version=3.0"),
    "InvalidParameter": _error("A query parameter is unknown or has an invalid value"),
    "NotFound": _error("The requested resource does not exist"),
    "ServerError": _error("A server error occurred"),
    "InvalidParameterInFormat": _error("A query parameter is unknown or has an invalid value "
                                       "(in the format f asks for)", in_format=True),
    "NotFoundInFormat": _error("The requested resource does not exist (in the format f asks "
                               "for)", in_format=True),
    "ServerErrorInFormat": _error("A server error occurred (in the format f asks for)",
                                  in_format=True),
    "URITooLong": _error("The request line is longer than the server takes (a long filter: "
                         "simplify its geometry)"),
    "TooManyRequests": _error("Too many requests of this kind from this client (heavy "
                              "requests per minute, or failed logins): Retry-After says when "
                              "to try again"),
    "ServiceUnavailable": _error("The server is busy or its database is away: Retry-After "
                                 "says when to try again"),
    "Created": {"description": "The feature was added as a new version of the layer; "
                "Location names it, ETag is its validator",
                "content": {_GEOJSON: {"schema": _ref("schemas", "featureGeoJSON")}}},
    "Edited": {"description": "The feature as it now is, in a new version of the layer "
               "(header Geoportal-Version); ETag is its new validator",
               "content": {_GEOJSON: {"schema": _ref("schemas", "featureGeoJSON")}}},
    "Deleted": {"description": "The feature was removed, in a new version of the layer"},
    "Json": {"description": "A JSON document",
             "content": {_JSON: {"schema": {"type": "object"}}}},
    "Tile": {"description": "A Mapbox Vector Tile: one layer named after the collection",
             "content": {"application/vnd.mapbox-vector-tile": {
                 "schema": {"type": "string", "format": "binary"}}}},
    "EmptyTile": {"description": "No feature in this tile"},
    "OtherVersion": {"description": "The tile URL names a version that is no longer "
                     "current: Location is the current version's"},
    "Health": {"description": "The checks passed",
               "content": {_JSON: {"schema": {"type": "object", "properties": {
                   "status": {"type": "string"},
                   "checks": {"type": "object",
                              "additionalProperties": {"type": "string"}}}}}}},
    "Unready": {"description": "A part named in checks failed (database, objects, catalog)",
                "content": {_JSON: {"schema": {"type": "object", "properties": {
                    "status": {"type": "string"},
                    "checks": {"type": "object",
                               "additionalProperties": {"type": "string"}}}}}}},
    "Unauthorized": _response("No valid token (Authorization: Bearer ...)",
                              _ref("schemas", "exception"), html=False),
    "Forbidden": _response("The token may not edit this layer or this place",
                           _ref("schemas", "exception"), html=False),
    "PreconditionFailed": _response("If-Match names an older state of the feature",
                                    _ref("schemas", "exception"), html=False),
    "Unprocessable": _response("The geometry cannot be published in this layer",
                               _ref("schemas", "exception"), html=False),
    "NotModified": {"description": "Not changed since the ETag of If-None-Match (or the "
                    "time of If-Modified-Since)"},
    "Download": {"description": "The file (Content-Disposition names it)",
                 "content": {media: {"schema": {"type": "string", "format": "binary"}}
                             for media in ("application/geopackage+sqlite3", _GEOJSON,
                                           _CSV, "application/zip",
                                           "image/tiff; application=geotiff")}},
    "PartOfDownload": {"description": "The bytes of a raster's COG a Range asked for",
                       "content": {"image/tiff; application=geotiff": {
                           "schema": {"type": "string", "format": "binary"}}}},
    "RangeNotSatisfiable": {"description": "The Range lies past the end of the file"},
    "Conflict": _error("The layer changed meanwhile (another edit or a publish): try again"),
    "PayloadTooLarge": _error("The body is too large: publish large sets of features as an "
                              "upload"),
    "UnsupportedMediaType": _error("The body is not GeoJSON (Content-Type "
                                   "application/geo+json)"),
}
# asked for JSON and not JSON Schema (Accept: application/json), the queryables come as
# application/json: GDAL's OAPIF driver refuses any other Content-Type
_RESPONSES["Queryables"]["content"][_JSON] = {"schema": _ref("schemas", "jsonSchema")}


def _parameters(settings: Settings) -> dict[str, Any]:
    crs_list = {"type": "string", "format": "uri", "enum": list(SUPPORTED_CRS),
                "default": CRS84}
    return {
        "collectionId": {
            "name": "collectionId", "in": "path", "required": True,
            "description": "A collection id, as listed by /collections (for example "
                           "minsk-stops)",
            "schema": {"type": "string"},
        },
        "featureId": {
            "name": "featureId", "in": "path", "required": True,
            "description": "The id of a feature in the collection (a positive integer)",
            "schema": {"type": "string"},
        },
        "f": _query("f", "The format of the response: json (the default; GeoJSON for "
                    "features), html or jsonld",
                    {"type": "string", "enum": ["json", "html", "jsonld"], "default": "json"}),
        "f-items": _query("f", "The format of the response: json (GeoJSON, the default), "
                          "html, jsonld or csv",
                          {"type": "string", "enum": ["json", "html", "jsonld", "csv"],
                           "default": "json"}),
        "lang": _query("lang", "The language of titles and descriptions (Belarusian, Russian "
                       "or English); otherwise Accept-Language decides",
                       {"type": "string", "enum": list(PYGEOAPI_LANGUAGES),
                        "default": PYGEOAPI_LANGUAGES[0]}),
        "bbox": _query("bbox", "Only features whose geometry intersects the box: minx,miny,"
                       "maxx,maxy in bbox-crs (CRS84 longitude/latitude by default)",
                       {"type": "array", "minItems": 4, "maxItems": 6,
                        "items": {"type": "number"}}),
        "bbox-crs": _query("bbox-crs", "The CRS of the bbox coordinates", dict(crs_list)),
        "crs": _query("crs", "The CRS of the geometries in the response (EPSG:4326 is "
                      "latitude first)", dict(crs_list)),
        "limit": _query("limit", f"Features per page (at most {settings.max_limit}; more is "
                        "cut to that)",
                        {"type": "integer", "minimum": 1, "maximum": settings.max_limit,
                         "default": settings.default_limit}),
        "offset": _query("offset", "The number of features to skip (paging; next and prev "
                         "links carry it)",
                         {"type": "integer", "minimum": 0, "default": 0}),
        "datetime": _query("datetime", "A date, date-time or interval (RFC 3339, '..' for an "
                           "open end) on the collection's first date or date-time property; "
                           "a collection without one answers 400", {"type": "string"}),
        "filter": _query("filter", "A CQL2 expression on the collection's queryables, in "
                         "CQL2 text (name = 'Мінск' AND floors > 5) or CQL2 JSON",
                         {"type": "string"}),
        # cql-text, the draft's name, is taken as cql2-text; listing it is what tells GDAL's
        # OAPIF driver (up to 3.12 at least) that it may send its where clause as a filter.
        "filter-lang": _query("filter-lang", "The encoding of filter (cql-text, the name in "
                              "drafts, is taken as cql2-text)",
                              {"type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"],
                               "default": "cql2-text"}),
        "filter-crs": _query("filter-crs", "The CRS of geometries in filter",
                             {"type": "string", "format": "uri", "default": CRS84}),
        "sortby": _query("sortby", "Properties to sort by, comma-separated; a leading '-' "
                         "sorts descending",
                         {"type": "array", "items": {"type": "string"}}),
        "properties": _query("properties", "The properties to return, comma-separated",
                             {"type": "array", "items": {"type": "string"}}),
        "skipGeometry": _query("skipGeometry", "Leave the geometries out",
                               {"type": "boolean", "default": False}),
        "tileMatrixSetId": {
            "name": "tileMatrixSetId", "in": "path", "required": True,
            "description": "The tile matrix set", "schema": {"type": "string",
                                                              "enum": ["WebMercatorQuad"]}},
        "tileMatrix": {"name": "tileMatrix", "in": "path", "required": True,
                       "description": "The zoom level", "schema": {"type": "integer",
                                                                   "minimum": 0, "maximum": 22}},
        "tileRow": {"name": "tileRow", "in": "path", "required": True,
                    "description": "The row, from the top", "schema": {"type": "integer",
                                                                       "minimum": 0}},
        "tileCol": {"name": "tileCol", "in": "path", "required": True,
                    "description": "The column, from the left",
                    "schema": {"type": "integer", "minimum": 0}},
        "collections-limit": _query("limit", "Collections per page (at most 1000); next and "
                                    "prev links lead through the rest",
                                    {"type": "integer", "minimum": 1, "maximum": 1000,
                                     "default": 100}),
        "collections-offset": _query("offset", "The number of collections to skip (paging)",
                                     {"type": "integer", "minimum": 0, "default": 0}),
        "v": _query("v", "The layer version the tile is of, as the tileset and TileJSON links "
                    "carry it: such a tile never changes (cached for a year); a version "
                    "no longer current redirects to the current one",
                    {"type": "string", "pattern": "^[0-9a-f]{12}$"}),
        "f-tileset": _query("f", "json (OGC tileset metadata, the default) or tilejson",
                            {"type": "string", "enum": ["json", "tilejson"],
                             "default": "json"}),
        "If-Match": {
            "name": "If-Match", "in": "header", "required": False,
            "description": "The feature's ETag as read (GET .../items/{featureId}): the edit "
                           "is refused with 412 when the feature changed since; * for any",
            "schema": {"type": "string"}},
        "Content-Crs": {
            "name": "Content-Crs", "in": "header", "required": False,
            "description": "The CRS of the body's coordinates, in its own axis order "
                           "(CRS84 when absent)",
            "schema": {"type": "string", "enum": [f"<{c}>" for c in SUPPORTED_CRS]}},
        "resulttype": _query("resulttype", "hits: only numberMatched, no features (results, "
                             "the default: a page of them)",
                             {"type": "string", "enum": ["results", "hits"],
                              "default": "results"}),
        "q": _query("q", "Free-text search of the catalog's records (collection catalog): "
                    "words in Belarusian, Russian or English; a layer answers 400",
                    {"type": "string"}),
        "ui": _query("ui", "With f=html: redoc for ReDoc, else Swagger UI",
                     {"type": "string", "enum": ["swagger", "redoc"]}),
        "f-download": _query("f", "The file format: gpkg (the default), geojson, csv or shp "
                             "(a zipped Shapefile); a raster is always its COG (tif)",
                             {"type": "string",
                              "enum": ["gpkg", "geojson", "csv", "shp", "tif"],
                              "default": "gpkg"}),
        "propertyFilters": {
            "name": "propertyFilters", "in": "query", "required": False,
            "description": "Equality filters name=value on any property listed by "
                           "/collections/{collectionId}/queryables (OGC API - Features "
                           "Part 3, queryables as query parameters)",
            "style": "form", "explode": True,
            "schema": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }


_ITEMS_PARAMETERS = ("f-items", "lang", "bbox", "bbox-crs", "crs", "limit", "offset",
                     "datetime", "filter", "filter-lang", "filter-crs", "sortby", "properties",
                     "skipGeometry")
_DOWNLOAD_PARAMETERS = ["f-download", "lang", "bbox", "crs", "filter", "filter-lang",
                        "filter-crs"]
_STANDARD_NAMES = {"f", "lang", "bbox", "bbox-crs", "crs", "limit", "offset", "datetime",
                   "filter", "filter-lang", "filter-crs", "sortby", "properties",
                   "skipGeometry", "resulttype", "q"}


def _operation(operation_id: str, summary: str, tags: list[str], parameters: list[str],
               responses: dict[str, str], description: str | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id, "summary": summary, "tags": tags,
        "parameters": [{"$ref": _REF_PARAM + name} for name in parameters],
        "responses": {code: _ref("responses", name) for code, name in responses.items()},
    }
    if description:
        operation["description"] = description
    return operation


# What any request may also get: a URL over gunicorn's limit_request_line (414, from
# wsgi.py), a server error, the database away or a full gate (503).
_ANY = {"414": "URITooLong", "500": "ServerError", "503": "ServiceUnavailable"}
_ERRORS = {"400": "InvalidParameter", **_ANY}
_ERRORS_404 = {"400": "InvalidParameter", "404": "NotFound", **_ANY}
# pygeoapi's routes answer errors in the format f asks for (an HTML page, JSON-LD)
_ERRORS_IN_FORMAT = {**_ERRORS, "400": "InvalidParameterInFormat",
                     "500": "ServerErrorInFormat"}
_ERRORS_404_IN_FORMAT = {**_ERRORS_IN_FORMAT, "404": "NotFoundInFormat"}
# a heavy request (limits.py: a filter, sortby, datetime, a deep offset, a coverage) counts
# against the client's rate, and failed logins against theirs
_LIMITED = {"429": "TooManyRequests"}
_ITEMS_RESPONSES = {"200": "Features", "304": "NotModified", **_ERRORS_404_IN_FORMAT,
                    **_LIMITED}
_EDIT_ERRORS = {"400": "InvalidParameter", "401": "Unauthorized", "403": "Forbidden",
                "404": "NotFound", "409": "Conflict", "413": "PayloadTooLarge",
                "415": "UnsupportedMediaType", "422": "Unprocessable", **_LIMITED, **_ANY}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _edit(operation_id: str, summary: str, responses: dict[str, str], body: str | None,
          conditional: bool, description: str) -> dict[str, Any]:
    """A Part 4 operation: a token, a GeoJSON body, optionally If-Match."""
    operation = _operation(operation_id, summary, ["edit"], [], {**responses, **_EDIT_ERRORS},
                           description)
    operation["security"] = _BEARER
    if conditional:
        operation["parameters"] = [{"$ref": _REF_PARAM + "If-Match"}]
        operation["responses"]["412"] = _ref("responses", "PreconditionFailed")
    else:
        operation["parameters"] = [{"$ref": _REF_PARAM + "Content-Crs"}]
    if body is not None:
        if conditional:
            operation["parameters"].append({"$ref": _REF_PARAM + "Content-Crs"})
        operation["requestBody"] = {"required": True, "description": body, "content": {
            _GEOJSON: {"schema": _ref("schemas", "featureGeoJSON")}}}
    return operation


_PLACE = {"type": "object", "properties": {
    "name": {"type": "string"},
    "kind": {"type": "string",
             "enum": ["oblast", "city", "raion", "settlement", "station", "stop", "place"]},
    "layer": {"type": "string", "description": "The collection the place is a feature of"},
    "layerTitle": {"type": "string", "description": "That collection's title"},
    "id": {"type": "integer", "description": "The feature's id in that collection"},
    "bbox": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
    "point": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
    "population": {"type": "integer", "nullable": True},
    "match": {"type": "string", "enum": ["exact", "stem", "prefix", "typo"]}}}
_SEARCH_LAYER = {"type": "object", "properties": {
    "id": {"type": "string"}, "title": {"type": "string"}, "kind": {"type": "string"},
    "theme": {"type": "string"}, "region": {"type": "string"},
    "bbox": {"type": "array", "items": {"type": "number"}, "nullable": True}}}


def _search_operation() -> dict[str, Any]:
    """``GET /search`` (issue 19): the page's search box, places and layers."""
    operation = _operation(
        "search", "Places and layers for a search text", ["search"], ["lang"], _ERRORS,
        "Places (cities, raions, oblasts, railway stations, stops: the features of layers "
        "whose manifest has search:) by name in Belarusian, Russian, English or Latin "
        "transliteration, folded, by prefix and with one typo allowed, best first; layers by "
        "their words. 'X near Y' / 'X in Y' (ru: в, около, возле; be: у, каля) and 'X Y' "
        "give the layers of X whose extent covers place Y.")
    operation["parameters"] += [
        _query("q", "The search text, at most 200 characters", {"type": "string",
                                                                "maxLength": 200}),
        _query("limit", "How many places at most", {"type": "integer", "minimum": 1,
                                                    "maximum": 50, "default": 10})]
    operation["responses"]["200"] = {
        "description": "The places and layers found, and how the text was read",
        "content": {_JSON: {"schema": {"type": "object", "properties": {
            "places": {"type": "array", "items": _PLACE},
            "layers": {"type": "array", "items": _SEARCH_LAYER},
            "query": {"type": "object", "properties": {
                "what": {"type": "string"}, "near": {"type": "string", "nullable": True},
                "connector": {"type": "string", "nullable": True}}}}}}}}
    return operation


def _paths() -> dict[str, Any]:
    collection = {"parameters": [{"$ref": _REF_PARAM + "collectionId"}]}
    return {
        "/": {"get": _operation("getLandingPage", "Landing page", ["server"], ["f", "lang"],
                                {"200": "LandingPage", **_ERRORS_IN_FORMAT})},
        "/openapi": {"get": _operation("getOpenapi", "This API definition", ["server"],
                                       ["f", "lang", "ui"], {"200": "OpenAPI", **_ERRORS})},
        "/conformance": {"get": _operation(
            "getConformanceDeclaration", "Conformance classes", ["server"], ["f", "lang"],
            {"200": "ConformanceDeclaration", **_ERRORS_IN_FORMAT})},
        "/collections": {"get": _operation(
            "getCollections", "Every published collection", ["collections"],
            ["f", "lang", "collections-limit", "collections-offset"],
            {"200": "Collections", "304": "NotModified", **_ERRORS_IN_FORMAT},
            "A page of the published collections (limit, offset), with numberMatched, "
            "numberReturned and next/prev links")},
        "/search": {"get": _search_operation()},
        "/healthz": {"get": _operation(
            "getHealth", "The process answers (for a load balancer; touches nothing else)",
            ["server"], [], {"200": "Health"})},
        "/readyz": {"get": _operation(
            "getReadiness", "This node can serve: catalog loaded, database and object store "
            "reachable", ["server"], [], {"200": "Health", "503": "Unready"})},
        "/collections/{collectionId}": {**collection, "get": _operation(
            "describeCollection", "One collection's metadata", ["collections"], ["f", "lang"],
            {"200": "Collection", "304": "NotModified", **_ERRORS_404_IN_FORMAT})},
        "/collections/{collectionId}/items": {**collection, "get": _operation(
            "getFeatures", "A page of a collection's features", ["features"],
            [*_ITEMS_PARAMETERS, "resulttype", "q", "propertyFilters"], _ITEMS_RESPONSES,
            "Features of the collection, filtered by bbox, CQL2 filter and property "
            "values, sorted, paged with limit and offset, in any crs of the collection"),
            "post": _edit("createFeature", "Add a feature (or a FeatureCollection's)",
                          {"201": "Created"}, "A GeoJSON Feature or FeatureCollection",
                          False, "Needs a token that may write to the layer's region; an "
                          "editor's features must lie inside their regions")},
        "/collections/{collectionId}/items/{featureId}": {
            "parameters": [{"$ref": _REF_PARAM + "collectionId"},
                           {"$ref": _REF_PARAM + "featureId"}],
            "get": _operation("getFeature", "One feature", ["features"], ["f", "lang", "crs"],
                              {"200": "Feature", "304": "NotModified",
                               **_ERRORS_404_IN_FORMAT}),
            "put": _edit("replaceFeature", "Replace a feature", {"200": "Edited"},
                         "The feature's new GeoJSON (every property; missing ones become "
                         "null)", True, "Conditional on If-Match when sent"),
            "patch": _edit("updateFeature", "Change some of a feature's properties or its "
                           "geometry", {"200": "Edited"}, "A partial GeoJSON Feature: the "
                           "properties to change, the geometry if it changes", True,
                           "Conditional on If-Match when sent"),
            "delete": _edit("deleteFeature", "Remove a feature", {"204": "Deleted"}, None,
                            True, "Conditional on If-Match when sent")},
        "/collections/{collectionId}/download": {**collection, "get": _operation(
            "getDownload", "The collection as a file", ["features"], _DOWNLOAD_PARAMETERS,
            {"200": "Download", "206": "PartOfDownload", "304": "NotModified",
             **_ERRORS_404, "409": "Conflict", "416": "RangeNotSatisfiable", **_LIMITED},
            "A vector layer in GeoPackage, GeoJSON, CSV or a zipped Shapefile (whole, or "
            "within bbox and filter, in crs), or a raster's COG (ranged reads work)")},
        "/tileMatrixSets": {"get": _operation(
            "getTileMatrixSetsList", "The tile matrix sets of the tiles", ["tiles"], ["lang"],
            {"200": "Json", **_ERRORS})},
        "/tileMatrixSets/{tileMatrixSetId}": {
            "parameters": [{"$ref": _REF_PARAM + "mapTileMatrixSetId"}],
            "get": _operation("getTileMatrixSet", "A tile matrix set (OGC TMS 2.0)", ["tiles"],
                              ["lang"], {"200": "Json", **_ERRORS_404})},
        "/collections/{collectionId}/tiles": {**collection, "get": _operation(
            "getCollectionTileSetsList", "The collection's vector tilesets", ["tiles"],
            ["lang"], {"200": "Json", **_ERRORS_404})},
        "/collections/{collectionId}/tiles/{tileMatrixSetId}": {
            "parameters": [{"$ref": _REF_PARAM + "collectionId"},
                           {"$ref": _REF_PARAM + "tileMatrixSetId"}],
            "get": _operation("getCollectionTileSet", "A tileset (f=tilejson: TileJSON 3.0)",
                              ["tiles"], ["f-tileset", "lang"],
                              {"200": "Json", **_ERRORS_404})},
        "/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": {
            "parameters": [{"$ref": _REF_PARAM + n} for n in (
                "collectionId", "tileMatrixSetId", "tileMatrix", "tileRow", "tileCol")],
            "get": _operation("getCollectionVectorTile", "One vector tile (MVT)", ["tiles"],
                              ["v"], {"200": "Tile", "204": "EmptyTile", "302": "OtherVersion",
                                      "304": "NotModified", **_ERRORS_404})},
        "/collections/{collectionId}/queryables": {**collection, "get": _operation(
            "getQueryables", "The properties filter and sortby can use", ["collections"],
            ["f", "lang"], {"200": "Queryables", "304": "NotModified",
                            **_ERRORS_404_IN_FORMAT})},
        "/collections/{collectionId}/schema": {**collection, "get": _operation(
            "getSchema", "The collection's properties and their types", ["collections"],
            ["f", "lang"], {"200": "Schema", "304": "NotModified", **_ERRORS_404_IN_FORMAT})},
    }


def _field_parameter(field: dict[str, Any]) -> dict[str, Any]:
    schema = json_schema_type(field["type"])
    return {"name": field["name"], "in": "query", "required": False,
            "description": f"Only features whose {field.get('title') or field['name']} "
                           "equals this value",
            "style": "form", "explode": False, "schema": schema}


def _collection_items_path(collection_id: str, resource: dict[str, Any]) -> dict[str, Any]:
    """The items path of one collection: the shared parameters, its field names as the
    values of properties and sortby, and one equality parameter per field."""
    fields = [f for f in resource["providers"][0].get("layer_fields", [])
              if f["name"] not in _STANDARD_NAMES]
    names = [f["name"] for f in fields]
    parameters: list[dict[str, Any]] = []
    for name in (*_ITEMS_PARAMETERS, "resulttype"):
        if name in ("properties", "sortby") and names:
            values = names if name == "properties" else [
                *names, *(f"-{n}" for n in names)]
            base = _query(name, "Comma-separated: " + ", ".join(names),
                          {"type": "array", "items": {"type": "string", "enum": values}})
            parameters.append(base)
        else:
            parameters.append({"$ref": _REF_PARAM + name})
    parameters += [_field_parameter(f) for f in fields]
    title = resource["title"].get("en") if isinstance(resource["title"], dict) else None
    return {"get": {
        "operationId": f"getFeatures.{collection_id}",
        "summary": f"Features of {title or collection_id}",
        "tags": ["features"],
        "parameters": parameters,
        "responses": {code: _ref("responses", name)
                      for code, name in _ITEMS_RESPONSES.items()},
    }}


def build_openapi(settings: Settings, resources: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the portal; ``resources`` (pygeoapi's, by collection id)
    add per-collection items paths only while there are at most ``DETAILED_PATHS_UP_TO``."""
    paths = _paths()
    paths.update(coverage_paths({"parameters": [{"$ref": _REF_PARAM + "collectionId"}]}))
    if len(resources) <= DETAILED_PATHS_UP_TO:
        for collection_id, resource in resources.items():
            if resource["providers"][0].get("type") != "feature":
                continue  # a raster: /coverage, not /items
            paths[f"/collections/{collection_id}/items"] = _collection_items_path(
                collection_id, resource)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": settings.title,
            "description": "OGC API - Features of the national geoportal of Belarus: "
                           "municipal GIS layers of oblasts, cities and raions. Every "
                           "collection is described by the /collections/{collectionId} "
                           "paths; /collections lists them.",
            "version": __version__,
            "license": {"name": "Each layer carries its own licence (see its links)",
                        "url": f"{settings.base_url}/collections"},
        },
        "servers": [{"url": settings.base_url}],
        "tags": [
            {"name": "server", "description": "Landing page, API definition, conformance"},
            {"name": "collections", "description": "The published layers and their schemas"},
            {"name": "features", "description": "The features of a layer"},
            {"name": "edit", "description": "Editing features (OGC API - Features Part 4), "
                                            "with a token"},
            {"name": "tiles", "description": "Vector tiles (OGC API - Tiles)"},
            {"name": "coverages", "description": "Rasters (OGC API - Coverages)"},
            {"name": "maps", "description": "Maps of every layer (OGC API - Maps)"},
            {"name": "classic", "description": "WMS, WFS and WMTS for GIS programs that do "
                                              "not speak OGC API"},
            {"name": "search", "description": "The portal's search box: places and layers"},
        ],
        "paths": paths,
        "components": {"parameters": {**_parameters(settings), **coverage_parameters()},
                       "schemas": _SCHEMAS,
                       "responses": {**_RESPONSES, **coverage_responses()},
                       "securitySchemes": {"bearer": {
                           "type": "http", "scheme": "bearer",
                           "description": "A portal token (geoportal token create)"}}},
    }


def document_json(document: dict[str, Any]) -> str:
    """The document as compact JSON text (served as is)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


_TRANSLATED = ("summary", "description")


def _translate_texts(node: Any, language: str) -> None:
    """Every summary and description under ``node`` in ``language`` (in place)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _TRANSLATED and isinstance(value, str):
                node[key] = OPENAPI_TEXTS.translate(value, language)
            else:
                _translate_texts(value, language)
    elif isinstance(node, list):
        for value in node:
            _translate_texts(value, language)


def localize(document: dict[str, Any], language: str,
             resources: Mapping[str, dict[str, Any]] | None = None,
             title: str | dict[str, str] | None = None) -> dict[str, Any]:
    """The document (built in English) with its texts in ``language`` (a copy): summaries and
    descriptions from ``openapi_texts``, the per-collection summaries with the collections'
    titles in that language (from ``resources``), ``title`` (a text per language) as the
    info title. Texts without a translation stay English."""
    if language == "en":
        return document
    out = copy.deepcopy(document)
    _translate_texts(out, language)
    info = out["info"]
    info["license"]["name"] = OPENAPI_TEXTS.translate(info["license"]["name"], language)
    if isinstance(title, dict) and title.get(language):
        info["title"] = title[language]
    for tag in out.get("tags", []):
        tag["description"] = OPENAPI_TEXTS.translate(tag["description"], language)
    for collection_id, resource in (resources or {}).items():
        operation = out["paths"].get(f"/collections/{collection_id}/items", {}).get("get")
        if operation is None or operation.get("operationId") != f"getFeatures.{collection_id}":
            continue
        titles = resource.get("title")
        name = (titles.get(language) or titles.get("en")) if isinstance(titles, dict) else None
        operation["summary"] = OPENAPI_TEXTS.translate(
            tr("Features of {title}", title=name or collection_id), language)
    return out


# The document of each generation's API in each language: made on first use, dropped with
# the API (a catalog change makes a new one).
_LOCALIZED: weakref.WeakKeyDictionary[Any, dict[str, tuple[dict[str, Any], str]]] = \
    weakref.WeakKeyDictionary()
_LOCALIZED_LOCK = threading.Lock()


def _document_in(api: PortalAPI, language: str) -> tuple[dict[str, Any], str]:
    """``api``'s OpenAPI document and its JSON text in ``language``."""
    if language == "en":
        return api.openapi_document, api.openapi
    with _LOCALIZED_LOCK:
        found = _LOCALIZED.setdefault(api, {}).get(language)
    if found is None:
        identification = api.config.get("metadata", {}).get("identification", {})
        document = localize(api.openapi_document, language, api.config.get("resources"),
                            identification.get("title"))
        found = (document, document_json(document))
        with _LOCALIZED_LOCK:
            _LOCALIZED.setdefault(api, {})[language] = found
    return found


def openapi_(api: PortalAPI, request: APIRequest) -> tuple[dict[str, str], int, str]:
    """pygeoapi's ``openapi_`` over our document: the JSON text built once (per language),
    and an HTML page listing the paths (our template, no CDN)."""
    headers = request.get_response_headers(**api.api_headers)
    document, text = _document_in(api, request.locale.language)
    if request.format == F_HTML:
        template = "openapi/redoc.html" if request.params.get("ui") == "redoc" else \
            "openapi/swagger.html"
        data = {"openapi-document-path": f"{api.base_url}/openapi",
                "paths": document["paths"]}
        content = render_j2_template(api.tpl_config, api.config["server"]["templates"],
                                     template, data, request.locale)
        return headers, HTTPStatus.OK, content
    headers["Content-Type"] = MEDIA_TYPE
    return headers, HTTPStatus.OK, text
