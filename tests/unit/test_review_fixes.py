"""Fixes after the issue 16 review: a GeometryCollection with an open ring, a split file
resolved, counted and hashed once, totals rows out of type inference, sibling layers of one
schema, messages naming the table and the family, set-aside rows numbered as the sheet does.

Data derived from ../shared/data: the 94 cities of settlements_94_cities.geojson.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from openpyxl import Workbook

from geoportal import cli as cli_module
from geoportal.etl import pipeline
from geoportal.storage import Query
from tests.conftest import Portal, write_geojson, write_manifest
from tests.integration.test_admin_api import _manifest, portal, tokens, upload, wait  # noqa: F401

DATA = Path("/work/shared/data")
CITIES = DATA / "settlements" / "settlements_94_cities.geojson"


def cities(n: int = 94) -> list[tuple[str, shapely.Point]]:
    features = json.loads(CITIES.read_text(encoding="utf-8"))["features"][:n]
    return [(f["properties"]["name_be"], shapely.Point(f["geometry"]["coordinates"][:2]))
            for f in features]


def _rows(store, layer):
    return store.query(layer.current.store_ref, layer.current.fields, Query(limit=10_000)).rows


@pytest.fixture
def cli(settings, catalog):
    """The real ``geoportal`` command on the same data folder and store as ``catalog``."""
    return Portal(settings.data_dir, settings.database_url)


def _square(p: shapely.Point, d: float = 0.01) -> list[list[float]]:
    return [[p.x, p.y], [p.x + d, p.y], [p.x + d, p.y + d], [p.x, p.y + d], [p.x, p.y]]


def test_a_collection_with_an_open_ring_is_repaired_not_damaged(tmp_path, cli, catalog, store):
    towns = cities(10)
    features = [{"type": "Feature", "properties": {"name": n},
                 "geometry": {"type": "Point", "coordinates": [p.x, p.y]}} for n, p in towns]
    open_ring = _square(towns[0][1])[:-1]  # the ring not closed: GDAL leaves it so
    features.append({"type": "Feature", "properties": {"name": "калекцыя"}, "geometry": {
        "type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "coordinates": [open_ring]}]}})
    features.append({"type": "Feature", "properties": {"name": "квадрат"}, "geometry": {
        "type": "Polygon", "coordinates": [_square(towns[1][1])]}})
    src = tmp_path / "mix.geojson"
    src.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                              ensure_ascii=False), encoding="utf-8")
    result = cli.cli("ingest", str(src), "--no-progress", check=False)
    assert result.returncode == 0, result.stderr
    assert "could not be read" not in result.stdout + result.stderr
    rows = {r.properties["name"]: r.geometry for r in
            _rows(store, catalog.get_layer("mix-polygons"))}
    assert set(rows) == {"калекцыя", "квадрат"}
    want = shapely.Polygon(_square(towns[0][1]))
    assert shapely.equals_exact(shapely.normalize(rows["калекцыя"]), shapely.normalize(want),
                                tolerance=1e-6)
    points = {r.properties["name"]: r.geometry for r in
              _rows(store, catalog.get_layer("mix-points"))}
    for name, p in towns:
        assert (points[name].x, points[name].y) == pytest.approx((p.x, p.y), abs=1e-6)


def test_a_split_file_is_resolved_counted_and_hashed_once(tmp_path, settings, catalog, store,
                                                          monkeypatch):
    towns = cities(20)
    src = write_geojson(tmp_path / "objects.geojson", [
        *(({"name": n}, p) for n, p in towns),
        *(({"name": n + " зона"}, shapely.Polygon(_square(p))) for n, p in towns[:5])])
    calls = {"census": 0, "resolve": 0, "hash": 0}

    def spy(name, real):
        def wrapped(*args, **kwargs):
            calls[name] += 1
            return real(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(cli_module, "take_census", spy("census", cli_module.take_census))
    monkeypatch.setattr(pipeline, "take_census", spy("census", pipeline.take_census))
    monkeypatch.setattr(cli_module, "resolve_source", spy("resolve", cli_module.resolve_source))
    monkeypatch.setattr(pipeline, "resolve_source", spy("resolve", pipeline.resolve_source))
    monkeypatch.setattr(pipeline, "fingerprint", spy("hash", pipeline.fingerprint))
    env = {"GEOPORTAL_DATA_DIR": str(settings.data_dir),
           "GEOPORTAL_CONFIG_DIR": str(settings.config_dir),
           "GEOPORTAL_LAYERS_DIR": str(settings.layers_dir)}
    if settings.database_url:
        env["GEOPORTAL_DATABASE_URL"] = settings.database_url
    result = CliRunner().invoke(cli_module.main, ["ingest", str(src), "--no-progress"], env=env)
    assert result.exit_code == 0, result.output
    assert calls == {"census": 1, "resolve": 1, "hash": 1}
    digests = {catalog.get_layer(i).current.source_sha256
               for i in ("objects-points", "objects-polygons")}
    assert len(digests) == 1
    points = {r.properties["name"]: r.geometry for r in
              _rows(store, catalog.get_layer("objects-points"))}
    for name, p in towns:
        assert (points[name].x, points[name].y) == pytest.approx((p.x, p.y), abs=1e-6)


def _register_sheet(path: Path, towns: list[tuple[str, shapely.Point]]) -> int:
    """A register as typed in Excel: two title rows, a blank row, the header on row 4, a
    totals row below; returns the totals row's sheet row."""
    wb = Workbook()
    ws = wb.active
    ws.append(["Рэестр гарадоў"])
    ws.append(["па стане на 01.01.2026"])
    ws.append([])
    ws.append(["№", "Назва", "lon", "lat"])
    for i, (name, p) in enumerate(towns, 1):
        ws.append([i, name, p.x, p.y])
    ws.append(["Разам", len(towns), None, None])
    wb.save(path)
    return 4 + len(towns) + 1


def test_a_totals_row_leaves_the_types_alone_and_is_named_by_its_sheet_row(
        tmp_path, cli, publish, catalog, store):
    towns = cities(12)
    totals = _register_sheet(tmp_path / "register.xlsx", towns)
    report = publish(write_manifest(tmp_path, "register", {
        "path": "register.xlsx", "x_field": "lon", "y_field": "lat"}))
    layer = catalog.get_layer("register")
    assert {f.name: f.type for f in layer.current.fields}["no"] == "integer"
    assert report.set_aside_samples == [
        {"row": totals, "reason": "a totals or notes row, not a feature: 'Разам'"}]
    rows = _rows(store, layer)
    assert sorted(r.properties["no"] for r in rows) == list(range(1, len(towns) + 1))
    for r in rows:
        name, p = towns[r.properties["no"] - 1]
        assert r.properties["nazva"] == name
        assert (r.geometry.x, r.geometry.y) == pytest.approx((p.x, p.y), abs=1e-6)
    # the CSV: the row is the file's line (title lines and blank line counted)
    lines = ["Рэестр гарадоў", "", "№;Назва;lon;lat"]
    lines += [f"{i};{n};{p.x};{p.y}" for i, (n, p) in enumerate(towns, 1)]
    lines.append(f"Разам;{len(towns)};;")
    (tmp_path / "register.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli.cli("ingest", str(tmp_path / "register.csv"), "--id", "register-csv",
                     "--x-field", "lon", "--y-field", "lat", "--json", "--no-progress",
                     check=False)
    assert result.returncode == 0, result.stderr
    said = json.loads(result.stdout)[0]
    assert said["set_aside_samples"] == [
        {"row": len(lines), "reason": "a totals or notes row, not a feature: 'Разам'"}]
    assert said["field_types"]["no"].startswith("integer")


def test_the_layers_of_a_split_table_share_one_schema(tmp_path, cli, catalog, store):
    towns = cities(12)
    to = pyproj.Transformer.from_crs(4326, 32635, always_xy=True)
    lines = ["№;name;wkt"]
    for i, (name, p) in enumerate(towns, 1):
        geom = p if i % 3 else shapely.Polygon(_square(p))  # 8 points, 4 polygons
        xy = shapely.get_coordinates(geom)
        moved = shapely.transform(geom, lambda c: np.column_stack(to.transform(c[:, 0],
                                                                               c[:, 1])))
        assert len(xy)
        lines.append(f"{i};{name};{shapely.to_wkt(moved, rounding_precision=3)}")
    lines.append("Итого;12;")
    src = tmp_path / "objects.csv"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli.cli("ingest", str(src), "--crs", "EPSG:32635", "--no-progress", check=False)
    assert result.returncode == 0, result.stderr
    back = pyproj.Transformer.from_crs(32635, 4326, always_xy=True)
    for layer_id in ("objects-points", "objects-polygons"):
        layer = catalog.get_layer(layer_id)
        assert [(f.name, f.type) for f in layer.current.fields] == [
            ("no", "integer"), ("name", "string")], layer_id
        for r in _rows(store, layer):
            name, p = towns[r.properties["no"] - 1]
            assert r.properties["name"] == name
            x, y = to.transform(p.x, p.y)
            lon, lat = back.transform(round(x, 3), round(y, 3))
            first = shapely.get_coordinates(r.geometry)[0]
            assert tuple(first) == pytest.approx((lon, lat), abs=1e-6)


def _dxf(path: Path, lines: list[tuple[float, float]], label: tuple[float, float]) -> None:
    def entity(*pairs: tuple[int, object]) -> str:
        return "".join(f"{code}\n{value}\n" for code, value in pairs)
    body = entity((0, "SECTION"), (2, "ENTITIES"))
    for x, y in lines:
        body += entity((0, "LINE"), (8, "roads"), (10, x), (20, y), (30, 0), (11, x + 0.01),
                       (21, y + 0.01), (31, 0))
    body += entity((0, "TEXT"), (8, "labels"), (10, label[0]), (20, label[1]), (30, 0),
                   (40, 1), (1, "Minsk"))
    path.write_text(body + entity((0, "ENDSEC"), (0, "EOF")), encoding="ascii")


def test_a_dxf_keeps_its_text_column_in_every_layer_of_a_split(tmp_path, cli, catalog, store):
    towns = cities(3)
    _dxf(tmp_path / "plan.dxf", [(p.x, p.y) for _, p in towns], (27.55, 53.9))
    result = cli.cli("ingest", str(tmp_path / "plan.dxf"), "--crs", "EPSG:4326",
                     "--no-progress", check=False)
    assert result.returncode == 0, result.stderr
    for layer_id in ("plan-lines", "plan-points"):
        fields = [f.name for f in catalog.get_layer(layer_id).current.fields]
        assert fields == ["layer", "text"], layer_id
    [label] = _rows(store, catalog.get_layer("plan-points"))
    assert label.properties["text"] == "Minsk"
    assert (label.geometry.x, label.geometry.y) == pytest.approx((27.55, 53.9), abs=1e-6)


def test_no_feature_to_publish_names_the_family(tmp_path, cli, catalog):
    towns = cities(5)
    far = [shapely.Polygon(_square(shapely.Point(10.0 + i, 45.0))) for i in range(2)]
    src = write_geojson(tmp_path / "objects.geojson", [
        *(({"name": n}, p) for n, p in towns), *(({"name": "far"}, g) for g in far)])
    result = cli.cli("ingest", str(src), "--no-progress", check=False)
    assert "objects.geojson: polygons: no feature can be published (2 outside" in result.stderr
    assert catalog.get_layer("objects-points").current.feature_count == len(towns)


def test_an_upload_refuses_split_geometry(portal, tokens):  # noqa: F811
    towns = cities(3)
    content = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": n},
         "geometry": {"type": "Point", "coordinates": [p.x, p.y]}} for n, p in towns]},
        ensure_ascii=False).encode()
    manifest = json.loads(_manifest("split-up", "0000000000"))
    manifest["source"]["split_geometry"] = True
    r = upload(portal, tokens["admin"], json.dumps(manifest), "objects.geojson", content)
    assert r.status_code == 422, r.text  # at once, not as a job that fails later
    assert r.json()["description"].startswith(
        "objects.geojson: source.split_geometry cannot be used in an upload, which publishes "
        "one layer")
