"""Messages raised by the server (geoportal/server, geoportal/providers): OGC API routes,
filters, tiles, coverages, limits.

Keyed by message id (the English template); see ``geoportal.messages``.
"""

from __future__ import annotations

__all__ = ["SERVER", "SERVER_FRAGMENTS"]

SERVER: dict[str, dict[str, str]] = {
    # -- coverages: the query parameters (coverage_params.py) ------------------------------
    "{param}: unknown axis {name}; this coverage's axes are {x} and {y}": {
        "be": "{param}: невядомая вось {name}; восі гэтага пакрыцця — {x} і {y}",
        "ru": "{param}: неизвестная ось {name}; оси этого покрытия — {x} и {y}"},
    "{param}={text}: expected terms like {example}, separated by commas": {
        "be": "{param}={text}: чакаюцца члены выгляду {example}, праз коску",
        "ru": "{param}={text}: ожидаются члены вида {example}, через запятую"},
    "{param}: {text} is not a number": {"be": "{param}: {text} не з'яўляецца лікам",
                                       "ru": "{param}: {text} не является числом"},
    "{param}: {text} is not a finite number": {
        "be": "{param}: {text} не з'яўляецца канечным лікам",
        "ru": "{param}: {text} не является конечным числом"},
    "{param} {crs} is not offered; use one of {crs_list}": {
        "be": "{param} {crs} не прапануецца; выкарыстоўвайце адну з: {crs_list}",
        "ru": "{param} {crs} не предлагается; используйте одну из: {crs_list}"},
    "bbox {bbox} must be four numbers: minx,miny,maxx,maxy": {
        "be": "bbox {bbox} павінен складацца з чатырох лікаў: minx,miny,maxx,maxy",
        "ru": "bbox {bbox} должен состоять из четырёх чисел: minx,miny,maxx,maxy"},
    "bbox {bbox}: the lower corner must come first (minx,miny,maxx,maxy)": {
        "be": "bbox {bbox}: спачатку павінен ісці ніжні кут (minx,miny,maxx,maxy)",
        "ru": "bbox {bbox}: сначала должен идти нижний угол (minx,miny,maxx,maxy)"},
    "subset: axis {name} is given twice": {"be": "subset: вось {name} зададзена двойчы",
                                           "ru": "subset: ось {name} задана дважды"},
    "subset {term}: the low end must come first": {
        "be": "subset {term}: спачатку павінен ісці ніжні канец",
        "ru": "subset {term}: сначала должен идти нижний конец"},
    "subset {term}: expected low:high or one value": {
        "be": "subset {term}: чакаецца low:high або адно значэнне",
        "ru": "subset {term}: ожидается low:high или одно значение"},
    "use one of scale-size, scale-factor, scale-axes, not {given}": {
        "be": "выкарыстоўвайце адзін з scale-size, scale-factor, scale-axes, а не {given}",
        "ru": "используйте один из scale-size, scale-factor, scale-axes, а не {given}"},
    "properties: no field {name}; this coverage has {names}": {
        "be": "properties: поля {name} няма; у гэтага пакрыцця ёсць {names}",
        "ru": "properties: поля {name} нет; у этого покрытия есть {names}"},
    "properties: name at least one field, e.g. properties=band1": {
        "be": "properties: назавіце хаця б адно поле, напрыклад properties=band1",
        "ru": "properties: укажите хотя бы одно поле, например properties=band1"},
    "use either bbox or a subset on the spatial axes, not both": {
        "be": "выкарыстоўвайце альбо bbox, альбо subset па прасторавых восях, а не абодва",
        "ru": "используйте либо bbox, либо subset по пространственным осям, но не оба"},
    "with subset-crs, give both ends of both axes: an open end (*) has no place in another "
    "CRS": {
        "be": "з subset-crs задайце абодва канцы абедзвюх восей: адкрытаму канцу (*) няма "
              "месца ў іншай СК",
        "ru": "с subset-crs задайте оба конца обеих осей: открытому концу (*) нет места в "
              "другой СК"},
    # -- coverages: the routes (coverages.py) ------------------------------------------------
    "collection {id} holds features, not a coverage: use /collections/{name}/items": {
        "be": "калекцыя {id} змяшчае аб'екты, а не пакрыццё: выкарыстоўвайце "
              "/collections/{name}/items",
        "ru": "коллекция {id} содержит объекты, а не покрытие: используйте "
              "/collections/{name}/items"},
    "f={f} is not offered for a coverage; use GTiff (GeoTIFF) or json (CoverageJSON)": {
        "be": "f={f} для пакрыцця не прапануецца; выкарыстоўвайце GTiff (GeoTIFF) або json "
              "(CoverageJSON)",
        "ru": "f={f} для покрытия не предлагается; используйте GTiff (GeoTIFF) или json "
              "(CoverageJSON)"},
    "rescale={value}: two numbers, low,high": {
        "be": "rescale={value}: два лікі, low,high",
        "ru": "rescale={value}: два числа, low,high"},
    "rescale={value}: low must be below high": {
        "be": "rescale={value}: low павінен быць меншы за high",
        "ru": "rescale={value}: low должен быть меньше high"},
    "CoverageJSON is served up to {limit:,} values and this answer has {cells:,}: ask for "
    "GeoTIFF (f=GTiff), a smaller subset, or scale it down (scale-size, scale-factor)": {
        "be": "CoverageJSON аддаецца да {limit:,} значэнняў, а ў гэтым адказе іх {cells:,}: "
              "запытайце GeoTIFF (f=GTiff), меншы subset або памяншэнне (scale-size, "
              "scale-factor)",
        "ru": "CoverageJSON отдаётся до {limit:,} значений, а в этом ответе их {cells:,}: "
              "запросите GeoTIFF (f=GTiff), меньший subset или уменьшение (scale-size, "
              "scale-factor)"},
    # -- limits and downloads (limits.py, downloads.py) --------------------------------------
    "the server is drawing as many low-zoom tiles as it can at once; try again in {seconds} s": {
        "be": "сервер ужо адначасова малюе столькі тайлаў дробнага маштабу, колькі можа; "
              "паспрабуйце зноў праз {seconds} с",
        "ru": "сервер уже одновременно рисует столько тайлов мелкого масштаба, сколько может; "
              "попробуйте снова через {seconds} с"},
    "download {name} over its budget": {
        "be": "спампоўванне {name} перавысіла адведзены час",
        "ru": "скачивание {name} превысило отведённое время"},
    # issue 19, helper A: the search box (server/search.py) and manifests' `search:`
    "the search text is {n} characters long; at most {limit}: shorten it": {
        "be": "тэкст пошуку мае {n} сімвалаў; найбольш {limit}: скараціце яго",
        "ru": "текст поиска длиной {n} символов; не больше {limit}: сократите его"},
    "limit={value}: a whole number from 1 to {most}": {
        "be": "limit={value}: цэлы лік ад 1 да {most}",
        "ru": "limit={value}: целое число от 1 до {most}"},
    "{origin}: 'search' must be a mapping of kind, name_fields and population_field": {
        "be": "{origin}: 'search' павінна быць слоўнікам з kind, name_fields і "
              "population_field",
        "ru": "{origin}: 'search' должно быть словарём с kind, name_fields и "
              "population_field"},
    "{origin}: unknown search keys {names}; allowed: {allowed}": {
        "be": "{origin}: невядомыя ключы search {names}; дазволены: {allowed}",
        "ru": "{origin}: неизвестные ключи search {names}; разрешены: {allowed}"},
    "{origin}: 'search.kind' {value} is not one of {kinds}": {
        "be": "{origin}: 'search.kind' {value} не адно з {kinds}",
        "ru": "{origin}: 'search.kind' {value} не одно из {kinds}"},
    "{origin}: 'search.name_fields' must list 1 to 10 field names": {
        "be": "{origin}: 'search.name_fields' павінна пералічваць ад 1 да 10 назваў палёў",
        "ru": "{origin}: 'search.name_fields' должно перечислять от 1 до 10 имён полей"},
    "{origin}: 'search.population_field' must be a field name": {
        "be": "{origin}: 'search.population_field' павінна быць назвай поля",
        "ru": "{origin}: 'search.population_field' должно быть именем поля"},
    # issue 19, helper G: manifests' viewer keys (title_field, series; etl/manifest.py)
    "{origin}: 'title_field' must be a field name or a mapping of be/ru/en to field names": {
        "be": "{origin}: 'title_field' павінна быць назвай поля або слоўнікам be/ru/en з "
              "назвамі палёў",
        "ru": "{origin}: 'title_field' должно быть именем поля или словарём be/ru/en с "
              "именами полей"},
    "{origin}: 'series' must be a mapping of id and label": {
        "be": "{origin}: 'series' павінна быць слоўнікам з id і label",
        "ru": "{origin}: 'series' должно быть словарём с id и label"},
    "{origin}: 'series.id' {id} must be 1-63 lowercase letters, digits or dashes": {
        "be": "{origin}: 'series.id' {id} павінна складацца з 1-63 малых лацінскіх літар, "
              "лічбаў або злучкоў",
        "ru": "{origin}: 'series.id' {id} должно состоять из 1-63 строчных латинских букв, "
              "цифр или дефисов"},
    # issue 20: unknown query parameters (query_params.py), the catalog's formats
    "unknown query parameter {names}; {path} takes: {allowed}": {
        "be": "невядомы параметр запыту {names}; {path} прымае: {allowed}",
        "ru": "неизвестный параметр запроса {names}; {path} принимает: {allowed}"},
    "unknown query parameters {names}; {path} takes: {allowed}": {
        "be": "невядомыя параметры запыту {names}; {path} прымае: {allowed}",
        "ru": "неизвестные параметры запроса {names}; {path} принимает: {allowed}"},
    "the catalog is not offered as CSV: ask for f=json, f=jsonld or f=html": {
        "be": "каталог не аддаецца ў CSV: запытвайце f=json, f=jsonld або f=html",
        "ru": "каталог не выдаётся в CSV: запрашивайте f=json, f=jsonld или f=html"},
}

# Phrases that only occur as the nested values of other messages (see geoportal.messages.shared).
SERVER_FRAGMENTS: dict[str, dict[str, str]] = {
}
