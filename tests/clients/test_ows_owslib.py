"""WMS 1.3.0 / 1.1.1 and WFS 2.0 as OWSLib drives them, against the real server (both stores)
with the sample layers, drawn and answered by MapServer."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import time
from xml.etree import ElementTree
from xml.sax.saxutils import escape as xml_escape

import numpy as np
import pytest
import requests
from owslib.fes2 import Filter, PropertyIsEqualTo
from owslib.util import ServiceException
from owslib.wfs import WebFeatureService
from owslib.wms import WebMapService
from PIL import Image
from pyproj import Transformer

from tests.conftest import require_tool

BELARUS_LATLON = (51.2, 23.1, 56.2, 32.8)  # WMS 1.3.0 EPSG:4326: lat/lon order
BELARUS_LONLAT = (23.1, 51.2, 32.8, 56.2)


@pytest.fixture(scope="module", autouse=True)
def _engine() -> None:
    require_tool("mapserv")


def _image(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def _city(portal, name_ru: str) -> tuple[float, float]:
    """A city's lon/lat, through the OGC API."""
    page = requests.get(f"{portal.url}/collections/cities/items",
                        params={"name_ru": name_ru, "f": "json"}, timeout=30).json()
    lon, lat = page["features"][0]["geometry"]["coordinates"]
    return lon, lat


def test_wms_130_capabilities_list_every_published_layer_in_the_language(portal):
    wms = WebMapService(f"{portal.url}/wms", version="1.3.0", timeout=60)
    assert {"cities", "raions", "oblasts", "railway-stations", "minsk-stops",
            "night-lights-2024"} <= set(wms.contents)
    cities = wms["cities"]
    assert cities.title == "Cities of Belarus and their population"
    assert {"EPSG:4326", "CRS:84", "EPSG:3857", "EPSG:32635", "EPSG:28405"} <= \
        set(cities.crsOptions)
    assert {"GetMap", "GetFeatureInfo", "GetLegendGraphic"} <= \
        {op.name for op in wms.operations}
    ru = requests.get(f"{portal.url}/wms", params={"SERVICE": "WMS", "REQUEST": "GetCapabilities",
                                                   "VERSION": "1.3.0", "LANGUAGE": "ru"},
                      timeout=60)
    assert ru.status_code == 200 and "xml" in ru.headers["Content-Type"]
    text = ru.text
    # layers titled in Russian, grouped by theme and region (folders without names)
    assert "<Title>Города Беларуси и их население</Title>" in text
    assert "<Title>Население</Title>" in text and "<Title>Минск</Title>" in text
    assert "<Name>population</Name>" not in text
    # a client that read them in Russian asks its maps, feature info and legends in Russian
    russian = WebMapService(f"{portal.url}/wms?LANGUAGE=ru", version="1.3.0", timeout=60)
    get_map = russian.getOperationByName("GetMap").methods[0]["url"]
    assert "LANGUAGE=ru" in get_map, get_map
    legend = russian["night-lights-2024"].styles["default"]["legend"]
    assert "LANGUAGE=ru" in legend and "layer=night-lights-2024" in legend, legend
    png = requests.get(legend, timeout=60)
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    assert _image(png.content).shape[0] >= 50  # five values of the ramp, one a row


def test_wms_130_getmap_draws_the_layer_and_111_draws_the_same(portal):
    wms = WebMapService(f"{portal.url}/wms", version="1.3.0", timeout=60)
    # OWSLib takes lon/lat and sends 1.3.0's EPSG:4326 axis order (lat/lon) itself
    png = wms.getmap(layers=["raions"], styles=[""], srs="EPSG:4326", bbox=BELARUS_LONLAT,
                     size=(256, 160), format="image/png", transparent=True).read()
    image = _image(png)
    assert image.shape == (160, 256, 4)
    drawn = (image[..., 3] > 0).mean()
    assert 0.3 < drawn < 0.95, drawn  # the country, not the whole frame nor nothing
    raw = requests.get(f"{portal.url}/wms", params={
        "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": "raions",
        "STYLES": "", "CRS": "EPSG:4326", "BBOX": ",".join(map(str, BELARUS_LATLON)),
        "WIDTH": 256, "HEIGHT": 160, "FORMAT": "image/png", "TRANSPARENT": "TRUE"}, timeout=60)
    assert np.array_equal(_image(raw.content), image)
    old = WebMapService(f"{portal.url}/wms", version="1.1.1", timeout=60)
    assert "raions" in old.contents
    png_111 = old.getmap(layers=["raions"], styles=[""], srs="EPSG:4326", bbox=BELARUS_LONLAT,
                         size=(256, 160), format="image/png", transparent=True).read()
    assert np.array_equal(_image(png_111), image)  # 1.1.1's lon/lat is 1.3.0's lat/lon
    jpeg = wms.getmap(layers=["night-lights-2024"], styles=[""], srs="EPSG:3857",
                      bbox=(2_570_000, 6_650_000, 3_660_000, 7_580_000), size=(300, 256),
                      format="image/jpeg")
    assert jpeg.info()["Content-Type"] == "image/jpeg"
    raster = np.asarray(Image.open(io.BytesIO(jpeg.read())).convert("RGB"))
    assert raster.shape == (256, 300, 3) and raster.std() > 5  # a picture, not a blank


def test_getfeatureinfo_answers_the_attributes_of_the_city_under_the_point(portal):
    lon, lat = _city(portal, "Минск")
    bbox = (lat - 0.1, lon - 0.1, lat + 0.1, lon + 0.1)  # WMS 1.3.0's lat/lon
    wms = WebMapService(f"{portal.url}/wms", version="1.3.0", timeout=60)
    common = dict(layers=["cities"], styles=[""], srs="EPSG:4326",
                  bbox=(lon - 0.1, lat - 0.1, lon + 0.1, lat + 0.1), size=(201, 201),
                  format="image/png", query_layers=["cities"], xy=(100, 100), feature_count=5)
    answer = json.loads(wms.getfeatureinfo(info_format="application/json", **common).read())
    names = [f["properties"]["name_ru"] for f in answer["features"]]
    assert names == ["Минск"]
    assert answer["features"][0]["properties"]["pop2019"] > 1_900_000
    html = requests.get(f"{portal.url}/wms", params={
        "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetFeatureInfo", "LAYERS": "cities",
        "QUERY_LAYERS": "cities", "STYLES": "", "CRS": "EPSG:4326",
        "BBOX": ",".join(map(str, bbox)), "WIDTH": 201, "HEIGHT": 201, "I": 100, "J": 100,
        "INFO_FORMAT": "text/html", "LANGUAGE": "ru"}, timeout=60)
    assert html.headers["Content-Type"].startswith("text/html")
    assert "Минск" in html.text and "Население, перепись 2019" in html.text
    gml = wms.getfeatureinfo(info_format="application/vnd.ogc.gml", **common).read()
    assert "Минск" in gml.decode("utf-8")
    empty = json.loads(wms.getfeatureinfo(
        info_format="application/json",
        **{**common, "bbox": (24.0, 52.0, 24.2, 52.2)}).read())  # no city there
    assert empty["features"] == []


def test_getlegendgraphic_is_a_png(portal):
    answer = requests.get(f"{portal.url}/wms", params={
        "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetLegendGraphic", "LAYER": "oblasts",
        "FORMAT": "image/png", "SLD_VERSION": "1.1.0"}, timeout=60)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/png"
    image = _image(answer.content)
    assert image.shape[0] >= 10 and image.shape[1] >= 10


def test_wfs_20_lists_vector_layers_pages_and_counts(portal):
    wfs = WebFeatureService(f"{portal.url}/wfs", version="2.0.0", timeout=60)
    assert {"geoportal:cities", "geoportal:raions", "geoportal:minsk-stops"} <= set(wfs.contents)
    assert not any("night-lights" in name for name in wfs.contents)  # rasters have no features
    base = {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature",
            "TYPENAMES": "geoportal:cities", "OUTPUTFORMAT": "geojson", "COUNT": 10}
    first = requests.get(f"{portal.url}/wfs", params={**base, "STARTINDEX": 0}, timeout=60)
    second = requests.get(f"{portal.url}/wfs", params={**base, "STARTINDEX": 10}, timeout=60)
    assert first.status_code == 200 and "json" in first.headers["Content-Type"]
    a = {f["properties"]["city_id"] for f in first.json()["features"]}
    b = {f["properties"]["city_id"] for f in second.json()["features"]}
    assert len(a) == len(b) == 10 and not a & b
    hits = requests.get(f"{portal.url}/wfs", params={**base, "RESULTTYPE": "hits"}, timeout=60)
    items = requests.get(f"{portal.url}/collections/cities/items", params={"limit": 1},
                         timeout=30).json()
    assert f'numberMatched="{items["numberMatched"]}"' in hits.text
    gml = wfs.getfeature(typename=["geoportal:cities"], maxfeatures=2).read().decode()
    assert 'numberReturned="2"' in gml and 'gml:id="cities.' in gml


def test_wfs_20_filters_and_reprojects_with_the_right_axis_order(portal):
    lon, lat = _city(portal, "Гродно")
    wfs = WebFeatureService(f"{portal.url}/wfs", version="2.0.0", timeout=60)
    found = wfs.getfeature(typename=["geoportal:cities"],
                           filter=_fes(PropertyIsEqualTo("name_ru", "Гродно")),
                           outputFormat="geojson").read()
    features = json.loads(found)["features"]
    assert [f["properties"]["name_ru"] for f in features] == ["Гродно"]
    for code, first_is_northing in (("32634", False), ("28404", True)):
        gml = requests.get(f"{portal.url}/wfs", params={
            "SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature",
            "TYPENAMES": "geoportal:cities", "SRSNAME": f"urn:ogc:def:crs:EPSG::{code}",
            "FILTER": _fes(PropertyIsEqualTo("name_ru", "Гродно"))}, timeout=60).text
        pos = gml.split("<gml:pos>")[1].split("<")[0].split()
        x, y = Transformer.from_crs("EPSG:4326", f"EPSG:{code}",
                                    always_xy=True).transform(lon, lat)  # easting, northing
        got = (float(pos[1]), float(pos[0])) if first_is_northing else \
            (float(pos[0]), float(pos[1]))
        assert abs(got[0] - x) < 1 and abs(got[1] - y) < 1, (code, pos, x, y)
    box = requests.get(f"{portal.url}/wfs", params={
        "SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature",
        "TYPENAMES": "geoportal:cities", "OUTPUTFORMAT": "geojson",
        "BBOX": f"{lat - 0.05},{lon - 0.05},{lat + 0.05},{lon + 0.05},"
                "urn:ogc:def:crs:EPSG::4326"}, timeout=60).json()
    assert [f["properties"]["name_ru"] for f in box["features"]] == ["Гродно"]


def test_a_like_filter_with_an_apostrophe_matches_the_name_and_never_rewrites_the_sql(portal):
    """MapServer wrote a LIKE pattern into the GeoPackage's SQL unescaped: ``x' OR '1'='1``
    matched every station. Belarusian names have apostrophes (Сар'янка), so a quote is kept
    as a one-character wildcard rather than refused."""
    queryables = requests.get(f"{portal.url}/collections/railway-stations/queryables",
                              params={"f": "json", "lang": "en"}, timeout=30).json()
    field = next(name for name, spec in queryables["properties"].items()
                 if spec.get("title") == "Name in Belarusian")

    def hits(pattern: str, operator: str = "PropertyIsLike") -> int:
        like = ' wildCard="*" singleChar="." escapeChar="!"' if operator.endswith("Like") else ""
        fes = (f'<fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:{operator}{like}>'
               f"<fes:ValueReference>{field}</fes:ValueReference><fes:Literal>"
               f"{xml_escape(pattern)}</fes:Literal></fes:{operator}></fes:Filter>")
        answer = requests.get(f"{portal.url}/wfs", params={
            "SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature",
            "TYPENAMES": "railway-stations", "RESULTTYPE": "hits", "FILTER": fes}, timeout=60)
        assert answer.status_code == 200, answer.text[:500]
        found = re.search(r'numberMatched="(\d+)"', answer.text)
        assert found is not None, answer.text[:500]
        return int(found.group(1))

    assert hits("*") > 900  # the control: every station
    assert hits("x' OR '1'='1") == 0
    assert hits("x' OR name LIKE '%") == 0
    assert hits("Сар'янка") == 1
    # the engine quotes the other comparisons itself, on both stores
    assert hits("Сар'янка", "PropertyIsEqualTo") == 1
    assert hits("x' OR '1'='1", "PropertyIsEqualTo") == 0


def _fes(operator) -> str:
    # ElementTree names the FES namespace ns0: the portal reads it all the same
    return ElementTree.tostring(Filter(operator).toXML(), encoding="unicode")


@pytest.mark.parametrize("params, code", [
    ({"SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": "no-such-layer",
      "STYLES": "", "CRS": "EPSG:4326", "BBOX": "51,23,57,33", "WIDTH": 10, "HEIGHT": 10,
      "FORMAT": "image/png"}, "LayerNotDefined"),
    ({"SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": "raions",
      "STYLES": "", "CRS": "EPSG:4326", "BBOX": "51,23,57,33", "WIDTH": 5000, "HEIGHT": 10,
      "FORMAT": "image/png"}, "InvalidParameterValue"),
    ({"SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": "raions",
      "STYLES": "", "CRS": "EPSG:4326", "BBOX": "51,23,57,33", "WIDTH": 10, "HEIGHT": 10,
      "FORMAT": "image/png", "SLD": "http://169.254.169.254/latest/meta-data"},
     "InvalidParameterValue"),
    ({"SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "DeleteEverything"},
     "OperationNotSupported"),
    # resolutions beyond the engine's range (it answered them with an HTML page of its own)
    ({"SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": "raions",
      "STYLES": "", "CRS": "EPSG:4326", "BBOX": "51,23,57,33", "WIDTH": 10, "HEIGHT": 10,
      "FORMAT": "image/png", "MAP_RESOLUTION": "abc"}, "map_resolution"),
    ({"SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": "raions",
      "STYLES": "", "CRS": "EPSG:4326", "BBOX": "51,23,57,33", "WIDTH": 10, "HEIGHT": 10,
      "FORMAT": "image/png", "FORMAT_OPTIONS": "dpi:100000"}, "format_options"),
    ({"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "Transaction"}, "OperationNotSupported"),
    # a malformed BBOX was no features (or the engine's assertion); now a report naming it
    ({"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": "oblasts",
      "BBOX": "a,b,c,d"}, 'locator="bbox"'),
    ({"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": "oblasts",
      "BBOX": "54,27,53,28"}, "lower corner"),
    ({"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature", "TYPENAMES": "oblasts",
      "BBOX": "53,27,54,28,EPSG:999999"}, "EPSG:999999"),
    ({"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature"}, "MissingParameterValue"),
])
def test_bad_requests_get_the_services_exception_report(portal, params, code):
    path = "/wfs" if params["SERVICE"] == "WFS" else "/wms"
    answer = requests.get(f"{portal.url}{path}", params=params, timeout=60)
    assert 400 <= answer.status_code < 500
    assert "xml" in answer.headers["Content-Type"] and code in answer.text


def test_a_hand_typed_request_without_styles_and_qgis_print_resolutions_are_drawn(portal):
    base = {"SERVICE": "WMS", "VERSION": "1.3.0", "LAYERS": "oblasts", "CRS": "EPSG:4326",
            "BBOX": "51,23,57,33", "WIDTH": 100, "HEIGHT": 100}
    plain = requests.get(f"{portal.url}/wms", params={**base, "REQUEST": "GetMap",
                                                      "FORMAT": "image/png"}, timeout=60)
    assert plain.status_code == 200 and plain.headers["Content-Type"] == "image/png", plain.text
    info = requests.get(f"{portal.url}/wms", params={
        **base, "REQUEST": "GetFeatureInfo", "QUERY_LAYERS": "oblasts", "I": 50, "J": 50,
        "INFO_FORMAT": "application/json"}, timeout=60)
    assert info.status_code == 200 and info.json()["features"], info.text[:300]
    # QGIS printing at 300 dpi sends all three
    printed = requests.get(f"{portal.url}/wms", params={
        **base, "REQUEST": "GetMap", "STYLES": "", "FORMAT": "image/png", "DPI": 300,
        "MAP_RESOLUTION": 300, "FORMAT_OPTIONS": "dpi:300"}, timeout=60)
    assert printed.status_code == 200 and printed.headers["Content-Type"] == "image/png"


@pytest.mark.parametrize("params", [
    {"REQUEST": "GetMap", "LAYERS": "raions", "STYLES": "", "CRS": "EPSG:999999",
     "BBOX": "51,23,57,33", "WIDTH": 10, "HEIGHT": 10, "FORMAT": "image/png"},
    {"REQUEST": "GetMap", "LAYERS": "raions", "STYLES": "", "CRS": "EPSG:4326",
     "BBOX": "nonsense", "WIDTH": 10, "HEIGHT": 10, "FORMAT": "image/png"},
    {"REQUEST": "GetMap", "LAYERS": "raions", "STYLES": "", "CRS": "EPSG:4326",
     "BBOX": "51,23,57,33", "WIDTH": 10, "HEIGHT": 10, "FORMAT": "image/x-evil"},
    {"REQUEST": "GetMap", "LAYERS": "raions", "STYLES": "", "CRS": "EPSG:4326",
     "BBOX": "51,23,57,33", "WIDTH": 10, "HEIGHT": 10, "FORMAT": "image/png",
     "map": "/etc/passwd", "mode": "browse"},
    {"REQUEST": "GetMap", "LAYERS": "raions", "STYLES": "", "CRS": "EPSG:4326",
     "BBOX": "51,23,57,33", "WIDTH": 10, "HEIGHT": 10, "FORMAT": "image/png",
     "SLD_BODY": "<StyledLayerDescriptor><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"},
])
def test_engine_errors_are_reports_and_never_reach_outside(portal, params):
    answer = requests.get(f"{portal.url}/wms", params={"SERVICE": "WMS", "VERSION": "1.3.0",
                                                       **params}, timeout=60)
    assert answer.status_code < 500
    assert "root:" not in answer.text and str(portal.data_dir) not in answer.text
    if answer.headers["Content-Type"] == "image/png":  # map= and mode= were left out
        assert _image(answer.content).shape == (10, 10, 4)
    else:
        assert "ServiceException" in answer.text


def test_gdal_reads_the_wms_and_wfs(portal, tmp_path):
    gdalinfo = require_tool("gdalinfo")
    ogrinfo = shutil.which("ogrinfo") or require_tool("ogrinfo")
    wms = subprocess.run([gdalinfo, f"WMS:{portal.url}/wms?SERVICE=WMS&VERSION=1.3.0"
                          "&REQUEST=GetMap&LAYERS=oblasts&CRS=EPSG:4326"
                          "&BBOX=51.2,23.1,56.2,32.8"], capture_output=True, text=True,
                         timeout=120)
    assert wms.returncode == 0, wms.stderr
    assert "Driver: WMS" in wms.stdout
    wfs = subprocess.run([ogrinfo, "-ro", "-al", "-so", f"WFS:{portal.url}/wfs",
                          "geoportal:oblasts"], capture_output=True, text=True, timeout=120)
    assert wfs.returncode == 0, wfs.stderr
    assert "Feature Count: 7" in wfs.stdout
    page = subprocess.run([ogrinfo, "-ro", "-al", "-q", "-where", "name_en = 'Minsk City'",
                           f"WFS:{portal.url}/wfs", "geoportal:oblasts"],
                          capture_output=True, text=True, timeout=120)
    assert page.returncode == 0, page.stderr
    assert page.stdout.count("OGRFeature(") == 1 and "Minsk City" in page.stdout
    paged = subprocess.run([ogrinfo, "-ro", "-al", "-q", "--config", "OGR_WFS_PAGING_ALLOWED",
                            "ON", "--config", "OGR_WFS_PAGE_SIZE", "3",
                            f"WFS:{portal.url}/wfs", "geoportal:oblasts"],
                           capture_output=True, text=True, timeout=120)
    assert paged.returncode == 0, paged.stderr
    assert paged.stdout.count("OGRFeature(") == 7
    log = portal.data_dir / "server.out"
    deadline = time.monotonic() + 10
    while "STARTINDEX=6" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "STARTINDEX=6" in log.read_text()  # the third page of 3 was asked for


def test_wms_getmap_is_refused_nothing_it_should_not_be(portal):
    # ServiceException from OWSLib for a refused request: the client sees the message
    wms = WebMapService(f"{portal.url}/wms", version="1.3.0", timeout=60)
    with pytest.raises(ServiceException, match="no published layer"):
        wms.getmap(layers=["drafts"], styles=[""], srs="EPSG:4326", bbox=BELARUS_LONLAT,
                   size=(10, 10), format="image/png")


def test_wfs_post_requests_as_xml_and_as_a_form(portal):
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<w:GetFeature xmlns:w="http://www.opengis.net/wfs/2.0" xmlns:f="http://www.opengis.net/fes/2.0"
    xmlns:geoportal="{portal.url}/wfs" service="WFS" version="2.0.0" count="5"
    outputFormat="geojson">
  <w:Query typeNames="geoportal:cities">
    <f:Filter><f:PropertyIsEqualTo><f:ValueReference>name_ru</f:ValueReference>
      <f:Literal>Брест</f:Literal></f:PropertyIsEqualTo></f:Filter>
  </w:Query>
</w:GetFeature>"""
    answer = requests.post(f"{portal.url}/wfs", data=body.encode(),
                           headers={"Content-Type": "text/xml"}, timeout=60)
    assert answer.status_code == 200, answer.text[:500]
    assert [f["properties"]["name_ru"] for f in answer.json()["features"]] == ["Брест"]
    raster = body.replace("geoportal:cities", "night-lights-2024")
    refused = requests.post(f"{portal.url}/wfs", data=raster.encode(),
                            headers={"Content-Type": "text/xml"}, timeout=60)
    assert refused.status_code == 400 and "Coverages" in refused.text
    hostile = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
               '<GetFeature xmlns="http://www.opengis.net/wfs/2.0" version="2.0.0">'
               '<Query typeNames="&e;"/></GetFeature>')
    answer = requests.post(f"{portal.url}/wfs", data=hostile,
                           headers={"Content-Type": "text/xml"}, timeout=60)
    assert answer.status_code == 400 and "root:" not in answer.text
    form = requests.post(f"{portal.url}/wfs", data={
        "SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature",
        "TYPENAMES": "geoportal:oblasts", "RESULTTYPE": "hits"}, timeout=60)
    assert 'numberMatched="7"' in form.text
    transaction = requests.post(f"{portal.url}/wfs", data=(
        '<Transaction xmlns="http://www.opengis.net/wfs/2.0" service="WFS" version="2.0.0"/>'),
        headers={"Content-Type": "text/xml"}, timeout=60)
    assert transaction.status_code == 400 and "OperationNotSupported" in transaction.text


def test_getfeatureinfo_on_a_raster_gives_its_value_and_unit(portal):
    lon, lat = _city(portal, "Минск")
    answer = requests.get(f"{portal.url}/wms", params={
        "SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetFeatureInfo",
        "LAYERS": "night-lights-2024", "QUERY_LAYERS": "night-lights-2024", "STYLES": "",
        "CRS": "EPSG:4326", "BBOX": f"{lat - 0.1},{lon - 0.1},{lat + 0.1},{lon + 0.1}",
        "WIDTH": 201, "HEIGHT": 201, "I": 100, "J": 100, "INFO_FORMAT": "text/html",
        "LANGUAGE": "be"}, timeout=60)
    assert answer.status_code == 200
    assert "Значэнне, нВт/см²/ср" in answer.text
    value = float(answer.text.split("<td>")[1].split("<")[0])
    assert value > 10  # the centre of Minsk is bright at night
