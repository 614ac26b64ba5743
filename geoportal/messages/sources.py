"""Messages raised while the ETL opens and reads a source (geoportal/etl: sandbox, sources,
readers, MapInfo, sheets, detection).

Keyed by message id (the English template); see ``geoportal.messages``.
"""

from __future__ import annotations

__all__ = ["SOURCES", "SOURCES_FRAGMENTS"]

SOURCES: dict[str, dict[str, str]] = {
    # -- the sandbox: XML, JSON, zip members and limits (etl/sandbox.py) -------------------
    "{file}: the XML's root element is <{root}>, not <{expected}>; send a {kind} file": {
        "be": "{file}: каранёвы элемент XML — <{root}>, а не <{expected}>; дашліце файл {kind}",
        "ru": "{file}: корневой элемент XML — <{root}>, а не <{expected}>; пришлите файл "
              "{kind}"},
    "{file}: not readable XML at its start; check the file is complete": {
        "be": "{file}: пачатак файла не чытаецца як XML; праверце, што файл поўны",
        "ru": "{file}: начало файла не читается как XML; проверьте, что файл полный"},
    "{file}: the JSON escapes plain letters (\\u00..); save it again without escaping ASCII": {
        "be": "{file}: у JSON экранаваныя звычайныя літары (\\u00..); захавайце яго зноў без "
              "экранавання ASCII",
        "ru": "{file}: в JSON экранированы обычные буквы (\\u00..); сохраните его заново без "
              "экранирования ASCII"},
    "{file}: member {member} is encrypted; zip it again without a password": {
        "be": "{file}: член {member} зашыфраваны; запакуйце архіў зноў без пароля",
        "ru": "{file}: элемент {member} зашифрован; упакуйте архив заново без пароля"},
    "{file}: member {member} is compressed with a method the server does not read; zip it "
    "again with the usual (deflate) compression": {
        "be": "{file}: член {member} сціснуты метадам, які сервер не чытае; запакуйце архіў "
              "зноў звычайным сцісканнем (deflate)",
        "ru": "{file}: элемент {member} сжат методом, который сервер не читает; упакуйте архив "
              "заново обычным сжатием (deflate)"},
    "{file}: member {member}: the content is not {suffix} as the extension says": {
        "be": "{file}: член {member}: змесціва не {suffix}, як кажа пашырэнне",
        "ru": "{file}: элемент {member}: содержимое не {suffix}, как говорит расширение"},
    "{file}: member {member}: describes a GDAL dataset ({marker}); send the data itself": {
        "be": "{file}: член {member}: апісвае набор даных GDAL ({marker}); дашліце самі даныя",
        "ru": "{file}: элемент {member}: описывает набор данных GDAL ({marker}); пришлите сами "
              "данные"},
    "{file}: member {member}: the XML declares a DTD (<!DOCTYPE>); send it without one": {
        "be": "{file}: член {member}: XML аб'яўляе DTD (<!DOCTYPE>); дашліце яго без DTD",
        "ru": "{file}: элемент {member}: XML объявляет DTD (<!DOCTYPE>); пришлите его без DTD"},
    "{file}: not a readable zip archive; make the archive again and upload it": {
        "be": "{file}: zip-архіў не чытаецца; стварыце архіў нанова і запампуйце яго",
        "ru": "{file}: zip-архив не читается; создайте архив заново и загрузите его"},
    "{file}: member {member} points outside the archive": {
        "be": "{file}: член {member} вядзе за межы архіва",
        "ru": "{file}: элемент {member} указывает за пределы архива"},
    "{file}: member {member} is a symbolic link; archive the file it points to instead": {
        "be": "{file}: член {member} — сімвалічная спасылка; дадайце ў архіў сам файл, на які "
              "яна паказвае",
        "ru": "{file}: элемент {member} — символическая ссылка; добавьте в архив сам файл, на "
              "который она указывает"},
    "{file}: the archive unpacks to more than {size}, the most one upload may take": {
        "be": "{file}: архіў распакоўваецца ў больш чым {size} — больш, чым можа заняць адна "
              "запампоўка",
        "ru": "{file}: архив распаковывается в более чем {size} — больше, чем может занять "
              "одна загрузка"},
    "{what} has a compression ratio of {ratio}, which is more than a zip bomb limit of "
    "{limit}:1": {
        "be": "{what}: ступень сціскання {ratio} перавышае мяжу для zip-бомбы {limit}:1",
        "ru": "{what}: степень сжатия {ratio} превышает порог для zip-бомбы {limit}:1"},
    "{file}: the archive has more than {limit} members, the most one upload may have": {
        "be": "{file}: у архіве больш за {limit} членаў — больш, чым можа мець адна запампоўка",
        "ru": "{file}: в архиве более {limit} элементов — больше, чем может иметь одна "
              "загрузка"},
    # -- zips of tables, Shapefiles, text encodings, columns (etl/sources.py) ---------------
    "{file}: not a readable zip archive; send the zip again or the Shapefile's files "
    "themselves": {
        "be": "{file}: zip-архіў не чытаецца; дашліце zip зноў або самі файлы Shapefile",
        "ru": "{file}: zip-архив не читается; пришлите zip заново или сами файлы Shapefile"},
    "{file}: the Shapefile's .dbf is missing; send .shp, .shx, .dbf and .prj together": {
        "be": "{file}: няма файла .dbf Shapefile; дашліце .shp, .shx, .dbf і .prj разам",
        "ru": "{file}: нет файла .dbf Shapefile; пришлите .shp, .shx, .dbf и .prj вместе"},
    "{file}: unknown encoding {encoding}; set source.encoding in the manifest to one like "
    "UTF-8, CP1251, CP866 or KOI8-R": {
        "be": "{file}: невядомая кадоўка {encoding}; задайце ў маніфесце source.encoding — "
              "напрыклад, UTF-8, CP1251, CP866 або KOI8-R",
        "ru": "{file}: неизвестная кодировка {encoding}; задайте в манифесте source.encoding — "
              "например, UTF-8, CP1251, CP866 или KOI8-R"},
    "{file}: binary content, not text; check the file is what its extension says": {
        "be": "{file}: двайковае змесціва, а не тэкст; праверце, што файл адпавядае свайму "
              "пашырэнню",
        "ru": "{file}: двоичное содержимое, а не текст; проверьте, что файл соответствует "
              "своему расширению"},
    "{file}: the text is not valid {encoding}; set source.encoding in the manifest to the "
    "file's encoding": {
        "be": "{file}: тэкст не ў карэктнай кадоўцы {encoding}; задайце ў маніфесце "
              "source.encoding — кадоўку файла",
        "ru": "{file}: текст не в корректной кодировке {encoding}; задайте в манифесте "
              "source.encoding — кодировку файла"},
    "{file}: source.{key} {column} is not a column; the columns are {columns}": {
        "be": "{file}: source.{key} {column} — не слупок; слупкі: {columns}",
        "ru": "{file}: source.{key} {column} — не столбец; столбцы: {columns}"},
    "{file}: has no layer {layer}; its layers are {layers}; correct source.layer in the "
    "manifest": {
        "be": "{file}: няма пласта {layer}; яго пласты: {layers}; выпраўце source.layer у "
              "маніфесце",
        "ru": "{file}: нет слоя {layer}; его слои: {layers}; исправьте source.layer в "
              "манифесте"},
    "{file}: holds no layer with geometry (layers: {layers}); send a file with features": {
        "be": "{file}: няма ніводнага пласта з геаметрыяй (пласты: {layers}); дашліце файл з "
              "аб'ектамі",
        "ru": "{file}: нет ни одного слоя с геометрией (слои: {layers}); пришлите файл с "
              "объектами"},
    "{file}: every layer is empty ({layers}); send a file with features": {
        "be": "{file}: усе пласты пустыя ({layers}); дашліце файл з аб'ектамі",
        "ru": "{file}: все слои пусты ({layers}); пришлите файл с объектами"},
    "{file}: holds {count} layers with features ({layers}); name one with source.layer in "
    "the manifest": {
        "be": "{file}: пластоў з аб'ектамі: {count} ({layers}); назавіце адзін у source.layer "
              "у маніфесце",
        "ru": "{file}: слоёв с объектами: {count} ({layers}); укажите один в source.layer в "
              "манифесте"},
    "{file}: every sheet is empty ({sheets}); send a workbook with a header row and data": {
        "be": "{file}: усе аркушы пустыя ({sheets}); дашліце кнігу з радком загалоўкаў і "
              "данымі",
        "ru": "{file}: все листы пусты ({sheets}); пришлите книгу со строкой заголовков и "
              "данными"},
    # -- opening a file: its format, GDAL, coordinate columns (etl/readers.py) --------------
    "{file}: file not found; check source.path in the manifest": {
        "be": "{file}: файл не знойдзены; праверце source.path у маніфесце",
        "ru": "{file}: файл не найден; проверьте source.path в манифесте"},
    "{file}: a folder, not a data file; point source.path at the file itself (a Shapefile's "
    ".shp, or a zip)": {
        "be": "{file}: гэта папка, а не файл даных; укажыце ў source.path сам файл (.shp "
              "Shapefile або zip)",
        "ru": "{file}: это папка, а не файл данных; укажите в source.path сам файл (.shp "
              "Shapefile или zip)"},
    "{file}: unsupported file type {suffix}; we read {formats}": {
        "be": "{file}: тып файла {suffix} не падтрымліваецца; мы чытаем {formats}",
        "ru": "{file}: тип файла {suffix} не поддерживается; мы читаем {formats}"},
    "{file}: unsupported file type without an extension; we read {formats}": {
        "be": "{file}: тып файла без пашырэння не падтрымліваецца; мы чытаем {formats}",
        "ru": "{file}: тип файла без расширения не поддерживается; мы читаем {formats}"},
    "{file}: the file is empty; send it again": {
        "be": "{file}: файл пусты; дашліце яго зноў",
        "ru": "{file}: файл пуст; пришлите его снова"},
    "{file}: GDAL cannot read it as {format} ({said}); check the file and its extension": {
        "be": "{file}: GDAL не можа прачытаць яго як {format} ({said}); праверце файл і яго "
              "пашырэнне",
        "ru": "{file}: GDAL не может прочитать его как {format} ({said}); проверьте файл и его "
              "расширение"},
    "{file}: GDAL failed while reading ({said}); check the file is complete": {
        "be": "{file}: GDAL спыніўся падчас чытання ({said}); праверце, што файл поўны",
        "ru": "{file}: GDAL остановился при чтении ({said}); проверьте, что файл полный"},
    "{file}: the layer has no geometry column; send a file with geometries": {
        "be": "{file}: у пласце няма слупка геаметрыі; дашліце файл з геаметрыямі",
        "ru": "{file}: в слое нет столбца геометрии; пришлите файл с геометриями"},
    "{file}: the content is {driver}, not {format} as the extension {suffix} says; {hint}": {
        "be": "{file}: змесціва — {driver}, а не {format}, як кажа пашырэнне {suffix}; {hint}",
        "ru": "{file}: содержимое — {driver}, а не {format}, как говорит расширение {suffix}; "
              "{hint}"},
    "{file}: no coordinate columns were found among {columns}; name them lon/lat (or x/y, "
    "долгота/широта, даўгата/шырата), add a WKT column, or set source.x_field and "
    "source.y_field in the manifest": {
        "be": "{file}: сярод {columns} не знойдзена слупкоў каардынат; назавіце іх lon/lat "
              "(або x/y, 'долгота/широта', 'даўгата/шырата'), дадайце слупок WKT або задайце "
              "source.x_field і source.y_field у маніфесце",
        "ru": "{file}: среди {columns} не найдено столбцов координат; назовите их lon/lat "
              "(или x/y, 'долгота/широта', 'даўгата/шырата'), добавьте столбец WKT или задайте "
              "source.x_field и source.y_field в манифесте"},
    "{file}: no coordinate columns were found among {columns}; name them lon/lat (or x/y, "
    "долгота/широта, даўгата/шырата), add a WKT column, or set source.x_field and "
    "source.y_field in the manifest (the column names were read from row {row}; if they are "
    "in another row, set source.header_row in the manifest)": {
        "be": "{file}: сярод {columns} не знойдзена слупкоў каардынат; назавіце іх lon/lat "
              "(або x/y, 'долгота/широта', 'даўгата/шырата'), дадайце слупок WKT або задайце "
              "source.x_field і source.y_field у маніфесце (назвы слупкоў прачытаныя з радка "
              "{row}; калі яны ў іншым радку, задайце source.header_row у маніфесце)",
        "ru": "{file}: среди {columns} не найдено столбцов координат; назовите их lon/lat "
              "(или x/y, 'долгота/широта', 'даўгата/шырата'), добавьте столбец WKT или задайте "
              "source.x_field и source.y_field в манифесте (названия столбцов прочитаны из "
              "строки {row}; если они в другой строке, задайте source.header_row в манифесте)"},
    # -- detecting the CRS from the coordinates (etl/detect.py) -----------------------------
    "{origin}: no coordinates to detect the CRS from": {
        "be": "{origin}: няма каардынат, па якіх можна вызначыць сістэму каардынат",
        "ru": "{origin}: нет координат, по которым можно определить систему координат"},
    "{origin}: no CRS among {candidates} puts the coordinates inside the layer's region; set "
    "source.crs in the manifest": {
        "be": "{origin}: ніводная сістэма каардынат з {candidates} не змяшчае каардынаты ў "
              "рэгіён пласта; задайце source.crs у маніфесце",
        "ru": "{origin}: ни одна система координат из {candidates} не помещает координаты в "
              "регион слоя; задайте source.crs в манифесте"},
}

# Phrases that only occur as the nested values of other messages (see geoportal.messages.shared).
SOURCES_FRAGMENTS: dict[str, dict[str, str]] = {
    "{file}: member {member}": {"be": "{file}: член {member}", "ru": "{file}: элемент {member}"},
    "{file}: the archive": {"be": "{file}: архіў", "ru": "{file}: архив"},
    "unbounded": {"be": "неабмежаваная", "ru": "неограниченная"},
    "nothing": {"be": "нічога", "ru": "ничего"},
    "none": {"be": "няма", "ru": "нет"},
    "MapInfo table": {"be": "табліца MapInfo", "ru": "таблица MapInfo"},
    "{format} file": {"be": "файл {format}", "ru": "файл {format}"},
    "rename it to {suffix}": {"be": "перайменуйце яго ў {suffix}",
                              "ru": "переименуйте его в {suffix}"},
    "send it in a format we read": {"be": "дашліце яго ў фармаце, які мы чытаем",
                                    "ru": "пришлите его в формате, который мы читаем"},
}
