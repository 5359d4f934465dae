// Certifia: small progressive enhancements (no inline scripts: the CSP forbids them).
document.addEventListener("DOMContentLoaded", () => {
  // Confirmation before irreversible actions: <form data-confirm="Message">
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // Progress indicator on long operations: <form data-busy="Génération en cours…">
  document.querySelectorAll("form[data-busy], a[data-busy]").forEach((el) => {
    el.addEventListener(el.tagName === "FORM" ? "submit" : "click", () => {
      const note = document.createElement("p");
      note.className = "busy";
      note.setAttribute("role", "status");
      note.textContent = el.dataset.busy;
      el.after(note);
    });
  });
});
