// lastmile panel enhancements. Every page works without this script; it only adds
// confirmations before deletions, hides form fields that do not apply to the chosen role,
// offers only the packages of the chosen connection type, and prints receipts.
(function () {
  "use strict";

  // A receipt's print button prints the page.
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) {
      window.print();
    }
  });

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

  // A connection type chosen in a form leaves only its packages in the form's package
  // list; a package of another type that was chosen is unchosen.
  function applyConnection(select) {
    var kind = select.value;
    var packages = select.form.querySelector("select[name=package_id]");
    if (!packages) {
      return;
    }
    packages.querySelectorAll("option[data-connection]").forEach(function (option) {
      var show = kind === "" || option.getAttribute("data-connection") === kind;
      option.hidden = !show;
      option.disabled = !show;
      if (!show && option.selected) {
        packages.value = "";
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-package-filter]").forEach(function (select) {
      applyConnection(select);
      select.addEventListener("change", function () { applyConnection(select); });
    });
    document.querySelectorAll("[data-role-select]").forEach(function (select) {
      applyRole(select);
      select.addEventListener("change", function () { applyRole(select); });
    });
  });
})();
