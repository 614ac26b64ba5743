"""Logging set-up for the entry points: one key=value line per event, to stderr and a file."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

__all__ = ["configure_logging"]

_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s pid=%(process)d %(message)s"


def configure_logging(level: str | int = "INFO", *, log_dir: Path | None = None,
                      stderr_level: str | int | None = None) -> None:
    """Configure the root logger once per process; pygeoapi's own chatter is kept quiet.

    The log file (``log_dir/geoportal.log``) gets ``level``; stderr gets ``stderr_level``
    (default: the same), so a CLI can print only warnings while the file keeps everything.
    """
    root = logging.getLogger()
    root.setLevel(level if isinstance(level, int) else level.upper())
    formatter = logging.Formatter(_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S%z")
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
