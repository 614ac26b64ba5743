"""The ``geoportal`` command: thin wrappers over the catalog, the ETL and the server.

Exit codes: 0 ok, 1 our failure, 2 the user's input (with one sentence naming the file and the
problem, never a traceback).
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from geoportal import cli_admin
from geoportal.admin.audit import AuditLog
from geoportal.admin.boundaries import RegionBoundaries
from geoportal.catalog import Catalog, Layer, Registry, load_registry
from geoportal.config import Settings, load_settings
from geoportal.errors import GeoportalError, InputError, NotFound
from geoportal.etl import Manifest, Report, advice, ingest, load_manifest
from geoportal.etl.census import declared_family, split_manifests, take_census
from geoportal.etl.coverage import is_raster
from geoportal.etl.manifest import build_manifest, check_manifest, slugify
from geoportal.etl.pipeline import FileFacts
from geoportal.etl.readers import list_tables, resolve_source
from geoportal.etl.report import short_crs
from geoportal.etl.sandbox import drop_network_drivers
from geoportal.log import configure_logging
from geoportal.progress import ProgressBar
from geoportal.storage import is_postgres, open_store
from geoportal.storage.rasters import RasterStore

__all__ = ["main"]

log = logging.getLogger("geoportal.cli")
MANIFEST_SUFFIXES = (".yaml", ".yml")


class _Context:
    """What every command needs, built lazily from the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._catalog: Catalog | None = None
        self._registry: Registry | None = None

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = load_registry(self.settings.config_dir)
        return self._registry

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            self._catalog = Catalog(self.settings.database_url or "")
            self._catalog.init(self.registry)
        return self._catalog


def _handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn our errors into one sentence on stderr and the documented exit code: 2 for the
    user's input, 1 for our failures, which ask to be reported (their traceback goes to the
    log file, never to the terminal)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GeoportalError as exc:
            if exc.exit_code != 2:
                _log_failure(f"command failed: {exc}", exc)
            click.echo(f"error: {_advice(exc.user_msg)}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            click.echo(_bug(exc), err=True)
            sys.exit(1)

    return wrapper


_BARE = "geoportal.bare_ingest"  # click context meta: the ingest was given a data file


def _advice(message: str, *, bare: bool | None = None) -> str:
    """``message`` in the words the user typed: the CLI's options ("use --crs") for a data
    file given on the command line, whose manifest the CLI built from those options; manifest
    keys ("set source.crs in the manifest") for manifests (``etl.advice``)."""
    if bare is None:
        ctx = click.get_current_context(silent=True)
        bare = bool(ctx and ctx.find_root().meta.get(_BARE))
    return advice.for_cli(message) if bare else message


def _log_failure(message: str, exc: BaseException) -> None:
    """``message`` with ``exc``'s traceback in the log file (the terminal gets a sentence)."""
    record = log.makeRecord(log.name, logging.ERROR, __file__, 0, "%s", (message,),
                            (type(exc), exc, exc.__traceback__))
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)]
    for handler in handlers:
        if record.levelno >= handler.level:
            handler.handle(record)
    if not handlers:  # no log file: the traceback is all there is to report
        log.error("%s", message, exc_info=exc)


def _bug(exc: BaseException, where: str | None = None) -> str:
    """The sentence for a failure of ours (not the input's): what failed, and a request to
    report it with the log file, which holds the traceback."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(_Context) if ctx else None
    logs = f" ({obj.settings.log_dir / 'geoportal.log'})" if obj else ""
    _log_failure(f"unexpected failure{f' with {where}' if where else ''}: {exc!r}", exc)
    said = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    what = f"{type(exc).__name__}: {said}" if said else type(exc).__name__
    return (f"internal error{f' while ingesting {where}' if where else ''} ({what}): a bug "
            f"in the portal, not a problem with the input; please report it with the "
            f"log{logs}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (repeat for debug).")
@click.option("-q", "--quiet", count=True, help="Less log output.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Where the store, catalog and logs live [GEOPORTAL_DATA_DIR, default ./var].")
@click.version_option(package_name="geoportal")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: int, data_dir: Path | None) -> None:
    """National geoportal of Belarus: publish layers and serve them over OGC API.

    \b
    Examples:
      geoportal init
      geoportal ingest layers/
      geoportal layers
      geoportal serve --port 5000
    """
    if _running_as_command():
        drop_network_drivers()  # the ETL and the server never need GDAL's network drivers
        warnings.showwarning = _warning_to_log
    try:
        settings = load_settings(data_dir=data_dir)
    except ValueError as exc:
        raise click.UsageError(f"invalid settings: {exc}") from None
    console = max(logging.DEBUG, logging.WARNING + 10 * (quiet - verbose))
    configure_logging(min(console, logging.INFO), log_dir=settings.log_dir, stderr_level=console,
                      fmt=settings.log_format)
    ctx.obj = _Context(settings)


def _warning_to_log(message: Warning | str, category: type[Warning], filename: str,
                    lineno: int, file: Any = None, line: str | None = None) -> None:
    """Python warnings (GDAL's, which pyogrio raises as RuntimeWarning while it reads a
    file) go to the log at INFO: the terminal gets sentences, not source lines (``-v``
    shows them)."""
    log.info("warning: %s: %s", category.__name__, message)


def _is_bare(manifest: Manifest) -> bool:
    """Whether the CLI built ``manifest`` from its options for a data file given alone."""
    return Path(manifest.origin).suffix.lower() not in MANIFEST_SUFFIXES


def _running_as_command() -> bool:
    """Whether this process is the ``geoportal`` command (its script or ``python -m
    geoportal``), not a program that imported the CLI (tests, notebooks) and may still want
    GDAL's network drivers (``sandbox.drop_network_drivers`` lasts for the whole process)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None:
        return str(spec.name) == "geoportal.__main__"
    return Path(sys.argv[0]).stem == "geoportal"


@main.command()
@click.option("--queue", "with_queue", is_flag=True,
              help="Also create the job queue's tables in PostgreSQL (done anyway when "
                   "GEOPORTAL_WORKER_TIER is set).")
@click.pass_obj
@_handle_errors
def init(obj: _Context, with_queue: bool = False) -> None:
    """Create the data folder and the catalog, and load the regions and themes.

    Safe to run again: it only adds what is missing and refreshes the registers.

    \b
    Examples:
      geoportal init
      GEOPORTAL_DATA_DIR=/srv/geoportal geoportal init
      GEOPORTAL_WORKER_TIER=1 GEOPORTAL_DATABASE_URL=postgresql://... geoportal init
    """
    catalog = obj.catalog
    store = open_store(obj.settings)
    store.init()
    click.echo(f"catalog ready: {catalog.engine.url.render_as_string(hide_password=True)}")
    click.echo(f"store: {store.key.split('@')[-1]}")
    click.echo(f"{len(obj.registry.regions)} regions, {len(obj.registry.themes)} themes")
    if obj.settings.worker_tier or with_queue:  # the worker tier's queue (issue 17)
        if not str(obj.settings.queue_url).startswith("postgresql"):
            raise InputError("--queue needs a PostgreSQL GEOPORTAL_DATABASE_URL (or "
                             "GEOPORTAL_QUEUE_DATABASE_URL): the job queue lives there")
        from geoportal.admin.queue import ensure_schema

        created = ensure_schema(obj.settings)
        click.echo(f"job queue {'created' if created else 'ready'}")


def _manifests_in(path: Path) -> Iterator[Path]:
    found = sorted(p for p in path.rglob("*") if p.suffix.lower() in MANIFEST_SUFFIXES)
    if not found:
        raise InputError(f"{path}: no layer manifests (*.yaml) in this folder")
    yield from found


@main.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--id", "layer_id", help="Layer id for a data file (default: from its name).")
@click.option("--region", default="0000000000", show_default=True,
              help="SOATO code of the layer's region (config/regions.yaml).")
@click.option("--theme", default="other", show_default=True, help="Theme id (config/themes.yaml).")
@click.option("--title", help="Title (all languages) for a data file (default: its name).")
@click.option("--crs", help="Source CRS when the file has none, e.g. EPSG:28405.")
@click.option("--encoding", help="Text encoding of the source, e.g. CP1251.")
@click.option("--x-field", help="CSV column with longitude or easting.")
@click.option("--y-field", help="CSV column with latitude or northing.")
@click.option("--geometry-field", help="CSV/XLSX column with WKT geometries.")
@click.option("--id-field", help="The source's feature id: repeated values are set aside.")
@click.option("--layer", "source_layer",
              help="Table, sheet or folder to read from a file holding several.")
@click.option("--header-row", type=click.IntRange(1, 1000),
              help="CSV/XLSX/ODS row holding the column names (default: found, the first "
                   "row of names above rows of data).")
@click.option("--split-geometry", is_flag=True,
              help="Publish one layer per geometry type (<id>-points, -lines, -polygons) "
                   "of a source mixing them, manifests too (a data file given alone always "
                   "is split).")
@click.option("--force", is_flag=True, help="Publish a new version even if unchanged.")
@click.option("--json", "as_json", is_flag=True, help="Print the ETL reports as JSON.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar [default: when stderr is a terminal].")
@click.pass_obj
@_handle_errors
def ingest_cmd(obj: _Context, paths: tuple[Path, ...], layer_id: str | None, region: str,
               theme: str, title: str | None, crs: str | None, encoding: str | None,
               x_field: str | None, y_field: str | None, geometry_field: str | None,
               id_field: str | None, source_layer: str | None, force: bool, as_json: bool,
               progress: bool | None, split_geometry: bool = False,
               header_row: int | None = None) -> None:
    """Publish data files or layer manifests as new layer versions.

    PATHS are data files (Shapefile, MapInfo TAB/MIF, zips of them, DXF, GeoJSON,
    GeoPackage, CSV/TSV, XLSX, KML/KMZ, GML, GPX, TopoJSON), layer manifests (*.yaml) or
    folders of manifests. An unchanged source (same sha256 and options) is skipped. Every
    input feature is published or set aside with a reason; `geoportal layer quarantine ID`
    exports those set aside. A data file of several tables (a GeoPackage, a zip of several
    tables, a KML's folders) without --layer publishes one layer per table, <id>-<table>,
    and exits 0 when at least one was published, listing the others with their reasons.

    \b
    Examples:
      geoportal ingest layers/
      geoportal ingest layers/by/cities.yaml
      geoportal ingest roads.zip --id grodno-roads --region 4000000000 --theme transport
      geoportal ingest city.gpkg --id grodno   # every table: grodno-<table>
      geoportal ingest raion.zip --layer roads  # one table of a zip of TABs/Shapefiles
      geoportal ingest stops.csv --x-field lon --y-field lat --title "Bus stops"
      geoportal ingest lights.tif --region 0000000000 --theme environment
    """
    click.get_current_context().find_root().meta[_BARE] = any(
        not p.is_dir() and p.suffix.lower() not in MANIFEST_SUFFIXES for p in paths)
    manifests: list[Manifest] = []
    for path in paths:
        if path.is_dir():
            manifests += [load_manifest(p) for p in _manifests_in(path)]
        elif path.suffix.lower() in MANIFEST_SUFFIXES:
            manifests.append(load_manifest(path))
        else:
            base_id, base_title = layer_id or slugify(path.stem), title or path.stem
            # A file of several tables (GeoPackage, zip, KML/KMZ folders) without --layer:
            # one layer per table.
            tables = _tables(path) if source_layer is None else []
            ids = _unique_ids([f"{base_id}-{slugify(t)}" for t in tables]) or [base_id]
            names: list[str | None] = [*tables] or [source_layer]
            for table, new_id in zip(names, ids, strict=True):
                data: dict[str, Any] = {
                    "id": new_id,
                    "region": region, "theme": theme,
                    "title": f"{base_title}: {table}" if tables else base_title,
                    "source": {"path": path.name, "crs": crs, "encoding": encoding,
                               "x_field": x_field, "y_field": y_field, "layer": table,
                               "geometry_field": geometry_field, "id_field": id_field,
                               "header_row": header_row},
                }
                data["source"] = {k: v for k, v in data["source"].items() if v is not None}
                manifests.append(build_manifest(data, base=path.resolve().parent,
                                                origin=str(path)))
    if layer_id and len(paths) > 1:
        raise InputError("--id names one layer; give one data file with it")
    _refuse_shared_ids(manifests)
    shared: dict[str, FileFacts] = {}  # a split file's layers: resolved, counted, hashed once
    manifests = _split_by_geometry(manifests, always=split_geometry, quiet=as_json,
                                   facts=shared)
    _refuse_shared_ids(manifests)

    reports: list[Report] = []
    failures: list[tuple[Manifest, GeoportalError]] = []
    store = open_store(obj.settings)
    rasters = RasterStore.for_settings(obj.settings)  # GEOPORTAL_OBJECT_STORE or var/
    boundaries = RegionBoundaries.load(obj.settings.config_dir, obj.registry,
                                       obj.settings.boundary_tolerance_m)
    show_bar = sys.stderr.isatty() if progress is None else progress
    for manifest in manifests:
        try:
            with ProgressBar(enabled=show_bar) as bar:
                report = ingest(manifest, catalog=obj.catalog, store=store,
                                registry=obj.registry, keep_versions=obj.settings.keep_versions,
                                force=force, progress=bar, rasters=rasters,
                                boundaries=boundaries,
                                max_vertices=obj.settings.max_vertices,
                                layers_dir=obj.settings.layers_dir,
                                facts=shared.get(manifest.meta.id))
        except GeoportalError as exc:  # one bad layer does not stop the others
            if exc.exit_code != 2:
                _log_failure(f"ingest of {manifest.origin} failed: {exc}", exc)
            failures.append((manifest, exc))
            click.echo(f"error: {_advice(exc.user_msg, bare=_is_bare(manifest))}", err=True)
            _audit(obj, "ingest", manifest.meta.id, exc=exc, region=manifest.meta.region)
            continue
        except Exception as exc:  # a bug of ours: said, logged, and the others go on
            bug = GeoportalError(_bug(exc, manifest.source.path.name))
            failures.append((manifest, bug))
            click.echo(bug.user_msg, err=True)
            _audit(obj, "ingest", manifest.meta.id, exc=bug, region=manifest.meta.region)
            continue
        _audit(obj, "ingest", manifest.meta.id, region=manifest.meta.region,
               version=report.version, detail=f"{report.status}: {manifest.source.path.name}")
        reports.append(report)
        if not as_json:
            said = functools.partial(_advice, bare=_is_bare(manifest))
            click.echo(said(report.summary()))
            if report.status == "published":
                for line in report.details():
                    click.echo(f"  {said(line)}")
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2))
    if failures and (code := _not_published(manifests, reports, failures)):
        sys.exit(code)


def _not_published(manifests: list[Manifest], reports: list[Report],
                   failures: list[tuple[Manifest, GeoportalError]]) -> int:
    """Say which layers were not published and return the exit code: 1 if any failure is
    ours, else 2; but 0 when every failure is the input's and belongs to a data file of
    several tables of which at least one was published (those not published are listed,
    each with its reason, as a bare ``geoportal ingest FILE`` promises). ``failures``: each
    manifest that failed with its error, as they happened."""
    size = Counter(m.origin for m in manifests)
    failed = Counter(m.origin for m, _ in failures)
    partial: dict[str, list[tuple[Manifest, GeoportalError]]] = {}
    counted: list[GeoportalError] = []
    for manifest, exc in failures:
        origin = manifest.origin
        bare = Path(origin).suffix.lower() not in MANIFEST_SUFFIXES
        if bare and size[origin] > 1 and failed[origin] < size[origin] and exc.exit_code == 2:
            partial.setdefault(origin, []).append((manifest, exc))
        else:
            counted.append(exc)
    for origin, rows in partial.items():
        click.echo(f"{Path(origin).name}: {size[origin] - failed[origin]} of {size[origin]} "
                   "layers published; not published:", err=True)
        for manifest, exc in rows:
            table = f" ({manifest.source.layer})" if manifest.source.layer else ""
            click.echo(f"  {manifest.meta.id}{table}: {advice.for_cli(exc.user_msg)}",
                       err=True)
    if not counted:
        return 0
    click.echo(f"{len(failures)} of {len(manifests)} layers not published", err=True)
    return 1 if any(f.exit_code != 2 for f in counted) else 2


def _refuse_shared_ids(manifests: list[Manifest]) -> None:
    """Refuse a command whose inputs would publish two sources as one layer id (the second
    would become a version of the first): ``ingest a/x.csv b/x.csv``, two manifests of one
    id, or a table split by geometry type whose ``<id>-points`` is another table's id."""
    seen: dict[str, Manifest] = {}
    for manifest in manifests:
        first = seen.setdefault(manifest.meta.id, manifest)
        if first is manifest:
            continue
        one, two = _input_name(first), _input_name(manifest)
        if one == two:  # one input named twice
            raise InputError(f"{one} is given twice; give it once")
        if not _is_bare(first) and not _is_bare(manifest):
            fix = "give each manifest its own 'id'"
        elif first.origin == manifest.origin:
            fix = "ingest one of the tables on its own, with --layer and --id"
        else:
            fix = "ingest them one at a time, each with its own --id"
        raise InputError(f"{one} and {two} would both be published as layer "
                         f"{manifest.meta.id!r}; {fix}")


def _input_name(manifest: Manifest) -> str:
    """How the user named a manifest's input: the manifest, or the data file with the table
    it reads (``book.xlsx (sheet Школы)``)."""
    if Path(manifest.origin).suffix.lower() in MANIFEST_SUFFIXES:
        return manifest.origin
    table = f" (table {manifest.source.layer})" if manifest.source.layer else ""
    return f"{manifest.origin}{table}"


def _split_by_geometry(manifests: list[Manifest], *, always: bool, quiet: bool,
                       facts: dict[str, FileFacts] | None = None) -> list[Manifest]:
    """Each manifest whose source mixes geometry types as one manifest per type present
    (``<id>-points``, ``<id>-lines``, ``<id>-polygons``; ``census.split_manifests``): for a
    data file given alone, a manifest saying ``source.split_geometry: true``, or all with
    ``--split-geometry``. Others publish the dominant type and set the rest aside.

    ``facts`` gains, per layer id of a split, the file as resolved, counted (and later
    hashed) here, shared by its layers' ingests (``pipeline.FileFacts``)."""
    out: list[Manifest] = []
    for manifest in manifests:
        bare = Path(manifest.origin).suffix.lower() not in MANIFEST_SUFFIXES
        if not (always or bare or manifest.source.split_geometry) or is_raster(
                manifest.source.path):
            out.append(manifest)
            continue
        try:
            source = resolve_source(manifest.source)
            census = (take_census(source) if declared_family(source.geometry_type) is None
                      else None)
        except GeoportalError:  # the ingest says what is wrong with it, in its turn
            census = None
        parts = split_manifests(manifest, census) if census is not None else [manifest]
        if len(parts) > 1 and facts is not None:
            found = FileFacts(source, census)
            facts.update((part.meta.id, found) for part in parts)
        if len(parts) > 1 and census is not None and not quiet:
            click.echo(f"{manifest.source.path.name}: mixes geometry types "
                       f"({census.describe()}): one layer per type: "
                       f"{', '.join(p.meta.id for p in parts)}")
        out += parts
    return out


def _audit(obj: _Context, action: str, layer_id: str, *, exc: GeoportalError | None = None,
           **fields: Any) -> None:
    """Record a CLI write in the audit log, as the admin API does (no token: the client
    is ``cli:<user>``)."""
    if exc is None:
        result, status = "ok", 200
    else:
        result, status = ("rejected" if exc.exit_code == 2 else "failed"), int(exc.http_status)
        fields["detail"] = exc.user_msg
    AuditLog(obj.catalog.engine).record(action, result, layer_id=layer_id,
                                        client=cli_admin.cli_client(), status=status, **fields)


def _unique_ids(ids: list[str]) -> list[str]:
    """Layer ids made distinct (``roads``, ``roads-2``...) and at most 63 characters: tables
    named ``Дороги`` and ``дороги`` must not become versions of one layer."""
    out: list[str] = []
    for layer_id in ids:
        candidate, n = layer_id[:63].rstrip("-"), 1
        while candidate in out:
            n += 1
            candidate = f"{layer_id[:60].rstrip('-')}-{n}"
        out.append(candidate)
    return out


def _tables(path: Path) -> list[str]:
    """The tables of a data file holding more than one (``readers.list_tables``), else []. A
    file that cannot be listed is left to its ingest, which says what is wrong with it."""
    if is_raster(path):
        return []
    try:
        tables = list_tables(path)
    except GeoportalError:
        return []
    return tables if len(tables) > 1 else []


def _layer_row(layer: Layer) -> dict[str, Any]:
    v = layer.current
    return {
        "id": layer.id, "kind": layer.meta.kind, "region": layer.meta.region,
        "theme": layer.meta.theme,
        "version": v.version if v else None, "features": v.feature_count if v else 0,
        "source_crs": v.source_crs if v else None, "updated": layer.updated.isoformat(),
    }


@main.command("layers")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
@_handle_errors
def layers_cmd(obj: _Context, as_json: bool) -> None:
    """List the catalog's layers: id, region, theme, version, features, source CRS, updated.

    \b
    Examples:
      geoportal layers
      geoportal layers --json | jq '.[].id'
    """
    rows = [_layer_row(layer) for layer in obj.catalog.list_layers()]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "kind", "region", "theme", "version", "features", "source CRS",
                  "updated")
    for r in rows:
        region = obj.registry.regions.get(r["region"])
        table.add_row(r["id"], r["kind"], f"{r['region']} {region.name['en'] if region else ''}",
                      r["theme"],
                      str(r["version"]), str(r["features"]), str(r["source_crs"]),
                      r["updated"][:19])
    Console(width=140).print(table)


@main.group("layer")
def layer_group() -> None:
    """Inspect one layer: its report, versions, rollback, set-aside features."""


@layer_group.command("show")
@click.argument("layer_id")
@click.pass_obj
@_handle_errors
def layer_show(obj: _Context, layer_id: str) -> None:
    """Print a layer's metadata, versions and its current ETL report as JSON.

    \b
    Examples:
      geoportal layer show minsk-stops
      geoportal layer show cities | jq .current.report.set_aside
    """
    layer = obj.catalog.get_layer(layer_id)
    versions = obj.catalog.versions(layer_id)
    out = {
        **layer.meta.to_dict(),
        "created": layer.created.isoformat(), "updated": layer.updated.isoformat(),
        "url": f"{obj.settings.base_url}/collections/{layer_id}",
        "fields": [f.to_dict() for f in layer.current.fields] if layer.current else [],
        "versions": [v.summary() for v in versions],
        "current": ({**layer.current.summary(), "report": layer.current.report}
                    if layer.current else None),
    }
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))


@layer_group.command("versions")
@click.argument("layer_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
@click.pass_obj
@_handle_errors
def layer_versions(obj: _Context, layer_id: str, as_json: bool) -> None:
    """List the versions the catalog keeps of a layer, newest first (* marks the current).

    \b
    Examples:
      geoportal layer versions minsk-stops
    """
    obj.catalog.get_layer(layer_id)
    versions = obj.catalog.versions(layer_id)
    if as_json:
        click.echo(json.dumps([v.summary() for v in versions], ensure_ascii=False,
                              indent=2))
        return
    for v in versions:
        mark = "*" if v.status == "current" else " "
        click.echo(f"{mark} {v.version:>4}  {v.created:%Y-%m-%d %H:%M:%S}  "
                   f"{v.feature_count:>9} published {v.set_aside_count:>7} set aside  "
                   f"{short_crs(v.source_crs) if v.source_crs else '-':<12} {v.source_name} "
                   f"({v.source_sha256[:12]})")


@layer_group.command("rollback")
@click.argument("layer_id")
@click.option("--to", "to_version", type=int, required=True, help="The version to serve again.")
@click.pass_obj
@_handle_errors
def layer_rollback(obj: _Context, layer_id: str, to_version: int) -> None:
    """Serve a kept earlier version again (the running server follows within seconds).

    \b
    Examples:
      geoportal layer versions minsk-stops
      geoportal layer rollback minsk-stops --to 2
    """
    try:
        layer = obj.catalog.get_layer(layer_id)
        version = obj.catalog.rollback(layer_id, to_version)
    except GeoportalError as exc:
        _audit(obj, "rollback", layer_id, exc=exc)
        raise
    _audit(obj, "rollback", layer_id, region=layer.meta.region, version=version.version)
    click.echo(f"{layer_id}: version {version.version} is current again "
               f"({version.feature_count} features from {version.source_name})")


@layer_group.command("quarantine")
@click.argument("layer_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write: .gpkg, .geojson or .csv (geometry as WKT).")
@click.option("--version", "version_number", type=int, help="A kept version [default: current].")
@click.pass_obj
@_handle_errors
def layer_quarantine(obj: _Context, layer_id: str, output: Path,
                     version_number: int | None) -> None:
    """Export the features a version set aside, as read, with their row and reason.

    \b
    Examples:
      geoportal layer quarantine minsk-stops -o stops-set-aside.csv
      geoportal layer quarantine cities --version 2 -o cities-q.gpkg
    """
    from geoportal.etl.quarantine import export_quarantine

    obj.catalog.get_layer(layer_id)
    versions = obj.catalog.versions(layer_id)
    wanted = [v for v in versions if (v.version == version_number if version_number
                                      else v.status == "current")]
    if not wanted:
        kept = ", ".join(str(v.version) for v in versions) or "none"
        raise NotFound(f"layer {layer_id!r} has no version {version_number}; kept: {kept}")
    count = export_quarantine(open_store(obj.settings), wanted[0], output)
    if count == 0:
        click.echo(f"{layer_id} version {wanted[0].version}: nothing was set aside; "
                   "no file written")
        return
    click.echo(f"{layer_id} version {wanted[0].version}: {count} set-aside features written "
               f"to {output} (CRS {wanted[0].source_crs})")


@main.group("manifest")
def manifest_group() -> None:
    """Check layer manifests."""


@manifest_group.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.pass_obj
@_handle_errors
def manifest_check(obj: _Context, paths: tuple[Path, ...]) -> None:
    """Validate manifests without publishing: keys, region, theme, source file.

    Prints every problem, one line each, and exits 2 when there is any.

    \b
    Examples:
      geoportal manifest check layers/
      geoportal manifest check layers/minsk/stops.yaml
    """
    files: list[Path] = []
    for path in paths:
        files += list(_manifests_in(path)) if path.is_dir() else [path]
    bad = 0
    for path in files:
        problems = check_manifest(path, obj.registry)
        if not problems:  # the file itself: a format we read, the layer there, a geometry
            try:
                spec = load_manifest(path).source
                if is_raster(spec.path):
                    from geoportal.etl.raster import describe

                    describe(spec.path)
                else:
                    resolve_source(spec)
            except InputError as exc:
                problems = [f"{path}: {exc.user_msg}"]
        for problem in problems:
            click.echo(problem, err=True)
        bad += bool(problems)
        if not problems:
            click.echo(f"{path}: ok")
    if bad:
        click.echo(f"{bad} of {len(files)} manifests have problems", err=True)
        sys.exit(2)


@main.command()
@click.option("--host", default=None, help="Address to listen on [default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [default 5000].")
@click.option("--workers", type=int, default=None, help="gunicorn worker processes [default 2].")
@click.option("--threads", type=int, default=None,
              help="Threads per worker [default 8]: requests waiting on PostgreSQL, the disk "
                   "or a slow client overlap.")
@click.pass_obj
@_handle_errors
def serve(obj: _Context, host: str | None, port: int | None, workers: int | None,
          threads: int | None) -> None:
    """Serve the portal (OGC API and pages) with gunicorn.

    Layers published while it runs appear within a second or two, in every worker.

    \b
    Examples:
      geoportal serve
      geoportal serve --host 0.0.0.0 --port 8080 --workers 4
      geoportal serve --workers 2 --threads 16    # on PostGIS
    """
    from geoportal.server.wsgi import run_gunicorn

    settings = load_settings(data_dir=obj.settings.data_dir, host=host, port=port,
                             workers=workers, threads=threads)
    obj.settings = settings
    if not is_postgres(settings.database_url):  # PostgreSQL: `geoportal init` sets it up
        obj.catalog.engine.dispose()  # create the catalog, and fork no open connections
    configure_logging(logging.INFO, log_dir=settings.log_dir,  # request lines on the console
                      fmt=settings.log_format)
    click.echo(f"serving {settings.base_url}/ with {settings.workers} workers x "
               f"{settings.threads} thread(s) "
               f"(data: {settings.data_dir}, logs: {settings.log_dir})")
    run_gunicorn(settings)


@main.command()
@click.option("--concurrency", type=click.IntRange(1, 16), default=1, show_default=True,
              help="Jobs run at once by this process (each ingest takes a core and memory).")
@click.pass_obj
@_handle_errors
def worker(obj: _Context, concurrency: int) -> None:
    """Take upload jobs from the queue and run them (the ETL worker tier).

    Needs GEOPORTAL_WORKER_TIER=1 and the PostgreSQL catalog; run any number of them, on any
    machines that reach the database and the object store. SIGTERM or Ctrl-C: the job in hand
    is finished first. A worker killed outright is noticed by the others (GEOPORTAL_WORKER_
    STALLED_S): its job is retried once elsewhere, then failed.

    \b
    Examples:
      GEOPORTAL_WORKER_TIER=1 GEOPORTAL_DATABASE_URL=postgresql://geo@db/geoportal \\
        GEOPORTAL_OBJECT_STORE=s3://geoportal/prod geoportal worker
    """
    from geoportal.admin.queue import start_worker

    start_worker(obj.settings, obj.catalog, obj.registry, concurrency=concurrency)


cli_admin.register(main, _handle_errors)

if __name__ == "__main__":
    main()
