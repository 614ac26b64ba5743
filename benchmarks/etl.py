#!/usr/bin/env python3
"""ETL benchmark: `geoportal ingest` of a regional Shapefile against `ogr2ogr -f GPKG`.

    .venv/bin/python benchmarks/etl.py [--features 1000000] [--repeat 1] [--profile]

1. generates (once, cached in benchmarks/.data/) a Shapefile of N building polygons over Minsk
   and Minsk oblast in EPSG:28405 (Pulkovo 1942 / Gauss-Kruger zone 5, eastings with the zone
   prefix, 5,4xx,xxx), attributes with Cyrillic text in a CP1251 DBF, with no .cpg, no .prj
   and the DBF's language byte zeroed, plus a few bad features (self-intersecting bowties,
   polygons at 0,0) so that detection, repair and set-aside all run;
2. times, with the peak RSS of the process (GNU time's %M, see run_measured):
   `geoportal --data-dir <tmp> ingest buildings.shp` (detects the encoding and the CRS,
   validates and repairs every geometry, writes our GeoPackage store) and
   `ogr2ogr -f GPKG -s_srs EPSG:28405 -t_srs EPSG:4326 --config SHAPE_ENCODING CP1251`
   (told both the CRS and the encoding, which it cannot detect);
3. checks that the outputs agree: feature counts (ours minus what it set aside, which it
   must report), and for a sample of ids every attribute and every vertex (<= 1e-6 degrees);
4. prints both tools' wall time and peak RSS, the ratio ours / ogr2ogr and PASS/FAIL against
   the targets (time <= 1.5x ogr2ogr's, peak RSS < 512 MiB); writes
   benchmarks/results/etl-<date>.json;
5. does 2-4 again with the same polygons as a MapInfo TAB (written once by
   `ogr2ogr -f "MapInfo File" -lco ENCODING=CP1251 -a_srs EPSG:28405`: charset WindowsCyrillic,
   a Pulkovo 1942 Gauss-Kruger CoordSys in the .map), against `ogr2ogr -f GPKG` from that TAB
   (skip with --no-tab). With --profile, also runs `geoportal.etl.ingest`
   in-process under cProfile and prints where the time goes.

See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUR_PY = REPO / ".venv" / "bin" / "python"

try:
    import numpy as np
    import pyogrio  # noqa: F401
    import shapely
except ImportError:  # run with the project's venv, which has them
    if OUR_PY.exists() and Path(sys.executable).resolve() != OUR_PY.resolve():
        os.execv(str(OUR_PY), [str(OUR_PY), *sys.argv])
    raise

sys.path.insert(0, str(BENCH))
import datagen  # noqa: E402

GEOPORTAL = REPO / ".venv" / "bin" / "geoportal"
DATA_VERSION = 1  # bump when the generated file changes, so cached files are not reused
SOURCE_CRS = "EPSG:28405"
# The country (config/regions.yaml): the buildings lie in Minsk and Minsk oblast, and the region
# check follows config/boundaries.geojson, where Minsk city is not part of Minsk oblast; under
# 6000000000 the city's buildings (about a fifth) would be set aside and the runs not compare.
REGION = "0000000000"
THEME = "urban-infrastructure"
LAYER_ID = "bench"
# Minsk and the towns of Minsk oblast around it (datagen's cities inside this lon/lat box)
AREA = (26.5, 53.3, 28.5, 54.5)
TARGET_RATIO = 1.5
TARGET_RSS_MIB = 512
COORD_TOLERANCE_DEG = 1e-6
# datagen's kinds as a Belarusian cadastre names them (in Russian; streets are Belarusian)
BUILDING_TYPES = {
    "residential": "жилой дом", "apartments": "многоквартирный жилой дом",
    "house": "индивидуальный жилой дом", "garage": "гараж", "commercial": "торговый центр",
    "industrial": "производственное здание", "school": "школа",
    "shed": "хозяйственная постройка", "public": "административное здание",
    "retail": "магазин",
}
FIELDS = ["id", "type", "street", "name", "floors", "area_m2", "built"]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def warn(msg: str) -> None:
    print(f"WARNING: {msg}", flush=True)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--features", type=int, default=1_000_000, help="polygons to generate")
    p.add_argument("--repeat", type=int, default=1,
                   help="timed runs of each tool (alternating); the median is reported")
    p.add_argument("--bowties", type=float, default=1e-4,
                   help="fraction of features made self-intersecting (repaired by ours)")
    p.add_argument("--zeros", type=float, default=2e-5,
                   help="fraction of features moved to 0,0 (set aside by ours)")
    p.add_argument("--idle-wait", type=float, default=300,
                   help="before each timed run, wait up to this many seconds for other processes "
                        "to use < 0.15 cores (0: do not wait)")
    p.add_argument("--sample", type=int, default=500, help="features compared vertex by vertex")
    p.add_argument("--profile", action="store_true",
                   help="also run geoportal.etl.ingest in-process under cProfile")
    p.add_argument("--profile-top", type=int, default=25, help="functions listed by --profile")
    p.add_argument("--only-profile", action="store_true",
                   help="skip the timed runs; generate the data and profile only")
    p.add_argument("--seed", type=int, default=20240611)
    p.add_argument("--keep", action="store_true", help="keep the outputs of the runs")
    p.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    p.add_argument("--no-tab", action="store_true", help="skip the MapInfo TAB input row")
    p.add_argument("--region", default=REGION,
                   help="the layer's region (SOATO); with 6000000000 (Minsk oblast) the "
                        "buildings of Minsk city, its own region, are set aside")
    return p.parse_args()


# ---------------------------------------------------------------------------------------------
# data

def area_cities() -> list[datagen.City]:
    minx, miny, maxx, maxy = AREA
    return [c for c in datagen.load_cities()
            if minx <= c.lon <= maxx and miny <= c.lat <= maxy]


def data_dir_for(n: int, seed: int, bowties: float, zeros: float) -> Path:
    return BENCH / ".data" / f"etl-{n}-seed{seed}-b{bowties:g}-z{zeros:g}-v{DATA_VERSION}"


def generate_shapefile(out_dir: Path, n: int, seed: int, bowties: float, zeros: float) -> dict:
    """Write ``out_dir/buildings.shp`` (+ .shx, .dbf) once; return its description."""
    import pyogrio.raw
    import pyproj
    import shapely

    meta_path = out_dir / "meta.json"
    if meta_path.exists():
        return json.loads(meta_path.read_text())
    t0 = time.perf_counter()
    tmp = out_dir.with_name(out_dir.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)

    cities = area_cities()
    data = datagen.generate(n, seed, cities)
    to_gk = pyproj.Transformer.from_crs("EPSG:4326", SOURCE_CRS, always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_gk.transform(xy[:, 0], xy[:, 1]))

    geoms = shapely.transform(shapely.from_wkb(data["wkb"]), project)
    del data["wkb"]

    # the bad ones: self-intersecting "bowties" (valid after make_valid) and squares at 0,0
    rng = np.random.default_rng(seed + 1)
    n_bow, n_zero = max(1, round(n * bowties)), max(1, round(n * zeros))
    picked = rng.choice(n, size=n_bow + n_zero, replace=False)
    bow, zero = np.sort(picked[:n_bow]), np.sort(picked[n_bow:])
    b = shapely.bounds(geoms[bow])
    ring = np.stack([b[:, [0, 1]], b[:, [2, 3]], b[:, [0, 3]], b[:, [2, 1]], b[:, [0, 1]]], axis=1)
    geoms[bow] = shapely.polygons(ring)
    geoms[zero] = shapely.box(0.0, 0.0, 12.0, 9.0)

    types = np.array([BUILDING_TYPES[k] for k in data["kind"]], dtype=object)
    streets = np.array(datagen.STREETS, dtype=object)
    street_i = rng.integers(0, len(streets), n)
    house = rng.integers(1, 250, n)
    has_street = rng.random(n) < 0.9
    street = np.full(n, None, dtype=object)
    street[has_street] = [f"{streets[s]}, {h}"
                          for s, h in zip(street_i[has_street], house[has_street], strict=True)]
    area = np.round(shapely.area(geoms), 2)
    year, month, day = rng.integers(1950, 2024, n), rng.integers(1, 13, n), rng.integers(1, 29, n)
    has_date = rng.random(n) < 0.85
    built = np.full(n, None, dtype=object)
    built[has_date] = [f"{d:02d}.{m:02d}.{y}" for d, m, y in
                       zip(day[has_date], month[has_date], year[has_date], strict=True)]

    shp = tmp / "buildings.shp"
    warnings.filterwarnings("ignore", message="'crs' was not provided")  # on purpose
    pyogrio.raw.write(
        str(shp), shapely.to_wkb(geoms, output_dimension=2),
        [data["id"], types, street, data["name"], data["floors"], area, built],
        fields=FIELDS, layer="buildings", driver="ESRI Shapefile", geometry_type="Polygon",
        crs=None, encoding="CP1251", layer_options={"RESIZE": "YES"},
    )
    # what regional exports look like: no .cpg, no .prj, no language byte in the DBF
    for ext in (".cpg", ".prj"):
        shp.with_suffix(ext).unlink(missing_ok=True)
    with shp.with_suffix(".dbf").open("r+b") as f:
        f.seek(29)
        f.write(b"\x00")
    raw = shp.with_suffix(".dbf").read_bytes()[:1 << 16]
    if "жилой".encode("cp1251") not in raw and "гараж".encode("cp1251") not in raw:
        raise RuntimeError(f"{shp}: the DBF does not hold CP1251 text")

    meta = {
        "features": n, "seed": seed, "data_version": DATA_VERSION, "crs": SOURCE_CRS,
        "encoding": "CP1251", "area": AREA, "cities": [c.name for c in cities],
        "bowtie_ids": (bow + 1).tolist(), "zero_ids": (zero + 1).tolist(),
        "fields": FIELDS, "generated_s": round(time.perf_counter() - t0, 1),
        "bytes": {p.suffix: p.stat().st_size for p in sorted(tmp.glob("buildings.*"))},
    }
    (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False) + "\n")
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return meta


def generate_tab(data: Path, shp: Path) -> Path:
    """``data/tab/buildings.tab`` (+ .dat, .map, .id), the Shapefile's polygons as MapInfo
    writes them, once: CP1251 (charset WindowsCyrillic), Pulkovo 1942 zone 5 CoordSys."""
    tab = data / "tab" / "buildings.tab"
    if tab.exists():
        return tab
    tmp = data / "tab.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    log(f"writing the MapInfo TAB -> {tab}")
    subprocess.run(["ogr2ogr", "--config", "SHAPE_ENCODING", "CP1251", "-f", "MapInfo File",
                    "-lco", "ENCODING=CP1251", "-a_srs", SOURCE_CRS, str(tmp / tab.name),
                    str(shp)], check=True, capture_output=True)
    shutil.rmtree(tab.parent, ignore_errors=True)
    tmp.rename(tab.parent)
    return tab


def warm_cache(shp: Path) -> None:
    """Read every part of the Shapefile once, so that no tool pays for the disk."""
    for part in sorted(shp.parent.glob(shp.stem + ".*")):
        with part.open("rb") as f:
            while f.read(1 << 22):
                pass


# ---------------------------------------------------------------------------------------------
# runs

TIME = "/usr/bin/time"  # GNU time (Debian package `time`)
TICK = os.sysconf("SC_CLK_TCK")


def cpu_busy_s() -> float:
    """CPU seconds spent busy by the whole machine since boot (all cores, /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / TICK


def wait_idle(max_wait: float, busy_limit: float = 0.15) -> float:
    """Wait (up to ``max_wait`` s) until other processes use < ``busy_limit`` cores over 2 s;
    return what they used at the end (in cores)."""
    deadline = time.monotonic() + max_wait
    while True:
        b0, t0 = cpu_busy_s(), time.monotonic()
        time.sleep(2.0)
        busy = (cpu_busy_s() - b0) / (time.monotonic() - t0)
        if busy < busy_limit or time.monotonic() >= deadline:
            return busy
        log(f"machine busy ({busy:.2f} cores used by other processes); waiting")


def run_measured(cmd: list[str], *, env: dict[str, str] | None = None, logfile: Path,
                 what: str) -> dict:
    """Run ``cmd``; its wall time and peak RSS.

    The peak RSS comes from GNU time's %M (ru_maxrss of the command, forked from a small C
    process). Not from our own os.wait4: Python starts children with vfork, and Linux carries
    the parent's RSS high-water mark over the exec, so every child would "peak" at least at this
    harness's size (110 MiB with numpy loaded, GBs right after generating the data).
    """
    log(f"{what}: {' '.join(cmd)}")
    out_path, err_path = logfile.with_suffix(".out"), logfile.with_suffix(".err")
    time_path = logfile.with_suffix(".time")
    gnu_time = Path(TIME).exists()
    full = [TIME, "-o", str(time_path), "-f", "%e %M %U %S", *cmd] if gnu_time else cmd
    with out_path.open("wb") as out, err_path.open("wb") as err:
        busy0, t0 = cpu_busy_s(), time.perf_counter()
        proc = subprocess.run(full, env={**os.environ, **(env or {})}, cwd=REPO, stdout=out,
                              stderr=err, check=False)
        secs = time.perf_counter() - t0
        busy = cpu_busy_s() - busy0
    stdout = out_path.read_text(errors="replace")
    stderr = err_path.read_text(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): "
                           f"{(stderr or stdout).strip()[-2000:]}")
    if gnu_time:
        _, rss_kib, user, sys_ = time_path.read_text().split()[-4:]
        rss, user_s, sys_s = int(rss_kib) / 1024, float(user), float(sys_)
    else:  # includes this process's RSS at the fork: see above
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        rss, user_s, sys_s = usage.ru_maxrss / 1024, usage.ru_utime, usage.ru_stime
    # CPU the rest of the machine used meanwhile, in cores (2 cores here: other jobs matter)
    others = max(0.0, busy - user_s - sys_s) / secs
    log(f"{what}: {secs:.1f} s, peak RSS {rss:.0f} MiB, user {user_s:.1f} s, sys {sys_s:.1f} s;"
        f" other processes used {others:.2f} cores meanwhile")
    return {"wall_s": round(secs, 2), "peak_rss_mib": round(rss, 1), "user_s": round(user_s, 2),
            "sys_s": round(sys_s, 2), "others_cores": round(others, 2),
            "rss_source": "GNU time %M" if gnu_time else "getrusage(RUSAGE_CHILDREN) (upper bound)",
            "stdout": stdout, "stderr": stderr}


def run_ours(shp: Path, var: Path, logs: Path, i: int) -> dict:
    shutil.rmtree(var, ignore_errors=True)
    env = {"GEOPORTAL_CONFIG_DIR": str(REPO / "config")}
    init = subprocess.run([str(GEOPORTAL), "--data-dir", str(var), "init"],
                          env={**os.environ, **env}, cwd=REPO, capture_output=True, text=True)
    if init.returncode != 0:
        raise RuntimeError(f"geoportal init failed (exit {init.returncode}): "
                           f"{(init.stderr or init.stdout).strip()[-2000:]}")
    r = run_measured([str(GEOPORTAL), "--data-dir", str(var), "ingest", str(shp), "--id",
                      LAYER_ID, "--region", REGION, "--theme", THEME, "--json"],
                     env=env, logfile=logs / f"ours-{i}-{shp.suffix[1:]}.log",
                     what="geoportal ingest")
    text = r.pop("stdout")
    r["stderr"] = r["stderr"].strip()[-2000:]
    reports = json.loads(text[text.index("["):])
    r["report"] = reports[0]
    files = sorted((var / "store" / LAYER_ID).glob("*.gpkg")) or sorted(var.rglob("store/*/*.gpkg"))
    if not files:
        raise RuntimeError(f"no GeoPackage of layer {LAYER_ID!r} under {var / 'store'}")
    r["output"] = str(files[-1])
    r["features"] = r["report"]["features_published"]
    return r


def run_ogr2ogr(shp: Path, out: Path, logs: Path, i: int) -> dict:
    import pyogrio

    out.unlink(missing_ok=True)
    # A Shapefile's encoding is given; a TAB's charset and CoordSys are in the file. -s_srs:
    # the same transformation as ours (EPSG:28405's datum shift).
    encoding = ["--config", "SHAPE_ENCODING", "CP1251"] if shp.suffix == ".shp" else []
    r = run_measured(["ogr2ogr", *encoding, "-f", "GPKG",
                      "-s_srs", SOURCE_CRS, "-t_srs", "EPSG:4326", str(out), str(shp)],
                     logfile=logs / f"ogr2ogr-{i}-{shp.suffix[1:]}.log", what="ogr2ogr")
    r.pop("stdout")
    r["stderr"] = r["stderr"].strip()[-2000:]
    r["output"] = str(out)
    r["features"] = int(pyogrio.read_info(str(out))["features"])
    return r


def summarize(runs: list[dict]) -> dict:
    walls = [r["wall_s"] for r in runs]
    return {"wall_s": round(statistics.median(walls), 2), "best_wall_s": min(walls),
            "cpu_s": round(statistics.median(r["user_s"] + r["sys_s"] for r in runs), 2),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in runs), "runs": walls,
            "others_cores": max(r["others_cores"] for r in runs),
            "rss_source": runs[-1]["rss_source"], "features": runs[-1]["features"]}


# ---------------------------------------------------------------------------------------------
# the same data out of both?

def _read_ids(path: str, layer: str, ids: list[int], id_field: str
              ) -> dict[int, tuple[object, dict]]:
    import pyogrio.raw

    out: dict[int, tuple[object, dict]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        where = f"\"{id_field}\" IN ({','.join(map(str, chunk))})"
        meta, _, geoms, values = pyogrio.raw.read(path, layer=layer, where=where)
        names = list(meta["fields"])
        for j, wkb in enumerate(geoms):
            props = {k: values[c][j] for c, k in enumerate(names)}
            out[int(props[id_field])] = (shapely.from_wkb(wkb), props)
    return out


def _plain(v: object) -> object:
    """Values as both files give them: '' and NULL alike; dates as ISO text."""
    if v is None or v == "":
        return None
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else str(v.astype("datetime64[D]"))
    if isinstance(v, str) and len(v) == 10 and v[2] == "." and v[5] == ".":  # dd.mm.yyyy
        return f"{v[6:]}-{v[3:5]}-{v[:2]}"
    if isinstance(v, np.generic):
        return v.item()
    return v


def _same_value(a: object, b: object) -> bool:
    a, b = _plain(a), _plain(b)
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return bool(abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a))))
    return a == b


def made_valid(rep: dict) -> int:
    """Features whose geometry our ETL made valid, whatever the report calls it."""
    if "repaired" in rep:
        return int(rep["repaired"])
    return sum(n for kind, n in (rep.get("repairs") or {}).items()
               if kind.startswith("made valid"))


def compare(ours: dict, ogr: dict, meta: dict, sample: int, seed: int) -> dict:
    """Counts, set-aside and repair figures, and a sample of features vertex by vertex."""
    import pyogrio

    n = meta["features"]
    bow, zero = set(meta["bowtie_ids"]), set(meta["zero_ids"])
    rep = ours["report"]
    problems: list[str] = []
    if ogr["features"] != n:
        problems.append(f"ogr2ogr wrote {ogr['features']} features, expected {n}")
    if rep["features_read"] != n:
        problems.append(f"ours read {rep['features_read']} features, expected {n}")
    if rep["features_published"] != n - len(zero):
        problems.append(f"ours published {rep['features_published']}, expected {n - len(zero)} "
                        f"({len(zero)} at 0,0 set aside)")
    if sum(rep["set_aside"].values()) != len(zero):
        problems.append(f"ours set aside {rep['set_aside']}, expected the {len(zero)} at 0,0")
    if made_valid(rep) != len(bow):
        problems.append(f"ours made {made_valid(rep)} geometries valid, expected the {len(bow)} "
                        "bowties")
    if rep["encoding"] != "CP1251":
        problems.append(f"ours detected encoding {rep['encoding']}, not CP1251")
    if rep["source_crs"] != SOURCE_CRS:
        problems.append(f"ours detected CRS {rep['source_crs']}, not {SOURCE_CRS}")

    rng = np.random.default_rng(seed + 2)
    good = [i for i in rng.choice(np.arange(1, n + 1), size=min(sample, n), replace=False).tolist()
            if i not in bow and i not in zero]
    ids = sorted({*good, *([1, n] if 1 not in zero and n not in zero else [])})
    renamed = rep.get("renamed_fields") or {}
    a = _read_ids(ours["output"], LAYER_ID.replace("-", "_"), ids + sorted(bow) + sorted(zero),
                  renamed.get("id", "id"))
    b = _read_ids(ogr["output"], "buildings", ids, "id")
    max_diff = 0.0
    bad_text = 0
    known_types = set(BUILDING_TYPES.values())
    for i in ids:
        if i not in a or i not in b:
            problems.append(f"id {i} missing from {'ours' if i not in a else 'ogr2ogr'}")
            continue
        (ga, pa_), (gb, pb) = a[i], b[i]
        # ours orients rings counter-clockwise (RFC 7946), a Shapefile's outer rings are
        # clockwise: compare the normalized shapes (same start vertex and orientation)
        ca = shapely.get_coordinates(shapely.normalize(ga))
        cb = shapely.get_coordinates(shapely.normalize(gb))
        if ca.shape != cb.shape:
            problems.append(f"id {i}: {len(ca)} vertices in ours, {len(cb)} in ogr2ogr's")
            continue
        max_diff = max(max_diff, float(np.abs(ca - cb).max()))
        for k in FIELDS:
            va, vb = pa_.get(renamed.get(k, k)), pb.get(k)
            if not _same_value(va, vb):
                problems.append(f"id {i}: {k} {va!r} (ours) != {vb!r} (ogr2ogr)")
        bad_text += pa_.get(renamed.get("type", "type")) not in known_types
    if max_diff > COORD_TOLERANCE_DEG:
        problems.append(f"vertices differ by up to {max_diff:.2e} degrees "
                        f"(> {COORD_TOLERANCE_DEG:g})")
    if bad_text:
        problems.append(f"{bad_text} sampled 'type' values are not the generated Cyrillic text")
    leaked = sorted(zero & set(a))
    if leaked:
        problems.append(f"features at 0,0 published by ours: ids {leaked[:10]}")
    unrepaired = [i for i in bow if i in a and not a[i][0].is_valid]
    missing_bow = [i for i in bow if i not in a]
    if unrepaired or missing_bow:
        problems.append(f"bowties: {len(unrepaired)} published invalid, {len(missing_bow)} "
                        "missing from ours")
    layers = [str(name) for name, _ in pyogrio.list_layers(ours["output"])]
    quarantined = None
    if "quarantine" in layers:  # the set-aside rows, as read, next to the published ones
        quarantined = int(pyogrio.read_info(ours["output"], layer="quarantine")["features"])
        if quarantined != len(zero):
            problems.append(f"ours' quarantine table holds {quarantined} rows, expected "
                            f"{len(zero)}")
    first = next((a[i][1] for i in ids if i in a), {})
    return {"sampled": len(ids), "max_vertex_diff_deg": max_diff, "problems": problems[:50],
            "quarantined": quarantined,
            "problem_count": len(problems),
            "example_ours": {k: str(_plain(v)) for k, v in first.items()}}


# ---------------------------------------------------------------------------------------------
# profile

# What the profile's cumulative times are summed into: (label, file suffix, function name).
# Matched by name, so a stage whose function moved or was renamed is left out, not wrong.
STAGES = [
    ("read the Shapefile (GDAL -> Arrow batches)", "etl/readers.py", "_batches"),
    ("detect the DBF encoding", "etl/detect.py", "detect_dbf_encoding"),
    ("detect the CRS (first batch)", "etl/reproject.py", "resolve_crs"),
    ("reproject to CRS84 (pyproj)", "etl/reproject.py", "to_crs84"),
    ("validate, repair, orient, promote to Multi*", "etl/geometry.py", "prepare"),
    ("fields: typing and conversion", "etl/normalize.py", "apply"),
    ("duplicate-id check", "etl/pipeline.py", "_duplicates"),
    ("write batches to the GeoPackage", "storage/gpkg.py", "write"),
    ("commit the GeoPackage (quarantine, rename)", "storage/gpkg.py", "commit"),
]


def profile_ingest(shp: Path, var: Path, top: int) -> dict:
    """``geoportal.etl.ingest`` in this process under cProfile (main thread only)."""
    from geoportal.catalog import Catalog, load_registry
    from geoportal.config import load_settings
    from geoportal.etl import ingest
    from geoportal.etl.manifest import build_manifest
    from geoportal.storage import open_store

    shutil.rmtree(var, ignore_errors=True)
    settings = load_settings(data_dir=var, config_dir=REPO / "config")
    registry = load_registry(settings.config_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(settings.database_url or "")
    catalog.init(registry)
    store = open_store(settings)
    store.init()
    manifest = build_manifest({"id": LAYER_ID, "region": REGION, "theme": THEME,
                               "title": "bench", "source": {"path": shp.name}},
                              base=shp.parent, origin=str(shp))
    log(f"profiling geoportal.etl.ingest in-process on {shp}")
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    report = ingest(manifest, catalog=catalog, store=store, registry=registry,
                    keep_versions=settings.keep_versions, force=True)
    prof.disable()
    secs = time.perf_counter() - t0
    stats_path = var.parent / "ingest.prof"
    prof.dump_stats(str(stats_path))
    st = pstats.Stats(prof)

    def rows(key: int) -> list[dict]:
        items = sorted(st.stats.items(), key=lambda kv: -kv[1][key])[:top]  # type: ignore[attr-defined]
        out = []
        for (file, line, func), (_cc, nc, tt, ct, _callers) in items:
            where = func if file == "~" else f"{_short(file)}:{line}({func})"
            out.append({"function": where, "calls": nc, "tottime_s": round(tt, 3),
                        "cumtime_s": round(ct, 3)})
        return out

    stages = []
    for label, suffix, name in STAGES:
        cum = sum(v[3] for (file, _line, func), v in st.stats.items()  # type: ignore[attr-defined]
                  if func == name and file.endswith(suffix))
        if cum:
            stages.append({"stage": label, "function": f"{suffix}:{name}",
                           "cumtime_s": round(cum, 2), "share": round(cum / secs, 3)})

    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(top)
    (var.parent / "ingest-profile.txt").write_text(buf.getvalue())
    return {"wall_s": round(secs, 2), "features_published": report.features_published,
            "stats_file": str(stats_path), "stages": stages, "by_tottime": rows(2),
            "by_cumtime": rows(3)}


def _short(file: str) -> str:
    for marker in ("/site-packages/", "/work/main/", "/lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def print_profile(prof: dict) -> None:
    print(f"\nprofile of geoportal.etl.ingest in-process ({prof['wall_s']:.1f} s under cProfile, "
          "main thread): stages")
    for r in prof["stages"]:
        print(f"  {r['stage']:<46} {r['cumtime_s']:>7.1f} s  {100 * r['share']:>4.0f} %")
    print("(stages overlap where one calls another; the sha256 of the source runs in a thread, "
          "outside the profile)\n")
    print("top by own time")
    print(f"{'own s':>8} {'cum s':>8} {'calls':>9}  function")
    for r in prof["by_tottime"]:
        print(f"{r['tottime_s']:>8.2f} {r['cumtime_s']:>8.2f} {r['calls']:>9}  {r['function']}")
    print("\ntop by cumulative time")
    for r in prof["by_cumtime"][:15]:
        print(f"{r['tottime_s']:>8.2f} {r['cumtime_s']:>8.2f} {r['calls']:>9}  {r['function']}")
    print(f"(pstats: {prof['stats_file']})\n")


# ---------------------------------------------------------------------------------------------

def versions() -> dict:
    import pyogrio
    import pyproj
    import shapely

    def out(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO).stdout.strip()
        except OSError:
            return ""

    return {
        "ogr2ogr": out(["ogr2ogr", "--version"]),
        "ours_gdal": pyogrio.__gdal_version_string__, "pyogrio": pyogrio.__version__,
        "shapely": shapely.__version__, "pyproj": pyproj.__version__,
        "proj": pyproj.proj_version_str, "python": platform.python_version(),
        "git": out(["git", "rev-parse", "--short", "HEAD"]),
        "git_dirty": out(["git", "status", "--porcelain", "--", "geoportal"]).splitlines(),
    }


def print_table(ogr: dict, ours: dict, check: dict, label: str = "Shapefile") -> dict:
    ratio = ours["wall_s"] / ogr["wall_s"]
    t_ok, m_ok = ratio <= TARGET_RATIO, ours["peak_rss_mib"] < TARGET_RSS_MIB
    print()
    print(f"input: {label}")
    print(f"{'tool':<18} {'wall s':>8} {'CPU s':>7} {'peak RSS MiB':>13} {'others':>7}  "
          "features")
    print(f"{'ogr2ogr':<18} {ogr['wall_s']:>8.1f} {ogr['cpu_s']:>7.1f} "
          f"{ogr['peak_rss_mib']:>13.0f} {ogr['others_cores']:>7.2f}  {ogr['features']:,} written")
    rep = ours["report"]
    aside = ", ".join(f"{v} {k}" for k, v in rep["set_aside"].items()) or "none"
    print(f"{'geoportal ingest':<18} {ours['wall_s']:>8.1f} {ours['cpu_s']:>7.1f} "
          f"{ours['peak_rss_mib']:>13.0f} {ours['others_cores']:>7.2f}  {ours['features']:,} "
          f"published, {made_valid(rep)} made valid; set aside: {aside}")
    print("(CPU s = user + sys of the process; others = cores other processes used meanwhile, "
          "out of " f"{os.cpu_count()}; peak RSS from {ours['rss_source']})")
    print()
    print(f"time ours / ogr2ogr: {ratio:.2f}x  (target <= {TARGET_RATIO}x): "
          f"{'PASS' if t_ok else 'FAIL'}")
    print(f"peak RSS ours: {ours['peak_rss_mib']:.0f} MiB (target < {TARGET_RSS_MIB} MiB): "
          f"{'PASS' if m_ok else 'FAIL'}   (ogr2ogr: {ogr['peak_rss_mib']:.0f} MiB, ours / "
          f"ogr2ogr {ours['peak_rss_mib'] / ogr['peak_rss_mib']:.1f}x)")
    if rep.get("seconds") is not None:
        print(f"ours: ingest() itself {rep['seconds']:.1f} s of the {ours['wall_s']:.1f} s "
              "(the rest: interpreter start-up, imports, catalog and registers)")
    given = " and SHAPE_ENCODING" if label == "Shapefile" else " (the TAB says its charset)"
    print(f"ours detected: encoding {rep['encoding']}, CRS {rep['source_crs']} "
          f"({rep['crs_origin']}); ogr2ogr was given -s_srs {SOURCE_CRS}{given}")
    print(f"outputs: {check['sampled']} sampled features compared, vertices agree within "
          f"{check['max_vertex_diff_deg']:.1e} degrees; "
          + ("same attributes" if not check["problem_count"] else
             f"{check['problem_count']} problems (see below)"))
    print()
    return {"time_ratio": round(ratio, 3), "time_target": TARGET_RATIO, "time_pass": t_ok,
            "rss_target_mib": TARGET_RSS_MIB, "rss_pass": m_ok,
            "rss_ratio": round(ours["peak_rss_mib"] / ogr["peak_rss_mib"], 2)}


def time_input(label: str, src: Path, run_dir: Path, args: argparse.Namespace, meta: dict,
               warnings_: list[str], out: dict) -> None:
    """Time ours and ogr2ogr on one input file (alternating, --repeat times), compare their
    outputs, print the row, and put the figures into ``out``."""
    warm_cache(src)
    ours_runs: list[dict] = []
    ogr_runs: list[dict] = []
    tag = src.suffix[1:]
    for i in range(args.repeat):
        order = ["ogr", "ours"] if i % 2 == 0 else ["ours", "ogr"]
        for tool in order:
            if args.idle_wait > 0:
                wait_idle(args.idle_wait)
            if tool == "ogr":
                ogr_runs.append(run_ogr2ogr(src, run_dir / f"ogr2ogr-{i}-{tag}.gpkg",
                                            run_dir / "logs", i))
            else:
                ours_runs.append(run_ours(src, run_dir / f"var-{i}-{tag}", run_dir / "logs", i))
    ours, ogr = ours_runs[-1], ogr_runs[-1]
    log(f"comparing {ours['output']} with {ogr['output']}")
    check = compare(ours, ogr, meta, args.sample, args.seed)
    ours_sum = {**summarize(ours_runs), "report": ours["report"]}
    ogr_sum = summarize(ogr_runs)
    verdict = print_table(ogr_sum, ours_sum, check, label)
    for p in check["problems"][:20]:
        warnings_.append(f"{label}: outputs differ: {p}")
    if check["problem_count"] > 20:
        warnings_.append(f"{label}: ... {check['problem_count'] - 20} more differences "
                         "(the JSON lists 50)")
    if ogr_runs[-1]["stderr"]:
        out["ogr2ogr_stderr"] = ogr_runs[-1]["stderr"]
    rep = ours["report"]
    out.update({
        "ours": {**{k: v for k, v in ours_sum.items() if k != "report"},
                 "user_s": ours["user_s"], "sys_s": ours["sys_s"],
                 "report": {k: v for k, v in rep.items()
                            if k not in ("options", "source", "source_sha256")}},
        "ogr2ogr": {**ogr_sum, "user_s": ogr["user_s"], "sys_s": ogr["sys_s"]},
        "verdict": verdict, "check": check,
    })
    noisy = max(ours_sum["others_cores"], ogr_sum["others_cores"])
    if noisy > 0.3:
        warnings_.append(f"{label}: other processes used up to {noisy:.2f} cores during the "
                         "timed runs: the times are inflated (and the ratio less reliable)")
    if not verdict["time_pass"]:
        warnings_.append(f"{label}: ours takes {verdict['time_ratio']}x ogr2ogr's time "
                         f"(target {TARGET_RATIO}x)")
    if not verdict["rss_pass"]:
        warnings_.append(f"{label}: our peak RSS {ours_sum['peak_rss_mib']} MiB "
                         f"(target < {TARGET_RSS_MIB} MiB)")


def main() -> int:
    global REGION
    args = parse_args()
    REGION = args.region
    n = args.features
    if not shutil.which("ogr2ogr"):
        sys.exit("ogr2ogr not found (apt-get install gdal-bin)")
    os.chdir(REPO)
    ncpu = os.cpu_count() or 0
    print(f"machine: {platform.node()}, {ncpu} cores, {platform.machine()}, "
          f"Python {platform.python_version()}")

    data = data_dir_for(n, args.seed, args.bowties, args.zeros)
    shp = data / "buildings.shp"
    if (data / "meta.json").exists():
        log(f"data: {shp} (cached)")
    else:
        log(f"generating {n:,} polygons in {SOURCE_CRS}, CP1251 DBF -> {shp}")
    meta = generate_shapefile(data, n, args.seed, args.bowties, args.zeros)
    size = sum(meta["bytes"].values()) / 1e6
    log(f"data: {n:,} features, {size:.0f} MB ({', '.join(meta['bytes'])}), generated in "
        f"{meta['generated_s']} s; {len(meta['bowtie_ids'])} bowties, "
        f"{len(meta['zero_ids'])} at 0,0")

    run_dir = BENCH / ".data" / f"etl-run-{n}"
    shutil.rmtree(run_dir, ignore_errors=True)
    (run_dir / "logs").mkdir(parents=True)
    report: dict = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"host": platform.node(), "cores": ncpu},
        "versions": versions(), "features": n, "seed": args.seed, "data": str(shp),
        "data_meta": {k: v for k, v in meta.items() if not k.endswith("_ids")},
        "bad": {"bowties": len(meta["bowtie_ids"]), "at_0_0": len(meta["zero_ids"])},
        "commands": {
            "ours": f"geoportal --data-dir <tmp> ingest {shp.name} --id {LAYER_ID} "
                    f"--region {REGION} --theme {THEME} --json",
            "ogr2ogr": f"ogr2ogr --config SHAPE_ENCODING CP1251 -f GPKG -s_srs {SOURCE_CRS} "
                       f"-t_srs EPSG:4326 out.gpkg {shp.name}",
        },
        "warnings": [],
    }
    inputs = [("Shapefile", shp)]
    if not args.no_tab and not args.only_profile:
        inputs.append(("MapInfo TAB", generate_tab(data, shp)))
        report["commands"]["ours_tab"] = report["commands"]["ours"].replace(shp.name,
                                                                            "buildings.tab")
        report["commands"]["ogr2ogr_tab"] = (f"ogr2ogr -f GPKG -s_srs {SOURCE_CRS} -t_srs "
                                             "EPSG:4326 out.gpkg buildings.tab")
    try:
        for label, src in inputs if not args.only_profile else []:
            out = report if label == "Shapefile" else report.setdefault("mapinfo_tab", {})
            time_input(label, src, run_dir, args, meta, report["warnings"], out)
        if args.profile or args.only_profile:
            prof = profile_ingest(shp, run_dir / "var-profile", args.profile_top)
            print_profile(prof)
            report["profile"] = prof
    except KeyboardInterrupt:
        warn("interrupted")
        return 130
    finally:
        if not args.keep:
            for p in [*run_dir.glob("var-*"), *run_dir.glob("*.gpkg")]:
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)

    for w in report["warnings"]:
        print(f"WARNING: {w}")
    if not args.no_save and ("ours" in report or "profile" in report):
        out_dir = BENCH / "results"
        out_dir.mkdir(exist_ok=True)
        out = out_dir / f"etl-{dt.datetime.now().strftime('%Y-%m-%dT%H%M%S')}.json"
        out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
        log(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
