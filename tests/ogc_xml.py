"""Validate OGC service documents against the official OGC XML schemas, offline.

``validate(document, "wms-1.3.0")`` returns the validation errors of a document, one line each
(``"line 12: Element '{...}Title': This element is not expected. ..."``), and an empty list when
the document is valid. The schemas are local copies of schemas.opengis.net (and of the two
www.w3.org schemas they import) in ``tests/ogc_schemas/`` — where they come from, what was
changed and their licence are in ``tests/ogc_schemas/SOURCE.md``. Nothing is ever fetched:

* every ``schemaLocation`` under http(s)://schemas.opengis.net/ or http(s)://www.w3.org/ (an
  xs:import/xs:include of a schema, or of a document's own schema such as a WFS
  DescribeFeatureType answer) is read from that folder by an lxml resolver; any other address
  is refused with :class:`OfflineSchemaError` (name the schema in ``extra_schemas`` instead);
* a document's own ``xsi:schemaLocation`` is not followed (libxml2 does not, and the parser
  has no network); which schemas apply is said by the ``schema`` name alone;
* a WMS 1.1.1 document's DOCTYPE must name the official DTD, which is read from the local copy
  (its internal subset, where MapServer declares VendorSpecificCapabilities, counts too).

Schema names (``SCHEMAS``): ``wms-1.3.0`` (WMS 1.3.0 capabilities with the SLD 1.1.0
capabilities extension), ``wms-exception-1.3.0``, ``wms-1.1.1`` and ``wms-exception-1.1.1``
(DTDs), ``wmts-1.0``, ``wfs-2.0`` (WFS 2.0.2 with FES 2.0, OWS 1.1 and GML 3.2.1, so a
GetFeature answer's wfs:boundedBy and features validate too), ``ows-exception-1.1`` (WFS 2.0,
WMTS), ``ows-exception-1.0`` (WFS 1.1.0's exception reports) and ``gml-3.2``. WFS 1.1.0
capabilities are not covered: its wfs.xsd and GML 3.1.1 (with SMIL) are not among the copies.

MapServer's ``ms:`` namespace (http://mapserver.gis.umn.edu/mapserver): a WMS 1.3.0
capabilities document of MapServer lists ``ms:GetStyles`` among its operations and names, in
``xsi:schemaLocation``, a schema served by the server itself (``request=GetSchemaExtension``).
That address is never fetched: ``wms-1.3.0`` imports a local stand-in with the same one
declaration (``tests/ogc_schemas/mapserver/wms_extensions.xsd``), so ``ms:GetStyles`` is checked
like any other WMS operation and any other ``ms:`` element there is an error. In WFS answers
``ms:`` is the namespace of the features themselves: pass the DescribeFeatureType answer as
``extra_schemas={namespace: schema_bytes}`` to check them; without it, wfs:member's lax
wildcard lets them through unchecked.

The compiled schema sets are kept per process, and so are the bytes of every schema file read
(all sets compile in under 0.1 s; WFS 2.0 with GML 3.2.1 and the ISO 19139 schemas it imports
is the largest, about 25 ms).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lxml import etree

SCHEMAS_DIR = Path(__file__).resolve().parent / "ogc_schemas"

# address prefix -> local folder; http and https both, as documents use either
_MIRRORS = {
    f"{scheme}://{host}/": SCHEMAS_DIR / host
    for scheme in ("http", "https")
    for host in ("schemas.opengis.net", "www.w3.org")
}
# other published addresses of the same W3C documents
_ALIASES = {
    "http://www.w3.org/2009/01/xml.xsd": "http://www.w3.org/2001/xml.xsd",
    "http://www.w3.org/2001/03/xml.xsd": "http://www.w3.org/2001/xml.xsd",
    "http://www.w3.org/XML/2008/06/xlink.xsd": "http://www.w3.org/1999/xlink.xsd",
}
_EXTRA_PREFIX = "urn:x-geoportal-test:extra-schema:"
_MAPSERVER_WMS_EXTENSIONS = "urn:x-geoportal-test:mapserver-wms-extensions.xsd"

OGC = "http://schemas.opengis.net/"
MAPSERVER_NS = "http://mapserver.gis.umn.edu/mapserver"

# name -> the (namespace, schema address) pairs one compiled schema imports
_XSD_SETS: dict[str, tuple[tuple[str, str], ...]] = {
    "wms-1.3.0": (
        ("http://www.opengis.net/wms", OGC + "wms/1.3.0/capabilities_1_3_0.xsd"),
        ("http://www.opengis.net/sld", OGC + "sld/1.1.0/sld_capabilities.xsd"),
        (MAPSERVER_NS, _MAPSERVER_WMS_EXTENSIONS),
    ),
    "wms-exception-1.3.0": (
        ("http://www.opengis.net/ogc", OGC + "wms/1.3.0/exceptions_1_3_0.xsd"),
    ),
    "wmts-1.0": (
        ("http://www.opengis.net/wmts/1.0", OGC + "wmts/1.0/wmtsGetCapabilities_response.xsd"),
    ),
    "wfs-2.0": (
        ("http://www.opengis.net/wfs/2.0", OGC + "wfs/2.0/wfs.xsd"),
        ("http://www.opengis.net/gml/3.2", OGC + "gml/3.2.1/gml.xsd"),
    ),
    "ows-exception-1.1": (
        ("http://www.opengis.net/ows/1.1", OGC + "ows/1.1.0/owsExceptionReport.xsd"),
    ),
    "ows-exception-1.0": (
        ("http://www.opengis.net/ows", OGC + "ows/1.0.0/owsExceptionReport.xsd"),
    ),
    "gml-3.2": (("http://www.opengis.net/gml/3.2", OGC + "gml/3.2.1/gml.xsd"),),
}
# name -> (root element, DTD address)
_DTDS = {
    "wms-1.1.1": ("WMT_MS_Capabilities", OGC + "wms/1.1.1/WMS_MS_Capabilities.dtd"),
    "wms-exception-1.1.1": ("ServiceExceptionReport", OGC + "wms/1.1.1/exception_1_1_1.dtd"),
}
SCHEMAS: tuple[str, ...] = (*_XSD_SETS, *_DTDS)


class OfflineSchemaError(LookupError):
    """A schema address that has no local copy: the validation would need the network."""


def local_path(url: str) -> Path | None:
    """The local copy of a schema address under schemas.opengis.net or www.w3.org, if any."""
    url = _ALIASES.get(url, url)
    for prefix, folder in _MIRRORS.items():
        if url.startswith(prefix):
            path = (folder / url[len(prefix):].split("?", 1)[0]).resolve()
            if path.is_relative_to(folder) and path.is_file():
                return path
    return None


@functools.cache
def _read(path: Path) -> bytes:
    return path.read_bytes()


class _OfflineResolver(etree.Resolver):  # type: ignore[misc]
    """Serves every schema from the local copies; refuses any other address."""

    def __init__(self, extra: Mapping[str, bytes]) -> None:
        super().__init__()
        self.extra = extra
        self.refused: list[str] = []  # libxml2 swallows a resolver's exception: kept here

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        if system_url in self.extra:
            return self.resolve_string(self.extra[system_url], context, base_url=system_url)
        if system_url == _MAPSERVER_WMS_EXTENSIONS:
            path: Path | None = SCHEMAS_DIR / "mapserver" / "wms_extensions.xsd"
        else:
            path = local_path(system_url)
        if path is None:
            self.refused.append(system_url)
            raise OfflineSchemaError(system_url)
        # keep the published address as the base, so relative includes come back here too
        return self.resolve_string(_read(path), context, base_url=_ALIASES.get(
            system_url, system_url))


def _wrapper(imports: tuple[tuple[str, str], ...]) -> bytes:
    """A schema document of no namespace that imports the given schemas."""
    lines = ['<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">']
    lines += [f'  <xs:import namespace="{ns}" schemaLocation="{loc}"/>' for ns, loc in imports]
    lines.append("</xs:schema>")
    return "\n".join(lines).encode()


def _compile(imports: tuple[tuple[str, str], ...], extra: Mapping[str, bytes]) -> etree.XMLSchema:
    resolver = _OfflineResolver(extra)
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(resolver)
    root = etree.fromstring(_wrapper(imports), parser, base_url="urn:x-geoportal-test:wrapper")
    try:
        schema = etree.XMLSchema(root)
    except etree.XMLSchemaParseError as exc:
        if resolver.refused:
            raise _refused(resolver.refused) from exc
        raise
    if resolver.refused:  # an optional import skipped: the set would be incomplete
        raise _refused(resolver.refused)
    return schema


def _refused(urls: list[str]) -> OfflineSchemaError:
    return OfflineSchemaError(
        f"no local copy of {', '.join(sorted(set(urls)))} under {SCHEMAS_DIR}: validation "
        "would fetch it (pass a document's own schema as extra_schemas)"
    )


@functools.cache
def _schema(name: str, extra_items: tuple[tuple[str, str, bytes], ...] = ()) -> etree.XMLSchema:
    """The compiled schema set ``name``, plus the documents' own schemas (namespace, key, bytes)."""
    imports = _XSD_SETS[name] + tuple((ns, key) for ns, key, _ in extra_items)
    return _compile(imports, {key: data for _, key, data in extra_items})


def _validate_dtd(document: bytes, name: str) -> list[str]:
    """DTD validation as the document declares it: its DOCTYPE must name the official DTD
    (read from the local copy), and its internal subset counts, as WMS 1.1.1 means a server's
    VendorSpecificCapabilities to be declared there. A document without a DOCTYPE is checked
    against the DTD alone."""
    root_name, url = _DTDS[name]
    root = _parse(document)
    docinfo = root.getroottree().docinfo
    if root.tag != root_name:
        return [f"line {root.sourceline}: root element is {root.tag}, expected {root_name}"]
    if not docinfo.doctype:
        dtd = etree.DTD(str(local_path(url)))
        return [] if dtd.validate(root) else _lines(dtd.error_log)
    if docinfo.system_url not in (url, url.replace("http:", "https:", 1)):
        return [f"line 1: the DOCTYPE names {docinfo.system_url!r}, expected {url}"]
    resolver = _OfflineResolver({})
    parser = etree.XMLParser(
        no_network=True, load_dtd=True, dtd_validation=True, resolve_entities=False
    )
    parser.resolvers.add(resolver)
    try:
        etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        if resolver.refused:
            raise _refused(resolver.refused) from exc
        return _lines(parser.error_log)
    return []


def _parse(document: bytes) -> etree._Element:
    """Parse without loading a DOCTYPE's DTD, external entities or anything from the network."""
    parser = etree.XMLParser(
        no_network=True, load_dtd=False, resolve_entities=False, remove_blank_text=False
    )
    return etree.fromstring(document, parser)


def _lines(log: Any) -> list[str]:
    return [f"line {e.line}: {e.message}" for e in log]


def validate(
    document: bytes, schema: str, *, extra_schemas: Mapping[str, bytes] | None = None
) -> list[str]:
    """The validation errors of ``document`` against the official schemas named ``schema``
    (one of ``SCHEMAS``), as ``"line N: message"`` lines; empty when the document is valid.

    ``extra_schemas`` maps a namespace to the bytes of its schema (for a WFS GetFeature answer:
    the DescribeFeatureType answer); its imports of OGC schemas are served locally too. A
    document that is not well-formed XML gives one ``"not well-formed: ..."`` line.
    """
    if schema not in SCHEMAS:
        raise ValueError(f"unknown schema {schema!r}; known: {', '.join(SCHEMAS)}")
    try:
        root = _parse(document)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed: {exc}"]
    if schema in _DTDS:
        if extra_schemas:
            raise ValueError(f"{schema} is a DTD: extra_schemas do not apply")
        return _validate_dtd(document, schema)
    extra = tuple(
        (ns, f"{_EXTRA_PREFIX}{hashlib.sha256(data).hexdigest()[:16]}.xsd", bytes(data))
        for ns, data in sorted((extra_schemas or {}).items())
    )
    xsd = _schema(schema, extra)
    return [] if xsd.validate(root) else _lines(xsd.error_log)


def assert_valid(document: bytes, schema: str, **kwargs: Any) -> None:
    """Fail with the validation errors (and the start of the document) unless it is valid."""
    errors = validate(document, schema, **kwargs)
    if errors:
        head = document[:2000].decode("utf-8", "replace")
        raise AssertionError(
            f"not valid against {schema}:\n" + "\n".join(errors[:20]) + f"\n--- document:\n{head}"
        )
