"""Choose the feature store from the settings."""

from __future__ import annotations

from geoportal.config import Settings
from geoportal.storage.base import FeatureStore

__all__ = ["open_store"]


def open_store(settings: Settings) -> FeatureStore:
    """The store the settings name: the embedded GeoPackage store for now."""
    from geoportal.storage.gpkg import GeoPackageStore

    return GeoPackageStore(settings.store_dir)
