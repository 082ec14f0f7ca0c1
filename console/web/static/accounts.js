// 账号: show only the scope fields the chosen role takes. The rule comes from the server (data-role-scopes,
// the service's ROLE_SCOPES); without this script every field shows and the server still checks.
(function () {
  "use strict";
  function update(select) {
    var scopes = JSON.parse(select.getAttribute("data-role-scopes"));
    var allowed = scopes[select.value] || [];
    select.form.querySelectorAll("[data-scope-field]").forEach(function (box) {
      var column = box.getAttribute("data-scope-field");
      var show = allowed.indexOf(column) >= 0;
      box.hidden = !show;
      box.querySelector("select").disabled = !show;  // a hidden choice is not sent
    });
    var hint = select.form.querySelector("[data-scope-hint]");
    if (hint) { hint.hidden = true; }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-role-scopes]").forEach(function (select) {
      update(select);
      select.addEventListener("change", function () { update(select); });
    });
  });
})();
