"""Open what regions send (GeoJSON, Shapefile loose or zipped, GeoPackage, CSV/TSV) as a
stream of Arrow batches through GDAL, without loading the whole file."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from geoportal.errors import InputError, UnsupportedFormat
from geoportal.etl.detect import detect_dbf_encoding
from geoportal.etl.manifest import SourceSpec

__all__ = ["BATCH_SIZE", "GEOMETRY", "Source", "fingerprint", "open_batches", "resolve_source"]

BATCH_SIZE = 65536
GEOMETRY = "__geometry__"  # the WKB column of every batch, apart from the properties
_FORMATS = {
    ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile", ".zip": "ESRI Shapefile",
    ".gpkg": "GPKG", ".csv": "CSV", ".tsv": "CSV", ".txt": "CSV",
}
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_X_NAMES = "lon,lng,long,longitude,x,easting,долгота,даўгата"
_Y_NAMES = "lat,latitude,y,northing,широта,шырата"


@dataclass(frozen=True)
class Source:
    """A source resolved to something GDAL can open, with what GDAL says about it."""

    path: Path
    gdal_path: str
    format: str
    layer: str | None
    open_options: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    encoding: str | None = None
    encoding_reason: str | None = None

    @property
    def crs(self) -> str | None:
        return self.info.get("crs")

    @property
    def geometry_type(self) -> str:
        return str(self.info.get("geometry_type") or "Unknown")


def fingerprint(spec: SourceSpec) -> str:
    """sha256 over the source's bytes: every part of a Shapefile, or the one file."""
    digest = hashlib.sha256()
    for part in _data_files(spec.path):
        digest.update(part.name.lower().encode())
        with part.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _data_files(path: Path) -> list[Path]:
    if path.suffix.lower() == ".shp":
        parts = [path.with_suffix(s) for s in _SHAPEFILE_PARTS]
        parts += [path.with_suffix(s.upper()) for s in _SHAPEFILE_PARTS]
        return sorted({p for p in parts if p.is_file()})
    return [path]


def _zip_member(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.startswith("__MACOSX/")]
    except zipfile.BadZipFile:
        raise UnsupportedFormat(f"{path}: not a readable zip archive") from None
    shps = [n for n in names if n.lower().endswith(".shp")]
    if len(shps) != 1:
        found = ", ".join(shps) if shps else "none"
        raise UnsupportedFormat(
            f"{path}: a zip must hold exactly one Shapefile (.shp); found {found}"
        )
    return shps[0]


def resolve_source(spec: SourceSpec) -> Source:
    """Check the file exists and is a format we read; ask GDAL for its layer's description."""
    path = spec.path
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise UnsupportedFormat(f"{path}: a folder, not a data file")
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(_FORMATS))
        raise UnsupportedFormat(f"{path}: unsupported file type {path.suffix!r}; we read {known}")
    gdal_path = str(path)
    if path.suffix.lower() == ".zip":
        gdal_path = f"/vsizip/{path}/{_zip_member(path)}"
    elif fmt == "ESRI Shapefile" and not path.with_suffix(".dbf").exists() and not path.with_suffix(
        ".DBF"
    ).exists():
        raise InputError(f"{path}: the Shapefile's .dbf is missing; send .shp, .shx, .dbf and .prj")
    options: dict[str, str] = {}
    if fmt == "CSV":
        options = {
            "X_POSSIBLE_NAMES": spec.x_field or _X_NAMES,
            "Y_POSSIBLE_NAMES": spec.y_field or _Y_NAMES,
            "KEEP_GEOM_COLUMNS": "NO",
            "AUTODETECT_TYPE": "YES",
            "EMPTY_STRING_AS_NULL": "YES",
        }
    encoding, encoding_reason = spec.encoding, "set in the manifest" if spec.encoding else None
    if fmt == "ESRI Shapefile" and encoding is None:
        guess = detect_dbf_encoding(path)
        encoding, encoding_reason = guess.encoding, guess.reason
    layer = spec.layer
    try:
        if fmt == "GPKG" and layer is None:
            layers = [str(name) for name, gtype in pyogrio.list_layers(gdal_path) if gtype]
            if len(layers) != 1:
                raise InputError(
                    f"{path}: holds {len(layers)} vector tables ({', '.join(layers)}); "
                    "name one with source.layer in the manifest"
                )
            layer = layers[0]
        info = pyogrio.read_info(gdal_path, layer=layer, encoding=encoding, **options)
    except (DataSourceError, DataLayerError) as exc:
        raise UnsupportedFormat(f"{path}: GDAL cannot read it as {fmt}: {exc}") from None
    if fmt == "CSV" and not info.get("geometry_type"):
        raise InputError(
            f"{path}: no coordinate columns found; name them lon/lat (or x/y) "
            "or set source.x_field and source.y_field in the manifest"
        )
    if not info.get("geometry_type"):
        raise InputError(f"{path}: the layer has no geometry column")
    return Source(path=path, gdal_path=gdal_path, format=fmt, layer=layer,
                  open_options=options, info=info, encoding=encoding,
                  encoding_reason=encoding_reason or f"{fmt} text is {info.get('encoding')}")


@contextmanager
def open_batches(source: Source) -> Iterator[Iterator[pa.Table]]:
    """Yield an iterator of Arrow tables: the properties plus the WKB column ``GEOMETRY``."""
    try:
        with pyogrio.open_arrow(
            source.gdal_path, layer=source.layer, encoding=source.encoding,
            batch_size=BATCH_SIZE, use_pyarrow=True, **source.open_options,
        ) as (meta, reader):
            geometry_name = meta.get("geometry_name") or "wkb_geometry"

            def batches() -> Iterator[pa.Table]:
                for batch in reader:
                    table = pa.Table.from_batches([batch])
                    names = table.column_names
                    gcol = geometry_name if geometry_name in names else names[-1]
                    idx = names.index(gcol)
                    yield table.rename_columns(
                        [(GEOMETRY if i == idx else n) for i, n in enumerate(names)]
                    )

            yield batches()
    except (DataSourceError, DataLayerError) as exc:
        raise UnsupportedFormat(f"{source.path}: GDAL failed while reading: {exc}") from None
