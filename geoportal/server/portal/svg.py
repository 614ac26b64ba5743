"""Small SVG maps of Belarus drawn from ``config/boundaries.geojson``: the clickable region
picker of the home page and the thumbnail of a layer's extent in search results.

SVG rather than a second web map: a few kilobytes, drawn by the browser at once, no WebGL, and
each region is an element with its SOATO code that a click or a keyboard can select.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from html import escape
from pathlib import Path

import shapely
from shapely.geometry import shape

from geoportal.catalog import Registry

__all__ = ["RegionMap"]

WIDTH = 400  # px; the height follows Belarus's shape
_PAD = 4


class RegionMap:
    """Belarus's oblasts and raions, simplified once, and drawn as SVG."""

    def __init__(self, boundaries: Path, registry: Registry) -> None:
        with Path(boundaries).open(encoding="utf-8") as fh:
            data = json.load(fh)
        self.registry = registry
        self.shapes: dict[str, shapely.Geometry] = {}
        for feature in data.get("features", []):
            code = str(feature.get("properties", {}).get("code", ""))
            if code in registry.regions and feature.get("geometry"):
                self.shapes[code] = shapely.simplify(shape(feature["geometry"]), 0.01,
                                                     preserve_topology=True)
        country = self.shapes.get("0000000000") or shapely.union_all(list(self.shapes.values()))
        minx, miny, maxx, maxy = country.bounds
        self._kx = math.cos(math.radians((miny + maxy) / 2))  # degrees of longitude shrink
        self._scale = (WIDTH - 2 * _PAD) / ((maxx - minx) * self._kx)
        self._origin = (minx, maxy)
        self.height = math.ceil((maxy - miny) * self._scale + 2 * _PAD)

    def _xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (_PAD + (lon - self._origin[0]) * self._kx * self._scale,
                _PAD + (self._origin[1] - lat) * self._scale)

    def _path(self, geom: shapely.Geometry) -> str:
        parts = []
        polygons = getattr(geom, "geoms", [geom])
        for polygon in polygons:
            for ring in [polygon.exterior, *polygon.interiors]:
                points = [self._xy(x, y) for x, y in ring.coords]
                parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
        return "".join(parts)

    def _children(self, level: str) -> list[str]:
        return sorted(code for code, region in self.registry.regions.items()
                      if region.level == level and code in self.shapes)

    def picker(self, language: str) -> str:
        """Oblasts (and Minsk city) over raions, each a focusable path with its SOATO code and
        its name as a tooltip."""
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {self.height}" '
               f'class="region-map" role="group">']
        for level, css in (("raion", "raion"), ("oblast", "oblast"), ("city", "oblast")):
            for code in self._children(level):
                name = self._name(code, language)
                out.append(f'<path class="region {css}" data-region="{code}" tabindex="0" '
                           f'role="button" aria-label="{escape(name)}" '
                           f'd="{self._path(self.shapes[code])}"><title>{escape(name)}'
                           "</title></path>")
        out.append("</svg>")
        return "".join(out)

    @lru_cache(maxsize=512)  # noqa: B019 - one map per process, bounded
    def thumbnail(self, extent: tuple[float, float, float, float] | None) -> str:
        """Belarus's oblasts with ``extent`` (lon/lat) drawn over them."""
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {self.height}" '
               'class="thumbnail">']
        for code in self._children("oblast") + self._children("city"):
            out.append(f'<path fill="#eef1f4" stroke="#8a96a3" stroke-width="1.5" '
                       f'd="{self._path(self.shapes[code])}"/>')
        if extent is not None:
            (x0, y0), (x1, y1) = self._xy(extent[0], extent[3]), self._xy(extent[2], extent[1])
            w, h = max(x1 - x0, 6.0), max(y1 - y0, 6.0)
            out.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{h:.1f}" '
                       'fill="#c0392b" fill-opacity="0.25" stroke="#c0392b" stroke-width="3"/>')
        out.append("</svg>")
        return "".join(out)

    def _name(self, code: str, language: str) -> str:
        names = self.registry.regions[code].name
        return names.get(language) or names.get("en") or code
