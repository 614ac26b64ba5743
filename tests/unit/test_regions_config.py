"""Consistency checks for config/regions.yaml, config/themes.yaml and layers/**/*.yaml."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
REGIONS_FILE = REPO_ROOT / "config" / "regions.yaml"
THEMES_FILE = REPO_ROOT / "config" / "themes.yaml"
LAYERS_DIR = REPO_ROOT / "layers"

LANGS = ("be", "ru", "en")
THEME_IDS = [
    "urban-infrastructure",
    "public-safety",
    "business-environment",
    "housing-communal-services",
    "social-services",
    "citizen-feedback",
    "administrative-boundaries",
    "transport",
    "population",
    "environment",
    "other",
]
LEVELS = {"country", "oblast", "city", "raion", "city-district"}
COUNTRY_CODE = "0000000000"
MINSK_CITY_CODE = "5000000000"
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _load(path: Path):
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def regions() -> list[dict]:
    return _load(REGIONS_FILE)["regions"]


@pytest.fixture(scope="module")
def regions_by_code(regions) -> dict[str, dict]:
    return {r["code"]: r for r in regions}


@pytest.fixture(scope="module")
def themes() -> list[dict]:
    return _load(THEMES_FILE)["themes"]


def _manifests() -> list[Path]:
    return sorted(p for p in LAYERS_DIR.rglob("*.yaml"))


# ----------------------------------------------------------------------------- regions
def test_region_codes_are_ten_digit_strings(regions):
    bad = [
        r["code"]
        for r in regions
        if not (isinstance(r["code"], str) and re.fullmatch(r"\d{10}", r["code"]))
    ]
    assert bad == []


def test_region_codes_are_unique(regions):
    dupes = [code for code, n in Counter(r["code"] for r in regions).items() if n > 1]
    assert dupes == []


def test_region_levels_are_known(regions):
    assert {r["level"] for r in regions} <= LEVELS


def test_only_the_country_has_no_parent(regions):
    roots = [r["code"] for r in regions if r["parent"] is None]
    assert roots == [COUNTRY_CODE]


def test_every_parent_exists(regions, regions_by_code):
    missing = [
        (r["code"], r["parent"])
        for r in regions
        if r["parent"] is not None and r["parent"] not in regions_by_code
    ]
    assert missing == []


def test_register_has_six_oblasts_minsk_city_118_raions_and_9_city_districts(regions):
    counts = Counter(r["level"] for r in regions)
    assert counts == {"country": 1, "oblast": 6, "city": 1, "raion": 118, "city-district": 9}


def test_oblast_and_minsk_city_codes_follow_soato_first_digit(regions):
    top = sorted(r["code"] for r in regions if r["level"] in {"oblast", "city"})
    assert top == [f"{d}000000000" for d in range(1, 8)]
    city = next(r for r in regions if r["level"] == "city")
    assert city["code"] == MINSK_CITY_CODE and city["iso"] == "BY-HM"


def test_raions_belong_to_the_oblast_of_their_first_digit(regions, regions_by_code):
    for r in (r for r in regions if r["level"] == "raion"):
        assert r["parent"] == r["code"][0] + "000000000", r["code"]
        assert regions_by_code[r["parent"]]["level"] == "oblast", r["code"]


def test_minsk_city_districts_have_minsk_city_as_parent_and_its_bbox(regions, regions_by_code):
    minsk = regions_by_code[MINSK_CITY_CODE]
    for r in (r for r in regions if r["level"] == "city-district"):
        assert r["parent"] == MINSK_CITY_CODE
        assert r["bbox"] == minsk["bbox"]


def test_every_region_has_nonempty_names_in_three_languages(regions):
    for r in regions:
        assert set(r["name"]) >= set(LANGS), r["code"]
        for lang in LANGS:
            assert isinstance(r["name"][lang], str) and r["name"][lang].strip(), (r["code"], lang)


def test_region_names_carry_no_stress_marks(regions):
    for r in regions:
        for lang in LANGS:
            assert "\u00b4" not in r["name"][lang] and "\u0301" not in r["name"][lang], r["code"]


def test_every_region_declares_whether_its_soato_code_is_verified(regions):
    assert all(isinstance(r.get("soato_verified"), bool) for r in regions)


def test_bboxes_are_ordered_and_inside_belarus(regions):
    for r in regions:
        minx, miny, maxx, maxy = r["bbox"]
        assert minx < maxx and miny < maxy, r["code"]
        assert minx >= 23.0 and maxx <= 33.5, r["code"]
        assert miny >= 51.0 and maxy <= 56.5, r["code"]


def test_country_bbox_contains_every_other_bbox(regions, regions_by_code):
    cminx, cminy, cmaxx, cmaxy = regions_by_code[COUNTRY_CODE]["bbox"]
    for r in regions:
        minx, miny, maxx, maxy = r["bbox"]
        assert cminx <= minx and cminy <= miny and maxx <= cmaxx and maxy <= cmaxy, r["code"]


# ------------------------------------------------------------------------------ themes
def test_themes_have_the_eleven_ids_in_order(themes):
    assert [t["id"] for t in themes] == THEME_IDS


def test_every_theme_has_nonempty_names_in_three_languages(themes):
    for t in themes:
        for lang in LANGS:
            assert isinstance(t["name"].get(lang), str) and t["name"][lang].strip(), (t["id"], lang)


# --------------------------------------------------------------------------- manifests
def test_layers_directory_holds_manifests():
    assert _manifests(), "no layer manifests under layers/"


@pytest.mark.parametrize("manifest", _manifests(), ids=lambda p: str(p.relative_to(LAYERS_DIR)))
def test_manifest_names_an_existing_region_theme_and_source_file(manifest, regions_by_code, themes):
    m = _load(manifest)
    assert isinstance(m["region"], str) and m["region"] in regions_by_code
    assert m["theme"] in {t["id"] for t in themes}
    assert (manifest.parent / m["source"]["path"]).is_file()


@pytest.mark.parametrize("manifest", _manifests(), ids=lambda p: str(p.relative_to(LAYERS_DIR)))
def test_manifest_texts_are_given_in_three_languages(manifest):
    m = _load(manifest)
    for key in ("title", "description"):
        for lang in LANGS:
            assert isinstance(m[key].get(lang), str) and m[key][lang].strip(), (key, lang)
    for lang in LANGS:
        assert m["keywords"].get(lang), ("keywords", lang)


def test_manifest_ids_are_unique_slugs():
    ids = [_load(p)["id"] for p in _manifests()]
    assert all(SLUG.fullmatch(i) for i in ids), ids
    assert len(ids) == len(set(ids))
