"""Every user-facing error the portal raises names a message id of ``geoportal.messages``.

The test reads the source of every module under ``geoportal/`` and finds each construction of
an error users are told (a ``GeoportalError`` subclass, or pygeoapi's provider errors with a
``user_msg``). The text users see (``user_msg=`` when given, else the first argument) must be
``tr("<id>", **values)`` with an id of the table, translated into be and ru, and with exactly
the id's placeholders as values; or a constant id; or a text passed on from another error
(``exc.user_msg``), a parameter or variable holding one, or a function that returns a
``Message``. An f-string, a concatenation or an id missing from the table fails here, naming
the file and line, before a user meets an English sentence on a Belarusian page.

Not walked: the CLI's own modules (``cli.py``, ``cli_admin.py``, ``upload_client.py``), which
speak English to the operator at a terminal; and the messages of 5xx errors without a
``user_msg``, which users never see (they get "internal error; quote request id ...").
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import geoportal
from geoportal.errors import (
    BudgetExceeded,
    DatabaseUnavailable,
    GeoportalError,
)
from geoportal.messages import FRAGMENTS, MESSAGES, NESTED

ROOT = Path(geoportal.__file__).parent
CLI_MODULES = {"cli.py", "cli_admin.py", "upload_client.py"}
PROVIDER_ERRORS = {"ProviderInvalidQueryError", "ProviderQueryError", "ProviderItemNotFoundError",
                   "ProviderNoDataError", "ProviderGenericError"}
PLACEHOLDER = re.compile(r"\{(\w+)(?:![rsa])?(?::[^{}]*)?\}")


def _error_classes() -> tuple[set[str], set[str]]:
    """The names of the portal's error classes, and of those whose message users never see
    unless a ``user_msg`` is given (5xx answered with the request id only)."""
    for module in pkgutil.walk_packages([str(ROOT)], "geoportal."):
        if module.name.split(".")[-1] not in {"__main__", "wsgi"}:
            importlib.import_module(module.name)
    found: set[type] = set()
    pending = [GeoportalError]
    while pending:
        cls = pending.pop()
        found.add(cls)
        pending.extend(cls.__subclasses__())
    shown_5xx = (DatabaseUnavailable, BudgetExceeded)
    log_only = {cls.__name__ for cls in found
                if cls.http_status >= 500 and not issubclass(cls, shown_5xx)
                and "Unavailable" not in cls.__name__}
    return {cls.__name__ for cls in found}, log_only


ERRORS, LOG_ONLY = _error_classes()


@dataclass
class Site:
    path: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


class _Walker(ast.NodeVisitor):
    """Collects the problems of one module's error constructions."""

    def __init__(self, path: str, tree: ast.Module) -> None:
        self.path = path
        self.sites: list[Site] = []
        self.functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        self.returns_message = {node.name for node in ast.walk(tree)
                                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                                and _annotation(node.returns) == "Message"}

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815 (ast.NodeVisitor names it so)

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        name = _name(node.func)
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        if name in PROVIDER_ERRORS:
            text = keywords.get("user_msg")
        elif name in ERRORS:
            text = keywords.get("user_msg")
            if text is None and name not in LOG_ONLY and node.args:
                text = node.args[0]
        else:
            return
        if text is not None:
            self._check(text, node.lineno, depth=0)

    def _check(self, text: ast.expr, line: int, depth: int) -> None:
        problem = self._problem(text, depth)
        if problem:
            self.sites.append(Site(self.path, line, problem))

    def _problem(self, text: ast.expr, depth: int) -> str:
        if isinstance(text, ast.Constant):
            if text.value is None:
                return ""
            if isinstance(text.value, str) and text.value in MESSAGES:
                return _untranslated(text.value)
            return f"{text.value!r} is not a message id of geoportal.messages"
        if isinstance(text, ast.Call) and _name(text.func) == "tr":
            return self._tr_problem(text)
        if isinstance(text, ast.Call) and _name(text.func) in self.returns_message:
            return ""
        if isinstance(text, ast.Attribute) and text.attr in {"user_msg", "message"}:
            return ""  # passed on from another error
        if isinstance(text, ast.IfExp):
            return self._problem(text.body, depth) or self._problem(text.orelse, depth)
        if isinstance(text, ast.Name) and depth < 3:
            return self._variable_problem(text, depth)
        if isinstance(text, ast.JoinedStr):
            return "an f-string: pass tr(<message id>, **values)"
        return f"{ast.unparse(text)[:60]!r} is not a message id: pass tr(<message id>, **values)"

    def _tr_problem(self, call: ast.Call) -> str:
        if not call.args or not isinstance(call.args[0], ast.Constant):
            return "tr() needs the message id as a literal"
        template = call.args[0].value
        if template not in MESSAGES and template not in FRAGMENTS:
            return f"message id {template!r} is not in geoportal.messages"
        expected = {m.group(1) for m in PLACEHOLDER.finditer(template)}
        given = {kw.arg for kw in call.keywords}
        if given != expected:
            return f"message id {template!r} takes {sorted(expected)}, given {sorted(given)}"
        for keyword in call.keywords:
            if keyword.arg in NESTED:
                nested = keyword.value
                if isinstance(nested, ast.JoinedStr):
                    return (f"{keyword.arg}= of {template!r} is an f-string: pass "
                            "tr(<message id>, **values)")
                if (isinstance(nested, ast.Constant) and isinstance(nested.value, str)
                        and nested.value not in MESSAGES and nested.value not in FRAGMENTS):
                    return f"{keyword.arg}={nested.value!r} is not in geoportal.messages"
        return _untranslated(template)

    def _variable_problem(self, name: ast.Name, depth: int) -> str:
        if not self.functions:
            return f"{name.id!r} is not a message id: pass tr(<message id>, **values)"
        function = self.functions[-1]
        arguments = function.args
        for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            if argument.arg == name.id:
                if _annotation(argument.annotation) in {"Message", "Message | None"}:
                    return ""
                return (f"parameter {name.id!r} of {function.name}() holds the message: "
                        "annotate it as geoportal.i18n.Message")
        values = [node.value for node in ast.walk(function)
                  if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
                  and any(isinstance(target, ast.Name) and target.id == name.id
                          for target in (node.targets if isinstance(node, ast.Assign)
                                         else [node.target]))]
        if not values:
            return f"{name.id!r} is not a message id: pass tr(<message id>, **values)"
        for value in values:
            problem = self._problem(value, depth + 1)
            if problem:
                return problem
        return ""


def _annotation(node: ast.expr | None) -> str:
    return ast.unparse(node).strip("'\"") if node is not None else ""


def _untranslated(template: str) -> str:
    translations = MESSAGES.get(template) or FRAGMENTS.get(template) or {}
    missing = [language for language in ("be", "ru") if not translations.get(language)]
    return f"message id {template!r} has no {', '.join(missing)}" if missing else ""


def _sites() -> list[Site]:
    sites: list[Site] = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT.parent).as_posix()
        if (path.name in CLI_MODULES and path.parent == ROOT) or "/messages/" in relative:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), relative)
        walker = _Walker(relative, tree)
        walker.visit(tree)
        sites.extend(walker.sites)
    return sites


def test_every_user_facing_error_names_a_translated_message_id():
    problems = _sites()
    assert not problems, f"{len(problems)} raise sites:\n" + "\n".join(map(str, problems))


@pytest.mark.parametrize(("source", "expected"), [
    ('raise InputError(f"bad {x}")', "an f-string"),
    ('raise InputError("no such sentence anywhere")', "is not a message id"),
    ('raise InputError(tr("feature {id} not found"))', "takes ['id'], given []"),
    ('raise NotFound(tr("feature {id} not found", id=1))', None),
    ('raise StorageError(f"{path} is damaged")', None),  # 5xx: users see the request id
    ('raise StorageError("x", user_msg=f"{y}")', "an f-string"),
    ('raise InputError(exc.user_msg) from exc', None),
])
def test_the_walker_tells_a_message_id_from_a_sentence(source, expected):
    tree = ast.parse(f"def f(x, y, path, exc):\n    {source}\n")
    walker = _Walker("example.py", tree)
    walker.visit(tree)
    if expected is None:
        assert walker.sites == []
    else:
        assert len(walker.sites) == 1 and expected in walker.sites[0].problem


def test_a_message_keeps_its_id_when_copied_pickled_or_stored():
    import copy
    import json
    import pickle

    from geoportal.errors import InputError
    from geoportal.i18n import Message, message_from_json, message_to_json, tr, translate

    message = tr("token {id} is {state}", id="ab12", state=tr("revoked"))
    stored = message_from_json(json.loads(json.dumps(message_to_json(message))))
    for copied in (copy.deepcopy(message), pickle.loads(pickle.dumps(message)), stored):
        assert isinstance(copied, Message) and copied.template == "token {id} is {state}"
        assert translate(copied, "be") == "токен ab12: адкліканы"
    error = pickle.loads(pickle.dumps(InputError(message)))
    assert translate(error.user_msg, "ru") == translate(message, "ru") != str(message)
    assert message_from_json("plain English from an older row") == (
        "plain English from an older row")
