"""CQL2 filters through pygeofilter's parsers (as pygeoapi calls them) into SQL, executed for real
on a GeoPackage written by GDAL (sqlite3 + our functions) and on a PostGIS table."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import psycopg
import pyarrow as pa
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pygeoapi.crs import modify_pygeofilter
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text

from geoportal.catalog.models import Field
from geoportal.errors import InputError
from geoportal.server.filters import parse_filter
from geoportal.storage import cql
from geoportal.storage.postgis import libpq_url

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
FIELDS = [Field("name", "string"), Field("pop", "integer"), Field("area", "number"),
          Field("capital", "boolean"), Field("founded", "date"), Field("updated", "date-time"),
          Field("seen", "date-time"), Field("note", "string")]
# Minsk and two points ~700 m east and ~1500 m north of it (WGS84 ellipsoid at 53.9 N).
MINSK = (27.5615, 53.9045)
EAST_700 = (MINSK[0] + 700 / 65_740, MINSK[1])
NORTH_1500 = (MINSK[0], MINSK[1] + 1500 / 111_290)
Z = UTC
ROWS = [  # fid, name, pop, area, capital, founded, updated (UTC), seen (naive), note, geometry
    (1, "Мінск", 1996553, 409.5, True, date(1967, 3, 3), datetime(2024, 5, 1, 10, tzinfo=Z),
     datetime(2024, 5, 1, 10), "сталіца", shapely.Point(MINSK)),
    (2, "Брэст", 340141, 146.1, False, date(2019, 1, 1),
     datetime(2023, 12, 31, 23, 30, tzinfo=Z), datetime(2023, 12, 31, 23, 30), None,
     shapely.Point(23.688, 52.0976)),
    (3, "Гродна", 361115, 142.1, False, date(2001, 6, 15),
     datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=Z), datetime(2024, 5, 1, 10, 0, 0, 500000),
     "", shapely.Point(23.8258, 53.6694)),
    (4, "Мінскі раён", None, 1902.0, None, None, None, None, "50%_off",
     shapely.box(27.3, 53.7, 27.9, 54.1)),
    (5, "Усход", 700, 0.5, False, date(2020, 1, 1), datetime(2020, 1, 1, tzinfo=Z),
     datetime(2020, 1, 1), "a\\b", shapely.Point(EAST_700)),
    (6, "Поўнач", 1500, 0.5, False, date(2020, 1, 2), datetime(2020, 1, 1, 12, tzinfo=Z),
     datetime(2020, 1, 1, 12), "МІНСК", shapely.Point(NORTH_1500)),
    (7, "ВІЦЕБСК", 364800, 124.5, False, date(1974, 5, 5), datetime(2022, 2, 2, tzinfo=Z),
     datetime(2022, 2, 2), "Віцебск", shapely.box(30.1, 55.1, 30.3, 55.25)),
    (8, "Без геаметрыі", None, None, None, None, None, None, None, None),
]
ALL = {r[0] for r in ROWS}
NAMES = [f.name for f in FIELDS]


def parse(text_or_json: str | dict | ast.Node) -> ast.Node:
    """Parse as pygeoapi does: cql2-text for a string, cql2-json for a dict, then its rewrite of
    geometry literals (CRS84 in and out: the literals get their 'crs' member). A node as is."""
    if isinstance(text_or_json, ast.Node):
        return text_or_json
    node = parse_filter(json.dumps(text_or_json) if isinstance(text_or_json, dict)
                        else text_or_json)
    return modify_pygeofilter(node, filter_crs_uri=CRS84, storage_crs_uri=CRS84)


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    path = tmp_path_factory.mktemp("cql") / "places.gpkg"
    columns = list(zip(*ROWS, strict=True))
    table = pa.table({
        "name": pa.array(columns[1], pa.string()), "pop": pa.array(columns[2], pa.int64()),
        "area": pa.array(columns[3], pa.float64()), "capital": pa.array(columns[4], pa.bool_()),
        "founded": pa.array(columns[5], pa.date32()),
        "updated": pa.array(columns[6], pa.timestamp("us", tz="UTC")),
        "seen": pa.array(columns[7], pa.timestamp("us")),
        "note": pa.array(columns[8], pa.string()),
        "geometry": pa.array([None if g is None else shapely.to_wkb(g) for g in columns[9]],
                             pa.binary()),
    })
    pyogrio.write_arrow(table, path, layer="places", driver="GPKG", geometry_name="geometry",
                        geometry_type="Unknown", crs="EPSG:4326",
                        layer_options={"GEOMETRY_NAME": "geom", "FID": "fid"})
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    cql.register_sqlite_functions(conn)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def pg(postgres) -> Iterator[psycopg.Connection]:
    conn = psycopg.connect(libpq_url(postgres.new_database()), autocommit=True,
                           options="-c TimeZone=UTC")
    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    conn.execute("CREATE TABLE places (fid bigint PRIMARY KEY, geom geometry(Geometry, 4326), "
                 "name text, pop bigint, area double precision, capital boolean, founded date, "
                 "updated timestamptz, seen timestamp, note text)")
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO places VALUES (%s, ST_GeomFromWKB(%s, 4326), %s, %s, %s, %s, %s, %s, "
            "%s, %s)",
            [(r[0], None if r[9] is None else shapely.to_wkb(r[9]), *r[1:9]) for r in ROWS])
    yield conn
    conn.close()


@pytest.fixture(params=["sqlite", "postgis"])
def ids(request: pytest.FixtureRequest) -> Callable[[str | dict | ast.Node], set[int]]:
    """Run a filter on one of the two stores: the fids it selects."""
    if request.param == "sqlite":
        conn = request.getfixturevalue("gpkg")

        def run(filter_: str | dict | ast.Node) -> set[int]:
            sql, params = cql.to_sql(parse(filter_), FIELDS, cql.SQLITE)
            return {r[0] for r in conn.execute(
                f'SELECT fid FROM "places" AS f WHERE {sql}', params)}
    else:
        conn = request.getfixturevalue("pg")

        def run(filter_: str | dict | ast.Node) -> set[int]:
            sql, params = cql.to_sql(parse(filter_), FIELDS, cql.POSTGIS)
            return {r[0] for r in conn.execute(f"SELECT fid FROM places WHERE {sql}", params)}
    return run


def test_gdal_writes_iso_text_that_needs_normalising(gpkg: sqlite3.Connection) -> None:
    rows = gpkg.execute("SELECT founded, updated, seen FROM places WHERE fid IN (1, 3) "
                        "ORDER BY fid").fetchall()
    assert rows == [("1967-03-03", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00"),
                    ("2001-06-15", "2024-05-01T10:00:00.500Z", "2024-05-01T10:00:00.500")]
    # As text, the whole second sorts after the half second ('Z' > '.'): hence gp_datetime.
    assert "2024-05-01T10:00:00Z" > "2024-05-01T10:00:00.500Z"


@pytest.mark.parametrize(("filter_", "expected"), [
    ("name = 'Мінск'", {1}),
    ("name <> 'Мінск'", ALL - {1}),
    ("pop < 1500", {5}),
    ("pop <= 1500", {5, 6}),
    ("pop > 361115", {1, 7}),
    ("pop >= 361115", {1, 3, 7}),
    ("area = 0.5", {5, 6}),
    ("1500 >= pop", {5, 6}),
    ("capital = TRUE", {1}),
    ("capital = FALSE", {2, 3, 5, 6, 7}),
    ("fid = 3", {3}),
    ("id IN (1, 2)", {1, 2}),
    ("pop > 1000 AND area < 200", {2, 3, 6, 7}),
    ("pop < 1000 OR name = 'Брэст'", {2, 5}),
    ("NOT (pop < 1000)", {1, 2, 3, 6, 7}),
    ({"op": "and", "args": [  # pygeofilter's cql2-text takes NOT before a predicate only
        {"op": "not", "args": [{"op": "or", "args": [
            {"op": "<", "args": [{"property": "pop"}, 1000]},
            {"op": "=", "args": [{"property": "name"}, "Брэст"]}]}]},
        {"op": "not", "args": [{"op": "isNull", "args": [{"property": "note"}]}]}]},
     {1, 3, 6, 7}),
    ("pop IN (700, 1500)", {5, 6}),
    ("name NOT IN ('Мінск', 'Брэст')", ALL - {1, 2}),
    ("pop BETWEEN 700 AND 361115", {2, 3, 5, 6}),
    ("pop NOT BETWEEN 700 AND 361115", {1, 7}),
    ("pop IS NULL", {4, 8}),
    ("note IS NULL", {2, 8}),
    ("note IS NOT NULL", {1, 3, 4, 5, 6, 7}),
    ("geometry IS NULL", {8}),
    ("pop * 2 > 3000 AND pop < 400000", {2, 3, 7}),
    ("pop / 2 = 350", {5}),
    ("pop / 0 > 1", set()),
    ("area + 1 = 1.5", {5, 6}),
    ("pop - area > 1000", {1, 2, 3, 6, 7}),
    ("INCLUDE", ALL),
    ("EXCLUDE", set()),
])
def test_comparisons(ids, filter_: str | dict, expected: set[int]) -> None:
    assert ids(filter_) == expected


@pytest.mark.parametrize(("filter_", "expected"), [
    ("CASEI(name) = CASEI('МІНСК')", {1}),
    ("CASEI(name) = CASEI('віцебск')", {7}),
    ("CASEI(note) = CASEI(name)", {7}),
    ("CASEI(name) IN (CASEI('БРЭСТ'), CASEI('гродна'))", {2, 3}),
    ("name LIKE 'Мін%'", {1, 4}),
    ("name LIKE 'мін%'", set()),
    ("name LIKE 'МІН%'", set()),
    ("CASEI(name) LIKE CASEI('мін%')", {1, 4}),
    ("name LIKE 'Г_одна'", {3}),
    ("name LIKE 'Г.одна'", set()),
    ("name NOT LIKE '%а%'", {1, 2, 5, 7}),
    ("note LIKE '50\\%\\_off'", {4}),
    ("note LIKE '50\\%\\_of'", set()),
    ("note LIKE 'a\\\\b'", {5}),
    ("note LIKE '%'", {1, 3, 4, 5, 6, 7}),
    ("note = ''", {3}),
])
def test_text(ids, filter_: str, expected: set[int]) -> None:
    assert ids(filter_) == expected


def test_like_and_casei_in_cql2_json(ids) -> None:
    assert ids({"op": "like", "args": [{"property": "name"}, "Мін%"]}) == {1, 4}
    assert ids({"op": "like", "args": [{"op": "casei", "args": [{"property": "name"}]},
                                       {"op": "casei", "args": ["МІН%"]}]}) == {1, 4}
    assert ids({"op": "=", "args": [{"op": "casei", "args": [{"property": "name"}]},
                                    {"op": "casei", "args": ["МІНСК"]}]}) == {1}
    assert ids({"op": "in", "args": [{"property": "name"}, ["Брэст", "Гродна"]]}) == {2, 3}
    assert ids({"op": "between", "args": [{"property": "pop"}, [700, 1500]]}) == {5, 6}
    assert ids({"op": "isNull", "args": [{"property": "pop"}]}) == {4, 8}
    assert ids({"op": "not", "args": [{"op": "isNull", "args": [{"property": "pop"}]}]}) == \
        ALL - {4, 8}


def interval(start: str, end: str) -> dict:
    return {"interval": [start, end]}


@pytest.mark.parametrize(("filter_", "expected"), [
    ("founded = DATE('2020-01-01')", {5}),
    ("founded > DATE('2019-01-01')", {5, 6}),
    ("founded >= DATE('2019-01-01')", {2, 5, 6}),
    ("founded < DATE('1970-01-01')", {1}),
    ("founded BETWEEN DATE('2000-01-01') AND DATE('2020-01-01')", {2, 3, 5}),
    ("founded IN (DATE('2020-01-01'), DATE('1967-03-03'))", {1, 5}),
    ("founded IS NULL", {4, 8}),
    # A timestamp against a date field: the date is its midnight (UTC).
    ("founded = TIMESTAMP('2020-01-01T00:00:00Z')", {5}),
    ("founded > TIMESTAMP('2020-01-01T00:00:00Z')", {6}),
    ("updated = TIMESTAMP('2024-05-01T10:00:00Z')", {1}),
    ("updated = TIMESTAMP('2024-05-01T13:00:00+03:00')", {1}),
    ("updated > TIMESTAMP('2024-05-01T10:00:00Z')", {3}),
    ("updated > TIMESTAMP('2024-05-01T10:00:00.25Z')", {3}),
    ("updated < TIMESTAMP('2020-01-01T12:00:00Z')", {5}),
    ("updated >= TIMESTAMP('2023-12-31T23:30:00Z')", {1, 2, 3}),
    ("seen = TIMESTAMP('2024-05-01T10:00:00Z')", {1}),
    ("seen > TIMESTAMP('2024-05-01T10:00:00Z')", {3}),
    ("seen < TIMESTAMP('2020-01-01T12:00:00Z')", {5}),
    # A date against a date-time field compares the UTC day.
    ("updated = DATE('2024-05-01')", {1, 3}),
    ("updated > DATE('2023-12-31')", {1, 3}),
    ("updated <= DATE('2020-01-01')", {5, 6}),
    ("seen = DATE('2020-01-01')", {5, 6}),
    ("updated = seen", {1, 2, 3, 5, 6, 7}),
    ("founded < updated", {1, 2, 3, 7}),
    ("updated T_BEFORE TIMESTAMP('2021-01-01T00:00:00Z')", {5, 6}),
    ("updated T_AFTER TIMESTAMP('2024-01-01T00:00:00Z')", {1, 3}),
    ("founded T_AFTER DATE('2019-01-01')", {5, 6}),
    ("updated T_EQUALS TIMESTAMP('2020-01-01T12:00:00Z')", {6}),
    ("T_BEFORE(founded, DATE('1970-01-01')) = TRUE", {1}),
    ("T_BEFORE(founded, DATE('1970-01-01')) = FALSE", {2, 3, 5, 6, 7}),
    ("updated T_INTERSECTS INTERVAL('2020-01-01T00:00:00Z', '2024-01-01T00:00:00Z')",
     {2, 5, 6, 7}),
    ({"op": "t_intersects", "args": [{"property": "updated"}, interval("2024-01-01", "..")]},
     {1, 3}),
    ({"op": "t_intersects", "args": [{"property": "updated"}, interval("..", "2020-01-01")]},
     {5, 6}),
    ({"op": "t_intersects", "args": [{"property": "updated"}, interval("..", "..")]},
     {1, 2, 3, 5, 6, 7}),
    ({"op": "t_intersects", "args": [{"property": "founded"},
                                     interval("2020-01-01", "2020-01-02")]}, {5, 6}),
    ({"op": "t_during", "args": [{"property": "updated"},
                                 interval("2020-01-01T00:00:00Z", "2024-01-01T00:00:00Z")]},
     {2, 6, 7}),
    ({"op": "t_during", "args": [{"property": "founded"}, interval("2000-01-01", "..")]},
     {2, 3, 5, 6}),
    # pygeofilter maps no T_DISJOINT operator; its function-call form is read as the predicate.
    ("T_DISJOINT(updated, INTERVAL('2020-01-01T00:00:00Z', '2024-01-01T00:00:00Z')) = TRUE",
     {1, 3}),
    ({"function": {"name": "t_disjoint", "arguments": [
        {"property": "founded"}, interval("2000-01-01", "2020-01-01")]}}, {1, 6, 7}),
    ({"op": "t_before", "args": [{"property": "founded"}, interval("2001-06-15", "..")]},
     {1, 7}),
    ({"op": "t_after", "args": [{"property": "founded"}, interval("..", "2019-01-01")]},
     {5, 6}),
    ({"op": "t_after", "args": [{"timestamp": "2020-01-01T06:00:00Z"}, {"property": "updated"}]},
     {5}),
    ({"op": "t_equals", "args": [{"property": "founded"}, {"date": "2020-01-02"}]}, {6}),
    ({"op": "t_before", "args": [{"property": "updated"}, {"date": "2020-01-02"}]}, {5, 6}),
    # CQL2's function form, every temporal function (an instant: begin = end)
    ("T_INTERSECTS(updated, INTERVAL('2020-01-01', '2020-12-31'))", {5, 6}),
    ("T_BEFORE(updated, TIMESTAMP('2020-01-01T06:00:00Z'))", {5}),
    ("T_AFTER(founded, DATE('2019-01-01'))", {5, 6}),
    ("T_EQUALS(founded, DATE('2020-01-02'))", {6}),
    ("T_DISJOINT(founded, INTERVAL('2000-01-01', '2020-01-01'))", {1, 6, 7}),
    ("T_DURING(founded, INTERVAL('2001-06-15', '..'))", {2, 5, 6}),
    ("NOT T_DURING(founded, INTERVAL('2000-01-01', '..'))", {1, 7}),
    ("T_MEETS(founded, INTERVAL('2020-01-01', '2020-06-01'))", {5}),
    ("T_METBY(founded, INTERVAL('2019-06-01', '2020-01-02'))", {6}),
    ("T_STARTS(founded, INTERVAL('2020-01-01', '2020-01-31'))", {5}),
    ("T_STARTS(founded, DATE('2020-01-01'))", set()),
    ("T_STARTS(updated, INTERVAL('2020-01-01T00:00:00Z', '2020-01-02'))", {5}),
    ("T_FINISHES(founded, INTERVAL('..', '2019-01-01'))", {2}),
    ("T_OVERLAPS(founded, INTERVAL('2000-01-01', '2030-01-01'))", set()),
    ("T_INTERSECTS(founded, INTERVAL('2000-01-01', '2030-01-01'))", {2, 3, 5, 6}),
    ("T_OVERLAPPEDBY(founded, INTERVAL('2000-01-01', '2030-01-01'))", set()),
    ("T_CONTAINS(founded, INTERVAL('2000-01-01', '2030-01-01'))", set()),
    ("T_STARTEDBY(founded, DATE('2020-01-01'))", set()),
    ("T_FINISHEDBY(founded, DATE('2020-01-01'))", set()),
    ("T_CONTAINS(INTERVAL('2019-06-01', '2020-12-31'), founded)", {5, 6}),
    ("T_BEFORE(DATE('2019-06-01'), founded)", {5, 6}),
    ({"op": "t_starts", "args": [{"property": "founded"}, interval("2020-01-01", "2020-01-31")]},
     {5}),
    ({"op": "t_finishes", "args": [{"property": "founded"}, interval("..", "2019-01-01")]},
     {2}),
    ({"op": "t_meets", "args": [{"property": "founded"}, interval("2020-01-01", "2020-06-01")]},
     {5}),
    ({"op": "t_overlaps", "args": [{"property": "founded"},
                                   interval("2000-01-01", "2030-01-01")]}, set()),
    # an interval is never during an instant
    ({"op": "t_during", "args": [interval("2020-01-01", ".."), {"property": "founded"}]}, set()),
    ({"op": "not", "args": [{"op": "t_finishedby", "args": [
        {"property": "founded"}, {"date": "2020-01-01"}]}]}, {1, 2, 3, 5, 6, 7}),
])
def test_temporal(ids, filter_: str | dict, expected: set[int]) -> None:
    assert ids(filter_) == expected


MINSK_BOX = "POLYGON((27.4 53.8, 27.7 53.8, 27.7 54.0, 27.4 54.0, 27.4 53.8))"
POINT = f"POINT({MINSK[0]} {MINSK[1]})"


@pytest.mark.parametrize(("filter_", "expected"), [
    (f"S_INTERSECTS(geometry, {MINSK_BOX})", {1, 4, 5, 6}),
    (f"S_INTERSECTS({MINSK_BOX}, geometry)", {1, 4, 5, 6}),
    (f"S_DISJOINT(geometry, {MINSK_BOX})", {2, 3, 7}),
    (f"NOT S_INTERSECTS(geometry, {MINSK_BOX})", {2, 3, 7}),
    (f"S_WITHIN(geometry, {MINSK_BOX})", {1, 5, 6}),
    (f"S_WITHIN({POINT}, geometry)", {1, 4}),
    (f"S_CONTAINS(geometry, {POINT})", {1, 4}),
    (f"S_EQUALS(geometry, {POINT})", {1}),
    ("S_TOUCHES(geometry, POLYGON((27.9 53.7, 28.0 53.7, 28.0 54.1, 27.9 54.1, 27.9 53.7)))",
     {4}),
    ("S_CROSSES(geometry, LINESTRING(27.0 53.9, 28.0 53.9))", {4}),
    ("S_OVERLAPS(geometry, POLYGON((27.8 53.0, 29.0 53.0, 29.0 54.0, 27.8 54.0, 27.8 53.0)))",
     {4}),
    ("S_INTERSECTS(geometry, ENVELOPE(27.4 27.7 53.8 54.0))", {1, 4, 5, 6}),
    ("BBOX(geometry, 27.4, 53.8, 27.7, 54.0)", {1, 4, 5, 6}),
    ("BBOX(geometry, 23, 51, 24, 54) OR BBOX(geometry, 30, 55, 31, 56)", {2, 3, 7}),
    ("S_INTERSECTS(geometry, MULTIPOINT((23.688 52.0976), (30.2 55.2)))", {2, 7}),
    (f"S_DWITHIN(geometry, {POINT}, 1000) = TRUE", {1, 4, 5}),
    (f"S_DWITHIN(geometry, {POINT}, 600) = TRUE AND NOT S_INTERSECTS(geometry, {MINSK_BOX})",
     set()),
    (f"S_DWITHIN(geometry, {POINT}, 1600) = TRUE AND pop < 2000", {5, 6}),
    (f"S_DWITHIN(geometry, {POINT}, 1000) = FALSE", {2, 3, 6, 7}),
    ({"function": {"name": "s_dwithin", "arguments": [
        {"property": "geometry"}, {"type": "Point", "coordinates": list(MINSK)}, 1000]}},
     {1, 4, 5}),
    ({"op": "s_intersects", "args": [{"property": "geometry"}, {
        "type": "Polygon", "coordinates": [[[27.4, 53.8], [27.7, 53.8], [27.7, 54.0],
                                            [27.4, 54.0], [27.4, 53.8]]]}]}, {1, 4, 5, 6}),
])
def test_spatial(ids, filter_: str | dict, expected: set[int]) -> None:
    assert ids(filter_) == expected


@pytest.mark.parametrize(("metres", "expected"), [
    (690, {1, 4}), (710, {1, 4, 5}), (1490, {1, 4, 5}), (1510, {1, 4, 5, 6})])
def test_dwithin_is_measured_in_metres(ids, metres: int, expected: set[int]) -> None:
    """~700 m east and ~1500 m north of the point: both stores draw the line within 1.5 %."""
    assert ids(f"S_DWITHIN(geometry, {POINT}, {metres}) = TRUE") == expected


def test_dwithin_units_on_the_ast(ids) -> None:
    point = parse(f"S_EQUALS(geometry, {POINT})").rhs
    assert ids(ast.DistanceWithin(ast.Attribute("geometry"), point, 1.6, "km")) == {1, 4, 5, 6}
    assert ids(ast.DistanceWithin(point, ast.Attribute("geometry"), 1000, "metres")) == {1, 4, 5}
    with pytest.raises(InputError, match="distance in metres"):
        ids(ast.DistanceWithin(ast.Attribute("geometry"), point, 1, "parsecs"))
    with pytest.raises(InputError, match="distance in metres"):
        ids(ast.DistanceWithin(ast.Attribute("geometry"), point, float("inf"), "m"))


def test_sql_injection_is_harmless(ids, request: pytest.FixtureRequest) -> None:
    payload = "x'; DROP TABLE places; --"
    assert ids({"op": "=", "args": [{"property": "name"}, payload]}) == set()
    assert ids("name = 'x\"; DROP TABLE places; --'") == set()
    assert ids({"op": "like", "args": [{"property": "name"}, "%' OR '1'='1"]}) == set()
    assert ids("pop > 0") == {1, 2, 3, 5, 6, 7}  # the table is still there
    sql, params = cql.to_sql(parse({"op": "=", "args": [{"property": "name"}, payload]}),
                             FIELDS, cql.POSTGIS)
    assert payload not in sql and params == [payload]
    with pytest.raises(InputError, match="unknown property"):
        ids({"op": "=", "args": [{"property": "name\" = name OR \"name"}, "x"]})


def test_parameters_follow_placeholders() -> None:
    node = parse("pop BETWEEN 1 AND 2 AND name IN ('a', 'b') AND CASEI(note) LIKE CASEI('Ab%')"
                 " AND updated > DATE('2020-01-01')")
    for dialect in (cql.SQLITE, cql.POSTGIS):
        sql, params = cql.to_sql(node, FIELDS, dialect)
        assert sql.count(dialect.placeholder) == len(params)
        assert params == [1, 2, "a", "b", "ab%",
                          "2020-01-01" if dialect is cql.SQLITE else date(2020, 1, 1)]
    sql, _ = cql.to_sql(node, FIELDS, cql.SQLITE)
    assert 'f."pop"' in sql and "gp_like(gp_lower(f.\"note\"), ?)" in sql


@pytest.mark.parametrize(("filter_", "message"), [
    ("pop = 'abc'", "field 'pop' holds integers; compare it with a number"),
    ("name > 5", "field 'name' holds text; compare it with a quoted string"),
    ("capital = 1", "field 'capital' holds true/false values"),
    ("founded = '2020-01-01'", r"field 'founded' holds dates; compare it with DATE\('YYYY"),
    ("updated < 2020", "field 'updated' holds timestamps"),
    ("pop IN (1, 'two')", "field 'pop' holds integers"),
    ("pop BETWEEN 'a' AND 'b'", "field 'pop' holds integers"),
    ("pop LIKE '1%'", "LIKE works on text properties; field 'pop' holds integers"),
    ("CASEI(pop) = CASEI('1')", "CASEI works on text"),
    ("pop = name", "field 'pop' holds integers and field 'name' holds text"),
    ("name + 1 > 2", "arithmetic"),
    ("nosuch = 1", "unknown property 'nosuch'; the queryable properties are: name, pop, area"),
    ("S_INTERSECTS(name, POINT(27 53))", "works on the geometry property"),
    ("S_INTERSECTS(geometry, geometry)", "geometry literal"),
    ("geometry = 1", "only be used in spatial predicates"),
    ("S_INTERSECTS(geometry, POLYGON((27 53, 28 54, 28 53, 27 54, 27 53)))", "not valid"),
    ("BBOX(geometry, 28, 53, 27, 54)", "min <= max"),
    ("pop T_BEFORE DATE('2020-01-01')", "T_BEFORE works on date and timestamp properties"),
    ("founded T_BEFORE 5", "compares a property with a DATE, TIMESTAMP or INTERVAL"),
    ("ACCENTI(name) = ACCENTI('Минск')", "ACCENTI"),
    ("UPPER(name) = 'X'", r"the function UPPER\(\) is not supported"),
    ("RELATE(geometry, POINT(27 53), 'T********')", r"RELATE.* is not supported"),
    ("note LIKE 'abc\\'", "ends with the escape character"),
    ("'a' = 'a'", "needs a property"),
    (f"S_DWITHIN(geometry, {POINT}, -5) = TRUE", "distance in metres"),
    ("pop = 99999999999999999999", "too large"),
])
def test_errors(filter_: str, message: str) -> None:
    for dialect in (cql.SQLITE, cql.POSTGIS):
        with pytest.raises(InputError, match=message):
            cql.to_sql(parse(filter_), FIELDS, dialect)


@pytest.mark.parametrize(("filter_", "message"), [
    ({"op": "a_contains", "args": [{"property": "name"}, ["a"]]}, "A_CONTAINS is not supported"),
    ({"op": "t_after", "args": [{"property": "founded"}, interval("P1D", "..")]}, "DATE"),
    ({"op": "=", "args": [{"property": "founded"}, interval("2020-01-01", "..")]}, "INTERVAL"),
    ({"op": "=", "args": [{"property": "pop"}, [1, 2]]}, "unsupported value"),
])
def test_json_errors(filter_: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        cql.to_sql(parse(filter_), FIELDS, cql.SQLITE)


def test_deeply_nested_filter_is_an_input_error() -> None:
    node: ast.Node = ast.Equal(ast.Attribute("pop"), 1)
    for _ in range(5000):
        node = ast.Not(node)
    with pytest.raises(InputError, match="nested"):
        cql.to_sql(node, FIELDS, cql.SQLITE)


def test_long_chains_do_not_recurse(ids) -> None:
    """pygeofilter builds N ORs as a tree N deep; the translation walks it without recursion,
    the chain counts as one level of nesting, and a chain past the limits is refused, not
    crashed on."""
    node = parse_cql2_text(" OR ".join(f"pop = {i}" for i in range(690, 750)))
    assert ids(node) == {5}
    sql, params = cql.to_sql(node, FIELDS, cql.POSTGIS)
    assert len(params) == 60 and sql.count(" OR ") == 59 and sql.count("(") < 80
    node = parse_cql2_text(" OR ".join(f"pop = {i}" for i in range(690, 3000)))
    with pytest.raises(InputError, match="more than 300 parts"):
        ids(node)
    node = parse_cql2_text(" AND ".join(["BBOX(geometry, 27, 53, 28, 54)"] * 3000))
    assert cql.envelope_hint(node) == (27, 53, 28, 54)


def approx(box: tuple | None, expected: tuple) -> bool:
    return box is not None and all(math.isclose(a, b, abs_tol=1e-9)
                                   for a, b in zip(box, expected, strict=True))


def test_envelope_hint() -> None:
    assert approx(cql.envelope_hint(parse(f"S_INTERSECTS(geometry, {MINSK_BOX})")),
                  (27.4, 53.8, 27.7, 54.0))
    assert approx(cql.envelope_hint(parse(f"S_WITHIN({POINT}, geometry)")), MINSK * 2)
    assert approx(cql.envelope_hint(parse("BBOX(geometry, 27, 53, 28, 54) AND pop > 5")),
                  (27, 53, 28, 54))
    assert approx(cql.envelope_hint(parse(f"name = 'x' AND S_CONTAINS(geometry, {POINT})")),
                  MINSK * 2)
    assert approx(cql.envelope_hint(parse(
        "BBOX(geometry, 27, 53, 28, 54) AND BBOX(geometry, 27.5, 52, 29, 53.5)")),
        (27.5, 53, 28, 53.5))
    for unhinted in [f"S_DISJOINT(geometry, {MINSK_BOX})",
                     f"NOT S_INTERSECTS(geometry, {MINSK_BOX})",
                     f"S_INTERSECTS(geometry, {MINSK_BOX}) OR pop > 5", "pop > 5",
                     f"S_DWITHIN(geometry, {POINT}, 1000) = FALSE"]:
        assert cql.envelope_hint(parse(unhinted)) is None, unhinted
    minx, miny, maxx, maxy = cql.envelope_hint(parse(f"S_DWITHIN(geometry, {POINT}, 1000) = TRUE"))
    assert minx < MINSK[0] - 1000 / 65_740 and maxx > MINSK[0] + 1000 / 65_740
    assert miny < MINSK[1] - 1000 / 111_290 and maxy > MINSK[1] + 1000 / 111_290
    assert maxx - minx < 3 * 2 * 1000 / 65_740  # generous, not huge


def test_hint_contains_every_match(gpkg: sqlite3.Connection) -> None:
    for filter_ in [f"S_DWITHIN(geometry, {POINT}, 1600) = TRUE",
                    f"S_INTERSECTS(geometry, {MINSK_BOX}) AND pop < 5000"]:
        node = parse(filter_)
        box = shapely.box(*cql.envelope_hint(node))
        sql, params = cql.to_sql(node, FIELDS, cql.SQLITE)
        for (blob,) in gpkg.execute(f'SELECT geom FROM "places" AS f WHERE {sql}', params):
            assert shapely.intersects(shapely.from_wkb(cql._blob_to_wkb(blob)), box)


def test_sqlite_functions_never_raise() -> None:
    assert cql._gp_spatial("intersects", b"not a blob", b"junk", None) is None
    assert cql._gp_spatial("intersects", b"GP\x00\x01" + b"\x00" * 4 + b"junk",
                           shapely.to_wkb(shapely.Point(1, 2)), None) is None
    assert cql._gp_datetime("yesterday") is None and cql._gp_datetime(None) is None
    assert cql._gp_datetime("2024-05-01T13:00:00+03:00") == "2024-05-01T10:00:00.000000"
    assert cql._gp_like(None, "a") is None and cql._gp_like("a\nb", "a_b") == 1
    assert cql._gp_lower("ЎІЁ") == "ўіё"


def test_dialects() -> None:
    assert cql.SQLITE.column('a"b') == 'f."a""b"' and cql.POSTGIS.column("name") == '"name"'
    assert (cql.SQLITE.placeholder, cql.POSTGIS.placeholder) == ("?", "%s")


# -- LIKE without backtracking -------------------------------------------------------------

def like_reference(value: str, pattern: str) -> bool:
    """CQL2 LIKE by dynamic programming over the pattern's tokens: the definition, slowly."""
    tokens: list[str | None] = []  # a character; None: '_'; '' : '%'
    chars = iter(pattern)
    for ch in chars:
        tokens.append(next(chars) if ch == "\\" else None if ch == "_" else "" if ch == "%"
                      else ch)
    reach = [True] + [False] * len(value)  # the tokens so far can end at value[:i]
    for t in tokens:
        if t == "":
            for i in range(1, len(reach)):
                reach[i] = reach[i] or reach[i - 1]
        else:
            reach = [False] + [reach[i] and (t is None or value[i] == t)
                               for i in range(len(value))]
    return reach[-1]


VALUE_CHARS = "ab%_\\\nЯ"
PATTERN_CHARS = "ab%%_\\Я"


def _patterns(alphabet: str = PATTERN_CHARS) -> st.SearchStrategy[str]:
    """LIKE patterns over a small alphabet (so they match often), never ending in a lone
    escape character."""
    return st.text(alphabet, max_size=9).filter(
        lambda p: (len(p) - len(p.rstrip("\\"))) % 2 == 0)


@given(value=st.text(VALUE_CHARS, max_size=12), pattern=_patterns())
@settings(max_examples=3000, deadline=None)
def test_like_matcher_agrees_with_the_definition(value: str, pattern: str) -> None:
    assert cql.like_matcher(pattern)(value) == like_reference(value, pattern)


def test_like_matcher_small_cases_exhaustively() -> None:
    """Every pattern of up to 4 tokens against every value of up to 4 characters."""
    import itertools

    tokens, letters = ["a", "b", "%", "_", "\\%", "\\_"], "ab%_"
    values = ["".join(v) for n in range(5) for v in itertools.product(letters, repeat=n)]
    for n in range(5):
        for parts in itertools.product(tokens, repeat=n):
            pattern = "".join(parts)
            match = cql.like_matcher(pattern)
            for value in values:
                assert match(value) == like_reference(value, pattern), (value, pattern)


def test_like_matcher_is_case_sensitive_and_crosses_lines() -> None:
    assert cql.like_matcher("Мін%")("Мінск") and not cql.like_matcher("мін%")("Мінск")
    assert cql.like_matcher("a%b")("a\n\nb") and cql.like_matcher("a_b")("a\nb")
    with pytest.raises(ValueError, match="escape"):
        cql.like_matcher("abc\\")


def test_like_with_many_percent_signs_does_not_backtrack() -> None:
    """The patterns that took 85 s through a backtracking regular expression (over 2,558
    names): over one value of 20,001 characters a backtracking matcher would not end at all,
    so the bound below guards against a hang, not a speed (this takes milliseconds)."""
    import threading

    value = "ы" * 20_000 + "y"
    answers: list[bool] = []

    def match() -> None:
        for pattern in ["%" * 12 + "z", "%a" * 30 + "%", "%_%_%_%_%_%_%_%_%_%z",
                        "%" * 12 + "y"]:
            answers.append(cql.like_matcher(pattern)(value))

    worker = threading.Thread(target=match, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert answers == [False, False, False, True]


# -- limits --------------------------------------------------------------------------------

def _line(vertices: int) -> str:
    return "LINESTRING(" + ", ".join(f"{27 + i * 1e-5:.5f} 53" for i in range(vertices)) + ")"


@pytest.mark.parametrize(("filter_", "message"), [
    ("NOT " * 19 + "pop = 1", "more than 20 levels"),
    ("NOT " * 50 + "pop = 1", "more than 20 levels"),
    ("NOT (" * 25 + "pop = 1" + ")" * 25, "more than 20 levels"),
    (" AND ".join(f"pop <> {i}" for i in range(101)), "more than 300 parts"),
    ("name = '" + "я" * 1001 + "'", "longer than 1000 characters"),
    ("name LIKE '" + "%" * 1001 + "'", "longer than 1000 characters"),
    ("pop IN (" + ", ".join(map(str, range(1001))) + ")", "up to 1000 values"),
    (f"S_DWITHIN(geometry, {POINT}, 100000000, meters)", "up to 100 km"),
    (f"S_DWITHIN(geometry, {POINT}, 101, km)", "up to 100 km"),
    (f"S_DWITHIN(geometry, {POINT}, 100001) = TRUE", "up to 100 km"),
    ("name = 'a\x00b'", "NUL"),
    ("name LIKE '%\x00'", "NUL"),
    ("name IN ('a', '\x00')", "NUL"),
])
def test_filters_past_a_limit_are_input_errors(filter_: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        cql.to_sql(parse(filter_), FIELDS, cql.SQLITE)


@pytest.mark.parametrize("filter_", [
    "NOT " * 17 + "pop = 1",
    " AND ".join(f"pop <> {i}" for i in range(75)),  # 75 comparisons, 74 ANDs: 299 parts
    "pop IN (" + ", ".join(map(str, range(1000))) + ")",
    "name = '" + "я" * 1000 + "'",
    f"S_DWITHIN(geometry, {POINT}, 100, km)",
    f"S_INTERSECTS(geometry, {_line(500)})",
])
def test_filters_within_the_limits_translate(filter_: str) -> None:
    sql, _params = cql.to_sql(parse(filter_), FIELDS, cql.SQLITE)
    assert sql


def test_a_geometry_literal_past_the_vertex_limit_is_an_input_error() -> None:
    """Ten thousand vertices do not fit in a URL; the limit holds for any other caller."""
    line = {"type": "LineString", "coordinates": [[27 + i * 1e-6, 53] for i in range(10_001)]}
    node = ast.GeometryIntersects(ast.Attribute("geometry"), values.Geometry(line))
    with pytest.raises(InputError, match="more than 10000 vertices"):
        cql.to_sql(node, FIELDS, cql.POSTGIS)
    line["coordinates"] = line["coordinates"][:10_000]
    assert cql.to_sql(node, FIELDS, cql.POSTGIS)[0].startswith("ST_Intersects")


def test_a_tree_deeper_than_python_recursion_is_measured_not_crashed() -> None:
    node: ast.Node = ast.Equal(ast.Attribute("pop"), 1)
    for _ in range(100_000):
        node = ast.Not(node)
    with pytest.raises(InputError, match="more than 20 levels"):
        cql.check_limits(node)
