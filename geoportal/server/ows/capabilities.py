"""What the portal changes in MapServer's WMS capabilities: the tree's group layers.

MapServer names a group layer (``wms_layer_group "/theme/region"``) by its path segment and
titles it the same way, and a client may then ask for the whole group in one GetMap, every
layer of a theme at once. Here the groups lose their ``Name`` (they become folders, as WMS
allows: a layer without a name is a category) and get the theme's and the region's names in
the request's language; the root, which would name the whole portal, loses its name too.
"""

from __future__ import annotations

from lxml import etree

from geoportal.catalog.registry import Registry
from geoportal.fields import pick_language

__all__ = ["group_path", "titled_groups"]

_WMS = "{http://www.opengis.net/wms}"


def group_path(theme: str, region: str) -> str:
    """A layer's place in the tree: its theme, then its region (``/population/5000000000``)."""
    return f"/{theme}/{region}"


def titled_groups(document: bytes, registry: Registry, language: str) -> bytes:
    """``document`` (WMS 1.3.0 or 1.1.1 capabilities) with its group layers titled and
    unnamed; ``document`` itself if it is not capabilities."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True,
                             remove_blank_text=False)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError:
        return document
    ns = _WMS if root.tag.startswith(_WMS) else ""
    capability = root.find(f"{ns}Capability")
    top = capability.find(f"{ns}Layer") if capability is not None else None
    if top is None:
        return document
    _unname(top, ns)
    for theme_layer in top.findall(f"{ns}Layer"):
        if theme_layer.find(f"{ns}Layer") is None:
            continue
        theme_id = _name(theme_layer, ns)
        theme = registry.themes.get(theme_id)
        _retitle(theme_layer, ns, pick_language(theme.name, language) if theme else theme_id)
        _unname(theme_layer, ns)
        for region_layer in theme_layer.findall(f"{ns}Layer"):
            if region_layer.find(f"{ns}Layer") is None:
                continue
            code = _name(region_layer, ns)
            region = registry.regions.get(code)
            _retitle(region_layer, ns, pick_language(region.name, language) if region else code)
            _unname(region_layer, ns)
    return bytes(etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8"))


def _name(layer: etree._Element, ns: str) -> str:
    found = layer.find(f"{ns}Name")
    return (found.text or "") if found is not None else ""


def _unname(layer: etree._Element, ns: str) -> None:
    found = layer.find(f"{ns}Name")
    if found is not None:
        layer.remove(found)


def _retitle(layer: etree._Element, ns: str, title: str | None) -> None:
    found = layer.find(f"{ns}Title")
    if found is not None and title:
        found.text = title
