"""OGC API - Maps: a collection's map (``/collections/{id}/map``) and its tiled maps
(``/collections/{id}/map/tiles[/{tileMatrixSetId}[/{z}/{y}/{x}]]``), drawn by the same engine
as the WMS and sharing the WMTS tiles.

``/map`` takes ``bbox`` (in ``bbox-crs``, CRS84 by default, in that CRS's axis order, as OGC API -
Features Part 2), ``crs`` (the map's CRS: the CRSs every collection offers), ``width`` and
``height`` (one is enough: the other follows the box's shape; neither: 1024 wide), ``f`` (png,
jpeg), ``transparent`` and ``bgcolor``. Errors are the OGC API's JSON errors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, cast

from flask import Blueprint, Response, current_app, jsonify, request
from pyproj import CRS, Transformer

from geoportal.catalog import Layer
from geoportal.errors import InputError, NotFound
from geoportal.i18n import tr
from geoportal.server.access_log import cache_status
from geoportal.server.caching import REVALIDATE
from geoportal.server.languages import pick, request_language
from geoportal.server.live import LiveAPI
from geoportal.server.ows.map_tiles import BELARUS_GRID, GRIDS, grid, limits, tile_of
from geoportal.server.ows.services import OwsServices
from geoportal.server.pygeoapi_config import CRS84, SUPPORTED_CRS, is_served
from geoportal.states import LayerKind

__all__ = ["CONFORMANCE", "MAP_PARAMETERS", "routes", "tile_answer"]

CONFORMANCE = [f"http://www.opengis.net/spec/ogcapi-maps-1/1.0/conf/{name}"
               for name in ("core", "crs", "scaling", "spatial-subsetting", "tilesets",
                            "png", "jpeg", "background")]
MAP_PARAMETERS = ("bbox", "bbox-crs", "crs", "width", "height", "f", "transparent", "bgcolor",
                  "lang")
_MEDIA = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg"}
_DEFAULT_WIDTH = 1024
_COLOUR = re.compile(r"^(0x|#)?([0-9A-Fa-f]{6})$")
# CRSs whose first axis is north in WMS 1.3.0 (EPSG's own order), as MapServer reads them
_NORTH_FIRST = {4326, 4284, 28404, 28405, 28406}


def _epsg(uri: str, name: str) -> int:
    """The EPSG code of an offered CRS URI (0 for CRS84); InputError naming the offer."""
    if uri in ("", CRS84):
        return 0
    if uri not in SUPPORTED_CRS:
        raise InputError(tr("{param} {crs} is not offered; use one of {crs_list}", param=name,
                            crs=repr(uri[:100]), crs_list=", ".join(SUPPORTED_CRS)))
    return int(uri.rsplit("/", 1)[1])


def _numbers(text: str, name: str, count: int) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise InputError(tr("bbox {bbox} must be four numbers: minx,miny,maxx,maxy",
                            bbox=repr(text[:100])))
    return values


def _size(name: str, default: int | None, most: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise InputError(tr("{name} must be a whole number of pixels from 1 to {most}",
                            name=name, most=most))
    return int(raw)


def _flag(name: str, default: bool) -> bool:
    raw = request.args.get(name)
    if raw is None:
        return default
    if raw.lower() not in ("true", "false"):
        raise InputError(tr("{name} must be true or false", name=name))
    return raw.lower() == "true"


def _east_north(box: list[float], code: int) -> list[float]:
    """A box given in the axis order of EPSG ``code`` (0: CRS84), as east/north."""
    if code in _NORTH_FIRST:
        return [box[1], box[0], box[3], box[2]]
    return box


def _transformed(box: list[float], source: int, target: int) -> list[float]:
    """An east/north box from one CRS to another (the box around the transformed one)."""
    if source == target or {source, target} <= {0, 4326}:
        return box
    transformer = Transformer.from_crs(CRS.from_epsg(source or 4326),
                                       CRS.from_epsg(target or 4326), always_xy=True)
    xs, ys = transformer.transform([box[0], box[2], box[0], box[2]],
                                   [box[1], box[1], box[3], box[3]])
    if not all(math.isfinite(v) for v in (*xs, *ys)):
        raise InputError(tr("bbox {bbox} must be four numbers: minx,miny,maxx,maxy",
                            bbox=repr(box)))
    return [min(xs), min(ys), max(xs), max(ys)]


def _media_type() -> str:
    asked = request.args.get("f")
    if asked is not None:
        if asked.lower() not in _MEDIA:
            raise InputError(tr("f={value} is not offered for maps; use png or jpeg",
                                value=repr(asked[:40])))
        return _MEDIA[asked.lower()]
    best = request.accept_mimetypes.best_match(["image/png", "image/jpeg"])
    return best or "image/png"


def routes(bp: Blueprint, live: LiveAPI, services: OwsServices,
           base_url: Callable[[], str]) -> None:
    """Add the OGC API - Maps routes to ``bp``."""

    def served(collection_id: str, *, light: bool = False) -> Layer:
        live.refresh()
        if light:  # as listed: a cached tile needs no catalog read
            layer = live.light(collection_id)
        else:
            layer = live.layer(collection_id) if live.knows(collection_id) else None
        if layer is None or not is_served(layer):
            raise NotFound(tr("collection {id} not found", id=repr(collection_id[:80])))
        return layer

    @bp.get(f"/tileMatrixSets/{BELARUS_GRID}")
    def belarus_grid() -> Response:
        """The Belarus-wide EPSG:4326 tile matrix set (OGC Two Dimensional Tile Matrix Set)."""
        return Response(grid(BELARUS_GRID).model_dump_json(exclude_none=True, by_alias=True),
                        content_type="application/json")

    @bp.get("/collections/<collection_id>/map")
    def collection_map(collection_id: str) -> Response:
        """The collection as a map picture."""
        layer = served(collection_id)
        media = _media_type()
        most = services.settings.map_max_size
        out = _epsg(request.args.get("crs", ""), "crs")
        box_crs = _epsg(request.args.get("bbox-crs", ""), "bbox-crs")
        if "bbox" in request.args:
            box = _east_north(_numbers(request.args["bbox"], "bbox", 4), box_crs)
            if box[0] >= box[2] or box[1] >= box[3]:
                raise InputError(tr("bbox {bbox}: the lower corner must come first "
                                    "(minx,miny,maxx,maxy)", bbox=repr(request.args["bbox"])))
        else:
            version = layer.current
            box = list(version.extent) if version and version.extent else [23.1, 51.2, 32.8,
                                                                            56.2]
            box_crs = 0
        box = _transformed(box, box_crs, out)
        width = _size("width", None, most)
        height = _size("height", None, most)
        ratio = (box[3] - box[1]) / max(box[2] - box[0], 1e-12)
        if out in (0, 4326, 4284):  # degrees: a map of lon/lat looks right at mid-latitude
            ratio /= max(math.cos(math.radians((box[1] + box[3]) / 2)), 0.1)
        if width is None and height is None:
            width = _DEFAULT_WIDTH
        if width is None:
            width = max(1, min(most, round(height / ratio))) if height else _DEFAULT_WIDTH
        if height is None:
            height = max(1, min(most, round(width * ratio)))
        bgcolor = request.args.get("bgcolor", "")
        if bgcolor and not _COLOUR.match(bgcolor):
            raise InputError(tr("bgcolor must be a colour like 0xRRGGBB"))
        colour = f"0x{_COLOUR.match(bgcolor).group(2)}" if bgcolor else ""  # type: ignore[union-attr]
        if out == 0:
            crs, engine_box = "CRS:84", box
        else:
            crs = f"EPSG:{out}"
            engine_box = [box[1], box[0], box[3], box[2]] if out in _NORTH_FIRST else box
        body = services.render([layer], crs, engine_box, width, height, media,
                               request_language(), base_url(),
                               transparent=_flag("transparent", True), bgcolor=colour)
        response = Response(body, content_type=media)
        response.headers["Content-Crs"] = f"<{CRS84 if out == 0 else SUPPORTED_CRS[_index(out)]}>"
        response.headers["Content-Bbox"] = ",".join(repr(v) for v in box)
        response.headers["Cache-Control"] = "public, max-age=5"
        return response

    def raster_tiles(layer: Layer, tms: str) -> bool:
        """Whether the coverages' own map tiles answer (a raster in WebMercatorQuad: the
        viewer's, drawn by rio-tiler with its ``rescale`` and ``colormap``)."""
        return layer.meta.kind == LayerKind.COVERAGE and tms == "WebMercatorQuad"

    @bp.get("/collections/<collection_id>/map/tiles")
    def map_tilesets(collection_id: str) -> Response:
        """The collection's tiled maps: one per grid."""
        layer = served(collection_id)
        base = base_url()
        url = f"{base}/collections/{collection_id}/map/tiles"
        return jsonify({"tilesets": [_tileset(layer, name, f"{url}/{name}", base, short=True)
                                     for name in GRIDS],
                        "links": [{"rel": "self", "type": "application/json", "href": url}]})

    @bp.get("/collections/<collection_id>/map/tiles/<tms>")
    def map_tileset(collection_id: str, tms: str) -> Response:
        """One tiled map of the collection."""
        layer = served(collection_id)
        grid(tms)
        if raster_tiles(layer, tms):
            return cast(Response, current_app.view_functions["coverages.map_tileset_metadata"](
                collection_id=collection_id, tms_id=tms))
        base = base_url()
        return jsonify(_tileset(layer, tms, f"{base}/collections/{collection_id}/map/tiles/{tms}",
                                base))

    @bp.get("/collections/<collection_id>/map/tiles/<tms>/<z>/<y>/<x>")
    def map_tile(collection_id: str, tms: str, z: str, y: str, x: str) -> Response:
        """One map tile of the collection."""
        layer = served(collection_id, light=True)
        grid(tms)
        if raster_tiles(layer, tms):
            return cast(Response, current_app.view_functions["coverages.map_tile"](
                collection_id=collection_id, tms_id=tms, z=z, y=y, x=x))
        tile = tile_of(tms, z, y, x)
        media = _media_type()
        return tile_answer(*services.tile(layer, tile, media, request_language(), base_url()),
                           media)


def tile_answer(body: bytes, etag: str, cached: bool, media: str) -> Response:
    """A map tile's response (WMTS, Maps): 304 for the ETag the client has; revalidated
    every time (the URL names no version), by language (labels)."""
    cache_status("hit" if cached else "miss")
    if request.if_none_match.contains(etag):
        response = Response(status=HTTPStatus.NOT_MODIFIED)
    else:
        response = Response(body, content_type=media)
    response.set_etag(etag)
    response.headers["Cache-Control"] = REVALIDATE
    response.vary.add("Accept-Language")
    return response


def _index(code: int) -> int:
    return next(i for i, uri in enumerate(SUPPORTED_CRS) if uri.endswith(f"/{code}"))


def _tileset(layer: Layer, tms: str, url: str, base: str, *, short: bool = False
             ) -> dict[str, Any]:
    """A tiled map's description (OGC API - Tiles' tileset, dataType map)."""
    version = layer.current
    matrix_set = grid(tms)
    entry: dict[str, Any] = {
        "title": pick(layer.meta.title, layer.id),
        "dataType": "map",
        "crs": str(matrix_set.crs.root if hasattr(matrix_set.crs, "root") else matrix_set.crs),
        "tileMatrixSetURI": f"{base}/tileMatrixSets/{tms}",
        "links": [
            {"rel": "self", "type": "application/json", "href": url},
            {"rel": "item", "type": "image/png", "templated": True,
             "href": f"{url}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}?f=png"},
            {"rel": "item", "type": "image/jpeg", "templated": True,
             "href": f"{url}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}?f=jpeg"},
        ],
    }
    if tms == "WebMercatorQuad":
        entry["tileMatrixSetURI"] = \
            "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    if not short:
        entry["tileMatrixSetLimits"] = [
            {"tileMatrix": str(x["z"]), "minTileRow": x["min_row"], "maxTileRow": x["max_row"],
             "minTileCol": x["min_col"], "maxTileCol": x["max_col"]}
            for x in limits(version.extent if version else None, tms)]
        entry["links"].append({"rel": "http://www.opengis.net/def/rel/ogc/1.0/geodata",
                               "type": "application/json",
                               "href": f"{base}/collections/{layer.id}"})
    return entry
