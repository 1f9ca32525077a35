// After a swap the person asked for (a day, a month, a slot), move the keyboard focus to the heading
// of the new content, so keyboard and screen-reader users land where the change happened. Swaps made
// by a live refresh (the element polling itself) leave the focus alone.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    var detail = event.detail || {};
    var source = detail.requestConfig && detail.requestConfig.elt;
    var target = detail.target;
    if (!target || !source || source === target) return;
    var swapped = target.isConnected ? target : document.getElementById(target.id);
    var heading = swapped && swapped.querySelector("[tabindex='-1']");
    if (heading) heading.focus();
  });
})();
