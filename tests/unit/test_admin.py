"""Tokens, region coverage and the job queue on the real catalog (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from geoportal.admin.jobs import JobQueue
from geoportal.admin.tokens import TokenStore, covers, require_region
from geoportal.catalog import schema as t
from geoportal.errors import Conflict, Forbidden, InputError, Unauthorized

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
