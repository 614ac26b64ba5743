"""The OpenAPI fragment of the raster routes (``server/coverages.py``): OGC API - Coverages
and PNG map tiles. Merged into the document by ``openapi.build_openapi``; the be/ru texts of
every summary and description here are in ``COVERAGE_TEXTS`` (added to ``openapi_texts``)."""

from __future__ import annotations

from typing import Any

__all__ = ["COVERAGE_TEXTS", "coverage_parameters", "coverage_paths", "coverage_responses"]

_P = "#/components/parameters/"
_R = "#/components/responses/"
_AXES = ("Axis names follow the coverage's CRS: Lon and Lat for degrees, E and N for metres "
         "(x and y also work)")


def _q(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "style": "form", "explode": False, "schema": schema}


def coverage_parameters() -> dict[str, dict[str, Any]]:
    """The query parameters of ``/coverage`` and of the map tiles."""
    text = {"type": "string"}
    return {
        "subset": _q("subset", "The area, per axis: Lon(27.3:27.8),Lat(53.7:54.1); * leaves "
                     f"an end open, one value takes one pixel. {_AXES}", text),
        "subset-crs": _q("subset-crs", "The CRS of the subset's numbers (the coverage's own "
                         "when absent)", text),
        "bbox-coverage": _q("bbox", "The area as minx,miny,maxx,maxy in CRS84 (or bbox-crs); "
                            "not together with a spatial subset",
                            {"type": "array", "items": {"type": "number"}, "minItems": 4,
                             "maxItems": 6}),
        "bbox-crs-coverage": _q("bbox-crs", "The CRS of bbox (EPSG:4326 means lat,lon order)",
                                text),
        "scale-size": _q("scale-size", f"The answer's pixels per axis: Lon(800),Lat(400). "
                         f"{_AXES}", text),
        "scale-factor": _q("scale-factor", "Divides the pixel count along every axis (2 "
                           "halves it)",
                           {"type": "number", "minimum": 0, "exclusiveMinimum": True}),
        "scale-axes": _q("scale-axes", "Divides the pixel count along the axes named: Lat(2)",
                         text),
        "properties-coverage": _q("properties", "The bands, comma-separated: band1,band2 (or "
                                  "their numbers)", text),
        "crs-coverage": _q("crs", "Reproject the answer to this CRS", text),
        "f-coverage": _q("f", "GTiff (GeoTIFF, the default) or json (CoverageJSON, up to "
                         "1,000,000 values)", {"type": "string", "enum": ["GTiff", "json"],
                                               "default": "GTiff"}),
        "rescale": _q("rescale", "The values drawn at the ends of the colormap: low,high "
                      "(the band's 2nd and 98th percentiles when absent)", text),
        "colormap": _q("colormap", "A matplotlib colormap name (inferno when absent)", text),
    }


def coverage_responses() -> dict[str, dict[str, Any]]:
    """The responses of the raster routes."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "Coverage": {"description": "The coverage (or the part asked for); headers "
                                    "Content-Bbox and Content-Crs say where it lies",
                     "content": {"image/tiff; application=geotiff": binary,
                                 "application/prs.coverage+json": {
                                     "schema": {"type": "object"}}}},
        "MapTile": {"description": "A 256 px PNG; nodata is transparent",
                    "content": {"image/png": binary}},
        "EmptyMapTile": {"description": "The raster has no pixels in this tile"},
    }


def coverage_paths(collection: dict[str, Any]) -> dict[str, Any]:
    """The paths; ``collection`` is the shared ``collectionId`` path parameter entry."""
    errors = {"400": {"$ref": _R + "InvalidParameter"}, "404": {"$ref": _R + "NotFound"},
              "500": {"$ref": _R + "ServerError"}}

    def op(operation_id: str, summary: str, parameters: list[str],
           responses: dict[str, str], tag: str = "coverages") -> dict[str, Any]:
        return {"operationId": operation_id, "summary": summary, "tags": [tag],
                "parameters": [{"$ref": _P + name} for name in parameters],
                "responses": {**{code: {"$ref": _R + name} for code, name in responses.items()},
                              **errors}}

    tile = [{"$ref": _P + n} for n in ("collectionId", "tileMatrixSetId")]
    return {
        "/collections/{collectionId}/coverage": {**collection, "get": op(
            "getCoverage", "The coverage, or a part of it, as GeoTIFF or CoverageJSON",
            ["subset", "subset-crs", "bbox-coverage", "bbox-crs-coverage", "scale-size",
             "scale-factor", "scale-axes", "properties-coverage", "crs-coverage",
             "f-coverage"], {"200": "Coverage"})},
        "/collections/{collectionId}/coverage/domainset": {**collection, "get": op(
            "getCoverageDomainSet", "The coverage's grid (CIS 1.1 JSON)", [], {"200": "Json"})},
        "/collections/{collectionId}/coverage/rangetype": {**collection, "get": op(
            "getCoverageRangeType", "The coverage's bands (CIS 1.1 JSON)", [],
            {"200": "Json"})},
        "/collections/{collectionId}/map/tiles": {**collection, "get": op(
            "getCollectionMapTileSetsList", "The raster's map tilesets", [], {"200": "Json"},
            "tiles")},
        "/collections/{collectionId}/map/tiles/{tileMatrixSetId}": {
            "parameters": tile, "get": op(
                "getCollectionMapTileSet", "A map tileset (f=tilejson: TileJSON 3.0 with a "
                "legend)", ["f-tileset", "rescale", "colormap"], {"200": "Json"}, "tiles")},
        "/collections/{collectionId}/map/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/"
        "{tileCol}": {
            "parameters": [*tile, *({"$ref": _P + n} for n in ("tileMatrix", "tileRow",
                                                                "tileCol"))],
            "get": op("getCollectionMapTile", "One map tile (PNG)",
                      ["rescale", "colormap", "v"],
                      {"200": "MapTile", "204": "EmptyMapTile", "302": "OtherVersion"},
                      "tiles")},
    }


COVERAGE_TEXTS: dict[str, dict[str, str]] = {
    "Rasters (OGC API - Coverages)": {"be": "Растры (OGC API - Coverages)",
                                      "ru": "Растры (OGC API - Coverages)"},
    "The area, per axis: Lon(27.3:27.8),Lat(53.7:54.1); * leaves an end open, one value takes "
    f"one pixel. {_AXES}": {
        "be": "Вобласць па восях: Lon(27.3:27.8),Lat(53.7:54.1); * пакідае канец адкрытым, "
              "адно значэнне бярэ адзін піксель. Назвы восей залежаць ад СК пакрыцця: Lon і "
              "Lat для градусаў, E і N для метраў (x і y таксама падыходзяць)",
        "ru": "Область по осям: Lon(27.3:27.8),Lat(53.7:54.1); * оставляет конец открытым, "
              "одно значение берёт один пиксель. Названия осей зависят от СК покрытия: Lon и "
              "Lat для градусов, E и N для метров (x и y тоже подходят)"},
    "The CRS of the subset's numbers (the coverage's own when absent)": {
        "be": "СК лічбаў subset (уласная СК пакрыцця, калі не зададзена)",
        "ru": "СК чисел subset (собственная СК покрытия, если не задана)"},
    "The area as minx,miny,maxx,maxy in CRS84 (or bbox-crs); not together with a spatial "
    "subset": {
        "be": "Вобласць як minx,miny,maxx,maxy у CRS84 (або bbox-crs); не разам з "
              "прасторавым subset",
        "ru": "Область как minx,miny,maxx,maxy в CRS84 (или bbox-crs); не вместе с "
              "пространственным subset"},
    "The CRS of bbox (EPSG:4326 means lat,lon order)": {
        "be": "СК bbox (EPSG:4326 азначае парадак шырата, даўгата)",
        "ru": "СК bbox (EPSG:4326 означает порядок широта, долгота)"},
    f"The answer's pixels per axis: Lon(800),Lat(400). {_AXES}": {
        "be": "Колькасць пікселяў адказу па восях: Lon(800),Lat(400). Назвы восей залежаць ад "
              "СК пакрыцця: Lon і Lat для градусаў, E і N для метраў (x і y таксама "
              "падыходзяць)",
        "ru": "Число пикселей ответа по осям: Lon(800),Lat(400). Названия осей зависят от СК "
              "покрытия: Lon и Lat для градусов, E и N для метров (x и y тоже подходят)"},
    "Divides the pixel count along every axis (2 halves it)": {
        "be": "Дзеліць колькасць пікселяў уздоўж кожнай восі (2 памяншае ўдвая)",
        "ru": "Делит число пикселей вдоль каждой оси (2 уменьшает вдвое)"},
    "Divides the pixel count along the axes named: Lat(2)": {
        "be": "Дзеліць колькасць пікселяў уздоўж названых восей: Lat(2)",
        "ru": "Делит число пикселей вдоль названных осей: Lat(2)"},
    "The bands, comma-separated: band1,band2 (or their numbers)": {
        "be": "Каналы праз коску: band1,band2 (або іх нумары)",
        "ru": "Каналы через запятую: band1,band2 (или их номера)"},
    "Reproject the answer to this CRS": {"be": "Перапраектаваць адказ у гэтую СК",
                                         "ru": "Перепроецировать ответ в эту СК"},
    "GTiff (GeoTIFF, the default) or json (CoverageJSON, up to 1,000,000 values)": {
        "be": "GTiff (GeoTIFF, па змаўчанні) або json (CoverageJSON, да 1 000 000 значэнняў)",
        "ru": "GTiff (GeoTIFF, по умолчанию) или json (CoverageJSON, до 1 000 000 значений)"},
    "The values drawn at the ends of the colormap: low,high (the band's 2nd and 98th "
    "percentiles when absent)": {
        "be": "Значэнні на канцах каляровай шкалы: low,high (2-і і 98-ы перцэнтылі канала, "
              "калі не зададзена)",
        "ru": "Значения на концах цветовой шкалы: low,high (2-й и 98-й перцентили канала, "
              "если не задано)"},
    "A matplotlib colormap name (inferno when absent)": {
        "be": "Назва каляровай шкалы matplotlib (inferno, калі не зададзена)",
        "ru": "Название цветовой шкалы matplotlib (inferno, если не задано)"},
    "The coverage (or the part asked for); headers Content-Bbox and Content-Crs say where it "
    "lies": {
        "be": "Пакрыццё (або запытаная частка); загалоўкі Content-Bbox і Content-Crs кажуць, "
              "дзе яно ляжыць",
        "ru": "Покрытие (или запрошенная часть); заголовки Content-Bbox и Content-Crs "
              "говорят, где оно лежит"},
    "A 256 px PNG; nodata is transparent": {
        "be": "PNG 256 пікселяў; адсутныя даныя празрыстыя",
        "ru": "PNG 256 пикселей; отсутствующие данные прозрачны"},
    "The raster has no pixels in this tile": {"be": "У гэтым тайле няма пікселяў растра",
                                              "ru": "В этом тайле нет пикселей растра"},
    "The coverage, or a part of it, as GeoTIFF or CoverageJSON": {
        "be": "Пакрыццё або яго частка ў GeoTIFF ці CoverageJSON",
        "ru": "Покрытие или его часть в GeoTIFF или CoverageJSON"},
    "The coverage's grid (CIS 1.1 JSON)": {"be": "Сетка пакрыцця (CIS 1.1 JSON)",
                                           "ru": "Сетка покрытия (CIS 1.1 JSON)"},
    "The coverage's bands (CIS 1.1 JSON)": {"be": "Каналы пакрыцця (CIS 1.1 JSON)",
                                            "ru": "Каналы покрытия (CIS 1.1 JSON)"},
    "The raster's map tilesets": {"be": "Наборы картаграфічных тайлаў растра",
                                  "ru": "Наборы картографических тайлов растра"},
    "A map tileset (f=tilejson: TileJSON 3.0 with a legend)": {
        "be": "Набор картаграфічных тайлаў (f=tilejson: TileJSON 3.0 з легендай)",
        "ru": "Набор картографических тайлов (f=tilejson: TileJSON 3.0 с легендой)"},
    "One map tile (PNG)": {"be": "Адзін картаграфічны тайл (PNG)",
                           "ru": "Один картографический тайл (PNG)"},
}
