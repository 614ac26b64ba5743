"""Typed views of a version's ETL report: what the catalog, the admin and the server read of it.

The catalog stores each version's report as JSON (``Version.report``, written by the ETL's
``Report.to_dict()`` or by an edit). Layers above read a few of its keys: a coverage's grid
(``raster``), the edit state (``edit``, ``next_fid``), the lineage of a record (``encoding``,
``repairs``), whether a source changed (``options``), what a publish did (``features_published``,
``set_aside``, ``notes``). These frozen dataclasses name those keys once, with their types.

Each ``from_dict`` is tolerant: a key missing (a row written by an older version of the portal,
an edit's report, a job that failed) takes the default, and keys it does not know are ignored.
Each ``to_dict`` writes the JSON the catalog has always stored for the keys the class knows, so
``from_dict(to_dict(x)) == x`` and a ``RasterGrid`` written by the ETL is byte-for-byte the dict
the ETL wrote before these classes existed. This module sits below the catalog, the ETL and the
stores: it imports only the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EditState", "RasterGrid", "VersionReport"]

_NAN = "nan"  # how JSON (which has no NaN) holds a NaN nodata value


def _floats(value: Any, n: int) -> tuple[float, ...] | None:
    """``value`` as a tuple of ``n`` numbers, or None when it is missing or malformed."""
    if not isinstance(value, (list, tuple)) or len(value) != n:
        return None
    try:
        return tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None


def _counts(value: Any) -> dict[str, int]:
    """A ``{reason: count}`` mapping (``set_aside``, ``repairs``) as a plain dict."""
    return {str(k): int(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def _int(value: Any, default: int) -> int:
    """``value`` as an int, or ``default`` when it is missing (None) or not a number."""
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class RasterGrid:
    """A coverage's grid, bands and overviews: what ``report["raster"]`` holds (the ETL's
    ``RasterInfo``), read by OGC API Coverages and the coverage provider without opening the
    COG. Tuples stand for JSON lists; a NaN nodata is stored as the string ``"nan"``."""

    crs: str = "EPSG:4326"  # "EPSG:..." when the CRS has an authority code, otherwise its WKT
    width: int = 0
    height: int = 0
    count: int = 1  # bands
    dtypes: tuple[str, ...] = ()
    nodata: float | None = None
    resolution: tuple[float, float] | None = None  # pixel size (x, y) in CRS units
    bounds: tuple[float, float, float, float] | None = None  # in the raster's own CRS
    extent: tuple[float, float, float, float] | None = None  # lon/lat: minx, miny, maxx, maxy
    overviews: tuple[int, ...] = ()  # decimation factors, e.g. (2, 4, 8)
    compression: str | None = None  # e.g. "deflate"
    blocksize: tuple[int, int] | None = None  # internal tile (width, height)
    band_descriptions: tuple[str | None, ...] = ()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RasterGrid:
        """The grid from the stored dict; a missing or malformed key takes its default."""
        nodata = d.get("nodata")
        if isinstance(nodata, str):
            nodata = math.nan if nodata.lower() == _NAN else None
        elif not isinstance(nodata, (int, float)) or isinstance(nodata, bool):
            nodata = None
        blocksize = d.get("blocksize")
        return cls(
            crs=str(d.get("crs") or "EPSG:4326"),
            width=_int(d.get("width"), 0),
            height=_int(d.get("height"), 0),
            count=_int(d.get("count"), 1),
            dtypes=tuple(str(t) for t in d.get("dtypes") or ()),
            nodata=nodata,
            resolution=_pair(_floats(d.get("resolution"), 2)),
            bounds=_quad(_floats(d.get("bounds"), 4)),
            extent=_quad(_floats(d.get("extent"), 4)),
            overviews=tuple(int(f) for f in d.get("overviews") or ()),
            compression=d.get("compression"),
            blocksize=(int(blocksize[0]), int(blocksize[1]))
            if isinstance(blocksize, (list, tuple)) and len(blocksize) == 2 else None,
            band_descriptions=tuple(None if b is None else str(b)
                                    for b in d.get("band_descriptions") or ()),
        )

    def to_dict(self) -> dict[str, Any]:
        """The dict the catalog stores: lists for tuples, None for what is unknown, and a NaN
        nodata as ``"nan"`` (the keys in the order the ETL has always written them)."""
        return {
            "crs": self.crs, "width": self.width, "height": self.height, "count": self.count,
            "dtypes": list(self.dtypes),
            "nodata": _NAN if self.nodata is not None and math.isnan(self.nodata)
            else self.nodata,
            "resolution": _list(self.resolution), "bounds": _list(self.bounds),
            "extent": _list(self.extent), "overviews": list(self.overviews),
            "compression": self.compression, "blocksize": _list(self.blocksize),
            "band_descriptions": list(self.band_descriptions),
        }

    def __eq__(self, other: object) -> bool:
        """Equal grids; two NaN nodata values are the same "no data" (unlike ``nan == nan``)."""
        if not isinstance(other, RasterGrid):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(repr(self.to_dict()))


def _pair(values: tuple[float, ...] | None) -> tuple[float, float] | None:
    return (values[0], values[1]) if values is not None else None


def _quad(values: tuple[float, ...] | None) -> tuple[float, float, float, float] | None:
    return (values[0], values[1], values[2], values[3]) if values is not None else None


def _list(values: tuple[Any, ...] | None) -> list[Any] | None:
    return list(values) if values is not None else None


@dataclass(frozen=True)
class EditState:
    """What the edits of OGC API Features Part 4 keep in a version's report: the next free
    feature id (``next_fid``, so an id deleted is never given again) and the change that made
    the version (``edit``: the action, the features it touched, how many, which version it was
    based on). A version published by the ETL has no change (``action`` None) and
    ``next_fid`` 0: the store then starts after the largest id it holds."""

    next_fid: int = 0
    action: str | None = None  # create | replace | update | delete
    features: tuple[int, ...] = ()  # the first 1000 feature ids touched
    count: int = 0  # how many features the change touched
    based_on: int | None = None  # the version the change was made to

    @property
    def edited(self) -> bool:
        """True when an edit (not the ETL) made this version."""
        return self.action is not None

    def change(self) -> dict[str, Any] | None:
        """The ``edit`` dict as stored (and shown in a record's lineage), or None."""
        if self.action is None:
            return None
        return {"action": self.action, "features": list(self.features), "count": self.count,
                "based_on": self.based_on}

    @classmethod
    def from_dict(cls, report: Mapping[str, Any]) -> EditState:
        """The state from a whole version report (its ``edit`` and ``next_fid`` keys)."""
        edit = report.get("edit")
        next_fid = _int(report.get("next_fid"), 0)
        if not isinstance(edit, Mapping) or edit.get("action") is None:
            return cls(next_fid=next_fid)
        based_on = edit.get("based_on")
        return cls(next_fid=next_fid, action=str(edit["action"]),
                   features=tuple(int(f) for f in edit.get("features") or ()),
                   count=_int(edit.get("count"), 0),
                   based_on=None if based_on is None else _int(based_on, 0))

    def to_dict(self) -> dict[str, Any]:
        """The report keys this state is stored as: ``{"edit": ..., "next_fid": n}``."""
        return {"edit": self.change(), "next_fid": self.next_fid}


@dataclass(frozen=True)
class VersionReport:
    """The keys of a version's report that other layers read (the rest of the ETL's report is
    kept in the catalog and shown whole by ``geoportal layer show``, but read by nobody).

    ``options`` stays None for a report without it (an edit's), so it never equals the
    options of an upload; ``features_published`` is None when the report does not say."""

    status: str | None = None  # published | unchanged | failed (an ETL run)
    options: dict[str, Any] | None = None  # the manifest's options the source was read with
    encoding: str | None = None
    features_read: int | None = None
    features_published: int | None = None
    repairs: dict[str, int] = field(default_factory=dict)  # kind of repair -> features
    set_aside: dict[str, int] = field(default_factory=dict)  # reason -> features
    notes: tuple[str, ...] = ()
    raster: RasterGrid | None = None  # a coverage's grid; None for a vector layer
    edit: EditState = field(default_factory=EditState)

    @property
    def set_aside_count(self) -> int:
        """How many features were set aside, for every reason."""
        return sum(self.set_aside.values())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> VersionReport:
        """The typed view of a stored report (None or ``{}`` gives the defaults)."""
        d = d or {}
        options = d.get("options")
        raster = d.get("raster")
        published, read = d.get("features_published"), d.get("features_read")
        return cls(
            status=d.get("status"),
            options=dict(options) if isinstance(options, Mapping) else None,
            encoding=d.get("encoding"),
            features_read=None if read is None else _int(read, 0),
            features_published=None if published is None else _int(published, 0),
            repairs=_counts(d.get("repairs")),
            set_aside=_counts(d.get("set_aside")),
            notes=tuple(str(n) for n in d.get("notes") or ()),
            raster=RasterGrid.from_dict(raster) if isinstance(raster, Mapping) and raster
            else None,
            edit=EditState.from_dict(d),
        )

    def to_dict(self) -> dict[str, Any]:
        """The keys this view knows, as the catalog stores them."""
        return {
            "status": self.status, "options": self.options, "encoding": self.encoding,
            "features_read": self.features_read, "features_published": self.features_published,
            "repairs": dict(self.repairs), "set_aside": dict(self.set_aside),
            "notes": list(self.notes),
            "raster": self.raster.to_dict() if self.raster is not None else None,
            **self.edit.to_dict(),
        }
