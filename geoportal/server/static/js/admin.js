/* The upload page: a regional admin's token, a file and the manifest's fields go to the same
   admin API the upload script uses (POST /admin/layers, GET /admin/jobs/{id},
   GET /admin/layers/{id}/versions, POST /admin/layers/{id}/rollback). Nothing here bypasses
   it: the regions offered are the token's, and the server checks them again. The token stays
   in this tab's sessionStorage only. */
(function () {
  "use strict";
  var BASE = window.PORTAL.base;
  var t = window.I18N.t, pick = window.I18N.pick;
  var registry = {regions: [], themes: []};
  var whoami = null;

  function $(id) { return document.getElementById(id); }

  function url(path) {
    var u = new URL(BASE + path, location.href);
    u.searchParams.set("lang", window.I18N.lang);
    return u.toString();
  }

  function call(method, path, body) {
    var headers = {Accept: "application/json", Authorization: "Bearer " + $("token").value.trim()};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url(path), {method: method, headers: headers,
                             body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          if (!r.ok) throw new Error(data.description || r.status + " " + r.statusText);
          return data;
        });
      });
  }

  function fail(where, err) {
    where.className = "error";
    where.textContent = t("admin.failed", {msg: err.message});
  }

  /* regions the token may write to: its own and everything under them (admins: all) */
  function allowed(code) {
    if (!whoami) return false;
    if (whoami.role === "admin") return true;
    var byCode = {};
    registry.regions.forEach(function (r) { byCode[r.code] = r; });
    for (var c = code, seen = 0; c && seen < 10; seen++) {
      if (whoami.regions.indexOf(c) >= 0) return true;
      c = byCode[c] ? byCode[c].parent : null;
    }
    return false;
  }

  function fillSelects() {
    var theme = $("theme"), region = $("region");
    var keepTheme = theme.value, keepRegion = region.value;
    theme.textContent = "";
    registry.themes.forEach(function (th) {
      theme.appendChild(new Option(pick(th.name, th.id), th.id));
    });
    region.textContent = "";
    registry.regions.filter(function (r) { return allowed(r.code); }).forEach(function (r) {
      region.appendChild(new Option(pick(r.name, r.code) + " (" + r.code + ")", r.code));
    });
    if (keepTheme) theme.value = keepTheme;
    if (keepRegion) region.value = keepRegion;
  }

  function checkToken(e) {
    if (e) e.preventDefault();
    var out = $("whoami");
    /* the form's region and theme lists need the registry: the form shows once both are in */
    return Promise.all([call("GET", "/admin/whoami"), registryLoaded]).then(function (both) {
      var me = both[0];
      whoami = me;
      sessionStorage.setItem("geoportal.token", $("token").value.trim());  // only a good one
      out.className = "ok";
      out.textContent = t("admin.whoami", {name: me.name, regions: me.role === "admin" ?
        "*" : me.regions.join(", ")});
      fillSelects();
      $("upload-section").hidden = false;
    }).catch(function (err) {
      whoami = null;
      sessionStorage.removeItem("geoportal.token");
      $("upload-section").hidden = true;
      fail(out, err);
    });
  }

  function manifest() {
    var title = {};
    ["be", "ru", "en"].forEach(function (l) {
      var v = $("title-" + l).value.trim();
      if (v) title[l] = v;
    });
    return {id: $("layer-id").value.trim(), region: $("region").value, theme: $("theme").value,
            title: title};
  }

  function upload(e) {
    e.preventDefault();
    var status = $("status"), bar = $("progress");
    var file = $("file").files[0];
    if (!file) return;
    var form = new FormData();
    form.append("manifest", JSON.stringify(manifest()));
    form.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", url("/admin/layers"));
    xhr.setRequestHeader("Authorization", "Bearer " + $("token").value.trim());
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    bar.value = 0;
    status.className = "";
    status.removeAttribute("data-state");
    shown.job = shown.rollback = null;  // a new upload: the last one's outcome goes
    $("upload-result").hidden = $("rollback-result").hidden = true;
    xhr.upload.onprogress = function (ev) {
      if (ev.lengthComputable) {
        bar.value = Math.round(100 * ev.loaded / ev.total);
        status.textContent = t("admin.uploading", {p: bar.value});
      }
    };
    xhr.onload = function () {
      var data = {};
      try { data = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
      if (xhr.status !== 202) {
        fail(status, new Error(data.description || xhr.status + " " + xhr.statusText));
        return;
      }
      bar.value = 100;
      watch(data.id);
    };
    xhr.onerror = function () { fail(status, new Error(t("admin.network"))); };
    xhr.send(form);
  }

  /* ------------------------------------------------------------- words and numbers */

  /* a count in the page's language (1 234 in be/ru, 1,234 in en); a browser without
     Belarusian number data writes them as Russian does (the same conventions) */
  function num(n) {
    if (typeof n !== "number") return n == null ? "" : String(n);
    var lang = window.I18N.lang;
    try {
      if (!Intl.NumberFormat.supportedLocalesOf([lang]).length) lang = lang === "be" ? "ru" : "en";
      return new Intl.NumberFormat(lang).format(n);
    } catch (err) {
      return String(n);
    }
  }

  function word(prefix, value) {  // a fixed value (state, origin, confidence) in the language
    var key = prefix + value;
    var said = t(key);
    return said === key ? String(value) : said;
  }

  /* the ETL's fixed texts for set-aside reasons and repairs (others stay as the ETL wrote) */
  var FIXED = {
    "no geometry": "admin.why.no_geometry",
    "empty geometry": "admin.why.empty_geometry",
    "coordinates could not be transformed": "admin.why.not_transformed",
    "outside the layer's region (wrong CRS or 0,0 coordinates?)": "admin.why.far_outside",
    "made valid (self-intersections, bad rings)": "admin.fix.made_valid",
    "repeated vertices removed": "admin.fix.repeated",
    "rings oriented counter-clockwise (RFC 7946)": "admin.fix.oriented",
    "Z (height) dropped: the store is 2D": "admin.fix.no_z"
  };

  /* the ETL's reasons with values in them (etl/geometry.py), by their English shape */
  var SHAPED = [
    [/^single parts stored as (\w+)$/, "admin.fix.promoted", ["type"]],
    [/^geometry type (\w+) in a (\w+) layer$/, "admin.why.geometry_type", ["found", "target"]],
    [/^GeometryCollection of (.+) in a (\w+) layer$/, "admin.why.collection", ["parts", "target"]],
    [/^(\w+) of (\d+) parts in a (\w+) layer$/, "admin.why.multipart", ["type", "n", "target"]],
    [/^([\d,]+) vertices, more than the ([\d,]+) a feature may have/, "admin.why.vertices",
     ["count", "cap"]]
  ];

  function fixedText(text) {
    if (FIXED[text]) return t(FIXED[text]);
    for (var i = 0; i < SHAPED.length; i++) {
      var found = SHAPED[i][0].exec(text);
      if (found) {
        var values = {};
        SHAPED[i][2].forEach(function (name, j) { values[name] = found[j + 1]; });
        return t(SHAPED[i][1], values);
      }
    }
    return text;
  }

  /* the home page's viewer with the layer opened (portal.js reads #layers=...&lang=...) */
  function mapHref(layerId) {
    return BASE + "/#layers=" + encodeURIComponent(layerId) + "&lang=" + window.I18N.lang;
  }

  function showLink(row, textId, linkId, text, layerId) {
    $(textId).textContent = text + " ";
    $(linkId).href = mapHref(layerId);
    $(linkId).setAttribute("data-layer", layerId);
    $(row).hidden = false;
  }

  /* ------------------------------------------------------------------------ the job */

  var shown = {job: null, rollback: null};  // what is on the page, said again on a switch

  function showJob(job) {
    var status = $("status");
    var bad = job.state === "failed" || job.state === "rejected";
    status.className = bad ? "error" : job.state === "done" ? "ok" : "";
    // the job's own error, said by the server in the page's language (lang= on the call)
    status.textContent = t("admin.job", {id: job.id.slice(0, 8),
                                         state: word("admin.state.", job.state)}) +
      (job.error ? ": " + job.error : "");
    status.setAttribute("data-state", job.state);
    if (job.state === "done") {
      var report = job.report || {};
      showLink("upload-result", "upload-result-text", "upload-map-link",
               report.status === "unchanged" ? t("admin.unchanged") :
                 t("admin.published", {v: num(job.version != null ? job.version :
                                                report.version)}), job.layer);
    } else {
      $("upload-result").hidden = true;
    }
    if (job.report && job.state !== "queued" && job.state !== "running") showReport(job.report);
    else $("report-section").hidden = true;
  }

  function watch(jobId) {
    var status = $("status");
    call("GET", "/admin/jobs/" + jobId).then(function (job) {
      shown.job = job;
      showJob(job);
      if (job.state === "queued" || job.state === "running") {
        setTimeout(function () { watch(jobId); }, 700);
        return;
      }
      if (job.state === "done") {
        versions(job.layer);
        return;
      }
      // a rejected or failed job published nothing: its versions are not asked for (the
      // layer may not exist, and its 404 would take the place of the job's error); a table
      // already shown for this layer still holds
      var section = $("versions-section");
      if (section.getAttribute("data-layer") !== job.layer) section.hidden = true;
    }).catch(function (err) { fail(status, err); });
  }

  function showReport(report) {
    $("report-section").hidden = false;
    var facts = [];
    function add(key, value) {
      if (value != null && value !== "" && value !== "undefined") facts.push([t(key), value]);
    }
    add("admin.r.format", report.format);
    if (report.encoding) {
      add("admin.r.encoding", report.encoding + (report.encoding_confidence ?
        " (" + word("admin.conf.", report.encoding_confidence) + ")" : ""));
    }
    if (report.source_crs) {
      var how = [report.crs_origin && word("admin.origin.", report.crs_origin),
                 report.crs_confidence && word("admin.conf.", report.crs_confidence)]
        .filter(Boolean).join(", ");
      add("admin.r.crs", report.source_crs + (how ? " (" + how + ")" : ""));
    }
    add("admin.r.geometry", report.geometry_type);
    if (report.raster) {
      add("admin.r.raster", t("admin.r.raster_size", {w: num(report.raster.width),
        h: num(report.raster.height), n: num(report.raster.count)}));
    } else {
      add("admin.r.read", num(report.features_read));
      add("admin.r.published", num(report.features_published));
    }
    [["admin.r.set_aside", report.set_aside], ["admin.r.repaired", report.repairs]]
      .forEach(function (kind) {
        Object.keys(kind[1] || {}).forEach(function (what) {  // {what: how many}
          add(kind[0], num(kind[1][what]) + ": " + fixedText(what));
        });
      });
    Object.keys(report.renamed_fields || {}).forEach(function (from) {
      add("admin.r.renamed", from + " → " + report.renamed_fields[from]);
    });
    (report.notes || []).forEach(function (note) { add("admin.r.note", note); });
    add("admin.r.version", report.version != null ? num(report.version) : null);
    var list = document.createElement("dl");
    facts.forEach(function (f) {
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = f[0];
      dd.textContent = String(f[1]);
      list.appendChild(dt);
      list.appendChild(dd);
    });
    var summary = $("report-summary");
    summary.textContent = "";
    summary.appendChild(list);
    $("report").textContent = JSON.stringify(report, null, 2);
  }

  /* --------------------------------------------------------- versions and rollback */

  /* ``quiet``: after a rejected job the layer may not exist; then say nothing */
  function versions(layerId, quiet) {
    return call("GET", "/admin/layers/" + encodeURIComponent(layerId) + "/versions")
      .then(function (body) {
        var table = $("versions");
        table.textContent = "";
        $("versions-section").hidden = false;
        $("versions-section").setAttribute("data-layer", layerId);
        var current = body.versions.filter(function (v) { return v.status === "current"; })[0];
        body.versions.forEach(function (v) {
          var row = table.insertRow();
          row.setAttribute("data-version", v.version);
          row.insertCell().textContent = "v" + v.version;
          row.insertCell().textContent = (v.created || "").replace("T", " ").slice(0, 19);
          row.insertCell().textContent = (v.features != null ? num(v.features) : "") +
            (v.source ? " · " + v.source : "");
          var cell = row.insertCell();
          if (v.status === "current") {
            cell.textContent = t("admin.current");
          } else {
            var b = document.createElement("button");
            b.type = "button";
            b.textContent = t("admin.rollback");
            b.addEventListener("click", function () {
              confirmRollback(layerId, v.version, current ? current.version : null, b);
            });
            cell.appendChild(b);
          }
        });
      }).catch(function (err) {
        if (quiet) $("versions-section").hidden = true;
        else fail($("status"), err);
      });
  }

  /* the dialog: Cancel has the focus, Escape cancels; only "Roll back" calls the API */
  function confirmRollback(layerId, version, current, opener) {
    var dialog = $("rollback-dialog");
    $("rollback-dialog-title").textContent = t("admin.rb.title", {v: num(version)});
    $("rollback-dialog-text").textContent = t("admin.rb.text", {
      layer: layerId, v: num(version), cur: current != null ? num(current) : "?"});
    dialog.returnValue = "";
    dialog.onclose = function () {
      dialog.onclose = null;
      if (dialog.returnValue !== "confirm") {
        if (opener && opener.isConnected) opener.focus();
        return;
      }
      rollback(layerId, version);
    };
    dialog.showModal();
    $("rollback-cancel").focus();
  }

  function rollback(layerId, version) {
    return call("POST", "/admin/layers/" + encodeURIComponent(layerId) + "/rollback",
                {version: version}).then(function (body) {
      shown.rollback = {layer: body.layer || layerId, version: body.version};
      showRollback();
      return versions(layerId);
    }).catch(function (err) { fail($("status"), err); });
  }

  function showRollback() {
    var r = shown.rollback;
    if (!r) return;
    showLink("rollback-result", "rollback-result-text", "rollback-map-link",
             t("admin.rb.done", {v: num(r.version), layer: r.layer}), r.layer);
    $("rollback-map-link").focus();
  }

  /* a language switch says the job again (its error too: the server translates it) */
  function relanguage() {
    fillSelects();
    var job = shown.job;
    if (job && job.state !== "queued" && job.state !== "running") {
      call("GET", "/admin/jobs/" + job.id).then(function (fresh) {
        shown.job = fresh;
        showJob(fresh);
      }).catch(function () { showJob(job); });
    }
    var layer = $("versions-section").getAttribute("data-layer");
    if (layer && !$("versions-section").hidden) versions(layer, true);
    if (shown.rollback) {
      var r = shown.rollback;
      showLink("rollback-result", "rollback-result-text", "rollback-map-link",
               t("admin.rb.done", {v: num(r.version), layer: r.layer}), r.layer);
    }
  }

  var registryLoaded = null;  // a promise: the regions and themes are in `registry`

  document.addEventListener("DOMContentLoaded", function () {
    $("token").value = sessionStorage.getItem("geoportal.token") || "";
    $("token-form").addEventListener("submit", checkToken);
    $("upload-form").addEventListener("submit", upload);
    document.addEventListener("portal:lang", relanguage);
    registryLoaded = fetch(url("/portal/registry.json")).then(function (r) {
      return r.json();
    }).then(function (b) {
      registry = b;
      fillSelects();
    });
    if ($("token").value) checkToken();
  });
})();
