// 今日随访: a row's symptom list says in its summary what is ticked (the form works the same without this).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches(".fg-symptoms input[type=checkbox]")) { return; }
    var details = box.closest("details");
    var summary = details.querySelector("summary");
    var ticked = Array.prototype.map.call(details.querySelectorAll("input:checked"), function (input) {
      return input.getAttribute("data-word");
    });
    summary.textContent = ticked.length ? ticked.join("、") : summary.getAttribute("data-none");
  });
})();
