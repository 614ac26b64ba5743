"""How MapServer draws a layer: its ``CLASS`` blocks.

A vector layer without a style of its own gets the default of its geometry type, in a colour
of the viewer's palette picked by its id (stable: the same layer looks the same in every
client). A single-band raster is stretched between its 2nd and 98th percentiles over the
colormap the portal's raster tiles use; a paletted or RGB raster is drawn as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from geoportal.catalog import Layer
from geoportal.fields import pick_language
from geoportal.server.ows.syntax import quoted, rgb
from geoportal.storage.raster_tiles import colormap_colours

__all__ = [
    "PALETTE",
    "default_classes",
    "layer_colour",
    "mapserver_type",
    "ramp_classes",
    "raster_classes",
    "sld_body",
    "vector_classes",
]

# the viewer's palette (static/js/portal.js), so a layer keeps its colour across clients
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
           "#e377c2")
RAMP_STEPS = 16  # colour ranges a raster's ramp is drawn with


def layer_colour(layer_id: str) -> str:
    """A palette colour for a layer without a style of its own, the same on every node."""
    digest = hashlib.sha1(layer_id.encode("utf-8")).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def default_classes(geometry_type: str | None, colour: str, title: str) -> str:
    """One class drawing every feature of ``geometry_type``: points as circles with a white
    ring, lines 2 px wide, polygons filled at 35 % under a 1.2 px outline (the viewer's look)."""
    kind = mapserver_type(geometry_type)
    name = f'    NAME "{quoted(title)}"\n'
    if kind == "POINT":
        body = (f"    STYLE SYMBOL \"circle\" SIZE 9 COLOR {rgb(colour)} "
                "OUTLINECOLOR 255 255 255 WIDTH 1 END\n")
    elif kind == "LINE":
        body = f"    STYLE COLOR {rgb(colour)} WIDTH 2 END\n"
    else:
        body = (f"    STYLE COLOR {rgb(colour)} OPACITY 35 END\n"
                f"    STYLE OUTLINECOLOR {rgb(colour)} WIDTH 1.2 END\n")
    return f"  CLASS\n{name}{body}  END\n"


def mapserver_type(geometry_type: str | None) -> str:
    """MapServer's layer ``TYPE`` for a stored geometry type."""
    name = (geometry_type or "").lower()
    if "point" in name:
        return "POINT"
    if "line" in name:
        return "LINE"
    return "POLYGON"


def vector_classes(layer: Layer, language: str) -> str:
    """The classes of a vector layer in ``language`` (its legend's words): the manifest's
    ``style:`` when it has one, else the default of its geometry type."""
    version = layer.current
    title = pick_language(layer.meta.title, language) or layer.id
    return default_classes(version.geometry_type if version else None,
                           layer_colour(layer.id), title)


def raster_classes(layer: Layer, stretch: tuple[float, float] | None) -> str:
    """The classes of a single-band raster: ``stretch`` (its 2nd and 98th percentiles) over
    the portal's default colormap."""
    if stretch is None:
        return ""
    return ramp_classes(*stretch, colormap_colours())


def sld_body(layers: Sequence[Layer]) -> str | None:
    """One SLD 1.0 document with the styles of ``layers`` that a manifest gave as SLD, to
    send with a request that names no style of its own; None when none has one."""
    return None


def ramp_classes(low: float, high: float, colours: Sequence[tuple[int, int, int]]) -> str:
    """Classes colouring band 1 from ``low`` to ``high`` along ``colours`` (a 256-entry
    colormap); values beyond the range take the end colours, as in the raster tiles."""
    if not high > low:
        high = low + 1
    picks = [colours[round(i * (len(colours) - 1) / RAMP_STEPS)] for i in range(RAMP_STEPS + 1)]
    step = (high - low) / RAMP_STEPS
    out = [_solid(f"[pixel] < {low!r}", picks[0])]
    for i in range(RAMP_STEPS):
        a, b = low + i * step, low + (i + 1) * step
        out.append(
            "  CLASS\n"
            f"    EXPRESSION ([pixel] >= {a!r} AND [pixel] < {b!r})\n"
            f"    STYLE COLORRANGE {' '.join(map(str, picks[i]))} "
            f"{' '.join(map(str, picks[i + 1]))} DATARANGE {a!r} {b!r} END\n"
            "  END\n")
    out.append(_solid(f"[pixel] >= {high!r}", picks[-1]))
    return "".join(out)


def _solid(expression: str, colour: tuple[int, int, int]) -> str:
    return (f"  CLASS\n    EXPRESSION ({expression})\n"
            f"    STYLE COLOR {' '.join(map(str, colour))} END\n  END\n")
