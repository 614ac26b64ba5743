"""Mapfiles written from the catalog, never by hand: one ``LAYER`` per published layer.

A request's mapfile holds only the layers it names (a GetMap of one layer parses one layer,
whatever the size of the catalog), in the request's language; capabilities documents are
built from a mapfile of every published layer and kept per catalog generation (``cache``).
Files are named by the hash of their text, so a node writes each one once, a request never
sees a half-written file (written aside, then renamed), and changed layers simply lead to new
names. Nothing here opens a layer's data: capabilities need only the catalog's extents.
"""

from __future__ import annotations

import hashlib
import html
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from geoportal.catalog import Layer
from geoportal.fields import Field, pick_language
from geoportal.server.ows.capabilities import group_path
from geoportal.server.ows.styles import mapserver_type
from geoportal.server.ows.syntax import quoted
from geoportal.storage.base import RenderSource

__all__ = ["BELARUS", "CRS_CODES", "PLACEHOLDER", "MapfileWriter", "Service", "layer_block",
           "map_text", "placeholder_block", "raster_block"]

BELARUS = (23.1, 51.2, 32.8, 56.2)  # lon/lat, with a margin
# The CRSs of every layer (OGC API - Features Part 2 offers the same): WGS 84, Web Mercator,
# UTM 34N-36N, Pulkovo 1942 Gauss-Kruger zones 4-6 and Pulkovo 1942 itself.
CRS_CODES = ("EPSG:4326", "EPSG:3857", "EPSG:32634", "EPSG:32635", "EPSG:32636",
             "EPSG:28404", "EPSG:28405", "EPSG:28406", "EPSG:4284")
_TITLE = {"be": "Геапартал Беларусі", "ru": "Геопортал Беларуси",
          "en": "Geoportal of Belarus"}
_ABSTRACT = {
    "be": "Муніцыпальныя і нацыянальныя пласты ГІС Беларусі: картографічныя і "
          "спампоўваемыя праз адкрытыя стандарты OGC.",
    "ru": "Муниципальные и национальные слои ГИС Беларуси: карты и загрузка данных через "
          "открытые стандарты OGC.",
    "en": "Municipal and national GIS layers of Belarus, as maps and data through the open "
          "OGC standards.",
}
# ows_enable_request "*": services.py passes only WMS and WFS, and only these operations (an
# "!*" there would also refuse the WMS capabilities of a catalog with no layer yet)
_WFS_REQUESTS = ("GetCapabilities DescribeFeatureType GetFeature GetPropertyValue "
                 "ListStoredQueries DescribeStoredQueries")
# (not GML 3.1.1: MapServer would answer it with the HTML template, and QGIS, which picks the
# last GML format listed, would find no feature in it)
_INFO_FORMATS = "text/html,application/json,application/vnd.ogc.gml,text/plain"
_CONTACT = {"be": "Служба падтрымкі геапартала", "ru": "Служба поддержки геопортала",
            "en": "Geoportal service desk"}
_VALUE = {"be": "Значэнне", "ru": "Значение", "en": "Value"}
_TEMPLATE_MAGIC = "<!-- MapServer Template -->\n"


@dataclass(frozen=True)
class Service:
    """What every mapfile of one request shares: the public address, the language, the page
    cap of GetFeature and where the fonts and templates are."""

    base_url: str
    language: str
    max_features: int
    max_size: int
    fontset: Path | None


def map_text(service: Service, layers: Sequence[str]) -> str:
    """A whole mapfile: the service's metadata, output formats and ``layers`` (their blocks).
    The WMS's operations are advertised with the request's ``LANGUAGE``: a client that read
    the capabilities in Russian gets its maps, feature info and legends in Russian too."""
    lang = service.language
    title = _TITLE[lang] if lang in _TITLE else _TITLE["en"]
    abstract = _ABSTRACT.get(lang, _ABSTRACT["en"])
    base = service.base_url.rstrip("/")
    srs = " ".join(CRS_CODES)
    fontset = f'  FONTSET "{quoted(str(service.fontset))}"\n' if service.fontset else ""
    return f"""MAP
  NAME "geoportal"
  EXTENT {" ".join(map(repr, BELARUS))}
  SIZE 256 256
  MAXSIZE {service.max_size}
  UNITS DD
  RESOLUTION 96
  DEFRESOLUTION 96
  IMAGECOLOR 255 255 255
  DEBUG 0
{fontset}  PROJECTION "init=epsg:4326" END
  SYMBOL NAME "circle" TYPE ELLIPSE FILLED TRUE POINTS 1 1 END END
  OUTPUTFORMAT NAME "png" DRIVER "AGG/PNG" MIMETYPE "image/png" IMAGEMODE RGBA EXTENSION "png"
    TRANSPARENT ON FORMATOPTION "COMPRESSION=3" END
  OUTPUTFORMAT NAME "jpeg" DRIVER "AGG/JPEG" MIMETYPE "image/jpeg" IMAGEMODE RGB EXTENSION "jpg"
    FORMATOPTION "QUALITY=85" END
  OUTPUTFORMAT NAME "geojson" DRIVER "OGR/GEOJSON" MIMETYPE "application/json"
    FORMATOPTION "FORM=SIMPLE" FORMATOPTION "STORAGE=memory" FORMATOPTION "USE_FEATUREID=true"
    FORMATOPTION "LCO:RFC7946=YES" END
  WEB
    METADATA
      "ows_title" "{quoted(title)}"
      "ows_abstract" "{quoted(abstract)}"
      "ows_keywordlist" "Belarus,geoportal,smart city"
      "ows_fees" "none"
      "ows_accessconstraints" "none"
      "ows_contactorganization" "{quoted(title)}"
      "ows_contactperson" "{quoted(_CONTACT.get(lang, _CONTACT["en"]))}"
      "ows_contactposition" "{quoted(_CONTACT.get(lang, _CONTACT["en"]))}"
      "ows_srs" "{srs}"
      "wms_srs" "{srs} CRS:84"
      "wms_onlineresource" "{quoted(base)}/wms?LANGUAGE={quoted(lang)}&"
      "wfs_onlineresource" "{quoted(base)}/wfs?"
      "ows_enable_request" "*"
      "wms_enable_request" "GetCapabilities GetMap GetFeatureInfo GetLegendGraphic"
      "wms_allow_getmap_without_styles" "true"
      "wfs_enable_request" "{_WFS_REQUESTS}"
      "wms_feature_info_mime_type" "text/html"
      "wms_getfeatureinfo_formatlist" "{_INFO_FORMATS}"
      "wms_getmap_formatlist" "image/png,image/jpeg"
      "wms_bbox_extended" "true"
      "wfs_getfeature_formatlist" "geojson"
      "wfs_maxfeatures" "{service.max_features}"
      "wfs_namespace_prefix" "geoportal"
      "wfs_namespace_uri" "{quoted(base)}/wfs"
      "wfs_compute_number_matched" "true"
    END
  END
  LEGEND KEYSIZE 20 12 LABEL TYPE BITMAP SIZE MEDIUM COLOR 0 0 0 END END
{"".join(layers)}END
"""


def _texts(layer: Layer, lang: str) -> tuple[str, str, list[str]]:
    meta = layer.meta
    title = pick_language(meta.title, lang) or layer.id
    abstract = pick_language(meta.description, lang) or ""
    keywords = meta.keywords.get(lang) or meta.keywords.get("en") or []
    return title, abstract, [str(k) for k in keywords]


def _common_metadata(layer: Layer, lang: str, base: str) -> str:
    title, abstract, keywords = _texts(layer, lang)
    meta = layer.meta
    base = base.rstrip("/")
    lines = [
        f'"ows_title" "{quoted(title)}"',
        f'"ows_abstract" "{quoted(abstract)}"',
        f'"ows_keywordlist" "{quoted(",".join(k.replace(",", " ") for k in keywords))}"',
        f'"wms_layer_group" "{quoted(group_path(meta.theme, meta.region))}"',
        f'"ows_metadataurl_href" "{quoted(base)}/collections/{layer.id}?f=json"',
        '"ows_metadataurl_format" "application/json"',
        '"ows_metadataurl_type" "TC211"',
    ]
    if meta.attribution:
        lines.append(f'"wms_attribution_title" "{quoted(meta.attribution)}"')
        lines.append(f'"wms_attribution_onlineresource" "{quoted(base)}/collections/{layer.id}"')
    return "".join(f"      {line}\n" for line in lines)


def _extent(layer: Layer) -> str:
    version = layer.current
    box = version.extent if version is not None and version.extent else BELARUS
    # a little wider than the catalog's (rounded) extent: MapServer filters features by it
    pad = 0.001 if box[2] - box[0] <= 0 or box[3] - box[1] <= 0 else 0.0001
    minx, miny, maxx, maxy = box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad
    return " ".join(repr(float(v)) for v in (minx, miny, maxx, maxy))


# the name of the one layer of a WFS with no published vector layer (see placeholder_block)
PLACEHOLDER = "geoportal-no-layer"


def placeholder_block() -> str:
    """A layer of one inline point with no data behind it, for the capabilities of a WFS that
    has no published vector layer yet: MapServer refuses every request of a WFS without a
    layer, and the capabilities then drop this one (``without_placeholder``)."""
    return (f'  LAYER\n    NAME "{PLACEHOLDER}"\n    TYPE POINT\n    STATUS OFF\n'
            '    FEATURE POINTS 27.56 53.9 END END\n'
            '    PROJECTION "init=epsg:4326" END\n'
            '    METADATA "ows_title" "-" "wfs_enable_request" "GetCapabilities" END\n'
            "  END\n")


def layer_block(layer: Layer, source: RenderSource, service: Service,
                template: Path | None, classes: str) -> str:
    """The ``LAYER`` of a published vector layer, read from ``source``."""
    version = layer.current
    assert version is not None
    lang = service.language
    kind = mapserver_type(version.geometry_type)
    if source.kind == "postgis":
        connection = (f"  CONNECTIONTYPE POSTGIS\n  CONNECTION \"{quoted(source.connection)}\"\n"
                      f"  DATA \"{source.geometry} from {source.table} using unique "
                      f"{source.fid} using srid=4326\"\n")
    else:
        connection = (f"  CONNECTIONTYPE OGR\n  CONNECTION \"{quoted(source.connection)}\"\n"
                      f"  DATA \"{quoted(source.table)}\"\n")
    tolerance = {"POINT": 6, "LINE": 4}.get(kind, 0)
    items = ""
    if source.kind == "ogr" and version.fields:
        # OGR keeps a GeoPackage's fid apart from the fields: named here, it is one, and
        # becomes the features' gml:id and GeoJSON id
        names = ",".join([source.fid, *(f.name for f in version.fields)])
        items = f'  PROCESSING "ITEMS={quoted(names)}"\n'

    template_line = f'  TEMPLATE "{quoted(str(template))}"\n' if template else ""
    return f"""LAYER
  NAME "{layer.id}"
  TYPE {kind}
  STATUS ON
{connection}  PROJECTION "init=epsg:4326" END
  EXTENT {_extent(layer)}
{template_line}{items}  TOLERANCE {tolerance}
  TOLERANCEUNITS PIXELS
  METADATA
{_common_metadata(layer, lang, service.base_url)}      "gml_include_items" "all"
      "gml_exclude_items" "{source.fid}"
      "gml_featureid" "{source.fid}"
      "gml_geometries" "{source.geometry}"
      "gml_{source.geometry}_type" "{_gml_type(version.geometry_type)}"
{_gml_types(version.fields)}      "wms_include_items" "all"
      "wfs_getfeature_formatlist" "geojson"
  END
{classes}END
"""


# MapServer's GML item types by our field types (DescribeFeatureType, GeoJSON numbers)
_ITEM_TYPES = {"integer": "Long", "number": "Real", "boolean": "Boolean", "date": "Date",
               "date-time": "DateTime", "time": "Time", "string": "Character"}


def _gml_types(fields: Sequence[Field]) -> str:
    """Each field's ``gml_<name>_type``; ``auto`` (the source's own) when none are known."""
    if not fields:
        return '      "gml_types" "auto"\n'
    return "".join(f'      "gml_{quoted(f.name)}_type" "{_ITEM_TYPES.get(f.type, "Character")}"\n'
                   for f in fields)


def _gml_type(geometry_type: str | None) -> str:
    name = (geometry_type or "").lower().replace(" ", "")
    return {"point": "point", "multipoint": "multipoint", "linestring": "line",
            "multilinestring": "multiline", "polygon": "polygon",
            "multipolygon": "multipolygon"}.get(name, "geometry")


def raster_block(layer: Layer, path: str, service: Service, classes: str,
                 template: Path | None) -> str:
    """The ``LAYER`` of a published raster (its COG at ``path``: a file or ``/vsis3/``)."""
    template_line = f'  TEMPLATE "{quoted(str(template))}"\n' if template else ""
    return f"""LAYER
  NAME "{layer.id}"
  TYPE RASTER
  STATUS ON
  DATA "{quoted(path)}"
  PROJECTION AUTO END
  EXTENT {_extent(layer)}
  PROCESSING "RESAMPLE=NEAREST"
{template_line}  METADATA
{_common_metadata(layer, service.language, service.base_url)}      "wms_include_items" "all"
      "wfs_enable_request" "!*"
  END
{classes}END
"""


def feature_info_template(layer: Layer, lang: str) -> str:
    """The HTML GetFeatureInfo template of a vector layer: a table per feature, its fields
    titled in ``lang`` (MapServer escapes the values)."""
    version = layer.current
    assert version is not None
    title = html.escape(_texts(layer, lang)[0])
    rows = "".join(
        f"<tr><th>{html.escape(f.title_in(lang))}</th>"
        f"<td>[item name=\"{quoted(f.name)}\" escape=\"html\"]</td></tr>\n"
        for f in version.fields)
    return (f"{_TEMPLATE_MAGIC}<table class=\"feature\"><caption>{title}</caption>\n"
            f"{rows}</table>\n")


def raster_info_template(layer: Layer, lang: str) -> str:
    """The HTML GetFeatureInfo template of a raster: the value under the point."""
    title = html.escape(_texts(layer, lang)[0])
    unit = (layer.meta.view or {}).get("unit")
    unit_text = pick_language(unit, lang) if isinstance(unit, dict) else unit
    label = _VALUE.get(lang, _VALUE["en"]) + (f", {unit_text}" if unit_text else "")
    return (f"{_TEMPLATE_MAGIC}<table class=\"feature\"><caption>{title}</caption>\n"
            f"<tr><th>{html.escape(label)}</th><td>[value_0]</td></tr>\n</table>\n")


class MapfileWriter:
    """Writes mapfiles and templates into ``workdir`` by the hash of their text (each once),
    and removes files nobody used for ``keep_s`` seconds."""

    def __init__(self, workdir: Path, keep_s: float = 3600.0) -> None:
        self.workdir = workdir
        self.keep_s = keep_s
        self._known: dict[str, float] = {}
        self._lock = threading.Lock()
        self._swept = time.monotonic()

    def write(self, text: str, suffix: str) -> Path:
        """The file holding ``text`` (``<sha1>.<suffix>``), written if new."""
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
        path = self.workdir / f"{digest}.{suffix}"
        now = time.monotonic()
        with self._lock:
            seen = path.name in self._known
            self._known[path.name] = now
        if not seen or not path.exists():
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        if now - self._swept > 60:
            self._sweep(now)
        return path

    def _sweep(self, now: float) -> None:
        with self._lock:
            self._swept = now
            old = [name for name, used in self._known.items() if now - used > self.keep_s]
            for name in old:
                del self._known[name]
        for name in old:
            (self.workdir / name).unlink(missing_ok=True)
