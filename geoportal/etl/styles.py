"""A layer's ``style:`` in its manifest: how the map engine (WMS, WMTS, OGC API - Maps) draws it.

The web viewer styles layers itself; ``style:`` is for the clients of the OGC map services
(QGIS, ArcGIS, MapInfo), which draw what the portal's engine renders. Checked here when a
manifest is read, every mistake one problem naming its key path (``style.categories.values[2]
.color``); stored in ``LayerMetadata.view["style"]``, normalised (colours ``#rrggbb``, field
names as published, an SLD's text with its layer renamed), so the engine trusts what it reads.

A vector layer's style (every key optional)::

    style:
      color: "#1f77b4"        # fill of points and polygons, the colour of lines
      outline: "#ffffff"      # outline of points and polygons, a casing under lines; none
      width: 1.5              # px: lines, and the outline of points and polygons
      size: 8                 # px: the diameter of a point
      opacity: 0.35           # 0..1: the fill (0: outline only)
      label: name_be          # a field, or {be: name_be, ru: name_ru, en: name_en}
      label_size: 8           # pt
      label_color: "#222222"
      categories:             # a colour per value of one field (the legend shows the titles)
        field: kind
        values:
          - {value: station, color: "#d62728", title: {be: Станцыя, ru: Станция, en: Station}}
        other: "#999999"      # the other values; null: not drawn; absent: in ``color``
      sld: stations.sld       # an SLD 1.0.0 file beside the manifest, used when a client
                              # asks no style of its own

A raster's style: ``colormap`` (a matplotlib name as rio-tiler has them) and ``range: [low,
high]`` (the values at the ends of the colormap; else its 2nd and 98th percentiles).

Field names may be given as published or as in the source (a ``fields:`` rule's new name is
taken); whether the layer has them is known once its data is read: ``check_style_fields``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lxml import etree

from geoportal.catalog.models import LANGUAGES
from geoportal.errors import SchemaError
from geoportal.etl.manifest_texts import Problems, shown_names, text_or_texts
from geoportal.fields import Field
from geoportal.i18n import Message, tr
from geoportal.search.folding import fold

__all__ = ["CATEGORY_LIMIT", "RASTER_KEYS", "SLD_MAX_BYTES", "SLD_NS", "VECTOR_KEYS",
           "SldRefused", "check_style_fields", "find_field", "parse_sld", "parse_style",
           "style_field_problems", "value_text"]

VECTOR_KEYS = ("color", "outline", "width", "size", "opacity", "label", "label_size",
               "label_color", "categories", "sld")
RASTER_KEYS = ("colormap", "range")
_CATEGORY_KEYS = ("field", "values", "other")
_VALUE_KEYS = ("value", "color", "title")
# the numbers a style may give, and their bounds (a 500 px outline is a mistake)
NUMBERS = {"width": (0.0, 20.0), "size": (1.0, 64.0), "opacity": (0.0, 1.0),
           "label_size": (5.0, 36.0)}
_COLOUR = re.compile(r"^#(?:[0-9a-f]{3}|[0-9a-f]{6})$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CATEGORY_LIMIT = 100  # values of ``categories``: a class each, drawn in turn
TITLE_LIMIT = 100  # characters of a category's title, per language
VALUE_LIMIT = 200  # characters of a category's value
FIELD_NAME_LIMIT = 200
SLD_MAX_BYTES = 64 * 1024
SLD_NS = "http://www.opengis.net/sld"
_XLINK = "{http://www.w3.org/1999/xlink}"
# an SLD is read without entities, DTDs, network or a huge tree: a file is data, not a program
_SLD_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False,
                       "dtd_validation": False, "huge_tree": False, "remove_comments": True,
                       "remove_pis": True}


class SldRefused(ValueError):
    """An SLD the portal does not take: a message id (with ``{origin}``, ``{key}`` and
    ``{name}``) and its other values."""

    def __init__(self, template: str, **values: Any) -> None:
        super().__init__(template)
        self.template = template
        self.values = values


def parse_style(value: Any, *, raster: bool, base: Path, layer_id: str,
                published: Callable[[str], str], problems: Problems) -> dict[str, Any] | None:
    """The manifest's ``style:`` normalised for ``LayerMetadata.view``, or None when absent
    or wrong (each problem noted in ``problems``, naming its key path).

    ``raster``: the source is a raster (``colormap``, ``range``), else a vector layer;
    ``base``: the manifest's folder, where ``sld:`` files are; ``published``: a field's
    published name from its source name (the manifest's ``fields:`` renames)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.add("{origin}: '{key}' must be a mapping of {keys}", key="style",
                     keys=", ".join(RASTER_KEYS if raster else VECTOR_KEYS))
        return None
    keys = {str(k) for k in value}
    allowed, other = (RASTER_KEYS, VECTOR_KEYS) if raster else (VECTOR_KEYS, RASTER_KEYS)
    misplaced = keys & set(other)
    if misplaced and raster:
        problems.add("{origin}: 'style' of a raster takes only {allowed}; {names} are for "
                     "vector layers", allowed=", ".join(RASTER_KEYS), names=shown_names(misplaced))
    elif misplaced:
        problems.add("{origin}: 'style' of a vector layer takes no {names}; those are for "
                     "rasters", names=shown_names(misplaced))
    unknown = keys - set(VECTOR_KEYS) - set(RASTER_KEYS)
    if unknown:
        problems.add("{origin}: '{key}' has unknown keys {names}; allowed: {allowed}",
                     key="style", names=shown_names(unknown), allowed=str(sorted(allowed)))
    if misplaced or unknown:
        return None
    out = (_raster_style(value, problems) if raster else
           _vector_style(value, base, layer_id, published, problems))
    return out or None


def _vector_style(value: dict[str, Any], base: Path, layer_id: str,
                  published: Callable[[str], str], problems: Problems) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("color", "label_color"):
        if value.get(key) is not None:
            colour = _colour(value[key], f"style.{key}", problems)
            if colour:
                out[key] = colour
    if "outline" in value:
        raw = value["outline"]
        if raw is None or (isinstance(raw, str) and raw.strip().lower() == "none"):
            out["outline"] = "none"
        else:
            colour = _colour(raw, "style.outline", problems)
            if colour:
                out["outline"] = colour
    for key, (low, high) in NUMBERS.items():
        if value.get(key) is not None:
            number = _number(value[key], f"style.{key}", low, high, problems)
            if number is not None:
                out[key] = number
    if value.get("label") is not None:
        label = _field_or_fields(value["label"], "style.label", published, problems)
        if label is not None:
            out["label"] = label
    if value.get("categories") is not None:
        categories = _categories(value["categories"], published, problems)
        if categories is not None:
            out["categories"] = categories
    if value.get("sld") is not None:
        sld = _sld_file(value["sld"], base, layer_id, problems)
        if sld is not None:
            out["sld"] = sld
    return out


def _raster_style(value: dict[str, Any], problems: Problems) -> dict[str, Any]:
    out: dict[str, Any] = {}
    name = value.get("colormap")
    if name is not None:
        from geoportal.storage.raster_tiles import colormaps  # rio-tiler: only for rasters

        known = colormaps()
        if not isinstance(name, str) or name.strip().lower() not in known:
            problems.add("{origin}: '{key}' {value} is not a colormap; use one of {names}, ...",
                         key="style.colormap", value=repr(str(name)[:40]),
                         names=", ".join(n for n in ("viridis", "inferno", "magma", "plasma",
                                                     "cividis", "greys", "blues", "ylorrd",
                                                     "rdylgn", "terrain") if n in known))
        else:
            out["colormap"] = name.strip().lower()
    bounds = value.get("range")
    if bounds is not None:
        if (not isinstance(bounds, list) or len(bounds) != 2
                or not all(_is_number(v) and math.isfinite(v) for v in bounds)
                or not bounds[0] < bounds[1]):
            problems.add("{origin}: '{key}' must be two numbers, the lower first: [low, high]",
                         key="style.range")
        else:
            out["range"] = [float(bounds[0]), float(bounds[1])]
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _colour(value: Any, key: str, problems: Problems) -> str | None:
    """``#rrggbb`` (lower case) from ``#rgb`` or ``#rrggbb``; None, noted, when not one."""
    if isinstance(value, str) and _COLOUR.match(value.strip()):
        text = value.strip().lower()
        if len(text) == 4:
            text = "#" + "".join(c * 2 for c in text[1:])
        return text
    problems.add("{origin}: '{key}' {value} is not a colour #rrggbb", key=key,
                 value=repr(str(value)[:40]))
    return None


def _number(value: Any, key: str, low: float, high: float, problems: Problems
            ) -> float | None:
    if _is_number(value) and math.isfinite(value) and low <= value <= high:
        return float(value)
    problems.add("{origin}: '{key}' must be a number from {low} to {high}", key=key,
                 low=f"{low:g}", high=f"{high:g}")
    return None


def _field_or_fields(value: Any, key: str, published: Callable[[str], str],
                     problems: Problems) -> str | dict[str, str] | None:
    """A field name, or ``{be, ru, en}`` of field names (any of them), as published."""
    if isinstance(value, str) and 0 < len(value.strip()) <= FIELD_NAME_LIMIT:
        return published(value.strip())
    if (isinstance(value, dict) and value and set(map(str, value)) <= set(LANGUAGES)
            and all(isinstance(v, str) and 0 < len(v.strip()) <= FIELD_NAME_LIMIT
                    for v in value.values())):
        return {str(lang): published(name.strip()) for lang, name in value.items()}
    problems.add("{origin}: '{key}' must be a field name or a mapping of be/ru/en to field "
                 "names", key=key)
    return None


def _category_value(value: Any, key: str, problems: Problems) -> Any:
    """A category's value: a text (one line), a number or true/false; None when wrong."""
    if isinstance(value, bool) or (_is_number(value) and math.isfinite(value)):
        return value
    if isinstance(value, str) and len(value) <= VALUE_LIMIT and not _CONTROL.search(value):
        return value
    problems.add("{origin}: '{key}' must be a text of one line (at most {limit} characters), "
                 "a number or true/false", key=key, limit=VALUE_LIMIT)
    return None


def value_text(value: Any) -> str:
    """A category value as the engine compares it with a field's text: ``true``, ``5``,
    ``2.5``, the text itself."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _categories(value: Any, published: Callable[[str], str], problems: Problems
                ) -> dict[str, Any] | None:
    key = "style.categories"
    if not isinstance(value, dict):
        problems.add("{origin}: '{key}' must be a mapping of {keys}", key=key,
                     keys=", ".join(_CATEGORY_KEYS))
        return None
    unknown = set(map(str, value)) - set(_CATEGORY_KEYS)
    if unknown:
        problems.add("{origin}: '{key}' has unknown keys {names}; allowed: {allowed}",
                     key=key, names=shown_names(unknown), allowed=str(sorted(_CATEGORY_KEYS)))
    field = value.get("field")
    if field is None:
        problems.add("{origin}: '{key}' is required", key=f"{key}.field")
    elif not isinstance(field, str) or not 0 < len(field.strip()) <= FIELD_NAME_LIMIT:
        problems.add("{origin}: '{key}' must be a field name", key=f"{key}.field")
        field = None
    entries = value.get("values")
    if (not isinstance(entries, list) or not entries or len(entries) > CATEGORY_LIMIT):
        problems.add("{origin}: '{key}' must list 1 to {most} values, each a mapping of value, "
                     "color and title", key=f"{key}.values", most=CATEGORY_LIMIT)
        entries = []
    values: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        where = f"{key}.values[{i}]"
        if not isinstance(entry, dict):
            problems.add("{origin}: '{key}' must be a mapping of value, color and title",
                         key=where)
            continue
        extra = set(map(str, entry)) - set(_VALUE_KEYS)
        if extra:
            problems.add("{origin}: '{key}' has unknown keys {names}; allowed: {allowed}",
                         key=where, names=shown_names(extra), allowed=str(sorted(_VALUE_KEYS)))
        if "value" not in entry:
            problems.add("{origin}: '{key}' is required", key=f"{where}.value")
            continue
        item = _category_value(entry["value"], f"{where}.value", problems)
        if item is None:
            continue
        text = value_text(item)
        if text in seen:
            problems.add("{origin}: '{key}' repeats the value {value} of values[{first}]",
                         key=f"{where}.value", value=repr(text[:40]), first=seen[text])
            continue
        seen[text] = i
        if entry.get("color") is None:
            problems.add("{origin}: '{key}' is required", key=f"{where}.color")
            continue
        colour = _colour(entry["color"], f"{where}.color", problems)
        title = (text_or_texts(entry["title"], f"{where}.title", TITLE_LIMIT, problems)
                 if entry.get("title") is not None else None)
        if colour:
            values.append({"value": item, "color": colour,
                           **({"title": title} if title is not None else {})})
    out: dict[str, Any] = {"field": published(field.strip()) if field else "",
                           "values": values}
    if "other" in value:
        other = value["other"]
        out["other"] = (None if other is None or (isinstance(other, str)
                                                  and other.strip().lower() == "none")
                        else _colour(other, f"{key}.other", problems))
    return out if field and values else None


# -- SLD ----------------------------------------------------------------------------------------

def _sld_file(value: Any, base: Path, layer_id: str, problems: Problems) -> str | None:
    """The text of the SLD file ``value`` beside the manifest, its one NamedLayer renamed to
    ``layer_id``; None, noted, when it is missing, too large or not an SLD the portal takes."""
    key = "style.sld"
    if not isinstance(value, str) or not value.strip() or _CONTROL.search(value):
        problems.add("{origin}: '{key}' must be the name of an SLD file beside the manifest",
                     key=key)
        return None
    name = value.strip()
    shown = repr(name[:80])
    try:
        folder = base.resolve()
        path = (folder / name).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        path = folder = base
    if Path(name).is_absolute() or not path.is_relative_to(folder) or path == folder:
        problems.add("{origin}: '{key}' {name} must be a file in the manifest's folder",
                     key=key, name=shown)
        return None
    try:
        if not path.is_file():  # a folder, a pipe or a device is no SLD file
            raise FileNotFoundError(path)
        size = path.stat().st_size
        if size > SLD_MAX_BYTES:
            problems.add("{origin}: '{key}' {name} is {size} bytes; at most {limit}", key=key,
                         name=shown, size=f"{size:,}", limit=f"{SLD_MAX_BYTES:,}")
            return None
        with path.open("rb") as file:
            raw = file.read(SLD_MAX_BYTES + 1)  # the cap holds if it grew meanwhile
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        problems.add("{origin}: '{key}' {name}: no such file beside the manifest", key=key,
                     name=shown)
        return None
    except OSError as exc:
        problems.add("{origin}: '{key}' {name} cannot be read: {error}", key=key, name=shown,
                     error=exc.strerror or type(exc).__name__)
        return None
    try:
        return str(etree.tostring(parse_sld(raw, layer_id), encoding="unicode"))
    except SldRefused as refused:
        problems.add(refused.template, key=key, name=shown, **refused.values)
        return None


def _sld_parser() -> etree.XMLParser:
    return etree.XMLParser(**_SLD_PARSER_OPTIONS)


def parse_sld(raw: str | bytes, layer_id: str) -> etree._Element:
    """An SLD 1.0.0 document of one NamedLayer with a UserStyle, its layer renamed to
    ``layer_id``; SldRefused when ``raw`` is not one, has a DTD, a UserLayer, or points at
    another file or address (an ``OnlineResource``: external graphics, remote styles)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if len(raw) > SLD_MAX_BYTES:
        raise SldRefused("{origin}: '{key}' {name} is {size} bytes; at most {limit}",
                         size=f"{len(raw):,}", limit=f"{SLD_MAX_BYTES:,}")
    try:
        root = etree.fromstring(raw, _sld_parser())
    except etree.XMLSyntaxError as exc:
        raise SldRefused("{origin}: '{key}' {name} is not well-formed XML: {error}",
                         error=str(exc)[:200]) from None
    if root.getroottree().docinfo.doctype:
        raise SldRefused("{origin}: '{key}' {name} has a DOCTYPE; an SLD needs none: remove it")
    named = root.findall(f"{{{SLD_NS}}}NamedLayer")
    if (root.tag != f"{{{SLD_NS}}}StyledLayerDescriptor" or root.get("version") != "1.0.0"
            or len(named) != 1 or root.find(f"{{{SLD_NS}}}UserLayer") is not None
            or named[0].find(f"{{{SLD_NS}}}UserStyle") is None):
        raise SldRefused("{origin}: '{key}' {name} is not an SLD 1.0.0 document with one "
                         "NamedLayer and its UserStyle")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if (etree.QName(element).localname in ("OnlineResource", "RemoteOWS")
                or any(attr.startswith(_XLINK) for attr in element.attrib)):
            raise SldRefused("{origin}: '{key}' {name} refers to another file or address "
                             "({element}); the map engine reads none",
                             element=etree.QName(element).localname)
    layer = named[0]
    name = layer.find(f"{{{SLD_NS}}}Name")
    if name is None:
        name = etree.Element(f"{{{SLD_NS}}}Name")
        layer.insert(0, name)
    name.text = layer_id
    return root


def _property_names(sld: str) -> list[str]:
    """The field names an SLD's filters and labels read (``ogc:PropertyName``)."""
    try:
        root = etree.fromstring(sld.encode("utf-8"), _sld_parser())
    except etree.XMLSyntaxError:
        return []
    return sorted({(element.text or "").strip() for element in root.iter()
                   if isinstance(element.tag, str)
                   and etree.QName(element).localname == "PropertyName"} - {""})


# -- against the layer's fields -----------------------------------------------------------------

def find_field(fields: Sequence[Field], wanted: str) -> Field | None:
    """A field named as published, as in the source (its original title) or by one of its
    titles, the last two compared folded (case, ё, і/и), as ``title_field`` is found."""
    return (next((f for f in fields if f.name == wanted), None)
            or next((f for f in fields if f.title == wanted), None)
            or next((f for f in fields if fold(f.title or "") == fold(wanted)
                     or any(fold(t) == fold(wanted) for t in (f.titles or {}).values())),
                    None))


def style_field_problems(style: dict[str, Any] | None, fields: Sequence[Field]
                         ) -> list[tuple[str, dict[str, Any]]]:
    """What a vector layer's style names that its fields do not have (its label's fields, the
    categories' field, an SLD's property names), and category values that are not numbers
    for a field of numbers: each a message id with ``{origin}`` and its values."""
    if not style:
        return []
    problems: list[tuple[str, dict[str, Any]]] = []
    names = ", ".join(f.name for f in fields)[:600]

    def missing(key: str, name: str) -> None:
        problems.append(("{origin}: '{key}' names the field {name}, which the layer does not "
                         "have; its fields are: {fields}",
                         {"key": key, "name": repr(name[:80]), "fields": names}))

    label = style.get("label")
    wanted = label.items() if isinstance(label, dict) else [("", label)] if label else []
    for lang, name in wanted:
        if find_field(fields, str(name)) is None:
            missing(f"style.label.{lang}" if lang else "style.label", str(name))
    categories = style.get("categories")
    if isinstance(categories, dict) and categories.get("field"):
        field = find_field(fields, str(categories["field"]))
        if field is None:
            missing("style.categories.field", str(categories["field"]))
        elif field.type in ("integer", "number"):
            for i, entry in enumerate(categories.get("values") or []):
                value = entry.get("value")
                if isinstance(value, bool) or not _is_number(_as_number(value)):
                    problems.append((
                        "{origin}: '{key}' {value} is not a number, but the field {name} "
                        "holds numbers", {"key": f"style.categories.values[{i}].value",
                                          "value": repr(str(value)[:40]),
                                          "name": field.name}))
    if isinstance(style.get("sld"), str):
        published = {f.name for f in fields}
        for name in _property_names(style["sld"]):
            if name not in published:
                missing("style.sld", name)
    return problems


def _as_number(value: Any) -> Any:
    """A number given as text (``"5"``) as a number; anything else as it is."""
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    return value


def check_style_fields(style: dict[str, Any] | None, fields: Sequence[Field], origin: str
                       ) -> None:
    """SchemaError listing, a line each, what ``style_field_problems`` finds; called when
    a layer's fields are known (its data read, or its current version's)."""
    found = style_field_problems(style, fields)
    if not found:
        return
    raise SchemaError(_lines([tr(template, origin=origin, **values)
                              for template, values in found]))


def _lines(lines: list[Message]) -> Message:
    """Messages as one, a line each (each translated on its own)."""
    said = lines[-1]
    for line in reversed(lines[:-1]):
        said = tr("{first}\n{rest}", first=line, rest=said)
    return said
