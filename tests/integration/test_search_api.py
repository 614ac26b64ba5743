"""GET /search on the real server with every sample layer (issue 19): the questions the issue
quotes, answered: a place first, "X Y" and "X near Y" giving the layers of X that cover place
Y, inflected place names, a query with nothing of its kind not failing, a too long text a 400
with a sentence in the page's language, and the route in the OpenAPI document."""

from __future__ import annotations

import requests


def _search(portal, q: str, **params: str) -> dict:
    r = requests.get(f"{portal.url}/search", params={"q": q, **params}, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    return r.json()


def test_orsha_finds_the_city_first(portal):
    body = _search(portal, "Орша", lang="ru")
    first = body["places"][0]
    assert (first["name"], first["kind"], first["layer"], first["match"]) == (
        "Орша", "city", "cities", "exact")
    lon, lat = first["point"]
    assert 30.3 < lon < 30.5 and 54.4 < lat < 54.6
    assert first["layerTitle"] == "Города Беларуси и их население"
    kinds = [p["kind"] for p in body["places"]]
    assert "station" in kinds and kinds.index("city") < kinds.index("station")
    # transliterated, and in English the name comes romanized
    latin = _search(portal, "Orsha", lang="en")["places"][0]
    assert (latin["layer"], latin["id"], latin["name"]) == ("cities", first["id"], "Orša")


def test_stations_orsha_and_railway_stations_near_orsha_find_the_railway_layer(portal):
    for q in ("станции Орша", "railway stations near Orsha", "станцыі каля Оршы",
              "станции в Орше"):
        body = _search(portal, q)
        assert [layer["id"] for layer in body["layers"]][:1] == ["railway-stations"], q
        assert body["query"]["near"] and body["places"][0]["layer"] == "cities", q
    parsed = _search(portal, "railway stations near Orsha")["query"]
    assert parsed == {"what": "railway stations", "near": "Orsha", "connector": "near"}


def test_raions_of_gomel_oblast_find_the_raions_layer(portal):
    body = _search(portal, "районы Гомельской области")
    assert body["layers"][0]["id"] == "raions"
    assert body["places"][0]["kind"] == "oblast" and body["places"][0]["match"] == "stem"
    assert body["query"] == {"what": "районы", "near": "Гомельской области",
                             "connector": None}
    # the Minsk stops do not cover Gomel oblast: "stops in Gomel oblast" finds no layer
    assert _search(portal, "stops in Gomel Oblast")["layers"] == []
    assert [lay["id"] for lay in _search(portal, "stops in Minsk")["layers"]] == ["minsk-stops"]


def test_schools_in_grodno_does_not_fail_and_shows_grodno(portal):
    body = _search(portal, "школы Гродно")
    assert body["layers"] == []  # no school layer is published
    assert body["places"][0]["kind"] == "city" and body["places"][0]["layer"] == "cities"


def test_typos_and_prefixes(portal):
    assert _search(portal, "Барановчи", lang="ru")["places"][0]["name"] == "Барановичи"
    prefix = _search(portal, "Магіл", lang="be")["places"]
    assert prefix[0]["kind"] == "oblast"  # an oblast before a city of the same prefix
    assert "Магілёў" in [p["name"] for p in prefix]


def test_too_long_text_and_bad_limit_are_400_with_a_sentence(portal):
    r = requests.get(f"{portal.url}/search", params={"q": "a" * 2000}, timeout=30)
    assert r.status_code == 400
    assert "2,000" in r.json()["description"] and "200" in r.json()["description"]
    r = requests.get(f"{portal.url}/search", params={"q": "a" * 201, "lang": "ru"}, timeout=30)
    assert r.status_code == 400 and "текст поиска" in r.json()["description"]
    r = requests.get(f"{portal.url}/search", params={"q": "Орша", "limit": "x"}, timeout=30)
    assert r.status_code == 400 and "limit" in r.json()["description"]
    assert _search(portal, "Орша", limit="1")["places"][0]["layer"] == "cities"
    assert _search(portal, "   ") == {"places": [], "layers": [], "query": {
        "what": "", "near": None, "connector": None}}


def test_the_route_is_in_the_openapi_document(portal):
    doc = requests.get(f"{portal.url}/openapi", params={"f": "json"}, timeout=30).json()
    operation = doc["paths"]["/search"]["get"]
    names = {p.get("name") for p in operation["parameters"]}
    assert {"q", "limit"} <= names
    assert {"200", "400"} <= set(operation["responses"])
    place = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert "bbox" in place["properties"]["places"]["items"]["properties"]
