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
    "admin.failed": {be: "Не атрымалася: {msg}", ru: "Не удалось: {msg}", en: "Failed: {msg}"}
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
