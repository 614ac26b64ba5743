"""GDAL in a sandbox: what a region's file may make the server do while it is read.

GDAL picks a driver by content, not by name, and several of its drivers follow what a file
says: an OGR VRT (``<OGRVRTDataSource>``) opens any path or URL it names, ``/vsicurl/`` and the
other network file systems fetch from any address, a GDALG file runs a pipeline, a GeoJSON's
old-style ``"crs": {"type": "link"}`` is fetched over HTTP. pyogrio 0.13 cannot pass GDAL the
list of allowed drivers (``GDALOpenEx``'s ``papszAllowedDrivers``), so a file is judged here
before GDAL opens anything, and GDAL's network is turned off while the ETL reads:

- ``check_content``: the first bytes must be those of the format its extension names (a zip's
  ``PK``, a Shapefile's file code, SQLite's header, a TIFF's byte order mark; JSON starts with
  ``{`` or ``[``; XML has no DTD and its root is ``kml``/``gpx``/a GML feature collection; a
  MapInfo .tab starts ``!table``, a .mif ``Version``, a DXF ``0 SECTION`` or its binary
  sentinel);
  text that describes a GDAL dataset or an OGC service (VRT, GDALG, WMS, WFS capabilities,
  STAC...) is refused whatever its extension.
- ``check_json_links``: a GeoJSON with a ``"crs"`` (at its top or in a geometry) that is a link
  or URL is refused (GDAL fetches it with CPLHTTPFetch, which no configuration option turns
  off); ``"type": "link"`` elsewhere is data.
- ``NETWORK_OFF``: GDAL config options set while the ETL reads (see ``readers``): the
  ``/vsicurl/`` family (``/vsis3/``, ``/vsigs/``, ``/vsiaz/``...) refuses every URL before any
  request, other HTTP goes to a proxy on port 0, which cannot be connected to, except for the
  hosts ``NO_PROXY`` names (libcurl reads it, GDAL has no option against it), hence:
- ``drop_network_drivers``: the ``geoportal`` command removes GDAL's network drivers (WFS,
  OAPIF, WMS...) from its process at start, so a file the checks above let through still
  cannot make GDAL go out.
- ``check_zip``: every zip-based format (zipped Shapefile, KMZ, XLSX, ODS) gets the same limits:
  the central directory (members, names, links, sizes, ratios) and then every member inflated
  as a stream with a hard byte cap, so a directory that lies about sizes or CRCs is refused;
  a spreadsheet's sheets are capped in bytes and rows before GDAL loads one whole.

Every refusal is a ``RefusedFile`` (an ``InputError``, 413 or 422) naming the file as the user
knows it (and the member inside an archive), never a path on the server.
"""

from __future__ import annotations

import codecs
import ctypes
import json
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
from geoportal.i18n import Message, tr

__all__ = ["ARCHIVE_SUFFIXES", "NETWORK_DRIVERS", "NETWORK_OFF", "ArchiveLimits", "RefusedFile",
           "check_content", "check_json_links", "check_zip", "check_zip_directory",
           "drop_network_drivers", "shown"]

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

# GDAL drivers that reach the network, run or load other programs, or read whatever files a
# description names (``OGR_VRT``, ``GTI``, ``GDALG``): the server and the ETL need none of them.
# The raster ``VRT`` driver stays (rasterio's WarpedVRT and GDAL's own COG writing use it).
NETWORK_DRIVERS = ("WFS", "OAPIF", "OGCAPI", "CSW", "WMS", "WMTS", "WCS", "EEDA", "EEDAI",
                   "DAAS", "PLMOSAIC", "PLSCENES", "STACIT", "STACTA", "NGW", "Elasticsearch",
                   "Carto", "AmigoCloud", "HTTP", "KMLSUPEROVERLAY", "GDALG", "GTI", "OGR_VRT",
                   "GPSBabel", "ADBC")
_GDAL_LIBRARY = re.compile(r"/libgdal[^/]*\.so[.\d]*$")


def drop_network_drivers() -> list[str]:
    """Deregister ``NETWORK_DRIVERS`` from every GDAL this process has loaded; return the
    drivers dropped (name once per library).

    A file that passes the content checks can still make GDAL go out: libcurl sends hosts
    named in ``NO_PROXY`` past ``NETWORK_OFF``'s proxy, and a driver matched by content (the
    WFS driver for a ``<WFS_Capabilities>``) then fetches what the file names. Without the
    driver nothing fetches. pyogrio and rasterio each load their own libgdal; in each, the
    names go into the ``GDAL_SKIP`` config option (not the environment, so GDAL programs this
    process starts keep every driver) and ``GDALAllRegister`` applies it, now and whenever
    rasterio registers drivers again. The change is for the whole process and lasts: the
    ``geoportal`` command calls this at start, a test or notebook that imports the package
    keeps its drivers. Linux only (the libraries are found in ``/proc/self/maps``); elsewhere
    nothing is dropped.
    """
    import pyogrio  # noqa: F401  (each loads its libgdal)
    import rasterio  # noqa: F401

    dropped = []
    for path in _gdal_libraries():
        try:
            lib = ctypes.CDLL(path, mode=os.RTLD_NOLOAD)
        except OSError:
            continue
        lib.GDALGetDriverByName.restype = ctypes.c_void_p
        lib.GDALGetDriverByName.argtypes = [ctypes.c_char_p]
        lib.CPLGetConfigOption.restype = ctypes.c_char_p
        lib.CPLGetConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        lib.CPLSetConfigOption.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        lib.GDALAllRegister()
        present = [n for n in NETWORK_DRIVERS if lib.GDALGetDriverByName(n.encode())]
        if not present:
            continue
        skip = (lib.CPLGetConfigOption(b"GDAL_SKIP", None) or b"").decode()
        names = [n for n in re.split(r"[,\s]+", skip) if n]
        names += [n for n in present if n not in names]
        lib.CPLSetConfigOption(b"GDAL_SKIP", ",".join(names).encode())
        lib.GDALAllRegister()  # deregisters what GDAL_SKIP names
        dropped += [n for n in present if not lib.GDALGetDriverByName(n.encode())]
    return dropped


def _gdal_libraries() -> list[str]:
    """The libgdal files mapped into this process."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            found = {line.split(None, 5)[5].strip() for line in maps
                     if line.count(" ") >= 5 and "libgdal" in line}
    except OSError:
        return []
    return sorted(p for p in found if _GDAL_LIBRARY.search(p))


# Text that makes GDAL open something else than the file, or go to the network: each GDAL
# driver below identifies a local file by finding its marker in the first bytes (its
# ``Identify``), then reads the addresses or paths the file names. Refused in any text upload,
# whatever its name, compared in lower case (GDAL compares case-sensitively: this is wider).
# GDAL's "DRIVER:" prefixes (``WFS:``, ``OAPIF:``, ``PLScenes:``...) are not here: GDAL reads
# them from the name it is given, never from a file's content, and it is only given plain
# names (``sources.alias``).
_GDAL_MARKERS = (
    "<ogrvrtdatasource", "<vrtdataset",  # OGR_VRT, VRT: any path or URL as a source
    "gdal_streamed_alg",  # GDALG: a pipeline of GDAL commands
    "<gdaltileindexdataset",  # GTI: a tile index naming any files
    "<ogrgmlasconfiguration", "<pdf_composition", "<gdal_daas", "<gdal_ogcapi",
    "<ogrwfsdatasource", "wfs_capabilities",  # WFS: <WFS_Capabilities>, <wfs:WFS_Capabilities>
    "<gdal_wms", "wmt_ms_capabilities", "wms_capabilities",  # WMS and its capabilities
    "<wms_tile_service", "<tilemap",  # WMS mini-drivers: TileService, TMS (TileMap/Service)
    "<gdal_wmts", "www.opengis.net/wmts",  # WMTS: <GDAL_WMTS>, a WMTS <Capabilities>
    "<wcs_gdal",  # WCS
    '"stac_version"', '"stac_extensions"',  # STACIT, STACTA: STAC items and tiled assets
    "pds.nasa.gov/pds4",  # PDS4 labels name the files they describe
)
# Zip-based formats are not here: ``check_zip`` says what is wrong with them.
_MAGIC: dict[str, tuple[bytes, ...]] = {
    ".shp": (b"\x00\x00\x27\x0a",),
    ".gpkg": (b"SQLite format 3\x00",),
    ".tif": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    ".tiff": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
}
_JSON = (".geojson", ".json", ".topojson", ".geojsonl", ".geojsons", ".ndjson")
_XML_ROOTS: dict[str, tuple[str, ...] | None] = {".kml": ("kml",), ".gpx": ("gpx",),
                                                 ".gml": None}  # None: see _check_gml_root
# What a GML root may not be: OGC service documents (capabilities GDAL's WFS, WMS or WMTS
# drivers would follow to their servers, exception reports) and GDAL's own descriptions.
_SERVICE_NAMESPACES = ("http://www.opengis.net/wfs", "http://www.opengis.net/wms",
                       "http://www.opengis.net/wmts", "http://www.opengis.net/wcs",
                       "http://www.opengis.net/ows", "http://www.opengis.net/cat/csw",
                       "http://www.opengis.net/wps", "http://www.opengis.net/sld",
                       "http://www.opengis.net/ogc", "http://pds.nasa.gov/")
_SERVICE_ROOTS = re.compile(r"(capabilities|exceptionreport|^services|^tilemap|"
                            r"^wms_tile_service|^gdal|^ogr|^vrt|^wcs_gdal|^pdf_composition|"
                            r"^product_)", re.IGNORECASE)
_TEXT = (".csv", ".tsv", ".txt")
# Text formats known by their first word: a MapInfo .tab starts "!table", a .mif "Version";
# a text DXF is group code 0 then SECTION (after 999 comment groups), a binary one has its
# sentinel. Each is refused when it starts otherwise, and checked for GDAL's markers.
_FIRST_WORD: dict[str, re.Pattern[bytes]] = {
    ".tab": re.compile(rb"\s*!table\b", re.IGNORECASE),
    ".mif": re.compile(rb"\s*version\b", re.IGNORECASE),
    ".dxf": re.compile(rb"(\s*999\r?\n[^\n]*\n)*\s*0\r?\n\s*SECTION\s"
                       rb"|AutoCAD Binary DXF\r\n\x1a\x00"),
}
# A "crs" name, as GDAL finds one: in any case, quoted either way (its GeoJSONSeq parser takes
# single quotes and comments), and what follows it. GDAL reads a "crs" member at the top of a
# GeoJSON and in every geometry object, and fetches it when its "type" starts with "link" or
# "url". Only plain blanks are skipped here (linear: no pattern that can backtrack).
_CRS_NAME = re.compile(r"""["']crs["']\s*""", re.IGNORECASE)
_CRS_MAX = 1 << 16  # characters a "crs" member's value may take
# Escaped letters (\u006c) would hide a name from the pattern above: refused too.
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

    def __init__(self, msg: Message,
                 status: HTTPStatus = HTTPStatus.UNPROCESSABLE_ENTITY) -> None:
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
    first = _FIRST_WORD.get(suffix)
    if first is not None and not first.match(head.removeprefix(codecs.BOM_UTF8)):
        _disguised(name, suffix)
    if suffix in _JSON or suffix in _XML_ROOTS or suffix in _TEXT or (
            first is not None and not head.startswith(b"AutoCAD Binary DXF")):
        text = _decode_head(head)
        lowered = text.lower()
        marker = next((m for m in _GDAL_MARKERS if m in lowered), None)
        if marker is not None:
            raise RefusedFile(tr("{file}: the file describes a GDAL dataset ({marker}), which "
                                 "may point at other files or addresses; send the data itself",
                                 file=name, marker=marker.strip("<")))
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
    raise RefusedFile(tr("{file}: the content is not {suffix} as the extension says; send the "
                         "file in the format its name gives", file=name, suffix=suffix))


class _Root(Exception):
    """Raised by the expat handler to stop at the root element."""

    def __init__(self, local: str, namespace: str) -> None:
        super().__init__(local)
        self.local, self.namespace = local, namespace


def _check_xml_head(head: bytes, name: str, roots: tuple[str, ...] | None) -> None:
    """The XML prolog has no DTD (no entities to expand or fetch) and the root is expected."""
    parser = expat.ParserCreate(namespace_separator=" ")

    def doctype(*_: object) -> None:
        raise RefusedFile(tr("{file}: the XML declares a DTD (<!DOCTYPE>); send it without one",
                             file=name))

    def start(tag: str, _attrs: object) -> None:
        namespace, _, local = tag.rpartition(" ")
        raise _Root(local, namespace)

    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = start
    try:
        parser.Parse(head, len(head) < _HEAD)
    except _Root as root:
        if roots is None:
            _check_gml_root(root.namespace, root.local, name)
        elif root.local.lower() not in roots:
            raise RefusedFile(tr("{file}: the XML's root element is <{root}>, not <{expected}>; "
                                 "send a {kind} file", file=name, root=shown(root.local, 40),
                                 expected=roots[0], kind=roots[0].upper())) from None
        return
    except expat.ExpatError:
        pass
    raise RefusedFile(tr("{file}: not readable XML at its start; check the file is complete",
                         file=name))


def _check_gml_root(namespace: str, local: str, name: str) -> None:
    """A GML file's root is a feature collection: ``FeatureCollection`` in any namespace (GML's,
    WFS's, OGR's), or an application schema's own collection (a CityGML ``CityModel``, an
    INSPIRE ``SpatialDataSet``) in a namespace that is not an OGC service's. A service's
    capabilities (which GDAL's WFS driver would follow to the server they name), an exception
    report or a GDAL description is refused, as is a root in no namespace at all."""
    collection = local.lower().endswith("featurecollection")
    service = (namespace.startswith(_SERVICE_NAMESPACES) or _SERVICE_ROOTS.search(local)
               or not namespace)
    if service and not collection:
        raise RefusedFile(tr("{file}: the XML's root element is <{root}>, not a GML feature "
                             "collection (such as <gml:FeatureCollection>); send the features "
                             "themselves as GML", file=name, root=shown(local, 40)))


def check_json_links(path: Path, name: str, encoding: str | None = None) -> None:
    """Refuse a JSON file with a CRS GDAL would fetch, reading it a megabyte at a time in its
    ``encoding`` (UTF-8 by default). Raises RefusedFile (422).

    Every ``"crs"`` member is judged where GDAL reads one (the top of a GeoJSON, any geometry,
    each record of a sequence): its value is refused when its ``"type"`` starts with ``link``
    or ``url`` (any case), or when it is an object that is not plain JSON (single quotes,
    comments: GDAL's lenient parser reads those, Python's cannot check them). A ``"type":
    "link"`` anywhere else, such as a feature's property, is data and left alone. Escaped
    ASCII letters (``\\u006c``) are refused, as they would hide the member's name.
    """
    decoder = json.JSONDecoder(object_pairs_hook=list)
    text = ""
    with path.open(encoding=encoding or "utf-8", errors="replace") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            text += chunk
            if _ESCAPED_LETTER.search(text):
                raise RefusedFile(tr("{file}: the JSON escapes plain letters (\\u00..); save "
                                     "it again without escaping ASCII", file=name))
            keep = _check_crs_members(text, decoder, name, complete=not chunk)
            if not chunk:
                return
            text = text[min(keep, max(len(text) - 8, 0)):]  # a name cut at the end


def _check_crs_members(text: str, decoder: json.JSONDecoder, name: str, *,
                       complete: bool) -> int:
    """Judge every ``"crs"`` member in ``text``; return where the next window must start: the
    first member that runs past the end of ``text`` (unless ``complete``), else its end."""
    for found in _CRS_NAME.finditer(text):
        at = found.end()
        follows = text[at:at + 1]
        if follows == ":":
            at = _skip_blanks(text, at + 1)
            follows = text[at:at + 1]
            if follows == "{":
                try:
                    value, _ = decoder.raw_decode(text, at)
                except json.JSONDecodeError:
                    if not complete and len(text) - found.start() < _CRS_MAX:
                        return found.start()  # the value goes on in the next megabyte
                    _crs_unreadable(name)
                except RecursionError:  # nested deeper than any CRS
                    _crs_unreadable(name)
                if _is_link(value):
                    raise RefusedFile(tr("{file}: the GeoJSON names its CRS by a link or URL, "
                                         "which the server does not fetch; remove \"crs\" "
                                         "(GeoJSON is WGS 84) or name the CRS as EPSG:code",
                                         file=name))
                continue
        if follows in ("'", "/"):  # single quotes, a comment: JSON Python cannot judge
            _crs_unreadable(name)
        if not follows and not complete:
            if len(text) - found.start() >= _CRS_MAX:
                _crs_unreadable(name)
            return found.start()
        # otherwise a string value ("crs",), null, a number, a list: nothing GDAL fetches
    return len(text)


def _skip_blanks(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _is_link(crs: object) -> bool:
    """Whether a decoded ``"crs"`` value (objects as lists of pairs) is one GDAL fetches."""
    if not isinstance(crs, list):
        return False
    return any(key.lower() == "type" and isinstance(value, str)
               and value.lower().startswith(("link", "url")) for key, value in crs)


def _crs_unreadable(name: str) -> NoReturn:
    raise RefusedFile(tr("{file}: a \"crs\" member is not plain JSON (single quotes, "
                         "comments) or is too long to check; write it as standard JSON, or "
                         "remove it (GeoJSON is WGS 84)", file=name))


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
    member = shown(info.orig_filename)
    if info.flag_bits & 0x1:
        raise RefusedFile(tr("{file}: member {member} is encrypted; zip it again without a "
                             "password", file=name, member=member))
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise RefusedFile(tr("{file}: member {member} is compressed with a method the server "
                             "does not read; zip it again with the usual (deflate) compression",
                             file=name, member=member))
    sheet = suffix in _ROW and _SHEET.match(info.filename) is not None
    row = _ROW.get(suffix, b"")
    size = rows = 0
    crc = 0
    first = True
    carry = b""
    for data in _inflate(fp, info, name, member):
        size += len(data)
        crc = zlib.crc32(data, crc)
        if first and data:
            _check_member_head(data, info.filename, name, member)
            first = False
        if sheet:
            if size > limits.max_sheet_bytes:
                raise RefusedFile(tr("{file}: member {member} unpacks to more than {size} of "
                                     "sheet XML, the most one sheet may take; split the sheet "
                                     "or send a CSV", file=name, member=member,
                                     size=_size(limits.max_sheet_bytes)))
            window = carry + data
            rows += window.count(row) - carry.count(row)
            carry = window[-len(row):]
            if rows > limits.max_sheet_rows:
                raise RefusedFile(tr("{file}: member {member} has more than {rows} rows, the "
                                     "most one sheet may have; split the sheet or send a CSV",
                                     file=name, member=member,
                                     rows=f"{limits.max_sheet_rows:,}"))
    if size != info.file_size or crc != info.CRC:
        _lying(name, member)


def _check_member_head(data: bytes, filename: str, name: str, member: str) -> None:
    """A member's first bytes, judged like an upload of the same extension: what GDAL opens
    inside a zip (a .shp, a .tif) and any XML. macOS resource forks (``._x.shp``) are skipped.
    ``name`` is the archive as the user knows it, ``member`` the member as shown."""
    path = PurePosixPath(filename)
    if filename.startswith("__MACOSX/") or path.name.startswith("._"):
        return
    suffix = path.suffix.lower()
    magic = _MAGIC.get(suffix) if suffix in (".shp", ".tif", ".tiff") else None
    first = _FIRST_WORD.get(suffix)
    if (magic is not None and not data.startswith(magic)) or (
            first is not None and not first.match(data.removeprefix(codecs.BOM_UTF8))):
        raise RefusedFile(tr("{file}: member {member}: the content is not {suffix} as the "
                             "extension says", file=name, member=member, suffix=suffix))
    if suffix in (".tab", ".mif"):
        marker = next((m for m in _GDAL_MARKERS if m in _decode_head(data[:_HEAD]).lower()),
                      None)
        if marker is not None:
            _member_describes(name, member, marker)
    if suffix in (".xml", ".kml", ".gml", ".rels"):
        head = data[:_HEAD]
        lowered = _decode_head(head).lower()
        if "<!doctype" in lowered or "<!entity" in lowered:
            raise RefusedFile(tr("{file}: member {member}: the XML declares a DTD "
                                 "(<!DOCTYPE>); send it without one", file=name, member=member))
        marker = next((m for m in _GDAL_MARKERS if m in lowered), None)
        if marker is not None:
            _member_describes(name, member, marker)


def _member_describes(name: str, member: str, marker: str) -> NoReturn:
    """Refuse a member that describes a GDAL dataset (``marker``, as found) instead of data."""
    raise RefusedFile(tr("{file}: member {member}: describes a GDAL dataset ({marker}); send "
                         "the data itself", file=name, member=member, marker=marker.strip("<")))


def _inflate(fp: BinaryIO, info: zipfile.ZipInfo, name: str, member: str) -> Iterator[bytes]:
    """A member's bytes a megabyte at a time, never more than its declared size (plus one
    byte, to notice the lie); a stream cut short or running past its end is a lie too."""
    fp.seek(info.header_offset)
    local = fp.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        _lying(name, member)
    name_len, extra_len = struct.unpack_from("<HH", local, 26)
    fp.seek(info.header_offset + 30 + name_len + extra_len)
    left, out = info.compress_size, 0
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != info.file_size:
            _lying(name, member)
        while left > 0:
            data = fp.read(min(_CHUNK, left))
            if not data:
                _lying(name, member)
            left -= len(data)
            yield data
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    pending = b""
    try:
        while not inflater.eof:
            if not pending:
                if left <= 0:
                    _lying(name, member)  # the compressed stream ends before its end marker
                pending = fp.read(min(_CHUNK, left))
                if not pending:
                    _lying(name, member)
                left -= len(pending)
            room = info.file_size - out + 1
            data = inflater.decompress(pending, min(_CHUNK, room))
            pending = inflater.unconsumed_tail
            out += len(data)
            if out > info.file_size:
                _lying(name, member)
            yield data
    except zlib.error:
        _lying(name, member)


def _lying(name: str, member: str) -> NoReturn:
    raise RefusedFile(tr("{file}: member {member} does not unpack to what the archive's "
                         "directory declares (size or checksum); the archive is damaged or "
                         "forged: make it again", file=name, member=member))


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
        raise RefusedFile(tr("{file}: not a readable zip archive; make the archive again and "
                             "upload it", file=name)) from None
    if len(infos) > limits.max_members:
        _too_many(name, limits)

    for info in infos:
        if _escapes(info.orig_filename) or _escapes(info.filename):
            raise RefusedFile(tr("{file}: member {member} points outside the archive",
                                 file=name, member=repr(shown(info.orig_filename))))
        if stat.S_ISLNK(info.external_attr >> 16):
            raise RefusedFile(tr("{file}: member {member} is a symbolic link; archive the file "
                                 "it points to instead", file=name,
                                 member=repr(shown(info.orig_filename))))

    unpacked = sum(info.file_size for info in infos)
    if unpacked > limits.max_unpacked_bytes:
        raise RefusedFile(tr("{file}: the archive unpacks to more than {size}, the most one "
                             "upload may take", file=name, size=_size(limits.max_unpacked_bytes)),
                          HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    for info in infos:
        if info.file_size >= _RATIO_FLOOR and _ratio(info.file_size, info.compress_size) > \
                limits.max_ratio:
            _bomb(tr("{file}: member {member}", file=name,
                     member=repr(shown(info.orig_filename))),
                  _ratio(info.file_size, info.compress_size), limits)
    packed = sum(info.compress_size for info in infos)
    if unpacked >= _RATIO_FLOOR and _ratio(unpacked, packed) > limits.max_ratio:
        _bomb(tr("{file}: the archive", file=name), _ratio(unpacked, packed), limits)
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


def _bomb(what: Message, ratio: float, limits: ArchiveLimits) -> NoReturn:
    """Refuse a zip bomb (413), naming what compresses too well and how much."""
    ratio_text = tr("unbounded") if ratio == float("inf") else f"{ratio:.0f}:1"
    raise RefusedFile(tr("{what} has a compression ratio of {ratio}, which is more than a zip "
                         "bomb limit of {limit}:1", what=what, ratio=ratio_text,
                         limit=f"{limits.max_ratio:g}"),
                      HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def _too_many(name: str, limits: ArchiveLimits) -> NoReturn:
    """Refuse an archive with more members than the limit (422)."""
    raise RefusedFile(tr("{file}: the archive has more than {limit} members, the most one "
                         "upload may have", file=name, limit=f"{limits.max_members:,}"))


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
