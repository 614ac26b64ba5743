"""OGC API - Features Part 4: POST, PUT, PATCH and DELETE of items, for token holders.

``POST /collections/{id}/items`` adds a feature (or every feature of a FeatureCollection);
``PUT``, ``PATCH`` and ``DELETE`` on ``/collections/{id}/items/{fid}`` replace, change or
remove one. Each request publishes a new version of the layer (``admin/edits.py``), answers
with the feature's ETag and the version, and is recorded in the audit log. ``If-Match``
with a feature's ETag makes the edit conditional: 412 when someone changed the feature since.
Bodies are GeoJSON in CRS84, or in the CRS a ``Content-Crs`` header names.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import orjson
import shapely
from flask import Blueprint, Response, request

from geoportal.admin.edits import Editor, EditOutcome, Precondition
from geoportal.admin.feature_input import CRS84, parse_body, read_feature
from geoportal.errors import InputError, NotFound, UnsupportedFormat
from geoportal.i18n import tr
from geoportal.server.admin_api import Admin, audited, public_url, record_ok
from geoportal.server.pygeoapi_config import SUPPORTED_CRS
from geoportal.storage.base import Row, feature_etag

__all__ = ["MAX_BODY_BYTES", "feature_json", "transactions_blueprint"]

MAX_BODY_BYTES = 32 * 1024**2  # one request's features; larger sets go through an upload
MAX_FEATURES = 10_000
_MEDIA = ("application/geo+json", "application/json", "application/merge-patch+json")
VERSION_HEADER = "Geoportal-Version"


class BodyTooLarge(InputError):
    http_status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    ogc_code = "RequestEntityTooLarge"


def feature_json(collection_id: str, row: Row) -> dict[str, Any]:
    """A stored feature as GeoJSON, with its links."""
    href = public_url("item", collection_id=collection_id, item_id=row.fid)
    return {
        "type": "Feature", "id": row.fid,
        "geometry": None if row.geometry is None else json.loads(shapely.to_geojson(row.geometry)),
        "properties": row.properties,
        "links": [{"rel": "self", "href": href, "type": "application/geo+json"},
                  {"rel": "collection", "type": "application/json",
                   "href": public_url("collection", collection_id=collection_id)}],
    }


def _body() -> bytes:
    """The request body, refused when too large or not GeoJSON."""
    media = (request.mimetype or "").lower()
    if media not in _MEDIA:
        raise UnsupportedFormat(tr("send the feature as application/geo+json (got {media})",
                                   media=media or tr("no Content-Type")))
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise BodyTooLarge(tr("the body is over {n} MiB: publish large sets of features as an "
                              "upload (POST /admin/layers)", n=MAX_BODY_BYTES // 1024**2))
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge(tr("the body is over {n} MiB", n=MAX_BODY_BYTES // 1024**2))
    return raw


def _content_crs() -> str:
    given = request.headers.get("Content-Crs", "").strip().strip("<>").strip()
    if not given:
        return CRS84
    if given not in SUPPORTED_CRS:
        raise InputError(tr("Content-Crs {crs} is not supported; use one of {crs_list}",
                            crs=given, crs_list=", ".join(SUPPORTED_CRS)))
    return given


def _precondition() -> Precondition | None:
    header = request.if_match
    if not request.headers.get("If-Match"):
        return None
    if header.star_tag:
        return Precondition(any_=True)
    return Precondition(etags=frozenset(header.as_set(include_weak=False)))


def _fid(item_id: str) -> int:
    try:
        fid = int(item_id)
    except ValueError:
        raise NotFound(tr("feature {id} not found", id=repr(item_id))) from None
    if not 0 < fid < 2**63:
        raise NotFound(tr("feature {id} not found", id=repr(item_id)))
    return fid


def _answer(collection_id: str, outcome: EditOutcome, status: int) -> Response:
    rows = [r for r in outcome.rows if r is not None]
    if status == HTTPStatus.NO_CONTENT:
        response = Response(status=status)
    elif len(outcome.fids) == 1 and rows:
        body = feature_json(collection_id, rows[0])
        response = Response(orjson.dumps(body), status=status, mimetype="application/geo+json")
        response.set_etag(feature_etag(rows[0]))
    else:
        body = {"type": "FeatureCollection",
                "features": [feature_json(collection_id, r) for r in rows],
                "numberReturned": len(rows)}
        response = Response(orjson.dumps(body), status=status, mimetype="application/geo+json")
    if status == HTTPStatus.CREATED and outcome.fids:
        response.headers["Location"] = public_url("item", collection_id=collection_id,
                                                  item_id=outcome.fids[0])
    response.headers[VERSION_HEADER] = str(outcome.version.version)
    response.headers["Cache-Control"] = "no-store"
    return response


def transactions_blueprint(admin: Admin, editor: Editor) -> Blueprint:
    """The Part 4 routes (beside the read routes of the same paths)."""
    bp = Blueprint("transactions", __name__)
    items = "/collections/<collection_id>/items"

    def audit_ok(action: str, seen: dict[str, Any], status: int, outcome: EditOutcome) -> None:
        fids = ", ".join(map(str, outcome.fids[:50]))
        record_ok(admin, action, seen, status, version=outcome.version.version,
                  detail=f"features {fids}" + (" ..." if len(outcome.fids) > 50 else ""))

    @bp.post(items)
    def create(collection_id: str) -> Response:
        with audited(admin, "feature.create", collection_id) as seen:
            layer = editor.editable(seen["token"], collection_id)
            seen["region"] = layer.meta.region
            raw = _body()
            data = parse_body(raw)
            fields = layer.current.fields if layer.current else []
            crs = _content_crs()
            if isinstance(data, dict) and data.get("type") == "FeatureCollection":
                members = data.get("features")
                if not isinstance(members, list) or not members:
                    raise InputError("the FeatureCollection has no 'features' to add")
                if len(members) > MAX_FEATURES:
                    raise BodyTooLarge(tr("at most {n} features per request; publish more as "
                                          "an upload", n=MAX_FEATURES))
                features = [read_feature(f, fields, crs=crs, where=tr("feature {n}", n=i + 1))
                            for i, f in enumerate(members)]
            else:
                features = [read_feature(data, fields, crs=crs)]
            outcome = editor.create(seen["token"], layer, features, raw)
            audit_ok("feature.create", seen, 201, outcome)
            return _answer(collection_id, outcome, HTTPStatus.CREATED)

    @bp.put(items + "/<item_id>")
    def replace(collection_id: str, item_id: str) -> Response:
        with audited(admin, "feature.replace", collection_id) as seen:
            layer = editor.editable(seen["token"], collection_id)
            seen["region"] = layer.meta.region
            fid = _fid(item_id)
            raw = _body()
            fields = layer.current.fields if layer.current else []
            feature = read_feature(parse_body(raw), fields, crs=_content_crs())
            outcome = editor.replace(seen["token"], layer, fid, feature, raw, _precondition())
            audit_ok("feature.replace", seen, 200, outcome)
            return _answer(collection_id, outcome, HTTPStatus.OK)

    @bp.patch(items + "/<item_id>")
    def update(collection_id: str, item_id: str) -> Response:
        with audited(admin, "feature.update", collection_id) as seen:
            layer = editor.editable(seen["token"], collection_id)
            seen["region"] = layer.meta.region
            fid = _fid(item_id)
            raw = _body()
            data = parse_body(raw)
            if isinstance(data, dict) and "type" not in data:
                data = {**data, "type": "Feature"}  # a bare {"properties": ...} patch
            fields = layer.current.fields if layer.current else []
            patch = read_feature(data, fields, crs=_content_crs(), partial=True)
            outcome = editor.update(seen["token"], layer, fid, patch, raw, _precondition())
            audit_ok("feature.update", seen, 200, outcome)
            return _answer(collection_id, outcome, HTTPStatus.OK)

    @bp.delete(items + "/<item_id>")
    def delete(collection_id: str, item_id: str) -> Response:
        with audited(admin, "feature.delete", collection_id) as seen:
            layer = editor.editable(seen["token"], collection_id)
            seen["region"] = layer.meta.region
            outcome = editor.delete(seen["token"], layer, _fid(item_id), _precondition())
            audit_ok("feature.delete", seen, 204, outcome)
            return _answer(collection_id, outcome, HTTPStatus.NO_CONTENT)

    return bp
