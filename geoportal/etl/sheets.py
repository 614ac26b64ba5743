"""Sheets as people fill them in: a title block above the column names, totals and notes below.

A register typed in Excel rarely starts with its column names: a title ("Реестр остановок ...
по состоянию на 01.01.2026"), a source line and a blank row come first, often in merged cells;
and it ends with "Итого: 25" or "Примечание: ...". ``read_header`` finds the header row from
the first rows (the first row whose cells look like column names above a row of data), or
takes the one the manifest names (``source.header_row``); ``totals_reason`` tells the rows at
the bottom that are not features, so they are set aside with a reason, never in silence.

How the rows above the header are skipped without loading the file: a CSV is read by GDAL from
the header line on (``/vsisubfile/``, no copy); an XLSX/ODS sheet is read with GDAL's header
detection off (every row as cells) and the first rows of the first batch are dropped.
"""

from __future__ import annotations

import codecs
import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio

from geoportal.errors import InputError
from geoportal.etl.sources import SOURCE_ONLY, SRID_KEY, gdal_config, srids
from geoportal.i18n import tr

__all__ = ["Header", "explain_missing", "not_features", "raw_config", "read_header",
           "skip_rows", "subfile", "totals_reason"]

SCAN_ROWS = 64  # rows looked at to find the header
_SCAN_BYTES = 1 << 20
_SEPARATORS = {"TAB": "\t", "SEMICOLON": ";", "COMMA": ",", "PIPE": "|"}
# GDAL's switch between "the first row names the columns" and "every row is cells".
_HEADERS = {"XLSX": "OGR_XLSX_HEADERS", "ODS": "OGR_ODS_HEADERS"}
# A cell that is a value, not a name: digits with the punctuation of numbers, dates and DMS.
_VALUE = re.compile(r"[-+−]?[\d\s.,:;/°º'′″\"NSEWnsew]*\d[\d\s.,:;/°º'′″\"NSEWnsew-]*")
# Words starting a row that is not a feature: totals (ru, be, en) and notes or footnotes.
_TOTALS = re.compile(r"^(?:итого|всего|разам|усяго|total|totals|grand total|sum|сумма)\b"
                     r"|^(?:примечани[ея]|прим\.|заўвага|заўвагі|заўв\.|notes?\b|источник|"
                     r"крыніца)|^\*", re.IGNORECASE)


@dataclass(frozen=True)
class Header:
    """Where a sheet's column names are.

    ``row``: the header's row number as the user sees it (1-based line of a CSV, row of a
    sheet). ``names``: the column names, blank cells as ``field_N`` and repeats numbered.
    ``offset``: bytes into the CSV GDAL opens where the header line starts (0: the first line).
    ``skip``: rows GDAL streams before the first data row (a sheet read as cells), 0 when GDAL
    reads the header itself. ``sample``: the first data rows' values by column name.
    """

    row: int
    names: tuple[str, ...]
    offset: int = 0
    skip: int = 0
    sample: dict[str, list[str | None]] = field(default_factory=dict)
    forced: bool = False

    @property
    def note(self) -> str | None:
        """The report's sentence, when the header is not simply the first row."""
        if self.row == 1:
            return None
        above = "row 1" if self.row == 2 else f"rows 1-{self.row - 1}"
        how = "set in the manifest" if self.forced else "title"
        return f"header row {self.row} ({above}: {how})"


def _cells(values: list[object]) -> list[str | None]:
    return [str(v).strip() or None if v is not None else None for v in values]


def _is_value(cell: str) -> bool:
    return bool(_VALUE.fullmatch(cell))


def _filled(row: list[str | None]) -> list[str]:
    return [c for c in row if c]


def _header_like(row: list[str | None], need: int) -> bool:
    cells = _filled(row)
    return len(cells) >= need and not any(_is_value(c) for c in cells)


def _data_like(row: list[str | None]) -> bool:
    cells = _filled(row)
    return len(cells) >= 2 and any(_is_value(c) for c in cells)


def _merged(upper: list[str | None], lower: list[str | None]) -> list[str | None]:
    """A two-row header: the lower row's names, blanks filled from the group row above."""
    width = max(len(upper), len(lower))
    upper, lower = upper + [None] * (width - len(upper)), lower + [None] * (width - len(lower))
    return [b or a for a, b in zip(upper, lower, strict=True)]


def find_header_row(rows: list[list[str | None]]) -> tuple[int, list[str | None]]:
    """The header's index in ``rows`` (0-based) and its cells: the first row of at least half
    as many names as the widest row, none of them a value, right above a row of data (blank
    rows between are allowed). A two-row header (a group name above, in merged cells) takes
    its blanks from the row above. (0, first row) when no row qualifies: the first row."""
    widest = max((len(_filled(r)) for r in rows), default=0)
    need = max(2, math.ceil(widest / 2))
    below = [next((r for r in rows[i + 1:] if _filled(r)), None) for i in range(len(rows))]
    for i, row in enumerate(rows):
        following = below[i]
        if following is None or not _data_like(following) or not _header_like(row, 1):
            continue
        upper = rows[i - 1] if i else []
        if _header_like(upper, 2) and _header_like(_merged(upper, row), need):
            return i, _merged(upper, row)
        if _header_like(row, need):
            return i, row
    return 0, rows[0] if rows else []


def column_names(cells: list[str | None], width: int) -> tuple[str, ...]:
    """Header cells as column names: blanks (merged cells) as ``field_N``, a repeated name
    numbered (``Название``, ``Название (2)``) so that every column keeps its own."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i in range(width):
        name = (cells[i] if i < len(cells) else None) or f"field_{i + 1}"
        name = " ".join(name.split())  # line breaks inside a header cell
        seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
        count = seen[name.casefold()]
        names.append(name if count == 1 else f"{name} ({count})")
    return tuple(names)


def _sample(rows: list[list[str | None]], names: tuple[str, ...]) -> dict[str, list[str | None]]:
    return {name: [r[i] if i < len(r) else None for r in rows] for i, name in enumerate(names)}


def raw_config(driver: str) -> dict[str, str]:
    """The GDAL config that reads a sheet as cells, header row included ({} for CSV)."""
    return {_HEADERS[driver]: "DISABLE"} if driver in _HEADERS else {}


def subfile(gdal_path: str, offset: int) -> str:
    """``gdal_path`` (``CSV:/dir/x.csv``) from byte ``offset`` on, as GDAL's /vsisubfile/."""
    if not offset:
        return gdal_path
    prefix, _, path = gdal_path.rpartition("CSV:")
    return f"{prefix}CSV:/vsisubfile/{offset},{path}"


def _check_forced(origin: Path, forced: int | None, rows: int) -> None:
    if forced is not None and forced > rows:
        raise InputError(tr("{file}: source.header_row {row} is beyond the {rows} rows read; "
                            "set source.header_row in the manifest to the row holding the "
                            "column names", file=origin.name, row=forced, rows=rows))


def _csv_rows(path: Path, encoding: str, separator: str | None,
              until: int) -> tuple[list[list[str | None]], list[int]]:
    """The first lines of a delimited text as cells, and the byte offset (in the UTF-8 text
    GDAL reads) where each starts. Blank lines count, as in a text editor."""
    with path.open("rb") as fh:
        head = fh.read(_SCAN_BYTES)
        complete = not fh.read(1)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=complete)
    lines = re.findall(r"[^\n]*\n|[^\n]+$", text)
    if not complete and lines and not lines[-1].endswith("\n"):
        lines.pop()
    lines = lines[:until]
    sep = _SEPARATORS.get(separator or "COMMA", ",")
    rows, offsets, at = [], [], 0
    for line in lines:
        offsets.append(at)
        at += len(line.encode("utf-8"))
        parsed = next(csv.reader([line.rstrip("\r\n")], delimiter=sep), [])
        rows.append(_cells(list(parsed)))
    return rows, offsets


def _sheet_rows(gdal_path: str, layer: str | None, driver: str,
                until: int) -> list[list[str | None]]:
    """The first rows of a sheet as cells (GDAL's header detection off)."""
    with gdal_config(raw_config(driver)):
        _, table = pyogrio.read_arrow(gdal_path, layer=layer, read_geometry=False,
                                      max_features=until)
    return [_cells(list(row.values())) for row in table.to_pylist()]


def read_header(origin: Path, driver: str, gdal_path: str, layer: str | None, *,
                fields: list[str], forced: int | None = None, encoding: str | None = None,
                separator: str | None = None) -> Header:
    """Where the column names of a CSV/XLSX/ODS table are, from its first rows.

    ``fields``: GDAL's column names reading the first row as the header; kept when that is
    the header (nothing changes then). ``forced``: source.header_row. ``gdal_path``: what
    GDAL opens (the UTF-8 copy of a transcoded CSV).
    """
    until = max(SCAN_ROWS, (forced or 0) + SCAN_ROWS)
    if driver == "CSV":
        rows, offsets = _csv_rows(Path(gdal_path.rpartition("CSV:")[2]), encoding or "utf-8",
                                  separator, until)
    else:
        rows, offsets = _sheet_rows(gdal_path, layer, driver, until), []
    _check_forced(origin, forced, len(rows))
    if forced is not None:
        index, cells = forced - 1, rows[forced - 1]
    else:
        index, cells = find_header_row(rows)
    data = rows[index + 1:]
    if index == 0:  # GDAL's own reading stands
        names = tuple(fields)
        return Header(1, names, sample=_sample(data, names), forced=forced is not None)
    width = max([len(cells)] + [len(r) for r in data]) if driver != "CSV" else len(cells)
    names = column_names(cells, width)
    if driver == "CSV":
        return Header(index + 1, names, offset=offsets[index], sample=_sample(data, names),
                      forced=forced is not None)
    return Header(index + 1, names, skip=index + 1, sample=_sample(data, names),
                  forced=forced is not None)


def skip_rows(batch: pa.Table, header: Header, done: int) -> tuple[pa.Table, int]:
    """A sheet's batch (read as cells) without the rows above and of the header, its columns
    named from the header; and how many rows of the stream have been skipped so far."""
    if header.skip == 0:
        return batch, done
    cut = min(max(header.skip - done, 0), batch.num_rows)
    batch = batch.slice(cut)
    names = list(header.names)
    renamed = [names[i] if i < len(names) else n for i, n in enumerate(batch.column_names)]
    return batch.rename_columns(renamed), done + cut


def totals_reason(row: dict[str, object]) -> str | None:
    """Why a row without coordinates is not a feature: a totals or notes row ("Итого: 25",
    "Примечание: ...", "* ..."), or an empty one. None for any other row."""
    cells = [str(v).strip() for v in row.values() if v is not None and str(v).strip()]
    if not cells:
        return "an empty row, not a feature"
    first = cells[0]
    if _TOTALS.search(first):
        shown = first if len(first) <= 60 else first[:59] + "…"
        return f"a totals or notes row, not a feature: {shown!r}"
    return None


def not_features(batch: pa.Table, geometry: str) -> np.ndarray:
    """Which rows of a table's batch are not features: without a value in the WKB column
    ``geometry`` and a totals, notes or empty row (``totals_reason``). They are left out
    when column types are inferred: "Итого" in the "№" column must not make it text."""
    flagged = np.zeros(batch.num_rows, dtype=bool)
    if geometry not in batch.column_names:
        return flagged
    missing = np.flatnonzero(np.asarray(batch.column(geometry).is_null(), dtype=bool))
    if len(missing) == 0:
        return flagged
    cells = [n for n in batch.column_names if n != geometry
             and not pa.types.is_binary(batch.schema.field(n).type)]
    rows = batch.select(cells).take(pa.array(missing)).to_pylist()
    for i, row in zip(missing, rows, strict=True):
        flagged[i] = totals_reason(row) is not None
    return flagged


def explain_missing(batch: pa.Table, reasons: np.ndarray) -> None:
    """'no geometry' made precise for the rows of a table (one whose geometry comes from
    columns): a totals or notes row, an empty row, a geometry in another SRID than the
    column's, or the coordinate text that could not be read."""
    columns = [n for n in batch.column_names if n.startswith(SOURCE_ONLY)]
    missing = np.flatnonzero(reasons == "no geometry")
    if not columns or len(missing) == 0:
        return
    srid = (batch.schema.metadata or {}).get(SRID_KEY)
    cells = [n for n in batch.column_names if not pa.types.is_binary(batch.schema.field(n).type)]
    rows = batch.select(cells).take(pa.array(missing)).to_pylist()
    for i, row in zip(missing, rows, strict=True):
        reason = totals_reason(row)
        given = [str(row[c]).strip() for c in columns
                 if row[c] is not None and str(row[c]).strip()]
        if reason is None and srid is not None and given:
            found = int(srids(pa.array(given[:1], pa.string()))[0])
            if found and found != int(srid):
                reason = (f"geometry in SRID={found}, the geometry column's SRID is "
                          f"{int(srid)}")
        if reason is None and given:
            reason = "coordinates could not be read: " + ", ".join(given)[:80]
        if reason is not None:
            reasons[i] = reason
