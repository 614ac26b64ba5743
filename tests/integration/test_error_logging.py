"""Errors through the real server (issue 18): a store failure behind ``/items`` is a 500 that
the log holds once, at ERROR, with the request's id and the traceback down to the store's own
error, whichever of pygeoapi or our handlers answered it; client mistakes on the Records API
(``datetime``, ``bbox``, paging, sorting, a long ``q``) are 4xx, never 5xx, and not logged as
errors.

The store failure is real: the layer's table is dropped behind the server's back (the
GeoPackage's table with sqlite3, the PostGIS table with DROP TABLE)."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import requests
import shapely

from tests.conftest import Portal, empty_portal, write_geojson, write_manifest

pytestmark = pytest.mark.integration

CATALOG_ITEMS = "/collections/catalog/items"


portal = empty_portal("errors")


@pytest.fixture(scope="module", autouse=True)
def _kept_layer(portal: Portal, tmp_path_factory: pytest.TempPathFactory) -> None:
    """One intact layer, so that the catalog has a record and a route answers as usual."""
    _ingest(portal, tmp_path_factory.mktemp("kept"), "kept-points")


def _ingest(portal: Portal, folder: Path, layer: str) -> None:
    source = write_geojson(folder / f"{layer}.geojson", [
        ({"name": f"p{i}"}, shapely.Point(27.5 + i * 1e-3, 53.9)) for i in range(5)])
    portal.cli("ingest", str(write_manifest(folder, layer, {"path": str(source)})))


def _drop_layer_table(portal: Portal, layer: str) -> None:
    """Drop the current version's table of ``layer`` from the store, as a failing disk or a
    careless operator would: the catalog still names it."""
    if portal.backend == "postgis":
        with psycopg.connect(portal.env["GEOPORTAL_DATABASE_URL"], autocommit=True) as conn:
            ref = conn.execute("SELECT store_ref FROM versions WHERE layer_id = %s AND "
                               "status = 'current'", (layer,)).fetchone()[0]
            conn.execute(f"DROP TABLE {ref}")
        return
    with sqlite3.connect(portal.data_dir / "catalog.sqlite") as catalog:
        ref = catalog.execute("SELECT store_ref FROM versions WHERE layer_id = ? AND "
                              "status = 'current'", (layer,)).fetchone()[0]
    gpkg = sqlite3.connect(portal.data_dir / "store" / ref)
    try:
        table = gpkg.execute("SELECT table_name FROM gpkg_contents").fetchone()[0]
        gpkg.execute(f'DROP TABLE "{table}"')
        gpkg.commit()
    finally:
        gpkg.close()


def _new_lines(portal: Portal, start: int, request_id: str) -> list[str]:
    """The server's log lines written after byte ``start``, once the access line of
    ``request_id`` is among them (the error line is written before it)."""
    log = portal.data_dir / "server.out"
    deadline = time.monotonic() + 10
    while True:
        with log.open("rb") as f:
            f.seek(start)
            lines = f.read().decode("utf-8", "replace").splitlines()
        if any(f"request_id={request_id} method=" in line for line in lines) \
                or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


@pytest.mark.parametrize("path", ["items?limit=3", "items?limit=3&f=html", "items/1"])
def test_a_store_failure_is_a_500_logged_once_with_its_request_id(
        portal: Portal, tmp_path: Path, path: str) -> None:
    layer = f"broken-{uuid.uuid4().hex[:8]}"
    _ingest(portal, tmp_path, layer)
    url = f"{portal.url}/collections/{layer}/{path}"
    # not read before: a GeoPackage already open in a worker thread is read as it was (the
    # store opens published files immutable), so the drop shows on a first read
    _drop_layer_table(portal, layer)
    request_id = f"err{uuid.uuid4().hex[:12]}"
    start = (portal.data_dir / "server.out").stat().st_size
    response = requests.get(url, headers={"X-Request-Id": request_id}, timeout=30)
    assert response.status_code == 500, response.text
    assert response.headers["X-Request-Id"] == request_id
    assert "Traceback" not in response.text
    # the answer says only that the layer is unreadable (pygeoapi's routes) or gives the
    # request id to quote (ours): no table, file or path of the portal's
    assert layer.replace("-", "_") not in response.text
    assert ".gpkg" not in response.text and "features." not in response.text
    if path == "items/1":
        assert request_id in response.json()["description"]
    lines = _new_lines(portal, start, request_id)
    errors = [line for line in lines if "level=ERROR" in line]
    assert len(errors) == 1, errors  # ours only: not pygeoapi's as well
    assert f"request_id={request_id} " in errors[0]
    assert "Traceback (most recent call last)" in errors[0]
    # the traceback reaches the store's own failure, not only pygeoapi's wrapper
    assert "StorageError" in errors[0] or "no such table" in errors[0], errors[0]
    assert sum("Traceback" in line for line in lines) == 1
    # the same route on an intact layer still answers
    intact = requests.get(url.replace(layer, "kept-points"), timeout=30)
    assert intact.status_code == 200, intact.text


@pytest.mark.parametrize("value", ["garbage", "2020-13-45", "9999999-01-01", "10000-01-01",
                                   "2020-01-01T25:00:00Z", "2020-01-01/garbage",
                                   "2021-01-01/2020-01-01", "2" * 5000])
def test_records_datetime_that_is_no_date_is_a_400_naming_it(portal: Portal,
                                                             value: str) -> None:
    request_id = f"dt{uuid.uuid4().hex[:12]}"
    start = (portal.data_dir / "server.out").stat().st_size
    response = requests.get(f"{portal.url}{CATALOG_ITEMS}", params={"datetime": value},
                            headers={"X-Request-Id": request_id}, timeout=30)
    assert response.status_code == 400, response.text
    description = response.json()["description"]
    assert "datetime" in description and value[:40] in description, description
    lines = _new_lines(portal, start, request_id)
    assert not [line for line in lines if "level=ERROR" in line]  # a client's mistake


def test_records_datetime_in_range_still_finds_records(portal: Portal) -> None:
    response = requests.get(f"{portal.url}{CATALOG_ITEMS}",
                            params={"datetime": "2000-01-01/..", "f": "json"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["numberMatched"] >= 1


@pytest.mark.parametrize("params", [
    {"bbox": "abc"}, {"bbox": "1,2,3"}, {"bbox": "nan,nan,nan,nan"}, {"bbox": "1,2,3,inf"},
    {"bbox": "1e400,0,0,0"}, {"limit": "-1"}, {"limit": "abc"}, {"offset": "-1"},
    {"sortby": "nonexistent"}, {"sortby": "-"}, {"properties": "nonexistent"},
    {"f": "nonexistent"}, {"bbox-crs": "nonexistent", "bbox": "1,2,3,4"}])
def test_records_garbage_parameters_are_400(portal: Portal, params: dict[str, str]) -> None:
    response = requests.get(f"{portal.url}{CATALOG_ITEMS}", params=params, timeout=30)
    assert response.status_code == 400, response.text
    assert response.json()["description"]


@pytest.mark.parametrize("params", [
    {"q": "a" * 8000}, {"q": "ab " * 2600}, {"limit": "9" * 30}, {"offset": "9" * 30},
    {"bbox": "23,51,0,33,56,100"}])
def test_records_extreme_but_valid_parameters_answer(portal: Portal,
                                                    params: dict[str, str]) -> None:
    response = requests.get(f"{portal.url}{CATALOG_ITEMS}", params=params, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["type"] == "FeatureCollection"


def test_a_q_longer_than_the_request_line_allows_is_a_414(portal: Portal) -> None:
    """10,000 characters of ``q``: the server's request-line limit answers, not the search."""
    response = requests.get(f"{portal.url}{CATALOG_ITEMS}", params={"q": "a" * 10_000},
                            timeout=30)
    assert response.status_code == 414, response.text


@pytest.mark.parametrize("collection", ["catalog", "kept-points"])
def test_a_six_number_bbox_selects_what_its_four_plane_numbers_do(portal: Portal,
                                                                  collection: str) -> None:
    """minlon,minlat,minheight,maxlon,maxlat,maxheight, on the Records and the Features
    collections alike: the heights are not the plane's edges."""
    url = f"{portal.url}/collections/{collection}/items"
    four = requests.get(url, params={"bbox": "27.5005,53,28,54"}, timeout=30).json()
    six = requests.get(url, params={"bbox": "27.5005,53,0,28,54,0"}, timeout=30).json()
    assert four["numberMatched"] >= 1
    assert six["numberMatched"] == four["numberMatched"]
    assert [f["id"] for f in six["features"]] == [f["id"] for f in four["features"]]
