"""Layer manifests: every mistake is a SchemaError naming the file and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from geoportal.errors import SchemaError
from geoportal.etl import load_manifest
from geoportal.etl.manifest import LIMITS, build_manifest, parse_manifest_text, slugify
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


# -- bounds (issue 15: a 329-byte manifest of nested anchors made /collections 6.2 MB) -----

_HEAD = "id: a\nregion: '0000000000'\ntheme: other\ntitle: t\nsource: a.csv\n"
YAML_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, n in zip("abcde", "bcdef", strict=True)) + "keywords: *f\n"


def test_a_yaml_bomb_of_anchors_is_refused_naming_the_line(tmp_path: Path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_HEAD + YAML_BOMB)
    assert path.stat().st_size < 400
    with pytest.raises(SchemaError, match=r"bomb.yaml at line 6: YAML anchors and aliases"):
        load_manifest(path)


@pytest.mark.parametrize("text", ["x: &anchor 1\n", "x: [1]\ny: *undefined\n",
                                  "base: {a: 1}\nz: {<<: *base}\n"])
def test_any_anchor_or_alias_is_refused(text):
    with pytest.raises(SchemaError, match="anchors and aliases"):
        parse_manifest_text(_HEAD + text, "m.yaml")


def test_deep_nesting_and_oversized_manifests_are_refused():
    with pytest.raises(SchemaError, match="nested too deeply"):
        parse_manifest_text("[" * 20_000, "m.yaml")
    with pytest.raises(SchemaError, match=r"70,\d{3} bytes; at most 65,536"):
        parse_manifest_text(_HEAD + "description: '" + "d" * 70_000 + "'\n", "m.yaml")


@pytest.mark.parametrize(("extra", "message"), [
    ({"title": {"en": "t" * 201}}, "'title.en' is 201 characters long; at most 200"),
    ({"title": "t" * 201}, "'title' is 201 characters long; at most 200"),
    ({"description": {"ru": "d" * 4001}}, "'description.ru' is 4,001 characters long"),
    ({"keywords": ["k"] * 31}, "'keywords' has 31 keywords; at most 30"),
    ({"keywords": {"be": ["k"] * 31}}, "'keywords.be' has 31 keywords; at most 30"),
    ({"keywords": {"en": ["ok", "k" * 65]}}, r"'keywords.en\[1\]' is 65 characters long"),
    ({"keywords": [["nested"]]}, r"'keywords\[0\]' must be a text"),
    ({"license": "l" * 201}, "'license' is 201 characters long; at most 200"),
    ({"attribution": "a" * 501}, "'attribution' is 501 characters long; at most 500"),
    ({"fields": {"a": {"title": "t" * 201}}}, "'fields.a.title' is 201 characters long"),
    ({"fields": {f"f{i}": None for i in range(501)}}, "'fields' has 501 entries; at most 500"),
    ({"source": {"path": "p" * 1025}}, "'source.path' is 1,025 characters long"),
])
def test_each_metadata_field_is_capped_with_its_key_and_limit(extra, message):
    data = {"id": "a", "region": "0000000000", "theme": "other", "title": "t",
            "source": "a.csv", **extra}
    with pytest.raises(SchemaError, match=message):
        build_manifest(data, base=Path("."), origin="m.yaml")


def test_every_capped_field_is_reported_at_once():
    data = {"id": "a", "region": "0000000000", "theme": "other", "source": "a.csv",
            "title": {"be": "t" * 300, "ru": "t" * 300}, "keywords": {"en": ["k"] * 40}}
    with pytest.raises(SchemaError) as caught:
        build_manifest(data, base=Path("."), origin="m.yaml")
    assert len(str(caught.value).splitlines()) == 3


def test_metadata_at_the_limits_is_accepted():
    data = {"id": "a", "region": "0000000000", "theme": "other", "source": "a.csv",
            "title": "t" * LIMITS["title"], "description": "d" * LIMITS["description"],
            "keywords": ["k" * LIMITS["keyword"]] * LIMITS["keywords"],
            "attribution": "a" * LIMITS["attribution"], "license": "l" * LIMITS["license"]}
    manifest = build_manifest(data, base=Path("."), origin="m.yaml")
    assert len(manifest.meta.keywords["ru"]) == LIMITS["keywords"]
