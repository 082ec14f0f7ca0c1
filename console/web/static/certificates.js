// 健康证明: open the certificate drawer once htmx has loaded it.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    var drawer = document.getElementById("certificate-drawer");
    if (drawer && event.detail.target === drawer) {
      window.bootstrap.Offcanvas.getOrCreateInstance(drawer).show();
    }
  });
})();
