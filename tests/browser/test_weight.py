"""The weight of the home page in a real Chromium (issue 19, "Weight"): everything the page
transfers until its first map frame (HTML, scripts, styles, the basemap's tiles, the catalog
search) is under 500 KB as the browser received it (compressed), MapLibre GL JS comes as a
content-hashed, brotli-compressed file, and no request fails. A second visit fetches no
hashed file again (``immutable``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import Watched

pytestmark = pytest.mark.parametrize("portal", ["gpkg"], indirect=True)

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 500 * 1024
FIRST_FRAME = """() => !!window.portalMap && !!window.portalMap.getLayer('basemap-oblasts-0')
  && window.portalMap.queryRenderedFeatures({layers: ['basemap-oblasts-0']}).length > 0"""


@pytest.fixture(scope="module", autouse=True)
def built() -> None:
    """The static build as ``make web`` makes it (the server reads its manifest per page)."""
    if not (ROOT / "geoportal" / "server" / "static" / "vendor" / "maplibre-gl.js").is_file():
        pytest.fail("MapLibre GL JS is not installed: run `make web`")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build-static.py"), "--quiet"],
                   check=True, timeout=300)


class Transfers:
    """What the page's own requests took on the wire (CDP ``encodedDataLength``: headers and
    the body as sent, i.e. compressed), by URL, their ``Content-Encoding``, and what came from
    the browser's cache. MapLibre's web worker fetches the tiles: those are not the page
    target's, so ``Sent`` counts the total."""

    def __init__(self, page: object) -> None:
        self.cdp = page.context.new_cdp_session(page)  # type: ignore[attr-defined]
        self.urls: dict[str, str] = {}
        self.encoding: dict[str, str] = {}
        self.cached: set[str] = set()
        self.bytes: dict[str, int] = {}
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.requestServedFromCache", lambda e: self.cached.add(e["requestId"]))
        self.cdp.send("Network.enable")

    def _response(self, event: dict) -> None:
        rid = event["requestId"]
        self.urls[rid] = event["response"]["url"]
        headers = {k.lower(): v for k, v in event["response"]["headers"].items()}
        self.encoding[rid] = headers.get("content-encoding", "")
        if event["response"].get("fromDiskCache") or event["response"].get("fromMemoryCache"):
            self.cached.add(rid)

    def _finished(self, event: dict) -> None:
        self.bytes[event["requestId"]] = int(event["encodedDataLength"])

    def total(self) -> int:
        return sum(self.bytes.values())

    def by_url(self) -> dict[str, int]:
        return {self.urls.get(rid, rid): n for rid, n in self.bytes.items()}


class Sent:
    """Every request of the context that finished, the worker's tiles included (Playwright's
    ``request.sizes()``: the body as received, compressed, plus the headers)."""

    def __init__(self, context: object) -> None:
        self.finished: list[object] = []
        context.on("requestfinished",  # type: ignore[attr-defined]
                   lambda request: self.finished.append(request))

    def by_url(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for request in list(self.finished):
            sizes = request.sizes()  # type: ignore[attr-defined]
            out[request.url] = (out.get(request.url, 0)  # type: ignore[attr-defined]
                                + sizes["responseBodySize"] + sizes["responseHeadersSize"])
        return out


def _first_frame(site: Watched, url: str) -> None:
    site.page.goto(url)
    site.page.wait_for_selector("body[data-ready=true]")
    deadline = 200  # x 100 ms
    while not site.page.evaluate(FIRST_FRAME):
        deadline -= 1
        assert deadline > 0, "no map frame with the basemap drawn after 20 s"
        site.page.wait_for_timeout(100)


def test_the_home_page_transfers_under_500_kb(browser, portal):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    sent = Sent(context)
    site = Watched(context.new_page(), "weight")
    transfers = Transfers(site.page)
    _first_frame(site, f"{portal.url}/")
    site.page.wait_for_load_state("networkidle")
    by_url = sent.by_url()
    total = sum(by_url.values())
    sizes = sorted(by_url.items(), key=lambda kv: -kv[1])
    assert any("/tiles/" in url for url in by_url), "the worker's tiles are counted"
    assert total >= transfers.total()  # the page's own requests are a part of it
    print(f"home page until the first map frame: {total:,} bytes in {len(sizes)} responses; "
          f"largest: {sizes[:4]}")
    assert total < BUDGET, f"{total:,} bytes transferred: {sizes[:8]}"
    maplibre = [rid for rid, url in transfers.urls.items() if "/static/vendor/maplibre-gl." in url
                and url.endswith(".js")]
    assert len(maplibre) == 1, transfers.urls
    url = transfers.urls[maplibre[0]]
    assert url.rsplit("/", 1)[-1] != "maplibre-gl.js", "the plain name, not the hashed one"
    assert transfers.encoding[maplibre[0]] in ("br", "gzip")
    assert transfers.bytes[maplibre[0]] < 400 * 1024  # 1.06 MB plain
    assert site.failed == [] and site.errors == []
    site.shot("first-frame")

    # the next visit: hashed files come from the browser's cache, not the network
    again = Transfers(site.page)
    _first_frame(site, f"{portal.url}/")
    hashed = [rid for rid, url in again.urls.items() if "/static/" in url]
    assert hashed, again.urls
    assert all(rid in again.cached for rid in hashed), \
        [again.urls[rid] for rid in hashed if rid not in again.cached]
    assert site.failed == [] and site.errors == []
    context.close()
