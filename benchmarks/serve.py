#!/usr/bin/env python3
"""Serving benchmark: our OGC API - Features (and Tiles) server against tipg and stock pygeoapi.

    .venv/bin/python benchmarks/serve.py [--features 1000000] [--duration 20]
                                         [--only gpkg|postgis|ours-pg,tipg,...]

1. generates (once, cached in benchmarks/.data/) a GeoPackage of N synthetic buildings
   clustered on Belarus's 94 cities;
2. starts a throwaway PostgreSQL 15 + PostGIS cluster in the run dir, and times the loads:
   `geoportal ingest` into the PostGIS store and into the GeoPackage store, and
   `ogr2ogr -f PostgreSQL` (the reference for a bulk load) into the same database;
3. starts, each with 2 workers on 127.0.0.1: ours on PostGIS, tipg on the same table, ours on
   GeoPackage, stock pygeoapi 0.24 on the same .gpkg file (SQLiteGPKG and OGR providers);
4. checks that every server returns the same features for the same queries;
5. runs wrk (scenarios.lua) per scenario x server and prints req/s, p50, p95, errors and the
   ratios; writes benchmarks/results/serve-<date>.json. The scenarios `tiles` (uncached z14
   vector tiles around the city centres) and `tiles-cached` (50 tiles over and over) run against
   the servers that serve vector tiles (ours, tipg, stock pygeoapi's MVT-postgresql provider).

See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUR_PY = REPO / ".venv" / "bin" / "python"

try:
    import numpy  # noqa: F401
    import pyogrio  # noqa: F401
    import requests
except ImportError:  # run with the project's venv, which has them
    if OUR_PY.exists() and Path(sys.executable).resolve() != OUR_PY.resolve():
        os.execv(str(OUR_PY), [str(OUR_PY), *sys.argv])
    raise

sys.path.insert(0, str(BENCH))
import datagen  # noqa: E402
import rawsql  # noqa: E402
import servers as srv  # noqa: E402
from pgcluster import TUNING, PgCluster  # noqa: E402

GEOPORTAL = REPO / ".venv" / "bin" / "geoportal"
SCENARIOS = ("bbox", "item", "offset", "cql", "crs", "tiles", "tiles-cached")
TILE_SCENARIOS = ("tiles", "tiles-cached")
TILE_ZOOM = 14
TILE_REACH_SIGMA = 1.5  # tiles within 1.5 sigma of each city centre (at least the 3x3 block)
CACHED_TILES = 50  # the centre tiles of the 50 largest cities
GROUPS = {
    "postgis": ["ours-pg", "tipg", "pygeoapi-pg", "raw-pg"],
    "gpkg": ["ours-gpkg", "pygeoapi-sqlite", "pygeoapi-ogr", "raw-sqlite"],
}
ALL_SERVERS = GROUPS["postgis"] + GROUPS["gpkg"]
RATIOS = [("ours-pg", "tipg"), ("ours-pg", "pygeoapi-pg"), ("ours-pg", "raw-pg"),
          ("ours-pg", "raw-pg-seek"),
          ("ours-gpkg", "pygeoapi-sqlite"), ("ours-gpkg", "pygeoapi-ogr"),
          ("ours-gpkg", "raw-sqlite"), ("ours-gpkg", "raw-sqlite-seek")]
# raw-pg runs our PostGIS store's ST_AsMVT statement, raw-sqlite our GeoPackage store's query and
# encoder in-process: both are floors for ours-gpkg (the target is ST_AsMVT's p50)
TILE_RATIOS = [("ours-pg", "tipg"), ("ours-gpkg", "tipg"), ("ours-pg", "pygeoapi-pg"),
               ("ours-gpkg", "pygeoapi-pg"), ("ours-pg", "raw-pg"), ("ours-gpkg", "raw-pg"),
               ("ours-gpkg", "raw-sqlite")]
NO_TILES = {  # why a server is not timed on the tile scenarios
    "pygeoapi-sqlite": "stock pygeoapi 0.24 has no vector tile provider for GeoPackage/SQLite",
    "pygeoapi-ogr": "stock pygeoapi 0.24 has no vector tile provider for OGR sources",
}
RAW = {"raw-pg", "raw-sqlite"}  # no server: the same SQL in 4 client processes (rawsql.py)
EPSG_28405 = "http://www.opengis.net/def/crs/EPSG/0/28405"
CQL_PROBE = "kind = 'school' AND floors BETWEEN 2 AND 5"
BOXES = 2000  # pre-drawn 500 m boxes for `bbox` and `crs`, walked by every server and raw SQL


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def warn(msg: str) -> None:
    print(f"WARNING: {msg}", flush=True)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--features", type=int, default=1_000_000, help="buildings to generate")
    p.add_argument("--duration", type=int, default=20, help="seconds per scenario and server")
    p.add_argument("--warmup", type=int, default=3, help="warm-up seconds before each run")
    p.add_argument("--only", default="", help="gpkg, postgis, or a comma list of "
                   + ", ".join(ALL_SERVERS))
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma list of "
                   + ", ".join(SCENARIOS))
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--timeout", type=int, default=60, help="wrk per-request timeout, seconds")
    p.add_argument("--seed", type=int, default=20240611)
    p.add_argument("--random-boxes", action="store_true",
                   help="bbox/crs: draw a box per request in the Lua script (the method before "
                        "2026-12-07) instead of walking the file of 2,000 pre-drawn boxes")
    p.add_argument("--scale-out", action="store_true",
                   help="instead of the per-node comparison: bbox and tiles through HAProxy "
                        "with one portal node and with two, reads on the primary and on the "
                        "replica (benchmarks/scaleout.py)")
    p.add_argument("--node-workers", type=int, default=2,
                   help="--scale-out: gunicorn workers per portal node")
    p.add_argument("--node-threads", type=int, default=8,
                   help="--scale-out: threads per worker")
    p.add_argument("--keep", action="store_true", help="keep the run dir (cluster, stores)")
    p.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    return p.parse_args()


def selected(only: str) -> list[str]:
    if not only:
        return list(ALL_SERVERS)
    out: list[str] = []
    for part in only.split(","):
        part = part.strip()
        for key in GROUPS.get(part, [part]):
            if key not in ALL_SERVERS:
                sys.exit(f"--only: unknown server or group {part!r}")
            if key not in out:
                out.append(key)
    return out


def timed(cmd: list[str], env: dict[str, str] | None = None, logfile: Path | None = None,
          what: str = "") -> float:
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
    log(f"{what}: {secs:.1f} s  {r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ''}")
    return secs


def layer_store_ref(env: dict[str, str], catalog: str) -> str:
    """The current version's store_ref: from `geoportal layer show`, else from the catalog."""
    r = subprocess.run([str(GEOPORTAL), "layer", "show", "buildings"],
                       env={**os.environ, **env}, cwd=REPO, capture_output=True, text=True)
    if r.returncode == 0:
        cur = json.loads(r.stdout).get("current") or {}
        if cur.get("store_ref"):
            return cur["store_ref"]
    # `layer show` does not print it (yet): ask the catalog
    sql = ("SELECT store_ref FROM versions WHERE layer_id='buildings' AND status='current'")
    if catalog.startswith("postgresql"):
        out = subprocess.run(["psql", "-X", "-At", catalog, "-c", sql], capture_output=True,
                             text=True, check=True).stdout.strip()
    else:
        with sqlite3.connect(catalog) as c:
            out = c.execute(sql).fetchone()[0]
    if not out:
        raise RuntimeError("no current version of 'buildings' in the catalog")
    return out


def sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_cities_tsv(path: Path) -> None:
    cities = datagen.load_cities()
    total = sum(c.population for c in cities)
    acc = 0.0
    with path.open("w") as f:
        for c in cities:
            acc += c.population / total
            f.write(f"{c.lon:.6f}\t{c.lat:.6f}\t{acc:.8f}\t{c.sigma_km * 1000:.1f}\n")


# ---------------------------------------------------------------------------------------------
# the same answers from every server?

def _ids(fc: dict) -> list[int]:
    if not isinstance(fc, dict):
        raise ValueError(f"not a GeoJSON FeatureCollection: {str(fc)[:100]}")
    out = []
    for f in fc.get("features", []):
        props = f.get("properties") or {}
        out.append(int(props["id"]) if props.get("id") is not None else -1)
    return out


def boxes_file(data_dir: Path, seed: int) -> Path:
    """The published `bbox` workload: ``BOXES`` 500 m boxes drawn once from ``seed`` (as
    ``sample_bboxes`` draws them: a city by population, the centre uniformly within
    min(sigma/2, 1.5 km) of it), one ``minlon,minlat,maxlon,maxlat`` a line, written next to
    the data. Every server (through scenarios.lua) and the raw SQL floor walk this same list,
    and a third party runs it with plain wrk (benchmarks/README.md)."""
    path = data_dir / f"bbox-500m-{BOXES}-seed{seed}.txt"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(",".join(f"{v:.6f}" for v in b) + "\n"
                               for b in sample_bboxes(BOXES, seed)))
        tmp.replace(path)
    return path


def read_boxes(path: Path) -> list[tuple[float, float, float, float]]:
    return [tuple(map(float, line.split(","))) for line in path.read_text().split()]


def sample_bboxes(count: int, seed: int) -> list[tuple[float, float, float, float]]:
    import math
    import random

    rnd = random.Random(seed)
    cities = datagen.load_cities()
    weights = [c.population for c in cities]
    boxes = []
    for _ in range(count):
        c = rnd.choices(cities, weights)[0]
        reach = min(c.sigma_km * 500, 1500.0)
        dx, dy = rnd.uniform(-reach, reach), rnd.uniform(-reach, reach)
        k = 111_320.0 * math.cos(math.radians(c.lat))
        lon, lat = c.lon + dx / k, c.lat + dy / 111_320.0
        hx, hy = 250 / k, 250 / 111_320.0
        boxes.append((lon - hx, lat - hy, lon + hx, lat + hy))
    return boxes


def consistency_check(servers: list[srv.Server], n: int, seed: int) -> list[str]:
    """Same bbox -> same ids; same id -> same properties; same offset page -> same ids."""
    problems: list[str] = []
    if len(servers) < 1:
        return problems
    probes: list[tuple[str, str, dict]] = []
    for i, b in enumerate(sample_bboxes(8, seed)):
        probes.append((f"bbox#{i}", "", {"bbox": ",".join(f"{v:.6f}" for v in b),
                                          "limit": 1000}))
    for fid in (1, n // 2, n):
        probes.append((f"item {fid}", f"/{fid}", {}))
    probes.append((f"offset {int(0.85 * n)}", "", {"offset": int(0.85 * n), "limit": 100}))
    rows = []
    for name, suffix, params in probes:
        answers = {}
        for s in servers:
            url = f"{s.base}{s.items}{suffix}"
            try:
                fk, fv = s.fmt.split("=", 1)
                r = requests.get(url, params={**params, fk: fv}, timeout=120,
                                 headers={"Accept": "application/geo+json"})
            except requests.RequestException as exc:
                answers[s.key] = f"error {exc.__class__.__name__}"
                continue
            if r.status_code != 200:
                answers[s.key] = f"HTTP {r.status_code}: {r.text[:120]!r}"
                continue
            try:
                body = r.json()
                if suffix:  # one feature
                    p = body.get("properties") or {}
                    answers[s.key] = (p.get("id"), p.get("kind"), p.get("floors"),
                                      p.get("name"), (body.get("geometry") or {}).get("type"))
                else:
                    ids = _ids(body)
                    answers[s.key] = (len(ids), tuple(sorted(ids)), body.get("numberMatched"))
            except (ValueError, AttributeError, KeyError, TypeError) as exc:
                answers[s.key] = f"bad body: {exc}"
        rows.append((name, answers))
        ref_key = servers[0].key
        ref = answers.get(ref_key)
        for k, v in answers.items():
            if k == ref_key:
                continue
            same = v == ref
            if not suffix and isinstance(v, tuple) and isinstance(ref, tuple):
                same = v[1] == ref[1]  # numberMatched is optional; compare the id sets
            if not same:
                problems.append(f"{name}: {k} {_short(v)} != {ref_key} {_short(ref)}")
    # a compact table of the counts
    keys = [s.key for s in servers]
    print(f"\n  {'probe':<14}" + "".join(f"{k:>18}" for k in keys))
    for name, answers in rows:
        cells = []
        for k in keys:
            v = answers.get(k)
            if isinstance(v, tuple) and len(v) == 3 and isinstance(v[1], tuple):
                cells.append(f"{v[0]} (m={v[2]})" if v[2] is not None else str(v[0]))
            elif isinstance(v, tuple):
                cells.append(f"id={v[0]}")
            else:
                cells.append(str(v)[:16])
        print(f"  {name:<14}" + "".join(f"{c:>18}" for c in cells))
    print()
    return problems


def capabilities(servers: list[srv.Server], seed: int) -> dict[str, dict[str, str]]:
    """What each server does with a CQL2 filter and with crs=EPSG:28405: "ok", or why not
    (an error, or the parameter silently ignored), so no one is timed on an easier query."""
    box = ",".join(f"{v:.6f}" for v in sample_bboxes(1, seed)[0])
    probes = {
        "cql": {"filter": CQL_PROBE, "filter-lang": "cql2-text", "limit": 200},
        "crs": {"bbox": box, "limit": 20, "crs": EPSG_28405},
    }
    out: dict[str, dict[str, str]] = {}
    for s in servers:
        fk, fv = s.fmt.split("=", 1)
        caps = out[s.key] = {}
        for what, params in probes.items():
            try:
                r = requests.get(f"{s.base}{s.items}", params={**params, fk: fv}, timeout=120,
                                 headers={"Accept": "application/geo+json"})
                body = r.json() if r.status_code == 200 else None
            except (requests.RequestException, ValueError) as exc:
                caps[what] = f"error {exc.__class__.__name__}"
                continue
            if body is None:
                caps[what] = f"HTTP {r.status_code}: {r.text[:100]!r}"
                continue
            feats = body.get("features") or []
            if what == "cql":
                ok = feats and all((f.get("properties") or {}).get("kind") == "school"
                                   and 2 <= int((f.get("properties") or {}).get("floors")) <= 5
                                   for f in feats)
                caps[what] = "ok" if ok else "filter ignored (features outside it returned)"
            else:
                first = _first_xy((feats[0].get("geometry") or {}).get("coordinates")) \
                    if feats else None
                ok = first is not None and first[0] > 1000 and first[1] > 1000
                caps[what] = "ok" if ok else f"crs ignored (first coordinate {first})"
        log(f"{s.key:<16} cql: {caps['cql']}; crs: {caps['crs']}")
    return out


def _first_xy(coords) -> tuple[float, float] | None:
    while isinstance(coords, list) and coords and isinstance(coords[0], list):
        coords = coords[0]
    return (float(coords[0]), float(coords[1])) if isinstance(coords, list) and coords else None


def _short(v) -> str:
    if isinstance(v, tuple) and len(v) == 3 and isinstance(v[1], tuple):
        ids = v[1]
        return f"{v[0]} features (ids {list(ids[:3])}..., numberMatched={v[2]})"
    return str(v)[:200]


# ---------------------------------------------------------------------------------------------
# vector tiles

def _tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2 ** z
    la = math.radians(lat)
    return (int((lon + 180) / 360 * n),
            int((1 - math.log(math.tan(la) + 1 / math.cos(la)) / math.pi) / 2 * n))


def tile_lists(seed: int) -> dict[str, list[tuple[int, int, int]]]:
    """The tiles the two tile scenarios request, as (z, x, y):

    - "cached": the z14 tile at the centre of each of the 50 largest cities;
    - "uncached": every other z14 tile within TILE_REACH_SIGMA sigma of one of the 94 city
      centres (at least the 3x3 block at each centre), shuffled, so that whatever prefix of the
      list a server gets through is a sample of the same mix of dense and sparse tiles;
    - "warmup": a tenth of those, set apart: the warm-up before the uncached run warms
      connections, code and data pages on them, never on the tiles then timed, and measures
      how fast the server gets through such tiles (see ``tiles_seconds``).
    """
    import math
    import random

    cities = datagen.load_cities()  # largest first
    cached: list[tuple[int, int, int]] = []
    for c in cities:
        t = (TILE_ZOOM, *_tile_xy(c.lon, c.lat, TILE_ZOOM))
        if t not in cached:
            cached.append(t)
        if len(cached) == CACHED_TILES:
            break
    pool: set[tuple[int, int, int]] = set()
    for c in cities:
        cx, cy = _tile_xy(c.lon, c.lat, TILE_ZOOM)
        side_km = 40075.016686 / 2 ** TILE_ZOOM * math.cos(math.radians(c.lat))
        r = max(1, math.ceil(TILE_REACH_SIGMA * c.sigma_km / side_km))
        for dx in range(-r, r + 1):
            for dy in range(-r, r + 1):
                if dx * dx + dy * dy <= r * r or max(abs(dx), abs(dy)) <= 1:
                    pool.add((TILE_ZOOM, cx + dx, cy + dy))
    uncached = sorted(pool - set(cached))
    random.Random(seed).shuffle(uncached)
    spare = max(100, len(uncached) // 10)
    return {"uncached": uncached[:-spare], "cached": cached, "warmup": uncached[-spare:]}


def tiles_seconds(warmup: dict, listed: int, duration: int, connections: int) -> int:
    """How long to run `tiles` so that the server does not get to the end of the list: from
    the rate of its warm-up (the same kind of tiles), with a margin, within 3..duration s.
    The rate is the higher of requests / time and connections / p50 (what a closed loop of
    that many connections gets at that median; the warm-up itself stops at the end of its
    short list, and its last requests may stall as described next).

    A wrk thread that reaches the end of its share stops (a repeat could come from the
    cache), but it leaves behind a connection it had just opened for its next request, and a
    gunicorn sync worker that accepts it waits for a request that never comes (until wrk
    exits): the other threads' last requests then queue behind a blocked worker, and wrk's
    latency correction turns those few stalls into seconds at p95. So the run should end
    before the list does."""
    rate = max(warmup["requests"] / warmup["active_s"] if warmup.get("active_s") else 0.0,
               connections / (warmup["p50_ms"] / 1000) if warmup.get("p50_ms") else 0.0)
    if rate <= 0:
        return duration
    return int(max(3, min(duration, 0.8 * listed / rate)))


def write_tiles(path: Path, tiles: list[tuple[int, int, int]]) -> Path:
    path.write_text("".join(f"{z}\t{x}\t{y}\n" for z, x, y in tiles))
    return path


def buildings_per_tile(gpkg: Path, tiles: list[tuple[int, int, int]]) -> dict[str, float]:
    """How many buildings (by envelope centre) the tiles hold: what each request draws."""
    import numpy as np

    with sqlite3.connect(f"file:{gpkg}?mode=ro&immutable=1", uri=True) as c:
        table = c.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchone()
        xy = np.array(c.execute(f'SELECT (minx + maxx) / 2, (miny + maxy) / 2 FROM '
                                f'"rtree_{table[0]}_{table[1]}"').fetchall())
    n = 2 ** TILE_ZOOM
    lat = np.radians(xy[:, 1])
    tx = np.floor((xy[:, 0] + 180) / 360 * n).astype(np.int64)
    ty = np.floor((1 - np.log(np.tan(lat) + 1 / np.cos(lat)) / np.pi) / 2 * n).astype(np.int64)
    keys, counts = np.unique(tx * n + ty, return_counts=True)
    found = dict(zip(keys.tolist(), counts.tolist(), strict=True))
    per = np.array([found.get(x * n + y, 0) for _, x, y in tiles])
    return {"mean": float(per.mean()), "p10": float(np.percentile(per, 10)),
            "median": float(np.median(per)), "p90": float(np.percentile(per, 90)),
            "max": int(per.max()), "empty": int((per == 0).sum())}


def _tile_url(s: srv.Server, z: int, x: int, y: int) -> str:
    return s.base + s.tiles.format(z=z, x=x, y=y)


def _mvt_content(body: bytes | None) -> list | None:
    """An MVT's features in a comparable form: per layer, sorted by id. (ST_AsMVT writes rows
    in the order the plan yields them, which a parallel scan does not fix.)"""
    import mapbox_vector_tile

    if body is None:
        return None
    return sorted((name, sorted((f.get("id", 0), repr(f["geometry"]),
                                 sorted(f["properties"].items())) for f in layer["features"]))
                  for name, layer in (mapbox_vector_tile.decode(body) if body else {}).items())


def _mvt_features(body: bytes) -> tuple[int, list[str]]:
    """Features and layer names of an MVT (0, [] for an empty body)."""
    import mapbox_vector_tile

    if not body:
        return 0, []
    layers = mapbox_vector_tile.decode(body)
    return sum(len(v["features"]) for v in layers.values()), sorted(layers)


def tile_check(servers: list[srv.Server], raws: list[tuple[str, str, str, str]],
               sample: list[tuple[int, int, int]], caps: dict[str, dict[str, str]],
               report: dict) -> None:
    """Fetch the same tiles from every server (and render them as the raw floors do): which
    servers serve tiles at all (caps[key]["tiles"]), and do they draw about the same thing
    (bytes and features per tile)? The raw floors must draw what ours draws: they run the
    same statement (PostGIS) or the same encoder (GeoPackage); byte for byte but for the order
    of the features in PostGIS (which a parallel scan does not fix)."""
    got: dict[str, list[bytes | None]] = {}
    took: dict[str, list[float]] = {}  # seconds per tile, one request at a time
    for s in servers:
        cap = caps.setdefault(s.key, {})
        if s.tiles is None:
            cap["tiles"] = f"n/a: {NO_TILES.get(s.key, 'no vector tiles')}"
            continue
        bodies: list[bytes | None] = []
        problem = ""
        for z, x, y in sample:
            try:
                t0 = time.perf_counter()
                r = requests.get(_tile_url(s, z, x, y), timeout=120,
                                 headers={"Accept": "application/vnd.mapbox-vector-tile"})
                took.setdefault(s.key, []).append(time.perf_counter() - t0)
            except requests.RequestException as exc:
                problem = problem or f"error {exc.__class__.__name__}"
                bodies.append(None)
                continue
            if r.status_code not in (200, 204):
                problem = problem or f"HTTP {r.status_code}: {r.text[:100]!r}"
                bodies.append(None)
                continue
            bodies.append(r.content if r.status_code == 200 else b"")
        got[s.key] = bodies
        if problem and all(b is None for b in bodies):
            cap["tiles"] = problem
        else:
            cap["tiles"] = "ok"
            if problem:
                warn(f"tiles from {s.key}: some sample tiles failed: {problem}")
                report["warnings"].append(f"tiles from {s.key}: {problem}")
    for key, store, target, table in raws:
        try:
            done = rawsql.render(store, target, table, sample)
            got[key] = [body for body, _ in done]
            took[key] = [secs for _, secs in done]
        except Exception as exc:  # reported, and the floor is not timed
            warn(f"{key} cannot render tiles: {exc}")
            report["warnings"].append(f"{key} cannot render tiles: {exc}")
    rows = {}
    print(f"\n  the same {len(sample)} z{TILE_ZOOM} city-centre tiles from each source")
    print(f"  {'source':<16} {'served':>7} {'mean KB':>8} {'features':>9} "
          f"{'ms/tile':>9}  MVT layers   (ms/tile: median, one request at a time)")
    for key, bodies in got.items():
        ok = [b for b in bodies if b is not None]
        feats, names = [], set()
        for b in ok:
            f, layer_names = _mvt_features(b)
            feats.append(f)
            names.update(layer_names)
        times = sorted(took.get(key, []))
        row = rows[key] = {"served": len(ok), "mean_bytes": sum(map(len, ok)) / len(ok)
                           if ok else 0.0, "mean_features": sum(feats) / len(feats)
                           if feats else 0.0, "layers": sorted(names),
                           "median_ms": 1000 * times[len(times) // 2] if times else None}
        ms = f"{row['median_ms']:.0f}" if times else "-"
        print(f"  {key:<16} {row['served']:>7} {row['mean_bytes'] / 1000:>8.1f} "
              f"{row['mean_features']:>9.0f} {ms:>9}  {','.join(row['layers'])}")
    print()
    report.setdefault("tiles", {})["sample_check"] = rows
    ref = next((k for k in ("ours-pg", "ours-gpkg") if rows.get(k, {}).get("mean_features")),
               None)
    for key, row in rows.items():
        if not row["served"]:
            continue
        if not row["mean_features"]:
            msg = f"tiles from {key} are empty for every sample tile"
        elif ref and not 0.67 <= row["mean_features"] / rows[ref]["mean_features"] <= 1.5:
            msg = (f"tiles from {key} draw {row['mean_features']:.0f} features per sample tile, "
                   f"{ref} {rows[ref]['mean_features']:.0f}: not the same content")
        else:
            continue
        warn(msg)
        report["warnings"].append(msg)
    for raw, ours in (("raw-pg", "ours-pg"), ("raw-sqlite", "ours-gpkg")):
        if raw in got and ours in got:
            same = sum(1 for a, b in zip(got[raw], got[ours], strict=True)
                       if a is not None and (a == b or _mvt_content(a) == _mvt_content(b)))
            exact = sum(1 for a, b in zip(got[raw], got[ours], strict=True)
                        if a is not None and a == b)
            log(f"{raw} renders {same} of {len(sample)} sample tiles as {ours} does ({exact} "
                "byte for byte)")
            if same != len(sample):
                msg = (f"{raw} and {ours} differ on {len(sample) - same} sample tiles: the raw "
                       "floor no longer runs what the store runs")
                warn(msg)
                report["warnings"].append(msg)


def mean_tile_kb(r: dict | None) -> float | None:
    if not r or "failed" in r or not r.get("ok"):
        return None
    return r["ok_body_bytes"] / r["ok"] / 1000


def print_tiles(results: dict, keys: list[str], scenarios: list[str]) -> None:
    """The tile runs with what each drew: mean tile size, empty answers, distinct tiles."""
    rows = [(sc, k, results[sc][k]) for sc in scenarios if sc in TILE_SCENARIOS
            for k in keys if k in results.get(sc, {})]
    if not rows:
        return
    print("tiles     server                 req/s    p50 ms    p95 ms   mean KB  empty  "
          "distinct / requests")
    print("-" * 96)
    for sc, k, r in rows:
        if "failed" in r:
            print(f"{sc:<12} {k:<16} {r['failed'][:70]}")
            continue
        kb = mean_tile_kb(r)
        empty = f"{100 * r['empty'] / r['ok']:.0f} %" if r.get("ok") else "-"
        walked = (f"{r['distinct']} / {r['requests']}" if "distinct" in r else "")
        if r.get("used_up"):
            walked += f"  (list used up in {r['active_s']:.1f} s)"
        print(f"{sc:<12} {k:<16} {r['rps']:>8.1f} {r['p50_ms']:>9.1f} {r['p95_ms']:>9.1f} "
              f"{kb if kb is not None else 0:>9.1f} {empty:>6}  {walked}")
    print()


# ---------------------------------------------------------------------------------------------
# load generation

def run_wrk(s: srv.Server, scenario: str, n: int, cities_tsv: Path, args, seconds: int,
            tiles_file: Path | None = None) -> dict:
    if scenario in TILE_SCENARIOS:  # the tile path template, the list, the thread count
        script_args = [scenario, s.tiles, str(n), str(tiles_file), str(args.threads)]
    elif scenario in ("bbox", "crs") and getattr(args, "boxes_file", None):
        # the pre-drawn boxes, thread t walking lines t, t + T, ...
        script_args = [scenario, s.items, str(n), str(args.boxes_file), s.fmt,
                       str(args.threads)]
    else:
        script_args = [scenario, s.items, str(n), str(cities_tsv), s.fmt]
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s",
           f"--timeout={args.timeout}s", "-s", str(BENCH / "scenarios.lua"), s.base, "--",
           *script_args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + args.timeout + 60)
    line = next((ln for ln in reversed(r.stdout.splitlines()) if ln.startswith("{")), None)
    if r.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({r.returncode}): {r.stderr.strip()[-500:]}")
    res = json.loads(line)
    res["errors"] = (res["non2xx"] + res["connect_errors"] + res["read_errors"]
                     + res["write_errors"] + res["timeouts"])
    if scenario in TILE_SCENARIOS:
        # the Lua script counts the requests it built, some still in flight at the end
        res["distinct"] = min(res["distinct"], res["requests"])
        # tiles: the threads stop at the end of the list (no repeats), wrk still sleeps -d
        stopped = res.pop("stopped", 0)
        if scenario == "tiles" and stopped and res["active_s"] > 0:
            res["used_up"] = True
            res["rps"] = res["requests"] / res["active_s"]
    else:
        for k in ("built", "distinct", "listed", "active_s", "stopped"):
            res.pop(k, None)
    return res


def wait_idle(report: dict, what: str, threshold: float = 0.8, limit: float = 180.0) -> None:
    """Wait until the CPUs are mostly idle (/proc/stat, 1 s samples): a server that was too slow
    for its run goes on with the requests wrk abandoned (stock pygeoapi's tiles take seconds
    each, and PostgreSQL runs their queries to the end), which would slow the next run down."""
    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)  # idle + iowait, total

    start = time.monotonic()
    idle0, total0 = sample()
    while time.monotonic() - start < limit:
        time.sleep(1.0)
        idle1, total1 = sample()
        if total1 > total0 and (idle1 - idle0) / (total1 - total0) >= threshold:
            waited = time.monotonic() - start
            if waited > 2.5:
                log(f"   waited {waited:.0f} s for the machine to go idle before {what}")
            return
        idle0, total0 = idle1, total1
    msg = f"the machine was still busy after {limit:.0f} s, before {what}"
    warn(msg)
    report["warnings"].append(msg)


def warm_cache(s: srv.Server, n: int, cities_tsv: Path, args, tiles_file: Path,
               count: int) -> dict:
    """Request the cached set until every worker has every tile: rounds of ``--warmup``
    seconds (at least 3) until a round asks for each tile 20 times or more (with 2 workers,
    which one answers is up to the kernel: the chance that one never saw a tile is then
    below 1e-6) or stops getting faster (a server without a cache), at most 10 rounds."""
    rounds, requests, last = 0, 0, 0.0
    while True:
        w = run_wrk(s, "tiles-cached", n, cities_tsv, args, max(args.warmup, 3),
                    tiles_file=tiles_file)
        rounds += 1
        requests += w["requests"]
        if w["requests"] >= 20 * count or (rounds >= 2 and w["rps"] <= 1.2 * last) \
                or rounds >= 10:
            break
        last = w["rps"]
    log(f"   warm-up: {rounds} rounds, {requests} requests, last {w['rps']:.1f} req/s")
    return {"rounds": rounds, "requests": requests, "last_rps": w["rps"]}


def tile_size_warnings(report: dict, keys: list[str]) -> None:
    """Mean tile size per server: empty or far from ours' means another drawing. (Each server
    gets through its own prefix of the shuffled list: under 30 tiles, too few to compare.)"""
    for sc in TILE_SCENARIOS:
        per = {k: mean_tile_kb(report["results"].get(sc, {}).get(k)) for k in keys}
        ref = per.get("ours-pg") or per.get("ours-gpkg")
        for k, kb in per.items():
            r = report["results"].get(sc, {}).get(k)
            if not r or "failed" in r or r.get("ok", 0) < 30:
                continue
            if not kb:
                msg = f"{sc} on {k}: every tile was empty"
            elif ref and not 0.5 <= kb / ref <= 2:
                msg = (f"{sc} on {k}: mean tile {kb:.1f} KB against ours' {ref:.1f} KB: "
                       "not the same content")
            else:
                continue
            warn(msg)
            report["warnings"].append(msg)


def fmt_ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


def print_table(results: dict, keys: list[str], scenarios: list[str]) -> None:
    print("\nscenario     server                 req/s    p50 ms    p95 ms   errors")
    print("-" * 71)
    for sc in scenarios:
        for k in keys:
            r = results.get(sc, {}).get(k)
            if r is None:
                continue
            if "failed" in r:
                print(f"{sc:<12} {k:<18} {'failed: ' + r['failed'][:60]}")
                continue
            err = r["errors"]
            if not r["requests"]:
                print(f"{sc:<12} {k:<18} {'0.0':>9} {'-':>9} {'-':>9} {err:>8}  <-- no request "
                      f"completed in {r['duration_s']:.0f} s")
                continue
            flag = "  <-- errors" if err else ""
            print(f"{sc:<12} {k:<18} {r['rps']:>9.1f} {r['p50_ms']:>9.1f} {r['p95_ms']:>9.1f} "
                  f"{err:>8}{flag}")
        print()


def ratios(results: dict, scenarios: list[str]) -> dict:
    out: dict = {}
    pairs = RATIOS + [p for p in TILE_RATIOS if p not in RATIOS]
    for a, b in pairs:
        for sc in scenarios:
            if (a, b) not in (TILE_RATIOS if sc in TILE_SCENARIOS else RATIOS):
                continue
            ra, rb = results.get(sc, {}).get(a), results.get(sc, {}).get(b)
            if not ra or not rb or "failed" in ra or "failed" in rb:
                continue
            if not ra["requests"] or not rb["requests"]:
                out.setdefault(f"{a} / {b}", {})[sc] = {
                    "rps": None, "p50": None, "p95": None,
                    "errors": [ra["errors"], rb["errors"]],
                    "note": f"no request completed: {a if not ra['requests'] else b}"}
                continue
            out.setdefault(f"{a} / {b}", {})[sc] = {
                "rps": round(ra["rps"] / rb["rps"], 3) if rb["rps"] else None,
                "p50": round(ra["p50_ms"] / rb["p50_ms"], 3) if rb["p50_ms"] else None,
                "p95": round(ra["p95_ms"] / rb["p95_ms"], 3) if rb["p95_ms"] else None,
                "errors": [ra["errors"], rb["errors"]],
            }
    return out


def print_ratios(rat: dict) -> None:
    if not rat:
        return
    print("ratios (req/s: >1 means ours is faster; p50/p95: <1 means ours is faster)")
    for pair, per in rat.items():
        for sc, v in per.items():
            e = "" if v["errors"] == [0, 0] else f"   errors ours/peer {v['errors']}"
            if v.get("note"):
                print(f"  {pair:<32} {sc:<12} {v['note']}{e}")
                continue
            print(f"  {pair:<32} {sc:<12} req/s {v['rps']}x   p50 {v['p50']}x   "
                  f"p95 {v['p95']}x{e}")
    print()


def targets(results: dict) -> list[dict]:
    """The issue's targets, each with the figures it was judged on."""
    out = []

    def get(sc: str, key: str) -> dict | None:
        r = results.get(sc, {}).get(key)
        return r if r and "failed" not in r and r.get("requests") else None

    def check(what: str, ok: bool, detail: str) -> None:
        out.append({"target": what, "met": ok, "detail": detail})

    for ours, peer, factor in (("ours-pg", "pygeoapi-pg", 5), ("ours-gpkg", "pygeoapi-sqlite", 5),
                               ("ours-gpkg", "pygeoapi-ogr", 5), ("ours-pg", "tipg", 2)):
        a, b = get("bbox", ours), get("bbox", peer)
        if a and b:
            check(f"bbox req/s {ours} >= {factor}x {peer}", a["rps"] >= factor * b["rps"],
                  f"{a['rps']:.1f} vs {b['rps']:.1f} = {a['rps'] / b['rps']:.2f}x")
    for ours in ("ours-pg", "ours-gpkg"):
        a = get("bbox", ours)
        if a:
            check(f"bbox p95 {ours} < 50 ms", a["p95_ms"] < 50, f"{a['p95_ms']:.1f} ms")
    # issue 17: per node, bbox p50 within 5x of the same SQL without HTTP; tile p95 < 150 ms
    for ours, raw in (("ours-pg", "raw-pg"), ("ours-gpkg", "raw-sqlite")):
        a, b = get("bbox", ours), get("bbox", raw)
        if a and b:
            check(f"bbox p50 {ours} within 5x of {raw}", a["p50_ms"] <= 5 * b["p50_ms"],
                  f"{a['p50_ms']:.1f} vs {b['p50_ms']:.1f} ms = {a['p50_ms'] / b['p50_ms']:.1f}x")
    for ours in ("ours-pg", "ours-gpkg"):
        a = get("tiles", ours)
        if a:
            check(f"tiles p95 {ours} < 150 ms", a["p95_ms"] < 150, f"{a['p95_ms']:.1f} ms")
    for ours, raw in (("ours-pg", "raw-pg"), ("ours-gpkg", "raw-sqlite")):
        a = get("offset", ours)
        for key in (raw, f"{raw}-seek"):
            b = get("offset", key)
            if a and b:
                check(f"offset {ours} within 2x of {key} (req/s and p50)",
                      a["rps"] * 2 >= b["rps"] and a["p50_ms"] <= 2 * b["p50_ms"],
                      f"{a['rps']:.1f} vs {b['rps']:.1f} req/s, p50 {a['p50_ms']:.1f} vs "
                      f"{b['p50_ms']:.1f} ms")
    # vector tiles (issue: OGC API - Tiles): uncached within 2x of ST_AsMVT's p50, at least
    # tipg's req/s, and over 1,000 req/s from the cache
    b = get("tiles", "raw-pg")
    for ours in ("ours-pg", "ours-gpkg"):
        a = get("tiles", ours)
        if a and b:
            check(f"tiles p50 {ours} within 2x of raw-pg (ST_AsMVT)",
                  a["p50_ms"] <= 2 * b["p50_ms"],
                  f"{a['p50_ms']:.1f} vs {b['p50_ms']:.1f} ms = {a['p50_ms'] / b['p50_ms']:.2f}x")
    for sc in TILE_SCENARIOS:
        peer = get(sc, "tipg")
        for ours in ("ours-pg", "ours-gpkg"):
            a = get(sc, ours)
            if a and peer:
                check(f"{sc} req/s {ours} >= 1x tipg", a["rps"] >= peer["rps"],
                      f"{a['rps']:.1f} vs {peer['rps']:.1f} = {a['rps'] / peer['rps']:.2f}x")
    for ours in ("ours-pg", "ours-gpkg"):
        a = get("tiles-cached", ours)
        if a:
            check(f"tiles-cached req/s {ours} > 1,000", a["rps"] > 1000, f"{a['rps']:.1f}")
    return out


def print_targets(rows: list[dict]) -> None:
    if rows:
        print("targets")
        for t in rows:
            print(f"  {'MET ' if t['met'] else 'MISSED'}  {t['target']:<56} {t['detail']}")
        print()


# ---------------------------------------------------------------------------------------------

def scale_out(args, gpkg: Path, tiles: dict, tile_files: dict, cities_tsv: Path,
              report: dict) -> int:
    """``--scale-out``: benchmarks/scaleout.py on the miniature cluster's topology."""
    import scaleout

    for tool in ("pgbouncer", "haproxy"):
        if not shutil.which(tool) and not Path("/usr/sbin", tool).exists():
            sys.exit(f"{tool} not found (apt-get install pgbouncer haproxy)")
    try:
        out = scaleout.run(args, gpkg, tiles, tile_files, cities_tsv, report, run_wrk,
                           tiles_seconds, wait_idle, log)
    except KeyboardInterrupt:
        warn("interrupted: the cluster was stopped")
        return 130
    scaleout.print_results(out)
    for w in report["warnings"]:
        print(f"WARNING: {w}")
    if not args.no_save:
        log(f"results: {scaleout.save(out, report)}")
    return 0


def main() -> int:
    args = parse_args()
    keys = selected(args.only)
    scenarios = list(dict.fromkeys(s.strip() for s in args.scenarios.split(",") if s.strip()))
    for sc in scenarios:
        if sc not in SCENARIOS:
            sys.exit(f"--scenarios: unknown scenario {sc!r} (one of {', '.join(SCENARIOS)})")
    tile_scenarios = [sc for sc in scenarios if sc in TILE_SCENARIOS]
    feature_scenarios = [sc for sc in scenarios if sc not in TILE_SCENARIOS]
    if not feature_scenarios:  # nothing to time on the servers without tiles
        for key in [k for k in keys if k in NO_TILES]:
            log(f"{key}: not started ({NO_TILES[key]}; only tile scenarios selected)")
            keys.remove(key)
    n = args.features
    want_pg = any(k in GROUPS["postgis"] for k in keys)
    want_gpkg = any(k in GROUPS["gpkg"] for k in keys)
    for tool in ("wrk", "ogr2ogr", "psql"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (apt-get install wrk gdal-bin postgresql-client)")

    ncpu = os.cpu_count() or 0
    print(f"machine: {platform.node()}, {ncpu} cores, {platform.processor() or platform.machine()}"
          f", Python {platform.python_version()}")
    if ncpu <= 4:
        print(f"NOTE: only {ncpu} cores: wrk ({args.threads} threads) shares them with the "
              "server under test (and with PostgreSQL); absolute figures are low and noisy, "
              "the ratios are what matters.")

    data_dir = BENCH / ".data"
    data_dir.mkdir(parents=True, exist_ok=True)
    run_dir = data_dir / f"run-{n}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    (run_dir / "logs").mkdir(parents=True)
    load_log = run_dir / "logs" / "load.log"

    gpkg = data_dir / f"buildings-{n}-seed{args.seed}.gpkg"
    t0 = time.perf_counter()
    if gpkg.exists():
        log(f"data: {gpkg} (cached)")
    else:
        log(f"generating {n:,} buildings -> {gpkg}")
        datagen.write_gpkg(gpkg, n, args.seed)
        log(f"data: generated in {time.perf_counter() - t0:.1f} s "
            f"({gpkg.stat().st_size / 1e6:.0f} MB)")
    cities_tsv = run_dir / "cities.tsv"
    write_cities_tsv(cities_tsv)
    args.boxes_file = None if args.random_boxes else boxes_file(data_dir, args.seed)
    tiles = tile_lists(args.seed) if tile_scenarios or args.scale_out else {}
    tile_files = {k: write_tiles(run_dir / f"tiles-{k}.tsv", v) for k, v in tiles.items()}

    report: dict = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"host": platform.node(), "cores": ncpu, "python": platform.python_version()},
        "features": n, "seed": args.seed, "duration_s": args.duration, "warmup_s": args.warmup,
        "bbox_boxes": ({"file": str(args.boxes_file), "count": BOXES,
                        "sha256": sha256(args.boxes_file)} if args.boxes_file
                       else "drawn per request by scenarios.lua (--random-boxes)"),
        "wrk": {"threads": args.threads, "connections": args.connections},
        "servers": {}, "load": {}, "results": {}, "warnings": [],
    }
    if tiles:
        density = buildings_per_tile(gpkg, tiles["uncached"])
        report["tiles"] = {"zoom": TILE_ZOOM, "reach_sigma": TILE_REACH_SIGMA,
                           "uncached_distinct": len(tiles["uncached"]),
                           "cached_set": len(tiles["cached"]),
                           "warmup_set_aside": len(tiles["warmup"]),
                           "buildings_per_uncached_tile": density,
                           "buildings_per_cached_tile": buildings_per_tile(gpkg, tiles["cached"])}
        log(f"tiles: {len(tiles['uncached'])} distinct z{TILE_ZOOM} tiles within "
            f"{TILE_REACH_SIGMA} sigma of the 94 city centres, {len(tiles['warmup'])} more set "
            f"aside for the warm-up (buildings per tile: median "
            f"{density['median']:.0f}, p10 {density['p10']:.0f}, p90 {density['p90']:.0f}, "
            f"max {density['max']}, {density['empty']} empty), shuffled, for `tiles`; the "
            f"centre tiles of the {len(tiles['cached'])} largest cities for `tiles-cached` "
            f"(median {report['tiles']['buildings_per_cached_tile']['median']:.0f} buildings)")
    cluster: PgCluster | None = None
    running: list[srv.Server] = []

    def on_term(signum, frame):  # treat SIGTERM like Ctrl-C: clean up
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)  # also when started in the background (SIG_IGN)
    if args.scale_out:
        return scale_out(args, gpkg, tiles, tile_files, cities_tsv, report)
    try:
        srv.ensure_peers_venv(log, gdal="pygeoapi-ogr" in keys)
        have_ogr = srv.peers_have_gdal()
        if "pygeoapi-ogr" in keys and not have_ogr:
            warn("no GDAL bindings in benchmarks/.venv-peers: skipping pygeoapi-ogr")
            keys.remove("pygeoapi-ogr")
        base_env = {"GEOPORTAL_CONFIG_DIR": str(REPO / "config"), "GEOPORTAL_LOG_LEVEL": "WARNING"}

        # -- loads ---------------------------------------------------------------------------
        pg_ref = None
        if want_pg:
            cluster = PgCluster(run_dir / "pg", srv.free_port())
            log(f"PostgreSQL 15 cluster in {cluster.datadir} on port {cluster.port}; tuning: "
                + ", ".join(f"{k}={v}" for k, v in TUNING.items()))
            cluster.init()
            cluster.start()
            cluster.create_db()
            report["postgres"] = {"version": cluster.psql("SHOW server_version"),
                                  "postgis": cluster.psql("SELECT postgis_lib_version()"),
                                  "tuning": TUNING}
            t_ogr = timed(["ogr2ogr", "-f", "PostgreSQL", cluster.ogr_dsn, str(gpkg),
                           "-nln", "ogr_buildings"], logfile=load_log,
                          what="ogr2ogr -> PostGIS (reference)")
            pg_env = {**base_env, "GEOPORTAL_DATABASE_URL": cluster.url,
                      "GEOPORTAL_DATA_DIR": str(run_dir / "var-pg")}
            try:
                t_ours = timed([str(GEOPORTAL), "ingest", str(gpkg), "--id", "buildings",
                                "--theme", "urban-infrastructure"], env=pg_env, logfile=load_log,
                               what="geoportal ingest -> PostGIS store")
                pg_ref = layer_store_ref(pg_env, cluster.url)
                if "." not in pg_ref:
                    warn(f"PostGIS store_ref {pg_ref!r} is not schema.table")
                report["load"]["postgis"] = {"ours_s": round(t_ours, 2),
                                             "ogr2ogr_s": round(t_ogr, 2),
                                             "ratio": round(t_ours / t_ogr, 3),
                                             "store_ref": pg_ref}
                cnt = int(cluster.psql(f"SELECT count(*) FROM {pg_ref}"))
                if cnt != n:
                    warn(f"our PostGIS table {pg_ref} has {cnt} rows, expected {n}")
            except RuntimeError as exc:
                warn(f"our PostGIS store is not usable: {exc}")
                report["warnings"].append(f"PostGIS ingest failed: {exc}")
                report["load"]["postgis"] = {"ogr2ogr_s": round(t_ogr, 2), "ours": str(exc)}
                keys = [k for k in keys if k != "ours-pg"]
            # the same planner statistics for both tables (not timed)
            cluster.psql("ANALYZE")

        gpkg_file = None
        if want_gpkg:
            gp_env = {**base_env, "GEOPORTAL_DATA_DIR": str(run_dir / "var-gpkg")}
            t_ours = timed([str(GEOPORTAL), "ingest", str(gpkg), "--id", "buildings",
                            "--theme", "urban-infrastructure"], env=gp_env, logfile=load_log,
                           what="geoportal ingest -> GeoPackage store")
            t_ogr = timed(["ogr2ogr", "-f", "GPKG", str(run_dir / "ogr2ogr-copy.gpkg"), str(gpkg),
                           "-nln", "buildings", "-nlt", "PROMOTE_TO_MULTI"], logfile=load_log,
                          what="ogr2ogr -> GeoPackage (reference)")
            ref = layer_store_ref(gp_env, str(run_dir / "var-gpkg" / "catalog.sqlite"))
            gpkg_file = Path(ref) if Path(ref).is_absolute() else \
                run_dir / "var-gpkg" / "store" / ref
            if not gpkg_file.exists():  # store_ref may be <layer>/<uuid> without the suffix
                cands = sorted((run_dir / "var-gpkg" / "store" / "buildings").glob("*.gpkg"))
                gpkg_file = cands[-1] if cands else gpkg_file
            gpkg_sha = sha256(gpkg_file)
            report["load"]["gpkg"] = {"ours_s": round(t_ours, 2), "ogr2ogr_s": round(t_ogr, 2),
                                      "ratio": round(t_ours / t_ogr, 3),
                                      "store_ref": ref, "file": str(gpkg_file)}

        print()
        for what, ld in report["load"].items():
            if "ours_s" in ld:
                verdict = "OK" if ld["ratio"] <= 1.0 else "SLOWER than ogr2ogr"
                print(f"load into {what:<8}: ours {ld['ours_s']:.1f} s, ogr2ogr "
                      f"{ld['ogr2ogr_s']:.1f} s, ratio {ld['ratio']:.2f} -> {verdict}")
                if ld["ratio"] > 1.0:
                    report["warnings"].append(f"load into {what}: ours is {ld['ratio']:.2f}x "
                                              "ogr2ogr's time")
            else:
                print(f"load into {what:<8}: ogr2ogr {ld['ogr2ogr_s']:.1f} s; ours: {ld['ours']}")
        print()

        # -- servers -------------------------------------------------------------------------
        servers: list[srv.Server] = []
        if "ours-pg" in keys:
            servers.append(srv.ours("ours-pg", "ours, PostGIS store", run_dir, run_dir / "var-pg",
                                    cluster.url))
        if "tipg" in keys and cluster is not None:
            table = pg_ref or "public.ogr_buildings"
            if not pg_ref:
                warn("tipg serves ogr2ogr's table public.ogr_buildings (no table of ours)")
            servers.append(srv.tipg(run_dir, cluster.url, table))
        if "ours-gpkg" in keys:
            servers.append(srv.ours("ours-gpkg", "ours, GeoPackage store", run_dir,
                                    run_dir / "var-gpkg", None))
        stock_gpkg = any(k in keys for k in ("pygeoapi-sqlite", "pygeoapi-ogr"))
        pg_table = None
        if "pygeoapi-pg" in keys and cluster is not None and pg_ref:
            pg_table = {"port": cluster.port, "dbname": cluster.dbname, "user": "postgres",
                        "schema": pg_ref.split(".")[0], "table": pg_ref.split(".")[1]}
        if (stock_gpkg and gpkg_file is not None) or pg_table:
            for s in srv.stock_pygeoapi(run_dir, gpkg_file if stock_gpkg else None, "buildings",
                                        with_ogr="pygeoapi-ogr" in keys, pg=pg_table,
                                        pg_tiles=bool(tile_scenarios)):
                if s.key in keys:
                    servers.append(s)
        if servers and not any(not s.shares_process_with for s in servers
                               if s.key.startswith("pygeoapi")):
            for s in servers:  # the one that starts the shared process was not selected
                if s.key.startswith("pygeoapi"):
                    s.shares_process_with = None
                    break
        for s in servers:
            s.start()
            running.append(s)
        for s in servers:
            s.wait_ready()
            log(f"{s.key:<16} ready: {s.base}{s.items}")
            report["servers"][s.key] = {"label": s.label, "url": f"{s.base}{s.items}"}

        # -- same answers? -------------------------------------------------------------------
        log("checking that every server answers the same queries with the same features")
        for group in ((GROUPS["postgis"], GROUPS["gpkg"], ["ours-pg", "ours-gpkg"])
                      if feature_scenarios else ()):
            members = [s for s in servers if s.key in group]
            if len(members) < 2:
                continue
            problems = consistency_check(members, n, args.seed)
            for p in problems:
                warn(f"different answers: {p}")
                report["warnings"].append(f"different answers: {p}")
        caps = capabilities(servers, args.seed) if feature_scenarios else {}
        report["capabilities"] = caps
        raws: list[tuple[str, str, str, str]] = []  # key, store, target, table
        if "raw-pg" in keys and cluster is not None and pg_ref:
            raws.append(("raw-pg", "postgis", cluster.url, pg_ref))
        if "raw-sqlite" in keys and gpkg_file is not None:
            with sqlite3.connect(gpkg_file) as c:
                table = c.execute("SELECT table_name FROM gpkg_geometry_columns").fetchone()[0]
            raws.append(("raw-sqlite", "sqlite", str(gpkg_file), table))
        # cross-check the counts in one box against the source, with GDAL
        b = sample_bboxes(1, args.seed)[0]
        r = subprocess.run(["ogrinfo", "-ro", "-q", "-so", "-spat", *map(str, b), str(gpkg),
                            "buildings"], capture_output=True, text=True)
        m = re.search(r"Feature Count: (\d+)", r.stdout)
        if m:
            log(f"GDAL on the source: bbox#0 holds {m.group(1)} buildings")
        if tile_scenarios:
            log("checking that every server serves the same vector tiles")
            tile_check(servers, raws, tiles["cached"][:8], caps, report)

        # -- load ----------------------------------------------------------------------------
        for sc in scenarios:
            for key, store, target, table in raws:
                # crs: SQL has no reprojection to compare with; tiles-cached: a floor has no
                # cache (its figure would be the uncached one). Not measured.
                if sc in ("crs", "tiles-cached"):
                    continue
                variants = [(key, sc)] + ([(f"{key}-seek", "seek")] if sc == "offset" else [])
                for rkey, rsc in variants:
                    wait_idle(report, f"{sc} on {rkey}")
                    log(f"raw SQL {rsc:<6} -> {rkey} ({args.connections} processes, "
                        f"{args.duration}s)")
                    try:
                        res = rawsql.run(store, target, table, rsc, n, cities_tsv,
                                         args.duration, clients=args.connections,
                                         seed=args.seed, tiles=tiles.get("uncached")
                                         if sc == "tiles" else None,
                                         boxes=read_boxes(args.boxes_file)
                                         if args.boxes_file else None)
                    except Exception as exc:  # reported; the others still run
                        warn(f"{sc} on {rkey}: {exc}")
                        report["results"].setdefault(sc, {})[rkey] = {"failed": str(exc)}
                        continue
                    log(f"   {res['rps']:.1f} queries/s, p50 {res['p50_ms']:.1f} ms, p95 "
                        f"{res['p95_ms']:.1f} ms"
                        + (f", {res['distinct']} distinct tiles of {res['listed']} in "
                           f"{res['requests']} requests, mean {mean_tile_kb(res) or 0:.1f} KB"
                           + (f" (list used up after {res['active_s']:.1f} s)"
                              if res.get("used_up") else "")
                           if "distinct" in res else ""))
                    report["results"].setdefault(sc, {})[rkey] = res
            for s in servers:
                cap = (caps.get(s.key, {}).get(sc, "ok") if sc in ("cql", "crs") else
                       caps.get(s.key, {}).get("tiles", "n/a") if sc in TILE_SCENARIOS else "ok")
                if cap != "ok":
                    report["results"].setdefault(sc, {})[s.key] = {
                        "failed": cap if cap.startswith("n/a") else f"n/a: {cap}"}
                    log(f"{sc:<6} -> {s.key}: not measured ({cap})")
                    continue
                wait_idle(report, f"{sc} on {s.key}")
                log(f"wrk {sc:<6} -> {s.key} (warm-up {args.warmup}s, then {args.duration}s)")
                try:
                    warmed, seconds = None, args.duration
                    if sc == "tiles-cached":
                        warmed = warm_cache(s, n, cities_tsv, args, tile_files["cached"],
                                            len(tiles["cached"]))
                    elif args.warmup:
                        w = run_wrk(s, sc, n, cities_tsv, args, args.warmup,
                                    tiles_file=tile_files.get("warmup"))
                        if sc == "tiles":
                            seconds = tiles_seconds(w, len(tiles["uncached"]), args.duration,
                                                    args.connections)
                            warmed = {"requests": w["requests"], "active_s": w["active_s"],
                                      "p50_ms": w["p50_ms"], "seconds": seconds}
                            if seconds < args.duration:
                                log(f"   warm-up: {w['requests']} requests in "
                                    f"{w['active_s']:.1f} s, p50 {w['p50_ms']:.1f} ms on the "
                                    f"set-aside tiles: timed for {seconds} s, so that the list "
                                    f"of {len(tiles['uncached'])} lasts")
                    if warmed or args.warmup:
                        # a server slower than the warm-up works on what wrk abandoned
                        wait_idle(report, f"the timed {sc} run on {s.key}")
                    res = run_wrk(s, sc, n, cities_tsv, args, seconds,
                                  tiles_file=tile_files.get("uncached" if sc == "tiles"
                                                        else "cached"))
                    if warmed:
                        res["warmup"] = warmed
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    res = {"failed": str(exc)}
                    warn(f"{sc} on {s.key}: {exc}")
                else:
                    log(f"   {res['rps']:.1f} req/s, p50 {res['p50_ms']:.1f} ms, p95 "
                        f"{res['p95_ms']:.1f} ms, {res['requests']} requests, "
                        f"{res['errors']} errors"
                        + (f" (first bad status {res['first_bad_status']})"
                           if res.get("first_bad_status") else "")
                        + (f"; {res['distinct']} distinct tiles of {res['listed']}, mean "
                           f"{mean_tile_kb(res) or 0:.1f} KB, {res['empty']} empty"
                           + (f" (list used up after {res['active_s']:.1f} s)"
                              if res.get("used_up") else "")
                           if sc in TILE_SCENARIOS else ""))
                    if res["errors"]:
                        report["warnings"].append(f"{sc} on {s.key}: {res['errors']} errors "
                                                  f"of {res['requests']}")
                    if res["requests"] == 0:
                        report["warnings"].append(f"{sc} on {s.key}: no request completed")
                    if res.get("used_up"):
                        report["warnings"].append(
                            f"{sc} on {s.key}: the list of tiles ran out after "
                            f"{res['active_s']:.1f} s: req/s are over that time, and the last "
                            "requests may have waited for a worker held by a stopped thread")
                report["results"].setdefault(sc, {})[s.key] = res

        if gpkg_file is not None and sha256(gpkg_file) != gpkg_sha:
            warn(f"our store's version file {gpkg_file} changed while serving")
            report["warnings"].append("our GeoPackage version file changed while serving")
        table_keys = [s.key for s in servers]
        for key, *_ in raws:
            table_keys += [key, f"{key}-seek"]
        print_table(report["results"], table_keys, scenarios)
        print_tiles(report["results"], table_keys, scenarios)
        tile_size_warnings(report, table_keys)
        report["ratios"] = ratios(report["results"], scenarios)
        print_ratios(report["ratios"])
        report["targets"] = targets(report["results"])
        print_targets(report["targets"])
        if ncpu <= 4:
            print(f"(measured on {ncpu} cores shared by wrk, the server and PostgreSQL)")
        for w in report["warnings"]:
            print(f"WARNING: {w}")
    except KeyboardInterrupt:
        warn("interrupted: stopping servers and the cluster")
        return 130
    finally:
        for s in reversed(running):
            s.stop()
        if cluster is not None:
            cluster.stop()
        if not args.keep and run_dir.exists() and cluster is not None:
            shutil.rmtree(run_dir / "pg", ignore_errors=True)

    if not args.no_save and report["results"]:
        out_dir = BENCH / "results"
        out_dir.mkdir(exist_ok=True)
        out = out_dir / f"serve-{dt.date.today().isoformat()}.json"
        if out.exists():
            out = out_dir / f"serve-{dt.datetime.now().strftime('%Y-%m-%dT%H%M%S')}.json"
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        log(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
