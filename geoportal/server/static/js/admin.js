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
    return call("GET", "/admin/whoami").then(function (me) {
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
    xhr.onerror = function () { fail(status, new Error("network error")); };
    xhr.send(form);
  }

  function watch(jobId) {
    var status = $("status");
    call("GET", "/admin/jobs/" + jobId).then(function (job) {
      status.className = job.state === "failed" || job.state === "rejected" ? "error" :
        job.state === "done" ? "ok" : "";
      status.textContent = t("admin.job", {id: jobId.slice(0, 8), state: job.state}) +
        (job.error ? ": " + job.error : "");
      status.setAttribute("data-state", job.state);
      if (job.state === "queued" || job.state === "running") {
        setTimeout(function () { watch(jobId); }, 700);
        return;
      }
      if (job.report) showReport(job.report);
      versions(job.layer);
    }).catch(function (err) { fail(status, err); });
  }

  function showReport(report) {
    $("report-section").hidden = false;
    var facts = [
      ["format", report.format], ["encoding", report.encoding],
      ["CRS", report.source_crs + (report.crs_origin ? " (" + report.crs_origin + ")" : "")],
      ["read", report.features_read], ["published", report.features_published],
      ["version", report.version]
    ].filter(function (f) { return f[1] != null && f[1] !== "undefined"; });
    [["repaired", report.repairs], ["set aside", report.set_aside]].forEach(function (kind) {
      Object.keys(kind[1] || {}).forEach(function (what) {  // {what: how many}
        facts.push([kind[0], kind[1][what] + ": " + what]);
      });
    });
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

  function versions(layerId) {
    return call("GET", "/admin/layers/" + encodeURIComponent(layerId) + "/versions")
      .then(function (body) {
        var table = $("versions");
        table.textContent = "";
        $("versions-section").hidden = false;
        body.versions.forEach(function (v) {
          var row = table.insertRow();
          row.setAttribute("data-version", v.version);
          row.insertCell().textContent = "v" + v.version;
          row.insertCell().textContent = (v.created || "").replace("T", " ").slice(0, 19);
          row.insertCell().textContent = (v.features != null ? v.features : "") +
            (v.source ? " · " + v.source : "");
          var cell = row.insertCell();
          if (v.status === "current") {
            cell.textContent = t("admin.current");
          } else {
            var b = document.createElement("button");
            b.type = "button";
            b.textContent = t("admin.rollback");
            b.addEventListener("click", function () {
              call("POST", "/admin/layers/" + encodeURIComponent(layerId) + "/rollback",
                   {version: v.version}).then(function () { versions(layerId); })
                .catch(function (err) { fail($("status"), err); });
            });
            cell.appendChild(b);
          }
        });
      }).catch(function (err) { fail($("status"), err); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("token").value = sessionStorage.getItem("geoportal.token") || "";
    $("token-form").addEventListener("submit", checkToken);
    $("upload-form").addEventListener("submit", upload);
    document.addEventListener("portal:lang", fillSelects);
    fetch(url("/portal/registry.json")).then(function (r) { return r.json(); }).then(function (b) {
      registry = b;
      fillSelects();
      if ($("token").value) checkToken();
    });
  });
})();
