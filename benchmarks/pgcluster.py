"""A throwaway PostgreSQL + PostGIS server: the one launcher of the benchmarks and of the
miniature cluster (``scripts/cluster.py``: a primary and its streaming replica).

initdb/pg_ctl run as the ``postgres`` user (via ``runuser``) when we are root, since PostgreSQL
refuses to run as root; the data folder and the socket folder live under ``base``, the server
listens on 127.0.0.1 on the given port only, trust authentication. The tests' own launcher is
tests/pg.py (one database per test, cloned from a template).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

__all__ = ["TUNING", "PgCluster", "PgError", "find_pg_bin"]

# Modest tuning for a benchmark on a small machine (2 cores, ~24 GB RAM); printed by the harness.
TUNING = {
    "shared_buffers": "1GB",
    "effective_cache_size": "8GB",
    "work_mem": "32MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "15min",
    "random_page_cost": "1.1",
    "effective_io_concurrency": "100",
    "jit": "off",
    "max_connections": "100",
    "max_parallel_workers_per_gather": "1",
    "log_min_duration_statement": "-1",
}


class PgError(RuntimeError):
    """A PostgreSQL tool failed; the message names it and carries its error output."""


def find_pg_bin() -> Path | None:
    """``$PG_BIN``, else the newest /usr/lib/postgresql/<version>/bin with initdb, else the
    folder of ``initdb`` on PATH; None when PostgreSQL is not installed. The one definition:
    tests/pg.py and scripts/cluster.py import it, so every launcher picks the same programs."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PgCluster:
    """One PostgreSQL server: data in ``base/pgdata``, socket in ``base/pgsock``, log in
    ``logfile`` (default ``base/postgres.log``), on 127.0.0.1:``port``.

    ``settings`` are appended to its postgresql.conf at ``init`` (default: ``TUNING``);
    ``replica()`` makes a hot standby of it with ``pg_basebackup``.
    """

    def __init__(self, base: Path, port: int, dbname: str = "bench", *,
                 settings: Mapping[str, str] | None = None, logfile: Path | None = None,
                 bin_dir: Path | None = None) -> None:
        self.base = Path(base)
        self.datadir = self.base / "pgdata"
        self.sockdir = self.base / "pgsock"
        self.logfile = logfile or self.base / "postgres.log"
        self.port = port
        self.dbname = dbname
        self.settings = dict(TUNING if settings is None else settings)
        bin_dir = bin_dir or find_pg_bin()
        if bin_dir is None:
            raise PgError("PostgreSQL is not installed (Debian: postgresql-15-postgis-3; "
                          "run scripts/install-system-deps as root)")
        self.bin = bin_dir
        self.as_root = os.geteuid() == 0
        self.running = False

    @property
    def url(self) -> str:
        return self.url_of(self.dbname)

    def url_of(self, dbname: str) -> str:
        """The URL of database ``dbname`` on this server, as the postgres superuser."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    @property
    def ogr_dsn(self) -> str:
        return f"PG:host=127.0.0.1 port={self.port} dbname={self.dbname} user=postgres"

    @property
    def pid(self) -> int:
        """The postmaster's PID (from its postmaster.pid)."""
        return int((self.datadir / "postmaster.pid").read_text().split()[0])

    def run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """PostgreSQL's ``tool`` (initdb, pg_ctl, pg_basebackup), as postgres when we are root."""
        command = [str(self.bin / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=180)
        if check and result.returncode != 0:
            raise PgError(f"{tool} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result

    def _own(self, path: Path, *, folder: bool = True) -> None:
        if folder:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        if self.as_root:
            shutil.chown(path, "postgres", "postgres")

    def _prepare(self) -> None:
        """Empty data folder, socket folder and log file, owned by postgres."""
        if self.datadir.exists():
            shutil.rmtree(self.datadir)
        self._own(self.base)
        self._own(self.sockdir)
        self._own(self.logfile, folder=False)

    def _configure(self, settings: Mapping[str, str]) -> None:
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# benchmarks/pgcluster.py\n")
            conf.writelines(f"{k} = {v}\n" for k, v in settings.items())

    def init(self) -> None:
        """initdb (UTF-8, C.UTF-8, trust) with ``settings``, this port and socket folder; local
        replication connections are trusted, so ``replica()`` needs nothing more."""
        self._prepare()
        self._own(self.datadir)
        self.run("initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust",
                 "-E", "UTF8", "--locale=C.UTF-8")
        self._configure({**self.settings, "port": str(self.port),
                         "listen_addresses": "'127.0.0.1'",
                         "unix_socket_directories": f"'{self.sockdir}'"})
        with (self.datadir / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")

    def replica(self, base: Path, port: int, *, logfile: Path | None = None) -> PgCluster:
        """A hot standby of this (running) server in ``base`` on ``port``, streaming from it
        (``pg_basebackup -R -X stream``; it copies this server's settings). Not started."""
        standby = PgCluster(base, port, self.dbname, settings=self.settings, logfile=logfile,
                            bin_dir=self.bin)
        standby._prepare()
        standby.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                    "-D", str(standby.datadir), "-R", "-X", "stream", "-c", "fast")
        standby._configure({"port": str(port),
                            "unix_socket_directories": f"'{standby.sockdir}'"})
        return standby

    def start(self) -> None:
        self.run("pg_ctl", "-D", str(self.datadir), "-l", str(self.logfile), "-w", "-t", "60",
                 "start")
        self.running = True

    def alive(self) -> bool:
        """Whether the server runs (``pg_ctl status``)."""
        return self.datadir.exists() and self.run("pg_ctl", "-D", str(self.datadir), "status",
                                                  check=False).returncode == 0

    def halt(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m mode`` (smart, fast, immediate) if it runs; its data is kept."""
        if self.alive():
            self.run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def stop(self) -> None:
        """Stop a server this object started; a failure is printed, not raised (clean-up)."""
        if not self.running:
            return
        try:
            self.halt("fast")
        except PgError as exc:
            print(f"warning: {exc}")
        self.running = False

    def psql(self, sql: str, db: str | None = None) -> str:
        out = subprocess.run(
            ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-h", "127.0.0.1", "-p",
             str(self.port), "-U", "postgres", "-d", db or self.dbname, "-c", sql],
            check=True, text=True, capture_output=True)
        return out.stdout.strip()

    def create_db(self) -> None:
        """Create ``dbname`` with PostGIS (a superuser's one-time step)."""
        self.psql(f"CREATE DATABASE {self.dbname}", db="postgres")
        self.psql("CREATE EXTENSION postgis")
