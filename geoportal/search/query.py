"""What a search box query asks: "X near Y", "X in Y", or "X Y" (words of a layer and a
place without a connector word).

Connectors, in the three languages of the page: en ``in``, ``near``, ``around``, ``close to``;
ru ``в``, ``во``, ``около``, ``возле``, ``рядом с``, ``у``; be ``у``, ``ў``, ``каля``, ``ля``,
``побач з``, ``в``. The last connector with words on both sides splits the query: "railway
stations near Orsha" -> what "railway stations", near "Orsha". Without one, ``splits`` gives
the ways to read the query as layer words plus a place (the place last, then first), which the
caller tries against the gazetteer: "станции Орша", "районы Гомельской области".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["CONNECTORS", "MAX_QUERY", "Parsed", "parse", "splits"]

MAX_QUERY = 200  # characters: a longer q is a 400
# one-word and two-word connectors (lower case)
CONNECTORS = frozenset({"in", "near", "around", "в", "во", "около", "возле", "у", "ў", "каля",
                        "ля", "inside"})
CONNECTORS2 = frozenset({("close", "to"), ("рядом", "с"), ("побач", "з"), ("недалёка", "ад"),
                         ("недалеко", "от")})
_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class Parsed:
    """A query: ``what`` is sought (layer words, or a place name when ``near`` is None);
    ``near``: the place it is sought in or near; ``connector``: the word between them."""

    what: str
    near: str | None = None
    connector: str | None = None

    def to_json(self) -> dict[str, str | None]:
        """As ``GET /search`` echoes it."""
        return {"what": self.what, "near": self.near, "connector": self.connector}


def parse(text: str) -> Parsed:
    """Split ``text`` at its last connector word that has words on both sides; else the
    whole text is ``what``."""
    tokens = _TOKEN.findall(text.strip())
    low = [t.lower() for t in tokens]
    for i in range(len(tokens) - 2, 0, -1):
        if (low[i], low[i + 1]) in CONNECTORS2 and i + 2 < len(tokens):
            return Parsed(" ".join(tokens[:i]), " ".join(tokens[i + 2:]),
                          f"{low[i]} {low[i + 1]}")
        if low[i] in CONNECTORS:
            return Parsed(" ".join(tokens[:i]), " ".join(tokens[i + 1:]), low[i])
    return Parsed(" ".join(tokens))


def splits(text: str, most_place_words: int = 4) -> Iterator[Parsed]:
    """Readings of a query without a connector as (layer words, place): the place as the
    last 1..n-1 words (longest first), then as the first ones."""
    tokens = _TOKEN.findall(text.strip())
    n = len(tokens)
    for k in range(min(n - 1, most_place_words), 0, -1):
        yield Parsed(" ".join(tokens[:n - k]), " ".join(tokens[n - k:]))
    for k in range(min(n - 1, most_place_words), 0, -1):
        yield Parsed(" ".join(tokens[k:]), " ".join(tokens[:k]))
