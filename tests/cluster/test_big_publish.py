"""100 parallel mixed requests through the balancer while a 1,000,000-feature upload
publishes: none fails, and every reader sees the old version or the new one, never a mix."""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.cluster.conftest import job_state, manifest, submit, wait_job, write_points

pytestmark = pytest.mark.cluster

LAYER = "cluster-big"
OLD, NEW = 2_000, 1_000_000


def _one(base: str, n: int) -> tuple[str, int, str | None, str]:
    """Request ``n`` of the mix: (kind, status, version mark or None, problem or "")."""
    kind = ("page", "bbox", "feature", "tile", "collections", "other")[n % 6]
    url, params = {
        "page": (f"/collections/{LAYER}/items", {"f": "json", "limit": 50}),
        "bbox": (f"/collections/{LAYER}/items", {"f": "json", "limit": 100,
                                                 "bbox": "27.45,53.82,27.55,53.88"}),
        "feature": (f"/collections/{LAYER}/items/{1 + n % 1000}", {"f": "json"}),
        "tile": (f"/collections/{LAYER}/tiles/WebMercatorQuad/15/10544/18884", {}),
        "collections": ("/collections", {"f": "json"}),
        "other": ("/collections/oblasts/items", {"f": "json", "limit": 2}),
    }[kind]
    try:
        r = requests.get(f"{base}{url}", params=params, timeout=120)
    except requests.RequestException as exc:
        return kind, -1, None, type(exc).__name__
    if r.status_code not in (200, 204) or (r.status_code == 204 and kind != "tile"):
        return kind, r.status_code, None, r.text[:200]
    if kind in ("page", "bbox"):
        body = r.json()
        marks = {f["properties"]["mark"] for f in body["features"]}
        if len(marks) != 1:
            return kind, r.status_code, None, f"a page mixes versions {sorted(marks)}"
        mark = marks.pop()
        if kind == "page" and mark == "old" and body.get("numberMatched") not in (None, OLD):
            return kind, r.status_code, mark, f"old page says numberMatched {body['numberMatched']}"
        return kind, r.status_code, mark, ""
    if kind == "feature":
        return kind, r.status_code, r.json()["properties"]["mark"], ""
    return kind, r.status_code, None, ""


def test_100_parallel_mixed_requests_while_a_million_features_publish(cluster, token,
                                                                      data_dir):
    a = cluster.node_url("a")
    old = write_points(data_dir / "big-old.gpkg", OLD, "old")
    assert wait_job(a, token, submit(a, token, manifest(LAYER, old.name), old))["state"] \
        == "done"
    big = write_points(data_dir / "big.gpkg", NEW, "new")
    started = time.monotonic()
    job_id = submit(a, token, manifest(LAYER, big.name), big)

    results: list[tuple[str, int, str | None, str]] = []
    rounds = 0
    with ThreadPoolExecutor(max_workers=100) as pool:
        while True:
            state = job_state(a, token, job_id)["state"]
            results += pool.map(lambda n: _one(cluster.url, n), range(100))
            rounds += 1
            if state not in ("queued", "running"):
                break
            assert time.monotonic() - started < 900, "the big publish took over 15 min"
        job = wait_job(a, token, job_id)
        published = time.monotonic() - started
        time.sleep(2)  # every node has seen the new version
        after = list(pool.map(lambda n: _one(cluster.url, n), range(100)))
    assert job["state"] == "done", job
    assert job["report"]["features_published"] == NEW

    problems = [r for r in results + after if r[3]]
    assert not problems, Counter((k, s, p[:80]) for k, s, _, p in problems).most_common(5)
    seen = Counter(mark for _, _, mark, _ in results if mark)
    assert seen["old"] > 0, seen  # readers were served during the publish
    assert {mark for _, _, mark, _ in after if mark} == {"new"}
    print(json.dumps({"rounds": rounds, "requests": len(results) + len(after),
                      "marks_during": dict(seen), "publish_s": round(published, 1)}))
