/* Keyboard shortcuts for the case queue and the case workspace (issue 15.2, docs/decisions.md D37).
 *
 * Progressive enhancement only: every shortcut presses a button, follows a link or moves focus to
 * something the page already has, so the page works the same without this file. The page marks
 * what a key does with data-shortcut="<key>" and data-shortcut-label="<what it does>"; the help
 * dialog ("?") lists exactly the shortcuts of the page in front of the moderator. No inline script
 * or style (Content-Security-Policy).
 *
 * Shortcuts never fire while typing in a field, nor with Ctrl, Alt or Meta held: the browser's and
 * the screen reader's own keys keep working. Escape in a text field leaves the field, so that the
 * keys work again without reaching for the mouse.
 */
(function () {
  "use strict";

  var ROW_NEXT = ["j", "n"];
  var ROW_PREVIOUS = ["k", "p"];
  var dialog = null;
  var returnFocus = null;

  function typingIn(element) {
    if (!element || element === document.body) { return false; }
    if (element.isContentEditable) { return true; }
    var tag = element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function visible(element) {
    return !!(element.offsetWidth || element.offsetHeight || element.getClientRects().length) &&
      !element.closest("[hidden]");
  }

  function shortcutFor(key) {
    var all = document.querySelectorAll("[data-shortcut]");
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute("data-shortcut") === key && visible(all[i])) { return all[i]; }
    }
    return null;
  }

  function focusables(container) {
    return Array.prototype.filter.call(
      container.querySelectorAll("a[href], button, input, select, textarea, [tabindex]"),
      function (el) { return !el.disabled && el.tabIndex !== -1 && el.type !== "hidden" && visible(el); }
    );
  }

  function activate(target) {
    if (target.hasAttribute("data-shortcut-focus")) {
      var first = focusables(target)[0];
      if (first) {
        first.focus();
        target.scrollIntoView({ block: "nearest" });
      }
      return;
    }
    target.click();
  }

  // The case list: j/n and k/p move the focus between the cases' links; Enter opens the focused
  // one (a link's own behaviour, so the screen reader announces each case as it is reached).
  function rowLinks() {
    var table = document.querySelector("table[data-shortcut-rows]");
    if (!table) { return []; }
    return Array.prototype.map.call(table.tBodies[0].rows, function (row) {
      return row.querySelector("a[href]");
    }).filter(Boolean);
  }

  function moveRow(step) {
    var links = rowLinks();
    if (!links.length) { return false; }
    var at = links.indexOf(document.activeElement);
    var next = at === -1 ? (step > 0 ? 0 : links.length - 1) : Math.min(Math.max(at + step, 0), links.length - 1);
    links[next].focus();
    links[next].scrollIntoView({ block: "nearest" });
    return true;
  }

  function entries() {
    var list = [];
    if (rowLinks().length) {
      list.push(["j", "Next case in the list (also n)"]);
      list.push(["k", "Previous case in the list (also p)"]);
      list.push(["Enter", "Open the selected case"]);
    }
    document.querySelectorAll("[data-shortcut]").forEach(function (el) {
      if (visible(el)) { list.push([el.getAttribute("data-shortcut"), el.getAttribute("data-shortcut-label") || el.textContent.trim()]); }
    });
    list.push(["Esc", "Leave a text field (then the keys work again); close this help"]);
    list.push(["?", "Show this help"]);
    return list;
  }

  function buildDialog() {
    var d = document.createElement("dialog");
    d.className = "shortcuts-help";
    d.id = "shortcuts-help";
    d.setAttribute("aria-labelledby", "shortcuts-help-title");
    d.setAttribute("aria-describedby", "shortcuts-help-note");
    d.setAttribute("data-testid", "shortcuts-help");
    var title = document.createElement("h2");
    title.id = "shortcuts-help-title";
    title.textContent = "Keyboard shortcuts";
    var note = document.createElement("p");
    note.id = "shortcuts-help-note";
    note.className = "muted";
    note.textContent = "Keys work when you are not typing in a field, and never with Ctrl, Alt or Cmd.";
    var keys = document.createElement("dl");
    keys.className = "shortcuts-keys";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn";
    close.textContent = "Close";
    close.addEventListener("click", function () { d.close(); });
    d.appendChild(title);
    d.appendChild(note);
    d.appendChild(keys);
    d.appendChild(close);
    // Focus stays in the dialog: Tab from the last control goes to the first and back.
    d.addEventListener("keydown", function (event) {
      if (event.key !== "Tab") { return; }
      var items = focusables(d);
      if (!items.length) { return; }
      var first = items[0], last = items[items.length - 1];
      if (event.shiftKey && document.activeElement === first) { last.focus(); event.preventDefault(); }
      else if (!event.shiftKey && document.activeElement === last) { first.focus(); event.preventDefault(); }
    });
    d.addEventListener("close", function () {
      if (returnFocus && document.contains(returnFocus)) { returnFocus.focus(); }
      returnFocus = null;
    });
    document.body.appendChild(d);
    return d;
  }

  function showHelp() {
    dialog = dialog || buildDialog();
    if (dialog.open) { return; }
    var keys = dialog.querySelector("dl");
    keys.textContent = "";
    entries().forEach(function (pair) {
      var dt = document.createElement("dt");
      var kbd = document.createElement("kbd");
      kbd.textContent = pair[0];
      dt.appendChild(kbd);
      var dd = document.createElement("dd");
      dd.textContent = pair[1];
      keys.appendChild(dt);
      keys.appendChild(dd);
    });
    returnFocus = document.activeElement;
    dialog.showModal();  // modal: the page behind is inert and Esc closes it
    dialog.querySelector("button").focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) { return; }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (dialog && dialog.open) { return; }  // the dialog handles its own keys
    var active = document.activeElement;
    if (typingIn(active)) {
      if (event.key === "Escape" && active.tagName !== "SELECT") { active.blur(); }
      return;
    }
    var key = event.key;
    if (key === "?") { showHelp(); event.preventDefault(); return; }
    if (ROW_NEXT.indexOf(key) !== -1 && moveRow(1)) { event.preventDefault(); return; }
    if (ROW_PREVIOUS.indexOf(key) !== -1 && moveRow(-1)) { event.preventDefault(); return; }
    var target = shortcutFor(key);
    if (target) { activate(target); event.preventDefault(); }
  });

  // A decision form is sent once: a second press of the decide button while the first request is
  // on its way does nothing here (the server refuses a second decision anyway, D37).
  // Listens on the document, after portal.js's confirm prompt, so a cancelled prompt sends nothing.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches("form[data-decision-form]")) { return; }
    var deciding = event.submitter && event.submitter.value === "decide";
    if (!deciding) { return; }
    if (form.getAttribute("data-sent") === "decide") { event.preventDefault(); return; }
    form.setAttribute("data-sent", "decide");
    form.setAttribute("aria-busy", "true");
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      form.removeAttribute("data-sent");
      form.removeAttribute("aria-busy");
    });
  });

  // Say that the keys exist: screen readers read aria-keyshortcuts, everyone sees the help button.
  var marked = document.querySelectorAll("[data-shortcut]");
  marked.forEach(function (el) {
    if (!el.hasAttribute("data-shortcut-focus")) { el.setAttribute("aria-keyshortcuts", el.getAttribute("data-shortcut")); }
  });
  var spacer = document.querySelector(".topbar .spacer");
  if (spacer && (marked.length || rowLinks().length)) {
    var help = document.createElement("button");
    help.type = "button";
    help.className = "btn-link shortcuts-hint";
    help.setAttribute("aria-keyshortcuts", "?");
    help.setAttribute("data-testid", "shortcuts-hint");
    help.textContent = "Keyboard shortcuts (?)";
    help.addEventListener("click", showHelp);
    spacer.insertAdjacentElement("afterend", help);
  }
})();
