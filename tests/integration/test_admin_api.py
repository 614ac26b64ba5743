"""The admin API on the real server (gunicorn, 2 workers, both stores): tokens and regions,
uploads through the ETL as jobs, versions, rollback, unpublish, the audit log, hostile input
and two uploads of one layer at once."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import BACKENDS, LAYERS_DIR, Portal

MINSK, GRODNO_OBLAST, GRODNO_RAION = "5000000000", "4000000000", "4204000000"
STOPS = LAYERS_DIR / "minsk" / "minsk_stops.tsv"


@pytest.fixture(scope="module", params=BACKENDS)
def portal(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
           ) -> Iterator[Portal]:
    database_url = None
    if request.param == "postgis":
        database_url = request.getfixturevalue("postgres").new_database()
    server = Portal(tmp_path_factory.mktemp("admin") / "var", database_url)
    server.env["GEOPORTAL_MAX_UPLOAD_MB"] = "2"
    server.cli("init")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tokens(portal: Portal) -> dict[str, str]:
    def create(*args: str) -> str:
        return portal.cli("token", "create", *args).stdout.strip()

    return {"minsk": create("--name", "minsk-gis", "--region", MINSK),
            "grodno": create("--name", "grodno-gis", "--region", GRODNO_OBLAST),
            "admin": create("--name", "national", "--role", "admin")}


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _manifest(layer_id: str, region: str, **extra: object) -> str:
    return json.dumps({"id": layer_id, "region": region, "theme": "urban-infrastructure",
                       "title": {"en": layer_id}, "source": {"path": "data"}, **extra},
                      ensure_ascii=False)


def upload(portal: Portal, token: str | None, manifest: str, name: str,
           content: bytes) -> requests.Response:
    return requests.post(f"{portal.url}/admin/layers", headers=_auth(token), timeout=60,
                         data={"manifest": manifest}, files={"file": (name, content)})


def wait(portal: Portal, token: str, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = requests.get(f"{portal.url}/admin/jobs/{job_id}", headers=_auth(token),
                           timeout=30).json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish")


def publish(portal: Portal, token: str, layer_id: str, region: str, name: str,
            content: bytes, **extra: object) -> dict:
    r = upload(portal, token, _manifest(layer_id, region, **extra), name, content)
    assert r.status_code == 202, r.text
    assert r.headers["Location"].endswith(f"/admin/jobs/{r.json()['id']}")
    return wait(portal, token, r.json()["id"])


def _points(n: int, lon: float = 27.55, lat: float = 53.9, name: str = "p") -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": f"{name}{i}"},
         "geometry": {"type": "Point", "coordinates": [lon + i * 1e-3, lat]}}
        for i in range(n)]}).encode()


def test_an_editor_publishes_a_layer_of_their_region(portal, tokens):
    job = publish(portal, tokens["minsk"], "minsk-stops-upload", MINSK, STOPS.name,
                  STOPS.read_bytes(), source={"path": STOPS.name, "x_field": "Lng",
                                              "y_field": "Lat"})
    assert job["state"] == "done", job
    assert job["version"] == 1 and job["report"]["features_published"] == 1740  # in the city
    items = requests.get(f"{portal.url}/collections/minsk-stops-upload/items",
                         params={"f": "json", "limit": 1}, timeout=30).json()
    assert items["numberMatched"] == 1740


def test_an_oblast_token_covers_its_raions_but_not_minsk(portal, tokens):
    job = publish(portal, tokens["grodno"], "grodno-raion-points", GRODNO_RAION,
                  "points.geojson", _points(5, lon=23.95, lat=53.24))  # Byerastavitsa
    assert job["state"] == "done", job
    refused = upload(portal, tokens["grodno"], _manifest("minsk-stops-upload", MINSK),
                     "points.geojson", _points(3))
    assert refused.status_code == 403
    assert "may not write" in refused.json()["description"]
    # the layer of Minsk is still Minsk's, whatever region the manifest claims
    sneaky = upload(portal, tokens["grodno"],
                    _manifest("minsk-stops-upload", GRODNO_OBLAST), "p.geojson", _points(3))
    assert sneaky.status_code == 403


@pytest.mark.parametrize("token", [None, "gpt_deadbeef_nope", "Basic abc", "x" * 5000])
def test_no_or_wrong_token_is_401(portal, token):
    r = upload(portal, token, _manifest("x-layer", MINSK), "p.geojson", _points(1))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert token is None or token[:20] not in r.text


def test_a_revoked_token_is_refused_at_once(portal):
    secret = portal.cli("token", "create", "--name", "leaver", "--region", MINSK).stdout.strip()
    assert requests.get(f"{portal.url}/admin/whoami", headers=_auth(secret),
                        timeout=30).status_code == 200
    token_id = secret.split("_")[1]
    portal.cli("token", "revoke", token_id)
    r = requests.get(f"{portal.url}/admin/whoami", headers=_auth(secret), timeout=30)
    assert r.status_code == 401 and "revoked" in r.json()["description"]


@pytest.mark.parametrize(("name", "content", "status", "words"), [
    ("huge.geojson", b" " * (3 * 1024**2), 413, "up to 2 MiB"),
    ("notes.docx", b"PK\x03\x04 not a layer", 415, "unknown format"),
    ("evil.zip", None, 422, "outside the archive"),
    ("bomb.zip", None, 413, "zip bomb"),
])
def test_hostile_files_are_refused_before_the_etl(portal, tokens, name, content, status,
                                                   words):
    if name == "evil.zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zf:
            zf.writestr("../../etc/cron.d/evil", "* * * * * root rm -rf /")
        content = buffer.getvalue()
    elif name == "bomb.zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("zeros.geojson", b"\0" * (1200 * 1024**2 // 100))  # 12 MiB of zeros
        content = buffer.getvalue()
    r = upload(portal, tokens["minsk"], _manifest("hostile-layer", MINSK), name, content)
    assert r.status_code == status, r.text
    assert words.lower() in r.text.lower()
    assert not any((portal.data_dir / "uploads").glob("*/*"))  # nothing left behind


def test_a_bad_manifest_is_422_naming_every_problem(portal, tokens):
    r = upload(portal, tokens["minsk"], json.dumps({"id": "Bad Id!", "region": MINSK,
                                                    "theme": "nonsense"}),
               "p.geojson", _points(2))
    assert r.status_code == 422, r.text
    assert "Bad Id!" in r.json()["description"]


def test_data_the_etl_rejects_ends_the_job_as_rejected(portal, tokens):
    job = publish(portal, tokens["minsk"], "nowhere-points", MINSK, "p.geojson",
                  _points(4, lon=150.0, lat=-30.0))
    assert job["state"] == "rejected", job
    assert job["status"] == 422 and job["error"]
    assert requests.get(f"{portal.url}/collections/nowhere-points",
                        timeout=30).status_code == 404


def test_versions_rollback_and_unpublish(portal, tokens):
    token = tokens["minsk"]
    for n in (3, 5):
        assert publish(portal, token, "minsk-versions", MINSK, "p.geojson",
                       _points(n))["state"] == "done"
    listed = requests.get(f"{portal.url}/admin/layers/minsk-versions/versions",
                          headers=_auth(token), timeout=30).json()["versions"]
    assert [(v["version"], v["status"], v["features"]) for v in listed][:2] == [
        (2, "current", 5), (1, "retired", 3)]
    r = requests.post(f"{portal.url}/admin/layers/minsk-versions/rollback",
                      headers=_auth(token), json={"version": 1}, timeout=30)
    assert r.status_code == 200 and r.json()["version"] == 1
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # every worker follows
        matched = requests.get(f"{portal.url}/collections/minsk-versions/items",
                               params={"f": "json"}, timeout=30).json().get("numberMatched")
        if matched == 3:
            break
        time.sleep(0.2)
    assert matched == 3
    assert requests.delete(f"{portal.url}/admin/layers/minsk-versions",
                           headers=_auth(tokens["grodno"]), timeout=30).status_code == 403
    assert requests.delete(f"{portal.url}/admin/layers/minsk-versions",
                           headers=_auth(token), timeout=30).status_code == 204
    deadline = time.monotonic() + 10
    while requests.get(f"{portal.url}/collections/minsk-versions",
                       timeout=30).status_code != 404:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_two_uploads_of_one_layer_at_once(portal, tokens):
    results: list[requests.Response] = []
    start = threading.Barrier(2)

    def send() -> None:
        start.wait()
        results.append(upload(portal, tokens["minsk"], _manifest("minsk-race", MINSK),
                              STOPS.name, STOPS.read_bytes()))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in results)
    accepted = [r.json() for r in results if r.status_code == 202]
    assert statuses in ([202, 409], [202, 202]), [r.text for r in results]
    if statuses == [202, 409]:
        assert "in progress" in next(r for r in results if r.status_code == 409).text
    jobs = [wait(portal, tokens["minsk"], j["id"]) for j in accepted]
    assert [j["state"] for j in jobs].count("done") >= 1
    assert len({j["version"] for j in jobs}) == len(jobs)  # never two jobs on one version


def test_the_audit_log_is_for_admins_and_names_no_secret(portal, tokens):
    assert requests.get(f"{portal.url}/admin/audit", headers=_auth(tokens["minsk"]),
                        timeout=30).status_code == 403
    r = requests.get(f"{portal.url}/admin/audit", headers=_auth(tokens["admin"]),
                     params={"limit": 500}, timeout=30)
    assert r.status_code == 200
    entries = r.json()["entries"]
    results = {(e["action"], e["result"]) for e in entries}
    assert {("upload", "accepted"), ("upload", "ok"), ("upload", "denied"),
            ("upload", "rejected"), ("rollback", "ok"), ("unpublish", "ok")} <= results
    assert any(e["status"] == 413 for e in entries)  # refused before the body was read
    assert all(e["client"] for e in entries if e["result"] == "denied")
    text = r.text + (portal.data_dir / "logs" / "geoportal.log").read_text()
    for secret in tokens.values():
        assert secret not in text and secret.split("_", 2)[2][:12] not in text
    cli = portal.cli("audit", "--layer", "minsk-versions", "--json")
    assert {e["action"] for e in json.loads(cli.stdout)} >= {"upload", "rollback", "unpublish"}


def test_the_upload_client_prints_the_report_and_exits_by_outcome(portal, tokens, tmp_path):
    manifest = tmp_path / "grodno-points.yaml"
    (tmp_path / "points.geojson").write_bytes(_points(7, lon=23.95, lat=53.24))
    manifest.write_text(_manifest("grodno-client", GRODNO_RAION).replace(
        '"path": "data"', '"path": "points.geojson"'), encoding="utf-8")
    env = {**portal.env, "GEOPORTAL_TOKEN": tokens["grodno"]}
    script = Path(__file__).resolve().parents[2] / "scripts" / "upload-layer"
    done = subprocess.run([str(script), "--url", portal.url, str(manifest)], env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "grodno-client: version 1 published" in done.stdout and "7 features" in done.stdout
    env["GEOPORTAL_TOKEN"] = tokens["minsk"]
    refused = subprocess.run([sys.executable, "-m", "geoportal", "upload", "--url", portal.url,
                              str(manifest)], env=env, capture_output=True, text=True,
                             timeout=180)
    assert refused.returncode == 2 and "may not write" in refused.stderr
    env["GEOPORTAL_TOKEN"] = tokens["grodno"]
    down = subprocess.run([sys.executable, "-m", "geoportal", "upload", "--url",
                           "http://127.0.0.1:9", str(manifest)], env=env,
                          capture_output=True, text=True, timeout=180)
    assert down.returncode == 1 and "cannot reach" in down.stderr


def _versioned(n: int, mark: str) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"mark": mark, "i": i},
         "geometry": {"type": "Point", "coordinates": [27.5 + i * 1e-4, 53.85]}}
        for i in range(n)]}).encode()


def test_readers_see_the_old_version_or_the_new_never_a_mix(portal, tokens):
    token = tokens["minsk"]
    sizes = {"a": 300, "b": 700, "c": 450}
    assert publish(portal, token, "minsk-consistent", MINSK, "v.geojson",
                   _versioned(sizes["a"], "a"))["state"] == "done"
    seen: list[tuple[str, int, int]] = []
    problems: list[str] = []
    stop = threading.Event()

    def read() -> None:
        session = requests.Session()
        while not stop.is_set():
            r = session.get(f"{portal.url}/collections/minsk-consistent/items",
                            params={"f": "json", "limit": 1000}, timeout=30)
            if r.status_code != 200:
                problems.append(f"HTTP {r.status_code}: {r.text[:200]}")
                continue
            body = r.json()
            marks = {f["properties"]["mark"] for f in body["features"]}
            if len(marks) != 1:
                problems.append(f"a page mixes versions {sorted(marks)}")
                continue
            mark = marks.pop()
            seen.append((mark, body["numberMatched"], body["numberReturned"]))

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        for mark in ("b", "c"):
            assert publish(portal, token, "minsk-consistent", MINSK, "v.geojson",
                           _versioned(sizes[mark], mark))["state"] == "done"
            time.sleep(1.5)
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert not problems, problems[:5]
    assert all(matched == returned == sizes[mark] for mark, matched, returned in seen)
    assert {mark for mark, _, _ in seen} >= {"a", "c"}  # the readers saw the change happen
