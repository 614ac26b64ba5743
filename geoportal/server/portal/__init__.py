"""The portal people open in a browser: the home page (catalog search and map viewer) and the
upload page, and the small documents they need beside the OGC APIs (regions, themes, the
basemap style, SVG maps).

The pages are static HTML and JavaScript that talk to the same APIs as scripts do (Records,
Features, Tiles, Coverages, the admin API): nothing here reads a store or bypasses a check.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, render_template, request

from geoportal.catalog import Registry
from geoportal.catalog.models import Layer
from geoportal.errors import NotFound
from geoportal.i18n import tr
from geoportal.server.collections import crs_name, service_urls
from geoportal.server.coverage_params import crs_uri
from geoportal.server.languages import request_language
from geoportal.server.live import LiveAPI
from geoportal.server.portal.style import basemap_style
from geoportal.server.portal.svg import RegionMap
from geoportal.server.pygeoapi_config import CRS84, SUPPORTED_CRS, layer_facts

__all__ = ["layer_card", "portal_blueprint", "render_page", "wants_page"]

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

    @bp.get("/portal/registry.json")
    def registry_json() -> Response:
        """Regions (SOATO code, level, parent, names, bbox), themes (id, names) and the names
        of the CRSs every layer offers. Small at any catalog size: a layer's card is
        ``/portal/cards/<id>.json``, fetched when the viewer shows that layer."""
        return _json({
            "regions": [{"code": r.code, "level": r.level, "parent": r.parent, "name": r.name,
                         "bbox": list(r.bbox) if r.bbox else None}
                        for r in registry.regions.values()],
            "themes": [{"id": t.id, "name": t.name} for t in registry.themes.values()],
            "crs": [{"uri": uri, "name": crs_name(uri)} for uri in SUPPORTED_CRS],
        }, max_age=3600)

    @bp.get("/portal/cards/<layer_id>.json")
    def card_json(layer_id: str) -> Response:
        """One served layer's card (``layer_card``); it changes with each publish."""
        live.refresh()
        layer = live.layers.get(layer_id)
        if layer is None or layer.current is None:
            raise NotFound(tr("collection {id} not found", id=repr(layer_id)))
        return _json(layer_card(live.settings.base_url or "", layer), max_age=60)

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
        live.refresh()
        layer = live.layers.get(layer_id)
        if layer is None or layer.current is None:
            raise NotFound(tr("collection {id} not found", id=repr(layer_id)))
        extent = layer.current.extent
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


def render_page(template: str) -> Response:
    """A page of the portal: the HTML skeleton its script fills (in the request's language)."""
    live: LiveAPI = current_app.extensions["geoportal"]["live"]
    # paths from the server's root (a proxy's prefix kept), not absolute URLs: the page may be
    # opened under another host name than base_url's, and its CSP allows only its own origin
    html = render_template(template, lang=request_language(),
                           base_url=urlsplit(live.settings.base_url or "").path.rstrip("/"),
                           title=live.settings.title,
                           vendor=(VENDOR / "maplibre-gl.js").is_file())
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response
