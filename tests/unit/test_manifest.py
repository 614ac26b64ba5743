"""Layer manifests: every mistake is a SchemaError naming the file and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from geoportal.errors import SchemaError
from geoportal.etl import load_manifest
from geoportal.etl.manifest import slugify
from tests.conftest import LAYERS_DIR


def test_every_sample_manifest_loads_with_three_languages():
    paths = sorted(LAYERS_DIR.rglob("*.yaml"))
    assert len(paths) >= 5
    for path in paths:
        manifest = load_manifest(path)
        assert set(manifest.meta.title) == {"be", "ru", "en"}
        assert manifest.source.path.is_file()


def test_a_plain_title_fills_all_languages(tmp_path: Path):
    path = tmp_path / "m.yaml"
    path.write_text("id: a\nregion: '0000000000'\ntheme: other\ntitle: Roads\nsource: r.geojson\n")
    manifest = load_manifest(path)
    assert manifest.meta.title == {"be": "Roads", "ru": "Roads", "en": "Roads"}
    assert manifest.source.path == (tmp_path / "r.geojson").resolve()


@pytest.mark.parametrize(("text", "message"), [
    ("id: a\n  b: [", "not valid YAML at line"),
    ("- a\n- b\n", "must be a YAML mapping"),
    ("id: Bad_Id\nregion: '1'\ntheme: x\ntitle: t\nsource: a.csv\n", "lowercase letters"),
    ("id: a\nregion: '1'\ntheme: x\nsource: a.csv\n", "'title' is required"),
    ("id: catalog\nregion: '1'\ntheme: x\ntitle: t\nsource: a.csv\n", "portal's own"),
    ("id: a\nregion: '1'\ntheme: x\ntitle: t\n", "'source.path' is required"),
    ("id: a\nregion: '1'\ntheme: x\ntitle: {de: t}\nsource: a.csv\n", "unknown languages"),
    ("id: a\nregion: '1'\ntheme: x\ntitle: t\nsource: a.csv\ncolour: red\n", "unknown keys"),
    ("id: a\nregion: '1'\ntheme: x\ntitle: t\nsource: {path: a.csv, srid: 4326}\n",
     "unknown source keys"),
])
def test_broken_manifest_is_a_schema_error_naming_the_file(tmp_path: Path, text, message):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(SchemaError, match=message) as info:
        load_manifest(path)
    assert str(path) in str(info.value)


def test_slugify_makes_a_layer_id_from_a_file_name():
    assert slugify("Grodno Roads 2024") == "grodno-roads-2024"
    assert slugify("___") == "layer"
