#!/usr/bin/env python3
"""The production topology in miniature, on one machine (``make run-cluster``).

What runs, all on 127.0.0.1, each process started and stopped by its PID:

    HAProxy :5000 (roundrobin, health check GET /readyz, retries + redispatch)
      -> portal node a :5101, portal node b :5102   (``geoportal serve``, own data folders)
           -> PgBouncer (transaction mode): ``geoportal`` -> primary, ``geoportal_ro`` -> replica
                -> PostgreSQL 15 primary  --streaming replication-->  replica (pg_basebackup)
           -> S3-compatible object store (moto's server: an emulator, objects in memory)
      one ETL worker (``geoportal worker``): the job queue on the primary (direct, LISTEN/NOTIFY)

Each ``up`` starts from an empty folder: the emulator keeps objects in memory only, so the
catalog and the objects are rebuilt together (``geoportal init``, ``geoportal ingest layers/``).

Importable (the cluster tests use it): ``Cluster(root, port).up()`` / ``.down()`` and methods to
stop, start or kill each part. Command line::

    python scripts/cluster.py up [--port 5000] [--dir var/cluster] [--detach]
    python scripts/cluster.py status [--dir var/cluster]
    python scripts/cluster.py down [--dir var/cluster]

Uses the standard library, psycopg (the portal's own dependencies) and the repository's one
PostgreSQL launcher, benchmarks/pgcluster.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: the launcher from the repository
    sys.path.insert(0, str(REPO))

from benchmarks.pgcluster import PgCluster, PgError  # noqa: E402
from benchmarks.pgcluster import find_pg_bin as _find_pg_bin  # noqa: E402

BUCKET = "geoportal"
OBJECT_PREFIX = "portal"
DATABASE = "geoportal"
STATE_FILE = "cluster.json"
NODES = ("a", "b")
PG_SETTINGS = {  # the primary's replication settings; the replica gets a copy
    "wal_level": "replica",
    "max_wal_senders": "4",
    "max_replication_slots": "4",
    "hot_standby": "on",
    "hot_standby_feedback": "on",  # replica reads are not cancelled by the primary's vacuum
    "max_connections": "200",
    "fsync": "off",  # a throwaway miniature: speed over durability
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


class ClusterError(RuntimeError):
    """A part of the miniature cluster did not start or stop; the message names it and its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_pg_bin() -> Path:
    """PostgreSQL's bin folder (benchmarks/pgcluster.py's choice: ``$PG_BIN``, else the newest
    installed); ClusterError when PostgreSQL is not installed."""
    found = _find_pg_bin()
    if found is None:
        raise ClusterError("PostgreSQL is not installed (Debian: postgresql-15-postgis-3; "
                           "run scripts/install-system-deps as root)")
    return found


def _tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists()
                                  else None)
    if path is None:
        raise ClusterError(f"{name} is not installed (Debian package {name}; run "
                           "scripts/install-system-deps as root)")
    return path


@dataclass
class Ports:
    """Every port of the cluster; ``Ports.pick(lb)`` chooses free ones around the balancer's."""

    lb: int = 5000
    node_a: int = 5101
    node_b: int = 5102
    primary: int = 55432
    replica: int = 55433
    pgbouncer: int = 56432
    s3: int = 59000

    @classmethod
    def pick(cls, lb: int) -> Ports:
        """The balancer on ``lb``, every other part on a free port."""
        return cls(lb=lb, node_a=free_port(), node_b=free_port(), primary=free_port(),
                   replica=free_port(), pgbouncer=free_port(), s3=free_port())

    def node(self, name: str) -> int:
        return getattr(self, f"node_{name}")


@dataclass
class Part:
    """One running process: what it is, its PID, where it listens and logs."""

    name: str
    pid: int
    port: int | None
    log: str
    group: bool = True  # started in a session of its own: stopped with its children


@dataclass
class Cluster:
    """The miniature topology in ``root`` (created; emptied at ``up``)."""

    root: Path
    port: int = 5000
    ports: Ports | None = None
    layers: list[Path] = field(default_factory=lambda: [REPO / "layers"])
    workers: int = 1  # ETL workers (``geoportal worker`` processes)
    node_workers: int = 1
    node_threads: int = 8
    health_path: str = "/readyz"
    bouncer: bool = True  # False: the portal connects to the primary and replica directly
    python: str = sys.executable
    say: Callable[[str], None] = print
    parts: dict[str, Part] = field(default_factory=dict)
    _procs: dict[str, subprocess.Popen] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        if self.ports is None:
            self.ports = Ports(lb=self.port)
        self.port = self.ports.lb
        self.pg_bin = find_pg_bin()
        self.as_root = os.geteuid() == 0

    # -- addresses -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The load balancer: what users reach."""
        return f"http://127.0.0.1:{self.ports.lb}"

    def node_url(self, name: str) -> str:
        """One portal node directly, bypassing the balancer."""
        return f"http://127.0.0.1:{self.ports.node(name)}"

    @property
    def primary_url(self) -> str:
        return self.postgres("primary").url

    @property
    def replica_url(self) -> str:
        return self.postgres("replica").url

    @property
    def s3_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.s3}"

    def env(self, data_dir: Path) -> dict[str, str]:
        """The environment of every portal process (nodes, worker, CLI): PgBouncer for the
        catalog and store (``geoportal`` -> primary, ``geoportal_ro`` -> replica), the primary
        directly for the job queue (LISTEN/NOTIFY does not pass transaction pooling), the
        object store in the emulator."""
        if self.bouncer:
            bouncer = f"postgresql://postgres@127.0.0.1:{self.ports.pgbouncer}"
            write, read = f"{bouncer}/{DATABASE}", f"{bouncer}/{DATABASE}_ro"
        else:
            write, read = self.primary_url, self.replica_url
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("GEOPORTAL_", "AWS_"))},
            "GEOPORTAL_DATA_DIR": str(data_dir),
            "GEOPORTAL_CONFIG_DIR": str(REPO / "config"),
            "GEOPORTAL_LAYERS_DIR": str(REPO / "layers"),
            "GEOPORTAL_BASE_URL": self.url,
            "GEOPORTAL_DATABASE_URL": write,
            "GEOPORTAL_DATABASE_READ_URL": read,
            "GEOPORTAL_QUEUE_DATABASE_URL": self.primary_url,
            "GEOPORTAL_OBJECT_STORE": f"s3://{BUCKET}/{OBJECT_PREFIX}",
            "GEOPORTAL_WORKER_TIER": "1",
            "AWS_ENDPOINT_URL": self.s3_url,
            "AWS_ACCESS_KEY_ID": "cluster",
            "AWS_SECRET_ACCESS_KEY": "cluster-secret",
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }

    # -- the whole ---------------------------------------------------------------------------

    def up(self) -> None:
        """Start every part from an empty folder, load the layers, and wait until the balancer
        answers ``/collections``. Anything that fails stops what was started."""
        state = self.root / STATE_FILE
        if state.exists():
            raise ClusterError(f"a cluster may still run from {self.root} (see {state}): run "
                               f"'python scripts/cluster.py down --dir {self.root}' first")
        for part, port in asdict(self.ports).items():
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    raise ClusterError(f"port {port} ({part}) is in use on 127.0.0.1: stop what "
                                       "listens there, or choose another --port")
        if self.root.exists():
            shutil.rmtree(self.root)
        (self.root / "logs").mkdir(parents=True)
        self.root.chmod(0o755)  # PostgreSQL and PgBouncer run as the postgres user
        try:
            self.start_primary(create=True)
            self.start_replica(create=True)
            self.start_pgbouncer()
            self.start_s3()
            self.load()
            for name in NODES:
                self.start_node(name)
            for number in range(1, self.workers + 1):
                self.start_worker(f"worker-{number}")
            self.start_haproxy()
            self.wait_ready()
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        """Stop every part (balancer first, databases last); safe to call twice."""
        self._load_state()
        order = ["haproxy", *self.worker_names(),
                 *[f"node-{n}" for n in NODES], "s3", "pgbouncer"]
        for name in order:
            self.stop(name)
        for name in ("replica", "primary"):
            self.postgres(name).halt("fast")
            self.parts.pop(name, None)
        (self.root / STATE_FILE).unlink(missing_ok=True)

    def ensure_running(self) -> None:
        """Restart whatever a test stopped or killed, and make the primary writable again."""
        if not self.postgres("primary").alive():
            self.start_primary()
        self.set_primary_read_only(False)
        if not self.postgres("replica").alive():
            self.start_replica()
        for name in ("pgbouncer", "s3"):
            if not self.alive(name):
                getattr(self, f"start_{name}")()
        for name in NODES:
            if not self.alive(f"node-{name}"):
                self.stop(f"node-{name}")
                self.start_node(name)
        for worker in self.worker_names():
            if not self.alive(worker):
                self.stop(worker)
        if self.workers and not self.worker_names():
            self.start_worker("worker-1")
        if not self.alive("haproxy"):
            self.start_haproxy()
        self.wait_ready()

    def status(self) -> list[dict[str, object]]:
        """Each part: name, PID, port, log, and whether it still runs."""
        self._load_state()
        rows = []
        for part in self.parts.values():
            alive = (self.postgres(part.name).alive() if part.name in ("primary", "replica")
                     else self.alive(part.name))
            rows.append({**asdict(part), "alive": alive})
        return rows

    def describe(self) -> str:
        """What runs where, for the operator."""
        self._load_state()
        lines = [f"geoportal cluster in {self.root}:", f"  portal (HAProxy)  {self.url}/"]
        for row in self.status():
            port = f"127.0.0.1:{row['port']}" if row["port"] else ""
            state = "" if row["alive"] else "  (not running)"
            lines.append(f"  {row['name']:<10} pid {row['pid']:<8} {port:<16} log "
                         f"{row['log']}{state}")
        lines.append(f"  databases: {self.primary_url} (primary), {self.replica_url} "
                     f"(replica); PgBouncer 127.0.0.1:{self.ports.pgbouncer}")
        lines.append(f"  objects:   s3://{BUCKET}/{OBJECT_PREFIX} at {self.s3_url} (moto "
                     "emulator, in memory)")
        return "\n".join(lines)

    def wait_ready(self, timeout: float = 120) -> None:
        """Until the balancer answers ``/collections`` with 200."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/collections?f=json", timeout=10) as r:
                    if r.status == 200:
                        return
                    last = f"HTTP {r.status}"
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.3)
        raise ClusterError(f"the balancer {self.url} did not answer /collections within "
                           f"{timeout:.0f} s ({last}); see the logs in {self.root / 'logs'}")

    # -- PostgreSQL --------------------------------------------------------------------------

    def postgres(self, name: str) -> PgCluster:
        """The ``primary`` or the ``replica`` server (benchmarks/pgcluster.py): data in
        ``pg/<name>/pgdata``, log in ``logs/postgres-<name>.log``."""
        port = self.ports.primary if name == "primary" else self.ports.replica
        return PgCluster(self.root / "pg" / name, port, DATABASE, settings=PG_SETTINGS,
                         logfile=self.root / "logs" / f"postgres-{name}.log",
                         bin_dir=self.pg_bin)

    def _own(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(path, "postgres", "postgres")

    def start_primary(self, *, create: bool = False) -> None:
        """initdb (with ``create``) and start the primary; create the portal's database with
        PostGIS (a superuser's one-time step, as on real machines)."""
        primary = self.postgres("primary")
        if create:
            primary.init()
        self._pg_start(primary, "primary")
        if create:
            primary.create_db()

    def start_replica(self, *, create: bool = False) -> None:
        """A streaming replica of the primary: ``pg_basebackup -R -X stream`` (with
        ``create``), its own port, then started."""
        replica = self.postgres("replica")
        if create:
            replica = self.postgres("primary").replica(replica.base, replica.port,
                                                       logfile=replica.logfile)
        self._pg_start(replica, "replica")

    def _admin_url(self, name: str) -> str:
        return self.postgres(name).url_of("postgres")

    def _pg_start(self, server: PgCluster, name: str) -> None:
        server.start()
        self.parts[name] = Part(name, server.pid, server.port, str(server.logfile),
                                group=False)
        self._save_state()

    def stop_primary(self, mode: str = "fast") -> None:
        """Stop the primary (``pg_ctl stop -m fast``: connections are cut, as in a restart);
        ``start_primary()`` brings it back with its data."""
        self.postgres("primary").halt(mode)

    def stop_replica(self, mode: str = "fast") -> None:
        self.postgres("replica").halt(mode)

    def set_primary_read_only(self, on: bool = True) -> None:
        """``default_transaction_read_only`` on the primary (ALTER SYSTEM + reload): every
        new transaction there refuses writes, as during a fail-over."""
        with psycopg.connect(self._admin_url("primary"), autocommit=True) as conn:
            conn.execute("SET default_transaction_read_only = off")
            if on:
                conn.execute("ALTER SYSTEM SET default_transaction_read_only = on")
            else:
                conn.execute("ALTER SYSTEM RESET default_transaction_read_only")
            conn.execute("SELECT pg_reload_conf()")

    def sql(self, query: str, params: tuple = (), *, replica: bool = False) -> list[tuple]:
        """Rows of one query on the portal's database, directly on the primary (or replica)."""
        with psycopg.connect(self.replica_url if replica else self.primary_url,
                             autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    # -- PgBouncer, object store, balancer ----------------------------------------------------

    def start_pgbouncer(self) -> None:
        """PgBouncer in transaction mode: ``geoportal`` -> primary, ``geoportal_ro`` ->
        replica. No prepared statements (1.18), so the portal turns psycopg's off."""
        folder = self.root / "pgbouncer"
        self._own(folder)
        (folder / "userlist.txt").write_text('"postgres" ""\n')
        log = self.root / "logs" / "pgbouncer.log"
        (folder / "pgbouncer.ini").write_text(f"""\
[databases]
{DATABASE} = host=127.0.0.1 port={self.ports.primary} dbname={DATABASE}
{DATABASE}_ro = host=127.0.0.1 port={self.ports.replica} dbname={DATABASE}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.ports.pgbouncer}
unix_socket_dir =
auth_type = trust
auth_file = {folder / 'userlist.txt'}
admin_users = postgres
pool_mode = transaction
default_pool_size = 20
reserve_pool_size = 5
max_client_conn = 2000
server_reset_query =
server_check_query = select 1
server_check_delay = 10
server_connect_timeout = 3
server_login_retry = 1
query_wait_timeout = 3
ignore_startup_parameters = extra_float_digits
""")
        command = [_tool("pgbouncer"), str(folder / "pgbouncer.ini")]
        if self.as_root:  # PgBouncer refuses to run as root
            command[1:1] = ["-u", "postgres"]
        self._spawn("pgbouncer", command, self.ports.pgbouncer, log, env=dict(os.environ))

    def start_s3(self) -> None:
        """moto's S3 server (an emulator: objects in memory) and the portal's bucket."""
        moto = Path(self.python).parent / "moto_server"
        command = ([str(moto)] if moto.exists() else [self.python, "-m", "moto.server"])
        self._spawn("s3", [*command, "-H", "127.0.0.1", "-p", str(self.ports.s3)],
                    self.ports.s3, self.root / "logs" / "s3.log", env=dict(os.environ))
        request = urllib.request.Request(f"{self.s3_url}/{BUCKET}", method="PUT")
        with urllib.request.urlopen(request, timeout=30) as r:  # one S3 CreateBucket call
            if r.status != 200:
                raise ClusterError(f"the object store did not create bucket {BUCKET}: "
                                   f"HTTP {r.status}")

    def start_haproxy(self) -> None:
        """HAProxy on the cluster's port: roundrobin over the ready nodes (``option
        httpchk`` on ``health_path``), failed connections and empty answers of GETs retried on
        the other node. When no node is ready (the shared database is down: every /readyz
        fails at once), it falls back to the nodes that are alive (/healthz), which still
        answer what they hold in memory and give data requests their own 503 + Retry-After,
        rather than HAProxy's bare 503 for everything."""
        folder = self.root / "haproxy"
        folder.mkdir(exist_ok=True)
        servers = "\n".join(f"  server {n} 127.0.0.1:{self.ports.node(n)} check"
                            for n in NODES)
        (folder / "haproxy.cfg").write_text(f"""\
global
  maxconn 2000
  log stdout format raw local0

defaults
  mode http
  log global
  option httplog
  option forwardfor
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout check 2s
  retries 2
  option redispatch 1
  retry-on conn-failure empty-response response-timeout

frontend www
  bind 127.0.0.1:{self.ports.lb}
  use_backend portal_alive if {{ nbsrv(portal) eq 0 }}
  default_backend portal

backend portal
  balance roundrobin
  http-request disable-l7-retry unless METH_GET
  option httpchk GET {self.health_path}
  http-check expect status 200
  default-server inter 1s fall 2 rise 2
{servers}

backend portal_alive
  balance roundrobin
  http-request disable-l7-retry unless METH_GET
  option httpchk GET /healthz
  http-check expect status 200
  default-server inter 1s fall 2 rise 2
{servers}
""")
        haproxy = _tool("haproxy")
        check = subprocess.run([haproxy, "-c", "-q", "-f", str(folder / "haproxy.cfg")],
                               capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise ClusterError(f"haproxy.cfg is invalid: {check.stderr.strip()}")
        self._spawn("haproxy", [haproxy, "-db", "-f", str(folder / "haproxy.cfg")],
                    self.ports.lb, self.root / "logs" / "haproxy.log", env=dict(os.environ))

    # -- the portal ----------------------------------------------------------------------------

    def cli(self, *args: str, data_dir: Path | None = None, check: bool = True,
            direct: bool = False, timeout: float = 600) -> subprocess.CompletedProcess:
        """The real ``geoportal`` command with the cluster's settings (``direct``: on the
        primary itself, not through PgBouncer, as schema changes should be)."""
        env = self.env(data_dir or self.root / "admin")
        if direct:
            env["GEOPORTAL_DATABASE_URL"] = self.primary_url
        result = subprocess.run([self.python, "-m", "geoportal", *args], env=env,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise ClusterError(f"geoportal {' '.join(args)} failed:\n{result.stderr.strip()}")
        return result

    def load(self) -> None:
        """``geoportal init`` on the primary, then ingest ``layers`` into the store and
        the object store, as an operator would before starting the nodes."""
        self.say("cluster: geoportal init")
        self.cli("init", direct=True)
        for path in self.layers:
            self.say(f"cluster: geoportal ingest {path}")
            self.cli("ingest", "--no-progress", str(path))

    def start_node(self, name: str) -> None:
        """Portal node ``name`` (``geoportal serve``) on its port, with its own data folder."""
        data_dir = self.root / f"node-{name}"
        port = self.ports.node(name)
        self._spawn(f"node-{name}", [
            self.python, "-m", "geoportal", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(self.node_workers), "--threads", str(self.node_threads)],
            port, self.root / "logs" / f"node-{name}.log", env=self.env(data_dir))
        self._wait_http(f"node-{name}", f"{self.node_url(name)}/conformance")

    def worker_names(self) -> list[str]:
        """The ETL workers started (alive or not), e.g. ``["worker-1"]``."""
        return [name for name in self.parts if name.startswith("worker")]

    def start_worker(self, name: str = "worker-1") -> None:
        """One ETL worker (``geoportal worker``) with its own data folder."""
        self._spawn(name, [self.python, "-m", "geoportal", "worker"], None,
                    self.root / "logs" / f"{name}.log", env=self.env(self.root / name))
        time.sleep(1.0)
        if not self.alive(name):
            raise ClusterError(f"{name} ('geoportal worker') exited at once: see "
                               f"{self.root / 'logs' / f'{name}.log'}")

    # -- processes -----------------------------------------------------------------------------

    def _spawn(self, name: str, command: list[str], port: int | None, log: Path,
               env: dict[str, str]) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self._procs[name] = proc
        self.parts[name] = Part(name, proc.pid, port, str(log))
        self._save_state()
        if port is not None:
            self._wait_port(name, port)

    def _wait_port(self, name: str, port: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive(name):
                raise ClusterError(f"{name} exited: see {self.parts[name].log}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.1)
        raise ClusterError(f"{name} did not listen on 127.0.0.1:{port} within {timeout:.0f} s:"
                           f" see {self.parts[name].log}")

    def _wait_http(self, name: str, url: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive(name):
                raise ClusterError(f"{name} exited: see {self.parts[name].log}")
            try:
                with urllib.request.urlopen(url, timeout=10):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.2)
        raise ClusterError(f"{name} did not answer {url} within {timeout:.0f} s: see "
                           f"{self.parts[name].log}")

    def alive(self, name: str) -> bool:
        """Whether part ``name`` (not PostgreSQL) still runs."""
        part = self.parts.get(name)
        if part is None:
            return False
        proc = self._procs.get(name)
        if proc is not None:
            return proc.poll() is None
        try:  # started by another `cluster.py` process: its PID, if not reused
            return Path(f"/proc/{part.pid}").exists() and \
                os.getsid(part.pid) == part.pid
        except OSError:
            return False

    def send_signal(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to part ``name`` and its children (its process group, whose id is the
        part's PID): SIGKILL is a machine or a process dying mid-request."""
        with contextlib.suppress(ProcessLookupError, KeyError):
            os.killpg(self.parts[name].pid, sig)

    def kill(self, name: str) -> None:
        """SIGKILL part ``name`` (e.g. ``node-a``, ``worker-1``) and wait until it is gone."""
        self.send_signal(name, signal.SIGKILL)
        self._wait_dead(name, 10)

    def stop(self, name: str, timeout: float = 20) -> None:
        """SIGTERM part ``name``'s process group, SIGKILL after ``timeout``; forget it."""
        if name not in self.parts:
            return
        self.send_signal(name, signal.SIGTERM)
        if not self._wait_dead(name, timeout):
            self.send_signal(name, signal.SIGKILL)
            self._wait_dead(name, 10)
        self._procs.pop(name, None)
        self.parts.pop(name, None)
        self._save_state()

    def _wait_dead(self, name: str, timeout: float) -> bool:
        """Until no process of the part's group is left (the leader reaped if it is ours)."""
        pid = self.parts[name].pid
        proc = self._procs.get(name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc is not None:
                proc.poll()
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.1)
        return False

    def _save_state(self) -> None:
        if self.root.exists():
            state = {"ports": asdict(self.ports),
                     "parts": {n: asdict(p) for n, p in self.parts.items()}}
            (self.root / STATE_FILE).write_text(json.dumps(state, indent=2))

    def _load_state(self) -> None:
        path = self.root / STATE_FILE
        if self.parts or not path.exists():
            return
        state = json.loads(path.read_text())
        self.ports = Ports(**state["ports"])
        self.parts = {n: Part(**p) for n, p in state["parts"].items()}


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGINT (Ctrl-C, even when started in the background, where SIGINT is
    ignored) raise KeyboardInterrupt while the cluster runs in the foreground."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt
    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--port", type=int, default=5000, help="HAProxy's port [5000]")
    parser.add_argument("--dir", type=Path, default=REPO / "var" / "cluster",
                        help="the cluster's folder [var/cluster]")
    parser.add_argument("--detach", action="store_true",
                        help="'up' returns once the cluster runs ('down' stops it)")
    args = parser.parse_args(argv)
    cluster = Cluster(args.dir, args.port)
    try:
        if args.command == "down":
            cluster.down()
            print(f"cluster in {cluster.root} stopped")
        elif args.command == "status":
            if not (cluster.root / STATE_FILE).exists():
                print(f"no cluster runs from {cluster.root}")
                return 1
            print(cluster.describe())
        else:
            with _stop_on_signals():
                cluster.up()
                print(cluster.describe())
                if args.detach:
                    print(f"stop it with: python scripts/cluster.py down --dir {cluster.root}")
                    return 0
                print("Ctrl-C stops every part.")
                try:
                    while True:
                        time.sleep(1)
                except KeyboardInterrupt:
                    print("\nstopping the cluster ...")
                finally:
                    for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C: keep stopping
                        signal.signal(sig, signal.SIG_IGN)
                    cluster.down()
    except (ClusterError, PgError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; stopped what had started", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
