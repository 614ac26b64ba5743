"""Logging set-up for the entry points: one key=value line per event, to stderr and a file.

Every formatted record is one line whatever it holds: control characters (a ``%0A`` in a
request path, a newline in a layer id, ANSI escapes, tracebacks' own newlines) are written as
``\\xNN`` escapes, so no value can start a line of its own and pass for another event.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

__all__ = ["OneLineFormatter", "configure_logging", "escape_control"]

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


def configure_logging(level: str | int = "INFO", *, log_dir: Path | None = None,
                      stderr_level: str | int | None = None) -> None:
    """Configure the root logger once per process; pygeoapi's own chatter is kept quiet.

    The log file (``log_dir/geoportal.log``) gets ``level``; stderr gets ``stderr_level``
    (default: the same), so a CLI can print only warnings while the file keeps everything.
    """
    root = logging.getLogger()
    root.setLevel(level if isinstance(level, int) else level.upper())
    formatter = OneLineFormatter(_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S%z")
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
        handlers.append(logging.handlers.RotatingFileHandler(
            log_dir / "geoportal.log", maxBytes=20 << 20, backupCount=5, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        setattr(handler, marker, True)
        root.addHandler(handler)
    # pygeoapi logs every 4xx with a traceback and warns about locales on each page; we log
    # each request (and every 5xx) ourselves.
    logging.getLogger("pygeoapi").setLevel(logging.CRITICAL)
