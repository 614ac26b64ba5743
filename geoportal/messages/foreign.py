"""Texts that reach users from the libraries under us, already formatted: werkzeug's HTTP
answers and pygeoapi's own messages on its routes (and our last-resort 500 sentence).

They do not come with a message id, so they are the one table matched as finished text: a key
is the English as the library formats it, with ``{name}`` for a value
(``geoportal.i18n.Texts``). Our own raise sites never rely on that: they pass an id
(``geoportal.i18n.tr``), see ``geoportal.messages``.
"""

from __future__ import annotations

__all__ = ["FOREIGN"]

FOREIGN: dict[str, dict[str, str]] = {
    # -- generic HTTP answers (werkzeug's texts, our own handlers) ---------------------------
    "The browser (or proxy) sent a request that this server could not understand.": {
        "be": "Браўзер (або проксі) даслаў запыт, які сервер не можа зразумець.",
        "ru": "Браузер (или прокси) отправил запрос, который сервер не может понять."},
    "The server could not verify that you are authorized to access the URL requested. You "
    "either supplied the wrong credentials (e.g. a bad password), or your browser doesn't "
    "understand how to supply the credentials required.": {
        "be": "Сервер не змог праверыць, ці маеце вы доступ да гэтага адраса: уліковыя даныя "
              "няправільныя або не дасланыя.",
        "ru": "Сервер не смог проверить, есть ли у вас доступ к этому адресу: учётные данные "
              "неверны или не переданы."},
    "You don't have the permission to access the requested resource. It is either "
    "read-protected or not readable by the server.": {
        "be": "У вас няма дазволу на доступ да гэтага рэсурсу.",
        "ru": "У вас нет разрешения на доступ к этому ресурсу."},
    "The requested URL was not found on the server. If you entered the URL manually please "
    "check your spelling and try again.": {
        "be": "Запытаны адрас на серверы не знойдзены. Калі вы ўвялі яго ўручную, праверце "
              "напісанне і паспрабуйце зноў.",
        "ru": "Запрошенный адрес на сервере не найден. Если вы ввели его вручную, проверьте "
              "написание и попробуйте снова."},
    "The method is not allowed for the requested URL.": {
        "be": "Гэты метад не дазволены для запытанага адраса.",
        "ru": "Этот метод не разрешён для запрошенного адреса."},
    "The resource identified by the request is only capable of generating response entities "
    "which have content characteristics not acceptable according to the accept headers sent "
    "in the request.": {
        "be": "Рэсурс не можа адказаць у фармаце, які дапускаюць загалоўкі Accept запыту.",
        "ru": "Ресурс не может ответить в формате, допустимом по заголовкам Accept запроса."},
    "A conflict happened while processing the request. The resource might have been modified "
    "while the request was being processed.": {
        "be": "Канфлікт пры апрацоўцы запыту: рэсурс мог змяніцца за гэты час.",
        "ru": "Конфликт при обработке запроса: ресурс мог измениться за это время."},
    "The precondition on the request for the URL failed positive evaluation.": {
        "be": "Папярэдняя ўмова запыту (If-Match і падобныя) не выканана.",
        "ru": "Предварительное условие запроса (If-Match и подобные) не выполнено."},
    "The data value transmitted exceeds the capacity limit.": {
        "be": "Дасланыя даныя перавышаюць дапушчальны памер.",
        "ru": "Переданные данные превышают допустимый размер."},
    "The server does not support the media type transmitted in the request.": {
        "be": "Сервер не падтрымлівае тып даных (Content-Type), дасланы ў запыце.",
        "ru": "Сервер не поддерживает тип данных (Content-Type), переданный в запросе."},
    "The request was well-formed but was unable to be followed due to semantic errors.": {
        "be": "Запыт складзены правільна, але выканаць яго немагчыма: памылка ў змесце.",
        "ru": "Запрос составлен правильно, но выполнить его невозможно: ошибка в содержании."},
    "This user has exceeded an allotted request count. Try again later.": {
        "be": "Перавышана колькасць запытаў. Паспрабуйце пазней.",
        "ru": "Превышено число запросов. Попробуйте позже."},
    "The server encountered an internal error and was unable to complete your request. Either "
    "the server is overloaded or there is an error in the application.": {
        "be": "Унутраная памылка сервера: запыт не выкананы.",
        "ru": "Внутренняя ошибка сервера: запрос не выполнен."},
    "the request is too large: uploads may be up to {n} MiB (max_upload_mb)": {
        "be": "запыт занадта вялікі: загрузка можа быць да {n} МіБ (max_upload_mb)",
        "ru": "запрос слишком велик: загрузка может быть до {n} МиБ (max_upload_mb)"},
    "internal error; quote request id {id}": {
        "be": "унутраная памылка; назавіце ідэнтыфікатар запыту {id}",
        "ru": "внутренняя ошибка; сообщите идентификатор запроса {id}"},

    # -- pygeoapi's own texts on its routes ----------------------------------------------------
    "Collection not found": {"be": "Калекцыя не знойдзена", "ru": "Коллекция не найдена"},
    "queryables not available for this collection": {
        "be": "у гэтай калекцыі няма queryables (палёў для фільтра)",
        "ru": "у этой коллекции нет queryables (полей для фильтра)"},
    "unknown properties specified": {
        "be": "properties: названы невядомыя ўласцівасці",
        "ru": "properties: названы неизвестные свойства"},
    "offset value should be positive or zero": {
        "be": "offset павінен быць нулём або дадатным лікам",
        "ru": "offset должен быть нулём или положительным числом"},
    "offset value should be an integer": {
        "be": "offset павінен быць цэлым лікам", "ru": "offset должен быть целым числом"},
    "limit value should be an integer": {
        "be": "limit павінен быць цэлым лікам", "ru": "limit должен быть целым числом"},
    "limit value should be strictly positive": {
        "be": "limit павінен быць большы за нуль", "ru": "limit должен быть больше нуля"},
    "Limit of {max} exceeded": {"be": "перавышаны limit {max}", "ru": "превышен limit {max}"},
    "Invalid provider type": {"be": "няправільны тып правайдара",
                              "ru": "неверный тип провайдера"},
    "bbox-crs specified without bbox parameter": {
        "be": "bbox-crs зададзены без параметра bbox", "ru": "bbox-crs задан без параметра bbox"},
    "bbox-crs specified but is empty": {
        "be": "bbox-crs зададзены, але пусты", "ru": "bbox-crs задан, но пуст"},
    "bbox-crs {crs} not supported for this collection": {
        "be": "bbox-crs {crs} не падтрымліваецца для гэтай калекцыі",
        "ru": "bbox-crs {crs} не поддерживается для этой коллекции"},
    "bad sortby property": {"be": "sortby: невядомая ўласцівасць",
                            "ru": "sortby: неизвестное свойство"},
    "Bad CQL text": {"be": "памылка ў тэксце CQL", "ru": "ошибка в тексте CQL"},
    "Bad CQL JSON": {"be": "памылка ў CQL JSON", "ru": "ошибка в CQL JSON"},
    "Invalid filter language": {"be": "няправільная мова фільтра (filter-lang)",
                                "ru": "неверный язык фильтра (filter-lang)"},
    "Error serializing output": {"be": "не ўдалося сфармаваць адказ",
                                 "ru": "не удалось сформировать ответ"},
    "Collection is not editable": {"be": "калекцыю нельга рэдагаваць",
                                   "ru": "коллекцию нельзя редактировать"},
    "No data found": {"be": "даныя не знойдзены", "ru": "данные не найдены"},
    "identifier not found": {"be": "ідэнтыфікатар не знойдзены",
                             "ru": "идентификатор не найден"},
    "Invalid format requested": {"be": "запытаны фармат (f) не падтрымліваецца",
                                 "ru": "запрошенный формат (f) не поддерживается"},
    "bbox should be either 4 values (minx,miny,maxx,maxy) or 6 values "
    "(minx,miny,minz,maxx,maxy,maxz)": {
        "be": "bbox павінен мець 4 значэнні (minx,miny,maxx,maxy) або 6 значэнняў "
              "(minx,miny,minz,maxx,maxy,maxz)",
        "ru": "bbox должен состоять из 4 значений (minx,miny,maxx,maxy) или 6 значений "
              "(minx,miny,minz,maxx,maxy,maxz)"},
    "bbox values must be numbers": {"be": "значэнні bbox павінны быць лікамі",
                                    "ru": "значения bbox должны быть числами"},
    "miny should be less than maxy": {"be": "miny павінен быць меншы за maxy",
                                      "ru": "miny должен быть меньше maxy"},
    "minx is greater than maxx (possibly antimeridian bbox)": {
        "be": "minx большы за maxx (магчыма, bbox праз антымерыдыян)",
        "ru": "minx больше maxx (возможно, bbox через антимеридиан)"},
    "minz should be less than maxz": {"be": "minz павінен быць меншы за maxz",
                                      "ru": "minz должен быть меньше maxz"},
    "datetime parameter out of range": {
        "be": "datetime па-за часавым ахопам калекцыі",
        "ru": "datetime вне временного охвата коллекции"},
    "CRS {crs} not supported for this collection. List of supported CRSs: {crs_list}.": {
        "be": "CRS {crs} не падтрымліваецца для гэтай калекцыі. Падтрымліваюцца: {crs_list}.",
        "ru": "CRS {crs} не поддерживается для этой коллекции. Поддерживаются: {crs_list}."},
    "generic error (check logs)": {"be": "памылка (гл. журнал сервера)",
                                   "ru": "ошибка (см. журнал сервера)"},
    "connection error (check logs)": {"be": "памылка злучэння (гл. журнал сервера)",
                                      "ru": "ошибка соединения (см. журнал сервера)"},
    "query error": {"be": "памылка запыту", "ru": "ошибка запроса"},
    "query error (check logs)": {"be": "памылка запыту (гл. журнал сервера)",
                                 "ru": "ошибка запроса (см. журнал сервера)"},
}
