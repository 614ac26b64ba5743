"""GeoTIFFs become coverage layers: a Cloud-Optimized GeoTIFF per version, in the catalog."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rio_cogeo.cogeo import cog_validate

from geoportal.errors import GeometryError, InputError
from tests.conftest import LAYERS_DIR, write_manifest


def test_geotiff_is_published_as_a_cog_coverage_layer(publish, catalog, rasters):
    report = publish(LAYERS_DIR / "by" / "night_lights.yaml")
    layer = catalog.get_layer("night-lights-2024")
    assert layer.meta.kind == "coverage" and report.version == 1
    path = rasters.path(layer.current.store_ref)
    valid, errors, _ = cog_validate(str(path), quiet=True)
    assert valid, errors
    with rasterio.open(path) as ds, rasterio.open(LAYERS_DIR / "by" /
                                                 "night_lights_2024.tif") as src:
        assert (ds.width, ds.height, ds.crs) == (src.width, src.height, src.crs)
        assert ds.overviews(1) == list(report.raster.overviews) and ds.overviews(1)
        window = ((500, 520), (1000, 1030))
        assert (ds.read(1, window=window) == src.read(1, window=window)).all()
    minx, miny, maxx, maxy = layer.current.extent
    assert 22.5 < minx < maxx < 33.5 and 50.5 < miny < maxy < 57
    assert "Cloud-Optimized GeoTIFF of 2340 x 1212 px" in report.summary()
    # The same file again: nothing new; forced: a new version, the old file kept for rollback.
    assert publish(LAYERS_DIR / "by" / "night_lights.yaml").status == "unchanged"
    assert publish(LAYERS_DIR / "by" / "night_lights.yaml", force=True).version == 2
    assert len(rasters.refs()) == 2


def test_raster_outside_the_region_is_refused_and_leaves_no_file(tmp_path, publish, rasters,
                                                                 catalog):
    # A small image in UTM 18N (the Bahamas), where the test data of rasterio lies.
    with rasterio.open(tmp_path / "bahamas.tif", "w", driver="GTiff", width=64, height=64,
                       count=1, dtype="uint8", crs="EPSG:32618",
                       transform=from_origin(230000, 2800000, 30, 30)) as ds:
        ds.write(np.arange(64 * 64, dtype="uint8").reshape(1, 64, 64))
    with pytest.raises(GeometryError, match="outside the layer's region"):
        publish(write_manifest(tmp_path, "bahamas", {"path": "bahamas.tif"},
                               region="5000000000"))
    assert rasters.refs() == set()
    assert catalog.find_layer("bahamas") is None


def test_a_layer_keeps_its_kind(tmp_path, publish, catalog):
    import shapely

    from tests.conftest import write_geojson

    write_geojson(tmp_path / "lights.geojson", [({"n": 1}, shapely.Point(27.5, 53.9))])
    publish(write_manifest(tmp_path, "lights", {"path": "lights.geojson"}))
    (tmp_path / "lights.tif").write_bytes((LAYERS_DIR / "by" / "night_lights_2024.tif")
                                          .read_bytes())
    with pytest.raises(InputError, match="layer 'lights' holds features, not a raster"):
        publish(write_manifest(tmp_path, "lights", {"path": "lights.tif"}))
    assert catalog.get_layer("lights").meta.kind == "vector"


def test_a_truncated_geotiff_is_an_input_error(tmp_path, publish, rasters):
    data = (LAYERS_DIR / "by" / "night_lights_2024.tif").read_bytes()
    (tmp_path / "cut.tif").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.tif: .*(incomplete or damaged|cannot)"):
        publish(write_manifest(tmp_path, "cut", {"path": "cut.tif"}))
    assert rasters.refs() == set()
