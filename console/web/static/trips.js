// The trip pages (车次): the manifest's 打印 button, and reconciliation that polls only while someone can see it.
// No inline script (the CSP forbids it).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) { window.print(); }
  });
  // A reconciliation left open in a background tab does not ask the server every 15 s; the next tick after
  // the tab is shown again brings it up to date.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (document.hidden && event.target && event.target.id === "reconciliation") { event.preventDefault(); }
  });
})();
