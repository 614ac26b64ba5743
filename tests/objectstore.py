"""An S3-compatible server for tests: moto's ThreadedMotoServer on 127.0.0.1.

moto (PyPI ``moto[server]``) answers the S3 API the portal uses (put with multipart, ranged
and conditional get, head, list, bulk delete) from memory, accepts any key, and forgets
everything when it stops. It runs in the test process; every request it serves is recorded
(method, path, query, Range header, status) so a test can see what the portal asked of it.

Fixtures (registered in tests/conftest.py):
- ``s3`` (session): a ``MotoS3`` (a dict of the environment a portal needs: AWS_ENDPOINT_URL,
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ALLOW_HTTP and
  GEOPORTAL_OBJECT_STORE=s3://<bucket>/<unique prefix>), with ``requests``, ``endpoint``,
  ``bucket`` and ``fresh()`` (the same with another prefix, for a test of its own).
- ``s3_env`` (function): ``s3.fresh()``, a new empty prefix per test.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

__all__ = ["MotoS3", "S3Request", "s3", "s3_env"]

BUCKET = "geoportal-test"
ACCESS_KEY = "testing-key"
SECRET_KEY = "testing-secret-do-not-log"


@dataclass(frozen=True)
class S3Request:
    """One request the S3 server answered."""

    method: str
    path: str
    query: str
    range: str | None
    status: int


class _Recorder:
    """WSGI middleware around moto's app that appends every request to ``log``."""

    def __init__(self, app: Callable[..., Iterable[bytes]], log: list[S3Request],
                 lock: threading.Lock) -> None:
        self.app = app
        self.log = log
        self.lock = lock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        def record(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            entry = S3Request(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""),
                              environ.get("QUERY_STRING", ""), environ.get("HTTP_RANGE"),
                              int(status.split()[0]))
            with self.lock:
                self.log.append(entry)
            return start_response(status, headers, *exc)

        return self.app(environ, record)


def _server(log: list[S3Request], lock: threading.Lock) -> Any:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    class RecordingMotoServer(ThreadedMotoServer):
        """moto's threaded server with every request recorded (port 0: the OS picks)."""

        def _server_entry(self) -> None:
            app = _Recorder(DomainDispatcherApplication(create_backend_app), log, lock)
            self._server = make_server(self._ip_address, self._port, app, True,
                                       request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return RecordingMotoServer(ip_address="127.0.0.1", port=0, verbose=False)


class MotoS3(dict[str, str]):
    """The environment for a portal on the test S3 server, plus the server's request log."""

    def __init__(self, endpoint: str, bucket: str, prefix: str, requests: list[S3Request],
                 lock: threading.Lock) -> None:
        super().__init__({
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
            "GEOPORTAL_OBJECT_STORE": f"s3://{bucket}/{prefix}",
        })
        self.endpoint = endpoint
        self.bucket = bucket
        self.prefix = prefix
        self._requests = requests
        self._lock = lock

    @property
    def url(self) -> str:
        """The store's URL (GEOPORTAL_OBJECT_STORE)."""
        return self["GEOPORTAL_OBJECT_STORE"]

    @property
    def requests(self) -> list[S3Request]:
        """A copy of every request the server answered so far (all prefixes)."""
        with self._lock:
            return list(self._requests)

    def requests_for(self, fragment: str) -> list[S3Request]:
        """The requests whose path contains ``fragment`` (a key or this prefix)."""
        return [r for r in self.requests if fragment in r.path]

    def fresh(self) -> MotoS3:
        """The same server and bucket with a new, empty prefix."""
        return MotoS3(self.endpoint, self.bucket, f"t-{uuid.uuid4().hex[:10]}",
                      self._requests, self._lock)


@pytest.fixture(scope="session")
def s3() -> Iterator[MotoS3]:
    """moto's S3 server on 127.0.0.1 with one bucket, for the whole session."""
    import boto3

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    log: list[S3Request] = []
    lock = threading.Lock()
    server = _server(log, lock)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                     aws_secret_access_key=SECRET_KEY, region_name="us-east-1"
                     ).create_bucket(Bucket=BUCKET)
        yield MotoS3(endpoint, BUCKET, f"s-{uuid.uuid4().hex[:10]}", log, lock)
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3: MotoS3) -> MotoS3:
    """The test S3 server with a prefix of this test's own."""
    return s3.fresh()
