"""The features a version set aside, exported as a file the regional admin can open and fix.

Rows come back as they were read (properties and geometry in the source CRS), with the row
number in the source and the reason, so a fixed file can simply be ingested again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyogrio

from geoportal.catalog.models import Version
from geoportal.errors import InputError, StorageError
from geoportal.i18n import tr
from geoportal.storage import FeatureStore

__all__ = ["EXPORT_FORMATS", "export_quarantine"]

# Output suffix -> (GDAL driver, layer creation options)
EXPORT_FORMATS = {
    ".gpkg": ("GPKG", {}),
    ".geojson": ("GeoJSON", {}),
    ".csv": ("CSV", {"GEOMETRY": "AS_WKT"}),
}
ROW, REASON = "source_row", "quarantine_reason"


def _tables(store: FeatureStore, version: Version) -> Iterator[pa.Table]:
    for batch in store.quarantine(version.store_ref):
        properties = [json.loads(p) if p else {} for p in batch.column("properties").to_pylist()]
        rows = [{ROW: r, REASON: why, **{k: v for k, v in p.items() if k not in (ROW, REASON)}}
                for r, why, p in zip(batch.column("source_row").to_pylist(),
                                     batch.column("reason").to_pylist(), properties,
                                     strict=True)]
        table = pa.Table.from_pylist(rows)
        for i, column in enumerate(table.schema):  # all-empty columns: text, for GDAL
            if pa.types.is_null(column.type):
                table = table.set_column(i, column.name, table.column(i).cast(pa.string()))
        yield table.append_column("geometry", batch.column("source_wkb"))


def export_quarantine(store: FeatureStore, version: Version, path: Path) -> int:
    """Write the version's set-aside features to ``path`` (.gpkg, .geojson or .csv); return
    how many. The geometries keep the source CRS; the file says which."""
    driver, options = EXPORT_FORMATS.get(path.suffix.lower(), (None, None))
    if driver is None:
        raise InputError(tr("{path}: export as one of {formats}", path=str(path),
                            formats=", ".join(EXPORT_FORMATS)))
    if version.set_aside_count == 0:
        return 0
    table = pa.concat_tables(list(_tables(store, version)), promote_options="permissive")
    if path.exists():
        path.unlink()
    try:
        pyogrio.write_arrow(table, path, driver=driver, layer="quarantine",
                            geometry_name="geometry", geometry_type="Unknown",
                            crs=version.source_crs, layer_options=options or None)
    except Exception as exc:  # GDAL raises a family of its own errors
        raise StorageError(f"{path}: writing the quarantine failed: {exc}") from exc
    return int(table.num_rows)
