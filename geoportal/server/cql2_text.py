"""CQL2 text (OGC 21-065r2) read into pygeofilter's AST.

pygeofilter 0.4's text grammar refuses standard CQL2 that GIS users write and that Belarusian
data needs: an apostrophe doubled inside a string (``'Мар''іна Горка'``), ``NOT (a OR b)``,
the temporal functions in their standard form (``T_INTERSECTS(updated, INTERVAL('2020-01-01',
'..'))``), ``S_DWITHIN`` with units, one-letter property names. This grammar follows the
standard's BNF for what our stores can answer and builds the same AST nodes pygeofilter's
parsers build, so ``geoportal.storage.cql`` translates both. Anything the grammar reads but the
stores cannot answer (ACCENTI, arrays, DIV) arrives there as a function and gets a clear 400.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import shapely
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput
from pygeofilter import ast, values
from pygeofilter.cql2 import SPATIAL_PREDICATES_MAP

from geoportal.i18n import Message, tr
from geoportal.storage.cql import TEMPORAL_FUNCTIONS

__all__ = ["CQL2SyntaxError", "parse_cql2_text"]

_GRAMMAR = r"""
?start: or_expr

?or_expr: and_expr
        | and_expr (_OR and_expr)+              -> or_
?and_expr: not_expr
         | not_expr (_AND not_expr)+            -> and_
?not_expr: _NOT not_expr                        -> not_
         | predicate
?predicate: sum COMP_OP sum                     -> comparison
          | sum _LIKE sum                       -> like
          | sum _NOT _LIKE sum                  -> not_like
          | sum _BETWEEN sum _AND sum           -> between
          | sum _NOT _BETWEEN sum _AND sum      -> not_between
          | sum _IN "(" sum ("," sum)* ")"      -> in_
          | sum _NOT _IN "(" sum ("," sum)* ")" -> not_in
          | sum _IS _NULL                       -> is_null
          | sum _IS _NOT _NULL                  -> is_not_null
          | sum

?sum: product
    | product (ADD_OP product)+                 -> arithmetic
?product: unary
        | unary (MUL_OP unary)+                 -> arithmetic
?unary: ADD_OP unary                            -> signed
      | atom
?atom: NUMBER                                   -> number
     | STRING                                   -> string
     | BOOLEAN                                  -> boolean
     | NAME                                     -> property
     | QUOTED_NAME                              -> quoted_property
     | function
     | wkt
     | "(" or_expr ")"

function: NAME "(" [or_expr ("," or_expr)*] ")"

wkt: WKT_TYPE wkt_body
wkt_body: "(" wkt_part ("," wkt_part)* ")"
        | EMPTY
?wkt_part: wkt_body
         | coordinates
         | WKT_TYPE wkt_body
coordinates: SIGNED_NUMBER SIGNED_NUMBER SIGNED_NUMBER? SIGNED_NUMBER?

_OR: /OR\b/i
_AND: /AND\b/i
_NOT: /NOT\b/i
_LIKE: /LIKE\b/i
_BETWEEN: /BETWEEN\b/i
_IN: /IN\b/i
_IS: /IS\b/i
_NULL: /NULL\b/i
EMPTY: /EMPTY\b/i
BOOLEAN.2: /(TRUE|FALSE)\b/i
WKT_TYPE.3: /(MULTI)?(POINT|LINESTRING|POLYGON)(\s*(ZM|Z|M))?\b|GEOMETRYCOLLECTION(\s*(ZM|Z|M))?\b/i
COMP_OP: "<>" | "<=" | ">=" | "=" | "<" | ">"
ADD_OP: "+" | "-"
MUL_OP: "*" | "/" | "%" | /DIV\b/i
NUMBER: /(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/
SIGNED_NUMBER: /[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/
STRING: /'(?:[^']|'')*'/
QUOTED_NAME: /"(?:[^"]|"")+"/
NAME: /(?!(?:AND|OR|NOT|LIKE|BETWEEN|IN|IS|NULL|TRUE|FALSE|DIV)\b)[^\W\d]\w*(?:[:.][^\W\d]\w*)*/i

%ignore /\s+/
"""

# LALR: linear in the length of the filter (Earley took 4 s on 1,300 nested parentheses).
_PARSER = Lark(_GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)

_COMPARISONS = {"=": ast.Equal, "<>": ast.NotEqual, "<": ast.LessThan, "<=": ast.LessEqual,
                ">": ast.GreaterThan, ">=": ast.GreaterEqual}
_ARITHMETIC = {"+": ast.Add, "-": ast.Sub, "*": ast.Mul, "/": ast.Div}


class CQL2SyntaxError(ValueError):
    """The filter is not CQL2 text; the message says where."""


def parse_cql2_text(text: str) -> Any:
    """A pygeofilter AST for a CQL2 text filter; CQL2SyntaxError (a ValueError) if it is not
    one, naming the place and the problem."""
    try:
        tree = _PARSER.parse(text)
        return _condition(_Builder(text).transform(tree))
    except CQL2SyntaxError:
        raise
    except ValueError as exc:  # from _condition: read, but not a filter
        raise CQL2SyntaxError(exc.args[0] if exc.args and isinstance(exc.args[0], Message)
                              else str(exc)) from None
    except RecursionError:
        raise CQL2SyntaxError("the filter is nested too deeply") from None
    except UnexpectedEOF:
        raise CQL2SyntaxError("the filter ends too early (a missing value or ')'?)") from None
    except UnexpectedCharacters as exc:
        position = exc.pos_in_stream or 0  # lark sets it for this error; typed Optional
        raise CQL2SyntaxError(tr("unexpected {found} at character {pos}",
                                 found=repr(text[position:][:20]), pos=position + 1)) from None
    except UnexpectedInput as exc:
        token = getattr(exc, "token", None)
        if token is not None and token.type == "$END":
            raise CQL2SyntaxError("the filter ends too early (a missing value or ')'?)"
                                  ) from None
        where = getattr(token, "start_pos", None)
        where = exc.pos_in_stream if where is None else where
        raise CQL2SyntaxError(
            tr("unexpected {found} at character {pos}", found=repr(str(token)[:20]),
               pos=(where or 0) + 1) if token is not None
            else tr("unexpected at character {pos}", pos=(where or 0) + 1)) from None
    except LarkError as exc:  # a VisitError wraps what _Builder raised
        cause = exc.__context__ or exc
        original = getattr(cause, "orig_exc", cause)
        said = original.args[0] if original.args else None  # our Message, when we raised it
        raise CQL2SyntaxError(said if isinstance(said, Message) else str(original)) from None


def _moment(text: str) -> date | datetime | None:
    """An INTERVAL end or a TIMESTAMP/DATE text: '..' is an open end."""
    text = text.strip()
    if text in ("..", ""):
        return None
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))


def _condition(node: Any) -> Any:
    """``node`` if it can be true or false of a feature; ValueError otherwise."""
    if isinstance(node, bool):
        raise ValueError("TRUE or FALSE alone is not a filter; compare a property")
    if isinstance(node, ast.Predicate | ast.Condition | ast.Function):
        return node  # a function's own checks come in the translator
    raise ValueError(tr("{value} is a value, not a condition (compare it with something)",
                        value=repr(str(node)[:60])))


def _balanced(kind: Any, nodes: list[Any]) -> Any:
    """AND or OR of many conditions as a balanced tree: 500 ORs nest 9 deep, not 500."""
    if len(nodes) == 1:
        return nodes[0]
    middle = len(nodes) // 2
    return kind(_balanced(kind, nodes[:middle]), _balanced(kind, nodes[middle:]))


def _flag(node: Any, truth: bool) -> Any:
    return node if truth else ast.Not(node)


@v_args(inline=True)
class _Builder(Transformer[Token, Any]):
    """Parse tree -> pygeofilter AST (the nodes its own parsers make)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    # -- logic -----------------------------------------------------------------------------
    def or_(self, *items: Any) -> Any:
        return _balanced(ast.Or, [_condition(i) for i in items])

    def and_(self, *items: Any) -> Any:
        return _balanced(ast.And, [_condition(i) for i in items])

    def not_(self, a: Any) -> Any:
        return ast.Not(_condition(a))

    # -- predicates ------------------------------------------------------------------------
    def comparison(self, lhs: Any, op: Token, rhs: Any) -> Any:
        for call, flag in ((lhs, rhs), (rhs, lhs)):  # S_INTERSECTS(...) = TRUE
            if isinstance(call, ast.Predicate | ast.Condition) and isinstance(flag, bool) \
                    and op in ("=", "<>"):
                return _flag(call, flag == (op == "="))
        return _COMPARISONS[str(op)](lhs, rhs)

    def like(self, lhs: Any, pattern: Any, not_: bool = False) -> Any:
        return ast.Like(lhs, pattern, nocase=False, wildcard="%", singlechar="_",
                        escapechar="\\", not_=not_)

    def not_like(self, lhs: Any, pattern: Any) -> Any:
        return self.like(lhs, pattern, True)

    def between(self, lhs: Any, low: Any, high: Any) -> Any:
        return ast.Between(lhs, low, high, False)

    def not_between(self, lhs: Any, low: Any, high: Any) -> Any:
        return ast.Between(lhs, low, high, True)

    def in_(self, lhs: Any, *items: Any) -> Any:
        return ast.In(lhs, list(items), False)

    def not_in(self, lhs: Any, *items: Any) -> Any:
        return ast.In(lhs, list(items), True)

    def is_null(self, lhs: Any) -> Any:
        return ast.IsNull(lhs, False)

    def is_not_null(self, lhs: Any) -> Any:
        return ast.IsNull(lhs, True)

    # -- values ----------------------------------------------------------------------------
    def arithmetic(self, first: Any, *rest: Any) -> Any:
        value = first
        for op, operand in zip(rest[::2], rest[1::2], strict=True):
            kind = _ARITHMETIC.get(str(op))
            if kind is None:  # DIV and %: read, then refused by the translator with its name
                value = ast.Function(str(op).lower().replace("%", "mod"), [value, operand])
            else:
                value = kind(value, operand)
        return value

    def signed(self, op: Token, value: Any) -> Any:
        if str(op) == "+":
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value
        return ast.Sub(0, value)

    def number(self, token: Token) -> int | float:
        text = str(token)
        return float(text) if any(c in text for c in ".eE") else int(text)

    def string(self, token: Token) -> str:
        return str(token)[1:-1].replace("''", "'")

    def boolean(self, token: Token) -> bool:
        return token.lower() == "true"

    def property(self, token: Token) -> Any:
        return ast.Attribute(str(token))

    def quoted_property(self, token: Token) -> Any:
        return ast.Attribute(str(token)[1:-1].replace('""', '"'))

    def function(self, name: Token, *args: Any) -> Any:
        fn = str(name).lower()
        args_ = list(args)
        if fn == "casei" and len(args_) == 1:
            return ast.Function("lower", args_)  # pygeofilter's name for CASEI
        if fn in ("date", "timestamp") and len(args_) == 1 and isinstance(args_[0], str):
            try:
                value = _moment(args_[0])
            except ValueError:
                value = None
            if value is None or (fn == "date") != (type(value) is date):
                raise ValueError(tr("{fn}({arg}) is not a valid {kind}", fn=fn.upper(),
                                    arg=repr(args_[0]), kind=fn))
            return value
        if fn == "interval" and len(args_) == 2:
            try:
                ends = [_moment(a) if isinstance(a, str) else a for a in args_]
            except ValueError:
                raise ValueError(tr("INTERVAL{args}: each end is a date, a timestamp or '..'",
                                    args=repr(tuple(args_)))) from None
            return values.Interval(*ends)
        if fn == "bbox" and len(args_) in (4, 6) and all(
                isinstance(a, int | float) for a in args_):
            half = len(args_) // 2
            return values.Envelope(args_[0], args_[half], args_[1], args_[half + 1])
        if fn == "bbox" and len(args_) == 5 and isinstance(args_[0], ast.Attribute):
            return ast.BBox(*args_)  # the ECQL predicate BBOX(geometry, x1, y1, x2, y2)
        if fn == "s_dwithin" and len(args_) in (3, 4):
            units = str(args_[3].name if isinstance(args_[3], ast.Attribute) else args_[3]) \
                if len(args_) == 4 else "meters"
            return ast.DistanceWithin(args_[0], args_[1], args_[2], units)
        if fn in SPATIAL_PREDICATES_MAP and len(args_) == 2:
            return SPATIAL_PREDICATES_MAP[fn](*args_)
        if fn in TEMPORAL_FUNCTIONS and len(args_) == 2:
            return TEMPORAL_FUNCTIONS[fn](*args_)
        return ast.Function(fn, args_)

    @v_args(meta=True)
    def wkt(self, meta: Any, children: list[Any]) -> Any:
        source = self.text[meta.start_pos:meta.end_pos]
        try:
            geom = shapely.from_wkt(source)
        except shapely.errors.ShapelyError as exc:
            raise ValueError(tr("the geometry {wkt} is not valid WKT: {error}",
                                wkt=repr(source[:60]),
                                error=str(exc))) from None
        return values.Geometry(shapely.geometry.mapping(geom))

    def wkt_body(self, *parts: Any) -> None:
        return None

    def coordinates(self, *parts: Any) -> None:
        return None
