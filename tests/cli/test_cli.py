"""The ``geoportal`` command, verb by verb, with bad input included (exit 2, one sentence)."""

from __future__ import annotations

import json
import os
import tempfile
import time

import pytest
import shapely
from click.testing import CliRunner

from geoportal.cli import main
from tests.conftest import CONFIG_DIR, LAYERS_DIR, write_geojson
from tests.unit.test_manifest import YAML_BOMB


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOPORTAL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GEOPORTAL_CONFIG_DIR", str(CONFIG_DIR))
    runner = CliRunner()

    def _run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return _run


@pytest.mark.parametrize("verb", [[], ["init"], ["ingest"], ["layers"], ["layer", "show"],
                                  ["layer", "versions"], ["layer", "rollback"],
                                  ["layer", "quarantine"], ["manifest", "check"], ["serve"],
                                  ["cleanup"]])
def test_help_of_every_verb_ends_with_examples(run, verb):
    result = run(*verb, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert "geoportal" in result.output.split("Examples:")[1]


def test_init_creates_the_catalog_and_loads_regions(run, tmp_path):
    result = run("init")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "var" / "catalog.sqlite").is_file()
    assert "regions" in result.output and "themes" in result.output


def test_ingest_a_folder_of_manifests_then_list_and_show(run):
    result = run("ingest", str(LAYERS_DIR))
    assert result.exit_code == 0, result.output
    assert "minsk-stops: version 1 published, 1740 of 2569 features" in result.output
    listed = json.loads(run("layers", "--json").output)
    rasters = {"night-lights-2024", "night-lights-2013"}
    assert {row["id"] for row in listed} == {"cities", "minsk-stops", "oblasts",
                                             "railway-stations", "raions", *rasters}
    assert {row["id"] for row in listed if row["kind"] == "coverage"} == rasters
    raions = next(row for row in listed if row["id"] == "raions")
    assert (raions["version"], raions["features"], raions["source_crs"]) == (1, 118, "EPSG:28405")
    table = run("layers").output
    assert "minsk-stops" in table and "Minsk City" in table
    shown = json.loads(run("layer", "show", "minsk-stops").output)
    assert shown["current"]["report"]["set_aside"] == {
        "outside the layer's region, Minsk City (5000000000), by more than 250 m (another "
        "region's place, a wrong CRS or 0,0 coordinates?)": 829}
    assert [v["version"] for v in shown["versions"]] == [1]


def test_second_ingest_skips_unchanged_sources(run):
    run("ingest", str(LAYERS_DIR / "by" / "oblasts.yaml"))
    result = run("ingest", str(LAYERS_DIR / "by" / "oblasts.yaml"))
    assert result.exit_code == 0
    assert "oblasts: unchanged" in result.output


def test_ingest_a_bare_data_file_with_options(run, tmp_path):
    src = write_geojson(tmp_path / "Bus Stops.geojson",
                        [({"name": "A"}, shapely.Point(23.7, 52.1))])
    result = run("ingest", str(src), "--region", "1000000000", "--theme", "transport",
                 "--title", "Остановки")
    assert result.exit_code == 0, result.output
    shown = json.loads(run("layer", "show", "bus-stops").output)
    assert (shown["region"], shown["theme"], shown["title"]["ru"]) == ("1000000000", "transport",
                                                                       "Остановки")


def test_missing_file_exits_2_naming_it(run, tmp_path):
    result = run("ingest", str(tmp_path / "nothing.shp"))
    assert result.exit_code == 2
    assert "nothing.shp" in result.output and "does not exist" in result.output


def test_unknown_format_exits_2_with_one_sentence(run, tmp_path):
    (tmp_path / "plan.dwg").write_bytes(b"AC1032")
    result = run("ingest", str(tmp_path / "plan.dwg"))
    assert result.exit_code == 2
    assert "plan.dwg: unsupported file type '.dwg'" in result.output
    assert "Traceback" not in result.output


def test_broken_manifest_exits_2_with_one_sentence(run, tmp_path):
    (tmp_path / "roads.yaml").write_text("id: roads\nregion: [\n")
    result = run("ingest", str(tmp_path / "roads.yaml"))
    assert result.exit_code == 2
    assert "roads.yaml: not valid YAML at line" in result.output
    assert "Traceback" not in result.output


def test_unknown_layer_exits_2(run):
    result = run("layer", "show", "no-such-layer")
    assert result.exit_code == 2
    assert "layer 'no-such-layer' is not in the catalog" in result.output


def test_report_on_the_cli_names_detection_repairs_and_set_aside(run):
    result = run("ingest", str(LAYERS_DIR / "minsk" / "stops.yaml"))
    assert result.exit_code == 0, result.output
    assert "read 2569 = published 1740 + set aside 829" in result.output
    assert "CRS EPSG:4326, manifest (high confidence)" in result.output
    assert "set aside: outside the layer's region" in result.output


def test_versions_rollback_and_quarantine_export(run, tmp_path):
    src = tmp_path / "spots.csv"
    src.write_text("lon,lat,name\n27.55,53.9,a\n0,0,zero\n", encoding="utf-8")
    assert run("ingest", str(src), "--region", "5000000000").exit_code == 0
    src.write_text("lon,lat,name\n27.55,53.9,a\n27.56,53.91,b\n", encoding="utf-8")
    assert run("ingest", str(src), "--region", "5000000000", "--progress").exit_code == 0
    lines = run("layer", "versions", "spots").output.splitlines()
    assert lines[0].startswith("*    2") and lines[1].startswith("     1")
    assert "2 published       0 set aside" in lines[0]

    result = run("layer", "rollback", "spots", "--to", "1")
    assert result.exit_code == 0, result.output
    assert "spots: version 1 is current again (1 features from spots.csv)" in result.output
    assert run("layer", "versions", "spots").output.startswith("     2")

    out = tmp_path / "aside.csv"
    result = run("layer", "quarantine", "spots", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "1 set-aside features written" in result.output
    assert "zero" in out.read_text(encoding="utf-8")
    result = run("layer", "quarantine", "spots", "--version", "2", "-o", str(out))
    assert "nothing was set aside" in result.output

    result = run("layer", "rollback", "spots", "--to", "9")
    assert result.exit_code == 2
    assert "layer 'spots' has no version 9; kept: 1, 2" in result.output


def test_manifest_check_reports_every_wrong_key_on_its_own_line(run, tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "id: Bad Id\nregion: '9999999999'\ntheme: roads\ntitel: x\n"
        "source: {path: none.csv, srid: 4326}\nfields: {a: {type: money}}\n", encoding="utf-8")
    (tmp_path / "good.yaml").write_text(
        "id: good\nregion: '5000000000'\ntheme: transport\ntitle: Good\n"
        "source: good.csv\n", encoding="utf-8")
    (tmp_path / "good.csv").write_text("lon,lat\n27.5,53.9\n", encoding="utf-8")
    result = run("manifest", "check", str(tmp_path))
    assert result.exit_code == 2
    problems = [line for line in result.output.splitlines() if line.startswith(str(tmp_path /
                                                                                  "bad.yaml"))]
    assert len(problems) == 5, result.output
    text = "\n".join(problems)
    for expected in ("unknown keys ['titel']", "id 'Bad Id'", "unknown source keys ['srid']",
                     "'title' is required", "'fields.a.type' 'money'"):
        assert expected in text
    assert f"{tmp_path / 'good.yaml'}: ok" in result.output
    assert "1 of 2 manifests have problems" in result.output


def test_manifest_check_names_an_unknown_region_and_a_missing_file(run, tmp_path):
    (tmp_path / "m.yaml").write_text(
        "id: m\nregion: '9999999999'\ntheme: transport\ntitle: M\nsource: gone.csv\n",
        encoding="utf-8")
    result = run("manifest", "check", str(tmp_path / "m.yaml"))
    assert result.exit_code == 2
    assert "region '9999999999' is not a SOATO code" in result.output
    assert "gone.csv does not exist" in result.output


def test_sample_manifests_pass_the_check(run):
    result = run("manifest", "check", str(LAYERS_DIR))
    assert result.exit_code == 0, result.output


def test_bare_geopackage_with_several_tables_publishes_each(run, tmp_path):
    import pyarrow as pa
    import pyogrio

    path = tmp_path / "grodno.gpkg"
    for table, point in (("schools", (23.83, 53.68)), ("Поліклінікі", (23.84, 53.69)),
                         ("schools_", (23.85, 53.70))):
        pyogrio.write_arrow(
            pa.table({"name": [table], "geometry": pa.array([shapely.Point(point).wkb])}),
            path, layer=table, driver="GPKG", geometry_name="geometry",
            geometry_type="Point", crs="EPSG:4326", append=path.exists())
    result = run("ingest", str(path), "--region", "4000000000")
    assert result.exit_code == 0, result.output
    listed = {row["id"] for row in json.loads(run("layers", "--json").output)}
    # Cyrillic romanized; names that romanize alike kept apart.
    assert listed == {"grodno-schools", "grodno-polikliniki", "grodno-schools-2"}  # "schools_"
    shown = json.loads(run("layer", "show", "grodno-schools").output)
    assert shown["title"]["en"] == "grodno: schools"
    result = run("ingest", str(path), "--layer", "schools", "--id", "only-schools",
                 "--region", "4000000000")
    assert result.exit_code == 0, result.output


# -- issue 15: bounded manifests, audited CLI writes, clean-up -----------------------------

def test_a_yaml_bomb_manifest_exits_2_and_publishes_nothing(run, tmp_path):
    (tmp_path / "a.csv").write_text("lon,lat\n27.5,53.9\n")
    (tmp_path / "bomb.yaml").write_text(
        "id: bomb\nregion: '0000000000'\ntheme: other\ntitle: t\nsource: a.csv\n"
        + YAML_BOMB)
    result = run("ingest", str(tmp_path / "bomb.yaml"))
    assert result.exit_code == 2
    assert "bomb.yaml at line 6: YAML anchors and aliases" in result.output
    assert json.loads(run("layers", "--json").output) == []
    assert run("manifest", "check", str(tmp_path / "bomb.yaml")).exit_code == 2


def test_token_creation_ingests_and_rollbacks_are_in_the_audit(run, tmp_path):
    created = run("token", "create", "--name", "grodno-gis", "--region", "4000000000")
    token_id = created.output.split()[1]
    src = tmp_path / "spots.csv"
    for rows in ("27.55,53.9,a", "27.55,53.9,a\n27.56,53.91,b"):
        src.write_text(f"lon,lat,name\n{rows}\n", encoding="utf-8")
        assert run("ingest", str(src), "--region", "5000000000").exit_code == 0
    assert run("layer", "rollback", "spots", "--to", "1").exit_code == 0
    assert run("layer", "rollback", "spots", "--to", "7").exit_code == 2
    assert run("token", "revoke", token_id).exit_code == 0
    rows = json.loads(run("audit", "--json").output)
    seen = [(r["action"], r["result"], r["layer_id"], r["version"]) for r in rows]
    assert seen == [("token-revoke", "ok", None, None), ("rollback", "rejected", "spots", None),
                    ("rollback", "ok", "spots", 1), ("ingest", "ok", "spots", 2),
                    ("ingest", "ok", "spots", 1), ("token-create", "ok", None, None)]
    assert all(r["client"].startswith("cli:") for r in rows)
    assert rows[-1]["token_id"] == token_id and "grodno-gis" in rows[-1]["detail"]
    assert "has no version 7" in rows[1]["detail"]


def test_rollback_to_a_version_beyond_any_integer_exits_2(run, tmp_path):
    src = tmp_path / "spots.csv"
    src.write_text("lon,lat,name\n27.55,53.9,a\n", encoding="utf-8")
    assert run("ingest", str(src), "--region", "5000000000").exit_code == 0
    result = run("layer", "rollback", "spots", "--to", str(10**23))
    assert result.exit_code == 2
    assert f"layer 'spots' has no version {10**23}; kept: 1" in result.output
    assert "Traceback" not in result.output


def test_cleanup_removes_orphans_and_prints_what_and_the_bytes(run, tmp_path, monkeypatch):
    # a temp folder of its own: other tests' scratch folders (a killed worker's) are not ours
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    assert run("ingest", str(LAYERS_DIR / "by" / "oblasts.yaml")).exit_code == 0
    var = tmp_path / "var"
    then = time.time() - 3600
    orphans = [var / "store" / "oblasts" / ".0badc0de.part.gpkg",
               var / "store" / "oblasts" / ".0badc0de.part.gpkg.tmp_rtree_oblasts.db",
               var / "uploads" / "0123abcd" / "roads.zip"]
    for path in orphans:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0" * 4096)
        os.utime(path, (then, then))
        os.utime(path.parent, (then, then))
    fresh = var / "store" / "oblasts" / ".running.part.gpkg"
    fresh.write_bytes(b"\0" * 10)
    assert "would remove staging file" in run("cleanup", "--dry-run").output
    assert all(p.exists() for p in orphans)
    result = run("cleanup")
    assert result.exit_code == 0, result.output
    assert "removed staging file: oblasts/.0badc0de.part.gpkg (4,096 bytes)" in result.output
    assert "removed upload folder: uploads/0123abcd (4,096 bytes)" in result.output
    assert "removed 3 leftovers, 12,288 bytes; 1 kept" in result.output
    assert not any(p.exists() for p in orphans) and fresh.exists()
    assert json.loads(run("layers", "--json").output)[0]["features"] == 7  # still served
