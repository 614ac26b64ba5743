"""Noisy neighbour: how much do the heaviest legal requests slow down everyone else?

Two runs against the same ``geoportal serve`` (default settings: the worker class, threads,
heavy-request gate and time budgets a fresh ``make run`` gets), on the synthetic buildings layer
of ``serve.py`` (``datagen.py``):

1. **alone**: ``--clients`` clients send ordinary requests (a 500 m ``bbox`` page of 100
   buildings near a city centre) for ``--duration`` seconds;
2. **noisy**: the same clients, while ``--heavy`` more clients loop over the heaviest requests
   an anonymous visitor may legally send: a LIKE with twelve ``%``, ``S_DWITHIN`` at the largest
   distance allowed, a filter at the nesting limit, a whole-layer GeoJSON download, low-zoom
   vector tiles, a deep page.

Every client has an address of its own (``X-Forwarded-For``, which the portal believes from
127.0.0.1), so per-address shares and rates apply to each as to separate visitors. It prints
the ordinary requests' p50/p95/p99 and throughput in both runs, the ratio noisy /
alone (the peer is the same portal undisturbed), and what the heavy clients got (200, 503 over
budget, 429 rate-limited, 400 over a limit). Results go to ``benchmarks/results/noisy-*.json``.

    .venv/bin/python benchmarks/noisy.py                          # 300,000 buildings, GeoPackage
    .venv/bin/python benchmarks/noisy.py --store postgis          # the PostGIS store
    .venv/bin/python benchmarks/noisy.py --features 50000 --duration 10   # quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import datagen  # noqa: E402
import servers as srv  # noqa: E402
from pgcluster import PgCluster  # noqa: E402
from serve import GEOPORTAL, sample_bboxes  # noqa: E402

from geoportal.storage import cql  # noqa: E402


def heavy_requests(collection: str, rnd: random.Random) -> list[tuple[str, str, dict]]:
    """(label, path, params) of the heaviest requests an anonymous client may legally send."""
    items = f"/collections/{collection}/items"
    distance = cql.MAX_DWITHIN_M
    depth = cql.MAX_DEPTH - 4
    nots = "NOT " * (depth - (depth % 2))  # an even count: the filter still matches
    lon, lat = 27.56 + rnd.uniform(-0.05, 0.05), 53.90 + rnd.uniform(-0.05, 0.05)
    z = rnd.choice([4, 5, 6])
    x, y = _tile(lon, lat, z)
    return [
        ("like-12%", items, {"filter": "name LIKE '" + "%" * 12 + "z'", "limit": 100}),
        ("dwithin-max", items, {
            "filter": f"S_DWITHIN(geometry, POINT({lon:.4f} {lat:.4f}), {distance}, meters)",
            "limit": 1000}),
        ("deep-not", items, {"filter": f"{nots}(floors > 3)", "limit": 1000}),
        ("download-geojson", f"/collections/{collection}/download", {"f": "geojson"}),
        (f"tile-z{z}", f"/collections/{collection}/tiles/WebMercatorQuad/{z}/{y}/{x}", {}),
        ("deep-page", items, {"offset": rnd.randrange(100_000), "limit": 1000,
                              "sortby": "-name"}),
    ]


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _ordinary(base: str, collection: str, seed: int, until: float, out: mp.Queue) -> None:
    boxes = sample_bboxes(2000, seed)
    session = requests.Session()
    session.headers["X-Forwarded-For"] = f"203.0.113.{seed % 200 + 1}"
    times, statuses = [], {}
    i = 0
    while time.monotonic() < until:
        box = boxes[i % len(boxes)]
        i += 1
        t0 = time.perf_counter()
        try:
            r = session.get(f"{base}/collections/{collection}/items", timeout=120, params={
                "bbox": ",".join(f"{v:.6f}" for v in box), "limit": 100, "f": "json"})
            status = str(r.status_code)
        except requests.RequestException as exc:
            status = type(exc).__name__
        times.append(time.perf_counter() - t0)
        statuses[status] = statuses.get(status, 0) + 1
    out.put(("ordinary", times, statuses, {}))


def _heavy(base: str, collection: str, seed: int, until: float, out: mp.Queue,
           without: tuple[str, ...] = ()) -> None:
    rnd = random.Random(seed)
    session = requests.Session()
    # each heavy client its own address (the portal trusts a proxy on 127.0.0.1), so that
    # the per-address shares and rates do not make four clients one
    session.headers["X-Forwarded-For"] = f"198.51.100.{seed % 200 + 1}"
    statuses: dict[str, int] = {}
    per_kind: dict[str, list[float]] = {}
    while time.monotonic() < until:
        for label, path, params in heavy_requests(collection, rnd):
            if label.split("-z")[0] in without or label in without:
                continue
            if time.monotonic() >= until:
                break
            t0 = time.perf_counter()
            try:
                with session.get(base + path, params=params, timeout=700, stream=True) as r:
                    for _ in r.iter_content(1 << 16):
                        pass
                    status = str(r.status_code)
            except requests.RequestException as exc:
                status = type(exc).__name__
            per_kind.setdefault(f"{label} {status}", []).append(time.perf_counter() - t0)
            statuses[status] = statuses.get(status, 0) + 1
    out.put(("heavy", [], statuses, per_kind))


def run(base: str, collection: str, clients: int, heavy: int, duration: float,
        seed: int, without: tuple[str, ...] = ()) -> dict:
    """Drive ``clients`` ordinary and ``heavy`` heavy client processes for ``duration``."""
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    until = time.monotonic() + duration
    procs = [ctx.Process(target=_ordinary, args=(base, collection, seed + i, until, out))
             for i in range(clients)]
    procs += [ctx.Process(target=_heavy,
                          args=(base, collection, seed + 100 + i, until, out, without))
              for i in range(heavy)]
    for p in procs:
        p.start()
    times: list[float] = []
    ordinary_status: dict[str, int] = {}
    heavy_status: dict[str, int] = {}
    kinds: dict[str, list[float]] = {}
    for _ in procs:
        role, t, st, pk = out.get(timeout=duration + 900)
        target = ordinary_status if role == "ordinary" else heavy_status
        for k, v in st.items():
            target[k] = target.get(k, 0) + v
        times += t
        for k, v in pk.items():
            kinds.setdefault(k, []).extend(v)
    for p in procs:
        p.join(timeout=60)
    times.sort()

    def pct(q: float) -> float | None:
        return round(1000 * times[min(len(times) - 1, int(q * len(times)))], 1) if times else None

    return {"requests": len(times), "req_per_s": round(len(times) / duration, 1),
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "max_ms": round(1000 * times[-1], 1) if times else None,
            "statuses": ordinary_status, "heavy_statuses": heavy_status,
            "heavy_kinds": {k: {"n": len(v), "median_s": round(statistics.median(v), 2),
                                "max_s": round(max(v), 2)} for k, v in sorted(kinds.items())}}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--features", type=int, default=300_000, help="buildings to generate")
    p.add_argument("--store", choices=["gpkg", "postgis"], default="gpkg")
    p.add_argument("--duration", type=float, default=20, help="seconds per run")
    p.add_argument("--clients", type=int, default=4, help="ordinary clients")
    p.add_argument("--heavy", type=int, default=4, help="clients sending heavy requests")
    p.add_argument("--without", default="", help="comma list of heavy requests to leave out "
                   "(like-12%%, dwithin-max, deep-not, download-geojson, tile, deep-page)")
    p.add_argument("--seed", type=int, default=20240611)
    p.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    n = args.features
    data = BENCH / ".data"
    data.mkdir(parents=True, exist_ok=True)
    gpkg = data / f"buildings-{n}-seed{args.seed}.gpkg"
    if not gpkg.exists():
        print(f"generating {n:,} buildings -> {gpkg}", flush=True)
        datagen.write_gpkg(gpkg, n, args.seed)
    run_dir = data / f"noisy-{n}-{args.store}"
    subprocess.run(["rm", "-rf", str(run_dir)], check=True)
    (run_dir / "logs").mkdir(parents=True)
    cluster = None
    server = None

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        env = {**os.environ, "GEOPORTAL_CONFIG_DIR": str(BENCH.parent / "config"),
               "GEOPORTAL_DATA_DIR": str(run_dir / "var"), "GEOPORTAL_LOG_LEVEL": "WARNING"}
        database_url = None
        if args.store == "postgis":
            cluster = PgCluster(run_dir / "pg", srv.free_port())
            cluster.init()
            cluster.start()
            cluster.create_db()
            database_url = env["GEOPORTAL_DATABASE_URL"] = cluster.url
        t0 = time.perf_counter()
        subprocess.run([str(GEOPORTAL), "-q", "ingest", str(gpkg), "--id", "buildings",
                        "--theme", "urban-infrastructure"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        print(f"ingested {n:,} buildings into the {args.store} store in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        server = srv.ours(f"ours-{args.store}", "ours", run_dir, run_dir / "var", database_url)
        server.start()
        server.wait_ready()
        for label, path, params in heavy_requests("buildings", random.Random(1)):
            r = requests.get(server.base + path, params=params, timeout=700)
            print(f"  heavy request {label}: HTTP {r.status_code}, {len(r.content):,} bytes, "
                  f"{r.elapsed.total_seconds():.2f} s alone")
        results = {}
        for name, heavy in (("alone", 0), ("noisy", args.heavy)):
            print(f"run {name}: {args.clients} ordinary clients + {heavy} heavy, "
                  f"{args.duration:.0f} s", flush=True)
            results[name] = run(server.base, "buildings", args.clients, heavy, args.duration,
                                args.seed, tuple(filter(None, args.without.split(","))))
            time.sleep(3)
    except KeyboardInterrupt:
        return 130
    finally:
        if server is not None:
            server.stop()
        if cluster is not None:
            cluster.stop()

    alone, noisy = results["alone"], results["noisy"]
    print(f"\nmachine: {platform.node()}, {os.cpu_count()} cores; store {args.store}, "
          f"{n:,} buildings; ordinary = bbox page of 100 near a city centre")
    print(f"{'run':<7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}  statuses")
    for name, r in results.items():
        print(f"{name:<7}{r['req_per_s']:>8}{r['p50_ms']:>9}{r['p95_ms']:>9}{r['p99_ms']:>9}"
              f"{r['max_ms']:>9}  {r['statuses']}")
    ratio = noisy["p95_ms"] / alone["p95_ms"] if alone["p95_ms"] else float("nan")
    print(f"ordinary p95 noisy / alone: {ratio:.2f}x "
          f"({'within' if noisy['p95_ms'] <= 100 else 'OVER'} the 100 ms target)")
    print(f"heavy clients got: {noisy['heavy_statuses']}")
    for kind, v in noisy["heavy_kinds"].items():
        print(f"  {kind:<28} n={v['n']:<4} median {v['median_s']:.2f} s, max {v['max_s']:.2f} s")
    if not args.no_save:
        stamp = dt.datetime.now().strftime("%Y-%m-%dT%H%M%S")
        path = BENCH / "results" / f"noisy-{stamp}-{args.store}.json"
        path.write_text(json.dumps({"date": stamp, "features": n, "store": args.store,
                                    "clients": args.clients, "heavy": args.heavy,
                                    "duration_s": args.duration, "cores": os.cpu_count(),
                                    "p95_ratio": round(ratio, 2), **results}, indent=1))
        print(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
