"""The manifest keys the viewer reads (issue 19): ``title_field``, per-language field titles,
``unit``, ``series`` and ``basemap``. Good shapes become ``LayerMetadata.view`` and
``FieldRule.titles``; every bad shape is one problem naming its key, in be and ru too; the
keys ride through the catalog under ``_view`` and old rows read back without them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from geoportal.catalog.models import LayerMetadata
from geoportal.errors import SchemaError
from geoportal.etl import load_manifest
from geoportal.etl.manifest import LIMITS, build_manifest
from geoportal.fields import Field, pick_language
from geoportal.i18n import translate
from tests.conftest import LAYERS_DIR

_HEAD = {"id": "a", "region": "0000000000", "theme": "other", "title": "t",
         "source": "a.csv"}


def _build(**keys: Any):
    return build_manifest({**_HEAD, **keys}, base=Path("/tmp"), origin="m.yaml")


def _problem(**keys: Any) -> SchemaError:
    with pytest.raises(SchemaError) as info:
        _build(**keys)
    return info.value


def test_view_keys_are_stored_as_given_and_only_those():
    manifest = _build(title_field={"be": "NAME_BE", "ru": "name_ru"}, unit="nW/cm²/sr",
                      series={"id": "night-lights", "label": 2013}, basemap=True,
                      fields={"NAME_BE": {"name": "name_be"}})
    assert manifest.meta.view == {
        # a source field a rule renames is kept under its published name
        "title_field": {"be": "name_be", "ru": "name_ru"}, "unit": "nW/cm²/sr",
        "series": {"id": "night-lights", "label": "2013"}, "basemap": True}
    assert _build().meta.view is None
    assert _build(basemap=False).meta.view == {"basemap": False}
    assert _build(unit={"be": "м", "en": "m"}).meta.view == {"unit": {"be": "м", "en": "m"}}


def test_a_field_title_per_language_keeps_the_rule_apart_from_a_plain_title():
    rules = _build(fields={"Вобласьць": {"title": {"be": "Вобласць", "en": "Oblast"}},
                           "kod": {"title": "Код"}}).fields
    assert rules["Вобласьць"].title is None
    assert rules["Вобласьць"].titles == {"be": "Вобласць", "en": "Oblast"}
    assert (rules["kod"].title, rules["kod"].titles) == ("Код", None)


def test_view_keys_are_metadata_but_field_titles_change_the_options():
    plain = _build(fields={"a": {"title": "A"}})
    assert _build(fields={"a": {"title": "A"}}, unit="m", basemap=True,
                  series={"id": "s", "label": "1"}).options() == plain.options()
    assert _build(fields={"a": {"title": {"en": "A"}}}).options() != plain.options()
    # a manifest without per-language titles has the options it had before
    assert plain.options()["fields"] == {"a": [None, None, "A", False]}


@pytest.mark.parametrize(("keys", "key", "words"), [
    ({"fields": {"x": {"title": ["a"]}}}, "fields.x.title", "must be a text or a mapping"),
    ({"fields": {"x": {"title": {"de": "X"}}}}, "fields.x.title", "unknown languages"),
    ({"fields": {"x": {"title": {"be": " "}}}}, "fields.x.title", "is empty"),
    ({"fields": {"x": {"title": {"be": "x" * (LIMITS["field_title"] + 1)}}}},
     "fields.x.title.be", "characters long"),
    ({"title_field": ["a", "b"]}, "title_field", "must be a field name or a mapping"),
    ({"title_field": {"fr": "nom"}}, "title_field", "must be a field name or a mapping"),
    ({"unit": {"be": 5, "xx": "m"}}, "unit", "unknown languages"),
    ({"unit": "u" * (LIMITS["unit"] + 1)}, "unit", "characters long"),
    ({"series": "night-lights"}, "series", "must be a mapping of id and label"),
    ({"series": {"id": "Night Lights", "label": "2013"}}, "series.id", "lowercase letters"),
    ({"series": {"id": "nl"}}, "series.label", "is required"),
    ({"series": {"id": "nl", "label": "1", "year": 1}}, "series", "unknown keys"),
    ({"basemap": "yes"}, "basemap", "must be true or false"),
])
def test_a_bad_shape_is_one_problem_naming_its_key(keys, key, words):
    error = _problem(**keys)
    text = str(error)
    assert f"'{key}'" in text and words in text and text.startswith("m.yaml: ")
    # said in be and ru too (the id has translations)
    for lang in ("be", "ru"):
        said = translate(error.user_msg, lang)
        assert key in said and said != text, lang


def test_every_problem_at_once():
    text = str(_problem(unit=[1], basemap=1, series={"id": "X"}))
    assert "'unit'" in text and "'basemap'" in text and "'series.id'" in text


def test_the_samples_give_every_field_three_titles_and_the_viewer_keys():
    for path in sorted(LAYERS_DIR.rglob("*.yaml")):
        manifest = load_manifest(path)
        for source, rule in manifest.fields.items():
            assert rule.titles is not None and set(rule.titles) == {"be", "ru", "en"}, (
                path, source)
            assert not any(c in rule.titles["be"] for c in "ищъ"), (path, source)
            assert not any(c in rule.titles["ru"] for c in "іў"), (path, source)
    views = {load_manifest(p).meta.id: load_manifest(p).meta.view
             for p in LAYERS_DIR.rglob("*.yaml")}
    for layer in ("cities", "raions", "oblasts", "railway-stations", "minsk-stops"):
        assert views[layer] and views[layer]["title_field"], layer
    assert views["night-lights-2024"]["basemap"] is True
    assert {views[i]["series"]["label"] for i in ("night-lights-2013", "night-lights-2024")} \
        == {"2013", "2024"}
    assert views["night-lights-2024"]["unit"]["en"] == "nW/cm²/sr"


def test_field_titles_fall_back_and_old_rows_read():
    field = Field("voblasc", "string", "Вобласьць", {"ru": "Область", "en": "Oblast"})
    assert [field.title_in(lang) for lang in ("be", "ru", "en")] == [
        "Область", "Область", "Oblast"]
    assert Field("a", "string").title_in("ru") == "a"
    assert Field("a", "string", "A").title_in("ru") == "A"
    assert Field.from_dict(field.to_dict()) == field
    assert "titles" not in Field("a", "string", "A").to_dict()  # old rows' shape kept
    assert Field.from_dict({"name": "a", "type": "string"}) == Field("a", "string")
    assert hash(field) == hash(Field("voblasc", "string", "Вобласьць"))
    assert pick_language({"en": "x"}, "be") == "x" and pick_language(None, "be") is None


def test_the_view_rides_in_the_catalog_and_an_old_row_has_none(catalog):
    meta = LayerMetadata(id="a", region="0000000000", theme="other", title={"en": "A"},
                         keywords={"en": ["k"]}, view={"unit": "m", "basemap": True})
    catalog.save_metadata(meta)
    read = catalog.get_layer("a").meta
    assert read.view == {"unit": "m", "basemap": True} and read.keywords == {"en": ["k"]}
    meta.view = None
    catalog.save_metadata(meta)
    assert catalog.get_layer("a").meta.view is None


def test_yaml_flow_mapping_samples_parse_as_mappings():
    raw = (LAYERS_DIR / "by" / "night_lights.yaml").read_text()
    assert yaml.safe_load(raw)["series"] == {"id": "night-lights", "label": "2024"}
