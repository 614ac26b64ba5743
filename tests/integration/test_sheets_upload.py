"""Sheets as people fill them in (issue 16) through the real server and the real CLI, on both
stores: the upload API publishes a title-block register with DMS coordinates and totals, and a
psql export of hex EWKB; the CLI finds or takes (--header-row) the header row and refuses a
geometry column of mixed SRIDs with exit 2 and one sentence."""

from __future__ import annotations

import pytest
import requests
import shapely

from tests.conftest import Portal, admin_token, empty_portal
from tests.integration.test_admin_api import publish
from tests.unit.test_sheets import STATIONS, TO_CRS84, ewkt_rows, messy_register, stations

COUNTRY = "0000000000"
pytestmark = pytest.mark.skipif(not STATIONS.is_file(), reason="the shared real data is absent")


portal = empty_portal("sheets")
admin = admin_token("admin")


def _items(portal: Portal, layer_id: str) -> list[dict]:
    page = requests.get(f"{portal.url}/collections/{layer_id}/items",
                        params={"f": "json", "limit": 500}, timeout=30)
    assert page.status_code == 200, page.text
    return page.json()["features"]


def _check(features: list[dict], expected: list[dict], name: str) -> None:
    """Each published point against pyproj's CRS84 of what the source says (1e-6 degrees),
    found by its name as the source wrote it."""
    by_name = {f["properties"][name]: f["geometry"]["coordinates"] for f in features}
    assert sorted(by_name) == sorted(w["name"] for w in expected)
    for want in expected:
        lon, lat = TO_CRS84.transform(want["lon"], want["lat"])
        assert by_name[want["name"]] == pytest.approx([lon, lat], abs=1e-6)


def test_upload_of_a_register_with_title_block_dms_and_totals(portal, admin, tmp_path):
    path = tmp_path / "register.xlsx"
    expected = messy_register(path, stations(20, start=20))
    job = publish(portal, admin, "register-upload", COUNTRY, path.name, path.read_bytes(),
                  source={"path": path.name})
    assert job["state"] == "done", job
    report = job["report"]
    assert "header row 4 (rows 1-3: title)" in report["notes"]
    assert report["features_published"] == 20
    assert report["set_aside"] == {
        "a totals or notes row, not a feature: 'Усяго: 20'": 1,
        "a totals or notes row, not a feature: 'Заўвага: каардынаты паводле OSM'": 1}
    features = _items(portal, "register-upload")
    _check(features, [{**w, "name": w["be"]} for w in expected], "nazva")
    assert {f["properties"]["data_absledavannia"] for f in features} == {
        w["date"].isoformat() for w in expected}


def test_upload_of_a_psql_export_of_hex_ewkb(portal, admin):
    rows, points = ewkt_rows(12)
    text = "gid|name|geom\n" + "".join(
        f"{i}|{n}|{shapely.to_wkb(shapely.set_srid(shapely.Point(x, y), 32635), hex=True, include_srid=True)}\n"  # noqa: E501
        for i, (n, x, y) in enumerate(rows))
    job = publish(portal, admin, "ewkb-upload", COUNTRY, "export.csv", text.encode(),
                  source={"path": "export.csv"})
    assert job["state"] == "done", job
    assert job["report"]["source_crs"] == "EPSG:32635"
    assert "CRS: SRID=32635 in the geometry column 'geom'" in job["report"]["notes"]
    by_name = {f["properties"]["name"]: f["geometry"]["coordinates"]
               for f in _items(portal, "ewkb-upload")}
    for (name, _, _), (lon, lat) in zip(rows, points, strict=True):
        assert by_name[name] == pytest.approx([lon, lat], abs=1e-6)


def test_upload_of_mixed_srids_is_rejected_with_the_srids_named(portal, admin):
    text = "name,wkt\na,SRID=32635;POINT(500000 5970000)\nb,SRID=4326;POINT(27.5 53.9)\n"
    job = publish(portal, admin, "mixed-srid", COUNTRY, "mixed.csv", text.encode(),
                  source={"path": "mixed.csv"})
    assert job["state"] == "rejected", job
    assert "mixed.csv: the geometry column 'wkt' mixes SRID=4326, SRID=32635" in job["error"]
    for language, words in (("be", "у слупку геаметрыі 'wkt' змешаны"),
                            ("ru", "в столбце геометрии 'wkt' смешаны")):
        said = requests.get(f"{portal.url}/admin/jobs/{job['id']}", timeout=30,
                            headers={"Authorization": f"Bearer {admin}",
                                     "Accept-Language": language}).json()
        assert said["error"].startswith(f"mixed.csv: {words} SRID=4326, SRID=32635"), said


def test_cli_header_row_found_forced_and_refused(portal, tmp_path):
    years = tmp_path / "years.csv"
    rows = stations(5, start=60)
    years.write_text("Рэестр станцый\nНазва;2024;Шырата;Даўгата\n" + "".join(
        f"{r['Па-беларуску правільнае']};{i};{r['lat'].replace('.', ',')};"
        f"{r['lon'].replace('.', ',')}\n" for i, r in enumerate(rows)), encoding="utf-8")
    refused = portal.cli("ingest", str(years), "--id", "years-cli", check=False)
    assert refused.returncode == 2, refused.stderr
    assert "years.csv: no coordinate columns were found among" in refused.stderr
    assert "header_row" in refused.stderr or "--header-row" in refused.stderr
    done = portal.cli("ingest", str(years), "--id", "years-cli", "--header-row", "2",
                      check=False)
    assert done.returncode == 0, done.stderr
    assert "note: header row 2 (row 1: " in done.stdout  # the CLI says it was given there
    _check(_items(portal, "years-cli"),
           [{"name": r["Па-беларуску правільнае"], "lon": float(r["lon"]),
             "lat": float(r["lat"])} for r in rows], "nazva")
    beyond = portal.cli("ingest", str(years), "--id", "years-cli", "--header-row", "40",
                        check=False)
    assert beyond.returncode == 2
    assert "years.csv: " in beyond.stderr and "40 is beyond the 7 rows read" in beyond.stderr


def test_cli_dms_register_and_mixed_srids(portal, tmp_path):
    path = tmp_path / "dms.xlsx"
    expected = messy_register(path, stations(12, start=150))
    done = portal.cli("ingest", str(path), "--id", "dms-cli", check=False)
    assert done.returncode == 0, done.stderr
    assert "header row 4 (rows 1-3: title)" in done.stdout
    assert "a totals or notes row, not a feature: 'Усяго: 12'" in done.stdout
    _check(_items(portal, "dms-cli"), [{**w, "name": w["be"]} for w in expected], "nazva")
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("name,wkt\na,SRID=32635;POINT(500000 5970000)\n"
                     "b,SRID=4326;POINT(27.5 53.9)\n", encoding="utf-8")
    refused = portal.cli("ingest", str(mixed), check=False)
    assert refused.returncode == 2
    assert "mixed.csv: the geometry column 'wkt' mixes SRID=4326, SRID=32635; export it " \
           "in one SRID" in refused.stderr
