"""pygeoapi's view of a raster layer: its range fields (the bands), for ``/schema``.

The coverage itself is served by ``geoportal.server.coverages`` (pygeoapi 0.24's coverage route
reads whole rasters through ``rasterio.mask``, knows no ``scale-size`` and answers a bad bbox
with a 500); this provider only describes. Everything it says comes from the catalog's record
of the COG (``RasterInfo``), so describing a collection never opens the file.
"""

from __future__ import annotations

from typing import Any

from pygeoapi.provider.base import BaseProvider, ProviderQueryError

from geoportal.storage.raster_read import band_names

__all__ = ["COGCoverageProvider", "domain_set", "range_fields", "range_type"]

_JSON_TYPES = {"u": "integer", "i": "integer", "f": "number", "b": "boolean"}


def range_fields(raster: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The JSON Schema of each band (``band1``...), with its type, nodata and description."""
    count = int(raster.get("count") or 1)
    dtypes = raster.get("dtypes") or ["float32"] * count
    descriptions = raster.get("band_descriptions") or [None] * count
    fields = {}
    for i, name in enumerate(band_names(count)):
        dtype = dtypes[i] if i < len(dtypes) else dtypes[0]
        kind = dtype[0] if dtype[:4] != "uint" else "u"
        field: dict[str, Any] = {
            "title": descriptions[i] or f"Band {i + 1}",
            "type": _JSON_TYPES.get(kind, "number"),
            "x-ogc-dataType": dtype,
        }
        if raster.get("nodata") is not None:
            field["x-ogc-nodata"] = raster["nodata"]
        fields[name] = field
    return fields


def domain_set(raster: dict[str, Any], axes: list[str], srs: str) -> dict[str, Any]:
    """The grid as CIS 1.1 JSON (``generalGrid``): what GDAL's OGCAPI driver reads to size a
    coverage before asking for blocks of it."""
    left, bottom, right, top = raster.get("bounds") or (0.0, 0.0, 0.0, 0.0)
    resx, resy = (raster.get("resolution") or [0.0, 0.0])[:2]
    units = "deg" if axes[0] == "Lon" else "m"
    return {
        "type": "DomainSet",
        "generalGrid": {
            "type": "GeneralGridCoverage", "srsName": srs, "axisLabels": list(axes),
            "axis": [
                {"type": "RegularAxis", "axisLabel": axes[0], "lowerBound": left,
                 "upperBound": right, "uomLabel": units, "resolution": resx},
                {"type": "RegularAxis", "axisLabel": axes[1], "lowerBound": bottom,
                 "upperBound": top, "uomLabel": units, "resolution": -resy},
            ],
            "gridLimits": {
                "type": "GridLimits", "srsName": "http://www.opengis.net/def/crs/OGC/0/Index2D",
                "axisLabels": ["i", "j"],
                "axis": [
                    {"type": "IndexAxis", "axisLabel": "i", "lowerBound": 0,
                     "upperBound": int(raster.get("width") or 1) - 1},
                    {"type": "IndexAxis", "axisLabel": "j", "lowerBound": 0,
                     "upperBound": int(raster.get("height") or 1) - 1},
                ],
            },
        },
    }


def range_type(raster: dict[str, Any]) -> dict[str, Any]:
    """The bands as a CIS 1.1 / SWE Common ``DataRecord``."""
    fields = []
    for name, field in range_fields(raster).items():
        entry: dict[str, Any] = {
            "type": "Quantity", "id": name, "name": name, "description": field["title"],
            "definition": f"http://www.opengis.net/def/dataType/OGC/0/{field['x-ogc-dataType']}",
            "uom": {"type": "UnitReference", "code": "unknown"},
        }
        if "x-ogc-nodata" in field:
            entry["nilValues"] = [{"value": field["x-ogc-nodata"], "reason":
                                   "http://www.opengis.net/def/nil/OGC/0/missing"}]
        fields.append(entry)
    return {"type": "DataRecord", "field": fields}


class COGCoverageProvider(BaseProvider):  # type: ignore[misc]  # pygeoapi: no type information
    """Describes one COG version; see the module docstring."""

    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        raster = provider_def.get("raster") or {}
        self._fields = range_fields(raster)
        self.num_bands = int(raster.get("count") or 1)
        self.axes = list(provider_def.get("axes") or ["Lon", "Lat"])
        width, height = raster.get("width", 0), raster.get("height", 0)
        resx, resy = (raster.get("resolution") or [0, 0])[:2]
        self._coverage_properties = {
            "bbox": raster.get("bounds"), "width": width, "height": height,
            "resx": resx, "resy": resy, "num_bands": self.num_bands,
            "x_axis_label": self.axes[0], "y_axis_label": self.axes[1],
        }

    def get_fields(self) -> dict[str, dict[str, Any]]:
        return self._fields

    def query(self, **kwargs: Any) -> Any:  # pygeoapi's coverage route is not mounted
        raise ProviderQueryError("coverages are served by the portal's own route")
