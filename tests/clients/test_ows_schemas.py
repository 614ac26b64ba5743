"""What /wms and /wfs answer is valid against the OGC schemas (kept offline in tests/), on both
stores: capabilities in three languages and two versions, features in GML 3.2, and the
exception reports the portal writes itself."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import require_tool
from tests.ogc_xml import assert_valid


@pytest.fixture(scope="module", autouse=True)
def _engine() -> None:
    require_tool("mapserv")


def _get(portal, path: str, **params: str) -> bytes:
    answer = requests.get(f"{portal.url}{path}", params=params, timeout=60)
    assert answer.status_code < 500, answer.text[:500]
    return answer.content


@pytest.mark.parametrize("language", ["be", "ru", "en"])
def test_wms_130_capabilities_are_valid_in_every_language(portal, language):
    document = _get(portal, "/wms", SERVICE="WMS", VERSION="1.3.0",
                    REQUEST="GetCapabilities", LANGUAGE=language)
    assert_valid(document, "wms-1.3.0")


def test_wms_111_capabilities_are_valid(portal):
    document = _get(portal, "/wms", SERVICE="WMS", VERSION="1.1.1", REQUEST="GetCapabilities")
    assert_valid(document, "wms-1.1.1")


def test_wfs_20_capabilities_and_features_are_valid(portal):
    assert_valid(_get(portal, "/wfs", SERVICE="WFS", VERSION="2.0.0",
                      REQUEST="GetCapabilities"), "wfs-2.0")
    own = _get(portal, "/wfs", SERVICE="WFS", VERSION="2.0.0", REQUEST="DescribeFeatureType",
               TYPENAMES="geoportal:oblasts,geoportal:cities")
    for name in ("oblasts", "cities"):
        features = _get(portal, "/wfs", SERVICE="WFS", VERSION="2.0.0", REQUEST="GetFeature",
                        TYPENAMES=f"geoportal:{name}", COUNT="3", SRSNAME="EPSG:28405")
        assert b"<wfs:member>" in features
        assert_valid(features, "wfs-2.0", extra_schemas={f"{portal.url}/wfs": own})


@pytest.mark.parametrize("path, params, schema", [
    ("/wms", {"SERVICE": "WMS", "VERSION": "1.3.0", "REQUEST": "GetMap", "LAYERS": "nope"},
     "wms-exception-1.3.0"),
    ("/wms", {"SERVICE": "WMS", "VERSION": "1.1.1", "REQUEST": "GetMap", "LAYERS": "nope"},
     "wms-exception-1.1.1"),
    ("/wfs", {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature",
              "TYPENAMES": "nope"}, "ows-exception-1.1"),
    ("/wfs", {"SERVICE": "WFS", "VERSION": "1.1.0", "REQUEST": "GetFeature",
              "TYPENAME": "nope"}, "ows-exception-1.0"),
    ("/wfs", {"SERVICE": "WFS", "VERSION": "2.0.0", "REQUEST": "GetFeature",
              "TYPENAMES": "cities", "FILTER": "<Filter><unclosed>"}, "ows-exception-1.1"),
])
def test_the_portals_own_exception_reports_are_valid(portal, path, params, schema):
    answer = requests.get(f"{portal.url}{path}", params=params, timeout=60)
    assert answer.status_code == 400
    assert_valid(answer.content, schema)
