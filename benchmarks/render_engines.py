#!/usr/bin/env python3
"""Rendering engines benchmark: MapServer 8.0 against Mapnik 4.3 on the same data (issue 20).

    .venv/bin/python benchmarks/render_engines.py [--features 1000000] [--tiles 50]
                                                  [--only mapserver,mapnik,gpkg,postgis,raster]

Before choosing the engine behind WMS/WMTS, draw the same 256x256 PNG map tiles with both:

1. generates (once, cached in benchmarks/.data/) the synthetic buildings of ``datagen.py`` and
   loads them with ``geoportal ingest`` into our GeoPackage store and (in a throwaway
   PostgreSQL 15 + PostGIS cluster, ``pgcluster.py``) into our PostGIS store; ingests the
   sample raster ``layers/by/night_lights.yaml`` (its COG);
2. the tiles: the ``--tiles`` z14 tiles nearest the centre of Minsk (where ``datagen.py`` puts
   the most buildings), one country-wide z7 tile (the one holding Minsk), one empty z14 tile
   (in the sea: what a request costs with nothing to draw) and, for the raster, the z7 tiles
   over the COG;
3. draws each with, per store:
   - ``mapserver-cgi``: Debian's ``mapserv`` as a CGI process per request (QUERY_STRING, a
     WMS 1.3.0 GetMap in EPSG:3857; MAPSERVER_CONFIG_FILE and MS_MAPFILE name the generated
     config and mapfile), the layer read with CONNECTIONTYPE OGR (GeoPackage) or POSTGIS;
   - ``mapserver-fcgi``: the same ``mapserv`` as one persistent FastCGI process (a listening
     socket as its standard input, as spawn-fcgi starts it) and a small FastCGI client;
   - ``map2img``: MapServer's engine alone in one process per tile (``-c``: the tile drawn
     1 + rounds times, each draw and its PNG timed by MapServer's own debug output; the first
     discarded);
   - ``mapnik-ogr``, ``mapnik-sqlite``, ``mapnik-postgis``, ``mapnik-gdal``: the PyPI wheel
     ``mapnik`` (installed into benchmarks/.venv-peers only), in-process, one long-lived
     ``mapnik.Map`` per run, the render and the PNG encoding timed;
   the same style for all: a fill and a 1 px outline (vectors), a linear colour ramp
   (raster), RGBA PNG at zlib level 6;
4. warm runs: one unmeasured pass over the tiles, then ``--rounds`` timed passes, one tile at
   a time (one core); prints median and p95 ms per tile, tiles/s, the engine process's CPU and
   peak memory, and the ratio of each Mapnik run to MapServer's on the same store;
5. checks that the engines drew alike: the non-empty (alpha > 0) pixels of every tile against
   ``mapserver-cgi``'s, and writes side-by-side images to the run dir's ``png/``.

Results: benchmarks/results/render-engines-<N>-<date>.json. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
MAPSERV = "/usr/bin/mapserv"
MAP2IMG = "/usr/bin/map2img"
TIME = "/usr/bin/time"  # GNU time (Debian's `time`), for the peak memory of a process
MAPNIK_REQUIREMENT = "mapnik>=4.3,<4.4"
EARTH_HALF = 6378137.0 * math.pi  # half the side of the EPSG:3857 square, metres
SIZE = 256
# the one style: buildings filled with FILL and outlined with OUTLINE, 1 px; the raster on a
# linear ramp from RAMP[0] at RAMP_RANGE[0] to RAMP[1] at RAMP_RANGE[1] (and above)
FILL = (230, 120, 60)
OUTLINE = (120, 50, 20)
RAMP = ((20, 20, 80), (255, 255, 0))
RAMP_RANGE = (1.0, 60.0)
PNG_ZLIB = 6
TILE_ZOOM = 14
COUNTRY_ZOOM = 7
EMPTY_LONLAT = (0.5, 0.5)  # the Gulf of Guinea: no building, no raster
MAPSERVER = ("mapserver-cgi", "mapserver-fcgi", "map2img")
MAPNIK = {"gpkg": ("mapnik-ogr", "mapnik-sqlite"), "postgis": ("mapnik-postgis",),
          "raster": ("mapnik-gdal",)}
STORES = ("gpkg", "postgis", "raster")
ENGINES = ("mapserver", "mapnik")


# ---------------------------------------------------------------------------------------------
# the Mapnik side: runs in benchmarks/.venv-peers (``--mapnik-worker JOB``), stdlib + mapnik


def _mapnik_color(mapnik, rgb: tuple[int, int, int] | list[int]):
    return mapnik.Color(*rgb)


def mapnik_worker(job_file: str) -> int:
    """Render a job's tiles with Mapnik in this process and print the timings as JSON.

    The job (written by the harness) names the datasource plugin and its parameters, the kind
    of layer (vector or raster), the tile sets and where to write the first pass's PNGs. One
    ``mapnik.Map`` is built once and re-aimed per tile (``zoom_to_box``), as a long-lived
    renderer would; a tile's time is a new image, the render and the PNG encoding."""
    t_start = time.perf_counter()
    import mapnik

    t_imported = time.perf_counter()
    job = json.loads(Path(job_file).read_text())
    m = mapnik.Map(SIZE, SIZE, "epsg:3857")
    style, rule = mapnik.Style(), mapnik.Rule()
    if job["kind"] == "raster":
        sym = mapnik.RasterSymbolizer()
        ramp = mapnik.RasterColorizer(mapnik.COLORIZER_LINEAR, mapnik.Color(0, 0, 0, 0))
        ramp.add_stop(RAMP_RANGE[0], _mapnik_color(mapnik, RAMP[0]))
        ramp.add_stop(RAMP_RANGE[1], _mapnik_color(mapnik, RAMP[1]))
        sym.colorizer = ramp
        rule.symbolizers.append(sym)
    else:
        fill = mapnik.PolygonSymbolizer()
        fill.fill = _mapnik_color(mapnik, FILL)
        line = mapnik.LineSymbolizer()
        line.stroke = _mapnik_color(mapnik, OUTLINE)
        line.stroke_width = 1.0
        rule.symbolizers.append(fill)
        rule.symbolizers.append(line)
    style.rules.append(rule)
    m.append_style("style", style)
    layer = mapnik.Layer("layer", "epsg:4326")
    layer.datasource = getattr(mapnik, job["plugin"])(**job["params"])
    layer.styles.append("style")
    m.layers.append(layer)
    t_ready = time.perf_counter()
    ready_mb = _vm_mb("VmRSS")
    fmt = f"png32:z={PNG_ZLIB}"

    def render(box: list[float]) -> bytes:
        m.zoom_to_box(mapnik.Box2d(*box))
        image = mapnik.Image(SIZE, SIZE)
        mapnik.render(m, image)
        return image.to_string(fmt)

    out: dict = {"import_ms": 1000 * (t_imported - t_start),
                 "map_ms": 1000 * (t_ready - t_imported), "sets": {}}
    png_dir = Path(job["png_dir"])
    png_dir.mkdir(parents=True, exist_ok=True)
    for name, spec in job["sets"].items():
        tiles, rounds = spec["tiles"], spec["rounds"]
        first_ms, wall, cpu = [], [], []
        for tile in tiles:  # the warm-up pass, not counted; its PNGs are the ones compared
            t0 = time.perf_counter()
            body = render(tile["box"])
            first_ms.append(1000 * (time.perf_counter() - t0))
            (png_dir / f"{tile['name']}.png").write_bytes(body)
        for _ in range(rounds):
            for tile in tiles:
                c0, t0 = time.process_time(), time.perf_counter()
                render(tile["box"])
                wall.append(1000 * (time.perf_counter() - t0))
                cpu.append(1000 * (time.process_time() - c0))
        out["sets"][name] = {"first_ms": first_ms, "wall_ms": wall, "cpu_ms": cpu}
    # VmHWM, not getrusage's ru_maxrss: that one also counts the parent's memory at the fork
    out["peak_mb"], out["ready_mb"] = _vm_mb("VmHWM"), ready_mb
    print(json.dumps(out))
    return 0


def _vm_mb(key: str, pid: int | str = "self") -> float:
    """A process's VmHWM (peak resident memory) or VmRSS, in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == key:
            return int(value.split()[0]) / 1024
    return float("nan")


# ---------------------------------------------------------------------------------------------
# tiles


def tile_box(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The EPSG:3857 bounds (minx, miny, maxx, maxy) of WebMercatorQuad tile z/x/y."""
    side = 2 * EARTH_HALF / 2 ** z
    return (-EARTH_HALF + x * side, EARTH_HALF - (y + 1) * side,
            -EARTH_HALF + (x + 1) * side, EARTH_HALF - y * side)


def minsk_tiles(count: int, tile_xy) -> tuple[list[tuple[int, int, int]], str]:
    """The ``count`` z14 tiles nearest the centre of the most populous city (Minsk: datagen
    gives it the most buildings, and the densest core), nearest first; and the city's name."""
    import datagen

    city = datagen.load_cities()[0]  # sorted by population, largest first
    cx, cy = tile_xy(city.lon, city.lat, TILE_ZOOM)
    reach = math.ceil(math.sqrt(count)) + 1
    ring = sorted((dx * dx + dy * dy, dy, dx) for dx in range(-reach, reach + 1)
                   for dy in range(-reach, reach + 1))
    return [(TILE_ZOOM, cx + dx, cy + dy) for _, dy, dx in ring[:count]], city.name


def tile_sets(args, tile_xy, cog_bounds: tuple[float, float, float, float] | None) -> dict:
    """The tile sets drawn, each with its rounds: name -> {"tiles": [...], "rounds": r,
    "stores": which stores draw it}."""
    import datagen

    z14, city = minsk_tiles(args.tiles, tile_xy)

    minsk = datagen.load_cities()[0]
    z7 = (COUNTRY_ZOOM, *tile_xy(minsk.lon, minsk.lat, COUNTRY_ZOOM))
    empty = (TILE_ZOOM, *tile_xy(*EMPTY_LONLAT, TILE_ZOOM))
    sets = {
        "z14": {"tiles": z14, "rounds": args.rounds, "stores": ("gpkg", "postgis"),
                "what": f"{len(z14)} z14 tiles nearest the centre of {city}"},
        "z7": {"tiles": [z7], "rounds": max(3, args.rounds), "stores": ("gpkg", "postgis"),
               "what": f"the z7 tile {z7[1]}/{z7[2]} (country-wide, holds {city})"},
        "empty": {"tiles": [empty], "rounds": max(10, args.rounds),
                  "stores": ("gpkg", "postgis", "raster"),
                  "what": "one empty z14 tile in the sea, repeated: the fixed cost of a request"},
    }
    if cog_bounds is not None:
        w, s, e, n = cog_bounds
        x0, y0 = tile_xy(w, n, COUNTRY_ZOOM)
        x1, y1 = tile_xy(e, s, COUNTRY_ZOOM)
        raster = [(COUNTRY_ZOOM, x, y) for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)]
        sets["raster"] = {"tiles": raster, "rounds": args.rounds, "stores": ("raster",),
                          "what": f"the {len(raster)} z7 tiles over the night-lights COG"}
    return sets


def tile_name(t: tuple[int, int, int]) -> str:
    return f"{t[0]}-{t[1]}-{t[2]}"


# ---------------------------------------------------------------------------------------------
# MapServer: config, mapfiles, CGI, FastCGI, map2img


def write_config(path: Path, run_dir: Path) -> Path:
    """The MapServer 8 config file: only mapfiles under the run dir may be opened."""
    path.write_text("CONFIG\n  ENV\n"
                    f'    MS_MAP_PATTERN "^{re.escape(str(run_dir))}/"\n'
                    "  END\nEND\n")
    return path


def _rgb(c: tuple[int, int, int]) -> str:
    return " ".join(map(str, c))


def write_mapfile(path: Path, store: str, source: str, layer_name: str) -> Path:
    """A mapfile for one source: ``store`` gpkg (``source`` the .gpkg file, read through OGR),
    postgis (``source`` "<libpq connection>|<schema.table>") or raster (``source`` the COG).

    WMS 1.3.0 GetMap in EPSG:3857 to a 256 px RGBA PNG (zlib 6, the same as Mapnik's). The
    raster's classes are evaluated per bucket (``SCALE_BUCKETS``, MapServer's documented way
    for a Float32 band: per pixel, the same ramp took 4-5x longer and drew the same);
    ``CLOSE_CONNECTION=DEFER`` lets a persistent process (FastCGI, map2img's repeated draws)
    keep its OGR datasource or PostgreSQL connection between requests, as a server would."""
    if store == "raster":
        layer = f"""    TYPE RASTER
    DATA "{source}"
    PROCESSING "RESAMPLE=NEAREST"
    PROCESSING "SCALE={RAMP_RANGE[0]:g},{RAMP_RANGE[1]:g}"
    PROCESSING "SCALE_BUCKETS=256"
    CLASS
      EXPRESSION ([pixel] >= {RAMP_RANGE[0]:g} AND [pixel] <= {RAMP_RANGE[1]:g})
      STYLE
        COLORRANGE {_rgb(RAMP[0])} {_rgb(RAMP[1])}
        DATARANGE {RAMP_RANGE[0]:g} {RAMP_RANGE[1]:g}
        RANGEITEM "pixel"
      END
    END
    CLASS
      EXPRESSION ([pixel] > {RAMP_RANGE[1]:g})
      STYLE COLOR {_rgb(RAMP[1])} END
    END"""
    else:
        if store == "gpkg":
            data = f'''    CONNECTIONTYPE OGR
    CONNECTION "{source}"
    DATA "buildings"'''
        else:
            conn, table = source.split("|")
            data = f'''    CONNECTIONTYPE POSTGIS
    CONNECTION "{conn}"
    DATA "geom from {table} using unique fid using srid=4326"'''
        layer = f"""    TYPE POLYGON
{data}
    PROCESSING "CLOSE_CONNECTION=DEFER"
    CLASS
      STYLE
        COLOR {_rgb(FILL)}
        OUTLINECOLOR {_rgb(OUTLINE)}
        WIDTH 1
      END
    END"""
    path.write_text(f"""MAP
  NAME "bench"
  SIZE {SIZE} {SIZE}
  EXTENT 2500000 6600000 3700000 7700000
  UNITS METERS
  PROJECTION "init=epsg:3857" END
  IMAGETYPE "png"
  OUTPUTFORMAT
    NAME "png"
    DRIVER "AGG/PNG"
    MIMETYPE "image/png"
    IMAGEMODE RGBA
    EXTENSION "png"
    TRANSPARENT ON
    FORMATOPTION "COMPRESSION={PNG_ZLIB}"
  END
  WEB
    METADATA
      "wms_title" "bench"
      "wms_enable_request" "GetMap GetCapabilities"
      "wms_srs" "EPSG:3857"
      "wms_getmap_formatlist" "image/png"
      "wms_onlineresource" "http://127.0.0.1/"
    END
  END
  LAYER
    NAME "{layer_name}"
    STATUS ON
    PROJECTION "init=epsg:4326" END
    METADATA "wms_title" "{layer_name}" END
{layer}
  END
END
""")
    return path


def getmap_query(layer: str, box: tuple[float, float, float, float]) -> str:
    return ("SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=" + layer
            + "&STYLES=&CRS=EPSG:3857&BBOX=" + ",".join(f"{v:.4f}" for v in box)
            + f"&WIDTH={SIZE}&HEIGHT={SIZE}&FORMAT=image/png&TRANSPARENT=TRUE")


def cgi_body(out: bytes) -> tuple[str, bytes]:
    """A CGI answer's Content-Type and body."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        head, found, body = out.partition(sep)
        if found:
            m = re.search(rb"(?im)^content-type:\s*([^\r\n;]+)", head)
            return (m.group(1).decode() if m else ""), body
    return "", out


def png_or_error(ctype: str, body: bytes) -> bytes:
    if ctype != "image/png" or not body.startswith(b"\x89PNG"):
        text = re.sub(r"\s+", " ", body[:600].decode("utf-8", "replace"))
        raise RuntimeError(f"mapserv answered {ctype or 'no Content-Type'}: {text}")
    return body


class CgiMapserv:
    """``mapserv`` started per request as a web server starts a CGI program: a small
    environment (the config file, the mapfile, the request), the answer read from stdout.
    Each child is reaped with ``wait4`` for its own CPU time; ``peak_mb`` runs one request
    under /usr/bin/time for the peak memory (wait4's ru_maxrss also counts this harness's
    memory at the fork)."""

    def __init__(self, config: Path, mapfile: Path, log: Path) -> None:
        self.env = {"PATH": "/usr/bin:/bin", "MAPSERVER_CONFIG_FILE": str(config),
                    "MS_MAPFILE": str(mapfile), "REQUEST_METHOD": "GET",
                    "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
                    "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SCRIPT_NAME": "/wms"}
        self.log = log
        self.cpu_ms: list[float] = []

    def render(self, query: str) -> bytes:
        with self.log.open("ab") as err:
            p = subprocess.Popen([MAPSERV], env={**self.env, "QUERY_STRING": query},
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
            assert p.stdout is not None
            out = p.stdout.read()
            p.stdout.close()
            _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        self.cpu_ms.append(1000 * (usage.ru_utime + usage.ru_stime))
        return png_or_error(*cgi_body(out))

    def peak_mb(self, query: str) -> float | None:
        """Peak resident memory (MB) of one request, by /usr/bin/time (not timed)."""
        if not Path(TIME).exists():
            return None
        r = subprocess.run([TIME, "-f", "peak-kb %M", MAPSERV], capture_output=True,
                           env={**self.env, "QUERY_STRING": query})
        m = re.search(rb"peak-kb (\d+)", r.stderr)
        return int(m.group(1)) / 1024 if m else None


# FastCGI 1.0 records (the protocol spec's numbers)
FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = \
    1, 3, 4, 5, 6, 7
FCGI_RESPONDER, FCGI_KEEP_CONN = 1, 1


def _fcgi_record(kind: int, request_id: int, content: bytes) -> bytes:
    pad = -len(content) % 8
    return struct.pack(">BBHHBx", 1, kind, request_id, len(content), pad) + content + b"\0" * pad


def _fcgi_pair(name: str, value: str) -> bytes:
    out = b""
    for part in (name.encode(), value.encode()):
        n = len(part)
        out += struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)
    return out + name.encode() + value.encode()


class FcgiMapserv:
    """One persistent ``mapserv`` speaking FastCGI: started as spawn-fcgi starts it (a bound,
    listening Unix socket passed as its standard input, which libfcgi takes as the sign to
    serve FastCGI), and a minimal client that sends one request at a time on a kept-alive
    connection (FCGI_KEEP_CONN) and reads the CGI answer from the STDOUT records."""

    def __init__(self, config: Path, mapfile: Path, sock_path: Path, log: Path) -> None:
        self.env = {"PATH": "/usr/bin:/bin", "MAPSERVER_CONFIG_FILE": str(config),
                    "MS_MAPFILE": str(mapfile)}
        self.params = {**self.env, "REQUEST_METHOD": "GET", "GATEWAY_INTERFACE": "CGI/1.1",
                       "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "127.0.0.1",
                       "SERVER_PORT": "80", "SCRIPT_NAME": "/wms", "CONTENT_LENGTH": "0"}
        sock_path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(sock_path))
        listener.listen(16)
        self.sock_path = sock_path
        with log.open("ab") as err:
            self.proc = subprocess.Popen([MAPSERV], stdin=listener.fileno(),
                                         stdout=subprocess.DEVNULL, stderr=err, env=self.env,
                                         start_new_session=True)
        listener.close()
        self.conn: socket.socket | None = None
        self.connects = 0
        self.cpu0 = self.cpu_s()

    def cpu_s(self) -> float:
        """The process's CPU seconds so far (utime + stime, /proc/<pid>/stat)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_mb(self) -> float:
        """Peak resident memory of the process so far (VmHWM)."""
        return _vm_mb("VmHWM", self.proc.pid)

    def _connect(self) -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(self.sock_path))
        self.connects += 1
        return s

    def render(self, query: str) -> bytes:
        if self.proc.poll() is not None:
            raise RuntimeError(f"mapserv (FastCGI) exited with {self.proc.returncode}")
        if self.conn is None:
            self.conn = self._connect()
        params = b"".join(_fcgi_pair(k, v) for k, v in
                          {**self.params, "QUERY_STRING": query}.items())
        msg = (_fcgi_record(FCGI_BEGIN_REQUEST, 1,
                            struct.pack(">HB5x", FCGI_RESPONDER, FCGI_KEEP_CONN))
               + _fcgi_record(FCGI_PARAMS, 1, params) + _fcgi_record(FCGI_PARAMS, 1, b"")
               + _fcgi_record(FCGI_STDIN, 1, b""))
        try:
            self.conn.sendall(msg)
            out = self._read_answer(self.conn)
        except (ConnectionError, EOFError):  # the process closed the connection: once more
            self.conn.close()
            self.conn = self._connect()
            self.conn.sendall(msg)
            out = self._read_answer(self.conn)
        return png_or_error(*cgi_body(out))

    @staticmethod
    def _read_answer(conn: socket.socket) -> bytes:
        stdout = bytearray()
        reader = conn.makefile("rb")
        while True:
            head = reader.read(8)
            if len(head) < 8:
                raise EOFError("FastCGI connection closed mid-answer")
            _, kind, _, length, pad = struct.unpack(">BBHHBx", head)
            content = reader.read(length + pad)[:length]
            if kind == FCGI_STDOUT:
                stdout += content
            elif kind == FCGI_END_REQUEST:
                return bytes(stdout)

    def stop(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group, by its id
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.sock_path.unlink(missing_ok=True)


def map2img_tile(config: Path, mapfile: Path, layer: str, box: tuple[float, ...], draws: int,
                 out: Path) -> tuple[list[float], float]:
    """Draw one tile ``draws`` times in one map2img process: MapServer's own timing of each
    draw (its map-level debug output: ``msDrawMap() total time`` plus ``msSaveImage() total
    time``, the drawing and the PNG; 1 ms resolution; not ``-all_debug``, whose layer-level
    output on PostGIS is a line per feature, which slowed a z7 tile down 3x), and
    the process's peak memory (MB, by /usr/bin/time when installed). MapServer's map extent
    runs from the centre of the first pixel to the centre of the last (its WMS moves a
    GetMap's BBOX in by half a pixel so), so the tile's box is moved in by half a pixel too."""
    half = (box[2] - box[0]) / SIZE / 2
    centres = (box[0] + half, box[1] + half, box[2] - half, box[3] - half)
    cmd = [MAP2IMG, "-conf", str(config), "-m", str(mapfile), "-o", str(out),
           "-e", *(f"{v:.4f}" for v in centres), "-s", str(SIZE), str(SIZE), "-l", layer,
           "-c", str(draws), "-map_debug", "2"]
    if Path(TIME).exists():
        cmd = [TIME, "-f", "peak-kb %M", *cmd]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"})
    err = r.stderr.decode("utf-8", "replace")
    drawn = re.findall(r"msDrawMap\(\) total time: ([0-9.]+)s", err)
    saved = re.findall(r"msSaveImage\(.*\) total time: ([0-9.]+)s", err)
    times = [1000 * (float(d) + float(s)) for d, s in zip(drawn, saved, strict=False)]
    if r.returncode != 0 or len(times) != draws:
        raise RuntimeError(f"map2img failed ({r.returncode}): {err.strip()[-600:]}")
    peak = re.search(r"peak-kb (\d+)", err)
    return times, int(peak.group(1)) / 1024 if peak else float("nan")


# ---------------------------------------------------------------------------------------------
# the runs


def stats(wall: list[float]) -> dict:
    import numpy as np

    a = np.array(wall, dtype=float)
    return {"n": int(a.size), "median_ms": float(np.median(a)),
            "p95_ms": float(np.percentile(a, 95)), "mean_ms": float(a.mean()),
            "tiles_per_s": float(1000 * a.size / a.sum()) if a.sum() else None}


def run_mapserver(mode: str, store: str, sets: dict, config: Path, mapfile: Path, layer: str,
                  run_dir: Path, log) -> dict:
    """One MapServer run over every set this store draws: a warm-up pass (its PNGs kept for
    the comparison), then the rounds, one tile at a time."""
    key = mode
    png_dir = run_dir / "png" / f"{key}-{store}"
    png_dir.mkdir(parents=True, exist_ok=True)
    errlog = run_dir / "logs" / f"{key}-{store}.log"
    out: dict = {"engine": "mapserver", "mode": mode, "store": store, "sets": {}}
    if mode == "map2img":
        for name, spec in sets.items():
            first, wall, peak = [], [], 0.0
            for t in spec["tiles"]:
                times, rss = map2img_tile(config, mapfile, layer, tile_box(*t),
                                          1 + spec["rounds"], png_dir / f"{tile_name(t)}.png")
                first.append(times[0])
                wall += times[1:]
                peak = max(peak, rss)
            out["sets"][name] = {"first_ms": first, "wall_ms": wall, **stats(wall),
                                 "peak_mb": peak}
            log(f"   {key:<15} {store:<8} {name:<6} {fmt_stats(out['sets'][name])}")
        return out
    cgi: CgiMapserv | None = None
    fcgi: FcgiMapserv | None = None
    engine: CgiMapserv | FcgiMapserv
    if mode == "mapserver-cgi":
        engine = cgi = CgiMapserv(config, mapfile, errlog)
    else:
        engine = fcgi = FcgiMapserv(config, mapfile, run_dir / f"fcgi-{store}.sock", errlog)
    try:
        for name, spec in sets.items():
            first, wall = [], []
            for t in spec["tiles"]:
                query = getmap_query(layer, tile_box(*t))
                t0 = time.perf_counter()
                body = engine.render(query)
                first.append(1000 * (time.perf_counter() - t0))
                (png_dir / f"{tile_name(t)}.png").write_bytes(body)
            cpu0 = fcgi.cpu_s() if fcgi else 0.0
            cpu_start = len(cgi.cpu_ms) if cgi else 0
            for _ in range(spec["rounds"]):
                for t in spec["tiles"]:
                    query = getmap_query(layer, tile_box(*t))
                    t0 = time.perf_counter()
                    engine.render(query)
                    wall.append(1000 * (time.perf_counter() - t0))
            row = {"first_ms": first, "wall_ms": wall, **stats(wall)}
            if fcgi:
                row["cpu_ms_mean"] = 1000 * (fcgi.cpu_s() - cpu0) / len(wall)
                row["peak_mb"] = fcgi.peak_mb()
            elif cgi:
                cpu = cgi.cpu_ms[cpu_start:]
                row["cpu_ms_mean"] = sum(cpu) / len(cpu)
                row["peak_mb"] = cgi.peak_mb(getmap_query(layer, tile_box(*spec["tiles"][0])))
            out["sets"][name] = row
            log(f"   {key:<15} {store:<8} {name:<6} {fmt_stats(row)}")
        if fcgi:
            out["fcgi_connections"] = fcgi.connects
    finally:
        if fcgi:
            fcgi.stop()
    return out


def run_mapnik(key: str, store: str, plugin: str, params: dict, sets: dict, run_dir: Path,
               log) -> dict:
    """One Mapnik run in a worker process of the peers venv (``--mapnik-worker``)."""
    import servers as srv

    job = {"kind": "raster" if store == "raster" else "vector", "plugin": plugin,
           "params": params, "png_dir": str(run_dir / "png" / f"{key}-{store}"),
           "sets": {name: {"rounds": spec["rounds"],
                           "tiles": [{"name": tile_name(t), "box": list(tile_box(*t))}
                                     for t in spec["tiles"]]}
                    for name, spec in sets.items()}}
    job_file = run_dir / f"job-{key}.json"
    job_file.write_text(json.dumps(job, indent=1))
    py = srv.PEERS_VENV / "bin" / "python"
    t0 = time.perf_counter()
    r = subprocess.run([str(py), str(Path(__file__).resolve()), "--mapnik-worker",
                        str(job_file)], capture_output=True, text=True)
    total = time.perf_counter() - t0
    (run_dir / "logs" / f"{key}.log").write_text(r.stderr)
    line = next((ln for ln in reversed(r.stdout.splitlines()) if ln.startswith("{")), None)
    if r.returncode != 0 or line is None:
        raise RuntimeError(f"{key} failed ({r.returncode}): {r.stderr.strip()[-800:]}")
    res = json.loads(line)
    out: dict = {"engine": "mapnik", "mode": key, "store": store, "plugin": plugin,
                 "params": {k: v for k, v in params.items() if k != "password"},
                 "import_ms": res["import_ms"], "map_ms": res["map_ms"],
                 "peak_mb": res["peak_mb"], "ready_mb": res["ready_mb"], "process_s": total,
                 "sets": {}}
    for name, got in res["sets"].items():
        row = {"first_ms": got["first_ms"], "wall_ms": got["wall_ms"], **stats(got["wall_ms"]),
               "cpu_ms_mean": sum(got["cpu_ms"]) / len(got["cpu_ms"]),
               "peak_mb": res["peak_mb"]}
        out["sets"][name] = row
        log(f"   {key:<15} {store:<8} {name:<6} {fmt_stats(row)}")
    return out


def fmt_stats(row: dict) -> str:
    return (f"median {row['median_ms']:8.1f} ms  p95 {row['p95_ms']:8.1f} ms  "
            f"{row['tiles_per_s']:7.1f} tiles/s  (first pass median "
            f"{sorted(row['first_ms'])[len(row['first_ms']) // 2]:.1f} ms)")


# ---------------------------------------------------------------------------------------------
# do they draw alike?


def read_png(path: Path):
    """An RGBA PNG as a (4, h, w) uint8 array (rasterio: GDAL's PNG driver)."""
    import warnings

    import rasterio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NotGeoreferencedWarning
        with rasterio.open(path) as src:
            data = src.read()
    if data.shape[0] == 3:  # RGB without alpha: every pixel drawn
        import numpy as np

        data = np.concatenate([data, np.full((1, *data.shape[1:]), 255, np.uint8)])
    return data


def compare_pngs(results: list[dict], sets: dict, run_dir: Path, report: dict) -> None:
    """Per store and set: each run's non-empty pixels (alpha > 0) against ``mapserver-cgi``'s
    on the same tiles: the ratio of the counts, of the ink (the sum of alpha: antialiased edges
    count by their coverage) and the overlap (pixels non-empty in both / in either). Writes
    png/compare-<store>-<set>.png: MapServer (CGI) above, Mapnik below."""
    import numpy as np
    import rasterio

    rows = []
    for store in STORES:
        runs = [r for r in results if r["store"] == store]
        ref = next((r for r in runs if r["mode"] == "mapserver-cgi"), runs[0] if runs else None)
        if ref is None:
            continue
        for name, spec in sets.items():
            if store not in spec["stores"] or name not in ref["sets"]:
                continue
            ref_dir = run_dir / "png" / f"{ref['mode']}-{store}"
            ref_imgs = {t: read_png(ref_dir / f"{tile_name(t)}.png") for t in spec["tiles"]}
            ref_px = sum(int((a[3] > 0).sum()) for a in ref_imgs.values())
            ref_ink = sum(float(a[3].sum()) for a in ref_imgs.values()) / 255
            for run in runs:
                if name not in run["sets"]:
                    continue
                run_dir_png = run_dir / "png" / f"{run['mode']}-{store}"
                px = inter = union = 0
                ink = 0.0
                for t, a in ref_imgs.items():
                    b = read_png(run_dir_png / f"{tile_name(t)}.png")
                    ma, mb = a[3] > 0, b[3] > 0
                    px += int(mb.sum())
                    ink += float(b[3].sum()) / 255
                    inter += int((ma & mb).sum())
                    union += int((ma | mb).sum())
                row = {"store": store, "set": name, "run": run["mode"], "ref": ref["mode"],
                       "pixels": px, "ref_pixels": ref_px,
                       "ratio": px / ref_px if ref_px else None,
                       "ink_ratio": ink / ref_ink if ref_ink else None,
                       "overlap": inter / union if union else 1.0}
                rows.append(row)
                run["sets"][name]["png_check"] = row
                # antialiasing differs between the engines: on small polygons the edge pixels
                # are many, so the overlap is low even when the pictures match (0.77 on the
                # z14 tiles at 100,000 features); the amounts of pixels and ink must match
                if ref_px and (not 0.8 <= px / ref_px <= 1.25
                               or not 0.8 <= row["ink_ratio"] <= 1.25):
                    msg = (f"{run['mode']} on {store}/{name} draws {px} non-empty pixels and "
                           f"{row['ink_ratio']:.2f}x the ink of {ref['mode']} ({ref_px} "
                           f"pixels; overlap {row['overlap']:.2f}): see png/compare-{store}-"
                           f"{name}.png")
                    print(f"WARNING: {msg}")
                    report["warnings"].append(msg)
            # a picture: the first three tiles, MapServer (CGI) over Mapnik's first run
            other = next((r for r in runs if r["engine"] == "mapnik" and name in r["sets"]),
                         None)
            if other is None:
                continue
            shown = spec["tiles"][:3]
            gap = np.full((4, SIZE, 4), 255, np.uint8)
            top = np.concatenate([x for t in shown for x in (ref_imgs[t], gap)], axis=2)
            o_dir = run_dir / "png" / f"{other['mode']}-{store}"
            bottom = np.concatenate([x for t in shown for x in
                                     (read_png(o_dir / f"{tile_name(t)}.png"), gap)], axis=2)
            band = np.full((4, 4, top.shape[2]), 255, np.uint8)
            pic = np.concatenate([top, band, bottom], axis=1)
            pic_path = run_dir / "png" / f"compare-{store}-{name}.png"
            with rasterio.open(pic_path, "w", driver="PNG", width=pic.shape[2],
                               height=pic.shape[1], count=4, dtype="uint8") as dst:
                dst.write(pic)
    report["png_check"] = rows
    if rows:
        print("\ndo they draw alike? non-empty pixels (alpha > 0) of the first pass, against "
              "mapserver-cgi on the same store")
        print(f"  {'store':<8} {'set':<7} {'run':<16} {'pixels':>10} {'ratio':>7} "
              f"{'ink ratio':>9} {'overlap':>8}")
        for row in rows:
            ratio = f"{row['ratio']:.3f}" if row["ratio"] is not None else "-"
            ink_txt = f"{row['ink_ratio']:.3f}" if row["ink_ratio"] is not None else "-"
            print(f"  {row['store']:<8} {row['set']:<7} {row['run']:<16} {row['pixels']:>10} "
                  f"{ratio:>7} {ink_txt:>9} {row['overlap']:>8.3f}")
        print(f"  side by side (MapServer above, Mapnik below): {run_dir / 'png'}/compare-*.png")


# ---------------------------------------------------------------------------------------------
# the report


def print_results(results: list[dict], sets: dict) -> dict:
    """The table of figures and the ratios Mapnik / MapServer (per store and set); returns the
    ratios for the JSON."""
    print("\nset     store    run               median ms   p95 ms  tiles/s  cpu ms  peak MB"
          "   first-pass median ms")
    print("-" * 100)
    for name in sets:
        for store in STORES:
            for r in results:
                row = r["sets"].get(name) if r["store"] == store else None
                if row is None:
                    continue
                mem, cpu = row.get("peak_mb"), row.get("cpu_ms_mean")
                first = sorted(row["first_ms"])[len(row["first_ms"]) // 2]
                print(f"{name:<7} {store:<8} {r['mode']:<16} {row['median_ms']:>10.1f} "
                      f"{row['p95_ms']:>8.1f} {row['tiles_per_s']:>8.1f} "
                      f"{'-' if cpu is None else f'{cpu:.1f}':>7} "
                      f"{'-' if mem is None or mem != mem else f'{mem:.0f}':>8} {first:>12.1f}")
        print()
    ratios: dict = {}
    print("ratios Mapnik / MapServer (median and p95 ms: < 1 means Mapnik is faster)")
    for name in sets:
        for store in STORES:
            runs = {r["mode"]: r["sets"][name] for r in results
                    if r["store"] == store and name in r["sets"]}
            for mk in MAPNIK[store]:
                if mk not in runs:
                    continue
                for ms in MAPSERVER:
                    if ms not in runs:
                        continue
                    a, b = runs[mk], runs[ms]
                    v = {"median": a["median_ms"] / b["median_ms"],
                         "p95": a["p95_ms"] / b["p95_ms"]}
                    ratios[f"{name}/{store}/{mk}/{ms}"] = v
                    print(f"  {name:<6} {store:<8} {mk:<15} / {ms:<15} median "
                          f"{v['median']:6.2f}x   p95 {v['p95']:6.2f}x")
    print()
    return ratios


# ---------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--features", type=int, default=1_000_000, help="buildings to generate")
    p.add_argument("--tiles", type=int, default=50, help="z14 tiles over Minsk")
    p.add_argument("--rounds", type=int, default=3,
                   help="timed passes over the tiles after the warm-up pass (z7: at least 3)")
    p.add_argument("--only", default="", help="a comma list of engines (mapserver, mapnik) "
                   "and stores (gpkg, postgis, raster); none of a kind means all of it")
    p.add_argument("--seed", type=int, default=20240611)
    p.add_argument("--keep", action="store_true",
                   help="keep the run dir's stores and the PostgreSQL cluster's data")
    p.add_argument("--no-save", action="store_true", help="do not write benchmarks/results/")
    args = p.parse_args()
    chosen = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = chosen - set(ENGINES) - set(STORES)
    if unknown:
        p.error(f"--only: unknown {', '.join(sorted(unknown))} (one of "
                f"{', '.join(ENGINES + STORES)})")
    args.engines = [e for e in ENGINES if e in chosen] or list(ENGINES)
    args.stores = [s for s in STORES if s in chosen] or list(STORES)
    if args.tiles < 1 or args.rounds < 1:
        p.error("--tiles and --rounds must be at least 1")
    return args


def ensure_mapnik(log) -> str:
    """The ``mapnik`` wheel in benchmarks/.venv-peers (created with the peers' Python if it
    is not there): never in the project's venv. Returns its version."""
    import servers as srv

    py = srv.PEERS_VENV / "bin" / "python"
    if not py.exists():
        log(f"creating {srv.PEERS_VENV} ...")
        subprocess.run([srv.PEERS_PYTHON, "-m", "venv", str(srv.PEERS_VENV)], check=True)
    probe = [str(py), "-c", "import mapnik, numpy; print(mapnik.version_string())"]
    r = subprocess.run(probe, capture_output=True, text=True)
    if r.returncode != 0:
        log(f"installing {MAPNIK_REQUIREMENT} into {srv.PEERS_VENV} ...")
        subprocess.run([str(py), "-m", "pip", "install", "-q", MAPNIK_REQUIREMENT, "numpy"],
                       check=True)
        r = subprocess.run(probe, capture_output=True, text=True, check=True)
    return r.stdout.strip()


def gpkg_header_bytes(gpkg: Path) -> int:
    """The length of the GeoPackage geometry header before the WKB (8 bytes + the envelope
    its flags announce), which must be the same for every row: Mapnik's sqlite plugin reads
    plain WKB, so its query strips the header with ``substr``."""
    import sqlite3

    sizes = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
    with sqlite3.connect(f"file:{gpkg}?mode=ro&immutable=1", uri=True) as c:
        hexes = {row[0] for row in c.execute(
            "SELECT DISTINCT hex(substr(geom, 4, 1)) FROM buildings")}
    if len(hexes) != 1:
        raise RuntimeError(f"GeoPackage geometry headers differ between rows: {sorted(hexes)}")
    flag = int(hexes.pop(), 16)
    return 8 + sizes[(flag >> 1) & 7]


def mapnik_runs(store: str, source: dict) -> list[tuple[str, str, dict]]:
    """(key, plugin, parameters) of each Mapnik run on a store."""
    if store == "gpkg":
        gpkg, header = source["file"], source["header"]
        extent = ",".join(map(str, source["extent"]))
        return [
            ("mapnik-ogr", "Ogr", {"file": gpkg, "layer": "buildings"}),
            # the sqlite plugin reads plain WKB with an rtree "idx_<table>_<geom>" of
            # (pkid, xmin, xmax, ymin, ymax): a temporary view over the GeoPackage's own
            # R-tree (nothing is written to the file), and the header cut off the blob
            ("mapnik-sqlite", "SQLite", {
                "file": gpkg, "geometry_table": "buildings", "geometry_field": "geom",
                "key_field": "fid", "wkb_format": "generic", "extent": extent,
                "table": f"(SELECT fid, substr(geom, {header + 1}) AS geom FROM buildings "
                         "WHERE !intersects!)",
                "index_table": "bench_idx", "use_spatial_index": True, "auto_index": False,
                "initdb": "CREATE TEMP VIEW bench_idx AS SELECT id AS pkid, minx AS xmin, "
                          "maxx AS xmax, miny AS ymin, maxy AS ymax FROM rtree_buildings_geom"}),
        ]
    if store == "postgis":
        return [("mapnik-postgis", "PostGIS", {
            "host": "127.0.0.1", "port": source["port"], "user": "postgres",
            "dbname": source["dbname"], "table": source["table"], "geometry_field": "geom",
            "key_field": "fid", "srid": 4326, "extent": ",".join(map(str, source["extent"])),
            "estimate_extent": False})]
    return [("mapnik-gdal", "Gdal", {"file": source["file"], "band": 1})]


def main() -> int:
    args = parse_args()
    try:
        import serve  # the benchmarks' helpers (it re-runs us with the project's venv)
    except ImportError as exc:
        sys.exit(f"run with the project's venv: .venv/bin/python {sys.argv[0]} ({exc})")
    import datagen
    import servers as srv
    from pgcluster import TUNING, PgCluster

    log = serve.log
    for tool in (MAPSERV, MAP2IMG):
        if "mapserver" in args.engines and not Path(tool).exists():
            sys.exit(f"{tool} not found (apt-get install cgi-mapserver mapserver-bin)")
    n = args.features
    ncpu = os.cpu_count() or 0
    print(f"machine: {platform.node()}, {ncpu} cores, "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    report: dict = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"host": platform.node(), "cores": ncpu,
                    "load_average_start": os.getloadavg()},
        "features": n, "seed": args.seed, "rounds": args.rounds, "engines": args.engines,
        "stores": args.stores, "style": {"fill": FILL, "outline": OUTLINE, "outline_px": 1,
                                         "ramp": RAMP, "ramp_range": RAMP_RANGE,
                                         "png": f"RGBA, zlib {PNG_ZLIB}"},
        "warnings": [], "runs": [],
    }
    versions = report["versions"] = {}
    if "mapserver" in args.engines:
        versions["mapserver"] = subprocess.run([MAPSERV, "-v"], capture_output=True,
                                               text=True).stdout.strip()
        if shutil.which("gdalinfo"):  # the libgdal mapserv links to (Debian's)
            versions["gdal_mapserver"] = subprocess.run(["gdalinfo", "--version"],
                                                        capture_output=True, text=True
                                                        ).stdout.strip()
    if "mapnik" in args.engines:
        versions["mapnik"] = ensure_mapnik(log)
    for k, v in versions.items():
        log(f"{k}: {v[:160]}")

    data_dir = BENCH / ".data"
    data_dir.mkdir(parents=True, exist_ok=True)
    run_dir = data_dir / f"engines-{n}"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    (run_dir / "logs").mkdir(parents=True)
    load_log = run_dir / "logs" / "load.log"
    gpkg = data_dir / f"buildings-{n}-seed{args.seed}.gpkg"
    if gpkg.exists():
        log(f"data: {gpkg} (cached)")
    else:
        t0 = time.perf_counter()
        log(f"generating {n:,} buildings -> {gpkg}")
        datagen.write_gpkg(gpkg, n, args.seed)
        log(f"data: generated in {time.perf_counter() - t0:.1f} s")

    cluster: PgCluster | None = None

    def on_term(signum, frame):  # treat SIGTERM like Ctrl-C: clean up
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    base_env = {"GEOPORTAL_CONFIG_DIR": str(REPO / "config"), "GEOPORTAL_LOG_LEVEL": "WARNING"}
    sources: dict[str, dict] = {}
    store_file_sha = None
    try:
        # -- loads: geoportal ingest into each store; the raster's COG -----------------------
        gp_env = {**base_env, "GEOPORTAL_DATA_DIR": str(run_dir / "var-gpkg")}
        if "gpkg" in args.stores:
            secs = serve.timed([str(serve.GEOPORTAL), "ingest", str(gpkg), "--id", "buildings",
                                "--theme", "urban-infrastructure"], env=gp_env,
                               logfile=load_log, what="geoportal ingest -> GeoPackage store")
            ref = serve.layer_store_ref(gp_env, str(run_dir / "var-gpkg" / "catalog.sqlite"))
            path = Path(ref) if Path(ref).is_absolute() else run_dir / "var-gpkg" / "store" / ref
            if not path.exists():  # store_ref may be <layer>/<uuid> without the suffix
                found = sorted((run_dir / "var-gpkg" / "store" / "buildings").glob("*.gpkg"))
                path = found[-1] if found else path
            sources["gpkg"] = {"file": str(path), "header": gpkg_header_bytes(path),
                               "extent": layer_extent(path), "ingest_s": round(secs, 1)}
            store_file_sha = serve.sha256(path)
        if "postgis" in args.stores:
            cluster = PgCluster(run_dir / "pg", srv.free_port())
            log(f"PostgreSQL cluster in {cluster.datadir} on port {cluster.port}")
            cluster.init()
            cluster.start()
            cluster.create_db()
            versions["postgres"] = cluster.psql("SHOW server_version")
            versions["postgis"] = cluster.psql("SELECT postgis_lib_version()")
            pg_env = {**base_env, "GEOPORTAL_DATABASE_URL": cluster.url,
                      "GEOPORTAL_DATA_DIR": str(run_dir / "var-pg")}
            secs = serve.timed([str(serve.GEOPORTAL), "ingest", str(gpkg), "--id", "buildings",
                                "--theme", "urban-infrastructure"], env=pg_env,
                               logfile=load_log, what="geoportal ingest -> PostGIS store")
            table = serve.layer_store_ref(pg_env, cluster.url)
            cluster.psql("ANALYZE")
            box = cluster.psql(f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                               f"(SELECT ST_Extent(geom) AS e FROM {table}) s").split("|")
            sources["postgis"] = {"table": table, "port": cluster.port,
                                  "dbname": cluster.dbname, "ingest_s": round(secs, 1),
                                  "extent": [float(v) for v in box],
                                  "rows": int(cluster.psql(f"SELECT count(*) FROM {table}")),
                                  "conn": f"host=127.0.0.1 port={cluster.port} "
                                          f"dbname={cluster.dbname} user=postgres"}
            report["postgres_tuning"] = TUNING
        if "raster" in args.stores:
            serve.timed([str(serve.GEOPORTAL), "ingest", str(REPO / "layers" / "by" /
                                                             "night_lights.yaml")],
                        env=gp_env, logfile=load_log, what="geoportal ingest -> COG")
            cogs = sorted((run_dir / "var-gpkg" / "coverages").glob("*/*.tif"))
            if not cogs:
                raise RuntimeError("no COG after ingesting layers/by/night_lights.yaml")
            sources["raster"] = {"file": str(cogs[0]), "bounds": raster_bounds(cogs[0])}
        report["sources"] = {k: {kk: vv for kk, vv in v.items() if kk != "conn"}
                             for k, v in sources.items()}

        # -- tiles ---------------------------------------------------------------------------
        sets = tile_sets(args, serve._tile_xy, sources.get("raster", {}).get("bounds"))
        density = serve.buildings_per_tile(gpkg, sets["z14"]["tiles"])
        sets["z14"]["buildings_per_tile"] = density
        log(f"z14: {sets['z14']['what']}: buildings per tile median {density['median']:.0f}, "
            f"min-ish (p10) {density['p10']:.0f}, max {density['max']}")
        for name, spec in sets.items():
            if name != "z14":
                log(f"{name}: {spec['what']}")
        report["tiles"] = {name: {"what": spec["what"], "rounds": spec["rounds"],
                                  "tiles": [tile_name(t) for t in spec["tiles"]],
                                  **({"buildings_per_tile": spec["buildings_per_tile"]}
                                     if "buildings_per_tile" in spec else {})}
                           for name, spec in sets.items()}

        # -- the runs ------------------------------------------------------------------------
        config = write_config(run_dir / "mapserver.conf", run_dir)
        spawn = spawn_overhead()
        report["spawn_overhead_ms"] = spawn
        log(f"this harness starts a trivial process (/bin/true) in {spawn:.2f} ms (median): "
            "part of every mapserver-cgi figure, as a web server's fork/exec would be")
        if "mapserver" in args.engines:
            report["mapserv_v_ms"] = mapserv_start()
            log(f"`mapserv -v` (the process start, no request) takes "
                f"{report['mapserv_v_ms']:.1f} ms (median of 20)")
        for store in args.stores:
            src = sources[store]
            layer = "lights" if store == "raster" else "buildings"
            mine = {k: v for k, v in sets.items() if store in v["stores"]}
            if "mapserver" in args.engines:
                mapfile = write_mapfile(run_dir / f"{store}.map", store,
                                        f"{src['conn']}|{src['table']}" if store == "postgis"
                                        else src["file"], layer)
                for mode in MAPSERVER:
                    serve.wait_idle(report, f"{mode} on {store}", threshold=0.45, limit=60)
                    log(f"{mode} on {store}")
                    try:
                        report["runs"].append(run_mapserver(mode, store, mine, config, mapfile,
                                                            layer, run_dir, log))
                    except RuntimeError as exc:
                        serve.warn(f"{mode} on {store}: {exc}")
                        report["warnings"].append(f"{mode} on {store}: {exc}")
            if "mapnik" in args.engines:
                for key, plugin, params in mapnik_runs(store, src):
                    serve.wait_idle(report, f"{key} on {store}", threshold=0.45, limit=60)
                    log(f"{key} on {store} ({plugin} plugin)")
                    try:
                        report["runs"].append(run_mapnik(key, store, plugin, params, mine,
                                                         run_dir, log))
                    except RuntimeError as exc:
                        serve.warn(f"{key} on {store}: {exc}")
                        report["warnings"].append(f"{key} on {store}: {exc}")
        if store_file_sha and serve.sha256(Path(sources["gpkg"]["file"])) != store_file_sha:
            msg = "our GeoPackage store file changed while the engines read it"
            serve.warn(msg)
            report["warnings"].append(msg)

        compare_pngs(report["runs"], sets, run_dir, report)
        report["ratios"] = print_results(report["runs"], sets)
        for run in report["runs"]:
            if run["mode"] == "mapserver-fcgi":
                first = next(iter(run["sets"].values()))["first_ms"][0]
                peak = max(r["peak_mb"] for r in run["sets"].values())
                print(f"mapserver-fcgi  on {run['store']:<8} the first request of the fresh "
                      f"process: {first:.0f} ms; peak memory {peak:.0f} MB")
            if run["engine"] == "mapnik":
                print(f"{run['mode']:<15} start-up: import mapnik {run['import_ms']:.0f} ms, "
                      f"map and datasource {run['map_ms']:.0f} ms; the worker's memory "
                      f"{run['ready_mb']:.0f} MB when ready, {run['peak_mb']:.0f} MB at peak")
        report["machine"]["load_average_end"] = os.getloadavg()
        print(f"(one tile at a time; {ncpu} cores shared with others: load average at the end "
              f"{' '.join(f'{v:.1f}' for v in os.getloadavg())})")
        for w in report["warnings"]:
            print(f"WARNING: {w}")
    except KeyboardInterrupt:
        serve.warn("interrupted: stopping the cluster")
        return 130
    finally:
        if cluster is not None:
            cluster.stop()
        if not args.keep:
            for sub in ("pg", "var-pg", "var-gpkg"):
                shutil.rmtree(run_dir / sub, ignore_errors=True)

    if not args.no_save and report["runs"]:
        out_dir = BENCH / "results"
        out_dir.mkdir(exist_ok=True)
        out = out_dir / f"render-engines-{n}-{dt.date.today().isoformat()}.json"
        if out.exists():
            stamp = dt.datetime.now().strftime("%Y-%m-%dT%H%M%S")
            out = out_dir / f"render-engines-{n}-{stamp}.json"
        for run in report["runs"]:  # the raw per-tile times stay, rounded
            for row in run["sets"].values():
                for k in ("first_ms", "wall_ms"):
                    row[k] = [round(v, 2) for v in row[k]]
        out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
        log(f"results: {out}")
    return 0


def layer_extent(gpkg: Path) -> list[float]:
    """The layer's extent from the GeoPackage's R-tree (lon/lat)."""
    import sqlite3

    with sqlite3.connect(f"file:{gpkg}?mode=ro&immutable=1", uri=True) as c:
        row = c.execute("SELECT min(minx), min(miny), max(maxx), max(maxy) "
                        "FROM rtree_buildings_geom").fetchone()
    return [float(v) for v in row]


def raster_bounds(path: Path) -> tuple[float, float, float, float]:
    import rasterio

    with rasterio.open(path) as src:
        b = src.bounds
    return (b.left, b.bottom, b.right, b.top)


def mapserv_start(count: int = 20) -> float:
    """Median ms of ``mapserv -v``: the process start alone (dynamic loading of its shared
    libraries and their initialisers), before any mapfile or request."""
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        subprocess.run([MAPSERV, "-v"], check=True, capture_output=True)
        times.append(1000 * (time.perf_counter() - t0))
    return sorted(times)[len(times) // 2]


def spawn_overhead(count: int = 50) -> float:
    """Median ms for this harness to start and reap a process that does nothing."""
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        subprocess.run(["/bin/true"], check=True)
        times.append(1000 * (time.perf_counter() - t0))
    return sorted(times)[len(times) // 2]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--mapnik-worker":
        sys.exit(mapnik_worker(sys.argv[2]))
    sys.path.insert(0, str(BENCH))
    sys.exit(main())
