"""Persistent ``mapserv`` processes spoken to over FastCGI, one request at a time each.

A ``mapserv`` started per request spends 100-160 ms of CPU loading its libraries before it
draws anything (benchmarks/render_engines.py); kept running, the same program draws a z14
tile of 1,000,000 buildings in ~17 ms. Each server process keeps up to ``slots`` of them,
started on first use the way ``spawn-fcgi`` starts a FastCGI program (a listening socket as
its standard input; here an abstract Unix socket, so no file is left behind), and talks the
FastCGI protocol (a few records: begin, params, stdin; stdout back until end-request).

What a per-request process gave for free is kept: a request that runs past its deadline
kills its process (the next request starts a fresh one), a process that dies mid-answer is
replaced, every process has an address-space cap, dies with the thread that started it
(``setpriv --pdeathsig``: a killed server leaves no engine behind), and is replaced after
``MAX_REQUESTS`` answers, so no leak can grow without bound. Every request's whole
environment (the mapfile, a password, the CRS folder) travels in its FastCGI parameters:
``mapserv`` reads its environment from them.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import socket
import struct
import subprocess
import threading
import time
import uuid
from collections.abc import Mapping

__all__ = ["MAX_REQUESTS", "EngineProcess", "Pool"]

MAX_REQUESTS = 2000
_BEGIN, _END, _PARAMS, _STDIN, _STDOUT = 1, 3, 4, 5, 6
_RESPONDER, _KEEP_CONN = 1, 1
_CHUNK = 65535


def _record(kind: int, content: bytes) -> bytes:
    pad = -len(content) % 8
    return struct.pack(">BBHHBx", 1, kind, 1, len(content), pad) + content + b"\0" * pad


def _pair(name: str, value: str) -> bytes:
    out = b""
    for part in (name.encode(), value.encode()):
        size = len(part)
        out += struct.pack(">B", size) if size < 128 else struct.pack(">I", size | 0x80000000)
    return out + name.encode() + value.encode()


def _stream(kind: int, data: bytes) -> bytes:
    """``data`` as records of ``kind``, then the empty record that ends the stream."""
    chunks = [_record(kind, data[i:i + _CHUNK]) for i in range(0, len(data), _CHUNK)]
    return b"".join(chunks) + _record(kind, b"")


class EngineProcess:
    """One running ``mapserv`` in FastCGI mode and the kept-alive connection to it."""

    def __init__(self, binary: str, env: Mapping[str, str], cwd: str, memory_bytes: int
                 ) -> None:
        self.address = f"\0geoportal-mapserv-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.address)
        listener.listen(4)
        command = [binary]
        setpriv = shutil.which("setpriv")
        if setpriv:  # the engine dies with the thread that started it
            command = [setpriv, "--pdeathsig", "KILL", binary]
        try:
            self.proc = subprocess.Popen(command, stdin=listener.fileno(),
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                         env=dict(env), cwd=cwd, start_new_session=True)
        finally:
            listener.close()
        with contextlib.suppress(OSError, ValueError):
            resource.prlimit(self.proc.pid, resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        self.answered = 0
        self._conn: socket.socket | None = None

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def ask(self, params: Mapping[str, str], body: bytes, timeout_s: float) -> bytes:
        """The CGI output of one request; ``TimeoutError`` past ``timeout_s``, ``OSError`` or
        ``EOFError`` when the process is gone (the caller kills this one either way)."""
        deadline = time.monotonic() + timeout_s
        message = (_record(_BEGIN, struct.pack(">HB5x", _RESPONDER, _KEEP_CONN))
                   + _stream(_PARAMS, b"".join(_pair(k, v) for k, v in params.items()))
                   + _stream(_STDIN, body))
        if self._conn is None:
            self._conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._conn.settimeout(timeout_s)
            self._conn.connect(self.address)
        self._conn.settimeout(max(0.01, deadline - time.monotonic()))
        self._conn.sendall(message)
        out = self._read(self._conn, deadline)
        self.answered += 1
        return out

    @staticmethod
    def _read(conn: socket.socket, deadline: float) -> bytes:
        stdout = bytearray()
        pending = bytearray()
        while True:
            while len(pending) >= 8:
                _, kind, _, length, pad = struct.unpack(">BBHHBx", pending[:8])
                if len(pending) < 8 + length + pad:
                    break
                content = bytes(pending[8:8 + length])
                del pending[:8 + length + pad]
                if kind == _STDOUT:
                    stdout += content
                elif kind == _END:
                    return bytes(stdout)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the engine did not answer in time")
            conn.settimeout(left)
            chunk = conn.recv(1 << 16)
            if not chunk:
                raise EOFError("the engine closed the connection mid-answer")
            pending += chunk

    def kill(self) -> None:
        """Stop the process now (it may be drawing)."""
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
            self._conn = None
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 9)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


class Pool:
    """The idle engine processes of this server process (a forked worker starts afresh)."""

    def __init__(self) -> None:
        self._idle: list[EngineProcess] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def take(self) -> EngineProcess | None:
        """An idle live process, or None (the caller starts one)."""
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's processes are not ours
                self._idle, self._pid = [], os.getpid()
            while self._idle:
                found = self._idle.pop()
                if found.alive:
                    return found
                found.kill()
        return None

    def give(self, process: EngineProcess) -> None:
        """Back to the idle ones, or stopped when it is dead or has answered enough."""
        if not process.alive or process.answered >= MAX_REQUESTS:
            process.kill()
            return
        with self._lock:
            self._idle.append(process)

    def close(self) -> None:
        """Stop every idle process."""
        with self._lock:
            idle, self._idle = self._idle, []
        for process in idle:
            process.kill()
