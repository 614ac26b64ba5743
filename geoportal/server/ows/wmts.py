"""WMTS 1.0: the capabilities document (written here: MapServer serves no WMTS) and the
GetTile request in its two encodings.

KVP: ``/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cities&STYLE=default&FORMAT=
image/png&TILEMATRIXSET=WebMercatorQuad&TILEMATRIX=7&TILEROW=41&TILECOL=73``; RESTful:
``/wmts/1.0.0/cities/default/WebMercatorQuad/7/41/73.png``, the capabilities at
``/wmts/1.0.0/WMTSCapabilities.xml``. Every published layer is offered on both grids
(``map_tiles.GRIDS``) with the rows and columns that hold it at each level.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from xml.sax.saxutils import escape, quoteattr

from geoportal.catalog import Layer
from geoportal.fields import pick_language
from geoportal.i18n import tr
from geoportal.server.ows.kvp import OgcError, Params
from geoportal.server.ows.map_tiles import FORMATS, GRIDS, MapTile, grid, limits, tile_of
from geoportal.server.ows.mapfile import BELARUS

__all__ = ["capabilities", "get_tile"]

_CRS_URN = {"WebMercatorQuad": "urn:ogc:def:crs:EPSG::3857",
            "BelarusEPSG4326": "urn:ogc:def:crs:EPSG::4326"}
_WKSS = {"WebMercatorQuad": "urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible"}
_CAPABILITIES = "/wmts/1.0.0/WMTSCapabilities.xml"
_TEMPLATE = "{Style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}"
_TITLE = {"be": "Геапартал Беларусі: пліткі карт", "ru": "Геопортал Беларуси: тайлы карт",
          "en": "Geoportal of Belarus: map tiles"}


def get_tile(params: Params) -> tuple[str, str, MapTile]:
    """The layer name, media type and tile of a KVP GetTile request."""
    layer = params.required("LAYER")
    style = params.get("STYLE").strip()
    if style not in ("", "default"):
        raise OgcError(tr("style {name} is not offered; every layer has the style default",
                          name=repr(style[:40])), "InvalidParameterValue", "style")
    media = params.required("FORMAT")
    if media not in FORMATS.values():
        raise OgcError(tr("format {name} is not offered; use image/png or image/jpeg",
                          name=repr(media[:40])), "InvalidParameterValue", "format")
    tile = tile_of(params.required("TILEMATRIXSET"), params.required("TILEMATRIX"),
                   params.required("TILEROW"), params.required("TILECOL"))
    return layer, media, tile


def _corner(grid_name: str, z: int) -> str:
    origin = grid(grid_name).matrix(z).pointOfOrigin  # in the CRS's axis order
    return f"{origin[0]!r} {origin[1]!r}"


def _matrix_set(grid_name: str) -> str:
    tms = grid(grid_name)
    matrices = []
    for z in range(tms.maxzoom + 1):
        matrix = tms.matrix(z)
        matrices.append(
            "<TileMatrix>"
            f"<ows:Identifier>{z}</ows:Identifier>"
            f"<ScaleDenominator>{matrix.scaleDenominator!r}</ScaleDenominator>"
            f"<TopLeftCorner>{_corner(grid_name, z)}</TopLeftCorner>"
            f"<TileWidth>{matrix.tileWidth}</TileWidth><TileHeight>{matrix.tileHeight}"
            f"</TileHeight><MatrixWidth>{matrix.matrixWidth}</MatrixWidth>"
            f"<MatrixHeight>{matrix.matrixHeight}</MatrixHeight></TileMatrix>\n")
    known = f"<WellKnownScaleSet>{_WKSS[grid_name]}</WellKnownScaleSet>" \
        if grid_name in _WKSS else ""
    return (f"<TileMatrixSet><ows:Identifier>{grid_name}</ows:Identifier>"
            f"<ows:SupportedCRS>{_CRS_URN[grid_name]}</ows:SupportedCRS>{known}\n"
            f"{''.join(matrices)}</TileMatrixSet>\n")


def _layer(layer: Layer, language: str, base: str, legend: bool) -> str:
    meta = layer.meta
    title = pick_language(meta.title, language) or layer.id
    abstract = pick_language(meta.description, language) or ""
    keywords = meta.keywords.get(language) or meta.keywords.get("en") or []
    version = layer.current
    box = version.extent if version is not None and version.extent else BELARUS
    links = []
    for grid_name in GRIDS:
        rows = "".join(
            f"<TileMatrixLimits><TileMatrix>{x['z']}</TileMatrix>"
            f"<MinTileRow>{x['min_row']}</MinTileRow><MaxTileRow>{x['max_row']}</MaxTileRow>"
            f"<MinTileCol>{x['min_col']}</MinTileCol><MaxTileCol>{x['max_col']}</MaxTileCol>"
            "</TileMatrixLimits>" for x in limits(box, grid_name))
        links.append(f"<TileMatrixSetLink><TileMatrixSet>{grid_name}</TileMatrixSet>"
                     f"<TileMatrixSetLimits>{rows}</TileMatrixSetLimits></TileMatrixSetLink>\n")
    resources = "".join(
        f'<ResourceURL format="{media}" resourceType="tile" template='
        f"{quoteattr(f'{base}/wmts/1.0.0/{layer.id}/{_TEMPLATE}.{ext}')}/>\n"
        for ext, media in (("png", "image/png"), ("jpeg", "image/jpeg")))
    words = "".join(f"<ows:Keyword>{escape(str(k))}</ows:Keyword>" for k in keywords)
    return ("<Layer>"
            f"<ows:Title>{escape(title)}</ows:Title>"
            f"<ows:Abstract>{escape(abstract)}</ows:Abstract>"
            + (f"<ows:Keywords>{words}</ows:Keywords>" if words else "") +
            "<ows:WGS84BoundingBox>"
            f"<ows:LowerCorner>{box[0]!r} {box[1]!r}</ows:LowerCorner>"
            f"<ows:UpperCorner>{box[2]!r} {box[3]!r}</ows:UpperCorner>"
            "</ows:WGS84BoundingBox>"
            f"<ows:Identifier>{layer.id}</ows:Identifier>\n"
            '<Style isDefault="true"><ows:Identifier>default</ows:Identifier>'
            + (_legend_url(layer.id, language, base) if legend else "") + "</Style>"
            "<Format>image/png</Format><Format>image/jpeg</Format>\n"
            f"{''.join(links)}{resources}</Layer>\n")


def _legend_url(layer_id: str, language: str, base: str) -> str:
    """The WMS GetLegendGraphic of a layer, in ``language``: the WMTS has none of its own."""
    href = (f"{base}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetLegendGraphic&LAYER={layer_id}"
            f"&FORMAT=image/png&SLD_VERSION=1.1.0&LANGUAGE={language}")
    return f'<LegendURL format="image/png" xlink:href={quoteattr(href)}/>'


def capabilities(layers: Sequence[Layer], language: str, base: str,
                 legends: Collection[str] = ()) -> bytes:
    """The WMTS 1.0.0 capabilities of ``layers`` in ``language``, for the service at ``base``;
    the layers named in ``legends`` link their legend."""
    title = _TITLE.get(language, _TITLE["en"])
    kvp = f"{base}/wmts?"

    def operation(name: str) -> str:
        return (f'<ows:Operation name="{name}"><ows:DCP><ows:HTTP>'
                f'<ows:Get xlink:href={quoteattr(kvp)}><ows:Constraint name="GetEncoding">'
                "<ows:AllowedValues><ows:Value>KVP</ows:Value></ows:AllowedValues>"
                "</ows:Constraint></ows:Get>"
                f'<ows:Get xlink:href={quoteattr(f"{base}/wmts/1.0.0/")}>'
                '<ows:Constraint name="GetEncoding"><ows:AllowedValues>'
                "<ows:Value>RESTful</ows:Value></ows:AllowedValues></ows:Constraint></ows:Get>"
                "</ows:HTTP></ows:DCP></ows:Operation>\n")

    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Capabilities xmlns="http://www.opengis.net/wmts/1.0" '
        'xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:gml="http://www.opengis.net/gml" '
        'xsi:schemaLocation="http://www.opengis.net/wmts/1.0 '
        'http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd" '
        'version="1.0.0">\n'
        "<ows:ServiceIdentification>"
        f"<ows:Title>{escape(title)}</ows:Title>"
        "<ows:ServiceType>OGC WMTS</ows:ServiceType>"
        "<ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion>"
        "<ows:Fees>none</ows:Fees><ows:AccessConstraints>none</ows:AccessConstraints>"
        "</ows:ServiceIdentification>\n"
        f"<ows:OperationsMetadata>\n{operation('GetCapabilities')}{operation('GetTile')}"
        "</ows:OperationsMetadata>\n"
        "<Contents>\n"
        + "".join(_layer(layer, language, base, layer.id in legends) for layer in layers)
        + "".join(_matrix_set(name) for name in GRIDS)
        + "</Contents>\n"
        f"<ServiceMetadataURL xlink:href={quoteattr(base + _CAPABILITIES)}/>\n"
        "</Capabilities>\n")
    return body.encode("utf-8")
