"""Regions (SOATO) and themes from ``config/regions.yaml`` and ``config/themes.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml

from geoportal.catalog.models import LANGUAGES, Region, Theme
from geoportal.errors import SchemaError
from geoportal.i18n import tr

__all__ = ["Registry", "load_registry"]


@dataclass(frozen=True)
class Registry:
    """The regions and themes a layer may be filed under."""

    regions: dict[str, Region]
    themes: dict[str, Theme]
    crs_candidates: tuple[tuple[str, str], ...] = (("EPSG:4326", "WGS 84"),)
    crs_ambiguity_m: float = 100.0

    def region(self, code: str) -> Region:
        """The region with this SOATO code, or a SchemaError naming the known ones."""
        try:
            return self.regions[str(code)]
        except KeyError:
            raise SchemaError(tr(
                "unknown region {code}: use a SOATO code from config/regions.yaml "
                "(e.g. 0000000000 for Belarus, 5000000000 for Minsk city)", code=repr(code)
            )) from None

    def theme(self, theme_id: str) -> Theme:
        """The theme with this id, or a SchemaError listing the valid ids."""
        try:
            return self.themes[theme_id]
        except KeyError:
            raise SchemaError(tr("unknown theme {id}: use one of {ids}", id=repr(theme_id),
                                 ids=", ".join(self.themes))) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise SchemaError(tr("{path}: file not found; is config_dir set right?",
                             path=path)) from None
    except yaml.YAMLError as exc:
        raise SchemaError(tr("{path}: not valid YAML ({error})", path=path,
                             error=str(exc))) from None
    if not isinstance(data, dict):
        raise SchemaError(tr("{path}: expected a mapping at the top level", path=path))
    return data


def _names(entry: dict[str, Any], path: Path) -> dict[str, str]:
    names = entry.get("name") or {}
    missing = [lang for lang in LANGUAGES if not names.get(lang)]
    if missing:
        key = entry.get("code") or entry.get("id")
        raise SchemaError(tr("{path}: {key} lacks names in {missing}", path=path, key=key,
                             missing=missing))
    return {lang: str(names[lang]) for lang in LANGUAGES}


def load_registry(config_dir: Path) -> Registry:
    """Read and check the region and theme registers."""
    regions_path = config_dir / "regions.yaml"
    themes_path = config_dir / "themes.yaml"
    regions: dict[str, Region] = {}
    for entry in _read_yaml(regions_path).get("regions") or []:
        code = str(entry["code"])
        bbox = entry.get("bbox")
        regions[code] = Region(
            code=code,
            level=entry["level"],
            parent=str(entry["parent"]) if entry.get("parent") is not None else None,
            name=_names(entry, regions_path),
            # four numbers in regions.yaml (minlon, minlat, maxlon, maxlat)
            bbox=cast(tuple[float, float, float, float], tuple(float(v) for v in bbox))
            if bbox else None,
            iso=entry.get("iso"),
        )
    themes = {
        str(t["id"]): Theme(id=str(t["id"]), name=_names(t, themes_path))
        for t in _read_yaml(themes_path).get("themes") or []
    }
    if not regions or not themes:
        raise SchemaError(tr("{path}: regions.yaml and themes.yaml must not be empty",
                             path=config_dir))
    crs_path = config_dir / "crs.yaml"
    if not crs_path.is_file():
        return Registry(regions=regions, themes=themes)
    crs_config = _read_yaml(crs_path)
    candidates = tuple((str(c["crs"]), str(c.get("name", c["crs"])))
                       for c in crs_config.get("candidates") or [])
    return Registry(regions=regions, themes=themes, crs_candidates=candidates,
                    crs_ambiguity_m=float(crs_config.get("ambiguity_metres", 100)))
