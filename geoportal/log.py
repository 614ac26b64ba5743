"""Logging set-up for the entry points: one line per event, to stderr and a file.

Two formats (``GEOPORTAL_LOG_FORMAT``): ``text``, key=value after a timestamp and the level;
``json``, one JSON object per line (what Loki, Elasticsearch or any log shipper ingests), with
the fields of a request line (``extra={"fields": {...}}``) as keys of their own.

Every formatted record is one line whatever it holds: in text, control characters (a ``%0A``
in a request path, a newline in a layer id, ANSI escapes, tracebacks' own newlines) are
written as ``\\xNN`` escapes, so no value can start a line of its own and pass for another
event; JSON escapes them itself.

The file is opened in append mode by every process of a node (gunicorn's workers, ``geoportal
worker``): no process rotates it (one rotating the file under the others' feet loses lines).
Rotation is the platform's: logrotate moves the file and the processes reopen it
(``WatchedFileHandler``), or journald / the container runtime keeps stderr.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["JsonFormatter", "OneLineFormatter", "configure_logging", "escape_control"]

_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s pid=%(process)d %(message)s"
# C0 controls, DEL, C1 controls and the Unicode line and paragraph separators (some viewers
# break lines there too) -> \xNN / \uNNNN.
_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7f, 0xa0))}
_ESCAPES |= {0x2028: "\\u2028", 0x2029: "\\u2029"}


def escape_control(text: str) -> str:
    """``text`` with every control character escaped (``\\n`` -> ``\\x0a``): one line."""
    return text.translate(_ESCAPES)


class OneLineFormatter(logging.Formatter):
    """A formatter whose output is always one line: message, arguments, exception and stack
    text are formatted first, then every control character in them is escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return escape_control(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``pid``,
    ``message``, the record's ``fields`` (a request line's duration, status, route...) as
    keys of their own, and ``exception`` (the traceback's text) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "pid": record.process,
            "message": record.getMessage()}
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update((k, v) for k, v in fields.items() if k not in out)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(level: str | int = "INFO", *, log_dir: Path | None = None,
                      stderr_level: str | int | None = None, fmt: str = "text") -> None:
    """Configure the root logger once per process; pygeoapi's own chatter is kept quiet.

    The log file (``log_dir/geoportal.log``) gets ``level``; stderr gets ``stderr_level``
    (default: the same), so a CLI can print only warnings while the file keeps everything.
    ``fmt`` is ``text`` (key=value) or ``json`` (one object per line).
    """
    root = logging.getLogger()
    root.setLevel(level if isinstance(level, int) else level.upper())
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else \
        OneLineFormatter(_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S%z")
    marker = "_geoportal_handler"
    for handler in list(root.handlers):
        if getattr(handler, marker, False):
            root.removeHandler(handler)
    handlers: list[logging.Handler] = []
    console = logging.StreamHandler()
    console.setLevel(stderr_level if stderr_level is not None else root.level)
    handlers.append(console)
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        # appended to by every process; reopened when logrotate moved it (see the docstring)
        handlers.append(logging.handlers.WatchedFileHandler(log_dir / "geoportal.log",
                                                            encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        setattr(handler, marker, True)
        root.addHandler(handler)
    # pygeoapi logs every 4xx with a traceback and warns about locales on each page; we log
    # each request (and every 5xx) ourselves.
    logging.getLogger("pygeoapi").setLevel(logging.CRITICAL)
