"""One search box for places and layers (issue 19).

``folding``: how names and queries are folded (case, ё/е, і/и, ў/у, diacritics, Latin
transliteration) so that what people type meets what the layers hold. ``gazetteer``: the
in-memory index of place names built from the published layers whose manifest marks name
fields as searchable (``search:``), with exact, stem, prefix and typo-tolerant lookup, ranked.
``query``: "X near Y" / "X in Y" / "X Y" parsed into what is sought and where. ``layers``:
layers matched by their words and by whether their extent covers a place.
"""

from __future__ import annotations

from geoportal.search.gazetteer import Gazetteer, Place, PlaceSpec
from geoportal.search.query import Parsed, parse

__all__ = ["Gazetteer", "Parsed", "Place", "PlaceSpec", "parse"]
