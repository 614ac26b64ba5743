"""Uploads are checked against the layer's region boundary (config/boundaries.geojson grown by
boundary_tolerance_m, as Part 4 edits are), not its bbox: through the admin API with a
Grodno-scoped editor token on the real server (both stores), and through `geoportal ingest`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import BACKENDS, Portal

GRODNO_OBLAST = "4000000000"
REASON = ("outside the layer's region, Grodno Oblast (4000000000), by more than 250 m "
          "(another region's place, a wrong CRS or 0,0 coordinates?)")
# (name, lon, lat): two in Grodno oblast, then Vilnius, Bialystok and Maladzyechna (Minsk
# oblast): all three inside Grodno oblast's bbox plus the old 0.5 degree margin
PLACES = [("Grodno", 23.83, 53.68), ("Lida", 25.30, 53.89), ("Vilnius", 25.28, 54.69),
          ("Bialystok", 23.16, 53.13), ("Maladzyechna", 26.85, 54.31)]


def _geojson() -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": name},
         "geometry": {"type": "Point", "coordinates": [lon, lat]}}
        for name, lon, lat in PLACES]}).encode()


def _manifest(layer_id: str) -> str:
    return json.dumps({"id": layer_id, "region": GRODNO_OBLAST, "theme": "other",
                       "title": {"en": layer_id}, "source": {"path": "places.geojson"}})


@pytest.fixture(scope="module", params=BACKENDS)
def portal(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
           ) -> Iterator[Portal]:
    database_url = None
    if request.param == "postgis":
        database_url = request.getfixturevalue("postgres").new_database()
    server = Portal(tmp_path_factory.mktemp("region") / "var", database_url)
    server.cli("init")
    server.start()
    yield server
    server.stop()


def _names(portal: Portal, layer_id: str) -> list[str]:
    body = requests.get(f"{portal.url}/collections/{layer_id}/items",
                        params={"f": "json", "limit": 100}, timeout=30).json()
    return sorted(f["properties"]["name"] for f in body["features"])


def test_an_upload_by_a_grodno_editor_publishes_only_grodno_oblast(portal):
    token = portal.cli("token", "create", "--name", "grodno-gis",
                       "--region", GRODNO_OBLAST).stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}
    r = requests.post(f"{portal.url}/admin/layers", headers=auth, timeout=60,
                      data={"manifest": _manifest("grodno-upload")},
                      files={"file": ("places.geojson", _geojson())})
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 120
    while True:
        job = requests.get(f"{portal.url}/admin/jobs/{r.json()['id']}", headers=auth,
                           timeout=30).json()
        if job["state"] not in ("queued", "running") or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert job["state"] == "done", job
    report = job["report"]
    assert report["features_read"] == 5
    assert report["features_published"] == 2
    assert report["set_aside"] == {REASON: 3}
    assert sorted(s["row"] for s in report["set_aside_samples"]) == [3, 4, 5]
    assert _names(portal, "grodno-upload") == ["Grodno", "Lida"]


def test_the_cli_sets_aside_the_same_features(portal, tmp_path):
    (tmp_path / "places.geojson").write_bytes(_geojson())
    manifest = tmp_path / "grodno-cli.yaml"
    manifest.write_text(_manifest("grodno-cli"), encoding="utf-8")
    result = portal.cli("ingest", str(manifest), "--json")
    (report,) = json.loads(result.stdout[result.stdout.index("["):])
    assert (report["features_read"], report["features_published"]) == (5, 2)
    assert report["set_aside"] == {REASON: 3}
    assert _names(portal, "grodno-cli") == ["Grodno", "Lida"]
