"""Region boundaries on the real config/boundaries.geojson and config/regions.yaml."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import shapely
import yaml
from pydantic import ValidationError
from pyproj import Transformer
from shapely.ops import nearest_points

from geoportal.admin.boundaries import BOUNDARIES_FILE, METRIC_CRS, RegionBoundaries
from geoportal.catalog import load_registry
from geoportal.config import load_settings
from geoportal.errors import SchemaError

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
COUNTRY, GRODNO_OBLAST, MINSK_CITY, MINSK_OBLAST = ("0000000000", "4000000000", "5000000000",
                                                    "6000000000")
GRODNO_RAION, DRYBIN_RAION, HORKI_RAION = "4220000000", "7223000000", "7220000000"

# (longitude, latitude): CRS84
GRODNO = shapely.Point(23.83, 53.68)
MINSK = shapely.Point(27.56, 53.90)
DRYBIN = shapely.Point(31.10, 54.117)
NAROCH = shapely.Point(26.78, 54.85)  # Lake Naroch, a hole of Minsk oblast in geoBoundaries
BIALYSTOK = shapely.Point(23.16, 53.13)  # Poland, west of Grodno oblast
DRUSKININKAI = shapely.Point(23.97, 54.02)  # Lithuania, inside Grodno oblast's bbox
ALYTUS = shapely.Point(24.05, 54.40)  # Lithuania, 50 km beyond the border
OBLAST_CITIES = {
    "1000000000": shapely.Point(23.69, 52.10),  # Brest
    "2000000000": shapely.Point(30.20, 55.19),  # Vitebsk
    "3000000000": shapely.Point(30.99, 52.43),  # Gomel
    GRODNO_OBLAST: GRODNO,
    MINSK_CITY: MINSK,
    MINSK_OBLAST: shapely.Point(28.50, 54.23),  # Barysaw
    "7000000000": shapely.Point(30.34, 53.91),  # Mogilev
}


@pytest.fixture(scope="module")
def registry():
    return load_registry(CONFIG_DIR)


@pytest.fixture(scope="module")
def boundaries(registry) -> RegionBoundaries:
    return RegionBoundaries.load(CONFIG_DIR, registry, 250)


@pytest.fixture(scope="module")
def collection() -> dict:
    with (CONFIG_DIR / BOUNDARIES_FILE).open(encoding="utf-8") as fh:
        return json.load(fh)


def _beyond_border(collection: dict, code: str, towards: shapely.Point,
                   metres: float) -> shapely.Point:
    """The point ``metres`` outside ``code``'s own boundary, moving from its nearest point to
    ``towards`` straight on towards it (every point on that line has the same nearest point,
    so its distance from the region is exactly ``metres``)."""
    to_metric = Transformer.from_crs("OGC:CRS84", METRIC_CRS, always_xy=True)
    to_lonlat = Transformer.from_crs(METRIC_CRS, "OGC:CRS84", always_xy=True)
    own = next(shapely.geometry.shape(f["geometry"]) for f in collection["features"]
               if f["properties"]["code"] == code)
    region = shapely.transform(own, to_metric.transform, interleaved=False)
    target = shapely.Point(to_metric.transform(towards.x, towards.y))
    on_border, _ = nearest_points(region.boundary, target)
    dx, dy = target.x - on_border.x, target.y - on_border.y
    norm = (dx * dx + dy * dy) ** 0.5
    point = shapely.Point(on_border.x + dx / norm * metres, on_border.y + dy / norm * metres)
    assert not region.contains(point)
    assert region.distance(point) == pytest.approx(metres, abs=0.5)
    return shapely.Point(to_lonlat.transform(point.x, point.y))


def test_a_point_is_inside_its_oblast_only(boundaries):
    assert not boundaries.outside([GRODNO_OBLAST], GRODNO)
    assert boundaries.outside([MINSK_CITY], GRODNO)
    assert not boundaries.outside([MINSK_CITY], MINSK)
    assert boundaries.outside([GRODNO_OBLAST], MINSK)


def test_minsk_city_is_a_hole_of_minsk_oblast_but_its_lakes_are_not(boundaries):
    assert boundaries.outside([MINSK_OBLAST], MINSK)
    assert not boundaries.outside([MINSK_OBLAST], NAROCH)
    assert not boundaries.outside([COUNTRY], NAROCH)


def test_a_minsk_city_district_uses_minsk_citys_boundary(boundaries, registry):
    district = next(code for code, region in registry.regions.items()
                    if region.level == "city-district")
    assert district.startswith("52") and district not in boundaries.codes
    assert not boundaries.outside([district], MINSK)
    assert boundaries.outside([district], GRODNO)
    assert boundaries.area([district]).equals(boundaries.area([MINSK_CITY]))


def test_the_tolerance_lets_a_feature_reach_just_beyond_the_border(boundaries, registry,
                                                                   collection):
    near = _beyond_border(collection, GRODNO_OBLAST, BIALYSTOK, 100)
    far = _beyond_border(collection, GRODNO_OBLAST, BIALYSTOK, 5000)
    assert not boundaries.outside([GRODNO_OBLAST], near)
    assert boundaries.outside([GRODNO_OBLAST], far)
    exact = RegionBoundaries.load(CONFIG_DIR, registry, 0)
    assert exact.outside([GRODNO_OBLAST], near)
    assert not exact.outside([GRODNO_OBLAST], GRODNO)


def test_a_line_from_grodno_into_lithuania_is_outside(boundaries):
    into_lithuania = shapely.LineString([GRODNO, ALYTUS])
    assert boundaries.outside([GRODNO_OBLAST], into_lithuania)
    assert boundaries.outside([COUNTRY], into_lithuania)
    in_town = shapely.LineString([GRODNO, (23.85, 53.69)])
    assert not boundaries.outside([GRODNO_OBLAST], in_town)
    assert not boundaries.outside([GRODNO_OBLAST], in_town.buffer(0.005))


def test_the_whole_geometry_must_be_inside_the_union_of_the_regions(boundaries):
    both = [GRODNO_OBLAST, MINSK_CITY]
    assert not boundaries.outside(both, shapely.MultiPoint([GRODNO, MINSK]))
    assert boundaries.outside([GRODNO_OBLAST], shapely.MultiPoint([GRODNO, MINSK]))
    # the straight line between them crosses Minsk oblast
    assert boundaries.outside(both, shapely.LineString([GRODNO, MINSK]))
    assert not boundaries.outside([*both, MINSK_OBLAST], shapely.LineString([GRODNO, MINSK]))


def test_a_raion_code_works(boundaries):
    assert not boundaries.outside([GRODNO_RAION], GRODNO)
    assert boundaries.outside([GRODNO_RAION], MINSK)
    assert boundaries.outside([GRODNO_RAION], OBLAST_CITIES["1000000000"])
    # Drybin raion comes from OSM and was cut out of Horki raion
    assert not boundaries.outside([DRYBIN_RAION], DRYBIN)
    assert boundaries.outside([HORKI_RAION], DRYBIN)


def test_the_country_covers_a_point_in_every_oblast(boundaries):
    points = list(OBLAST_CITIES.values())
    for code, point in OBLAST_CITIES.items():
        assert not boundaries.outside([code], point), code
        assert not boundaries.outside([COUNTRY], point), code
    assert not boundaries.outside([COUNTRY], points).any()  # vectorized
    assert list(boundaries.outside([GRODNO_OBLAST], points)) == [
        code != GRODNO_OBLAST for code in OBLAST_CITIES]
    assert boundaries.outside([COUNTRY], BIALYSTOK)


def test_empty_geometries_and_no_codes(boundaries):
    assert not boundaries.outside([GRODNO_OBLAST], shapely.Point())
    assert not boundaries.outside([GRODNO_OBLAST], None)
    assert boundaries.outside([], GRODNO)
    assert boundaries.area([]).is_empty


def test_an_unknown_code_is_a_schema_error(boundaries):
    with pytest.raises(SchemaError, match="9999999999"):
        boundaries.outside(["9999999999"], GRODNO)


def test_areas_are_cached_per_set_of_codes(boundaries):
    first = boundaries.area([GRODNO_OBLAST, MINSK_CITY])
    assert boundaries.area((MINSK_CITY, GRODNO_OBLAST)) is first
    assert boundaries.area({GRODNO_OBLAST}) is not first
    assert shapely.is_prepared(first)


def test_threads_share_one_area(registry):
    fresh = RegionBoundaries.load(CONFIG_DIR, registry, 250)
    line = shapely.LineString([GRODNO, ALYTUS])
    results: list[list[bool]] = []
    areas = []

    def check():
        areas.append(fresh.area([GRODNO_OBLAST]))
        # Each thread keeps its own answers: a shared list.extend interleaves them.
        results.append([fresh.outside([GRODNO_OBLAST], g) for g in [GRODNO, line] * 200])

    threads = [threading.Thread(target=check) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(a) for a in areas}) == 1
    assert len(results) == 8
    assert all(r == [False, True] * 200 for r in results)


def test_the_generated_file_has_one_feature_per_region(collection, registry):
    features = collection["features"]
    codes = [f["properties"]["code"] for f in features]
    assert len(features) == 126
    assert len(set(codes)) == 126 and codes == sorted(codes)
    assert set(codes) <= set(registry.regions)
    with (CONFIG_DIR / "regions.yaml").open(encoding="utf-8") as fh:
        levels = {r["code"]: r["level"] for r in yaml.safe_load(fh)["regions"]}
    assert sorted(levels[c] for c in codes).count("raion") == 118
    assert {levels[c] for c in codes} == {"country", "oblast", "city", "raion"}
    assert all(f["properties"] == {"code": f["properties"]["code"]} for f in features)
    assert all(f["geometry"]["type"] in {"Polygon", "MultiPolygon"} for f in features)
    assert "OpenStreetMap" in collection["attribution"] and collection["license"] == "ODbL-1.0"
    assert (CONFIG_DIR / BOUNDARIES_FILE).stat().st_size < 2 * 1024 * 1024


def test_without_the_file_regions_fall_back_to_their_bboxes(registry, boundaries, tmp_path):
    fallback = RegionBoundaries.load(tmp_path, registry, 250)
    assert fallback.codes == frozenset()
    # Druskininkai (Lithuania) lies in Grodno oblast's bbox, but not in the oblast
    assert boundaries.outside([GRODNO_OBLAST], DRUSKININKAI)
    assert not fallback.outside([GRODNO_OBLAST], DRUSKININKAI)
    assert not fallback.outside([GRODNO_OBLAST], GRODNO)
    assert fallback.outside([GRODNO_OBLAST], MINSK)
    assert not fallback.outside(["5201000000"], MINSK)


def test_a_broken_file_is_a_schema_error(registry, tmp_path):
    path = tmp_path / BOUNDARIES_FILE
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                    '"properties": {"code": "9999999999"}, "geometry": {"type": "Polygon", '
                    '"coordinates": [[[27, 53], [28, 53], [28, 54], [27, 53]]]}}]}')
    with pytest.raises(SchemaError, match=r"9999999999 are not in regions\.yaml"):
        RegionBoundaries.load(tmp_path, registry, 250)
    path.write_text("{not json")
    with pytest.raises(SchemaError, match="not readable"):
        RegionBoundaries.load(tmp_path, registry, 250)


def test_the_tolerance_setting(tmp_path):
    assert load_settings(data_dir=tmp_path).boundary_tolerance_m == 250
    assert load_settings(data_dir=tmp_path, boundary_tolerance_m=0).boundary_tolerance_m == 0
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ValidationError, match="boundary_tolerance_m"):
            load_settings(data_dir=tmp_path, boundary_tolerance_m=bad)


def test_an_array_of_geometries_is_checked_at_once_as_one_by_one(boundaries):
    """The ETL checks a whole batch in one call: the answer per feature is the scalar one."""
    import numpy as np

    rng = np.random.default_rng(15)
    points = shapely.points(rng.uniform(22.5, 33.5, 20_000), rng.uniform(50.8, 56.6, 20_000))
    geoms = np.concatenate([points, [None, shapely.Point(), GRODNO, BIALYSTOK]])
    outside = boundaries.outside([GRODNO_OBLAST], geoms)
    assert outside.dtype == bool and outside.shape == geoms.shape
    assert list(outside[-4:]) == [False, False, False, True]
    sample = rng.choice(len(points), 300, replace=False)
    assert [bool(outside[i]) for i in sample] == [
        boundaries.outside([GRODNO_OBLAST], points[i]) for i in sample]
    assert 0 < outside[:-4].sum() < len(points)  # some inside, most not


def test_from_bboxes_uses_the_regions_bboxes_only(registry):
    bboxes = RegionBoundaries.from_bboxes(registry)
    assert bboxes.codes == frozenset() and bboxes.tolerance_m == 0
    assert not bboxes.outside([GRODNO_OBLAST], DRUSKININKAI)  # Lithuania, in the bbox
    assert bboxes.outside([GRODNO_OBLAST], MINSK)
