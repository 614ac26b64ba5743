"""Coordinates written in degrees, minutes and seconds, the way people type them into sheets.

``53°54'12.3" N``, ``53°54′12,3″ с.ш.``, ``N53 54 12.3``, ``53 54.205`` (degrees and decimal
minutes), ``27°33'E``, ``27°33′ в.д.``, ``53°54′ паўн. ш.``, ``-27 33 00``: Belarusian, Russian
and English hemisphere words (``ю.ш.``, ``з.д.``, ``паўд.``, ``зах.``, S and W are negative),
decimal commas, any spacing. A hemisphere also says which axis the value is on, so a sheet
whose longitude column holds ``53°54' N`` can be put right.

Everything works on whole Arrow arrays (pyarrow.compute's RE2 regexes and numpy): a million
rows are parsed without a Python loop.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["LAT", "LON", "parse_dms"]

LAT, LON = 1, 2  # the axis a hemisphere names; 0 when the value names none

# Hemisphere words (lowercased text) -> one letter. Longer forms first: "паўн. ш." before "п".
_HEMISPHERES = (
    ("n", r"с\.?\s*ш\.?|паўн(?:очнай)?\.?(?:\s*ш(?:ыраты|ыр)?\.?)?|north"
          r"|сев(?:ер|ерной)?\.?(?:\s*ш(?:ироты)?\.?)?"),
    ("s", r"ю\.?\s*ш\.?|паўд(?:нёвай)?\.?(?:\s*ш(?:ыраты|ыр)?\.?)?|south"
          r"|юж(?:ной)?\.?(?:\s*ш(?:ироты)?\.?)?"),
    ("e", r"в\.?\s*д\.?|усх(?:одняй)?\.?(?:\s*д(?:аўгаты|аўг)?\.?)?|east"
          r"|вост(?:ок|очной)?\.?(?:\s*д(?:олготы)?\.?)?"),
    ("w", r"з\.?\s*д\.?|зах(?:одняй)?\.?(?:\s*д(?:аўгаты|аўг)?\.?)?|west"
          r"|зап(?:ад|адной)?\.?(?:\s*д(?:олготы)?\.?)?"),
)
_NUM = r"\d+(?:[.,]\d+)?"
_DEG = r"(?:°|º|˚|deg\.?|град\.?)"
_MIN = r"(?:['′’‘`´]|мин\.?|min\.?)"
_SEC = r"(?:''|′′|\"|″|”|“|сек\.?|sec\.?)"
# One value: an optional hemisphere and sign, degrees, then optional minutes and seconds,
# and an optional hemisphere after.
_DMS = (rf"^(?P<h1>[nsew])?\s*(?P<sign>[-+−])?\s*(?P<d>{_NUM})\s*{_DEG}?\s*"
        rf"(?:(?P<m>{_NUM})\s*{_MIN}?\s*(?:(?P<s>{_NUM})\s*{_SEC}?)?)?\s*(?P<h2>[nsew])?$")


def _letters(text: pa.Array) -> pa.Array:
    """Lowercased text with each hemisphere word as one of n, s, e, w (spaced apart)."""
    text = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    text = pc.replace_substring_regex(text, r"[\x{00A0}\x{202F}]", " ")
    for letter, words in _HEMISPHERES:
        text = pc.replace_substring_regex(text, words, f" {letter} ")
    return pc.utf8_trim_whitespace(text)


def _part(groups: pa.StructArray, name: str) -> np.ndarray:
    """One group as floats: NaN where it is absent."""
    text = groups.field(name)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    numbers: np.ndarray = pc.replace_substring(text, ",", ".").cast(pa.float64()).to_numpy(
        zero_copy_only=False)
    return numbers


def _whole(values: np.ndarray) -> np.ndarray:
    whole: np.ndarray = np.isnan(values) | (values == np.floor(values))
    return whole


def parse_dms(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Decimal degrees of every DMS (or plain decimal) value, and the axis its hemisphere
    names (``LAT``, ``LON`` or 0).

    NaN where a value is not a coordinate: minutes or seconds of 60 or more, fractional
    degrees followed by minutes, two hemispheres that disagree, or anything else. Southern
    and western values are negative.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    text = _letters(values.cast(pa.string()))
    groups = pc.extract_regex(text, _DMS)
    valid = pc.fill_null(pc.is_valid(groups), False).to_numpy(zero_copy_only=False)
    d, m, s = (_part(groups, k) for k in ("d", "m", "s"))
    h1 = groups.field("h1").to_numpy(zero_copy_only=False)
    h2 = groups.field("h2").to_numpy(zero_copy_only=False)
    sign = groups.field("sign").to_numpy(zero_copy_only=False)
    h1 = np.where(valid, h1, "").astype(str)
    h2 = np.where(valid, h2, "").astype(str)
    hemisphere = np.where(h1 != "", h1, h2)
    ok = valid & ~np.isnan(d) & ((h1 == "") | (h2 == "") | (h1 == h2))
    has_m, has_s = ~np.isnan(m), ~np.isnan(s)
    ok &= ~has_m | (_whole(d) & (m < 60))
    ok &= ~has_s | (_whole(m) & (s < 60))
    degrees = d + np.where(has_m, m, 0) / 60 + np.where(has_s, s, 0) / 3600
    ok &= degrees <= 180
    negative = np.isin(hemisphere, ("s", "w")) | np.isin(np.where(valid, sign, ""), ("-", "−"))
    degrees = np.where(ok, np.where(negative, -degrees, degrees), np.nan)
    axis = np.where(np.isin(hemisphere, ("n", "s")), LAT,
                    np.where(np.isin(hemisphere, ("e", "w")), LON, 0)).astype(np.int8)
    return degrees, np.where(ok, axis, 0).astype(np.int8)
