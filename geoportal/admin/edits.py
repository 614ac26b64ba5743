"""OGC API - Features Part 4 edits as new layer versions.

An edit never changes a published version: the current version's table is copied, the copy
is changed, and the catalog publishes it as the next version, in one transaction, only if
the version it was copied from is still current (otherwise the edit is made again on the
newer one). Readers therefore see a layer before or after an edit, never half of it; every
edit can be rolled back like an upload; and the audit log names the version it made.

Rights: the token must cover the layer's region, and an editor's feature must lie inside the
boundary of the editor's regions, before and after the edit (a Grodno editor can neither
draw into Minsk nor move or delete a feature that lies there).
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from geoportal.admin.boundaries import RegionBoundaries
from geoportal.admin.feature_input import MISSING, FeatureInput
from geoportal.admin.tokens import Token, require_region
from geoportal.catalog import Catalog, Layer, Version
from geoportal.catalog.registry import Registry
from geoportal.errors import (
    Conflict,
    Forbidden,
    GeometryError,
    InputError,
    NotFound,
    PreconditionFailed,
)
from geoportal.etl.geometry import prepare
from geoportal.i18n import tr
from geoportal.reports import EditState
from geoportal.storage import FeatureStore
from geoportal.storage.base import EditSession, Row, feature_etag

__all__ = ["ATTEMPTS", "EditOutcome", "Editor", "Precondition"]

ATTEMPTS = 5  # an edit is made again at most this often when another version wins the race


@dataclass(frozen=True)
class Precondition:
    """What the client's ``If-Match`` asks: any existing feature (``*``) or one of these
    strong ETags. ``None`` (no header) means no check."""

    any_: bool = False
    etags: frozenset[str] = frozenset()

    def holds(self, row: Row | None) -> bool:
        if row is None:
            return False
        return self.any_ or feature_etag(row) in self.etags


@dataclass
class EditOutcome:
    """The version an edit published and the features it touched, as they are now (None
    for a deleted one)."""

    version: Version
    fids: list[int]
    rows: list[Row | None]


class Editor:
    """Applies Part 4 requests to the layers of the catalog."""

    def __init__(self, catalog: Catalog, store: FeatureStore, registry: Registry,
                 boundaries: RegionBoundaries, keep_versions: int) -> None:
        self.catalog = catalog
        self.store = store
        self.registry = registry
        self.boundaries = boundaries
        self.keep_versions = keep_versions
        # One edit of a layer at a time in this process: its threads would otherwise race
        # each other into the retries that are meant for other processes and uploads.
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _layer_lock(self, layer_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(layer_id, threading.Lock())

    def editable(self, token: Token, layer_id: str) -> Layer:
        """The layer, if it exists, holds vector data and the token may write to it."""
        layer = self.catalog.find_layer(layer_id)
        if layer is None or layer.current is None:
            raise NotFound(tr("collection {id} not found", id=repr(layer_id)))
        if layer.meta.kind != "vector":
            raise InputError(tr("collection {id} is a coverage: only vector layers can be edited "
                                "feature by feature", id=repr(layer_id)))
        require_region(token, layer.meta.region, self.registry,
                       tr("layer {id}", id=repr(layer_id)))
        return layer

    def create(self, token: Token, layer: Layer, features: list[FeatureInput],
               body: bytes) -> EditOutcome:
        """Add features (POST)."""
        checked = [self._checked(token, layer, f) for f in features]

        def change(session: EditSession) -> list[int]:
            return [session.insert(f.properties or {}, f.geometry) for f in checked]

        return self._publish(layer, "create", change, body)

    def replace(self, token: Token, layer: Layer, fid: int, feature: FeatureInput,
                body: bytes, precondition: Precondition | None) -> EditOutcome:
        """Overwrite one feature (PUT)."""
        checked = self._checked(token, layer, feature)

        def change(session: EditSession) -> list[int]:
            self._existing(token, session, fid, precondition)
            session.replace(fid, checked.properties or {}, checked.geometry)
            return [fid]

        return self._publish(layer, "replace", change, body)

    def update(self, token: Token, layer: Layer, fid: int, patch: FeatureInput,
               body: bytes, precondition: Precondition | None) -> EditOutcome:
        """Change some properties and/or the geometry of one feature (PATCH)."""
        if patch.geometry is not MISSING:
            patch = self._checked(token, layer, patch)

        def change(session: EditSession) -> list[int]:
            row = self._existing(token, session, fid, precondition)
            properties = {**row.properties, **(patch.properties or {})}
            geometry = row.geometry if patch.geometry is MISSING else patch.geometry
            session.replace(fid, properties, geometry)
            return [fid]

        return self._publish(layer, "update", change, body)

    def delete(self, token: Token, layer: Layer, fid: int,
               precondition: Precondition | None) -> EditOutcome:
        """Remove one feature (DELETE)."""
        def change(session: EditSession) -> list[int]:
            self._existing(token, session, fid, precondition)
            session.delete(fid)
            return [fid]

        return self._publish(layer, "delete", change, b"")

    # -- the steps ------------------------------------------------------------------------

    def _checked(self, token: Token, layer: Layer, feature: FeatureInput) -> FeatureInput:
        """The feature with its geometry repaired and fitted to the layer's type, as the ETL
        would publish it; a geometry the ETL would set aside is a 422 with its reason."""
        version = layer.current
        assert version is not None
        geometry = feature.geometry
        if geometry is None or geometry is MISSING:
            if geometry is None and version.geometry_type not in (None, "None"):
                raise GeometryError(tr("a feature of this layer needs a geometry ({type})",
                                       type=version.geometry_type))
            return feature
        region = self.registry.regions.get(layer.meta.region)
        fitted, reasons, _ = prepare(np.array([geometry], dtype=object),
                                     version.geometry_type or "Unknown",
                                     bounds=region.bbox if region is not None else None)
        if reasons[0] is not None:
            raise GeometryError(tr("the geometry cannot be published: {reason}",
                                   reason=reasons[0]))
        self._inside(token, fitted[0], tr("the new geometry"))
        return dataclasses.replace(feature, geometry=fitted[0])

    def _inside(self, token: Token, geometry: shapely.Geometry | None, what: str) -> None:
        if token.role == "admin" or geometry is None or shapely.is_empty(geometry):
            return
        if self.boundaries.outside(token.regions, geometry):
            names = ", ".join(
                self.registry.regions[c].name.get("en", c) if c in self.registry.regions
                else c for c in token.regions)
            raise Forbidden(tr("{what} lies outside the boundary of token {id}'s regions "
                               "({names})", what=what, id=token.id, names=names))

    def _existing(self, token: Token, session: EditSession, fid: int,
                  precondition: Precondition | None) -> Row:
        row = session.get(fid)
        if row is None:
            raise NotFound(tr("feature {id} not found", id=fid))
        if precondition is not None and not precondition.holds(row):
            raise PreconditionFailed(tr(
                "feature {fid} has changed since it was read (its ETag is now {etag}): fetch it "
                "again and repeat the edit", fid=fid, etag=f'"{feature_etag(row)}"'))
        self._inside(token, row.geometry, tr("feature {n}", n=fid))
        return row

    def _publish(self, layer: Layer, action: str, change: Callable[[EditSession], list[int]],
                 body: bytes) -> EditOutcome:
        """Copy the current version, change it, publish the copy; again on a newer version
        when another edit or an upload was published meanwhile."""
        with self._layer_lock(layer.id):
            return self._publish_locked(layer, action, change, body)

    def _publish_locked(self, layer: Layer, action: str,
                        change: Callable[[EditSession], list[int]], body: bytes) -> EditOutcome:
        for _ in range(ATTEMPTS):
            fresh = self.catalog.get_layer(layer.id)
            base = fresh.current
            if base is None:
                raise NotFound(tr("collection {id} not found", id=repr(layer.id)))
            next_fid = base.typed_report.edit.next_fid
            with self.store.edit(base.store_ref, layer.id, base.fields,
                                 next_fid=next_fid) as session:
                fids = change(session)
                rows = [session.get(fid) for fid in fids]
                count, extent = session.summary()
                next_fid = session.next_fid
                ref = session.commit()
            draft = dataclasses.replace(
                base, store_ref=ref, feature_count=count, extent=extent,
                source_name=f"edit: {action} {', '.join(map(str, fids[:20]))}"
                            + (" ..." if len(fids) > 20 else ""),
                source_sha256=hashlib.sha256(body).hexdigest(), source_crs=None,
                report=self._report(base, action, fids, next_fid))
            try:
                version = self.catalog.publish(fresh.meta, draft, based_on=base.version)
            except Conflict:
                self.store.drop(ref)
                continue
            for old in self.catalog.prune(layer.id, self.keep_versions):
                self.store.drop(old)
            return EditOutcome(version=version, fids=fids, rows=rows)
        raise Conflict(tr("layer {id} is changing too fast to edit (tried {n} times); try again",
                          id=repr(layer.id), n=ATTEMPTS))

    @staticmethod
    def _report(base: Version, action: str, fids: list[int], next_fid: int) -> dict[str, Any]:
        edit = EditState(next_fid=next_fid, action=action, features=tuple(fids[:1000]),
                         count=len(fids), based_on=base.version)
        return {"status": "published", **edit.to_dict()}
