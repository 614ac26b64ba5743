"""The parameters of a WMS or WFS request the portal checks before the map engine sees them:
the engine answers some mistakes with no features, an HTML page of its own or an assertion,
where a client should get the service's report naming the parameter."""

from __future__ import annotations

import math
import re

from geoportal.i18n import tr
from geoportal.server.ows.kvp import OgcError, Params
from geoportal.server.ows.mapfile import CRS_CODES

__all__ = ["MAX_DPI", "MIN_DPI", "check_bbox", "check_count", "check_resolution", "check_size",
           "epsg"]

# the resolutions MapServer draws at (its MS_RESOLUTION_MIN and _MAX)
MIN_DPI, MAX_DPI = 10, 1000


def check_size(params: Params, most: int) -> None:
    """WIDTH and HEIGHT: whole numbers of pixels up to ``most`` (``map_max_size``)."""
    for name in ("WIDTH", "HEIGHT"):
        raw = params.required(name)
        if not raw.isdigit() or not 1 <= int(raw) <= most:
            raise OgcError(tr("{name} must be a whole number of pixels from 1 to {most}",
                              name=name, most=most), "InvalidParameterValue", name.lower())


def check_resolution(params: Params) -> None:
    """DPI, MAP_RESOLUTION and FORMAT_OPTIONS=dpi: (as QGIS sends them) within the engine's
    range, which it would otherwise answer with a page of its own."""
    values = [(name, params.get(name).strip()) for name in ("DPI", "MAP_RESOLUTION")]
    for option in params.get("FORMAT_OPTIONS").split(";"):
        key, _, value = option.partition(":")
        if key.strip().lower() == "dpi":
            values.append(("FORMAT_OPTIONS", value.strip()))
    for name, raw in values:
        try:
            number = float(raw) if raw else None
        except ValueError:
            number = math.nan
        if number is not None and not MIN_DPI <= number <= MAX_DPI:
            raise OgcError(tr("{name} must be a resolution from {low} to {high} dots per inch",
                              name=name, low=MIN_DPI, high=MAX_DPI),
                           "InvalidParameterValue", name.lower())


def check_bbox(params: Params) -> None:
    """A WFS BBOX as the standard has it: four numbers, lower corner first, then maybe one of
    the offered CRSs. The engine answered a malformed one with no features, or with an
    assertion of its own."""
    raw = params.get("BBOX").strip()
    if not raw:
        return
    parts = [part.strip() for part in raw.split(",")]
    problem = None
    try:
        numbers = [float(part) for part in parts[:4]]
    except ValueError:
        numbers = []
    if len(parts) not in (4, 5) or len(numbers) != 4 \
            or not all(math.isfinite(n) for n in numbers):
        problem = tr("BBOX must be four numbers (the lower corner, then the upper one) and "
                     "maybe a CRS")
    elif numbers[0] > numbers[2] or numbers[1] > numbers[3]:
        problem = tr("BBOX must give the lower corner first")
    elif len(parts) == 5 and epsg(parts[4]) not in {*CRS_CODES, "CRS:84"}:
        problem = tr("the CRS {crs} of BBOX is not offered; use one of {codes}",
                     crs=repr(parts[4][:80]), codes=", ".join(CRS_CODES))
    if problem is not None:
        raise OgcError(problem, "InvalidParameterValue", "bbox")


def epsg(crs: str) -> str:
    """``EPSG:4326`` for the URN, URL and short forms of a CRS (CRS:84 for OGC's CRS84)."""
    found = re.search(r"EPSG(?::|::|/0/|/)(\d{1,6})$", crs.strip(), re.IGNORECASE)
    if found:
        return f"EPSG:{found.group(1)}"
    return "CRS:84" if re.search(r"CRS:?84$", crs.strip(), re.IGNORECASE) else crs


def check_count(params: Params, most: int) -> None:
    """COUNT, MAXFEATURES and STARTINDEX: whole numbers (the page cap ``most`` is the
    mapfile's, ``max_limit``)."""
    for name in ("COUNT", "MAXFEATURES", "STARTINDEX"):
        raw = params.get(name).strip()
        if raw and (not raw.isdigit() or len(raw) > 12):
            raise OgcError(tr("{name} must be a whole number", name=name),
                           "InvalidParameterValue", name.lower())
