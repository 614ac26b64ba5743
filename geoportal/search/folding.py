"""Folding names and queries so that what people type meets what the layers hold.

Cyrillic: lower case, ё/е, і/и, ў/у, й/и, apostrophes and ъ dropped (``Гродна``, ``Гродно``
and ``гродно`` meet; Belarusian typed on a Russian keyboard too). Latin: lower case,
diacritics dropped after č/š/ž became ch/sh/zh (``Orša`` and ``Orsha`` meet). A Cyrillic name
is also indexed under its Belarusian (national system) and Russian (ICAO) romanizations, so
``Orsha``, ``Mahiliou`` and ``Mogilev`` find their places.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from geoportal.etl.romanize import romanize

__all__ = ["fold", "is_latin", "latin_keys", "name_keys", "stem", "stem_phrase", "words"]

_CYR = str.maketrans({"ё": "е", "і": "и", "ў": "у", "й": "и", "ъ": "", "’": "", "'": "",
                      "ʼ": "", "‘": "", "`": "", "№": " "})
_LAT = str.maketrans({"č": "ch", "š": "sh", "ž": "zh", "ŭ": "u", "ł": "l", "ß": "ss"})
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_APOSTROPHES = str.maketrans({"’": "", "'": "", "ʼ": "", "‘": "", "`": ""})
_SPLIT = re.compile(r"[\W_]+", re.UNICODE)


def _strip_marks(text: str) -> str:
    """Diacritics off (NFKD without combining marks); ``й`` and ``ё`` fold the same way."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """``text`` as the index compares it: lower case, the letters be/ru spell differently
    folded, diacritics dropped, every run of other characters one space."""
    low = text.lower().translate(_CYR).translate(_LAT)
    return " ".join(_NOT_WORD.sub(" ", _strip_marks(low).lower()).replace("_", " ").split())


@lru_cache(maxsize=200_000)
def _token_keys(token: str) -> tuple[str, str, str]:
    """One word (lower case, no apostrophes) folded, and its be and ru romanizations folded
    ("" for a word without Cyrillic): romanizing word by word gives what romanizing the
    whole name gives (every rule looks within a word), and names repeat their words."""
    folded = fold(token)
    if is_latin(token):
        return folded, "", ""
    return folded, fold(romanize(token, "be")), fold(romanize(token, "ru"))


def name_keys(name: str) -> set[str]:
    """Every key a name is indexed under: folded, and (Cyrillic) its Belarusian and Russian
    romanizations folded; ``fold`` and ``latin_keys`` of the name, computed word by word."""
    tokens = [t for t in _SPLIT.split(name.lower().translate(_APOSTROPHES)) if t]
    if not tokens:
        return set()
    parts = [_token_keys(t) for t in tokens]
    keys = {" ".join(p[0] for p in parts if p[0])}
    if not is_latin(name):
        keys.add(" ".join((p[1] or p[0]) for p in parts if p[1] or p[0]))
        keys.add(" ".join((p[2] or p[0]) for p in parts if p[2] or p[0]))
    return {" ".join(k.split()) for k in keys} - {""}


def is_latin(text: str) -> bool:
    """Whether ``text`` has no Cyrillic letter (a transliterated or English query)."""
    return _CYRILLIC.search(text) is None


def latin_keys(name: str) -> set[str]:
    """A Cyrillic name's folded romanizations: Belarusian (2007 national system, č -> ch)
    and Russian (ICAO); empty for a name with no Cyrillic letter."""
    if is_latin(name):
        return set()
    return {fold(romanize(name, "be")), fold(romanize(name, "ru"))} - {""}


def words(text: str) -> list[str]:
    """The folded words of ``text``."""
    return fold(text).split()


def stem(word: str) -> str:
    """A word without its ending (``гомельской`` and ``гомельская`` -> ``гомельск``): one
    letter off words of five or six letters, two off longer ones (as the catalog's search
    matches word endings, ``geoportal.catalog.records``)."""
    if len(word) < 5:
        return word
    return word[:-1] if len(word) < 7 else word[:-2]


def stem_phrase(folded: str) -> str:
    """Each word of a folded text stemmed: the key inflected forms meet under."""
    return " ".join(stem(w) for w in folded.split())
