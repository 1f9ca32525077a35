// Shows the messages that fragment responses send in their HX-Trigger header ("toast" event).
// Full pages render their messages on the server; this is only for swaps that keep the page.
// After a form comes back refused (422), the keyboard focus goes to its first field in error, so a
// screen reader reads that field's label and the message tied to it.
(function () {
  "use strict";
  var LIFETIME_MS = 8000;

  function show(message) {
    var area = document.getElementById("messages");
    if (!area || !message || !message.text) return;
    var item = document.createElement("p");
    item.className = "toast toast-" + (message.level || "info");
    item.textContent = message.text;
    area.appendChild(item);
    window.setTimeout(function () { item.remove(); }, LIFETIME_MS);
  }

  document.addEventListener("toast", function (event) {
    var detail = event.detail || {};
    (detail.messages || []).forEach(show);
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var detail = event.detail || {};
    if (!detail.xhr || detail.xhr.status !== 422) return;
    var region = detail.elt && detail.elt.isConnected ? detail.elt : document;
    var invalid = region.querySelector("[aria-invalid='true']") || region.querySelector(".form-errors");
    if (!invalid) return;
    if (!invalid.matches("input, select, textarea, button")) invalid.setAttribute("tabindex", "-1");
    invalid.focus();
  });
})();
