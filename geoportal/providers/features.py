"""OGC API - Features provider over a layer version in our FeatureStore.

pygeoapi builds a provider per request, so everything costly (the store, its connections,
coordinate transformers) lives at module level; the provider itself only reads its definition,
which the server generated from the catalog (fields, feature count, store reference).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import pyproj
import shapely
from flask import g, has_request_context
from pygeoapi.crs import CrsTransformSpec
from pygeoapi.provider.base import (
    BaseProvider,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
    ProviderQueryError,
)
from pygeofilter import ast, values

from geoportal.catalog.models import Field
from geoportal.errors import BudgetExceeded, DatabaseUnavailable, GeoportalError, InputError
from geoportal.i18n import tr
from geoportal.providers.geojson import to_geojson_geometries
from geoportal.storage import Query, Row, lookup_store
from geoportal.storage.base import MAX_FID, MAX_PAGE_VERTICES

__all__ = ["ESTIMATED", "ESTIMATE_HEADER", "StoreFeatureProvider", "json_schema_type"]

MAX_OFFSET = 2**62  # beyond any layer, and inside the 64-bit integers both databases take
# An estimated numberMatched is flagged by this member of the FeatureCollection and this header.
ESTIMATED = "numberMatchedEstimated"
ESTIMATE_HEADER = "Geoportal-Number-Matched"

def _store_timer(store: object, operation: str) -> AbstractContextManager[None]:
    """``metrics.store_timer``: imported when used, as ``geoportal.server`` (which imports
    this module) may still be importing."""
    from geoportal.server.metrics import store_timer

    return store_timer(store, operation)


def json_schema_type(field_type: str) -> dict[str, str]:
    """Our field type as a JSON Schema fragment (dates are strings with a format)."""
    if field_type in ("date", "date-time", "time"):
        return {"type": "string", "format": field_type}
    return {"type": field_type}


@lru_cache(maxsize=32)
def _transformer(source_wkt: str, target_wkt: str, always_xy: bool) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(
        pyproj.CRS.from_wkt(source_wkt), pyproj.CRS.from_wkt(target_wkt), always_xy=always_xy
    )


def _reproject(geoms: list[shapely.Geometry | None], spec: CrsTransformSpec | None
               ) -> list[shapely.Geometry | None]:
    """A page of geometries in the requested CRS, in one transformer call."""
    if spec is None or not geoms or spec.source_crs_wkt == spec.target_crs_wkt:
        return geoms
    transformer = _transformer(spec.source_crs_wkt, spec.target_crs_wkt, spec.always_xy)

    def _apply(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return list(shapely.transform(np.asarray(geoms, dtype=object), _apply))


def _parse_moment(text: str) -> date | None:
    """An RFC 3339 date or date-time ('Z' or an offset allowed); None for an open end."""
    text = text.strip()
    if text in ("", ".."):
        return None
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text)


class StoreFeatureProvider(BaseProvider):  # type: ignore[misc]  # pygeoapi: no type information
    """Serves one layer version: bbox, paging, equality filters on fields, sorting, CRS."""

    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        self.store = lookup_store(provider_def["store"])
        self.layer_fields = [Field.from_dict(f) for f in provider_def["layer_fields"]]
        self.feature_count = int(provider_def["feature_count"])
        self.id_field = "fid"
        self.time_field = next((f.name for f in self.layer_fields
                                if f.type in ("date", "date-time")), None)
        self._fields = {
            f.name: {**json_schema_type(f.type), "title": f.title or f.name}
            for f in self.layer_fields
        }

    def get_fields(self) -> dict[str, dict[str, str]]:
        return self._fields

    def query(
        self,
        offset: int = 0,
        limit: int = 10,
        resulttype: str = "results",
        bbox: list[float] | None = None,
        datetime_: str | None = None,
        properties: list[tuple[str, str]] | None = None,
        sortby: list[dict[str, str]] | None = None,
        select_properties: list[str] | None = None,
        skip_geometry: bool = False,
        q: str | None = None,
        filterq: Any = None,
        crs_transform_spec: CrsTransformSpec | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """A GeoJSON FeatureCollection page with numberMatched and numberReturned."""
        if q:
            raise ProviderInvalidQueryError(user_msg="q (free-text search) is not supported here")
        if datetime_:
            filterq = self._with_datetime(filterq, str(datetime_))
        # 4 numbers, or 6 with heights (minx,miny,minz,maxx,maxy,maxz): the plane's four
        box = tuple(float(v) for v in (bbox if len(bbox) == 4 else bbox[:2] + bbox[3:5])
                    ) if bbox else None
        equals, filterq = self._moments_as_filter(properties or (), filterq)
        try:
            query = Query(
                limit=0 if resulttype == "hits" else int(limit),
                offset=min(int(offset), MAX_OFFSET),  # past every layer: empty, not overflow
                bbox=box,  # type: ignore[arg-type]
                equals=equals,
                sortby=tuple((s["property"], s.get("order", "+") != "-") for s in sortby or ()),
                select=select_properties or None,
                skip_geometry=bool(skip_geometry),
                count=bool(box or equals or filterq is not None),
                filter=filterq,
                max_vertices=MAX_PAGE_VERTICES,  # decoding and GeoJSON are not interruptible
            )
            with _store_timer(self.store, "query"):
                result = self.store.query(self.data, self.layer_fields, query)
        except InputError as exc:
            raise ProviderInvalidQueryError(user_msg=exc.user_msg) from exc
        except (BudgetExceeded, DatabaseUnavailable):
            raise  # past pygeoapi (it would make any error of ours a 500): a 503, Retry-After
        except GeoportalError as exc:
            # the cause for the log (pygeoapi answers 500 through ``API.get_exception``, which
            # logs it once with the traceback: server.languages), a plain sentence for the user
            raise ProviderQueryError(str(exc), user_msg="the layer could not be read") from exc
        matched = result.number_matched if query.count else self.feature_count
        features = self._features(result.rows, crs_transform_spec)
        page = {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": matched,
            "numberReturned": len(features),
        }
        if result.estimated:  # said in the body and in a header (see server.app)
            page[ESTIMATED] = True
            if has_request_context():
                g.number_matched_estimated = True
        return page

    def _moments_as_filter(self, properties: Any, filterq: Any
                           ) -> tuple[tuple[tuple[str, Any], ...], Any]:
        """Property filters (``?opened=2020-05-01``) on date and date-time fields taken out of
        the equality filters and added to the CQL2 filter as ``opened = DATE(...)``: compared
        as the filter compares moments, the same on both stores. A value that is not an ISO
        8601 date or timestamp (an empty one too) is a 400 naming the field."""
        types = {f.name: f.type for f in self.layer_fields}
        equals = []
        for name, value in properties:
            if types.get(name) not in ("date", "date-time"):
                equals.append((name, value))
                continue
            try:
                moment = _parse_moment(str(value))
                if moment is None:
                    raise ValueError(value)
            except ValueError:
                raise ProviderInvalidQueryError(
                    user_msg=tr("{name}={value}: give a date (2024-05-01) or an RFC 3339 "
                                "date-time (2024-05-01T10:30:00Z)", name=name,
                                value=repr(value))) from None
            condition = ast.Equal(ast.Attribute(name), moment)
            filterq = condition if filterq is None else ast.And(filterq, condition)
        return tuple(equals), filterq

    def _with_datetime(self, filterq: Any, text: str) -> Any:
        """The ``datetime`` parameter as a temporal condition on the layer's time field (its
        first date or date-time field), added to the filter."""
        if self.time_field is None:
            raise ProviderInvalidQueryError(
                user_msg="datetime: this collection has no date or time field")
        try:
            start, _, end = text.partition("/")
            if not _:
                moment = _parse_moment(start)
                if moment is None:
                    raise ValueError(text)
                condition = ast.TimeEquals(ast.Attribute(self.time_field), moment)
            else:
                interval = values.Interval(_parse_moment(start), _parse_moment(end))
                condition = ast.TimeOverlaps(ast.Attribute(self.time_field), interval)
        except ValueError:
            raise ProviderInvalidQueryError(
                user_msg=tr("datetime {text}: give an RFC 3339 date or date-time, or an "
                            "interval start/end with '..' for an open end",
                            text=repr(text))) from None
        return condition if filterq is None else ast.And(filterq, condition)

    def get(
        self, identifier: str, crs_transform_spec: CrsTransformSpec | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """One feature by its id (a positive integer)."""
        try:
            fid = int(str(identifier))
        except ValueError:
            fid = -1
        # an id past 64 bits names no feature (and no database integer): a 404, not an overflow
        with _store_timer(self.store, "get"):
            row = self.store.get(self.data, self.layer_fields, fid) if 0 < fid <= MAX_FID \
                else None
        if row is None:
            raise ProviderItemNotFoundError(
                user_msg=tr("feature {id} not found", id=repr(identifier)))
        return self._features([row], crs_transform_spec)[0]

    @staticmethod
    def _features(rows: list[Row], spec: CrsTransformSpec | None) -> list[dict[str, Any]]:
        geometries = to_geojson_geometries(_reproject([row.geometry for row in rows], spec))
        return [
            {"type": "Feature", "id": row.fid, "geometry": geometry,
             "properties": row.properties}
            for row, geometry in zip(rows, geometries, strict=True)
        ]
