"""Saving a file a regional admin uploads, and refusing hostile ones before the ETL opens them.

The server hands ``save_upload`` the request's file stream. The client's file name is cut down
to a plain basename, the copy is capped at ``UploadLimits.max_bytes`` while it is written, the
suffix must be one the ETL reads, and a zip (or KMZ) is judged by its central directory alone:
members that would land outside the folder, symbolic links, too many members and zip bombs
are refused without unpacking anything. Bad input only ever raises ``UploadRejected``, whose
``http_status`` is the answer to give, and a refused upload leaves nothing on disk.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import struct
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path, PurePath
from typing import BinaryIO, NoReturn

from geoportal.errors import InputError
from geoportal.etl.coverage import RASTER_SUFFIXES
from geoportal.etl.readers import _FORMATS

__all__ = ["SUPPORTED_SUFFIXES", "UploadLimits", "UploadRejected", "check_archive",
           "check_format", "safe_filename", "save_upload"]

MiB = 1024**2
_CHUNK = MiB
# Members smaller than this are left out of the per-member ratio check: a small text file
# (a .prj, a .cpg, a CSV of repeated values) often compresses far better than 100:1.
_RATIO_FLOOR = MiB
# Bytes a file name may take on the file systems the server runs on (ext4, xfs).
_NAME_MAX = 255
_ARCHIVES = (".zip", ".kmz")

SUPPORTED_SUFFIXES: tuple[str, ...] = (*_FORMATS, *RASTER_SUFFIXES)
"""Every suffix the ETL reads: the vector readers' formats, then GeoTIFF."""


class UploadRejected(InputError):
    """An upload refused before the ETL saw it; .http_status is the HTTP status to answer."""

    def __init__(self, msg: str, status: HTTPStatus) -> None:
        super().__init__(msg, user_msg=msg)
        # Per instance: one class answers 400, 413, 415 or 422 depending on what is wrong.
        self.http_status = status


@dataclass(frozen=True)
class UploadLimits:
    """How much one upload may take; the server builds it from its settings."""

    max_bytes: int = 512 * MiB
    """Size of the uploaded file itself."""
    max_unpacked_bytes: int = 2 * 1024**3
    """Sum of the uncompressed sizes of an archive's members."""
    max_ratio: float = 500.0  # deflate tops out near 1032:1; padded DBFs reach 100-200:1
    """Uncompressed / compressed size, per member (of 1 MiB or more) and for the whole archive."""
    max_members: int = 10_000
    """Members (files and folders) in an archive."""


def _size(n: int) -> str:
    """A limit as people read it: '512 MiB', '1.5 MiB', or bytes below 1 MiB."""
    if n >= MiB:
        return f"{n // MiB} MiB" if n % MiB == 0 else f"{n / MiB:.1f} MiB"
    return f"{n} bytes"


def _shown(name: str, limit: int = 80) -> str:
    """A name quoted for a message, with control characters escaped and cut to a sane length."""
    return repr(name if len(name) <= limit else name[:limit] + "…")


def safe_filename(name: str) -> str:
    """The client's file name reduced to a basename that is safe to create in the upload folder.

    Browsers and scripts send anything from ``roads.zip`` to ``C:\\Users\\x\\roads.zip`` or
    ``../../etc/passwd``: the directory part (``/`` or ``\\``, or a ``C:`` drive) is dropped,
    control and invisible formatting characters (NUL, newlines, right-to-left overrides) are
    removed, Unicode letters stay (``Гродна.zip`` is a normal name). A name too long for the
    file system is shortened before its suffix. Nothing usable left: UploadRejected (400).
    """
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name))[-1]
    base = re.sub(r"^[A-Za-z]:", "", base)
    # Cc: control characters; Cf: invisible formatting (bidi overrides that disguise a suffix);
    # Cs: lone surrogates, which cannot be written as a file name at all.
    base = "".join(c for c in base if unicodedata.category(c) not in ("Cc", "Cf", "Cs")).strip()
    if base in ("", ".", ".."):
        raise UploadRejected(f"{_shown(name)} is not a usable file name; send the file under its "
                             "own name, such as roads.zip", HTTPStatus.BAD_REQUEST)
    if len(base.encode()) > _NAME_MAX:
        suffix = PurePath(base).suffix
        stem = base[:len(base) - len(suffix)]
        while stem and len((stem + suffix).encode()) > _NAME_MAX:
            stem = stem[:-1]
        if not stem.strip():
            raise UploadRejected(f"{_shown(name)} is too long for a file name; rename the file "
                                 "to something shorter", HTTPStatus.BAD_REQUEST)
        base = stem.rstrip() + suffix
    return base


def check_format(filename: str) -> str:
    """The lower-cased suffix of ``filename`` when the ETL reads it; UploadRejected (415) if not.

    Checked on the name only: what is inside is for the ETL to judge, and it says so in its
    own words when a .geojson turns out not to be GeoJSON.
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return suffix
    known = ", ".join(f"{s} (zipped with .dbf/.shx/.prj)" if s == ".shp" else s
                      for s in SUPPORTED_SUFFIXES)
    raise UploadRejected(f"{filename}: unknown format; upload one of {known}",
                         HTTPStatus.UNSUPPORTED_MEDIA_TYPE)


def save_upload(stream: BinaryIO, filename: str, folder: Path, limits: UploadLimits) -> Path:
    """Copy an uploaded file to ``folder/safe_filename(filename)`` and check it; return its path.

    The name and format are checked before anything is written, the copy stops as soon as it
    passes ``limits.max_bytes``, and a .zip or .kmz must pass ``check_archive``. The bytes go to
    a hidden temporary file first and get their name only once every check has passed, so a
    refused upload neither leaves a partial file nor replaces a file of the same name. On any
    failure the temporary file is deleted, and ``folder`` too when this call created it and it
    is empty. Bad input raises UploadRejected; failures of the stream or the disk propagate.
    """
    name = safe_filename(filename)
    suffix = check_format(name)
    target = folder / name
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    tmp: Path | None = None
    try:
        if target.is_dir():
            raise UploadRejected(f"{name}: a folder of that name is already there; rename the "
                                 "file and upload it again", HTTPStatus.CONFLICT)
        fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
        tmp = Path(tmp_name)
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limits.max_bytes:
                    raise UploadRejected(f"{name}: the file is larger than "
                                         f"{_size(limits.max_bytes)}, the most one upload may "
                                         "take", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
                out.write(chunk)
        if size == 0:
            raise UploadRejected(f"{name}: the file is empty; send it again",
                                 HTTPStatus.BAD_REQUEST)
        if suffix in _ARCHIVES:
            _check_archive(tmp, name, limits)
        tmp.replace(target)
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):  # not empty: someone else's file is there
                folder.rmdir()
        raise
    return target


def check_archive(path: Path, limits: UploadLimits) -> None:
    """Refuse a zip (or KMZ) that is unreadable or hostile, from its central directory alone.

    Nothing is extracted. UploadRejected 422 for a file that is not a readable zip, more than
    ``limits.max_members`` members, a member whose name leads outside the archive's folder
    (absolute, a drive, a ``..`` step, a NUL) or a symbolic link; 413 for a zip bomb: more than
    ``limits.max_unpacked_bytes`` unpacked, or a compression ratio above ``limits.max_ratio``
    for a member of 1 MiB or more or for the whole archive. Archives inside are allowed and
    not opened.
    """
    _check_archive(path, path.name, limits)


def _check_archive(path: Path, name: str, limits: UploadLimits) -> None:
    """``check_archive`` with the name the user knows the file by (it may sit in a temp file)."""
    try:
        with path.open("rb") as fp:
            members = _count_members(fp, limits.max_members)
            if members is not None and members > limits.max_members:
                _too_many(name, limits)
            with zipfile.ZipFile(fp) as archive:
                infos = archive.infolist()
    except UploadRejected:
        raise
    except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError, OSError,
            struct.error):
        # ValueError includes UnicodeDecodeError (a member name that is not UTF-8 as flagged).
        raise UploadRejected(f"{name}: not a readable zip archive; make the archive again and "
                             "upload it", HTTPStatus.UNPROCESSABLE_ENTITY) from None
    if len(infos) > limits.max_members:
        _too_many(name, limits)

    for info in infos:
        if _escapes(info.orig_filename) or _escapes(info.filename):
            raise UploadRejected(f"{name}: member {_shown(info.orig_filename)} points outside "
                                 "the archive", HTTPStatus.UNPROCESSABLE_ENTITY)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UploadRejected(f"{name}: member {_shown(info.orig_filename)} is a symbolic "
                                 "link; archive the file it points to instead",
                                 HTTPStatus.UNPROCESSABLE_ENTITY)

    unpacked = sum(info.file_size for info in infos)
    if unpacked > limits.max_unpacked_bytes:
        raise UploadRejected(f"{name}: the archive unpacks to more than "
                             f"{_size(limits.max_unpacked_bytes)}, the most one upload may take",
                             HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    for info in infos:
        if info.file_size >= _RATIO_FLOOR and _ratio(info.file_size, info.compress_size) > \
                limits.max_ratio:
            _bomb(f"{name}: member {_shown(info.orig_filename)}",
                  _ratio(info.file_size, info.compress_size), limits)
    packed = sum(info.compress_size for info in infos)
    if unpacked >= _RATIO_FLOOR and _ratio(unpacked, packed) > limits.max_ratio:
        _bomb(f"{name}: the archive", _ratio(unpacked, packed), limits)


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


def _bomb(what: str, ratio: float, limits: UploadLimits) -> NoReturn:
    """Refuse a zip bomb (413), naming what compresses too well and how much."""
    shown = "unbounded" if ratio == float("inf") else f"{ratio:.0f}:1"
    raise UploadRejected(f"{what} has a compression ratio of {shown}, which is more than a zip "
                         f"bomb limit of {limits.max_ratio:g}:1",
                         HTTPStatus.REQUEST_ENTITY_TOO_LARGE)


def _too_many(name: str, limits: UploadLimits) -> NoReturn:
    """Refuse an archive with more members than the limit (422)."""
    raise UploadRejected(f"{name}: the archive has more than {limits.max_members:,} members, the "
                         "most one upload may have", HTTPStatus.UNPROCESSABLE_ENTITY)


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
