"""The portal people open in a browser: the home page (catalog search and map viewer) and the
upload page, and the small documents they need beside the OGC APIs (regions, themes, the
basemap style, SVG maps).

The pages are static HTML and JavaScript that talk to the same APIs as scripts do (Records,
Features, Tiles, Coverages, the admin API): nothing here reads a store or bypasses a check.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, render_template, request

from geoportal.catalog import Registry
from geoportal.catalog.models import Field, Layer
from geoportal.errors import NotFound
from geoportal.fields import pick_language
from geoportal.i18n import tr
from geoportal.search.folding import fold
from geoportal.server.collections import crs_name, service_urls
from geoportal.server.coverage_params import crs_uri
from geoportal.server.languages import request_language
from geoportal.server.live import LiveAPI
from geoportal.server.portal.style import basemap_style
from geoportal.server.portal.svg import RegionMap
from geoportal.server.pygeoapi_config import CRS84, SUPPORTED_CRS, layer_facts
from geoportal.server.security import embed_csp

__all__ = ["layer_card", "layer_view", "portal_blueprint", "render_page", "series_and_basemaps",
           "wants_page"]

VENDOR = Path(__file__).resolve().parents[1] / "static" / "vendor"


def wants_page() -> bool:
    """True when ``/`` is asked for by a browser (HTML) rather than an OGC API client (JSON):
    ``f=html``, or no ``f`` and an Accept header that prefers HTML."""
    f = request.args.get("f")
    if f:
        return f == "html"
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and "text/html" in request.headers.get("Accept", "")


def _json(body: Any, max_age: int = 60) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


def portal_blueprint(live: LiveAPI, registry: Registry, boundaries: Path) -> Blueprint:
    """The page routes and their helper documents."""
    bp = Blueprint("portal", __name__)

    @cache
    def regions() -> RegionMap:  # read and simplified on first use, not at each start-up
        return RegionMap(boundaries, registry)

    def base() -> str:
        return (live.settings.base_url or "").rstrip("/")

    @bp.get("/admin")
    def admin_page() -> Response:
        return render_page("portal/admin.html")

    @bp.get("/embed")
    def embed_page() -> Response:
        """The map viewer for another site's page (issue 19): the home page's map alone,
        full-frame, with a link to open the same view in the portal. The view comes in the
        hash (``#map=...&layers=...``) as on the home page. Unlike every other page it may be
        framed by the sources of the ``embed_frame_ancestors`` setting (default: any)."""
        response = render_page("portal/index.html", embed=True)
        response.headers["Content-Security-Policy"] = embed_csp(
            live.settings.embed_frame_ancestors)
        return response

    @bp.get("/portal/registry.json")
    def registry_json() -> Response:
        """Regions (SOATO code, level, parent, names, bbox), themes (id, names), the names
        of the CRSs every layer offers, and (issue 19) the published series and basemaps in
        the request's language. Small at any catalog size: a layer's card is
        ``/portal/cards/<id>.json``, fetched when the viewer shows that layer; the series
        and basemaps are the few layers whose manifest says so. A minute's cache: a publish
        may add a year to a series."""
        live.refresh()
        return _json({
            "regions": [{"code": r.code, "level": r.level, "parent": r.parent, "name": r.name,
                         "bbox": list(r.bbox) if r.bbox else None}
                        for r in registry.regions.values()],
            "themes": [{"id": t.id, "name": t.name} for t in registry.themes.values()],
            "crs": [{"uri": uri, "name": crs_name(uri)} for uri in SUPPORTED_CRS],
            **series_and_basemaps(live, request_language()),
        }, max_age=60)

    @bp.get("/portal/cards/<layer_id>.json")
    def card_json(layer_id: str) -> Response:
        """One served layer's card (``layer_card``); it changes with each publish."""
        layer = _served(live, layer_id)
        full = live.layer(layer_id)  # its fields (the light row has none): read once, kept
        return _json({**layer_card(live.settings.base_url or "", layer),
                      **layer_view(full or layer, request_language())}, max_age=60)

    @bp.get("/portal/style.json")
    def style() -> Response:
        """The basemap style with tile paths from the server's root: the page makes them
        absolute on its own origin (MapLibre's workers need absolute URLs, and the CSP allows
        only the page's origin; a Host header or a proxy's scheme must not decide them)."""
        live.refresh()
        return _json(basemap_style(urlsplit(base()).path, live.layers))

    @bp.get("/portal/regions.svg")
    def regions_svg() -> Response:
        response = Response(regions().picker(request_language()), mimetype="image/svg+xml")
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    @bp.get("/portal/thumbnails/<layer_id>.svg")
    def thumbnail(layer_id: str) -> Response:
        current = _served(live, layer_id).current
        extent = current.extent if current is not None else None
        response = Response(regions().thumbnail(tuple(extent) if extent else None),
                            mimetype="image/svg+xml")
        response.headers["Cache-Control"] = "public, max-age=300"
        return response

    return bp


def layer_card(base_url: str, layer: Layer) -> dict[str, Any]:
    """A served layer's card for the viewer (issue 19): the facts of its collection
    description (``collections.card_facts``: licence, attribution, feature count, geometry
    type, dates), its storage CRS by name and the URLs a GIS program is given. The CRSs every
    layer offers are named once, in ``registry.json``'s ``crs``."""
    assert layer.current is not None
    coverage = layer.meta.kind == "coverage"
    facts = {key: value for key, value in layer_facts(layer).items() if value is not None}
    grid = layer.current.typed_report.raster if coverage else None
    storage = crs_uri(grid.crs) if grid is not None else CRS84
    return {**facts, "storage_crs": {"uri": storage, "name": crs_name(storage)},
            "urls": service_urls(base_url, layer.meta.id, coverage)}


def _served(live: LiveAPI, layer_id: str) -> Layer:
    """The published layer ``layer_id`` as listed (catalog changes followed), or a 404."""
    live.refresh()
    layer = live.layers.get(layer_id)
    if layer is None or layer.current is None:
        raise NotFound(tr("collection {id} not found", id=repr(layer_id)))
    return layer


def render_page(template: str, **context: Any) -> Response:
    """A page of the portal: the HTML skeleton its script fills (in the request's language);
    ``context``: the template's own flags (``embed``)."""
    live: LiveAPI = current_app.extensions["geoportal"]["live"]
    # paths from the server's root (a proxy's prefix kept), not absolute URLs: the page may be
    # opened under another host name than base_url's, and its CSP allows only its own origin
    html = render_template(template, lang=request_language(),
                           base_url=urlsplit(live.settings.base_url or "").path.rstrip("/"),
                           title=live.settings.title,
                           vendor=(VENDOR / "maplibre-gl.js").is_file(), **context)
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


def _in(value: Any, lang: str) -> str | None:
    """A manifest text given once or as ``{be, ru, en}``, in ``lang`` (falling back be -> ru
    -> en -> the first given); None when absent."""
    if isinstance(value, dict):
        return pick_language(value, lang)
    return str(value) if value else None


def _find_field(fields: list[Field], wanted: str) -> Field | None:
    """A field named as published, as in the source (its original title) or by one of its
    titles, the last two compared folded (case, ё, і/и): how a manifest's ``title_field``
    may name it, like ``search.name_fields``."""
    return (next((f for f in fields if f.name == wanted), None)
            or next((f for f in fields if f.title == wanted), None)
            or next((f for f in fields if fold(f.title or "") == fold(wanted)
                     or any(fold(t) == fold(wanted) for t in (f.titles or {}).values())), None))


def layer_view(layer: Layer, lang: str) -> dict[str, Any]:
    """What the viewer shows of a layer in ``lang`` (issue 19), from the manifest's view keys
    and the current version's fields: the field whose value heads a feature's info
    (``titleField``: the published name for that language, None when the manifest names
    none or a field the layer does not have), every field with its title in ``lang``, the
    unit of its values, its series and whether it may be the basemap."""
    view = layer.meta.view or {}
    fields = layer.current.fields if layer.current is not None else []
    wanted = _in(view.get("title_field"), lang)
    found = _find_field(fields, wanted) if wanted else None
    series = view.get("series")
    return {
        "titleField": found.name if found is not None else None,
        "fields": [{"name": f.name, "type": f.type, "title": f.title_in(lang)} for f in fields],
        "unit": _in(view.get("unit"), lang),
        "series": ({"id": series["id"], "label": _in(series.get("label"), lang) or series["id"]}
                   if isinstance(series, dict) and series.get("id") else None),
        "basemap": bool(view.get("basemap")),
    }


def series_and_basemaps(live: LiveAPI, lang: str) -> dict[str, Any]:
    """``registry.json``'s ``series`` (layers sharing a manifest's ``series.id``, each with
    its label and title in ``lang``, ordered by label; a series of one layer too) and
    ``basemaps`` (layers whose manifest says ``basemap: true``), of the published layers."""
    members: dict[str, list[dict[str, Any]]] = {}
    basemaps: list[dict[str, Any]] = []
    for layer_id, light in sorted(live.layers.items()):
        view = light.meta.view or {}
        series = view.get("series")
        if not view.get("basemap") and not isinstance(series, dict):
            continue
        full = live.layer(layer_id)  # the light row's texts are compacted away
        if full is None or full.current is None:  # removed a moment ago
            continue
        title = pick_language(full.meta.title, lang) or layer_id
        if isinstance(series, dict) and series.get("id"):
            label = _in(series.get("label"), lang) or layer_id
            members.setdefault(series["id"], []).append(
                {"id": layer_id, "label": label, "title": title})
        if view.get("basemap"):
            basemaps.append({"id": layer_id, "title": title, "kind": str(full.meta.kind)})
    return {
        "series": [{"id": series_id, "layers": sorted(layers, key=_label_order)}
                   for series_id, layers in sorted(members.items())],
        "basemaps": basemaps,
    }


def _label_order(member: dict[str, Any]) -> tuple[Any, ...]:
    """A series' layers by label, numbers by value ("2013" < "2024", "9" < "10"), then id."""
    label = str(member["label"])
    parts = [(0, int(p), "") if p.isdigit() else (1, 0, fold(p))
             for p in re.split(r"(\d+)", label) if p]
    return (parts, member["id"])
