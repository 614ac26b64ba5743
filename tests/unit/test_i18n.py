"""Languages: negotiation, the message tables, and the messages real code produces."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po
from pygeoapi.api import evaluate_limit, validate_bbox
from werkzeug import exceptions

from geoportal.catalog.models import Field
from geoportal.errors import InputError, NotFound
from geoportal.i18n import Choice, accepted_languages, negotiate, tr, translate
from geoportal.messages import FRAGMENTS, MESSAGES, NESTED
from geoportal.server.filters import filter_problem, parse_filter
from geoportal.server.languages import CATALOGS, page_translations
from geoportal.server.openapi_texts import TEXTS
from geoportal.storage.cql import SQLITE, to_sql

PLACEHOLDER = re.compile(r"\{(\w+)(?:![rsa])?(?::[^{}]*)?\}")
RUSSIAN_ONLY = re.compile(r"[ищъ]", re.IGNORECASE)
BELARUSIAN_ONLY = re.compile(r"[ўі]", re.IGNORECASE)
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")


@pytest.mark.parametrize(("lang", "accept", "expected"), [
    ("be", None, Choice("be", "lang")),
    ("be-BY", "ru", Choice("be", "lang")),
    ("ru_RU", None, Choice("ru", "lang")),
    ("EN-us", "be", Choice("en", "lang")),
    ("bel", None, Choice("be", "lang")),
    ("de", "ru", Choice("ru", "accept-language")),  # not spoken: the header decides
    ("", "be;q=0.9, ru", Choice("ru", "accept-language")),
    (None, "ru;q=0.5, be;q=0.9", Choice("be", "accept-language")),
    (None, "ru;q=0, en", Choice("en", "accept-language")),  # q=0 refuses
    (None, "de-DE, fr;q=0.8, ru;q=0.1", Choice("ru", "accept-language")),
    (None, "de, *;q=0.5", Choice("en", "accept-language")),
    (None, "en;q=0, *", Choice("be", "accept-language")),
    (None, "ru;q=abc, be", Choice("be", "accept-language")),  # a bad q skips the entry
    (None, "ru;q=2", Choice("en", "default")),
    (None, ";;;,,, =", Choice("en", "default")),
    (None, None, Choice("en", "default")),
    ("xx", "de", Choice("en", "default")),
])
def test_negotiation(lang, accept, expected):
    assert negotiate(lang, accept) == expected


def test_the_default_language_and_vary():
    assert negotiate(None, None, default="ru") == Choice("ru", "default")
    assert negotiate("be", "ru").varies is False
    assert negotiate(None, "ru").varies is True
    assert negotiate(None, "ru").tag == "ru-RU"
    assert accepted_languages("x" * 10_000 + ", ru") == ["ru"]


@pytest.mark.parametrize("table", [MESSAGES, FRAGMENTS, TEXTS], ids=["messages", "fragments",
                                                                     "openapi"])
def test_every_translation_keeps_the_placeholders(table):
    for english, translations in table.items():
        expected = sorted(m.group(1) for m in PLACEHOLDER.finditer(english))
        assert set(translations) == {"be", "ru"}, english
        for language, text in translations.items():
            found = sorted(m.group(1) for m in PLACEHOLDER.finditer(text))
            assert sorted(set(found)) == sorted(set(expected)), (english, language)


@pytest.mark.parametrize("table", [MESSAGES, FRAGMENTS, TEXTS], ids=["messages", "fragments",
                                                                     "openapi"])
def test_belarusian_is_belarusian_and_russian_is_russian(table):
    for english, translations in table.items():
        be = QUOTED.sub("", PLACEHOLDER.sub("", translations["be"]))
        ru = QUOTED.sub("", PLACEHOLDER.sub("", translations["ru"]))
        assert not RUSSIAN_ONLY.search(be), (english, be)
        assert not BELARUSIAN_ONLY.search(ru), (english, ru)


def test_a_formatted_message_is_translated_with_its_values():
    text = "feature '12' not found"
    assert translate(text, "ru") == "объект '12' не найден"
    assert translate(text, "be") == "аб'ект '12' не знойдзены"
    assert translate(text, "en") == text
    assert translate("something nobody translated", "be") == "something nobody translated"
    assert translate(text, "de") == text


def test_nested_texts_are_translated_but_values_are_not():
    said = translate("field 'text' holds integers; compare it with a number", "ru")
    assert said == "поле 'text' содержит целые числа; сравнивайте его с числом"
    # a property named like a fragment stays as it is
    said = translate("unknown property 'text'; the queryable properties are: a, text", "be")
    assert said == "невядомая ўласцівасць 'text'; для фільтра даступныя: a, text"


def test_a_message_with_its_template():
    message = tr("token {id} is {state}", id="ab12", state="revoked")
    assert message == "token ab12 is revoked"
    assert translate(message, "be") == "токен ab12: адкліканы"
    error = NotFound(tr("collection {id} not found", id="'roads'"))
    assert error.user_message("ru") == "коллекция 'roads' не найдена"
    assert InputError("internal", user_msg="the token is not valid").user_message("be") == \
        "токен несапраўдны"


@pytest.mark.parametrize("params", [
    {"filter": "pop >"}, {"filter": "pop = = 1"}, {"filter": "  "},
    {"filter": "{\"op\": ", "filter-lang": "cql2-json"},
    {"filter": "TRUE"}, {"filter": "a = 1", "filter-lang": "sql"},
    {"filter": "{\"op\": \"=\"}", "filter-lang": "cql2-text"},
])
def test_filter_problems_are_translated(params):
    problem = filter_problem(params)
    assert problem is not None
    for language in ("be", "ru"):
        assert translate(problem, language) != problem, problem


FIELDS = [Field("name", "string"), Field("pop", "integer"), Field("founded", "date")]


@pytest.mark.parametrize("text", [
    "nope = 1", "pop = 'many'", "name LIKE 5", "CASEI(pop) = 'x'", "ACCENTI(name) = 'x'",
    "pop + name > 1", "S_INTERSECTS(name, POINT(1 2))", "T_AFTER(name, DATE('2020-01-01'))",
    "name = pop", "founded IN (1, 2)",
])
def test_filter_translation_errors_are_translated(text):
    with pytest.raises(InputError) as caught:
        to_sql(parse_filter(text), FIELDS, SQLITE)
    message = caught.value.user_msg
    for language in ("be", "ru"):
        assert translate(message, language) != message, message


@pytest.mark.parametrize("bbox", ["1,2", "a,b,c,d", "1,5,2,3", "1,2,6,3,4,5"])
def test_pygeoapi_bbox_errors_are_translated(bbox):
    with pytest.raises(ValueError) as caught:
        validate_bbox(bbox)
    assert translate(str(caught.value), "ru") != str(caught.value)


@pytest.mark.parametrize("limit", ["abc", "-1"])
def test_pygeoapi_limit_errors_are_translated(limit):
    with pytest.raises(ValueError) as caught:
        evaluate_limit(limit, {}, {})
    assert translate(str(caught.value), "be") != str(caught.value)


@pytest.mark.parametrize("error", [
    exceptions.BadRequest, exceptions.Unauthorized, exceptions.Forbidden, exceptions.NotFound,
    exceptions.MethodNotAllowed, exceptions.NotAcceptable, exceptions.PreconditionFailed,
    exceptions.RequestEntityTooLarge, exceptions.UnsupportedMediaType])
def test_generic_http_texts_are_translated(error):
    for language in ("be", "ru"):
        assert translate(error.description, language) != error.description


@pytest.mark.parametrize("language", ["be", "ru"])
def test_page_catalogs_compile_and_keep_their_placeholders(language):
    path = CATALOGS / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    for message in catalog:
        if message.id and message.string:
            assert re.findall(r"%\(\w+\)s", message.id) == re.findall(r"%\(\w+\)s",
                                                                     message.string)
    pages = page_translations(language)
    for english in ("Collections", "Home", "Features on this page", "This document as JSON",
                    "%(n)s collections", "%(n)s collections, %(first)s–%(last)s shown",
                    "Previous", "Next", "Properties", "Error"):
        assert pages.gettext(english) != english, english


def test_nested_names_are_used():
    used = {m.group(1) for table in (MESSAGES, FRAGMENTS) for t in table
            for m in PLACEHOLDER.finditer(t)}
    assert used >= NESTED - {"problem"}
