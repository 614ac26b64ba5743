"""The ETL as one tool: ``ingest(manifest, ...) -> Report``; the CLI and the admin API wrap it.

A publish is atomic: the data goes to a staged table; only a complete table is registered as
the layer's current version, in one catalog transaction. Any failure leaves the previous version
serving and removes the staged table.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import shapely

from geoportal.catalog import Catalog, Registry, Version
from geoportal.errors import GeometryError, GeoportalError
from geoportal.etl.geometry import prepare, target_type
from geoportal.etl.manifest import Manifest
from geoportal.etl.normalize import plan_fields
from geoportal.etl.readers import GEOMETRY, fingerprint, open_batches, resolve_source
from geoportal.etl.report import Report
from geoportal.etl.reproject import resolve_crs, to_crs84
from geoportal.storage import FeatureStore

__all__ = ["ingest"]

log = logging.getLogger("geoportal.etl")

# How far (degrees, about 35-55 km here) outside its region's bounding box a feature may lie and
# still be published: suburban stops of a city layer stay, 0,0 points and wrong zones do not.
REGION_MARGIN = 0.5


def _crs_name(crs: object) -> str:
    auth = crs.to_authority()  # type: ignore[attr-defined]
    return f"{auth[0]}:{auth[1]}" if auth else crs.name  # type: ignore[attr-defined]


def ingest(
    manifest: Manifest,
    *,
    catalog: Catalog,
    store: FeatureStore,
    registry: Registry,
    keep_versions: int = 3,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Publish the manifest's source as a new version of its layer, unless it is unchanged.

    Raises InputError subclasses for problems with the file or manifest (nothing is written)
    and StorageError when our side fails (the previous version keeps serving).
    """
    started = time.monotonic()
    meta, spec = manifest.meta, manifest.source
    report = Report(layer_id=meta.id, source=str(spec.path), options=spec.options())
    region = registry.region(meta.region)
    registry.theme(meta.theme)
    source = resolve_source(spec)
    report.format = source.format
    report.encoding = source.encoding or source.info.get("encoding")
    report.notes.append(f"encoding {report.encoding}: {source.encoding_reason}")
    existing = catalog.find_layer(meta.id)
    current = existing.current if existing else None
    # The sha256 decides "unchanged" only when there is a current version to compare with;
    # otherwise it is computed while the data loads (hashlib releases the GIL).
    hashing = ThreadPoolExecutor(max_workers=1)
    digest = hashing.submit(fingerprint, spec)
    hashing.shutdown(wait=False)
    if current is not None and not force:
        report.source_sha256 = digest.result()
    if (not force and current is not None and current.source_sha256 == report.source_sha256
            and current.report.get("options") == report.options):
        catalog.save_metadata(meta)
        report.status, report.version = "unchanged", current.version
        report.source_crs = current.source_crs
        log.info("layer=%s status=unchanged version=%s", meta.id, current.version)
        return report

    bounds = None
    if region.bbox:
        minx, miny, maxx, maxy = region.bbox
        bounds = (minx - REGION_MARGIN, miny - REGION_MARGIN,
                  maxx + REGION_MARGIN, maxy + REGION_MARGIN)

    with open_batches(source) as batches:
        first = next(batches, None)
        if first is None:
            raise GeometryError(f"{spec.path}: the layer holds no features; nothing to publish")
        sample = shapely.from_wkb(first.column(GEOMETRY).to_numpy(zero_copy_only=False))
        crs, report.crs_origin, swap_xy, crs_reason = resolve_crs(
            declared=spec.crs, from_file=source.crs, xy=shapely.get_coordinates(sample),
            bbox=bounds, candidates=registry.crs_candidates,
            ambiguity_m=registry.crs_ambiguity_m, origin=str(spec.path),
        )
        report.source_crs = _crs_name(crs)
        report.notes.append(f"CRS {report.source_crs}: {crs_reason}")
        report.geometry_type = target_type(source.geometry_type,
                                           to_crs84(sample, crs, swap_xy=swap_xy))
        plan = plan_fields(first.schema, geometry=GEOMETRY)
        report.renamed_fields = plan.renamed
        for name, dtype in plan.dropped.items():
            report.notes.append(f"field {name!r} of type {dtype} cannot be published; dropped")

        extent = [np.inf, np.inf, -np.inf, -np.inf]
        with store.stage(meta.id, geometry_type=report.geometry_type) as writer:
            for batch in itertools.chain([first], batches):
                geoms = shapely.from_wkb(batch.column(GEOMETRY).to_numpy(zero_copy_only=False))
                has_z = shapely.has_z(geoms)
                if has_z.any():
                    geoms[has_z] = shapely.force_2d(geoms[has_z])
                    report.dropped_z += int(has_z.sum())
                geoms, reasons, repaired = prepare(
                    to_crs84(geoms, crs, swap_xy=swap_xy), report.geometry_type, bounds=bounds
                )
                report.repaired += repaired
                keep = reasons == None  # noqa: E711 - elementwise on an object array
                for i in np.flatnonzero(~keep):
                    report.put_aside(report.features_read + int(i) + 1, reasons[i])
                report.features_read += batch.num_rows
                if keep.any():
                    kept = geoms[keep]
                    writer.write(plan.apply(batch.filter(pa.array(keep))), kept)
                    report.features_published += int(keep.sum())
                    b = shapely.total_bounds(kept)
                    extent = [min(extent[0], b[0]), min(extent[1], b[1]),
                              max(extent[2], b[2]), max(extent[3], b[3])]
                if progress:
                    progress(batch.num_rows)
            if report.features_published == 0:
                reasons = ", ".join(f"{n} {r}" for r, n in report.set_aside.most_common())
                raise GeometryError(f"{spec.path}: no feature can be published ({reasons})")
            ref = writer.commit()

    report.source_sha256 = digest.result()
    draft = Version(
        layer_id=meta.id, version=0, created=datetime.now(UTC), status="staged",
        source_name=spec.path.name, source_sha256=report.source_sha256,
        source_crs=report.source_crs, store_ref=ref,
        feature_count=report.features_published, set_aside_count=report.set_aside_count,
        extent=tuple(float(v) for v in extent), geometry_type=report.geometry_type,
        fields=plan.fields, report={},
    )
    report.status = "published"
    report.seconds = round(time.monotonic() - started, 3)
    draft.report = report.to_dict()
    try:
        version = catalog.publish(meta, draft)
    except GeoportalError:
        store.drop(ref)
        raise
    report.version = version.version
    for old in catalog.prune(meta.id, keep_versions):
        store.drop(old)
    log.info("layer=%s status=published version=%s read=%s published=%s set_aside=%s",
             meta.id, version.version, report.features_read, report.features_published,
             report.set_aside_count)
    return report

