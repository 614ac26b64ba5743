"""OGC API - Records of the catalog: one record per published layer, and searching them.

A record is built from what the catalog holds about a layer and its current version, which
the ETL wrote at publishing: titles, descriptions and keywords in be/ru/en, theme, region,
extent, licence, lineage (source file, sha256, CRS found, repairs, features set aside) and
fields with their original names. Records are rebuilt whenever the catalog changes (a
publish, an edit, a rollback), so they never drift from the layers.

Free-text search (``q``) folds case and the letters Russian and Belarusian spell
differently (ё/е, і/и, ў/у, apostrophes), so ``Гродно``, ``Гродна`` and ``гродно`` meet, and
matches word beginnings, so ``школы`` finds ``школ``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from geoportal.catalog.models import LANGUAGES, Layer
from geoportal.catalog.registry import Registry
from geoportal.errors import InputError
from geoportal.i18n import tr

__all__ = ["RECORD_FIELDS", "build_record", "check_interval", "fold", "localize", "search"]

# Queryable and sortable record properties (besides q, bbox and datetime).
RECORD_FIELDS = {"title": "string", "theme": "string", "region": "string", "kind": "string",
                 "updated": "string", "features": "integer"}
_FOLD = str.maketrans({"ё": "е", "і": "и", "ў": "у", "’": "", "'": "", "ʼ": "", "ъ": ""})
_WORD = re.compile(r"[\w-]+", re.UNICODE)
_STOP = frozenset({"in", "of", "the", "and", "for", "в", "и", "на", "по", "у", "і", "ў", "да"})


def fold(text: str) -> str:
    """Lower case with ё/е, і/и, ў/у and apostrophes folded, for matching across be/ru."""
    return text.lower().translate(_FOLD)


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(fold(text)) if w not in _STOP]


def _region_chain(code: str, registry: Registry) -> list[str]:
    """The region and its ancestors up to the country."""
    chain: list[str] = []
    while code and code not in chain:
        chain.append(code)
        region = registry.regions.get(code)
        code = region.parent if region is not None and region.parent else ""
    return chain


def build_record(layer: Layer, registry: Registry, base_url: str) -> dict[str, Any]:
    """The layer's record as a GeoJSON Feature, with every language inside (``localize``
    picks one); also ``_text``, the folded words ``q`` searches."""
    meta, version = layer.meta, layer.current
    assert version is not None
    url = f"{base_url.rstrip('/')}/collections/{meta.id}"
    region = registry.regions.get(meta.region)
    theme = registry.themes.get(meta.theme)
    extent = version.extent
    geometry = None
    if extent is not None:
        minx, miny, maxx, maxy = extent
        geometry = {"type": "Polygon", "coordinates": [[[minx, miny], [maxx, miny],
                                                        [maxx, maxy], [minx, maxy],
                                                        [minx, miny]]]}
    report = version.typed_report
    links = [{"rel": "license", "type": "text/html", "title": meta.license,
              "href": f"https://spdx.org/licenses/{meta.license}.html"}] if meta.license else []
    if meta.kind == "vector":
        links += [
            {"rel": "collection", "type": "application/json", "title": "The collection",
             "href": url},
            {"rel": "items", "type": "application/geo+json", "title": "Features",
             "href": f"{url}/items"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
             "type": "application/json", "title": "Vector tiles", "href": f"{url}/tiles"},
            {"rel": "alternate", "type": "application/json", "title": "TileJSON",
             "href": f"{url}/tiles/WebMercatorQuad?f=tilejson"},
            *({"rel": "enclosure", "type": media, "title": f"Download as {name}",
               "href": f"{url}/download?f={f}"} for name, media, f in (
                ("GeoPackage", "application/geopackage+sqlite3", "gpkg"),
                ("GeoJSON", "application/geo+json", "geojson"),
                ("CSV", "text/csv", "csv"), ("zipped Shapefile", "application/zip", "shp"))),
        ]
    elif meta.kind == "coverage":
        links += [
            {"rel": "collection", "type": "application/json", "title": "The collection",
             "href": url},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/coverage",
             "type": "image/tiff; application=geotiff", "title": "Coverage (GeoTIFF)",
             "href": f"{url}/coverage?f=GTiff"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map",
             "type": "application/json", "title": "Map tiles (PNG)", "href": f"{url}/map/tiles"},
            {"rel": "alternate", "type": "application/json", "title": "TileJSON",
             "href": f"{url}/map/tiles/WebMercatorQuad?f=tilejson"},
            {"rel": "enclosure", "type": "image/tiff; application=geotiff",
             "title": "Download as Cloud-Optimized GeoTIFF", "href": f"{url}/download?f=tif"},
        ]
    chain = _region_chain(meta.region, registry)
    searchable = [meta.id, meta.theme, meta.region]
    for lang in LANGUAGES:
        searchable += [meta.title.get(lang, ""), meta.description.get(lang, ""),
                       *meta.keywords.get(lang, [])]
        if theme is not None:
            searchable.append(theme.name.get(lang, ""))
        searchable += [registry.regions[c].name.get(lang, "") for c in chain
                       if c in registry.regions]
    searchable += [f.title or f.name for f in version.fields]
    return {
        "id": meta.id, "type": "Feature",
        "conformsTo": ["http://www.opengis.net/spec/ogcapi-records-1/1.0/req/record-core"],
        "geometry": geometry,
        "time": {"timestamp": version.created.isoformat()},
        "properties": {
            "type": "dataset",
            "kind": meta.kind,
            "created": layer.created.isoformat(), "updated": version.created.isoformat(),
            "theme": meta.theme,
            "themes": [{"scheme": f"{base_url.rstrip('/')}/themes", "concepts": [
                {"id": meta.theme, "title": theme.name if theme else {}}]}],
            "region": meta.region,
            "regionName": region.name if region else {},
            "regionLevel": region.level if region else None,
            "regions": chain,
            "license": meta.license, "rights": meta.attribution,
            "languages": [{"code": lang} for lang in LANGUAGES if meta.title.get(lang)],
            "features": version.feature_count,
            "version": version.version,
            "geometryType": version.geometry_type,
            "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
            "fields": [{"name": f.name, "type": f.type, "title": f.title or f.name}
                       for f in version.fields],
            "lineage": {
                "source": version.source_name, "sha256": version.source_sha256,
                "sourceCrs": version.source_crs,
                "encoding": report.encoding,
                "repairs": report.repairs,
                "setAside": version.set_aside_count,
                "edit": report.edit.change(),
            },
            "translations": {lang: {"title": meta.title.get(lang),
                                    "description": meta.description.get(lang),
                                    "keywords": meta.keywords.get(lang) or []}
                             for lang in LANGUAGES},
        },
        "links": links,
        "_text": " ".join(w for text in searchable for w in _words(text)),
        "_title": {lang: fold(meta.title.get(lang) or meta.id) for lang in LANGUAGES},
    }


def _pick(values: dict[str, Any], lang: str) -> Any:
    """The text in ``lang``, else in a language the layer has (en, ru, be)."""
    if values.get(lang):
        return values[lang]
    return next((values[k] for k in ("en", "ru", "be") if values.get(k)), None)


def localize(record: dict[str, Any], lang: str) -> dict[str, Any]:
    """The record as served in ``lang``: title, description, keywords, theme and region
    names in that language (or one the layer has), the others under ``translations``."""
    props = dict(record["properties"])
    texts = props["translations"]
    props["title"] = _pick({k: v["title"] for k, v in texts.items()}, lang) or record["id"]
    props["description"] = _pick({k: v["description"] for k, v in texts.items()}, lang) or ""
    props["keywords"] = _pick({k: v["keywords"] for k, v in texts.items()}, lang) or []
    props["language"] = {"code": lang}
    props["regionName"] = _pick(props["regionName"], lang)
    props["themes"] = [{**t, "concepts": [{**c, "title": _pick(c["title"], lang)}
                                           for c in t["concepts"]]} for t in props["themes"]]
    return {k: v for k, v in record.items() if not k.startswith("_")} | {"properties": props}


def _moment(text: str) -> datetime | None:
    """The moment one end of a ``datetime`` parameter names (None for an open end); a date is
    its midnight. A date or date-time without a zone is UTC, as the records' stamps are: the
    server's local zone would make answers depend on the host, and converting to it overflows
    at the ends of the calendar (0001-01-01, 9999-12-31)."""
    text = text.strip()
    if text in ("", ".."):
        return None
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time.min, tzinfo=UTC)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_interval(interval: str) -> None:
    """InputError (400) naming ``datetime`` unless ``interval`` is a date, a date-time
    (RFC 3339) or an interval of them with ``..`` for an open end."""
    parts = interval.split("/")
    try:
        if len(parts) > 2:
            raise ValueError(interval)
        moments = [_moment(p) for p in parts]
        if len(parts) == 1 and moments[0] is None:
            raise ValueError(interval)
        start, end = moments[0], moments[-1]
        if len(parts) == 2 and start is not None and end is not None and start > end:
            raise InputError(tr("datetime {text}: the start must come before the end",
                                text=repr(interval[:80])))
    except (ValueError, TypeError, OverflowError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(tr("datetime {text} is not a date (2024-05-01), a date-time "
                            "(2024-05-01T12:00:00Z) or an interval of them (start/end, '..' for "
                            "an open end)", text=repr(interval[:80]))) from None


def _in_interval(stamp: str, interval: str) -> bool:
    moment = datetime.fromisoformat(stamp)
    if "/" not in interval:
        start = _moment(interval)
        return start is not None and moment.date() == start.date() if len(
            interval.strip()) == 10 else moment == start
    first, last = interval.split("/", 1)
    start, end = _moment(first), _moment(last)
    if end is not None and len(last.strip()) == 10:
        end = end.replace(hour=23, minute=59, second=59, microsecond=999999)
    return (start is None or moment >= start) and (end is None or moment <= end)


def search(records: Sequence[dict[str, Any]], *, q: str | None = None,
           bbox: Sequence[float] | None = None, interval: str | None = None,
           equals: Iterable[tuple[str, Any]] = ()) -> list[tuple[float, dict[str, Any]]]:
    """(score, record) of the records matching every criterion; with ``q`` every word must
    start a word of the record's text (in any language), and a word in the title counts
    more. ``region`` matches the region and every region under it."""
    words = _words(q or "")
    if interval:
        check_interval(interval)
    out = []
    for record in records:
        props = record["properties"]
        ok = True
        for name, value in equals:
            value = str(value)
            if name == "region":
                ok = value in props["regions"]
            elif name == "title":
                ok = any(fold(value) == t for t in record["_title"].values())
            else:
                ok = str(props.get(name)) == value
            if not ok:
                break
        if not ok:
            continue
        if bbox is not None:
            geom = record["geometry"]
            if geom is None:
                continue
            ring = geom["coordinates"][0]
            minx, miny, maxx, maxy = ring[0][0], ring[0][1], ring[2][0], ring[2][1]
            if maxx < bbox[0] or minx > bbox[2] or maxy < bbox[1] or miny > bbox[3]:
                continue
        if interval and not _in_interval(props["updated"], interval):
            continue
        score = 0.0
        if words:
            text = " " + record["_text"]
            titles = " ".join(record["_title"].values())
            for word in words:
                if f" {word}" not in text and not _stem_hit(word, text):
                    ok = False
                    break
                score += 1 + (2 if word in titles else 0)
            if not ok:
                continue
        out.append((score, record))
    return out


def _stem_hit(word: str, text: str) -> bool:
    """A word whose ending differs (schools/school, остановки/остановочные): without its
    last letter (five or six letters) or two (seven or more), it starts a word of the
    text."""
    if len(word) < 5:
        return False
    return f" {word[:-1] if len(word) < 7 else word[:-2]}" in text
