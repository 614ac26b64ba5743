"""Measured fixes to pygeoapi 0.24's request path, assigned into pygeoapi by ``seams``.

- ``transform_bbox`` builds a new ``pyproj.Transformer`` on every request with a ``bbox``, even
  from CRS84 to CRS84: about 12 ms per request, five times the cost of the query itself on a
  1,000,000-feature layer (benchmarks/serve.py). Ours returns the bbox as is when both CRSs are
  the same and caches transformers otherwise. Same results, same errors.
- ``to_json`` encodes with the standard library: 15 % of a 100-building page. Ours encodes with
  orjson (the same JSON, with UTF-8 text instead of ``\\u`` escapes, and pygeoapi's escaping
  of ``<`` and ``>`` kept); pretty printing and anything orjson refuses go the old way.
- ``filter_dict_by_key_value(config["resources"], "type", "collection")`` runs on most
  requests and walks every resource: at 20,000 collections that would build every lazily made
  resource (``live.LazyResources``). A mapping with a ``filtered`` method answers it itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import orjson
import pyproj
from pygeoapi import crs as pygeoapi_crs
from pygeoapi import util as pygeoapi_util

__all__ = ["filter_dict_by_key_value", "to_json", "transform_bbox"]


@lru_cache(maxsize=64)
def _transformer(from_crs: str, to_crs: str, always_xy: bool) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(
        pygeoapi_crs.get_crs(from_crs), pygeoapi_crs.get_crs(to_crs), always_xy=always_xy)


def transform_bbox(bbox: list[Any], from_crs: str | pyproj.CRS, to_crs: str | pyproj.CRS,
                   always_xy: bool = False) -> list[float]:
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


# pygeoapi's own functions, as they are typed (pygeoapi has no type information).
_original: Callable[..., list[float]] = pygeoapi_crs.transform_bbox
_original_filter = pygeoapi_util.filter_dict_by_key_value


def filter_dict_by_key_value(dict_: Any, key: str, value: Any) -> Any:
    """pygeoapi's filter, left to the mapping when it knows better (``LazyResources``)."""
    filtered = getattr(dict_, "filtered", None)
    if filtered is not None:
        return filtered(key, value)
    return _original_filter(dict_, key, value)
_original_to_json: Callable[[dict[str, Any], bool], str] = pygeoapi_util.to_json


def to_json(dict_: dict[str, Any], pretty: bool = False) -> str:
    """pygeoapi's ``to_json``, encoded by orjson."""
    if pretty:
        return _original_to_json(dict_, pretty)
    try:
        text = orjson.dumps(dict_, default=pygeoapi_util.json_serial,
                            option=orjson.OPT_NON_STR_KEYS).decode()
    except (orjson.JSONEncodeError, TypeError):
        return _original_to_json(dict_, pretty)
    return text.replace("<", "&lt;").replace(">", "&gt;")

