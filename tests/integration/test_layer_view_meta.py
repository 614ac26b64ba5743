"""The viewer's layer metadata (issue 19) on a real server, on each store: field titles in
the asked language in the queryables and the card, the card's heading field, unit, series and
basemap, the registry's series and basemaps, and a catalog row written before these keys
(no ``_view``, fields without ``titles``) still read."""

from __future__ import annotations

import requests
from sqlalchemy import select, update

from geoportal.catalog import Catalog
from geoportal.catalog import schema as t
from geoportal.catalog.repository import VIEW_KEY
from tests.conftest import LAYERS_DIR, empty_portal, make_settings

portal = empty_portal("viewmeta")


def _ingest(portal, *names: str) -> None:
    for name in names:
        portal.cli("ingest", str(LAYERS_DIR / name))


def _get(portal, path: str, **params: str) -> dict:
    response = requests.get(f"{portal.url}{path}", params=params, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_queryables_title_fields_in_the_asked_language(portal):
    _ingest(portal, "by/railway-stations.yaml")
    titles = {lang: {name: prop.get("title") for name, prop in _get(
        portal, "/collections/railway-stations/queryables", f="json", lang=lang
    )["properties"].items()} for lang in ("be", "ru", "en")}
    assert titles["be"]["voblasc"] == "Вобласць"
    assert titles["ru"]["voblasc"] == "Область"
    assert titles["en"]["voblasc"] == "Oblast"
    assert titles["en"]["kod"] == "Station code"
    # the draft list GDAL reads carries the same titles
    draft = _get(portal, "/collections/railway-stations/queryables", f="json", lang="ru")
    assert {q["id"]: q["title"] for q in draft["queryables"]}["voblasc"] == "Область"
    # a client that asks no language keeps the file's own column names, as before
    plain = _get(portal, "/collections/railway-stations/queryables", f="json")
    assert plain["properties"]["voblasc"]["title"] == "Вобласьць"
    # Accept-Language chooses too
    response = requests.get(f"{portal.url}/collections/railway-stations/queryables",
                            params={"f": "json"}, headers={"Accept-Language": "en"}, timeout=60)
    assert response.json()["properties"]["voblasc"]["title"] == "Oblast"


def test_the_card_names_the_heading_field_and_titles_per_language(portal):
    _ingest(portal, "by/railway-stations.yaml", "by/raions.yaml", "by/cities.yaml")
    for lang, heading in (("be", "pa_bielarusku_pravilnaje"), ("ru", "pa_rasiejsku_pravilnaje"),
                          ("en", "pa_bielarusku_pravilnaje")):
        card = _get(portal, "/portal/cards/railway-stations.json", lang=lang)
        names = [f["name"] for f in card["fields"]]
        assert card["titleField"] == heading, (lang, names)
        assert card["titleField"] in names
    ru = _get(portal, "/portal/cards/railway-stations.json", lang="ru")
    assert {f["name"]: f["title"] for f in ru["fields"]}["voblasc"] == "Область"
    assert {f["name"]: f["type"] for f in ru["fields"]}["kod"] == "integer"
    assert (ru["unit"], ru["series"], ru["basemap"]) == (None, None, False)
    # a field named by its published name; English falls back to be when no name is given
    raions = {lang: _get(portal, "/portal/cards/raions.json", lang=lang)
              for lang in ("be", "ru", "en")}
    assert [raions[lang]["titleField"] for lang in ("be", "ru", "en")] == [
        "name_be", "name_ru", "name_en"]
    assert _get(portal, "/portal/cards/cities.json", lang="en")["titleField"] == "name_be"
    en = {f["name"]: f["title"] for f in raions["en"]["fields"]}
    assert en["soato"] == "Raion SOATO code" and en["name_ru"] == "Name in Russian"


def test_the_rasters_form_a_series_with_units_and_one_is_a_basemap(portal):
    _ingest(portal, "by/night_lights.yaml", "by/night_lights_2013.yaml")
    card = _get(portal, "/portal/cards/night-lights-2024.json", lang="en")
    assert card["unit"] == "nW/cm²/sr" and card["basemap"] is True
    assert card["series"] == {"id": "night-lights", "label": "2024"}
    assert _get(portal, "/portal/cards/night-lights-2024.json", lang="be")["unit"] == \
        "нВт/см²/ср"
    old = _get(portal, "/portal/cards/night-lights-2013.json", lang="ru")
    assert (old["unit"], old["basemap"], old["series"]["label"]) == ("DN (0–63)", False, "2013")
    for lang, title in (("ru", "Ночное освещение Беларуси, 2013 (DMSP)"),
                        ("en", "Night-time lights of Belarus, 2013 (DMSP)")):
        registry = _get(portal, "/portal/registry.json", lang=lang)
        series = {s["id"]: s["layers"] for s in registry["series"]}
        assert [(m["id"], m["label"]) for m in series["night-lights"]] == [
            ("night-lights-2013", "2013"), ("night-lights-2024", "2024")]
        assert series["night-lights"][0]["title"] == title
        assert [(b["id"], b["kind"]) for b in registry["basemaps"]] == [
            ("night-lights-2024", "coverage")]
        assert registry["regions"] and registry["themes"]  # what it said before


def test_an_old_catalog_row_without_view_keys_is_still_read(portal):
    _ingest(portal, "by/oblasts.yaml")
    settings = make_settings(portal.data_dir,
                             database_url=portal.env.get("GEOPORTAL_DATABASE_URL"))
    catalog = Catalog(settings.database_url or "")
    with catalog.engine.begin() as conn:  # as written before issue 19's second round
        keywords = conn.execute(select(t.layers.c.keywords)
                                .where(t.layers.c.id == "oblasts")).scalar_one()
        assert VIEW_KEY in keywords
        keywords = {k: v for k, v in keywords.items() if k != VIEW_KEY}
        conn.execute(update(t.layers).where(t.layers.c.id == "oblasts")
                     .values(keywords=keywords))
        rows = conn.execute(select(t.versions.c.version, t.versions.c.fields)
                            .where(t.versions.c.layer_id == "oblasts")).all()
        for version, fields in rows:
            conn.execute(update(t.versions).where(
                (t.versions.c.layer_id == "oblasts") & (t.versions.c.version == version))
                .values(fields=[{k: v for k, v in f.items() if k != "titles"}
                                for f in fields]))
        conn.execute(update(t.catalog_state).where(t.catalog_state.c.id == 1)
                     .values(generation=t.catalog_state.c.generation + 1))
    assert catalog.get_layer("oblasts").meta.view is None
    card = _get(portal, "/portal/cards/oblasts.json", lang="en")
    assert card["titleField"] is None and card["unit"] is None and card["basemap"] is False
    titles = {f["name"]: f["title"] for f in card["fields"]}
    assert titles["name_en"] == "name_en"  # the original name, the only title it has
    queryables = _get(portal, "/collections/oblasts/queryables", f="json", lang="ru")
    assert queryables["properties"]["soato"]["title"] == "soato"
    assert "oblasts" not in {m["id"] for s in _get(portal, "/portal/registry.json")["series"]
                             for m in s["layers"]}
