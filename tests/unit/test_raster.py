"""GeoTIFF to Cloud-Optimized GeoTIFF on real rasters: layout, values, CRS, extent, refusals."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
from affine import Affine
from rasterio.control import GroundControlPoint
from rasterio.transform import from_origin
from rio_cogeo.cogeo import cog_validate

from geoportal.errors import CRSError, GeoportalError, InputError, UnsupportedFormat
from geoportal.etl import raster
from geoportal.etl.raster import describe, make_cog

DATA = Path("/work/shared/data/raster")
VNL, DMSP, LANDSAT = DATA / "vnl_2024.tif", DATA / "dmsp_2013.tif", DATA / "landsat_rgb_utm18n.tif"
BELARUS = (23.1, 51.2, 32.8, 56.2)  # lon/lat, rounded

needs_data = pytest.mark.skipif(not VNL.exists(), reason="shared rasters not mounted")


def _inside_belarus(extent, tol=0.1):
    w, s, e, n = extent
    return (BELARUS[0] - tol <= w < e <= BELARUS[2] + tol
            and BELARUS[1] - tol <= s < n <= BELARUS[3] + tol)


def _write(path: Path, data: np.ndarray, *, crs=None, transform=None, **extra) -> Path:
    """A small striped (not tiled) GeoTIFF, as regions send them."""
    data = data if data.ndim == 3 else data[np.newaxis]
    extra.setdefault("driver", "GTiff")
    with rasterio.open(path, "w", width=data.shape[2], height=data.shape[1],
                       count=data.shape[0], dtype=data.dtype, crs=crs, transform=transform,
                       **extra) as ds:
        ds.write(data)
    return path


def _gk5(path: Path, **kw) -> Path:
    """700 x 600 pixels of 20 m near Minsk in Pulkovo 1942 / Gauss-Krüger zone 5."""
    data = (np.arange(600 * 700, dtype="int32").reshape(600, 700) % 5000).astype("int16")
    return _write(path, data, transform=from_origin(5_530_000, 5_985_000, 20, 20), **kw)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@needs_data
def test_night_lights_become_a_valid_tiled_cog_with_overviews_and_the_same_pixels(tmp_path):
    dst = tmp_path / "out" / "vnl.tif"
    info = make_cog(VNL, dst)
    valid, errors, warnings = cog_validate(dst, quiet=True)
    assert valid and not errors and not warnings
    with rasterio.open(VNL) as src, rasterio.open(dst) as cog:
        assert cog.block_shapes == [(512, 512)]
        assert cog.overviews(1) == [2, 4, 8]  # 2340 px / 8 = 293 px: fits one tile
        assert cog.crs == src.crs and cog.transform == src.transform
        assert cog.nodata == src.nodata == 0
        window = rasterio.windows.Window(1000, 500, 300, 200)
        assert np.array_equal(cog.read(1, window=window), src.read(1, window=window))
        assert np.array_equal(cog.read(), src.read())
        assert cog.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "3"
        assert cog.tags()["OVERVIEW_RESAMPLING"] == "AVERAGE"
    assert info.crs == "EPSG:4326"
    assert (info.width, info.height, info.count, info.dtypes) == (2340, 1212, 1, ["float32"])
    assert info.overviews == [2, 4, 8] and info.blocksize == (512, 512)
    assert info.compression == "deflate" and info.nodata == 0.0
    assert info.resolution == pytest.approx((1 / 240, 1 / 240))
    assert _inside_belarus(info.extent)
    assert info.extent == pytest.approx((23.1, 51.2033, 32.85, 56.2533), abs=1e-3)
    assert describe(dst) == info
    assert json.loads(json.dumps(info.to_dict(), allow_nan=False))["blocksize"] == [512, 512]


@needs_data
def test_describe_reports_the_source_as_it_is(tmp_path):
    info = describe(VNL)
    assert (info.compression, info.blocksize, info.overviews) == ("lzw", (2340, 1), [])
    assert _inside_belarus(info.extent)


@needs_data
def test_landsat_keeps_three_bands_and_gets_a_lon_lat_extent(tmp_path):
    info = make_cog(LANDSAT, tmp_path / "rgb.tif")
    assert info.count == 3 and info.dtypes == ["uint8"] * 3 and info.crs == "EPSG:32618"
    assert info.bounds == pytest.approx((101985.0, 2611485.0, 339315.0, 2826915.0))
    to_lonlat = pyproj.Transformer.from_crs(32618, 4326, always_xy=True)
    lon, lat = to_lonlat.transform(220_650, 2_719_200)  # the centre
    w, s, e, n = info.extent
    assert -80 < w < lon < e < -76 and 23 < s < lat < n < 26
    with rasterio.open(LANDSAT) as src, rasterio.open(tmp_path / "rgb.tif") as cog:
        assert np.array_equal(cog.read(), src.read())
        assert cog.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "2"
    assert cog_validate(tmp_path / "rgb.tif", quiet=True)[0]


def test_pulkovo_gauss_kruger_zone5_lands_in_belarus(tmp_path):
    info = make_cog(_gk5(tmp_path / "gk5.tif", crs="EPSG:28405"), tmp_path / "cog.tif")
    assert info.crs == "EPSG:28405" and _inside_belarus(info.extent, tol=0)
    lon, lat = pyproj.Transformer.from_crs(28405, 4326, always_xy=True).transform(
        5_537_000, 5_979_000)
    assert info.extent[0] < lon < info.extent[2] and info.extent[1] < lat < info.extent[3]
    assert info.extent == pytest.approx((27.45, 53.87, 27.67, 53.98), abs=0.02)


def test_a_raster_without_crs_needs_one_from_the_manifest(tmp_path):
    src = _gk5(tmp_path / "nocrs.tif")
    with pytest.raises(CRSError, match=r"^.*nocrs\.tif: .*source\.crs"):
        make_cog(src, tmp_path / "cog.tif")
    assert _listing(tmp_path) == ["nocrs.tif"]
    info = make_cog(src, tmp_path / "cog.tif", crs="EPSG:28405")
    assert info.crs == "EPSG:28405" and _inside_belarus(info.extent, tol=0)
    with rasterio.open(src) as a, rasterio.open(tmp_path / "cog.tif") as b:
        assert b.crs.to_epsg() == 28405 and b.transform == a.transform
        assert np.array_equal(a.read(), b.read())
    assert cog_validate(tmp_path / "cog.tif", quiet=True)[0]


def test_a_manifest_crs_that_contradicts_the_file_is_refused(tmp_path):
    src = _gk5(tmp_path / "gk5.tif", crs="EPSG:28405")
    with pytest.raises(CRSError, match=r"gk5\.tif: .*EPSG:32635.*EPSG:28405"):
        make_cog(src, tmp_path / "cog.tif", crs="EPSG:32635")
    assert make_cog(src, tmp_path / "cog.tif", crs="EPSG:28405").crs == "EPSG:28405"
    with pytest.raises(CRSError, match="not a coordinate reference system"):
        make_cog(src, tmp_path / "cog2.tif", crs="EPSG:999999")


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_files_that_are_not_geotiffs_are_unsupported(tmp_path):
    text = tmp_path / "notes.tif"
    text.write_text("this is not a raster\n")
    with pytest.raises(UnsupportedFormat, match=r"notes\.tif: the content is not \.tif"):
        make_cog(text, tmp_path / "cog.tif")
    png = _write(tmp_path / "image.png", np.zeros((10, 10), "uint8"), driver="PNG")
    with pytest.raises(UnsupportedFormat, match=r"image\.png: rasters must be GeoTIFF"):
        describe(png)
    renamed = png.rename(tmp_path / "image.tif")
    with pytest.raises(UnsupportedFormat, match=r"image\.tif: the content is not \.tif"):
        make_cog(renamed, tmp_path / "cog.tif")
    with pytest.raises(InputError, match=r"missing\.tif: no such file"):
        describe(tmp_path / "missing.tif")
    assert not (tmp_path / "cog.tif").exists()


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_a_tiff_without_georeferencing_or_with_a_rotated_grid_is_refused(tmp_path):
    plain = _write(tmp_path / "scan.tif", np.ones((50, 60), "uint8"))
    with pytest.raises(InputError, match=r"scan\.tif: the raster is not georeferenced"):
        make_cog(plain, tmp_path / "cog.tif", crs="EPSG:28405")
    gcps = [GroundControlPoint(row, col, 5_530_000 + 20 * col, 5_985_000 - 20 * row)
            for row, col in ((0, 0), (0, 60), (50, 0), (50, 60))]
    warped = _write(tmp_path / "gcps.tif", np.ones((50, 60), "uint8"), gcps=gcps,
                    crs="EPSG:28405")
    with pytest.raises(InputError, match=r"gcps\.tif: .*only by ground control points; warp"):
        describe(warped)
    rotated = Affine.translation(5_530_000, 5_985_000) @ Affine.rotation(30) @ Affine.scale(20)
    src = _write(tmp_path / "rot.tif", np.ones((50, 60), "uint8"), crs="EPSG:28405",
                 transform=rotated)
    with pytest.raises(InputError, match=r"rot\.tif: rotated grids are not supported"):
        make_cog(src, tmp_path / "cog.tif")
    assert _listing(tmp_path) == ["gcps.tif", "rot.tif", "scan.tif"]


def test_bounds_that_do_not_reach_the_globe_are_a_crs_error(tmp_path):
    # Pulkovo coordinates (millions of metres) labelled as degrees, and UTM far off its zone.
    degrees = _gk5(tmp_path / "deg.tif", crs="EPSG:4326")
    with pytest.raises(CRSError, match=r"deg\.tif: .*do not lie on the globe.*EPSG:4326"):
        make_cog(degrees, tmp_path / "cog.tif")
    far = _write(tmp_path / "far.tif", np.ones((10, 10), "uint8"), crs="EPSG:32635",
                 transform=from_origin(1e9, 2e9, 1000, 1000))
    with pytest.raises(CRSError, match=r"far\.tif: "):
        describe(far)
    assert _listing(tmp_path) == ["deg.tif", "far.tif"]


def test_a_failed_conversion_leaves_no_dst_and_no_temporary_file(tmp_path, monkeypatch):
    src = _gk5(tmp_path / "gk5.tif", crs="EPSG:28405")
    out = tmp_path / "out"
    real = raster.cog_translate

    def half_then_fail(source, dst_path, *args, **kwargs):
        real(source, dst_path, *args, **kwargs)
        assert Path(dst_path).parent == out and Path(dst_path).exists()
        raise OSError("No space left on device")

    monkeypatch.setattr(raster, "cog_translate", half_then_fail)
    with pytest.raises(OSError, match="No space left"):
        make_cog(src, out / "cog.tif")
    assert _listing(out) == []

    monkeypatch.setattr(raster, "cog_translate", real)
    previous = make_cog(src, out / "cog.tif")
    monkeypatch.setattr(raster, "cog_validate", lambda *a, **k: (False, ["IFD misplaced"], []))
    with pytest.raises(GeoportalError, match="not valid: IFD misplaced"):
        make_cog(src, out / "cog.tif", nodata=-1)
    assert _listing(out) == ["cog.tif"] and describe(out / "cog.tif") == previous


def test_nodata_override_is_written_and_must_fit_the_pixel_type(tmp_path):
    src = _gk5(tmp_path / "gk5.tif", crs="EPSG:28405")
    assert make_cog(src, tmp_path / "cog.tif", nodata=-9999).nodata == -9999
    with rasterio.open(tmp_path / "cog.tif") as cog:
        assert cog.nodata == -9999
    with pytest.raises(InputError, match=r"gk5\.tif: nodata 1e\+06 does not fit its int16"):
        make_cog(src, tmp_path / "cog2.tif", nodata=1e6)


def test_a_paletted_land_cover_keeps_its_classes_in_the_overviews(tmp_path):
    classes = np.where(np.indices((1024, 1024)).sum(axis=0) % 2 == 0, 10, 20).astype("uint8")
    src = _write(tmp_path / "landcover.tif", classes, crs="EPSG:28405",
                 transform=from_origin(5_530_000, 5_985_000, 10, 10), photometric="PALETTE")
    with rasterio.open(src, "r+") as ds:
        ds.write_colormap(1, {10: (0, 128, 0, 255), 20: (0, 0, 255, 255)})
    make_cog(src, tmp_path / "cog.tif")
    with rasterio.open(tmp_path / "cog.tif") as cog:
        assert cog.tags()["OVERVIEW_RESAMPLING"] == "NEAREST"
        assert set(np.unique(cog.read(1, out_shape=(256, 256)))) <= {10, 20}
    # The same checkerboard without a palette is continuous: its overviews average to 15.
    plain = _write(tmp_path / "plain.tif", classes, crs="EPSG:28405",
                   transform=from_origin(5_530_000, 5_985_000, 10, 10))
    make_cog(plain, tmp_path / "plain_cog.tif")
    with rasterio.open(tmp_path / "plain_cog.tif") as cog:
        assert set(np.unique(cog.read(1, out_shape=(256, 256)))) == {15}


def test_a_geotiff_inside_a_zip_is_read_and_nan_nodata_is_json_safe(tmp_path):
    data = np.full((40, 30), np.nan, "float32")
    data[10:20] = 3.5
    tif = _write(tmp_path / "dem.tif", data, crs="EPSG:28405",
                 transform=from_origin(5_530_000, 5_985_000, 20, 20), nodata=np.nan)
    with zipfile.ZipFile(tmp_path / "dem.zip", "w") as zf:
        zf.write(tif, "folder/dem.tif")
        zf.writestr("readme.txt", "DEM of Minsk")
    info = make_cog(tmp_path / "dem.zip", tmp_path / "out.tif")
    assert info.width == 30 and info.height == 40 and info.overviews == []
    assert json.loads(json.dumps(info.to_dict(), allow_nan=False))["nodata"] == "nan"
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as zf:
        zf.write(tif, "a.tif")
        zf.write(tif, "b.tif")
    with pytest.raises(UnsupportedFormat, match=r"two\.zip: .*exactly one \.tif, it holds 2"):
        make_cog(tmp_path / "two.zip", tmp_path / "out2.tif")
