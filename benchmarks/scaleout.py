"""Scale-out run of the serving benchmark (``benchmarks/serve.py --scale-out``).

The production topology of ``scripts/cluster.py`` (its ``Cluster``: PostgreSQL primary and a
streaming replica, PgBouncer in transaction mode, the S3 emulator, HAProxy roundrobin with
``/readyz`` checks), with the 1,000,000 buildings loaded once through ``geoportal ingest`` on
the primary, then ``bbox`` (the 2,000 pre-drawn boxes) and ``tiles`` (uncached z14 tiles) timed
with wrk through HAProxy in these configurations:

    direct   node a alone, wrk straight to it (no HAProxy): what the balancer adds
    1 node   node a behind HAProxy, reads on the primary
    2 nodes  nodes a and b behind HAProxy, reads on the primary
    1 node + replica, 2 nodes + replica: the same with GEOPORTAL_DATABASE_READ_URL on the
             replica (through PgBouncer's ``geoportal_ro``)

Every configuration starts its nodes afresh (their in-process tile caches empty) and runs the
same warm-up and the same workload. Both servers' table and index pages are loaded with
``pg_prewarm`` before the first run on them, so neither is timed cold. On 2 cores the second
node adds processes, not cores: the run shows what scale-out costs per request, not a gain.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import servers as srv  # noqa: E402

from scripts.cluster import Cluster, Ports  # noqa: E402

CONFIGS = [  # name, nodes, reads on the replica, through HAProxy
    ("direct", 1, False, False),
    ("1 node", 1, False, True),
    ("2 nodes", 2, False, True),
    ("1 node + replica", 1, True, True),
    ("2 nodes + replica", 2, True, True),
]
TILE_PATH = "/collections/buildings/tiles/WebMercatorQuad/{z}/{y}/{x}"


class BenchCluster(Cluster):
    """The miniature cluster whose nodes read from the primary unless ``reads_on_replica``."""

    reads_on_replica = True

    def env(self, data_dir: Path) -> dict[str, str]:
        env = super().env(data_dir)
        if not self.reads_on_replica:
            env.pop("GEOPORTAL_DATABASE_READ_URL", None)
        return env


def _wait_replica(cluster: Cluster, timeout: float = 300) -> None:
    """Until the replica has replayed everything the primary wrote so far."""
    target = cluster.sql("SELECT pg_current_wal_lsn()::text")[0][0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = cluster.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,),
                           replica=True)[0][0]
        if done:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the replica did not replay up to {target} within {timeout:.0f} s")


def _prewarm(cluster: Cluster, table: str, replica: bool) -> int:
    """Load the table and its indexes into the server's buffers; the blocks read."""
    schema, name = table.split(".", 1)
    rows = cluster.sql(
        "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = "
        "c.relnamespace WHERE n.nspname = %s AND (c.relname = %s OR c.oid IN (SELECT "
        "indexrelid FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = %s"
        " AND t.relnamespace = n.oid))", (schema, name, name), replica=replica)
    return int(rows[0][0] or 0)


def _wait_balanced(cluster: Cluster, nodes: list[str], log: Callable[[str], None]) -> None:
    """Until every node answers /readyz and HAProxy has had time to mark it up (and the
    stopped ones down): checks every 1 s, rise 2 / fall 2 (scripts/cluster.py)."""
    for name in nodes:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{cluster.node_url(name)}/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"node-{name} not ready in 60 s: see its log in "
                                   f"{cluster.root / 'logs'}")
            time.sleep(0.3)
    time.sleep(4.0)
    for _ in range(10):  # the balancer answers
        if requests.get(f"{cluster.url}/collections/buildings", timeout=10).status_code == 200:
            return
        time.sleep(0.5)
    log("WARNING: HAProxy did not answer /collections/buildings with 200")


def run(args, gpkg: Path, tiles: dict[str, list], tile_files: dict[str, Path],
        cities_tsv: Path, report: dict, run_wrk: Callable, tiles_seconds: Callable,
        wait_idle: Callable, log: Callable[[str], None]) -> dict:
    """Load once, then time ``bbox`` and ``tiles`` per configuration (``CONFIGS``); the
    results, with the ratios two nodes / one node and replica / primary."""
    root = BENCH / ".data" / "scaleout"
    if (root / "cluster.json").exists():  # a run that was killed: stop what it left
        BenchCluster(root, say=log).down()
    shutil.rmtree(root, ignore_errors=True)
    (root / "logs").mkdir(parents=True)
    root.chmod(0o755)  # PostgreSQL and PgBouncer run as the postgres user
    lb = srv.free_port()
    cluster = BenchCluster(root, ports=Ports.pick(lb), workers=0,
                           node_workers=args.node_workers, node_threads=args.node_threads,
                           python=sys.executable, say=log)
    out: dict = {"configs": {}, "node": {"workers": args.node_workers,
                                          "threads": args.node_threads}}
    n = args.features
    try:
        log(f"scale-out: primary + replica + PgBouncer + S3 emulator in {root}")
        cluster.start_primary(create=True)
        cluster.start_replica(create=True)
        cluster.start_pgbouncer()
        cluster.start_s3()
        cluster.cli("init", direct=True)
        t0 = time.perf_counter()
        cluster.cli("ingest", "--no-progress", str(gpkg), "--id", "buildings", "--theme",
                    "urban-infrastructure", direct=True, timeout=1800)
        out["load_s"] = round(time.perf_counter() - t0, 1)
        table = cluster.sql("SELECT store_ref FROM versions WHERE layer_id = 'buildings' "
                            "AND status = 'current'")[0][0]
        cluster.sql("ANALYZE")
        cluster.sql("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        _wait_replica(cluster)
        log(f"scale-out: {n:,} buildings in {table} in {out['load_s']} s; replica caught up")
        blocks = {"primary": _prewarm(cluster, table, False),
                  "replica": _prewarm(cluster, table, True)}
        log(f"scale-out: pg_prewarm read {blocks['primary']} blocks on the primary, "
            f"{blocks['replica']} on the replica")
        cluster.start_haproxy()
        lb_server = srv.Server("haproxy", "HAProxy", lb, "buildings", [], {},
                               root / "logs" / "bench.log", tiles=TILE_PATH)
        for name, count, replica, balanced in CONFIGS:
            nodes = ["a", "b"][:count]
            cluster.reads_on_replica = replica
            for node in nodes:
                cluster.start_node(node)
            _wait_balanced(cluster, nodes, log)
            target = lb_server if balanced else srv.Server(
                "node-a", "node a", cluster.ports.node_a, "buildings", [], {},
                root / "logs" / "bench.log", tiles=TILE_PATH)
            res: dict = {"nodes": count, "reads": "replica" if replica else "primary",
                         "through": "haproxy" if balanced else "direct"}
            for sc in ("bbox", "tiles"):
                wait_idle(report, f"scale-out {sc}, {name}")
                seconds = args.duration
                if sc == "tiles":
                    w = run_wrk(target, sc, n, cities_tsv, args, max(args.warmup, 3),
                                tiles_file=tile_files["warmup"])
                    seconds = tiles_seconds(w, len(tiles["uncached"]), args.duration,
                                            args.connections)
                    wait_idle(report, f"scale-out tiles after the warm-up, {name}")
                    r = run_wrk(target, sc, n, cities_tsv, args, seconds,
                                tiles_file=tile_files["uncached"])
                else:
                    if args.warmup:
                        run_wrk(target, sc, n, cities_tsv, args, args.warmup)
                    r = run_wrk(target, sc, n, cities_tsv, args, seconds)
                res[sc] = {k: r.get(k) for k in ("rps", "p50_ms", "p95_ms", "p99_ms",
                                                 "requests", "errors", "active_s")
                           if r.get(k) is not None}
                res[sc]["seconds"] = seconds
                log(f"   {name:<18} {sc:<5} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:6.1f} ms  "
                    f"p95 {r['p95_ms']:6.1f} ms  {r['requests']} requests, {r['errors']} errors")
            out["configs"][name] = res
            for node in nodes:
                cluster.stop(f"node-{node}")
    finally:
        cluster.down()
        shutil.rmtree(root / "pg", ignore_errors=True)
    out["ratios"] = _ratios(out["configs"])
    return out


def _ratios(configs: dict) -> dict:
    pairs = [("2 nodes / 1 node", "2 nodes", "1 node"),
             ("2 nodes / 1 node, replica", "2 nodes + replica", "1 node + replica"),
             ("replica / primary, 1 node", "1 node + replica", "1 node"),
             ("replica / primary, 2 nodes", "2 nodes + replica", "2 nodes"),
             ("HAProxy / direct, 1 node", "1 node", "direct")]
    out: dict = {}
    for label, a, b in pairs:
        if a not in configs or b not in configs:
            continue
        for sc in ("bbox", "tiles"):
            ra, rb = configs[a].get(sc), configs[b].get(sc)
            if ra and rb and rb.get("rps") and rb.get("p50_ms") and rb.get("p95_ms"):
                out.setdefault(label, {})[sc] = {
                    "rps": round(ra["rps"] / rb["rps"], 2),
                    "p50": round(ra["p50_ms"] / rb["p50_ms"], 2),
                    "p95": round(ra["p95_ms"] / rb["p95_ms"], 2)}
    return out


def print_results(out: dict) -> None:
    print("\nscale-out (wrk through HAProxy unless 'direct')")
    print(f"{'configuration':<20} {'bbox req/s':>10} {'p50':>7} {'p95':>7}   "
          f"{'tiles req/s':>11} {'p50':>7} {'p95':>7}  errors")
    print("-" * 86)
    for name, res in out["configs"].items():
        b, t = res.get("bbox", {}), res.get("tiles", {})
        print(f"{name:<20} {b.get('rps', 0):>10.1f} {b.get('p50_ms', 0):>7.1f} "
              f"{b.get('p95_ms', 0):>7.1f}   {t.get('rps', 0):>11.1f} {t.get('p50_ms', 0):>7.1f} "
              f"{t.get('p95_ms', 0):>7.1f}  {b.get('errors', 0) + t.get('errors', 0)}")
    print("\nratios (req/s, p50, p95)")
    for label, per in out["ratios"].items():
        for sc, v in per.items():
            print(f"  {label:<28} {sc:<5} req/s {v['rps']}x  p50 {v['p50']}x  p95 {v['p95']}x")
    print()


def save(out: dict, report: dict) -> Path:
    out_dir = BENCH / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"scaleout-{dt.datetime.now().strftime('%Y-%m-%dT%H%M%S')}.json"
    path.write_text(json.dumps({**{k: report[k] for k in ("date", "machine", "features", "seed",
                                                          "duration_s", "warmup_s", "wrk",
                                                          "bbox_boxes") if k in report},
                                "scale_out": out, "warnings": report.get("warnings", [])},
                               indent=2, ensure_ascii=False) + "\n")
    return path


__all__ = ["CONFIGS", "BenchCluster", "print_results", "run", "save"]
