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
        # what GDAL 3.6 to 3.8 send (coverage_params.py): documented, so it is a known name
        "scaleSize": {**_q("scaleSize", "scale-size as an earlier draft spelt it (GDAL 3.6 to "
                           "3.8 send it)", text), "deprecated": True},
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
        "mapTileMatrixSetId": {
            "name": "tileMatrixSetId", "in": "path", "required": True,
            "description": "The tile matrix set: WebMercatorQuad, or BelarusEPSG4326 (a "
                           "geographic grid over Belarus)",
            "schema": {"type": "string", "enum": ["WebMercatorQuad", "BelarusEPSG4326"]}},
        "f-map": _q("f", "png (the default) or jpeg",
                    {"type": "string", "enum": ["png", "jpeg", "jpg"], "default": "png"}),
        "bbox-map": _q("bbox", "The map's area as minx,miny,maxx,maxy in CRS84 (or bbox-crs, "
                       "in its axis order); the collection's extent when absent",
                       {"type": "array", "items": {"type": "number"}, "minItems": 4,
                        "maxItems": 4}),
        "bbox-crs-map": _q("bbox-crs", "The CRS of bbox (CRS84 when absent)", text),
        "crs-map": _q("crs", "The map's CRS (CRS84 when absent): one of the collection's CRSs",
                      text),
        "width": _q("width", "The map's width in pixels (with height alone: from the box's "
                    "shape; neither: 1024)", {"type": "integer", "minimum": 1}),
        "height": _q("height", "The map's height in pixels (from the width and the box's "
                     "shape when absent)", {"type": "integer", "minimum": 1}),
        "transparent": _q("transparent", "A transparent background (PNG; the default) or "
                          "not", {"type": "boolean", "default": True}),
        "bgcolor": _q("bgcolor", "The background colour, 0xRRGGBB", text),
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
        # a vector layer's map tiles (server/ows) also come as JPEG, with f=jpeg
        "MapTile": {"description": "A 256 px map tile: PNG, or JPEG with f=jpeg (a vector "
                                   "layer's); a raster's nodata is transparent",
                    "content": {"image/png": binary, "image/jpeg": binary}},
        "EmptyMapTile": {"description": "The raster has no pixels in this tile"},
        "Map": {"description": "The collection as a picture (OGC API - Maps); headers "
                               "Content-Bbox and Content-Crs say where it lies",
                "content": {"image/png": binary, "image/jpeg": binary}},
        "OgcService": {"description": "The service's answer: capabilities (XML), a map or "
                                      "tile (PNG, JPEG), features (GML, GeoJSON), feature "
                                      "info (HTML, JSON, GML, text), a legend (PNG)",
                       "content": {"*/*": binary}},
        "OgcException": {"description": "An OGC exception report naming the parameter "
                                        "(WMS ServiceExceptionReport, OWS ExceptionReport)",
                         "content": {"*/*": binary}},
    }


def coverage_paths(collection: dict[str, Any]) -> dict[str, Any]:
    """The paths; ``collection`` is the shared ``collectionId`` path parameter entry."""
    # as every route of openapi.py: 414 (a URL too long), 503 (the database away, a full gate)
    errors = {code: {"$ref": _R + name} for code, name in (
        ("400", "InvalidParameter"), ("404", "NotFound"), ("414", "URITooLong"),
        ("500", "ServerError"), ("503", "ServiceUnavailable"))}

    def op(operation_id: str, summary: str, parameters: list[str],
           responses: dict[str, str], tag: str = "coverages") -> dict[str, Any]:
        return {"operationId": operation_id, "summary": summary, "tags": [tag],
                "parameters": [{"$ref": _P + name} for name in parameters],
                "responses": {**{code: {"$ref": _R + name} for code, name in responses.items()},
                              **errors}}

    tile = [{"$ref": _P + n} for n in ("collectionId", "mapTileMatrixSetId")]
    def service(operation_id: str, summary: str, description: str) -> dict[str, Any]:
        return {"get": {
            "operationId": operation_id, "summary": summary, "description": description,
            "tags": ["classic"],
            "responses": {"200": {"$ref": _R + "OgcService"},
                          "304": {"$ref": _R + "NotModified"},
                          "400": {"$ref": _R + "OgcException"},
                          "405": {"$ref": _R + "OgcException"},
                          "414": {"$ref": _R + "URITooLong"},
                          "500": {"$ref": _R + "ServerError"},
                          "503": {"$ref": _R + "OgcException"}}}}

    kvp = ("Key-value pairs as the standard defines them (SERVICE, VERSION, REQUEST...; names "
           "in any case); vendor parameters are ignored")
    return {
        "/wms": service("wms", "WMS 1.3.0 and 1.1.1 (GetCapabilities, GetMap, "
                        "GetFeatureInfo, GetLegendGraphic)", kvp),
        "/wfs": service("wfs", "WFS 2.0, 1.1 and 1.0, read-only (GetCapabilities, "
                        "DescribeFeatureType, GetFeature, GetPropertyValue); also POSTed XML",
                        kvp),
        "/wmts": service("wmts", "WMTS 1.0 in key-value pairs (GetCapabilities, GetTile)", kvp),
        "/wmts/1.0.0/WMTSCapabilities.xml": service(
            "wmtsCapabilities", "WMTS 1.0's RESTful capabilities",
            "Tiles at /wmts/1.0.0/{layer}/default/{tileMatrixSet}/{z}/{row}/{col}.png or "
            ".jpeg"),
        "/collections/{collectionId}/coverage": {**collection, "get": op(
            "getCoverage", "The coverage, or a part of it, as GeoTIFF or CoverageJSON",
            ["subset", "subset-crs", "bbox-coverage", "bbox-crs-coverage", "scale-size",
             "scale-factor", "scale-axes", "properties-coverage", "crs-coverage",
             "f-coverage", "lang", "scaleSize"],
            # a heavy request (limits.py): counted against the client's rate
            {"200": "Coverage", "304": "NotModified", "429": "TooManyRequests"})},
        "/collections/{collectionId}/coverage/domainset": {**collection, "get": op(
            "getCoverageDomainSet", "The coverage's grid (CIS 1.1 JSON)", ["lang"],
            {"200": "Json"})},
        "/collections/{collectionId}/coverage/rangetype": {**collection, "get": op(
            "getCoverageRangeType", "The coverage's bands (CIS 1.1 JSON)", ["lang"],
            {"200": "Json"})},
        "/collections/{collectionId}/map": {**collection, "get": op(
            "getCollectionMap", "The collection as a map picture (OGC API - Maps)",
            ["bbox-map", "bbox-crs-map", "crs-map", "width", "height", "f-map", "transparent",
             "bgcolor", "lang"], {"200": "Map"}, "maps")},
        "/collections/{collectionId}/map/tiles": {**collection, "get": op(
            "getCollectionMapTileSetsList", "The collection's map tilesets", ["lang"],
            {"200": "Json"},
            "tiles")},
        "/collections/{collectionId}/map/tiles/{tileMatrixSetId}": {
            "parameters": tile, "get": op(
                "getCollectionMapTileSet", "A map tileset (f=tilejson: TileJSON 3.0 with a "
                "legend)", ["f-tileset", "rescale", "colormap", "lang"], {"200": "Json"}, "tiles")},
        "/collections/{collectionId}/map/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/"
        "{tileCol}": {
            "parameters": [*tile, *({"$ref": _P + n} for n in ("tileMatrix", "tileRow",
                                                                "tileCol"))],
            "get": op("getCollectionMapTile", "One map tile (PNG; a vector layer's also "
                      "JPEG with f=jpeg)", ["rescale", "colormap", "v", "f-map", "lang"],
                      {"200": "MapTile", "204": "EmptyMapTile", "302": "OtherVersion",
                       "304": "NotModified"},
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
    "scale-size as an earlier draft spelt it (GDAL 3.6 to 3.8 send it)": {
        "be": "scale-size у напісанні ранейшага праекта стандарту (яго дасылаюць GDAL 3.6-3.8)",
        "ru": "scale-size в написании раннего проекта стандарта (его присылают GDAL 3.6-3.8)"},
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
    "A 256 px map tile: PNG, or JPEG with f=jpeg (a vector layer's); a raster's nodata is "
    "transparent": {
        "be": "Картаграфічны тайл 256 пікселяў: PNG або JPEG з f=jpeg (для вектарнага пласта); "
              "адсутныя даныя растра празрыстыя",
        "ru": "Картографический тайл 256 пикселей: PNG или JPEG с f=jpeg (для векторного слоя); "
              "отсутствующие данные растра прозрачны"},
    "The raster has no pixels in this tile": {"be": "У гэтым тайле няма пікселяў растра",
                                              "ru": "В этом тайле нет пикселей растра"},
    "The coverage, or a part of it, as GeoTIFF or CoverageJSON": {
        "be": "Пакрыццё або яго частка ў GeoTIFF ці CoverageJSON",
        "ru": "Покрытие или его часть в GeoTIFF или CoverageJSON"},
    "The coverage's grid (CIS 1.1 JSON)": {"be": "Сетка пакрыцця (CIS 1.1 JSON)",
                                           "ru": "Сетка покрытия (CIS 1.1 JSON)"},
    "The coverage's bands (CIS 1.1 JSON)": {"be": "Каналы пакрыцця (CIS 1.1 JSON)",
                                            "ru": "Каналы покрытия (CIS 1.1 JSON)"},
    "The collection's map tilesets": {"be": "Наборы картаграфічных тайлаў калекцыі",
                                      "ru": "Наборы картографических тайлов коллекции"},
    "A map tileset (f=tilejson: TileJSON 3.0 with a legend)": {
        "be": "Набор картаграфічных тайлаў (f=tilejson: TileJSON 3.0 з легендай)",
        "ru": "Набор картографических тайлов (f=tilejson: TileJSON 3.0 с легендой)"},
    "One map tile (PNG; a vector layer's also JPEG with f=jpeg)": {
        "be": "Адзін картаграфічны тайл (PNG; у вектарнага пласта таксама JPEG з f=jpeg)",
        "ru": "Один картографический тайл (PNG; у векторного слоя также JPEG с f=jpeg)"},
    # OGC API - Maps and the classic services (issue 20)
    "The tile matrix set: WebMercatorQuad, or BelarusEPSG4326 (a geographic grid over "
    "Belarus)": {
        "be": "Набор матрыц тайлаў: WebMercatorQuad або BelarusEPSG4326 (геаграфічная сетка "
              "над Беларуссю)",
        "ru": "Набор матриц тайлов: WebMercatorQuad или BelarusEPSG4326 (географическая сетка "
              "над Беларусью)"},
    "png (the default) or jpeg": {"be": "png (па змаўчанні) або jpeg",
                                  "ru": "png (по умолчанию) или jpeg"},
    "The map's area as minx,miny,maxx,maxy in CRS84 (or bbox-crs, in its axis order); the "
    "collection's extent when absent": {
        "be": "Абшар карты як minx,miny,maxx,maxy у CRS84 (або bbox-crs, у яе парадку восей); "
              "калі няма, ахоп калекцыі",
        "ru": "Область карты как minx,miny,maxx,maxy в CRS84 (или bbox-crs, в её порядке "
              "осей); если нет, охват коллекции"},
    "The CRS of bbox (CRS84 when absent)": {"be": "СК bbox (CRS84, калі няма)",
                                            "ru": "СК bbox (CRS84, если нет)"},
    "The map's CRS (CRS84 when absent): one of the collection's CRSs": {
        "be": "СК карты (CRS84, калі няма): адна з СК калекцыі",
        "ru": "СК карты (CRS84, если нет): одна из СК коллекции"},
    "The map's width in pixels (with height alone: from the box's shape; neither: 1024)": {
        "be": "Шырыня карты ў пікселях (толькі з height: па форме абшару; без абодвух: 1024)",
        "ru": "Ширина карты в пикселях (только с height: по форме области; без обоих: 1024)"},
    "The map's height in pixels (from the width and the box's shape when absent)": {
        "be": "Вышыня карты ў пікселях (калі няма, па шырыні і форме абшару)",
        "ru": "Высота карты в пикселях (если нет, по ширине и форме области)"},
    "A transparent background (PNG; the default) or not": {
        "be": "Празрысты фон (PNG; па змаўчанні) або не",
        "ru": "Прозрачный фон (PNG; по умолчанию) или нет"},
    "The background colour, 0xRRGGBB": {"be": "Колер фону, 0xRRGGBB",
                                        "ru": "Цвет фона, 0xRRGGBB"},
    "The collection as a picture (OGC API - Maps); headers Content-Bbox and Content-Crs say "
    "where it lies": {
        "be": "Калекцыя як малюнак (OGC API - Maps); загалоўкі Content-Bbox і Content-Crs "
              "кажуць, дзе ён ляжыць",
        "ru": "Коллекция как изображение (OGC API - Maps); заголовки Content-Bbox и "
              "Content-Crs говорят, где оно лежит"},
    "The service's answer: capabilities (XML), a map or tile (PNG, JPEG), features (GML, "
    "GeoJSON), feature info (HTML, JSON, GML, text), a legend (PNG)": {
        "be": "Адказ сэрвісу: магчымасці (XML), карта або тайл (PNG, JPEG), аб'екты (GML, "
              "GeoJSON), звесткі пра аб'ект (HTML, JSON, GML, тэкст), легенда (PNG)",
        "ru": "Ответ сервиса: возможности (XML), карта или тайл (PNG, JPEG), объекты (GML, "
              "GeoJSON), сведения об объекте (HTML, JSON, GML, текст), легенда (PNG)"},
    "An OGC exception report naming the parameter (WMS ServiceExceptionReport, OWS "
    "ExceptionReport)": {
        "be": "Справаздача OGC пра памылку з назвай параметра (WMS ServiceExceptionReport, OWS "
              "ExceptionReport)",
        "ru": "Отчёт OGC об ошибке с названием параметра (WMS ServiceExceptionReport, OWS "
              "ExceptionReport)"},
    "The collection as a map picture (OGC API - Maps)": {
        "be": "Калекцыя як малюнак карты (OGC API - Maps)",
        "ru": "Коллекция как изображение карты (OGC API - Maps)"},
    "WMS 1.3.0 and 1.1.1 (GetCapabilities, GetMap, GetFeatureInfo, GetLegendGraphic)": {
        "be": "WMS 1.3.0 і 1.1.1 (GetCapabilities, GetMap, GetFeatureInfo, GetLegendGraphic)",
        "ru": "WMS 1.3.0 и 1.1.1 (GetCapabilities, GetMap, GetFeatureInfo, GetLegendGraphic)"},
    "WFS 2.0, 1.1 and 1.0, read-only (GetCapabilities, DescribeFeatureType, GetFeature, "
    "GetPropertyValue); also POSTed XML": {
        "be": "WFS 2.0, 1.1 і 1.0, толькі чытанне (GetCapabilities, DescribeFeatureType, "
              "GetFeature, GetPropertyValue); таксама XML праз POST",
        "ru": "WFS 2.0, 1.1 и 1.0, только чтение (GetCapabilities, DescribeFeatureType, "
              "GetFeature, GetPropertyValue); также XML через POST"},
    "WMTS 1.0 in key-value pairs (GetCapabilities, GetTile)": {
        "be": "WMTS 1.0 парамі ключ-значэнне (GetCapabilities, GetTile)",
        "ru": "WMTS 1.0 парами ключ-значение (GetCapabilities, GetTile)"},
    "WMTS 1.0's RESTful capabilities": {"be": "Магчымасці WMTS 1.0 у стылі REST",
                                        "ru": "Возможности WMTS 1.0 в стиле REST"},
    "Key-value pairs as the standard defines them (SERVICE, VERSION, REQUEST...; names in any "
    "case); vendor parameters are ignored": {
        "be": "Пары ключ-значэнне, як іх вызначае стандарт (SERVICE, VERSION, REQUEST...; "
              "назвы ў любым рэгістры); параметры вытворцаў ігнаруюцца",
        "ru": "Пары ключ-значение, как их определяет стандарт (SERVICE, VERSION, REQUEST...; "
              "имена в любом регистре); параметры производителей игнорируются"},
    "Tiles at /wmts/1.0.0/{layer}/default/{tileMatrixSet}/{z}/{row}/{col}.png or .jpeg": {
        "be": "Тайлы па адрасе /wmts/1.0.0/{layer}/default/{tileMatrixSet}/{z}/{row}/{col}.png "
              "або .jpeg",
        "ru": "Тайлы по адресу /wmts/1.0.0/{layer}/default/{tileMatrixSet}/{z}/{row}/{col}.png "
              "или .jpeg"},
    "Maps of every layer (OGC API - Maps)": {"be": "Карты кожнага пласта (OGC API - Maps)",
                                             "ru": "Карты каждого слоя (OGC API - Maps)"},
    "WMS, WFS and WMTS for GIS programs that do not speak OGC API": {
        "be": "WMS, WFS і WMTS для ГІС-праграм, якія не размаўляюць на OGC API",
        "ru": "WMS, WFS и WMTS для ГИС-программ, которые не понимают OGC API"},
}
