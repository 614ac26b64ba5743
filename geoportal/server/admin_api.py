"""The admin API: uploads, jobs, versions, rollback, unpublish and the audit log.

Every route needs ``Authorization: Bearer <token>``; an editor token reaches only the layers of
its regions (checked on the manifest's region and on the layer's current one). Every attempt,
refused ones included, goes to the audit log. Errors are the portal's usual JSON exceptions;
a 401 carries ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from geoportal.admin.audit import AuditLog
from geoportal.admin.jobs import JobQueue, check_one_layer, upload_key, upload_prefix
from geoportal.admin.tokens import Token, TokenStore, require_region
from geoportal.admin.uploads import UploadLimits, safe_filename, save_upload
from geoportal.catalog import Catalog
from geoportal.catalog.registry import Registry
from geoportal.config import Settings
from geoportal.errors import (
    Conflict,
    Forbidden,
    GeoportalError,
    InputError,
    NotFound,
    SchemaError,
)
from geoportal.etl.manifest import LIMITS as MANIFEST_LIMITS
from geoportal.etl.manifest import build_manifest, parse_manifest_text
from geoportal.i18n import tr, translate
from geoportal.server.languages import request_language
from geoportal.server.limits import authenticate, request_client
from geoportal.states import JobState
from geoportal.storage import FeatureStore
from geoportal.storage.objects import LocalObjectStore, ObjectStore, temp_folder
from geoportal.storage.rasters import RasterStore

if TYPE_CHECKING:
    from geoportal.admin.queue import UploadQueue

__all__ = ["Admin", "admin_blueprint", "audited", "bearer", "public_url", "record_ok",
           "verified"]

log = logging.getLogger("geoportal.admin")


@dataclass
class Admin:
    """What the admin routes work with (one per server process)."""

    settings: Settings
    catalog: Catalog
    store: FeatureStore
    rasters: RasterStore
    registry: Registry
    tokens: TokenStore
    jobs: JobQueue
    audit: AuditLog
    objects: ObjectStore | None = None  # where uploads wait (None: a folder under data_dir)
    queue: UploadQueue | None = None  # the worker tier's queue; None: in-process runners

    @property
    def limits(self) -> UploadLimits:
        s = self.settings
        return UploadLimits(max_bytes=s.max_upload_mb * 1024**2,
                            max_unpacked_bytes=s.max_unpacked_mb * 1024**2)


def bearer() -> str | None:
    """The token of ``Authorization: Bearer <token>``, if sent."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _result(exc: GeoportalError) -> str:
    if exc.http_status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
        return "denied"
    return "rejected" if exc.http_status < 500 else "failed"


def _manifest_from_form() -> dict[str, Any]:
    """The manifest sent with an upload: a ``manifest`` field or file part, YAML or JSON."""
    text: str | bytes | None = request.form.get("manifest")
    if text is None and "manifest" in request.files:
        # one byte over the limit is enough to refuse it
        text = request.files["manifest"].read(MANIFEST_LIMITS["manifest_bytes"] + 1)
    if text is None:
        raise InputError("send the layer's manifest (YAML or JSON) in a 'manifest' field with "
                         "the data file in a 'file' field")
    # bounded like a manifest file: size, no YAML anchors or aliases, nesting
    return parse_manifest_text(text, "the 'manifest' field")


def verified(admin: Admin) -> Token:
    """The caller's token, checked under the failed-login limit (``limits.authenticate``)."""
    return authenticate(admin.tokens, bearer())


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of a route from the configured ``base_url``, never from the request's
    ``Host`` header (which any client can forge)."""
    path = url_for(endpoint, **values)
    root = request.script_root
    if root and path.startswith(root):
        path = path[len(root):]
    return f"{current_app.extensions['geoportal']['settings'].base_url}{path}"


@contextmanager
def audited(admin: Admin, action: str, layer_id: str | None = None
            ) -> Iterator[dict[str, Any]]:
    """Authenticate, run the route, and record how it ended (refusals too): yields what the
    route learns (``token``, ``layer_id``, ``region``) for the record."""
    seen: dict[str, Any] = {"token": None, "layer_id": layer_id, "region": None}
    # a refused token is a failed login: limited and audited per client and minute there
    seen["token"] = verified(admin)
    try:
        yield seen
    except GeoportalError as exc:
        admin.audit.record(action, _result(exc), token=seen["token"],
                           layer_id=seen["layer_id"], region=seen["region"],
                           client=request_client(), status=int(exc.http_status),
                           detail=exc.user_msg)
        raise
    except HTTPException as exc:  # e.g. 413 while reading an oversized body
        admin.audit.record(action, "rejected", token=seen["token"],
                           layer_id=seen["layer_id"], region=seen["region"],
                           client=request_client(), status=exc.code, detail=exc.name)
        raise


def record_ok(admin: Admin, action: str, seen: dict[str, Any], status: int,
              **extra: Any) -> None:
    """Record a write that succeeded (202: accepted for a job)."""
    admin.audit.record(action, "accepted" if status == 202 else "ok", token=seen["token"],
                       layer_id=seen["layer_id"], region=seen["region"],
                       client=request_client(), status=status, **extra)


def admin_blueprint(admin: Admin) -> Blueprint:
    """The /admin routes."""
    bp = Blueprint("admin", __name__, url_prefix="/admin")

    def layer_region(token: Token, layer_id: str, what: str) -> str:
        layer = admin.catalog.find_layer(layer_id)
        if layer is None:
            raise NotFound(tr("no layer {id}", id=repr(layer_id)))
        require_region(token, layer.meta.region, admin.registry, what)
        return layer.meta.region

    @bp.get("/whoami")
    def whoami() -> Response:
        token = verified(admin)
        return jsonify(token.to_dict())

    @bp.post("/layers")
    def upload() -> tuple[Response, int, dict[str, str]]:
        with audited(admin, "upload") as seen:
            token: Token = seen["token"]
            data = _manifest_from_form()
            layer_id = str(data.get("id") or "")
            seen["layer_id"] = layer_id or None
            region = str(data.get("region") or "")
            seen["region"] = region or None
            if not layer_id or not region:
                raise SchemaError("the manifest needs 'id' and 'region'")
            admin.registry.region(region)
            require_region(token, region, admin.registry, "layers")
            existing = admin.catalog.find_layer(layer_id)
            if existing is not None and existing.meta.region != region:
                require_region(token, existing.meta.region, admin.registry,
                               tr("layer {id}", id=repr(layer_id)))
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                raise InputError("send the data file in a 'file' field (multipart/form-data)")
            active = admin.jobs.active_for(layer_id)
            if active is not None:
                raise Conflict(tr("layer {id} already has an upload in progress (job {job}, "
                                  "{state}); wait for it, then upload again",
                                  id=repr(layer_id), job=active.id, state=active.state))
            job_id = uuid.uuid4().hex
            objects = admin.objects or LocalObjectStore(admin.settings.data_dir)
            key = upload_key(job_id, safe_filename(upload.filename))
            # checked where it lands: in place on a folder store, in a temporary folder
            # before it goes to S3 (so that any worker of the cluster can run the job)
            local = isinstance(objects, LocalObjectStore)
            scratch = contextlib.ExitStack()
            folder = objects.path(key).parent if isinstance(objects, LocalObjectStore) \
                else scratch.enter_context(temp_folder("geoportal-upload-"))
            stored = False
            try:
                # werkzeug types the stream IO[bytes]; it is a binary file object
                saved = save_upload(cast(BinaryIO, upload.stream), upload.filename, folder,
                                    admin.limits)
                source = data.get("source")
                source = dict(source) if isinstance(source, dict) else {}
                source["path"] = saved.name
                data["source"] = source
                check_one_layer(build_manifest(data, base=folder,
                                               origin=f"upload of {saved.name}"))
                admin.registry.theme(str(data.get("theme") or ""))
                if not local:
                    objects.put_file(key, saved, move=True)
                    stored = True
                job = admin.jobs.submit(layer_id=layer_id, region=region, token_id=token.id,
                                        manifest=data, folder=upload_prefix(job_id).rstrip("/"),
                                        job_id=job_id)
                if admin.queue is not None:
                    try:
                        admin.queue.defer(job)
                    except GeoportalError as exc:  # the row must not block the layer
                        admin.jobs.finish(job.id, JobState.FAILED, status=int(exc.http_status),
                                          error=exc.user_msg)
                        raise
            except BaseException:
                if local:
                    shutil.rmtree(folder, ignore_errors=True)
                elif stored:
                    try:  # never hide the error being answered (a 409, a 503) behind this
                        objects.delete_prefix(upload_prefix(job_id))
                    except Exception as cleanup_exc:  # the upload sweep takes it later
                        log.warning("upload %s: not removed from %s after the failure: %s",
                                    job_id, objects.describe, cleanup_exc)
                raise
            finally:
                scratch.close()  # the temporary folder of an upload to the object store
            record_ok(admin, "upload", seen, 202, job_id=job.id)
            location = public_url("admin.job", job_id=job.id)
            return jsonify({**job.to_dict(), "links": [
                {"rel": "monitor", "href": location, "type": "application/json"}]}), 202, \
                {"Location": location}

    @bp.get("/jobs/<job_id>")
    def job(job_id: str) -> Response:
        token = verified(admin)
        found = admin.jobs.get(job_id)
        require_region(token, found.region, admin.registry, "jobs")
        body = found.to_dict()
        if body.get("error"):  # kept in English; said in the request's language (?lang=, header)
            body["error"] = translate(body["error"], request_language())
        return jsonify(body)

    @bp.get("/layers/<layer_id>/versions")
    def versions(layer_id: str) -> Response:
        token = verified(admin)
        layer_region(token, layer_id, tr("layer {id}", id=repr(layer_id)))
        return jsonify({"layer": layer_id,
                        "versions": [v.summary() for v in admin.catalog.versions(layer_id)]})

    @bp.post("/layers/<layer_id>/rollback")
    def rollback(layer_id: str) -> Response:
        with audited(admin, "rollback", layer_id) as seen:
            seen["region"] = layer_region(seen["token"], layer_id,
                                          tr("layer {id}", id=repr(layer_id)))
            body = request.get_json(silent=True)
            version = body.get("version") if isinstance(body, dict) else None
            if not isinstance(version, int) or isinstance(version, bool):
                raise InputError('send {"version": N} with the version to make current')
            restored = admin.catalog.rollback(layer_id, version)
            record_ok(admin, "rollback", seen, 200, version=restored.version)
            return jsonify({"layer": layer_id, "version": restored.version,
                            "status": restored.status})

    @bp.delete("/layers/<layer_id>")
    def unpublish(layer_id: str) -> tuple[str, int]:
        with audited(admin, "unpublish", layer_id) as seen:
            seen["region"] = layer_region(seen["token"], layer_id,
                                          tr("layer {id}", id=repr(layer_id)))
            active = admin.jobs.active_for(layer_id)
            if active is not None:
                raise Conflict(tr("layer {id} has an upload in progress (job {job}); wait for "
                                  "it, then delete", id=repr(layer_id), job=active.id))
            layer = admin.catalog.get_layer(layer_id)
            gone = admin.catalog.unpublish(layer_id)
            drop: Callable[[str], None] = admin.rasters.drop if layer.meta.kind == "coverage" \
                else admin.store.drop
            for version in gone:
                drop(version.store_ref)
            record_ok(admin, "unpublish", seen, 204,
               version=layer.current.version if layer.current is not None else None)
            return "", 204

    @bp.get("/audit")
    def audit_log() -> Response:
        token = verified(admin)
        if token.role != "admin":
            raise Forbidden("only admin tokens may read the audit log")
        try:
            limit = int(request.args.get("limit", "100"))
        except ValueError:
            raise InputError("limit must be a whole number") from None
        rows = admin.audit.query(layer_id=request.args.get("layer"),
                                 token_id=request.args.get("token"), limit=limit)
        return Response(json.dumps({"entries": rows}, ensure_ascii=False, default=str),
                        mimetype="application/json")

    return bp
