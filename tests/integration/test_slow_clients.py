"""Slow clients against the real server (`geoportal serve`, its PortalWorker): connections that
trickle their headers or body hold no thread and are cut; gunicorn's own refusals (414, 431,
400) are OGC JSON like every other error."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import LAYERS_DIR, Portal

HEADER_TIMEOUT_S = 4  # long beside an ordinary answer: the other client is served first
BODY_TIMEOUT_S = 2


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """The portal (2 workers, default threads) with short header and body timeouts."""
    server = Portal(tmp_path_factory.mktemp("slow") / "var")
    server.env["GEOPORTAL_HEADER_TIMEOUT_S"] = str(HEADER_TIMEOUT_S)
    server.env["GEOPORTAL_BODY_TIMEOUT_S"] = str(BODY_TIMEOUT_S)
    server.cli("init")
    server.cli("ingest", str(LAYERS_DIR / "by" / "cities.yaml"))
    server.start()
    yield server
    server.stop()


def _raw(portal: Portal, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` as is on a new connection; the answer's status, headers and body."""
    with socket.create_connection(("127.0.0.1", portal.port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


LINES = 30  # header lines a loris sends unless the server cuts it first


class Slowloris(threading.Thread):
    """A connection that sends a request line, then one header line every ``period`` s (at
    most LINES), and never ends its headers; records that the server cut it (``cut``), how
    many lines it had sent by then and what the server answered."""

    def __init__(self, port: int, period: float) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.period = period
        self.cut: bool | None = None  # None while it still holds its connection
        self.lines = 0
        self.answer = b""

    def run(self) -> None:
        try:
            self.sock.sendall(b"GET /collections HTTP/1.1\r\nHost: portal\r\n")
            for n in range(LINES):
                time.sleep(self.period)
                self.sock.sendall(f"X-Slow-{n}: still here\r\n".encode())
                self.lines += 1
                self.sock.setblocking(False)
                try:  # the server answers (408) and closes when it cuts us
                    self.answer += self.sock.recv(4096)
                    break
                except BlockingIOError:
                    pass
                finally:
                    self.sock.setblocking(True)
        except OSError:
            pass
        self.cut = self.lines < LINES  # the server ended it before it ran out of lines
        self.sock.close()


class KeptAliveLoris(Slowloris):
    """A kept-alive connection that sends one whole request, reads its answer, then trickles
    the head of the next one (a header line every ``period`` s)."""

    def run(self) -> None:
        try:
            self.sock.sendall(b"GET /conformance HTTP/1.1\r\nHost: portal\r\n\r\n")
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += self.sock.recv(65536)
            head, _, body = answer.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:")))
            while len(body) < length:
                body += self.sock.recv(65536)
            assert b" 200 " in head.split(b"\r\n")[0] and b"close" not in head.lower()
        except (OSError, AssertionError, StopIteration):
            self.cut = False  # the first request failed: the test reports it
            self.sock.close()
            return
        super().run()


def _answered_beside(slow, lorises: list) -> list[int]:
    """Start ``lorises``, then GET /collections four times as another client; for each
    answer, how many lorises still held their connections when it came; then wait for them.

    Whether another client is delayed is told by order, not by a stopwatch: were the lorises
    holding the server's threads, the other client would be served only once the header
    timeout had cut some of them."""
    for loris in lorises:
        loris.start()
    time.sleep(0.5)
    holding = []
    for _ in range(4):
        assert requests.get(f"{slow.url}/collections", timeout=30).status_code == 200
        holding.append(sum(loris.cut is None for loris in lorises))
        time.sleep(0.3)
    for loris in lorises:
        loris.join(timeout=HEADER_TIMEOUT_S + 10 + LINES)
    return holding


@pytest.mark.parametrize("connections", [2, 40])
def test_slowloris_connections_do_not_delay_another_client_and_are_cut(slow, connections):
    # 40 is more than the 2 workers x 8 threads: a trickling head must hold no thread at all
    lorises = [Slowloris(slow.port, period=1.0) for _ in range(connections)]
    holding = _answered_beside(slow, lorises)
    assert holding[0] == connections, holding
    assert all(loris.cut for loris in lorises), [loris.lines for loris in lorises]
    assert all(b" 408 " in loris.answer.split(b"\r\n")[0] for loris in lorises
               if loris.answer)


def test_kept_alive_connections_trickling_their_next_request_do_not_delay_another_client(
        slow):
    # each sends a whole request, then the next one's head a line a second, on the same
    # connection: 40 of them, more than the 2 workers x 8 threads. Every request's head (not
    # only a connection's first) is read by the worker's event loop, never in a thread.
    lorises = [KeptAliveLoris(slow.port, period=1.0) for _ in range(40)]
    holding = _answered_beside(slow, lorises)
    assert holding[0] == 40, holding
    assert all(loris.cut for loris in lorises), [(loris.cut, loris.lines) for loris in lorises]


def test_a_slowloris_sending_a_line_every_few_seconds_is_cut_after_the_header_timeout(slow):
    loris = Slowloris(slow.port, period=HEADER_TIMEOUT_S * 0.75)
    loris.start()
    assert requests.get(f"{slow.url}/collections", timeout=30).status_code == 200
    assert loris.cut is None  # answered while the loris still trickles
    loris.join(timeout=HEADER_TIMEOUT_S * 0.75 * LINES + 30)
    # cut by the server for its whole head taking too long, though each line came in time
    assert loris.cut, loris.lines


def test_a_request_line_over_the_limit_is_a_414_in_json(slow):
    status, headers, body = _raw(slow, f"GET /collections/cities/items?filter={'a' * 9000} "
                                       "HTTP/1.1\r\nHost: portal\r\n\r\n".encode())
    assert status == 414
    assert headers["content-type"] == "application/json"
    doc = json.loads(body)
    assert doc["code"] == "URITooLong" and "8190 bytes" in doc["description"]


@pytest.mark.parametrize("headers", [
    "".join(f"X-Many-{n}: v\r\n" for n in range(120)),  # over limit_request_fields (100)
    f"X-Long: {'v' * 9000}\r\n",  # over limit_request_field_size (8190)
], ids=["too-many", "too-long"])
def test_too_many_or_too_long_headers_are_a_431_in_json(slow, headers):
    status, answer_headers, body = _raw(
        slow, f"GET /collections HTTP/1.1\r\nHost: portal\r\n{headers}\r\n".encode())
    assert status == 431
    assert answer_headers["content-type"] == "application/json"
    assert b'"RequestHeaderFieldsTooLarge"' in body and b"<html" not in body


def test_malformed_http_is_a_400_in_json(slow):
    status, headers, body = _raw(slow, b"NOT HTTP AT ALL\r\n\r\n")
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert b'"BadRequest"' in body


def test_a_request_body_that_stops_arriving_is_a_408(slow):
    secret = slow.cli("token", "create", "--name", "slow-uploader", "--role", "admin"
                      ).stdout.strip()
    head = (f"POST /admin/layers HTTP/1.1\r\nHost: portal\r\nAuthorization: Bearer {secret}\r\n"
            "Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 100000\r\n\r\n"
            "--xyz\r\nContent-Disposition: form-data; name=\"manifest\"\r\n\r\nid: a\r\n")
    # the socket's timeout guards against a hang: the server must end the wait itself
    with socket.create_connection(("127.0.0.1", slow.port), timeout=BODY_TIMEOUT_S * 5) as s:
        s.sendall(head.encode())  # ... and then nothing
        answer = s.recv(65536)
        while b'"description"' not in answer and (more := s.recv(65536)):
            answer += more
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"RequestTimeout"' in answer
    # and the server still answers everyone else
    assert requests.get(f"{slow.url}/collections", timeout=30).status_code == 200
