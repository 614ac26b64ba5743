"""Whole or filtered collections as files: GeoPackage, GeoJSON, CSV and zipped Shapefile.

Rows come from the store in fid order, a batch at a time (``Query.after``), so a download of
a million features never sits in memory: GeoJSON and CSV are written to the response as they
are read; GeoPackage and Shapefile (formats that need a file) are written by GDAL into a
temporary folder, streamed from there and deleted when the response closes.

A download has a time budget (``download_budget_s``) from the moment it is asked for: reading
the rows, writing the file and sending it. Over it, a download not started yet is a 503; one
already streaming is cut (``sent``): the connection is closed before the end of the body, so
the client sees a broken transfer, never a short file that looks whole.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import queue
import shutil
import socket
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import cast

import numpy as np
import pyarrow as pa
import pyogrio
import pyproj
import shapely

from geoportal.catalog import Layer
from geoportal.catalog.models import Field
from geoportal.errors import BudgetExceeded, Conflict, InputError
from geoportal.i18n import tr
from geoportal.server.filters import check_filter, parse_filter
from geoportal.storage import FeatureStore, Query, Row
from geoportal.storage.base import MAX_PAGE_VERTICES

__all__ = ["FORMATS", "Download", "OverBudget", "prepare_download", "sent"]

log = logging.getLogger("geoportal.server")

BATCH = 5000
PIECE = 256 * 1024  # largest piece handed to the server at once
_ARROW_TYPES = {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}
_SHAPEFILE_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                    "MultiPolygon"}


@dataclass(frozen=True)
class Format:
    """One download format: its media type, file suffix and how it is written."""

    media_type: str
    suffix: str
    driver: str | None  # GDAL driver for formats that need a file; None: streamed as text


FORMATS = {
    "gpkg": Format("application/geopackage+sqlite3", ".gpkg", "GPKG"),
    "geojson": Format("application/geo+json", ".geojson", None),
    "csv": Format("text/csv; charset=utf-8", ".csv", None),
    "shp": Format("application/zip", ".zip", "ESRI Shapefile"),
}


@dataclass
class Download:
    """What the route sends: a file name, a media type and the body as chunks of bytes."""

    filename: str
    media_type: str
    chunks: Iterator[bytes]
    cleanup: Callable[[], None] | None = None
    deadline: float | None = None  # time.monotonic() past which it is cut


class OverBudget(BudgetExceeded):
    """A download that took longer than ``download_budget_s``."""

    def __init__(self, *, seconds: float) -> None:
        super().__init__(f"download over its budget of {seconds:g} s",
                         user_msg=tr("the download took longer than its budget of {seconds} s "
                                     "(download_budget_s): ask for less with bbox or filter",
                                     seconds=f"{seconds:g}"),
                         retry_after=60)


def _check(deadline: float | None, budget_s: float | None) -> None:
    if deadline is not None and budget_s is not None and time.monotonic() > deadline:
        raise OverBudget(seconds=budget_s)


@lru_cache(maxsize=16)
def _to(crs_text: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("OGC:CRS84", crs_text, always_xy=True)


def _parse_crs(text: str | None, supported: Sequence[str]) -> str | None:
    """'EPSG:28405' from a crs parameter (URI or code); None for CRS84 (the default)."""
    if not text:
        return None
    known = {uri: uri.rstrip("/").split("/")[-1] for uri in supported}
    code = known.get(text)
    if code is None and text.upper().startswith("EPSG:") and text[5:].isdigit():
        code = text[5:] if any(v == text[5:] for v in known.values()) else None
    if code is None:
        raise InputError(tr("crs {crs} is not offered; use one of {crs_list}", crs=repr(text),
                            crs_list=", ".join(supported)))
    return None if code == "CRS84" else f"EPSG:{code}"


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise InputError(tr("bbox {bbox} must be four numbers: minlon,minlat,maxlon,maxlat",
                            bbox=repr(text))) from None
    if len(values) != 4 or values[0] > values[2] or values[1] > values[3]:
        raise InputError(tr("bbox {bbox} must be minlon,minlat,maxlon,maxlat", bbox=repr(text)))
    return values[0], values[1], values[2], values[3]


def _batches(store: FeatureStore, ref: str, fields: Sequence[Field], base: Query,
             budget_s: float | None = None) -> Iterator[list[Row]]:
    """Every matching row, in fid order, BATCH at a time; OverBudget past ``budget_s``."""
    deadline = time.monotonic() + budget_s if budget_s else None
    after = 0
    batch = BATCH
    while True:
        _check(deadline, budget_s)
        try:  # a batch holds at most MAX_PAGE_VERTICES: fewer rows of huge geometries
            rows = store.query(ref, fields, Query(
                limit=batch, bbox=base.bbox, filter=base.filter, after=after, count=False,
                max_vertices=MAX_PAGE_VERTICES)).rows
        except InputError:
            if batch == 1:
                raise
            batch = max(1, batch // 4)
            continue
        if not rows:
            return
        yield rows
        after = rows[-1].fid


def _transform(geoms: np.ndarray, crs: str | None) -> np.ndarray:
    if crs is None:
        return geoms
    transformer = _to(crs)

    def apply(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(coords[:, 0], coords[:, 1]))

    moved: np.ndarray = shapely.transform(geoms, apply)
    return moved


def _geojson(batches: Iterator[list[Row]], crs: str | None) -> Iterator[bytes]:
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for rows in batches:
        geoms = _transform(np.array([r.geometry for r in rows], dtype=object), crs)
        parts = []
        for row, geom in zip(rows, geoms, strict=True):
            parts.append(json.dumps({
                "type": "Feature", "id": row.fid, "properties": row.properties,
                "geometry": json.loads(shapely.to_geojson(geom)) if geom is not None else None,
            }, ensure_ascii=False, default=str))
        chunk = ",".join(parts)
        yield (chunk if first else "," + chunk).encode()
        first = False
    yield b"]}"


def _csv(batches: Iterator[list[Row]], fields: Sequence[Field], crs: str | None
         ) -> Iterator[bytes]:
    names = [f.name for f in fields]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["fid", *names, "wkt"])
    yield buffer.getvalue().encode("utf-8-sig")  # a BOM, so Excel reads UTF-8
    for rows in batches:
        buffer.seek(0)
        buffer.truncate()
        geoms = _transform(np.array([r.geometry for r in rows], dtype=object), crs)
        wkts = shapely.to_wkt(geoms, rounding_precision=-1)
        for row, wkt in zip(rows, wkts, strict=True):
            writer.writerow([row.fid, *(row.properties.get(n) for n in names), wkt or ""])
        yield buffer.getvalue().encode("utf-8")


def _arrow(rows: list[Row], fields: Sequence[Field], crs: str | None) -> pa.Table:
    geoms = _transform(np.array([r.geometry for r in rows], dtype=object), crs)
    columns = {f.name: pa.array([r.properties.get(f.name) for r in rows],
                                _ARROW_TYPES.get(f.type, pa.string())) for f in fields}
    return pa.table({**columns, "geometry": pa.array(shapely.to_wkb(geoms), pa.binary())})


def _file(batches: Iterator[list[Row]], layer: Layer, fmt: Format, crs: str | None,
          budget_s: float | None = None) -> tuple[Path, Path]:
    """Write the rows with GDAL into a temporary folder; return (folder, file to send)."""
    assert layer.current is not None and fmt.driver is not None
    deadline = time.monotonic() + budget_s if budget_s else None
    fields = layer.current.fields
    folder = Path(tempfile.mkdtemp(prefix="geoportal-download-"))
    try:
        schema = _arrow([], fields, crs).schema
        tables = (_arrow(rows, fields, crs).cast(schema) for rows in batches)
        reader = pa.RecordBatchReader.from_batches(
            schema, (b for t in tables for b in t.to_batches()))
        stem = layer.id.replace("-", "_")
        target = folder / f"{stem}{'.shp' if fmt.driver == 'ESRI Shapefile' else fmt.suffix}"
        options = {"ENCODING": "UTF-8"} if fmt.driver == "ESRI Shapefile" else {}
        pyogrio.write_arrow(reader, target, layer=stem, driver=fmt.driver,
                            geometry_name="geometry",
                            geometry_type=layer.current.geometry_type or "Unknown",
                            crs=crs or "EPSG:4326", layer_options=options or None)
        if fmt.driver != "ESRI Shapefile":
            return folder, target
        archive = folder / f"{stem}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(folder.glob(f"{stem}.*")):
                if part != archive:
                    zf.write(part, part.name)
        return folder, archive
    except BaseException as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, Exception) and not isinstance(exc, OverBudget):
            _check(deadline, budget_s)  # GDAL may have wrapped the reader's OverBudget
        raise


def _read(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            yield chunk


def prepare_download(layer: Layer, store: FeatureStore, params: Mapping[str, str],
                     supported_crs: Sequence[str], budget_s: float | None = None) -> Download:
    """The download the parameters ask for (``f``, ``bbox``, ``filter``, ``filter-lang``,
    ``crs``); InputError names a wrong one. ``budget_s``: the longest it may take in all."""
    assert layer.current is not None
    deadline = time.monotonic() + budget_s if budget_s else None
    fmt_name = (params.get("f") or "gpkg").lower()
    fmt = FORMATS.get(fmt_name)
    if fmt is None:
        raise InputError(tr("f={f}: download as one of {formats}", f=repr(fmt_name),
                            formats=", ".join(FORMATS)))
    if fmt_name == "shp" and layer.current.geometry_type not in _SHAPEFILE_TYPES:
        # Versions published before issue 16 may mix types; a Shapefile holds one.
        raise Conflict(tr("layer {id} mixes geometry types, which a Shapefile cannot hold: "
                          "download it as f=gpkg or f=geojson, or publish it again (one type per "
                          "layer)", id=layer.id))
    try:
        check_filter(params)
    except InputError as exc:
        raise InputError(exc.user_msg) from None
    if params.get("filter-crs") not in (None, supported_crs[0]):
        raise InputError("filter-crs: downloads take filter geometries in CRS84 (lon/lat)")
    crs = _parse_crs(params.get("crs"), supported_crs)
    text = params.get("filter")
    base = Query(bbox=_bbox(params.get("bbox")),
                 filter=parse_filter(text) if text else None)
    fields = layer.current.fields
    # Check the filter against the layer now: a 400 before the first byte is sent.
    store.query(layer.current.store_ref, fields, Query(limit=1, bbox=base.bbox,
                                                       filter=base.filter, count=False))
    batches = _batches(store, layer.current.store_ref, fields, base, budget_s)
    name = f"{layer.id}{fmt.suffix}"
    if fmt_name == "geojson":
        return Download(name, fmt.media_type, _geojson(batches, crs), deadline=deadline)
    if fmt_name == "csv":
        return Download(name, fmt.media_type, _csv(batches, fields, crs), deadline=deadline)
    folder, path = _file(batches, layer, fmt, crs, budget_s)
    return Download(name, fmt.media_type, _read(path),
                    cleanup=lambda: shutil.rmtree(folder, ignore_errors=True),
                    deadline=deadline)


# The work of making a download (reading every row, encoding it) runs in threads of their own
# whose CPU priority is lowered (Linux: a thread's nice value is its own), so that a worker
# process's ordinary requests are scheduled first while downloads stream: measured with
# benchmarks/noisy.py. The request's thread only relays the bytes.
DOWNLOAD_NICE = 10
_makers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="geoportal-download",
                             initializer=lambda: _lower_priority(DOWNLOAD_NICE))
_DONE = object()


def _lower_priority(nice: int) -> None:
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or not allowed
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


def _in_background(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks`` made in a low-priority thread, a few ahead of the client; made no further
    once the client is gone (the generator closed)."""
    ahead: queue.Queue[object] = queue.Queue(maxsize=4)
    stop = threading.Event()

    def offer(item: object) -> bool:
        """Put ``item`` for the request's thread; False once it stopped listening."""
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for chunk in chunks:
                if not offer(chunk):
                    return
            offer(_DONE)
        except BaseException as exc:  # handed to the request's thread, raised there
            offer(exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    _makers.submit(make)
    try:
        while True:
            item = ahead.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield cast(bytes, item)  # the queue holds the chunks, _DONE and an exception
    finally:
        stop.set()


def _pieces(chunks: Iterator[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        for start in range(0, len(chunk), PIECE):
            yield chunk[start:start + PIECE]


def sent(download: Download, connection: socket.socket | None) -> Iterator[bytes]:
    """The download's bytes until its deadline; past it, ``connection`` (the client's socket,
    gunicorn's ``environ["gunicorn.socket"]``) is shut so the body ends broken. Without a
    socket to shut, OverBudget is raised and the server breaks the connection its own way.

    Sent in pieces of at most ``PIECE`` bytes: the server's socket timeout (``body_timeout_s``)
    bounds the send of each, and the deadline is looked at between them."""
    cut: BudgetExceeded | None = None
    try:
        for piece in _pieces(_in_background(download.chunks)):
            if download.deadline is not None and time.monotonic() > download.deadline:
                break
            yield piece
        else:
            return
    except OverBudget as exc:  # while reading the rows
        cut = exc
    log.warning("download cut: %s over its time budget", download.filename)
    if connection is None:
        raise cut or BudgetExceeded(tr("download {name} over its budget",
                                       name=download.filename))
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
