"""Feature stores: where published layer versions live and are queried."""

from geoportal.storage.base import FeatureStore, Query, QueryResult, Row, StagedWriter
from geoportal.storage.factory import is_postgres, lookup_store, open_store, register_store

__all__ = ["FeatureStore", "Query", "QueryResult", "Row", "StagedWriter", "is_postgres",
           "lookup_store", "open_store", "register_store"]
