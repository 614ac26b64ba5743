"""A measured fix to pygeoapi 0.24's request path, installed once by ``create_app``.

pygeoapi's ``transform_bbox`` builds a new ``pyproj.Transformer`` on every request with a
``bbox``, even from CRS84 to CRS84: about 12 ms per request, five times the cost of the
query itself on a 1,000,000-feature layer (benchmarks/serve.py). Ours returns the bbox as is
when both CRSs are the same and caches transformers otherwise. Same results, same errors.
"""

from __future__ import annotations

from functools import lru_cache

import pyproj
from pygeoapi import crs as pygeoapi_crs
from pygeoapi.api import itemtypes

__all__ = ["install"]


@lru_cache(maxsize=64)
def _transformer(from_crs: str, to_crs: str, always_xy: bool) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(
        pygeoapi_crs.get_crs(from_crs), pygeoapi_crs.get_crs(to_crs), always_xy=always_xy)


def transform_bbox(bbox: list, from_crs: str | pyproj.CRS, to_crs: str | pyproj.CRS,
                   always_xy: bool = False) -> list:
    """pygeoapi's ``transform_bbox``, without rebuilding a transformer per call."""
    if not isinstance(from_crs, str) or not isinstance(to_crs, str):
        return _original(bbox, from_crs, to_crs, always_xy)
    source, target = pygeoapi_crs.get_crs(from_crs), pygeoapi_crs.get_crs(to_crs)
    if source == target:
        return list(bbox)
    if target.to_epsg() == 3857:  # as pygeoapi: keep away from the poles
        bbox = [bbox[0], max(-85.0511, bbox[1]), bbox[2], min(85.0511, bbox[3])]
    transform = _transformer(from_crs, to_crs, always_xy).transform
    half = len(bbox) // 2
    return list(transform(*bbox[:half]) + transform(*bbox[half:]))


_original = pygeoapi_crs.transform_bbox


def install() -> None:
    """Point pygeoapi's items endpoint at the faster ``transform_bbox`` (idempotent)."""
    itemtypes.transform_bbox = transform_bbox
