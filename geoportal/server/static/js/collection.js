/* The HTML collection page (templates/collections/collection.html): a "Copy" button beside
   each service URL puts the URL on the clipboard, for a GIS specialist to paste into QGIS,
   ArcGIS Pro or GDAL. The button's data attributes carry the words in the page's language
   (data-copied, data-failed); without the Clipboard API (an insecure origin, an old browser)
   the URL is selected so that Ctrl+C copies it. Plain ES5, no dependencies. */
(function () {
  "use strict";

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function say(button, text) {
    var status = button.parentNode.querySelector(".copied");
    if (status) {
      status.textContent = text;
    }
  }

  function copy(button) {
    var node = document.getElementById(button.getAttribute("data-copy"));
    if (!node) {
      return;
    }
    var url = node.textContent.trim();
    var failed = function () {
      selectText(node);
      say(button, button.getAttribute("data-failed") || "");
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(url).then(function () {
        say(button, button.getAttribute("data-copied") || "");
      }, failed);
    } else {
      failed();
    }
  }

  var buttons = document.querySelectorAll("button.copy-url");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener("click", function (event) {
      copy(event.currentTarget);
    });
  }
})();
