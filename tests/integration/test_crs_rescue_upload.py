"""CRS rescues through the real CLI and the upload API (gunicorn, both stores): a declared CRS84
with latitude first is published swapped; a file two candidate CRSs fit is settled by the
gazetteer when its features carry place names, and refused naming both when they do not.
Published positions are read back over HTTP and checked against pyproj."""

from __future__ import annotations

import io
import time
import zipfile

import numpy as np
import requests

from tests.conftest import Portal, admin_token, empty_portal
from tests.integration.test_admin_api import publish as upload_and_wait
from tests.unit.test_crs_rescue import (
    cities,
    crs84_geojson,
    expected_lonlat,
    needs_data,
    settlements_csv,
    settlements_shapefile,
)

COUNTRY = "0000000000"
pytestmark = needs_data


portal = empty_portal("crs")
admin = admin_token("admin")


def items(portal: Portal, layer_id: str) -> list[dict]:
    """The layer's features as served (another worker may need up to catalog_poll_seconds to
    learn of a layer just published)."""
    deadline = time.monotonic() + 10
    while True:
        r = requests.get(f"{portal.url}/collections/{layer_id}/items",
                         params={"f": "json", "limit": 1000}, timeout=60)
        if r.status_code != 404 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert r.status_code == 200, r.text
    return r.json()["features"]


def lonlat(features: list[dict]) -> np.ndarray:
    return np.array([f["geometry"]["coordinates"] for f in features], dtype=float)


def by_field(features: list[dict], field: str) -> list[dict]:
    return sorted(features, key=lambda f: f["properties"][field])


# -- through the CLI ---------------------------------------------------------------------

def test_cli_publishes_a_utm35_shapefile_without_prj_settled_by_its_place_names(portal,
                                                                                tmp_path):
    src, xy, names = settlements_shapefile(tmp_path / "naselennye.shp", 32635)
    done = portal.cli("ingest", str(src), "--id", "cli-naselennye", "--region", COUNTRY,
                      check=False)
    assert done.returncode == 0, done.stderr
    assert "settled by the gazetteer: 94 names within 2 km under EPSG:32635" in done.stdout
    got = by_field(items(portal, "cli-naselennye"), "nomer")
    assert [f["properties"]["nazvanie"] for f in got] == names
    assert np.abs(lonlat(got) - expected_lonlat(xy, 32635)).max() < 1e-6


def test_cli_publishes_a_crs84_geojson_with_latitude_first_swapped(portal, tmp_path):
    rows = cities()
    src = crs84_geojson(tmp_path / "goroda.geojson", rows, lat_first=[True] * len(rows))
    done = portal.cli("ingest", str(src), "--id", "cli-goroda", "--region", COUNTRY,
                      check=False)
    assert done.returncode == 0, done.stderr
    assert "declared CRS84, coordinates are lat/lon: swapped" in done.stdout
    got = items(portal, "cli-goroda")
    order = {r["name_be"]: (r["lon"], r["lat"]) for r in rows}
    assert sorted(f["properties"]["name"] for f in got) == sorted(order)
    want = np.array([order[f["properties"]["name"]] for f in got])
    assert np.abs(lonlat(got) - want).max() < 1e-6


def test_cli_refuses_settlements_without_names_naming_both_candidates(portal, tmp_path):
    src, _, _ = settlements_csv(tmp_path / "bez_imen.csv", 32635, name_column=None)
    done = portal.cli("ingest", str(src), "--id", "cli-bez-imen", "--region", COUNTRY,
                      check=False)
    assert done.returncode == 2, done.stderr
    (error,) = [line for line in done.stderr.splitlines() if "no CRS declared" in line]
    assert "bez_imen.csv: no CRS declared and the coordinates fit several" in error
    assert "EPSG:32635" in error and "EPSG:2495" in error
    assert "--crs" in error or "source.crs" in error  # helper E names the CLI option
    assert "Traceback" not in done.stderr
    assert requests.get(f"{portal.url}/collections/cli-bez-imen", timeout=30).status_code == 404


# -- through the upload API ----------------------------------------------------------------

def test_upload_of_a_gauss_kruger_csv_with_names_is_settled_and_published(portal, admin,
                                                                          tmp_path):
    src, xy, names = settlements_csv(tmp_path / "garady.csv", 2495)
    job = upload_and_wait(portal, admin, "up-garady", COUNTRY, src.name, src.read_bytes(),
                          source={"path": src.name})
    assert job["state"] == "done", job
    (note,) = [n for n in job["report"]["notes"] if n.startswith("settled by the gazetteer")]
    assert note.startswith("settled by the gazetteer: 94 names within 2 km under EPSG:2495 (")
    assert job["report"]["source_crs"] == "EPSG:2495"
    got = by_field(items(portal, "up-garady"), "population")
    assert [f["properties"]["nazva"] for f in got] == names
    assert np.abs(lonlat(got) - expected_lonlat(xy, 2495)).max() < 1e-6


def test_upload_of_a_zipped_utm35_shapefile_declaring_crs_with_northing_first(portal, admin,
                                                                              tmp_path):
    _, xy, names = settlements_shapefile(tmp_path / "punkty.shp", 32635, swap=True, prj=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for part in sorted(tmp_path.glob("punkty.*")):
            zf.write(part, part.name)
    job = upload_and_wait(portal, admin, "up-punkty", COUNTRY, "punkty.zip", buffer.getvalue(),
                          source={"path": "punkty.zip"})
    assert job["state"] == "done", job
    assert any(n.startswith("declared EPSG:32635, coordinates are northing/easting: swapped")
               for n in job["report"]["notes"]), job["report"]["notes"]
    got = by_field(items(portal, "up-punkty"), "nomer")
    assert [f["properties"]["nazvanie"] for f in got] == names
    assert np.abs(lonlat(got) - expected_lonlat(xy, 32635)).max() < 1e-6


def test_upload_of_settlements_with_names_out_of_place_is_rejected_naming_both(portal, admin,
                                                                               tmp_path):
    rows = cities()
    names = [r["name_be"] for r in rows[1:]] + [rows[0]["name_be"]]  # each one row off
    src, _, _ = settlements_csv(tmp_path / "pereputany.csv", 32635, names=names)
    job = upload_and_wait(portal, admin, "up-pereputany", COUNTRY, src.name, src.read_bytes(),
                          source={"path": src.name})
    assert job["state"] == "rejected" and job["status"] == 422, job
    assert "EPSG:32635" in job["error"] and "EPSG:2495" in job["error"]
    assert "do not settle it" in job["error"]
    assert "set source.crs in the manifest" in job["error"]
    assert requests.get(f"{portal.url}/collections/up-pereputany", timeout=30).status_code == 404
