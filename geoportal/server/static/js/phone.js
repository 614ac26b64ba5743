/* issue 19: the map-first phone layout. Up to 760 px wide (the breakpoint of home.css and
   phone.css) the map fills the screen under the header and the panel (#panel: search, filters,
   layers, results) becomes a bottom sheet with three states on body[data-sheet]:
   "collapsed" (the handle and the search box), "half" and "full". A real <button> (the
   handle) cycles them and can be dragged (pointer events, snapping to the nearest state);
   ArrowUp/ArrowDown on it step up and down, Escape in the sheet collapses it. A search
   opens the sheet so its results show; a layer opened from the results ("Open"), "Show on
   the map" for a place and a layer's "Zoom" collapse it so the map shows. Feature info (#identify, helper J) becomes a sheet over the
   lower part of the map, and the map is panned so the tapped point stays visible above it.
   A collapsed sheet's hidden content is inert (out of the tab order and the accessibility
   tree). On a wider screen nothing here applies (body.has-sheet is removed). */
(function () {
  "use strict";
  var QUERY = "(max-width: 760px)";
  var STATES = ["collapsed", "half", "full"];
  var LABELS = {collapsed: "phone.sheet.open", half: "phone.sheet.full", full: "phone.sheet.close"};
  var media = window.matchMedia ? window.matchMedia(QUERY) : null;
  var panel = null, handle = null, map = null;
  var sheet = "collapsed";
  var drag = null, dragged = false;
  var lastClick = null, clickSeq = 0, revealed = -1, revealedHeight = 0;
  var awaitingResults = false;  // a search was submitted on a phone: show its answer

  function t(key) { return window.I18N.t(key); }
  function phone() { return !!(media && media.matches && panel); }
  function reduced() {
    return !!(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  }

  function resizeMap() {
    if (map) window.requestAnimationFrame(function () { map.resize(); });
  }

  /* the height of the collapsed sheet (handle + search box), and where the layout starts (the
     floating notices of a collapsed sheet sit there) */
  function measure() {
    var search = document.getElementById("search");
    var layout = panel.parentNode;
    if (search) {
      document.body.style.setProperty("--sheet-peek",
                                      Math.ceil(search.offsetTop + search.offsetHeight + 10) + "px");
    }
    document.body.style.setProperty("--phone-top",
                                    Math.round(layout.getBoundingClientRect().top) + "px");
  }

  /* what a collapsed sheet hides: everything after the handle but the search box and the
     notices is inert */
  function setInert(on) {
    Array.prototype.forEach.call(panel.children, function (child) {
      if (child === handle || child.id === "search" || child.id === "notices") return;
      if (on) child.setAttribute("inert", "");
      else child.removeAttribute("inert");
    });
  }

  function label() {
    if (!handle) return;
    var text = t(LABELS[sheet]);
    handle.setAttribute("aria-label", text);
    handle.setAttribute("title", text);
    handle.setAttribute("aria-expanded", String(sheet !== "collapsed"));
  }

  function setSheet(state) {
    if (STATES.indexOf(state) < 0) return;
    sheet = state;
    document.body.setAttribute("data-sheet", state);
    panel.style.height = "";
    if (phone()) {
      /* focus inside what is about to turn inert would be lost: it goes to the handle */
      var focused = document.activeElement;
      if (state === "collapsed" && focused && focused !== handle && panel.contains(focused) &&
          !(document.getElementById("search") || panel).contains(focused)) handle.focus();
      setInert(state === "collapsed");
    }
    if (state === "collapsed") panel.scrollTop = 0;
    label();
  }

  /* the layout follows the breakpoint: on (a phone) or off (a wider screen, as before) */
  function apply() {
    if (!panel) return;
    if (phone()) {
      document.body.classList.add("has-sheet");
      handle.hidden = false;
      measure();
      setSheet(sheet);
    } else {
      document.body.classList.remove("has-sheet");
      handle.hidden = true;
      setInert(false);
      panel.style.height = "";
    }
    resizeMap();
  }

  /* ---------------------------------------------------------------- the handle */

  function step(by) {
    var i = STATES.indexOf(sheet) + by;
    if (i >= 0 && i < STATES.length) setSheet(STATES[i]);
  }

  function heights() {
    var layout = panel.parentNode.getBoundingClientRect().height;
    var peek = parseFloat(getComputedStyle(document.body).getPropertyValue("--sheet-peek")) || 100;
    return {collapsed: peek, half: layout * 0.5, full: layout};
  }

  function makeHandle() {
    handle = window.portal.el("button", {type: "button", id: "sheet-handle",
                                         "class": "sheet-handle", "aria-controls": "panel",
                                         hidden: ""},
                              [window.portal.el("span", {"class": "grip", "aria-hidden": "true"})]);
    panel.insertBefore(handle, panel.firstChild);
    handle.addEventListener("click", function () {
      if (dragged) { dragged = false; return; }  // the end of a drag, not a tap
      setSheet(sheet === "collapsed" ? "half" : sheet === "half" ? "full" : "collapsed");
    });
    handle.addEventListener("keydown", function (e) {
      if (e.key === "ArrowUp") { e.preventDefault(); step(1); }
      if (e.key === "ArrowDown") { e.preventDefault(); step(-1); }
    });
    handle.addEventListener("pointerdown", function (e) {
      if (!phone() || (e.pointerType === "mouse" && e.button !== 0)) return;
      dragged = false;
      drag = {y: e.clientY, h: panel.getBoundingClientRect().height, id: e.pointerId,
              sizes: heights()};
      try { handle.setPointerCapture(e.pointerId); } catch (err) { /* not capturable */ }
    });
    handle.addEventListener("pointermove", function (e) {
      if (!drag || e.pointerId !== drag.id) return;
      var dy = e.clientY - drag.y;
      if (!dragged && Math.abs(dy) < 6) return;
      if (!dragged) { dragged = true; panel.classList.add("dragging"); }
      var h = Math.max(drag.sizes.collapsed, Math.min(drag.sizes.full, drag.h - dy));
      panel.style.height = h + "px";
    });
    var end = function (e) {
      if (!drag || e.pointerId !== drag.id) return;
      var sizes = drag.sizes;
      drag = null;
      panel.classList.remove("dragging");
      if (!dragged) return;
      var h = panel.getBoundingClientRect().height;
      var nearest = STATES.reduce(function (best, s) {
        return Math.abs(sizes[s] - h) < Math.abs(sizes[best] - h) ? s : best;
      }, "collapsed");
      setSheet(nearest);
      setTimeout(function () { dragged = false; }, 0);  // after the click that may follow
    };
    handle.addEventListener("pointerup", end);
    handle.addEventListener("pointercancel", end);
  }

  function showResults() {
    var places = document.getElementById("places");
    var target = places && !places.hidden ? document.getElementById("places-title") :
      document.getElementById("result-count");
    var search = document.getElementById("search");
    if (!target || !search || sheet === "collapsed") return;
    /* offsetTop counts from the sheet (positioned), not from where it is scrolled to */
    panel.scrollTop = Math.max(0, target.offsetTop - handle.offsetHeight - search.offsetHeight - 8);
  }

  /* ---------------------------------------------------------------- feature info */

  /* The tapped point above the feature-info sheet: if it is hidden behind it (or too near the
     top), the map eases so that it sits in the middle of the part still visible. The sheet may
     grow after it opens (a list, then one feature's table): a taller sheet checks again. */
  function reveal() {
    var box = document.getElementById("identify");
    if (!phone() || !map || !box || box.hidden || !lastClick) return;
    var covered = box.getBoundingClientRect().height;
    if (revealed === clickSeq && covered <= revealedHeight + 1) return;
    revealed = clickSeq;
    revealedHeight = covered;
    if (sheet !== "collapsed") setSheet("collapsed");
    var height = map.getContainer().clientHeight;
    var y = map.project(lastClick).y;
    var margin = 24;
    if (y > margin && y < height - covered - margin) return;  // visible already
    map.easeTo({center: lastClick, offset: [0, -covered / 2], duration: reduced() ? 0 : 300});
  }

  function watchIdentify() {
    var box = document.getElementById("identify");
    if (!box || !window.MutationObserver) return;
    new MutationObserver(function () {
      if (!box.hidden) window.requestAnimationFrame(reveal);
    }).observe(box, {attributes: true, attributeFilter: ["hidden"], childList: true});
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        if (!box.hidden) window.requestAnimationFrame(reveal);
      }).observe(box);
    }
  }

  /* ---------------------------------------------------------------- start */

  document.addEventListener("portal:map", function (e) {
    map = e.detail;
    map.on("click", function (ev) { lastClick = ev.lngLat; clickSeq += 1; });
  });

  /* helper J's event: {lngLat, open} when feature info opens for a point */
  document.addEventListener("portal:identify", function (e) {
    var d = e.detail || {};
    if (!d.open || !d.lngLat) return;
    lastClick = d.lngLat;
    clickSeq += 1;
    window.requestAnimationFrame(reveal);
  });

  document.addEventListener("portal:opened", function () {
    if (phone()) setSheet("collapsed");
  });

  document.addEventListener("portal:lang", function () {
    label();
    if (phone()) window.requestAnimationFrame(measure);
  });

  document.addEventListener("DOMContentLoaded", function () {
    panel = document.getElementById("panel");
    if (!panel || !window.portal) return;
    makeHandle();
    var form = document.getElementById("search");
    if (form) form.addEventListener("submit", function () {
      if (!phone()) return;
      if (sheet === "collapsed") setSheet("half");
      awaitingResults = true;
    });
    /* the search's answer shown (portal.js drops body[data-searching]): its places and
       layers scrolled to the top of the sheet, under the handle and the search box */
    if (window.MutationObserver) {
      new MutationObserver(function () {
        if (!awaitingResults || document.body.hasAttribute("data-searching")) return;
        awaitingResults = false;
        if (phone()) showResults();
      }).observe(document.body, {attributes: true, attributeFilter: ["data-searching"]});
    }
    /* "Show on the map" (a place) and a layer's "Zoom": the map, not the list */
    panel.addEventListener("click", function (e) {
      var button = e.target.closest ? e.target.closest(".show-place, .layer .zoom") : null;
      if (button && phone()) setSheet("collapsed");
    });
    /* Escape in an open sheet: back to the map, focus on the handle */
    panel.addEventListener("keydown", function (e) {
      if (e.key !== "Escape" || !phone() || sheet === "collapsed" || e.defaultPrevented) return;
      if (e.target.id === "q" && e.target.value) return;  // Escape clears the search box first
      setSheet("collapsed");
      handle.focus();
    });
    panel.addEventListener("transitionend", function (e) {
      if (e.target === panel) resizeMap();
    });
    watchIdentify();
    if (media) {
      if (media.addEventListener) media.addEventListener("change", apply);
      else if (media.addListener) media.addListener(apply);
    }
    window.addEventListener("resize", function () { if (phone()) measure(); });
    window.addEventListener("orientationchange", function () { setTimeout(apply, 200); });
    apply();
  });
})();
