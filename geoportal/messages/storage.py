"""Messages raised by the stores (geoportal/storage): GeoPackage, PostGIS, object storage, CQL2
to SQL.

Keyed by message id (the English template); see ``geoportal.messages``.
"""

from __future__ import annotations

__all__ = ["STORAGE", "STORAGE_FRAGMENTS"]

STORAGE: dict[str, dict[str, str]] = {
    # -- query parameters as a field's type (storage.base.coerce_value) --------------------
    "{name}={value}: expected a value of type {type}": {
        "be": "{name}={value}: чакаецца значэнне тыпу {type}",
        "ru": "{name}={value}: ожидается значение типа {type}"},
    "{name}: not a field of this layer": {"be": "{name}: такога поля ў гэтым пласце няма",
                                          "ru": "{name}: такого поля в этом слое нет"},
    # -- editing: the copy a transaction changes (gpkg_edit, postgis_edit) -----------------
    "unknown properties: {names}; this layer has {fields}": {
        "be": "невядомыя ўласцівасці: {names}; у гэтага пласта ёсць {fields}",
        "ru": "неизвестные свойства: {names}; у этого слоя есть {fields}"},
    "unknown properties: {names}; this layer has no properties": {
        "be": "невядомыя ўласцівасці: {names}; у гэтага пласта няма ўласцівасцей",
        "ru": "неизвестные свойства: {names}; у этого слоя нет свойств"},
    # {error}: the database's own words (PostgreSQL's message_primary), left as they are
    "{what}: {error}": {"be": "{what}: {error}", "ru": "{what}: {error}"},
    # -- coverages: reading a COG (raster_read, raster_tiles) ------------------------------
    "coverage {id} has no data file": {"be": "у пакрыцця {id} няма файла даных",
                                       "ru": "у покрытия {id} нет файла данных"},
    "band {band} does not exist: the coverage has {count} band(s)": {
        "be": "канала {band} няма: у пакрыцці {count} канал(аў)",
        "ru": "канала {band} нет: в покрытии {count} канал(ов)"},
    "the requested area lies outside the coverage, whose extent is {extent} in {crs}": {
        "be": "запытаная вобласць ляжыць па-за пакрыццём, абсяг якога {extent} у {crs}",
        "ru": "запрошенная область лежит вне покрытия, охват которого {extent} в {crs}"},
    "the requested area is far larger than the coverage (more than 64 times its size): ask "
    "for the part of the world it covers": {
        "be": "запытаная вобласць значна большая за пакрыццё (больш чым у 64 разы): "
              "запытайце тую частку свету, якую яно пакрывае",
        "ru": "запрошенная область намного больше покрытия (более чем в 64 раза): "
              "запросите ту часть мира, которую оно покрывает"},
    "the answer would be {width} x {height} pixels x {bands} band(s), more than the {side} px "
    "a side and {cells:,} cells served at once; ask for less with subset or bbox, or scale it "
    "with scale-size or scale-factor": {
        "be": "адказ меў бы {width} x {height} пікселяў x {bands} канал(аў) — больш, чым "
              "{side} px па баку і {cells:,} ячэек, што аддаюцца за раз; запытайце менш праз "
              "subset або bbox ці памяншэнне праз scale-size або scale-factor",
        "ru": "ответ имел бы {width} x {height} пикселей x {bands} канал(ов) — больше, чем "
              "{side} px по стороне и {cells:,} ячеек, отдаваемых за раз; запросите меньше "
              "через subset или bbox либо уменьшение через scale-size или scale-factor"},
    # {error}: GDAL's words, left as they are
    "the coverage cannot be read for this request ({error}); ask for a smaller area or "
    "size": {
        "be": "пакрыццё немагчыма прачытаць для гэтага запыту ({error}); запытайце меншую "
              "вобласць або памер",
        "ru": "покрытие невозможно прочитать для этого запроса ({error}); запросите меньшую "
              "область или размер"},
    "colormap {name} is unknown; use one of {names}...": {
        "be": "colormap {name}: невядомая шкала; выкарыстоўвайце адну з: {names}...",
        "ru": "colormap {name}: неизвестная шкала; используйте одну из: {names}..."},
}

# Phrases that only occur as the nested values of other messages (see geoportal.messages.shared).
STORAGE_FRAGMENTS: dict[str, dict[str, str]] = {
    # -- filters: what to compare a field with ("{holds}; compare it with {hint}") ----------
    "TRUE or FALSE": {"be": "TRUE або FALSE", "ru": "TRUE или FALSE"},
    "DATE('YYYY-MM-DD')": {"be": "DATE('YYYY-MM-DD')", "ru": "DATE('YYYY-MM-DD')"},
    # -- editing: what a change was doing when PostgreSQL refused a value ("{what}: {error}")
    "reading feature {fid}": {"be": "чытанне аб'екта {fid}", "ru": "чтение объекта {fid}"},
    "adding a feature": {"be": "даданне аб'екта", "ru": "добавление объекта"},
    "replacing feature {fid}": {"be": "замена аб'екта {fid}", "ru": "замена объекта {fid}"},
    "deleting feature {fid}": {"be": "выдаленне аб'екта {fid}", "ru": "удаление объекта {fid}"},
    "summarizing the copy": {"be": "падлік вынікаў копіі", "ru": "подсчёт итогов копии"},
}
