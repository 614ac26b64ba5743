"""Choose the feature store from the settings, and find it again by key in the server."""

from __future__ import annotations

from geoportal.config import Settings
from geoportal.errors import StorageError
from geoportal.storage.base import FeatureStore

__all__ = ["is_postgres", "lookup_store", "open_store", "register_store"]

_REGISTRY: dict[str, FeatureStore] = {}


def is_postgres(url: str | None) -> bool:
    """True for a PostgreSQL database URL (``postgresql://`` or ``postgresql+driver://``)."""
    if not url:
        return False
    return url.split("://", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


def open_store(settings: Settings) -> FeatureStore:
    """PostGIS when ``database_url`` is PostgreSQL (reads of anonymous requests on
    ``database_read_url`` when set), else the embedded GeoPackage store."""
    if is_postgres(settings.database_url):
        from geoportal.storage.postgis import PostGISStore

        return PostGISStore(settings.database_url or "",
                            statement_timeout_ms=settings.statement_timeout_ms,
                            pool_size=settings.pool_size,
                            count_budget_ms=settings.count_budget_ms,
                            query_budget_ms=settings.query_budget_ms,
                            lock_timeout_ms=settings.lock_timeout_ms,
                            read_url=settings.database_read_url)
    from geoportal.storage.gpkg import GeoPackageStore

    return GeoPackageStore(settings.store_dir, count_budget_ms=settings.count_budget_ms,
                           query_budget_ms=settings.query_budget_ms)


def register_store(store: FeatureStore) -> str:
    """Make ``store`` findable by its key in this process; return the key."""
    _REGISTRY[store.key] = store
    return store.key


def lookup_store(key: str) -> FeatureStore:
    """The store registered under ``key`` (by ``create_app``)."""
    try:
        return _REGISTRY[key]
    except KeyError:
        raise StorageError(f"no feature store {key!r} registered in this process") from None
