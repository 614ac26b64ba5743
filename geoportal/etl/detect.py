"""What a file does not say: the text encoding of a DBF and the CRS of coordinates.

Both detections say how they decided (``reason``) so the report can tell the admin; both can
be overridden in the manifest (``source.encoding``, ``source.crs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyproj

from geoportal.errors import CRSError
from geoportal.i18n import Message, tr

__all__ = ["AmbiguousCRS", "CRSGuess", "EncodingGuess", "detect_crs", "detect_dbf_encoding",
           "guess_cyrillic", "share_inside"]

# DBF "language driver id" (byte 29) values seen in Belarusian and Russian data.
# Names as GDAL (iconv) and Python both understand them.
_LDID = {0xC9: "CP1251", 0x26: "CP866", 0x65: "CP866", 0x57: "CP1252", 0x03: "CP1252",
         0x01: "CP437"}
_CPG = {"1251": "CP1251", "cp1251": "CP1251", "windows-1251": "CP1251", "ansi 1251": "CP1251",
        "866": "CP866", "cp866": "CP866", "ibm866": "CP866", "koi8-r": "KOI8-R",
        "koi8r": "KOI8-R", "utf-8": "UTF-8", "utf8": "UTF-8", "65001": "UTF-8",
        "1252": "CP1252", "cp1252": "CP1252", "iso-8859-1": "ISO-8859-1", "88591": "ISO-8859-1"}
_CYRILLIC_CANDIDATES = ("CP1251", "CP866", "KOI8-R")
# The most frequent letters of Russian and Belarusian text (lowercase and uppercase).
_COMMON = set("оеаинтсрвлкмдпуяызьбгчйхжшюцщэфъёіўОЕАИНТСРВЛКМДПУЯЫЗЬБГЧЙХЖШЮЦЩЭФЪЁІЎ")
_LOWER = set("оеаинтсрвлкмдпуяызьбгчйхжшюцщэфъёіў")


@dataclass(frozen=True)
class EncodingGuess:
    encoding: str
    reason: str
    confidence: str = "high"  # high | medium | low: how sure the report may sound


def _dbf_bytes(path: Path) -> tuple[bytes, bytes | None]:
    """The DBF's first megabyte and the .cpg's content, for a loose .shp (zipped Shapefiles
    are judged on a copy of their chosen member: ``sources.zip_dbf_encoding``)."""
    def sibling(ext: str) -> Path | None:
        for candidate in (path.with_suffix(ext), path.with_suffix(ext.upper())):
            if candidate.is_file():
                return candidate
        return None
    dbf, cpg = sibling(".dbf"), sibling(".cpg")
    data = dbf.open("rb").read(1 << 20) if dbf else b""
    return data, (cpg.read_bytes() if cpg else None)


@lru_cache(maxsize=8)
def _byte_weights(encoding: str) -> np.ndarray:
    """Per byte value: how much it counts as a common Cyrillic letter when decoded with
    ``encoding`` (1 common + 0.5 lowercase); single-byte code pages map each byte to one
    character, so a text's score is a dot product with its byte histogram."""
    weights = np.zeros(256)
    for byte in range(0x80, 0x100):
        char = bytes([byte]).decode(encoding, errors="replace")
        weights[byte] = (char in _COMMON) + 0.5 * (char in _LOWER)
    return weights


def _score(data: bytes, encoding: str) -> float:
    """The share of non-ASCII characters that are frequent Russian/Belarusian letters (with a
    bonus for lowercase) when ``data`` is read as ``encoding``."""
    counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
    non_ascii = counts[0x80:].sum()
    return float(counts @ _byte_weights(encoding) / non_ascii) if non_ascii else 0.0


def detect_dbf_encoding(path: Path) -> EncodingGuess:
    """The encoding of a Shapefile's attributes: the .cpg, the DBF's language byte, or the text.

    Regional DBFs are CP1251 (sometimes CP866 or KOI8-R) with no .cpg, or UTF-8 with no flag;
    GDAL would read both as Latin-1 and every name would be mojibake.
    """
    data, cpg = _dbf_bytes(path)
    if cpg is not None:
        key = cpg.decode("ascii", errors="ignore").strip().lower()
        said = cpg.decode("ascii", "ignore").strip()
        if key in _CPG and _CPG[key] != "UTF-8":
            return EncodingGuess(_CPG[key], f".cpg says {said}")
        if key in _CPG:  # a common mislabel: check that the text really is UTF-8
            guess = guess_cyrillic(_dbf_text(data), cut_ok=True)
            if guess.encoding == "UTF-8":
                return EncodingGuess("UTF-8", f".cpg says {said}")
            return EncodingGuess(guess.encoding, f".cpg says {said} but the text is not; "
                                 f"{guess.reason}", guess.confidence)
    ldid = data[29] if len(data) > 29 else 0
    if ldid in _LDID and _LDID[ldid] in _CYRILLIC_CANDIDATES:
        return EncodingGuess(_LDID[ldid], f"DBF language byte 0x{ldid:02X}")
    return guess_cyrillic(_dbf_text(data), cut_ok=True)


def _dbf_text(data: bytes) -> bytes:
    """The field names and records of a DBF's first bytes (its header is binary)."""
    header_len = int.from_bytes(data[8:10], "little") if len(data) > 10 else 0
    body = data[32:]
    if header_len and len(data) > header_len:
        body = data[32:header_len] + data[header_len:]
    return body


def guess_cyrillic(data: bytes, *, cut_ok: bool = False) -> EncodingGuess:
    """The encoding of text bytes with no label: ASCII/UTF-8 when they decode as such, else the
    one of CP1251, CP866 and KOI8-R whose decoding reads most like Russian or Belarusian.

    ``cut_ok``: the bytes are the start of a longer text and may end mid-character.
    """
    if data.isascii():
        return EncodingGuess("UTF-8", "the text is plain ASCII")
    try:
        data.decode("utf-8")
        return EncodingGuess("UTF-8", "the text is valid UTF-8")
    except UnicodeDecodeError as exc:
        if cut_ok and exc.start >= len(data) - 4:  # cut mid-character at the boundary
            return EncodingGuess("UTF-8", "the text is valid UTF-8")
    scores = {enc: _score(data, enc) for enc in _CYRILLIC_CANDIDATES}
    ranking = sorted(scores.items(), key=lambda kv: -kv[1])
    ranked = ", ".join(f"{e} {s:.2f}" for e, s in ranking)
    margin = ranking[0][1] - ranking[1][1]
    confidence = "high" if margin >= 0.3 else "medium" if margin >= 0.1 else "low"
    return EncodingGuess(ranking[0][0], f"Cyrillic letter frequencies ({ranked})", confidence)


@dataclass(frozen=True)
class CRSGuess:
    crs: str
    swap_xy: bool
    reason: str
    confidence: str = "high"  # high | medium | low


class AmbiguousCRS(CRSError):
    """Several candidate CRSs put the coordinates inside the region and disagree: ``fits``
    holds them as (crs, name, swap_xy), best first, for a tie-break (``gazetteer.settle``)."""

    def __init__(self, msg: Message, *, fits: tuple[tuple[str, str, bool], ...]) -> None:
        super().__init__(msg)
        self.fits = fits


@lru_cache(maxsize=64)
def _to_lonlat(crs: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(crs, "OGC:CRS84", always_xy=True)


def _sampled(xy: np.ndarray, at_most: int = 2000) -> np.ndarray:
    """The finite coordinates of ``xy``, at most ``at_most`` of them spread evenly."""
    xy = xy[np.isfinite(xy).all(axis=1)]
    if len(xy) > at_most:
        xy = xy[np.linspace(0, len(xy) - 1, at_most).astype(int)]
    return xy


def share_inside(xy: np.ndarray, crs: str, bbox: tuple[float, float, float, float], *,
                 swap: bool) -> float:
    """The share of the (sampled) coordinates that ``crs`` puts inside ``bbox`` (lon/lat),
    with x and y exchanged first when ``swap``; 0 for no finite coordinates."""
    xy = _sampled(xy)
    if len(xy) == 0:
        return 0.0
    x, y = (xy[:, 1], xy[:, 0]) if swap else (xy[:, 0], xy[:, 1])
    with np.errstate(all="ignore"):
        lon, lat = _to_lonlat(crs).transform(x, y, errcheck=False)
    minx, miny, maxx, maxy = bbox
    return float(((lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)).mean())


def _distance_m(a: np.ndarray, b: np.ndarray) -> float:
    """Largest distance in metres between matching lon/lat points (equirectangular)."""
    lat = np.radians((a[:, 1] + b[:, 1]) / 2)
    dx = np.radians(a[:, 0] - b[:, 0]) * np.cos(lat)
    dy = np.radians(a[:, 1] - b[:, 1])
    return float(np.max(np.hypot(dx, dy)) * 6_371_000)


def detect_crs(xy: np.ndarray, bbox: tuple[float, float, float, float], *,
               candidates: tuple[tuple[str, str], ...], ambiguity_m: float,
               origin: str) -> CRSGuess:
    """The candidate CRS under which the sample coordinates fall inside ``bbox``.

    Every candidate is tried as given and with x/y swapped (northing written first). More than
    one fit that disagree by more than ``ambiguity_m`` is an ``AmbiguousCRS`` naming them.
    """
    xy = _sampled(xy)
    if len(xy) == 0:
        raise CRSError(tr("{origin}: no coordinates to detect the CRS from", origin=origin))
    minx, miny, maxx, maxy = bbox
    tried: list[tuple[float, str, str, bool, np.ndarray, np.ndarray]] = []
    for crs, name in candidates:
        for swap in (False, True):
            x, y = (xy[:, 1], xy[:, 0]) if swap else (xy[:, 0], xy[:, 1])
            with np.errstate(all="ignore"):
                lon, lat = _to_lonlat(crs).transform(x, y, errcheck=False)
            inside = (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)
            # Most points must land in the region; stray 0,0 points and typos may not.
            if inside.mean() >= 0.5:
                tried.append((float(inside.mean()), crs, name, swap,
                              np.column_stack([lon, lat]), inside))
    best = max((t[0] for t in tried), default=0.0)
    fits = [t[1:] for t in tried if t[0] >= best - 0.05]
    if not fits:
        raise CRSError(tr("{origin}: no CRS among {candidates} puts the coordinates inside the "
                          "layer's region; set source.crs in the manifest", origin=origin,
                          candidates=", ".join(c for c, _ in candidates)))
    first = fits[0]

    def far(other: tuple[str, str, bool, np.ndarray, np.ndarray]) -> bool:
        both = first[4] & other[4]
        return bool(both.any()) and _distance_m(first[3][both], other[3][both]) > ambiguity_m

    apart = [f for f in fits[1:] if far(f)]
    if apart:
        names = ", ".join(f"{f[0]}{' (x/y swapped)' if f[2] else ''}" for f in [first, *apart])
        raise AmbiguousCRS(
            tr("{origin}: no CRS declared and the coordinates fit several that disagree by more "
               "than {metres} m ({names}); set source.crs in the manifest", origin=origin,
               metres=f"{ambiguity_m:.0f}", names=names),
            fits=tuple((f[0], f[1], f[2]) for f in [first, *apart]))
    crs, name, swap, _, inside = first
    share = float(inside.mean())
    reason = (f"no CRS declared; {share:.0%} of the sampled coordinates fall inside the region "
              f"in {crs} ({name})")
    if swap:
        reason += ", with x and y swapped (northing written first)"
    if len(fits) > 1:
        reason += f"; equivalent within {ambiguity_m:.0f} m: " + ", ".join(
            f[0] for f in fits[1:])
    confidence = "high" if share >= 0.95 else "medium" if share >= 0.8 else "low"
    return CRSGuess(crs, swap, reason, confidence)
