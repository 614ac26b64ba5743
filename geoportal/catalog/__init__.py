"""The shared register of layers, versions and their metadata in be, ru and en."""

from geoportal.catalog.models import Field, Layer, Region, Theme, Version
from geoportal.catalog.registry import Registry, load_registry
from geoportal.catalog.repository import Catalog

__all__ = ["Catalog", "Field", "Layer", "Region", "Registry", "Theme", "Version", "load_registry"]
