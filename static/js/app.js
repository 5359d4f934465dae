// Certifia: small progressive enhancements (no inline scripts: the CSP forbids them).
// Listeners are delegated to the document, so forms added later (or re-rendered) behave the same.
(() => {
  "use strict";

  // Confirmation before irreversible actions: <form data-confirm="Message">, or a submit button
  // carrying its own data-confirm (one form, several actions).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const button = event.submitter;
    const message = (button && button.dataset && button.dataset.confirm) || form.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    // Progress indicator on long operations: <form data-busy="Génération en cours…">
    if (form.dataset.busy !== undefined) showBusy(form, form.dataset.busy, button);
    // One click is enough: a second click while the page loads would send the form twice.
    // (given back after a while: a download does not leave the page)
    if (button && form.method.toLowerCase() === "post") {
      window.setTimeout(() => { button.disabled = true; }, 0);
      window.setTimeout(() => { button.disabled = false; }, 15000);
    }
  }, true);

  // Links to long operations (exports, PDF batches): <a data-busy="Préparation de l'export…">
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[data-busy]") : null;
    if (link) showBusy(link, link.dataset.busy, null);
  });

  function showBusy(el, text, button) {
    let note = el.nextElementSibling;
    if (!note || !note.classList.contains("busy")) {
      note = document.createElement("p");
      note.className = "busy";
      note.setAttribute("role", "status");
      el.after(note);
    }
    note.textContent = text || "Traitement en cours, merci de patienter…";
    el.setAttribute("aria-busy", "true");
    if (button) button.classList.add("is-busy");
    // A download does not leave the page: give the control back after a while.
    window.setTimeout(() => {
      el.removeAttribute("aria-busy");
      if (button) button.classList.remove("is-busy");
    }, 15000);
  }

  // Mark the navigation link of the current section (longest matching path) for sight and screen readers.
  document.addEventListener("DOMContentLoaded", () => {
    // The first link is the role's home: it matches its own page only, not every page under it.
    let best = null;
    document.querySelectorAll(".main-nav a[href]").forEach((link, index) => {
      const path = new URL(link.href, window.location.href).pathname;
      const here = window.location.pathname;
      const under = index > 0 && here.startsWith(path.endsWith("/") ? path : path + "/");
      if ((here === path || under) && (!best || path.length > best.path.length)) best = { link, path };
    });
    if (best) best.link.setAttribute("aria-current", "page");
  });

  // Move the focus to the first field in error (or the error summary) after a refused form.
  document.addEventListener("DOMContentLoaded", () => {
    const invalid = document.querySelector("main [aria-invalid='true']");
    if (invalid) { invalid.focus(); return; }
    const alert = document.querySelector("main .flash-error[role='alert']");
    if (alert) { alert.setAttribute("tabindex", "-1"); alert.focus(); }
  });
  // Lists on a phone: <table class="table stack"> cells get their column header as data-label, so the
  // stylesheet can show each row as a card of "label: value" lines on a narrow screen.
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("table.stack").forEach((table) => {
      const headers = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent.trim());
      table.querySelectorAll("tbody tr").forEach((row) => {
        let column = 0;
        Array.from(row.cells).forEach((cell) => {
          cell.dataset.label = headers[column] || "";
          column += cell.colSpan || 1;
        });
      });
      table.classList.add("labelled");
    });
  });
})();
