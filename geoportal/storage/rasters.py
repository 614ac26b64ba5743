"""Raster layer versions: one Cloud-Optimized GeoTIFF per version, an object under
``coverages/<layer>/<uuid>.tif`` in the portal's object store (``storage/objects.py``).

Files rather than database rows on both back ends: a COG is read by window and overview with
ranged reads, which GDAL does best from a file or object storage (``/vsis3/``, in place, no
download) and PostGIS rasters do not. A version's reference in the catalog is the key below
``coverages/`` (``<layer>/<uuid>.tif``), the same whichever store holds it.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from geoportal.errors import GeoportalError, NotFound, StorageError
from geoportal.i18n import Message, tr
from geoportal.storage.objects import (
    LocalObjectStore,
    ObjectInfo,
    ObjectStore,
    ObjectStoreUnavailable,
    check_key,
    temp_folder,
)

if TYPE_CHECKING:
    from rasterio import Env

    from geoportal.config import Settings

__all__ = ["COVERAGES", "RASTER_MISSING", "RasterLocation", "RasterStore"]

COVERAGES = "coverages/"


def _missing() -> Message:
    """What users are told of a coverage whose file is gone from the store (the log has the
    store and the path)."""
    return tr("the data file of this layer is missing from the portal's file store; the "
              "operator finds the cause in the server log")


RASTER_MISSING = _missing()


@dataclass(frozen=True)
class RasterLocation:
    """What GDAL needs to open one COG: its name (a path or ``/vsis3/...``) and the
    configuration for ``rasterio.Env`` (empty for a local file)."""

    path: str
    options: dict[str, str] = field(default_factory=dict, repr=False)  # holds the keys
    exists: Callable[[], bool] | None = field(default=None, compare=False, repr=False)
    guard: Callable[[], None] | None = field(default=None, compare=False, repr=False)

    @property
    def remote(self) -> bool:
        """Whether the file is read over the network (``/vsis3/``)."""
        return self.path.startswith("/vsi")

    def failure(self, what: str, exc: Exception, missing_msg: Message | None = None
                ) -> GeoportalError:
        """The error for GDAL failing to open or read a remote COG (GDAL says "does not
        exist" whether the object is gone or the store is away): asks the store itself,
        once and quickly (``exists`` probes: GDAL has already retried). A store that does
        not answer: 503 (ObjectStoreUnavailable, and the store's outage begins: the next
        requests fail at once); the object gone: NotFound (its user message never names
        the store or the path: ``missing_msg`` or ``RASTER_MISSING``); there but
        unreadable just now: 503 too (a blip; the log keeps GDAL's words)."""
        try:
            there = self.exists() if self.exists is not None else True
        except StorageError as err:
            return err
        if not there:
            return NotFound(f"{what} is missing: {self.path}",
                            user_msg=missing_msg if missing_msg else _missing())
        return ObjectStoreUnavailable(f"{what} cannot be read from the object store "
                                      f"({self.path}): {exc}", user_msg=tr(
                                          "the portal's file store cannot be reached at the "
                                          "moment; try again in a few seconds"))

    def env(self) -> Env | contextlib.nullcontext[None]:
        """The GDAL configuration to open ``path`` under (a no-op for a local file). The
        keys go through a rasterio session (rasterio refuses them as plain options and
        would otherwise look for boto3). While the store is known to be away:
        ObjectStoreUnavailable at once, before GDAL tries."""
        if self.guard is not None:
            self.guard()
        if not self.options:
            return contextlib.nullcontext()
        import rasterio

        keys = {k: v for k, v in self.options.items() if k in _KEYS}
        rest = {k: v for k, v in self.options.items() if k not in _KEYS}
        return rasterio.Env(session=_store_session(keys), **rest)


_KEYS = frozenset({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"})


def _store_session(keys: dict[str, str]) -> object:
    """A rasterio Session that hands GDAL the object store's keys as they are."""
    from rasterio.session import Session

    class StoreKeys(Session):  # type: ignore[misc]  # rasterio has no type information
        """The keys of GEOPORTAL_OBJECT_STORE's AWS_* variables, as GDAL options."""

        def __init__(self, options: dict[str, str]) -> None:
            self._options = options
            self.credentials = options

        @classmethod
        def hascreds(cls, config: dict[str, str]) -> bool:
            return "AWS_ACCESS_KEY_ID" in config

        def get_credential_options(self) -> dict[str, str]:
            return dict(self._options)

    return StoreKeys(keys)


class RasterStore:
    """Where the ETL puts COGs and the coverage server finds them, by reference."""

    def __init__(self, objects: ObjectStore | Path, prefix: str = COVERAGES) -> None:
        """``objects``: the portal's object store (COGs under ``prefix``); a folder path
        instead means a folder store of COGs only (``<folder>/<layer>/<uuid>.tif``)."""
        if isinstance(objects, (str, Path)):
            objects, prefix = LocalObjectStore(Path(objects)), ""
        self.objects: ObjectStore = objects
        self.prefix = prefix

    @classmethod
    def for_settings(cls, settings: Settings) -> RasterStore:
        """The COGs in the object store the settings name (GEOPORTAL_OBJECT_STORE; by
        default ``data_dir/coverages``)."""
        from geoportal.storage.objects import open_object_store

        return cls(open_object_store(settings))

    @property
    def root(self) -> Path | None:
        """The local folder of the COGs (None on an object store elsewhere)."""
        if isinstance(self.objects, LocalObjectStore):
            return self.objects.root / self.prefix
        return None

    @property
    def describe(self) -> str:
        """Where the COGs are, for messages."""
        return f"{self.objects.describe} ({self.prefix or '/'})"

    def new_ref(self, layer_id: str) -> str:
        """A fresh reference for a version being written (the object does not exist yet)."""
        return f"{layer_id}/{uuid.uuid4().hex}.tif"

    def key(self, ref: str) -> str:
        """The object key of ``ref``, refusing references that would leave the store."""
        parts = ref.split("/")
        if len(parts) != 2:
            raise StorageError(f"raster reference {ref!r} is not <layer>/<file>.tif")
        return self.prefix + check_key(ref)

    def location(self, ref: str) -> RasterLocation:
        """How GDAL opens ``ref`` in place (no download)."""
        key = self.key(ref)
        return RasterLocation(self.objects.gdal_path(key), self.objects.gdal_options(),
                              functools.partial(self.objects.exists, key, probe=True),
                              self.objects.guard)

    def gdal_path(self, ref: str) -> str:
        """The name GDAL opens ``ref`` by (a path, or ``/vsis3/...``)."""
        return self.objects.gdal_path(self.key(ref))

    def gdal_options(self) -> dict[str, str]:
        """GDAL configuration for ``rasterio.Env`` to open ``gdal_path``."""
        return self.objects.gdal_options()

    def path(self, ref: str) -> Path:
        """The local file of ``ref`` (a folder store only; for tests and tools that need one).
        Readers use ``location`` so that they work on every store."""
        if not isinstance(self.objects, LocalObjectStore):
            raise StorageError(f"raster {ref!r} is in {self.objects.describe}, not a local file")
        return self.objects.path(self.key(ref))

    @contextlib.contextmanager
    def staging(self, ref: str) -> Iterator[Path]:
        """A local path to write the COG of ``ref`` to before ``put``: a hidden part file in
        the layer's folder on a folder store (so ``put`` is a rename; clean-up knows a
        crash's leftover by its name), a ``geoportal-cog-*`` temp folder otherwise. Whatever
        is left there is removed when the block ends."""
        root = self.root
        if root is not None:
            target = self.path(ref)
            path = target.with_name(f".{target.name}.staged.part")
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                yield path
            finally:
                path.unlink(missing_ok=True)
            return
        with temp_folder("geoportal-cog-") as folder:
            yield folder / Path(ref).name

    def put(self, ref: str, path: Path) -> None:
        """Store the finished COG at ``path`` as ``ref`` (the local file is consumed)."""
        self.objects.put_file(self.key(ref), Path(path), move=True)

    def exists(self, ref: str) -> bool:
        """Whether the version's COG is stored."""
        return self.objects.exists(self.key(ref))

    def drop(self, ref: str) -> None:
        """Delete a version's COG; a missing one is not an error."""
        self.objects.delete(self.key(ref))

    def listing(self) -> Iterator[tuple[str, ObjectInfo]]:
        """(reference, object) of every COG held: its size and last write for clean-up."""
        for info in self.objects.list(self.prefix):
            ref = info.key[len(self.prefix):]
            if ref.count("/") == 1 and ref.endswith(".tif"):
                yield ref, info

    def refs(self) -> set[str]:
        """Every version COG held (for garbage collection against the catalog)."""
        return {ref for ref, _ in self.listing()}
