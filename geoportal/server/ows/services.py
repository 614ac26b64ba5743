"""WMS and WFS over the catalog: a request is checked here, then answered by MapServer.

Here the portal decides what the engine may see: only published layers (a name that is not
one is ``LayerNotDefined`` before any mapfile is written), maps of at most ``map_max_size``
pixels a side, feature pages of at most ``max_limit`` features, no SLD fetched from a URL
(``SLD_BODY`` is read), and only the engine parameters of the operation asked; the ``map``
parameter and MapServer's own CGI modes never reach it. Capabilities documents are kept per
catalog generation, language and address, so a catalog of thousands of layers is parsed
once per change, not per request.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any

from flask import Response

from geoportal.catalog import Layer
from geoportal.catalog.registry import Registry
from geoportal.config import Settings
from geoportal.errors import GeoportalError
from geoportal.i18n import tr
from geoportal.server.live import LiveAPI
from geoportal.server.ows import wmts
from geoportal.server.ows.capabilities import titled_groups, without_placeholder
from geoportal.server.ows.checks import check_bbox, check_count, check_resolution, check_size
from geoportal.server.ows.engine import Answer, EngineFailed, MapServer
from geoportal.server.ows.kvp import (
    OgcError,
    Params,
    PostedRequest,
    canonical_filter,
    client_sld,
)
from geoportal.server.ows.map_tiles import (
    MapTile,
    blank_tile,
    covers,
    cut,
    etag_of,
    tile_key,
    tile_window,
)
from geoportal.server.ows.mapfile import (
    PLACEHOLDER,
    MapfileWriter,
    Service,
    feature_info_template,
    layer_block,
    map_text,
    placeholder_block,
    raster_block,
    raster_info_template,
)
from geoportal.server.ows.styles import raster_classes, sld_body, vector_classes
from geoportal.server.pygeoapi_config import is_served
from geoportal.server.tiles import TileCache
from geoportal.states import LayerKind
from geoportal.storage import FeatureStore
from geoportal.storage.raster_tiles import drawn_as, stretch
from geoportal.storage.rasters import RasterStore

__all__ = ["WFS_VERSIONS", "WMS_VERSIONS", "Catalogued", "OwsServices"]

log = logging.getLogger("geoportal.server")

WMS_VERSIONS = ("1.3.0", "1.1.1")
WFS_VERSIONS = ("2.0.0", "1.1.0")
MAX_SLD_BYTES = 256 * 1024
_CAPABILITIES_KEPT = 32
_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
# MapServer's words for a store it could not read (not the request's fault)
_SERVER_SIDE = re.compile(rb"msPostGISLayerOpen|Database connection failed|msOGRFileOpen|"
                          rb"msDrawRasterLayerLow|Unable to access file|msSHPOpen|"
                          rb"Corrupted data|GDALOpen|relation \S+ does not exist")
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
# the HTML page MapServer prints for an error it has no exception report for
_ENGINE_PAGE = re.compile(rb"<TITLE>MapServer Message</TITLE>.*?<BODY[^>]*>(.*?)</BODY>",
                          re.IGNORECASE | re.DOTALL)

# What each operation passes to the engine (upper case); the rest of a request stays here.
_WMS_PASSED = {
    "getcapabilities": ("SERVICE", "VERSION", "REQUEST", "FORMAT", "UPDATESEQUENCE"),
    "getmap": ("SERVICE", "VERSION", "REQUEST", "LAYERS", "STYLES", "CRS", "SRS", "BBOX",
               "WIDTH", "HEIGHT", "FORMAT", "TRANSPARENT", "BGCOLOR", "EXCEPTIONS", "SLD_BODY",
               "SLD_VERSION", "DPI", "MAP_RESOLUTION", "FORMAT_OPTIONS"),
    "getfeatureinfo": ("SERVICE", "VERSION", "REQUEST", "LAYERS", "STYLES", "CRS", "SRS",
                       "BBOX", "WIDTH", "HEIGHT", "FORMAT", "QUERY_LAYERS", "INFO_FORMAT",
                       "FEATURE_COUNT", "I", "J", "X", "Y", "EXCEPTIONS", "SLD_BODY",
                       "SLD_VERSION"),
    "getlegendgraphic": ("SERVICE", "VERSION", "REQUEST", "LAYER", "STYLE", "FORMAT", "WIDTH",
                         "HEIGHT", "SCALE", "RULE", "SLD_BODY", "SLD_VERSION", "EXCEPTIONS",
                         "SLD"),
}
_WFS_PASSED = ("SERVICE", "VERSION", "REQUEST", "TYPENAMES", "TYPENAME", "COUNT", "MAXFEATURES",
               "STARTINDEX", "BBOX", "FILTER", "FILTER_LANGUAGE", "RESOURCEID", "FEATUREID",
               "SRSNAME", "OUTPUTFORMAT", "RESULTTYPE", "PROPERTYNAME", "SORTBY",
               "STOREDQUERY_ID", "ID", "VALUEREFERENCE", "NAMESPACES", "NAMESPACE",
               "ACCEPTVERSIONS", "ACCEPTFORMATS", "SECTIONS", "UPDATESEQUENCE", "EXCEPTIONS")
_WFS_OPERATIONS = ("getcapabilities", "describefeaturetype", "getfeature", "getpropertyvalue",
                   "liststoredqueries", "describestoredqueries")


class Catalogued:
    """A request's layers, as the catalog has them now."""

    def __init__(self, live: LiveAPI) -> None:
        self.live = live

    def layer(self, name: str, locator: str) -> Layer:
        """The published layer ``name`` (a WFS type name may carry a namespace prefix)."""
        plain = name.split(":", 1)[1] if ":" in name else name
        if not _NAME.match(name) or not self.live.knows(plain):
            raise OgcError(tr("no published layer is named {name}", name=repr(name[:80])),
                           "LayerNotDefined" if locator != "typenames" else
                           "InvalidParameterValue", locator)
        layer = self.live.layer(plain)
        if layer is None or not is_served(layer):
            raise OgcError(tr("no published layer is named {name}", name=repr(name[:80])),
                           "LayerNotDefined", locator)
        return layer

    def layers(self, names: str, locator: str, *, most: int = 50) -> list[Layer]:
        """The published layers of a comma-separated list, each once, in order."""
        wanted = [n.strip() for n in names.split(",") if n.strip()]
        if not wanted:
            raise OgcError(tr("the parameter {name} is missing", name=locator.upper()),
                           "MissingParameterValue", locator)
        if len(wanted) > most:
            raise OgcError(tr("at most {most} layers may be asked at once", most=most),
                           "InvalidParameterValue", locator)
        out: dict[str, Layer] = {}
        for name in wanted:
            layer = self.layer(name, locator)
            out.setdefault(layer.id, layer)
        return list(out.values())

    def listed(self, name: str, locator: str) -> Layer:
        """The published layer ``name`` as listed (no field list): enough to find a cached
        tile without reading the catalog."""
        layer = self.live.light(name) if _NAME.match(name) else None
        if layer is None or not is_served(layer):
            raise OgcError(tr("no published layer is named {name}", name=repr(name[:80])),
                           "LayerNotDefined", locator)
        return layer

    def every(self) -> list[Layer]:
        """Every published layer, by id."""
        return [layer for layer in self.live.listed() if is_served(layer)]


class OwsServices:
    """Answers ``/wms`` and ``/wfs`` requests through ``engine``."""

    def __init__(self, live: LiveAPI, store: FeatureStore, rasters: RasterStore,
                 registry: Registry, settings: Settings, engine: MapServer,
                 writer: MapfileWriter) -> None:
        self.live = live
        self.registry = registry
        self.store = store
        self.rasters = rasters
        self.settings = settings
        self.engine = engine
        self.writer = writer
        self.catalogued = Catalogued(live)
        self._capabilities: OrderedDict[tuple[Any, ...], Answer] = OrderedDict()
        self._lock = threading.Lock()
        self.tiles = TileCache(max_bytes=128 * 1024**2)  # per worker process
        self._placeholder = writer.write(
            "<!-- MapServer Template -->\n<p>[item name=\"fid\"]</p>\n", "html")

    # -- shared ------------------------------------------------------------------------------

    def service(self, base_url: str, language: str) -> Service:
        """What the request's mapfile shares."""
        return Service(base_url=base_url, language=language,
                       max_features=self.settings.max_limit,
                       max_size=self.settings.map_max_size,
                       fontset=self._fontset())

    def _fontset(self) -> Path | None:
        if not _FONT.exists():
            return None
        return self.writer.write(f"sans {_FONT}\n", "txt")

    def _blocks(self, layers: Sequence[Layer], service: Service, *, detail: bool
                ) -> tuple[list[str], dict[str, str]]:
        """The ``LAYER`` blocks of ``layers`` and the environment the engine needs to read
        them (a PostGIS password, object-store keys). Without ``detail`` (capabilities) no
        vector layer's data is opened, and of a raster only what its legend needs (its
        stretch: once per file and process)."""
        blocks = []
        env: dict[str, str] = {}
        for layer in layers:
            version = layer.current
            assert version is not None
            if layer.meta.kind == LayerKind.COVERAGE:
                location = self.rasters.location(version.store_ref)
                classes = self._raster_classes(layer, location, service.language,
                                               strict=detail)
                template = (self.writer.write(raster_info_template(layer, service.language),
                                              "html") if detail else self._placeholder)
                blocks.append(raster_block(layer, location.path, service, classes, template))
                env.update(location.options)
                continue
            source = self.store.render_source(version.store_ref)
            template = (self.writer.write(feature_info_template(layer, service.language), "html")
                        if detail else self._placeholder)
            blocks.append(layer_block(layer, source, service, template,
                                      vector_classes(layer, service.language)))
            if source.password:
                env["PGPASSWORD"] = source.password
        return blocks, env

    def _has_legend(self, layer: Layer) -> bool:
        """Whether GetLegendGraphic draws something for ``layer``: a vector layer's classes,
        a raster's ramp (not a palette or RGB raster, drawn as they are)."""
        if layer.meta.kind != LayerKind.COVERAGE:
            return True
        version = layer.current
        assert version is not None
        try:
            return drawn_as(self.rasters.location(version.store_ref)) == "ramp"
        except Exception as exc:  # unreadable now: the capabilities list it without a legend
            log.warning("raster %s: no legend: %s", layer.id, exc)
            return False

    def _raster_classes(self, layer: Layer, location: Any, language: str, *,
                        strict: bool = True) -> str:
        """A raster's classes, its legend's among them (the capabilities need those too:
        MapServer lists a legend only for named classes). Not ``strict`` (the capabilities),
        a raster that cannot be read now is listed without them."""
        try:
            if drawn_as(location) != "ramp":
                return ""
            return raster_classes(layer, stretch(location), language)
        except GeoportalError as exc:
            if strict:
                raise
            log.warning("raster %s: no legend: %s", layer.id, exc)
            return ""
        except Exception as exc:  # GDAL's many errors: the raster cannot be read now
            log.warning("raster %s: no colour ramp: %s", layer.id, exc)
            return ""

    def _mapfile(self, layers: Sequence[Layer], service: Service, *, detail: bool
                 ) -> tuple[Path, dict[str, str]]:
        blocks, env = self._blocks(layers, service, detail=detail)
        return self.writer.write(map_text(service, blocks), "map"), env

    def _answer(self, answer: Answer, *, max_age: int = 5) -> Response:
        status = answer.status
        if answer.is_exception and _SERVER_SIDE.search(answer.body[:4000]):
            # the engine could not read a store (a database away, a file gone): ours to
            # log, a 503 for the client, who did nothing wrong
            log.error("mapserv could not read a layer: %s",
                      answer.body[:1500].decode("utf-8", "replace"))
            raise EngineFailed(tr("a layer's data cannot be read just now; try again in a "
                                  "minute"), retry_after=30)
        failure = engine_page_error(answer, self._scrub)
        if failure is not None:
            raise failure
        if status >= 500:  # the engine's own failure: ours to log, a 503 for the client
            log.error("mapserv answered %s: %s", status,
                      answer.body[:500].decode("utf-8", "replace"))
            status = HTTPStatus.SERVICE_UNAVAILABLE
        response = Response(self._scrub(answer.body) if answer.is_exception else answer.body,
                            status=status, content_type=answer.content_type)
        if status == HTTPStatus.OK and not answer.is_exception:
            response.headers["Cache-Control"] = f"public, max-age={max_age}"
        else:
            response.headers["Cache-Control"] = "no-store"
        return response

    def _scrub(self, body: bytes) -> bytes:
        """An engine's exception report without the server's paths and connection details."""
        text = body.decode("utf-8", "replace")
        for secret in {str(self.settings.data_dir.resolve()), str(self.settings.data_dir),
                       str(self.engine.workdir)}:
            text = text.replace(secret, "…")
        text = re.sub(r"(host|dbname|user|port|password)=\S+", r"\1=…", text)
        return text.encode("utf-8")

    def _capabilities_answer(self, key: tuple[Any, ...], build: Callable[[], Answer]) -> Answer:
        with self._lock:
            found = self._capabilities.get(key)
            if found is not None:
                self._capabilities.move_to_end(key)
                return found
        answer = build()
        if answer.status == HTTPStatus.OK and not answer.is_exception:
            with self._lock:
                self._capabilities[key] = answer
                while len(self._capabilities) > _CAPABILITIES_KEPT:
                    self._capabilities.popitem(last=False)
        return answer

    # -- WMS ---------------------------------------------------------------------------------

    def wms(self, params: Params, base_url: str, language: str) -> Response:
        """A WMS 1.3.0 or 1.1.1 request."""
        operation = params.required("REQUEST").lower()
        version = wms_version(params)
        if operation not in _WMS_PASSED:
            raise OgcError(tr("the WMS has no operation {name}; it has GetCapabilities, GetMap, "
                              "GetFeatureInfo and GetLegendGraphic",
                              name=repr(params.get("REQUEST")[:40])),
                           "OperationNotSupported", "request")
        if params.get("SLD").strip():
            raise OgcError(tr("an SLD is not fetched from a URL; send it in SLD_BODY"),
                           "InvalidParameterValue", "sld")
        if len(params.get("SLD_BODY").encode("utf-8")) > MAX_SLD_BYTES:
            raise OgcError(tr("SLD_BODY is larger than {size} KB", size=MAX_SLD_BYTES // 1024),
                           "InvalidParameterValue", "sld_body")
        service = self.service(base_url, language)
        passed = [(k, client_sld(v) if k == "SLD_BODY" and v.strip() else v)
                  for k, v in params.replaced(SERVICE="WMS", VERSION=version)
                  if k in _WMS_PASSED[operation]]
        if operation == "getcapabilities":
            key = ("wms", version, language, base_url, self.live.generation)

            def build() -> Answer:
                mapfile, env = self._mapfile(self.catalogued.every(), service, detail=False)
                answer = self.engine.run(mapfile, passed, env=env)
                if answer.status != HTTPStatus.OK or answer.is_exception:
                    return answer
                return dataclasses.replace(answer, body=titled_groups(
                    answer.body, self.registry, language))

            return self._answer(self._capabilities_answer(key, build), max_age=60)
        if operation == "getlegendgraphic":
            layers = [self.catalogued.layer(params.required("LAYER"), "layer")]
        else:
            layers = self.catalogued.layers(params.required("LAYERS"), "layers")
            check_size(params, self.settings.map_max_size)
            check_resolution(params)
        if operation == "getfeatureinfo":
            queried = self.catalogued.layers(params.required("QUERY_LAYERS"), "query_layers")
            named = {layer.id for layer in layers}
            layers += [layer for layer in queried if layer.id not in named]
        if not params.get("SLD_BODY").strip() and not params.get("STYLES").strip(" ,") \
                and not params.get("STYLE").strip():
            sld = sld_body(layers)  # the manifests' SLD styles, when no other is asked
            if sld:
                passed.append(("SLD_BODY", sld))
                if not params.get("SLD_VERSION"):  # GetLegendGraphic asks for one
                    passed.append(("SLD_VERSION", "1.0.0"))
        mapfile, env = self._mapfile(layers, service, detail=True)
        return self._answer(self.engine.run(mapfile, passed, env=env))

    # -- maps and tiles (WMTS, OGC API - Maps) ---------------------------------------------

    def render(self, layers: Sequence[Layer], crs: str, bbox: Sequence[float], width: int,
               height: int, media_type: str, language: str, base_url: str, *,
               transparent: bool = True, bgcolor: str = "") -> bytes:
        """A map of ``layers`` (a WMS 1.3.0 GetMap: ``bbox`` in ``crs``'s axis order)."""
        params = [("SERVICE", "WMS"), ("VERSION", "1.3.0"), ("REQUEST", "GetMap"),
                  ("LAYERS", ",".join(layer.id for layer in layers)), ("STYLES", ""),
                  ("CRS", crs), ("BBOX", ",".join(repr(float(v)) for v in bbox)),
                  ("WIDTH", str(width)), ("HEIGHT", str(height)),
                  ("FORMAT", "image/png" if media_type == "image/png" else "image/jpeg"),
                  ("TRANSPARENT", "TRUE" if transparent else "FALSE")]
        if bgcolor:
            params.append(("BGCOLOR", bgcolor))
        sld = sld_body(layers)
        if sld:
            params.append(("SLD_BODY", sld))
        mapfile, env = self._mapfile(layers, self.service(base_url, language), detail=True)
        answer = self.engine.run(mapfile, params, env=env)
        self._answer(answer)  # an engine that cannot read a layer: its 503, logged
        if answer.is_exception or not answer.content_type.startswith("image/"):
            log.error("mapserv drew no image: %s", answer.body[:800].decode("utf-8", "replace"))
            raise EngineFailed(tr("the map engine failed to answer this request; try again, "
                                  "or ask for less"), retry_after=5)
        return answer.body

    def tile(self, layer: Layer, tile: MapTile, media_type: str, language: str,
             base_url: str) -> tuple[bytes, str, bool]:
        """A map tile of ``layer``, its ETag and whether it came from the cache."""
        key = tile_key(layer, tile, media_type, language)
        found = self.tiles.get(key)
        if found is not None:
            return found, etag_of(key), True
        version = layer.current
        if not covers(tile, version.extent if version else None):
            body = blank_tile(media_type)
        else:
            full = self.catalogued.layer(layer.id, "layer")  # its fields, for the mapfile
            crs, bbox, size = tile_window(tile)
            drawn = self.render([full], crs, bbox, size, size, "image/png", language, base_url)
            body = cut(drawn, media_type)
        self.tiles.put(key, body)
        return body, etag_of(key), False

    def wmts_capabilities(self, language: str, base_url: str) -> Response:
        """The WMTS capabilities, kept per catalog generation, language and address."""
        key = ("wmts", language, base_url, self.live.generation)

        def build() -> Answer:
            layers = self.catalogued.every()
            body = wmts.capabilities(layers, language, base_url,
                                     legends={layer.id for layer in layers
                                              if self._has_legend(layer)})
            return Answer(HTTPStatus.OK, "application/xml; charset=UTF-8", body)

        return self._answer(self._capabilities_answer(key, build), max_age=60)

    # -- WFS ---------------------------------------------------------------------------------

    def wfs(self, params: Params, base_url: str, language: str) -> Response:
        """A WFS 2.0.0 or 1.1.0 request (read-only)."""
        operation = params.required("REQUEST").lower()
        version = wfs_version(params)
        if operation not in _WFS_OPERATIONS:
            raise OgcError(tr("the WFS has no operation {name}; it is read-only: GetCapabilities, "
                              "DescribeFeatureType, GetFeature, GetPropertyValue and the stored "
                              "queries", name=repr(params.get("REQUEST")[:40])),
                           "OperationNotSupported", "request")
        service = self.service(base_url, language)
        values = {"SERVICE": "WFS", "VERSION": version}
        # OWSLib's WebFeatureService 2.0 sends a GET's filter as ``query=``: read it as one
        fes = params.get("FILTER").strip() or (
            params.get("QUERY").strip() if "Filter" in params.get("QUERY")[:200] else "")
        if fes:
            values["FILTER"] = canonical_filter(fes)
        passed = [(k, v) for k, v in params.replaced(**values) if k in _WFS_PASSED]
        if params.get("RESULTTYPE").lower() == "hits":  # a count: no format (and MapServer
            passed = [(k, v) for k, v in passed if k != "OUTPUTFORMAT"]  # 8.0 crashes on one)
        check_count(params, self.settings.max_limit)
        check_bbox(params)
        if operation in ("getcapabilities", "liststoredqueries", "describestoredqueries"):
            key = ("wfs", operation, version, language, base_url, self.live.generation,
                   tuple(passed))

            def build() -> Answer:
                layers = [layer for layer in self.catalogued.every()
                          if layer.meta.kind != LayerKind.COVERAGE]
                if not layers:
                    return self._no_feature_types(operation, service, passed)
                mapfile, env = self._mapfile(layers, service, detail=False)
                return self.engine.run(mapfile, passed, env=env)

            return self._answer(self._capabilities_answer(key, build), max_age=60)
        names = params.get("TYPENAMES") or params.get("TYPENAME")
        if names:
            layers = self.catalogued.layers(names, "typenames")
        elif operation == "describefeaturetype":
            layers = [layer for layer in self.catalogued.every()
                      if layer.meta.kind != LayerKind.COVERAGE]
            if not layers:
                self._no_feature_types(operation, service, passed)  # raises: nothing to describe
        else:
            layers = self._layers_of_ids(params)
        if any(layer.meta.kind == LayerKind.COVERAGE for layer in layers):
            raise OgcError(tr("a raster layer has no features; read it through OGC API - "
                              "Coverages"), "InvalidParameterValue", "typenames")
        mapfile, env = self._mapfile(layers, service, detail=True)
        return self._answer(self.engine.run(mapfile, passed, env=env))

    def _no_feature_types(self, operation: str, service: Service,
                          passed: Sequence[tuple[str, str]]) -> Answer:
        """The WFS of a catalog with no published vector layer: capabilities that list none
        (MapServer refuses a WFS without a layer, so a stand-in is written and then dropped),
        and a report saying so for the stored queries."""
        if operation != "getcapabilities":
            raise OgcError(tr("the portal publishes no vector layer yet; the WFS has none"),
                           "NoApplicableCode", "", HTTPStatus.NOT_FOUND)
        mapfile = self.writer.write(map_text(service, [placeholder_block()]), "map")
        answer = self.engine.run(mapfile, passed)
        if answer.status != HTTPStatus.OK or answer.is_exception:
            return answer
        return dataclasses.replace(answer, body=without_placeholder(answer.body, PLACEHOLDER))

    def wfs_posted(self, posted: PostedRequest, base_url: str, language: str) -> Response:
        """A WFS request POSTed as XML: the same rules as ``wfs``, the document for the
        engine."""
        operation = posted.operation
        if operation not in _WFS_OPERATIONS:
            raise OgcError(tr("the WFS has no operation {name}; it is read-only: GetCapabilities, "
                              "DescribeFeatureType, GetFeature, GetPropertyValue and the stored "
                              "queries", name=repr(operation[:40])),
                           "OperationNotSupported", "request")
        vector = [layer for layer in self.catalogued.every()
                  if layer.meta.kind != LayerKind.COVERAGE]
        if operation in ("getcapabilities", "liststoredqueries", "describestoredqueries") or \
                (operation == "describefeaturetype" and not posted.type_names):
            layers = vector
            if not layers:  # the capabilities of a WFS with nothing published yet, as a GET's
                service = self.service(base_url, language)
                return self._answer(self._no_feature_types(operation, service, [
                    ("SERVICE", "WFS"), ("VERSION", posted.version),
                    ("REQUEST", "GetCapabilities")]), max_age=60)
        elif posted.type_names:
            layers = self.catalogued.layers(",".join(posted.type_names), "typenames")
        else:
            raise OgcError(tr("the parameter {name} is missing", name="typeNames"),
                           "MissingParameterValue", "typenames")
        if any(layer.meta.kind == LayerKind.COVERAGE for layer in layers):
            raise OgcError(tr("a raster layer has no features; read it through OGC API - "
                              "Coverages"), "InvalidParameterValue", "typenames")
        service = self.service(base_url, language)
        mapfile, env = self._mapfile(layers, service, detail=operation != "getcapabilities")
        return self._answer(self.engine.run(mapfile, [], env=env, body=posted.body,
                                            content_type="text/xml"))

    def _layers_of_ids(self, params: Params) -> list[Layer]:
        """The layers of a GetFeature by ``RESOURCEID`` / stored query ``ID`` (``layer.fid``)."""
        ids = params.get("RESOURCEID") or params.get("FEATUREID") or params.get("ID")
        if not ids:
            raise OgcError(tr("the parameter {name} is missing", name="TYPENAMES"),
                           "MissingParameterValue", "typenames")
        names = ",".join(sorted({i.strip().rsplit(".", 1)[0] for i in ids.split(",")
                                 if i.strip()}))
        return self.catalogued.layers(names, "resourceid")


def wms_version(params: Params) -> str:
    """The WMS version to answer in: 1.1.1 for a 1.1.x or 1.0 client, else 1.3.0."""
    asked = (params.get("VERSION") or params.get("WMTVER")).strip()
    return "1.1.1" if asked.startswith(("1.1", "1.0")) else "1.3.0"


def wfs_version(params: Params) -> str:
    """The WFS version to answer in: 1.1.0 or 1.0.0 for old clients, else 2.0.0."""
    asked = params.get("VERSION").strip()
    if not asked:  # GetCapabilities may list the versions it accepts
        accepted = [v.strip() for v in params.get("ACCEPTVERSIONS").split(",") if v.strip()]
        asked = accepted[0] if accepted else "2.0.0"
    if asked.startswith("1.1"):
        return "1.1.0"
    if asked.startswith("1.0"):
        return "1.0.0"
    return "2.0.0"


def engine_page_error(answer: Answer, scrub: Callable[[bytes], bytes]
                      ) -> OgcError | EngineFailed | None:
    """The error to answer instead of the HTML page MapServer prints for a failure it has no
    exception report for (a 400 in the service's report; a 503, logged, when a store could
    not be read); None for any other answer. ``scrub`` takes the server's paths out."""
    if "html" not in answer.content_type:
        return None
    page = _ENGINE_PAGE.search(answer.body[:4000])
    if page is None:
        return None
    text = scrub(re.sub(rb"<!--.*?-->|<[^>]+>", b" ", page.group(1), flags=re.DOTALL))
    reason = " ".join(text.decode("utf-8", "replace").split())[:300]
    if _SERVER_SIDE.search(answer.body[:4000]):
        log.error("mapserv could not read a layer: %s", reason)
        return EngineFailed(tr("a layer's data cannot be read just now; try again in a "
                               "minute"), retry_after=30)
    return OgcError(tr("the map engine refused the request: {reason}", reason=reason),
                    "InvalidParameterValue", "")
