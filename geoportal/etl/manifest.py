"""Layer manifests: ``layers/<region>/<layer>.yaml`` says what a file is and how to publish it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from geoportal.catalog.models import LANGUAGES, LayerMetadata
from geoportal.catalog.registry import Registry
from geoportal.errors import SchemaError
from geoportal.etl.manifest_texts import shown_names, text_or_texts, too_long
from geoportal.etl.romanize import detect_language, to_ascii_name
from geoportal.etl.styles import parse_style
from geoportal.i18n import Message, tr

__all__ = ["FIELD_TYPES", "LIMITS", "FieldRule", "Manifest", "SourceSpec", "build_manifest",
           "check_manifest", "load_manifest", "parse_manifest_text", "slugify"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Collection ids the portal uses itself (the catalog's records).
RESERVED_IDS = frozenset({"catalog"})
_SOURCE_KEYS = {"path", "crs", "encoding", "layer", "x_field", "y_field", "geometry_field",
                "id_field", "split_geometry", "header_row"}
# Source keys whose value is a row number (1-based), not text; the furthest row allowed.
_ROW_KEYS = {"header_row"}
HEADER_ROW_MAX = 1000
# Source keys whose value is yes/no, not text.
_FLAG_KEYS = {"split_geometry"}
_TOP_KEYS = {"id", "region", "theme", "title", "description", "keywords", "license",
             "attribution", "source", "fields", "search", "title_field", "unit", "series",
             "basemap", "style"}
# The keys the viewer reads (issue 19) and the map engine's ``style`` (issue 20, checked in
# etl/styles.py): LayerMetadata.view, metadata only (no new version)
VIEW_KEYS = ("title_field", "unit", "series", "basemap", "style")
_SERIES_KEYS = {"id", "label"}
# ``search:``: the layer's features are places of the portal's search box (issue 19)
_SEARCH_KEYS = {"kind", "name_fields", "population_field"}
SEARCH_KINDS = ("oblast", "city", "raion", "settlement", "station", "stop", "place")
_FIELD_KEYS = {"name", "type", "title", "drop"}
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,58}$")
# The types a manifest may force on a field (as published: JSON Schema names).
FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "date-time")
# How large a layer's texts may be. Every page, /collections and every catalog search carries
# them for every visitor, so one layer must not be able to make them megabytes (issue 15: a
# 329-byte manifest of nested YAML anchors made /collections 6.2 MB). Generous for real
# metadata: the longest sample description is under 400 characters.
LIMITS = {
    "manifest_bytes": 64 * 1024,  # the whole file or form field
    "title": 200,  # characters, per language
    "description": 4000,  # characters, per language
    "keywords": 30,  # per language
    "keyword": 64,  # characters, each
    "license": 200,
    "attribution": 500,
    "fields": 500,  # entries of `fields:`
    "field_title": 200,
    "unit": 40,  # characters, per language (issue 19)
    "series_label": 100,  # characters, per language
    "source_value": 1024,  # source.path, source.layer, ... (characters)
}


@dataclass(frozen=True)
class SourceSpec:
    """Where the data is and what the file itself does not say."""

    path: Path
    crs: str | None = None
    encoding: str | None = None
    layer: str | None = None
    x_field: str | None = None
    y_field: str | None = None
    geometry_field: str | None = None  # a column of WKT (CSV, XLSX)
    id_field: str | None = None  # the source's own feature id: duplicates are set aside
    # One layer per geometry family (<id>-points, -lines, -polygons) when the source mixes
    # them; else the dominant family is published and the others set aside (etl.census).
    split_geometry: bool = False
    # Set on each layer of a split: the family it keeps (Point, Line, Polygon); the
    # features of other families belong to the other layers.
    geometry_family: str | None = None
    # The row of a CSV/XLSX/ODS table holding the column names (1-based); None: found by
    # etl.sheets (the first row of names above rows of data).
    header_row: int | None = None

    def options(self) -> dict[str, Any]:
        """The settings that change the output besides the file's bytes."""
        options: dict[str, Any] = {"crs": self.crs, "encoding": self.encoding, "layer": self.layer,
                   "x_field": self.x_field, "y_field": self.y_field,
                   "geometry_field": self.geometry_field, "id_field": self.id_field}
        if self.header_row is not None:  # only then: older versions stay "unchanged"
            options["header_row"] = self.header_row
        if self.geometry_family is not None:  # only then: older versions stay "unchanged"
            options["geometry_family"] = self.geometry_family
        return options


@dataclass(frozen=True)
class FieldRule:
    """What the manifest says about one source field: a new name, a forced type, a title."""

    name: str | None = None
    type: str | None = None
    title: str | None = None
    drop: bool = False
    # ``title: {be, ru, en}`` (issue 19): the title per language; ``title`` is then None and
    # the field keeps its original name as its title
    titles: dict[str, str] | None = None
    why: str = "dropped by the manifest"  # the report's words when the field is dropped


@dataclass(frozen=True)
class Manifest:
    """A layer's metadata plus its source; ``origin`` names the file it came from."""

    meta: LayerMetadata
    source: SourceSpec
    fields: dict[str, FieldRule] = field(default_factory=dict)
    origin: str = field(default="(command line)")

    def options(self) -> dict[str, Any]:
        """Everything besides the file's bytes that changes what gets published."""
        # per-language titles only when given: older versions stay "unchanged"; the view
        # keys (meta.view) are not here: a change of them is saved as metadata only
        return {**self.source.options(),
                "fields": {k: [v.name, v.type, v.title, v.drop,
                               *([dict(sorted(v.titles.items()))] if v.titles else [])]
                           for k, v in sorted(self.fields.items())}}


def slugify(text: str) -> str:
    """A layer id from a file or table name: lowercase ASCII letters, digits and dashes;
    Cyrillic is romanized (``Паліклінікі`` -> ``palikliniki``)."""
    ascii_name = to_ascii_name(text, detect_language([text]))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")
    return slug[:63].rstrip("-") or "layer"


class _Problems(list[tuple[str, dict[str, Any]]]):
    """Every wrong key of one manifest, so the admin fixes them all in one go: each a message
    id starting ``{origin}: `` and its values, the file named once it is known."""

    def add(self, template: str, /, **values: Any) -> None:
        """Note a problem: ``template`` (a message id with ``{origin}``) and its values."""
        self.append((template, values))

    def message(self, origin: str) -> Message:
        """The problems as one message, a line each, every line naming ``origin``."""
        lines = [tr(template, origin=origin, **values) for template, values in self]
        said = lines[-1]
        for line in reversed(lines[:-1]):
            said = tr("{first}\n{rest}", first=line, rest=said)
        return said

    def raise_if_any(self, origin: str) -> None:
        """SchemaError listing every problem noted, if there is one."""
        if self:
            raise SchemaError(self.message(origin))


def _texts(value: Any, key: str, problems: _Problems, *, required: bool) -> dict[str, str]:
    if value is None:
        if required:
            problems.add("{origin}: '{key}' is required (a text or be/ru/en texts)", key=key)
        return {}
    if isinstance(value, str):
        value = {lang: value for lang in LANGUAGES}
        if len(value["en"].strip()) > LIMITS[key]:  # one text for all: say it once
            too_long(key, value["en"], LIMITS[key], problems)
            return {}
    elif not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        problems.add("{origin}: '{key}' must be a text or a mapping of be/ru/en to texts",
                     key=key)
        return {}
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        problems.add("{origin}: '{key}' has unknown languages {names}; use be, ru, en",
                     key=key, names=shown_names(unknown))
    if required and not any(v.strip() for v in value.values()):
        problems.add("{origin}: '{key}' is empty", key=key)
    out = {k: v.strip() for k, v in value.items() if k in LANGUAGES}
    for lang, text in out.items():
        too_long(f"{key}.{lang}", text, LIMITS[key], problems)
    return out


def _keywords(value: Any, problems: _Problems) -> dict[str, list[str]]:
    """Keywords per language: texts (numbers are taken as text), at most ``LIMITS["keywords"]``
    per language of at most ``LIMITS["keyword"]`` characters each."""
    if value is None:
        return {}
    if isinstance(value, list):
        lists, shared = {lang: value for lang in LANGUAGES}, True
    elif isinstance(value, dict) and all(isinstance(v, list) for v in value.values()):
        lists, shared = {str(k): v for k, v in value.items() if k in LANGUAGES}, False
        unknown = set(map(str, value)) - set(LANGUAGES)
        if unknown:
            problems.add("{origin}: '{key}' has unknown languages {names}; use be, ru, en",
                         key="keywords", names=shown_names(unknown))
    else:
        problems.add("{origin}: 'keywords' must be a list or a mapping of be/ru/en to lists")
        return {}
    out: dict[str, list[str]] = {}
    for lang, items in lists.items():
        where = "keywords" if shared else f"keywords.{lang}"
        fine = len(items) <= LIMITS["keywords"]
        if not fine:
            problems.add("{origin}: '{key}' has {n} keywords; at most {limit}", key=where,
                         n=f"{len(items):,}", limit=LIMITS["keywords"])
        for i, item in enumerate(items[:LIMITS["keywords"]]):
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                problems.add("{origin}: '{key}' must be a text", key=f"{where}[{i}]")
                fine = False
            elif too_long(f"{where}[{i}]", str(item).strip(), LIMITS["keyword"], problems):
                fine = False
        out[lang] = [str(item).strip() for item in items] if fine else []
        if shared:  # one list for every language: its problems are said once
            return {code: list(out[lang]) for code in LANGUAGES}
    return out


def _search(value: Any, problems: _Problems) -> dict[str, Any] | None:
    """``search: {kind, name_fields, population_field}``: the features are places of the
    search box (``geoportal.search``); the fields as published or as in the source."""
    if value is None:
        return None
    if not isinstance(value, dict):
        problems.add("{origin}: 'search' must be a mapping of kind, name_fields and "
                     "population_field")
        return None
    unknown = set(map(str, value)) - _SEARCH_KEYS
    if unknown:
        problems.add("{origin}: unknown search keys {names}; allowed: {allowed}",
                     names=shown_names(unknown), allowed=str(sorted(_SEARCH_KEYS)))
    kind = value.get("kind", "place")
    if kind not in SEARCH_KINDS:
        problems.add("{origin}: 'search.kind' {value} is not one of {kinds}",
                     value=repr(str(kind)[:40]), kinds=", ".join(SEARCH_KINDS))
    names = value.get("name_fields")
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not names or len(names) > 10 or not all(
            isinstance(n, str) and 0 < len(n) <= 200 for n in names):
        problems.add("{origin}: 'search.name_fields' must list 1 to 10 field names")
        names = []
    population = value.get("population_field")
    if population is not None and (not isinstance(population, str) or len(population) > 200):
        problems.add("{origin}: 'search.population_field' must be a field name")
        population = None
    out: dict[str, Any] = {"kind": str(kind), "name_fields": [str(n) for n in names]}
    if population:
        out["population_field"] = population
    return out


def _field_name_or_names(value: Any, problems: _Problems) -> str | dict[str, str] | None:
    """``title_field``: one field name, or ``{be, ru, en}`` of field names (any subset)."""
    if value is None:
        return None
    if isinstance(value, str) and 0 < len(value.strip()) <= 200:
        return value.strip()
    if (isinstance(value, dict) and value and set(map(str, value)) <= set(LANGUAGES)
            and all(isinstance(v, str) and 0 < len(v.strip()) <= 200 for v in value.values())):
        return {str(lang): name.strip() for lang, name in value.items()}
    problems.add("{origin}: 'title_field' must be a field name or a mapping of be/ru/en to "
                 "field names")
    return None


def _view(data: dict[str, Any], rules: dict[str, FieldRule], problems: _Problems, *,
          base: Path, raster: bool) -> dict[str, Any] | None:
    """The keys the viewer reads (issue 19) and the map engine's ``style`` (issue 20), as
    ``LayerMetadata.view``: only those given.

    ``title_field`` names a field as published or as in the source; a source field the
    ``fields:`` rules rename is stored under its new name (the source's name is gone once a
    rule gives it a title). ``style`` is checked by ``geoportal.etl.styles`` (``base``: the
    manifest's folder, where an SLD file is; ``raster``: the source is a raster)."""
    view: dict[str, Any] = {}
    title_field = _field_name_or_names(data.get("title_field"), problems)

    def published(name: str) -> str:
        rule = rules.get(name)
        return rule.name if rule is not None and rule.name else name

    if isinstance(title_field, str):
        view["title_field"] = published(title_field)
    elif title_field is not None:
        view["title_field"] = {lang: published(name) for lang, name in title_field.items()}
    unit = text_or_texts(data.get("unit"), "unit", LIMITS["unit"], problems)
    if unit is not None:
        view["unit"] = unit
    series = data.get("series")
    if series is not None:
        if not isinstance(series, dict):
            problems.add("{origin}: 'series' must be a mapping of id and label")
        else:
            unknown = set(map(str, series)) - _SERIES_KEYS
            if unknown:
                problems.add("{origin}: '{key}' has unknown keys {names}; allowed: {allowed}",
                             key="series", names=shown_names(unknown),
                             allowed=str(sorted(_SERIES_KEYS)))
            series_id = str(series.get("id") or "")
            if not _SLUG.match(series_id):
                problems.add("{origin}: 'series.id' {id} must be 1-63 lowercase letters, "
                             "digits or dashes", id=repr(series_id[:80]))
            label = text_or_texts(series.get("label"), "series.label",
                                   LIMITS["series_label"], problems)
            if series.get("label") is None:
                problems.add("{origin}: '{key}' is required (a text or be/ru/en texts)",
                             key="series.label")
            if _SLUG.match(series_id) and label is not None and not unknown:
                view["series"] = {"id": series_id, "label": label}
    basemap = data.get("basemap")
    if basemap is not None:
        if not isinstance(basemap, bool):
            problems.add("{origin}: '{key}' must be true or false", key="basemap")
        else:
            view["basemap"] = basemap
    style = parse_style(data.get("style"), raster=raster, base=base,
                        layer_id=str(data.get("id") or ""), published=published,
                        problems=problems)
    if style is not None:
        view["style"] = style
    return view or None


def _field_rules(value: Any, problems: _Problems) -> dict[str, FieldRule]:
    """``fields:`` maps a source field to a new name, or to name/type/title/drop."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add("{origin}: 'fields' must map source field names to a new name or to "
                     "{keys}", keys="{name, type, title, drop}")
        return {}
    if len(value) > LIMITS["fields"]:
        problems.add("{origin}: 'fields' has {n} entries; at most {limit}",
                     n=f"{len(value):,}", limit=LIMITS["fields"])
        return {}
    rules: dict[str, FieldRule] = {}
    for source, rule in value.items():
        where = f"fields.{str(source)[:80]}"
        if rule is None or rule is False:
            rules[str(source)] = FieldRule(drop=True)
            continue
        if isinstance(rule, str):
            rule = {"name": rule}
        if not isinstance(rule, dict):
            problems.add("{origin}: '{key}' must be a new name or a mapping of "
                         "name/type/title/drop", key=where)
            continue
        unknown = set(rule) - _FIELD_KEYS
        if unknown:
            problems.add("{origin}: '{key}' has unknown keys {names}; allowed: {allowed}",
                         key=where, names=shown_names(unknown), allowed=str(sorted(_FIELD_KEYS)))
        name = rule.get("name")
        if name is not None and not _FIELD_NAME.match(str(name)):
            problems.add("{origin}: '{key}' {name} must be lowercase ASCII letters, digits and "
                         "underscores, starting with a letter (at most 59)",
                         key=f"{where}.name", name=repr(str(name)[:80]))
        type_ = rule.get("type")
        if type_ is not None and type_ not in FIELD_TYPES:
            problems.add("{origin}: '{key}' {value} is not one of {types}",
                         key=f"{where}.type", value=repr(str(type_)[:40]),
                         types=", ".join(FIELD_TYPES))
        title = text_or_texts(rule.get("title"), f"{where}.title", LIMITS["field_title"],
                               problems)
        rules[str(source)] = FieldRule(
            name=str(name) if name is not None else None,
            type=str(type_) if type_ is not None else None,
            title=title if isinstance(title, str) else None,
            drop=bool(rule.get("drop", False)),
            titles=title if isinstance(title, dict) else None,
        )
    return rules


def build_manifest(data: dict[str, Any], *, base: Path, origin: str) -> Manifest:
    """Check a manifest mapping and resolve its source path against ``base``.

    Raises one SchemaError listing every wrong key, one line each.
    """
    problems = _Problems()
    unknown = set(data) - _TOP_KEYS
    if unknown:
        problems.add("{origin}: unknown keys {names}; allowed: {allowed}",
                     names=shown_names(unknown), allowed=str(sorted(_TOP_KEYS)))
    layer_id = str(data.get("id") or "")
    if not _SLUG.match(layer_id):
        problems.add("{origin}: id {id} must be 1-63 lowercase letters, digits or dashes",
                     id=repr(layer_id[:80]))
    elif layer_id in RESERVED_IDS:
        problems.add("{origin}: id {id} is the portal's own collection; choose another",
                     id=repr(layer_id))
    for key in ("region", "theme"):
        if not data.get(key):
            problems.add("{origin}: '{key}' is required", key=key)
    source = data.get("source")
    if isinstance(source, str):
        source = {"path": source}
    if not isinstance(source, dict) or not source.get("path"):
        problems.add("{origin}: 'source.path' is required (the data file, relative to the "
                     "manifest)")
        source = {}
    unknown = set(source) - _SOURCE_KEYS
    if unknown:
        problems.add("{origin}: unknown source keys {names}; allowed: {allowed}",
                     names=shown_names(unknown), allowed=str(sorted(_SOURCE_KEYS)))
    for key in sorted(_FLAG_KEYS & set(source)):
        if not isinstance(source[key], bool):
            problems.add("{origin}: '{key}' must be true or false", key=f"source.{key}")
    for key in sorted(_ROW_KEYS & set(source)):
        row = source[key]
        if row is not None and (isinstance(row, bool) or not isinstance(row, int)
                                or not 1 <= row <= HEADER_ROW_MAX):
            # header_row is the only row key: the message names it
            problems.add("{origin}: 'source.header_row' must be a row number from 1 to {limit}",
                         limit=HEADER_ROW_MAX)
    for key in sorted(_SOURCE_KEYS & set(source)):
        if source[key] is not None:
            too_long(f"source.{key}", str(source[key]), LIMITS["source_value"], problems)
    for key in ("region", "theme"):
        if data.get(key) is not None:
            too_long(key, str(data[key]), 64, problems)
    for key in ("license", "attribution"):
        if data.get(key) is not None and not isinstance(data[key], str):
            problems.add("{origin}: '{key}' must be a text", key=key)
        elif data.get(key) is not None:
            too_long(key, data[key], LIMITS[key], problems)
    meta = LayerMetadata(
        id=layer_id,
        region=str(data.get("region") or ""),
        theme=str(data.get("theme") or ""),
        title=_texts(data.get("title"), "title", problems, required=True),
        description=_texts(data.get("description"), "description", problems, required=False),
        keywords=_keywords(data.get("keywords"), problems),
        license=data.get("license"),
        attribution=data.get("attribution"),
        search=_search(data.get("search"), problems),
    )
    fields = _field_rules(data.get("fields"), problems)
    from geoportal.etl.coverage import is_raster  # (coverage imports this module)

    meta.view = _view(data, fields, problems, base=base,
                      raster=is_raster(Path(str(source.get("path") or ""))))
    problems.raise_if_any(origin)
    settings: dict[str, Any] = {k: (str(v) if v is not None else None)
                                for k, v in source.items()
                                if k in _SOURCE_KEYS - _FLAG_KEYS - _ROW_KEYS and k != "path"}
    settings.update({k: int(source[k]) for k in _ROW_KEYS & set(source)
                     if source[k] is not None})
    settings.update({k: bool(source[k]) for k in _FLAG_KEYS & set(source)})
    spec = SourceSpec(path=(base / str(source["path"])).resolve(), **settings)
    return Manifest(meta=meta, source=spec, fields=fields, origin=origin)


class _AliasRefused(yaml.composer.ComposerError):  # type: ignore[misc]  # PyYAML: no stubs
    """An anchor or alias in a manifest."""


class _PlainLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no type stubs
    """PyYAML's safe loader without anchors and aliases (``&a``, ``*a``, ``<<: *a``).

    A manifest has no use for them, and they are how a few hundred bytes expand to gigabytes
    ("billion laughs"): refusing them keeps a document's size the size of its data."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _AliasRefused(
                None, None, "YAML anchors and aliases (&name, *name) are not allowed in a "
                "manifest; write the values out", event.start_mark)
        return super().compose_node(parent, index)


def parse_manifest_text(raw: str | bytes, origin: str) -> dict[str, Any]:
    """A manifest's text (YAML or JSON) as a mapping, bounded: at most
    ``LIMITS["manifest_bytes"]``, no anchors or aliases, no absurd nesting.

    Raises SchemaError naming ``origin`` (the file as the admin named it, or the form field)
    and the line at fault.
    """
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    if size > LIMITS["manifest_bytes"]:
        raise SchemaError(tr("{origin}: the manifest is {size} bytes; at most {limit} (a "
                             "manifest describes a layer, the data goes in the data file)",
                             origin=origin, size=f"{size:,}",
                             limit=f"{LIMITS['manifest_bytes']:,}"))
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SchemaError(tr("{origin}: a manifest must be UTF-8 text",
                                 origin=origin)) from None
    try:
        data = yaml.load(raw, Loader=_PlainLoader)  # a SafeLoader: no Python objects
    except yaml.YAMLError as exc:
        raise SchemaError(_yaml_problem(exc, origin)) from None
    except RecursionError:
        raise SchemaError(tr("{origin}: the manifest is nested too deeply",
                             origin=origin)) from None
    if not isinstance(data, dict):
        raise SchemaError(tr("{origin}: a manifest must be a YAML mapping (id, region, theme, "
                             "...)", origin=origin))
    return data


def _yaml_problem(exc: yaml.YAMLError, origin: str) -> Message:
    """What PyYAML refused, and at which line when it says so (its own words in English)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "syntax error"
    if isinstance(exc, _AliasRefused):  # problem: the sentence _PlainLoader raised
        if mark is not None:
            return tr("{origin} at line {line}: YAML anchors and aliases (&name, *name) are not "
                      "allowed in a manifest; write the values out", origin=origin,
                      line=mark.line + 1)
        return tr("{origin}: YAML anchors and aliases (&name, *name) are not allowed in a "
                  "manifest; write the values out", origin=origin)
    if mark is not None:
        return tr("{origin}: not valid YAML at line {line}: {error}", origin=origin,
                  line=mark.line + 1, error=problem)
    return tr("{origin}: not valid YAML: {error}", origin=origin, error=problem)


def load_manifest(path: Path) -> Manifest:
    """Read ``path`` as a layer manifest; SchemaError names the file and the problem."""
    try:
        if path.stat().st_size > LIMITS["manifest_bytes"]:
            raise SchemaError(tr("{origin}: the manifest is {size} bytes; at most {limit}",
                                 origin=str(path), size=f"{path.stat().st_size:,}",
                                 limit=f"{LIMITS['manifest_bytes']:,}"))
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SchemaError(tr("{origin}: manifest not found", origin=str(path))) from None
    data = parse_manifest_text(raw, str(path))
    return build_manifest(data, base=path.parent, origin=str(path))


def check_manifest(path: Path, registry: Registry) -> list[str]:
    """Every problem of one manifest file, one line each (empty when it is fine): its keys,
    its region and theme against the registers, and whether its source file exists."""
    try:
        manifest = load_manifest(path)
    except SchemaError as exc:
        return str(exc).splitlines()
    problems = []
    if manifest.meta.region not in registry.regions:
        problems.append(f"{path}: region {manifest.meta.region!r} is not a SOATO code in "
                        "config/regions.yaml")
    if manifest.meta.theme not in registry.themes:
        problems.append(f"{path}: theme {manifest.meta.theme!r} is not one of "
                        f"{', '.join(sorted(registry.themes))}")
    if not manifest.source.path.exists():
        problems.append(f"{path}: source.path {manifest.source.path} does not exist")
    return problems
