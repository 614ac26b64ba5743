"""The OpenAPI document's texts in Belarusian and Russian, keyed by the English in ``openapi.py``.

The document is built in English; ``openapi.localize`` walks it and replaces every ``summary``
and ``description`` found here (a ``{name}`` stands for a value, as in ``geoportal.messages``).
A new operation adds its English summary and descriptions here; until then they stay English.
"""

from __future__ import annotations

from geoportal.i18n import Texts
from geoportal.server.openapi_coverages import COVERAGE_TEXTS

__all__ = ["OPENAPI_TEXTS", "TEXTS"]

TEXTS: dict[str, dict[str, str]] = {
    # -- info, tags, security ------------------------------------------------------------
    "OGC API - Features of the national geoportal of Belarus: municipal GIS layers of oblasts, "
    "cities and raions. Every collection is described by the /collections/{collectionId} "
    "paths; /collections lists them.": {
        "be": "OGC API - Features нацыянальнага геапартала Беларусі: муніцыпальныя ГІС-пласты "
              "абласцей, гарадоў і раёнаў. Кожную калекцыю апісваюць шляхі "
              "/collections/{collectionId}; /collections пералічвае іх.",
        "ru": "OGC API - Features национального геопортала Беларуси: муниципальные ГИС-слои "
              "областей, городов и районов. Каждую коллекцию описывают пути "
              "/collections/{collectionId}; /collections перечисляет их."},
    "Each layer carries its own licence (see its links)": {
        "be": "У кожнага пласта свая ліцэнзія (гл. яго спасылкі)",
        "ru": "У каждого слоя своя лицензия (см. его ссылки)"},
    "Landing page, API definition, conformance": {
        "be": "Галоўная старонка, апісанне API, адпаведнасць стандартам",
        "ru": "Главная страница, описание API, соответствие стандартам"},
    "The published layers and their schemas": {"be": "Апублікаваныя пласты і іх схемы",
                                               "ru": "Опубликованные слои и их схемы"},
    "The features of a layer": {"be": "Аб'екты пласта", "ru": "Объекты слоя"},
    "Editing features (OGC API - Features Part 4), with a token": {
        "be": "Рэдагаванне аб'ектаў (OGC API - Features, частка 4), з токенам",
        "ru": "Редактирование объектов (OGC API - Features, часть 4), с токеном"},
    "Vector tiles (OGC API - Tiles)": {"be": "Вектарныя тайлы (OGC API - Tiles)",
                                       "ru": "Векторные тайлы (OGC API - Tiles)"},
    "A portal token (geoportal token create)": {
        "be": "Токен партала (geoportal token create)",
        "ru": "Токен портала (geoportal token create)"},

    # -- operations ------------------------------------------------------------------------
    "Landing page": {"be": "Галоўная старонка", "ru": "Главная страница"},
    "This API definition": {"be": "Апісанне гэтага API", "ru": "Описание этого API"},
    "Conformance classes": {"be": "Класы адпаведнасці", "ru": "Классы соответствия"},
    "Every published collection": {"be": "Усе апублікаваныя калекцыі",
                                   "ru": "Все опубликованные коллекции"},
    "One collection's metadata": {"be": "Метаданыя адной калекцыі",
                                  "ru": "Метаданные одной коллекции"},
    "A page of a collection's features": {"be": "Старонка аб'ектаў калекцыі",
                                          "ru": "Страница объектов коллекции"},
    "Features of the collection, filtered by bbox, CQL2 filter and property values, sorted, "
    "paged with limit and offset, in any crs of the collection": {
        "be": "Аб'екты калекцыі з фільтрам па bbox, CQL2 і значэннях уласцівасцей, "
              "сартаваннем, старонкамі (limit і offset), у любой сістэме каардынат калекцыі",
        "ru": "Объекты коллекции с фильтром по bbox, CQL2 и значениям свойств, сортировкой, "
              "постранично (limit и offset), в любой системе координат коллекции"},
    "Features of {title}": {"be": "Аб'екты: {title}", "ru": "Объекты: {title}"},
    "Add a feature (or a FeatureCollection's)": {
        "be": "Дадаць аб'ект (або аб'екты FeatureCollection)",
        "ru": "Добавить объект (или объекты FeatureCollection)"},
    "Needs a token that may write to the layer's region; an editor's features must lie inside "
    "their regions": {
        "be": "Патрэбны токен з правам запісу ў рэгіён пласта; аб'екты рэдактара павінны "
              "ляжаць у межах яго рэгіёнаў",
        "ru": "Нужен токен с правом записи в регион слоя; объекты редактора должны лежать в "
              "границах его регионов"},
    "A GeoJSON Feature or FeatureCollection": {"be": "GeoJSON Feature або FeatureCollection",
                                               "ru": "GeoJSON Feature или FeatureCollection"},
    "One feature": {"be": "Адзін аб'ект", "ru": "Один объект"},
    "Replace a feature": {"be": "Замяніць аб'ект", "ru": "Заменить объект"},
    "Conditional on If-Match when sent": {"be": "З умовай If-Match, калі яна дасланая",
                                          "ru": "С условием If-Match, если оно передано"},
    "The feature's new GeoJSON (every property; missing ones become null)": {
        "be": "Новы GeoJSON аб'екта (усе ўласцівасці; адсутныя становяцца null)",
        "ru": "Новый GeoJSON объекта (все свойства; отсутствующие становятся null)"},
    "Change some of a feature's properties or its geometry": {
        "be": "Змяніць некаторыя ўласцівасці аб'екта або яго геаметрыю",
        "ru": "Изменить некоторые свойства объекта или его геометрию"},
    "A partial GeoJSON Feature: the properties to change, the geometry if it changes": {
        "be": "Частковы GeoJSON Feature: уласцівасці, якія мяняюцца, і геаметрыя, калі яна "
              "мяняецца",
        "ru": "Частичный GeoJSON Feature: изменяемые свойства и геометрия, если она меняется"},
    "Remove a feature": {"be": "Выдаліць аб'ект", "ru": "Удалить объект"},
    "The tile matrix sets of the tiles": {"be": "Наборы матрыц тайлаў",
                                          "ru": "Наборы матриц тайлов"},
    "A tile matrix set (OGC TMS 2.0)": {"be": "Набор матрыц тайлаў (OGC TMS 2.0)",
                                        "ru": "Набор матриц тайлов (OGC TMS 2.0)"},
    "The collection's vector tilesets": {"be": "Наборы вектарных тайлаў калекцыі",
                                         "ru": "Наборы векторных тайлов коллекции"},
    "A tileset (f=tilejson: TileJSON 3.0)": {"be": "Набор тайлаў (f=tilejson: TileJSON 3.0)",
                                             "ru": "Набор тайлов (f=tilejson: TileJSON 3.0)"},
    "One vector tile (MVT)": {"be": "Адзін вектарны тайл (MVT)",
                              "ru": "Один векторный тайл (MVT)"},
    "The properties filter and sortby can use": {
        "be": "Уласцівасці, даступныя для filter і sortby",
        "ru": "Свойства, доступные для filter и sortby"},
    "The collection's properties and their types": {
        "be": "Уласцівасці калекцыі і іх тыпы", "ru": "Свойства коллекции и их типы"},

    # -- parameters --------------------------------------------------------------------------
    "A collection id, as listed by /collections (for example minsk-stops)": {
        "be": "Ідэнтыфікатар калекцыі, як у /collections (напрыклад, minsk-stops)",
        "ru": "Идентификатор коллекции, как в /collections (например, minsk-stops)"},
    "The id of a feature in the collection (a positive integer)": {
        "be": "Ідэнтыфікатар аб'екта ў калекцыі (дадатны цэлы лік)",
        "ru": "Идентификатор объекта в коллекции (положительное целое число)"},
    "The format of the response: json (the default; GeoJSON for features), html or jsonld": {
        "be": "Фармат адказу: json (па змаўчанні; для аб'ектаў — GeoJSON), html або jsonld",
        "ru": "Формат ответа: json (по умолчанию; для объектов — GeoJSON), html или jsonld"},
    "The format of the response: json (GeoJSON, the default), html, jsonld or csv": {
        "be": "Фармат адказу: json (GeoJSON, па змаўчанні), html, jsonld або csv",
        "ru": "Формат ответа: json (GeoJSON, по умолчанию), html, jsonld или csv"},
    "The language of titles and descriptions (Belarusian, Russian or English); otherwise "
    "Accept-Language decides": {
        "be": "Мова назваў, апісанняў і паведамленняў (беларуская, руская або англійская); "
              "без яго выбірае Accept-Language",
        "ru": "Язык названий, описаний и сообщений (белорусский, русский или английский); "
              "без него выбирает Accept-Language"},
    "Only features whose geometry intersects the box: minx,miny,maxx,maxy in bbox-crs (CRS84 "
    "longitude/latitude by default)": {
        "be": "Толькі аб'екты, геаметрыя якіх перасякае прамавугольнік: minx,miny,maxx,maxy "
              "у bbox-crs (па змаўчанні CRS84, даўгата/шырата)",
        "ru": "Только объекты, геометрия которых пересекает прямоугольник: minx,miny,maxx,maxy "
              "в bbox-crs (по умолчанию CRS84, долгота/широта)"},
    "The CRS of the bbox coordinates": {"be": "Сістэма каардынат bbox",
                                        "ru": "Система координат bbox"},
    "The CRS of the geometries in the response (EPSG:4326 is latitude first)": {
        "be": "Сістэма каардынат геаметрый у адказе (у EPSG:4326 спачатку шырата)",
        "ru": "Система координат геометрий в ответе (в EPSG:4326 сначала широта)"},
    "Features per page (at most {n}; more is cut to that)": {
        "be": "Аб'ектаў на старонцы (не больш за {n}; большае значэнне памяншаецца да {n})",
        "ru": "Объектов на странице (не более {n}; большее значение уменьшается до {n})"},
    "The number of features to skip (paging; next and prev links carry it)": {
        "be": "Колькасць аб'ектаў, якія трэба прапусціць (старонкі; яго нясуць спасылкі next "
              "і prev)",
        "ru": "Сколько объектов пропустить (постраничный вывод; его несут ссылки next и prev)"},
    "A date, date-time or interval (RFC 3339, '..' for an open end) on the collection's first "
    "date or date-time property; a collection without one answers 400": {
        "be": "Дата, дата з часам або інтэрвал (RFC 3339, '..' — адкрыты канец) па першай "
              "уласцівасці-даце калекцыі; калекцыя без яе адказвае 400",
        "ru": "Дата, дата со временем или интервал (RFC 3339, '..' — открытый конец) по первому "
              "свойству-дате коллекции; коллекция без него отвечает 400"},
    "A CQL2 expression on the collection's queryables, in CQL2 text (name = 'Мінск' AND "
    "floors > 5) or CQL2 JSON": {
        "be": "Выраз CQL2 па палях для фільтра (queryables): тэкст CQL2 (name = 'Мінск' AND "
              "floors > 5) або CQL2 JSON",
        "ru": "Выражение CQL2 по полям для фильтра (queryables): текст CQL2 (name = 'Мінск' AND "
              "floors > 5) или CQL2 JSON"},
    "The encoding of filter (cql-text, the name in drafts, is taken as cql2-text)": {
        "be": "Кадоўка filter (cql-text, назва з чарнавікоў, разумеецца як cql2-text)",
        "ru": "Кодировка filter (cql-text, название из черновиков, понимается как cql2-text)"},
    "The CRS of geometries in filter": {"be": "Сістэма каардынат геаметрый у filter",
                                        "ru": "Система координат геометрий в filter"},
    "Properties to sort by, comma-separated; a leading '-' sorts descending": {
        "be": "Уласцівасці для сартавання праз коску; '-' спераду — па змяншэнні",
        "ru": "Свойства для сортировки через запятую; '-' впереди — по убыванию"},
    "The properties to return, comma-separated": {
        "be": "Уласцівасці, якія вярнуць, праз коску",
        "ru": "Возвращаемые свойства через запятую"},
    "Comma-separated: {names}": {"be": "Праз коску: {names}", "ru": "Через запятую: {names}"},
    "Leave the geometries out": {"be": "Без геаметрый", "ru": "Без геометрий"},
    "Only features whose {title} equals this value": {
        "be": "Толькі аб'екты, у якіх {title} роўна гэтаму значэнню",
        "ru": "Только объекты, у которых {title} равно этому значению"},
    "The tile matrix set": {"be": "Набор матрыц тайлаў", "ru": "Набор матриц тайлов"},
    "The zoom level": {"be": "Узровень маштабу", "ru": "Уровень масштаба"},
    "The row, from the top": {"be": "Радок, зверху", "ru": "Строка, сверху"},
    "The column, from the left": {"be": "Слупок, злева", "ru": "Столбец, слева"},
    "json (OGC tileset metadata, the default) or tilejson": {
        "be": "json (метаданыя набору тайлаў OGC, па змаўчанні) або tilejson",
        "ru": "json (метаданные набора тайлов OGC, по умолчанию) или tilejson"},
    "The feature's ETag as read (GET .../items/{featureId}): the edit is refused with 412 when "
    "the feature changed since; * for any": {
        "be": "ETag аб'екта, як ён быў прачытаны (GET .../items/{featureId}): калі аб'ект з "
              "таго часу змяніўся, змяненне адхіляецца з 412; * — любы",
        "ru": "ETag объекта, как он был прочитан (GET .../items/{featureId}): если объект с тех "
              "пор изменился, правка отклоняется с 412; * — любой"},
    "The CRS of the body's coordinates, in its own axis order (CRS84 when absent)": {
        "be": "Сістэма каардынат цела запыту, у яе ўласным парадку восей (без загалоўка — "
              "CRS84)",
        "ru": "Система координат тела запроса, в её собственном порядке осей (без заголовка — "
              "CRS84)"},
    "Equality filters name=value on any property listed by /collections/{collectionId}/"
    "queryables (OGC API - Features Part 3, queryables as query parameters)": {
        "be": "Фільтры роўнасці name=value па любой уласцівасці з "
              "/collections/{collectionId}/queryables (OGC API - Features, частка 3)",
        "ru": "Фильтры равенства name=value по любому свойству из "
              "/collections/{collectionId}/queryables (OGC API - Features, часть 3)"},

    # -- schemas and responses -------------------------------------------------------------
    "A GeoJSON geometry (RFC 7946), in the requested crs": {
        "be": "Геаметрыя GeoJSON (RFC 7946) у запытанай сістэме каардынат",
        "ru": "Геометрия GeoJSON (RFC 7946) в запрошенной системе координат"},
    "Present and true when numberMatched is an estimate: an exact count of this filter would "
    "have been slow.": {
        "be": "Ёсць і роўна true, калі numberMatched — ацэнка: дакладны падлік па гэтым "
              "фільтры быў бы павольны.",
        "ru": "Есть и равно true, если numberMatched — оценка: точный подсчёт по этому фильтру "
              "был бы медленным."},
    "A JSON Schema (2019-09) of the collection's properties": {
        "be": "JSON Schema (2019-09) уласцівасцей калекцыі",
        "ru": "JSON Schema (2019-09) свойств коллекции"},
    "A CQL2 JSON expression (OGC 21-065)": {"be": "Выраз CQL2 JSON (OGC 21-065)",
                                            "ru": "Выражение CQL2 JSON (OGC 21-065)"},
    "The landing page: links to the API definition, the conformance declaration and the "
    "collections": {
        "be": "Галоўная старонка: спасылкі на апісанне API, адпаведнасць стандартам і калекцыі",
        "ru": "Главная страница: ссылки на описание API, соответствие стандартам и коллекции"},
    "The conformance classes this server implements": {
        "be": "Класы адпаведнасці, якія рэалізуе гэты сервер",
        "ru": "Классы соответствия, которые реализует этот сервер"},
    "Every published collection, with its extent, CRSs and links": {
        "be": "Усе апублікаваныя калекцыі з ахопам, сістэмамі каардынат і спасылкамі",
        "ru": "Все опубликованные коллекции с охватом, системами координат и ссылками"},
    "One collection": {"be": "Адна калекцыя", "ru": "Одна коллекция"},
    "A page of features, with numberMatched and next/prev links": {
        "be": "Старонка аб'ектаў з numberMatched і спасылкамі next/prev",
        "ru": "Страница объектов с numberMatched и ссылками next/prev"},
    "The collection's queryable properties as a JSON Schema": {
        "be": "Палі калекцыі для фільтра ў выглядзе JSON Schema",
        "ru": "Поля коллекции для фильтра в виде JSON Schema"},
    "The collection's properties as a JSON Schema": {
        "be": "Уласцівасці калекцыі ў выглядзе JSON Schema",
        "ru": "Свойства коллекции в виде JSON Schema"},
    "This document": {"be": "Гэты дакумент", "ru": "Этот документ"},
    "A query parameter is unknown or has an invalid value": {
        "be": "Невядомы параметр запыту або недапушчальнае значэнне параметра",
        "ru": "Неизвестный параметр запроса или недопустимое значение параметра"},
    "The requested resource does not exist": {"be": "Запытанага рэсурсу няма",
                                              "ru": "Запрошенного ресурса нет"},
    "A server error occurred": {"be": "Памылка сервера", "ru": "Ошибка сервера"},
    "The feature was added as a new version of the layer; Location names it, ETag is its "
    "validator": {
        "be": "Аб'ект дададзены ў новай версіі пласта; Location называе яго, ETag — яго "
              "валідатар",
        "ru": "Объект добавлен в новой версии слоя; Location называет его, ETag — его "
              "валидатор"},
    "The feature as it now is, in a new version of the layer (header Geoportal-Version); ETag "
    "is its new validator": {
        "be": "Аб'ект, які ён цяпер, у новай версіі пласта (загаловак Geoportal-Version); "
              "ETag — яго новы валідатар",
        "ru": "Объект в его нынешнем виде, в новой версии слоя (заголовок Geoportal-Version); "
              "ETag — его новый валидатор"},
    "The feature was removed, in a new version of the layer": {
        "be": "Аб'ект выдалены ў новай версіі пласта",
        "ru": "Объект удалён в новой версии слоя"},
    "A JSON document": {"be": "Дакумент JSON", "ru": "Документ JSON"},
    "A Mapbox Vector Tile: one layer named after the collection": {
        "be": "Mapbox Vector Tile: адзін слой з назвай калекцыі",
        "ru": "Mapbox Vector Tile: один слой с названием коллекции"},
    "No feature in this tile": {"be": "У гэтым тайле няма аб'ектаў",
                                "ru": "В этом тайле нет объектов"},
    "No valid token (Authorization: Bearer ...)": {
        "be": "Няма сапраўднага токена (Authorization: Bearer ...)",
        "ru": "Нет действительного токена (Authorization: Bearer ...)"},
    "The token may not edit this layer or this place": {
        "be": "Токен не можа змяняць гэты пласт або гэтае месца",
        "ru": "Токен не может изменять этот слой или это место"},
    "If-Match names an older state of the feature": {
        "be": "If-Match называе ранейшы стан аб'екта",
        "ru": "If-Match называет прежнее состояние объекта"},
    "The geometry cannot be published in this layer": {
        "be": "Геаметрыю нельга апублікаваць у гэтым пласце",
        "ru": "Геометрию нельзя опубликовать в этом слое"},

    # -- issue 20: every answer documented (statuses, formats), the download route --------
    "A query parameter is unknown or has an invalid value (in the format f asks for)": {
        "be": "Невядомы параметр запыту або недапушчальнае значэнне параметра (у фармаце, "
              "які просіць f)",
        "ru": "Неизвестный параметр запроса или недопустимое значение параметра (в формате, "
              "который запрашивает f)"},
    "The requested resource does not exist (in the format f asks for)": {
        "be": "Запытанага рэсурсу няма (у фармаце, які просіць f)",
        "ru": "Запрошенного ресурса нет (в формате, который запрашивает f)"},
    "A server error occurred (in the format f asks for)": {
        "be": "Памылка сервера (у фармаце, які просіць f)",
        "ru": "Ошибка сервера (в формате, который запрашивает f)"},
    "The request line is longer than the server takes (a long filter: simplify its "
    "geometry)": {
        "be": "Радок запыту даўжэйшы, чым прымае сервер (доўгі фільтр: спрасціце яго "
              "геаметрыю)",
        "ru": "Строка запроса длиннее, чем принимает сервер (длинный фильтр: упростите его "
              "геометрию)"},
    "Too many requests of this kind from this client (heavy requests per minute, or failed "
    "logins): Retry-After says when to try again": {
        "be": "Зашмат такіх запытаў ад гэтага кліента (цяжкіх запытаў за хвіліну або "
              "няўдалых уваходаў): Retry-After кажа, калі паўтарыць",
        "ru": "Слишком много таких запросов от этого клиента (тяжёлых запросов в минуту или "
              "неудачных входов): Retry-After говорит, когда повторить"},
    "The server is busy or its database is away: Retry-After says when to try again": {
        "be": "Сервер заняты або яго база даных недаступная: Retry-After кажа, калі паўтарыць",
        "ru": "Сервер занят или его база данных недоступна: Retry-After говорит, когда "
              "повторить"},
    "The layer changed meanwhile (another edit or a publish): try again": {
        "be": "Пласт тым часам змяніўся (іншая праўка або публікацыя): паўтарыце",
        "ru": "Слой тем временем изменился (другая правка или публикация): повторите"},
    "The body is too large: publish large sets of features as an upload": {
        "be": "Цела запыту завялікае: публікуйце вялікія наборы аб'ектаў загрузкай",
        "ru": "Тело запроса слишком велико: публикуйте большие наборы объектов загрузкой"},
    "The body is not GeoJSON (Content-Type application/geo+json)": {
        "be": "Цела запыту не GeoJSON (Content-Type application/geo+json)",
        "ru": "Тело запроса не GeoJSON (Content-Type application/geo+json)"},
    "Not changed since the ETag of If-None-Match (or the time of If-Modified-Since)": {
        "be": "Не змянілася пасля ETag з If-None-Match (або часу з If-Modified-Since)",
        "ru": "Не изменилось после ETag из If-None-Match (или времени из If-Modified-Since)"},
    "The file (Content-Disposition names it)": {
        "be": "Файл (яго назва ў Content-Disposition)",
        "ru": "Файл (его имя в Content-Disposition)"},
    "The bytes of a raster's COG a Range asked for": {
        "be": "Байты COG растра, запытаныя праз Range",
        "ru": "Байты COG растра, запрошенные через Range"},
    "The Range lies past the end of the file": {
        "be": "Range ляжыць за канцом файла", "ru": "Range лежит за концом файла"},
    "hits: only numberMatched, no features (results, the default: a page of them)": {
        "be": "hits: толькі numberMatched, без аб'ектаў (results, па змаўчанні: старонка "
              "аб'ектаў)",
        "ru": "hits: только numberMatched, без объектов (results, по умолчанию: страница "
              "объектов)"},
    "Free-text search of the catalog's records (collection catalog): words in Belarusian, "
    "Russian or English; a layer answers 400": {
        "be": "Пошук па тэксце ў запісах каталога (калекцыя catalog): словы па-беларуску, "
              "па-руску або па-англійску; пласт адказвае 400",
        "ru": "Поиск по тексту в записях каталога (коллекция catalog): слова на белорусском, "
              "русском или английском; слой отвечает 400"},
    "With f=html: redoc for ReDoc, else Swagger UI": {
        "be": "З f=html: redoc для ReDoc, інакш Swagger UI",
        "ru": "С f=html: redoc для ReDoc, иначе Swagger UI"},
    "The file format: gpkg (the default), geojson, csv or shp (a zipped Shapefile); a raster "
    "is always its COG (tif)": {
        "be": "Фармат файла: gpkg (па змаўчанні), geojson, csv або shp (Shapefile у zip); "
              "растр заўсёды аддаецца як COG (tif)",
        "ru": "Формат файла: gpkg (по умолчанию), geojson, csv или shp (Shapefile в zip); "
              "растр всегда отдаётся как COG (tif)"},
    "The collection as a file": {"be": "Калекцыя файлам", "ru": "Коллекция файлом"},
    "A vector layer in GeoPackage, GeoJSON, CSV or a zipped Shapefile (whole, or within bbox "
    "and filter, in crs), or a raster's COG (ranged reads work)": {
        "be": "Вектарны пласт у GeoPackage, GeoJSON, CSV або Shapefile у zip (увесь або ў "
              "межах bbox і filter, у crs) ці COG растра (чытанне часткамі працуе)",
        "ru": "Векторный слой в GeoPackage, GeoJSON, CSV или Shapefile в zip (целиком или в "
              "пределах bbox и filter, в crs) либо COG растра (чтение частями работает)"},
}

TEXTS.update(COVERAGE_TEXTS)
OPENAPI_TEXTS = Texts(TEXTS)
