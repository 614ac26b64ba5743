"""The map engine's processes (geoportal/server/ows/engine.py, fastcgi.py) with the real
``mapserv``: kept running and reused, replaced when killed, stopped past the deadline, and the
same answers as a process per request."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from geoportal.errors import BudgetExceeded
from geoportal.server.ows.engine import Answer, EngineFailed, MapServer
from geoportal.server.ows.kvp import OgcError
from geoportal.server.ows.services import engine_page_error
from tests.conftest import require_tool

MAPFILE = """MAP
  NAME "t"
  EXTENT 23 51 33 57
  SIZE 64 64
  PROJECTION "init=epsg:4326" END
  WEB METADATA "ows_enable_request" "*" "ows_srs" "EPSG:4326" "ows_title" "t"
    "ows_onlineresource" "http://x/wms?" END END
  LAYER NAME "box" TYPE POLYGON STATUS ON
    FEATURE POINTS 24 52 32 52 32 56 24 56 24 52 END END
    CLASS STYLE COLOR 200 30 30 END END
  END
END
"""
GETMAP = [("SERVICE", "WMS"), ("VERSION", "1.3.0"), ("REQUEST", "GetMap"), ("LAYERS", "box"),
          ("STYLES", ""), ("CRS", "EPSG:4326"), ("BBOX", "51,23,57,33"), ("WIDTH", "64"),
          ("HEIGHT", "64"), ("FORMAT", "image/png")]


@pytest.fixture
def engine(tmp_path: Path):
    require_tool("mapserv")
    made = MapServer(tmp_path / "engine", timeout_s=20, slots=2)
    yield made
    made.close()


def _mapfile(engine: MapServer) -> Path:
    path = engine.workdir / "0123abcd.map"
    path.write_text(MAPFILE, encoding="utf-8")
    return path


def _pids(engine: MapServer) -> set[int]:
    return {p.proc.pid for p in engine._pool._idle}


def test_a_kept_process_answers_again_and_as_a_process_per_request_does(engine):
    mapfile = _mapfile(engine)
    first = engine.run(mapfile, GETMAP)
    assert first.content_type == "image/png" and first.body.startswith(b"\x89PNG")
    kept = _pids(engine)
    assert len(kept) == 1
    again = engine.run(mapfile, GETMAP)
    assert _pids(engine) == kept  # the same process drew it
    engine.persistent = False
    assert engine.run(mapfile, GETMAP).body == again.body == first.body


def test_a_killed_process_fails_one_request_and_is_replaced(engine):
    mapfile = _mapfile(engine)
    engine.run(mapfile, GETMAP)
    (pid,) = _pids(engine)
    os.kill(pid, signal.SIGKILL)
    try:
        answer = engine.run(mapfile, GETMAP)  # a dead idle process is noticed and replaced
    except EngineFailed:
        answer = engine.run(mapfile, GETMAP)
    assert answer.body.startswith(b"\x89PNG")
    assert pid not in _pids(engine)


def test_past_the_deadline_the_process_is_stopped(engine):
    mapfile = _mapfile(engine)
    engine.run(mapfile, GETMAP)
    (pid,) = _pids(engine)
    engine.timeout_s = 0.000001
    with pytest.raises(BudgetExceeded):
        engine.run(mapfile, GETMAP)
    assert not _pids(engine)  # not given back
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone
    engine.timeout_s = 20
    assert engine.run(mapfile, GETMAP).body.startswith(b"\x89PNG")


def test_the_engines_own_error_page_becomes_a_report_or_a_503(engine, tmp_path: Path):
    """MapServer prints an HTML page (status 200) for the errors it has no exception report
    for: the real one for a resolution out of its range is a 400 naming the engine's reason,
    with the server's paths taken out; a store it could not open is a 503."""
    mapfile = tmp_path / "t.map"
    mapfile.write_text(MAPFILE)
    answer = engine.run(mapfile, [*GETMAP, ("MAP_RESOLUTION", "5")])
    assert answer.status == 200 and "html" in answer.content_type  # what the engine does
    error = engine_page_error(answer, lambda body: body)
    assert isinstance(error, OgcError) and error.status == 400
    assert "Resolution value out of range" in str(error.user_message("en"))
    assert engine_page_error(engine.run(mapfile, GETMAP), lambda body: body) is None
    page = Answer(200, "text/html", b"<HTML><HEAD><TITLE>MapServer Message</TITLE></HEAD>"
                  b"<BODY BGCOLOR='#FFFFFF'>msOGRFileOpen(): Open failed for /srv/var/x.gpkg"
                  b"</BODY></HTML>")
    failed = engine_page_error(page, lambda body: body.replace(b"/srv/var", b"..."))
    assert isinstance(failed, EngineFailed)
    refused = engine_page_error(
        Answer(200, "text/html", page.body.replace(b"msOGRFileOpen(): Open failed", b"x()")),
        lambda body: body.replace(b"/srv/var", b"..."))
    assert isinstance(refused, OgcError) and "/srv/var" not in str(refused.user_message("en"))
