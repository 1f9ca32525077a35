// The month calendar is a grid: one Tab stop for its days, and the arrow keys move between them
// (left/right to the previous or next free day, up/down a week, Home/End to the week's first or last
// free day), as in the WAI-ARIA date grid pattern. Without JavaScript every free day is a link in the
// Tab order. The calendar redraws itself (htmx); each new copy is prepared again.
(function () {
  "use strict";
  var DAY = "a[data-day]";
  var WEEK = { ArrowUp: -7, ArrowDown: 7 };
  var KEYS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End"];

  function days(grid) {
    return Array.prototype.slice.call(grid.querySelectorAll(DAY));
  }

  function rove(grid, chosen) {
    days(grid).forEach(function (link) { link.tabIndex = link === chosen ? 0 : -1; });
  }

  function prepare(root) {
    var grids = root.matches && root.matches("table.month") ? [root] : root.querySelectorAll("table.month");
    Array.prototype.forEach.call(grids, function (grid) {
      var links = days(grid);
      if (links.length) {
        rove(grid, grid.querySelector(DAY + ":focus") || grid.querySelector(DAY + "[aria-current]") || links[0]);
      }
    });
  }

  function dayAfter(iso, step) {
    var day = new Date(iso + "T12:00:00Z");
    day.setUTCDate(day.getUTCDate() + step);
    return day.toISOString().slice(0, 10);
  }

  function destination(grid, link, key) {
    var links = days(grid);
    var at = links.indexOf(link);
    if (key === "ArrowLeft") return links[at - 1];
    if (key === "ArrowRight") return links[at + 1];
    if (key in WEEK) {
      for (var iso = dayAfter(link.dataset.day, WEEK[key]), n = 0; n < 6; iso = dayAfter(iso, WEEK[key]), n++) {
        var found = grid.querySelector(DAY + '[data-day="' + iso + '"]');
        if (found) return found;
      }
      return undefined;
    }
    var week = days(link.closest("tr"));
    if (key === "Home") return week[0];
    return week[week.length - 1];
  }

  document.addEventListener("keydown", function (event) {
    if (KEYS.indexOf(event.key) < 0 || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var link = event.target.closest ? event.target.closest("table.month " + DAY) : null;
    if (!link) return;
    event.preventDefault();  // arrows in the grid move between days, never scroll the page
    var grid = link.closest("table.month");
    var next = destination(grid, link, event.key);
    if (next) next.focus();
  });

  document.addEventListener("focusin", function (event) {  // a day clicked becomes the grid's Tab stop
    var link = event.target.closest ? event.target.closest("table.month " + DAY) : null;
    if (link) rove(link.closest("table.month"), link);
  });

  document.addEventListener("DOMContentLoaded", function () { prepare(document); });
  document.addEventListener("htmx:load", function (event) { prepare(event.target); });
})();
