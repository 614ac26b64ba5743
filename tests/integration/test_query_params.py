"""Unknown query parameters get 400 naming them (OGC API - Features /req/core/query-param-unknown),
through the real server on both stores; and the answers the OpenAPI conformance run found wrong."""

from __future__ import annotations

import requests

UNKNOWN = "unknown query parameter"


def _get(portal, path: str, **params: str) -> requests.Response:
    return requests.get(f"{portal.url}{path}", params=params, timeout=30)


def _refused(response: requests.Response) -> str:
    """The description of an unknown-parameter 400 (JSON, the portal's exception shape)."""
    assert response.status_code == 400, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "InvalidParameterValue"
    return body["description"]


def test_an_unknown_parameter_of_items_is_refused_and_named(portal):
    said = _refused(_get(portal, "/collections/cities/items", limit="1", colour="red"))
    assert said.startswith(f"{UNKNOWN} 'colour';")
    # the parameters the route takes are listed, the layer's queryables among them
    assert "bbox" in said and "limit" in said and "name_ru" in said and "pop_latest" in said


def test_unknown_parameters_of_collections_are_all_named(portal):
    said = _refused(_get(portal, "/collections", foo="1", bar="2", limit="5"))
    assert "'foo', 'bar'" in said and "unknown query parameters" in said
    assert said.endswith("/collections takes: f, lang, limit, offset")


def test_a_queryable_as_a_property_filter_is_taken(portal):
    response = _get(portal, "/collections/cities/items", name_ru="Минск", f="json")
    assert response.status_code == 200, response.text
    names = [f["properties"]["name_ru"] for f in response.json()["features"]]
    assert names == ["Минск"]


def test_a_misspelt_property_filter_is_refused_naming_it(portal):
    said = _refused(_get(portal, "/collections/cities/items", nmae_ru="Минск"))
    assert "'nmae_ru'" in said and "name_ru" in said


def test_the_refusal_is_in_the_language_asked_for(portal):
    ru = _refused(_get(portal, "/collections/cities/items", lang="ru", colour="red"))
    be = _refused(_get(portal, "/collections/cities/items", lang="be", colour="red"))
    assert ru.startswith("неизвестный параметр запроса 'colour'")
    assert be.startswith("невядомы параметр запыту 'colour'")


def test_what_the_portal_pages_send_is_taken(portal):
    # the home page's catalog search (portal.js): q, theme, sortby and lang on the records
    catalog = _get(portal, "/collections/catalog/items", f="json", limit="50", q="горад",
                   theme="boundaries", sortby="title", lang="be")
    assert catalog.status_code == 200, catalog.text
    assert catalog.json()["type"] == "FeatureCollection"
    assert "'themes'" in _refused(_get(portal, "/collections/catalog/items", themes="x"))
    # lang on the tilesets, f on a route that documents none
    assert _get(portal, "/collections/cities/tiles/WebMercatorQuad", f="json",
                lang="be").status_code == 200
    assert _get(portal, "/collections/cities/tiles", f="json").status_code == 200
    assert _get(portal, "/search", q="Мінск", limit="8", lang="be").status_code == 200


def test_pages_for_people_and_routes_outside_the_document_are_not_checked(portal):
    # a link shared by mail gains parameters of its own: the HTML page still opens
    page = _get(portal, "/collections/cities/items", f="html", utm_source="mail")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert _get(portal, "/", f="html", fbclid="x").status_code == 200
    assert _get(portal, "/healthz", probe="1").status_code == 200
    # a collection that does not exist is a 404, whatever its parameters
    assert _get(portal, "/collections/no-such-layer/items", colour="red").status_code == 404
    # the OGC KVP services take vendor parameters: not this check's to refuse (a WMS may
    # still answer 400 for its own reasons, in its own exception format)
    wms = _get(portal, "/wms", anything="1", SERVICE="WMS", REQUEST="GetCapabilities")
    assert UNKNOWN not in wms.text


def test_answers_the_conformance_run_found_wrong_are_right(portal):
    # the catalog as CSV was a 500 (pygeoapi's CSV of records); now a 400 that says why
    csv = _get(portal, "/collections/catalog/items", f="csv")
    assert csv.status_code == 400 and "CSV" in csv.json()["description"]
    # an integer no store holds was an overflow (500)
    big = _get(portal, "/collections/cities/items", pop_latest="9" * 30)
    assert big.status_code == 400 and "pop_latest" in big.json()["description"]
    # an empty page as JSON-LD was invalid JSON (a comma before a missing member)
    empty = _get(portal, "/collections/cities/items", f="jsonld", name_ru="Атлантыда")
    assert empty.status_code == 200 and empty.json()["type"] == "FeatureCollection"
    assert "features" not in empty.json()
