"""``create_app(settings)``: the Flask application factory.

Routes are one-liners that hand the request to pygeoapi's framework-free API functions; the
catalog decides which collections exist (see ``live.py``).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from flask import (
    Flask,
    Request,
    Response,
    g,
    request,
    stream_with_context,
)
from pygeoapi import api as core_api
from pygeoapi.api import APIRequest
from pygeoapi.api import itemtypes as items_api
from werkzeug.exceptions import HTTPException

from geoportal.admin.audit import AuditLog
from geoportal.admin.boundaries import RegionBoundaries
from geoportal.admin.edits import Editor
from geoportal.admin.jobs import JobQueue, JobRunner
from geoportal.admin.tokens import TokenStore
from geoportal.catalog import Catalog, Layer, load_registry
from geoportal.cleanup import clean_up_at_start, upload_dir
from geoportal.config import Settings, load_settings
from geoportal.errors import (
    BudgetExceeded,
    DatabaseUnavailable,
    GeoportalError,
    NotFound,
    StorageError,
    Unauthorized,
)
from geoportal.i18n import tr, translate
from geoportal.providers.features import ESTIMATE_HEADER
from geoportal.providers.records import RecordSource, register_records
from geoportal.server import languages, limits, metrics, seams, static_files
from geoportal.server.access_log import access_line
from geoportal.server.admin_api import Admin, admin_blueprint
from geoportal.server.caching import not_modified, validators
from geoportal.server.collections import describe_collections
from geoportal.server.coverages import cog_download, coverages_blueprint
from geoportal.server.downloads import prepare_download, sent
from geoportal.server.filters import filter_problem
from geoportal.server.health import health_blueprint
from geoportal.server.live import LiveAPI
from geoportal.server.openapi import openapi_
from geoportal.server.ows import ows_blueprint
from geoportal.server.portal import portal_blueprint, render_page, wants_page
from geoportal.server.pygeoapi_config import CRS84, PYGEOAPI_LANGUAGES, SUPPORTED_CRS
from geoportal.server.search import search_blueprint
from geoportal.server.security import cors_preflight, secure
from geoportal.server.tiles import TileCache, tiles_blueprint
from geoportal.server.transactions import transactions_blueprint
from geoportal.storage import dbhealth, open_store, register_store
from geoportal.storage.base import feature_etag
from geoportal.storage.objects import ObjectStoreUnavailable, open_object_store
from geoportal.storage.objects import refused as objects_refused
from geoportal.storage.pgsession import (
    allow_replica_reads,
    bind_request_id,
    end_replica_reads,
    replica_reads,
    slow_statements,
    unbind_request_id,
)
from geoportal.storage.rasters import RasterStore

__all__ = ["create_app"]

log = logging.getLogger("geoportal.server")
GEOJSON = "application/geo+json"


def with_field_titles(response: Response, layer: Layer | None) -> Response:
    """Queryables (JSON) with the fields' original names as titles: pygeoapi repeats the
    name, ours is ASCII (``voblasc``) and the title tells what it is (``Вобласьць``). Asked
    in a language (``?lang=``, Accept-Language), the manifest's title in it (issue 19).

    Also a ``queryables`` list of ``{"id": name}``, the draft form GDAL's OAPIF driver (3.6 to
    3.12) reads to decide which fields it may put in a CQL2 filter; without it, GDAL filters a
    ``where`` on its side after downloading the whole layer. A JSON Schema ignores the extra
    member."""
    if (layer is None or layer.current is None or response.status_code != 200
            or not (response.mimetype or "").endswith("json")):
        return response
    body = json.loads(response.get_data())
    # in the language asked for (issue 19: ``?lang=`` or Accept-Language): the manifest's
    # title in it, else be, ru, en, else the original; a client that asks none (GDAL, QGIS)
    # keeps the original names as before
    choice = languages.request_choice()
    if choice.source == "default":
        titles = {f.name: f.title for f in layer.current.fields if f.title}
    else:
        titles = {f.name: f.title_in(choice.language) for f in layer.current.fields}
    for name, schema in body.get("properties", {}).items():
        if name in titles:
            schema["title"] = titles[name]
    body["queryables"] = [
        {"id": name, "title": schema.get("title", name), "type": schema.get("type")}
        for name, schema in body.get("properties", {}).items()
        if schema.get("format") not in ("geometry-any",) and name != "geometry"
    ]
    response.set_data(json.dumps(body, ensure_ascii=False))
    return response


_COMPRESSIBLE = ("json", "html", "xml", "csv", "javascript", "css")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def compress(req: Request, response: Response, minimum: int = 16 * 1024) -> None:
    """gzip a large buffered text answer when the client accepts it (``/collections`` of
    5,000 layers: 15.7 MiB -> 0.4 MiB); streamed downloads and small answers go as they are."""
    if (response.status_code != 200 or response.is_streamed or response.direct_passthrough
            or "Content-Encoding" in response.headers
            or "gzip" not in req.headers.get("Accept-Encoding", "")
            or not any(k in (response.mimetype or "") for k in _COMPRESSIBLE)):
        return
    data = response.get_data()
    if len(data) < minimum:
        return
    response.set_data(gzip.compress(data, compresslevel=5))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")


def _ogc_error(status: int, code: str, description: str) -> Response:
    """An OGC exception document, its description in the request's language."""
    description = translate(description, languages.request_language())
    body = json.dumps({"code": code, "type": code, "description": description},
                      ensure_ascii=False)
    return Response(body, status=status, mimetype="application/json")


def _cleans_up_at_start(settings: Settings, catalog: Catalog) -> bool:
    """Whether this server removes a crash's leftovers at start-up: not a web node of a
    worker tier (the workers do it), and not on a read-only database (a replica or a primary
    in maintenance: the server starts and serves reads all the same)."""
    if settings.worker_tier:
        log.info("start-up clean-up left to the workers (GEOPORTAL_WORKER_TIER)")
        return False
    try:
        writable = catalog.writable()
    except StorageError as exc:
        log.warning("start-up clean-up skipped: %s", exc)
        return False
    if not writable:
        log.info("start-up clean-up skipped: the database is read-only")
    return writable


def create_app(settings: Settings | None = None) -> Flask:
    """Build the portal's WSGI app: the catalog, the live pygeoapi API and the routes."""
    settings = settings or load_settings()
    # pygeoapi logs every 4xx as an error; we log each request, and every 5xx once with its
    # traceback: ours in _portal_error/_unexpected, pygeoapi's in languages.log_server_error
    logging.getLogger("pygeoapi").setLevel(logging.CRITICAL)
    # every replacement of a pygeoapi attribute, checked against pygeoapi's version, in order
    seams.install(PYGEOAPI_LANGUAGES[0])
    catalog = Catalog.from_settings(settings)
    registry = load_registry(settings.config_dir)
    # the start-up reads of what is served go to the replica when one is set: a node starts
    # while the primary is away (not the clean-up's: a lagging replica must not decide it)
    serving_reads = catalog.read_engine is not None
    if catalog.embedded:
        catalog.init(registry)  # SQLite: nobody else can create it
    else:
        try:
            with replica_reads(serving_reads):
                catalog.check_schema()  # no writes at start-up: `geoportal init` creates
        except DatabaseUnavailable as exc:  # booting during an outage: serve 503 until back
            log.warning("catalog schema not checked at start: %s", exc)
    store = open_store(settings)
    # COGs and uploads: GEOPORTAL_OBJECT_STORE (S3), or folders under data_dir (issue 17, A)
    objects = open_object_store(settings)
    rasters = RasterStore(objects)
    # what a crash left (staged files and tables, upload folders): gone at every start
    if _cleans_up_at_start(settings, catalog):
        clean_up_at_start(catalog, store, coverage_dir=rasters,
                          uploads_dir=upload_dir(settings), grace_s=settings.cleanup_grace_s,
                          upload_retention_s=settings.upload_retention_s)
    register_records(RecordSource(catalog, registry, settings.base_url or "",
                                  catalog.generation))
    with replica_reads(serving_reads):
        live = LiveAPI(settings, catalog, register_store(store),  # reads the whole catalog
                       rasters=rasters)
    admin = Admin(settings=settings, catalog=catalog, store=store,
                  rasters=rasters, registry=registry,
                  tokens=TokenStore(catalog.engine), jobs=JobQueue(catalog.engine),
                  audit=AuditLog(catalog.engine))

    app = Flask(__name__, static_folder=None)
    app.url_map.strict_slashes = False
    # the upload limit plus room for the manifest and the multipart framing
    app.config["MAX_CONTENT_LENGTH"] = (settings.max_upload_mb + 1) * 1024**2
    app.extensions["geoportal"] = {"settings": settings, "catalog": catalog, "store": store,
                                   "live": live, "admin": admin, "objects": objects}
    app.register_blueprint(admin_blueprint(admin))
    boundaries = RegionBoundaries.load(settings.config_dir, registry,
                                       settings.boundary_tolerance_m)
    editor = Editor(catalog, store, registry, boundaries, keep_versions=settings.keep_versions)
    app.register_blueprint(transactions_blueprint(admin, editor))
    app.register_blueprint(tiles_blueprint(live, store, TileCache()))
    # WMS, WFS, WMTS and OGC API - Maps drawn by MapServer from the same catalog (issue 20);
    # before the coverages: a raster's WebMercatorQuad map tiles are handed on to them
    app.register_blueprint(ows_blueprint(live, store, rasters, registry, settings))
    app.register_blueprint(coverages_blueprint(live, admin.rasters))
    app.register_blueprint(health_blueprint())  # /healthz, /readyz (issue 17)
    app.register_blueprint(search_blueprint(live, store, registry, settings.base_url or ""))
    app.register_blueprint(portal_blueprint(live, registry,
                                            settings.config_dir / "boundaries.geojson"))
    # upload jobs: the worker tier's queue (web nodes never ingest), or in-process runners
    admin.objects = objects  # where uploads wait for their job
    if settings.worker_tier:
        from geoportal.admin.queue import UploadQueue  # procrastinate only where it is used

        admin.queue = UploadQueue(settings)
    elif settings.jobs_runner:
        runner = JobRunner(admin.jobs, catalog=catalog, store=store, registry=registry,
                           rasters=admin.rasters, audit=admin.audit, objects=admin.objects,
                           keep_versions=settings.keep_versions, boundaries=boundaries,
                           max_vertices=settings.max_vertices, layers_dir=settings.layers_dir,
                           upload_retention_s=settings.upload_retention_s,
                           grace_s=settings.cleanup_grace_s)
        runner.start()
        app.extensions["geoportal"]["runner"] = runner

    def execute(fn: Callable[..., tuple[dict[str, Any], int, Any]], *args: str,
                geojson: bool = False,
                cached: bool = False) -> Response:
        if args and args[0] != "catalog":
            live.knows(args[0])  # a layer published a moment ago is served at once
        api = live.api
        found = None
        if cached:  # args[0], when given, is the collection id
            found = validators(request, live.layers, live.generation, args[0] if args else None)
            early = not_modified(request, found) if found is not None else None
            if early is not None:
                return early
        api_request = APIRequest.from_flask(request, api.locales)
        headers, status, content = fn(api, api_request, *args)
        response = Response(content, status=status)
        for key, value in headers.items():
            response.headers[key] = value
        if geojson and status == HTTPStatus.OK and headers.get("Content-Type", "").startswith(
            "application/json"
        ):
            response.headers["Content-Type"] = GEOJSON
        return found.apply(response) if found is not None else response

    @app.before_request
    def _request_id() -> Response | None:
        g.started = time.perf_counter()
        given = request.headers.get("X-Request-Id", "")
        # a client's id is kept only if it cannot forge log lines or headers
        g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex[:12]
        g.request_id_token = bind_request_id(g.request_id)  # the database sees it too
        # anonymous reads may use the read replica; a token's requests read the primary
        g.replica_reads = allow_replica_reads(request.method in ("GET", "HEAD")
                                              and "Authorization" not in request.headers)
        if "Authorization" in request.headers:
            live.refresh(immediate=True)  # an editor reads what they (or a colleague) wrote
        return cors_preflight(request)

    @app.after_request
    def _log(response: Response) -> Response:
        compress(request, response)
        secure(request, response)
        if g.get("number_matched_estimated"):
            response.headers[ESTIMATE_HEADER] = "estimated"
        response.headers["X-Request-Id"] = g.get("request_id", "")
        access_line(response, settings.slow_request_ms)
        return response

    @app.after_request
    def _language(response: Response) -> Response:
        return languages.localize(response)  # Content-Language, Vary: Accept-Language

    # issue 20 (query parameters): begin
    # unknown query parameters of the OpenAPI document's routes: 400 naming them (OGC API -
    # Features /req/core/query-param-unknown); before the rate limits, so they cost nothing
    from geoportal.server import query_params

    query_params.install(app, live)
    # issue 20 (query parameters): end
    limits.install(app, settings, admin.audit)  # rate limits and the heavy-request gate
    metrics.install(app, settings)  # GET /metrics and the request measurements
    slow_statements(settings.slow_request_ms)  # the store's slow statements are logged too

    @app.get("/")
    def landing() -> Response:
        # a browser: the portal's home page; an OGC API client: the JSON landing page
        response = render_page("portal/index.html") if wants_page() \
            else execute(core_api.landing_page)
        response.vary.add("Accept")  # one URL, two answers: caches must keep both
        return response

    @app.get("/openapi")
    def openapi() -> Response:
        return execute(openapi_)

    @app.get("/conformance")
    def conformance() -> Response:
        return execute(core_api.conformance)

    @app.get("/collections")
    def collections() -> Response:
        return execute(describe_collections, cached=True)

    @app.get("/collections/<collection_id>")
    def collection(collection_id: str) -> Response:
        return execute(describe_collections, collection_id, cached=True)

    @app.get("/collections/<collection_id>/queryables")
    def queryables(collection_id: str) -> Response:
        response = execute(items_api.get_collection_queryables, collection_id, cached=True)
        response = with_field_titles(response, live.layer(collection_id))  # with its fields
        accept = request.headers.get("Accept", "")
        if (response.mimetype == "application/schema+json" and "application/json" in accept
                and "schema+json" not in accept):
            # asked for JSON, not JSON Schema (GDAL refuses any other Content-Type)
            response.headers["Content-Type"] = "application/json"
        return response

    @app.get("/collections/<collection_id>/schema")
    def schema(collection_id: str) -> Response:
        return execute(core_api.get_collection_schema, collection_id, cached=True)

    @app.get("/collections/<collection_id>/items")
    def items(collection_id: str) -> Response:
        problem = filter_problem(request.args)
        if problem is not None:
            return _ogc_error(HTTPStatus.BAD_REQUEST, "InvalidParameterValue", problem)
        return execute(items_api.get_collection_items, collection_id, geojson=True,
                       cached=True)

    def feature_tag(collection_id: str, item_id: str, fresh: bool = False) -> str | None:
        """The strong ETag of one feature's content (what Part 4's If-Match compares)."""
        live.refresh()
        layer = live.layer(collection_id)
        if layer is None or layer.current is None or layer.meta.kind != "vector" \
                or not item_id.isdigit() or len(item_id) > 18 \
                or request.args.get("crs", CRS84) != CRS84 or request.args.get("f", "json") \
                not in ("json", "geojson"):
            return None  # another representation: the weak validators serve it
        row = store.get(layer.current.store_ref, layer.current.fields, int(item_id))
        if row is None and not fresh:  # perhaps created a moment ago through another worker
            live.refresh(immediate=True)
            return feature_tag(collection_id, item_id, fresh=True)
        return None if row is None else feature_etag(row)

    @app.get("/collections/<collection_id>/items/<item_id>")
    def item(collection_id: str, item_id: str) -> Response:
        tag = feature_tag(collection_id, item_id)
        if tag is not None and request.if_none_match.contains(tag):
            response = Response(status=304)
            response.set_etag(tag)
            return response
        response = execute(items_api.get_collection_item, collection_id, item_id,
                           geojson=True, cached=True)
        if tag is not None and response.status_code == 200 and response.mimetype == GEOJSON:
            response.set_etag(tag)  # strong: the GeoJSON of this content, in any version
        return response

    @app.get("/collections/<collection_id>/download")
    def download(collection_id: str) -> Response:
        live.refresh()
        layer = live.layer(collection_id)
        if layer is None:
            raise NotFound(tr("collection {id} not found", id=repr(collection_id)))
        # the downloads gate and the rate (not for a coverage's ranged reads)
        limits.download_place(coverage=layer.meta.kind == "coverage")
        if layer.meta.kind == "coverage":
            return cog_download(layer, admin.rasters)
        found = prepare_download(layer, store, request.args, SUPPORTED_CRS,
                                 budget_s=settings.download_budget_s)
        body = sent(found, request.environ.get("gunicorn.socket"))
        response = Response(stream_with_context(body), mimetype=found.media_type)
        response.headers["Content-Disposition"] = f'attachment; filename="{found.filename}"'
        if found.cleanup is not None:
            response.call_on_close(found.cleanup)
        return response

    # /static/: hashed names cached a year and precompressed, plain names revalidated, and
    # the templates' static_url() (issue 19; static_files.py, scripts/build-static.py)
    static_files.install(app)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        if exc.code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
            return _ogc_error(exc.code, "RequestEntityTooLarge",
                              f"the request is too large: uploads may be up to "
                              f"{settings.max_upload_mb} MiB (max_upload_mb)")
        return _ogc_error(exc.code or 500, exc.name.replace(" ", ""), exc.description or "")

    @app.teardown_request
    def _end_request(_exc: BaseException | None) -> None:
        token = g.pop("replica_reads", None)
        if token is not None:
            with contextlib.suppress(ValueError):  # set in another context: nothing to undo
                end_replica_reads(token)
        token = g.pop("request_id_token", None)
        if token is not None:
            with contextlib.suppress(ValueError):
                unbind_request_id(token)

    @app.errorhandler(GeoportalError)
    def _portal_error(exc: GeoportalError) -> Response:
        if isinstance(exc, BudgetExceeded):  # expected under load: one line, no traceback
            log.error("request_id=%s status=%d over_budget=%s", g.get("request_id"),
                      exc.http_status, exc)
        elif isinstance(exc, DatabaseUnavailable):  # the outage's traceback is logged once
            dbhealth.refused(exc)
            log.error("request_id=%s status=%d database_unavailable=%s", g.get("request_id"),
                      exc.http_status, exc)
        elif isinstance(exc, ObjectStoreUnavailable):  # its traceback logged once an outage
            objects_refused(exc)
            log.error("request_id=%s status=%d object_store_unavailable=%s",
                      g.get("request_id"), exc.http_status, exc)
        elif exc.http_status >= 500:
            log.error("request_id=%s error=%s", g.get("request_id"), exc, exc_info=exc)
            if exc.user_msg == str(exc):  # no sentence for users: paths and tables stay ours
                return _ogc_error(exc.http_status, exc.ogc_code, translate(
                    f"internal error; quote request id {g.get('request_id')}",
                    languages.request_language()))
        response = _ogc_error(exc.http_status, exc.ogc_code,
                              exc.user_message(languages.request_language()))
        if isinstance(exc, Unauthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="geoportal"'
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(int(retry_after))
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.error("request_id=%s unexpected error", g.get("request_id"), exc_info=exc)
        return _ogc_error(500, "NoApplicableCode",
                          f"internal error; quote request id {g.get('request_id')}")

    return app
