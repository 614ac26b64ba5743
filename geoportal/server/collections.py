"""``/collections`` and ``/collections/{collectionId}``, built once per layer and cached.

pygeoapi's ``describe_collections`` regenerates every collection's description (about 20
translated strings and 15 links each) on every request: 1-1.5 s and 15 MB at 5,000 layers,
and its HTML page first deep-copies and translates the whole configuration (over 30 s). Here
each collection's JSON is generated once per layer version and language and kept across
catalog generations while the layer is unchanged; ``/collections`` joins the cached JSON.
The documents have exactly the shape of pygeoapi's (``gen_collection``), which a test checks,
because that is what OWSLib, GDAL and QGIS read.

``/collections`` is paged (``limit``, default ``DEFAULT_PAGE``, at most ``MAX_PAGE``, and
``offset``; ``numberMatched``, ``numberReturned`` and ``next``/``prev`` links), so no request
describes 20,000 collections. The descriptions kept are the last ``ENTRIES_KEPT``.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from functools import lru_cache
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pyproj
from babel import Locale
from pygeoapi import l10n
from pygeoapi.api import APIRequest
from pygeoapi.api import describe_collections as pygeoapi_describe_collections
from pygeoapi.api.collection import OGC_RELTYPES_BASE, gen_collection
from pygeoapi.crs import DEFAULT_STORAGE_CRS, get_supported_crs_list
from pygeoapi.formats import F_HTML, F_JSON, F_JSONLD, FORMAT_TYPES
from pygeoapi.util import get_dataset_formatters, render_j2_template

from geoportal.catalog.models import LANGUAGES
from geoportal.errors import InputError
from geoportal.i18n import tr
from geoportal.providers.coverage import domain_set, range_type
from geoportal.server.metrics import collection_cache_lookup
from geoportal.server.pygeoapi_config import FACTS

if TYPE_CHECKING:
    from geoportal.server.live import PortalAPI

__all__ = ["DEFAULT_PAGE", "MAX_PAGE", "CollectionDocs", "Page", "card_facts",
           "collection_entry", "crs_name", "describe_collections", "page_of", "service_urls"]

DEFAULT_PAGE = 100  # collections per /collections page unless ``limit`` says otherwise
MAX_PAGE = 1000
ENTRIES_KEPT = 3000  # collection descriptions (JSON, one language each) kept per worker
_PAGES_KEPT = 32  # HTML pages of /collections kept per worker

# The fixed link titles of a collection, translated by pygeoapi's message catalogs.
_TITLES = (
    "The landing page of this server as JSON", "The landing page of this server as HTML",
    "This document as JSON", "This document as RDF (JSON-LD)", "This document as HTML",
    "Schema of collection in JSON", "Schema of collection in HTML",
    "Queryables for this collection as JSON", "Queryables for this collection as HTML",
    "Items as GeoJSON", "Items as RDF (GeoJSON-LD)", "Items as HTML",
)
_COMPACT = (",", ":")
_LANGUAGE_KEYS = frozenset(LANGUAGES)
_DOWNLOADS = {
    "GeoPackage": ("application/geopackage+sqlite3", "gpkg"),
    "GeoJSON": ("application/geo+json", "geojson"),
    "CSV": ("text/csv; charset=utf-8", "csv"),
    "zipped Shapefile": ("application/zip", "shp"),
}
_ID = "@@collection-id@@"  # stands for the collection id in the cached standard links
# rel of the JSON, JSON-LD and HTML links to the document itself, by the request's format.
Rels = tuple[str, str, str]


def _rels(request: APIRequest) -> Rels:
    return (request.get_linkrel(F_JSON), request.get_linkrel(F_JSONLD),
            request.get_linkrel(F_HTML))


class _Texts:
    """Translations for one locale: pygeoapi's message catalogs, and our be/ru/en texts."""

    def __init__(self, locale: Locale) -> None:
        self.locale = locale
        self.fixed = {text: l10n.translate(text, locale) for text in _TITLES}
        self._others: dict[str, str] = {}

    def message(self, text: str) -> str:
        """A fixed English text in this locale (``Items as CSV``...)."""
        found = self.fixed.get(text) or self._others.get(text)
        if found is None:
            found = self._others[text] = l10n.translate(text, self.locale)
        return found

    def pick(self, value: Any) -> Any:
        """``l10n.translate``: a language struct gives this locale's text; a plain string goes
        through the message catalogs. Our structs (keys be, ru, en) take the short path."""
        if isinstance(value, dict):
            language = self.locale.language
            if language in value and value.keys() <= _LANGUAGE_KEYS and value[language]:
                return value[language]
        return l10n.translate(value, self.locale)


def _is_plain_feature_collection(resource: dict[str, Any]) -> bool:
    """True when ``collection_entry`` describes the resource exactly as pygeoapi would: one
    feature provider, a spatial extent only, no enclosure links, no extra formatters."""
    providers = resource.get("providers") or []
    return (len(providers) == 1 and providers[0].get("type") == "feature"
            and set(resource.get("extents", {})) <= {"spatial"} and "formatters" not in resource
            and not any(link.get("rel") == "enclosure" for link in resource.get("links", [])))


@lru_cache(maxsize=1)
def _feature_formatters() -> tuple[tuple[str, str, str], ...]:
    """(name, media type, f) of the output formats pygeoapi adds to every feature collection
    (CSV): the same for all of them, so looked up once."""
    probe = {"providers": [{"type": "feature"}]}
    return tuple((key, formatter.mimetype, formatter.f)
                 for key, formatter in get_dataset_formatters(probe).items())


def _own_links(resource: dict[str, Any], texts: _Texts) -> list[dict[str, Any]]:
    """The links configured on the resource (its licence), translated."""
    links = []
    for link in resource.get("links", []):
        entry = {"type": link["type"], "rel": link["rel"], "title": texts.pick(link["title"]),
                 "href": texts.pick(link["href"])}
        if "hreflang" in link:
            entry["hreflang"] = texts.pick(link["hreflang"])
        if link.get("length", 0) > 0:
            entry["length"] = link["length"]
        links.append(entry)
    return links


def _document_links(base_url: str, url: str, texts: _Texts, rels: Rels
                    ) -> list[dict[str, str]]:
    """The links every collection description starts with: the landing page, this document
    in its three formats and its schema (JSON)."""
    msg = texts.message
    json_rel, jsonld_rel, html_rel = rels
    return [
        {"type": FORMAT_TYPES[F_JSON], "rel": "root",
         "title": msg("The landing page of this server as JSON"), "href": f"{base_url}?f=json"},
        {"type": FORMAT_TYPES[F_HTML], "rel": "root",
         "title": msg("The landing page of this server as HTML"), "href": f"{base_url}?f=html"},
        {"type": FORMAT_TYPES[F_JSON], "rel": json_rel, "title": msg("This document as JSON"),
         "href": f"{url}?f=json"},
        {"type": FORMAT_TYPES[F_JSONLD], "rel": jsonld_rel,
         "title": msg("This document as RDF (JSON-LD)"), "href": f"{url}?f=jsonld"},
        {"type": FORMAT_TYPES[F_HTML], "rel": html_rel, "title": msg("This document as HTML"),
         "href": f"{url}?f=html"},
        {"type": "application/schema+json", "rel": f"{OGC_RELTYPES_BASE}/schema",
         "title": msg("Schema of collection in JSON"), "href": f"{url}/schema?f=json"},
    ]


def _standard_links(base_url: str, url: str, texts: _Texts, rels: Rels) -> list[dict[str, str]]:
    """The links pygeoapi gives every feature collection at ``url``."""
    msg = texts.message
    links = [
        *_document_links(base_url, url, texts, rels),
        {"type": FORMAT_TYPES[F_HTML], "rel": f"{OGC_RELTYPES_BASE}/schema",
         "title": msg("Schema of collection in HTML"), "href": f"{url}/schema?f=html"},
        {"type": "application/schema+json", "rel": f"{OGC_RELTYPES_BASE}/queryables",
         "title": msg("Queryables for this collection as JSON"),
         "href": f"{url}/queryables?f=json"},
        {"type": FORMAT_TYPES[F_HTML], "rel": f"{OGC_RELTYPES_BASE}/queryables",
         "title": msg("Queryables for this collection as HTML"),
         "href": f"{url}/queryables?f=html"},
        # GDAL's OAPIF driver looks for rel "queryables" and a "queryables" list in it
        # (server.app.with_field_titles adds the list): then it sends a `where` as CQL2.
        {"type": FORMAT_TYPES[F_JSON], "rel": "queryables",
         "title": msg("Queryables for this collection as JSON"),
         "href": f"{url}/queryables?f=json"},
        {"type": "application/geo+json", "rel": "items", "title": msg("Items as GeoJSON"),
         "href": f"{url}/items?f=json"},
        {"type": FORMAT_TYPES[F_JSONLD], "rel": "items",
         "title": msg("Items as RDF (GeoJSON-LD)"), "href": f"{url}/items?f=jsonld"},
        {"type": FORMAT_TYPES[F_HTML], "rel": "items", "title": msg("Items as HTML"),
         "href": f"{url}/items?f=html"},
    ]
    for key, media_type, f in _feature_formatters():
        links.append({"type": media_type, "rel": "items", "title": msg(f"Items as {key}"),
                      "href": f"{url}/items?f={f}"})
    # Ours on top of pygeoapi's: vector tiles (server/tiles.py) and the whole collection as
    # files (server/downloads.py).
    links.append({"type": "application/json",
                  "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                  "title": "Vector tiles", "href": f"{url}/tiles"})
    # OGC API - Maps (server/ows/maps.py): the collection as a picture, and as map tiles
    links.append({"type": "image/png", "rel": "http://www.opengis.net/def/rel/ogc/1.0/map",
                  "title": "Map (PNG)", "href": f"{url}/map"})
    links.append({"type": "application/json",
                  "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map",
                  "title": "Map tiles (PNG, JPEG)", "href": f"{url}/map/tiles"})
    for name, (media_type, f) in _DOWNLOADS.items():
        links.append({"type": media_type, "rel": "enclosure", "title": f"Download as {name}",
                      "href": f"{url}/download?f={f}"})
    return links


def _details(resource: dict[str, Any], texts: _Texts) -> dict[str, Any]:
    """The members after ``links``: texts, extent, item type and CRSs."""
    spatial = resource["extents"]["spatial"]
    bbox = spatial["bbox"]
    extent: dict[str, Any] = {"bbox": [list(b) for b in bbox] if isinstance(bbox[0], list)
                              else [list(bbox)]}
    if "crs" in spatial:
        extent["crs"] = spatial["crs"]
    provider = resource["providers"][0]
    data: dict[str, Any] = {
        "title": texts.pick(resource["title"]),
        "description": texts.pick(resource["description"]),
        "keywords": texts.pick(resource["keywords"]),
        "extent": {"spatial": extent},
        "itemType": "feature",
        "crs": get_supported_crs_list({"crs": list(provider.get("crs", []))}),
        "storageCrs": provider.get("storage_crs", DEFAULT_STORAGE_CRS),
    }
    if "storage_crs_coordinate_epoch" in provider:
        data["storageCrsCoordinateEpoch"] = provider["storage_crs_coordinate_epoch"]
    return data


@lru_cache(maxsize=256)
def crs_name(uri: str) -> str:
    """A CRS's name as people know it ("WGS 84 / UTM zone 35N", "Pulkovo 1942 /
    Gauss-Kruger zone 5"), from pyproj's database; the URI itself when pyproj does not know
    it. Cached: a handful of CRSs serve every collection."""
    try:
        name: str = pyproj.CRS.from_user_input(uri).name
    except pyproj.exceptions.CRSError:
        return uri
    return name or uri


def service_urls(base_url: str, collection_id: str, coverage: bool) -> dict[str, str]:
    """The URLs a GIS program is given for a layer: OGC API - Features (vectors), the
    vector or map tiles as TileJSON, OGC API - Coverages (rasters). ``features`` is the
    collection's own URL, not its ``/items``: GDAL's OAPIF driver (3.6, Debian's) opens a
    collection URL and refuses an items URL (it reads the description there); ``items`` is
    given beside it for plain HTTP."""
    url = f"{base_url}/collections/{quote(collection_id, safe='')}"
    if coverage:
        return {"coverages": f"{url}/coverage",
                "tiles": f"{url}/map/tiles/WebMercatorQuad?f=tilejson"}
    return {"features": url, "items": f"{url}/items",
            "tiles": f"{url}/tiles/WebMercatorQuad?f=tilejson"}


def card_facts(base_url: str, collection_id: str, resource: dict[str, Any],
               crs: Sequence[str]) -> dict[str, Any]:
    """The layer card's facts as members of a collection description (issue 19): the
    standard ``attribution`` (OGC API - Common) and the rest as ``geoportal:*`` members, which
    the OGC API - Features collection schema allows (additional members) and clients ignore.
    Nothing unknown is written (no null members)."""
    facts = resource.get(FACTS) or {}
    coverage = _is_coverage(resource)
    members: dict[str, Any] = {}
    if facts.get("attribution"):
        members["attribution"] = facts["attribution"]
    for key, member in (("license", "geoportal:license"),
                        ("feature_count", "geoportal:featureCount"),
                        ("geometry_type", "geoportal:geometryType"),
                        ("source_date", "geoportal:sourceDate"),
                        ("updated", "geoportal:updated"),
                        ("published", "geoportal:published")):
        if facts.get(key) is not None:
            members[member] = facts[key]
    members["geoportal:crsNames"] = {uri: crs_name(uri) for uri in crs}
    members["geoportal:urls"] = service_urls(base_url, collection_id, coverage)
    return members


def collection_entry(base_url: str, collection_id: str, resource: dict[str, Any],
                     texts: _Texts, rels: Rels) -> dict[str, Any]:
    """One collection's description, as pygeoapi's ``gen_collection`` makes it for a feature
    collection (same members, order, links and translations), plus the download links and
    the layer card's facts (``card_facts``)."""
    url = f"{base_url}/collections/{collection_id}"
    links = _own_links(resource, texts) + _standard_links(base_url, url, texts, rels)
    details = _details(resource, texts)
    return {"id": collection_id, "links": links, **details,
            **card_facts(base_url, collection_id, resource, details["crs"])}


def _is_coverage(resource: dict[str, Any]) -> bool:
    providers = resource.get("providers") or []
    return len(providers) == 1 and providers[0].get("type") == "coverage"


def coverage_entry(base_url: str, collection_id: str, resource: dict[str, Any],
                   texts: _Texts, rels: Rels) -> dict[str, Any]:
    """A raster layer's description (OGC API - Coverages): the grid in ``extent``, links to
    the coverage (GeoTIFF, CoverageJSON), its range schema, map tiles and the COG itself."""
    url = f"{base_url}/collections/{collection_id}"
    provider = resource["providers"][0]
    raster = provider.get("raster") or {}
    coverage_rel = f"{OGC_RELTYPES_BASE}/coverage"
    links = [
        *_own_links(resource, texts),
        *_document_links(base_url, url, texts, rels),
        {"type": provider["format"]["mimetype"], "rel": coverage_rel,
         "title": "Coverage as GeoTIFF", "href": f"{url}/coverage?f=GTiff"},
        {"type": "application/prs.coverage+json", "rel": coverage_rel,
         "title": "Coverage as CoverageJSON", "href": f"{url}/coverage?f=json"},
        {"type": "application/json", "rel": f"{OGC_RELTYPES_BASE}/tilesets-map",
         "title": "Map tiles (PNG)", "href": f"{url}/map/tiles"},
        {"type": "image/png", "rel": f"{OGC_RELTYPES_BASE}/map", "title": "Map (PNG)",
         "href": f"{url}/map"},
        {"type": provider["format"]["mimetype"], "rel": "enclosure",
         "title": "Download the whole raster (Cloud-Optimized GeoTIFF)",
         "href": f"{url}/download?f=tif"},
    ]
    spatial = resource["extents"]["spatial"]
    extent: dict[str, Any] = {"bbox": [list(spatial["bbox"])], "crs": spatial["crs"]}
    resolution = raster.get("resolution") or [None, None]
    bounds = raster.get("bounds") or [None] * 4
    extent["grid"] = [
        {"cellsCount": raster.get("width"), "resolution": resolution[0],
         "firstCoordinate": bounds[0]},
        {"cellsCount": raster.get("height"), "resolution": resolution[1],
         "firstCoordinate": bounds[3]},
    ]
    srs = provider.get("storage_crs", DEFAULT_STORAGE_CRS)
    crs = [srs, *[c for c in get_supported_crs_list({"crs": list(provider.get("crs", []))})
                  if c != provider.get("storage_crs")]]
    links += [
        {"type": "application/json", "rel": f"{OGC_RELTYPES_BASE}/coverage-domainset",
         "title": "Coverage domain set", "href": f"{url}/coverage/domainset"},
        {"type": "application/json", "rel": f"{OGC_RELTYPES_BASE}/coverage-rangetype",
         "title": "Coverage range type", "href": f"{url}/coverage/rangetype"},
    ]
    return {
        "id": collection_id, "links": links,
        "title": texts.pick(resource["title"]),
        "description": texts.pick(resource["description"]),
        "keywords": texts.pick(resource["keywords"]),
        "extent": {"spatial": extent},
        "domainset": domain_set(raster, provider.get("axes") or ["Lon", "Lat"], srs),
        "rangetype": range_type(raster),
        "storageCrs": srs,
        "crs": crs,
        **card_facts(base_url, collection_id, resource, crs),
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=_COMPACT)


class Page:
    """One page of ``/collections``: ``offset`` and ``limit`` as asked (or the defaults)."""

    def __init__(self, offset: int = 0, limit: int = DEFAULT_PAGE) -> None:
        self.offset = offset
        self.limit = limit

    @property
    def is_default(self) -> bool:
        return self.offset == 0 and self.limit == DEFAULT_PAGE

    def query(self, offset: int | None = None) -> str:
        """``&offset=..&limit=..`` of this page (or of the page at ``offset``)."""
        return f"&offset={self.offset if offset is None else offset}&limit={self.limit}"


_DIGITS = re.compile(r"[0-9]{1,9}")


def _whole(args: Mapping[str, str], name: str, low: int, high: int | None, default: int) -> int:
    value = args.get(name)
    if value is None:
        return default
    digits = value.strip()
    # ASCII digits only, at most 9 (str.isdigit() accepts "²" and "١٢", and int() of
    # thousands of digits is refused by Python: both were 500s or a wrong page)
    if _DIGITS.fullmatch(digits) and low <= int(digits) and (high is None
                                                             or int(digits) <= high):
        return int(digits)
    if high is None:
        raise InputError(tr("{name}={value} on /collections must be a whole number, 0 or more",
                            name=name, value=value[:40]))
    raise InputError(tr("{name}={value} on /collections must be a whole number from {low} "
                        "to {high}", name=name, value=value[:40], low=low, high=high))


def page_of(args: Mapping[str, str]) -> Page:
    """The page a ``/collections`` request asks for; InputError (400) naming a bad
    ``limit`` or ``offset``."""
    return Page(_whole(args, "offset", 0, None, 0), _whole(args, "limit", 1, MAX_PAGE,
                                                            DEFAULT_PAGE))


class CollectionDocs:
    """The collection descriptions of one catalog generation.

    ``ids`` are the collections in listing order; ``describe(id)`` gives the pygeoapi
    resource as far as a description needs it (from the catalog's light rows: no store, no
    catalog read); ``fingerprints`` tell which layer version each describes. A
    description's JSON (UTF-8) is made on first use per language and carried over to the
    next generation while its fingerprint is unchanged, so a publish describes one
    collection again, not all of them; the last ``ENTRIES_KEPT`` are kept. Only JSON answers
    (the clients' format) are cached. Each lookup of a description or an HTML page is
    counted as a hit or a miss (``metrics.collection_cache_lookup``).
    """

    def __init__(self, base_url: str, ids: Sequence[str],
                 describe: Callable[[str], dict[str, Any]],
                 fingerprints: Mapping[str, Hashable],
                 previous: CollectionDocs | None = None) -> None:
        self.base_url = base_url
        self.ids = ids
        self.describe = describe
        self.fingerprints = fingerprints
        self._lock = threading.Lock()
        self._texts: dict[str, _Texts] = {}
        self._entries: OrderedDict[tuple[str, str], bytes] = OrderedDict()  # (locale, id)
        self._standard: dict[tuple[str, Rels], str] = {}  # standard links, id left out
        self._html: OrderedDict[tuple[str, bool, int, int], str] = OrderedDict()
        if previous is not None and previous.base_url == base_url:
            self._texts = previous._texts
            self._standard = previous._standard
            with previous._lock:
                kept = list(previous._entries.items())
            self._entries.update(
                (key, text) for key, text in kept
                if key[1] in fingerprints
                and previous.fingerprints.get(key[1]) == fingerprints[key[1]])

    def __contains__(self, collection_id: object) -> bool:
        return collection_id in self.fingerprints

    def _texts_for(self, locale: Locale) -> _Texts:
        key = str(locale)
        texts = self._texts.get(key)
        if texts is None:
            texts = self._texts[key] = _Texts(locale)
        return texts

    def entry(self, collection_id: str, request: APIRequest, api: PortalAPI) -> dict[str, Any]:
        """One collection's description as a dict (for the HTML templates)."""
        resource = self.describe(collection_id)
        if _is_coverage(resource):
            return coverage_entry(self.base_url, collection_id, resource,
                                  self._texts_for(request.locale), _rels(request))
        if not _is_plain_feature_collection(resource):
            entry: dict[str, Any] = gen_collection(api, request, collection_id, request.locale)
            return entry
        return collection_entry(self.base_url, collection_id, resource,
                                self._texts_for(request.locale), _rels(request))

    def _entry_text(self, collection_id: str, request: APIRequest, api: PortalAPI) -> str:
        """One collection's description as JSON text. The standard links, the same for every
        collection but for its id, are serialized once per language and format."""
        resource = self.describe(collection_id)
        if not _is_plain_feature_collection(resource):
            return _dumps(self.entry(collection_id, request, api))
        rels = _rels(request)
        texts = self._texts_for(request.locale)
        standard = self._standard.get((str(request.locale), rels))
        if standard is None:
            url = f"{self.base_url}/collections/{_ID}"
            standard = self._standard[(str(request.locale), rels)] = _dumps(
                _standard_links(self.base_url, url, texts, rels))[1:-1]
        quoted = _dumps(collection_id)
        links = standard.replace(_ID, quoted[1:-1])
        own = ",".join(_dumps(link) for link in _own_links(resource, texts))
        described = _details(resource, texts)
        details = _dumps({**described, **card_facts(self.base_url, collection_id, resource,
                                                    described["crs"])})
        return f'{{"id":{quoted},"links":[{own + "," if own else ""}{links}],{details[1:]}'

    def entry_json(self, collection_id: str, request: APIRequest, api: PortalAPI) -> bytes:
        """One collection's description as JSON (UTF-8), cached for JSON requests."""
        if request.format not in (None, F_JSON):  # rels differ; rare: not kept
            return self._entry_text(collection_id, request, api).encode()
        key = (str(request.locale), collection_id)
        with self._lock:
            text = self._entries.get(key)
            if text is not None:
                self._entries.move_to_end(key)
        collection_cache_lookup(hit=text is not None)
        if text is not None:
            return text
        text = self._entry_text(collection_id, request, api).encode()
        with self._lock:
            self._entries[key] = text
            while len(self._entries) > ENTRIES_KEPT:
                self._entries.popitem(last=False)
        return text

    def listing_links(self, request: APIRequest, api: PortalAPI,
                      page: Page | None = None) -> list[dict[str, str]]:
        """The links of ``/collections`` itself: this page in three formats, and the next
        and previous pages (rel ``next``, ``prev``) in the request's format."""
        page = page or Page()
        url = api.get_collections_url()
        texts = self._texts_for(request.locale)
        here = "" if page.is_default else page.query()
        links = [
            {"type": FORMAT_TYPES[F_JSON], "rel": request.get_linkrel(F_JSON),
             "title": texts.message("This document as JSON"), "href": f"{url}?f=json{here}"},
            {"type": FORMAT_TYPES[F_JSONLD], "rel": request.get_linkrel(F_JSONLD),
             "title": texts.message("This document as RDF (JSON-LD)"),
             "href": f"{url}?f=jsonld{here}"},
            {"type": FORMAT_TYPES[F_HTML], "rel": request.get_linkrel(F_HTML),
             "title": texts.message("This document as HTML"), "href": f"{url}?f=html{here}"},
        ]
        f = request.format if request.format in (F_HTML, F_JSONLD) else F_JSON
        lang = f"&lang={request.locale.language}" if request.params.get("lang") else ""
        if page.offset + page.limit < len(self.ids):
            links.append({"type": FORMAT_TYPES[f], "rel": "next",
                          "title": texts.message("Next page"),
                          "href": f"{url}?f={f}{page.query(page.offset + page.limit)}{lang}"})
        if page.offset > 0:
            links.append({"type": FORMAT_TYPES[f], "rel": "prev",
                          "title": texts.message("Previous page"),
                          "href": f"{url}?f={f}{page.query(max(page.offset - page.limit, 0))}"
                                  f"{lang}"})
        return links

    def page_ids(self, page: Page) -> Sequence[str]:
        return self.ids[page.offset:page.offset + page.limit]

    def listing_json(self, request: APIRequest, api: PortalAPI, page: Page | None = None
                     ) -> bytes:
        """A page of ``/collections`` as JSON (UTF-8): the cached descriptions joined."""
        page = page or Page()
        ids = self.page_ids(page)
        entries = b",".join([self.entry_json(cid, request, api) for cid in ids])
        links = _dumps(self.listing_links(request, api, page)).encode()
        return (b'{"collections":[' + entries + b'],"links":' + links
                + f',"numberMatched":{len(self.ids)},"numberReturned":{len(ids)}}}'.encode())

    def listing_html(self, request: APIRequest, api: PortalAPI, page: Page | None = None
                     ) -> str:
        """A page of ``/collections`` as our HTML page, cached per language and page."""
        page = page or Page()
        key = (str(request.locale), bool(request.params.get("lang")), page.offset, page.limit)
        with self._lock:
            text = self._html.get(key)
        collection_cache_lookup(hit=text is not None)
        if text is None:
            data = {"collections": [self.entry(cid, request, api)
                                    for cid in self.page_ids(page)],
                    "links": self.listing_links(request, api, page),
                    "numberMatched": len(self.ids), "offset": page.offset,
                    "base_url": api.base_url,
                    "collections_path": api.get_collections_url()}
            text = render_j2_template(api.tpl_config, api.config["server"]["templates"],
                                      "collections/index.html", data, request.locale)
            with self._lock:
                self._html[key] = text
                while len(self._html) > _PAGES_KEPT:
                    self._html.popitem(last=False)
        return text


def describe_collections(api: PortalAPI, request: APIRequest,
                         dataset: str | None = None) -> tuple[dict[str, str], int, str | bytes]:
    """pygeoapi's ``describe_collections`` from the cached descriptions: the same documents
    and headers; JSON-LD is left to pygeoapi."""
    docs = api.collections
    page = page_of(request.params) if dataset is None else None
    if request.format == F_JSONLD:
        if dataset is None:  # pygeoapi describes what it is given: this page only
            assert page is not None
            resources = {cid: api.config["resources"][cid] for cid in docs.page_ids(page)}
            api = copy.copy(api)
            api.config = {**api.config, "resources": resources}
        described: tuple[dict[str, str], int, str | bytes] = \
            pygeoapi_describe_collections(api, request, dataset)
        return described
    headers: dict[str, str] = request.get_response_headers(**api.api_headers)
    if dataset is not None and dataset not in docs:
        missing: tuple[dict[str, str], int, str] = api.get_exception(
            HTTPStatus.NOT_FOUND, headers, request.format, "NotFound", "Collection not found")
        return missing
    if request.format == F_HTML:
        if dataset is None:
            return headers, HTTPStatus.OK, docs.listing_html(request, api, page)
        data = {**docs.entry(dataset, request, api), "base_url": api.base_url,
                "collections_path": api.get_collections_url()}
        content = render_j2_template(api.tpl_config, api.get_dataset_templates(dataset),
                                     "collections/collection.html", data, request.locale)
        return headers, HTTPStatus.OK, content
    if dataset is None:
        return headers, HTTPStatus.OK, docs.listing_json(request, api, page)
    return headers, HTTPStatus.OK, docs.entry_json(dataset, request, api)
