#!/usr/bin/env python3
"""Vertex cap benchmark: how long one huge polygon makes a low-zoom tile and a feature GET.

    .venv/bin/python benchmarks/vertices.py [--sizes 10000,50000,...] [--postgis] [--repeat 3]

For each size (default 10k, 50k, 100k, 250k, 500k, 1M vertices):

1. builds one polygon of that many vertices over central Belarus (about 110 x 110 km
   around 27.5 E, 53.7 N, its edge wiggled at several scales like a traced forest or lake
   shore, so that nothing about it is regular);
2. publishes it with the real ETL (``geoportal.etl.ingest``, the vertex cap lifted) into a
   fresh GeoPackage store, and with ``--postgis`` also into PostGIS (a throwaway cluster from
   ``tests/pg.py``);
3. in a fresh process per size and store (so the peak RSS is that of the size alone), times
   ``store.tile`` for the z5, z6 and z7 tiles over the polygon's centre (what
   ``geoportal/server/tiles.py`` calls on a cache miss) and a feature GET (``store.get``
   plus the GeoJSON geometry the server writes), best of ``--repeat``;
4. times a named peer on the same data: GDAL's MVT writer (``ogr2ogr -f MVT`` from the same
   GeoPackage, one zoom level, which clips and simplifies per tile as we do; process start
   included, about 0.1 s) and, with ``--postgis``, ``ST_AsMVT`` run directly in psql's place
   (the same SQL our PostGIS store sends, without Python around it).

Prints a table: milliseconds per operation, the ratio ours / peer, and the peak RSS of the
worker process. ``settings.max_vertices`` is chosen from this table: the largest size whose
slowest low-zoom tile stays under about a second on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUR_PY = REPO / ".venv" / "bin" / "python"

try:
    import numpy as np
    import pyarrow as pa
    import pyogrio
    import shapely
except ImportError:  # run with the project's venv, which has them
    if OUR_PY.exists() and Path(sys.executable).resolve() != OUR_PY.resolve():
        os.execv(str(OUR_PY), [str(OUR_PY), *sys.argv])
    raise

sys.path.insert(0, str(REPO))

SIZES = (10_000, 50_000, 100_000, 250_000, 500_000, 1_000_000)
CENTRE = (27.5, 53.7)
ZOOMS = (5, 6, 7)
LAYER = "huge"


def polygon(n: int, shape: str = "shore", seed: int = 15) -> shapely.Polygon:
    """A valid polygon of ``n`` vertices around CENTRE, about 110 x 110 km.

    ``shore``: a circle whose radius wiggles at several scales (km down to metres), like a
    traced lake shore or forest edge. ``spiky``: each vertex at a random radius between 60 %
    and 100 % (a star of ``n`` spikes, still simple): the worst case for tiles, since no
    simplification can drop a spike and rounding to the tile grid makes the rings touch."""
    rng = np.random.default_rng(seed)
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    if shape == "spiky":
        radius = rng.uniform(0.6, 1.0, n)
    else:
        radius = (1 + 0.08 * np.sin(7 * theta) + 0.02 * np.sin(97 * theta + 1)
                  + 0.004 * np.sin(1301 * theta + 2))
        radius += np.convolve(rng.standard_normal(n), np.ones(9) / 9, mode="same") * 2e-4
    lon = CENTRE[0] + 0.85 * radius * np.cos(theta)
    lat = CENTRE[1] + 0.5 * radius * np.sin(theta)
    shape = shapely.Polygon(np.column_stack([lon, lat]))
    assert shape.is_valid and shapely.get_num_coordinates(shape) == n + 1
    return shape


def tile_of(z: int) -> tuple[int, int, int]:
    """The WebMercatorQuad tile (z, x, y) holding CENTRE."""
    lon, lat = np.radians(CENTRE[0]), np.radians(CENTRE[1])
    x = int((CENTRE[0] + 180) / 360 * 2**z)
    y = int((1 - np.log(np.tan(lat) + 1 / np.cos(lat)) / np.pi) / 2 * 2**z)
    del lon
    return z, x, y


def _settings(data: Path, database_url: str | None):
    from geoportal.config import load_settings

    return load_settings(data_dir=data, config_dir=REPO / "config", layers_dir=REPO / "layers",
                         database_url=database_url)


def publish(n: int, shape: str, data: Path, database_url: str | None) -> dict:
    """Write the polygon to a GeoPackage source and ingest it; return what the run needs."""
    from geoportal.catalog import Catalog, load_registry
    from geoportal.etl import ingest, load_manifest
    from geoportal.storage import open_store

    data.mkdir(parents=True, exist_ok=True)
    src = data / f"huge-{n}.gpkg"
    pyogrio.write_arrow(pa.table({"name": [f"polygon of {n} vertices"],
                                  "geometry": shapely.to_wkb([polygon(n, shape)])}),
                        src, layer=LAYER, driver="GPKG", geometry_name="geometry",
                        geometry_type="Polygon", crs="EPSG:4326")
    manifest = data / "huge.yaml"
    manifest.write_text(json.dumps({"id": LAYER, "region": "0000000000", "theme": "other",
                                    "title": "huge", "source": {"path": src.name}}))
    settings = _settings(data, database_url)
    registry = load_registry(settings.config_dir)
    catalog = Catalog(settings.database_url or "")
    catalog.init(registry)
    store = open_store(settings)
    started = time.perf_counter()
    report = ingest(load_manifest(manifest), catalog=catalog, store=store, registry=registry,
                    max_vertices=10 * n)
    seconds = time.perf_counter() - started
    assert report.features_published == 1, report.to_dict()
    layer = catalog.get_layer(LAYER)
    store.close()
    return {"ref": layer.current.store_ref, "ingest_s": seconds, "source": str(src)}


def measure(data: Path, database_url: str | None, repeat: int) -> dict:
    """Run in a fresh process: tile and GET timings (ms, best of ``repeat``), peak RSS."""
    from geoportal.catalog import Catalog
    from geoportal.providers.geojson import to_geojson_geometries
    from geoportal.storage import open_store
    from geoportal.storage.mvt import TileAddress

    settings = _settings(data, database_url)
    layer = Catalog(settings.database_url or "").get_layer(LAYER)
    store = open_store(settings)
    ref, fields = layer.current.store_ref, layer.current.fields
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out: dict = {}

    def best(fn) -> tuple[float, object]:
        times, value = [], None
        for _ in range(repeat):
            started = time.perf_counter()
            value = fn()
            times.append(time.perf_counter() - started)
        return min(times) * 1000, value

    for z in ZOOMS:
        address = TileAddress(*tile_of(z))
        ms, tile = best(lambda a=address: store.tile(ref, fields, a, layer=LAYER, points=False))
        out[f"z{z}_ms"], out[f"z{z}_bytes"] = ms, len(tile)
    fid = 1

    def get() -> int:
        row = store.get(ref, fields, fid)
        return len(to_geojson_geometries([row.geometry])[0])

    out["get_ms"], _ = best(get)
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["rss_growth_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                            - rss_before) / 1024
    store.close()
    return out


def gdal_mvt_ms(gpkg: Path, table: str, z: int, work: Path, repeat: int,
                timeout: float) -> float:
    """``ogr2ogr -f MVT`` of the table at one zoom (GDAL clips and simplifies per tile);
    infinity when it takes longer than ``timeout`` seconds."""
    times = []
    for i in range(repeat):
        target = work / f"mvt-{z}-{i}"
        started = time.perf_counter()
        try:
            subprocess.run(["ogr2ogr", "-f", "MVT", str(target), str(gpkg), table,
                            "-dsco", f"MINZOOM={z}", "-dsco", f"MAXZOOM={z}",
                            "-dsco", "COMPRESS=NO", "-dsco", "MAX_SIZE=100000000"],
                           check=True, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return float("inf")
        finally:
            shutil.rmtree(target, ignore_errors=True)
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def postgis_mvt_ms(database_url: str, ref: str, z: int, repeat: int) -> float:
    """ST_AsMVT of the same tile straight in PostgreSQL (no Python around it)."""
    import psycopg

    schema, table = ref.split(".", 1) if "." in ref else ("public", ref)
    z, x, y = tile_of(z)
    sql = (f'SELECT length(ST_AsMVT(t, \'{LAYER}\', 4096, \'geom\')) FROM (SELECT '
           f'ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope({z}, {x}, {y}), 4096, 64, '
           f'true) AS geom FROM "{schema.strip(chr(34))}"."{table.strip(chr(34))}") AS t')
    times = []
    with psycopg.connect(database_url) as conn:
        for _ in range(repeat):
            started = time.perf_counter()
            conn.execute(sql).fetchone()
            times.append(time.perf_counter() - started)
    return min(times) * 1000


def child(args: argparse.Namespace) -> None:
    print(json.dumps(measure(Path(args.child), args.database_url, args.repeat)))


def run_size(n: int, shape: str, root: Path, database_url: str | None, repeat: int,
             peer_timeout: float) -> dict:
    data = root / f"{'pg' if database_url else 'gpkg'}-{shape}-{n}"
    published = publish(n, shape, data, database_url)
    command = [sys.executable, __file__, "--child", str(data), "--repeat", str(repeat)]
    if database_url:
        command += ["--database-url", database_url]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:  # e.g. a tile over the store's time budget
        last = next((line for line in reversed(done.stderr.strip().splitlines())
                     if "Error" in line or "Exceeded" in line), "?")
        print(f"{shape} {n:,} on {'PostGIS' if database_url else 'GeoPackage'}: {last}",
              flush=True)
        shutil.rmtree(data, ignore_errors=True)
        return {}
    result = json.loads(done.stdout)
    result.update(n=n, shape=shape, ingest_s=published["ingest_s"])
    if database_url:
        result["peer"] = {z: postgis_mvt_ms(database_url, published["ref"], z, repeat)
                          for z in ZOOMS}
        result["peer_name"] = "PostGIS ST_AsMVT in SQL"
    else:
        gpkg = data / "store" / published["ref"]
        gpkg = gpkg if gpkg.exists() else next((data).rglob(Path(published["ref"]).name))
        result["peer"] = {z: gdal_mvt_ms(gpkg, pyogrio.list_layers(gpkg)[0][0], z, root,
                                         repeat, peer_timeout) for z in ZOOMS}
        result["peer_name"] = f"ogr2ogr -f MVT (GDAL {pyogrio.__gdal_version_string__})"
    shutil.rmtree(data, ignore_errors=True)
    return result


def show(store: str, rows: list[dict]) -> None:
    rows = [r for r in rows if r]
    if not rows:
        return
    print(f"\n{store}: one polygon, tiles over its centre (ms, best of runs); "
          f"peer: {rows[0]['peer_name']}")
    head = ["shape", "vertices", "ingest s"] + [f"z{z} ms (x peer)" for z in ZOOMS] + [
        "GET ms", "peak RSS MB"]
    print(" | ".join(f"{h:>16}" for h in head))
    for r in rows:
        cells = [r["shape"], f"{r['n']:,}", f"{r['ingest_s']:.1f}"]
        cells += [f"{r[f'z{z}_ms']:.0f} ({r[f'z{z}_ms'] / r['peer'][z]:.2f}x)" for z in ZOOMS]
        if any(np.isinf(list(r["peer"].values()))):
            cells[-3:] = [c.replace("(0.00x)", "(peer>limit)") for c in cells[-3:]]
        cells += [f"{r['get_ms']:.0f}", f"{r['rss_mb']:.0f}"]
        print(" | ".join(f"{c:>16}" for c in cells), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=",".join(str(s) for s in SIZES),
                   help="vertex counts, comma-separated")
    p.add_argument("--shapes", default="shore,spiky", help="polygon shapes: shore, spiky")
    p.add_argument("--repeat", type=int, default=3, help="runs per timing (the best is kept)")
    p.add_argument("--postgis", action="store_true", help="also PostGIS (a throwaway cluster)")
    p.add_argument("--peer-timeout", type=float, default=60,
                   help="seconds after which ogr2ogr is stopped (shown as peer>limit)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--database-url", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    shapes = args.shapes.split(",")
    root = Path(tempfile.mkdtemp(prefix="geoportal-vertices-"))
    root.chmod(0o755)  # the cluster runs as the postgres user
    cluster = None
    try:
        rows = [run_size(n, s, root, None, args.repeat, args.peer_timeout)
                for s in shapes for n in sizes]
        show("GeoPackage store", rows)
        if args.postgis:
            import socket

            from tests.pg import LocalPostgres, find_pg_bin
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            cluster = LocalPostgres(root / "pg", port, find_pg_bin())
            cluster.start()
            rows = [run_size(n, s, root, cluster.new_database(), args.repeat,
                             args.peer_timeout) for s in shapes for n in sizes]
            show("PostGIS store", rows)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
