"""Tokens, region coverage and the job queue on the real catalog (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from geoportal.admin.audit import FIELD_LIMITS, REFUSALS_PER_MINUTE, AuditLog
from geoportal.admin.feature_input import read_feature
from geoportal.admin.jobs import JobQueue
from geoportal.admin.tokens import TokenStore, covers, require_region
from geoportal.catalog import schema as t
from geoportal.catalog.models import Field
from geoportal.cleanup import clean_up, upload_dir
from geoportal.errors import Conflict, Forbidden, InputError, NotFound, Unauthorized
from tests.conftest import LAYERS_DIR

MINSK, GRODNO_OBLAST, GRODNO_RAION, BREST_OBLAST = ("5000000000", "4000000000", "4204000000",
                                                    "1000000000")


def test_a_token_is_shown_once_and_stored_hashed(catalog, registry):
    tokens = TokenStore(catalog.engine)
    token, secret = tokens.create("grodno-gis", "editor", [GRODNO_OBLAST], registry)
    assert secret.startswith(f"gpt_{token.id}_") and len(secret) > 40
    with catalog.engine.begin() as conn:
        stored = [tuple(r) for r in conn.execute(t.tokens.select())]
    assert secret not in str(stored) and secret.split("_", 2)[2] not in str(stored)
    assert tokens.verify(secret).id == token.id
    assert tokens.verify(f"  {secret} ").id == token.id


@pytest.mark.parametrize("text", [None, "", "gpt_", "gpt_0000_x", "Bearer x", "gpt_a_b_c"])
def test_wrong_tokens_are_unauthorized(catalog, registry, text):
    TokenStore(catalog.engine).create("someone", "editor", [MINSK], registry)
    with pytest.raises(Unauthorized):
        TokenStore(catalog.engine).verify(text)


def test_a_tampered_secret_is_unauthorized(catalog, registry):
    tokens = TokenStore(catalog.engine)
    _, secret = tokens.create("minsk-gis", "editor", [MINSK], registry)
    with pytest.raises(Unauthorized, match="not valid"):
        tokens.verify(secret[:-2] + ("AA" if not secret.endswith("AA") else "BB"))


def test_revoked_and_expired_tokens_are_unauthorized(catalog, registry):
    tokens = TokenStore(catalog.engine)
    token, secret = tokens.create("leaver", "editor", [MINSK], registry)
    tokens.revoke(token.id)
    with pytest.raises(Unauthorized, match="revoked"):
        tokens.verify(secret)
    old, old_secret = tokens.create("temp", "editor", [MINSK], registry, days=1)
    with catalog.engine.begin() as conn:
        conn.execute(update(t.tokens).where(t.tokens.c.id == old.id)
                     .values(expires=datetime.now(UTC) - timedelta(seconds=1)))
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(old_secret)


@pytest.mark.parametrize(("role", "regions", "message"), [
    ("owner", [MINSK], "role"),
    ("editor", [], "at least one"),
    ("editor", ["9999999999"], "unknown region"),
])
def test_token_creation_checks_its_input(catalog, registry, role, regions, message):
    with pytest.raises(InputError, match=message):
        TokenStore(catalog.engine).create("x", role, regions, registry)


def test_an_oblast_covers_its_raions_and_nothing_else(catalog, registry):
    tokens = TokenStore(catalog.engine)
    grodno, _ = tokens.create("grodno", "editor", [GRODNO_OBLAST], registry)
    admin, _ = tokens.create("national", "admin", [], registry)
    assert covers(grodno, GRODNO_OBLAST, registry)
    assert covers(grodno, GRODNO_RAION, registry)
    assert not covers(grodno, MINSK, registry)
    assert not covers(grodno, "0000000000", registry)  # the country is above the oblast
    assert all(covers(admin, code, registry) for code in (MINSK, BREST_OBLAST, "0000000000"))
    with pytest.raises(Forbidden, match=r"may not write layers of region 5000000000"):
        require_region(grodno, MINSK, registry, "layers")


def test_one_active_job_per_layer_and_one_claimant_per_job(catalog, tmp_path):
    jobs = JobQueue(catalog.engine)
    first = jobs.submit(layer_id="roads", region=MINSK, token_id="t1", manifest={},
                        folder=tmp_path)
    with pytest.raises(Conflict, match=first.id):
        jobs.submit(layer_id="roads", region=MINSK, token_id="t2", manifest={},
                    folder=tmp_path)
    other = jobs.submit(layer_id="rivers", region=MINSK, token_id="t1", manifest={},
                        folder=tmp_path)
    claimed = [jobs.claim("w1"), jobs.claim("w2"), jobs.claim("w3")]
    assert [j.id for j in claimed if j is not None] == [first.id, other.id]
    assert claimed[2] is None
    jobs.finish(first.id, "done", status=200, version=1)
    again = jobs.submit(layer_id="roads", region=MINSK, token_id="t1", manifest={},
                        folder=tmp_path)  # the layer is free again
    assert again.state == "queued"


def test_a_job_cut_off_by_a_restart_is_marked_failed(catalog, tmp_path):
    jobs = JobQueue(catalog.engine)
    job = jobs.submit(layer_id="roads", region=MINSK, token_id="t1", manifest={},
                      folder=tmp_path)
    jobs.claim("gone:1")
    assert jobs.fail_orphans(stale_seconds=30) == []  # its heartbeat is fresh
    with catalog.engine.begin() as conn:
        conn.execute(update(t.jobs).where(t.jobs.c.id == job.id)
                     .values(heartbeat=datetime.now(UTC) - timedelta(minutes=5)))
    failed = jobs.fail_orphans(stale_seconds=30)
    assert [j.id for j in failed] == [job.id]
    assert failed[0].state == "failed" and "previous version still serves" in failed[0].error
    assert jobs.active_for("roads") is None


# -- the audit log: bounded and not floodable (issue 15) -----------------------------------

def _audit_rows(catalog) -> list[dict]:
    with catalog.engine.begin() as conn:
        return [dict(r) for r in conn.execute(select(t.audit).order_by(t.audit.c.id))
                .mappings()]


def test_audit_fields_are_cut_and_control_characters_escaped(catalog):
    AuditLog(catalog.engine).record(
        "rollback", "denied", layer_id="x" * 7000, client="10.0.0.1\n2026 forged",
        detail="no token\nlevel=INFO audit action=upload result=ok" + "d" * 5000,
        region="4" * 100, job_id="j" * 100, status=401)
    [row] = _audit_rows(catalog)
    assert len(row["layer_id"]) == FIELD_LIMITS["layer_id"] and row["layer_id"].endswith("...")
    assert len(row["detail"]) == FIELD_LIMITS["detail"]
    assert "\n" not in row["detail"] and "\\x0a" in row["detail"]
    assert row["client"].startswith("10.0.0.1\\x0a2026")
    assert len(row["region"]) <= 16 and len(row["job_id"]) <= 32


def test_refusals_beyond_the_limit_from_one_client_share_one_row(catalog, monkeypatch):
    monkeypatch.setattr("geoportal.admin.audit.time.time", lambda: 1_800_000_000.0)
    audit = AuditLog(catalog.engine)
    for i in range(300):
        audit.record("rollback", "denied", layer_id=f"{i}-" + "x" * 7000,
                     client="203.0.113.7", status=401, detail="no token")
    audit.record("upload", "rejected", client="198.51.100.1", status=422)  # another client
    audit.record("upload", "ok", client="203.0.113.7", status=202)  # writes are never merged
    rows = _audit_rows(catalog)
    assert len(rows) == REFUSALS_PER_MINUTE + 1 + 2
    counted = [r for r in rows if r["action"] == "refused"]
    assert len(counted) == 1
    assert counted[0]["detail"].startswith(f"{300 - REFUSALS_PER_MINUTE} more refused")
    assert "rollback x280" in counted[0]["detail"]
    assert sum(len(r["layer_id"] or "") + len(r["detail"] or "") for r in rows) < 5_000


def test_refusals_are_counted_afresh_each_minute(catalog, monkeypatch):
    now = [1_800_000_000.0]
    monkeypatch.setattr("geoportal.admin.audit.time.time", lambda: now[0])
    audit = AuditLog(catalog.engine)
    for minute in range(2):
        now[0] += 60 * minute
        for _ in range(REFUSALS_PER_MINUTE + 5):
            audit.record("upload", "denied", client="203.0.113.7", status=401)
    assert len(_audit_rows(catalog)) == 2 * (REFUSALS_PER_MINUTE + 1)


def test_rollback_to_a_version_beyond_any_integer_is_not_found(catalog):
    with pytest.raises(NotFound, match=r"no layer 'nowhere'|no versions"):
        catalog.rollback("nowhere", 10**23)


# -- Part 4 bodies are bounded too ---------------------------------------------------------

_FIELDS = [Field("name", "string"), Field("count", "integer")]


def _feature(properties: dict) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [27.5, 53.9]},
            "properties": properties}


def test_a_long_text_property_is_refused_naming_it():
    with pytest.raises(InputError, match=r"name: the text is 10,001 characters long; at most "
                                         r"10,000"):
        read_feature(_feature({"name": "n" * 10_001}), _FIELDS)
    assert read_feature(_feature({"name": "n" * 10_000}), _FIELDS).properties["name"]


def test_too_many_or_too_large_properties_are_refused():
    with pytest.raises(InputError, match=r"'properties' has 501 members; at most 500"):
        read_feature(_feature({f"p{i}": 1 for i in range(501)}), _FIELDS)
    big = {"name": "n" * 9_000, **{f"p{i}": "v" * 9_000 for i in range(40)}}
    with pytest.raises(InputError, match=r"the properties are [\d,]+ bytes of JSON; at most "
                                         r"262,144 per feature"):
        read_feature(_feature(big), _FIELDS)


def test_many_unknown_properties_make_a_short_message():
    with pytest.raises(InputError) as caught:
        read_feature(_feature({"k" * 1000 + str(i): 1 for i in range(200)}), _FIELDS)
    message = str(caught.value)
    assert "and 190 more" in message and len(message) < 2_000


# -- clean-up of what crashes leave (issue 15) ---------------------------------------------

def _leftover(path: Path, size: int = 1000, age_s: float = 3600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)
    then = time.time() - age_s
    os.utime(path, (then, then))
    os.utime(path.parent, (then, then))
    return path


def test_cleanup_removes_old_leftovers_and_keeps_what_may_be_in_use(
        settings, catalog, store, publish):
    publish(LAYERS_DIR / "by" / "oblasts.yaml")
    published = catalog.store_refs()
    jobs = JobQueue(catalog.engine)
    uploads = upload_dir(settings)
    queued = jobs.submit(layer_id="roads", region=MINSK, token_id="t1", manifest={},
                         folder=uploads / "feedface", job_id="feedface")
    old = [_leftover(settings.coverage_dir / "lights" / ".x.tif.4242.abcd.part"),
           _leftover(uploads / "0123abcd" / "roads.zip", 5000)]
    kept = [_leftover(uploads / queued.id / "roads.zip"),  # its job still waits
            _leftover(settings.coverage_dir / "lights" / ".y.tif.1.ab.part", age_s=5)]
    if backend_of(settings) == "gpkg":
        old += [_leftover(settings.store_dir / "roads" / ".1f.part.gpkg", 96_000),
                _leftover(settings.store_dir / "roads" / ".1f.part.gpkg.tmp_rtree_roads.db"),
                _leftover(settings.store_dir / "roads" / "0badc0de.gpkg")]  # never registered
        kept += [_leftover(settings.store_dir / "roads" / ".young.part.gpkg", age_s=5)]
        held = _leftover(settings.store_dir / "roads" / ".writing.part.gpkg")
        kept.append(held)
    else:
        import psycopg

        with psycopg.connect(store.conninfo) as conn:
            conn.execute("CREATE TABLE features.roads_0123456789ab (fid bigint)")
            conn.commit()
            # as every writer does: created and analysed in one transaction
            conn.execute("CREATE TABLE features.roads_fresh0000000 (fid bigint)")
            conn.execute("ANALYZE features.roads_fresh0000000")
            conn.commit()
        held = _leftover(settings.coverage_dir / "lights" / ".z.tif.2.cd.part")
        kept.append(held)
    with held.open("rb"):  # a writer still has it open
        report = clean_up(catalog, store, coverage_dir=settings.coverage_dir,
                          uploads_dir=uploads, temp=False)
    assert not any(p.exists() for p in old)
    assert all(p.exists() for p in kept)
    assert catalog.store_refs() == published
    assert all(ref in store.refs() for ref in published if not ref.endswith(".tif"))
    removed = {r.name for r in report.removed}
    assert "uploads/0123abcd" in removed and report.bytes >= 6_000
    if backend_of(settings) == "postgis":
        # no statistics, so no age: kept, and its clock started; gone on a later pass
        assert "features.roads_0123456789ab" not in removed
        assert "features.roads_0123456789ab" in store.refs()
        assert "features.roads_fresh0000000" in store.refs()  # just written: kept
        later = clean_up(catalog, store, coverage_dir=settings.coverage_dir,
                         uploads_dir=uploads, temp=False, grace_s=0)
        assert "features.roads_0123456789ab" in {r.name for r in later.removed}
        assert "features.roads_0123456789ab" not in store.refs()
        assert catalog.store_refs() == published


def test_cleanup_keeps_unregistered_versions_when_the_catalog_has_none(settings, catalog,
                                                                        store):
    lone = _leftover(settings.store_dir / "roads" / "0badc0de.gpkg")
    report = clean_up(catalog, store, coverage_dir=settings.coverage_dir,
                      uploads_dir=upload_dir(settings), temp=False)
    assert lone.exists() and report.removed == []


def backend_of(settings) -> str:
    return "postgis" if "postgresql" in (settings.database_url or "") else "gpkg"
