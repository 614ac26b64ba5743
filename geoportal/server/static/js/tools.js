/* The viewer's tools (issue 19): the coordinates under the pointer in a chosen CRS (WGS 84,
   Pulkovo 1942 Gauss-Kruger zones, UTM) with "go to coordinates"; geodesic measuring of
   distance and area; the view exported as a PNG (title, legend, scale, attribution) and
   printed (tools.css's @media print). proj4 and geographiclib-geodesic come from static/vendor
   and are loaded on first use only: the home page's first frame never waits for them. */
(function () {
  "use strict";
  var t = function (key, values) { return window.I18N.t(key, values); };
  var map = null;
  var ui = {};  // the tools' elements
  var LOCALES = {be: "be-BY", ru: "ru-RU", en: "en-GB"};
  /* Belarus and its neighbourhood: "go to" refuses anything farther */
  var NEAR = {west: 19, east: 36, south: 49.5, north: 58};

  /* ---------------------------------------------------------------- lazy libraries */

  var loading = {};

  /* The script whose URL the page gives in body[data-vendor-<name>], once; resolves to the
     global it defines (proj4, geodesic). */
  function library(name, global) {
    if (window[global]) return Promise.resolve(window[global]);
    if (!loading[name]) {
      loading[name] = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = document.body.getAttribute("data-vendor-" + name);
        s.onload = function () { resolve(window[global]); };
        s.onerror = function () {
          delete loading[name];
          reject(new Error(t("tools.lib_failed")));
        };
        document.head.appendChild(s);
      });
    }
    return loading[name];
  }

  /* ---------------------------------------------------------------- coordinate systems */

  var TOWGS84_PULKOVO = "+towgs84=23.92,-141.27,-80.9,0,0.35,0.82,-0.12";
  /* the select's choices: id -> {kind: deg|dms|gk|utm, zone (fixed) or null (auto)} */
  var SYSTEMS = [
    ["wgs84", "deg", null], ["dms", "dms", null],
    ["gk", "gk", null], ["gk4", "gk", 4], ["gk5", "gk", 5], ["gk6", "gk", 6], ["gk7", "gk", 7],
    ["utm", "utm", null], ["utm34", "utm", 34], ["utm35", "utm", 35], ["utm36", "utm", 36]
  ];
  var crs = "wgs84";

  function system(id) {
    var found = SYSTEMS.filter(function (s) { return s[0] === id; })[0] || SYSTEMS[0];
    return {id: found[0], kind: found[1], zone: found[2]};
  }

  function projected(id) { var k = system(id).kind; return k === "gk" || k === "utm"; }

  /* EPSG:284NN: Pulkovo 1942 / Gauss-Kruger zone N (Krassowsky 1940; easting with the zone
     number in front, e.g. 5 500 000 on zone 5's meridian 27 deg E). */
  function gkDef(zone) {
    return "+proj=tmerc +lat_0=0 +lon_0=" + (zone * 6 - 3) + " +k=1 +x_0=" +
      (zone * 1000000 + 500000) + " +y_0=0 +ellps=krass " + TOWGS84_PULKOVO + " +units=m +no_defs";
  }

  /* EPSG:326NN: WGS 84 / UTM zone NN north */
  function utmDef(zone) { return "+proj=utm +zone=" + zone + " +datum=WGS84 +units=m +no_defs"; }

  function gkZone(lon) { return Math.floor(lon / 6) + 1; }
  function utmZone(lon) { return Math.floor((lon + 180) / 6) + 1; }

  /* [lon, lat] in the chosen projected system: {zone, east, north} */
  function project(sys, lon, lat) {
    var zone = sys.zone || (sys.kind === "gk" ? gkZone(lon) : utmZone(lon));
    var def = sys.kind === "gk" ? gkDef(zone) : utmDef(zone);
    var xy = window.proj4("EPSG:4326", def, [lon, lat]);
    return {zone: zone, east: xy[0], north: xy[1]};
  }

  function unproject(sys, zone, east, north) {
    var def = sys.kind === "gk" ? gkDef(zone) : utmDef(zone);
    return window.proj4(def, "EPSG:4326", [east, north]);
  }

  function dms(value, positive, negative) {
    var v = Math.abs(value);
    var d = Math.floor(v), mf = (v - d) * 60, m = Math.floor(mf), s = (mf - m) * 60;
    if (s >= 59.95) { s = 0; m += 1; }
    if (m >= 60) { m = 0; d += 1; }
    return d + "\u00b0" + (m < 10 ? "0" : "") + m + "\u2032" + (s < 9.95 ? "0" : "") +
      s.toFixed(1) + "\u2033 " + (value < 0 ? negative : positive);
  }

  /* A point as text in the chosen system; null while proj4 is not there yet. */
  function format(lon, lat) {
    var sys = system(crs);
    if (sys.kind === "deg") {
      return lat.toFixed(5) + "\u00b0 " + (lat < 0 ? "S" : "N") + ", " +
        lon.toFixed(5) + "\u00b0 " + (lon < 0 ? "W" : "E");
    }
    if (sys.kind === "dms") return dms(lat, "N", "S") + ", " + dms(lon, "E", "W");
    if (!window.proj4) return null;
    var p = project(sys, lon, lat), m = t("tools.m");
    if (sys.kind === "gk") {  // as surveyors write Gauss-Kruger: X northing, Y easting
      return "X " + p.north.toFixed(0) + " " + m + ", Y " + p.east.toFixed(0) + " " + m +
        " (" + t("tools.zone", {n: p.zone}) + ")";
    }
    return p.zone + "N E " + p.east.toFixed(0) + " " + m + ", N " + p.north.toFixed(0) + " " + m;
  }

  /* ---------------------------------------------------------------- readout */

  var last = null;  // [lon, lat] shown
  var touch = false;

  function show(lngLat) {
    last = [lngLat.lng, lngLat.lat];
    var text = format(last[0], last[1]);
    ui.value.textContent = text === null ? t("loading") : text;
  }

  function showCentre() { show(map.getCenter()); }

  function chooseCrs(id, fromLink) {
    crs = system(id).id;
    ui.crs.value = crs;
    if (!fromLink) window.portal.setHash("crs", crs === "wgs84" ? "" : crs);
    if (projected(crs)) {
      library("proj4", "proj4").then(function () {
        if (last) show({lng: last[0], lat: last[1]});
      }).catch(function (err) { ui.value.textContent = err.message; });
    }
    if (last) show({lng: last[0], lat: last[1]});
    ui.goto.setAttribute("placeholder", t(projected(crs) ? "tools.goto_hint_m" : "tools.goto_hint"));
  }

  function copyReadout() {
    var text = ui.value.textContent;
    var done = function () {
      ui.copied.textContent = t("tools.copied");
      setTimeout(function () { ui.copied.textContent = ""; }, 2000);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () {
        ui.copied.textContent = t("tools.copy_failed");
      });
    } else {
      ui.copied.textContent = t("tools.copy_failed");
    }
  }

  /* ---------------------------------------------------------------- go to coordinates */

  var NUMBER = "[-+]?\\d+(?:[.,]\\d+)?";
  var HEMI = "[NSEWnsewСЮВЗсювз]";
  var DMS_BODY = "(" + NUMBER + ")\\s*[°º]\\s*(?:(" + NUMBER + ")\\s*['′’]\\s*)?(?:(" + NUMBER +
    ")\\s*(?:[\"″”]|''|′′)\\s*)?";
  /* the hemisphere after each value ("53°54′ N") or, if the text starts with one, before it */
  var DMS_AFTER = new RegExp("()" + DMS_BODY + "\\.?\\s*(" + HEMI + ")?", "g");
  var DMS_BEFORE = new RegExp("(" + HEMI + ")\\.?\\s*" + DMS_BODY + "()", "g");

  function num(text) { return Number(String(text).replace(",", ".")); }

  /* "53°54′N 27°34′E" (or С/В, or without letters: latitude first) -> {lat, lon}, else null */
  function parseDms(text) {
    if (text.indexOf("\u00b0") < 0 && text.indexOf("\u00ba") < 0) return null;
    var parts = [], m;
    var re = new RegExp("^\\s*" + HEMI).test(text) ? DMS_BEFORE : DMS_AFTER;
    re.lastIndex = 0;
    while ((m = re.exec(text)) !== null) {
      var value = num(m[2]) + (m[3] ? num(m[3]) / 60 : 0) + (m[4] ? num(m[4]) / 3600 : 0);
      var hemi = (m[5] || m[1] || "").toUpperCase();
      if (m[3] && num(m[3]) >= 60 || m[4] && num(m[4]) >= 60) return {error: "tools.goto_bad"};
      if ("SЮW".indexOf(hemi) >= 0 && hemi) value = -value;
      parts.push({value: value, axis: "NSСЮ".indexOf(hemi) >= 0 && hemi ? "lat" :
                                      "EWВЗ".indexOf(hemi) >= 0 && hemi ? "lon" : ""});
    }
    if (parts.length !== 2) return {error: "tools.goto_bad"};
    if (parts[0].axis === "lon" || parts[1].axis === "lat") parts.reverse();
    return {lat: parts[0].value, lon: parts[1].value};
  }

  /* two numbers: "53.9, 27.56", "53,9 27,56", "5975055 5536936" (and UTM's "35N 536795
     5972541") */
  function numbers(text) {
    var s = text.trim();
    var zone = null, z = /^(\d{1,2})\s*[NnСс]?\s+(?=\d)/.exec(s);
    var decimalCommas = /^[-+]?\d+,\d+\s*[;\s]\s*[-+]?\d+,\d+$/.test(s);
    if (decimalCommas) s = s.replace(/,/g, ".");
    var tokens = s.split(/[\s,;]+/).filter(Boolean);
    if (z && tokens.length === 3 && !decimalCommas) { zone = Number(z[1]); tokens.shift(); }
    if (tokens.length !== 2) return null;
    var values = tokens.map(Number);
    if (values.some(function (v) { return !isFinite(v); })) return null;
    return {a: values[0], b: values[1], zone: zone};
  }

  function near(lon, lat) {
    return lon >= NEAR.west && lon <= NEAR.east && lat >= NEAR.south && lat <= NEAR.north;
  }

  /* The text as [lon, lat], or {error: i18n key}; a promise (proj4 may have to load). */
  function parseTarget(text) {
    var d = parseDms(text);
    if (d) return Promise.resolve(d.error ? d : [d.lon, d.lat]);
    var n = numbers(text);
    if (!n) return Promise.resolve({error: "tools.goto_bad"});
    if (Math.abs(n.a) <= 180 && Math.abs(n.b) <= 180) {  // degrees, latitude first
      var lat = n.a, lon = n.b;
      if (!near(lon, lat) && near(lat, lon)) { lat = n.b; lon = n.a; }  // "27.56, 53.9"
      return Promise.resolve([lon, lat]);
    }
    var sys = system(crs);
    if (!projected(crs)) return Promise.resolve({error: "tools.goto_need_crs"});
    return library("proj4", "proj4").then(function () {
      var east, north, zone;
      if (sys.kind === "gk") {  // X (northing) first, then Y (easting) with the zone in front
        north = n.a; east = n.b;
        zone = sys.zone || Math.floor(east / 1000000);
        if (zone < 1 || zone > 60) return {error: "tools.goto_far"};
        if (Math.floor(east / 1000000) !== zone) return {error: "tools.goto_zone"};
      } else {  // E, then N
        east = n.a; north = n.b;
        zone = n.zone || sys.zone || utmZone(map.getCenter().lng);
      }
      var ll = unproject(sys, zone, east, north);
      return isFinite(ll[0]) && isFinite(ll[1]) ? ll : {error: "tools.goto_bad"};
    });
  }

  var marker = null;

  function say(key, values, bad) {
    ui.gotoMsg.textContent = key ? t(key, values) : "";
    ui.gotoMsg.setAttribute("data-key", key || "");
    ui.gotoMsg.className = "tools-msg" + (bad ? " bad" : "");
    ui.goto.setAttribute("aria-invalid", bad ? "true" : "false");
  }

  function goTo(e) {
    e.preventDefault();
    var text = ui.goto.value.trim();
    if (!text) { say("tools.goto_empty", {}, true); return; }
    parseTarget(text).then(function (target) {
      if (target.error) { say(target.error, {}, true); return; }
      if (!near(target[0], target[1])) { say("tools.goto_far", {}, true); return; }
      map.jumpTo({center: target, zoom: Math.max(map.getZoom(), 13)});
      if (marker) marker.remove();
      marker = new window.maplibregl.Marker({color: "#a61b1b", className: "tools-goto-marker"}).setLngLat(target).addTo(map);
      say("tools.goto_done", {at: format(target[0], target[1]) ||
                                  target[1].toFixed(5) + ", " + target[0].toFixed(5)}, false);
    }).catch(function (err) { ui.gotoMsg.textContent = err.message; });
  }

  /* ---------------------------------------------------------------- measure */

  var measure = {mode: null, points: [], hover: null, done: false};
  var SOURCE = "tools-measure";
  var LAYERS = ["tools-measure-fill", "tools-measure-line", "tools-measure-points"];

  function ensureLayers() {
    if (!map.getSource(SOURCE)) {
      map.addSource(SOURCE, {type: "geojson", data: {type: "FeatureCollection", features: []}});
    }
    if (!map.getLayer(LAYERS[0])) {
      map.addLayer({id: LAYERS[0], type: "fill", source: SOURCE,
                    filter: ["==", ["geometry-type"], "Polygon"],
                    paint: {"fill-color": "#f2a900", "fill-opacity": 0.25}});
      map.addLayer({id: LAYERS[1], type: "line", source: SOURCE,
                    filter: ["!=", ["geometry-type"], "Point"],
                    paint: {"line-color": "#a61b1b", "line-width": 2.5,
                            "line-dasharray": [3, 1.5]}});
      map.addLayer({id: LAYERS[2], type: "circle", source: SOURCE,
                    filter: ["==", ["geometry-type"], "Point"],
                    paint: {"circle-radius": 4.5, "circle-color": "#ffffff",
                            "circle-stroke-color": "#a61b1b", "circle-stroke-width": 2}});
    }
  }

  function onTop() {
    LAYERS.forEach(function (id) { if (map.getLayer(id)) map.moveLayer(id); });
  }

  function drawn() {
    var pts = measure.points.slice();
    if (measure.hover && !measure.done) pts.push(measure.hover);
    var features = measure.points.map(function (p) {
      return {type: "Feature", properties: {}, geometry: {type: "Point", coordinates: p}};
    });
    if (measure.mode === "area" && pts.length >= 3) {
      features.push({type: "Feature", properties: {},
                     geometry: {type: "Polygon", coordinates: [pts.concat([pts[0]])]}});
    } else if (pts.length >= 2) {
      features.push({type: "Feature", properties: {},
                     geometry: {type: "LineString", coordinates: pts}});
    }
    return {points: pts, data: {type: "FeatureCollection", features: features}};
  }

  function number(value, digits) {
    return new Intl.NumberFormat(LOCALES[window.I18N.lang] || "en-GB",
                                 {maximumFractionDigits: digits}).format(value);
  }

  function length(m) {
    return m < 1000 ? number(m, 1) + " " + t("tools.m") : number(m / 1000, 3) + " " + t("tools.km");
  }

  function area(m2) {
    if (m2 < 10000) return number(m2, 0) + " " + t("tools.m2");
    if (m2 < 1000000) return number(m2 / 10000, 2) + " " + t("tools.ha") + " (" +
      number(m2, 0) + " " + t("tools.m2") + ")";
    return number(m2 / 1000000, 3) + " " + t("tools.km2") + " (" + number(m2 / 10000, 1) + " " +
      t("tools.ha") + ")";
  }

  /* the geodesic length or area (WGS 84, geographiclib) of what is drawn, as text */
  function result(points) {
    var geo = window.geodesic;
    if (!geo) return t("loading");
    if (measure.mode === "distance" && points.length < 2) return t("tools.measure_hint_line");
    if (measure.mode === "area" && points.length < 3) return t("tools.measure_hint_area");
    var poly = geo.Geodesic.WGS84.Polygon(measure.mode === "distance");
    points.forEach(function (p) { poly.AddPoint(p[1], p[0]); });
    var r = poly.Compute(false, true);
    ui.result.setAttribute("data-metres", String(measure.mode === "distance" ? r.perimeter :
                                                 Math.abs(r.area)));
    if (measure.mode === "distance") return t("tools.distance_is", {v: length(r.perimeter)});
    return t("tools.area_is", {v: area(Math.abs(r.area)), p: length(r.perimeter)});
  }

  function redraw() {
    if (!measure.mode) return;
    var d = drawn();
    ensureLayers();
    map.getSource(SOURCE).setData(d.data);
    ui.result.textContent = result(d.points);
  }

  function setBusy(on) {
    if (on) window.portal.busyTool = "measure";
    else if (window.portal.busyTool === "measure") delete window.portal.busyTool;
    map.getContainer().classList.toggle("tools-measuring", on);
    if (on) map.doubleClickZoom.disable(); else map.doubleClickZoom.enable();
  }

  function startMeasure(mode) {
    closeGoto();
    if (measure.mode === mode && !measure.done) { cancelMeasure(); return; }
    measure = {mode: mode, points: [], hover: null, done: false};
    setBusy(true);
    pressed();
    ui.measure.hidden = false;
    ui.finish.hidden = false;
    ui.result.removeAttribute("data-metres");
    ensureLayers();
    onTop();
    redraw();
    library("geodesic", "geodesic").then(redraw).catch(function (err) {
      ui.result.textContent = err.message;
    });
  }

  function finishMeasure() {
    if (!measure.mode || measure.done) return;
    measure.done = true;
    measure.hover = null;
    setBusy(false);
    ui.finish.hidden = true;
    pressed();
    redraw();
  }

  function cancelMeasure() {
    measure = {mode: null, points: [], hover: null, done: false};
    setBusy(false);
    if (map.getSource(SOURCE)) map.getSource(SOURCE).setData({type: "FeatureCollection", features: []});
    ui.measure.hidden = true;
    ui.result.textContent = "";
    ui.result.removeAttribute("data-metres");
    pressed();
  }

  function measureClick(e) {
    if (!measure.mode || measure.done) return;
    var p = [e.lngLat.lng, e.lngLat.lat];
    var prev = measure.points[measure.points.length - 1];
    if (prev) {  // the second click of a double-click: the same point
      var a = map.project(prev), b = e.point;
      if (Math.abs(a.x - b.x) < 5 && Math.abs(a.y - b.y) < 5) return;
    }
    measure.points.push(p);
    redraw();
  }

  /* ---------------------------------------------------------------- export and print */

  var METRES_PER_PX = 40075016.686 / 512;  // at zoom 0 on the equator (512 px tiles)

  /* a round scale bar length (1, 2, 5 x 10^n m) no wider than maxPx CSS pixels */
  function scaleBar(maxPx) {
    var perPx = METRES_PER_PX * Math.cos(map.getCenter().lat * Math.PI / 180) /
      Math.pow(2, map.getZoom());
    var max = perPx * maxPx, pow = Math.pow(10, Math.floor(Math.log(max) / Math.LN10));
    var nice = [5, 2, 1].map(function (f) { return f * pow; }).filter(function (v) {
      return v <= max; })[0] || pow;
    return {metres: nice, px: nice / perPx,
            label: nice >= 1000 ? number(nice / 1000, 0) + " " + t("tools.km") :
                                  number(nice, 0) + " " + t("tools.m")};
  }

  function attributions() {
    var base = map.getContainer().querySelector(".maplibregl-ctrl-attrib-inner");
    var texts = base && base.textContent.trim() ? [base.textContent.trim()] : [];
    return Promise.all(window.portal.layers().map(function (layer) {
      return window.portal.getJSON("/portal/cards/" + encodeURIComponent(layer.id) + ".json")
        .then(function (card) { return window.I18N.pick(card.attribution, ""); })
        .catch(function () { return ""; });
    })).then(function (more) {
      more.forEach(function (a) { if (a && texts.indexOf(a) < 0) texts.push(a); });
      return texts;
    });
  }

  function wrap(ctx, text, width) {
    var lines = [], line = "";
    text.split(/\s+/).forEach(function (word) {
      var next = line ? line + " " + word : word;
      if (line && ctx.measureText(next).width > width) { lines.push(line); line = word; }
      else line = next;
    });
    if (line) lines.push(line);
    return lines;
  }

  function today() { return new Date().toISOString().slice(0, 10); }

  /* The map's canvas right after a render (the drawing buffer is still there), then title,
     legend, scale and attribution around it on a 2D canvas. */
  function compose(image, texts) {
    var k = image.width / (map.getCanvas().clientWidth || image.width);  // device pixels
    var pad = 12 * k, W = image.width;
    var layers = window.portal.layers().filter(function (l) { return l.visible; });
    var probe = document.createElement("canvas").getContext("2d");
    probe.font = 12 * k + "px system-ui, sans-serif";
    var attrib = wrap(probe, texts.join(" \u00b7 "), W - 2 * pad);
    var head = 44 * k, row = 22 * k;
    var foot = pad + layers.length * row + row + attrib.length * 16 * k + pad;
    var out = document.createElement("canvas");
    out.width = W;
    out.height = Math.round(head + image.height + foot);
    var ctx = out.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.fillStyle = "#1d2329";
    ctx.textBaseline = "middle";
    ctx.font = "bold " + 20 * k + "px system-ui, sans-serif";
    ctx.fillText(t("portal.title"), pad, head / 2);
    ctx.font = 13 * k + "px system-ui, sans-serif";
    ctx.textAlign = "right";
    ctx.fillText(today(), W - pad, head / 2);
    ctx.textAlign = "left";
    ctx.drawImage(image, 0, head);
    ctx.strokeStyle = "#c9d1d9";
    ctx.strokeRect(0.5, head + 0.5, W - 1, image.height - 1);
    var y = head + image.height + pad;
    ctx.font = 13 * k + "px system-ui, sans-serif";
    layers.forEach(function (layer) {
      var x = pad, cy = y + row / 2;
      var steps = layer.legend && layer.legend.length ? layer.legend.slice(0, 8) :
        [{color: layer.color}];
      steps.forEach(function (s) {
        ctx.fillStyle = s.color || layer.color;
        ctx.fillRect(x, cy - 6 * k, 16 * k, 12 * k);
        ctx.strokeStyle = "#888888";
        ctx.strokeRect(x, cy - 6 * k, 16 * k, 12 * k);
        x += 18 * k;
      });
      ctx.fillStyle = "#1d2329";
      ctx.fillText(layer.title, x + 6 * k, cy);
      y += row;
    });
    var bar = scaleBar(150);
    var cy = y + row / 2;
    ctx.fillStyle = "#1d2329";
    ctx.fillRect(pad, cy - 2 * k, bar.px * k, 4 * k);
    ctx.fillRect(pad, cy - 6 * k, 2 * k, 12 * k);
    ctx.fillRect(pad + bar.px * k - 2 * k, cy - 6 * k, 2 * k, 12 * k);
    ctx.fillText(bar.label, pad + bar.px * k + 8 * k, cy);
    y += row;
    ctx.font = 12 * k + "px system-ui, sans-serif";
    ctx.fillStyle = "#4f5b66";
    attrib.forEach(function (line) { ctx.fillText(line, pad, y + 8 * k); y += 16 * k; });
    return out;
  }

  function exportPng() {
    ui.exportBtn.disabled = true;
    attributions().then(function (texts) {
      return new Promise(function (resolve) {
        map.once("render", function () {
          var canvas = map.getCanvas(), copy = document.createElement("canvas");
          copy.width = canvas.width;
          copy.height = canvas.height;
          copy.getContext("2d").drawImage(canvas, 0, 0);
          resolve(compose(copy, texts));
        });
        map.triggerRepaint();
      });
    }).then(function (out) {
      return new Promise(function (resolve) { out.toBlob(resolve, "image/png"); });
    }).then(function (blob) {
      var url = URL.createObjectURL(blob);
      var a = document.createElement("a");
      a.href = url;
      a.download = "geoportal-" + today() + ".png";
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    }).catch(function (err) {
      window.portal.notify("tools.export_failed", {msg: err && err.message});
    }).then(function () { ui.exportBtn.disabled = false; });
  }

  /* A WebGL canvas without preserveDrawingBuffer may print empty: the view as an image
     (a synchronous redraw, then the buffer is read in the same task) replaces it on paper. */
  function beforePrint() {
    ui.printTitle.textContent = t("portal.title") + " \u2014 " + today();
    try {
      map.redraw();
      ui.printImage.src = map.getCanvas().toDataURL("image/png");
      document.body.classList.add("tools-print-image");
    } catch (e) { /* the live canvas prints as it is */ }
  }

  function afterPrint() {
    document.body.classList.remove("tools-print-image");
    ui.printImage.removeAttribute("src");
  }

  /* ---------------------------------------------------------------- the controls */

  var ICONS = {
    goto: "M12 2v4M12 18v4M2 12h4M18 12h4M12 8a4 4 0 1 0 0 8a4 4 0 1 0 0-8",
    distance: "M3 17L17 3M5 19l2-2M9 15l1.5-1.5M13 11l1.5-1.5M17 7l2-2M3 17l4 4M17 3l4 4",
    area: "M4 18L8 5L19 8L16 19Z",
    png: "M4 5h16v14H4ZM4 15l5-5l4 4l3-3l4 4M15 9.5a1 1 0 1 0 0.1 0",
    print: "M7 9V3h10v6M7 17H4v-8h16v8h-3M7 14h10v7H7Z",
    copy: "M9 9h11v11H9ZM5 15H4V4h11v1"
  };

  function icon(name) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function button(name, key, onclick) {
    var b = window.portal.el("button", {type: "button", "class": "tools-btn tools-" + name,
                                        "data-label": key, onclick: onclick}, [icon(name)]);
    return b;
  }

  function pressed() {
    ui.distance.setAttribute("aria-pressed", String(measure.mode === "distance" && !measure.done));
    ui.area.setAttribute("aria-pressed", String(measure.mode === "area" && !measure.done));
    ui.gotoBtn.setAttribute("aria-expanded", String(!ui.gotoForm.hidden));
  }

  function closeGoto() { ui.gotoForm.hidden = true; pressed(); }

  function toggleGoto() {
    ui.gotoForm.hidden = !ui.gotoForm.hidden;
    pressed();
    if (!ui.gotoForm.hidden) ui.goto.focus();
  }

  function labels() {
    [ui.top, ui.readout].forEach(function (root) {
      root.querySelectorAll("[data-label]").forEach(function (b) {
        b.setAttribute("aria-label", t(b.getAttribute("data-label")));
        b.setAttribute("title", t(b.getAttribute("data-label")));
      });
      root.querySelectorAll("[data-i18n]").forEach(function (n) {
        n.textContent = t(n.getAttribute("data-i18n"));
      });
    });
    ui.bar.setAttribute("aria-label", t("tools.title"));
    Array.prototype.forEach.call(ui.crs.options, function (o) {
      o.textContent = t("tools.crs_" + o.value);
    });
    ui.goto.setAttribute("placeholder", t(projected(crs) ? "tools.goto_hint_m" : "tools.goto_hint"));
    var key = ui.gotoMsg.getAttribute("data-key");
    if (key && key !== "tools.goto_done") ui.gotoMsg.textContent = t(key);
    if (last) show({lng: last[0], lat: last[1]});
    if (measure.mode) redraw();
  }

  function build() {
    var el = window.portal.el;
    ui.distance = button("distance", "tools.measure_distance",
                         function () { startMeasure("distance"); });
    ui.area = button("area", "tools.measure_area", function () { startMeasure("area"); });
    ui.gotoBtn = button("goto", "tools.goto", toggleGoto);
    ui.exportBtn = button("png", "tools.export", exportPng);
    ui.printBtn = button("print", "tools.print", function () { window.print(); });
    ui.bar = el("div", {"class": "tools-bar", role: "toolbar"},
                [ui.gotoBtn, ui.distance, ui.area, ui.exportBtn, ui.printBtn]);
    ui.goto = el("input", {id: "tools-goto", type: "text", autocomplete: "off", maxlength: "80",
                           spellcheck: "false", "aria-describedby": "tools-goto-msg"});
    ui.gotoMsg = el("p", {id: "tools-goto-msg", "class": "tools-msg", "aria-live": "polite"});
    ui.gotoForm = el("form", {"class": "tools-panel tools-goto-form", hidden: "",
                              onsubmit: goTo}, [
      el("label", {"for": "tools-goto", "data-i18n": "tools.goto_label"}),
      el("div", {"class": "tools-row"}, [
        ui.goto, el("button", {type: "submit", "class": "tools-go", "data-i18n": "tools.go"})]),
      ui.gotoMsg
    ]);
    ui.result = el("p", {"class": "tools-result", "aria-live": "polite"});
    ui.finish = el("button", {type: "button", "class": "tools-finish", "data-i18n": "tools.finish",
                              onclick: finishMeasure});
    ui.measure = el("div", {"class": "tools-panel tools-measure", hidden: ""}, [
      ui.result,
      el("div", {"class": "tools-row"}, [
        ui.finish,
        el("button", {type: "button", "class": "tools-clear", "data-i18n": "tools.clear",
                      onclick: cancelMeasure})])
    ]);
    var topLeft = ui.top = el("div", {"class": "maplibregl-ctrl tools-ctrl"},
                              [ui.bar, ui.gotoForm, ui.measure]);

    ui.crs = el("select", {id: "tools-crs", "class": "tools-crs"}, SYSTEMS.map(function (s) {
      return el("option", {value: s[0]});
    }));
    ui.crs.addEventListener("change", function () { chooseCrs(ui.crs.value, false); });
    ui.value = el("output", {"class": "tools-value", "for": "tools-crs"});
    ui.copied = el("span", {"class": "tools-copied", role: "status"});
    ui.readout = el("div", {"class": "maplibregl-ctrl tools-readout"}, [
      el("label", {"for": "tools-crs", "class": "sr-only", "data-i18n": "tools.crs"}),
      ui.crs, ui.value,
      el("button", {type: "button", "class": "tools-copy", "data-label": "tools.copy",
                    onclick: copyReadout}, [icon("copy")]),
      ui.copied
    ]);
    ui.crosshair = el("div", {"class": "tools-crosshair", "aria-hidden": "true"});
    map.getContainer().appendChild(ui.crosshair);

    ui.printImage = el("img", {"class": "tools-print-map", alt: ""});
    map.getContainer().appendChild(ui.printImage);
    ui.printTitle = el("h1", {"class": "tools-print-title"});
    var wrapBox = map.getContainer().parentNode;
    wrapBox.insertBefore(el("div", {"class": "tools-print-head"}, [ui.printTitle]),
                         wrapBox.firstChild);

    map.addControl({onAdd: function () { return topLeft; },
                    onRemove: function () { topLeft.remove(); }}, "top-left");
    map.addControl({onAdd: function () { return ui.readout; },
                    onRemove: function () { ui.readout.remove(); }}, "bottom-left");
    labels();
  }

  function setTouch(on) {
    touch = on;
    map.getContainer().classList.toggle("tools-touch", on);
    if (on) showCentre();
  }

  function start(m) {
    map = m;
    build();
    var linked = window.portal.hashParam("crs");
    chooseCrs(linked && system(linked).id === linked ? linked : "wgs84", true);
    if (linked && system(linked).id !== linked) window.portal.setHash("crs", "");
    showCentre();
    setTouch(window.matchMedia && window.matchMedia("(hover: none) and (pointer: coarse)").matches);
    map.on("mousemove", function (e) {
      if (touch) return;
      show(e.lngLat);
      if (measure.mode && !measure.done) {
        measure.hover = [e.lngLat.lng, e.lngLat.lat];
        redraw();
      }
    });
    map.getCanvasContainer().addEventListener("touchstart", function () {
      if (!touch) setTouch(true);
    }, {passive: true});
    map.on("move", function () { if (touch) showCentre(); });
    map.on("click", measureClick);
    map.on("dblclick", function (e) {
      if (measure.mode && !measure.done) { e.preventDefault(); finishMeasure(); }
    });
    document.addEventListener("keydown", function (e) {
      if (e.key !== "Escape") return;
      if (measure.mode && !measure.done) cancelMeasure();
      else if (!ui.gotoForm.hidden) { closeGoto(); ui.gotoBtn.focus(); }
    });
    window.addEventListener("beforeprint", beforePrint);
    window.addEventListener("afterprint", afterPrint);
  }

  document.addEventListener("portal:map", function (e) { start(e.detail); });
  document.addEventListener("portal:lang", function () { if (map) labels(); });
  document.addEventListener("portal:layers", function () {
    if (map && map.getLayer(LAYERS[0])) onTop();
  });
})();
