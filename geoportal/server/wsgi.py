"""Run the app under gunicorn (``geoportal serve``) or hand it to any WSGI server."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from geoportal.config import Settings, load_settings
from geoportal.server.app import create_app

__all__ = ["application", "run_gunicorn"]


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        options: dict[str, Any] = {
            "bind": f"{self.settings.host}:{self.settings.port}",
            "workers": self.settings.workers,
            "threads": self.settings.threads,
            "worker_class": "gthread" if self.settings.threads > 1 else "sync",
            "timeout": 120,
            "graceful_timeout": 10,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "geoportal",
            # the longest request line gunicorn allows (CQL2 filters with polygons are long);
            # beyond it the answer is 414 URI Too Long
            "limit_request_line": 8190,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Each worker builds its own app: its own catalog connections and pygeoapi API.
        return create_app(self.settings)


def run_gunicorn(settings: Settings) -> None:
    """Serve until interrupted."""
    _Gunicorn(settings).run()


def application(environ: dict[str, Any], start_response: Any) -> Any:
    """A WSGI entry point for other servers: ``gunicorn 'geoportal.server.wsgi:application'``."""
    global _app
    if _app is None:
        _app = create_app(load_settings())
    return _app(environ, start_response)


_app: Any = None
