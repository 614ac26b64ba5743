"""CQL2 filtering through the real server (both stores), checked against the source data."""

from __future__ import annotations

import json
import zipfile

import pyogrio
import pytest
import requests

from tests.conftest import LAYERS_DIR


def _cities() -> list[dict]:
    """The cities sample as read from its own zip: the expectations come from the source."""
    path = LAYERS_DIR / "by" / "cities.zip"
    with zipfile.ZipFile(path) as zf:
        shp = next(n for n in zf.namelist() if n.endswith(".shp"))
    return pyogrio.read_arrow(f"/vsizip/{path}/{shp}", encoding="CP1251")[1].drop_columns(
        ["wkb_geometry"]).to_pylist()


def _items(portal, **params) -> requests.Response:
    return requests.get(f"{portal.url}/collections/cities/items",
                        params={"f": "json", "limit": 1000, **params}, timeout=30)


def _names(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(f["properties"]["name_ru"] for f in response.json()["features"])


def test_comparison_in_cql2_text_matches_the_source(portal):
    expected = sorted(c["name_ru"] for c in _cities() if c["pop_latest"] > 100_000)
    response = _items(portal, filter="pop_latest > 100000")
    assert _names(response) == expected and len(expected) > 5
    assert response.json()["numberMatched"] == len(expected)


def test_the_same_filter_as_cql2_json_in_the_query_string(portal):
    expected = sorted(c["name_ru"] for c in _cities() if c["pop_latest"] > 100_000)
    cql2 = {"op": ">", "args": [{"property": "pop_latest"}, 100000]}
    assert _names(_items(portal, **{"filter": json.dumps(cql2),
                                    "filter-lang": "cql2-json"})) == expected


def test_like_in_and_between_and_case_insensitive_cyrillic(portal):
    cities = _cities()
    assert _names(_items(portal, filter="name_ru LIKE 'Мо%'")) == sorted(
        c["name_ru"] for c in cities if c["name_ru"].startswith("Мо"))
    assert _names(_items(portal, filter="name_ru IN ('Минск', 'Брест')")) == ["Брест", "Минск"]
    assert _names(_items(portal, filter="pop_latest BETWEEN 300000 AND 400000")) == sorted(
        c["name_ru"] for c in cities if 300_000 <= c["pop_latest"] <= 400_000)
    assert _names(_items(portal, filter="CASEI(name_ru) = CASEI('МИНСК')")) == ["Минск"]


def test_spatial_filter_with_bbox_and_sorting(portal):
    # The same rectangle as a CQL2 polygon and as a bbox parameter: the same cities.
    area = "POLYGON((27.3 53.7, 27.9 53.7, 27.9 54.1, 27.3 54.1, 27.3 53.7))"
    inside = _names(_items(portal, filter=f"S_INTERSECTS(geometry, {area})"))
    assert inside == _names(_items(portal, bbox="27.3,53.7,27.9,54.1")) and "Минск" in inside
    outside = _names(_items(portal, filter=f"NOT S_INTERSECTS(geometry, {area})"))
    assert len(inside) + len(outside) == 94 and not set(inside) & set(outside)
    response = _items(portal, filter="pop_latest > 50000", bbox="23,51,26,54",
                      sortby="-pop_latest")
    pops = [f["properties"]["pop_latest"] for f in response.json()["features"]]
    assert pops == sorted(pops, reverse=True) and all(p > 50_000 for p in pops) and pops


@pytest.mark.parametrize(("params", "message"), [
    ({"filter": "pop_latest >"}, "filter is not valid cql2-text"),
    ({"filter": "no_such_field = 1"}, "no_such_field"),
    ({"filter": "pop_latest = 'many'"}, "pop_latest"),
    ({"filter": "{\"op\": \">\""}, "filter is not valid JSON"),
    ({"filter": "a = 1", "filter-lang": "sql"}, "filter-lang 'sql' is not supported"),
])
def test_bad_filters_are_400s_that_say_what_is_wrong(portal, params, message):
    response = _items(portal, **params)
    assert response.status_code == 400, response.text
    assert message in response.json()["description"]


@pytest.mark.parametrize("attempt", [
    "name_ru = 'x; DROP TABLE cities; --'",
    "name_ru = 'x'' OR 1=1; --'",  # pygeofilter cannot parse '' escapes: refused, not run
    "pop_latest > 0; DELETE FROM cities",
])
def test_an_injection_attempt_is_a_string_or_a_400(portal, attempt):
    response = _items(portal, filter=attempt)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        assert response.json()["numberReturned"] == 0
    assert _items(portal).json()["numberReturned"] == 94


def test_conformance_declares_filtering_and_editing(portal):
    conforms = requests.get(f"{portal.url}/conformance", params={"f": "json"},
                            timeout=30).json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in conforms
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json" in conforms
    part4 = {c.rsplit("/", 1)[1] for c in conforms if "ogcapi-features-4" in c}
    assert part4 == {"create-replace-delete", "update", "optimistic-locking-etags", "features"}


def test_filter_crs_takes_geometries_in_that_crs_axis_order(portal):
    # EPSG:28405 is northing first: (x=north, y=east), as the OGC requires for filter-crs.
    import pyproj

    to_gk = pyproj.Transformer.from_crs("OGC:CRS84", 28405, always_xy=True)
    (e1, e2), (n1, n2) = to_gk.transform([27.3, 27.9], [53.7, 54.1])
    ring = [(n1, e1), (n1, e2), (n2, e2), (n2, e1), (n1, e1)]
    polygon = "POLYGON((" + ", ".join(f"{a:.1f} {b:.1f}" for a, b in ring) + "))"
    names = _names(_items(portal, **{
        "filter": f"S_INTERSECTS(geometry, {polygon})",
        "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/28405"}))
    assert "Минск" in names and "Брест" not in names


def test_datetime_parameter_on_a_layer_with_a_date_field(portal, tmp_path):
    import time

    from tests.conftest import write_manifest

    (tmp_path / "repairs.csv").write_text(
        "lon;lat;street;opened\n27,55;53,90;Leninа;01.03.2024\n27,56;53,91;Nemiga;15.06.2024\n"
        "27,57;53,92;Surganova;20.11.2025\n", encoding="utf-8")
    portal.cli("ingest", str(write_manifest(tmp_path, "repairs-dt", {"path": "repairs.csv"})))
    url = f"{portal.url}/collections/repairs-dt/items"
    deadline = time.monotonic() + 10
    while requests.get(url, params={"f": "json"}, timeout=30).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.2)

    def streets(value: str) -> list[str]:
        response = requests.get(url, params={"f": "json", "datetime": value}, timeout=30)
        assert response.status_code == 200, response.text
        return sorted(f["properties"]["street"] for f in response.json()["features"])

    assert streets("2024-06-15") == ["Nemiga"]
    assert streets("2024-01-01/2024-12-31") == ["Leninа", "Nemiga"]
    assert streets("2025-01-01T00:00:00Z/..") == ["Surganova"]
    assert streets("../2024-03-01") == ["Leninа"]
    bad = requests.get(url, params={"f": "json", "datetime": "yesterday"}, timeout=30)
    assert bad.status_code == 400 and "datetime" in bad.json()["description"]
    none = requests.get(f"{portal.url}/collections/cities/items",
                        params={"f": "json", "datetime": "2024-01-01"}, timeout=30)
    assert none.status_code == 400 and "no date or time field" in none.json()["description"]
