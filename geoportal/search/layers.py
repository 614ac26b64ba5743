"""Layers for the search box: the catalog's records matched by their words (the catalog's own
search, ``geoportal.catalog.records.search``: be/ru/en, folded, word endings), and whether a
layer's extent covers a place or a region.

"Covers" compares boxes: a point place must lie in the layer's extent; for an area (an oblast,
a raion) at least half of the smaller of the two boxes must be shared, so a national layer
covers Gomel oblast, a Minsk city layer covers Minsk oblast (it lies inside it), and a layer of
the neighbouring oblast, whose box only touches it, does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from geoportal.catalog.records import search as search_records

__all__ = ["COVER_SHARE", "covers", "layer_json", "match_layers", "record_bbox"]

COVER_SHARE = 0.5
Box = tuple[float, float, float, float]


def record_bbox(record: dict[str, Any]) -> Box | None:
    """A record's extent as (minx, miny, maxx, maxy), or None."""
    geometry = record.get("geometry")
    if not geometry:
        return None
    ring = geometry["coordinates"][0]
    xs = [p[0] for p in ring]
    ys = [p[1] for p in ring]
    return (min(xs), min(ys), max(xs), max(ys))


def covers(extent: Sequence[float] | None, box: Sequence[float]) -> bool:
    """Whether a layer's ``extent`` covers a place's or region's ``box`` (see the module's
    docstring); a degenerate box is a point."""
    if extent is None or len(extent) < 4 or len(box) < 4:
        return False
    minx, miny, maxx, maxy = extent[:4]
    bx0, by0, bx1, by1 = box[:4]
    if bx1 - bx0 <= 1e-9 or by1 - by0 <= 1e-9:
        x, y = (bx0 + bx1) / 2, (by0 + by1) / 2
        return minx <= x <= maxx and miny <= y <= maxy
    w = min(maxx, bx1) - max(minx, bx0)
    h = min(maxy, by1) - max(miny, by0)
    if w <= 0 or h <= 0:
        return False
    smaller = min(max(maxx - minx, 1e-9) * max(maxy - miny, 1e-9), (bx1 - bx0) * (by1 - by0))
    return w * h >= COVER_SHARE * smaller


def match_layers(records: Sequence[dict[str, Any]], what: str, *,
                 inside: Sequence[float] | None = None) -> list[dict[str, Any]]:
    """The records whose words match ``what`` (every word, any language), best first; with
    ``inside`` (a place's or region's box) only those whose extent covers it."""
    if not what.strip():
        return []
    found = search_records(records, q=what)
    if inside is not None:
        found = [(s, r) for s, r in found if covers(record_bbox(r), inside)]
    found.sort(key=lambda item: (-item[0], item[1]["id"]))
    return [r for _, r in found]


def layer_json(record: dict[str, Any], lang: str) -> dict[str, Any]:
    """A layer as ``GET /search`` returns it: id, title in ``lang``, kind, theme, region,
    bbox."""
    props = record["properties"]
    texts = props.get("translations", {})
    title = (texts.get(lang) or {}).get("title") or next(
        (texts[k]["title"] for k in ("en", "ru", "be") if (texts.get(k) or {}).get("title")),
        record["id"])
    bbox = record_bbox(record)
    return {"id": record["id"], "title": title, "kind": props.get("kind"),
            "theme": props.get("theme"), "region": props.get("region"),
            "bbox": list(bbox) if bbox else None}
