"""The query parameters of OGC API - Coverages, read into what ``RasterSource.grid`` takes.

``subset=Lat(53.5:54.2),Lon(27.2:28)`` (or one ``subset`` per axis), ``bbox`` with
``bbox-crs``, ``subset-crs``, ``scale-size=Lon(800),Lat(400)``, ``scale-factor=4``,
``scale-axes=Lat(2)``, ``properties=band1`` and the output ``crs``. Axis names follow the
coverage's CRS (``Lon``/``Lat`` for degrees, ``E``/``N`` for metres), and the usual other
spellings (``x``, ``y``, ``long``, ``easting``...) are accepted, case-insensitively. Every
mistake is an InputError that names the parameter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import pyproj

from geoportal.errors import InputError
from geoportal.i18n import tr

__all__ = ["CoverageQuery", "axis_labels", "crs_uri", "parse_query"]

_X_NAMES = {"x", "lon", "long", "longitude", "e", "easting", "i"}
_Y_NAMES = {"y", "lat", "latitude", "n", "northing", "j"}
_AXIS_TERM = re.compile(r"\s*([A-Za-z_][\w.-]*)\s*\(([^()]*)\)\s*(?:,|$)")
_OGC_CRS = "http://www.opengis.net/def/crs/"
CRS84_URI = f"{_OGC_CRS}OGC/1.3/CRS84"
Bounds = tuple[float, float, float, float]


@dataclass(frozen=True)
class CoverageQuery:
    """A coverage request in the raster's terms (see ``RasterSource.grid``)."""

    bounds: Bounds | None = None
    bounds_crs: str | None = None  # "EPSG:n" or "OGC:CRS84"; None: the coverage's own CRS
    crs: str | None = None  # output, the same way; None: the coverage's own CRS
    size: tuple[int | None, int | None] = (None, None)
    factor: tuple[float, float] = (1.0, 1.0)
    bands: tuple[int, ...] | None = None
    # both ends of both axes and the pixel count of both: the client asked for that exact
    # grid (GDAL's OGCAPI driver reads blocks this way); pixels off the raster are nodata
    exact: bool = False


@lru_cache(maxsize=64)
def _pyproj(text: str) -> pyproj.CRS:
    return pyproj.CRS.from_user_input(text)


def axis_labels(crs: str) -> tuple[str, str]:
    """The (x, y) axis names of a coverage in ``crs`` ("EPSG:4326" or WKT): ``Lon``, ``Lat``
    for a geographic CRS, the CRS's own abbreviations (``E``, ``N``) otherwise."""
    found = _pyproj(crs)
    if found.is_geographic:
        return "Lon", "Lat"
    by_direction = {axis.direction.lower(): axis.abbrev for axis in found.axis_info}
    return by_direction.get("east", "x") or "x", by_direction.get("north", "y") or "y"


def crs_uri(crs: str) -> str:
    """The OGC URI of ``crs`` ("EPSG:4326" or WKT; CRS84 for WGS 84, whose coverage axes
    are lon, lat)."""
    auth = _pyproj(crs).to_authority()
    if auth is None:
        return _pyproj(crs).to_wkt()
    if auth == ("EPSG", "4326") or auth == ("OGC", "CRS84"):
        return CRS84_URI
    return f"{_OGC_CRS}{auth[0]}/0/{auth[1]}"


def _axis(name: str, labels: tuple[str, str], param: str) -> int:
    lowered = name.lower()
    if lowered in _X_NAMES or lowered == labels[0].lower():
        return 0
    if lowered in _Y_NAMES or lowered == labels[1].lower():
        return 1
    raise InputError(tr("{param}: unknown axis {name}; this coverage's axes are {x} and {y}",
                        param=param, name=repr(name), x=labels[0], y=labels[1]))


def _terms(values: Sequence[str], param: str) -> list[tuple[str, str]]:
    """``Name(value)`` terms of every value of a parameter, in order."""
    terms = []
    for text in values:
        pos = 0
        while pos < len(text):
            match = _AXIS_TERM.match(text, pos)
            if match is None or match.end() == pos:
                example = "Lon(27.2:28)" if param.startswith("subset") else "Lon(800)"
                raise InputError(tr("{param}={text}: expected terms like {example}, separated "
                                    "by commas", param=param, text=repr(text),
                                    example=example))
            terms.append((match.group(1), match.group(2).strip()))
            pos = match.end()
    return terms


def _number(text: str, param: str) -> float:
    try:
        value = float(text.strip().strip('"'))
    except ValueError:
        raise InputError(tr("{param}: {text} is not a number", param=param,
                            text=repr(text))) from None
    if not math.isfinite(value):
        raise InputError(tr("{param}: {text} is not a finite number", param=param,
                            text=repr(text)))
    return value


def _parse_crs(text: str | None, supported: Sequence[str], param: str) -> str | None:
    """``EPSG:n`` or ``OGC:CRS84`` from a URI (optionally in brackets) or ``EPSG:n`` among
    ``supported``."""
    if not text:
        return None
    given = text.strip().strip("[]<>")
    if given.upper() in ("OGC:CRS84", "CRS84"):
        given = CRS84_URI
    if given.upper().startswith("EPSG:") and given[5:].isdigit():
        given = f"{_OGC_CRS}EPSG/0/{given[5:]}"
    if given.rstrip("/").replace("https://", "http://") not in supported:
        raise InputError(tr("{param} {crs} is not offered; use one of {crs_list}", param=param,
                            crs=repr(text), crs_list=", ".join(supported)))
    if given.endswith("CRS84"):
        return "OGC:CRS84"
    return f"EPSG:{given.rstrip('/').rsplit('/', 1)[-1]}"


def _lat_first(crs: str) -> bool:
    """True for a CRS whose official axis order is northing first (EPSG:4326, Pulkovo GK):
    numbers given in that CRS come in that order."""
    axes = _pyproj(crs).axis_info
    return bool(axes) and axes[0].direction.lower() == "north"


def _bbox(text: str, crs: str | None) -> Bounds:
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise InputError(tr("bbox {bbox} must be four numbers: minx,miny,maxx,maxy",
                            bbox=repr(text)))
    values = [_number(v, "bbox") for v in parts]
    if len(values) == 6:  # a 3D bbox: the heights do not apply to a 2D coverage
        values = [values[0], values[1], values[3], values[4]]
    if crs is not None and _lat_first(crs):
        values = [values[1], values[0], values[3], values[2]]
    minx, miny, maxx, maxy = values
    if minx > maxx or miny > maxy:
        raise InputError(tr("bbox {bbox}: the lower corner must come first "
                            "(minx,miny,maxx,maxy)", bbox=repr(text)))
    return minx, miny, maxx, maxy


def _subset(values: Sequence[str], labels: tuple[str, str]) -> list[tuple[float, float] | None]:
    """Per axis (x, y): the (low, high) interval asked for, or None when not subset. A
    single value (a slice) takes the pixel holding it; ``*`` leaves that end open."""
    found: list[tuple[float, float] | None] = [None, None]
    for name, body in _terms(values, "subset"):
        index = _axis(name, labels, "subset")
        if found[index] is not None:
            raise InputError(tr("subset: axis {name} is given twice", name=repr(name)))
        ends = [part.strip() for part in body.split(":")]
        if len(ends) == 1:
            value = _number(ends[0], "subset")
            found[index] = (value, value)
        elif len(ends) == 2:
            low = -math.inf if ends[0] == "*" else _number(ends[0], "subset")
            high = math.inf if ends[1] == "*" else _number(ends[1], "subset")
            if low > high:
                raise InputError(tr("subset {term}: the low end must come first",
                                    term=f"{name}({body})"))
            found[index] = (low, high)
        else:
            raise InputError(tr("subset {term}: expected low:high or one value",
                                term=f"{name}({body})"))
    return found


# A scale factor divides the size: below 1/1000 (a thousand times larger) every coverage is
# over the pixel limit anyway, and 5e-324 made the size infinite (a 500, issue 15).
MIN_SCALE_FACTOR = 1e-3
MAX_SCALE_FACTOR = 1e9
MAX_SCALE_SIZE = 1_000_000  # pixels along one axis (the pixel limit refuses far less)


def _scale(args: Mapping[str, str], labels: tuple[str, str]
           ) -> tuple[tuple[int | None, int | None], tuple[float, float]]:
    given = [p for p in ("scale-size", "scale-factor", "scale-axes") if args.get(p)]
    if len(given) > 1:
        raise InputError(tr("use one of scale-size, scale-factor, scale-axes, not {given}",
                            given=" and ".join(given)))
    size: list[int | None] = [None, None]
    factor = [1.0, 1.0]
    if args.get("scale-size"):
        for name, body in _terms([args["scale-size"]], "scale-size"):
            value = _number(body, "scale-size")
            if value < 1 or value != int(value) or value > MAX_SCALE_SIZE:
                raise InputError(tr("scale-size {term}: a whole number of pixels, at least 1 "
                                    "and at most {high}", term=f"{name}({body[:40]})",
                                    high=f"{MAX_SCALE_SIZE:,}"))
            size[_axis(name, labels, "scale-size")] = int(value)
    elif args.get("scale-factor"):
        value = _number(args["scale-factor"], "scale-factor")
        if not MIN_SCALE_FACTOR <= value <= MAX_SCALE_FACTOR:
            raise InputError(tr("scale-factor must be above 0: between {low} and {high} (2 "
                                "halves the size, 0.5 doubles it)",
                                low=f"{MIN_SCALE_FACTOR:g}", high=f"{MAX_SCALE_FACTOR:g}"))
        factor = [value, value]
    elif args.get("scale-axes"):
        for name, body in _terms([args["scale-axes"]], "scale-axes"):
            value = _number(body, "scale-axes")
            if not MIN_SCALE_FACTOR <= value <= MAX_SCALE_FACTOR:
                raise InputError(tr("scale-axes {term} must be above 0: between {low} and "
                                    "{high}", term=f"{name}({body[:40]})",
                                    low=f"{MIN_SCALE_FACTOR:g}", high=f"{MAX_SCALE_FACTOR:g}"))
            factor[_axis(name, labels, "scale-axes")] = value
    return (size[0], size[1]), (factor[0], factor[1])


def _bands(text: str, names: Sequence[str]) -> tuple[int, ...]:
    chosen = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part in names:
            chosen.append(names.index(part) + 1)
        elif part.isdigit() and 1 <= int(part) <= len(names):
            chosen.append(int(part))
        else:
            raise InputError(tr("properties: no field {name}; this coverage has {names}",
                                name=repr(part), names=", ".join(names)))
    if not chosen:
        raise InputError(tr("properties: name at least one field, e.g. properties=band1"))
    return tuple(chosen)


def parse_query(args: Mapping[str, str], subsets: Sequence[str], *, native: str,
                band_names: Sequence[str], supported: Sequence[str]) -> CoverageQuery:
    """Read a coverage request's parameters; ``subsets`` are every ``subset`` value.
    ``scaleSize`` (an earlier draft's spelling, sent by GDAL 3.6 to 3.8) means
    ``scale-size``."""
    if args.get("scaleSize") and not args.get("scale-size"):
        args = {**args, "scale-size": args["scaleSize"]}
    labels = axis_labels(native)
    out_crs = _parse_crs(args.get("crs"), supported, "crs")
    bands = _bands(args["properties"], band_names) if args.get("properties") else None
    size, factor = _scale(args, labels)
    subset = _subset(subsets, labels) if any(s.strip() for s in subsets) else [None, None]
    if args.get("bbox") and any(subset):
        raise InputError(tr("use either bbox or a subset on the spatial axes, not both"))
    bounds: Bounds | None = None
    bounds_crs: str | None = None
    if args.get("bbox"):
        bounds_crs = _parse_crs(args.get("bbox-crs"), supported, "bbox-crs") or "OGC:CRS84"
        bounds = _bbox(args["bbox"], bounds_crs)
    elif any(subset):
        bounds_crs = _parse_crs(args.get("subset-crs"), supported, "subset-crs")
        x = subset[0] or (-math.inf, math.inf)
        y = subset[1] or (-math.inf, math.inf)
        if bounds_crs is not None and not all(map(math.isfinite, (*x, *y))):
            raise InputError(tr("with subset-crs, give both ends of both axes: an open end "
                                "(*) has no place in another CRS"))
        bounds = _open_ends((x[0], y[0], x[1], y[1]))
    exact = (subset[0] is not None and subset[1] is not None and bounds_crs is None
             and out_crs is None and None not in size
             and all(map(math.isfinite, (*subset[0], *subset[1])))
             and subset[0][0] < subset[0][1] and subset[1][0] < subset[1][1])
    return CoverageQuery(bounds=bounds, bounds_crs=bounds_crs, crs=out_crs, size=size,
                         factor=factor, bands=bands, exact=exact)


def _open_ends(bounds: Bounds) -> Bounds:
    """Open ends (``*``) as very large numbers GDAL's window arithmetic can take."""
    big = 1e15
    return tuple(max(-big, min(big, v)) for v in bounds)  # type: ignore[return-value]
