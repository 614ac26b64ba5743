"""A throwaway PostgreSQL + PostGIS cluster for the tests: initdb on a free port, one fresh
database per test (cloned from a template with PostGIS), torn down at the end. No Docker."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

# One choice of PostgreSQL's programs for the tests, the benchmarks and scripts/cluster.py
# (re-exported here: benchmarks/vertices.py imports it from this module).
from benchmarks.pgcluster import find_pg_bin

__all__ = ["LocalPostgres", "find_pg_bin", "require_pg_bin", "throwaway_cluster"]


def require_pg_bin() -> Path:
    """The PostgreSQL programs' folder, or skip the test where none is installed (fail
    instead with GEOPORTAL_REQUIRE_POSTGIS=1, as in CI)."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        if os.environ.get("GEOPORTAL_REQUIRE_POSTGIS") == "1":
            pytest.fail("PostgreSQL is required (GEOPORTAL_REQUIRE_POSTGIS=1) but not installed")
        pytest.skip("PostgreSQL/PostGIS is not installed (Debian: postgresql-15-postgis-3)")
    return bin_dir


class LocalPostgres:
    """A cluster in ``root`` listening on 127.0.0.1:``port``, trust authentication."""

    def __init__(self, root: Path, port: int, bin_dir: Path) -> None:
        self.root = root
        self.port = port
        self.bin = bin_dir
        self.data = root / "data"
        self.as_root = os.geteuid() == 0
        self.template = "geoportal_template"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C.UTF-8")
        self.resume()
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {self.template}")
        with psycopg.connect(self.url(self.template), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")

    def resume(self) -> None:
        """Start the server on its existing data folder (after ``halt``, or a replica's)."""
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-t", "60",
                  "-l", str(self.root / "postgres.log"), "start")

    def halt(self, mode: str = "fast") -> None:
        """Stop the server, keeping its data (``mode``: smart, fast or immediate)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def replica(self, root: Path, port: int) -> LocalPostgres:
        """A hot standby of this cluster in ``root`` on ``port``, streaming from it
        (``pg_basebackup -R -X stream``; initdb's pg_hba already trusts local replication)."""
        standby = LocalPostgres(root, port, self.bin)
        root.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(root, "postgres", "postgres")
        standby._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                     "-D", str(standby.data), "-R", "-X", "stream", "-c", "fast")
        standby.resume()
        return standby

    def stop(self) -> None:
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        """A fresh database with PostGIS; returns its URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        return self.url(name)


@contextlib.contextmanager
def throwaway_cluster(prefix: str, port: int) -> Iterator[LocalPostgres]:
    """A started cluster in a fresh temporary folder, stopped (unless a test already did)
    and removed afterwards; skips where PostgreSQL is not installed (``require_pg_bin``).
    Not under pytest's 0700 temporary folder: the server runs as the postgres user."""
    bin_dir = require_pg_bin()
    root = Path(tempfile.mkdtemp(prefix=prefix))
    cluster = LocalPostgres(root, port, bin_dir)
    try:
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # a test stopped it
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
