// Candidates' import: a progress bar while a large file is sent and checked, and while the candidates are created.
// Without JavaScript the forms post as usual.
document.querySelectorAll("form.progress-form").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    var bar = form.querySelector(".import-progress");
    var text = form.querySelector(".import-progress-text");
    if (!bar || !window.XMLHttpRequest || !window.FormData) { return; }
    event.preventDefault();
    bar.hidden = false;
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.max = 100;
        bar.value = Math.round(100 * e.loaded / e.total);
        if (text) { text.textContent = "Envoi du fichier : " + bar.value + " %"; }
      }
    });
    request.upload.addEventListener("load", function () {
      bar.removeAttribute("value");  // indeterminate: the server checks every row
      if (text) { text.textContent = "Vérification des lignes…"; }
    });
    request.addEventListener("load", function () {
      if (request.responseURL && request.responseURL !== window.location.href) {
        window.history.replaceState(null, "", request.responseURL);
      }
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener("error", function () {
      if (text) { text.textContent = "L'envoi a échoué : réessayez."; }
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    });
    request.send(new FormData(form));
  });
});
