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
    tiles     a vector tile as our stores render it, from serve.py's list of tiles walked
              as wrk walks it (client i takes entries i, i + 4, ..., and stops at the end of
              its share: req/s are then over the time the clients ran):
              PostGIS: the ST_AsMVT statement of ``PostGISStore.tile``, run as is;
              SQLite: the R-tree query of ``GeoPackageStore.tile``, then its
              ``encode_tile_rows`` (our numpy MVT encoder) in the client process, no HTTP
              (z14 tiles never need the store's thinning of dense low-zoom tiles).
              ``render()`` renders given tiles either way, for serve.py's check against
              the servers' tiles.

The bboxes are serve.py's 2,000 pre-drawn boxes, the very list wrk walks (client i takes
boxes i, i + 4, ...). The other random draws are those of scenarios.lua (same ranges), from
Python's generator: the same distribution, not the same sequence.
"""

from __future__ import annotations

import itertools
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
TILE_LAYER = "buildings"  # the MVT layer name: our servers name it after the layer id


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


# -- vector tiles: the statements our stores run (geoportal/storage/postgis.py and gpkg.py) ----

def _pg_tile_statement(conn, table: str) -> str:
    """``PostGISStore.tile``'s statement for a polygon layer, with the table's columns."""
    from geoportal.storage.mvt import BUFFER, EXTENT

    schema, name = table.split(".", 1)
    columns = [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND "
        "table_name = %s ORDER BY ordinal_position", (schema, name)).fetchall()
        if r[0] not in ("fid", "geom")]
    cols = "".join(f'"{c}", ' for c in columns)
    return (f"SELECT ST_AsMVT(t, %(layer)s, {EXTENT}, 'geom', 'fid') "
            "FILTER (WHERE t.geom IS NOT NULL), count(*) FROM ("
            f"SELECT fid, {cols}ST_AsMVTGeom(ST_Transform(geom, 3857), "
            f"ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {EXTENT}, {BUFFER}, true) AS geom "
            f'FROM (SELECT * FROM "{schema}"."{name}" '
            "WHERE geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)"
            " AND (ST_XMax(geom) - ST_XMin(geom) >= %(small)s"
            " OR ST_YMax(geom) - ST_YMin(geom) >= %(small)s) "
            "LIMIT %(limit)s + 1) AS s) AS t")


def _pg_tile_params(z: int, x: int, y: int) -> dict:
    from geoportal.storage.base import MAX_TILE_FEATURES
    from geoportal.storage.mvt import TileAddress, min_feature_size

    address = TileAddress(z, x, y)
    minx, miny, maxx, maxy = address.lonlat_bounds()
    return {"layer": TILE_LAYER, "z": z, "x": x, "y": y, "minx": minx, "miny": miny,
            "maxx": maxx, "maxy": maxy, "small": min_feature_size(address),
            "limit": MAX_TILE_FEATURES}


class _SqliteTiles:
    """``GeoPackageStore.tile`` without the store: R-tree query, ``encode_tile_rows``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        conn.text_factory = lambda raw: raw.decode("utf-8", errors="replace")  # as the store
        table, geom = conn.execute(
            "SELECT table_name, column_name FROM gpkg_geometry_columns LIMIT 1").fetchone()
        self.columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')
                        if r[1] not in ("fid", geom)]
        select = ", ".join(["f.fid", f'f."{geom}"', *(f'f."{c}"' for c in self.columns)])
        self.sql = (f'SELECT {select} FROM "rtree_{table}_{geom}" AS r JOIN "{table}" AS f '
                    "ON f.fid = r.id WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND "
                    "r.miny <= ? AND (r.maxx - r.minx >= ? OR r.maxy - r.miny >= ?) LIMIT ?")

    def render(self, z: int, x: int, y: int) -> bytes:
        from geoportal.storage.base import MAX_TILE_FEATURES
        from geoportal.storage.gpkg import encode_tile_rows
        from geoportal.storage.mvt import TileAddress, min_feature_size

        address = TileAddress(z, x, y)
        minx, miny, maxx, maxy = address.lonlat_bounds()
        small = min_feature_size(address)
        raw = self.conn.execute(self.sql, (minx, maxx, miny, maxy, small, small,
                                           MAX_TILE_FEATURES + 1)).fetchall()
        return encode_tile_rows(address, TILE_LAYER, raw, self.columns, {})


def render(store: str, target: str, table: str,
           tiles: list[tuple[int, int, int]]) -> list[tuple[bytes, float]]:
    """Tiles rendered as the raw floor renders them (``store`` and ``target`` as in ``run``),
    one after the other on one connection, each with the seconds it took."""
    out = []
    if store == "sqlite":
        conn = sqlite3.connect(f"file:{target}?mode=ro&immutable=1", uri=True)
        try:
            renderer = _SqliteTiles(conn)
            for t in tiles:
                t0 = time.perf_counter()
                out.append((renderer.render(*t), time.perf_counter() - t0))
        finally:
            conn.close()
        return out
    import psycopg

    with psycopg.connect(target, autocommit=True) as conn:
        statement = _pg_tile_statement(conn, table)
        for t in tiles:
            t0 = time.perf_counter()
            row = conn.execute(statement, _pg_tile_params(*t)).fetchone()
            out.append((bytes(row[0]) if row and row[0] else b"", time.perf_counter() - t0))
    return out


def _sqlite_runner(path: str, table: str, scenario: str, n: int, cities, seed: int,
                   seconds: float, out: mp.Queue, tiles=None, boxes=None) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    if scenario == "tiles":
        renderer = _SqliteTiles(conn)
        lat, sizes = [], []
        start = time.perf_counter()
        end = start + seconds
        for t in tiles:  # each once: stop at the end of the share
            if (now := time.perf_counter()) >= end:
                break
            sizes.append(len(renderer.render(*t)))
            lat.append(time.perf_counter() - now)
        out.put((lat, sizes, time.perf_counter() - start))
        return
    rtree = f'"rtree_{table}_geom"'
    cols = "f.fid, f.geom, f.id, f.kind, f.floors, f.name"
    rnd = random.Random(seed)
    lat: list[float] = []
    end = time.perf_counter() + seconds
    while (now := time.perf_counter()) < end:
        if scenario in ("bbox", "crs"):
            x0, y0, x1, y1 = next(boxes) if boxes else _bbox(rnd, cities)
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
    out.put((lat, [], seconds))


def _postgis_runner(url: str, table: str, scenario: str, n: int, cities, seed: int,
                    seconds: float, out: mp.Queue, tiles=None, boxes=None) -> None:
    import psycopg

    conn = psycopg.connect(url, autocommit=True)
    if scenario == "tiles":
        statement = _pg_tile_statement(conn, table)
        lat, sizes = [], []
        start = time.perf_counter()
        end = start + seconds
        with conn.cursor() as cur:
            for t in tiles:  # each once: stop at the end of the share
                if (now := time.perf_counter()) >= end:
                    break
                cur.execute(statement, _pg_tile_params(*t))
                row = cur.fetchone()
                sizes.append(len(row[0]) if row and row[0] else 0)
                lat.append(time.perf_counter() - now)
        conn.close()
        out.put((lat, sizes, time.perf_counter() - start))
        return
    cols = "fid, ST_AsBinary(geom), id, kind, floors, name"
    rnd = random.Random(seed)
    lat: list[float] = []
    end = time.perf_counter() + seconds
    with conn.cursor() as cur:
        while (now := time.perf_counter()) < end:
            if scenario in ("bbox", "crs"):
                box = next(boxes) if boxes else _bbox(rnd, cities)
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
    out.put((lat, [], seconds))


def run(store: str, target: str, table: str, scenario: str, n: int, cities_tsv: Path,
        seconds: float, clients: int = 4, seed: int = 20240611,
        tiles: list[tuple[int, int, int]] | None = None,
        boxes: list[tuple[float, float, float, float]] | None = None) -> dict:
    """req/s and latency percentiles (ms) of ``clients`` processes querying for ``seconds``.

    ``store`` is "sqlite" (``target`` a .gpkg path) or "postgis" (``target`` a libpq URL).
    ``tiles``: the (z, x, y) list the "tiles" scenario walks. ``boxes``: serve.py's pre-drawn
    bboxes; client i takes boxes i, i + clients, ... and starts over at the end, as wrk's
    threads walk them (without: a box drawn per query, as scenarios.lua's --random-boxes)."""
    cities = _cities(cities_tsv)
    runner = _sqlite_runner if store == "sqlite" else _postgis_runner
    ctx = mp.get_context("fork")
    queue: mp.Queue = ctx.Queue()
    shares = [tiles[i::clients] for i in range(clients)] if tiles else [None] * clients
    walks = ([itertools.cycle(boxes[i::clients]) for i in range(clients)] if boxes
             else [None] * clients)
    procs = [ctx.Process(target=runner, args=(target, table, scenario, n, cities,
                                               seed + 7919 * i, seconds, queue, shares[i],
                                               walks[i]))
             for i in range(clients)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    latencies: list[float] = []
    sizes: list[int] = []
    active = 0.0  # the longest a client ran (tiles: clients stop at the end of their share)
    for _ in procs:
        lat, size, ran = queue.get(timeout=seconds + 300)
        latencies += lat
        sizes += size
        active = max(active, ran)
    for p in procs:
        p.join()
    wall = time.perf_counter() - started
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 \
            if latencies else 0.0

    out = {"requests": len(latencies), "duration_s": round(wall, 3),
           "rps": len(latencies) / active if active else 0.0,
           "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
           "non2xx": 0, "connect_errors": 0, "read_errors": 0, "write_errors": 0,
           "timeouts": 0, "errors": 0}
    if tiles:  # the same tile figures as scenarios.lua's
        out.update({"ok": len(sizes), "ok_body_bytes": sum(sizes),
                    "empty": sum(1 for size in sizes if not size), "built": len(sizes),
                    "distinct": len(sizes), "listed": len(tiles), "active_s": round(active, 3),
                    "used_up": len(sizes) == len(tiles)})
    return out
