"""The layer card's OGC API - Features URL (issue 19), as a GIS specialist copies it from the
collection page, opened by GDAL's OAPIF driver (Debian's ogrinfo) against the real server. (The
card gives the collection's URL, not its ``/items``: GDAL 3.6 refuses an items URL.)"""

from __future__ import annotations

import subprocess

import requests

from tests.conftest import require_tool


def test_ogrinfo_opens_the_copied_items_url(portal):
    ogrinfo = require_tool("ogrinfo")
    doc = requests.get(f"{portal.url}/collections/railway-stations", params={"f": "json"},
                       timeout=30).json()
    url = doc["geoportal:urls"]["features"]
    assert url == f"{portal.url}/collections/railway-stations"
    result = subprocess.run([ogrinfo, "-ro", "-so", f"OAPIF:{url}", "railway-stations"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"Feature Count: {doc['geoportal:featureCount']}" in result.stdout
    assert "Point" in result.stdout
