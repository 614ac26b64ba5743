"""How MapServer draws a layer: its ``CLASS`` blocks, from the manifest's ``style:``.

A vector layer without a style of its own gets the default of its geometry type, in a colour
of the viewer's palette picked by its id (stable: the same layer looks the same in every
client). A manifest's ``style:`` (checked and normalised by ``geoportal.etl.styles``) changes
the colours, widths and sizes, labels the features by a field (in the request's language),
and colours them by the values of a field (``categories``: a class per value, titled in the
request's language, so the legend shows the titles). An SLD file of the manifest is sent to
the engine as ``SLD_BODY`` (``sld_body``) when a client asks no style of its own.

A single-band raster is stretched between its 2nd and 98th percentiles, or the style's
``range``, over the style's colormap or the portal's default one (the raster tiles');
a paletted or RGB raster is drawn as it is.

Nothing a manifest gives reaches the mapfile unquoted: colours and numbers were checked at
ingest and are formatted here again, texts go through ``quoted``, field names are the
layer's own (published names: letters, digits, underscores), and a category's text value is
a mapfile string compared with the field (``CLASSITEM``), never spliced into an expression.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from geoportal.catalog import Layer
from geoportal.errors import InputError
from geoportal.etl.styles import SLD_NS, SldRefused, find_field, parse_sld, value_text
from geoportal.fields import Field, pick_language
from geoportal.server.ows.kvp import defused_like
from geoportal.server.ows.syntax import quoted, rgb
from geoportal.storage.raster_tiles import colormap_colours

__all__ = [
    "LABEL_FONT",
    "PALETTE",
    "default_classes",
    "layer_colour",
    "layer_style",
    "legend_classes",
    "legend_number",
    "mapserver_type",
    "ramp_classes",
    "raster_classes",
    "sld_body",
    "vector_classes",
]

log = logging.getLogger("geoportal.server")

# the viewer's palette (static/js/portal.js), so a layer keeps its colour across clients
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
           "#e377c2")
RAMP_STEPS = 16  # colour ranges a raster's ramp is drawn with
LEGEND_STOPS = 5  # values a raster's legend names (as the viewer's legend)
# the font of the mapfiles' FONTSET ("sans": services.py), which has Cyrillic; labels are
# left out on a machine without it rather than failing the map
LABEL_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LABEL_SIZE = 8.0
LABEL_COLOUR = "#222222"
# the legend's words for the values a style's categories do not list
OTHER = {"be": "іншыя", "ru": "прочие", "en": "other"}
_NUMERIC = ("integer", "number")
_WARNED: set[tuple[str, ...]] = set()


@dataclass(frozen=True)
class _Look:
    """How one class draws its features: ``outline`` None for none."""

    colour: str
    outline: str | None
    width: float
    size: float
    opacity: float


def _warn_once(layer_id: str, what: str, *values: Any) -> None:
    """Log a style the engine cannot follow once per layer and problem, not per map (a
    capabilities document builds the classes of every layer)."""
    key = (layer_id, what, *map(str, values))
    if key in _WARNED or len(_WARNED) > 10_000:
        return
    _WARNED.add(key)
    log.warning("layer %s: " + what, layer_id, *values)


def layer_colour(layer_id: str) -> str:
    """A palette colour for a layer without a style of its own, the same on every node."""
    digest = hashlib.sha1(layer_id.encode("utf-8")).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def layer_style(layer: Layer) -> dict[str, Any]:
    """The manifest's ``style:`` of ``layer`` as the catalog keeps it (empty when none)."""
    style = (layer.meta.view or {}).get("style")
    return style if isinstance(style, dict) else {}


def mapserver_type(geometry_type: str | None) -> str:
    """MapServer's layer ``TYPE`` for a stored geometry type."""
    name = (geometry_type or "").lower()
    if "point" in name:
        return "POINT"
    if "line" in name:
        return "LINE"
    return "POLYGON"


def default_classes(geometry_type: str | None, colour: str, title: str) -> str:
    """One class drawing every feature of ``geometry_type``: points as circles with a white
    ring, lines 2 px wide, polygons filled at 35 % under a 1.2 px outline (the viewer's look)."""
    kind = mapserver_type(geometry_type)
    return _class(title, None, _styles(kind, _look(kind, {}, colour)), "")


def vector_classes(layer: Layer, language: str) -> str:
    """The classes of a vector layer in ``language`` (its legend's words): the manifest's
    ``style:`` when it has one, else the default of its geometry type."""
    version = layer.current
    title = pick_language(layer.meta.title, language) or layer.id
    geometry = version.geometry_type if version else None
    style = layer_style(layer)
    if not style.keys() - {"sld"}:
        return default_classes(geometry, layer_colour(layer.id), title)
    kind = mapserver_type(geometry)
    fields = version.fields if version else []
    base = _look(kind, style, style.get("color") or layer_colour(layer.id))
    label = _label(kind, style, fields, language, layer.id)
    categories = style.get("categories")
    field = (find_field(fields, str(categories.get("field")))
             if isinstance(categories, dict) else None)
    if field is None or not isinstance(categories, dict):
        if categories:
            _warn_once(layer.id, "style.categories.field %r is not a field of the layer; "
                       "drawn without categories", categories.get("field"))
        return _class(title, None, _styles(kind, base), label)
    out = []
    for entry in categories.get("values") or []:
        expression = _expression(field, entry.get("value"))
        if expression is None:
            continue
        name = _title_in(entry.get("title"), language) or value_text(entry.get("value"))
        look = _look(kind, style, _colour(entry.get("color"), base.colour))
        out.append(_class(name, expression, _styles(kind, look), label))
    if "other" not in categories or categories["other"] is not None:
        look = (base if "other" not in categories
                else _look(kind, style, _colour(categories["other"], base.colour)))
        out.append(_class(OTHER.get(language, OTHER["en"]), None, _styles(kind, look), label))
    # a text value is a string compared with the field's text, which CLASSITEM names
    text_compared = field.type not in (*_NUMERIC, "boolean")
    classitem = f'  CLASSITEM "{quoted(field.name)}"\n' if text_compared else ""
    return classitem + "".join(out)


def _colour(value: Any, fallback: str) -> str:
    """A checked ``#rrggbb`` as it is; anything else (a catalog row edited by hand) falls
    back, so nothing but ``#rrggbb`` reaches ``rgb``."""
    text = str(value or "")
    if len(text) == 7 and text[0] == "#" and all(c in "0123456789abcdefABCDEF"
                                                 for c in text[1:]):
        return text
    return fallback


def _number(value: Any, default: float, low: float, high: float) -> float:
    """A checked number, else ``default``; kept within ``low``..``high`` whatever it is."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return min(max(float(value), low), high)
    return default


def _look(kind: str, style: dict[str, Any], colour: str) -> _Look:
    """The look of a class in ``colour`` under ``style`` (its other keys, or the defaults of
    ``kind``: the viewer's)."""
    colour = _colour(colour, PALETTE[0])
    outline_given = style.get("outline")
    if kind == "POINT":
        outline: str | None = "#ffffff"
        width, opacity = 1.0, 1.0
    elif kind == "LINE":
        outline, width, opacity = None, 2.0, 1.0
    else:
        outline, width, opacity = colour, 1.2, 0.35
    if outline_given == "none":
        outline = None
    elif outline_given:
        outline = _colour(outline_given, colour)
    return _Look(colour=colour, outline=outline,
                 width=_number(style.get("width"), width, 0.0, 20.0),
                 size=_number(style.get("size"), 9.0, 1.0, 64.0),
                 opacity=_number(style.get("opacity"), opacity, 0.0, 1.0))


def _styles(kind: str, look: _Look) -> str:
    """The ``STYLE`` lines of a class."""
    opacity = round(look.opacity * 100)
    if kind == "POINT":
        ring = (f" OUTLINECOLOR {rgb(look.outline)} WIDTH {look.width:g}"
                if look.outline and look.width > 0 else "")
        alpha = f" OPACITY {opacity}" if opacity < 100 else ""
        return (f'    STYLE SYMBOL "circle" SIZE {look.size:g} COLOR {rgb(look.colour)}'
                f"{ring}{alpha} END\n")
    if kind == "LINE":
        casing = (f"    STYLE COLOR {rgb(look.outline)} WIDTH {look.width + 2:g} END\n"
                  if look.outline else "")
        alpha = f" OPACITY {opacity}" if opacity < 100 else ""
        return f"{casing}    STYLE COLOR {rgb(look.colour)} WIDTH {look.width:g}{alpha} END\n"
    fill = (f"    STYLE COLOR {rgb(look.colour)}"
            f"{f' OPACITY {opacity}' if opacity < 100 else ''} END\n" if opacity > 0 else "")
    edge = (f"    STYLE OUTLINECOLOR {rgb(look.outline)} WIDTH {look.width:g} END\n"
            if look.outline and look.width > 0 else "")
    return fill + edge


def _class(name: str, expression: str | None, styles: str, label: str) -> str:
    test = f"    EXPRESSION {expression}\n" if expression else ""
    return f'  CLASS\n    NAME "{quoted(name)}"\n{test}{styles}{label}  END\n'


def _title_in(title: Any, language: str) -> str | None:
    if isinstance(title, dict):
        return pick_language({str(k): str(v) for k, v in title.items()}, language)
    return str(title) if title not in (None, "") else None


def _expression(field: Field, value: Any) -> str | None:
    """The test of a category's ``value`` on ``field``: numbers compared as numbers, yes/no
    in the words both stores give them, anything else a mapfile string compared with the
    field's text (``CLASSITEM``). None: a value a field of numbers never holds."""
    name = field.name
    if field.type in _NUMERIC:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        if isinstance(value, bool) or not math.isfinite(number):
            return None
        return f"([{name}] = {number!r})"
    if field.type == "boolean":
        truth = value if isinstance(value, bool) else \
            value_text(value).strip().lower() in ("true", "t", "1", "yes")
        words = ("true", "t", "1") if truth else ("false", "f", "0")
        return "(" + " OR ".join(f'"[{name}]" = "{word}"' for word in words) + ")"
    return f'"{quoted(value_text(value))}"'


def _label(kind: str, style: dict[str, Any], fields: Sequence[Field], language: str,
           layer_id: str) -> str:
    """The ``LABEL`` of each class: the label field's value in the request's language (the
    field given for it, else be, ru, en), with a white halo; points labelled around their
    symbol, lines along them, polygons inside (only where the label fits)."""
    given = style.get("label")
    wanted = (pick_language({str(k): str(v) for k, v in given.items()}, language)
              if isinstance(given, dict) else given)
    if not wanted:
        return ""
    field = find_field(fields, str(wanted))
    if field is None:
        _warn_once(layer_id, "style.label %r is not a field of the layer; no labels", wanted)
        return ""
    if not LABEL_FONT.exists():
        _warn_once(layer_id, "no labels: the font %s is not installed", LABEL_FONT)
        return ""
    size = _number(style.get("label_size"), LABEL_SIZE, 5.0, 36.0)
    colour = _colour(style.get("label_color"), LABEL_COLOUR)
    placement = {"POINT": "POSITION AUTO",
                 "LINE": "ANGLE FOLLOW REPEATDISTANCE 300"}.get(
        kind, "POSITION CC MINFEATURESIZE AUTO")
    return ("    LABEL\n"
            f'      TEXT "[{quoted(field.name)}]"\n'
            f'      FONT "sans" TYPE TRUETYPE SIZE {size:g}\n'
            f"      COLOR {rgb(colour)} OUTLINECOLOR 255 255 255 OUTLINEWIDTH 2\n"
            f"      PARTIALS FALSE {placement} BUFFER 2\n"
            "    END\n")


def raster_classes(layer: Layer, stretch: tuple[float, float] | None,
                   language: str = "en") -> str:
    """The classes of a single-band raster: the style's ``range`` (else ``stretch``: its 2nd
    and 98th percentiles) over the style's ``colormap`` (else the portal's default), then
    the legend's: a few values along the ramp with the layer's ``unit`` in ``language``."""
    style = layer_style(layer)
    bounds = style.get("range")
    if (isinstance(bounds, list) and len(bounds) == 2
            and all(isinstance(v, int | float) and math.isfinite(v) for v in bounds)):
        low, high = float(bounds[0]), float(bounds[1])
    elif stretch is not None:
        low, high = stretch
    else:
        return ""
    colours = _ramp(style.get("colormap"), layer.id)
    unit = (layer.meta.view or {}).get("unit")
    unit_text = pick_language(unit, language) if isinstance(unit, dict) else unit
    return ramp_classes(low, high, colours) + legend_classes(
        low, high, colours, unit_text if isinstance(unit_text, str) else "", language)


def _ramp(name: Any, layer_id: str) -> list[tuple[int, int, int]]:
    if isinstance(name, str) and name:
        try:
            return colormap_colours(name)
        except InputError:
            _warn_once(layer_id, "style.colormap %r is unknown; the default drawn", name)
    return colormap_colours()


def sld_body(layers: Sequence[Layer]) -> str | None:
    """One SLD 1.0 document with the styles of ``layers`` that a manifest gave as SLD, to
    send with a request that names no style of its own; None when none has one."""
    named = []
    for layer in layers:
        text = layer_style(layer).get("sld")
        if not isinstance(text, str):
            continue
        try:
            root = parse_sld(text, layer.id)  # checked at ingest; read as warily here
        except SldRefused:
            _warn_once(layer.id, "its stored SLD is refused; drawn by its classes")
            continue
        named.append(root.find(f"{{{SLD_NS}}}NamedLayer"))
    if not named:
        return None
    document = etree.Element(f"{{{SLD_NS}}}StyledLayerDescriptor", nsmap={None: SLD_NS},
                             version="1.0.0")
    document.extend(named)
    return str(etree.tostring(defused_like(document, "sld"), encoding="unicode"))


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


def legend_classes(low: float, high: float, colours: Sequence[tuple[int, int, int]],
                   unit: str = "", language: str = "en") -> str:
    """Classes that draw nothing and name ``LEGEND_STOPS`` values from ``low`` to ``high``
    in their ramp colours: the legend of a ramp, whose own classes are too many to list and
    whose colours change within each (MapServer lists only named classes)."""
    if not high > low:
        high = low + 1
    out = []
    for i in range(LEGEND_STOPS):
        value = low + (high - low) * i / (LEGEND_STOPS - 1)
        text = legend_number(value, high - low, language) + (f" {unit}" if unit else "")
        if i == 0:
            text = "≤ " + text
        elif i == LEGEND_STOPS - 1:
            text = "≥ " + text
        colour = colours[round(i * (len(colours) - 1) / (LEGEND_STOPS - 1))]
        out.append(f'  CLASS\n    NAME "{quoted(text)}"\n    EXPRESSION ("legend" = "only")\n'
                   f"    STYLE COLOR {' '.join(map(str, colour))} END\n  END\n")
    return "".join(out)


def legend_number(value: float, span: float, language: str = "en") -> str:
    """``value`` with as many decimals as a legend of ``span`` needs, in the language's
    style: a decimal comma and grouped thousands (a narrow space) in Belarusian and Russian."""
    decimals = 0 if span >= 20 else 1 if span >= 2 else 2 if span >= 0.2 else 4
    text = f"{value:,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # "-0" is zero
    if language in ("be", "ru"):
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def _solid(expression: str, colour: tuple[int, int, int]) -> str:
    return (f"  CLASS\n    EXPRESSION ({expression})\n"
            f"    STYLE COLOR {' '.join(map(str, colour))} END\n  END\n")
