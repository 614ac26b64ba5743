"""Classic OGC services over the catalog, drawn by MapServer: WMS 1.3.0/1.1.1 at ``/wms`` and
WFS 2.0/1.1 at ``/wfs`` (read-only).

The package's parts: ``engine`` runs MapServer, ``mapfile`` and ``styles`` write what it reads
from the catalog, ``kvp`` reads OGC requests and writes exception reports, ``services``
decides what a request may ask and answers it.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import Blueprint, Response, request

from geoportal.catalog.registry import Registry
from geoportal.config import Settings
from geoportal.errors import BudgetExceeded, GeoportalError
from geoportal.i18n import tr
from geoportal.server.languages import request_language
from geoportal.server.live import LiveAPI
from geoportal.server.ows.engine import MapServer
from geoportal.server.ows.kvp import OgcError, Params, exception_response, language_param
from geoportal.server.ows.mapfile import MapfileWriter
from geoportal.server.ows.services import OwsServices, wfs_version, wms_version
from geoportal.storage import FeatureStore
from geoportal.storage.rasters import RasterStore

__all__ = ["ows_blueprint"]


def ows_blueprint(live: LiveAPI, store: FeatureStore, rasters: RasterStore,
                  registry: Registry, settings: Settings) -> Blueprint:
    """The ``/wms`` and ``/wfs`` routes."""
    bp = Blueprint("ows", __name__)
    workdir = settings.data_dir / "run" / "mapserver"
    engine = MapServer(workdir, timeout_s=settings.map_timeout_s, slots=settings.map_engines)
    services = OwsServices(live, store, rasters, registry, settings, engine,
                           MapfileWriter(workdir))

    def base_url() -> str:
        return (settings.base_url or request.url_root).rstrip("/")

    def answer(kind: str) -> Response:
        live.refresh()  # a layer published, replaced or removed a moment ago is seen now
        params = Params.parse(request.args.items(multi=True))
        language = language_param(params) or request_language()
        version = wms_version(params) if kind == "wms" else wfs_version(params)
        try:
            if request.method != "GET":
                raise OgcError(tr("send {service} requests with GET (key-value pairs)",
                                  service=kind.upper()), "OperationNotSupported", "request",
                               status=HTTPStatus.METHOD_NOT_ALLOWED)
            handle = services.wms if kind == "wms" else services.wfs
            return handle(params, base_url(), language)
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

    @bp.route("/wms", methods=["GET", "POST"])
    def wms() -> Response:
        """WMS 1.3.0 (and 1.1.1): capabilities, maps, feature info and legends."""
        return answer("wms")

    @bp.route("/wfs", methods=["GET", "POST"])
    def wfs() -> Response:
        """WFS 2.0 (and 1.1): capabilities, feature types and features; read-only."""
        return answer("wfs")

    return bp
