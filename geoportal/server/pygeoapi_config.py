"""pygeoapi's configuration, generated from the catalog: never a hand-edited YAML per layer.

The configuration has two parts: the server part (from the settings, the same for the life of
the process) and one resource per served layer. They are built apart, so that a catalog change
rebuilds only the resources of the layers that changed (see ``live.py``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from geoportal.catalog.models import LANGUAGES, Layer
from geoportal.config import Settings
from geoportal.server.coverage_params import axis_labels, crs_uri
from geoportal.storage.rasters import RasterStore

__all__ = ["CRS84", "FACTS", "SUPPORTED_CRS", "collection_resource", "contact", "is_served",
           "layer_facts", "server_config"]

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GEOTIFF = "image/tiff; application=geotiff"
_EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
# Output CRSs offered for every collection (OGC API - Features Part 2), see DESIGN.md.
SUPPORTED_CRS = [CRS84] + [
    f"{_EPSG}{code}"
    for code in (4326, 3857, 32634, 32635, 32636, 28404, 28405, 28406, 4284)
]
# pygeoapi's locales: the first is the default. English first, for GIS clients' defaults.
PYGEOAPI_LANGUAGES = ["en-US", "ru-RU", "be-BY"]
# The resource key of a layer's card facts (``layer_facts``): pygeoapi ignores it, our
# collection descriptions (server/collections.py) publish it as ``geoportal:*`` members.
FACTS = "geoportal"
_HERE = Path(__file__).parent


def _texts(values: dict[str, str], fallback: dict[str, str]) -> dict[str, str]:
    """Every language filled: a missing text falls back to another language's."""
    out = {}
    for lang in LANGUAGES:
        out[lang] = (values.get(lang) or next((v for v in values.values() if v), None)
                     or fallback.get(lang) or "")
    return out


def _outward(extent: tuple[float, float, float, float] | None) -> list[float]:
    """The extent rounded outward to 1e-6 degree (about 10 cm): readable, still covering."""
    if extent is None:
        return [-180.0, -90.0, 180.0, 90.0]
    minx, miny, maxx, maxy = (v * 1e6 for v in extent)
    return [math.floor(minx) / 1e6, math.floor(miny) / 1e6,
            math.ceil(maxx) / 1e6, math.ceil(maxy) / 1e6]


SERVED_KINDS = ("vector", "coverage")


def is_served(layer: Layer) -> bool:
    """True for a layer the OGC API serves as a collection: a vector or raster layer with a
    current version."""
    return layer.current is not None and layer.meta.kind in SERVED_KINDS


def collection_resource(layer: Layer, store_key: str,
                        rasters: RasterStore | None = None) -> dict[str, Any]:
    """The pygeoapi resource of a served layer: a feature collection, or a coverage (its COG
    found in ``rasters``)."""
    version = layer.current
    assert version is not None
    meta = layer.meta
    title = _texts(meta.title, {})
    links = []
    if meta.license:
        links.append({
            "type": "text/html", "rel": "license", "title": meta.license,
            "href": f"https://spdx.org/licenses/{meta.license}.html",
        })
    resource = {
        "type": "collection",
        "title": title,
        "description": _texts(meta.description, title),
        "keywords": {lang: meta.keywords.get(lang) or [] for lang in LANGUAGES},
        "links": links,
        "extents": {
            "spatial": {"bbox": _outward(version.extent), "crs": CRS84},
        },
        FACTS: layer_facts(layer),
    }
    if meta.kind == "coverage":
        return {**resource, "providers": [coverage_provider(layer, rasters)]}
    return {
        **resource,
        "providers": [{
            "type": "feature",
            "name": "geoportal.providers.features.StoreFeatureProvider",
            "data": version.store_ref,
            "store": store_key,
            "id_field": "fid",
            "layer_fields": [f.to_dict() for f in version.fields],
            "feature_count": version.feature_count,
            "storage_crs": CRS84,
            "crs": list(SUPPORTED_CRS),
        }],
    }


def layer_facts(layer: Layer) -> dict[str, Any]:
    """What a layer card shows beside the texts (issue 19): licence, attribution, feature
    count, geometry type and dates. Made from the light row the listings read (no report of
    a vector version there), so the count is the version's ``feature_count``: the ETL's
    ``features_published`` for an ingest, and still right after an edit, whose report
    keeps the base's numbers. ``source_date`` is the manifest's date of the data when it
    gives one; ``updated`` is when the current version was published, ``published`` when
    the layer first was."""
    version = layer.current
    assert version is not None
    source_date = getattr(layer.meta, "source_date", None)  # a manifest key, where it exists
    return {
        "license": layer.meta.license,
        "attribution": layer.meta.attribution,
        "feature_count": None if layer.meta.kind == "coverage" else version.feature_count,
        "geometry_type": version.geometry_type,
        "version": version.version,
        "updated": version.created.isoformat(),
        "published": layer.created.isoformat(),
        "source_date": str(source_date) if source_date else None,
    }


def coverage_provider(layer: Layer, rasters: RasterStore | None) -> dict[str, Any]:
    """The provider entry of a raster layer: where its COG is and what the catalog knows of
    it (grid, bands), so describing it never opens the file."""
    version = layer.current
    assert version is not None
    grid = version.typed_report.raster
    raster = grid.to_dict() if grid is not None else {}
    crs = raster.get("crs") or "EPSG:4326"
    # where GDAL would open it (a path or /vsis3/...): pygeoapi requires a "data"; the
    # portal's own routes read the COG through the RasterStore
    data = rasters.gdal_path(version.store_ref) if rasters is not None else version.store_ref
    return {
        "type": "coverage",
        "name": "geoportal.providers.coverage.COGCoverageProvider",
        "data": data,
        "format": {"name": "GTiff", "mimetype": GEOTIFF},
        "raster": raster,
        "axes": list(axis_labels(crs)),
        "storage_crs": crs_uri(crs),
        "crs": list(SUPPORTED_CRS),
    }


def server_config(settings: Settings) -> dict[str, Any]:
    """pygeoapi's configuration without resources: the server, logging and metadata parts."""
    return {
        "server": {
            "bind": {"host": settings.host, "port": settings.port},
            "url": settings.base_url,
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": PYGEOAPI_LANGUAGES,
            "pretty_print": False,
            "limits": {
                "default_items": settings.default_limit,
                "max_items": settings.max_limit,
                "on_exceed": "throttle",
            },
            "templates": {"path": str(_HERE / "templates"), "static": str(_HERE / "static")},
            "map": {"url": "", "attribution": ""},
        },
        "logging": {"level": settings.log_level.upper()},
        "metadata": {
            "identification": {
                "title": {"en": settings.title, "ru": "Геопортал Беларуси",
                          "be": "Геапартал Беларусі"},
                "description": {
                    "en": "Municipal GIS layers of Belarus's oblasts, cities and raions "
                          "through open OGC standards.",
                    "ru": "Муниципальные ГИС-слои областей, городов и районов Беларуси "
                          "по открытым стандартам OGC.",
                    "be": "Муніцыпальныя ГІС-пласты абласцей, гарадоў і раёнаў Беларусі "
                          "па адкрытых стандартах OGC.",
                },
                "keywords": {"en": ["geoportal", "Belarus", "OGC API"],
                             "ru": ["геопортал", "Беларусь"], "be": ["геапартал", "Беларусь"]},
                "keywords_type": "theme",
                "terms_of_service": f"{settings.base_url}/",
                "url": f"{settings.base_url}/",
            },
            "license": {"name": "Each layer carries its own licence",
                        "url": f"{settings.base_url}/collections"},
            "provider": {"name": "Geoportal of Belarus", "url": f"{settings.base_url}/"},
            "contact": contact(settings),
        },
    }


def contact(settings: Settings) -> dict[str, str]:
    """pygeoapi's contact metadata from the settings: only what the operator set (name,
    e-mail, web page), never a placeholder; empty when none is set (the pages then show
    no contact)."""
    given = {"name": settings.contact_name, "email": settings.contact_email,
             "url": settings.contact_url}
    found = {key: value for key, value in given.items() if value}
    if found:
        found["role"] = "pointOfContact"
    return found
