#!/usr/bin/env python3
"""Live catalog benchmark: a national catalog of thousands of layers, served by the real server.

    .venv/bin/python benchmarks/catalog.py [--layers 5000] [--workers 2]
                                           [--database-url postgresql://...] [--keep]

1. builds a catalog of N layers in a fresh data folder (``benchmarks/.data/catalog-<N>``):
   one small layer published through the real ETL, then N-1 layers registered in one
   catalog transaction, each with its own id, region, theme, texts (be/ru/en), licence and
   extent, and a current version that reuses the first layer's store table (a catalog of
   thousands of tiny layers costs seconds, not an hour of ingests);
2. starts ``python -m geoportal serve`` (gunicorn, 2 workers) on it and times: start-up
   (until every worker has answered), ``/collections``, ``/openapi``, one collection, one
   page of items (size and time, cold and warm), the propagation of a newly published,
   a replaced and a removed layer to every worker, and the workers' resident memory;
3. prints the figures with PASS/FAIL against the targets of issues 5 and 17 (start-up < 5 s,
   a ``/collections`` page < 0.3 s, ``/openapi`` < 3 s, a change served by every worker < 5 s,
   each worker's resident memory < 300 MiB: VmRSS, and Pss from ``/proc/<pid>/smaps_rollup``,
   which shares the libraries' pages among the processes that map them) and writes
   ``benchmarks/results/catalog-<timestamp>.json``. ``/collections`` is paged (100 by
   default); the whole listing is walked through its ``next`` links to check every layer
   is there.

Which worker answered a request is read from the server's log (each request line carries
the worker's pid and the ``X-Request-Id`` the benchmark sent). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:  # run as a script: geoportal from the repository
    sys.path.insert(0, str(REPO))

from sqlalchemy import delete, insert, select, update  # noqa: E402

from benchmarks.servers import free_port  # noqa: E402
from geoportal.catalog import Catalog, load_registry  # noqa: E402
from geoportal.catalog import schema as t  # noqa: E402
from geoportal.config import Settings, load_settings  # noqa: E402

CONFIG_DIR = REPO / "config"
TARGETS = {"startup_s": 5.0, "collections_s": 0.3, "openapi_s": 3.0, "propagation_s": 5.0,
           "worker_rss_mib": 300.0}
# Stock pygeoapi 0.24 with 5,000 tiny collections, as measured for issue 5 (not re-run here).
STOCK_PYGEOAPI_5000 = {"openapi_generation_s": 47.0, "openapi_generation_mib": 850,
                       "openapi_bytes": 40_000_000, "gunicorn_startup_s": 80.0,
                       "collections_bytes": 11_700_000}
BASE_LAYER = "bench-base-points"
# What each generated layer is about (be, ru, en); combined with a region and a theme.
SUBJECTS = [
    ("Школы", "Школы", "Schools"), ("Паліклінікі", "Поликлиники", "Clinics"),
    ("Аптэкі", "Аптеки", "Pharmacies"), ("Прыпынкі", "Остановки", "Stops"),
    ("Бібліятэкі", "Библиотеки", "Libraries"), ("Паштовыя аддзяленні", "Почтовые отделения",
                                                 "Post offices"),
    ("Дзіцячыя сады", "Детские сады", "Kindergartens"), ("Спартыўныя пляцоўкі",
                                                         "Спортивные площадки", "Sports grounds"),
    ("Кантэйнерныя пляцоўкі", "Контейнерные площадки", "Waste collection points"),
    ("Помнікі", "Памятники", "Monuments"), ("Паркоўкі", "Парковки", "Car parks"),
    ("Пажарныя гідранты", "Пожарные гидранты", "Fire hydrants"),
]


@dataclass
class BuiltCatalog:
    """What ``build_catalog`` made: the layer ids (the base layer first) and its settings."""

    settings: Settings
    ids: list[str]
    seconds: float


def bench_settings(data_dir: Path, database_url: str | None = None, **extra: Any) -> Settings:
    """Settings on ``data_dir`` with the repository's registers."""
    return load_settings(data_dir=data_dir, config_dir=CONFIG_DIR, layers_dir=REPO / "layers",
                         database_url=database_url, **extra)


def _points_geojson(path: Path, count: int = 25, *, shift: float = 0.0, name: str = "Пункт"
                    ) -> Path:
    """``count`` points around Minsk with a few typed properties, as a GeoJSON file."""
    features = []
    for i in range(count):
        lon, lat = 27.45 + shift + (i % 5) * 0.04, 53.85 + (i // 5) * 0.025
        features.append({"type": "Feature",
                         "geometry": {"type": "Point", "coordinates": [lon, lat]},
                         "properties": {"name": f"{name} {i + 1}", "kind": ["a", "b", "c"][i % 3],
                                        "floors": 1 + i % 9, "area": round(50.5 + i * 3.25, 2)}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    return path


def publish_points(settings: Settings, layer_id: str, *, title: str, count: int = 25,
                   shift: float = 0.0, region: str = "5000000000") -> None:
    """Publish a small point layer through the real ETL (catalog, store, registry)."""
    from geoportal.etl import ingest, load_manifest
    from geoportal.storage import open_store

    folder = settings.data_dir.parent / "sources"
    folder.mkdir(parents=True, exist_ok=True)
    source = _points_geojson(folder / f"{layer_id}.geojson", count, shift=shift, name=title)
    manifest = folder / f"{layer_id}.yaml"
    manifest.write_text(json.dumps({
        "id": layer_id, "region": region, "theme": "urban-infrastructure",
        "title": {"be": title, "ru": title, "en": title}, "license": "CC-BY-4.0",
        "source": {"path": source.name}}, ensure_ascii=False), encoding="utf-8")
    registry = load_registry(settings.config_dir)
    catalog = Catalog(settings.database_url or "")
    store = open_store(settings)
    try:
        ingest(load_manifest(manifest), catalog=catalog, store=store, registry=registry,
               force=True)
    finally:
        store.close()
        catalog.engine.dispose()


def build_catalog(settings: Settings, count: int) -> BuiltCatalog:
    """A catalog of ``count`` vector layers on ``settings`` (a fresh data folder or database).

    The first is a real ingest (``BASE_LAYER``); the others are written in one transaction,
    sharing its store table, each with distinct metadata over the country's regions and
    themes. The generation counter is bumped once, as one publish would.
    """
    from geoportal.storage import open_store

    started = time.monotonic()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    registry = load_registry(settings.config_dir)
    catalog = Catalog(settings.database_url or "")
    catalog.init(registry)
    store = open_store(settings)
    store.init()
    store.close()
    publish_points(settings, BASE_LAYER, title="Base points")
    base = catalog.get_layer(BASE_LAYER)
    assert base.current is not None
    version = base.current
    regions = [r for r in registry.regions.values() if r.level != "country"] or list(
        registry.regions.values())
    themes = list(registry.themes.values())
    now = datetime.now(UTC)
    layers, versions, ids = [], [], [BASE_LAYER]
    for i in range(count - 1):
        region = regions[i % len(regions)]
        theme = themes[(i // len(regions)) % len(themes)]
        subject = SUBJECTS[i % len(SUBJECTS)]
        layer_id = f"r{region.code}-{theme.id}-{i:05d}"[:64]
        ids.append(layer_id)
        title = {lang: f"{subject[k]} ({region.name[lang]}), {i + 1}"
                 for k, lang in enumerate(("be", "ru", "en"))}
        description = {lang: f"{theme.name[lang]}: {title[lang]}." for lang in title}
        keywords = {lang: [subject[k], region.name[lang], theme.name[lang]]
                    for k, lang in enumerate(("be", "ru", "en"))}
        layers.append({
            "id": layer_id, "region": region.code, "theme": theme.id, "kind": "vector",
            "title": title, "description": description, "keywords": keywords,
            "license": "CC-BY-4.0", "attribution": "Benchmark", "current_version": 1,
            "created": now, "updated": now,
        })
        minx, miny, maxx, maxy = version.extent or (23.1, 51.2, 32.8, 56.2)
        versions.append({
            "layer_id": layer_id, "version": 1, "created": now, "status": "current",
            "source_name": "bench.geojson", "source_sha256": version.source_sha256,
            "source_crs": version.source_crs, "store_ref": version.store_ref,
            "feature_count": version.feature_count, "set_aside_count": 0,
            "minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy,
            "geometry_type": version.geometry_type,
            "fields": [f.to_dict() for f in version.fields], "report": version.report,
        })
    with catalog.engine.begin() as conn:
        for start in range(0, len(layers), 1000):
            conn.execute(insert(t.layers), layers[start:start + 1000])
            conn.execute(insert(t.versions), versions[start:start + 1000])
        _bump(conn)
    catalog.engine.dispose()
    return BuiltCatalog(settings, ids, time.monotonic() - started)


def _bump(conn: Any) -> None:
    conn.execute(update(t.catalog_state).where(t.catalog_state.c.id == 1).values(
        generation=t.catalog_state.c.generation + 1, updated=datetime.now(UTC)))


def remove_layers(settings: Settings, layer_ids: list[str]) -> None:
    """Take layers out of the catalog (the catalog has no removal API yet: plain SQL, one
    transaction, generation bumped). Their store tables are left alone."""
    catalog = Catalog(settings.database_url or "")
    with catalog.engine.begin() as conn:
        _bump(conn)
        conn.execute(update(t.layers).where(t.layers.c.id.in_(layer_ids))
                     .values(current_version=None))
        conn.execute(delete(t.versions).where(t.versions.c.layer_id.in_(layer_ids)))
        conn.execute(delete(t.layers).where(t.layers.c.id.in_(layer_ids)))
    catalog.engine.dispose()


def retitle_layer(settings: Settings, layer_id: str, title: str) -> None:
    """Replace a layer's English title through the catalog API (bumps the generation)."""
    catalog = Catalog(settings.database_url or "")
    meta = catalog.get_layer(layer_id).meta
    meta.title = {**meta.title, "en": title}
    catalog.save_metadata(meta)
    catalog.engine.dispose()


def catalog_size(settings: Settings) -> int:
    catalog = Catalog(settings.database_url or "")
    with catalog.engine.begin() as conn:
        rows = conn.execute(select(t.layers.c.id)).all()
    catalog.engine.dispose()
    return len(rows)


# -- the server ---------------------------------------------------------------------------------


class Server:
    """``python -m geoportal serve`` on a free port; its log tells which worker answered."""

    def __init__(self, settings: Settings, *, workers: int = 2) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log_path = settings.data_dir / f"server-{self.port}.out"
        self.env = {**os.environ, "GEOPORTAL_DATA_DIR": str(settings.data_dir),
                    "GEOPORTAL_CONFIG_DIR": str(settings.config_dir),
                    "GEOPORTAL_PORT": str(self.port), "GEOPORTAL_WORKERS": str(workers)}
        if settings.database_url and not settings.database_url.startswith("sqlite"):
            self.env["GEOPORTAL_DATABASE_URL"] = settings.database_url
        self.proc: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> None:
        log = self.log_path.open("w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "geoportal", "serve"], env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                                     start_new_session=True)

    def stop(self) -> None:
        """Quick shutdown (gunicorn's SIGINT): nothing is left to finish gracefully."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the children of the master process."""
        assert self.proc is not None
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def pids_of(self, request_ids: set[str]) -> dict[str, int]:
        """request id -> pid of the worker that logged it."""
        found = {}
        pattern = re.compile(r"pid=(\d+) request_id=(\w+) ")
        for line in self.log_path.read_text(errors="replace").splitlines():
            match = pattern.search(line)
            if match and match.group(2) in request_ids:
                found[match.group(2)] = int(match.group(1))
        return found


def _proc_mib(path: str, key: str) -> float | None:
    """The ``key:`` line (in kB) of a /proc file, in MiB; None once the process is gone."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def rss_mib(pid: int) -> float | None:
    """Resident set size (VmRSS)."""
    return _proc_mib(f"/proc/{pid}/status", "VmRSS")


def pss_mib(pid: int) -> float | None:
    """Proportional set size: private pages plus a share of those mapped by others."""
    return _proc_mib(f"/proc/{pid}/smaps_rollup", "Pss")


def memory(pids: list[int]) -> dict[str, dict[str, float | None]]:
    """VmRSS and Pss (MiB) of each process."""
    return {str(p): {"rss": rss_mib(p), "pss": pss_mib(p)} for p in pids}


def listed_ids(url: str, **params: str) -> list[str]:
    """Every collection id of the paged ``/collections``, following its ``next`` links."""
    import requests

    body = requests.get(f"{url}/collections", params={"f": "json", **params}, timeout=120).json()
    ids = [c["id"] for c in body["collections"]]
    while nxt := [link["href"] for link in body["links"] if link["rel"] == "next"]:
        body = requests.get(nxt[0], timeout=120).json()
        ids += [c["id"] for c in body["collections"]]
    return ids


def _get(session: Any, url: str, **kwargs: Any) -> tuple[Any, str]:
    rid = uuid.uuid4().hex[:12]
    response = session.get(url, headers={"X-Request-Id": rid, "Connection": "close",
                                         **kwargs.pop("headers", {})}, timeout=120, **kwargs)
    return response, rid


def timed(url: str, repeat: int = 3, **kwargs: Any) -> dict[str, Any]:
    """Cold (first) and warm (best of the rest) time and size of a GET."""
    import requests

    times, size, status = [], 0, 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = requests.get(url, timeout=300, **kwargs)
        times.append(time.perf_counter() - started)
        size, status = len(response.content), response.status_code
    return {"status": status, "bytes": size, "first_s": round(times[0], 4),
            "best_s": round(min(times), 4), "worst_s": round(max(times), 4)}


def wait_every_worker(server: Server, path: str, accept: Any, timeout: float = 120.0,
                      since: float | None = None) -> dict[str, Any]:
    """Hit ``path`` (new connection each time) until every worker has given an answer that
    ``accept`` takes, and kept giving it; the time each worker first did so, from ``since``."""
    import requests

    since = time.monotonic() if since is None else since
    answers: list[tuple[float, str, bool]] = []
    deadline = since + timeout
    session = requests.Session()
    while time.monotonic() < deadline:
        try:
            response, rid = _get(session, f"{server.url}{path}")
            ok = accept(response)
        except requests.RequestException:
            time.sleep(0.05)
            continue
        answers.append((time.monotonic() - since, rid, ok))
        if len(answers) % 20 == 0:
            result = _per_worker(server, answers)
            if result["all_workers"]:
                return result
        time.sleep(0.01)
    return _per_worker(server, answers)


def _per_worker(server: Server, answers: list[tuple[float, str, bool]]) -> dict[str, Any]:
    """Per worker: the time after which all its answers were right (None if not yet, or if
    its last answer was wrong); all_workers when every worker's last three were right."""
    pids = server.pids_of({rid for _, rid, _ in answers})
    per_pid: dict[int, list[tuple[float, bool]]] = {}
    for at, rid, ok in answers:
        if rid in pids:
            per_pid.setdefault(pids[rid], []).append((at, ok))
    seen: dict[int, float | None] = {}
    for pid, seq in per_pid.items():
        first_good = None
        for at, ok in seq:
            if not ok:
                first_good = None
            elif first_good is None:
                first_good = at
        settled = len(seq) >= 3 and all(ok for _, ok in seq[-3:])
        seen[pid] = round(first_good, 3) if (first_good is not None and settled) else None
    workers = server.worker_pids()
    done = bool(workers) and all(seen.get(p) is not None for p in workers)
    times = [seen[p] for p in workers if seen.get(p) is not None]
    return {"all_workers": done, "per_worker_s": {str(p): seen.get(p) for p in workers},
            "seconds": max(times) if done and times else None, "requests": len(answers)}


def measure(built: BuiltCatalog, workers: int) -> dict[str, Any]:
    """Start the server on the built catalog and take every figure."""
    import requests

    settings = built.settings
    server = Server(settings, workers=workers)
    server.start()
    results: dict[str, Any] = {}
    try:
        first = None
        while time.monotonic() - server.started < 300:
            if server.proc is not None and server.proc.poll() is not None:
                raise SystemExit(f"server exited:\n{server.log_path.read_text()[-3000:]}")
            try:
                if requests.get(f"{server.url}/conformance?f=json", timeout=120).ok:
                    first = time.monotonic() - server.started
                    break
            except requests.RequestException:
                time.sleep(0.05)
        if first is None:
            raise SystemExit("server did not answer within 300 s")
        every = wait_every_worker(server, "/conformance?f=json", lambda r: r.ok,
                                  since=server.started)
        results["startup"] = {"first_answer_s": round(first, 3),
                              "every_worker_s": every["seconds"],
                              "per_worker_s": every["per_worker_s"]}
        sample = built.ids[len(built.ids) // 2]
        results["collections"] = timed(f"{server.url}/collections?f=json", repeat=5)
        results["collections_last_page"] = timed(
            f"{server.url}/collections?f=json&offset={len(built.ids) - 50}", repeat=5)
        results["collections_1000"] = timed(f"{server.url}/collections?f=json&limit=1000",
                                            repeat=3)
        results["collections_html"] = timed(f"{server.url}/collections?f=html", repeat=2)
        results["collections_ru"] = timed(f"{server.url}/collections?f=json&lang=ru", repeat=3)
        results["openapi"] = timed(f"{server.url}/openapi?f=json", repeat=5)
        results["openapi_html"] = timed(f"{server.url}/openapi?f=html", repeat=2)
        results["landing"] = timed(f"{server.url}/?f=json")
        results["collection"] = timed(f"{server.url}/collections/{sample}?f=json", repeat=5)
        results["items"] = timed(f"{server.url}/collections/{sample}/items?f=json&limit=10",
                                 repeat=5)
        started = time.perf_counter()
        listed = set(listed_ids(server.url, limit="1000"))
        results["walk_all_pages_s"] = round(time.perf_counter() - started, 3)
        results["listed"] = len(listed)
        results["listed_all"] = listed >= set(built.ids)
        results["rss_after_requests_mib"] = {str(p): rss_mib(p) for p in server.worker_pids()}
        results["memory_after_requests_mib"] = memory(server.worker_pids())

        # A newly published layer (real ingest), from its commit to every worker serving it.
        new_id = f"bench-new-{int(time.time())}"
        publish_points(settings, new_id, title="New layer", count=3, shift=0.05)
        published = time.monotonic()
        added = wait_every_worker(
            server, f"/collections/{new_id}/items?f=json",
            lambda r: r.status_code == 200 and r.json()["numberReturned"] == 3, since=published)
        listed_after = set(listed_ids(server.url, limit="1000"))
        results["propagation_new"] = {**added, "listed": new_id in listed_after}

        # A replaced title (catalog metadata), seen in /collections/<id>.
        retitle_layer(settings, sample, "Retitled by the benchmark")
        changed = time.monotonic()
        results["propagation_replace"] = wait_every_worker(
            server, f"/collections/{sample}?f=json",
            lambda r: r.ok and r.json()["title"] == "Retitled by the benchmark", since=changed)

        # A removed layer: 404 in every worker.
        remove_layers(settings, [new_id])
        removed = time.monotonic()
        results["propagation_remove"] = wait_every_worker(
            server, f"/collections/{new_id}?f=json", lambda r: r.status_code == 404,
            since=removed)
        results["openapi_after_changes"] = timed(f"{server.url}/openapi?f=json", repeat=2)
        results["collections_after_changes"] = timed(f"{server.url}/collections?f=json",
                                                     repeat=2)
        results["rss_end_mib"] = {str(p): rss_mib(p) for p in server.worker_pids()}
        results["memory_end_mib"] = memory(server.worker_pids())
        results["master_rss_mib"] = rss_mib(server.proc.pid) if server.proc else None
    finally:
        server.stop()
    return results


def verdicts(results: dict[str, Any]) -> list[tuple[str, Any, float, bool]]:
    """(figure, value, target, passed) for each target of the issue."""
    propagation = [results[k]["seconds"] for k in
                   ("propagation_new", "propagation_replace", "propagation_remove")]
    worst_propagation = (max(propagation) if all(p is not None for p in propagation)
                         else None)
    rows = [
        ("start-up, every worker answers (s)", results["startup"]["every_worker_s"],
         TARGETS["startup_s"]),
        ("/collections?f=json (a page of 100), worst of 5 (s)",
         results["collections"]["worst_s"], TARGETS["collections_s"]),
        ("/collections?f=json, last page, worst of 5 (s)",
         results["collections_last_page"]["worst_s"], TARGETS["collections_s"]),
        ("/openapi?f=json, worst of 5 (s)", results["openapi"]["worst_s"],
         TARGETS["openapi_s"]),
        ("publish/replace/remove seen by every worker (s)", worst_propagation,
         TARGETS["propagation_s"]),
        ("worker VmRSS at the end, largest (MiB)", _largest(results["memory_end_mib"], "rss"),
         TARGETS["worker_rss_mib"]),
    ]
    return [(name, value, target, value is not None and value < target)
            for name, value, target in rows]


def _largest(figures: dict[str, dict[str, float | None]], key: str) -> float | None:
    values = [f[key] for f in figures.values() if f.get(key) is not None]
    return max(values) if values else None  # type: ignore[type-var]


def report(results: dict[str, Any], layers: int) -> str:
    mib = 1 << 20
    lines = [f"Live catalog, {layers:,} layers, {results['workers']} workers, "
             f"store {results['store']}", ""]
    lines.append(f"{'figure':52} {'value':>12} {'target':>8}  verdict")
    for name, value, target, passed in verdicts(results):
        shown = "-" if value is None else f"{value:.3f}"
        lines.append(f"{name:52} {shown:>12} {target:>8.1f}  {'PASS' if passed else 'FAIL'}")
    lines.append("")
    for key in ("collections", "collections_last_page", "collections_1000", "collections_ru",
                "collections_html", "openapi",
                "openapi_html", "landing", "collection", "items", "collections_after_changes",
                "openapi_after_changes"):
        r = results[key]
        lines.append(f"{key:28} status {r['status']}  {r['bytes'] / mib:8.2f} MiB  first "
                     f"{r['first_s']:.3f} s  best {r['best_s']:.3f} s  worst {r['worst_s']:.3f} s")
    for key in ("propagation_new", "propagation_replace", "propagation_remove"):
        r = results[key]
        lines.append(f"{key:28} every worker {r['seconds']} s  per worker {r['per_worker_s']}")
    lines.append(f"start-up: first answer {results['startup']['first_answer_s']} s, every worker "
                 f"{results['startup']['every_worker_s']} s")
    lines.append(f"worker RSS after the first requests (MiB): {results['rss_after_requests_mib']}"
                 f"; at the end: {results['rss_end_mib']}; master {results['master_rss_mib']}")
    lines.append(f"worker memory at the end (MiB, VmRSS / Pss): {results['memory_end_mib']}")
    lines.append(f"listed in /collections (every page, limit=1000): {results['listed']} "
                 f"(all: {results['listed_all']}, {results['walk_all_pages_s']} s)")
    stock = STOCK_PYGEOAPI_5000
    lines.append(f"stock pygeoapi 0.24 at 5,000 (issue 5, not re-run): OpenAPI "
                 f"{stock['openapi_generation_s']:.0f} s / {stock['openapi_generation_mib']} MiB "
                 f"/ {stock['openapi_bytes'] / 1e6:.0f} MB, start-up "
                 f"{stock['gunicorn_startup_s']:.0f} s, /collections "
                 f"{stock['collections_bytes'] / 1e6:.1f} MB")
    return "\n".join(lines)


def _code_version() -> str | None:
    """The commit measured (+ "dirty" with uncommitted changes), when in a git checkout."""
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--",
                                "geoportal"], capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}+dirty" if dirty else commit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL (catalog and PostGIS store); an empty database")
    parser.add_argument("--postgis", action="store_true",
                        help="a throwaway PostgreSQL + PostGIS cluster (benchmarks/pgcluster.py)"
                             " for the catalog and the store")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="default benchmarks/.data/catalog-<N> (deleted first)")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)

    data_dir = args.data_dir or BENCH / ".data" / f"catalog-{args.layers}" / "var"
    if data_dir.parent.exists():
        shutil.rmtree(data_dir.parent)
    cluster = None
    database_url = args.database_url
    if args.postgis:
        from benchmarks.pgcluster import PgCluster

        cluster = PgCluster(data_dir.parent / "pg", free_port())
        cluster.init()
        cluster.start()
        cluster.create_db()
        database_url = cluster.url
    try:
        settings = bench_settings(data_dir, database_url)
        print(f"building a catalog of {args.layers:,} layers in {data_dir} ...", flush=True)
        built = build_catalog(settings, args.layers)
        print(f"  {len(built.ids):,} layers in {built.seconds:.1f} s", flush=True)
        results = measure(built, args.workers)
    finally:
        if cluster is not None:
            cluster.stop()
    results.update({"layers": args.layers, "workers": args.workers,
                    "store": "postgis" if database_url else "gpkg",
                    "catalog_build_s": round(built.seconds, 2),
                    "targets": TARGETS, "stock_pygeoapi_5000": STOCK_PYGEOAPI_5000,
                    "code": _code_version(),
                    "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                "platform": platform.platform()}})
    results["verdicts"] = [{"figure": n, "value": v, "target": tg, "pass": p}
                           for n, v, tg, p in verdicts(results)]
    print(report(results, args.layers))
    if not args.no_save:
        out = BENCH / "results" / f"catalog-{dt.datetime.now():%Y-%m-%dT%H%M%S}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {out.relative_to(REPO)}")
    if not args.keep:
        shutil.rmtree(data_dir.parent, ignore_errors=True)
    return 0 if all(v["pass"] for v in results["verdicts"]) else 1


if __name__ == "__main__":
    sys.exit(main())
