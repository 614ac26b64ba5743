"""``static_url`` and the static build, without a server: the build names files by content,
a page links the hashed name only while it is the file's content (an edit since ``make web``
falls back to the plain, revalidated name), and a checkout without a build links plain names."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from geoportal.server.static_files import StaticFiles

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_static",
                                                  ROOT / "scripts" / "build-static.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    source, out = tmp_path / "static", tmp_path / "static-build"
    (source / "js").mkdir(parents=True)
    (source / "vendor").mkdir()
    (source / "js" / "app.js").write_text("var a = 1;\n" * 200)
    (source / "vendor" / "LICENSE.txt").write_text("licence\n")
    (source / "vendor" / "lib.js.map").write_text("{}")
    (source / "vendor" / ".installed").write_text("")
    return source, out


def test_without_a_build_the_plain_names(tmp_path: Path) -> None:
    source, out = _tree(tmp_path)
    files = StaticFiles(source, out)
    assert files.url("js/app.js") == "/static/js/app.js"


def test_the_hashed_name_while_it_is_the_content(tmp_path: Path) -> None:
    source, out = _tree(tmp_path)
    build = _script().build
    manifest = build(source, out, quiet=True)
    assert set(manifest) == {"js/app.js"}  # the licence and the map keep their names
    assert (out / "vendor" / "LICENSE.txt").is_file() and (out / "vendor" / "lib.js.map").is_file()
    assert not (out / "vendor" / ".installed").exists()
    files = StaticFiles(source, out)
    first = files.url("js/app.js")
    assert first == f"/static/{manifest['js/app.js']}" != "/static/js/app.js"
    assert (out / manifest["js/app.js"]).with_suffix(".js.gz").is_file()

    (source / "js" / "app.js").write_text("var a = 2;\n" * 200)  # edited after the build
    assert files.url("js/app.js") == "/static/js/app.js"

    again = build(source, out, quiet=True)
    assert files.url("js/app.js") == f"/static/{again['js/app.js']}" != first
    # the previous build's file is kept for pages loaded before; a third build drops it
    assert (out / first.removeprefix("/static/")).is_file()
    (source / "js" / "app.js").write_text("var a = 3;\n" * 200)
    build(source, out, quiet=True)
    assert not (out / first.removeprefix("/static/")).exists()
    assert json.loads((out / "manifest.json").read_text())["js/app.js"] != again["js/app.js"]
