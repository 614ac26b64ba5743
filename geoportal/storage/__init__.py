"""Feature stores: where published layer versions live and are queried."""

from geoportal.storage.base import FeatureStore, Query, QueryResult, Row, StagedWriter
from geoportal.storage.factory import open_store

__all__ = ["FeatureStore", "Query", "QueryResult", "Row", "StagedWriter", "open_store"]
