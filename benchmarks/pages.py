"""How fast the portal's home page answers and draws its first map, and how much it transfers,
in Debian's headless Chromium (Playwright), against the targets of issues 9 and 19: the page in
under 1 s on localhost; the first map frame in under 1 s on localhost and under 3 s on a
1.6 Mbit/s line with 150 ms latency (Chromium's own throttling, CDP
``Network.emulateNetworkConditions``); under 500 KB transferred until that frame, counted as the
browser received it (Playwright's ``request.sizes()``: compressed bodies and headers). The peer:
pygeoapi's own HTML collections page on the same server (``/collections?f=html``), a page with
no map.

Run against a running portal (``make run``, which builds the hashed and precompressed static
files): ``.venv/bin/python benchmarks/pages.py [--url http://127.0.0.1:5000] [--runs 10]``.
Each run is a new browser context (no cache). Prints the medians and the targets met or missed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from typing import Any

import requests
from playwright.sync_api import sync_playwright

ARGS = ["--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
        "--ignore-gpu-blocklist", "--no-sandbox"]
# ms from navigation start: the first frame MapLibre rendered with basemap features in view
FIRST_FRAME = """() => new Promise(resolve => {
  const start = performance.timeOrigin;
  const check = () => {
    const map = window.portalMap;
    if (map && map.getLayer('basemap-oblasts-0') &&
        map.queryRenderedFeatures({layers: ['basemap-oblasts-0']}).length > 0) {
      resolve(performance.now());
    } else {
      requestAnimationFrame(check);
    }
  };
  check();
})"""


# "Regular 3G"-like, as the issue states it: 1.6 Mbit/s down, 750 kbit/s up, 150 ms latency
THROTTLED = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 / 8,
             "uploadThroughput": 750_000 / 8}
TARGETS = {"dom": 1000, "frame": 1000, "frame_throttled": 3000, "bytes": 500 * 1024}


def first_frame(browser: Any, url: str, throttle: dict[str, Any] | None) -> tuple[float, int,
                                                                                   float]:
    """One visit in a new context: (first map frame in ms from navigation start, bytes
    transferred until then, DOMContentLoaded in ms)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    # every request of the context, MapLibre's worker's tiles included (a CDP session on the
    # page sees only the page's own); the page's throttling applies to the worker's as well
    finished: list[Any] = []
    context.on("requestfinished", lambda request: finished.append(request))
    if throttle is not None:
        context.new_cdp_session(page).send("Network.emulateNetworkConditions", throttle)
    page.goto(f"{url}/", wait_until="domcontentloaded", timeout=120_000)
    frame = float(page.evaluate(FIRST_FRAME))
    dom = float(page.evaluate(
        "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"))
    transferred = 0
    for request in list(finished):  # until the first frame: as the browser received them
        sizes = request.sizes()
        transferred += sizes["responseBodySize"] + sizes["responseHeadersSize"]
    context.close()
    return frame, transferred, dom


def measure(url: str, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"html": [], "dom": [], "frame": [], "bytes": [],
                                   "frame_throttled": [], "bytes_throttled": [],
                                   "peer_dom": []}
    for _ in range(runs):  # the HTML alone, as curl would fetch it
        started = time.perf_counter()
        requests.get(f"{url}/", headers={"Accept": "text/html"}, timeout=30).raise_for_status()
        out["html"].append((time.perf_counter() - started) * 1000)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        for _ in range(runs):
            frame, sent, dom = first_frame(browser, url, None)
            out["frame"].append(frame)
            out["bytes"].append(sent)
            out["dom"].append(dom)
            frame, sent, _dom = first_frame(browser, url, THROTTLED)
            out["frame_throttled"].append(frame)
            out["bytes_throttled"].append(sent)
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(f"{url}/collections?f=html", wait_until="domcontentloaded")
            out["peer_dom"].append(page.evaluate(
                "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"))
            context.close()
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    found = measure(args.url.rstrip("/"), args.runs)
    med = {k: statistics.median(v) for k, v in found.items()}
    print(f"home page HTML (GET /, Accept: text/html): median {med['html']:.1f} ms")
    print(f"home page DOMContentLoaded in Chromium:    median {med['dom']:.0f} ms "
          f"(pygeoapi /collections?f=html: {med['peer_dom']:.0f} ms, "
          f"ratio {med['dom'] / med['peer_dom']:.2f}x)")
    print(f"first map frame with the basemap drawn:    median {med['frame']:.0f} ms "
          f"(max {max(found['frame']):.0f})")
    print(f"  throttled (1.6 Mbit/s, 150 ms):          median {med['frame_throttled']:.0f} ms "
          f"(max {max(found['frame_throttled']):.0f})")
    print(f"transferred until the first map frame:     median {med['bytes'] / 1024:.0f} KB "
          f"(throttled: {med['bytes_throttled'] / 1024:.0f} KB)")
    for name, key, unit in (("home page under 1 s", "dom", "ms"),
                            ("first map frame under 1 s", "frame", "ms"),
                            ("first map frame under 3 s at 1.6 Mbit/s", "frame_throttled", "ms"),
                            ("home page under 500 KB transferred", "bytes", "B")):
        value, limit = med[key], TARGETS[key]
        shown = f"{value:.0f} ms" if unit == "ms" else f"{value / 1024:.0f} KB"
        print(f"  {'MET   ' if value < limit else 'MISSED'} {name}: {shown}")


if __name__ == "__main__":
    main()
