"""pygeoapi's API object for the catalog's current generation, updated layer by layer.

Each worker polls the generation counter at most every ``catalog_poll_seconds``; a layer
published, replaced or removed by the CLI, another worker or another machine is served within
that delay. On a change only the layers whose row changed (``updated``, ``current_version``)
are read again and described again; the other 4,999 resources, their cached collection
descriptions and the OpenAPI document are carried over. Nothing here costs more than a few
milliseconds per changed layer, so a catalog of thousands of layers starts in seconds.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from pygeoapi.api import API
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from geoportal.catalog import Catalog, Layer
from geoportal.catalog import schema as catalog_tables
from geoportal.config import Settings
from geoportal.errors import StorageError
from geoportal.providers.records import CATALOG_ID, catalog_resource
from geoportal.server.collections import CollectionDocs
from geoportal.server.openapi import DETAILED_PATHS_UP_TO, build_openapi, document_json
from geoportal.server.pygeoapi_config import (
    SERVED_KINDS,
    collection_resource,
    is_served,
    server_config,
)
from geoportal.storage.rasters import RasterStore

__all__ = ["LiveAPI", "PortalAPI"]

log = logging.getLogger("geoportal.server")
# More changed layers than this are read with one query of the whole catalog.
_READ_ONE_BY_ONE = 64


class PortalAPI(API):
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
                         openapi_json)  # type: ignore[arg-type]
        self.config["resources"] = resources
        self.collections = collections
        self.openapi_document = openapi_document


@dataclass(frozen=True)
class _Generation:
    """Everything served for one catalog generation, swapped as one object."""

    number: int
    layers: dict[str, Layer]  # the served layers by id
    fingerprints: dict[str, Hashable]
    api: PortalAPI


def _fingerprints(catalog: Catalog) -> dict[str, Hashable]:
    """(current version, updated) of every layer served as a collection, by id: what a
    publish, rollback, metadata change or removal changes."""
    layers = catalog_tables.layers
    query = select(layers.c.id, layers.c.current_version, layers.c.updated).where(
        layers.c.kind.in_(SERVED_KINDS) & layers.c.current_version.is_not(None))
    try:
        with catalog.engine.connect() as conn:
            rows = conn.execute(query).all()
    except SQLAlchemyError as exc:
        raise StorageError(f"catalog {catalog.engine.url!r}: {exc}") from exc
    return {row.id: (row.current_version, str(row.updated)) for row in rows}


CATALOG_TITLE = {"en": "Catalog of layers", "ru": "Каталог слоёв", "be": "Каталог пластоў"}


class LiveAPI:
    """Holds the current generation's API and replaces it when the catalog changes."""

    def __init__(self, settings: Settings, catalog: Catalog, store_key: str) -> None:
        self.settings = settings
        self.catalog = catalog
        self.store_key = store_key
        self._server = server_config(settings)
        self._rasters = RasterStore(settings.coverage_dir)
        self._lock = threading.Lock()
        self._checked = 0.0
        self._current: _Generation | None = None
        self._openapi: tuple[dict[str, Any], str] | None = None  # when not per collection
        self.refresh(force=True)

    @property
    def api(self) -> PortalAPI:
        """The API for the catalog as of at most ``catalog_poll_seconds`` ago."""
        self.refresh()
        assert self._current is not None
        return self._current.api

    @property
    def layers(self) -> dict[str, Layer]:
        """The served layers by id (for cache validators)."""
        assert self._current is not None
        return self._current.layers

    def layer(self, collection_id: str) -> Layer | None:
        """The served layer ``collection_id``, or None. A layer new to this worker (an
        upload's job just finished, possibly in another worker) is looked up in the catalog
        at once rather than after ``catalog_poll_seconds``: an admin's script uploads, then
        reads. One generation query; a rebuild only when the catalog changed."""
        self.refresh()
        if collection_id not in self.layers:
            self.refresh(immediate=True)
        return self.layers.get(collection_id)

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
            generation = self.catalog.generation()  # before reading: never miss a change
            current = self._current
            if force or current is None or generation != current.number:
                started = time.perf_counter()
                self._current, changed = self._build(generation, None if force else current)
                log.info("catalog generation=%s collections=%s changed=%s seconds=%.3f",
                         generation, len(self._current.layers), changed,
                         time.perf_counter() - started)
            if not immediate:  # readers without a token keep their own rhythm
                self._checked = time.monotonic()

    def _build(self, number: int, previous: _Generation | None) -> tuple[_Generation, int]:
        # Fingerprints first: a layer read after them is at least as new, so a change made
        # in between is seen (again) at the next generation, never lost.
        fingerprints = _fingerprints(self.catalog)
        if previous is None:
            everything = [layer for layer in self.catalog.list_layers() if is_served(layer)]
            layers = {layer.id: layer for layer in everything}
            changed = set(layers)
        else:
            changed = {i for i, f in fingerprints.items() if previous.fingerprints.get(i) != f}
            layers = {i: previous.layers[i] for i in fingerprints
                      if i in previous.layers and i not in changed}
            layers.update(self._read(changed))
        # Listing order is by id, as the catalog lists layers.
        layers = dict(sorted(layers.items()))
        fingerprints = {i: fingerprints.get(i) for i in layers}
        old = previous.api.config["resources"] if previous is not None else {}
        resources = {i: old[i] if i in old and i not in changed
                     else collection_resource(layer, self.store_key, self._rasters)
                     for i, layer in layers.items()}
        document, text = self._openapi_for(resources, previous is None or bool(changed)
                                           or len(resources) != len(previous.layers))
        # The catalog itself is a collection too: its records (OGC API - Records) first.
        resources = {CATALOG_ID: old.get(CATALOG_ID) or catalog_resource(CATALOG_TITLE),
                     **resources}
        docs = CollectionDocs(self.settings.base_url or "", resources, fingerprints,
                              previous.api.collections if previous is not None else None)
        api = PortalAPI({**self._server, "resources": resources}, docs, document, text)
        removed = len(previous.layers.keys() - layers.keys()) if previous is not None else 0
        return _Generation(number, layers, fingerprints, api), len(changed) + removed

    def _read(self, ids: set[str]) -> dict[str, Layer]:
        """The changed layers that are still served, read from the catalog."""
        if not ids:
            return {}
        if len(ids) > _READ_ONE_BY_ONE:
            found = [layer for layer in self.catalog.list_layers() if layer.id in ids]
        else:
            found = [layer for i in ids if (layer := self.catalog.find_layer(i)) is not None]
        return {layer.id: layer for layer in found if is_served(layer)}

    def _openapi_for(self, resources: Mapping[str, dict[str, Any]],
                     changed: bool) -> tuple[dict[str, Any], str]:
        """The OpenAPI document and its JSON text: built once when collections are described
        only by the shared paths, else again when the collections changed."""
        if len(resources) > DETAILED_PATHS_UP_TO:
            if self._openapi is None:
                document = build_openapi(self.settings, {})
                self._openapi = (document, document_json(document))
            return self._openapi
        current = self._current
        if not changed and current is not None:
            return current.api.openapi_document, current.api.openapi
        document = build_openapi(self.settings, resources)
        return document, document_json(document)
