"""The two ends every ingest shares, vector or raster: skip an unchanged source, and register
a complete staged version (dropping it if the catalog refuses, pruning old ones after)."""

from __future__ import annotations

import time
from collections.abc import Callable

from geoportal.catalog import Catalog, Version
from geoportal.catalog.models import LayerMetadata
from geoportal.errors import GeoportalError
from geoportal.etl.report import Report
from geoportal.etl.styles import check_style_fields

__all__ = ["register", "skip_unchanged"]


def skip_unchanged(catalog: Catalog, meta: LayerMetadata, current: Version | None,
                   report: Report, *, force: bool, origin: str | None = None) -> bool:
    """True (and the report says "unchanged") when the current version came from the same
    bytes with the same options; the layer's texts (and style, checked against the current
    version's fields, naming ``origin``) are still refreshed from the manifest."""
    if (force or current is None or current.source_sha256 != report.source_sha256
            or current.typed_report.options != report.options):
        return False
    if origin is not None:
        check_style_fields((meta.view or {}).get("style"), current.fields, origin)
    catalog.save_metadata(meta)
    report.status, report.version = "unchanged", current.version
    report.source_crs = current.source_crs
    return True


def register(catalog: Catalog, meta: LayerMetadata, draft: Version, report: Report, *,
             started: float, keep_versions: int, drop: Callable[[str], None]) -> Version:
    """Make the staged ``draft`` the layer's current version, with the finished report.

    ``drop`` deletes a stored version: the staged one when the catalog refuses it, and the
    versions pruned beyond ``keep_versions``."""
    report.status = "published"
    report.seconds = round(time.monotonic() - started, 3)
    draft.report = report.to_dict()
    try:
        version = catalog.publish(meta, draft)
    except GeoportalError:
        drop(draft.store_ref)
        raise
    report.version = version.version
    for old in catalog.prune(meta.id, keep_versions):
        drop(old)
    return version
