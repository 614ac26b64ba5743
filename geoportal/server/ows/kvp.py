"""OGC key-value-pair requests and the exception reports that answer bad ones.

OGC services read parameter names in any case (``LAYERS``, ``layers``); values keep theirs.
A bad request gets the exception report of the service and version asked (WMS 1.3.0, WMS
1.1.1, OWS 1.1 for WFS 2.0 and WMTS, OWS 1.0 for WFS 1.1) with a 4xx status and a message
naming the parameter, in the request's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from xml.sax.saxutils import escape, quoteattr

from flask import Response
from lxml import etree

from geoportal.errors import InputError
from geoportal.i18n import LANGUAGES, Message, tr

__all__ = ["MAX_XML_BYTES", "OgcError", "Params", "PostedRequest", "canonical_filter",
           "client_sld", "defused_like", "exception_response", "language_param", "posted_request"]

_FES = {"fes": "http://www.opengis.net/fes/2.0", "ogc": "http://www.opengis.net/ogc"}
_GML32 = "http://www.opengis.net/gml/3.2"
_WFS = {"2.0.0": "http://www.opengis.net/wfs/2.0", "1.1.0": "http://www.opengis.net/wfs",
        "1.0.0": "http://www.opengis.net/wfs"}
MAX_XML_BYTES = 1024 * 1024  # a POSTed WFS request
_GML = "http://www.opengis.net/gml"
# ISO 639-2 codes (INSPIRE's LANGUAGE=) and the portal's own
_LANGUAGE_CODES = {"bel": "be", "rus": "ru", "eng": "en", **{code: code for code in LANGUAGES}}


class OgcError(InputError):
    """A request an OGC service refuses: an exception ``code`` (``InvalidParameterValue``,
    ``LayerNotDefined``, ``MissingParameterValue``...) and the parameter at fault."""

    def __init__(self, message: Message, code: str = "InvalidParameterValue",
                 locator: str = "", status: int = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.code = code
        self.locator = locator
        self.status = status


@dataclass
class Params:
    """A request's parameters by upper-case name (the first value of each), in their order."""

    items: list[tuple[str, str]]

    @classmethod
    def parse(cls, pairs: Iterable[tuple[str, str]]) -> Params:
        seen: set[str] = set()
        out = []
        for name, value in pairs:
            key = name.upper()
            if key not in seen:
                seen.add(key)
                out.append((key, value))
        return cls(out)

    def get(self, name: str, default: str = "") -> str:
        """The value of ``name`` (upper case), or ``default``."""
        for key, value in self.items:
            if key == name:
                return value
        return default

    def has(self, name: str) -> bool:
        """Whether the request names ``name`` at all."""
        return any(key == name for key, _ in self.items)

    def required(self, name: str) -> str:
        """The value of ``name``; a MissingParameterValue exception when it is absent or empty."""
        value = self.get(name).strip()
        if not value:
            raise OgcError(tr("the parameter {name} is missing", name=name),
                           "MissingParameterValue", name.lower())
        return value

    def without(self, *names: str) -> list[tuple[str, str]]:
        """The parameters but ``names`` (upper case), for the engine."""
        return [(k, v) for k, v in self.items if k not in names]

    def replaced(self, **values: str) -> list[tuple[str, str]]:
        """The parameters with ``values`` set (added where absent)."""
        out = [(k, values.pop(k) if k in values else v) for k, v in self.items]
        return out + list(values.items())


def language_param(params: Params) -> str | None:
    """The language a request asks by ``LANGUAGE=`` (be/ru/en or bel/rus/eng) or ``lang=``."""
    for name in ("LANGUAGE", "LANG"):
        value = params.get(name).strip().lower()
        if value in _LANGUAGE_CODES:
            return _LANGUAGE_CODES[value]
    return None


def exception_response(service: str, version: str, code: str, text: str, locator: str = "",
                       status: int = HTTPStatus.BAD_REQUEST, language: str = "en") -> Response:
    """The exception report of ``service`` ``version`` (``wms``, ``wfs``, ``wmts``)."""
    locator_attr = f" locator={quoteattr(locator)}" if locator else ""
    if service == "wms" and version.startswith("1.1"):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<!DOCTYPE ServiceExceptionReport SYSTEM '
                '"http://schemas.opengis.net/wms/1.1.1/exception_1_1_1.dtd">\n'
                '<ServiceExceptionReport version="1.1.1">\n'  # 1.1.1 has no locator
                f'  <ServiceException code={quoteattr(code)}>{escape(text)}'
                "</ServiceException>\n</ServiceExceptionReport>\n")
        mime = "application/vnd.ogc.se_xml; charset=UTF-8"
    elif service == "wms":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                'xsi:schemaLocation="http://www.opengis.net/ogc '
                'http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd">\n'
                f'  <ServiceException code={quoteattr(code)}{locator_attr}>{escape(text)}'
                "</ServiceException>\n</ServiceExceptionReport>\n")
        mime = "text/xml; charset=UTF-8"
    else:
        ows, report_version = (("1.0.0", "1.0.0") if service == "wfs" and version.startswith("1.")
                               else ("1.1", "2.0.0" if service == "wfs" else "1.0.0"))
        namespace = "http://www.opengis.net/ows" + ("/1.1" if ows == "1.1" else "")
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<ows:ExceptionReport xmlns:ows="{namespace}" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                f'version="{report_version}" '
                f'{"xml:lang" if ows == "1.1" else "language"}="{language}" '
                f'xsi:schemaLocation="{namespace} '
                f'http://schemas.opengis.net/ows/{ows}/owsExceptionReport.xsd">\n'
                f'  <ows:Exception exceptionCode={quoteattr(code)}{locator_attr}>\n'
                f"    <ows:ExceptionText>{escape(text)}</ows:ExceptionText>\n"
                "  </ows:Exception>\n</ows:ExceptionReport>\n")
        mime = "application/xml; charset=UTF-8"
    return Response(body, status=status, mimetype=None, content_type=mime)


def canonical_filter(text: str, locator: str = "filter") -> str:
    """A FES filter with the usual prefixes (``fes:``, ``ogc:``, ``gml:``), whatever the
    client named them: MapServer reads elements by prefix, and would otherwise ignore a
    filter written with other prefixes and answer every feature. Entities are never expanded
    and nothing is fetched."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise OgcError(tr("{name} is not well-formed XML: {problem}", name=locator.upper(),
                          problem=str(exc)[:200]), "InvalidParameterValue", locator) from None
    if root.tag.split("}")[-1] != "Filter":
        raise OgcError(tr("{name} must be a Filter element", name=locator.upper()),
                       "InvalidParameterValue", locator)
    namespaces = {el.tag.split("}")[0][1:] for el in root.iter() if isinstance(el.tag, str)
                  and el.tag.startswith("{")}
    nsmap = {**_FES, "gml": _GML32 if _GML32 in namespaces else _GML}
    return str(etree.tostring(defused_like(_copied(root, None, nsmap), locator),
                              encoding="unicode"))


def client_sld(text: str) -> str:
    """A client's ``SLD_BODY`` for the engine: read without entities, DTD or network, its
    ``PropertyIsLike`` patterns defused (``defused_like``); an OGC error when it is not XML."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        raise OgcError(tr("{name} is not well-formed XML: {problem}", name="SLD_BODY",
                          problem=str(exc)[:200]), "InvalidParameterValue", "sld_body") from None
    return str(etree.tostring(defused_like(root, "sld_body"), encoding="unicode"))


# the attributes of a PropertyIsLike that name its wildcards (FES 1.0 says ``escape``)
_LIKE_CHARS = ("wildCard", "singleChar", "escapeChar", "escape")
_QUOTES = "'\"\\"
_SPARE_SINGLE = "_?#~"


def defused_like(root: etree._Element, locator: str) -> etree._Element:
    """``root`` with no quote in a ``PropertyIsLike`` pattern: MapServer writes the pattern
    into its SQL unescaped on the GeoPackage store, so ``x' OR '1'='1`` matched every feature.
    A quote in the pattern becomes the single-character wildcard (``Сар'янка`` still matches,
    with a letter or two more); a quote as a wildcard is refused."""
    for like in root.iter():
        if not isinstance(like.tag, str) or etree.QName(like).localname != "PropertyIsLike":
            continue
        for name in _LIKE_CHARS:
            value = like.get(name)
            if value is not None and (len(value) != 1 or value in _QUOTES):
                raise OgcError(tr("{name} of PropertyIsLike must be one character other than "
                                  "a quote or a backslash", name=name),
                               "InvalidParameterValue", locator)
        literals = [child for child in like if isinstance(child.tag, str)
                    and etree.QName(child).localname == "Literal"]
        if not any("'" in "".join(literal.itertext()) for literal in literals):
            continue
        single = like.get("singleChar")
        if single is None:
            taken = "".join("".join(literal.itertext()) for literal in literals) + "".join(
                like.get(name) or "" for name in _LIKE_CHARS)
            single = next((c for c in _SPARE_SINGLE if c not in taken), "_")
            like.set("singleChar", single)
        for literal in literals:
            text = "".join(literal.itertext()).replace("'", single)
            for child in list(literal):
                literal.remove(child)
            literal.text = text
    return root


def _copied(element: etree._Element, parent: etree._Element | None,
            nsmap: dict[str, str]) -> etree._Element:
    made = (etree.Element(element.tag, nsmap=nsmap) if parent is None
            else etree.SubElement(parent, element.tag))
    for key, value in element.attrib.items():
        made.set(key, value)
    made.text = element.text
    made.tail = element.tail if parent is not None else None
    for child in element:
        if isinstance(child.tag, str):  # comments and processing instructions are left out
            _copied(child, made, nsmap)
    return made


@dataclass
class PostedRequest:
    """A WFS request POSTed as XML: its operation, version, the type names it reads and the
    document, rewritten with the usual prefixes for the engine."""

    operation: str
    version: str
    type_names: list[str]
    body: bytes


def posted_request(body: bytes) -> PostedRequest:
    """Read a POSTed WFS request (``GetFeature``, ``GetCapabilities``...) safely: no entities,
    no network, at most ``MAX_XML_BYTES``; an OGC error for anything else."""
    if len(body) > MAX_XML_BYTES:
        raise OgcError(tr("a request document is larger than {size} KB",
                          size=MAX_XML_BYTES // 1024), "InvalidParameterValue", "request")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise OgcError(tr("{name} is not well-formed XML: {problem}", name="request",
                          problem=str(exc)[:200]), "InvalidParameterValue", "request") from None
    operation = etree.QName(root).localname
    version = root.get("version") or "2.0.0"
    names: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname
        if local == "Query":
            names += (element.get("typeNames") or element.get("typeName") or "").split()
        elif local == "TypeName" and element.text:
            names.append(element.text.strip())
    namespaces = {el.tag.split("}")[0][1:] for el in root.iter() if isinstance(el.tag, str)
                  and el.tag.startswith("{")}
    nsmap = {**_FES, "gml": _GML32 if _GML32 in namespaces else _GML,
             "wfs": _WFS.get(version, _WFS["2.0.0"])}
    # the client's other prefixes stay declared: values name them (typeNames="geoportal:x")
    nsmap = {**{p: u for p, u in root.nsmap.items() if p and p not in nsmap
                and u not in nsmap.values()}, **nsmap}
    rewritten = etree.tostring(defused_like(_copied(root, None, nsmap), "request"),
                               xml_declaration=True,
                               encoding="UTF-8")
    return PostedRequest(operation.lower(), version,
                         [n for part in names for n in part.split(",") if n], bytes(rewritten))
