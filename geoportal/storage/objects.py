"""Where the files the portal keeps live: a folder on this machine, or an S3-compatible store.

Every file the portal keeps beyond the feature store (the COGs of raster layers under
``coverages/<layer>/<file>.tif``, the uploads waiting for their job under
``uploads/<job id>/<file name>``) is an object named by a key. ``open_object_store(settings)``
gives the one store the settings name: ``GEOPORTAL_OBJECT_STORE=s3://bucket/prefix`` (endpoint
and keys from the usual ``AWS_*`` variables) so that every machine of a cluster sees the same
files, ``file://PATH`` for a folder elsewhere, and by default a folder store rooted at
``data_dir``, which keeps the files exactly where a single machine always kept them
(``var/coverages``, ``var/uploads``). Objects are written once and never changed in place.

Why obstore (and not boto3 or fsspec/s3fs): measured here (docs/deployment.md "Object storage"),
importing obstore and making a client takes 0.04 s and 18 MiB of memory against 0.4 s and
49 MiB for boto3 (s3fs adds aiobotocore and aiohttp on top of botocore); it has no Python
dependencies, a synchronous API that fits the server's threaded workers, one URL that makes a
store scoped to a bucket's prefix, streaming multipart uploads, ranged and conditional reads;
and it reads the same ``AWS_*`` variables as every other S3 tool. GDAL reads the COGs in place
through ``/vsis3/`` (ranged reads, no download) with options derived from those variables
(``gdal_options``), so the two clients always talk to the same store.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, NamedTuple, Protocol
from urllib.parse import urlsplit

from geoportal.errors import StorageError
from geoportal.i18n import Message, tr
from geoportal.storage.outage import Outage, Outages

if TYPE_CHECKING:
    from geoportal.config import Settings

__all__ = ["PROBE_EVERY_S", "STORE_AWAY", "STORE_FAILED", "LocalObjectStore", "ObjectInfo",
           "ObjectMissing", "ObjectStore", "ObjectStoreUnavailable", "S3ObjectStore",
           "check_key", "open_object_store", "refused", "temp_folder"]

log = logging.getLogger("geoportal.objects")

_CHUNK = 8 * 1024 * 1024  # multipart part size and read chunk (S3's minimum part is 5 MiB)
_READ_TIMEOUT = "60s"  # one request of a stream, not the whole stream
_QUICK_TIMEOUT = "5s"  # a HEAD, a LIST of one page, a DELETE: small answers
_CHECK_TIMEOUT = "3s"  # /readyz must answer quickly when the store is away
PROBE_EVERY_S = 1.0  # while the store is known away: one real attempt a second per process
REPORT_EVERY_S = 10.0


class ObjectInfo(NamedTuple):
    """One object: its key, size in bytes, last write, and an entity tag when the store has
    one (the local store makes one from size and time)."""

    key: str
    size: int
    modified: datetime
    etag: str | None = None


def _store_failed() -> Message:
    """What users are told of a store failure that is the operator's to mend (a missing
    object, keys, a policy): the cause is in the log only."""
    return tr("the portal's file store failed; the operator finds the cause in the server log")


def _store_away() -> Message:
    """What users are told while the store does not answer (HTTP 503)."""
    return tr("the portal's file store cannot be reached at the moment; try again in a few "
              "seconds")


STORE_FAILED = _store_failed()
STORE_AWAY = _store_away()


class ObjectMissing(StorageError, FileNotFoundError):
    """An object the caller expected is not in the store (a catalog row pointing nowhere is
    our fault, hence a StorageError; a FileNotFoundError for callers that ask "is it there")."""


class ObjectStoreUnavailable(StorageError):
    """The object store did not answer (connection refused, timeout, 5xx after the retries):
    HTTP 503 with ``Retry-After``, as for the database; the log line names the store
    (``store``: its ``describe``, for the outage's count of refused requests)."""

    http_status = HTTPStatus.SERVICE_UNAVAILABLE
    ogc_code = "ServiceUnavailable"
    retry_after = 5

    def __init__(self, msg: str, *, user_msg: str | None = None,
                 store: str | None = None) -> None:
        super().__init__(msg, user_msg=user_msg)
        self.store = store


def _store_outage(name: str) -> Outage:
    """A new outage tracker of the store ``name`` (its ``describe``): while it is known away,
    requests fail at once with a 503 instead of each waiting through timeouts and retries;
    one request at most every ``PROBE_EVERY_S`` tries the store for real
    (``storage/outage.py``, as for the database)."""
    return Outage(name, kind="object store", logger=log, probe_every_s=PROBE_EVERY_S,
                  report_every_s=REPORT_EVERY_S)


# every client of the same store in this process shares its outage
_OUTAGES: Outages[Outage] = Outages(_store_outage)


def refused(exc: ObjectStoreUnavailable) -> None:
    """Count a request refused with ``exc`` against its store's outage (if one is known)."""
    _OUTAGES.refuse(exc.store)


@contextlib.contextmanager
def temp_folder(prefix: str) -> Iterator[Path]:
    """A new folder in the system's temp folder named ``<prefix>*``, removed with what it
    holds when the block ends. Every temporary folder of the portal is made here; the
    prefixes (geoportal-read-, geoportal-cog-, geoportal-upload-, geoportal-download-) are
    what ``geoportal cleanup`` sweeps after a crash."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class ObjectStore(Protocol):
    """What the portal needs of a store of files (both implementations below)."""

    describe: str

    def put_file(self, key: str, path: Path, *, move: bool = False) -> None:
        """Store the file at ``path`` under ``key`` atomically (readers never see a part);
        ``move`` lets the store consume the file instead of copying it."""

    def local_file(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A local file with the object's content, for as long as the ``with`` block runs."""

    def exists(self, key: str, *, probe: bool = False) -> bool:
        """Whether an object is stored under ``key`` (``probe``: one quick try, no retry)."""

    def guard(self) -> None:
        """ObjectStoreUnavailable at once while the store is known to be away."""

    def info(self, key: str) -> ObjectInfo:
        """Size, time and entity tag of ``key`` (ObjectMissing when absent)."""

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes ``start`` to ``end`` (exclusive; None: to the end) of ``key``, in chunks."""

    def delete(self, key: str) -> None:
        """Remove ``key``; a missing object is not an error."""

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with ``prefix``; returns how many."""

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix`` (in no particular order)."""

    def gdal_path(self, key: str) -> str:
        """The name GDAL opens ``key`` by (a local path, or ``/vsis3/...``)."""

    def gdal_options(self) -> dict[str, str]:
        """GDAL configuration for ``rasterio.Env`` so that ``gdal_path`` can be opened."""

    def check(self) -> None:
        """One cheap call; StorageError naming the store (never its secrets) when it fails."""


def check_key(key: str) -> str:
    """``key`` if it is a relative, forward-slash name that stays inside the store; a
    StorageError otherwise (``..``, an absolute name, a backslash, an empty part)."""
    if not key or "\\" in key or "\x00" in key or key.startswith("/"):
        raise StorageError(f"object key {key!r} is not a relative name with forward slashes")
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts[:-1]) or parts[-1] in (".", ".."):
        raise StorageError(f"object key {key!r} leaves the store or has an empty part")
    return key


def _check_prefix(prefix: str) -> str:
    """A prefix is a key's beginning: the same rules, except that it may end in ``/`` or be
    empty (everything)."""
    if prefix:
        check_key(prefix.rstrip("/") or "x")
        if prefix.startswith("/"):
            raise StorageError(f"object prefix {prefix!r} must be relative")
    return prefix


# -- a folder ---------------------------------------------------------------------------------


class LocalObjectStore:
    """Objects as files under ``root`` (``root/<key>``): the embedded default.

    A write goes to a hidden ``.<name>.part-*`` file beside the target and is renamed into
    place, so a reader never sees half a file and clean-up knows a crash's leftover by its name.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.describe = f"folder {self.root}"

    def path(self, key: str) -> Path:
        """The file of ``key`` (which need not exist), refusing keys that leave ``root``
        (also through a symbolic link)."""
        path = self.root / check_key(key)
        resolved = path.resolve()
        if self.root not in resolved.parents:
            raise StorageError(f"object key {key!r} points outside {self.root}")
        return path

    def put_file(self, key: str, path: Path, *, move: bool = False) -> None:
        """Copy (or with ``move`` rename) ``path`` to ``key``, atomically."""
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            part = target.with_name(f".{target.name}.part-{uuid.uuid4().hex[:12]}")
            try:
                if move:
                    shutil.move(os.fspath(path), part)
                else:
                    shutil.copyfile(path, part)
                os.replace(part, target)
            finally:
                part.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot write {key} in {self.describe}: {exc.strerror or exc}",
                               user_msg=_store_failed()) from exc

    @contextlib.contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        """The object's own file (nothing is copied)."""
        path = self.path(key)
        if not path.is_file():
            raise ObjectMissing(f"{key} is not in {self.describe}", user_msg=_store_failed())
        yield path

    def exists(self, key: str, *, probe: bool = False) -> bool:
        """Whether the file of ``key`` exists."""
        return self.path(key).is_file()

    def guard(self) -> None:
        """Nothing: a folder has no outages to remember."""

    def info(self, key: str) -> ObjectInfo:
        """Size and time of the file; the entity tag is made of both (like a web server's)."""
        try:
            st = self.path(key).stat()
        except FileNotFoundError as exc:
            raise ObjectMissing(f"{key} is not in {self.describe}",
                                user_msg=_store_failed()) from exc
        return ObjectInfo(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC),
                          f'"{st.st_mtime_ns:x}-{st.st_size:x}"')

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The file's bytes ``start``..``end`` in chunks."""
        try:
            handle = self.path(key).open("rb")
        except FileNotFoundError as exc:
            raise ObjectMissing(f"{key} is not in {self.describe}",
                                user_msg=_store_failed()) from exc
        with handle:
            handle.seek(start)
            left = None if end is None else max(0, end - start)
            while left is None or left > 0:
                chunk = handle.read(_CHUNK if left is None else min(_CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    def delete(self, key: str) -> None:
        """Remove the file, and its folder once empty (never ``root`` itself)."""
        path = self.path(key)
        path.unlink(missing_ok=True)
        self._prune(path.parent)

    def _prune(self, folder: Path) -> None:
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()  # only when empty
            except OSError:
                return
            folder = folder.parent

    def delete_prefix(self, prefix: str) -> int:
        """Remove every file under ``prefix``; the emptied folders too."""
        count = 0
        for info in list(self.list(prefix)):
            self.delete(info.key)
            count += 1
        return count

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Files whose key starts with ``prefix``, except the hidden parts of writes."""
        _check_prefix(prefix)
        folder = self.root / prefix[: prefix.rfind("/") + 1] if "/" in prefix else self.root
        if not folder.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.startswith("."):
                    continue
                path = Path(dirpath, name)
                key = path.relative_to(self.root).as_posix()
                if not key.startswith(prefix):
                    continue
                try:
                    st = path.stat()
                except FileNotFoundError:
                    continue
                yield ObjectInfo(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC),
                                 f'"{st.st_mtime_ns:x}-{st.st_size:x}"')

    def gdal_path(self, key: str) -> str:
        """The file's absolute path."""
        return os.fspath(self.path(key))

    def gdal_options(self) -> dict[str, str]:
        """Nothing: GDAL reads local files as they are."""
        return {}

    def check(self) -> None:
        """The folder exists (or can be made) and can be written."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"object store {self.describe} cannot be created: "
                               f"{exc.strerror or exc}") from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(f"object store {self.describe} is not writable by this process")


# -- S3 ---------------------------------------------------------------------------------------


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


class S3ObjectStore:
    """Objects in an S3-compatible store (AWS, MinIO, Ceph RGW, a cloud's) under
    ``s3://bucket/prefix``, through obstore; endpoint and keys from ``environ`` (the process
    environment by default): AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN, AWS_REGION, AWS_ALLOW_HTTP."""

    def __init__(self, url: str, environ: dict[str, str] | None = None) -> None:
        from obstore.store import S3Store

        env = dict(os.environ if environ is None else environ)
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise StorageError(f"GEOPORTAL_OBJECT_STORE={url!r} is not an s3://bucket/prefix URL")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or ""
        self.region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        self._env = env
        where = self.endpoint or f"AWS {self.region}"
        self.describe = f"s3://{self.bucket}/{self.prefix} at {where}".replace("/ at", " at")
        config: dict[str, str] = {"region": self.region}
        for name, option in (("AWS_ACCESS_KEY_ID", "access_key_id"),
                             ("AWS_SECRET_ACCESS_KEY", "secret_access_key"),
                             ("AWS_SESSION_TOKEN", "session_token")):
            if env.get(name):
                config[option] = env[name]
        if self.endpoint:
            config["endpoint"] = self.endpoint
            config["virtual_hosted_style_request"] = "false"
        allow_http = _truthy(env.get("AWS_ALLOW_HTTP")) or self.endpoint.startswith("http://")

        def make(timeout: str, retries: int, retry_s: float) -> S3Store:
            return S3Store(self.bucket, prefix=self.prefix or None, config=config,  # type: ignore[arg-type]
                           client_options={"allow_http": allow_http, "connect_timeout": "2s",
                                           "timeout": timeout},
                           retry_config={"max_retries": retries,
                                         "retry_timeout": timedelta(seconds=retry_s),
                                         "backoff": {"init_backoff": timedelta(milliseconds=100),
                                                     "max_backoff": timedelta(seconds=2),
                                                     "base": 2}})

        # Bounded so that one request costs seconds, not minutes, when the store is away:
        # streams and uploads (long answers), small calls (HEAD, a page of LIST, DELETE),
        # and the probe (/readyz, and one call a second during an outage: no retry).
        self._store = make(_READ_TIMEOUT, 2, 6)
        self._quick = make(_QUICK_TIMEOUT, 1, 4)
        self._probe = make(_CHECK_TIMEOUT, 0, 3)
        self.outage = _OUTAGES.get(self.describe)

    def _guard(self) -> None:
        """While the store is known away: ObjectStoreUnavailable at once, except for one
        caller a second, which probes the store (3 s at most) and ends the outage when it
        answers."""
        # the probe (``check``) raises, and the outage goes on, while the store is still away
        if self.outage.probe_with(self.check):
            return
        raise ObjectStoreUnavailable(f"object store {self.describe} is unreachable (known "
                                     "for this process; probed again within "
                                     f"{PROBE_EVERY_S:g} s)", user_msg=_store_away(),
                                     store=self.describe)

    def _error(self, action: str, key: str, exc: Exception) -> StorageError:
        """Our error for an obstore failure: names the store and the key, never a secret."""
        from obstore.exceptions import (
            NotFoundError,
            PermissionDeniedError,
            UnauthenticatedError,
        )

        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID"):
            if self._env.get(name):
                detail = detail.replace(self._env[name], "***")
        msg = f"object store {self.describe}: cannot {action} {key}: {detail[:300]}"
        if isinstance(exc, NotFoundError | FileNotFoundError):
            return ObjectMissing(msg, user_msg=_store_failed())
        if isinstance(exc, PermissionDeniedError | UnauthenticatedError):
            return StorageError(msg, user_msg=_store_failed())  # keys or policy: the operator's
        self.outage.failed(exc)
        return ObjectStoreUnavailable(msg, user_msg=_store_away(), store=self.describe)

    def put_file(self, key: str, path: Path, *, move: bool = False) -> None:
        """Upload ``path`` (multipart in 8 MiB parts above that size; S3 makes the object
        visible only once complete); ``move`` removes the local file afterwards."""
        import obstore

        check_key(key)
        self._guard()
        try:
            with Path(path).open("rb") as handle:
                obstore.put(self._store, key, handle, chunk_size=_CHUNK, max_concurrency=4)
        except Exception as exc:
            raise self._error("write", key, exc) from exc
        if move:
            Path(path).unlink(missing_ok=True)

    @contextlib.contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        """Download the object, streamed, to ``<tmp>/geoportal-read-*/<its name>`` (the name
        keeps its extension for the readers); removed when the block ends."""
        check_key(key)
        with temp_folder("geoportal-read-") as folder:
            target = folder / PurePosixPath(key).name
            with target.open("wb") as out:
                for chunk in self.read(key):
                    out.write(chunk)
            yield target

    def exists(self, key: str, *, probe: bool = False) -> bool:
        """A HEAD request; ``probe``: one try with a short timeout (after GDAL's own tries
        failed, the answer is wanted now, not after more retries)."""
        try:
            self.info(key, probe=probe)
        except ObjectMissing:
            return False
        return True

    def info(self, key: str, *, probe: bool = False) -> ObjectInfo:
        """A HEAD request: size, time and the store's entity tag."""
        import obstore

        check_key(key)
        self._guard()
        try:
            meta = obstore.head(self._probe if probe else self._quick, key)
        except Exception as exc:
            raise self._error("look up", key, exc) from exc
        return ObjectInfo(key, meta["size"], meta["last_modified"], meta.get("e_tag"))

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """One GET (ranged unless the whole object), streamed in chunks."""
        import obstore

        check_key(key)
        options: dict[str, object] = {}
        if end is not None:
            if end <= start:
                return iter(())
            options["range"] = (start, end)
        elif start:
            options["range"] = {"offset": start}
        self._guard()
        try:
            result = obstore.get(self._store, key, options=options or None)  # type: ignore[arg-type]
        except Exception as exc:
            raise self._error("read", key, exc) from exc
        return self._chunks(key, result.stream(min_chunk_size=1024 * 1024))

    def _chunks(self, key: str, stream: Iterator[bytes]) -> Iterator[bytes]:
        try:
            yield from stream
        except Exception as exc:
            raise self._error("read", key, exc) from exc

    def delete(self, key: str) -> None:
        """S3 deletes are idempotent: a missing object is fine."""
        import obstore

        check_key(key)
        self._guard()
        try:
            obstore.delete(self._quick, key)
        except Exception as exc:
            err = self._error("delete", key, exc)
            if not isinstance(err, ObjectMissing):
                raise err from exc

    def delete_prefix(self, prefix: str) -> int:
        """List, then bulk-delete (DeleteObjects, 1,000 keys a request)."""
        import obstore

        keys = [info.key for info in self.list(prefix)]
        if keys:
            try:
                obstore.delete(self._quick, keys)
            except Exception as exc:
                raise self._error("delete", prefix + "*", exc) from exc
        return len(keys)

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """LIST requests below the prefix's folder, filtered to the prefix (S3 through obstore
        lists by whole path segments)."""
        import obstore

        _check_prefix(prefix)
        folder = prefix[: prefix.rfind("/")] if "/" in prefix else ""
        self._guard()
        try:
            for chunk in obstore.list(self._quick, prefix=folder or None, chunk_size=1000):
                for meta in chunk:
                    if meta["path"].startswith(prefix):
                        yield ObjectInfo(meta["path"], meta["size"], meta["last_modified"],
                                         meta.get("e_tag"))
        except Exception as exc:
            raise self._error("list", prefix + "*", exc) from exc

    def gdal_path(self, key: str) -> str:
        """``/vsis3/<bucket>/<prefix>/<key>``."""
        check_key(key)
        return "/".join(p for p in ("/vsis3", self.bucket, self.prefix, key) if p)

    def gdal_options(self) -> dict[str, str]:
        """GDAL's /vsis3/ configuration from the same AWS_* variables as the client: the
        endpoint as host:port with path-style addressing, no directory listing on open, only
        .tif probed, a block cache, merged ranges, and short timeouts and retries so that a
        blip of the store fails a request instead of holding a worker."""
        options = {
            "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
            "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif",
            "VSI_CACHE": "TRUE",
            "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
            "GDAL_HTTP_MULTIPLEX": "YES",
            "GDAL_HTTP_CONNECTTIMEOUT": "2",
            "GDAL_HTTP_TIMEOUT": "5",
            "GDAL_HTTP_MAX_RETRY": "1",
            "GDAL_HTTP_RETRY_DELAY": "0.5",
            "AWS_REGION": self.region,
        }
        if self.endpoint:
            parts = urlsplit(self.endpoint)
            options["AWS_S3_ENDPOINT"] = parts.netloc + parts.path.rstrip("/")
            options["AWS_HTTPS"] = "NO" if parts.scheme == "http" else "YES"
            options["AWS_VIRTUAL_HOSTING"] = "FALSE"
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            if self._env.get(name):
                options[name] = self._env[name]
        if not self._env.get("AWS_ACCESS_KEY_ID") and _truthy(self._env.get("AWS_NO_SIGN_REQUEST")):
            options["AWS_NO_SIGN_REQUEST"] = "YES"
        return options

    def guard(self) -> None:
        """ObjectStoreUnavailable at once while the store is known away (see ``_guard``):
        for GDAL's reads, which do not go through this client."""
        self._guard()

    def check(self) -> None:
        """LIST one key, with a 3 s timeout and no retries (ends a known outage when the
        store answers)."""
        import obstore

        try:
            next(iter(obstore.list(self._probe, chunk_size=1)), None)
        except Exception as exc:
            err = self._error("list", "its keys", exc)
            err.args = (f"{err}; check GEOPORTAL_OBJECT_STORE and AWS_ENDPOINT_URL, "
                        "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY",)
            raise err from exc
        self.outage.recovered()


def open_object_store(settings: Settings) -> ObjectStore:
    """The store ``settings.object_store`` names: S3 for ``s3://``, a folder for ``file://``,
    and by default a folder store rooted at ``data_dir`` (today's layout)."""
    url = settings.object_store
    if not url:
        return LocalObjectStore(settings.data_dir)
    if url.startswith("file://"):
        return LocalObjectStore(Path(url.removeprefix("file://")))
    return S3ObjectStore(url)
