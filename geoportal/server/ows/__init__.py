"""Classic OGC services over the catalog, drawn by MapServer: WMS 1.3.0/1.1.1 at ``/wms``,
WFS 2.0/1.1 at ``/wfs`` (read-only), WMTS 1.0 at ``/wmts`` (KVP and RESTful) and OGC API -
Maps at ``/collections/{id}/map`` (with its tiles).

The package's parts: ``engine`` runs MapServer, ``mapfile`` and ``styles`` write what it reads
from the catalog, ``kvp`` reads OGC requests and writes exception reports, ``services``
decides what a request may ask and answers it, ``map_tiles`` and ``wmts`` cut and describe
tiles, ``maps`` answers OGC API - Maps.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from flask import Blueprint, Response, request

from geoportal.catalog.registry import Registry
from geoportal.config import Settings
from geoportal.errors import BudgetExceeded, GeoportalError
from geoportal.i18n import tr
from geoportal.server.languages import request_language
from geoportal.server.live import LiveAPI
from geoportal.server.ows import maps, wmts
from geoportal.server.ows.engine import MapServer
from geoportal.server.ows.kvp import (
    MAX_XML_BYTES,
    OgcError,
    Params,
    exception_response,
    language_param,
    posted_request,
)
from geoportal.server.ows.map_tiles import FORMATS, tile_of
from geoportal.server.ows.mapfile import MapfileWriter
from geoportal.server.ows.services import OwsServices, wfs_version, wms_version
from geoportal.storage import FeatureStore
from geoportal.storage.rasters import RasterStore

__all__ = ["ows_blueprint"]


def ows_blueprint(live: LiveAPI, store: FeatureStore, rasters: RasterStore,
                  registry: Registry, settings: Settings) -> Blueprint:
    """The ``/wms``, ``/wfs``, ``/wmts`` and ``/collections/{id}/map`` routes."""
    bp = Blueprint("ows", __name__)
    workdir = settings.data_dir / "run" / "mapserver"
    engine = MapServer(workdir, timeout_s=settings.map_timeout_s, slots=settings.map_engines,
                       persistent=settings.map_fastcgi)
    services = OwsServices(live, store, rasters, registry, settings, engine,
                           MapfileWriter(workdir))

    def base_url() -> str:
        return (settings.base_url or request.url_root).rstrip("/")

    def answer(kind: str, handle: Callable[[Params, str], Response]) -> Response:
        live.refresh()  # a layer published, replaced or removed a moment ago is seen now
        form = request.method == "POST" and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data")
        pairs = list(request.args.items(multi=True))
        if form:  # key-value pairs in the body, as WMS and WFS allow
            pairs += list(request.form.items(multi=True))
        params = Params.parse(pairs)
        language = language_param(params) or request_language()
        version = {"wms": wms_version, "wfs": wfs_version}.get(kind, lambda _: "1.0.0")(params)
        try:
            if request.method == "POST" and not form:
                if kind != "wfs":
                    raise OgcError(tr("send {service} requests with GET or as a form "
                                      "(key-value pairs)", service=kind.upper()),
                                   "OperationNotSupported", "request",
                                   status=HTTPStatus.METHOD_NOT_ALLOWED)
                posted = posted_request(request.get_data(cache=False)[:MAX_XML_BYTES + 1])
                version = posted.version
                return services.wfs_posted(posted, base_url(), language)
            return handle(params, language)
        except OgcError as exc:
            return exception_response(kind, version, exc.code, exc.user_message(language),
                                      exc.locator, exc.status, language)
        except GeoportalError as exc:
            response = exception_response(kind, version, exc.ogc_code,
                                          exc.user_message(language), "",
                                          exc.http_status, language)
            if isinstance(exc, BudgetExceeded):
                response.headers["Retry-After"] = str(getattr(exc, "retry_after", 5))
            return response

    def tile_response(layer_name: str, media: str, tile_args: tuple[str, str, str, str],
                      language: str) -> Response:
        layer = services.catalogued.listed(layer_name, "layer")  # no catalog read
        tile = tile_of(*tile_args)
        return maps.tile_answer(*services.tile(layer, tile, media, language, base_url()),
                                media)

    def wmts_kvp(params: Params, language: str) -> Response:
        operation = params.required("REQUEST").lower()
        if operation == "getcapabilities":
            return services.wmts_capabilities(language, base_url())
        if operation != "gettile":
            raise OgcError(tr("the WMTS has no operation {name}; it has GetCapabilities and "
                              "GetTile", name=repr(params.get("REQUEST")[:40])),
                           "OperationNotSupported", "request")
        layer, media, _ = wmts.get_tile(params)
        return tile_response(layer, media, (params.get("TILEMATRIXSET"),
                                            params.get("TILEMATRIX"), params.get("TILEROW"),
                                            params.get("TILECOL")), language)

    @bp.route("/wms", methods=["GET", "POST"])
    def wms() -> Response:
        """WMS 1.3.0 (and 1.1.1): capabilities, maps, feature info and legends."""
        return answer("wms", lambda params, lang: services.wms(params, base_url(), lang))

    @bp.route("/wfs", methods=["GET", "POST"])
    def wfs() -> Response:
        """WFS 2.0 (and 1.1): capabilities, feature types and features; read-only."""
        return answer("wfs", lambda params, lang: services.wfs(params, base_url(), lang))

    @bp.route("/wmts", methods=["GET", "POST"])
    def wmts_service() -> Response:
        """WMTS 1.0 in key-value pairs: capabilities and tiles."""
        return answer("wmts", wmts_kvp)

    @bp.get("/wmts/1.0.0/WMTSCapabilities.xml")
    def wmts_capabilities() -> Response:
        """WMTS 1.0's RESTful capabilities."""
        return answer("wmts", lambda _, lang: services.wmts_capabilities(lang, base_url()))

    @bp.get("/wmts/1.0.0/<layer>/<style>/<tms>/<z>/<y>/<x>.<ext>")
    def wmts_tile(layer: str, style: str, tms: str, z: str, y: str, x: str,
                  ext: str) -> Response:
        """WMTS 1.0's RESTful tiles."""
        def handle(params: Params, language: str) -> Response:
            params = Params.parse([("LAYER", layer), ("STYLE", style),
                                   ("FORMAT", FORMATS.get(ext.lower(), ext)),
                                   ("TILEMATRIXSET", tms), ("TILEMATRIX", z), ("TILEROW", y),
                                   ("TILECOL", x)])
            name, media, _ = wmts.get_tile(params)
            return tile_response(name, media, (tms, z, y, x), language)

        return answer("wmts", handle)

    maps.routes(bp, live, services, base_url)
    return bp
