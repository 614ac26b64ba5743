#!/usr/bin/env python3
"""Search box benchmark (issue 19): gazetteer lookups at 100,000 place names.

    .venv/bin/python benchmarks/search.py [--names 100000] [--queries 3000] [--seed 19]

1. reads the real names of the sample layers (railway stations, urban settlements, Minsk
   stops: Belarusian and Russian) from ``layers/``;
2. makes ``--names`` synthetic places from them: a real name, sometimes joined with a second
   one ("Барысаў-Лiпкi"), with a varied ending and a number, in both languages, of the kinds
   the portal ranks (city, settlement, station, stop), with a population;
3. builds the index (``geoportal.search.Gazetteer``: what each server worker holds) and
   reports the build time and the memory it takes;
4. times ``--queries`` lookups of each sort a search box sees: a whole name (Cyrillic), its
   first letters, a name with one typo, a name in Latin transliteration, a name folded
   (і/ў/ё typed as и/у/е), and a word that is in no name;

and prints lookups per second, the median, p95 and the slowest lookup per sort, against the
50 ms target of the issue.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geoportal.etl.romanize import romanize  # noqa: E402
from geoportal.search import Gazetteer, Place  # noqa: E402

TARGET_MS = 50.0
KINDS = ("city", "settlement", "settlement", "station", "stop", "stop")
ENDINGS = ("", "", "", "ка", "ічы", "ава", "іна", "скі", "ец", "шчына", "поль", "ск", "ўка")


def real_names() -> list[tuple[str, str]]:
    """(Belarusian, Russian) names of the sample layers."""
    pairs: list[tuple[str, str]] = []
    with (ROOT / "layers/by/railway_stations.tsv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            be, ru = row["Па-беларуску правільнае"], row["Па-расейску правільнае"]
            if be and ru:
                pairs.append((be, ru))
    with (ROOT / "layers/by/urban_settlements.tsv").open(encoding="utf-8") as f:
        pairs += [(r["name_be"], r["name_ru"]) for r in csv.DictReader(f, delimiter="\t")
                  if r["name_be"] and r["name_ru"]]
    with (ROOT / "layers/minsk/minsk_stops.tsv").open(encoding="utf-8") as f:
        pairs += [(r["Name"], r["Name"]) for r in csv.DictReader(f, delimiter="\t")
                  if r["Name"]]
    return pairs


def synthetic(pairs: list[tuple[str, str]], n: int, rng: random.Random) -> list[Place]:
    """``n`` places with names made from the real ones (see the module's docstring)."""
    places = []
    for i in range(n):
        be, ru = pairs[rng.randrange(len(pairs))]
        if rng.random() < 0.2:
            be2, ru2 = pairs[rng.randrange(len(pairs))]
            be, ru = f"{be}-{be2}", f"{ru}-{ru2}"
        ending = ENDINGS[rng.randrange(len(ENDINGS))]
        number = f" {rng.randrange(1000)}" if rng.random() < 0.5 else ""
        lon, lat = 23.5 + rng.random() * 9, 51.3 + rng.random() * 4.8
        places.append(Place(names={"be": be + ending + number, "ru": ru + ending + number},
                            kind=KINDS[i % len(KINDS)], layer="synthetic", fid=i,
                            bbox=(lon, lat, lon, lat), point=(lon, lat),
                            population=rng.randrange(50, 500_000)))
    return places


def typo(word: str, rng: random.Random) -> str:
    """``word`` with one letter changed, dropped, doubled or two swapped."""
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    edit = rng.randrange(4)
    if edit == 0:
        return word[:i] + "а" + word[i + 1:]
    if edit == 1:
        return word[:i] + word[i + 1:]
    if edit == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i - 1] + word[i] + word[i - 1] + word[i + 1:]


def queries(places: list[Place], count: int, rng: random.Random) -> dict[str, list[str]]:
    """``count`` queries of each sort, from the places' names."""
    sample = [places[rng.randrange(len(places))] for _ in range(count)]
    folded = str.maketrans({"і": "и", "ў": "у", "ё": "е"})
    return {
        "whole name": [p.names["ru"] for p in sample],
        "prefix": [p.names["be"][:rng.randrange(2, 6)] for p in sample],
        "one typo": [typo(p.names["ru"].split()[0].split("-")[0], rng) for p in sample],
        "latin": [romanize(p.names["be"], "be") for p in sample],
        "folded be": [p.names["be"].translate(folded) for p in sample],
        "no such name": [f"Щщщ{rng.randrange(10**6)}ъ" for _ in sample],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--limit", type=int, default=8, help="places per lookup (the page's)")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pairs = real_names()
    places = synthetic(pairs, args.names, rng)
    print(f"{len(pairs):,} real names -> {len(places):,} synthetic places")
    tracemalloc.start()
    started = time.perf_counter()
    gazetteer = Gazetteer(places)
    built = time.perf_counter() - started
    memory = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    print(f"index built in {built:.1f} s, {memory:.0f} MiB (per server worker)\n")
    print(f"{'query sort':<14} {'lookups/s':>10} {'median ms':>10} {'p95 ms':>8} "
          f"{'max ms':>8} {'found':>6}  vs {TARGET_MS:.0f} ms")
    worst = 0.0
    for sort, texts in queries(places, args.queries, rng).items():
        times = []
        found = 0
        for text in texts:
            t0 = time.perf_counter()
            hits = gazetteer.lookup(text, args.limit)
            times.append((time.perf_counter() - t0) * 1000)
            found += bool(hits)
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        worst = max(worst, p95)
        print(f"{sort:<14} {len(times) / (sum(times) / 1000):>10,.0f} "
              f"{statistics.median(times):>10.2f} {p95:>8.2f} {times[-1]:>8.2f} "
              f"{found / len(texts):>6.0%}  {'ok' if p95 < TARGET_MS else 'OVER'}")
    print(f"\nworst p95: {worst:.2f} ms ({'under' if worst < TARGET_MS else 'OVER'} the "
          f"{TARGET_MS:.0f} ms target)")


if __name__ == "__main__":
    main()
