"""pygeoapi record provider of the catalog collection (OGC API - Records).

pygeoapi parses the request (``q``, ``bbox``, ``datetime``, property filters, ``sortby``,
paging) and renders JSON and HTML; the records come from the ``RecordSource`` the server
registered, built from the catalog once per catalog generation.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

from flask import has_request_context, request
from pygeoapi.provider.base import (
    BaseProvider,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
)

from geoportal.catalog import Catalog
from geoportal.catalog.models import LANGUAGES
from geoportal.catalog.records import RECORD_FIELDS, build_record, localize, search
from geoportal.catalog.registry import Registry
from geoportal.errors import InputError
from geoportal.i18n import tr

__all__ = ["CATALOG_ID", "RecordSource", "catalog_resource", "register_records"]

CATALOG_ID = "catalog"
_SOURCES: dict[str, RecordSource] = {}


class RecordSource:
    """The records of every published layer, rebuilt when the catalog generation changes."""

    def __init__(self, catalog: Catalog, registry: Registry, base_url: str,
                 generation: Callable[[], int]) -> None:
        self.catalog = catalog
        self.registry = registry
        self.base_url = base_url
        self.generation = generation
        self._cached: tuple[int, list[dict[str, Any]]] | None = None
        self._lock = threading.Lock()

    def records(self) -> list[dict[str, Any]]:
        number = self.generation()
        cached = self._cached
        if cached is not None and cached[0] == number:
            return cached[1]
        with self._lock:
            if self._cached is None or self._cached[0] != number:
                built = [build_record(layer, self.registry, self.base_url)
                         for layer in self.catalog.list_layers() if layer.current is not None]
                self._cached = (number, built)
            return self._cached[1]


def register_records(source: RecordSource, key: str = CATALOG_ID) -> str:
    """Make the source findable by the provider pygeoapi builds per request."""
    _SOURCES[key] = source
    return key


def catalog_resource(title: dict[str, str]) -> dict[str, Any]:
    """The pygeoapi resource of the catalog collection."""
    return {
        "type": "collection", "itemType": "record",
        "title": title,
        "description": {
            "en": "Every published layer: search by words in Belarusian, Russian or English, "
                  "place, time, theme and region",
            "ru": "Все опубликованные слои: поиск по словам на белорусском, русском или "
                  "английском, месту, времени, теме и региону",
            "be": "Усе апублікаваныя пласты: пошук па словах па-беларуску, па-руску ці "
                  "па-англійску, месцы, часе, тэме і рэгіёне"},
        "keywords": {"en": ["catalog", "metadata"], "ru": ["каталог", "метаданные"],
                     "be": ["каталог", "метаданыя"]},
        "links": [],
        "extents": {"spatial": {"bbox": [23.17, 51.26, 32.78, 56.18],
                                "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
        "providers": [{"type": "record", "name": "geoportal.providers.records.CatalogRecords",
                       "data": CATALOG_ID, "id_field": "id", "time_field": "updated",
                       "title_field": "title"}],
    }


def _lang(language: Any) -> str:
    """The request's language (``lang``, else Accept-Language), be, ru or en: pygeoapi's
    plugin locale (``language``) settles on the provider's first language whatever was
    asked, so it is only the fallback."""
    if has_request_context():
        asked = (request.args.get("lang") or "")[:2].lower()
        if asked in LANGUAGES:
            return asked
        best = request.accept_languages.best_match(LANGUAGES)
        if best:
            return best
    code = str(getattr(language, "language", language) or "en")[:2]
    return code if code in LANGUAGES else "en"


# What pygeoapi chooses a format from, without ``f``: its media types (and CSV's)
_MEDIA_TYPES = ["application/json", "application/geo+json", "application/ld+json", "text/html",
                "text/csv"]


def _asks_csv() -> bool:
    """Whether the request asks for CSV (``f=csv``, or an Accept header preferring it).
    pygeoapi offers every records collection as CSV but fails writing one (a 500: its CSV
    branch reads a CRS it only sets for features), so the catalog refuses it with a 400."""
    if not has_request_context():
        return False
    given = (request.args.get("f") or "").strip()
    if given:
        return given == "csv"
    return request.accept_mimetypes.best_match(_MEDIA_TYPES) == "text/csv"


class CatalogRecords(BaseProvider):  # type: ignore[misc]  # pygeoapi: no type information
    """Records of the catalog for pygeoapi's Records API."""

    _fields: dict[str, dict[str, str]]  # BaseProvider's, set by its __init__

    def __init__(self, provider_def: dict[str, Any]) -> None:
        super().__init__(provider_def)
        self.source = _SOURCES[provider_def["data"]]
        self.get_fields()

    def get_fields(self) -> dict[str, dict[str, str]]:
        if not self._fields:
            self._fields = {name: {"type": t} for name, t in RECORD_FIELDS.items()}
        return self._fields

    def query(self, offset: int = 0, limit: int = 10, resulttype: str = "results",
              bbox: list[float] | None = None, datetime_: str | None = None,
              properties: list[tuple[str, Any]] | None = None,
              sortby: list[dict[str, str]] | None = None,
              select_properties: list[str] | None = None, skip_geometry: bool = False,
              q: str | None = None, language: Any = None, **kwargs: Any) -> dict[str, Any]:
        if _asks_csv():
            raise ProviderInvalidQueryError(user_msg=tr(
                "the catalog is not offered as CSV: ask for f=json, f=jsonld or f=html"))
        lang = _lang(language)
        try:
            found = search(self.source.records(), q=q, bbox=_plane_bbox(bbox),
                           interval=datetime_, equals=properties or [])
        except InputError as exc:  # a datetime that is no date: 400 with the sentence
            raise ProviderInvalidQueryError(user_msg=exc.user_msg) from exc
        if sortby:
            for sort in reversed(sortby):
                key = sort["property"]
                found.sort(key=_by_property(key, lang), reverse=sort["order"] == "-")
        elif q:
            found.sort(key=lambda sr: (-sr[0], sr[1]["_title"].get(lang, "")))
        else:
            found.sort(key=lambda sr: sr[1]["_title"].get(lang, ""))
        page = [] if resulttype == "hits" else found[offset:offset + limit]
        features = []
        for _, record in page:
            feature = localize(record, lang)
            if skip_geometry:
                feature["geometry"] = None
            if select_properties:
                feature["properties"] = {k: v for k, v in feature["properties"].items()
                                         if k in select_properties}
            features.append(feature)
        return {"type": "FeatureCollection", "features": features,
                "numberMatched": len(found), "numberReturned": len(features)}

    def get(self, identifier: str, language: Any = None, **kwargs: Any) -> dict[str, Any]:
        for record in self.source.records():
            if record["id"] == identifier:
                return localize(record, _lang(language))
        raise ProviderItemNotFoundError(user_msg=tr("record {id} not found", id=identifier))


def _plane_bbox(bbox: list[float] | None) -> list[float] | None:
    """pygeoapi's bbox (4 numbers, or 6 with heights) as minlon,minlat,maxlon,maxlat; a 400
    (as on the Features collections) unless each is finite: ``nan`` would match every record
    and ``inf`` none, without telling the client why."""
    if not bbox:
        return None
    box = [float(v) for v in (bbox if len(bbox) == 4 else bbox[:2] + bbox[3:5])]
    if not all(math.isfinite(v) for v in box):
        raise ProviderInvalidQueryError(
            user_msg="bbox must be four finite numbers: minlon,minlat,maxlon,maxlat")
    return box


def _by_property(key: str, lang: str) -> Callable[[tuple[float, dict[str, Any]]], Any]:
    """The sort key of search's (score, record) pairs by the records' ``key``."""
    return lambda scored: _sort_value(scored[1], key, lang)


def _sort_value(record: dict[str, Any], key: str, lang: str) -> Any:
    if key == "title":
        return record["_title"].get(lang, "")
    value = record["properties"].get(key)
    return (value is None, value if value is not None else "")
