// 申请审核: open the detail drawer once htmx has loaded it, and say how many rows are ticked.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    var drawer = document.getElementById("application-drawer");
    if (drawer && event.detail.target === drawer) {
      window.bootstrap.Offcanvas.getOrCreateInstance(drawer).show();
    }
  });
  function countTicked() {
    var form = document.getElementById("bulk-form");
    var label = form && form.querySelector("[data-selected-count]");
    if (!label) { return; }
    var ticked = form.querySelectorAll('input[name="ids"]:checked:not(:disabled)').length;
    label.textContent = ticked ? "已选 " + ticked + " 条" : "";
  }
  document.addEventListener("change", function () { window.setTimeout(countTicked, 0); });
  document.addEventListener("DOMContentLoaded", countTicked);
})();
