"""Open what regions send as a stream of Arrow batches through GDAL, without loading the file.

Shapefile (loose or zipped, with or without .shx/.prj/.cpg), MapInfo TAB and MIF/MID (loose
or zipped; ``geoportal.etl.mapinfo``), DXF, GeoJSON and GeoJSON sequences, TopoJSON,
GeoPackage, KML/KMZ, GPX, GML, CSV/TSV/TXT and XLSX/ODS sheets with coordinate or WKT columns.
A zip may hold several tables (Shapefiles, TABs, MIFs): the one read is named by
source.layer, and its own suffix picks the reader; ``list_tables`` lists them.
``resolve_source`` checks the file and asks GDAL what it holds; ``open_batches`` streams it.
Only formats GDAL itself parses whole (XLSX, ODS, KML, GML, GPX, TopoJSON, DXF) are held in
memory, by GDAL. The format-specific pieces live in ``geoportal.etl.sources``.

GDAL reads in a sandbox (``geoportal.etl.sandbox``): before it opens a file, the file's first
bytes must be the format its extension names, a zip-based file (zipped Shapefile, KMZ, XLSX,
ODS) must pass the zip limits, and a GeoJSON may not name a CRS GDAL would fetch; while it
reads, GDAL's network is off (``sandbox.NETWORK_OFF``), and it only ever opens plain file
names (``sources.alias``). Messages name the file, never the folder it sits in on the server.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from geoportal.errors import GeoportalError, InputError, UnsupportedFormat
from geoportal.etl import mapinfo as mi
from geoportal.etl.failures import READ_ERRORS, damaged
from geoportal.etl.manifest import SourceSpec
from geoportal.etl.sandbox import (
    ARCHIVE_SUFFIXES,
    NETWORK_OFF,
    ArchiveLimits,
    check_content,
    check_json_links,
    check_zip,
)
from geoportal.etl.sheets import Header, raw_config, read_header, skip_rows, subfile
from geoportal.etl.sources import (
    Decoding,
    Staging,
    TableGeometry,
    add_geometry,
    alias,
    copy_names,
    csv_separator,
    dxf_encoding,
    find_geometry_columns,
    gdal_config,
    mapinfo_header,
    mapinfo_parts,
    mapinfo_table,
    pick_layer,
    pick_sheet,
    shapefile,
    shapefile_parts,
    sheet_rows,
    staged,
    text_encoding,
    zip_table,
    zip_tables,
)
from geoportal.i18n import tr

__all__ = ["BATCH_SIZE", "GEOMETRY", "Source", "fingerprint", "list_tables", "open_batches",
           "resolve_source"]

# Rows per batch: 65,536 cost 160 MiB more at the peak for no speed (benchmarks/etl.py).
BATCH_SIZE = 16384
GEOMETRY = "__geometry__"  # the WKB column of every batch, apart from the properties


@dataclass(frozen=True)
class Format:
    """How one kind of file is read.

    ``drivers``: the GDAL drivers whose reading we accept (another means the content does not
    match the extension). ``kind``: ``vector`` (GDAL gives the geometry), ``shapefile``,
    ``mapinfo`` (parts, charset and CRS seen to by ``mapinfo.py``) or ``table`` (we build the
    geometry from columns). ``encoding``: ``dbf`` (detected from the DBF),
    ``text`` (detected, transcoded to UTF-8 if need be) or ``own`` (the format says it).
    ``layers``: the layers to choose from when none is named (GPX), else those with geometry.
    ``config``: GDAL config options set while reading, where an open option does not work.
    """

    name: str
    drivers: tuple[str, ...]
    kind: str = "vector"
    encoding: str = "own"
    prefix: str = ""  # GDAL's "DRIVER:" syntax, where the extension alone does not pick it
    options: dict[str, str] = field(default_factory=dict)  # GDAL open options
    config: dict[str, str] = field(default_factory=dict)
    sniff_separator: bool = False
    multilayer: bool = False
    layers: tuple[str, ...] | None = None


_SHP = Format("Shapefile", ("ESRI Shapefile",), kind="shapefile", encoding="dbf")
# Every column read as text: our inference (normalize.py) types them over the whole first
# batch, and a later value that does not fit sets its feature aside. GDAL's AUTODETECT_TYPE
# guesses from the first megabyte and turns later misfits into nulls without a word.
_CSV = Format("CSV", ("CSV",), kind="table", encoding="text", prefix="CSV:",
              options={"AUTODETECT_TYPE": "NO", "EMPTY_STRING_AS_NULL": "YES"},
              sniff_separator=True)
_SEQ = Format("GeoJSONSeq", ("GeoJSONSeq",), encoding="text", prefix="GeoJSONSeq:")
# LIBKML turns every non-ASCII field name into underscores unless told not to.
_KML = Format("KML", ("LIBKML", "KML"), multilayer=True,
              config={"LIBKML_LAUNDER_FIELD_NAMES": "NO"})
# MapInfo's charset is judged by mapinfo.choose_encoding; GDAL recodes from the header's.
_MAPINFO = Format("MapInfo", ("MapInfo File",), kind="mapinfo")
_JSON_SUFFIXES = (".geojson", ".json", ".topojson", ".geojsonl", ".geojsons", ".ndjson")
# A zip's reader is its table's (zip_table): Shapefile here stands for "zipped tables".
_FORMATS: dict[str, Format] = {
    ".shp": _SHP, ".zip": _SHP, ".tab": _MAPINFO, ".mif": _MAPINFO,
    # Entities in model space; the CAD layer of each is a field. No CRS: source.crs or detection.
    ".dxf": Format("DXF", ("DXF",)),
    # Newline-delimited GeoJSON is often named .geojson or .json: GDAL tells it by content.
    ".geojson": Format("GeoJSON", ("GeoJSON", "GeoJSONSeq"), encoding="text"),
    ".json": Format("GeoJSON", ("GeoJSON", "GeoJSONSeq", "TopoJSON", "ESRIJSON"),
                    encoding="text", multilayer=True),
    ".geojsonl": _SEQ, ".geojsons": _SEQ, ".ndjson": _SEQ,
    ".topojson": Format("TopoJSON", ("TopoJSON",), encoding="text", multilayer=True),
    ".gpkg": Format("GeoPackage", ("GPKG",), multilayer=True),
    ".csv": _CSV, ".tsv": _CSV, ".txt": _CSV,
    # The first row names the columns. XLSX's open option HEADERS=FORCE reaches the first sheet
    # only (GDAL 3.12), the config option every sheet.
    ".xlsx": Format("XLSX", ("XLSX",), kind="table", config={"OGR_XLSX_HEADERS": "FORCE"},
                    multilayer=True),
    ".ods": Format("ODS", ("ODS",), kind="table", config={"OGR_ODS_HEADERS": "FORCE"},
                   multilayer=True),
    ".kml": _KML, ".kmz": _KML,
    ".gpx": Format("GPX", ("GPX",), multilayer=True, layers=("waypoints", "routes", "tracks")),
    # No .gfs schema file written beside the source; no schema fetched from the internet.
    ".gml": Format("GML", ("GML",), options={"WRITE_GFS": "NO", "DOWNLOAD_SCHEMA": "NO"},
                   multilayer=True),
}


@dataclass(frozen=True)
class Source:
    """A source resolved to something GDAL can open, with what GDAL says about it.

    ``table`` is set when the geometry is built from columns (CSV, XLSX, ODS); ``staging``
    when GDAL reads a temporary copy, made anew by every ``open_batches``.
    """

    path: Path
    gdal_path: str
    format: str
    layer: str | None
    open_options: dict[str, str] = field(default_factory=dict)
    gdal_config: dict[str, str] = field(default_factory=dict)  # set while GDAL reads
    info: dict[str, Any] = field(default_factory=dict)
    encoding: str | None = None
    encoding_reason: str | None = None
    encoding_confidence: str = "high"  # high | medium | low: how sure the report may sound
    feature_count: int | None = None  # None when GDAL cannot tell without reading everything
    table: TableGeometry | None = None
    staging: Staging | None = None
    crs_reason: str | None = None  # how the file's CRS was recognised (MapInfo CoordSys)
    notes: tuple[str, ...] = ()  # for the report: what the reader made of the file
    header: Header | None = None  # a table's header row (CSV, XLSX, ODS; ``sheets``)

    @property
    def crs(self) -> str | None:
        return self.info.get("crs")

    @property
    def geometry_type(self) -> str:
        if self.table is not None:
            return "Point" if self.table.wkt is None else "Unknown"
        return str(self.info.get("geometry_type") or "Unknown")


def fingerprint(spec: SourceSpec) -> str:
    """sha256 over the source's bytes: every part of a Shapefile, or the one file."""
    digest = hashlib.sha256()
    for part in _data_files(spec.path):
        digest.update(part.name.lower().encode())
        with part.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _data_files(path: Path) -> list[Path]:
    if path.suffix.lower() == ".shp":
        return sorted(shapefile_parts(path).values())
    if path.suffix.lower() in mi.MAIN_SUFFIXES:
        return sorted(mapinfo_parts(path).values())
    return [path]


def _format(path: Path) -> Format:
    """The format its extension names, once the file is known to exist and hold something."""
    if not path.exists():
        raise InputError(tr("{file}: file not found; check source.path in the manifest",
                            file=path.name))
    if path.is_dir():
        raise UnsupportedFormat(tr("{file}: a folder, not a data file; point source.path at the "
                                   "file itself (a Shapefile's .shp, or a zip)", file=path.name))
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(_FORMATS))
        raise UnsupportedFormat(
            tr("{file}: unsupported file type {suffix}; we read {formats}", file=path.name,
               suffix=repr(path.suffix), formats=known) if path.suffix else
            tr("{file}: unsupported file type without an extension; we read {formats}",
               file=path.name, formats=known))
    if path.stat().st_size == 0:
        raise InputError(tr("{file}: the file is empty; send it again", file=path.name))
    return fmt


@contextmanager
def _readable(gdal_path: str, staging: Staging | None) -> Iterator[str]:
    """The path GDAL opens: the source itself, or a temporary copy for as long as it's needed."""
    if staging is None:
        yield gdal_path
        return
    with staged(staging) as copy:
        yield copy


def resolve_source(spec: SourceSpec, *, limits: ArchiveLimits | None = None) -> Source:
    """Check the file exists, is a format we read and passes the sandbox's checks (``limits``
    for zip-based files; the defaults when None); pick its layer; ask GDAL for its layer's
    description. Errors are InputError/UnsupportedFormat naming the file and what to do; what
    a library raises while it reads the file (``failures.READ_ERRORS``) is a DamagedFile."""
    try:
        return _resolve_source(spec, limits=limits)
    except GeoportalError:
        raise
    except READ_ERRORS as exc:
        fmt = _FORMATS.get(spec.path.suffix.lower())
        raise damaged(spec.path.name, exc, as_format=fmt.name if fmt else None,
                      clean=lambda e: _gdal_reason(e, spec.path)) from exc


def _resolve_source(spec: SourceSpec, *, limits: ArchiveLimits | None = None) -> Source:
    fmt = _format(spec.path)
    _check_sandbox(spec.path, limits or ArchiveLimits())
    member = zip_table(spec.path, spec.layer) if spec.path.suffix.lower() == ".zip" else None
    if member is not None:
        fmt = _FORMATS[PurePosixPath(member).suffix.lower()]
    if spec.header_row is not None and fmt.kind != "table":
        kind = ("Shapefile" if fmt.name == "Shapefile" else tr("MapInfo table")
                if fmt.name == "MapInfo" else tr("{format} file", format=fmt.name))
        raise InputError(tr("{file}: source.header_row applies to CSV and sheets (XLSX, ODS) "
                            "only, and this is a {kind}, whose columns have names of their "
                            "own: leave source.header_row out", file=spec.path.name, kind=kind))
    gdal_path, text = _decoding(spec, fmt, member)
    if spec.path.suffix.lower() in _JSON_SUFFIXES:
        check_json_links(spec.path, spec.path.name, text.encoding)
    options = dict(fmt.options)
    if fmt.sniff_separator and (sep := csv_separator(spec.path, text.encoding or "utf-8")):
        options["SEPARATOR"] = sep
    config = {**NETWORK_OFF, **fmt.config}
    if fmt.name == "DXF" and text.encoding:  # its $DWGCODEPAGE is wrong (sources.dxf_encoding)
        config["DXF_ENCODING"] = text.encoding
    try:
        with gdal_config(config), _readable(gdal_path, text.staging) as readable:
            layer, count, layer_notes = _layer(spec, fmt, readable, options)
            info = pyogrio.read_info(readable, layer=layer, **_gdal_encoding(fmt, text.encoding),
                                     **options)
            header = None
            if fmt.kind == "table":
                header, info, config = _header(spec, info, readable, layer, options, config)
    except (DataSourceError, DataLayerError) as exc:
        raise UnsupportedFormat(tr("{file}: GDAL cannot read it as {format} ({said}); check the "
                                   "file and its extension", file=spec.path.name,
                                   format=fmt.name,
                                   said=_gdal_reason(exc, spec.path, text.staging))) from None
    _check_driver(spec.path, fmt, info)
    crs_reason = None
    if fmt.kind == "mapinfo":
        found = mi.identify_crs(info.get("crs"), mapinfo_header(spec.path, member),
                                source=PurePosixPath(member).name if member else spec.path.name)
        info = {**info, "crs": found.crs}
        crs_reason = found.reason
    table = _table(spec, info, header) if fmt.kind == "table" else None
    table_notes: tuple[str, ...] = layer_notes
    if header is not None and header.note:
        table_notes += (header.note,)
    if table is not None and table.srid is not None and not info.get("crs"):
        info = {**info, "crs": f"EPSG:{table.srid}"}
        table_notes += (f"CRS: SRID={table.srid} in the geometry column {table.wkt!r}",)
    if table is None and not info.get("geometry_type"):
        raise InputError(tr("{file}: the layer has no geometry column; send a file with "
                            "geometries", file=spec.path.name))
    features = int(info.get("features", -1))
    return Source(path=spec.path, gdal_path=gdal_path, format=str(info["driver"]), layer=layer,
                  open_options=options, gdal_config=config, info=info,
                  encoding=text.encoding, encoding_reason=text.reason,
                  encoding_confidence=text.confidence, table=table, staging=text.staging,
                  feature_count=features if features >= 0 else count,
                  crs_reason=crs_reason if info.get("crs") else None,
                  notes=((crs_reason,) if crs_reason and not info.get("crs") else ())
                  + table_notes,
                  header=header)


# The formats whose tables a bare `geoportal ingest FILE` publishes one layer each.
_SPLIT_SUFFIXES = (".zip", ".gpkg", ".kml", ".kmz", ".xlsx", ".ods")


def list_tables(path: Path, *, limits: ArchiveLimits | None = None) -> list[str]:
    """The tables of a file that holds several, each by the name source.layer (``--layer``)
    takes: a zip's Shapefiles and MapInfo tables, a GeoPackage's vector tables, a KML/KMZ's
    folders, a workbook's (XLSX, ODS) sheets with rows under their first; layers GDAL counts
    no features in are left out. Empty for every other format (one table).

    The file passes the sandbox's checks first and GDAL's network is off while it looks;
    errors are InputError/UnsupportedFormat naming the file."""
    fmt = _format(path)
    _check_sandbox(path, limits or ArchiveLimits())
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return list(zip_tables(path))
    if suffix not in _SPLIT_SUFFIXES:
        return []
    gdal_path, text = _decoding(SourceSpec(path=path), fmt)
    try:
        with gdal_config({**NETWORK_OFF, **fmt.config}), \
                _readable(gdal_path, text.staging) as readable:
            if fmt.kind == "table":  # a sheet has no geometry type: its columns do
                return [n for n, rows in sheet_rows(readable, {}).items() if rows > 0]
            names = [str(n) for n, gtype in pyogrio.list_layers(readable) if gtype]
            counts = {n: _feature_count(readable, n) for n in names}
    except (DataSourceError, DataLayerError) as exc:
        raise UnsupportedFormat(tr("{file}: GDAL cannot read it as {format} ({said}); check the "
                                   "file and its extension", file=path.name, format=fmt.name,
                                   said=_gdal_reason(exc, path, text.staging))) from None
    return [n for n in names if counts[n] != 0]


def _feature_count(gdal_path: str, layer: str) -> int:
    """A layer's features (counted if the driver cannot say at once); -1 if unknown."""
    try:
        return int(pyogrio.read_info(gdal_path, layer=layer, force_feature_count=True)["features"])
    except (DataSourceError, DataLayerError):
        return -1


def _check_sandbox(path: Path, limits: ArchiveLimits) -> None:
    """The sandbox's checks that need no GDAL: content matching the extension, zip limits."""
    check_content(path, path.name)
    if path.suffix.lower() in ARCHIVE_SUFFIXES:
        check_zip(path, path.name, limits)


def _decoding(spec: SourceSpec, fmt: Format, member: str | None = None) -> tuple[str, Decoding]:
    """The path GDAL opens and the text encoding: the DBF's, a MapInfo table's, detected
    plain text's, or the one the format declares itself (XML, GeoPackage); with a plain-named
    link to open instead when pyogrio would misread the file's name (see ``sources.alias``).
    ``member``: the table to read in a zip."""
    if fmt.kind == "shapefile":
        gdal_path, found = shapefile(spec)
    elif fmt.kind == "mapinfo":
        gdal_path, found = mapinfo_table(spec, member)
    elif fmt.name == "DXF":
        gdal_path, found = str(spec.path), dxf_encoding(spec)
    elif fmt.encoding == "text":
        gdal_path, found = fmt.prefix + str(spec.path), text_encoding(spec, fmt.prefix)
    else:
        unused = f"; source.encoding {spec.encoding!r} is not used" if spec.encoding else ""
        gdal_path = fmt.prefix + str(spec.path)
        found = Decoding(None, f"{fmt.name} declares its own encoding{unused}")
    if found.staging is None and (link := alias(spec.path, gdal_path, fmt.prefix)) is not None:
        found = replace(found, staging=link)
    return gdal_path, found


def _gdal_reason(exc: BaseException, path: Path, staging: Staging | None = None) -> str:
    """GDAL's first sentence, naming files as the user knows them: the paths it names (the
    file's folder, a temporary copy's, ``/vsizip/`` in front) cut to the name, and a copy's
    plain name (``source.csv``, see ``sources.copy_names``) put back to the file's own."""
    text = str(exc).split("; ")[0].strip().rstrip(".")
    text = text.replace(str(path.parent) + "/", "")  # literally: the folder may hold spaces
    text = re.sub(r"/vsizip/\S*?\.(zip|kmz|xlsx|ods)/", "", text, flags=re.IGNORECASE)
    text = re.sub(r"(/[^\s/'\"]+)+/(?=[^\s/'\"]+)", "", text)
    for copy, name in copy_names(staging).items():
        text = re.sub(rf"(?<![\w.-]){re.escape(copy)}(?![\w-])", _literally(name), text)
    return text


def _literally(text: str) -> Callable[[re.Match[str]], str]:
    """A replacement for ``re.sub`` that puts ``text`` in as it is (no backslash escapes)."""
    return lambda _: text


def _gdal_encoding(fmt: Format, encoding: str | None) -> dict[str, str]:
    """GDAL recodes a DBF itself; every other text reaches it as UTF-8 already."""
    return {"encoding": encoding} if fmt.kind == "shapefile" and encoding else {}


def _check_driver(path: Path, fmt: Format, info: dict[str, Any]) -> None:
    driver = info.get("driver")
    if driver not in fmt.drivers:
        fits = next((suffix for suffix, f in _FORMATS.items() if driver in f.drivers), None)
        advice = (tr("rename it to {suffix}", suffix=fits) if fits
                  else tr("send it in a format we read"))
        raise UnsupportedFormat(tr("{file}: the content is {driver}, not {format} as the "
                                   "extension {suffix} says; {hint}", file=path.name,
                                   driver=driver, format=fmt.name, suffix=repr(path.suffix),
                                   hint=advice))


def _layer(spec: SourceSpec, fmt: Format, gdal_path: str, options: dict[str, str]
           ) -> tuple[str | None, int | None, tuple[str, ...]]:
    """The layer to read, its feature count if it was counted to choose it, and notes for
    the report (a workbook's other sheets with data, see ``sources.pick_sheet``)."""
    if not fmt.multilayer:
        return None, None, ()
    if fmt.kind == "table":
        return pick_sheet(spec, gdal_path, options)
    return *pick_layer(spec, gdal_path, options, pool=fmt.layers), ()


def _header(spec: SourceSpec, info: dict[str, Any], readable: str, layer: str | None,
            options: dict[str, str], config: dict[str, str]
            ) -> tuple[Header, dict[str, Any], dict[str, str]]:
    """A table's header row (``sheets.read_header``), with GDAL's description of the table
    and the config to read it by: a CSV from its header line on, a sheet as cells when the
    header is not its first row. ``options`` (GDAL's open options) gains CSV's HEADERS=YES
    when the header row is known."""
    driver = str(info.get("driver"))
    header = read_header(spec.path, driver, readable, layer,
                         fields=[str(f) for f in info.get("fields", [])],
                         forced=spec.header_row, separator=options.get("SEPARATOR"))
    if driver == "CSV" and (header.offset or header.forced):
        options["HEADERS"] = "YES"  # GDAL's guess takes a header of '2024' for data
    if header.offset:
        info = pyogrio.read_info(subfile(readable, header.offset), **options)
    elif header.skip:
        features = int(info.get("features", -1))
        info = {**info, "fields": list(header.names),
                "features": features + 1 - header.row if features >= 0 else -1}
        config = {**config, **raw_config(driver)}
    return header, info, config


def _table(spec: SourceSpec, info: dict[str, Any], header: Header | None) -> TableGeometry:
    fields = [str(f) for f in info.get("fields", [])]
    plan = find_geometry_columns(fields, spec, header.sample if header else None)
    if plan is None:
        file, columns = spec.path.name, ", ".join(fields) or tr("none")
        raise InputError(
            tr("{file}: no coordinate columns were found among {columns}; name them lon/lat (or "
               "x/y, долгота/широта, даўгата/шырата), add a WKT column, or set source.x_field "
               "and source.y_field in the manifest", file=file, columns=columns)
            if header is None else
            tr("{file}: no coordinate columns were found among {columns}; name them lon/lat (or "
               "x/y, долгота/широта, даўгата/шырата), add a WKT column, or set source.x_field "
               "and source.y_field in the manifest (the column names were read from row {row}; "
               "if they are in another row, set source.header_row in the manifest)",
               file=file, columns=columns, row=header.row))
    return plan


@contextmanager
def open_batches(source: Source, *, geometry_only: bool = False
                 ) -> Iterator[Iterator[pa.Table]]:
    """Yield an iterator of Arrow tables: the properties plus the WKB column ``GEOMETRY``
    (``geometry_only``: GDAL reads no attribute of a vector format; tables still need the
    columns their geometry is built from).

    A temporary copy (Shapefile without .shx, text not in UTF-8) lives until the block ends.
    """
    columns: dict[str, list[str]] = (
        {"columns": []} if geometry_only and source.table is None else {})
    encoding = source.encoding if source.format == "ESRI Shapefile" else None
    try:
        with ExitStack() as stack:
            stack.enter_context(gdal_config(source.gdal_config))
            readable = stack.enter_context(_readable(source.gdal_path, source.staging))
            if source.header is not None:
                readable = subfile(readable, source.header.offset)
            meta, reader = stack.enter_context(pyogrio.open_arrow(
                readable, layer=source.layer, encoding=encoding, batch_size=BATCH_SIZE,
                use_pyarrow=True, **columns, **source.open_options))
            yield _guarded(_batches(reader, meta, source.table, source.header), source)
    except (DataSourceError, DataLayerError) as exc:
        raise UnsupportedFormat(tr("{file}: GDAL failed while reading ({said}); check the file "
                                   "is complete", file=source.path.name,
                                   said=_gdal_reason(exc, source.path, source.staging))) from None


def _guarded(batches: Iterator[pa.Table], source: Source) -> Iterator[pa.Table]:
    """``batches``, with what a library raises while it reads the next one
    (``failures.READ_ERRORS``) said as a DamagedFile naming the file and about where. Only the
    reading is guarded: what the caller does with a batch raises as it would."""
    rows = 0
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except GeoportalError:
            raise
        except READ_ERRORS as exc:
            raise damaged(source.path.name, exc, after=rows,
                          clean=lambda e: _gdal_reason(e, source.path, source.staging)
                          ) from exc
        rows += batch.num_rows
        yield batch


def _batches(reader: Any, meta: dict[str, Any], table: TableGeometry | None,
             header: Header | None = None) -> Iterator[pa.Table]:
    """GDAL's batches with the geometry as ``GEOMETRY``: renamed, or built from columns
    (a sheet read as cells without its title and header rows, see ``sheets.skip_rows``)."""
    geometry_name = meta.get("geometry_name") or "wkb_geometry"
    skipped = 0
    for batch in reader:
        data = pa.Table.from_batches([batch])
        if header is not None and header.skip:
            data, skipped = skip_rows(data, header, skipped)
            if not data.num_rows:
                continue
        if table is not None:
            drop = geometry_name if meta.get("geometry_type") else None
            yield add_geometry(data, table, name=GEOMETRY, drop=drop)
            continue
        names = data.column_names
        idx = names.index(geometry_name) if geometry_name in names else len(names) - 1
        yield data.rename_columns([GEOMETRY if i == idx else n for i, n in enumerate(names)])
