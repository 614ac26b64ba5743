"""pygeoapi's API object, rebuilt from the catalog whenever the catalog's generation changes.

Each worker polls the generation counter at most every ``catalog_poll_seconds``; a layer
published by the CLI, another worker or another machine is served within that delay.
"""

from __future__ import annotations

import logging
import threading
import time

from pygeoapi.api import API
from pygeoapi.openapi import get_oas

from geoportal.catalog import Catalog, Layer
from geoportal.config import Settings
from geoportal.server.openapi import localize_refs
from geoportal.server.pygeoapi_config import build_config

__all__ = ["LiveAPI"]

log = logging.getLogger("geoportal.server")


class LiveAPI:
    """Holds the current pygeoapi API and swaps it when the catalog changes."""

    def __init__(self, settings: Settings, catalog: Catalog, store_key: str) -> None:
        self.settings = settings
        self.catalog = catalog
        self.store_key = store_key
        self._lock = threading.Lock()
        self._checked = 0.0
        self.generation = -1
        self.layers: dict[str, Layer] = {}  # the served layers by id, for cache validators
        self._api: API | None = None
        self.refresh(force=True)

    @property
    def api(self) -> API:
        """The API for the catalog as of at most ``catalog_poll_seconds`` ago."""
        self.refresh()
        assert self._api is not None
        return self._api

    def refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.settings.catalog_poll_seconds:
            return
        with self._lock:
            if not force and now - self._checked < self.settings.catalog_poll_seconds:
                return
            generation = self.catalog.generation()
            if force or generation != self.generation:
                layers = self.catalog.list_layers()
                config = build_config(self.settings, layers, self.store_key)
                self.layers = {layer.id: layer for layer in layers
                               if layer.current is not None and layer.meta.kind == "vector"}
                openapi = localize_refs(get_oas(config, fail_on_invalid_collection=False))
                self._api = API(config, openapi)
                log.info("catalog generation=%s collections=%s", generation,
                         len(config["resources"]))
                self.generation = generation
            self._checked = time.monotonic()
