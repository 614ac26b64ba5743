"""Uploads cannot make the server call out, unpack bombs or show its paths (issue 15).

Through the real server (gunicorn, both stores) and the CLI, run with ``NO_PROXY=127.0.0.1``
and a data folder whose path has a space: files of every extension that are really an OGR VRT
pointing at ``/vsicurl/http://127.0.0.1:<port>/`` (a socket this test listens on), WFS
capabilities named .gml whose GetFeature is that socket, an XLSX whose sheet unpacks to
hundreds of MB, a zip whose directory lies about a member's size, and a file name with ``;``.
"""

from __future__ import annotations

import io
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pyogrio
import pytest
import requests
import shapely

from tests.conftest import BACKENDS, Portal, write_geojson

MINSK = "5000000000"
MiB = 1024**2


class Listener:
    """A TCP socket on 127.0.0.1 that counts the connections made to it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


@pytest.fixture(scope="module", params=BACKENDS)
def portal(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
           ) -> Iterator[Portal]:
    database_url = None
    if request.param == "postgis":
        database_url = request.getfixturevalue("postgres").new_database()
    # A data folder with a space; and NO_PROXY naming the listener, so that GDAL's own HTTP
    # (sandbox.NETWORK_OFF's proxy) would reach it: nothing here may rely on the proxy.
    server = Portal(tmp_path_factory.mktemp("sandbox") / "geo portal" / "var", database_url)
    server.env["GEOPORTAL_MAX_UPLOAD_MB"] = "8"
    server.env.update(NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    server.cli("init")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def token(portal: Portal) -> str:
    return portal.cli("token", "create", "--name", "minsk-gis", "--region", MINSK
                      ).stdout.strip()


def vrt(port: int) -> str:
    """An OGR VRT whose layer is read from the listener, and a raster VRT the same."""
    return (f'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/vsicurl/http://127.0.0.1:'
            f'{port}/x.geojson</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>\n'
            f'<VRTDataset rasterXSize="1" rasterYSize="1"><VRTRasterBand band="1"><SimpleSource>'
            f'<SourceFilename>/vsicurl/http://127.0.0.1:{port}/x.tif</SourceFilename>'
            '</SimpleSource></VRTRasterBand></VRTDataset>\n')


DISGUISES = [".geojson", ".json", ".gpx", ".kml", ".gml", ".csv", ".tif"]


def upload(portal: Portal, token: str, layer_id: str, name: str,
           content: bytes) -> requests.Response:
    manifest = json.dumps({"id": layer_id, "region": MINSK, "theme": "urban-infrastructure",
                           "title": {"en": layer_id}, "source": {"path": "data"}})
    return requests.post(f"{portal.url}/admin/layers", timeout=120,
                         headers={"Authorization": f"Bearer {token}"},
                         data={"manifest": manifest}, files={"file": (name, content)})


def finished(portal: Portal, token: str, job_id: str) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = requests.get(f"{portal.url}/admin/jobs/{job_id}", timeout=30,
                           headers={"Authorization": f"Bearer {token}"}).json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish")


def answer(portal: Portal, token: str, response: requests.Response) -> tuple[int, str]:
    """The status and message of a refusal: the upload's own, or its job's."""
    if response.status_code != 202:
        return response.status_code, response.json()["description"]
    job = finished(portal, token, response.json()["id"])
    return job["status"], job["error"] or ""


@pytest.mark.parametrize("suffix", DISGUISES)
def test_vrt_in_disguise_is_refused_without_a_request(portal: Portal, token: str,
                                                      listener: Listener, suffix: str) -> None:
    before = listener.connections
    name = f"Гродна вуліцы{suffix}"
    status, message = answer(portal, token, upload(
        portal, token, f"vrt-{suffix[1:]}", name, vrt(listener.port).encode()))
    assert status == 422, message
    assert message.startswith(f"{name}: "), message
    assert "/uploads/" not in message and str(portal.data_dir) not in message
    assert listener.connections == before


@pytest.mark.parametrize("suffix", DISGUISES)
def test_vrt_in_disguise_is_refused_by_the_cli(portal: Portal, listener: Listener,
                                               tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"roads{suffix}"
    path.write_text(vrt(listener.port))
    before = listener.connections
    result = portal.cli("ingest", str(path), "--region", MINSK, check=False)
    assert result.returncode == 2, result.stderr
    assert f"error: roads{suffix}: " in result.stderr
    assert str(tmp_path) not in result.stderr
    assert listener.connections == before


def test_geojson_crs_link_is_refused_without_a_request(portal: Portal, token: str,
                                                       listener: Listener) -> None:
    """GDAL fetches an old-style ``"crs": {"type": "link"}`` itself; it is refused first."""
    before = listener.connections
    data = {"type": "FeatureCollection", "crs": {"type": "link", "properties": {
        "href": f"http://127.0.0.1:{listener.port}/crs.wkt", "type": "ogcwkt"}},
        "features": [{"type": "Feature", "properties": {"name": "a"},
                      "geometry": {"type": "Point", "coordinates": [27.56, 53.9]}}]}
    status, message = answer(portal, token, upload(portal, token, "crs-link", "stops.geojson",
                                                   json.dumps(data).encode()))
    assert status == 422
    assert message.startswith("stops.geojson: the GeoJSON names its CRS by a link")
    assert listener.connections == before


def test_gdal_network_is_off_while_the_etl_reads(listener: Listener) -> None:
    """Even a /vsicurl/ path handed to GDAL directly makes no request inside the sandbox."""
    from geoportal.etl.sandbox import NETWORK_OFF
    from geoportal.etl.sources import gdal_config

    before = listener.connections
    with gdal_config(NETWORK_OFF), pytest.raises(pyogrio.errors.DataSourceError):
        pyogrio.read_info(f"/vsicurl/http://127.0.0.1:{listener.port}/x.geojson")
    assert listener.connections == before


def xlsx(sheet: bytes) -> bytes:
    """A minimal workbook of one sheet with the given XML."""
    parts = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats'
        b'.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
        b'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
        b'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
        b'"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument'
        b'.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats'
        b'.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/'
        b'workbook.xml"/></Relationships>',
        "xl/workbook.xml": b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats'
        b'.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships"><sheets><sheet name="stops" sheetId="1" r:id="rId1"'
        b'/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<?xml version="1.0"?><Relationships xmlns="http://'
        b'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
        b'http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
        b'"worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buf.getvalue()


def sheet_xml(rows: int) -> bytes:
    head = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>lon'
            b'</t></is></c><c r="B1" t="inlineStr"><is><t>lat</t></is></c></row>')
    row = b'<row><c t="n"><v>27.56</v></c><c t="n"><v>53.9</v></c></row>'
    return head + row * rows + b"</sheetData></worksheet>"


def peak_rss_kib(portal: Portal) -> int:
    """The highest peak RSS (VmHWM) of the server's processes: the master and its workers."""
    pids = [portal.proc.pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat_line = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat_line.rsplit(")", 1)[1].split()[1]) == portal.proc.pid:
                pids.append(int(entry.name))
    peaks = []
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]))
    return max(peaks)


def test_xlsx_bomb_is_refused_without_loading_the_sheet(portal: Portal, token: str) -> None:
    bomb = xlsx(sheet_xml(5_000_000))  # about 300 MB of sheet XML
    assert len(bomb) < 4 * MiB
    before = peak_rss_kib(portal)
    status, message = answer(portal, token, upload(portal, token, "bomb", "stops.xlsx", bomb))
    assert status == 422, message
    assert message.startswith("stops.xlsx: member xl/worksheets/sheet1.xml "), message
    assert "sheet" in message and "/uploads/" not in message
    assert peak_rss_kib(portal) - before < 100 * 1024  # the sheet never sits in memory


def test_a_small_workbook_is_still_published(portal: Portal, token: str) -> None:
    response = upload(portal, token, "sheet", "stops.xlsx", xlsx(sheet_xml(3)))
    assert response.status_code == 202, response.text
    job = finished(portal, token, response.json()["id"])
    assert job["state"] == "done", job


def lying_zip(tmp: Path) -> bytes:
    """A zipped Shapefile whose .dbf claims (size and CRC) to be 100 bytes but inflates to 2 MB."""
    shp = tmp / "roads.shp"
    write_geojson(tmp / "roads.geojson", [({"name": "a"}, shapely.Point(27.56, 53.9))])
    table = pyogrio.read_arrow(tmp / "roads.geojson")[1]
    pyogrio.write_arrow(table, shp, driver="ESRI Shapefile", geometry_name="wkb_geometry",
                        geometry_type="Point", crs="EPSG:4326")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for ext in (".shp", ".shx", ".prj"):
            archive.write(shp.with_suffix(ext), f"roads{ext}")
        archive.writestr("roads.dbf", shp.with_suffix(".dbf").read_bytes() + bytes(2 * MiB))
    data = bytearray(buf.getvalue())
    at = data.find(b"PK\x01\x02")  # the central directory's entries (APPNOTE 4.3.12)
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + name_len] == b"roads.dbf":
            struct.pack_into("<L", data, at + 16, zlib.crc32(bytes(100)))  # CRC-32
            struct.pack_into("<L", data, at + 24, 100)  # uncompressed size
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def test_zip_lying_about_sizes_is_refused_not_failed(portal: Portal, token: str,
                                                     tmp_path: Path) -> None:
    status, message = answer(portal, token, upload(portal, token, "liar", "roads.zip",
                                                   lying_zip(tmp_path)))
    assert status == 422, message
    assert message.startswith("roads.zip: member roads.dbf does not unpack to what"), message


def test_zip_lying_about_sizes_is_refused_by_the_cli(portal: Portal, tmp_path: Path) -> None:
    path = tmp_path / "roads.zip"
    path.write_bytes(lying_zip(tmp_path))
    result = portal.cli("ingest", str(path), "--region", MINSK, check=False)
    assert result.returncode == 2, result.stderr
    assert "error: roads.zip: member roads.dbf does not unpack" in result.stderr


def test_file_name_with_a_semicolon_is_published(portal: Portal, token: str,
                                                 tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "x.geojson", [({"name": "a"}, shapely.Point(27.56, 53.9))])
    response = upload(portal, token, "semicolon", "stops;v2 (копія).geojson", path.read_bytes())
    assert response.status_code == 202, response.text
    job = finished(portal, token, response.json()["id"])
    assert job["state"] == "done", job


def test_rejected_job_names_the_file_not_the_server_folder(portal: Portal, token: str) -> None:
    """A file that passes the upload checks but not the ETL: the job's error has no path."""
    response = upload(portal, token, "nogeom", "points;1.csv", b"name,value\na,1\n")
    status, message = answer(portal, token, response)
    assert status in (400, 415, 422), message
    assert message.startswith("points;1.csv: "), message
    assert os.sep + "uploads" + os.sep not in message


def wfs_capabilities(port: int) -> str:
    """WFS 2.0 capabilities whose GetFeature and DescribeFeatureType are the listener: GDAL's
    WFS driver takes such a file by its content and asks the server for the features."""
    url = f"http://127.0.0.1:{port}/wfs?"
    operations = "".join(
        f'<ows:Operation name="{op}"><ows:DCP><ows:HTTP><ows:Get xlink:href="{url}"/>'
        "</ows:HTTP></ows:DCP></ows:Operation>" for op in ("GetFeature", "DescribeFeatureType"))
    return ('<?xml version="1.0"?><wfs:WFS_Capabilities version="2.0.0" '
            'xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:ows="http://www.opengis.net/ows/1.1" '
            'xmlns:xlink="http://www.w3.org/1999/xlink"><ows:OperationsMetadata>'
            f"{operations}</ows:OperationsMetadata><wfs:FeatureTypeList><wfs:FeatureType>"
            "<wfs:Name>roads</wfs:Name><wfs:DefaultCRS>urn:ogc:def:crs:EPSG::4326"
            "</wfs:DefaultCRS></wfs:FeatureType></wfs:FeatureTypeList></wfs:WFS_Capabilities>")


def test_wfs_capabilities_named_gml_make_no_request(portal: Portal, token: str,
                                                    listener: Listener) -> None:
    before = listener.connections
    status, message = answer(portal, token, upload(
        portal, token, "wfs-caps", "дарогі.gml", wfs_capabilities(listener.port).encode()))
    assert status == 422, message
    assert message.startswith("дарогі.gml: "), message
    assert listener.connections == before


def test_wfs_capabilities_named_gml_are_refused_by_the_cli(portal: Portal, listener: Listener,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "roads.gml"
    path.write_text(wfs_capabilities(listener.port))
    before = listener.connections
    result = portal.cli("ingest", str(path), "--region", MINSK, check=False)
    assert result.returncode == 2, result.stderr
    assert "error: roads.gml: " in result.stderr
    assert listener.connections == before


# GDAL handed the file directly, with NO_PROXY naming the listener, as the geoportal command
# runs it (the console script's argv[0]) or not; prints whether GDAL has a WFS driver.
_GDAL_DIRECT = """
import sys
from geoportal.cli import main
from geoportal.etl.sandbox import NETWORK_OFF
from geoportal.etl.sources import gdal_config
import pyogrio
sys.argv = [sys.argv[1], "--data-dir", sys.argv[2], "layers"]
try:
    main()
except SystemExit:
    pass
print("has WFS:", "WFS" in pyogrio.list_drivers(), flush=True)
with gdal_config(NETWORK_OFF):
    try:
        pyogrio.read_info({path!r})
    except Exception as exc:
        print(type(exc).__name__)
"""


@pytest.mark.parametrize("argv0", ["geoportal", "python"])
def test_geoportal_command_drops_gdals_network_drivers(portal: Portal, listener: Listener,
                                                       tmp_path: Path, argv0: str) -> None:
    """Past the content checks (a file GDAL is handed directly) and past the proxy (NO_PROXY
    names the address), the geoportal command still makes no request: its GDAL has no WFS
    driver. Another program keeps its drivers: the request is made, as the control."""
    path = tmp_path / "roads.gml"
    path.write_text(wfs_capabilities(listener.port))
    before = listener.connections
    result = subprocess.run(
        [sys.executable, "-c", _GDAL_DIRECT.format(path=str(path)),
         str(Path(sys.executable).parent / argv0), str(portal.data_dir)],
        env=portal.env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    has_wfs = "has WFS: True" in result.stdout
    made = listener.connections - before
    if argv0 == "geoportal":
        assert not has_wfs and made == 0, result.stdout
    else:
        assert has_wfs and made > 0, result.stdout  # without the drop, GDAL goes out


def test_geojson_with_link_in_its_properties_is_published(portal: Portal, token: str) -> None:
    data = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"type": "link", "crs": "url", "kind": "link"},
         "geometry": {"type": "Point", "coordinates": [27.56, 53.9]}}]}
    response = upload(portal, token, "link-property", "links.geojson", json.dumps(data).encode())
    assert response.status_code == 202, response.text
    job = finished(portal, token, response.json()["id"])
    assert job["state"] == "done", job
    assert job["report"]["source"] == "links.geojson"  # the name, not the server's path


def test_rejected_raster_names_the_file_not_the_folder_with_spaces(portal: Portal,
                                                                   token: str) -> None:
    assert " " in str(portal.data_dir)
    response = upload(portal, token, "broken-raster", "ортафота 2024.tif",
                      b"II*\x00" + bytes(64))
    status, message = answer(portal, token, response)
    assert status in (400, 415, 422), message
    assert message.startswith("ортафота 2024.tif: "), message
    assert "portal" not in message and "uploads" not in message, message
