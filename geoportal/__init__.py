"""National geoportal of Belarus: ETL, catalog and OGC API server for municipal GIS layers."""

__version__ = "0.1.0"
__all__ = ["__version__"]
