"""From a region's file to a published layer version: read, reproject, repair, validate, publish."""

from geoportal.etl.manifest import Manifest, SourceSpec, load_manifest
from geoportal.etl.pipeline import ingest
from geoportal.etl.report import Report

__all__ = ["Manifest", "Report", "SourceSpec", "ingest", "load_manifest"]
