"""The classic services' speed: a WMS GetMap of a z14 tile of the 1,000,000 buildings against
MapServer alone on the same mapfile, and cached WMTS tiles per second against our cached
vector tiles (the same server, the same tiles).

    .venv/bin/python benchmarks/ows.py                        # 1,000,000 buildings, GeoPackage
    .venv/bin/python benchmarks/ows.py --features 100000 --tiles 40 --duration 5   # quick
    .venv/bin/python benchmarks/ows.py --store postgis        # the PostGIS store (own cluster)

What it does: generates the buildings (``datagen``, cached in ``benchmarks/.data``), publishes
them with ``geoportal ingest`` into a data folder of its own, starts ``geoportal serve`` (2
workers) and then, for each of ``--tiles`` z14 tiles near city centres (``serve.tile_lists``):

- **GetMap through the portal**: ``/wms?...&REQUEST=GetMap&WIDTH=256&HEIGHT=256`` (EPSG:3857),
  one request at a time, timed by the client;
- **MapServer alone**: one ``mapserv`` kept running (FastCGI, as the portal keeps them), asked
  directly with the same mapfile, query string and environment, in turn with the above, so
  both see the same machine; and for reference ``mapserv`` started per request (CGI);
- **WMTS uncached**: the tile through ``/wmts/1.0.0/.../{z}/{y}/{x}.png`` the first time (a
  384 px render cut to 256 px);

then ``wrk`` (2 threads, 16 connections) on the cached WMTS tiles of the 50 largest cities and
on the same tiles as cached vector tiles. Figures go to stdout and
``benchmarks/results/ows-<date>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import requests

from geoportal.server.ows.fastcgi import EngineProcess

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datagen
import servers as srv
from serve import tile_lists, write_tiles

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
GEOPORTAL = REPO / ".venv" / "bin" / "geoportal"
WMTS_TILE = "/wmts/1.0.0/buildings/default/WebMercatorQuad/{z}/{y}/{x}.png"
MVT_TILE = "/collections/buildings/tiles/WebMercatorQuad/{z}/{y}/{x}"


def log(msg: str) -> None:
    print(f"[ows] {msg}", file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--features", type=int, default=1_000_000, help="buildings to generate")
    p.add_argument("--tiles", type=int, default=100, help="z14 tiles timed one by one")
    p.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    p.add_argument("--store", choices=("gpkg", "postgis"), default="gpkg")
    p.add_argument("--seed", type=int, default=20240611)
    p.add_argument("--no-save", action="store_true", help="do not write benchmarks/results")
    return p.parse_args()


def mercator_box(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    import morecantile

    box = morecantile.tms.get("WebMercatorQuad").xy_bounds(morecantile.Tile(x, y, z))
    return box.left, box.bottom, box.right, box.top


def getmap_params(box: tuple[float, float, float, float]) -> list[tuple[str, str]]:
    return [("SERVICE", "WMS"), ("VERSION", "1.3.0"), ("REQUEST", "GetMap"),
            ("LAYERS", "buildings"), ("STYLES", ""), ("CRS", "EPSG:3857"),
            ("BBOX", ",".join(repr(v) for v in box)), ("WIDTH", "256"), ("HEIGHT", "256"),
            ("FORMAT", "image/png"), ("TRANSPARENT", "TRUE")]


def newest_mapfile(workdir: Path) -> Path:
    """The mapfile the portal wrote for the buildings layer alone."""
    found = [p for p in workdir.glob("*.map") if 'NAME "buildings"' in p.read_text()
             and p.read_text().count("\nLAYER") == 1]
    if not found:
        raise RuntimeError(f"no mapfile of the buildings layer in {workdir}")
    return max(found, key=lambda p: p.stat().st_mtime)


def engine_env(workdir: Path, mapfile: Path, params: list[tuple[str, str]],
               password: str | None) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "MAPSERVER_CONFIG_FILE": str(workdir / "mapserver.conf"),
           "MS_MAPFILE": str(mapfile), "QUERY_STRING": urlencode(params),
           "REQUEST_METHOD": "GET", "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
           "PROJ_NETWORK": "OFF", "PROJ_DATA": str(workdir / "proj"), "CPL_LOG": "/dev/null"}
    if password:
        env["PGPASSWORD"] = password
    return env


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
            "mean_ms": round(statistics.fmean(ordered), 2), "n": len(ordered)}


def wrk(base: str, template: str, tiles_file: Path, seconds: int) -> dict:
    cmd = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout=30s", "-s",
           str(BENCH / "scenarios.lua"), base, "--", "tiles-cached", template, "0",
           str(tiles_file), "2"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    line = next((ln for ln in reversed(out.stdout.splitlines()) if ln.startswith("{")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed: {out.stderr[-500:]}")
    result = json.loads(line)
    result["errors"] = sum(result.get(k, 0) for k in ("non2xx", "connect_errors",
                                                        "read_errors", "write_errors",
                                                        "timeouts"))
    return result


def main() -> int:
    args = parse_args()
    n = args.features
    data = BENCH / ".data"
    data.mkdir(parents=True, exist_ok=True)
    gpkg = data / f"buildings-{n}-seed{args.seed}.gpkg"
    if not gpkg.exists():
        log(f"generating {n:,} buildings into {gpkg}")
        datagen.write_gpkg(gpkg, n, args.seed)
    run_dir = data / f"ows-{n}-{args.store}"
    data_dir = run_dir / "var"
    env = {**os.environ, "GEOPORTAL_DATA_DIR": str(data_dir),
           "GEOPORTAL_CONFIG_DIR": str(REPO / "config"), "GEOPORTAL_LOG_LEVEL": "WARNING"}
    cluster = None
    database_url = None
    if args.store == "postgis":
        from pgcluster import PgCluster

        cluster = PgCluster(run_dir / "pg", srv.free_port())
        fresh = not cluster.datadir.exists()
        if fresh:
            cluster.init()
        cluster.start()
        if fresh:
            cluster.create_db()
        database_url = cluster.url
        env["GEOPORTAL_DATABASE_URL"] = database_url
    server = None
    engine = None
    try:
        listed = subprocess.run([str(GEOPORTAL), "layers"], env=env, capture_output=True,
                                text=True)
        if "buildings" not in listed.stdout:
            subprocess.run([str(GEOPORTAL), "init"], env=env, check=True, capture_output=True)
            log(f"ingesting {gpkg.name} ({args.store} store)")
            started = time.monotonic()
            subprocess.run([str(GEOPORTAL), "ingest", str(gpkg), "--id", "buildings",
                            "--theme", "urban-infrastructure"], env=env,
                           check=True, capture_output=True)
            log(f"ingested in {time.monotonic() - started:.0f} s")
        server = srv.ours("ours", "geoportal", run_dir, data_dir, database_url)
        server.start()
        server.wait_ready()
        base = server.base
        tiles = tile_lists(args.seed)
        timed = tiles["uncached"][:args.tiles]
        workdir = data_dir / "run" / "mapserver"
        password = None
        if database_url:
            from urllib.parse import urlsplit

            password = urlsplit(database_url).password

        # warm: the engine's first run, the portal's first mapfile
        requests.get(f"{base}/wms", params=getmap_params(mercator_box(*tiles["warmup"][0])),
                     timeout=120).raise_for_status()
        mapfile = newest_mapfile(workdir)
        ours, alone, cgi_alone, wmts_first = [], [], [], []
        session = requests.Session()
        # the engine alone: one mapserv kept running (FastCGI), asked directly, no server
        warm = engine_env(workdir, mapfile, getmap_params(mercator_box(*tiles["warmup"][1])),
                          password)
        engine = EngineProcess(shutil.which("mapserv") or "mapserv", warm, str(workdir),
                               1536 * 1024 * 1024)
        engine.ask({**warm, "CONTENT_LENGTH": "0"}, b"", 120)
        for z, x, y in timed:
            params = getmap_params(mercator_box(z, x, y))
            started = time.perf_counter()
            answer = session.get(f"{base}/wms", params=params, timeout=120)
            ours.append((time.perf_counter() - started) * 1000)
            if answer.headers.get("Content-Type") != "image/png":
                raise RuntimeError(f"GetMap gave {answer.headers.get('Content-Type')}: "
                                   f"{answer.text[:300]}")
            cgi = engine_env(workdir, mapfile, params, password)
            started = time.perf_counter()
            out = engine.ask({**cgi, "CONTENT_LENGTH": "0"}, b"", 120)
            alone.append((time.perf_counter() - started) * 1000)
            if b"image/png" not in out[:200]:
                raise RuntimeError(f"mapserv alone: {out[:300]!r}")
            started = time.perf_counter()
            out = subprocess.run(["mapserv"], env=cgi, capture_output=True,
                                 timeout=120).stdout
            cgi_alone.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            tile = session.get(base + WMTS_TILE.format(z=z, x=x, y=y), timeout=120)
            wmts_first.append((time.perf_counter() - started) * 1000)
            tile.raise_for_status()
        report = {
            "date": dt.datetime.now().isoformat(timespec="seconds"),
            "machine": {"host": platform.node(), "cores": os.cpu_count(),
                        "python": platform.python_version()},
            "features": n, "store": args.store, "tiles_timed": len(timed),
            "getmap_portal": stats(ours), "getmap_mapserv_alone": stats(alone),
            "getmap_mapserv_cgi_alone": stats(cgi_alone),
            "wmts_uncached": stats(wmts_first),
        }
        report["getmap_ratio_median"] = round(report["getmap_portal"]["median_ms"]
                                              / report["getmap_mapserv_alone"]["median_ms"], 2)
        cached_file = write_tiles(run_dir / "tiles-cached.tsv", tiles["cached"])
        for z, x, y in tiles["cached"]:  # warm both caches in both workers
            for _ in range(4):
                session.get(base + WMTS_TILE.format(z=z, x=x, y=y), timeout=120)
                session.get(base + MVT_TILE.format(z=z, x=x, y=y), timeout=120)
        report["wmts_cached"] = wrk(base, WMTS_TILE, cached_file, args.duration)
        report["mvt_cached"] = wrk(base, MVT_TILE, cached_file, args.duration)
        report["cached_ratio"] = round(report["wmts_cached"]["rps"]
                                       / report["mvt_cached"]["rps"], 2)
    finally:
        if engine is not None:
            engine.kill()
        if server is not None:
            server.stop()
        if cluster is not None:
            cluster.stop()
    g, a = report["getmap_portal"], report["getmap_mapserv_alone"]
    print(f"{n:,} buildings, {args.store} store, {len(timed)} z14 tiles of 256 px near city "
          f"centres, one at a time:")
    print(f"  GetMap through the portal  median {g['median_ms']:7.1f} ms  p95 "
          f"{g['p95_ms']:7.1f} ms")
    print(f"  mapserv alone (kept running, same map) median {a['median_ms']:7.1f} ms  p95 "
          f"{a['p95_ms']:7.1f} ms   portal/alone {report['getmap_ratio_median']:.2f}x "
          "(target: within 2x)")
    c1 = report["getmap_mapserv_cgi_alone"]
    print(f"  mapserv alone, a process per request    median {c1['median_ms']:7.1f} ms  p95 "
          f"{c1['p95_ms']:7.1f} ms")
    w = report["wmts_uncached"]
    print(f"  WMTS tile, first time      median {w['median_ms']:7.1f} ms  p95 "
          f"{w['p95_ms']:7.1f} ms   (384 px drawn, 256 px cut)")
    c, m = report["wmts_cached"], report["mvt_cached"]
    print(f"cached tiles, wrk 2 threads x 16 connections, {args.duration} s, 50 tiles:")
    print(f"  WMTS PNG                   {c['rps']:8.0f} req/s  p99 {c['p99_ms']:.1f} ms  errors "
          f"{c['errors']}   (target: over 1,000)")
    print(f"  vector tiles (MVT)         {m['rps']:8.0f} req/s  p99 {m['p99_ms']:.1f} ms  errors "
          f"{m['errors']}   WMTS/MVT {report['cached_ratio']:.2f}x")
    if not args.no_save:
        out = BENCH / "results" / f"ows-{dt.date.today().isoformat()}-{args.store}.json"
        out.write_text(json.dumps(report, indent=2) + "\n")
        log(f"saved {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
