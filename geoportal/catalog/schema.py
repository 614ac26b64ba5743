"""Catalog tables in SQLAlchemy Core: portable between SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

__all__ = ["audit", "catalog_state", "jobs", "layers", "metadata", "regions", "themes", "tokens",
           "versions"]

metadata = MetaData()

regions = Table(
    "regions",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("level", String(32), nullable=False),
    Column("parent", String(16)),
    Column("iso", String(16)),
    Column("name", JSON, nullable=False),
    Column("bbox", JSON),
)

themes = Table(
    "themes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", JSON, nullable=False),
)

layers = Table(
    "layers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("region", String(16), ForeignKey("regions.code"), nullable=False, index=True),
    Column("theme", String(64), ForeignKey("themes.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False, default="vector"),
    Column("title", JSON, nullable=False),
    Column("description", JSON, nullable=False),
    Column("keywords", JSON, nullable=False),
    Column("license", String(128)),
    Column("attribution", Text),
    Column("current_version", Integer),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
)

versions = Table(
    "versions",
    metadata,
    Column("layer_id", String(64), ForeignKey("layers.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("source_name", Text, nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("source_crs", Text),
    Column("store_ref", Text, nullable=False),
    Column("feature_count", BigInteger, nullable=False),
    Column("set_aside_count", BigInteger, nullable=False),
    Column("minx", Float),
    Column("miny", Float),
    Column("maxx", Float),
    Column("maxy", Float),
    Column("geometry_type", String(32)),
    Column("fields", JSON, nullable=False),
    Column("report", JSON, nullable=False),
)

# One row: a counter bumped by every change that the server must notice.
catalog_state = Table(
    "catalog_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", BigInteger, nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
)

# API tokens: only a SHA-256 of the secret is kept; the secret is shown once, at creation.
tokens = Table(
    "tokens",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("role", String(16), nullable=False),  # admin | editor
    Column("regions", JSON, nullable=False),  # SOATO codes an editor may write to
    Column("secret_sha256", String(64), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True)),
    Column("revoked", DateTime(timezone=True)),
    Column("last_used", DateTime(timezone=True)),
)

# Uploads waiting for, running or finished with the ETL. At most one queued or running job per
# layer (a partial unique index), so two uploads of one layer cannot interleave.
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("layer_id", String(64), nullable=False),
    Column("region", String(16), nullable=False),
    Column("token_id", String(16), nullable=False),
    Column("state", String(16), nullable=False),  # queued | running | done | rejected | failed
    Column("manifest", JSON, nullable=False),
    Column("folder", Text, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("started", DateTime(timezone=True)),
    Column("finished", DateTime(timezone=True)),
    Column("heartbeat", DateTime(timezone=True)),
    Column("worker", String(128)),
    Column("version", Integer),
    Column("report", JSON),
    Column("error", Text),
    Column("status", Integer),  # the HTTP status the outcome corresponds to
)
Index("jobs_one_active_per_layer", jobs.c.layer_id, unique=True,
      sqlite_where=text("state IN ('queued', 'running')"),
      postgresql_where=text("state IN ('queued', 'running')"))
Index("jobs_by_state", jobs.c.state, jobs.c.created)

# Every write and every refused write: who, where from, what, and how it ended.
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", DateTime(timezone=True), nullable=False, index=True),
    Column("token_id", String(16)),
    Column("role", String(16)),
    Column("region", String(16)),
    Column("action", String(32), nullable=False),
    Column("layer_id", String(64), index=True),
    Column("version", Integer),
    Column("job_id", String(32)),
    Column("client", String(64)),
    Column("result", String(16), nullable=False),  # ok | accepted | denied | rejected | failed
    Column("status", Integer),
    Column("detail", Text),
)

