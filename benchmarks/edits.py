#!/usr/bin/env python3
"""Editing benchmark: OGC API - Features Part 4 edits, ours against stock pygeoapi.

    .venv/bin/python benchmarks/edits.py [--features 100000] [--ops 15]
                                         [--only ours-pg,ours-gpkg,pygeoapi-pg]

1. loads the cached synthetic buildings GeoPackage (benchmarks/.data/, made by datagen.py)
   into a throwaway PostgreSQL 15 + PostGIS cluster with ogr2ogr (the table stock pygeoapi's
   PostgreSQL provider edits) and with `geoportal ingest` into our PostGIS store and our
   GeoPackage store; also a 1,000-feature subset (a municipal-size layer) into both of ours;
2. starts ours (2 workers per store) and stock pygeoapi 0.24 (gunicorn, 2 workers) with the
   PostgreSQL provider made `editable: true`;
3. per server, one after the other: --ops POSTs of a new feature, then as many updates of
   them (ours: PATCH with If-Match from a GET; pygeoapi 0.24 has no PATCH route, so a PUT of
   the whole feature), then as many DELETEs; every status is checked, and afterwards that the
   created features are gone and numberMatched is N again;
4. prints p50 / p95 per server x operation, the ratios ours / pygeoapi, and the cost of one
   edit of ours at 1,000 features (each edit of ours copies the layer: O(layer size));
   writes benchmarks/results/edits-<timestamp>.json.

See benchmarks/README.md ("Editing benchmark").
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUR_PY = REPO / ".venv" / "bin" / "python"

try:
    import numpy as np
    import requests
except ImportError:  # run with the project's venv, which has them
    if OUR_PY.exists() and Path(sys.executable).resolve() != OUR_PY.resolve():
        os.execv(str(OUR_PY), [str(OUR_PY), *sys.argv])
    raise

sys.path.insert(0, str(BENCH))
import datagen  # noqa: E402
import servers as srv  # noqa: E402
from pgcluster import TUNING, PgCluster  # noqa: E402

GEOPORTAL = REPO / ".venv" / "bin" / "geoportal"
ALL_SERVERS = ["ours-pg", "ours-gpkg", "pygeoapi-pg"]
OPS = ("create", "update", "delete")
OP_LABEL = {  # what each server is sent for each operation
    "ours": {"create": "POST", "update": "PATCH + If-Match", "delete": "DELETE",
             "read": "GET (for the ETag)"},
    "pygeoapi": {"create": "POST", "update": "PUT (no PATCH in 0.24)", "delete": "DELETE"},
}
# Part 4: create answers 201 + Location; replace/update and delete 200 or 204
OK_STATUS = {"create": {201}, "update": {200, 204}, "delete": {200, 204}, "read": {200}}
GEOJSON = "application/geo+json"
ORIGIN = (27.55, 53.9)  # Minsk; the edited squares are placed around it
SIDE_DEG = 0.0001       # ~7 x 11 m

PYGEOAPI_PG_EDITABLE = """\
  buildings-pg:
    type: collection
    title: buildings (PostgreSQL provider, editable)
    description: buildings
    keywords: [buildings]
    extents:
      spatial: {{bbox: [23, 51, 33, 56.5], crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84}}
    providers:
      - type: feature
        name: PostgreSQL
        editable: true
        data: {{host: 127.0.0.1, port: {port}, dbname: {dbname}, user: postgres,
                search_path: [public]}}
        id_field: fid
        table: {table}
        geom_field: geom
"""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def warn(msg: str) -> None:
    print(f"WARNING: {msg}", flush=True)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--features", type=int, default=100_000, help="buildings in the layer")
    p.add_argument("--ops", type=int, default=15, help="features created, updated, deleted")
    p.add_argument("--only", default="", help="comma list of " + ", ".join(ALL_SERVERS))
    p.add_argument("--small", type=int, default=1000,
                   help="features of the municipal-size layer edited on ours (0: skip)")
    p.add_argument("--warmup", type=int, default=1,
                   help="untimed POST + DELETE pairs per layer before the timed ones")
    p.add_argument("--seed", type=int, default=20240611)
    p.add_argument("--keep", action="store_true", help="keep the cluster's data dir")
    p.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    args = p.parse_args()
    if args.ops < 1:
        p.error("--ops must be at least 1")
    return args


def selected(only: str) -> list[str]:
    if not only:
        return list(ALL_SERVERS)
    out = []
    for part in only.split(","):
        part = part.strip()
        if part not in ALL_SERVERS:
            sys.exit(f"--only: unknown server {part!r} (one of {', '.join(ALL_SERVERS)})")
        if part not in out:
            out.append(part)
    return out


def run(cmd: list[str], env: dict[str, str] | None = None, logfile: Path | None = None,
        what: str = "") -> tuple[float, str]:
    """Run a command to its end; its wall time and stdout. Fails loudly."""
    log(f"{what}: {' '.join(cmd)}")
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env={**os.environ, **(env or {})}, cwd=REPO, capture_output=True,
                       text=True)
    secs = time.perf_counter() - t0
    if logfile:
        with logfile.open("a") as f:
            f.write(f"$ {' '.join(cmd)}\n{r.stdout}{r.stderr}\n")
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {r.returncode}): "
                           f"{(r.stderr or r.stdout).strip()[-2000:]}")
    log(f"{what}: {secs:.1f} s")
    return secs, r.stdout


def make_token(env: dict[str, str], logfile: Path) -> str:
    """An admin token in the catalog ``env`` points at (printed once on stdout)."""
    _, out = run([str(GEOPORTAL), "token", "create", "--name", "bench", "--role", "admin"],
                 env=env, logfile=logfile, what="geoportal token create")
    token = out.strip().splitlines()[-1].strip() if out.strip() else ""
    if not token or " " in token:
        raise RuntimeError(f"no token on stdout: {out!r}")
    return token


# ---------------------------------------------------------------------------------------------
# the features sent

def editable_properties(schema: dict) -> dict[str, dict]:
    """The non-geometry properties of a queryables document (JSON Schema)."""
    out = {}
    for name, spec in (schema.get("properties") or {}).items():
        spec = spec or {}
        fmt = str(spec.get("format", ""))
        if name in ("geometry", "geom") or "$ref" in spec or fmt.startswith("geometry"):
            continue
        out[name] = spec
    return out


def property_values(props: dict[str, dict], i: int, n: int) -> dict:
    """Valid values for the layer's properties; ``i`` makes each feature different."""
    values: dict = {}
    for name, spec in props.items():
        kind = spec.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if spec.get("enum"):
            values[name] = spec["enum"][i % len(spec["enum"])]
        elif name == "id":
            values[name] = n + 1 + i
        elif name == "kind":
            values[name] = str(datagen.KINDS[i % len(datagen.KINDS)])
        elif name == "floors" or kind == "integer":
            values[name] = 1 + i % 9
        elif kind == "number":
            values[name] = 1.5 + i
        elif kind == "boolean":
            values[name] = bool(i % 2)
        else:
            values[name] = f"edit benchmark {i}"
    return values


def square(i: int) -> dict:
    """A small MultiPolygon square near Minsk, a different one for each ``i``."""
    x0 = ORIGIN[0] + (i % 50) * 3 * SIDE_DEG
    y0 = ORIGIN[1] + (i // 50) * 3 * SIDE_DEG
    x1, y1 = x0 + SIDE_DEG, y0 + SIDE_DEG
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "MultiPolygon", "coordinates": [[[[round(x, 7), round(y, 7)]
                                                      for x, y in ring]]]}


# ---------------------------------------------------------------------------------------------
# one layer on one server

@dataclass
class Target:
    key: str                 # ours-pg, ours-gpkg, pygeoapi-pg, ours-pg@1000, ...
    server: srv.Server
    collection: str
    n: int                   # features in the layer before the edits
    token: str | None        # ours: a bearer token; pygeoapi: no auth
    ours: bool
    props: dict[str, dict] = field(default_factory=dict)

    @property
    def items(self) -> str:
        return f"{self.server.base}/collections/{self.collection}/items"

    def headers(self, **extra: str) -> dict[str, str]:
        h = {"Accept": GEOJSON, **extra}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        return h


def _location_fid(r: requests.Response) -> int | None:
    loc = r.headers.get("Location", "")
    tail = loc.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    try:
        return int(tail)
    except ValueError:
        return None


def _detail(r: requests.Response) -> str:
    return f"HTTP {r.status_code}: {r.text[:200]!r}"


def number_matched(t: Target, s: requests.Session) -> int | None:
    r = s.get(t.items, params={"f": "json", "limit": 1}, headers=t.headers(), timeout=120)
    r.raise_for_status()
    nm = r.json().get("numberMatched")
    return int(nm) if nm is not None else None


def edit_run(t: Target, ops: int, warmup: int) -> dict:
    """POST ``ops`` features, update each, delete each: latencies (ms), statuses, failures,
    and the checks afterwards."""
    s = requests.Session()
    times: dict[str, list[float]] = {op: [] for op in (*OPS, "read")}
    statuses: dict[str, Counter] = {op: Counter() for op in (*OPS, "read")}
    failures: list[str] = []
    versions: list[str] = []

    def call(op: str, method: str, url: str, **kw) -> requests.Response:
        t0 = time.perf_counter()
        r = s.request(method, url, timeout=600, **kw)
        times[op].append((time.perf_counter() - t0) * 1000)
        statuses[op][r.status_code] += 1
        if r.status_code not in OK_STATUS[op]:
            failures.append(f"{op} {method} {url.rsplit('/', 2)[-1]}: {_detail(r)}")
        if r.headers.get("Geoportal-Version"):
            versions.append(r.headers["Geoportal-Version"])
        return r

    def feature(i: int, fid: int | None = None) -> dict:
        f = {"type": "Feature", "geometry": square(i),
             "properties": property_values(t.props, i, t.n)}
        if fid is not None:
            f["id"] = fid  # pygeoapi's PUT reads the id from the body
        return f

    post_headers = t.headers(**{"Content-Type": GEOJSON})
    # warm-up: every worker has opened the layer and done one edit before the timing
    for w in range(warmup):
        for _ in range(2):  # two workers
            s.get(t.items, params={"f": "json", "limit": 1}, headers=t.headers(), timeout=120)
        r = s.post(t.items, data=json.dumps(feature(1000 + w)), headers=post_headers,
                   timeout=600)
        fid = _location_fid(r)
        if r.status_code != 201 or fid is None:
            raise RuntimeError(f"{t.key}: warm-up POST failed: {_detail(r)}")
        r = s.delete(f"{t.items}/{fid}", headers=t.headers(), timeout=600)
        if r.status_code not in OK_STATUS["delete"]:
            raise RuntimeError(f"{t.key}: warm-up DELETE failed: {_detail(r)}")

    # -- create ------------------------------------------------------------------------------
    created: list[int] = []
    for i in range(ops):
        r = call("create", "POST", t.items, data=json.dumps(feature(i)), headers=post_headers)
        fid = _location_fid(r)
        if r.status_code == 201 and fid is None:
            failures.append(f"create: 201 without a usable Location ({r.headers.get('Location')})")
        if fid is not None:
            created.append(fid)

    # -- update: ours PATCH with If-Match (ETag from a GET); pygeoapi PUT of the feature -------
    wanted_floors: dict[int, int] = {}
    for i, fid in enumerate(created):
        url = f"{t.items}/{fid}"
        floors = 20 + i
        wanted_floors[fid] = floors
        if t.ours:
            g = call("read", "GET", url, params={"f": "json"}, headers=t.headers())
            etag = g.headers.get("ETag")
            if not etag:
                failures.append(f"read {fid}: no ETag ({_detail(g)})")
            h = t.headers(**{"Content-Type": GEOJSON, **({"If-Match": etag} if etag else {})})
            call("update", "PATCH", url, data=json.dumps({"properties": {"floors": floors}}),
                 headers=h)
        else:
            f = feature(i, fid)
            f["properties"]["floors"] = floors
            call("update", "PUT", url, data=json.dumps(f), headers=post_headers)

    # was the update applied? (untimed)
    for fid, floors in wanted_floors.items():
        r = s.get(f"{t.items}/{fid}", params={"f": "json"}, headers=t.headers(), timeout=120)
        got = (r.json().get("properties") or {}).get("floors") if r.status_code == 200 else None
        if got != floors:
            failures.append(f"after update: feature {fid} has floors={got!r}, sent {floors} "
                            f"({r.status_code})")

    # -- delete ------------------------------------------------------------------------------
    for fid in created:
        call("delete", "DELETE", f"{t.items}/{fid}", headers=t.headers())

    # -- gone? -------------------------------------------------------------------------------
    left = [fid for fid in created
            if s.get(f"{t.items}/{fid}", params={"f": "json"}, headers=t.headers(),
                     timeout=120).status_code != 404]
    if left:
        failures.append(f"still there after DELETE: {left}")
    matched = number_matched(t, s)
    if matched != t.n:
        failures.append(f"numberMatched {matched} after the edits, expected {t.n}")
    if len(created) != ops:
        failures.append(f"{ops - len(created)} of {ops} POSTs created nothing")

    out: dict = {"ops": ops, "created": len(created), "number_matched_after": matched,
                 "features_left": left, "failures": failures, "ops_detail": {}}
    for op in (*OPS, "read"):
        if not times[op]:
            continue
        arr = np.array(times[op])
        out["ops_detail"][op] = {
            "sent": OP_LABEL["ours" if t.ours else "pygeoapi"][op],
            "n": len(arr), "p50_ms": round(float(np.percentile(arr, 50)), 2),
            "p95_ms": round(float(np.percentile(arr, 95)), 2),
            "min_ms": round(float(arr.min()), 2), "max_ms": round(float(arr.max()), 2),
            "statuses": {str(k): v for k, v in sorted(statuses[op].items())},
            "failed": sum(v for k, v in statuses[op].items() if k not in OK_STATUS[op]),
            "times_ms": [round(x, 2) for x in times[op]],
        }
    if versions:
        out["last_version"] = versions[-1]
    return out


# ---------------------------------------------------------------------------------------------
# report

def print_table(results: dict, order: list[str]) -> None:
    print(f"\n{'server':<20} {'operation':<26} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} "
          f"{'n':>4} {'failed':>7}  statuses")
    print("-" * 100)
    for key in order:
        res = results.get(key)
        if res is None:
            continue
        if "error" in res:
            print(f"{key:<20} failed: {res['error'][:76]}")
            continue
        for op in (*OPS, "read"):
            d = res["ops_detail"].get(op)
            if d is None:
                continue
            st = ", ".join(f"{k}x{v}" for k, v in d["statuses"].items())
            print(f"{key:<20} {op + ': ' + d['sent']:<26} {d['p50_ms']:>9.1f} {d['p95_ms']:>9.1f} "
                  f"{d['max_ms']:>9.1f} {d['n']:>4} {d['failed']:>7}  {st}")
        print()


def ratios(results: dict) -> dict:
    out: dict = {}
    peer = results.get("pygeoapi-pg")
    for ours in ("ours-pg", "ours-gpkg"):
        mine = results.get(ours)
        if not mine or not peer or "error" in mine or "error" in peer:
            continue
        for op in OPS:
            a, b = mine["ops_detail"].get(op), peer["ops_detail"].get(op)
            if a and b:
                out.setdefault(f"{ours} / pygeoapi-pg", {})[op] = {
                    "p50": round(a["p50_ms"] / b["p50_ms"], 1) if b["p50_ms"] else None,
                    "p95": round(a["p95_ms"] / b["p95_ms"], 1) if b["p95_ms"] else None,
                    "compares": f"{a['sent']} / {b['sent']}"}
    return out


def size_cost(results: dict, n: int, small: int) -> dict:
    """Ours at N against ours at the small layer: what the copy-on-write costs per feature."""
    out: dict = {}
    for ours in ("ours-pg", "ours-gpkg"):
        big, little = results.get(ours), results.get(f"{ours}@{small}")
        if not big or not little or "error" in big or "error" in little:
            continue
        for op in OPS:
            a, b = big["ops_detail"].get(op), little["ops_detail"].get(op)
            if a and b:
                out.setdefault(ours, {})[op] = {
                    f"p50_ms_at_{small}": b["p50_ms"], f"p50_ms_at_{n}": a["p50_ms"],
                    "ratio": round(a["p50_ms"] / b["p50_ms"], 1) if b["p50_ms"] else None,
                    "ms_per_100000_features": round(100_000 * (a["p50_ms"] - b["p50_ms"])
                                                    / (n - small), 1) if n > small else None}
    return out


# ---------------------------------------------------------------------------------------------

def main() -> int:
    args = parse_args()
    keys = selected(args.only)
    n, small = args.features, args.small
    if small >= n:
        small = 0
    want_pg = any(k in ("ours-pg", "pygeoapi-pg") for k in keys)
    for tool in ("ogr2ogr", "psql"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (apt-get install gdal-bin postgresql-client)")

    ncpu = os.cpu_count() or 0
    print(f"machine: {platform.node()}, {ncpu} cores, {platform.processor() or platform.machine()}"
          f", Python {platform.python_version()}")

    data_dir = BENCH / ".data"
    data_dir.mkdir(parents=True, exist_ok=True)
    run_dir = data_dir / f"edits-run-{n}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    (run_dir / "logs").mkdir(parents=True)
    load_log = run_dir / "logs" / "load.log"

    gpkg = data_dir / f"buildings-{n}-seed{args.seed}.gpkg"
    if gpkg.exists():
        log(f"data: {gpkg} (cached)")
    else:
        log(f"generating {n:,} buildings -> {gpkg}")
        datagen.write_gpkg(gpkg, n, args.seed)

    report: dict = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"host": platform.node(), "cores": ncpu, "python": platform.python_version()},
        "features": n, "small_features": small, "ops": args.ops, "warmup": args.warmup,
        "seed": args.seed, "servers": {}, "load": {}, "results": {}, "warnings": [],
        "notes": [
            "sequential requests, one client, keep-alive; each server measured alone",
            "ours: every edit copies the current version and publishes the copy (O(layer size))",
            "pygeoapi 0.24: no PATCH route (405), so its update is a PUT of the whole feature "
            "(SQLAlchemy session.merge); its PUT answers 204, its DELETE 200",
        ],
    }
    cluster: PgCluster | None = None
    running: list[srv.Server] = []

    def on_term(signum, frame):  # SIGTERM like Ctrl-C: clean up
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    try:
        if "pygeoapi-pg" in keys:
            srv.ensure_peers_venv(log)
        base_env = {"GEOPORTAL_CONFIG_DIR": str(REPO / "config"), "GEOPORTAL_LOG_LEVEL": "WARNING"}
        small_gpkg = run_dir / f"buildings-{small}.gpkg"
        small_id = f"buildings-{small}"
        if small and any(k.startswith("ours") for k in keys):
            run(["ogr2ogr", "-f", "GPKG", str(small_gpkg), str(gpkg), "buildings",
                 "-nln", "buildings", "-limit", str(small)], logfile=load_log,
                what=f"ogr2ogr -limit {small} (municipal-size layer)")

        # -- loads ---------------------------------------------------------------------------
        envs: dict[str, dict[str, str]] = {}
        if want_pg:
            cluster = PgCluster(run_dir / "pg", srv.free_port())
            log(f"PostgreSQL 15 cluster in {cluster.datadir} on port {cluster.port}")
            cluster.init()
            cluster.start()
            cluster.create_db()
            report["postgres"] = {"version": cluster.psql("SHOW server_version"),
                                  "postgis": cluster.psql("SELECT postgis_lib_version()"),
                                  "tuning": TUNING}
        if "pygeoapi-pg" in keys:
            secs, _ = run(["ogr2ogr", "-f", "PostgreSQL", cluster.ogr_dsn, str(gpkg), "buildings",
                           "-nln", "ogr_buildings", "-lco", "FID=fid", "-lco", "GEOMETRY_NAME=geom",
                           "-nlt", "PROMOTE_TO_MULTI"], logfile=load_log,
                          what="ogr2ogr -> PostGIS (pygeoapi's table)")
            report["load"]["ogr_buildings"] = {"seconds": round(secs, 2)}
            seq = cluster.psql("SELECT pg_get_serial_sequence('public.ogr_buildings', 'fid')")
            if not seq:
                raise RuntimeError("ogr_buildings.fid has no sequence: pygeoapi cannot insert")
            nxt = cluster.psql(f"SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value "
                               f"END FROM {seq}")
            top = cluster.psql("SELECT coalesce(max(fid), 0) FROM public.ogr_buildings")
            log(f"ogr_buildings: fid sequence {seq} next {nxt}, max(fid) {top}")
            report["load"]["ogr_buildings"].update(sequence=seq, sequence_next=int(nxt),
                                                   max_fid=int(top))
            if int(nxt) <= int(top):
                warn(f"{seq} would hand out {nxt} <= max(fid) {top}: moved it past max(fid)")
                report["warnings"].append(f"ogr2ogr left {seq} behind max(fid); setval() made")
                cluster.psql(f"SELECT setval('{seq}', {top})")
        for key, store in (("ours-pg", "var-pg"), ("ours-gpkg", "var-gpkg")):
            if key not in keys:
                continue
            env = {**base_env, "GEOPORTAL_DATA_DIR": str(run_dir / store)}
            if key == "ours-pg":
                env["GEOPORTAL_DATABASE_URL"] = cluster.url
            envs[key] = env
            for path, layer, size in ((gpkg, "buildings", n), (small_gpkg, small_id, small)):
                if not size:
                    continue
                secs, _ = run([str(GEOPORTAL), "ingest", str(path), "--id", layer, "--theme",
                               "urban-infrastructure"], env=env, logfile=load_log,
                              what=f"geoportal ingest {size:,} -> {key}")
                report["load"][f"{key}/{layer}"] = {"seconds": round(secs, 2), "features": size}
        if cluster is not None:
            cluster.psql("ANALYZE")

        # -- servers -------------------------------------------------------------------------
        tokens = {key: make_token(env, load_log) for key, env in envs.items()}
        servers: dict[str, srv.Server] = {}
        for key in ("ours-pg", "ours-gpkg"):
            if key in keys:
                label = "ours, PostGIS store" if key == "ours-pg" else "ours, GeoPackage store"
                servers[key] = srv.ours(key, label, run_dir,
                                        Path(envs[key]["GEOPORTAL_DATA_DIR"]),
                                        envs[key].get("GEOPORTAL_DATABASE_URL"))
        if "pygeoapi-pg" in keys:
            servers["pygeoapi-pg"] = stock_pygeoapi_editable(run_dir, cluster)
        for s in servers.values():
            s.start()
            running.append(s)
        for s in servers.values():
            s.wait_ready()
            log(f"{s.key:<12} ready: {s.base}{s.items}")
            report["servers"][s.key] = {"label": s.label, "url": f"{s.base}{s.items}"}

        # -- the properties of a valid feature, from our queryables --------------------------
        schema_src = servers.get("ours-pg") or servers.get("ours-gpkg") or servers["pygeoapi-pg"]
        qr = requests.get(f"{schema_src.base}/collections/{schema_src.collection}/queryables",
                          params={"f": "json"}, timeout=60)
        qr.raise_for_status()
        props = editable_properties(qr.json())
        log(f"properties (from {schema_src.key}'s queryables): "
            + ", ".join(f"{k}:{v.get('type')}" for k, v in props.items()))
        if "pygeoapi-pg" in servers:
            s = servers["pygeoapi-pg"]
            pq = requests.get(f"{s.base}/collections/{s.collection}/queryables",
                              params={"f": "json"}, timeout=60)
            theirs = set(editable_properties(pq.json())) if pq.status_code == 200 else set()
            theirs.discard("fid")
            if theirs and theirs != set(props):
                warn(f"pygeoapi's queryables {sorted(theirs)} differ from ours {sorted(props)}")
        report["properties"] = {k: v.get("type") for k, v in props.items()}
        if "pygeoapi-pg" in servers:
            report["pygeoapi_patch_probe"] = patch_probe(servers["pygeoapi-pg"])

        targets: list[Target] = []
        for key in ("pygeoapi-pg", "ours-pg", "ours-gpkg"):
            if key not in servers:
                continue
            s = servers[key]
            ours = key.startswith("ours")
            targets.append(Target(key, s, s.collection, n, tokens.get(key), ours, props))
            if ours and small:
                targets.append(Target(f"{key}@{small}", s, small_id, small, tokens[key], True,
                                      props))

        # -- the edits -----------------------------------------------------------------------
        for t in targets:
            if cluster is not None:
                cluster.psql("CHECKPOINT")  # no one pays for the previous server's writes
            upd = OP_LABEL["ours" if t.ours else "pygeoapi"]["update"]
            log(f"{t.key}: {args.ops} x POST, {upd}, DELETE on {t.items} ({t.n:,} features)")
            try:
                res = edit_run(t, args.ops, args.warmup)
            except (RuntimeError, requests.RequestException, ValueError) as exc:
                warn(f"{t.key}: {exc}")
                report["results"][t.key] = {"error": str(exc)}
                report["warnings"].append(f"{t.key}: {exc}")
                continue
            report["results"][t.key] = res
            summary = "; ".join(f"{op} p50 {d['p50_ms']:.1f} ms"
                                for op, d in res["ops_detail"].items())
            log(f"   {summary}; {len(res['failures'])} failures")
            for f in res["failures"]:
                warn(f"{t.key}: {f}")
                report["warnings"].append(f"{t.key}: {f}")

        # -- report --------------------------------------------------------------------------
        order = [t.key for t in targets]
        print_table(report["results"], order)
        report["ratios"] = ratios(report["results"])
        if report["ratios"]:
            print("ours / pygeoapi (p50 and p95 latency; > 1 means ours is slower)")
            for pair, per in report["ratios"].items():
                for op, v in per.items():
                    print(f"  {pair:<26} {op:<7} p50 {v['p50']}x   p95 {v['p95']}x   "
                          f"({v['compares']})")
            print()
        report["size_cost"] = size_cost(report["results"], n, small) if small else {}
        if report["size_cost"]:
            print(f"one edit of ours: p50 at {small:,} features (municipal layer) vs {n:,}")
            for ours, per in report["size_cost"].items():
                for op, v in per.items():
                    print(f"  {ours:<10} {op:<7} {v[f'p50_ms_at_{small}']:>8.1f} ms  ->  "
                          f"{v[f'p50_ms_at_{n}']:>8.1f} ms  ({v['ratio']}x; "
                          f"+{v['ms_per_100000_features']} ms per 100,000 features)")
            print()
        for w in report["warnings"]:
            print(f"WARNING: {w}")
        if not report["warnings"]:
            print("all answers as expected; the created features are gone and numberMatched "
                  "is back to N on every layer")
    except KeyboardInterrupt:
        warn("interrupted: stopping servers and the cluster")
        return 130
    finally:
        for s in reversed(running):
            s.stop()
        if cluster is not None:
            cluster.stop()
            if not args.keep:
                shutil.rmtree(run_dir / "pg", ignore_errors=True)

    if not args.no_save and report["results"]:
        out_dir = BENCH / "results"
        out_dir.mkdir(exist_ok=True)
        out = out_dir / f"edits-{dt.datetime.now().strftime('%Y-%m-%dT%H%M%S')}.json"
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        log(f"results: {out}")
    return 0


def patch_probe(s: srv.Server) -> dict:
    """What stock pygeoapi does with a PATCH of an item (its feature 1, with the value it has):
    0.24 routes only GET, PUT, DELETE and OPTIONS there, so Flask answers 405."""
    url = f"{s.base}{s.items}/1"
    floors = (requests.get(url, params={"f": "json"}, timeout=60).json().get("properties")
              or {}).get("floors")
    r = requests.patch(url, data=json.dumps({"properties": {"floors": floors}}),
                       headers={"Content-Type": GEOJSON}, timeout=60)
    o = requests.options(url, timeout=60)
    out = {"patch_status": r.status_code, "allow_on_405": r.headers.get("Allow"),
           "options_allow": o.headers.get("Allow")}
    log(f"pygeoapi-pg: PATCH {url} -> {r.status_code} (Allow: {out['allow_on_405']}); "
        f"OPTIONS Allow: {out['options_allow']}")
    return out


def stock_pygeoapi_editable(run_dir: Path, cluster: PgCluster) -> srv.Server:
    """Stock pygeoapi 0.24 (gunicorn, 2 workers) with the PostgreSQL provider over
    public.ogr_buildings, ``editable: true``; its OpenAPI document generated from that config."""
    port = srv.free_port()
    resources = PYGEOAPI_PG_EDITABLE.format(port=cluster.port, dbname=cluster.dbname,
                                            table="ogr_buildings")
    cfg = run_dir / "pygeoapi-config.yml"
    cfg.write_text(srv.PYGEOAPI_CONFIG.format(port=port, resources=resources.rstrip()))
    openapi = run_dir / "pygeoapi-openapi.yml"
    peers_bin = srv.PEERS_VENV / "bin"
    env = {"PYGEOAPI_CONFIG": str(cfg), "PYGEOAPI_OPENAPI": str(openapi)}
    with openapi.open("w") as out:
        subprocess.run([str(peers_bin / "pygeoapi"), "openapi", "generate", str(cfg)],
                       env={**os.environ, **env}, stdout=out, check=True, cwd=run_dir)
    cmd = [str(peers_bin / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
           "--log-level", "warning", "pygeoapi.flask_app:APP"]
    return srv.Server("pygeoapi-pg", "stock pygeoapi 0.24, PostgreSQL provider (editable)",
                      port, "buildings-pg", cmd, env, run_dir / "logs" / "pygeoapi.log",
                      cwd=run_dir)


if __name__ == "__main__":
    sys.exit(main())
