"""GDAL's OAPIF driver (Debian's ogrinfo and ogr2ogr) against the real server."""

from __future__ import annotations

import subprocess

import pyogrio

from tests.conftest import require_tool


def _run(*args: str) -> str:
    result = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_ogrinfo_sees_every_collection(portal):
    ogrinfo = require_tool("ogrinfo")
    out = _run(ogrinfo, "-ro", "-q", f"OAPIF:{portal.url}")
    for layer in ("oblasts", "raions", "cities", "railway-stations", "minsk-stops"):
        assert layer in out


def test_ogrinfo_summarises_a_collection_with_count_and_fields(portal):
    ogrinfo = require_tool("ogrinfo")
    out = _run(ogrinfo, "-ro", "-so", f"OAPIF:{portal.url}/collections/raions", "raions")
    assert "Feature Count: 118" in out
    assert "name_ru: String" in out
    assert "Multi Polygon" in out or "MultiPolygon" in out


def test_ogr2ogr_downloads_a_whole_layer_through_paging(portal, tmp_path):
    ogr2ogr = require_tool("ogr2ogr")
    out = tmp_path / "stops.gpkg"
    _run(ogr2ogr, "-f", "GPKG", str(out), f"OAPIF:{portal.url}/collections/minsk-stops",
         "minsk-stops")
    info = pyogrio.read_info(out)
    assert info["features"] == 2558


def test_ogr2ogr_with_a_spatial_filter_gets_only_features_inside(portal, tmp_path):
    ogr2ogr = require_tool("ogr2ogr")
    out = tmp_path / "cities.gpkg"
    _run(ogr2ogr, "-f", "GPKG", "-spat", "27.4", "53.8", "27.75", "54.0", str(out),
         f"OAPIF:{portal.url}/collections/cities", "cities")
    table = pyogrio.read_arrow(out)[1]
    assert table.column("name_ru").to_pylist() == ["Минск"]
