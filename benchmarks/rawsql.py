"""The floor under every server: the same queries straight in SQLite or PostGIS, no HTTP.

Four client processes (as wrk's four connections) each run one query after another for the
given time against the very table a server reads, fetch every row (geometry included) and
record the latency. What a server adds on top is HTTP, JSON and its own code.

    scenario  SQL
    bbox      R-tree (SQLite) or GiST && plus ST_Intersects (PostGIS), ORDER BY fid LIMIT 100
    offset    ORDER BY fid LIMIT 100 OFFSET k, k in [0.8N, 0.9N]      (what OFFSET costs)
    seek      WHERE fid > k ORDER BY fid LIMIT 100, the same k        (the best a page can do)
    cql       kind = ? AND floors BETWEEN ? AND ? ORDER BY fid LIMIT 100, plus count(*)
    item      WHERE fid = ?

The random draws are those of scenarios.lua (same cities, same box size, same ranges), from
Python's generator: the same distribution, not the same sequence.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import random
import sqlite3
import time
from pathlib import Path

KINDS = ["residential", "apartments", "house", "garage", "commercial", "industrial", "school",
         "public", "retail", "shed"]
HALF_BOX_M = 250.0
M_PER_DEG = 111_320.0


def _cities(path: Path) -> list[tuple[float, float, float, float]]:
    out = []
    for line in path.read_text().splitlines():
        lon, lat, cum, sigma = map(float, line.split())
        out.append((lon, lat, cum, sigma))
    return out


def _bbox(rnd: random.Random, cities) -> tuple[float, float, float, float]:
    u = rnd.random()
    city = next((c for c in cities if u <= c[2]), cities[-1])
    reach = min(city[3] / 2, 1500.0)
    dx, dy = rnd.uniform(-reach, reach), rnd.uniform(-reach, reach)
    k = M_PER_DEG * math.cos(math.radians(city[1]))
    lon, lat = city[0] + dx / k, city[1] + dy / M_PER_DEG
    hx, hy = HALF_BOX_M / k, HALF_BOX_M / M_PER_DEG
    return lon - hx, lat - hy, lon + hx, lat + hy


def cql_values(rnd: random.Random) -> tuple[str, int, int]:
    """A kind and a floors range, as scenarios.lua draws them."""
    low = rnd.randint(1, 12)
    return rnd.choice(KINDS), low, rnd.randint(low, 25)


def _sqlite_runner(path: str, table: str, scenario: str, n: int, cities, seed: int,
                   seconds: float, out: mp.Queue) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    rtree = f'"rtree_{table}_geom"'
    cols = "f.fid, f.geom, f.id, f.kind, f.floors, f.name"
    rnd = random.Random(seed)
    lat: list[float] = []
    end = time.perf_counter() + seconds
    while (now := time.perf_counter()) < end:
        if scenario in ("bbox", "crs"):
            x0, y0, x1, y1 = _bbox(rnd, cities)
            rows = conn.execute(
                f'SELECT {cols} FROM "{table}" f JOIN {rtree} r ON r.id = f.fid WHERE '
                "r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ? "
                "ORDER BY f.fid LIMIT 100", (x0, x1, y0, y1)).fetchall()
        elif scenario in ("offset", "seek"):
            k = rnd.randint(int(0.8 * n), int(0.9 * n))
            if scenario == "offset":
                rows = conn.execute(f'SELECT {cols} FROM "{table}" f ORDER BY f.fid '
                                    "LIMIT 100 OFFSET ?", (k,)).fetchall()
            else:
                rows = conn.execute(f'SELECT {cols} FROM "{table}" f WHERE f.fid > ? '
                                    "ORDER BY f.fid LIMIT 100", (k,)).fetchall()
        elif scenario == "cql":
            args = cql_values(rnd)
            where = "f.kind = ? AND f.floors BETWEEN ? AND ?"
            rows = conn.execute(f'SELECT {cols} FROM "{table}" f WHERE {where} '
                                "ORDER BY f.fid LIMIT 100", args).fetchall()
            rows.append(conn.execute(f'SELECT count(*) FROM "{table}" f WHERE {where}',
                                     args).fetchone())
        else:  # item
            rows = conn.execute(f'SELECT {cols} FROM "{table}" f WHERE f.fid = ?',
                                (rnd.randint(1, n),)).fetchall()
        lat.append(time.perf_counter() - now)
        del rows
    out.put(lat)


def _postgis_runner(url: str, table: str, scenario: str, n: int, cities, seed: int,
                    seconds: float, out: mp.Queue) -> None:
    import psycopg

    conn = psycopg.connect(url, autocommit=True)
    cols = "fid, ST_AsBinary(geom), id, kind, floors, name"
    rnd = random.Random(seed)
    lat: list[float] = []
    end = time.perf_counter() + seconds
    with conn.cursor() as cur:
        while (now := time.perf_counter()) < end:
            if scenario in ("bbox", "crs"):
                box = _bbox(rnd, cities)
                cur.execute(f"SELECT {cols} FROM {table} WHERE geom && "
                            "ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND ST_Intersects(geom, "
                            "ST_MakeEnvelope(%s, %s, %s, %s, 4326)) ORDER BY fid LIMIT 100",
                            (*box, *box))
            elif scenario in ("offset", "seek"):
                k = rnd.randint(int(0.8 * n), int(0.9 * n))
                if scenario == "offset":
                    cur.execute(f"SELECT {cols} FROM {table} ORDER BY fid LIMIT 100 OFFSET %s",
                                (k,))
                else:
                    cur.execute(f"SELECT {cols} FROM {table} WHERE fid > %s ORDER BY fid "
                                "LIMIT 100", (k,))
            elif scenario == "cql":
                args = cql_values(rnd)
                where = "kind = %s AND floors BETWEEN %s AND %s"
                cur.execute(f"SELECT {cols} FROM {table} WHERE {where} ORDER BY fid LIMIT 100",
                            args)
                cur.fetchall()
                cur.execute(f"SELECT count(*) FROM {table} WHERE {where}", args)
            else:
                cur.execute(f"SELECT {cols} FROM {table} WHERE fid = %s", (rnd.randint(1, n),))
            cur.fetchall()
            lat.append(time.perf_counter() - now)
    conn.close()
    out.put(lat)


def run(store: str, target: str, table: str, scenario: str, n: int, cities_tsv: Path,
        seconds: float, clients: int = 4, seed: int = 20240611) -> dict:
    """req/s and latency percentiles (ms) of ``clients`` processes querying for ``seconds``.

    ``store`` is "sqlite" (``target`` a .gpkg path) or "postgis" (``target`` a libpq URL)."""
    cities = _cities(cities_tsv)
    runner = _sqlite_runner if store == "sqlite" else _postgis_runner
    ctx = mp.get_context("fork")
    queue: mp.Queue = ctx.Queue()
    procs = [ctx.Process(target=runner, args=(target, table, scenario, n, cities,
                                               seed + 7919 * i, seconds, queue))
             for i in range(clients)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    latencies: list[float] = []
    for _ in procs:
        latencies += queue.get(timeout=seconds + 300)
    for p in procs:
        p.join()
    wall = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 \
            if latencies else 0.0

    return {"requests": len(latencies), "duration_s": round(wall, 3),
            "rps": len(latencies) / seconds if seconds else 0.0,
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "non2xx": 0, "connect_errors": 0, "read_errors": 0, "write_errors": 0,
            "timeouts": 0, "errors": 0}
