"""``geoportal.server.seams``: every replacement of a pygeoapi attribute exists, is checked, is
applied, and is still called by pygeoapi through its public path.

Each "still called" test puts a spy (our replacement, counted) where the seam put ours, makes a
real request to ``create_app``'s app (or calls pygeoapi's API function where the route is not
mounted) and expects the spy called; where the answer shows it, the seam is un-applied within
the test (pygeoapi's original put back) and the answer is expected to differ."""

from __future__ import annotations

import json
import logging
import re
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pygeoapi
import pytest
import shapely
from flask import Flask
from flask.testing import FlaskClient
from pygeoapi import l10n
from pygeoapi import util as pygeoapi_util
from pygeoapi.api import APIRequest

from geoportal.catalog import Catalog, load_registry
from geoportal.etl import ingest, load_manifest
from geoportal.server import coverages, filters, seams, tiles
from geoportal.server.ows import maps
from geoportal.server.seams import SEAMS, Seam, SeamError
from geoportal.storage import open_store
from tests.conftest import CONFIG_DIR, REPO, make_settings, write_geojson, write_manifest

LAYER = "seams-points"
CQL2_JSON = "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json"
TILES_CORE = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core"
COVERAGE_JSON = "http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/coveragejson"


def _seam(name: str) -> Seam:
    return next(s for s in SEAMS if s.name == name)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The portal's app on a fresh GeoPackage data folder with one small layer."""
    from geoportal.server.app import create_app

    tmp = tmp_path_factory.mktemp("seams")
    settings = make_settings(tmp / "var", catalog_poll_seconds=3600, jobs_runner=False)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    registry = load_registry(CONFIG_DIR)
    catalog = Catalog(settings.database_url or "")
    catalog.init(registry)
    write_geojson(tmp / "p.geojson", [({"name": "Мінск", "n": 1}, shapely.Point(27.55, 53.9)),
                                      ({"name": "Брэст", "n": 2}, shapely.Point(23.7, 52.1))])
    store = open_store(settings)
    try:
        ingest(load_manifest(write_manifest(tmp, LAYER, {"path": "p.geojson"})),
               catalog=catalog, store=store, registry=registry)
    finally:
        store.close()
    app = create_app(settings)
    try:
        yield app
    finally:
        app.extensions["geoportal"]["store"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _spy(monkeypatch: pytest.MonkeyPatch, seam: Seam) -> list[tuple]:
    """Put a counting wrapper of our replacement where the seam put it; the calls' arguments."""
    calls: list[tuple] = []
    ours: Callable[..., Any] = seam.replacement

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return ours(*args, **kwargs)

    monkeypatch.setattr(seams.resolve(seam), seam.attribute, spy)
    return calls


def _unapply(monkeypatch: pytest.MonkeyPatch, seam: Seam) -> None:
    """pygeoapi's original back in place of the seam, for this test only."""
    monkeypatch.setattr(seams.resolve(seam), seam.attribute, seams.original(seam))


# -- (1) every target exists and, after install, holds our replacement ------------------------

@pytest.mark.parametrize("seam", SEAMS, ids=lambda s: s.name)
def test_every_seam_holds_our_replacement_after_install(app: Flask, seam: Seam) -> None:
    seams.install("be")  # a second install (create_app did one): idempotent
    seams.install("be")
    current = vars(seams.resolve(seam))[seam.attribute]
    if isinstance(seam.replacement, list):
        assert current == seam.replacement
        assert current is not seam.replacement  # a copy: pygeoapi cannot edit our constant
    else:
        assert current is seam.replacement
    assert seams.original(seam) is not current  # pygeoapi's own is kept, and differs
    assert seam.provider.startswith("geoportal.server.") and seam.why


def test_the_table_names_each_target_once() -> None:
    names = [s.name for s in SEAMS]
    assert len(names) == len(set(names)) >= 10


def test_the_features_conformance_holds_filters_and_tiles_classes_in_any_install_order() -> None:
    declared = _seam("pygeoapi.api.itemtypes.CONFORMANCE_CLASSES_FEATURES").replacement
    assert set(filters.CONFORMANCE) | set(tiles.CONFORMANCE) | set(maps.CONFORMANCE) == \
        set(declared)
    assert len(declared) == len(set(declared))
    assert _seam("pygeoapi.api.coverages.CONFORMANCE_CLASSES").replacement == \
        coverages.CONFORMANCE


# -- (2) a missing or changed target is a clear error ------------------------------------------

@pytest.fixture
def fake_module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("pygeoapi.fake_api")
    monkeypatch.setitem(sys.modules, "pygeoapi.fake_api", module)
    return module


def test_a_missing_attribute_is_an_error_naming_it(fake_module: types.ModuleType) -> None:
    seam = Seam("pygeoapi.fake_api", "to_json", seams.pygeoapi_speedups.to_json,
                "geoportal.server.pygeoapi_speedups", "test", ("dict_", "pretty"))
    with pytest.raises(SeamError, match=r"pygeoapi\.fake_api\.to_json .*no attribute 'to_json'"):
        seams.check((seam,))
    fake_module.to_json = lambda dict_, pretty=False: ""  # type: ignore[attr-defined]
    seams.check((seam,))  # present, with the parameters expected: passes


def test_a_missing_class_or_module_is_an_error_naming_it(fake_module: types.ModuleType) -> None:
    seam = Seam("pygeoapi.fake_api:APIRequest", "_get_locale", lambda: None, "x", "test")
    with pytest.raises(SeamError, match=r"pygeoapi\.fake_api has no class APIRequest"):
        seams.check((seam,))
    gone = Seam("pygeoapi.no_such_module", "f", lambda: None, "x", "test")
    with pytest.raises(SeamError, match=r"module pygeoapi\.no_such_module cannot be imported"):
        seams.check((gone,))


def test_a_changed_signature_or_kind_is_an_error(fake_module: types.ModuleType) -> None:
    fake_module.parse = lambda text, strict: None  # type: ignore[attr-defined]
    seam = Seam("pygeoapi.fake_api", "parse", filters.parse_filter, "x", "test", ("cql_text",))
    with pytest.raises(SeamError, match=r"takes \(text, strict\).*written for \(cql_text\)"):
        seams.check((seam,))
    fake_module.CLASSES = ("a", "b")  # type: ignore[attr-defined]
    listed = Seam("pygeoapi.fake_api", "CLASSES", ["a"], "x", "test")
    with pytest.raises(SeamError, match=r"expected a list, pygeoapi .* has a tuple"):
        seams.check((listed,))


def test_nothing_is_assigned_when_one_seam_fails(monkeypatch: pytest.MonkeyPatch,
                                                 fake_module: types.ModuleType) -> None:
    fake_module.first = lambda: "pygeoapi's"  # type: ignore[attr-defined]
    ours = Seam("pygeoapi.fake_api", "first", lambda: "ours", "x", "test")
    broken = Seam("pygeoapi.fake_api", "gone", lambda: "ours", "x", "test")
    monkeypatch.setattr(seams, "SEAMS", (ours, broken))
    with pytest.raises(SeamError, match="gone"):
        seams.install()
    assert fake_module.first() == "pygeoapi's"  # type: ignore[attr-defined]


# -- (3) pygeoapi's version -------------------------------------------------------------------

def test_the_tested_version_is_the_pinned_and_installed_one() -> None:
    pinned = re.search(r"^pygeoapi==(\S+)$", (REPO / "constraints.txt").read_text(),
                       re.MULTILINE)
    assert pinned is not None
    assert seams.TESTED_PYGEOAPI == pinned.group(1) == pygeoapi.__version__


def test_another_minor_version_is_an_error_naming_both() -> None:
    with pytest.raises(SeamError, match=r"pygeoapi 0\.25\.0 is installed.*tested on 0\.24\.0"):
        seams.check_version("0.25.0", "0.24.0")
    with pytest.raises(SeamError, match=r"1\.24\.0.*0\.24\.0"):
        seams.check_version("1.24.0", "0.24.0")


def test_another_patch_release_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "geoportal.server"):
        seams.check_version("0.24.0", "0.24.0")
        assert not caplog.records
        seams.check_version("0.24.3", "0.24.0")
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "0.24.3" in caplog.text and "0.24.0" in caplog.text


def test_install_refuses_an_untested_minor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pygeoapi, "__version__", "0.99.0")
    with pytest.raises(SeamError, match=r"0\.99\.0"):
        seams.install()


# -- (4) pygeoapi still calls each replacement ---------------------------------------------------

def test_conformance_lists_are_pygeoapis(client: FlaskClient,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # (the coverage classes are listed only when a coverage layer is published: not here)
    classes = client.get("/conformance?f=json").get_json()["conformsTo"]
    assert {CQL2_JSON, TILES_CORE} <= set(classes) and COVERAGE_JSON not in classes
    _unapply(monkeypatch, _seam("pygeoapi.api.itemtypes.CONFORMANCE_CLASSES_FEATURES"))
    _unapply(monkeypatch, _seam("pygeoapi.api.coverages.CONFORMANCE_CLASSES"))
    plain = client.get("/conformance?lang=en&f=json").get_json()["conformsTo"]
    assert CQL2_JSON not in plain and TILES_CORE not in plain


def test_core_to_json(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    seam = _seam("pygeoapi.api.to_json")
    calls = _spy(monkeypatch, seam)
    ours = client.get("/conformance?f=json&lang=be")
    assert ours.status_code == 200 and calls
    _unapply(monkeypatch, seam)
    error = client.get("/collections/no-such-layer/items/1?f=json&lang=be")
    assert error.status_code == 404 and "\\u" in error.get_data(as_text=True)  # pygeoapi's


def test_items_to_json_writes_utf8(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    seam = _seam("pygeoapi.api.itemtypes.to_json")
    calls = _spy(monkeypatch, seam)
    ours = client.get(f"/collections/{LAYER}/items?f=json&sortby=n")
    assert ours.status_code == 200 and calls
    assert "Мінск" in ours.get_data(as_text=True)
    _unapply(monkeypatch, seam)
    plain = client.get(f"/collections/{LAYER}/items?sortby=n&f=json")
    text = plain.get_data(as_text=True)
    assert "Мінск" not in text and "\\u041c" in text  # pygeoapi escapes it
    assert json.loads(text)["features"][0]["properties"]["name"] == "Мінск"


def test_transform_bbox(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _spy(monkeypatch, _seam("pygeoapi.api.itemtypes.transform_bbox"))
    answer = client.get(f"/collections/{LAYER}/items?f=json&bbox=27,53,28,54")
    assert answer.status_code == 200 and calls
    assert [f["properties"]["n"] for f in answer.get_json()["features"]] == [1]


def test_filter_dict_by_key_value_in_the_routes(client: FlaskClient,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _spy(monkeypatch, _seam("pygeoapi.api.itemtypes.filter_dict_by_key_value"))
    assert client.get(f"/collections/{LAYER}/items?f=json&limit=1").status_code == 200
    assert calls


@pytest.mark.parametrize("module, function, args", [
    ("coverages", "get_collection_coverage", (LAYER,)),
    ("environmental_data_retrieval", "get_collection_edr_instances", (LAYER,)),
    ("maps", "get_oas_30", ()),
    ("tiles", "get_oas_30", ()),
    ("", "describe_collections", ()),
])
def test_filter_dict_by_key_value_in_pygeoapis_other_apis(
        app: Flask, monkeypatch: pytest.MonkeyPatch, module: str, function: str,
        args: tuple) -> None:
    """Not mounted by the portal (pygeoapi's own coverage, EDR, maps and tiles routes), called
    directly: they still look the collection up with the function the seam replaced."""
    import importlib

    name = f"pygeoapi.api.{module}" if module else "pygeoapi.api"
    calls = _spy(monkeypatch, _seam(f"{name}.filter_dict_by_key_value"))
    owner = importlib.import_module(name)
    api = app.extensions["geoportal"]["live"].api
    with app.test_request_context("/?f=json"):
        from flask import request
        if function == "get_oas_30":
            owner.get_oas_30(api.config, l10n.str2locale("en"))
        else:
            getattr(owner, function)(api, APIRequest.from_flask(request, api.locales), *args)
    assert calls


def test_parse_cql2_text_reads_cql2_json(client: FlaskClient,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    seam = _seam("pygeoapi.api.itemtypes.parse_cql2_text")
    calls = _spy(monkeypatch, seam)
    query = {"f": "json", "filter-lang": "cql2-json",
             "filter": json.dumps({"op": "=", "args": [{"property": "n"}, 2]})}
    ours = client.get(f"/collections/{LAYER}/items", query_string=query)
    assert ours.status_code == 200 and calls
    assert [f["properties"]["name"] for f in ours.get_json()["features"]] == ["Брэст"]
    _unapply(monkeypatch, seam)
    plain = client.get(f"/collections/{LAYER}/items", query_string={**query, "lang": "en"})
    assert plain.status_code == 400  # pygeoapi's parser reads CQL2 text only
    assert "parameter" not in plain.get_json()["description"]  # not an unknown parameter's


def test_get_locale_negotiates(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    seam = _seam("pygeoapi.api.APIRequest._get_locale")
    calls = _spy(monkeypatch, seam)
    headers = {"Accept-Language": "ru;q=0, be"}  # pygeoapi's own divides by the q-value
    ours = client.get("/?f=json", headers=headers)
    assert ours.status_code == 200 and calls
    _unapply(monkeypatch, seam)
    plain = client.get("/?f=json&f=json", headers=headers)
    assert plain.status_code == 500


def test_get_exception_speaks_the_language(client: FlaskClient,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    seam = _seam("pygeoapi.api.API.get_exception")
    calls = _spy(monkeypatch, seam)
    path = "/collections/no-such-layer/items/1?f=json"
    ours = client.get(path + "&lang=ru")
    assert ours.status_code == 404 and calls
    _unapply(monkeypatch, seam)
    plain = client.get(path + "&lang=ru&lang=ru")
    assert plain.status_code == 404
    assert ours.get_json()["description"] != plain.get_json()["description"]


def test_page_catalogs_and_link_titles(client: FlaskClient,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[Any] = []
    catalogs = _seam("pygeoapi.util.Translations").replacement

    class Spy(catalogs):  # type: ignore[misc,valid-type]
        @staticmethod
        def load(*args: Any, **kwargs: Any) -> Any:
            loads.append(args)
            return catalogs.load(*args, **kwargs)

    monkeypatch.setattr(pygeoapi_util, "Translations", Spy)
    titles = _spy(monkeypatch, _seam("pygeoapi.l10n.translate_gettext"))
    page = client.get("/conformance?f=html&lang=be")
    assert page.status_code == 200 and loads
    landing = client.get("/?f=json&lang=be").get_json()
    assert titles
    json_link = next(link for link in landing["links"] if link.get("rel") == "self")
    _unapply(monkeypatch, _seam("pygeoapi.l10n.translate_gettext"))
    english = client.get("/?lang=be&f=json").get_json()
    plain_link = next(link for link in english["links"] if link.get("rel") == "self")
    assert plain_link["title"] == "This document as JSON" != json_link["title"]


def test_every_function_seam_has_a_still_called_test() -> None:
    """A seam added to the table without a test here fails this one."""
    tested = set(re.findall(r'_seam\("([^"]+)"\)', Path(__file__).read_text()))
    tested |= {s.name for s in SEAMS if s.attribute == "filter_dict_by_key_value"}
    assert {s.name for s in SEAMS} <= tested


