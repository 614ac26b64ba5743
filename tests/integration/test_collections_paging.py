"""``/collections`` in pages (``limit``, ``offset``, ``next``/``prev`` links, counts) on the
real server: on the sample portal (both stores) and on a catalog of 250 tiny layers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from benchmarks.catalog import (
    BuiltCatalog,
    Server,
    bench_settings,
    build_catalog,
    wait_every_worker,
)
from tests.conftest import Portal

pytestmark = pytest.mark.integration

LAYERS = 250


def _walk(first_url: str) -> tuple[list[str], list[dict]]:
    """Every collection id reached from ``first_url`` by ``next`` links, and each page."""
    ids, pages, url = [], [], first_url
    while url:
        body = requests.get(url, timeout=60).json()
        pages.append(body)
        ids += [c["id"] for c in body["collections"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        assert len(pages) < 1000
    return ids, pages


def test_the_sample_portal_fits_one_page_with_its_counts(portal: Portal) -> None:
    body = requests.get(f"{portal.url}/collections?f=json", timeout=30).json()
    assert body["numberMatched"] == body["numberReturned"] == len(body["collections"])
    assert not [link for link in body["links"] if link["rel"] in ("next", "prev")]


def test_limit_and_offset_slice_the_list_on_either_store(portal: Portal) -> None:
    whole = requests.get(f"{portal.url}/collections?f=json", timeout=30).json()
    ids = [c["id"] for c in whole["collections"]]
    assert len(ids) >= 3
    page = requests.get(f"{portal.url}/collections?f=json&limit=2&offset=1", timeout=30).json()
    assert [c["id"] for c in page["collections"]] == ids[1:3]
    assert page["numberMatched"] == len(ids) and page["numberReturned"] == 2
    rels = {link["rel"]: link for link in page["links"]}
    assert rels["prev"]["href"].endswith("offset=0&limit=2")
    assert rels["prev"]["type"] == "application/json"
    walked, _ = _walk(f"{portal.url}/collections?f=json&limit=2")
    assert walked == ids


@pytest.mark.parametrize(("lang", "caption"), [
    ("en", "{n} collections, {first}–{last} shown"),
    ("be", "Калекцый: {n}, паказаны {first}–{last}"),
    ("ru", "Коллекций: {n}, показаны {first}–{last}"),
])
def test_the_html_page_counts_every_collection_and_says_which_it_shows(
        portal: Portal, lang: str, caption: str) -> None:
    """A page of 3 says the total (numberMatched), which 3 it shows, and links to the next
    and previous pages as the JSON does; the whole list is counted without "shown"."""
    total = requests.get(f"{portal.url}/collections?f=json", timeout=30).json()["numberMatched"]
    assert total > 6
    first = requests.get(f"{portal.url}/collections?f=html&limit=3&lang={lang}", timeout=30)
    assert first.status_code == 200
    assert f"<caption>{caption.format(n=total, first=1, last=3)}</caption>" in first.text
    assert 'rel="next"' in first.text and "f=html&amp;offset=3&amp;limit=3" in first.text
    assert 'rel="prev"' not in first.text
    second = requests.get(f"{portal.url}/collections?f=html&limit=3&offset=3&lang={lang}",
                          timeout=30)
    assert f"<caption>{caption.format(n=total, first=4, last=6)}</caption>" in second.text
    assert "f=html&amp;offset=0&amp;limit=3" in second.text and 'rel="prev"' in second.text
    whole = requests.get(f"{portal.url}/collections?f=html&lang={lang}", timeout=30)
    everything = caption.split(",")[0].format(n=total)
    assert f"<caption>{everything}</caption>" in whole.text
    assert 'rel="next"' not in whole.text


@pytest.mark.parametrize(("query", "name"), [
    ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=ten", "limit"),
    ("limit=-1", "limit"), ("offset=-5", "offset"), ("offset=1.5", "offset"),
    ("offset=\u00b2", "offset"), ("offset=\u0661\u0662", "offset"),
    ("offset=" + "1" * 10, "offset"), ("limit=\uff11\uff10", "limit"),
])
def test_a_bad_limit_or_offset_is_400_naming_it(portal: Portal, query: str, name: str) -> None:
    response = requests.get(f"{portal.url}/collections?f=json&{query}", timeout=30)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidParameterValue"
    assert body["description"].startswith(f"{name}=")
    russian = requests.get(f"{portal.url}/collections?f=json&{query}&lang=ru", timeout=30)
    assert "целым числом" in russian.json()["description"]


def test_an_offset_past_the_end_is_an_empty_page(portal: Portal) -> None:
    body = requests.get(f"{portal.url}/collections?f=json&offset=100000", timeout=30).json()
    assert body["collections"] == [] and body["numberReturned"] == 0
    assert any(link["rel"] == "prev" for link in body["links"])


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, BuiltCatalog]]:
    """250 tiny layers registered in one catalog transaction (benchmarks/catalog.py)."""
    built = build_catalog(bench_settings(tmp_path_factory.mktemp("paging") / "var"), LAYERS)
    server = Server(built.settings, workers=1)
    server.start()
    try:
        ready = wait_every_worker(server, "/conformance?f=json", lambda r: r.ok, timeout=60)
        assert ready["all_workers"], server.log_path.read_text()[-3000:]
        yield server, built
    finally:
        server.stop()


def test_next_links_walk_every_layer_once(many) -> None:
    server, built = many
    first = requests.get(f"{server.url}/collections?f=json", timeout=30).json()
    assert first["numberMatched"] == LAYERS + 1  # and the catalog's records
    assert first["numberReturned"] == 100  # the default page
    [nxt] = [link for link in first["links"] if link["rel"] == "next"]
    assert nxt["type"] == "application/json" and "offset=100&limit=100" in nxt["href"]
    ids, pages = _walk(f"{server.url}/collections?f=json")
    assert len(pages) == 3 and [p["numberReturned"] for p in pages] == [100, 100, 51]
    assert sorted(ids) == sorted(["catalog", *built.ids]) and len(set(ids)) == len(ids)
    assert not [link for link in pages[-1]["links"] if link["rel"] == "next"]
    ids_big, pages_big = _walk(f"{server.url}/collections?f=json&limit=1000")
    assert ids_big == ids and len(pages_big) == 1


def test_the_html_page_links_to_its_neighbours(many) -> None:
    server, _ = many
    page = requests.get(f"{server.url}/collections?f=html&offset=100", timeout=30)
    assert page.status_code == 200
    assert 'rel="next"' in page.text and 'rel="prev"' in page.text
    assert "f=html&amp;offset=200&amp;limit=100" in page.text
    assert page.text.count("/items?f=html") == 100


def test_an_offset_of_thousands_of_digits_is_an_input_error_not_a_crash() -> None:
    """int() refuses more than 4,300 digits with a ValueError: a 500 before; now the
    parameter is named (the HTTP server may refuse such a line itself, so called directly)."""
    from geoportal.errors import InputError
    from geoportal.server.collections import page_of

    with pytest.raises(InputError, match=r"^offset="):
        page_of({"offset": "7" * 5000})
    assert page_of({"offset": " 12 ", "limit": "3"}).offset == 12
