// Shows the messages that fragment responses send in their HX-Trigger header ("toast" event).
// Full pages render their messages on the server; this is only for swaps that keep the page.
// After a form comes back refused (422), the keyboard focus goes to its first field in error, so a
// screen reader reads that field's label and the message tied to it. And when a swap takes away the
// element that had the focus (a decided request's row, say), the focus moves on to the next row, or
// to the page's heading, instead of falling back to the start of the page.
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

  var lost = null;  // where the focus was, when the coming swap is about to take it away

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    lost = target && target.contains(document.activeElement)
      ? {next: target.nextElementSibling, previous: target.previousElementSibling} : null;
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (!lost) return;
    var active = document.activeElement, place = lost;
    lost = null;
    if (active && active !== document.body && active.isConnected) return;
    var candidates = [place.next, place.previous];
    for (var i = 0; i < candidates.length; i++) {
      var row = candidates[i];
      var control = row && row.isConnected && row.querySelector("a[href], button:not([disabled]), input, select, textarea");
      if (control) { control.focus(); return; }
    }
    var heading = document.querySelector("main h1");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
  });
})();
