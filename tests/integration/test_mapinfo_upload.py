"""MapInfo and DXF through the upload API of a real server, on both stores (issue 16, A).

A zipped TAB is published with its CRS and names; a loose .tab or .mif is refused with
what to zip; a zip of several tables wants source.layer (the answer lists them); a DXF
needs no more than the file; a file that only pretends to be a DXF is refused before GDAL.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
import requests

from tests.conftest import Portal, admin_token, empty_portal
from tests.integration.test_admin_api import publish, upload
from tests.unit.test_mapinfo import cities, expected_lonlat, needs_data, parts, write_table

pytestmark = [needs_data, pytest.mark.filterwarnings("ignore:.crs. was not provided")]
COUNTRY = "0000000000"


portal = empty_portal("mapinfo")
token = admin_token()


def _zip(*mains: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for main in mains:
            for part in parts(main):
                zf.write(part, part.name)
    return buffer.getvalue()


def _items(portal: Portal, layer_id: str) -> list[dict]:
    return requests.get(f"{portal.url}/collections/{layer_id}/items",
                        params={"f": "json", "limit": 1000}, timeout=60).json()["features"]


def test_a_zipped_cp1251_tab_is_published_with_its_crs_and_names(portal, token, tmp_path):
    xy = write_table(tmp_path / "гарады.tab", 28405)
    job = publish(portal, token, "tab-cities", COUNTRY, "гарады.zip", _zip(tmp_path / "гарады.tab"))
    assert job["state"] == "done", job
    report = job["report"]
    assert (report["source_crs"], report["crs_origin"], report["encoding"]) == (
        "EPSG:28405", "file", "CP1251")
    assert report["crs_reason"].endswith("in гарады.tab = EPSG:28405 (Pulkovo 1942 / "
                                         "Gauss-Kruger zone 5)")
    want = {r["name_be"]: p for r, p in zip(cities(), expected_lonlat(xy, 28405), strict=True)}
    got = _items(portal, "tab-cities")
    assert {f["properties"]["name_be"] for f in got} == set(want)
    for feature in got:
        lon, lat = feature["geometry"]["coordinates"]
        expected = want[feature["properties"]["name_be"]]
        assert abs(lon - expected[0]) < 1e-6 and abs(lat - expected[1]) < 1e-6


@pytest.mark.parametrize(("name", "words"), [
    ("гарады.tab", "zip the .tab with its .dat/.map/.id and upload the zip"),
    ("roads.MIF", "zip the .mif with its .mid and upload the zip"),
])
def test_a_loose_mapinfo_file_is_refused_with_what_to_zip(portal, token, tmp_path, name, words):
    write_table(tmp_path / "t.tab", 28405)
    r = upload(portal, token, json.dumps({"id": "loose", "region": COUNTRY, "theme": "other",
                                          "title": "x", "source": {"path": "x"}}),
               name, (tmp_path / "t.tab").read_bytes())
    assert r.status_code == 422, r.text
    assert words in r.json()["description"]


def test_a_zip_of_two_tables_wants_source_layer(portal, token, tmp_path):
    write_table(tmp_path / "goroda.tab", 28405)
    xy = write_table(tmp_path / "goroda_utm.mif", 32635)
    content = _zip(tmp_path / "goroda.tab", tmp_path / "goroda_utm.mif")
    job = publish(portal, token, "two-tables", COUNTRY, "raion.zip", content)
    assert job["state"] == "rejected" and job["status"] == 400, job
    assert "the zip holds 2 MapInfo tables (goroda, goroda_utm); name one with source.layer" in (
        job["error"])
    job = publish(portal, token, "two-tables", COUNTRY, "raion.zip", content,
                  source={"path": "raion.zip", "layer": "goroda_utm"})
    assert job["state"] == "done", job
    assert job["report"]["source_crs"] == "EPSG:32635"
    lonlat = sorted(map(tuple, expected_lonlat(xy, 32635)))
    got = sorted(tuple(f["geometry"]["coordinates"]) for f in _items(portal, "two-tables"))
    assert max(max(abs(a - b) for a, b in zip(p, q, strict=True))
               for p, q in zip(got, lonlat, strict=True)) < 1e-6


def test_a_dxf_is_published_with_its_cad_layer(portal, token, tmp_path):
    xy = write_table(tmp_path / "cities.dxf", None, layer_field="Гарады")
    job = publish(portal, token, "cad-cities", COUNTRY, "cities.dxf",
                  (tmp_path / "cities.dxf").read_bytes())
    assert job["state"] == "done", job
    assert (job["report"]["format"], job["report"]["source_crs"]) == ("DXF", "EPSG:28405")
    got = _items(portal, "cad-cities")
    assert {f["properties"]["layer"] for f in got} == {"Гарады"}
    lonlat = sorted(map(tuple, expected_lonlat(xy, 28405)))
    coords = sorted(tuple(f["geometry"]["coordinates"]) for f in got)
    assert max(max(abs(a - b) for a, b in zip(p, q, strict=True))
               for p, q in zip(coords, lonlat, strict=True)) < 1e-6


def test_a_file_pretending_to_be_a_dxf_is_refused_before_gdal(portal, token):
    r = upload(portal, token, json.dumps({"id": "fake-dxf", "region": COUNTRY, "theme": "other",
                                          "title": "x", "source": {"path": "x"}}),
               "plan.dxf", b"<OGRVRTDataSource><OGRVRTLayer name='x'/></OGRVRTDataSource>")
    assert r.status_code == 422, r.text
    assert r.json()["description"].startswith("plan.dxf: the content is not .dxf")
