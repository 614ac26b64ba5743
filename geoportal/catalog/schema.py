"""Catalog tables in SQLAlchemy Core: portable between SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = ["catalog_state", "layers", "metadata", "regions", "themes", "versions"]

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
