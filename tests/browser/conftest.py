"""A real headless Chromium (Debian's, launched by path: no browser download) driven by
Playwright against the real portal. Each test's screenshots go to tests/browser/artifacts/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).parent / "artifacts"
# WebGL for MapLibre without a GPU: ANGLE on SwiftShader (software rendering)
CHROMIUM_ARGS = ["--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                 "--ignore-gpu-blocklist", "--no-sandbox"]


def chromium_path() -> str:
    """Debian's Chromium; skip (or fail in CI) when it is missing."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("GEOPORTAL_REQUIRE_CLIENTS") == "1":
        pytest.fail("chromium is required (GEOPORTAL_REQUIRE_CLIENTS=1) but not installed")
    pytest.skip("chromium is not installed (Debian package chromium)")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Watched:
    """A page, the requests that failed on it and its console errors."""

    def __init__(self, page: object, name: str) -> None:
        self.page = page
        self.name = name
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        page.on("response", lambda r: self.failed.append(f"{r.status} {r.url}")
                if r.status >= 400 else None)
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def shot(self, step: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{step}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def site(browser, request) -> Iterator[Watched]:
    """A fresh browser context (no stored language or token) at desktop size."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US",
                                  bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    watched = Watched(page, request.node.name.replace("[", "-").replace("]", ""))
    yield watched
    context.close()
