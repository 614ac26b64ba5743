"""A layer published a moment ago is served at once, whatever the catalog poll interval: an
admin's script uploads (or ingests) and then reads (issue 16: the upload tests met a 404)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import shapely

from tests.conftest import BACKENDS, Portal, write_geojson


@pytest.fixture(scope="module", params=BACKENDS)
def slow_poll(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
              ) -> Iterator[Portal]:
    """A portal whose workers look at the catalog only once an hour on their own."""
    database_url = None
    if request.param == "postgis":
        database_url = request.getfixturevalue("postgres").new_database()
    server = Portal(tmp_path_factory.mktemp("fresh") / "var", database_url)
    server.env["GEOPORTAL_CATALOG_POLL_SECONDS"] = "3600"
    server.cli("init")
    server.start()
    yield server
    server.stop()


def test_a_layer_published_after_start_is_served_at_once(slow_poll: Portal, tmp_path: Path):
    assert requests.get(f"{slow_poll.url}/collections", timeout=30).status_code == 200
    missing = requests.get(f"{slow_poll.url}/collections/fresh-points/items", timeout=30)
    assert missing.status_code == 404  # the workers now hold a generation without it
    source = write_geojson(tmp_path / "fresh.geojson",
                           [({"name": "Мір"}, shapely.Point(26.47, 53.45))])
    slow_poll.cli("ingest", str(source), "--id", "fresh-points")
    for _ in range(4):  # every worker, whichever answers
        r = requests.get(f"{slow_poll.url}/collections/fresh-points/items",
                         params={"f": "json"}, timeout=30)
        assert r.status_code == 200, r.text
        assert [f["properties"]["name"] for f in r.json()["features"]] == ["Мір"]


def test_downloads_and_tiles_of_a_new_layer_are_served_at_once(slow_poll: Portal,
                                                               tmp_path: Path):
    assert requests.get(f"{slow_poll.url}/collections", timeout=30).status_code == 200
    source = write_geojson(tmp_path / "lida.geojson",
                           [({"name": "Ліда"}, shapely.Point(25.30, 53.89))])
    slow_poll.cli("ingest", str(source), "--id", "fresh-download")
    for _ in range(4):  # no items request comes first: the download itself finds the layer
        r = requests.get(f"{slow_poll.url}/collections/fresh-download/download",
                         params={"f": "geojson"}, timeout=30)
        assert r.status_code == 200, r.text
        assert [f["properties"]["name"] for f in r.json()["features"]] == ["Ліда"]
    slow_poll.cli("ingest", str(source), "--id", "fresh-tiles")
    tilesets = requests.get(f"{slow_poll.url}/collections/fresh-tiles/tiles", timeout=30)
    assert tilesets.status_code == 200, tilesets.text
