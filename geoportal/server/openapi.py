"""Make pygeoapi's OpenAPI document self-contained.

pygeoapi points many ``$ref`` at schemas.opengis.net and GitHub. The portal must work with no
internet, and validators and code generators resolve every ``$ref``; so remote references are
replaced with local components written here, from the OGC API - Features Part 1 text.
"""

from __future__ import annotations

from typing import Any

__all__ = ["localize_refs"]

_JSON = "application/json"
_GEOJSON = "application/geo+json"

_LINK = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {
        "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
        "hreflang": {"type": "string"}, "title": {"type": "string"},
        "length": {"type": "integer"},
    },
}
_EXCEPTION = {
    "type": "object",
    "required": ["code"],
    "properties": {"code": {"type": "string"}, "type": {"type": "string"},
                   "description": {"type": "string"}},
}
_LINKS = {"type": "array", "items": {"$ref": "#/components/schemas/link"}}
_GEOMETRY = {"type": "object", "nullable": True, "description": "A GeoJSON geometry (RFC 7946)"}
_FEATURE = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "geometry": _GEOMETRY,
        "properties": {"type": "object", "nullable": True},
        "links": _LINKS,
    },
}
_COLLECTION = {
    "type": "object",
    "required": ["id", "links"],
    "properties": {
        "id": {"type": "string"}, "title": {"type": "string"},
        "description": {"type": "string"}, "links": _LINKS,
        "extent": {"type": "object"}, "itemType": {"type": "string"},
        "crs": {"type": "array", "items": {"type": "string"}},
        "storageCrs": {"type": "string"},
    },
}


def _response(description: str, schema: dict[str, Any], media: str = _JSON) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": schema},
                                                    "text/html": {"schema": {"type": "string"}}}}


_COMPONENTS: dict[str, dict[str, Any]] = {
    "schemas": {
        "link": _LINK,
        "exception": _EXCEPTION,
        "cql2": {"type": "object", "description": "A CQL2 JSON expression (OGC 21-065)."},
        "featureGeoJSON": _FEATURE,
        "featureCollectionGeoJSON": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array",
                             "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
                "links": _LINKS, "timeStamp": {"type": "string", "format": "date-time"},
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberReturned": {"type": "integer", "minimum": 0},
            },
        },
        "collectionInfo": _COLLECTION,
        "landingPage": {"type": "object", "required": ["links"],
                        "properties": {"title": {"type": "string"},
                                       "description": {"type": "string"}, "links": _LINKS}},
    },
    "parameters": {
        "featureId": {"name": "featureId", "in": "path", "required": True,
                      "description": "local identifier of a feature",
                      "schema": {"type": "string"}},
        "sortby": {"name": "sortby", "in": "query", "required": False, "explode": False,
                   "style": "form",
                   "description": "Comma-separated properties to sort by, '-' for descending",
                   "schema": {"type": "array", "items": {"type": "string"}}},
    },
    "responses": {
        "LandingPage": _response("The landing page",
                                 {"$ref": "#/components/schemas/landingPage"}),
        "Collection": _response("One collection",
                                {"$ref": "#/components/schemas/collectionInfo"}),
        "Features": _response("A page of features",
                              {"$ref": "#/components/schemas/featureCollectionGeoJSON"},
                              _GEOJSON),
        "Feature": _response("One feature", {"$ref": "#/components/schemas/featureGeoJSON"},
                             _GEOJSON),
        "InvalidParameter": _response("A query parameter has an invalid value",
                                      {"$ref": "#/components/schemas/exception"}),
        "NotFound": _response("The requested resource does not exist",
                              {"$ref": "#/components/schemas/exception"}),
        "ServerError": _response("A server error occurred",
                                 {"$ref": "#/components/schemas/exception"}),
    },
}

# The last part of a remote reference -> (component section, local name).
_REMOTE = {
    "sortby.yaml": ("parameters", "sortby"),
    "cql2.json": ("schemas", "cql2"),
    "exception.yaml": ("schemas", "exception"),
    "link": ("schemas", "link"),
    "featureId": ("parameters", "featureId"),
    **{name: ("responses", name) for name in
       ("Collection", "Feature", "Features", "InvalidParameter", "LandingPage", "NotFound",
        "ServerError")},
}


def _local(ref: str) -> str:
    key = ref.rsplit("/", 1)[-1]
    if key not in _REMOTE:
        raise KeyError(f"no local component for remote $ref {ref}")
    section, name = _REMOTE[key]
    return f"#/components/{section}/{name}"


def localize_refs(document: dict[str, Any]) -> dict[str, Any]:
    """Return the document with every remote ``$ref`` pointing at a local component."""
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(("http://", "https://")):
                return {**{k: walk(v) for k, v in node.items() if k != "$ref"}, "$ref": _local(ref)}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result = walk(document)
    components = result.setdefault("components", {})
    for section, entries in _COMPONENTS.items():
        target = components.setdefault(section, {})
        for name, value in entries.items():
            target.setdefault(name, value)
    return result
