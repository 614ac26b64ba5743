"""How fast the portal's home page (and its embeddable map, ``/embed``) answers and draws its
first map frame, and how much it transfers, in Debian's headless Chromium (Playwright), against
the targets of issues 9 and 19: the page in under 1 s on localhost; the first map frame in under
1 s on localhost and under 3 s on a 1.6 Mbit/s line with 150 ms latency (Chromium's own
throttling, CDP ``Network.emulateNetworkConditions``); under 500 KB transferred until that
frame, counted as the browser received it (Playwright's ``request.sizes()``: compressed bodies
and headers). The peer: pygeoapi's own HTML collections page on the same server
(``/collections?f=html``), a page with no map.

Where the first frame's time goes is reported too, as medians of marks the page passes through
(set by an init script listening to the page's ``portal:map`` event and MapLibre's events):
every script read (DOMContentLoaded fired), the Map created (its WebGL context set up), the style
loaded, MapLibre's first render, the first frame with the basemap drawn.

Run against a running portal (``make run``, which builds the hashed and precompressed static
files): ``.venv/bin/python benchmarks/pages.py [--url http://127.0.0.1:5000] [--runs 10]
[--pages /,/embed] [--no-throttled]``. Each run is a new browser context (no cache). Prints
the medians and the targets met or missed, with the machine's load average before and after:
the figures are wall-clock times on a shared CPU (WebGL is software-rendered, SwiftShader).
A page that answers 404 (``/embed`` on a portal without it) is skipped.
"""

from __future__ import annotations

import argparse
import os
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
# marks on the way to the first frame (an init script: it runs before the page's own scripts
# and is not subject to the page's CSP)
MARKS_INIT = """
document.addEventListener('portal:map', function (e) {
  performance.mark('bench:map');
  var map = e.detail;
  map.once('styledata', function () { performance.mark('bench:style'); });
  map.once('render', function () { performance.mark('bench:render'); });
});
"""
MARKS = """() => Object.fromEntries(performance.getEntriesByType('mark')
  .filter(m => m.name.startsWith('bench:')).map(m => [m.name.slice(6), m.startTime]))"""
DCL = "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
# DOMContentLoaded's start: every script read and run, the page's handlers (the Map) not yet
SCRIPTS = "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventStart"
STEPS = (("scripts", "scripts read (DOMContentLoaded fired)"),
         ("map", "Map created (its WebGL context set up)"),
         ("style", "style loaded"), ("render", "MapLibre's first render"),
         ("frame", "first frame, basemap drawn"))

# "Regular 3G"-like, as the issue states it: 1.6 Mbit/s down, 750 kbit/s up, 150 ms latency
THROTTLED = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 / 8,
             "uploadThroughput": 750_000 / 8}
TARGETS = {"dom": 1000, "frame": 1000, "frame_throttled": 3000, "bytes": 500 * 1024}


def first_frame(browser: Any, url: str, throttle: dict[str, Any] | None) -> dict[str, float]:
    """One visit of ``url`` in a new context: the first map frame and the marks before it (ms
    from navigation start: ``scripts``, ``map``, ``style``, ``render``, ``frame``; ``dom``:
    DOMContentLoaded's end, the page's handlers included) and ``bytes``
    transferred until that frame."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(MARKS_INIT)
    page = context.new_page()
    # every request of the context, MapLibre's worker's tiles included (a CDP session on the
    # page sees only the page's own); the page's throttling applies to the worker's as well
    finished: list[Any] = []
    context.on("requestfinished", lambda request: finished.append(request))
    if throttle is not None:
        context.new_cdp_session(page).send("Network.emulateNetworkConditions", throttle)
    page.goto(url, wait_until="domcontentloaded", timeout=120_000)
    found: dict[str, float] = {"frame": float(page.evaluate(FIRST_FRAME))}
    found["dom"] = float(page.evaluate(DCL))
    found["scripts"] = float(page.evaluate(SCRIPTS))
    found.update({k: float(v) for k, v in page.evaluate(MARKS).items()})
    transferred = 0
    for request in list(finished):  # until the first frame: as the browser received them
        sizes = request.sizes()
        transferred += sizes["responseBodySize"] + sizes["responseHeadersSize"]
    found["bytes"] = float(transferred)
    context.close()
    return found


def measure(url: str, path: str, runs: int, throttled: bool) -> dict[str, list[float]]:
    """``runs`` visits of ``url + path`` (and as many throttled), alternating with the peer
    page so that a change of the machine's load falls on both."""
    out: dict[str, list[float]] = {"html": [], "peer_dom": []}
    for _ in range(runs):  # the HTML alone, as curl would fetch it
        started = time.perf_counter()
        requests.get(f"{url}{path}", headers={"Accept": "text/html"},
                     timeout=30).raise_for_status()
        out["html"].append((time.perf_counter() - started) * 1000)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        for _ in range(runs):
            for key, value in first_frame(browser, f"{url}{path}", None).items():
                out.setdefault(key, []).append(value)
            if throttled:
                found = first_frame(browser, f"{url}{path}", THROTTLED)
                out.setdefault("frame_throttled", []).append(found["frame"])
                out.setdefault("bytes_throttled", []).append(found["bytes"])
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(f"{url}/collections?f=html", wait_until="domcontentloaded")
            out["peer_dom"].append(float(page.evaluate(DCL)))
            context.close()
        browser.close()
    return out


def report(path: str, found: dict[str, list[float]]) -> None:
    """The medians of one page and its targets, MET or MISSED."""
    med = {k: statistics.median(v) for k, v in found.items() if v}
    print(f"== {path}")
    print(f"HTML (GET {path}, Accept: text/html): median {med['html']:.1f} ms")
    print(f"DOMContentLoaded in Chromium:    median {med['dom']:.0f} ms "
          f"(pygeoapi /collections?f=html: {med['peer_dom']:.0f} ms, "
          f"ratio {med['dom'] / med['peer_dom']:.2f}x)")
    print(f"first map frame, basemap drawn:  median {med['frame']:.0f} ms "
          f"(min {min(found['frame']):.0f}, max {max(found['frame']):.0f})")
    if "frame_throttled" in med:
        print(f"  throttled (1.6 Mbit/s, 150 ms): median {med['frame_throttled']:.0f} ms "
              f"(min {min(found['frame_throttled']):.0f}, "
              f"max {max(found['frame_throttled']):.0f})")
    print(f"transferred until the first frame: median {med['bytes'] / 1024:.0f} KB"
          + (f" (throttled: {med['bytes_throttled'] / 1024:.0f} KB)"
             if "bytes_throttled" in med else ""))
    print("where the localhost frame's time goes (medians, ms from navigation start):")
    before = 0.0
    for key, name in STEPS:
        if key in med:
            print(f"  {med[key]:6.0f}  (+{med[key] - before:5.0f})  {name}")
            before = med[key]
    targets = [("page under 1 s", "dom"), ("first map frame under 1 s", "frame"),
               ("first map frame under 3 s at 1.6 Mbit/s", "frame_throttled"),
               ("page under 500 KB transferred", "bytes")]
    for name, key in targets:
        if key not in med:
            continue
        value, limit = med[key], TARGETS[key]
        shown = f"{value / 1024:.0f} KB" if key == "bytes" else f"{value:.0f} ms"
        print(f"  {'MET   ' if value < limit else 'MISSED'} {name}: {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--pages", default="/,/embed",
                        help="comma-separated paths; one that answers 404 is skipped")
    parser.add_argument("--no-throttled", action="store_true",
                        help="localhost only (halves the time)")
    args = parser.parse_args()
    url = args.url.rstrip("/")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before")
    for path in args.pages.split(","):
        status = requests.get(f"{url}{path}", headers={"Accept": "text/html"},
                              timeout=30).status_code
        if status == 404:
            print(f"== {path}: 404, skipped")
            continue
        report(path, measure(url, path, args.runs, not args.no_throttled))
        print(f"load average {os.getloadavg()[0]:.1f} after {path}")


if __name__ == "__main__":
    main()
