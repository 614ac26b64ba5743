"""Clean-up: what a killed ingest, worker or upload leaves behind, found and removed.

A crash (``kill -9``, a power cut, the OOM killer) skips every ``finally``: it leaves staged
GeoPackages (``.<uuid>.part.gpkg`` with their SQLite journals and GDAL's
``.tmp_rtree_<table>.db``), staged COGs (``.<name>.tif.<pid>.<hex>.part``), complete versions
the catalog never registered, upload folders of jobs that will never run, PostGIS tables the
catalog never registered and our scratch folders in the system temp directory. ``clean_up``
removes them; the server calls it at start-up (``create_app``) and after each upload job,
admins run ``geoportal cleanup``.

Another process may be writing those very files right now (a second server starting while an
ingest runs, a CLI ingest beside the server), and nothing in their names says whose they are.
So a leftover is removed only when both hold:

- no process on this machine has it (or, for a folder, anything in it) open: every writer
  keeps its file open while it writes (``/proc/<pid>/fd`` shows it), and
- it was last modified more than ``grace_s`` seconds ago (default two minutes), which covers
  the moments a writer has closed a file and not yet renamed or registered it. In the system
  temp directory, where a reader's copy may rest closed between GDAL's passes, a day.

PostGIS tables are never open between statements; there the age is the time the table was
last analysed (every writer analyses in the transaction that creates it), and a table is
removed only when no version of the catalog names it. Published versions are never touched:
what the catalog names is kept, and when the catalog holds no version at all, unregistered
complete versions are left alone too (a wiped or mistaken catalog is likelier than a crash).
Linux only for the open-file check; elsewhere only the age counts.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from geoportal.catalog import Catalog
from geoportal.config import Settings
from geoportal.storage import FeatureStore
from geoportal.storage.rasters import RasterStore

__all__ = ["GRACE_SECONDS", "CleanupReport", "Removed", "clean_up", "clean_up_at_start",
           "clean_up_quietly", "upload_dir"]

log = logging.getLogger("geoportal.cleanup")

GRACE_SECONDS = 120.0
TEMP_GRACE_SECONDS = 24 * 3600.0  # for the system temp directory (see _temp)
# An unregistered COG in an object store is kept this long at least (see _coverages).
OBJECT_GRACE_SECONDS = 6 * 3600.0
# Our scratch folders and files in the system temp directory (downloads, readers, uploads).
_TEMP_PREFIXES = ("geoportal-download-", "geoportal-read-", "geoportal-dbf-",
                  "geoportal-upload-", "geoportal-cog-")


@dataclass(frozen=True)
class Removed:
    """One thing removed: its kind, where it was (relative to its root) and its size."""

    kind: str  # staging file | unregistered version | upload folder | staging table | temp
    name: str
    bytes: int


@dataclass
class CleanupReport:
    """What a clean-up removed, and how many leftovers it kept because they may be in use."""

    removed: list[Removed] = field(default_factory=list)
    kept: int = 0

    @property
    def bytes(self) -> int:
        """Bytes freed."""
        return sum(r.bytes for r in self.removed)

    def summary(self) -> str:
        """One line: counts and bytes."""
        kept = f"; {self.kept} kept (in use or younger than the grace period)" \
            if self.kept else ""
        return f"removed {len(self.removed)} leftovers, {self.bytes:,} bytes{kept}"


class _Guard:
    """Whether a leftover may still be someone's: open by a process, or modified lately."""

    def __init__(self, grace_s: float) -> None:
        self.limit = time.time() - grace_s
        self._open: tuple[str, ...] | None = None

    def open_paths(self) -> tuple[str, ...]:
        """Every file any process of this machine we may look at has open (read once)."""
        if self._open is None:
            self._open = tuple(sorted(_open_files()))
        return self._open

    def busy(self, path: Path) -> bool:
        """True when ``path`` (a file, or a folder and all in it) is open or young."""
        if _newest_mtime(path) > self.limit:
            return True
        target = os.path.realpath(path)
        if path.is_dir():
            prefix = target + os.sep
            return any(p == target or p.startswith(prefix) for p in self.open_paths())
        return target in self.open_paths()


def _open_files() -> set[str]:
    """The targets of ``/proc/<pid>/fd/*`` that are files (empty where there is no /proc)."""
    found: set[str] = set()
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in os.scandir(proc):
        if not entry.name.isdigit():
            continue
        try:
            fds = os.scandir(f"/proc/{entry.name}/fd")
        except OSError:  # gone, or another user's
            continue
        with fds:
            for fd in fds:
                try:
                    target = os.readlink(fd.path)
                except OSError:
                    continue
                if target.startswith("/"):
                    found.add(target.removesuffix(" (deleted)"))
    return found


def _newest_mtime(path: Path) -> float:
    """The latest modification time of ``path`` or anything under it (0 when gone)."""
    try:
        newest = path.lstat().st_mtime
    except OSError:
        return 0.0
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                try:
                    newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
                except OSError:
                    continue
    return newest


def _size(path: Path) -> int:
    if path.is_dir() and not path.is_symlink():
        total = 0
        for root, _, files in os.walk(path):
            for name in files:
                try:
                    total += os.lstat(os.path.join(root, name)).st_size
                except OSError:
                    continue
        return total
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def _remove(path: Path) -> bool:
    """Delete a file or a folder tree; False when another clean-up was first."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        return False
    return True


def _is_staging(name: str) -> bool:
    """A staged GeoPackage or COG, its SQLite journal, or GDAL's R-tree scratch database."""
    return (name.startswith(".") and ".part" in name) or ".tmp_rtree" in name


def _version_files(root: Path) -> Iterator[tuple[Path, str]]:
    """(file, store reference) of every file in ``root/<layer>/`` (the stores' layout)."""
    if not root.is_dir():
        return
    for layer in sorted(root.iterdir()):
        if not layer.is_dir() or layer.is_symlink():
            continue
        for path in sorted(layer.iterdir()):
            if path.is_file():
                yield path, f"{layer.name}/{path.name}"


def _files(root: Path, refs: set[str], guard: _Guard, report: CleanupReport,
           suffix: str, dry_run: bool) -> None:
    """Staging files and unregistered complete versions (``*<suffix>``) under ``root``."""
    for path, ref in _version_files(root):
        if _is_staging(path.name):
            kind = "staging file"
        elif path.name.endswith(suffix) and not path.name.startswith(".") and ref not in refs:
            if not refs:  # a catalog without versions: keep, do not guess
                report.kept += 1
                continue
            kind = "unregistered version"
        else:
            continue
        _take(path, kind, ref, guard, report, dry_run)


def _coverages(where: Path | RasterStore, refs: set[str], guard: _Guard,
               report: CleanupReport, dry_run: bool,
               object_grace_s: float = OBJECT_GRACE_SECONDS) -> None:
    """The COGs no catalog version names: in a folder as for the GeoPackages (staging files
    too), or listed from the object store (an object is complete once listed, so only its
    age protects one whose version is about to be registered).

    In an object store that age is at least ``object_grace_s`` (6 h), not the
    folder's grace: S3 dates a multipart upload's object from the upload's *start*, so a
    large COG that took longer than the grace to upload would look old the moment it
    appears, and be deleted before its version is registered. Registering before the put
    would instead leave a catalog row naming a missing object after a failed upload, which
    readers would see; an orphan kept a few hours costs only its storage."""
    root = where if isinstance(where, Path) else where.root
    if root is not None:
        _files(root, refs, guard, report, ".tif", dry_run)
        return
    limit = min(guard.limit, time.time() - object_grace_s)
    for ref, info in where.listing():  # type: ignore[union-attr]
        if ref in refs:
            continue
        if not refs or info.modified.timestamp() > limit:
            report.kept += 1  # a catalog without versions, or just written
            continue
        if not dry_run:
            where.drop(ref)  # type: ignore[union-attr]
        report.removed.append(Removed("unregistered version", f"coverages/{ref}", info.size))


def _take(path: Path, kind: str, name: str, guard: _Guard, report: CleanupReport,
          dry_run: bool) -> None:
    if guard.busy(path):
        report.kept += 1
        return
    size = _size(path)
    if dry_run or _remove(path):
        report.removed.append(Removed(kind, name, size))


def upload_kept(state: str | None, finished: datetime | None, written: datetime,
                now: datetime, *, retention_s: float, grace_s: float) -> bool:
    """The one rule for keeping an upload, in a folder (``_uploads``) as in the object store
    (``admin.jobs.sweep_uploads``): kept while its job is queued or running; a rejected or
    failed job's for ``retention_s`` after it ended (an operator may want to look at it); one
    without a job row for ``grace_s`` after it was written (it is stored before its row is
    inserted). A done job's upload is not kept."""
    if state in ("queued", "running"):
        return True
    if state is None:
        return (now - written).total_seconds() < grace_s
    if state == "done" or finished is None:
        return False
    return (now - finished).total_seconds() < retention_s


def _uploads(folder: Path | None, catalog: Catalog, retention_s: float, guard: _Guard,
             report: CleanupReport, dry_run: bool) -> None:
    """Upload folders (``<job id>``) that ``upload_kept`` lets go and no process holds."""
    if folder is None or not folder.is_dir():
        return
    paths = sorted(folder.iterdir())
    rows = _job_states(catalog, {path.name for path in paths})
    now = datetime.now(UTC)
    grace_s = max(0.0, time.time() - guard.limit)
    for path in paths:
        state, finished = rows.get(path.name, (None, None))
        written = datetime.fromtimestamp(_newest_mtime(path), UTC)
        if upload_kept(state, finished, written, now, retention_s=retention_s,
                       grace_s=grace_s):
            continue
        _take(path, "upload folder", f"uploads/{path.name}", guard, report, dry_run)


def _temp(report: CleanupReport, dry_run: bool) -> None:
    """Our scratch folders in the system temp directory (downloads, readers, uploads), a day
    after they were last written: a reader's copy is closed between GDAL's passes over it, so
    only an age no ingest or download reaches tells a leftover there."""
    guard = _Guard(TEMP_GRACE_SECONDS)
    root = Path(tempfile.gettempdir())
    try:
        entries = sorted(p for p in root.iterdir() if p.name.startswith(_TEMP_PREFIXES))
    except OSError:
        return
    for path in entries:
        try:
            if path.lstat().st_uid != os.getuid():  # another user's: not ours to judge
                continue
        except OSError:
            continue
        _take(path, "temporary file", path.name, guard, report, dry_run)


def _job_states(catalog: Catalog, names: set[str]) -> dict[str, tuple[str, datetime | None]]:
    """State and finish time of the jobs whose upload folder is named in ``names`` (a
    job's folder is named by its id)."""
    from geoportal.admin.jobs import JobQueue  # the jobs module imports this one

    return JobQueue(catalog.engine).ended(names) if names else {}


def _tables(store: FeatureStore, refs: set[str], grace_s: float, report: CleanupReport,
            dry_run: bool) -> None:
    """PostGIS tables (and quarantine tables) no catalog version names, analysed (that is,
    written) longer than ``grace_s`` ago."""
    import psycopg
    from psycopg import sql

    from geoportal.storage.postgis import QUARANTINE, SCHEMA

    query = """
        SELECT n.nspname, c.relname, pg_total_relation_size(c.oid),
               extract(epoch FROM now() - greatest(s.last_analyze, s.last_autoanalyze,
                                                   s.last_vacuum, s.last_autovacuum))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
        WHERE c.relkind IN ('r', 'p') AND n.nspname IN (%s, %s)
        ORDER BY 1, 2"""
    conninfo = getattr(store, "conninfo", "")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(query, (SCHEMA, QUARANTINE)).fetchall()
    tables = {name: (int(size or 0), age) for schema, name, size, age in rows
              if schema == SCHEMA}
    quarantines = {name: int(size or 0) for schema, name, size, _ in rows
                   if schema == QUARANTINE}
    if not refs and tables:  # a catalog without versions: keep, do not guess
        report.kept += len(tables)
        return
    registered = {ref.partition(".")[2] for ref in refs if ref.startswith(f"{SCHEMA}.")}
    for name in sorted((set(tables) | set(quarantines)) - registered):
        size, age = tables.get(name, (0, None))
        if age is None and name in tables:
            # No statistics (reset, or not yet written): the age is unknown, so keep it and
            # start its clock now; a later pass past the grace period removes it.
            if not dry_run:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(sql.SQL("ANALYZE {}.{}").format(sql.Identifier(SCHEMA),
                                                                  sql.Identifier(name)))
            report.kept += 1
            continue
        if age is not None and float(age) < grace_s:
            report.kept += 1  # just written: perhaps about to be registered
            continue
        if not dry_run:
            store.drop(f"{SCHEMA}.{name}")  # the table and its quarantine
        report.removed.append(Removed("staging table", f"{SCHEMA}.{name}",
                                      size + quarantines.get(name, 0)))


def clean_up(catalog: Catalog, store: FeatureStore, *, coverage_dir: Path | RasterStore,
             uploads_dir: Path | None, grace_s: float = GRACE_SECONDS, dry_run: bool = False,
             temp: bool = True, upload_retention_s: float = 0.0,
             object_grace_s: float = OBJECT_GRACE_SECONDS) -> CleanupReport:
    """Remove the leftovers of crashed ingests, workers and uploads (see the module's words
    on what counts as a leftover) from the GeoPackage store (``store.root``), the COGs in
    ``coverage_dir``, the upload folders in ``uploads_dir``, the PostGIS store's schemas and
    (``temp``) the system temp directory; ``dry_run`` only lists them. An unregistered COG
    in an object store is kept ``object_grace_s`` at least (see ``_coverages``).

    Returns what was removed (names relative to the store, the data folder, the PostGIS
    schema or the temp directory) and the bytes freed.
    """
    report = CleanupReport()
    guard = _Guard(grace_s)
    refs = catalog.store_refs()
    store_root = getattr(store, "root", None)  # the GeoPackage store's folder
    if store_root is not None:
        _files(Path(store_root), refs, guard, report, ".gpkg", dry_run)
    _coverages(coverage_dir, refs, guard, report, dry_run, object_grace_s)
    _uploads(uploads_dir, catalog, upload_retention_s, guard, report, dry_run)
    if store.key.startswith("postgis:"):
        _tables(store, refs, grace_s, report, dry_run)
    if temp:
        _temp(report, dry_run)
    return report


def upload_dir(settings: Settings) -> Path:
    """Where uploads wait for their job: ``<data_dir>/uploads/<job id>/``."""
    return settings.data_dir / "uploads"


def clean_up_quietly(catalog: Catalog, store: FeatureStore, *, coverage_dir: Path | RasterStore,
                     uploads_dir: Path | None, when: str, grace_s: float = GRACE_SECONDS,
                     upload_retention_s: float = 0.0) -> CleanupReport | None:
    """``clean_up`` for the server (``when``: "at start-up", "after job ..."): logs what it
    removed and never fails the caller; a failure is logged and None returned."""
    try:
        report = clean_up(catalog, store, coverage_dir=coverage_dir, uploads_dir=uploads_dir,
                          grace_s=grace_s, upload_retention_s=upload_retention_s)
    except Exception as exc:  # a clean-up must never stop a start or a job runner
        log.warning("cleanup %s failed: %s", when, exc)
        return None
    if report.removed:
        log.info("cleanup %s: %s (%s)", when, report.summary(),
                 ", ".join(f"{r.kind} {r.name}" for r in report.removed[:20]))
    return report


def clean_up_at_start(catalog: Catalog, store: FeatureStore, *, coverage_dir: Path | RasterStore,
                      uploads_dir: Path | None, grace_s: float = GRACE_SECONDS,
                      upload_retention_s: float = 0.0) -> CleanupReport | None:
    """The server's start-up clean-up: once now, and once more when the grace period has
    passed (a daemon timer), so that what a crash left seconds before the restart, too young
    to judge at once, does not survive it either."""
    places = {"coverage_dir": coverage_dir, "uploads_dir": uploads_dir, "grace_s": grace_s,
              "upload_retention_s": upload_retention_s}
    later = threading.Timer(grace_s + 1.0, clean_up_quietly, args=(catalog, store),
                            kwargs={**places, "when": "after start-up"})
    later.daemon = True
    later.name = "geoportal-cleanup"
    later.start()
    return clean_up_quietly(catalog, store, coverage_dir=coverage_dir, uploads_dir=uploads_dir,
                            when="at start-up", grace_s=grace_s,
                            upload_retention_s=upload_retention_s)
