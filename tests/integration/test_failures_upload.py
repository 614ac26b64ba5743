"""Broken and unusual files through the upload API (real server, both stores): the job ends
``rejected`` with the sentence and a 4xx status, or the file is refused at once with a 4xx;
the advice names the manifest's keys, which the API's client sends. A UTF-16 text without a
byte order mark is published with its names and places."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pyproj
import pytest
import requests

from tests.conftest import admin_token, empty_portal
from tests.integration.test_admin_api import _manifest, publish, upload
from tests.unit.test_failures import CORPUS, CSV_TEXT, PLACES, _fc, _point

COUNTRY = "0000000000"


portal = empty_portal("failures-upload")
token = admin_token()


def _corpus_file(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / "made"
    folder.mkdir(exist_ok=True)
    return CORPUS[name].make(folder)


def _zipped(shp: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for part in shp.parent.iterdir():
            zf.write(part, part.name)
    return buffer.getvalue()


def test_string_coordinates_are_rejected_with_the_sentence(portal, token):
    job = publish(portal, token, "str-coords", COUNTRY, "points.geojson",
                  _fc(_point("27.5", "53.9")).encode(), source={"path": "points.geojson"})
    assert job["state"] == "rejected" and job["status"] == 422, job
    assert job["error"].startswith("points.geojson: no feature can be published")
    assert 'coordinates are written as text ("27.5")' in job["error"]


def test_a_rejected_jobs_error_is_said_in_the_readers_language(portal, token, tmp_path):
    """A job's error is stored with its message id: ``?lang=`` says it in Belarusian or
    Russian, naming the file as uploaded and no folder of the server."""
    job = publish(portal, token, "str-coords-said", COUNTRY, "points.geojson",
                  _fc(_point("27.5", "53.9")).encode(), source={"path": "points.geojson"})
    assert job["state"] == "rejected", job
    said = {language: requests.get(f"{portal.url}/admin/jobs/{job['id']}",
                                   params={"lang": language}, timeout=30,
                                   headers={"Authorization": f"Bearer {token}"}).json()["error"]
            for language in ("be", "ru", "en")}
    assert said["en"] == job["error"]
    assert said["be"].startswith("points.geojson: ніводнага аб'екта нельга апублікаваць")
    assert 'каардынаты запісаны як тэкст ("27.5")' in said["be"]
    assert said["ru"].startswith("points.geojson: ни один объект нельзя опубликовать")
    # a file GDAL names by its path on the server: the error names it as uploaded
    path = _corpus_file(tmp_path, "gml cut off")
    job = publish(portal, token, "gml-cut-said", COUNTRY, path.name, path.read_bytes(),
                  source={"path": path.name})
    assert job["state"] == "rejected", job
    be = requests.get(f"{portal.url}/admin/jobs/{job['id']}", params={"lang": "be"},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30).json()["error"]
    assert be.startswith(f"{path.name}: ") and "none could be read" not in be, be
    for folder in (str(portal.data_dir), "/uploads/", str(tmp_path), tempfile.gettempdir()):
        assert folder not in be and folder not in job["error"], (folder, be)


def test_a_local_crs_is_rejected_naming_the_manifest_key(portal, token, tmp_path):
    shp = _corpus_file(tmp_path, "shp with a local .prj")
    job = publish(portal, token, "local-crs", COUNTRY, "local.zip", _zipped(shp),
                  source={"path": "local.zip"})
    assert job["state"] == "rejected" and 400 <= job["status"] < 500, job
    assert "cannot be placed on the earth" in job["error"]
    assert "set source.crs in the manifest" in job["error"]  # the API's client sends one
    assert "--crs" not in job["error"]


@pytest.mark.parametrize(("name", "says"), [
    ("gpkg whose table is empty", "table 'пустая_табліца' holds no features"),
    ("gml cut off", "none could be read"),
    ("string coordinates, no properties", "written as text"),
])
def test_broken_files_end_in_a_rejected_job_with_a_4xx(portal, token, tmp_path, name, says):
    path = _corpus_file(tmp_path, name)
    layer_id = "broken-" + path.stem.replace("_", "-")
    job = publish(portal, token, layer_id, COUNTRY, path.name, path.read_bytes(),
                  source={"path": path.name})
    assert job["state"] == "rejected" and 400 <= job["status"] < 500, job
    assert job["error"].startswith(path.name) and says in job["error"], job["error"]
    assert "internal error" not in job["error"] and "Traceback" not in job["error"]


def test_junk_under_a_data_extension_is_refused_at_once(portal, token):
    r = upload(portal, token, _manifest("junk", COUNTRY, source={"path": "junk.geojson"}),
               "junk.geojson", bytes(range(256)) * 8)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["description"].startswith("junk.geojson: ")


def test_utf16_without_bom_is_published_with_its_names_and_places(portal, token):
    job = publish(portal, token, "utf16-places", COUNTRY, "places.csv",
                  CSV_TEXT.encode("utf-16-le"), source={"path": "places.csv"})
    assert job["state"] == "done", job
    assert job["report"]["encoding"] == "UTF-16-LE"
    items = requests.get(f"{portal.url}/collections/utf16-places/items",
                         params={"f": "json", "limit": 100}, timeout=30).json()
    got = {f["properties"]["name"]: f["geometry"]["coordinates"] for f in items["features"]}
    assert sorted(got) == sorted(p[0] for p in PLACES)
    to_crs84 = pyproj.Transformer.from_crs("EPSG:4326", "OGC:CRS84", always_xy=True)
    for name, lon, lat in PLACES:
        x, y = to_crs84.transform(lon, lat)
        assert got[name] == pytest.approx([x, y], abs=1e-6)

