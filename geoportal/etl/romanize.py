"""ASCII field names from Belarusian and Russian source headers.

Source layers name their columns in Cyrillic (``Назва``, ``Наименование объекта``); the store
and every client want lower snake_case ASCII. The original names survive elsewhere as titles,
so this module only makes the ASCII names, by the official rules rather than ad-hoc ones:

* Russian: the table of ICAO Doc 9303 (Part 3) used in Russian passports since the FMS order
  No. 320 of 15.10.2012 (para. 97), i.e. GOST R 52535.1-2006 with ц -> ts and ъ -> ie.
  It is plain ASCII already.
* Belarusian: the "Instruction on transliteration of geographical names of the Republic of
  Belarus with letters of the Latin alphabet" (Resolution No. 15 of 23.11.2000, amended by
  Resolution No. 38 of 11.06.2007), the system adopted by the UN (UNGEGN WGRS report 3.0,
  2008; UNCSGN resolution X/6, 2012). Note: State Property Committee Resolution No. 19 of
  24.03.2023 replaced it inside Belarus with a table without diacritics (г g, ж zh, ў w,
  ч ch, ш sh); ``romanize`` keeps the UN system, and ``to_ascii_name`` folds its diacritics
  to the same letters as the 2023 table wherever that avoids a collision (see there).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["detect_language", "romanize", "to_ascii_name"]

LANGS = ("be", "ru")


def _table(spec: str) -> dict[str, str]:
    """``"а=a ь="`` -> ``{"а": "a", "ь": ""}``: each letter beside its rendering."""
    return {k: v for k, _, v in (pair.partition("=") for pair in spec.split())}


# ICAO also gives і i and ў u, for Belarusian letters in a Russian text.
_RU = _table(
    "а=a б=b в=v г=g д=d е=e ё=e ж=zh з=z и=i й=i к=k л=l м=m н=n о=o п=p р=r с=s т=t "
    "у=u ф=f х=kh ц=ts ч=ch ш=sh щ=shch ъ=ie ы=y ь= э=e ю=iu я=ia і=i ў=u"
)
# Belarusian letters with one fixed rendering; и, щ (Russian spellings in a Belarusian
# layer) get the Belarusian equivalents of the sounds: i and šč (as шч).
_BE = _table(
    "а=a б=b в=v г=h ґ=g д=d ж=ž з=z і=i й=j к=k л=l м=m н=n о=o п=p р=r с=s т=t у=u ў=ŭ "
    "ф=f х=ch ц=c ч=č ш=š ы=y э=e и=i щ=šč"
)
_BE_IOTATED = {"е": "e", "ё": "o", "ю": "u", "я": "a"}  # je/jo/ju/ja or ie/io/iu/ia
_BE_CONSONANTS = frozenset("бвгґджзйклмнпрстфхцчшщ")
_BE_SOFTENED = frozenset("зслнц")  # ь puts an acute on these: ź ś ĺ ń ć (дзь -> dź)
_APOSTROPHES = frozenset("'’ʼ‘")

_BE_MARKS = re.compile(
    r"[іў]|ць|дзь|[жшч]ы|[жшчр]э|(?<=[а-яёіў])['’ʼ‘](?=[а-яёіў])|(?<=[а-яёіў])i|i(?=[а-яёіў])"
)
_RU_MARKS = re.compile(r"[ищъ]|[тдр]ь|[жшчр][еёюя]")


def detect_language(texts: Iterable[str]) -> str:
    """Guess whether Cyrillic texts are Belarusian ("be") or Russian ("ru").

    Pass all field names of one layer so the whole layer is romanized one way. Belarusian
    evidence: і, ў, an apostrophe between letters, spellings Russian never has (ць, дзь, шы,
    рэ, ...) and a Latin ``i`` typed inside a Cyrillic word (a frequent stand-in for і).
    Russian evidence: и, щ, ъ and spellings Belarusian never has (ть, дь, рь, ре, же, ...).
    The larger count wins; a tie, including no evidence at all, gives "ru".
    """
    text = "\n".join(texts).lower()
    be = len(_BE_MARKS.findall(text))
    ru = len(_RU_MARKS.findall(text))
    return "be" if be > ru else "ru"


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def _cased(piece: str, text: str, i: int) -> str:
    """``piece`` in the case of ``text[i]``: ``Shch`` in a word, ``SHCH`` in an all-caps one."""
    if not piece or not text[i].isupper():
        return piece
    nxt = text[i + 1] if i + 1 < len(text) else ""
    prev = text[i - 1] if i else ""
    if nxt.isupper() or (not nxt.isalpha() and prev.isupper()):
        return piece.upper()
    return piece[0].upper() + piece[1:]


def _romanize_be(text: str, table: dict[str, str]) -> str:
    out: list[str] = []
    after_consonant = False  # е ё ю я: ie... after a consonant, je... everywhere else
    for i, ch in enumerate(text):
        low = ch.lower()
        piece = ch
        if low in _BE_IOTATED:
            piece = ("i" if after_consonant else "j") + _BE_IOTATED[low]
        elif low == "ь":
            if i and text[i - 1].lower() in _BE_SOFTENED and out:
                out[-1] = unicodedata.normalize("NFC", out[-1] + "\u0301")
            piece = ""
        elif low == "ъ" or (
            low in _APOSTROPHES
            and 0 < i < len(text) - 1
            and _is_cyrillic(text[i - 1])
            and _is_cyrillic(text[i + 1])
        ):
            piece = ""  # the separating apostrophe is not transliterated
        elif low in table:
            piece = table[low]
        after_consonant = low in _BE_CONSONANTS
        out.append(_cased(piece, text, i))
    return "".join(out)


def romanize(text: str, lang: str) -> str:
    """Cyrillic letters of ``text`` in Latin script; every other character is kept.

    ``lang="ru"``: ICAO Doc 9303 as in Russian passports (module docstring): а a, б b, в v,
    г g, д d, е/ё/э e, ж zh, з z, и/й i, к k, л l, м m, н n, о o, п p, р r, с s, т t, у u,
    ф f, х kh, ц ts, ч ch, ш sh, щ shch, ъ ie, ы y, ь not written, ю iu, я ia (the table
    also gives і i, ў u). ``Щёлково`` -> ``Shchelkovo``, ``Объект`` -> ``Obieekt``.

    ``lang="be"``: the Belarusian national system of 2007, adopted by the UN: г h, ж ž,
    ў ŭ, х ch, ц c, ч č, ш š, ы y, й j, э e; е ё ю я are je jo ju ja at the start of a word
    and after a vowel, ў, ь or apostrophe, ie io iu ia after a consonant; ь marks the
    consonant before it with an acute (ź ś ĺ ń ć, дзь dź); the apostrophe is dropped.
    ``Магілёў`` -> ``Mahilioŭ``, ``Гомель`` -> ``Homieĺ``, ``Вераб'ёвічы`` -> ``Vierabjovičy``.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    if lang == "be":
        return _romanize_be(text, _BE)
    return "".join(_cased(_RU.get(ch.lower(), ch), text, i) for i, ch in enumerate(text))


# č š ž -> ch sh zh and ŭ -> w, whatever the source of the letter (Łacinka or Lithuanian
# text too); х -> kh in ASCII names. Why: see to_ascii_name. NFKD has no decomposition for
# ł đ ø ... either; № would become "No" under NFKD and is a separator here instead.
_FOLD = str.maketrans(
    {**_table("č=ch š=sh ž=zh ŭ=w ł=l đ=d ø=o ħ=h ı=i ß=ss æ=ae œ=oe þ=th"), "№": " "}
)
_BE_ASCII = {**_BE, "х": "kh"}
_NOT_NAME = re.compile(r"[^a-z0-9]+")
# "№", "№ п/п" (номер по порядку), "№п.п.": the number column of a register, named "no";
# "№ участка" -> "no_uchastka". A № elsewhere ("ОКРУГ №") stays a separator.
_NUMERO = re.compile(r"^\s*№\s*(?:п\s*[/.]?\s*п\.?\s*$|$|(?=[^\W_]))")


def _split_camel(name: str) -> str:
    """A space at camelCase boundaries: ``PopTotal`` -> ``Pop Total``, ``HTTPServer`` ->
    ``HTTP Server``; all-caps words (``NAME_RU``) stay whole."""
    out: list[str] = []
    for i, ch in enumerate(name):
        if i and ch.isupper():
            prev, nxt = name[i - 1], name[i + 1 : i + 2]
            if prev.islower() or (prev.isupper() and nxt.islower()):
                out.append(" ")
        out.append(ch)
    return "".join(out)


def to_ascii_name(name: str, lang: str) -> str:
    """The store's field name for a source column: lower snake_case ASCII, or "".

    Steps: split camelCase (``PopTotal`` -> ``pop_total``), romanize by ``lang``, lowercase,
    fold what is left to ASCII (the table above, then NFKD without combining marks, so
    ``Łódź`` -> ``lodz`` and ``м²`` -> ``m2``), turn every run of other characters into one
    ``_`` and trim ``_`` at the ends. A name starting with a digit gets ``f_`` (not a valid
    identifier otherwise); "" means nothing was left and the caller numbers the field.

    Belarusian folding keeps letters apart instead of just stripping marks: č š ž become
    ch sh zh (the Russian ICAO and the 2023 Belarusian renderings, so ``Чата``/``Цата``,
    ``Шар``/``Сар`` do not meet), ŭ becomes w (2023 table; ``ў`` stays apart from ``у``) and,
    since ch now means ч, х is written kh here (as ICAO does) rather than the 2007 ch.
    The acute of the soft consonants (ĺ ń ś ź ć) is simply dropped, as ICAO drops ь.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    text = _split_camel(_NUMERO.sub(" no ", name))
    text = _romanize_be(text, _BE_ASCII) if lang == "be" else romanize(text, lang)
    text = unicodedata.normalize("NFKD", text.lower().translate(_FOLD))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = _NOT_NAME.sub("_", text).strip("_")
    return f"f_{text}" if text[:1].isdigit() else text
