"""The table of routes the unknown-parameter check reads from the OpenAPI document, on the
document of a large catalog (no per-collection paths: every layer's filters come from its
queryables). The server's behaviour is in tests/integration/test_query_params.py."""

from __future__ import annotations

import pytest

from geoportal.server.openapi import build_openapi
from geoportal.server.query_params import FREE_FORM_PREFIXES, Routes, unknown_parameters
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def routes(tmp_path_factory) -> Routes:
    return Routes(build_openapi(make_settings(tmp_path_factory.mktemp("data")), {}))


def test_templated_paths_are_found_with_their_variables(routes):
    found = routes.find("/collections/roads/items", "GET")
    assert found is not None
    operation, variables = found
    assert variables == {"collectionId": "roads"}
    assert operation.path == "/collections/{collectionId}/items"
    assert {"bbox", "limit", "filter", "sortby", "q", "resulttype"} <= operation.names
    assert operation.property_filters  # the exploded object: queryables are names too
    assert "propertyFilters" not in operation.names
    tile = routes.find("/collections/roads/tiles/WebMercatorQuad/3/2/1", "GET")
    assert tile is not None and tile[0].names == {"v"} and not tile[0].property_filters
    assert tile[1]["tileCol"] == "1"


def test_head_is_get_a_trailing_slash_is_none_and_other_paths_are_not_routes(routes):
    head = routes.find("/collections/roads/items/12", "HEAD")
    assert head is not None and head[0].names == {"f", "lang", "crs"}
    assert routes.find("/collections/", "GET")[0].path == "/collections"  # type: ignore[index]
    assert routes.find("/collections/roads/items", "PATCH") is None  # not documented
    for path in ("/admin", "/static/js/portal.js", "/collections/roads/nothing", "/metrics"):
        assert routes.find(path, "GET") is None, path
    assert FREE_FORM_PREFIXES == ("/wms", "/wfs", "/wmts")


def test_property_filters_come_from_the_collections_queryables(routes):
    operation = routes.find("/collections/roads/items", "GET")[0]  # type: ignore[index]
    asked: list[str] = []

    def queryables() -> set[str]:
        asked.append("roads")
        return {"name", "lanes"}

    # documented and universal names: the queryables are not even looked up
    assert unknown_parameters(["limit", "f", "lang", "bbox"], operation, queryables) == []
    assert asked == []
    assert unknown_parameters(["name", "limit", "lanes"], operation, queryables) == []
    assert unknown_parameters(["nmae", "limit", "colour", "nmae"], operation,
                              queryables) == ["nmae", "colour"]
    # a collection that does not exist: nothing refused here (its route answers 404)
    assert unknown_parameters(["nmae"], operation, lambda: None) == []
    # a route without property filters never asks
    collections = routes.find("/collections", "GET")[0]  # type: ignore[index]
    assert unknown_parameters(["name"], collections, queryables) == ["name"]
