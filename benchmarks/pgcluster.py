"""A throwaway PostgreSQL 15 + PostGIS 3 cluster for the benchmark.

initdb/pg_ctl run as the ``postgres`` user (via ``runuser``) when we are root; the data dir and
the socket dir live in the bench dir, the server listens on 127.0.0.1 on a free port, trust auth.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))

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


def _as_postgres(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


class PgCluster:
    def __init__(self, base: Path, port: int, dbname: str = "bench") -> None:
        self.base = base
        self.datadir = base / "pgdata"
        self.sockdir = base / "pgsock"
        self.logfile = base / "postgres.log"
        self.port = port
        self.dbname = dbname
        self.running = False

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.dbname}"

    @property
    def ogr_dsn(self) -> str:
        return f"PG:host=127.0.0.1 port={self.port} dbname={self.dbname} user=postgres"

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    def init(self) -> None:
        if self.datadir.exists():
            shutil.rmtree(self.datadir)
        self.base.mkdir(parents=True, exist_ok=True)
        for d in (self.datadir, self.sockdir):
            d.mkdir(parents=True, exist_ok=True)
            self._chown(d)
        self.logfile.touch()
        self._chown(self.logfile)
        _as_postgres([str(PG_BIN / "initdb"), "-D", str(self.datadir), "-U", "postgres",
                      "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
        conf = self.datadir / "postgresql.conf"
        extra = {**TUNING, "port": str(self.port), "listen_addresses": "'127.0.0.1'",
                 "unix_socket_directories": f"'{self.sockdir}'"}
        with conf.open("a") as f:
            f.write("\n# benchmarks/pgcluster.py\n")
            for k, v in extra.items():
                f.write(f"{k} = {v}\n")

    def start(self) -> None:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.logfile),
                      "-w", "-t", "60", "start"])
        self.running = True

    def stop(self) -> None:
        if not self.running:
            return
        try:
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w",
                          "stop"])
        except subprocess.CalledProcessError as exc:
            print(f"warning: pg_ctl stop failed: {exc.stderr.strip()}")
        self.running = False

    def psql(self, sql: str, db: str | None = None) -> str:
        out = subprocess.run(
            ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-h", "127.0.0.1", "-p",
             str(self.port), "-U", "postgres", "-d", db or self.dbname, "-c", sql],
            check=True, text=True, capture_output=True)
        return out.stdout.strip()

    def create_db(self) -> None:
        self.psql(f"CREATE DATABASE {self.dbname}", db="postgres")
        self.psql("CREATE EXTENSION postgis")
