"""The national gazetteer: the places the portal already holds (urban settlements, cities and
railway stations under ``layers/``), used to settle which of several candidate CRSs puts a
file's named features where they are.

A file without a CRS whose coordinates fit two candidates that disagree by a few kilometres
(UTM 35N and Pulkovo 1942 Gauss-Kruger CM 27E differ by about 2.4 km here) cannot be told apart
by its coordinates alone. When its features carry names of known places, the candidate that
puts at least ``AT_LEAST`` of them within ``WITHIN_M`` of the gazetteer's positions, while the
other puts at most a quarter as many there, is the file's CRS (``settle``).

The gazetteer is read only when a tie-break is needed, once per set of files (``load``).
"""

from __future__ import annotations

import csv
import logging
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import pyproj
import shapely

from geoportal.etl.detect import AmbiguousCRS

__all__ = ["AT_LEAST", "WITHIN_M", "Gazetteer", "NameSample", "Verdict", "fold", "load",
           "settle"]

log = logging.getLogger("geoportal.etl")

WITHIN_M = 2000.0  # how near a named feature must be to its gazetteer place
AT_LEAST = 5  # named features within WITHIN_M that settle a tie
SAMPLE_ROWS = 5000  # rows of the first batch whose names are looked up

# The gazetteer's files under the layers folder: (path, name columns, lon/lat columns, or None
# for a file whose geometry and .prj say where). See layers/by/SOURCE.md.
SOURCES: tuple[tuple[str, tuple[str, ...], tuple[str, str] | None], ...] = (
    ("by/urban_settlements.tsv", ("name_be", "name_ru"), ("lon", "lat")),
    ("by/cities.zip", ("name_be", "name_ru"), None),
    ("by/railway_stations.tsv",
     ("Па-беларуску правільнае", "Па-расейску правільнае", "Па-расейску старое"),
     ("lon", "lat")),
)

# Letters written interchangeably in names typed by hand: ё/е, Belarusian і (and a Latin i
# typed for it)/Russian и, ў/у; apostrophes of every kind; the stress mark is dropped.
_FOLD = str.maketrans({"ё": "е", "і": "и", "i": "и", "ў": "у", "’": "'", "ʼ": "'", "`": "'",
                       "‘": "'", "\u0301": None, "«": None, "»": None, '"': None,
                       "–": "-", "—": "-"})
# Settlement-type abbreviations written before a name: "г. Барысаў", "д Ляды", "аг.Мір".
_PREFIX = re.compile(r"^(?:г|гор|горад|город|д|дер|в|веска|аг|п|пос|пас|гп|г\.\s?п|рп|р\.\s?п|"
                     r"ст|хут|х)(?:\.\s*|\s+)(?=\S)")


def fold(name: str) -> str:
    """``name`` as the gazetteer compares names: case-folded, ё as е, і as и, ў as у, no
    stress marks or quotes, single spaces, without a leading "г." / "д." / "аг." and the like."""
    text = " ".join(name.casefold().translate(_FOLD).split())
    text = re.sub(r"\s*-\s*", "-", text)
    return _PREFIX.sub("", text)


@dataclass(frozen=True)
class Gazetteer:
    """Known places: their names as written (``labels``), lon/lat, and folded name -> places."""

    labels: tuple[str, ...]
    lonlat: np.ndarray  # (n, 2), CRS84
    index: dict[str, tuple[int, ...]]

    def __len__(self) -> int:
        return len(self.labels)


def _read_points(path: Path, xy: tuple[str, str] | None,
                 columns: tuple[str, ...]) -> tuple[list[list[str | None]], np.ndarray]:
    """The name columns and CRS84 positions of one gazetteer file."""
    if xy is not None:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        lonlat = np.array([[_number(r.get(xy[0])), _number(r.get(xy[1]))] for r in rows],
                          dtype=float).reshape(-1, 2)
        return [[r.get(c) for c in columns] for r in rows], lonlat
    with zipfile.ZipFile(path) as zf:
        member = next(n for n in zf.namelist() if n.lower().endswith(".shp"))
    meta, table = pyogrio.read_arrow(f"/vsizip/{path}/{member}", columns=list(columns))
    geoms = shapely.from_wkb(table.column(meta["geometry_name"] or "wkb_geometry")
                             .to_numpy(zero_copy_only=False))
    coords = shapely.get_coordinates(shapely.centroid(geoms))
    if meta["crs"]:
        transformer = pyproj.Transformer.from_crs(meta["crs"], "OGC:CRS84", always_xy=True)
        coords = np.column_stack(transformer.transform(coords[:, 0], coords[:, 1]))
    names = table.select(list(columns)).to_pylist()
    return [[row[c] for c in columns] for row in names], coords


def _number(text: str | None) -> float:
    try:
        return float(str(text).replace(",", "."))
    except ValueError:
        return float("nan")


@lru_cache(maxsize=4)
def _load(folder: Path, stamp: tuple[tuple[str, int, int], ...]) -> Gazetteer:
    labels: list[str] = []
    points: list[np.ndarray] = []
    index: dict[str, list[int]] = {}
    for relative, columns, xy in SOURCES:
        path = folder / relative
        if not path.is_file():
            continue
        try:
            names, lonlat = _read_points(path, xy, columns)
        except (OSError, ValueError, StopIteration, pyogrio.errors.DataSourceError) as exc:
            log.warning("gazetteer: %s could not be read (%s); skipped", path, exc)
            continue
        # 0,0 and other points outside the country's latitudes/longitudes are data errors.
        good = np.isfinite(lonlat).all(axis=1) & (lonlat[:, 0] > 15) & (lonlat[:, 1] > 45)
        for i in np.flatnonzero(good):
            place = len(labels)
            written = [n.strip() for n in names[i] if n and n.strip()]
            labels.append(written[0] if written else "")
            points.append(lonlat[i])
            for key in {fold(n) for n in written}:
                index.setdefault(key, []).append(place)
    lonlat = np.array(points, dtype=float).reshape(-1, 2)
    return Gazetteer(tuple(labels), lonlat, {k: tuple(v) for k, v in index.items()})


def load(layers_dir: Path) -> Gazetteer:
    """The gazetteer of the files under ``layers_dir`` (``SOURCES``; missing ones skipped),
    read once and kept while the files stay the same."""
    folder = Path(layers_dir).resolve()
    stamp = []
    for relative, _, _ in SOURCES:
        path = folder / relative
        if path.is_file():
            st = path.stat()
            stamp.append((relative, st.st_mtime_ns, st.st_size))
    return _load(folder, tuple(stamp))


@dataclass(frozen=True)
class NameSample:
    """A file's first batch as read (its text columns) and its geometries in the source CRS,
    kept as given: nothing is computed unless a tie-break needs it."""

    table: pa.Table
    geometries: np.ndarray
    layers_dir: Path | None


@dataclass(frozen=True)
class Verdict:
    """What the names of a sample say about the candidate CRSs (``AmbiguousCRS.fits``)."""

    columns: tuple[str, ...]  # text columns whose values name gazetteer places
    named: int  # sampled features carrying such a name
    within: tuple[int, ...]  # per fit: named features within WITHIN_M of a place of the name
    chosen: int | None  # the fit the names settle on, if any
    nearest: tuple[tuple[str, float], ...]  # under the chosen fit: (name as written, metres)


def _named_rows(table: pa.Table, gazetteer: Gazetteer, skip: set[str]
                ) -> tuple[list[str], dict[int, tuple[str, set[int]]]]:
    """The text columns with gazetteer names, and per row its name (as written, from the
    first such column) and the places of all its names."""
    rows: dict[int, tuple[str, set[int]]] = {}
    matched: list[tuple[int, str]] = []
    for name in table.column_names:
        column = table.column(name)
        if name in skip or not (pa.types.is_string(column.type)
                                or pa.types.is_large_string(column.type)):
            continue
        values = column.slice(0, SAMPLE_ROWS).to_pylist()
        known = {v: gazetteer.index.get(fold(v)) for v in set(values) if v}
        hits = 0
        for i, value in enumerate(values):
            places = known.get(value) if value else None
            if places:
                hits += 1
                _, found = rows.setdefault(i, (value.strip(), set()))
                found.update(places)
        if hits:
            matched.append((hits, name))
    return [n for _, n in sorted(matched, key=lambda m: -m[0])], rows


def _distances(points: np.ndarray, crs: str, swap: bool, pairs_row: np.ndarray,
               pairs_place: np.ndarray, gazetteer: Gazetteer, n: int) -> np.ndarray:
    """Per named row: metres from its point (read in ``crs``) to the nearest place of its
    names (equirectangular, good to a few metres at 2 km)."""
    x, y = (points[:, 1], points[:, 0]) if swap else (points[:, 0], points[:, 1])
    transformer = pyproj.Transformer.from_crs(crs, "OGC:CRS84", always_xy=True)
    with np.errstate(all="ignore"):
        lon, lat = transformer.transform(x, y, errcheck=False)
    plon, plat = gazetteer.lonlat[pairs_place, 0], gazetteer.lonlat[pairs_place, 1]
    flon, flat = np.asarray(lon)[pairs_row], np.asarray(lat)[pairs_row]
    mid = np.radians((plat + flat) / 2)
    d = np.hypot(np.radians(flon - plon) * np.cos(mid), np.radians(flat - plat)) * 6_371_000
    best = np.full(n, np.inf)
    np.minimum.at(best, pairs_row, np.where(np.isfinite(d), d, np.inf))
    return best


def settle(ambiguity: AmbiguousCRS, sample: NameSample, *, skip: set[str] | None = None
           ) -> Verdict | None:
    """Which of ``ambiguity.fits`` puts the sample's named features at their gazetteer places;
    None when there is no gazetteer or no name in the sample matches a known place.

    A fit is chosen when it puts at least ``AT_LEAST`` named features within ``WITHIN_M`` of
    a place of their name and every other fit at most a quarter as many. ``skip``: columns that
    are not names (the geometry, coordinate text).
    """
    if sample.layers_dir is None:
        return None
    gazetteer = load(sample.layers_dir)
    if not len(gazetteer):
        return None
    columns, rows = _named_rows(sample.table, gazetteer, skip or set())
    if not rows:
        return None
    order = sorted(rows)
    geoms = sample.geometries[np.array(order)]
    centres = shapely.centroid(geoms)
    points = np.full((len(order), 2), np.nan)
    present = ~shapely.is_empty(centres) & ~shapely.is_missing(centres)
    points[present] = shapely.get_coordinates(centres[present])
    pairs_row = np.concatenate([np.full(len(rows[r][1]), k) for k, r in enumerate(order)])
    pairs_place = np.concatenate([np.fromiter(rows[r][1], dtype=int) for r in order])
    within, distances = [], []
    for crs, _, swap in ambiguity.fits:
        d = _distances(points, crs, swap, pairs_row.astype(int), pairs_place, gazetteer,
                       len(order))
        distances.append(d)
        within.append(int((d <= WITHIN_M).sum()))
    best = int(np.argmax(within))
    clear = within[best] >= AT_LEAST and all(
        4 * w <= within[best] for i, w in enumerate(within) if i != best)
    nearest: tuple[tuple[str, float], ...] = ()
    if clear:
        near = distances[best]
        nearest = tuple((rows[r][0], float(near[k])) for k, r in enumerate(order)
                        if near[k] <= WITHIN_M)
    return Verdict(tuple(columns), len(order), tuple(within), best if clear else None, nearest)
