"""CRS rescues: a declared lon/lat (or easting/northing) CRS whose coordinates are written the
other way round is read swapped; candidate CRSs that disagree are settled by the gazetteer when
the features carry place names. Files are messy derivatives of /work/shared/data built in
tmp_path; published coordinates are checked against pyproj."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pyogrio.raw
import pyproj
import pytest
import shapely

from geoportal.errors import CRSError
from geoportal.etl import gazetteer
from geoportal.storage import Query
from tests.conftest import LAYERS_DIR, write_manifest

SETTLEMENTS = Path("/work/shared/data/settlements/settlements_94_cities.geojson")
STATIONS = Path("/work/shared/data/transport/railway_stations.tsv")
needs_data = pytest.mark.skipif(not SETTLEMENTS.exists(), reason="shared data not mounted")
COUNTRY = "0000000000"


def cities() -> list[dict]:
    """The 94 cities (name_be, name_ru, lon, lat) of the shared settlements file."""
    data = json.loads(SETTLEMENTS.read_text(encoding="utf-8"))
    return [{"name_be": f["properties"]["name_be"], "name_ru": f["properties"]["name_ru"],
             "lon": f["geometry"]["coordinates"][0], "lat": f["geometry"]["coordinates"][1]}
            for f in data["features"]]


def projected(rows: list[dict], epsg: int) -> np.ndarray:
    """The rows' positions in ``epsg`` (x = easting), as pyproj gives them."""
    t = pyproj.Transformer.from_crs(4326, epsg, always_xy=True)
    return np.column_stack(t.transform([r["lon"] for r in rows], [r["lat"] for r in rows]))


def expected_lonlat(xy: np.ndarray, epsg: int) -> np.ndarray:
    """What the published positions must be: ``xy`` read in ``epsg``, by pyproj."""
    t = pyproj.Transformer.from_crs(epsg, 4326, always_xy=True)
    return np.column_stack(t.transform(xy[:, 0], xy[:, 1]))


def settlements_csv(path: Path, epsg: int, *, name_column: str | None = "Назва",
                    names: list[str] | None = None, rows: list[dict] | None = None
                    ) -> tuple[Path, np.ndarray, list[str]]:
    """A CSV of settlements with x/y in ``epsg`` (no CRS said anywhere) and, unless
    ``name_column`` is None, a name column written as a clerk would ("г. Барысаў")."""
    rows = rows if rows is not None else cities()
    xy = projected(rows, epsg)
    written = names if names is not None else [f"г. {r['name_be']}" for r in rows]
    header = "x,y,population" + (f",{name_column}" if name_column else "")
    lines = [header]
    for i, (x, y) in enumerate(xy):
        line = f"{float(x)!r},{float(y)!r},{1000 + i}"
        lines.append(line + (f",{written[i]}" if name_column else ""))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, xy, written


def settlements_shapefile(path: Path, epsg: int, *, swap: bool = False, prj: bool = False
                          ) -> tuple[Path, np.ndarray, list[str]]:
    """A Shapefile of the cities in ``epsg`` with Russian names (Могилёв written Могилев,
    upper case for some); no .prj unless ``prj``; ``swap`` writes northing first."""
    rows = cities()
    xy = projected(rows, epsg)
    points = shapely.points(xy[:, ::-1] if swap else xy)
    names = [r["name_ru"].replace("ё", "е") for r in rows]
    names = [n.upper() if i % 7 == 0 else n for i, n in enumerate(names)]
    with warnings.catch_warnings():  # "'crs' was not provided": that is the point
        warnings.simplefilter("ignore", UserWarning)
        pyogrio.raw.write(str(path), shapely.to_wkb(points),
                          [np.array(names, dtype=object), np.arange(len(rows))],
                          ["nazvanie", "nomer"], geometry_type="Point",
                          driver="ESRI Shapefile", crs=f"EPSG:{epsg}" if prj else None,
                          encoding="UTF-8")
    return path, xy, names


def features(store, catalog, layer_id: str) -> list:
    layer = catalog.get_layer(layer_id)
    return store.query(layer.current.store_ref, layer.current.fields, Query(limit=10_000)).rows


def published_lonlat(rows: list) -> np.ndarray:
    return np.array([[r.geometry.x, r.geometry.y] for r in rows])


def crs84_geojson(path: Path, rows: list[dict], *, lat_first: list[bool]) -> Path:
    """A GeoJSON declaring CRS84 whose positions are [lat, lon] where ``lat_first``."""
    path.write_text(json.dumps({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [{"type": "Feature", "properties": {"name": r["name_be"]},
                      "geometry": {"type": "Point", "coordinates":
                                   [r["lat"], r["lon"]] if swap else [r["lon"], r["lat"]]}}
                     for r, swap in zip(rows, lat_first, strict=True)]},
        ensure_ascii=False), encoding="utf-8")
    return path


# -- a declared CRS written the other way round --------------------------------------------

@needs_data
def test_declared_crs84_with_latitude_first_is_published_swapped(tmp_path, publish, catalog,
                                                                 store):
    rows = cities()
    src = crs84_geojson(tmp_path / "goroda.geojson", rows, lat_first=[True] * len(rows))
    report = publish(write_manifest(tmp_path, "goroda", {"path": src.name}, region=COUNTRY))
    assert (report.source_crs, report.crs_origin) == ("EPSG:4326", "file")  # as GDAL says
    assert report.features_published == len(rows) == 94
    assert any(n.startswith("declared CRS84, coordinates are lat/lon: swapped")
               for n in report.notes), report.notes
    assert "lat/lon: swapped" in report.crs_reason
    got = features(store, catalog, "goroda")
    assert np.abs(published_lonlat(got) - [[r["lon"], r["lat"]] for r in rows]).max() < 1e-9
    assert [r.properties["name"] for r in got] == [r["name_be"] for r in rows]


@needs_data
def test_csv_declared_epsg4326_in_the_manifest_with_latitude_in_x_is_swapped(tmp_path, publish,
                                                                             catalog, store):
    rows = cities()[:20]
    src = tmp_path / "stancii.csv"
    src.write_text("shirota,dolgota,imya\n" + "".join(
        f"{r['lat']!r},{r['lon']!r},{r['name_ru']}\n" for r in rows), encoding="utf-8")
    report = publish(write_manifest(tmp_path, "stancii", {
        "path": src.name, "crs": "EPSG:4326", "x_field": "shirota", "y_field": "dolgota"},
        region=COUNTRY))
    assert report.crs_origin == "manifest"
    assert any(n.startswith("declared EPSG:4326, coordinates are lat/lon: swapped")
               for n in report.notes), report.notes
    got = features(store, catalog, "stancii")
    assert np.abs(published_lonlat(got) - [[r["lon"], r["lat"]] for r in rows]).max() < 1e-9


@needs_data
def test_shapefile_declaring_utm35_with_northing_first_is_swapped(tmp_path, publish, catalog,
                                                                  store):
    src, xy, names = settlements_shapefile(tmp_path / "punkty.shp", 32635, swap=True, prj=True)
    report = publish(write_manifest(tmp_path, "punkty", {"path": src.name}, region=COUNTRY))
    assert (report.source_crs, report.crs_origin) == ("EPSG:32635", "file")
    assert any(n.startswith("declared EPSG:32635, coordinates are northing/easting: swapped")
               for n in report.notes), report.notes
    got = features(store, catalog, "punkty")
    assert np.abs(published_lonlat(got) - expected_lonlat(xy, 32635)).max() < 1e-6
    assert [r.properties["nazvanie"] for r in got] == names


@needs_data
def test_a_mix_of_lat_lon_and_lon_lat_stays_as_declared(tmp_path, publish, catalog, store):
    rows = cities()
    lat_first = [i % 2 == 0 for i in range(len(rows))]
    src = crs84_geojson(tmp_path / "smes.geojson", rows, lat_first=lat_first)
    report = publish(write_manifest(tmp_path, "smes", {"path": src.name}, region=COUNTRY))
    assert not any("swapped" in n for n in report.notes)
    assert report.features_published == lat_first.count(False)
    assert report.set_aside_count == lat_first.count(True)
    got = features(store, catalog, "smes")
    kept = [r for r, s in zip(rows, lat_first, strict=True) if not s]
    assert np.abs(published_lonlat(got) - [[r["lon"], r["lat"]] for r in kept]).max() < 1e-9


def test_a_declared_crs_that_fits_as_written_is_not_swapped(tmp_path, publish):
    src = tmp_path / "ok.csv"
    src.write_text("x,y\n27.56,53.90\n27.60,53.95\n", encoding="utf-8")
    report = publish(write_manifest(tmp_path, "ok", {"path": src.name, "crs": "EPSG:4326"},
                                    region="5000000000"))
    assert report.crs_reason == "set in the manifest"
    assert not any("swapped" in n for n in report.notes)


# -- ambiguous fits settled by the gazetteer ------------------------------------------------

@needs_data
def test_utm35_shapefile_without_prj_is_settled_by_the_place_names(tmp_path, publish, catalog,
                                                                   store):
    src, xy, names = settlements_shapefile(tmp_path / "naselennye.shp", 32635)
    report = publish(write_manifest(tmp_path, "naselennye", {"path": src.name}, region=COUNTRY),
                     layers_dir=LAYERS_DIR)
    assert (report.source_crs, report.crs_origin) == ("EPSG:32635", "detected")
    (note,) = [n for n in report.notes if n.startswith("settled by the gazetteer")]
    assert note.startswith("settled by the gazetteer: 94 names within 2 km under EPSG:32635 (")
    other = int(note.rsplit("; ", 1)[1].removesuffix(" under EPSG:2495"))
    assert 4 * other <= 94  # a few homonyms near by chance, far fewer than 94
    assert f"{names[0]} 0.0 km" in note  # the names as the file writes them
    got = features(store, catalog, "naselennye")
    assert np.abs(published_lonlat(got) - expected_lonlat(xy, 32635)).max() < 1e-6
    assert [r.properties["nazvanie"] for r in got] == names


@needs_data
def test_gauss_kruger_cm27_csv_with_belarusian_names_is_settled_as_epsg2495(tmp_path, publish,
                                                                           catalog, store):
    src, xy, names = settlements_csv(tmp_path / "garady.csv", 2495, name_column="Назва пункта")
    report = publish(write_manifest(tmp_path, "garady", {"path": src.name}, region=COUNTRY),
                     layers_dir=LAYERS_DIR)
    assert (report.source_crs, report.crs_origin) == ("EPSG:2495", "detected")
    assert "settled by the gazetteer: 94 names within 2 km under EPSG:2495" in report.crs_reason
    got = features(store, catalog, "garady")
    assert np.abs(published_lonlat(got) - expected_lonlat(xy, 2495)).max() < 1e-6
    field = report.renamed_fields.get("Назва пункта", "Назва пункта")
    assert [r.properties[field] for r in got] == names


@needs_data
def test_settlements_without_names_stay_refused_naming_both_candidates(tmp_path, publish):
    src, _, _ = settlements_csv(tmp_path / "bez_imen.csv", 32635, name_column=None)
    with pytest.raises(CRSError) as caught:
        publish(write_manifest(tmp_path, "bez-imen", {"path": src.name}, region=COUNTRY),
                layers_dir=LAYERS_DIR)
    message = caught.value.user_msg
    assert message.startswith("bez_imen.csv: no CRS declared and the coordinates fit several")
    assert "EPSG:32635" in message and "EPSG:2495" in message
    assert message.endswith("set source.crs in the manifest")


@needs_data
def test_four_names_are_too_few_to_settle_it(tmp_path, publish):
    rows = cities()
    names = [f"пункт {i}" for i in range(len(rows))]
    for i in (3, 30, 60, 90):
        names[i] = rows[i]["name_ru"]
    src, _, _ = settlements_csv(tmp_path / "malo.csv", 32635, names=names)
    with pytest.raises(CRSError) as caught:
        publish(write_manifest(tmp_path, "malo", {"path": src.name}, region=COUNTRY),
                layers_dir=LAYERS_DIR)
    message = caught.value.user_msg
    assert ("the place names in 'Назва' do not settle it (4 named features; within 2 km of a "
            "known place of the name: EPSG:2495 0, EPSG:32635 4; one CRS needs at least 5 and "
            "the others at most a quarter as many)") in message, message
    assert message.endswith("set source.crs in the manifest")


@needs_data
def test_names_that_are_not_where_the_gazetteer_has_them_settle_nothing(tmp_path, publish):
    rows = cities()
    names = [r["name_be"] for r in rows[1:]] + [rows[0]["name_be"]]  # each name one row off
    src, _, _ = settlements_csv(tmp_path / "pereputany.csv", 32635, names=names)
    with pytest.raises(CRSError, match="do not settle it"):
        publish(write_manifest(tmp_path, "pereputany", {"path": src.name}, region=COUNTRY),
                layers_dir=LAYERS_DIR)


def test_an_unambiguous_file_does_not_read_the_gazetteer(tmp_path, publish):
    gazetteer._load.cache_clear()
    src = tmp_path / "minsk.csv"
    src.write_text("x,y,name\n27.56,53.90,Мінск\n27.60,53.95,Мінск\n", encoding="utf-8")
    report = publish(write_manifest(tmp_path, "minsk-pts", {"path": src.name},
                                    region="5000000000"), layers_dir=LAYERS_DIR)
    assert report.source_crs == "EPSG:4326"
    assert gazetteer._load.cache_info().currsize == 0


@pytest.mark.parametrize(("written", "folded"), [
    ("г. Барысаў", "барысау"), ("МОГИЛЁВ", "могилев"), ("Мiнск", "минск"),
    ("аг.Мір", "мир"), ("Мар’іна  Горка", "мар'ина горка"), ("Ві́цебск", "вицебск"),
    ("Ивацевичи - Брестская", "ивацевичи-брестская"), ("Гомель", "гомель"),
])
def test_names_are_folded_as_people_write_them(written, folded):
    assert gazetteer.fold(written) == folded


def test_the_gazetteer_holds_the_portals_places_and_skips_zero_positions():
    places = gazetteer.load(LAYERS_DIR)
    assert len(places) > 1000
    (minsk,) = {tuple(np.round(places.lonlat[i], 2)) for i in places.index["минск"]}
    assert minsk == (27.56, 53.9)
    assert (places.lonlat[:, 0] > 15).all()  # Ёткишки and Кледневичи at 0,0 are left out
    assert gazetteer.load(LAYERS_DIR) is places  # read once
