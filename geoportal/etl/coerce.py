"""Text columns from spreadsheets as typed columns: vectorized type inference and coercion.

CSV and XLSX exports from Excel hand the ETL numbers, dates and booleans as text, written the
Belarusian way: decimal commas (``12,5``), ``dd.mm.yyyy`` dates, ``да/нет`` and ``так/не``,
thousands grouped with (no-break) spaces, empty strings for "no value". Everything here works on
whole Arrow arrays with pyarrow.compute and numpy, never row by row, so a million rows cost a
fraction of a second. Type names are the project's JSON-ish ones: "string", "integer", "number",
"boolean", "date", "datetime".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["TYPES", "coerce", "describe_bad", "empty_to_null", "infer_type", "lossy_numbers"]

TYPES = ("string", "integer", "number", "boolean", "date", "datetime")
_ARROW = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
          "boolean": pa.bool_(), "date": pa.date32(), "datetime": pa.timestamp("s")}

_SEP = "[ \u00a0\u202f]"  # thousands separators: space, no-break space, narrow no-break space
_INT = rf"[-+]?(?:\d{{1,3}}(?:{_SEP}\d{{3}})+|\d+)"
_INT_RE = rf"^{_INT}$"
_NUM_RE = rf"^(?:{_INT}(?:[.,]\d+)?|[-+]?[.,]\d+)(?:[eE][-+]?\d+)?$"
# "007", "0 123": codes (postcodes, SOATO) whose zeros a number would lose.
_LEADING_ZERO_RE = rf"^[-+]?0(?:\d|{_SEP})"
# "1,234" is 1.234 with a decimal comma but 1234 to anyone writing decimals with a dot.
_COMMA_GROUP_RE = r"^[-+]?\d{1,3},\d{3}$"
# Day first as in Belarus (d.m.yyyy, d/m/yyyy), ISO, or yyyy/mm/dd (how GDAL's XLSX driver
# writes a real date cell in a column that also holds text), then optionally " H:MM[:SS]" or
# "T...".
_DATETIME_RE = (r"^(?:\d{1,2}\.\d{1,2}\.\d{4}|\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2}"
                r"|\d{4}/\d{1,2}/\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_YEAR_FIRST_RE = r"^\d{4}[-/]"
_INT64_MAX = "9223372036854775807"
# Pairs a column may be written in; a column must keep to one pair to be inferred boolean.
_BOOLEANS = (("true", "false"), ("yes", "no"), ("да", "нет"), ("так", "не"),
             ("истина", "ложь"), ("y", "n"))  # ИСТИНА/ЛОЖЬ: TRUE/FALSE of Russian Excel
_TRUE = pa.array([t for t, _ in _BOOLEANS] + ["1"])
_FALSE = pa.array([f for _, f in _BOOLEANS] + ["0"])
_HEAD = 2048  # rows tried before the whole column, so a text column is ruled out cheaply


def _as_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array, dictionary-encoded columns decoded."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], values.type)
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    return values


def _is_text(dtype: pa.DataType) -> bool:
    return bool(pa.types.is_string(dtype) or pa.types.is_large_string(dtype))


def _mask(values: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, nulls as False."""
    mask: np.ndarray = pc.fill_null(values, False).to_numpy(zero_copy_only=False)
    return mask


def _null_unless(ok: pa.Array | np.ndarray, values: pa.Array) -> pa.Array:
    return pc.if_else(ok, values, pa.scalar(None, values.type))


def empty_to_null(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A string column with surrounding whitespace (NBSP too) stripped and empty strings as null.

    Spreadsheet exports write "no value" as an empty cell; the store should hold a null.
    """
    text = pc.utf8_trim_whitespace(_as_array(values))
    return _null_unless(pc.not_equal(text, ""), text)


def _contains(text: pa.Array, chars: str) -> bool:
    """Whether any value holds any of ``chars`` (plain searches: far cheaper than a regex)."""
    return any(pc.any(pc.match_substring(text, char)).as_py() for char in chars)


def _strip_separators(text: pa.Array) -> pa.Array:
    """Number text without thousands separators and plus signs."""
    if not _contains(text, " \u00a0\u202f+"):
        return text
    return pc.replace_substring_regex(text, rf"{_SEP}|\+", "")


def _overflows(text: pa.Array) -> pa.Array:
    """Integer-form text whose magnitude exceeds int64 (the bound -2**63 counts as overflow)."""
    long = pc.greater_equal(pc.binary_length(text), 19)
    if not pc.any(long).as_py():  # fewer than 19 characters: fewer than 19 digits
        return long
    digits = pc.replace_substring_regex(text, rf"^[-+]?0*|{_SEP}", "")
    length = pc.binary_length(digits)
    return pc.or_(pc.greater(length, 19),
                  pc.and_(pc.equal(length, 19), pc.greater(digits, _INT64_MAX)))


def _parse_integer(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    ok = _mask(pc.and_(pc.match_substring_regex(text, _INT_RE), pc.invert(_overflows(text))))
    return pc.cast(_null_unless(ok, _strip_separators(text)), pa.int64()), ok


def _parse_number(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    matched = _mask(pc.match_substring_regex(text, _NUM_RE))
    clean = pc.replace_substring(_strip_separators(text), ",", ".")
    number = pc.cast(_null_unless(matched, clean), pa.float64())
    ok = _mask(pc.is_finite(number))  # 1e999 parses as inf: not a value the source meant
    return _null_unless(ok, number), ok


def _parse_boolean(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Any pair's words and 1/0 (the type was asked for, so 1/0 cannot be an integer column)."""
    lower = pc.utf8_lower(text)
    true = pc.is_in(lower, value_set=_TRUE.cast(lower.type))
    ok = _mask(pc.or_(true, pc.is_in(lower, value_set=_FALSE.cast(lower.type))))
    return _null_unless(ok, true), ok


def _split_datetime(text: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Days and seconds since 1970 of every date or date-time, whether it is a real calendar
    moment (31.02.2020 is not), and whether its time is midnight (or absent).

    Once the form is checked, every separator becomes a dot and a plain split yields 3, 5 or 6
    numbers a row (extract_regex with six groups is several times slower)."""
    form = _mask(pc.match_substring_regex(text, _DATETIME_RE))
    text = pc.if_else(form, text, "1.1.1970")
    iso = _mask(pc.match_substring_regex(text, _YEAR_FIRST_RE))  # yyyy-mm-dd, yyyy/mm/dd
    for separator in "/-T :":
        if _contains(text, separator):
            text = pc.replace_substring(text, separator, ".")
    parts = pc.split_pattern(text, ".")
    starts = parts.offsets.to_numpy()
    count = np.diff(starts)
    numbers = np.append(pc.cast(parts.values, pa.int64()).to_numpy(), 0)  # 0: absent parts
    first, second, third = (numbers[starts[:-1] + i] for i in range(3))
    d, mo, y = np.where(iso, third, first), second, np.where(iso, first, third)
    hh, mi, ss = (numbers[np.where(count > i, starts[:-1] + i, -1)] for i in range(3, 6))
    ok = (form & (y >= 1) & (mo >= 1) & (mo <= 12) & (d >= 1)
          & (hh < 24) & (mi < 60) & (ss < 60))
    months = np.where(ok, (y - 1970) * 12 + mo - 1, 0)
    start = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    end = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    ok &= d <= end - start
    days = np.where(ok, start + d - 1, 0)
    return days, days * 86400 + hh * 3600 + mi * 60 + ss, ok, (hh == 0) & (mi == 0) & (ss == 0)


def _parse_date(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Dates; a time is allowed only at midnight (exports often write 01.02.2020 0:00:00)."""
    days, _, ok, midnight = _split_datetime(text)
    ok &= midnight
    return pa.array(days.astype(np.int32), mask=~ok).view(pa.date32()), ok


def _parse_datetime(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Naive local date-times; a bare date is its midnight."""
    _, seconds, ok, _ = _split_datetime(text)
    return pa.array(seconds, mask=~ok).view(pa.timestamp("s")), ok


_PARSERS: dict[str, Callable[[pa.Array], tuple[pa.Array, np.ndarray]]] = {
    "integer": _parse_integer, "number": _parse_number, "boolean": _parse_boolean,
    "date": _parse_date, "datetime": _parse_datetime,
}


def _every(text: pa.Array, test: Callable[[pa.Array], pa.Array]) -> bool:
    """Whether ``test`` holds for every value; the head is tried first to fail fast."""
    if not pc.all(test(text[:_HEAD])).as_py():
        return False
    return len(text) <= _HEAD or bool(pc.all(test(text)).as_py())


def _lower_in(words: pa.Array) -> Callable[[pa.Array], pa.Array]:
    """The test for ``_every`` whether each value, lowercased, is one of ``words``."""
    return lambda a: pc.is_in(pc.utf8_lower(a), value_set=words)


def _any_match(text: pa.Array, pattern: str) -> bool:
    return bool(pc.any(pc.match_substring_regex(text, pattern)).as_py())


def infer_type(values: pa.Array | pa.ChunkedArray) -> str:
    """The narrowest type every non-empty value of a text column parses as.

    Tried in the order boolean, integer, number, date, datetime; "string" when none fits or the
    column has no value. Columns that are numbers only in form stay "string" when a number would
    lose something: leading zeros (``007``, SOATO ``0700000000``), integers beyond int64, or
    ``1,234`` beside values with a decimal point (a thousands group or a decimal comma?).
    Non-text columns are named after their Arrow type.
    """
    column = _as_array(values)
    if not _is_text(column.type):
        kinds = ((pa.types.is_boolean, "boolean"), (pa.types.is_integer, "integer"),
                 (pa.types.is_floating, "number"), (pa.types.is_decimal, "number"),
                 (pa.types.is_date, "date"), (pa.types.is_timestamp, "datetime"))
        return next((name for test, name in kinds if test(column.type)), "string")
    text = pc.utf8_trim_whitespace(column)
    text = pc.filter(text, pc.not_equal(text, ""))  # drops nulls and empty strings
    if not len(text):
        return "string"
    for pair in _BOOLEANS:
        words = pa.array(pair, text.type)
        if _every(text, _lower_in(words)):
            return "boolean"
    if _every(text, lambda a: pc.match_substring_regex(a, _INT_RE)):
        lossy = _any_match(text, _LEADING_ZERO_RE) or pc.any(_overflows(text)).as_py()
        return "string" if lossy else "integer"
    if _every(text, lambda a: pc.match_substring_regex(a, _NUM_RE)):
        ambiguous = _any_match(text, _COMMA_GROUP_RE) and _any_match(text, r"\.")
        return "string" if ambiguous or _any_match(text, _LEADING_ZERO_RE) else "number"
    if not _split_datetime(text[:_HEAD])[2].all():
        return "string"
    _, _, ok, midnight = _split_datetime(text)
    if not ok.all():
        return "string"
    return "date" if midnight.all() else "datetime"


def _cast(column: pa.Array, type_: str) -> tuple[pa.Array, np.ndarray]:
    """A non-text column as ``type_``; rows that would change value (1.5 as an integer, 2 as a
    boolean, a time as a date, an unsigned value beyond int64) are bad."""
    target = _ARROW[type_]
    present = _mask(column.is_valid())
    try:
        out = pc.cast(column, target, safe=False)
        if type_ in ("string", "number") or pa.types.is_null(column.type):
            return out, np.zeros(len(column), dtype=bool)
        same = pc.equal(pc.cast(out, column.type, safe=False), column)
        if pa.types.is_unsigned_integer(column.type):
            same = pc.and_(same, pc.greater_equal(out, 0))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return pa.nulls(len(column), target), present
    bad = present & ~_mask(same)
    return _null_unless(~bad, out), bad


def coerce(values: pa.Array | pa.ChunkedArray, type_: str) -> tuple[pa.Array, np.ndarray]:
    """Convert a column to ``type_`` and say which rows could not be converted.

    Returns the converted array (int64, float64, bool, date32, naive timestamp[s] or trimmed
    string) and a numpy mask of bad rows: text that is not empty yet does not parse. Bad rows are
    null in the array; the caller sets them aside with a reason. Null and blank text are null
    and not bad. Non-text columns are cast (see ``_cast``). "date-time", the name
    ``storage.base.json_type`` gives timestamps, is taken for "datetime".
    """
    type_ = "datetime" if type_ == "date-time" else type_
    if type_ not in _ARROW:
        raise ValueError(f"unknown field type {type_!r}; expected one of {', '.join(TYPES)}")
    column = _as_array(values)
    if not _is_text(column.type):
        return _cast(column, type_)
    text = empty_to_null(column)
    if type_ == "string":
        return text.cast(pa.string()), np.zeros(len(text), dtype=bool)
    converted, ok = _PARSERS[type_](text)
    return converted, _mask(text.is_valid()) & ~ok


def _cut(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def describe_bad(values: pa.Array | pa.ChunkedArray, bad: np.ndarray, limit: int = 3) -> str:
    """A short sample of the values ``bad`` marks, for a report: ``'12a', 'n/a' and 4 more``.

    Distinct values in first-seen order, at most ``limit`` of them, each cut to 40 characters;
    "and N more" counts the bad rows whose value is not shown. Empty when no row is bad.
    """
    picked = pc.filter(_as_array(values), pa.array(np.asarray(bad, dtype=bool)))
    if not len(picked):
        return ""
    sample = pc.unique(picked)[:limit]
    shown = ", ".join(repr(_cut(str(v.as_py()))) for v in sample)
    rest = len(picked) - pc.sum(pc.is_in(picked, value_set=sample)).as_py()
    return shown if rest == 0 else f"{shown} and {rest} more"


def lossy_numbers(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Rows of a text column that a number type would change: leading zeros (``007``).

    ``infer_type`` keeps such a column text; for a column typed from its first batch, the same
    values turning up later are set aside rather than silently becoming 7.
    """
    column = _as_array(values)
    if not _is_text(column.type):
        return np.zeros(len(column), dtype=bool)
    text = pc.utf8_trim_whitespace(column)
    return _mask(pc.match_substring_regex(text, _LEADING_ZERO_RE))
