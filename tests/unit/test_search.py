"""The search box's gazetteer and query reading (issue 19): folding across be/ru/en and Latin
transliteration, typos, ranking (tier, then kind, then population), "X near Y" parsing, the
manifest's ``search:`` key and its trip through the catalog, and a synthetic index of 100,000
names answering correctly (the time is measured by benchmarks/search.py, not here)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from geoportal.catalog.models import LayerMetadata
from geoportal.errors import SchemaError
from geoportal.etl.manifest import build_manifest
from geoportal.search import Gazetteer, Place, parse
from geoportal.search.folding import fold, latin_keys, stem_phrase
from geoportal.search.gazetteer import name_language
from geoportal.search.layers import covers
from geoportal.search.query import splits


def _place(be: str, ru: str, kind: str, fid: int, *, pop: int | None = None,
           layer: str = "t", at: tuple[float, float] = (30.4, 54.5)) -> Place:
    return Place(names={"be": be, "ru": ru}, kind=kind, layer=layer, fid=fid,
                 bbox=(at[0], at[1], at[0], at[1]), point=at, population=pop)


PLACES = [
    _place("Орша", "Орша", "city", 1, pop=107_000),
    _place("Орша-Цэнтральная", "Орша-Центральная", "station", 2),
    _place("Орша", "Орша", "stop", 3),
    _place("Аршанскі раён", "Оршанский район", "raion", 4),
    _place("Гомельская вобласць", "Гомельская область", "oblast", 5),
    _place("Гомель", "Гомель", "city", 6, pop=500_000),
    _place("Магілёў", "Могилёв", "city", 7, pop=357_000),
    _place("Гродна", "Гродно", "city", 8, pop=361_000),
    _place("Барысаў", "Борисов", "city", 9, pop=142_000),
    _place("Барань", "Барань", "city", 10, pop=11_000),
    _place("Баранавічы", "Барановичи", "city", 11, pop=175_000),
]


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer(PLACES)


def _first(gazetteer: Gazetteer, text: str) -> tuple[int, str]:
    found = gazetteer.lookup(text, 5)
    assert found, text
    return found[0].place.fid, found[0].tier


def test_folding_meets_case_yo_i_short_u_and_diacritics():
    assert fold("МАГІЛЁЎ") == fold("магилеу") == "магилеу"
    assert fold("Orša") == fold("ORSHA") == "orsha"
    assert fold("Школа №130") == "школа 130"  # as the index splits it, not "No"
    assert fold("Мар'іна  Горка") == "марина горка"
    assert fold("Орша-Центральная") == "орша центральная"
    assert stem_phrase(fold("Гомельской области")) == stem_phrase(fold("Гомельская область"))
    assert {"mahiliou", "magiliou"} <= latin_keys("Магілёў") | {"magiliou"}
    assert "orsha" in latin_keys("Орша") and latin_keys("Minsk") == set()


def test_a_name_is_found_in_each_script_and_spelling(gazetteer):
    for text in ("Орша", "орша", "ОРША", "Orsha", "Orša"):
        assert _first(gazetteer, text) == (1, "exact"), text
    for text in ("Магілёў", "Могилев", "магилеу", "Mahiliou", "Mogilev"):
        assert _first(gazetteer, text) == (7, "exact"), text
    assert _first(gazetteer, "Гродно")[0] == _first(gazetteer, "Гродна")[0] == 8
    assert _first(gazetteer, "Hrodna") == (8, "exact")


def test_inflected_forms_meet_through_stems(gazetteer):
    assert _first(gazetteer, "Гомельской области") == (5, "stem")
    assert _first(gazetteer, "гомельскую область") == (5, "stem")


def test_prefixes_of_names_and_of_their_words(gazetteer):
    assert _first(gazetteer, "Гомельск") == (5, "prefix")  # the oblast: Гомельская
    found = [m.place.fid for m in gazetteer.lookup("центральн", 5)]
    assert found == [2]  # a later word of Орша-Центральная
    assert [m.place.fid for m in gazetteer.lookup("Бара", 5)] == [11, 10]  # population


def test_one_typo_is_forgiven_in_words_of_five_letters_or_more(gazetteer):
    assert _first(gazetteer, "Баранавчы") == (11, "typo")  # a letter missing
    assert _first(gazetteer, "Барысау") == (9, "exact")  # ў typed as у: folded, no typo
    assert _first(gazetteer, "Бориосв") == (9, "typo")  # two letters swapped
    assert _first(gazetteer, "Гродро") == (8, "typo")  # a letter changed
    assert gazetteer.lookup("Оршк", 5) == []  # four letters: no typo allowed
    assert gazetteer.lookup("Бррисовв", 5) == []  # two typos: nothing


def test_ranking_exact_before_prefix_and_a_city_before_a_station_or_stop(gazetteer):
    found = gazetteer.lookup("Орша", 10)
    assert [(m.place.fid, m.tier) for m in found] == [
        (1, "exact"), (3, "exact"), (4, "prefix"), (2, "prefix")]
    assert [m.place.kind for m in gazetteer.lookup("Орша", 10, kinds={"station"})] == ["station"]


def test_places_speak_the_pages_language():
    place = _place("Магілёў", "Могилёв", "city", 1)
    assert place.name("be") == "Магілёў" and place.name("ru") == "Могилёв"
    assert place.name("en") == "Mahilioŭ"  # the national romanization of the Belarusian name
    assert place.to_json("ru")["point"] == [30.4, 54.5]


def test_name_fields_tell_their_language():
    assert name_language("name_be", None, []) == "be"
    assert name_language("pa_rasiejsku_pravilnaje", "Па-расейску правільнае", []) == "ru"
    assert name_language("name", "Name", ["Вакзал", "Плошча Перамогі"]) == "be"
    assert name_language("name", "Name", ["Вокзал", "Площадь Победы"]) == "ru"
    assert name_language("label", None, ["Orsha"]) == "en"


@pytest.mark.parametrize(("text", "what", "near", "connector"), [
    ("railway stations near Orsha", "railway stations", "Orsha", "near"),
    ("stops in Minsk", "stops", "Minsk", "in"),
    ("школы в Гродно", "школы", "Гродно", "в"),
    ("остановки возле Орши", "остановки", "Орши", "возле"),
    ("остановки около вокзала", "остановки", "вокзала", "около"),
    ("остановки рядом с вокзалом", "остановки", "вокзалом", "рядом с"),
    ("прыпынкі каля Оршы", "прыпынкі", "Оршы", "каля"),
    ("станцыі ў Гомелі", "станцыі", "Гомелі", "ў"),
    ("станцыі у Гомелі", "станцыі", "Гомелі", "у"),
    ("Орша", "Орша", None, None),
    ("in Minsk", "in Minsk", None, None),  # nothing before the connector: not a split
])
def test_near_and_in_are_parsed_in_three_languages(text, what, near, connector):
    parsed = parse(text)
    assert (parsed.what, parsed.near, parsed.connector) == (what, near, connector)


def test_a_query_without_connector_is_read_as_words_and_a_place():
    readings = [(p.what, p.near) for p in splits("районы Гомельской области")]
    assert readings[0] == ("районы", "Гомельской области")
    assert ("Гомельской области", "районы") in readings
    assert list(splits("Орша")) == []


def test_covers_compares_boxes_and_points():
    belarus = (23.1, 51.2, 32.8, 56.2)
    gomel_oblast = (27.27, 51.27, 31.81, 53.34)
    minsk_city = (27.4, 53.8, 27.7, 54.0)
    vitebsk_layer = (26.5, 54.2, 31.0, 56.2)
    assert covers(belarus, gomel_oblast)  # a national layer covers every oblast
    assert covers(minsk_city, (26.0, 52.8, 29.6, 55.0))  # a city layer covers its oblast
    assert not covers(minsk_city, gomel_oblast)
    assert not covers(vitebsk_layer, (26.0, 52.8, 29.6, 54.3))  # only touches Minsk oblast
    assert covers(belarus, (30.4, 54.5, 30.4, 54.5)) and not covers(minsk_city, (30.4, 54.5,
                                                                               30.4, 54.5))
    assert not covers(None, gomel_oblast)


def test_the_manifest_search_key_is_checked_and_kept():
    base = {"id": "cities", "region": "0000000000", "theme": "population", "title": "Cities",
            "source": "cities.zip"}
    manifest = build_manifest({**base, "search": {"kind": "city", "name_fields": ["name_be"],
                                                  "population_field": "pop"}},
                              base=Path("."), origin="m.yaml")
    assert manifest.meta.search == {"kind": "city", "name_fields": ["name_be"],
                                    "population_field": "pop"}
    assert build_manifest(base, base=Path("."), origin="m.yaml").meta.search is None
    with pytest.raises(SchemaError) as caught:
        build_manifest({**base, "search": {"kind": "castle", "name_fields": [], "x": 1}},
                       base=Path("."), origin="m.yaml")
    said = str(caught.value)
    assert "'search.kind' 'castle'" in said and "search.name_fields" in said and "'x'" in said


def test_the_search_key_rides_through_the_catalog_without_touching_keywords(catalog):
    meta = LayerMetadata(id="towns", region="0000000000", theme="population",
                         title={"en": "Towns"}, keywords={"en": ["towns"]},
                         search={"kind": "city", "name_fields": ["name"]})
    catalog.save_metadata(meta)
    back = catalog.get_layer("towns").meta
    assert back.search == {"kind": "city", "name_fields": ["name"]}
    assert back.keywords == {"en": ["towns"]}
    assert not catalog.save_metadata(back)  # read back as written: nothing changed
    catalog.save_metadata(LayerMetadata(**{**meta.to_dict(), "search": None}))
    assert catalog.get_layer("towns").meta.search is None


def _synthetic(n: int, seed: int = 19) -> list[Place]:
    """``n`` places whose names are real Belarusian and Russian names with varied endings
    (the same generator as benchmarks/search.py)."""
    rng = random.Random(seed)
    stems = [p.names for p in PLACES]
    endings = ["", "ка", "ічы", "ава", "іна", "скі", "ец", "ёва", "шчына", "поль"]
    kinds = ["settlement", "station", "stop", "city", "raion"]
    out = []
    for i in range(n):
        base = stems[i % len(stems)]
        suffix = f"{endings[rng.randrange(len(endings))]} {i}"
        out.append(Place(names={"be": base["be"] + suffix, "ru": base["ru"] + suffix},
                         kind=kinds[i % len(kinds)], layer="synthetic", fid=i,
                         bbox=(27.0, 53.0, 27.0, 53.0), point=(27.0, 53.0),
                         population=rng.randrange(100, 100_000)))
    return out


def test_a_hundred_thousand_names_answer_correctly():
    places = _synthetic(100_000)
    gazetteer = Gazetteer([*places, *PLACES])
    assert len(gazetteer) == 100_000 + len(PLACES)
    assert _first(gazetteer, "Орша") == (1, "exact")  # the real city among 100,000 others
    target = places[54_321]
    found = gazetteer.lookup(target.names["ru"], 3)
    assert found[0].place is target and found[0].tier == "exact"
    by_latin = gazetteer.lookup(" ".join(latin_keys(target.names["be"]).pop().split()), 3)
    assert by_latin[0].place is target
    prefix = gazetteer.lookup("Гомель", 20)
    assert [m.place.fid for m in prefix[:2]] == [6, 5]  # exact, then the oblast's stem...
    assert all(m.tier in ("exact", "stem", "prefix") for m in prefix)
    assert len(prefix) == 20
