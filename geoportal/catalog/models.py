"""Plain data objects of the catalog; they serialize to and from dicts symmetrically."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from geoportal.fields import Field
from geoportal.reports import VersionReport
from geoportal.states import LayerKind, VersionStatus

__all__ = ["LANGUAGES", "Field", "Layer", "LayerMetadata", "Region", "Theme", "Version"]

LANGUAGES = ("be", "ru", "en")


@dataclass(frozen=True)
class Region:
    """A territorial unit keyed by its SOATO code."""

    code: str
    level: str
    parent: str | None
    name: dict[str, str]
    bbox: tuple[float, float, float, float] | None = None
    iso: str | None = None



@dataclass(frozen=True)
class Theme:
    """A thematic group of layers (urban infrastructure, transport, ...)."""

    id: str
    name: dict[str, str]


@dataclass
class LayerMetadata:
    """What a manifest says about a layer: identity, place, theme and texts in three languages."""

    id: str
    region: str
    theme: str
    title: dict[str, str]
    description: dict[str, str] = field(default_factory=dict)
    keywords: dict[str, list[str]] = field(default_factory=dict)
    license: str | None = None
    attribution: str | None = None
    kind: LayerKind = LayerKind.VECTOR
    # The manifest's ``search:`` (issue 19): the layer's features are places of the search
    # box: {"kind": "city", "name_fields": [...], "population_field": ...}; None: not searched.
    # Stored with the keywords (``Catalog._meta_values``), so no table changes.
    search: dict[str, Any] | None = None
    # The keys the viewer reads (issue 19): {"title_field", "unit", "series", "basemap"}, only
    # those the manifest gives (``geoportal.etl.manifest.VIEW_KEYS``); None: none given.
    # Stored with the keywords like ``search`` (under ``_view``): no table change.
    view: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Version:
    """One published (or retired) version of a layer's data."""

    layer_id: str
    version: int
    created: datetime
    status: VersionStatus
    source_name: str
    source_sha256: str
    source_crs: str | None
    store_ref: str
    feature_count: int
    set_aside_count: int
    extent: tuple[float, float, float, float] | None
    geometry_type: str | None
    fields: list[Field]
    report: dict[str, Any]  # as stored (the ETL's Report.to_dict()); read it through typed_report

    @property
    def typed_report(self) -> VersionReport:
        """The keys of ``report`` other layers read, typed (tolerant of an old or empty
        report). Parsed on each call, so it follows ``report`` when a draft's is replaced."""
        return VersionReport.from_dict(self.report)

    def summary(self) -> dict[str, Any]:
        """What a version listing shows (CLI ``layer versions --json``, the admin API)."""
        return {
            "version": self.version, "status": self.status, "created": self.created.isoformat(),
            "source": self.source_name, "sha256": self.source_sha256,
            "source_crs": self.source_crs, "features": self.feature_count,
            "set_aside": self.set_aside_count, "extent": self.extent,
            "geometry_type": self.geometry_type,
        }


@dataclass
class Layer:
    """A layer as the catalog knows it, with its current version when it has one."""

    meta: LayerMetadata
    created: datetime
    updated: datetime
    current: Version | None

    @property
    def id(self) -> str:
        return self.meta.id
