"""A manifest's ``style:`` (issue 20): checked when the manifest is read, each mistake one
problem naming its key path (in be and ru too); checked against the layer's fields once they
are known; and turned into MapServer classes that no value of a manifest can break out of."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from geoportal.catalog.models import Layer, LayerMetadata, Version
from geoportal.errors import SchemaError
from geoportal.etl.manifest import build_manifest
from geoportal.etl.styles import (
    SLD_MAX_BYTES,
    check_style_fields,
    parse_sld,
    style_field_problems,
)
from geoportal.fields import Field
from geoportal.i18n import translate
from geoportal.server.ows.styles import (
    OTHER,
    default_classes,
    layer_colour,
    legend_number,
    raster_classes,
    sld_body,
    vector_classes,
)
from geoportal.states import VersionStatus
from geoportal.storage.raster_tiles import colormap_colours

_HEAD = {"id": "stations", "region": "0000000000", "theme": "transport", "title": "t",
         "source": "a.csv"}
SLD = """<?xml version="1.0" encoding="UTF-8"?>
<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld"
    xmlns:ogc="http://www.opengis.net/ogc">
  <NamedLayer><Name>from-the-file</Name>
    <UserStyle><FeatureTypeStyle><Rule>
      <ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>typ</ogc:PropertyName>
        <ogc:Literal>ст</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>
      <PointSymbolizer><Graphic><Mark><WellKnownName>square</WellKnownName>
        <Fill><CssParameter name="fill">#ff00ff</CssParameter></Fill></Mark></Graphic>
      </PointSymbolizer>
    </Rule></FeatureTypeStyle></UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
"""


def _build(base: Path = Path("/tmp"), **keys: Any):
    return build_manifest({**_HEAD, **keys}, base=base, origin="m.yaml")


def _style(base: Path = Path("/tmp"), **keys: Any) -> dict[str, Any]:
    view = _build(base, **keys).meta.view
    assert view is not None
    return view["style"]


def _problems(base: Path = Path("/tmp"), **keys: Any) -> SchemaError:
    with pytest.raises(SchemaError) as info:
        _build(base, **keys)
    return info.value


# -- the manifest ---------------------------------------------------------------------------

def test_a_vector_style_is_stored_normalised_with_published_field_names():
    style = _style(style={
        "color": "#F0A", "outline": "none", "width": 1, "size": 6, "opacity": 0.5,
        "label": {"be": "Назва", "ru": "name_ru"}, "label_size": 9, "label_color": "#222222",
        "categories": {"field": "Тып", "values": [
            {"value": "ст", "color": "#d62728", "title": {"be": "Станцыя", "ru": "Станция"}},
            {"value": 5, "color": "#1F77B4"}], "other": None}},
        fields={"Назва": {"name": "name_be"}, "Тып": {"name": "kind"}})
    assert style == {
        "color": "#ff00aa", "outline": "none", "width": 1.0, "size": 6.0, "opacity": 0.5,
        "label": {"be": "name_be", "ru": "name_ru"}, "label_size": 9.0,
        "label_color": "#222222",
        "categories": {"field": "kind", "values": [
            {"value": "ст", "color": "#d62728", "title": {"be": "Станцыя", "ru": "Станция"}},
            {"value": 5, "color": "#1f77b4"}], "other": None}}
    # metadata only: a new style is not a new version of the data
    assert _build(style={"color": "#000000"}).options() == _build().options()


def test_a_raster_style_and_the_kinds_kept_apart():
    assert _style(source="dem.tif", style={"colormap": "Viridis", "range": [0, 63]}) == {
        "colormap": "viridis", "range": [0.0, 63.0]}
    raster = str(_problems(source="dem.tif", style={"color": "#000000"}))
    assert "'style' of a raster takes only colormap, range; ['color']" in raster
    vector = str(_problems(style={"colormap": "viridis"}))
    assert "'style' of a vector layer takes no ['colormap']" in vector


@pytest.mark.parametrize(("style", "key", "words"), [
    ("red", "style", "must be a mapping of color, outline"),
    ({"colour": "#fff"}, "style", "unknown keys ['colour']"),
    ({"color": "red!"}, "style.color", "'red!' is not a colour #rrggbb"),
    ({"outline": "#12345"}, "style.outline", "is not a colour"),
    ({"width": 50}, "style.width", "must be a number from 0 to 20"),
    ({"opacity": True}, "style.opacity", "must be a number from 0 to 1"),
    ({"size": "big"}, "style.size", "must be a number from 1 to 64"),
    ({"label": ["a"]}, "style.label", "must be a field name or a mapping"),
    ({"label": {"de": "name"}}, "style.label", "must be a field name or a mapping"),
    ({"categories": "kind"}, "style.categories", "must be a mapping of field, values"),
    ({"categories": {"values": [{"value": 1, "color": "#fff"}]}}, "style.categories.field",
     "is required"),
    ({"categories": {"field": "k", "values": []}}, "style.categories.values", "1 to 100"),
    ({"categories": {"field": "k", "values": [{"value": i, "color": "#fff"}
                                              for i in range(101)]}},
     "style.categories.values", "1 to 100"),
    ({"categories": {"field": "k", "values": [{"value": "a", "color": "#fff"},
                                              {"value": "a", "color": "#000"}]}},
     "style.categories.values[1].value", "repeats the value 'a' of values[0]"),
    ({"categories": {"field": "k", "values": [{"value": "a", "color": "#fff"},
                                              {"value": "b", "color": "red!"}]}},
     "style.categories.values[1].color", "'red!' is not a colour #rrggbb"),
    ({"categories": {"field": "k", "values": [{"value": "a\nb", "color": "#fff"}]}},
     "style.categories.values[0].value", "a text of one line"),
    ({"categories": {"field": "k", "values": [{"value": [1], "color": "#fff"}]}},
     "style.categories.values[0].value", "a text of one line"),
    ({"categories": {"field": "k", "values": [{"value": "a"}]}},
     "style.categories.values[0].color", "is required"),
    ({"categories": {"field": "k", "values": [{"value": "a", "color": "#fff",
                                               "title": {"xx": "A"}}]}},
     "style.categories.values[0].title", "unknown languages"),
    ({"categories": {"field": "k", "values": [{"value": "a", "color": "#fff",
                                               "title": "x" * 101}]}},
     "style.categories.values[0].title", "characters long"),
    ({"categories": {"field": "k", "values": [{"value": "a", "color": "#fff", "size": 3}]}},
     "style.categories.values[0]", "unknown keys ['size']"),
    ({"categories": {"field": "k", "values": [{"value": "a", "color": "#fff"}],
                     "other": "grey"}}, "style.categories.other", "is not a colour"),
    ({"sld": 5}, "style.sld", "must be the name of an SLD file"),
    ({"sld": "../x.sld"}, "style.sld", "must be a file in the manifest's folder"),
    ({"sld": "/etc/passwd"}, "style.sld", "must be a file in the manifest's folder"),
    ({"sld": "none.sld"}, "style.sld", "no such file beside the manifest"),
])
def test_every_mistake_names_its_key_path_in_every_language(tmp_path, style, key, words):
    problem = _problems(tmp_path, style=style)
    text = str(problem)
    assert f"'{key}'" in text and words in text, text
    assert text.startswith("m.yaml: ")
    for lang in ("be", "ru"):
        translated = translate(problem.user_msg, lang)
        assert f"'{key}'" in translated and translated != text, (lang, translated)


def test_every_mistake_is_said_at_once():
    text = str(_problems(style={"color": "red!", "width": -1, "categories": {
        "field": "k", "values": [{"value": "a", "color": "#ff"}]}}))
    assert [line.split("'")[1] for line in text.splitlines()] == [
        "style.color", "style.width", "style.categories.values[0].color"]


def test_a_raster_colormap_and_range_are_checked():
    text = str(_problems(source="dem.tif", style={"colormap": "rainbowz", "range": [5, 1]}))
    assert "'style.colormap' 'rainbowz' is not a colormap; use one of viridis" in text
    assert "'style.range' must be two numbers, the lower first" in text
    assert "'style.range'" in str(_problems(source="dem.tif", style={"range": [0, "x"]}))


# -- SLD files ------------------------------------------------------------------------------

def test_an_sld_file_is_read_and_its_layer_renamed(tmp_path):
    (tmp_path / "s.sld").write_text(SLD, encoding="utf-8")
    text = _style(tmp_path, style={"sld": "s.sld", "color": "#000000"})["sld"]
    root = parse_sld(text, "stations")
    names = root.findall("{http://www.opengis.net/sld}NamedLayer/"
                         "{http://www.opengis.net/sld}Name")
    assert [n.text for n in names] == ["stations"]
    assert "ст" in text and "#ff00ff" in text


@pytest.mark.parametrize(("text", "words"), [
    ("<not xml", "is not well-formed XML"),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
     '<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld">&b;'
     "</StyledLayerDescriptor>", "has a DOCTYPE"),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
     '<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld">&e;'
     "</StyledLayerDescriptor>", "has a DOCTYPE"),
    (SLD.replace('version="1.0.0"', 'version="1.1.0"'), "is not an SLD 1.0.0 document"),
    (SLD.replace("<NamedLayer>", "<NamedLayer><Name>a</Name></NamedLayer><NamedLayer>"),
     "is not an SLD 1.0.0 document"),
    (SLD.replace("StyledLayerDescriptor", "Something"), "is not an SLD 1.0.0 document"),
    (SLD.replace("<Mark><WellKnownName>square</WellKnownName>",
                 '<ExternalGraphic><OnlineResource xmlns:xlink="http://www.w3.org/1999/xlink" '
                 'xlink:href="http://10.0.0.1/x.png"/><Format>image/png</Format>'
                 "</ExternalGraphic><Mark><WellKnownName>square</WellKnownName>"),
     "refers to another file or address (OnlineResource)"),
])
def test_an_sld_the_engine_should_not_read_is_refused(tmp_path, text, words):
    (tmp_path / "s.sld").write_text(text, encoding="utf-8")
    problem = str(_problems(tmp_path, style={"sld": "s.sld"}))
    assert "'style.sld' 's.sld'" in problem and words in problem, problem
    assert "root:" not in problem  # no entity was expanded into the message


def test_an_sld_larger_than_the_cap_is_refused_unread(tmp_path):
    (tmp_path / "big.sld").write_text(SLD + " " * SLD_MAX_BYTES, encoding="utf-8")
    assert "bytes; at most 65,536" in str(_problems(tmp_path, style={"sld": "big.sld"}))


def test_an_sld_reached_through_a_link_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside.sld"
    outside.write_text(SLD, encoding="utf-8")
    folder = tmp_path / "layers"
    folder.mkdir()
    (folder / "s.sld").symlink_to(outside)
    assert "must be a file in the manifest's folder" in str(
        _problems(folder, style={"sld": "s.sld"}))


# -- against the layer's fields -------------------------------------------------------------

FIELDS = [Field("name_be", "string", "Назва"), Field("typ", "string", "Тып"),
          Field("pop", "integer", "Population"), Field("open", "boolean")]


def test_the_fields_a_style_names_must_be_the_layers():
    good = {"label": {"be": "name_be", "ru": "Тып"},
            "categories": {"field": "pop", "values": [{"value": 5, "color": "#000000"},
                                                       {"value": "7", "color": "#ffffff"}]}}
    assert style_field_problems(good, FIELDS) == []  # a source name (title) is found too
    bad = {"label": {"ru": "name_ru"},
           "categories": {"field": "pop", "values": [{"value": "many", "color": "#000000"}]},
           "sld": SLD.replace("typ", "kind")}
    with pytest.raises(SchemaError) as info:
        check_style_fields(bad, FIELDS, "m.yaml")
    lines = str(info.value).splitlines()
    assert lines[0].startswith("m.yaml: 'style.label.ru' names the field 'name_ru', which "
                               "the layer does not have; its fields are: name_be, typ")
    assert lines[1] == ("m.yaml: 'style.categories.values[0].value' 'many' is not a number, "
                        "but the field pop holds numbers")
    assert lines[2].startswith("m.yaml: 'style.sld' names the field 'kind'")
    assert "называет поле 'name_ru'" in translate(info.value.user_msg, "ru")
    assert style_field_problems({"categories": {"field": "nope", "values": []}}, FIELDS)


# -- MapServer classes ----------------------------------------------------------------------

def _layer(style: dict[str, Any] | None, geometry: str = "Point",
           fields: list[Field] | None = None, layer_id: str = "stations") -> Layer:
    now = datetime.now(UTC)
    meta = LayerMetadata(id=layer_id, region="0000000000", theme="transport",
                         title={"be": "Станцыі", "ru": "Станции", "en": "Stations"},
                         view={"style": style} if style is not None else None)
    version = Version(layer_id=layer_id, version=1, created=now, status=VersionStatus.CURRENT,
                      source_name="a", source_sha256="0", source_crs="EPSG:4326",
                      store_ref="x", feature_count=1, set_aside_count=0, extent=None,
                      geometry_type=geometry, fields=fields if fields is not None else FIELDS,
                      report={})
    return Layer(meta=meta, created=now, updated=now, current=version)


def test_a_layer_without_a_style_keeps_the_default_of_its_geometry():
    for geometry in ("Point", "MultiLineString", "Polygon"):
        layer = _layer(None, geometry)
        assert vector_classes(layer, "ru") == default_classes(
            geometry, layer_colour("stations"), "Станции")
    assert vector_classes(_layer({"sld": SLD}), "en") == default_classes(
        "Point", layer_colour("stations"), "Stations")
    points = default_classes("Point", "#1f77b4", "x")
    assert 'SYMBOL "circle" SIZE 9 COLOR 31 119 180 OUTLINECOLOR 255 255 255 WIDTH 1' in points
    polygons = default_classes("Polygon", "#1f77b4", "x")
    assert "COLOR 31 119 180 OPACITY 35" in polygons
    assert "OUTLINECOLOR 31 119 180 WIDTH 1.2" in polygons


def test_categories_are_a_class_each_titled_in_the_language_then_the_others():
    style = {"size": 6, "categories": {"field": "Тып", "values": [
        {"value": "ст", "color": "#d62728", "title": {"be": "Станцыя", "ru": "Станция"}},
        {"value": "оп", "color": "#1f77b4"}], "other": "#7f7f7f"}}
    text = vector_classes(_layer(style), "ru")
    assert text.startswith('  CLASSITEM "typ"\n')  # found by its source name
    names = re.findall(r'NAME "([^"]*)"', text)
    assert names == ["Станция", "оп", OTHER["ru"]]
    assert re.findall(r"EXPRESSION (.*)", text) == ['"ст"', '"оп"']
    assert "SIZE 6 COLOR 214 39 40" in text and "COLOR 127 127 127" in text
    assert re.findall(r'NAME "([^"]*)"', vector_classes(_layer(style), "be"))[0] == "Станцыя"
    # other: null: the values not listed are not drawn; no other: drawn in the layer's colour
    left_out = {**style, "categories": {**style["categories"], "other": None}}
    assert len(re.findall("CLASS\n", vector_classes(_layer(left_out), "ru"))) == 2
    plain = {**style, "color": "#000000",
             "categories": {k: v for k, v in style["categories"].items() if k != "other"}}
    assert "SIZE 6 COLOR 0 0 0" in vector_classes(_layer(plain), "en").split("CLASS\n")[-1]


@pytest.mark.parametrize("value", [
    'say "hi"', "back\\slash", 'trail\\', '") END CLASS CLASS EXPRESSION ("',
    "[name_be]", "/regex/", "'single'", "a\nb"])
def test_a_category_value_cannot_break_out_of_its_string(value):
    style = {"categories": {"field": "typ", "values": [{"value": value, "color": "#000000",
                                                         "title": value}]}}
    text = vector_classes(_layer(style), "be")
    expression = re.findall(r"    EXPRESSION (.*)\n", text)
    assert len(expression) == 1
    # one mapfile string: quotes and backslashes escaped, nothing after it, one line
    assert re.fullmatch(r'"(?:[^"\\\n]|\\.)*"', expression[0]), expression[0]
    inside = expression[0][1:-1]
    assert re.sub(r"\\(.)", r"\1", inside) == value.replace("\n", " ")
    assert text.count("\n  CLASS\n") + text.startswith("  CLASS\n") == 2  # value + other


def test_numbers_and_yes_no_are_compared_as_such():
    numbers = {"categories": {"field": "pop", "values": [
        {"value": 5, "color": "#000000"}, {"value": "7.5", "color": "#ffffff"},
        {"value": "many", "color": "#ff0000"}]}}
    text = vector_classes(_layer(numbers), "en")
    assert "CLASSITEM" not in text
    assert re.findall(r"EXPRESSION (.*)", text) == ["([pop] = 5.0)", "([pop] = 7.5)"]
    flags = {"categories": {"field": "open", "values": [{"value": True, "color": "#000000"}]}}
    assert re.findall(r"EXPRESSION (.*)", vector_classes(_layer(flags), "en")) == [
        '("[open]" = "true" OR "[open]" = "t" OR "[open]" = "1")']


def test_labels_name_the_field_of_the_language_and_sit_by_geometry():
    style = {"label": {"be": "Назва", "ru": "typ"}, "label_size": 9, "label_color": "#101010"}
    be, ru, en = (vector_classes(_layer(style), lang) for lang in ("be", "ru", "en"))
    assert 'TEXT "[name_be]"' in be and 'TEXT "[typ]"' in ru
    assert 'TEXT "[name_be]"' in en  # no English field: Belarusian first
    assert 'FONT "sans" TYPE TRUETYPE SIZE 9' in be
    assert "COLOR 16 16 16 OUTLINECOLOR 255 255 255" in be
    assert "PARTIALS FALSE POSITION AUTO" in be
    polygon = vector_classes(_layer(style, "MultiPolygon"), "be")
    assert "POSITION CC MINFEATURESIZE AUTO" in polygon
    assert "ANGLE FOLLOW" in vector_classes(_layer(style, "LineString"), "be")
    assert "LABEL" not in vector_classes(_layer({"label": "nope", "size": 3}), "be")


def test_widths_outlines_and_opacity_per_geometry():
    polygon = vector_classes(_layer({"opacity": 0, "outline": "#6a3d9a", "width": 2},
                                    "Polygon"), "en")
    assert "OPACITY" not in polygon and "STYLE COLOR" not in polygon  # outline only
    assert "STYLE OUTLINECOLOR 106 61 154 WIDTH 2 END" in polygon
    line = vector_classes(_layer({"color": "#ff7f00", "width": 5, "outline": "#000000"},
                                 "LineString"), "en")
    assert line.index("COLOR 0 0 0 WIDTH 7") < line.index("COLOR 255 127 0 WIDTH 5")
    point = vector_classes(_layer({"outline": "none", "opacity": 0.5}), "en")
    assert "OUTLINECOLOR" not in point and "OPACITY 50" in point


def test_a_raster_style_replaces_the_stretch_and_the_colormap():
    layer = _layer({"colormap": "viridis", "range": [0, 100]}, geometry="")
    text = raster_classes(layer, (3.0, 7.0))
    assert "EXPRESSION ([pixel] < 0.0)" in text and "EXPRESSION ([pixel] >= 100.0)" in text
    first = colormap_colours("viridis")[0]
    assert f"STYLE COLOR {' '.join(map(str, first))} END" in text
    plain = raster_classes(_layer(None, geometry=""), (3.0, 7.0))
    assert "([pixel] < 3.0)" in plain
    assert raster_classes(_layer(None, geometry=""), None) == ""
    assert "([pixel] < 0.0)" in raster_classes(layer, None)  # no stretch needed


def test_a_raster_legend_names_five_values_with_the_unit_in_the_language():
    layer = _layer({"colormap": "viridis", "range": [0, 1000]}, geometry="")
    assert layer.meta.view is not None
    layer.meta.view["unit"] = {"be": "м", "ru": "м", "en": "m"}
    ru = raster_classes(layer, None, "ru")
    names = [line.strip()[6:-1] for line in ru.splitlines() if line.strip().startswith("NAME")]
    assert names == ["≤ 0 м", "250 м", "500 м", "750 м", "≥ 1\u202f000 м"]
    # they draw nothing: the ramp's own classes colour the pixels
    assert ru.count('EXPRESSION ("legend" = "only")') == 5
    last = colormap_colours("viridis")[-1]
    assert ru.rstrip().endswith(f"STYLE COLOR {' '.join(map(str, last))} END\n  END")
    assert 'NAME "≥ 1,000 m"' in raster_classes(layer, None, "en")


def test_legend_numbers_have_the_decimals_the_span_needs():
    assert legend_number(1234.5, 500, "en") == "1,234"
    assert legend_number(3.25, 10, "ru") == "3,2"
    assert legend_number(0.125, 1, "be") == "0,12"
    assert legend_number(-0.0001, 1, "en") == "0.00"
    assert legend_number(0.00123, 0.01, "en") == "0.0012"


def test_sld_body_joins_the_named_layers_of_the_layers_that_have_one():
    a = _layer({"sld": SLD}, layer_id="a")
    b = _layer({"color": "#000000"}, layer_id="b")
    c = _layer({"sld": SLD.replace("#ff00ff", "#00ff00")}, layer_id="c")
    assert sld_body([b]) is None
    body = sld_body([a, b, c])
    assert body is not None
    root = etree.fromstring(body.encode())
    layers = root.findall("{http://www.opengis.net/sld}NamedLayer")
    assert [n.findtext("{http://www.opengis.net/sld}Name") for n in layers] == ["a", "c"]
    assert root.get("version") == "1.0.0" and "#00ff00" in body
