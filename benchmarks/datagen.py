"""Synthetic "buildings" layer for the serving benchmark.

N small polygons (rotated rectangles with 8-40 m sides) clustered on Belarus's 94 cities, each
city getting a share of the buildings proportional to its population, spread as a 2-D Gaussian
whose variance also grows with population, so that the density near every city centre is about
the same (a few hundred buildings per km2, i.e. tens to ~100 in a 500 m box). Deterministic for
a given seed and N. Written with pyogrio as a GeoPackage (EPSG:4326, lon/lat, layer
``buildings``, fid = id = 1..N in row order).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CITIES_GEOJSON = Path("/work/shared/data/settlements/settlements_94_cities.geojson")
M_PER_DEG_LAT = 111_320.0
# sigma of a city's Gaussian in km = SIGMA_KM_AT_20K * sqrt(population / 20,000)
SIGMA_KM_AT_20K = 1.0
KINDS = np.array(["residential", "apartments", "house", "garage", "commercial", "industrial",
                  "school", "shed", "public", "retail"], dtype=object)
KIND_P = np.array([0.20, 0.18, 0.22, 0.12, 0.07, 0.06, 0.02, 0.08, 0.02, 0.03])
STREETS = ["вул. Леніна", "вул. Савецкая", "вул. Гагарына", "вул. Кірава", "вул. Пушкіна",
           "вул. Маякоўскага", "пр. Незалежнасці", "вул. Цэнтральная", "вул. Садовая",
           "вул. Молодежная", "вул. Кастрычніцкая", "вул. Першамайская"]


@dataclass(frozen=True)
class City:
    name: str
    lon: float
    lat: float
    population: int
    sigma_km: float


def load_cities(path: Path = CITIES_GEOJSON) -> list[City]:
    data = json.loads(path.read_text(encoding="utf-8"))
    cities = []
    for f in data["features"]:
        p = f["properties"]
        lon, lat = f["geometry"]["coordinates"][:2]
        pop = int(p.get("pop_latest") or p.get("pop_census2019") or p.get("population_peak_value")
                  or 10_000)
        cities.append(City(name=p.get("name_be") or p.get("name_ru") or p["city_id"],
                           lon=float(lon), lat=float(lat), population=pop,
                           sigma_km=SIGMA_KM_AT_20K * math.sqrt(pop / 20_000)))
    cities.sort(key=lambda c: (-c.population, c.name))
    return cities


def generate(n: int, seed: int = 20240611, cities: list[City] | None = None) -> dict:
    """Arrays for ``n`` buildings: wkb, id, kind, floors, name (deterministic)."""
    import shapely

    cities = cities or load_cities()
    rng = np.random.default_rng(seed)
    pops = np.array([c.population for c in cities], dtype=float)
    weights = pops / pops.sum()
    city_idx = rng.choice(len(cities), size=n, p=weights)
    lon0 = np.array([c.lon for c in cities])[city_idx]
    lat0 = np.array([c.lat for c in cities])[city_idx]
    sigma_m = np.array([c.sigma_km * 1000 for c in cities])[city_idx]
    # Gaussian offsets, truncated at 3 sigma (redraw the radius uniformly inside otherwise)
    dx = rng.normal(size=n) * sigma_m
    dy = rng.normal(size=n) * sigma_m
    r = np.hypot(dx, dy)
    far = r > 3 * sigma_m
    if far.any():
        scale = rng.uniform(0, 3, size=far.sum()) * sigma_m[far] / r[far]
        dx[far] *= scale
        dy[far] *= scale
    coslat = np.cos(np.radians(lat0))
    cx = lon0 + dx / (M_PER_DEG_LAT * coslat)
    cy = lat0 + dy / M_PER_DEG_LAT
    # rectangle sides 8..40 m, rotation 0..90 degrees
    w = rng.uniform(8, 40, size=n)
    h = rng.uniform(8, 40, size=n)
    theta = rng.uniform(0, math.pi / 2, size=n)
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    # (n, 5) local metre offsets
    lx = corners[None, :, 0] * w[:, None]
    ly = corners[None, :, 1] * h[:, None]
    ct, st = np.cos(theta)[:, None], np.sin(theta)[:, None]
    rx = lx * ct - ly * st
    ry = lx * st + ly * ct
    xs = cx[:, None] + rx / (M_PER_DEG_LAT * coslat[:, None])
    ys = cy[:, None] + ry / M_PER_DEG_LAT
    coords = np.stack([xs, ys], axis=-1)
    geoms = shapely.polygons(coords)
    wkb = shapely.to_wkb(geoms, output_dimension=2)

    kind = rng.choice(KINDS, size=n, p=KIND_P)
    rel = np.hypot(dx, dy) / sigma_m  # 0 at the centre
    base = np.where(np.isin(kind, ["apartments", "residential"]),
                    np.maximum(1, np.round(16 * np.exp(-rel) * rng.uniform(0.3, 1.2, n))), 1)
    base = np.where(np.isin(kind, ["commercial", "industrial", "school", "public", "retail"]),
                    rng.integers(1, 6, n), base)
    floors = np.clip(base, 1, 25).astype(np.int32)
    names = np.full(n, None, dtype=object)
    named = rng.random(n) < 0.3
    street = rng.integers(0, len(STREETS), n)
    house = rng.integers(1, 200, n)
    city_names = np.array([c.name for c in cities], dtype=object)
    for i in np.flatnonzero(named):
        names[i] = f"{city_names[city_idx[i]]}, {STREETS[street[i]]}, {house[i]}"
    return {"wkb": wkb, "id": np.arange(1, n + 1, dtype=np.int64), "kind": kind,
            "floors": floors, "name": names}


def write_gpkg(path: Path, n: int, seed: int = 20240611) -> Path:
    """Write the layer once; return the cached file if it already exists."""
    import pyogrio.raw

    if path.exists():
        return path
    data = generate(n, seed)
    tmp = path.with_suffix(".part.gpkg")
    tmp.unlink(missing_ok=True)
    pyogrio.raw.write(
        str(tmp), data["wkb"], [data["id"], data["kind"], data["floors"], data["name"]],
        fields=["id", "kind", "floors", "name"], layer="buildings", driver="GPKG",
        geometry_type="Polygon", crs="EPSG:4326", encoding="UTF-8",
        layer_options={"SPATIAL_INDEX": "YES", "FID": "fid"},
    )
    tmp.rename(path)
    return path


def lua_city_table(cities: list[City] | None = None) -> str:
    """Cities as a Lua table literal for the wrk script: {lon, lat, cumulative weight, sigma_m}."""
    cities = cities or load_cities()
    total = sum(c.population for c in cities)
    acc = 0.0
    rows = []
    for c in cities:
        acc += c.population / total
        rows.append(f"{{{c.lon:.6f},{c.lat:.6f},{acc:.8f},{c.sigma_km * 1000:.1f}}}")
    return "{\n  " + ",\n  ".join(rows) + "\n}"


if __name__ == "__main__":  # quick look: python benchmarks/datagen.py 10000 /tmp/b.gpkg
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    out = Path(sys.argv[2] if len(sys.argv) > 2 else f"/tmp/buildings-{n}.gpkg")
    print(write_gpkg(out, n))
