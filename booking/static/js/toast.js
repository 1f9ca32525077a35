// Shows the messages that fragment responses send in their HX-Trigger header ("toast" event).
// Full pages render their messages on the server; this is only for swaps that keep the page.
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
})();
