"""OGC API - Coverages for raster layers, and their PNG map tiles (OGC API - Tiles, map).

``/collections/{id}/coverage``: the raster or a part of it, as GeoTIFF (the default) or
CoverageJSON, with ``subset``, ``bbox``, ``scale-size``/``scale-factor``/``scale-axes``,
``properties`` (bands) and ``crs`` (see ``coverage_params``). ``Content-Bbox`` and
``Content-Crs`` say what came back. ``/collections/{id}/map/tiles/WebMercatorQuad/{z}/{y}/{x}``
draws the raster for web maps (``rescale``, ``colormap``); ``?f=tilejson`` on the tileset
gives MapLibre a raster source.
"""

from __future__ import annotations

import hashlib
import json
import math
from http import HTTPStatus
from typing import Any

import numpy as np
from flask import Blueprint, Response, request, send_file
from werkzeug.datastructures import ContentRange

from geoportal.catalog import Layer
from geoportal.errors import InputError, NotFound
from geoportal.i18n import tr
from geoportal.providers.coverage import domain_set, range_fields, range_type
from geoportal.server.caching import (
    REVALIDATE,
    not_modified,
    stale_version,
    tile_cache_control,
    validators,
    versioned,
)
from geoportal.server.coverage_params import axis_labels, crs_uri, parse_query
from geoportal.server.languages import pick, request_language
from geoportal.server.limits import LOW_ZOOM
from geoportal.server.live import LiveAPI
from geoportal.server.pygeoapi_config import GEOTIFF, SUPPORTED_CRS
from geoportal.server.tiles import (
    TMS_ID,
    TMS_URI,
    TileCache,
    check_tms,
    heavy_if,
    json_response,
    plain_attribution,
    tile_address,
    tile_limits,
    tileset_links,
    tileset_list,
)
from geoportal.storage.raster_read import Grid, RasterSource, band_names
from geoportal.storage.raster_tiles import Style, legend, render_tile
from geoportal.storage.rasters import RasterStore

__all__ = ["CONFORMANCE", "cog_download", "coverages_blueprint", "covjson"]

COVJSON = "application/prs.coverage+json"
PNG = "image/png"
MAX_COVJSON_CELLS = 1_000_000  # JSON of more values is slower to use than the GeoTIFF
_COV = "http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/{}"
# What the coverage routes do, in place of pygeoapi's own list (its coverage route, not mounted
# here, claims an HTML encoding and datetime subsetting we lack): assigned by ``seams``.
CONFORMANCE = [_COV.format(c) for c in (
    "core", "subsetting", "bbox", "scaling", "fieldselection", "crs", "geotiff",
    "coveragejson", "oas30",
    # the same classes under the names of earlier drafts, which pygeoapi clients know
    "geodata-coverage", "coverage-subset", "coverage-rangesubset", "coverage-bbox")] + [
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/png"]
_FORMATS = {"gtiff": GEOTIFF, "geotiff": GEOTIFF, "tif": GEOTIFF, "tiff": GEOTIFF,
            "json": COVJSON, "covjson": COVJSON, "coveragejson": COVJSON}
_MAP_TILES = {"en": "map tiles", "ru": "картографические тайлы", "be": "картаграфічныя тайлы"}


def _coverage_layer(live: LiveAPI, collection_id: str, *, light: bool = False) -> Layer:
    """The raster layer ``collection_id`` in full, or (``light``) as listed: enough for a
    map tile's cache key and its COG, read without the database (``LiveAPI.light``)."""
    layer = live.light(collection_id) if light else live.layer(collection_id)
    if layer is None or layer.current is None:
        raise NotFound(tr("collection {id} not found", id=repr(collection_id)))
    if layer.meta.kind != "coverage":
        raise NotFound(tr("collection {id} holds features, not a coverage: use "
                          "/collections/{name}/items", id=repr(collection_id),
                          name=collection_id))
    return layer


def _raster_info(layer: Layer) -> dict[str, Any]:
    assert layer.current is not None
    grid = layer.current.typed_report.raster
    return grid.to_dict() if grid is not None else {}


def _format(args: dict[str, str], accept: str) -> str:
    given = args.get("f")
    if given:
        found = _FORMATS.get(given.lower())
        if found is None:
            raise InputError(tr("f={f} is not offered for a coverage; use GTiff (GeoTIFF) or "
                                "json (CoverageJSON)", f=repr(given)))
        return found
    if COVJSON in accept or "application/vnd.cov+json" in accept:
        return COVJSON
    return GEOTIFF


def covjson(grid: Grid, data: np.ma.MaskedArray, names: list[str],
            fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A CoverageJSON Grid coverage of ``data`` (bands, rows, columns): cell centres as axis
    values, north first, missing pixels as null."""
    left, bottom, right, top = grid.bounds
    dx = (right - left) / grid.width
    dy = (top - bottom) / grid.height
    geographic = grid.crs.is_geographic
    system = ({"type": "GeographicCRS", "id": crs_uri(grid.crs.to_string())} if geographic
              else {"type": "ProjectedCRS", "id": crs_uri(grid.crs.to_string())})
    parameters, ranges = {}, {}
    for i, name in enumerate(names):
        field = fields.get(name, {})
        parameters[name] = {"type": "Parameter", "description": {"en": field.get("title", name)},
                            "observedProperty": {"label": {"en": field.get("title", name)}}}
        band = data[i]
        values = band.astype("float64").filled(np.nan).ravel().tolist()
        integer = field.get("type") == "integer"
        ranges[name] = {
            "type": "NdArray", "dataType": "integer" if integer else "float",
            "axisNames": ["y", "x"], "shape": [grid.height, grid.width],
            "values": [None if math.isnan(v) else (int(v) if integer else v) for v in values],
        }
    return {
        "type": "Coverage",
        "domain": {
            "type": "Domain", "domainType": "Grid",
            "axes": {"x": {"start": left + dx / 2, "stop": right - dx / 2, "num": grid.width},
                     "y": {"start": top - dy / 2, "stop": bottom + dy / 2, "num": grid.height}},
            "referencing": [{"coordinates": ["x", "y"], "system": system}],
        },
        "parameters": parameters,
        "ranges": ranges,
    }


def _style(args: dict[str, str]) -> Style:
    rescale = None
    if args.get("rescale"):
        parts = args["rescale"].split(",")
        try:
            low, high = (float(v) for v in parts)
        except ValueError:
            raise InputError(tr("rescale={value}: two numbers, low,high",
                                value=repr(args["rescale"]))) from None
        if not (math.isfinite(low) and math.isfinite(high) and high > low):
            raise InputError(tr("rescale={value}: low must be below high",
                                value=repr(args["rescale"])))
        rescale = (low, high)
    return Style(rescale=rescale, colormap=args.get("colormap") or Style.colormap)


def coverages_blueprint(live: LiveAPI, rasters: RasterStore,
                        cache: TileCache | None = None) -> Blueprint:
    """The coverage and map-tile routes; ``cache`` keeps drawn map tiles (by version and
    style), as the vector tiles are kept."""
    cache = cache or TileCache(32 * 1024**2)
    bp = Blueprint("coverages", __name__)

    def base() -> str:
        return (live.settings.base_url or "").rstrip("/")  # set by Settings' validation

    def source(layer: Layer) -> RasterSource:
        assert layer.current is not None
        return RasterSource(rasters.location(layer.current.store_ref), layer.id)

    @bp.get("/collections/<collection_id>/coverage")
    def coverage(collection_id: str) -> Response:
        layer = _coverage_layer(live, collection_id)
        media = _format(request.args, request.headers.get("Accept", ""))
        found = validators(request, live.layers, live.generation, collection_id)
        if found is not None and (early := not_modified(request, found)) is not None:
            return early
        info = _raster_info(layer)
        names = band_names(int(info.get("count") or 1))
        query = parse_query(request.args, request.args.getlist("subset"),
                            native=info.get("crs") or "EPSG:4326", band_names=names,
                            supported=SUPPORTED_CRS)
        raster = source(layer)
        grid = raster.grid(bounds=query.bounds, bounds_crs=query.bounds_crs, crs=query.crs,
                           size=query.size, factor=query.factor, bands=query.bands,
                           exact=query.exact)
        chosen = [names[b - 1] for b in grid.bands]
        if media == COVJSON:
            if grid.cells > MAX_COVJSON_CELLS:
                raise InputError(tr(
                    "CoverageJSON is served up to {limit:,} values and this answer has "
                    "{cells:,}: ask for GeoTIFF (f=GTiff), a smaller subset, or scale it down "
                    "(scale-size, scale-factor)", limit=MAX_COVJSON_CELLS, cells=grid.cells))
            data, _ = raster.read(grid)
            body = json.dumps(covjson(grid, data, chosen, range_fields(info)),
                              allow_nan=False)
            response = Response(body, mimetype=COVJSON)
        else:
            response = Response(raster.geotiff(grid), mimetype="image/tiff")
            response.headers["Content-Type"] = GEOTIFF
            response.headers["Content-Disposition"] = \
                f'inline; filename="{collection_id}.tif"'
        response.headers["Content-Crs"] = f"<{crs_uri(grid.crs.to_string())}>"
        response.headers["Content-Bbox"] = ",".join(f"{v:.10g}" for v in grid.bounds)
        response.headers["X-Coverage-Size"] = f"{grid.width}x{grid.height}"
        response.vary.add("Accept")  # f absent: the format follows Accept
        return found.apply(response) if found is not None else response

    @bp.get("/collections/<collection_id>/coverage/domainset")
    def domainset(collection_id: str) -> Response:
        layer = _coverage_layer(live, collection_id)
        info = _raster_info(layer)
        crs = info.get("crs") or "EPSG:4326"
        return json_response(domain_set(info, list(axis_labels(crs)), crs_uri(crs)))

    @bp.get("/collections/<collection_id>/coverage/rangetype")
    def rangetype(collection_id: str) -> Response:
        return json_response(range_type(_raster_info(_coverage_layer(live, collection_id))))

    def map_tileset(layer: Layer) -> dict[str, Any]:
        assert layer.current is not None
        url = f"{base()}/collections/{layer.id}/map/tiles/{TMS_ID}"
        title = pick(layer.meta.title, layer.id)
        return {
            "title": f"{title}: {_MAP_TILES[request_language()]}", "dataType": "map",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
            "tileMatrixSetURI": TMS_URI,
            "tileMatrixSetLimits": tile_limits(layer.current.extent, 14),
            "links": tileset_links(base(), layer.id, url, PNG, layer),
        }

    @bp.get("/collections/<collection_id>/map/tiles")
    def map_tilesets(collection_id: str) -> Response:
        layer = _coverage_layer(live, collection_id)
        return json_response(tileset_list(map_tileset(layer),
                                          f"{base()}/collections/{collection_id}/map/tiles"))

    @bp.get("/collections/<collection_id>/map/tiles/<tms_id>")
    def map_tileset_metadata(collection_id: str, tms_id: str) -> Response:
        layer = _coverage_layer(live, collection_id)
        check_tms(tms_id)
        style = _style(request.args)
        raster_path = rasters.location(layer.current.store_ref)  # type: ignore[union-attr]
        if request.args.get("f") == "tilejson":
            extent = layer.current.extent or (23.18, 51.26, 32.78, 56.17)  # type: ignore
            query = "&".join(f"{k}={request.args[k]}" for k in ("rescale", "colormap")
                             if request.args.get(k))
            url = f"{base()}/collections/{layer.id}/map/tiles/{TMS_ID}/{{z}}/{{y}}/{{x}}"
            return json_response({
                "tilejson": "3.0.0", "name": pick(layer.meta.title, layer.id),
                "attribution": plain_attribution(layer.meta.attribution), "scheme": "xyz",
                "tiles": [versioned(f"{url}?{query}" if query else url, layer)],
                "minzoom": 0, "maxzoom": 14,
                "bounds": list(extent), "legend": legend(raster_path, style),
            })
        return json_response({**map_tileset(layer), "legend": legend(raster_path, style)})

    @bp.get("/collections/<collection_id>/map/tiles/<tms_id>/<z>/<y>/<x>")
    def map_tile(collection_id: str, tms_id: str, z: str, y: str, x: str) -> Response:
        # the light layer names the version and its COG: a cached tile needs no database
        layer = _coverage_layer(live, collection_id, light=True)
        check_tms(tms_id)
        address = tile_address(z, y, x)
        moved = stale_version(request, layer)  # an older version's URL: to the current one
        if moved is not None:
            return moved
        zoom, row, col = address.z, address.y, address.x
        style = _style(request.args)
        assert layer.current is not None
        key = (layer.current.store_ref, zoom, row, col, style)
        etag = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
        if request.if_none_match.contains(etag):
            response = Response(status=HTTPStatus.NOT_MODIFIED)
        else:
            body = cache.get(key)
            if body is None:
                with heavy_if(zoom <= LOW_ZOOM, "map tile"):
                    body = render_tile(rasters.location(layer.current.store_ref), zoom, col,
                                       row, style) or b""
                cache.put(key, body)
            response = Response(body, mimetype=PNG,
                                status=HTTPStatus.OK if body else HTTPStatus.NO_CONTENT)
        response.set_etag(etag)
        response.headers["Cache-Control"] = tile_cache_control(request, layer)
        return response

    return bp



def cog_download(layer: Layer, rasters: RasterStore) -> Response:
    """The whole COG of a raster layer's current version, as a file (ranged reads work):
    sent from the folder store's file, or streamed from the object store (see
    ``_object_download``)."""
    assert layer.current is not None
    if rasters.root is not None:
        response = send_file(rasters.path(layer.current.store_ref), mimetype=GEOTIFF,
                             as_attachment=True, download_name=f"{layer.id}.tif",
                             conditional=True, etag=True)
    else:
        response = _object_download(layer, rasters)
    # the download URL names no version: revalidated every time (ETag), as every other
    # unversioned answer, so a rollback is never hidden behind a cached copy (caching.py)
    response.headers["Cache-Control"] = REVALIDATE
    response.headers.pop("Expires", None)
    return response


def _object_download(layer: Layer, rasters: RasterStore) -> Response:
    """The COG streamed from the object store with the same HTTP as ``send_file``: the
    store's ETag and time, ``If-None-Match`` / ``If-Modified-Since`` -> 304, one ``Range``
    -> 206 from a ranged GET of just those bytes (``If-Range`` honoured), an impossible
    range -> 416; several ranges get the whole file (allowed, and rare for a COG)."""
    assert layer.current is not None
    key = rasters.key(layer.current.store_ref)
    info = rasters.objects.info(key)
    etag = (info.etag or f"{info.size:x}-{info.modified.timestamp():.0f}")
    etag = etag.removeprefix("W/").strip('"')
    response = Response(mimetype=GEOTIFF)
    response.set_etag(etag)
    response.last_modified = info.modified
    response.accept_ranges = "bytes"
    response.headers["Content-Disposition"] = f'attachment; filename="{layer.id}.tif"'
    fresh = (request.if_none_match.contains_weak(etag) if request.if_none_match
             else request.if_modified_since is not None
             and info.modified.replace(microsecond=0) <= request.if_modified_since)
    if fresh:
        response.status_code = HTTPStatus.NOT_MODIFIED
        return response
    start, end = 0, info.size
    wanted = request.range
    if_range = request.if_range
    unchanged = ((if_range.etag is None and if_range.date is None)  # no If-Range
                 or if_range.etag == etag
                 or (if_range.date is not None
                     and if_range.date >= info.modified.replace(microsecond=0)))
    if wanted is not None and len(wanted.ranges) == 1 and unchanged:
        found = wanted.range_for_length(info.size)
        if found is None:
            response.status_code = HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE
            response.headers["Content-Range"] = f"bytes */{info.size}"
            return response
        start, end = found
        response.status_code = HTTPStatus.PARTIAL_CONTENT
        response.content_range = ContentRange("bytes", start, end, info.size)
    response.content_length = end - start
    if request.method != "HEAD" and end > start:
        response.response = rasters.objects.read(key, start, end)
        response.direct_passthrough = True
    return response
