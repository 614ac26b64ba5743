"""MapInfo tables (TAB with .dat/.map/.id, MIF with .mid): their parts, charset and CRS.

GDAL's MapInfo driver reads both; what it cannot know is left to this module:

- the parts: a TAB is four files, a MIF two; a missing one is named (GDAL only says "not
  recognized" or, without the .map, reads a table with no geometry at all);
- the charset: the header says it (``!charset WindowsCyrillic`` in a .tab, ``Charset
  "WindowsCyrillic"`` in a .mif) and GDAL recodes to UTF-8 from it, but ``Neutral`` (which
  GDAL passes through as bytes, so CP1251 becomes replacement characters) and charsets that
  lie are common; the text of the .dat/.mid decides then (``detect.guess_cyrillic``), and
  the reader gets a copy with the header corrected (``recode_copy``);
- the CRS: GDAL turns a CoordSys ``Earth Projection 8, 1001, "m", 27, 0, 1, 5500000, 0``
  into an unnamed Pulkovo 1942 Transverse Mercator WKT (a TAB keeps it in the binary .map,
  a custom datum 9999 comes with its shift spelled out). ``identify_crs`` maps the Pulkovo
  1942 Gauss-Kruger zones and the WGS 84 UTM zones used in Belarus to their EPSG codes, so
  the layer's version, its report and its quarantine name ``EPSG:28405`` (and PROJ applies
  that code's datum shift), and says which CoordSys it read; a ``NonEarth`` table has no
  CRS (left to detection).

Nothing here imports GDAL: the functions take bytes, names and GDAL's WKT.
"""

from __future__ import annotations

import codecs
import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pyproj
from pyproj.exceptions import CRSError as PyprojCRSError

from geoportal.errors import EncodingError, InputError, UnsupportedFormat
from geoportal.etl.detect import guess_cyrillic
from geoportal.i18n import Message, tr

__all__ = ["MAIN_SUFFIXES", "PARTS", "CRSMatch", "Charset", "Header", "check_parts",
           "choose_encoding", "identify_crs", "missing_part", "parse_header", "recode_copy",
           "sample_text"]

MAIN_SUFFIXES = (".tab", ".mif")
# Every part a table may have, by its main file's suffix; .ind (a field index) is optional.
PARTS: dict[str, tuple[str, ...]] = {".tab": (".tab", ".dat", ".map", ".id", ".ind"),
                                     ".mif": (".mif", ".mid")}
_REQUIRED: dict[str, tuple[str, ...]] = {".tab": (".dat", ".map", ".id"), ".mif": (".mid",)}
_HEAD = 1 << 16
_CHUNK = 1 << 20

# MapInfo charset names GDAL recodes from, and the Python codec of each. "Neutral" is no
# charset: GDAL hands the bytes on as they are.
_CHARSETS: dict[str, str] = {
    "windowscyrillic": "cp1251", "windowslatin1": "cp1252", "windowslatin2": "cp1250",
    "iso8859_1": "latin-1", "iso8859_2": "iso8859-2", "iso8859_5": "iso8859-5",
    "codepage855": "cp855", "codepage437": "cp437", "codepage850": "cp850",
    "codepage852": "cp852", "utf-8": "utf-8", "utf8": "utf-8",
}
# The charset to write into a copy for each encoding we may choose; the encodings missing
# here (CP866, KOI8-R: MapInfo has no name for them) are transcoded to UTF-8 instead, which
# only a MIF's text allows.
_WRITE_CHARSET = {"cp1251": "WindowsCyrillic", "cp1252": "WindowsLatin1",
                  "cp1250": "WindowsLatin2", "iso8859-5": "ISO8859_5", "cp855": "CodePage855",
                  "utf-8": "Neutral"}
_CHARSET_TAB = re.compile(rb"^(\s*!charset\s+)(\S+)", re.IGNORECASE | re.MULTILINE)
_CHARSET_DEF = re.compile(rb'(\bCharset\s+")([^"]*)(")', re.IGNORECASE)
_COORDSYS = re.compile(r"^\s*CoordSys\s+(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_TYPE = re.compile(r"^\s*Type\s+\"?(\w+)", re.IGNORECASE | re.MULTILINE)
# The field list: "Fields 3" in a .tab, "Columns 3" in a .mif, then one "name Type ..." a line.
_FIELDS = re.compile(r"^\s*(?:Fields|Columns)\s+(\d+)\s*$", re.IGNORECASE | re.MULTILINE)
_FIELD = re.compile(r"^\s*(\S+)\s+(\w+)")

# Pulkovo 1942 Transverse Mercator (scale 1, latitude of origin 0, false northing 0) by
# central meridian and false easting: the Gauss-Kruger 6-degree zones with and without the
# zone prefix, and the 3-degree zones (with prefix) and CMs (without) that cover Belarus
# and its neighbours. CM 27E without prefix is both EPSG:2495 and EPSG:2584 (same numbers):
# the 6-degree code is the one config/crs.yaml detects.
_PULKOVO_TM: dict[tuple[float, float], int] = {
    (21, 4500000): 28404, (27, 5500000): 28405, (33, 6500000): 28406, (39, 7500000): 28407,
    (21, 500000): 2494, (27, 500000): 2495, (33, 500000): 2496, (39, 500000): 2497,
    (21, 7500000): 2523, (24, 8500000): 2524, (27, 9500000): 2525, (30, 10500000): 2526,
    (33, 11500000): 2527, (36, 12500000): 2528,
    (24, 500000): 2583, (30, 500000): 2585, (36, 500000): 2587,
}
# WGS 84 / UTM zones 34N-36N by central meridian.
_UTM = {21: 32634, 27: 32635, 33: 32636}
# MapInfo's own datum 1001 (Pulkovo 1942) as GDAL spells it out when a file gives it as a
# custom datum 9999: the same Krassovsky ellipsoid and shift, so the same EPSG code fits.
_PULKOVO_SHIFT = (23.92, -141.27, -80.9, 0.0, 0.35, 0.82, -0.12)


@dataclass(frozen=True)
class Header:
    """What a .tab or .mif header says: the charset (as written), the CoordSys clause (MIF
    only: a TAB keeps it in the binary .map), the table type (NATIVE, DBF, RASTER...) and the
    fields, each as (name as its bytes, MapInfo type in lowercase: char, float, integer...)."""

    charset: str | None
    coordsys: str | None
    table_type: str | None
    fields: tuple[tuple[bytes, str], ...] = ()


@dataclass(frozen=True)
class Charset:
    """The encoding to read with, why, how sure (high/medium/low), and whether GDAL must read
    a copy whose header names it (``rewrite``) or whose text is UTF-8 (``transcode``)."""

    encoding: str
    reason: str
    confidence: str = "high"
    rewrite: bool = False
    transcode: bool = False


@dataclass(frozen=True)
class CRSMatch:
    """The CRS to use (an ``EPSG:`` code, GDAL's WKT, or None for a NonEarth table) and the
    sentence for the report (None when there is nothing to say)."""

    crs: str | None
    reason: str | None


def missing_part(name: str, suffix: str, present: set[str]) -> Message | None:
    """The sentence naming the first required part of a table missing from ``present``
    (lowercase suffixes); None when none is missing."""
    part = next((p for p in _REQUIRED[suffix] if p not in present), None)
    return _missing(name, suffix, part) if part is not None else None


def check_parts(name: str, suffix: str, present: set[str]) -> None:
    """Refuse a table (InputError) when a required part is missing from ``present``
    (lowercase suffixes), naming the first (``missing_part``)."""
    part = next((p for p in _REQUIRED[suffix] if p not in present), None)
    if part is not None:
        raise InputError(_missing(name, suffix, part))


def _missing(name: str, suffix: str, part: str) -> Message:
    """The sentence naming ``part``, missing from the table ``name``, and what to send."""
    together = ", ".join(p for p in PARTS[suffix] if p != ".ind")
    return tr("{file}: the MapInfo table's {part} file is missing; send {parts} together "
              "(zipped, for an upload)", file=name, part=part, parts=together)


def parse_header(head: bytes) -> Header:
    """The charset, CoordSys and table type from a .tab's text or a .mif's header."""
    text = head.decode("latin-1")
    cut = re.search(r"^\s*Data\s*$", text, re.IGNORECASE | re.MULTILINE)  # a MIF's header ends
    header = text[: cut.start()] if cut else text
    tab = _CHARSET_TAB.search(head)
    definition = _CHARSET_DEF.search(header.encode("latin-1"))
    charset = (tab.group(2) if tab else definition.group(2) if definition else None)
    coordsys = _COORDSYS.search(header)
    table_type = _TYPE.search(header)
    return Header(charset=charset.decode("latin-1") if charset is not None else None,
                  coordsys=coordsys.group(1) if coordsys else None,
                  table_type=table_type.group(1).upper() if table_type else None,
                  fields=_fields(header))


def _fields(header: str) -> tuple[tuple[bytes, str], ...]:
    """The field list of a header (``header``: its bytes as latin-1); empty when it is not
    all there."""
    found = _FIELDS.search(header)
    if not found:
        return ()
    count = int(found.group(1))
    lines = [line for line in header[found.end():].splitlines() if line.strip()][:count]
    fields = tuple((m.group(1).strip('"`').encode("latin-1"), m.group(2).lower())
                   for m in map(_FIELD.match, lines) if m)
    return fields if len(fields) == count else ()


def check_table_type(name: str, header: Header) -> None:
    """Refuse the TAB kinds that hold no features: raster registrations, views, seamless
    tables (which name other tables) and WMS/tile descriptions."""
    kind = header.table_type
    if kind in (None, "NATIVE", "DBF", "ACCESS", "LINKED", "ODBC"):
        return
    if kind in ("RASTER", "GRID", "IMAGE", "WMS", "TILESERVER", "SHAPEFILE"):
        raise UnsupportedFormat(tr("{file}: a MapInfo {kind} registration (Type {type}), not a "
                                   "table of features; send the image itself as GeoTIFF, or the "
                                   "features as a MapInfo table", file=name, kind=kind.lower(),
                                   type=kind))
    raise UnsupportedFormat(tr("{file}: a MapInfo table of type {type}, which names other "
                               "tables; open it in MapInfo, save a copy as a plain table and "
                               "send that", file=name, type=kind))


def sample_text(data: bytes, suffix: str, header: Header | None = None) -> bytes:
    """The text of a table for the charset judgement: a .mid's first bytes as they are; of a
    .dat's (dBase-like: a header, field descriptors, fixed-width records), the field names of
    the .tab (``header``) and the values of its Char fields in the whole records among
    ``data``, one a line (``text_values`` splits them again).

    Only the Char fields hold text: Float, Integer, Date... are binary (a double's 8 bytes
    are no charset's text, and made UTF-8 look invalid and KOI8-R likely). Without the .tab's
    field list, or when it does not match the .dat's, every field is taken."""
    if suffix != ".dat" or len(data) < 32:
        return data
    header_len = int.from_bytes(data[8:10], "little")
    record_len = int.from_bytes(data[10:12], "little")
    if not 32 < header_len <= len(data) or record_len < 1:
        return data
    widths = [data[at + 16] for at in range(32, header_len - 31, 32) if data[at] != 0x0D]
    fields = header.fields if header is not None else ()
    if len(fields) == len(widths) and 1 + sum(widths) == record_len:
        names = [name for name, _ in fields]
        wanted = [kind == "char" for _, kind in fields]
    else:  # no usable field list: the .dat's own names, cut at 10 bytes, and every field
        names = [data[at:at + 11].split(b"\x00")[0] for at in range(32, header_len - 31, 32)]
        wanted = [True] * len(widths)
        if 1 + sum(widths) != record_len:
            return b"\n".join(names) + b"\n" + data[header_len:]
    starts = [1 + sum(widths[:i]) for i in range(len(widths))]
    spans = [(at, at + w) for at, w, ok in zip(starts, widths, wanted, strict=True) if ok]
    values = list(names)
    for record in range(header_len, len(data) - record_len + 1, record_len):
        row = data[record:record + record_len]
        if row[:1] == b"*":  # deleted
            continue
        values += [v for a, b in spans if (v := row[a:b].rstrip(b"\x00 "))]
    return b"\n".join(values)


def _valid_utf8(text: bytes) -> bool:
    """Whether every line of ``text`` is UTF-8; a line may end mid-character (a value that
    fills its field may have been cut there, a sample at its end)."""
    for line in text.split(b"\n"):
        try:
            codecs.getincrementaldecoder("utf-8")().decode(line, final=False)
        except UnicodeDecodeError:
            return False
    return True


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def choose_encoding(name: str, header: Header, text: bytes, *, suffix: str,
                    manifest: str | None = None) -> Charset:
    """The encoding of a table's text: the manifest's, else the header's charset unless the
    text (``text``: the .mid's first megabyte, or the text fields of the .dat's, see
    ``sample_text``) shows it is wrong or says Neutral. UTF-8 is tried first.

    A charset is believed when the text is plain ASCII or decodes with it as Cyrillic as well
    as the best code page does; text that is valid UTF-8 is UTF-8 whatever the header says.
    A TAB whose text is in a code page MapInfo has no name for (CP866, KOI8-R) is refused:
    its .dat is binary and cannot be transcoded on the way.
    """
    said = header.charset
    declared = _CHARSETS.get(said.lower()) if said else None
    if manifest:
        encoding = _codec(manifest)
        if encoding is None:
            raise InputError(tr("{file}: unknown encoding {encoding}; set source.encoding in "
                                "the manifest to one like UTF-8, CP1251, CP866 or KOI8-R",
                                file=name, encoding=repr(manifest)))
        return _plan(name, encoding, "set in the manifest", "high", declared, suffix)
    label = f"charset {said}" if said else "no charset"
    if text.isascii():
        return _plan(name, declared or "utf-8", f"{label}; the text is plain ASCII", "high",
                     declared, suffix)
    guess = guess_cyrillic(text, cut_ok=True)
    best = "utf-8" if _valid_utf8(text) else _codec(guess.encoding) or "utf-8"
    if best == "utf-8":
        reason = (f"{label}, and the text is valid UTF-8" if declared in (None, "utf-8")
                  else f"{label}, but the text is valid UTF-8")
        return _plan(name, "utf-8", reason, "high", declared, suffix)
    if declared is None or declared == "utf-8":
        return _plan(name, best, f"{label}; {guess.reason}", guess.confidence, declared, suffix)
    if declared == best or guess.confidence == "low":
        return _plan(name, declared, f"{label}, and the text agrees", "high", declared, suffix)
    return _plan(name, best, f"{label}, but the text is not: {guess.reason}", guess.confidence,
                 declared, suffix)


def _plan(name: str, encoding: str, reason: str, confidence: str, declared: str | None,
          suffix: str) -> Charset:
    """How GDAL gets to read ``encoding``: as the file is, through a copy with its charset
    corrected, or (a MIF in a code page MapInfo cannot name) through a UTF-8 copy."""
    encoding = _codec(encoding) or encoding
    if encoding == declared or (encoding == "utf-8" and declared is None):
        return Charset(encoding, reason, confidence)
    if encoding in _WRITE_CHARSET:
        return Charset(encoding, reason, confidence, rewrite=True)
    if suffix == ".mif":
        return Charset(encoding, reason, confidence, rewrite=True, transcode=True)
    raise EncodingError(tr("{file}: the table's text is {encoding}, which a MapInfo TAB cannot "
                           "declare; save it in MapInfo with charset WindowsCyrillic (or as "
                           "MIF/MID) and send it again", file=name, encoding=encoding.upper()))


def recode_copy(main: Path, encoding: str, *, transcode: bool) -> None:
    """Make the staged copy of a table read as ``encoding``: rewrite the charset in its .tab
    or .mif (``main``, a link or an extracted copy in a temporary folder), and with
    ``transcode`` turn the .mif and .mid text into UTF-8 (declared Neutral). A megabyte at a
    time."""
    charset = "Neutral" if transcode else _WRITE_CHARSET[encoding]
    original = _set_aside(main)
    with original.open("rb") as src, main.open("wb") as dst:
        head = src.read(_HEAD)
        if transcode:
            head += src.readline()  # never cut a character in two
            head = head.decode(encoding, errors="replace").encode("utf-8")
        head = _CHARSET_TAB.sub(rb"\g<1>" + charset.encode(), head, count=1)
        head = _CHARSET_DEF.sub(rb"\g<1>" + charset.encode() + rb"\g<3>", head, count=1)
        dst.write(head)
        if transcode:
            _transcode(src, dst, encoding)
        else:
            shutil.copyfileobj(src, dst, _CHUNK)
    original.unlink()
    if not transcode:
        return
    for mid in (main.with_suffix(".mid"), main.with_suffix(".MID")):
        if mid.exists():
            data = _set_aside(mid)
            with data.open("rb") as src, mid.open("wb") as dst:
                _transcode(src, dst, encoding)
            data.unlink()


def _set_aside(path: Path) -> Path:
    """Rename a staged part (a link keeps pointing at the source) to make room for its copy."""
    moved = path.with_name(path.name + ".orig")
    path.rename(moved)
    return moved


def _transcode(src: BinaryIO, dst: BinaryIO, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    while chunk := src.read(_CHUNK):
        dst.write(decoder.decode(chunk).encode("utf-8"))
    dst.write(decoder.decode(b"", final=True).encode("utf-8"))


def _params(crs: pyproj.CRS) -> dict[str, Any]:
    """The CRS's PROJ parameters (proj, ellps, lon_0, k, x_0, towgs84...), else empty."""
    try:
        with warnings.catch_warnings():  # "you will likely lose information": not here
            warnings.simplefilter("ignore", UserWarning)
            return dict(crs.to_dict())
    except PyprojCRSError:
        return {}


def identify_crs(wkt: str | None, header: Header, *, source: str) -> CRSMatch:
    """The EPSG code for the CRS GDAL read from a MapInfo table, when it is one of the
    Pulkovo 1942 Gauss-Kruger or WGS 84 UTM zones used here; ``source`` names the part the
    CoordSys came from. A NonEarth table (GDAL's LOCAL_CS) has no CRS."""
    if not wkt:
        return CRSMatch(None, None)
    try:
        crs = pyproj.CRS.from_user_input(wkt)
    except PyprojCRSError:
        return CRSMatch(wkt, None)
    if crs.type_name.startswith("Engineering") or wkt.lstrip().upper().startswith("LOCAL_CS"):
        return CRSMatch(None, f"MapInfo CoordSys NonEarth in {source}: the file gives no CRS, "
                              "so it is detected from the coordinates")
    coordsys = f"CoordSys {header.coordsys}" if header.coordsys else "CoordSys"
    authority = crs.to_authority(min_confidence=100)
    if authority is not None:
        named = f"{authority[0]}:{authority[1]}"
        return CRSMatch(named, f"MapInfo {coordsys} in {source} = {named} ({crs.name})")
    code = _tm_code(crs)
    if code is None:
        return CRSMatch(wkt, None)
    found = pyproj.CRS.from_epsg(code)
    described = coordsys if header.coordsys else _describe(crs, code)
    return CRSMatch(f"EPSG:{code}", f"MapInfo {described} in {source} = EPSG:{code} "
                                    f"({found.name})")


def _tm_code(crs: pyproj.CRS) -> int | None:
    """The EPSG code of Pulkovo 1942 (lon/lat, a Gauss-Kruger zone) or a WGS 84 UTM zone."""
    p = _params(crs)
    datum = (crs.datum.name if crs.datum else "").lower().replace("_", " ")
    towgs84 = p.get("towgs84") or ()
    shift = tuple(float(v) for v in (towgs84.split(",") if isinstance(towgs84, str)
                                     else towgs84))
    pulkovo = p.get("ellps") == "krass" and (
        ("pulkovo 1942" in datum and not shift)
        or (len(shift) == 7 and all(abs(a - b) < 1e-6 for a, b in
                                    zip(shift, _PULKOVO_SHIFT, strict=True))))
    if p.get("proj") == "longlat":
        return 4284 if pulkovo else None
    if (p.get("proj") != "tmerc" or p.get("lat_0", 0) != 0 or p.get("y_0", 0) != 0
            or p.get("units", "m") != "m"):
        return None
    cm, k, fe = float(p.get("lon_0", 0)), float(p.get("k", p.get("k_0", 1))), float(p.get("x_0", 0))
    if pulkovo and abs(k - 1) < 1e-12:
        return _PULKOVO_TM.get((cm, fe))
    wgs84 = p.get("ellps") == "WGS84" or p.get("datum") == "WGS84" or "wgs 84" in datum or (
        "world geodetic system 1984" in datum)
    if wgs84 and abs(k - 0.9996) < 1e-12 and fe == 500000:
        return _UTM.get(int(cm)) if cm == int(cm) else None
    return None


def _describe(crs: pyproj.CRS, code: int) -> str:
    """A TAB's CoordSys in words: it lives in the binary .map, so it is described from the
    projection GDAL read, in MapInfo's order (datum, CM, latitude, scale, easting, northing)."""
    p = _params(crs)
    datum = crs.datum.name if crs.datum else "unknown datum"
    if code == 4284:
        return f"CoordSys Earth Projection 1 (longitude/latitude, {datum})"
    return (f'CoordSys Earth Projection 8 (Transverse Mercator, {datum}), "m", '
            + ", ".join(_number(p.get(k, 1 if k == "k" else 0))
                        for k in ("lon_0", "lat_0", "k", "x_0", "y_0")))


def _number(value: object) -> str:
    """A parameter as MapInfo writes it: 27, 0.9996, 5500000 (no exponent)."""
    return f"{float(str(value)):.10f}".rstrip("0").rstrip(".")
