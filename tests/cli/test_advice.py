"""Advice in the user's words: a bare ``geoportal ingest FILE`` names the CLI's options, a
manifest names its keys (``etl.advice``)."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from geoportal.cli import ingest_cmd, main
from geoportal.etl import manifest as manifest_module
from geoportal.etl.advice import CLI_OPTIONS, for_cli, rewrite
from tests.conftest import CONFIG_DIR, LAYERS_DIR, write_manifest


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOPORTAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GEOPORTAL_CONFIG_DIR", str(CONFIG_DIR))
    monkeypatch.setenv("GEOPORTAL_LAYERS_DIR", str(LAYERS_DIR))
    monkeypatch.delenv("GEOPORTAL_DATABASE_URL", raising=False)

    def _run(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return _run


def test_every_option_of_the_table_is_an_option_of_ingest():
    options = {opt for p in ingest_cmd.params if isinstance(p, click.Option) for opt in p.opts}
    for key, option in CLI_OPTIONS.items():
        if option.startswith("--"):
            assert option in options, f"source.{key}: {option} is not an ingest option"


def test_every_source_key_of_a_manifest_has_its_cli_words():
    assert set(manifest_module._SOURCE_KEYS) <= set(CLI_OPTIONS)


@pytest.mark.parametrize(("manifest", "cli"), [
    ("a.shp: no .prj; set source.crs in the manifest", "a.shp: no .prj; use --crs"),
    ("a.csv: no coordinate columns; set source.x_field and source.y_field in the manifest",
     "a.csv: no coordinate columns; use --x-field and --y-field"),
    ("a.zip: holds 2 tables (a, b); name one with source.layer in the manifest",
     "a.zip: holds 2 tables (a, b); name one with --layer"),
    ("a.csv: the text is not valid KOI8-R; set source.encoding in the manifest to the "
     "file's encoding", "a.csv: the text is not valid KOI8-R; set --encoding to the file's "
     "encoding"),
    ("a.zip: source.layer 'x' names no single table", "a.zip: --layer 'x' names no single table"),
    ("a.tif: the manifest's source.crs EPSG:1 contradicts the file's CRS; remove source.crs",
     "a.tif: --crs EPSG:1 contradicts the file's CRS; remove --crs"),
    ("encoding UTF-16 (high confidence): set in the manifest",
     "encoding UTF-16 (high confidence): given on the command line"),
    ("a.xlsx: row 3 is not a header; set source.header_row in the manifest",
     "a.xlsx: row 3 is not a header; use --header-row"),
    ("source.csv: GDAL says so", "source.csv: GDAL says so"),  # a file name, not a key
    ("set source.split_geometry in the manifest to publish one layer per type",
     "use --split-geometry to publish one layer per type"),
])
def test_manifest_keys_become_cli_options(manifest, cli):
    assert for_cli(manifest) == cli


def test_keys_without_a_name_stay_as_they_are():
    text = "set source.crs in the manifest; set source.nothing in the manifest"
    assert rewrite(text, {"crs": "CRS"}) == "use CRS; set source.nothing in the manifest"


def _no_columns(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("name,population\nМінск,1996553\n", encoding="utf-8")
    return path


def test_a_bare_ingest_says_the_cli_options(run, tmp_path):
    result = run("ingest", str(_no_columns(tmp_path)))
    assert result.exit_code == 2
    assert "use --x-field and --y-field" in result.stderr
    assert "source." not in result.stderr and "manifest" not in result.stderr


def test_a_manifest_ingest_says_the_manifest_keys(run, tmp_path):
    _no_columns(tmp_path)
    manifest = write_manifest(tmp_path, "names", {"path": "names.csv"})
    result = run("ingest", str(manifest))
    assert result.exit_code == 2
    assert "set source.x_field and source.y_field in the manifest" in result.stderr
    assert "--x-field" not in result.stderr


def test_a_bare_ingest_report_says_what_was_given_on_the_command_line(run, tmp_path):
    path = tmp_path / "stops.csv"
    path.write_bytes("name;lon;lat\nПлошча Перамогі;27,5755;53,9084\n".encode("cp1251"))
    result = run("ingest", str(path), "--encoding", "CP1251", "--region", "5000000000")
    assert result.exit_code == 0, result.stderr
    assert "encoding CP1251 (high confidence): given on the command line" in result.stdout
    listed = json.loads(run("layers", "--json").stdout)
    assert [row["id"] for row in listed] == ["stops"]


def test_a_crs_refused_on_the_command_line_names_the_option(run, tmp_path):
    path = tmp_path / "pts.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Мінск"},
         "geometry": {"type": "Point", "coordinates": [27.56, 53.9]}}]}), encoding="utf-8")
    result = run("ingest", str(path), "--crs", 'LOCAL_CS["mine",UNIT["metre",1]]')
    assert result.exit_code == 2
    assert "pts.geojson: the CRS 'mine' cannot be placed on the earth" in result.stderr
    assert "set --crs to the CRS the coordinates are in" in result.stderr
