"""GDAL's OAPIF driver (Debian's ogrinfo and ogr2ogr) against the real server."""

from __future__ import annotations

import subprocess
from urllib.parse import unquote_plus

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
    assert info["features"] == 1740


def test_ogr2ogr_with_a_spatial_filter_gets_only_features_inside(portal, tmp_path):
    ogr2ogr = require_tool("ogr2ogr")
    out = tmp_path / "cities.gpkg"
    _run(ogr2ogr, "-f", "GPKG", "-spat", "27.4", "53.8", "27.75", "54.0", str(out),
         f"OAPIF:{portal.url}/collections/cities", "cities")
    table = pyogrio.read_arrow(out)[1]
    assert table.column("name_ru").to_pylist() == ["Минск"]


def _server_log(portal) -> str:
    return (portal.data_dir / "server.out").read_text(encoding="utf-8", errors="replace")


def _big_cities(portal) -> set[str]:
    import requests

    body = requests.get(f"{portal.url}/collections/cities/items", timeout=30, params={
        "f": "json", "limit": 1000}).json()
    return {f["properties"]["name_ru"] for f in body["features"]
            if f["properties"]["pop_latest"] > 100000}


def test_ogr2ogr_with_a_where_gets_the_right_features(portal, tmp_path):
    # GDAL 3.6 (Debian) filters on its side; newer GDAL sends it as CQL2 (next test).
    ogr2ogr = require_tool("ogr2ogr")
    out = tmp_path / "big.gpkg"
    _run(ogr2ogr, "-f", "GPKG", "-where", "pop_latest > 100000", str(out),
         f"OAPIF:{portal.url}/collections/cities", "cities")
    names = set(pyogrio.read_arrow(out)[1].column("name_ru").to_pylist())
    assert names == _big_cities(portal)


def test_newer_gdal_in_pyogrio_reads_with_a_where_and_a_crs(portal):
    import pyproj
    import shapely

    meta, table = pyogrio.read_arrow(f"OAPIF:{portal.url}/collections/cities",
                                     where="pop_latest > 100000", CRS="EPSG:28405")
    assert set(table.column("name_ru").to_pylist()) == _big_cities(portal)
    assert "filter=pop_latest" in unquote_plus(_server_log(portal))  # filtered by the server
    assert pyproj.CRS(meta["crs"]).to_epsg() == 28405
    minsk = table.column("name_ru").to_pylist().index("Минск")
    point = shapely.from_wkb(table.column(meta["geometry_name"] or "wkb_geometry")[minsk].as_py())
    x, y = pyproj.Transformer.from_crs(4326, 28405, always_xy=True).transform(27.5667, 53.9)
    assert abs(point.x - x) < 20_000 and abs(point.y - y) < 20_000  # metres, zone 5
