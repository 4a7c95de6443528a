/* Progressive enhancement only: every page works without this file. No inline handlers (CSP). */
(function () {
  "use strict";

  // Ask before a button marked data-confirm submits its form.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // The decision form: show the fields that the chosen decision type uses.
  function syncDecisionForm(form) {
    var select = form.querySelector("select[name=decision_type]");
    if (!select) { return; }
    var value = select.value;
    form.querySelectorAll("[data-show-for]").forEach(function (field) {
      var wanted = field.getAttribute("data-show-for").split(" ");
      field.hidden = wanted.indexOf(value) === -1;
    });
  }
  document.querySelectorAll("form[data-decision-form]").forEach(function (form) {
    syncDecisionForm(form);
    form.addEventListener("change", function (event) {
      if (event.target.name === "decision_type") { syncDecisionForm(form); }
    });
  });

  // Filter forms: submitting drops empty fields so that URLs stay short and shareable.
  document.querySelectorAll("form[data-clean-get]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input, select").forEach(function (field) {
        if (!field.value) { field.disabled = true; }
      });
    });
  });
})();
