"""Raster layers: a GeoTIFF becomes a Cloud-Optimized GeoTIFF version of a coverage layer.

The same contract as the vector pipeline: unchanged sources are skipped, the new file is
complete before the catalog switches to it, a failure leaves the previous version serving.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import shapely

from geoportal.catalog import Catalog, Registry, Version
from geoportal.errors import GeometryError, InputError
from geoportal.etl.manifest import Manifest
from geoportal.etl.publish import register, skip_unchanged
from geoportal.etl.readers import fingerprint
from geoportal.etl.report import Report
from geoportal.i18n import tr
from geoportal.reports import RasterGrid
from geoportal.states import LayerKind, VersionStatus
from geoportal.storage.rasters import RasterStore

__all__ = ["RASTER_SUFFIXES", "ingest_raster", "is_raster"]

RASTER_SUFFIXES = (".tif", ".tiff")

log = logging.getLogger("geoportal.etl")


def is_raster(path: Path) -> bool:
    """A source the coverage pipeline takes (GeoTIFF, or a zip whose name says so)."""
    name = path.name.lower()
    return name.endswith(RASTER_SUFFIXES) or name.endswith(tuple(f"{s}.zip"
                                                                 for s in RASTER_SUFFIXES))


def _floats(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """``box`` as plain Python floats (not numpy's), for the catalog's JSON."""
    minx, miny, maxx, maxy = box
    return float(minx), float(miny), float(maxx), float(maxy)


def ingest_raster(manifest: Manifest, *, catalog: Catalog, rasters: RasterStore,
                  registry: Registry, bounds: tuple[float, float, float, float] | None,
                  keep_versions: int = 3, force: bool = False) -> Report:
    """Publish the manifest's GeoTIFF as a new COG version of a coverage layer."""
    from geoportal.etl.raster import make_cog  # rasterio: a second GDAL, loaded when needed

    started = time.monotonic()
    meta = dataclasses.replace(manifest.meta, kind=LayerKind.COVERAGE)
    spec = manifest.source
    report = Report(layer_id=meta.id, source=str(spec.path), options=manifest.options(),
                    format="GTiff")
    report.source_sha256 = fingerprint(spec)
    existing = catalog.find_layer(meta.id)
    if existing is not None and existing.meta.kind != "coverage":
        raise InputError(tr("{file}: layer {id} holds features, not a raster; publish the "
                            "raster under another id", file=spec.path.name, id=repr(meta.id)))
    current = existing.current if existing else None
    if skip_unchanged(catalog, meta, current, report, force=force):
        return report

    ref = rasters.new_ref(meta.id)
    # The COG is made in a local file, then stored in one piece, then registered: a store
    # that cannot take it leaves no catalog row, and readers never see half an object.
    with rasters.staging(ref) as local:
        info = make_cog(spec.path, local, crs=spec.crs)
        report.source_crs = info.crs
        report.crs_origin = "manifest" if spec.crs else "file"
        report.crs_confidence = "high"
        report.raster = RasterGrid.from_dict(info.to_dict())
        if bounds is not None and not shapely.box(*info.extent).intersects(shapely.box(*bounds)):
            raise GeometryError(tr("{file}: the raster lies outside the layer's region "
                                   "(extent {extent})", file=spec.path.name,
                                   extent=", ".join(f"{v:.4f}" for v in info.extent)))
        draft = Version(
            layer_id=meta.id, version=0, created=datetime.now(UTC),
            status=VersionStatus.STAGED,
            source_name=spec.path.name, source_sha256=report.source_sha256,
            source_crs=info.crs, store_ref=ref, feature_count=0, set_aside_count=0,
            extent=_floats(info.extent), geometry_type=None, fields=[],
            report={},
        )
        rasters.put(ref, local)
    version = register(catalog, meta, draft, report, started=started,
                       keep_versions=keep_versions, drop=rasters.drop)
    log.info("layer=%s status=published version=%s kind=coverage size=%sx%s", meta.id,
             version.version, info.width, info.height)
    return report
