// Behaviour shared by every console page. No inline script (the CSP forbids it): pages opt in with data- attributes.
(function () {
  "use strict";
  // <button data-confirm="确定驳回？"> asks before its form is sent.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  }, true);
  // <input type="checkbox" data-check-all="name"> ticks every checkbox named `name` in its form.
  document.addEventListener("change", function (event) {
    var name = event.target.getAttribute && event.target.getAttribute("data-check-all");
    if (!name) { return; }
    var form = event.target.form || document;
    form.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (box) {
      box.checked = event.target.checked;
    });
  });
})();
