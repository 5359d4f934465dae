/* The commune picker (templates/macros/geo.html): progressive enhancement of two plain inputs, the place's
   name and its INSEE code. As the user types the name (or a postcode), the <datalist> is filled with the
   matching communes then countries; choosing one (mouse or arrow keys + Enter) puts the name in the name field
   and the code in the code field. Without this script, the user types both. */
(function () {
  "use strict";
  if (window.certifiaGeo) { return; } // the macro may be used twice on a page: one script is enough
  window.certifiaGeo = true;

  var DELAY = 150;

  function optionText(place) {
    var where = place.kind === "pays" ? "pays" : place.department;
    return place.label + " (" + where + ") – " + place.code;
  }

  function setUp(root) {
    var label = document.getElementById(root.dataset.geoLabel);
    var code = document.getElementById(root.dataset.geoCode);
    var list = document.getElementById(label.getAttribute("list"));
    var status = root.querySelector("[data-geo-status]");
    var url = root.dataset.geoUrl;
    var shown = {};       // option text -> place, for what the datalist offers now
    var chosen = null;    // the place the picker filled in, while the name still says it
    var timer = null;
    var pending = null;

    function fill(places, quiet) {
      shown = {};
      while (list.firstChild) { list.removeChild(list.firstChild); }
      places.forEach(function (place) {
        var text = optionText(place);
        shown[text] = place;
        var option = document.createElement("option");
        option.value = text;
        list.appendChild(option);
      });
      if (status && !quiet) {
        status.textContent = places.length === 0 ? "Aucune suggestion." :
          (places.length === 1 ? "1 suggestion." : places.length + " suggestions.");
      }
    }

    function choose(place) {
      chosen = place;
      label.value = place.label;
      code.value = place.code;
      label.dispatchEvent(new Event("change", { bubbles: true }));
      code.dispatchEvent(new Event("change", { bubbles: true }));
      fill([], true);
      if (status) { status.textContent = place.label + " choisi, code " + place.code + "."; }
    }

    function ask(query) {
      if (pending) { pending.abort(); }
      pending = window.AbortController ? new AbortController() : null;
      var options = { credentials: "same-origin", headers: { Accept: "application/json" } };
      if (pending) { options.signal = pending.signal; }
      fetch(url + "?q=" + encodeURIComponent(query), options)
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (places) { if (label.value.trim() === query) { fill(places); } })
        .catch(function () { /* aborted or offline: the user can still type the code */ });
    }

    label.addEventListener("input", function () {
      var value = label.value;
      if (shown[value]) { choose(shown[value]); return; }
      // The name no longer says the place the picker chose: its code no longer applies.
      if (chosen && value !== chosen.label && code.value === chosen.code) { code.value = ""; chosen = null; }
      clearTimeout(timer);
      var query = value.trim();
      if (query.length < 2) { fill([], true); return; }
      timer = setTimeout(function () { ask(query); }, DELAY);
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-geo-picker]"), setUp);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
