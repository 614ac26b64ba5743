"""Romanization of Belarusian and Russian field names (geoportal.etl.romanize)."""

from __future__ import annotations

import pytest

from geoportal.etl.romanize import detect_language, romanize, to_ascii_name

# Examples of the Belarusian instruction (2000, as amended 2007) and well-known town names
# romanized by it.
BELARUSIAN = [
    ("Мінск", "Minsk"),
    ("Магілёў", "Mahilioŭ"),
    ("Гродна", "Hrodna"),
    ("Брэст", "Brest"),
    ("Віцебск", "Viciebsk"),
    ("Гомель", "Homieĺ"),
    ("Жодзіна", "Žodzina"),
    ("Ваўкавыск", "Vaŭkavysk"),
    ("Чачэрск", "Čačersk"),
    ("Шчучын", "Ščučyn"),
    ("Заслаўе", "Zaslaŭje"),
    ("Мазыр", "Mazyr"),
    ("Ляхавічы", "Liachavičy"),
    ("Асіповічы", "Asipovičy"),
    ("Бешанковічы", "Biešankovičy"),
    ("Гаўя", "Haŭja"),
    ("Добруш", "Dobruš"),
    ("Ельск", "Jeĺsk"),
    ("Бабаедава", "Babajedava"),
    ("Венцавічы", "Viencavičy"),
    ("Ёды", "Jody"),
    ("Вераб'ёвічы", "Vierabjovičy"),
    ("Вераб’ёвічы", "Vierabjovičy"),
    ("Мёры", "Miory"),
    ("Зэльва", "Zeĺva"),
    ("Іванава", "Ivanava"),
    ("Іўе", "Iŭje"),
    ("Лагойск", "Lahojsk"),
    ("Круглае", "Kruhlaje"),
    ("Лошыца", "Lošyca"),
    ("Любань", "Liubań"),
    ("Нясвіж", "Niasviž"),
    ("Рагачоў", "Rahačoŭ"),
    ("Смаргонь", "Smarhoń"),
    ("Шаркаўшчына", "Šarkaŭščyna"),
    ("Фаніпаль", "Fanipaĺ"),
    ("Хоцімск", "Chocimsk"),
    ("Цёмны Лес", "Ciomny Lies"),
    ("Чавусы", "Čavusy"),
]


@pytest.mark.parametrize(("cyrillic", "latin"), BELARUSIAN)
def test_belarusian_follows_the_national_system(cyrillic: str, latin: str) -> None:
    assert romanize(cyrillic, "be") == latin


def test_belarusian_soft_sign_marks_dz_and_c_with_acute() -> None:
    assert romanize("дзьмуць", "be") == "dźmuć"
    assert romanize("Колькасць", "be") == "Koĺkasć"


def test_belarusian_iotated_vowel_after_soft_sign_takes_j() -> None:
    assert romanize("Ілья", "be") == "Iĺja"


def test_belarusian_all_caps_stays_all_caps() -> None:
    assert romanize("ГОМЕЛЬ", "be") == "HOMIEĹ"
    assert romanize("ШЧУЧЫН", "be") == "ŠČUČYN"
    assert romanize("ЯЛЬЦЫ", "be") == "JAĹCY"


def test_belarusian_keeps_apostrophe_that_is_not_between_letters() -> None:
    assert romanize("'Мір'", "be") == "'Mir'"


RUSSIAN = [
    ("Наименование", "Naimenovanie"),
    ("Щёлково", "Shchelkovo"),
    ("Объект", "Obieekt"),
    ("Юлия Щеглова", "Iuliia Shcheglova"),
    ("Ян Разъездной", "Ian Razieezdnoi"),
    ("Игорь Ильин", "Igor Ilin"),
    ("Хабаровск", "Khabarovsk"),
    ("Цна", "Tsna"),
    ("Чечерск", "Chechersk"),
    ("Жодино", "Zhodino"),
    ("Эльбрус", "Elbrus"),
    ("Артём Краевой", "Artem Kraevoi"),
    ("Выдный", "Vydnyi"),
]


@pytest.mark.parametrize(("cyrillic", "latin"), RUSSIAN)
def test_russian_follows_the_icao_passport_table(cyrillic: str, latin: str) -> None:
    assert romanize(cyrillic, "ru") == latin


def test_russian_all_caps_digraphs_stay_all_caps() -> None:
    assert romanize("ЩЁЛКОВО", "ru") == "SHCHELKOVO"
    assert romanize("ОКРУГ №", "ru") == "OKRUG №"


def test_romanize_leaves_non_cyrillic_characters_alone() -> None:
    assert romanize("ID_2019, км² (%)", "ru") == "ID_2019, km² (%)"
    assert romanize("Łódź", "be") == "Łódź"


def test_unknown_language_is_rejected() -> None:
    with pytest.raises(ValueError, match="lang"):
        romanize("Мінск", "uk")
    with pytest.raises(ValueError, match="lang"):
        to_ascii_name("Мінск", "pl")


@pytest.mark.parametrize(
    ("names", "lang"),
    [
        (["Назва", "Колькасць жыхароў", "Плошча"], "be"),
        (["Раён", "Вераб'ёвічы"], "be"),
        (["Наименование объекта", "Дата ввода", "ОКРУГ №"], "ru"),
        (["Площадь", "Население"], "ru"),
        (["Аршанскi"], "be"),  # Latin i typed for Belarusian і
        (["Брэст", "Рэчыца"], "be"),  # no і/ў, but рэ and чы are Belarusian only
        (["Брест", "Речица"], "ru"),
    ],
)
def test_detect_language_on_a_layers_field_names(names: list[str], lang: str) -> None:
    assert detect_language(names) == lang


@pytest.mark.parametrize("names", [[], ["Дата", "Код"], ["ID", "NAME", "2019"]])
def test_detect_language_defaults_to_russian_without_evidence(names: list[str]) -> None:
    assert detect_language(names) == "ru"


def test_detect_language_accepts_any_iterable() -> None:
    assert detect_language(n for n in ("Назва", "Вуліца")) == "be"


@pytest.mark.parametrize(
    ("name", "lang", "expected"),
    [
        ("Колькасць жыхароў, чал.", "be", "kolkasc_zhykharow_chal"),
        ("Назва", "be", "nazva"),
        ("Магілёў", "be", "mahiliow"),
        ("Наименование объекта", "ru", "naimenovanie_obieekta"),
        ("ОКРУГ №", "ru", "okrug"),
        ("  Дата ввода ", "ru", "data_vvoda"),
        ("Площадь, м²", "ru", "ploshchad_m2"),
        ("Доля, %", "ru", "dolia"),
        ("2019", "ru", "f_2019"),
        ("2019 год", "ru", "f_2019_god"),
        ("PopTotal", "ru", "pop_total"),
        ("NAME_RU", "ru", "name_ru"),
        ("HTTPServer", "ru", "http_server"),
        ("objectID", "be", "object_id"),
        ("Łódź", "ru", "lodz"),
        ("Straße", "be", "strasse"),
        ("Ąžuolas", "be", "azhuolas"),  # č š ž ŭ fold alike wherever they come from
        ("___", "ru", ""),
        ("", "be", ""),
        ("№ / %", "ru", ""),
        ("НазваРаёна", "be", "nazva_rajona"),
    ],
)
def test_to_ascii_name_makes_snake_case_ascii(name: str, lang: str, expected: str) -> None:
    assert to_ascii_name(name, lang) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Чата", "Цата"),  # č vs c
        ("Шар", "Сар"),  # š vs s
        ("Жыта", "Зыта"),  # ž vs z
        ("Чата", "Хата"),  # č (ch) vs х (2007: ch too)
        ("Баўка", "Баука"),  # ŭ vs u
    ],
)
def test_to_ascii_name_keeps_folded_belarusian_letters_apart(a: str, b: str) -> None:
    assert to_ascii_name(a, "be") != to_ascii_name(b, "be")


def test_to_ascii_name_output_is_a_plain_identifier() -> None:
    names = [n for n, _ in BELARUSIAN] + [n for n, _ in RUSSIAN] + ["Колькасць жыхароў, чал."]
    for name in names:
        for lang in ("be", "ru"):
            out = to_ascii_name(name, lang)
            assert out.isascii()
            assert out == out.lower()
            assert out.replace("_", "").isalnum()
            assert not out.startswith("_") and not out.endswith("_") and "__" not in out
