"""Database faults through the whole topology: the primary (or the whole database tier)
stopped for 10 s under load, and the primary made read-only."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass

import pytest
import requests

from tests.cluster.conftest import auth, manifest, submit, wait_job, write_points

pytestmark = pytest.mark.cluster

OUTAGE_S = 10
RECOVERY_S = 2.0  # the bound, after the database is back
ANSWER_S = 8.0  # no request hangs: an answer (or a 503) within the query budget and a margin


@dataclass
class Answer:
    started: float
    kind: str
    status: int
    retry_after: str | None
    seconds: float


def _requests(base: str, token: str) -> list[tuple[str, str, dict[str, str]]]:
    """(kind, URL, headers): the mixed load. ``collections`` is held in memory; ``data``
    needs the database; ``token`` needs the primary (tokens, read-your-writes)."""
    return [
        ("collections", f"{base}/collections?f=json", {}),
        ("data", f"{base}/collections/oblasts/items?f=json&limit=3", {}),
        ("data", f"{base}/collections/oblasts/items/1?f=json", {}),
        ("data", f"{base}/collections/oblasts/items?f=json&bbox=27.4,53.8,27.7,54.0", {}),
        ("tile", f"{base}/collections/oblasts/tiles/WebMercatorQuad/6/20/36", {}),
        ("token", f"{base}/admin/whoami", auth(token)),
    ]


def _load(cluster, token: str, during) -> tuple[list[Answer], float, float]:
    """Run four clients through the balancer while ``during()`` runs; the answers, and the
    monotonic times at which ``during`` stopped and restarted the database."""
    plan = _requests(cluster.url, token)
    answers: list[Answer] = []
    stop = threading.Event()

    def client(offset: int) -> None:
        session = requests.Session()
        n = offset
        while not stop.is_set():
            kind, url, headers = plan[n % len(plan)]
            n += 1
            started = time.monotonic()
            try:
                r = session.get(url, headers=headers, timeout=ANSWER_S)
                answers.append(Answer(started, kind, r.status_code,
                                      r.headers.get("Retry-After"), time.monotonic() - started))
            except requests.RequestException as exc:
                answers.append(Answer(started, kind, -1, type(exc).__name__,
                                      time.monotonic() - started))
            time.sleep(0.02)

    clients = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for t in clients:
        t.start()
    try:
        time.sleep(1.5)
        stopped, back = during()
        time.sleep(RECOVERY_S + 3)
    finally:
        stop.set()
        for t in clients:
            t.join()
    return answers, stopped, back


def _check(answers: list[Answer], stopped: float, back: float) -> dict[str, object]:
    before = [a for a in answers if a.started < stopped]
    assert before and all(a.status == 200 for a in before if a.kind != "tile"), \
        Counter((a.kind, a.status) for a in before)
    # No 500 (nor a dropped connection, nor a request left hanging past ANSWER_S) at any
    # time: 503 with Retry-After, or an answer.
    bad = [(a.kind, a.status) for a in answers
           if a.status not in (200, 204, 503) or (a.status == 503 and not a.retry_after)]
    assert not bad, Counter(bad)
    # What the nodes hold in memory is answered throughout.
    assert all(a.status == 200 for a in answers if a.kind == "collections"), \
        Counter(a.status for a in answers if a.kind == "collections")
    # Full recovery within 2 s of the database's return.
    late = [a for a in answers if a.started >= back + RECOVERY_S]
    assert late, "no request after the recovery bound"
    assert all(a.status in (200, 204) for a in late), Counter((a.kind, a.status) for a in late)
    recovered = [a.started - back for a in answers
                 if a.started >= back and a.kind == "token" and a.status == 200]
    summary = {"answers": len(answers),
               "during": dict(Counter(f"{a.kind} {a.status}" for a in answers
                                      if stopped <= a.started < back)),
               "slowest_during_s": round(max((a.seconds for a in answers
                                              if stopped <= a.started < back), default=0), 2),
               "first_token_200_after_back_s": round(min(recovered), 2) if recovered else None}
    print(json.dumps(summary))
    return summary


def test_the_primary_stopped_for_10_s_under_load(cluster, token):
    def outage() -> tuple[float, float]:
        stopped = time.monotonic()
        cluster.stop_primary()
        time.sleep(OUTAGE_S)
        cluster.start_primary()
        return stopped, time.monotonic()

    summary = _check(*_load(cluster, token, outage))
    # reads go to the replica: data requests keep being answered
    assert any(k.startswith("data 200") for k in summary["during"]), summary


def test_the_whole_database_tier_stopped_for_10_s_under_load(cluster, token):
    def outage() -> tuple[float, float]:
        stopped = time.monotonic()
        cluster.stop_replica()
        cluster.stop_primary()
        time.sleep(OUTAGE_S)
        cluster.start_primary()
        cluster.start_replica()
        return stopped, time.monotonic()

    summary = _check(*_load(cluster, token, outage))
    assert any(k.startswith("data 503") for k in summary["during"]), summary


def test_with_the_primary_read_only_reads_keep_working_and_a_node_starts(cluster):
    cluster.set_primary_read_only(True)
    reads = [f"{cluster.url}/collections/oblasts/items?f=json&limit=3",
             f"{cluster.url}/collections/oblasts/items/1?f=json",
             f"{cluster.url}/collections?f=json"]
    for url in reads * 3:
        r = requests.get(url, timeout=30)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
    # A web node starts and serves on a database it cannot write (no writes at start-up).
    cluster.stop("node-b")
    cluster.start_node("b")
    r = requests.get(f"{cluster.node_url('b')}/collections/oblasts/items?f=json&limit=3",
                     timeout=30)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["numberReturned"] == 3


def test_the_worker_takes_jobs_again_after_the_primary_was_read_only(cluster, token, data_dir):
    """procrastinate's job loop ends when the worker's heartbeat cannot be written; the worker
    (the same process: nothing restarts it here) starts the loop again once it can."""
    name = cluster.worker_names()[0]
    before = cluster.parts[name].pid
    cluster.set_primary_read_only(True)
    try:
        time.sleep(12)  # two of the worker's heartbeats (5 s) refused
    finally:
        cluster.set_primary_read_only(False)
    path = write_points(data_dir / "after-read-only.gpkg", 50, "ro")
    job_id = submit(cluster.node_url("a"), token, manifest("cluster-after-read-only", path.name),
                    path)
    job = wait_job(cluster.node_url("a"), token, job_id, timeout=120)
    assert job["state"] == "done", job
    assert cluster.alive(name) and cluster.parts[name].pid == before
