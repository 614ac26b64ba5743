"""PostgreSQL's binary COPY format, encoded from Arrow columns with numpy (no per-row Python).

Binary COPY halves the server's work against CSV (measured here: 1.2 s against 2.3 s for
1,000,000 polygons): no hex to decode, no text to parse. Layout (PostgreSQL docs, "COPY",
binary format): a header, then per row an int16 field count and per field an int32 length
(-1 for NULL) and the value in the type's binary send format, big-endian; an int16 -1 ends it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

__all__ = ["HEADER", "TRAILER", "encode_rows", "ewkb"]

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
_PG_EPOCH_DAYS = 10_957  # 2000-01-01 - 1970-01-01
_PG_EPOCH_US = _PG_EPOCH_DAYS * 86_400 * 1_000_000

# A column ready for the wire: per-row value lengths (-1: NULL) and the values back to back.
_Encoded = tuple[np.ndarray, np.ndarray]


def ewkb(geometries: np.ndarray, srid: int) -> _Encoded:
    """EWKB (WKB carrying the SRID) of every geometry, as lengths and one byte buffer.

    Built from shapely's little-endian WKB: the SRID goes in after each 5-byte header and
    the SRID flag into the type's high byte.
    """
    wkb = shapely.to_wkb(geometries, byte_order=1)
    lengths = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=len(wkb))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    raw = np.frombuffer(b"".join(wkb), dtype=np.uint8)
    new_starts = starts + 4 * np.arange(len(wkb))
    srid_at = np.zeros(raw.size + 4 * len(wkb), dtype=bool)
    srid_at[(new_starts[:, None] + np.arange(5, 9)).ravel()] = True
    out = np.empty(srid_at.size, dtype=np.uint8)
    out[~srid_at] = raw
    out[srid_at] = np.tile(np.frombuffer(int(srid).to_bytes(4, "little"), np.uint8), len(wkb))
    out[new_starts + 4] |= 0x20
    return lengths + 4, out


def _fixed(values: np.ndarray, valid: np.ndarray, dtype: str) -> _Encoded:
    width = np.dtype(dtype).itemsize
    data = np.ascontiguousarray(values[valid].astype(dtype)).view(np.uint8)
    return np.where(valid, width, -1).astype(np.int64), data


def _column(array: pa.ChunkedArray | pa.Array) -> _Encoded:
    """One Arrow column in binary COPY form, by its type."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    valid = ~np.asarray(array.is_null(), dtype=bool)
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        large = pa.types.is_large_string(kind)
        array = array.cast(pa.large_string()) if not large else array
        offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[
            array.offset:array.offset + len(array) + 1]
        data = np.frombuffer(array.buffers()[2] or b"", dtype=np.uint8)
        lengths = np.diff(offsets)
        keep = np.repeat(valid, lengths)
        chunk = data[offsets[0]:offsets[-1]][keep]
        return np.where(valid, lengths, -1), chunk
    if pa.types.is_boolean(kind):
        return _fixed(np.asarray(array.fill_null(False)), valid, "u1")
    if pa.types.is_integer(kind):
        return _fixed(np.asarray(array.fill_null(0)), valid, ">i8")
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        values = np.asarray(array.cast(pa.float64()).fill_null(0.0))
        return _fixed(values, valid, ">f8")
    if pa.types.is_date(kind):
        days = np.asarray(array.cast(pa.date32()).cast(pa.int32()).fill_null(0))
        return _fixed(days - _PG_EPOCH_DAYS, valid, ">i4")
    if pa.types.is_timestamp(kind):
        micros = pc.cast(array.cast(pa.timestamp("us", tz=kind.tz)), pa.int64())
        return _fixed(np.asarray(micros.fill_null(0)) - _PG_EPOCH_US, valid, ">i8")
    if pa.types.is_time(kind):
        micros = np.asarray(array.cast(pa.time64("us")).cast(pa.int64()).fill_null(0))
        return _fixed(micros, valid, ">i8")
    raise TypeError(f"no binary COPY encoding for Arrow type {kind}")


def _as_binary(lengths: np.ndarray, data: np.ndarray) -> pa.Array:
    """Row values as one Arrow binary array, zero-copy over ``data`` (NULLs: empty)."""
    offsets = np.concatenate([[0], np.cumsum(np.maximum(lengths, 0))]).astype(np.int64)
    return pa.Array.from_buffers(pa.large_binary(), len(lengths),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def encode_rows(first_fid: int, properties: pa.Table, geometries: np.ndarray,
                srid: int) -> memoryview:
    """Rows ``(fid, geom, *properties)`` in binary COPY form, without header or trailer.

    Every field becomes two Arrow binary columns (its 4-byte length, its value); Arrow's
    element-wise join then lays each row out in C++, and the result's data buffer is the
    COPY payload.
    """
    n = properties.num_rows
    fids = np.arange(first_fid, first_fid + n, dtype=np.int64)
    columns = [_fixed(fids, np.ones(n, dtype=bool), ">i8"), ewkb(geometries, srid)]
    columns += [_column(properties.column(i)) for i in range(properties.num_columns)]
    count = np.frombuffer(len(columns).to_bytes(2, "big"), dtype=np.uint8)
    parts = [_as_binary(np.full(n, 2), np.tile(count, n))]
    for lengths, data in columns:
        parts.append(_as_binary(np.full(n, 4), lengths.astype(">i4").view(np.uint8)))
        parts.append(_as_binary(lengths, data))
    rows = pc.binary_join_element_wise(*parts, pa.scalar(b"", pa.large_binary()))
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset:rows.offset + n + 1]
    return memoryview(rows.buffers()[2])[offsets[0]:offsets[-1]]
