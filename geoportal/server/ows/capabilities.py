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

__all__ = ["group_path", "titled_groups", "without_placeholder"]

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
    for theme_layer in _groups(top, ns):
        theme = registry.themes.get(_name(theme_layer, ns))
        _rename(theme_layer, ns, theme.name if theme else None, language)
        for region_layer in _groups(theme_layer, ns):
            region = registry.regions.get(_name(region_layer, ns))
            _rename(region_layer, ns, region.name if region else None, language)
    return bytes(etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8"))


def _name(layer: etree._Element, ns: str) -> str:
    found = layer.find(f"{ns}Name")
    return (found.text or "") if found is not None else ""


def _unname(layer: etree._Element, ns: str) -> None:
    found = layer.find(f"{ns}Name")
    if found is not None:
        layer.remove(found)


def _groups(layer: etree._Element, ns: str) -> list[etree._Element]:
    """The group layers (those holding layers) right under ``layer``."""
    return [child for child in layer.findall(f"{ns}Layer")
            if child.find(f"{ns}Layer") is not None]


def _rename(layer: etree._Element, ns: str, names: dict[str, str] | None,
            language: str) -> None:
    """A group titled by its theme's or region's name in ``language`` (its id when the
    registry has none), and unnamed."""
    found = layer.find(f"{ns}Title")
    title = pick_language(names, language) if names else None
    if found is not None and title:
        found.text = title
    _unname(layer, ns)


def without_placeholder(document: bytes, name: str) -> bytes:
    """WFS capabilities without the feature type ``name`` (a stand-in layer), and without their
    feature type list when nothing else is in it (WFS 1.1 and 2.0 allow none, but no empty
    one); ``document`` itself if it is not capabilities."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError:
        return document
    for listed in root.iter("{*}FeatureType"):
        named = listed.find("{*}Name")
        if named is not None and (named.text or "").split(":")[-1] == name:
            parent = listed.getparent()
            assert parent is not None
            parent.remove(listed)
            if not len(parent.findall("{*}FeatureType")) and root.get("version") != "1.0.0":
                grandparent = parent.getparent()
                assert grandparent is not None
                grandparent.remove(parent)
            break
    return bytes(etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8"))
