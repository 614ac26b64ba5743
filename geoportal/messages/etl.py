"""Messages raised by the ETL (geoportal/etl): reading, detecting, normalizing, publishing.

Keyed by message id (the English template); see ``geoportal.messages``.
"""

from __future__ import annotations

__all__ = ["ETL", "ETL_FRAGMENTS"]

ETL: dict[str, dict[str, str]] = {
    # -- rasters: GeoTIFF to COG (etl/raster.py, etl/coverage.py) ---------------------------
    "{file}: no such file": {"be": "{file}: такога файла няма", "ru": "{file}: такого файла нет"},
    "{file}: not a readable zip archive": {
        "be": "{file}: гэта не zip-архіў, які можна прачытаць",
        "ru": "{file}: это не zip-архив, который можно прочитать"},
    "{file}: the archive must hold exactly one .tif, it holds {n}": {
        "be": "{file}: архіў павінен утрымліваць роўна адзін .tif, а ў ім {n}",
        "ru": "{file}: архив должен содержать ровно один .tif, а в нём {n}"},
    "{file}: rasters must be GeoTIFF (.tif, .tiff), not {suffix}": {
        "be": "{file}: растры павінны быць у фармаце GeoTIFF (.tif, .tiff), а не {suffix}",
        "ru": "{file}: растры должны быть в формате GeoTIFF (.tif, .tiff), а не {suffix}"},
    "{file}: rasters must be GeoTIFF (.tif, .tiff), not a file without extension": {
        "be": "{file}: растры павінны быць у фармаце GeoTIFF (.tif, .tiff), а не файлам без "
              "пашырэння",
        "ru": "{file}: растры должны быть в формате GeoTIFF (.tif, .tiff), а не файлом без "
              "расширения"},
    "{file}: not a raster GDAL can read ({error})": {
        "be": "{file}: гэта не растр, які GDAL можа прачытаць ({error})",
        "ru": "{file}: это не растр, который GDAL может прочитать ({error})"},
    "{file}: a {driver} raster, not a GeoTIFF": {"be": "{file}: растр {driver}, а не GeoTIFF",
                                                 "ru": "{file}: растр {driver}, а не GeoTIFF"},
    "{file}: the raster has no bands": {"be": "{file}: у растры няма каналаў",
                                        "ru": "{file}: в растре нет каналов"},
    "{file}: nodata {nodata:g} does not fit its {dtype} pixels": {
        "be": "{file}: nodata {nodata:g} не змяшчаецца ў яго пікселі тыпу {dtype}",
        "ru": "{file}: nodata {nodata:g} не помещается в его пиксели типа {dtype}"},
    "{file}: the pixels cannot be read ({error}); the file is incomplete or damaged: send it "
    "again": {
        "be": "{file}: пікселі немагчыма прачытаць ({error}); файл няпоўны або пашкоджаны: "
              "дашліце яго зноў",
        "ru": "{file}: пиксели невозможно прочитать ({error}); файл неполный или повреждён: "
              "пришлите его снова"},
    "{file}: the raster is georeferenced only by ground control points; warp it first": {
        "be": "{file}: растр прывязаны толькі апорнымі кропкамі (GCP); спачатку "
              "трансфармуйце яго (warp)",
        "ru": "{file}: растр привязан только опорными точками (GCP); сначала трансформируйте "
              "его (warp)"},
    "{file}: the raster is not georeferenced (no geotransform, no ground control points)": {
        "be": "{file}: растр не мае геапрывязкі (няма ні геатрансфармацыі, ні апорных кропак)",
        "ru": "{file}: растр не имеет геопривязки (нет ни геотрансформации, ни опорных точек)"},
    "{file}: rotated grids are not supported; warp it first": {
        "be": "{file}: павернутыя сеткі не падтрымліваюцца; спачатку трансфармуйце растр "
              "(warp)",
        "ru": "{file}: повёрнутые сетки не поддерживаются; сначала трансформируйте растр "
              "(warp)"},
    "{file}: the raster declares no CRS; set source.crs in the manifest": {
        "be": "{file}: растр не задае сістэму каардынат; задайце source.crs у маніфесце",
        "ru": "{file}: растр не задаёт систему координат; задайте source.crs в манифесте"},
    "{file}: the manifest's source.crs {given} contradicts the file's own CRS {crs}; remove "
    "source.crs or fix the file": {
        "be": "{file}: source.crs {given} у маніфесце супярэчыць уласнай сістэме каардынат "
              "файла {crs}; выдаліце source.crs або выпраўце файл",
        "ru": "{file}: source.crs {given} в манифесте противоречит собственной системе "
              "координат файла {crs}; удалите source.crs или исправьте файл"},
    "{file}: its bounds do not transform to lon/lat ({error})": {
        "be": "{file}: яго межы не пераўтвараюцца ў даўгату/шырату ({error})",
        "ru": "{file}: его границы не преобразуются в долготу/широту ({error})"},
    "{file}: its bounds {bounds} do not lie on the globe in {crs}; the CRS is probably wrong": {
        "be": "{file}: яго межы {bounds} у {crs} не ляжаць на зямным шары; відаць, сістэма "
              "каардынат няправільная",
        "ru": "{file}: его границы {bounds} в {crs} не лежат на земном шаре; вероятно, система "
              "координат неверна"},
    "{file}: layer {id} holds features, not a raster; publish the raster under another id": {
        "be": "{file}: пласт {id} утрымлівае аб'екты, а не растр; апублікуйце растр пад іншым "
              "id",
        "ru": "{file}: слой {id} содержит объекты, а не растр; опубликуйте растр под другим "
              "id"},
    "{file}: the raster lies outside the layer's region (extent {extent})": {
        "be": "{file}: растр ляжыць па-за рэгіёнам пласта (абсяг {extent})",
        "ru": "{file}: растр лежит за пределами региона слоя (охват {extent})"},

    # -- manifests (etl/manifest.py): a line per problem, each naming the file --------------
    "{first}\n{rest}": {"be": "{first}\n{rest}", "ru": "{first}\n{rest}"},
    "{origin}: a manifest must be UTF-8 text": {
        "be": "{origin}: маніфест павінен быць тэкстам у UTF-8",
        "ru": "{origin}: манифест должен быть текстом в UTF-8"},
    "{origin}: a manifest must be a YAML mapping (id, region, theme, ...)": {
        "be": "{origin}: маніфест павінен быць слоўнікам YAML (id, region, theme, ...)",
        "ru": "{origin}: манифест должен быть словарём YAML (id, region, theme, ...)"},
    "{origin}: not valid YAML: {error}": {"be": "{origin}: няправільны YAML: {error}",
                                          "ru": "{origin}: некорректный YAML: {error}"},
    "{origin}: not valid YAML at line {line}: {error}": {
        "be": "{origin}: няправільны YAML у радку {line}: {error}",
        "ru": "{origin}: некорректный YAML в строке {line}: {error}"},
    "{origin}: YAML anchors and aliases (&name, *name) are not allowed in a manifest; write "
    "the values out": {
        "be": "{origin}: якары і спасылкі YAML (&name, *name) у маніфесце не дазволены; "
              "запішыце значэнні цалкам",
        "ru": "{origin}: якоря и ссылки YAML (&name, *name) в манифесте не допускаются; "
              "запишите значения полностью"},
    "{origin}: the manifest is {size} bytes; at most {limit}": {
        "be": "{origin}: маніфест займае {size} байтаў; найбольш {limit}",
        "ru": "{origin}: манифест занимает {size} байт; не более {limit}"},
    "{origin}: manifest not found": {"be": "{origin}: маніфест не знойдзены",
                                     "ru": "{origin}: манифест не найден"},
    "{origin}: unknown keys {names}; allowed: {allowed}": {
        "be": "{origin}: невядомыя ключы {names}; дапушчальныя: {allowed}",
        "ru": "{origin}: неизвестные ключи {names}; допустимые: {allowed}"},
    "{origin}: unknown source keys {names}; allowed: {allowed}": {
        "be": "{origin}: невядомыя ключы source {names}; дапушчальныя: {allowed}",
        "ru": "{origin}: неизвестные ключи source {names}; допустимые: {allowed}"},
    "{origin}: id {id} must be 1-63 lowercase letters, digits or dashes": {
        "be": "{origin}: id {id} павінен складацца з 1-63 малых літар (a-z), лічбаў або "
              "злучкоў",
        "ru": "{origin}: id {id} должен состоять из 1-63 строчных букв (a-z), цифр или "
              "дефисов"},
    "{origin}: id {id} is the portal's own collection; choose another": {
        "be": "{origin}: id {id} — уласная калекцыя партала; выберыце іншы",
        "ru": "{origin}: id {id} — собственная коллекция портала; выберите другой"},
    "{origin}: '{key}' is required": {"be": "{origin}: патрэбна '{key}'",
                                      "ru": "{origin}: требуется '{key}'"},
    "{origin}: '{key}' is required (a text or be/ru/en texts)": {
        "be": "{origin}: патрэбна '{key}' (тэкст або тэксты be/ru/en)",
        "ru": "{origin}: требуется '{key}' (текст или тексты be/ru/en)"},
    "{origin}: 'source.path' is required (the data file, relative to the manifest)": {
        "be": "{origin}: патрэбны 'source.path' (файл даных, шлях адносна маніфеста)",
        "ru": "{origin}: нужен 'source.path' (файл данных, путь относительно манифеста)"},
    "{origin}: '{key}' must be a text": {"be": "{origin}: '{key}' павінна быць тэкстам",
                                         "ru": "{origin}: '{key}' должно быть текстом"},
    "{origin}: '{key}' must be a text or a mapping of be/ru/en to texts": {
        "be": "{origin}: '{key}' павінна быць тэкстам або слоўнікам з тэкстамі для be/ru/en",
        "ru": "{origin}: '{key}' должно быть текстом или словарём с текстами для be/ru/en"},
    "{origin}: '{key}' has unknown languages {names}; use be, ru, en": {
        "be": "{origin}: у '{key}' невядомыя мовы {names}; выкарыстоўвайце be, ru, en",
        "ru": "{origin}: в '{key}' неизвестные языки {names}; используйте be, ru, en"},
    "{origin}: '{key}' is empty": {"be": "{origin}: значэнне '{key}' пустое",
                                   "ru": "{origin}: значение '{key}' пустое"},
    "{origin}: 'keywords' must be a list or a mapping of be/ru/en to lists": {
        "be": "{origin}: 'keywords' павінна быць спісам або слоўнікам са спісамі для be/ru/en",
        "ru": "{origin}: 'keywords' должно быть списком или словарём со списками для "
              "be/ru/en"},
    "{origin}: 'fields' must map source field names to a new name or to {keys}": {
        "be": "{origin}: 'fields' павінна супастаўляць назвам палёў крыніцы новую назву або "
              "{keys}",
        "ru": "{origin}: 'fields' должно сопоставлять именам полей источника новое имя или "
              "{keys}"},
    "{origin}: 'fields' has {n} entries; at most {limit}": {
        "be": "{origin}: у 'fields' {n} запісаў; найбольш {limit}",
        "ru": "{origin}: в 'fields' {n} записей; не более {limit}"},
    "{origin}: '{key}' must be a new name or a mapping of name/type/title/drop": {
        "be": "{origin}: '{key}' павінна быць новай назвай або слоўнікам з name/type/title/drop",
        "ru": "{origin}: '{key}' должно быть новым именем или словарём с name/type/title/drop"},
    "{origin}: '{key}' has unknown keys {names}; allowed: {allowed}": {
        "be": "{origin}: у '{key}' невядомыя ключы {names}; дапушчальныя: {allowed}",
        "ru": "{origin}: в '{key}' неизвестные ключи {names}; допустимые: {allowed}"},
    "{origin}: '{key}' {name} must be lowercase ASCII letters, digits and underscores, "
    "starting with a letter (at most 59)": {
        "be": "{origin}: '{key}' {name} павінна складацца з малых літар ASCII, лічбаў і "
              "падкрэсліванняў і пачынацца з літары (не больш за 59)",
        "ru": "{origin}: '{key}' {name} должно состоять из строчных букв ASCII, цифр и "
              "подчёркиваний и начинаться с буквы (не более 59)"},
    "{origin}: '{key}' {value} is not one of {types}": {
        "be": "{origin}: '{key}' {value} — не адзін з: {types}",
        "ru": "{origin}: '{key}' {value} — не один из: {types}"},

    # -- fields, CRS, publishing (etl/normalize.py, reproject.py, pipeline.py) --------------
    "manifest 'fields' names {names}, not in the source; its fields are: {fields}": {
        "be": "'fields' у маніфесце называе {names}, якіх няма ў крыніцы; яе палі: {fields}",
        "ru": "'fields' в манифесте называет {names}, которых нет в источнике; его поля: "
              "{fields}"},
    "manifest 'fields' gives the name(s) {names} more than once or to a column the store "
    "keeps for itself ({reserved}); choose others": {
        "be": "'fields' у маніфесце дае назву (назвы) {names} больш за адзін раз або слупку, "
              "які сховішча пакідае сабе ({reserved}); выберыце іншыя",
        "ru": "'fields' в манифесте даёт имя (имена) {names} больше одного раза или столбцу, "
              "который хранилище оставляет себе ({reserved}); выберите другие"},
    "source.id_field {name} is not a field of the source; its fields are: {fields}": {
        "be": "source.id_field {name} — не поле крыніцы; яе палі: {fields}",
        "ru": "source.id_field {name} — не поле источника; его поля: {fields}"},
    "{origin}: {crs} is not a coordinate reference system PROJ knows": {
        "be": "{origin}: {crs} — не сістэма каардынат, вядомая PROJ",
        "ru": "{origin}: {crs} — не система координат, известная PROJ"},
    "{origin}: the file declares no CRS and its region has no extent to detect one against; "
    "set source.crs in the manifest": {
        "be": "{origin}: файл не задае сістэму каардынат, а ў яго рэгіёна няма абсягу, па якім "
              "яе можна вызначыць; задайце source.crs у маніфесце",
        "ru": "{origin}: файл не задаёт систему координат, а у его региона нет охвата, по "
              "которому её можно определить; задайте source.crs в манифесте"},
    "{file}: a raster, and no raster store was given": {
        "be": "{file}: гэта растр, а сховішча растраў не зададзена",
        "ru": "{file}: это растр, а хранилище растров не задано"},
    "{file}: layer {id} is a raster ({kind}); publish these features under another id": {
        "be": "{file}: пласт {id} — растр ({kind}); апублікуйце гэтыя аб'екты пад іншым id",
        "ru": "{file}: слой {id} — растр ({kind}); опубликуйте эти объекты под другим id"},
    "{name} holds no features; nothing to publish": {
        "be": "{name}: няма аб'ектаў; няма чаго публікаваць",
        "ru": "{name}: нет объектов; нечего публиковать"},
    "{name} should hold {n} features but none could be read; the file looks cut off or "
    "damaged: send it again": {
        "be": "{name}: павінна быць {n} аб'ектаў, але ніводнага не атрымалася прачытаць; "
              "файл, відаць, абрэзаны або пашкоджаны: дашліце яго зноў",
        "ru": "{name}: должно быть {n} объектов, но ни одного не удалось прочитать; файл, "
              "видимо, обрезан или повреждён: пришлите его снова"},
    "{name}: no feature can be published ({reasons})": {
        "be": "{name}: ніводнага аб'екта нельга апублікаваць ({reasons})",
        "ru": "{name}: ни один объект нельзя опубликовать ({reasons})"},
    "{name}: text that is not valid {encoding} near row {row}; set source.encoding in the "
    "manifest (e.g. CP1251)": {
        "be": "{name}: тэкст не ў кадзіроўцы {encoding} каля радка {row}; задайце "
              "source.encoding у маніфесце (напрыклад, CP1251)",
        "ru": "{name}: текст не в кодировке {encoding} около строки {row}; задайте "
              "source.encoding в манифесте (например, CP1251)"},

    # -- quarantine export (etl/quarantine.py) ----------------------------------------------
    "{path}: export as one of {formats}": {
        "be": "{path}: экспартуйце ў адным з фарматаў: {formats}",
        "ru": "{path}: экспортируйте в одном из форматов: {formats}"},

    # -- a manifest's style: (etl/styles.py, issue 20) --------------------------------------
    "{origin}: '{key}' must be a mapping of {keys}": {
        "be": "{origin}: '{key}' павінна быць слоўнікам з {keys}",
        "ru": "{origin}: '{key}' должно быть словарём с {keys}"},
    "{origin}: 'style' of a raster takes only {allowed}; {names} are for vector layers": {
        "be": "{origin}: 'style' растра мае толькі {allowed}; {names} — для вектарных слаёў",
        "ru": "{origin}: 'style' растра принимает только {allowed}; {names} — для векторных "
              "слоёв"},
    "{origin}: 'style' of a vector layer takes no {names}; those are for rasters": {
        "be": "{origin}: 'style' вектарнага слоя не мае {names}; яны для растраў",
        "ru": "{origin}: 'style' векторного слоя не принимает {names}; они для растров"},
    "{origin}: '{key}' {value} is not a colormap; use one of {names}, ...": {
        "be": "{origin}: '{key}' {value} — не назва каляровай шкалы; выкарыстоўвайце адну з "
              "{names}, ...",
        "ru": "{origin}: '{key}' {value} — не название цветовой шкалы; используйте одну из "
              "{names}, ..."},
    "{origin}: '{key}' must be two numbers, the lower first: [low, high]": {
        "be": "{origin}: '{key}' павінна быць двума лікамі, спачатку меншы: [low, high]",
        "ru": "{origin}: '{key}' должно быть двумя числами, сначала меньшее: [low, high]"},
    "{origin}: '{key}' {value} is not a colour #rrggbb": {
        "be": "{origin}: '{key}' {value} — не колер #rrggbb",
        "ru": "{origin}: '{key}' {value} — не цвет #rrggbb"},
    "{origin}: '{key}' must be a number from {low} to {high}": {
        "be": "{origin}: '{key}' павінна быць лікам ад {low} да {high}",
        "ru": "{origin}: '{key}' должно быть числом от {low} до {high}"},
    "{origin}: '{key}' must be a field name or a mapping of be/ru/en to field names": {
        "be": "{origin}: '{key}' павінна быць назвай поля або слоўнікам be/ru/en з назвамі "
              "палёў",
        "ru": "{origin}: '{key}' должно быть именем поля или словарём be/ru/en с именами "
              "полей"},
    "{origin}: '{key}' must be a field name": {
        "be": "{origin}: '{key}' павінна быць назвай поля",
        "ru": "{origin}: '{key}' должно быть именем поля"},
    "{origin}: '{key}' must be a text of one line (at most {limit} characters), a number or "
    "true/false": {
        "be": "{origin}: '{key}' павінна быць тэкстам у адзін радок (не больш за {limit} "
              "знакаў), лікам або true/false",
        "ru": "{origin}: '{key}' должно быть текстом в одну строку (не более {limit} "
              "символов), числом или true/false"},
    "{origin}: '{key}' must list 1 to {most} values, each a mapping of value, color and title": {
        "be": "{origin}: '{key}' павінна пералічваць ад 1 да {most} значэнняў, кожнае — "
              "слоўнік з value, color і title",
        "ru": "{origin}: '{key}' должно перечислять от 1 до {most} значений, каждое — словарь "
              "с value, color и title"},
    "{origin}: '{key}' must be a mapping of value, color and title": {
        "be": "{origin}: '{key}' павінна быць слоўнікам з value, color і title",
        "ru": "{origin}: '{key}' должно быть словарём с value, color и title"},
    "{origin}: '{key}' repeats the value {value} of values[{first}]": {
        "be": "{origin}: '{key}' паўтарае значэнне {value} з values[{first}]",
        "ru": "{origin}: '{key}' повторяет значение {value} из values[{first}]"},
    "{origin}: '{key}' must be the name of an SLD file beside the manifest": {
        "be": "{origin}: '{key}' павінна быць назвай файла SLD побач з маніфестам",
        "ru": "{origin}: '{key}' должно быть именем файла SLD рядом с манифестом"},
    "{origin}: '{key}' {name} must be a file in the manifest's folder": {
        "be": "{origin}: '{key}' {name} павінен быць файлам у папцы маніфеста",
        "ru": "{origin}: '{key}' {name} должен быть файлом в папке манифеста"},
    "{origin}: '{key}' {name} is {size} bytes; at most {limit}": {
        "be": "{origin}: '{key}' {name} займае {size} байтаў; найбольш {limit}",
        "ru": "{origin}: '{key}' {name} занимает {size} байт; не более {limit}"},
    "{origin}: '{key}' {name}: no such file beside the manifest": {
        "be": "{origin}: '{key}' {name}: такога файла побач з маніфестам няма",
        "ru": "{origin}: '{key}' {name}: такого файла рядом с манифестом нет"},
    "{origin}: '{key}' {name} cannot be read: {error}": {
        "be": "{origin}: '{key}' {name} немагчыма прачытаць: {error}",
        "ru": "{origin}: '{key}' {name} невозможно прочитать: {error}"},
    "{origin}: '{key}' {name} is not well-formed XML: {error}": {
        "be": "{origin}: '{key}' {name} — не карэктны XML: {error}",
        "ru": "{origin}: '{key}' {name} — некорректный XML: {error}"},
    "{origin}: '{key}' {name} has a DOCTYPE; an SLD needs none: remove it": {
        "be": "{origin}: '{key}' {name} мае DOCTYPE; SLD ён не патрэбны: выдаліце яго",
        "ru": "{origin}: '{key}' {name} содержит DOCTYPE; SLD он не нужен: удалите его"},
    "{origin}: '{key}' {name} is not an SLD 1.0.0 document with one NamedLayer and its "
    "UserStyle": {
        "be": "{origin}: '{key}' {name} — не дакумент SLD 1.0.0 з адным NamedLayer і яго "
              "UserStyle",
        "ru": "{origin}: '{key}' {name} — не документ SLD 1.0.0 с одним NamedLayer и его "
              "UserStyle"},
    "{origin}: '{key}' {name} refers to another file or address ({element}); the map engine "
    "reads none": {
        "be": "{origin}: '{key}' {name} спасылаецца на іншы файл або адрас ({element}); "
              "картаграфічны рухавік іх не чытае",
        "ru": "{origin}: '{key}' {name} ссылается на другой файл или адрес ({element}); "
              "картографический движок их не читает"},
    "{origin}: '{key}' names the field {name}, which the layer does not have; its fields are: "
    "{fields}": {
        "be": "{origin}: '{key}' называе поле {name}, якога ў слоі няма; яго палі: {fields}",
        "ru": "{origin}: '{key}' называет поле {name}, которого в слое нет; его поля: "
              "{fields}"},
    "{origin}: '{key}' {value} is not a number, but the field {name} holds numbers": {
        "be": "{origin}: '{key}' {value} — не лік, а поле {name} змяшчае лікі",
        "ru": "{origin}: '{key}' {value} — не число, а поле {name} содержит числа"},
}

# Phrases that only occur as the nested values of other messages (see geoportal.messages.shared).
ETL_FRAGMENTS: dict[str, dict[str, str]] = {
}
