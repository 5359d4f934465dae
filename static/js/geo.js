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
    var country = root.dataset.geoCountry ? document.getElementById(root.dataset.geoCountry) : null;
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

    function changed(input) { input.dispatchEvent(new Event("change", { bubbles: true })); }

    function choose(place) {
      chosen = place;
      code.value = place.code;
      var said = place.label + " choisi, code " + place.code + ".";
      if (place.kind === "pays" && country) {
        // A birth abroad: the country goes in its field, the name is left for the foreign city.
        country.value = place.label;
        label.value = "";
        said = place.label + " choisi, code " + place.code + " : écrivez la ville de naissance.";
        changed(country);
      } else {
        label.value = place.label;
        if (country && place.kind === "commune" && country.value) { country.value = ""; changed(country); }
      }
      changed(label);
      changed(code);
      fill([], true);
      if (status) { status.textContent = said; }
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
      // (After a country, the name is the foreign city: typing it keeps the country's code.)
      if (chosen && chosen.kind === "commune" && value !== chosen.label && code.value === chosen.code) {
        code.value = "";
        chosen = null;
      }
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
