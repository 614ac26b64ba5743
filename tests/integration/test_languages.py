"""be, ru and en through ``lang`` and Accept-Language on the real server (both stores): error
messages, Content-Language and Vary, the OpenAPI texts and the HTML pages."""

from __future__ import annotations

import re

import pytest
import requests

# Letters only Belarusian has (ў, і) and letters only Russian has (и, щ, ъ).
BELARUSIAN = re.compile(r"[ўі]", re.IGNORECASE)
RUSSIAN = re.compile(r"[ищъ]", re.IGNORECASE)
CYRILLIC = re.compile(r"[а-яёўі]", re.IGNORECASE)
TAGS = {"be": "be-BY", "ru": "ru-RU", "en": "en-US"}


def _get(portal, path: str, *, lang: str | None = None, accept: str | None = None,
         **params) -> requests.Response:
    headers = {"Accept-Language": accept} if accept else {}
    if lang:
        params["lang"] = lang
    return requests.get(f"{portal.url}{path}", params=params, headers=headers, timeout=30)


def _says(text: str, language: str) -> bool:
    """Whether ``text`` is written in ``language`` (enough of it to tell)."""
    if language == "be":
        return bool(CYRILLIC.search(text)) and not RUSSIAN.search(text)
    if language == "ru":
        return bool(CYRILLIC.search(text)) and not BELARUSIAN.search(text.replace("Мінск", ""))
    return not CYRILLIC.search(text)


CASES = [  # path, params, status: an unknown collection, a bad bbox, a bad CQL2 filter
    ("/collections/no-such-layer", {}, 404),
    ("/collections/cities/items", {"bbox": "27,53"}, 400),
    ("/collections/cities/items", {"filter": "pop_latest >"}, 400),
    ("/collections/cities/items", {"filter": "pop_latest = 'many'"}, 400),
    ("/collections/cities/items/99999999", {}, 404),
]


@pytest.mark.parametrize(("path", "params", "status"), CASES)
@pytest.mark.parametrize("language", ["be", "ru", "en"])
def test_errors_in_the_language_of_lang(portal, path, params, status, language):
    response = _get(portal, path, lang=language, f="json", **params)
    assert response.status_code == status, response.text
    assert response.headers["Content-Language"] == TAGS[language]
    assert _says(response.json()["description"], language), response.json()


@pytest.mark.parametrize(("path", "params", "status"), CASES)
@pytest.mark.parametrize(("accept", "language"), [
    ("be", "be"), ("ru-RU,ru;q=0.9,en;q=0.8", "ru"), ("de-DE, ru;q=0.5, be;q=0.7", "be"),
    ("en-US,en;q=0.9", "en"), ("ru;q=0, be;q=0.1", "be")])
def test_errors_in_the_language_of_accept_language(portal, path, params, status, accept,
                                                   language):
    response = _get(portal, path, accept=accept, f="json", **params)
    assert response.status_code == status, response.text
    assert response.headers["Content-Language"] == TAGS[language]
    assert "Accept-Language" in response.headers.get("Vary", "")
    assert _says(response.json()["description"], language), response.json()


def test_the_same_error_in_three_languages(portal):
    said = {lang: _get(portal, "/collections/cities/items", lang=lang, f="json",
                       bbox="27,53").json()["description"] for lang in ("be", "ru", "en")}
    assert said["en"].startswith("bbox should be either 4 values")
    assert said["ru"].startswith("bbox должен состоять из 4 значений")
    assert said["be"].startswith("bbox павінен мець 4 значэнні")


@pytest.mark.parametrize(("path", "params"), [
    ("/", {}), ("/", {"f": "html"}), ("/conformance", {}), ("/collections", {}),
    ("/collections/cities", {}), ("/collections/cities/items", {"limit": 2}),
    ("/collections/cities/items/1", {}), ("/collections/cities/queryables", {}),
    ("/collections/cities/schema", {}), ("/openapi", {}),
    ("/collections/cities/tiles", {}), ("/tileMatrixSets", {}),
    ("/collections/catalog/items", {"limit": 2}),
    ("/collections/cities/download", {"f": "nonsense"}),
    ("/no/such/page", {}),
])
def test_content_language_on_every_kind_of_route(portal, path, params):
    for language, tag in TAGS.items():
        response = _get(portal, path, lang=language, **params)
        assert response.status_code < 500, response.text
        assert response.headers.get("Content-Language") == tag, (path, language)
    assert "Accept-Language" in _get(portal, path, **params).headers.get("Vary", "")


def test_admin_api_and_transactions_answer_in_the_language(portal):
    response = requests.get(f"{portal.url}/admin/whoami", params={"lang": "ru"}, timeout=30)
    assert response.status_code == 401
    assert response.headers["Content-Language"] == "ru-RU"
    assert response.json()["description"].startswith("нужен токен")
    response = requests.post(f"{portal.url}/collections/cities/items", params={"lang": "be"},
                             json={"type": "Feature"}, timeout=30)
    assert response.status_code == 401
    assert response.json()["description"].startswith("патрэбны токен")
    editor = portal.cli("token", "create", "--name", "lang-test",
                        "--region", "5000000000").stdout.strip()
    response = requests.delete(f"{portal.url}/admin/layers/cities", params={"lang": "be"},
                               headers={"Authorization": f"Bearer {editor}"}, timeout=30)
    assert response.status_code == 403
    assert "не можа змяняць" in response.json()["description"]


def test_an_unsupported_language_falls_back_without_error(portal):
    response = _get(portal, "/collections/cities", lang="de")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "en-US"
    # lang not spoken: Accept-Language decides, and the answer says so
    response = _get(portal, "/collections/cities", lang="xx-YY", accept="ru")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "ru-RU"
    assert response.json()["title"] == "Города Беларуси и их население"
    for accept in ("ru;q=0", "ru;q=abc", ";;;,*", "*", "q=0.5", "x" * 300):
        response = _get(portal, "/", accept=accept)
        assert response.status_code == 200, accept
        assert response.headers["Content-Language"] in TAGS.values()
    for lang in ("be-BY", "ru_RU", "EN-us", "bel"):
        response = _get(portal, "/collections/no-such-layer", lang=lang)
        assert response.headers["Content-Language"].lower().startswith(lang[:2].lower())


def test_openapi_summaries_in_russian_and_belarusian(portal):
    documents = {lang: _get(portal, "/openapi", lang=lang).json() for lang in ("en", "ru", "be")}
    en, ru, be = (documents[lang]["paths"]["/collections"]["get"]["summary"]
                  for lang in ("en", "ru", "be"))
    assert en == "Every published collection"
    assert ru == "Все опубликованные коллекции"
    assert be == "Усе апублікаваныя калекцыі"
    assert documents["ru"]["info"]["title"] == "Геопортал Беларуси"
    limit = documents["ru"]["components"]["parameters"]["limit"]["description"]
    assert _says(limit, "ru")
    cities = documents["be"]["paths"]["/collections/cities/items"]["get"]["summary"]
    assert cities == "Аб'екты: Гарады Беларусі і іх насельніцтва"
    by_header = _get(portal, "/openapi", accept="ru").json()
    assert by_header["paths"]["/collections"]["get"]["summary"] == ru


def test_html_pages_in_belarusian_and_russian(portal):
    page = _get(portal, "/collections", lang="be", f="html")
    assert page.status_code == 200
    assert page.headers["Content-Language"] == "be-BY"
    text = page.content.decode()  # text/html without a charset: the page's <meta> says it
    assert "<html lang=\"be-BY\"" in text
    assert "Калекцыі" in text and "Перайсці да асноўнага зместу" in text
    items = _get(portal, "/collections/cities/items", lang="ru", f="html",
                 limit=2).content.decode()
    assert "Объекты на этой странице" in items and "Главная" in items
    error = _get(portal, "/collections/cities/items/99999999", lang="be", f="html")
    assert error.status_code == 404
    assert "аб'ект" in error.content.decode().replace("&#39;", "'")


def test_link_titles_follow_the_language(portal):
    links = _get(portal, "/collections/cities", lang="ru").json()["links"]
    titles = {link["title"] for link in links}
    assert "Этот документ в JSON" in titles


def test_tilesets_and_tilejson_speak_the_language_and_pages_say_utf8(portal):
    vector = _get(portal, "/collections/raions/tiles/WebMercatorQuad", lang="be",
                  f="tilejson").json()
    assert vector["name"] == "Раёны Беларусі"
    raster = _get(portal, "/collections/night-lights-2024/map/tiles/WebMercatorQuad",
                  lang="ru").json()
    assert raster["title"] == "Ночное освещение Беларуси, 2024: картографические тайлы"
    english = _get(portal, "/collections/raions/tiles/WebMercatorQuad", lang="en").json()
    assert english["title"].endswith(": vector tiles")
    page = _get(portal, "/collections", lang="be", f="html")
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Калекцыі" in page.text or "калекцыі" in page.text  # requests decodes it as UTF-8
