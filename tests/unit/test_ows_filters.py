"""The filters a client sends the WFS and WMS (geoportal/server/ows/kvp.py), as rewritten
before the map engine reads them: the usual prefixes, and no quote in a LIKE pattern (the
engine wrote those into its SQL unescaped on the GeoPackage store)."""

from __future__ import annotations

import pytest
from lxml import etree

from geoportal.server.ows.kvp import OgcError, canonical_filter, client_sld, posted_request

FES = "http://www.opengis.net/fes/2.0"


def _like(literal: str, **attrs: str) -> str:
    attributes = " ".join(f'{k}="{v}"' for k, v in attrs.items())
    return (f'<f:Filter xmlns:f="{FES}"><f:PropertyIsLike {attributes}><f:ValueReference>name'
            f"</f:ValueReference><f:Literal>{literal}</f:Literal></f:PropertyIsLike></f:Filter>")


def _pattern(text: str) -> tuple[str, str | None]:
    like = etree.fromstring(text.encode()).find(f"{{{FES}}}PropertyIsLike")
    assert like is not None
    return like.findtext(f"{{{FES}}}Literal") or "", like.get("singleChar")


def test_a_quote_in_a_like_pattern_becomes_the_single_character_wildcard():
    out = canonical_filter(_like("x' OR '1'='1", wildCard="*", singleChar=".", escapeChar="!"))
    assert _pattern(out) == ("x. OR .1.=.1", ".")
    assert out.startswith("<fes:Filter")  # the usual prefix
    # a Belarusian name keeps matching itself: the apostrophe is one character
    assert _pattern(canonical_filter(_like("Сар'ян*", wildCard="*", singleChar=".",
                                           escapeChar="!")))[0] == "Сар.ян*"


def test_without_a_single_character_wildcard_one_is_chosen_that_the_pattern_lacks():
    literal, single = _pattern(canonical_filter(_like("a_b'c", wildCard="*", escapeChar="!")))
    assert single == "?" and literal == "a_b?c"
    untouched = canonical_filter(_like("abc", wildCard="*", escapeChar="!"))
    assert _pattern(untouched) == ("abc", None)


@pytest.mark.parametrize("attrs", [
    {"wildCard": "'", "singleChar": ".", "escapeChar": "!"},
    {"wildCard": "*", "singleChar": ".", "escapeChar": "\\"},
    {"wildCard": "*", "singleChar": "..", "escapeChar": "!"},
    {"wildCard": "*", "singleChar": ".", "escape": "&quot;"},
])
def test_a_quote_or_more_than_one_character_as_a_wildcard_is_refused(attrs):
    with pytest.raises(OgcError) as refused:
        canonical_filter(_like("abc", **attrs))
    assert refused.value.locator == "filter"
    assert "PropertyIsLike" in refused.value.user_message("en")


def test_a_posted_request_and_a_clients_sld_are_defused_too():
    body = (f'<wfs:GetFeature xmlns:wfs="http://www.opengis.net/wfs/2.0" service="WFS" '
            f'version="2.0.0"><wfs:Query typeNames="oblasts">'
            f'{_like("x&apos; OR &apos;1&apos;=&apos;1", wildCard="*", singleChar="_",
                     escapeChar="!")}'
            f"</wfs:Query></wfs:GetFeature>").encode()
    posted = posted_request(body)
    assert posted.type_names == ["oblasts"]
    assert b"'" not in posted.body.split(b"?>", 1)[1] and b"x_ OR _1_=_1" in posted.body
    sld = ('<StyledLayerDescriptor version="1.0.0" xmlns="http://www.opengis.net/sld" '
           'xmlns:ogc="http://www.opengis.net/ogc"><NamedLayer><Name>a</Name><UserStyle>'
           '<FeatureTypeStyle><Rule><ogc:Filter><ogc:PropertyIsLike wildCard="*" '
           'singleChar="." escape="!"><ogc:PropertyName>n</ogc:PropertyName><ogc:Literal>'
           "x' OR '1'='1</ogc:Literal></ogc:PropertyIsLike></ogc:Filter></Rule>"
           "</FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>")
    assert "x. OR .1.=.1" in client_sld(sld) and "'" not in client_sld(sld)
    with pytest.raises(OgcError) as broken:
        client_sld("<StyledLayerDescriptor>")
    assert broken.value.locator == "sld_body"
