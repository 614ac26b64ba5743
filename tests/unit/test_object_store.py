"""The object store's contract, run on the folder store and on S3 (moto's server)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_bounds

from geoportal.catalog import Catalog, load_registry
from geoportal.cleanup import clean_up
from geoportal.config import Settings
from geoportal.errors import NotFound, StorageError
from geoportal.etl import load_manifest
from geoportal.etl.coverage import ingest_raster
from geoportal.storage import open_store
from geoportal.storage.objects import (
    LocalObjectStore,
    ObjectMissing,
    ObjectStore,
    ObjectStoreUnavailable,
    S3ObjectStore,
    open_object_store,
)
from geoportal.storage.raster_read import RasterSource
from geoportal.storage.raster_tiles import Style, render_tile
from geoportal.storage.rasters import RasterStore
from tests.conftest import CONFIG_DIR, free_port, make_settings, write_manifest
from tests.objectstore import SECRET_KEY, MotoS3


@pytest.fixture(params=["folder", "s3"])
def objects(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "folder":
        return LocalObjectStore(tmp_path / "root")
    env: MotoS3 = request.getfixturevalue("s3_env")
    return S3ObjectStore(env.url, dict(env))


def _file(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_put_list_exists_read_delete(objects: ObjectStore, tmp_path: Path) -> None:
    src = _file(tmp_path, "a.tif", b"0123456789" * 100)
    objects.put_file("coverages/roads/a.tif", src)
    objects.put_file("coverages/roads2/b.tif", src)
    objects.put_file("uploads/j1/roads.zip", src)
    assert src.exists()  # copied, not consumed
    assert objects.exists("coverages/roads/a.tif")
    assert not objects.exists("coverages/roads/missing.tif")
    listed = {i.key: i.size for i in objects.list("coverages/")}
    assert listed == {"coverages/roads/a.tif": 1000, "coverages/roads2/b.tif": 1000}
    # a prefix is a string prefix, not only a folder
    assert {i.key for i in objects.list("coverages/roads/")} == {"coverages/roads/a.tif"}
    assert {i.key for i in objects.list("coverages/roads")} == set(listed)
    assert {i.key for i in objects.list("")} == {*listed, "uploads/j1/roads.zip"}
    info = objects.info("coverages/roads/a.tif")
    assert info.size == 1000 and info.etag and info.modified.tzinfo is not None
    assert b"".join(objects.read("coverages/roads/a.tif", 5, 25)) == (b"0123456789" * 3)[5:25]
    assert b"".join(objects.read("coverages/roads/a.tif", 995)) == b"56789"
    objects.delete("coverages/roads/a.tif")
    objects.delete("coverages/roads/a.tif")  # a missing object is fine
    assert not objects.exists("coverages/roads/a.tif")
    with pytest.raises(ObjectMissing):
        objects.info("coverages/roads/a.tif")
    assert objects.delete_prefix("uploads/j1/") == 1
    assert objects.delete_prefix("uploads/j1/") == 0
    assert {i.key for i in objects.list("")} == {"coverages/roads2/b.tif"}


def test_put_move_consumes_the_file(objects: ObjectStore, tmp_path: Path) -> None:
    src = _file(tmp_path, "c.tif", b"cog")
    objects.put_file("coverages/x/c.tif", src, move=True)
    assert not src.exists()
    assert b"".join(objects.read("coverages/x/c.tif")) == b"cog"


def test_local_file_and_big_multipart_put(objects: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(17 * 1024 * 1024 + 3)  # three parts of 8 MiB on S3
    objects.put_file("uploads/job/big.gpkg", _file(tmp_path, "big.gpkg", data))
    with objects.local_file("uploads/job/big.gpkg") as local:
        assert local.name == "big.gpkg"  # the extension survives for the readers
        assert local.read_bytes() == data
    if isinstance(objects, S3ObjectStore):
        assert local.parent.name.startswith("geoportal-read-")
        assert not local.exists() and not local.parent.exists()  # removed on exit
    else:
        assert local.exists()  # the folder store hands out the object's own file
    with pytest.raises(ObjectMissing), objects.local_file("uploads/job/none.gpkg"):
        pass


@pytest.mark.parametrize("key", ["../x.tif", "a/../../x.tif", "/etc/passwd", "a\\..\\x",
                                 "a//b.tif", "", "a/./b"])
def test_keys_that_leave_the_store_are_refused(objects: ObjectStore, tmp_path: Path,
                                               key: str) -> None:
    src = _file(tmp_path, "x.tif", b"x")
    with pytest.raises(StorageError):
        objects.put_file(key, src)
    with pytest.raises(StorageError):
        objects.gdal_path(key)


def test_folder_store_writes_atomically_in_place(tmp_path: Path) -> None:
    objects = LocalObjectStore(tmp_path)
    objects.put_file("coverages/l/v.tif", _file(tmp_path, "src.tif", b"v"))
    assert objects.gdal_path("coverages/l/v.tif") == str(tmp_path.resolve() / "coverages/l/v.tif")
    assert objects.gdal_options() == {}
    assert [p.name for p in (tmp_path / "coverages/l").iterdir()] == ["v.tif"]  # no part left
    # a hidden part of a write in progress is not an object
    (tmp_path / "coverages/l/.w.tif.part-1").write_bytes(b"half")
    assert [i.key for i in objects.list("coverages/")] == ["coverages/l/v.tif"]
    objects.delete("coverages/l/v.tif")
    assert (tmp_path / "coverages/l").is_dir()  # still holds the part: not empty, kept
    (tmp_path / "coverages/l/.w.tif.part-1").unlink()
    objects.put_file("coverages/l/v.tif", _file(tmp_path, "src.tif", b"v"))
    objects.delete("coverages/l/v.tif")
    assert not (tmp_path / "coverages/l").exists()  # an emptied folder goes
    assert tmp_path.is_dir()  # never the root
    objects.check()


def test_folder_store_refuses_a_symlink_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "link").symlink_to(outside)
    with pytest.raises(StorageError):
        LocalObjectStore(tmp_path / "root").put_file("link/x.tif", _file(tmp_path, "x", b"x"))
    assert not (outside / "x.tif").exists()


def test_s3_gdal_options_come_from_the_aws_variables(s3_env: MotoS3) -> None:
    objects = S3ObjectStore(s3_env.url, dict(s3_env))
    host = s3_env.endpoint.removeprefix("http://")
    assert objects.gdal_path("coverages/l/v.tif") == \
        f"/vsis3/{s3_env.bucket}/{s3_env.prefix}/coverages/l/v.tif"
    options = objects.gdal_options()
    assert options["AWS_S3_ENDPOINT"] == host
    assert options["AWS_HTTPS"] == "NO"
    assert options["AWS_VIRTUAL_HOSTING"] == "FALSE"
    assert options["GDAL_DISABLE_READDIR_ON_OPEN"] == "EMPTY_DIR"
    assert int(options["GDAL_HTTP_MAX_RETRY"]) <= 3
    assert objects.describe == f"s3://{s3_env.bucket}/{s3_env.prefix} at {s3_env.endpoint}"
    objects.check()


def test_check_on_a_dead_endpoint_names_it_without_the_secret() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    objects = S3ObjectStore("s3://geo/portal", {
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "key-id",
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": "us-east-1"})
    with pytest.raises(ObjectStoreUnavailable) as caught:  # a StorageError: HTTP 503
        objects.check()
    assert caught.value.http_status == 503 and caught.value.retry_after
    message = str(caught.value)
    assert endpoint in message and "s3://geo/portal" in message
    assert SECRET_KEY not in message and SECRET_KEY not in repr(caught.value.__dict__)


def test_check_on_a_missing_bucket_fails(s3_env: MotoS3) -> None:
    objects = S3ObjectStore(f"s3://no-such-bucket-{s3_env.prefix}/p", dict(s3_env))
    with pytest.raises(StorageError, match="no-such-bucket"):
        objects.check()


def test_open_object_store_follows_the_setting(tmp_path: Path, s3_env: MotoS3,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    default = open_object_store(make_settings(tmp_path / "var"))
    assert isinstance(default, LocalObjectStore) and default.root == (tmp_path / "var").resolve()
    there = open_object_store(make_settings(tmp_path / "var",
                                            object_store=f"file://{tmp_path / 'elsewhere'}"))
    assert isinstance(there, LocalObjectStore) and there.root == (tmp_path / "elsewhere")
    for name, value in s3_env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(data_dir=tmp_path / "var")
    s3 = open_object_store(settings)
    assert isinstance(s3, S3ObjectStore) and s3.describe.startswith(s3_env.url)
    s3.check()


def _sqlite_catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    catalog.init(load_registry(CONFIG_DIR))
    return catalog


def _relief(folder: Path) -> Path:
    path = folder / "relief.tif"
    with rasterio.open(path, "w", driver="GTiff", width=64, height=64, count=1, dtype="uint8",
                       crs="EPSG:4326", transform=from_bounds(27.5, 53.8, 27.6, 53.9, 64, 64)
                       ) as out:
        out.write(np.arange(64 * 64, dtype="uint8").reshape(1, 64, 64))
    return path


def test_a_cog_the_store_refuses_leaves_no_catalog_row(tmp_path: Path) -> None:
    catalog = _sqlite_catalog(tmp_path)
    dead = S3ObjectStore("s3://geo/portal", {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
                                             "AWS_ACCESS_KEY_ID": "k",
                                             "AWS_SECRET_ACCESS_KEY": "s"})
    _relief(tmp_path)
    manifest = load_manifest(write_manifest(tmp_path, "relief", {"path": "relief.tif"}))
    with pytest.raises(StorageError, match=r"127\.0\.0\.1"):
        ingest_raster(manifest, catalog=catalog, rasters=RasterStore(dead),
                      registry=load_registry(CONFIG_DIR), bounds=None)
    assert catalog.find_layer("relief") is None
    assert not list(Path(tempfile.gettempdir()).glob("geoportal-cog-*/*.tif"))  # no leftover


def test_cog_on_s3_and_its_clean_up_against_the_catalog(tmp_path: Path, s3_env: MotoS3) -> None:
    catalog = _sqlite_catalog(tmp_path)
    rasters = RasterStore(S3ObjectStore(s3_env.url, dict(s3_env)))
    _relief(tmp_path)
    manifest = load_manifest(write_manifest(tmp_path, "relief", {"path": "relief.tif"}))
    report = ingest_raster(manifest, catalog=catalog, rasters=rasters,
                           registry=load_registry(CONFIG_DIR), bounds=None)
    ref = catalog.get_layer("relief").current.store_ref
    assert report.status == "published" and rasters.refs() == {ref}
    with RasterSource(rasters.location(ref), "relief")._open() as ds:  # in place, /vsis3/
        assert ds.read(1)[0, :3].tolist() == [0, 1, 2] and ds.overviews(1) == []
    orphan = rasters.new_ref("relief")
    rasters.objects.put_file(rasters.key(orphan), tmp_path / "relief.tif")
    store = open_store(make_settings(tmp_path / "var"))
    try:
        young = clean_up(catalog, store, coverage_dir=rasters, uploads_dir=None, grace_s=3600,
                         temp=False)
        assert young.removed == [] and rasters.refs() == {ref, orphan}  # may be registering
        # S3 dates a multipart upload from its start: an object store's orphan is kept 6 h
        # whatever the folder grace, so a COG that took long to upload is not taken
        slow = clean_up(catalog, store, coverage_dir=rasters, uploads_dir=None, grace_s=0,
                        temp=False)
        assert slow.removed == [] and rasters.refs() == {ref, orphan}
        old = clean_up(catalog, store, coverage_dir=rasters, uploads_dir=None, grace_s=0,
                       temp=False, object_grace_s=0)
    finally:
        store.close()
    assert [r.name for r in old.removed] == [f"coverages/{orphan}"]
    assert rasters.refs() == {ref}  # the published version is kept


def test_reading_a_cog_from_an_away_store_is_a_503_and_a_gone_one_a_404(s3_env: MotoS3) -> None:
    dead = RasterStore(S3ObjectStore("s3://geo/portal", {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s"}))
    with pytest.raises(ObjectStoreUnavailable):
        RasterSource(dead.location("l/x.tif"), "l").grid(bounds=None, bounds_crs=None,
                                                         crs=None)
    with pytest.raises(ObjectStoreUnavailable):
        render_tile(dead.location("l/x.tif"), 9, 295, 162, Style())
    empty = RasterStore(S3ObjectStore(s3_env.url, dict(s3_env)))
    with pytest.raises(NotFound):
        RasterSource(empty.location("l/x.tif"), "l").grid(bounds=None, bounds_crs=None,
                                                          crs=None)
    with pytest.raises(NotFound):
        render_tile(empty.location("l/x.tif"), 9, 295, 162, Style())


def test_a_known_outage_fails_at_once_and_probes_once_a_second() -> None:
    """After one failure the store is known away: calls are refused without going to the
    store (one a second probes), so a burst of requests does not each wait for timeouts."""
    from geoportal.storage.objects import PROBE_EVERY_S

    dead = S3ObjectStore("s3://geo/outage", {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s"})
    with pytest.raises(ObjectStoreUnavailable):
        dead.info("coverages/l/x.tif")
    assert dead.outage.down
    refused_at_once = 0
    for _ in range(20):
        with pytest.raises(ObjectStoreUnavailable) as caught:
            dead.exists("coverages/l/x.tif")
        refused_at_once += "known for this process" in str(caught.value)
        assert caught.value.store == dead.describe
    assert refused_at_once >= 19  # at most one of them was let through to probe
    location = RasterStore(dead).location("l/x.tif")
    with pytest.raises(ObjectStoreUnavailable, match="known for this process"):
        render_tile(location, 9, 295, 162, Style())  # refused before GDAL tries
    assert PROBE_EVERY_S <= 1.0


def test_an_outage_ends_when_the_probe_answers(s3_env: MotoS3, tmp_path: Path) -> None:
    store = S3ObjectStore(s3_env.url, dict(s3_env))
    store.put_file("a/b.txt", _file(tmp_path, "b.txt", b"x"))
    store.outage.failed(ConnectionError("simulated: the store was away"))
    with pytest.raises(ObjectStoreUnavailable):
        store.exists("a/b.txt")  # within the probe interval: refused without asking
    deadline = time.monotonic() + 10
    while True:  # the next probe (within PROBE_EVERY_S) finds the store and ends the outage
        try:
            assert store.exists("a/b.txt")
            break
        except ObjectStoreUnavailable:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert not store.outage.down


def test_a_missing_cog_names_no_store_path_and_locations_hide_the_keys(s3_env: MotoS3) -> None:
    rasters = RasterStore(S3ObjectStore(s3_env.url, dict(s3_env)))
    location = rasters.location("l/gone.tif")
    assert SECRET_KEY not in repr(location) and "vsis3" in repr(location)
    for read in (lambda: render_tile(location, 9, 295, 162, Style()),
                 lambda: RasterSource(location, "l").grid(bounds=None, bounds_crs=None,
                                                          crs=None)):
        with pytest.raises(NotFound) as caught:
            read()
        for language in ("en", "ru", "be"):
            shown = caught.value.user_message(language)
            assert "vsis3" not in shown and s3_env.bucket not in shown and s3_env.prefix \
                not in shown, shown
        assert "vsis3" in str(caught.value)  # the log keeps where it looked
    with pytest.raises(NotFound) as tile:
        render_tile(location, 9, 295, 162, Style())
    assert "хранилище файлов" in tile.value.user_message("ru")  # translated
