"""Messages raised by the admin side (geoportal/admin, geoportal/catalog, geoportal/*.py):
tokens, uploads, jobs, audit, the catalog.

Keyed by message id (the English template); see ``geoportal.messages``.
"""

from __future__ import annotations

__all__ = ["ADMIN", "ADMIN_FRAGMENTS"]

ADMIN: dict[str, dict[str, str]] = {
    # -- region boundaries (admin/boundaries.py) and registers (catalog/registry.py) ---------
    "{path}: not readable GeoJSON ({error})": {
        "be": "{path}: не чытаецца як GeoJSON ({error})",
        "ru": "{path}: не читается как GeoJSON ({error})"},
    "{path}: expected a GeoJSON FeatureCollection": {
        "be": "{path}: чакаўся GeoJSON FeatureCollection",
        "ru": "{path}: ожидался GeoJSON FeatureCollection"},
    "{path}: coordinates must be CRS84 (longitude, latitude), not {crs}": {
        "be": "{path}: каардынаты павінны быць у CRS84 (даўгата, шырата), а не {crs}",
        "ru": "{path}: координаты должны быть в CRS84 (долгота, широта), а не {crs}"},
    "{path}: feature {i} needs a 'code' property and a (Multi)Polygon": {
        "be": "{path}: аб'екту {i} патрэбны ўласцівасць 'code' і (Multi)Polygon",
        "ru": "{path}: объекту {i} нужны свойство 'code' и (Multi)Polygon"},
    "{path}: region {code} appears twice": {
        "be": "{path}: рэгіён {code} сустракаецца двойчы",
        "ru": "{path}: регион {code} встречается дважды"},
    "{path}: regions {codes} are not in regions.yaml; rebuild the file with "
    "scripts/build_samples.py": {
        "be": "{path}: рэгіёнаў {codes} няма ў regions.yaml; збярыце файл нанова з дапамогай "
              "scripts/build_samples.py",
        "ru": "{path}: регионов {codes} нет в regions.yaml; пересоберите файл с помощью "
              "scripts/build_samples.py"},
    "boundary tolerance {value}: use metres >= 0": {
        "be": "допуск мяжы {value}: задайце метры >= 0",
        "ru": "допуск границы {value}: задайте метры >= 0"},
    "unknown theme {id}: use one of {ids}": {
        "be": "невядомая тэма {id}: выкарыстоўвайце адну з {ids}",
        "ru": "неизвестная тема {id}: используйте одну из {ids}"},
    "{path}: file not found; is config_dir set right?": {
        "be": "{path}: файл не знойдзены; ці правільна зададзены config_dir?",
        "ru": "{path}: файл не найден; правильно ли задан config_dir?"},
    "{path}: not valid YAML ({error})": {"be": "{path}: няправільны YAML ({error})",
                                         "ru": "{path}: некорректный YAML ({error})"},
    "{path}: expected a mapping at the top level": {
        "be": "{path}: на верхнім узроўні чакаўся слоўнік",
        "ru": "{path}: на верхнем уровне ожидался словарь"},
    "{path}: {key} lacks names in {missing}": {
        "be": "{path}: у {key} няма назваў на мовах {missing}",
        "ru": "{path}: у {key} нет названий на языках {missing}"},
    "{path}: regions.yaml and themes.yaml must not be empty": {
        "be": "{path}: regions.yaml і themes.yaml не павінны быць пустымі",
        "ru": "{path}: regions.yaml и themes.yaml не должны быть пустыми"},
    # -- the catalog (catalog/repository.py) --------------------------------------------------
    "layer {id} is not in the catalog": {"be": "пласта {id} няма ў каталогу",
                                         "ru": "слоя {id} нет в каталоге"},
    "layer {id} changed while it was being edited (version {version} is no longer current)": {
        "be": "пласт {id} змяніўся, пакуль яго рэдагавалі (версія {version} ужо не бягучая)",
        "ru": "слой {id} изменился, пока его редактировали (версия {version} уже не текущая)"},
    "layer {id} has no versions": {"be": "у пласта {id} няма версій",
                                   "ru": "у слоя {id} нет версий"},
    "layer {id} has no version {version}; kept: {kept}": {
        "be": "у пласта {id} няма версіі {version}; захаваныя: {kept}",
        "ru": "у слоя {id} нет версии {version}; сохранены: {kept}"},
    # -- features sent to the admin API (admin/feature_input.py) ------------------------------
    '{where} must be a GeoJSON Feature ({{"type": "Feature", "geometry": ..., '
    '"properties": {{...}}}})': {
        "be": '{where}: патрэбны GeoJSON Feature ({{"type": "Feature", "geometry": ..., '
              '"properties": {{...}}}})',
        "ru": '{where}: нужен GeoJSON Feature ({{"type": "Feature", "geometry": ..., '
              '"properties": {{...}}}})'},
    "{where}: {detail} (properties: {names})": {
        "be": "{where}: {detail} (уласцівасці: {names})",
        "ru": "{where}: {detail} (свойства: {names})"},
    # Two problems of one message, one after the other. In the main table, not a fragment:
    # matched last, it never takes a text that a more specific template says.
    "{detail}; {reason}": {"be": "{detail}; {reason}", "ru": "{detail}; {reason}"},
    # -- tokens (admin/tokens.py) -------------------------------------------------------------
    "a token needs a name that says whose it is (e.g. grodno-gis)": {
        "be": "токену патрэбна назва, якая кажа, чый ён (напрыклад, grodno-gis)",
        "ru": "токену нужно имя, которое говорит, чей он (например, grodno-gis)"},
    "an editor token needs at least one --region (a SOATO code)": {
        "be": "токену рэдактара патрэбны хаця б адзін --region (код СААТА)",
        "ru": "токену редактора нужен хотя бы один --region (код СОАТО)"},
    "--days must be a positive number of days": {
        "be": "--days павінна быць дадатнай колькасцю дзён",
        "ru": "--days должно быть положительным числом дней"},
    # -- uploads and jobs (admin/uploads.py, admin/jobs.py, admin/queue.py) --------------------
    "{name} is not a usable file name; send the file under its own name, such as roads.zip": {
        "be": "{name} не падыходзіць як назва файла; дашліце файл пад яго ўласнай назвай, "
              "напрыклад roads.zip",
        "ru": "{name} не подходит как имя файла; отправьте файл под его собственным именем, "
              "например roads.zip"},
    "{name} is too long for a file name; rename the file to something shorter": {
        "be": "{name} — занадта доўгая назва файла; перайменуйце файл карацей",
        "ru": "{name} — слишком длинное имя файла; переименуйте файл покороче"},
    "{file}: unknown format; upload one of {formats}": {
        "be": "{file}: невядомы фармат; загрузіце адзін з {formats}",
        "ru": "{file}: неизвестный формат; загрузите один из {formats}"},
    "{name}: a folder of that name is already there; rename the file and upload it again": {
        "be": "{name}: тэчка з такой назвай ужо ёсць; перайменуйце файл і загрузіце яго зноў",
        "ru": "{name}: папка с таким именем уже есть; переименуйте файл и загрузите его снова"},
    "{name}: the file is larger than {size}, the most one upload may take": {
        "be": "{name}: файл большы за {size} — найбольшы памер адной загрузкі",
        "ru": "{name}: файл больше {size} — наибольшего размера одной загрузки"},
    "{name}: the file is empty; send it again": {"be": "{name}: файл пусты; дашліце яго зноў",
                                                 "ru": "{name}: файл пуст; отправьте его снова"},
    "layer {id} already has an upload in progress; wait for it to finish, then upload "
    "again": {
        "be": "для пласта {id} ужо ідзе загрузка; дачакайцеся, пакуль яна скончыцца, і "
              "загрузіце зноў",
        "ru": "для слоя {id} уже идёт загрузка; дождитесь её окончания и загрузите снова"},
    "layer {id} already has an upload in progress (job {job}, {state}); wait for it to "
    "finish, then upload again": {
        "be": "для пласта {id} ужо ідзе загрузка (задача {job}, {state}); дачакайцеся, пакуль "
              "яна скончыцца, і загрузіце зноў",
        "ru": "для слоя {id} уже идёт загрузка (задача {job}, {state}); дождитесь её окончания "
              "и загрузите снова"},
    "no job {id}": {"be": "задачы {id} няма", "ru": "задачи {id} нет"},
    "the ingest failed on the server; the previous version still serves": {
        "be": "загрузка даных не ўдалася на серверы; дагэтуль паказваецца папярэдняя версія",
        "ru": "загрузка данных не удалась на сервере; по-прежнему показывается предыдущая "
              "версия"},
    "the server stopped during the ingest; the previous version still serves; upload again": {
        "be": "сервер спыніўся падчас загрузкі даных; дагэтуль паказваецца папярэдняя версія; "
              "загрузіце зноў",
        "ru": "сервер остановился во время загрузки данных; по-прежнему показывается "
              "предыдущая версия; загрузите снова"},
    "geoportal worker needs the worker tier: set GEOPORTAL_WORKER_TIER=1 and "
    "GEOPORTAL_DATABASE_URL to the PostgreSQL catalog (the job queue lives there), on the web "
    "nodes too": {
        "be": "geoportal worker патрабуе ўзроўню выканаўцаў: задайце GEOPORTAL_WORKER_TIER=1 і "
              "GEOPORTAL_DATABASE_URL — каталог PostgreSQL (там знаходзіцца чарга задач), "
              "таксама і на вэб-вузлах",
        "ru": "geoportal worker требует уровня исполнителей: задайте GEOPORTAL_WORKER_TIER=1 и "
              "GEOPORTAL_DATABASE_URL — каталог PostgreSQL (там находится очередь задач), "
              "также и на веб-узлах"},
    "the job queue's tables are missing; run `geoportal init` once with "
    "GEOPORTAL_WORKER_TIER=1 (or `geoportal init --queue`)": {
        "be": "табліц чаргі задач няма; адзін раз выканайце `geoportal init` з "
              "GEOPORTAL_WORKER_TIER=1 (або `geoportal init --queue`)",
        "ru": "таблиц очереди задач нет; один раз выполните `geoportal init` с "
              "GEOPORTAL_WORKER_TIER=1 (или `geoportal init --queue`)"},
}

# Phrases that only occur as the nested values of other messages (see geoportal.messages.shared).
ADMIN_FRAGMENTS: dict[str, dict[str, str]] = {
    # the problems of a feature's properties (admin/feature_input.py)
    "unknown property {name}": {"be": "невядомая ўласцівасць {name}",
                                "ru": "неизвестное свойство {name}"},
    "{name}: the text is {n} characters long; at most {limit}": {
        "be": "{name}: тэкст даўжынёй {n} сімвалаў; найбольш {limit}",
        "ru": "{name}: текст длиной {n} символов; не более {limit}"},
    "{name}: {value} is not {what}": {"be": "{name}: {value} не з'яўляецца {what}",
                                      "ru": "{name}: {value} не является {what}"},
    "{detail}; and {n} more": {"be": "{detail}; і яшчэ {n}", "ru": "{detail}; и ещё {n}"},
    # what a value of a field type is ({what} above: instrumental, as "a number" in shared)
    "a string": {"be": "радком", "ru": "строкой"},
    "an integer": {"be": "цэлым лікам", "ru": "целым числом"},
    "true or false": {"be": "значэннем true або false", "ru": "значением true или false"},
    "a date (YYYY-MM-DD)": {"be": "датай (YYYY-MM-DD)", "ru": "датой (YYYY-MM-DD)"},
    "a date-time (RFC 3339)": {"be": "датай і часам (RFC 3339)",
                               "ru": "датой и временем (RFC 3339)"},
    "a time (HH:MM:SS)": {"be": "часам (HH:MM:SS)", "ru": "временем (HH:MM:SS)"},
}
