// 隔离管理: open the order drawer once htmx has loaded it. (The feed refreshes by htmx's own `every 30s` trigger.)
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    var drawer = document.getElementById("isolation-drawer");
    if (drawer && event.detail.target === drawer) {
      window.bootstrap.Offcanvas.getOrCreateInstance(drawer).show();
    }
  });
})();
