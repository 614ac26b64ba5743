"""The layering of the package: stores sit below the catalog, the server, the admin and the ETL.

A store keeps tables; the catalog says which table is current. Were a store to import the
catalog (or anything above it), a change there could break every store, and the value types
both share would drift into the wrong module. The check reads the source with ``ast`` (no
import is executed), so lazy imports inside functions and ``TYPE_CHECKING`` blocks count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STORAGE = ROOT / "geoportal" / "storage"
# Packages a store must never import: everything that builds on the stores.
ABOVE_STORAGE = ("geoportal.catalog", "geoportal.server", "geoportal.admin", "geoportal.etl",
                 "geoportal.providers")


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """Every module ``source`` imports, with its line; relative imports are resolved against
    ``package`` (the package the source file lives in)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # ``from geoportal import catalog`` names the package in the alias, not the module
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


def forbidden(module: str) -> bool:
    """True if ``module`` is one of the packages above the stores, or inside one."""
    return any(module == top or module.startswith(top + ".") for top in ABOVE_STORAGE)


def test_the_check_sees_every_form_of_import() -> None:
    """The walker must catch absolute, ``from`` and relative imports, also inside functions."""
    source = ("import geoportal.catalog.models\n"
              "from geoportal import catalog\n"
              "def f():\n    from ..server import app\n"
              "from geoportal.errors import StorageError\n"
              "from . import base\n")
    modules = [m for _, m in imported_modules(source, "geoportal.storage")]
    assert [m for m in modules if forbidden(m)] == [
        "geoportal.catalog.models", "geoportal.catalog", "geoportal.server", "geoportal.server.app"]
    assert "geoportal.storage.base" in modules


STORAGE_FILES = sorted(STORAGE.glob("*.py"))


def test_storage_modules_are_found() -> None:
    """A moved folder must fail here rather than make the layering test pass on nothing."""
    assert {p.name for p in STORAGE_FILES} >= {"base.py", "gpkg.py", "postgis.py", "cql.py"}


@pytest.mark.parametrize("path", STORAGE_FILES, ids=lambda p: p.name)
def test_no_store_imports_the_layers_above(path: Path) -> None:
    """No module under geoportal/storage imports the catalog, server, admin, ETL or providers."""
    source = path.read_text(encoding="utf-8")
    bad = [f"{path.name}:{line}: {module}"
           for line, module in imported_modules(source, "geoportal.storage") if forbidden(module)]
    assert not bad, "storage imports a layer above it:\n" + "\n".join(bad)


def test_catalog_still_exports_field() -> None:
    """``Field`` moved below the catalog; the old import paths name the same class."""
    from geoportal.catalog import Field as CatalogField
    from geoportal.catalog.models import Field as ModelsField
    from geoportal.fields import Field

    assert CatalogField is Field and ModelsField is Field
