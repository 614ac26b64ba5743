"""The ETL report: what was read, what was done to it, what was published or set aside and why."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from geoportal.etl.geometry import MADE_VALID
from geoportal.reports import RasterGrid

__all__ = ["Report", "short_crs"]

MAX_SAMPLES = 100


def short_crs(crs: str | None) -> str:
    """A CRS for one line of text: its code, or the name inside a WKT."""
    if crs is None or len(crs) <= 40:
        return str(crs)
    match = re.match(r'^\w+\["([^"]*)"', crs)
    return f"{match.group(1) if match else 'a CRS'} (no EPSG code)"


@dataclass
class Report:
    """Everything a regional admin needs to trust (or fix) a publish. Nothing is lost silently:
    ``features_read == features_published + sum(set_aside.values())``."""

    layer_id: str
    source: str
    status: str = "started"  # published | unchanged | failed
    format: str | None = None
    source_sha256: str | None = None
    source_crs: str | None = None
    crs_origin: str | None = None  # file | manifest | detected
    crs_confidence: str | None = None  # high | medium | low
    crs_reason: str | None = None
    encoding: str | None = None
    encoding_confidence: str | None = None
    encoding_reason: str | None = None
    geometry_type: str | None = None
    features_read: int = 0
    features_published: int = 0
    repairs: Counter[str] = field(default_factory=Counter)  # kind of repair -> features touched
    id_field: str | None = None
    set_aside: Counter[str] = field(default_factory=Counter)
    set_aside_samples: list[dict[str, Any]] = field(default_factory=list)
    renamed_fields: dict[str, str] = field(default_factory=dict)
    field_types: dict[str, str] = field(default_factory=dict)  # published name -> how typed
    options: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    raster: RasterGrid | None = None  # the COG's grid, bands and overviews (coverages)
    version: int | None = None
    seconds: float | None = None
    error: str | None = None

    def put_aside(self, row: int, reason: str) -> None:
        """Record a feature that will not be published, with the reason."""
        self.set_aside[reason] += 1
        if len(self.set_aside_samples) < MAX_SAMPLES:
            self.set_aside_samples.append({"row": row, "reason": reason})

    @property
    def set_aside_count(self) -> int:
        return sum(self.set_aside.values())

    @property
    def repaired(self) -> int:
        """Features whose geometry was made valid (the repair that changes a shape)."""
        return self.repairs.get(MADE_VALID, 0)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["set_aside"] = dict(self.set_aside)
        data["repairs"] = dict(self.repairs)
        # as RasterInfo.to_dict() wrote it before the grid was typed: lists, a NaN as "nan"
        data["raster"] = self.raster.to_dict() if self.raster is not None else None
        return data

    def details(self) -> list[str]:
        """The human summary under the one-line one: detection, repairs, set-aside reasons."""
        lines = []
        if self.raster is None:
            lines.append(f"read {self.features_read} = published {self.features_published} + "
                         f"set aside {self.set_aside_count}")
        if self.encoding:
            lines.append(f"encoding {self.encoding} ({self.encoding_confidence} confidence): "
                         f"{self.encoding_reason}")
        if self.source_crs:
            lines.append(f"CRS {short_crs(self.source_crs)}, {self.crs_origin} "
                         f"({self.crs_confidence} confidence)"
                         + (f": {self.crs_reason}" if self.crs_origin == "detected" else ""))
        lines += [f"repair: {kind}: {n}" for kind, n in self.repairs.most_common()]
        lines += [f"set aside: {reason}: {n}" for reason, n in self.set_aside.most_common()]
        lines += [f"field {src!r} published as {dst!r}" for src, dst in
                  self.renamed_fields.items()]
        lines += [f"note: {note}" for note in self.notes]
        return lines

    def summary(self) -> str:
        """One line for the CLI and the logs."""
        if self.status == "unchanged":
            return f"{self.layer_id}: unchanged (sha256 {str(self.source_sha256)[:12]}), skipped"
        if self.status == "failed":
            return f"{self.layer_id}: failed: {self.error}"
        if self.raster is not None:
            r = self.raster
            return (f"{self.layer_id}: version {self.version} published, a Cloud-Optimized "
                    f"GeoTIFF of {r.width} x {r.height} px, {r.count} band(s), "
                    f"overviews {list(r.overviews) or 'none'}, from {self.source_crs}")
        aside = ", ".join(f"{n} {reason}" for reason, n in self.set_aside.most_common())
        return (
            f"{self.layer_id}: version {self.version} published, {self.features_published} of "
            f"{self.features_read} features from {short_crs(self.source_crs)}"
            + (f", {self.repaired} repaired" if self.repaired else "")
            + (f"; set aside: {aside}" if aside else "")
        )
