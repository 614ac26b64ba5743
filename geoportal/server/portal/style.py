"""The viewer's basemap: a MapLibre style drawn from the portal's own vector tiles (country
outline from the oblasts, raions, cities, railway stations), so the map works with no internet.

No text layers: MapLibre draws text from glyph files a font server would provide, and the portal
has none; the page puts the cities' names over the map as HTML labels instead (portal.js).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from geoportal.catalog import Layer
from geoportal.server.caching import versioned

__all__ = ["BASEMAP_LAYERS", "basemap_style"]

# (collection id, its MapLibre layers): drawn in this order, below the user's layers
BASEMAP_LAYERS: dict[str, list[dict[str, Any]]] = {
    "oblasts": [
        # no antialiased outline: the next layer (a line) draws the edge, and MapLibre would
        # compile one more WebGL program for the first frame (slow in software rendering)
        {"type": "fill", "paint": {"fill-color": "#f4f1ea", "fill-antialias": False}},
        {"type": "line", "paint": {"line-color": "#9a8f7d", "line-width": [
            "interpolate", ["linear"], ["zoom"], 5, 1.2, 10, 2.5]}},
    ],
    "raions": [
        {"type": "line", "minzoom": 6, "paint": {"line-color": "#c4b9a6", "line-width": 0.8,
                                                 "line-dasharray": [3, 2]}},
    ],
    "railway-stations": [
        {"type": "circle", "minzoom": 8, "paint": {
            "circle-radius": 3, "circle-color": "#ffffff", "circle-stroke-color": "#555555",
            "circle-stroke-width": 1.5}},
    ],
    "cities": [
        {"type": "circle", "paint": {
            "circle-radius": ["interpolate", ["linear"], ["zoom"], 5, 2.5, 10, 6],
            "circle-color": "#6b5b45", "circle-stroke-color": "#ffffff",
            "circle-stroke-width": 1}},
    ],
}


def basemap_style(base_url: str, available: Iterable[str] | Mapping[str, Layer]
                  ) -> dict[str, Any]:
    """A MapLibre style (version 8) of the basemap layers that are published; given the
    layers themselves, the tile URLs carry their versions (immutable, see ``caching``)."""
    present = set(available)
    sources: dict[str, Any] = {}
    layers: list[dict[str, Any]] = [
        {"id": "background", "type": "background", "paint": {"background-color": "#dfe8ee"}}]
    for collection, drawn in BASEMAP_LAYERS.items():
        if collection not in present:
            continue
        source = f"basemap-{collection}"
        sources[source] = {
            "type": "vector", "minzoom": 0, "maxzoom": 14,
            "tiles": [_tile_url(f"{base_url}/collections/{collection}/tiles/WebMercatorQuad/"
                                "{z}/{y}/{x}", available, collection)],
            "attribution": "geoBoundaries, © OpenStreetMap contributors (ODbL)"
            if collection in ("oblasts", "raions") else "",
        }
        for i, layer in enumerate(drawn):
            layers.append({"id": f"{source}-{i}", "source": source,
                           "source-layer": collection, "metadata": {"basemap": True},
                           **layer})
    return {"version": 8, "name": "Geoportal basemap", "sources": sources, "layers": layers,
            "center": [27.95, 53.7], "zoom": 5.6}


def _tile_url(url: str, available: Iterable[str] | Mapping[str, Layer], collection: str) -> str:
    if isinstance(available, Mapping):
        return versioned(url, available[collection])
    return url
