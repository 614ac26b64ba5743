"""What the libraries raise on a user's file, said as one sentence naming the file.

GDAL (through pyogrio), Arrow, GEOS (shapely) and PROJ (pyproj) stop on files that are cut
off, damaged or hold values of the wrong kind with exceptions of their own: ``RuntimeError``
and its kin (pyogrio's and pyproj's errors), ``ArrowInvalid``, ``GEOSException``,
``UnicodeError`` (Python 3.12 raises the base class, not ``UnicodeDecodeError``, for UTF-16
without a byte order mark), or a zip's own. Raised *while a user's file is read*, they are
the file's problem: ``damaged`` turns them into a ``DamagedFile`` (exit 2, HTTP 422). The same
exceptions raised anywhere else stay what they are, a bug of ours (exit 1, "please report
it"): the readers guard only the calls that read the file (``readers.resolve_source``, the
batch stream of ``readers.open_batches``), never the code that processes what was read.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
from pyogrio._err import CPLE_BaseError
from shapely.errors import GEOSException

from geoportal.errors import DamagedFile
from geoportal.i18n import tr

__all__ = ["READ_ERRORS", "damaged", "quoted_coordinates"]

READ_ERRORS: tuple[type[BaseException], ...] = (
    RuntimeError,  # pyogrio's DataSourceError/DataLayerError/..., pyproj's CRSError/ProjError
    CPLE_BaseError,  # GDAL's own error classes as pyogrio raises them
    pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError,
    GEOSException,
    UnicodeError,
    zipfile.BadZipFile, zlib.error, EOFError, struct.error,
)
"""The exceptions a library raises on a file it cannot read (never KeyError, TypeError,
AttributeError or IndexError: those are our bugs wherever they happen)."""

# A GeoJSON coordinate written as text: "coordinates": ["27.5", ...] or [["27.5", ...
_QUOTED = re.compile(rb'"coordinates"\s*:\s*[\[\s]*"([^"]{0,40})"')
_SNIFF = 1 << 20


def damaged(name: str, exc: BaseException, *, as_format: str | None = None,
            after: int | None = None,
            clean: Callable[[BaseException], str] | None = None) -> DamagedFile:
    """The sentence for ``exc``, raised while the file the user calls ``name`` was opened
    ``as_format`` (``"GeoJSON"``) or read ``after`` that many features. ``clean`` cuts server
    paths out of the library's own words (``readers._gdal_reason``)."""
    said = (clean(exc) if clean is not None else str(exc).strip()) or type(exc).__name__
    said = said.splitlines()[0][:200]
    if as_format:
        return DamagedFile(tr("{name}: could not be read as {format} ({said}); the file looks "
                              "damaged or cut off, or holds values of the wrong kind: check that "
                              "it opens in a GIS and send it again", name=name, format=as_format,
                              said=said))
    if after is not None:
        return DamagedFile(tr("{name}: could not be read after {n} features ({said}); the file "
                              "looks damaged or cut off, or holds values of the wrong kind: "
                              "check that it opens in a GIS and send it again", name=name,
                              n=after, said=said))
    return DamagedFile(tr("{name}: could not be read ({said}); the file looks damaged or cut "
                          "off, or holds values of the wrong kind: check that it opens in a GIS "
                          "and send it again", name=name, said=said))


def quoted_coordinates(path: Path, encoding: str | None = None) -> str | None:
    """The first GeoJSON coordinate written as text (``"27.5"``) among the file's first
    megabyte, or None. GDAL gives such a feature no geometry without a word."""
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF)
    except OSError:
        return None
    if encoding and encoding.lower().replace("-", "").replace("_", "") not in ("utf8", "ascii"):
        try:
            head = head.decode(encoding, errors="replace").encode("utf-8")
        except LookupError:
            return None
    found = _QUOTED.search(head)
    return found.group(1).decode("utf-8", errors="replace") if found else None
