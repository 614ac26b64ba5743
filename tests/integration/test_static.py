"""The pages' static files through the real server (issue 19, "Weight"): the page HTML links
content-hashed names (``scripts/build-static.py``, ``make web``), which are cached a year
(``immutable``) and sent precompressed (brotli or gzip by ``Accept-Encoding``, the bytes
decompressing to the file itself); plain names are revalidated (``no-cache`` + ETag, 304); no
name reaches outside the static folder."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import brotli
import pytest
import requests

from tests.conftest import Portal

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "geoportal" / "server" / "static"
BUILD = ROOT / "geoportal" / "server" / "static-build"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture(scope="module")
def manifest() -> dict[str, str]:
    """The build as ``make web`` makes it (idempotent: the same names for the same files)."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build-static.py"), "--quiet"],
                   check=True, timeout=300)
    found: dict[str, str] = json.loads((BUILD / "manifest.json").read_text())
    return found


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory, manifest: dict[str, str]
           ) -> Iterator[Portal]:
    """A portal with no layers (static files do not depend on the store)."""
    server = Portal(tmp_path_factory.mktemp("static") / "var")
    server.cli("init")
    server.start()
    yield server
    server.stop()


def _raw_get(portal: Portal, path: str) -> int:
    """The status of GET ``path`` sent exactly as written: requests (urllib3) would remove
    the ``..`` segments before sending them."""
    conn = http.client.HTTPConnection("127.0.0.1", portal.port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_the_build_names_each_file_by_its_content(manifest: dict[str, str]) -> None:
    for logical in ("js/portal.js", "js/i18n.js", "css/home.css", "img/favicon.svg"):
        data = (STATIC / logical).read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:8]
        stem, ext = logical.rsplit(".", 1)
        assert manifest[logical] == f"{stem}.{digest}.{ext}"
        assert (BUILD / manifest[logical]).read_bytes() == data
        assert gzip.decompress((BUILD / f"{manifest[logical]}.gz").read_bytes()) == data
    # hidden files (vendor/.installed) are not built; source maps and licences keep their name
    assert not any(name.rsplit("/", 1)[-1].startswith(".") for name in manifest)
    if (STATIC / "vendor" / "LICENSE.txt").is_file():
        assert "vendor/LICENSE.txt" not in manifest
        assert (BUILD / "vendor" / "LICENSE.txt").is_file()


@pytest.mark.parametrize("path", ["/", "/admin"])
def test_the_pages_link_the_hashed_names(portal: Portal, manifest: dict[str, str],
                                         path: str) -> None:
    html = requests.get(f"{portal.url}{path}", headers={"Accept": "text/html"},
                        timeout=10).text
    linked = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert linked, html[:500]
    assert f"/static/{manifest['js/i18n.js']}" in linked
    assert f"/static/{manifest['css/home.css']}" in linked
    plain = [url for url in linked if url.removeprefix("/static/") in manifest]
    assert plain == [], f"plain names still linked: {plain}"
    for url in linked:  # every one of them answers
        assert requests.get(f"{portal.url}{url}", timeout=10).status_code == 200, url


def test_a_hashed_name_is_cached_a_year_and_sent_in_brotli(portal: Portal,
                                                            manifest: dict[str, str]) -> None:
    name = manifest["js/portal.js"]
    original = (STATIC / "js" / "portal.js").read_bytes()
    response = requests.get(f"{portal.url}/static/{name}", stream=True, timeout=10,
                            headers={"Accept-Encoding": "gzip, deflate, br"})
    body = response.raw.read()  # the bytes as sent, not decoded by requests
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert int(response.headers["Content-Length"]) == len(body) < len(original)
    assert brotli.decompress(body) == original


def test_gzip_when_brotli_is_not_accepted(portal: Portal, manifest: dict[str, str]) -> None:
    name = manifest["css/home.css"]
    original = (STATIC / "css" / "home.css").read_bytes()
    for accept in ("gzip", "gzip, br;q=0"):
        response = requests.get(f"{portal.url}/static/{name}", stream=True, timeout=10,
                                headers={"Accept-Encoding": accept})
        body = response.raw.read()
        assert response.headers["Content-Encoding"] == "gzip", accept
        assert int(response.headers["Content-Length"]) == len(body)
        assert gzip.decompress(body) == original
        assert response.headers["Content-Type"].startswith("text/css")


def test_the_file_itself_when_no_encoding_is_accepted(portal: Portal,
                                                      manifest: dict[str, str]) -> None:
    name = manifest["js/i18n.js"]
    response = requests.get(f"{portal.url}/static/{name}", stream=True, timeout=10,
                            headers={"Accept-Encoding": "identity"})
    body = response.raw.read()
    assert "Content-Encoding" not in response.headers
    assert body == (STATIC / "js" / "i18n.js").read_bytes()
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert "Accept-Encoding" in response.headers["Vary"]
    # and a revalidation, should a browser do one, is a 304 for the same encoding
    again = requests.get(f"{portal.url}/static/{name}", timeout=10,
                         headers={"Accept-Encoding": "identity",
                                  "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_a_plain_name_is_revalidated(portal: Portal) -> None:
    """Revalidated (pygeoapi's pages link plain names), and compressed all the same."""
    response = requests.get(f"{portal.url}/static/js/portal.js", timeout=10,
                            headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.content == (STATIC / "js" / "portal.js").read_bytes()  # decoded
    etag = response.headers["ETag"]
    again = requests.get(f"{portal.url}/static/js/portal.js", timeout=10,
                         headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
    assert again.status_code == 304
    # a file the build does not rename: the file itself, revalidated
    licence = STATIC / "vendor" / "LICENSE.txt"
    if licence.is_file():
        response = requests.get(f"{portal.url}/static/vendor/LICENSE.txt", timeout=10)
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.content == licence.read_bytes() and "ETag" in response.headers


@pytest.mark.parametrize("path", [
    "/static/../app.py",
    "/static/js/../../app.py",
    "/static/%2e%2e/app.py",
    "/static/js%2F..%2F..%2Fapp.py",
    "/static/%2Fetc%2Fpasswd",
    "/static/..%5capp.py",
    "/static/../static-build/manifest.json",
    "/static/vendor/.installed",
    "/static/js/nothing.js",
    "/static/js/portal.0000abcd.js",
])
def test_no_path_outside_the_static_folder(portal: Portal, path: str) -> None:
    assert _raw_get(portal, path) == 404, path


def test_an_absolute_path_is_404(portal: Portal) -> None:
    """Not even a redirect to a merged name: the static route keeps double slashes."""
    for path in ("/static//etc/passwd", "/static///etc/passwd", "/static/%2F%2Fetc/passwd"):
        assert _raw_get(portal, path) == 404, path
