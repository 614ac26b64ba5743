"""Our CQL2 text grammar: standard syntax pygeofilter 0.4 refuses, the same trees where both
read a filter, and errors that say where the filter goes wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pygeofilter import ast, values
from pygeofilter.parsers.cql2_text import parse as pygeofilter_parse

from geoportal.errors import InputError
from geoportal.server.cql2_text import CQL2SyntaxError, parse_cql2_text
from geoportal.server.filters import check_text, filter_problem, parse_filter
from geoportal.storage.cql import TimeOverlapsStrict


@pytest.mark.parametrize("text", [
    "pop > 1 AND name = 'x'",
    "(pop > 1 AND area < 2) OR kind = 'a'",
    "NOT pop > 1",
    "pop > 1 AND NOT name = 'x'",
    "name IN ('a', 'b')",
    "name NOT IN ('a', 'b')",
    "pop BETWEEN 1 AND 5",
    "pop NOT BETWEEN 1 AND 5",
    "name IS NULL",
    "name IS NOT NULL",
    "updated > TIMESTAMP('2020-01-01T00:00:00Z')",
    "updated = DATE('2020-01-01')",
    "pop + 5 > 10 * 2",
    '"name" = \'x\'',
    "flag = TRUE",
    "pop = -5.5",
    "pop > 1e3",
    "name_be = 'Мінск'",
    "S_INTERSECTS(geometry, POINT(27 53))",
    "S_WITHIN(geometry, POLYGON((27 53, 28 53, 28 54, 27 53)))",
    "ACCENTI(name) = 'a'",
])
def test_same_tree_as_pygeofilter_where_both_read_it(text):
    assert parse_cql2_text(text) == pygeofilter_parse(text)


@pytest.mark.parametrize(("text", "expected"), [
    # Belarusian names have apostrophes: doubled inside a CQL2 string
    ("name = 'Мар''іна Горка'", ast.Equal(ast.Attribute("name"), "Мар'іна Горка")),
    ("NOT (pop > 1 OR name = 'x')",
     ast.Not(ast.Or(ast.GreaterThan(ast.Attribute("pop"), 1),
                    ast.Equal(ast.Attribute("name"), "x")))),
    ("x = 1", ast.Equal(ast.Attribute("x"), 1)),
    ("T_INTERSECTS(updated, INTERVAL('2020-01-01', '..'))",
     ast.TimeOverlaps(ast.Attribute("updated"), values.Interval(date(2020, 1, 1), None))),
    ("T_BEFORE(updated, TIMESTAMP('2020-01-01T06:00:00Z'))",
     ast.TimeBefore(ast.Attribute("updated"), datetime(2020, 1, 1, 6, tzinfo=UTC))),
    ("t_starts(founded, INTERVAL(DATE('2020-01-01'), '2020-02-01T00:00:00Z'))",
     ast.TimeBegins(ast.Attribute("founded"),
                    values.Interval(date(2020, 1, 1), datetime(2020, 2, 1, tzinfo=UTC)))),
    ("T_OVERLAPS(founded, INTERVAL('2020-01-01', '2020-02-01'))",
     TimeOverlapsStrict(ast.Attribute("founded"),
                        values.Interval(date(2020, 1, 1), date(2020, 2, 1)))),
    ("S_INTERSECTS(geometry, BBOX(27, 53, 28, 54))",
     ast.GeometryIntersects(ast.Attribute("geometry"), values.Envelope(27, 28, 53, 54))),
    ("S_DWITHIN(geometry, POINT(27 53), 5, kilometers)",
     ast.DistanceWithin(ast.Attribute("geometry"),
                        values.Geometry({"type": "Point", "coordinates": (27.0, 53.0)}), 5,
                        "kilometers")),
    ("S_INTERSECTS(geometry, POINT(27 53)) = FALSE",
     ast.Not(ast.GeometryIntersects(
         ast.Attribute("geometry"),
         values.Geometry({"type": "Point", "coordinates": (27.0, 53.0)})))),
    ("name NOT LIKE 'a\\_b%'",
     ast.Like(ast.Attribute("name"), "a\\_b%", nocase=False, wildcard="%", singlechar="_",
              escapechar="\\", not_=True)),
])
def test_standard_cql2_pygeofilter_refuses(text, expected):
    assert parse_cql2_text(text) == expected


def test_the_older_infix_temporal_form_still_reads():
    # not CQL2, but pygeofilter's; filters written for it keep working through the fallback
    node = parse_filter("founded T_BEFORE DATE('2020-01-01')")
    assert node == ast.TimeBefore(ast.Attribute("founded"), date(2020, 1, 1))


@pytest.mark.parametrize(("text", "message"), [
    ("pop > 1 AND", "ends too early"),
    ("name = 'abc", "at character 8"),
    ("pop >> 2", "at character"),
    ("DATE('2020-13-01') = founded", "is not a valid date"),
    ("founded = DATE('2020-01-01T00:00:00Z')", "is not a valid date"),
    ("T_DURING(founded, INTERVAL('2020-01-01', 'soon'))", "each end is a date"),
])
def test_errors_say_where(text, message):
    with pytest.raises(CQL2SyntaxError, match=message):
        parse_cql2_text(text)
    problem = filter_problem({"filter": text})
    assert problem is not None and message.split()[0] in problem


def test_a_ring_that_does_not_close_is_named():
    with pytest.raises(CQL2SyntaxError, match="is not valid WKT"):
        parse_cql2_text("S_INTERSECTS(geometry, POLYGON((27 53, 28 54)))")


def _depth(node) -> int:
    children = [getattr(node, k) for k in ("lhs", "rhs", "sub_node") if hasattr(node, k)]
    return 1 + max((_depth(c) for c in children if isinstance(c, ast.Node)), default=0)


def test_long_filters_parse_and_stay_shallow():
    """2,000 clauses and 1,300 parentheses parse (no recursion limit hit) into a tree the
    translator can recurse over. How fast they parse is the machine's: not asserted here."""
    node = parse_cql2_text(" OR ".join(f"pop = {i}" for i in range(2000)))
    nested = parse_cql2_text("(" * 1300 + "pop > 1" + ")" * 1300)
    assert _depth(node) <= 13  # a balanced tree: the translator recurses over it
    assert nested == ast.GreaterThan(ast.Attribute("pop"), 1)


def test_a_filter_nested_beyond_reason_is_refused_not_crashed():
    with pytest.raises(CQL2SyntaxError, match="nested too deeply"):
        parse_cql2_text("NOT " * 5000 + "pop > 1")
    # before any parser sees it, with the limit named
    assert "nested more than 20 levels" in filter_problem({"filter": "NOT " * 4000 + "pop > 1"})
    assert "longer than 20000 characters" in filter_problem({"filter": "NOT " * 5000 + "pop > 1"})


@pytest.mark.parametrize("text", ["TRUE", "pop", "'abc'", "1 + 2", "pop > 1 AND 5"])
def test_values_alone_are_not_filters(text):
    with pytest.raises(CQL2SyntaxError, match=r"not a (filter|condition)"):
        parse_cql2_text(text)


@pytest.mark.parametrize("text", [
    "name = '" + "NOT (" * 100 + "'",  # inside a string: neither NOT nor '(' nests
    '"NOT (((((((((((((((((((((((((((((((((((((((((((" = 1',  # a quoted property name
    " AND ".join(["name IS NOT NULL"] * 50),  # many NOTs, none nested
    "NOTE = 1 AND KNOT = 2 AND ANNOTATE = 3",
    '{"op": "not", "args": [{"op": "=", "args": [{"property": "x"}, "((((((((((((((((("]}]}',
])
def test_text_that_only_looks_nested_passes_the_text_check(text):
    check_text(text)


@pytest.mark.parametrize("text", [
    "NOT " * 41 + "pop > 1",
    "not " * 41 + "pop > 1",
    "(" * 41 + "pop > 1" + ")" * 41,
    "NOT (" * 21 + "pop > 1" + ")" * 21,
    "[" * 81 + "]" * 81,
    '{"op": "not", "args": [' * 41 + '{"op": "=", "args": [{"property": "x"}, 1]}' + "]}" * 41,
])
def test_text_nested_past_the_limit_is_refused_before_parsing(text):
    with pytest.raises(InputError, match="more than 20 levels"):
        check_text(text)
    problem = filter_problem({"filter": text})
    assert problem is not None and "more than 20 levels" in problem
