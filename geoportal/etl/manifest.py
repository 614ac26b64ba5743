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
from geoportal.etl.romanize import detect_language, to_ascii_name

__all__ = ["FIELD_TYPES", "FieldRule", "Manifest", "SourceSpec", "build_manifest",
           "check_manifest", "load_manifest", "slugify"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Collection ids the portal uses itself (the catalog's records).
RESERVED_IDS = frozenset({"catalog"})
_SOURCE_KEYS = {"path", "crs", "encoding", "layer", "x_field", "y_field", "geometry_field",
                "id_field"}
_TOP_KEYS = {"id", "region", "theme", "title", "description", "keywords", "license",
             "attribution", "source", "fields"}
_FIELD_KEYS = {"name", "type", "title", "drop"}
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,58}$")
# The types a manifest may force on a field (as published: JSON Schema names).
FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "date-time")


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

    def options(self) -> dict[str, Any]:
        """The settings that change the output besides the file's bytes."""
        return {"crs": self.crs, "encoding": self.encoding, "layer": self.layer,
                "x_field": self.x_field, "y_field": self.y_field,
                "geometry_field": self.geometry_field, "id_field": self.id_field}


@dataclass(frozen=True)
class FieldRule:
    """What the manifest says about one source field: a new name, a forced type, a title."""

    name: str | None = None
    type: str | None = None
    title: str | None = None
    drop: bool = False
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
        return {**self.source.options(),
                "fields": {k: [v.name, v.type, v.title, v.drop]
                           for k, v in sorted(self.fields.items())}}


def slugify(text: str) -> str:
    """A layer id from a file or table name: lowercase ASCII letters, digits and dashes;
    Cyrillic is romanized (``Паліклінікі`` -> ``palikliniki``)."""
    ascii_name = to_ascii_name(text, detect_language([text]))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")
    return slug[:63].rstrip("-") or "layer"


class _Problems(list[str]):
    """Every wrong key of one manifest, so the admin fixes them all in one go."""

    def raise_if_any(self, origin: str) -> None:
        if self:
            raise SchemaError("\n".join(f"{origin}: {p}" for p in self))


def _texts(value: Any, key: str, problems: _Problems, *, required: bool) -> dict[str, str]:
    if value is None:
        if required:
            problems.append(f"'{key}' is required (a text or be/ru/en texts)")
        return {}
    if isinstance(value, str):
        return {lang: value.strip() for lang in LANGUAGES}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        problems.append(f"'{key}' must be a text or a mapping of be/ru/en to texts")
        return {}
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        problems.append(f"'{key}' has unknown languages {sorted(unknown)}; use be, ru, en")
    if required and not any(v.strip() for v in value.values()):
        problems.append(f"'{key}' is empty")
    return {k: v.strip() for k, v in value.items() if k in LANGUAGES}


def _keywords(value: Any, problems: _Problems) -> dict[str, list[str]]:
    if value is None:
        return {}
    if isinstance(value, list):
        return {lang: [str(v) for v in value] for lang in LANGUAGES}
    if isinstance(value, dict) and all(isinstance(v, list) for v in value.values()):
        return {str(k): [str(x) for x in v] for k, v in value.items() if k in LANGUAGES}
    problems.append("'keywords' must be a list or a mapping of be/ru/en to lists")
    return {}


def _field_rules(value: Any, problems: _Problems) -> dict[str, FieldRule]:
    """``fields:`` maps a source field to a new name, or to name/type/title/drop."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append("'fields' must map source field names to a new name or to "
                        "{name, type, title, drop}")
        return {}
    rules: dict[str, FieldRule] = {}
    for source, rule in value.items():
        where = f"fields.{source}"
        if rule is None or rule is False:
            rules[str(source)] = FieldRule(drop=True)
            continue
        if isinstance(rule, str):
            rule = {"name": rule}
        if not isinstance(rule, dict):
            problems.append(f"'{where}' must be a new name or a mapping of name/type/title/drop")
            continue
        unknown = set(rule) - _FIELD_KEYS
        if unknown:
            problems.append(f"'{where}' has unknown keys {sorted(unknown)}; "
                            f"allowed: {sorted(_FIELD_KEYS)}")
        name = rule.get("name")
        if name is not None and not _FIELD_NAME.match(str(name)):
            problems.append(f"'{where}.name' {name!r} must be lowercase ASCII letters, digits "
                            "and underscores, starting with a letter (at most 59)")
        type_ = rule.get("type")
        if type_ is not None and type_ not in FIELD_TYPES:
            problems.append(f"'{where}.type' {type_!r} is not one of {', '.join(FIELD_TYPES)}")
        rules[str(source)] = FieldRule(
            name=str(name) if name is not None else None,
            type=str(type_) if type_ is not None else None,
            title=str(rule["title"]) if rule.get("title") is not None else None,
            drop=bool(rule.get("drop", False)),
        )
    return rules


def build_manifest(data: dict[str, Any], *, base: Path, origin: str) -> Manifest:
    """Check a manifest mapping and resolve its source path against ``base``.

    Raises one SchemaError listing every wrong key, one line each.
    """
    problems = _Problems()
    unknown = set(data) - _TOP_KEYS
    if unknown:
        problems.append(f"unknown keys {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}")
    layer_id = str(data.get("id") or "")
    if not _SLUG.match(layer_id):
        problems.append(f"id {layer_id!r} must be 1-63 lowercase letters, digits or dashes")
    elif layer_id in RESERVED_IDS:
        problems.append(f"id {layer_id!r} is the portal's own collection; choose another")
    for key in ("region", "theme"):
        if not data.get(key):
            problems.append(f"'{key}' is required")
    source = data.get("source")
    if isinstance(source, str):
        source = {"path": source}
    if not isinstance(source, dict) or not source.get("path"):
        problems.append("'source.path' is required (the data file, relative to the manifest)")
        source = {}
    unknown = set(source) - _SOURCE_KEYS
    if unknown:
        problems.append(f"unknown source keys {sorted(unknown)}; allowed: "
                        f"{sorted(_SOURCE_KEYS)}")
    for key in ("license", "attribution"):
        if data.get(key) is not None and not isinstance(data[key], str):
            problems.append(f"'{key}' must be a text")
    meta = LayerMetadata(
        id=layer_id,
        region=str(data.get("region") or ""),
        theme=str(data.get("theme") or ""),
        title=_texts(data.get("title"), "title", problems, required=True),
        description=_texts(data.get("description"), "description", problems, required=False),
        keywords=_keywords(data.get("keywords"), problems),
        license=data.get("license"),
        attribution=data.get("attribution"),
    )
    fields = _field_rules(data.get("fields"), problems)
    problems.raise_if_any(origin)
    spec = SourceSpec(
        path=(base / str(source["path"])).resolve(),
        **{k: (str(v) if v is not None else None) for k, v in source.items()
           if k in _SOURCE_KEYS and k != "path"},
    )
    return Manifest(meta=meta, source=spec, fields=fields, origin=origin)


def load_manifest(path: Path) -> Manifest:
    """Read ``path`` as a layer manifest; SchemaError names the file and the problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemaError(f"{path}: manifest not found") from None
    except UnicodeDecodeError:
        raise SchemaError(f"{path}: a manifest must be UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise SchemaError(f"{path}: not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise SchemaError(f"{path}: a manifest must be a YAML mapping (id, region, theme, ...)")
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
