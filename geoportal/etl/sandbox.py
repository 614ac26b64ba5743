"""GDAL in a sandbox: what a region's file may make the server do while it is read.

GDAL picks a driver by content, not by name, and several of its drivers follow what a file
says: an OGR VRT (``<OGRVRTDataSource>``) opens any path or URL it names, ``/vsicurl/`` and the
other network file systems fetch from any address, a GDALG file runs a pipeline, a GeoJSON's
old-style ``"crs": {"type": "link"}`` is fetched over HTTP. pyogrio 0.13 cannot pass GDAL the
list of allowed drivers (``GDALOpenEx``'s ``papszAllowedDrivers``), so a file is judged here
before GDAL opens anything, and GDAL's network is turned off while the ETL reads:

- ``check_content``: the first bytes must be those of the format its extension names (a zip's
  ``PK``, a Shapefile's file code, SQLite's header, a TIFF's byte order mark; JSON starts with
  ``{`` or ``[``; XML has no DTD and its root is ``kml``/``gpx``/a GML collection); text that
  describes a GDAL dataset (VRT, GDALG, WMS, WFS...) is refused whatever its extension.
- ``check_json_links``: a GeoJSON whose CRS is a link or URL is refused (GDAL fetches it with
  CPLHTTPFetch, which no configuration option turns off).
- ``NETWORK_OFF``: GDAL config options set while the ETL reads (see ``readers``): the
  ``/vsicurl/`` family (``/vsis3/``, ``/vsigs/``, ``/vsiaz/``...) refuses every URL before any
  request, other HTTP goes to a proxy on port 0, which cannot be connected to.
- ``check_zip``: every zip-based format (zipped Shapefile, KMZ, XLSX, ODS) gets the same limits:
  the central directory (members, names, links, sizes, ratios) and then every member inflated
  as a stream with a hard byte cap, so a directory that lies about sizes or CRCs is refused;
  a spreadsheet's sheets are capped in bytes and rows before GDAL loads one whole.

Every refusal is a ``RefusedFile`` (an ``InputError``, 413 or 422) naming the file as the user
knows it (and the member inside an archive), never a path on the server.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path, PurePosixPath
from typing import BinaryIO, NoReturn
from xml.parsers import expat

from geoportal.errors import UnsupportedFormat

__all__ = ["ARCHIVE_SUFFIXES", "NETWORK_OFF", "ArchiveLimits", "RefusedFile", "check_content",
           "check_json_links", "check_zip", "check_zip_directory", "shown"]

MiB = 1024**2
_CHUNK = MiB
_HEAD = 1 << 16  # bytes sniffed at the start of a file
# Members smaller than this are left out of the per-member ratio check: a small text file
# (a .prj, a .cpg, a CSV of repeated values) often compresses far better than 100:1.
_RATIO_FLOOR = MiB

ARCHIVE_SUFFIXES = (".zip", ".kmz", ".xlsx", ".ods")
"""The formats that are zip archives, each checked by ``check_zip``."""

# /vsicurl/ and the handlers built on it (/vsis3/, /vsigs/, /vsiaz/, /vsiadls/, /vsioss/,
# /vsiswift/, /vsiwebhdfs/, /vsicurl_streaming/) open only this one name, which no file
# names, and refuse every other before a request is made (measured with a local listener).
# CPLHTTPFetch (drivers' own HTTP: WFS, OAPIF, a GeoJSON CRS link) has no such switch: the
# proxy on port 0 makes each attempt fail on this host, unless NO_PROXY names the target,
# which is why the content checks above come first.
NETWORK_OFF: dict[str, str] = {
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/vsicurl/http://127.0.0.1:0/geoportal-no-network",
    "GDAL_HTTP_PROXY": "127.0.0.1:0",
    "GDAL_HTTPS_PROXY": "127.0.0.1:0",
    "GDAL_HTTP_MAX_RETRY": "0",
    "CPL_ALLOW_VSISTDIN": "NO",
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",  # a GeoPackage's VirtualOGR tables
    "GML_SKIP_RESOLVE_ELEMS": "ALL",  # no xlink:href followed
    "GML_DOWNLOAD_WFS_SCHEMA": "NO",
    "LIBKML_RESOLVE_STYLE": "NO",
}

# Text that makes GDAL open something else than the file (GDAL identifies these drivers by
# finding the marker in the first kilobyte): refused in any text upload, whatever its name.
_GDAL_MARKERS = ("<ogrvrtdatasource", "<vrtdataset", "gdal_streamed_alg", "<gdal_wms",
                 "<gdal_wmts", "<wcs_gdal", "<ogrwfsdatasource", "<gdaltileindexdataset",
                 "<gdal_ogcapi", "<ogrgmlasconfiguration", "<gdal_daas", "<pdf_composition")
# Zip-based formats are not here: ``check_zip`` says what is wrong with them.
_MAGIC: dict[str, tuple[bytes, ...]] = {
    ".shp": (b"\x00\x00\x27\x0a",),
    ".gpkg": (b"SQLite format 3\x00",),
    ".tif": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    ".tiff": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
}
_JSON = (".geojson", ".json", ".topojson", ".geojsonl", ".geojsons", ".ndjson")
_XML_ROOTS: dict[str, tuple[str, ...] | None] = {".kml": ("kml",), ".gpx": ("gpx",),
                                                 ".gml": None}  # None: any GML root
_TEXT = (".csv", ".tsv", ".txt")
# A GeoJSON CRS GDAL resolves by fetching it: {"type": "link" | "url", ...}; escaped letters
# (\u006c) would hide the word from the first pattern, so they are refused too.
_CRS_LINK = re.compile(r'"type"\s*:\s*"(link|url)', re.IGNORECASE)
_ESCAPED_LETTER = re.compile(r"\\u00(4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a])", re.IGNORECASE)
# Spreadsheet parts GDAL reads whole into memory: XLSX worksheets and shared strings, the
# ODS content; and the element that starts each row in them.
_SHEET = re.compile(r"^(xl/worksheets/[^/]+\.xml|xl/sharedstrings\.xml|content\.xml)$",
                    re.IGNORECASE)
_ROW = {".xlsx": b"<row", ".ods": b"<table:table-row"}


class RefusedFile(UnsupportedFormat):
    """A file the ETL will not open: disguised, hostile or too large unpacked.

    ``http_status`` is set per instance: 413 for what unpacks too large, 422 otherwise.
    """

    def __init__(self, msg: str, status: HTTPStatus = HTTPStatus.UNPROCESSABLE_ENTITY) -> None:
        super().__init__(msg, user_msg=msg)
        self.http_status = status


@dataclass(frozen=True)
class ArchiveLimits:
    """How much a zip-based file may hold; the server builds it from its settings."""

    max_unpacked_bytes: int = 2 * 1024**3
    """Sum of the uncompressed sizes of an archive's members."""
    max_ratio: float = 500.0  # deflate tops out near 1032:1; padded DBFs reach 100-200:1
    """Uncompressed / compressed size, per member (of 1 MiB or more) and for the whole archive."""
    max_members: int = 10_000
    """Members (files and folders) in an archive."""
    max_sheet_bytes: int = 128 * MiB
    """Unpacked XML of one spreadsheet part GDAL loads whole (a worksheet, shared strings)."""
    max_sheet_rows: int = 500_000
    """Rows in one spreadsheet part (GDAL builds every row in memory before the first batch)."""


def shown(name: str, limit: int = 80) -> str:
    """A name for a message: control characters escaped, cut to a sane length."""
    text = name if len(name) <= limit else name[:limit] + "…"
    return text if text.isprintable() else repr(text)[1:-1]


def _size(n: int) -> str:
    """A limit as people read it: '512 MiB', '1.5 MiB', or bytes below 1 MiB."""
    if n >= MiB:
        return f"{n // MiB} MiB" if n % MiB == 0 else f"{n / MiB:.1f} MiB"
    return f"{n} bytes"


# --- Content ----------------------------------------------------------------------------------

def check_content(path: Path, name: str, suffix: str | None = None) -> None:
    """Refuse ``path`` unless its first bytes are those of the format its extension names.

    ``name`` is the file as the user knows it (used in the message), ``suffix`` the extension
    to judge by (default: the file's). Nothing is given to GDAL. Raises RefusedFile (422).
    """
    suffix = (suffix or path.suffix).lower()
    with path.open("rb") as fh:
        head = fh.read(_HEAD)
    if not head:
        return  # empty files are refused elsewhere, with their own message
    magic = _MAGIC.get(suffix)
    if magic is not None:
        if not head.startswith(magic):
            _disguised(name, suffix)
        return
    if suffix in _JSON or suffix in _XML_ROOTS or suffix in _TEXT:
        text = _decode_head(head)
        lowered = text.lower()
        marker = next((m for m in _GDAL_MARKERS if m in lowered), None)
        if marker is not None:
            raise RefusedFile(f"{name}: the file describes a GDAL dataset ({marker.strip('<')}"
                              "), which may point at other files or addresses; send the data "
                              "itself")
        if suffix in _JSON and text.lstrip()[:1] not in ("{", "[", "\x1e"):
            _disguised(name, suffix)
        if suffix in _XML_ROOTS:
            _check_xml_head(head, name, _XML_ROOTS[suffix])


def _decode_head(head: bytes) -> str:
    """The first bytes as text: UTF-16 by its byte order mark, else UTF-8 (errors replaced)."""
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return head.decode("utf-16", errors="replace")
    return head.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")


def _disguised(name: str, suffix: str) -> NoReturn:
    raise RefusedFile(f"{name}: the content is not {suffix} as the extension says; send the "
                      "file in the format its name gives")


class _Root(Exception):
    """Raised by the expat handler to stop at the root element."""

    def __init__(self, local: str) -> None:
        super().__init__(local)
        self.local = local


def _check_xml_head(head: bytes, name: str, roots: tuple[str, ...] | None) -> None:
    """The XML prolog has no DTD (no entities to expand or fetch) and the root is expected."""
    parser = expat.ParserCreate(namespace_separator=" ")

    def doctype(*_: object) -> None:
        raise RefusedFile(f"{name}: the XML declares a DTD (<!DOCTYPE>); send it without one")

    def start(tag: str, _attrs: object) -> None:
        raise _Root(tag.rsplit(" ", 1)[-1])

    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = start
    try:
        parser.Parse(head, len(head) < _HEAD)
    except _Root as root:
        if roots is not None and root.local.lower() not in roots:
            raise RefusedFile(f"{name}: the XML's root element is <{shown(root.local, 40)}>, "
                              f"not <{roots[0]}>; send a {roots[0].upper()} file") from None
        return
    except expat.ExpatError:
        pass
    raise RefusedFile(f"{name}: not readable XML at its start; check the file is complete")


def check_json_links(path: Path, name: str, encoding: str | None = None) -> None:
    """Refuse a JSON file whose CRS GDAL would fetch (a ``link`` or ``url`` CRS), reading it
    a megabyte at a time in its ``encoding`` (UTF-8 by default); escaped ASCII letters
    (``\\u006c``) are refused too, as they would hide the word. Raises RefusedFile (422).
    """
    tail = ""
    with path.open(encoding=encoding or "utf-8", errors="replace") as fh:
        while chunk := fh.read(_CHUNK):
            window = tail + chunk
            if _CRS_LINK.search(window):
                raise RefusedFile(f"{name}: the GeoJSON names its CRS by a link or URL, which "
                                  "the server does not fetch; remove \"crs\" (GeoJSON is "
                                  "WGS 84) or name the CRS as EPSG:code")
            if _ESCAPED_LETTER.search(window):
                raise RefusedFile(f"{name}: the JSON escapes plain letters (\\u00..); save it "
                                  "again without escaping ASCII")
            tail = window[-64:]


# --- Archives ---------------------------------------------------------------------------------

def check_zip(path: Path, name: str, limits: ArchiveLimits, *, suffix: str | None = None) -> None:
    """Refuse a zip-based file that is unreadable, hostile, too large unpacked or lying.

    First ``check_zip_directory`` (nothing unpacked); then every member is inflated as a
    stream, up to the size its directory entry declares and no further: a member that
    inflates to more or less than declared, or whose CRC-32 differs, is refused (422), as are
    encrypted members and compression methods GDAL does not read. The first bytes of members
    are sniffed like uploads (a .shp, a .kml, a .tif), and a spreadsheet's parts (XLSX, ODS)
    are capped at ``limits.max_sheet_bytes`` and ``limits.max_sheet_rows`` (422).
    """
    suffix = (suffix or path.suffix).lower()
    infos = check_zip_directory(path, name, limits)
    with path.open("rb") as fp:
        for info in infos:
            if not info.is_dir():
                _verify_member(fp, info, name, suffix, limits)


def _verify_member(fp: BinaryIO, info: zipfile.ZipInfo, name: str, suffix: str,
                   limits: ArchiveLimits) -> None:
    member = f"{name}: member {shown(info.orig_filename)}"
    if info.flag_bits & 0x1:
        raise RefusedFile(f"{member} is encrypted; zip it again without a password")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise RefusedFile(f"{member} is compressed with a method the server does not read; "
                          "zip it again with the usual (deflate) compression")
    sheet = suffix in _ROW and _SHEET.match(info.filename) is not None
    row = _ROW.get(suffix, b"")
    size = rows = 0
    crc = 0
    first = True
    carry = b""
    for data in _inflate(fp, info, member):
        size += len(data)
        crc = zlib.crc32(data, crc)
        if first and data:
            _check_member_head(data, info.filename, member)
            first = False
        if sheet:
            if size > limits.max_sheet_bytes:
                raise RefusedFile(f"{member} unpacks to more than "
                                  f"{_size(limits.max_sheet_bytes)} of sheet XML, the most one "
                                  "sheet may take; split the sheet or send a CSV")
            window = carry + data
            rows += window.count(row) - carry.count(row)
            carry = window[-len(row):]
            if rows > limits.max_sheet_rows:
                raise RefusedFile(f"{member} has more than {limits.max_sheet_rows:,} rows, the "
                                  "most one sheet may have; split the sheet or send a CSV")
    if size != info.file_size or crc != info.CRC:
        _lying(member)


def _check_member_head(data: bytes, filename: str, member: str) -> None:
    """A member's first bytes, judged like an upload of the same extension: what GDAL opens
    inside a zip (a .shp, a .tif) and any XML. macOS resource forks (``._x.shp``) are skipped."""
    path = PurePosixPath(filename)
    if filename.startswith("__MACOSX/") or path.name.startswith("._"):
        return
    suffix = path.suffix.lower()
    magic = _MAGIC.get(suffix) if suffix in (".shp", ".tif", ".tiff") else None
    if magic is not None and not data.startswith(magic):
        raise RefusedFile(f"{member}: the content is not {suffix} as the extension says")
    if suffix in (".xml", ".kml", ".gml", ".rels"):
        head = data[:_HEAD]
        lowered = _decode_head(head).lower()
        if "<!doctype" in lowered or "<!entity" in lowered:
            raise RefusedFile(f"{member}: the XML declares a DTD (<!DOCTYPE>); send it "
                              "without one")
        marker = next((m for m in _GDAL_MARKERS if m in lowered), None)
        if marker is not None:
            raise RefusedFile(f"{member}: describes a GDAL dataset ({marker.strip('<')}); "
                              "send the data itself")


def _inflate(fp: BinaryIO, info: zipfile.ZipInfo, member: str) -> Iterator[bytes]:
    """A member's bytes a megabyte at a time, never more than its declared size (plus one
    byte, to notice the lie); a stream cut short or running past its end is a lie too."""
    fp.seek(info.header_offset)
    local = fp.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        _lying(member)
    name_len, extra_len = struct.unpack_from("<HH", local, 26)
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    left, out = info.compress_size, 0
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != info.file_size:
            _lying(member)
        while left > 0:
            data = fp.read(min(_CHUNK, left))
            if not data:
                _lying(member)
            left -= len(data)
            yield data
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    pending = b""
    try:
        while not inflater.eof:
            if not pending:
                if left <= 0:
                    _lying(member)  # the compressed stream ends before its end marker
                pending = fp.read(min(_CHUNK, left))
                if not pending:
                    _lying(member)
                left -= len(pending)
            room = info.file_size - out + 1
            data = inflater.decompress(pending, min(_CHUNK, room))
            pending = inflater.unconsumed_tail
            out += len(data)
            if out > info.file_size:
                _lying(member)
            yield data
    except zlib.error:
        _lying(member)


def _lying(member: str) -> NoReturn:
    raise RefusedFile(f"{member} does not unpack to what the archive's directory declares "
                      "(size or checksum); the archive is damaged or forged: make it again")


def check_zip_directory(path: Path, name: str, limits: ArchiveLimits) -> list[zipfile.ZipInfo]:
    """Refuse a zip from its central directory alone; return its members.

    Nothing is extracted. RefusedFile 422 for a file that is not a readable zip, more than
    ``limits.max_members`` members, a member whose name leads outside the archive's folder
    (absolute, a drive, a ``..`` step, a NUL) or a symbolic link; 413 for a zip bomb: more than
    ``limits.max_unpacked_bytes`` unpacked, or a compression ratio above ``limits.max_ratio``
    for a member of 1 MiB or more or for the whole archive. Archives inside are allowed and
    not opened.
    """
    try:
        with path.open("rb") as fp:
            members = _count_members(fp, limits.max_members)
            if members is not None and members > limits.max_members:
                _too_many(name, limits)
            with zipfile.ZipFile(fp) as archive:
                infos = archive.infolist()
    except RefusedFile:
        raise
    except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError, OSError,
            struct.error):
        # ValueError includes UnicodeDecodeError (a member name that is not UTF-8 as flagged).
        raise RefusedFile(f"{name}: not a readable zip archive; make the archive again and "
                          "upload it") from None
    if len(infos) > limits.max_members:
        _too_many(name, limits)

    for info in infos:
        if _escapes(info.orig_filename) or _escapes(info.filename):
            raise RefusedFile(f"{name}: member {shown(info.orig_filename)!r} points outside "
                              "the archive")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise RefusedFile(f"{name}: member {shown(info.orig_filename)!r} is a symbolic "
                              "link; archive the file it points to instead")

    unpacked = sum(info.file_size for info in infos)
    if unpacked > limits.max_unpacked_bytes:
        raise RefusedFile(f"{name}: the archive unpacks to more than "
                          f"{_size(limits.max_unpacked_bytes)}, the most one upload may take",
                          HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    for info in infos:
        if info.file_size >= _RATIO_FLOOR and _ratio(info.file_size, info.compress_size) > \
                limits.max_ratio:
            _bomb(f"{name}: member {shown(info.orig_filename)!r}",
                  _ratio(info.file_size, info.compress_size), limits)
    packed = sum(info.compress_size for info in infos)
    if unpacked >= _RATIO_FLOOR and _ratio(unpacked, packed) > limits.max_ratio:
        _bomb(f"{name}: the archive", _ratio(unpacked, packed), limits)
    return infos


def _escapes(member: str) -> bool:
    """Whether a member name would be written outside the folder it is unpacked in."""
    if "\0" in member or member.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", member):
        return True
    return ".." in re.split(r"[/\\]", member)


def _ratio(unpacked: int, packed: int) -> float:
    """Uncompressed / compressed; infinite when a member claims to unpack from nothing."""
    if packed > 0:
        return unpacked / packed
    return float("inf") if unpacked > 0 else 0.0


def _bomb(what: str, ratio: float, limits: ArchiveLimits) -> NoReturn:
    """Refuse a zip bomb (413), naming what compresses too well and how much."""
    ratio_text = "unbounded" if ratio == float("inf") else f"{ratio:.0f}:1"
    raise RefusedFile(f"{what} has a compression ratio of {ratio_text}, which is more than a "
                      f"zip bomb limit of {limits.max_ratio:g}:1",
                      HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def _too_many(name: str, limits: ArchiveLimits) -> NoReturn:
    """Refuse an archive with more members than the limit (422)."""
    raise RefusedFile(f"{name}: the archive has more than {limits.max_members:,} members, the "
                      "most one upload may have")


# Zip records, as laid out in PKWARE's APPNOTE: end of central directory (EOCD), the Zip64
# EOCD locator and record, and the central directory's file header.
_EOCD = struct.Struct("<4s4H2LH")
_EOCD_SIG = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIG = b"PK\x06\x07"
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_EOCD_SIG = b"PK\x06\x06"
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_CENTRAL_SIG = b"PK\x01\x02"


def _count_members(fp: BinaryIO, limit: int) -> int | None:
    """Members in the central directory, counted up to ``limit + 1`` without building them.

    ``zipfile`` builds an object for every entry of the central directory before anyone can
    count them, and trusts the directory's size rather than its stated count: a 500 MiB upload
    of empty entries would take gigabytes of memory. This walks the same bytes ``zipfile``
    would (found the same way) and stops at ``limit + 1``. None when there is no directory to
    walk; ``zipfile`` then says what is wrong.
    """
    fp.seek(0, os.SEEK_END)
    filesize = fp.tell()
    tail_start = max(filesize - (1 << 16) - _EOCD.size, 0)
    fp.seek(tail_start)
    tail = fp.read()
    if tail[-_EOCD.size:-_EOCD.size + 4] == _EOCD_SIG and tail[-2:] == b"\0\0":
        at = len(tail) - _EOCD.size  # no archive comment, the usual case
    else:
        at = tail.rfind(_EOCD_SIG)
        if at < 0 or len(tail) - at < _EOCD.size:
            return None
    eocd_pos = tail_start + at
    cd_size = _EOCD.unpack_from(tail, at)[5]
    cd_end = eocd_pos
    if eocd_pos >= _ZIP64_LOCATOR.size + _ZIP64_EOCD.size:
        fp.seek(eocd_pos - _ZIP64_LOCATOR.size)
        locator = fp.read(_ZIP64_LOCATOR.size)
        if locator[:4] == _ZIP64_LOCATOR_SIG:
            fp.seek(eocd_pos - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size)
            record = fp.read(_ZIP64_EOCD.size)
            if record[:4] == _ZIP64_EOCD_SIG:
                cd_size = _ZIP64_EOCD.unpack(record)[8]
                cd_end = eocd_pos - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size
    cd_start = cd_end - cd_size
    if cd_start < 0:
        return None
    fp.seek(cd_start)
    directory = fp.read(cd_size)
    count = pos = 0
    while pos < len(directory) and count <= limit:
        if len(directory) - pos < _CENTRAL.size or directory[pos:pos + 4] != _CENTRAL_SIG:
            return None
        fields = _CENTRAL.unpack_from(directory, pos)
        pos += _CENTRAL.size + fields[12] + fields[13] + fields[14]
        count += 1
    return count
