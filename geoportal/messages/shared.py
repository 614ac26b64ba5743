"""Messages several parts of the portal raise, and the phrases nested in other messages.

Keyed by message id (the English template); see ``geoportal.messages``. ``FRAGMENTS`` are phrases
that only occur inside other messages (the values of the ``NESTED`` placeholders, such as
``{what}`` or ``{holds}``): a raise site passes them as ``tr(...)`` values too, and a text that
arrives without its id is never matched against them as a whole message, where a short pattern
like ``layer {id}`` would catch too much.
"""

from __future__ import annotations

__all__ = ["NESTED", "SHARED", "SHARED_FRAGMENTS"]

# Placeholders whose values are texts themselves, translated in turn.
NESTED = frozenset({"detail", "reason", "holds", "holds2", "hint", "what", "where", "media",
                    "state", "noun"})

SHARED: dict[str, dict[str, str]] = {
    # -- features, records, downloads ------------------------------------------------------
    "collection {id} not found": {"be": "калекцыя {id} не знойдзена",
                                  "ru": "коллекция {id} не найдена"},
    "feature {id} not found": {"be": "аб'ект {id} не знойдзены", "ru": "объект {id} не найден"},
    "record {id} not found": {"be": "запіс {id} не знойдзены", "ru": "запись {id} не найдена"},
    "q (free-text search) is not supported here": {
        "be": "q (пошук па тэксце) тут не падтрымліваецца",
        "ru": "q (полнотекстовый поиск) здесь не поддерживается"},
    "the layer could not be read": {"be": "пласт не ўдалося прачытаць",
                                    "ru": "слой не удалось прочитать"},
    "datetime: this collection has no date or time field": {
        "be": "datetime: у гэтай калекцыі няма поля даты або часу",
        "ru": "datetime: в этой коллекции нет поля даты или времени"},
    "datetime {text}: give an RFC 3339 date or date-time, or an interval start/end with '..' "
    "for an open end": {
        "be": "datetime {text}: задайце дату або дату з часам паводле RFC 3339 ці інтэрвал "
              "пачатак/канец ('..' — адкрыты канец)",
        "ru": "datetime {text}: задайте дату или дату со временем по RFC 3339 либо интервал "
              "начало/конец ('..' — открытый конец)"},
    "crs {crs} is not offered; use one of {crs_list}": {
        "be": "crs {crs} не прапануецца; выкарыстоўвайце адну з: {crs_list}",
        "ru": "crs {crs} не предлагается; используйте одну из: {crs_list}"},
    "bbox {bbox} must be four numbers: minlon,minlat,maxlon,maxlat": {
        "be": "bbox {bbox} павінен складацца з чатырох лікаў: minlon,minlat,maxlon,maxlat",
        "ru": "bbox {bbox} должен состоять из четырёх чисел: minlon,minlat,maxlon,maxlat"},
    "bbox {bbox} must be minlon,minlat,maxlon,maxlat": {
        "be": "bbox {bbox} павінен мець выгляд minlon,minlat,maxlon,maxlat",
        "ru": "bbox {bbox} должен иметь вид minlon,minlat,maxlon,maxlat"},
    "f={f}: download as one of {formats}": {
        "be": "f={f}: спампаваць можна ў адным з фарматаў: {formats}",
        "ru": "f={f}: скачать можно в одном из форматов: {formats}"},
    "filter-crs: downloads take filter geometries in CRS84 (lon/lat)": {
        "be": "filter-crs: пры спампоўванні геаметрыі фільтра задаюцца ў CRS84 "
              "(даўгата/шырата)",
        "ru": "filter-crs: при скачивании геометрии фильтра задаются в CRS84 "
              "(долгота/широта)"},

    # -- vector tiles ----------------------------------------------------------------------
    "collection {id} has no vector tiles": {"be": "у калекцыі {id} няма вектарных тайлаў",
                                            "ru": "у коллекции {id} нет векторных тайлов"},
    "tile matrix set {id} not found; offered: {offered}": {
        "be": "набор матрыц тайлаў {id} не знойдзены; ёсць: {offered}",
        "ru": "набор матриц тайлов {id} не найден; есть: {offered}"},
    "tileMatrix, tileRow and tileCol must be whole numbers": {
        "be": "tileMatrix, tileRow і tileCol павінны быць цэлымі лікамі",
        "ru": "tileMatrix, tileRow и tileCol должны быть целыми числами"},
    "no tile {z}/{y}/{x} in {tms} (zoom 0 to {max}, row and column from 0 to 2^zoom - 1)": {
        "be": "тайла {z}/{y}/{x} у {tms} няма (маштаб ад 0 да {max}, радок і слупок ад 0 да "
              "2^zoom - 1)",
        "ru": "тайла {z}/{y}/{x} в {tms} нет (масштаб от 0 до {max}, строка и столбец от 0 до "
              "2^zoom - 1)"},

    # -- filters: the parameters, CQL2 text, the translation to SQL ------------------------
    "filter-lang {lang} is not supported; use cql2-text (the default) or cql2-json": {
        "be": "filter-lang {lang} не падтрымліваецца; выкарыстоўвайце cql2-text (па "
              "змаўчанні) або cql2-json",
        "ru": "filter-lang {lang} не поддерживается; используйте cql2-text (по умолчанию) или "
              "cql2-json"},
    "filter is empty; give a CQL2 expression such as name = 'Мінск'": {
        "be": "filter пусты; задайце выраз CQL2, напрыклад name = 'Мінск'",
        "ru": "filter пуст; задайте выражение CQL2, например name = 'Мінск'"},
    "filter is not {expected} although filter-lang says so": {
        "be": "filter не ў фармаце {expected}, хоць так сказана ў filter-lang",
        "ru": "filter не в формате {expected}, хотя так указано в filter-lang"},
    "filter is not valid JSON: {error} at character {pos}": {
        "be": "filter — няправільны JSON: {error}, сімвал {pos}",
        "ru": "filter — некорректный JSON: {error}, символ {pos}"},
    "filter is not valid {expected}: {detail}": {
        "be": "filter — няправільны {expected}: {detail}",
        "ru": "filter — некорректный {expected}: {detail}"},
    "the filter is nested too deeply": {"be": "у фільтры занадта глыбокая ўкладзенасць",
                                        "ru": "фильтр слишком глубоко вложен"},
    "the filter ends too early (a missing value or ')'?)": {
        "be": "фільтр абрываецца раней часу (не хапае значэння або ')'?)",
        "ru": "фильтр обрывается раньше времени (не хватает значения или ')'?)"},
    "unexpected {found} at character {pos}": {
        "be": "незразумелы фрагмент {found} на пазіцыі {pos}",
        "ru": "непонятный фрагмент {found} в позиции {pos}"},
    "unexpected at character {pos}": {"be": "памылка на пазіцыі {pos}",
                                      "ru": "ошибка в позиции {pos}"},
    "TRUE or FALSE alone is not a filter; compare a property": {
        "be": "TRUE або FALSE самі па сабе не фільтр; параўнайце з імі ўласцівасць",
        "ru": "TRUE или FALSE сами по себе не фильтр; сравните с ними свойство"},
    "{value} is a value, not a condition (compare it with something)": {
        "be": "{value} — гэта значэнне, а не ўмова (параўнайце яго з чымсьці)",
        "ru": "{value} — это значение, а не условие (сравните его с чем-нибудь)"},
    "{fn}({arg}) is not a valid {kind}": {"be": "{fn}({arg}) — няправільнае значэнне {kind}",
                                          "ru": "{fn}({arg}) — некорректное значение {kind}"},
    "INTERVAL{args}: each end is a date, a timestamp or '..'": {
        "be": "INTERVAL{args}: кожны канец — дата, момант часу або '..'",
        "ru": "INTERVAL{args}: каждый конец — дата, момент времени или '..'"},
    "the geometry {wkt} is not valid WKT: {error}": {
        "be": "геаметрыя {wkt} — няправільны WKT: {error}",
        "ru": "геометрия {wkt} — некорректный WKT: {error}"},
    "BBOX takes minx, miny, maxx, maxy (CRS84) with min <= max": {
        "be": "BBOX прымае minx, miny, maxx, maxy (CRS84), дзе min <= max",
        "ru": "BBOX принимает minx, miny, maxx, maxy (CRS84), где min <= max"},
    "S_DWITHIN takes a distance in metres, a number >= 0": {
        "be": "S_DWITHIN прымае адлегласць у метрах, лік >= 0",
        "ru": "S_DWITHIN принимает расстояние в метрах, число >= 0"},
    "{what} works on the geometry property ('geometry')": {
        "be": "{what} працуе з уласцівасцю геаметрыі ('geometry')",
        "ru": "{what} работает со свойством геометрии ('geometry')"},
    "{what}: the geometry literal is not valid GeoJSON/WKT": {
        "be": "{what}: геаметрыя ў фільтры — няправільны GeoJSON/WKT",
        "ru": "{what}: геометрия в фильтре — некорректный GeoJSON/WKT"},
    "{what} compares the geometry property with a geometry literal": {
        "be": "{what} параўноўвае ўласцівасць геаметрыі з геаметрыяй, зададзенай у фільтры",
        "ru": "{what} сравнивает свойство геометрии с геометрией, заданной в фильтре"},
    "{what}: the geometry literal is not valid ({reason})": {
        "be": "{what}: геаметрыя ў фільтры няправільная ({reason})",
        "ru": "{what}: геометрия в фильтре некорректна ({reason})"},
    "S_DWITHIN: the geometry is outside lon/lat bounds": {
        "be": "S_DWITHIN: геаметрыя па-за межамі даўгаты і шыраты",
        "ru": "S_DWITHIN: геометрия вне допустимых долготы и широты"},
    "numbers in filters must be finite": {"be": "лікі ў фільтрах павінны быць канечнымі",
                                          "ru": "числа в фильтрах должны быть конечными"},
    "the number {value} is too large": {"be": "лік {value} занадта вялікі",
                                        "ru": "число {value} слишком велико"},
    "IS NULL needs a property": {"be": "IS NULL патрабуе ўласцівасць",
                                 "ru": "IS NULL требует свойство"},
    "{what} is not supported in filters": {"be": "{what}: не падтрымліваецца ў фільтрах",
                                           "ru": "{what}: не поддерживается в фильтрах"},
    "the geometry can only be used in spatial predicates such as S_INTERSECTS or BBOX": {
        "be": "геаметрыю можна выкарыстоўваць толькі ў прасторавых прэдыкатах, такіх як "
              "S_INTERSECTS або BBOX",
        "ru": "геометрию можно использовать только в пространственных предикатах, таких как "
              "S_INTERSECTS или BBOX"},
    "field '{name}' has the type '{type}', which filters do not support": {
        "be": "поле '{name}' мае тып '{type}', які фільтры не падтрымліваюць",
        "ru": "поле '{name}' имеет тип '{type}', который фильтры не поддерживают"},
    "a geometry can only be used in spatial predicates": {
        "be": "геаметрыю можна выкарыстоўваць толькі ў прасторавых прэдыкатах",
        "ru": "геометрию можно использовать только в пространственных предикатах"},
    "{what} cannot be used as a value": {"be": "{what}: нельга выкарыстоўваць як значэнне",
                                         "ru": "{what}: нельзя использовать как значение"},
    "unsupported value in the filter: {value}": {
        "be": "непадтрымоўванае значэнне ў фільтры: {value}",
        "ru": "неподдерживаемое значение в фильтре: {value}"},
    "unknown property '{name}'; the queryable properties are: {names}": {
        "be": "невядомая ўласцівасць '{name}'; для фільтра даступныя: {names}",
        "ru": "неизвестное свойство '{name}'; для фильтра доступны: {names}"},
    "CASEI works on text only": {"be": "CASEI працуе толькі з тэкстам",
                                 "ru": "CASEI работает только с текстом"},
    "ACCENTI (accent-insensitive comparison) is not supported; use CASEI or LIKE": {
        "be": "ACCENTI (параўнанне без уліку дыякрытыкі) не падтрымліваецца; выкарыстоўвайце "
              "CASEI або LIKE",
        "ru": "ACCENTI (сравнение без учёта диакритики) не поддерживается; используйте CASEI "
              "или LIKE"},
    "arithmetic (+ - * /) works on numbers only": {
        "be": "арыфметыка (+ - * /) працуе толькі з лікамі",
        "ru": "арифметика (+ - * /) работает только с числами"},
    "an INTERVAL can only be used in temporal predicates such as T_INTERSECTS or T_DURING": {
        "be": "INTERVAL можна выкарыстоўваць толькі ў часавых прэдыкатах, такіх як "
              "T_INTERSECTS або T_DURING",
        "ru": "INTERVAL можно использовать только во временных предикатах, таких как "
              "T_INTERSECTS или T_DURING"},
    "{holds}; compare it with {hint}": {"be": "{holds}; параўноўвайце яго з {hint}",
                                        "ru": "{holds}; сравнивайте его с {hint}"},
    "a comparison ({op}) needs a property on at least one side": {
        "be": "параўнанню ({op}) патрэбна ўласцівасць хоць з аднаго боку",
        "ru": "сравнению ({op}) нужно свойство хотя бы с одной стороны"},
    "{holds} and {holds2}: they cannot be compared": {
        "be": "{holds}, а {holds2}: іх нельга параўнаць",
        "ru": "{holds}, а {holds2}: их нельзя сравнить"},
    "the timestamp {value} is out of range": {
        "be": "момант часу {value} па-за дапушчальнымі межамі",
        "ru": "момент времени {value} вне допустимого диапазона"},
    "LIKE works on text properties": {"be": "LIKE працуе з тэкставымі ўласцівасцямі",
                                      "ru": "LIKE работает с текстовыми свойствами"},
    "LIKE works on text properties; {holds}": {
        "be": "LIKE працуе з тэкставымі ўласцівасцямі; {holds}",
        "ru": "LIKE работает с текстовыми свойствами; {holds}"},
    "the pattern of LIKE must be a quoted string": {
        "be": "шаблон LIKE павінен быць радком у апострофах",
        "ru": "шаблон LIKE должен быть строкой в апострофах"},
    "LIKE pattern {pattern}: {reason}": {"be": "шаблон LIKE {pattern}: {reason}",
                                         "ru": "шаблон LIKE {pattern}: {reason}"},
    "IN compares a property with a list of values": {
        "be": "IN параўноўвае ўласцівасць са спісам значэнняў",
        "ru": "IN сравнивает свойство со списком значений"},
    "{name} is not a CQL2 temporal function": {
        "be": "{name} не з'яўляецца часавай функцыяй CQL2",
        "ru": "{name} не является временной функцией CQL2"},
    "{name} works on date and timestamp properties": {
        "be": "{name} працуе з уласцівасцямі-датамі і момантамі часу",
        "ru": "{name} работает со свойствами-датами и моментами времени"},
    "{name} works on date and timestamp properties; {holds}": {
        "be": "{name} працуе з уласцівасцямі-датамі і момантамі часу; {holds}",
        "ru": "{name} работает со свойствами-датами и моментами времени; {holds}"},
    "{name} compares a property with a DATE, TIMESTAMP or INTERVAL": {
        "be": "{name} параўноўвае ўласцівасць з DATE, TIMESTAMP або INTERVAL",
        "ru": "{name} сравнивает свойство с DATE, TIMESTAMP или INTERVAL"},
    "the filter has too many values": {"be": "у фільтры занадта шмат значэнняў",
                                       "ru": "в фильтре слишком много значений"},

    # -- editing (OGC API - Features Part 4) -------------------------------------------------
    "send the feature as application/geo+json (got {media})": {
        "be": "дашліце аб'ект як application/geo+json (атрымана: {media})",
        "ru": "отправьте объект как application/geo+json (получено: {media})"},
    "the body is over {n} MiB: publish large sets of features as an upload "
    "(POST /admin/layers)": {
        "be": "цела запыту большае за {n} МіБ: вялікія наборы аб'ектаў публікуйце загрузкай "
              "(POST /admin/layers)",
        "ru": "тело запроса больше {n} МиБ: большие наборы объектов публикуйте загрузкой "
              "(POST /admin/layers)"},
    "the body is over {n} MiB": {"be": "цела запыту большае за {n} МіБ",
                                 "ru": "тело запроса больше {n} МиБ"},
    "Content-Crs {crs} is not supported; use one of {crs_list}": {
        "be": "Content-Crs {crs} не падтрымліваецца; выкарыстоўвайце адну з: {crs_list}",
        "ru": "Content-Crs {crs} не поддерживается; используйте одну из: {crs_list}"},
    "the FeatureCollection has no 'features' to add": {
        "be": "у FeatureCollection няма 'features' для дадання",
        "ru": "в FeatureCollection нет 'features' для добавления"},
    "at most {n} features per request; publish more as an upload": {
        "be": "не больш за {n} аб'ектаў за запыт; больш публікуйце загрузкай",
        "ru": "не более {n} объектов за запрос; больше публикуйте загрузкой"},
    "the request has no body: send a GeoJSON feature": {
        "be": "у запыце няма цела: дашліце аб'ект GeoJSON",
        "ru": "у запроса нет тела: отправьте объект GeoJSON"},
    "the body is not UTF-8 text (byte {n})": {
        "be": "цела запыту — не тэкст UTF-8 (байт {n})",
        "ru": "тело запроса — не текст UTF-8 (байт {n})"},
    "the body is not valid JSON: {error} at line {line}, column {col}": {
        "be": "цела запыту — няправільны JSON: {error}, радок {line}, слупок {col}",
        "ru": "тело запроса — некорректный JSON: {error}, строка {line}, столбец {col}"},
    "the body is nested too deeply": {"be": "у целе запыту занадта глыбокая ўкладзенасць",
                                      "ru": "тело запроса слишком глубоко вложено"},
    '{where} must be a GeoJSON Feature ({"type": "Feature", "geometry": ..., '
    '"properties": {...}})': {
        "be": '{where}: патрэбны GeoJSON Feature ({"type": "Feature", "geometry": ..., '
              '"properties": {...}})',
        "ru": '{where}: нужен GeoJSON Feature ({"type": "Feature", "geometry": ..., '
              '"properties": {...}})'},
    "{where}: 'properties' must be an object or null": {
        "be": "{where}: 'properties' павінна быць аб'ектам JSON або null",
        "ru": "{where}: 'properties' должно быть объектом JSON или null"},
    "{where}: 'geometry' is missing (null for a feature without one)": {
        "be": "{where}: няма 'geometry' (для аб'екта без геаметрыі — null)",
        "ru": "{where}: нет 'geometry' (для объекта без геометрии — null)"},
    "{where}: 'geometry' must be a GeoJSON geometry object ({types}) or null": {
        "be": "{where}: 'geometry' павінна быць геаметрыяй GeoJSON ({types}) або null",
        "ru": "{where}: 'geometry' должно быть геометрией GeoJSON ({types}) или null"},
    "{where}: the geometry cannot be read: {error}": {
        "be": "{where}: геаметрыю немагчыма прачытаць: {error}",
        "ru": "{where}: геометрию невозможно прочитать: {error}"},
    "{where}: the geometry has coordinates that are not numbers": {
        "be": "{where}: у геаметрыі ёсць каардынаты, якія не з'яўляюцца лікамі",
        "ru": "{where}: в геометрии есть координаты, которые не являются числами"},
    "{where}: the geometry's coordinates are outside {crs}": {
        "be": "{where}: каардынаты геаметрыі па-за межамі {crs}",
        "ru": "{where}: координаты геометрии вне границ {crs}"},
    "collection {id} is a coverage: only vector layers can be edited feature by feature": {
        "be": "калекцыя {id} — растравае пакрыццё: па аб'ектах можна рэдагаваць толькі "
              "вектарныя пласты",
        "ru": "коллекция {id} — растровое покрытие: по объектам можно редактировать только "
              "векторные слои"},
    "a feature of this layer needs a geometry ({type})": {
        "be": "аб'екту гэтага пласта патрэбна геаметрыя ({type})",
        "ru": "объекту этого слоя нужна геометрия ({type})"},
    "the geometry cannot be published: {reason}": {
        "be": "геаметрыю нельга апублікаваць: {reason}",
        "ru": "геометрию нельзя опубликовать: {reason}"},
    "{what} lies outside the boundary of token {id}'s regions ({names})": {
        "be": "{what} ляжыць за межамі рэгіёнаў токена {id} ({names})",
        "ru": "{what} лежит за границами регионов токена {id} ({names})"},
    "feature {fid} has changed since it was read (its ETag is now {etag}): fetch it again and "
    "repeat the edit": {
        "be": "аб'ект {fid} змяніўся пасля таго, як яго прачыталі (цяпер яго ETag {etag}): "
              "прачытайце яго зноў і паўтарыце змяненне",
        "ru": "объект {fid} изменился после того, как его прочитали (теперь его ETag {etag}): "
              "прочитайте его снова и повторите правку"},
    "layer {id} is changing too fast to edit (tried {n} times); try again": {
        "be": "пласт {id} змяняецца занадта часта (спроб: {n}); паспрабуйце зноў",
        "ru": "слой {id} меняется слишком часто (попыток: {n}); попробуйте снова"},

    # -- tokens, regions, the admin API --------------------------------------------------------
    "this needs a token: send 'Authorization: Bearer <token>'": {
        "be": "патрэбны токен: дашліце 'Authorization: Bearer <токен>'",
        "ru": "нужен токен: отправьте 'Authorization: Bearer <токен>'"},
    "the token is not one of this portal's (gpt_<id>_<secret>)": {
        "be": "гэта не токен гэтага партала (gpt_<id>_<secret>)",
        "ru": "это не токен этого портала (gpt_<id>_<secret>)"},
    "the token is not valid": {"be": "токен несапраўдны", "ru": "токен недействителен"},
    "token {id} is {state}": {"be": "токен {id}: {state}", "ru": "токен {id}: {state}"},
    "token {id} ({region}) may not write {what} of region {code} ({name})": {
        "be": "токен {id} ({region}) не можа змяняць {what} рэгіёна {code} ({name})",
        "ru": "токен {id} ({region}) не может изменять {what} региона {code} ({name})"},
    "role {role}: use admin or editor": {"be": "роля {role}: выкарыстоўвайце admin або editor",
                                         "ru": "роль {role}: используйте admin или editor"},
    "no token {id} (see `geoportal token list`)": {
        "be": "токена {id} няма (гл. `geoportal token list`)",
        "ru": "токена {id} нет (см. `geoportal token list`)"},
    "unknown region {code}: use a SOATO code from config/regions.yaml (e.g. 0000000000 for "
    "Belarus, 5000000000 for Minsk city)": {
        "be": "невядомы рэгіён {code}: выкарыстоўвайце код СААТА з config/regions.yaml "
              "(напрыклад, 0000000000 — Беларусь, 5000000000 — г. Мінск)",
        "ru": "неизвестный регион {code}: используйте код СОАТО из config/regions.yaml "
              "(например, 0000000000 — Беларусь, 5000000000 — г. Минск)"},
    "send the layer's manifest (YAML or JSON) in a 'manifest' field with the data file in a "
    "'file' field": {
        "be": "дашліце маніфест пласта (YAML або JSON) у полі 'manifest', а файл даных — у "
              "полі 'file'",
        "ru": "отправьте манифест слоя (YAML или JSON) в поле 'manifest', а файл данных — в "
              "поле 'file'"},
    "the manifest is not valid YAML or JSON: {error}": {
        "be": "маніфест — няправільны YAML або JSON: {error}",
        "ru": "манифест — некорректный YAML или JSON: {error}"},
    "the manifest must be a mapping (id, region, theme, title, ...)": {
        "be": "маніфест павінен быць слоўнікам (id, region, theme, title, ...)",
        "ru": "манифест должен быть словарём (id, region, theme, title, ...)"},
    "no layer {id}": {"be": "пласта {id} няма", "ru": "слоя {id} нет"},
    "the manifest needs 'id' and 'region'": {"be": "у маніфесце патрэбны 'id' і 'region'",
                                             "ru": "в манифесте нужны 'id' и 'region'"},
    "send the data file in a 'file' field (multipart/form-data)": {
        "be": "дашліце файл даных у полі 'file' (multipart/form-data)",
        "ru": "отправьте файл данных в поле 'file' (multipart/form-data)"},
    "layer {id} already has an upload in progress (job {job}, {state}); wait for it, then "
    "upload again": {
        "be": "для пласта {id} ужо ідзе загрузка (задача {job}, {state}); дачакайцеся яе і "
              "загрузіце зноў",
        "ru": "для слоя {id} уже идёт загрузка (задача {job}, {state}); дождитесь её и "
              "загрузите снова"},
    'send {"version": N} with the version to make current': {
        "be": 'дашліце {"version": N} з нумарам версіі, якую зрабіць бягучай',
        "ru": 'отправьте {"version": N} с номером версии, которую сделать текущей'},
    "layer {id} has an upload in progress (job {job}); wait for it, then delete": {
        "be": "для пласта {id} ідзе загрузка (задача {job}); дачакайцеся яе, потым выдаляйце",
        "ru": "для слоя {id} идёт загрузка (задача {job}); дождитесь её, затем удаляйте"},
    "only admin tokens may read the audit log": {
        "be": "журнал аўдыту могуць чытаць толькі токены admin",
        "ru": "журнал аудита могут читать только токены admin"},
    "limit must be a whole number": {"be": "limit павінен быць цэлым лікам",
                                     "ru": "limit должен быть целым числом"},

    # -- budgets: query time, CQL2 limits, tiles (issue 15, storage) -------------------
    "limit={limit}: the features of this page hold more than {cap} vertices, the most one page "
    "may carry; ask for fewer features per page, such as limit={suggest}": {
        "be": "limit={limit}: аб'екты гэтай старонкі маюць больш за {cap} вяршынь, а больш "
              "адна старонка змясціць не можа; запытайце менш аб'ектаў на старонку, напрыклад "
              "limit={suggest}",
        "ru": "limit={limit}: объекты этой страницы содержат больше {cap} вершин, а больше "
              "одна страница вместить не может; запросите меньше объектов на страницу, "
              "например limit={suggest}"},
    "the query took longer than {s} s, the most one request may take; narrow it (a smaller "
    "bbox, a more selective filter, a smaller limit) and try again": {
        "be": "запыт выконваўся даўжэй за {s} с, а больш аднаму запыту нельга; удакладніце "
              "яго (меншы bbox, больш дакладны фільтр, меншы limit) і паспрабуйце зноў",
        "ru": "запрос выполнялся дольше {s} с, а дольше одному запросу нельзя; уточните его "
              "(меньший bbox, более точный фильтр, меньший limit) и попробуйте снова"},
    "the filter is nested more than {n} levels deep (NOT, parentheses, functions); write it "
    "more simply": {
        "be": "фільтр мае больш за {n} узроўняў укладзенасці (NOT, дужкі, функцыі); запішыце "
              "яго прасцей",
        "ru": "у фильтра больше {n} уровней вложенности (NOT, скобки, функции); запишите его "
              "проще"},
    "the filter has more than {n} parts (properties, values, operators); split it into "
    "several requests": {
        "be": "фільтр мае больш за {n} частак (уласцівасці, значэнні, аператары); падзяліце яго "
              "на некалькі запытаў",
        "ru": "в фильтре больше {n} частей (свойства, значения, операторы); разделите его на "
              "несколько запросов"},
    "the filter is longer than {n} characters; write it more simply or split the request": {
        "be": "фільтр даўжэйшы за {n} знакаў; запішыце яго прасцей або падзяліце запыт",
        "ru": "фильтр длиннее {n} символов; запишите его проще или разделите запрос"},
    "an IN list may hold up to {n} values": {
        "be": "спіс IN можа мець да {n} значэнняў",
        "ru": "список IN может содержать до {n} значений"},
    "a text value in the filter is longer than {n} characters": {
        "be": "тэкставае значэнне ў фільтры даўжэйшае за {n} знакаў",
        "ru": "текстовое значение в фильтре длиннее {n} символов"},
    "a geometry in the filter has more than {n} vertices; simplify it or use a bbox": {
        "be": "геаметрыя ў фільтры мае больш за {n} вяршынь; спрасціце яе або ўжывайце bbox",
        "ru": "геометрия в фильтре содержит больше {n} вершин; упростите её или используйте "
              "bbox"},
    "S_DWITHIN distances may be up to {km} km ({m} m); for a larger area use S_INTERSECTS "
    "with a polygon, or a bbox": {
        "be": "адлегласць у S_DWITHIN можа быць да {km} км ({m} м); для большай тэрыторыі "
              "ўжывайце S_INTERSECTS з палігонам або bbox",
        "ru": "расстояние в S_DWITHIN может быть до {km} км ({m} м); для большей территории "
              "используйте S_INTERSECTS с полигоном или bbox"},
    "text values in a filter cannot hold the NUL character (%00)": {
        "be": "тэкставыя значэнні ў фільтры не могуць мець знак NUL (%00)",
        "ru": "текстовые значения в фильтре не могут содержать символ NUL (%00)"},
    "{name}: the value holds the NUL character (%00), which no text can hold": {
        "be": "{name}: значэнне мае знак NUL (%00), якога не можа быць у тэксце",
        "ru": "{name}: значение содержит символ NUL (%00), которого не может быть в тексте"},
    "{name}={value}: expected a date such as 2024-05-01": {
        "be": "{name}={value}: чакаецца дата, напрыклад 2024-05-01",
        "ru": "{name}={value}: ожидается дата, например 2024-05-01"},
    "{name}={value}: expected a date-time such as 2024-05-01T10:30:00Z": {
        "be": "{name}={value}: чакаюцца дата і час, напрыклад 2024-05-01T10:30:00Z",
        "ru": "{name}={value}: ожидаются дата и время, например 2024-05-01T10:30:00Z"},
    "{name}={value}: give a date (2024-05-01) or an RFC 3339 date-time "
    "(2024-05-01T10:30:00Z)": {
        "be": "{name}={value}: укажыце дату (2024-05-01) або дату і час RFC 3339 "
              "(2024-05-01T10:30:00Z)",
        "ru": "{name}={value}: укажите дату (2024-05-01) или дату и время RFC 3339 "
              "(2024-05-01T10:30:00Z)"},
    "bbox must be four finite numbers: minlon,minlat,maxlon,maxlat": {
        "be": "bbox павінен складацца з чатырох канечных лікаў: minlon,minlat,maxlon,maxlat",
        "ru": "bbox должен состоять из четырёх конечных чисел: minlon,minlat,maxlon,maxlat"},

    # -- slow and many clients: rate limits, busy routes, header/body limits (issue 15) --
    "the server is busy with other heavy requests (filters, sorted, deep or dated pages, "
    "coverages, low-zoom tiles); try again in {seconds} s": {
        "be": "сервер заняты іншымі цяжкімі запытамі (фільтры, сартаваныя, далёкія або "
              "датаваныя старонкі, пакрыцці, тайлы дробных маштабаў); паспрабуйце зноў праз "
              "{seconds} с",
        "ru": "сервер занят другими тяжёлыми запросами (фильтры, отсортированные, дальние или "
              "датированные страницы, покрытия, тайлы мелких масштабов); попробуйте снова "
              "через {seconds} с"},
    "one address may run at most {share} heavy requests (filters, sorted, deep or dated "
    "pages, coverages, low-zoom tiles) at once on this server, and yours already does; try "
    "again in {seconds} s": {
        "be": "з аднаго адраса на гэтым серверы можна выконваць адначасова не больш за "
              "{share} цяжкіх запытаў (фільтры, сартаваныя, далёкія або датаваныя старонкі, "
              "пакрыцці, тайлы дробных маштабаў), і з вашага ўжо выконваецца столькі; "
              "паспрабуйце зноў праз {seconds} с",
        "ru": "с одного адреса на этом сервере можно выполнять одновременно не больше "
              "{share} тяжёлых запросов (фильтры, отсортированные, дальние или датированные "
              "страницы, покрытия, тайлы мелких масштабов), и с вашего уже выполняется "
              "столько; попробуйте снова через {seconds} с"},
    "the server is sending as many downloads as it can at once ({places}); try again in "
    "{seconds} s": {
        "be": "сервер ужо адначасова аддае столькі спампоўванняў, колькі можа ({places}); "
              "паспрабуйце зноў праз {seconds} с",
        "ru": "сервер уже одновременно отдаёт столько скачиваний, сколько может ({places}); "
              "попробуйте снова через {seconds} с"},
    "your address already has a download running on this server: one at a time; try again "
    "in {seconds} s, when it has finished": {
        "be": "з вашага адраса на гэтым серверы ўжо ідзе спампоўванне: па адным за раз; "
              "паспрабуйце зноў праз {seconds} с, калі яно скончыцца",
        "ru": "с вашего адреса на этом сервере уже идёт скачивание: по одному за раз; "
              "попробуйте снова через {seconds} с, когда оно закончится"},
    "too many heavy requests from your address (filters, sorted, deep or dated pages, "
    "downloads, coverages, low-zoom tiles): at most {limit} a minute; try again in "
    "{seconds} s": {
        "be": "занадта многа цяжкіх запытаў з вашага адраса (фільтры, сартаваныя, далёкія або "
              "датаваныя старонкі, спампоўванні, пакрыцці, тайлы дробных маштабаў): не больш "
              "за {limit} у хвіліну; паспрабуйце зноў праз {seconds} с",
        "ru": "слишком много тяжёлых запросов с вашего адреса (фильтры, отсортированные, "
              "дальние или датированные страницы, скачивания, покрытия, тайлы мелких "
              "масштабов): не больше {limit} в минуту; попробуйте снова через {seconds} с"},
    "the database connections are all busy ({size} per server process); try again in "
    "{seconds} s": {
        "be": "усе злучэнні з базай даных занятыя ({size} на працэс сервера); паспрабуйце "
              "зноў праз {seconds} с",
        "ru": "все соединения с базой данных заняты ({size} на процесс сервера); попробуйте "
              "снова через {seconds} с"},
    "too many failed logins from your address: at most {limit} a minute; try again in "
    "{seconds} s": {
        "be": "занадта многа няўдалых уваходаў з вашага адраса: не больш за {limit} у хвіліну; "
              "паспрабуйце зноў праз {seconds} с",
        "ru": "слишком много неудачных входов с вашего адреса: не больше {limit} в минуту; "
              "попробуйте снова через {seconds} с"},
    "the request body stopped arriving: nothing came for {seconds} s; send it again": {
        "be": "цела запыту перастала паступаць: {seconds} с нічога не прыходзіла; дашліце яго "
              "зноў",
        "ru": "тело запроса перестало поступать: {seconds} с ничего не приходило; отправьте "
              "его снова"},
    "the download took longer than its budget of {seconds} s (download_budget_s): ask for "
    "less with bbox or filter": {
        "be": "спампоўванне заняло больш за адведзеныя {seconds} с (download_budget_s): "
              "запытайце менш праз bbox або filter",
        "ru": "скачивание заняло больше отведённых {seconds} с (download_budget_s): "
              "запросите меньше через bbox или filter"},

    # -- uploads sandboxed: drivers, zips, region boundary, vertices (issue 15, ETL) ----
    "{file}: the XML's root element is <{root}>, not a GML feature collection (such as "
    "<gml:FeatureCollection>); send the features themselves as GML": {
        "be": "{file}: каранёвы элемент XML — <{root}>, а не калекцыя аб'ектаў GML (напрыклад, "
              "<gml:FeatureCollection>); дашліце самі аб'екты ў GML",
        "ru": "{file}: корневой элемент XML — <{root}>, а не коллекция объектов GML (например, "
              "<gml:FeatureCollection>); пришлите сами объекты в GML"},
    "{file}: a \"crs\" member is not plain JSON (single quotes, comments) or is too long to "
    "check; write it as standard JSON, or remove it (GeoJSON is WGS 84)": {
        "be": "{file}: член \"crs\" не ў простым JSON (адзінарныя двукоссі, каментарыі) або "
              "надта доўгі для праверкі; запішыце яго ў стандартным JSON або выдаліце (GeoJSON — "
              "гэта WGS 84)",
        "ru": "{file}: член \"crs\" записан не в простом JSON (одинарные кавычки, комментарии) "
              "или слишком длинный для проверки; запишите его в стандартном JSON или удалите "
              "(GeoJSON — это WGS 84)"},
    "{file}: the content is not {suffix} as the extension says; send the file in the format "
    "its name gives": {
        "be": "{file}: змесціва не {suffix}, як кажа пашырэнне; дашліце файл у фармаце, які "
              "называе яго імя",
        "ru": "{file}: содержимое не {suffix}, как говорит расширение; пришлите файл в формате, "
              "который называет его имя"},
    "{file}: the file describes a GDAL dataset ({marker}), which may point at other files or "
    "addresses; send the data itself": {
        "be": "{file}: файл апісвае набор даных GDAL ({marker}), які можа спасылацца на іншыя "
              "файлы або адрасы; дашліце самі даныя",
        "ru": "{file}: файл описывает набор данных GDAL ({marker}), который может ссылаться на "
              "другие файлы или адреса; пришлите сами данные"},
    "{file}: the XML declares a DTD (<!DOCTYPE>); send it without one": {
        "be": "{file}: XML аб'яўляе DTD (<!DOCTYPE>); дашліце яго без DTD",
        "ru": "{file}: XML объявляет DTD (<!DOCTYPE>); пришлите его без DTD"},
    "{file}: the GeoJSON names its CRS by a link or URL, which the server does not fetch; "
    "remove \"crs\" (GeoJSON is WGS 84) or name the CRS as EPSG:code": {
        "be": "{file}: GeoJSON называе сваю сістэму каардынат спасылкай або URL, якія сервер не "
              "загружае; выдаліце \"crs\" (GeoJSON — гэта WGS 84) або назавіце СК як EPSG:код",
        "ru": "{file}: GeoJSON называет свою систему координат ссылкой или URL, которые сервер "
              "не загружает; удалите \"crs\" (GeoJSON — это WGS 84) или укажите СК как "
              "EPSG:код"},
    "{file}: member {member} does not unpack to what the archive's directory declares (size "
    "or checksum); the archive is damaged or forged: make it again": {
        "be": "{file}: член {member} не распакоўваецца ў тое, што заяўляе змест архіва (памер "
              "або кантрольная сума); архіў пашкоджаны або падроблены: стварыце яго нанова",
        "ru": "{file}: элемент {member} не распаковывается в то, что заявляет оглавление архива "
              "(размер или контрольная сумма); архив повреждён или подделан: создайте его "
              "заново"},
    "{file}: member {member} has more than {rows} rows, the most one sheet may have; split "
    "the sheet or send a CSV": {
        "be": "{file}: член {member} мае больш за {rows} радкоў — больш, чым можа мець адзін "
              "аркуш; падзяліце аркуш або дашліце CSV",
        "ru": "{file}: элемент {member} содержит более {rows} строк — больше, чем может иметь "
              "один лист; разделите лист или пришлите CSV"},
    "{file}: member {member} unpacks to more than {size} of sheet XML, the most one sheet may "
    "take; split the sheet or send a CSV": {
        "be": "{file}: член {member} распакоўваецца ў больш чым {size} XML аркуша — больш, чым "
              "можа заняць адзін аркуш; падзяліце аркуш або дашліце CSV",
        "ru": "{file}: элемент {member} распаковывается в более чем {size} XML листа — больше, "
              "чем может занять один лист; разделите лист или пришлите CSV"},

    # -- bounded manifests and metadata, audit, clean-up (issue 15) --------------------
    "datetime {text} is not a date (2024-05-01), a date-time (2024-05-01T12:00:00Z) or an "
    "interval of them (start/end, '..' for an open end)": {
        "be": "datetime {text} не з'яўляецца датай (2024-05-01), датай з часам "
              "(2024-05-01T12:00:00Z) або інтэрвалам (пачатак/канец, '..' — адкрыты канец)",
        "ru": "datetime {text} не является датой (2024-05-01), датой со временем "
              "(2024-05-01T12:00:00Z) или интервалом (начало/конец, '..' — открытый конец)"},
    "datetime {text}: the start must come before the end": {
        "be": "datetime {text}: пачатак павінен быць раней за канец",
        "ru": "datetime {text}: начало должно быть раньше конца"},
    "scale-factor must be above 0: between {low} and {high} (2 halves the size, 0.5 doubles "
    "it)": {
        "be": "scale-factor павінен быць большы за 0: ад {low} да {high} (2 памяншае памер "
              "удвая, 0.5 павялічвае ўдвая)",
        "ru": "scale-factor должен быть больше 0: от {low} до {high} (2 уменьшает размер "
              "вдвое, 0.5 увеличивает вдвое)"},
    "scale-axes {term} must be above 0: between {low} and {high}": {
        "be": "scale-axes {term} павінен быць большы за 0: ад {low} да {high}",
        "ru": "scale-axes {term} должен быть больше 0: от {low} до {high}"},
    "scale-size {term}: a whole number of pixels, at least 1 and at most {high}": {
        "be": "scale-size {term}: цэлая колькасць пікселяў, ад 1 да {high}",
        "ru": "scale-size {term}: целое число пикселей, от 1 до {high}"},
    "{where}: 'properties' has {n} members; at most {limit}": {
        "be": "{where}: у 'properties' {n} членаў; найбольш {limit}",
        "ru": "{where}: в 'properties' {n} членов; не более {limit}"},
    "{where}: the properties are {size} bytes of JSON; at most {limit} per feature": {
        "be": "{where}: уласцівасці займаюць {size} байтаў JSON; найбольш {limit} на аб'ект",
        "ru": "{where}: свойства занимают {size} байт JSON; не более {limit} на объект"},
    "{origin}: the manifest is {size} bytes; at most {limit} (a manifest describes a layer, "
    "the data goes in the data file)": {
        "be": "{origin}: маніфест займае {size} байтаў; найбольш {limit} (маніфест апісвае "
              "пласт, даныя — у файле даных)",
        "ru": "{origin}: манифест занимает {size} байт; не более {limit} (манифест описывает "
              "слой, данные — в файле данных)"},
    "{origin} at line {line}: YAML anchors and aliases (&name, *name) are not allowed in a "
    "manifest; write the values out": {
        "be": "{origin}, радок {line}: якары і спасылкі YAML (&name, *name) у маніфесце не "
              "дазволены; запішыце значэнні цалкам",
        "ru": "{origin}, строка {line}: якоря и ссылки YAML (&name, *name) в манифесте не "
              "допускаются; запишите значения полностью"},
    "{origin}: the manifest is nested too deeply": {
        "be": "{origin}: маніфест мае занадта глыбокую ўкладзенасць",
        "ru": "{origin}: манифест имеет слишком глубокую вложенность"},
    "{origin}: '{key}' is {n} characters long; at most {limit}": {
        "be": "{origin}: даўжыня '{key}' — {n} сімвалаў; найбольш {limit}",
        "ru": "{origin}: длина '{key}' — {n} символов; не более {limit}"},
    "{origin}: '{key}' has {n} keywords; at most {limit}": {
        "be": "{origin}: у '{key}' {n} ключавых слоў; найбольш {limit}",
        "ru": "{origin}: в '{key}' {n} ключевых слов; не более {limit}"},
    # -- MapInfo TAB/MIF, DXF, zips of several tables (issue 16, helper A) ----------------
    "{file}: the MapInfo table's {part} file is missing; send {parts} together (zipped, for "
    "an upload)": {
        "be": "{file}: няма файла {part} табліцы MapInfo; дашліце {parts} разам (для "
              "запампоўкі — у zip-архіве)",
        "ru": "{file}: нет файла {part} таблицы MapInfo; отправьте {parts} вместе (для "
              "загрузки — в zip-архиве)"},
    "{file}: a MapInfo {kind} registration (Type {type}), not a table of features; send the "
    "image itself as GeoTIFF, or the features as a MapInfo table": {
        "be": "{file}: гэта рэгістрацыя MapInfo віду {kind} (Type {type}), а не табліца "
              "аб'ектаў; дашліце сам відарыс у GeoTIFF або аб'екты як табліцу MapInfo",
        "ru": "{file}: это регистрация MapInfo вида {kind} (Type {type}), а не таблица "
              "объектов; отправьте само изображение в GeoTIFF или объекты как таблицу MapInfo"},
    "{file}: a MapInfo table of type {type}, which names other tables; open it in MapInfo, "
    "save a copy as a plain table and send that": {
        "be": "{file}: табліца MapInfo тыпу {type}, якая спасылаецца на іншыя табліцы; "
              "адкрыйце яе ў MapInfo, захавайце копію як звычайную табліцу і дашліце яе",
        "ru": "{file}: таблица MapInfo типа {type}, которая ссылается на другие таблицы; "
              "откройте её в MapInfo, сохраните копию как обычную таблицу и отправьте её"},
    "{file}: the table's text is {encoding}, which a MapInfo TAB cannot declare; save it in "
    "MapInfo with charset WindowsCyrillic (or as MIF/MID) and send it again": {
        "be": "{file}: тэкст табліцы ў кадоўцы {encoding}, якую MapInfo TAB не можа "
              "абвясціць; захавайце яе ў MapInfo з charset WindowsCyrillic (або як MIF/MID) "
              "і дашліце зноў",
        "ru": "{file}: текст таблицы в кодировке {encoding}, которую MapInfo TAB не может "
              "объявить; сохраните её в MapInfo с charset WindowsCyrillic (или как MIF/MID) "
              "и отправьте снова"},
    "{file}: the zip holds no Shapefile (.shp) or MapInfo table (.tab, .mif) but {held}; send "
    "a zip of .shp, .shx, .dbf and .prj, or of .tab, .dat, .map and .id": {
        "be": "{file}: у zip-архіве няма ні Shapefile (.shp), ні табліцы MapInfo (.tab, .mif), "
              "толькі {held}; дашліце zip з .shp, .shx, .dbf і .prj або з .tab, .dat, .map "
              "і .id",
        "ru": "{file}: в zip-архиве нет ни Shapefile (.shp), ни таблицы MapInfo (.tab, .mif), "
              "только {held}; отправьте zip с .shp, .shx, .dbf и .prj или с .tab, .dat, .map "
              "и .id"},
    "{file}: the zip holds {count} Shapefiles ({tables}); name one with source.layer in the "
    "manifest": {
        "be": "{file}: файлаў Shapefile у zip-архіве: {count} ({tables}); назавіце адзін у "
              "source.layer у маніфесце",
        "ru": "{file}: файлов Shapefile в zip-архиве: {count} ({tables}); укажите один в "
              "source.layer в манифесте"},
    "{file}: the zip holds {count} MapInfo tables ({tables}); name one with source.layer in "
    "the manifest": {
        "be": "{file}: табліц MapInfo у zip-архіве: {count} ({tables}); назавіце адну ў "
              "source.layer у маніфесце",
        "ru": "{file}: таблиц MapInfo в zip-архиве: {count} ({tables}); укажите одну в "
              "source.layer в манифесте"},
    "{file}: the zip holds {count} tables ({tables}); name one with source.layer in the "
    "manifest": {
        "be": "{file}: табліц у zip-архіве: {count} ({tables}); назавіце адну ў source.layer у "
              "маніфесце",
        "ru": "{file}: таблиц в zip-архиве: {count} ({tables}); укажите одну в source.layer в "
              "манифесте"},
    "{file}: source.layer {layer} names no single Shapefile in the zip; it holds {held}": {
        "be": "{file}: source.layer {layer} не адпавядае ніводнаму Shapefile у zip-архіве; у "
              "ім {held}",
        "ru": "{file}: source.layer {layer} не соответствует ни одному Shapefile в zip-архиве; "
              "в нём {held}"},
    "{file}: source.layer {layer} names no single MapInfo table in the zip; it holds {held}": {
        "be": "{file}: source.layer {layer} не адпавядае ніводнай табліцы MapInfo у "
              "zip-архіве; у ім {held}",
        "ru": "{file}: source.layer {layer} не соответствует ни одной таблице MapInfo в "
              "zip-архиве; в нём {held}"},
    "{file}: source.layer {layer} names no single table in the zip; it holds {held}": {
        "be": "{file}: source.layer {layer} не адпавядае ніводнай табліцы ў zip-архіве; у ім "
              "{held}",
        "ru": "{file}: source.layer {layer} не соответствует ни одной таблице в zip-архиве; в "
              "нём {held}"},
    "{file}: a MapInfo table is several files and an upload takes one; zip the {suffix} with "
    "its {parts} and upload the zip": {
        "be": "{file}: табліца MapInfo — гэта некалькі файлаў, а запампоўка прымае адзін; "
              "запакуйце {suffix} разам з {parts} у zip і запампуйце яго",
        "ru": "{file}: таблица MapInfo — это несколько файлов, а загрузка принимает один; "
              "упакуйте {suffix} вместе с {parts} в zip и загрузите его"},
    # -- sheets as filled in: header rows, totals, DMS, EWKT (issue 16, helper B) ---------
    "{file}: source.header_row {row} is beyond the {rows} rows read; set source.header_row "
    "in the manifest to the row holding the column names": {
        "be": "{file}: source.header_row {row} — за межамі {rows} прачытаных радкоў; задайце "
              "source.header_row у маніфесце — радок з назвамі слупкоў",
        "ru": "{file}: source.header_row {row} — за пределами {rows} прочитанных строк; "
              "задайте source.header_row в манифесте — строку с названиями столбцов"},
    "{file}: the geometry column {column} mixes {srids}; export it in one SRID "
    "(ST_Transform) and send it again": {
        "be": "{file}: у слупку геаметрыі {column} змешаны {srids}; экспартуйце яго ў адной "
              "SRID (ST_Transform) і дашліце зноў",
        "ru": "{file}: в столбце геометрии {column} смешаны {srids}; экспортируйте его в "
              "одной SRID (ST_Transform) и отправьте снова"},
    "{origin}: 'source.header_row' must be a row number from 1 to {limit}": {
        "be": "{origin}: 'source.header_row' павінна быць нумарам радка ад 1 да {limit}",
        "ru": "{origin}: 'source.header_row' должно быть номером строки от 1 до {limit}"},
    "a totals or notes row, not a feature: {value}": {
        "be": "радок вынікаў або заўвагі, не аб'ект: {value}",
        "ru": "строка итогов или примечаний, не объект: {value}"},
    "an empty row, not a feature": {
        "be": "пусты радок, не аб'ект",
        "ru": "пустая строка, не объект"},
    "geometry in SRID={found}, the geometry column's SRID is {srid}": {
        "be": "геаметрыя ў SRID={found}, а SRID слупка геаметрыі — {srid}",
        "ru": "геометрия в SRID={found}, а SRID столбца геометрии — {srid}"},
    # -- mixed geometry types, promotion, DBF types and names (issue 16, helper C) --------
    "layer {id} mixes geometry types, which a Shapefile cannot hold: download it as f=gpkg "
    "or f=geojson, or publish it again (one type per layer)": {
        "be": "пласт {id} змяшчае геаметрыі розных тыпаў, а Shapefile можа мець толькі адзін: "
              "спампуйце яго як f=gpkg або f=geojson ці апублікуйце яго зноў (адзін тып на "
              "пласт)",
        "ru": "слой {id} содержит геометрии разных типов, а Shapefile может хранить только "
              "один: скачайте его как f=gpkg или f=geojson либо опубликуйте заново (один тип "
              "на слой)"},
    "the geometry cannot be published: {found} of {n} parts in a {target} layer": {
        "be": "геаметрыю нельга апублікаваць: {found} з {n} частак у пласце тыпу {target}",
        "ru": "геометрию нельзя опубликовать: {found} из {n} частей в слое типа {target}"},
    "the geometry cannot be published: geometry type {found} in a {target} layer": {
        "be": "геаметрыю нельга апублікаваць: тып геаметрыі {found} у пласце тыпу {target}",
        "ru": "геометрию нельзя опубликовать: тип геометрии {found} в слое типа {target}"},
    "the geometry cannot be published: GeometryCollection of {held} in a {target} layer": {
        "be": "геаметрыю нельга апублікаваць: GeometryCollection з {held} у пласце тыпу "
              "{target}",
        "ru": "геометрию нельзя опубликовать: GeometryCollection из {held} в слое типа "
              "{target}"},
    "{origin}: '{key}' must be true or false": {
        "be": "{origin}: '{key}' павінна быць true або false",
        "ru": "{origin}: '{key}' должно быть true или false"},
    # -- CRS: swapped lon/lat, the gazetteer (issue 16, helper D) -------------------------
    "{origin}: no CRS declared and the coordinates fit several that disagree by more than "
    "{metres} m ({names}); set source.crs in the manifest": {
        "be": "{origin}: сістэма каардынат не зададзена, а каардынаты падыходзяць да некалькіх, "
              "якія разыходзяцца больш чым на {metres} м ({names}); задайце source.crs у "
              "маніфесце",
        "ru": "{origin}: система координат не задана, а координаты подходят к нескольким, "
              "которые расходятся больше чем на {metres} м ({names}); задайте source.crs в "
              "манифесте"},
    "{origin}: no CRS declared and the coordinates fit several that disagree by more than "
    "{metres} m ({names}); the place names in {fields} do not settle it ({named} named "
    "features; within {km} km of a known place of the name: {counts}; one CRS needs at least "
    "{least} and the others at most a quarter as many); set source.crs in the manifest": {
        "be": "{origin}: сістэма каардынат не зададзена, а каардынаты падыходзяць да некалькіх, "
              "якія разыходзяцца больш чым на {metres} м ({names}); назвы населеных пунктаў у "
              "{fields} не дазваляюць выбраць (аб'ектаў з вядомымі назвамі: {named}; не далей "
              "за {km} км ад вядомага месца з такой назвай: {counts}; адной сістэме патрэбна "
              "не менш за {least}, а астатнім — не больш за чвэрць ад гэтага); задайце "
              "source.crs у маніфесце",
        "ru": "{origin}: система координат не задана, а координаты подходят к нескольким, "
              "которые расходятся больше чем на {metres} м ({names}); названия населённых "
              "пунктов в {fields} не позволяют выбрать (объектов с известными названиями: "
              "{named}; не дальше {km} км от известного места с таким названием: "
              "{counts}; одной системе нужно не меньше {least}, а остальным — не больше "
              "четверти от этого); задайте source.crs в манифесте"},
    # -- every failure a sentence; CLI options and manifest keys (issue 16, helper E) -----
    '{name}: could not be read as {format} ({said}); the file looks damaged or cut off, or '
    'holds values of the wrong kind: check that it opens in a GIS and send it again': {
        "be": '{name}: не атрымалася прачытаць як {format} ({said}); файл, відаць, пашкоджаны '
              'або абрэзаны ці ўтрымлівае значэнні не таго тыпу: праверце, што ён адкрываецца ў '
              'ГІС, і дашліце яго зноў',
        "ru": '{name}: не удалось прочитать как {format} ({said}); файл, видимо, повреждён или '
              'обрезан либо содержит значения не того типа: проверьте, что он открывается в '
              'ГИС, и пришлите его снова'},
    '{name}: could not be read after {n} features ({said}); the file looks damaged or cut off, '
    'or holds values of the wrong kind: check that it opens in a GIS and send it again': {
        "be": "{name}: не атрымалася прачытаць пасля {n} аб'ектаў ({said}); файл, відаць, "
              'пашкоджаны або абрэзаны ці ўтрымлівае значэнні не таго тыпу: праверце, што ён '
              'адкрываецца ў ГІС, і дашліце яго зноў',
        "ru": '{name}: не удалось прочитать после {n} объектов ({said}); файл, видимо, '
              'повреждён или обрезан либо содержит значения не того типа: проверьте, что он '
              'открывается в ГИС, и пришлите его снова'},
    '{name}: could not be read ({said}); the file looks damaged or cut off, or holds values of '
    'the wrong kind: check that it opens in a GIS and send it again': {
        "be": '{name}: не атрымалася прачытаць ({said}); файл, відаць, пашкоджаны або абрэзаны '
              'ці ўтрымлівае значэнні не таго тыпу: праверце, што ён адкрываецца ў ГІС, і '
              'дашліце яго зноў',
        "ru": '{name}: не удалось прочитать ({said}); файл, видимо, повреждён или обрезан либо '
              'содержит значения не того типа: проверьте, что он открывается в ГИС, и пришлите '
              'его снова'},
    '{name}: the layer holds no features; nothing to publish': {
        "be": "{name}: у пласце няма аб'ектаў; няма чаго публікаваць",
        "ru": '{name}: в слое нет объектов; нечего публиковать'},
    '{name}: table {table} holds no features; nothing to publish': {
        "be": "{name}: у табліцы {table} няма аб'ектаў; няма чаго публікаваць",
        "ru": '{name}: в таблице {table} нет объектов; нечего публиковать'},
    '{name}: sheet {table} holds no features; nothing to publish': {
        "be": "{name}: на аркушы {table} няма аб'ектаў; няма чаго публікаваць",
        "ru": '{name}: на листе {table} нет объектов; нечего публиковать'},
    '{name}: folder {table} holds no features; nothing to publish': {
        "be": "{name}: у папцы {table} няма аб'ектаў; няма чаго публікаваць",
        "ru": '{name}: в папке {table} нет объектов; нечего публиковать'},
    '{name}: the layer should hold {n} features but none could be read; the file looks cut off '
    'or damaged: send it again': {
        "be": "{name}: у пласце павінна быць {n} аб'ектаў, але ніводнага не атрымалася "
              'прачытаць; файл, відаць, абрэзаны або пашкоджаны: дашліце яго зноў',
        "ru": '{name}: в слое должно быть {n} объектов, но ни одного не удалось прочитать; '
              'файл, видимо, обрезан или повреждён: пришлите его снова'},
    '{name}: table {table} should hold {n} features but none could be read; the file looks cut '
    'off or damaged: send it again': {
        "be": "{name}: у табліцы {table} павінна быць {n} аб'ектаў, але ніводнага не атрымалася "
              'прачытаць; файл, відаць, абрэзаны або пашкоджаны: дашліце яго зноў',
        "ru": '{name}: в таблице {table} должно быть {n} объектов, но ни одного не удалось '
              'прочитать; файл, видимо, обрезан или повреждён: пришлите его снова'},
    '{name}: sheet {table} should hold {n} features but none could be read; the file looks cut '
    'off or damaged: send it again': {
        "be": "{name}: на аркушы {table} павінна быць {n} аб'ектаў, але ніводнага не атрымалася "
              'прачытаць; файл, відаць, абрэзаны або пашкоджаны: дашліце яго зноў',
        "ru": '{name}: на листе {table} должно быть {n} объектов, но ни одного не удалось '
              'прочитать; файл, видимо, обрезан или повреждён: пришлите его снова'},
    '{name}: folder {table} should hold {n} features but none could be read; the file looks cut '
    'off or damaged: send it again': {
        "be": "{name}: у папцы {table} павінна быць {n} аб'ектаў, але ніводнага не атрымалася "
              'прачытаць; файл, відаць, абрэзаны або пашкоджаны: дашліце яго зноў',
        "ru": '{name}: в папке {table} должно быть {n} объектов, но ни одного не удалось '
              'прочитать; файл, видимо, обрезан или повреждён: пришлите его снова'},
    '{name}: no feature can be published ({reasons}); coordinates are written as text '
    '("{value}"): write them as numbers, without quotes': {
        "be": "{name}: ніводнага аб'екта нельга апублікаваць ({reasons}); каардынаты запісаны "
              'як тэкст ("{value}"): запішыце іх лікамі, без двукоссяў',
        "ru": '{name}: ни один объект нельзя опубликовать ({reasons}); координаты записаны как '
              'текст ("{value}"): запишите их числами, без кавычек'},
    '{origin}: the CRS {name} cannot be placed on the earth (a local CRS without a datum); set '
    'source.crs in the manifest to the CRS the coordinates are in, e.g. EPSG:28405': {
        "be": '{origin}: сістэму каардынат {name} немагчыма размясціць на Зямлі (лакальная '
              'сістэма без датума); задайце ў маніфесце source.crs — сістэму, у якой запісаны '
              'каардынаты, напрыклад EPSG:28405',
        "ru": '{origin}: систему координат {name} невозможно разместить на Земле (локальная '
              'система без датума); задайте в манифесте source.crs — систему, в которой '
              'записаны координаты, например EPSG:28405'},
    '{name}: text that is not valid UTF-8 near row {row}, although {format} holds UTF-8 only; '
    'export the file again as UTF-8': {
        "be": '{name}: тэкст не ў UTF-8 каля радка {row}, хоць {format} мае толькі UTF-8; '
              'экспартуйце файл зноў у UTF-8',
        "ru": '{name}: текст не в UTF-8 около строки {row}, хотя {format} хранит только UTF-8; '
              'экспортируйте файл заново в UTF-8'},
    '{name}: the file says it holds {expected} features but {read} could be read; it looks '
    'truncated or damaged: send it again': {
        "be": "{name}: паводле файла ў ім {expected} аб'ектаў, а прачытаць атрымалася {read}; "
              'файл, відаць, абрэзаны або пашкоджаны: дашліце яго зноў',
        "ru": '{name}: по данным файла в нём {expected} объектов, а прочитать удалось {read}; '
              'файл, видимо, обрезан или повреждён: пришлите его снова'},
    # -- zips, MapInfo charset, shared layer ids, sheets, header rows (issue 16, helper F) ---
    "{file}: source.header_row applies to CSV and sheets (XLSX, ODS) only, and this is a "
    "{kind}, whose columns have names of their own: leave source.header_row out": {
        "be": "{file}: source.header_row ужываецца толькі для CSV і аркушаў (XLSX, ODS), а "
              "гэта {kind}, слупкі якога маюць уласныя назвы: не задавайце source.header_row",
        "ru": "{file}: source.header_row применяется только к CSV и листам (XLSX, ODS), а "
              "это {kind}, столбцы которого имеют собственные названия: не задавайте "
              "source.header_row"},
    "read sheet {sheet}; the other sheets with data ({others}) are not read: to publish one, "
    "set source.layer in the manifest to its name": {
        "be": "прачытаны аркуш {sheet}; іншыя аркушы з данымі ({others}) не прачытаныя: каб "
              "апублікаваць адзін з іх, задайце яго назву ў source.layer у маніфесце",
        "ru": "прочитан лист {sheet}; другие листы с данными ({others}) не прочитаны: чтобы "
              "опубликовать один из них, задайте его название в source.layer в манифесте"},
    "{one} and {two} would both be published as layer {id}; give each manifest its own 'id'": {
        "be": "{one} і {two} былі б апублікаваныя як адзін пласт {id}; дайце кожнаму маніфесту "
              "свой 'id'",
        "ru": "{one} и {two} были бы опубликованы как один слой {id}; дайте каждому манифесту "
              "свой 'id'"},
    "{one} and {two} would both be published as layer {id}; ingest one of the tables on its "
    "own, with --layer and --id": {
        "be": "{one} і {two} былі б апублікаваныя як адзін пласт {id}; загрузіце адну з табліц "
              "асобна, з --layer і --id",
        "ru": "{one} и {two} были бы опубликованы как один слой {id}; загрузите одну из таблиц "
              "отдельно, с --layer и --id"},
    "{one} and {two} would both be published as layer {id}; ingest them one at a time, each "
    "with its own --id": {
        "be": "{one} і {two} былі б апублікаваныя як адзін пласт {id}; загружайце іх па "
              "адным, кожны са сваім --id",
        "ru": "{one} и {two} были бы опубликованы как один слой {id}; загружайте их по "
              "одному, каждый со своим --id"},
    "{input} is given twice; give it once": {
        "be": "{input} зададзены двойчы; задайце яго адзін раз",
        "ru": "{input} указан дважды; укажите его один раз"},
    # -- fixes after review: census, split, row numbers (issue 16, helper G) --------------
    "{name}: source.split_geometry cannot be used in an upload, which publishes one layer; "
    "leave it out to publish the main geometry type (the others are set aside), or upload "
    "each geometry type as a file of its own": {
        "be": "{name}: source.split_geometry нельга ўжываць пры загрузцы, якая публікуе адзін "
              "пласт; не задавайце яго, каб апублікаваць асноўны тып геаметрыі (астатнія "
              "адкладаюцца), або загрузіце кожны тып геаметрыі асобным файлам",
        "ru": "{name}: source.split_geometry нельзя использовать при загрузке, которая "
              "публикует один слой; не задавайте его, чтобы опубликовать основной тип "
              "геометрии (остальные откладываются), или загрузите каждый тип геометрии "
              "отдельным файлом"},
    # -- object storage (issue 17, helper A; whole messages, hence here) ------------------
    "the portal's file store failed; the operator finds the cause in the server log": {
        "be": "у сховішчы файлаў партала адбыўся збой; аператар знойдзе прычыну ў журнале "
              "сервера",
        "ru": "в хранилище файлов портала произошёл сбой; оператор найдёт причину в журнале "
              "сервера"},
    "the portal's file store cannot be reached at the moment; try again in a few seconds": {
        "be": "сховішча файлаў партала зараз недаступнае; паспрабуйце праз некалькі секунд",
        "ru": "хранилище файлов портала сейчас недоступно; попробуйте через несколько "
              "секунд"},
    "the data file of this layer is missing from the portal's file store; the operator "
    "finds the cause in the server log": {  # (issue 17, fix helper F2)
        "be": "файла даных гэтага пласта няма ў сховішчы файлаў партала; аператар знойдзе "
              "прычыну ў журнале сервера",
        "ru": "файла данных этого слоя нет в хранилище файлов портала; оператор найдёт "
              "причину в журнале сервера"},
    # -- worker tier, uploads (issue 17, helper B; whole messages belong here, not in
    #    FRAGMENTS, which are never matched against a whole message) ----------------------
    "the uploaded file {name} is no longer on the server; upload it again": {
        "be": "загружанага файла {name} на серверы ўжо няма; загрузіце яго зноў",
        "ru": "загруженного файла {name} на сервере уже нет; загрузите его снова"},
    "the uploaded file {name} is no longer on the server (object store {store}); upload it "
    "again": {
        "be": "загружанага файла {name} на серверы ўжо няма (сховішча аб'ектаў {store}); "
              "загрузіце яго зноў",
        "ru": "загруженного файла {name} на сервере уже нет (хранилище объектов {store}); "
              "загрузите его снова"},
    "the worker running the ingest stopped answering for more than {seconds} s and the retry "
    "did not finish either; the previous version still serves; upload again": {
        "be": "працэс, які загружаў даныя, не адказваў больш за {seconds} с, і паўторная "
              "спроба таксама не скончылася; дагэтуль паказваецца папярэдняя версія; "
              "загрузіце зноў",
        "ru": "процесс, загружавший данные, не отвечал больше {seconds} с, и повторная "
              "попытка тоже не завершилась; по-прежнему показывается предыдущая версия; "
              "загрузите снова"},
    "the job queue is not reachable; try again in a minute": {
        "be": "чарга задач недаступная; паспрабуйце праз хвіліну",
        "ru": "очередь задач недоступна; попробуйте через минуту"},
    # -- database faults, replicas (issue 17, helper C) -----------------------------------
    "the database is unreachable; try again in a few seconds": {
        "be": "база даных недаступная; паспрабуйце зноў праз некалькі секунд",
        "ru": "база данных недоступна; попробуйте снова через несколько секунд"},
    "the layer is locked by a publish; try again": {
        "be": "пласт заблакаваны публікацыяй; паспрабуйце зноў",
        "ru": "слой заблокирован публикацией; попробуйте снова"},
    "the database did not answer in time; try again in a few seconds": {
        "be": "база даных не адказала своечасова; паспрабуйце зноў праз некалькі секунд",
        "ru": "база данных не ответила вовремя; попробуйте снова через несколько секунд"},
    "the database is read-only just now (maintenance or a fail-over), so nothing can be "
    "changed; try again later": {
        "be": "база даных цяпер толькі для чытання (абслугоўванне або пераключэнне на "
              "рэзервовы сервер), таму нічога змяніць нельга; паспрабуйце пазней",
        "ru": "база данных сейчас только для чтения (обслуживание или переключение на "
              "резервный сервер), поэтому ничего изменить нельзя; попробуйте позже"},
    "the catalog is not set up: run `geoportal init`": {
        "be": "каталог не падрыхтаваны: выканайце `geoportal init`",
        "ru": "каталог не подготовлен: выполните `geoportal init`"},
    # (issue 17, helper F1): database errors classified by SQLSTATE
    "the database had to cancel this request (a conflict with another one); try again": {
        "be": "база даных мусіла скасаваць гэты запыт (канфлікт з іншым); паспрабуйце зноў",
        "ru": "база данных была вынуждена отменить этот запрос (конфликт с другим); "
              "попробуйте снова"},
    "the database has no free connection just now; try again in a few seconds": {
        "be": "у базы даных зараз няма вольнага злучэння; паспрабуйце зноў праз некалькі "
              "секунд",
        "ru": "у базы данных сейчас нет свободного соединения; попробуйте снова через "
              "несколько секунд"},
    # -- paging, health, caching (issue 17, helper D) -------------------------------------
    "{name}={value} on /collections must be a whole number, 0 or more": {
        "be": "{name}={value} у /collections мусіць быць цэлым лікам, 0 або больш",
        "ru": "{name}={value} в /collections должно быть целым числом, 0 или больше"},
    "{name}={value} on /collections must be a whole number from {low} to {high}": {
        "be": "{name}={value} у /collections мусіць быць цэлым лікам ад {low} да {high}",
        "ru": "{name}={value} в /collections должно быть целым числом от {low} до {high}"},
}

SHARED_FRAGMENTS: dict[str, dict[str, str]] = {
    "the function {name}()": {"be": "функцыя {name}()", "ru": "функция {name}()"},
    "the operator {op}": {"be": "аператар {op}", "ru": "оператор {op}"},
    "field {name} holds {noun}": {"be": "поле {name} утрымлівае {noun}",
                                  "ru": "поле {name} содержит {noun}"},
    "the expression holds {noun}": {"be": "выраз дае {noun}", "ru": "выражение даёт {noun}"},
    "text": {"be": "тэкст", "ru": "текст"},
    "integers": {"be": "цэлыя лікі", "ru": "целые числа"},
    "numbers": {"be": "лікі", "ru": "числа"},
    "true/false values": {"be": "значэнні true/false", "ru": "значения true/false"},
    "dates": {"be": "даты", "ru": "даты"},
    "timestamps": {"be": "моманты часу", "ru": "моменты времени"},
    "a quoted string": {"be": "радком у апострофах", "ru": "текстом в апострофах"},
    "a number": {"be": "лікам", "ru": "числом"},
    "TIMESTAMP('YYYY-MM-DDTHH:MM:SSZ') or DATE('YYYY-MM-DD')": {
        "be": "TIMESTAMP('YYYY-MM-DDTHH:MM:SSZ') або DATE('YYYY-MM-DD')",
        "ru": "TIMESTAMP('YYYY-MM-DDTHH:MM:SSZ') или DATE('YYYY-MM-DD')"},
    "the pattern ends with the escape character '\\'": {
        "be": "шаблон заканчваецца сімвалам экранавання '\\'",
        "ru": "шаблон заканчивается символом экранирования '\\'"},
    "the body": {"be": "цела запыту", "ru": "тело запроса"},
    "feature {n}": {"be": "аб'ект {n}", "ru": "объект {n}"},
    "the new geometry": {"be": "новая геаметрыя", "ru": "новая геометрия"},
    "layers": {"be": "пласты", "ru": "слои"},
    "layer {id}": {"be": "пласт {id}", "ru": "слой {id}"},
    "no Content-Type": {"be": "без Content-Type", "ru": "без Content-Type"},
    "revoked": {"be": "адкліканы", "ru": "отозван"},
    "expired": {"be": "пратэрмінаваны", "ru": "просрочен"},
    "queued": {"be": "у чарзе", "ru": "в очереди"},
    "running": {"be": "выконваецца", "ru": "выполняется"},
}
