"""The closed sets of words the catalog stores: a layer's kind, a version's status, a job's state.

They live here, below every layer of the portal (this module imports nothing of ours), so the
catalog, the ETL, the admin and the server name the same values. Each is a ``StrEnum``: a member
*is* its string (``VersionStatus.CURRENT == "current"``, ``json.dumps`` writes ``"current"``), so
rows written before these enums existed read back unchanged, and code comparing with the bare
strings keeps working. The values are the ones the catalog's columns hold
(``geoportal.catalog.schema``: ``layers.kind``, ``versions.status``, ``jobs.state``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["JobState", "LayerKind", "VersionStatus"]


class LayerKind(StrEnum):
    """What a layer holds: features (served by OGC API Features and vector tiles) or a raster
    (a Cloud-Optimized GeoTIFF served by OGC API Coverages and map tiles)."""

    VECTOR = "vector"
    COVERAGE = "coverage"


class VersionStatus(StrEnum):
    """Where a version of a layer's data is in its life: being built (``staged``, never stored
    as such), the one served (``current``), or kept for a rollback (``retired``)."""

    STAGED = "staged"
    CURRENT = "current"
    RETIRED = "retired"


class JobState(StrEnum):
    """Where an upload job is: waiting, being run by a worker, or finished one of three ways
    (published; refused for the input's fault; failed for the portal's)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    REJECTED = "rejected"
    FAILED = "failed"

    @property
    def active(self) -> bool:
        """True while the job is not finished (``queued`` or ``running``)."""
        return self in (JobState.QUEUED, JobState.RUNNING)
