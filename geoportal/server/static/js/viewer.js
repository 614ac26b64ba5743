/* The viewer's series slider, basemap choice and "Share / embed" dialog (issue 19), each a
   MapLibre control built on portal:map, following the page by its portal:* events.
   - Series: layers a manifest groups by its `series` key (the night-lights years) get a slider
     when one of them is on the map; moving it replaces the shown member (the link's layers=
     list follows, as for any opened layer).
   - Basemap: "Portal map" (the style's layers marked metadata.basemap), "Plain background"
     (those hidden) or a published layer marked as a basemap (its tiles below every user
     layer); kept in the link as base=<id>.
   - Share / embed: the view's link and an <iframe> snippet of /embed (the map alone, which
     other sites may frame: GEOPORTAL_EMBED_FRAME_ANCESTORS), each with a Copy button.
   In the embed page (body.embed) the map gets an "Open in the portal" link instead of the
   dialog. The series and basemaps come from /portal/registry.json (`series`, `basemaps`). */
(function () {
  "use strict";
  var t = window.I18N.t;
  var P = null;          // window.portal, once the map exists
  var map = null;
  var styleReady = false;
  var lists = null;      // {series: [...], basemaps: [...]} from registry.json, this language
  var listsLang = "";
  var listsPromise = null;
  var BASE_PREFIX = "viewer-base-";  // the source and layer ids of a chosen basemap layer
  var base = "portal";   // "portal" | "plain" | a basemap layer's id
  var embedded = document.body.classList.contains("embed");

  function el(tag, attrs, children) { return P.el(tag, attrs, children); }

  function loadLists() {
    var lang = window.I18N.lang;
    if (!listsPromise || listsLang !== lang) {
      listsLang = lang;
      listsPromise = P.getJSON("/portal/registry.json").then(function (body) {
        lists = {series: body.series || [], basemaps: body.basemaps || []};
        return lists;
      }).catch(function () {
        lists = lists || {series: [], basemaps: []};
        return lists;
      });
    }
    return listsPromise;
  }

  /* A MapLibre control around a container the caller fills. */
  function Control(className) {
    this.container = document.createElement("div");
    this.container.className = "maplibregl-ctrl maplibregl-ctrl-group viewer-ctrl " + className;
  }
  Control.prototype.onAdd = function () { return this.container; };
  Control.prototype.onRemove = function () {
    if (this.container.parentNode) this.container.parentNode.removeChild(this.container);
  };

  /* ---------------------------------------------------------------- series */

  var seriesControl = null;
  var wanted = {};  // series id -> the member the slider last asked for

  /* The series with a member on the map, and which member (the topmost opened one). */
  function shownSeries() {
    var opened = P.layers();
    var found = [];
    (lists ? lists.series : []).forEach(function (series) {
      var ids = series.layers.map(function (m) { return m.id; });
      var current = opened.filter(function (l) { return ids.indexOf(l.id) >= 0; })[0];
      if (current && ids.length > 1) found.push({series: series, current: current, index: ids.indexOf(current.id)});
    });
    return found;
  }

  function renderSeries() {
    if (!seriesControl) return;
    var box = seriesControl.container;
    var found = shownSeries();
    box.textContent = "";
    box.hidden = !found.length;
    found.forEach(function (s) {
      var members = s.series.layers;
      var sliderId = "series-" + s.series.id;
      var slider = el("input", {type: "range", id: sliderId, min: "0",
                                max: String(members.length - 1), step: "1",
                                value: String(s.index), "class": "series-slider",
                                "data-series": s.series.id,
                                "aria-valuetext": members[s.index].label});
      slider.addEventListener("input", function () {
        slider.setAttribute("aria-valuetext", members[+slider.value].label);
        box.querySelectorAll(".series-tick").forEach(function (tick, i) {
          tick.classList.toggle("current", i === +slider.value);
        });
      });
      slider.addEventListener("change", function () {
        switchMember(s.series, members[+slider.value].id);
      });
      var ticks = el("div", {"class": "series-ticks", "aria-hidden": "true"},
        members.map(function (m, i) {
          return el("span", {"class": "series-tick" + (i === s.index ? " current" : ""),
                             text: m.label,
                             onclick: function () {
                               slider.value = String(i);
                               slider.dispatchEvent(new Event("input"));
                               switchMember(s.series, m.id);
                             }});
        }));
      box.appendChild(el("div", {"class": "series", "data-series": s.series.id}, [
        el("label", {"for": sliderId, "class": "series-label",
                     text: t("viewer.series", {title: seriesTitle(s.series, s.current)})}),
        slider, ticks
      ]));
    });
  }

  /* the series' own title when the registry gives one, else what its members' titles share
     ("Night-time lights of Belarus, 2013 (DMSP)" and "..., 2024": up to the last word or
     comma before they differ), else the shown member's */
  function seriesTitle(series, current) {
    var own = window.I18N.pick(series.title, "");
    if (own) return own;
    var titles = series.layers.map(function (m) { return String(m.title || ""); });
    var shared = titles.reduce(function (a, b) {
      var n = 0;
      while (n < a.length && n < b.length && a.charAt(n) === b.charAt(n)) n++;
      return a.slice(0, n);
    });
    if (titles.some(function (x) { return x.length > shared.length; })) {
      shared = shared.slice(0, Math.max(shared.lastIndexOf(" "), shared.lastIndexOf(",")));
    }
    shared = shared.replace(/[\s,.:;(\u2013\u2014-]+$/, "");
    return shared.length >= 4 ? shared : current.title || series.id;
  }

  /* Show `memberId` in place of the series member now shown: opened first (no blank map
     while it loads), then the former one removed; its opacity and visibility carried over. */
  function switchMember(series, memberId) {
    var ids = series.layers.map(function (m) { return m.id; });
    var before = P.layers().filter(function (l) { return ids.indexOf(l.id) >= 0; })[0];
    if (before && before.id === memberId) return;
    wanted[series.id] = memberId;
    P.openLayer(memberId, false).then(function (layer) {
      if (wanted[series.id] !== memberId) {  // the slider moved on meanwhile
        if (!before || before.id !== layer.id) P.removeLayer(layer);
        return;
      }
      if (before && P.layers().indexOf(before) >= 0) {
        carryOver(before, layer);
        P.removeLayer(before);
      }
    }).catch(function (err) {
      P.notify("notice.layer_failed", {id: memberId, msg: err && err.message});
      renderSeries();
    });
  }

  /* The former member's opacity and visibility on the new one (map and layer list). */
  function carryOver(from, to) {
    to.opacity = from.opacity;
    to.visible = from.visible;
    P.styleIds(to).forEach(function (id) {
      var layer = map.getLayer(id);
      if (!layer) return;
      if (layer.type === "raster") map.setPaintProperty(id, "raster-opacity", to.opacity);
      map.setLayoutProperty(id, "visibility", to.visible ? "visible" : "none");
    });
    var item = document.querySelector('#layer-list .layer[data-id="' + to.id + '"]');
    if (item) {
      var range = item.querySelector('input[type="range"]');
      var box = item.querySelector('input[type="checkbox"]');
      if (range) range.value = String(to.opacity);
      if (box) box.checked = to.visible;
    }
  }

  /* ---------------------------------------------------------------- basemaps */

  var baseControl = null;

  function portalBaseLayers() {
    return map.getStyle().layers.filter(function (l) {
      return l.metadata && l.metadata.basemap === true;
    }).map(function (l) { return l.id; });
  }

  function dropBaseLayer() {
    map.getStyle().layers.forEach(function (l) {
      if (l.id.indexOf(BASE_PREFIX) === 0) map.removeLayer(l.id);
    });
    Object.keys(map.getStyle().sources).forEach(function (id) {
      if (id.indexOf(BASE_PREFIX) === 0) map.removeSource(id);
    });
  }

  /* The style layer just above the background: a basemap layer goes there, below the
     portal's outline and every user layer (portal.js moves those to the top). */
  function lowest() {
    var layers = map.getStyle().layers;
    var above = layers.filter(function (l) { return l.type !== "background"; })[0];
    return above ? above.id : undefined;
  }

  function addBaseLayer(entry) {
    var src = BASE_PREFIX + entry.id;
    var root = location.origin + window.PORTAL.base + "/collections/" +
      encodeURIComponent(entry.id);
    if (entry.kind === "coverage") {
      map.addSource(src, {type: "raster", tileSize: 256, minzoom: 0, maxzoom: 14,
                          tiles: [root + "/map/tiles/WebMercatorQuad/{z}/{y}/{x}"]});
      map.addLayer({id: src, type: "raster", source: src, metadata: {viewerBase: entry.id}},
                   lowest());
      return;
    }
    map.addSource(src, {type: "vector", minzoom: 0, maxzoom: 14,
                        tiles: [root + "/tiles/WebMercatorQuad/{z}/{y}/{x}"]});
    var below = lowest();
    [{id: src, type: "fill", source: src, "source-layer": entry.id,
      filter: ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]],
      paint: {"fill-color": "#ece6da"}},
     {id: src + "-line", type: "line", source: src, "source-layer": entry.id,
      paint: {"line-color": "#8d8577", "line-width": 1}},
     {id: src + "-point", type: "circle", source: src, "source-layer": entry.id,
      filter: ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]],
      paint: {"circle-color": "#6b6256", "circle-radius": 2.5}}
    ].forEach(function (spec) {
      spec.metadata = {viewerBase: entry.id};
      map.addLayer(spec, below);
    });
  }

  /* Show basemap `choice`; an id that is no published basemap (any more) falls back to the
     portal map with a notice. */
  function applyBase(choice) {
    if (!styleReady) return;
    var entry = null;
    if (choice !== "portal" && choice !== "plain") {
      entry = (lists ? lists.basemaps : []).filter(function (b) { return b.id === choice; })[0];
      if (!entry) {
        P.notify("viewer.base_gone", {id: choice});
        choice = "portal";
      }
    }
    base = choice;
    dropBaseLayer();
    portalBaseLayers().forEach(function (id) {
      map.setLayoutProperty(id, "visibility", choice === "portal" ? "visible" : "none");
    });
    if (entry) addBaseLayer(entry);
    document.body.setAttribute("data-basemap", choice);
    P.setHash("base", choice === "portal" ? "" : choice);
    renderBase();
  }

  function renderBase() {
    if (!baseControl) return;
    var box = baseControl.container;
    box.textContent = "";
    var select = el("select", {id: "basemap", "class": "basemap-select"}, [
      el("option", {value: "portal", text: t("viewer.base_portal")}),
      el("option", {value: "plain", text: t("viewer.base_plain")})
    ].concat((lists ? lists.basemaps : []).map(function (b) {
      return el("option", {value: b.id, text: window.I18N.pick(b.title, b.id)});
    })));
    select.value = base;
    select.addEventListener("change", function () { applyBase(select.value); });
    box.appendChild(el("label", {"for": "basemap", "class": "basemap-label",
                                 text: t("viewer.basemap")}));
    box.appendChild(select);
  }

  /* ---------------------------------------------------------------- share and embed */

  var dialog = null;

  function viewLink() {
    return location.origin + window.PORTAL.base + "/" + location.hash;
  }

  function embedUrl() {
    return location.origin + window.PORTAL.base + "/embed" + location.hash;
  }

  function attr(text) {
    return String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;")
      .replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function snippet() {
    return '<iframe src="' + attr(embedUrl()) + '" width="100%" height="450" title="' +
      attr(t("embed.frame_title")) + '" loading="lazy"></iframe>';
  }

  function copy(field, status) {
    var text = field.value;
    var said = function (ok) {
      status.textContent = ok ? t("embed.copied") : t("embed.copy_failed");
    };
    field.select();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { said(true); }, function () {
        said(legacyCopy());
      });
    } else {
      said(legacyCopy());
    }
  }

  function legacyCopy() {
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }

  function copyRow(id, labelKey, value, rows) {
    var field = el("textarea", {id: id, "class": "share-field", readonly: "", rows: String(rows),
                                spellcheck: "false"});
    field.value = value;
    var status = el("span", {"class": "copied", role: "status"});
    return el("div", {"class": "share-row"}, [
      el("label", {"for": id, text: t(labelKey)}),
      field,
      el("div", {"class": "share-actions"}, [
        el("button", {type: "button", "class": "copy", "data-copy": id, text: t("embed.copy"),
                      onclick: function () { copy(field, status); }}),
        status
      ])
    ]);
  }

  function openDialog(opener) {
    if (dialog) dialog.remove();
    dialog = el("dialog", {id: "share-dialog", "class": "share-dialog",
                           "aria-labelledby": "share-title"}, [
      el("div", {"class": "share-head"}, [
        el("h2", {id: "share-title", text: t("embed.title")}),
        el("button", {type: "button", "class": "share-close", "aria-label": t("embed.close"),
                      title: t("embed.close"), text: "\u00d7",
                      onclick: function () { dialog.close(); }})
      ]),
      copyRow("share-link", "embed.link", viewLink(), 2),
      copyRow("share-embed", "embed.snippet", snippet(), 4),
      el("p", {"class": "muted share-note", text: t("embed.note")})
    ]);
    /* showModal() makes the rest of the page inert (focus stays in the dialog) and Escape
       closes it; focus then returns to the button that opened it */
    dialog.addEventListener("close", function () { if (opener) opener.focus(); });
    document.body.appendChild(dialog);
    dialog.showModal();
    dialog.querySelector(".copy").focus();
  }

  function shareIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "20");
    svg.setAttribute("height", "20");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M8 7 3 12l5 5M16 7l5 5-5 5M14 4l-4 16");
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    svg.appendChild(path);
    return svg;
  }

  var shareControl = null;

  function renderShare() {
    if (!shareControl) return;
    var box = shareControl.container;
    box.textContent = "";
    if (embedded) {  // the embed page: a way out to the whole portal, the same view
      var a = el("a", {"class": "embed-open", target: "_blank", rel: "noopener",
                       href: viewLink(), text: t("embed.open")});
      var update = function () { a.href = viewLink(); };
      a.addEventListener("mouseenter", update);
      a.addEventListener("focus", update);
      a.addEventListener("click", update);
      box.appendChild(a);
      return;
    }
    var button = el("button", {type: "button", "class": "share-open", id: "share-open",
                               "aria-label": t("embed.button"), title: t("embed.button"),
                               "aria-haspopup": "dialog"}, [shareIcon()]);
    button.addEventListener("click", function () { openDialog(button); });
    box.appendChild(button);
  }

  /* ---------------------------------------------------------------- start */

  document.addEventListener("portal:map", function (e) {
    P = window.portal;
    map = e.detail;
    baseControl = new Control("viewer-basemap");
    shareControl = new Control("viewer-share");
    seriesControl = new Control("viewer-series");
    seriesControl.container.hidden = true;
    map.addControl(shareControl, "top-right");
    map.addControl(baseControl, "top-right");
    map.addControl(seriesControl, "bottom-left");
    var wantedBase = P.hashParam("base") || "portal";
    base = wantedBase;
    renderShare();
    renderBase();
    map.once("load", function () {
      styleReady = true;
      loadLists().then(function () {
        renderBase();
        renderSeries();
        if (wantedBase !== "portal") applyBase(wantedBase);
      });
    });
    if (embedded) map.on("moveend", function () {
      var a = shareControl.container.querySelector("a");
      if (a) a.href = viewLink();
    });
  });

  document.addEventListener("portal:layers", function () {
    if (!P || !map) return;
    loadLists().then(renderSeries);
  });

  document.addEventListener("portal:lang", function () {
    if (!P || !map) return;
    renderShare();
    loadLists().then(function () {
      renderBase();
      renderSeries();
    });
    if (dialog && dialog.open) dialog.close();
  });
})();
