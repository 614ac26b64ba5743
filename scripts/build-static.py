#!/usr/bin/env python3
"""Build the static files the portal's pages load: content-hashed, precompressed copies.

For every file under ``geoportal/server/static`` (css, js, img, vendor: MapLibre GL JS, which
``make web`` copies there from npm) this writes, into ``geoportal/server/static-build`` (not
committed):

- ``name.<8 hex of its sha256>.ext``: a copy whose name changes with its content, so that the
  server may tell browsers to keep it a year (``immutable``) and a new release is still fetched;
- beside it ``.gz`` (gzip -9) and ``.br`` (brotli 11, when the ``brotli`` package is installed),
  each only when smaller than the file: the server (or nginx's ``gzip_static``/``brotli_static``)
  sends one by ``Accept-Encoding`` without compressing on each request (MapLibre: 1.06 MB plain,
  0.28 MB gzipped, less in brotli);
- ``manifest.json``: logical name (``js/portal.js``) -> hashed name (``js/portal.1a2b3c4d.js``),
  which ``static_url()`` in the templates reads (``geoportal/server/static_files.py``).

Source maps (``*.map``) and licence files keep their names (a script refers to its map by name;
a licence is read by people) and are copied as they are, with their ``.gz``/``.br``.

Hashed files of the previous build are kept (a page loaded just before a deploy still finds its
scripts); older ones are removed. Each file is written to a temporary name and renamed, and the
manifest last, so a server reading the folder during a build sees the old or the new one.

Usage: ``.venv/bin/python scripts/build-static.py [--source DIR] [--out DIR]`` (``make web``).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "geoportal" / "server" / "static"
OUT = ROOT / "geoportal" / "server" / "static-build"
MANIFEST = "manifest.json"
# served as they are named: a script's ``sourceMappingURL`` names its map, people read a licence
KEEP_NAME_SUFFIXES = (".map",)
KEEP_NAME_STEMS = ("LICENSE", "LICENCE", "COPYING", "NOTICE")
# already compressed: no .gz/.br beside them
INCOMPRESSIBLE = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".woff", ".woff2", ".gz", ".br",
                  ".zip", ".pbf")


def _brotli() -> ModuleType | None:
    """The ``brotli`` module, or None where it is not installed (then only .gz is written)."""
    try:
        import brotli
    except ImportError:
        return None
    return brotli


def hashed_name(logical: str, data: bytes) -> str:
    """``css/home.css`` -> ``css/home.<8 hex of sha256>.css`` (a name without a suffix gets
    the hash at its end)."""
    digest = hashlib.sha256(data).hexdigest()[:8]
    head, sep, tail = logical.rpartition("/")
    stem, dot, ext = tail.rpartition(".")
    if not dot or not stem:  # "README" or ".hidden": the hash at the end
        return f"{logical}.{digest}"
    return f"{head}{sep}{stem}.{digest}.{ext}"


def keeps_name(logical: str) -> bool:
    """Source maps and licence files are served under their own names."""
    base = logical.rsplit("/", 1)[-1]
    return base.endswith(KEEP_NAME_SUFFIXES) or base.split(".", 1)[0].upper() in KEEP_NAME_STEMS


def _same(path: Path, data: bytes) -> bool:
    """Whether ``path`` already holds ``data``."""
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if _same(path, data):
        return  # the same content (a hashed name): nothing to do
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sources(source: Path) -> list[tuple[str, Path]]:
    """Every file under ``source`` as (logical name with ``/``, path), sorted; hidden files
    (``vendor/.installed``) and folders are skipped."""
    found = []
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            found.append((rel.as_posix(), path))
    return found


def build(source: Path = SOURCE, out: Path = OUT, *, quiet: bool = False) -> dict[str, str]:
    """Write the hashed and compressed copies and the manifest; return the manifest."""
    brotli = _brotli()
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, str] = {}
    written: set[str] = {MANIFEST}
    plain = compressed_gz = compressed_br = 0
    for logical, path in sources(source):
        data = path.read_bytes()
        name = logical if keeps_name(logical) else hashed_name(logical, data)
        if name != logical:
            manifest[logical] = name
        unchanged = _same(out / name, data)
        _write(out / name, data)
        written.add(name)
        plain += len(data)
        if path.suffix.lower() in INCOMPRESSIBLE:
            continue
        gz_path, br_path = out / f"{name}.gz", out / f"{name}.br"
        if unchanged and gz_path.is_file() and (brotli is None or br_path.is_file()):
            # built before from the same bytes (gzip -9 and brotli 11 of MapLibre's source map
            # take seconds): kept as they are
            written.update({f"{name}.gz", f"{name}.br"})
            compressed_gz += gz_path.stat().st_size
            compressed_br += br_path.stat().st_size if br_path.is_file() else 0
            continue
        gz = gzip.compress(data, compresslevel=9, mtime=0)  # mtime 0: the same bytes each build
        if len(gz) < len(data):
            _write(gz_path, gz)
            written.add(f"{name}.gz")
            compressed_gz += len(gz)
        if brotli is not None:
            br = brotli.compress(data, quality=11)
            if len(br) < len(data):
                _write(br_path, br)
                written.add(f"{name}.br")
                compressed_br += len(br)
    previous = _read_manifest(out / MANIFEST)
    keep = written | _with_encodings(previous.values())
    _write(out / MANIFEST, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())
    for path in sorted(out.rglob("*"), reverse=True):  # files first, then emptied folders
        rel = path.relative_to(out).as_posix()
        if path.is_file() and rel not in keep and not path.name.startswith("."):
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    if not quiet:
        print(f"static build: {len(manifest)} hashed files in {out} ({plain:,} bytes; "
              f"gzip {compressed_gz:,}"
              + (f", brotli {compressed_br:,})" if brotli is not None
                 else "; brotli not installed: no .br)"))
    return manifest


def _read_manifest(path: Path) -> dict[str, str]:
    """The manifest at ``path``; empty when missing or unreadable."""
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def _with_encodings(names: Iterable[str]) -> set[str]:
    """The names and their .gz and .br companions."""
    out: set[str] = set()
    for name in names:
        out.update((name, f"{name}.gz", f"{name}.br"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if not args.source.is_dir():
        print(f"error: {args.source} is not a folder", file=sys.stderr)
        return 2
    build(args.source.resolve(), args.out.resolve(), quiet=args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
