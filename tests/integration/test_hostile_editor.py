"""A careless or malicious editor (and an anonymous visitor) against the real server, both
stores (issue 15): a YAML bomb of a manifest, forged log lines, a flood of refused writes with
huge layer ids, the 500s of rollback, Records' datetime and coverage scaling, and the
leftovers of crashes gone after a restart."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from geoportal.admin.audit import REFUSALS_PER_MINUTE
from tests.conftest import BACKENDS, LAYERS_DIR, Portal
from tests.unit.test_manifest import YAML_BOMB

MINSK = "5000000000"
FORGED = "2031-01-01T00:00:00+0000 level=INFO logger=geoportal.audit pid=1 audit action=upload"


@pytest.fixture(scope="module")
def admin_token(portal: Portal) -> str:
    return portal.cli("token", "create", "--name", "hostile-test", "--role", "admin"
                      ).stdout.strip()


@pytest.fixture(scope="module")
def editor_token(portal: Portal) -> str:
    return portal.cli("token", "create", "--name", "minsk-test", "--region", MINSK
                      ).stdout.strip()


def _audit(portal: Portal) -> list[dict]:
    return json.loads(portal.cli("audit", "--json", "--limit", "10000").stdout)


def test_a_yaml_bomb_upload_is_refused_and_collections_keep_their_size(portal, admin_token):
    before = requests.get(f"{portal.url}/collections", timeout=30)
    manifest = (f"id: bomb\nregion: '{MINSK}'\ntheme: other\ntitle: t\n"
                f"source: {{path: data}}\n{YAML_BOMB}")
    r = requests.post(f"{portal.url}/admin/layers", timeout=60,
                      headers={"Authorization": f"Bearer {admin_token}"},
                      data={"manifest": manifest},
                      files={"file": ("stops.csv", b"lon,lat\n27.55,53.9\n")})
    assert r.status_code == 422, r.text
    assert "line 6: YAML anchors and aliases" in r.json()["description"]
    after = requests.get(f"{portal.url}/collections", timeout=30)
    assert len(after.content) == len(before.content)
    assert "bomb" not in {c["id"] for c in after.json()["collections"]}


def test_metadata_over_the_caps_is_refused_on_upload(portal, admin_token):
    manifest = json.dumps({"id": "long-texts", "region": MINSK, "theme": "other",
                           "title": {"en": "t" * 201}, "keywords": ["k"] * 31,
                           "source": {"path": "data"}})
    r = requests.post(f"{portal.url}/admin/layers", timeout=60,
                      headers={"Authorization": f"Bearer {admin_token}"},
                      data={"manifest": manifest},
                      files={"file": ("stops.csv", b"lon,lat\n27.55,53.9\n")})
    assert r.status_code == 422, r.text
    text = r.json()["description"]
    assert "'title.en' is 201 characters long; at most 200" in text
    assert "'keywords' has 31 keywords; at most 30" in text


def test_a_newline_in_a_path_cannot_forge_a_log_line(portal, admin_token):
    forged = requests.utils.quote(f"\n{FORGED} layer=forged", safe="")
    r = requests.get(f"{portal.url}/collections/x{forged}", timeout=30)
    assert r.status_code == 404
    r = requests.post(f"{portal.url}/admin/layers/x{forged}/rollback", json={"version": 1},
                      headers={"Authorization": f"Bearer {admin_token}"}, timeout=30)
    assert r.status_code == 404
    log = (portal.data_dir / "logs" / "geoportal.log").read_text(encoding="utf-8")
    assert not any(line.startswith(FORGED) for line in log.splitlines())
    escaped = [line for line in log.splitlines() if f"\\x0a{FORGED}" in line]
    assert len(escaped) >= 2  # the request line and the audit line, each kept on one line
    assert any("logger=geoportal.audit" in line for line in escaped)


def test_refused_writes_with_huge_ids_add_a_bounded_audit(portal, editor_token):
    rows_before = _audit(portal)
    session = requests.Session()
    statuses = set()
    for i in range(300):
        r = session.post(f"{portal.url}/admin/layers/{i}{'x' * 7000}/rollback",
                         json={"version": 1}, timeout=30,
                         headers={"Authorization": f"Bearer {editor_token}"})
        statuses.add(r.status_code)
    assert statuses <= {400, 404, 429}, statuses
    rows_after = _audit(portal)
    added = rows_after[:len(rows_after) - len(rows_before)]
    workers = 2  # each server process counts its own minute
    assert len(added) <= workers * (REFUSALS_PER_MINUTE + 1) + 2
    size = sum(len(json.dumps(row)) for row in added)
    assert size < 60_000  # was 3.5 MB
    assert all(len(row["layer_id"] or "") <= 64 for row in added)
    assert any(row["action"] == "refused" and "more refused requests" in row["detail"]
               for row in added)


def test_rollback_to_a_version_beyond_any_integer_is_404(portal, admin_token):
    r = requests.post(f"{portal.url}/admin/layers/cities/rollback",
                      json={"version": 10**23}, timeout=30,
                      headers={"Authorization": f"Bearer {admin_token}"})
    assert r.status_code == 404, r.text
    assert f"layer 'cities' has no version {10**23}; kept: 1" in r.json()["description"]


def test_garbage_datetime_on_the_records_is_400_naming_datetime(portal):
    r = requests.get(f"{portal.url}/collections/catalog/items",
                     params={"datetime": "garbage"}, timeout=30)
    assert r.status_code == 400, r.text
    assert "datetime 'garbage' is not a date" in r.json()["description"]
    r = requests.get(f"{portal.url}/collections/catalog/items",
                     params={"datetime": "2020-01-01/.."}, timeout=30)
    assert r.status_code == 200


def test_a_subnormal_scale_factor_is_400_naming_it(portal):
    r = requests.get(f"{portal.url}/collections/night-lights-2024/coverage",
                     params={"scale-factor": "5e-324"}, timeout=30)
    assert r.status_code == 400, r.text
    assert r.json()["description"].startswith("scale-factor must be above 0: between 0.001")


# -- leftovers of crashes, gone after a restart ---------------------------------------------

@pytest.fixture(scope="module", params=BACKENDS)
def fresh_portal(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
                 ) -> Iterator[Portal]:
    database_url = None
    if request.param == "postgis":
        database_url = request.getfixturevalue("postgres").new_database()
    server = Portal(tmp_path_factory.mktemp("hostile") / "var", database_url)
    server.cli("init")
    server.cli("ingest", str(LAYERS_DIR / "by" / "oblasts.yaml"))
    yield server
    server.stop()


def _old_file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)
    then = time.time() - 3600
    os.utime(path, (then, then))
    os.utime(path.parent, (then, then))
    return path


def test_what_a_crash_leaves_is_gone_after_a_restart(fresh_portal: Portal):
    portal = fresh_portal
    portal.start()
    portal.stop()
    # what a kill -9 of an ingest, a worker and an upload leaves, found at the next start
    var = portal.data_dir
    orphans = [_old_file(var / "uploads" / "5eed0000" / "roads.zip", 139_000),
               _old_file(var / "coverages" / "lights" / ".a.tif.4242.abcd.part", 1000)]
    if portal.backend == "gpkg":
        orphans += [_old_file(var / "store" / "oblasts" / ".x.part.gpkg", 96_000),
                    _old_file(var / "store" / "oblasts" / ".x.part.gpkg.tmp_rtree_oblasts.db",
                              4096)]
    else:
        import psycopg

        with psycopg.connect(portal.env["GEOPORTAL_DATABASE_URL"], autocommit=True) as conn:
            conn.execute("CREATE TABLE features.oblasts_0123456789ab (fid bigint)")
        # a table without statistics has no age: kept at start-up, its clock started, and
        # gone at the second pass a grace period later
        portal.env["GEOPORTAL_CLEANUP_GRACE_S"] = "2"
    portal.start()
    try:
        assert not any(p.exists() for p in orphans)
        items = requests.get(f"{portal.url}/collections/oblasts/items", timeout=30).json()
        assert items["numberMatched"] == 7  # the published version is untouched
        log = (var / "logs" / "geoportal.log").read_text(encoding="utf-8")
        assert "cleanup at start-up: removed" in log
        if portal.backend == "postgis":
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with psycopg.connect(portal.env["GEOPORTAL_DATABASE_URL"]) as conn:
                    left = conn.execute("SELECT to_regclass('features.oblasts_0123456789ab')"
                                        ).fetchone()[0]
                if left is None:
                    break
                time.sleep(0.5)
            assert left is None
    finally:
        portal.stop()
