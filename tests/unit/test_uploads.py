"""Saving uploads and refusing hostile ones: geoportal.admin.uploads on files built in tmp_path.

Every archive is made here with ``zipfile`` (a few then have bytes patched to what ``zipfile``
will not write: a NUL in a name, a lying size, Zip64 end records). No server, no network.
"""

from __future__ import annotations

import io
import json
import random
import stat
import struct
import zipfile
from http import HTTPStatus
from pathlib import Path

import pytest

from geoportal.admin.jobs import _read_error, _shown_to_users, _stored_error, _without_paths
from geoportal.admin.uploads import (
    SUPPORTED_SUFFIXES,
    UploadLimits,
    UploadRejected,
    check_archive,
    check_format,
    safe_filename,
    save_upload,
)
from geoportal.errors import InputError
from geoportal.etl import sandbox
from geoportal.etl.coverage import RASTER_SUFFIXES
from geoportal.etl.readers import _FORMATS
from geoportal.i18n import Message, tr, translate

MiB = 1024**2
LIMITS = UploadLimits()
SHAPEFILE = {"a.shp": b"\0\0\x27\x0a" + bytes(96), "a.dbf": b"\x03" + bytes(40),
             "a.shx": b"\0\0\x27\x0a" + bytes(96), "a.prj": b'GEOGCS["WGS 84"]'}


def make_zip(members: dict[str, bytes] | list[tuple[zipfile.ZipInfo | str, bytes]],
             compression: int = zipfile.ZIP_DEFLATED, comment: bytes = b"") -> bytes:
    """The bytes of a zip holding ``members`` (name or ZipInfo -> content)."""
    items = members.items() if isinstance(members, dict) else members
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for name, content in items:
            archive.writestr(name, content)
        archive.comment = comment
    return buf.getvalue()


def to_zip64(data: bytes) -> bytes:
    """The same archive ended by Zip64 end records, the plain record's fields all 0xFF..."""
    body, eocd = data[:-22], data[-22:]
    _, _, _, n_disk, n_total, cd_size, cd_offset, _ = struct.unpack("<4s4H2LH", eocd)
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, n_disk, n_total,
                         cd_size, cd_offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(body), 1)
    plain = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                        0xFFFFFFFF, 0)
    return body + record + locator + plain


def upload(data: bytes, filename: str, folder: Path, limits: UploadLimits = LIMITS) -> Path:
    return save_upload(io.BytesIO(data), filename, folder, limits)


def rejected(data: bytes, filename: str, folder: Path, limits: UploadLimits = LIMITS
             ) -> UploadRejected:
    """The rejection of an upload, after checking it left nothing behind."""
    with pytest.raises(UploadRejected) as caught:
        upload(data, filename, folder, limits)
    assert not folder.exists(), f"left behind: {sorted(folder.iterdir())}"
    return caught.value


# --- the error ---------------------------------------------------------------------------------

def test_upload_rejected_is_an_input_error_with_its_own_status() -> None:
    error = UploadRejected("x.zip: too big", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    other = UploadRejected("x.exe: unknown format", HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
    assert isinstance(error, InputError)
    assert error.http_status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert other.http_status == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert error.user_msg == str(error) == "x.zip: too big"
    assert error.exit_code == 2
    assert InputError.http_status == HTTPStatus.BAD_REQUEST  # the class attribute is untouched


# --- normal uploads ----------------------------------------------------------------------------

def test_zipped_shapefile_is_saved(tmp_path: Path) -> None:
    data = make_zip(SHAPEFILE)
    folder = tmp_path / "uploads" / "job1"
    saved = upload(data, "roads.zip", folder)
    assert saved == folder / "roads.zip"
    assert saved.read_bytes() == data
    assert [p.name for p in folder.iterdir()] == ["roads.zip"]  # no temporary file left


def test_cyrillic_name_is_kept(tmp_path: Path) -> None:
    saved = upload(b'{"type": "FeatureCollection", "features": []}', "Гродна вуліцы.geojson",
                   tmp_path / "job")
    assert saved.name == "Гродна вуліцы.geojson"
    assert saved.is_file()


def test_file_of_exactly_max_bytes_is_accepted(tmp_path: Path) -> None:
    saved = upload(b"x" * 1000, "points.csv", tmp_path / "job", UploadLimits(max_bytes=1000))
    assert saved.stat().st_size == 1000


def test_file_bigger_than_one_chunk_is_copied_whole(tmp_path: Path) -> None:
    data = b"II*\x00" + random.Random(1).randbytes(3 * MiB + 17)
    saved = upload(data, "dem.tif", tmp_path / "job")
    assert saved.read_bytes() == data


@pytest.mark.parametrize(("sent", "kept"), [("../../etc/passwd.geojson", "passwd.geojson"),
                                            ("C:\\x\\y.geojson", "y.geojson"),
                                            ("/abs/dir/z.geojson", "z.geojson"),
                                            ("C:w.geojson", "w.geojson")])
def test_directory_part_of_the_name_is_dropped(tmp_path: Path, sent: str, kept: str) -> None:
    folder = tmp_path / "uploads" / "job"
    saved = upload(b"{}", sent, folder)
    assert saved == folder / kept
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [saved]


def test_a_rejected_upload_keeps_the_file_already_there(tmp_path: Path) -> None:
    folder = tmp_path / "job"
    good = upload(make_zip(SHAPEFILE), "roads.zip", folder)
    before = good.read_bytes()
    with pytest.raises(UploadRejected):
        upload(random.Random(2).randbytes(4096), "roads.zip", folder)
    assert good.read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["roads.zip"]


def test_a_broken_stream_leaves_nothing_and_propagates(tmp_path: Path) -> None:
    class Broken(io.RawIOBase):
        calls = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 1:
                raise ConnectionResetError("client went away")
            return b"x" * 100

    folder = tmp_path / "job"
    with pytest.raises(ConnectionResetError):
        save_upload(Broken(), "roads.geojson", folder, LIMITS)  # type: ignore[arg-type]
    assert not folder.exists()


# --- names and formats -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["", ".", "..", "dir/", "../..", "\x00\n", "  "])
def test_unusable_names_are_refused_with_400(tmp_path: Path, name: str) -> None:
    with pytest.raises(UploadRejected) as caught:
        safe_filename(name)
    assert caught.value.http_status == HTTPStatus.BAD_REQUEST
    assert rejected(b"{}", name, tmp_path / "job").http_status == HTTPStatus.BAD_REQUEST


def test_control_and_formatting_characters_are_dropped() -> None:
    assert safe_filename("ro\x00ad\ns.geojson") == "roads.geojson"
    # A right-to-left override makes "roads\u202egpj.exe" look like "roadsexe.jpg".
    assert safe_filename("roads\u202egpj.exe") == "roadsgpj.exe"
    assert safe_filename("a\udcff.geojson") == "a.geojson"  # a lone surrogate cannot be written


def test_overlong_name_is_shortened_keeping_the_suffix() -> None:
    name = safe_filename("д" * 300 + ".geojson")
    assert len(name.encode()) <= 255
    assert name.startswith("дд")
    assert name.endswith(".geojson")


@pytest.mark.parametrize("name", ["tool.exe", "report.docx", "README", "archive.tar.gz"])
def test_unknown_format_is_refused_with_415(tmp_path: Path, name: str) -> None:
    error = rejected(b"MZ" + bytes(100), name, tmp_path / "job")
    assert error.http_status == HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    assert error.user_msg.startswith(f"{name}: unknown format; upload one of ")
    assert ".shp (zipped with .dbf/.shx/.prj)" in error.user_msg
    assert ".geojson" in error.user_msg and ".tif" in error.user_msg


def test_unknown_format_leaves_an_existing_folder_as_it_was(tmp_path: Path) -> None:
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "other.csv").write_text("x,y\n")
    with pytest.raises(UploadRejected):
        upload(b"MZ", "tool.exe", folder)
    assert [p.name for p in folder.iterdir()] == ["other.csv"]


def test_check_format_lowercases_and_knows_what_the_etl_reads() -> None:
    assert check_format("Roads.GeoJSON") == ".geojson"
    assert check_format("dem.TIF") == ".tif"
    assert set(_FORMATS) | set(RASTER_SUFFIXES) == set(SUPPORTED_SUFFIXES)


def test_empty_file_is_refused_with_400(tmp_path: Path) -> None:
    error = rejected(b"", "roads.geojson", tmp_path / "job")
    assert error.http_status == HTTPStatus.BAD_REQUEST
    assert "empty" in error.user_msg


def test_oversized_stream_is_refused_with_413(tmp_path: Path) -> None:
    error = rejected(b"x" * 5000, "points.csv", tmp_path / "job", UploadLimits(max_bytes=1000))
    assert error.http_status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert error.user_msg.startswith("points.csv: the file is larger than 1000 bytes")
    one_more = rejected(b"x" * 1001, "points.csv", tmp_path / "job", UploadLimits(max_bytes=1000))
    assert one_more.http_status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def test_oversized_message_speaks_mib(tmp_path: Path) -> None:
    with pytest.raises(UploadRejected) as caught:
        upload(bytes(3 * MiB), "dem.tif", tmp_path / "job", UploadLimits(max_bytes=2 * MiB))
    assert "larger than 2 MiB" in caught.value.user_msg


# --- archives ----------------------------------------------------------------------------------

@pytest.mark.parametrize("member", ["../evil.txt", "a/../../evil.txt", "a\\..\\evil.txt", "..",
                                    "/etc/passwd", "\\x", "C:\\x", "c:/x"])
def test_member_outside_the_archive_is_refused_with_422(tmp_path: Path, member: str) -> None:
    error = rejected(make_zip({**SHAPEFILE, member: b"x"}), "roads.zip", tmp_path / "job")
    assert error.http_status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert error.user_msg == f"roads.zip: member {member!r} points outside the archive"


def test_member_names_with_dots_inside_are_fine(tmp_path: Path) -> None:
    data = make_zip({**SHAPEFILE, "a..b.txt": b"x", "dir/x..txt": b"y", "./c.txt": b"z"})
    assert upload(data, "roads.zip", tmp_path / "job").is_file()


def test_member_name_with_nul_is_refused(tmp_path: Path) -> None:
    # zipfile cuts names at a NUL when writing, so the NUL goes into the bytes afterwards.
    data = make_zip({"a.shpX.txt": b"x"}).replace(b"a.shpX.txt", b"a.shp\0.txt")
    error = rejected(data, "roads.zip", tmp_path / "job")
    assert error.http_status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "points outside the archive" in error.user_msg


def test_symlink_member_is_refused_with_422(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("a.dbf")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    data = make_zip([("a.shp", SHAPEFILE["a.shp"]), (link, b"/etc/passwd")])
    error = rejected(data, "roads.zip", tmp_path / "job")
    assert error.http_status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "member 'a.dbf' is a symbolic link" in error.user_msg


def test_zip_bomb_is_refused_with_413(tmp_path: Path) -> None:
    data = make_zip({"a.shp": SHAPEFILE["a.shp"], "a.dbf": bytes(50 * MiB)})
    assert len(data) < MiB  # about 1000:1
    error = rejected(data, "roads.zip", tmp_path / "job")
    assert error.http_status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert error.user_msg.startswith("roads.zip: member 'a.dbf' has a compression ratio of ")
    assert "more than a zip bomb limit of 500:1" in error.user_msg


def test_small_members_may_compress_very_well(tmp_path: Path) -> None:
    data = make_zip({**SHAPEFILE, "a.cpg": b"UTF-8" * 100_000, "notes.txt": b" " * 500_000})
    assert upload(data, "roads.zip", tmp_path / "job").is_file()


def test_many_small_members_that_add_up_to_a_bomb_are_refused(tmp_path: Path) -> None:
    data = make_zip({f"part{i}.txt": bytes(900 * 1024) for i in range(4)})
    error = rejected(data, "roads.zip", tmp_path / "job")
    assert error.http_status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert error.user_msg.startswith("roads.zip: the archive has a compression ratio of ")


def test_member_claiming_to_unpack_from_nothing_is_refused(tmp_path: Path) -> None:
    data = bytearray(make_zip({"a.dbf": bytes(2 * MiB)}, zipfile.ZIP_STORED))
    at = data.rfind(b"PK\x01\x02")  # the central directory entry: compressed size at +20
    data[at + 20:at + 24] = struct.pack("<L", 0)
    error = rejected(bytes(data), "roads.zip", tmp_path / "job")
    assert error.http_status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "compression ratio of unbounded" in error.user_msg


def test_too_much_unpacked_data_is_refused_with_413(tmp_path: Path) -> None:
    data = make_zip({"a.shp": b"\0\0\x27\x0a" + bytes(596), "a.dbf": bytes(600)},
                    zipfile.ZIP_STORED)
    limits = UploadLimits(max_unpacked_bytes=1000)
    error = rejected(data, "roads.zip", tmp_path / "job", limits)
    assert error.http_status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert error.user_msg.startswith("roads.zip: the archive unpacks to more than 1000 bytes")
    assert upload(data, "roads.zip", tmp_path / "job",
                  UploadLimits(max_unpacked_bytes=1200)).is_file()


@pytest.mark.parametrize("data", [random.Random(0).randbytes(4096),
                                  make_zip(SHAPEFILE)[:-30],
                                  b"PK\x05\x06" + bytes(10)])
def test_unreadable_zip_is_refused_with_422(tmp_path: Path, data: bytes) -> None:
    error = rejected(data, "x.zip", tmp_path / "job")
    assert error.http_status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert error.user_msg.startswith("x.zip: not a readable zip archive")


def test_too_many_members_is_refused_with_422(tmp_path: Path) -> None:
    members = {f"m{i}.txt": b"x" for i in range(6)}
    limits = UploadLimits(max_members=5)
    error = rejected(make_zip(members), "roads.zip", tmp_path / "job", limits)
    assert error.http_status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "more than 5 members" in error.user_msg
    del members["m5.txt"]
    assert upload(make_zip(members), "roads.zip", tmp_path / "job", limits).is_file()


@pytest.mark.parametrize("shape", ["plain", "comment", "zip64"])
def test_members_are_counted_before_zipfile_reads_them(tmp_path: Path, shape: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Too many members are refused without building zipfile's objects for each of them."""
    comment = b"made by hand" if shape == "comment" else b""
    data = make_zip({f"m{i}.txt": b"x" for i in range(6)}, comment=comment)
    data = to_zip64(data) if shape == "zip64" else data

    def no_zipfile(*args: object, **kwargs: object) -> None:
        raise AssertionError("zipfile read the directory before the members were counted")

    with monkeypatch.context() as patch:
        patch.setattr(sandbox.zipfile, "ZipFile", no_zipfile)
        error = rejected(data, "roads.zip", tmp_path / "job", UploadLimits(max_members=5))
    assert error.http_status == HTTPStatus.UNPROCESSABLE_ENTITY
    # The same archive with room for its members is readable: the hand-made records are sound.
    assert upload(data, "roads.zip", tmp_path / "job", UploadLimits(max_members=6)).is_file()


def test_members_are_counted_again_when_the_directory_cannot_be_walked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "_count_members", lambda fp, limit: None)
    data = make_zip({f"m{i}.txt": b"x" for i in range(6)})
    error = rejected(data, "roads.zip", tmp_path / "job", UploadLimits(max_members=5))
    assert error.http_status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "more than 5 members" in error.user_msg


def test_kmz_is_checked_like_a_zip(tmp_path: Path) -> None:
    kml = b'<kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>'
    assert upload(make_zip({"doc.kml": kml}), "map.kmz", tmp_path / "ok").is_file()
    error = rejected(make_zip({"doc.kml": kml, "../x.kml": kml}), "map.kmz", tmp_path / "bad")
    assert error.http_status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "points outside the archive" in error.user_msg


def test_nested_archives_are_allowed(tmp_path: Path) -> None:
    data = make_zip({"inner.zip": make_zip(SHAPEFILE), "readme.txt": b"roads of Hrodna"})
    assert upload(data, "roads.zip", tmp_path / "job").is_file()


def test_check_archive_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "Гродна.zip"
    path.write_bytes(make_zip({"../evil.txt": b"x"}))
    with pytest.raises(UploadRejected, match=r"^Гродна\.zip: member '\.\./evil\.txt'"):
        check_archive(path, LIMITS)
    path.write_bytes(make_zip(SHAPEFILE))
    check_archive(path, LIMITS)  # no exception: a sound archive
    assert path.is_file()  # check_archive only reads


# --- the sandbox: content, lying archives, spreadsheets (issue 15) --------------------------------

VRT = b'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/vsicurl/http://127.0.0.1:9/x' \
      b'</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>'


@pytest.mark.parametrize("name", ["a.geojson", "a.json", "a.gpx", "a.kml", "a.gml", "a.csv",
                                  "a.tif", "a.gpkg", "a.shp"])
def test_vrt_named_as_any_format_is_refused_with_422(tmp_path: Path, name: str) -> None:
    error = rejected(VRT, name, tmp_path / "job")
    assert error.http_status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert error.user_msg.startswith(f"{name}: ")


def test_gdal_pipeline_named_geojson_is_refused(tmp_path: Path) -> None:
    data = b'{"type": "gdal_streamed_alg", "command_line": "gdal vector pipeline ! read x"}'
    error = rejected(data, "a.geojson", tmp_path / "job")
    assert "describes a GDAL dataset (gdal_streamed_alg)" in error.user_msg


def test_xml_with_a_dtd_is_refused(tmp_path: Path) -> None:
    body = b'<kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>'
    dtd = b'<!DOCTYPE kml [<!ENTITY e SYSTEM "http://127.0.0.1:9/">]>'
    error = rejected(b'<?xml version="1.0"?>' + dtd + body, "a.kml", tmp_path / "job")
    assert "declares a DTD" in error.user_msg
    assert upload(b'<?xml version="1.0"?>' + body, "a.kml", tmp_path / "ok").is_file()


def test_kml_root_must_be_kml(tmp_path: Path) -> None:
    error = rejected(b'<gpx version="1.1"/>', "a.kml", tmp_path / "job")
    assert "root element is <gpx>, not <kml>" in error.user_msg


def _lie(data: bytes, member: str, *, size: int | None = None, crc: int | None = None) -> bytes:
    """``data`` (a zip) with the central directory entry of ``member`` patched."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", out, at + 28)[0]
        if out[at + 46:at + 46 + name_len] == member.encode():
            if crc is not None:
                struct.pack_into("<L", out, at + 16, crc)
            if size is not None:
                struct.pack_into("<L", out, at + 24, size)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


def test_member_inflating_past_its_declared_size_is_refused_with_422(tmp_path: Path) -> None:
    data = _lie(make_zip({**SHAPEFILE, "a.dbf": b"\x03" + bytes(300_000)}), "a.dbf", size=41)
    error = rejected(data, "roads.zip", tmp_path / "job")
    assert error.http_status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert error.user_msg.startswith("roads.zip: member a.dbf does not unpack to what the "
                                     "archive's directory declares")


def test_member_with_a_wrong_crc_is_refused_with_422(tmp_path: Path) -> None:
    data = _lie(make_zip(SHAPEFILE), "a.prj", crc=12345)
    error = rejected(data, "roads.zip", tmp_path / "job")
    assert error.http_status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "member a.prj does not unpack" in error.user_msg


def test_stored_member_lying_about_its_size_is_refused(tmp_path: Path) -> None:
    data = _lie(make_zip(SHAPEFILE, zipfile.ZIP_STORED), "a.dbf", size=10)
    assert "member a.dbf does not unpack" in rejected(data, "r.zip", tmp_path / "j").user_msg


def _sheet(rows: int) -> bytes:
    return b"<worksheet><sheetData>" + b"<row><c><v>1</v></c></row>" * rows + \
        b"</sheetData></worksheet>"


def test_sheet_with_too_many_rows_is_refused_before_gdal(tmp_path: Path) -> None:
    path = tmp_path / "stops.xlsx"
    path.write_bytes(make_zip({"xl/worksheets/sheet1.xml": _sheet(11)}))
    limits = sandbox.ArchiveLimits(max_sheet_rows=10)
    with pytest.raises(sandbox.RefusedFile, match=r"^stops\.xlsx: member xl/worksheets/"
                                                  r"sheet1\.xml has more than 10 rows"):
        sandbox.check_zip(path, path.name, limits)
    path.write_bytes(make_zip({"xl/worksheets/sheet1.xml": _sheet(10)}))
    sandbox.check_zip(path, path.name, limits)


def test_sheet_xml_past_its_cap_is_refused_reading_no_further(tmp_path: Path) -> None:
    path = tmp_path / "stops.ods"
    path.write_bytes(make_zip({"content.xml": b"<x>" + b" " * (3 * MiB) + b"</x>"}))
    with pytest.raises(sandbox.RefusedFile, match=r"member content\.xml unpacks to more than "
                                                  r"1 MiB of sheet XML") as caught:
        sandbox.check_zip(path, path.name, sandbox.ArchiveLimits(max_sheet_bytes=MiB,
                                                                max_ratio=5000))
    assert caught.value.http_status == HTTPStatus.UNPROCESSABLE_ENTITY


def test_xlsx_and_ods_get_the_zip_limits_on_upload(tmp_path: Path) -> None:
    data = make_zip({"xl/worksheets/sheet1.xml": _sheet(3), "../x.xml": b"<x/>"})
    assert "points outside" in rejected(data, "a.xlsx", tmp_path / "j").user_msg
    assert "not a readable zip" in rejected(b"<x/>", "a.ods", tmp_path / "j").user_msg


def test_encrypted_member_is_refused(tmp_path: Path) -> None:
    data = bytearray(make_zip(SHAPEFILE))
    at = data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, at + 8, 1)  # the "encrypted" flag in the directory
    assert "is encrypted" in rejected(bytes(data), "r.zip", tmp_path / "j").user_msg


# --- service documents, GML roots, CRS links, paths in job messages (issue 15, review) ----------

WFS_CAPABILITIES = (b'<?xml version="1.0"?><wfs:WFS_Capabilities version="2.0.0" '
                    b'xmlns:wfs="http://www.opengis.net/wfs/2.0"/>')
SERVICE_DOCUMENTS = {
    "wfs": WFS_CAPABILITIES,
    "wfs-plain": b'<WFS_Capabilities xmlns="http://www.opengis.net/wfs"/>',
    "wms": b'<WMS_Capabilities version="1.3.0" xmlns="http://www.opengis.net/wms"/>',
    "wms-1.1": b'<?xml version="1.0"?><WMT_MS_Capabilities version="1.1.1"/>',
    "tms": b'<TileMap version="1.0.0"><Title>x</Title></TileMap>',
    "tile-service": b'<WMS_Tile_Service version="1.0"/>',
    "wmts": b'<Capabilities xmlns="http://www.opengis.net/wmts/1.0" version="1.0.0"/>',
    "stac": b'{"type": "FeatureCollection", "stac_version": "1.0.0", "features": []}',
    "pds4": b'<Product_Observational xmlns="http://pds.nasa.gov/pds4/pds/v1"/>',
}


@pytest.mark.parametrize("kind", SERVICE_DOCUMENTS)
@pytest.mark.parametrize("suffix", [".gml", ".kml", ".geojson", ".csv"])
def test_service_documents_gdal_would_follow_are_refused(tmp_path: Path, kind: str,
                                                         suffix: str) -> None:
    error = rejected(SERVICE_DOCUMENTS[kind], f"a{suffix}", tmp_path / "job")
    assert error.http_status == HTTPStatus.UNPROCESSABLE_ENTITY
    assert error.user_msg.startswith(f"a{suffix}: ")


@pytest.mark.parametrize("root", [
    b'<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1"/>',
    b'<csw:GetRecordsResponse xmlns:csw="http://www.opengis.net/cat/csw/2.0.2"/>',
    b'<Roads><road/></Roads>',  # no namespace: not GML
])
def test_gml_root_that_is_no_feature_collection_is_refused(tmp_path: Path, root: bytes) -> None:
    error = rejected(root, "a.gml", tmp_path / "job")
    assert "not a GML feature collection" in error.user_msg


@pytest.mark.parametrize("root", [
    b'<ogr:FeatureCollection xmlns:ogr="http://ogr.maptools.org/" '
    b'xmlns:gml="http://www.opengis.net/gml"/>',
    b'<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0"/>',
    b'<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2"/>',
    b'<core:CityModel xmlns:core="http://www.opengis.net/citygml/2.0"/>',
])
def test_gml_feature_collections_are_accepted(tmp_path: Path, root: bytes) -> None:
    assert upload(b'<?xml version="1.0"?>' + root, "a.gml", tmp_path / "job").is_file()


def crs_link(port: int = 9) -> dict:
    return {"type": "link", "properties": {"href": f"http://127.0.0.1:{port}/crs"}}


def feature(geometry: dict | None = None, **properties: object) -> dict:
    return {"type": "Feature", "properties": properties,
            "geometry": geometry or {"type": "Point", "coordinates": [27.5, 53.9]}}


@pytest.mark.parametrize("text", [
    json.dumps({"type": "FeatureCollection", "crs": crs_link(), "features": [feature()]}),
    json.dumps({"type": "FeatureCollection", "CRS": {"TYPE": "URL", "properties": {
        "url": "http://127.0.0.1:9/"}}, "features": [feature()]}),
    json.dumps({"type": "FeatureCollection", "features": [feature(
        {"type": "Point", "crs": crs_link(), "coordinates": [27.5, 53.9]})]}),
    # GDAL's GeoJSONSeq reader takes single quotes and comments: not plain JSON, refused
    '{"type": "Feature", "properties": {}, "geometry": {"type": "Point", '
    "'crs': {'type': 'link', 'properties': {'href': 'http://127.0.0.1:9/'}}, "
    '"coordinates": [27.5, 53.9]}}\n',
    '{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "crs": /* c */ '
    '{"type": "link", "properties": {"href": "http://127.0.0.1:9/"}}, "coordinates": [1, 2]}}',
], ids=["top", "any-case", "geometry", "single-quotes", "comment"])
def test_crs_gdal_would_fetch_is_refused_wherever_gdal_reads_one(tmp_path: Path,
                                                                 text: str) -> None:
    path = tmp_path / "a.geojson"
    path.write_text(text)
    with pytest.raises(sandbox.RefusedFile, match=r"^a\.geojson: (the GeoJSON names its CRS "
                                                  r"by a link|a \"crs\" member is not plain)"):
        sandbox.check_json_links(path, path.name)


def test_link_in_a_property_is_data_not_a_crs(tmp_path: Path) -> None:
    path = tmp_path / "a.geojson"
    path.write_text(json.dumps({
        "type": "FeatureCollection", "crs": {"type": "name", "properties": {
            "name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [feature(type="link", kind="url", crs="link",
                             note='"crs": {"type": "link"}')]}))
    sandbox.check_json_links(path, path.name)  # no exception


@pytest.mark.parametrize("chunk", [7, 16, 61])
def test_crs_link_cut_by_a_read_boundary_is_still_found(tmp_path: Path, chunk: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The file is read a megabyte at a time: a member across two reads is judged whole."""
    monkeypatch.setattr(sandbox, "_CHUNK", chunk)
    for pad in range(chunk):
        path = tmp_path / "a.geojson"
        path.write_text(json.dumps({"name": "x" * pad, "type": "FeatureCollection",
                                    "crs": crs_link(), "features": []}))
        with pytest.raises(sandbox.RefusedFile, match="link or URL"):
            sandbox.check_json_links(path, path.name)


def test_job_messages_name_files_in_a_data_folder_with_spaces() -> None:
    folder = Path("/srv/geo portal/var/uploads/0f3c")
    cases = {
        f"{folder}/x.tif: the raster has no bands": "x.tif: the raster has no bands",
        f"roads.zip: bad (/vsizip/{folder}/roads.zip/roads/roads.shp: broken)":
            "roads.zip: bad (roads.zip/roads/roads.shp: broken)",
        "a.csv: bad (/tmp/geoportal-read-1x/source.csv: broken); use lon/lat or EPSG:4326":
            "a.csv: bad (source.csv: broken); use lon/lat or EPSG:4326",
        "/srv/geo portal/var/coverages/roads/1.tif: damaged": "1.tif: damaged",
    }
    for message, shown in cases.items():
        assert _without_paths(message, folder) == shown


def test_a_jobs_error_keeps_its_message_id_without_paths() -> None:
    """Paths are cut from a Message's values; stored and read back, it is the same Message,
    said in Belarusian by its id; plain texts (rows of older versions) stay as they are."""
    folder = Path("/srv/geo portal/var/uploads/0f3c")
    said = tr("{name}: the layer should hold {n} features but none could be read; the file "
              "looks cut off or damaged: send it again", name=f"{folder}/roads.gml", n=3)
    shown = _shown_to_users(said, folder)
    assert isinstance(shown, Message) and shown.template == said.template
    assert shown.startswith("roads.gml: the layer should hold 3 features")
    back = _read_error(_stored_error(shown))
    assert isinstance(back, Message) and back == shown and back.template == said.template
    assert translate(back, "be").startswith("roads.gml: у пласце павінна быць 3 аб'ектаў")
    for plain in ("points.csv: no feature", "{not json", None):
        assert _read_error(_stored_error(plain)) == plain
