/* The portal pages' own words in Belarusian, Russian and English, and the chosen language.
   The language comes from ?lang=, then the one remembered in this browser, then the page's
   (which the server negotiated from Accept-Language). Every API call carries it as lang=. */
(function () {
  "use strict";
  var WORDS = {
    "portal.title": {be: "Геапартал Беларусі", ru: "Геопортал Беларуси", en: "Geoportal of Belarus"},
    "nav.collections": {be: "Калекцыі", ru: "Коллекции", en: "Collections"},
    "nav.api": {be: "API", ru: "API", en: "API"},
    "nav.admin": {be: "Загрузка", ru: "Загрузка", en: "Upload"},
    "nav.home": {be: "Галоўная", ru: "Главная", en: "Home"},
    "search.label": {be: "Пошук у каталогу", ru: "Поиск в каталоге", en: "Search the catalog"},
    "search.placeholder": {be: "Напрыклад: школы Гродна", ru: "Например: школы Гродно",
                           en: "For example: schools in Grodno"},
    "search.button": {be: "Шукаць", ru: "Искать", en: "Search"},
    "search.theme": {be: "Тэма", ru: "Тема", en: "Theme"},
    "search.any_theme": {be: "Любая тэма", ru: "Любая тема", en: "Any theme"},
    "search.region": {be: "Рэгіён", ru: "Регион", en: "Region"},
    "search.all_belarus": {be: "Уся Беларусь", ru: "Вся Беларусь", en: "All of Belarus"},
    "search.clear": {be: "Скінуць", ru: "Сбросить", en: "Clear"},
    "search.found": {be: "Знойдзена пластоў: {n}", ru: "Найдено слоёв: {n}", en: "Layers found: {n}"},
    "search.none": {be: "Нічога не знойдзена", ru: "Ничего не найдено", en: "Nothing found"},
    "search.failed": {be: "Пошук не атрымаўся: {msg}", ru: "Поиск не удался: {msg}",
                      en: "The search failed: {msg}"},
    "result.open": {be: "Паказаць на карце", ru: "Показать на карте", en: "Show on the map"},
    "result.features": {be: "аб'ектаў: {n}", ru: "объектов: {n}", en: "{n} features"},
    "result.raster": {be: "растр", ru: "растр", en: "raster"},
    "result.updated": {be: "абноўлена {d}", ru: "обновлено {d}", en: "updated {d}"},
    "map.layers": {be: "Пласты на карце", ru: "Слои на карте", en: "Layers on the map"},
    "map.no_layers": {be: "Адкрыйце пласт з вынікаў пошуку.", ru: "Откройте слой из результатов поиска.",
                      en: "Open a layer from the search results."},
    "map.visible": {be: "Паказваць", ru: "Показывать", en: "Visible"},
    "map.opacity": {be: "Непразрыстасць", ru: "Непрозрачность", en: "Opacity"},
    "map.up": {be: "Вышэй", ru: "Выше", en: "Up"},
    "map.down": {be: "Ніжэй", ru: "Ниже", en: "Down"},
    "map.zoom": {be: "Да пласта", ru: "К слою", en: "Zoom to layer"},
    "map.remove": {be: "Прыбраць", ru: "Убрать", en: "Remove"},
    "map.download": {be: "Спампаваць", ru: "Скачать", en: "Download"},
    "map.in_view": {be: "толькі бачная частка карты", ru: "только видимая часть карты",
                    en: "only the part in view"},
    "map.legend": {be: "Легенда", ru: "Легенда", en: "Legend"},
    "identify.title": {be: "Аб'ект", ru: "Объект", en: "Feature"},
    "identify.link": {be: "Аб'ект у OGC API", ru: "Объект в OGC API", en: "This feature in OGC API"},
    "identify.close": {be: "Закрыць", ru: "Закрыть", en: "Close"},
    "identify.value": {be: "Значэнне", ru: "Значение", en: "Value"},
    "admin.title": {be: "Загрузка пласта", ru: "Загрузка слоя", en: "Upload a layer"},
    "admin.token": {be: "Токен", ru: "Токен", en: "Token"},
    "admin.token_help": {be: "Токен, які выдаў адміністратар партала (geoportal token create).",
                         ru: "Токен, выданный администратором портала (geoportal token create).",
                         en: "The token the portal's operator gave you (geoportal token create)."},
    "admin.check": {be: "Праверыць", ru: "Проверить", en: "Check"},
    "admin.whoami": {be: "Токен «{name}»: рэгіёны {regions}", ru: "Токен «{name}»: регионы {regions}",
                     en: "Token \u201c{name}\u201d: regions {regions}"},
    "admin.file": {be: "Файл (Shapefile у zip, GeoPackage, GeoJSON, CSV, KML, GeoTIFF)",
                   ru: "Файл (Shapefile в zip, GeoPackage, GeoJSON, CSV, KML, GeoTIFF)",
                   en: "File (zipped Shapefile, GeoPackage, GeoJSON, CSV, KML, GeoTIFF)"},
    "admin.id": {be: "Ідэнтыфікатар пласта", ru: "Идентификатор слоя", en: "Layer id"},
    "admin.id_help": {be: "Лацінскія літары, лічбы і злучок: grodno-schools",
                      ru: "Латинские буквы, цифры и дефис: grodno-schools",
                      en: "Latin letters, digits and hyphens: grodno-schools"},
    "admin.title_be": {be: "Назва па-беларуску", ru: "Название по-белорусски", en: "Title in Belarusian"},
    "admin.title_ru": {be: "Назва па-руску", ru: "Название по-русски", en: "Title in Russian"},
    "admin.title_en": {be: "Назва па-англійску", ru: "Название по-английски", en: "Title in English"},
    "admin.theme": {be: "Тэма", ru: "Тема", en: "Theme"},
    "admin.region": {be: "Рэгіён", ru: "Регион", en: "Region"},
    "admin.upload": {be: "Загрузіць", ru: "Загрузить", en: "Upload"},
    "admin.uploading": {be: "Загрузка: {p}%", ru: "Загрузка: {p}%", en: "Uploading: {p}%"},
    "admin.job": {be: "Заданне {id}: {state}", ru: "Задание {id}: {state}", en: "Job {id}: {state}"},
    "admin.report": {be: "Справаздача ETL", ru: "Отчёт ETL", en: "ETL report"},
    "admin.versions": {be: "Версіі", ru: "Версии", en: "Versions"},
    "admin.rollback": {be: "Вярнуць гэтую версію", ru: "Вернуть эту версию", en: "Roll back to this version"},
    "admin.current": {be: "бягучая", ru: "текущая", en: "current"},
    "admin.failed": {be: "Не атрымалася: {msg}", ru: "Не удалось: {msg}", en: "Failed: {msg}"},
    // -- issue 19: search and places (helper A) --
    "place.title": {be: "Месцы", ru: "Места", en: "Places"},
    "place.show": {be: "Паказаць на карце", ru: "Показать на карте", en: "Show on the map"},
    "place.in": {be: "пласт: {layer}", ru: "слой: {layer}", en: "layer: {layer}"},
    "place.kind.oblast": {be: "вобласць", ru: "область", en: "oblast"},
    "place.kind.city": {be: "горад", ru: "город", en: "city"},
    "place.kind.raion": {be: "раён", ru: "район", en: "raion"},
    "place.kind.settlement": {be: "населены пункт", ru: "населённый пункт", en: "settlement"},
    "place.kind.station": {be: "чыгуначная станцыя", ru: "железнодорожная станция", en: "railway station"},
    "place.kind.stop": {be: "прыпынак", ru: "остановка", en: "stop"},
    "place.kind.place": {be: "месца", ru: "место", en: "place"},
    "search.near": {be: "Пласты «{what}», якія ахопліваюць: {near}", ru: "Слои «{what}», охватывающие: {near}",
                    en: "Layers of “{what}” covering {near}"},
    "search.too_long": {be: "Тэкст пошуку задоўгі: не больш за {n} сімвалаў.",
                        ru: "Текст поиска слишком длинный: не больше {n} символов.",
                        en: "The search text is too long: at most {n} characters."},
    // -- end of helper A --
    // -- issue 19: layer card and collection page (helper C) --
    // -- end of helper C --
    // -- issue 19: admin page (helper E) --
    "admin.state.queued": {be: "у чарзе", ru: "в очереди", en: "queued"},
    "admin.state.running": {be: "выконваецца", ru: "выполняется", en: "running"},
    "admin.state.done": {be: "гатова", ru: "готово", en: "done"},
    "admin.state.rejected": {be: "адхілена", ru: "отклонено", en: "rejected"},
    "admin.state.failed": {be: "не ўдалося", ru: "не удалось", en: "failed"},
    "admin.network": {be: "сервер не адказвае", ru: "сервер не отвечает", en: "the server could not be reached"},
    "admin.published": {be: "Версія {v} апублікавана.", ru: "Версия {v} опубликована.", en: "Version {v} published."},
    "admin.unchanged": {be: "Файл не змяніўся: новая версія не створана.",
                        ru: "Файл не изменился: новая версия не создана.",
                        en: "The file has not changed: no new version."},
    "admin.map_link": {be: "Паказаць на карце", ru: "Показать на карте", en: "Show on the map"},
    "admin.r.format": {be: "Фармат", ru: "Формат", en: "Format"},
    "admin.r.encoding": {be: "Кадыроўка", ru: "Кодировка", en: "Encoding"},
    "admin.r.crs": {be: "Сістэма каардынат", ru: "Система координат", en: "CRS"},
    "admin.r.geometry": {be: "Тып геаметрыі", ru: "Тип геометрии", en: "Geometry type"},
    "admin.r.raster": {be: "Растр", ru: "Растр", en: "Raster"},
    "admin.r.raster_size": {be: "{w} × {h} пікселяў, каналаў: {n}", ru: "{w} × {h} пикселей, каналов: {n}",
                            en: "{w} × {h} px, bands: {n}"},
    "admin.r.read": {be: "Прачытана аб'ектаў", ru: "Прочитано объектов", en: "Features read"},
    "admin.r.published": {be: "Апублікавана аб'ектаў", ru: "Опубликовано объектов", en: "Features published"},
    "admin.r.set_aside": {be: "Адкладзена", ru: "Отложено", en: "Set aside"},
    "admin.r.repaired": {be: "Выпраўлена", ru: "Исправлено", en: "Repaired"},
    "admin.r.renamed": {be: "Поле перайменавана", ru: "Поле переименовано", en: "Field renamed"},
    "admin.r.note": {be: "Заўвага", ru: "Примечание", en: "Note"},
    "admin.r.version": {be: "Версія", ru: "Версия", en: "Version"},
    "admin.r.json": {be: "Поўная справаздача (JSON)", ru: "Полный отчёт (JSON)", en: "Full report (JSON)"},
    "admin.origin.file": {be: "з файла", ru: "из файла", en: "from the file"},
    "admin.origin.manifest": {be: "з маніфеста", ru: "из манифеста", en: "from the manifest"},
    "admin.origin.detected": {be: "вызначана аўтаматычна", ru: "определена автоматически", en: "detected"},
    "admin.conf.high": {be: "высокая ўпэўненасць", ru: "высокая уверенность", en: "high confidence"},
    "admin.conf.medium": {be: "сярэдняя ўпэўненасць", ru: "средняя уверенность", en: "medium confidence"},
    "admin.conf.low": {be: "нізкая ўпэўненасць", ru: "низкая уверенность", en: "low confidence"},
    "admin.why.no_geometry": {be: "няма геаметрыі", ru: "нет геометрии", en: "no geometry"},
    "admin.why.empty_geometry": {be: "пустая геаметрыя", ru: "пустая геометрия", en: "empty geometry"},
    "admin.why.not_transformed": {be: "каардынаты не ўдалося пераўтварыць", ru: "координаты не удалось преобразовать",
                                  en: "coordinates could not be transformed"},
    "admin.why.far_outside": {be: "па-за рэгіёнам пласта (няправільная сістэма каардынат або каардынаты 0,0?)",
                              ru: "вне региона слоя (неверная система координат или координаты 0,0?)",
                              en: "outside the layer's region (wrong CRS or 0,0 coordinates?)"},
    "admin.fix.made_valid": {be: "геаметрыя выпраўлена (самаперасячэнні, няправільныя кольцы)",
                             ru: "геометрия исправлена (самопересечения, неправильные кольца)",
                             en: "made valid (self-intersections, bad rings)"},
    "admin.fix.repeated": {be: "выдалены паўторныя вяршыні", ru: "удалены повторяющиеся вершины",
                           en: "repeated vertices removed"},
    "admin.fix.oriented": {be: "кольцы арыентаваны супраць гадзіннікавай стрэлкі (RFC 7946)",
                           ru: "кольца ориентированы против часовой стрелки (RFC 7946)",
                           en: "rings oriented counter-clockwise (RFC 7946)"},
    "admin.fix.no_z": {be: "вышыня (Z) адкінута: сховішча двухмернае", ru: "высота (Z) отброшена: хранилище двумерное",
                       en: "Z (height) dropped: the store is 2D"},
    "admin.fix.promoted": {be: "адзіночныя часткі захаваны як {type}", ru: "одиночные части сохранены как {type}",
                           en: "single parts stored as {type}"},
    "admin.rb.title": {be: "Вярнуць версію {v}?", ru: "Вернуть версию {v}?", en: "Roll back to version {v}?"},
    "admin.rb.text": {be: "Пласт «{layer}» зноў будзе паказваць версію {v}. Версія {cur} застанецца ў спісе, і да яе можна будзе вярнуцца.",
                      ru: "Слой «{layer}» снова будет показывать версию {v}. Версия {cur} останется в списке, и к ней можно будет вернуться.",
                      en: "Layer “{layer}” will serve version {v} again. Version {cur} stays in the list and can be restored."},
    "admin.rb.cancel": {be: "Скасаваць", ru: "Отмена", en: "Cancel"},
    "admin.rb.confirm": {be: "Вярнуць", ru: "Вернуть", en: "Roll back"},
    "admin.rb.done": {be: "Версія {v} пласта «{layer}» зноў бягучая.", ru: "Версия {v} слоя «{layer}» снова текущая.",
                      en: "Version {v} of “{layer}” is current again."},
    // -- end of helper E --
    // -- issue 19: robustness (helper F) --
    "skip.map": {be: "Перайсці да карты", ru: "Перейти к карте", en: "Skip to the map"},
    "skip.main": {be: "Перайсці да зместу", ru: "Перейти к содержимому", en: "Skip to the content"},
    "admin.why.geometry_type": {be: "геаметрыя {found} у пласце {target}", ru: "геометрия {found} в слое {target}",
                                en: "geometry type {found} in a {target} layer"},
    "admin.why.collection": {be: "GeometryCollection з {parts} у пласце {target}",
                             ru: "GeometryCollection из {parts} в слое {target}",
                             en: "GeometryCollection of {parts} in a {target} layer"},
    "admin.why.multipart": {be: "{type} з {n} частак у пласце {target}", ru: "{type} из {n} частей в слое {target}",
                            en: "{type} of {n} parts in a {target} layer"},
    "admin.why.vertices": {be: "{count} вяршынь, больш за {cap}, колькі можа мець аб'ект (спрасціце або падзяліце яго перад публікацыяй)",
                           ru: "{count} вершин, больше {cap}, допустимых для объекта (упростите или разделите его перед публикацией)",
                           en: "{count} vertices, more than the {cap} a feature may have (simplify it, or split it, before publishing)"},
    "loading": {be: "Загрузка…", ru: "Загрузка…", en: "Loading…"},
    "region.map": {be: "Карта рэгіёнаў: стрэлкі — рух, Enter — выбар", ru: "Карта регионов: стрелки — переход, Enter — выбор",
                   en: "Region map: arrow keys move, Enter chooses"},
    "notice.close": {be: "Закрыць паведамленне", ru: "Закрыть сообщение", en: "Close the notice"},
    "notice.view_ignored": {be: "Пазіцыя карты ў спасылцы нечытэльная: паказана ўся Беларусь.",
                            ru: "Положение карты в ссылке не читается: показана вся Беларусь.",
                            en: "The map position in the link could not be read: all of Belarus is shown."},
    "notice.view_clamped": {be: "Пазіцыя карты ў спасылцы была за межамі: яна выпраўлена.",
                            ru: "Положение карты в ссылке было вне допустимых пределов: оно исправлено.",
                            en: "The map position in the link was out of range: it was adjusted."},
    "notice.layer_gone": {be: "Пласт «{id}» больш не апублікаваны.", ru: "Слой «{id}» больше не опубликован.",
                          en: "The layer “{id}” is no longer published."},
    "notice.layer_failed": {be: "Пласт «{id}» не адкрыўся: {msg}", ru: "Слой «{id}» не открылся: {msg}",
                            en: "The layer “{id}” could not be opened: {msg}"},
    "notice.failed": {be: "Старонка загрузілася не цалкам: {msg}", ru: "Страница загрузилась не полностью: {msg}",
                      en: "The page did not load completely: {msg}"},
    "error.too_long": {be: "Запыт задоўгі: скараціце яго.", ru: "Запрос слишком длинный: сократите его.",
                       en: "The request is too long: shorten it."},
    "error.status": {be: "Сервер адказаў памылкай {status}.", ru: "Сервер ответил ошибкой {status}.",
                     en: "The server answered with error {status}."},
    "error.unreadable": {be: "Адказ сервера нечытэльны.", ru: "Ответ сервера не читается.",
                         en: "The server's answer could not be read."},
    // -- end of helper F --
    // -- issue 19: layer metadata (helper G) --
    // -- end of helper G --
    // -- issue 19: feature info (helper J) --
    "identify.list": {be: "Аб'ектаў тут: {n}", ru: "Объектов здесь: {n}", en: "{n} features here"},
    "identify.back": {be: "Да спісу", ru: "К списку", en: "Back to the list"},
    "identify.more": {be: "і яшчэ {n}: наблізьце карту", ru: "и ещё {n}: приблизьте карту",
                      en: "and {n} more: zoom in"},
    "identify.unnamed": {be: "Аб'ект {id}", ru: "Объект {id}", en: "Feature {id}"},
    "identify.yes": {be: "так", ru: "да", en: "yes"},
    "identify.no": {be: "не", ru: "нет", en: "no"},
    "identify.nodata": {be: "няма даных", ru: "нет данных", en: "no data"},
    "identify.above": {be: "па-за легендай (максімум {max})", ru: "за пределами легенды (максимум {max})",
                       en: "beyond the legend (max {max})"},
    "identify.below": {be: "па-за легендай (мінімум {min})", ru: "за пределами легенды (минимум {min})",
                       en: "beyond the legend (min {min})"},
    "identify.failed": {be: "Не ўдалося прачытаць аб'ект: {msg}", ru: "Не удалось прочитать объект: {msg}",
                        en: "The feature could not be read: {msg}"},
    // -- end of helper J --
    // -- issue 19: viewer tools (helper H) --
    "tools.title": {be: "Інструменты карты", ru: "Инструменты карты", en: "Map tools"},
    "tools.goto": {be: "Перайсці да каардынат", ru: "Перейти к координатам", en: "Go to coordinates"},
    "tools.goto_label": {be: "Каардынаты", ru: "Координаты", en: "Coordinates"},
    "tools.go": {be: "Перайсці", ru: "Перейти", en: "Go"},
    "tools.goto_hint": {be: "53.9, 27.56 або 53°54′N 27°34′E", ru: "53.9, 27.56 или 53°54′N 27°34′E",
                        en: "53.9, 27.56 or 53°54′N 27°34′E"},
    "tools.goto_hint_m": {be: "Дзве лічбы ў метрах або градусы", ru: "Два числа в метрах или градусы",
                          en: "Two numbers in metres, or degrees"},
    "tools.goto_empty": {be: "Увядзіце каардынаты.", ru: "Введите координаты.", en: "Enter coordinates."},
    "tools.goto_bad": {be: "Каардынаты не распазнаны: дзве лічбы (шырата, даўгата) або градусы з мінутамі.",
                       ru: "Координаты не распознаны: два числа (широта, долгота) или градусы с минутами.",
                       en: "These coordinates could not be read: two numbers (latitude, longitude) or degrees and minutes."},
    "tools.goto_need_crs": {be: "Для метраў выберыце сістэму каардынат ГК або UTM.",
                            ru: "Для метров выберите систему координат ГК или UTM.",
                            en: "For metres, choose the GK or UTM coordinate system first."},
    "tools.goto_far": {be: "Гэты пункт далёка ад Беларусі: праверце каардынаты і іх парадак.",
                       ru: "Эта точка далеко от Беларуси: проверьте координаты и их порядок.",
                       en: "This point is far from Belarus: check the coordinates and their order."},
    "tools.goto_zone": {be: "Y не ў выбранай зоне ГК (першая лічба Y — нумар зоны).",
                        ru: "Y не в выбранной зоне ГК (первая цифра Y — номер зоны).",
                        en: "Y is not in the chosen GK zone (Y's first digit is the zone number)."},
    "tools.goto_done": {be: "Паказана: {at}", ru: "Показано: {at}", en: "Shown: {at}"},
    "tools.crs": {be: "Сістэма каардынат", ru: "Система координат", en: "Coordinate system"},
    "tools.crs_wgs84": {be: "WGS 84, градусы", ru: "WGS 84, градусы", en: "WGS 84, degrees"},
    "tools.crs_dms": {be: "WGS 84, ° ′ ″", ru: "WGS 84, ° ′ ″", en: "WGS 84, ° ′ ″"},
    "tools.crs_gk": {be: "Пулкава 1942, ГК (зона па даўгаце)", ru: "Пулково 1942, ГК (зона по долготе)",
                     en: "Pulkovo 1942 GK (zone by longitude)"},
    "tools.crs_gk4": {be: "Пулкава 1942, ГК зона 4", ru: "Пулково 1942, ГК зона 4", en: "Pulkovo 1942 GK zone 4"},
    "tools.crs_gk5": {be: "Пулкава 1942, ГК зона 5", ru: "Пулково 1942, ГК зона 5", en: "Pulkovo 1942 GK zone 5"},
    "tools.crs_gk6": {be: "Пулкава 1942, ГК зона 6", ru: "Пулково 1942, ГК зона 6", en: "Pulkovo 1942 GK zone 6"},
    "tools.crs_gk7": {be: "Пулкава 1942, ГК зона 7", ru: "Пулково 1942, ГК зона 7", en: "Pulkovo 1942 GK zone 7"},
    "tools.crs_utm": {be: "UTM (зона па даўгаце)", ru: "UTM (зона по долготе)", en: "UTM (zone by longitude)"},
    "tools.crs_utm34": {be: "UTM 34N", ru: "UTM 34N", en: "UTM 34N"},
    "tools.crs_utm35": {be: "UTM 35N", ru: "UTM 35N", en: "UTM 35N"},
    "tools.crs_utm36": {be: "UTM 36N", ru: "UTM 36N", en: "UTM 36N"},
    "tools.zone": {be: "зона {n}", ru: "зона {n}", en: "zone {n}"},
    "tools.copy": {be: "Скапіраваць каардынаты", ru: "Скопировать координаты", en: "Copy the coordinates"},
    "tools.copied": {be: "Скапіравана", ru: "Скопировано", en: "Copied"},
    "tools.copy_failed": {be: "Не скапіравалася", ru: "Не скопировалось", en: "Could not copy"},
    "tools.measure_distance": {be: "Вымераць адлегласць", ru: "Измерить расстояние", en: "Measure a distance"},
    "tools.measure_area": {be: "Вымераць плошчу", ru: "Измерить площадь", en: "Measure an area"},
    "tools.measure_hint_line": {be: "Пстрыкайце па карце; падвойная пстрычка або «Гатова» завяршае, Esc — адмена.",
                                ru: "Щёлкайте по карте; двойной щелчок или «Готово» завершает, Esc — отмена.",
                                en: "Click points on the map; double-click or Finish ends, Esc cancels."},
    "tools.measure_hint_area": {be: "Пстрыкніце тры ці больш вяршынь; падвойная пстрычка або «Гатова» завяршае, Esc — адмена.",
                                ru: "Щёлкните три или больше вершин; двойной щелчок или «Готово» завершает, Esc — отмена.",
                                en: "Click three or more corners; double-click or Finish ends, Esc cancels."},
    "tools.distance_is": {be: "Адлегласць: {v}", ru: "Расстояние: {v}", en: "Distance: {v}"},
    "tools.area_is": {be: "Плошча: {v}; перыметр {p}", ru: "Площадь: {v}; периметр {p}",
                      en: "Area: {v}; perimeter {p}"},
    "tools.finish": {be: "Гатова", ru: "Готово", en: "Finish"},
    "tools.clear": {be: "Ачысціць", ru: "Очистить", en: "Clear"},
    "tools.m": {be: "м", ru: "м", en: "m"},
    "tools.km": {be: "км", ru: "км", en: "km"},
    "tools.m2": {be: "м²", ru: "м²", en: "m²"},
    "tools.ha": {be: "га", ru: "га", en: "ha"},
    "tools.km2": {be: "км²", ru: "км²", en: "km²"},
    "tools.export": {be: "Захаваць выяву карты (PNG)", ru: "Сохранить изображение карты (PNG)",
                     en: "Save the map as an image (PNG)"},
    "tools.export_failed": {be: "Выява не захавалася: {msg}", ru: "Изображение не сохранилось: {msg}",
                            en: "The image could not be saved: {msg}"},
    "tools.print": {be: "Друкаваць карту (або PDF)", ru: "Печать карты (или PDF)", en: "Print the map (or PDF)"},
    "tools.lib_failed": {be: "Бібліятэка інструмента не загрузілася.", ru: "Библиотека инструмента не загрузилась.",
                         en: "The tool's library did not load."},
    // -- end of helper H --
    // -- issue 19: embed, series, basemaps (helper K) --
    "viewer.series": {be: "Серыя: {title}", ru: "Серия: {title}", en: "Series: {title}"},
    "viewer.basemap": {be: "Падкладка", ru: "Подложка", en: "Basemap"},
    "viewer.base_portal": {be: "Карта партала", ru: "Карта портала", en: "Portal map"},
    "viewer.base_plain": {be: "Просты фон", ru: "Простой фон", en: "Plain background"},
    "viewer.base_gone": {be: "Падкладкі «{id}» са спасылкі больш няма: паказана карта партала.",
                         ru: "Подложки «{id}» из ссылки больше нет: показана карта портала.",
                         en: "The basemap “{id}” of the link is no longer published: the portal map is shown."},
    "embed.button": {be: "Падзяліцца / убудаваць", ru: "Поделиться / встроить",
                     en: "Share / embed"},
    "embed.title": {be: "Падзяліцца гэтай картай", ru: "Поделиться этой картой",
                    en: "Share this map"},
    "embed.link": {be: "Спасылка на гэты від", ru: "Ссылка на этот вид", en: "Link to this view"},
    "embed.snippet": {be: "Код для ўбудавання ў старонку (iframe)",
                      ru: "Код для встраивания в страницу (iframe)",
                      en: "Code to embed in a web page (iframe)"},
    "embed.note": {be: "Убудаваная карта паказвае той самы від і пласты; наведвальнік можа адкрыць яе на партале.",
                   ru: "Встроенная карта показывает тот же вид и слои; посетитель может открыть её на портале.",
                   en: "The embedded map shows the same view and layers; a visitor can open it in the portal."},
    "embed.copy": {be: "Скапіраваць", ru: "Копировать", en: "Copy"},
    "embed.copied": {be: "Скапіравана", ru: "Скопировано", en: "Copied"},
    "embed.copy_failed": {be: "Не ўдалося скапіраваць: вылучыце тэкст і скапіруйце яго",
                          ru: "Не удалось скопировать: выделите текст и скопируйте его",
                          en: "Could not copy: select the text and copy it"},
    "embed.close": {be: "Закрыць", ru: "Закрыть", en: "Close"},
    "embed.frame_title": {be: "Карта Геапартала Беларусі", ru: "Карта Геопортала Беларуси",
                          en: "Map of the Geoportal of Belarus"},
    "embed.open": {be: "Адкрыць на партале", ru: "Открыть на портале", en: "Open in the portal"},
    // -- end of helper K --
    // -- issue 19: phone layout (helper P) --
    "phone.sheet.open": {be: "Разгарнуць панэль пошуку", ru: "Развернуть панель поиска",
                         en: "Expand the search panel"},
    "phone.sheet.full": {be: "Разгарнуць панэль на ўвесь экран", ru: "Развернуть панель на весь экран",
                         en: "Expand the panel to the full screen"},
    "phone.sheet.close": {be: "Згарнуць панэль і паказаць карту", ru: "Свернуть панель и показать карту",
                          en: "Collapse the panel and show the map"},
    // -- end of helper P --
    // -- issue 19: weight (helper W) --
    // -- end of helper W --
  };
  var LANGS = ["be", "ru", "en"];
  /* where the portal is (the server's path prefix, "" at the root), from the page */
  window.PORTAL = {base: document.documentElement.getAttribute("data-base") || ""};

  function chosen() {
    var fromUrl = new URLSearchParams(location.search).get("lang") ||
      new URLSearchParams(location.hash.replace(/^#/, "")).get("lang");
    if (fromUrl && LANGS.indexOf(fromUrl.slice(0, 2)) >= 0) return fromUrl.slice(0, 2);
    try {
      var kept = localStorage.getItem("geoportal.lang");
      if (kept && LANGS.indexOf(kept) >= 0) return kept;
    } catch (e) { /* storage may be off */ }
    var page = (document.documentElement.lang || "en").slice(0, 2);
    return LANGS.indexOf(page) >= 0 ? page : "en";
  }

  var I18N = {
    lang: chosen(),
    languages: LANGS,
    t: function (key, values) {
      var entry = WORDS[key];
      var text = entry ? (entry[I18N.lang] || entry.en) : key;
      Object.keys(values || {}).forEach(function (name) {
        text = text.split("{" + name + "}").join(String(values[name]));
      });
      return text;
    },
    /* A {be, ru, en} object in the chosen language, else English, else any. */
    pick: function (texts, fallback) {
      if (!texts || typeof texts !== "object") return texts || fallback || "";
      return texts[I18N.lang] || texts.en || Object.values(texts)[0] || fallback || "";
    },
    apply: function (root) {
      (root || document).querySelectorAll("[data-i18n]").forEach(function (el) {
        el.textContent = I18N.t(el.getAttribute("data-i18n"));
      });
      (root || document).querySelectorAll("[data-i18n-placeholder]").forEach(function (el) {
        el.setAttribute("placeholder", I18N.t(el.getAttribute("data-i18n-placeholder")));
      });
      document.documentElement.lang = I18N.lang;
      document.querySelectorAll("[data-lang]").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b.getAttribute("data-lang") === I18N.lang));
      });
    },
    set: function (lang) {
      if (LANGS.indexOf(lang) < 0) return;
      I18N.lang = lang;
      try { localStorage.setItem("geoportal.lang", lang); } catch (e) { /* ignore */ }
      I18N.apply();
      document.dispatchEvent(new CustomEvent("portal:lang", {detail: lang}));
    }
  };
  window.I18N = I18N;
  document.addEventListener("DOMContentLoaded", function () {
    I18N.apply();
    document.querySelectorAll("[data-lang]").forEach(function (b) {
      b.addEventListener("click", function () { I18N.set(b.getAttribute("data-lang")); });
    });
  });
})();
