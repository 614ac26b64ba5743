"""Every HTML template under ``geoportal/server/templates`` is one the portal can render.

pygeoapi ships templates for APIs the portal does not serve (processes, jobs, STAC, EDR, ...);
copies of them here were dead weight that still had to be kept offline and translated. A
template counts as used when our code names it (``render_page("portal/index.html")``,
``render_j2_template(..., "collections/index.html", ...)``), when a pygeoapi API function our
code calls names it, or when a used template extends, includes or imports it. The pygeoapi
functions are found from our imports (``from pygeoapi import api as core_api`` then
``core_api.landing_page``), so a new route onto another pygeoapi API brings its templates in.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "geoportal"
TEMPLATES = PACKAGE / "server" / "templates"
_NAME = re.compile(r"^[\w-]+(?:/[\w-]+)*\.html$")
_JINJA_REF = re.compile(r"""\{%-?\s*(?:extends|include|import|from)\s+["']([^"']+)["']""")
_LITERAL = re.compile(r"""["']([\w-]+(?:/[\w-]+)*\.html)["']""")


def _sources() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(PACKAGE.rglob("*.py"))]


def names_in_our_code() -> set[str]:
    """Template names written as string literals in the package (what it renders itself)."""
    return {node.value for _, tree in _sources() for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and _NAME.match(node.value)}


def _member(module: str, name: str) -> Any:
    """What ``from module import name`` binds: an attribute, or else a submodule."""
    parent = importlib.import_module(module)
    if hasattr(parent, name):
        return getattr(parent, name)
    return importlib.import_module(f"{module}.{name}")


def pygeoapi_callables() -> dict[str, Any]:
    """The pygeoapi ``api`` functions and classes our code reaches, by qualified name: names
    imported from a ``pygeoapi.api`` module, and attributes read off an imported module."""
    found: dict[str, Any] = {}
    for _, tree in _sources():
        modules: dict[str, ModuleType] = {}  # local alias -> pygeoapi.api module
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level \
                    and (node.module == "pygeoapi" or node.module.startswith("pygeoapi.api")):
                for alias in node.names:
                    target = _member(node.module, alias.name)
                    if inspect.ismodule(target):
                        if target.__name__.startswith("pygeoapi.api"):
                            modules[alias.asname or alias.name] = target
                    elif node.module.startswith("pygeoapi.api") and callable(target):
                        found[f"{node.module}.{alias.name}"] = target
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("pygeoapi.api") and alias.asname:
                        modules[alias.asname] = importlib.import_module(alias.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in modules:
                module = modules[node.value.id]
                target = getattr(module, node.attr, None)
                if callable(target) and not inspect.ismodule(target):
                    found[f"{module.__name__}.{node.attr}"] = target
    return found


def names_pygeoapi_renders() -> dict[str, set[str]]:
    """Template names in the source of each pygeoapi function or class our code reaches."""
    out: dict[str, set[str]] = {}
    for qualified, target in pygeoapi_callables().items():
        module_name, _, name = qualified.rpartition(".")
        try:
            source = inspect.getsource(importlib.import_module(module_name))
        except (OSError, TypeError):  # no Python source: nothing to read
            continue
        segment = next((ast.get_source_segment(source, node) or "" for node in
                        ast.parse(source).body if isinstance(node, ast.FunctionDef | ast.ClassDef)
                        and node.name == name), "")
        if not segment:  # defined elsewhere, re-exported here
            try:
                segment = inspect.getsource(target)
            except (OSError, TypeError):  # a builtin: renders nothing
                continue
        if names := set(_LITERAL.findall(segment)):
            out[qualified] = names
    return out


def closure(names: set[str]) -> set[str]:
    """``names`` and every template they extend, include or import, transitively."""
    seen: set[str] = set()
    todo = [n for n in names if (TEMPLATES / n).is_file()]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_JINJA_REF.findall((TEMPLATES / name).read_text(encoding="utf-8")))
    return seen


def template_files() -> set[str]:
    return {p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")}


def test_the_scan_finds_the_routes_we_know() -> None:
    """The discovery must see what app.py and collections.py plainly use, or the next test
    would pass by accident (or fail for the wrong reason) after a refactoring."""
    callables = pygeoapi_callables()
    for name in ("pygeoapi.api.landing_page", "pygeoapi.api.conformance",
                 "pygeoapi.api.itemtypes.get_collection_items",
                 "pygeoapi.api.itemtypes.get_collection_item",
                 "pygeoapi.api.itemtypes.get_collection_queryables",
                 "pygeoapi.api.describe_collections"):
        assert name in callables
    rendered = set().union(*names_pygeoapi_renders().values())
    assert {"landing_page.html", "conformance.html", "collections/items/index.html"} <= rendered
    assert {"portal/index.html", "exception.html", "openapi/swagger.html"} <= names_in_our_code()
    assert "processes/index.html" not in rendered  # we serve no /processes


def test_every_template_is_rendered_somewhere() -> None:
    """A template file nobody renders (nor extends, includes or imports) is dead: remove it."""
    used = closure(names_in_our_code() | set().union(*names_pygeoapi_renders().values()))
    dead = sorted(template_files() - used)
    assert not dead, f"templates nothing renders: {dead}"


def test_every_named_template_exists() -> None:
    """A template our code renders by name exists here (pygeoapi's own copy would otherwise
    be rendered silently, with its external links and without our translations)."""
    missing = sorted(n for n in names_in_our_code() if not (TEMPLATES / n).is_file())
    assert not missing, f"templates named in code but absent: {missing}"
