#!/usr/bin/env python3
"""Build the committed sample layers and the region register from the shared data.

Usage::

    python scripts/build_samples.py [--shared /work/shared/data]

``--shared`` defaults to ``../shared/data`` relative to the repository root.

Outputs (all kept small enough to commit):

* ``layers/by/oblasts.geojson``  - 6 oblasts + Minsk city, EPSG:4326 (RFC 7946)
* ``layers/by/raions.gpkg``      - 118 raions, reprojected to EPSG:28405
* ``layers/by/cities.zip``       - 94 cities, zipped Shapefile, EPSG:32635, CP1251 DBF
* ``layers/by/railway_stations.tsv`` - byte-for-byte copy
* ``layers/minsk/minsk_stops.tsv``   - byte-for-byte copy
* ``config/regions.yaml``        - region register keyed by SOATO code
* ``config/boundaries.geojson``  - boundary polygons of 126 regions keyed by SOATO code
  (country, 7 oblasts + Minsk city, 118 raions), CRS84, for the editors' region checks

The manifests (``*.yaml``) and ``SOURCE.md`` files beside the layers are
maintained by hand; this script only checks that they exist.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import LineString, Polygon, shape
from shapely.ops import polygonize, unary_union

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO_ROOT.parent / "shared" / "data"

COUNTRY_CODE = "0000000000"
MINSK_CITY_CODE = "5000000000"
DRYBIN_OSM_RELATION = 70618
DRYBIN_AREA_KM2 = (700.0, 800.0)  # plausibility window for the assembled polygon
SLIVER_KM2 = 0.5  # parts left over by the Drybin cut smaller than this are dropped

GEOD = Geod(ellps="WGS84")

# --------------------------------------------------------------------------------------
# Oblasts (SOATO first digit; ISO 3166-2:BY). English names are the usual exonyms.
# --------------------------------------------------------------------------------------
OBLASTS = {
    # iso: (soato, level, english name)
    "BY-BR": ("1000000000", "oblast", "Brest Oblast"),
    "BY-VI": ("2000000000", "oblast", "Vitebsk Oblast"),
    "BY-HO": ("3000000000", "oblast", "Gomel Oblast"),
    "BY-HR": ("4000000000", "oblast", "Grodno Oblast"),
    "BY-HM": ("5000000000", "city", "Minsk City"),
    "BY-MI": ("6000000000", "oblast", "Minsk Oblast"),
    "BY-MA": ("7000000000", "oblast", "Mogilev Oblast"),
}
MINSK_CITY_NAMES = {"be": "Мінск", "ru": "Минск", "en": "Minsk City"}
MINSK_CITY_OSM_RELATION = 59195  # <Horad osmID="r59195"/> directly under <Kraina>

# --------------------------------------------------------------------------------------
# SOATO codes of the 118 raions (ОКРБ 003 "СОАТО"), keyed by the Russian adjective as
# spelled in admin_hierarchy_osm.xml (without "район"). Source: the DISTRICT table
# (column COD_SOATO; N_DISTRICT = oblast digit + the raion's two SOATO digits) of
# github.com/Valtroel/_ABITURIENT_THE_NEWEST, res/SQLs/db_deanery/dumps/t_DISTRICT.sql
# (commit e260189e5f908edb8d3509a623342f22b6e40316). That table stores the codes as
# single-precision floats (e.g. 1224999936 for 1225000000); each value below was
# restored from N_DISTRICT and cross-checked against the 10-digit SOATO codes of the
# raion centres in t_LOCALITY.sql of the same repository (e.g. Жабинка 1225501000,
# Дрибин 7223551000).
# --------------------------------------------------------------------------------------
RAION_SOATO = {
    # Brest oblast
    "Барановичский": "1204000000",
    "Берёзовский": "1208000000",
    "Брестский": "1212000000",
    "Ганцевичский": "1216000000",
    "Дрогичинский": "1220000000",
    "Жабинковский": "1225000000",
    "Ивановский": "1230000000",
    "Ивацевичский": "1234000000",
    "Каменецкий": "1240000000",
    "Кобринский": "1243000000",
    "Лунинецкий": "1247000000",
    "Ляховичский": "1250000000",
    "Малоритский": "1252000000",
    "Пинский": "1254000000",
    "Пружанский": "1256000000",
    "Столинский": "1258000000",
    # Vitebsk oblast
    "Бешенковичский": "2205000000",
    "Браславский": "2208000000",
    "Верхнедвинский": "2210000000",
    "Витебский": "2212000000",
    "Глубокский": "2215000000",
    "Городокский": "2218000000",
    "Докшицкий": "2221000000",
    "Дубровенский": "2224000000",
    "Лепельский": "2227000000",
    "Лиозненский": "2230000000",
    "Миорский": "2233000000",
    "Оршанский": "2236000000",
    "Полоцкий": "2238000000",
    "Поставский": "2240000000",
    "Россонский": "2242000000",
    "Сенненский": "2244000000",
    "Толочинский": "2246000000",
    "Ушачский": "2249000000",
    "Чашникский": "2251000000",
    "Шарковщинский": "2255000000",
    "Шумилинский": "2258000000",
    # Gomel oblast
    "Брагинский": "3203000000",
    "Буда-Кошелёвский": "3205000000",
    "Ветковский": "3208000000",
    "Гомельский": "3210000000",
    "Добрушский": "3212000000",
    "Ельский": "3214000000",
    "Житковичский": "3216000000",
    "Жлобинский": "3218000000",
    "Калинковичский": "3223000000",
    "Кормянский": "3225000000",
    "Лельчицкий": "3228000000",
    "Лоевский": "3230000000",
    "Мозырский": "3235000000",
    "Наровлянский": "3238000000",
    "Октябрьский": "3240000000",
    "Петриковский": "3243000000",
    "Речицкий": "3245000000",
    "Рогачёвский": "3247000000",
    "Светлогорский": "3250000000",
    "Хойникский": "3254000000",
    "Чечерский": "3256000000",
    # Grodno oblast
    "Берестовицкий": "4204000000",
    "Волковысский": "4208000000",
    "Вороновский": "4213000000",
    "Гродненский": "4220000000",
    "Дятловский": "4223000000",
    "Зельвенский": "4226000000",
    "Ивьевский": "4229000000",
    "Кореличский": "4233000000",
    "Лидский": "4236000000",
    "Мостовский": "4240000000",
    "Новогрудский": "4243000000",
    "Островецкий": "4246000000",
    "Ошмянский": "4249000000",
    "Свислочский": "4252000000",
    "Слонимский": "4254000000",
    "Сморгонский": "4256000000",
    "Щучинский": "4258000000",
    # Minsk oblast
    "Березинский": "6204000000",
    "Борисовский": "6208000000",
    "Вилейский": "6213000000",
    "Воложинский": "6220000000",
    "Дзержинский": "6222000000",
    "Клецкий": "6225000000",
    "Копыльский": "6228000000",
    "Крупский": "6230000000",
    "Логойский": "6232000000",
    "Любанский": "6234000000",
    "Минский": "6236000000",
    "Молодечненский": "6238000000",
    "Мядельский": "6240000000",
    "Несвижский": "6242000000",
    "Пуховичский": "6244000000",
    "Слуцкий": "6246000000",
    "Смолевичский": "6248000000",
    "Солигорский": "6250000000",
    "Стародорожский": "6252000000",
    "Столбцовский": "6254000000",
    "Узденский": "6256000000",
    "Червенский": "6258000000",
    # Mogilev oblast
    "Белыничский": "7204000000",
    "Бобруйский": "7208000000",
    "Быховский": "7213000000",
    "Глусский": "7217000000",
    "Горецкий": "7220000000",
    "Дрибинский": "7223000000",
    "Кировский": "7225000000",
    "Климовичский": "7228000000",
    "Кличевский": "7230000000",
    "Костюковичский": "7235000000",
    "Краснопольский": "7238000000",
    "Кричевский": "7240000000",
    "Круглянский": "7242000000",
    "Могилёвский": "7244000000",
    "Мстиславский": "7246000000",
    "Осиповичский": "7248000000",
    "Славгородский": "7250000000",
    "Хотимский": "7252000000",
    "Чаусский": "7254000000",
    "Чериковский": "7256000000",
    "Шкловский": "7258000000",
}

# geoBoundaries ADM2 shapeName -> Russian adjective in admin_hierarchy_osm.xml.
# The geoBoundaries names are town names; the matching is checked spatially below
# (each raion must fall inside the ADM1 polygon of its oblast).
ADM2_TO_RU = {
    # Brest
    "Baranovichy": "Барановичский",
    "Brest": "Брестский",
    "Byaroza": "Берёзовский",
    "Hantsavichy": "Ганцевичский",
    "Drahichyn": "Дрогичинский",
    "Zhabinka": "Жабинковский",
    "Ivanava": "Ивановский",
    "Ivatsevichy": "Ивацевичский",
    "Kamenets": "Каменецкий",
    "Kobryn": "Кобринский",
    "Luninets": "Лунинецкий",
    "Lyakhavichy": "Ляховичский",
    "Malaryta": "Малоритский",
    "Pinsk": "Пинский",
    "Pruzhany": "Пружанский",
    "Stolin": "Столинский",
    # Vitebsk
    "Orsha": "Оршанский",
    "Beshankovichy": "Бешенковичский",
    "Braslaw": "Браславский",
    "Verkhnyadzvinsk": "Верхнедвинский",
    "Vitebsk": "Витебский",
    "Haradok": "Городокский",
    "Hlybokaye": "Глубокский",
    "Dokshytsy": "Докшицкий",
    "Dubrowna": "Дубровенский",
    "Liozna": "Лиозненский",
    "Lyepyel": "Лепельский",
    "Miory": "Миорский",
    "Pastavy": "Поставский",
    "Polotsk": "Полоцкий",
    "Rasony": "Россонский",
    "Syanno": "Сенненский",
    "Talachyn": "Толочинский",
    "Ushachy": "Ушачский",
    "Chashniki": "Чашникский",
    "Sharkawshchyna": "Шарковщинский",
    "Shumilina": "Шумилинский",
    # Gomel
    "Akciabrski": "Октябрьский",
    "Brahin": "Брагинский",
    "Buda-Kashalyova": "Буда-Кошелёвский",
    "Vietka": "Ветковский",
    "Gomel": "Гомельский",
    "Dobrush": "Добрушский",
    "Yelʹsk": "Ельский",
    "Zhlobin": "Жлобинский",
    "Zhytkavichy": "Житковичский",
    "Kalinkavichy": "Калинковичский",
    "Karma": "Кормянский",
    "Lyelchytsy": "Лельчицкий",
    "Loyew": "Лоевский",
    "Mazyr": "Мозырский",
    "Naroulia": "Наровлянский",
    "Pyetrykaw": "Петриковский",
    "Rahachow": "Рогачёвский",
    "Rechytsa": "Речицкий",
    "Svietlahorsk": "Светлогорский",
    "Khoiniki": "Хойникский",
    "Chachersk": "Чечерский",
    # Grodno
    "Astravyets": "Островецкий",
    "Ashmyany": "Ошмянский",
    "Byerastavitsa": "Берестовицкий",
    "Vawkavysk": "Волковысский",
    "Voranava": "Вороновский",
    "Grodno": "Гродненский",
    "Dzyatlava": "Дятловский",
    "Zel'va": "Зельвенский",
    "Iwye": "Ивьевский",
    "Karelichy": "Кореличский",
    "Lida": "Лидский",
    "Masty": "Мостовский",
    "Novogrudok": "Новогрудский",
    "Svislach": "Свислочский",
    "Slonim": "Слонимский",
    "Smarhon": "Сморгонский",
    "Shchuchyn": "Щучинский",
    # Mogilev (Drybin is missing from geoBoundaries)
    "Asipovichy": "Осиповичский",
    "Babruysk": "Бобруйский",
    "Bykhaw": "Быховский",
    "Byalynichy": "Белыничский",
    "Hlusk": "Глусский",
    "Horki": "Горецкий",
    "Kastsyukovichy": "Костюковичский",
    "Kirawsk": "Кировский",
    "Klimavichy": "Климовичский",
    "Klichaw": "Кличевский",
    "Krasnapolle": "Краснопольский",
    "Kruhlaye": "Круглянский",
    "Krychaw": "Кричевский",
    "Mogilev": "Могилёвский",
    "Mstsislaw": "Мстиславский",
    "Slawharad": "Славгородский",
    "Khotsimsk": "Хотимский",
    "Chavusy": "Чаусский",
    "Cherykaw": "Чериковский",
    "Shklow": "Шкловский",
    # Minsk
    "Barysaw": "Борисовский",
    "Byerazino": "Березинский",
    "Valozhyn": "Воложинский",
    "Vileyka": "Вилейский",
    "Dzyarzhynsk": "Дзержинский",
    "Kapyl": "Копыльский",
    "Kletsk": "Клецкий",
    "Krupki": "Крупский",
    "Lahoysk": "Логойский",
    "Lyuban": "Любанский",
    "Maladzyechna": "Молодечненский",
    "Minsk": "Минский",
    "Myadzyel": "Мядельский",
    "Nyasvizh": "Несвижский",
    "Puchavičy": "Пуховичский",
    "Salihorsk": "Солигорский",
    "Slutsk": "Слуцкий",
    "Smalyavichy": "Смолевичский",
    "Staryya Darohi": "Стародорожский",
    "Stowbtsy": "Столбцовский",
    "Uzda": "Узденский",
    "Chervyen": "Червенский",
}
# geoBoundaries spellings that mix romanisation systems or carry stray characters.
EN_FIXES = {"Yelʹsk": "Yelsk", "Zel'va": "Zelva", "Puchavičy": "Pukhavichy"}
DRYBIN_EN = "Drybin"  # OSM relation 70618 name:en "Drybin District"

# Minsk city's nine districts (raions of the city). No SOATO source was found, so these
# keys are PROVISIONAL: "5" + "2" + two-digit index in Russian alphabetical order +
# "000000", flagged soato_verified: false.
MINSK_DISTRICTS = [
    # (ru, be, en)
    ("Заводской район", "Заводскі раён", "Zavodski District"),
    ("Ленинский район", "Ленінскі раён", "Leninski District"),
    ("Московский район", "Маскоўскі раён", "Maskowski District"),
    ("Октябрьский район", "Кастрычніцкі раён", "Kastrychnitski District"),
    ("Партизанский район", "Партызанскі раён", "Partyzanski District"),
    ("Первомайский район", "Першамайскі раён", "Pershamayski District"),
    ("Советский район", "Савецкі раён", "Savyetski District"),
    ("Фрунзенский район", "Фрунзенскі раён", "Frunzenski District"),
    ("Центральный район", "Цэнтральны раён", "Tsentralny District"),
]


@dataclass
class Region:
    code: str
    level: str
    parent: str | None
    name: dict[str, str]
    bbox: list[float]
    iso: str | None = None
    osm_relation: int | None = None
    soato_verified: bool = True
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def strip_accents(text: str) -> str:
    """Remove the stress marks (U+00B4 acute, U+0301 combining acute) used in the XML."""
    return text.replace("\u00b4", "").replace("\u0301", "").strip()


def bbox_outward(geom) -> list[float]:
    minx, miny, maxx, maxy = geom.bounds
    return [
        math.floor(minx * 1000) / 1000,
        math.floor(miny * 1000) / 1000,
        math.ceil(maxx * 1000) / 1000,
        math.ceil(maxy * 1000) / 1000,
    ]


def geod_area_km2(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6


def reproject(geoms, dst_epsg: int):
    tr = Transformer.from_crs("EPSG:4326", f"EPSG:{dst_epsg}", always_xy=True)

    def _xy(coords):
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(np.asarray(geoms, dtype=object), _xy)


def load_geojson(path: Path):
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)["features"]


def parse_hierarchy(path: Path):
    """Return {iso: oblast dict}, raions keyed by Russian adjective, country relation."""
    root = ET.parse(path).getroot()
    country_rel = int(root.get("osmID").lstrip("r"))
    oblasts, raions = {}, {}
    for vob in root.findall("Voblasc"):
        iso = vob.get("iso3166-2")
        oblasts[iso] = {
            "osm": int(vob.get("osmID").lstrip("r")),
            "be": strip_accents(vob.get("name_be")),
            "ru": strip_accents(vob.get("name_ru")),
        }
        for raj in vob.findall("Rajon"):
            ru = strip_accents(raj.get("name_ru"))
            # one raion carries a corrected Belarusian spelling (Мёрскі for Міёрскі)
            be = strip_accents(raj.get("name_be_correct") or raj.get("name_be"))
            key = ru.removesuffix(" район")
            raions[key] = {"iso": iso, "osm": int(raj.get("osmID").lstrip("r")), "be": be, "ru": ru}
    return oblasts, raions, country_rel


def assemble_drybin(path: Path):
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    rel = next(
        e for e in data["elements"] if e["type"] == "relation" and e["id"] == DRYBIN_OSM_RELATION
    )
    outer = [
        LineString([(p["lon"], p["lat"]) for p in m["geometry"]])
        for m in rel["members"]
        if m["type"] == "way" and m["role"] == "outer"
    ]
    polys = list(polygonize(unary_union(outer)))
    if not polys:
        raise SystemExit("Drybin: outer ways do not close into a ring")
    geom = unary_union(polys)
    if not geom.is_valid:
        raise SystemExit(f"Drybin: assembled polygon is invalid: {shapely.is_valid_reason(geom)}")
    area = geod_area_km2(geom)
    if not DRYBIN_AREA_KM2[0] <= area <= DRYBIN_AREA_KM2[1]:
        raise SystemExit(f"Drybin: implausible area {area:.1f} km2")
    return geom, area, len(outer), rel["tags"]


def drop_slivers(geom):
    """Keep polygon parts of at least SLIVER_KM2 (after the Drybin cut)."""
    parts = list(getattr(geom, "geoms", [geom]))
    parts = [p for p in parts if p.geom_type == "Polygon" and geod_area_km2(p) >= SLIVER_KM2]
    return unary_union(parts)


# --------------------------------------------------------------------------------------
# builders
# --------------------------------------------------------------------------------------
def build_oblasts(shared: Path, out_dir: Path, hierarchy):
    oblast_names, _, _ = hierarchy
    feats = load_geojson(shared / "boundaries" / "gb-BLR-ADM1.geojson")
    rows, geoms = [], []
    for f in sorted(feats, key=lambda f: OBLASTS[f["properties"]["shapeISO"]][0]):
        iso = f["properties"]["shapeISO"]
        soato, _level, en = OBLASTS[iso]
        names = MINSK_CITY_NAMES if iso == "BY-HM" else {**oblast_names[iso], "en": en}
        rows.append(
            {
                "soato": soato,
                "iso": iso,
                "name_be": names["be"],
                "name_ru": names["ru"],
                "name_en": en,
            }
        )
        geoms.append(shape(f["geometry"]))
    if len(rows) != 7:
        raise SystemExit(f"ADM1: expected 7 features, got {len(rows)}")
    out = out_dir / "oblasts.geojson"
    out.unlink(missing_ok=True)
    write_layer(
        out,
        geoms,
        rows,
        driver="GeoJSON",
        crs="EPSG:4326",
        geometry_type="Polygon",
        layer="oblasts",
        layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": "6", "WRITE_NAME": "NO"},
    )
    return {r["iso"]: (r, g) for r, g in zip(rows, geoms, strict=True)}


def build_raions(shared: Path, out_dir: Path, hierarchy, oblast_geoms):
    _, raion_names, _ = hierarchy
    feats = load_geojson(shared / "boundaries" / "gb-BLR-ADM2.geojson")
    drybin, drybin_area, n_ways, _tags = assemble_drybin(shared / "boundaries" / "drybin_osm.json")

    records = []  # (row, geom_wgs84, osm_relation)
    cut_report = []
    seen = set()
    for f in feats:
        en_src = f["properties"]["shapeName"]
        if en_src == "Minsk City":
            continue
        ru_key = ADM2_TO_RU[en_src]
        if ru_key in seen:
            raise SystemExit(f"ADM2: {ru_key} matched twice")
        seen.add(ru_key)
        info = raion_names[ru_key]
        geom = shape(f["geometry"])
        # geoBoundaries folds Drybin into its neighbours (mostly Horki and Shklow);
        # cut the OSM Drybin polygon out so the 118 raions do not overlap.
        if geom.intersects(drybin):
            overlap = geod_area_km2(geom.intersection(drybin))
            if overlap > 0.01:
                geom = drop_slivers(shapely.make_valid(geom.difference(drybin)))
                cut_report.append((en_src, round(overlap, 1)))
        # spatial check of the name match: the raion lies in its oblast
        _row, ob_geom = oblast_geoms[info["iso"]]
        if not ob_geom.contains(geom.representative_point()):
            raise SystemExit(f"ADM2: {en_src} is not inside {info['iso']}")
        en = EN_FIXES.get(en_src, en_src) + " District"
        row = _raion_row(ru_key, info, en)
        records.append((row, geom, info["osm"]))

    info = raion_names["Дрибинский"]
    records.append((_raion_row("Дрибинский", info, f"{DRYBIN_EN} District"), drybin, info["osm"]))
    missing = set(raion_names) - seen - {"Дрибинский"}
    if missing or len(records) != 118:
        raise SystemExit(f"raions: expected 118, got {len(records)}; unmatched {sorted(missing)}")
    records.sort(key=lambda r: r[0]["soato"])

    rows = [r[0] for r in records]
    geoms_wgs = [
        shapely.geometry.MultiPolygon([g]) if g.geom_type == "Polygon" else g for _, g, _ in records
    ]
    geoms_gk = reproject(geoms_wgs, 28405)
    out = out_dir / "raions.gpkg"
    out.unlink(missing_ok=True)
    # fixed GeoPackage timestamps, so that a rebuild gives identical bytes
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2024-01-01T00:00:00.000Z"})
    write_layer(
        out,
        geoms_gk,
        rows,
        driver="GPKG",
        crs="EPSG:28405",
        geometry_type="MultiPolygon",
        layer="raions",
    )
    return records, drybin_area, n_ways, cut_report


def _raion_row(ru_key: str, info: dict, en: str) -> dict:
    soato = RAION_SOATO[ru_key]
    return {
        "soato": soato,
        "oblast_soato": soato[0] + "000000000",
        "name_be": info["be"],
        "name_ru": info["ru"],
        "name_en": en,
    }


def build_cities(shared: Path, out_dir: Path):
    feats = load_geojson(shared / "settlements" / "settlements_94_cities.geojson")
    rows, geoms = [], []
    for f in feats:
        p = f["properties"]
        rows.append(
            {
                "city_id": p["city_id"],
                "name_ru": p["name_ru"],
                "name_be": p["name_be"],
                "settl_type": p["settlement_type"],
                "raion_id": p["parent_district_id"],
                "oblast_iso": p["parent_region_id"],
                "pop2019": np.int32(p["pop_census2019"]),
                "pop_latest": np.int32(p["pop_latest"]),
                "pop_year": np.int32(p["pop_latest_year"]),
            }
        )
        geoms.append(shape(f["geometry"]))
    if len(rows) != 94:
        raise SystemExit(f"cities: expected 94, got {len(rows)}")
    geoms_utm = reproject(geoms, 32635)
    out = out_dir / "cities.zip"
    with tempfile.TemporaryDirectory() as tmp:
        shp_dir = Path(tmp) / "cities"
        shp_dir.mkdir()
        write_layer(
            shp_dir / "cities.shp",
            geoms_utm,
            rows,
            driver="ESRI Shapefile",
            crs="EPSG:32635",
            geometry_type="Point",
            layer="cities",
            encoding="cp1251",
        )
        cpg = (shp_dir / "cities.cpg").read_text().strip()
        if cpg not in {"1251", "CP1251"}:
            raise SystemExit(f"cities: unexpected .cpg content {cpg!r}")
        # read back with no encoding hint: GDAL must pick CP1251 up from the .cpg
        _, _, _, back = pyogrio.raw.read(shp_dir / "cities.shp", read_geometry=False)
        if list(back[1]) != [r["name_ru"] for r in rows]:
            raise SystemExit("cities: Cyrillic names do not survive the CP1251 round trip")
        out.unlink(missing_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for ext in ("shp", "shx", "dbf", "prj", "cpg"):
                src = shp_dir / f"cities.{ext}"
                info = zipfile.ZipInfo(f"cities/cities.{ext}", date_time=(2024, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, src.read_bytes())
    return len(rows)


def write_layer(
    path, geoms, rows, *, driver, crs, geometry_type, layer, encoding=None, layer_options=None
):
    names = list(rows[0].keys())
    field_data = []
    for name in names:
        values = [r[name] for r in rows]
        if isinstance(values[0], np.integer):
            field_data.append(np.asarray(values, dtype=np.int32))
        else:
            field_data.append(np.asarray(values, dtype=object))
    pyogrio.raw.write(
        str(path),
        geometry=shapely.to_wkb(np.asarray(geoms, dtype=object)),
        field_data=field_data,
        fields=names,
        layer=layer,
        driver=driver,
        geometry_type=geometry_type,
        crs=crs,
        encoding=encoding,
        layer_options=layer_options,
    )


def copy_bytes(src: Path, dst: Path):
    shutil.copyfile(src, dst)
    if src.read_bytes() != dst.read_bytes():
        raise SystemExit(f"copy of {src} differs")


# --------------------------------------------------------------------------------------
# regions.yaml
# --------------------------------------------------------------------------------------
REGIONS_HEADER = """\
# Region register of the geoportal, keyed by SOATO code (ОКРБ 003 "Система обозначений
# административно-территориальных объектов", 10 digits; first digit = oblast:
# 1 Brest, 2 Vitebsk, 3 Gomel, 4 Grodno, 5 Minsk city, 6 Minsk oblast, 7 Mogilev).
#
# GENERATED by scripts/build_samples.py - edit the script, not this file.
#
# Sources
# - Hierarchy, Belarusian and Russian names, OSM relation ids:
#   boundaries/admin_hierarchy_osm.xml - OSM Belarus community (OsmBelarus/Databases,
#   2018), ODbL 1.0. Stress marks (´) stripped; for Miory raion the file's
#   name_be_correct ("Мёрскі раён") is used instead of name_be ("Міёрскі раён").
# - English raion names: geoBoundaries gbOpen BLR ADM2 shapeName (commit 9469f09, via
#   the BY_maps project), "geoBoundaries / (c) OpenStreetMap contributors", ODbL 1.0,
#   with " District" appended; three spellings normalised (Yelʹsk -> Yelsk,
#   Zel'va -> Zelva, Puchavičy -> Pukhavichy). Drybin: OSM relation 70618 name:en.
#   Minsk city districts: romanised Belarusian names as used by English Wikipedia
#   ("Administrative divisions of Minsk").
# - bbox: lon/lat bounds rounded outward to 3 decimals, from gb-BLR-ADM1.geojson
#   (oblasts, Minsk city; country = union of the seven), gb-BLR-ADM2.geojson (raions,
#   after cutting out Drybin) and boundaries/drybin_osm.json (Drybin; (c) OpenStreetMap
#   contributors, ODbL 1.0). Minsk city districts carry Minsk city's bbox.
# - ISO 3166-2:BY codes: ISO 3166-2 (as listed in /work/shared/data/SOURCES.md).
# - SOATO codes:
#   * country "0000000000": project convention (SOATO has no code for the country).
#   * oblasts and Minsk city: the X000000000 oblast codes of SOATO.
#   * 118 raions: DISTRICT table (COD_SOATO, N_DISTRICT) of the public repository
#     github.com/Valtroel/_ABITURIENT_THE_NEWEST, res/SQLs/db_deanery/dumps/t_DISTRICT.sql
#     (commit e260189e5f908edb8d3509a623342f22b6e40316); float-rounded values restored
#     from N_DISTRICT and cross-checked with the raion centres' codes in t_LOCALITY.sql.
#   * Minsk city's 9 districts: NO verified source found. Their keys 5201000000 ...
#     5209000000 are PROVISIONAL ("5" + "2" + index in Russian alphabetical order +
#     "000000") and marked soato_verified: false. Replace them once checked against
#     ОКРБ 003 (Belstat / Госстандарт).
"""


def q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def region_yaml(r: Region) -> str:
    lines = [f"  - code: {q(r.code)}", f"    level: {r.level}"]
    lines.append(f"    parent: {q(r.parent) if r.parent else 'null'}")
    if r.iso:
        lines.append(f"    iso: {r.iso}")
    if r.osm_relation:
        lines.append(f"    osm_relation: {r.osm_relation}")
    lines.append(f"    soato_verified: {'true' if r.soato_verified else 'false'}")
    lines.append(
        f"    name: {{be: {q(r.name['be'])}, ru: {q(r.name['ru'])}, en: {q(r.name['en'])}}}"
    )
    lines.append("    bbox: [" + ", ".join(f"{v:.3f}" for v in r.bbox) + "]")
    return "\n".join(lines)


def build_regions(path: Path, hierarchy, oblast_geoms, raion_records):
    oblast_names, _, country_rel = hierarchy
    regions: list[Region] = []
    country_geom = unary_union([g for _, g in oblast_geoms.values()])
    regions.append(
        Region(
            COUNTRY_CODE,
            "country",
            None,
            {"be": "Беларусь", "ru": "Беларусь", "en": "Belarus"},
            bbox_outward(country_geom),
            osm_relation=country_rel,
        )
    )
    for iso, (row, geom) in sorted(oblast_geoms.items(), key=lambda kv: kv[1][0]["soato"]):
        soato, level, _en = OBLASTS[iso]
        osm = MINSK_CITY_OSM_RELATION if iso == "BY-HM" else oblast_names[iso]["osm"]
        regions.append(
            Region(
                soato,
                level,
                COUNTRY_CODE,
                {"be": row["name_be"], "ru": row["name_ru"], "en": row["name_en"]},
                bbox_outward(geom),
                iso=iso,
                osm_relation=osm,
            )
        )
    for row, geom, osm in raion_records:
        regions.append(
            Region(
                row["soato"],
                "raion",
                row["oblast_soato"],
                {"be": row["name_be"], "ru": row["name_ru"], "en": row["name_en"]},
                bbox_outward(geom),
                osm_relation=osm,
            )
        )
    minsk_bbox = bbox_outward(oblast_geoms["BY-HM"][1])
    for i, (ru, be, en) in enumerate(MINSK_DISTRICTS, start=1):
        regions.append(
            Region(
                f"52{i:02d}000000",
                "city-district",
                MINSK_CITY_CODE,
                {"be": be, "ru": ru, "en": en},
                minsk_bbox,
                soato_verified=False,
            )
        )
    codes = [r.code for r in regions]
    if len(set(codes)) != len(codes):
        raise SystemExit("regions: duplicate codes")
    text = REGIONS_HEADER + "\nregions:\n" + "\n".join(region_yaml(r) for r in regions) + "\n"
    path.write_text(text, encoding="utf-8")
    return len(regions)


# --------------------------------------------------------------------------------------
# boundaries.geojson
# --------------------------------------------------------------------------------------
BOUNDARY_DECIMALS = 5  # about 1 m; the editors' check allows a tolerance of hundreds
BOUNDARIES_MEMBERS = {
    "description": (
        "Boundaries of the regions of config/regions.yaml, one feature per SOATO code "
        "(property 'code'; names are in regions.yaml): the country 0000000000 (union of the "
        "oblasts), the 6 oblasts and Minsk city, the 118 raions. Minsk city districts (52xx) "
        "have none: use Minsk city's. Used to keep editors' features inside their regions. "
        "GENERATED by scripts/build_samples.py - edit the script, not this file."
    ),
    "attribution": (
        "geoBoundaries / (c) OpenStreetMap contributors (country, oblasts, Minsk city, raions); "
        "(c) OpenStreetMap contributors (Drybin raion)"
    ),
    "license": "ODbL-1.0",
    "license_url": "https://opendatacommons.org/licenses/odbl/1-0/",
    "sources": [
        "boundaries/gb-BLR-ADM1.geojson: geoBoundaries gbOpen BLR ADM1 (commit 9469f09, via the "
        "BY_maps project); holes no other oblast fills (lakes, e.g. Naroch) are filled",
        "boundaries/gb-BLR-ADM2.geojson: geoBoundaries gbOpen BLR ADM2, 117 raions, with "
        "Drybin cut out (see layers/by/SOURCE.md)",
        "boundaries/drybin_osm.json: OSM relation 70618, Drybin raion",
    ],
    "notes": (
        "Coordinates rounded to 5 decimals (snapped with shapely.set_precision, so the "
        "polygons stay valid); exterior rings counterclockwise (RFC 7946)."
    ),
}


def fill_unclaimed_holes(geom, others):
    """Fill the holes of ``geom`` that no geometry in ``others`` covers (lakes).

    geoBoundaries ADM1 leaves Lake Naroch and the Vileyka reservoir as holes of Minsk oblast
    while ADM2 keeps them inside their raions; Minsk city's hole in Minsk oblast stays.
    """
    parts, filled = [], []
    for part in getattr(geom, "geoms", [geom]):
        keep = []
        for ring in part.interiors:
            inside = Polygon(ring).representative_point()
            if any(o.contains(inside) for o in others):
                keep.append(ring)
            else:
                filled.append(geod_area_km2(Polygon(ring)))
        parts.append(Polygon(part.exterior, keep))
    return unary_union(parts), filled


def _rounded(coords):
    if isinstance(coords[0], float | int):
        return [round(float(v), BOUNDARY_DECIMALS) for v in coords]
    return [_rounded(c) for c in coords]


def boundary_feature(code: str, geom) -> dict:
    geom = shapely.set_precision(geom, 10**-BOUNDARY_DECIMALS)
    geom = shapely.orient_polygons(geom, exterior_cw=False)
    if geom.is_empty or not geom.is_valid or geom.geom_type not in {"Polygon", "MultiPolygon"}:
        raise SystemExit(f"boundaries: {code} is empty or invalid after rounding")
    gj = shapely.geometry.mapping(geom)
    return {
        "type": "Feature",
        "properties": {"code": code},
        "geometry": {"type": gj["type"], "coordinates": _rounded(gj["coordinates"])},
    }


def build_boundaries(path: Path, oblast_geoms, raion_records):
    """Write ``config/boundaries.geojson``: country, oblasts + Minsk city, raions by SOATO."""
    oblasts = {OBLASTS[iso][0]: geom for iso, (_row, geom) in oblast_geoms.items()}
    lakes = []
    for code, geom in list(oblasts.items()):
        others = [g for c, g in oblasts.items() if c != code]
        oblasts[code], filled = fill_unclaimed_holes(geom, others)
        lakes += filled
    geoms = {COUNTRY_CODE: unary_union(list(oblasts.values())), **oblasts}
    geoms.update((row["soato"], geom) for row, geom, _osm in raion_records)
    if len(geoms) != 126:
        raise SystemExit(f"boundaries: expected 126 regions, got {len(geoms)}")
    head = {
        "type": "FeatureCollection",
        "name": "boundaries",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        **BOUNDARIES_MEMBERS,
    }
    compact = {"ensure_ascii": False, "separators": (",", ":")}
    # compact JSON, one feature per line: a changed boundary is one changed line in a diff
    lines = [json.dumps(boundary_feature(code, geoms[code]), **compact) for code in sorted(geoms)]
    text = json.dumps(head, **compact)[:-1] + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8")
    return len(geoms), lakes


# --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared data directory")
    args = ap.parse_args(argv)
    shared = args.shared.resolve()
    if not (shared / "SOURCES.md").is_file():
        ap.error(f"{shared} does not look like the shared data directory (no SOURCES.md)")

    by_dir = REPO_ROOT / "layers" / "by"
    minsk_dir = REPO_ROOT / "layers" / "minsk"
    by_dir.mkdir(parents=True, exist_ok=True)
    minsk_dir.mkdir(parents=True, exist_ok=True)

    hierarchy = parse_hierarchy(shared / "boundaries" / "admin_hierarchy_osm.xml")
    oblast_geoms = build_oblasts(shared, by_dir, hierarchy)
    raion_records, drybin_area, n_ways, cuts = build_raions(shared, by_dir, hierarchy, oblast_geoms)
    n_cities = build_cities(shared, by_dir)
    copy_bytes(shared / "transport" / "railway_stations.tsv", by_dir / "railway_stations.tsv")
    copy_bytes(shared / "transport" / "minsk_stops.tsv", minsk_dir / "minsk_stops.tsv")
    n_regions = build_regions(
        REPO_ROOT / "config" / "regions.yaml", hierarchy, oblast_geoms, raion_records
    )
    boundaries_path = REPO_ROOT / "config" / "boundaries.geojson"
    n_boundaries, lakes = build_boundaries(boundaries_path, oblast_geoms, raion_records)

    print(f"Drybin: {n_ways} outer ways -> valid polygon, {drybin_area:.1f} km2")
    print("Drybin cut out of: " + ", ".join(f"{n} ({a} km2)" for n, a in cuts))
    print(f"cities: {n_cities}; regions.yaml: {n_regions} entries")
    print(f"boundaries.geojson: {n_boundaries} regions; oblast holes filled (lakes): "
          + ", ".join(f"{a:.1f} km2" for a in lakes))
    for p in sorted(
        [*by_dir.iterdir(), *minsk_dir.iterdir(), REPO_ROOT / "config" / "regions.yaml",
         boundaries_path]
    ):
        size = p.stat().st_size
        flag = "  TOO BIG" if size >= 2 * 1024 * 1024 else ""
        print(f"  {p.relative_to(REPO_ROOT)}  {size:,} B{flag}")
    for manifest in ("oblasts.yaml", "raions.yaml", "cities.yaml", "railway-stations.yaml"):
        if not (by_dir / manifest).is_file():
            print(f"  warning: manifest layers/by/{manifest} is missing", file=sys.stderr)
    if not (minsk_dir / "stops.yaml").is_file():
        print("  warning: manifest layers/minsk/stops.yaml is missing", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
