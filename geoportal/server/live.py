"""pygeoapi's API object for the catalog's current generation, updated layer by layer.

Each worker polls the generation counter at most every ``catalog_poll_seconds``; a layer
published, replaced or removed by the CLI, another worker or another machine is served within
that delay. On a change only the layers whose row changed (``updated``, ``current_version``)
are read again; the others, their cached descriptions and the OpenAPI document are carried
over.

At 20,000 layers a worker keeps only what listing them needs: each layer's "light" row
(texts, extent, current version; no field list, no ETL report, see
``Catalog.list_layers(light=True)``). A layer's full row and its pygeoapi resource are read
when a request asks for that collection, and the last ``FULL_KEPT`` of them are kept
(``LiveAPI.layer``, ``LazyResources``), so memory does not grow with the catalog's size.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

import orjson
from pygeoapi.api import API
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from geoportal.catalog import Catalog, Layer
from geoportal.catalog import schema as catalog_tables
from geoportal.catalog.repository import as_utc
from geoportal.config import Settings
from geoportal.errors import StorageError
from geoportal.providers.records import CATALOG_ID, catalog_resource
from geoportal.server.collections import CollectionDocs
from geoportal.server.metrics import catalog_refreshed
from geoportal.server.openapi import DETAILED_PATHS_UP_TO, build_openapi, document_json
from geoportal.server.pygeoapi_config import (
    SERVED_KINDS,
    collection_resource,
    is_served,
    server_config,
)
from geoportal.storage.rasters import RasterStore

__all__ = ["FULL_KEPT", "LazyResources", "LiveAPI", "PortalAPI"]

log = logging.getLogger("geoportal.server")
# More changed layers than this are read with one query of the whole catalog.
_READ_ONE_BY_ONE = 64
# Full layers (fields, report) and their pygeoapi resources kept per worker, most recent first.
FULL_KEPT = 512


class PortalAPI(API):  # type: ignore[misc]  # pygeoapi has no type information
    """pygeoapi's API with the generation's cached documents (collections, OpenAPI).

    pygeoapi deep-copies its whole configuration into ``tpl_config`` (0.7 s at 5,000
    resources) and its templates translate that copy once per language and keep it for the
    life of the process (``l10n._cfg_cache``), stale after any catalog change. Templates get
    the configuration without resources instead: none of ours needs them.
    """

    def __init__(self, config: dict[str, Any], collections: CollectionDocs,
                 openapi_document: dict[str, Any], openapi_json: str) -> None:
        resources = config["resources"]
        super().__init__({**copy.deepcopy({k: v for k, v in config.items()
                                           if k != "resources"}), "resources": {}},
                         openapi_json)
        self.config["resources"] = resources
        self.collections = collections
        self.openapi_document = openapi_document


@dataclass(frozen=True)
class _Generation:
    """Everything served for one catalog generation, swapped as one object."""

    number: int
    layers: dict[str, Layer]  # the served layers by id, light (see the module's docstring)
    texts: dict[str, bytes]  # their texts, compact (``_compact``)
    fingerprints: dict[str, Hashable]
    modified: datetime  # the newest layer change: /collections' Last-Modified
    api: PortalAPI


_NO_TEXTS: Mapping[str, Any] = MappingProxyType({})


def _compact(layer: Layer, canon: dict[Any, Any]) -> tuple[Layer, bytes]:
    """A light layer as kept for a listing: its texts (title, description, keywords in three
    languages: a third of a layer's memory as Python dicts) as one UTF-8 JSON value, and its
    repeated strings (region, theme, licence...) shared with the other layers'."""
    meta = layer.meta
    # (copied: orjson's own bytes object keeps its whole 4 KiB working buffer)
    texts = memoryview(orjson.dumps([meta.title, meta.description, meta.keywords])).tobytes()
    for name in ("region", "theme", "kind", "license", "attribution"):
        value = getattr(meta, name)
        setattr(meta, name, canon.setdefault(value, value))
    meta.title = meta.description = meta.keywords = _NO_TEXTS  # type: ignore[assignment]
    version = layer.current
    if version is not None:
        version.layer_id = meta.id
        for name in ("status", "source_name", "source_sha256", "source_crs", "store_ref",
                     "geometry_type"):
            value = getattr(version, name)
            setattr(version, name, canon.setdefault(value, value))
    return layer, canon.setdefault(texts, texts)


def _inflate(layer: Layer, texts: bytes) -> Layer:
    """A compact light layer with its texts again (for one description)."""
    title, description, keywords = orjson.loads(texts)
    meta = dataclasses.replace(layer.meta, title=title, description=description,
                               keywords=keywords)
    return dataclasses.replace(layer, meta=meta)


def fingerprint(layer: Layer) -> Hashable:
    """What a publish, rollback or metadata change of a layer changes."""
    return (layer.current.version if layer.current else None, layer.updated)


def _fingerprints(catalog: Catalog) -> dict[str, Hashable]:
    """``fingerprint`` of every layer served as a collection, by id (one light query)."""
    layers = catalog_tables.layers
    query = select(layers.c.id, layers.c.current_version, layers.c.updated).where(
        layers.c.kind.in_(SERVED_KINDS) & layers.c.current_version.is_not(None))
    engine = catalog.reader  # taken once: the error is counted against the database asked
    try:
        with engine.connect() as conn:  # the replica for anonymous requests
            rows = conn.execute(query).all()
    except SQLAlchemyError as exc:
        raise catalog.database_error(exc, "catalog", engine) from exc
    return {row.id: (row.current_version, as_utc(row.updated)) for row in rows}


class LazyResources(Mapping[str, dict[str, Any]]):
    """pygeoapi's ``config["resources"]`` for one generation, built on demand.

    ``resources[id]`` is the collection's whole resource (made from the layer's full row on
    first use, see ``LiveAPI.resource``). pygeoapi also walks the mapping on most requests
    (``filter_dict_by_key_value(resources, "type", "collection")``, ``conformance``): for
    those, ``items()`` and ``values()`` give each collection's outline (type, title,
    provider type) and ``filtered`` answers the type filter at once (installed by
    ``pygeoapi_speedups``), so no request builds 20,000 resources.
    """

    def __init__(self, ids: list[str], layers: Mapping[str, Layer],
                 first: dict[str, dict[str, Any]], resource: Callable[[str], dict[str, Any]],
                 texts: Mapping[str, bytes]) -> None:
        self._ids = ids  # the layers' ids, in listing order, after the ``first`` ones
        self._layers = layers
        self._first = first  # built at once (the catalog's own records collection)
        self._resource = resource
        # titles in the outlines only where the OpenAPI document names each collection
        self._texts = texts if len(ids) <= DETAILED_PATHS_UP_TO else None

    def __getitem__(self, key: str) -> dict[str, Any]:
        if key in self._first:
            return self._first[key]
        if key not in self._layers:
            raise KeyError(key)
        return self._resource(key)

    def __contains__(self, key: object) -> bool:
        return key in self._first or key in self._layers

    def __iter__(self) -> Iterator[str]:
        yield from self._first
        yield from self._ids

    def __len__(self) -> int:
        return len(self._first) + len(self._ids)

    def outline(self, key: str) -> dict[str, Any]:
        """What pygeoapi's walks over every resource read: type, title, provider type."""
        if key in self._first:
            return self._first[key]
        layer = self._layers[key]
        kind = "coverage" if layer.meta.kind == "coverage" else "feature"
        title = orjson.loads(self._texts[key])[0] if self._texts is not None else None
        return {"type": "collection", "title": title, "providers": [{"type": kind}]}

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:  # type: ignore[override]
        return ((key, self.outline(key)) for key in self)

    def values(self) -> Iterator[dict[str, Any]]:  # type: ignore[override]
        return (self.outline(key) for key in self)

    def filtered(self, key: str, value: Any) -> Mapping[str, dict[str, Any]]:
        """``filter_dict_by_key_value``: every resource here is a collection."""
        if key == "type" and value == "collection":
            return self
        return {k: v for k, v in self.items() if v.get(key) == value}


CATALOG_TITLE = {"en": "Catalog of layers", "ru": "Каталог слоёв", "be": "Каталог пластоў"}


class LiveAPI:
    """Holds the current generation's API and replaces it when the catalog changes."""

    def __init__(self, settings: Settings, catalog: Catalog, store_key: str, *,
                 rasters: RasterStore | None = None, full_kept: int = FULL_KEPT) -> None:
        """``rasters``: the app's RasterStore (one object-store client per worker; made from
        the settings when None); ``full_kept``: how many full layers to keep."""
        self.settings = settings
        self.catalog = catalog
        self.store_key = store_key
        self._full_kept = full_kept
        self._server = server_config(settings)
        self._rasters = rasters if rasters is not None else RasterStore.for_settings(settings)
        self._lock = threading.Lock()
        self._checked = 0.0
        self._current: _Generation | None = None
        self._openapi: tuple[dict[str, Any], str] | None = None  # when not per collection
        # id -> (fingerprint, full layer, its pygeoapi resource or None): the last FULL_KEPT
        self._full: OrderedDict[str, tuple[Hashable, Layer, dict[str, Any] | None]] = \
            OrderedDict()
        self._full_lock = threading.Lock()
        try:
            self.refresh(force=True)
        except StorageError as exc:
            # A worker that boots while the database is away (a restart during an outage, a
            # worker respawned by gunicorn) must not fail to boot: gunicorn then stops the
            # whole server. It serves 503 (and /readyz says "not loaded yet") until a
            # request finds the database back.
            log.warning("catalog not loaded at start, answering 503 until the database "
                        "answers: %s", exc)

    @property
    def full_kept(self) -> int:
        """How many full layers (and their resources) this worker keeps."""
        return self._full_kept

    @full_kept.setter
    def full_kept(self, count: int) -> None:
        self._full_kept = count
        with self._full_lock:
            while len(self._full) > count:
                self._full.popitem(last=False)

    def _loaded(self) -> _Generation:
        """The generation served; one not loaded yet (the database was away when this
        worker started) is loaded now, or the database's error (503) is raised."""
        current = self._current
        if current is None:
            self.refresh(force=True)
            current = self._current
            assert current is not None
        return current

    @property
    def api(self) -> PortalAPI:
        """The API for the catalog as of at most ``catalog_poll_seconds`` ago."""
        if self._current is not None:
            self.refresh()
        return self._loaded().api

    @property
    def layers(self) -> dict[str, Layer]:
        """The served layers by id, light: no field list, no vector ETL report (for
        listings and cache validators; ``layer`` gives a layer in full)."""
        return self._loaded().layers

    def listed(self) -> list[Layer]:
        """Every served layer by id, light but with its texts (titles, descriptions,
        keywords): what a capabilities document lists."""
        generation = self._loaded()
        return [_inflate(layer, generation.texts[key]) if key in generation.texts else layer
                for key, layer in sorted(generation.layers.items())]

    @property
    def modified(self) -> datetime:
        """When the newest served layer changed (``/collections``' Last-Modified)."""
        return self._loaded().modified

    def knows(self, collection_id: str) -> bool:
        """True when ``collection_id`` is served; a layer new to this worker is looked up
        at once (see ``layer``), without reading the layer itself."""
        self.refresh()
        if collection_id not in self.layers:
            self.refresh(immediate=True)
        return collection_id in self.layers

    def light(self, collection_id: str) -> Layer | None:
        """The served layer ``collection_id`` as listed (no field list, no vector ETL
        report; its current version's ``store_ref`` and counts are there), or None; no
        catalog read unless the layer is new to this worker. Enough to find a cached tile:
        a tile served from memory needs no database (``layer`` may read the catalog)."""
        if not self.knows(collection_id):
            return None
        return self.layers.get(collection_id)

    def layer(self, collection_id: str) -> Layer | None:
        """The served layer ``collection_id`` in full (fields, report), or None. A layer new
        to this worker (an upload's job just finished, possibly in another worker) is looked
        up in the catalog at once rather than after ``catalog_poll_seconds``: an admin's
        script uploads, then reads. One generation query; a rebuild only when the catalog
        changed; the full row is read once and kept (the last ``FULL_KEPT`` layers)."""
        self.refresh()
        if collection_id not in self.layers:
            self.refresh(immediate=True)
        light = self.layers.get(collection_id)
        entry = self._full_entry(collection_id, light) if light is not None else None
        return entry[1] if entry is not None else None

    def resource(self, collection_id: str) -> dict[str, Any]:
        """The pygeoapi resource of a served layer, from its full row (KeyError if none)."""
        light = self.layers.get(collection_id)
        if light is None:
            raise KeyError(collection_id)
        entry = self._full_entry(collection_id, light)
        if entry is None:  # removed a moment ago
            raise KeyError(collection_id)
        found, layer, resource = entry
        if resource is None:
            resource = collection_resource(layer, self.store_key, self._rasters)
            with self._full_lock:
                if collection_id in self._full:
                    self._full[collection_id] = (found, layer, resource)
        return resource

    def _full_entry(self, collection_id: str, light: Layer
                    ) -> tuple[Hashable, Layer, dict[str, Any] | None] | None:
        wanted = fingerprint(light)
        with self._full_lock:
            entry = self._full.get(collection_id)
            if entry is not None and entry[0] == wanted:
                self._full.move_to_end(collection_id)
                return entry
        layer = self.catalog.find_layer(collection_id)
        if layer is None or not is_served(layer):  # removed a moment ago
            return None
        entry = (fingerprint(layer), layer, None)
        with self._full_lock:
            self._full[collection_id] = entry
            self._full.move_to_end(collection_id)
            while len(self._full) > self.full_kept:
                self._full.popitem(last=False)
        return entry

    def _keep_full(self, layers: Mapping[str, Layer]) -> None:
        """Remember layers read in full (a small catalog's, read at once)."""
        with self._full_lock:
            for layer_id, layer in layers.items():
                self._full[layer_id] = (fingerprint(layer), layer, None)
            while len(self._full) > self.full_kept:
                self._full.popitem(last=False)

    @property
    def generation(self) -> int:
        """The catalog generation being served."""
        return self._current.number if self._current is not None else -1

    def refresh(self, *, force: bool = False, immediate: bool = False) -> None:
        """Check the catalog's generation (at most every ``catalog_poll_seconds``, or now
        when ``immediate``: an editor reads what they just wrote) and take in what changed;
        ``force`` rebuilds everything."""
        now = time.monotonic()
        wait = 0 if force or immediate else self.settings.catalog_poll_seconds
        if now - self._checked < wait:
            return
        with self._lock:
            if now - self._checked < wait:
                return
            try:
                generation = self.catalog.generation()  # before reading: never miss a change
                current = self._current
                # a lagging read replica's older generation is not a change (issue 17)
                behind = self.catalog.read_engine is not None and current is not None \
                    and generation < current.number
                if force or current is None or (generation != current.number and not behind):
                    started = time.perf_counter()
                    self._current, changed = self._build(generation,
                                                         None if force else current)
                    seconds = time.perf_counter() - started
                    catalog_refreshed(seconds)
                    log.info("catalog generation=%s collections=%s changed=%s seconds=%.3f",
                             generation, len(self._current.layers), changed, seconds)
            except StorageError as exc:
                if self._current is None:
                    raise  # nothing to serve yet
                # the database away (its outage is logged once, storage/dbhealth.py): the
                # last good catalog is served on, and asked for again after the poll delay
                log.debug("catalog refresh failed, serving generation %s: %s",
                          self._current.number, exc)
                self._checked = time.monotonic()
                return
            if not immediate:  # readers without a token keep their own rhythm
                self._checked = time.monotonic()

    def _build(self, number: int, previous: _Generation | None) -> tuple[_Generation, int]:
        # Fingerprints first: a layer read after them is at least as new, so a change made
        # in between is seen (again) at the next generation, never lost.
        fingerprints = _fingerprints(self.catalog)
        canon: dict[Any, Any] = {}
        texts: dict[str, bytes] = {}
        layers: dict[str, Layer] = {}
        if previous is None:
            for layer in self.catalog.each_layer(light=True):
                if is_served(layer):
                    layers[layer.id], texts[layer.id] = _compact(layer, canon)
            changed = set(layers)
        else:
            changed = {i for i, f in fingerprints.items() if previous.fingerprints.get(i) != f}
            for i in fingerprints:
                if i in previous.layers and i not in changed:
                    layers[i], texts[i] = previous.layers[i], previous.texts[i]
            for layer in self._read(changed):
                layers[layer.id], texts[layer.id] = _compact(layer, canon)
            # Listing order is by id, as the catalog lists layers.
            layers = dict(sorted(layers.items()))
        ids = list(layers)
        fingerprints = {i: fingerprint(layer) for i, layer in layers.items()}
        modified = max((layer.updated for layer in layers.values()),
                       default=datetime.fromtimestamp(0).astimezone())
        catalog_id = {CATALOG_ID: (previous.api.config["resources"][CATALOG_ID]
                                   if previous is not None
                                   else catalog_resource(CATALOG_TITLE))}
        resources = LazyResources(ids, layers, catalog_id, self.resource, texts)
        grew = previous is None or bool(changed) or len(ids) != len(previous.layers)
        document, text = self._openapi_for(layers, texts, grew)
        docs = CollectionDocs(self.settings.base_url or "", [CATALOG_ID, *ids],
                              self._describing(layers, texts, catalog_id),
                              {CATALOG_ID: "catalog", **fingerprints},
                              previous.api.collections if previous is not None else None)
        api = PortalAPI({**self._server, "resources": resources}, docs, document, text)
        removed = len(previous.layers.keys() - layers.keys()) if previous is not None else 0
        return (_Generation(number, layers, texts, fingerprints, modified, api),
                len(changed) + removed)

    def _describing(self, layers: Mapping[str, Layer], texts: Mapping[str, bytes],
                    first: dict[str, dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
        """A collection's resource as far as its description needs (texts, extent, kind):
        made from the light row, never kept, no catalog read."""
        def describe(collection_id: str) -> dict[str, Any]:
            if collection_id in first:
                return first[collection_id]
            layer = _inflate(layers[collection_id], texts[collection_id])
            return collection_resource(layer, self.store_key, self._rasters)
        return describe

    def _read(self, ids: set[str]) -> list[Layer]:
        """The changed layers that are still served, read from the catalog (light; a few
        are read in full and the full copies kept for their first requests)."""
        if not ids:
            return []
        if len(ids) > _READ_ONE_BY_ONE:
            return [layer for layer in self.catalog.each_layer(light=True)
                    if layer.id in ids and is_served(layer)]
        found = [layer for layer in self.catalog.find_layers(ids) if is_served(layer)]
        self._keep_full({layer.id: layer for layer in found})
        return [dataclasses.replace(layer, meta=dataclasses.replace(layer.meta),
                                    current=layer.current and dataclasses.replace(layer.current))
                for layer in found]  # compacted apart from the full copies kept

    def _openapi_for(self, layers: Mapping[str, Layer], texts: Mapping[str, bytes],
                     changed: bool) -> tuple[dict[str, Any], str]:
        """The OpenAPI document and its JSON text: built once when collections are described
        only by the shared paths, else (a small catalog) again when the collections changed,
        from their full resources."""
        if len(layers) > DETAILED_PATHS_UP_TO:
            if self._openapi is None:
                document = build_openapi(self.settings, {})
                self._openapi = (document, document_json(document))
            return self._openapi
        current = self._current
        if not changed and current is not None:
            return current.api.openapi_document, current.api.openapi
        with self._full_lock:
            missing = [i for i, layer in layers.items()
                       if (entry := self._full.get(i)) is None or entry[0] != fingerprint(layer)]
        self._keep_full({layer.id: layer for layer in self.catalog.find_layers(missing)
                         if is_served(layer)})
        resources = {}
        for layer_id, layer in layers.items():
            with self._full_lock:
                entry = self._full.get(layer_id)
            full = entry[1] if entry is not None else _inflate(layer, texts[layer_id])
            resources[layer_id] = collection_resource(full, self.store_key, self._rasters)
        document = build_openapi(self.settings, resources)
        return document, document_json(document)
