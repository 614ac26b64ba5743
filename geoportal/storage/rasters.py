"""Raster layer versions: one Cloud-Optimized GeoTIFF per version under ``root/<layer>/``.

Files rather than database rows on both back ends: a COG is read by window and overview with
ranged reads, which GDAL does best from a file (or object storage) and PostGIS rasters do not.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from geoportal.errors import StorageError

__all__ = ["RasterStore"]


class RasterStore:
    """Where the ETL puts COGs and the coverage server finds them, by reference."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def new_ref(self, layer_id: str) -> str:
        """A fresh reference for a version being written (the file does not exist yet)."""
        return f"{layer_id}/{uuid.uuid4().hex}.tif"

    def path(self, ref: str) -> Path:
        """The file of ``ref``, refusing references that would leave the store."""
        path = (self.root / ref).resolve()
        if self.root.resolve() not in path.parents:
            raise StorageError(f"raster reference {ref!r} points outside {self.root}")
        return path

    def drop(self, ref: str) -> None:
        """Delete a version's file; a missing one is not an error."""
        path = self.path(ref)
        path.unlink(missing_ok=True)
        if path.parent != self.root and path.parent.is_dir() and not any(path.parent.iterdir()):
            shutil.rmtree(path.parent, ignore_errors=True)

    def refs(self) -> set[str]:
        """Every version file held (for garbage collection against the catalog)."""
        if not self.root.is_dir():
            return set()
        return {p.relative_to(self.root).as_posix() for p in self.root.glob("*/*.tif")
                if not p.name.startswith(".")}
