"""Layer manifests: ``layers/<region>/<layer>.yaml`` says what a file is and how to publish it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from geoportal.catalog.models import LANGUAGES, LayerMetadata
from geoportal.errors import SchemaError

__all__ = ["Manifest", "SourceSpec", "load_manifest", "slugify"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_SOURCE_KEYS = {"path", "crs", "encoding", "layer", "x_field", "y_field", "geometry_field",
                "id_field"}
_TOP_KEYS = {"id", "region", "theme", "title", "description", "keywords", "license",
             "attribution", "source"}


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
class Manifest:
    """A layer's metadata plus its source; ``origin`` names the file it came from."""

    meta: LayerMetadata
    source: SourceSpec
    origin: str = field(default="(command line)")


def slugify(text: str) -> str:
    """A layer id from a file name: lowercase ASCII letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:63] or "layer"


def _texts(value: Any, key: str, origin: str, *, required: bool) -> dict[str, str]:
    if value is None:
        if required:
            raise SchemaError(f"{origin}: '{key}' is required (a text or be/ru/en texts)")
        return {}
    if isinstance(value, str):
        return {lang: value for lang in LANGUAGES}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise SchemaError(f"{origin}: '{key}' must be a text or a mapping of be/ru/en to texts")
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        raise SchemaError(
            f"{origin}: '{key}' has unknown languages {sorted(unknown)}; use be, ru, en"
        )
    if required and not any(v.strip() for v in value.values()):
        raise SchemaError(f"{origin}: '{key}' is empty")
    return {k: v.strip() for k, v in value.items()}


def _keywords(value: Any, origin: str) -> dict[str, list[str]]:
    if value is None:
        return {}
    if isinstance(value, list):
        return {lang: [str(v) for v in value] for lang in LANGUAGES}
    if isinstance(value, dict) and all(isinstance(v, list) for v in value.values()):
        return {str(k): [str(x) for x in v] for k, v in value.items() if k in LANGUAGES}
    raise SchemaError(f"{origin}: 'keywords' must be a list or a mapping of be/ru/en to lists")


def build_manifest(data: dict[str, Any], *, base: Path, origin: str) -> Manifest:
    """Check a manifest mapping and resolve its source path against ``base``."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise SchemaError(f"{origin}: unknown keys {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}")
    layer_id = str(data.get("id") or "")
    if not _SLUG.match(layer_id):
        raise SchemaError(
            f"{origin}: id {layer_id!r} must be 1-63 lowercase letters, digits or dashes"
        )
    for key in ("region", "theme"):
        if not data.get(key):
            raise SchemaError(f"{origin}: '{key}' is required")
    source = data.get("source")
    if isinstance(source, str):
        source = {"path": source}
    if not isinstance(source, dict) or not source.get("path"):
        raise SchemaError(f"{origin}: 'source.path' is required (the data file, relative to it)")
    unknown = set(source) - _SOURCE_KEYS
    if unknown:
        raise SchemaError(f"{origin}: unknown source keys {sorted(unknown)}")
    meta = LayerMetadata(
        id=layer_id,
        region=str(data["region"]),
        theme=str(data["theme"]),
        title=_texts(data.get("title"), "title", origin, required=True),
        description=_texts(data.get("description"), "description", origin, required=False),
        keywords=_keywords(data.get("keywords"), origin),
        license=data.get("license"),
        attribution=data.get("attribution"),
    )
    spec = SourceSpec(
        path=(base / str(source["path"])).resolve(),
        **{k: (str(v) if v is not None else None) for k, v in source.items() if k != "path"},
    )
    return Manifest(meta=meta, source=spec, origin=origin)


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
