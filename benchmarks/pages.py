"""How fast the portal's home page answers and draws its first map, in Debian's headless
Chromium (Playwright), against the targets of the browser issue: the page in under 1 s on
localhost, the first map frame in under 2 s. The peer: pygeoapi's own HTML collections page
on the same server (``/collections?f=html``), a page with no map.

Run against a running portal (``make run``): ``.venv/bin/python benchmarks/pages.py
[--url http://127.0.0.1:5000] [--runs 10]``. Each run is a new browser context (no cache).
Prints the medians and the targets met or missed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time

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


def measure(url: str, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"html": [], "dom": [], "frame": [], "peer_dom": []}
    for _ in range(runs):  # the HTML alone, as curl would fetch it
        started = time.perf_counter()
        requests.get(f"{url}/", headers={"Accept": "text/html"}, timeout=30).raise_for_status()
        out["html"].append((time.perf_counter() - started) * 1000)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(f"{url}/", wait_until="domcontentloaded")
            out["dom"].append(page.evaluate(
                "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"))
            out["frame"].append(page.evaluate(FIRST_FRAME))
            context.close()
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
    for name, value, limit in (("home page under 1 s", med["dom"], 1000),
                               ("first map frame under 2 s", med["frame"], 2000)):
        print(f"  {'MET   ' if value < limit else 'MISSED'} {name}: {value:.0f} ms")


if __name__ == "__main__":
    main()
