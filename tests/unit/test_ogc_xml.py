"""The offline OGC schema validator of tests/ogc_xml.py (issue 20), on real MapServer answers.

MapServer 8.0 (Debian's ``mapserv``, run as a CGI program, as the portal's WMS/WFS engine does)
serves a tiny mapfile over a GeoPackage made here with pyogrio: three points whose names are
Belarusian Cyrillic. Its WMS 1.3.0 and 1.1.1 and WFS 2.0 capabilities, a WFS 2.0 GML 3.2
GetFeature answer (checked against its own DescribeFeatureType answer) and its exception
reports (WMS 1.3.0 and 1.1.1, OWS 1.1 and 1.0) validate against the official schemas; the same
documents with an element taken out do not, and the error names the line and the element. A
hand-built WMTS 1.0 capabilities document validates, and the same without its TileMatrixSet's
CRS does not. Without ``mapserv`` the MapServer tests skip, unless GEOPORTAL_REQUIRE_CLIENTS=1
(then they fail).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import shapely
from lxml import etree
from pyogrio.raw import write

from tests import ogc_xml
from tests.ogc_xml import MAPSERVER_NS, OfflineSchemaError, validate

PLACES = [("Мінск", 27.5667, 53.9), ("Магілёў", 30.3333, 53.9167), ("Гродна", 23.8333, 53.6833)]
LAYER_TITLE = "Населеныя пункты"

Ows = Callable[[str], tuple[dict[str, str], bytes]]


def _mapfile(gpkg: Path) -> str:
    return f"""MAP
  NAME "ogc_xml_test"
  EXTENT 23 51 33 56.5
  SIZE 256 256
  PROJECTION "init=epsg:4326" END
  WEB
    METADATA
      "ows_enable_request" "*"
      "ows_srs" "EPSG:4326 EPSG:3857"
      "ows_onlineresource" "http://127.0.0.1/ows?"
      "ows_title" "Геапартал"
    END
  END
  LAYER
    NAME "places"
    CONNECTIONTYPE OGR
    CONNECTION "{gpkg}"
    DATA "places"
    TYPE POINT
    STATUS ON
    METADATA
      "ows_title" "{LAYER_TITLE}"
      "gml_include_items" "all"
      "gml_featureid" "id"
      "wfs_getfeature_formatlist" "geojson"
    END
    TEMPLATE "x"
    CLASS
      STYLE
        SYMBOL 0
        SIZE 8
        COLOR 200 30 30
      END
    END
  END
END
"""


@pytest.fixture(scope="module")
def ows(tmp_path_factory: pytest.TempPathFactory) -> Ows:
    """``ows("SERVICE=WMS&...")``: the CGI headers and body of a real ``mapserv`` answer."""
    mapserv = shutil.which("mapserv")
    if mapserv is None:
        if os.environ.get("GEOPORTAL_REQUIRE_CLIENTS") == "1":
            pytest.fail("mapserv is required (GEOPORTAL_REQUIRE_CLIENTS=1) but not installed")
        pytest.skip("mapserv is not installed (Debian package cgi-mapserver)")
    folder = tmp_path_factory.mktemp("mapserver")
    gpkg = folder / "places.gpkg"
    geometry = np.array([shapely.to_wkb(shapely.Point(x, y)) for _, x, y in PLACES], dtype=object)
    ids = np.arange(1, len(PLACES) + 1, dtype=np.int64)
    names = np.array([name for name, _, _ in PLACES], dtype=object)
    write(gpkg, geometry, [ids, names], ["id", "name"], layer="places", driver="GPKG",
          crs="EPSG:4326", geometry_type="Point",
          dataset_options={"VERSION": "1.2"})  # a GeoPackage Debian's GDAL reads without a word
    mapfile = folder / "test.map"
    mapfile.write_text(_mapfile(gpkg), encoding="utf-8")
    config = folder / "mapserver.conf"
    config.write_text('CONFIG\n  ENV\n    MS_MAP_PATTERN "^/.*\\.map$"\n  END\nEND\n')

    def run(query: str) -> tuple[dict[str, str], bytes]:
        env = {**os.environ, "MAPSERVER_CONFIG_FILE": str(config), "MS_MAPFILE": str(mapfile),
               "REQUEST_METHOD": "GET", "QUERY_STRING": query}
        out = subprocess.run([mapserv], env=env, capture_output=True, timeout=60, check=True)
        head, sep, body = out.stdout.partition(b"\r\n\r\n")
        if not sep:
            head, _, body = out.stdout.partition(b"\n\n")
        headers = {}
        for line in head.decode("latin-1").splitlines():
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        return headers, body

    return run


def _without_first(document: bytes, element: bytes) -> bytes:
    """The document with its first ``element`` (a whole ``<x>...</x>``, no nesting) taken out."""
    name = re.escape(element)
    broken, count = re.subn(rb"<" + name + rb"[ >][^<]*</" + name + rb">", b"", document,
                            count=1)
    assert count == 1, f"no {element!r} in the document"
    return broken


def test_wms_130_capabilities_valid(ows: Ows) -> None:
    headers, body = ows("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities")
    assert headers["content-type"].startswith("text/xml")
    assert b"<Name>places</Name>" in body and LAYER_TITLE.encode() in body
    # the extended operation in MapServer's own namespace, whose schema MapServer serves itself
    assert b"<ms:GetStyles>" in body and b"request=GetSchemaExtension" in body
    ogc_xml.assert_valid(body, "wms-1.3.0")


def test_wms_130_broken_capabilities_name_the_line(ows: Ows) -> None:
    _, body = ows("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities")
    broken = _without_first(body, b"Title")  # the service's title, which is required
    errors = validate(broken, "wms-1.3.0")
    assert len(errors) == 1, errors
    line = body[: body.index(b"<Title>")].count(b"\n") + 1
    assert errors[0].startswith(f"line {line + 1}: ")  # the element after it is unexpected
    assert "Expected is ( {http://www.opengis.net/wms}Title )" in errors[0]
    # an operation MapServer does not declare in its extension schema is refused too
    renamed = body.replace(b"ms:GetStyles>", b"ms:GetStyle>")
    assert any("GetStyle'" in e for e in validate(renamed, "wms-1.3.0"))


def test_mapserver_extension_stand_in_matches_mapserv(ows: Ows) -> None:
    """The local stand-in for MapServer's ``ms:`` WMS extension schema declares what the
    installed mapserv serves at request=GetSchemaExtension."""
    _, served = ows("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetSchemaExtension")
    stand_in = (ogc_xml.SCHEMAS_DIR / "mapserver" / "wms_extensions.xsd").read_bytes()

    def declarations(schema: bytes) -> set[tuple[str | None, ...]]:
        root = etree.fromstring(schema)
        assert root.get("targetNamespace") == MAPSERVER_NS
        return {(el.get("name"), el.get("type"), el.get("substitutionGroup"))
                for el in root.iterchildren("{http://www.w3.org/2001/XMLSchema}element")}

    assert declarations(served) == declarations(stand_in) == {
        ("GetStyles", "wms:OperationType", "wms:_ExtendedOperation")}


def test_wms_111_capabilities_valid_against_the_dtd(ows: Ows) -> None:
    _, body = ows("SERVICE=WMS&VERSION=1.1.1&REQUEST=GetCapabilities")
    assert b"WMS_MS_Capabilities.dtd" in body and LAYER_TITLE.encode() in body
    assert validate(body, "wms-1.1.1") == []
    errors = validate(_without_first(body, b"Title"), "wms-1.1.1")
    assert len(errors) == 1 and "Element Service content does not follow the DTD" in errors[0]
    # MapServer declares VendorSpecificCapabilities in the DOCTYPE's internal subset: it counts
    undeclared = body.replace(b"<!ELEMENT VendorSpecificCapabilities EMPTY>", b"")
    assert any("VendorSpecificCapabilities" in e for e in validate(undeclared, "wms-1.1.1"))


def test_wfs_200_capabilities_valid(ows: Ows) -> None:
    _, body = ows("SERVICE=WFS&VERSION=2.0.0&REQUEST=GetCapabilities")
    assert b"<wfs:WFS_Capabilities" in body and b"fes:Filter_Capabilities" in body
    assert validate(body, "wfs-2.0") == []
    errors = validate(_without_first(body, b"ows:ServiceType"), "wfs-2.0")
    assert errors and "{http://www.opengis.net/ows/1.1}ServiceType" in errors[0]


def test_wfs_200_getfeature_gml32_valid_against_its_describefeaturetype(ows: Ows) -> None:
    _, schema = ows("SERVICE=WFS&VERSION=2.0.0&REQUEST=DescribeFeatureType&TYPENAMES=places")
    headers, body = ows("SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=places&COUNT=2")
    assert "gml/3.2" in headers["content-type"]
    assert b'numberReturned="2"' in body and "Магілёў".encode() in body
    own = {MAPSERVER_NS: schema}
    assert validate(body, "wfs-2.0", extra_schemas=own) == []
    # a property the feature type does not have is caught only with the feature type's schema
    renamed = body.replace(b"<ms:name>", b"<ms:title>").replace(b"</ms:name>", b"</ms:title>")
    errors = validate(renamed, "wfs-2.0", extra_schemas=own)
    assert len(errors) == 2 and all(f"{{{MAPSERVER_NS}}}title" in e for e in errors), errors
    assert validate(renamed, "wfs-2.0") == []  # wfs:member's wildcard is lax
    # GML itself is checked either way: a gml:id must be an NCName
    bad_id = body.replace(b'gml:id="places.1"', b'gml:id=".1"', 1)
    assert any("xs:ID" in e for e in validate(bad_id, "wfs-2.0"))


@pytest.mark.parametrize(("query", "schema", "root"), [
    ("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=nowhere", "wms-exception-1.3.0",
     b"<ServiceExceptionReport"),
    ("SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap&LAYERS=nowhere", "wms-exception-1.1.1",
     b"exception_1_1_1.dtd"),
    ("SERVICE=WFS&VERSION=2.0.0&REQUEST=GetFeature&TYPENAMES=nowhere", "ows-exception-1.1",
     b"<ows:ExceptionReport"),
    ("SERVICE=WFS&VERSION=1.1.0&REQUEST=GetFeature&TYPENAME=nowhere", "ows-exception-1.0",
     b"ows/1.0.0/owsExceptionReport.xsd"),
])
def test_exception_reports_valid(ows: Ows, query: str, schema: str, root: bytes) -> None:
    _, body = ows(query)
    assert root in body
    assert validate(body, schema) == []
    assert validate(body.replace(b"code=", b"kode=").replace(b"exceptionCode=", b"kode="),
                    schema) != []


WMTS = """<?xml version="1.0" encoding="UTF-8"?>
<Capabilities xmlns="http://www.opengis.net/wmts/1.0" xmlns:ows="http://www.opengis.net/ows/1.1"
    xmlns:xlink="http://www.w3.org/1999/xlink" version="1.0.0">
  <ows:ServiceIdentification>
    <ows:Title>Геапартал Беларусі</ows:Title>
    <ows:ServiceType>OGC WMTS</ows:ServiceType>
    <ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion>
  </ows:ServiceIdentification>
  <ows:OperationsMetadata>
    <ows:Operation name="GetCapabilities">
      <ows:DCP><ows:HTTP><ows:Get xlink:href="http://127.0.0.1/wmts?"/></ows:HTTP></ows:DCP>
    </ows:Operation>
    <ows:Operation name="GetTile">
      <ows:DCP><ows:HTTP><ows:Get xlink:href="http://127.0.0.1/wmts?"/></ows:HTTP></ows:DCP>
    </ows:Operation>
  </ows:OperationsMetadata>
  <Contents>
    <Layer>
      <ows:Title>Населеныя пункты</ows:Title>
      <ows:WGS84BoundingBox>
        <ows:LowerCorner>23.17 51.26</ows:LowerCorner>
        <ows:UpperCorner>32.78 56.17</ows:UpperCorner>
      </ows:WGS84BoundingBox>
      <ows:Identifier>places</ows:Identifier>
      <Style isDefault="true"><ows:Identifier>default</ows:Identifier></Style>
      <Format>image/png</Format>
      <TileMatrixSetLink><TileMatrixSet>WebMercatorQuad</TileMatrixSet></TileMatrixSetLink>
      <ResourceURL format="image/png" resourceType="tile"
          template="http://127.0.0.1/wmts/places/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.png"/>
    </Layer>
    <TileMatrixSet>
      <ows:Identifier>WebMercatorQuad</ows:Identifier>
      <ows:SupportedCRS>urn:ogc:def:crs:EPSG::3857</ows:SupportedCRS>
      <WellKnownScaleSet>urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible</WellKnownScaleSet>
      <TileMatrix>
        <ows:Identifier>0</ows:Identifier>
        <ScaleDenominator>559082264.028717</ScaleDenominator>
        <TopLeftCorner>-20037508.3427892 20037508.3427892</TopLeftCorner>
        <TileWidth>256</TileWidth>
        <TileHeight>256</TileHeight>
        <MatrixWidth>1</MatrixWidth>
        <MatrixHeight>1</MatrixHeight>
      </TileMatrix>
    </TileMatrixSet>
  </Contents>
  <ServiceMetadataURL xlink:href="http://127.0.0.1/wmts/1.0.0/WMTSCapabilities.xml"/>
</Capabilities>
""".encode()


def test_wmts_100_capabilities_valid_and_broken() -> None:
    assert validate(WMTS, "wmts-1.0") == []
    errors = validate(_without_first(WMTS, b"ows:SupportedCRS"), "wmts-1.0")
    assert len(errors) == 1, errors
    assert errors[0].startswith("line 34: ")  # WellKnownScaleSet came where SupportedCRS must be
    assert "{http://www.opengis.net/ows/1.1}SupportedCRS" in errors[0]
    misplaced = WMTS.replace(b"<Format>image/png</Format>\n", b"").replace(
        b"</TileMatrixSetLink>", b"</TileMatrixSetLink>\n<Format>image/png</Format>")
    assert validate(misplaced, "wmts-1.0") != []


def test_offline_and_plain_failures() -> None:
    # the document's own xsi:schemaLocation is never followed (this address would not answer)
    located = WMTS.replace(b'version="1.0.0">', b'version="1.0.0" xmlns:xsi="http://www.w3.org/'
                           b'2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/'
                           b'wmts/1.0 http://127.0.0.1:9/wmts.xsd">', 1)
    assert validate(located, "wmts-1.0") == []
    # a document's own schema that imports an address with no local copy is refused, not fetched
    elsewhere = (b'<schema xmlns="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x">'
                 b'<import namespace="urn:y" schemaLocation="http://127.0.0.1:9/y.xsd"/></schema>')
    with pytest.raises(OfflineSchemaError, match=re.escape("127.0.0.1:9/y.xsd")):
        validate(b"<x:a xmlns:x='urn:x'/>", "gml-3.2", extra_schemas={"urn:x": elsewhere})
    assert validate(b"<Capabilities", "wmts-1.0")[0].startswith("not well-formed: ")
    with pytest.raises(ValueError, match="unknown schema"):
        validate(WMTS, "wmts-2.0")


def test_every_local_schema_compiles() -> None:
    """Each named schema set loads from the local copies alone (nothing missing, no fetch)."""
    for name in ogc_xml.SCHEMAS:
        if name in ogc_xml._DTDS:
            _, url = ogc_xml._DTDS[name]
            path = ogc_xml.local_path(url)
            assert path is not None and etree.DTD(str(path)) is not None
        else:
            assert isinstance(ogc_xml._schema(name), etree.XMLSchema), name
