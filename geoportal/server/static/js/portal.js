/* The home page: catalog search (OGC API - Records), a map of the portal's own basemap, the
   layers opened from the results (vector tiles, raster map tiles), identify, downloads.
   Everything goes through the public APIs; the view lives in the URL's hash:
   #map=zoom/lat/lon&layers=a,b&lang=be&q=words&region=SOATO&theme=id */
(function () {
  "use strict";
  var BASE = window.PORTAL.base;
  var ABSOLUTE = location.origin + BASE;  // map tiles are fetched by workers: absolute URLs
  var t = window.I18N.t, pick = window.I18N.pick;
  var PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
                 "#e377c2"];
  var DOWNLOADS = [["gpkg", "GeoPackage"], ["geojson", "GeoJSON"], ["csv", "CSV"],
                   ["shp", "Shapefile (zip)"]];
  var registry = {regions: {}, themes: {}};
  var hashNotices = [];  // [i18n key, values] of what readHash had to adjust
  /* hash parameters other modules keep in the link (tools, series, basemap): portal.setHash */
  var hashExtras = {};
  var HASH_OWN = ["map", "layers", "lang", "q", "region", "theme"];
  var state = readHash();
  var opened = [];  // {id, kind, title, color, opacity, visible, extent, fields, legend}
  var map = null;
  var mapReady = false;  // the style has loaded: layers may be added

  /* A view from a link, made safe: latitude clamped to +-85 (Web Mercator's edge), longitude
     wrapped to -180..180, zoom clamped to 0..22; an unreadable one (NaN, too few numbers) is
     ignored. Either way the page says so (hashNotices), never a blank map. */

  function readView(text) {
    if (!text) return null;
    var parts = text.split("/");
    var view = parts.map(function (v) { return v.trim() === "" ? NaN : Number(v); });
    if (view.length !== 3 || view.some(function (v) { return !isFinite(v); })) {
      hashNotices.push(["notice.view_ignored", {}]);
      return null;
    }
    var zoom = Math.min(22, Math.max(0, view[0]));
    var lat = Math.min(85, Math.max(-85, view[1]));
    var lon = ((view[2] + 180) % 360 + 360) % 360 - 180;
    if (zoom !== view[0] || lat !== view[1] || Math.abs(lon - view[2]) > 1e-9) {
      hashNotices.push(["notice.view_clamped", {}]);
    }
    return {zoom: zoom, center: [lon, lat]};
  }

  function readHash() {
    var h = new URLSearchParams(location.hash.replace(/^#/, ""));
    h.forEach(function (value, key) {  // the other modules' parameters, kept as they came
      if (HASH_OWN.indexOf(key) < 0) hashExtras[key] = value;
    });
    var view = readView(h.get("map") || "");
    return {
      zoom: view ? view.zoom : null,
      center: view ? view.center : null,
      layers: (h.get("layers") || "").split(",").filter(Boolean),
      q: h.get("q") || "", region: h.get("region") || "", theme: h.get("theme") || ""
    };
  }

  function writeHash() {
    var h = new URLSearchParams();
    if (map) {
      var c = map.getCenter();
      h.set("map", [map.getZoom().toFixed(2), c.lat.toFixed(5), c.lng.toFixed(5)].join("/"));
    }
    if (opened.length) h.set("layers", opened.map(function (l) { return l.id; }).join(","));
    h.set("lang", window.I18N.lang);
    if (state.q) h.set("q", state.q);
    if (state.region) h.set("region", state.region);
    if (state.theme) h.set("theme", state.theme);
    Object.keys(hashExtras).forEach(function (k) {
      if (hashExtras[k] !== "" && hashExtras[k] != null) h.set(k, hashExtras[k]);
    });
    history.replaceState(null, "", "#" + h.toString().replace(/%2F/g, "/").replace(/%2C/g, ","));
  }

  function api(path, params) {
    var url = new URL(BASE + path, location.href);
    Object.keys(params || {}).forEach(function (k) {
      if (params[k] !== "" && params[k] != null) url.searchParams.set(k, params[k]);
    });
    url.searchParams.set("lang", window.I18N.lang);
    return url.toString();
  }

  /* An API answer as JSON. An error carries a readable sentence (the server's `description`,
     else one of ours: "the request is too long" for 414) and its `status`; an answer that is not
     JSON (a proxy's HTML page) never surfaces as "Unexpected token". */
  function failure(status, body) {
    var described = body && typeof body === "object" && typeof body.description === "string" ?
      body.description : "";
    var text = described || (status === 414 ? t("error.too_long") :
                             status ? t("error.status", {status: status}) : t("error.unreadable"));
    var err = new Error(text);
    err.status = status;
    return err;
  }

  function getJSON(path, params, signal) {
    return fetch(api(path, params), {headers: {Accept: "application/json"},
                                     signal: signal}).then(function (r) {
      return r.text().then(function (text) {
        var body = null;
        try { body = JSON.parse(text); } catch (e) { body = null; }
        if (!r.ok) throw failure(r.status, body);
        if (body === null) throw failure(0, null);
        return body;
      });
    });
  }

  /* ---------------------------------------------------------------- notices and waits */

  /* A short line in the status region (aria-live): a link's view that was adjusted, a layer
     that is gone. */
  function notify(key, values) {
    var box = document.getElementById("notices");
    if (!box) return;
    var text = t(key, values);
    var seen = Array.prototype.some.call(box.querySelectorAll(".notice-text"), function (p) {
      return p.textContent === text;
    });
    if (!seen) {
      box.appendChild(el("p", {"class": "notice", "data-key": key,
                               "data-values": JSON.stringify(values || {})}, [
        el("span", {"class": "notice-text", text: text}),
        el("button", {type: "button", "class": "notice-close", "aria-label": t("notice.close"),
                      title: t("notice.close"), text: "\u00d7",
                      onclick: function (e) {
                        e.target.parentNode.remove();
                        box.hidden = !box.children.length;
                      }})
      ]));
    }
    box.hidden = false;
  }

  /* A wait that lasts 200 ms or more shows its indicator and marks its region aria-busy; a
     quicker one shows nothing (no flicker). `region` and `indicator` are element ids. */
  var LOADING_AFTER = 200;

  function waiting(promise, region, indicator) {
    var shown = false;
    var timer = setTimeout(function () {
      shown = true;
      var r = document.getElementById(region), i = document.getElementById(indicator);
      if (r) {
        r.setAttribute("data-waits", String((+r.getAttribute("data-waits") || 0) + 1));
        r.setAttribute("aria-busy", "true");
      }
      if (i) {
        i.setAttribute("data-waits", String((+i.getAttribute("data-waits") || 0) + 1));
        i.hidden = false;
      }
    }, LOADING_AFTER);
    var done = function () {
      clearTimeout(timer);
      if (!shown) return;
      var r = document.getElementById(region), i = document.getElementById(indicator);
      if (r) {
        var left = Math.max(0, (+r.getAttribute("data-waits") || 0) - 1);
        r.setAttribute("data-waits", String(left));
        if (!left) r.removeAttribute("aria-busy");
      }
      if (i) {
        var still = Math.max(0, (+i.getAttribute("data-waits") || 0) - 1);
        i.setAttribute("data-waits", String(still));
        if (!still) i.hidden = true;
      }
    };
    promise.then(done, done);
    return promise;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  /* ---------------------------------------------------------------- catalog search */

  function regionName(code) {
    var r = registry.regions[code];
    return r ? pick(r.name, code) : code;
  }

  /* A record's extent as [minx, miny, maxx, maxy], or null. */
  function recordBbox(record) {
    var ring = record.geometry && record.geometry.coordinates && record.geometry.coordinates[0];
    if (!ring) return null;
    var xs = ring.map(function (p) { return p[0]; }), ys = ring.map(function (p) { return p[1]; });
    return [Math.min.apply(null, xs), Math.min.apply(null, ys),
            Math.max.apply(null, xs), Math.max.apply(null, ys)];
  }

  /* The region filter means "layers that cover the region" (national ones included): at
     least half of the smaller of the two boxes shared (geoportal/search/layers.py: covers) */
  function covers(extent, box) {
    if (!extent || !box) return false;
    var w = Math.min(extent[2], box[2]) - Math.max(extent[0], box[0]);
    var h = Math.min(extent[3], box[3]) - Math.max(extent[1], box[1]);
    if (w <= 0 || h <= 0) return false;
    var area = function (b) { return Math.max(b[2] - b[0], 1e-9) * Math.max(b[3] - b[1], 1e-9); };
    return w * h >= 0.5 * Math.min(area(extent), area(box));
  }

  function inRegion(record) {
    if (!state.region) return true;
    var region = registry.regions[state.region];
    if (!region || !region.bbox) return record.properties.region === state.region;
    return covers(recordBbox(record), region.bbox);
  }

  /* Superseded searches are cancelled and, should an answer still arrive, ignored: the list
     always shows the answer to what the box says now. */
  var searchSeq = 0, searchAbort = null;
  var MAX_QUERY = 200;

  function search() {
    var mine = ++searchSeq;
    if (searchAbort && window.AbortController) searchAbort.abort();
    searchAbort = window.AbortController ? new AbortController() : null;
    var signal = searchAbort ? searchAbort.signal : undefined;
    var list = document.getElementById("results");
    var count = document.getElementById("result-count");
    var places = document.getElementById("places");
    if (state.q.length > MAX_QUERY) {
      list.textContent = "";
      showPlaces(null);
      count.textContent = t("search.too_long", {n: MAX_QUERY});
      return Promise.resolve();
    }
    document.body.setAttribute("data-searching", "true");
    var params = {f: "json", limit: state.region ? 500 : 50, q: state.q, theme: state.theme,
                  sortby: state.q ? "" : "title"};
    var records = getJSON("/collections/catalog/items", params, signal);
    var found = state.q ? getJSON("/search", {q: state.q, limit: 8}, signal)
      .catch(function (err) {
        /* a query the server refuses (too long, malformed) is said so; other failures leave
           the catalog's answer alone */
        if (err && (err.status === 400 || err.status === 414)) throw err;
        return null;
      }) : Promise.resolve(null);
    return waiting(Promise.all([records, found]).then(function (both) {
      var body = both[0], answer = both[1];
      var shown = body.features.filter(inRegion);
      /* "станции Орша", "railway stations near Orsha": the layers the search box found */
      var wanted = answer && answer.query && answer.query.near ? answer.layers : [];
      if (!shown.length && answer && answer.layers.length) wanted = answer.layers;
      var extra = wanted.map(function (l) { return l.id; }).filter(function (id) {
        return !shown.some(function (r) { return r.id === id; });
      });
      return Promise.all(extra.map(function (id) {
        return getJSON("/collections/catalog/items/" + encodeURIComponent(id), {f: "json"},
                       signal).catch(function () { return null; });
      })).then(function (more) {
        if (mine !== searchSeq) return;  // a newer search was started meanwhile
        var records = wanted.length ? wanted.map(function (l) {
          return shown.concat(more).filter(function (r) { return r && r.id === l.id; })[0];
        }).filter(Boolean).filter(inRegion) : shown;
        list.textContent = "";
        var n = wanted.length || state.region ? records.length :
          (body.numberMatched != null ? body.numberMatched : records.length);
        count.textContent = n ? t("search.found", {n: n}) : t("search.none");
        if (answer && answer.query && answer.query.near && wanted.length) {
          count.textContent = t("search.near", {what: answer.query.what,
                                                near: answer.query.near}) + " · " +
            count.textContent;
        }
        records.forEach(function (record) { list.appendChild(resultItem(record)); });
        showPlaces(answer);
      });
    }).catch(function (err) {
      if (mine !== searchSeq || (err && err.name === "AbortError")) return;
      count.textContent = t("search.failed", {msg: err.message});
    }).then(function () {
      if (mine === searchSeq) document.body.removeAttribute("data-searching");
      if (places) places.hidden = !places.children.length;
    }), "results", "search-loading");
  }

  /* ---------------------------------------------------------------- places */

  var placeMarker = null;

  function showPlaces(answer) {
    var list = document.getElementById("places");
    if (!list) return;
    list.textContent = "";
    (answer ? answer.places : []).forEach(function (place) {
      var layer = place.layerTitle;
      list.appendChild(el("li", {"class": "place", "data-layer": place.layer,
                                 "data-fid": String(place.id), "data-kind": place.kind}, [
        el("div", {"class": "result-text"}, [
          el("h3", {text: place.name}),
          el("p", {"class": "muted", text: [t("place.kind." + place.kind),
                                            t("place.in", {layer: layer || place.layer})]
                                           .join(" · ")}),
          el("button", {type: "button", "class": "open show-place", text: t("place.show"),
                        onclick: function () { showPlace(place); }})
        ])
      ]));
    });
    list.hidden = !list.children.length;
    document.getElementById("places-title").hidden = list.hidden;
  }

  function showPlace(place) {
    if (!map) return;
    var b = place.bbox;
    if (b[2] - b[0] > 1e-6 || b[3] - b[1] > 1e-6) {
      map.fitBounds([[b[0], b[1]], [b[2], b[3]]], {padding: 30, maxZoom: 14, duration: 0});
    } else {
      var zoom = {station: 14, stop: 16, city: 11, settlement: 13}[place.kind] || 12;
      map.jumpTo({center: place.point, zoom: zoom});
    }
    if (placeMarker) placeMarker.remove();
    placeMarker = new maplibregl.Marker({color: "#d62728"}).setLngLat(place.point).addTo(map);
    placeMarker.getElement().setAttribute("data-place", place.name);
  }

  function resultItem(record) {
    var p = record.properties;
    var facts = [regionName(p.region), registry.themes[p.theme] ?
      pick(registry.themes[p.theme].name, p.theme) : p.theme,
      p.kind === "coverage" ? t("result.raster") : t("result.features", {n: p.features}),
      t("result.updated", {d: (p.updated || "").slice(0, 10)})];
    return el("li", {"class": "result", "data-id": record.id}, [
      el("img", {src: BASE + "/portal/thumbnails/" + encodeURIComponent(record.id) + ".svg",
                 alt: "", width: "96", height: "64", loading: "lazy"}),
      el("div", {"class": "result-text"}, [
        el("h3", {text: p.title || record.id}),
        el("p", {"class": "muted", text: facts.join(" · ")}),
        el("button", {type: "button", "class": "open", text: t("result.open"),
                      onclick: function () {
                        openLayer(record.id, true).then(function () {
                          emit("opened", {id: record.id});
                        }, function () { /* said by waiting() */ });
                      }})
      ])
    ]);
  }

  function setRegion(code) {
    state.region = code || "";
    setRegionLabel();
    outlineRegion(true);
    writeHash();
    search();
  }

  /* The chosen region outlined on the map (drawn from the basemap's own oblast or raion
     tiles), and the map zoomed to it when it was clicked (``zoom``). */
  function outlineRegion(zoom) {
    if (!map) return;
    if (!mapReady) { map.once("load", function () { outlineRegion(zoom); }); return; }
    if (map.getLayer("region-outline")) map.removeLayer("region-outline");
    var region = registry.regions[state.region];
    if (!state.region || !region) return;
    var source = region.level === "raion" ? "basemap-raions" : "basemap-oblasts";
    if (map.getSource(source)) {
      map.addLayer({id: "region-outline", type: "line", source: source,
                    "source-layer": source.slice("basemap-".length),
                    filter: ["==", ["get", "soato"], state.region],
                    paint: {"line-color": "#d62728", "line-width": 3}});
    }
    if (zoom && region.bbox) {
      var b = region.bbox;
      map.fitBounds([[b[0], b[1]], [b[2], b[3]]], {padding: 20, duration: 0});
    }
  }

  /* The region map is one Tab stop, not 125: the shapes take tabindex -1 but for one (the
     chosen region, else the first oblast), and the arrow keys move between them (oblasts
     first, then raions), Home/End to the ends, Enter or Space chooses (a roving tabindex). */
  function regionOrder(holder) {
    var shapes = Array.prototype.slice.call(holder.querySelectorAll(".region"));
    return shapes.filter(function (p) { return p.classList.contains("oblast"); })
      .concat(shapes.filter(function (p) { return !p.classList.contains("oblast"); }));
  }

  function rove(holder, target) {
    regionOrder(holder).forEach(function (p) {
      p.setAttribute("tabindex", p === target ? "0" : "-1");
    });
  }

  function loadRegionMap() {
    return fetch(api("/portal/regions.svg")).then(function (r) {
      if (!r.ok) throw failure(r.status, null);
      return r.text();
    }).then(function (svg) {
        var holder = document.getElementById("region-map");
        holder.innerHTML = svg;
        var group = holder.querySelector("svg");
        if (group) group.setAttribute("aria-label", t("region.map"));
        var order = regionOrder(holder);
        order.forEach(function (path, i) {
          var choose = function () {
            var code = path.getAttribute("data-region");
            rove(holder, path);
            setRegion(code === state.region ? "" : code);
          };
          path.addEventListener("click", choose);
          path.addEventListener("keydown", function (e) {
            var next = {ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1,
                        Home: 0, End: order.length - 1}[e.key];
            if (e.key === "Enter" || e.key === " ") { e.preventDefault(); choose(); return; }
            if (next === undefined) return;
            e.preventDefault();
            var to = order[(next + order.length) % order.length];
            rove(holder, to);
            to.focus();
          });
        });
        var chosen = order.filter(function (p) {
          return state.region && p.getAttribute("data-region") === state.region;
        })[0];
        rove(holder, chosen || order[0]);
        setRegionLabel();
      }).catch(function () { /* no region map: the filter still works from the URL */ });
  }

  function setRegionLabel() {
    document.getElementById("region-name").textContent =
      state.region ? regionName(state.region) : t("search.all_belarus");
    document.getElementById("region-clear").hidden = !state.region;
    document.querySelectorAll("#region-map .region").forEach(function (path) {
      path.classList.toggle("selected", path.getAttribute("data-region") === state.region);
    });
  }

  function fillThemes() {
    var select = document.getElementById("theme");
    var keep = state.theme;
    select.querySelectorAll("option[value]:not([value=''])").forEach(function (o) { o.remove(); });
    Object.keys(registry.themes).forEach(function (id) {
      select.appendChild(el("option", {value: id, text: pick(registry.themes[id].name, id)}));
    });
    select.value = keep;
  }

  /* ---------------------------------------------------------------- the map's layers */

  function styleIds(layer) {
    return layer.kind === "coverage" ? [layer.id + "-raster"] :
      {0: [layer.id + "-circle"], 1: [layer.id + "-line"],
       2: [layer.id + "-fill", layer.id + "-outline"]}[layer.dimension] ||
      [layer.id + "-fill", layer.id + "-outline", layer.id + "-line", layer.id + "-circle"];
  }

  function mapLayers(layer) {
    var src = "layer-" + layer.id;
    var c = layer.color;
    if (layer.kind === "coverage") {
      return [{id: layer.id + "-raster", type: "raster", source: src,
               paint: {"raster-opacity": layer.opacity}}];
    }
    var all = {
      fill: {id: layer.id + "-fill", type: "fill", source: src, "source-layer": layer.id,
             filter: ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]],
             paint: {"fill-color": c, "fill-opacity": 0.35 * layer.opacity}},
      outline: {id: layer.id + "-outline", type: "line", source: src, "source-layer": layer.id,
                filter: ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]],
                paint: {"line-color": c, "line-width": 1.2, "line-opacity": layer.opacity}},
      line: {id: layer.id + "-line", type: "line", source: src, "source-layer": layer.id,
             filter: ["in", ["geometry-type"], ["literal", ["LineString", "MultiLineString"]]],
             paint: {"line-color": c, "line-width": 2, "line-opacity": layer.opacity}},
      circle: {id: layer.id + "-circle", type: "circle", source: src, "source-layer": layer.id,
               filter: ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]],
               paint: {"circle-color": c, "circle-radius": 4, "circle-stroke-color": "#fff",
                       "circle-stroke-width": 1, "circle-opacity": layer.opacity,
                       "circle-stroke-opacity": layer.opacity}}
    };
    return styleIds(layer).map(function (id) { return all[id.slice(layer.id.length + 1)]; });
  }

  function addToMap(layer) {
    var src = "layer-" + layer.id;
    if (!map.getSource(src)) {
      map.addSource(src, layer.kind === "coverage" ? {
        type: "raster", tileSize: 256, minzoom: 0, maxzoom: 14, bounds: layer.extent,
        tiles: [ABSOLUTE + "/collections/" + layer.id + "/map/tiles/WebMercatorQuad/{z}/{y}/{x}" +
                layer.version]
      } : {
        type: "vector", minzoom: 0, maxzoom: 14, bounds: layer.extent, promoteId: undefined,
        tiles: [ABSOLUTE + "/collections/" + layer.id + "/tiles/WebMercatorQuad/{z}/{y}/{x}" +
                layer.version]
      });
    }
    mapLayers(layer).forEach(function (spec) {
      if (!map.getLayer(spec.id)) map.addLayer(spec);
      map.setLayoutProperty(spec.id, "visibility", layer.visible ? "visible" : "none");
    });
  }

  function restack() {
    /* opened[0] is drawn on top: move each layer's style layers up from the bottom one */
    opened.slice().reverse().forEach(function (layer) {
      styleIds(layer).forEach(function (id) { if (map.getLayer(id)) map.moveLayer(id); });
    });
  }

  function setOpacity(layer, value) {
    layer.opacity = value;
    mapLayers(layer).forEach(function (spec) {
      Object.keys(spec.paint).forEach(function (prop) {
        if (/opacity$/.test(prop)) map.setPaintProperty(spec.id, prop, spec.paint[prop]);
      });
    });
  }

  /* "?v=<version>" of a tile link the server handed out: versioned tile URLs are immutable,
     so browsers and CDNs keep them (a new version or a rollback gives new links) */
  function versionOf(href) {
    var found = /[?&]v=([0-9a-f]+)/.exec(href || "");
    return found ? "?v=" + found[1] : "";
  }

  function describe(id) {
    return getJSON("/collections/" + encodeURIComponent(id), {f: "json"}).then(function (c) {
      var coverage = c.links.some(function (l) { return /\/coverage$/.test(l.rel); });
      var bbox = c.extent && c.extent.spatial && c.extent.spatial.bbox[0];
      var layer = {id: id, kind: coverage ? "coverage" : "vector", title: c.title || id,
                   extent: bbox ? bbox.slice(0, 4) : [23.1, 51.2, 32.8, 56.2], opacity: 1,
                   visible: true, fields: {}, legend: null, dimension: null, version: "",
                   color: PALETTE[opened.length % PALETTE.length]};
      if (coverage) {
        return getJSON("/collections/" + id + "/map/tiles/WebMercatorQuad",
                       {f: "tilejson"}).then(function (tj) {
          layer.legend = tj.legend || null;
          layer.version = versionOf(tj.tiles && tj.tiles[0]);
          return layer;
        });
      }
      return Promise.all([
        getJSON("/collections/" + id + "/tiles/WebMercatorQuad", {f: "json"}),
        getJSON("/collections/" + id + "/queryables", {f: "json"}).catch(function () {
          return {properties: {}};
        })
      ]).then(function (both) {
        var meta = both[0].layers && both[0].layers[0];
        layer.version = versionOf((both[0].links || []).filter(function (l) {
          return l.rel === "item"; }).map(function (l) { return l.href; })[0]);
        layer.dimension = meta ? meta.geometryDimension : null;
        Object.keys(both[1].properties || {}).forEach(function (name) {
          layer.fields[name] = both[1].properties[name].title || name;
        });
        return layer;
      });
    });
  }

  function openLayer(id, zoom) {
    var found = opened.filter(function (l) { return l.id === id; })[0];
    if (found) {
      if (zoom) fit(found);
      return Promise.resolve(found);
    }
    return waiting(describe(id), "map", "map-loading").then(function (layer) {
      opened.unshift(layer);
      var add = function () { addToMap(layer); restack(); if (zoom) fit(layer); };
      /* not isStyleLoaded(): it is false again while tiles load, after "load" has fired */
      if (mapReady) add(); else map.once("load", add);
      renderLayerList();
      writeHash();
      return layer;
    });
  }

  function removeLayer(layer) {
    styleIds(layer).forEach(function (id) { if (map.getLayer(id)) map.removeLayer(id); });
    if (map.getSource("layer-" + layer.id)) map.removeSource("layer-" + layer.id);
    opened = opened.filter(function (l) { return l !== layer; });
    renderLayerList();
    writeHash();
  }

  function fit(layer) {
    var e = layer.extent;
    map.fitBounds([[e[0], e[1]], [e[2], e[3]]], {padding: 30, maxZoom: 14, duration: 0});
  }

  function move(layer, step) {
    var i = opened.indexOf(layer), j = i + step;
    if (j < 0 || j >= opened.length) return;
    opened.splice(i, 1);
    opened.splice(j, 0, layer);
    restack();
    renderLayerList();
    writeHash();
  }

  function legend(layer) {
    if (layer.legend) {
      return el("div", {"class": "legend", "aria-label": t("map.legend")},
        layer.legend.map(function (step) {
          return el("span", {"class": "legend-step"}, [
            el("i", {style: "background:" + step.color}), el("span", {text: String(step.value)})
          ]);
        }));
    }
    var shape = {0: "point", 1: "line", 2: "polygon"}[layer.dimension] || "polygon";
    return el("div", {"class": "legend"}, [el("i", {"class": "swatch " + shape,
                                                     style: "--c:" + layer.color})]);
  }

  function downloads(layer) {
    var inView = el("input", {type: "checkbox", id: "inview-" + layer.id});
    inView.checked = !!layer.inView;  // kept across re-renders (language, order)
    inView.addEventListener("change", function () { layer.inView = inView.checked; });
    var links = layer.kind === "coverage" ?
      [el("a", {href: BASE + "/collections/" + layer.id + "/download?f=tif", text: "GeoTIFF (COG)",
                download: ""})] :
      DOWNLOADS.map(function (d) {
        var a = el("a", {text: d[1], download: "", href: "#"});
        a.addEventListener("click", function () {
          var params = {f: d[0]};
          if (inView.checked) params.bbox = map.getBounds().toArray().flat()
            .map(function (v) { return v.toFixed(5); }).join(",");
          a.href = api("/collections/" + layer.id + "/download", params);
        });
        a.href = api("/collections/" + layer.id + "/download", {f: d[0]});
        return a;
      });
    var parts = [el("span", {text: t("map.download") + ": "})].concat(links);
    if (layer.kind !== "coverage") {
      parts.push(el("label", {"class": "inview"}, [inView,
        el("span", {text: " " + t("map.in_view")})]));
    }
    return el("div", {"class": "downloads"}, parts);
  }

  /* other modules (tools.js, identify.js, viewer.js, phone.js) follow the page by events on
     document: portal:map (detail: the map), portal:layers (the opened list changed),
     portal:opened (a user opened a layer: detail {id}), portal:ready */
  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent("portal:" + name, {detail: detail}));
  }

  function renderLayerList() {
    var list = document.getElementById("layer-list");
    list.textContent = "";
    document.getElementById("no-layers").hidden = opened.length > 0;
    opened.forEach(function (layer) {
      var visible = el("input", {type: "checkbox", "aria-label": t("map.visible")});
      visible.checked = layer.visible;
      visible.addEventListener("change", function () {
        layer.visible = visible.checked;
        styleIds(layer).forEach(function (id) {
          if (map.getLayer(id)) map.setLayoutProperty(id, "visibility",
                                                      layer.visible ? "visible" : "none");
        });
      });
      var opacity = el("input", {type: "range", min: "0", max: "1", step: "0.05",
                                 value: String(layer.opacity), "aria-label": t("map.opacity")});
      opacity.addEventListener("input", function () { setOpacity(layer, +opacity.value); });
      list.appendChild(el("li", {"class": "layer", "data-id": layer.id}, [
        el("div", {"class": "layer-head"}, [
          el("label", {}, [visible, el("span", {"class": "layer-title", text: " " + layer.title})]),
          el("span", {"class": "layer-buttons"}, [
            el("button", {type: "button", title: t("map.up"), "aria-label": t("map.up"),
                          text: "\u2191", onclick: function () { move(layer, -1); }}),
            el("button", {type: "button", title: t("map.down"), "aria-label": t("map.down"),
                          text: "\u2193", onclick: function () { move(layer, 1); }}),
            el("button", {type: "button", "class": "zoom", text: t("map.zoom"),
                          onclick: function () { fit(layer); }}),
            el("button", {type: "button", title: t("map.remove"), "aria-label": t("map.remove"),
                          text: "\u00d7", onclick: function () { removeLayer(layer); }})
          ])
        ]),
        el("label", {"class": "opacity"}, [el("span", {text: t("map.opacity") + " "}), opacity]),
        legend(layer),
        downloads(layer)
      ]));
    });
    emit("layers", opened);
  }

  /* ---------------------------------------------------------------- city names */

  /* Place names as HTML labels over the map (MapLibre draws text only from glyph files a font
     server provides, and the portal works offline): the cities layer's names, the larger
     towns first as the map zooms out. */
  var cityLabels = [];

  function cityName(p) {
    if (window.I18N.lang === "ru") return p.name_ru || p.name_be;
    if (window.I18N.lang === "be") return p.name_be || p.name_ru;
    var slug = String(p.city_id || "").replace(/^c-/, "");  // romanized in the layer's id
    return slug ? slug.split("-").map(function (w) {
      return w.charAt(0).toUpperCase() + w.slice(1);
    }).join("-") : p.name_be;
  }

  function showCityLabels() {
    var z = map.getZoom();
    var least = z < 6.5 ? 150000 : z < 8 ? 30000 : 0;
    cityLabels.forEach(function (c) {
      c.el.hidden = (c.pop || 0) < least;
    });
  }

  function loadCityLabels() {
    return getJSON("/collections/cities/items", {f: "json", limit: 1000}).then(function (fc) {
      cityLabels.forEach(function (c) { c.marker.remove(); });
      cityLabels = fc.features.filter(function (f) { return f.geometry; }).map(function (f) {
        var p = f.properties;
        var label = el("span", {"class": "city-label", text: cityName(p),
                                "data-city": p.city_id || ""});
        var marker = new maplibregl.Marker({element: label, anchor: "left", offset: [5, 0]})
          .setLngLat(f.geometry.coordinates).addTo(map);
        return {el: label, marker: marker, pop: p.pop_latest || p.pop2019};
      });
      showCityLabels();
    }).catch(function () { /* no cities layer published: no names */ });
  }

  /* ---------------------------------------------------------------- identify */
  // -- issue 19: feature info (helper J) --

  /* What is under a click: identify.js (window.PortalIdentify) lists the hits and shows the
     chosen one's details in #identify; the map's click comes here. */
  function identify(e) {
    if (window.PortalIdentify) window.PortalIdentify.click(e);
  }

  // -- end of helper J --

  /* ---------------------------------------------------------------- start */

  function relabel() {
    document.querySelectorAll("#notices .notice").forEach(function (p) {
      var values = {};
      try { values = JSON.parse(p.getAttribute("data-values") || "{}"); } catch (e) { values = {}; }
      p.querySelector(".notice-text").textContent = t(p.getAttribute("data-key"), values);
      p.querySelector(".notice-close").setAttribute("aria-label", t("notice.close"));
    });
    fillThemes();
    if (mapReady) loadCityLabels();
    setRegionLabel();
    loadRegionMap();
    search();
    /* layer titles and legends in the new language */
    opened.forEach(function (layer) {
      describe(layer.id).then(function (fresh) {  // the layer object itself: order may change
        layer.title = fresh.title;
        layer.fields = fresh.fields;
        layer.legend = fresh.legend;
        renderLayerList();
      }).catch(function () { /* removed meanwhile */ });
    });
    writeHash();
  }

  function start() {
    /* The map first: its WebGL set-up (long in software rendering) and the basemap's style and
       tiles are the first frame's chain; the panel's work waits for that frame (below). The
       style's URL has no language (the style has no text): index.html's head preloads it. */
    if (window.maplibregl) {
      /* its web worker (which reads the tiles) starts now, while the Map's WebGL set-up
         below waits for the GPU process, rather than at the end of that set-up */
      if (maplibregl.prewarm) maplibregl.prewarm();
      map = new maplibregl.Map({
        container: "map", style: ABSOLUTE + "/portal/style.json",
        transformRequest: function (url) {  // the style's tile paths, on this page's origin
          return {url: url.charAt(0) === "/" ? location.origin + url : url};
        },
        center: state.center || [27.95, 53.7], zoom: state.zoom != null ? state.zoom : 5.6,
        attributionControl: {compact: true}, hash: false
      });
      map.addControl(new maplibregl.NavigationControl({showCompass: false}), "top-right");
      map.addControl(new maplibregl.ScaleControl({unit: "metric"}), "bottom-left");
      map.once("load", function () { mapReady = true; loadCityLabels(); });
      map.on("zoomend", showCityLabels);
      map.on("moveend", writeHash);
      map.on("click", identify);
      map.on("mousemove", function (e) {
        var ids = [];
        opened.forEach(function (l) {
          if (l.visible && l.kind !== "coverage") styleIds(l).forEach(function (id) {
            if (map.getLayer(id)) ids.push(id);
          });
        });
        map.getCanvas().style.cursor =
          ids.length && map.queryRenderedFeatures(e.point, {layers: ids}).length ? "pointer" : "";
      });
      window.portalMap = map;
      emit("map", map);
    }
    document.getElementById("q").value = state.q;
    document.getElementById("search").addEventListener("submit", function (e) {
      e.preventDefault();
      state.q = document.getElementById("q").value.trim();
      writeHash();
      search();
    });
    document.getElementById("theme").addEventListener("change", function (e) {
      state.theme = e.target.value;
      writeHash();
      search();
    });
    document.getElementById("region-clear").addEventListener("click", function () {
      setRegion("");
    });
    document.addEventListener("portal:lang", relabel);
    /* "Skip to the map": focus goes to the map's canvas (keyboard pan and zoom) */
    var skip = document.getElementById("skip-map");
    if (skip) skip.addEventListener("click", function (e) {
      e.preventDefault();
      (map ? map.getCanvas() : document.getElementById("map")).focus();
    });

    hashNotices.forEach(function (n) { notify(n[0], n[1]); });
    /* The registry is asked for at once; the panel is filled (themes, region map, search
       results and their thumbnails, layers from the link) once the map has drawn its first
       complete frame ("load"), or after 3 s without one: on one CPU-bound page (the software
       WebGL of a laptop without a GPU) that work would otherwise delay the map by a third. */
    var registryAsked = getJSON("/portal/registry.json");
    registryAsked.catch(function () { /* handled below, after the wait: not "uncaught" */ });
    var mapDrawn = new Promise(function (resolve) {
      if (!map) { resolve(); return; }
      var timer = setTimeout(resolve, 3000);
      map.once("load", function () { clearTimeout(timer); resolve(); });
    });
    waiting(mapDrawn.then(function () { return registryAsked; }), "panel", "search-loading"
    ).then(function (body) {
      body.regions.forEach(function (r) { registry.regions[r.code] = r; });
      body.themes.forEach(function (th) { registry.themes[th.id] = th; });
      /* the embeddable map (/embed) has no panel: no region map, no catalog search */
      if (document.body.classList.contains("embed")) return null;
      fillThemes();
      loadRegionMap();
      outlineRegion(false);
      return search();
    }).then(function () {
      if (!map) return;
      /* layers from the URL, in their order (the first on top) */
      return state.layers.slice().reverse().reduce(function (chain, id) {
        return chain.then(function () {
          return openLayer(id, false).catch(function (err) {
            /* a linked layer that was withdrawn: said by name, the others still open */
            if (err && err.status === 404) notify("notice.layer_gone", {id: id});
            else notify("notice.layer_failed", {id: id, msg: err && err.message});
          });
        });
      }, Promise.resolve());
    }).catch(function (err) {
      notify("notice.failed", {msg: err && err.message});  // the map still shows
    }).then(function () {
      /* the link now says what is shown: an adjusted view, without a layer that is gone */
      if (map && (hashNotices.length || opened.length !== state.layers.length)) writeHash();
      document.body.setAttribute("data-ready", "true");
      emit("ready", null);
    });
  }

  window.portal = {
    opened: function () { return opened.map(function (l) { return l.id; }); },
    layers: function () { return opened.slice(); },  // the opened layers' objects, top first
    map: function () { return map; },
    registry: function () { return registry; },
    styleIds: styleIds,
    removeLayer: removeLayer,
    openLayer: openLayer,
    api: api, el: el, notify: notify, waiting: waiting,
    /* a parameter of another module in the link (value "" or null removes it) */
    setHash: function (key, value) { hashExtras[key] = value; writeHash(); },
    hashParam: function (key) { return hashExtras[key] == null ? null : hashExtras[key]; },
    getJSON: getJSON,  // the guarded API reader (tests call it against the real server)
    searches: function () { return searchSeq; }
  };
  document.addEventListener("DOMContentLoaded", start);
})();
