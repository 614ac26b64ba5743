"""The format-specific pieces of reading a region's file, apart from the reader itself.

Shapefiles in zips and without their .shx index, plain text in another encoding than UTF-8,
tables whose geometry is a pair of coordinate columns or a WKT column, and the choice of one
layer out of several: each needs a little work before (or while) GDAL streams the rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import shapely
from pyogrio.errors import DataLayerError
from pyogrio.util import vsi_path

from geoportal.errors import EncodingError, InputError, UnsupportedFormat
from geoportal.etl.detect import EncodingGuess, detect_dbf_encoding, guess_cyrillic
from geoportal.etl.manifest import SourceSpec

__all__ = ["SOURCE_ONLY", "Decoding", "Staging", "TableGeometry", "add_geometry", "alias",
           "choose_layer", "copy_names", "csv_separator", "detect_text_encoding",
           "find_geometry_columns", "gdal_config", "gdal_safe", "pick_layer", "pick_sheet",
           "shapefile", "shapefile_parts", "staged", "text_encoding", "zip_shapefile"]

_SHAPEFILE_EXTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
# Prefix of the columns a table's geometry was built from: quarantined with their row, never
# published.
SOURCE_ONLY = "__source__:"
_CONFIG_LOCK = threading.RLock()
# In order of preference; POINT_X/POINT_Y is what ArcGIS's "Add XY Coordinates" writes.
_X_NAMES = ("lon", "lng", "long", "longitude", "x", "easting", "point_x", "долгота", "даўгата")
_Y_NAMES = ("lat", "latitude", "y", "northing", "point_y", "широта", "шырата")
_WKT_NAMES = ("wkt", "wkt_geom", "geom", "geometry", "the_geom", "shape")
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_CHUNK = 1 << 20
_PLAIN = "source"  # the stem of every copy GDAL opens


# --- Shapefiles -------------------------------------------------------------------------------

def _is_junk(name: str) -> bool:
    """Folders and the macOS resource forks Finder adds to zips (``__MACOSX/._x.shp``)."""
    base = PurePosixPath(name).name
    return name.endswith("/") or name.startswith("__MACOSX/") or base.startswith("._")


def zip_shapefile(path: Path, layer: str | None) -> dict[str, str]:
    """The zip members of the Shapefile to read, by lowercase extension (``.shp``, ``.dbf``...).

    A zip may hold the Shapefile in a folder, or several Shapefiles: then ``layer`` (the
    member's stem) picks one.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not _is_junk(n)]
    except zipfile.BadZipFile:
        raise UnsupportedFormat(f"{path.name}: not a readable zip archive; send the zip again or "
                                "the Shapefile's files themselves") from None
    shps = [n for n in names if n.lower().endswith(".shp")]
    if not shps:
        held = ", ".join(names[:10]) or "nothing"
        raise UnsupportedFormat(f"{path.name}: the zip holds no Shapefile (.shp) but {held}; "
                                "send a zip of .shp, .shx, .dbf and .prj")
    stems = [PurePosixPath(n).stem for n in shps]
    if layer is not None:
        wanted = layer.lower().removesuffix(".shp")
        picked = [n for n, s in zip(shps, stems, strict=True)
                  if wanted in (s.lower(), n.lower()[:-4])]
        if len(picked) != 1:
            raise InputError(f"{path.name}: source.layer {layer!r} names no single Shapefile "
                             f"in the zip; it holds {', '.join(n[:-4] for n in shps)}")
        shp = picked[0]
    elif len(shps) > 1:
        raise InputError(f"{path.name}: the zip holds {len(shps)} Shapefiles ({', '.join(stems)}); "
                         "name one with source.layer in the manifest")
    else:
        shp = shps[0]
    base = shp[:-4].lower()
    return {n[-4:].lower(): n for n in names if n[:-4].lower() == base
            and n[-4:].lower() in _SHAPEFILE_EXTS}


def shapefile_parts(shp: Path) -> dict[str, Path]:
    """The parts of a loose Shapefile that exist, by lowercase extension (.SHX found too)."""
    parts = {}
    for ext in _SHAPEFILE_EXTS:
        found = [p for p in (shp.with_suffix(ext), shp.with_suffix(ext.upper())) if p.is_file()]
        if found:
            parts[ext] = found[0]
    return parts


def shapefile(spec: SourceSpec) -> tuple[str, Decoding]:
    """A Shapefile, loose or in a zip: the GDAL path, and its DBF's encoding with the copy to
    read if the .shx is missing (no copy if it is there)."""
    path = spec.path
    if path.suffix.lower() == ".zip":
        parts = zip_shapefile(path, spec.layer)
        gdal_path = f"/vsizip/{path}/{parts['.shp']}"
    else:
        parts = {ext: str(p) for ext, p in shapefile_parts(path).items()}
        gdal_path = str(path)
    if ".dbf" not in parts:
        raise InputError(f"{path.name}: the Shapefile's .dbf is missing; send .shp, .shx, .dbf and "
                         ".prj together")
    staging = _shapefile_staging(path, parts)
    if spec.encoding:
        try:
            codecs.lookup(spec.encoding)
        except LookupError:
            raise InputError(f"{path.name}: unknown encoding {spec.encoding!r}; set "
                             "source.encoding to one like UTF-8, CP1251, CP866 or KOI8-R") from None
        return gdal_path, Decoding(spec.encoding, "set in the manifest", staging=staging)
    guess = zip_dbf_encoding(path, parts) if gdal_path.startswith("/vsizip/") else (
        detect_dbf_encoding(path))
    return gdal_path, Decoding(guess.encoding, guess.reason, guess.confidence, staging)


def zip_dbf_encoding(path: Path, parts: dict[str, str]) -> EncodingGuess:
    """The DBF encoding of a zipped Shapefile: the member's .cpg and DBF, judged by detect.py.

    detect.py reads a loose Shapefile's siblings, so the first megabyte of the DBF (all it
    looks at) and the .cpg are copied to a temporary folder for it.
    """
    with tempfile.TemporaryDirectory(prefix="geoportal-dbf-") as tmp, zipfile.ZipFile(path) as zf:
        folder = Path(tmp)
        if ".dbf" in parts:
            with zf.open(parts[".dbf"]) as fh:
                (folder / "part.dbf").write_bytes(fh.read(_CHUNK))
        if ".cpg" in parts:
            (folder / "part.cpg").write_bytes(zf.read(parts[".cpg"]))
        return detect_dbf_encoding(folder / "part.shp")


@dataclass(frozen=True)
class Decoding:
    """A source's text encoding, why we think so, how sure we are (high, medium, low), and the
    copy GDAL must read instead of the file, if any."""

    encoding: str | None
    reason: str
    confidence: str = "high"
    staging: Staging | None = None


@dataclass(frozen=True)
class Staging:
    """A copy GDAL can read, made in a temporary folder for each read and removed after.

    ``restore-shx``: a Shapefile without its .shx; the parts are linked (or extracted from the
    zip) beside each other and GDAL rebuilds the index. ``transcode``: text that is not UTF-8,
    which GDAL's Arrow stream cannot carry, rewritten as UTF-8. ``alias``: a file whose name
    pyogrio would read as a URI (``roads;v2.geojson`` loses ``;v2.geojson``), linked under a
    plain name (a loose Shapefile's parts side by side; a zip's member named by ``inner``).
    Copies always get plain names (``source.shp``): GDAL never sees the user's file name.
    """

    kind: str  # "restore-shx" | "transcode" | "alias"
    source: Path  # the file, or the zip holding the parts
    name: str  # file name of the copy GDAL opens
    members: tuple[str, ...] = ()  # restore-shx, alias: the parts (paths, or zip member names)
    encoding: str | None = None  # transcode: the text's encoding
    prefix: str = ""  # GDAL's "DRIVER:" prefix for the copy
    inner: str = ""  # alias of a zip: the member GDAL opens inside it


def copy_names(staging: Staging | None) -> dict[str, str]:
    """The names GDAL sees in a staged copy (``source.csv``, ``source.dbf``), each with the
    name the user knows it by: the file, a Shapefile's part, or ``roads.zip/roads/roads.dbf``
    for a member of a zip. Empty when GDAL reads the file itself."""
    if staging is None:
        return {}
    names = {staging.name: staging.source.name}
    zipped = staging.source.suffix.lower() == ".zip"
    for member in staging.members:
        shown = f"{staging.source.name}/{member}" if zipped else Path(member).name
        names[_PLAIN + PurePosixPath(member).suffix.lower()] = shown
    return names


def _shapefile_staging(path: Path, parts: dict[str, str]) -> Staging | None:
    """How to read a Shapefile (loose ``path`` or a zip) whose .shx is missing; None if it isn't."""
    if ".shx" in parts:
        return None
    return Staging("restore-shx", path, _PLAIN + ".shp", members=tuple(parts.values()))


def gdal_safe(path: Path) -> bool:
    """Whether pyogrio hands GDAL ``path`` as it is: it parses paths as URIs, so a ``;``
    (URI parameters) or a ``scheme:`` in the name would cut or redirect the path."""
    return vsi_path(str(path)) == str(path)


def alias(path: Path, gdal_path: str, prefix: str = "") -> Staging | None:
    """The plain-named link GDAL must open instead of ``path``, or None if ``path`` is safe.

    ``gdal_path`` is what GDAL would open (``/vsizip/...zip/member`` for a zipped Shapefile;
    its member keeps its name, as /vsi paths reach GDAL unparsed); a loose Shapefile brings
    its parts.
    """
    if gdal_safe(path):
        return None
    suffix = path.suffix.lower()
    if gdal_path.startswith("/vsizip/"):
        inner = gdal_path.removeprefix(f"/vsizip/{path}/")
        return Staging("alias", path, _PLAIN + suffix, inner=inner)
    members = tuple(str(p) for p in shapefile_parts(path).values()) if suffix == ".shp" else ()
    return Staging("alias", path, _PLAIN + suffix, members=members, prefix=prefix)


@contextmanager
def staged(staging: Staging) -> Iterator[str]:
    """Make the readable copy; yield the path to give GDAL; remove the copy afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="geoportal-read-"))
    try:
        target = folder / staging.name
        if staging.kind == "transcode":
            _transcode(staging.source, target, staging.encoding or "utf-8")
        elif staging.kind == "alias" and not staging.members:
            target.symlink_to(staging.source.resolve())
            if staging.inner:
                yield f"/vsizip/{target}/{staging.inner}"
                return
        else:
            _place_parts(staging, folder, Path(staging.name).stem)
            if staging.kind == "restore-shx":
                _restore_shx(target)
        yield staging.prefix + str(target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _place_parts(staging: Staging, folder: Path, stem: str) -> None:
    """Put the Shapefile's parts side by side: links to loose files, or extracted zip members."""
    if staging.source.suffix.lower() == ".zip":
        with zipfile.ZipFile(staging.source) as zf:
            for member in staging.members:
                with zf.open(member) as src, (folder / f"{stem}{member[-4:].lower()}").open(
                        "wb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
        return
    for part in map(Path, staging.members):
        link = folder / f"{stem}{part.suffix.lower()}"
        try:
            link.symlink_to(part.resolve())
        except OSError:  # no symlinks (Windows without the privilege): copy
            shutil.copyfile(part, link)


def _restore_shx(shp: Path) -> None:
    """Have GDAL write the missing .shx beside ``shp``: it does when it opens the file with
    SHAPE_RESTORE_SHX=YES (a config option, no open option exists); later opens need nothing."""
    with gdal_config({"SHAPE_RESTORE_SHX": "YES"}):
        pyogrio.read_info(shp)


@contextmanager
def gdal_config(options: dict[str, str]) -> Iterator[None]:
    """Set GDAL config options for the block and put back the previous values after.

    GDAL's config is process-wide: only options every read of ours wants the same way belong
    here, and a lock keeps two threads (two ingests of the admin API) from restoring each
    other's values mid-read.
    """
    if not options:
        yield
        return
    with _CONFIG_LOCK:
        previous = {k: pyogrio.get_gdal_config_option(k) for k in options}
        pyogrio.set_gdal_config_options(options)
        try:
            yield
        finally:
            pyogrio.set_gdal_config_options(previous)


# --- Text encodings ---------------------------------------------------------------------------

def detect_text_encoding(path: Path) -> Decoding:
    """The encoding of a text file: UTF-8 if all of it decodes as UTF-8, UTF-16 by its byte
    order mark, else the Cyrillic code page whose letters read most like Russian or Belarusian
    (regions export CSV from Excel or old GIS in CP1251, sometimes CP866 or KOI8-R).
    Binary content (NUL bytes) is not text at all.
    """
    with path.open("rb") as fh:
        head = fh.read(_CHUNK)
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return Decoding("UTF-16", "the text starts with a UTF-16 byte order mark")
        if b"\x00" in head:
            raise UnsupportedFormat(f"{path.name}: binary content, not text; check the file is "
                                    "what its extension says")
        decoder = codecs.getincrementaldecoder("utf-8")()
        chunk, plain = head, True
        try:
            while chunk:
                plain = plain and chunk.isascii()
                decoder.decode(chunk)
                chunk = fh.read(_CHUNK)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            guess = guess_cyrillic(head.removeprefix(codecs.BOM_UTF8), cut_ok=True)
            if guess.encoding == "UTF-8":  # valid at the start, broken further on
                return Decoding("CP1251", "not valid UTF-8 throughout, so Windows Cyrillic "
                                "(CP1251) is assumed; set source.encoding if names look wrong",
                                "low")
            return Decoding(guess.encoding, f"not UTF-8; {guess.reason}", guess.confidence)
    return Decoding("UTF-8", "the text is plain ASCII" if plain else "the text is valid UTF-8")


def text_encoding(spec: SourceSpec, prefix: str) -> Decoding:
    """The encoding of a text format (the manifest's, else detected), with the UTF-8 copy GDAL
    needs if it is not UTF-8: GDAL's Arrow stream carries UTF-8 only."""
    found = (Decoding(spec.encoding, "set in the manifest") if spec.encoding
             else detect_text_encoding(spec.path))
    encoding = str(found.encoding)
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"{spec.path.name}: unknown encoding {encoding!r}; set source.encoding to "
                         "one like UTF-8, CP1251, CP866 or KOI8-R") from None
    if codec == "utf-8":
        return found
    copy = Staging("transcode", spec.path, _PLAIN + spec.path.suffix.lower(), encoding=encoding,
                   prefix=prefix)
    return Decoding(encoding, found.reason, found.confidence, copy)


def csv_separator(path: Path, encoding: str) -> str | None:
    """GDAL's SEPARATOR for a delimited text: tab, semicolon, comma or pipe, the first that
    splits the first lines into the same number (>1) of columns; None to leave it to GDAL.

    GDAL guesses from the header line alone, so 'Назва;Долгота, °;Широта, °' reads as comma
    separated; decimal commas make commas look consistent too, hence semicolon before comma.
    """
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
        complete = not fh.read(1)
    text = head.decode(encoding, errors="replace")
    if not complete:
        text = text[: text.rfind("\n") + 1]
    lines = [line for line in text.splitlines() if line.strip()][:50]
    for sep, name in (("\t", "TAB"), (";", "SEMICOLON"), (",", "COMMA"), ("|", "PIPE")):
        widths = {len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=sep)}
        if len(widths) == 1 and widths.pop() > 1:
            return name
    return None


def _transcode(source: Path, target: Path, encoding: str) -> None:
    """Rewrite ``source`` as UTF-8, a megabyte at a time."""
    try:
        with source.open(encoding=encoding, newline="") as src, target.open(
                "w", encoding="utf-8", newline="") as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
    except UnicodeDecodeError:
        raise EncodingError(f"{source.name}: the text is not valid {encoding}; set source.encoding "
                            "in the manifest to the file's encoding") from None


# --- Tables: coordinates in columns ----------------------------------------------------------

@dataclass(frozen=True)
class TableGeometry:
    """The columns a table's geometry comes from: x and y, or one column of WKT."""

    x: str | None = None
    y: str | None = None
    wkt: str | None = None

    @property
    def columns(self) -> list[str]:
        return [c for c in (self.x, self.y, self.wkt) if c is not None]


def _norm(name: str) -> str:
    """A column name as matched: lowercase, without units after a comma or bracket, ў/ё as у/е.

    So 'Lng', ' Долгота, ° ', 'Longitude (WGS84)' and 'Даугата' all match their list entry.
    """
    head = re.split(r"[,(\[;]", name, maxsplit=1)[0]
    return head.replace("°", "").strip(" .:").casefold().replace("ў", "у").replace("ё", "е")


def _find(fields: list[str], wanted: str | None, names: tuple[str, ...], what: str,
          origin: Path) -> str | None:
    """The field named by the manifest (``wanted``) or the first match of ``names``."""
    normalized = {_norm(f): f for f in reversed(fields)}  # the first of equal names wins
    if wanted is not None:
        found = wanted if wanted in fields else normalized.get(_norm(wanted))
        if found is None:
            raise InputError(f"{origin.name}: source.{what} {wanted!r} is not a column; the "
                             f"columns are {', '.join(fields)}")
        return found
    return next((normalized[_norm(n)] for n in names if _norm(n) in normalized), None)


def find_geometry_columns(fields: list[str], spec: SourceSpec) -> TableGeometry | None:
    """Where a table's geometry is: the manifest's WKT column, its x/y columns, coordinate
    columns found by name (en/ru/be, any case), or a WKT column found by name; None if none."""
    if spec.geometry_field is not None:
        return TableGeometry(wkt=_find(fields, spec.geometry_field, (), "geometry_field",
                                       spec.path))
    x = _find(fields, spec.x_field, _X_NAMES, "x_field", spec.path)
    y = _find(fields, spec.y_field, _Y_NAMES, "y_field", spec.path)
    if x is not None and y is not None and x != y:
        return TableGeometry(x=x, y=y)
    wkt = _find(fields, None, _WKT_NAMES, "geometry_field", spec.path)
    return TableGeometry(wkt=wkt) if wkt is not None else None


def _numbers(column: pa.ChunkedArray) -> np.ndarray:
    """Floats from numbers or text ('27,55', ' 5 412 345.6 ', '53.9°'); NaN where unreadable."""
    values = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        return values.cast(pa.float64()).to_numpy(zero_copy_only=False)
    text = pc.replace_substring_regex(values.cast(pa.string()), r"[\s\x{00A0}\x{202F}°]", "")
    text = pc.replace_substring(text, ",", ".")
    ok = pc.fill_null(pc.match_substring_regex(text, _NUMBER), False)
    parsed = pc.if_else(ok, text, pa.scalar(None, pa.string())).cast(pa.float64())
    return parsed.to_numpy(zero_copy_only=False)


def _points(table: pa.Table, plan: TableGeometry) -> np.ndarray:
    x, y = _numbers(table.column(plan.x)), _numbers(table.column(plan.y))
    ok = np.isfinite(x) & np.isfinite(y)
    geoms = np.full(len(x), None, dtype=object)
    geoms[ok] = shapely.points(x[ok], y[ok])
    return geoms


def _from_wkt(table: pa.Table, plan: TableGeometry) -> np.ndarray:
    text = table.column(plan.wkt).cast(pa.string())
    text = pc.replace_substring_regex(text, r"^\s*SRID=\d+;", "")  # PostGIS EWKT
    return shapely.from_wkt(text.to_numpy(zero_copy_only=False), on_invalid="ignore")


def add_geometry(table: pa.Table, plan: TableGeometry, *, name: str,
                 drop: str | None = None) -> pa.Table:
    """``table`` with a WKB column ``name`` built from the plan's columns; those are renamed
    with ``SOURCE_ONLY`` in front (kept for the quarantine of rows whose coordinates could not
    be read, never published), and ``drop`` (GDAL's own geometry: CSV makes one of a column
    named WKT) is dropped. Rows without readable coordinates get a null geometry."""
    geoms = _from_wkt(table, plan) if plan.wkt else _points(table, plan)
    if drop and drop in table.column_names and drop not in plan.columns:
        table = table.drop_columns([drop])
    table = table.rename_columns([SOURCE_ONLY + c if c in plan.columns else c
                                  for c in table.column_names])
    wkb = pa.array(shapely.to_wkb(geoms), type=pa.binary())
    return table.append_column(name, wkb)


# --- Layers -----------------------------------------------------------------------------------

def _features(count: int) -> str:
    if count < 0:
        return "? features"
    return f"{count} feature{'' if count == 1 else 's'}"


def choose_layer(path: Path, counts: dict[str, int], named: str | None, *,
                 all_layers: list[str]) -> str:
    """The one layer to read: ``named`` (which must exist), else the only candidate in
    ``counts`` (name -> features), else the only one with features."""
    if named is not None:
        if named not in all_layers:
            raise InputError(f"{path.name}: has no layer {named!r}; its layers are "
                             f"{', '.join(all_layers) or 'none'}; correct source.layer")
        return named
    if len(counts) == 1:
        return next(iter(counts))
    if not counts:
        raise InputError(f"{path.name}: holds no layer with geometry (layers: "
                         f"{', '.join(all_layers) or 'none'}); send a file with features")
    full = [n for n, c in counts.items() if c != 0]
    if len(full) == 1:
        return full[0]
    listing = ", ".join(f"{n} ({_features(c)})" for n, c in counts.items())
    if not full:
        raise InputError(f"{path.name}: every layer is empty ({listing}); send a file with "
                         "features")
    raise InputError(f"{path.name}: holds {len(full)} layers with features ({listing}); name "
                     "one with source.layer in the manifest")


def _count(gdal_path: str, layer: str, options: dict[str, str]) -> int:
    """How many features a layer has, counting them if the driver cannot say at once."""
    with suppress(DataLayerError):
        return int(pyogrio.read_info(gdal_path, layer=layer, force_feature_count=True,
                                     **options)["features"])
    return -1


def _layers(gdal_path: str, options: dict[str, str]) -> list[tuple[str, str | None]]:
    """Layer names and geometry types. With open options (GML's WRITE_GFS=NO), layer by layer,
    as pyogrio's list_layers takes none."""
    if not options:
        return [(str(n), g) for n, g in pyogrio.list_layers(gdal_path)]
    found: list[tuple[str, str | None]] = []
    while True:
        try:
            info = pyogrio.read_info(gdal_path, layer=len(found), **options)
        except DataLayerError:
            return found
        found.append((str(info["layer_name"]), info.get("geometry_type")))


def pick_layer(spec: SourceSpec, gdal_path: str, options: dict[str, str], *,
               pool: tuple[str, ...] | None = None) -> tuple[str, int | None]:
    """The layer to read (see ``choose_layer``) among those with geometry, or among ``pool``
    (GPX: waypoints, routes, tracks); and its feature count if it was counted to choose."""
    layers = _layers(gdal_path, options)
    names = [n for n, _ in layers]
    candidates = [n for n, g in layers if (n in pool if pool else g)]
    counts = {n: -1 for n in candidates}
    if spec.layer is None and len(candidates) > 1:
        counts = {n: _count(gdal_path, n, options) for n in candidates}
    layer = choose_layer(spec.path, counts, spec.layer, all_layers=names)
    count = counts.get(layer, -1)
    return layer, count if count >= 0 else None


def pick_sheet(spec: SourceSpec, gdal_path: str, options: dict[str, str]) -> tuple[str, int | None]:
    """The worksheet named by source.layer, else the first one holding rows."""
    sheets = [n for n, _ in _layers(gdal_path, {})]
    if spec.layer is not None:
        return choose_layer(spec.path, {}, spec.layer, all_layers=sheets), None
    for sheet in sheets:
        count = _count(gdal_path, sheet, options)
        if count > 0:
            return sheet, count
    raise InputError(f"{spec.path.name}: every sheet is empty ({', '.join(sheets)}); send a "
                     "workbook with a header row and data")
