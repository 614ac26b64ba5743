/* Feature info for people (issue 19): what is under a click (or under the map's centre, Enter
   on the focused map), in the page's language.
   - Every hit of the visible vector layers at the point (points and lines with a few pixels of
     tolerance, polygons exactly), de-duplicated (tiles split features), grouped by layer: one hit
     shows its details, several a list whose entries open them ("back to the list" returns).
   - Details: the feature's name as heading (the layer card's titleField, else the first
     name-like field), field titles in the page's language (the card's, the queryables', else
     the field's own name), values formatted (numbers, dates, yes/no, links, "—" when empty),
     the feature drawn on top of the map (full geometry from OGC API Features: a tile's is
     clipped), the link to its page.
   - Rasters (when no vector hit): the value with the card's unit, "beyond the legend" when it
     is outside the legend's steps, "no data" for nodata.
   - A newer click cancels an older one's requests (AbortController) and an older answer never
     overwrites a newer panel; cards are kept per layer, version and language.
   portal.js calls PortalIdentify.click(e) from the map's click; the panel is #identify. */
(function () {
  "use strict";
  var HIGHLIGHT = "identify-highlight";
  var HIGHLIGHT_LAYERS = [HIGHLIGHT + "-fill", HIGHLIGHT + "-casing", HIGHLIGHT + "-line",
                          HIGHLIGHT + "-circle"];
  var TOLERANCE = 5;  // px around the point for points and lines
  var MAX_HITS = 25;
  var EMPTY = {type: "FeatureCollection", features: []};
  /* names whose values are identifiers or codes: shown as they are, never as numbers */
  var CODE_NAME = /(^id$|_id$|^fid$|code|soato|^iso|oktmo|^inn$|^unp$|zip|postcode|index$)/i;
  /* names whose numbers are years: no thousands separator */
  var YEAR_NAME = /(^|_)(year|yr|год|год[ау]?)($|_)|year$/i;
  var NAME_LIKE = /^(name|title|назва|название|наименование|найменне)(_|$)/i;

  var seq = 0;           // the newest identification
  var controller = null; // its AbortController
  var cards = {};        // "id|version|lang" -> {promise, signal, done}
  var view = null;       // what the panel shows: {lngLat, hits, selected, kind}
  var openedAt = null;

  function P() { return window.portal; }
  function t(key, values) { return window.I18N.t(key, values); }
  function lang() { return window.I18N.lang; }
  function box() { return document.getElementById("identify"); }
  function base() { return window.PORTAL.base; }

  /* ---------------------------------------------------------------- cards and fields */

  /* The layer's card (/portal/cards/<id>.json) in the page's language, once per version and
     language. An entry whose request was cancelled is never handed out again. */
  function card(layer, signal) {
    var key = layer.id + "|" + (layer.version || "") + "|" + lang();
    var kept = cards[key];
    if (kept && (kept.done || !kept.signal || !kept.signal.aborted)) return kept.promise;
    var entry = {signal: signal, done: false};
    entry.promise = P().getJSON("/portal/cards/" + encodeURIComponent(layer.id) + ".json", {},
                                signal).then(function (c) {
      entry.done = true;
      return c;
    }, function (err) {
      if (cards[key] === entry) delete cards[key];
      if (err && err.name === "AbortError") throw err;
      return {};  // no card: the page still shows the feature, with the fields' own names
    });
    cards[key] = entry;
    return entry.promise;
  }

  function cardField(c, name) {
    return ((c && c.fields) || []).filter(function (f) { return f.name === name; })[0] || null;
  }

  function fieldTitle(layer, c, name) {
    var f = cardField(c, name);
    return (f && f.title) || (layer.fields && layer.fields[name]) || name;
  }

  /* The fields in the card's order, then the queryables', then the feature's own. */
  function fieldOrder(layer, c, props) {
    var names = [];
    var add = function (n) {
      if (n !== "geometry" && names.indexOf(n) < 0 && Object.prototype.hasOwnProperty.call(props, n)) {
        names.push(n);
      }
    };
    ((c && c.fields) || []).forEach(function (f) { add(f.name); });
    Object.keys(layer.fields || {}).forEach(add);
    Object.keys(props).forEach(add);
    return names;
  }

  function filled(v) { return v !== null && v !== undefined && String(v).trim() !== ""; }

  /* The feature's name: the card's title field (its variant in the page's language when the
     feature has one: name_be -> name_ru on the Russian page), else the first name-like field. */
  function featureName(props, c) {
    var field = c && c.titleField;
    if (field) {
      var variant = /_(be|ru|en)$/.test(field) ? field.replace(/_(be|ru|en)$/, "_" + lang()) : "";
      if (variant && filled(props[variant])) return String(props[variant]);
      if (filled(props[field])) return String(props[field]);
    }
    var order = ["name_" + lang(), "name", "title", "назва", "название", "наименование",
                 "name_be", "name_ru", "name_en"];
    for (var i = 0; i < order.length; i++) {
      var key = Object.keys(props).filter(function (k) {
        return k.toLowerCase() === order[i];
      })[0];
      if (key && filled(props[key])) return String(props[key]);
    }
    var like = Object.keys(props).filter(function (k) {
      return NAME_LIKE.test(k) && filled(props[k]) && typeof props[k] === "string";
    })[0];
    return like ? String(props[like]) : "";
  }

  /* ---------------------------------------------------------------- values */

  /* The browser's locale data for the page's language: Chromium ships none for Belarusian,
     whose numbers are written as Russian ones are (1 234 567,5); dates get their own words. */
  var BE_MONTHS = ["студзеня", "лютага", "сакавіка", "красавіка", "мая", "чэрвеня", "ліпеня",
                   "жніўня", "верасня", "кастрычніка", "лістапада", "снежня"];

  function known(kind, l) {
    try { return Intl[kind].supportedLocalesOf([l]).length > 0; } catch (e) { return false; }
  }

  function numberLocale() {
    var l = lang();
    return known("NumberFormat", l) ? l : l === "be" ? "ru" : "en";
  }

  function number(v, options) {
    try {
      return new Intl.NumberFormat(numberLocale(), options).format(v);
    } catch (e) {
      return String(v);
    }
  }

  function numberText(v, name) {
    var year = YEAR_NAME.test(name) && Math.abs(v) < 10000 && v === Math.round(v);
    try {
      return new Intl.NumberFormat(numberLocale(), {maximumFractionDigits: 6,
                                                    useGrouping: !year}).format(v);
    } catch (e) {
      return String(v);
    }
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function dateText(text) {
    var day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    if (lang() === "be" && !known("DateTimeFormat", "be")) {  // "5 сакавіка 2024 г."
      var d = day ? new Date(Date.UTC(+day[1], +day[2] - 1, +day[3])) : new Date(text);
      if (isNaN(d.getTime())) return null;
      if (day) return d.getUTCDate() + " " + BE_MONTHS[d.getUTCMonth()] + " " +
        d.getUTCFullYear() + " г.";
      return d.getDate() + " " + BE_MONTHS[d.getMonth()] + " " + d.getFullYear() + " г., " +
        pad(d.getHours()) + ":" + pad(d.getMinutes());
    }
    try {
      if (day) {
        return new Date(Date.UTC(+day[1], +day[2] - 1, +day[3])).toLocaleDateString(lang(), {
          year: "numeric", month: "long", day: "numeric", timeZone: "UTC"});
      }
      var when = new Date(text);
      if (isNaN(when.getTime())) return null;
      return when.toLocaleString(lang(), {year: "numeric", month: "long", day: "numeric",
                                          hour: "2-digit", minute: "2-digit"});
    } catch (e) {
      return null;
    }
  }

  /* A value as a node: "—" when empty, yes/no, a number in the page's language (identifiers,
     codes and strings as they are), a local date, an http(s) link (never javascript:). */
  function valueNode(v, name, type) {
    var el = P().el;
    if (!filled(v)) return el("span", {"class": "empty", text: "\u2014"});
    if (typeof v === "boolean" || (type === "boolean" && /^(true|false|0|1)$/i.test(String(v)))) {
      var yes = v === true || /^(true|1)$/i.test(String(v));
      return el("span", {"class": "bool", text: t(yes ? "identify.yes" : "identify.no")});
    }
    if (typeof v === "number") {
      if (CODE_NAME.test(name) || !isFinite(v)) return el("span", {text: String(v)});
      return el("span", {"class": "num", text: numberText(v, name)});
    }
    if (typeof v === "object") return el("span", {text: JSON.stringify(v)});
    var text = String(v);
    if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
      var date = dateText(text.replace(" ", "T"));
      if (date) return el("time", {datetime: text, text: date});
    }
    if (/^https?:\/\/[^\s<>"]+$/i.test(text)) {
      return el("a", {href: text, text: text, rel: "noopener noreferrer", target: "_blank"});
    }
    return el("span", {text: text});
  }

  /* ---------------------------------------------------------------- hits */

  function layerOf(styleId) {
    return P().layers().filter(function (l) {
      return P().styleIds(l).indexOf(styleId) >= 0;
    })[0];
  }

  /* The visible vector layers' hits at the point: polygons where the point is inside them,
     points and lines within TOLERANCE px; one per layer and feature id, the top layer first. */
  function vectorHits(map, point) {
    var exact = [], near = [];
    P().layers().forEach(function (l) {
      if (!l.visible || l.kind === "coverage") return;
      P().styleIds(l).forEach(function (id) {
        if (!map.getLayer(id) || /-outline$/.test(id)) return;
        (/-fill$/.test(id) ? exact : near).push(id);
      });
    });
    var found = [];
    if (exact.length) found = found.concat(map.queryRenderedFeatures([point.x, point.y],
                                                                     {layers: exact}));
    if (near.length) {
      found = found.concat(map.queryRenderedFeatures(
        [[point.x - TOLERANCE, point.y - TOLERANCE], [point.x + TOLERANCE, point.y + TOLERANCE]],
        {layers: near}));
    }
    var seen = {}, hits = [];
    found.forEach(function (f) {
      var layer = layerOf(f.layer.id);
      if (!layer) return;
      var key = layer.id + "|" + (f.id != null ? f.id : JSON.stringify(f.properties));
      if (seen[key]) return;
      seen[key] = true;
      hits.push({kind: "feature", layer: layer, id: f.id, props: f.properties || {},
                 geometry: f.geometry, full: null});
    });
    var order = P().layers().map(function (l) { return l.id; });
    hits.sort(function (a, b) { return order.indexOf(a.layer.id) - order.indexOf(b.layer.id); });
    return hits;
  }

  function inside(extent, lngLat) {
    return !extent || (lngLat.lng >= extent[0] && lngLat.lng <= extent[2] &&
                       lngLat.lat >= extent[1] && lngLat.lat <= extent[3]);
  }

  /* The visible rasters' values at the point (their coverage, one pixel). */
  function rasterHits(lngLat, signal) {
    var layers = P().layers().filter(function (l) {
      return l.visible && l.kind === "coverage" && inside(l.extent, lngLat);
    });
    return Promise.all(layers.map(function (layer) {
      return P().getJSON("/collections/" + encodeURIComponent(layer.id) + "/coverage", {
        f: "json",
        subset: "Lon(" + lngLat.lng.toFixed(6) + "),Lat(" + lngLat.lat.toFixed(6) + ")"
      }, signal).then(function (cov) {
        return {kind: "raster", layer: layer, coverage: cov};
      }, function (err) {
        if (err && err.name === "AbortError") throw err;
        if (err && err.status === 400) return null;  // off the raster's grid
        return {kind: "raster", layer: layer, error: err && err.message};
      });
    })).then(function (all) { return all.filter(Boolean); });
  }

  /* ---------------------------------------------------------------- highlight */

  function ensureHighlight(map) {
    if (!map.getSource(HIGHLIGHT)) map.addSource(HIGHLIGHT, {type: "geojson", data: EMPTY});
    var polygon = ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]];
    var linear = ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon", "LineString",
                                                        "MultiLineString"]]];
    var point = ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]];
    var specs = [
      {id: HIGHLIGHT_LAYERS[0], type: "fill", filter: polygon,
       paint: {"fill-color": "#ffd400", "fill-opacity": 0.25}},
      {id: HIGHLIGHT_LAYERS[1], type: "line", filter: linear,
       paint: {"line-color": "#1d2329", "line-width": 6, "line-opacity": 0.8}},
      {id: HIGHLIGHT_LAYERS[2], type: "line", filter: linear,
       paint: {"line-color": "#ffd400", "line-width": 3}},
      {id: HIGHLIGHT_LAYERS[3], type: "circle", filter: point,
       paint: {"circle-color": "#ffd400", "circle-radius": 8, "circle-stroke-color": "#1d2329",
               "circle-stroke-width": 3}}
    ];
    specs.forEach(function (spec) {
      if (!map.getLayer(spec.id)) {
        spec.source = HIGHLIGHT;
        map.addLayer(spec);
      }
    });
  }

  function onTop(map) {
    HIGHLIGHT_LAYERS.forEach(function (id) { if (map.getLayer(id)) map.moveLayer(id); });
  }

  function highlight(geometry) {
    var map = P().map();
    if (!map) return;
    try {
      if (!geometry) {
        if (map.getSource(HIGHLIGHT)) map.getSource(HIGHLIGHT).setData(EMPTY);
        return;
      }
      ensureHighlight(map);
      onTop(map);
      map.getSource(HIGHLIGHT).setData({type: "Feature", properties: {}, geometry: geometry});
    } catch (e) { /* the style is being replaced: the next click draws it again */ }
  }

  /* ---------------------------------------------------------------- the panel */

  function head(title, extra) {
    var el = P().el;
    var h = el("h2", {tabindex: "-1", id: "identify-heading", text: title});
    return el("div", {"class": "identify-head"}, [
      h,
      el("button", {type: "button", "class": "close", text: "\u00d7",
                    "aria-label": t("identify.close"), title: t("identify.close"),
                    onclick: function () { close(true); }})
    ].concat(extra || []));
  }

  function backButton() {
    return P().el("button", {type: "button", "class": "identify-back",
                             text: "\u2190 " + t("identify.back"),
                             onclick: function () {
                               var was = view.selected;
                               view.selected = null;
                               render(true, was);
                             }});
  }

  function detailsOf(hit, c) {
    var el = P().el;
    var layer = hit.layer;
    var props = (hit.full && hit.full.properties) || hit.props;
    var name = featureName(props, c);
    var rows = fieldOrder(layer, c, props).map(function (n) {
      var f = cardField(c, n);
      return el("tr", {"data-field": n}, [el("th", {scope: "row", text: fieldTitle(layer, c, n)}),
                                          el("td", {}, [valueNode(props[n], n, f && f.type)])]);
    });
    var parts = [
      head(name || layer.title),
      name ? el("p", {"class": "identify-layer muted", text: layer.title}) : null,
      el("table", {"class": "identify-fields"}, [el("tbody", {}, rows)])
    ];
    if (hit.id != null) {
      parts.push(el("a", {"class": "feature-link",
                          href: base() + "/collections/" + encodeURIComponent(layer.id) +
                            "/items/" + encodeURIComponent(hit.id) + "?f=html&lang=" + lang(),
                          text: t("identify.link")}));
    }
    return parts;
  }

  function rasterOf(hit, c) {
    var el = P().el;
    var layer = hit.layer;
    var rows = [];
    if (hit.error) {
      rows.push(el("tr", {}, [el("th", {scope: "row", text: t("identify.value")}),
                              el("td", {text: t("identify.failed", {msg: hit.error})})]));
    } else {
      var bands = Object.keys(hit.coverage.ranges || {});
      bands.forEach(function (band) {
        var v = hit.coverage.ranges[band].values[0];
        var param = hit.coverage.parameters && hit.coverage.parameters[band];
        var label = bands.length === 1 ? t("identify.value") :
          window.I18N.pick(param && param.description, band);
        var cell = el("td", {"class": "raster-value", "data-band": band});
        if (v == null || (typeof v === "number" && isNaN(v))) {
          cell.appendChild(el("span", {"class": "empty", text: t("identify.nodata")}));
        } else {
          var text = typeof v === "number" ? number(v, {maximumFractionDigits: 2}) : String(v);
          cell.appendChild(el("span", {"class": "num", text: text + (c && c.unit ? " " + c.unit : "")}));
          var steps = layer.legend || [];
          if (steps.length && typeof v === "number") {
            var lo = steps[0].value, hi = steps[steps.length - 1].value;
            var unit = c && c.unit ? " " + c.unit : "";
            var fmt = function (x) { return number(x, {maximumFractionDigits: 2}) + unit; };
            if (v > hi) cell.appendChild(el("span", {"class": "beyond",
                                                     text: t("identify.above", {max: fmt(hi)})}));
            else if (v < lo) cell.appendChild(el("span", {"class": "beyond",
                                                          text: t("identify.below", {min: fmt(lo)})}));
          }
        }
        rows.push(el("tr", {}, [el("th", {scope: "row", text: label}), cell]));
      });
    }
    return [head(layer.title),
            el("table", {"class": "identify-fields"}, [el("tbody", {}, rows)])];
  }

  function listOf(hits, names) {
    var el = P().el;
    var groups = [];
    hits.forEach(function (hit, i) {
      var group = groups.filter(function (g) { return g.layer === hit.layer; })[0];
      if (!group) groups.push(group = {layer: hit.layer, items: []});
      group.items.push(el("li", {}, [el("button", {
        type: "button", "class": "identify-entry", "data-index": String(i),
        "data-layer": hit.layer.id,
        text: names[i] || (hit.kind === "raster" ? hit.layer.title :
                           t("identify.unnamed", {id: hit.id != null ? hit.id : i + 1})),
        onclick: function () { select(i); }
      })]));
    });
    var parts = [head(t("identify.list", {n: hits.length}))];
    groups.forEach(function (g) {
      parts.push(el("section", {"class": "identify-group", "data-layer": g.layer.id}, [
        el("h3", {text: g.layer.title}),
        el("ul", {"class": "identify-list"}, g.items)
      ]));
    });
    if (view.more) parts.push(el("p", {"class": "muted", text: t("identify.more",
                                                                 {n: view.more})}));
    return parts;
  }

  function cardsFor(hits, signal) {
    return Promise.all(hits.map(function (h) { return card(h.layer, signal); }));
  }

  /* Draws the panel from `view` (the list, or the selected hit's details); focus goes to its
     heading when `focus`, or to the list entry `from` (back from its details). */
  function render(focus, from) {
    var mine = seq;
    var signal = controller ? controller.signal : undefined;
    var hits = view.hits;
    return cardsFor(hits, signal).then(function (cs) {
      if (mine !== seq || !view) return;
      var panel = box();
      var parts;
      if (view.selected != null) {
        var hit = hits[view.selected];
        var c = cs[view.selected];
        parts = hit.kind === "raster" ? rasterOf(hit, c) : detailsOf(hit, c);
        if (hits.length > 1) parts.splice(1, 0, backButton());
        highlight(hit.kind === "feature" ? ((hit.full && hit.full.geometry) || hit.geometry) :
                  {type: "Point", coordinates: view.lngLat});
      } else {
        parts = listOf(hits, hits.map(function (h, i) {
          return h.kind === "feature" ? featureName(h.props, cs[i]) : "";
        }));
        highlight(null);
      }
      panel.textContent = "";
      panel.setAttribute("data-view", view.selected != null ? "details" : "list");
      panel.setAttribute("role", "dialog");
      panel.setAttribute("aria-labelledby", "identify-heading");
      parts.forEach(function (p) { if (p) panel.appendChild(p); });
      var wasHidden = panel.hidden;
      panel.hidden = false;
      if (wasHidden) emitState(true);
      if (from != null) {
        var entry = panel.querySelector(".identify-entry[data-index='" + from + "']");
        if (entry) { entry.focus(); return; }
      }
      if (focus) document.getElementById("identify-heading").focus();
    }).catch(function (err) {
      if (err && err.name === "AbortError") return;
      throw err;
    });
  }

  /* The selected hit's details; its full geometry and attributes are read from OGC API
     Features meanwhile (a tile's geometry is clipped at the tile's edge). */
  function select(i) {
    view.selected = i;
    var hit = view.hits[i];
    var shown = render(true);
    if (hit.kind !== "feature" || hit.id == null || hit.full) return shown;
    var mine = seq;
    var signal = controller ? controller.signal : undefined;
    P().getJSON("/collections/" + encodeURIComponent(hit.layer.id) + "/items/" +
                encodeURIComponent(hit.id), {f: "json"}, signal).then(function (feature) {
      hit.full = feature;
      if (mine !== seq || !view || view.hits[view.selected] !== hit) return;
      if (feature.geometry) highlight(feature.geometry);
      return shown.then(function () {
        /* the attributes as the API gives them (tiles may round or drop some): the table only,
           the focus stays where it is */
        return cardsFor([hit], signal).then(function (cs) {
          if (mine !== seq || !view || view.hits[view.selected] !== hit) return;
          var old = box().querySelector("table.identify-fields");
          var fresh = detailsOf(hit, cs[0]).filter(function (p) {
            return p && p.tagName === "TABLE";
          })[0];
          if (old && fresh) old.parentNode.replaceChild(fresh, old);
        });
      });
    }).catch(function () { /* superseded, or gone: the tile's geometry stays drawn */ });
    return shown;
  }

  function emitState(open) {
    document.dispatchEvent(new CustomEvent("portal:identify", {detail: {
      lngLat: openedAt, open: open}}));
  }

  function cancel() {
    seq++;
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
  }

  /* Closes the panel and removes the highlight; `refocus`: focus goes back to the map. */
  function close(refocus) {
    cancel();
    var panel = box();
    var wasOpen = panel && !panel.hidden;
    view = null;
    highlight(null);
    if (panel) {
      panel.hidden = true;
      panel.textContent = "";
      panel.removeAttribute("data-view");
    }
    if (wasOpen) emitState(false);
    var map = P().map();
    if (refocus && map) map.getCanvas().focus();
  }

  /* What is at `point` (pixels in the map) / `lngLat`: the panel, or nothing (closed). */
  function identifyAt(point, lngLat) {
    var map = P() && P().map();
    if (!map || P().busyTool) return Promise.resolve();
    cancel();
    var mine = seq;
    var signal = controller ? controller.signal : undefined;
    var hits = vectorHits(map, point);
    var found = hits.length ? Promise.resolve(hits) :
      P().waiting(rasterHits(lngLat, signal), "map", "map-loading");
    return found.then(function (all) {
      if (mine !== seq) return;
      if (!all.length) { close(false); return; }
      openedAt = [lngLat.lng, lngLat.lat];
      view = {lngLat: openedAt, hits: all.slice(0, MAX_HITS),
              more: Math.max(0, all.length - MAX_HITS), selected: null};
      if (!box().hidden) emitState(true);  // a new place: the sheet follows it
      return view.hits.length === 1 ? select(0) : render(true);
    }).catch(function (err) {
      if (err && err.name === "AbortError") return;
      P().notify("identify.failed", {msg: err && err.message});
    });
  }

  function click(e) {
    return identifyAt(e.point, e.lngLat);
  }

  /* Enter on the focused map: what is under the map's centre */
  function atCentre() {
    var map = P().map();
    var c = map.getContainer();
    return identifyAt({x: c.clientWidth / 2, y: c.clientHeight / 2}, map.getCenter());
  }

  function attach(map) {
    var canvas = map.getCanvas();
    canvas.setAttribute("aria-keyshortcuts", "Enter");
    canvas.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.altKey && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        atCentre();
      } else if (e.key === "Escape" && view) {
        close(true);
      }
    });
    map.on("styledata", function () {
      /* a new style (a basemap choice) drops our source: redraw the highlight over it */
      if (view && view.selected != null && !map.getSource(HIGHLIGHT)) {
        var hit = view.hits[view.selected];
        if (hit.kind === "feature") highlight((hit.full && hit.full.geometry) || hit.geometry);
      }
    });
  }

  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape" || !view) return;
    var panel = box();
    if (panel && panel.contains(document.activeElement)) {
      e.preventDefault();
      close(true);
    }
  });

  document.addEventListener("portal:map", function (e) { attach(e.detail); });

  /* the opened layers changed: the highlight stays on top; a layer that was removed or
     hidden takes its panel with it */
  document.addEventListener("portal:layers", function () {
    var map = P().map();
    if (map) onTop(map);
    if (!view) return;
    var ids = P().layers().filter(function (l) { return l.visible; })
      .map(function (l) { return l.id; });
    var gone = view.hits.some(function (h) { return ids.indexOf(h.layer.id) < 0; });
    if (gone) close(false);
  });

  document.addEventListener("portal:lang", function () {
    if (!view) return;
    var panel = box();
    var focused = panel.contains(document.activeElement);
    /* the layer objects get their new titles from portal.js meanwhile; the cards are read in
       the new language here */
    render(false, null).then(function () {
      if (focused) document.getElementById("identify-heading").focus();
    });
  });

  window.PortalIdentify = {
    click: click,
    identifyAt: identifyAt,
    atCentre: atCentre,
    close: close,
    isOpen: function () { return !!view; },
    /* a value as the panel shows it (HTML): for tests of the formatting rules */
    format: function (v, name, type) { return valueNode(v, name || "", type).outerHTML; },
    /* what is shown (for tests and the other modules): {layer, id, kind} of the selection */
    selected: function () {
      if (!view || view.selected == null) return null;
      var h = view.hits[view.selected];
      return {layer: h.layer.id, id: h.id, kind: h.kind};
    }
  };
})();
