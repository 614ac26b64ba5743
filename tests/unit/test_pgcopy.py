"""The numpy binary-COPY encoder that feeds PostGIS: EWKB equal to GEOS's, every field type
read back by a real PostgreSQL as written."""

from __future__ import annotations

import datetime as dt

import numpy as np
import psycopg
import pyarrow as pa
import shapely

from geoportal.storage.pgcopy import HEADER, TRAILER, encode_rows, ewkb

GEOMS = np.array([
    shapely.Point(27.5, 53.9),
    shapely.MultiPoint([(27, 53), (28, 54)]),
    shapely.LineString([(27, 53), (28, 54), (29, 53.5)]),
    shapely.MultiLineString([[(27, 53), (28, 54)], [(29, 53), (30, 54)]]),
    shapely.box(27, 53, 28, 54).difference(shapely.box(27.2, 53.2, 27.4, 53.4)),
    shapely.MultiPolygon([shapely.box(27, 53, 28, 54), shapely.box(29, 53, 30, 54)]),
], dtype=object)


def test_ewkb_equals_geos_for_every_geometry_type():
    lengths, data = ewkb(GEOMS, 4326)
    expected = shapely.to_wkb(shapely.set_srid(GEOMS, 4326), include_srid=True, byte_order=1)
    assert lengths.tolist() == [len(b) for b in expected]
    assert data.tobytes() == b"".join(expected)


def test_every_field_type_round_trips_through_postgresql(postgres):
    utc = dt.UTC
    props = pa.table({
        "s": pa.array(["Мінск", None, "", "x", "ё", "a\tb\nc"]),
        "i": pa.array([1, None, -5, 2**40, 0, 7]),
        "f": pa.array([1.5, None, -0.25, 1e300, 0.0, 3.0]),
        "b": pa.array([True, None, False, True, False, True]),
        "d": pa.array([dt.date(2020, 1, 2), None, dt.date(1999, 12, 31), dt.date(2000, 1, 1),
                       dt.date(1970, 1, 1), dt.date(2026, 11, 22)]),
        "t": pa.array([dt.datetime(2020, 1, 2, 3, 4, 5, 123000, tzinfo=utc), None, None, None,
                       dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=utc), None],
                      pa.timestamp("ms", tz="UTC")),
    })
    payload = HEADER + encode_rows(10, props.slice(0, 3), GEOMS[:3], 4326) + \
        encode_rows(13, props.slice(3), GEOMS[3:], 4326) + TRAILER
    with psycopg.connect(postgres.new_database()) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("CREATE TABLE x (fid bigint, geom geometry(Geometry, 4326), s text, "
                     "i bigint, f double precision, b boolean, d date, t timestamptz)")
        with conn.cursor().copy("COPY x FROM STDIN (FORMAT binary)") as copy:
            copy.write(payload)
        rows = conn.execute("SELECT fid, ST_AsBinary(geom), ST_SRID(geom), s, i, f, b, d, t "
                            "FROM x ORDER BY fid").fetchall()
    assert [r[0] for r in rows] == list(range(10, 16))
    assert all(r[2] == 4326 for r in rows)
    assert [shapely.from_wkb(bytes(r[1])).equals(g) for r, g in zip(rows, GEOMS, strict=True)] \
        == [True] * 6
    assert [r[3:8] for r in rows] == list(zip(*(props.column(c).to_pylist()
                                                for c in ["s", "i", "f", "b", "d"]), strict=True))
    assert [r[8] for r in rows] == props.column("t").to_pylist()
