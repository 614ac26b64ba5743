"""Portal settings: ``config/portal.yaml`` overridden by ``GEOPORTAL_*`` environment variables.

One typed object is built at each entry point (CLI, WSGI app, tests) and passed down; nothing
reads the environment at import time.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

__all__ = ["Settings", "frame_ancestors", "load_settings"]

DEFAULT_CONFIG_FILE = Path("config/portal.yaml")


class Settings(BaseSettings):
    """Everything the portal needs to know about where it runs.

    Relative paths are resolved against the current directory when the settings are built,
    so a server started from the repository root and a test with absolute paths agree.
    """

    model_config = SettingsConfigDict(env_prefix="GEOPORTAL_", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Where the store, catalog and logs live.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the catalog; default: SQLite in data_dir."
    )
    config_dir: Path = Field(Path("config"), description="regions.yaml, themes.yaml, crs.yaml.")
    layers_dir: Path = Field(Path("layers"), description="Layer manifests loaded by `make run`.")
    host: str = "127.0.0.1"
    port: int = 5000
    base_url: str | None = Field(None, description="Public URL; default http://host:port.")
    workers: int = Field(2, ge=1, description="gunicorn worker processes for `geoportal serve`.")
    threads: int = Field(8, ge=1, le=64, description=(
        "Threads per worker (geoportal's gthread worker): requests that wait on PostgreSQL, "
        "the disk or a slow client overlap."))
    title: str = "Geoportal of Belarus"
    # -- who runs the portal: pygeoapi's contact metadata, the pages' footer (issue 19) ------
    contact_name: str | None = Field(
        None, description="The operator people can write to (an organisation or a service "
                          "desk), shown in the footer and the server's metadata; empty: left "
                          "out, never a placeholder.")
    contact_email: str | None = Field(
        None, description="The operator's e-mail address (footer, metadata); empty: left out.")
    contact_url: str | None = Field(
        None, description="The operator's web page (footer, metadata); empty: left out.")
    # -- the embeddable map (issue 19): who may show /embed in a frame ---------------------
    embed_frame_ancestors: str = Field(
        "*", description="Sources allowed to show the portal's embeddable map (/embed) in a "
                         "frame: space-separated origins (https://city.gov.by, "
                         "https://*.gov.by), 'self', 'none' or * (default: any site, the map "
                         "is public and read-only); every other page may be framed only by "
                         "the portal itself.")
    default_limit: int = Field(10, ge=1)
    max_limit: int = Field(1000, ge=1, description="Page-size cap for /items.")
    catalog_poll_seconds: float = Field(
        1.0, ge=0, description="How often a worker checks the catalog for published changes."
    )
    keep_versions: int = Field(3, ge=1, description="Versions kept on disk per layer.")
    statement_timeout_ms: int = Field(
        30_000, ge=100, description="PostGIS: longest a query may run before it is cancelled."
    )
    pool_size: int = Field(
        8, ge=1, description="PostGIS: connections per server process; at least `threads`, or "
                             "requests queue for a connection (at most query_budget_ms, then "
                             "HTTP 503).")
    max_upload_mb: int = Field(512, ge=1, description="Largest upload accepted (HTTP 413 above).")
    max_unpacked_mb: int = Field(
        2048, ge=1, description="Largest total an uploaded archive may unpack to (zip bombs)."
    )
    jobs_runner: bool = Field(
        True, description="Run queued upload jobs in this server's workers."
    )
    count_budget_ms: int = Field(
        100, ge=0,
        description="Longest an exact numberMatched may take before it is estimated (0: always "
                    "exact).",
    )
    boundary_tolerance_m: float = Field(
        250.0, ge=0, allow_inf_nan=False,
        description="How far (metres) an editor's feature may reach beyond the boundary of "
                    "the token's regions (config/boundaries.geojson); 0: not at all.",
    )
    metrics: bool = Field(
        True, description="Serve GET /metrics (Prometheus text: requests, caches, store "
                          "reads, pools, jobs; docs/deployment.md \"Monitoring\"); off: 404.")
    # -- budgets and limits: no single request may stall the portal (docs/deployment.md) ----
    query_budget_ms: int = Field(
        5_000, ge=100, description="Longest one read query (items, a feature, a count, a tile) "
                                   "may run on either store before it is stopped (HTTP 503).")
    download_budget_s: int = Field(
        600, ge=1, description="Longest one download may stream before it is cut.")
    heavy_requests: int = Field(
        2, ge=1, description="Heavy requests (CQL2 filters, sorted, deep or dated pages, "
                             "coverages) the server runs at once, all its worker processes "
                             "together, and apart as many downloads and as many low-zoom tiles "
                             "of large layers; as many more wait up to 1 s, the rest get HTTP "
                             "503 with Retry-After.")
    map_timeout_s: float = Field(
        30.0, gt=0, description="Longest MapServer may take to answer one WMS, WFS, WMTS or "
                                "OGC API - Maps request before it is stopped (HTTP 503).")
    map_engines: int = Field(
        4, ge=1, description="MapServer processes one server process runs at once (WMS, WFS, "
                             "WMTS renders); more requests wait up to 10 s, then get HTTP 503.")
    map_fastcgi: bool = Field(
        True, description="Keep MapServer running (FastCGI, up to map_engines processes per "
                          "server process) rather than start it for every request (CGI: "
                          "100-160 ms more per request).")
    map_max_size: int = Field(
        4096, ge=256, description="Largest WIDTH or HEIGHT of a map (WMS GetMap, OGC API - "
                                  "Maps), in pixels.")
    header_timeout_s: float = Field(
        10.0, gt=0, description="Longest a client may take to send a request line and its "
                                "headers (slow clients are cut off).")
    body_timeout_s: float = Field(
        30.0, gt=0, description="Longest silence allowed while a request body is read.")
    rate_limit_per_minute: int = Field(
        240, ge=0, description="Heavy requests (filters, sorted, deep or dated pages, "
                               "downloads, coverages, low-zoom tiles) one client address (an "
                               "IPv6 /64) may send per minute (0: no limit); HTTP 429 above. "
                               "A map viewer of the whole country at zoom 0-6 needs a few "
                               "dozen tiles per layer.")
    auth_failures_per_minute: int = Field(
        10, ge=1, description="Failed logins (bad tokens) one client address may make per "
                              "minute before it gets HTTP 429.")
    max_vertices: int = Field(
        50_000, ge=1_000, description="Most vertices one uploaded feature may have; larger "
                                      "ones are set aside with the reason (a low-zoom tile "
                                      "of the worst shape this size stays near 1 s: "
                                      "benchmarks/vertices.py).")
    cleanup_grace_s: float = Field(
        120.0, ge=1, description="Age after which an unregistered staging file or table no "
                                 "process holds counts as a crash's leftover (clean-up).")
    # -- many machines (docs/deployment.md "Scaling out") ---------------------------------
    object_store: str | None = Field(
        None, description="Where the files the portal keeps (COGs, uploads) live: "
                          "``s3://bucket/prefix`` on an S3-compatible store (endpoint and keys "
                          "from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
                          "AWS_REGION); default: folders under data_dir.")
    database_read_url: str | None = Field(
        None, description="PostgreSQL URL of a read replica (or a PgBouncer pool in front of "
                          "replicas) for reads: items, tiles, records, collections. Writes, "
                          "admin requests and requests with a token go to database_url.")
    queue_database_url: str | None = Field(
        None, description="Direct PostgreSQL URL of the primary for the job queue (LISTEN/"
                          "NOTIFY does not pass PgBouncer in transaction mode); default: "
                          "database_url.")
    worker_tier: bool = Field(
        False, description="Upload jobs go to a queue in PostgreSQL that `geoportal worker` "
                           "processes take; the web server never runs an ingest itself.")
    upload_retention_s: float = Field(
        86_400.0, ge=0, description="How long a finished or failed job's uploaded file is "
                                    "kept (for a look by an operator) before it is removed.")
    lock_timeout_ms: int = Field(
        2_000, ge=10, description="PostgreSQL: longest a statement waits for a lock (a table "
                                  "locked by a publish or a migration) before it gives up.")
    worker_heartbeat_s: float = Field(
        5.0, gt=0, description="How often a `geoportal worker` says it is alive.")
    worker_stalled_s: float = Field(
        20.0, gt=0, description="Silence after which the other workers take a worker for "
                                "dead: its job is retried once, then failed.")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field(
        "text", description="The log's lines: `text` (key=value) or `json` (one object per "
                            "line, for Loki/Elasticsearch); stderr and logs/geoportal.log.")
    slow_request_ms: int = Field(
        1_000, ge=0, description="A request or a database statement that takes longer is "
                                 "logged at WARNING (a statement with its SQL, never its "
                                 "values); 0: never.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments beat the environment, which beats ``portal.yaml``."""
        config_file = Path(os.environ.get("GEOPORTAL_CONFIG_FILE", DEFAULT_CONFIG_FILE))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file.is_file():
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)

    @model_validator(mode="after")
    def _resolve(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        self.config_dir = self.config_dir.expanduser().resolve()
        self.layers_dir = self.layers_dir.expanduser().resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'catalog.sqlite'}"
        if not self.base_url:
            self.base_url = f"http://{self.host}:{self.port}"
        self.base_url = self.base_url.rstrip("/")
        for name in ("contact_name", "contact_email", "contact_url"):  # "" in YAML or env
            value = getattr(self, name)
            setattr(self, name, value.strip() or None if value is not None else None)
        if self.contact_email and ("@" not in self.contact_email
                                   or any(c.isspace() for c in self.contact_email)):
            raise ValueError("contact_email must be an e-mail address (name@example.by)")
        if self.contact_url and not self.contact_url.startswith(("https://", "http://")):
            raise ValueError("contact_url must be an http:// or https:// address")
        self.embed_frame_ancestors = frame_ancestors(self.embed_frame_ancestors)
        if self.max_limit < self.default_limit:
            raise ValueError("max_limit must be at least default_limit")
        if self.object_store and not self.object_store.startswith(("s3://", "file://")):
            raise ValueError("object_store must be an s3://bucket/prefix URL (or file://PATH)")
        if self.worker_tier and not self.database_url.startswith("postgresql"):
            raise ValueError("worker_tier needs a PostgreSQL database_url (the job queue lives "
                             "there)")
        if self.database_read_url and not self.database_url.startswith("postgresql"):
            raise ValueError("database_read_url needs a PostgreSQL database_url")
        return self

    @property
    def store_dir(self) -> Path:
        """Folder of the GeoPackage feature store (one file per layer version)."""
        return self.data_dir / "store"

    @property
    def coverage_dir(self) -> Path:
        """Cloud-Optimized GeoTIFFs of the raster layers (shared storage when scaled out)."""
        return self.data_dir / "coverages"

    @property
    def read_database_url(self) -> str:
        """Where reads go: the replica when one is set, the primary otherwise."""
        return self.database_read_url or str(self.database_url)

    @property
    def queue_url(self) -> str:
        """The job queue's direct connection to the primary."""
        return self.queue_database_url or str(self.database_url)

    @property
    def log_dir(self) -> Path:
        """Folder of the server's and the ETL's log files."""
        return self.data_dir / "logs"


# a CSP source a frame-ancestors directive may name: an http(s) origin, its subdomains
# (https://*.gov.by) or a bare scheme (https:); the keywords and * apart
_ORIGIN = re.compile(r"^(?:https?://(?:\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?"
                     r"(?:\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(?::(?:[0-9]{1,5}|\*))?"
                     r"|https?:)$")


def frame_ancestors(value: str) -> str:
    """``embed_frame_ancestors`` checked and normalised (single spaces, lower case): each
    word an origin, ``'self'``, ``'none'`` (alone) or ``*``. Anything else would become a
    Content-Security-Policy that browsers ignore or misread, or a way to inject another
    directive (``;``), so it stops the start-up with the variable named."""
    words = value.split()
    hint = ("GEOPORTAL_EMBED_FRAME_ANCESTORS (embed_frame_ancestors) must be space-separated "
            "origins such as https://city.gov.by, 'self', 'none' or *")
    if not words:
        raise ValueError(f"{hint}; it is empty")
    checked = []
    for word in words:
        lowered = word.lower()
        if lowered in ("self", "none"):
            raise ValueError(f"{hint}; write '{lowered}' with its single quotes")
        if lowered not in ("*", "'self'", "'none'") and not _ORIGIN.match(lowered.rstrip("/")):
            raise ValueError(f"{hint}; {word!r} is none of them")
        checked.append(lowered.rstrip("/") if lowered not in ("https:", "http:") else lowered)
    if "'none'" in checked and len(checked) > 1:
        raise ValueError(f"{hint}; 'none' cannot be combined with other sources")
    return " ".join(dict.fromkeys(checked))


def load_settings(**overrides: Any) -> Settings:
    """Build the settings once at an entry point; ``overrides`` win over everything."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
