"""OGC API - Tiles: vector tiles (MVT) of every vector collection in WebMercatorQuad.

``/tileMatrixSets[/WebMercatorQuad]``, ``/collections/{id}/tiles`` (the tilesets),
``/collections/{id}/tiles/WebMercatorQuad`` (the tileset, or TileJSON 3 with
``f=tilejson`` for MapLibre), and ``/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}``.
Tiles are rendered by the store (ST_AsMVT on PostGIS, mapbox-vector-tile on GeoPackage) and
kept in each worker's memory by version: a new version has a new store ref, so its tiles are
new and the old ones age out; nothing needs invalidating.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

import morecantile
from flask import Blueprint, Response, request
from markupsafe import Markup, escape

from geoportal.catalog import Layer
from geoportal.errors import InputError, NotFound
from geoportal.i18n import tr
from geoportal.server.access_log import cache_status
from geoportal.server.caching import stale_version, tile_cache_control, versioned
from geoportal.server.languages import pick, request_language
from geoportal.server.limits import LOW_ZOOM, tile_place
from geoportal.server.live import LiveAPI
from geoportal.server.metrics import store_timer, tile_cache_lookup, tile_cache_size
from geoportal.storage import FeatureStore
from geoportal.storage.base import MAX_TILE_FEATURES
from geoportal.storage.mvt import MAX_ZOOM, TileAddress

__all__ = [
    "CONFORMANCE",
    "MVT",
    "TMS_ID",
    "TMS_URI",
    "TileCache",
    "check_tms",
    "heavy_if",
    "json_response",
    "plain_attribution",
    "tile_address",
    "tile_limits",
    "tiles_blueprint",
    "tileset_links",
    "tileset_list",
]

MVT = "application/vnd.mapbox-vector-tile"
TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
_TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{}"
# declared in pygeoapi's /conformance with the Features classes (``seams``)
CONFORMANCE = [_TILES.format(c) for c in (
    "core", "tileset", "tilesets-list", "geodata-tilesets", "mvt", "oas30")] + [
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset"]
DEFAULT_MAX_ZOOM = 18  # what TileJSON advertises; deeper tiles are still served
_VECTOR_TILES = {"en": "vector tiles", "ru": "векторные тайлы", "be": "вектарныя тайлы"}


class TileCache:
    """Rendered tiles by (store ref, z, x, y), least recently used out past ``max_bytes``."""

    def __init__(self, max_bytes: int = 64 * 1024**2) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._tiles: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        with self._lock:
            found = self._tiles.get(key)
            if found is not None:
                self._tiles.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], tile: bytes) -> None:
        with self._lock:
            if key in self._tiles:
                return
            self._tiles[key] = tile
            self.size += len(tile)
            while self.size > self.max_bytes and self._tiles:
                _, old = self._tiles.popitem(last=False)
                self.size -= len(old)


def _matrix_set() -> dict[str, Any]:
    tms = morecantile.tms.get(TMS_ID)
    matrix_set: dict[str, Any] = json.loads(tms.model_dump_json(exclude_none=True,
                                                                by_alias=True))
    return matrix_set


def tile_limits(extent: tuple[float, float, float, float] | None, max_zoom: int
            ) -> list[dict[str, Any]]:
    """The rows and columns holding the layer at each zoom, from its CRS84 extent."""
    if extent is None:
        return []
    tms = morecantile.tms.get(TMS_ID)
    minx, miny, maxx, maxy = extent
    out = []
    for z in range(max_zoom + 1):
        first = tms.tile(max(minx, -180), min(maxy, 85.05), z)
        last = tms.tile(min(maxx, 179.9999), max(miny, -85.05), z)
        out.append({"tileMatrix": str(z), "minTileRow": first.y, "maxTileRow": last.y,
                    "minTileCol": first.x, "maxTileCol": last.x})
    return out


def _layer_or_404(live: LiveAPI, collection_id: str, *, light: bool = False) -> Layer:
    """The vector layer ``collection_id`` in full, or (``light``) as listed: enough for a
    tile's cache key, and read without the database (``LiveAPI.light``)."""
    layer = live.light(collection_id) if light else live.layer(collection_id)
    if layer is None or layer.current is None or layer.meta.kind != "vector":
        raise NotFound(tr("collection {id} has no vector tiles", id=repr(collection_id)))
    return layer


def json_response(body: Any) -> Response:
    """A JSON answer (UTF-8, Cyrillic kept as is)."""
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


def check_tms(tms_id: str) -> None:
    """NotFound for any tile matrix set but the one offered."""
    if tms_id != TMS_ID:
        raise NotFound(tr("tile matrix set {id} not found; offered: {offered}",
                          id=repr(tms_id), offered=TMS_ID))


def plain_attribution(text: str | None) -> str:
    """A layer's attribution as text for other sites' map clients: its HTML tags dropped and
    what is left escaped (MapLibre and Leaflet put TileJSON's attribution into the page as
    HTML, so a ``<`` must arrive as ``&lt;``, never as markup)."""
    return str(escape(Markup(text or "").striptags()))


@contextmanager
def heavy_if(condition: bool, what: str) -> Iterator[None]:
    """Hold a place at the tile gate (``limits.tile_place``) when ``condition``."""
    if not condition:
        yield
        return
    with tile_place(what):
        yield


def tile_address(z: str, y: str, x: str) -> TileAddress:
    """The tile of a ``{tileMatrix}/{tileRow}/{tileCol}`` path: InputError when they are not
    numbers, NotFound when the tile is not in the grid."""
    try:
        address = TileAddress(int(z), int(x), int(y))
    except ValueError:
        raise InputError("tileMatrix, tileRow and tileCol must be whole numbers") from None
    if not address.valid():
        raise NotFound(tr("no tile {z}/{y}/{x} in {tms} (zoom 0 to {max}, row and column from "
                          "0 to 2^zoom - 1)", z=z, y=y, x=x, tms=TMS_ID, max=MAX_ZOOM))
    return address


def tileset_links(base: str, collection_id: str, url: str, media: str,
                  layer: Layer | None = None) -> list[dict[str, Any]]:
    """A tileset's links: itself, its grid, the tile template (``media``; with ``layer``,
    versioned: immutable, see ``caching``), TileJSON and the collection."""
    template = f"{url}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
    return [
        {"rel": "self", "type": "application/json", "href": url},
        {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
         "type": "application/json", "href": f"{base}/tileMatrixSets/{TMS_ID}"},
        {"rel": "item", "type": media, "templated": True,
         "href": versioned(template, layer) if layer is not None else template},
        {"rel": "alternate", "type": "application/json", "title": "TileJSON",
         "href": f"{url}?f=tilejson"},
        {"rel": "collection", "type": "application/json",
         "href": f"{base}/collections/{collection_id}"},
    ]


def tileset_list(entry: dict[str, Any], href: str) -> dict[str, Any]:
    """The tilesets list of a collection holding the one tileset ``entry``."""
    listed = {k: entry[k] for k in ("title", "dataType", "crs", "tileMatrixSetURI")}
    listed["links"] = entry["links"][:3]
    return {"tilesets": [listed], "links": [
        {"rel": "self", "type": "application/json", "href": href}]}


def tiles_blueprint(live: LiveAPI, store: FeatureStore, cache: TileCache) -> Blueprint:
    """The Tiles routes."""
    bp = Blueprint("tiles", __name__)

    def base() -> str:
        return (live.settings.base_url or "").rstrip("/")  # set by Settings' validation

    def tileset(layer: Layer) -> dict[str, Any]:
        version = layer.current
        assert version is not None
        url = f"{base()}/collections/{layer.id}/tiles/{TMS_ID}"
        title = pick(layer.meta.title, layer.id)
        return {
            "title": f"{title}: {_VECTOR_TILES[request_language()]}", "dataType": "vector", "crs":
                "http://www.opengis.net/def/crs/EPSG/0/3857",
            "tileMatrixSetURI": TMS_URI,
            "tileMatrixSetLimits": tile_limits(version.extent, DEFAULT_MAX_ZOOM),
            "layers": [{"id": layer.id, "dataType": "vector",
                        "geometryDimension": _dimension(version.geometry_type),
                        "propertiesSchema": {"type": "object", "properties": {
                            f.name: {"type": "string" if f.type in ("date", "date-time",
                                                                     "time") else f.type,
                                     **({"title": f.title} if f.title else {})}
                            for f in version.fields}}}],
            "links": tileset_links(base(), layer.id, url, MVT, layer),
        }

    def tilejson(layer: Layer) -> dict[str, Any]:
        version = layer.current
        assert version is not None
        url = f"{base()}/collections/{layer.id}/tiles/{TMS_ID}"
        extent = version.extent or (23.18, 51.26, 32.78, 56.17)
        return {
            "tilejson": "3.0.0", "name": pick(layer.meta.title, layer.id),
            "description": pick(layer.meta.description),
            "attribution": plain_attribution(layer.meta.attribution),
            "scheme": "xyz", "tiles": [versioned(f"{url}/{{z}}/{{y}}/{{x}}", layer)],
            "minzoom": 0, "maxzoom": DEFAULT_MAX_ZOOM,
            "bounds": list(extent),
            "center": [(extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2,
                       _fit_zoom(extent)],
            "vector_layers": [{"id": layer.id, "minzoom": 0, "maxzoom": DEFAULT_MAX_ZOOM,
                               "fields": {f.name: f.title or f.type for f in version.fields}}],
        }

    @bp.get("/tileMatrixSets")
    def matrix_sets() -> Response:
        return json_response({"tileMatrixSets": [{
            "id": TMS_ID, "title": "Google Maps Compatible for the World", "uri": TMS_URI,
            "links": [{"rel": "self", "type": "application/json",
                       "href": f"{base()}/tileMatrixSets/{TMS_ID}"}]}, {
            # the map tiles' second grid (server/ows/map_tiles.py, issue 20)
            "id": "BelarusEPSG4326", "title": "Belarus, WGS 84 (EPSG:4326), 256 px tiles "
            "from 57N 23E", "links": [{"rel": "self", "type": "application/json",
                                       "href": f"{base()}/tileMatrixSets/BelarusEPSG4326"}]}]})

    @bp.get("/tileMatrixSets/<tms_id>")
    def matrix_set(tms_id: str) -> Response:
        check_tms(tms_id)
        return json_response(_matrix_set())

    @bp.get("/collections/<collection_id>/tiles")
    def tilesets(collection_id: str) -> Response:
        live.refresh()
        layer = _layer_or_404(live, collection_id)
        return json_response(tileset_list(tileset(layer),
                                          f"{base()}/collections/{collection_id}/tiles"))

    @bp.get("/collections/<collection_id>/tiles/<tms_id>")
    def tileset_metadata(collection_id: str, tms_id: str) -> Response:
        live.refresh()
        layer = _layer_or_404(live, collection_id)
        check_tms(tms_id)
        if request.args.get("f") == "tilejson":
            return json_response(tilejson(layer))
        return json_response(tileset(layer))

    @bp.get("/collections/<collection_id>/tiles/<tms_id>/<z>/<y>/<x>")
    def tile(collection_id: str, tms_id: str, z: str, y: str, x: str) -> Response:
        # the light layer (as listed, in memory) names the current version: a cached tile
        # is served without reading the catalog, so also while the database is away
        layer = _layer_or_404(live, collection_id, light=True)
        check_tms(tms_id)
        address = tile_address(z, y, x)
        moved = stale_version(request, layer)  # an older version's URL: to the current one
        if moved is not None:
            return moved
        version = layer.current
        assert version is not None
        key = (version.store_ref, address.z, address.x, address.y)
        etag = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
        if request.if_none_match.contains(etag):
            response = Response(status=HTTPStatus.NOT_MODIFIED)
        else:
            body = cache.get(key)
            tile_cache_lookup(hit=body is not None)
            cache_status("hit" if body is not None else "miss")
            if body is None:
                full = _layer_or_404(live, collection_id).current  # its field list
                assert full is not None
                # thinned (the costly case) only when the layer has more features
                with heavy_if(address.z <= LOW_ZOOM
                              and version.feature_count > MAX_TILE_FEATURES, "tile"), \
                        store_timer(store, "tile"):
                    body = store.tile(version.store_ref, full.fields, address,
                                      layer=layer.id,
                                      points="Point" in (version.geometry_type or ""))
                cache.put(key, body)
                tile_cache_size(cache.size)
            response = Response(body, status=HTTPStatus.OK if body else HTTPStatus.NO_CONTENT,
                                mimetype=MVT)
        response.set_etag(etag)
        response.headers["Cache-Control"] = tile_cache_control(request, layer)
        return response

    return bp


def _dimension(geometry_type: str | None) -> int | None:
    kind = (geometry_type or "").replace("Multi", "")
    return {"Point": 0, "LineString": 1, "Polygon": 2}.get(kind)


def _fit_zoom(extent: tuple[float, float, float, float]) -> int:
    """The zoom at which the extent fills about one 512-pixel view."""
    span = max(extent[2] - extent[0], (extent[3] - extent[1]) * 1.6, 1e-6)
    return max(0, min(DEFAULT_MAX_ZOOM, int(math.log2(360 / span))))
