// lastmile panel enhancements. Every page works without this script; it only adds
// confirmations before deletions and hides form fields that do not apply to the chosen role.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  function applyRole(select) {
    var role = select.value;
    var form = select.form;
    form.querySelectorAll("[data-for-roles]").forEach(function (element) {
      var roles = element.getAttribute("data-for-roles").split(" ");
      var show = role === "" || roles.indexOf(role) !== -1;
      element.hidden = !show;
      var next = element.nextElementSibling;
      if (next && next.classList.contains("field-error") && !next.textContent.trim()) {
        next.hidden = !show;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-role-select]").forEach(function (select) {
      applyRole(select);
      select.addEventListener("change", function () { applyRole(select); });
    });
  });
})();
