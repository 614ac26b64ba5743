"""The gazetteer: place names from the portal's own published layers, held in memory.

A layer takes part when its manifest marks it (``search: {kind: city, name_fields: [name_be,
name_ru], population_field: pop_latest}``); each of its features becomes a ``Place`` with its
names, kind, bounding box and a point. ``Gazetteer`` indexes every name (folded, and a Cyrillic
name also under its Latin romanizations) and answers a lookup in four tiers, best first:

1. exact: the whole folded name (``орша`` -> Орша);
2. stem: every word without its ending (``гомельской области`` -> Гомельская область);
3. prefix: the beginning of the name or of one of its words (``орша`` -> Орша-Центральная);
4. typo: one letter wrong, missing, extra or two swapped, for five letters or more, found
   through trigrams (``оршаа``, ``Gomle``).

Within a tier the kind decides (oblast, city, raion, settlement, station, stop, other), then
population, then the shorter name. Prefix ranges and the ranking are numpy slices of arrays
built once, so a lookup at 100,000 names stays far under the 50 ms target
(``benchmarks/search.py``).
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from geoportal.etl.romanize import detect_language, romanize
from geoportal.search.folding import fold, name_keys, stem_phrase

__all__ = ["KINDS", "Gazetteer", "Match", "Place", "PlaceSpec", "name_language",
           "places_from_rows"]

# The kinds a manifest may give, in ranking order (earlier first).
KINDS = ("oblast", "city", "raion", "settlement", "station", "stop", "place")
_KIND_RANK = {kind: i for i, kind in enumerate(KINDS)}
TIERS = ("exact", "stem", "prefix", "typo")
_EXACT, _STEM, _PREFIX, _TAIL, _TYPO = 0, 1, 2, 3, 4
_TIER_NAME = {_EXACT: "exact", _STEM: "stem", _PREFIX: "prefix", _TAIL: "prefix",
              _TYPO: "typo"}
_END = "\uffff"
_BE_FIELD = re.compile(r"(^|_)(be|bel|by)$|bielarusk|belarus|беларус", re.IGNORECASE)
_RU_FIELD = re.compile(r"(^|_)(ru|rus)$|rasiejsk|russk|русск|расейск", re.IGNORECASE)
_EN_FIELD = re.compile(r"(^|_)(en|eng|lat)$|english|англ", re.IGNORECASE)


@dataclass(frozen=True)
class PlaceSpec:
    """What a manifest's ``search:`` says: the kind of its places, the fields holding their
    names (as published or as in the source) and, optionally, the one holding population."""

    kind: str
    name_fields: tuple[str, ...]
    population_field: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlaceSpec:
        """From the catalog's stored form (``LayerMetadata.search``)."""
        return cls(kind=str(data.get("kind") or "place"),
                   name_fields=tuple(str(f) for f in data.get("name_fields") or ()),
                   population_field=data.get("population_field") or None)

    def to_dict(self) -> dict[str, Any]:
        """The stored form: kind, name_fields and population_field when given."""
        out: dict[str, Any] = {"kind": self.kind, "name_fields": list(self.name_fields)}
        if self.population_field:
            out["population_field"] = self.population_field
        return out


@dataclass(frozen=True)
class Place:
    """One named feature of a published layer."""

    names: dict[str, str]  # by language (be, ru, en; "" when the language is unknown)
    kind: str
    layer: str
    fid: int
    bbox: tuple[float, float, float, float]
    point: tuple[float, float]
    population: int | None = None

    def name(self, lang: str) -> str:
        """The name in ``lang``; else in English the Belarusian one romanized (national
        system), else any name the feature has."""
        if self.names.get(lang):
            return self.names[lang]
        if lang == "en" and self.names.get("be"):
            return romanize(self.names["be"], "be")
        if lang == "en" and self.names.get("ru"):
            return romanize(self.names["ru"], "ru")
        for other in ("be", "ru", "en", ""):
            if self.names.get(other):
                return self.names[other]
        return ""

    def to_json(self, lang: str) -> dict[str, Any]:
        """The place as ``GET /search`` returns it."""
        return {"name": self.name(lang), "kind": self.kind, "layer": self.layer,
                "id": self.fid, "bbox": list(self.bbox), "point": list(self.point),
                "population": self.population}


@dataclass(frozen=True)
class Match:
    """A place found and how: the tier (exact, stem, prefix, typo)."""

    place: Place
    tier: str


def name_language(field_name: str, title: str | None, values: Iterable[str]) -> str:
    """The language of a name field: from its name or title (``name_be``,
    ``Па-беларуску``), else from its values (Cyrillic: Belarusian or Russian spelling; Latin:
    English)."""
    for label in (field_name, title or ""):
        if _BE_FIELD.search(label):
            return "be"
        if _RU_FIELD.search(label):
            return "ru"
        if _EN_FIELD.search(label):
            return "en"
    sample = [v for v in values if v][:200]
    if sample and all(not re.search(r"[\u0400-\u04ff]", v) for v in sample):
        return "en"
    return detect_language(sample) if sample else ""


def places_from_rows(layer: str, spec: PlaceSpec, languages: Mapping[str, str],
                     rows: Iterable[tuple[int, Mapping[str, Any], Any]]) -> list[Place]:
    """Places from a layer's rows (fid, properties, shapely geometry): ``languages`` maps
    each name field (as published) to its language. A row without a name or a geometry is
    no place."""
    out: list[Place] = []
    for fid, props, geom in rows:
        if geom is None or shapely.is_empty(geom):
            continue
        names: dict[str, str] = {}
        for name_field, lang in languages.items():
            value = props.get(name_field)
            if value is not None and str(value).strip() and lang not in names:
                names[lang] = str(value).strip()
        if not names:
            continue
        minx, miny, maxx, maxy = (float(v) for v in shapely.bounds(geom))
        point = geom if geom.geom_type == "Point" else shapely.point_on_surface(geom)
        population = None
        if spec.population_field:
            raw = props.get(spec.population_field)
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                population = int(raw)
        out.append(Place(names=names, kind=spec.kind if spec.kind in _KIND_RANK else "place",
                         layer=layer, fid=int(fid), bbox=(minx, miny, maxx, maxy),
                         point=(round(point.x, 6), round(point.y, 6)), population=population))
    return out


def _within_one(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by at most one letter changed, missing, added, or two
    neighbours swapped (Damerau distance <= 1)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1:] == b[i + 1:]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]
    if la > lb:
        return a[i + 1:] == b[i:]
    return a[i:] == b[i + 1:]


def _trigrams(key: str) -> set[str]:
    padded = f"^{key}$"
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


class Gazetteer:
    """The index of a set of places (see the module's docstring); immutable once built."""

    def __init__(self, places: Sequence[Place]) -> None:
        self.places = list(places)
        order = sorted(range(len(self.places)), key=self._order_key)
        rank = np.empty(len(self.places), dtype=np.int64)
        rank[np.asarray(order, dtype=np.int64)] = np.arange(len(order), dtype=np.int64)
        self._rank = rank
        exact: dict[str, list[int]] = defaultdict(list)
        stems: dict[str, list[int]] = defaultdict(list)
        prefix: dict[str, list[int]] = defaultdict(list)  # place * 8 + tier, packed
        word_places: dict[str, list[int]] = defaultdict(list)
        for i, place in enumerate(self.places):
            keys: set[str] = set()
            for name in place.names.values():
                keys |= name_keys(name)
            seen: set[str] = set()
            for key in keys:
                exact[key].append(i)
                stems[stem_phrase(key)].append(i)
                prefix[key].append(i * 8 + _PREFIX)
                parts = key.split(" ")
                for j in range(1, len(parts)):  # a later word's start: "центральная"
                    prefix[" ".join(parts[j:])].append(i * 8 + _TAIL)
                seen.update(w for w in parts if len(w) >= 4 and w.isalpha())
            for word in seen:
                word_places[word].append(i)
        self._exact = dict(exact)
        self._stems = {k: sorted(set(v)) for k, v in stems.items()}
        # prefix keys sorted; their (place, tier) pairs flat, in key order (CSR offsets)
        self._keys = sorted(prefix)
        flat: list[int] = []
        starts = [0]
        for key in self._keys:
            flat.extend(prefix[key])
            starts.append(len(flat))
        packed = np.asarray(flat, dtype=np.int64)
        self._flat_place = packed // 8
        self._flat_tier = packed % 8
        self._starts = np.asarray(starts, dtype=np.int64)
        # typos: trigrams of the distinct words (not of every name): far fewer to index
        self._words = sorted(word_places)
        self._word_places = [word_places[w] for w in self._words]
        postings: dict[str, list[int]] = defaultdict(list)
        for k, word in enumerate(self._words):
            for gram in _trigrams(word):
                postings[gram].append(k)
        self._postings = {g: np.asarray(v, dtype=np.int32) for g, v in postings.items()}

    def _order_key(self, i: int) -> tuple[int, int, int, str]:
        place = self.places[i]
        name = place.name("be") or place.name("ru")
        return (_KIND_RANK.get(place.kind, len(KINDS)), -(place.population or 0), len(name),
                name)

    def __len__(self) -> int:
        return len(self.places)

    def lookup(self, text: str, limit: int = 10, *,
               kinds: Iterable[str] | None = None) -> list[Match]:
        """The best ``limit`` places for ``text``, best first (see the module's docstring);
        ``kinds``: only places of these kinds."""
        key = fold(text)
        if not key or limit <= 0 or not self.places:
            return []
        wanted = set(kinds) if kinds is not None else None
        best: dict[int, int] = {}

        def take(place: int, tier: int) -> None:
            if wanted is not None and self.places[place].kind not in wanted:
                return
            if tier < best.get(place, 99):
                best[place] = tier

        for place in self._exact.get(key, ()):
            take(place, _EXACT)
        for place in self._stems.get(stem_phrase(key), ()):
            take(place, _STEM)
        self._prefix(key, limit, take)
        if len(key.replace(" ", "")) >= 5 and len(best) < limit:
            self._typos(key, take)
        ranked = sorted(best.items(), key=lambda item: (item[1], int(self._rank[item[0]])))
        return [Match(self.places[p], _TIER_NAME[t]) for p, t in ranked[:limit]]

    def _prefix(self, key: str, limit: int, take: Any) -> None:
        lo = bisect.bisect_left(self._keys, key)
        hi = bisect.bisect_left(self._keys, key + _END, lo)
        if lo >= hi:
            return
        start, stop = int(self._starts[lo]), int(self._starts[hi])
        places = self._flat_place[start:stop]
        score = self._flat_tier[start:stop] * len(self.places) + self._rank[places]
        keep = min(len(score), limit * 4 + 16)  # room for the kinds filtered out
        chosen = np.argpartition(score, keep - 1)[:keep] if keep < len(score) \
            else np.arange(len(score))
        tiers = self._flat_tier[start:stop]
        for i in chosen.tolist():
            take(int(places[i]), int(tiers[i]))

    def _typos(self, key: str, take: Any) -> None:
        """Places with a word one edit from ``key`` (a one-word query), or whose word
        starts with a text one edit from it."""
        if " " in key:
            return
        grams = [self._postings[g] for g in _trigrams(key) if g in self._postings]
        if not grams:
            return
        counts = np.bincount(np.concatenate(grams), minlength=len(self._words))
        need = max(1, len(key) - 4)  # one edit changes at most 3 trigrams; "$" for prefixes
        candidates = np.flatnonzero(counts >= need)
        if len(candidates) > 400:  # the closest by shared trigrams
            candidates = candidates[np.argpartition(-counts[candidates], 399)[:400]]
        for k in candidates.tolist():
            other = self._words[k]
            if _within_one(key, other) or (len(other) > len(key)
                                           and _within_one(key, other[:len(key)])):
                for place in self._word_places[k]:
                    take(place, _TYPO)
