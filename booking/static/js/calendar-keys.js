// The booking calendar's keyboard and focus, where htmx alone cannot do it.
//
// 1. The month is a WAI-ARIA date grid, as in the APG date picker's grid: one Tab stop for its days
//    (the chosen day, else today, else the 1st), and every day of the month can take the focus, a
//    closed one too (aria-disabled, read as unavailable), so that the arrows go where they say:
//    left/right a day, up/down a week, across the month's edge into the month before or after (which
//    is loaded); Home/End the week's first or last day; PageUp/PageDown the same day a month earlier
//    or later; Enter and Space pick a free day. A grid and not 30 plain links, because the arrows keep
//    the sense of weeks that a screen reader user would otherwise lose, and one Tab stop keeps the slot
//    list close. Without JavaScript every free day is a link in the Tab order, and nothing here runs.
//    The calendar redraws itself (htmx); each new copy is prepared again.
// 2. When a live refresh of the slot list takes away the time that had the focus (someone else booked
//    it), the focus moves to the nearest time left, or to the day's heading when none is left, and
//    #slots-status (outside the swapped list, so it is there to speak) says which time was taken.
// 3. A calendar that opens on a day chosen for the visitor (its first day with free times) brings that
//    day's times into view on a narrow screen, where they sit below the month: their heading takes the
//    focus (and says which day it is). A day the visitor picks does the same through htmx's autofocus.
(function () {
  "use strict";
  var DAY = "[data-day]";
  var STEP = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 };
  var KEYS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown", "Enter", " "];

  function days(root) {
    return Array.prototype.slice.call(root.querySelectorAll(DAY));
  }

  function rove(grid, chosen) {
    days(grid).forEach(function (day) { day.tabIndex = day === chosen ? 0 : -1; });
  }

  function stop(grid) {
    var selected = grid.querySelector("[aria-selected='true']");
    return grid.querySelector(DAY + ":focus")
      || (selected && (selected.matches(DAY) ? selected : selected.querySelector(DAY)))
      || grid.querySelector(DAY + "[aria-current='date']")
      || grid.querySelector(DAY);
  }

  function prepare(root) {
    var grids = root.matches && root.matches("table.month") ? [root] : root.querySelectorAll("table.month");
    Array.prototype.forEach.call(grids, function (grid) {
      var first = stop(grid);
      if (first) rove(grid, first);
    });
  }

  function shift(iso, step) {
    var day = new Date(iso + "T12:00:00Z");
    day.setUTCDate(day.getUTCDate() + step);
    return day.toISOString().slice(0, 10);
  }

  function shiftMonth(iso, months) {  // the same day of the month, or the month's last when it is shorter
    var year = +iso.slice(0, 4), month = +iso.slice(5, 7) - 1 + months, day = +iso.slice(8, 10);
    var target = new Date(Date.UTC(year, month, 1, 12));
    var last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0, 12)).getUTCDate();
    target.setUTCDate(Math.min(day, last));
    return target.toISOString().slice(0, 10);
  }

  function destination(grid, day, key) {
    var iso = day.dataset.day;
    if (key in STEP) return shift(iso, STEP[key]);
    if (key === "PageUp") return shiftMonth(iso, -1);
    if (key === "PageDown") return shiftMonth(iso, 1);
    var week = days(day.closest("tr"));
    return (key === "Home" ? week[0] : week[week.length - 1]).dataset.day;
  }

  var pending = null;  // the day to focus once the month it is in has been loaded

  function go(grid, iso) {
    var found = grid.querySelector(DAY + '[data-day="' + iso + '"]');
    if (found) { found.focus(); return; }
    var first = days(grid)[0].dataset.day;
    var link = document.querySelector("#calendar a[rel=" + (iso < first ? "prev" : "next") + "]");
    if (!link) return;  // before the current month: nothing to go to
    pending = iso;
    link.click();  // htmx loads the month (and puts it in the address bar); see htmx:afterSettle below
  }

  document.addEventListener("keydown", function (event) {
    if (KEYS.indexOf(event.key) < 0 || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var day = event.target.closest ? event.target.closest("table.month " + DAY) : null;
    if (!day) return;
    if (event.key === "Enter" || event.key === " ") {
      if (event.key === " " || day.tagName !== "A") event.preventDefault();  // Space would scroll
      if (event.key === " " && day.tagName === "A") day.click();  // Enter follows a link by itself
      return;  // a closed day cannot be picked: it stays focused and says why
    }
    event.preventDefault();  // keys in the grid move between days, never scroll the page
    go(day.closest("table.month"), destination(day.closest("table.month"), day, event.key));
  });

  document.addEventListener("focusin", function (event) {  // a day focused becomes the grid's Tab stop
    var day = event.target.closest ? event.target.closest("table.month " + DAY) : null;
    if (day) rove(day.closest("table.month"), day);
  });

  // --- a focused time taken by someone else ---------------------------------------------------------

  var SLOT = "#slots [data-slot-start]";
  var lostSlot = null;  // the focused time when a refresh of the slot list is about to be swapped in

  function minutes(value) {  // "YYYY-MM-DDTHH:MM" -> a comparable number of minutes
    return Date.parse(value + ":00Z") / 60000;
  }

  function say(text) {
    var status = document.getElementById("slots-status");
    if (status) status.textContent = text;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "slots" || !event.detail.shouldSwap) return;
    var focused = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest(SLOT) : null;
    lostSlot = focused ? {start: focused.dataset.slotStart, id: focused.id,
                          label: (focused.getAttribute("aria-label") || focused.textContent).split(",")[0]} : null;
    var path = (event.detail.pathInfo && event.detail.pathInfo.requestPath) || "";
    if (path.indexOf("known=") < 0) say("");  // a swap the patient asked for: old news is cleared
  });

  document.addEventListener("htmx:afterSwap", function () {  // before the swap settles and toast.js looks
    var lost = lostSlot;
    lostSlot = null;
    if (!lost || document.getElementById(lost.id)) return;  // still there: htmx kept the focus on it
    var left = Array.prototype.slice.call(document.querySelectorAll(SLOT));
    var nearest = null;
    left.forEach(function (slot) {
      var distance = Math.abs(minutes(slot.dataset.slotStart) - minutes(lost.start));
      if (!nearest || distance < nearest.distance) nearest = {slot: slot, distance: distance};
    });
    if (nearest) {
      nearest.slot.focus();
      say(lost.label + " was just taken. The nearest free time has the focus.");
    } else {
      var heading = document.getElementById("slots-title");
      if (heading) heading.focus();
      say(lost.label + " was just taken. No free times are left on this day.");
    }
  });

  // --- preparing each calendar, and the day asked for in a month just loaded ------------------------

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (!pending || !target || target.id !== "calendar") return;
    var iso = pending;
    pending = null;
    var day = document.querySelector("#calendar " + DAY + '[data-day="' + iso + '"]');
    if (day) day.focus();
  });

  function reveal() {
    var slots = document.querySelector("#slots[data-reveal]");
    var heading = document.getElementById("slots-title");
    if (!slots || !heading || !window.matchMedia("(max-width: 51.99rem)").matches) return;
    var first = slots.querySelector(SLOT) || heading;
    if (first.getBoundingClientRect().bottom <= window.innerHeight) return;  // in view already
    heading.focus({preventScroll: true});
    heading.scrollIntoView({block: "start"});
  }

  document.addEventListener("DOMContentLoaded", function () { prepare(document); reveal(); });
  document.addEventListener("htmx:load", function (event) { prepare(event.target); });
})();
