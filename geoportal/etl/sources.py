"""The format-specific pieces of reading a region's file, apart from the reader itself.

Shapefiles in zips and without their .shx index, plain text in another encoding than UTF-8,
tables whose geometry is a pair of coordinate columns or a WKT column, and the choice of one
layer out of several: each needs a little work before (or while) GDAL streams the rows.
"""

from __future__ import annotations

import codecs
import csv
import glob
import io
import re
import shutil
import tempfile
import threading
import zipfile
from collections import Counter
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
from geoportal.etl import mapinfo as mi
from geoportal.etl.detect import EncodingGuess, detect_dbf_encoding, guess_cyrillic
from geoportal.etl.dms import LAT, LON, parse_dms
from geoportal.etl.manifest import SourceSpec
from geoportal.i18n import tr

__all__ = ["SOURCE_ONLY", "Decoding", "Staging", "TableGeometry", "add_geometry", "alias",
           "choose_layer", "copy_names", "csv_separator", "detect_text_encoding", "dxf_encoding",
           "find_geometry_columns", "gdal_config", "gdal_safe", "mapinfo_header",
           "mapinfo_parts", "mapinfo_table", "pick_layer", "pick_sheet", "shapefile",
           "shapefile_parts", "sheet_rows", "staged", "text_encoding", "zip_shapefile",
           "zip_table", "zip_tables"]

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


# The main file of each kind of table a zip may hold, and what the zip must then hold besides.
_TABLE_SUFFIXES = (".shp", *mi.MAIN_SUFFIXES)


def _zip_names(path: Path) -> list[str]:
    """The zip's member names, without folders and macOS resource forks."""
    try:
        with zipfile.ZipFile(path) as zf:
            return [n for n in zf.namelist() if not _is_junk(n)]
    except zipfile.BadZipFile:
        raise UnsupportedFormat(tr("{file}: not a readable zip archive; send the zip again or "
                                   "the Shapefile's files themselves", file=path.name)) from None


def zip_tables(path: Path) -> dict[str, str]:
    """The tables a zip holds (Shapefiles, MapInfo TAB and MIF), each by the name that picks
    it, to its member: its stem (``roads``); where stems clash, its file name (``roads.tab``)
    if that is unique, else its path without the suffix (``a/roads``, ``b/roads``: the same
    name in two folders), else its whole path. Names are compared without case, as
    source.layer is."""
    names = _zip_names(path)
    mains = [n for n in names if PurePosixPath(n).suffix.lower() in _TABLE_SUFFIXES]
    ways = (lambda m: PurePosixPath(m).stem, lambda m: PurePosixPath(m).name,
            lambda m: m.rsplit(".", 1)[0], str)
    tables: dict[str, str] = {}
    for member in mains:
        for way in ways:
            key = way(member)
            if sum(way(m).lower() == key.lower() for m in mains) == 1 and (
                    key.lower() not in (t.lower() for t in tables)):
                break
        tables[key] = member
    return tables


def zip_table(path: Path, layer: str | None) -> str:
    """The member (a .shp, .tab or .mif) of the zip to read: the one ``layer`` names (its stem,
    file name, or path without suffix), else the only one; its suffix picks the reader."""
    tables = zip_tables(path)
    if not tables:
        held = ", ".join(_zip_names(path)[:10]) or tr("nothing")
        raise UnsupportedFormat(tr("{file}: the zip holds no Shapefile (.shp) or MapInfo table "
                                   "(.tab, .mif) but {held}; send a zip of .shp, .shx, .dbf and "
                                   ".prj, or of .tab, .dat, .map and .id",
                                   file=path.name, held=held))
    kinds = {PurePosixPath(m).suffix.lower() == ".shp" for m in tables.values()}
    shapefiles, mapinfo = kinds == {True}, kinds == {False}
    if layer is not None:
        wanted = layer.lower()
        picked = [m for t, m in tables.items() if t.lower() == wanted] or [
            m for m in tables.values()
            if wanted in (m.lower(), m.lower().rsplit(".", 1)[0], PurePosixPath(m).name.lower())]
        if len(picked) != 1:
            held = ", ".join(m.rsplit(".", 1)[0] for m in tables.values())  # folders shown
            file, named = path.name, repr(layer)
            raise InputError(
                tr("{file}: source.layer {layer} names no single Shapefile in the zip; it holds "
                   "{held}", file=file, layer=named, held=held) if shapefiles else
                tr("{file}: source.layer {layer} names no single MapInfo table in the zip; it "
                   "holds {held}", file=file, layer=named, held=held) if mapinfo else
                tr("{file}: source.layer {layer} names no single table in the zip; it holds "
                   "{held}", file=file, layer=named, held=held))
        return picked[0]
    if len(tables) > 1:
        file, count, listed = path.name, len(tables), ", ".join(tables)
        raise InputError(
            tr("{file}: the zip holds {count} Shapefiles ({tables}); name one with source.layer "
               "in the manifest", file=file, count=count, tables=listed) if shapefiles else
            tr("{file}: the zip holds {count} MapInfo tables ({tables}); name one with "
               "source.layer in the manifest", file=file, count=count, tables=listed)
            if mapinfo else
            tr("{file}: the zip holds {count} tables ({tables}); name one with source.layer in "
               "the manifest", file=file, count=count, tables=listed))
    return next(iter(tables.values()))


def zip_shapefile(path: Path, layer: str | None) -> dict[str, str]:
    """The zip members of the Shapefile to read, by lowercase extension (``.shp``, ``.dbf``...).

    A zip may hold the Shapefile in a folder, or several tables: then ``layer`` (the member's
    stem) picks one (``zip_table``).
    """
    names = _zip_names(path)
    shp = zip_table(path, layer)
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
        raise InputError(tr("{file}: the Shapefile's .dbf is missing; send .shp, .shx, .dbf and "
                            ".prj together", file=path.name))
    staging = _shapefile_staging(path, parts)
    if spec.encoding:
        try:
            codecs.lookup(spec.encoding)
        except LookupError:
            raise InputError(tr("{file}: unknown encoding {encoding}; set source.encoding in "
                                "the manifest to one like UTF-8, CP1251, CP866 or KOI8-R",
                                file=path.name, encoding=repr(spec.encoding))) from None
        return gdal_path, Decoding(spec.encoding, "set in the manifest", staging=staging)
    guess = zip_dbf_encoding(path, parts) if gdal_path.startswith("/vsizip/") else (
        detect_dbf_encoding(path))
    return gdal_path, Decoding(guess.encoding, guess.reason, guess.confidence, staging)


def mapinfo_parts(main: Path) -> dict[str, Path]:
    """The parts of a loose MapInfo table (.tab or .mif) that exist, by lowercase extension
    (.DAT and .Dat found too)."""
    parts: dict[str, Path] = {}
    wanted = mi.PARTS[main.suffix.lower()]
    for sibling in main.parent.glob(f"{glob.escape(main.stem)}.*"):
        ext = sibling.suffix.lower()
        if ext in wanted and sibling.stem == main.stem and sibling.is_file():
            parts.setdefault(ext, sibling)
    parts[main.suffix.lower()] = main
    return parts


def _zip_mapinfo_parts(path: Path, member: str) -> dict[str, str]:
    base = member.rsplit(".", 1)[0].lower()
    wanted = mi.PARTS[PurePosixPath(member).suffix.lower()]
    return {PurePosixPath(n).suffix.lower(): n for n in _zip_names(path)
            if n.rsplit(".", 1)[0].lower() == base and PurePosixPath(n).suffix.lower() in wanted}


def _head(path: Path, member: str | None, size: int) -> bytes:
    """The first ``size`` bytes of a loose file, or of a zip's member."""
    if member is None:
        with path.open("rb") as fh:
            return fh.read(size)
    with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
        return fh.read(size)


def mapinfo_header(path: Path, member: str | None = None) -> mi.Header:
    """What the .tab or .mif (loose ``path``, or the zip's ``member``) says in its header."""
    return mi.parse_header(_head(path, member, 1 << 16))


def mapinfo_table(spec: SourceSpec, member: str | None = None) -> tuple[str, Decoding]:
    """A MapInfo table, loose or the zip's ``member``: the GDAL path, and the encoding of its
    text with the copy to read when the header's charset must be corrected (see
    ``mapinfo.choose_encoding``). Missing parts and tables of no features are refused."""
    path = spec.path
    suffix = PurePosixPath(member or path.name).suffix.lower()
    name = f"{path.name}/{member}" if member else path.name
    parts: dict[str, str] = (_zip_mapinfo_parts(path, member) if member else
                             {e: str(p) for e, p in mapinfo_parts(path).items()})
    header = mapinfo_header(path, member)
    mi.check_table_type(name, header)
    mi.check_parts(name, suffix, set(parts))
    text = ".dat" if suffix == ".tab" else ".mid"
    sample = mi.sample_text(_head(Path(parts[text]) if not member else path,
                                  parts[text] if member else None, _CHUNK), text, header)
    charset = mi.choose_encoding(name, header, sample, suffix=suffix, manifest=spec.encoding)
    gdal_path = f"/vsizip/{path}/{member}" if member else str(path)
    staging = None
    if charset.rewrite:
        staging = Staging("mapinfo", path, _PLAIN + suffix, members=tuple(parts.values()),
                          encoding=charset.encoding, transcode=charset.transcode)
    return gdal_path, Decoding(charset.encoding.upper(), charset.reason, charset.confidence,
                               staging)


# A DXF's $DWGCODEPAGE as GDAL names it (ANSI_1251) to Python's codec name.
_DWGCODEPAGE = re.compile(rb"\$DWGCODEPAGE\s*\r?\n\s*3\r?\n\s*(\S+)")


def dxf_encoding(spec: SourceSpec) -> Decoding:
    """The encoding of a DXF's text (layer names, TEXT entities), for GDAL's DXF_ENCODING.

    GDAL reads a DXF in its $DWGCODEPAGE (AutoCAD 2007 and later: UTF-8). Writers that put
    UTF-8 text under ANSI_1252 (GDAL's own does), or CP1251 text under ANSI_1252, are common;
    the text decides then. ``encoding`` is None when GDAL's own reading is right.
    """
    if spec.encoding:
        return Decoding(spec.encoding, "set in the manifest")
    head = _head(spec.path, None, _CHUNK)
    if head.startswith(b"AutoCAD Binary DXF"):
        return Decoding(None, "a binary DXF: its code page, as GDAL reads it")
    found = _DWGCODEPAGE.search(head)
    said = found.group(1).decode("ascii", "replace") if found else None
    page = said.upper().removeprefix("ANSI_") if said else ""
    declared = f"CP{page}" if page.isdigit() else None
    guess = guess_cyrillic(head, cut_ok=True)
    label = f"$DWGCODEPAGE {said}" if said else "no $DWGCODEPAGE"
    if head.isascii() or guess.encoding == declared:
        return Decoding(None, f"{label}, and the text agrees")
    if guess.encoding == "UTF-8":
        return Decoding("UTF-8", f"{label}, but the text is valid UTF-8")
    if declared in (None, "CP1252") and guess.confidence != "low":
        return Decoding(guess.encoding, f"{label}, but the text reads as Cyrillic: "
                        f"{guess.reason}", guess.confidence)
    return Decoding(None, f"{label}, as GDAL reads it", "medium")


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
    ``mapinfo``: a MapInfo table whose header names the wrong charset (or none), its parts
    placed side by side and its .tab/.mif rewritten with the charset its text is in
    (``mapinfo.recode_copy``).
    Copies always get plain names (``source.shp``): GDAL never sees the user's file name.
    """

    kind: str  # "restore-shx" | "transcode" | "alias" | "mapinfo"
    source: Path  # the file, or the zip holding the parts
    name: str  # file name of the copy GDAL opens
    members: tuple[str, ...] = ()  # restore-shx, alias: the parts (paths, or zip member names)
    encoding: str | None = None  # transcode: the text's encoding
    prefix: str = ""  # GDAL's "DRIVER:" prefix for the copy
    inner: str = ""  # alias of a zip: the member GDAL opens inside it
    transcode: bool = False  # mapinfo: the .mif/.mid text rewritten as UTF-8


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
    return str(vsi_path(str(path))) == str(path)


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
    members: tuple[str, ...] = ()
    if suffix == ".shp":
        members = tuple(str(p) for p in shapefile_parts(path).values())
    elif suffix in mi.MAIN_SUFFIXES:
        members = tuple(str(p) for p in mapinfo_parts(path).values())
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
        elif staging.kind == "mapinfo":
            _place_parts(staging, folder, Path(staging.name).stem)
            mi.recode_copy(target, str(staging.encoding), transcode=staging.transcode)
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
                suffix = PurePosixPath(member).suffix.lower()
                with zf.open(member) as src, (folder / f"{stem}{suffix}").open("wb") as dst:
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
        if (order := utf16_order(head)) is not None:
            return Decoding(order, f"no byte order mark, but the NUL bytes of {order} text",
                            "medium")
        if b"\x00" in head:
            raise UnsupportedFormat(tr("{file}: binary content, not text; check the file is "
                                       "what its extension says", file=path.name))
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
                                "(CP1251) is assumed; set source.encoding in the manifest if names "
                                "look wrong",
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
        raise InputError(tr("{file}: unknown encoding {encoding}; set source.encoding in the "
                            "manifest to one like UTF-8, CP1251, CP866 or KOI8-R",
                            file=spec.path.name, encoding=repr(encoding))) from None
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
    separators = (("\t", "TAB"), (";", "SEMICOLON"), (",", "COMMA"), ("|", "PIPE"))
    widths = {name: [len(row) for row in csv.reader(io.StringIO("\n".join(lines)),
                                                    delimiter=sep)]
              for sep, name in separators}
    for _, name in separators:
        if len(set(widths[name])) == 1 and widths[name][0] > 1:
            return name
    # A sheet saved as CSV: a title line above and a totals line below have other widths;
    # most of the lines agree; of the separators for which they do, the one making the most
    # columns (a semicolon file's decimal commas, an EWKT's 'SRID=...;' make fewer).
    best, most = None, 1
    for _, name in separators:
        common, count = Counter(widths[name]).most_common(1)[0] if widths[name] else (0, 0)
        if common > most and count >= 0.6 * len(lines):
            best, most = name, common
    return best


def utf16_order(head: bytes) -> str | None:
    """``UTF-16-LE`` or ``UTF-16-BE`` when ``head`` (a file's first bytes, without a byte
    order mark) reads as UTF-16 text of that byte order, else None.

    Text of Latin letters, digits and punctuation in UTF-16 has a NUL in every other byte: the
    odd ones (little-endian) or the even ones (big-endian); Cyrillic letters have none, so a
    quarter of the pairs is enough when the other half of the bytes holds (almost) no NUL.
    What decodes must be text too: no NUL characters, few other control characters.
    """
    n = len(head) - len(head) % 2
    if n < 8:
        return None
    even, odd = head[0:n:2].count(0) * 2 / n, head[1:n:2].count(0) * 2 / n
    order = ("UTF-16-LE" if odd >= 0.25 and even <= 0.02 else
             "UTF-16-BE" if even >= 0.25 and odd <= 0.02 else None)
    if order is None:
        return None
    try:
        text = codecs.getincrementaldecoder(order)().decode(head[:n])
    except UnicodeError:  # 3.12 raises UnicodeError (not UnicodeDecodeError) for UTF-16
        return None
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\r\n")
    return order if "\x00" not in text and controls <= len(text) // 100 else None


def _transcode(source: Path, target: Path, encoding: str) -> None:
    """Rewrite ``source`` as UTF-8, a megabyte at a time. ``UTF-16`` without a byte order
    mark is read in the byte order its NUL bytes show (little-endian if they show none)."""
    reading = encoding
    if codecs.lookup(encoding).name == "utf-16":
        with source.open("rb") as fh:
            head = fh.read(_CHUNK)
        if head[:2] not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            reading = utf16_order(head) or "UTF-16-LE"
    try:
        with source.open(encoding=reading, newline="") as src, target.open(
                "w", encoding="utf-8", newline="") as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
    except UnicodeError:  # UnicodeDecodeError, or 3.12's UnicodeError for a UTF-16 stream
        raise EncodingError(tr("{file}: the text is not valid {encoding}; set source.encoding "
                               "in the manifest to the file's encoding", file=source.name,
                               encoding=encoding)) from None


# --- Tables: coordinates in columns ----------------------------------------------------------

# Extra names of a geometry column: PostGIS exports (COPY, psql) of WKB/EWKB as hex.
_GEOMETRY_NAMES = ("wkb", "wkb_geometry", "ewkt", "ewkb", "geom_wkt", "geom_wkb", "st_asewkt",
                   "st_astext", "st_asbinary", "st_asewkb")
# Words in a coordinate column's name that say its axis whatever its letter: in Soviet and
# Russian geodesy X is the northing, so 'X_north' and 'X (север)' hold northings (y here).
_NORTH = re.compile(r"north|север|сев\b|паўн|поўн", re.IGNORECASE)
_EAST = re.compile(r"east|восток|вост\b|усход|усх\b", re.IGNORECASE)
_AXIS_NAME = re.compile(r"^\s*(?:coord(?:inate)?s?[\s_.-]*)?[xy](?![a-zа-яё0-9])", re.IGNORECASE)
_COORD = re.compile(r"^coord(?:inate)?s?[\s_.-]*|[\s_.-]*coord(?:inate)?s?$")
_SPACES = r"[\s\x{00A0}\x{202F}]"
# A number whose spaces group thousands: '5 412 345.6' (not '53 54.2', degrees and minutes).
_GROUPED = rf"^\s*[+-]?\d{{1,3}}(?:{_SPACES}\d{{3}})+(?:[.,]\d*)?\s*°?\s*$"
_EWKT_SRID = r"^\s*SRID=(?P<srid>\d+)\s*;"
_HEX = r"^\s*0[01][0-9A-Fa-f]{8,}\s*$"  # WKB or EWKB as hex: byte order 00 or 01, then type
_GEOMETRY_TEXT = re.compile(r"^\s*(?:SRID=\d+\s*;\s*)?(?:MULTI)?(?:POINT|LINESTRING|POLYGON)"
                            r"|^\s*GEOMETRYCOLLECTION|^\s*0[01](?:[0-9A-F]{2}){8,}\s*$",
                            re.IGNORECASE)
SRID_KEY = b"geoportal:srid"  # batch metadata: the SRID of a table's geometry column


@dataclass(frozen=True)
class TableGeometry:
    """The columns a table's geometry comes from: x and y, or one column of WKT or hex WKB;
    ``srid``: the SRID its EWKT/EWKB values carry (the CRS the column declares)."""

    x: str | None = None
    y: str | None = None
    wkt: str | None = None
    srid: int | None = None

    @property
    def columns(self) -> list[str]:
        return [c for c in (self.x, self.y, self.wkt) if c is not None]


def _norm(name: str) -> str:
    """A column name as matched: lowercase, without units after a comma or bracket, without
    'coord' around it, ў/ё as у/е.

    So 'Lng', ' Долгота, ° ', 'Longitude (WGS84)', 'coord_x' and 'Даугата' all match their
    list entry.
    """
    head = re.split(r"[,(\[;]", name, maxsplit=1)[0]
    head = head.replace("°", "").strip(" .:").casefold()
    return _COORD.sub("", head).replace("ў", "у").replace("ё", "е")


def _axis_hint(name: str) -> str | None:
    """'y' for an x or y column whose name says north ('X_north', 'X (север)'), 'x' for one
    that says east ('Y_east', 'Y (восток)'); None otherwise."""
    if not _AXIS_NAME.match(name):
        return None
    if _NORTH.search(name):
        return "y"
    return "x" if _EAST.search(name) else None


def _find(fields: list[str], wanted: str | None, names: tuple[str, ...], what: str,
          origin: Path) -> str | None:
    """The field named by the manifest (``wanted``) or the first match of ``names``."""
    normalized = {_norm(f): f for f in reversed(fields)}  # the first of equal names wins
    if wanted is not None:
        found = wanted if wanted in fields else normalized.get(_norm(wanted))
        if found is None:
            raise InputError(tr("{file}: source.{key} {column} is not a column; the columns "
                                "are {columns}", file=origin.name, key=what,
                                column=repr(wanted), columns=", ".join(fields)))
        return found
    return next((normalized[_norm(n)] for n in names if _norm(n) in normalized), None)


def _axis_column(fields: list[str], wanted: str | None, axis: str, spec: SourceSpec) -> str | None:
    """The x or y column: the manifest's, one whose name says its axis, or one by name (a
    column whose name says the other axis is never taken)."""
    names, what = (_X_NAMES, "x_field") if axis == "x" else (_Y_NAMES, "y_field")
    if wanted is not None:
        return _find(fields, wanted, names, what, spec.path)
    hints = {f: _axis_hint(f) for f in fields}
    hinted = [f for f in fields if hints[f] == axis]
    if hinted:
        return hinted[0]
    return _find([f for f in fields if hints[f] is None], None, names, what, spec.path)


def _geometry_by_content(fields: list[str], sample: dict[str, list[str | None]]) -> str | None:
    """The first column whose sample values are all WKT, EWKT or hex WKB/EWKB."""
    for name in fields:
        values = [v for v in sample.get(name, [])[:20] if v]
        if values and all(_GEOMETRY_TEXT.match(v) for v in values):
            return name
    return None


def srids(values: pa.Array) -> np.ndarray:
    """The SRID of each EWKT or hex EWKB value; 0 where there is none (or it is unreadable)."""
    text = values.cast(pa.string())
    found = pc.extract_regex(text, _EWKT_SRID).field(0)
    srid = pc.fill_null(pc.cast(pc.if_else(pc.equal(found, ""), None, found), pa.int64()), 0)
    out = srid.to_numpy(zero_copy_only=False).copy()
    hexed = pc.fill_null(pc.match_substring_regex(text, _HEX), False).to_numpy(
        zero_copy_only=False)
    if hexed.any():
        raw = pc.utf8_trim_whitespace(text.filter(pa.array(hexed))).to_numpy(zero_copy_only=False)
        out[hexed] = shapely.get_srid(shapely.from_wkb(raw, on_invalid="ignore"))
    return np.where(out < 0, 0, out)


def geometry_srid(values: list[str | None], origin: Path, column: str) -> int | None:
    """The SRID a geometry column's EWKT/EWKB sample values declare (None when they declare
    none). Values declaring different SRIDs are refused: which one is the layer's?"""
    present = [v for v in values if v]
    if not present:
        return None
    found = sorted({int(s) for s in srids(pa.array(present, pa.string())) if s})
    if len(found) > 1:
        listed = ", ".join(f"SRID={s}" for s in found)
        raise InputError(tr("{file}: the geometry column {column} mixes {srids}; export it in "
                            "one SRID (ST_Transform) and send it again", file=origin.name,
                            column=repr(column), srids=listed))
    return found[0] if found else None


def find_geometry_columns(fields: list[str], spec: SourceSpec,
                          sample: dict[str, list[str | None]] | None = None
                          ) -> TableGeometry | None:
    """Where a table's geometry is: the manifest's WKT column, its x/y columns, coordinate
    columns found by name (en/ru/be, any case; 'X_north' is the northing), or a WKT/WKB column
    found by name or, in ``sample`` (the first rows' values by column), by content; with the
    SRID its EWKT/EWKB values declare. None if none."""
    sample = sample or {}
    if spec.geometry_field is not None:
        wkt = _find(fields, spec.geometry_field, (), "geometry_field", spec.path)
    else:
        x = _axis_column(fields, spec.x_field, "x", spec)
        y = _axis_column(fields, spec.y_field, "y", spec)
        if x is not None and y is not None and x != y:
            return TableGeometry(x=x, y=y)
        wkt = (_find(fields, None, _WKT_NAMES + _GEOMETRY_NAMES, "geometry_field", spec.path)
               or _geometry_by_content(fields, sample))
    if wkt is None:
        return None
    return TableGeometry(wkt=wkt, srid=geometry_srid(sample.get(wkt, []), spec.path, wkt))


def _coordinates(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Floats from numbers or text ('27,55', ' 5 412 345.6 ', '53.9°', and degrees-minutes-
    seconds as ``dms.parse_dms`` reads them); NaN where unreadable. With the axis a hemisphere
    letter names (``dms.LAT``, ``dms.LON``, 0)."""
    values = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    none = np.zeros(len(values), dtype=np.int8)
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        return values.cast(pa.float64()).to_numpy(zero_copy_only=False), none
    raw = values.cast(pa.string())
    text = pc.replace_substring_regex(raw, _SPACES, "")
    # any spaces at all (cheaper to tell by the lengths than by searching again)?
    spaces = pc.any(pc.not_equal(pc.binary_length(raw), pc.binary_length(text))).as_py()
    text = pc.replace_substring(pc.replace_substring(text, "°", ""), ",", ".")
    ok = pc.fill_null(pc.match_substring_regex(text, _NUMBER), False)
    if spaces:
        spaced = pc.fill_null(pc.match_substring_regex(raw, rf"\d{_SPACES}+\d"), False)
        grouped = pc.fill_null(pc.match_substring_regex(raw, _GROUPED), False)
        ok = pc.and_(ok, pc.or_(pc.invert(spaced), grouped))
    parsed = pc.if_else(ok, text, pa.scalar(None, pa.string())).cast(pa.float64())
    numbers = parsed.to_numpy(zero_copy_only=False).copy()
    todo = ~ok.to_numpy(zero_copy_only=False) & raw.is_valid().to_numpy(zero_copy_only=False)
    if not todo.any():
        return numbers, none
    degrees, axis = parse_dms(raw.filter(pa.array(todo)))
    numbers[todo] = degrees
    none[todo] = axis
    return numbers, none


def _points(table: pa.Table, plan: TableGeometry) -> np.ndarray:
    """Points from the x/y columns; a value whose hemisphere names the other axis ('53°54' N'
    in the longitude column) swaps its row, two values naming the same axis void it."""
    x, x_axis = _coordinates(table.column(plan.x))
    y, y_axis = _coordinates(table.column(plan.y))
    if x_axis.any() or y_axis.any():
        swap = (x_axis == LAT) | (y_axis == LON)
        x, y = np.where(swap, y, x), np.where(swap, x, y)
        x[(x_axis != 0) & (x_axis == y_axis)] = np.nan
    ok = np.isfinite(x) & np.isfinite(y)
    geoms = np.full(len(x), None, dtype=object)
    geoms[ok] = shapely.points(x[ok], y[ok])
    return geoms


def _from_wkt(table: pa.Table, plan: TableGeometry) -> np.ndarray:
    """Geometries from WKT, PostGIS EWKT or hex WKB/EWKB; a value declaring another SRID than
    the column's (``plan.srid``) gets none (its row is set aside with the reason)."""
    text = table.column(plan.wkt).cast(pa.string())
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    hexed = pc.fill_null(pc.match_substring_regex(text, _HEX), False).to_numpy(
        zero_copy_only=False)
    plain = pc.replace_substring_regex(text, _EWKT_SRID, "")  # PostGIS EWKT
    if hexed.any():
        plain = pc.if_else(pa.array(hexed), pa.scalar(None, pa.string()), plain)
    geoms: np.ndarray = shapely.from_wkt(plain.to_numpy(zero_copy_only=False),
                                         on_invalid="ignore")
    if hexed.any():
        raw = pc.utf8_trim_whitespace(text.filter(pa.array(hexed))).to_numpy(zero_copy_only=False)
        geoms[hexed] = shapely.from_wkb(raw, on_invalid="ignore")
    if plan.srid is not None:
        srid = srids(text)
        geoms[(srid != 0) & (srid != plan.srid)] = None
    return geoms


def add_geometry(table: pa.Table, plan: TableGeometry, *, name: str,
                 drop: str | None = None) -> pa.Table:
    """``table`` with a WKB column ``name`` built from the plan's columns; those are renamed
    with ``SOURCE_ONLY`` in front (kept for the quarantine of rows whose coordinates could not
    be read, never published), and ``drop`` (GDAL's own geometry: CSV makes one of a column
    named WKT) is dropped. Rows without readable coordinates get a null geometry. The column's
    SRID, if any, is in the schema's metadata (``SRID_KEY``) for the reasons."""
    geoms = _from_wkt(table, plan) if plan.wkt else _points(table, plan)
    if drop and drop in table.column_names and drop not in plan.columns:
        table = table.drop_columns([drop])
    table = table.rename_columns([SOURCE_ONLY + c if c in plan.columns else c
                                  for c in table.column_names])
    wkb = pa.array(shapely.to_wkb(geoms), type=pa.binary())
    table = table.append_column(name, wkb)
    if plan.srid is not None:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               SRID_KEY: str(plan.srid).encode()})
    return table


# --- Layers -----------------------------------------------------------------------------------

def _features(count: int) -> str:
    if count < 0:
        return "? features"
    return f"{count} feature{'' if count == 1 else 's'}"


def choose_layer(path: Path, counts: dict[str, int], named: str | None, *,
                 all_layers: list[str]) -> str:
    """The one layer to read: ``named`` (which must exist), else the only candidate in
    ``counts`` (name -> features), else the only one with features."""
    layers = ", ".join(all_layers) or tr("none")
    if named is not None:
        if named not in all_layers:
            raise InputError(tr("{file}: has no layer {layer}; its layers are {layers}; correct "
                                "source.layer in the manifest", file=path.name,
                                layer=repr(named), layers=layers))
        return named
    if len(counts) == 1:
        return next(iter(counts))
    if not counts:
        raise InputError(tr("{file}: holds no layer with geometry (layers: {layers}); send a "
                            "file with features", file=path.name, layers=layers))
    full = [n for n, c in counts.items() if c != 0]
    if len(full) == 1:
        return full[0]
    listing = ", ".join(f"{n} ({_features(c)})" for n, c in counts.items())
    if not full:
        raise InputError(tr("{file}: every layer is empty ({layers}); send a file with "
                            "features", file=path.name, layers=listing))
    raise InputError(tr("{file}: holds {count} layers with features ({layers}); name one with "
                        "source.layer in the manifest", file=path.name, count=len(full),
                        layers=listing))


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


def sheet_rows(gdal_path: str, options: dict[str, str]) -> dict[str, int]:
    """Each sheet of a workbook with its rows under the header row, as GDAL counts them (-1
    when it cannot); 0 for a sheet of one row, which GDAL reads as data with columns named
    Field1, Field2...: a header without data, or a title, is no table."""
    rows: dict[str, int] = {}
    for sheet in (n for n, _ in _layers(gdal_path, {})):
        try:
            info = pyogrio.read_info(gdal_path, layer=sheet, force_feature_count=True,
                                     **options)
        except DataLayerError:
            rows[sheet] = -1
            continue
        count = int(info["features"])
        lone = count == 1 and all(re.fullmatch(r"Field\d+", str(f)) for f in info["fields"])
        rows[sheet] = 0 if lone else count
    return rows


def pick_sheet(spec: SourceSpec, gdal_path: str, options: dict[str, str]
               ) -> tuple[str, int | None, tuple[str, ...]]:
    """The worksheet named by source.layer, else the first one holding rows; with its row
    count, and a note for the report naming the other sheets that hold rows (they are not
    read: a manifest publishes one sheet; a bare ``geoportal ingest`` publishes each)."""
    sheets = [n for n, _ in _layers(gdal_path, {})]
    if spec.layer is not None:
        return choose_layer(spec.path, {}, spec.layer, all_layers=sheets), None, ()
    counts = sheet_rows(gdal_path, options)
    full = [sheet for sheet in sheets if counts[sheet] > 0]
    if not full:
        raise InputError(tr("{file}: every sheet is empty ({sheets}); send a workbook with a "
                            "header row and data", file=spec.path.name, sheets=", ".join(sheets)))
    notes: tuple[str, ...] = ()
    if len(full) > 1:
        others = ", ".join(repr(s) for s in full[1:])
        notes = (f"read sheet {full[0]!r}; the other sheets with data ({others}) are not "
                 "read: to publish one, set source.layer in the manifest to its name",)
    return full[0], counts[full[0]], notes
