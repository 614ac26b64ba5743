"""Saving a file a regional admin uploads, and refusing hostile ones before the ETL opens them.

The server hands ``save_upload`` the request's file stream. The client's file name is cut down
to a plain basename, the copy is capped at ``UploadLimits.max_bytes`` while it is written, the
suffix must be one the ETL reads, and the first bytes must be that format's
(``geoportal.etl.sandbox.check_content``: a VRT or a GDAL pipeline named .geojson is refused
before any GDAL sees it). Every zip-based format (zip, KMZ, XLSX, ODS) is judged by its central
directory (members outside the folder, symbolic links, too many members, zip bombs) and then
inflated as a stream up to the sizes it declares, never further (``sandbox.check_zip``). Bad
input only ever raises ``UploadRejected``, whose ``http_status`` is the answer to give, and a
refused upload leaves nothing on disk.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path, PurePath
from typing import BinaryIO

from geoportal.errors import InputError
from geoportal.etl.coverage import RASTER_SUFFIXES
from geoportal.etl.readers import _FORMATS
from geoportal.etl.sandbox import (
    ARCHIVE_SUFFIXES,
    ArchiveLimits,
    RefusedFile,
    check_content,
    check_zip,
)
from geoportal.i18n import tr

__all__ = ["SUPPORTED_SUFFIXES", "UploadLimits", "UploadRejected", "check_archive",
           "check_format", "safe_filename", "save_upload"]

MiB = 1024**2
_CHUNK = MiB
# Bytes a file name may take on the file systems the server runs on (ext4, xfs).
_NAME_MAX = 255

SUPPORTED_SUFFIXES: tuple[str, ...] = (*_FORMATS, *RASTER_SUFFIXES)
"""Every suffix the ETL reads: the vector readers' formats, then GeoTIFF."""
# Formats of several files: an upload is one file, so they come zipped (the parts named).
_ZIPPED_ONLY = {".shp": ".dbf/.shx/.prj", ".tab": ".dat/.map/.id", ".mif": ".mid"}


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

    def archive(self) -> ArchiveLimits:
        """The limits ``sandbox.check_zip`` applies to a zip-based upload."""
        return ArchiveLimits(max_unpacked_bytes=self.max_unpacked_bytes,
                             max_ratio=self.max_ratio, max_members=self.max_members)


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
        raise UploadRejected(tr("{name} is not a usable file name; send the file under its own "
                                "name, such as roads.zip", name=_shown(name)),
                             HTTPStatus.BAD_REQUEST)
    if len(base.encode()) > _NAME_MAX:
        suffix = PurePath(base).suffix
        stem = base[:len(base) - len(suffix)]
        while stem and len((stem + suffix).encode()) > _NAME_MAX:
            stem = stem[:-1]
        if not stem.strip():
            raise UploadRejected(tr("{name} is too long for a file name; rename the file to "
                                    "something shorter", name=_shown(name)),
                                 HTTPStatus.BAD_REQUEST)
        base = stem.rstrip() + suffix
    return base


def check_format(filename: str) -> str:
    """The lower-cased suffix of ``filename`` when the ETL reads it; UploadRejected (415) if not.

    Checked on the name only: what is inside is for the ETL to judge, and it says so in its
    own words when a .geojson turns out not to be GeoJSON.
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix in (".tab", ".mif"):
        raise UploadRejected(tr("{file}: a MapInfo table is several files and an upload takes "
                                "one; zip the {suffix} with its {parts} and upload the zip",
                                file=filename, suffix=suffix, parts=_ZIPPED_ONLY[suffix]),
                             HTTPStatus.UNPROCESSABLE_ENTITY)
    if suffix in SUPPORTED_SUFFIXES:
        return suffix
    known = ", ".join(f"{s} (zipped with {_ZIPPED_ONLY[s]})" if s in _ZIPPED_ONLY else s
                      for s in SUPPORTED_SUFFIXES)
    raise UploadRejected(tr("{file}: unknown format; upload one of {formats}", file=filename,
                            formats=known), HTTPStatus.UNSUPPORTED_MEDIA_TYPE)


def save_upload(stream: BinaryIO, filename: str, folder: Path, limits: UploadLimits) -> Path:
    """Copy an uploaded file to ``folder/safe_filename(filename)`` and check it; return its path.

    The name and format are checked before anything is written, the copy stops as soon as it
    passes ``limits.max_bytes``; its first bytes must match its extension and a zip-based
    file (.zip, .kmz, .xlsx, .ods) must pass ``check_archive``. The bytes go to
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
            raise UploadRejected(tr("{name}: a folder of that name is already there; rename the "
                                    "file and upload it again", name=name), HTTPStatus.CONFLICT)
        fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
        tmp = Path(tmp_name)
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limits.max_bytes:
                    raise UploadRejected(tr("{name}: the file is larger than {size}, the most "
                                            "one upload may take", name=name,
                                            size=_size(limits.max_bytes)),
                                         HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
                out.write(chunk)
        if size == 0:
            raise UploadRejected(tr("{name}: the file is empty; send it again", name=name),
                                 HTTPStatus.BAD_REQUEST)
        _check_content(tmp, name)
        if suffix in ARCHIVE_SUFFIXES:
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
    """Refuse a zip-based file (zip, KMZ, XLSX, ODS) that is unreadable, hostile or lying.

    ``geoportal.etl.sandbox.check_zip`` under the upload's limits: the central directory first
    (members, names, links, sizes, ratios; nothing unpacked), then every member inflated as a
    stream up to its declared size. UploadRejected 413 for what unpacks too large, 422 for the
    rest. Archives inside are allowed and not opened.
    """
    _check_archive(path, path.name, limits)


def _check_archive(path: Path, name: str, limits: UploadLimits) -> None:
    """``check_archive`` with the name the user knows the file by (it may sit in a temp file)."""
    try:
        check_zip(path, name, limits.archive(), suffix=PurePath(name).suffix)
    except RefusedFile as exc:
        raise UploadRejected(exc.user_msg, exc.http_status) from None


def _check_content(path: Path, name: str) -> None:
    """The first bytes must be those of the format the name's extension gives (422)."""
    try:
        check_content(path, name, PurePath(name).suffix)
    except RefusedFile as exc:
        raise UploadRejected(exc.user_msg, exc.http_status) from None
