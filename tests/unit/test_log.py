"""The log's two formats and its file (geoportal/log.py): one line per event whatever it
holds, JSON that parses, and a file that logrotate can move without a line being lost."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from geoportal.log import configure_logging


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def _boom() -> None:
    raise ValueError("bad\nvalue")


def test_json_lines_parse_and_carry_a_requests_fields(tmp_path: Path, restore_root) -> None:
    configure_logging("INFO", log_dir=tmp_path, stderr_level=logging.CRITICAL, fmt="json")
    log = logging.getLogger("geoportal.test")
    log.info("%s", "request_id=r1 status=200", extra={"fields": {
        "request_id": "r1", "status": 200, "agent": 'QGIS "3"\n', "message": "not mine"}})
    try:
        _boom()
    except ValueError:
        log.exception("failed for layer %s", "a\nb")
    lines = (tmp_path / "geoportal.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2  # the newlines inside stayed inside
    first, second = map(json.loads, lines)
    assert first["level"] == "INFO" and first["logger"] == "geoportal.test"
    assert first["message"] == "request_id=r1 status=200"  # a field cannot replace it
    assert first["request_id"] == "r1" and first["status"] == 200
    assert first["agent"] == 'QGIS "3"\n' and first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and second["message"] == "failed for layer a\nb"
    assert "Traceback" in second["exception"] and "bad\nvalue" in second["exception"]


def test_text_lines_stay_one_line(tmp_path: Path, restore_root) -> None:
    configure_logging("INFO", log_dir=tmp_path, stderr_level=logging.CRITICAL)
    try:
        _boom()
    except ValueError:
        logging.getLogger("geoportal.test").exception("layer %s", "a\nb")
    [line] = (tmp_path / "geoportal.log").read_text(encoding="utf-8").splitlines()
    assert "level=ERROR" in line and "layer a\\x0ab" in line and "Traceback" in line


def test_a_file_moved_by_logrotate_is_reopened(tmp_path: Path, restore_root) -> None:
    configure_logging("INFO", log_dir=tmp_path, stderr_level=logging.CRITICAL)
    log = logging.getLogger("geoportal.test")
    log.info("before the rotation")
    (tmp_path / "geoportal.log").rename(tmp_path / "geoportal.log.1")
    log.info("after the rotation")
    assert "before the rotation" in (tmp_path / "geoportal.log.1").read_text()
    fresh = (tmp_path / "geoportal.log").read_text()
    assert "after the rotation" in fresh and "before" not in fresh
