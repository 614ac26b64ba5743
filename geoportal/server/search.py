"""``GET /search?q=...&limit=...&lang=...``: one search box for places and layers (issue 19).

Places come from the gazetteer (``geoportal.search``), built in each worker from the layers
whose manifest has ``search:`` and rebuilt when the catalog generation changes (only the
layers whose version or ``search:`` changed are read again). Layers are the catalog's records
matched by their words. A query "X near Y" / "X in Y" (or "X Y" where Y is a place) answers
the layers of X whose extent covers place Y, and Y itself among the places.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import orjson
from flask import Blueprint, Response, request

from geoportal.catalog import Catalog, Layer
from geoportal.catalog.registry import Registry
from geoportal.errors import InputError
from geoportal.i18n import tr
from geoportal.providers.records import RecordSource
from geoportal.search.folding import fold
from geoportal.search.gazetteer import (
    Gazetteer,
    Match,
    Place,
    PlaceSpec,
    name_language,
    places_from_rows,
)
from geoportal.search.layers import layer_json, match_layers
from geoportal.search.query import MAX_QUERY, Parsed, parse, splits
from geoportal.server import languages
from geoportal.server.live import LiveAPI
from geoportal.storage.base import FeatureStore, Query

__all__ = ["MAX_LIMIT", "PlaceIndex", "answer", "locate", "search_blueprint"]

log = logging.getLogger("geoportal.server")
MAX_LIMIT = 50
_PAGE = 5000  # features read per store query while building


def _field_names(layer: Layer, spec: PlaceSpec) -> dict[str, str]:
    """The manifest's name fields resolved to the published names (a field may be named as
    published or as in the source, its title), each with its language."""
    assert layer.current is not None
    fields = layer.current.fields
    out: dict[str, str] = {}
    for wanted in spec.name_fields:
        found = next((f for f in fields if f.name == wanted), None) or next(
            (f for f in fields if f.title == wanted), None) or next(
            (f for f in fields if fold(f.title or "") == fold(wanted)), None)
        if found is not None and found.name not in out:
            out[found.name] = found.title or ""
    return out


def read_places(layer: Layer, store: FeatureStore) -> list[Place]:
    """Every place of one published layer (its manifest's ``search:``), read from the store
    a page at a time, in fid order."""
    if layer.current is None or not layer.meta.search:
        return []
    spec = PlaceSpec.from_dict(layer.meta.search)
    titles = _field_names(layer, spec)
    if not titles:
        log.warning("search: layer %s names no published field among %s", layer.id,
                    list(spec.name_fields))
        return []
    names = {f.name for f in layer.current.fields}
    population = spec.population_field
    if population is not None and population not in names:
        population = next((f.name for f in layer.current.fields if f.title == population), None)
    spec = PlaceSpec(spec.kind, tuple(titles), population)
    select = [*titles, *([population] if population else [])]
    rows: list[tuple[int, dict[str, Any], Any]] = []
    after = 0
    while True:
        page = store.query(layer.current.store_ref, layer.current.fields,
                           Query(limit=_PAGE, after=after, select=select, count=False))
        rows.extend((r.fid, r.properties, r.geometry) for r in page.rows)
        if len(page.rows) < _PAGE:
            break
        after = page.rows[-1].fid
    languages_ = {name: name_language(name, title, (str(r[1].get(name) or "")
                                                     for r in rows[:200]))
                  for name, title in titles.items()}
    return places_from_rows(layer.id, spec, languages_, rows)


class PlaceIndex:
    """The worker's gazetteer for the catalog generation ``live`` serves: rebuilt on a
    change (other requests keep answering from the previous one meanwhile)."""

    def __init__(self, live: LiveAPI, store: FeatureStore) -> None:
        self.live = live
        self.store = store
        self._lock = threading.Lock()
        self._generation = -2
        self._gazetteer = Gazetteer([])
        # layer id -> ((store ref, search spec), its places)
        self._layers: dict[str, tuple[tuple[str, bytes], list[Place]]] = {}

    def current(self) -> Gazetteer:
        """The gazetteer of the served generation."""
        self.live.refresh()
        generation = self.live.generation
        if generation == self._generation:
            return self._gazetteer
        if not self._lock.acquire(blocking=self._generation < 0):
            return self._gazetteer  # being rebuilt by another request: the previous one
        try:
            if generation != self._generation:
                self._rebuild()
                self._generation = generation
            return self._gazetteer
        finally:
            self._lock.release()

    def _rebuild(self) -> None:
        kept: dict[str, tuple[tuple[str, bytes], list[Place]]] = {}
        for layer_id, light in self.live.layers.items():
            if not light.meta.search or light.current is None:
                continue
            key = (light.current.store_ref, orjson.dumps(light.meta.search,
                                                         option=orjson.OPT_SORT_KEYS))
            before = self._layers.get(layer_id)
            if before is not None and before[0] == key:
                kept[layer_id] = before
                continue
            full = self.live.layer(layer_id)
            if full is None:
                continue
            try:
                kept[layer_id] = (key, read_places(full, self.store))
            except Exception:  # one broken layer must not take the search box down
                log.exception("search: places of layer %s not read", layer_id)
        self._layers = kept
        self._gazetteer = Gazetteer([p for _, places in kept.values() for p in places])
        log.info("search: gazetteer of %s places from %s layers", len(self._gazetteer),
                 len(kept))


def _place_json(match: Match, lang: str, titles: dict[str, str]) -> dict[str, Any]:
    return {**match.place.to_json(lang), "match": match.tier,
            "layerTitle": titles.get(match.place.layer, match.place.layer)}


def locate(gazetteer: Gazetteer, text: str, limit: int) -> tuple[list[Match], bool]:
    """The places a "near" text names, and whether it names one for sure (an exact or stem
    match, or an inflected short name: ``Оршы``, ``Орше`` are Орша without their last
    letter, then a prefix)."""
    found = gazetteer.lookup(text, limit)
    if found and found[0].tier in ("exact", "stem"):
        return found, True
    words = fold(text).split()
    if words and all(len(w) >= 4 for w in words):
        cut = gazetteer.lookup(" ".join(w[:-1] for w in words), limit)
        if cut and cut[0].tier in ("exact", "prefix"):
            return cut, True
    return found, False


def answer(gazetteer: Gazetteer, records: list[dict[str, Any]], q: str, limit: int,
           lang: str) -> dict[str, Any]:
    """The body of ``GET /search`` for ``q`` (see the module's docstring)."""
    parsed = parse(q)
    if parsed.near is None:
        places = gazetteer.lookup(q, limit)
        strong = bool(places) and places[0].tier in ("exact", "stem")
        layers = match_layers(records, q)
        if not strong and not layers:
            # "станции Орша", "районы Гомельской области": layer words and a place
            for reading in splits(q):
                assert reading.near is not None
                found, sure = locate(gazetteer, reading.near, limit)
                if not sure:
                    continue
                covered = match_layers(records, reading.what, inside=found[0].place.bbox)
                if covered:
                    return _body(reading, found, covered, lang, records)
            # no layer of that kind there ("школы Гродно"): the place at least
            for reading in splits(q):
                assert reading.near is not None
                found, sure = locate(gazetteer, reading.near, limit)
                if sure:
                    return _body(reading, found, [], lang, records)
        return _body(parsed, places, layers, lang, records)
    found, _ = locate(gazetteer, parsed.near, limit)
    if not found:
        return _body(parsed, [], match_layers(records, parsed.what), lang, records)
    return _body(parsed, found,
                 match_layers(records, parsed.what, inside=found[0].place.bbox), lang, records)


def _body(parsed: Parsed, places: list[Match], layers: list[dict[str, Any]],
          lang: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    wanted = {m.place.layer for m in places}
    titles = {r["id"]: layer_json(r, lang)["title"] for r in records if r["id"] in wanted}
    return {"places": [_place_json(m, lang, titles) for m in places],
            "layers": [layer_json(r, lang) for r in layers],
            "query": parsed.to_json()}


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return 10
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise InputError(tr("limit={value}: a whole number from 1 to {most}",
                            value=repr(raw[:20]), most=MAX_LIMIT))
    return int(raw)


def search_blueprint(live: LiveAPI, store: FeatureStore, registry: Registry,
                     base_url: str = "") -> Blueprint:
    """``GET /search``: places and layers for the search box."""
    bp = Blueprint("search", __name__)
    index = PlaceIndex(live, store)
    catalog: Catalog = live.catalog
    generation: Callable[[], int] = lambda: live.generation  # noqa: E731
    records = RecordSource(catalog, registry, base_url, generation)

    @bp.get("/search")
    def search() -> Response:
        q = request.args.get("q", "")
        if len(q) > MAX_QUERY:
            raise InputError(tr("the search text is {n} characters long; at most {limit}: "
                                "shorten it", n=f"{len(q):,}", limit=MAX_QUERY))
        limit = _limit(request.args.get("limit"))
        lang = languages.request_language()
        if not q.strip():
            body: dict[str, Any] = {"places": [], "layers": [],
                                    "query": Parsed("").to_json()}
        else:
            gazetteer = index.current()
            body = answer(gazetteer, records.records(), q.strip(), limit, lang)
        response = Response(orjson.dumps(body), mimetype="application/json")
        response.headers["Cache-Control"] = "public, max-age=60"
        return response

    return bp
