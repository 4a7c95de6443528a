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

  // Wellbeing (issue 15.3): show a blurred message body in place, one click or key. The form posts
  // the same reveal without this script (the server answers with the thread, the message shown);
  // if the scripted post fails, the form is submitted for real so the server's answer is seen.
  function reveal(form) {
    var shield = form.closest("[data-message-shield]");
    var text = shield && shield.querySelector("[data-shielded-text]");
    if (!text || form.getAttribute("data-pending")) { return; }
    form.setAttribute("data-pending", "1");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error("reveal refused: " + response.status); }
      shield.classList.remove("is-shielded");
      text.removeAttribute("aria-hidden");
      text.setAttribute("tabindex", "-1");
      form.remove();
      text.focus();
    }).catch(function () {
      form.submit();
    });
  }
  document.addEventListener("submit", function (event) {
    if (event.defaultPrevented || !event.target.matches("[data-reveal-form]")) { return; }
    event.preventDefault();
    reveal(event.target);
  });
  document.addEventListener("click", function (event) {
    var shield = event.target.closest("[data-message-shield]");
    if (!shield || !shield.classList.contains("is-shielded") || event.target.closest("button")) { return; }
    reveal(shield.querySelector("[data-reveal-form]"));
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
