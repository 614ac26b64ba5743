"""The portal's HTML templates and static assets must work without internet.

Every file under ``geoportal/server/templates`` and ``geoportal/server/static``
is scanned for ``src=``, ``href=``, ``srcset=``, ``action=``, ``poster=``,
CSS ``url(...)`` and CSS ``@import`` references.  A reference that points to a
host (``http://``, ``https://``, ``//host`` or any other ``scheme://``) fails
the test unless it is the portal's own base URL, i.e. unless it is built from
``config['server']['url']`` in Jinja (``{{ config['server']['url'] }}``,
``{{ config.server.url }}`` or the ``base_url`` variable our ``_base.html``
derives from it) or starts with the literal value of the optional
``GEOPORTAL_SERVER_URL`` environment variable.

References that are plain Jinja expressions over the data (``href="{{ l.href }}"``)
are not resources of the template itself and are not judged here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER_DIR = ROOT / "geoportal" / "server"
SCANNED_DIRS = [SERVER_DIR / "templates", SERVER_DIR / "static"]
TEXT_SUFFIXES = {".html", ".htm", ".jinja", ".j2", ".css", ".js", ".mjs", ".svg", ".json",
                 ".jsonld", ".xml", ".txt", ".map"}

# attribute="value" / attribute='value' / attribute=value
_ATTR_RE = re.compile(
    r"""\b(?P<attr>src|href|srcset|action|poster|xlink:href)\s*=\s*
        (?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s>]+))""",
    re.IGNORECASE | re.VERBOSE,
)
# url(...) in CSS or inline styles
_URL_RE = re.compile(r"""url\(\s*(?P<q>["']?)(?P<val>[^"')]*)(?P=q)\s*\)""", re.IGNORECASE)
# @import "..." (CSS without url())
_IMPORT_RE = re.compile(r"""@import\s+(?P<q>["'])(?P<val>[^"']*)(?P=q)""", re.IGNORECASE)
# JS module imports / fetches of absolute URLs in static scripts
_JS_RE = re.compile(r"""\b(?:import|fetch)\s*\(?\s*(?P<q>["'`])(?P<val>[^"'`]*)(?P=q)""")

# Jinja expressions that evaluate to the portal's own base URL
_OWN_URL_EXPR = re.compile(
    r"""^\{\{-?\s*(?:config\[['"]server['"]\]\[['"]url['"]\]|config\.server\.url|base_url)"""
    r"""\s*(?:\|[^}]*)?-?\}\}"""
)
_EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.\-]*:)?//", re.IGNORECASE)


def _own_url_prefixes() -> list[str]:
    own = os.environ.get("GEOPORTAL_SERVER_URL", "").strip().rstrip("/")
    return [own] if own else []


def is_external(value: str, own_prefixes: list[str] | None = None) -> bool:
    """True if ``value`` references a host other than the portal itself."""
    value = value.strip()
    if not value or _OWN_URL_EXPR.match(value):
        return False
    for prefix in own_prefixes if own_prefixes is not None else _own_url_prefixes():
        if value == prefix or value.startswith(prefix + "/") or value.startswith(prefix + "?"):
            return False
    if value.startswith(("{{", "{%")):
        # a data-driven value (e.g. a link from the API response), not a template asset
        return False
    # srcset may hold several comma separated candidates
    return any(_EXTERNAL.match(part.strip()) for part in value.split(","))


def find_external_refs(text: str, own_prefixes: list[str] | None = None) -> list[tuple[int, str]]:
    """Return ``(line_number, snippet)`` for every external reference in ``text``."""
    hits: list[tuple[int, str]] = []
    for regex in (_ATTR_RE, _URL_RE, _IMPORT_RE, _JS_RE):
        for match in regex.finditer(text):
            if regex is _ATTR_RE:
                value = match.group("dq") or match.group("sq") or match.group("bare") or ""
            else:
                value = match.group("val")
            if is_external(value, own_prefixes):
                line = text.count("\n", 0, match.start()) + 1
                hits.append((line, match.group(0).strip()))
    return sorted(set(hits))


# Third-party libraries installed at set-up (MapLibre GL JS, from npm): not ours to scan for
# links (its attribution names maplibre.org); that it fetches nothing from elsewhere is checked
# in a real browser (tests/browser: every request of the home page goes to the portal).
VENDOR = SERVER_DIR / "static" / "vendor"


def _scanned_files() -> list[Path]:
    files: list[Path] = []
    for base in SCANNED_DIRS:
        if base.is_dir():
            files.extend(p for p in sorted(base.rglob("*"))
                         if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES
                         and VENDOR not in p.parents)
    return files


FILES = _scanned_files()


def test_template_and_static_dirs_exist() -> None:
    for base in SCANNED_DIRS:
        assert base.is_dir(), f"missing directory {base.relative_to(ROOT)}"
    assert (SERVER_DIR / "static" / "css" / "portal.css").is_file()
    assert (SERVER_DIR / "templates" / "_base.html").is_file()


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_no_external_references(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    hits = find_external_refs(text)
    assert not hits, "\n".join(
        f"{path.relative_to(ROOT)}:{line}: external reference {snippet!r}" for line, snippet in hits
    )


def test_base_template_loads_portal_css_from_own_server() -> None:
    base = (SERVER_DIR / "templates" / "_base.html").read_text(encoding="utf-8")
    assert re.search(r"""href=["']\{\{\s*base_url\s*\}\}/static/css/portal\.css["']""", base) or \
        re.search(r"""href=["']\{\{\s*config\['server'\]\['url'\]\s*\}\}/static/css/portal\.css""",
                  base)


@pytest.mark.parametrize(
    ("snippet", "external"),
    [
        ('<link rel="stylesheet" href="https://assets.example.org/x.css">', True),
        ("<script src='//cdn.example.org/a.js'></script>", True),
        ("<img src=http://tiles.example.org/1.png>", True),
        ("body { background: url(https://example.org/a.png) }", True),
        ('@import "https://fonts.example.org/css";', True),
        ('<img srcset="a.png 1x, https://example.org/b.png 2x">', True),
        ("<a href=\"{{ config['server']['url'] }}/collections\">", False),
        ('<link href="{{ config.server.url }}/static/css/portal.css">', False),
        ('<link href="{{ base_url }}/static/css/portal.css">', False),
        ("<a href=\"{{ l['href'] }}\">", False),
        ('<a href="?f=json">', False),
        ('<a href="mailto:a@example.org">', False),
        ("url('../img/logo.svg')", False),
        ('<a href="http://localhost:5000/collections">', False),
    ],
)
def test_scanner_self_check(snippet: str, external: bool) -> None:
    hits = find_external_refs(snippet, own_prefixes=["http://localhost:5000"])
    assert bool(hits) is external, hits
